/*
 * check_tokenizer.c - the tokenizers on small vocabularies built in memory:
 * SentencePiece merges by score, byte fallback, the leading space, byte-level
 * BPE merges by rank within pre-tokenized words, special tokens, pieces, the
 * streaming detokenizer and the error cases.
 */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "vocab.h"
#include "woolly.h"

#define SP "\xe2\x96\x81"     /* U+2581, SentencePiece's space */

/* ---- a SentencePiece vocabulary ------------------------------------------ */

enum {
    S_UNK = 0, S_BOS = 1, S_EOS = 2, S_BYTE0 = 3,  /* 256 byte tokens follow */
    S_SP = 259, S_A, S_B, S_C, S_AB, S_BC, S_SP_A, S_ABC, S_USER, S_CTRL, S_XY, S_YZW, S_N
};

static const char *spm_texts[S_N];
static char spm_bytes[256][8];
static float spm_scores[S_N];
static int32_t spm_types[S_N];

static woolly_vocab *spm_vocab_named(int with_bytes, const char *name)
{
    static const struct { int id; const char *text; float score; int32_t type; } extra[] = {
        { S_UNK, "<unk>", 0, WL_TOKTYPE_UNKNOWN },
        { S_BOS, "<s>", 0, WL_TOKTYPE_CONTROL },
        { S_EOS, "</s>", 0, WL_TOKTYPE_CONTROL },
        { S_SP, SP, -10, WL_TOKTYPE_NORMAL },
        { S_A, "a", -10, WL_TOKTYPE_NORMAL },
        { S_B, "b", -10, WL_TOKTYPE_NORMAL },
        { S_C, "c", -10, WL_TOKTYPE_NORMAL },
        { S_AB, "ab", -1, WL_TOKTYPE_NORMAL },
        { S_BC, "bc", -0.5f, WL_TOKTYPE_NORMAL },
        { S_SP_A, SP "a", -2, WL_TOKTYPE_NORMAL },
        { S_ABC, "abc", -3, WL_TOKTYPE_NORMAL },
        { S_USER, "<|user|>", 0, WL_TOKTYPE_USER_DEFINED },
        { S_CTRL, "<|ctrl|>", 0, WL_TOKTYPE_CONTROL },
        { S_XY, "xy", 0, WL_TOKTYPE_USER_DEFINED },
        { S_YZW, "yzw", 0, WL_TOKTYPE_USER_DEFINED },
    };
    struct wl_vocab_init init;
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_vocab *v;

    for (int b = 0; b < 256; b++) {
        /* without byte tokens, the slots hold other (unused) texts */
        snprintf(spm_bytes[b], sizeof spm_bytes[b], with_bytes ? "<0x%02X>" : "[%d]", b);
        spm_texts[S_BYTE0 + b] = spm_bytes[b];
        spm_scores[S_BYTE0 + b] = 0;
        spm_types[S_BYTE0 + b] = with_bytes ? WL_TOKTYPE_BYTE : WL_TOKTYPE_UNUSED;
    }
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        spm_texts[extra[i].id] = extra[i].text;
        spm_scores[extra[i].id] = extra[i].score;
        spm_types[extra[i].id] = extra[i].type;
    }
    wl_vocab_init_defaults(&init);
    init.type = WL_VOCAB_SPM;
    init.n_tokens = S_N;
    init.texts = spm_texts;
    init.scores = spm_scores;
    init.types = spm_types;
    init.name = name;
    ck_assert_msg(wl_vocab_build(&init, &v, err, sizeof err) == WOOLLY_OK, "%s", err);
    return v;
}

static woolly_vocab *spm_vocab(int with_bytes)
{
    return spm_vocab_named(with_bytes, NULL);
}

/* Tokenize TEXT and compare with the N ids that follow. */
static void expect_tokens(const woolly_vocab *v, const char *text, unsigned flags, size_t n, ...)
{
    int32_t got[64];
    size_t n_got;
    va_list ap;
    woolly_status st = woolly_tokenize(v, text, strlen(text), flags, got, 64, &n_got);

    ck_assert_msg(st == WOOLLY_OK, "'%s': %s", text, woolly_strerror(st));
    ck_assert_msg(n_got == n, "'%s': %zu tokens, want %zu", text, n_got, n);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        int32_t want = va_arg(ap, int32_t);
        ck_assert_msg(got[i] == want, "'%s': token %zu is %d, want %d", text, i, got[i], want);
    }
    va_end(ap);
}

START_TEST(spm_merges_best_score_first)
{
    woolly_vocab *v = spm_vocab(1);

    /* "_abc": "bc" (-0.5) beats "ab" (-1); then "_a" (-2) beats "abc" (-3) */
    expect_tokens(v, "abc", 0, 2, S_SP_A, S_BC);
    expect_tokens(v, "ab", 0, 2, S_SP, S_AB);   /* "ab" (-1) before "_a" (-2) */
    expect_tokens(v, "cab", 0, 3, S_SP, S_C, S_AB);
    woolly_vocab_free(v);
}
END_TEST

START_TEST(spm_leading_space)
{
    woolly_vocab *v = spm_vocab(1);

    expect_tokens(v, "a", 0, 1, S_SP_A);
    expect_tokens(v, " a", 0, 2, S_SP, S_SP_A);
    expect_tokens(v, "a a", 0, 2, S_SP_A, S_SP_A);
    expect_tokens(v, "", 0, 0);
    expect_tokens(v, "", WOOLLY_TOKENIZE_ADD_SPECIAL, 1, S_BOS);
    expect_tokens(v, "a", WOOLLY_TOKENIZE_ADD_SPECIAL, 2, S_BOS, S_SP_A);
    /* text after a special token gets its space again */
    expect_tokens(v, "a<|user|>a", 0, 3, S_SP_A, S_USER, S_SP_A);
    woolly_vocab_free(v);
}
END_TEST

START_TEST(spm_byte_fallback)
{
    woolly_vocab *v = spm_vocab(1);

    /* e-acute is no token: its two bytes */
    expect_tokens(v, "\xc3\xa9", 0, 3, S_SP, S_BYTE0 + 0xc3, S_BYTE0 + 0xa9);
    /* invalid UTF-8 too, byte by byte */
    expect_tokens(v, "a\xff", 0, 2, S_SP_A, S_BYTE0 + 0xff);
    woolly_vocab_free(v);

    v = spm_vocab(0);   /* no byte tokens: unknown */
    expect_tokens(v, "\xc3\xa9", 0, 2, S_SP, S_UNK);
    woolly_vocab_free(v);
}
END_TEST

START_TEST(spm_special_tokens_only_when_asked)
{
    woolly_vocab *v = spm_vocab(1);
    int32_t ids[64];
    size_t n;

    expect_tokens(v, "<|ctrl|>", WOOLLY_TOKENIZE_PARSE_SPECIAL, 1, S_CTRL);
    ck_assert_int_eq(woolly_tokenize(v, "<|ctrl|>", 8, 0, ids, 64, &n), WOOLLY_OK);
    ck_assert_uint_gt(n, 1);    /* spelled out */
    for (size_t i = 0; i < n; i++)
        ck_assert_int_ne(ids[i], S_CTRL);
    expect_tokens(v, "<s>", WOOLLY_TOKENIZE_PARSE_SPECIAL | WOOLLY_TOKENIZE_ADD_SPECIAL, 2, S_BOS,
                  S_BOS);
    /* user-defined tokens are always recognised, as in llama.cpp */
    expect_tokens(v, "<|user|>", 0, 1, S_USER);
    /* the longer token goes first, wherever it is: "yzw" takes the "y"
     * that "xy" would have had */
    expect_tokens(v, "xyzw", 0, 3, S_SP, S_BYTE0 + 'x', S_YZW);
    expect_tokens(v, "xyxyzw", 0, 4, S_XY, S_SP, S_BYTE0 + 'x', S_YZW);
    woolly_vocab_free(v);
}
END_TEST

START_TEST(spm_phi3_tokens_strip_spaces_after)
{
    woolly_vocab *plain = spm_vocab(1), *phi3 = spm_vocab_named(1, "Phi-3-mini");

    expect_tokens(plain, "<|user|> \ta", 0, 5, S_USER, S_SP, S_SP, S_BYTE0 + '\t', S_A);
    expect_tokens(phi3, "<|user|> \ta", 0, 2, S_USER, S_SP_A);
    expect_tokens(phi3, "<|user|> ", 0, 1, S_USER);
    /* not <s>: llama.cpp leaves it alone */
    expect_tokens(phi3, "<s> a", WOOLLY_TOKENIZE_PARSE_SPECIAL, 3, S_BOS, S_SP, S_SP_A);
    woolly_vocab_free(plain);
    woolly_vocab_free(phi3);
}
END_TEST

/* ---- a byte-level BPE vocabulary ----------------------------------------- */

/* Tokens 0-255: the GPT-2 form of each byte, in byte order; then merges. */
enum { B_T_H = 256, B_HE, B_GT, B_GTHE, B_EG, B_34, B_ENDOFTEXT, B_USER, B_N };

static char bpe_bytes[256][3];
static const char *bpe_texts[B_N];

static woolly_vocab *bpe_vocab(const char *pre)
{
    static const char *const merges[] = {
        "\xc4\xa0 t",       /* rank 0: " t" */
        "h e",              /* 1 */
        "\xc4\xa0t he",     /* 2: " the" */
        "e \xc4\xa0",       /* 3: "e " (never inside a word) */
        "t h",              /* 4: loses to "h e" */
        "3 4",              /* 5 */
    };
    struct wl_vocab_init init;
    int32_t types[B_N];
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_vocab *v;

    for (int b = 0, extra = 0; b < 256; b++) {
        int printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
        unsigned c = printable ? (unsigned)b : 0x100 + (unsigned)extra++;
        if (c < 0x80) {
            bpe_bytes[b][0] = (char)c;
            bpe_bytes[b][1] = '\0';
        } else {
            bpe_bytes[b][0] = (char)(0xc0 | c >> 6);
            bpe_bytes[b][1] = (char)(0x80 | (c & 0x3f));
            bpe_bytes[b][2] = '\0';
        }
        bpe_texts[b] = bpe_bytes[b];
        types[b] = WL_TOKTYPE_NORMAL;
    }
    bpe_texts[B_T_H] = "th";
    bpe_texts[B_HE] = "he";
    bpe_texts[B_GT] = "\xc4\xa0t";
    bpe_texts[B_GTHE] = "\xc4\xa0the";
    bpe_texts[B_EG] = "e\xc4\xa0";
    bpe_texts[B_34] = "34";
    bpe_texts[B_ENDOFTEXT] = "<|endoftext|>";
    bpe_texts[B_USER] = "<user>";
    for (int i = B_T_H; i < B_N; i++)
        types[i] = WL_TOKTYPE_NORMAL;
    types[B_ENDOFTEXT] = WL_TOKTYPE_CONTROL;
    types[B_USER] = WL_TOKTYPE_USER_DEFINED;

    wl_vocab_init_defaults(&init);
    init.type = WL_VOCAB_BPE;
    init.n_tokens = B_N;
    init.texts = bpe_texts;
    init.types = types;
    init.merges = merges;
    init.n_merges = sizeof merges / sizeof merges[0];
    init.pre = pre;
    init.ids[WL_SP_BOS] = B_ENDOFTEXT;
    init.ids[WL_SP_EOS] = B_ENDOFTEXT;
    ck_assert_msg(wl_vocab_build(&init, &v, err, sizeof err) == WOOLLY_OK, "%s", err);
    return v;
}

START_TEST(bpe_merges_lowest_rank_first)
{
    woolly_vocab *v = bpe_vocab("gpt-2");

    expect_tokens(v, "the", 0, 2, 't', B_HE);           /* "h e" (1) beats "t h" (4) */
    expect_tokens(v, " the", 0, 1, B_GTHE);             /* " t", "he", then " the" */
    expect_tokens(v, "t", 0, 1, 't');
    woolly_vocab_free(v);
}
END_TEST

START_TEST(bpe_words_do_not_merge_across)
{
    woolly_vocab *v = bpe_vocab("gpt-2");

    /* "e t" is the words "e" and " t": the merge "e " never applies */
    expect_tokens(v, "e t", 0, 2, 'e', B_GT);
    /* white space: "  t" is " " and " t" (\s+(?!\S) leaves the last space) */
    expect_tokens(v, "  t", 0, 2, 0x20, B_GT);
    expect_tokens(v, "\n", 0, 1, '\n');
    woolly_vocab_free(v);
}
END_TEST

START_TEST(bpe_pre_tokenizers_differ)
{
    woolly_vocab *gpt2 = bpe_vocab("gpt-2"), *llama3 = bpe_vocab("llama-bpe");
    woolly_vocab *coder = bpe_vocab("deepseek-coder");

    /* digits: GPT-2 keeps a run, Llama 3 groups by three, DeepSeek Coder
     * splits every digit */
    expect_tokens(gpt2, "1234", 0, 3, '1', '2', B_34);
    expect_tokens(llama3, "1234", 0, 4, '1', '2', '3', '4');
    expect_tokens(coder, "34", 0, 2, '3', '4');
    /* Llama 3 adds BOS by default; GPT-2 does not */
    expect_tokens(llama3, "t", WOOLLY_TOKENIZE_ADD_SPECIAL, 2, B_ENDOFTEXT, 't');
    expect_tokens(gpt2, "t", WOOLLY_TOKENIZE_ADD_SPECIAL, 1, 't');
    woolly_vocab_free(gpt2);
    woolly_vocab_free(llama3);
    woolly_vocab_free(coder);
}
END_TEST

START_TEST(bpe_special_tokens)
{
    woolly_vocab *v = bpe_vocab("gpt-2");

    expect_tokens(v, "t<|endoftext|>t", WOOLLY_TOKENIZE_PARSE_SPECIAL, 3, 't', B_ENDOFTEXT, 't');
    expect_tokens(v, "<user>", 0, 1, B_USER);
    ck_assert(woolly_vocab_is_eog(v, B_ENDOFTEXT));
    ck_assert(!woolly_vocab_is_eog(v, 't'));
    ck_assert(!woolly_vocab_is_eog(v, -1));
    ck_assert_int_eq(woolly_vocab_bos(v), B_ENDOFTEXT);
    ck_assert_int_eq(woolly_vocab_unk(v), -1);
    ck_assert_int_eq(woolly_vocab_pad(v), -1);
    woolly_vocab_free(v);
}
END_TEST

START_TEST(bpe_invalid_utf8_becomes_replacement_character)
{
    woolly_vocab *v = bpe_vocab("gpt-2");

    /* as in llama.cpp: each bad byte reads as U+FFFD (EF BF BD) */
    expect_tokens(v, "\xff", 0, 3, 0xef, 0xbf, 0xbd);
    expect_tokens(v, "t\xc3", 0, 4, 't', 0xef, 0xbf, 0xbd);
    woolly_vocab_free(v);
}
END_TEST

/* ---- pieces and detokenizing --------------------------------------------- */

static void expect_piece(const woolly_vocab *v, int32_t id, unsigned flags, const char *want)
{
    char buf[64];
    size_t len;

    ck_assert_int_eq(woolly_token_to_piece(v, id, flags, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert(memcmp(buf, want, len) == 0);
}

START_TEST(pieces)
{
    woolly_vocab *spm = spm_vocab(1), *bpe = bpe_vocab("gpt-2");

    expect_piece(spm, S_SP_A, 0, " a");
    expect_piece(spm, S_BYTE0 + 'x', 0, "x");
    expect_piece(spm, S_BOS, 0, "");
    expect_piece(spm, S_BOS, WOOLLY_PIECE_SPECIAL, "<s>");
    expect_piece(spm, S_USER, 0, "<|user|>");
    expect_piece(bpe, B_GTHE, 0, " the");
    expect_piece(bpe, '\n', 0, "\n");
    expect_piece(bpe, 0xe9, 0, "\xe9");     /* a lone byte: as it is */
    ck_assert_str_eq(woolly_vocab_token_text(bpe, B_GT), "\xc4\xa0t");
    ck_assert_str_eq(woolly_vocab_token_text(spm, S_SP_A), SP "a");
    woolly_vocab_free(spm);
    woolly_vocab_free(bpe);
}
END_TEST

START_TEST(detokenizer_holds_partial_characters)
{
    woolly_vocab *v = spm_vocab(1);
    woolly_detokenizer *d;
    char buf[16];
    size_t len;

    ck_assert_int_eq(woolly_detokenizer_new(v, &d), WOOLLY_OK);
    /* the euro sign, E2 82 AC, over three byte tokens, after "a" */
    ck_assert_int_eq(woolly_detokenizer_push(d, S_A, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, 1);
    ck_assert_int_eq(woolly_detokenizer_push(d, S_BYTE0 + 0xe2, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(woolly_detokenizer_push(d, S_BYTE0 + 0x82, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, 0);
    /* too small a buffer: nothing consumed, the size needed said */
    ck_assert_int_eq(woolly_detokenizer_push(d, S_BYTE0 + 0xac, buf, 2, &len), WOOLLY_ERR_RANGE);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(woolly_detokenizer_push(d, S_BYTE0 + 0xac, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert(memcmp(buf, "\xe2\x82\xac", 3) == 0);

    /* a character cut short: flush hands out its bytes */
    ck_assert_int_eq(woolly_detokenizer_push(d, S_BYTE0 + 0xc3, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(woolly_detokenizer_flush(d, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, 1);
    ck_assert_int_eq((unsigned char)buf[0], 0xc3);
    ck_assert_int_eq(woolly_detokenizer_flush(d, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, 0);

    /* bytes that can never be a character pass straight through */
    ck_assert_int_eq(woolly_detokenizer_push(d, S_BYTE0 + 0x80, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, 1);
    /* a lead byte then something else: both go out */
    ck_assert_int_eq(woolly_detokenizer_push(d, S_BYTE0 + 0xe2, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_int_eq(woolly_detokenizer_push(d, S_A, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, 2);
    /* control tokens give nothing */
    ck_assert_int_eq(woolly_detokenizer_push(d, S_EOS, buf, sizeof buf, &len), WOOLLY_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(woolly_detokenizer_push(d, S_N, buf, sizeof buf, &len), WOOLLY_ERR_INVALID);
    woolly_detokenizer_free(d);
    woolly_detokenizer_free(NULL);
    woolly_vocab_free(v);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

START_TEST(too_small_a_buffer_says_how_many)
{
    woolly_vocab *v = spm_vocab(1);
    int32_t ids[8];
    size_t n;

    ck_assert_int_eq(woolly_tokenize(v, "a a a", 5, 0, ids, 1, &n), WOOLLY_ERR_RANGE);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(ids[0], S_SP_A);
    ck_assert_int_eq(woolly_tokenize(v, "a a a", 5, 0, NULL, 0, &n), WOOLLY_ERR_RANGE);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(woolly_tokenize(v, "a a a", 5, 0, ids, 3, &n), WOOLLY_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(woolly_token_to_piece(v, S_SP_A, 0, (char *)ids, 1, &n), WOOLLY_ERR_RANGE);
    ck_assert_uint_eq(n, 2);
    woolly_vocab_free(v);
}
END_TEST

START_TEST(bad_token_ids)
{
    woolly_vocab *v = spm_vocab(1);
    char buf[16];
    size_t n;

    ck_assert_int_eq(woolly_vocab_n_tokens(v), S_N);
    ck_assert_int_eq(woolly_token_to_piece(v, S_N, 0, buf, sizeof buf, &n), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_token_to_piece(v, -1, 0, buf, sizeof buf, &n), WOOLLY_ERR_INVALID);
    ck_assert_ptr_null(woolly_vocab_token_text(v, S_N));
    ck_assert_ptr_null(woolly_vocab_token_text(v, -5));
    ck_assert_int_eq(woolly_tokenize(NULL, "a", 1, 0, NULL, 0, &n), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_tokenize(v, NULL, 1, 0, NULL, 0, &n), WOOLLY_ERR_INVALID);
    woolly_vocab_free(v);
    woolly_vocab_free(NULL);
}
END_TEST

START_TEST(bad_vocabularies)
{
    const char *dup[] = { "a", "b", "a" };
    const char *two[] = { "a", "b" };
    struct wl_vocab_init init;
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_vocab *v = NULL;

    wl_vocab_init_defaults(&init);
    init.type = WL_VOCAB_SPM;
    init.n_tokens = 3;
    init.texts = dup;
    init.add_bos = 0;
    ck_assert_int_eq(wl_vocab_build(&init, &v, err, sizeof err), WOOLLY_ERR_FORMAT);
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(strstr(err, "duplicate token"));

    init.type = WL_VOCAB_BPE;
    init.n_tokens = 2;
    init.texts = two;
    init.pre = "no-such-pre";
    ck_assert_int_eq(wl_vocab_build(&init, &v, err, sizeof err), WOOLLY_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err, "no-such-pre"));

    /* BOS wanted, but the vocabulary has none */
    init.pre = "gpt-2";
    init.add_bos = 1;
    ck_assert_int_eq(wl_vocab_build(&init, &v, err, sizeof err), WOOLLY_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "bos"));

    init.n_tokens = 0;
    ck_assert_int_eq(wl_vocab_build(&init, &v, err, sizeof err), WOOLLY_ERR_FORMAT);
}
END_TEST

START_TEST(every_pre_tokenizer_compiles)
{
    static const char *const names[] = {
        "default", "llama-bpe", "llama3", "dbrx", "chatglm-bpe", "deepseek-llm",
        "deepseek-coder", "falcon", "gpt-2", "starcoder", "qwen2", "poro-chat", "viking"
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        woolly_vocab *v = bpe_vocab(names[i]);
        expect_tokens(v, "t", 0, 1, 't');
        woolly_vocab_free(v);
    }
}
END_TEST

/* Any bytes: no crash and valid ids.  Valid UTF-8 comes back from
 * SentencePiece with byte fallback (invalid UTF-8 need not: the space
 * escaping can land inside a broken character, in llama.cpp too). */
START_TEST(random_bytes)
{
    static const char *const chars[] = { " ", "a", "b", "\n", "\xc3\xa9", "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80", "<", "|" };
    woolly_vocab *spm = spm_vocab(1), *bpe = bpe_vocab("llama-bpe");
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    char text[800], out[4000];
    int32_t ids[1000];

    for (int round = 0; round < 300; round++) {
        int valid = round % 2;
        size_t len = 0, n, used = 0, want = tu_rand(&seed) % 200;
        while (len < want) {
            if (valid) {
                const char *c = chars[tu_rand(&seed) % (sizeof chars / sizeof chars[0])];
                memcpy(text + len, c, strlen(c));
                len += strlen(c);
            } else {
                text[len++] = (char)tu_rand(&seed);
            }
        }
        ck_assert_int_eq(woolly_tokenize(bpe, text, len, 0, ids, 1000, &n), WOOLLY_OK);
        for (size_t i = 0; i < n; i++)
            ck_assert(ids[i] >= 0 && ids[i] < B_N);
        ck_assert_int_eq(woolly_tokenize(spm, text, len, 0, ids, 1000, &n), WOOLLY_OK);
        for (size_t i = 0; i < n; i++) {
            size_t plen;
            ck_assert(ids[i] >= 0 && ids[i] < S_N);
            ck_assert_int_eq(woolly_token_to_piece(spm, ids[i], 0, out + used,
                                                   sizeof out - used, &plen), WOOLLY_OK);
            used += plen;
        }
        if (valid)
            ck_assert_msg(used == len + (len > 0) && memcmp(out + (len > 0), text, len) == 0,
                          "round %d: %zu bytes do not come back", round, len);
    }
    woolly_vocab_free(spm);
    woolly_vocab_free(bpe);
}
END_TEST

/* Merging word by word gives what merging the whole text gives. */
START_TEST(spm_words_apart_changes_nothing)
{
    static const char *const chars[] = { " ", "a", "b", "c", "\xc3\xa9", "  " };
    woolly_vocab *v = spm_vocab(1);
    uint64_t seed = 42;

    ck_assert(v->spm_words_apart);
    for (int round = 0; round < 200; round++) {
        char text[400];
        int32_t a[400], b[400];
        size_t len = 0, na, nb, want = tu_rand(&seed) % 120;
        while (len < want) {
            const char *c = chars[tu_rand(&seed) % (sizeof chars / sizeof chars[0])];
            memcpy(text + len, c, strlen(c));
            len += strlen(c);
        }
        v->spm_words_apart = 1;
        ck_assert_int_eq(woolly_tokenize(v, text, len, 0, a, 400, &na), WOOLLY_OK);
        v->spm_words_apart = 0;
        ck_assert_int_eq(woolly_tokenize(v, text, len, 0, b, 400, &nb), WOOLLY_OK);
        ck_assert_uint_eq(na, nb);
        ck_assert(memcmp(a, b, na * sizeof *a) == 0);
    }
    woolly_vocab_free(v);
}
END_TEST

/* llama.cpp's way of splitting on special tokens, as it is written: one
 * token after the other, over every text piece left. */
static void split_reference(const woolly_vocab *v, const char *text, size_t len,
                            struct wl_frags *out)
{
    struct wl_frag cur[512], next[512];
    size_t n = 0;

    if (len)
        cur[n++] = (struct wl_frag){ 0, len, -1 };
    for (size_t o = 0; o < v->n_special; o++) {
        const struct wl_token *t = &v->tokens[v->special[o]];
        size_t m = 0;
        if (t->attr & (WL_ATTR_CONTROL | WL_ATTR_UNKNOWN))
            continue;
        for (size_t i = 0; i < n; i++) {
            size_t off = cur[i].off, flen = cur[i].len;
            const char *hit;
            if (cur[i].token >= 0) {
                next[m++] = cur[i];
                continue;
            }
            while ((hit = memmem(text + off, flen, t->text, t->len)) != NULL) {
                size_t at = (size_t)(hit - text), left = at - off;
                if (t->attr & WL_ATTR_LSTRIP)
                    while (left && strchr(" \t\n\v\f\r", text[off + left - 1]))
                        left--;
                if (left)
                    next[m++] = (struct wl_frag){ off, left, -1 };
                next[m++] = (struct wl_frag){ 0, 0, v->special[o] };
                flen = off + flen - (at + t->len);
                off = at + t->len;
                if (t->attr & WL_ATTR_RSTRIP)
                    while (flen && strchr(" \t\n\v\f\r", text[off])) {
                        off++;
                        flen--;
                    }
            }
            if (flen)
                next[m++] = (struct wl_frag){ off, flen, -1 };
            ck_assert_uint_lt(m, 500);
        }
        if (m)
            memcpy(cur, next, m * sizeof *cur);
        n = m;
    }
    out->n = n;
    if (n)
        memcpy(out->v, cur, n * sizeof *cur);
}

/* The one-pass split gives what the token-by-token split gives, on texts
 * thick with overlapping special tokens. */
START_TEST(special_split_matches_reference)
{
    static const char *const parts[] = { "xy", "yzw", "<|user|>", " ", "\t", "x", "y", "zw",
                                         "<|user", "|>" };
    woolly_vocab *plain = spm_vocab(1), *phi3 = spm_vocab_named(1, "phi3");
    struct wl_frag a_v[512], b_v[512];
    uint64_t seed = 7;

    for (int round = 0; round < 400; round++) {
        woolly_vocab *v = round % 2 ? plain : phi3;
        struct wl_frags a = { NULL, 0, 0 }, b = { b_v, 0, 512 };
        char text[300];
        size_t len = 0, want = tu_rand(&seed) % 60;
        while (len < want) {
            const char *p = parts[tu_rand(&seed) % (sizeof parts / sizeof parts[0])];
            memcpy(text + len, p, strlen(p));
            len += strlen(p);
        }
        ck_assert_int_eq(wl_split_special(v, text, len, 0, &a), WOOLLY_OK);
        split_reference(v, text, len, &b);
        ck_assert_uint_eq(a.n, b.n);
        if (a.n)
            memcpy(a_v, a.v, a.n * sizeof *a.v);
        for (size_t i = 0; i < a.n; i++) {
            ck_assert_int_eq(a_v[i].token, b_v[i].token);
            if (a_v[i].token < 0) {
                ck_assert_uint_eq(a_v[i].off, b_v[i].off);
                ck_assert_uint_eq(a_v[i].len, b_v[i].len);
            }
        }
        free(a.v);
    }
    woolly_vocab_free(plain);
    woolly_vocab_free(phi3);
}
END_TEST

/* ---- from GGUF metadata ---------------------------------------------------- */

/* What to write into a test GGUF file; NULL or -1 leaves a key out. */
struct gguf_vocab {
    const char *model, *pre;
    size_t n_tokens, n_scores, n_types, n_merges;
    const char *const *tokens, *const *merges;
    const float *scores;
    const int32_t *types;
    int64_t bos;
    int add_bos, bos_as_string, types_as_strings;
};

static woolly_status load_gguf(const struct gguf_vocab *g, woolly_vocab **v, char *err,
                               size_t errsize)
{
    char dir[] = "/tmp/check_tokenizer.XXXXXX", path[64];
    woolly_gguf_writer *w;
    woolly_gguf *gguf;
    woolly_status st;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/vocab.gguf", dir);
    ck_assert_int_eq(woolly_gguf_writer_open(path, &w, NULL, 0), WOOLLY_OK);
    if (g->model)
        woolly_gguf_writer_set_string(w, "tokenizer.ggml.model", g->model, strlen(g->model));
    if (g->pre)
        woolly_gguf_writer_set_string(w, "tokenizer.ggml.pre", g->pre, strlen(g->pre));
    if (g->tokens)
        woolly_gguf_writer_set_array_string(w, "tokenizer.ggml.tokens", g->tokens, NULL,
                                            g->n_tokens);
    if (g->scores)
        woolly_gguf_writer_set_array(w, "tokenizer.ggml.scores", WOOLLY_GGUF_FLOAT32, g->scores,
                                     g->n_scores);
    if (g->types_as_strings)
        woolly_gguf_writer_set_array_string(w, "tokenizer.ggml.token_type", g->tokens, NULL,
                                            g->n_tokens);
    else if (g->types)
        woolly_gguf_writer_set_array(w, "tokenizer.ggml.token_type", WOOLLY_GGUF_INT32, g->types,
                                     g->n_types);
    if (g->merges)
        woolly_gguf_writer_set_array_string(w, "tokenizer.ggml.merges", g->merges, NULL,
                                            g->n_merges);
    if (g->bos_as_string)
        woolly_gguf_writer_set_string(w, "tokenizer.ggml.bos_token_id", "1", 1);
    else if (g->bos >= 0)
        woolly_gguf_writer_set_uint(w, "tokenizer.ggml.bos_token_id", WOOLLY_GGUF_UINT32,
                                    (uint64_t)g->bos);
    if (g->add_bos >= 0)
        woolly_gguf_writer_set_uint(w, "tokenizer.ggml.add_bos_token", WOOLLY_GGUF_BOOL,
                                    (uint64_t)g->add_bos);
    ck_assert_int_eq(woolly_gguf_writer_begin_data(w), WOOLLY_OK);
    ck_assert_msg(woolly_gguf_writer_close(w, err, errsize) == WOOLLY_OK, "%s", err);

    ck_assert_int_eq(woolly_gguf_open(path, &gguf, err, errsize), WOOLLY_OK);
    err[0] = '\0';
    st = woolly_vocab_load(gguf, v, err, errsize);
    woolly_gguf_free(gguf);
    unlink(path);
    rmdir(dir);
    return st;
}

/* The SentencePiece test vocabulary, as a GGUF file would hold it. */
static struct gguf_vocab spm_gguf(void)
{
    woolly_vocab_free(spm_vocab(1));    /* fills spm_texts and friends */
    return (struct gguf_vocab){ "llama", "default", S_N, S_N, S_N, 0, spm_texts, NULL,
                                spm_scores, spm_types, 1, 1, 0, 0 };
}

START_TEST(gguf_vocab_loads)
{
    struct gguf_vocab g = spm_gguf();
    char err[WOOLLY_ERRBUF_SIZE];
    woolly_vocab *v;

    ck_assert_msg(load_gguf(&g, &v, err, sizeof err) == WOOLLY_OK, "%s", err);
    ck_assert_int_eq(woolly_vocab_n_tokens(v), S_N);
    ck_assert_int_eq(woolly_vocab_bos(v), S_BOS);
    ck_assert_int_eq(woolly_vocab_eos(v), S_EOS);   /* SentencePiece's default */
    ck_assert_int_eq(woolly_vocab_unk(v), S_UNK);
    ck_assert(woolly_vocab_is_eog(v, S_EOS));
    expect_tokens(v, "abc", WOOLLY_TOKENIZE_ADD_SPECIAL, 3, S_BOS, S_SP_A, S_BC);
    woolly_vocab_free(v);

    g.add_bos = 0;
    g.bos = 100000;     /* out of range: the default stays, as in llama.cpp */
    ck_assert_msg(load_gguf(&g, &v, err, sizeof err) == WOOLLY_OK, "%s", err);
    ck_assert_int_eq(woolly_vocab_bos(v), S_BOS);
    expect_tokens(v, "abc", WOOLLY_TOKENIZE_ADD_SPECIAL, 2, S_SP_A, S_BC);
    woolly_vocab_free(v);
}
END_TEST

/* Load G, expect STATUS and an error message that holds WHAT. */
static void expect_load_error(const struct gguf_vocab *g, woolly_status status, const char *what)
{
    char err[WOOLLY_ERRBUF_SIZE];
    woolly_vocab *v = (woolly_vocab *)&v;

    ck_assert_int_eq(load_gguf(g, &v, err, sizeof err), status);
    ck_assert_ptr_null(v);
    ck_assert_msg(strstr(err, what) != NULL, "'%s' does not say '%s'", err, what);
}

START_TEST(gguf_vocab_errors)
{
    static const char *const merges[] = { "a b" };
    struct gguf_vocab g;

    g = spm_gguf();
    g.model = "bert";
    expect_load_error(&g, WOOLLY_ERR_UNSUPPORTED, "'bert'");
    g.model = NULL;
    expect_load_error(&g, WOOLLY_ERR_FORMAT, "tokenizer.ggml.model");

    g = spm_gguf();
    g.n_scores = S_N - 1;
    expect_load_error(&g, WOOLLY_ERR_FORMAT, "tokenizer.ggml.scores");
    g = spm_gguf();
    g.types_as_strings = 1;
    expect_load_error(&g, WOOLLY_ERR_FORMAT, "tokenizer.ggml.token_type");
    g = spm_gguf();
    g.bos_as_string = 1;
    expect_load_error(&g, WOOLLY_ERR_FORMAT, "bos_token_id");
    g = spm_gguf();
    g.tokens = NULL;
    expect_load_error(&g, WOOLLY_ERR_FORMAT, "tokenizer.ggml.tokens");

    g = spm_gguf();
    g.model = "gpt2";
    g.scores = NULL;
    g.bos = 0;
    expect_load_error(&g, WOOLLY_ERR_FORMAT, "tokenizer.ggml.merges");
    g.merges = merges;
    g.n_merges = 1;
    g.pre = "nonesuch";
    expect_load_error(&g, WOOLLY_ERR_UNSUPPORTED, "'nonesuch'");
}
END_TEST

/* One vocabulary, several threads tokenizing at once. */
struct thread_job {
    const woolly_vocab *v;
    const char *text;
    const int32_t *want;
    size_t n_want;
    int ok;
};

static void *tokenize_often(void *arg)
{
    struct thread_job *job = arg;
    int32_t ids[256];
    size_t n;

    job->ok = 1;
    for (int i = 0; i < 300 && job->ok; i++)
        job->ok = woolly_tokenize(job->v, job->text, strlen(job->text), 0, ids, 256, &n) ==
                      WOOLLY_OK && n == job->n_want &&
                  memcmp(ids, job->want, n * sizeof *ids) == 0;
    return NULL;
}

START_TEST(threads_share_a_vocabulary)
{
    const char *text = "the  theme\tof 1234 <user> the end\n\xc3\xa9t\xc3\xa9 ";
    woolly_vocab *v = bpe_vocab("llama-bpe");
    struct thread_job jobs[4];
    pthread_t threads[4];
    int32_t want[256];
    size_t n_want;

    ck_assert_int_eq(woolly_tokenize(v, text, strlen(text), 0, want, 256, &n_want), WOOLLY_OK);
    for (int t = 0; t < 4; t++) {
        jobs[t] = (struct thread_job){ v, text, want, n_want, 0 };
        ck_assert_int_eq(pthread_create(&threads[t], NULL, tokenize_often, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
        ck_assert_msg(jobs[t].ok, "thread %d tokenized differently", t);
    }
    woolly_vocab_free(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *tc;

    tc = tcase_create("sentencepiece");
    tcase_add_test(tc, spm_merges_best_score_first);
    tcase_add_test(tc, spm_leading_space);
    tcase_add_test(tc, spm_byte_fallback);
    tcase_add_test(tc, spm_special_tokens_only_when_asked);
    tcase_add_test(tc, spm_phi3_tokens_strip_spaces_after);
    tcase_add_test(tc, special_split_matches_reference);
    tcase_add_test(tc, spm_words_apart_changes_nothing);
    suite_add_tcase(s, tc);

    tc = tcase_create("bpe");
    tcase_add_test(tc, bpe_merges_lowest_rank_first);
    tcase_add_test(tc, bpe_words_do_not_merge_across);
    tcase_add_test(tc, bpe_pre_tokenizers_differ);
    tcase_add_test(tc, bpe_special_tokens);
    tcase_add_test(tc, bpe_invalid_utf8_becomes_replacement_character);
    tcase_add_test(tc, every_pre_tokenizer_compiles);
    tcase_add_test(tc, threads_share_a_vocabulary);
    suite_add_tcase(s, tc);

    tc = tcase_create("detokenize");
    tcase_add_test(tc, pieces);
    tcase_add_test(tc, detokenizer_holds_partial_characters);
    suite_add_tcase(s, tc);

    tc = tcase_create("gguf");
    tcase_add_test(tc, gguf_vocab_loads);
    tcase_add_test(tc, gguf_vocab_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, too_small_a_buffer_says_how_many);
    tcase_add_test(tc, bad_token_ids);
    tcase_add_test(tc, bad_vocabularies);
    tcase_add_test(tc, random_bytes);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
