/* bf16.c - kernels for AVX512-BF16 (built with BF16_CFLAGS). */
#include <config.h>

#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"

static float dot_bf16(size_t n, const uint16_t *x, const uint16_t *y)
{
    __m512 acc = _mm512_setzero_ps();
    size_t i = 0;
    float sum;

    for (; i + 32 <= n; i += 32) {
        __m512i vx = _mm512_loadu_si512(x + i);
        __m512i vy = _mm512_loadu_si512(y + i);
        acc = _mm512_dpbf16_ps(acc, (__m512bh)vx, (__m512bh)vy);
    }
    sum = _mm512_reduce_add_ps(acc);
    for (; i < n; i++) {
        uint32_t ux = (uint32_t)x[i] << 16, uy = (uint32_t)y[i] << 16;
        float fx, fy;
        memcpy(&fx, &ux, sizeof fx);
        memcpy(&fy, &uy, sizeof fy);
        sum += fx * fy;
    }
    return sum;
}

/* BF16 weights times BF16-rounded activations, widened to float and summed
 * with one 16-lane FMA accumulator: the order llama.cpp's x86 matrix
 * products use, which keeps woolly's bf16 logits closest to llama.cpp's
 * (dpbf16 would be faster but rounds differently). */
static float bf16_vec_dot(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w, *y = a;
    __m512 acc = _mm512_setzero_ps();
    size_t i = 0;

    for (; i + 16 <= n; i += 16) {
        __m512 vx = _mm512_castsi512_ps(_mm512_slli_epi32(
            _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(x + i))), 16));
        __m512 vy = _mm512_castsi512_ps(_mm512_slli_epi32(
            _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(y + i))), 16));
        acc = _mm512_fmadd_ps(vx, vy, acc);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 vx = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, x + i)), 16));
        __m512 vy = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, y + i)), 16));
        acc = _mm512_fmadd_ps(vx, vy, acc);
    }
    return _mm512_reduce_add_ps(acc);
}

void wl_kernels_init_bf16(wl_kernels *k)
{
    k->type[WOOLLY_TYPE_BF16].vec_dot = bf16_vec_dot;
    k->dot_bf16 = dot_bf16;
}
