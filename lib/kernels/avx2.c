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

static void qk_scores(size_t n, size_t hd, size_t nq, const float *q, size_t ldq, const float *k, size_t ldk,
                      float scale, float *out, size_t ldo)
{
    for (size_t h = 0; h < nq; h++)
        for (size_t j = 0; j < n; j++)
            out[h * ldo + j] = dot_f32_ggml(hd, q + h * ldq, k + j * ldk) * scale;
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

static void wsum16(size_t n, size_t m, const float *w, const float *v, size_t ldv, float *out)
{
    size_t c = 0;

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
}
