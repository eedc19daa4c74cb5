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

/* F32 weights in the order every level uses (scalar.c: one 16-lane FMA
 * accumulator, here four registers of 4, added as wl_hsum16). */
static float f32_vec_dot(size_t n, const void *w, const void *a)
{
    const float *x = w, *y = a;
    float32x4_t acc[4];
    float u[4], v0, v1;

    if (n % 16)
        return wl_dot_f32_ggml_scalar(n, x, y);
    for (int r = 0; r < 4; r++)
        acc[r] = vdupq_n_f32(0.0f);
    for (size_t i = 0; i < n; i += 16)
        for (int r = 0; r < 4; r++)
            acc[r] = vfmaq_f32(acc[r], vld1q_f32(x + i + 4 * r), vld1q_f32(y + i + 4 * r));
    /* lanes 0-3 + 8-11, 4-7 + 12-15, then those halves, then pairs */
    vst1q_f32(u, vaddq_f32(vaddq_f32(acc[0], acc[2]), vaddq_f32(acc[1], acc[3])));
    v0 = u[0] + u[2];
    v1 = u[1] + u[3];
    return v0 + v1;
}

void wl_kernels_init_neon(wl_kernels *k)
{
    k->type[WOOLLY_TYPE_F32].vec_dot = f32_vec_dot;
    k->dot_f32 = dot_f32;
    k->dot_i8 = dot_i8;
}
