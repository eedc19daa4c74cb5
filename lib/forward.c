/*
 * forward.c - the transformer: Llama and Qwen2 blocks over a batch of tokens.
 *
 * Plain loops in the manner of llama2.c, with the shape of every buffer
 * written down.  Matrix products go to matmul.c; everything else is per
 * token (or per token and head), so a token's results do not depend on
 * the batch it came in or on the number of threads.
 */
#include <config.h>

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "fp16.h"
#include "kernels/kernels.h"
#include "session.h"

/* The rows that rmsnorm's sums take at a time: each row's sum is one chain
 * of double adds in the order of its values, which waits on every add's
 * latency; the chains of 8 rows interleaved keep the adders busy (Q4_0
 * pp512 profile: the norms 1.8-2.4% of the time before, 1.1% after). */
#define NORM_ROWS 8

/* SS[r]: the sum of the squares of the N values of row r (of ROWS, LD
 * apart), the squares rounded to float and added in double in order, as
 * ggml_compute_forward_rms_norm_f32 does. */
static void sum_squares(const float *x, size_t ld, size_t n, size_t rows, double ss[NORM_ROWS])
{
    if (rows == NORM_ROWS) {
        /* Named, not an array, so that the compiler keeps them in registers. */
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0, a4 = 0.0, a5 = 0.0, a6 = 0.0, a7 = 0.0;
        const float *x0 = x, *x1 = x + ld, *x2 = x + 2 * ld, *x3 = x + 3 * ld;
        const float *x4 = x + 4 * ld, *x5 = x + 5 * ld, *x6 = x + 6 * ld, *x7 = x + 7 * ld;
#define NORM_SQ(r) a##r += (double)(float)(x##r[i] * x##r[i])
        for (size_t i = 0; i < n; i++) {
            NORM_SQ(0); NORM_SQ(1); NORM_SQ(2); NORM_SQ(3);
            NORM_SQ(4); NORM_SQ(5); NORM_SQ(6); NORM_SQ(7);
        }
#undef NORM_SQ
        ss[0] = a0, ss[1] = a1, ss[2] = a2, ss[3] = a3, ss[4] = a4, ss[5] = a5, ss[6] = a6, ss[7] = a7;
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        double a = 0.0;
        for (size_t i = 0; i < n; i++) {
            float sq = x[r * ld + i] * x[r * ld + i];
            a += (double)sq;
        }
        ss[r] = a;
    }
}

/* Rows T0..T1 of OUT: x / rms(x) * w over N values a row. */
static void rmsnorm_rows(float *out, const float *x, const float *w, size_t n, float eps, size_t t0, size_t t1)
{
    for (size_t t = t0; t < t1; t += NORM_ROWS) {
        size_t rows = t1 - t < NORM_ROWS ? t1 - t : NORM_ROWS;
        double ss[NORM_ROWS];
        sum_squares(x + t * n, n, n, rows, ss);
        for (size_t r = 0; r < rows; r++) {
            const float *xr = x + (t + r) * n;
            float *o = out + (t + r) * n;
            float scale = 1.0f / sqrtf((float)(ss[r] / (double)n) + eps);
            for (size_t i = 0; i < n; i++)
                o[i] = (xr[i] * scale) * w[i];
        }
    }
}

struct norm_job {
    float *out;
    const float *x, *w;
    size_t n_tok, dim;
    float eps;
};

static void norm_rows(void *arg, int ith, int nth)
{
    struct norm_job *j = arg;
    long b, e;

    wl_split((long)j->n_tok, ith, nth, &b, &e);
    rmsnorm_rows(j->out, j->x, j->w, j->dim, j->eps, (size_t)b, (size_t)e);
}

static void norm_batch(woolly_session *s, float *out, const float *x, const float *w, size_t n_tok)
{
    struct norm_job j = { out, x, w, n_tok, s->model->hp.n_embd, s->model->hp.norm_eps };

    if (n_tok == 1)
        norm_rows(&j, 0, 1);
    else
        wl_pool_run(s->pool, norm_rows, &j);
}

/* cos/sin of each rotated pair for N_TOK positions from POS:
 * rope[t][2i], rope[t][2i+1] for pair i < n_rot/2.  The angles are computed
 * in float, each pair's from the last by one multiplication, as llama.cpp
 * does: exact angles (in double) move bf16 logits measurably away from it. */
static void rope_table(const wl_hparams *hp, float *rope, uint32_t pos, size_t n_tok)
{
    const float theta_scale = powf(hp->rope_base, -2.0f / (float)hp->n_rot);

    for (size_t t = 0; t < n_tok; t++) {
        float theta = (float)(pos + t);
        for (uint32_t i = 0; i < hp->n_rot / 2; i++) {
            float angle = hp->rope_freq_scale * theta;
            rope[t * hp->n_rot + 2 * i] = cosf(angle);
            rope[t * hp->n_rot + 2 * i + 1] = sinf(angle);
            theta *= theta_scale;
        }
    }
}

/* ---- attention ------------------------------------------------------------
 *
 * In the order llama.cpp's CPU backend computes a batch of tokens (non-flash
 * attention, F32 cache, x86 AVX-512 build, Feb 2025), so that woolly's
 * logits equal its bits:
 *  - KQ: ggml_vec_dot_f32 of the query with each key (the permuted query
 *    is not contiguous, so tinyBLAS does not take it), times 1/sqrt(hd);
 *  - softmax: ggml_v_expf, each 16 exponentials summed in float and added
 *    in double, then every weight times (float)(1/sum);
 *  - KQV: tinyBLAS over the positions: 16 lanes of FMAs, position j into
 *    lane j % 16, the lanes added by wl_hsum16 (the wsum16 kernel).
 * llama.cpp pads the positions to a multiple of 32 with weights of exactly
 * 0, which changes none of these sums, so a token's attention depends only
 * on its own position.  (For a single token llama.cpp takes other paths:
 * tinyBLAS refuses n < 2 and ggml_vec_dot_f32 sums KQV over the padded
 * length.  woolly's answer must not depend on the batch, so it keeps the
 * batch order for every token: its prompt rows equal llama.cpp's bits, its
 * generated rows differ by an ulp or two.) */

struct attn_job {
    woolly_session *s;
    uint32_t layer, pos;
    size_t n_tok;
    atomic_long next;   /* the (token, KV head) pairs taken, counted from the last */
};

/* Keys (VALUES 0) or values of positions 0..N-1 of a layer and KV head
 * (at byte OFF in a row) as floats, rows *LD apart: the cache itself for
 * F32, else converted into BUF. */
static const float *kv_rows(const wl_kvcache *kv, uint32_t layer, int values, size_t off, size_t n, size_t hd,
                            float *buf, size_t *ld)
{
    const void *(*row)(const wl_kvcache *, uint32_t, uint32_t) = values ? wl_kv_value : wl_kv_key;

    if (kv->type == WOOLLY_TYPE_F32) {
        *ld = kv->kv_dim;
        return (const float *)((const char *)row(kv, layer, 0) + off);
    }
    for (size_t j = 0; j < n; j++) {
        const uint16_t *h = (const uint16_t *)((const char *)row(kv, layer, (uint32_t)j) + off);
        for (size_t i = 0; i < hd; i++)
            buf[j * hd + i] = wl_f16_to_f32(h[i]);
    }
    *ld = hd;
    return buf;
}

/* The largest of X[0..N-1] (N >= 1), in 8 chains rather than one. */
static float row_max(size_t n, const float *x)
{
    float m[8];
    size_t j = 0;

    for (int c = 0; c < 8; c++)
        m[c] = x[0];
    for (; j + 8 <= n; j += 8)
        for (int c = 0; c < 8; c++)
            m[c] = x[j + (size_t)c] > m[c] ? x[j + (size_t)c] : m[c];
    for (; j < n; j++)
        m[0] = x[j] > m[0] ? x[j] : m[0];
    for (int c = 1; c < 8; c++)
        m[0] = m[c] > m[0] ? m[c] : m[0];
    return m[0];
}

/* The NQ query heads of a GQA group (q: NQ heads of head_dim in a row,
 * out likewise) against every cached position up to POS (causal); each
 * key is read once for the group.  SCRATCH holds wl_attn_scratch()
 * floats: the group's scores, then room for converted keys or values. */
static void attend(const woolly_session *s, float *scratch, uint32_t layer, uint32_t pos,
                   const float *q, float *out, uint32_t kv_head, size_t nq)
{
    const wl_hparams *hp = &s->model->hp;
    const wl_kvcache *kv = &s->kv;
    const wl_kernels *k = wl_kernels_get();
    size_t hd = hp->head_dim, off = (size_t)kv_head * hd * kv->elt, n = (size_t)pos + 1;
    size_t lds = WL_PAD16(s->n_ctx), ld;
    float *conv = scratch + nq * lds;
    float scale = 1.0f / sqrtf((float)hd);

    const float *keys = kv_rows(kv, layer, 0, off, n, hd, conv, &ld);
    k->qk_scores(n, hd, nq, q, hd, keys, ld, scale, scratch, lds);
    const float *vals = kv_rows(kv, layer, 1, off, n, hd, conv, &ld);
    for (size_t h = 0; h < nq; h++) {
        float *scores = scratch + h * lds;
        /* scores[j] * (float)(1 / sum), as a float multiply rounds it. */
        k->scale(n, scores, (float)(1.0 / k->softmax_exp(n, scores, scores, row_max(n, scores))));
        if (!k->wsum16_heads)
            k->wsum16(n, hd, scores, vals, ld, out + h * hd);
    }
    if (k->wsum16_heads)
        k->wsum16_heads(n, hd, nq, scratch, lds, vals, ld, out, hd);
}

static void attention_rows(void *arg, int ith, int nth)
{
    struct attn_job *j = arg;
    woolly_session *s = j->s;
    const wl_hparams *hp = &s->model->hp;
    size_t q_dim = (size_t)hp->n_head * hp->head_dim;
    size_t group = hp->n_head / hp->n_head_kv;
    float *scratch = s->scores + (size_t)ith * wl_attn_scratch(s->n_ctx, hp->head_dim, s->kv.type, group);

    /* Each thread takes the next pair as it goes, the last tokens (which
     * attend to the most positions) first: dealt out in turn, the pairs
     * left the caller waiting for the other thread 9-15% of a prompt's
     * attention (their costs differ with the softmax weights skipped, and
     * with what else the machine runs). */
    const long n_pairs = (long)(j->n_tok * hp->n_head_kv);
    long i;
    (void)nth;
    while ((i = n_pairs - 1 - atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) >= 0) {
        size_t t = (size_t)i / hp->n_head_kv, g = (size_t)i % hp->n_head_kv;
        attend(s, scratch, j->layer, j->pos + (uint32_t)t, s->q + t * q_dim + g * group * hp->head_dim,
               s->att + t * q_dim + g * group * hp->head_dim, (uint32_t)g, group);
    }
}

/* ---- the blocks --------------------------------------------------------- */

static void add_bias(float *y, const float *b, size_t dim)
{
    if (!b)
        return;
    for (size_t i = 0; i < dim; i++)
        y[i] += b[i];
}

/* The per-token work between the matrix products, tokens split among the
 * threads (each token's arithmetic as it was). */
struct tokens_job {
    woolly_session *s;
    const wl_layer *l;
    uint32_t layer;
    size_t n_tok;
};

static void tokens_step(woolly_session *s, void (*fn)(void *, int, int), const wl_layer *l, uint32_t layer,
                        size_t n_tok)
{
    struct tokens_job j = { s, l, layer, n_tok };

    if (n_tok == 1)
        fn(&j, 0, 1);
    else
        wl_pool_run(s->pool, fn, &j);
}

/* The biases of q, k and v, RoPE, and k and v into the cache. */
static void qkv_rows(void *arg, int ith, int nth)
{
    struct tokens_job *j = arg;
    woolly_session *s = j->s;
    const wl_hparams *hp = &s->model->hp;
    size_t q_dim = (size_t)hp->n_head * hp->head_dim, kv_dim = (size_t)hp->n_head_kv * hp->head_dim;
    const wl_kernels *rk = wl_kernels_get();
    long b, e;

    wl_split((long)j->n_tok, ith, nth, &b, &e);
    for (size_t t = (size_t)b; t < (size_t)e; t++) {
        const float *cs = s->rope + t * hp->n_rot;
        float *q = s->q + t * q_dim, *k = s->k + t * kv_dim, *v = s->v + t * kv_dim;
        add_bias(q, j->l->bq, q_dim);
        add_bias(k, j->l->bk, kv_dim);
        add_bias(v, j->l->bv, kv_dim);
        rk->rope(hp->n_head, hp->head_dim, hp->n_rot, hp->rope_style == WL_ROPE_ADJACENT, q, cs);
        rk->rope(hp->n_head_kv, hp->head_dim, hp->n_rot, hp->rope_style == WL_ROPE_ADJACENT, k, cs);
        wl_kv_store(&s->kv, j->layer, s->n_past + (uint32_t)t, k, v);
    }
}

/* silu(gate) * up, into the gate's rows. */
static void swiglu_rows(void *arg, int ith, int nth)
{
    struct tokens_job *j = arg;
    size_t ff = j->s->model->hp.n_ff;
    long b, e;

    wl_split((long)j->n_tok, ith, nth, &b, &e);
    for (size_t t = (size_t)b; t < (size_t)e; t++) {
        float *g = j->s->hb + t * ff;
        const float *u = j->s->hb2 + t * ff;
        wl_kernels_get()->silu(ff, g, g);
        for (size_t i = 0; i < ff; i++)
            g[i] *= u[i];
    }
}

static void residual_add(float *x, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] += y[i];
}

static void attention_block(woolly_session *s, const wl_layer *l, uint32_t layer, size_t n_tok)
{
    const wl_hparams *hp = &s->model->hp;
    size_t d = hp->n_embd, q_dim = (size_t)hp->n_head * hp->head_dim;
    size_t kv_dim = (size_t)hp->n_head_kv * hp->head_dim;
    struct attn_job job = { s, layer, s->n_past, n_tok, 0 };

    norm_batch(s, s->xb, s->x, l->attn_norm, n_tok);
    wl_acts_invalidate(&s->acts);
    wl_acts_prepare(&s->acts, s->pool, l->wq.type, s->xb, d, n_tok, d);
    if (wl_same_acts(&l->wq, &l->wk) && wl_same_acts(&l->wq, &l->wv)) {
        const wl_matrix *w[3] = { &l->wq, &l->wk, &l->wv };
        float *y[3] = { s->q, s->k, s->v };
        size_t ldy[3] = { q_dim, kv_dim, kv_dim };
        wl_matmul_many(s->pool, 3, w, &s->acts, y, ldy);
    } else {
        wl_matmul(s->pool, &l->wq, &s->acts, s->q, q_dim);
        wl_acts_prepare(&s->acts, s->pool, l->wk.type, s->xb, d, n_tok, d);
        wl_matmul(s->pool, &l->wk, &s->acts, s->k, kv_dim);
        wl_acts_prepare(&s->acts, s->pool, l->wv.type, s->xb, d, n_tok, d);
        wl_matmul(s->pool, &l->wv, &s->acts, s->v, kv_dim);
    }
    tokens_step(s, qkv_rows, l, layer, n_tok);
    wl_pool_run(s->pool, attention_rows, &job);
    wl_acts_invalidate(&s->acts);
    wl_acts_prepare(&s->acts, s->pool, l->wo.type, s->att, q_dim, n_tok, q_dim);
    wl_matmul(s->pool, &l->wo, &s->acts, s->hb2, d);
    residual_add(s->x, s->hb2, n_tok * d);
}

static void ffn_block(woolly_session *s, const wl_layer *l, size_t n_tok)
{
    const wl_hparams *hp = &s->model->hp;
    size_t d = hp->n_embd, ff = hp->n_ff;

    norm_batch(s, s->xb, s->x, l->ffn_norm, n_tok);
    wl_acts_invalidate(&s->acts);
    wl_acts_prepare(&s->acts, s->pool, l->w_gate.type, s->xb, d, n_tok, d);
    if (wl_same_acts(&l->w_gate, &l->w_up)) {
        const wl_matrix *w[2] = { &l->w_gate, &l->w_up };
        float *y[2] = { s->hb, s->hb2 };
        size_t ldy[2] = { ff, ff };
        wl_matmul_many(s->pool, 2, w, &s->acts, y, ldy);
    } else {
        wl_matmul(s->pool, &l->w_gate, &s->acts, s->hb, ff);
        wl_acts_prepare(&s->acts, s->pool, l->w_up.type, s->xb, d, n_tok, d);
        wl_matmul(s->pool, &l->w_up, &s->acts, s->hb2, ff);
    }
    tokens_step(s, swiglu_rows, l, 0, n_tok);
    wl_acts_invalidate(&s->acts);
    wl_acts_prepare(&s->acts, s->pool, l->w_down.type, s->hb, ff, n_tok, ff);
    wl_matmul(s->pool, &l->w_down, &s->acts, s->hb2, d);
    residual_add(s->x, s->hb2, n_tok * d);
}

static void embed(woolly_session *s, const int32_t *tokens, size_t n_tok)
{
    const woolly_model *m = s->model;
    const wl_type_kernels *tk = &wl_kernels_get()->type[m->tok_embd.type];

    for (size_t t = 0; t < n_tok; t++)
        tk->to_float(m->tok_embd.data + (size_t)tokens[t] * m->tok_embd.row_bytes,
                     s->x + t * m->hp.n_embd, m->hp.n_embd);
}

void wl_forward(woolly_session *s, const int32_t *tokens, size_t n, size_t first_logit,
                float *logits)
{
    const woolly_model *m = s->model;
    size_t d = m->hp.n_embd;

    embed(s, tokens, n);
    rope_table(&m->hp, s->rope, s->n_past, n);
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        attention_block(s, &m->layers[il], il, n);
        ffn_block(s, &m->layers[il], n);
    }
    if (first_logit >= n)
        return;
    norm_batch(s, s->xb, s->x, m->output_norm, n);
    wl_acts_invalidate(&s->acts);
    wl_acts_prepare(&s->acts, s->pool, m->output.type, s->xb + first_logit * d, d, n - first_logit, d);
    wl_matmul(s->pool, &m->output, &s->acts, logits, m->hp.n_vocab);
}
