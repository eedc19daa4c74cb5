/*
 * amx-emulate.h - the AMX tile instructions amx.c uses, written in C.
 *
 * amx.c is built a second time with WL_AMX_EMULATE defined (and AVX-512
 * flags, no AMX ones) into a library only the tests link, so that its tile
 * kernels run, and are checked bit for bit against the scalar reference,
 * on CPUs without AMX.  Each function follows the instruction's definition
 * in Intel's Software Developer's Manual, palette 1 (8 tiles of at most 16
 * rows of 64 bytes), and aborts where the instruction would fault (#UD): a
 * tile used while not configured, or shapes a product cannot take.  The
 * tile state belongs to the thread, as the hardware's does.
 */
#ifndef WOOLLY_AMX_EMULATE_H
#define WOOLLY_AMX_EMULATE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMU_TILES 8

static _Thread_local struct {
    int configured;
    uint8_t rows[EMU_TILES];
    uint16_t colsb[EMU_TILES];
    uint8_t t[EMU_TILES][16][64];
} emu;

static void emu_fault(const char *what, int tile)
{
    fprintf(stderr, "AMX emulation: %s (tile %d): the instruction would fault\n", what, tile);
    abort();
}

static void emu_check(int tile)
{
    if (!emu.configured || tile < 0 || tile >= EMU_TILES || emu.rows[tile] == 0 || emu.colsb[tile] == 0)
        emu_fault("tile not configured", tile);
}

/* LDTILECFG: palette 1, start_row 0, the reserved bytes and the entries of
 * tiles past 8 zero; rows at most 16 and colsb at most 64 (a tile is
 * unconfigured when either is 0, and then both must be). */
static void emu_loadconfig(const void *p)
{
    const uint8_t *c = p;

    memset(&emu, 0, sizeof emu);
    if (c[0] == 0)
        return;   /* palette 0: the initial state */
    if (c[0] != 1 || c[1] != 0)
        emu_fault("palette or start_row", -1);
    for (int i = 2; i < 16; i++)
        if (c[i])
            emu_fault("reserved bytes", -1);
    for (int t = 0; t < 16; t++) {
        uint16_t colsb;
        uint8_t rows = c[48 + t];
        memcpy(&colsb, c + 16 + 2 * t, 2);
        if (t >= EMU_TILES ? rows || colsb : rows > 16 || colsb > 64 || !rows != !colsb)
            emu_fault("tile shape", t);
        if (t < EMU_TILES) {
            emu.rows[t] = rows;
            emu.colsb[t] = colsb;
        }
    }
    emu.configured = 1;
}

static void emu_release(void)
{
    memset(&emu, 0, sizeof emu);
}

static void emu_zero(int t)
{
    emu_check(t);
    memset(emu.t[t], 0, sizeof emu.t[t]);
}

/* TILELOADD: row r from BASE + r * STRIDE, colsb bytes; the rest zero. */
static void emu_loadd(int t, const void *base, long stride)
{
    emu_check(t);
    memset(emu.t[t], 0, sizeof emu.t[t]);
    for (int r = 0; r < emu.rows[t]; r++)
        memcpy(emu.t[t][r], (const char *)base + (long)r * stride, emu.colsb[t]);
}

static void emu_stored(int t, void *base, long stride)
{
    emu_check(t);
    for (int r = 0; r < emu.rows[t]; r++)
        memcpy((char *)base + (long)r * stride, emu.t[t][r], emu.colsb[t]);
}

/* TDPBSSD C, A, B: C[m][n] += sum over k < colsb(A)/4 and i < 4 of
 * A[m][4k+i] * B[k][4n+i], signed bytes into int32 (wrapping). */
static void emu_dpbssd(int c, int a, int b)
{
    emu_check(c);
    emu_check(a);
    emu_check(b);
    if (c == a || c == b || a == b)
        emu_fault("tiles not distinct", c);
    if (emu.colsb[c] % 4 || emu.colsb[a] % 4 || emu.rows[c] != emu.rows[a] || emu.colsb[c] != emu.colsb[b] ||
        emu.colsb[a] / 4 != emu.rows[b])
        emu_fault("shapes of the product", c);
    for (int m = 0; m < emu.rows[c]; m++)
        for (int n = 0; n < emu.colsb[c] / 4; n++) {
            int32_t acc;
            memcpy(&acc, &emu.t[c][m][4 * n], 4);
            uint32_t sum = (uint32_t)acc;
            for (int k = 0; k < emu.colsb[a] / 4; k++)
                for (int i = 0; i < 4; i++)
                    sum += (uint32_t)((int32_t)(int8_t)emu.t[a][m][4 * k + i] *
                                      (int32_t)(int8_t)emu.t[b][k][4 * n + i]);
            memcpy(&emu.t[c][m][4 * n], &sum, 4);
        }
}

#define TILE_LOADCONFIG(cfg) emu_loadconfig(cfg)
#define TILE_RELEASE() emu_release()
#define TILE_ZERO(t) emu_zero(t)
#define TILE_LOADD(t, base, stride) emu_loadd(t, base, (long)(stride))
#define TILE_STORED(t, base, stride) emu_stored(t, base, (long)(stride))
#define TILE_DPBSSD(c, a, b) emu_dpbssd(c, a, b)

#endif
