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

/* BF16 weights times BF16 activations with vdpbf16ps itself, as
 * llama.cpp's AVX512-BF16 build does (scalar.c: wl_bf16_vec_dot_scalar). */
static float bf16_vec_dot(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w, *y = a;
    __m512 c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps();
    double sum = 0.0;
    size_t i = 0;

    if (n % 32 == 0) {
        for (; i < n; i += 32)
            c1 = _mm512_dpbf16_ps(c1, (__m512bh)_mm512_loadu_si512(x + i), (__m512bh)_mm512_loadu_si512(y + i));
        return _mm512_reduce_add_ps(c1);
    }
    for (; i + 64 <= n; i += 64) {
        c1 = _mm512_dpbf16_ps(c1, (__m512bh)_mm512_loadu_si512(x + i), (__m512bh)_mm512_loadu_si512(y + i));
        c2 = _mm512_dpbf16_ps(c2, (__m512bh)_mm512_loadu_si512(x + i + 32),
                              (__m512bh)_mm512_loadu_si512(y + i + 32));
    }
    sum += (double)_mm512_reduce_add_ps(c1);
    sum += (double)_mm512_reduce_add_ps(c2);
    for (; i < n; i++) {
        uint32_t ux = (uint32_t)x[i] << 16, uy = (uint32_t)y[i] << 16;
        float fx, fy;
        memcpy(&fx, &ux, sizeof fx);
        memcpy(&fy, &uy, sizeof fy);
        sum += (double)(fx * fy);
    }
    return (float)sum;
}

void wl_kernels_init_bf16(wl_kernels *k)
{
    k->type[WOOLLY_TYPE_BF16].vec_dot = bf16_vec_dot;
    k->dot_bf16 = dot_bf16;
}
