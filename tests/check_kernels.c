/* check_kernels.c - every kernel level against the scalar reference. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fp16.h"
#include "kernels/kernels.h"
#include "testutil.h"
#include "woolly.h"

static const size_t lengths[] = { 0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256, 1000, 4096 };
#define N_LENGTHS (sizeof lengths / sizeof lengths[0])

START_TEST(dot_f32_matches_scalar)
{
    float x[4096], y[4096];
    uint64_t seed = 1;
    wl_kernels k;

    for (size_t i = 0; i < 4096; i++) {
        x[i] = tu_randf(&seed);
        y[i] = tu_randf(&seed);
    }
    for (size_t m = 0; m < TU_N_LEVELS; m++) {
        if (!tu_runnable(tu_level_masks[m]))
            continue;
        const char *name = wl_kernels_fill(&k, tu_level_masks[m]);
        for (size_t l = 0; l < N_LENGTHS; l++) {
            size_t n = lengths[l];
            double ref = 0, mag = 0;
            for (size_t i = 0; i < n; i++) {
                ref += (double)x[i] * y[i];
                mag += fabs((double)x[i] * y[i]);
            }
            float got = k.dot_f32(n, x, y);
            ck_assert_msg(fabs(got - ref) <= (double)(n + 1) * 1.2e-7 * mag + 1e-30, "%s dot_f32 n=%zu: %g vs %g",
                          name, n, (double)got, ref);
        }
    }
}
END_TEST

START_TEST(dot_i8_is_exact)
{
    int8_t x[4096], y[4096];
    uint64_t seed = 2;
    wl_kernels k;

    for (size_t i = 0; i < 4096; i++) {
        x[i] = (int8_t)(tu_rand(&seed) >> 56);
        y[i] = (int8_t)(tu_rand(&seed) >> 56);
    }
    x[5] = y[5] = -128;   /* the corner that saturating instructions get wrong */
    x[6] = -128; y[6] = 127;
    for (size_t m = 0; m < TU_N_LEVELS; m++) {
        if (!tu_runnable(tu_level_masks[m]))
            continue;
        const char *name = wl_kernels_fill(&k, tu_level_masks[m]);
        for (size_t l = 0; l < N_LENGTHS; l++) {
            size_t n = lengths[l];
            ck_assert_msg(k.dot_i8(n, x, y) == wl_dot_i8_scalar(n, x, y), "%s dot_i8 n=%zu", name, n);
        }
        /* All -128: the largest sums. */
        int8_t mx[4096];
        memset(mx, 0x80, sizeof mx);
        ck_assert_int_eq(k.dot_i8(4096, mx, mx), 4096 * 16384);
    }
}
END_TEST

static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)(u >> 16);   /* truncation is fine for test data */
}

START_TEST(dot_bf16_matches_scalar)
{
    uint16_t x[4096], y[4096];
    uint64_t seed = 3;
    wl_kernels k;

    for (size_t i = 0; i < 4096; i++) {
        x[i] = to_bf16(tu_randf(&seed));
        y[i] = to_bf16(tu_randf(&seed));
    }
    for (size_t m = 0; m < TU_N_LEVELS; m++) {
        if (!tu_runnable(tu_level_masks[m]))
            continue;
        const char *name = wl_kernels_fill(&k, tu_level_masks[m]);
        for (size_t l = 0; l < N_LENGTHS; l++) {
            size_t n = lengths[l];
            double ref = 0, mag = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t ux = (uint32_t)x[i] << 16, uy = (uint32_t)y[i] << 16;
                float fx, fy;
                memcpy(&fx, &ux, sizeof fx);
                memcpy(&fy, &uy, sizeof fy);
                ref += (double)fx * fy;
                mag += fabs((double)fx * fy);
            }
            float got = k.dot_bf16(n, x, y);
            ck_assert_msg(fabs(got - ref) <= (double)(n + 1) * 1.2e-7 * mag + 1e-30,
                          "%s dot_bf16 n=%zu: %g vs %g", name, n, (double)got, ref);
        }
    }
}
END_TEST

START_TEST(gemm_i8_is_exact)
{
    /* Shapes around the 16 x 16 x 64 AMX tile, edges included. */
    static const size_t shapes[][3] = {
        { 1, 1, 1 }, { 16, 16, 64 }, { 32, 48, 128 }, { 17, 33, 70 }, { 5, 40, 200 }, { 48, 3, 64 },
    };
    uint64_t seed = 4;
    wl_kernels k;

    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], kk = shapes[s][2];
        size_t lda = kk + 3, ldb = kk + 5, ldc = n + 2;
        int8_t *a = malloc(m * lda), *b = malloc(n * ldb);
        int32_t *ref = calloc(m * ldc, sizeof *ref), *got = calloc(m * ldc, sizeof *got);
        for (size_t i = 0; i < m * lda; i++)
            a[i] = (int8_t)(tu_rand(&seed) >> 56);
        for (size_t i = 0; i < n * ldb; i++)
            b[i] = (int8_t)(tu_rand(&seed) >> 56);
        wl_gemm_i8_scalar(m, n, kk, a, lda, b, ldb, ref, ldc);
        for (size_t msk = 0; msk < TU_N_RUNS; msk++) {
            const char *name = tu_fill_run(&k, msk);
            if (!name)
                continue;
            memset(got, 0, m * ldc * sizeof *got);
            k.gemm_i8(m, n, kk, a, lda, b, ldb, got, ldc);
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++)
                    ck_assert_msg(got[i * ldc + j] == ref[i * ldc + j], "%s gemm_i8 %zux%zux%zu at %zu,%zu",
                                  name, m, n, kk, i, j);
        }
        free(a);
        free(b);
        free(ref);
        free(got);
    }
}
END_TEST

START_TEST(process_table_is_filled)
{
    const wl_kernels *k = wl_kernels_get();

    ck_assert_ptr_eq(k, wl_kernels_get());
    ck_assert_ptr_nonnull(k->dot_f32);
    ck_assert_ptr_nonnull(k->dot_i8);
    ck_assert_ptr_nonnull(k->dot_bf16);
    ck_assert_ptr_nonnull(k->gemm_i8);
    ck_assert_ptr_nonnull(k->dot_f32_ggml);
    ck_assert_ptr_nonnull(k->qk_scores);
    ck_assert_ptr_nonnull(k->softmax_exp);
    ck_assert_ptr_nonnull(k->silu);
    ck_assert_ptr_nonnull(k->scale);
    ck_assert_ptr_nonnull(k->rope);
    ck_assert_ptr_nonnull(k->wsum16);
}
END_TEST

START_TEST(f16_round_trips_every_half)
{
    for (uint32_t h = 0; h < 65536; h++) {
        float f = wl_f16_to_f32((uint16_t)h);
        if (f != f)
            continue;                          /* NaN payloads need not survive */
        ck_assert_msg(wl_f32_to_f16(f) == h, "half 0x%04x -> %g -> 0x%04x", h, (double)f,
                      wl_f32_to_f16(f));
    }
    ck_assert_float_eq(wl_f16_to_f32(0x3c00), 1.0f);
    ck_assert_float_eq(wl_f16_to_f32(0xc000), -2.0f);
    ck_assert_float_eq(wl_f16_to_f32(0x0001), 5.9604644775390625e-8f);
    ck_assert_float_eq(wl_f16_to_f32(0x7bff), 65504.0f);
}
END_TEST

START_TEST(f16_rounds_to_nearest_even)
{
    ck_assert_uint_eq(wl_f32_to_f16(65520.0f), 0x7c00);          /* overflow to inf */
    ck_assert_uint_eq(wl_f32_to_f16(65519.0f), 0x7bff);
    ck_assert_uint_eq(wl_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00); /* tie, to even */
    ck_assert_uint_eq(wl_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02); /* tie, to even (up) */
    ck_assert_uint_eq(wl_f32_to_f16(2.9802322e-8f), 0x0000);      /* half the least: to even 0 */
    ck_assert_uint_eq(wl_f32_to_f16(2.9802326e-8f), 0x0001);
    ck_assert_uint_eq(wl_f32_to_f16(-0.0f), 0x8000);
    /* Every float between two halves goes to the nearer one. */
    uint64_t seed = 9;
    for (int i = 0; i < 100000; i++) {
        float f = tu_randf(&seed) * 70000.0f * (float)(1u << (tu_rand(&seed) % 8)) / 128.0f;
        uint16_t h = wl_f32_to_f16(f);
        float back = wl_f16_to_f32(h);
        if (back != back || back == INFINITY || back == -INFINITY)
            continue;
        float up = wl_f16_to_f32((uint16_t)(h + 1)), down = wl_f16_to_f32((uint16_t)(h - 1));
        if ((h & 0x7fff) != 0 && (h & 0x7fff) != 0x7bff) {
            ck_assert_msg(fabsf(f - back) <= fabsf(f - up) && fabsf(f - back) <= fabsf(f - down),
                          "%.9g -> 0x%04x", (double)f, h);
        }
    }
}
END_TEST

START_TEST(bf16_rounds_to_nearest_even)
{
    ck_assert_uint_eq(wl_f32_to_bf16(1.0f), 0x3f80);
    ck_assert_uint_eq(wl_f32_to_bf16(wl_bits_to_f32(0x3f808000u)), 0x3f80); /* tie, to even */
    ck_assert_uint_eq(wl_f32_to_bf16(wl_bits_to_f32(0x3f818000u)), 0x3f82); /* tie, to even */
    ck_assert_uint_eq(wl_f32_to_bf16(wl_bits_to_f32(0x3f808001u)), 0x3f81);
    ck_assert(wl_bf16_to_f32(wl_f32_to_bf16(NAN)) != wl_bf16_to_f32(wl_f32_to_bf16(NAN)));
}
END_TEST

/* The weight-type kernels of each level against the scalar ones: F32, F16
 * and BF16 products follow llama.cpp's order at every level, bit for bit. */
START_TEST(type_kernels_match_scalar)
{
    static const woolly_type types[] = { WOOLLY_TYPE_F32, WOOLLY_TYPE_F16, WOOLLY_TYPE_BF16 };
    float x[1024], y[1024], back[1024];
    uint8_t wq[4096], aq[4096];
    uint64_t seed = 11;
    wl_kernels ref, k;

    for (size_t i = 0; i < 1024; i++) {
        x[i] = tu_randf(&seed);
        y[i] = tu_randf(&seed);
    }
    wl_kernels_fill(&ref, 0);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const wl_type_kernels *r = &ref.type[types[t]];
        /* Weights and activations both in the type, as the matrix product has them. */
        r->from_float(x, wq, 1024);
        ref.type[r->vec_dot_type].from_float(y, aq, 1024);
        r->to_float(wq, back, 1024);
        for (size_t i = 0; i < 1024; i++)
            ck_assert_msg(fabsf(back[i] - x[i]) <= fabsf(x[i]) / 128, "%s round trip", woolly_type_name(types[t]));
        for (size_t m = 0; m < TU_N_LEVELS; m++) {
            if (!tu_runnable(tu_level_masks[m]))
                continue;
            const char *name = wl_kernels_fill(&k, tu_level_masks[m]);
            for (size_t l = 0; l < N_LENGTHS; l++) {
                size_t n = lengths[l];
                if (n > 1024)
                    continue;
                float want = r->vec_dot(n, wq, aq), got = k.type[types[t]].vec_dot(n, wq, aq);
                ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "%s %s vec_dot n=%zu: %.9g vs %.9g",
                              name, woolly_type_name(types[t]), n, (double)got, (double)want);
            }
        }
    }
}
END_TEST

/* Run RUN of 2 * TU_N_LEVELS: every level, then those with AVX-512 again
 * with OTHER (one of avx512.c's choices taken the other way from this
 * CPU's, which says so at NOTE).  Fills K and NAME; 0 where this build or
 * this machine cannot run it. */
static int fill_level_twice(wl_kernels *k, size_t run, void (*other)(wl_kernels *, char *, size_t), char *name,
                            size_t size)
{
    const size_t m = run % TU_N_LEVELS;
    const int again = run >= TU_N_LEVELS;

    if (!tu_runnable(tu_level_masks[m]) || (again && !(tu_level_masks[m] & WOOLLY_ISA_AVX512)))
        return 0;
    snprintf(name, size, "%s", wl_kernels_fill(k, tu_level_masks[m]));
    if (again)
        other(k, name + strlen(name), size - strlen(name));
    return 1;
}

/* The weighted sums of the other way with subnormals (wl_kernels_avx512_subnormals). */
static void other_subnormals(wl_kernels *k, char *note, size_t size)
{
#ifdef HAVE_AVX512
    const int fast = !wl_cpu_fast_subnormals();
    wl_kernels_avx512_subnormals(k, fast);
    snprintf(note, size, " (subnormals %s)", fast ? "in plain FMAs" : "around FMAs");
#else
    (void)k, (void)note, (void)size;
#endif
}

/* The F32 and F16 tiles with the other prefetching (wl_kernels_avx512_float_prefetch). */
static void other_float_prefetch(wl_kernels *k, char *note, size_t size)
{
#ifdef HAVE_AVX512
    const int pf = !wl_cpu_prefetch_float_rows();
    wl_kernels_avx512_float_prefetch(k, pf);
    snprintf(note, size, " (%s prefetches)", pf ? "with" : "without");
#else
    (void)k, (void)note, (void)size;
#endif
}

/* The F32 and F16 tiles of every level that has them, and at the levels
 * with AVX-512 again with their one-token prefetches taken the other way
 * (wl_kernels_avx512_float_prefetch): each output the bits of the level's
 * vec_dot of its row and token, for row counts off the 4-row tiles, one
 * token to past a block of 32, rows of one vector, of several, of more
 * than a chunk of 512 columns, and of a length off 16. */
START_TEST(float_gemm_matches_vec_dot)
{
    enum { NR = 11, NT = 37, LDO = NR + 2, MAXN = 1040 };
    static const woolly_type types[] = { WOOLLY_TYPE_F32, WOOLLY_TYPE_F16 };
    static const size_t cols[] = { 16, 48, MAXN, 37 };
    static const size_t toks[] = { 1, 2, 3, 4, 5, 7, 8, 9, 33, NT };
    static float x[NR * MAXN], y[NT * MAXN], got[NT * LDO], want[NT * LDO];
    static uint8_t wq[NR * MAXN * 4], aq[NT * MAXN * 4];
    uint64_t seed = 17;
    size_t tested = 0;
    wl_kernels k;

    for (size_t i = 0; i < NR * MAXN; i++)
        x[i] = tu_randf(&seed);
    for (size_t i = 0; i < NT * MAXN; i++)
        y[i] = tu_randf(&seed);
    for (size_t run = 0; run < 2 * TU_N_LEVELS; run++) {
        char name[80];
        if (!fill_level_twice(&k, run, other_float_prefetch, name, sizeof name))
            continue;
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
            const wl_type_kernels *tk = &k.type[types[t]];
            const wl_type_kernels *ak = &k.type[tk->vec_dot_type];
            if (!tk->gemm)
                continue;
            for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
                const size_t n = cols[c];
                const size_t wrow = n * woolly_type_block_bytes(types[t]), arow = n * woolly_type_block_bytes(tk->vec_dot_type);
                for (size_t r = 0; r < NR; r++)
                    tk->from_float(x + r * n, wq + r * wrow, n);
                for (size_t j = 0; j < NT; j++) {
                    ak->from_float(y + j * n, aq + j * arow, n);
                    for (size_t r = 0; r < NR; r++)
                        want[j * LDO + r] = tk->vec_dot(n, wq + r * wrow, aq + j * arow);
                }
                for (size_t nr = 1; nr <= NR; nr++)
                    for (size_t ti = 0; ti < sizeof toks / sizeof toks[0]; ti++) {
                        const size_t nt = toks[ti];
                        for (size_t i = 0; i < NT * LDO; i++)
                            got[i] = 12345.0f;
                        tk->gemm(n, wq, wrow, nr, aq, arow, NULL, nt, got, LDO);
                        /* The first output that differs (one assertion a product: each costs a write). */
                        size_t bad = NT * LDO;
                        float w = 0;
                        for (size_t i = 0; i < NT * LDO && bad == NT * LDO; i++) {
                            w = i / LDO < nt && i % LDO < nr ? want[i] : 12345.0f;
                            if (memcmp(&got[i], &w, sizeof w) != 0)
                                bad = i;
                        }
                        ck_assert_msg(bad == NT * LDO, "%s %s gemm n=%zu rows=%zu tokens=%zu: out[%zu][%zu] %.9g, not %.9g",
                                      name, woolly_type_name(types[t]), n, nr, nt, bad / LDO, bad % LDO,
                                      bad < NT * LDO ? (double)got[bad] : 0.0, (double)w);
                        tested++;
                    }
            }
        }
    }
    /* A machine with AVX-512 has run the tiles both ways. */
    ck_assert(tested > 0 || !tu_runnable(WOOLLY_ISA_AVX2 | WOOLLY_ISA_AVX512));
}
END_TEST

/* ggml_v_expf: within 2 ulp of exp (4 * 2^-24 relative; the worst over
 * every float in [-87, 88] is 3.8), its limits as ggml's. */
START_TEST(ggml_expf_is_accurate)
{
    for (float x = -103.0f; x <= 88.0f; x += 0.0123f) {
        double want = exp((double)x);
        float got = wl_ggml_expf(x);
        ck_assert_msg(fabs(got - want) <= 4.0 * want * 0x1p-24 + 0x1p-149, "expf(%.9g) = %.9g, not %.9g",
                      (double)x, (double)got, want);
    }
    ck_assert_float_eq(wl_ggml_expf(0.0f), 1.0f);
    ck_assert_float_eq(wl_ggml_expf(-INFINITY), 0.0f);
    ck_assert_float_eq(wl_ggml_expf(-200.0f), 0.0f);
    ck_assert(wl_ggml_expf(200.0f) == INFINITY);
    ck_assert(isnan(wl_ggml_expf(NAN)));
}
END_TEST

/* The attention and SiLU entries of every level return the scalar bits. */
START_TEST(llama_order_kernels_match_scalar)
{
    static float x[4096], y[4096], v[72 * 1100], w[3][1100], sw[4096], sw_ref[4096];
    static float ref_out[4096], got_out[4096];
    uint64_t seed = 21;
    wl_kernels ref, k;

    for (size_t i = 0; i < 4096; i++) {
        x[i] = tu_randf(&seed) * 8.0f;
        y[i] = tu_randf(&seed);
    }
    x[3] = -60.0f;                 /* exponentials that are subnormal once the max is taken */
    x[40] = -95.0f;
    x[41] = -100.0f;
    for (size_t i = 64; i < 96; i++)   /* a chunk whose exponentials are all +0, and one all but one */
        x[i] = i < 80 ? -100.0f - (float)i : i == 90 ? -97.9f : -300.0f;
    for (size_t i = 0; i < 72 * 1100; i++)
        v[i] = tu_randf(&seed);
    /* Weights as softmax gives them: w[0] all nonzero (the dense path),
     * w[1] mostly exact zeros (the sparse one) with a -0 and denormals,
     * w[2] zeros and denormals only; their products with column 0 of v
     * round to -0, which the zero weights of the reference turn +0. */
    for (size_t i = 0; i < 1100; i++) {
        w[0][i] = tu_randf(&seed);
        w[1][i] = i % 7 == 3 ? tu_randf(&seed) : i % 13 == 5 ? 1e-39f * tu_randf(&seed) : 0.0f;
        w[2][i] = i % 5 == 2 ? 1e-39f : 0.0f;
        v[i * 72] = w[2][i] != 0.0f ? -1e-10f : 1.0f;
    }
    w[1][20] = -0.0f;
    wl_kernels_fill(&ref, 0);
    /* Normalised weights, some of them subnormal, scaled as the float
     * multiply scales them (the reference's own check). */
    for (size_t i = 0; i < 4096; i++)
        sw[i] = sw_ref[i] = ldexpf(x[i], -110 - (int)(i % 30));
    ref.scale(4096, sw_ref, 0.3f);
    for (size_t i = 0; i < 4096; i++)
        ck_assert_msg(sw_ref[i] == sw[i] * 0.3f, "scalar scale at %zu", i);
    /* Every level, and those with AVX-512 again with the weighted sums of
     * the other way with subnormals (wl_kernels_avx512_subnormals): this
     * CPU's way and the other. */
    for (size_t run = 0; run < 2 * TU_N_LEVELS; run++) {
        char name[80];
        if (!fill_level_twice(&k, run, other_subnormals, name, sizeof name))
            continue;
        for (size_t l = 0; l < N_LENGTHS; l++) {
            size_t n = lengths[l];
            float a = ref.dot_f32_ggml(n, x, y), b = k.dot_f32_ggml(n, x, y);
            ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "%s dot_f32_ggml n=%zu", name, n);
            double sa = ref.softmax_exp(n, ref_out, x, 8.0f), sb = k.softmax_exp(n, got_out, x, 8.0f);
            ck_assert_msg(sa == sb && memcmp(ref_out, got_out, n * sizeof *got_out) == 0,
                          "%s softmax_exp n=%zu", name, n);
            ref.silu(n, ref_out, x);
            k.silu(n, got_out, x);
            ck_assert_msg(memcmp(ref_out, got_out, n * sizeof *got_out) == 0, "%s silu n=%zu", name, n);
            memcpy(got_out, sw, n * sizeof *got_out);
            k.scale(n, got_out, 0.3f);
            ck_assert_msg(memcmp(sw_ref, got_out, n * sizeof *got_out) == 0, "%s scale n=%zu", name, n);
        }
        /* Exponentials across the subnormal range, every 1/64 of a step
         * of its exponent: each rounding as the scalar reference's. */
        {
            static float sx[2048], se[2048], sg[2048];
            for (size_t i = 0; i < 2048; i++)
                sx[i] = -112.0f + (float)i * (30.0f / 2048.0f) + 1e-3f * tu_randf(&seed);
            double ra = ref.softmax_exp(2048, se, sx, 0.0f), rb = k.softmax_exp(2048, sg, sx, 0.0f);
            ck_assert_msg(ra == rb && memcmp(se, sg, sizeof se) == 0, "%s softmax_exp of subnormal results", name);
            ck_assert(se[2047] > 0x1p-126f && se[1024] < 0x1p-126f && se[1024] > 0.0f);
        }
        /* Scores of groups of 3, 4 and 8 queries (TinyLlama's and Llama's
         * groups are 8): head sizes of whole 64s (the batched path) and
         * not, key counts off the 16 of a batch; keys strided as in the
         * cache. */
        static const size_t hds[] = { 1, 64, 80, 128 }, keys[] = { 1, 15, 16, 17, 33 }, groups[] = { 3, 4, 8 };
        for (size_t gq = 0; gq < sizeof groups / sizeof *groups; gq++)
            for (size_t h = 0; h < sizeof hds / sizeof *hds; h++)
                for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
                    size_t n = keys[i], hd = hds[h], nq = groups[gq];
                    for (size_t o = 0; o < 40 * nq; o++)
                        ref_out[o] = got_out[o] = (float)o;
                    ref.qk_scores(n, hd, nq, x + 7, 200, y, 96, 0.125f, ref_out, 40);
                    k.qk_scores(n, hd, nq, x + 7, 200, y, 96, 0.125f, got_out, 40);
                    ck_assert_msg(memcmp(ref_out, got_out, 40 * nq * sizeof *got_out) == 0,
                                  "%s qk_scores n=%zu hd=%zu queries=%zu", name, n, hd, nq);
                }
        /* Columns: a lane's part, whole registers of 8 and 16, tails past them. */
        /* Past 1024 rows: the sparse kernel lists its rows 512 at a time. */
        static const size_t rows[] = { 0, 1, 7, 15, 16, 17, 33, 66, 99, 100, 513, 1100 }, cols[] = { 1, 8, 29, 64, 71 };
        for (size_t c = 0; c < sizeof cols / sizeof *cols * 3; c++) {
            for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
                size_t n = rows[i], nc = cols[c / 3];
                for (size_t o = 0; o < 80; o++)
                    ref_out[o] = got_out[o] = (float)o;
                ref.wsum16(n, nc, w[c % 3], v, 72, ref_out);
                k.wsum16(n, nc, w[c % 3], v, 72, got_out);
                ck_assert_msg(memcmp(ref_out, got_out, 80 * sizeof *got_out) == 0, "%s wsum16 n=%zu m=%zu w%zu",
                              name, n, nc, c % 3);
            }
        }
        /* Many heads at once: dense and sparse ones mixed, fewer and more
         * than a batch of dense heads; each head's bits are wsum16's. */
        static const size_t heads[] = { 1, 3, 4, 7, 8, 9, 13 };
        static float hws[13][1100], hout[13 * 80];
        for (size_t hi = 0; k.wsum16_heads && hi < sizeof heads / sizeof *heads; hi++)
            for (size_t i = 0; i < sizeof rows / sizeof *rows; i += 2)
                for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
                    size_t nh = heads[hi], n = rows[i], nc = cols[c];
                    for (size_t h = 0; h < nh; h++)
                        for (size_t j = 0; j < n; j++)   /* mostly dense: w[0] with rows of the others */
                            hws[h][j] = (h * 5 + hi) % 7 < 5 ? (j % 11 == h % 11 ? w[1][j] : w[0][(j + h) % 1100])
                                                             : w[1 + h % 2][j];
                    for (size_t o = 0; o < 13 * 80; o++)
                        hout[o] = (float)o;
                    k.wsum16_heads(n, nc, nh, hws[0], 1100, v, 72, hout, 80);
                    for (size_t h = 0; h < nh; h++) {
                        for (size_t o = 0; o < 80; o++)
                            ref_out[o] = (float)(h * 80 + o);
                        ref.wsum16(n, nc, hws[h], v, 72, ref_out);
                        ck_assert_msg(memcmp(ref_out, hout + h * 80, 80 * sizeof *ref_out) == 0,
                                      "%s wsum16_heads nh=%zu n=%zu m=%zu head %zu: %a vs %a", name, nh, n, nc, h,
                                      (double)hout[h * 80], (double)ref_out[0]);
                    }
                }
        /* Subnormal weights where rounding the double sum to float would
         * go wrong: lane 0 holds 2^-129 after row 0, and row 16 adds
         * (2^36 + 1) 2^-186 = 2^-150 + 2^-186, so a + w v lies just above
         * the halfway point 2^-129 + 2^-150, which a double cannot tell
         * from it (and rounding that to even goes down).  Column 1 the
         * same below 0, column 2 rows of normal weight. */
        static float hw[32], hv[32 * 3];
        memset(hw, 0, sizeof hw);
        memset(hv, 0, sizeof hv);
        hw[0] = ldexpf(1.0f, -140);
        hw[16] = ldexpf(1774001.0f, -149);  /* 1774001 * 38737 = 2^36 + 1 */
        hw[5] = 0.25f;
        hv[0] = 2048.0f;
        hv[1] = -2048.0f;
        hv[16 * 3] = ldexpf(38737.0f, -37);
        hv[16 * 3 + 1] = -ldexpf(38737.0f, -37);
        hv[5 * 3 + 2] = 3.0f;
        ref.wsum16(32, 3, hw, hv, 3, ref_out);
        k.wsum16(32, 3, hw, hv, 3, got_out);
        ck_assert_msg(ref_out[0] == ldexpf(1.0f, -129) + ldexpf(1.0f, -149) && ref_out[1] == -ref_out[0],
                      "the reference lane is %a", (double)ref_out[0]);
        ck_assert_msg(memcmp(ref_out, got_out, 3 * sizeof *got_out) == 0, "%s wsum16 of a halfway subnormal sum: %a",
                      name, (double)got_out[0]);
        /* A lane of subnormal weights next to a small normal one that it
         * still changes: 2^-120 + 2^-130. */
        memset(hw, 0, sizeof hw);
        hw[0] = ldexpf(1.0f, -20);
        hw[1] = ldexpf(1.0f, -130);
        hv[0] = ldexpf(1.0f, -100);
        hv[1] = 1.0f;
        ref.wsum16(32, 1, hw, hv, 1, ref_out);
        k.wsum16(32, 1, hw, hv, 1, got_out);
        ck_assert(ref_out[0] == ldexpf(1.0f, -120) + ldexpf(1.0f, -130));
        ck_assert_msg(got_out[0] == ref_out[0], "%s wsum16 dropped a subnormal lane: %a", name, (double)got_out[0]);
        /* Lanes of normal and subnormal weights whose sums go from normal
         * to subnormal and back.  Column 0, lane 0: 1, plus 2^-24 (a tie,
         * kept even), plus 2^-24 + 2^-47 (up to 1 + 2^-23).  Lane 1, column
         * 1: 2^-110 less 2^-110 - 2^-134 (2^-134 left); column 2: 2^-96
         * less 2^-96 exactly, then 0.25.  Lane 2, column 3: 0.6 of the
         * least subnormal twice, each rounded (2 of it), then 2^-126. */
        static float mw[48], mv[48 * 4];
        mw[0] = 0.5f;
        mw[16] = mw[32] = ldexpf(1.0f, -140);
        mv[0] = 2.0f;
        mv[16 * 4] = ldexpf(1.0f, 116);
        mv[32 * 4] = ldexpf(1.0f, 116) + ldexpf(1.0f, 93);
        mw[1] = ldexpf(1.0f, -96);
        mw[17] = ldexpf(1.0f, -130);
        mw[33] = 0.25f;
        mv[1 * 4 + 1] = ldexpf(1.0f, -14);
        mv[1 * 4 + 2] = 1.0f;
        mv[17 * 4 + 1] = -(ldexpf(1.0f, 20) - ldexpf(1.0f, -4));
        mv[17 * 4 + 2] = -ldexpf(1.0f, 34);
        mv[33 * 4 + 2] = 1.0f;
        mw[2] = mw[18] = ldexpf(1.0f, -149);
        mw[34] = ldexpf(1.0f, -126);
        mv[2 * 4 + 3] = mv[18 * 4 + 3] = 0.6f;
        mv[34 * 4 + 3] = 1.0f;
        ref.wsum16(48, 4, mw, mv, 4, ref_out);
        ck_assert(ref_out[0] == 1.0f + ldexpf(1.0f, -23) && ref_out[1] == ldexpf(1.0f, -134) && ref_out[2] == 0.25f &&
                  ref_out[3] == ldexpf(1.0f, -126) + ldexpf(1.0f, -148));
        for (size_t n = 18; n <= 48; n += 15) {
            ref.wsum16(n, 4, mw, mv, 4, ref_out);
            k.wsum16(n, 4, mw, mv, 4, got_out);
            ck_assert_msg(memcmp(ref_out, got_out, 4 * sizeof *got_out) == 0,
                          "%s wsum16 of mixed lanes, n=%zu: %a %a %a %a vs %a %a %a %a", name, n, (double)got_out[0],
                          (double)got_out[1], (double)got_out[2], (double)got_out[3], (double)ref_out[0],
                          (double)ref_out[1], (double)ref_out[2], (double)ref_out[3]);
        }
    }
}
END_TEST

/* The AMX kernels (on the emulated tiles where the suite has them, on the
 * CPU's own where it has AMX) pass their check against the VNNI kernels at
 * start-up and take the Q4_0, Q8_0, Q4_K and Q6_K products over (of the rows
 * as they are and repacked); gemm_levels_match_scalar
 * (check_quant) then checks their bits. */
START_TEST(amx_tiles_take_the_products)
{
    static const woolly_type types[] = { WOOLLY_TYPE_Q4_0, WOOLLY_TYPE_Q8_0, WOOLLY_TYPE_Q4_K, WOOLLY_TYPE_Q6_K };
    wl_kernels vnni, k;

    if (!tu_runnable(TU_VNNI_MASK))
        return;
    wl_kernels_fill(&vnni, TU_VNNI_MASK);
    for (size_t r = 0; r < TU_N_RUNS; r++) {
        const char *name = tu_fill_run(&k, r);
        if (!name || strncmp(name, "amx", 3) != 0)
            continue;
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
            ck_assert_msg(k.type[types[t]].gemm && k.type[types[t]].gemm != vnni.type[types[t]].gemm,
                          "%s: %s products left to the VNNI kernels", name, woolly_type_name(types[t]));
        /* And those of the types the VNNI level repacks. */
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
            ck_assert_msg(!vnni.type[types[t]].repack ||
                              (k.type[types[t]].gemm_packed &&
                               k.type[types[t]].gemm_packed != vnni.type[types[t]].gemm_packed),
                          "%s: repacked %s products left to the VNNI kernels", name, woolly_type_name(types[t]));
    }
}
END_TEST

/* RoPE: every level gives the reference's bits, for both pair layouts,
 * rotated parts that are and are not whole vectors (partial rotation
 * included), angles whose sine is 0 (position 0) and values that are 0. */
START_TEST(rope_matches_scalar)
{
    static const size_t shapes[][2] = { { 64, 64 }, { 128, 128 }, { 64, 32 }, { 80, 80 }, { 96, 48 }, { 24, 24 } };
    static float x[6 * 128], want[6 * 128], got[6 * 128], cs[128];
    uint64_t seed = 31;
    wl_kernels ref, k;

    wl_kernels_fill(&ref, 0);
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        size_t hd = shapes[sh][0], n_rot = shapes[sh][1], nh = 6;
        for (int pos = 0; pos < 3; pos++) {
            for (size_t i = 0; i < n_rot / 2; i++) {
                float angle = (float)pos * powf(10000.0f, -2.0f * (float)i / (float)n_rot);
                cs[2 * i] = cosf(angle);
                cs[2 * i + 1] = sinf(angle);
            }
            for (size_t i = 0; i < nh * hd; i++)
                x[i] = i % 7 == 3 ? 0.0f : i % 11 == 5 ? -0.0f : tu_randf(&seed) * 4.0f;
            for (int adjacent = 0; adjacent < 2; adjacent++) {
                memcpy(want, x, nh * hd * sizeof *x);
                ref.rope(nh, hd, n_rot, adjacent, want, cs);
                ck_assert(memcmp(want, x, nh * hd * sizeof *x) != 0 || pos == 0);
                for (size_t m = 0; m < TU_N_RUNS; m++) {
                    const char *name = tu_fill_run(&k, m);
                    if (!name)
                        continue;
                    memcpy(got, x, nh * hd * sizeof *x);
                    k.rope(nh, hd, n_rot, adjacent, got, cs);
                    ck_assert_msg(memcmp(got, want, nh * hd * sizeof *x) == 0, "%s rope hd=%zu n_rot=%zu %s pos %d",
                                  name, hd, n_rot, adjacent ? "adjacent" : "halves", pos);
                }
            }
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("against-scalar");

    tcase_add_test(tc, process_table_is_filled);
    tcase_add_test(tc, dot_f32_matches_scalar);
    tcase_add_test(tc, dot_i8_is_exact);
    tcase_add_test(tc, dot_bf16_matches_scalar);
    tcase_add_test(tc, gemm_i8_is_exact);
    tcase_add_test(tc, amx_tiles_take_the_products);
    tcase_add_test(tc, type_kernels_match_scalar);
    tcase_add_test(tc, float_gemm_matches_vec_dot);
    tcase_add_test(tc, llama_order_kernels_match_scalar);
    tcase_add_test(tc, rope_matches_scalar);
    tcase_add_test(tc, ggml_expf_is_accurate);
    suite_add_tcase(s, tc);
    tc = tcase_create("conversions");
    tcase_add_test(tc, f16_round_trips_every_half);
    tcase_add_test(tc, f16_rounds_to_nearest_even);
    tcase_add_test(tc, bf16_rounds_to_nearest_even);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
