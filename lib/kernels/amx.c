/* amx.c - kernels for AMX-INT8/BF16 tiles (built with AMX_CFLAGS).
 * cpu.c has already asked Linux for permission to use the tile state. */
#include <config.h>

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

struct tile_config {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

/* Tile 0: C, 16 rows of 16 int32.  Tile 1: A, 16 rows of 64 bytes.
 * Tile 2: B in VNNI order, 16 rows of (16 columns x 4 bytes). */
static void configure(void)
{
    struct tile_config cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 3; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    _tile_loadconfig(&cfg);
}

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
    size_t m16 = m - m % 16, n16 = n - n % 16, k64 = k - k % 64;
    int8_t bt[16][64] __attribute__((aligned(64)));

    if (k64 == 0 || m16 == 0 || n16 == 0) {
        wl_gemm_i8_scalar(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    configure();
    for (size_t i = 0; i < m16; i += 16) {
        for (size_t j = 0; j < n16; j += 16) {
            _tile_zero(0);
            for (size_t kb = 0; kb < k64; kb += 64) {
                _tile_loadd(1, a + i * lda + kb, (long)lda);
                pack_b(b + j * ldb, ldb, kb, bt);
                _tile_loadd(2, bt, 64);
                _tile_dpbssd(0, 1, 2);
            }
            _tile_stored(0, c + i * ldc + j, (long)(ldc * sizeof(int32_t)));
            if (k64 < k)
                for (size_t ii = i; ii < i + 16; ii++)
                    for (size_t jj = j; jj < j + 16; jj++)
                        c[ii * ldc + jj] += wl_dot_i8_scalar(k - k64, a + ii * lda + k64,
                                                             b + jj * ldb + k64);
        }
    }
    _tile_release();
    /* The edges that do not fill a tile. */
    for (size_t i = 0; i < m; i++)
        for (size_t j = (i < m16 ? n16 : 0); j < n; j++)
            c[i * ldc + j] = wl_dot_i8_scalar(k, a + i * lda, b + j * ldb);
}

void wl_kernels_init_amx(wl_kernels *k)
{
    k->gemm_i8 = gemm_i8;
}
