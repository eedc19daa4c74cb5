/* scalar.c - the reference kernels: plain loops, the definition of each entry. */
#include <config.h>

#include <string.h>

#include "fp16.h"
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

static float f32_vec_dot(size_t n, const void *w, const void *a)
{
    return wl_dot_f32_scalar(n, w, a);
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
 * products on x86 do (the activations are not rounded to half). */
float wl_f16_vec_dot_scalar(size_t n, const void *w, const void *a)
{
    const uint16_t *x = w;
    const float *y = a;
    float sum = 0.0f;

    for (size_t i = 0; i < n; i++)
        sum += wl_f16_to_f32(x[i]) * y[i];
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

static float bf16_vec_dot(size_t n, const void *w, const void *a)
{
    return wl_dot_bf16_scalar(n, w, a);
}

void wl_kernels_init_scalar(wl_kernels *k)
{
    memset(k, 0, sizeof *k);
    k->type[WOOLLY_TYPE_F32] = (wl_type_kernels){ WOOLLY_TYPE_F32, f32_copy, f32_to_float, f32_vec_dot };
    k->type[WOOLLY_TYPE_F16] = (wl_type_kernels){ WOOLLY_TYPE_F32, wl_f16_from_float_scalar,
                                                  wl_f16_to_float_scalar, wl_f16_vec_dot_scalar };
    k->type[WOOLLY_TYPE_BF16] = (wl_type_kernels){ WOOLLY_TYPE_BF16, wl_bf16_from_float_scalar,
                                                   wl_bf16_to_float_scalar, bf16_vec_dot };

    k->dot_f32 = wl_dot_f32_scalar;
    k->dot_i8 = wl_dot_i8_scalar;
    k->dot_bf16 = wl_dot_bf16_scalar;
    k->gemm_i8 = wl_gemm_i8_scalar;
}
