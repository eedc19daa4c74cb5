/* synth.h - synthetic models inside the library (synth.c, synth-vocab.c). */
#ifndef WOOLLY_SYNTH_H
#define WOOLLY_SYNTH_H

#include <stdint.h>

#include "woolly.h"

/* The built-in vocabulary of a synthetic model of N tokens: <unk>, <s>,
 * </s>, printable ASCII characters, words, and
 * letter groups, in GGUF's terms (tokens, scores, token types). */
struct wl_synth_vocab {
    uint32_t n;
    char **pieces;
    float *scores;
    int32_t *types;
};

woolly_status wl_synth_vocab(uint32_t n, struct wl_synth_vocab *v);
void wl_synth_vocab_free(struct wl_synth_vocab *v);

#endif /* WOOLLY_SYNTH_H */
