/* woolly.c - the woolly command: global options and subcommand dispatch. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const struct cli_command commands[] = {
#define WOOLLY_COMMAND(name, summary) { #name, summary, cmd_##name },
#include "commands.def"
#undef WOOLLY_COMMAND
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: woolly [--help] [--version] COMMAND [ARGS...]\n"
            "Run large language models stored as GGUF files on the CPU.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "Options:\n"
            "  -h, --help     show this help and exit\n"
            "  -V, --version  show the version and the CPU kernels, and exit\n"
            "\n"
            "'woolly COMMAND --help' describes a command; see also woolly(1).\n"
            "Environment: WOOLLY_CPU caps the kernel level (scalar, avx2, avx512,\n"
            "vnni, bf16, amx, neon, dotprod).\n");
}

static void print_isa_list(const char *label, unsigned set)
{
    int any = 0;

    printf("%s:", label);
    for (unsigned bit = 1; bit; bit <<= 1) {
        const char *name = woolly_isa_name(bit);
        if (name && (set & bit)) {
            printf(" %s", name);
            any = 1;
        }
    }
    printf("%s\n", any ? "" : " none");
}

static int version(void)
{
    printf("woolly %s\n", woolly_version());
    print_isa_list("compiled", woolly_isa_compiled());
    print_isa_list("detected", woolly_isa_detected());
    print_isa_list("active", woolly_isa_active());
    printf("kernels: %s\n", woolly_kernel_level());
    return EXIT_OK;
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int cmd_help(int argc, char **argv)
{
    const struct cli_command *cmd;
    char help[] = "--help";
    char *args[] = { NULL, help, NULL };

    if (argc < 2) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        printf("Usage: woolly help [COMMAND]\n"
               "Show woolly's help, or the help of COMMAND (the same as\n"
               "'woolly COMMAND --help').\n");
        return EXIT_OK;
    }
    if (argc > 2)
        return cli_usage_error("help", "too many arguments");
    cmd = find_command(argv[1]);
    if (!cmd)
        return cli_usage_error("help", "'%s' is not a woolly command", argv[1]);
    args[0] = argv[1];
    return cmd->run(2, args);
}

int main(int argc, char **argv)
{
    const char *cpu = getenv("WOOLLY_CPU");
    const struct cli_command *cmd;

    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (cpu && *cpu && !woolly_kernel_level_valid(cpu))
        return cli_usage_error(NULL, "WOOLLY_CPU=%s is not a kernel level "
                               "(scalar, avx2, avx512, vnni, bf16, amx, neon, dotprod)", cpu);
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)
        return version();
    if (argv[1][0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", argv[1]);
    cmd = find_command(argv[1]);
    if (!cmd)
        return cli_usage_error(NULL, "'%s' is not a woolly command", argv[1]);
    return cmd->run(argc - 1, argv + 1);
}
