/*
 * check_tokenizer_ref.c - tokenization against llama.cpp's own results, from
 * the reference set ($WOOLLY_REF_DIR; skipped with status 77 when absent):
 *  - every record of vocab/ggml-vocab-NAME.inp against .out, and of
 *    vocab/corpus.inp against corpus-NAME.out, for the seven vocabularies:
 *    all must be exact;
 *  - detokenizing gives the text back wherever the vocabulary can;
 *  - each logits case's prompt tokenizes to the first n_prompt tokens of
 *    logits/CASE.json (BOS added as the model says).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "refdata.h"
#include "testutil.h"
#include "vocab.h"
#include "woolly.h"

static const char *const vocabs[] = {
    "llama-spm", "phi-3", "gpt-2", "deepseek-llm", "deepseek-coder", "starcoder", "falcon"
};
#define N_VOCABS (sizeof vocabs / sizeof vocabs[0])

#define SEPARATOR "\n__ggml_vocab_test__\n"

static char *read_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    FILE *f;
    char *buf = NULL;
    long size;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) {
            buf[size] = '\0';
            *len = (size_t)size;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    return buf;
}

static woolly_vocab *load_vocab(const char *path)
{
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_gguf *gguf;
    woolly_vocab *v;
    woolly_status st;

    st = woolly_gguf_open(path, &gguf, err, sizeof err);
    ck_assert_msg(st == WOOLLY_OK, "%s: %s", path, err);
    st = woolly_vocab_load(gguf, &v, err, sizeof err);
    woolly_gguf_free(gguf);
    ck_assert_msg(st == WOOLLY_OK, "%s: %s", path, err);
    return v;
}

static int32_t *tokenize(const woolly_vocab *v, const char *text, size_t len, unsigned flags,
                         size_t *n)
{
    int32_t *ids = malloc((len + 8) * sizeof *ids);
    woolly_status st;

    ck_assert_ptr_nonnull(ids);
    st = woolly_tokenize(v, text, len, flags, ids, len + 8, n);
    ck_assert_msg(st == WOOLLY_OK, "woolly_tokenize: %s", woolly_strerror(st));
    return ids;
}

/* Print LEN bytes of S, escaped, on stderr. */
static void show(const char *s, size_t len)
{
    for (size_t i = 0; i < len && i < 300; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            fputs("\\n", stderr);
        else if (c < 0x20 || c == 0x7f)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    if (len > 300)
        fputs("...", stderr);
}

static void show_ids(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "    %s:", label);
    for (size_t i = 0; i < n && i < 60; i++)
        fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, "%s\n", n > 60 ? " ..." : "");
}

/* Nonzero when the LEN bytes at S are valid UTF-8. */
static int valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = p[i] < 0x80 ? 1 : (p[i] >> 5) == 6 ? 2 : (p[i] >> 4) == 14 ? 3 :
                   (p[i] >> 3) == 30 ? 4 : 0;
        if (!n || n > len - i)
            return 0;
        for (size_t k = 1; k < n; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        i += n;
    }
    return 1;
}

/* The text of IDS, as llama.cpp's detokenizer gives it: pieces joined, the
 * space SentencePiece put in front removed. */
static char *detokenize(const woolly_vocab *v, const int32_t *ids, size_t n, int strip_space,
                        size_t *len)
{
    size_t cap = 64, used = 0;
    char *out = malloc(cap);

    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < n; i++) {
        size_t plen;
        woolly_status st = woolly_token_to_piece(v, ids[i], 0, out + used, cap - used, &plen);
        if (st == WOOLLY_ERR_RANGE) {
            while (cap - used < plen)
                cap *= 2;
            out = realloc(out, cap);
            ck_assert_ptr_nonnull(out);
            st = woolly_token_to_piece(v, ids[i], 0, out + used, cap - used, &plen);
        }
        ck_assert_int_eq(st, WOOLLY_OK);
        if (i == 0 && strip_space && plen > 0 && out[used] == ' ') {
            memmove(out + used, out + used + 1, plen - 1);
            plen--;
        }
        used += plen;
    }
    *len = used;
    return out;
}

struct result {
    size_t passed, total, roundtrip_checked, roundtrip_failed;
};

/* Tokenize every record of INP and compare with the lines of OUT. */
static void check_file(const woolly_vocab *v, const char *name, const char *inp_name,
                       const char *out_name, int is_spm, struct result *r)
{
    const char *dir = tu_ref_dir();
    char vdir[4096];
    size_t inp_len, out_len, shown = 0;
    char *inp, *out, *rec, *line;

    snprintf(vdir, sizeof vdir, "%s/vocab", dir);
    inp = read_file(vdir, inp_name, &inp_len);
    out = read_file(vdir, out_name, &out_len);
    rec = inp;
    line = out;
    for (;;) {
        char *end = strstr(rec, SEPARATOR);
        char *eol, *p;
        int32_t want[4096];
        size_t n_want = 0, n_got;
        int32_t *got;

        if (!end)
            break;
        eol = strchr(line, '\n');
        ck_assert_msg(eol != NULL, "%s: fewer lines than records", out_name);
        *eol = '\0';
        for (p = line; *p;) {
            char *q;
            long id = strtol(p, &q, 10);
            if (q == p)
                break;
            ck_assert_uint_lt(n_want, 4096);
            want[n_want++] = (int32_t)id;
            p = q;
        }
        got = tokenize(v, rec, (size_t)(end - rec), 0, &n_got);
        r->total++;
        if (n_got == n_want && memcmp(got, want, n_got * sizeof *got) == 0) {
            r->passed++;
        } else if (shown++ < 4) {
            fprintf(stderr, "%s: %s record %zu differs: '", name, inp_name, r->total);
            show(rec, (size_t)(end - rec));
            fprintf(stderr, "'\n");
            show_ids("llama.cpp", want, n_want);
            show_ids("woolly   ", got, n_got);
        }
        /* detokenize(tokenize(text)) == text, where the text is valid
         * UTF-8 (byte-level BPE replaces what is not) */
        if (valid_utf8(rec, (size_t)(end - rec))) {
            size_t dlen;
            char *text = detokenize(v, got, n_got, is_spm, &dlen);
            r->roundtrip_checked++;
            if (dlen != (size_t)(end - rec) || memcmp(text, rec, dlen) != 0) {
                if (r->roundtrip_failed++ < 3) {
                    fprintf(stderr, "%s: %s record %zu does not come back: '", name, inp_name,
                            r->total);
                    show(rec, (size_t)(end - rec));
                    fprintf(stderr, "' -> '");
                    show(text, dlen);
                    fprintf(stderr, "'\n");
                }
            }
            free(text);
        }
        free(got);
        rec = end + strlen(SEPARATOR);
        line = eol + 1;
    }
    free(inp);
    free(out);
}

START_TEST(vocab_matches_llama_cpp)
{
    const char *name = vocabs[_i];
    char path[4096], inp[256], outf[256];
    struct result tests = { 0, 0, 0, 0 }, corpus = { 0, 0, 0, 0 };
    woolly_vocab *v;
    int is_spm;

    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-%s.gguf", tu_ref_dir(), name);
    v = load_vocab(path);
    is_spm = strcmp(name, "llama-spm") == 0 || strcmp(name, "phi-3") == 0;

    snprintf(inp, sizeof inp, "ggml-vocab-%s.inp", name);
    snprintf(outf, sizeof outf, "ggml-vocab-%s.out", name);
    check_file(v, name, inp, outf, is_spm, &tests);
    snprintf(outf, sizeof outf, "corpus-%s.out", name);
    check_file(v, name, "corpus.inp", outf, is_spm, &corpus);
    woolly_vocab_free(v);

    printf("%-15s test vectors %zu/%zu, corpus %zu/%zu, round trips %zu/%zu\n", name,
           tests.passed, tests.total, corpus.passed, corpus.total,
           tests.roundtrip_checked + corpus.roundtrip_checked - tests.roundtrip_failed -
               corpus.roundtrip_failed,
           tests.roundtrip_checked + corpus.roundtrip_checked);
    ck_assert_uint_gt(tests.total, 0);
    ck_assert_uint_gt(corpus.total, 300);
    ck_assert_msg(tests.passed == tests.total, "%s: %zu of %zu test vectors differ", name,
                  tests.total - tests.passed, tests.total);
    ck_assert_msg(corpus.passed == corpus.total, "%s: %zu of %zu corpus records differ", name,
                  corpus.total - corpus.passed, corpus.total);
    ck_assert_msg(tests.roundtrip_failed + corpus.roundtrip_failed == 0,
                  "%s: %zu texts do not come back from their tokens", name,
                  tests.roundtrip_failed + corpus.roundtrip_failed);
}
END_TEST

/* SentencePiece merges word by word when no token reaches across words:
 * the whole corpus as one text gives the same tokens either way. */
START_TEST(spm_word_by_word_is_exact)
{
    const char *name = _i ? "phi-3" : "llama-spm";
    char path[4096], vdir[4096];
    size_t len, na, nb;
    char *text;
    int32_t *a, *b;
    woolly_vocab *v;

    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-%s.gguf", tu_ref_dir(), name);
    snprintf(vdir, sizeof vdir, "%s/vocab", tu_ref_dir());
    v = load_vocab(path);
    text = read_file(vdir, "corpus.inp", &len);
    ck_assert_msg(v->spm_words_apart, "%s: a token reaches across words", name);
    a = tokenize(v, text, len, 0, &na);
    v->spm_words_apart = 0;
    b = tokenize(v, text, len, 0, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(a, b, na * sizeof *a) == 0, "%s: word by word differs", name);
    free(a);
    free(b);
    free(text);
    woolly_vocab_free(v);
}
END_TEST

START_TEST(prompts_match_logits_cases)
{
    const char *dir = tu_ref_dir();
    size_t n_cases = 0;
    ref_case *cases = ref_load_manifest(dir, &n_cases);

    ck_assert_msg(cases && n_cases > 0, "manifest.json has no cases");
    for (size_t i = 0; i < n_cases; i++) {
        const ref_case *c = &cases[i];
        char path[4096];
        size_t n_got, n_want;
        int32_t *want = ref_load_tokens(dir, c->name, &n_want), *got;
        woolly_vocab *v;

        ck_assert_msg(want && n_want >= c->n_prompt, "logits/%s.json has no tokens", c->name);
        snprintf(path, sizeof path, "%s/%s", dir, c->model);
        v = load_vocab(path);
        got = tokenize(v, c->prompt, strlen(c->prompt), WOOLLY_TOKENIZE_ADD_SPECIAL, &n_got);
        ck_assert_msg(n_got == c->n_prompt, "%s: %zu tokens, llama.cpp has %u", c->name, n_got, c->n_prompt);
        for (size_t k = 0; k < c->n_prompt; k++)
            ck_assert_msg(got[k] == want[k], "%s: token %zu is %d, llama.cpp has %d", c->name, k, got[k],
                          want[k]);
        free(got);
        free(want);
        woolly_vocab_free(v);
    }
    printf("logits cases: %zu prompts tokenize as llama.cpp did\n", n_cases);
    ref_free_manifest(cases, n_cases);
}
END_TEST

int main(void)
{
    const char *dir = tu_ref_dir();
    struct stat st;
    char path[4096];
    Suite *s;
    TCase *tc;

    if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("no reference data (WOOLLY_REF_DIR): skipped\n");
        return 77;
    }
    snprintf(path, sizeof path, "%s/vocab/corpus.inp", dir);
    if (stat(path, &st) != 0) {
        printf("no %s: skipped\n", path);
        return 77;
    }
    s = suite_create("tokenizer-ref");
    tc = tcase_create("vocabularies");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, vocab_matches_llama_cpp, 0, (int)N_VOCABS);
    tcase_add_loop_test(tc, spm_word_by_word_is_exact, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("logits-prompts");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, prompts_match_logits_cases);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
