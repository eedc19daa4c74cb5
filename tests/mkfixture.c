/* mkfixture.c - write the test fixture GGUF (fixture.c) to a file, for the
 * shell tests and the fuzz seed corpus.
 * Usage: mkfixture OUT [ALIGNMENT] */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"

int main(int argc, char **argv)
{
    char err[WOOLLY_ERRBUF_SIZE];
    unsigned long align = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "Usage: mkfixture OUT [ALIGNMENT]\n");
        return 2;
    }
    if (fx_write(argv[1], (uint32_t)align, 100, err, sizeof err) != WOOLLY_OK) {
        fprintf(stderr, "mkfixture: %s\n", err);
        return 1;
    }
    return 0;
}
