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

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "model.h"
#include "repack.h"
#include "threadpool.h"

struct repack_job {
    const wl_type_kernels *tk;
    const wl_matrix *w;
    uint8_t *dst;        /* the repacked matrix (== w->data: in place) */
    int failed;          /* in place: a thread had no room for a strip */
};

static void repack_strips(void *arg, int ith, int nth)
{
    struct repack_job *j = arg;
    const wl_matrix *w = j->w;
    const size_t strip = WL_PACK_ROWS * w->row_bytes;
    const int in_place = j->dst == w->data;
    uint8_t *tmp = in_place ? malloc(strip) : NULL;
    long b, e;

    if (in_place && !tmp) {
        j->failed = 1;   /* a plain store: any thread's 1 is what is read */
        return;
    }
    wl_split((long)(w->rows / WL_PACK_ROWS), ith, nth, &b, &e);
    for (long s = b; s < e; s++) {
        const uint8_t *src = w->data + (size_t)s * strip;
        if (in_place) {
            j->tk->repack(src, w->row_bytes, WL_PACK_ROWS, w->cols, tmp);
            memcpy(j->dst + (size_t)s * strip, tmp, strip);
        } else {
            j->tk->repack(src, w->row_bytes, WL_PACK_ROWS, w->cols, j->dst + (size_t)s * strip);
        }
    }
    free(tmp);
}

/* The matrices of M that the products read, NULL-terminated in OUT. */
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
    size_t n, copied = 0, count = 0, bytes = 0;

    if (!ws)
        return WOOLLY_ERR_NOMEM;
    n = matrices(m, ws);
    /* What a copy needs: everything of a mapped file, the tied output of
     * memory woolly owns. */
    for (size_t i = 0; i < n; i++)
        if (repackable(ws[i]) && (!in_place || ws[i]->data == m->tok_embd.data))
            copied += ws[i]->rows * ws[i]->row_bytes;
    if (copied) {
        m->packed_store = wl_alloc_huge(copied);
        if (!m->packed_store) {
            free(ws);
            return WOOLLY_ERR_NOMEM;
        }
        m->packed_size = copied;
    }
    copied = 0;
    for (size_t i = 0; i < n; i++) {
        wl_matrix *w = ws[i];
        if (!repackable(w))
            continue;
        const size_t size = w->rows * w->row_bytes;
        const int here = in_place && w->data != m->tok_embd.data;
        struct repack_job j = { &wl_kernels_get()->type[w->type], w,
                                here ? (uint8_t *)(uintptr_t)w->data : m->packed_store + copied, 0 };
        wl_pool_run(pool, repack_strips, &j);
        if (j.failed) {
            /* Some strips are repacked, others not: the matrix is lost. */
            free(ws);
            return WOOLLY_ERR_NOMEM;
        }
        w->packed = j.dst;
        if (here) {
            w->data = NULL;   /* no longer rows: nothing may read it so */
        } else {
            copied += size;
            if (!in_place && w->data != m->tok_embd.data)
                release(w->data, size);
        }
        count++;
        bytes += size;
    }
    m->n_bytes_repacked = bytes;
    wl_log(WOOLLY_LOG_INFO, "repacked %zu matrices (%zu MB) for the kernels", count, bytes >> 20);
    free(ws);
    return WOOLLY_OK;
}
