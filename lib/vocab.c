/*
 * vocab.c - the vocabulary: tokens, scores, types, special tokens and merges,
 * from plain arrays (wl_vocab_build) or from GGUF metadata
 * (woolly_vocab_load), with llama.cpp's defaults and its detection of
 * end-of-generation tokens by their text.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vocab.h"

/* ---- small helpers ----------------------------------------------------- */

woolly_status wl_tokbuf_push(struct wl_tokbuf *b, int32_t id)
{
    if (b->n == b->cap) {
        int32_t *nv = wl_grow(b->v, &b->cap, b->n + 1, sizeof *b->v);
        if (!nv)
            return WOOLLY_ERR_NOMEM;
        b->v = nv;
    }
    b->v[b->n++] = id;
    return WOOLLY_OK;
}

int32_t wl_vocab_find(const woolly_vocab *v, const char *s, size_t len)
{
    size_t i = (size_t)wl_hash_more(wl_hash_init(), s, len) & v->map_mask;

    for (;; i = (i + 1) & v->map_mask) {
        uint32_t slot = v->map[i];
        const struct wl_token *t;
        if (!slot)
            return -1;
        t = &v->tokens[slot - 1];
        if (t->len == len && memcmp(t->text, s, len) == 0)
            return (int32_t)(slot - 1);
    }
}

static int32_t find_str(const woolly_vocab *v, const char *s)
{
    return wl_vocab_find(v, s, strlen(s));
}

/* A table size: a power of two at least twice N. */
static size_t table_size(size_t n)
{
    size_t size = 16;
    while (size < 2 * n)
        size *= 2;
    return size;
}

void wl_vocab_init_defaults(struct wl_vocab_init *init)
{
    memset(init, 0, sizeof *init);
    for (int i = 0; i < WL_SP_COUNT; i++)
        init->ids[i] = WL_ID_UNSET;
    init->add_bos = init->add_eos = init->add_space_prefix = -1;
}

/* ---- building ---------------------------------------------------------- */

static uint32_t attr_of_type(int32_t type)
{
    switch (type) {
    case WL_TOKTYPE_UNKNOWN: return WL_ATTR_UNKNOWN;
    case WL_TOKTYPE_UNUSED: return WL_ATTR_UNUSED;
    case WL_TOKTYPE_NORMAL: return WL_ATTR_NORMAL;
    case WL_TOKTYPE_CONTROL: return WL_ATTR_CONTROL;
    case WL_TOKTYPE_USER_DEFINED: return WL_ATTR_USER_DEFINED;
    case WL_TOKTYPE_BYTE: return WL_ATTR_BYTE;
    default: return 0;  /* undefined */
    }
}

/* Copy the token texts (an empty text becomes "[EMPTY_<id>]", as in
 * llama.cpp) and index them. */
static woolly_status build_tokens(woolly_vocab *v, const struct wl_vocab_init *in, char *errbuf,
                                  size_t errsize)
{
    size_t total = 0, off = 0;

    v->tokens = calloc(in->n_tokens, sizeof *v->tokens);
    if (!v->tokens)
        return WOOLLY_ERR_NOMEM;
    for (size_t i = 0; i < in->n_tokens; i++) {
        size_t len = in->lens ? in->lens[i] : strlen(in->texts[i]);
        if (len > UINT32_MAX / 2) {
            wl_errbuf(errbuf, errsize, "token %zu is %zu bytes long", i, len);
            return WOOLLY_ERR_FORMAT;
        }
        if (wl_add_size(total, (len ? len : 24) + 1, &total))
            return WOOLLY_ERR_NOMEM;
    }
    if (total > UINT32_MAX)
        return WOOLLY_ERR_NOMEM;
    v->arena = malloc(total);
    v->map_mask = table_size(in->n_tokens) - 1;
    v->map = calloc(v->map_mask + 1, sizeof *v->map);
    if (!v->arena || !v->map)
        return WOOLLY_ERR_NOMEM;

    for (size_t i = 0; i < in->n_tokens; i++) {
        struct wl_token *t = &v->tokens[i];
        size_t len = in->lens ? in->lens[i] : strlen(in->texts[i]);
        size_t h;

        t->text = v->arena + off;
        if (len) {
            memcpy(v->arena + off, in->texts[i], len);
        } else {
            len = (size_t)snprintf(v->arena + off, 25, "[EMPTY_%zu]", i);
            wl_log(WOOLLY_LOG_WARN, "vocab: empty token at index %zu", i);
        }
        v->arena[off + len] = '\0';
        off += len + 1;
        t->len = (uint32_t)len;
        t->score = in->scores ? in->scores[i] : 0.0f;
        t->attr = in->types ? attr_of_type(in->types[i]) : WL_ATTR_NORMAL;

        h = (size_t)wl_hash_more(wl_hash_init(), t->text, len) & v->map_mask;
        for (;; h = (h + 1) & v->map_mask) {
            uint32_t slot = v->map[h];
            if (!slot) {
                v->map[h] = (uint32_t)i + 1;
                break;
            }
            if (v->tokens[slot - 1].len == len && memcmp(v->tokens[slot - 1].text, t->text, len) == 0) {
                wl_errbuf(errbuf, errsize, "duplicate token in the vocabulary: '%s' has ids %u and %zu",
                          t->text, slot - 1, i);
                return WOOLLY_ERR_FORMAT;
            }
        }
    }
    return WOOLLY_OK;
}

/* Merge ranks, keyed by "left right" split at the first space after the
 * first byte (llama.cpp's rule); the first of duplicate merges wins. */
static woolly_status build_merges(woolly_vocab *v, const struct wl_vocab_init *in)
{
    size_t total = 0, off = 0;

    if (in->n_merges > INT32_MAX)
        return WOOLLY_ERR_NOMEM;
    for (size_t i = 0; i < in->n_merges; i++) {
        size_t len = in->merge_lens ? in->merge_lens[i] : strlen(in->merges[i]);
        if (wl_add_size(total, len, &total))
            return WOOLLY_ERR_NOMEM;
    }
    v->merge_arena = malloc(total ? total : 1);
    v->merge_mask = table_size(in->n_merges) - 1;
    v->merges = malloc((v->merge_mask + 1) * sizeof *v->merges);
    if (!v->merge_arena || !v->merges)
        return WOOLLY_ERR_NOMEM;
    for (size_t i = 0; i <= v->merge_mask; i++)
        v->merges[i].rank = -1;

    for (size_t i = 0; i < in->n_merges; i++) {
        size_t len = in->merge_lens ? in->merge_lens[i] : strlen(in->merges[i]);
        const char *sp = len > 1 ? memchr(in->merges[i] + 1, ' ', len - 1) : NULL;
        struct wl_merge m;
        size_t h;

        if (!sp || len > UINT32_MAX)
            continue;   /* no pair: can never match two symbols */
        memcpy(v->merge_arena + off, in->merges[i], len);
        m.text = v->merge_arena + off;
        m.left_len = (uint32_t)(sp - in->merges[i]);
        m.right_len = (uint32_t)(len - m.left_len - 1);
        m.rank = (int32_t)i;
        off += len;

        h = (size_t)wl_hash_more(wl_hash_init(), m.text, len) & v->merge_mask;
        for (;; h = (h + 1) & v->merge_mask) {
            struct wl_merge *e = &v->merges[h];
            if (e->rank < 0) {
                *e = m;
                break;
            }
            if (e->left_len == m.left_len && e->right_len == m.right_len &&
                memcmp(e->text, m.text, len) == 0)
                break;
        }
    }
    return WOOLLY_OK;
}

static const char *const special_key[WL_SP_COUNT] = {
    "bos", "eos", "eot", "eom", "unknown", "seperator", "padding", "mask",
    "fim_pre", "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep"
};

/* The special ids a tokenizer type has when the metadata does not say. */
static void default_special_ids(woolly_vocab *v)
{
    for (int i = 0; i < WL_SP_COUNT; i++)
        v->ids[i] = -1;
    if (v->type == WL_VOCAB_SPM) {
        v->ids[WL_SP_BOS] = 1;
        v->ids[WL_SP_EOS] = 2;
        v->ids[WL_SP_UNK] = 0;
    } else {
        v->ids[WL_SP_BOS] = 11;
        v->ids[WL_SP_EOS] = 11;
    }
}

/* The defaults are dropped when out of range; what the metadata sets wins,
 * but is ignored with a warning when out of range. */
static void set_special_ids(woolly_vocab *v, const struct wl_vocab_init *in)
{
    for (int i = 0; i < WL_SP_COUNT; i++) {
        int64_t id = in->ids[i];
        if (v->ids[i] >= v->n_tokens)
            v->ids[i] = -1;
        if (id == WL_ID_UNSET)
            continue;
        if (id < 0 || id >= v->n_tokens)
            wl_log(WOOLLY_LOG_WARN, "vocab: bad special token %s = %lld, using %d",
                   special_key[i], (long long)id, v->ids[i]);
        else
            v->ids[i] = (int32_t)id;
    }
}

/* The lowest id among tokens whose text is one of NAMES, or -1. */
static int32_t find_any(const woolly_vocab *v, const char *const *names)
{
    int32_t best = -1;
    for (; *names; names++) {
        int32_t id = find_str(v, *names);
        if (id >= 0 && (best < 0 || id < best))
            best = id;
    }
    return best;
}

/* Tokens that only the text gives away: llama.cpp recognises end-of-turn
 * and fill-in-the-middle tokens by name and makes them control tokens. */
static const char *const eot_names[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",
    "<end_of_utterance>", NULL
};
static const char *const eom_names[] = { "<|eom_id|>", NULL };
static const char *const fim_pre_names[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
    "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL
};
static const char *const fim_suf_names[] = {
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>",
    "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL
};
static const char *const fim_mid_names[] = {
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>",
    "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL
};
static const char *const fim_pad_names[] = {
    "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL
};
static const char *const fim_rep_names[] = {
    "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL
};
static const char *const fim_sep_names[] = { "<|file_sep|>", NULL };
/* (Not "</s>", which llama.cpp added after the reference set was made: it
 * would make Phi-3's user-defined "</s>" a control token.) */
static const char *const eog_names[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>", "[e~[", NULL
};

static void detect_by_name(woolly_vocab *v, enum wl_special role, const char *const *names)
{
    if (v->ids[role] >= 0)
        return;
    v->ids[role] = find_any(v, names);
    if (v->ids[role] >= 0)
        v->tokens[v->ids[role]].attr |= WL_ATTR_CONTROL;
}

static int cmp_id(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static woolly_status add_eog(woolly_vocab *v, int32_t id)
{
    if (id < 0)
        return WOOLLY_OK;
    for (size_t i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id)
            return WOOLLY_OK;
    int32_t *ne = realloc(v->eog, (v->n_eog + 1) * sizeof *ne);
    if (!ne)
        return WOOLLY_ERR_NOMEM;
    v->eog = ne;
    v->eog[v->n_eog++] = id;
    return WOOLLY_OK;
}

static void remove_eog(woolly_vocab *v, int32_t id)
{
    for (size_t i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id) {
            v->eog[i] = v->eog[--v->n_eog];
            return;
        }
}

static int is_eog_text(const woolly_vocab *v, int32_t id, const char *text)
{
    return id >= 0 && strcmp(v->tokens[id].text, text) == 0;
}

static woolly_status build_eog(woolly_vocab *v)
{
    woolly_status st = WOOLLY_OK;
    int32_t end = -1;
    int has_return = 0, has_call = 0, has_flush = 0;

    detect_by_name(v, WL_SP_EOT, eot_names);
    detect_by_name(v, WL_SP_EOM, eom_names);
    detect_by_name(v, WL_SP_FIM_PRE, fim_pre_names);
    detect_by_name(v, WL_SP_FIM_SUF, fim_suf_names);
    detect_by_name(v, WL_SP_FIM_MID, fim_mid_names);
    detect_by_name(v, WL_SP_FIM_PAD, fim_pad_names);
    detect_by_name(v, WL_SP_FIM_REP, fim_rep_names);
    detect_by_name(v, WL_SP_FIM_SEP, fim_sep_names);

    st |= add_eog(v, v->ids[WL_SP_FIM_PAD]);
    st |= add_eog(v, v->ids[WL_SP_FIM_REP]);
    st |= add_eog(v, v->ids[WL_SP_FIM_SEP]);
    for (const char *const *n = eog_names; *n; n++) {
        int32_t id = find_str(v, *n);
        if (id >= 0) {
            v->tokens[id].attr |= WL_ATTR_CONTROL;
            st |= add_eog(v, id);
        }
    }
    /* gpt-oss: these are always rendered */
    for (const char *const *n = (const char *const[]){ "<|channel|>", "<|message|>", "<|start|>",
                                                       "<|constrain|>", NULL }; *n; n++) {
        int32_t id = find_str(v, *n);
        if (id >= 0)
            v->tokens[id].attr = WL_ATTR_USER_DEFINED;
    }
    st |= add_eog(v, v->ids[WL_SP_EOS]);
    st |= add_eog(v, v->ids[WL_SP_EOT]);
    st |= add_eog(v, v->ids[WL_SP_EOM]);
    if (st != WOOLLY_OK)
        return WOOLLY_ERR_NOMEM;

    /* o200k_harmony and solar-open: "<|end|>" does not end generation */
    for (size_t i = 0; i < v->n_eog; i++) {
        int32_t id = v->eog[i];
        has_return |= is_eog_text(v, id, "<|return|>");
        has_call |= is_eog_text(v, id, "<|call|>") || is_eog_text(v, id, "<|calls|>");
        has_flush |= is_eog_text(v, id, "<|flush|>");
        if (is_eog_text(v, id, "<|end|>"))
            end = id;
    }
    if (end >= 0 && ((has_return && has_call) || (has_call && has_flush))) {
        remove_eog(v, end);
        v->tokens[end].attr = WL_ATTR_USER_DEFINED;
    }
    if (v->n_eog)
        qsort(v->eog, v->n_eog, sizeof *v->eog, cmp_id);
    return WOOLLY_OK;
}

/* The order in which special tokens split the text: longest first (ties by
 * id, so that the order never depends on the sort). */
struct special_key {
    uint32_t len;
    int32_t id;
};

static int cmp_special(const void *a, const void *b)
{
    const struct special_key *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static unsigned first_two(const struct wl_token *t)
{
    return (unsigned char)t->text[0] << 8 | (unsigned char)t->text[1];
}

/* Index the special tokens by their first bytes (a counting sort). */
static woolly_status index_special(woolly_vocab *v)
{

    for (int b = 0; b < 256; b++)
        v->special_by1[b] = -1;
    v->special_at = calloc(65536 + 1, sizeof *v->special_at);
    v->special_by2 = malloc((v->n_special ? v->n_special : 1) * sizeof *v->special_by2);
    if (!v->special_at || !v->special_by2)
        return WOOLLY_ERR_NOMEM;
    for (size_t i = 0; i < v->n_special; i++) {
        const struct wl_token *t = &v->tokens[v->special[i]];
        if (t->len == 1)
            v->special_by1[(unsigned char)t->text[0]] = (int32_t)i;
        else
            v->special_at[first_two(t) + 1]++;
    }
    for (size_t k = 0; k < 65536; k++)
        v->special_at[k + 1] += v->special_at[k];
    /* fill each bucket in order, using its start as the cursor, then shift
     * the starts back */
    for (size_t i = 0; i < v->n_special; i++) {
        const struct wl_token *t = &v->tokens[v->special[i]];
        if (t->len > 1)
            v->special_by2[v->special_at[first_two(t)]++] = (uint32_t)i;
    }
    memmove(v->special_at + 1, v->special_at, 65536 * sizeof *v->special_at);
    v->special_at[0] = 0;
    return WOOLLY_OK;
}

static woolly_status build_special(woolly_vocab *v)
{
    const uint32_t mask = WL_ATTR_CONTROL | WL_ATTR_USER_DEFINED | WL_ATTR_UNKNOWN;
    struct special_key *keys;
    size_t n = 0;

    for (int32_t i = 0; i < v->n_tokens; i++)
        n += (v->tokens[i].attr & mask) != 0;
    v->special = malloc((n ? n : 1) * sizeof *v->special);
    keys = malloc((n ? n : 1) * sizeof *keys);
    if (!v->special || !keys) {
        free(keys);
        return WOOLLY_ERR_NOMEM;
    }
    for (int32_t i = 0; i < v->n_tokens; i++)
        if (v->tokens[i].attr & mask)
            keys[v->n_special++] = (struct special_key){ v->tokens[i].len, i };
    if (v->n_special)
        qsort(keys, v->n_special, sizeof *keys, cmp_special);
    for (size_t i = 0; i < v->n_special; i++)
        v->special[i] = keys[i].id;
    free(keys);
    return index_special(v);
}

/* Phi-3's special tokens swallow the whitespace after them (llama.cpp
 * recognises the model by its general.name). */
static void set_phi3_strip(woolly_vocab *v, const char *name)
{
    char lower[256];
    size_t i;
    int32_t id;

    if (!name)
        return;
    for (i = 0; name[i] && i < sizeof lower - 1; i++)
        lower[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
    lower[i] = '\0';
    if (!strstr(lower, "phi-3") && !strstr(lower, "phi3"))
        return;
    for (i = 0; i < v->n_special; i++)
        v->tokens[v->special[i]].attr |= WL_ATTR_RSTRIP;
    if ((id = find_str(v, "</s>")) >= 0)
        v->tokens[id].attr |= WL_ATTR_RSTRIP;
    for (const char *const *n = (const char *const[]){ "<unk>", "<s>", "<|endoftext|>", NULL }; *n; n++)
        if ((id = find_str(v, *n)) >= 0)
            v->tokens[id].attr &= ~(uint32_t)WL_ATTR_RSTRIP;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The byte of a byte token "<0xXX>" (hex digits read as far as they go). */
static unsigned char byte_of_token(const struct wl_token *t)
{
    unsigned value = 0;
    for (uint32_t i = 3; i < 5 && i < t->len && hex_digit(t->text[i]) >= 0; i++)
        value = value * 16 + (unsigned)hex_digit(t->text[i]);
    return (unsigned char)value;
}

/* SentencePiece's byte fallback: "<0xXX>", else the byte itself as a token. */
static void build_byte_tokens(woolly_vocab *v)
{
    for (int b = 0; b < 256; b++) {
        char name[8];
        char c = (char)b;
        snprintf(name, sizeof name, "<0x%02X>", b);
        v->byte_token[b] = find_str(v, name);
        if (v->byte_token[b] < 0)
            v->byte_token[b] = wl_vocab_find(v, &c, 1);
    }
}

/* Whether any token holds U+2581 after something else ("a\u2581"): only
 * then can a SentencePiece merge reach across the start of a word. */
static int words_apart(const woolly_vocab *v)
{
    static const char space[] = "\xe2\x96\x81";

    for (int32_t i = 0; i < v->n_tokens; i++) {
        const char *t = v->tokens[i].text;
        size_t len = v->tokens[i].len;
        while (len >= 3 && memcmp(t, space, 3) == 0) {
            t += 3;
            len -= 3;
        }
        if (len >= 3 && memmem(t, len, space, 3))
            return 0;
    }
    return 1;
}

/* What each token stands for, computed once (with special tokens rendered;
 * woolly_token_to_piece hides them unless asked). */
static woolly_status build_pieces(woolly_vocab *v)
{
    size_t total = 1, off = 0;

    for (int32_t i = 0; i < v->n_tokens; i++)
        total += v->tokens[i].len;
    if (total > UINT32_MAX)
        return WOOLLY_ERR_NOMEM;
    v->pieces = malloc(total);
    if (!v->pieces)
        return WOOLLY_ERR_NOMEM;
    for (int32_t i = 0; i < v->n_tokens; i++) {
        struct wl_token *t = &v->tokens[i];
        char *out = v->pieces + off;
        size_t n = 0;

        if (t->attr & (WL_ATTR_UNKNOWN | WL_ATTR_CONTROL | WL_ATTR_USER_DEFINED)) {
            memcpy(out, t->text, t->len);
            n = t->len;
        } else if (t->attr & WL_ATTR_NORMAL) {
            if (v->type == WL_VOCAB_BPE) {
                n = wl_bpe_decode(t->text, t->len, out);
            } else {
                /* U+2581 (3 bytes) becomes a space */
                for (uint32_t j = 0; j < t->len; j++) {
                    if (j + 2 < t->len && memcmp(t->text + j, "\xe2\x96\x81", 3) == 0) {
                        out[n++] = ' ';
                        j += 2;
                    } else {
                        out[n++] = t->text[j];
                    }
                }
            }
        } else if (t->attr & WL_ATTR_BYTE) {
            out[n++] = (char)byte_of_token(t);
        }
        t->piece_off = (uint32_t)off;
        t->piece_len = (uint32_t)n;
        off += n;
    }
    return WOOLLY_OK;
}

static woolly_status check_add_special(const woolly_vocab *v, int add, enum wl_special role,
                                       const char *what, char *errbuf, size_t errsize)
{
    if (add && v->ids[role] < 0) {
        wl_errbuf(errbuf, errsize, "tokenizer.ggml.add_%s_token is true, but "
                  "tokenizer.ggml.%s_token_id is not set", what, what);
        return WOOLLY_ERR_FORMAT;
    }
    return WOOLLY_OK;
}

woolly_status wl_vocab_build(const struct wl_vocab_init *in, woolly_vocab **out, char *errbuf,
                             size_t errsize)
{
    woolly_vocab *v;
    woolly_status st;

    *out = NULL;
    if (in->type != WL_VOCAB_SPM && in->type != WL_VOCAB_BPE) {
        wl_errbuf(errbuf, errsize, "unknown vocabulary type %d", (int)in->type);
        return WOOLLY_ERR_INVALID;
    }
    if (in->n_tokens == 0 || in->n_tokens > INT32_MAX || !in->texts) {
        wl_errbuf(errbuf, errsize, "a vocabulary of %zu tokens", in->n_tokens);
        return WOOLLY_ERR_FORMAT;
    }
    if (in->n_merges && !in->merges) {
        wl_errbuf(errbuf, errsize, "merges missing");
        return WOOLLY_ERR_INVALID;
    }
    v = calloc(1, sizeof *v);
    if (!v)
        return WOOLLY_ERR_NOMEM;
    v->type = in->type;
    v->n_tokens = (int32_t)in->n_tokens;

    /* the tokenizer type's defaults, before the metadata speaks */
    if (v->type == WL_VOCAB_SPM) {
        v->add_space_prefix = 1;
        v->add_bos = 1;
    }
    default_special_ids(v);
    st = build_tokens(v, in, errbuf, errsize);
    if (st == WOOLLY_OK && v->type == WL_VOCAB_BPE) {
        st = build_merges(v, in);
        /* the pre-tokenizer may change add_bos, bos and ignore_merges */
        if (st == WOOLLY_OK)
            st = wl_bpe_init(v, in->pre, errbuf, errsize);
    }
    if (st == WOOLLY_OK)
        set_special_ids(v, in);
    if (st == WOOLLY_OK) {
        if (in->add_space_prefix >= 0)
            v->add_space_prefix = in->add_space_prefix != 0;
        if (in->add_bos >= 0)
            v->add_bos = in->add_bos != 0;
        if (in->add_eos >= 0)
            v->add_eos = in->add_eos != 0;
        st = check_add_special(v, v->add_bos, WL_SP_BOS, "bos", errbuf, errsize);
    }
    if (st == WOOLLY_OK)
        st = check_add_special(v, v->add_eos, WL_SP_EOS, "eos", errbuf, errsize);
    if (st == WOOLLY_OK)
        st = build_eog(v);
    if (st == WOOLLY_OK)
        st = build_special(v);
    if (st == WOOLLY_OK) {
        set_phi3_strip(v, in->name);
        build_byte_tokens(v);
        v->spm_words_apart = v->type == WL_VOCAB_SPM && words_apart(v);
        st = build_pieces(v);
    }
    if (st != WOOLLY_OK) {
        if (st == WOOLLY_ERR_NOMEM)
            wl_errbuf(errbuf, errsize, "out of memory building a vocabulary of %zu tokens",
                      in->n_tokens);
        woolly_vocab_free(v);
        return st;
    }
    *out = v;
    return WOOLLY_OK;
}

void woolly_vocab_free(woolly_vocab *v)
{
    if (!v)
        return;
    wl_bpe_free(v);
    free(v->tokens);
    free(v->arena);
    free(v->pieces);
    free(v->map);
    free(v->eog);
    free(v->special);
    free(v->special_at);
    free(v->special_by2);
    free(v->merges);
    free(v->merge_arena);
    free(v);
}

/* ---- from GGUF metadata ------------------------------------------------ */

struct gguf_reader {
    const woolly_gguf *gguf;
    char *errbuf;
    size_t errsize;
};

/* The index of KEY, -1 when absent. */
static int64_t key_index(const struct gguf_reader *r, const char *key)
{
    return woolly_gguf_find_key(r->gguf, key);
}

static woolly_status read_string(const struct gguf_reader *r, const char *key, int required,
                                 char **out)
{
    int64_t i = key_index(r, key);
    const char *s;
    size_t len;

    *out = NULL;
    if (i < 0) {
        if (!required)
            return WOOLLY_OK;
        wl_errbuf(r->errbuf, r->errsize, "%s is missing", key);
        return WOOLLY_ERR_FORMAT;
    }
    if (woolly_gguf_kv_string(r->gguf, (size_t)i, &s, &len) != WOOLLY_OK) {
        wl_errbuf(r->errbuf, r->errsize, "%s is not a string", key);
        return WOOLLY_ERR_FORMAT;
    }
    *out = malloc(len + 1);
    if (!*out)
        return WOOLLY_ERR_NOMEM;
    memcpy(*out, s, len);
    (*out)[len] = '\0';
    return WOOLLY_OK;
}

static woolly_status read_bool(const struct gguf_reader *r, const char *key, int *out)
{
    int64_t i = key_index(r, key);

    if (i < 0)
        return WOOLLY_OK;
    if (woolly_gguf_kv_bool(r->gguf, (size_t)i, out) != WOOLLY_OK) {
        wl_errbuf(r->errbuf, r->errsize, "%s is not a bool", key);
        return WOOLLY_ERR_FORMAT;
    }
    return WOOLLY_OK;
}

static woolly_status read_id(const struct gguf_reader *r, const char *key, int64_t *out)
{
    int64_t i = key_index(r, key);
    uint64_t value;

    if (i < 0)
        return WOOLLY_OK;
    if (woolly_gguf_kv_uint(r->gguf, (size_t)i, &value) != WOOLLY_OK) {
        wl_errbuf(r->errbuf, r->errsize, "%s is not a token id", key);
        return WOOLLY_ERR_FORMAT;
    }
    *out = value > INT32_MAX ? INT32_MAX : (int64_t)value;
    return WOOLLY_OK;
}

/* An array of KEY: its index, checked to hold ELEM_TYPE (or ALT_TYPE) and
 * at least MIN elements; -1 when absent and not REQUIRED. */
static woolly_status read_array(const struct gguf_reader *r, const char *key, int required,
                                woolly_gguf_type elem_type, woolly_gguf_type alt_type,
                                uint64_t min, int64_t *index, woolly_gguf_type *type,
                                uint64_t *count)
{
    int64_t i = key_index(r, key);

    *index = i;
    if (i < 0) {
        if (!required)
            return WOOLLY_OK;
        wl_errbuf(r->errbuf, r->errsize, "%s is missing", key);
        return WOOLLY_ERR_FORMAT;
    }
    if (woolly_gguf_kv_array(r->gguf, (size_t)i, type, count) != WOOLLY_OK ||
        (*type != elem_type && *type != alt_type)) {
        wl_errbuf(r->errbuf, r->errsize, "%s is not an array of %s", key,
                  woolly_gguf_type_name(elem_type));
        return WOOLLY_ERR_FORMAT;
    }
    if (*count < min) {
        wl_errbuf(r->errbuf, r->errsize, "%s has %llu elements, fewer than the %llu tokens", key,
                  (unsigned long long)*count, (unsigned long long)min);
        return WOOLLY_ERR_FORMAT;
    }
    return WOOLLY_OK;
}

/* An array of strings as pointers into the file. */
static woolly_status read_strings(const struct gguf_reader *r, int64_t index, size_t count,
                                  const char ***strs, size_t **lens)
{
    *strs = malloc((count ? count : 1) * sizeof **strs);
    *lens = malloc((count ? count : 1) * sizeof **lens);
    if (!*strs || !*lens)
        return WOOLLY_ERR_NOMEM;
    for (size_t j = 0; j < count; j++)
        if (woolly_gguf_kv_array_string(r->gguf, (size_t)index, j, &(*strs)[j], &(*lens)[j]) !=
            WOOLLY_OK) {
            wl_errbuf(r->errbuf, r->errsize, "string %zu of %s cannot be read", j,
                      woolly_gguf_kv_key(r->gguf, (size_t)index));
            return WOOLLY_ERR_FORMAT;
        }
    return WOOLLY_OK;
}

/* Little-endian 32-bit values of a numeric array, host order. */
static woolly_status read_u32s(const struct gguf_reader *r, int64_t index, size_t count,
                               uint32_t **out)
{
    const unsigned char *p = woolly_gguf_kv_array_data(r->gguf, (size_t)index);

    if (!p) {
        wl_errbuf(r->errbuf, r->errsize, "%s cannot be read",
                  woolly_gguf_kv_key(r->gguf, (size_t)index));
        return WOOLLY_ERR_FORMAT;
    }
    *out = malloc((count ? count : 1) * sizeof **out);
    if (!*out)
        return WOOLLY_ERR_NOMEM;
    for (size_t j = 0; j < count; j++, p += 4)
        (*out)[j] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                    (uint32_t)p[3] << 24;
    return WOOLLY_OK;
}

struct load_state {
    struct wl_vocab_init init;
    char *model, *pre, *name;
    const char **texts, **merges;
    size_t *lens, *merge_lens;
    uint32_t *scores_raw, *types_raw;
    float *scores;
};

static void load_state_free(struct load_state *s)
{
    free(s->model);
    free(s->pre);
    free(s->name);
    free(s->texts);
    free(s->merges);
    free(s->lens);
    free(s->merge_lens);
    free(s->scores_raw);
    free(s->types_raw);
    free(s->scores);
}

static woolly_status load_arrays(const struct gguf_reader *r, struct load_state *s)
{
    struct wl_vocab_init *in = &s->init;
    woolly_gguf_type type;
    uint64_t count;
    int64_t i;
    woolly_status st;

    st = read_array(r, "tokenizer.ggml.tokens", 1, WOOLLY_GGUF_STRING, WOOLLY_GGUF_STRING, 1, &i,
                    &type, &count);
    if (st != WOOLLY_OK)
        return st;
    if (count > INT32_MAX) {
        wl_errbuf(r->errbuf, r->errsize, "tokenizer.ggml.tokens has %llu tokens",
                  (unsigned long long)count);
        return WOOLLY_ERR_FORMAT;
    }
    in->n_tokens = (size_t)count;
    st = read_strings(r, i, in->n_tokens, &s->texts, &s->lens);
    if (st != WOOLLY_OK)
        return st;
    in->texts = s->texts;
    in->lens = s->lens;

    st = read_array(r, "tokenizer.ggml.scores", 0, WOOLLY_GGUF_FLOAT32, WOOLLY_GGUF_INT32,
                    in->n_tokens, &i, &type, &count);
    if (st == WOOLLY_OK && i >= 0) {
        st = read_u32s(r, i, in->n_tokens, &s->scores_raw);
        if (st == WOOLLY_OK && !(s->scores = malloc(in->n_tokens * sizeof *s->scores)))
            st = WOOLLY_ERR_NOMEM;
        for (size_t j = 0; st == WOOLLY_OK && j < in->n_tokens; j++) {
            if (type == WOOLLY_GGUF_INT32)
                s->scores[j] = (float)(int32_t)s->scores_raw[j];
            else
                memcpy(&s->scores[j], &s->scores_raw[j], sizeof(float));
        }
        in->scores = s->scores;
    }
    if (st != WOOLLY_OK)
        return st;

    st = read_array(r, "tokenizer.ggml.token_type", 0, WOOLLY_GGUF_INT32, WOOLLY_GGUF_INT32,
                    in->n_tokens, &i, &type, &count);
    if (st == WOOLLY_OK && i >= 0) {
        st = read_u32s(r, i, in->n_tokens, &s->types_raw);
        in->types = (const int32_t *)s->types_raw;
    }
    if (st != WOOLLY_OK || in->type != WL_VOCAB_BPE)
        return st;

    st = read_array(r, "tokenizer.ggml.merges", 1, WOOLLY_GGUF_STRING, WOOLLY_GGUF_STRING, 0, &i,
                    &type, &count);
    if (st == WOOLLY_OK && count > INT32_MAX) {
        wl_errbuf(r->errbuf, r->errsize, "tokenizer.ggml.merges has %llu merges",
                  (unsigned long long)count);
        st = WOOLLY_ERR_FORMAT;
    }
    if (st == WOOLLY_OK) {
        in->n_merges = (size_t)count;
        st = read_strings(r, i, in->n_merges, &s->merges, &s->merge_lens);
        in->merges = s->merges;
        in->merge_lens = s->merge_lens;
    }
    return st;
}

woolly_status woolly_vocab_load(const woolly_gguf *gguf, woolly_vocab **out, char *errbuf,
                                size_t errsize)
{
    struct gguf_reader r = { gguf, errbuf, errsize };
    struct load_state s;
    woolly_status st;
    char key[64];

    if (!out)
        return WOOLLY_ERR_INVALID;
    *out = NULL;
    if (!gguf) {
        wl_errbuf(errbuf, errsize, "no GGUF file");
        return WOOLLY_ERR_INVALID;
    }
    memset(&s, 0, sizeof s);
    wl_vocab_init_defaults(&s.init);

    st = read_string(&r, "tokenizer.ggml.model", 1, &s.model);
    if (st == WOOLLY_OK) {
        if (strcmp(s.model, "llama") == 0) {
            s.init.type = WL_VOCAB_SPM;
        } else if (strcmp(s.model, "gpt2") == 0) {
            s.init.type = WL_VOCAB_BPE;
        } else {
            wl_errbuf(errbuf, errsize, "tokenizer model '%s' is not supported "
                      "(woolly knows 'llama' and 'gpt2')", s.model);
            st = WOOLLY_ERR_UNSUPPORTED;
        }
    }
    if (st == WOOLLY_OK)
        st = read_string(&r, "tokenizer.ggml.pre", 0, &s.pre);
    if (st == WOOLLY_OK && s.init.type == WL_VOCAB_BPE && s.pre && *s.pre &&
        !wl_bpe_pre_known(s.pre)) {
        wl_errbuf(errbuf, errsize, "pre-tokenizer '%s' (tokenizer.ggml.pre) is not supported",
                  s.pre);
        st = WOOLLY_ERR_UNSUPPORTED;
    }
    if (st == WOOLLY_OK)
        st = read_string(&r, "general.name", 0, &s.name);
    if (st == WOOLLY_OK)
        st = load_arrays(&r, &s);
    for (int i = 0; st == WOOLLY_OK && i < WL_SP_COUNT; i++) {
        snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", special_key[i]);
        st = read_id(&r, key, &s.init.ids[i]);
    }
    if (st == WOOLLY_OK)
        st = read_bool(&r, "tokenizer.ggml.add_bos_token", &s.init.add_bos);
    if (st == WOOLLY_OK)
        st = read_bool(&r, "tokenizer.ggml.add_eos_token", &s.init.add_eos);
    if (st == WOOLLY_OK)
        st = read_bool(&r, "tokenizer.ggml.add_space_prefix", &s.init.add_space_prefix);
    if (st == WOOLLY_OK) {
        s.init.pre = s.pre;
        s.init.name = s.name;
        st = wl_vocab_build(&s.init, out, errbuf, errsize);
    } else if (st == WOOLLY_ERR_NOMEM) {
        wl_errbuf(errbuf, errsize, "out of memory reading the vocabulary");
    }
    load_state_free(&s);
    return st;
}

/* ---- accessors --------------------------------------------------------- */

int32_t woolly_vocab_n_tokens(const woolly_vocab *v)
{
    return v ? v->n_tokens : 0;
}

int32_t woolly_vocab_bos(const woolly_vocab *v)
{
    return v ? v->ids[WL_SP_BOS] : -1;
}

int32_t woolly_vocab_eos(const woolly_vocab *v)
{
    return v ? v->ids[WL_SP_EOS] : -1;
}

int32_t woolly_vocab_unk(const woolly_vocab *v)
{
    return v ? v->ids[WL_SP_UNK] : -1;
}

int32_t woolly_vocab_pad(const woolly_vocab *v)
{
    return v ? v->ids[WL_SP_PAD] : -1;
}

int woolly_vocab_is_eog(const woolly_vocab *v, int32_t token)
{
    if (!v || token < 0 || v->n_eog == 0)
        return 0;
    return bsearch(&token, v->eog, v->n_eog, sizeof *v->eog, cmp_id) != NULL;
}

const char *woolly_vocab_token_text(const woolly_vocab *v, int32_t token)
{
    if (!v || token < 0 || token >= v->n_tokens)
        return NULL;
    return v->tokens[token].text;
}
