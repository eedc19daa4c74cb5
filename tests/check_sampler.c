/* check_sampler.c - greedy, filters, temperature, penalty, reproducibility. */
#include <config.h>

#include <math.h>

#include "testutil.h"
#include "woolly.h"

static woolly_sampler *make(float temp, int32_t top_k, float top_p, float min_p, uint64_t seed, int32_t n)
{
    woolly_sampler_params p;
    woolly_sampler *s = NULL;

    woolly_sampler_params_init(&p, sizeof p);
    p.temperature = temp;
    p.top_k = top_k;
    p.top_p = top_p;
    p.min_p = min_p;
    p.seed = seed;
    ck_assert_int_eq(woolly_sampler_new(&p, n, &s), WOOLLY_OK);
    return s;
}

static void frequencies(woolly_sampler *s, const float *logits, int n, int draws, double *freq)
{
    for (int i = 0; i < n; i++)
        freq[i] = 0;
    for (int d = 0; d < draws; d++) {
        int32_t t;
        ck_assert_int_eq(woolly_sampler_sample(s, logits, &t), WOOLLY_OK);
        ck_assert(t >= 0 && t < n);
        freq[t] += 1.0 / draws;
    }
}

START_TEST(greedy_takes_the_argmax_lowest_id_on_ties)
{
    float l[5] = { 0.5f, 3.0f, -1.0f, 3.0f, NAN };
    woolly_sampler *s = make(0.0f, 40, 0.95f, 0.05f, 1, 5);
    int32_t t;

    ck_assert_int_eq(woolly_sampler_sample(s, l, &t), WOOLLY_OK);
    ck_assert_int_eq(t, 1);
    woolly_sampler_free(s);
}
END_TEST

START_TEST(temperature_one_follows_the_distribution)
{
    float l[3] = { logf(0.5f), logf(0.3f), logf(0.2f) };
    woolly_sampler *s = make(1.0f, 0, 1.0f, 0.0f, 7, 3);
    double f[3];

    frequencies(s, l, 3, 20000, f);
    ck_assert_msg(fabs(f[0] - 0.5) < 0.02 && fabs(f[1] - 0.3) < 0.02 && fabs(f[2] - 0.2) < 0.02,
                  "frequencies %.3f %.3f %.3f", f[0], f[1], f[2]);
    woolly_sampler_free(s);
}
END_TEST

START_TEST(low_temperature_sharpens)
{
    float l[3] = { logf(0.5f), logf(0.3f), logf(0.2f) };
    woolly_sampler *s = make(0.25f, 0, 1.0f, 0.0f, 7, 3);
    double f[3];

    frequencies(s, l, 3, 5000, f);
    ck_assert_msg(f[0] > 0.85, "p(0) = %.3f at temperature 0.25", f[0]);
    woolly_sampler_free(s);
}
END_TEST

START_TEST(filters_cut_the_tail)
{
    float l[4] = { logf(0.5f), logf(0.3f), logf(0.15f), logf(0.05f) };
    double f[4];
    woolly_sampler *s;

    s = make(1.0f, 2, 1.0f, 0.0f, 3, 4);          /* top-k 2 */
    frequencies(s, l, 4, 4000, f);
    ck_assert(f[2] == 0 && f[3] == 0 && f[0] > 0 && f[1] > 0);
    woolly_sampler_free(s);
    s = make(1.0f, 0, 0.7f, 0.0f, 3, 4);          /* top-p 0.7: 0.5 + 0.3 */
    frequencies(s, l, 4, 4000, f);
    ck_assert(f[2] == 0 && f[3] == 0 && f[1] > 0);
    woolly_sampler_free(s);
    s = make(1.0f, 0, 1.0f, 0.25f, 3, 4);         /* min-p: p >= 0.125 */
    frequencies(s, l, 4, 4000, f);
    ck_assert(f[3] == 0 && f[2] > 0);
    woolly_sampler_free(s);
    s = make(5.0f, 1, 1.0f, 0.0f, 3, 4);          /* top-k 1 is greedy at any temperature */
    frequencies(s, l, 4, 500, f);
    ck_assert(f[0] > 0.999 && f[1] == 0 && f[2] == 0 && f[3] == 0);
    woolly_sampler_free(s);
}
END_TEST

START_TEST(same_seed_same_tokens)
{
    float l[50];
    int32_t a[64], b[64], c[64];
    woolly_sampler *sa = make(1.0f, 0, 1.0f, 0.0f, 99, 50), *sb = make(1.0f, 0, 1.0f, 0.0f, 99, 50);
    woolly_sampler *sc = make(1.0f, 0, 1.0f, 0.0f, 100, 50);
    int differ = 0;

    for (int i = 0; i < 50; i++)
        l[i] = 0.0f;
    for (int i = 0; i < 64; i++) {
        woolly_sampler_sample(sa, l, &a[i]);
        woolly_sampler_sample(sb, l, &b[i]);
        woolly_sampler_sample(sc, l, &c[i]);
        ck_assert_int_eq(a[i], b[i]);
        differ |= a[i] != c[i];
    }
    ck_assert(differ);
    woolly_sampler_reset(sa);
    for (int i = 0; i < 64; i++) {
        int32_t t;
        woolly_sampler_sample(sa, l, &t);
        ck_assert_int_eq(t, b[i]);
    }
    woolly_sampler_free(sa);
    woolly_sampler_free(sb);
    woolly_sampler_free(sc);
}
END_TEST

START_TEST(repetition_penalty_discourages_repeats)
{
    woolly_sampler_params p;
    woolly_sampler *s;
    float l[3] = { 2.0f, 1.9f, -1.0f };
    int32_t t;

    woolly_sampler_params_init(&p, sizeof p);
    p.temperature = 0.0f;
    p.repeat_penalty = 1.2f;
    p.repeat_last_n = 4;
    ck_assert_int_eq(woolly_sampler_new(&p, 3, &s), WOOLLY_OK);
    woolly_sampler_sample(s, l, &t);
    ck_assert_int_eq(t, 0);                  /* 0 now in the history */
    woolly_sampler_sample(s, l, &t);
    ck_assert_int_eq(t, 1);                  /* 2 / 1.2 < 1.9 */
    for (int i = 0; i < 4; i++)
        woolly_sampler_accept(s, 2);         /* push 0 and 1 out of the window */
    woolly_sampler_sample(s, l, &t);
    ck_assert_int_eq(t, 0);
    woolly_sampler_free(s);
}
END_TEST

START_TEST(bad_parameters_are_refused)
{
    woolly_sampler_params p;
    woolly_sampler *s = (woolly_sampler *)&p;

    woolly_sampler_params_init(&p, sizeof p);
    p.temperature = -1.0f;
    ck_assert_int_eq(woolly_sampler_new(&p, 10, &s), WOOLLY_ERR_INVALID);
    ck_assert_ptr_null(s);
    woolly_sampler_params_init(&p, sizeof p);
    p.top_p = 1.5f;
    ck_assert_int_eq(woolly_sampler_new(&p, 10, &s), WOOLLY_ERR_INVALID);
    woolly_sampler_params_init(&p, sizeof p);
    p.repeat_penalty = 0.0f;
    ck_assert_int_eq(woolly_sampler_new(&p, 10, &s), WOOLLY_ERR_INVALID);
    woolly_sampler_params_init(&p, sizeof p);
    ck_assert_int_eq(woolly_sampler_new(&p, 0, &s), WOOLLY_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sampler");
    TCase *tc = tcase_create("sampling");

    tcase_add_test(tc, greedy_takes_the_argmax_lowest_id_on_ties);
    tcase_add_test(tc, temperature_one_follows_the_distribution);
    tcase_add_test(tc, low_temperature_sharpens);
    tcase_add_test(tc, filters_cut_the_tail);
    tcase_add_test(tc, same_seed_same_tokens);
    tcase_add_test(tc, repetition_penalty_discourages_repeats);
    tcase_add_test(tc, bad_parameters_are_refused);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
