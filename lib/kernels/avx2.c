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

    for (int a = 0; a < 4; a++)
        lo[a] = hi[a] = _mm256_setzero_ps();
    for (size_t i = 0; i < hd; i += 64)
        for (int a = 0; a < 4; a++) {
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
    /* 8 keys (in L1 after the first query) against every query of the group. */
    for (size_t j0 = 0; j0 < n; j0 += 8)
        for (size_t h = 0; h < nq; h++) {
            const float *qh = q + h * ldq;
            const size_t nk = n - j0 < 8 ? n - j0 : 8;
            __m256 T[8], U[4], V[2];
            _Pragma("GCC unroll 8") for (size_t p = 0; p < 8; p++)
                T[p] = qk_lanes(hd, qh, k + (j0 + (p < nk ? p : 0)) * ldk);
            for (int i = 0; i < 4; i++)
                U[i] = _mm256_add_ps(_mm256_permute2f128_ps(T[i], T[i + 4], 0x20),
                                     _mm256_permute2f128_ps(T[i], T[i + 4], 0x31));
            for (int i = 0; i < 2; i++)
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

/* ---- Q4_0 and Q8_0 weights times Q8_0 activations, 8 rows in the lanes ---
 *
 * As vnni.c's tiles at 256 bits: a strip of 8 weight rows is unpacked once
 * per chunk of blocks, a ymm lane a row (4 consecutive elements a lane),
 * and every token of the product is dotted with it, each activation dword
 * broadcast.  Without vpdpbusd, bytes are multiplied by vpmaddubsw
 * (unsigned weight times signed activation, pairs summed into 16 bits):
 * Q4_0's nibbles (0..15) against activations in [-127, 127] give pairs of
 * at most 3810, so a block's 8 groups add up in 16 bits (30480) before one
 * vpmaddwd widens them; Q8_0's weights go in by magnitude with their signs
 * moved onto the activation, pairs of at most 32512, widened at once.  The
 * integer sums are exact; each lane's float chain, block after block, is
 * the vec_dot's (fma(sum, dw*da, acc)), so every output has its bits. */

#define AR 8         /* rows per strip: a ymm lane each */
#define AT 32        /* tokens per tile */
#define AKC 16       /* blocks of 32 per chunk */
#define UNROLL _Pragma("GCC unroll 8")

typedef struct {
    __m256i w[AKC][8];   /* group g: elements 4g..4g+3; q4_0 the nibbles, q8_0 |q| */
    __m256i s[AKC][8];   /* q8_0: the quants, whose signs go onto the activation */
    __m256 d[AKC];
} strip32;

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

static inline __attribute__((always_inline)) void pack32(strip32 *S, int q8, const uint8_t *w, size_t w_stride, size_t nr, size_t nb)
{
    const size_t wbytes = q8 ? sizeof(wl_block_q8_0) : sizeof(wl_block_q4_0);

    for (size_t b = 0; b < nb; b++) {
        uint32_t g[8][AR] = { { 0 } };
        uint16_t dh[AR] = { 0 };
        for (size_t r = 0; r < nr; r++) {
            const uint8_t *p = w + r * w_stride + b * wbytes;
            uint32_t q[8];
            memcpy(&dh[r], p, 2);
            memcpy(q, p + 2, q8 ? 32 : 16);
            for (int k = 0; k < (q8 ? 8 : 4); k++) {
                g[k][r] = q8 ? q[k] : q[k] & 0x0F0F0F0Fu;
                if (!q8)
                    g[k + 4][r] = q[k] >> 4 & 0x0F0F0F0Fu;
            }
        }
        S->d[b] = row_scales(dh);
        for (int k = 0; k < 8; k++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)g[k]);
            S->w[b][k] = q8 ? _mm256_abs_epi8(v) : v;
            S->s[b][k] = v;
        }
    }
}

/* Block after block of the strip, each of its 8 weight vectors held in
 * registers while NT tokens (accumulators in ACC, in L1) take their turn. */
static inline __attribute__((always_inline)) void tile32(const strip32 *S, int q8, size_t nb, const uint8_t *a,
                                                         size_t a_stride, const wl_q8_0_aux *aux,
                                                         size_t aux_stride, size_t nt, __m256 *acc)
{
    const __m256i ones = _mm256_set1_epi16(1);

    for (size_t b = 0; b < nb; b++) {
        __m256i W[8], G[8];
        UNROLL for (int g = 0; g < 8; g++) {
            W[g] = S->w[b][g];
            if (q8)
                G[g] = S->s[b][g];
        }
        const __m256 dw = S->d[b];
        const uint8_t *ab = a + b * sizeof(wl_block_q8_0) + 2;
        const wl_q8_0_aux *x = aux + b;
        for (size_t t = 0; t < nt; t++, ab += a_stride, x += aux_stride) {
            __m256i isum;
            if (q8) {
                __m256i s = _mm256_setzero_si256();
                UNROLL for (int g = 0; g < 8; g++)
                    s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(W[g], _mm256_sign_epi8(bcast32(ab + 4 * g), G[g])),
                                                              ones));
                isum = s;
            } else {
                __m256i s = _mm256_maddubs_epi16(W[0], bcast32(ab));
                UNROLL for (int g = 1; g < 8; g++)
                    s = _mm256_add_epi16(s, _mm256_maddubs_epi16(W[g], bcast32(ab + 4 * g)));
                /* sum (q-8)*a = sum q*a - 8 * sum a = sum q*a + corr/16. */
                isum = _mm256_add_epi32(_mm256_madd_epi16(s, ones), _mm256_set1_epi32(x->corr / 16));
            }
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dw, _mm256_set1_ps(x->d)), acc[t]);
        }
    }
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

/* ---- Q4_0 prompts: panels of 16 rows, 4 tokens a step -------------------
 *
 * On Zen 3 the strips above wait on loads more than on multiplies: each
 * vpmaddubsw has a broadcast of its own.  Here the weights are the signed
 * operand (q - 8, read from the packed panel in L1) and the activations
 * the unsigned one (a + 128, copied once a tile), so that a broadcast
 * serves 16 rows and a weight load 4 tokens.  A pair (q-8)(a+128) is at
 * most 2 * 8 * 255 = 4080 in magnitude and a lane's 8 groups of a block
 * 32640: exact in 16 bits.  sum (q-8)a = sum (q-8)(a+128) - 128 sum (q-8),
 * the second term the panel's, a row and block; then each lane's float
 * chain is the vec_dot's, as in the strips. */

#define PR 16        /* rows per panel: two ymm of 8 */
#define PT 4         /* tokens per step */

typedef struct {
    __m256i w[AKC][8][2]; /* group g: elements 4g..4g+3 of rows 0-7, 8-15, as q - 8 */
    __m256i c[AKC][2];    /* 128 * sum (q - 8) of each row's block */
    __m256 d[AKC][2];
} panel4;

typedef struct {
    uint8_t q[AT][AKC][32]; /* the quants + 128 */
    float d[AT][AKC];
} tile_acts;

/* GCC reassociates a chain of integer adds into a tree of all the
 * products, which spills them; an empty asm ends the chain where it is. */
#define KEEP(v) __asm__("" : "+x"(v))

static void pack_panel4(panel4 *P, const uint8_t *w, size_t w_stride, size_t nr, size_t nb)
{
    const __m256i eight = _mm256_set1_epi8(8), ones8 = _mm256_set1_epi8(1), ones = _mm256_set1_epi16(1);

    for (size_t b = 0; b < nb; b++)
        for (size_t h = 0; h < 2; h++) {
            uint32_t g[8][AR];
            uint16_t dh[AR] = { 0 };
            for (size_t r = 0; r < AR; r++) {
                uint32_t q[4] = { 0x88888888u, 0x88888888u, 0x88888888u, 0x88888888u }; /* absent rows: 0 */
                const uint8_t *p = w + (h * AR + r) * w_stride + b * sizeof(wl_block_q4_0);
                if (h * AR + r < nr) {
                    memcpy(&dh[r], p, 2);
                    memcpy(q, p + 2, 16);
                }
                for (int k = 0; k < 4; k++) {
                    g[k][r] = q[k] & 0x0F0F0F0Fu;
                    g[k + 4][r] = q[k] >> 4 & 0x0F0F0F0Fu;
                }
            }
            __m256i sum = _mm256_setzero_si256();
            for (int k = 0; k < 8; k++) {
                const __m256i v = _mm256_loadu_si256((const __m256i *)g[k]);
                sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(v, ones8));
                P->w[b][k][h] = _mm256_sub_epi8(v, eight);
            }
            P->c[b][h] = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_madd_epi16(sum, ones), _mm256_set1_epi32(256)), 7);
            P->d[b][h] = row_scales(dh);
        }
}

/* NT tokens' quants + 128 and scales, NB blocks of each from A; and the
 * next tile's activations (NT_NEXT tokens of BYTES from NEXT) into L2,
 * which the tile's products leave time to bring from L3. */
static void tile_acts_fill(tile_acts *A, const uint8_t *a, size_t a_stride, const wl_q8_0_aux *aux,
                           size_t aux_stride, size_t nt, size_t nb, const uint8_t *next, size_t nt_next, size_t bytes)
{
    const __m256i x80 = _mm256_set1_epi8((char)0x80);

    for (size_t t = 0; t < nt; t++)
        for (size_t b = 0; b < nb; b++) {
            const uint8_t *q = a + t * a_stride + b * sizeof(wl_block_q8_0) + 2;
            _mm256_storeu_si256((__m256i *)A->q[t][b], _mm256_xor_si256(xq_load(q), x80));
            A->d[t][b] = aux[t * aux_stride + b].d;
        }
    for (size_t t = 0; t < nt_next; t++)
        for (size_t o = 0; o < bytes + 63; o += 64)
            _mm_prefetch((const char *)next + t * a_stride + o, _MM_HINT_T1);
}

/* Tokens T0..T0+NT-1 of the tile through the panel's NB blocks. */
static inline __attribute__((always_inline)) void panel4_step(const panel4 *P, size_t nb, const tile_acts *A,
                                                              size_t t0, int nt, __m256 (*acc)[2])
{
    const __m256i ones = _mm256_set1_epi16(1);

    for (size_t b = 0; b < nb; b++) {
        __m256i s[PT][2];
        UNROLL for (int g = 0; g < 8; g++) {
            const __m256i w0 = P->w[b][g][0], w1 = P->w[b][g][1];
            UNROLL for (int t = 0; t < nt; t++) {
                const __m256i av = bcast32(A->q[t0 + t][b] + 4 * g);
                const __m256i p0 = _mm256_maddubs_epi16(av, w0), p1 = _mm256_maddubs_epi16(av, w1);
                s[t][0] = g ? _mm256_add_epi16(s[t][0], p0) : p0;
                s[t][1] = g ? _mm256_add_epi16(s[t][1], p1) : p1;
                KEEP(s[t][0]);
                KEEP(s[t][1]);
            }
        }
        UNROLL for (int t = 0; t < nt; t++) {
            const __m256 da = _mm256_set1_ps(A->d[t0 + t][b]);
            UNROLL for (int h = 0; h < 2; h++) {
                const __m256i is = _mm256_sub_epi32(_mm256_madd_epi16(s[t][h], ones), P->c[b][h]);
                acc[t0 + t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_mul_ps(P->d[b][h], da), acc[t0 + t][h]);
            }
        }
    }
}

/* Q4_0 weights times more than one token: PG panels at a time, chunk
 * after chunk (the next one prefetched), the tokens in tiles whose
 * activations are copied once for the PG panels and whose accumulators
 * wait in OUT between chunks. */
#define PG 4         /* panels sharing a tile's activations */

static void q4_0_panels(size_t n, const uint8_t *w, size_t w_stride, size_t nr, const uint8_t *a, size_t a_stride,
                        const wl_q8_0_aux *aux, size_t n_tok, float *out, size_t ldo)
{
    const size_t nb = n / WL_QK;
    panel4 P[PG];
    tile_acts A;
    __m256 acc[AT][2];

    for (size_t g0 = 0; g0 < nr; g0 += PG * PR) {
        const size_t gn = nr - g0 < PG * PR ? nr - g0 : PG * PR;
        const uint8_t *wg = w + g0 * w_stride;
        for (size_t k0 = 0; k0 < nb; k0 += AKC) {
            const size_t kn = nb - k0 < AKC ? nb - k0 : AKC;
            for (size_t p = 0; p * PR < gn; p++)
                pack_panel4(&P[p], wg + p * PR * w_stride + k0 * sizeof(wl_block_q4_0), w_stride,
                            gn - p * PR < PR ? gn - p * PR : PR, kn);
            prefetch_chunk(wg + (k0 + kn) * sizeof(wl_block_q4_0), w_stride, gn, AKC * sizeof(wl_block_q4_0));
            for (size_t t0 = 0; t0 < n_tok; t0 += AT) {
                const size_t nt = n_tok - t0 < AT ? n_tok - t0 : AT;
                /* The next tile: the chunk's next tokens, else the next chunk's first. */
                const size_t tn = t0 + AT < n_tok ? t0 + AT : 0, kx = tn ? k0 : k0 + kn;
                const size_t nt_next = kx < nb ? (n_tok - tn < AT ? n_tok - tn : AT) : 0;
                const size_t kn_next = nb - kx < AKC ? nb - kx : AKC;
                tile_acts_fill(&A, a + t0 * a_stride + k0 * sizeof(wl_block_q8_0), a_stride, aux + t0 * nb + k0, nb,
                               nt, kn, a + tn * a_stride + kx * sizeof(wl_block_q8_0), nt_next,
                               kn_next * sizeof(wl_block_q8_0));
                for (size_t p = 0; p * PR < gn; p++) {
                    const size_t rn = gn - p * PR < PR ? gn - p * PR : PR;
                    const size_t rh[2] = { rn < AR ? rn : AR, rn > AR ? rn - AR : 0 };
                    float *o = out + t0 * ldo + g0 + p * PR;
                    size_t t;
                    for (t = 0; t < nt; t++)
                        for (size_t h = 0; h < 2; h++)
                            acc[t][h] = k0 == 0 || !rh[h] ? _mm256_setzero_ps() : load_rows(o + t * ldo + h * AR, rh[h]);
                    for (t = 0; t + PT <= nt; t += PT)
                        panel4_step(&P[p], kn, &A, t, PT, acc);
                    for (; t < nt; t++)
                        panel4_step(&P[p], kn, &A, t, 1, acc);
                    for (t = 0; t < nt; t++)
                        for (size_t h = 0; h < 2; h++)
                            if (rh[h])
                                store_rows(o + t * ldo + h * AR, acc[t][h], rh[h]);
                }
            }
        }
    }
}

/* ---- Q4_K and Q6_K weights times Q8_K activations, 8 rows in the lanes ---
 *
 * As for Q4_0, with the super-block's group scales riding in vpmaddwd's
 * second operand: a lane's 16-bit sums of one group (at most 4 products of
 * 15 * 127 a pair for Q4_K's sub-blocks of 32, and 2 of 63 * 127 for
 * Q6_K's groups of 16) times its row's scale, into 32 bits.  The rest
 * (mins, Q6_K's -32) is the scales against the activation's bsums, as the
 * vec_dot does; the float chain of each lane is the vec_dot's. */

#define AKK 2        /* super-blocks per chunk */

typedef struct {
    __m256i w[AKK][64];   /* dword i: elements 4i..4i+3, unsigned (q4_k 0..15, q6_k 0..63) */
    __m256i sc[AKK][16];  /* the scale of q4_k's sub-block j (8) or q6_k's group g (16), twice a lane */
    __m256i pair[AKK][8]; /* int16 pairs against bsums[2p], bsums[2p+1]: q4_k (mn[p], mn[p]), q6_k (sc[2p], sc[2p+1]) */
    __m256 d[AKK], dmin[AKK];
} stripk;

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

static inline __attribute__((always_inline)) void packk(stripk *S, int q6, const uint8_t *w, size_t w_stride,
                                                        size_t nr, size_t nb)
{
    const size_t wbytes = q6 ? sizeof(wl_block_q6_k) : sizeof(wl_block_q4_k);

    for (size_t b = 0; b < nb; b++) {
        uint32_t q[64][AR] = { { 0 } }, sc[16][AR] = { { 0 } }, pr[8][AR] = { { 0 } };
        uint16_t d[AR] = { 0 }, dmin[AR] = { 0 };
        for (size_t r = 0; r < nr; r++) {
            const uint8_t *x = w + r * w_stride + b * wbytes;
            if (q6) {
                const wl_block_q6_k *blk = (const wl_block_q6_k *)x;
                memcpy(&d[r], &blk->d, 2);
                for (int i = 0; i < 64; i++) {
                    /* Element 4i is 128h + 32s + l. */
                    int h = i / 32, s6 = i % 32 / 8, l = 4 * (i % 8);
                    uint32_t lo = load_u32(blk->ql + 64 * h + 32 * (s6 & 1) + l) >> (s6 >= 2 ? 4 : 0) & 0x0F0F0F0Fu;
                    uint32_t hb = (load_u32(blk->qh + 32 * h + l) >> (2 * s6) & 0x03030303u) << 4;
                    q[i][r] = lo | hb;
                }
                for (int g = 0; g < 16; g++)
                    sc[g][r] = pair16(blk->scales[g], blk->scales[g]);
                for (int p = 0; p < 8; p++)
                    pr[p][r] = pair16(blk->scales[2 * p], blk->scales[2 * p + 1]);
            } else {
                uint8_t s8[8], m8[8];
                memcpy(&d[r], x, 2);
                memcpy(&dmin[r], x + 2, 2);
                wl_q4_k_scales(x + offsetof(wl_block_q4_k, scales), s8, m8);
                const uint8_t *qs = x + offsetof(wl_block_q4_k, qs);
                for (int i = 0; i < 64; i++) {
                    int j = i / 8;
                    q[i][r] = load_u32(qs + 32 * (j / 2) + 4 * (i % 8)) >> (4 * (j & 1)) & 0x0F0F0F0Fu;
                }
                for (int j = 0; j < 8; j++) {
                    sc[j][r] = pair16(s8[j], s8[j]);
                    pr[j][r] = pair16(m8[j], m8[j]);
                }
            }
        }
        for (int i = 0; i < 64; i++)
            S->w[b][i] = _mm256_loadu_si256((const __m256i *)q[i]);
        for (int g = 0; g < 16; g++)
            S->sc[b][g] = _mm256_loadu_si256((const __m256i *)sc[g]);
        for (int p = 0; p < 8; p++)
            S->pair[b][p] = _mm256_loadu_si256((const __m256i *)pr[p]);
        S->d[b] = row_scales(d);
        S->dmin[b] = row_scales(dmin);
    }
}

/* One token's integer parts of super-block B: in *IS the scaled group
 * sums, in *PR the scale pairs against the bsums. */
static inline __attribute__((always_inline)) void k_int_sums(const stripk *S, int q6, size_t b,
                                                             const wl_block_q8_k *a, __m256i *is, __m256i *pr)
{
    __m256i isum = _mm256_setzero_si256(), p = _mm256_setzero_si256();

    if (q6) {
        UNROLL for (int g = 0; g < 16; g++) {
            const uint8_t *aq = (const uint8_t *)a->qs + 16 * g;
            __m256i s0 = _mm256_add_epi16(_mm256_maddubs_epi16(S->w[b][4 * g], bcast32(aq)),
                                          _mm256_maddubs_epi16(S->w[b][4 * g + 1], bcast32(aq + 4)));
            __m256i s1 = _mm256_add_epi16(_mm256_maddubs_epi16(S->w[b][4 * g + 2], bcast32(aq + 8)),
                                          _mm256_maddubs_epi16(S->w[b][4 * g + 3], bcast32(aq + 12)));
            isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_madd_epi16(s0, S->sc[b][g]),
                                                           _mm256_madd_epi16(s1, S->sc[b][g])));
        }
    } else {
        UNROLL for (int j = 0; j < 8; j++) {
            const uint8_t *aq = (const uint8_t *)a->qs + 32 * j;
            __m256i s16 = _mm256_maddubs_epi16(S->w[b][8 * j], bcast32(aq));
            UNROLL for (int i = 1; i < 8; i++)
                s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(S->w[b][8 * j + i], bcast32(aq + 4 * i)));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(s16, S->sc[b][j]));
        }
    }
    UNROLL for (int q = 0; q < 8; q++)
        p = _mm256_add_epi32(p, _mm256_madd_epi16(S->pair[b][q], bcast32(a->bsums + 2 * q)));
    *is = isum;
    *pr = p;
}

/* q4_k: acc = fma(isum, d*da, acc), then fma(mins, -(dmin*da), acc);
 * q6_k: isum - 32 * cor, acc = fma(isum, d*da, acc). */
static inline __attribute__((always_inline)) void tilek(const stripk *S, int q6, size_t nb, const uint8_t *a,
                                                        size_t a_stride, size_t nt, __m256 *acc)
{
    const __m256 neg = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));

    for (size_t b = 0; b < nb; b++) {
        const __m256 d = S->d[b], dmin = S->dmin[b];
        for (size_t t = 0; t < nt; t++) {
            const wl_block_q8_k *at = (const wl_block_q8_k *)(a + t * a_stride) + b;
            const __m256 da = _mm256_set1_ps(at->d);
            __m256i is, pr;
            k_int_sums(S, q6, b, at, &is, &pr);
            if (q6) {
                is = _mm256_sub_epi32(is, _mm256_slli_epi32(pr, 5));
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_mul_ps(d, da), acc[t]);
            } else {
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_mul_ps(d, da), acc[t]);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pr), _mm256_xor_ps(_mm256_mul_ps(dmin, da), neg), acc[t]);
            }
        }
    }
}

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

/* ---- the tiled products' driver ------------------------------------------
 *
 * Strips of 8 rows; one token goes through the strip kernels, more are
 * dotted a chunk of blocks at a time: the chunk unpacked once, the next one
 * prefetched, then every token in tiles of AT whose accumulators wait in
 * OUT between chunks (floats stored and reloaded exactly). */
static inline __attribute__((always_inline)) void gemm8(woolly_type type, size_t n, const void *w, size_t w_stride,
                                                        size_t nr, const void *a, size_t a_stride, const void *vaux,
                                                        size_t n_tok, float *out, size_t ldo)
{
    const int k = type == WOOLLY_TYPE_Q4_K || type == WOOLLY_TYPE_Q6_K;
    const int q8 = type == WOOLLY_TYPE_Q8_0, q6 = type == WOOLLY_TYPE_Q6_K;
    const size_t wbytes = q6 ? sizeof(wl_block_q6_k) : k ? sizeof(wl_block_q4_k) : q8 ? sizeof(wl_block_q8_0) : sizeof(wl_block_q4_0);
    const size_t abytes = k ? sizeof(wl_block_q8_k) : sizeof(wl_block_q8_0);
    const size_t nb = n / (k ? WL_QK_K : WL_QK), kc = k ? AKK : AKC;
    const wl_q8_0_aux *aux = vaux;
    union {
        strip32 s32;
        stripk sk;
    } S;
    __m256 acc[AT];

    for (size_t r0 = 0; r0 < nr; r0 += AR) {
        const size_t rn = nr - r0 < AR ? nr - r0 : AR;
        const uint8_t *wr = (const uint8_t *)w + r0 * w_stride;
        if (n_tok == 1) {
            store_rows(out + r0, k ? stripk1(q6, wr, w_stride, rn, nb, a) : strip1_32(q8, wr, w_stride, rn, nb, a, aux),
                       rn);
            continue;
        }
        for (size_t k0 = 0; k0 < nb; k0 += kc) {
            const size_t kn = nb - k0 < kc ? nb - k0 : kc;
            if (k)
                packk(&S.sk, q6, wr + k0 * wbytes, w_stride, rn, kn);
            else
                pack32(&S.s32, q8, wr + k0 * wbytes, w_stride, rn, kn);
            prefetch_chunk(wr + (k0 + kn) * wbytes, w_stride, rn, kc * wbytes);
            for (size_t t0 = 0; t0 < n_tok; t0 += AT) {
                const size_t nt = n_tok - t0 < AT ? n_tok - t0 : AT;
                const uint8_t *at = (const uint8_t *)a + t0 * a_stride + k0 * abytes;
                float *o = out + t0 * ldo + r0;
                for (size_t t = 0; t < nt; t++)
                    acc[t] = k0 == 0 ? _mm256_setzero_ps() : load_rows(o + t * ldo, rn);
                if (k)
                    tilek(&S.sk, q6, kn, at, a_stride, nt, acc);
                else
                    tile32(&S.s32, q8, kn, at, a_stride, aux + t0 * nb + k0, nb, nt, acc);
                for (size_t t = 0; t < nt; t++)
                    store_rows(o + t * ldo, acc[t], rn);
            }
        }
    }
}

static void q4_0_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    if (n_tok == 1)
        gemm8(WOOLLY_TYPE_Q4_0, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
    else
        q4_0_panels(n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

static void q8_0_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemm8(WOOLLY_TYPE_Q8_0, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

static void q4_k_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemm8(WOOLLY_TYPE_Q4_K, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

static void q6_k_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemm8(WOOLLY_TYPE_Q6_K, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
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
    k->wsum16 = wsum16;
    k->type[WOOLLY_TYPE_Q4_0].gemm = q4_0_gemm;
    k->type[WOOLLY_TYPE_Q8_0].gemm = q8_0_gemm;
    k->type[WOOLLY_TYPE_Q4_K].gemm = q4_k_gemm;
    k->type[WOOLLY_TYPE_Q6_K].gemm = q6_k_gemm;
}
