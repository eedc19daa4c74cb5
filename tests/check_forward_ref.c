/* check_forward_ref.c - conformance with llama.cpp on the reference set:
 * every case of manifest.json, teacher-forced (README of the set): each row
 * of logits within the case's tol_max_abs, and the same arg-max.  Skipped
 * (77) when the reference set is absent. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refdata.h"
#include "testutil.h"
#include "woolly.h"

static const char *dir;
static ref_case *cases;
static size_t n_cases;

static size_t argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

/* Feed TOK[0..n-2]: the first N_FIRST at once, the rest in pieces of STEP;
 * return every row of logits (n-1 rows), or NULL when the model cannot load
 * because woolly cannot compute its types. */
static float *teacher_force(const ref_case *c, const int32_t *tok, size_t n, size_t n_first,
                            size_t step, int n_threads, uint32_t n_batch)
{
    char path[1024], err[WOOLLY_ERRBUF_SIZE];
    woolly_model_params mp;
    woolly_session_params sp;
    woolly_model *m;
    woolly_session *s;
    woolly_model_info info = { .size = sizeof info };
    woolly_status st;
    float *rows;

    snprintf(path, sizeof path, "%s/%s", dir, c->model);
    woolly_model_params_init(&mp, sizeof mp);
    mp.n_threads = n_threads;
    st = woolly_model_load(path, &mp, &m, err, sizeof err);
    ck_assert_msg(st == WOOLLY_OK, "%s: %s", c->name, err);
    ck_assert_int_eq(woolly_model_get_info(m, &info), WOOLLY_OK);
    ck_assert_uint_eq(info.n_vocab, c->n_vocab);
    /* tied embeddings are read whole, as the output; else one row of them */
    ck_assert_msg(strstr(c->name, "tied") ? info.n_bytes_token == info.n_bytes : info.n_bytes_token < info.n_bytes,
                  "%s: %llu of %llu bytes a token", c->name, (unsigned long long)info.n_bytes_token,
                  (unsigned long long)info.n_bytes);
    woolly_session_params_init(&sp, sizeof sp);
    sp.n_ctx = (uint32_t)n;
    sp.n_batch = n_batch;
    sp.logits_all = 1;
    ck_assert_msg(woolly_session_new(m, &sp, &s, err, sizeof err) == WOOLLY_OK, "%s", err);
    rows = malloc((n - 1) * c->n_vocab * sizeof *rows);
    for (size_t done = 0; done < n - 1;) {
        size_t k = done == 0 ? n_first : step;
        if (k > n - 1 - done)
            k = n - 1 - done;
        ck_assert_msg(woolly_session_eval(s, tok + done, k) == WOOLLY_OK, "%s", woolly_session_errmsg(s));
        for (size_t i = 0; i < k; i++)
            memcpy(rows + (done + i) * c->n_vocab, woolly_session_logits(s, (int64_t)i),
                   c->n_vocab * sizeof *rows);
        done += k;
    }
    woolly_session_free(s);
    woolly_model_free(m);
    return rows;
}

START_TEST(case_matches_llama_cpp)
{
    const ref_case *c = &cases[_i];
    size_t n_tok, worst_row = 0;
    int32_t *tok = ref_load_tokens(dir, c->name, &n_tok);
    double worst = 0;

    ck_assert_msg(tok && n_tok >= 2, "%s: no tokens", c->name);
    float *want = ref_load_logits(dir, c->name, n_tok - 1, c->n_vocab);
    ck_assert_msg(want, "%s: cannot read the reference logits", c->name);
    float *got = teacher_force(c, tok, n_tok, c->n_prompt, 1, 1, 512);
    int argmax_ok = 1;
    for (size_t r = 0; r < n_tok - 1; r++) {
        const float *g = got + r * c->n_vocab, *w = want + r * c->n_vocab;
        for (size_t i = 0; i < c->n_vocab; i++) {
            double d = fabs((double)g[i] - w[i]);
            if (!(d <= worst)) {
                worst = d;
                worst_row = r;
            }
        }
        if (argmax(g, c->n_vocab) != argmax(w, c->n_vocab) && argmax_ok) {
            argmax_ok = 0;
            printf("%-24s row %zu: arg-max %zu, llama.cpp %zu\n", c->name, r, argmax(g, c->n_vocab),
                   argmax(w, c->n_vocab));
        }
    }
    printf("%-24s rows %3zu  max|diff| %.3g  (tolerance %.3g, %.1f%% of it)\n", c->name, n_tok - 1,
           worst, c->tol_max_abs, 100 * worst / c->tol_max_abs);
    ck_assert_msg(argmax_ok, "%s: an arg-max differs from llama.cpp's", c->name);
    ck_assert_msg(worst <= c->tol_max_abs, "%s: row %zu differs by %g > %g", c->name, worst_row, worst,
                  c->tol_max_abs);

    /* The same rows, bit for bit, in batches of 16 on 2 threads. */
    float *again = teacher_force(c, tok, n_tok, 16, 3, 2, 16);
    ck_assert_msg(memcmp(again, got, (n_tok - 1) * c->n_vocab * sizeof *got) == 0,
                  "%s: logits depend on batching or threads", c->name);
    free(again);
    free(got);
    free(want);
    free(tok);
}
END_TEST

/* End to end: the prompt, tokenized by woolly, is llama.cpp's prompt, and
 * greedy generation from it gives llama.cpp's greedy tokens. */
START_TEST(prompt_and_greedy_generation_match)
{
    const ref_case *c = &cases[_i];
    char path[1024], err[WOOLLY_ERRBUF_SIZE];
    woolly_model *m;
    woolly_session *s;
    woolly_sampler *smp;
    woolly_sampler_params spp;
    size_t n_tok, n;
    int32_t *want = ref_load_tokens(dir, c->name, &n_tok), *got;

    snprintf(path, sizeof path, "%s/%s", dir, c->model);
    ck_assert_msg(woolly_model_load(path, NULL, &m, err, sizeof err) == WOOLLY_OK, "%s", err);
    ck_assert_ptr_nonnull(woolly_model_vocab(m));
    got = malloc((n_tok + 64) * sizeof *got);
    ck_assert_int_eq(woolly_tokenize(woolly_model_vocab(m), c->prompt, strlen(c->prompt),
                                     WOOLLY_TOKENIZE_ADD_SPECIAL, got, n_tok + 64, &n), WOOLLY_OK);
    ck_assert_msg(n == c->n_prompt, "%s: the prompt is %zu tokens, llama.cpp made %u", c->name, n, c->n_prompt);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s: prompt token %zu is %d, llama.cpp's %d", c->name, i, got[i], want[i]);
    ck_assert_msg(woolly_session_new(m, NULL, &s, err, sizeof err) == WOOLLY_OK, "%s", err);
    woolly_sampler_params_init(&spp, sizeof spp);
    spp.temperature = 0.0f;
    ck_assert_int_eq(woolly_sampler_new(&spp, (int32_t)c->n_vocab, &smp), WOOLLY_OK);
    ck_assert_int_eq(woolly_session_eval(s, got, n), WOOLLY_OK);
    for (size_t i = n; i < n_tok; i++) {
        int32_t t;
        woolly_sampler_sample(smp, woolly_session_logits(s, -1), &t);
        ck_assert_msg(t == want[i], "%s: generated token %zu is %d, llama.cpp's %d", c->name, i - n, t, want[i]);
        ck_assert_int_eq(woolly_session_eval(s, &t, 1), WOOLLY_OK);
    }
    woolly_sampler_free(smp);
    woolly_session_free(s);
    woolly_model_free(m);
    free(got);
    free(want);
}
END_TEST

int main(void)
{
    Suite *s;
    TCase *tc;

    dir = tu_ref_dir();
    if (!dir || !(cases = ref_load_manifest(dir, &n_cases)) || n_cases == 0) {
        printf("reference set not found (WOOLLY_REF_DIR=%s): skipped\n", dir ? dir : "");
        return 77;
    }
    s = suite_create("forward-ref");
    tc = tcase_create("manifest");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, case_matches_llama_cpp, 0, (int)n_cases);
    tcase_add_loop_test(tc, prompt_and_greedy_generation_match, 0, (int)n_cases);
    suite_add_tcase(s, tc);
    int rc = tu_run(s);
    ref_free_manifest(cases, n_cases);
    return rc;
}
