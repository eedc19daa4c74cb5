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

struct symbol {
    int prev, next;     /* -1 at the ends */
    size_t off, n;      /* bytes of the escaped text; n = 0 once merged away */
};

struct bigram {
    float score;
    int left, right;
    size_t size;
};

struct spm {
    const woolly_vocab *v;
    const char *text;
    struct symbol *sym;
    struct bigram *heap;
    size_t n_heap, cap_heap;
};

/* Heap order: the best score first, and of equal scores the leftmost. */
static int bigram_before(const struct bigram *a, const struct bigram *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static woolly_status heap_push(struct spm *s, struct bigram b)
{
    size_t i;

    if (s->n_heap == s->cap_heap) {
        size_t cap = s->cap_heap ? s->cap_heap * 2 : 64;
        struct bigram *nh;
        if (cap > SIZE_MAX / sizeof *nh)
            return WOOLLY_ERR_NOMEM;
        nh = realloc(s->heap, cap * sizeof *nh);
        if (!nh)
            return WOOLLY_ERR_NOMEM;
        s->heap = nh;
        s->cap_heap = cap;
    }
    i = s->n_heap++;
    while (i > 0 && bigram_before(&b, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = b;
    return WOOLLY_OK;
}

static struct bigram heap_pop(struct spm *s)
{
    struct bigram top = s->heap[0], last = s->heap[--s->n_heap];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->n_heap)
            break;
        if (c + 1 < s->n_heap && bigram_before(&s->heap[c + 1], &s->heap[c]))
            c++;
        if (!bigram_before(&s->heap[c], &last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->n_heap)
        s->heap[i] = last;
    return top;
}

/* Queue the merge of LEFT and RIGHT when their text is a token. */
static woolly_status try_bigram(struct spm *s, int left, int right)
{
    size_t size;
    int32_t id;

    if (left < 0 || right < 0)
        return WOOLLY_OK;
    size = s->sym[left].n + s->sym[right].n;
    id = wl_vocab_find(s->v, s->text + s->sym[left].off, size);
    if (id < 0)
        return WOOLLY_OK;
    return heap_push(s, (struct bigram){ s->v->tokens[id].score, left, right, size });
}

/* Emit the tokens of a final symbol: itself when it is a token, else its
 * bytes (a merged symbol is always a token, so this is the single UTF-8
 * characters the vocabulary lacks). */
static woolly_status emit(struct spm *s, const struct symbol *sym, struct wl_tokbuf *out)
{
    const unsigned char *p = (const unsigned char *)s->text + sym->off;
    int32_t id = wl_vocab_find(s->v, (const char *)p, sym->n);
    woolly_status st = WOOLLY_OK;
    size_t j;

    if (id >= 0)
        return wl_tokbuf_push(out, id);
    for (j = 0; j < sym->n && s->v->byte_token[p[j]] >= 0; j++)
        ;
    if (j < sym->n)     /* no byte fallback in this vocabulary */
        return s->v->ids[WL_SP_UNK] >= 0 ? wl_tokbuf_push(out, s->v->ids[WL_SP_UNK]) : WOOLLY_OK;
    for (j = 0; j < sym->n && st == WOOLLY_OK; j++)
        st = wl_tokbuf_push(out, s->v->byte_token[p[j]]);
    return st;
}

/* Escape spaces (and prefix one), then split into UTF-8 characters. */
static woolly_status split(struct spm *s, const char *text, size_t len, int prefix_space,
                           char **escaped, size_t *n_sym)
{
    size_t cap, n = 0, count = 0;
    char *e;

    if (len > (SIZE_MAX - 3) / 3)
        return WOOLLY_ERR_NOMEM;
    cap = 3 * len + 3;
    e = malloc(cap);
    if (!e)
        return WOOLLY_ERR_NOMEM;
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
    s->sym = malloc((n ? n : 1) * sizeof *s->sym);
    if (!s->sym) {
        free(e);
        return WOOLLY_ERR_NOMEM;
    }
    for (size_t off = 0; off < n; count++) {
        size_t clen = wl_utf8_len((unsigned char)e[off]);
        if (clen > n - off)
            clen = n - off;
        s->sym[count] = (struct symbol){ (int)count - 1, -1, off, clen };
        off += clen;
        if (off < n)
            s->sym[count].next = (int)count + 1;
    }
    *escaped = e;
    *n_sym = count;
    return WOOLLY_OK;
}

/* Merge the symbols [C0, C1) (unlinked from the rest) and emit them. */
static woolly_status merge_run(struct spm *s, size_t c0, size_t c1, struct wl_tokbuf *out)
{
    woolly_status st = WOOLLY_OK;

    s->sym[c0].prev = -1;
    s->sym[c1 - 1].next = -1;
    s->n_heap = 0;
    for (size_t i = c0 + 1; i < c1 && st == WOOLLY_OK; i++)
        st = try_bigram(s, (int)i - 1, (int)i);

    while (st == WOOLLY_OK && s->n_heap) {
        struct bigram b = heap_pop(s);
        struct symbol *l = &s->sym[b.left], *r = &s->sym[b.right];

        /* stale: one side was merged since */
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
            continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            s->sym[r->next].prev = b.left;
        st = try_bigram(s, l->prev, b.left);
        if (st == WOOLLY_OK)
            st = try_bigram(s, b.left, l->next);
    }
    for (int i = (int)c0; i >= 0 && st == WOOLLY_OK; i = s->sym[i].next)
        st = emit(s, &s->sym[i], out);
    return st;
}

static int is_space(const struct spm *s, size_t i)
{
    return s->sym[i].n == 3 && memcmp(s->text + s->sym[i].off, SPACE_ESCAPED, 3) == 0;
}

woolly_status wl_spm_tokenize(const woolly_vocab *v, const char *text, size_t len,
                              int prefix_space, struct wl_tokbuf *out)
{
    struct spm s = { v, NULL, NULL, NULL, 0, 0 };
    char *escaped = NULL;
    size_t n_sym = 0;
    woolly_status st;

    if (len > INT32_MAX / 4)
        return WOOLLY_ERR_RANGE;    /* symbol indices are ints */
    st = split(&s, text, len, prefix_space, &escaped, &n_sym);
    s.text = escaped;
    /* The merges of one word never depend on another's when no token
     * reaches across the start of a word (a space after something else):
     * then the words go one at a time, with a small heap, which gives the
     * same tokens as the whole text at once, much faster. */
    for (size_t c0 = 0, c1; c0 < n_sym && st == WOOLLY_OK; c0 = c1) {
        c1 = c0 + 1;
        if (v->spm_words_apart)
            while (c1 < n_sym && !(is_space(&s, c1) && !is_space(&s, c1 - 1)))
                c1++;
        else
            c1 = n_sym;
        st = merge_run(&s, c0, c1, out);
    }
    free(escaped);
    free(s.sym);
    free(s.heap);
    return st;
}
