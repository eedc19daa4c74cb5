/* vnni.c - kernels for AVX512-VNNI (built with VNNI_CFLAGS). */
#include <config.h>

#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/rows16.h"
#include "kernels/strips.h"
#define WL_X86_VNNI 1
#include "kernels/x86-quant.h"

/* dpbusd multiplies unsigned by signed bytes.  Shift x by +128 into the
 * unsigned range and take the surplus back out:
 *   sum (x+128)*y = sum x*y + 128 * sum y. */
static int32_t dot_i8(size_t n, const int8_t *x, const int8_t *y)
{
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    const __m512i ones = _mm512_set1_epi8(1);
    __m512i acc = _mm512_setzero_si512(), ysum = _mm512_setzero_si512();
    size_t i = 0;
    int32_t sum;

    for (; i + 64 <= n; i += 64) {
        __m512i vx = _mm512_loadu_si512(x + i);
        __m512i vy = _mm512_loadu_si512(y + i);
        acc = _mm512_dpbusd_epi32(acc, _mm512_xor_si512(vx, bias), vy);
        ysum = _mm512_dpbusd_epi32(ysum, ones, vy);
    }
    sum = _mm512_reduce_add_epi32(acc) - 128 * _mm512_reduce_add_epi32(ysum);
    for (; i < n; i++)
        sum += (int32_t)x[i] * (int32_t)y[i];
    return sum;
}

/* ---- tiled products: 16 weight rows times up to 8 tokens -------------------
 *
 * A strip of 16 weight rows is unpacked once per chunk of blocks into
 * unsigned bytes (one zmm lane per row, 4 consecutive elements a lane),
 * and every token of the product is dotted with it: each activation dword
 * is broadcast, so one vpdpbusd does 16 rows' 4 products.  The integer sums
 * are exact whatever their order; the float chain of each output, block
 * after block, is the vec_dot's own (fma(sum, dw*da, acc), per lane), so
 * every output has the bits that vec_dot gives it.  Partial sums wait in
 * OUT between chunks (floats stored and reloaded exactly). */

#define GR 16        /* rows per strip: a zmm lane each */
#define GT 8         /* tokens per tile */
#define UNROLL _Pragma("GCC unroll 16")

static inline __m512i bcast32(const void *p)
{
    int32_t v;

    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

static inline __m512 load_acc(int first, __mmask16 m, const float *p)
{
    return first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m, p);
}

/* The lanes of a strip that hold rows, of the ROWS left (all 16 if more). */
static inline __mmask16 rows_mask(size_t rows)
{
    return rows >= GR ? (__mmask16)0xFFFF : (__mmask16)((1u << rows) - 1);
}

/* Sixteen rows' vectors S[r] into O[k], lane r of which holds the sum of
 * the four dwords in 128-bit lane k of S[r] (integer sums: exact in any
 * order).  Pairs of rows are added and interleaved until each 128-bit
 * lane holds four rows, then the 128-bit lanes are transposed. */
static inline __attribute__((always_inline)) void lanes_of_rows(const __m512i S[GR], __m512i O[4])
{
    __m512i T[8], U[4], V[4];

    UNROLL for (int i = 0; i < 8; i++)
        T[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(S[2 * i], S[2 * i + 1]),
                                _mm512_unpackhi_epi32(S[2 * i], S[2 * i + 1]));
    UNROLL for (int i = 0; i < 4; i++)
        U[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(T[2 * i], T[2 * i + 1]),
                                _mm512_unpackhi_epi64(T[2 * i], T[2 * i + 1]));
    /* U[i] lane k: rows 4i..4i+3 of 128-bit lane k; transpose the 128-bit lanes. */
    V[0] = _mm512_shuffle_i32x4(U[0], U[1], 0x44);
    V[1] = _mm512_shuffle_i32x4(U[0], U[1], 0xEE);
    V[2] = _mm512_shuffle_i32x4(U[2], U[3], 0x44);
    V[3] = _mm512_shuffle_i32x4(U[2], U[3], 0xEE);
    O[0] = _mm512_shuffle_i32x4(V[0], V[2], 0x88);
    O[1] = _mm512_shuffle_i32x4(V[0], V[2], 0xDD);
    O[2] = _mm512_shuffle_i32x4(V[1], V[3], 0x88);
    O[3] = _mm512_shuffle_i32x4(V[1], V[3], 0xDD);
}

/* Two 32-byte pieces of quants as one vector. */
static inline __m512i halves(const int8_t *lo, const int8_t *hi)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)lo)),
                              _mm256_loadu_si256((const __m256i *)hi), 1);
}

/* Prefetching for one token.  A strip's 16 rows are read as 16
 * interleaved streams, which the L2 streamer does not follow, and with
 * every line fetched into L1 a core has too few misses in flight for the
 * memory's latency.  So while a strip is computed the next one (LIN) is
 * prefetched into L2 in address order, one sequential stream that the
 * streamer runs ahead of: a step's worth at a time (BYTES for the 16 rows,
 * row R of the step taking its share of the lines); each row also
 * prefetches its own next bytes into L1, a short distance ahead (PF_DIST).
 * Measured on the TinyLlama shape, 2 threads: Q4_0 36.3 -> 41.3 t/s, Q8_0
 * 24.1 -> 25.0, Q4_K_M 37.7 -> 38.8. */
#define PF_DIST 256  /* bytes ahead of each row to prefetch into L1 */

static inline __attribute__((always_inline)) void strip_prefetch(const uint8_t *lin, int r, size_t bytes)
{
    const size_t n = (bytes + 63) / 64;

    for (size_t i = n * (size_t)r / GR; i < n * (size_t)(r + 1) / GR; i++)
        _mm_prefetch((const char *)lin + 64 * i, _MM_HINT_T1);
}

/* Prefetching for many tokens.  A chunk of a strip is unpacked once and
 * then computed against every token; the next chunk (the same rows'
 * next blocks, or the next strip's first) is prefetched into L2 meanwhile,
 * a share of its lines with each tile of tokens, so that unpacking it
 * does not wait on the memory. */
typedef struct {
    const uint8_t *p;     /* the next chunk's first row */
    size_t stride, lpr;   /* bytes between rows; lines per row */
    size_t lines;         /* in all; 0: nothing next */
} next_chunk;

/* The chunk after blocks K0..K0+KC of rows R0..R0+RS (a strip) of NR
 * rows, NB blocks of WBYTES a row. */
static inline next_chunk next_chunk_of(const uint8_t *w, size_t w_stride, size_t wbytes, size_t nr, size_t nb,
                                       size_t rs, size_t r0, size_t k0, size_t kc)
{
    next_chunk c = { w, w_stride, 0, 0 };
    size_t rows, blocks;

    if (k0 + kc < nb) {
        c.p = w + r0 * w_stride + (k0 + kc) * wbytes;
        rows = nr - r0 < rs ? nr - r0 : rs;
        blocks = nb - k0 - kc < kc ? nb - k0 - kc : kc;
    } else if (r0 + rs < nr) {
        c.p = w + (r0 + rs) * w_stride;
        rows = nr - r0 - rs < rs ? nr - r0 - rs : rs;
        blocks = nb < kc ? nb : kc;
    } else {
        return c;
    }
    c.lpr = (blocks * wbytes + 63) / 64 + 1;   /* + 1: rows need not start on a line */
    c.lines = rows * c.lpr;
    return c;
}

/* The same for a product's weights as they are (PACKED 0), or repacked,
 * where a strip's blocks lie as one row of GR times their bytes. */
static inline next_chunk next_chunk_in(int packed, const uint8_t *w, size_t w_stride, size_t wbytes, size_t nr,
                                       size_t nb, size_t r0, size_t k0, size_t kc)
{
    return packed ? next_chunk_of(w, GR * w_stride, GR * wbytes, nr / GR, nb, 2, r0 / GR, k0, kc)
                  : next_chunk_of(w, w_stride, wbytes, nr, nb, 2 * GR, r0, k0, kc);
}

/* Share I of PARTS of the next chunk's lines. */
static inline void next_chunk_prefetch(const next_chunk *c, size_t i, size_t parts)
{
    for (size_t l = c->lines * i / parts; l < c->lines * (i + 1) / parts; l++)
        _mm_prefetch((const char *)c->p + l / c->lpr * c->stride + l % c->lpr * 64, _MM_HINT_T1);
}

/* ---- Q4_0 and Q8_0 weights, Q8_0 activations ---- */

/* NT tokens times NV strips of 16 rows (S[0], S[1]), blocks 0..NB: each
 * activation dword is broadcast once for the NV strips.  Two strips (32
 * rows) and 4 tokens use half the loads of one strip and 8 tokens for the
 * same 8 independent sums: on a Zen 5 the loop runs 1.35 times as fast. */
#define GT2 4        /* tokens per tile of two strips */

static inline __attribute__((always_inline)) void tile32(const strip32 *S, int nv, size_t nb, const uint8_t *a,
                                                         size_t a_stride, const wl_q8_0_aux *aux,
                                                         size_t aux_stride, int nt, __m512 acc[GT][2])
{
    for (size_t b = 0; b < nb; b++) {
        __m512i s[GT][2];
        UNROLL for (int t = 0; t < nt; t++)
            UNROLL for (int v = 0; v < nv; v++)
                s[t][v] = _mm512_set1_epi32(aux[(size_t)t * aux_stride + b].corr);
        const uint8_t *ab = a + b * sizeof(wl_block_q8_0) + 2;
        UNROLL for (int g = 0; g < 8; g++) {
            UNROLL for (int t = 0; t < nt; t++) {
                const __m512i av = bcast32(ab + (size_t)t * a_stride + 4 * g);
                UNROLL for (int v = 0; v < nv; v++)
                    s[t][v] = _mm512_dpbusd_epi32(s[t][v], S[v].w[b][g], av);
            }
        }
        UNROLL for (int t = 0; t < nt; t++) {
            const __m512 da = _mm512_set1_ps(aux[(size_t)t * aux_stride + b].d);
            UNROLL for (int v = 0; v < nv; v++)
                acc[t][v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t][v]), _mm512_mul_ps(S[v].d[b], da), acc[t][v]);
        }
    }
}

/* BODY on the accumulators of NT tokens times NV strips (of rows M[v]),
 * held in registers: loaded from the outputs at O, LDO apart (zero for a
 * product's FIRST chunk), and stored back after.  Loaded before the
 * switch on NT, they had been kept on the stack (pp512 whole processes:
 * 0.991-0.993 of the time for Q4_0, Q8_0 and Q4_K_M). */
#define TILE_IO(NT, NV, BODY)                                                                      \
    do {                                                                                           \
        __m512 acc[GT][2];                                                                         \
        UNROLL for (int t_ = 0; t_ < (NT); t_++)                                                   \
            UNROLL for (int v_ = 0; v_ < (NV); v_++)                                               \
                acc[t_][v_] = load_acc(first, m[v_], o + (size_t)t_ * ldo + (size_t)v_ * GR);      \
        BODY;                                                                                      \
        UNROLL for (int t_ = 0; t_ < (NT); t_++)                                                   \
            UNROLL for (int v_ = 0; v_ < (NV); v_++)                                               \
                _mm512_mask_storeu_ps(o + (size_t)t_ * ldo + (size_t)v_ * GR, m[v_], acc[t_][v_]); \
    } while (0)

#define TILE_CASES(CALL)                                                        \
    switch (nt) {                                                               \
    case 1: CALL(1); break; case 2: CALL(2); break; case 3: CALL(3); break;     \
    case 4: CALL(4); break; case 5: CALL(5); break; case 6: CALL(6); break;     \
    case 7: CALL(7); break; default: CALL(8); break;                            \
    }

/* One Q4_0 (WBYTES 18) or Q8_0 block of 16 rows times one token's block A. */
static inline __m512 unpacked_dot(size_t wbytes, const uint8_t *w, __m512i idx, __mmask16 m, const uint8_t *a,
                                  const wl_q8_0_aux *aux, __m512 acc)
{
    __m512i s0 = _mm512_set1_epi32(aux->corr), s1 = _mm512_setzero_si512();
    __m512 d = f16_lanes(gather(m, idx, w), 0);

    if (wbytes == sizeof(wl_block_q4_0)) {
        const __m512i low4 = _mm512_set1_epi8(0x0F), bias = _mm512_set1_epi8(120);
        UNROLL for (int g = 0; g < 4; g++) {
            __m512i q = gather(m, idx, w + 2 + 4 * g);
            s0 = _mm512_dpbusd_epi32(s0, _mm512_add_epi8(_mm512_and_si512(q, low4), bias), bcast32(a + 2 + 4 * g));
            s1 = _mm512_dpbusd_epi32(s1, _mm512_add_epi8(_mm512_and_si512(_mm512_srli_epi32(q, 4), low4), bias),
                                     bcast32(a + 2 + 16 + 4 * g));
        }
    } else {
        const __m512i bias = _mm512_set1_epi8((char)0x80);
        UNROLL for (int g = 0; g < 8; g += 2) {
            s0 = _mm512_dpbusd_epi32(s0, _mm512_xor_si512(gather(m, idx, w + 2 + 4 * g), bias), bcast32(a + 2 + 4 * g));
            s1 = _mm512_dpbusd_epi32(s1, _mm512_xor_si512(gather(m, idx, w + 6 + 4 * g), bias), bcast32(a + 6 + 4 * g));
        }
    }
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), _mm512_mul_ps(d, _mm512_set1_ps(aux->d)),
                           acc);
}

/* The float chain of four blocks, lane by lane as the vec_dot's: O[k]
 * lane r holds row r's integer sum for block k, DH[k] the rows' half
 * scales, X[k] the activation block's scale and correction.  The sums
 * take corr / DIV first: corr (-128 * sum a) for weights dotted as q + 128
 * (Q8_0), corr / 16 (-8 * sum a) for Q4_0 nibbles dotted as they are. */
static inline __attribute__((always_inline)) __m512 blocks4_fma(const __m512i O[4], const uint8_t *const dh[4],
                                                                const wl_q8_0_aux *x, int div, __m512 acc)
{
    UNROLL for (int k = 0; k < 4; k++) {
        __m512i isum = _mm512_add_epi32(O[k], _mm512_set1_epi32(x[k].corr / div));
        __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)dh[k]));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(d, _mm512_set1_ps(x[k].d)), acc);
    }
    return acc;
}

/* X (a pointer) from here on in a register, as if computed there: GCC
 * otherwise keeps what it derives from X across a strip's unrolled rows
 * (16 row pointers, 32 scale-store addresses) in stack slots, reloaded
 * every group (58 of the 394 instructions of a Q4_0 group). */
#define IN_REGISTER(x) __asm__("" : "+r"(x))

/* Sixteen rows' scales of four blocks, two blocks a buffer: row r's half
 * at bytes 2r of each block's 32. */
typedef struct {
    uint8_t b[2][128] __attribute__((aligned(64)));
} scales16;

/* Row R's two scales at bytes OFF and OFF + GAP of V (GAP >= 32) into
 * buffer I of SC, as row R's halves of its blocks at bytes 32 and 32 + GAP:
 * one masked store, where copying them a half at a time took two loads
 * and two stores (Q4_0 tg128 whole processes: 0.929 of the time). */
static inline __attribute__((always_inline)) void scale_pair(scales16 *sc, int i, int r, __m512i v, int off,
                                                             int gap)
{
    _mm512_mask_storeu_epi16(sc->b[i] + 32 + 2 * r - off,
                             (__mmask32)1 << (off / 2) | (__mmask32)1 << ((off + gap) / 2), v);
}

/* One token, Q4_0, a full strip of 16 rows, blocks B0..B0+4G: four blocks
 * of a row at a time from two contiguous 64-byte loads (bytes 0..63 and
 * 8..71 of the four blocks), whose 64 quant bytes one vpermt2w lays out a
 * block per 128-bit lane.  Each row is dotted against the activation's
 * low and high halves laid out alike (AL, AH), and the 16 rows' 4 partial
 * sums a block are added and transposed so that lane r holds row r's sum
 * for the block (integer sums: exact in any order).  Weights are q, not
 * q - 8: sum (q-8)*a = sum q*a + corr/16, corr being -128 * sum a.  The
 * scales are copied out a row at a time; the float chain of each lane is
 * the vec_dot's, block after block. */

static inline __attribute__((always_inline)) __m512 q4_0_strip4(const uint8_t *w, size_t w_stride, size_t b0,
                                                                size_t ng, const uint8_t *al, const uint8_t *ah,
                                                                const wl_q8_0_aux *aux, __m512 acc)
{
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    /* Words of A (0..31) or B (32..63): block k's quants start at byte 18k + 2, even. */
    static const uint16_t qw[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17,
                                     19, 20, 21, 22, 23, 24, 25, 26, 56, 57, 58, 59, 60, 61, 62, 63 };
    const __m512i qidx = _mm512_loadu_si512(qw);
    scales16 sc;
    const uint8_t *lin = w + GR * w_stride + b0 * GR * sizeof(wl_block_q4_0);   /* the next strip */

    w += b0 * sizeof(wl_block_q4_0);
    for (size_t gi = 0; gi < ng; gi++) {
        const size_t off = gi * 4 * sizeof(wl_block_q4_0);
        const __m512i va = _mm512_loadu_si512(al + 64 * gi);
        const __m512i vh = _mm512_loadu_si512(ah + 64 * gi);
        const uint8_t *p = w + off;
        scales16 *sp = &sc;
        IN_REGISTER(sp);   /* the scales' stores at fixed offsets of it */
        const uint8_t *const dh[4] = { sp->b[0] + 32, sp->b[1] + 32, sp->b[0] + 68, sp->b[1] + 68 };
        __m512i S[GR];
        UNROLL for (int r = 0; r < GR; r++) {
            _mm_prefetch((const char *)p + PF_DIST, _MM_HINT_T0);
            _mm_prefetch((const char *)p + PF_DIST + 64, _MM_HINT_T0);
            strip_prefetch(lin, r, GR * 4 * sizeof(wl_block_q4_0));
            __m512i A = _mm512_loadu_si512(p), B = _mm512_loadu_si512(p + 8);
            __m512i q = _mm512_permutex2var_epi16(A, qidx, B);
            __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q, low4), va);
            S[r] = _mm512_dpbusd_epi32(s, _mm512_and_si512(_mm512_srli_epi16(q, 4), low4), vh);
            scale_pair(sp, 0, r, A, 0, 36);    /* blocks 0 and 2 */
            scale_pair(sp, 1, r, A, 18, 36);   /* blocks 1 and 3 */
            p += w_stride;
            IN_REGISTER(p);    /* the next row: one add */
        }
        lin += GR * 4 * sizeof(wl_block_q4_0);
        __m512i O[4];
        lanes_of_rows(S, O);
        acc = blocks4_fma(O, dh, &aux[b0 + 4 * gi], 16, acc);
    }
    return acc;
}

/* One token, Q8_0, a full strip of 16 rows, blocks B0..B0+4G: two blocks
 * of a row a vector (their quants from two 32-byte loads), plus 128 to be
 * unsigned, dotted with the activation's quants laid out contiguously
 * (AQ); the 128-bit lanes of the two vectors are added in pairs so that
 * lane k holds block k's parts, and lanes_of_rows turns the rows into
 * lanes.  The float chain is the vec_dot's, block after block. */
static inline __attribute__((always_inline)) __m512 q8_0_strip4(const uint8_t *w, size_t w_stride, size_t b0,
                                                                size_t ng, const uint8_t *aq,
                                                                const wl_q8_0_aux *aux, __m512 acc)
{
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    const size_t bb = sizeof(wl_block_q8_0);
    scales16 sc;

    for (size_t gi = 0; gi < ng; gi++) {
        const size_t blk = b0 + 4 * gi;
        const __m512i va = _mm512_loadu_si512(aq + 32 * blk), vb = _mm512_loadu_si512(aq + 32 * blk + 64);
        const uint8_t *p = w + blk * bb;
        scales16 *sp = &sc;
        IN_REGISTER(sp);
        const uint8_t *const dh[4] = { sp->b[0] + 32, sp->b[0] + 66, sp->b[1] + 32, sp->b[1] + 66 };
        __m512i S[GR], O[4];
        UNROLL for (int r = 0; r < GR; r++) {
            _mm_prefetch((const char *)p + PF_DIST, _MM_HINT_T0);
            _mm_prefetch((const char *)p + PF_DIST + 64, _MM_HINT_T0);
            _mm_prefetch((const char *)p + PF_DIST + 128, _MM_HINT_T0);
            strip_prefetch(w + GR * w_stride + blk * GR * bb, r, GR * 4 * bb);
            __m512i w01 = halves((const int8_t *)p + 2, (const int8_t *)p + bb + 2);
            __m512i w23 = halves((const int8_t *)p + 2 * bb + 2, (const int8_t *)p + 3 * bb + 2);
            __m512i s01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(w01, bias), va);
            __m512i s23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(w23, bias), vb);
            S[r] = _mm512_add_epi32(_mm512_shuffle_i32x4(s01, s23, 0x88), _mm512_shuffle_i32x4(s01, s23, 0xDD));
            scale_pair(sp, 0, r, _mm512_loadu_si512(p), 0, 34);        /* blocks 0 and 1 */
            scale_pair(sp, 1, r, _mm512_loadu_si512(p + 2 * bb), 0, 34);   /* blocks 2 and 3 */
            p += w_stride;
            IN_REGISTER(p);
        }
        lanes_of_rows(S, O);
        acc = blocks4_fma(O, dh, &aux[blk], 1, acc);
    }
    return acc;
}

#define AL_MAX 1024  /* blocks of the activation laid out for the strips */

/* Many tokens: strips of 32 rows (two of 16, the last ones possibly one)
 * unpacked a chunk of blocks at a time, then computed against every token
 * a tile at a time.  Partial sums wait in OUT between chunks. */
static void tiles32(void (*pack)(strip32 *, const uint8_t *, size_t, __m512i, __mmask16, size_t, int), size_t wbytes,
                    int packed, size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                    const wl_q8_0_aux *aux, size_t n_tok, float *out, size_t ldo)
{
    /* A chunk's address: a row's blocks, or (repacked) a strip's. */
    const size_t kstep = packed ? GR * wbytes : wbytes;
    strip32 S[2];
    const size_t nb = n / WL_QK;
    const __m512i idx = row_index(w_stride);

    for (size_t r0 = 0; r0 < nr; r0 += 2 * GR) {
        const size_t rows = nr - r0 < 2 * GR ? nr - r0 : 2 * GR;
        const int nv = rows > GR ? 2 : 1;
        const size_t gt = nv == 2 ? GT2 : GT;
        const __mmask16 m[2] = { rows_mask(rows), nv == 2 ? rows_mask(rows - GR) : 0 };
        const uint8_t *wr = (const uint8_t *)w + r0 * w_stride;
        for (size_t k0 = 0; k0 < nb; k0 += KC32) {
            size_t kn = nb - k0 < KC32 ? nb - k0 : KC32;
            const next_chunk nc = next_chunk_in(packed, w, w_stride, wbytes, nr, nb, r0, k0, KC32);
            for (int v = 0; v < nv; v++)
                pack(&S[v], wr + (size_t)v * GR * w_stride + k0 * kstep, w_stride, idx, m[v], kn, 128);
            for (size_t t0 = 0; t0 < n_tok; t0 += gt) {
                next_chunk_prefetch(&nc, t0 / gt, (n_tok + gt - 1) / gt);
                int nt = n_tok - t0 < gt ? (int)(n_tok - t0) : (int)gt;
                float *o = out + t0 * ldo + r0;
                const int first = k0 == 0;
                const uint8_t *at = (const uint8_t *)a + t0 * a_stride + k0 * sizeof(wl_block_q8_0);
                const wl_q8_0_aux *xt = aux + t0 * nb + k0;
                if (nv == 2) {
#define CALL32X2(NT) TILE_IO(NT, 2, tile32(S, 2, kn, at, a_stride, xt, nb, NT, acc))
                    switch (nt) {
                    case 1: CALL32X2(1); break; case 2: CALL32X2(2); break;
                    case 3: CALL32X2(3); break; default: CALL32X2(GT2); break;
                    }
                } else {
#define CALL32(NT) TILE_IO(NT, 1, tile32(S, 1, kn, at, a_stride, xt, nb, NT, acc))
                    TILE_CASES(CALL32)
                }
            }
        }
    }
}

static void gemm32(void (*pack)(strip32 *, const uint8_t *, size_t, __m512i, __mmask16, size_t, int), size_t wbytes,
                   size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                   const void *vaux, size_t n_tok, float *out, size_t ldo)
{
    const wl_q8_0_aux *aux = vaux;

    if (n_tok > 1) {
        tiles32(pack, wbytes, 0, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
        return;
    }
    const size_t nb = n / WL_QK;
    const __m512i idx = row_index(w_stride);
    /* One token: the activation's quants without their scales, for Q4_0
     * the 16 low and 16 high of each block apart (AL, AH). */
    uint8_t lay_buf[AL_MAX * 32] __attribute__((aligned(64)));
    uint8_t *al = lay_buf, *ah = lay_buf + AL_MAX * 16;
    const int q4 = wbytes == sizeof(wl_block_q4_0);
    const int lay = nb >= 4 && nb <= AL_MAX && nr >= GR;

    if (lay)
        for (size_t b = 0; b < nb; b++) {
            const uint8_t *qs = (const uint8_t *)a + b * sizeof(wl_block_q8_0) + 2;
            if (q4) {
                memcpy(al + 16 * b, qs, 16);
                memcpy(ah + 16 * b, qs + 16, 16);
            } else {
                memcpy(lay_buf + 32 * b, qs, 32);
            }
        }
    for (size_t r0 = 0; r0 < nr; r0 += GR) {
        __mmask16 m = rows_mask(nr - r0);
        const uint8_t *wr = (const uint8_t *)w + r0 * w_stride;
        /* One token: whole strips in the lanes; the rest from the gathers. */
        __m512 acc = _mm512_setzero_ps();
        size_t b = 0;
        if (lay && m == 0xFFFF) {
            acc = q4 ? q4_0_strip4(wr, w_stride, 0, nb / 4, al, ah, aux, acc)
                     : q8_0_strip4(wr, w_stride, 0, nb / 4, lay_buf, aux, acc);
            b = nb / 4 * 4;
        }
        for (; b < nb; b++)
            acc = unpacked_dot(wbytes, wr + b * wbytes, idx, m, (const uint8_t *)a + b * sizeof(wl_block_q8_0),
                               &aux[b], acc);
        _mm512_mask_storeu_ps(out + r0, m, acc);
    }
}

/* ---- Q4_0 repacked (strips.h) ---- */

/* The NR rows (whole strips) of NB blocks of BB bytes at W rearranged at
 * OUT as strips.h lays them out: each block of a strip at GR * BB, its
 * NDW dwords from byte SRC of each row as vectors from byte VEC (lane r
 * row r), and where HALF >= 0 the 2 bytes at HALF of each row as 16
 * halves from byte HDST. */
static void strips_of_rows(const void *w, size_t w_stride, size_t nr, size_t nb, size_t bb, size_t ndw, size_t src,
                          size_t vec, int half, size_t hdst, void *out)
{
    for (size_t r0 = 0; r0 + GR <= nr; r0 += GR) {
        const uint8_t *wr = (const uint8_t *)w + r0 * w_stride;
        uint8_t *o = (uint8_t *)out + r0 * w_stride;
        for (size_t b = 0; b < nb; b++, o += GR * bb) {
            const uint8_t *blk = wr + b * bb;
            for (size_t j = 0; j < ndw; j += 4) {
                __m512i v[4];
                rows16_dwords4(blk + src + 4 * j, w_stride, v);
                for (int i = 0; i < 4; i++)
                    _mm512_storeu_si512(o + vec + 64 * (j + (size_t)i), v[i]);
            }
            for (int r = 0; half >= 0 && r < GR; r++)
                memcpy(o + hdst + 2 * r, blk + (size_t)r * w_stride + half, 2);
        }
    }
}

void wl_vnni_q4_0_repack(const void *w, size_t w_stride, size_t nr, size_t n, void *out)
{
    strips_of_rows(w, w_stride, nr, n / WL_QK, sizeof(wl_block_q4_0), 4, 2, 32, 0, 0, out);
}

/* One token, a repacked Q4_0 strip: each block's 16 rows from one
 * 288-byte stretch, the low and high nibbles of its 4 vectors dotted with
 * the broadcast dwords of the activation's first and second 16 quants in
 * four independent sums (exact in any order), then the vec_dot's float
 * chain, block after block.  Weights are q, not q - 8, as in q4_0_strip4.
 * The strips are read in address order, which the hardware prefetchers
 * follow: software prefetching made it slower. */
static __m512 q4_0_packed_strip(const uint8_t *w, size_t nb, const uint8_t *a, const wl_q8_0_aux *aux)
{
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    __m512 acc = _mm512_setzero_ps();

    for (size_t b = 0; b < nb; b++, w += Q4_0P_BLOCK) {
        const uint8_t *ab = a + b * sizeof(wl_block_q8_0) + 2;
        const __m512i q0 = _mm512_loadu_si512(w + 32), q1 = _mm512_loadu_si512(w + 96);
        const __m512i q2 = _mm512_loadu_si512(w + 160), q3 = _mm512_loadu_si512(w + 224);
        __m512i s0 = _mm512_dpbusd_epi32(_mm512_set1_epi32(aux[b].corr / 16), _mm512_and_si512(q0, low4), bcast32(ab));
        __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q1, low4), bcast32(ab + 4));
        __m512i s2 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(_mm512_srli_epi16(q0, 4), low4),
                                         bcast32(ab + 16));
        __m512i s3 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(_mm512_srli_epi16(q1, 4), low4),
                                         bcast32(ab + 20));
        s0 = _mm512_dpbusd_epi32(s0, _mm512_and_si512(q2, low4), bcast32(ab + 8));
        s1 = _mm512_dpbusd_epi32(s1, _mm512_and_si512(q3, low4), bcast32(ab + 12));
        s2 = _mm512_dpbusd_epi32(s2, _mm512_and_si512(_mm512_srli_epi16(q2, 4), low4), bcast32(ab + 24));
        s3 = _mm512_dpbusd_epi32(s3, _mm512_and_si512(_mm512_srli_epi16(q3, 4), low4), bcast32(ab + 28));
        const __m512i isum = _mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(s2, s3));
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(d, _mm512_set1_ps(aux[b].d)), acc);
    }
    return acc;
}

void wl_vnni_q4_0_gemm_packed(size_t n, const void *w, size_t w_stride, size_t nr, const void *a,
                              size_t a_stride, const void *vaux, size_t n_tok, float *out, size_t ldo)
{
    const wl_q8_0_aux *aux = vaux;

    if (n_tok > 1) {
        tiles32(pack_q4_0_packed, sizeof(wl_block_q4_0), 1, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
        return;
    }
    for (size_t r0 = 0; r0 + GR <= nr; r0 += GR)
        _mm512_storeu_ps(out + r0, q4_0_packed_strip((const uint8_t *)w + r0 * w_stride, n / WL_QK, a, aux));
}

void wl_vnni_q4_0_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemm32(pack_q4_0, sizeof(wl_block_q4_0), n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

void wl_vnni_q8_0_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemm32(pack_q8_0, sizeof(wl_block_q8_0), n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

/* ---- Q4_K and Q6_K weights, Q8_K activations ---- */

#define ROW_PF 1     /* one token: rows ahead whose bytes are prefetched (rows are short) */
/* The integer parts of NT tokens' super-block B against NV strips (S[0],
 * S[1]): in IS the scaled sums of the groups (q4_k: 8 sub-blocks of 32,
 * q6_k: 16 groups of 16, each sum starting from the group's -32 * bsums,
 * the offset of its quants), and for q4_k in MN the mins times the
 * sub-blocks' sums.  Each activation dword is broadcast once for the NV
 * strips, each weight vector loaded once for the NT tokens.  FIT: every
 * group's sum fits in an int16 (wl_q8_k_aux), so that vpdpwssd with the
 * scale in the low word of each dword (high word 0) multiplies and adds
 * it in one instruction instead of three. */
static inline __attribute__((always_inline)) void k_int_sums(const stripk *S, int nv, size_t b,
                                                             const wl_block_q8_k *a, size_t a_stride,
                                                             const wl_q8_k_aux *x, size_t x_stride, int nt, int q6,
                                                             int fit, __m512i is[GT][2], __m512i mn[GT][2])
{
    const int ng = q6 ? 16 : 8, dw = 64 / ng;   /* groups; dwords of a group */

    UNROLL for (int t = 0; t < nt; t++)
        UNROLL for (int v = 0; v < nv; v++)
            is[t][v] = mn[t][v] = _mm512_setzero_si512();
    for (int g = 0; g < ng; g++) {
        __m512i s[GT][2];
        UNROLL for (int t = 0; t < nt; t++) {
            const __m512i s0 = q6 ? bcast32(&x[(size_t)t * x_stride + b].neg32[g]) : _mm512_setzero_si512();
            UNROLL for (int v = 0; v < nv; v++)
                s[t][v] = s0;
        }
        UNROLL for (int i = 0; i < dw; i++) {
            UNROLL for (int t = 0; t < nt; t++) {
                const wl_block_q8_k *at = (const wl_block_q8_k *)((const uint8_t *)a + (size_t)t * a_stride) + b;
                const __m512i av = bcast32(at->qs + 4 * (dw * g + i));
                UNROLL for (int v = 0; v < nv; v++)
                    s[t][v] = _mm512_dpbusd_epi32(s[t][v], S[v].w[b][dw * g + i], av);
            }
        }
        UNROLL for (int t = 0; t < nt; t++)
            UNROLL for (int v = 0; v < nv; v++) {
                __m512i sc = S[v].sc[b][g];   /* q6_k: the signed scale's 16 bits */
                if (fit)
                    is[t][v] = _mm512_dpwssd_epi32(is[t][v], s[t][v], sc);
                else
                    is[t][v] = _mm512_add_epi32(
                        is[t][v], _mm512_mullo_epi32(s[t][v], q6 ? _mm512_srai_epi32(_mm512_slli_epi32(sc, 16), 16) : sc));
            }
    }
    if (!q6)
        UNROLL for (int p = 0; p < 4; p++)
            UNROLL for (int t = 0; t < nt; t++) {
                const __m512i bs = bcast32(x[(size_t)t * x_stride + b].sum32 + 2 * p);
                UNROLL for (int v = 0; v < nv; v++)
                    mn[t][v] = _mm512_dpwssd_epi32(mn[t][v], S[v].pair[b][p], bs);
            }
}

/* Whether FIT16 bit BIT is set for all NT tokens' super-block B. */
static inline __attribute__((always_inline)) int k_fit(const wl_q8_k_aux *x, size_t x_stride, size_t b, int nt,
                                                       int bit)
{
    int fit = bit;

    UNROLL for (int t = 0; t < nt; t++)
        fit &= x[(size_t)t * x_stride + b].fit16;
    return fit;
}

/* q4_k: isum = sum_j sc[j] * dot(sub-block j); mins = sum_j mn[j] * (bsums[2j] + bsums[2j+1]);
 * acc = fma(isum, d*da, acc), then fma(mins, -(dmin*da), acc) (= (-dmin)*da).
 * q6_k: isum = sum_g sc[g] * (dot(group g, q) - 32 * bsums[g]); acc = fma(isum, d*da, acc). */
static inline __attribute__((always_inline)) void tile_k(int q6, const stripk *S, int nv, size_t nb,
                                                         const wl_block_q8_k *a, size_t a_stride,
                                                         const wl_q8_k_aux *x, size_t x_stride, int nt,
                                                         __m512 acc[GT][2])
{
    for (size_t b = 0; b < nb; b++) {
        __m512i is[GT][2], mins[GT][2];
        if (k_fit(x, x_stride, b, nt, q6 ? 2 : 1))
            k_int_sums(S, nv, b, a, a_stride, x, x_stride, nt, q6, 1, is, mins);
        else
            k_int_sums(S, nv, b, a, a_stride, x, x_stride, nt, q6, 0, is, mins);
        UNROLL for (int t = 0; t < nt; t++) {
            const wl_block_q8_k *at = (const wl_block_q8_k *)((const uint8_t *)a + (size_t)t * a_stride) + b;
            __m512 da = _mm512_set1_ps(at->d);
            UNROLL for (int v = 0; v < nv; v++) {
                acc[t][v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is[t][v]), _mm512_mul_ps(S[v].d[b], da), acc[t][v]);
                if (!q6)
                    acc[t][v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins[t][v]), _mm512_mul_ps(S[v].dmin[b], da),
                                                acc[t][v]);
            }
        }
    }
}

/* ---- one token, Q4_K and Q6_K: a strip of 16 rows in the lanes ----------
 *
 * Each row's super-block is read whole and in order (no gathers): its
 * quants times the activation as vpmaddubsw pairs, each pair times its
 * group's scale as vpmaddwd (the later ones added in by vpdpwssd), so
 * that one vector of 16 dwords holds a row's scaled integer sum in parts;
 * lanes_of_rows turns 16 such vectors into lanes.  The float chain of
 * each lane is the vec_dot's, super-block after super-block.  Prefetching
 * as for Q4_0 (strip_prefetch): each row's next super-block into L1, the
 * next strip in address order into L2. */

/* vpermw indices: the scale words of the 64 bytes of the 4 vectors of a
 * super-block, words 0-15 one group and 16-31 another. */
static inline __m512i scale_words(int g0, int g1, int g2, int g3)
{
    uint16_t v[32];

    for (int i = 0; i < 8; i++) {
        v[i] = (uint16_t)g0;
        v[8 + i] = (uint16_t)g1;
        v[16 + i] = (uint16_t)g2;
        v[24 + i] = (uint16_t)g3;
    }
    return _mm512_loadu_si512(v);
}

static inline void prefetch_block(const uint8_t *p, size_t bytes)
{
    for (size_t o = 0; o < bytes; o += 64)
        _mm_prefetch((const char *)p + o, _MM_HINT_T0);
    _mm_prefetch((const char *)p + bytes - 1, _MM_HINT_T0);
}

/* q4_k: qs byte 32c + l holds element 64c + l (low nibble, sub-block 2c)
 * and 64c + 32 + l (high, 2c + 1), so the low nibbles of qs[0..63] meet
 * quants 0-31 and 64-95 of the activation (sub-blocks 0 and 2), and so on.
 * The mins' sums (mn[j] times bsums 2j and 2j+1) are made for the 16 rows
 * at once from their mins, a row's 8 bytes in turn: 19 vector operations
 * instead of 6 a row (one token, rows in L2: 40 -> 45 GMAC/s a core). */

/* The mins' sums of 16 rows: MN8[r] the 8 mins of row r (a byte each), BP
 * the activation's 8 sums of pairs of sub-blocks; lane r of the result is
 * sum_j MN8[r][j] * BP[j]. */
static inline __m512i q4_k_mins16(const uint64_t mn8[GR], __m128i bp)
{
    const __m512i b = _mm512_broadcast_i32x4(bp);
    const __m512i m0 = _mm512_loadu_si512(mn8), m1 = _mm512_loadu_si512(mn8 + 8);
    /* P[i] 128-bit lane L: 4 partial sums of row 4i + L. */
    __m512i p0 = _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(m0)), b);
    __m512i p1 = _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(m0, 1)), b);
    __m512i p2 = _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(m1)), b);
    __m512i p3 = _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(m1, 1)), b);
    __m512i a = _mm512_add_epi32(_mm512_unpacklo_epi32(p0, p1), _mm512_unpackhi_epi32(p0, p1));
    __m512i c = _mm512_add_epi32(_mm512_unpacklo_epi32(p2, p3), _mm512_unpackhi_epi32(p2, p3));
    /* dword 4L + i: the sum of row 4i + L. */
    __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi64(a, c), _mm512_unpackhi_epi64(a, c));
    return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), s);
}

static __m512 q4_k_strip1(const uint8_t *w, size_t w_stride, size_t nb, const wl_block_q8_k *a)
{
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512 neg = _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u));
    const __m512i I0 = scale_words(0, 0, 2, 2), I1 = scale_words(1, 1, 3, 3);
    const __m512i I2 = scale_words(4, 4, 6, 6), I3 = scale_words(5, 5, 7, 7);
    __m512 acc = _mm512_setzero_ps();

    for (size_t b = 0; b < nb; b++) {
        const wl_block_q8_k *ab = a + b;
        const __m512i A0 = halves(ab->qs, ab->qs + 64), A1 = halves(ab->qs + 32, ab->qs + 96);
        const __m512i A2 = halves(ab->qs + 128, ab->qs + 192), A3 = halves(ab->qs + 160, ab->qs + 224);
        const __m128i bp = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)ab->bsums),
                                          _mm_loadu_si128((const __m128i *)(ab->bsums + 8)));
        const size_t off = b * sizeof(wl_block_q4_k);
        __m512i S[GR], O[4];
        uint32_t dd[GR];
        uint64_t mn8[GR];
        UNROLL for (int r = 0; r < GR; r++) {
            const uint8_t *p = w + (size_t)r * w_stride + off;
            uint64_t u01;
            uint32_t u2;
            prefetch_block(p + sizeof(wl_block_q4_k), sizeof(wl_block_q4_k));
            strip_prefetch(w + GR * w_stride + off * GR, r, GR * sizeof(wl_block_q4_k));
            memcpy(&dd[r], p, 4);
            memcpy(&u01, p + 4, 8);
            memcpy(&u2, p + 12, 4);
            /* The 6-bit scales and mins of the 8 sub-blocks, a byte each:
             * those of sub-blocks 0..3 (low dword) and their mins (high)
             * in LO, 4..7 in HI, two dwords an operation (Q4_K_M tg128
             * whole processes: 0.981 of the time). */
            const uint64_t lo = u01 & 0x3F3F3F3F3F3F3F3Full;
            const uint64_t hi = ((u2 | (uint64_t)u2 << 28) & 0x0F0F0F0F0F0F0F0Full) | (u01 >> 2 & 0x3030303030303030ull);
            uint64_t sc = (uint32_t)lo | hi << 32;
            mn8[r] = lo >> 32 | (hi & 0xFFFFFFFF00000000ull);
            __m512i scw = _mm512_zextsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc)));
            __m512i q0 = _mm512_loadu_si512(p + 16), q1 = _mm512_loadu_si512(p + 80);
            /* Each pair of products times its group's scale, added into one vector. */
            __m512i t = _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_and_si512(q0, low4), A0),
                                          _mm512_permutexvar_epi16(I0, scw));
            t = _mm512_dpwssd_epi32(t, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(q0, 4), low4), A1),
                                    _mm512_permutexvar_epi16(I1, scw));
            t = _mm512_dpwssd_epi32(t, _mm512_maddubs_epi16(_mm512_and_si512(q1, low4), A2),
                                    _mm512_permutexvar_epi16(I2, scw));
            S[r] = _mm512_dpwssd_epi32(t, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(q1, 4), low4), A3),
                                       _mm512_permutexvar_epi16(I3, scw));
        }
        lanes_of_rows(S, O);
        __m512i isum = _mm512_add_epi32(_mm512_add_epi32(O[0], O[1]), _mm512_add_epi32(O[2], O[3]));
        __m512i mins = q4_k_mins16(mn8, bp);
        __m512i dv = _mm512_loadu_si512(dd);
        __m512 da = _mm512_set1_ps(ab->d);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(f16_lanes(dv, 0), da), acc);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_xor_ps(_mm512_mul_ps(f16_lanes(dv, 1), da), neg), acc);
    }
    return acc;
}

/* One token, a repacked Q4_K strip: each super-block's 16 rows from one
 * 2304-byte stretch, a lane a row.  The nibbles of quant dword i meet the
 * broadcast activation dwords of sub-blocks 2c and 2c + 1 (c = i / 8);
 * each sub-block's integer sum times its scale (vpmulld), the mins' sums
 * by vpdpwssd on pairs of them; then the float chain of q4_k_strip1.
 * Each super-block prefetches the one two ahead into L1: without, one
 * thread streamed 2048-column matrices from memory at 20 GB/s, with, 29-36
 * (the rows as they are: 23-25), and TinyLlama-shaped Q4_K_M tg128 went
 * from 61-66 to 68-72 t/s on a 2-core Zen 5 VM. */
#define Q4_KP_PF (2 * Q4_KP_BLOCK)
static __m512 q4_k_packed_strip(const uint8_t *w, size_t nb, const wl_block_q8_k *a)
{
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512 neg = _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u));
    __m512 acc = _mm512_setzero_ps();

    for (size_t b = 0; b < nb; b++, w += Q4_KP_BLOCK) {
        const wl_block_q8_k *ab = a + b;
        const uint8_t *aq = (const uint8_t *)ab->qs;
        __m512i h[4], sc[8], mn[8];
        for (int i = 0; i < 4; i++)
            h[i] = _mm512_loadu_si512(w + 64 * i);
        q4_k_scales16(h, sc, mn);
        for (int l = 0; l < (int)(Q4_KP_BLOCK / 64); l++)
            _mm_prefetch((const char *)w + Q4_KP_PF + 64 * l, _MM_HINT_T0);
        __m512i isum = _mm512_setzero_si512();
        UNROLL for (int c = 0; c < 4; c++) {
            __m512i s[4] = { _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                             _mm512_setzero_si512() };   /* low and high nibbles, two chains each */
            UNROLL for (int g = 0; g < 8; g++) {
                const __m512i q = _mm512_loadu_si512(w + 64 * (4 + 8 * c + g));
                s[g & 1] = _mm512_dpbusd_epi32(s[g & 1], _mm512_and_si512(q, low4), bcast32(aq + 64 * c + 4 * g));
                s[2 + (g & 1)] = _mm512_dpbusd_epi32(s[2 + (g & 1)], _mm512_and_si512(_mm512_srli_epi16(q, 4), low4),
                                                     bcast32(aq + 64 * c + 32 + 4 * g));
            }
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_add_epi32(s[0], s[1]), sc[2 * c]));
            isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(_mm512_add_epi32(s[2], s[3]), sc[2 * c + 1]));
        }
        /* The activation's sums of sub-blocks 2p and 2p + 1, as int16 pairs. */
        int16_t bp[8];
        for (int j = 0; j < 8; j++)
            bp[j] = (int16_t)(ab->bsums[2 * j] + ab->bsums[2 * j + 1]);
        __m512i mins = _mm512_setzero_si512();
        for (int p = 0; p < 4; p++)
            mins = _mm512_dpwssd_epi32(mins, _mm512_or_si512(mn[2 * p], _mm512_slli_epi32(mn[2 * p + 1], 16)),
                                       bcast32(bp + 2 * p));
        const __m512 da = _mm512_set1_ps(ab->d);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(f16_lanes(h[0], 0), da), acc);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_xor_ps(_mm512_mul_ps(f16_lanes(h[0], 1), da), neg), acc);
    }
    return acc;
}

/* q6_k: element 128h + 32s + l is the low (s < 2) or high nibble of
 * ql[64h + 32(s & 1) + l] with bits 2s..2s+1 of qh[32h + l] on top, so the
 * 256-bit halves of one vector take h = 0 and 1 for the same s.  The -32
 * of every quant, 32 * sum_g sc[g] * bsums[g], comes off the vector. */
static __m512 q6_k_strip1(const uint8_t *w, size_t w_stride, size_t nb, const wl_block_q8_k *a)
{
    const __m512i low4 = _mm512_set1_epi8(0x0F), two = _mm512_set1_epi8(0x30);
    const __m512i I0 = scale_words(0, 1, 8, 9), I1 = scale_words(2, 3, 10, 11);
    const __m512i I2 = scale_words(4, 5, 12, 13), I3 = scale_words(6, 7, 14, 15);
    __m512 acc = _mm512_setzero_ps();

    for (size_t b = 0; b < nb; b++) {
        const wl_block_q8_k *ab = a + b;
        const __m512i A0 = halves(ab->qs, ab->qs + 128), A1 = halves(ab->qs + 32, ab->qs + 160);
        const __m512i A2 = halves(ab->qs + 64, ab->qs + 192), A3 = halves(ab->qs + 96, ab->qs + 224);
        const __m256i bs = _mm256_loadu_si256((const __m256i *)ab->bsums);
        const size_t off = b * sizeof(wl_block_q6_k);
        __m512i S[GR], O[4];
        uint16_t dh[GR];
        UNROLL for (int r = 0; r < GR; r++) {
            const uint8_t *p = w + (size_t)r * w_stride + off;
            prefetch_block(p + sizeof(wl_block_q6_k), sizeof(wl_block_q6_k));
            strip_prefetch(w + GR * w_stride + off * GR, r, GR * sizeof(wl_block_q6_k));
            memcpy(&dh[r], p + offsetof(wl_block_q6_k, d), 2);
            __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p + offsetof(wl_block_q6_k, scales))));
            __m512i scw = _mm512_zextsi256_si512(sc);
            __m512i L0 = _mm512_loadu_si512(p), L1 = _mm512_loadu_si512(p + 64);
            __m512i qh = _mm512_loadu_si512(p + offsetof(wl_block_q6_k, qh));
            __m512i X = _mm512_shuffle_i64x2(L0, L1, 0x44), Y = _mm512_shuffle_i64x2(L0, L1, 0xEE);
            __m512i u0 = _mm512_or_si512(_mm512_and_si512(X, low4), _mm512_and_si512(_mm512_slli_epi16(qh, 4), two));
            __m512i u1 = _mm512_or_si512(_mm512_and_si512(Y, low4), _mm512_and_si512(_mm512_slli_epi16(qh, 2), two));
            __m512i u2 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(X, 4), low4), _mm512_and_si512(qh, two));
            __m512i u3 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(Y, 4), low4),
                                         _mm512_and_si512(_mm512_srli_epi16(qh, 2), two));
            __m512i t = _mm512_madd_epi16(_mm512_maddubs_epi16(u0, A0), _mm512_permutexvar_epi16(I0, scw));
            t = _mm512_dpwssd_epi32(t, _mm512_maddubs_epi16(u1, A1), _mm512_permutexvar_epi16(I1, scw));
            t = _mm512_dpwssd_epi32(t, _mm512_maddubs_epi16(u2, A2), _mm512_permutexvar_epi16(I2, scw));
            t = _mm512_dpwssd_epi32(t, _mm512_maddubs_epi16(u3, A3), _mm512_permutexvar_epi16(I3, scw));
            __m256i cor = _mm256_slli_epi32(_mm256_madd_epi16(sc, bs), 5);
            S[r] = _mm512_sub_epi32(t, _mm512_zextsi256_si512(cor));
        }
        lanes_of_rows(S, O);
        __m512i isum = _mm512_add_epi32(_mm512_add_epi32(O[0], O[1]), _mm512_add_epi32(O[2], O[3]));
        __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)dh));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(d, _mm512_set1_ps(ab->d)), acc);
    }
    return acc;
}

/* One token, a repacked Q6_K strip: each super-block's 16 rows from one
 * 3360-byte stretch, a lane a row.  Group g's sum starts at -32 times the
 * activation's sum of it and takes 4 dpbusd of quants (0..63) with
 * broadcast activation dwords; times its signed scale (vpmulld), the 16
 * added; then q6_k_strip1's float chain.  Prefetched as Q4_K's. */
#define Q6_KP_PF (2 * Q6_KP_BLOCK)

static __m512 q6_k_packed_strip(const uint8_t *w, size_t nb, const wl_block_q8_k *a)
{
    __m512 acc = _mm512_setzero_ps();

    for (size_t b = 0; b < nb; b++, w += Q6_KP_BLOCK) {
        const wl_block_q8_k *ab = a + b;
        const uint8_t *aq = (const uint8_t *)ab->qs;
        __m512i sc[4], isum = _mm512_setzero_si512();
        for (int l = 0; l < (int)(Q6_KP_BLOCK / 64); l++)
            _mm_prefetch((const char *)w + Q6_KP_PF + 64 * l, _MM_HINT_T0);
        for (int i = 0; i < 4; i++)
            sc[i] = _mm512_loadu_si512(w + 64 * (48 + i));
        UNROLL for (int h = 0; h < 2; h++) {
            __m512i gs[8];   /* groups 8h + i: element 128h + 32s + 4j is in group 8h + 2s + j / 4 */
            UNROLL for (int i = 0; i < 8; i++)
                gs[i] = _mm512_set1_epi32(-32 * ab->bsums[8 * h + i]);
            UNROLL for (int j = 0; j < 8; j++) {
                __m512i u[4];
                q6_k_quants(_mm512_loadu_si512(w + 64 * (16 * h + j)), _mm512_loadu_si512(w + 64 * (16 * h + 8 + j)),
                            _mm512_loadu_si512(w + 64 * (32 + 8 * h + j)), u);
                UNROLL for (int s = 0; s < 4; s++)
                    gs[2 * s + j / 4] = _mm512_dpbusd_epi32(gs[2 * s + j / 4], u[s],
                                                            bcast32(aq + 128 * h + 32 * s + 4 * j));
            }
            UNROLL for (int i = 0; i < 8; i++)
                isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(gs[i], q6_k_scale(sc, 8 * h + i)));
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + Q6_KP_D)));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(d, _mm512_set1_ps(ab->d)), acc);
    }
    return acc;
}

/* PACKED: W repacked (strips.h), whole strips of it. */
static void gemmk(int q6, int packed, size_t n, const void *w, size_t w_stride, size_t nr, const void *a,
                  size_t a_stride, const wl_q8_k_aux *aux, size_t n_tok, float *out, size_t ldo)
{
    stripk S[2];
    const size_t nb = n / WL_QK_K, wbytes = q6 ? sizeof(wl_block_q6_k) : sizeof(wl_block_q4_k);
    const size_t kstep = packed ? GR * wbytes : wbytes;   /* a chunk's address: a row's, or a strip's blocks */
    const __m512i idx = row_index(w_stride);

    if (n_tok == 1) {
        /* One token: whole strips in the lanes, the rows left one by one. */
        size_t r = 0;
        for (; r + GR <= nr; r += GR) {
            const uint8_t *wr = (const uint8_t *)w + r * w_stride;
            __m512 acc = packed ? (q6 ? q6_k_packed_strip(wr, nb, a) : q4_k_packed_strip(wr, nb, a))
                         : q6   ? q6_k_strip1(wr, w_stride, nb, a)
                                : q4_k_strip1(wr, w_stride, nb, a);
            _mm512_storeu_ps(out + r, acc);
        }
        for (; r < nr; r++) {
            if (r + ROW_PF < nr)
                for (size_t o = 0; o < nb * wbytes; o += 64)
                    _mm_prefetch((const char *)w + (r + ROW_PF) * w_stride + o, _MM_HINT_T0);
            out[r] = (q6 ? q6_k_vec_dot : q4_k_vec_dot)(n, (const uint8_t *)w + r * w_stride, a);
        }
        return;
    }

    /* Many tokens: strips of 32 rows (two of 16, the last ones possibly
     * one) unpacked a chunk of super-blocks at a time, then computed
     * against every token a tile at a time: each activation dword is
     * broadcast once for both strips.  On the 2-core Emerald Rapids, one
     * thread, 2048 x 2048 times 512 tokens: Q4_K 157 -> 192 GMAC/s (16 x 8
     * tiles before), Q6_K 118 -> 165; half the chunk measured faster for
     * two strips of Q6_K, the whole one for Q4_K. */
    for (size_t r0 = 0; r0 < nr; r0 += 2 * GR) {
        const size_t rows = nr - r0 < 2 * GR ? nr - r0 : 2 * GR;
        const int nv = rows > GR ? 2 : 1;
        const size_t gt = nv == 2 ? GT2 : GT, kc = nv == 2 && q6 ? KCK / 2 : KCK;
        const __mmask16 m[2] = { rows_mask(rows), nv == 2 ? rows_mask(rows - GR) : 0 };
        const uint8_t *wr = (const uint8_t *)w + r0 * w_stride;
        for (size_t k0 = 0; k0 < nb; k0 += kc) {
            size_t kn = nb - k0 < kc ? nb - k0 : kc;
            const next_chunk nc = next_chunk_in(packed, w, w_stride, wbytes, nr, nb, r0, k0, kc);
            for (int v = 0; v < nv; v++) {
                const uint8_t *wv = wr + (size_t)v * GR * w_stride + k0 * kstep;
                if (packed)
                    (q6 ? pack_q6_k_packed : pack_q4_k_packed)(&S[v], wv, kn);
                else
                    (q6 ? pack_q6_k : pack_q4_k)(&S[v], wv, w_stride, idx, m[v], kn);
            }
            for (size_t t0 = 0; t0 < n_tok; t0 += gt) {
                next_chunk_prefetch(&nc, t0 / gt, (n_tok + gt - 1) / gt);
                int nt = n_tok - t0 < gt ? (int)(n_tok - t0) : (int)gt;
                float *o = out + t0 * ldo + r0;
                const int first = k0 == 0;
                const wl_block_q8_k *at = (const wl_block_q8_k *)((const uint8_t *)a + t0 * a_stride) + k0;
                const wl_q8_k_aux *xt = aux ? aux + t0 * nb + k0 : NULL;
                if (nv == 2) {
#define CALLK2(NT) TILE_IO(NT, 2, (q6 ? tile_k(1, S, 2, kn, at, a_stride, xt, nb, NT, acc) : tile_k(0, S, 2, kn, at, a_stride, xt, nb, NT, acc)))
                    switch (nt) {
                    case 1: CALLK2(1); break; case 2: CALLK2(2); break;
                    case 3: CALLK2(3); break; default: CALLK2(GT2); break;
                    }
                } else {
#define CALLK(NT) TILE_IO(NT, 1, (q6 ? tile_k(1, S, 1, kn, at, a_stride, xt, nb, NT, acc) : tile_k(0, S, 1, kn, at, a_stride, xt, nb, NT, acc)))
                    TILE_CASES(CALLK)
                }
            }
        }
    }
}

/* gemmk, whose tiles need the activations' aux: without it, a token at a time. */
static void gemmk_any(int q6, int packed, size_t n, const void *w, size_t w_stride, size_t nr, const void *a,
                      size_t a_stride, const void *aux, size_t n_tok, float *out, size_t ldo)
{
    if (!aux) {
        for (size_t t = 0; t < n_tok; t++)
            gemmk(q6, packed, n, w, w_stride, nr, (const uint8_t *)a + t * a_stride, a_stride, NULL, 1, out + t * ldo,
                  ldo);
        return;
    }
    gemmk(q6, packed, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

void wl_vnni_q4_k_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemmk_any(0, 0, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

void wl_vnni_q6_k_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemmk_any(1, 0, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

/* ---- Q4_K repacked (strips.h) ---- */

void wl_vnni_q4_k_repack(const void *w, size_t w_stride, size_t nr, size_t n, void *out)
{
    strips_of_rows(w, w_stride, nr, n / WL_QK_K, sizeof(wl_block_q4_k), sizeof(wl_block_q4_k) / 4, 0, 0, -1, 0, out);
}

void wl_vnni_q6_k_repack(const void *w, size_t w_stride, size_t nr, size_t n, void *out)
{
    strips_of_rows(w, w_stride, nr, n / WL_QK_K, sizeof(wl_block_q6_k), Q6_KP_D / 64, 0, 0,
                  (int)offsetof(wl_block_q6_k, d), Q6_KP_D, out);
}

void wl_vnni_q4_k_gemm_packed(size_t n, const void *w, size_t w_stride, size_t nr, const void *a,
                              size_t a_stride, const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemmk_any(0, 1, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

void wl_vnni_q6_k_gemm_packed(size_t n, const void *w, size_t w_stride, size_t nr, const void *a,
                              size_t a_stride, const void *aux, size_t n_tok, float *out, size_t ldo)
{
    gemmk_any(1, 1, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

void wl_kernels_init_vnni(wl_kernels *k)
{
    xq_init(k);
    k->dot_i8 = dot_i8;
    k->type[WOOLLY_TYPE_Q4_0].gemm = wl_vnni_q4_0_gemm;
    k->type[WOOLLY_TYPE_Q8_0].gemm = wl_vnni_q8_0_gemm;
    k->type[WOOLLY_TYPE_Q4_K].gemm = wl_vnni_q4_k_gemm;
    k->type[WOOLLY_TYPE_Q6_K].gemm = wl_vnni_q6_k_gemm;
    k->type[WOOLLY_TYPE_Q4_0].repack = wl_vnni_q4_0_repack;
    k->type[WOOLLY_TYPE_Q4_0].gemm_packed = wl_vnni_q4_0_gemm_packed;
    k->type[WOOLLY_TYPE_Q4_K].repack = wl_vnni_q4_k_repack;
    k->type[WOOLLY_TYPE_Q4_K].gemm_packed = wl_vnni_q4_k_gemm_packed;
    k->type[WOOLLY_TYPE_Q6_K].repack = wl_vnni_q6_k_repack;
    k->type[WOOLLY_TYPE_Q6_K].gemm_packed = wl_vnni_q6_k_gemm_packed;
}
