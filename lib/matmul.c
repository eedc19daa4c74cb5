/* matmul.c - matrix products: activations converted once, rows split among threads. */
#include <config.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "matmul.h"
#include "quant.h"
#include "types.h"

size_t wl_acts_bytes(size_t n_tok, size_t cols)
{
    /* F32 is the widest vec_dot type: 4 bytes an element; the block types
     * take less (Q8_K: 292 bytes for 256; Q8_0: 34 for 32, and 8 more of
     * wl_q8_0_aux after the rows). */
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
        if (job->acts->aux)
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
    if (vt == WOOLLY_TYPE_Q8_0) {
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

struct matmul_job {
    const wl_matrix *w;
    const wl_acts *acts;
    float *y;
    size_t ldy;
    float (*vec_dot)(size_t n, const void *w, const void *a);
    void (*gemm)(size_t n, const void *w, size_t w_stride, size_t nr, const void *a, size_t a_stride,
                 const void *aux, size_t nt, float *out, size_t ldo);
};

/* Rows in chunks of 16, so that threads do not share cache lines of y. */
static void matmul_rows(void *arg, int ith, int nth)
{
    struct matmul_job *job = arg;
    const wl_matrix *w = job->w;
    const wl_acts *acts = job->acts;
    long chunks = (long)((w->rows + 15) / 16), c0, c1;

    wl_split(chunks, ith, nth, &c0, &c1);
    if (job->gemm) {
        size_t r0 = (size_t)c0 * 16, r1 = (size_t)c1 * 16 < w->rows ? (size_t)c1 * 16 : w->rows;
        if (r1 > r0)
            job->gemm(w->cols, w->data + r0 * w->row_bytes, w->row_bytes, r1 - r0, acts->data, acts->row_bytes,
                      acts->aux, acts->n_tok, job->y + r0, job->ldy);
        return;
    }
    for (size_t r = (size_t)c0 * 16; r < (size_t)c1 * 16 && r < w->rows; r++) {
        const uint8_t *row = w->data + r * w->row_bytes;
        for (size_t t = 0; t < acts->n_tok; t++)
            job->y[t * job->ldy + r] =
                job->vec_dot(w->cols, row, (const char *)acts->data + t * acts->row_bytes);
    }
}

static struct matmul_job make_job(const wl_matrix *w, const wl_acts *acts, float *y, size_t ldy)
{
    const wl_type_kernels *tk = &wl_kernels_get()->type[w->type];
    struct matmul_job job = { w, acts, y, ldy, tk->vec_dot, NULL };

    /* The tiled kernel, where there is one (the same bits). */
    if (acts->aux || acts->type != WOOLLY_TYPE_Q8_0)
        job.gemm = tk->gemm;
    return job;
}

void wl_matmul(wl_pool *pool, const wl_matrix *w, const wl_acts *acts, float *y, size_t ldy)
{
    struct matmul_job job = make_job(w, acts, y, ldy);

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
        m.jobs[i] = make_job(w[i], acts, y[i], ldy[i]);
    wl_pool_run(pool, many_rows, &m);
}
