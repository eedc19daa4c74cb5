/*
 * amx.c - kernels for the AMX-INT8 tiles (built with AMX_CFLAGS).
 *
 * cpu.c has already asked Linux for permission to use the tile state.
 * Built a second time with WL_AMX_EMULATE (amx-emulate.h: the same
 * instructions in C) for the tests, which no CPU of ours has been able to
 * run on AMX itself.
 */
#include <config.h>

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "kernels/rows16.h"
#include "kernels/strips.h"
#include "quant.h"

#ifdef WL_AMX_EMULATE
# include "kernels/amx-emulate.h"
# define wl_kernels_init_amx wl_kernels_init_amx_emulated
void wl_kernels_init_amx_emulated(wl_kernels *k);
#else
/* Tile numbers must be literals: they are pasted into the instructions.
 * GCC 12's _tile_loadd and _tile_loadconfig tell the compiler of no
 * memory they read (ldtilecfg: 8 of its 64 bytes), which would leave it
 * free to drop or sink the stores that fill a packed B tile or the
 * configuration (the emulation, plain C, cannot show that); these loads
 * say they may read any memory. */
# define TILE_LOADCONFIG(cfg) __asm__ volatile("ldtilecfg %0" ::"m"(*(const struct tile_config *)(cfg)) : "memory")
# define TILE_LOADD(t, base, stride)                                                                  \
    __asm__ volatile("{tileloadd\t(%0,%1,1), %%tmm" #t "|tileloadd\t%%tmm" #t ", [%0+%1*1]}" ::"r"( \
                         (const void *)(base)),                                                      \
                     "r"((long)(stride))                                                             \
                     : "memory")
# define TILE_RELEASE() _tile_release()
# define TILE_ZERO(t) _tile_zero(t)
# define TILE_STORED(t, base, stride) _tile_stored(t, base, (long)(stride))
# define TILE_DPBSSD(c, a, b) _tile_dpbssd(c, a, b)
#endif

/* LDTILECFG's 64 bytes, palette 1. */
struct tile_config {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} __attribute__((aligned(64)));

static void configure(const uint8_t rows[8], const uint16_t colsb[8])
{
    struct tile_config cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = rows[t];
        cfg.colsb[t] = colsb[t];
    }
    TILE_LOADCONFIG(&cfg);
}

/* ---- gemm_i8 -------------------------------------------------------------
 * Tile 0: C, 16 rows of 16 int32.  Tile 1: A, 16 rows of 64 bytes.
 * Tile 2: B in VNNI order, 16 rows of (16 columns x 4 bytes). */

/* b is n x k row-major; the tile wants, for 4 consecutive k, the 4 bytes of
 * each of the 16 columns side by side. */
static void pack_b(const int8_t *b, size_t ldb, size_t kb, int8_t out[16][64])
{
    for (size_t kk = 0; kk < 16; kk++)
        for (size_t j = 0; j < 16; j++)
            memcpy(&out[kk][j * 4], b + j * ldb + kb + kk * 4, 4);
}

static void gemm_i8(size_t m, size_t n, size_t k, const int8_t *a, size_t lda,
                    const int8_t *b, size_t ldb, int32_t *c, size_t ldc)
{
    static const uint8_t rows[8] = { 16, 16, 16 };
    static const uint16_t colsb[8] = { 64, 64, 64 };
    size_t m16 = m - m % 16, n16 = n - n % 16, k64 = k - k % 64;
    int8_t bt[16][64] __attribute__((aligned(64)));

    if (k64 == 0 || m16 == 0 || n16 == 0) {
        wl_gemm_i8_scalar(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    configure(rows, colsb);
    for (size_t i = 0; i < m16; i += 16) {
        for (size_t j = 0; j < n16; j += 16) {
            TILE_ZERO(0);
            for (size_t kb = 0; kb < k64; kb += 64) {
                TILE_LOADD(1, a + i * lda + kb, lda);
                pack_b(b + j * ldb, ldb, kb, bt);
                TILE_LOADD(2, bt, 64);
                TILE_DPBSSD(0, 1, 2);
            }
            TILE_STORED(0, c + i * ldc + j, ldc * sizeof(int32_t));
            if (k64 < k)
                for (size_t ii = i; ii < i + 16; ii++)
                    for (size_t jj = j; jj < j + 16; jj++)
                        c[ii * ldc + jj] += wl_dot_i8_scalar(k - k64, a + ii * lda + k64,
                                                             b + jj * ldb + k64);
        }
    }
    TILE_RELEASE();
    /* The edges that do not fill a tile. */
    for (size_t i = 0; i < m; i++)
        for (size_t j = (i < m16 ? n16 : 0); j < n; j++)
            c[i * ldc + j] = wl_dot_i8_scalar(k, a + i * lda, b + j * ldb);
}

/* ---- Q4_0 and Q8_0 weights, Q8_0 activations, many tokens ------------------
 *
 * A block of 32 for 16 tokens times 16 weight rows is one TDPBSSD:
 *  - A: the tokens' quants, 16 rows of 32 bytes, loaded straight from the
 *    activation rows (a_stride apart);
 *  - B: the weights' quants as signed bytes (Q4_0: nibble - 8), 8 rows of
 *    the 16 rows' 4 consecutive quants: vnni.c's strip (strips.h) packed
 *    with a ZERO of 0, once per chunk of blocks and used for every token;
 *  - C: 16 tokens x 16 rows of int32, the exact integer sums.
 * The sums then take the float chain of every output as vnni.c's tiles do
 * (acc = fma(sum, dw * da, acc), block after block, the vec_dot's order),
 * so each output has the scalar vec_dot's bits.  Blocks go in pairs
 * through two sets of tiles, so that one pair's product can run while the
 * other's sums are scaled.  The rows past the last 16 and the tokens past
 * the last 16, and products of fewer than 16 tokens, go to the VNNI tiles. */

#define TT 16          /* tokens per tile: C's and A's rows */
#define TR 16          /* weight rows per strip: C's 16 int32 columns */

typedef wl_gemm_fn *gemm_fn;

/* The accumulators of 16 tokens' outputs (rows LDO apart at O): zero for
 * a product's first chunk, else what the chunks before left there. */
static inline __attribute__((always_inline)) void acc_load(__m512 acc[TT], const float *o, size_t ldo, int first)
{
    for (int t = 0; t < TT; t++)
        acc[t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(o + (size_t)t * ldo);
}

static inline __attribute__((always_inline)) void acc_store(const __m512 acc[TT], float *o, size_t ldo)
{
    for (int t = 0; t < TT; t++)
        _mm512_storeu_ps(o + (size_t)t * ldo, acc[t]);
}

/* What the tiles leave to REST: the tokens past NT16 of the first NR16
 * rows, and every token of the rows past NR16 (AUX_BYTES of aux a token). */
static void rest_of(gemm_fn rest, size_t nr16, size_t nt16, size_t aux_bytes, size_t n, const void *w,
                    size_t w_stride, size_t nr, const void *a, size_t a_stride, const void *aux, size_t n_tok,
                    float *out, size_t ldo)
{
    if (nt16 < n_tok)
        rest(n, w, w_stride, nr16, (const uint8_t *)a + nt16 * a_stride, a_stride,
             (const uint8_t *)aux + nt16 * aux_bytes, n_tok - nt16, out + nt16 * ldo, ldo);
    if (nr16 < nr)
        rest(n, (const uint8_t *)w + nr16 * w_stride, w_stride, nr - nr16, a, a_stride, aux, n_tok, out + nr16,
             ldo);
}

typedef void (*pack_fn)(strip32 *S, const uint8_t *w, size_t w_stride, __m512i idx, __mmask16 m, size_t nb,
                        int zero);

/* acc[t] = fma(C[t], dw * da[t], acc[t]) for the 16 tokens of one block. */
static inline __attribute__((always_inline)) void scale_sums(const int32_t c[TT][TR], __m512 dw,
                                                             const wl_q8_0_aux *x, size_t nb, __m512 acc[TT])
{
    for (int t = 0; t < TT; t++)
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[t])),
                                 _mm512_mul_ps(dw, _mm512_set1_ps(x[(size_t)t * nb].d)), acc[t]);
}

/* 16 tokens (A at AT, aux XT) against the KN blocks of strip S into ACC. */
static inline void tile_blocks(const strip32 *S, size_t kn, const uint8_t *at, size_t a_stride,
                               const wl_q8_0_aux *xt, size_t nb, __m512 acc[TT])
{
    int32_t c[2][TT][TR] __attribute__((aligned(64)));
    size_t b = 0;

    for (; b + 2 <= kn; b += 2) {
        TILE_LOADD(2, at + b * sizeof(wl_block_q8_0), a_stride);
        TILE_LOADD(4, S->w[b], 64);
        TILE_LOADD(3, at + (b + 1) * sizeof(wl_block_q8_0), a_stride);
        TILE_LOADD(5, S->w[b + 1], 64);
        TILE_ZERO(0);
        TILE_ZERO(1);
        TILE_DPBSSD(0, 2, 4);
        TILE_DPBSSD(1, 3, 5);
        TILE_STORED(0, c[0], TR * sizeof(int32_t));
        TILE_STORED(1, c[1], TR * sizeof(int32_t));
        scale_sums(c[0], S->d[b], xt + b, nb, acc);
        scale_sums(c[1], S->d[b + 1], xt + b + 1, nb, acc);
    }
    if (b < kn) {
        TILE_LOADD(2, at + b * sizeof(wl_block_q8_0), a_stride);
        TILE_LOADD(4, S->w[b], 64);
        TILE_ZERO(0);
        TILE_DPBSSD(0, 2, 4);
        TILE_STORED(0, c[0], TR * sizeof(int32_t));
        scale_sums(c[0], S->d[b], xt + b, nb, acc);
    }
}

/* PACKED: W repacked (strips.h), whose chunks are a strip's blocks. */
static void tiles(pack_fn pack, size_t wbytes, int packed, gemm_fn rest, size_t n, const void *w, size_t w_stride,
                  size_t nr, const void *a, size_t a_stride, const void *vaux, size_t n_tok, float *out, size_t ldo)
{
    /* C: tiles 0 and 1; A: 2 and 3 (16 tokens x 32 bytes); B: 4 and 5
     * (8 rows of 16 x 4 bytes). */
    static const uint8_t rows[8] = { TT, TT, TT, TT, 8, 8 };
    static const uint16_t colsb[8] = { 64, 64, 32, 32, 64, 64 };
    const wl_q8_0_aux *aux = vaux;
    const size_t nb = n / WL_QK, nr16 = nr / TR * TR, nt16 = n_tok / TT * TT;
    strip32 S;

    if (nr16 == 0 || nt16 == 0) {
        rest(n, w, w_stride, nr, a, a_stride, vaux, n_tok, out, ldo);
        return;
    }
    configure(rows, colsb);
    for (size_t r0 = 0; r0 < nr16; r0 += TR) {
        const uint8_t *wr = (const uint8_t *)w + r0 * w_stride;
        for (size_t k0 = 0; k0 < nb; k0 += KC32) {
            const size_t kn = nb - k0 < KC32 ? nb - k0 : KC32;
            pack(&S, wr + k0 * (packed ? TR * wbytes : wbytes), w_stride, _mm512_setzero_si512(), 0xFFFF, kn, 0);
            for (size_t t0 = 0; t0 < nt16; t0 += TT) {
                __m512 acc[TT];
                float *o = out + t0 * ldo + r0;
                acc_load(acc, o, ldo, k0 == 0);
                tile_blocks(&S, kn, (const uint8_t *)a + t0 * a_stride + k0 * sizeof(wl_block_q8_0) + 2,
                            a_stride, aux + t0 * nb + k0, nb, acc);
                acc_store(acc, o, ldo);
            }
        }
    }
    TILE_RELEASE();
    rest_of(rest, nr16, nt16, nb * sizeof *aux, n, w, w_stride, nr, a, a_stride, vaux, n_tok, out, ldo);
}

static void q4_0_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    tiles(pack_q4_0, sizeof(wl_block_q4_0), 0, wl_vnni_q4_0_gemm, n, w, w_stride, nr, a, a_stride, aux, n_tok, out,
          ldo);
}

static void q4_0_gemm_packed(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                             const void *aux, size_t n_tok, float *out, size_t ldo)
{
    tiles(pack_q4_0_packed, sizeof(wl_block_q4_0), 1, wl_vnni_q4_0_gemm_packed, n, w, w_stride, nr, a, a_stride, aux,
          n_tok, out, ldo);
}

static void q8_0_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    tiles(pack_q8_0, sizeof(wl_block_q8_0), 0, wl_vnni_q8_0_gemm, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

/* ---- Q4_K and Q6_K weights, Q8_K activations, many tokens -----------------
 *
 * A sub-block of 32 (Q4_K) or group of 16 (Q6_K) for 16 tokens times 16
 * rows is one TDPBSSD: A the tokens' quants from the activation rows, B
 * the group's dwords of the strip vnni.c packs (strips.h), which are
 * already in the tile's order; the quants are 0..15 and 0..63, so their
 * bytes are the same signed.  A super-block's groups go through two sets
 * of tiles into C, and then each token's integer parts and float chain are
 * those of vnni.c's tile_k: the scaled groups' sums (Q6_K: each from its
 * -32 * bsums) by vpdpwssd where they fit in int16, else by vpmulld; for
 * Q4_K the mins times the sub-blocks' sums; then acc = fma(isum, d * da,
 * acc) and fma(mins, -dmin * da, acc). */

/* The NG groups' sums of super-block B of the strip for 16 tokens (A at
 * AT, rows A_STRIDE apart) into C[g]. */
static inline void k_group_sums(const stripk *S, size_t b, int q6, const uint8_t *at, size_t a_stride,
                                int32_t c[16][TT][TR])
{
    const int ng = q6 ? 16 : 8, dw = 64 / ng;   /* groups; dwords a group (B's rows) */

    for (int g = 0; g < ng; g += 2) {
        TILE_LOADD(2, at + (size_t)(4 * dw * g), a_stride);
        TILE_LOADD(4, &S->w[b][dw * g], 64);
        TILE_LOADD(3, at + (size_t)(4 * dw * (g + 1)), a_stride);
        TILE_LOADD(5, &S->w[b][dw * (g + 1)], 64);
        TILE_ZERO(0);
        TILE_ZERO(1);
        TILE_DPBSSD(0, 2, 4);
        TILE_DPBSSD(1, 3, 5);
        TILE_STORED(0, c[g], TR * sizeof(int32_t));
        TILE_STORED(1, c[g + 1], TR * sizeof(int32_t));
    }
}

/* Token T's part of super-block B from the group sums C into ACC. */
static inline __attribute__((always_inline)) __m512 k_token(const stripk *S, size_t b, int q6,
                                                            const int32_t c[16][TT][TR], int t,
                                                            const wl_block_q8_k *at, const wl_q8_k_aux *x,
                                                            __m512 acc)
{
    const int ng = q6 ? 16 : 8, fit = x->fit16 & (q6 ? 2 : 1);
    const __m512 da = _mm512_set1_ps(at->d);
    __m512i is = _mm512_setzero_si512();

    for (int g = 0; g < ng; g++) {
        __m512i s = _mm512_load_si512(c[g][t]), sc = S->sc[b][g];
        if (q6)
            s = _mm512_add_epi32(s, _mm512_set1_epi32(x->neg32[g]));
        if (fit)
            is = _mm512_dpwssd_epi32(is, s, sc);
        else
            is = _mm512_add_epi32(is, _mm512_mullo_epi32(s, q6 ? _mm512_srai_epi32(_mm512_slli_epi32(sc, 16), 16) : sc));
    }
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), _mm512_mul_ps(S->d[b], da), acc);
    if (!q6) {
        __m512i mn = _mm512_setzero_si512();
        for (int p = 0; p < 4; p++) {
            int32_t pair;
            memcpy(&pair, x->sum32 + 2 * p, sizeof pair);
            mn = _mm512_dpwssd_epi32(mn, S->pair[b][p], _mm512_set1_epi32(pair));
        }
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mn), _mm512_mul_ps(S->dmin[b], da), acc);
    }
    return acc;
}

/* PACKED: W repacked (strips.h). */
static void tiles_k(int q6, int packed, gemm_fn rest, size_t n, const void *w, size_t w_stride, size_t nr,
                    const void *a, size_t a_stride, const void *vaux, size_t n_tok, float *out, size_t ldo)
{
    /* C: tiles 0 and 1; A: 2 and 3 (16 tokens x a group's bytes); B: 4 and
     * 5 (a group's dwords of 16 rows). */
    static const uint8_t rows4[8] = { TT, TT, TT, TT, 8, 8 }, rows6[8] = { TT, TT, TT, TT, 4, 4 };
    static const uint16_t colsb4[8] = { 64, 64, 32, 32, 64, 64 }, colsb6[8] = { 64, 64, 16, 16, 64, 64 };
    const wl_q8_k_aux *aux = vaux;
    const size_t wbytes = q6 ? sizeof(wl_block_q6_k) : sizeof(wl_block_q4_k);
    const size_t nb = n / WL_QK_K, nr16 = nr / TR * TR, nt16 = n_tok / TT * TT;
    stripk S __attribute__((aligned(64)));
    int32_t c[16][TT][TR] __attribute__((aligned(64)));

    if (nr16 == 0 || nt16 == 0) {
        rest(n, w, w_stride, nr, a, a_stride, vaux, n_tok, out, ldo);
        return;
    }
    configure(q6 ? rows6 : rows4, q6 ? colsb6 : colsb4);
    for (size_t r0 = 0; r0 < nr16; r0 += TR) {
        const uint8_t *wr = (const uint8_t *)w + r0 * w_stride;
        for (size_t k0 = 0; k0 < nb; k0 += KCK) {
            const size_t kn = nb - k0 < KCK ? nb - k0 : KCK;
            if (packed)
                (q6 ? pack_q6_k_packed : pack_q4_k_packed)(&S, wr + k0 * TR * wbytes, kn);
            else if (q6)
                pack_q6_k(&S, wr + k0 * wbytes, w_stride, _mm512_setzero_si512(), 0xFFFF, kn);
            else
                pack_q4_k(&S, wr + k0 * wbytes, w_stride, _mm512_setzero_si512(), 0xFFFF, kn);
            for (size_t t0 = 0; t0 < nt16; t0 += TT) {
                __m512 acc[TT];
                float *o = out + t0 * ldo + r0;
                const wl_block_q8_k *at = (const wl_block_q8_k *)((const uint8_t *)a + t0 * a_stride) + k0;
                acc_load(acc, o, ldo, k0 == 0);
                for (size_t b = 0; b < kn; b++) {
                    k_group_sums(&S, b, q6, (const uint8_t *)at[b].qs, a_stride, c);
                    for (int t = 0; t < TT; t++) {
                        const wl_block_q8_k *ab =
                            (const wl_block_q8_k *)((const uint8_t *)(at + b) + (size_t)t * a_stride);
                        acc[t] = k_token(&S, b, q6, c, t, ab, &aux[(t0 + (size_t)t) * nb + k0 + b], acc[t]);
                    }
                }
                acc_store(acc, o, ldo);
            }
        }
    }
    TILE_RELEASE();
    rest_of(rest, nr16, nt16, nb * sizeof *aux, n, w, w_stride, nr, a, a_stride, vaux, n_tok, out, ldo);
}

static void q4_k_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    tiles_k(0, 0, wl_vnni_q4_k_gemm, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

static void q4_k_gemm_packed(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                             const void *aux, size_t n_tok, float *out, size_t ldo)
{
    tiles_k(0, 1, wl_vnni_q4_k_gemm_packed, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

static void q6_k_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    tiles_k(1, 0, wl_vnni_q6_k_gemm, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

static void q6_k_gemm_packed(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                             const void *aux, size_t n_tok, float *out, size_t ldo)
{
    tiles_k(1, 1, wl_vnni_q6_k_gemm_packed, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

/* ---- the check at start-up ------------------------------------------------
 * The tile kernels have been checked on the emulation only: before they
 * are used, one product of each type is computed both ways on
 * pseudo-random data, and a CPU whose tiles disagree with the VNNI
 * kernels keeps those. */

enum { CK_ROWS = 2 * TR, CK_TOK = TT + 3, CK_BYTES = 2 * WL_QK_K * 2 };

static uint32_t ck_next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 24;
}

/* REPACK (or NULL): what TILED takes the weights through first. */
static int agrees(woolly_type type, gemm_fn tiled, gemm_fn vnni,
                  void (*repack)(const void *, size_t, size_t, size_t, void *))
{
    const int kq = type == WOOLLY_TYPE_Q4_K || type == WOOLLY_TYPE_Q6_K;
    const size_t bs = kq ? WL_QK_K : WL_QK, n = kq ? 2 * WL_QK_K : 3 * WL_QK;
    const size_t wrow = n / bs * woolly_type_block_bytes(type);
    const size_t arow = kq ? n / bs * sizeof(wl_block_q8_k) : n / bs * sizeof(wl_block_q8_0);
    uint8_t w[CK_ROWS * CK_BYTES], wp[CK_ROWS * CK_BYTES], a[CK_TOK * CK_BYTES] __attribute__((aligned(64)));
    wl_q8_k_aux kaux[CK_TOK * 2];
    wl_q8_0_aux aux0[CK_TOK * 3];
    float got[CK_TOK * CK_ROWS], want[CK_TOK * CK_ROWS];
    uint32_t s = 12345;

    for (size_t i = 0; i < CK_ROWS * wrow; i++)
        w[i] = (uint8_t)ck_next(&s);
    for (size_t i = 0; i < CK_ROWS * n / bs; i++) {
        /* The f16 scales: 1/16 .. 1/8 (Q4_K's d and dmin; Q6_K's d last). */
        uint8_t *blk = w + i * woolly_type_block_bytes(type);
        uint16_t d = (uint16_t)(0x2C00 + (i * 37 % 1024));
        memcpy(type == WOOLLY_TYPE_Q6_K ? blk + offsetof(wl_block_q6_k, d) : blk, &d, 2);
        if (type == WOOLLY_TYPE_Q4_K)
            memcpy(blk + 2, &d, 2);
    }
    for (size_t t = 0; t < CK_TOK; t++)
        for (size_t i = 0; i < n / bs; i++) {
            if (kq) {
                wl_block_q8_k *blk = (wl_block_q8_k *)(a + t * arow) + i;
                blk->d = 1.0f / (float)(100 + t + i);
                for (int g = 0; g < WL_QK_K / 16; g++) {
                    blk->bsums[g] = 0;
                    for (int j = 0; j < 16; j++) {
                        blk->qs[16 * g + j] = (int8_t)ck_next(&s);
                        blk->bsums[g] = (int16_t)(blk->bsums[g] + blk->qs[16 * g + j]);
                    }
                }
            } else {
                wl_block_q8_0 *blk = (wl_block_q8_0 *)(a + t * arow) + i;
                blk->d = (uint16_t)(0x2000 + ((t * 3 + i) * 53 % 1024));
                for (int j = 0; j < WL_QK; j++)
                    blk->qs[j] = (int8_t)ck_next(&s);
            }
        }
    for (size_t t = 0; t < CK_TOK; t++) {
        if (kq)
            wl_q8_k_aux_fill(a + t * arow, n, kaux + t * (n / bs));
        else
            wl_q8_0_aux_fill(a + t * arow, n, aux0 + t * (n / bs));
    }
    const void *aux = kq ? (const void *)kaux : (const void *)aux0;
    if (repack)
        repack(w, wrow, CK_ROWS, n, wp);
    tiled(n, repack ? wp : w, wrow, CK_ROWS, a, arow, aux, CK_TOK, got, CK_ROWS);
    vnni(n, w, wrow, CK_ROWS, a, arow, aux, CK_TOK, want, CK_ROWS);
    return memcmp(got, want, sizeof got) == 0;
}

/* The tiles' kernel of TYPE in K's table, where it agrees with VNNI's. */
static void take_over(wl_kernels *k, woolly_type type, gemm_fn tiled, gemm_fn vnni)
{
    if (!agrees(type, tiled, vnni, NULL)) {
        wl_log(WOOLLY_LOG_WARN, "the AMX tiles' %s products differ from the VNNI kernels'; AMX not used for them",
               woolly_type_name(type));
        return;
    }
    k->type[type].gemm = tiled;
}

/* The same for the products of repacked matrices (against the VNNI
 * kernel of the rows as they are). */
static void take_over_packed(wl_kernels *k, woolly_type type, gemm_fn tiled, gemm_fn vnni)
{
    if (!k->type[type].repack || !agrees(type, tiled, vnni, k->type[type].repack)) {
        wl_log(WOOLLY_LOG_WARN, "the AMX tiles' products of repacked %s differ from the VNNI kernels'; AMX not used "
               "for them", woolly_type_name(type));
        return;
    }
    k->type[type].gemm_packed = tiled;
}

void wl_kernels_init_amx(wl_kernels *k)
{
    k->gemm_i8 = gemm_i8;
    take_over(k, WOOLLY_TYPE_Q4_0, q4_0_gemm, wl_vnni_q4_0_gemm);
    take_over_packed(k, WOOLLY_TYPE_Q4_0, q4_0_gemm_packed, wl_vnni_q4_0_gemm);
    take_over(k, WOOLLY_TYPE_Q8_0, q8_0_gemm, wl_vnni_q8_0_gemm);
    take_over(k, WOOLLY_TYPE_Q4_K, q4_k_gemm, wl_vnni_q4_k_gemm);
    take_over_packed(k, WOOLLY_TYPE_Q4_K, q4_k_gemm_packed, wl_vnni_q4_k_gemm);
    take_over(k, WOOLLY_TYPE_Q6_K, q6_k_gemm, wl_vnni_q6_k_gemm);
    take_over_packed(k, WOOLLY_TYPE_Q6_K, q6_k_gemm_packed, wl_vnni_q6_k_gemm);
}
