/* fp16.h - IEEE half and bfloat16 conversions, exact and portable. */
#ifndef WOOLLY_FP16_H
#define WOOLLY_FP16_H

#include <stdint.h>
#include <string.h>

static inline float wl_bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t wl_f32_to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Half to float, exact for every input (subnormals, infinities, NaN). */
static inline float wl_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;

    if (exp == 0x1f)                         /* inf, NaN */
        return wl_bits_to_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {                          /* zero, subnormal: man * 2^-24 */
        float f = (float)man * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    return wl_bits_to_f32(sign | ((exp + 112) << 23) | (man << 13));
}

/* Float to half, rounding to nearest even; overflow gives infinity. */
static inline uint16_t wl_f32_to_f16(float f)
{
    uint32_t u = wl_f32_to_bits(f);
    uint32_t sign = (u >> 16) & 0x8000;
    uint32_t exp = (u >> 23) & 0xff, man = u & 0x7fffff;

    if (exp == 0xff)                                    /* inf, NaN (quieted) */
        return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 0x1f)
        return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {                                       /* subnormal or zero */
        if (e < -10)
            return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
        h++;                                            /* may carry into inf: right */
    return (uint16_t)(sign | h);
}

static inline float wl_bf16_to_f32(uint16_t h)
{
    return wl_bits_to_f32((uint32_t)h << 16);
}

/* Float to bfloat16, rounding to nearest even; NaN stays NaN. */
static inline uint16_t wl_f32_to_bf16(float f)
{
    uint32_t u = wl_f32_to_bits(f);

    if ((u & 0x7fffffff) > 0x7f800000)
        return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

#endif /* WOOLLY_FP16_H */
