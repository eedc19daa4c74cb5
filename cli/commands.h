/* commands.h - one entry function per subcommand, listed in commands.def. */
#ifndef WOOLLY_COMMANDS_H
#define WOOLLY_COMMANDS_H

#define WOOLLY_COMMAND(name, summary) int cmd_##name(int argc, char **argv);
#include "commands.def"
#undef WOOLLY_COMMAND

#endif /* WOOLLY_COMMANDS_H */
