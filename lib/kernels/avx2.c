/* avx2.c - kernels for AVX2 + FMA (built with AVX2_CFLAGS). */
#include <config.h>

#include <immintrin.h>

#include "fp16.h"
#include "kernels/kernels.h"
#include "kernels/x86-quant.h"

static float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float dot_f32(size_t n, const float *x, const float *y)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t i = 0;
    float sum;

    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    sum = hsum256(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++)
        sum += x[i] * y[i];
    return sum;
}

static int32_t hsum256_epi32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* Signed x signed bytes, widened to 16 bits so that every input (-128
 * included) stays exact; madd_epi16 sums pairs into int32. */
static int32_t dot_i8(size_t n, const int8_t *x, const int8_t *y)
{
    __m256i acc = _mm256_setzero_si256();
    size_t i = 0;
    int32_t sum;

    for (; i + 32 <= n; i += 32) {
        __m256i vx = _mm256_loadu_si256((const __m256i *)(x + i));
        __m256i vy = _mm256_loadu_si256((const __m256i *)(y + i));
        /* Widen to 16 bits to stay exact for every input, -128 included. */
        __m256i xl = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(vx));
        __m256i xh = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(vx, 1));
        __m256i yl = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(vy));
        __m256i yh = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(vy, 1));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xl, yl));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xh, yh));
    }
    sum = hsum256_epi32(acc);
    for (; i < n; i++)
        sum += (int32_t)x[i] * (int32_t)y[i];
    return sum;
}

/* ---- llama.cpp's orders (scalar.c defines them), 16 lanes as two halves:
 * lo holds lanes 0-7, hi lanes 8-15, and hsum256(lo + hi) is wl_hsum16. */

static float dot_f32_ggml(size_t n, const float *x, const float *y)
{
    __m256 lo[4], hi[4];
    size_t np = n & ~(size_t)63, i;
    float sum;

    for (int a = 0; a < 4; a++)
        lo[a] = hi[a] = _mm256_setzero_ps();
    for (i = 0; i < np; i += 64)
        for (int a = 0; a < 4; a++) {
            lo[a] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16 * a), _mm256_loadu_ps(y + i + 16 * a), lo[a]);
            hi[a] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16 * a + 8),
                                    _mm256_loadu_ps(y + i + 16 * a + 8), hi[a]);
        }
    lo[0] = _mm256_add_ps(_mm256_add_ps(lo[0], lo[2]), _mm256_add_ps(lo[1], lo[3]));
    hi[0] = _mm256_add_ps(_mm256_add_ps(hi[0], hi[2]), _mm256_add_ps(hi[1], hi[3]));
    sum = hsum256(_mm256_add_ps(lo[0], hi[0]));
    for (; i < n; i++) {
        float p = x[i] * y[i];
        sum += p;
    }
    return sum;
}

/* dot_f32_ggml's accumulators of one key (HD a multiple of 64), combined
 * up to the first step of wl_hsum16: lane i holds a[i] + a[i+8]. */
static inline __m256 qk_lanes(size_t hd, const float *q, const float *k)
{
    __m256 lo[4], hi[4];

    _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++)
        lo[a] = hi[a] = _mm256_setzero_ps();
    for (size_t i = 0; i < hd; i += 64)
        _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++) {
            lo[a] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16 * a), _mm256_loadu_ps(k + i + 16 * a), lo[a]);
            hi[a] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16 * a + 8), _mm256_loadu_ps(k + i + 16 * a + 8), hi[a]);
        }
    __m256 l = _mm256_add_ps(_mm256_add_ps(lo[0], lo[2]), _mm256_add_ps(lo[1], lo[3]));
    __m256 h = _mm256_add_ps(_mm256_add_ps(hi[0], hi[2]), _mm256_add_ps(hi[1], hi[3]));
    return _mm256_add_ps(l, h);
}

/* qk_scores 8 keys at a time (head sizes of whole 64s): the rest of
 * wl_hsum16 (i + i+4, then 0+2 and 1+3, then the two) for 8 keys at once
 * by shuffles, keys paired (p, p+4) so that they come out in order. */
#define QK_PF 8     /* blocks of 8 keys ahead */

static void qk_scores(size_t n, size_t hd, size_t nq, const float *q, size_t ldq, const float *k, size_t ldk,
                      float scale, float *out, size_t ldo)
{
    const __m256 vs = _mm256_set1_ps(scale);

    if (hd % 64) {
        for (size_t h = 0; h < nq; h++)
            for (size_t j = 0; j < n; j++)
                out[h * ldo + j] = dot_f32_ggml(hd, q + h * ldq, k + j * ldk) * scale;
        return;
    }
    /* 8 keys (in L1 after the first query) against every query of the
     * group; the keys QK_PF blocks ahead are prefetched, a share with
     * each query. */
    for (size_t j0 = 0; j0 < n; j0 += 8)
        for (size_t h = 0; h < nq; h++) {
            const float *qh = q + h * ldq;
            const size_t nk = n - j0 < 8 ? n - j0 : 8;
            wl_prefetch_keys(k, ldk, hd, j0 + QK_PF * 8, 8, h, nq, n);
            __m256 T[8], U[4], V[2];
            _Pragma("GCC unroll 8") for (size_t p = 0; p < 8; p++)
                T[p] = qk_lanes(hd, qh, k + (j0 + (p < nk ? p : 0)) * ldk);
            _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++)
                U[i] = _mm256_add_ps(_mm256_permute2f128_ps(T[i], T[i + 4], 0x20),
                                     _mm256_permute2f128_ps(T[i], T[i + 4], 0x31));
            _Pragma("GCC unroll 2") for (int i = 0; i < 2; i++)
                V[i] = _mm256_add_ps(_mm256_shuffle_ps(U[2 * i], U[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm256_shuffle_ps(U[2 * i], U[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
            __m256 D = _mm256_add_ps(_mm256_shuffle_ps(V[0], V[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                     _mm256_shuffle_ps(V[0], V[1], _MM_SHUFFLE(3, 1, 3, 1)));
            D = _mm256_mul_ps(D, vs);
            if (nk == 8) {
                _mm256_storeu_ps(out + h * ldo + j0, D);
            } else {
                float t[8];
                _mm256_storeu_ps(t, D);
                memcpy(out + h * ldo + j0, t, nk * sizeof *t);
            }
        }
}

static float f32_vec_dot(size_t n, const void *w, const void *a)
{
    const float *x = w, *y = a;
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();

    if (n % 16)
        return dot_f32_ggml(n, x, y);
    for (size_t i = 0; i < n; i += 16) {
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), hi);
    }
    return hsum256(_mm256_add_ps(lo, hi));
}

/* 8 lanes of vdpbf16ps on the 16 bfloat16 values at X and Y (exact
 * products: see scalar.c). */
static __m256 bf16_pairs(__m256 acc, const uint16_t *x, const uint16_t *y)
{
    const __m256i mask = _mm256_set1_epi32((int)0xFFFF0000u);
    __m256i vx = _mm256_loadu_si256((const __m256i *)x), vy = _mm256_loadu_si256((const __m256i *)y);
    __m256 p1 = _mm256_mul_ps(_mm256_castsi256_ps(_mm256_and_si256(vx, mask)),
                              _mm256_castsi256_ps(_mm256_and_si256(vy, mask)));
    __m256 p0 = _mm256_mul_ps(_mm256_castsi256_ps(_mm256_slli_epi32(vx, 16)),
                              _mm256_castsi256_ps(_mm256_slli_epi32(vy, 16)));

    acc = _mm256_add_ps(acc, p1);
    return _mm256_add_ps(acc, p0);
}

static float bf16_vec_dot(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w, *y = a;
    __m256 lo1 = _mm256_setzero_ps(), hi1 = _mm256_setzero_ps();
    __m256 lo2 = _mm256_setzero_ps(), hi2 = _mm256_setzero_ps();
    double sum = 0.0;
    size_t i = 0;

    if (n % 32 == 0) {
        for (; i < n; i += 32) {
            lo1 = bf16_pairs(lo1, x + i, y + i);
            hi1 = bf16_pairs(hi1, x + i + 16, y + i + 16);
        }
        return hsum256(_mm256_add_ps(lo1, hi1));
    }
    for (; i + 64 <= n; i += 64) {
        lo1 = bf16_pairs(lo1, x + i, y + i);
        hi1 = bf16_pairs(hi1, x + i + 16, y + i + 16);
        lo2 = bf16_pairs(lo2, x + i + 32, y + i + 32);
        hi2 = bf16_pairs(hi2, x + i + 48, y + i + 48);
    }
    sum += (double)hsum256(_mm256_add_ps(lo1, hi1));
    sum += (double)hsum256(_mm256_add_ps(lo2, hi2));
    for (; i < n; i++)
        sum += (double)(wl_bf16_to_f32(x[i]) * wl_bf16_to_f32(y[i]));
    return (float)sum;
}

/* wl_ggml_expf on 8 lanes; vscalefps is two exact-then-rounding
 * multiplications by powers of two. */
static __m256 v_expf(__m256 x)
{
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    __m256 n = _mm256_sub_ps(z, r);
    __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    __m256 u = _mm256_mul_ps(b, b);
    __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_cvttps_epi32(n);
    __m256i e1 = _mm256_srai_epi32(_mm256_sub_epi32(e, _mm256_srai_epi32(e, 31)), 1);
    __m256i e2 = _mm256_sub_epi32(e, e1);
    __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e2, bias), 23));
    __m256 res = _mm256_mul_ps(_mm256_mul_ps(j, s1), s2);
    __m256 absn = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
    __m256 big = _mm256_cmp_ps(absn, _mm256_set1_ps(192.0f), _CMP_GT_OQ);
    __m256 nan = _mm256_cmp_ps(n, n, _CMP_UNORD_Q);

    if (!_mm256_movemask_ps(_mm256_or_ps(big, nan)))
        return res;
    __m256 alt = _mm256_blendv_ps(_mm256_set1_ps(INFINITY), _mm256_setzero_ps(),
                                  _mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ));
    res = _mm256_blendv_ps(res, alt, big);
    return _mm256_blendv_ps(res, n, nan);
}

static double softmax_exp(size_t n, float *y, const float *x, float max)
{
    const __m256 vmax = _mm256_set1_ps(max);
    double sum = 0.0;
    size_t i = 0;

    for (; i + 16 <= n; i += 16) {
        __m256 lo = v_expf(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax));
        __m256 hi = v_expf(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vmax));
        _mm256_storeu_ps(y + i, lo);
        _mm256_storeu_ps(y + i + 8, hi);
        sum += (double)hsum256(_mm256_add_ps(lo, hi));
    }
    if (i < n) {
        float e[16] = { 0 };
        for (size_t j = i; j < n; j++) {
            float d = x[j] - max;
            y[j] = e[j - i] = wl_ggml_expf(d);
        }
        sum += (double)wl_hsum16(e);
    }
    return sum;
}

/* wl_scale_scalar 8 floats at a time, through double as it is. */
static void scale(size_t n, float *x, float f)
{
    const __m256d d = _mm256_set1_pd(f);
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), d));
        const __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), d));
        _mm256_storeu_ps(x + i, _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1));
    }
    wl_scale_scalar(n - i, x + i, f);
}

static void silu(size_t n, float *y, const float *x)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t nv = n & ~(size_t)15, i;

    for (i = 0; i < nv; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 e = v_expf(_mm256_sub_ps(_mm256_setzero_ps(), v));
        _mm256_storeu_ps(y + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
    }
    for (; i < n; i++)
        y[i] = x[i] / (1.0f + expf(-x[i]));
}

/* RoPE 4 pairs at a time, as avx512.c's rope. */
static void rope(size_t nh, size_t hd, size_t n_rot, int adjacent, float *x, const float *cs)
{
    const size_t half = n_rot / 2;

    if (adjacent ? n_rot % 8 : half % 8) {
        wl_rope_scalar(nh, hd, n_rot, adjacent, x, cs);
        return;
    }
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    const __m256 sign_even = _mm256_castsi256_ps(_mm256_setr_epi32((int)0x80000000u, 0, (int)0x80000000u, 0,
                                                                   (int)0x80000000u, 0, (int)0x80000000u, 0));
    for (size_t h = 0; h < nh; h++, x += hd) {
        if (adjacent) {
            for (size_t i = 0; i < n_rot; i += 8) {
                __m256 v = _mm256_loadu_ps(x + i), m1 = _mm256_loadu_ps(cs + i);
                __m256 m2 = _mm256_xor_ps(_mm256_permute_ps(m1, 0xB1), sign_even);   /* (-s, c) */
                _mm256_storeu_ps(x + i, _mm256_fmadd_ps(_mm256_moveldup_ps(v), m1,
                                                        _mm256_mul_ps(_mm256_movehdup_ps(v), m2)));
            }
        } else {
            for (size_t i = 0; i < half; i += 8) {
                __m256 c0 = _mm256_loadu_ps(cs + 2 * i), c1 = _mm256_loadu_ps(cs + 2 * i + 8);
                __m256 c = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(c0, c1, 0x88)), 0xD8));
                __m256 s = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(c0, c1, 0xDD)), 0xD8));
                __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + half);
                _mm256_storeu_ps(x + i, _mm256_fmadd_ps(x0, c, _mm256_xor_ps(_mm256_mul_ps(x1, s), sign)));
                _mm256_storeu_ps(x + i + half, _mm256_fmadd_ps(x0, s, _mm256_mul_ps(x1, c)));
            }
        }
    }
}

/* wsum16 a column of 8 at a time: lanes 0-7 (rows j % 16 < 8) in one
 * pass and 8-15 in another, each in registers, then added in wl_hsum16's
 * pairs (lane l += lane l + h); columns past the last 8 as scalar.c. */
#define WSUM_LANE(l, o) a[l] = _mm256_fmadd_ps(_mm256_set1_ps(w[j + (o) + l]), _mm256_loadu_ps(v + (j + (o) + l) * ldv + c), a[l])

static void wsum16_half(size_t n, const float *w, const float *v, size_t ldv, size_t c, size_t o, __m256 a[8])
{
    size_t j = 0;

    for (int l = 0; l < 8; l++)
        a[l] = _mm256_setzero_ps();
    for (; j + 16 <= n; j += 16) {
        WSUM_LANE(0, o); WSUM_LANE(1, o); WSUM_LANE(2, o); WSUM_LANE(3, o);
        WSUM_LANE(4, o); WSUM_LANE(5, o); WSUM_LANE(6, o); WSUM_LANE(7, o);
    }
    _Pragma("GCC unroll 8") for (int l = 0; l < 8; l++)
        if (j + o + (size_t)l < n)
            WSUM_LANE(l, o);
}

/* Sparse wsum16 (most weights exactly 0, as a peaked softmax gives them),
 * as avx512.c's: the lanes in memory, only the rows of nonzero weight
 * added, the lanes then added in wl_hsum16's pairs; a column whose sum is
 * zero is computed again in full (fma(0, v, -0) would be +0). */
#define WSUM_SPARSE_M 256

/* 8 columns of 16 lanes (lane l at P + l * LD) added in wl_hsum16's pairs
 * (lane l += lane l + h, h = 8, 4, 2, 1). */
static inline __m256 wsum16_lanes8(const float *p, size_t ld)
{
    __m256 a[16];

    for (int l = 0; l < 16; l++)
        a[l] = _mm256_loadu_ps(p + l * ld);
    for (int h = 8; h >= 1; h /= 2)
        _Pragma("GCC unroll 8") for (int l = 0; l < h; l++)
            a[l] = _mm256_add_ps(a[l], a[l + h]);
    return a[0];
}

static void wsum16_sparse(size_t n, size_t m, const float *w, const float *v, size_t ldv, float *out)
{
    float lanes[16 * WSUM_SPARSE_M] __attribute__((aligned(32)));
    const size_t m8 = m & ~(size_t)7;

    memset(lanes, 0, 16 * m * sizeof *lanes);
    for (size_t j = 0; j < n; j++) {
        if (w[j] == 0.0f)
            continue;
        float *lane = lanes + j % 16 * m;
        const float *row = v + j * ldv;
        const __m256 wj = _mm256_set1_ps(w[j]);
        for (size_t c = 0; c < m8; c += 8)
            _mm256_storeu_ps(lane + c, _mm256_fmadd_ps(wj, _mm256_loadu_ps(row + c), _mm256_loadu_ps(lane + c)));
        for (size_t c = m8; c < m; c++)
            lane[c] = fmaf(w[j], row[c], lane[c]);
    }
    for (size_t c = 0; c < m8; c += 8)
        _mm256_storeu_ps(out + c, wsum16_lanes8(lanes + c, m));
    for (size_t c = m8; c < m; c++) {
        float a[16];
        for (int l = 0; l < 16; l++)
            a[l] = lanes[l * m + c];
        out[c] = wl_hsum16(a);
    }
    for (size_t i = 0; i < m; i++)
        if (out[i] == 0.0f)
            wl_wsum16_scalar(n, 1, w, v + i, ldv, out + i);
}

static void wsum16(size_t n, size_t m, const float *w, const float *v, size_t ldv, float *out)
{
    size_t c = 0, nz = 0;

    for (size_t j = 0; j < n; j++)
        nz += w[j] != 0.0f;
    if (m <= WSUM_SPARSE_M && 2 * nz < n) {
        wsum16_sparse(n, m, w, v, ldv, out);
        return;
    }
    /* 32 columns at a time, lanes 2p and 2p+1 a pass in 8 registers, so
     * that each weight is broadcast once for 32 columns. */
    for (; c + 32 <= m; c += 32) {
        float lanes[16][32] __attribute__((aligned(32)));
        for (size_t p = 0; p < 8; p++) {
            __m256 a[2][4];
            for (int l = 0; l < 2; l++)
                for (int q = 0; q < 4; q++)
                    a[l][q] = _mm256_setzero_ps();
            for (size_t j0 = 0; j0 < n; j0 += 16)
                _Pragma("GCC unroll 2") for (int l = 0; l < 2; l++) {
                    size_t j = j0 + 2 * p + (size_t)l;
                    if (j >= n)
                        break;
                    const __m256 wj = _mm256_set1_ps(w[j]);
                    const float *row = v + j * ldv + c;
                    _Pragma("GCC unroll 4") for (int q = 0; q < 4; q++)
                        a[l][q] = _mm256_fmadd_ps(wj, _mm256_loadu_ps(row + 8 * q), a[l][q]);
                }
            for (int l = 0; l < 2; l++)
                for (int q = 0; q < 4; q++)
                    _mm256_store_ps(&lanes[2 * p + (size_t)l][8 * q], a[l][q]);
        }
        for (int q = 0; q < 4; q++)
            _mm256_storeu_ps(out + c + 8 * q, wsum16_lanes8(&lanes[0][8 * q], 32));
    }
    for (; c + 8 <= m; c += 8) {
        __m256 a[8], b[8];
        wsum16_half(n, w, v, ldv, c, 0, a);
        wsum16_half(n, w, v, ldv, c, 8, b);
        for (int l = 0; l < 8; l++)
            a[l] = _mm256_add_ps(a[l], b[l]);
        for (int h = 4; h >= 1; h /= 2)
            for (int l = 0; l < h; l++)
                a[l] = _mm256_add_ps(a[l], a[l + h]);
        _mm256_storeu_ps(out + c, a[0]);
    }
    if (c < m)
        wl_wsum16_scalar(n, m - c, w, v + c, ldv, out + c);
}

/* Half weights times float activations (scalar.c: 16 lanes as two halves). */
static float f16_vec_dot(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w;
    const float *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t i = 0;
    float sum;

    for (; i + 16 <= n; i += 16) {
        __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i)));
        __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 8)));
        acc0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(y + i + 8), acc1);
    }
    sum = hsum256(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) {
        float p = _cvtsh_ss(x[i]) * y[i];
        sum += p;
    }
    return sum;
}

/* ---- Q4_0 and Q8_0 weights times Q8_0 activations ---------------------------
 *
 * One token goes through strips of 8 weight rows, each row's block dotted
 * in its own layout and the 8 rows' sums moved into the lanes of a ymm;
 * more tokens through panels (below).  The integer sums are exact; each
 * lane's float chain, block after block, is the vec_dot's
 * (fma(sum, dw*da, acc)), so every output has its bits. */

#define AR 8         /* rows per strip: a ymm lane each */
#define AT 32        /* tokens per tile */
#define AKC 16       /* blocks of 32 per chunk */
#define UNROLL _Pragma("GCC unroll 8")

static inline __m256i bcast32(const void *p)
{
    int32_t v;

    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* The f16 scales of NR rows (the rest 0) as 8 floats. */
static inline __m256 row_scales(const uint16_t dh[AR])
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)dh));
}

/* One token: while a strip is dotted, the next one (8 rows of W_STRIDE
 * bytes after W, contiguous) is prefetched into L2 in address order, an
 * equal share of its lines at each of the NB blocks: one sequential stream
 * that the L2 streamer runs ahead of, where the strip's own 8 interleaved
 * short rows are not followed.  (Prefetching each row's next bytes into
 * L1 as well was slower on Zen 3.) */
typedef struct {
    const char *next, *end;
    size_t per_block;
} next_strip;

static inline next_strip next_strip_start(const uint8_t *w, size_t w_stride, size_t nb)
{
    next_strip s = { (const char *)w + AR * w_stride, (const char *)w + 2 * AR * w_stride,
                     (AR * w_stride / 64 + nb - 1) / nb };
    return s;
}

static inline void next_strip_step(next_strip *s)
{
    for (size_t i = 0; i < s->per_block && s->next < s->end; i++, s->next += 64)
        _mm_prefetch(s->next, _MM_HINT_T1);
}

/* One token, a strip of 8 rows (NR of them real): each row's block dotted
 * in its own layout, the 8 rows' sums a block turned into lanes, then the
 * lanes' float chain. */

static inline __attribute__((always_inline)) __m256 strip1_32(int q8, const uint8_t *w, size_t w_stride, size_t nr, size_t nb, const uint8_t *a,
                        const wl_q8_0_aux *aux)
{
    const size_t wbytes = q8 ? sizeof(wl_block_q8_0) : sizeof(wl_block_q4_0);
    const __m256i ones = _mm256_set1_epi16(1), low4 = _mm256_set1_epi8(0x0F);
    const uint8_t *rp[AR];
    __m256 acc = _mm256_setzero_ps();

    next_strip pf = next_strip_start(w, w_stride, nb);

    for (size_t r = 0; r < AR; r++)
        rp[r] = w + (r < nr ? r : 0) * w_stride;
    for (size_t b = 0; b < nb; b++) {
        const size_t off = b * wbytes;
        const __m256i av = xq_load(a + b * sizeof(wl_block_q8_0) + 2);
        const __m256i alo = _mm256_permute2x128_si256(av, av, 0x00), ahi = _mm256_permute2x128_si256(av, av, 0x11);
        next_strip_step(&pf);
        __m256i P[AR];
        __m128i dh = _mm_setzero_si128();
        UNROLL for (int r = 0; r < AR; r++) {
            const uint8_t *p = rp[r] + off;
            uint16_t d;
            memcpy(&d, p, 2);
            dh = _mm_insert_epi16(dh, d, r);
            if (q8) {
                const __m256i q = xq_load(p + 2);
                P[r] = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(q), _mm256_sign_epi8(av, q)), ones);
            } else if (r < 4) {
                /* Rows r and r + 4 in the two halves: low nibbles against
                 * the activation's first 16 quants, high against the last. */
                const __m256i v = _mm256_loadu2_m128i((const __m128i *)(rp[r + 4] + off + 2), (const __m128i *)(p + 2));
                const __m256i lo = _mm256_and_si256(v, low4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
                P[r] = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, alo), _mm256_maddubs_epi16(hi, ahi)),
                                         ones);
            }
        }
        __m256i isum;
        if (q8) {
            isum = xq_sums8(P);
        } else {
            /* Lane k: rows k (128-bit lane 0) and k + 4 (lane 1). */
            isum = _mm256_hadd_epi32(_mm256_hadd_epi32(P[0], P[1]), _mm256_hadd_epi32(P[2], P[3]));
        }
        if (!q8)
            isum = _mm256_add_epi32(isum, _mm256_set1_epi32(aux[b].corr / 16));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(_mm256_cvtph_ps(dh), _mm256_set1_ps(aux[b].d)),
                              acc);
    }
    return acc;
}

/* Store the first NR lanes of V at OUT. */
static inline void store_rows(float *out, __m256 v, size_t nr)
{
    if (nr >= AR) {
        _mm256_storeu_ps(out, v);
    } else {
        float t[AR];
        _mm256_storeu_ps(t, v);
        memcpy(out, t, nr * sizeof *out);
    }
}

static inline __m256 load_rows(const float *in, size_t nr)
{
    float t[AR] = { 0 };

    if (nr >= AR)
        return _mm256_loadu_ps(in);
    memcpy(t, in, nr * sizeof *in);
    return _mm256_loadu_ps(t);
}

/* While a chunk is dotted with every token, the next one (BYTES of each
 * of NR rows at W; past the row's end, the next strip's start) comes into
 * L2, so that unpacking it does not wait on memory. */
static inline void prefetch_chunk(const uint8_t *w, size_t w_stride, size_t nr, size_t bytes)
{
    for (size_t r = 0; r < nr; r++)
        for (size_t o = 0; o < bytes + 63; o += 64)
            _mm_prefetch((const char *)w + r * w_stride + o, _MM_HINT_T1);
}

static inline uint32_t load_u32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t pair16(int lo, int hi)
{
    return (uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16;
}

/* ---- Q4_0 and Q8_0 prompts: panels of 16 rows, 4 tokens a step ----------
 *
 * On Zen 3 the strips above wait on loads more than on multiplies: each
 * vpmaddubsw has a broadcast of its own.  In a panel the weights are read
 * from L1 (packed once a chunk) and a broadcast activation serves 16 rows,
 * a weight load 4 tokens.  Q4_0's weights are vpmaddubsw's signed operand
 * (q - 8) and the activations its unsigned one (a + 128, copied once a
 * tile): a pair (q-8)(a+128) is at most 2 * 8 * 255 = 4080 in magnitude and
 * a lane's 8 groups of a block 32640, exact in 16 bits, and
 * sum (q-8)a = sum (q-8)(a+128) - 128 sum (q-8), the second term the
 * panel's, a row and block.  Q8_0's weights and activations are pairs of
 * 16-bit values for vpmaddwd, exact in 32 bits.  Each lane's float chain is
 * then the vec_dot's, as in the strips. */

#define PR 16        /* rows per panel: two ymm of 8 */
#define PT 4         /* tokens per step */
#define PG 4         /* panels sharing a tile's activations */
#define AKK 2        /* K-quants: super-blocks per chunk */

typedef struct {
    /* q4_0: block b's group g at 8b + g, elements 4g..4g+3 as bytes q - 8;
     * q8_0 (AKC / 2 blocks): at 16b + g, elements 2g, 2g+1 as int16;
     * rows 0-7 and 8-15. */
    __m256i w[AKC * 8][2];
    __m256i c[AKC][2];    /* q4_0: 128 * sum (q - 8) of each row's block */
    __m256 d[AKC][2];
} panel;

typedef struct {
    uint8_t q[AT][AKC * 32]; /* q4_0, q4_k, q6_k: the quants + 128; q8_0: as int16 */
    float d[AT][AKC];
    int16_t bs[AT][AKK][16]; /* q4_k: the bsums */
} tile_acts;

/* GCC reassociates a chain of integer adds into a tree of all the
 * products, which spills them; an empty asm ends the chain where it is. */
#define KEEP(v) __asm__("" : "+x"(v))

static inline __attribute__((always_inline)) void pack_panel(panel *P, int q8, const uint8_t *w, size_t w_stride,
                                                             size_t nr, size_t nb)
{
    const __m256i eight = _mm256_set1_epi8(8), ones8 = _mm256_set1_epi8(1), ones = _mm256_set1_epi16(1);
    const size_t wbytes = q8 ? sizeof(wl_block_q8_0) : sizeof(wl_block_q4_0), ng = q8 ? 16 : 8;

    for (size_t b = 0; b < nb; b++)
        for (size_t h = 0; h < 2; h++) {
            uint32_t g[16][AR];
            uint16_t dh[AR] = { 0 };
            for (size_t r = 0; r < AR; r++) {
                /* Absent rows: weights 0. */
                uint8_t q[32];
                memset(q, q8 ? 0 : 0x88, sizeof q);
                const uint8_t *p = w + (h * AR + r) * w_stride + b * wbytes;
                if (h * AR + r < nr) {
                    memcpy(&dh[r], p, 2);
                    memcpy(q, p + 2, q8 ? 32 : 16);
                }
                for (size_t k = 0; k < ng; k++) {
                    if (q8) {
                        g[k][r] = pair16((int8_t)q[2 * k], (int8_t)q[2 * k + 1]);
                    } else {
                        const uint32_t v = load_u32(q + 4 * (k % 4));
                        g[k][r] = (k < 4 ? v : v >> 4) & 0x0F0F0F0Fu;
                    }
                }
            }
            __m256i sum = _mm256_setzero_si256();
            for (size_t k = 0; k < ng; k++) {
                const __m256i v = _mm256_loadu_si256((const __m256i *)g[k]);
                if (q8) {
                    P->w[16 * b + k][h] = v;
                } else {
                    sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(v, ones8));
                    P->w[8 * b + k][h] = _mm256_sub_epi8(v, eight);
                }
            }
            if (!q8)
                P->c[b][h] = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_madd_epi16(sum, ones), _mm256_set1_epi32(256)),
                                               7);
            P->d[b][h] = row_scales(dh);
        }
}

/* NT tokens' quants (Q4_0: + 128, Q8_0: as int16) and scales, NB blocks of
 * each from A; and the next tile's activations (NT_NEXT tokens of BYTES
 * from NEXT) into L2, which the tile's products leave time to bring from
 * L3. */
static inline __attribute__((always_inline)) void tile_acts_fill(tile_acts *A, int q8, const uint8_t *a,
                                                                 size_t a_stride, const wl_q8_0_aux *aux,
                                                                 size_t aux_stride, size_t nt, size_t nb,
                                                                 const uint8_t *next, size_t nt_next, size_t bytes)
{
    const __m256i x80 = _mm256_set1_epi8((char)0x80);

    for (size_t t = 0; t < nt; t++)
        for (size_t b = 0; b < nb; b++) {
            const uint8_t *q = a + t * a_stride + b * sizeof(wl_block_q8_0) + 2;
            if (q8) {
                _mm256_storeu_si256((__m256i *)(A->q[t] + 64 * b),
                                    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)q)));
                _mm256_storeu_si256((__m256i *)(A->q[t] + 64 * b + 32),
                                    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + 16))));
            } else {
                _mm256_storeu_si256((__m256i *)(A->q[t] + 32 * b), _mm256_xor_si256(xq_load(q), x80));
            }
            A->d[t][b] = aux[t * aux_stride + b].d;
        }
    for (size_t t = 0; t < nt_next; t++)
        for (size_t o = 0; o < bytes + 63; o += 64)
            _mm_prefetch((const char *)next + t * a_stride + o, _MM_HINT_T1);
}

/* Tokens T0..T0+NT-1 of the tile through the panel's NB blocks. */
static inline __attribute__((always_inline)) void panel_step(const panel *P, int q8, size_t nb, const tile_acts *A,
                                                             size_t t0, int nt, __m256 (*acc)[2])
{
    const __m256i ones = _mm256_set1_epi16(1);
    const int ng = q8 ? 16 : 8;

    for (size_t b = 0; b < nb; b++) {
        __m256i s[PT][2];
        UNROLL for (int g = 0; g < ng; g++) {
            const __m256i w0 = P->w[ng * b + g][0], w1 = P->w[ng * b + g][1];
            UNROLL for (int t = 0; t < nt; t++) {
                const __m256i av = bcast32(A->q[t0 + t] + 4 * (ng * b + g));
                __m256i p0, p1;
                if (q8) {
                    p0 = _mm256_madd_epi16(av, w0);
                    p1 = _mm256_madd_epi16(av, w1);
                    s[t][0] = g ? _mm256_add_epi32(s[t][0], p0) : p0;
                    s[t][1] = g ? _mm256_add_epi32(s[t][1], p1) : p1;
                } else {
                    p0 = _mm256_maddubs_epi16(av, w0);
                    p1 = _mm256_maddubs_epi16(av, w1);
                    s[t][0] = g ? _mm256_add_epi16(s[t][0], p0) : p0;
                    s[t][1] = g ? _mm256_add_epi16(s[t][1], p1) : p1;
                }
                KEEP(s[t][0]);
                KEEP(s[t][1]);
            }
        }
        UNROLL for (int t = 0; t < nt; t++) {
            const __m256 da = _mm256_set1_ps(A->d[t0 + t][b]);
            UNROLL for (int h = 0; h < 2; h++) {
                const __m256i is = q8 ? s[t][h] : _mm256_sub_epi32(_mm256_madd_epi16(s[t][h], ones), P->c[b][h]);
                acc[t0 + t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_mul_ps(P->d[b][h], da), acc[t0 + t][h]);
            }
        }
    }
}

/* ---- Q4_K and Q6_K weights times Q8_K activations, one token ------------- */

/* One token, a strip of 8 rows (NR real): each row's super-block in its
 * own layout (the vec_dot's integer part), the rows' sums turned into
 * lanes (xq_sums8), then the lanes' float chain; the next strip is
 * prefetched into L2 (next_strip). */
static inline __attribute__((always_inline)) __m256 stripk1(int q6, const uint8_t *w, size_t w_stride, size_t nr,
                                                            size_t nb, const wl_block_q8_k *a)
{
    const size_t wbytes = q6 ? sizeof(wl_block_q6_k) : sizeof(wl_block_q4_k);
    const __m256 neg = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    next_strip pf = next_strip_start(w, w_stride, nb);
    const uint8_t *rp[AR];
    __m256 acc = _mm256_setzero_ps();

    for (size_t r = 0; r < AR; r++)
        rp[r] = w + (r < nr ? r : 0) * w_stride;
    for (size_t b = 0; b < nb; b++) {
        const size_t off = b * wbytes;
        __m256i P[AR], M[AR];
        uint16_t d[AR], dmin[AR];
        next_strip_step(&pf);
        UNROLL for (int r = 0; r < AR; r++) {
            const uint8_t *x = rp[r] + off;
            if (q6) {
                memcpy(&d[r], x + offsetof(wl_block_q6_k, d), 2);
                P[r] = xq_q6_k_sums((const wl_block_q6_k *)x, &a[b]);
            } else {
                memcpy(&d[r], x, 2);
                memcpy(&dmin[r], x + 2, 2);
                xq_k_affine_sums(x, offsetof(wl_block_q4_k, scales), offsetof(wl_block_q4_k, qs), -1, &a[b], &P[r],
                                 &M[r]);
            }
        }
        const __m256 da = _mm256_set1_ps(a[b].d);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(xq_sums8(P)), _mm256_mul_ps(row_scales(d), da), acc);
        if (!q6)
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(xq_sums8(M)),
                                  _mm256_xor_ps(_mm256_mul_ps(row_scales(dmin), da), neg), acc);
    }
    return acc;
}

/* ---- Q4_K and Q6_K prompts: panels of 16 rows, 2 tokens a step -----------
 *
 * As Q4_0's panels, with the group scales in vpmaddwd: the weights are the
 * signed operand (Q4_K's q as they are, Q6_K's q - 32), the activations
 * a + 128.  Q4_K's pairs are at most 2 * 15 * 255 = 7650, so its sub-blocks
 * of 32 are summed in 16 bits by halves of 16 elements (30600); Q6_K's are
 * at most 2 * 32 * 255 = 16320 in magnitude, its groups of 16 summed by
 * halves of 8 (32640).  Each half times its scale, into 32 bits; then
 * sum sc sum q a = sum sc sum q (a + 128) - 128 sum sc sum q (Q6_K: q - 32),
 * the second term the panel's.  Q4_K's mins are its scales against the
 * bsums, as the vec_dot does.  The 32-bit sums of 2 tokens by 16 rows fill
 * the registers, so 2 tokens a step. */

#define PTK 2        /* tokens per step */

typedef struct {
    __m256i w[AKK * 64][2]; /* dword i of super-block b at 64b + i: elements 4i..4i+3, rows 0-7 and 8-15 */
    __m256i sc[AKK][16][2]; /* (sc, sc) of q4_k's sub-block j (8) or q6_k's group g (16) */
    __m256i mn[AKK][8][2];  /* q4_k: (m_j, m_j) against bsums 2j, 2j+1 */
    __m256i c[AKK][2];      /* 128 * sum sc * sum q (q6_k: q - 32) of each row */
    __m256 d[AKK][2], dmin[AKK][2];
} panelk;

/* The sums of each 16 of the 256 bytes at U. */
static inline void sums16(const uint8_t u[WL_QK_K], int32_t out[16])
{
    for (int i = 0; i < 8; i++) {
        /* vpsadbw: the sums of each 8 bytes, in the 4 qwords. */
        const __m256i v = _mm256_sad_epu8(xq_load(u + 32 * i), _mm256_setzero_si256());
        int64_t q[4];
        _mm256_storeu_si256((__m256i *)q, v);
        out[2 * i] = (int32_t)(q[0] + q[1]);
        out[2 * i + 1] = (int32_t)(q[2] + q[3]);
    }
}

static inline __attribute__((always_inline)) void pack_panelk(panelk *P, int q6, const uint8_t *w, size_t w_stride,
                                                              size_t nr, size_t nb)
{
    const size_t wbytes = q6 ? sizeof(wl_block_q6_k) : sizeof(wl_block_q4_k);

    for (size_t b = 0; b < nb; b++)
        for (size_t h = 0; h < 2; h++) {
            /* Absent rows: weights and scales 0. */
            uint32_t q[64][AR] = { { 0 } }, sc[16][AR] = { { 0 } }, mn[8][AR] = { { 0 } };
            int32_t c[AR] = { 0 };
            uint16_t d[AR] = { 0 }, dmin[AR] = { 0 };
            for (size_t r = 0; r < AR && h * AR + r < nr; r++) {
                const uint8_t *x = w + (h * AR + r) * w_stride + b * wbytes;
                uint8_t u[WL_QK_K];
                int32_t gs[16];
                if (q6) {
                    const wl_block_q6_k *blk = (const wl_block_q6_k *)x;
                    memcpy(&d[r], &blk->d, 2);
                    for (int i = 0; i < 64; i++) {
                        /* Element 4i is 128h + 32s + l. */
                        int hh = i / 32, s6 = i % 32 / 8, l = 4 * (i % 8);
                        uint32_t lo = load_u32(blk->ql + 64 * hh + 32 * (s6 & 1) + l) >> (s6 >= 2 ? 4 : 0) & 0x0F0F0F0Fu;
                        uint32_t hb = (load_u32(blk->qh + 32 * hh + l) >> (2 * s6) & 0x03030303u) << 4;
                        memcpy(u + 4 * i, &(uint32_t){ lo | hb }, 4);
                    }
                    sums16(u, gs);
                    for (int g = 0; g < 16; g++) {
                        sc[g][r] = pair16(blk->scales[g], blk->scales[g]);
                        c[r] += 128 * blk->scales[g] * (gs[g] - 16 * 32);
                    }
                    for (int i = 0; i < WL_QK_K; i += 32)
                        _mm256_storeu_si256((__m256i *)(u + i), _mm256_sub_epi8(xq_load(u + i), _mm256_set1_epi8(32)));
                } else {
                    uint8_t s8[8], m8[8];
                    memcpy(&d[r], x, 2);
                    memcpy(&dmin[r], x + 2, 2);
                    wl_q4_k_scales(x + offsetof(wl_block_q4_k, scales), s8, m8);
                    const uint8_t *qs = x + offsetof(wl_block_q4_k, qs);
                    for (int j = 0; j < 8; j++) {
                        /* Sub-block j: the low (j even) or high nibbles of 32 bytes. */
                        const __m256i v = _mm256_srli_epi16(xq_load(qs + 32 * (j / 2)), 4 * (j & 1));
                        _mm256_storeu_si256((__m256i *)(u + 32 * j), _mm256_and_si256(v, _mm256_set1_epi8(0x0F)));
                    }
                    sums16(u, gs);
                    for (int j = 0; j < 8; j++) {
                        sc[j][r] = pair16(s8[j], s8[j]);
                        mn[j][r] = pair16(m8[j], m8[j]);
                        c[r] += 128 * s8[j] * (gs[2 * j] + gs[2 * j + 1]);
                    }
                }
                for (int i = 0; i < 64; i++)
                    q[i][r] = load_u32(u + 4 * i);
            }
            for (int i = 0; i < 64; i++)
                P->w[64 * b + i][h] = _mm256_loadu_si256((const __m256i *)q[i]);
            for (int g = 0; g < 16; g++)
                P->sc[b][g][h] = _mm256_loadu_si256((const __m256i *)sc[g]);
            for (int j = 0; j < 8; j++)
                P->mn[b][j][h] = _mm256_loadu_si256((const __m256i *)mn[j]);
            P->c[b][h] = _mm256_loadu_si256((const __m256i *)c);
            P->d[b][h] = row_scales(d);
            P->dmin[b][h] = row_scales(dmin);
        }
}

/* NT tokens' quants + 128, bsums and scales, NB super-blocks of each from
 * A; the next tile into L2 as tile_acts_fill does. */
static void tile_acts_fill_k(tile_acts *A, const uint8_t *a, size_t a_stride, size_t nt, size_t nb,
                             const uint8_t *next, size_t nt_next, size_t bytes)
{
    const __m256i x80 = _mm256_set1_epi8((char)0x80);

    for (size_t t = 0; t < nt; t++)
        for (size_t b = 0; b < nb; b++) {
            const wl_block_q8_k *x = (const wl_block_q8_k *)(a + t * a_stride) + b;
            for (int i = 0; i < WL_QK_K / 32; i++)
                _mm256_storeu_si256((__m256i *)(A->q[t] + WL_QK_K * b + 32 * i),
                                    _mm256_xor_si256(xq_load(x->qs + 32 * i), x80));
            memcpy(A->bs[t][b], x->bsums, sizeof x->bsums);
            A->d[t][b] = x->d;
        }
    for (size_t t = 0; t < nt_next; t++)
        for (size_t o = 0; o < bytes + 63; o += 64)
            _mm_prefetch((const char *)next + t * a_stride + o, _MM_HINT_T1);
}

/* q4_k: acc = fma(isum, d*da, acc), then fma(mins, -(dmin*da), acc);
 * q6_k: acc = fma(isum, d*da, acc). */
static inline __attribute__((always_inline)) void panelk_step(const panelk *P, int q6, size_t nb, const tile_acts *A,
                                                              size_t t0, int nt, __m256 (*acc)[2])
{
    const __m256 neg = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    const int ns = q6 ? 16 : 8, per = q6 ? 4 : 8; /* scale groups, dwords a group */

    for (size_t b = 0; b < nb; b++) {
        __m256i is[PTK][2];
        UNROLL for (int j = 0; j < ns; j++) {
            UNROLL for (int half = 0; half < 2; half++) {
                __m256i s[PTK][2];
                UNROLL for (int k = 0; k < per / 2; k++) {
                    const int i = per * j + per / 2 * half + k;
                    const __m256i w0 = P->w[64 * b + i][0], w1 = P->w[64 * b + i][1];
                    UNROLL for (int t = 0; t < nt; t++) {
                        const __m256i av = bcast32(A->q[t0 + t] + WL_QK_K * b + 4 * i);
                        const __m256i p0 = _mm256_maddubs_epi16(av, w0), p1 = _mm256_maddubs_epi16(av, w1);
                        s[t][0] = k ? _mm256_add_epi16(s[t][0], p0) : p0;
                        s[t][1] = k ? _mm256_add_epi16(s[t][1], p1) : p1;
                        KEEP(s[t][0]);
                        KEEP(s[t][1]);
                    }
                }
                UNROLL for (int t = 0; t < nt; t++)
                    UNROLL for (int h = 0; h < 2; h++) {
                        const __m256i m = _mm256_madd_epi16(s[t][h], P->sc[b][j][h]);
                        is[t][h] = j || half ? _mm256_add_epi32(is[t][h], m) : m;
                        KEEP(is[t][h]);
                    }
            }
        }
        UNROLL for (int t = 0; t < nt; t++) {
            const __m256 da = _mm256_set1_ps(A->d[t0 + t][b]);
            UNROLL for (int h = 0; h < 2; h++) {
                const __m256i v = _mm256_sub_epi32(is[t][h], P->c[b][h]);
                acc[t0 + t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(P->d[b][h], da), acc[t0 + t][h]);
                if (!q6) {
                    __m256i mins = _mm256_setzero_si256();
                    UNROLL for (int j = 0; j < 8; j++)
                        mins = _mm256_add_epi32(mins, _mm256_madd_epi16(P->mn[b][j][h], bcast32(&A->bs[t0 + t][b][2 * j])));
                    acc[t0 + t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins),
                                                     _mm256_xor_ps(_mm256_mul_ps(P->dmin[b][h], da), neg), acc[t0 + t][h]);
                }
            }
        }
    }
}

/* More than one token: PG panels at a time, chunk after chunk (the next
 * one prefetched), the tokens in tiles whose activations are copied once
 * for the PG panels and whose accumulators wait in OUT between chunks. */
static inline __attribute__((always_inline)) void panels(woolly_type type, size_t n, const uint8_t *w,
                                                         size_t w_stride, size_t nr, const uint8_t *a,
                                                         size_t a_stride, const wl_q8_0_aux *aux, size_t n_tok,
                                                         float *out, size_t ldo)
{
    const int k = type == WOOLLY_TYPE_Q4_K || type == WOOLLY_TYPE_Q6_K;
    const int q8 = type == WOOLLY_TYPE_Q8_0, q6 = type == WOOLLY_TYPE_Q6_K;
    const size_t wbytes = q6 ? sizeof(wl_block_q6_k) : k ? sizeof(wl_block_q4_k) : q8 ? sizeof(wl_block_q8_0) : sizeof(wl_block_q4_0);
    const size_t abytes = k ? sizeof(wl_block_q8_k) : sizeof(wl_block_q8_0);
    const size_t nb = n / (k ? WL_QK_K : WL_QK), kc = k ? AKK : q8 ? AKC / 2 : AKC;
    union {
        panel p;
        panelk k;
    } P[PG];
    tile_acts A;
    __m256 acc[AT][2];

    for (size_t g0 = 0; g0 < nr; g0 += PG * PR) {
        const size_t gn = nr - g0 < PG * PR ? nr - g0 : PG * PR;
        const uint8_t *wg = w + g0 * w_stride;
        for (size_t k0 = 0; k0 < nb; k0 += kc) {
            const size_t kn = nb - k0 < kc ? nb - k0 : kc;
            for (size_t p = 0; p * PR < gn; p++) {
                const uint8_t *wp = wg + p * PR * w_stride + k0 * wbytes;
                const size_t rn = gn - p * PR < PR ? gn - p * PR : PR;
                if (k)
                    pack_panelk(&P[p].k, q6, wp, w_stride, rn, kn);
                else
                    pack_panel(&P[p].p, q8, wp, w_stride, rn, kn);
            }
            prefetch_chunk(wg + (k0 + kn) * wbytes, w_stride, gn, kc * wbytes);
            for (size_t t0 = 0; t0 < n_tok; t0 += AT) {
                const size_t nt = n_tok - t0 < AT ? n_tok - t0 : AT;
                /* The next tile: the chunk's next tokens, else the next chunk's first. */
                const size_t tn = t0 + AT < n_tok ? t0 + AT : 0, kx = tn ? k0 : k0 + kn;
                const size_t nt_next = kx < nb ? (n_tok - tn < AT ? n_tok - tn : AT) : 0;
                const size_t kn_next = nb - kx < kc ? nb - kx : kc;
                const uint8_t *at = a + t0 * a_stride + k0 * abytes, *an = a + tn * a_stride + kx * abytes;
                if (k)
                    tile_acts_fill_k(&A, at, a_stride, nt, kn, an, nt_next, kn_next * abytes);
                else
                    tile_acts_fill(&A, q8, at, a_stride, aux + t0 * nb + k0, nb, nt, kn, an, nt_next, kn_next * abytes);
                for (size_t p = 0; p * PR < gn; p++) {
                    const size_t rn = gn - p * PR < PR ? gn - p * PR : PR;
                    const size_t rh[2] = { rn < AR ? rn : AR, rn > AR ? rn - AR : 0 };
                    float *o = out + t0 * ldo + g0 + p * PR;
                    size_t t;
                    for (t = 0; t < nt; t++)
                        for (size_t h = 0; h < 2; h++)
                            acc[t][h] = k0 == 0 || !rh[h] ? _mm256_setzero_ps() : load_rows(o + t * ldo + h * AR, rh[h]);
                    if (k) {
                        for (t = 0; t + PTK <= nt; t += PTK)
                            panelk_step(&P[p].k, q6, kn, &A, t, PTK, acc);
                        for (; t < nt; t++)
                            panelk_step(&P[p].k, q6, kn, &A, t, 1, acc);
                    } else {
                        for (t = 0; t + PT <= nt; t += PT)
                            panel_step(&P[p].p, q8, kn, &A, t, PT, acc);
                        for (; t < nt; t++)
                            panel_step(&P[p].p, q8, kn, &A, t, 1, acc);
                    }
                    for (t = 0; t < nt; t++)
                        for (size_t h = 0; h < 2; h++)
                            if (rh[h])
                                store_rows(o + t * ldo + h * AR, acc[t][h], rh[h]);
                }
            }
        }
    }
}

/* ---- the tiled products' driver ------------------------------------------
 *
 * One token: strips of 8 rows, each prefetching the next into L2; more:
 * the panels. */
static inline __attribute__((always_inline)) void gemm(woolly_type type, size_t n, const void *w, size_t w_stride,
                                                       size_t nr, const void *a, size_t a_stride, const void *vaux,
                                                       size_t n_tok, float *out, size_t ldo)
{
    const int k = type == WOOLLY_TYPE_Q4_K || type == WOOLLY_TYPE_Q6_K;
    const int q8 = type == WOOLLY_TYPE_Q8_0, q6 = type == WOOLLY_TYPE_Q6_K;
    const size_t nb = n / (k ? WL_QK_K : WL_QK);

    if (n_tok > 1) {
        panels(type, n, w, w_stride, nr, a, a_stride, vaux, n_tok, out, ldo);
        return;
    }
    for (size_t r0 = 0; r0 < nr; r0 += AR) {
        const size_t rn = nr - r0 < AR ? nr - r0 : AR;
        const uint8_t *wr = (const uint8_t *)w + r0 * w_stride;
        store_rows(out + r0, k ? stripk1(q6, wr, w_stride, rn, nb, a) : strip1_32(q8, wr, w_stride, rn, nb, a, vaux),
                   rn);
    }
}

static void q4_0_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemm(WOOLLY_TYPE_Q4_0, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

static void q8_0_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemm(WOOLLY_TYPE_Q8_0, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

static void q4_k_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemm(WOOLLY_TYPE_Q4_K, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

static void q6_k_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemm(WOOLLY_TYPE_Q6_K, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

void wl_kernels_init_avx2(wl_kernels *k)
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
    k->wsum16 = wsum16;
    k->type[WOOLLY_TYPE_Q4_0].gemm = q4_0_gemm;
    k->type[WOOLLY_TYPE_Q8_0].gemm = q8_0_gemm;
    k->type[WOOLLY_TYPE_Q4_K].gemm = q4_k_gemm;
    k->type[WOOLLY_TYPE_Q6_K].gemm = q6_k_gemm;
}
