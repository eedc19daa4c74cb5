/* neon.c - kernels for AArch64 Advanced SIMD (NEON_CFLAGS). */
#include <config.h>

#include <arm_neon.h>

#include "kernels/kernels.h"

static float dot_f32(size_t n, const float *x, const float *y)
{
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    size_t i = 0;
    float sum;

    for (; i + 8 <= n; i += 8) {
        acc0 = vfmaq_f32(acc0, vld1q_f32(x + i), vld1q_f32(y + i));
        acc1 = vfmaq_f32(acc1, vld1q_f32(x + i + 4), vld1q_f32(y + i + 4));
    }
    sum = vaddvq_f32(vaddq_f32(acc0, acc1));
    for (; i < n; i++)
        sum += x[i] * y[i];
    return sum;
}

static int32_t dot_i8(size_t n, const int8_t *x, const int8_t *y)
{
    int32x4_t acc = vdupq_n_s32(0);
    size_t i = 0;
    int32_t sum;

    for (; i + 16 <= n; i += 16) {
        int8x16_t vx = vld1q_s8(x + i), vy = vld1q_s8(y + i);
        int16x8_t lo = vmull_s8(vget_low_s8(vx), vget_low_s8(vy));
        int16x8_t hi = vmull_s8(vget_high_s8(vx), vget_high_s8(vy));
        acc = vpadalq_s16(acc, lo);
        acc = vpadalq_s16(acc, hi);
    }
    sum = vaddvq_s32(acc);
    for (; i < n; i++)
        sum += (int32_t)x[i] * (int32_t)y[i];
    return sum;
}

static float f32_vec_dot(size_t n, const void *w, const void *a)
{
    return dot_f32(n, w, a);
}

void wl_kernels_init_neon(wl_kernels *k)
{
    k->type[WOOLLY_TYPE_F32].vec_dot = f32_vec_dot;
    k->dot_f32 = dot_f32;
    k->dot_i8 = dot_i8;
}
