/* check_matmul.c - matrix products split among threads: every output is
 * its row's vec_dot, whichever thread computes it and however the rows
 * were dealt out. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "matmul.h"
#include "quant.h"
#include "testutil.h"
#include "threadpool.h"
#include "types.h"

#define COLS 512
/* 37 whole chunks of 16 rows and a partial one: pieces of the rows do
 * not divide evenly among any of the thread counts below. */
#define ROWS (16 * 37 + 5)
#define N_TOK 3

static const woolly_type types[] = { WOOLLY_TYPE_F32, WOOLLY_TYPE_Q4_0, WOOLLY_TYPE_Q8_0, WOOLLY_TYPE_Q4_K,
                                     WOOLLY_TYPE_Q6_K };

/* A matrix of TYPE with random weights; its data is malloc'd. */
static wl_matrix random_matrix(woolly_type type, uint64_t *seed)
{
    wl_matrix w;
    uint64_t rb = 0;
    float *x = malloc((size_t)ROWS * COLS * sizeof *x);

    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < (size_t)ROWS * COLS; i++)
        x[i] = tu_randf(seed);
    ck_assert_int_eq(wl_row_bytes((uint32_t)type, COLS, &rb), 0);
    w.type = type;
    w.rows = ROWS;
    w.cols = COLS;
    w.row_bytes = (size_t)rb;
    uint8_t *data = malloc(w.row_bytes * ROWS);
    ck_assert_ptr_nonnull(data);
    if (type == WOOLLY_TYPE_F32)
        memcpy(data, x, (size_t)ROWS * COLS * sizeof *x);
    else
        ck_assert_int_eq(wl_quantize_rows(type, x, data, ROWS, COLS), WOOLLY_OK);
    w.data = data;
    free(x);
    return w;
}

/* One token (the decode path, where threads take pieces of each other's
 * rows) and a few (the tiled path): with 1 to 7 threads, many times over,
 * each output equals the vec_dot of its row and token bit for bit. */
START_TEST(products_do_not_depend_on_threads)
{
    const wl_kernels *k = wl_kernels_get();
    uint64_t seed = 99;
    float x[N_TOK * COLS];
    float *want = malloc(sizeof(float) * ROWS * N_TOK), *got = malloc(sizeof(float) * ROWS * N_TOK);
    wl_acts acts;
    wl_pool *one = wl_pool_new(1);

    ck_assert_ptr_nonnull(one);
    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(got);
    acts.cap = wl_acts_bytes(N_TOK, COLS) + 4096;
    acts.data = aligned_alloc(64, acts.cap);
    ck_assert_ptr_nonnull(acts.data);
    for (size_t i = 0; i < N_TOK * COLS; i++)
        x[i] = tu_randf(&seed);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        wl_matrix w = random_matrix(types[ti], &seed);
        const wl_type_kernels *tk = &k->type[w.type];
        for (size_t nt = 1; nt <= N_TOK; nt += N_TOK - 1) {
            wl_acts_invalidate(&acts);
            wl_acts_prepare(&acts, one, w.type, x, COLS, nt, COLS);
            for (size_t t = 0; t < nt; t++)
                for (size_t r = 0; r < ROWS; r++)
                    want[t * ROWS + r] =
                        tk->vec_dot(COLS, w.data + r * w.row_bytes, (const char *)acts.data + t * acts.row_bytes);
            for (int nth = 1; nth <= 7; nth++) {
                wl_pool *pool = wl_pool_new(nth);
                ck_assert_ptr_nonnull(pool);
                for (int rep = 0; rep < 20; rep++) {
                    for (size_t i = 0; i < ROWS * nt; i++)
                        got[i] = -12345.0f;
                    wl_matmul(pool, &w, &acts, got, ROWS);
                    ck_assert_msg(memcmp(got, want, sizeof(float) * ROWS * nt) == 0,
                                  "%s, %zu token(s), %d threads (run %d): an output is not its row's vec_dot",
                                  woolly_type_name(w.type), nt, nth, rep);
                }
                wl_pool_free(pool);
            }
        }
        free((void *)w.data);
    }
    wl_pool_free(one);
    free(acts.data);
    free(want);
    free(got);
}
END_TEST

/* Weights read into memory: zeroed, writable, 2 MiB aligned (where huge
 * pages can back them), and an impossible size is refused, not a crash. */
START_TEST(weights_memory_is_aligned_and_zeroed)
{
    const size_t sizes[] = { 0, 1, (3u << 20) + 5, 4u << 20 };

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i] ? sizes[i] : 1;
        uint8_t *p = wl_alloc_huge(sizes[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % (2u << 20), 0);
        for (size_t j = 0; j < n; j += 4093)
            ck_assert_uint_eq(p[j], 0);
        ck_assert_uint_eq(p[n - 1], 0);
        memset(p, 0xA5, n);
        ck_assert_uint_eq(p[n - 1], 0xA5);
        wl_free_huge(p, sizes[i]);
    }
    ck_assert_ptr_null(wl_alloc_huge(SIZE_MAX - 4096));
    wl_free_huge(NULL, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("matmul");
    TCase *tc = tcase_create("threads");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, products_do_not_depend_on_threads);
    tcase_add_test(tc, weights_memory_is_aligned_and_zeroed);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
