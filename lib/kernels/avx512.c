/* avx512.c - kernels for AVX-512 F/BW/VL/DQ (built with AVX512_CFLAGS). */
#include <config.h>

#include <immintrin.h>
#include <string.h>

#include "fp16.h"
#include "kernels/kernels.h"
#include "kernels/x86-quant.h"

static float dot_f32(size_t n, const float *x, const float *y)
{
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), acc1);
    }
    for (; i + 16 <= n; i += 16)
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

static int32_t dot_i8(size_t n, const int8_t *x, const int8_t *y)
{
    __m512i acc = _mm512_setzero_si512();
    size_t i = 0;
    int32_t sum;

    for (; i + 32 <= n; i += 32) {
        __m512i vx = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(x + i)));
        __m512i vy = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(y + i)));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(vx, vy));
    }
    sum = _mm512_reduce_add_epi32(acc);
    for (; i < n; i++)
        sum += (int32_t)x[i] * (int32_t)y[i];
    return sum;
}

/* ---- llama.cpp's orders (scalar.c defines them) ------------------------ */

static float dot_f32_ggml(size_t n, const float *x, const float *y)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t np = n & ~(size_t)63, i;
    float sum;

    for (i = 0; i < np; i += 64) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), a3);
    }
    sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3)));
    for (; i < n; i++) {
        float p = x[i] * y[i];
        sum += p;
    }
    return sum;
}

/* dot_f32_ggml's combined accumulators (0+2)+(1+3) for one key of HD
 * (whole 64s) floats; Q64 holds q's first 64. */
static inline __m512 qk_lanes(size_t hd, const float *q, const __m512 q64[4], const float *key)
{
    const __m512 z = _mm512_setzero_ps();
    __m512 a0, a1, a2, a3;

    if (hd == 64) {
        a0 = _mm512_fmadd_ps(q64[0], _mm512_loadu_ps(key), z);
        a1 = _mm512_fmadd_ps(q64[1], _mm512_loadu_ps(key + 16), z);
        a2 = _mm512_fmadd_ps(q64[2], _mm512_loadu_ps(key + 32), z);
        a3 = _mm512_fmadd_ps(q64[3], _mm512_loadu_ps(key + 48), z);
    } else {
        a0 = a1 = a2 = a3 = z;
        for (size_t i = 0; i < hd; i += 64) {
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), _mm512_loadu_ps(key + i), a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), _mm512_loadu_ps(key + i + 16), a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 32), _mm512_loadu_ps(key + i + 32), a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 48), _mm512_loadu_ps(key + i + 48), a3);
        }
    }
    return _mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3));
}

/* qk_scores 16 keys at a time (head sizes of whole 64s): each key's
 * accumulators as dot_f32_ggml keeps them, then the 16 vectors' lanes
 * added in _mm512_reduce_add_ps's pairs (i + i+8, i + i+4, i + i+2,
 * i + i+1) all at once by shuffles, which leave key 4e + k in element
 * 4k + e. */
#define QK_PF 4     /* blocks of 16 keys ahead */

static void qk_scores(size_t n, size_t hd, size_t nq, const float *q, size_t ldq, const float *k, size_t ldk,
                      float scale, float *out, size_t ldo)
{
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512 vs = _mm512_set1_ps(scale);

    if (hd % 64) {
        for (size_t h = 0; h < nq; h++)
            for (size_t j = 0; j < n; j++)
                out[h * ldo + j] = dot_f32_ggml(hd, q + h * ldq, k + j * ldk) * scale;
        return;
    }
    /* 16 keys (in L1 after the first query) against every query of the
     * group; each pair of keys' vectors folded as soon as it is made, and
     * every loop unrolled, so that all stays in registers. */
    for (size_t j0 = 0; j0 < n; j0 += 16) {
        const size_t nk = n - j0 < 16 ? n - j0 : 16;
        const float *kp[16];
        for (size_t p = 0; p < 16; p++)
            kp[p] = k + (j0 + (p < nk ? p : 0)) * ldk;
        for (size_t h = 0; h < nq; h++) {
            const float *qh = q + h * ldq;
            __m512 q64[4], A[8], B[4], C[2];
            /* The keys QK_PF blocks ahead, a share with each query. */
            wl_prefetch_keys(k, ldk, hd, j0 + QK_PF * 16, 16, h, nq, n);
            for (int c = 0; c < 4; c++)
                q64[c] = _mm512_loadu_ps(qh + 16 * c);
            _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) {
                __m512 P0 = qk_lanes(hd, qh, q64, kp[2 * i]), P1 = qk_lanes(hd, qh, q64, kp[2 * i + 1]);
                A[i] = _mm512_add_ps(_mm512_shuffle_f32x4(P0, P1, 0x44), _mm512_shuffle_f32x4(P0, P1, 0xEE));
            }
            _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++)
                B[i] = _mm512_add_ps(_mm512_shuffle_f32x4(A[2 * i], A[2 * i + 1], 0x88),
                                     _mm512_shuffle_f32x4(A[2 * i], A[2 * i + 1], 0xDD));
            _Pragma("GCC unroll 2") for (int i = 0; i < 2; i++)
                C[i] = _mm512_add_ps(_mm512_shuffle_ps(B[2 * i], B[2 * i + 1], 0x44),
                                     _mm512_shuffle_ps(B[2 * i], B[2 * i + 1], 0xEE));
            __m512 D = _mm512_add_ps(_mm512_shuffle_ps(C[0], C[1], 0x88), _mm512_shuffle_ps(C[0], C[1], 0xDD));
            _mm512_mask_storeu_ps(out + h * ldo + j0, (__mmask16)((1u << nk) - 1),
                                  _mm512_mul_ps(_mm512_permutexvar_ps(order, D), vs));
        }
    }
}

static float f32_vec_dot(size_t n, const void *w, const void *a)
{
    const float *x = w, *y = a;
    __m512 acc = _mm512_setzero_ps();

    if (n % 16)
        return dot_f32_ggml(n, x, y);
    for (size_t i = 0; i < n; i += 16)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc);
    return _mm512_reduce_add_ps(acc);
}

/* Half weights times float activations: one 16-lane accumulator. */
static float f16_vec_dot(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w;
    const float *y = a;
    __m512 acc = _mm512_setzero_ps();
    size_t i = 0;
    float sum;

    for (; i + 16 <= n; i += 16)
        acc = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i))),
                              _mm512_loadu_ps(y + i), acc);
    sum = _mm512_reduce_add_ps(acc);
    for (; i < n; i++) {
        float p = _cvtsh_ss(x[i]) * y[i];
        sum += p;
    }
    return sum;
}

/* 16 lanes of vdpbf16ps on the 32 bfloat16 values at X and Y (exact
 * products: see scalar.c). */
static __m512 bf16_pairs(__m512 acc, const uint16_t *x, const uint16_t *y)
{
    const __m512i mask = _mm512_set1_epi32((int)0xFFFF0000u);
    __m512i vx = _mm512_loadu_si512(x), vy = _mm512_loadu_si512(y);
    __m512 p1 = _mm512_mul_ps(_mm512_castsi512_ps(_mm512_and_si512(vx, mask)),
                              _mm512_castsi512_ps(_mm512_and_si512(vy, mask)));
    __m512 p0 = _mm512_mul_ps(_mm512_castsi512_ps(_mm512_slli_epi32(vx, 16)),
                              _mm512_castsi512_ps(_mm512_slli_epi32(vy, 16)));

    acc = _mm512_add_ps(acc, p1);
    return _mm512_add_ps(acc, p0);
}

static float bf16_vec_dot(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w, *y = a;
    __m512 c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps();
    double sum = 0.0;
    size_t i = 0;

    if (n % 32 == 0) {
        for (; i < n; i += 32)
            c1 = bf16_pairs(c1, x + i, y + i);
        return _mm512_reduce_add_ps(c1);
    }
    for (; i + 64 <= n; i += 64) {
        c1 = bf16_pairs(c1, x + i, y + i);
        c2 = bf16_pairs(c2, x + i + 32, y + i + 32);
    }
    sum += (double)_mm512_reduce_add_ps(c1);
    sum += (double)_mm512_reduce_add_ps(c2);
    for (; i < n; i++)
        sum += (double)(wl_bf16_to_f32(x[i]) * wl_bf16_to_f32(y[i]));
    return (float)sum;
}

/* ggml_v_expf (AVX-512): wl_ggml_expf on 16 lanes. */
static __m512 v_expf(__m512 x)
{
    const __m512 r = _mm512_set1_ps(0x1.8p23f);
    __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r);
    __m512 n = _mm512_sub_ps(z, r);
    __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
    __mmask16 big = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192.0f), _CMP_GT_OQ);
    __m512 u = _mm512_mul_ps(b, b);
    __m512 j = _mm512_fmadd_ps(
        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                        _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
        u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
    /* j * 2^n where it is subnormal (or about to be), in double and rounded
     * once: scalef making a subnormal costs an Intel core a microcode
     * assist (x in [-105, -10]: 5.6 -> 0.5 ns an element). */
    __mmask16 tiny = _mm512_cmp_ps_mask(n, _mm512_set1_ps(-125.0f), _CMP_LT_OQ);
    __m512 res = _mm512_scalef_ps(j, _mm512_mask_blend_ps(tiny, n, _mm512_setzero_ps()));
    if (tiny) {
        __m512d lo = _mm512_scalef_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(j)),
                                      _mm512_cvtps_pd(_mm512_castps512_ps256(n)));
        __m512d hi = _mm512_scalef_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(j, 1)),
                                      _mm512_cvtps_pd(_mm512_extractf32x8_ps(n, 1)));
        __m512 sub = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
        res = _mm512_mask_blend_ps(tiny, res, sub);
    }

    if (!big)
        return res;
    __mmask16 neg = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_LE_OQ);
    __m512 alt = _mm512_mask_blend_ps(neg, _mm512_set1_ps(INFINITY), _mm512_setzero_ps());
    return _mm512_mask_blend_ps(big, res, alt);
}

static double softmax_exp(size_t n, float *y, const float *x, float max)
{
    const __m512 vmax = _mm512_set1_ps(max);
    double sum = 0.0;
    size_t i = 0;

    for (; i + 16 <= n; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), vmax);
        /* Below -106, n <= -153 and v_expf is +0 (j * 2^n < 2^-150, or
         * the |n| > 192 branch): such a chunk adds +0 to the sum. */
        if (_mm512_cmp_ps_mask(d, _mm512_set1_ps(-106.0f), _CMP_LT_OQ) == 0xFFFF) {
            _mm512_storeu_ps(y + i, _mm512_setzero_ps());
            continue;
        }
        __m512 e = v_expf(d);
        _mm512_storeu_ps(y + i, e);
        sum += (double)_mm512_reduce_add_ps(e);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = _mm512_maskz_mov_ps(m, v_expf(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vmax)));
        _mm512_mask_storeu_ps(y + i, m, e);
        sum += (double)_mm512_reduce_add_ps(e);
    }
    return sum;
}

/* wl_scale_scalar 16 floats at a time, through double as it is. */
static void scale(size_t n, float *x, float f)
{
    const __m512d d = _mm512_set1_pd(f);

    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(k, x + i);
        const __m256 lo = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), d));
        const __m256 hi = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)), d));
        _mm512_mask_storeu_ps(x + i, k, _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1));
    }
}

static void silu(size_t n, float *y, const float *x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    size_t i = 0;

    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __m512 e = v_expf(_mm512_sub_ps(_mm512_setzero_ps(), v));
        _mm512_storeu_ps(y + i, _mm512_div_ps(v, _mm512_add_ps(one, e)));
    }
    for (; i < n; i++)
        y[i] = x[i] / (1.0f + expf(-x[i]));
}

/* RoPE 8 pairs at a time.  Adjacent pairs: both values of a pair take x_a
 * times (c, s) fused and x_b times (-s, c) rounded, so x_a and x_b are
 * duplicated across each pair's two lanes and cs (c, s interleaved) is the
 * first factor as it is.  Pairs (i, i + half): the cos and sin of 8 pairs
 * apart, and the two halves computed as the reference writes them.
 * Head sizes whose rotated part is not a whole number of vectors take the
 * reference. */
static void rope(size_t nh, size_t hd, size_t n_rot, int adjacent, float *x, const float *cs)
{
    const size_t half = n_rot / 2;

    if (adjacent ? n_rot % 16 : half % 16) {
        wl_rope_scalar(nh, hd, n_rot, adjacent, x, cs);
        return;
    }
    const __m512i swap = _mm512_setr_epi32(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    for (size_t h = 0; h < nh; h++, x += hd) {
        if (adjacent) {
            for (size_t i = 0; i < n_rot; i += 16) {
                __m512 v = _mm512_loadu_ps(x + i), m1 = _mm512_loadu_ps(cs + i);
                /* (-s, c) from (c, s): swapped, the even lanes' signs flipped
                 * (-(x_b * s) is x_b * -s, zeros included) */
                __m512 m2 = _mm512_castsi512_ps(_mm512_mask_xor_epi32(
                    _mm512_castps_si512(_mm512_permutexvar_ps(swap, m1)), 0x5555,
                    _mm512_castps_si512(_mm512_permutexvar_ps(swap, m1)), sign));
                _mm512_storeu_ps(x + i, _mm512_fmadd_ps(_mm512_moveldup_ps(v), m1,
                                                        _mm512_mul_ps(_mm512_movehdup_ps(v), m2)));
            }
        } else {
            for (size_t i = 0; i < half; i += 16) {
                __m512 c0 = _mm512_loadu_ps(cs + 2 * i), c1 = _mm512_loadu_ps(cs + 2 * i + 16);
                __m512 c = _mm512_permutex2var_ps(c0, even, c1), s = _mm512_permutex2var_ps(c0, odd, c1);
                __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + half);
                _mm512_storeu_ps(x + i, _mm512_fmadd_ps(x0, c, _mm512_xor_ps(_mm512_mul_ps(x1, s), _mm512_castsi512_ps(sign))));
                _mm512_storeu_ps(x + i + half, _mm512_fmadd_ps(x0, s, _mm512_mul_ps(x1, c)));
            }
        }
    }
}

/* wsum16.  Dense: 64 columns at a time, lanes 4p..4p+3 of them in 16
 * registers, so that each weight is broadcast once for 64 columns.
 * Sparse (most weights exactly 0, as a peaked softmax gives them): the
 * lanes in memory, and only the rows of nonzero weight added.
 * fma(0, v, lane) is lane but for a lane of -0, which it turns +0; that
 * can change the sign of a zero sum and nothing else, so a column whose
 * sum is zero is computed again in full.  (A v of inf or NaN at a weight
 * of 0 would make the reference's lane NaN: values in the cache are
 * finite.)  Both end adding the lanes in wl_hsum16's pairs (lane l +=
 * lane l + h). */
#define WSUM_SPARSE_M 256

/* Columns c.. of M in a vector of 16 (none past M). */
static inline __mmask16 wsum16_cols(size_t m, size_t c)
{
    return c >= m ? 0 : m - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (m - c)) - 1);
}

/* Which of the weights j0..j0+15 (below N) are not 0. */
static inline __mmask16 wsum16_nonzero(const float *w, size_t n, size_t j0)
{
    __mmask16 live = n - j0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j0)) - 1);

    return _mm512_mask_cmp_ps_mask(live, _mm512_maskz_loadu_ps(live, w + j0), _mm512_setzero_ps(), _CMP_NEQ_UQ);
}

/* OUT[i] for i < M: the 16 lanes (rows LD apart) added in wl_hsum16's pairs. */
static void wsum16_lanes_out(const float *lanes, size_t ld, size_t m, float *out)
{
    for (size_t c = 0; c < m; c += 16) {
        __mmask16 k = wsum16_cols(m, c);
        __m512 a[16];
        for (int l = 0; l < 16; l++)
            a[l] = _mm512_maskz_loadu_ps(k, lanes + l * ld + c);
        for (int h = 8; h >= 1; h /= 2)
            _Pragma("GCC unroll 8") for (int l = 0; l < h; l++)
                a[l] = _mm512_add_ps(a[l], a[l + h]);
        _mm512_mask_storeu_ps(out + c, k, a[0]);
    }
}

/* Lanes in registers: for each 16 columns and each lane, the nonzero
 * weights of that lane (listed once per window of rows) added in one
 * accumulator, in the order of their rows, and stored once.
 *
 * A subnormal weight (the softmax of a peaked row has many) makes an Intel
 * core take a microcode assist of about 130 cycles on every multiply or FMA
 * it enters, which made this a fifth of pp.  Conversions and adds take
 * subnormals at full speed, so a lane with a subnormal weight computes each
 * of its FMAs in double instead (wsum16_fma_exact). */
#define WSUM_SPARSE_WINDOW 512

/* fmaf(w, v, a) for 8 columns without a multiply of subnormals: w v is
 * exact in double, and TwoSum gives a + w v = s + e exactly.  Rounding s
 * to float is right unless e != 0 and s lies halfway between two floats:
 * then the double s2 next to s towards e rounds the right way.  Between the
 * adjacent doubles s and s2 there is no float nor halfway point, so of the
 * two the one not halfway (nearer its float) rounds as a + w v does. */
static inline __m256 wsum16_fma_exact(__m512d w, __m256 v, __m256 a)
{
    __m512d ad = _mm512_cvtps_pd(a), p = _mm512_mul_pd(w, _mm512_cvtps_pd(v));
    __m512d s = _mm512_add_pd(ad, p);
    __m512d bp = _mm512_sub_pd(s, ad), ap = _mm512_sub_pd(s, bp);
    __m512d e = _mm512_add_pd(_mm512_sub_pd(ad, ap), _mm512_sub_pd(p, bp));
    __mmask8 inexact = _mm512_cmp_pd_mask(e, _mm512_setzero_pd(), _CMP_NEQ_OQ);
    __m256 f = _mm512_cvtpd_ps(s);

    if (inexact) {
        __m512i sb = _mm512_castpd_si512(s);
        /* +1 on the bits moves away from 0: towards e when its sign is s's. */
        __m512i dir = _mm512_or_si512(_mm512_srai_epi64(_mm512_xor_si512(sb, _mm512_castpd_si512(e)), 63),
                                      _mm512_set1_epi64(1));
        __m512d s2 = _mm512_castsi512_pd(_mm512_mask_add_epi64(sb, inexact, sb, dir));
        __m256 f2 = _mm512_cvtpd_ps(s2);
        __m512d d1 = _mm512_abs_pd(_mm512_sub_pd(s, _mm512_cvtps_pd(f)));
        __m512d d2 = _mm512_abs_pd(_mm512_sub_pd(s2, _mm512_cvtps_pd(f2)));
        f = _mm256_mask_blend_ps(_mm512_cmp_pd_mask(d2, d1, _CMP_LT_OQ), f, f2);
    }
    return f;
}

/* X times F, a power of 2, through double: exact wherever the result is a
 * float, and without the microcode assist of a float multiply of or into
 * subnormals. */
static inline __m512 wsum16_times(__m512 x, double f)
{
    const __m512d fd = _mm512_set1_pd(f);
    __m512d lo = _mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)), fd);
    __m512d hi = _mm512_mul_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1)), fd);

    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
}

/* 2^64 fma(w, x, a) from A = 2^64 a, where that sum is below 2^-125 and
 * |A| <= 2^-34: in units of 2^-149 biased by 1.5 * 2^52 (a is at most
 * 2^51 of them, so the bias takes it exactly), one double FMA rounding to
 * the unit as the float FMA does. */
static inline __m512 wsum16_fma_units(double w, __m512 x, __m512 a)
{
    const __m512d bias = _mm512_set1_pd(0x1.8p52), wu = _mm512_set1_pd(w * 0x1p149);
    const __m512d up = _mm512_set1_pd(0x1p85), down = _mm512_set1_pd(0x1p-85);
    __m512d lo = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(a)), up, bias);
    __m512d hi = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1)), up, bias);

    lo = _mm512_fmadd_pd(wu, _mm512_cvtps_pd(_mm512_castps512_ps256(x)), lo);
    hi = _mm512_fmadd_pd(wu, _mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1)), hi);
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(_mm512_mul_pd(_mm512_sub_pd(lo, bias), down))),
                              _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_sub_pd(hi, bias), down)), 1);
}

/* A lane of COUNT rows (ROWS, from W0) with subnormal weights, its sums
 * kept times 2^64: then every weight and every nonzero sum is a normal
 * float, and an FMA whose result is above 2^-62 (a true sum above 2^-126)
 * rounds as the unscaled one does.  Results of 2^-62 or less are made
 * again on the grid of subnormals (wsum16_fma_units).  0, with *ACC as it
 * was, where that cannot be done (a sum that cancels from above 2^-98, or
 * one that is not finite): the caller then emulates the lane exactly. */
static inline int wsum16_lane_scaled(const double *wd, const float *ws, size_t w0, const uint16_t *rows,
                                     unsigned count, const float *v, size_t ldv, size_t c, __mmask16 k, __m512 *acc)
{
    const __m512 small = _mm512_set1_ps(0x1p-62f), units_max = _mm512_set1_ps(0x1p-34f);
    __m512 a = wsum16_times(*acc, 0x1p64);

    for (unsigned q = 0; q < count; q++) {
        size_t j = w0 + rows[q];
        __m512 x = _mm512_maskz_loadu_ps(k, v + j * ldv + c);
        __m512 r = _mm512_fmadd_ps(_mm512_set1_ps(ws[rows[q]]), x, a);
        __mmask16 fix = _mm512_mask_cmp_ps_mask(k, _mm512_abs_ps(r), small, _CMP_LE_OQ);
        if (fix) {
            if (_mm512_mask_cmp_ps_mask(fix, _mm512_abs_ps(a), units_max, _CMP_GT_OQ))
                return 0;
            r = _mm512_mask_blend_ps(fix, r, wsum16_fma_units(wd[rows[q]], x, a));
        }
        a = r;
    }
    if (_mm512_mask_cmp_ps_mask(k, _mm512_abs_ps(a), _mm512_set1_ps(0x1p127f), _CMP_NLT_UQ))
        return 0;   /* inf or NaN (or near them) */
    *acc = wsum16_times(a, 0x1p-64);
    return 1;
}

/* The 16 weights W as doubles (WD) and times 2^64 (WS), by vector
 * conversions: a scalar one of a subnormal takes a microcode assist. */
static inline void wsum16_doubles(__m512 w, double *wd, float *ws)
{
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(w)), hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(w, 1));
    const __m512d up = _mm512_set1_pd(0x1p64);

    _mm512_storeu_pd(wd, lo);
    _mm512_storeu_pd(wd + 8, hi);
    _mm256_storeu_ps(ws, _mm512_cvtpd_ps(_mm512_mul_pd(lo, up)));
    _mm256_storeu_ps(ws + 8, _mm512_cvtpd_ps(_mm512_mul_pd(hi, up)));
}

/* The largest |x[i]| of i < M. */
static inline float wsum16_absmax(const float *x, size_t m)
{
    __m512 a = _mm512_setzero_ps();

    for (size_t c = 0; c < m; c += 16)
        a = _mm512_max_ps(a, _mm512_abs_ps(_mm512_maskz_loadu_ps(wsum16_cols(m, c), x + c)));
    return _mm512_reduce_max_ps(a);
}

/* FAST: the CPU's FMAs take subnormals at full speed, so the lanes of
 * subnormal weights are summed as the others are (the same bits). */
static inline __attribute__((always_inline)) void wsum16_sparse(int fast, size_t n, size_t m, const float *w,
                                                                const float *v, size_t ldv, float *out)
{
    const size_t ld = (m + 15) & ~(size_t)15;
    float lanes[16 * WSUM_SPARSE_M] __attribute__((aligned(64)));
    uint16_t rows[16][WSUM_SPARSE_WINDOW / 16];   /* each lane's nonzero rows, in order */
    double wd[WSUM_SPARSE_WINDOW];   /* their weights as doubles, */
    float ws[WSUM_SPARSE_WINDOW];    /* and times 2^64 */
    __mmask16 lives[WSUM_SPARSE_WINDOW / 16];
    unsigned count[16];
    size_t w0 = 0;

    do {
        size_t wn = n - w0 < WSUM_SPARSE_WINDOW ? n - w0 : WSUM_SPARSE_WINDOW;
        unsigned subnormal = 0;   /* lanes with a subnormal weight, unless FAST */

        memset(count, 0, sizeof count);
        for (size_t b = 0; b < wn; b += 16) {
            __mmask16 live = lives[b / 16] = wsum16_nonzero(w + w0, wn, b);
            __m512i bits = _mm512_and_si512(_mm512_maskz_loadu_epi32(live, w + w0 + b), _mm512_set1_epi32(0x7FFFFFFF));
            if (!fast)
                subnormal |= _mm512_mask_cmplt_epu32_mask(live, bits, _mm512_set1_epi32(0x00800000));
            for (unsigned z = live; z; z &= z - 1) {
                unsigned l = (unsigned)__builtin_ctz(z);
                rows[l][count[l]++] = (uint16_t)(b + l);
            }
        }
        if (subnormal)
            for (size_t b = 0; b < wn; b += 16)
                if (lives[b / 16])
                    wsum16_doubles(_mm512_maskz_loadu_ps(lives[b / 16], w + w0 + b), wd + b, ws + b);
        unsigned fixed = 0;   /* lanes whose sums stay below 2^-125 */
        for (unsigned z = subnormal; z; z &= z - 1) {
            unsigned l = (unsigned)__builtin_ctz(z);
            double bound = count[l] + (w0 == 0 ? 0.0 : 0x1p149 * (double)wsum16_absmax(lanes + l * ld, m));
            for (unsigned q = 0; q < count[l] && bound < 0x1p23; q++) {
                const size_t j = w0 + rows[l][q];
                bound += 0x1p149 * fabs(wd[rows[l][q]]) * (double)wsum16_absmax(v + j * ldv, m);
            }
            fixed |= (unsigned)(bound < 0x1p23) << l;
        }
        /* The lanes without subnormal weights (every lane where FAST): 64
         * columns at a time, four independent chains of FMAs, each
         * column's in the order of the rows (one column vector at a time
         * waited on every FMA's latency: 10% of a Q4_0 pp512 of the
         * TinyLlama shape, whose random weights make the softmax sparse). */
        for (size_t c0 = 0; c0 < m; c0 += 64) {
            __mmask16 k[4];
            for (int i = 0; i < 4; i++)
                k[i] = wsum16_cols(m, c0 + 16 * (size_t)i);
            for (unsigned z = ~subnormal & 0xFFFFu; z; z &= z - 1) {
                unsigned l = (unsigned)__builtin_ctz(z);
                float *lane = lanes + l * ld + c0;
                __m512 a[4];
                _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++)
                    a[i] = w0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_load_ps(k[i], lane + 16 * i);
                for (unsigned q = 0; q < count[l]; q++) {
                    size_t j = w0 + rows[l][q];
                    const __m512 wj = _mm512_set1_ps(w[j]);
                    const float *row = v + j * ldv + c0;
                    _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++)
                        a[i] = _mm512_fmadd_ps(wj, _mm512_maskz_loadu_ps(k[i], row + 16 * i), a[i]);
                }
                _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++)
                    _mm512_mask_store_ps(lane + 16 * i, k[i], a[i]);
            }
        }
        for (size_t c = 0; c < m; c += 16) {
            __mmask16 k = wsum16_cols(m, c);
            for (unsigned l = 0; l < 16; l++) {
                float *lane = lanes + l * ld + c;
                if (!(subnormal >> l & 1))
                    continue;
                __m512 acc = w0 == 0 ? _mm512_setzero_ps() : _mm512_load_ps(lane);
                if (fixed >> l & 1) {
                    /* Every sum of the lane a multiple of 2^-149 below 2^-125,
                     * where floats are those multiples: in units of 2^-149 plus
                     * 1.5 * 2^52, each FMA in double rounds to the unit as the
                     * float FMA rounds (the sign of a zero aside: see above). */
                    const __m512d bias = _mm512_set1_pd(0x1.8p52), unit = _mm512_set1_pd(0x1p-149);
                    __m512d lo = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(acc)), _mm512_set1_pd(0x1p149), bias);
                    __m512d hi = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(acc, 1)), _mm512_set1_pd(0x1p149), bias);
                    for (unsigned q = 0; q < count[l]; q++) {
                        size_t j = w0 + rows[l][q];
                        __m512 x = _mm512_maskz_loadu_ps(k, v + j * ldv + c);
                        __m512d wj = _mm512_set1_pd(wd[rows[l][q]] * 0x1p149);
                        lo = _mm512_fmadd_pd(wj, _mm512_cvtps_pd(_mm512_castps512_ps256(x)), lo);
                        hi = _mm512_fmadd_pd(wj, _mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1)), hi);
                    }
                    acc = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(_mm512_mul_pd(_mm512_sub_pd(lo, bias), unit))),
                                             _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_sub_pd(hi, bias), unit)), 1);
                } else {
                    if (wsum16_lane_scaled(wd, ws, w0, rows[l], count[l], v, ldv, c, k, &acc)) {
                        _mm512_store_ps(lane, acc);
                        continue;
                    }
                    __m256 lo = _mm512_castps512_ps256(acc), hi = _mm512_extractf32x8_ps(acc, 1);
                    for (unsigned q = 0; q < count[l]; q++) {
                        size_t j = w0 + rows[l][q];
                        __m512 x = _mm512_maskz_loadu_ps(k, v + j * ldv + c);
                        __m512d wj = _mm512_set1_pd(wd[rows[l][q]]);
                        lo = wsum16_fma_exact(wj, _mm512_castps512_ps256(x), lo);
                        hi = wsum16_fma_exact(wj, _mm512_extractf32x8_ps(x, 1), hi);
                    }
                    acc = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
                }
                _mm512_store_ps(lane, acc);
            }
        }
        w0 += WSUM_SPARSE_WINDOW;
    } while (w0 < n);
    wsum16_lanes_out(lanes, ld, m, out);
    for (size_t i = 0; i < m; i++)
        if (out[i] == 0.0f)
            wl_wsum16_scalar(n, 1, w, v + i, ldv, out + i);
}

static void wsum16_dense(size_t n, size_t m, const float *w, const float *v, size_t ldv, float *out)
{
    float lanes[16 * 64] __attribute__((aligned(64)));

    for (size_t c0 = 0; c0 < m; c0 += 64) {
        __mmask16 k[4];
        for (int c = 0; c < 4; c++)
            k[c] = wsum16_cols(m, c0 + 16 * (size_t)c);
        for (size_t p = 0; p < 4; p++) {
            __m512 a[4][4];
            _Pragma("GCC unroll 4") for (int l = 0; l < 4; l++)
                _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++)
                    a[l][c] = _mm512_setzero_ps();
            for (size_t j0 = 0; j0 < n; j0 += 16)
                _Pragma("GCC unroll 4") for (int l = 0; l < 4; l++) {
                    size_t j = j0 + 4 * p + (size_t)l;
                    if (j >= n)
                        break;
                    __m512 wj = _mm512_set1_ps(w[j]);
                    const float *row = v + j * ldv + c0;
                    _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++)
                        a[l][c] = _mm512_fmadd_ps(wj, _mm512_maskz_loadu_ps(k[c], row + 16 * c), a[l][c]);
                }
            _Pragma("GCC unroll 4") for (int l = 0; l < 4; l++)
                _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++)
                    _mm512_store_ps(lanes + (4 * p + (size_t)l) * 64 + 16 * c, a[l][c]);
        }
        wsum16_lanes_out(lanes, 64, m - c0 < 64 ? m - c0 : 64, out + c0);
    }
}

/* Whether the N weights W are best summed by wsum16_sparse: most are 0,
 * or, unless FAST, some are subnormal (an FMA of the dense kernels with one
 * takes a microcode assist; the sparse kernel avoids them). */
static inline __attribute__((always_inline)) int wsum16_use_sparse(int fast, size_t n, size_t m, const float *w)
{
    size_t nz = 0;
    __mmask16 sub = 0;

    if (m > WSUM_SPARSE_M)
        return 0;
    for (size_t j0 = 0; j0 < n; j0 += 16) {
        __mmask16 live = wsum16_nonzero(w, n, j0);
        __m512i bits = _mm512_and_si512(_mm512_maskz_loadu_epi32(live, w + j0), _mm512_set1_epi32(0x7FFFFFFF));
        sub |= _mm512_mask_cmplt_epu32_mask(live, bits, _mm512_set1_epi32(0x00800000));
        nz += (size_t)__builtin_popcount(live);
    }
    return 2 * nz < n || (sub && !fast);
}

static inline __attribute__((always_inline)) void wsum16_any(int fast, size_t n, size_t m, const float *w,
                                                             const float *v, size_t ldv, float *out)
{
    if (wsum16_use_sparse(fast, n, m, w))
        wsum16_sparse(fast, n, m, w, v, ldv, out);
    else
        wsum16_dense(n, m, w, v, ldv, out);
}

/* wsum16 of HB (4..8) dense heads: 32 columns of one lane at a time in
 * 2 HB registers, each row of values read once for the HB heads (one
 * head at a time read them HB times, from L2: 0.3 FMAs a cycle).  The
 * rows of a lane are 16 apart, so the next ones are prefetched. */
#define WSUM_HEADS_PF 4   /* rows of a lane ahead */

static inline __attribute__((always_inline)) void wsum16_dense_heads(int hb, size_t n, size_t m,
                                                                     const float *const w[8], const float *v,
                                                                     size_t ldv, float *const out[8])
{
    float lanes[8][16 * 64] __attribute__((aligned(64)));

    for (size_t c0 = 0; c0 < m; c0 += 64) {
        const size_t mc = m - c0 < 64 ? m - c0 : 64;
        for (size_t cc = 0; cc < mc; cc += 32) {
            const __mmask16 k0 = wsum16_cols(mc, cc), k1 = wsum16_cols(mc, cc + 16);
            for (size_t l = 0; l < 16; l++) {
                __m512 a[8][2];
                _Pragma("GCC unroll 8") for (int h = 0; h < hb; h++)
                    a[h][0] = a[h][1] = _mm512_setzero_ps();
                for (size_t j = l; j < n; j += 16) {
                    const float *row = v + j * ldv + c0 + cc;
                    _mm_prefetch((const char *)(row + 16 * WSUM_HEADS_PF * ldv), _MM_HINT_T0);
                    _mm_prefetch((const char *)(row + 16 * WSUM_HEADS_PF * ldv + 16), _MM_HINT_T0);
                    const __m512 x0 = _mm512_maskz_loadu_ps(k0, row), x1 = _mm512_maskz_loadu_ps(k1, row + 16);
                    _Pragma("GCC unroll 8") for (int h = 0; h < hb; h++) {
                        const __m512 wj = _mm512_set1_ps(w[h][j]);
                        a[h][0] = _mm512_fmadd_ps(wj, x0, a[h][0]);
                        a[h][1] = _mm512_fmadd_ps(wj, x1, a[h][1]);
                    }
                }
                _Pragma("GCC unroll 8") for (int h = 0; h < hb; h++) {
                    _mm512_store_ps(&lanes[h][l * 64 + cc], a[h][0]);
                    _mm512_store_ps(&lanes[h][l * 64 + cc + 16], a[h][1]);
                }
            }
        }
        for (int h = 0; h < hb; h++)
            wsum16_lanes_out(lanes[h], 64, mc, out[h] + c0);
    }
}

/* The sparse heads one at a time, the dense ones 4 to 8 at a time (fewer,
 * one at a time: 2 accumulators a lane are too few to hide the FMAs'
 * latency). */
static inline __attribute__((always_inline)) void wsum16_heads_any(int fast, size_t n, size_t m, size_t nh,
                                                                   const float *w, size_t ldw, const float *v,
                                                                   size_t ldv, float *out, size_t ldo)
{
    const float *dw[8];
    float *dout[8];
    int hb = 0;

    for (size_t h = 0; h < nh; h++) {
        const float *wh = w + h * ldw;
        if (wsum16_use_sparse(fast, n, m, wh)) {
            wsum16_sparse(fast, n, m, wh, v, ldv, out + h * ldo);
        } else {
            dw[hb] = wh;
            dout[hb++] = out + h * ldo;
        }
        if (hb == 8 || (hb > 0 && h + 1 == nh)) {
            switch (hb) {
            case 4: wsum16_dense_heads(4, n, m, dw, v, ldv, dout); break;
            case 5: wsum16_dense_heads(5, n, m, dw, v, ldv, dout); break;
            case 6: wsum16_dense_heads(6, n, m, dw, v, ldv, dout); break;
            case 7: wsum16_dense_heads(7, n, m, dw, v, ldv, dout); break;
            case 8: wsum16_dense_heads(8, n, m, dw, v, ldv, dout); break;
            default:
                for (int i = 0; i < hb; i++)
                    wsum16_dense(n, m, dw[i], v, ldv, dout[i]);
            }
            hb = 0;
        }
    }
}

static void wsum16(size_t n, size_t m, const float *w, const float *v, size_t ldv, float *out)
{
    wsum16_any(0, n, m, w, v, ldv, out);
}

static void wsum16_heads(size_t n, size_t m, size_t nh, const float *w, size_t ldw, const float *v, size_t ldv,
                         float *out, size_t ldo)
{
    wsum16_heads_any(0, n, m, nh, w, ldw, v, ldv, out, ldo);
}

static void wsum16_fast(size_t n, size_t m, const float *w, const float *v, size_t ldv, float *out)
{
    wsum16_any(1, n, m, w, v, ldv, out);
}

static void wsum16_heads_fast(size_t n, size_t m, size_t nh, const float *w, size_t ldw, const float *v,
                              size_t ldv, float *out, size_t ldo)
{
    wsum16_heads_any(1, n, m, nh, w, ldw, v, ldv, out, ldo);
}

void wl_kernels_avx512_subnormals(wl_kernels *k, int fast)
{
    k->wsum16 = fast ? wsum16_fast : wsum16;
    k->wsum16_heads = fast ? wsum16_heads_fast : wsum16_heads;
}

/* ---- F32 and F16 weights times float activations, tiled ------------------
 *
 * Up to 4 rows times up to 4 tokens in 16 accumulators, each output's the
 * vec_dot's own chain (one 16-lane FMA accumulator, then
 * _mm512_reduce_add_ps), so every output has the vec_dot's bits: a row's
 * vector is loaded once for 4 tokens, a token's for 4 rows, and a single
 * token's rows no longer wait on one FMA latency each.  Fewer than
 * FT_KTOK tokens take whole rows a tile: each row is prefetched FT_PF
 * bytes ahead into L1, and the next tile's rows in address order into L2
 * (one stream the L2 streamer follows: one token 6.8 -> 7.1 t/s on the
 * TinyLlama shape), on the CPUs that gain from it (float_gemm's PF).
 * More tokens go in blocks of FT_BLOCK and the columns in chunks
 * (float_chunked).
 * Rows of n % 16 != 0 take the vec_dot (its tail differs per type). */
#define FT_BLOCK 32
#define FT_PF 1024  /* bytes of each row prefetched ahead (one token: 5.7 -> 6.7 t/s) */
/* Every loop of the tile unrolled, so that its 16 accumulators stay in
 * registers: GCC 12 at -O2 kept them in memory, a load and a store for
 * each FMA. */
#define FT_UNROLL _Pragma("GCC unroll 16")

static inline __m512 wrow16(int half, const void *w, size_t i)
{
    return half ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)w + i)))
                : _mm512_loadu_ps((const float *)w + i);
}

/* Columns K0..K1 of an RT x TT tile.  KEEP holds the tile's accumulators
 * between chunks of columns ([r][t] in 4 x 4), FIRST starts them at 0,
 * LAST adds their lanes into OUT; the FMAs of each output are the
 * vec_dot's, in its order, whatever the chunks.  PF: the prefetches of a
 * tile that takes whole rows (one token, few tokens). */
static inline __attribute__((always_inline)) void float_tile(int half, int RT, int TT, int pf, size_t k0, size_t k1,
                                                             const uint8_t *w, size_t w_stride, const uint8_t *a,
                                                             size_t a_stride, __m512 *keep, int first, int last,
                                                             float *out, size_t ldo)
{
    __m512 acc[4][4];

    FT_UNROLL for (int r = 0; r < RT; r++)
        FT_UNROLL for (int t = 0; t < TT; t++)
            acc[r][t] = first ? _mm512_setzero_ps() : keep[4 * r + t];
    for (size_t i = k0; i < k1; i += 16) {
        __m512 wv[4], av[4];
        const size_t step = (size_t)RT << (6 - half);   /* bytes of the RT rows a step */
        if (pf)
            FT_UNROLL for (size_t k = 0; k < step; k += 64)
                _mm_prefetch((const char *)w + (size_t)RT * w_stride + (i >> 4) * step + k, _MM_HINT_T1);
        FT_UNROLL for (int r = 0; r < RT; r++) {
            if (pf)
                _mm_prefetch((const char *)w + (size_t)r * w_stride + (i << (2 - half)) + FT_PF, _MM_HINT_T0);
            wv[r] = wrow16(half, w + (size_t)r * w_stride, i);
        }
        FT_UNROLL for (int t = 0; t < TT; t++)
            av[t] = _mm512_loadu_ps((const float *)(a + (size_t)t * a_stride) + i);
        FT_UNROLL for (int r = 0; r < RT; r++)
            FT_UNROLL for (int t = 0; t < TT; t++)
                acc[r][t] = _mm512_fmadd_ps(wv[r], av[t], acc[r][t]);
    }
    FT_UNROLL for (int r = 0; r < RT; r++)
        FT_UNROLL for (int t = 0; t < TT; t++) {
            if (last)
                out[(size_t)t * ldo + (size_t)r] = _mm512_reduce_add_ps(acc[r][t]);
            else
                keep[4 * r + t] = acc[r][t];
        }
}

#define FT_CASES(CASE)                                                          \
    switch (rt * 4 + tt - 5) {                                                  \
    case 0: CASE(1, 1); break;  case 1: CASE(1, 2); break;                      \
    case 2: CASE(1, 3); break;  case 3: CASE(1, 4); break;                      \
    case 4: CASE(2, 1); break;  case 5: CASE(2, 2); break;                      \
    case 6: CASE(2, 3); break;  case 7: CASE(2, 4); break;                      \
    case 8: CASE(3, 1); break;  case 9: CASE(3, 2); break;                      \
    case 10: CASE(3, 3); break; case 11: CASE(3, 4); break;                     \
    case 12: CASE(4, 1); break; case 13: CASE(4, 2); break;                     \
    case 14: CASE(4, 3); break; default: CASE(4, 4); break;                     \
    }

/* Many tokens: FT_ROWS rows times FT_BLOCK tokens at a time, their
 * columns in chunks of FT_KC, so that a chunk of the tokens' activations
 * (32 KB) stays in L1 for all the rows and a chunk of 4 rows' weights for
 * all the tokens; the tiles' accumulators wait in KEEP between chunks
 * (64 KB).  Each row quad's next chunk is prefetched while its tiles run.
 * F32 TinyLlama-shaped pp512 on a 2-core Zen 5: whole rows a tile (4 rows
 * and 4 tokens of 2048 floats, 64 KB, more than L1) 73-82 t/s, in chunks
 * 106-119 (runs in turn); chunks of 256 and 1024 columns, blocks of 64
 * tokens and activation rows padded off 4 KB strides measured no faster,
 * 128 columns slower.  Two threads reach about half the FMA peak. */
#define FT_ROWS 32
#define FT_KC 512
#define FT_KTOK 8   /* tokens from which the columns go in chunks */

static void float_chunked(int half, size_t n, const uint8_t *W, size_t w_stride, size_t nr, const uint8_t *A,
                          size_t a_stride, size_t n_tok, float *out, size_t ldo)
{
    __m512 keep[FT_ROWS / 4][FT_BLOCK / 4][16] __attribute__((aligned(64)));
    const size_t rb = (size_t)FT_KC << (2 - half);   /* bytes of a row's chunk */

    for (size_t t0 = 0; t0 < n_tok; t0 += FT_BLOCK) {
        const size_t t1 = n_tok - t0 < FT_BLOCK ? n_tok : t0 + FT_BLOCK;
        for (size_t r0 = 0; r0 < nr; r0 += FT_ROWS) {
            const size_t r1 = nr - r0 < FT_ROWS ? nr : r0 + FT_ROWS;
            for (size_t k0 = 0; k0 < n; k0 += FT_KC) {
                const size_t k1 = n - k0 < FT_KC ? n : k0 + FT_KC;
                const int first = k0 == 0, last = k1 == n;
                for (size_t r = r0; r < r1; r += 4) {
                    const int rt = r1 - r < 4 ? (int)(r1 - r) : 4;
                    /* The next row quad's chunk, or the first of the next chunk. */
                    const size_t nrow = r + 4 < r1 ? r + 4 : r0, nk = r + 4 < r1 ? k0 : k1;
                    if (nk < n)
                        for (size_t q = nrow; q < nrow + 4 && q < r1; q++)
                            for (size_t b = 0; b < rb; b += 64)
                                _mm_prefetch((const char *)W + q * w_stride + (nk << (2 - half)) + b, _MM_HINT_T0);
                    for (size_t t = t0; t < t1; t += 4) {
                        const int tt = t1 - t < 4 ? (int)(t1 - t) : 4;
                        __m512 *kp = keep[(r - r0) / 4][(t - t0) / 4];
                        const uint8_t *wr = W + r * w_stride, *at = A + t * a_stride;
                        float *o = out + t * ldo + r;
#define FT_CHUNK(R, T) float_tile(half, R, T, 0, k0, k1, wr, w_stride, at, a_stride, kp, first, last, o, ldo)
                        FT_CASES(FT_CHUNK)
#undef FT_CHUNK
                    }
                }
            }
        }
    }
}

/* PF: the one-token tiles' software prefetches (wl_cpu_prefetch_float_rows). */
static inline __attribute__((always_inline)) void float_gemm(int half, int pf, size_t n, const void *w,
                                                             size_t w_stride, size_t nr, const void *a,
                                                             size_t a_stride, size_t n_tok, float *out, size_t ldo)
{
    const uint8_t *W = w, *A = a;

    if (n % 16) {
        float (*dot)(size_t, const void *, const void *) = half ? f16_vec_dot : f32_vec_dot;
        for (size_t t = 0; t < n_tok; t++)
            for (size_t r = 0; r < nr; r++)
                out[t * ldo + r] = dot(n, W + r * w_stride, A + t * a_stride);
        return;
    }
    if (n_tok >= FT_KTOK) {
        float_chunked(half, n, W, w_stride, nr, A, a_stride, n_tok, out, ldo);
        return;
    }
    for (size_t r = 0; r < nr; r += 4) {
        const int rt = nr - r < 4 ? (int)(nr - r) : 4;
        for (size_t t = 0; t < n_tok; t += 4) {
            const int tt = n_tok - t < 4 ? (int)(n_tok - t) : 4;
            const uint8_t *wr = W + r * w_stride, *at = A + t * a_stride;
            float *o = out + t * ldo + r;
#define FT_ROW(R, T) float_tile(half, R, T, pf, 0, n, wr, w_stride, at, a_stride, NULL, 1, 1, o, ldo)
            FT_CASES(FT_ROW)
#undef FT_ROW
        }
    }
}

#define FLOAT_GEMM(name, half, pf)                                                                            \
    static void name(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,      \
                     const void *aux, size_t n_tok, float *out, size_t ldo)                                    \
    {                                                                                                          \
        (void)aux;                                                                                             \
        float_gemm(half, pf, n, w, w_stride, nr, a, a_stride, n_tok, out, ldo);                                \
    }
FLOAT_GEMM(f32_gemm, 0, 1)
FLOAT_GEMM(f16_gemm, 1, 1)
FLOAT_GEMM(f32_gemm_hw, 0, 0)   /* the hardware's prefetchers only */
FLOAT_GEMM(f16_gemm_hw, 1, 0)
#undef FLOAT_GEMM

void wl_kernels_avx512_float_prefetch(wl_kernels *k, int pf)
{
    k->type[WOOLLY_TYPE_F32].gemm = pf ? f32_gemm : f32_gemm_hw;
    k->type[WOOLLY_TYPE_F16].gemm = pf ? f16_gemm : f16_gemm_hw;
}

void wl_kernels_init_avx512(wl_kernels *k)
{
    xq_init(k);
    k->type[WOOLLY_TYPE_F32].vec_dot = f32_vec_dot;
    k->type[WOOLLY_TYPE_F16].vec_dot = f16_vec_dot;
    k->type[WOOLLY_TYPE_BF16].vec_dot = bf16_vec_dot;
    k->dot_f32 = dot_f32;
    k->dot_i8 = dot_i8;
    k->dot_f32_ggml = dot_f32_ggml;
    k->qk_scores = qk_scores;
    k->softmax_exp = softmax_exp;
    k->silu = silu;
    k->scale = scale;
    k->rope = rope;
    wl_kernels_avx512_subnormals(k, wl_cpu_fast_subnormals());
    wl_kernels_avx512_float_prefetch(k, wl_cpu_prefetch_float_rows());
}
