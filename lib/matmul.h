/* matmul.h - matrix products of stored weights with float activations. */
#ifndef WOOLLY_MATMUL_H
#define WOOLLY_MATMUL_H

#include <stddef.h>

#include "model.h"
#include "threadpool.h"

/* Activations converted once for one matrix product or several that share
 * the same input and vec_dot type. */
typedef struct wl_acts {
    woolly_type type;      /* the vec_dot type they are in */
    size_t n_tok;
    size_t cols;
    size_t row_bytes;
    void *data;            /* n_tok rows of row_bytes */
    void *aux;             /* Q8_0, Q8_K: the wl_q8_0_aux or wl_q8_k_aux of its blocks, else NULL */
    size_t cap;            /* bytes available at data */
} wl_acts;

/* Bytes of scratch that converting N_TOK rows of COLS floats can need. */
size_t wl_acts_bytes(size_t n_tok, size_t cols);

/* Convert X (N_TOK rows of COLS floats, row stride LDX) to what weights of
 * type WTYPE multiply with, unless ACTS already holds exactly that. */
void wl_acts_prepare(wl_acts *acts, wl_pool *pool, woolly_type wtype, const float *x, size_t ldx,
                     size_t n_tok, size_t cols);
/* Forget what ACTS holds (call when its input changes). */
void wl_acts_invalidate(wl_acts *acts);

/* y[t*ldy + r] = W row r . x row t, for every token t and row r of W.
 * Each output is one vec_dot of the kernel table: the same whatever the
 * number of tokens or threads. */
void wl_matmul(wl_pool *pool, const wl_matrix *w, const wl_acts *acts, float *y, size_t ldy);

/* Up to WL_MATMUL_MANY products of matrices that take the same activations
 * (the same vec_dot type), in one parallel step: one synchronisation
 * instead of N.  Each output is computed as wl_matmul computes it. */
#define WL_MATMUL_MANY 4
void wl_matmul_many(wl_pool *pool, size_t n, const wl_matrix *const *w, const wl_acts *acts,
                    float *const *y, const size_t *ldy);

/* Whether W1 and W2 multiply the same converted activations: weights of
 * types with one vec_dot type at this kernel level (Q4_K and Q6_K, as a
 * Q4_K_M model mixes them, take Q8_K both). */
int wl_same_acts(const wl_matrix *w1, const wl_matrix *w2);

#endif /* WOOLLY_MATMUL_H */
