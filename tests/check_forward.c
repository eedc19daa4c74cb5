/* check_forward.c - the forward pass on synthetic models: the logits do not
 * depend on batching or threads, the context is enforced, sessions are
 * independent.  (Conformance with llama.cpp: check_forward_ref.c.) */
#include <config.h>

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "woolly.h"

#define N_TOK 40

static woolly_model *tiny_model(woolly_type type, int n_threads, float rope_base)
{
    woolly_synth_params p;
    woolly_model *m = NULL;
    char err[WOOLLY_ERRBUF_SIZE];

    woolly_synth_params_init(&p, sizeof p);
    p.n_vocab = 300;
    p.n_embd = woolly_type_block_size(type) > 64 ? 256 : 64;   /* whole K-quant blocks */
    p.n_layer = 2;
    p.n_head = 4;
    p.n_head_kv = 2;
    p.n_ff = 2 * p.n_embd;
    p.n_ctx = 128;
    p.type = type;
    p.n_threads = n_threads;
    p.rope_freq_base = rope_base;
    ck_assert_msg(woolly_model_synth(&p, &m, err, sizeof err) == WOOLLY_OK, "%s", err);
    return m;
}

static woolly_session *new_session(const woolly_model *m, int n_threads, uint32_t n_batch,
                                   woolly_type kv, int logits_all)
{
    woolly_session_params sp;
    woolly_session *s = NULL;
    char err[WOOLLY_ERRBUF_SIZE];

    woolly_session_params_init(&sp, sizeof sp);
    sp.n_threads = n_threads;
    sp.n_batch = n_batch;
    sp.kv_type = kv;
    sp.logits_all = logits_all;
    sp.n_ctx = 64;
    ck_assert_msg(woolly_session_new(m, &sp, &s, err, sizeof err) == WOOLLY_OK, "%s", err);
    return s;
}

static void make_tokens(int32_t *tok, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        tok[i] = (int32_t)(tu_rand(&seed) % 300);
}

/* Feed TOK in pieces of the sizes SPLITS gives (cycled), keeping every row. */
static float *run_split(const woolly_model *m, int n_threads, uint32_t n_batch, const int32_t *tok,
                        const size_t *splits, size_t n_splits)
{
    woolly_session *s = new_session(m, n_threads, n_batch, WOOLLY_TYPE_F32, 1);
    float *rows = malloc(N_TOK * 300 * sizeof *rows);
    size_t done = 0, k = 0;

    while (done < N_TOK) {
        size_t n = splits[k++ % n_splits];
        if (n > N_TOK - done)
            n = N_TOK - done;
        ck_assert_int_eq(woolly_session_eval(s, tok + done, n), WOOLLY_OK);
        for (size_t i = 0; i < n; i++) {
            const float *l = woolly_session_logits(s, (int64_t)i);
            ck_assert_ptr_nonnull(l);
            memcpy(rows + (done + i) * 300, l, 300 * sizeof *l);
        }
        done += n;
    }
    ck_assert_uint_eq(woolly_session_n_past(s), N_TOK);
    woolly_session_free(s);
    return rows;
}

static void check_invariance(woolly_type type)
{
    static const size_t whole[] = { N_TOK }, ones[] = { 1 }, odd[] = { 3, 1, 7, 2, 11 };
    woolly_model *m = tiny_model(type, 1, 10000.0f);
    int32_t tok[N_TOK];

    make_tokens(tok, N_TOK, 5);
    float *ref = run_split(m, 1, 64, tok, whole, 1);
    for (size_t i = 0; i < N_TOK * 300; i++)
        ck_assert_msg(isfinite(ref[i]), "logit %zu is not finite", i);
    struct { int threads; uint32_t batch; const size_t *splits; size_t n; } runs[] = {
        { 2, 64, whole, 1 }, { 1, 64, ones, 1 }, { 2, 64, ones, 1 }, { 1, 5, whole, 1 },
        { 2, 5, odd, 5 }, { 3, 16, odd, 5 },
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        float *got = run_split(m, runs[r].threads, runs[r].batch, tok, runs[r].splits, runs[r].n);
        ck_assert_msg(memcmp(got, ref, N_TOK * 300 * sizeof *got) == 0,
                      "%s: run %zu (%d threads, batch %u) differs from the whole prompt at once",
                      woolly_type_name(type), r, runs[r].threads, runs[r].batch);
        free(got);
    }
    free(ref);
    woolly_model_free(m);
}

START_TEST(logits_do_not_depend_on_batches_or_threads_f32)
{
    check_invariance(WOOLLY_TYPE_F32);
}
END_TEST

START_TEST(logits_do_not_depend_on_batches_or_threads_f16)
{
    check_invariance(WOOLLY_TYPE_F16);
}
END_TEST

START_TEST(logits_do_not_depend_on_batches_or_threads_bf16)
{
    check_invariance(WOOLLY_TYPE_BF16);
}
END_TEST

START_TEST(synthetic_weights_do_not_depend_on_threads)
{
    woolly_model *a = tiny_model(WOOLLY_TYPE_F32, 1, 10000.0f), *b = tiny_model(WOOLLY_TYPE_F32, 3, 10000.0f);
    woolly_session *sa = new_session(a, 1, 64, WOOLLY_TYPE_F32, 0), *sb = new_session(b, 1, 64, WOOLLY_TYPE_F32, 0);
    int32_t tok[8];

    make_tokens(tok, 8, 7);
    ck_assert_int_eq(woolly_session_eval(sa, tok, 8), WOOLLY_OK);
    ck_assert_int_eq(woolly_session_eval(sb, tok, 8), WOOLLY_OK);
    ck_assert(memcmp(woolly_session_logits(sa, -1), woolly_session_logits(sb, -1), 300 * sizeof(float)) == 0);
    woolly_session_free(sa);
    woolly_session_free(sb);
    woolly_model_free(a);
    woolly_model_free(b);
}
END_TEST

START_TEST(position_matters)
{
    /* The same token at two positions gives different logits: RoPE and the
     * causal mask are at work. */
    woolly_model *m = tiny_model(WOOLLY_TYPE_F32, 1, 10000.0f);
    woolly_session *s = new_session(m, 1, 64, WOOLLY_TYPE_F32, 1);
    int32_t tok[3] = { 17, 17, 17 };

    ck_assert_int_eq(woolly_session_eval(s, tok, 3), WOOLLY_OK);
    ck_assert(memcmp(woolly_session_logits(s, 0), woolly_session_logits(s, 1), 300 * sizeof(float)) != 0);
    ck_assert(memcmp(woolly_session_logits(s, 1), woolly_session_logits(s, 2), 300 * sizeof(float)) != 0);
    woolly_session_free(s);
    woolly_model_free(m);
}
END_TEST

START_TEST(f16_cache_is_close_to_f32)
{
    woolly_model *m = tiny_model(WOOLLY_TYPE_F32, 1, 10000.0f);
    woolly_session *a = new_session(m, 1, 64, WOOLLY_TYPE_F32, 0), *b = new_session(m, 2, 64, WOOLLY_TYPE_F16, 0);
    int32_t tok[20];
    float maxdiff = 0, maxabs = 0;

    make_tokens(tok, 20, 3);
    ck_assert_int_eq(woolly_session_eval(a, tok, 20), WOOLLY_OK);
    ck_assert_int_eq(woolly_session_eval(b, tok, 20), WOOLLY_OK);
    const float *la = woolly_session_logits(a, -1), *lb = woolly_session_logits(b, -1);
    for (int i = 0; i < 300; i++) {
        maxdiff = fmaxf(maxdiff, fabsf(la[i] - lb[i]));
        maxabs = fmaxf(maxabs, fabsf(la[i]));
    }
    ck_assert_float_gt(maxdiff, 0.0f);               /* it really is another cache */
    ck_assert_msg(maxdiff < 1e-2f * maxabs, "f16 cache moved logits by %g", (double)maxdiff);
    woolly_session_free(a);
    woolly_session_free(b);
    woolly_model_free(m);
}
END_TEST

START_TEST(truncate_then_continue_matches)
{
    woolly_model *m = tiny_model(WOOLLY_TYPE_F32, 1, 10000.0f);
    woolly_session *s = new_session(m, 2, 64, WOOLLY_TYPE_F32, 0);
    int32_t tok[12], other[4] = { 1, 2, 3, 4 };
    float want[300];

    make_tokens(tok, 12, 9);
    ck_assert_int_eq(woolly_session_eval(s, tok, 12), WOOLLY_OK);
    memcpy(want, woolly_session_logits(s, -1), sizeof want);
    ck_assert_int_eq(woolly_session_truncate(s, 8), WOOLLY_OK);
    ck_assert_uint_eq(woolly_session_n_past(s), 8);
    ck_assert_int_eq(woolly_session_eval(s, other, 4), WOOLLY_OK);
    ck_assert(memcmp(want, woolly_session_logits(s, -1), sizeof want) != 0);
    ck_assert_int_eq(woolly_session_truncate(s, 8), WOOLLY_OK);
    ck_assert_int_eq(woolly_session_eval(s, tok + 8, 4), WOOLLY_OK);
    ck_assert(memcmp(want, woolly_session_logits(s, -1), sizeof want) == 0);
    ck_assert_int_eq(woolly_session_truncate(s, 13), WOOLLY_ERR_RANGE);
    ck_assert_int_eq(woolly_session_truncate(s, 0), WOOLLY_OK);
    ck_assert_uint_eq(woolly_session_n_past(s), 0);
    woolly_session_free(s);
    woolly_model_free(m);
}
END_TEST

START_TEST(context_and_vocabulary_are_enforced)
{
    woolly_model *m = tiny_model(WOOLLY_TYPE_F32, 1, 10000.0f);
    woolly_session *s = new_session(m, 1, 64, WOOLLY_TYPE_F32, 0);
    int32_t tok[65] = { 0 }, bad[2] = { 5, 300 }, neg[1] = { -1 };

    ck_assert_uint_eq(woolly_session_n_ctx(s), 64);
    ck_assert_int_eq(woolly_session_eval(s, tok, 65), WOOLLY_ERR_RANGE);
    ck_assert_ptr_nonnull(strstr(woolly_session_errmsg(s), "do not fit"));
    ck_assert_uint_eq(woolly_session_n_past(s), 0);
    ck_assert_int_eq(woolly_session_eval(s, bad, 2), WOOLLY_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(woolly_session_errmsg(s), "token 300"));
    ck_assert_int_eq(woolly_session_eval(s, neg, 1), WOOLLY_ERR_INVALID);
    ck_assert_uint_eq(woolly_session_n_past(s), 0);
    ck_assert_int_eq(woolly_session_eval(s, tok, 64), WOOLLY_OK);
    ck_assert_int_eq(woolly_session_eval(s, tok, 1), WOOLLY_ERR_RANGE);
    ck_assert_ptr_null(woolly_session_logits(s, 0));   /* not kept without logits_all */
    ck_assert_ptr_nonnull(woolly_session_logits(s, -1));
    woolly_session_free(s);
    woolly_model_free(m);
}
END_TEST

START_TEST(sessions_of_one_model_are_independent)
{
    woolly_model *m = tiny_model(WOOLLY_TYPE_F32, 1, 10000.0f);
    woolly_session *a = new_session(m, 1, 64, WOOLLY_TYPE_F32, 0), *b = new_session(m, 1, 64, WOOLLY_TYPE_F32, 0);
    int32_t t1[5] = { 1, 2, 3, 4, 5 }, t2[3] = { 9, 8, 7 };
    float want[300];

    ck_assert_int_eq(woolly_session_eval(a, t1, 5), WOOLLY_OK);
    memcpy(want, woolly_session_logits(a, -1), sizeof want);
    ck_assert_int_eq(woolly_session_eval(b, t2, 3), WOOLLY_OK);
    ck_assert(memcmp(want, woolly_session_logits(a, -1), sizeof want) == 0);
    ck_assert_uint_eq(woolly_session_n_past(b), 3);
    woolly_session_free(a);
    woolly_session_free(b);
    woolly_model_free(m);
}
END_TEST

/* woolly_session_get_stats: nothing with one thread; with several, every
 * eval adds steps, and the calling thread's waiting is part of its time in
 * them.  The caller's size is respected and bad arguments refused. */
START_TEST(threads_report_their_steps)
{
    woolly_model *m = tiny_model(WOOLLY_TYPE_F32, 1, 10000.0f);
    woolly_session *one = new_session(m, 1, 64, WOOLLY_TYPE_F32, 0), *three = new_session(m, 3, 64, WOOLLY_TYPE_F32, 0);
    int32_t tok[5] = { 1, 2, 3, 4, 5 };
    woolly_session_stats st, before;

    st.size = sizeof st;
    ck_assert_int_eq(woolly_session_eval(one, tok, 5), WOOLLY_OK);
    ck_assert_int_eq(woolly_session_get_stats(one, &st), WOOLLY_OK);
    ck_assert(st.steps == 0 && st.step_seconds == 0 && st.wait_seconds == 0);

    before.size = sizeof before;
    ck_assert_int_eq(woolly_session_get_stats(three, &before), WOOLLY_OK);
    ck_assert(before.steps == 0 && before.step_seconds == 0);
    ck_assert_int_eq(woolly_session_eval(three, tok, 5), WOOLLY_OK);
    ck_assert_int_eq(woolly_session_get_stats(three, &st), WOOLLY_OK);
    ck_assert_uint_gt(st.steps, 0);
    ck_assert(st.step_seconds > 0 && st.wait_seconds >= 0 && st.wait_seconds <= st.step_seconds);
    before = st;
    ck_assert_int_eq(woolly_session_eval(three, tok, 1), WOOLLY_OK);
    ck_assert_int_eq(woolly_session_get_stats(three, &st), WOOLLY_OK);
    ck_assert_uint_gt(st.steps, before.steps);
    ck_assert(st.step_seconds > before.step_seconds && st.wait_seconds >= before.wait_seconds);

    /* A caller that knows only size and steps gets those. */
    st.step_seconds = st.wait_seconds = -1;
    st.size = offsetof(woolly_session_stats, step_seconds);
    ck_assert_int_eq(woolly_session_get_stats(three, &st), WOOLLY_OK);
    ck_assert(st.steps >= before.steps && st.step_seconds == -1 && st.wait_seconds == -1);
    st.size = 0;
    ck_assert_int_eq(woolly_session_get_stats(three, &st), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_session_get_stats(NULL, &st), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_session_get_stats(three, NULL), WOOLLY_ERR_INVALID);
    woolly_session_free(one);
    woolly_session_free(three);
    woolly_model_free(m);
}
END_TEST

START_TEST(synthetic_sizes_are_validated)
{
    woolly_synth_params p;
    woolly_model *m = (woolly_model *)&p;
    char err[WOOLLY_ERRBUF_SIZE];

    woolly_synth_params_init(&p, sizeof p);
    p.n_head = 7;
    ck_assert_int_eq(woolly_model_synth(&p, &m, err, sizeof err), WOOLLY_ERR_INVALID);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err, "not divisible by the 7 heads"));
    woolly_synth_params_init(&p, sizeof p);
    p.n_head_kv = 3;
    ck_assert_int_eq(woolly_model_synth(&p, &m, err, sizeof err), WOOLLY_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "KV heads"));
    woolly_synth_params_init(&p, sizeof p);
    p.n_layer = 0;
    ck_assert_int_eq(woolly_model_synth(&p, &m, err, sizeof err), WOOLLY_ERR_INVALID);
    /* A 7B shape in F32 at a size no machine here has: refused with the number. */
    woolly_synth_params_init(&p, sizeof p);
    p.n_vocab = 32000; p.n_embd = 16384; p.n_layer = 320; p.n_head = 128; p.n_head_kv = 128; p.n_ff = 44032;
    ck_assert_int_eq(woolly_model_synth(&p, &m, err, sizeof err), WOOLLY_ERR_NOMEM);
    ck_assert_ptr_nonnull(strstr(err, "GiB"));
    ck_assert_uint_gt(woolly_synth_bytes(&p), (uint64_t)1 << 40);
}
END_TEST

/* The matrices the loads of a test have repacked (their log messages). */
static unsigned long repacked_matrices;

static void count_repacked(woolly_log_level level, const char *message, void *user)
{
    unsigned long n;

    (void)level, (void)user;
    if (sscanf(message, "repacked %lu matrices", &n) == 1)
        repacked_matrices += n;
}

/* The model woolly_synth_write() puts in a file is the one
 * woolly_model_synth() builds in memory: same logits, bit for bit; and
 * so are the file mapped, read into memory, and either with its matrices
 * repacked for the kernels (in place, or copied from the mapping) or not. */
static void check_synth_file(woolly_type type)
{
    woolly_synth_params p;
    woolly_model_params mp;
    woolly_model *mem = NULL, *file = NULL, *read = NULL, *plain = NULL;
    char err[WOOLLY_ERRBUF_SIZE], path[] = "/tmp/woolly-synth-XXXXXX";
    int32_t tok[6] = { 1, 40, 7, 99, 3, 250 };
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    woolly_synth_params_init(&p, sizeof p);
    p.n_vocab = 320;   /* whole strips of 16 rows: the output repacked too */
    p.n_embd = woolly_type_block_size(type) > 64 ? 256 : 64;   /* whole K-quant blocks */
    p.n_layer = 2;
    p.n_head = 4;
    p.n_head_kv = 2;
    p.n_ff = 2 * p.n_embd;
    p.n_ctx = 128;
    p.type = type;
    p.seed = 7;
    ck_assert_msg(woolly_synth_write(&p, path, err, sizeof err) == WOOLLY_OK, "%s", err);
    repacked_matrices = 0;
    woolly_log_set(count_repacked, NULL);
    ck_assert_msg(woolly_model_synth(&p, &mem, err, sizeof err) == WOOLLY_OK, "%s", err);
    ck_assert_msg(woolly_model_load(path, NULL, &file, err, sizeof err) == WOOLLY_OK, "%s", err);
    /* The same file read into memory (huge pages) instead of mapped. */
    woolly_model_params_init(&mp, sizeof mp);
    mp.use_mmap = 0;
    ck_assert_msg(woolly_model_load(path, &mp, &read, err, sizeof err) == WOOLLY_OK, "%s", err);
    /* Q4_0, Q4_K and Q6_K are repacked, where the kernels are
     * AVX512-VNNI's: the 2 layers' 7 matrices and the output, in each of
     * the three models. */
    const int repacks = (type == WOOLLY_TYPE_Q4_0 || type == WOOLLY_TYPE_Q4_K || type == WOOLLY_TYPE_Q6_K) &&
                        (woolly_isa_active() & WOOLLY_ISA_AVX512_VNNI);
    const unsigned long expect = repacks ? 3 * 15 : 0;
    ck_assert_uint_eq(repacked_matrices, expect);
    mp.use_mmap = 1;
    mp.repack = 0;
    ck_assert_msg(woolly_model_load(path, &mp, &plain, err, sizeof err) == WOOLLY_OK, "%s", err);
    ck_assert_uint_eq(repacked_matrices, expect);
    woolly_log_set(NULL, NULL);
    woolly_model_info fi = { .size = sizeof fi }, pi = { .size = sizeof pi };
    ck_assert_int_eq(woolly_model_get_info(file, &fi), WOOLLY_OK);
    ck_assert_int_eq(woolly_model_get_info(plain, &pi), WOOLLY_OK);
    /* Every matrix but the token embeddings, or nothing: a layer has
     * 2 * (n_embd + kv + n_ff) rows of n_embd (q, k, v, o, gate, up; kv is
     * n_embd / 2 here) and n_embd rows of n_ff (down), the output 320. */
    const uint64_t row = p.n_embd / woolly_type_block_size(type) * woolly_type_block_bytes(type);
    const uint64_t layer = (2 * p.n_embd + p.n_embd + 2 * p.n_ff) * row + p.n_embd * 2 * row;
    ck_assert_uint_eq(fi.n_bytes_repacked, repacks ? 2 * layer + 320 * row : 0);
    ck_assert_uint_eq(pi.n_bytes_repacked, 0);
    woolly_session *a = new_session(mem, 1, 64, WOOLLY_TYPE_F32, 0), *b = new_session(file, 2, 64, WOOLLY_TYPE_F32, 0);
    woolly_session *c = new_session(read, 2, 64, WOOLLY_TYPE_F32, 0), *d = new_session(plain, 2, 64, WOOLLY_TYPE_F32, 0);
    woolly_session *sessions[4] = { a, b, c, d };
    static const char *const what[4] = { "the model in memory", "the file mapped", "the file read into memory",
                                         "the file mapped without repacking" };
    /* The prompt (tiles of many tokens), then a token alone. */
    for (int step = 0; step < 2; step++) {
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(step ? woolly_session_eval(sessions[i], tok + 5, 1) : woolly_session_eval(sessions[i], tok, 5),
                             WOOLLY_OK);
        for (int i = 1; i < 4; i++)
            ck_assert_msg(memcmp(woolly_session_logits(a, -1), woolly_session_logits(sessions[i], -1),
                                 p.n_vocab * sizeof(float)) == 0,
                          "%s: %s differs from %s (%s)", woolly_type_name(type), what[i], what[0],
                          step ? "one token" : "a prompt");
    }
    for (int i = 0; i < 4; i++)
        woolly_session_free(sessions[i]);
    woolly_model_free(mem);
    woolly_model_free(file);
    woolly_model_free(read);
    woolly_model_free(plain);
    unlink(path);
}

START_TEST(synth_file_is_the_model_in_memory)
{
    check_synth_file(WOOLLY_TYPE_F32);
    check_synth_file(WOOLLY_TYPE_Q4_0);
    check_synth_file(WOOLLY_TYPE_Q8_0);
    check_synth_file(WOOLLY_TYPE_Q4_K);
    check_synth_file(WOOLLY_TYPE_Q6_K);
}
END_TEST

/* A generated token reads every weight but the other tokens' embeddings:
 * 299 of the 300 rows of a tiny model's token_embd (F32: 64 floats; Q8_0:
 * 2 blocks of 34 bytes), which its untied output does not share. */
START_TEST(a_token_reads_one_embedding_row)
{
    static const struct {
        woolly_type type;
        uint64_t row_bytes;
    } cases[] = { { WOOLLY_TYPE_F32, 64 * 4 }, { WOOLLY_TYPE_Q8_0, 2 * 34 } };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        woolly_model *m = tiny_model(cases[i].type, 1, 10000.0f);
        woolly_model_info info = { .size = sizeof info };
        ck_assert_int_eq(woolly_model_get_info(m, &info), WOOLLY_OK);
        ck_assert_uint_eq(info.n_bytes - info.n_bytes_token, 299 * cases[i].row_bytes);
        /* an older caller's smaller struct is filled up to its size */
        woolly_model_info old = { .size = offsetof(woolly_model_info, n_bytes_token) };
        old.n_bytes_token = 7;
        ck_assert_int_eq(woolly_model_get_info(m, &old), WOOLLY_OK);
        ck_assert_uint_eq(old.n_bytes, info.n_bytes);
        ck_assert_uint_eq(old.n_bytes_token, 7);
        woolly_model_free(m);
    }
}
END_TEST

START_TEST(quantized_synthetic_models_are_invariant)
{
    check_invariance(WOOLLY_TYPE_Q4_0);
    check_invariance(WOOLLY_TYPE_Q6_K);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("forward");
    TCase *tc = tcase_create("invariance");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, logits_do_not_depend_on_batches_or_threads_f32);
    tcase_add_test(tc, logits_do_not_depend_on_batches_or_threads_f16);
    tcase_add_test(tc, logits_do_not_depend_on_batches_or_threads_bf16);
    tcase_add_test(tc, synthetic_weights_do_not_depend_on_threads);
    tcase_add_test(tc, quantized_synthetic_models_are_invariant);
    tcase_add_test(tc, synth_file_is_the_model_in_memory);
    suite_add_tcase(s, tc);
    tc = tcase_create("sessions");
    tcase_add_test(tc, position_matters);
    tcase_add_test(tc, f16_cache_is_close_to_f32);
    tcase_add_test(tc, truncate_then_continue_matches);
    tcase_add_test(tc, context_and_vocabulary_are_enforced);
    tcase_add_test(tc, sessions_of_one_model_are_independent);
    tcase_add_test(tc, threads_report_their_steps);
    tcase_add_test(tc, synthetic_sizes_are_validated);
    tcase_add_test(tc, a_token_reads_one_embedding_row);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
