/*
 * repack.c - a model's matrices rearranged once, at load, for kernels that
 * read them faster so (wl_type_kernels' repack and gemm_packed).
 *
 * The one-token kernels of AVX512-VNNI read 16 rows at once; in the
 * file's layout those are 16 streams, which they turn into lanes with
 * shuffles.  Repacked (Q4_0, Q4_K, Q6_K), a strip of 16 rows is one stream
 * with each vector already a lane a row (lib/kernels/strips.h).  The
 * result of every product keeps its bits.
 *
 * Memory woolly owns (a model read without mmap, a synthetic model) is
 * repacked in place, a strip at a time.  A mapped file is copied into
 * anonymous memory and its pages of those matrices are let go (the page
 * cache keeps them); the token embeddings, read row by row, stay where
 * they are, and an output matrix tied to them is copied.
 */
#include <config.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "model.h"
#include "repack.h"
#include "threadpool.h"

/* One matrix to repack: its strips are FIRST.. of all the matrices'. */
struct repack_item {
    const wl_type_kernels *tk;
    wl_matrix *w;
    uint8_t *dst;        /* the repacked matrix (== w->data: in place) */
    size_t first;
};

struct repack_job {
    const struct repack_item *items;
    size_t n_items, n_strips, max_strip;
    atomic_int failed;   /* in place: a thread had no room for a strip */
};

/* A thread's share of all the strips, one contiguous run of them, so that
 * each thread fills (and faults in) its own stretch of the copy. */
static void repack_strips(void *arg, int ith, int nth)
{
    struct repack_job *j = arg;
    uint8_t *tmp = NULL;
    long b, e;

    wl_split((long)j->n_strips, ith, nth, &b, &e);
    for (size_t i = 0; i < j->n_items; i++) {
        const struct repack_item *it = &j->items[i];
        const wl_matrix *w = it->w;
        const size_t strip = WL_PACK_ROWS * w->row_bytes, n = w->rows / WL_PACK_ROWS;
        const size_t s0 = (size_t)b > it->first ? (size_t)b - it->first : 0;
        const size_t s1 = (size_t)e < it->first + n ? (size_t)e - it->first : n;
        const int in_place = it->dst == w->data;
        if ((size_t)e <= it->first || (size_t)b >= it->first + n)
            continue;
        if (in_place && !tmp && !(tmp = malloc(j->max_strip))) {
            atomic_store(&j->failed, 1);
            return;
        }
        for (size_t s = s0; s < s1; s++) {
            const uint8_t *src = w->data + s * strip;
            it->tk->repack(src, w->row_bytes, WL_PACK_ROWS, w->cols, in_place ? tmp : it->dst + s * strip);
            if (in_place)
                memcpy(it->dst + s * strip, tmp, strip);
        }
    }
    free(tmp);
}

/* The matrices of M that the products read, into OUT; their number. */
static size_t matrices(woolly_model *m, wl_matrix **out)
{
    size_t n = 0;

    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        wl_layer *l = &m->layers[il];
        wl_matrix *ws[] = { &l->wq, &l->wk, &l->wv, &l->wo, &l->w_gate, &l->w_up, &l->w_down };
        for (size_t i = 0; i < sizeof ws / sizeof *ws; i++)
            out[n++] = ws[i];
    }
    out[n++] = &m->output;
    return n;
}

static int repackable(const wl_matrix *w)
{
    const wl_type_kernels *tk = &wl_kernels_get()->type[w->type];

    return tk->repack && tk->gemm_packed && w->data && !w->packed && w->rows > 0 && w->rows % WL_PACK_ROWS == 0;
}

/* Let the pages of BYTES at P that lie wholly inside it go. */
static void release(const uint8_t *p, size_t bytes)
{
    const size_t page = 4096;
    uintptr_t b = ((uintptr_t)p + page - 1) / page * page, e = ((uintptr_t)p + bytes) / page * page;

    if (e > b)
        madvise((void *)b, e - b, MADV_DONTNEED);
}

woolly_status wl_model_repack(woolly_model *m, wl_pool *pool, int in_place)
{
    const size_t cap = (size_t)m->hp.n_layer * 7 + 1;
    wl_matrix **ws = malloc(cap * sizeof *ws);
    struct repack_item *items = malloc(cap * sizeof *items);
    struct repack_job job = { items, 0, 0, 0, 0 };
    woolly_status st = WOOLLY_ERR_NOMEM;
    size_t n, copied = 0;

    if (!ws || !items)
        goto out;
    n = matrices(m, ws);
    /* What a copy needs: everything of a mapped file, the tied output of
     * memory woolly owns. */
    for (size_t i = 0; i < n; i++)
        if (repackable(ws[i]) && (!in_place || ws[i]->data == m->tok_embd.data))
            copied += ws[i]->rows * ws[i]->row_bytes;
    if (copied && !(m->packed_store = wl_alloc_huge(copied)))
        goto out;
    m->packed_size = copied;
    copied = 0;
    for (size_t i = 0; i < n; i++) {
        wl_matrix *w = ws[i];
        if (!repackable(w))
            continue;
        const int here = in_place && w->data != m->tok_embd.data;
        struct repack_item *it = &items[job.n_items++];
        it->tk = &wl_kernels_get()->type[w->type];
        it->w = w;
        it->dst = here ? (uint8_t *)(uintptr_t)w->data : m->packed_store + copied;
        it->first = job.n_strips;
        job.n_strips += w->rows / WL_PACK_ROWS;
        if (WL_PACK_ROWS * w->row_bytes > job.max_strip)
            job.max_strip = WL_PACK_ROWS * w->row_bytes;
        if (!here)
            copied += w->rows * w->row_bytes;
    }
    wl_pool_run(pool, repack_strips, &job);
    if (atomic_load(&job.failed))
        goto out;   /* some strips repacked in place, others not: the model is lost */
    for (size_t i = 0; i < job.n_items; i++) {
        wl_matrix *w = items[i].w;
        const size_t size = w->rows * w->row_bytes;
        w->packed = items[i].dst;
        if (items[i].dst == w->data)
            w->data = NULL;   /* no longer rows: nothing may read it so */
        else if (!in_place && w->data != m->tok_embd.data)
            release(w->data, size);
        m->n_bytes_repacked += size;
    }
    wl_log(WOOLLY_LOG_INFO, "repacked %zu matrices (%zu MB) for the kernels", job.n_items,
           (size_t)(m->n_bytes_repacked >> 20));
    st = WOOLLY_OK;
out:
    free(ws);
    free(items);
    return st;
}
