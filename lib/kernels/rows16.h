/*
 * rows16.h - sixteen weight rows read into the lanes of AVX-512 vectors.
 *
 * The tiled kernels of vnni.c and amx.c compute 16 rows at a time, each
 * row's values in one lane (VNNI) or one 4-byte column (AMX's B tiles):
 * these read a block's bytes of 16 rows, STRIDE apart, that way round with
 * plain loads and shuffles instead of gathers.  Included by kernel files
 * built with AVX-512 flags.
 */
#ifndef WOOLLY_ROWS16_H
#define WOOLLY_ROWS16_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The four dwords at P of each of 16 rows (STRIDE apart), as T[g], lane r
 * of which holds dword g of row r: what four gathers would give, from 16
 * loads.  Lane k of Z[i] takes row 4k + i, and a 4 x 4 transpose of the
 * dwords within the 128-bit lanes does the rest. */
static inline __attribute__((always_inline)) void rows16_dwords4(const uint8_t *p, size_t stride, __m512i T[4])
{
    __m512i Z[4], t[4];

    for (int i = 0; i < 4; i++) {
        __m512i z = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(p + (size_t)i * stride)));
        z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + (size_t)(4 + i) * stride)), 1);
        z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + (size_t)(8 + i) * stride)), 2);
        Z[i] = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + (size_t)(12 + i) * stride)), 3);
    }
    t[0] = _mm512_unpacklo_epi32(Z[0], Z[1]);
    t[1] = _mm512_unpackhi_epi32(Z[0], Z[1]);
    t[2] = _mm512_unpacklo_epi32(Z[2], Z[3]);
    t[3] = _mm512_unpackhi_epi32(Z[2], Z[3]);
    T[0] = _mm512_unpacklo_epi64(t[0], t[2]);
    T[1] = _mm512_unpackhi_epi64(t[0], t[2]);
    T[2] = _mm512_unpacklo_epi64(t[1], t[3]);
    T[3] = _mm512_unpackhi_epi64(t[1], t[3]);
}

/* The f16 scales at P of 16 rows (STRIDE apart) as floats. */
static inline __m512 rows16_f16(const uint8_t *p, size_t stride)
{
    uint16_t h[16];

    for (int r = 0; r < 16; r++)
        memcpy(&h[r], p + (size_t)r * stride, 2);
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)h));
}

/* Byte offsets of 16 rows STRIDE apart, for gather. */
static inline __m512i row_index(size_t w_stride)
{
    return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                              _mm512_set1_epi32((int)w_stride));
}

/* The dwords at P of the rows of M (IDX: row_index), lane r row r; 0 elsewhere. */
static inline __m512i gather(__mmask16 m, __m512i idx, const uint8_t *p)
{
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, p, 1);
}

/* The f16 in the low (HIGH: high) half of each dword, as floats. */
static inline __m512 f16_lanes(__m512i v, int high)
{
    if (high)
        v = _mm512_srli_epi32(v, 16);
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v));
}

/* The 4 * N dwords at P of each of 16 rows (STRIDE apart), as T[i]: lane
 * r holds dword i of row r (rows16_dwords4 on each 16 bytes). */
static inline __attribute__((always_inline)) void rows16_dwords(const uint8_t *p, size_t stride, int n, __m512i *T)
{
    for (int j = 0; j < n; j++)
        rows16_dwords4(p + 16 * j, stride, T + 4 * j);
}

#endif
