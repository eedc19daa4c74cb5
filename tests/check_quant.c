/* check_quant.c - the quantized block formats: quantizers, decoders, and
 * every kernel level's dot products against the scalar reference. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fp16.h"
#include "kernels/kernels.h"
#include "quant.h"
#include "testutil.h"
#include "types.h"
#include "woolly.h"

#define MAX_N 4096

/* The weight types with dot products, and the two activation-only types. */
static const woolly_type weight_types[] = {
    WOOLLY_TYPE_Q4_0, WOOLLY_TYPE_Q4_1, WOOLLY_TYPE_Q5_0, WOOLLY_TYPE_Q5_1, WOOLLY_TYPE_Q8_0,
    WOOLLY_TYPE_Q2_K, WOOLLY_TYPE_Q3_K, WOOLLY_TYPE_Q4_K, WOOLLY_TYPE_Q5_K, WOOLLY_TYPE_Q6_K,
};
#define N_WEIGHT_TYPES (sizeof weight_types / sizeof weight_types[0])

/* Roughly normal: the sum of four uniforms, scaled to unit variance. */
static float randn(uint64_t *s)
{
    return (tu_randf(s) + tu_randf(s) + tu_randf(s) + tu_randf(s)) * 0.8660254f;
}

/* Test data with the awkward cases in it: normal values, then per 256 a
 * block of zeros, a block of one repeated value, a lone spike among tiny
 * values, and blocks of very large and very small magnitude. */
static void fill_data(float *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = randn(&seed);
    for (size_t b = 0; b + 256 <= n && b < 2048; b += 1024) {
        memset(x + b, 0, 32 * sizeof *x);
        for (int j = 32; j < 64; j++)
            x[b + j] = -0.75f;
        for (int j = 64; j < 96; j++)
            x[b + j] = 1e-3f * randn(&seed);
        x[b + 80] = 40.0f;
        for (int j = 96; j < 128; j++)
            x[b + j] = 3000.0f * randn(&seed);
        for (int j = 128; j < 160; j++)
            x[b + j] = 1e-3f * randn(&seed);
    }
}

static size_t block_size(woolly_type t)
{
    return woolly_type_block_size(t);
}

/* ---- quantize / dequantize ----------------------------------------------- */

/* rms(dequantize(quantize(x)) - x) / rms(x) on normal data, per type, as
 * measured (q4_0 0.082, q4_k 0.069, q6_k 0.017 ...) with 15% room: a regression in a scale search shows here. */
static const struct {
    woolly_type type;
    double rel_rms;
} error_bounds[] = {
    { WOOLLY_TYPE_Q4_0, 0.095 }, { WOOLLY_TYPE_Q4_1, 0.087 }, { WOOLLY_TYPE_Q5_0, 0.047 },
    { WOOLLY_TYPE_Q5_1, 0.043 }, { WOOLLY_TYPE_Q8_0, 0.0060 }, { WOOLLY_TYPE_Q8_1, 0.0060 },
    { WOOLLY_TYPE_Q2_K, 0.335 }, { WOOLLY_TYPE_Q3_K, 0.168 }, { WOOLLY_TYPE_Q4_K, 0.080 },
    { WOOLLY_TYPE_Q5_K, 0.040 }, { WOOLLY_TYPE_Q6_K, 0.020 }, { WOOLLY_TYPE_Q8_K, 0.0074 },
};

static double rel_rms(const float *x, const float *y, size_t n)
{
    double e = 0, r = 0;

    for (size_t i = 0; i < n; i++) {
        e += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
        r += (double)x[i] * x[i];
    }
    return r > 0 ? sqrt(e / r) : sqrt(e);
}

START_TEST(round_trip_error_is_bounded)
{
    static float x[MAX_N], y[MAX_N];
    static uint8_t q[MAX_N * 2];
    uint64_t seed = 5;

    for (size_t i = 0; i < MAX_N; i++)
        x[i] = randn(&seed);
    for (size_t t = 0; t < sizeof error_bounds / sizeof error_bounds[0]; t++) {
        woolly_type type = error_bounds[t].type;
        ck_assert_int_eq(wl_quantize_rows(type, x, q, 4, MAX_N / 4), WOOLLY_OK);
        ck_assert_int_eq(wl_dequantize_row(type, q, y, MAX_N), WOOLLY_OK);
        double err = rel_rms(x, y, MAX_N);
        ck_assert_msg(err <= error_bounds[t].rel_rms, "%s: relative rms error %.5f > %.5f",
                      woolly_type_name(type), err, error_bounds[t].rel_rms);
        ck_assert_msg(err >= error_bounds[t].rel_rms / 3, "%s: error %.5f implausibly small",
                      woolly_type_name(type), err);
    }
}
END_TEST

/* Each block decodes within its own quantization step of the input, also
 * for zeros, constants, spikes and large or tiny magnitudes. */
START_TEST(round_trip_is_close_per_block)
{
    static float x[MAX_N], y[MAX_N];
    static uint8_t q[MAX_N * 2];

    fill_data(x, MAX_N, 6);
    for (size_t t = 0; t < sizeof error_bounds / sizeof error_bounds[0]; t++) {
        woolly_type type = error_bounds[t].type;
        size_t bs = block_size(type);
        ck_assert_int_eq(wl_quantize_rows(type, x, q, 1, MAX_N), WOOLLY_OK);
        ck_assert_int_eq(wl_dequantize_row(type, q, y, MAX_N), WOOLLY_OK);
        for (size_t b = 0; b < MAX_N; b += bs) {
            float amax = 0, err = 0;
            for (size_t i = b; i < b + bs; i++) {
                amax = fmaxf(amax, fabsf(x[i]));
                err = fmaxf(err, fabsf(y[i] - x[i]));
            }
            /* Q2_K has 4 levels per 16 with a shared min: allow its full range. */
            float limit = type == WOOLLY_TYPE_Q2_K ? amax : amax * 0.35f;
            ck_assert_msg(err <= limit + 1e-30f, "%s block %zu: max error %g, block max %g",
                          woolly_type_name(type), b / bs, (double)err, (double)amax);
            if (amax == 0)
                ck_assert_msg(err == 0, "%s: zeros decode to zeros", woolly_type_name(type));
        }
    }
}
END_TEST

/* The simple quantizer the K-quants' scale searches must beat: per
 * sub-block, round to nearest with a float (unquantized) scale from the
 * absolute maximum (symmetric types) or from min and max (types with a min). */
static void naive_k(woolly_type type, const float *x, float *y, size_t n)
{
    int sub = 16, levels = 0, symmetric = 0;

    switch (type) {
    case WOOLLY_TYPE_Q2_K: levels = 4; break;
    case WOOLLY_TYPE_Q3_K: levels = 8; symmetric = 1; break;
    case WOOLLY_TYPE_Q4_K: levels = 16; sub = 32; break;
    case WOOLLY_TYPE_Q5_K: levels = 32; sub = 32; break;
    case WOOLLY_TYPE_Q6_K: levels = 64; symmetric = 1; break;
    default: ck_abort();
    }
    for (size_t b = 0; b < n; b += (size_t)sub) {
        float min = x[b], max = x[b], amax = 0;
        for (int j = 0; j < sub; j++) {
            min = fminf(min, x[b + j]);
            max = fmaxf(max, x[b + j]);
            amax = fmaxf(amax, fabsf(x[b + j]));
        }
        for (int j = 0; j < sub; j++) {
            float v = x[b + j];
            if (symmetric) {
                float d = amax / (float)(levels / 2);
                float q = d > 0 ? fminf(fmaxf(roundf(v / d), (float)(-levels / 2)), (float)(levels / 2 - 1)) : 0;
                y[b + j] = q * d;
            } else {
                min = fminf(min, 0.0f);
                float d = (max - min) / (float)(levels - 1);
                y[b + j] = d > 0 ? roundf((v - min) / d) * d + min : min;
            }
        }
    }
}

START_TEST(k_quants_beat_naive_rounding)
{
    static const woolly_type k_types[] = { WOOLLY_TYPE_Q2_K, WOOLLY_TYPE_Q3_K, WOOLLY_TYPE_Q4_K,
                                           WOOLLY_TYPE_Q5_K, WOOLLY_TYPE_Q6_K };
    static float x[MAX_N], y[MAX_N], z[MAX_N];
    static uint8_t q[MAX_N];
    uint64_t seed = 7;

    for (size_t i = 0; i < MAX_N; i++)
        x[i] = randn(&seed);
    for (size_t t = 0; t < sizeof k_types / sizeof k_types[0]; t++) {
        ck_assert_int_eq(wl_quantize_rows(k_types[t], x, q, 1, MAX_N), WOOLLY_OK);
        wl_dequantize_row(k_types[t], q, y, MAX_N);
        naive_k(k_types[t], x, z, MAX_N);
        double careful = rel_rms(x, y, MAX_N), naive = rel_rms(x, z, MAX_N);
        ck_assert_msg(careful <= naive, "%s: %.5f vs naive %.5f", woolly_type_name(k_types[t]), careful, naive);
    }
}
END_TEST

/* ---- known bit patterns ----------------------------------------------------- */

START_TEST(blocks_decode_by_hand)
{
    float y[256];

    {   /* q4_0: x = d * (nibble - 8); element j low nibble of byte j, j+16 high. */
        wl_block_q4_0 b = { .d = 0x3800 /* 0.5 */ };
        b.qs[0] = 0xF0;  /* element 0: 0 -> -4, element 16: 15 -> 3.5 */
        b.qs[3] = 0x98;  /* element 3: 8 -> 0, element 19: 9 -> 0.5 */
        wl_dequantize_row(WOOLLY_TYPE_Q4_0, &b, y, 32);
        ck_assert_float_eq(y[0], -4.0f);
        ck_assert_float_eq(y[16], 3.5f);
        ck_assert_float_eq(y[3], 0.0f);
        ck_assert_float_eq(y[19], 0.5f);
        ck_assert_float_eq(y[1], -4.0f);
    }
    {   /* q4_1: x = d * nibble + m. */
        wl_block_q4_1 b = { .d = 0x4000 /* 2 */, .m = 0xbc00 /* -1 */ };
        b.qs[5] = 0x3A;
        wl_dequantize_row(WOOLLY_TYPE_Q4_1, &b, y, 32);
        ck_assert_float_eq(y[5], 19.0f);
        ck_assert_float_eq(y[21], 5.0f);
        ck_assert_float_eq(y[0], -1.0f);
    }
    {   /* q5_0: fifth bit of element j is bit j of qh (little-endian). */
        wl_block_q5_0 b = { .d = 0x3c00 };
        b.qh[0] = 0x01;  /* element 0 */
        b.qh[2] = 0x02;  /* element 17 */
        b.qs[0] = 0x0F;  /* element 0: 31 -> 15; element 16: 0 -> -16 */
        b.qs[1] = 0x20;  /* element 1: 0 -> -16; element 17: 2 | 16 = 18 -> 2 */
        wl_dequantize_row(WOOLLY_TYPE_Q5_0, &b, y, 32);
        ck_assert_float_eq(y[0], 15.0f);
        ck_assert_float_eq(y[16], -16.0f);
        ck_assert_float_eq(y[1], -16.0f);
        ck_assert_float_eq(y[17], 2.0f);
    }
    {   /* q5_1 */
        wl_block_q5_1 b = { .d = 0x3800, .m = 0x3c00 };
        b.qh[3] = 0x80;  /* element 31 */
        b.qs[15] = 0x41; /* element 15: 1; element 31: 4 | 16 = 20 */
        wl_dequantize_row(WOOLLY_TYPE_Q5_1, &b, y, 32);
        ck_assert_float_eq(y[15], 1.5f);
        ck_assert_float_eq(y[31], 11.0f);
    }
    {   /* q8_0, q8_1 */
        wl_block_q8_0 b = { .d = 0x3400 /* 0.25 */ };
        b.qs[7] = -128;
        b.qs[8] = 127;
        wl_dequantize_row(WOOLLY_TYPE_Q8_0, &b, y, 32);
        ck_assert_float_eq(y[7], -32.0f);
        ck_assert_float_eq(y[8], 31.75f);
        wl_block_q8_1 c = { .d = 0x4000, .s = 0 };
        c.qs[31] = -3;
        wl_dequantize_row(WOOLLY_TYPE_Q8_1, &c, y, 32);
        ck_assert_float_eq(y[31], -6.0f);
    }
    {   /* q2_k: element 128h + 32s + l is bits 2s of qs[32h + l]; scales[e/16]
         * low nibble times d, high nibble times dmin is subtracted. */
        wl_block_q2_k b;
        memset(&b, 0, sizeof b);
        b.d = 0x3c00;
        b.dmin = 0x3800;            /* 0.5 */
        b.scales[0] = 0x21;         /* elements 0-15: scale 1, min 2 -> q - 1 */
        b.scales[13] = 0x03;        /* elements 208-223: scale 3 */
        b.qs[0] = 0x03;             /* element 0: q 3 */
        b.qs[32 + 16] = 2 << 4;     /* element 128 + 64 + 16 = 208: q 2 */
        wl_dequantize_row(WOOLLY_TYPE_Q2_K, &b, y, 256);
        ck_assert_float_eq(y[0], 2.0f);
        ck_assert_float_eq(y[1], -1.0f);
        ck_assert_float_eq(y[208], 6.0f);
        ck_assert_float_eq(y[16], 0.0f);
    }
    {   /* q3_k: value (2 low bits | hmask bit << 2) - 4, scale 6 bits - 32. */
        wl_block_q3_k b;
        memset(&b, 0, sizeof b);
        b.d = 0x3c00;
        /* scale 0 = 33 (-> 1): low nibble 1 in byte 0, high bits 2 in byte 8 bits 0-1. */
        b.scales[0] = 0x01;
        b.scales[8] = 0x02;
        /* scale 9 = 34 (-> 2): high nibble of byte 1, high bits at byte 9 bits 4-5. */
        b.scales[1] = 0x20;
        b.scales[9] = 0x20;
        b.qs[0] = 0x03;             /* element 0: low bits 3 */
        b.hmask[0] = 0x01;          /* element 0: high bit -> 7 - 4 = 3 */
        b.qs[32 + 16] = 0x01;       /* element 128 + 16 = 144 (scale 9): 1, no high bit -> -3 */
        wl_dequantize_row(WOOLLY_TYPE_Q3_K, &b, y, 256);
        ck_assert_float_eq(y[0], 3.0f);
        ck_assert_float_eq(y[1], -4.0f);
        ck_assert_float_eq(y[144], -6.0f);
        ck_assert_float_eq(y[32], 128.0f);          /* scale 2 = 0 - 32, q = 0 - 4 */
    }
    {   /* q4_k: 6-bit scales and mins, sub-block j = e / 32. */
        wl_block_q4_k b;
        memset(&b, 0, sizeof b);
        b.d = 0x3c00;
        b.dmin = 0x3c00;
        b.scales[1] = 2;            /* scale 1 = 2 */
        b.scales[5] = 3;            /* min 1 = 3 */
        b.scales[11] = 0x51;        /* scale 7 low 1, min 7 low 5 */
        b.scales[3] = 0x40;         /* scale 7 high bits 1 -> 17 */
        b.scales[7] = 0x80;         /* min 7 high bits 2 -> 37 */
        b.qs[0] = 0x70;             /* element 32 (sub-block 1): 7 -> 2*7 - 3 = 11 */
        b.qs[96 + 31] = 0xF0;       /* element 255 (sub-block 7): 15 -> 17*15 - 37 */
        wl_dequantize_row(WOOLLY_TYPE_Q4_K, &b, y, 256);
        ck_assert_float_eq(y[32], 11.0f);
        ck_assert_float_eq(y[33], -3.0f);
        ck_assert_float_eq(y[255], 218.0f);
        ck_assert_float_eq(y[0], 0.0f);
    }
    {   /* q5_k: as q4_k, fifth bit j of qh[l] for sub-block j. */
        wl_block_q5_k b;
        memset(&b, 0, sizeof b);
        b.d = 0x3800;
        b.scales[2] = 4;            /* scale 2 = 4 -> 2 */
        b.qh[5] = 1 << 2;           /* element 64 + 5 */
        b.qs[32 + 5] = 0x03;        /* element 69: 3 | 16 = 19 */
        wl_dequantize_row(WOOLLY_TYPE_Q5_K, &b, y, 256);
        ck_assert_float_eq(y[69], 38.0f);
        ck_assert_float_eq(y[68], 0.0f);
    }
    {   /* q6_k: element 128h + 32s + l; value (low nibble | 2 high bits << 4) - 32. */
        wl_block_q6_k b;
        memset(&b, 0, sizeof b);
        b.d = 0x3c00;
        b.scales[0] = -2;
        b.scales[14] = 3;
        b.ql[0] = 0x0F;             /* element 0: low 15, high 0 -> -17 */
        b.qh[32 + 10] = 3 << 6;     /* element 128 + 96 + 10 = 234: high 3 */
        b.ql[64 + 32 + 10] = 0xA0;  /* element 234: low 10 (high nibble, s = 3) -> 58 - 32 */
        wl_dequantize_row(WOOLLY_TYPE_Q6_K, &b, y, 256);
        ck_assert_float_eq(y[0], 34.0f);
        ck_assert_float_eq(y[1], 64.0f);
        ck_assert_float_eq(y[234], 78.0f);
    }
    {   /* q8_k: float d. */
        wl_block_q8_k b;
        memset(&b, 0, sizeof b);
        b.d = 0.125f;
        b.qs[200] = -100;
        wl_dequantize_row(WOOLLY_TYPE_Q8_K, &b, y, 256);
        ck_assert_float_eq(y[200], -12.5f);
    }
}
END_TEST

/* A quantized block and its hand-made twin encode the same bytes. */
START_TEST(blocks_encode_by_hand)
{
    float x[256];
    uint64_t seed = 8;

    /* q4_0: the largest magnitude -8 sets d = 8/-8 = -1 exactly. */
    for (int j = 0; j < 32; j++)
        x[j] = (float)(j % 16 - 7);
    x[0] = 8.0f;
    wl_block_q4_0 b4;
    wl_quantize_q4_0(x, &b4, 32);
    ck_assert_uint_eq(b4.d, wl_f32_to_f16(-1.0f));
    ck_assert_uint_eq(b4.qs[0] & 0xF, 0);          /* 8 / -1 + 8 = 0 */
    ck_assert_uint_eq(b4.qs[1] & 0xF, 14);         /* -6 / -1 + 8 */
    ck_assert_uint_eq(b4.qs[15] >> 4, 0);          /* element 31 = 8 */
    ck_assert_uint_eq(b4.qs[7] >> 4, 8);           /* element 23 = 0 */
    /* q8_0 weights round ties away from zero, activations to even. */
    for (int j = 0; j < 32; j++)
        x[j] = 0.0f;
    x[0] = 127.0f;
    x[1] = 2.5f;
    x[2] = -3.5f;
    wl_block_q8_0 w, a;
    wl_quantize_q8_0(x, &w, 32);
    wl_quantize_q8_0_act(x, &a, 32);
    ck_assert_uint_eq(w.d, 0x3c00);
    ck_assert_int_eq(w.qs[1], 3);
    ck_assert_int_eq(w.qs[2], -4);
    ck_assert_int_eq(a.qs[1], 2);
    ck_assert_int_eq(a.qs[2], -4);
    ck_assert_int_eq(a.qs[0], 127);
    /* q8_1: s = d * sum(q). */
    wl_block_q8_1 a1;
    wl_quantize_q8_1_act(x, &a1, 32);
    ck_assert_float_eq(wl_f16_to_f32(a1.s), 125.0f);
    /* q8_k: d = max / -127 of the signed extreme; bsums per 16. */
    for (int j = 0; j < 256; j++)
        x[j] = tu_randf(&seed);
    x[77] = -2.0f;
    wl_block_q8_k k;
    wl_quantize_q8_k_act(x, &k, 256);
    ck_assert_float_eq(k.d, 2.0f / 127.0f);
    ck_assert_int_eq(k.qs[77], -127);
    for (int g = 0; g < 16; g++) {
        int sum = 0;
        for (int j = 0; j < 16; j++)
            sum += k.qs[16 * g + j];
        ck_assert_int_eq(k.bsums[g], sum);
    }
    memset(x, 0, sizeof x);
    wl_quantize_q8_k_act(x, &k, 256);
    ck_assert_float_eq(k.d, 0.0f);
    ck_assert_int_eq(k.bsums[3], 0);
}
END_TEST

START_TEST(api_checks_arguments)
{
    float x[256] = { 0 };
    uint8_t q[512];

    ck_assert_int_eq(wl_quantize_rows(WOOLLY_TYPE_Q4_K, x, q, 1, 128), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(wl_quantize_rows(WOOLLY_TYPE_Q4_0, x, q, 1, 48), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(wl_quantize_rows(WOOLLY_TYPE_F32, x, q, 1, 32), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(wl_quantize_rows(WOOLLY_TYPE_IQ2_XXS, x, q, 1, 256), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(wl_quantize_rows((woolly_type)77, x, q, 1, 256), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(wl_quantize_rows(WOOLLY_TYPE_Q4_0, NULL, q, 1, 32), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(wl_quantize_rows(WOOLLY_TYPE_Q4_0, x, q, 0, 32), WOOLLY_OK);
    ck_assert_int_eq(wl_quantize_rows(WOOLLY_TYPE_Q4_0, x, q, SIZE_MAX / 16, 32), WOOLLY_ERR_NOMEM);
    ck_assert_int_eq(wl_dequantize_row(WOOLLY_TYPE_Q6_K, q, x, 100), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(wl_dequantize_row(WOOLLY_TYPE_Q6_K, NULL, x, 256), WOOLLY_ERR_INVALID);
    /* Rows are consecutive runs of blocks. */
    for (int i = 0; i < 256; i++)
        x[i] = (float)i;
    uint8_t one[2 * 144], two[2 * 144];
    float xx[512];
    memcpy(xx, x, sizeof x);
    memcpy(xx + 256, x, sizeof x);
    ck_assert_int_eq(wl_quantize_rows(WOOLLY_TYPE_Q4_K, xx, one, 2, 256), WOOLLY_OK);
    ck_assert_int_eq(wl_quantize_rows(WOOLLY_TYPE_Q4_K, x, two, 1, 256), WOOLLY_OK);
    ck_assert_mem_eq(one, two, 144);
    ck_assert_mem_eq(one + 144, two, 144);
}
END_TEST

START_TEST(quant_types_are_supported)
{
    for (size_t t = 0; t < N_WEIGHT_TYPES; t++)
        ck_assert_msg(woolly_type_supported(weight_types[t]), "%s", woolly_type_name(weight_types[t]));
    ck_assert(!woolly_type_supported(WOOLLY_TYPE_IQ4_XS));
    ck_assert(!woolly_type_supported((woolly_type)4));
}
END_TEST

/* ---- kernel levels against the scalar reference -------------------------- */

/* Weights: quantized test data, or random bytes with sane f16 scales so
 * that every quant value (-128 in Q8_0, all 6 bits of Q6_K) occurs. */
static void random_weights(woolly_type type, uint8_t *w, size_t n, uint64_t seed)
{
    size_t bytes = n / block_size(type) * woolly_type_block_bytes(type);

    for (size_t i = 0; i < bytes; i++)
        w[i] = (uint8_t)(tu_rand(&seed) >> 56);
    for (size_t b = 0; b < n / block_size(type); b++) {
        uint8_t *blk = w + b * woolly_type_block_bytes(type);
        uint16_t d = wl_f32_to_f16(tu_randf(&seed) * 0.01f), m = wl_f32_to_f16(tu_randf(&seed) * 0.1f);
        switch (type) {
        case WOOLLY_TYPE_Q4_0: case WOOLLY_TYPE_Q5_0: case WOOLLY_TYPE_Q8_0:
            memcpy(blk, &d, 2);
            break;
        case WOOLLY_TYPE_Q4_1: case WOOLLY_TYPE_Q5_1:
            memcpy(blk, &d, 2);
            memcpy(blk + 2, &m, 2);
            break;
        case WOOLLY_TYPE_Q4_K: case WOOLLY_TYPE_Q5_K:
            memcpy(blk, &d, 2);
            memcpy(blk + 2, &m, 2);
            break;
        case WOOLLY_TYPE_Q2_K:
            memcpy(blk + 80, &d, 2);
            memcpy(blk + 82, &m, 2);
            break;
        case WOOLLY_TYPE_Q3_K:
            memcpy(blk + 108, &d, 2);
            break;
        case WOOLLY_TYPE_Q6_K:
            memcpy(blk + 208, &d, 2);
            break;
        default:
            ck_abort();
        }
    }
}

/* |sum| of the products, for a tolerance relative to the magnitudes. */
static double magnitude(const float *w, const float *a, size_t n)
{
    double m = 0;

    for (size_t i = 0; i < n; i++)
        m += fabs((double)w[i] * a[i]);
    return m;
}

/* Dot products: every level returns the scalar reference's exact bits. */
START_TEST(vec_dot_levels_match_scalar)
{
    static const size_t blocks[] = { 1, 2, 3, 8, 11, 16 };
    static float x[MAX_N], y[MAX_N], wf[MAX_N], af[MAX_N];
    static uint8_t w[MAX_N * 2], a[MAX_N * 2];
    wl_kernels ref, k;

    fill_data(x, MAX_N, 12);
    fill_data(y, MAX_N, 13);
    wl_kernels_fill(&ref, 0);
    for (size_t t = 0; t < N_WEIGHT_TYPES; t++) {
        woolly_type type = weight_types[t];
        const wl_type_kernels *r = &ref.type[type];
        size_t bs = block_size(type);
        for (int variant = 0; variant < 3; variant++) {
            /* 0: quantized data, 1: random bytes, 2: activations all at the extremes */
            if (variant == 1)
                random_weights(type, w, MAX_N, 14 + t);
            else
                ck_assert_int_eq(wl_quantize_rows(type, x, w, 1, MAX_N), WOOLLY_OK);
            if (variant == 2)
                for (size_t i = 0; i < MAX_N; i++)
                    af[i] = i % 3 ? 1000.0f : -1000.0f;
            else
                memcpy(af, y, sizeof af);
            ref.type[r->vec_dot_type].from_float(af, a, MAX_N);
            r->to_float(w, wf, MAX_N);
            ref.type[r->vec_dot_type].to_float(a, af, MAX_N);
            for (size_t l = 0; l < sizeof blocks / sizeof blocks[0]; l++) {
                size_t n = blocks[l] * bs;
                size_t off_w = (MAX_N - n) / bs * woolly_type_block_bytes(type);
                size_t off_a = (MAX_N - n) / bs * woolly_type_block_bytes(r->vec_dot_type);
                size_t off = MAX_N - n; /* the last n: the extreme blocks sit at the front */
                for (int part = 0; part < 2; part++) {
                    const uint8_t *pw = part ? w + off_w : w, *pa = part ? a + off_a : a;
                    const float *fw = part ? wf + off : wf, *fa = part ? af + off : af;
                    float want = r->vec_dot(n, pw, pa);
                    double exact = 0, mag = magnitude(fw, fa, n);
                    for (size_t i = 0; i < n; i++)
                        exact += (double)fw[i] * fa[i];
                    /* The reference itself agrees with the dequantized product,
                     * up to Q8_1's s = d*sum(q) rounded to f16. */
                    double slack = 0;
                    if (r->vec_dot_type == WOOLLY_TYPE_Q8_1)
                        for (size_t b = 0; b < n / WL_QK; b++) {
                            const wl_block_q8_1 *ab = (const wl_block_q8_1 *)pa + b;
                            uint16_t mh;
                            memcpy(&mh, pw + b * woolly_type_block_bytes(type) + 2, 2);
                            slack += fabs((double)wl_f16_to_f32(mh) * wl_f16_to_f32(ab->s)) / 1024;
                        }
                    ck_assert_msg(fabs(want - exact) <= 1e-5 * mag + slack + 1e-30, "%s scalar n=%zu: %g vs %g",
                                  woolly_type_name(type), n, (double)want, exact);
                    for (size_t m = 0; m < TU_N_LEVELS; m++) {
                        if (!tu_runnable(tu_level_masks[m]))
                            continue;
                        const char *name = wl_kernels_fill(&k, tu_level_masks[m]);
                        ck_assert_ptr_nonnull(k.type[type].vec_dot);
                        ck_assert_int_eq(k.type[type].vec_dot_type, r->vec_dot_type);
                        float got = k.type[type].vec_dot(n, pw, pa);
                        /* Bit for bit: every level computes the scalar
                         * reference's float operations in its order. */
                        ck_assert_msg(memcmp(&got, &want, sizeof got) == 0,
                                      "%s %s variant %d part %d n=%zu: %a vs %a (mag %g)", name,
                                      woolly_type_name(type), variant, part, n, (double)got, (double)want, mag);
                    }
                }
            }
        }
    }
}
END_TEST

/* Activation quantizers: bit-for-bit the scalar reference at every level. */
START_TEST(activation_quantizers_match_scalar)
{
    static const woolly_type act_types[] = { WOOLLY_TYPE_Q8_0, WOOLLY_TYPE_Q8_1, WOOLLY_TYPE_Q8_K };
    static float x[MAX_N];
    static uint8_t want[MAX_N * 2], got[MAX_N * 2];
    static wl_q8_k_aux ka[MAX_N / WL_QK_K];
    wl_kernels ref, k;

    fill_data(x, MAX_N, 15);
    /* exact ties at 127/amax = 1: 0.5, 1.5, -2.5 */
    x[200] = 127.0f;
    x[201] = 0.5f;
    x[202] = 1.5f;
    x[203] = -2.5f;
    /* Q8_K super-blocks: one all zeros; one whose largest magnitude comes
     * first negative, then positive (the first sets the sign of the
     * scale); one whose largest is its last element; one of subnormals
     * (and so Q8_0 blocks 56-63). */
    for (size_t i = 1024; i < 1280; i++)
        x[i] = 0.0f;
    x[1280 + 37] = -9.0f;
    x[1280 + 38] = 9.0f;
    x[1536 + 255] = -20.0f;
    for (size_t i = 1792; i < 2048; i++)
        x[i] = 1e-40f * (float)((int)(i % 7) - 3);
    /* Q8_0 and Q8_1 scales in the subnormal halves, rounded (the x86
     * levels convert them with F16C). */
    for (size_t i = 2048; i < 2304; i++)
        x[i] *= 1e-5f * (float)(1 + i % 9);
    /* Q8_K super-blocks for the aux's fit bits: small quants but one
     * (every sum fits in 16 bits); all +-127 (none does); one group of
     * 127 and fifteen 64s, the rest 0 (its sum of |q|, 1087, is past a
     * group's bound, 1023, and within a sub-block's, 2184). */
    for (size_t i = 2304; i < 2560; i++)
        x[i] *= 0.01f;
    x[2304] = 1.0f;
    for (size_t i = 2560; i < 2816; i++)
        x[i] = i % 2 ? 1.0f : -1.0f;
    for (size_t i = 2816; i < 3072; i++)
        x[i] = i == 2816 ? 1.0f : i < 2832 ? 0.5f : 0.0f;
    wl_kernels_fill(&ref, 0);
    for (size_t t = 0; t < sizeof act_types / sizeof act_types[0]; t++) {
        woolly_type type = act_types[t];
        size_t bytes = MAX_N / block_size(type) * woolly_type_block_bytes(type);
        ref.type[type].from_float(x, want, MAX_N);
        for (size_t m = 0; m < TU_N_LEVELS; m++) {
            if (!tu_runnable(tu_level_masks[m]))
                continue;
            const char *name = wl_kernels_fill(&k, tu_level_masks[m]);
            for (size_t n = block_size(type); n <= MAX_N; n *= 4) {
                memset(got, 0xAA, bytes);
                k.type[type].from_float(x, got, n);
                ck_assert_msg(memcmp(got, want, n / block_size(type) * woolly_type_block_bytes(type)) == 0,
                              "%s %s from_float n=%zu", name, woolly_type_name(type), n);
            }
        }
    }
    /* The tie cases: 0.5 -> 0, 1.5 -> 2, -2.5 -> -2 (block 6, elements 8-11). */
    const wl_block_q8_0 *b = (const wl_block_q8_0 *)want;
    ref.type[WOOLLY_TYPE_Q8_0].from_float(x, want, MAX_N);
    ck_assert_int_eq(b[6].qs[8], 127);
    ck_assert_int_eq(b[6].qs[9], 0);
    ck_assert_int_eq(b[6].qs[10], 2);
    ck_assert_int_eq(b[6].qs[11], -2);
    ck_assert_int_eq(b[56].qs[4], 0);   /* 1e-40: a block too small for a finite scale */
    /* And those of Q8_K. */
    const wl_block_q8_k *kb = (const wl_block_q8_k *)want;
    ref.type[WOOLLY_TYPE_Q8_K].from_float(x, want, MAX_N);
    ck_assert(kb[4].d == 0.0f && kb[4].qs[100] == 0 && kb[4].bsums[3] == 0);
    ck_assert(kb[5].qs[37] == -127 && kb[5].qs[38] == 127);
    int last = 0;
    for (int j = 240; j < 256; j++)
        last += kb[6].qs[j];
    ck_assert(kb[6].qs[255] == -127 && kb[6].bsums[15] == last);
    /* Magnitudes too small for a finite scale: 0s, at every level alike. */
    ck_assert(kb[7].d == 0.0f && kb[7].qs[4] == 0 && kb[7].bsums[0] == 0);
    /* Super-blocks whose sums fit in 16 bits, all or some, and one whose
     * sums do not: each of the aux's fit bits taken both ways. */
    wl_q8_k_aux_fill(want, MAX_N, ka);
    ck_assert_int_eq(ka[9].fit16, 3);
    ck_assert_int_eq(ka[10].fit16, 0);
    ck_assert_int_eq(ka[11].fit16, 1);
}
END_TEST

/* Dequantizers: every level's to_float decodes exactly like the scalar one. */
START_TEST(to_float_levels_match_scalar)
{
    static const woolly_type all[] = {
        WOOLLY_TYPE_Q4_0, WOOLLY_TYPE_Q4_1, WOOLLY_TYPE_Q5_0, WOOLLY_TYPE_Q5_1, WOOLLY_TYPE_Q8_0,
        WOOLLY_TYPE_Q8_1, WOOLLY_TYPE_Q2_K, WOOLLY_TYPE_Q3_K, WOOLLY_TYPE_Q4_K, WOOLLY_TYPE_Q5_K,
        WOOLLY_TYPE_Q6_K, WOOLLY_TYPE_Q8_K,
    };
    static float x[MAX_N], want[MAX_N], got[MAX_N];
    static uint8_t q[MAX_N * 2];
    wl_kernels ref, k;

    fill_data(x, MAX_N, 16);
    wl_kernels_fill(&ref, 0);
    for (size_t t = 0; t < sizeof all / sizeof all[0]; t++) {
        ck_assert_int_eq(wl_quantize_rows(all[t], x, q, 1, MAX_N), WOOLLY_OK);
        ref.type[all[t]].to_float(q, want, MAX_N);
        for (size_t m = 0; m < TU_N_LEVELS; m++) {
            if (!tu_runnable(tu_level_masks[m]))
                continue;
            const char *name = wl_kernels_fill(&k, tu_level_masks[m]);
            k.type[all[t]].to_float(q, got, MAX_N);
            ck_assert_msg(memcmp(got, want, sizeof got) == 0, "%s %s to_float", name, woolly_type_name(all[t]));
        }
    }
}
END_TEST

/* A tiled product's output (ROWS rows of LDO floats, filled with 12345
 * before): the NR x NT_DONE outputs have WANT's bits, nothing else moved. */
static void check_gemm_out(const float *got, const float *want, size_t rows, size_t ldo, size_t nr, size_t nt_done,
                           const char *name, woolly_type type, size_t n)
{
    for (size_t t = 0; t < rows; t++)
        for (size_t i = 0; i < ldo; i++) {
            int inside = t < nt_done && i < nr;
            int ok = inside ? memcmp(&got[t * ldo + i], &want[t * ldo + i], sizeof *got) == 0
                            : got[t * ldo + i] == 12345.0f;
            /* Asserted only when it fails: every ck_assert is a write to
             * the parent process, and there are millions of outputs. */
            if (!ok)
                ck_assert_msg(ok, "%s %s gemm n=%zu nr=%zu nt=%zu at row %zu token %zu: %a vs %a", name,
                              woolly_type_name(type), n, nr, nt_done, i, t, (double)got[t * ldo + i],
                              (double)want[t * ldo + i]);
        }
}

/* The tiled product of N elements at every runnable level against WANT
 * (NT_MAX tokens of LDO outputs), for row counts NR0, NR0 + NR_STEP, ...
 * up to NR_MAX, and every token count up to NT_ALL, then every ninth. */
static void gemm_at_every_level(woolly_type type, size_t n, const void *w, size_t wrow, const void *a, size_t arow,
                                const void *aux, const float *want, float *got, size_t nt_max, size_t ldo, size_t nr0,
                                size_t nr_max, size_t nr_step, size_t nt_all)
{
    const size_t nr_packed = nr_max / WL_PACK_ROWS * WL_PACK_ROWS;
    uint8_t *packed = malloc(nr_packed * wrow + 1);
    wl_kernels k;

    ck_assert(packed);
    for (size_t m = 0; m < TU_N_RUNS; m++) {
        const char *name = tu_fill_run(&k, m);
        if (!name || !k.type[type].gemm)
            continue;
        /* The rows as they are; then repacked, whole strips of them. */
        for (int p = 0; p < 2; p++) {
            if (p && !k.type[type].repack)
                break;
            if (p) {
                ck_assert_msg(k.type[type].gemm_packed, "%s %s: repack without gemm_packed", name,
                              woolly_type_name(type));
                k.type[type].repack(w, wrow, nr_packed, n, packed);
                ck_assert_msg(memcmp(packed, w, nr_packed * wrow) != 0, "%s %s: repack left the rows as they were",
                              name, woolly_type_name(type));
            }
            for (size_t nr = p ? WL_PACK_ROWS : nr0; nr <= (p ? nr_packed : nr_max); nr += p ? WL_PACK_ROWS : nr_step)
                for (size_t nt = 1; nt <= nt_max; nt += (nt < nt_all ? 1 : 9)) {
                    for (size_t i = 0; i < nt_max * ldo; i++)
                        got[i] = 12345.0f;
                    (p ? k.type[type].gemm_packed : k.type[type].gemm)(n, p ? packed : w, wrow, nr, a, arow, aux, nt,
                                                                      got, ldo);
                    check_gemm_out(got, want, nt_max, ldo, nr, nt, name, type, n);
                }
        }
    }
    free(packed);
}

/* Tiled products: every output is bit for bit the scalar vec_dot of its
 * row and token, for row counts off the tile size, every token count up to
 * past one tile, and rows longer than a chunk of unpacked blocks. */
START_TEST(gemm_levels_match_scalar)
{
    enum { NR = 73, NT = 37, LDO = NR + 3 };
    wl_kernels ref;
    size_t fits[4] = { 0 };   /* Q8_K super-blocks whose sums are past int16 and in it, for Q4_K, Q6_K */

    wl_kernels_fill(&ref, 0);
    for (size_t ti = 0; ti < N_WEIGHT_TYPES; ti++) {
        woolly_type type = weight_types[ti];
        const wl_type_kernels *r = &ref.type[type];
        size_t bs = block_size(type), bb = woolly_type_block_bytes(type);
        size_t ab = woolly_type_block_bytes(r->vec_dot_type);
        const size_t lens[] = { 1, 3, bs == WL_QK ? 80 : 9 };
        for (size_t li = 0; li < 3; li++) {
            size_t n = lens[li] * bs, wrow = n / bs * bb, arow = n / bs * ab;
            uint8_t *w = malloc(NR * wrow), *a = malloc(NT * arow);
            float *x = malloc(n * sizeof *x), *want = malloc(NT * LDO * sizeof *want);
            float *got = malloc(NT * LDO * sizeof *got);
            /* room for the aux of either activation type */
            void *aux = malloc(NT * (n / WL_QK * sizeof(wl_q8_0_aux) + n / WL_QK_K * sizeof(wl_q8_k_aux)));
            ck_assert(w && a && x && want && got && aux);
            random_weights(type, w, NR * n, 40 + ti);
            for (size_t t = 0; t < NT; t++) {
                fill_data(x, n, 100 + t);
                if (t % 5 == 4)
                    for (size_t i = 0; i < n; i++)
                        x[i] = i % 3 ? 1000.0f : -1000.0f;
                ref.type[r->vec_dot_type].from_float(x, a + t * arow, n);
                if (r->vec_dot_type == WOOLLY_TYPE_Q8_0)
                    wl_q8_0_aux_fill(a + t * arow, n, (wl_q8_0_aux *)aux + t * (n / WL_QK));
                if (r->vec_dot_type == WOOLLY_TYPE_Q8_K) {
                    wl_q8_k_aux *xk = (wl_q8_k_aux *)aux + t * (n / WL_QK_K);
                    wl_q8_k_aux_fill(a + t * arow, n, xk);
                    for (size_t b = 0; b < n / WL_QK_K; b++)
                        fits[xk[b].fit16 & 1]++, fits[2 + (xk[b].fit16 >> 1 & 1)]++;
                }
            }
            for (size_t t = 0; t < NT; t++)
                for (size_t i = 0; i < NR; i++)
                    want[t * LDO + i] = r->vec_dot(n, w + i * wrow, a + t * arow);
            gemm_at_every_level(type, n, w, wrow, a, arow, aux, want, got, NT, LDO, 1, NR, 9, 10);
            free(w), free(a), free(x), free(want), free(got), free(aux);
        }
    }
    /* The Q4_K and Q6_K tiles' two ways of scaling the sums were all taken. */
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fits[i] > 0, "super-blocks with sums %s int16 for %s: none", i % 2 ? "in" : "past",
                      i < 2 ? "q4_k" : "q6_k");
}
END_TEST

/* Q4_K and Q6_K times many tokens where the sums of a group's products
 * are largest: weights of 15 (Q4_K) or -32 and 31 (Q6_K) against groups
 * whose |q| add up to the int16 bound of wl_q8_k_aux (2184 for the 32 of
 * a Q4_K sub-block, 1023 for the 16 of a Q6_K group) and to one past it,
 * of either sign, every tile size: the tiled outputs are the vec_dot's. */
START_TEST(k_gemm_at_the_int16_bound)
{
    enum { NR = 35, NT = 9, LDO = NR, NB = 2 };
    static const woolly_type types[] = { WOOLLY_TYPE_Q4_K, WOOLLY_TYPE_Q6_K };
    static uint8_t w[NR][NB * sizeof(wl_block_q6_k)];
    static wl_block_q8_k a[NT][NB];
    static wl_q8_k_aux aux[NT][NB];
    static float want[NT * LDO], got[NT * LDO];
    wl_kernels ref;
    uint64_t seed = 99;

    wl_kernels_fill(&ref, 0);
    for (size_t ti = 0; ti < 2; ti++) {
        const woolly_type type = types[ti];
        const int q6 = type == WOOLLY_TYPE_Q6_K, gs = q6 ? 16 : 32, bound = q6 ? 1023 : 2184;
        const size_t bb = woolly_type_block_bytes(type);
        for (size_t r = 0; r < NR; r++)
            for (size_t b = 0; b < NB; b++) {
                uint8_t *blk = w[r] + b * bb;
                for (size_t i = 0; i < bb; i++)
                    blk[i] = (uint8_t)(tu_rand(&seed) >> 24);
                if (q6) {   /* quants 0 (-32) or 63 (31); d = 1.0 */
                    wl_block_q6_k *x = (wl_block_q6_k *)blk;
                    memset(x->ql, r % 3 ? 0x00 : 0xFF, sizeof x->ql);
                    memset(x->qh, r % 3 ? 0x00 : 0xFF, sizeof x->qh);
                    x->d = 0x3C00;
                } else {    /* nibbles of 15 (and of 7); d = 1.0, dmin = 0.5 */
                    wl_block_q4_k *x = (wl_block_q4_k *)blk;
                    memset(x->qs, r % 3 ? 0xFF : 0xF7, sizeof x->qs);
                    x->d = 0x3C00;
                    x->dmin = 0x3800;
                }
            }
        for (size_t t = 0; t < NT; t++)
            for (size_t b = 0; b < NB; b++) {
                wl_block_q8_k *x = &a[t][b];
                int sign = (t + b) % 2 ? -1 : 1, total = bound + (t % 4 == 3);
                x->d = 0.25f;
                for (int j = 0; j < WL_QK_K / gs; j++)
                    for (int e = 0; e < gs; e++)   /* GS quants of |q| adding up to TOTAL */
                        x->qs[gs * j + e] = (int8_t)(sign * (total / gs + (e < total % gs)));
                for (int g = 0; g < 16; g++) {
                    int sum = 0;
                    for (int e = 0; e < 16; e++)
                        sum += x->qs[16 * g + e];
                    x->bsums[g] = (int16_t)sum;
                }
            }
        for (size_t t = 0; t < NT; t++) {
            wl_q8_k_aux_fill(a[t], NB * WL_QK_K, aux[t]);
            ck_assert_int_eq(aux[t][0].fit16 >> q6 & 1, t % 4 != 3);
        }
        for (size_t t = 0; t < NT; t++)
            for (size_t r = 0; r < NR; r++)
                want[t * LDO + r] = ref.type[type].vec_dot(NB * WL_QK_K, w[r], a[t]);
        gemm_at_every_level(type, NB * WL_QK_K, w, sizeof w[0], a, sizeof a[0], aux, want, got, NT, LDO, 17, NR, 18,
                            NT);
    }
}
END_TEST

/* Float weights (F32, F16) times float activations: the tiled kernel's
 * outputs are the vec_dot's bits, for lengths of whole 16s and not, row
 * and token counts off the 4 x 4 tile, more tokens than one block, more
 * rows than a group of them, and rows longer than a chunk of columns
 * (whole chunks and a partial last one). */
START_TEST(float_gemm_matches_vec_dot)
{
    enum { NR = 37, NT = 37, LDO = NR + 2, LMAX = 560 };
    static const woolly_type types[] = { WOOLLY_TYPE_F32, WOOLLY_TYPE_F16 };
    static const size_t lens[] = { 16, 48, 40, 256, 272, 512, LMAX };
    static float x[LMAX], act[NT][LMAX], want[NT * LDO], got[NT * LDO];
    static uint8_t w[NR][LMAX * 4];
    wl_kernels ref, k;

    wl_kernels_fill(&ref, 0);
    for (size_t ti = 0; ti < 2; ti++) {
        const wl_type_kernels *r = &ref.type[types[ti]];
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            size_t n = lens[li];
            for (size_t i = 0; i < NR; i++) {
                fill_data(x, n, 7 + i);
                r->from_float(x, w[i], n);
            }
            for (size_t t = 0; t < NT; t++)
                fill_data(act[t], n, 300 + t);
            for (size_t t = 0; t < NT; t++)
                for (size_t i = 0; i < NR; i++)
                    want[t * LDO + i] = r->vec_dot(n, w[i], act[t]);
            for (size_t m = 0; m < TU_N_LEVELS; m++) {
                if (!tu_runnable(tu_level_masks[m]))
                    continue;
                const char *name = wl_kernels_fill(&k, tu_level_masks[m]);
                if (!k.type[types[ti]].gemm)
                    continue;
                for (size_t nr = 1; nr <= NR; nr += 5)
                    for (size_t nt = 1; nt <= NT; nt += 6) {
                        for (size_t i = 0; i < NT * LDO; i++)
                            got[i] = 12345.0f;
                        k.type[types[ti]].gemm(n, w, sizeof w[0], nr, act, sizeof act[0], NULL, nt, got, LDO);
                        check_gemm_out(got, want, NT, LDO, nr, nt, name, types[ti], n);
                    }
            }
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("quant");
    TCase *tc = tcase_create("formats");

    tcase_add_test(tc, round_trip_error_is_bounded);
    tcase_add_test(tc, round_trip_is_close_per_block);
    tcase_add_test(tc, k_quants_beat_naive_rounding);
    tcase_add_test(tc, blocks_decode_by_hand);
    tcase_add_test(tc, blocks_encode_by_hand);
    tcase_add_test(tc, api_checks_arguments);
    tcase_add_test(tc, quant_types_are_supported);
    suite_add_tcase(s, tc);
    tc = tcase_create("kernels");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, vec_dot_levels_match_scalar);
    tcase_add_test(tc, activation_quantizers_match_scalar);
    tcase_add_test(tc, to_float_levels_match_scalar);
    tcase_add_test(tc, gemm_levels_match_scalar);
    tcase_add_test(tc, k_gemm_at_the_int16_bound);
    tcase_add_test(tc, float_gemm_matches_vec_dot);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
