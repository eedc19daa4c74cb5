/* dotprod.c - kernels for the AArch64 dot-product extension (DOTPROD_CFLAGS). */
#include <config.h>

#include <arm_neon.h>

#include "kernels/kernels.h"

static int32_t dot_i8(size_t n, const int8_t *x, const int8_t *y)
{
    int32x4_t acc = vdupq_n_s32(0);
    size_t i = 0;
    int32_t sum;

    for (; i + 16 <= n; i += 16)
        acc = vdotq_s32(acc, vld1q_s8(x + i), vld1q_s8(y + i));
    sum = vaddvq_s32(acc);
    for (; i < n; i++)
        sum += (int32_t)x[i] * (int32_t)y[i];
    return sum;
}

void wl_kernels_init_dotprod(wl_kernels *k)
{
    k->dot_i8 = dot_i8;
}
