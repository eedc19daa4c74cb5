/* scalar.c - the reference kernels: plain loops, the definition of each entry. */
#include <config.h>

#include <string.h>

#include "fp16.h"
#include "kernels/kernels.h"
#include "quant.h"

float wl_dot_f32_scalar(size_t n, const float *x, const float *y)
{
    float sum = 0.0f;

    for (size_t i = 0; i < n; i++)
        sum += x[i] * y[i];
    return sum;
}

int32_t wl_dot_i8_scalar(size_t n, const int8_t *x, const int8_t *y)
{
    int32_t sum = 0;

    for (size_t i = 0; i < n; i++)
        sum += (int32_t)x[i] * (int32_t)y[i];
    return sum;
}

float wl_dot_bf16_scalar(size_t n, const uint16_t *x, const uint16_t *y)
{
    float sum = 0.0f;

    for (size_t i = 0; i < n; i++)
        sum += wl_bf16_to_f32(x[i]) * wl_bf16_to_f32(y[i]);
    return sum;
}

void wl_gemm_i8_scalar(size_t m, size_t n, size_t k, const int8_t *a, size_t lda,
                       const int8_t *b, size_t ldb, int32_t *c, size_t ldc)
{
    for (size_t i = 0; i < m; i++)          /* a: m x k, row stride lda */
        for (size_t j = 0; j < n; j++)      /* b: n x k, row stride ldb */
            c[i * ldc + j] = wl_dot_i8_scalar(k, a + i * lda, b + j * ldb);
}

/* ---- F32, F16, BF16 weights -------------------------------------------- */

static void f32_copy(const float *x, void *y, size_t n)
{
    memcpy(y, x, n * sizeof *x);
}

static void f32_to_float(const void *x, float *y, size_t n)
{
    memcpy(y, x, n * sizeof *y);
}

static float f32_vec_dot(size_t n, const void *w, const void *a)
{
    return wl_dot_f32_scalar(n, w, a);
}

void wl_f16_from_float_scalar(const float *x, void *y, size_t n)
{
    uint16_t *h = y;

    for (size_t i = 0; i < n; i++)
        h[i] = wl_f32_to_f16(x[i]);
}

void wl_f16_to_float_scalar(const void *x, float *y, size_t n)
{
    const uint16_t *h = x;

    for (size_t i = 0; i < n; i++)
        y[i] = wl_f16_to_f32(h[i]);
}

/* Half weights times float activations, as llama.cpp's F16 matrix
 * products on x86 do (the activations are not rounded to half). */
float wl_f16_vec_dot_scalar(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w;
    const float *y = a;
    float sum = 0.0f;

    for (size_t i = 0; i < n; i++)
        sum += wl_f16_to_f32(x[i]) * y[i];
    return sum;
}

void wl_bf16_from_float_scalar(const float *x, void *y, size_t n)
{
    uint16_t *h = y;

    for (size_t i = 0; i < n; i++)
        h[i] = wl_f32_to_bf16(x[i]);
}

void wl_bf16_to_float_scalar(const void *x, float *y, size_t n)
{
    const uint16_t *h = x;

    for (size_t i = 0; i < n; i++)
        y[i] = wl_bf16_to_f32(h[i]);
}

static float bf16_vec_dot(size_t n, const void *w, const void *a)
{
    return wl_dot_bf16_scalar(n, w, a);
}

/* ---- Quantized weights ----------------------------------------------------
 *
 * Weights of a block type times activations quantized to its vec_dot_type
 * (Q8_0, Q8_1 or Q8_K).  Each block's integer dot product is exact; the
 * block's float scales multiply it once.  With an offset (q - 8 for q4_0,
 * a min for q4_1), sum((q - o) * a) = sum(q*a) - o*sum(a), and the sums of
 * the activations come with Q8_1 (s) and Q8_K (bsums).  Activation quants
 * lie in [-127, 127]. */

/* sum of (q[j] - off) * a[j] over 32 elements whose quants are given by
 * nibble pairs and optional fifth bits, as q4_0/q4_1/q5_0/q5_1 store them. */
static int32_t dot_block32(const uint8_t qs[16], uint32_t qh, int off, const int8_t a[32])
{
    int32_t sum = 0;

    for (int j = 0; j < 16; j++) {
        int lo = (qs[j] & 0xF) | (int)(qh >> j & 1) << 4;
        int hi = (qs[j] >> 4) | (int)(qh >> (j + 16) & 1) << 4;
        sum += (lo - off) * a[j] + (hi - off) * a[j + 16];
    }
    return sum;
}

static uint32_t qh32(const uint8_t qh[4])
{
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

float wl_q4_0_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q4_0 *x = w;
    const wl_block_q8_0 *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK; i++)
        sum += (float)dot_block32(x[i].qs, 0, 8, a[i].qs) * (wl_f16_to_f32(x[i].d) * wl_f16_to_f32(a[i].d));
    return sum;
}

float wl_q4_1_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q4_1 *x = w;
    const wl_block_q8_1 *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK; i++)
        sum += (float)dot_block32(x[i].qs, 0, 0, a[i].qs) * (wl_f16_to_f32(x[i].d) * wl_f16_to_f32(a[i].d)) +
               wl_f16_to_f32(x[i].m) * wl_f16_to_f32(a[i].s);
    return sum;
}

float wl_q5_0_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q5_0 *x = w;
    const wl_block_q8_0 *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK; i++)
        sum += (float)dot_block32(x[i].qs, qh32(x[i].qh), 16, a[i].qs) *
               (wl_f16_to_f32(x[i].d) * wl_f16_to_f32(a[i].d));
    return sum;
}

float wl_q5_1_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q5_1 *x = w;
    const wl_block_q8_1 *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK; i++)
        sum += (float)dot_block32(x[i].qs, qh32(x[i].qh), 0, a[i].qs) *
                   (wl_f16_to_f32(x[i].d) * wl_f16_to_f32(a[i].d)) +
               wl_f16_to_f32(x[i].m) * wl_f16_to_f32(a[i].s);
    return sum;
}

float wl_q8_0_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q8_0 *x = w;
    const wl_block_q8_0 *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK; i++)
        sum += (float)wl_dot_i8_scalar(WL_QK, x[i].qs, a[i].qs) * (wl_f16_to_f32(x[i].d) * wl_f16_to_f32(a[i].d));
    return sum;
}

/* sum over the 16 groups of 16 of sc[g] * bsums[g]: the offset and min terms. */
static int32_t bsum_dot(const int16_t bsums[16], const int sc[16])
{
    int32_t sum = 0;

    for (int g = 0; g < 16; g++)
        sum += bsums[g] * sc[g];
    return sum;
}

/* q2_k: sum(x*a) = d*da * sum_g sc[g] * sum(q*a) - dmin*da * sum_g m[g] * bsums[g]. */
float wl_q2_k_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q2_k *x = w;
    const wl_block_q8_k *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        int32_t isum = 0;
        int mins[16];
        for (int e = 0; e < WL_QK_K; e += 16) {
            int h = e / 128, s = e % 128 / 32, l0 = e % 32, dot = 0;
            for (int l = l0; l < l0 + 16; l++)
                dot += (x[i].qs[32 * h + l] >> (2 * s) & 3) * a[i].qs[e + l - l0];
            isum += (x[i].scales[e / 16] & 0xF) * dot;
            mins[e / 16] = x[i].scales[e / 16] >> 4;
        }
        sum += a[i].d * wl_f16_to_f32(x[i].d) * (float)isum -
               a[i].d * wl_f16_to_f32(x[i].dmin) * (float)bsum_dot(a[i].bsums, mins);
    }
    return sum;
}

/* q3_k: quants 0..7 stored, value q - 4; the -4 goes through bsums. */
float wl_q3_k_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q3_k *x = w;
    const wl_block_q8_k *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        int8_t sc8[16];
        int sc[16];
        int32_t isum = 0;
        wl_q3_k_scales(x[i].scales, sc8);
        for (int e = 0; e < WL_QK_K; e += 16) {
            int h = e / 128, s = e % 128 / 32, l0 = e % 32, dot = 0;
            for (int l = l0; l < l0 + 16; l++) {
                int q = (x[i].qs[32 * h + l] >> (2 * s) & 3) | (x[i].hmask[l] >> (e / 32) & 1) << 2;
                dot += q * a[i].qs[e + l - l0];
            }
            sc[e / 16] = sc8[e / 16];
            isum += sc8[e / 16] * dot;
        }
        isum -= 4 * bsum_dot(a[i].bsums, sc);
        sum += wl_f16_to_f32(x[i].d) * a[i].d * (float)isum;
    }
    return sum;
}

/* q4_k and q5_k: 8 sub-blocks of 32 with 6-bit scales and mins. */
static float dot_k_affine(uint16_t dh, uint16_t dminh, const uint8_t packed[12], const uint8_t qs[128],
                          const uint8_t *qh, const wl_block_q8_k *a)
{
    uint8_t sc[8], mn[8];
    int mins[16];
    int32_t isum = 0;

    wl_q4_k_scales(packed, sc, mn);
    for (int j = 0; j < 8; j++) {
        int32_t dot = 0;
        for (int l = 0; l < 32; l++) {
            int q = qs[32 * (j / 2) + l] >> (4 * (j % 2)) & 0xF;
            if (qh)
                q |= (qh[l] >> j & 1) << 4;
            dot += q * a->qs[32 * j + l];
        }
        isum += sc[j] * dot;
        mins[2 * j] = mins[2 * j + 1] = mn[j];
    }
    return a->d * wl_f16_to_f32(dh) * (float)isum -
           a->d * wl_f16_to_f32(dminh) * (float)bsum_dot(a->bsums, mins);
}

float wl_q4_k_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q4_k *x = w;
    const wl_block_q8_k *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK_K; i++)
        sum += dot_k_affine(x[i].d, x[i].dmin, x[i].scales, x[i].qs, NULL, &a[i]);
    return sum;
}

float wl_q5_k_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q5_k *x = w;
    const wl_block_q8_k *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK_K; i++)
        sum += dot_k_affine(x[i].d, x[i].dmin, x[i].scales, x[i].qs, x[i].qh, &a[i]);
    return sum;
}

/* q6_k: quants 0..63 stored, value q - 32; the -32 goes through bsums. */
float wl_q6_k_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q6_k *x = w;
    const wl_block_q8_k *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        int sc[16];
        int32_t isum = 0;
        for (int e = 0; e < WL_QK_K; e += 16) {
            int h = e / 128, s = e % 128 / 32, l0 = e % 32, dot = 0;
            for (int l = l0; l < l0 + 16; l++) {
                int lo = x[i].ql[64 * h + 32 * (s & 1) + l] >> (4 * (s >> 1)) & 0xF;
                int hi = x[i].qh[32 * h + l] >> (2 * s) & 3;
                dot += (lo | hi << 4) * a[i].qs[e + l - l0];
            }
            sc[e / 16] = x[i].scales[e / 16];
            isum += sc[e / 16] * dot;
        }
        isum -= 32 * bsum_dot(a[i].bsums, sc);
        sum += wl_f16_to_f32(x[i].d) * a[i].d * (float)isum;
    }
    return sum;
}

static void set_quant_types(wl_kernels *k)
{
    static const struct {
        woolly_type type;
        wl_type_kernels kernels;
    } quant[] = {
        { WOOLLY_TYPE_Q4_0, { WOOLLY_TYPE_Q8_0, wl_quantize_q4_0, wl_dequantize_q4_0, wl_q4_0_vec_dot_scalar } },
        { WOOLLY_TYPE_Q4_1, { WOOLLY_TYPE_Q8_1, wl_quantize_q4_1, wl_dequantize_q4_1, wl_q4_1_vec_dot_scalar } },
        { WOOLLY_TYPE_Q5_0, { WOOLLY_TYPE_Q8_0, wl_quantize_q5_0, wl_dequantize_q5_0, wl_q5_0_vec_dot_scalar } },
        { WOOLLY_TYPE_Q5_1, { WOOLLY_TYPE_Q8_1, wl_quantize_q5_1, wl_dequantize_q5_1, wl_q5_1_vec_dot_scalar } },
        { WOOLLY_TYPE_Q8_0, { WOOLLY_TYPE_Q8_0, wl_quantize_q8_0_act, wl_dequantize_q8_0, wl_q8_0_vec_dot_scalar } },
        /* Activation-only types: no weights of these in models. */
        { WOOLLY_TYPE_Q8_1, { WOOLLY_TYPE_Q8_1, wl_quantize_q8_1_act, wl_dequantize_q8_1, NULL } },
        { WOOLLY_TYPE_Q8_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q8_k_act, wl_dequantize_q8_k, NULL } },
        { WOOLLY_TYPE_Q2_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q2_k, wl_dequantize_q2_k, wl_q2_k_vec_dot_scalar } },
        { WOOLLY_TYPE_Q3_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q3_k, wl_dequantize_q3_k, wl_q3_k_vec_dot_scalar } },
        { WOOLLY_TYPE_Q4_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q4_k, wl_dequantize_q4_k, wl_q4_k_vec_dot_scalar } },
        { WOOLLY_TYPE_Q5_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q5_k, wl_dequantize_q5_k, wl_q5_k_vec_dot_scalar } },
        { WOOLLY_TYPE_Q6_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q6_k, wl_dequantize_q6_k, wl_q6_k_vec_dot_scalar } },
    };

    for (size_t i = 0; i < sizeof quant / sizeof quant[0]; i++)
        k->type[quant[i].type] = quant[i].kernels;
}

void wl_kernels_init_scalar(wl_kernels *k)
{
    memset(k, 0, sizeof *k);
    k->type[WOOLLY_TYPE_F32] = (wl_type_kernels){ WOOLLY_TYPE_F32, f32_copy, f32_to_float, f32_vec_dot };
    k->type[WOOLLY_TYPE_F16] = (wl_type_kernels){ WOOLLY_TYPE_F32, wl_f16_from_float_scalar,
                                                  wl_f16_to_float_scalar, wl_f16_vec_dot_scalar };
    k->type[WOOLLY_TYPE_BF16] = (wl_type_kernels){ WOOLLY_TYPE_BF16, wl_bf16_from_float_scalar,
                                                   wl_bf16_to_float_scalar, bf16_vec_dot };
    set_quant_types(k);

    k->dot_f32 = wl_dot_f32_scalar;
    k->dot_i8 = wl_dot_i8_scalar;
    k->dot_bf16 = wl_dot_bf16_scalar;
    k->gemm_i8 = wl_gemm_i8_scalar;
}
