/*
 * tokenizer.c - text to tokens and back: splitting the text on special
 * tokens, adding BOS/EOS, handing each piece of plain text to the
 * SentencePiece or BPE tokenizer; token pieces and the streaming
 * detokenizer.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "vocab.h"

void *wl_grow(void *buf, size_t *cap, size_t n, size_t size)
{
    size_t want = *cap ? *cap : 16;
    void *nb;

    if (n <= *cap)
        return buf;
    while (want < n) {
        if (want > SIZE_MAX / 2)
            return NULL;
        want *= 2;
    }
    if (want > SIZE_MAX / size)
        return NULL;
    nb = realloc(buf, want * size);
    if (nb)
        *cap = want;
    return nb;
}

static woolly_status frags_push(struct wl_frags *f, size_t off, size_t len, int32_t token)
{
    if (token < 0 && len == 0)
        return WOOLLY_OK;
    if (f->n == f->cap) {
        struct wl_frag *nv = wl_grow(f->v, &f->cap, f->n + 1, sizeof *f->v);
        if (!nv)
            return WOOLLY_ERR_NOMEM;
        f->v = nv;
    }
    f->v[f->n++] = (struct wl_frag){ off, len, token };
    return WOOLLY_OK;
}

/* isspace() in the C locale, which llama.cpp uses to strip around tokens. */
static int is_c_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* An occurrence of special token v->special[ORDER] at POS. */
struct match {
    size_t order, pos;
};

static int cmp_match(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int cmp_match_pos(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

struct matches {
    struct match *v;
    size_t n, cap;
};

static woolly_status matches_push(struct matches *m, size_t order, size_t pos)
{
    if (m->n == m->cap) {
        struct match *nv = wl_grow(m->v, &m->cap, m->n + 1, sizeof *m->v);
        if (!nv)
            return WOOLLY_ERR_NOMEM;
        m->v = nv;
    }
    m->v[m->n++] = (struct match){ order, pos };
    return WOOLLY_OK;
}

static int usable(const woolly_vocab *v, size_t order, int parse_special)
{
    return parse_special ||
           !(v->tokens[v->special[order]].attr & (WL_ATTR_CONTROL | WL_ATTR_UNKNOWN));
}

/* Every place in the text where a special token's text is. */
static woolly_status find_all(const woolly_vocab *v, const char *text, size_t len,
                              int parse_special, struct matches *m)
{
    const unsigned char *s = (const unsigned char *)text;
    woolly_status st = WOOLLY_OK;

    for (size_t i = 0; i < len && st == WOOLLY_OK; i++) {
        int32_t one = v->special_by1[s[i]];
        if (one >= 0 && usable(v, (size_t)one, parse_special))
            st = matches_push(m, (size_t)one, i);
        if (i + 1 < len) {
            unsigned key = (unsigned)s[i] << 8 | s[i + 1];
            for (uint32_t k = v->special_at[key]; k < v->special_at[key + 1] && st == WOOLLY_OK;
                 k++) {
                const struct wl_token *t = &v->tokens[v->special[v->special_by2[k]]];
                if (t->len <= len - i && memcmp(text + i, t->text, t->len) == 0 &&
                    usable(v, v->special_by2[k], parse_special))
                    st = matches_push(m, v->special_by2[k], i);
            }
        }
    }
    return st;
}

/* Split the text on special tokens as llama.cpp does: one token after the
 * other, longest first, each cutting the text that is left at every place
 * it occurs (left to right, not overlapping), the whitespace next to it
 * dropped when it strips.  Control and unknown tokens only when
 * PARSE_SPECIAL; user-defined ones always, as llama.cpp does.
 *
 * Done in one pass over the text: all occurrences are found first, then
 * taken token by token wherever none of their bytes is gone yet (the text
 * left is exactly the bytes no token or stripping has taken). */
woolly_status wl_split_special(const woolly_vocab *v, const char *text, size_t len,
                              int parse_special, struct wl_frags *out)
{
    struct matches m = { NULL, 0, 0 };
    unsigned char *taken = NULL;
    size_t n_kept = 0, at = 0;
    woolly_status st;

    out->n = 0;
    st = find_all(v, text, len, parse_special, &m);
    if (st != WOOLLY_OK || m.n == 0) {
        free(m.v);
        return st == WOOLLY_OK ? frags_push(out, 0, len, -1) : st;
    }
    taken = calloc(len, 1);
    if (!taken) {
        free(m.v);
        return WOOLLY_ERR_NOMEM;
    }
    qsort(m.v, m.n, sizeof *m.v, cmp_match);
    for (size_t i = 0; i < m.n; i++) {
        const struct wl_token *t = &v->tokens[v->special[m.v[i].order]];
        size_t pos = m.v[i].pos, end = pos + t->len;
        if (memchr(taken + pos, 1, t->len))
            continue;
        memset(taken + pos, 1, t->len);
        if (t->attr & WL_ATTR_LSTRIP)
            for (size_t k = pos; k > 0 && !taken[k - 1] && is_c_space(text[k - 1]); k--)
                taken[k - 1] = 1;
        if (t->attr & WL_ATTR_RSTRIP)
            for (size_t k = end; k < len && !taken[k] && is_c_space(text[k]); k++)
                taken[k] = 1;
        m.v[n_kept++] = m.v[i];
    }
    qsort(m.v, n_kept, sizeof *m.v, cmp_match_pos);
    for (size_t i = 0; i <= n_kept && st == WOOLLY_OK; i++) {
        size_t stop = i < n_kept ? m.v[i].pos : len;
        /* the text before this token, less what stripping took */
        while (at < stop && st == WOOLLY_OK) {
            size_t run = at;
            while (run < stop && !taken[run])
                run++;
            st = frags_push(out, at, run - at, -1);
            while (run < stop && taken[run])
                run++;
            at = run;
        }
        if (i < n_kept && st == WOOLLY_OK) {
            int32_t id = v->special[m.v[i].order];
            st = frags_push(out, 0, 0, id);
            at = stop + v->tokens[id].len;
        }
    }
    free(taken);
    free(m.v);
    return st;
}

static woolly_status tokenize_frags(const woolly_vocab *v, const char *text,
                                    const struct wl_frags *frags, int add_special,
                                    struct wl_tokbuf *out)
{
    woolly_status st = WOOLLY_OK;
    int prev_special = 1;   /* SentencePiece: a space before the first text */

    if (add_special && v->add_bos)
        st = wl_tokbuf_push(out, v->ids[WL_SP_BOS]);
    for (size_t i = 0; i < frags->n && st == WOOLLY_OK; i++) {
        const struct wl_frag *f = &frags->v[i];
        if (f->token >= 0) {
            st = wl_tokbuf_push(out, f->token);
            prev_special = 1;
        } else if (v->type == WL_VOCAB_SPM) {
            st = wl_spm_tokenize(v, text + f->off, f->len, v->add_space_prefix && prev_special,
                                 out);
            prev_special = 0;
        } else {
            st = wl_bpe_tokenize(v, text + f->off, f->len, out);
        }
    }
    if (st == WOOLLY_OK && add_special && v->add_eos)
        st = wl_tokbuf_push(out, v->ids[WL_SP_EOS]);
    return st;
}

woolly_status woolly_tokenize(const woolly_vocab *v, const char *text, size_t len, unsigned flags,
                              int32_t *tokens, size_t cap, size_t *n_tokens)
{
    struct wl_frags frags = { NULL, 0, 0 };
    struct wl_tokbuf out = { NULL, 0, 0 };
    woolly_status st;

    if (n_tokens)
        *n_tokens = 0;
    if (!v || !n_tokens || (!text && len) || (!tokens && cap))
        return WOOLLY_ERR_INVALID;
    if (!text)
        text = "";
    st = wl_split_special(v, text, len, (flags & WOOLLY_TOKENIZE_PARSE_SPECIAL) != 0, &frags);
    if (st == WOOLLY_OK)
        st = tokenize_frags(v, text, &frags, (flags & WOOLLY_TOKENIZE_ADD_SPECIAL) != 0, &out);
    if (st == WOOLLY_OK) {
        *n_tokens = out.n;
        if (out.n && cap)
            memcpy(tokens, out.v, (out.n < cap ? out.n : cap) * sizeof *tokens);
        if (out.n > cap)
            st = WOOLLY_ERR_RANGE;
    }
    free(frags.v);
    free(out.v);
    return st;
}

/* ---- merging ----------------------------------------------------------- */

static int bigram_before(const struct wl_bigram *a, const struct wl_bigram *b)
{
    return a->priority > b->priority || (a->priority == b->priority && a->left < b->left);
}

static woolly_status heap_push(struct wl_merger *m, struct wl_bigram b)
{
    size_t i;

    if (m->n_heap == m->cap_heap) {
        struct wl_bigram *nh = wl_grow(m->heap, &m->cap_heap, m->n_heap + 1, sizeof *m->heap);
        if (!nh)
            return WOOLLY_ERR_NOMEM;
        m->heap = nh;
    }
    i = m->n_heap++;
    while (i > 0 && bigram_before(&b, &m->heap[(i - 1) / 2])) {
        m->heap[i] = m->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    m->heap[i] = b;
    return WOOLLY_OK;
}

static struct wl_bigram heap_pop(struct wl_merger *m)
{
    struct wl_bigram top = m->heap[0], last = m->heap[--m->n_heap];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m->n_heap)
            break;
        if (c + 1 < m->n_heap && bigram_before(&m->heap[c + 1], &m->heap[c]))
            c++;
        if (!bigram_before(&m->heap[c], &last))
            break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (m->n_heap)
        m->heap[i] = last;
    return top;
}

/* Queue the merge of LEFT and RIGHT if they may merge. */
static woolly_status try_bigram(struct wl_merger *m, int left, int right)
{
    const struct wl_symbol *l, *r;
    double priority;

    if (left < 0 || right < 0)
        return WOOLLY_OK;
    l = &m->sym[left];
    r = &m->sym[right];
    if (!m->priority(m, l, r, &priority))
        return WOOLLY_OK;
    return heap_push(m, (struct wl_bigram){ priority, left, right, l->n + r->n });
}

woolly_status wl_merger_split(struct wl_merger *m, const char *text, size_t len, size_t *n_sym)
{
    size_t count = 0;

    if (len > INT32_MAX / 4)
        return WOOLLY_ERR_RANGE;    /* symbol indices are ints */
    if (len > m->cap_sym) {
        struct wl_symbol *ns = wl_grow(m->sym, &m->cap_sym, len, sizeof *m->sym);
        if (!ns)
            return WOOLLY_ERR_NOMEM;
        m->sym = ns;
    }
    m->text = text;
    for (size_t off = 0; off < len; count++) {
        size_t clen = wl_utf8_len((unsigned char)text[off]);
        if (clen > len - off)
            clen = len - off;
        m->sym[count] = (struct wl_symbol){ (int)count - 1, -1, off, clen };
        off += clen;
        if (off < len)
            m->sym[count].next = (int)count + 1;
    }
    *n_sym = count;
    return WOOLLY_OK;
}

woolly_status wl_merger_run(struct wl_merger *m, size_t c0, size_t c1)
{
    woolly_status st = WOOLLY_OK;

    m->sym[c0].prev = -1;
    m->sym[c1 - 1].next = -1;
    m->n_heap = 0;
    for (size_t i = c0 + 1; i < c1 && st == WOOLLY_OK; i++)
        st = try_bigram(m, (int)i - 1, (int)i);
    while (st == WOOLLY_OK && m->n_heap) {
        struct wl_bigram b = heap_pop(m);
        struct wl_symbol *l = &m->sym[b.left], *r = &m->sym[b.right];

        /* stale: one side was merged since (symbols only grow rightwards,
         * so the sizes tell) */
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
            continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            m->sym[r->next].prev = b.left;
        st = try_bigram(m, l->prev, b.left);
        if (st == WOOLLY_OK)
            st = try_bigram(m, b.left, l->next);
    }
    return st;
}

void wl_merger_free(struct wl_merger *m)
{
    free(m->sym);
    free(m->heap);
}

/* ---- pieces ------------------------------------------------------------ */

/* The piece of TOKEN; empty for control and unknown tokens unless SPECIAL. */
static const char *piece_of(const woolly_vocab *v, int32_t token, unsigned flags, size_t *len)
{
    const struct wl_token *t = &v->tokens[token];

    if (!(flags & WOOLLY_PIECE_SPECIAL) && (t->attr & (WL_ATTR_CONTROL | WL_ATTR_UNKNOWN))) {
        *len = 0;
        return v->pieces;
    }
    *len = t->piece_len;
    return v->pieces + t->piece_off;
}

woolly_status woolly_token_to_piece(const woolly_vocab *v, int32_t token, unsigned flags, char *buf,
                                    size_t cap, size_t *len)
{
    const char *piece;
    size_t n;

    if (len)
        *len = 0;
    if (!v || !len || (!buf && cap) || token < 0 || token >= v->n_tokens)
        return WOOLLY_ERR_INVALID;
    piece = piece_of(v, token, flags, &n);
    *len = n;
    if (n > cap)
        return WOOLLY_ERR_RANGE;
    if (n)
        memcpy(buf, piece, n);
    return WOOLLY_OK;
}

/* ---- streaming detokenizer --------------------------------------------- */

struct woolly_detokenizer {
    const woolly_vocab *v;
    unsigned char held[4];  /* the start of a character not yet complete */
    size_t n_held;
};

woolly_status woolly_detokenizer_new(const woolly_vocab *v, woolly_detokenizer **out)
{
    woolly_detokenizer *d;

    if (!out)
        return WOOLLY_ERR_INVALID;
    *out = NULL;
    if (!v)
        return WOOLLY_ERR_INVALID;
    d = calloc(1, sizeof *d);
    if (!d)
        return WOOLLY_ERR_NOMEM;
    d->v = v;
    *out = d;
    return WOOLLY_OK;
}

void woolly_detokenizer_free(woolly_detokenizer *d)
{
    free(d);
}

/* The length of a valid UTF-8 sequence that lead byte C starts, 0 when C
 * cannot start one. */
static size_t utf8_seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0;
}

/* How many bytes at the end of S (N bytes) begin a character that more
 * bytes could complete. */
static size_t incomplete_tail(const unsigned char *s, size_t n)
{
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = s[n - back];
        size_t need;
        if ((c & 0xc0) == 0x80)
            continue;   /* a continuation byte: look further back */
        need = utf8_seq_len(c);
        return need > back ? back : 0;
    }
    return 0;
}

woolly_status woolly_detokenizer_push(woolly_detokenizer *d, int32_t token, char *buf, size_t cap,
                                      size_t *len)
{
    const char *piece;
    size_t n, total, tail;

    if (len)
        *len = 0;
    if (!d || !len || (!buf && cap) || token < 0 || token >= d->v->n_tokens)
        return WOOLLY_ERR_INVALID;
    piece = piece_of(d->v, token, 0, &n);
    total = d->n_held + n;
    if (total > cap) {
        *len = total;
        return WOOLLY_ERR_RANGE;
    }
    if (d->n_held)
        memcpy(buf, d->held, d->n_held);
    if (n)
        memcpy(buf + d->n_held, piece, n);
    tail = incomplete_tail((const unsigned char *)buf, total);
    memcpy(d->held, buf + total - tail, tail);
    d->n_held = tail;
    *len = total - tail;
    return WOOLLY_OK;
}

woolly_status woolly_detokenizer_flush(woolly_detokenizer *d, char *buf, size_t cap, size_t *len)
{
    if (len)
        *len = 0;
    if (!d || !len || (!buf && cap))
        return WOOLLY_ERR_INVALID;
    *len = d->n_held;
    if (d->n_held > cap)
        return WOOLLY_ERR_RANGE;
    if (d->n_held)
        memcpy(buf, d->held, d->n_held);
    d->n_held = 0;
    return WOOLLY_OK;
}
