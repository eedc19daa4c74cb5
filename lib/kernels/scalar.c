/* scalar.c - the reference kernels: plain loops, the definition of each entry. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
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

/* ggml_vec_dot_f32 on AVX-512 (see kernels.h).  The leftover products are
 * rounded before they are added: llama.cpp's logits say so. */
float wl_dot_f32_ggml_scalar(size_t n, const float *x, const float *y)
{
    float acc[4][16] = { { 0 } }, sum;
    size_t np = n & ~(size_t)63, i;

    for (i = 0; i < np; i += 64)
        for (int a = 0; a < 4; a++)
            for (int l = 0; l < 16; l++)
                acc[a][l] = fmaf(x[i + 16 * a + l], y[i + 16 * a + l], acc[a][l]);
    for (int l = 0; l < 16; l++) {
        acc[0][l] += acc[2][l];
        acc[1][l] += acc[3][l];
    }
    for (int l = 0; l < 16; l++)
        acc[0][l] += acc[1][l];
    sum = wl_hsum16(acc[0]);
    for (; i < n; i++) {
        float p = x[i] * y[i];
        sum += p;
    }
    return sum;
}

void wl_qk_scores_scalar(size_t n, size_t hd, size_t nq, const float *q, size_t ldq, const float *k, size_t ldk,
                         float scale, float *out, size_t ldo)
{
    for (size_t h = 0; h < nq; h++)
        for (size_t j = 0; j < n; j++)
            out[h * ldo + j] = wl_dot_f32_ggml_scalar(hd, q + h * ldq, k + j * ldk) * scale;
}

/* F32 weights times float activations as llamafile's tinyBLAS computes them
 * for a batch (k % 16 == 0): one 16-lane FMA accumulator, then wl_hsum16;
 * other lengths take ggml_vec_dot_f32, as llama.cpp does. */
float wl_f32_vec_dot_scalar(size_t n, const void *w, const void *a)
{
    const float *x = w, *y = a;
    float acc[16] = { 0 };

    if (n % 16)
        return wl_dot_f32_ggml_scalar(n, x, y);
    for (size_t i = 0; i < n; i += 16)
        for (int l = 0; l < 16; l++)
            acc[l] = fmaf(x[i + l], y[i + l], acc[l]);
    return wl_hsum16(acc);
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
 * products on x86 do for a batch (tinyBLAS; the activations are not rounded
 * to half): 16 lanes of FMAs over every 16 elements, wl_hsum16, then any
 * n % 16 leftover products added one by one. */
float wl_f16_vec_dot_scalar(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w;
    const float *y = a;
    float acc[16] = { 0 }, sum;
    size_t nv = n & ~(size_t)15, i;

    for (i = 0; i < nv; i += 16)
        for (int l = 0; l < 16; l++)
            acc[l] = fmaf(wl_f16_to_f32(x[i + l]), y[i + l], acc[l]);
    sum = wl_hsum16(acc);
    for (; i < n; i++) {
        float p = wl_f16_to_f32(x[i]) * y[i];
        sum += p;
    }
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

/* One lane of vdpbf16ps: acc + x[1]*y[1], then + x[0]*y[0].  Products of
 * two bfloat16 values are exact in float, so fusing changes nothing; the
 * instruction also treats denormals as zero, which this does not (values
 * below 1.2e-38: none in practice). */
static float bf16_pair(float acc, const uint16_t *x, const uint16_t *y)
{
    float p1 = wl_bf16_to_f32(x[1]) * wl_bf16_to_f32(y[1]);
    float p0 = wl_bf16_to_f32(x[0]) * wl_bf16_to_f32(y[0]);

    acc += p1;
    acc += p0;
    return acc;
}

/* BF16 weights times BF16 activations as llama.cpp's AVX512-BF16 build
 * computes them for a batch: tinyBLAS with vdpbf16ps (k % 32 == 0), 16
 * lanes, lane l taking the pair 2l, 2l+1 of every 32 elements; for other
 * lengths ggml_vec_dot_bf16: two such accumulators over steps of 64, each
 * lane-summed into a double, then the leftover products. */
float wl_bf16_vec_dot_scalar(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w, *y = a;
    float c1[16] = { 0 }, c2[16] = { 0 };
    double sum = 0.0;
    size_t i = 0;

    if (n % 32 == 0) {
        for (; i < n; i += 32)
            for (int l = 0; l < 16; l++)
                c1[l] = bf16_pair(c1[l], x + i + 2 * l, y + i + 2 * l);
        return wl_hsum16(c1);
    }
    for (; i + 64 <= n; i += 64)
        for (int l = 0; l < 16; l++) {
            c1[l] = bf16_pair(c1[l], x + i + 2 * l, y + i + 2 * l);
            c2[l] = bf16_pair(c2[l], x + i + 32 + 2 * l, y + i + 32 + 2 * l);
        }
    sum += (double)wl_hsum16(c1);
    sum += (double)wl_hsum16(c2);
    for (; i < n; i++)
        sum += (double)(wl_bf16_to_f32(x[i]) * wl_bf16_to_f32(y[i]));
    return (float)sum;
}

/* ---- attention and SiLU ---------------------------------------------------
 * The reference versions of the entries kernels.h describes. */

double wl_softmax_exp_scalar(size_t n, float *y, const float *x, float max)
{
    double sum = 0.0;

    for (size_t c = 0; c < n; c += 16) {
        float e[16] = { 0 };
        for (size_t j = c; j < c + 16 && j < n; j++) {
            float d = x[j] - max;
            y[j] = e[j - c] = wl_ggml_expf(d);
        }
        sum += (double)wl_hsum16(e);
    }
    return sum;
}

void wl_scale_scalar(size_t n, float *x, float f)
{
    /* The exact double product rounded once: a float multiply's bits.
     * Through a volatile, or the compiler turns it back into the float
     * multiply, which costs an Intel core a microcode assist for each
     * subnormal (a peaked softmax has many). */
    volatile double vf = f;
    const double d = vf;

    for (size_t i = 0; i < n; i++)
        x[i] = (float)((double)x[i] * d);
}

void wl_silu_scalar(size_t n, float *y, const float *x)
{
    size_t nv = n & ~(size_t)15, i;

    for (i = 0; i < nv; i++) {
        float e = wl_ggml_expf(0.0f - x[i]);
        y[i] = x[i] / (1.0f + e);
    }
    for (; i < n; i++)
        y[i] = x[i] / (1.0f + expf(-x[i]));
}

void wl_rope_scalar(size_t nh, size_t hd, size_t n_rot, int adjacent, float *x, const float *cs)
{
    const size_t half = n_rot / 2;

    for (size_t h = 0; h < nh; h++, x += hd)
        for (size_t i = 0; i < half; i++) {
            float c = cs[2 * i], s = cs[2 * i + 1];
            size_t a = adjacent ? 2 * i : i, b = adjacent ? 2 * i + 1 : i + half;
            float x0 = x[a], x1 = x[b];
            x[a] = fmaf(x0, c, -(x1 * s));
            x[b] = fmaf(x0, s, x1 * c);
        }
}

void wl_wsum16_scalar(size_t n, size_t m, const float *w, const float *v, size_t ldv, float *out)
{
    for (size_t i = 0; i < m; i++) {
        float lanes[16] = { 0 };
        for (size_t j = 0; j < n; j++)
            lanes[j % 16] = fmaf(w[j], v[j * ldv + i], lanes[j % 16]);
        out[i] = wl_hsum16(lanes);
    }
}

/* ---- Quantized weights ----------------------------------------------------
 *
 * Weights of a block type times activations quantized to its vec_dot_type
 * (Q8_0, Q8_1 or Q8_K).  Every integer part is exact; what defines these
 * kernels is the float part, and that follows the order llama.cpp's x86
 * build computes in (Feb 2025), so that woolly's logits agree with its
 * bits and not just its values: an ulp of difference here can flip the
 * int8 rounding of an activation downstream.  Every SIMD level must return
 * these exact bits (tests/check_quant.c compares them with memcmp).  The
 * products that llama.cpp fuses are fmaf() here, written out so that no
 * compiler contraction setting changes them.
 *
 * Two shapes occur:
 *  - "8 lanes": llama.cpp's AVX2 dot products (Q8_0, Q5_0 also through
 *    llamafile's tinyBLAS, Q4_1, Q5_1, and the K-quants but Q4_K) keep 8
 *    float accumulators.  Lane l takes the int32 sum of bytes 4l..4l+3 of
 *    every 32-element chunk (its scale applied, offsets such as q4_0's -8
 *    inside it), converted to float and fused-multiply-added with the
 *    block's float scale; at the end lane_hsum adds the lanes as
 *    hsum_float_8 does.
 *  - "per block": Q4_0 and Q4_K weights are repacked by llama.cpp on AVX2
 *    machines (q4_0_8x8, q4_K_8x8), whose kernels keep one accumulator per
 *    output and fuse each block's whole integer sum into it. */

/* ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)): the 256-bit
 * horizontal sum (high half onto low half, then movehl, then movehdup). */
static float lane_hsum(const float acc[8])
{
    float s[4];

    for (int i = 0; i < 4; i++)
        s[i] = acc[i] + acc[i + 4];
    return (s[0] + s[2]) + (s[1] + s[3]);
}

/* Lane sums of one 32-element chunk: p[l] = sum of q[j]*a[j] over j in 4l..4l+3. */
static void lanes32(const int8_t q[32], const int8_t a[32], int32_t p[8])
{
    for (int l = 0; l < 8; l++) {
        p[l] = 0;
        for (int j = 4 * l; j < 4 * l + 4; j++)
            p[l] += q[j] * a[j];
    }
}

/* The 32 quant values of a q4/q5 block, offset removed: element j < 16 is
 * the low nibble of qs[j], element j + 16 its high nibble; bit j of qh is
 * the fifth bit of element j. */
static void unpack32(const uint8_t qs[16], uint32_t qh, int off, int8_t q[32])
{
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)(((qs[j] & 0xF) | (int)(qh >> j & 1) << 4) - off);
        q[j + 16] = (int8_t)(((qs[j] >> 4) | (int)(qh >> (j + 16) & 1) << 4) - off);
    }
}

static uint32_t qh32(const uint8_t qh[4])
{
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

static int32_t sum8(const int32_t p[8])
{
    int32_t s = 0;

    for (int l = 0; l < 8; l++)
        s += p[l];
    return s;
}

/* 8 lanes: acc[l] = fma(float(p[l]), d, acc[l]). */
static void lanes_fma(float acc[8], const int32_t p[8], float d)
{
    for (int l = 0; l < 8; l++)
        acc[l] = fmaf((float)p[l], d, acc[l]);
}

/* Per block (repacked q4_0_8x8): s = fma(float(block sum), dw*da, s). */
float wl_q4_0_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q4_0 *x = w;
    const wl_block_q8_0 *a = act;
    float sum = 0.0f;
    int8_t q[32];
    int32_t p[8];

    for (size_t i = 0; i < n / WL_QK; i++) {
        unpack32(x[i].qs, 0, 8, q);
        lanes32(q, a[i].qs, p);
        sum = fmaf((float)sum8(p), wl_f16_to_f32(x[i].d) * wl_f16_to_f32(a[i].d), sum);
    }
    return sum;
}

/* 8 lanes of dw*da * sum(q*a); the mins in one float: m*s + summs. */
static float dot_1(size_t nb, const uint8_t *base, size_t stride, int has_qh, const wl_block_q8_1 *a)
{
    float acc[8] = { 0 }, summs = 0.0f;
    int8_t q[32];
    int32_t p[8];

    for (size_t i = 0; i < nb; i++, base += stride) {
        uint16_t d, m;
        uint8_t qh[4] = { 0 };
        memcpy(&d, base, 2);
        memcpy(&m, base + 2, 2);
        if (has_qh)
            memcpy(qh, base + 4, 4);
        summs = fmaf(wl_f16_to_f32(m), wl_f16_to_f32(a[i].s), summs);
        unpack32(base + 4 + (has_qh ? 4 : 0), qh32(qh), 0, q);
        lanes32(q, a[i].qs, p);
        lanes_fma(acc, p, wl_f16_to_f32(d) * wl_f16_to_f32(a[i].d));
    }
    return lane_hsum(acc) + summs;
}

/* Per block (ggml's AMX/VNNI kernel): s = fma(float(block sum), dw*da, s),
 * then s = fma(m, s_a, s). */
float wl_q4_1_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q4_1 *x = w;
    const wl_block_q8_1 *a = act;
    float sum = 0.0f;
    int8_t q[32];
    int32_t p[8];

    for (size_t i = 0; i < n / WL_QK; i++) {
        unpack32(x[i].qs, 0, 0, q);
        lanes32(q, a[i].qs, p);
        sum = fmaf((float)sum8(p), wl_f16_to_f32(x[i].d) * wl_f16_to_f32(a[i].d), sum);
        sum = fmaf(wl_f16_to_f32(x[i].m), wl_f16_to_f32(a[i].s), sum);
    }
    return sum;
}

float wl_q5_1_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    return dot_1(n / WL_QK, w, sizeof(wl_block_q5_1), 1, act);
}

float wl_q5_0_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q5_0 *x = w;
    const wl_block_q8_0 *a = act;
    float acc[8] = { 0 };
    int8_t q[32];
    int32_t p[8];

    for (size_t i = 0; i < n / WL_QK; i++) {
        unpack32(x[i].qs, qh32(x[i].qh), 16, q);
        lanes32(q, a[i].qs, p);
        lanes_fma(acc, p, wl_f16_to_f32(x[i].d) * wl_f16_to_f32(a[i].d));
    }
    return lane_hsum(acc);
}

float wl_q8_0_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q8_0 *x = w;
    const wl_block_q8_0 *a = act;
    float sum = 0.0f;
    int32_t p[8];

    for (size_t i = 0; i < n / WL_QK; i++) {
        lanes32(x[i].qs, a[i].qs, p);
        sum = fmaf((float)sum8(p), wl_f16_to_f32(x[i].d) * wl_f16_to_f32(a[i].d), sum);
    }
    return sum;
}

/* K-quants.  q[256] holds a super-block's quant values (offsets removed
 * where the kernel removes them), sc16[g] the integer scale of group g of
 * 16: lane l of chunk c is scaled by group 2c + (l >= 4). */
static void k_lanes16(const int8_t q[256], const int sc16[16], const int8_t *a, int32_t p[8])
{
    int32_t c8[8];

    for (int l = 0; l < 8; l++)
        p[l] = 0;
    for (int c = 0; c < 8; c++) {
        lanes32(q + 32 * c, a + 32 * c, c8);
        for (int l = 0; l < 8; l++)
            p[l] += sc16[2 * c + (l >= 4)] * c8[l];
    }
}

/* Element 128h + 32s + l of q2_k/q3_k: bits 2s..2s+1 of qs[32h + l]. */
static int q2bits(const uint8_t qs[64], int e)
{
    return qs[32 * (e / 128) + e % 32] >> (2 * (e % 128 / 32)) & 3;
}

/* q2_k: per super-block, first the mins (dmin negated, lanes of group
 * pairs of bsums), then the scales, into the same 8 lanes. */
float wl_q2_k_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q2_k *x = w;
    const wl_block_q8_k *a = act;
    float acc[8] = { 0 };
    int8_t q[WL_QK_K];
    int sc[16];
    int32_t p[8];

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        float d = a[i].d * wl_f16_to_f32(x[i].d), dmin = -a[i].d * wl_f16_to_f32(x[i].dmin);
        for (int l = 0; l < 8; l++)
            p[l] = (x[i].scales[2 * l] >> 4) * a[i].bsums[2 * l] + (x[i].scales[2 * l + 1] >> 4) * a[i].bsums[2 * l + 1];
        lanes_fma(acc, p, dmin);
        for (int e = 0; e < WL_QK_K; e++)
            q[e] = (int8_t)q2bits(x[i].qs, e);
        for (int g = 0; g < 16; g++)
            sc[g] = x[i].scales[g] & 0xF;
        k_lanes16(q, sc, a[i].qs, p);
        lanes_fma(acc, p, d);
    }
    return lane_hsum(acc);
}

/* q3_k: values q - 4 (the third bit from hmask), 6-bit signed scales. */
float wl_q3_k_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q3_k *x = w;
    const wl_block_q8_k *a = act;
    float acc[8] = { 0 };
    int8_t q[WL_QK_K], sc8[16];
    int sc[16];
    int32_t p[8];

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        wl_q3_k_scales(x[i].scales, sc8);
        for (int g = 0; g < 16; g++)
            sc[g] = sc8[g];
        for (int e = 0; e < WL_QK_K; e++)
            q[e] = (int8_t)((q2bits(x[i].qs, e) | (x[i].hmask[e % 32] >> (e / 32) & 1) << 2) - 4);
        k_lanes16(q, sc, a[i].qs, p);
        lanes_fma(acc, p, a[i].d * wl_f16_to_f32(x[i].d));
    }
    return lane_hsum(acc);
}

/* q4_k and q5_k: 8 sub-blocks of 32 with 6-bit scales and mins.  Fills
 * the quants, the scales per group of 16 and the block's min sum
 * sum_j mn[j] * (bsums[2j] + bsums[2j+1]). */
static int32_t k_affine_unpack(const uint8_t packed[12], const uint8_t qs[128], const uint8_t *qh,
                               const wl_block_q8_k *a, int8_t q[256], int sc16[16])
{
    uint8_t sc[8], mn[8];
    int32_t mins = 0;

    wl_q4_k_scales(packed, sc, mn);
    for (int j = 0; j < 8; j++) {
        for (int l = 0; l < 32; l++) {
            int v = qs[32 * (j / 2) + l] >> (4 * (j % 2)) & 0xF;
            if (qh)
                v |= (qh[l] >> j & 1) << 4;
            q[32 * j + l] = (int8_t)v;
        }
        sc16[2 * j] = sc16[2 * j + 1] = sc[j];
        mins += mn[j] * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
    }
    return mins;
}

/* One super-block of q4_k or q5_k (QH NULL for q4_k) added to SUM: the
 * scales through 8 lanes, then the mins fused with -dmin. */
static float k_affine_block(float sum, uint16_t d, uint16_t dmin, const uint8_t *scales, const uint8_t *qs,
                            const uint8_t *qh, const wl_block_q8_k *a)
{
    int8_t q[WL_QK_K];
    int sc[16];
    int32_t p[8];
    int32_t mins = k_affine_unpack(scales, qs, qh, a, q, sc);

    k_lanes16(q, sc, a->qs, p);
    sum = fmaf((float)sum8(p), wl_f16_to_f32(d) * a->d, sum);
    return fmaf((float)mins, -(wl_f16_to_f32(dmin) * a->d), sum);
}

/* Per block (repacked q4_K_8x8): two accumulators, scales and mins, each
 * fused with its block's whole integer sum; their difference at the end. */
float wl_q4_k_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q4_k *x = w;
    const wl_block_q8_k *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK_K; i++)
        sum = k_affine_block(sum, x[i].d, x[i].dmin, x[i].scales, x[i].qs, NULL, &a[i]);
    return sum;
}

/* q5_k: 8 lanes for the scales; the mins in one float, fused with -dmin. */
float wl_q5_k_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q5_k *x = w;
    const wl_block_q8_k *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK_K; i++)
        sum = k_affine_block(sum, x[i].d, x[i].dmin, x[i].scales, x[i].qs, x[i].qh, &a[i]);
    return sum;
}

/* q6_k: values q - 32, 8-bit signed scales per 16. */
float wl_q6_k_vec_dot_scalar(size_t n, const void *w, const void *act)
{
    const wl_block_q6_k *x = w;
    const wl_block_q8_k *a = act;
    float sum = 0.0f;
    int8_t q[WL_QK_K];
    int sc[16];
    int32_t p[8];

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        for (int e = 0; e < WL_QK_K; e++) {
            int h = e / 128, s = e % 128 / 32, l = e % 32;
            int lo = x[i].ql[64 * h + 32 * (s & 1) + l] >> (4 * (s >> 1)) & 0xF;
            int hi = x[i].qh[32 * h + l] >> (2 * s) & 3;
            q[e] = (int8_t)((lo | hi << 4) - 32);
        }
        for (int g = 0; g < 16; g++)
            sc[g] = x[i].scales[g];
        k_lanes16(q, sc, a[i].qs, p);
        sum = fmaf((float)sum8(p), wl_f16_to_f32(x[i].d) * a[i].d, sum);
    }
    return sum;
}

void wl_q8_0_aux_fill(const void *act, size_t n, wl_q8_0_aux *aux)
{
    const wl_block_q8_0 *a = act;

    for (size_t i = 0; i < n / WL_QK; i++) {
        int32_t sum = 0;
        for (int j = 0; j < WL_QK; j++)
            sum += a[i].qs[j];
        aux[i].d = wl_f16_to_f32(a[i].d);
        aux[i].corr = -128 * sum;
    }
}

void wl_q8_k_aux_fill(const void *act, size_t n, wl_q8_k_aux *aux)
{
    const wl_block_q8_k *a = act;

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        int mag[16], fit = 3;
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            mag[g] = 0;
            for (int e = 0; e < 16; e++) {
                sum += a[i].qs[16 * g + e];
                mag[g] += abs(a[i].qs[16 * g + e]);
            }
            aux[i].neg32[g] = -32 * sum;
            if (32 * mag[g] > INT16_MAX)
                fit &= ~2;
        }
        for (int j = 0; j < 8; j++) {
            aux[i].sum32[j] = (int16_t)(a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
            if (15 * (mag[2 * j] + mag[2 * j + 1]) > INT16_MAX)
                fit &= ~1;
        }
        aux[i].fit16 = fit;
    }
}

static void set_quant_types(wl_kernels *k)
{
    static const struct {
        woolly_type type;
        wl_type_kernels kernels;
    } quant[] = {
        { WOOLLY_TYPE_Q4_0, { WOOLLY_TYPE_Q8_0, wl_quantize_q4_0, wl_dequantize_q4_0, wl_q4_0_vec_dot_scalar, NULL, NULL, NULL } },
        { WOOLLY_TYPE_Q4_1, { WOOLLY_TYPE_Q8_1, wl_quantize_q4_1, wl_dequantize_q4_1, wl_q4_1_vec_dot_scalar, NULL, NULL, NULL } },
        { WOOLLY_TYPE_Q5_0, { WOOLLY_TYPE_Q8_0, wl_quantize_q5_0, wl_dequantize_q5_0, wl_q5_0_vec_dot_scalar, NULL, NULL, NULL } },
        { WOOLLY_TYPE_Q5_1, { WOOLLY_TYPE_Q8_1, wl_quantize_q5_1, wl_dequantize_q5_1, wl_q5_1_vec_dot_scalar, NULL, NULL, NULL } },
        { WOOLLY_TYPE_Q8_0, { WOOLLY_TYPE_Q8_0, wl_quantize_q8_0_act, wl_dequantize_q8_0, wl_q8_0_vec_dot_scalar, NULL, NULL, NULL } },
        /* Activation-only types: no weights of these in models. */
        { WOOLLY_TYPE_Q8_1, { WOOLLY_TYPE_Q8_1, wl_quantize_q8_1_act, wl_dequantize_q8_1, NULL, NULL, NULL, NULL } },
        { WOOLLY_TYPE_Q8_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q8_k_act, wl_dequantize_q8_k, NULL, NULL, NULL, NULL } },
        { WOOLLY_TYPE_Q2_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q2_k, wl_dequantize_q2_k, wl_q2_k_vec_dot_scalar, NULL, NULL, NULL } },
        { WOOLLY_TYPE_Q3_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q3_k, wl_dequantize_q3_k, wl_q3_k_vec_dot_scalar, NULL, NULL, NULL } },
        { WOOLLY_TYPE_Q4_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q4_k, wl_dequantize_q4_k, wl_q4_k_vec_dot_scalar, NULL, NULL, NULL } },
        { WOOLLY_TYPE_Q5_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q5_k, wl_dequantize_q5_k, wl_q5_k_vec_dot_scalar, NULL, NULL, NULL } },
        { WOOLLY_TYPE_Q6_K, { WOOLLY_TYPE_Q8_K, wl_quantize_q6_k, wl_dequantize_q6_k, wl_q6_k_vec_dot_scalar, NULL, NULL, NULL } },
    };

    for (size_t i = 0; i < sizeof quant / sizeof quant[0]; i++)
        k->type[quant[i].type] = quant[i].kernels;
}

void wl_kernels_init_scalar(wl_kernels *k)
{
    memset(k, 0, sizeof *k);
    k->type[WOOLLY_TYPE_F32] = (wl_type_kernels){ WOOLLY_TYPE_F32, f32_copy, f32_to_float,
                                                  wl_f32_vec_dot_scalar, NULL, NULL, NULL };
    k->type[WOOLLY_TYPE_F16] = (wl_type_kernels){ WOOLLY_TYPE_F32, wl_f16_from_float_scalar,
                                                  wl_f16_to_float_scalar, wl_f16_vec_dot_scalar, NULL, NULL, NULL };
    k->type[WOOLLY_TYPE_BF16] = (wl_type_kernels){ WOOLLY_TYPE_BF16, wl_bf16_from_float_scalar,
                                                   wl_bf16_to_float_scalar, wl_bf16_vec_dot_scalar, NULL, NULL, NULL };
    set_quant_types(k);

    k->dot_f32 = wl_dot_f32_scalar;
    k->dot_i8 = wl_dot_i8_scalar;
    k->dot_bf16 = wl_dot_bf16_scalar;
    k->gemm_i8 = wl_gemm_i8_scalar;
    k->dot_f32_ggml = wl_dot_f32_ggml_scalar;
    k->qk_scores = wl_qk_scores_scalar;
    k->softmax_exp = wl_softmax_exp_scalar;
    k->silu = wl_silu_scalar;
    k->scale = wl_scale_scalar;
    k->rope = wl_rope_scalar;
    k->wsum16 = wl_wsum16_scalar;
}
