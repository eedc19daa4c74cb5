/*
 * quant.h - the quantized block formats of GGUF (ggml's layouts, which the
 * files store verbatim) and their scalar quantizers and dequantizers
 * (quant.c).  Internal to libwoolly.
 *
 * Every block holds QK elements.  The "_0" types store x = d*q, the "_1"
 * types x = d*q + m; the K-quants group 256 elements into a super-block of
 * 16 or 8 sub-blocks whose scales are themselves quantized against one or
 * two f16 super-scales.  f16 fields are kept as raw uint16_t bits.
 */
#ifndef WOOLLY_QUANT_H
#define WOOLLY_QUANT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "woolly.h"

#define WL_QK 32   /* elements per block of the 32-element types */
#define WL_QK_K 256 /* elements per K-quant super-block */

typedef struct { uint16_t d; uint8_t qs[WL_QK / 2]; } wl_block_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[WL_QK / 2]; } wl_block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[WL_QK / 2]; } wl_block_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[WL_QK / 2]; } wl_block_q5_1;
typedef struct { uint16_t d; int8_t qs[WL_QK]; } wl_block_q8_0;
/* s = d * sum(qs), so that a dot product with a "_1" type gets m*s for free. */
typedef struct { uint16_t d, s; int8_t qs[WL_QK]; } wl_block_q8_1;

/* 16 sub-blocks of 16: 4-bit scale (low nibble) and min (high nibble), 2-bit quants. */
typedef struct {
    uint8_t scales[WL_QK_K / 16];
    uint8_t qs[WL_QK_K / 4];
    uint16_t d, dmin;
} wl_block_q2_k;
/* 16 sub-blocks of 16: 6-bit signed scales (offset 32) packed in 12 bytes;
 * 3-bit quants (offset 4) as 2 low bits in qs, the high bit in hmask. */
typedef struct {
    uint8_t hmask[WL_QK_K / 8];
    uint8_t qs[WL_QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
} wl_block_q3_k;
/* 8 sub-blocks of 32: 6-bit scales and mins packed in 12 bytes, 4-bit quants. */
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qs[WL_QK_K / 2];
} wl_block_q4_k;
/* As q4_k with a fifth bit per quant in qh. */
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qh[WL_QK_K / 8];
    uint8_t qs[WL_QK_K / 2];
} wl_block_q5_k;
/* 16 sub-blocks of 16: 8-bit signed scales, 6-bit quants (offset 32) as
 * 4 low bits in ql and 2 high bits in qh. */
typedef struct {
    uint8_t ql[WL_QK_K / 2];
    uint8_t qh[WL_QK_K / 4];
    int8_t scales[WL_QK_K / 16];
    uint16_t d;
} wl_block_q6_k;
/* Activations for the K-quants: a float scale and the sums of each 16 quants. */
typedef struct {
    float d;
    int8_t qs[WL_QK_K];
    int16_t bsums[WL_QK_K / 16];
} wl_block_q8_k;

_Static_assert(sizeof(wl_block_q4_0) == 18, "q4_0 layout");
_Static_assert(sizeof(wl_block_q4_1) == 20, "q4_1 layout");
_Static_assert(sizeof(wl_block_q5_0) == 22, "q5_0 layout");
_Static_assert(sizeof(wl_block_q5_1) == 24, "q5_1 layout");
_Static_assert(sizeof(wl_block_q8_0) == 34, "q8_0 layout");
_Static_assert(sizeof(wl_block_q8_1) == 36, "q8_1 layout");
_Static_assert(sizeof(wl_block_q2_k) == 84, "q2_k layout");
_Static_assert(sizeof(wl_block_q3_k) == 110, "q3_k layout");
_Static_assert(sizeof(wl_block_q4_k) == 144, "q4_k layout");
_Static_assert(sizeof(wl_block_q5_k) == 176, "q5_k layout");
_Static_assert(sizeof(wl_block_q6_k) == 210, "q6_k layout");
_Static_assert(sizeof(wl_block_q8_k) == 292, "q8_k layout");

/* The 16 signed sub-block scales of a q3_k block (already minus 32). */
static inline void wl_q3_k_scales(const uint8_t packed[12], int8_t sc[16])
{
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
        int hi = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (int8_t)((lo | hi << 4) - 32);
    }
}

/* The 8 scales and 8 mins (6 bits each) of a q4_k or q5_k block: bytes 0-3
 * hold scales 0-3, bytes 4-7 mins 0-3, each with two high bits of scale or
 * min 4-7 on top; bytes 8-11 the low nibbles of scale and min 4-7. */
static inline void wl_q4_k_scales(const uint8_t packed[12], uint8_t sc[8], uint8_t mn[8])
{
    for (int j = 0; j < 4; j++) {
        sc[j] = packed[j] & 63;
        mn[j] = packed[j + 4] & 63;
        sc[j + 4] = (uint8_t)((packed[j + 8] & 0xF) | (packed[j] >> 6) << 4);
        mn[j + 4] = (uint8_t)((packed[j + 8] >> 4) | (packed[j + 4] >> 6) << 4);
    }
}

/* Weights: quantize N_ROWS rows of N_PER_ROW floats (a whole number of
 * blocks) into DST, row after row, with the careful reference quantizer of
 * TYPE.  Every type of this header is accepted. */
woolly_status wl_quantize_rows(woolly_type type, const float *src, void *dst, size_t n_rows,
                               size_t n_per_row);
/* Decode N elements (a whole number of blocks) of TYPE to floats. */
woolly_status wl_dequantize_row(woolly_type type, const void *src, float *dst, size_t n);

/* One function per type, N a multiple of the block size.  These are the
 * from_float/to_float entries of the scalar kernel table. */
void wl_quantize_q4_0(const float *x, void *y, size_t n);
void wl_quantize_q4_1(const float *x, void *y, size_t n);
void wl_quantize_q5_0(const float *x, void *y, size_t n);
void wl_quantize_q5_1(const float *x, void *y, size_t n);
void wl_quantize_q2_k(const float *x, void *y, size_t n);
void wl_quantize_q3_k(const float *x, void *y, size_t n);
void wl_quantize_q4_k(const float *x, void *y, size_t n);
void wl_quantize_q5_k(const float *x, void *y, size_t n);
void wl_quantize_q6_k(const float *x, void *y, size_t n);
/* Q8_0 weights as llama.cpp writes them to files: q = roundf(x/d), ties
 * away from zero. */
void wl_quantize_q8_0(const float *x, void *y, size_t n);

/* Activations, as llama.cpp's x86 build quantizes them before a dot product:
 * d = amax/127, q = x * (127/amax) rounded to nearest, ties to even (what
 * _mm256_round_ps and cvtps2dq do; quantize_row_q8_0_ref's roundf differs
 * only on exact ties).  Q8_1 adds s = f16(d * sum q) with d unrounded.
 * Q8_K is quantize_row_q8_K_ref exactly: d = max/-127 of the element of
 * largest magnitude, q = nearest-even(x * -127/max) capped at 127, bsums. */
void wl_quantize_q8_0_act(const float *x, void *y, size_t n);
void wl_quantize_q8_1_act(const float *x, void *y, size_t n);
void wl_quantize_q8_k_act(const float *x, void *y, size_t n);

void wl_dequantize_q4_0(const void *x, float *y, size_t n);
void wl_dequantize_q4_1(const void *x, float *y, size_t n);
void wl_dequantize_q5_0(const void *x, float *y, size_t n);
void wl_dequantize_q5_1(const void *x, float *y, size_t n);
void wl_dequantize_q8_0(const void *x, float *y, size_t n);
void wl_dequantize_q8_1(const void *x, float *y, size_t n);
void wl_dequantize_q2_k(const void *x, float *y, size_t n);
void wl_dequantize_q3_k(const void *x, float *y, size_t n);
void wl_dequantize_q4_k(const void *x, float *y, size_t n);
void wl_dequantize_q5_k(const void *x, float *y, size_t n);
void wl_dequantize_q6_k(const void *x, float *y, size_t n);
void wl_dequantize_q8_k(const void *x, float *y, size_t n);

/* Round to nearest, ties to even, for |f| < 2^22 (ggml's nearest_int: the
 * magic constant pushes the fraction out of the mantissa). */
static inline int wl_nearest_int(float f)
{
    float v = f + 12582912.0f;
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

#endif /* WOOLLY_QUANT_H */
