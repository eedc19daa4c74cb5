/* matmul.c - matrix products: activations converted once, rows split among threads. */
#include <config.h>

#include <stdatomic.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "matmul.h"
#include "quant.h"
#include "types.h"

size_t wl_acts_bytes(size_t n_tok, size_t cols)
{
    /* F32 is the widest vec_dot type: 4 bytes an element; the block types
     * take less (Q8_K: 292 bytes for 256, and 20 more of wl_q8_k_aux after
     * the rows; Q8_0: 34 for 32, and 8 more of wl_q8_0_aux). */
    return n_tok * cols * sizeof(float);
}

void wl_acts_invalidate(wl_acts *acts)
{
    acts->n_tok = 0;
    acts->cols = 0;
}

struct convert_job {
    const wl_type_kernels *tk;
    const float *x;
    size_t ldx;
    wl_acts *acts;
};

static void convert_rows(void *arg, int ith, int nth)
{
    struct convert_job *job = arg;
    long begin, end;

    wl_split((long)job->acts->n_tok, ith, nth, &begin, &end);
    for (long t = begin; t < end; t++) {
        char *row = (char *)job->acts->data + (size_t)t * job->acts->row_bytes;
        job->tk->from_float(job->x + (size_t)t * job->ldx, row, job->acts->cols);
        if (job->acts->aux && job->acts->type == WOOLLY_TYPE_Q8_K)
            wl_q8_k_aux_fill(row, job->acts->cols,
                             (wl_q8_k_aux *)job->acts->aux + (size_t)t * (job->acts->cols / WL_QK_K));
        else if (job->acts->aux)
            wl_q8_0_aux_fill(row, job->acts->cols,
                             (wl_q8_0_aux *)job->acts->aux + (size_t)t * (job->acts->cols / WL_QK));
    }
}

void wl_acts_prepare(wl_acts *acts, wl_pool *pool, woolly_type wtype, const float *x, size_t ldx,
                     size_t n_tok, size_t cols)
{
    const wl_kernels *k = wl_kernels_get();
    woolly_type vt = k->type[wtype].vec_dot_type;
    uint64_t row_bytes = 0;
    struct convert_job job;

    if (acts->n_tok == n_tok && acts->cols == cols && acts->type == vt)
        return;
    wl_row_bytes((uint32_t)vt, cols, &row_bytes);
    acts->type = vt;
    acts->n_tok = n_tok;
    acts->cols = cols;
    acts->row_bytes = (size_t)row_bytes;
    acts->aux = NULL;
    if (vt == WOOLLY_TYPE_Q8_0 || vt == WOOLLY_TYPE_Q8_K) {
        size_t off = (n_tok * acts->row_bytes + 63) / 64 * 64;
        acts->aux = (char *)acts->data + off;
    }
    job.tk = &k->type[vt];
    job.x = x;
    job.ldx = ldx;
    job.acts = acts;
    if (n_tok == 1)
        convert_rows(&job, 0, 1);
    else
        wl_pool_run(pool, convert_rows, &job);
}

/* One token: the most threads that take rows from each other, and the
 * chunks of 16 rows they take at a time. */
#define STEAL_THREADS 64
#define DECODE_PIECE 4
/* One token: a thread takes a quarter of what is left of its own rows at
 * a time (at least DECODE_PIECE chunks).  Each take is a CAS, which waits
 * for the loads of the rows before it: taking DECODE_PIECE at a time,
 * they were 3% of a Q4_0 decode profile (1.2% now), and Q4_0 tg128 whole
 * processes take 0.976 of the time (Q8_0: unchanged). */
#define OWN_SHARE 4

struct matmul_job {
    const wl_matrix *w;
    const wl_acts *acts;
    float *y;
    size_t ldy;
    float (*vec_dot)(size_t n, const void *w, const void *a);
    void (*gemm)(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                 const void *aux, size_t nt, float *out, size_t ldo);
    atomic_long next;   /* many tokens: the next chunk not yet taken */
    int steal;          /* one token: threads take pieces of span[] */
    /* One token: thread i's rows, chunks front (low 32 bits) to end. */
    _Atomic uint64_t span[STEAL_THREADS];
};

/* Rows R0..R1 of the product. */
static void matmul_range(const struct matmul_job *job, size_t r0, size_t r1)
{
    const wl_matrix *w = job->w;
    const wl_acts *acts = job->acts;

    if (r1 > w->rows)
        r1 = w->rows;
    if (r1 <= r0)
        return;
    if (job->gemm) {
        /* Repacked, rows R0.. (whole strips) lie where they were. */
        job->gemm(w->cols, (w->packed ? w->packed : w->data) + r0 * w->row_bytes, w->row_bytes, r1 - r0, acts->data,
                  acts->row_bytes, acts->aux, acts->n_tok, job->y + r0, job->ldy);
        return;
    }
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *row = w->data + r * w->row_bytes;
        for (size_t t = 0; t < acts->n_tok; t++)
            job->y[t * job->ldy + r] =
                job->vec_dot(w->cols, row, (const char *)acts->data + t * acts->row_bytes);
    }
}

/* The next PIECE chunks of SPAN from its front (BACK: its end) into
 * C0..C1; 0 when it is empty. */
static int take_piece(_Atomic uint64_t *span, int back, long *c0, long *c1)
{
    uint64_t v = atomic_load_explicit(span, memory_order_relaxed), nv;
    uint32_t f, e;

    do {
        f = (uint32_t)v;
        e = (uint32_t)(v >> 32);
        if (f >= e)
            return 0;
        if (back) {
            *c1 = e;
            *c0 = e - f > DECODE_PIECE ? e - DECODE_PIECE : f;
            nv = (uint64_t)*c0 << 32 | f;
        } else {
            /* The owner: a quarter of what is left, at least a piece. */
            uint32_t g = (e - f) / OWN_SHARE > DECODE_PIECE ? (e - f) / OWN_SHARE : DECODE_PIECE;
            *c0 = f;
            *c1 = e - f > g ? f + g : e;
            nv = (uint64_t)e << 32 | (uint64_t)*c1;
        }
    } while (!atomic_compare_exchange_weak_explicit(span, &v, nv, memory_order_relaxed, memory_order_relaxed));
    return 1;
}

/* Many tokens: a thread takes 1/(GUIDED_SHARE * threads) of the chunks
 * left each time, in whole pairs (the tiled kernels compute 32 rows at a
 * time), so that the pieces shrink towards the end and the threads finish
 * together. */
#define GUIDED_SHARE 4

/* The next piece of the CHUNKS from *NEXT into C0..C1; 0 when none is left. */
static int take_guided(atomic_long *next, long chunks, int nth, long *c0, long *c1)
{
    long f = atomic_load_explicit(next, memory_order_relaxed), g;

    do {
        if (f >= chunks)
            return 0;
        g = (chunks - f) / ((long)nth * GUIDED_SHARE) & ~1L;
        if (g < 2)
            g = 2;
    } while (!atomic_compare_exchange_weak_explicit(next, &f, f + g, memory_order_relaxed, memory_order_relaxed));
    *c0 = f;
    *c1 = f + g < chunks ? f + g : chunks;
    return 1;
}

/* Rows in chunks of 16, so that threads do not share cache lines of y.
 * One token (decode, memory-bound): each thread its share of the rows, in
 * one stream.  Many tokens (compute-bound): the threads take pieces of
 * the rows as they go, so that a thread slowed by the machine's other
 * work does not hold up the others.  Which thread computes a row changes
 * nothing in its result. */
static void matmul_rows(void *arg, int ith, int nth)
{
    struct matmul_job *job = arg;
    long chunks = (long)((job->w->rows + 15) / 16), c0, c1;

    if (job->acts->n_tok > 1) {
        while (take_guided(&job->next, chunks, nth, &c0, &c1))
            matmul_range(job, (size_t)c0 * 16, (size_t)c1 * 16);
        return;
    }
    if (!job->steal) {
        wl_split(chunks, ith, nth, &c0, &c1);
        matmul_range(job, (size_t)c0 * 16, (size_t)c1 * 16);
        return;
    }
    /* Its own share from the front, one stream; then the others' from
     * their ends, where their streams are not. */
    for (int v = 0; v < nth; v++)
        while (take_piece(&job->span[(ith + v) % nth], v > 0, &c0, &c1))
            matmul_range(job, (size_t)c0 * 16, (size_t)c1 * 16);
}

static void make_job(struct matmul_job *job, const wl_matrix *w, const wl_acts *acts, float *y, size_t ldy,
                     int nth)
{
    long chunks = (long)((w->rows + 15) / 16), c0, c1;

    const wl_type_kernels *tk = &wl_kernels_get()->type[w->type];

    job->w = w;
    job->acts = acts;
    job->y = y;
    job->ldy = ldy;
    job->vec_dot = tk->vec_dot;
    /* The tiled kernel, where there is one (the same bits). */
    job->gemm = acts->aux || acts->type != WOOLLY_TYPE_Q8_0 ? tk->gemm : NULL;
    if (w->packed)
        job->gemm = tk->gemm_packed;
    atomic_init(&job->next, 0);
    /* Decoding reads each row once at the memory's speed, and the two
     * halves of a product seldom take the same time on a shared machine:
     * a thread that finishes first takes pieces of the other's rows. */
    job->steal = acts->n_tok == 1 && nth > 1 && nth <= STEAL_THREADS && chunks <= UINT32_MAX;
    for (int i = 0; job->steal && i < nth; i++) {
        wl_split(chunks, i, nth, &c0, &c1);
        atomic_init(&job->span[i], (uint64_t)c1 << 32 | (uint64_t)c0);
    }
}

int wl_same_acts(const wl_matrix *w1, const wl_matrix *w2)
{
    const wl_kernels *k = wl_kernels_get();

    return k->type[w1->type].vec_dot_type == k->type[w2->type].vec_dot_type;
}

void wl_matmul(wl_pool *pool, const wl_matrix *w, const wl_acts *acts, float *y, size_t ldy)
{
    struct matmul_job job;

    make_job(&job, w, acts, y, ldy, wl_pool_size(pool));
    wl_pool_run(pool, matmul_rows, &job);
}

struct many_job {
    struct matmul_job jobs[WL_MATMUL_MANY];
    size_t n;
};

static void many_rows(void *arg, int ith, int nth)
{
    struct many_job *m = arg;

    for (size_t i = 0; i < m->n; i++)
        matmul_rows(&m->jobs[i], ith, nth);
}

void wl_matmul_many(wl_pool *pool, size_t n, const wl_matrix *const *w, const wl_acts *acts,
                    float *const *y, const size_t *ldy)
{
    struct many_job m;

    m.n = n < WL_MATMUL_MANY ? n : WL_MATMUL_MANY;
    for (size_t i = 0; i < m.n; i++)
        make_job(&m.jobs[i], w[i], acts, y[i], ldy[i], wl_pool_size(pool));
    wl_pool_run(pool, many_rows, &m);
}
