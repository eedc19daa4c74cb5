/*
 * quant.c - scalar quantizers and dequantizers of the block formats.
 *
 * The weight quantizers choose their scales the way llama.cpp's reference
 * quantizers (quantize_row_*_ref in ggml-quants.c) do, operation for
 * operation, so that quantizing a tensor here gives the bytes llama-quantize
 * writes without an importance matrix.  The K-quants search for each
 * sub-block's scale (and min) by least squares over a sweep of candidate
 * scales, then quantize the sub-block scales against the super-block's f16
 * scale and re-quantize every element with the scale it will really be
 * decoded with.  Layouts: quant.h.
 */
#include <config.h>

#include <float.h>
#include <math.h>
#include <string.h>

#include "fp16.h"
#include "internal.h"
#include "quant.h"
#include "types.h"

/* Groups whose largest magnitude is below this quantize to zero. */
#define GROUP_MAX_EPS 1e-15f

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* (int)f for 0 <= f < hi, else the nearer end: ggml's (int8_t)(x + 8.5f)
 * truncation without undefined behaviour for NaN or huge inputs. */
static inline int trunc_clamped(float f, int hi)
{
    if (!(f > 0.0f))
        return 0;
    return f >= (float)hi ? hi : (int)f;
}

/* The element of largest magnitude (the first of equals), signed. */
static float signed_absmax(const float *x, int n)
{
    float amax = 0.0f, max = 0.0f;

    for (int i = 0; i < n; i++) {
        if (amax < fabsf(x[i])) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    }
    return max;
}

static float absmax(const float *x, int n)
{
    float amax = 0.0f;

    for (int i = 0; i < n; i++)
        amax = fmaxf(amax, fabsf(x[i]));
    return amax;
}

static void min_max(const float *x, int n, float *min, float *max)
{
    *min = FLT_MAX;
    *max = -FLT_MAX;
    for (int i = 0; i < n; i++) {
        if (x[i] < *min)
            *min = x[i];
        if (x[i] > *max)
            *max = x[i];
    }
}

/* ---- 32-element blocks --------------------------------------------------- */

/* Elements j and j+16 share byte j: low nibble, high nibble. */
static void pack_nibbles(const uint8_t q[WL_QK], uint8_t qs[WL_QK / 2])
{
    for (int j = 0; j < WL_QK / 2; j++)
        qs[j] = (uint8_t)((q[j] & 0xF) | (q[j + WL_QK / 2] & 0xF) << 4);
}

/* The fifth bit of element j goes to bit j of qh (little-endian). */
static void pack_fifth_bits(const uint8_t q[WL_QK], uint8_t qh[4])
{
    uint32_t bits = 0;

    for (int j = 0; j < WL_QK; j++)
        bits |= (uint32_t)(q[j] >> 4 & 1) << j;
    for (int b = 0; b < 4; b++)
        qh[b] = (uint8_t)(bits >> (8 * b));
}

static uint32_t load_fifth_bits(const uint8_t qh[4])
{
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

/* Symmetric: d = max / -(2^(bits-1)) with max the element of largest
 * magnitude, so that it lands exactly on the most negative level. */
static uint16_t quantize_symmetric(const float *x, int levels, uint8_t q[WL_QK])
{
    const int half = levels / 2;
    float d = signed_absmax(x, WL_QK) / (float)-half;
    float id = d != 0.0f ? 1.0f / d : 0.0f;

    for (int j = 0; j < WL_QK; j++)
        q[j] = (uint8_t)trunc_clamped(x[j] * id + ((float)half + 0.5f), levels - 1);
    return wl_f32_to_f16(d);
}

/* With offset: d = (max - min) / (levels - 1), m = min. */
static void quantize_affine(const float *x, int levels, uint16_t *dh, uint16_t *mh, uint8_t q[WL_QK])
{
    float min, max;

    min_max(x, WL_QK, &min, &max);
    float d = (max - min) / (float)(levels - 1);
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    *dh = wl_f32_to_f16(d);
    *mh = wl_f32_to_f16(min);
    for (int j = 0; j < WL_QK; j++)
        q[j] = (uint8_t)trunc_clamped((x[j] - min) * id + 0.5f, levels - 1);
}

void wl_quantize_q4_0(const float *x, void *vy, size_t n)
{
    wl_block_q4_0 *y = vy;
    uint8_t q[WL_QK];

    for (size_t i = 0; i < n / WL_QK; i++, x += WL_QK) {
        y[i].d = quantize_symmetric(x, 16, q);
        pack_nibbles(q, y[i].qs);
    }
}

void wl_quantize_q4_1(const float *x, void *vy, size_t n)
{
    wl_block_q4_1 *y = vy;
    uint8_t q[WL_QK];

    for (size_t i = 0; i < n / WL_QK; i++, x += WL_QK) {
        quantize_affine(x, 16, &y[i].d, &y[i].m, q);
        pack_nibbles(q, y[i].qs);
    }
}

void wl_quantize_q5_0(const float *x, void *vy, size_t n)
{
    wl_block_q5_0 *y = vy;
    uint8_t q[WL_QK];

    for (size_t i = 0; i < n / WL_QK; i++, x += WL_QK) {
        y[i].d = quantize_symmetric(x, 32, q);
        pack_nibbles(q, y[i].qs);
        pack_fifth_bits(q, y[i].qh);
    }
}

void wl_quantize_q5_1(const float *x, void *vy, size_t n)
{
    wl_block_q5_1 *y = vy;
    uint8_t q[WL_QK];

    for (size_t i = 0; i < n / WL_QK; i++, x += WL_QK) {
        quantize_affine(x, 32, &y[i].d, &y[i].m, q);
        pack_nibbles(q, y[i].qs);
        pack_fifth_bits(q, y[i].qh);
    }
}

void wl_quantize_q8_0(const float *x, void *vy, size_t n)
{
    wl_block_q8_0 *y = vy;

    for (size_t i = 0; i < n / WL_QK; i++, x += WL_QK) {
        float d = absmax(x, WL_QK) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = wl_f32_to_f16(d);
        for (int j = 0; j < WL_QK; j++)
            y[i].qs[j] = (int8_t)clampi((int)roundf(x[j] * id), -127, 127);
    }
}

/* One activation block of 32: d and the quants; returns sum(q). */
static int quantize_act_block(const float *x, float *d, int8_t qs[WL_QK])
{
    float amax = absmax(x, WL_QK);
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int sum = 0;

    /* Below 127 / FLT_MAX, 127 / amax is inf (and then x * id inf or
     * NaN); d is 0 in f16 there, and the quants are made 0 too, as every
     * level makes them (llama.cpp's are undefined). */
    if (id > FLT_MAX)
        id = 0.0f;

    *d = amax / 127.0f;
    for (int j = 0; j < WL_QK; j++) {
        qs[j] = (int8_t)clampi(wl_nearest_int(x[j] * id), -127, 127);
        sum += qs[j];
    }
    return sum;
}

void wl_quantize_q8_0_act(const float *x, void *vy, size_t n)
{
    wl_block_q8_0 *y = vy;
    float d;

    for (size_t i = 0; i < n / WL_QK; i++, x += WL_QK) {
        quantize_act_block(x, &d, y[i].qs);
        y[i].d = wl_f32_to_f16(d);
    }
}

void wl_quantize_q8_1_act(const float *x, void *vy, size_t n)
{
    wl_block_q8_1 *y = vy;
    float d;

    for (size_t i = 0; i < n / WL_QK; i++, x += WL_QK) {
        int sum = quantize_act_block(x, &d, y[i].qs);
        y[i].d = wl_f32_to_f16(d);
        y[i].s = wl_f32_to_f16(d * (float)sum);
    }
}

void wl_quantize_q8_k_act(const float *x, void *vy, size_t n)
{
    wl_block_q8_k *y = vy;

    for (size_t i = 0; i < n / WL_QK_K; i++, x += WL_QK_K) {
        float max = signed_absmax(x, WL_QK_K);
        memset(y[i].bsums, 0, sizeof y[i].bsums);
        /* |max| below 127 / FLT_MAX makes iscale infinite: a block of 0s,
         * as every level makes it (llama.cpp's quants are undefined). */
        if (max == 0.0f || fabsf(-127.0f / max) > FLT_MAX) {
            y[i].d = 0.0f;
            memset(y[i].qs, 0, sizeof y[i].qs);
            continue;
        }
        float iscale = -127.0f / max;
        for (int j = 0; j < WL_QK_K; j++) {
            int v = wl_nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)clampi(v, -128, 127);
            y[i].bsums[j / 16] = (int16_t)(y[i].bsums[j / 16] + y[i].qs[j]);
        }
        y[i].d = 1.0f / iscale;
    }
}

/* ---- K-quants: the scale searches ----------------------------------------- */

/* Signed quants in [-nmax, nmax-1] for N elements, weighted by x^2: start
 * from the scale that maps the largest magnitude to -nmax, then try 18
 * nearby ones and keep the least-squares best.  L gets q + nmax. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L)
{
    float max = signed_absmax(x, n);

    if (fabsf(max) < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)-nmax / max;
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = clampi(wl_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        float w = x[i] * x[i];
        L[i] = (int8_t)(l + nmax);
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0)
            continue;
        iscale = -((float)nmax + 0.1f * (float)is) / max;
        sumlx = suml2 = 0.0f;
        for (int i = 0; i < n; i++) {
            int l = clampi(wl_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + clampi(wl_nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* As make_qx_quants, but instead of a sweep, up to 5 rounds of moving
 * single quants to their best level while the weighted fit improves. */
static float make_q3_quants(int n, int nmax, const float *x, int8_t *L)
{
    float max = signed_absmax(x, n);

    if (fabsf(max) < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)-nmax / max;
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = clampi(wl_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        float w = x[i] * x[i];
        L[i] = (int8_t)l;
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int n_changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            if (slx > 0.0f) {
                float sl2 = suml2 - w * (float)L[i] * (float)L[i];
                int new_l = clampi(wl_nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (new_l != L[i]) {
                    slx += w * x[i] * (float)new_l;
                    sl2 += w * (float)new_l * (float)new_l;
                    if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        n_changed++;
                    }
                }
            }
        }
        if (!n_changed)
            break;
    }
    for (int i = 0; i < n; i++)
        L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Unsigned quants in [0, nmax] with a min: x ~ scale*L - the_min.  Sweep
 * nstep+1 candidate scales from (nmax + rmin)/(max - min) in steps of rdelta,
 * solve scale and min by weighted least squares for each rounding, keep the
 * smallest weighted error (absolute with use_mad, else squared). */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                              float *the_min, float rmin, float rdelta, int nstep, int use_mad)
{
    uint8_t Laux[32];
    float min = x[0], max = x[0];
    float sum_w = weights[0], sum_x = sum_w * x[0];

    for (int i = 1; i < n; i++) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        sum_w += weights[i];
        sum_x += weights[i] * x[i];
    }
    if (min > 0.0f)
        min = 0.0f;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.0f;
    }
    float iscale = (float)nmax / (max - min);
    float scale = 1.0f / iscale;
    float best_error = 0.0f;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)clampi(wl_nearest_int(iscale * (x[i] - min)), 0, nmax);
        float diff = scale * (float)L[i] + min - x[i];
        best_error += weights[i] * (use_mad ? fabsf(diff) : diff * diff);
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
        for (int i = 0; i < n; i++) {
            int l = clampi(wl_nearest_int(iscale * (x[i] - min)), 0, nmax);
            float w = weights[i];
            Laux[i] = (uint8_t)l;
            sum_l += w * (float)l;
            sum_l2 += w * (float)l * (float)l;
            sum_xl += w * (float)l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0.0f) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0.0f) {
                this_min = 0.0f;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0.0f;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * (float)Laux[i] + this_min - x[i];
                cur_error += weights[i] * (use_mad ? fabsf(diff) : diff * diff);
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* 256 2-bit quants into 64 bytes: byte 32h+l holds elements 128h+l+32s in
 * bits 2s..2s+1 (q2_k's quants, q3_k's two low bits). */
static void pack_2bit(const uint8_t L[WL_QK_K], uint8_t qs[WL_QK_K / 4])
{
    for (int h = 0; h < WL_QK_K; h += 128)
        for (int l = 0; l < 32; l++)
            qs[h / 4 + l] = (uint8_t)(L[h + l] | L[h + l + 32] << 2 | L[h + l + 64] << 4 | L[h + l + 96] << 6);
}

/* ---- Q2_K ------------------------------------------------------------------ */

void wl_quantize_q2_k(const float *x, void *vy, size_t n)
{
    wl_block_q2_k *y = vy;
    uint8_t L[WL_QK_K];
    float weights[16], mins[16], scales[16];

    for (size_t i = 0; i < n / WL_QK_K; i++, x += WL_QK_K) {
        float max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++)
                weights[l] = fabsf(x[16 * j + l]);
            scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, 1);
            max_scale = fmaxf(max_scale, scales[j]);
            max_min = fmaxf(max_min, mins[j]);
        }
        /* The sub-block scales and mins, 4 bits each against d and dmin. */
        memset(y[i].scales, 0, sizeof y[i].scales);
        y[i].d = y[i].dmin = 0;
        if (max_scale > 0.0f) {
            float iscale = 15.0f / max_scale;
            for (int j = 0; j < 16; j++)
                y[i].scales[j] = (uint8_t)clampi(wl_nearest_int(iscale * scales[j]), 0, 15);
            y[i].d = wl_f32_to_f16(max_scale / 15.0f);
        }
        if (max_min > 0.0f) {
            float iscale = 15.0f / max_min;
            for (int j = 0; j < 16; j++)
                y[i].scales[j] |= (uint8_t)(clampi(wl_nearest_int(iscale * mins[j]), 0, 15) << 4);
            y[i].dmin = wl_f32_to_f16(max_min / 15.0f);
        }
        /* Re-quantize with the scales as they will be decoded. */
        for (int j = 0; j < 16; j++) {
            const float d = wl_f16_to_f32(y[i].d) * (float)(y[i].scales[j] & 0xF);
            if (d == 0.0f)
                continue;
            const float dm = wl_f16_to_f32(y[i].dmin) * (float)(y[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (uint8_t)clampi(wl_nearest_int((x[16 * j + l] + dm) / d), 0, 3);
        }
        pack_2bit(L, y[i].qs);
    }
}

void wl_dequantize_q2_k(const void *vx, float *y, size_t n)
{
    const wl_block_q2_k *x = vx;

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        const float d = wl_f16_to_f32(x[i].d), dmin = wl_f16_to_f32(x[i].dmin);
        for (int e = 0; e < WL_QK_K; e++) {
            int h = e / 128, s = e % 128 / 32, l = e % 32;
            uint8_t sc = x[i].scales[e / 16];
            int q = x[i].qs[32 * h + l] >> (2 * s) & 3;
            *y++ = d * (float)(sc & 0xF) * (float)q - dmin * (float)(sc >> 4);
        }
    }
}

/* ---- Q3_K ------------------------------------------------------------------ */

void wl_quantize_q3_k(const float *x, void *vy, size_t n)
{
    wl_block_q3_k *y = vy;
    int8_t L[WL_QK_K];
    uint8_t U[WL_QK_K];
    float scales[16];
    int8_t sc[16];

    for (size_t i = 0; i < n / WL_QK_K; i++, x += WL_QK_K) {
        float max_scale = 0.0f, amax = 0.0f;
        for (int j = 0; j < 16; j++) {
            scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > amax) {
                amax = fabsf(scales[j]);
                max_scale = scales[j];
            }
        }
        /* 6-bit signed sub-block scales: low nibbles in bytes 0-7 (j < 8
         * low, j >= 8 high), the two high bits in bytes 8-11. */
        memset(y[i].scales, 0, sizeof y[i].scales);
        y[i].d = 0;
        if (max_scale != 0.0f) {
            float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; j++) {
                int l = clampi(wl_nearest_int(iscale * scales[j]), -32, 31) + 32;
                y[i].scales[j % 8] |= (uint8_t)((l & 0xF) << (j < 8 ? 0 : 4));
                y[i].scales[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            y[i].d = wl_f32_to_f16(1.0f / iscale);
        }
        wl_q3_k_scales(y[i].scales, sc);
        for (int j = 0; j < 16; j++) {
            const float d = wl_f16_to_f32(y[i].d) * (float)sc[j];
            if (d == 0.0f)
                continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(clampi(wl_nearest_int(x[16 * j + l] / d), -4, 3) + 4);
        }
        /* The high bit of element e is bit e/32 of hmask[e%32]. */
        memset(y[i].hmask, 0, sizeof y[i].hmask);
        for (int e = 0; e < WL_QK_K; e++) {
            if (L[e] > 3)
                y[i].hmask[e % 32] |= (uint8_t)(1u << (e / 32));
            U[e] = (uint8_t)(L[e] & 3);
        }
        pack_2bit(U, y[i].qs);
    }
}

void wl_dequantize_q3_k(const void *vx, float *y, size_t n)
{
    const wl_block_q3_k *x = vx;
    int8_t sc[16];

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        const float d = wl_f16_to_f32(x[i].d);
        wl_q3_k_scales(x[i].scales, sc);
        for (int e = 0; e < WL_QK_K; e++) {
            int h = e / 128, s = e % 128 / 32, l = e % 32;
            int q = (x[i].qs[32 * h + l] >> (2 * s) & 3) - (x[i].hmask[l] >> (e / 32) & 1 ? 0 : 4);
            *y++ = d * (float)sc[e / 16] * (float)q;
        }
    }
}

/* ---- Q4_K and Q5_K ---------------------------------------------------------- */

/* Pack 6-bit scales and mins as wl_q4_k_scales unpacks them. */
static void pack_k4_scales(const uint8_t ls[8], const uint8_t lm[8], uint8_t out[12])
{
    for (int j = 0; j < 4; j++) {
        out[j] = (uint8_t)(ls[j] | (ls[j + 4] >> 4) << 6);
        out[j + 4] = (uint8_t)(lm[j] | (lm[j + 4] >> 4) << 6);
        out[j + 8] = (uint8_t)((ls[j + 4] & 0xF) | (lm[j + 4] & 0xF) << 4);
    }
}

/* The shared part of q4_k and q5_k: quants in [0, nmax] for 8 sub-blocks of
 * 32 with 6-bit scales and mins; fills d, dmin, the packed scales and L. */
static void quantize_k_affine(const float *x, int nmax, float rmin, int nstep, uint16_t *dh, uint16_t *dminh,
                              uint8_t packed[12], uint8_t L[WL_QK_K])
{
    float weights[32], mins[8], scales[8];
    float max_scale = 0.0f, max_min = 0.0f;
    uint8_t ls[8], lm[8];

    for (int j = 0; j < 8; j++) {
        const float *xb = x + 32 * j;
        float sum_x2 = 0.0f;
        for (int l = 0; l < 32; l++)
            sum_x2 += xb[l] * xb[l];
        float av_x = sqrtf(sum_x2 / 32.0f);
        for (int l = 0; l < 32; l++)
            weights[l] = av_x + fabsf(xb[l]);
        scales[j] = make_qkx2_quants(32, nmax, xb, weights, L + 32 * j, &mins[j], rmin, 0.1f, nstep, 0);
        max_scale = fmaxf(max_scale, scales[j]);
        max_min = fmaxf(max_min, mins[j]);
    }
    float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < 8; j++) {
        ls[j] = (uint8_t)clampi(wl_nearest_int(inv_scale * scales[j]), 0, 63);
        lm[j] = (uint8_t)clampi(wl_nearest_int(inv_min * mins[j]), 0, 63);
    }
    pack_k4_scales(ls, lm, packed);
    *dh = wl_f32_to_f16(max_scale / 63.0f);
    *dminh = wl_f32_to_f16(max_min / 63.0f);
    for (int j = 0; j < 8; j++) {
        const float d = wl_f16_to_f32(*dh) * (float)ls[j];
        if (d == 0.0f)
            continue;
        const float dm = wl_f16_to_f32(*dminh) * (float)lm[j];
        for (int l = 0; l < 32; l++)
            L[32 * j + l] = (uint8_t)clampi(wl_nearest_int((x[32 * j + l] + dm) / d), 0, nmax);
    }
}

/* Element 64c+l sits in the low nibble of qs[32c+l], element 64c+32+l in
 * its high nibble; q5_k's fifth bits go to bit 2c (and 2c+1) of qh[l]. */
void wl_quantize_q4_k(const float *x, void *vy, size_t n)
{
    wl_block_q4_k *y = vy;
    uint8_t L[WL_QK_K];

    for (size_t i = 0; i < n / WL_QK_K; i++, x += WL_QK_K) {
        quantize_k_affine(x, 15, -1.0f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                y[i].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | L[64 * c + 32 + l] << 4);
    }
}

void wl_quantize_q5_k(const float *x, void *vy, size_t n)
{
    wl_block_q5_k *y = vy;
    uint8_t L[WL_QK_K];

    for (size_t i = 0; i < n / WL_QK_K; i++, x += WL_QK_K) {
        quantize_k_affine(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        memset(y[i].qh, 0, sizeof y[i].qh);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                y[i].qs[32 * c + l] = (uint8_t)((lo & 0xF) | (hi & 0xF) << 4);
                y[i].qh[l] |= (uint8_t)((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
            }
        }
    }
}

/* Decode one q4_k/q5_k super-block: element e has sub-block e/32. */
static void dequantize_k_affine(uint16_t dh, uint16_t dminh, const uint8_t packed[12], const uint8_t qs[128],
                                const uint8_t *qh, float *y)
{
    const float d = wl_f16_to_f32(dh), min = wl_f16_to_f32(dminh);
    uint8_t sc[8], mn[8];

    wl_q4_k_scales(packed, sc, mn);
    for (int e = 0; e < WL_QK_K; e++) {
        int j = e / 32, l = e % 32;
        int q = qs[32 * (j / 2) + l] >> (4 * (j % 2)) & 0xF;
        if (qh)
            q |= (qh[l] >> j & 1) << 4;
        y[e] = d * (float)sc[j] * (float)q - min * (float)mn[j];
    }
}

void wl_dequantize_q4_k(const void *vx, float *y, size_t n)
{
    const wl_block_q4_k *x = vx;

    for (size_t i = 0; i < n / WL_QK_K; i++)
        dequantize_k_affine(x[i].d, x[i].dmin, x[i].scales, x[i].qs, NULL, y + i * WL_QK_K);
}

void wl_dequantize_q5_k(const void *vx, float *y, size_t n)
{
    const wl_block_q5_k *x = vx;

    for (size_t i = 0; i < n / WL_QK_K; i++)
        dequantize_k_affine(x[i].d, x[i].dmin, x[i].scales, x[i].qs, x[i].qh, y + i * WL_QK_K);
}

/* ---- Q6_K ------------------------------------------------------------------ */

/* Element 128h + 32s + l (s = 0..3): low nibble in ql[64h + l + 32(s&1)]
 * (low half for s < 2, high half otherwise), two high bits at 2s of qh[32h+l]. */
void wl_quantize_q6_k(const float *x, void *vy, size_t n)
{
    wl_block_q6_k *y = vy;
    int8_t L[WL_QK_K];
    float scales[16];

    for (size_t i = 0; i < n / WL_QK_K; i++, x += WL_QK_K) {
        float max_scale = 0.0f, max_abs_scale = 0.0f;
        for (int j = 0; j < 16; j++) {
            scales[j] = make_qx_quants(16, 32, x + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > max_abs_scale) {
                max_abs_scale = fabsf(scales[j]);
                max_scale = scales[j];
            }
        }
        memset(&y[i], 0, sizeof y[i]);
        if (max_abs_scale < GROUP_MAX_EPS)
            continue;
        float iscale = -128.0f / max_scale;
        y[i].d = wl_f32_to_f16(1.0f / iscale);
        for (int j = 0; j < 16; j++)
            y[i].scales[j] = (int8_t)clampi(wl_nearest_int(iscale * scales[j]), -128, 127);
        for (int j = 0; j < 16; j++) {
            const float d = wl_f16_to_f32(y[i].d) * (float)y[i].scales[j];
            if (d == 0.0f)
                continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(clampi(wl_nearest_int(x[16 * j + l] / d), -32, 31) + 32);
        }
        for (int e = 0; e < WL_QK_K; e++) {
            int h = e / 128, s = e % 128 / 32, l = e % 32;
            y[i].ql[64 * h + 32 * (s & 1) + l] |= (uint8_t)((L[e] & 0xF) << (4 * (s >> 1)));
            y[i].qh[32 * h + l] |= (uint8_t)((L[e] >> 4) << (2 * s));
        }
    }
}

void wl_dequantize_q6_k(const void *vx, float *y, size_t n)
{
    const wl_block_q6_k *x = vx;

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        const float d = wl_f16_to_f32(x[i].d);
        for (int e = 0; e < WL_QK_K; e++) {
            int h = e / 128, s = e % 128 / 32, l = e % 32;
            int lo = x[i].ql[64 * h + 32 * (s & 1) + l] >> (4 * (s >> 1)) & 0xF;
            int hi = x[i].qh[32 * h + l] >> (2 * s) & 3;
            *y++ = d * (float)x[i].scales[e / 16] * (float)((lo | hi << 4) - 32);
        }
    }
}

/* ---- 32-element dequantizers -------------------------------------------- */

void wl_dequantize_q4_0(const void *vx, float *y, size_t n)
{
    const wl_block_q4_0 *x = vx;

    for (size_t i = 0; i < n / WL_QK; i++, y += WL_QK) {
        const float d = wl_f16_to_f32(x[i].d);
        for (int j = 0; j < WL_QK / 2; j++) {
            y[j] = (float)((x[i].qs[j] & 0xF) - 8) * d;
            y[j + WL_QK / 2] = (float)((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void wl_dequantize_q4_1(const void *vx, float *y, size_t n)
{
    const wl_block_q4_1 *x = vx;

    for (size_t i = 0; i < n / WL_QK; i++, y += WL_QK) {
        const float d = wl_f16_to_f32(x[i].d), m = wl_f16_to_f32(x[i].m);
        for (int j = 0; j < WL_QK / 2; j++) {
            y[j] = (float)(x[i].qs[j] & 0xF) * d + m;
            y[j + WL_QK / 2] = (float)(x[i].qs[j] >> 4) * d + m;
        }
    }
}

void wl_dequantize_q5_0(const void *vx, float *y, size_t n)
{
    const wl_block_q5_0 *x = vx;

    for (size_t i = 0; i < n / WL_QK; i++, y += WL_QK) {
        const float d = wl_f16_to_f32(x[i].d);
        const uint32_t qh = load_fifth_bits(x[i].qh);
        for (int j = 0; j < WL_QK / 2; j++) {
            int lo = (x[i].qs[j] & 0xF) | (int)(qh >> j & 1) << 4;
            int hi = (x[i].qs[j] >> 4) | (int)(qh >> (j + 16) & 1) << 4;
            y[j] = (float)(lo - 16) * d;
            y[j + WL_QK / 2] = (float)(hi - 16) * d;
        }
    }
}

void wl_dequantize_q5_1(const void *vx, float *y, size_t n)
{
    const wl_block_q5_1 *x = vx;

    for (size_t i = 0; i < n / WL_QK; i++, y += WL_QK) {
        const float d = wl_f16_to_f32(x[i].d), m = wl_f16_to_f32(x[i].m);
        const uint32_t qh = load_fifth_bits(x[i].qh);
        for (int j = 0; j < WL_QK / 2; j++) {
            int lo = (x[i].qs[j] & 0xF) | (int)(qh >> j & 1) << 4;
            int hi = (x[i].qs[j] >> 4) | (int)(qh >> (j + 16) & 1) << 4;
            y[j] = (float)lo * d + m;
            y[j + WL_QK / 2] = (float)hi * d + m;
        }
    }
}

void wl_dequantize_q8_0(const void *vx, float *y, size_t n)
{
    const wl_block_q8_0 *x = vx;

    for (size_t i = 0; i < n / WL_QK; i++, y += WL_QK) {
        const float d = wl_f16_to_f32(x[i].d);
        for (int j = 0; j < WL_QK; j++)
            y[j] = (float)x[i].qs[j] * d;
    }
}

void wl_dequantize_q8_1(const void *vx, float *y, size_t n)
{
    const wl_block_q8_1 *x = vx;

    for (size_t i = 0; i < n / WL_QK; i++, y += WL_QK) {
        const float d = wl_f16_to_f32(x[i].d);
        for (int j = 0; j < WL_QK; j++)
            y[j] = (float)x[i].qs[j] * d;
    }
}

void wl_dequantize_q8_k(const void *vx, float *y, size_t n)
{
    const wl_block_q8_k *x = vx;

    for (size_t i = 0; i < n / WL_QK_K; i++, y += WL_QK_K)
        for (int j = 0; j < WL_QK_K; j++)
            y[j] = x[i].d * (float)x[i].qs[j];
}

/* ---- by type ---------------------------------------------------------------- */

static const struct codec {
    void (*quantize)(const float *x, void *y, size_t n);
    void (*dequantize)(const void *x, float *y, size_t n);
} codecs[WOOLLY_TYPE_COUNT] = {
    [WOOLLY_TYPE_Q4_0] = { wl_quantize_q4_0, wl_dequantize_q4_0 },
    [WOOLLY_TYPE_Q4_1] = { wl_quantize_q4_1, wl_dequantize_q4_1 },
    [WOOLLY_TYPE_Q5_0] = { wl_quantize_q5_0, wl_dequantize_q5_0 },
    [WOOLLY_TYPE_Q5_1] = { wl_quantize_q5_1, wl_dequantize_q5_1 },
    [WOOLLY_TYPE_Q8_0] = { wl_quantize_q8_0, wl_dequantize_q8_0 },
    [WOOLLY_TYPE_Q8_1] = { wl_quantize_q8_1_act, wl_dequantize_q8_1 },
    [WOOLLY_TYPE_Q2_K] = { wl_quantize_q2_k, wl_dequantize_q2_k },
    [WOOLLY_TYPE_Q3_K] = { wl_quantize_q3_k, wl_dequantize_q3_k },
    [WOOLLY_TYPE_Q4_K] = { wl_quantize_q4_k, wl_dequantize_q4_k },
    [WOOLLY_TYPE_Q5_K] = { wl_quantize_q5_k, wl_dequantize_q5_k },
    [WOOLLY_TYPE_Q6_K] = { wl_quantize_q6_k, wl_dequantize_q6_k },
    [WOOLLY_TYPE_Q8_K] = { wl_quantize_q8_k_act, wl_dequantize_q8_k },
};

/* The codec of TYPE when N is a whole number of its blocks, else NULL. */
static const struct codec *codec_for(woolly_type type, size_t n)
{
    const struct wl_type_traits *t = wl_type_traits((uint32_t)type);

    if (!t || !codecs[type].quantize || n % t->block_size != 0)
        return NULL;
    return &codecs[type];
}

woolly_status wl_quantize_rows(woolly_type type, const float *src, void *dst, size_t n_rows, size_t n_per_row)
{
    const struct codec *c = codec_for(type, n_per_row);
    size_t n;

    if (!c || (!src && n_rows && n_per_row) || (!dst && n_rows && n_per_row))
        return WOOLLY_ERR_INVALID;
    if (wl_mul_size(n_rows, n_per_row, &n))
        return WOOLLY_ERR_NOMEM;
    /* Rows are whole blocks, so the rows are one run of blocks. */
    if (n)
        c->quantize(src, dst, n);
    return WOOLLY_OK;
}

woolly_status wl_dequantize_row(woolly_type type, const void *src, float *dst, size_t n)
{
    const struct codec *c = codec_for(type, n);

    if (!c || (n && (!src || !dst)))
        return WOOLLY_ERR_INVALID;
    if (n)
        c->dequantize(src, dst, n);
    return WOOLLY_OK;
}
