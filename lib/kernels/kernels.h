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

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
     * activations, n/32 wl_q8_0_aux a token (wl_q8_0_aux_fill), for Q8_K
     * n/256 wl_q8_k_aux (wl_q8_k_aux_fill), tokens one after another;
     * unused otherwise.  NULL where a level has none. */
    void (*gemm)(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                 const void *aux, size_t nt, float *out, size_t ldo);
    /* A matrix of NR rows (a multiple of WL_PACK_ROWS) of N elements,
     * W_STRIDE bytes apart, rearranged at OUT (the same size) for
     * gemm_packed: strips of WL_PACK_ROWS rows, each strip's bytes where
     * its rows' were, laid out as the level's kernels read them.  NULL
     * (and gemm_packed NULL) where a level keeps the rows as they are. */
    void (*repack)(const void *w, size_t w_stride, size_t nr, size_t n, void *out);
    /* gemm of a repacked matrix: W its first strip, W_STRIDE the original
     * rows' bytes, NR a multiple of WL_PACK_ROWS; the same bits. */
    void (*gemm_packed)(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                        const void *aux, size_t nt, float *out, size_t ldo);
} wl_type_kernels;

/* The rows of a strip of a repacked matrix. */
#define WL_PACK_ROWS 16

/* What the tiled kernels need of each Q8_0 activation block besides its
 * quants: the scale as a float, and -128 times the sum of the quants (they
 * take the weights as unsigned bytes, 128 too large). */
typedef struct wl_q8_0_aux {
    float d;
    int32_t corr;
} wl_q8_0_aux;

/* The aux of N elements of Q8_0 activations at A. */
void wl_q8_0_aux_fill(const void *a, size_t n, wl_q8_0_aux *aux);

/* What the Q4_K and Q6_K tiles need of each Q8_K super-block besides its
 * block: -32 times the sums of its 16 groups of 16 quants (Q6_K's offset),
 * the sums of its 8 sub-blocks of 32 (Q4_K's mins), and in FIT16 whether
 * every dot product of its quants with weights fits in an int16: bit 0,
 * each sub-block's sum of |q| is at most 2184 (weights 0..15, as Q4_K's
 * nibbles: 15 * 2184 <= 32767); bit 1, each group's is at most 1023
 * (weights -32..31, as Q6_K's quants: 32 * 1023 <= 32767). */
typedef struct wl_q8_k_aux {
    int32_t neg32[16];
    int16_t sum32[8];
    int32_t fit16;
} wl_q8_k_aux;

/* The aux of N elements of Q8_K activations at A. */
void wl_q8_k_aux_fill(const void *a, size_t n, wl_q8_k_aux *aux);

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
    /* The float arithmetic around the matrix products, in the order of
     * llama.cpp's x86 AVX-512 build (Feb 2025) when it computes a batch of
     * two or more tokens (scalar.c defines each; every level returns the
     * same bits): */
    /* ggml_vec_dot_f32: four 16-lane FMA accumulators over steps of 64,
     * combined (0+2)+(1+3), lanes added as wl_hsum16, then the n % 64
     * leftovers added one rounded product at a time. */
    float (*dot_f32_ggml)(size_t n, const float *x, const float *y);
    /* Attention scores of NQ queries (a GQA group) against N keys:
     * out[h*ldo + j] = dot_f32_ggml(hd, q + h*ldq, k + j*ldk) * scale. */
    void (*qk_scores)(size_t n, size_t hd, size_t nq, const float *q, size_t ldq, const float *k, size_t ldk,
                      float scale, float *out, size_t ldo);
    /* ggml_vec_soft_max_f32's exponentials: y[i] = ggml_v_expf(x[i] - max)
     * for i < n; returns the sum, each chunk of 16 summed in float
     * (wl_hsum16, missing lanes 0) and added to a double. */
    double (*softmax_exp)(size_t n, float *y, const float *x, float max);
    /* ggml_vec_silu_f32: y[i] = x[i] / (1 + ggml_v_expf(-x[i])) on chunks of
     * 16, x/(1 + expf(-x)) for the n % 16 others. */
    void (*silu)(size_t n, float *y, const float *x);
    /* x[i] = x[i] * f for i < n, each rounded once as a float multiply
     * rounds it (computed through double where a float multiply with a
     * subnormal takes a microcode assist): softmax's normalisation. */
    void (*scale)(size_t n, float *x, float f);
    /* RoPE of NH heads of HD floats in place (head h at x + h*hd): their
     * first N_ROT values in pairs (a, b), (2i, 2i+1) when ADJACENT, else
     * (i, i + n_rot/2), each rotated by c = cs[2i], s = cs[2i+1] as
     * x_a = fmaf(x_a, c, -(x_b * s)), x_b = fmaf(x_a, s, x_b * c) (a
     * compiler's contraction of llama.cpp's x0*c - x1*s, which its logits
     * show). */
    void (*rope)(size_t nh, size_t hd, size_t n_rot, int adjacent, float *x, const float *cs);
    /* tinyBLAS's weighted sum of rows: for i < m, 16 lanes start at 0,
     * row j < n goes to lane j % 16 as lane = fma(w[j], v[j*ldv + i], lane),
     * and out[i] is the lanes added as wl_hsum16. */
    void (*wsum16)(size_t n, size_t m, const float *w, const float *v, size_t ldv, float *out);
    /* wsum16 of NH heads' weights (w + h*ldw) against the same rows, into
     * out + h*ldo, each with wsum16's bits.  NULL: wsum16 a head at a time. */
    void (*wsum16_heads)(size_t n, size_t m, size_t nh, const float *w, size_t ldw, const float *v, size_t ldv,
                         float *out, size_t ldo);
    /* Per weight type; entries of types woolly cannot compute are NULL. */
    wl_type_kernels type[WOOLLY_TYPE_COUNT];
} wl_kernels;

/* qk_scores' keys of HD floats, rows LDK apart, prefetched into L1: query
 * H of NQ takes its share of the BLOCK keys from J (those below N), so
 * that the queries of a group prefetch the block between them.  A GQA
 * group's keys are 256 of every 1024 bytes of the cache, which the
 * hardware prefetchers did not follow (one thread scored keys streamed
 * from memory at 9 GB/s without, 14 GB/s with). */
static inline void wl_prefetch_keys(const float *k, size_t ldk, size_t hd, size_t j, size_t block, size_t h,
                                    size_t nq, size_t n)
{
    const size_t j0 = j + block * h / nq, j1 = j + block * (h + 1) / nq;

    for (j = j0; j < j1 && j < n; j++)
        for (size_t c = 0; c < hd * sizeof(float); c += 64)
            __builtin_prefetch((const char *)(k + j * ldk) + c, 0, 3);
}

/* _mm512_reduce_add_ps's order: halves added until one lane is left. */
static inline float wl_hsum16(const float a[16])
{
    float t[8], u[4], v0, v1;

    for (int i = 0; i < 8; i++)
        t[i] = a[i] + a[i + 8];
    for (int i = 0; i < 4; i++)
        u[i] = t[i] + t[i + 4];
    v0 = u[0] + u[2];
    v1 = u[1] + u[3];
    return v0 + v1;
}

/* ggml_v_expf for AVX-512 (an ARM optimized-routines design: 1.5 ulp),
 * lane by lane: the reference for every level's vector version. */
static inline float wl_ggml_expf(float x)
{
    const float r = 0x1.8p23f;
    float z = fmaf(x, 0x1.715476p+0f, r);
    float n = z - r;
    float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    float u = b * b;
    float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                        fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                   u, fmaf(0x1.ffffecp-1f, b, 1.0f));
    if (fabsf(n) > 192.0f)
        return n <= 0.0f ? 0.0f : INFINITY;
    if (n != n)
        return n;
    /* j * 2^n rounded once (vscalefps): j * 2^(n/2) is exact (normal),
     * the second factor rounds. */
    int e = (int)n, e1 = e / 2, e2 = e - e1;
    uint32_t b1 = (uint32_t)(e1 + 127) << 23, b2 = (uint32_t)(e2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    float js = j * s1;
    return js * s2;
}

/* The table for this process (cpu.c); initialised on first use. */
const wl_kernels *wl_kernels_get(void);
/* Fill K with the kernels of the ISA bits in ISA (which must all be
 * supported here); returns the name of the highest level applied.  Tests
 * use it to reach every level in one process. */
const char *wl_kernels_fill(wl_kernels *k, unsigned isa);

/* Whether this CPU's FMAs take subnormal operands and results at full
 * speed (Intel's take a microcode assist each). */
int wl_cpu_fast_subnormals(void);

/* K's weighted sums (wsum16, wsum16_heads) made avx512.c's for such a CPU
 * (FAST: subnormal weights in plain FMAs) or another (around them); the
 * bits are the same either way.  wl_kernels_init_avx512 takes the way
 * wl_cpu_fast_subnormals says; tests reach both. */
void wl_kernels_avx512_subnormals(wl_kernels *k, int fast);

/* Whether this CPU's one-token F32 and F16 tiles should prefetch their
 * rows in software (its hardware prefetchers do not follow them well). */
int wl_cpu_prefetch_float_rows(void);

/* K's F32 and F16 gemm made avx512.c's with (PF) or without those
 * prefetches; the bits are the same.  wl_kernels_init_avx512 takes what
 * wl_cpu_prefetch_float_rows says; tests reach both. */
void wl_kernels_avx512_float_prefetch(wl_kernels *k, int pf);

/* The signature of wl_type_kernels' gemm. */
typedef void wl_gemm_fn(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                        const void *aux, size_t nt, float *out, size_t ldo);

/* vnni.c's tiled products (HAVE_VNNI), which amx.c leaves the rest to. */
wl_gemm_fn wl_vnni_q4_0_gemm, wl_vnni_q8_0_gemm, wl_vnni_q4_k_gemm, wl_vnni_q6_k_gemm;
/* And of the matrices it repacks (wl_type_kernels' repack). */
wl_gemm_fn wl_vnni_q4_0_gemm_packed, wl_vnni_q4_k_gemm_packed, wl_vnni_q6_k_gemm_packed;
void wl_vnni_q4_0_repack(const void *w, size_t w_stride, size_t nr, size_t n, void *out);
void wl_vnni_q4_k_repack(const void *w, size_t w_stride, size_t nr, size_t n, void *out);
void wl_vnni_q6_k_repack(const void *w, size_t w_stride, size_t nr, size_t n, void *out);

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
float wl_dot_f32_ggml_scalar(size_t n, const float *x, const float *y);
void wl_qk_scores_scalar(size_t n, size_t hd, size_t nq, const float *q, size_t ldq, const float *k, size_t ldk,
                         float scale, float *out, size_t ldo);
float wl_f32_vec_dot_scalar(size_t n, const void *w, const void *a);
float wl_bf16_vec_dot_scalar(size_t n, const void *w, const void *a);
double wl_softmax_exp_scalar(size_t n, float *y, const float *x, float max);
void wl_silu_scalar(size_t n, float *y, const float *x);
void wl_scale_scalar(size_t n, float *x, float f);
void wl_rope_scalar(size_t nh, size_t hd, size_t n_rot, int adjacent, float *x, const float *cs);
void wl_wsum16_scalar(size_t n, size_t m, const float *w, const float *v, size_t ldv, float *out);
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
