/* cli.h - what the woolly subcommands share. */
#ifndef WOOLLY_CLI_H
#define WOOLLY_CLI_H

#include <stdio.h>

#include "woolly.h"

/* Exit statuses: 0 success, 1 failure at run time, 2 bad invocation. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* One subcommand: `woolly NAME ARGS...` calls run(argc, argv) with argv[0]
 * set to NAME. */
struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

/* "woolly CMD: MESSAGE" and a hint to --help, on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "woolly CMD: MESSAGE" on stderr; returns EXIT_RUNTIME. */
int cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The synthetic model's parameters from the WOOLLY_FAST_* variables; prints
 * the problem and returns EXIT_USAGE when one is not a valid number. */
int cli_fast_params(const char *cmd, woolly_synth_params *p);

/* The whole of PATH ('-': standard input), NUL-terminated; *LEN (may be
 * NULL) its length.  NULL with errno set on failure. */
char *cli_read_file(const char *path, size_t *len);
/* The length of the valid UTF-8 character at S (N bytes left), or 0. */
size_t cli_utf8_length(const unsigned char *s, size_t n);
/* Print LEN bytes as a JSON string; bytes that are not UTF-8 become U+FFFD. */
void cli_print_json_string(const char *s, size_t len);

/* Seconds on a monotonic clock. */
double cli_now(void);

/* Parse a whole decimal integer in [min, max]; 0 on success. */
int cli_parse_long(const char *s, long min, long max, long *out);

#endif /* WOOLLY_CLI_H */
