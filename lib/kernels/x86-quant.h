/*
 * x86-quant.h - dot products of quantized weights with quantized
 * activations, and the activation quantizers, in 256-bit integer SIMD.
 *
 * Included by avx2.c, avx512.c and vnni.c, each compiled with its own
 * flags.  The one thing that differs is how unsigned bytes times signed
 * bytes are summed into 32-bit lanes: AVX2 uses maddubs (pairs into 16
 * bits, exact here because weights have at most 6 bits or, for Q8_0, are
 * taken by magnitude against activations in [-127, 127]) then madd; with
 * WL_X86_VNNI set, vpdpbusd does it in one instruction with no
 * intermediate rounding at all.
 *
 * Every kernel reads each weight block once and computes its integer dot
 * products exactly; the float part (scales, mins, accumulation) follows
 * scalar.c's order operation for operation, so that every level returns
 * the scalar reference's bits (see scalar.c for that order: llama.cpp's).
 */
#ifndef WOOLLY_X86_QUANT_H
#define WOOLLY_X86_QUANT_H

#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "fp16.h"
#include "kernels/kernels.h"
#include "quant.h"

#ifndef WL_X86_VNNI
# define WL_X86_VNNI 0
#endif

/* ---- the primitive: sum of u8 * s8 over each group of 4 bytes ---------- */

#if WL_X86_VNNI
static inline __m256i xq_dot_us(__m256i u, __m256i s)
{
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

/* Scales for the low and high 16 bytes of a dot product, in xq_dot_scaled's form. */
static inline __m256i xq_scales(int lo, int hi)
{
    return _mm256_setr_m128i(_mm_set1_epi32(lo), _mm_set1_epi32(hi));
}

static inline __m256i xq_dot_scaled(__m256i u, __m256i s, __m256i sc)
{
    return _mm256_mullo_epi32(xq_dot_us(u, s), sc);
}
#else
static inline __m256i xq_dot_us(__m256i u, __m256i s)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

static inline __m256i xq_scales(int lo, int hi)
{
    return _mm256_setr_m128i(_mm_set1_epi16((short)lo), _mm_set1_epi16((short)hi));
}

/* The scale rides in madd's second operand, for free. */
static inline __m256i xq_dot_scaled(__m256i u, __m256i s, __m256i sc)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), sc);
}
#endif

/* Scales for xq_dot_scaled taken from a vector instead of scalars: SC
 * holds 8 scales (8 bytes), and xq_scale_pick gives the form of
 * xq_scales(sc[lo], sc[hi]). */
#if WL_X86_VNNI
static inline __m256i xq_scale_vec(__m128i sc8, int is_signed)
{
    return is_signed ? _mm256_cvtepi8_epi32(sc8) : _mm256_cvtepu8_epi32(sc8);
}

static inline __m256i xq_scale_pick(__m256i v, int lo, int hi)
{
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(lo, lo, lo, lo, hi, hi, hi, hi));
}
#else
static inline __m256i xq_scale_vec(__m128i sc8, int is_signed)
{
    __m128i w = is_signed ? _mm_cvtepi8_epi16(sc8) : _mm_cvtepu8_epi16(sc8);
    return _mm256_broadcastsi128_si256(w);
}

static inline __m256i xq_scale_pick(__m256i v, int lo, int hi)
{
    const short l = (short)((2 * lo + 1) << 8 | 2 * lo), h = (short)((2 * hi + 1) << 8 | 2 * hi);
    return _mm256_shuffle_epi8(v, _mm256_setr_epi16(l, l, l, l, l, l, l, l, h, h, h, h, h, h, h, h));
}
#endif

/* The 6-bit scales and mins of a q4_k/q5_k super-block (12 bytes at P),
 * a byte each (wl_q4_k_scales' values). */
static inline void xq_k_scales_mins(const uint8_t *p, uint64_t *sc, uint64_t *mn)
{
    uint32_t u0, u1, u2;

    memcpy(&u0, p, 4);
    memcpy(&u1, p + 4, 4);
    memcpy(&u2, p + 8, 4);
    *sc = (u0 & 0x3F3F3F3Fu) | (uint64_t)((u2 & 0x0F0F0F0Fu) | ((u0 >> 6) & 0x03030303u) << 4) << 32;
    *mn = (u1 & 0x3F3F3F3Fu) | (uint64_t)(((u2 >> 4) & 0x0F0F0F0Fu) | ((u1 >> 6) & 0x03030303u) << 4) << 32;
}

/* Signed times signed, by magnitude and moved sign (a != -128). */
static inline __m256i xq_dot_ss(__m256i w, __m256i a)
{
    return xq_dot_us(_mm256_abs_epi8(w), _mm256_sign_epi8(a, w));
}

/* ---- helpers ------------------------------------------------------------- */

static inline float xq_hsum_ps(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int32_t xq_hsum_epi32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

static inline __m256i xq_load(const void *p)
{
    return _mm256_loadu_si256((const __m256i *)p);
}

static inline float xq_f16(uint16_t h)
{
    return _cvtsh_ss(h);
}

/* wl_f32_to_f16's bits (round to nearest even, NaNs quieted) in one
 * instruction: its branches took 60% of q8_0_from_float's time. */
static inline uint16_t xq_to_f16(float f)
{
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* The 32 quants of a 16-byte nibble array: elements 0-15 low nibbles, 16-31 high. */
static inline __m256i xq_nibbles32(const uint8_t qs[16])
{
    __m128i q = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_setr_m128i(q, _mm_srli_epi16(q, 4)), _mm256_set1_epi8(0x0F));
}

/* 0x10 in byte j where bit j of the 32 bits at QH is set. */
static inline __m256i xq_fifth_bits(const uint8_t qh[4])
{
    uint32_t bits;
    memcpy(&bits, qh, sizeof bits);
    const __m256i spread = _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL,
                                              0x0303030303030303LL);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), spread);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/* VAL in each byte whose bit BIT (a one-bit mask) is set in H. */
static inline __m256i xq_bit_to(__m256i h, int bit, int val)
{
    const __m256i m = _mm256_set1_epi8((char)bit);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, m), m), _mm256_set1_epi8((char)val));
}

/* sum_g bsums[g] * c[g] over the 16 groups, as 8 lanes; C as 16 i16. */
static inline __m256i xq_bsum_dot(const int16_t bsums[16], __m256i c)
{
    return _mm256_madd_epi16(xq_load(bsums), c);
}

/* ---- the float part -------------------------------------------------------
 *
 * scalar.c defines the order (llama.cpp's); these return the same bits.
 * "8 lanes": lane l of an int32 vector holds bytes 4l..4l+3 of each chunk,
 * as xq_dot_us leaves them, and acc = fma(d, float(lane), acc).  "Per
 * block": one float, s = fma(float(block sum), d, s), block after block. */

/* The 8 lane sums of 8 vectors, as one vector: lane j = sum of P[j]'s lanes. */
static inline __m256i xq_sums8(const __m256i p[8])
{
    __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
    __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

/* s = fma(f[j], d[j], s) for j = 0..7, in order. */
static inline float xq_chain8(float s, __m256 f, const float d[8])
{
    float fv[8];

    _mm256_storeu_ps(fv, f);
    for (int j = 0; j < 8; j++)
        s = fmaf(fv[j], d[j], s);
    return s;
}

/* ---- 32-element blocks ---------------------------------------------------- */

/* acc + (weight d * activation d) * P, lane by lane. */
static inline __m256 xq_block_acc(__m256 acc, __m256i p, uint16_t dw, uint16_t da)
{
    return _mm256_fmadd_ps(_mm256_set1_ps(xq_f16(dw) * xq_f16(da)), _mm256_cvtepi32_ps(p), acc);
}

/* Q8_0 and Q4_0, per block: 8 blocks' integer dots at a time (GET(i)
 * gives block i's lane sums), then their chain of fmas. */
#define XQ_PER_BLOCK_32(X, A, NB, GET, SUM)                                     \
    do {                                                                        \
        size_t i_ = 0;                                                          \
        for (; i_ + 8 <= (NB); i_ += 8) {                                       \
            __m256i p_[8];                                                      \
            float d_[8];                                                        \
            for (int j_ = 0; j_ < 8; j_++) {                                    \
                size_t i = i_ + (size_t)j_;                                     \
                p_[j_] = GET;                                                   \
                d_[j_] = xq_f16((X)[i].d) * xq_f16((A)[i].d);                   \
            }                                                                   \
            (SUM) = xq_chain8((SUM), _mm256_cvtepi32_ps(xq_sums8(p_)), d_);     \
        }                                                                       \
        for (; i_ < (NB); i_++) {                                               \
            size_t i = i_;                                                      \
            __m256i p_ = GET;                                                   \
            (SUM) = fmaf((float)xq_hsum_epi32(p_), xq_f16((X)[i].d) * xq_f16((A)[i].d), (SUM)); \
        }                                                                       \
    } while (0)

static float q8_0_vec_dot(size_t n, const void *w, const void *act)
{
    const wl_block_q8_0 *x = w, *a = act;
    float sum = 0.0f;

    XQ_PER_BLOCK_32(x, a, n / WL_QK, xq_dot_ss(xq_load(x[i].qs), xq_load(a[i].qs)), sum);
    return sum;
}

static float q4_0_vec_dot(size_t n, const void *w, const void *act)
{
    const wl_block_q4_0 *x = w;
    const wl_block_q8_0 *a = act;
    float sum = 0.0f;

    XQ_PER_BLOCK_32(x, a, n / WL_QK,
                    xq_dot_ss(_mm256_sub_epi8(xq_nibbles32(x[i].qs), _mm256_set1_epi8(8)), xq_load(a[i].qs)),
                    sum);
    return sum;
}

/* 8 lanes. */
static float q5_0_vec_dot(size_t n, const void *w, const void *act)
{
    const wl_block_q5_0 *x = w;
    const wl_block_q8_0 *a = act;
    __m256 acc = _mm256_setzero_ps();

    for (size_t i = 0; i < n / WL_QK; i++) {
        __m256i q = _mm256_or_si256(xq_nibbles32(x[i].qs), xq_fifth_bits(x[i].qh));
        __m256i p = xq_dot_ss(_mm256_sub_epi8(q, _mm256_set1_epi8(16)), xq_load(a[i].qs));
        acc = xq_block_acc(acc, p, x[i].d, a[i].d);
    }
    return xq_hsum_ps(acc);
}

/* q4_1 per block: s = fma(sum, d*da, s), then s = fma(m, s_a, s). */
static float q4_1_vec_dot(size_t n, const void *w, const void *act)
{
    const wl_block_q4_1 *x = w;
    const wl_block_q8_1 *a = act;
    const size_t nb = n / WL_QK;
    float sum = 0.0f;
    size_t i = 0;

    for (; i + 8 <= nb; i += 8) {
        __m256i p[8];
        float fv[8];
        for (int j = 0; j < 8; j++)
            p[j] = xq_dot_us(xq_nibbles32(x[i + j].qs), xq_load(a[i + j].qs));
        _mm256_storeu_ps(fv, _mm256_cvtepi32_ps(xq_sums8(p)));
        for (int j = 0; j < 8; j++) {
            sum = fmaf(fv[j], xq_f16(x[i + j].d) * xq_f16(a[i + j].d), sum);
            sum = fmaf(xq_f16(x[i + j].m), xq_f16(a[i + j].s), sum);
        }
    }
    for (; i < nb; i++) {
        __m256i p = xq_dot_us(xq_nibbles32(x[i].qs), xq_load(a[i].qs));
        sum = fmaf((float)xq_hsum_epi32(p), xq_f16(x[i].d) * xq_f16(a[i].d), sum);
        sum = fmaf(xq_f16(x[i].m), xq_f16(a[i].s), sum);
    }
    return sum;
}

/* q5_1: 8 lanes, the mins in one float: summs = fma(m, s_a, summs). */
static float q5_1_vec_dot(size_t n, const void *w, const void *act)
{
    const wl_block_q5_1 *x = w;
    const wl_block_q8_1 *a = act;
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;

    for (size_t i = 0; i < n / WL_QK; i++) {
        __m256i q = _mm256_or_si256(xq_nibbles32(x[i].qs), xq_fifth_bits(x[i].qh));
        __m256i p = xq_dot_us(q, xq_load(a[i].qs));
        summs = fmaf(xq_f16(x[i].m), xq_f16(a[i].s), summs);
        acc = xq_block_acc(acc, p, x[i].d, a[i].d);
    }
    return xq_hsum_ps(acc) + summs;
}

/* ---- K-quants -------------------------------------------------------------- */

/* The integer parts of one q4_k or q5_k super-block at BASE against A,
 * as 8 lanes each: in *ISUM sum_j sc[j] * dot(sub-block j), in *MINS
 * sum_j mn[j] * (bsums[2j] + bsums[2j+1]).  Chunk c holds sub-blocks 2c
 * (low nibbles) and 2c+1 (high). */
static inline __attribute__((always_inline)) void xq_k_affine_sums(const uint8_t *base, size_t off_scales,
                                                                   size_t off_qs, long off_qh,
                                                                   const wl_block_q8_k *a, __m256i *isum_out,
                                                                   __m256i *mins_out)
{
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    uint64_t sc, mn;

    xq_k_scales_mins(base + off_scales, &sc, &mn);
    const __m256i scv = xq_scale_vec(_mm_cvtsi64_si128((long long)sc), 0);
    const uint8_t *qs = base + off_qs;
    const __m256i hbits = off_qh >= 0 ? xq_load(base + off_qh) : _mm256_setzero_si256();
    __m256i isum = _mm256_setzero_si256();
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++) {
        __m256i q = xq_load(qs + 32 * c);
        __m256i lo = _mm256_and_si256(q, low4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
        if (off_qh >= 0) {
            lo = _mm256_or_si256(lo, xq_bit_to(hbits, 1 << (2 * c), 0x10));
            hi = _mm256_or_si256(hi, xq_bit_to(hbits, 1 << (2 * c + 1), 0x10));
        }
        isum = _mm256_add_epi32(isum, xq_dot_scaled(lo, xq_load(a->qs + 64 * c), xq_scale_pick(scv, 2 * c, 2 * c)));
        isum = _mm256_add_epi32(isum, xq_dot_scaled(hi, xq_load(a->qs + 64 * c + 32),
                                                    xq_scale_pick(scv, 2 * c + 1, 2 * c + 1)));
    }
    /* Each min covers two groups of 16. */
    __m128i m8 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)mn));
    __m256i m16 = _mm256_setr_m128i(_mm_unpacklo_epi16(m8, m8), _mm_unpackhi_epi16(m8, m8));
    *isum_out = isum;
    *mins_out = xq_bsum_dot(a->bsums, m16);
}

/* q4_k and q5_k, per block: s = fma(sum, d*da, s), then s = fma(mins, -(dmin*da), s). */
static inline float k_affine_dot(size_t nb, const uint8_t *base, size_t stride, size_t off_scales,
                                 size_t off_qs, long off_qh, const wl_block_q8_k *a)
{
    float sum = 0.0f;

    for (size_t i = 0; i < nb; i++, base += stride) {
        uint16_t dh, dminh;
        __m256i isum, mins;
        memcpy(&dh, base, 2);
        memcpy(&dminh, base + 2, 2);
        xq_k_affine_sums(base, off_scales, off_qs, off_qh, &a[i], &isum, &mins);
        sum = fmaf((float)xq_hsum_epi32(isum), xq_f16(dh) * a[i].d, sum);
        sum = fmaf((float)xq_hsum_epi32(mins), -(xq_f16(dminh) * a[i].d), sum);
    }
    return sum;
}

static float q4_k_vec_dot(size_t n, const void *w, const void *act)
{
    return k_affine_dot(n / WL_QK_K, w, sizeof(wl_block_q4_k), offsetof(wl_block_q4_k, scales),
                        offsetof(wl_block_q4_k, qs), -1, act);
}

static float q5_k_vec_dot(size_t n, const void *w, const void *act)
{
    return k_affine_dot(n / WL_QK_K, w, sizeof(wl_block_q5_k), offsetof(wl_block_q5_k, scales),
                        offsetof(wl_block_q5_k, qs), (long)offsetof(wl_block_q5_k, qh), act);
}

/* The integer sum of one q6_k super-block X against A, as 8 lanes:
 * element 128h + 32s + l; low nibble from ql (s odd: second 32 bytes;
 * s >= 2: high nibble), bits 2s..2s+1 of qh[32h + l] on top; value q - 32,
 * the -32 of every quant taken off as 32 * sum_g sc[g] * bsums[g]. */
static inline __attribute__((always_inline)) __m256i xq_q6_k_sums(const wl_block_q6_k *x, const wl_block_q8_k *a)
{
    const __m256i low4 = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x30);
    const int8_t *sc = x->scales;
    __m256i isum = _mm256_setzero_si256();

    for (int h = 0; h < 2; h++) {
        __m256i ql0 = xq_load(x->ql + 64 * h), ql1 = xq_load(x->ql + 64 * h + 32);
        __m256i qh = xq_load(x->qh + 32 * h);
        const __m256i scv = xq_scale_vec(_mm_loadl_epi64((const __m128i *)(sc + 8 * h)), 1);
        __m256i u[4] = {
            _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), two)),
            _mm256_or_si256(_mm256_and_si256(ql1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), two)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4), _mm256_and_si256(qh, two)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                            _mm256_and_si256(_mm256_srli_epi16(qh, 2), two)),
        };
        _Pragma("GCC unroll 4") for (int s = 0; s < 4; s++)
            isum = _mm256_add_epi32(isum, xq_dot_scaled(u[s], xq_load(a->qs + 128 * h + 32 * s),
                                                        xq_scale_pick(scv, 2 * s, 2 * s + 1)));
    }
    __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
    return _mm256_sub_epi32(isum, _mm256_slli_epi32(xq_bsum_dot(a->bsums, sc16), 5));
}

/* q6_k, per block: s = fma(sum, d*da, s). */
static float q6_k_vec_dot(size_t n, const void *w, const void *act)
{
    const wl_block_q6_k *x = w;
    const wl_block_q8_k *a = act;
    float sum = 0.0f;

    for (size_t i = 0; i < n / WL_QK_K; i++)
        sum = fmaf((float)xq_hsum_epi32(xq_q6_k_sums(&x[i], &a[i])), xq_f16(x[i].d) * a[i].d, sum);
    return sum;
}

/* q2_k, 8 lanes: element 128h + 32s + l is bits 2s of qs[32h + l]; 4-bit
 * scale and min per 16 (low and high nibble of scales[]).  The mins go
 * into the lanes first (lane l: groups 2l and 2l+1), then the scales. */
static float q2_k_vec_dot(size_t n, const void *w, const void *act)
{
    const wl_block_q2_k *x = w;
    const wl_block_q8_k *a = act;
    const __m256i three = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        const uint8_t *sc = x[i].scales;
        __m256i isum = _mm256_setzero_si256();
        __m128i sc8 = _mm_loadu_si128((const __m128i *)sc);
        __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0F)));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(-a[i].d * xq_f16(x[i].dmin)),
                              _mm256_cvtepi32_ps(xq_bsum_dot(a[i].bsums, mins)), acc);
        for (int h = 0; h < 2; h++) {
            __m256i q = xq_load(x[i].qs + 32 * h);
            for (int s = 0; s < 4; s++) {
                __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), three);
                isum = _mm256_add_epi32(isum, xq_dot_scaled(u, xq_load(a[i].qs + 128 * h + 32 * s),
                                                            xq_scales(sc[8 * h + 2 * s] & 0xF,
                                                                      sc[8 * h + 2 * s + 1] & 0xF)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a[i].d * xq_f16(x[i].d)), _mm256_cvtepi32_ps(isum), acc);
    }
    return xq_hsum_ps(acc);
}

/* q3_k, 8 lanes: 2 low bits as q2_k, the third from bit 4h + s of
 * hmask[l]; value q - 4 (signed, so that each lane holds its own offset)
 * with 6-bit signed scales. */
static float q3_k_vec_dot(size_t n, const void *w, const void *act)
{
    const wl_block_q3_k *x = w;
    const wl_block_q8_k *a = act;
    const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    __m256 acc = _mm256_setzero_ps();

    for (size_t i = 0; i < n / WL_QK_K; i++) {
        int8_t sc[16];
        wl_q3_k_scales(x[i].scales, sc);
        __m256i hm = xq_load(x[i].hmask), isum = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i q = xq_load(x[i].qs + 32 * h);
            for (int s = 0; s < 4; s++) {
                __m256i v = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * s), three),
                                                            xq_bit_to(hm, 1 << (4 * h + s), 4)),
                                            four);
                __m256i av = xq_load(a[i].qs + 128 * h + 32 * s);
                isum = _mm256_add_epi32(isum, xq_dot_scaled(_mm256_abs_epi8(v), _mm256_sign_epi8(av, v),
                                                            xq_scales(sc[8 * h + 2 * s], sc[8 * h + 2 * s + 1])));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a[i].d * xq_f16(x[i].d)), _mm256_cvtepi32_ps(isum), acc);
    }
    return xq_hsum_ps(acc);
}

/* ---- activation quantizers --------------------------------------------------- */

static inline __m256 xq_abs_ps(__m256 v)
{
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

static inline float xq_hmax_ps(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* 32 floats times MUL, rounded to nearest even (cvtps2dq under the default
 * MXCSR), packed to bytes in order; returns the 8 lanes of int32 sums. */
static inline __m256i xq_round32(const float *x, __m256 mul, int8_t *out)
{
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), mul));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), mul));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), mul));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), mul));
    __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
    /* packs interleave the 128-bit lanes; the permute puts them back. */
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)out, p);
    return sum;
}

static inline float xq_absmax32(const float *x)
{
    __m256 m = _mm256_max_ps(_mm256_max_ps(xq_abs_ps(_mm256_loadu_ps(x)), xq_abs_ps(_mm256_loadu_ps(x + 8))),
                             _mm256_max_ps(xq_abs_ps(_mm256_loadu_ps(x + 16)), xq_abs_ps(_mm256_loadu_ps(x + 24))));
    return xq_hmax_ps(m);
}

/* Q8_0 and Q8_1 blocks of 32: d = amax/127, q = nearest-even(x * 127/amax);
 * returns sum(q) and the unrounded d. */
static inline int32_t xq_quantize_block32(const float *x, float *d, int8_t *qs)
{
    float amax = xq_absmax32(x);
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;

    if (id > FLT_MAX)   /* amax below 127 / FLT_MAX: 0s, as the reference's */
        id = 0.0f;

    *d = amax / 127.0f;
    return xq_hsum_epi32(xq_round32(x, _mm256_set1_ps(id), qs));
}

static void q8_0_from_float(const float *x, void *vy, size_t n)
{
    wl_block_q8_0 *y = vy;
    float d;

    for (size_t i = 0; i < n / WL_QK; i++, x += WL_QK) {
        xq_quantize_block32(x, &d, y[i].qs);
        y[i].d = xq_to_f16(d);
    }
}

static void q8_1_from_float(const float *x, void *vy, size_t n)
{
    wl_block_q8_1 *y = vy;
    float d;

    for (size_t i = 0; i < n / WL_QK; i++, x += WL_QK) {
        int32_t sum = xq_quantize_block32(x, &d, y[i].qs);
        y[i].d = xq_to_f16(d);
        y[i].s = xq_to_f16(d * (float)sum);
    }
}

/* Q8_K: the signed element of largest magnitude (the first of equals) sets
 * iscale = -127/max; the scalar reference's rounding, bsums per 16.  The
 * magnitude in four chains of vector maxima, the element found 8 at a
 * time, the sums by vpsadbw: 0.57 -> 0.21 ns an element on a Zen 5 (one
 * scalar search and 16 horizontal sums a super-block before). */
static void q8_k_from_float(const float *x, void *vy, size_t n)
{
    wl_block_q8_k *y = vy;
    const __m256i bias = _mm256_set1_epi8((char)0x80);

    for (size_t i = 0; i < n / WL_QK_K; i++, x += WL_QK_K) {
        __m256 m0 = _mm256_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
        for (int j = 0; j < WL_QK_K; j += 32) {
            m0 = _mm256_max_ps(m0, xq_abs_ps(_mm256_loadu_ps(x + j)));
            m1 = _mm256_max_ps(m1, xq_abs_ps(_mm256_loadu_ps(x + j + 8)));
            m2 = _mm256_max_ps(m2, xq_abs_ps(_mm256_loadu_ps(x + j + 16)));
            m3 = _mm256_max_ps(m3, xq_abs_ps(_mm256_loadu_ps(x + j + 24)));
        }
        const float amax = xq_hmax_ps(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
        if (amax == 0.0f || 127.0f / amax > FLT_MAX) {   /* iscale would be infinite: 0s, as the reference's */
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* The first element of that magnitude, 8 at a time. */
        const __m256 va = _mm256_set1_ps(amax);
        float max = amax;
        for (int j = 0; j < WL_QK_K; j += 8) {
            int hit = _mm256_movemask_ps(_mm256_cmp_ps(xq_abs_ps(_mm256_loadu_ps(x + j)), va, _CMP_EQ_OQ));
            if (hit) {
                max = x[j + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        float iscale = -127.0f / max;
        for (int j = 0; j < WL_QK_K; j += 32)
            xq_round32(x + j, _mm256_set1_ps(iscale), y[i].qs + j);
        /* Sums of 16: the quants plus 128 summed by vpsadbw in 8s, two
         * 8s added, 2048 taken off. */
        for (int g = 0; g < 16; g += 2) {
            __m256i q = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(y[i].qs + 16 * g)), bias);
            __m256i s = _mm256_sad_epu8(q, _mm256_setzero_si256());
            s = _mm256_add_epi64(s, _mm256_srli_si256(s, 8));
            y[i].bsums[g] = (int16_t)(_mm256_cvtsi256_si32(s) - 2048);
            y[i].bsums[g + 1] = (int16_t)(_mm_cvtsi128_si32(_mm256_extracti128_si256(s, 1)) - 2048);
        }
        y[i].d = 1.0f / iscale;
    }
}

/* Install every kernel of this header into K. */
static void xq_init(wl_kernels *k)
{
    k->type[WOOLLY_TYPE_Q4_0].vec_dot = q4_0_vec_dot;
    k->type[WOOLLY_TYPE_Q4_1].vec_dot = q4_1_vec_dot;
    k->type[WOOLLY_TYPE_Q5_0].vec_dot = q5_0_vec_dot;
    k->type[WOOLLY_TYPE_Q5_1].vec_dot = q5_1_vec_dot;
    k->type[WOOLLY_TYPE_Q8_0].vec_dot = q8_0_vec_dot;
    k->type[WOOLLY_TYPE_Q2_K].vec_dot = q2_k_vec_dot;
    k->type[WOOLLY_TYPE_Q3_K].vec_dot = q3_k_vec_dot;
    k->type[WOOLLY_TYPE_Q4_K].vec_dot = q4_k_vec_dot;
    k->type[WOOLLY_TYPE_Q5_K].vec_dot = q5_k_vec_dot;
    k->type[WOOLLY_TYPE_Q6_K].vec_dot = q6_k_vec_dot;
    k->type[WOOLLY_TYPE_Q8_0].from_float = q8_0_from_float;
    k->type[WOOLLY_TYPE_Q8_1].from_float = q8_1_from_float;
    k->type[WOOLLY_TYPE_Q8_K].from_float = q8_k_from_float;
}

#endif /* WOOLLY_X86_QUANT_H */
