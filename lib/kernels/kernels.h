/*
 * kernels.h - the table of compute kernels, filled once at run time.
 *
 * scalar.c holds the reference version of every entry, written to be read.
 * Each instruction-set file (avx2.c, avx512.c, vnni.c, bf16.c, amx.c,
 * neon.c, dotprod.c) is built with its own compiler flags in its own
 * convenience library and overrides the entries it accelerates; cpu.c calls
 * the init functions in order, up to the level the CPU (and WOOLLY_CPU)
 * allows.  A kernel file knows nothing of models.
 */
#ifndef WOOLLY_KERNELS_H
#define WOOLLY_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "woolly.h"

/* What a matrix product needs of one weight type.  A weight row of type T
 * is multiplied with activations converted once per product to
 * T's vec_dot_type, as llama.cpp's x86 build does: F32 and F16 weights take
 * float activations, BF16 weights BF16-rounded ones, and the block types
 * Q8_0, Q8_1 or Q8_K blocks (measured against the reference set: rounding
 * the activations of F16 weights to half moved the logits 0.008 away from
 * llama.cpp's, three times the tolerance).  Lengths are in
 * elements and whole blocks. */
typedef struct wl_type_kernels {
    woolly_type vec_dot_type;
    /* Convert N floats to this type (activations: only the vec_dot types
     * need it; weights are quantized by quant.c's careful reference). */
    void (*from_float)(const float *x, void *y, size_t n);
    /* Convert N elements of this type to floats. */
    void (*to_float)(const void *x, float *y, size_t n);
    /* sum over N elements of w (this type) times a (vec_dot_type). */
    float (*vec_dot)(size_t n, const void *w, const void *a);
    /* out[t*ldo + r] = vec_dot(n, w + r*w_stride, a + t*a_stride) for the
     * NR rows and NT tokens, with the same bits, computed in tiles that
     * unpack each weight block once for many tokens.  AUX: for Q8_0
     * activations, n/32 wl_q8_0_aux a token (wl_q8_0_aux_fill), tokens one
     * after another; unused otherwise.  NULL where a level has none. */
    void (*gemm)(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                 const void *aux, size_t nt, float *out, size_t ldo);
} wl_type_kernels;

/* What the tiled kernels need of each Q8_0 activation block besides its
 * quants: the scale as a float, and -128 times the sum of the quants (they
 * take the weights as unsigned bytes, 128 too large). */
typedef struct wl_q8_0_aux {
    float d;
    int32_t corr;
} wl_q8_0_aux;

/* The aux of N elements of Q8_0 activations at A. */
void wl_q8_0_aux_fill(const void *a, size_t n, wl_q8_0_aux *aux);

typedef struct wl_kernels {
    /* sum_i x[i]*y[i] over n floats. */
    float (*dot_f32)(size_t n, const float *x, const float *y);
    /* sum_i x[i]*y[i] over n signed bytes, exact in 32 bits for n < 2^17. */
    int32_t (*dot_i8)(size_t n, const int8_t *x, const int8_t *y);
    /* sum_i x[i]*y[i] over n bfloat16 values, accumulated in float. */
    float (*dot_bf16)(size_t n, const uint16_t *x, const uint16_t *y);
    /* c[i*ldc + j] = sum_k a[i*lda + k] * b[j*ldb + k], signed bytes into
     * int32: an m x k matrix times the transpose of an n x k one. */
    void (*gemm_i8)(size_t m, size_t n, size_t k,
                    const int8_t *a, size_t lda,
                    const int8_t *b, size_t ldb,
                    int32_t *c, size_t ldc);
    /* Per weight type; entries of types woolly cannot compute are NULL. */
    wl_type_kernels type[WOOLLY_TYPE_COUNT];
} wl_kernels;

/* The table for this process (cpu.c); initialised on first use. */
const wl_kernels *wl_kernels_get(void);
/* Fill K with the kernels of the ISA bits in ISA (which must all be
 * supported here); returns the name of the highest level applied.  Tests
 * use it to reach every level in one process. */
const char *wl_kernels_fill(wl_kernels *k, unsigned isa);

void wl_kernels_init_scalar(wl_kernels *k);
void wl_kernels_init_avx2(wl_kernels *k);
void wl_kernels_init_avx512(wl_kernels *k);
void wl_kernels_init_vnni(wl_kernels *k);
void wl_kernels_init_bf16(wl_kernels *k);
void wl_kernels_init_amx(wl_kernels *k);
void wl_kernels_init_neon(wl_kernels *k);
void wl_kernels_init_dotprod(wl_kernels *k);

/* The scalar kernels, callable directly as the reference in tests. */
float wl_dot_f32_scalar(size_t n, const float *x, const float *y);
int32_t wl_dot_i8_scalar(size_t n, const int8_t *x, const int8_t *y);
float wl_dot_bf16_scalar(size_t n, const uint16_t *x, const uint16_t *y);
void wl_f16_from_float_scalar(const float *x, void *y, size_t n);
void wl_f16_to_float_scalar(const void *x, float *y, size_t n);
float wl_f16_vec_dot_scalar(size_t n, const void *w, const void *a);
void wl_bf16_from_float_scalar(const float *x, void *y, size_t n);
void wl_bf16_to_float_scalar(const void *x, float *y, size_t n);
float wl_q4_0_vec_dot_scalar(size_t n, const void *w, const void *a);
float wl_q4_1_vec_dot_scalar(size_t n, const void *w, const void *a);
float wl_q5_0_vec_dot_scalar(size_t n, const void *w, const void *a);
float wl_q5_1_vec_dot_scalar(size_t n, const void *w, const void *a);
float wl_q8_0_vec_dot_scalar(size_t n, const void *w, const void *a);
float wl_q2_k_vec_dot_scalar(size_t n, const void *w, const void *a);
float wl_q3_k_vec_dot_scalar(size_t n, const void *w, const void *a);
float wl_q4_k_vec_dot_scalar(size_t n, const void *w, const void *a);
float wl_q5_k_vec_dot_scalar(size_t n, const void *w, const void *a);
float wl_q6_k_vec_dot_scalar(size_t n, const void *w, const void *a);
void wl_gemm_i8_scalar(size_t m, size_t n, size_t k, const int8_t *a, size_t lda,
                       const int8_t *b, size_t ldb, int32_t *c, size_t ldc);

#endif /* WOOLLY_KERNELS_H */
