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
#include "quant.h"

#ifdef WL_AMX_EMULATE
# include "kernels/amx-emulate.h"
# define wl_kernels_init_amx wl_kernels_init_amx_emulated
void wl_kernels_init_amx_emulated(wl_kernels *k);
#else
/* Tile numbers must be literals: the intrinsics paste them into the asm. */
# define TILE_LOADCONFIG(cfg) _tile_loadconfig(cfg)
# define TILE_RELEASE() _tile_release()
# define TILE_ZERO(t) _tile_zero(t)
# define TILE_LOADD(t, base, stride) _tile_loadd(t, base, (long)(stride))
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
 *    the 16 rows' 4 consecutive quants, packed once per chunk of blocks
 *    and used for every token;
 *  - C: 16 tokens x 16 rows of int32, the exact integer sums.
 * The sums then take the float chain of every output as vnni.c's tiles do
 * (acc = fma(sum, dw * da, acc), block after block, the vec_dot's order),
 * so each output has the scalar vec_dot's bits.  Blocks go in pairs
 * through two sets of tiles, so that one pair's product can run while the
 * other's sums are scaled.  The rows past the last 16 and the tokens past
 * the last 16, and products of fewer than 16 tokens, go to the VNNI tiles. */

#define TT 16          /* tokens per tile: C's and A's rows */
#define TR 16          /* weight rows per strip: C's 16 int32 columns */
#define KCB 32         /* blocks per chunk packed at a time */

typedef void (*gemm_fn)(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                        const void *aux, size_t nt, float *out, size_t ldo);

/* The VNNI level's kernels, for what the tiles leave. */
static gemm_fn vnni_q4_0, vnni_q8_0;

typedef struct {
    int8_t q[KCB][8][64];   /* block b: row g holds quants 4g..4g+3 of each of the 16 rows */
    __m512 d[KCB];          /* the rows' scales */
} strip_b;

typedef void (*pack_fn)(strip_b *S, const uint8_t *w, size_t w_stride, size_t nb);

static void pack_q4_0(strip_b *S, const uint8_t *w, size_t w_stride, size_t nb)
{
    const __m512i low4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);

    for (size_t b = 0; b < nb; b++, w += sizeof(wl_block_q4_0)) {
        __m512i q[4];
        S->d[b] = rows16_f16(w, w_stride);
        rows16_dwords4(w + 2, w_stride, q);
        /* Quants 4g.. are the low nibbles of bytes 4g.., 16 + 4g.. the high. */
        for (int g = 0; g < 4; g++) {
            _mm512_store_si512(S->q[b][g], _mm512_sub_epi8(_mm512_and_si512(q[g], low4), eight));
            _mm512_store_si512(S->q[b][g + 4],
                               _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi32(q[g], 4), low4), eight));
        }
    }
}

static void pack_q8_0(strip_b *S, const uint8_t *w, size_t w_stride, size_t nb)
{
    for (size_t b = 0; b < nb; b++, w += sizeof(wl_block_q8_0)) {
        __m512i q[8];
        S->d[b] = rows16_f16(w, w_stride);
        rows16_dwords4(w + 2, w_stride, q);
        rows16_dwords4(w + 18, w_stride, q + 4);
        for (int g = 0; g < 8; g++)
            _mm512_store_si512(S->q[b][g], q[g]);
    }
}

/* acc[t] = fma(C[t], dw * da[t], acc[t]) for the 16 tokens of one block. */
static inline __attribute__((always_inline)) void scale_sums(const int32_t c[TT][TR], __m512 dw,
                                                             const wl_q8_0_aux *x, size_t nb, __m512 acc[TT])
{
    for (int t = 0; t < TT; t++)
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[t])),
                                 _mm512_mul_ps(dw, _mm512_set1_ps(x[(size_t)t * nb].d)), acc[t]);
}

/* 16 tokens (A at AT, aux XT) against the KN blocks of strip S into ACC. */
static inline void tile_blocks(const strip_b *S, size_t kn, const uint8_t *at, size_t a_stride,
                               const wl_q8_0_aux *xt, size_t nb, __m512 acc[TT])
{
    int32_t c[2][TT][TR] __attribute__((aligned(64)));
    size_t b = 0;

    for (; b + 2 <= kn; b += 2) {
        TILE_LOADD(2, at + b * sizeof(wl_block_q8_0), a_stride);
        TILE_LOADD(4, S->q[b], 64);
        TILE_LOADD(3, at + (b + 1) * sizeof(wl_block_q8_0), a_stride);
        TILE_LOADD(5, S->q[b + 1], 64);
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
        TILE_LOADD(4, S->q[b], 64);
        TILE_ZERO(0);
        TILE_DPBSSD(0, 2, 4);
        TILE_STORED(0, c[0], TR * sizeof(int32_t));
        scale_sums(c[0], S->d[b], xt + b, nb, acc);
    }
}

static void tiles(pack_fn pack, size_t wbytes, gemm_fn rest, size_t n, const void *w, size_t w_stride, size_t nr,
                  const void *a, size_t a_stride, const void *vaux, size_t n_tok, float *out, size_t ldo)
{
    /* C: tiles 0 and 1; A: 2 and 3 (16 tokens x 32 bytes); B: 4 and 5
     * (8 rows of 16 x 4 bytes). */
    static const uint8_t rows[8] = { TT, TT, TT, TT, 8, 8 };
    static const uint16_t colsb[8] = { 64, 64, 32, 32, 64, 64 };
    const wl_q8_0_aux *aux = vaux;
    const size_t nb = n / WL_QK, nr16 = nr / TR * TR, nt16 = n_tok / TT * TT;
    strip_b S __attribute__((aligned(64)));

    if (nr16 == 0 || nt16 == 0) {
        rest(n, w, w_stride, nr, a, a_stride, vaux, n_tok, out, ldo);
        return;
    }
    configure(rows, colsb);
    for (size_t r0 = 0; r0 < nr16; r0 += TR) {
        const uint8_t *wr = (const uint8_t *)w + r0 * w_stride;
        for (size_t k0 = 0; k0 < nb; k0 += KCB) {
            const size_t kn = nb - k0 < KCB ? nb - k0 : KCB;
            pack(&S, wr + k0 * wbytes, w_stride, kn);
            for (size_t t0 = 0; t0 < nt16; t0 += TT) {
                __m512 acc[TT];
                float *o = out + t0 * ldo + r0;
                for (int t = 0; t < TT; t++)
                    acc[t] = k0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(o + (size_t)t * ldo);
                tile_blocks(&S, kn, (const uint8_t *)a + t0 * a_stride + k0 * sizeof(wl_block_q8_0) + 2,
                            a_stride, aux + t0 * nb + k0, nb, acc);
                for (int t = 0; t < TT; t++)
                    _mm512_storeu_ps(o + (size_t)t * ldo, acc[t]);
            }
        }
    }
    TILE_RELEASE();
    if (nt16 < n_tok)
        rest(n, w, w_stride, nr16, (const uint8_t *)a + nt16 * a_stride, a_stride, aux + nt16 * nb,
             n_tok - nt16, out + nt16 * ldo, ldo);
    if (nr16 < nr)
        rest(n, (const uint8_t *)w + nr16 * w_stride, w_stride, nr - nr16, a, a_stride, vaux, n_tok, out + nr16,
             ldo);
}

static void q4_0_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    tiles(pack_q4_0, sizeof(wl_block_q4_0), vnni_q4_0, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

static void q8_0_gemm(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                      const void *aux, size_t n_tok, float *out, size_t ldo)
{
    tiles(pack_q8_0, sizeof(wl_block_q8_0), vnni_q8_0, n, w, w_stride, nr, a, a_stride, aux, n_tok, out, ldo);
}

/* ---- the check at start-up ------------------------------------------------
 * The tile kernels have been checked on the emulation only: before they
 * are used, one product of each type is computed both ways on
 * pseudo-random data, and a CPU whose tiles disagree with the VNNI
 * kernels keeps those. */

enum { CK_ROWS = 2 * TR, CK_TOK = TT + 3, CK_BLOCKS = 3 };

static int agrees(woolly_type type, gemm_fn tiled, gemm_fn vnni)
{
    const size_t wbytes = woolly_type_block_bytes(type), n = CK_BLOCKS * WL_QK;
    uint8_t w[CK_ROWS * CK_BLOCKS * sizeof(wl_block_q8_0)];
    wl_block_q8_0 a[CK_TOK * CK_BLOCKS];
    wl_q8_0_aux aux[CK_TOK * CK_BLOCKS];
    float got[CK_TOK * CK_ROWS], want[CK_TOK * CK_ROWS];
    uint32_t s = 12345;

    for (size_t i = 0; i < sizeof w; i++) {
        s = s * 1664525u + 1013904223u;
        w[i] = (uint8_t)(s >> 24);
    }
    for (size_t i = 0; i < CK_ROWS * CK_BLOCKS; i++) {
        uint16_t d = (uint16_t)(0x2C00 + (i * 37 % 1024));   /* 1/16 .. 1/8 */
        memcpy(w + i * wbytes, &d, 2);
    }
    for (size_t i = 0; i < CK_TOK * CK_BLOCKS; i++) {
        a[i].d = (uint16_t)(0x2000 + (i * 53 % 1024));
        for (int j = 0; j < WL_QK; j++) {
            s = s * 1664525u + 1013904223u;
            a[i].qs[j] = (int8_t)(s >> 24);
        }
    }
    for (size_t t = 0; t < CK_TOK; t++)
        wl_q8_0_aux_fill(&a[t * CK_BLOCKS], n, &aux[t * CK_BLOCKS]);
    tiled(n, w, CK_BLOCKS * wbytes, CK_ROWS, a, CK_BLOCKS * sizeof a[0], aux, CK_TOK, got, CK_ROWS);
    vnni(n, w, CK_BLOCKS * wbytes, CK_ROWS, a, CK_BLOCKS * sizeof a[0], aux, CK_TOK, want, CK_ROWS);
    return memcmp(got, want, sizeof got) == 0;
}

void wl_kernels_init_amx(wl_kernels *k)
{
    wl_type_kernels *q4 = &k->type[WOOLLY_TYPE_Q4_0], *q8 = &k->type[WOOLLY_TYPE_Q8_0];

    k->gemm_i8 = gemm_i8;
    /* The level below (always VNNI's, whatever table is filled). */
    if (q4->gemm && q4->gemm != q4_0_gemm)
        vnni_q4_0 = q4->gemm;
    if (q8->gemm && q8->gemm != q8_0_gemm)
        vnni_q8_0 = q8->gemm;
    if (!vnni_q4_0 || !vnni_q8_0)
        return;
    if (!agrees(WOOLLY_TYPE_Q4_0, q4_0_gemm, vnni_q4_0) || !agrees(WOOLLY_TYPE_Q8_0, q8_0_gemm, vnni_q8_0)) {
        wl_log(WOOLLY_LOG_WARN, "the AMX tiles' products differ from the VNNI kernels'; AMX kernels not used");
        return;
    }
    q4->gemm = q4_0_gemm;
    q8->gemm = q8_0_gemm;
}
