/*
 * tokenizer-spm.c - SentencePiece (BPE by token score), as llama.cpp does it:
 * spaces become U+2581 (and one goes in front when the vocabulary says so),
 * the text is split into UTF-8 characters, then the adjacent pair whose
 * concatenation is the best-scoring token is merged, again and again.
 * Pieces that are not tokens fall back to byte tokens <0xXX>.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "vocab.h"

#define SPACE_ESCAPED "\xe2\x96\x81"   /* U+2581 LOWER ONE EIGHTH BLOCK */

/* Two symbols merge when together they are a token, best score first. */
static int priority(const struct wl_merger *m, const struct wl_symbol *l,
                    const struct wl_symbol *r, double *out)
{
    int32_t id = wl_vocab_find(m->v, m->text + l->off, l->n + r->n);

    if (id < 0)
        return 0;
    *out = m->v->tokens[id].score;
    return 1;
}

/* Emit the tokens of a final symbol: itself when it is a token, else its
 * bytes (a merged symbol is always a token, so this is the single UTF-8
 * characters the vocabulary lacks). */
static woolly_status emit(const struct wl_merger *m, const struct wl_symbol *sym,
                          struct wl_tokbuf *out)
{
    const woolly_vocab *v = m->v;
    const unsigned char *p = (const unsigned char *)m->text + sym->off;
    int32_t id = wl_vocab_find(v, (const char *)p, sym->n);
    woolly_status st = WOOLLY_OK;
    size_t j;

    if (id >= 0)
        return wl_tokbuf_push(out, id);
    for (j = 0; j < sym->n && v->byte_token[p[j]] >= 0; j++)
        ;
    if (j < sym->n)     /* no byte fallback in this vocabulary */
        return v->ids[WL_SP_UNK] >= 0 ? wl_tokbuf_push(out, v->ids[WL_SP_UNK]) : WOOLLY_OK;
    for (j = 0; j < sym->n && st == WOOLLY_OK; j++)
        st = wl_tokbuf_push(out, v->byte_token[p[j]]);
    return st;
}

/* The text with each space (and one in front, when asked) as U+2581. */
static char *escape(const char *text, size_t len, int prefix_space, size_t *out_len)
{
    size_t n = 0;
    char *e;

    if (len > (SIZE_MAX - 3) / 3)
        return NULL;
    e = malloc(3 * len + 3);
    if (!e)
        return NULL;
    if (prefix_space) {
        memcpy(e, SPACE_ESCAPED, 3);
        n = 3;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(e + n, SPACE_ESCAPED, 3);
            n += 3;
        } else {
            e[n++] = text[i];
        }
    }
    *out_len = n;
    return e;
}

static int is_space(const struct wl_merger *m, size_t i)
{
    return m->sym[i].n == 3 && memcmp(m->text + m->sym[i].off, SPACE_ESCAPED, 3) == 0;
}

woolly_status wl_spm_tokenize(const woolly_vocab *v, const char *text, size_t len,
                              int prefix_space, struct wl_tokbuf *out)
{
    struct wl_merger m = { v, NULL, NULL, 0, NULL, 0, 0, priority };
    size_t n_esc = 0, n_sym = 0;
    char *escaped = escape(text, len, prefix_space, &n_esc);
    woolly_status st = escaped ? WOOLLY_OK : WOOLLY_ERR_NOMEM;

    if (st == WOOLLY_OK)
        st = wl_merger_split(&m, escaped, n_esc, &n_sym);
    /* The merges of one word never depend on another's when no token
     * reaches across the start of a word (a space after something else):
     * then the words go one at a time, with a small heap, which gives the
     * same tokens as the whole text at once, much faster. */
    for (size_t c0 = 0, c1; c0 < n_sym && st == WOOLLY_OK; c0 = c1) {
        c1 = c0 + 1;
        if (v->spm_words_apart)
            while (c1 < n_sym && !(is_space(&m, c1) && !is_space(&m, c1 - 1)))
                c1++;
        else
            c1 = n_sym;
        st = wl_merger_run(&m, c0, c1);
        for (int i = (int)c0; i >= 0 && st == WOOLLY_OK; i = m.sym[i].next)
            st = emit(&m, &m.sym[i], out);
    }
    free(escaped);
    wl_merger_free(&m);
    return st;
}
