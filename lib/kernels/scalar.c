/* scalar.c - the reference kernels: plain loops, the definition of each entry. */
#include <config.h>

#include <string.h>

#include "kernels/kernels.h"

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

static float bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;

    memcpy(&f, &u, sizeof f);
    return f;
}

float wl_dot_bf16_scalar(size_t n, const uint16_t *x, const uint16_t *y)
{
    float sum = 0.0f;

    for (size_t i = 0; i < n; i++)
        sum += bf16_to_f32(x[i]) * bf16_to_f32(y[i]);
    return sum;
}

void wl_gemm_i8_scalar(size_t m, size_t n, size_t k, const int8_t *a, size_t lda,
                       const int8_t *b, size_t ldb, int32_t *c, size_t ldc)
{
    for (size_t i = 0; i < m; i++)          /* a: m x k, row stride lda */
        for (size_t j = 0; j < n; j++)      /* b: n x k, row stride ldb */
            c[i * ldc + j] = wl_dot_i8_scalar(k, a + i * lda, b + j * ldb);
}

void wl_kernels_init_scalar(wl_kernels *k)
{
    k->dot_f32 = wl_dot_f32_scalar;
    k->dot_i8 = wl_dot_i8_scalar;
    k->dot_bf16 = wl_dot_bf16_scalar;
    k->gemm_i8 = wl_gemm_i8_scalar;
}
