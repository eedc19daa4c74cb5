/* check_quantize_ref.c - `woolly quantize` against llama-quantize: the F32
 * reference model quantized to each type of the reference set gives the
 * same tensor types and the same bytes as llama.cpp's files.  Skipped (77)
 * when the reference set is absent. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "woolly.h"

static const char *dir;

static const struct { const char *suffix; woolly_type type; woolly_quant_mix mix; } cases[] = {
    { "f16", WOOLLY_TYPE_F16, WOOLLY_MIX_NONE },   { "bf16", WOOLLY_TYPE_BF16, WOOLLY_MIX_NONE },
    { "q8_0", WOOLLY_TYPE_Q8_0, WOOLLY_MIX_NONE }, { "q4_0", WOOLLY_TYPE_Q4_0, WOOLLY_MIX_NONE },
    { "q4_1", WOOLLY_TYPE_Q4_1, WOOLLY_MIX_NONE }, { "q5_0", WOOLLY_TYPE_Q5_0, WOOLLY_MIX_NONE },
    { "q5_1", WOOLLY_TYPE_Q5_1, WOOLLY_MIX_NONE }, { "q2_k", WOOLLY_TYPE_Q2_K, WOOLLY_MIX_NONE },
    { "q3_k", WOOLLY_TYPE_Q3_K, WOOLLY_MIX_NONE }, { "q4_k", WOOLLY_TYPE_Q4_K, WOOLLY_MIX_NONE },
    { "q5_k", WOOLLY_TYPE_Q5_K, WOOLLY_MIX_NONE }, { "q6_k", WOOLLY_TYPE_Q6_K, WOOLLY_MIX_NONE },
    { "q4_k_m", WOOLLY_TYPE_Q4_K, WOOLLY_MIX_Q4_K_M }, { "q5_k_m", WOOLLY_TYPE_Q5_K, WOOLLY_MIX_Q5_K_M },
};

static void compare(const char *ours, const char *theirs, const char *label)
{
    woolly_gguf *a, *b;
    char err[WOOLLY_ERRBUF_SIZE];

    ck_assert_msg(woolly_gguf_open(ours, &a, err, sizeof err) == WOOLLY_OK, "%s", err);
    ck_assert_msg(woolly_gguf_open(theirs, &b, err, sizeof err) == WOOLLY_OK, "%s", err);
    ck_assert_uint_eq(woolly_gguf_tensor_count(a), woolly_gguf_tensor_count(b));
    for (size_t i = 0; i < woolly_gguf_tensor_count(b); i++) {
        woolly_gguf_tensor tb, ta;
        woolly_gguf_tensor_info(b, i, &tb);
        int64_t j = woolly_gguf_find_tensor(a, tb.name);
        ck_assert_msg(j >= 0, "%s: %s missing", label, tb.name);
        woolly_gguf_tensor_info(a, (size_t)j, &ta);
        ck_assert_msg(ta.type == tb.type, "%s: %s is %s, llama.cpp made %s", label, tb.name,
                      woolly_type_name(ta.type), woolly_type_name(tb.type));
        ck_assert_uint_eq(ta.size, tb.size);
        ck_assert_msg(memcmp(ta.data, tb.data, (size_t)ta.size) == 0, "%s: the bytes of %s differ", label,
                      tb.name);
    }
    int64_t k = woolly_gguf_find_key(a, "general.file_type"), l = woolly_gguf_find_key(b, "general.file_type");
    uint64_t fa = 0, fb = 0;
    ck_assert(k >= 0 && l >= 0);
    woolly_gguf_kv_uint(a, (size_t)k, &fa);
    woolly_gguf_kv_uint(b, (size_t)l, &fb);
    if (strcmp(label, "q3_k") && strcmp(label, "q4_k") && strcmp(label, "q5_k"))   /* --pure K: _S or _M names */
        ck_assert_msg(fa == fb, "%s: file type %llu, llama.cpp %llu", label, (unsigned long long)fa,
                      (unsigned long long)fb);
    woolly_gguf_free(a);
    woolly_gguf_free(b);
}

START_TEST(quantize_matches_llama_quantize)
{
    char in[1024], ref[1024], out[] = "/tmp/woolly-quant-XXXXXX", err[WOOLLY_ERRBUF_SIZE];
    woolly_quantize_params p;
    int fd = mkstemp(out);

    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(in, sizeof in, "%s/models/llama-spm-gqa.gguf", dir);
    snprintf(ref, sizeof ref, "%s/models/llama-spm-gqa-%s.gguf", dir, cases[_i].suffix);
    woolly_quantize_params_init(&p, sizeof p);
    p.type = cases[_i].type;
    p.mix = cases[_i].mix;
    p.n_threads = 2;
    ck_assert_msg(woolly_quantize(in, out, &p, err, sizeof err) == WOOLLY_OK, "%s", err);
    compare(out, ref, cases[_i].suffix);
    unlink(out);
}
END_TEST

START_TEST(requantizing_needs_permission)
{
    char in[1024], out[] = "/tmp/woolly-quant-XXXXXX", err[WOOLLY_ERRBUF_SIZE];
    woolly_quantize_params p;
    int fd = mkstemp(out);

    close(fd);
    snprintf(in, sizeof in, "%s/models/llama-spm-gqa-q8_0.gguf", dir);
    woolly_quantize_params_init(&p, sizeof p);
    p.type = WOOLLY_TYPE_Q4_0;
    ck_assert_int_eq(woolly_quantize(in, out, &p, err, sizeof err), WOOLLY_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "already quantized"));
    p.allow_requantize = 1;
    ck_assert_msg(woolly_quantize(in, out, &p, err, sizeof err) == WOOLLY_OK, "%s", err);
    woolly_model *m;
    ck_assert_msg(woolly_model_load(out, NULL, &m, err, sizeof err) == WOOLLY_OK, "%s", err);
    woolly_model_free(m);
    unlink(out);
}
END_TEST

int main(void)
{
    char probe[1024];

    dir = tu_ref_dir();
    snprintf(probe, sizeof probe, "%s/models/llama-spm-gqa.gguf", dir ? dir : "");
    if (!dir || access(probe, R_OK) != 0) {
        printf("reference set not found: skipped\n");
        return 77;
    }
    Suite *s = suite_create("quantize-ref");
    TCase *tc = tcase_create("llama-quantize");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, quantize_matches_llama_quantize, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, requantizing_needs_permission);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
