/* fixture.h - a small GGUF file made with the writer, which the GGUF tests,
 * the `woolly info` test and the fuzz seed corpus share (fixture.c). */
#ifndef WOOLLY_TEST_FIXTURE_H
#define WOOLLY_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "woolly.h"

/* A scalar pair: the value in the field its type reads from. */
struct fx_scalar {
    const char *key;
    woolly_gguf_type type;
    int64_t i;      /* signed types */
    uint64_t u;     /* unsigned types and bool */
    double f;       /* float types */
};

struct fx_tensor {
    const char *name;
    woolly_type type;
    uint32_t n_dims;
    uint64_t ne[4];
    uint64_t size;  /* bytes */
};

extern const struct fx_scalar fx_scalars[];
extern const size_t fx_n_scalars;
extern const char *const fx_strings[][2];   /* string pairs: key, value */
extern const size_t fx_n_strings;
extern const char *const fx_tokens[];       /* tokenizer.ggml.tokens */
extern const size_t fx_n_tokens;
extern const float fx_scores[];             /* tokenizer.ggml.scores */
extern const int32_t fx_token_types[];      /* tokenizer.ggml.token_type */
extern const uint8_t fx_bools[];            /* test.bools */
extern const size_t fx_n_bools;
extern const struct fx_tensor fx_tensors[];
extern const size_t fx_n_tensors;

/* Byte K of tensor T's data: a pattern that differs from tensor to tensor. */
uint8_t fx_byte(size_t t, uint64_t k);

/* Write the fixture to PATH: general.alignment set to ALIGNMENT (0: not
 * set, the default 32 applies), tensor data in pieces of PIECE bytes that
 * run across tensor boundaries.  The last tensor's size is a multiple of
 * 64, so the file ends where its data does. */
woolly_status fx_write(const char *path, uint32_t alignment, size_t piece, char *err,
                       size_t errsize);

/* Read everything the reader serves: every pair, every array element by
 * every accessor, every tensor's first and last byte; check that look-ups
 * agree with the order.  Returns -1 on an inconsistency, else 0 with a
 * checksum in *SUM (so that nothing is optimised away). */
int fx_walk(const woolly_gguf *g, uint64_t *sum);

#endif
