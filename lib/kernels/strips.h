/*
 * strips.h - Q4_0, Q8_0, Q4_K and Q6_K blocks of 16 rows unpacked for the
 * tiled kernels of vnni.c and amx.c: each dword of quants with a lane a
 * row, which is both what vpdpbusd takes with one activation dword
 * broadcast and, 8 (Q4_0, Q8_0, Q4_K) or 4 (Q6_K) dwords at a time, an AMX
 * B tile of one block (sub-block, group).  Included by kernel files built
 * with AVX-512 flags, after rows16.h.
 */
#ifndef WOOLLY_STRIPS_H
#define WOOLLY_STRIPS_H

#include <stddef.h>

#include "quant.h"

/* ---- Q4_0 and Q8_0: the quants plus ZERO (128 for vpdpbusd, which takes
 * them unsigned; 0 for AMX's signed TDPBSSD), as bytes ---- */

#define KC32 32      /* blocks of 32 per chunk */

typedef struct {
    __m512i w[KC32][8];   /* group g: elements 4g..4g+3 of the 16 rows, plus ZERO */
    __m512 d[KC32];
} strip32;

/* A chunk of a strip: whole strips (M all ones) from rows16_dwords4, the
 * last, partial one from masked gathers. */
static inline void pack_q4_0(strip32 *S, const uint8_t *w, size_t w_stride, __m512i idx, __mmask16 m, size_t nb,
                             int zero)
{
    const __m512i low4 = _mm512_set1_epi8(0x0F), bias = _mm512_set1_epi8((char)(zero - 8));

    for (size_t b = 0; b < nb; b++, w += sizeof(wl_block_q4_0)) {
        __m512i q[4];
        if (m == 0xFFFF) {
            S->d[b] = rows16_f16(w, w_stride);
            rows16_dwords4(w + 2, w_stride, q);
        } else {
            S->d[b] = f16_lanes(gather(m, idx, w), 0);
            for (int g = 0; g < 4; g++)
                q[g] = gather(m, idx, w + 2 + 4 * g);
        }
        for (int g = 0; g < 4; g++) {
            S->w[b][g] = _mm512_add_epi8(_mm512_and_si512(q[g], low4), bias);
            S->w[b][g + 4] = _mm512_add_epi8(_mm512_and_si512(_mm512_srli_epi32(q[g], 4), low4), bias);
        }
    }
}

static inline void pack_q8_0(strip32 *S, const uint8_t *w, size_t w_stride, __m512i idx, __mmask16 m, size_t nb,
                             int zero)
{
    const __m512i bias = _mm512_set1_epi8((char)zero);

    for (size_t b = 0; b < nb; b++, w += sizeof(wl_block_q8_0)) {
        __m512i q[8];
        if (m == 0xFFFF) {
            S->d[b] = rows16_f16(w, w_stride);
            rows16_dwords4(w + 2, w_stride, q);
            rows16_dwords4(w + 18, w_stride, q + 4);
        } else {
            S->d[b] = f16_lanes(gather(m, idx, w), 0);
            for (int g = 0; g < 8; g++)
                q[g] = gather(m, idx, w + 2 + 4 * g);
        }
        for (int g = 0; g < 8; g++)
            S->w[b][g] = _mm512_add_epi8(q[g], bias);
    }
}

/* ---- Q4_0 repacked (wl_type_kernels' repack): a strip of 16 rows holds
 * its blocks one after another, block b at Q4_0P_BLOCK * b: the 16 rows'
 * f16 scales (row r at 2r), then their quants as 4 vectors, lane r of
 * vector g bytes 4g..4g+3 of row r's 16 (what rows16_dwords4 reads from
 * the rows).  A whole strip is one stream, and needs no shuffles. ---- */

#define Q4_0P_BLOCK (16 * sizeof(wl_block_q4_0))   /* 288 */

/* A chunk of a repacked strip (W: its first block; M is all ones). */
static inline void pack_q4_0_packed(strip32 *S, const uint8_t *w, size_t w_stride, __m512i idx, __mmask16 m,
                                    size_t nb, int zero)
{
    const __m512i low4 = _mm512_set1_epi8(0x0F), bias = _mm512_set1_epi8((char)(zero - 8));

    (void)w_stride, (void)idx, (void)m;
    for (size_t b = 0; b < nb; b++, w += Q4_0P_BLOCK) {
        S->d[b] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
        for (int g = 0; g < 4; g++) {
            const __m512i q = _mm512_loadu_si512(w + 32 + 64 * g);
            S->w[b][g] = _mm512_add_epi8(_mm512_and_si512(q, low4), bias);
            S->w[b][g + 4] = _mm512_add_epi8(_mm512_and_si512(_mm512_srli_epi32(q, 4), low4), bias);
        }
    }
}

/* ---- Q4_K and Q6_K ---- */

#define KCK 8        /* super-blocks per chunk (two strips of Q6_K: half) */

typedef struct {
    __m512i w[KCK][64];   /* dword i: elements 4i..4i+3 (0..15 q4_k, 0..63 q6_k) */
    __m512i sc[KCK][16];  /* q4_k: scale of sub-block j (8); q6_k: of group g (16), 16 bits */
    __m512i pair[KCK][4]; /* q4_k: int16 pairs of mins 2p, 2p+1 */
    __m512 d[KCK], dmin[KCK];   /* dmin: negated */
} stripk;

/* The 6-bit scales (SC) and mins (MN) of 8 sub-blocks of 16 rows, a lane
 * a row, from the dwords H[1..3] of their 12 bytes, as wl_q4_k_scales
 * unpacks them: byte j of U0 (U1) the scale (min) of sub-block j < 4 and
 * the top 2 bits of that of j + 4, whose low 4 bits are the low (high)
 * nibble of byte j of U2. */
static inline __attribute__((always_inline)) void q4_k_scales16(const __m512i h[4], __m512i sc[8], __m512i mn[8])
{
    const __m512i low6 = _mm512_set1_epi32(63), two = _mm512_set1_epi32(3), low4 = _mm512_set1_epi32(0x0F);

    for (int j = 0; j < 4; j++) {
        const __m512i u0 = _mm512_srli_epi32(h[1], 8 * j), u1 = _mm512_srli_epi32(h[2], 8 * j);
        const __m512i u2 = _mm512_srli_epi32(h[3], 8 * j);
        sc[j] = _mm512_and_si512(u0, low6);
        mn[j] = _mm512_and_si512(u1, low6);
        sc[j + 4] = _mm512_or_si512(_mm512_and_si512(u2, low4),
                                    _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u0, 6), two), 4));
        mn[j + 4] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(u2, 4), low4),
                                    _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u1, 6), two), 4));
    }
}

/* Super-block B of a Q4_K strip into S from its dwords, a lane a row: H
 * d and dmin, then the 12 bytes of scales and mins; Q the 128 of quants. */
static inline __attribute__((always_inline)) void q4_k_unpack(stripk *S, size_t b, const __m512i h[4],
                                                             const __m512i q[32])
{
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    __m512i sc[8], mn[8];

    S->d[b] = f16_lanes(h[0], 0);
    S->dmin[b] = _mm512_xor_ps(f16_lanes(h[0], 1), _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u)));
    q4_k_scales16(h, sc, mn);
    for (int j = 0; j < 8; j++)
        S->sc[b][j] = sc[j];
    for (int p = 0; p < 4; p++)
        S->pair[b][p] = _mm512_or_si512(mn[2 * p], _mm512_slli_epi32(mn[2 * p + 1], 16));
    for (int c = 0; c < 4; c++)
        for (int g = 0; g < 8; g++) {
            S->w[b][16 * c + g] = _mm512_and_si512(q[8 * c + g], low4);
            S->w[b][16 * c + 8 + g] = _mm512_and_si512(_mm512_srli_epi32(q[8 * c + g], 4), low4);
        }
}

/* A chunk of a Q4_K strip. */
static inline void pack_q4_k(stripk *S, const uint8_t *w, size_t w_stride, __m512i idx, __mmask16 m, size_t nb)
{
    for (size_t b = 0; b < nb; b++, w += sizeof(wl_block_q4_k)) {
        __m512i h[4], q[32];   /* h: d and dmin, U0, U1, U2 */
        if (m == 0xFFFF) {
            rows16_dwords4(w, w_stride, h);
            rows16_dwords(w + offsetof(wl_block_q4_k, qs), w_stride, 8, q);
        } else {
            for (int i = 0; i < 4; i++)
                h[i] = gather(m, idx, w + 4 * i);
            for (int i = 0; i < 32; i++)
                q[i] = gather(m, idx, w + offsetof(wl_block_q4_k, qs) + 4 * i);
        }
        q4_k_unpack(S, b, h, q);
    }
}

/* Q4_K repacked (wl_type_kernels' repack): a strip of 16 rows holds its
 * super-blocks one after another, each as its 36 dwords: lane r of vector
 * i is dword i of row r's block (d and dmin, the scales and mins, then
 * the quants), what rows16_dwords reads from the rows. */
#define Q4_KP_BLOCK (16 * sizeof(wl_block_q4_k))   /* 2304 */

/* A chunk of a repacked Q4_K strip (W: its first super-block). */
static inline void pack_q4_k_packed(stripk *S, const uint8_t *w, size_t nb)
{
    for (size_t b = 0; b < nb; b++, w += Q4_KP_BLOCK) {
        __m512i h[4], q[32];
        for (int i = 0; i < 4; i++)
            h[i] = _mm512_loadu_si512(w + 64 * i);
        for (int i = 0; i < 32; i++)
            q[i] = _mm512_loadu_si512(w + 64 * (4 + i));
        q4_k_unpack(S, b, h, q);
    }
}

/* The 6-bit quants of elements 128h + 32s + 4j.. (s = 0..3) of 16 rows,
 * a lane a row, from dwords j and 8 + j of the half's ql (QL0, QL1) and
 * dword j of its qh (QHV): the low (s < 2) or high nibbles of ql with
 * bits 2s..2s+1 of qh on top. */
static inline __attribute__((always_inline)) void q6_k_quants(__m512i ql0, __m512i ql1, __m512i qhv, __m512i u[4])
{
    const __m512i low4 = _mm512_set1_epi8(0x0F), two = _mm512_set1_epi8(0x30);

    u[0] = _mm512_or_si512(_mm512_and_si512(ql0, low4), _mm512_and_si512(_mm512_slli_epi32(qhv, 4), two));
    u[1] = _mm512_or_si512(_mm512_and_si512(ql1, low4), _mm512_and_si512(_mm512_slli_epi32(qhv, 2), two));
    u[2] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(ql0, 4), low4), _mm512_and_si512(qhv, two));
    u[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(ql1, 4), low4),
                           _mm512_and_si512(_mm512_srli_epi32(qhv, 2), two));
}

/* The signed scale of group g of 16 rows, byte g % 4 of SC[g / 4], as 32 bits. */
static inline __m512i q6_k_scale(const __m512i sc[4], int g)
{
    return _mm512_srai_epi32(_mm512_slli_epi32(sc[g / 4], 24 - 8 * (g % 4)), 24);
}

/* Super-block B of a Q6_K strip into S from its dwords, a lane a row (QL,
 * QH, SC: those of ql, qh and scales), D the rows' scales. */
static inline __attribute__((always_inline)) void q6_k_unpack(stripk *S, size_t b, __m512 d, const __m512i ql[32],
                                                             const __m512i qh[16], const __m512i sc[4])
{
    S->d[b] = d;
    /* As 16 bits with a high word of 0 (for vpdpwssd). */
    for (int g = 0; g < 16; g++)
        S->sc[b][g] = _mm512_and_si512(q6_k_scale(sc, g), _mm512_set1_epi32(0xFFFF));
    for (int h = 0; h < 2; h++)
        for (int g = 0; g < 8; g++) {
            __m512i u[4];
            q6_k_quants(ql[16 * h + g], ql[16 * h + 8 + g], qh[8 * h + g], u);
            for (int s = 0; s < 4; s++)
                S->w[b][32 * h + g + 8 * s] = u[s];
        }
}

static inline void pack_q6_k(stripk *S, const uint8_t *w, size_t w_stride, __m512i idx, __mmask16 m, size_t nb)
{
    for (size_t b = 0; b < nb; b++, w += sizeof(wl_block_q6_k)) {
        __m512i ql[32], qh[16], sc[4];
        __m512 d;
        if (m == 0xFFFF) {
            d = rows16_f16(w + offsetof(wl_block_q6_k, d), w_stride);
            rows16_dwords(w, w_stride, 8, ql);
            rows16_dwords(w + offsetof(wl_block_q6_k, qh), w_stride, 4, qh);
            rows16_dwords4(w + offsetof(wl_block_q6_k, scales), w_stride, sc);
        } else {
            /* d is the last 2 of the block's 210 bytes: read from 206, keep the high half. */
            d = f16_lanes(gather(m, idx, w + offsetof(wl_block_q6_k, d) - 2), 1);
            for (int i = 0; i < 32; i++)
                ql[i] = gather(m, idx, w + 4 * i);
            for (int i = 0; i < 16; i++)
                qh[i] = gather(m, idx, w + offsetof(wl_block_q6_k, qh) + 4 * i);
            for (int i = 0; i < 4; i++)
                sc[i] = gather(m, idx, w + offsetof(wl_block_q6_k, scales) + 4 * i);
        }
        q6_k_unpack(S, b, d, ql, qh, sc);
    }
}

/* Q6_K repacked: a strip's super-blocks one after another, each as its
 * first 52 dwords, a lane a row (ql, qh, scales: what rows16_dwords reads
 * from the rows), then the 16 rows' f16 d (row r at 2r). */
#define Q6_KP_BLOCK (16 * sizeof(wl_block_q6_k))   /* 3360 */
#define Q6_KP_D (52 * 64)                           /* the d's offset */

/* A chunk of a repacked Q6_K strip (W: its first super-block). */
static inline void pack_q6_k_packed(stripk *S, const uint8_t *w, size_t nb)
{
    for (size_t b = 0; b < nb; b++, w += Q6_KP_BLOCK) {
        __m512i ql[32], qh[16], sc[4];
        for (int i = 0; i < 32; i++)
            ql[i] = _mm512_loadu_si512(w + 64 * i);
        for (int i = 0; i < 16; i++)
            qh[i] = _mm512_loadu_si512(w + 64 * (32 + i));
        for (int i = 0; i < 4; i++)
            sc[i] = _mm512_loadu_si512(w + 64 * (48 + i));
        q6_k_unpack(S, b, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + Q6_KP_D))), ql, qh, sc);
    }
}

#endif
