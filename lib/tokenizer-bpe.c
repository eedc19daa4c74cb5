/*
 * tokenizer-bpe.c - byte-level BPE (GPT-2 style), as llama.cpp does it:
 * the text is cut into words by the pre-tokenizer's regular expressions
 * (applied one after the other, each to every piece the previous ones made,
 * keeping the text between matches as pieces too), each word's bytes are
 * mapped to printable characters (GPT-2's byte-to-unicode table), then the
 * adjacent pair with the lowest merge rank is merged, again and again.
 *
 * The regular expressions run on PCRE2 (UTF and Unicode properties, JIT
 * when available).  llama.cpp's own engine (custom code for the GPT-2 and
 * Llama 3 patterns, std::regex on text whose non-ASCII characters are
 * collapsed to their Unicode category for the rest) differs from a plain
 * Unicode regex engine in a few ways, which the patterns are rewritten for:
 *  - \s is Unicode White_Space exactly (PCRE2's \s also takes U+180E);
 *  - \p{Lu}, \p{Ll}, \p{Lt}, \p{Lm}, \p{Lo} all mean \p{L};
 *  - $ matches only at the very end (PCRE2_DOLLAR_ENDONLY).
 * Text is first decoded as llama.cpp decodes it: each byte that does not
 * start a (leniently checked) UTF-8 sequence becomes U+FFFD.
 */
#include <config.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "vocab.h"

/* ---- pre-tokenizers ---------------------------------------------------- */

#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RE_CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define RE_LLAMA3 RE_CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" \
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2 RE_CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" \
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* CJK: U+4E00-U+9FA5, U+0800-U+4E00, Hangul U+AC00-U+D7FF */
#define RE_CJK "[\\x{4e00}-\\x{9fa5}\\x{800}-\\x{4e00}\\x{ac00}-\\x{d7ff}]+"
/* the cased letters (Lu, Ll, Lt) of DeepSeek's tokenizer.json */
#define RE_DEEPSEEK_LETTERS "\\s?[A-Za-z\\x{b5}\\x{c0}-\\x{d6}\\x{d8}-\\x{f6}\\x{f8}-\\x{1ba}" \
    "\\x{1bc}-\\x{1bf}\\x{1c4}-\\x{293}\\x{295}-\\x{2af}\\x{370}-\\x{373}\\x{376}\\x{377}" \
    "\\x{37b}-\\x{37d}\\x{37f}\\x{386}\\x{388}-\\x{38a}\\x{38c}\\x{38e}-\\x{3a1}\\x{3a3}-\\x{3f5}" \
    "\\x{3f7}-\\x{481}\\x{48a}-\\x{52f}\\x{531}-\\x{556}\\x{10a0}-\\x{10c5}\\x{13a0}-\\x{13f5}" \
    "\\x{13f8}-\\x{13fd}\\x{1c90}-\\x{1cba}\\x{1cbd}-\\x{1cbf}\\x{1d00}-\\x{1d2b}\\x{1d6b}-\\x{1d77}" \
    "\\x{1d79}-\\x{1d9a}\\x{1e00}-\\x{1f15}\\x{1f18}-\\x{1f1d}\\x{1f20}-\\x{1f45}\\x{1f48}-\\x{1f4d}" \
    "\\x{1f50}-\\x{1f57}\\x{1f59}\\x{1f5b}\\x{1f5d}\\x{1f5f}-\\x{1f7d}\\x{1f80}-\\x{1fb4}" \
    "\\x{1fb6}-\\x{1fbc}\\x{1fbe}\\x{1fc2}-\\x{1fc4}\\x{1fc6}-\\x{1fcc}\\x{1fd0}-\\x{1fd3}" \
    "\\x{1fd6}-\\x{1fdb}\\x{1fe0}-\\x{1fec}\\x{1ff2}-\\x{1ff4}\\x{1ff6}-\\x{1ffc}\\x{2102}\\x{2107}" \
    "\\x{210a}-\\x{2113}\\x{2115}\\x{2119}-\\x{211d}\\x{2124}\\x{2126}\\x{2128}\\x{212a}-\\x{212d}" \
    "\\x{212f}-\\x{2134}\\x{2139}\\x{213c}-\\x{213f}\\x{2145}-\\x{2149}\\x{214e}\\x{2183}\\x{2184}" \
    "\\x{2c00}-\\x{2c7b}\\x{2c7e}-\\x{2ce4}\\x{2ceb}-\\x{2cee}\\x{2cf2}\\x{2cf3}\\x{a640}-\\x{a66d}" \
    "\\x{a680}-\\x{a69b}\\x{a722}-\\x{a76f}\\x{a771}-\\x{a787}\\x{a78b}-\\x{a78e}\\x{ab70}-\\x{abbf}" \
    "\\x{fb00}-\\x{fb06}\\x{fb13}-\\x{fb17}\\x{ff21}-\\x{ff3a}\\x{ff41}-\\x{ff5a}" \
    "\\x{10400}-\\x{1044f}\\x{104b0}-\\x{104d3}\\x{104d8}-\\x{104fb}\\x{10c80}-\\x{10cb2}" \
    "\\x{10cc0}-\\x{10cf2}\\x{118a0}-\\x{118df}\\x{1e900}-\\x{1e943}]+"
/* ASCII and full-width punctuation, quotes, ideographic space to full stop */
#define RE_DEEPSEEK_PUNCT "\\s?[!-/:-~\\x{ff01}-\\x{ff0f}\\x{ff1a}-\\x{ff5e}\\x{2018}-\\x{201f}" \
    "\\x{3000}-\\x{3002}]+"
/* everything but white space and . , ! ? ... and their CJK, Devanagari,
 * Urdu and Arabic forms (the parentheses and bar are in the class too) */
#define RE_PORO " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{ff0c}\\x{3001}\\x{964}\\x{6d4}\\x{60c})]+"

static const char *const re_default[] = {
    "[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]", NULL
};
static const char *const re_gpt2[] = { RE_GPT2, NULL };
static const char *const re_llama3[] = { RE_LLAMA3, NULL };
static const char *const re_qwen2[] = { RE_QWEN2, NULL };
static const char *const re_falcon[] = {
    "[\\p{P}\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]", NULL
};
static const char *const re_starcoder[] = { "\\p{N}", RE_GPT2, NULL };
static const char *const re_deepseek_llm[] = {
    "[\\r\\n]", RE_DEEPSEEK_LETTERS, RE_DEEPSEEK_PUNCT, "\\s+$", RE_CJK, "\\p{N}+", NULL
};
static const char *const re_deepseek_coder[] = {
    "[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RE_CJK, "\\p{N}", NULL
};
static const char *const re_poro[] = { RE_PORO, NULL };
static const char *const re_viking[] = { RE_PORO, "\\p{N}", NULL };

enum {
    PRE_IGNORE_MERGES = 1,  /* a word that is a token is not merged */
    PRE_ADD_BOS = 2,        /* add BOS unless the metadata says otherwise */
    PRE_NO_BOS = 4          /* no default BOS id */
};

struct pre_def {
    const char *names;      /* '|'-separated */
    const char *const *regexes;
    unsigned flags;
};

/* The pre-tokenizers of llama.cpp (llama-vocab.cpp) that woolly knows, by
 * the names tokenizer.ggml.pre gives them. */
static const struct pre_def pre_defs[] = {
    { "default", re_default, 0 },
    { "llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|midm-2.0|lfm2", re_llama3,
      PRE_IGNORE_MERGES | PRE_ADD_BOS },
    { "dbrx|smaug-bpe", re_llama3, 0 },
    { "chatglm-bpe|glm4", re_llama3, PRE_NO_BOS },
    { "deepseek-llm", re_deepseek_llm, 0 },
    { "deepseek-coder", re_deepseek_coder, 0 },
    { "falcon", re_falcon, 0 },
    { "gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v2-es|jina-v2-de|jina-v1-en|jina-v2-code|"
      "roberta-bpe|mpt|olmo|jais|exaone4|a.x-4.0|mellum|trillion|granite-docling", re_gpt2, 0 },
    { "starcoder|refact|command-r|smollm|codeshell|exaone|minerva-7b", re_starcoder, 0 },
    { "qwen2|deepseek-r1-qwen|stablelm2|megrez|hunyuan", re_qwen2, 0 },
    { "poro-chat|bloom|gpt3-finnish", re_poro, 0 },
    { "viking", re_viking, 0 },
};

static int name_in(const char *names, const char *name)
{
    size_t len = strlen(name);

    for (const char *p = names;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && memcmp(p, name, len) == 0)
            return 1;
        if (!bar)
            return 0;
        p = bar + 1;
    }
}

static const struct pre_def *find_pre(const char *name)
{
    for (size_t i = 0; i < sizeof pre_defs / sizeof pre_defs[0]; i++)
        if (name_in(pre_defs[i].names, name))
            return &pre_defs[i];
    return NULL;
}

int wl_bpe_pre_known(const char *name)
{
    return find_pre(name) != NULL;
}

/* ---- compiling --------------------------------------------------------- */

#define MAX_REGEXES 8

struct wl_pretok {
    pcre2_code *re[MAX_REGEXES];
    size_t n_re;
    /* GPT-2's printable form of each byte */
    char enc[256][2];
    unsigned char enc_len[256];
};

/* Unicode White_Space, the \s of llama.cpp, as the inside of a class. */
#define WHITE_SPACE "\\t-\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}" \
    "\\x{202f}\\x{205f}\\x{3000}"

/* Rewrite RE for PCRE2 so that it means what it means to llama.cpp (see the
 * top of the file).  Returns a malloc'd pattern or NULL. */
static char *rewrite(const char *re)
{
    size_t cap = strlen(re) + 1, n = 0;
    int in_class = 0;
    char *out;

    for (const char *p = re; *p; p++)     /* each \s may grow to a class */
        cap += *p == '\\' ? sizeof WHITE_SPACE + 4 : 0;
    out = malloc(cap);

    if (!out)
        return NULL;
#define PUT(s) do { size_t l_ = strlen(s); memcpy(out + n, s, l_); n += l_; } while (0)
    for (const char *p = re; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            if (*p == 's') {
                PUT(in_class ? WHITE_SPACE : "[" WHITE_SPACE "]");
            } else if (*p == 'S' && !in_class) {
                PUT("[^" WHITE_SPACE "]");
            } else if (*p == 'p' && p[1] == '{' && p[2] == 'L' && p[3] && p[3] != '}' &&
                       p[4] == '}') {
                PUT("\\p{L}");  /* \p{Lu} and friends */
                p += 4;
            } else {
                out[n++] = '\\';
                out[n++] = *p;
            }
            continue;
        }
        if (*p == '[' && !in_class)
            in_class = 1;
        else if (*p == ']' && in_class)
            in_class = 0;
        out[n++] = *p;
    }
#undef PUT
    out[n] = '\0';
    return out;
}

/* GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for
 * themselves, the other 68 (0x00-0x20, 0x7F-0xA0, 0xAD) for U+0100.. in
 * order. */
static uint32_t byte_to_cpt(unsigned b)
{
    if ((b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff))
        return b;
    if (b <= 0x20)
        return 0x100 + b;
    if (b >= 0x7f && b <= 0xa0)
        return 0x100 + 33 + (b - 0x7f);
    return 0x100 + 67;  /* 0xAD */
}

/* The byte a code point of that table stands for, or -1. */
static int cpt_to_byte(uint32_t c)
{
    if ((c >= 0x21 && c <= 0x7e) || (c >= 0xa1 && c <= 0xac) || (c >= 0xae && c <= 0xff))
        return (int)c;
    if (c >= 0x100 && c < 0x100 + 33)
        return (int)(c - 0x100);
    if (c >= 0x100 + 33 && c < 0x100 + 67)
        return (int)(c - 0x100 - 33 + 0x7f);
    if (c == 0x100 + 67)
        return 0xad;
    return -1;
}

woolly_status wl_bpe_init(woolly_vocab *v, const char *pre, char *errbuf, size_t errsize)
{
    const struct pre_def *def;
    struct wl_pretok *pt;

    if (!pre || !*pre) {
        wl_log(WOOLLY_LOG_WARN, "vocab: no pre-tokenizer type (tokenizer.ggml.pre), using "
               "'default': tokenization may be poor");
        pre = "default";
    }
    def = find_pre(pre);
    if (!def) {
        wl_errbuf(errbuf, errsize, "pre-tokenizer '%s' (tokenizer.ggml.pre) is not supported", pre);
        return WOOLLY_ERR_UNSUPPORTED;
    }
    pt = calloc(1, sizeof *pt);
    if (!pt)
        return WOOLLY_ERR_NOMEM;
    v->pretok = pt;
    for (unsigned b = 0; b < 256; b++) {
        uint32_t c = byte_to_cpt(b);
        if (c < 0x80) {
            pt->enc[b][0] = (char)c;
            pt->enc_len[b] = 1;
        } else {
            pt->enc[b][0] = (char)(0xc0 | (c >> 6));
            pt->enc[b][1] = (char)(0x80 | (c & 0x3f));
            pt->enc_len[b] = 2;
        }
    }
    for (const char *const *re = def->regexes; *re; re++) {
        char *pattern = rewrite(*re);
        int err;
        PCRE2_SIZE at;
        pcre2_code *code;

        if (!pattern)
            return WOOLLY_ERR_NOMEM;
        code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                             PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &at, NULL);
        free(pattern);
        if (!code) {
            PCRE2_UCHAR msg[120];
            pcre2_get_error_message(err, msg, sizeof msg);
            wl_errbuf(errbuf, errsize, "pre-tokenizer '%s': regular expression %zu: %s at %zu",
                      pre, pt->n_re, (const char *)msg, (size_t)at);
            return err == PCRE2_ERROR_NOMEMORY ? WOOLLY_ERR_NOMEM : WOOLLY_ERR_INTERNAL;
        }
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  /* the interpreter if JIT fails */
        pt->re[pt->n_re++] = code;
    }
    v->ignore_merges = (def->flags & PRE_IGNORE_MERGES) != 0;
    if (def->flags & PRE_ADD_BOS)
        v->add_bos = 1;
    if (def->flags & PRE_NO_BOS)
        v->ids[WL_SP_BOS] = -1;
    return WOOLLY_OK;
}

void wl_bpe_free(woolly_vocab *v)
{
    if (!v->pretok)
        return;
    for (size_t i = 0; i < v->pretok->n_re; i++)
        pcre2_code_free(v->pretok->re[i]);
    free(v->pretok);
    v->pretok = NULL;
}

size_t wl_bpe_decode(const char *text, size_t len, char *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = 0;

    for (size_t i = 0; i < len;) {
        size_t clen = wl_utf8_len(s[i]);
        uint32_t c = s[i];
        int b = -1;

        if (clen == 2 && i + 1 < len && (s[i + 1] & 0xc0) == 0x80) {
            c = (uint32_t)(s[i] & 0x1f) << 6 | (s[i + 1] & 0x3f);
            b = cpt_to_byte(c);
        } else if (clen == 1) {
            b = cpt_to_byte(c);
        }
        if (b >= 0) {
            out[n++] = (char)b;
            i += clen;
        } else {
            /* not from the byte table (a user-written token): pass the
             * character through as it is */
            if (clen > len - i)
                clen = len - i;
            memcpy(out + n, s + i, clen);
            n += clen;
            i += clen;
        }
    }
    return n;
}

/* ---- text to words ----------------------------------------------------- */

struct span {
    size_t a, b;    /* bytes [a, b) */
};

struct spans {
    struct span *v;
    size_t n, cap;
};

static woolly_status spans_push(struct spans *s, size_t a, size_t b)
{
    if (a == b)
        return WOOLLY_OK;
    if (s->n == s->cap) {
        struct span *nv = wl_grow(s->v, &s->cap, s->n + 1, sizeof *s->v);
        if (!nv)
            return WOOLLY_ERR_NOMEM;
        s->v = nv;
    }
    s->v[s->n++] = (struct span){ a, b };
    return WOOLLY_OK;
}

/* Nonzero when S is valid UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4;
        else
            return 0;
        if (len > n - i)
            return 0;
        cp = c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += len;
    }
    return 1;
}

/* One code point as llama.cpp's unicode_cpt_from_utf8 reads it (overlong
 * forms and surrogates accepted); 0xFFFD and one byte when it cannot. */
static uint32_t decode_lenient(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    size_t len;
    uint32_t cp;

    if (!(c & 0x80)) {
        *i += 1;
        return c;
    }
    if (!(c & 0x40))
        len = 0;
    else if (!(c & 0x20))
        len = 2;
    else if (!(c & 0x10))
        len = 3;
    else if (!(c & 0x08))
        len = 4;
    else
        len = 0;
    if (len == 0 || len > n - *i) {
        *i += 1;
        return 0xfffd;
    }
    cp = c & (0x7f >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[*i + k] & 0xc0) != 0x80) {
            *i += 1;
            return 0xfffd;
        }
        cp = cp << 6 | (s[*i + k] & 0x3f);
    }
    *i += len;
    return cp;
}

static size_t encode_utf8(uint32_t c, unsigned char *out)
{
    if (c < 0x80) {
        out[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (unsigned char)(0xc0 | c >> 6);
        out[1] = (unsigned char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (unsigned char)(0xe0 | c >> 12);
        out[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
        out[2] = (unsigned char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | c >> 18);
    out[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
    out[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
    out[3] = (unsigned char)(0x80 | (c & 0x3f));
    return 4;
}

/* Text that is not valid UTF-8, re-encoded from the code points llama.cpp
 * reads in it: TEXT (what the words are made of; code points past U+10FFFF
 * become U+FFFD) and MATCH, the same with surrogates replaced by U+FFFD
 * (same length), for the regex engine. */
static woolly_status sanitize(const char *in, size_t len, char **text, char **match,
                              size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *t, *m;
    size_t n = 0;

    if (len > SIZE_MAX / 3)
        return WOOLLY_ERR_NOMEM;
    t = malloc(3 * len + 1);
    m = malloc(3 * len + 1);
    if (!t || !m) {
        free(t);
        free(m);
        return WOOLLY_ERR_NOMEM;
    }
    for (size_t i = 0; i < len;) {
        uint32_t c = decode_lenient(s, len, &i);
        size_t k;
        if (c > 0x10ffff)
            c = 0xfffd;
        k = encode_utf8(c, t + n);
        if (c >= 0xd800 && c <= 0xdfff)
            encode_utf8(0xfffd, m + n);
        else
            memcpy(m + n, t + n, k);
        n += k;
    }
    *text = (char *)t;
    *match = (char *)m;
    *out_len = n;
    return WOOLLY_OK;
}

/* Apply the regexes one after the other: every piece is cut into its
 * matches and the text between them. */
static woolly_status split_words(const struct wl_pretok *pt, const char *match, size_t len,
                                 struct spans *words)
{
    struct spans next = { NULL, 0, 0 };
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    woolly_status st;

    if (!md)
        return WOOLLY_ERR_NOMEM;
    words->n = 0;
    st = spans_push(words, 0, len);
    for (size_t r = 0; r < pt->n_re && st == WOOLLY_OK; r++) {
        struct spans swap;
        next.n = 0;
        for (size_t w = 0; w < words->n && st == WOOLLY_OK; w++) {
            size_t a = words->v[w].a, b = words->v[w].b, last = a, pos = a;
            const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

            while (pos < b && st == WOOLLY_OK) {
                int rc = pcre2_match(pt->re[r], (PCRE2_SPTR)match + a, b - a, pos - a,
                                     PCRE2_NO_UTF_CHECK, md, NULL);
                size_t ms, me;
                if (rc < 0)
                    break;
                ms = a + ov[0];
                me = a + ov[1];
                if (me == ms) {     /* an empty match: step over a character */
                    pos = ms + 1;
                    while (pos < b && ((unsigned char)match[pos] & 0xc0) == 0x80)
                        pos++;
                    continue;
                }
                st = spans_push(&next, last, ms);
                if (st == WOOLLY_OK)
                    st = spans_push(&next, ms, me);
                last = pos = me;
            }
            if (st == WOOLLY_OK)
                st = spans_push(&next, last, b);
        }
        swap = *words;
        *words = next;
        next = swap;
    }
    free(next.v);
    pcre2_match_data_free(md);
    return st;
}

/* ---- words to tokens --------------------------------------------------- */

/* The rank of merging LEFT and RIGHT, -1 when there is no such merge. */
static int32_t merge_rank(const woolly_vocab *v, const char *left, size_t ln, const char *right,
                          size_t rn)
{
    uint64_t h = wl_hash_more(wl_hash_more(wl_hash_more(wl_hash_init(), left, ln), " ", 1),
                              right, rn);

    for (size_t i = (size_t)h & v->merge_mask;; i = (i + 1) & v->merge_mask) {
        const struct wl_merge *m = &v->merges[i];
        if (m->rank < 0)
            return -1;
        if (m->left_len == ln && m->right_len == rn && memcmp(m->text, left, ln) == 0 &&
            memcmp(m->text + ln + 1, right, rn) == 0)
            return m->rank;
    }
}

/* Two symbols merge when the merges list them, lowest rank first. */
static int priority(const struct wl_merger *m, const struct wl_symbol *l,
                    const struct wl_symbol *r, double *out)
{
    int32_t rank = merge_rank(m->v, m->text + l->off, l->n, m->text + r->off, r->n);

    if (rank < 0)
        return 0;
    *out = -(double)rank;
    return 1;
}

/* A finished symbol: its token, else the single-byte tokens of its bytes
 * (those that exist). */
static woolly_status emit(const struct wl_merger *m, const struct wl_symbol *sym,
                          struct wl_tokbuf *out)
{
    int32_t id = wl_vocab_find(m->v, m->text + sym->off, sym->n);
    woolly_status st = WOOLLY_OK;

    if (id >= 0)
        return wl_tokbuf_push(out, id);
    for (size_t j = 0; j < sym->n && st == WOOLLY_OK; j++) {
        id = wl_vocab_find(m->v, m->text + sym->off + j, 1);
        if (id >= 0)
            st = wl_tokbuf_push(out, id);
    }
    return st;
}

/* One word: its bytes in GPT-2's printable form (in *WORD, grown as
 * needed), merged. */
static woolly_status bpe_word(struct wl_merger *m, char **word, size_t *cap_word,
                              const unsigned char *bytes, size_t len, struct wl_tokbuf *out)
{
    const struct wl_pretok *pt = m->v->pretok;
    size_t n = 0, n_sym = 0;
    woolly_status st;
    int32_t id;

    if (len > SIZE_MAX / 2)
        return WOOLLY_ERR_NOMEM;
    if (2 * len > *cap_word) {
        char *nw = wl_grow(*word, cap_word, 2 * len, 1);
        if (!nw)
            return WOOLLY_ERR_NOMEM;
        *word = nw;
    }
    for (size_t i = 0; i < len; i++) {
        memcpy(*word + n, pt->enc[bytes[i]], pt->enc_len[bytes[i]]);
        n += pt->enc_len[bytes[i]];
    }
    if (m->v->ignore_merges && (id = wl_vocab_find(m->v, *word, n)) >= 0)
        return wl_tokbuf_push(out, id);
    st = wl_merger_split(m, *word, n, &n_sym);
    if (st == WOOLLY_OK && n_sym)
        st = wl_merger_run(m, 0, n_sym);
    for (int i = n_sym ? 0 : -1; i >= 0 && st == WOOLLY_OK; i = m->sym[i].next)
        st = emit(m, &m->sym[i], out);
    return st;
}

woolly_status wl_bpe_tokenize(const woolly_vocab *v, const char *text, size_t len,
                              struct wl_tokbuf *out)
{
    struct spans words = { NULL, 0, 0 };
    struct wl_merger m = { v, NULL, NULL, 0, NULL, 0, 0, priority };
    char *own_text = NULL, *own_match = NULL, *word = NULL;
    const char *match = text;
    size_t cap_word = 0;
    woolly_status st = WOOLLY_OK;

    if (!utf8_valid((const unsigned char *)text, len)) {
        st = sanitize(text, len, &own_text, &own_match, &len);
        text = own_text;
        match = own_match;
    }
    if (st == WOOLLY_OK)
        st = split_words(v->pretok, match, len, &words);
    for (size_t w = 0; w < words.n && st == WOOLLY_OK; w++)
        st = bpe_word(&m, &word, &cap_word, (const unsigned char *)text + words.v[w].a,
                      words.v[w].b - words.v[w].a, out);
    free(words.v);
    free(word);
    wl_merger_free(&m);
    free(own_text);
    free(own_match);
    return st;
}
