/* fuzz_gguf.c - libFuzzer harness for the GGUF reader: every input must
 * either open and then be safe to walk through every accessor, or fail
 * with a message.  Built by `make fuzz` (see README, "Fuzzing"). */
#include <config.h>

#include <stddef.h>
#include <stdint.h>

#include "fixture.h"
#include "woolly.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_gguf *g = NULL;
    uint64_t sum;

    if (woolly_gguf_open_memory(data, size, &g, err, sizeof err) != WOOLLY_OK) {
        if (g || !err[0])
            __builtin_trap();   /* a failure leaves no handle and says why */
        return 0;
    }
    if (fx_walk(g, &sum) != 0)
        __builtin_trap();       /* look-ups disagree with what was read */
    woolly_gguf_free(g);
    return 0;
}
