/* avx512.c - kernels for AVX-512 F/BW/VL/DQ (built with AVX512_CFLAGS). */
#include <config.h>

#include <immintrin.h>

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

static float f32_vec_dot(size_t n, const void *w, const void *a)
{
    return dot_f32(n, w, a);
}

/* Half weights times float activations. */
static float f16_vec_dot(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w;
    const float *y = a;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        __m512 x0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i)));
        __m512 x1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i + 16)));
        acc0 = _mm512_fmadd_ps(x0, _mm512_loadu_ps(y + i), acc0);
        acc1 = _mm512_fmadd_ps(x1, _mm512_loadu_ps(y + i + 16), acc1);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 x0 = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i));
        acc0 = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m, y + i), acc0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

void wl_kernels_init_avx512(wl_kernels *k)
{
    xq_init(k);
    k->type[WOOLLY_TYPE_F32].vec_dot = f32_vec_dot;
    k->type[WOOLLY_TYPE_F16].vec_dot = f16_vec_dot;
    k->dot_f32 = dot_f32;
    k->dot_i8 = dot_i8;
}
