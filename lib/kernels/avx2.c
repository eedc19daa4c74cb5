/* avx2.c - kernels for AVX2 + FMA (built with AVX2_CFLAGS). */
#include <config.h>

#include <immintrin.h>

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

static float f32_vec_dot(size_t n, const void *w, const void *a)
{
    return dot_f32(n, w, a);
}

/* Half weights times float activations. */
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
    for (; i < n; i++)
        sum += _cvtsh_ss(x[i]) * y[i];
    return sum;
}

void wl_kernels_init_avx2(wl_kernels *k)
{
    xq_init(k);
    k->type[WOOLLY_TYPE_F32].vec_dot = f32_vec_dot;
    k->type[WOOLLY_TYPE_F16].vec_dot = f16_vec_dot;
    k->dot_f32 = dot_f32;
    k->dot_i8 = dot_i8;
}
