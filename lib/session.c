/* session.c - sessions: their buffers, the KV cache, and evaluation in batches. */
#include <config.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "session.h"

/* Without a setting, the context stops here to keep memory modest. */
#define DEFAULT_MAX_CTX 4096
#define DEFAULT_BATCH 64

void woolly_session_params_init(woolly_session_params *params, size_t size)
{
    woolly_session_params p = { 0 };

    p.size = sizeof p;
    p.n_ctx = 0;
    p.n_batch = DEFAULT_BATCH;
    p.n_threads = 0;
    p.kv_type = WOOLLY_TYPE_F32;
    p.logits_all = 0;
    wl_params_init(params, size, &p, sizeof p);
}

static void set_error(woolly_session *s, const char *fmt, ...) WL_PRINTF(2, 3);

static void set_error(woolly_session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    wl_verrbuf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
}

static void free_buffers(woolly_session *s)
{
    wl_free_huge(s->scratch, s->scratch_size);
    s->scratch = NULL;
    free(s->logits);
}

/* The batch's buffers, carved from one region of huge pages: a prompt
 * batch reads and writes them at every layer (40 MB for 512 tokens of a
 * TinyLlama-shaped model), through a TLB miss every 4 KiB in small pages.
 * Each starts on a cache line. */
static woolly_status alloc_buffers(woolly_session *s)
{
    const wl_hparams *hp = &s->model->hp;
    size_t B = s->n_batch, q_dim = (size_t)hp->n_head * hp->head_dim;
    size_t kv_dim = (size_t)hp->n_head_kv * hp->head_dim;
    size_t wide = hp->n_ff > hp->n_embd ? hp->n_ff : hp->n_embd;
    size_t max_cols = wide > q_dim ? wide : q_dim;
    size_t group = hp->n_head / hp->n_head_kv;
    float **bufs[] = { &s->x, &s->xb, &s->q, &s->k, &s->v, &s->att, &s->hb, &s->hb2, &s->scores, &s->rope };
    /* rows x floats a row, for each of BUFS */
    const size_t shape[][2] = {
        { B, hp->n_embd }, { B, hp->n_embd }, { B, q_dim }, { B, kv_dim }, { B, kv_dim }, { B, q_dim },
        { B, wide }, { B, wide },
        { (size_t)wl_pool_size(s->pool), wl_attn_scratch(s->n_ctx, hp->head_dim, s->kv.type, group) },
        { B, hp->n_rot ? hp->n_rot : 1 },
    };
    enum { N = sizeof bufs / sizeof bufs[0] };
    size_t bytes[N + 1], off[N + 1], total = 0;

    for (size_t i = 0; i < N; i++)
        if (wl_mul_size(shape[i][0], shape[i][1], &bytes[i]) || wl_mul_size(bytes[i], sizeof(float), &bytes[i]))
            return WOOLLY_ERR_NOMEM;
    bytes[N] = wl_acts_bytes(B, max_cols);   /* converted activations, last */
    for (size_t i = 0; i <= N; i++) {
        off[i] = total;
        if (bytes[i] > SIZE_MAX - 63 || wl_add_size(total, (bytes[i] + 63) / 64 * 64, &total))
            return WOOLLY_ERR_NOMEM;
    }
    s->scratch = wl_alloc_huge(total);
    if (!s->scratch)
        return WOOLLY_ERR_NOMEM;
    s->scratch_size = total;
    for (size_t i = 0; i < N; i++)
        *bufs[i] = (float *)(void *)(s->scratch + off[i]);
    s->acts.data = s->scratch + off[N];
    s->acts.cap = bytes[N];
    return WOOLLY_OK;
}

woolly_status woolly_session_new(const woolly_model *model, const woolly_session_params *user,
                                 woolly_session **out, char *err, size_t errsize)
{
    woolly_session_params p;
    woolly_session *s;
    woolly_status st;
    uint32_t kv_dim;

    if (!model || !out) {
        wl_errbuf(err, errsize, "woolly_session_new: no model or no out pointer");
        return WOOLLY_ERR_INVALID;
    }
    *out = NULL;
    woolly_session_params_init(&p, sizeof p);
    wl_params_merge(&p, sizeof p, user);
    if (p.n_ctx == 0)
        p.n_ctx = model->hp.n_ctx_train < DEFAULT_MAX_CTX ? model->hp.n_ctx_train : DEFAULT_MAX_CTX;
    if (p.n_batch == 0)
        p.n_batch = DEFAULT_BATCH;
    if (p.n_batch > p.n_ctx)
        p.n_batch = p.n_ctx;
    if (p.n_threads <= 0)
        p.n_threads = model->n_threads;
    if (p.kv_type != WOOLLY_TYPE_F32 && p.kv_type != WOOLLY_TYPE_F16) {
        wl_errbuf(err, errsize, "the KV cache can be f32 or f16, not %s",
                  woolly_type_name(p.kv_type) ? woolly_type_name(p.kv_type) : "that type");
        return WOOLLY_ERR_INVALID;
    }
    if (p.n_threads > 512) {
        wl_errbuf(err, errsize, "%d threads is more than woolly allows (512)", p.n_threads);
        return WOOLLY_ERR_INVALID;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return WOOLLY_ERR_NOMEM;
    s->model = model;
    s->n_ctx = p.n_ctx;
    s->n_batch = p.n_batch;
    s->logits_all = p.logits_all;
    kv_dim = model->hp.n_head_kv * model->hp.head_dim;
    s->pool = wl_pool_new(p.n_threads);
    if (!s->pool) {
        wl_errbuf(err, errsize, "cannot start %d threads", p.n_threads);
        free(s);
        return WOOLLY_ERR_NOMEM;
    }
    st = wl_kv_init(&s->kv, p.kv_type, model->hp.n_layer, p.n_ctx, kv_dim);
    if (st == WOOLLY_OK)
        st = alloc_buffers(s);
    if (st != WOOLLY_OK) {
        wl_errbuf(err, errsize, "not enough memory for a context of %u tokens (the KV cache needs %llu MiB)",
                  p.n_ctx,
                  (unsigned long long)(wl_kv_bytes(p.kv_type, model->hp.n_layer, p.n_ctx, kv_dim) >> 20));
        woolly_session_free(s);
        return st;
    }
    *out = s;
    return WOOLLY_OK;
}

void woolly_session_free(woolly_session *s)
{
    if (!s)
        return;
    wl_pool_free(s->pool);
    wl_kv_free(&s->kv);
    free_buffers(s);
    free(s);
}

/* Make room for ROWS rows of logits. */
static woolly_status reserve_logits(woolly_session *s, size_t rows)
{
    size_t n;
    float *p;

    if (wl_mul_size(rows, s->model->hp.n_vocab, &n) || wl_mul_size(n, sizeof(float), &n))
        return WOOLLY_ERR_NOMEM;
    if (n <= s->logits_cap)
        return WOOLLY_OK;
    p = realloc(s->logits, n);
    if (!p)
        return WOOLLY_ERR_NOMEM;
    s->logits = p;
    s->logits_cap = n;
    return WOOLLY_OK;
}

woolly_status woolly_session_eval(woolly_session *s, const int32_t *tokens, size_t n)
{
    const uint32_t n_vocab = s->model->hp.n_vocab;
    size_t rows;

    s->errmsg[0] = '\0';
    if (n == 0)
        return WOOLLY_OK;
    if (!tokens) {
        set_error(s, "no tokens");
        return WOOLLY_ERR_INVALID;
    }
    if (n > s->n_ctx - s->n_past) {
        set_error(s, "%zu tokens do not fit in the context: %u of %u positions are taken",
                  n, s->n_past, s->n_ctx);
        return WOOLLY_ERR_RANGE;
    }
    for (size_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= n_vocab) {
            set_error(s, "token %d (at %zu) is not in the vocabulary of %u", tokens[i], i, n_vocab);
            return WOOLLY_ERR_INVALID;
        }
    }
    rows = s->logits_all ? n : 1;
    if (reserve_logits(s, rows) != WOOLLY_OK) {
        set_error(s, "out of memory for %zu rows of logits", rows);
        return WOOLLY_ERR_NOMEM;
    }
    for (size_t done = 0; done < n;) {
        size_t b = n - done < s->n_batch ? n - done : s->n_batch;
        size_t first;
        float *out;
        if (s->logits_all) {
            first = 0;
            out = s->logits + done * n_vocab;
        } else {
            first = done + b == n ? b - 1 : b;   /* only the very last token */
            out = s->logits;
        }
        wl_forward(s, tokens + done, b, first, out);
        s->n_past += (uint32_t)b;
        done += b;
    }
    s->last_n = n;
    s->logits_rows = rows;
    s->logits_first = n - rows;
    return WOOLLY_OK;
}

const float *woolly_session_logits(const woolly_session *s, int64_t i)
{
    if (!s || s->logits_rows == 0)
        return NULL;
    if (i < 0)
        i += (int64_t)s->last_n;
    if (i < (int64_t)s->logits_first || i >= (int64_t)s->last_n)
        return NULL;
    return s->logits + (size_t)(i - (int64_t)s->logits_first) * s->model->hp.n_vocab;
}

uint32_t woolly_session_n_past(const woolly_session *s)
{
    return s->n_past;
}

uint32_t woolly_session_n_ctx(const woolly_session *s)
{
    return s->n_ctx;
}

woolly_status woolly_session_truncate(woolly_session *s, uint32_t n_past)
{
    if (n_past > s->n_past) {
        set_error(s, "cannot truncate to %u tokens: the context holds %u", n_past, s->n_past);
        return WOOLLY_ERR_RANGE;
    }
    s->n_past = n_past;
    s->logits_rows = 0;
    s->last_n = 0;
    return WOOLLY_OK;
}

const char *woolly_session_errmsg(const woolly_session *s)
{
    return s ? s->errmsg : "no session";
}

woolly_status woolly_session_get_stats(const woolly_session *s, woolly_session_stats *stats)
{
    woolly_session_stats full;
    wl_pool_stats ps;
    size_t n;

    if (!s || !stats || stats->size < sizeof(size_t))
        return WOOLLY_ERR_INVALID;
    wl_pool_get_stats(s->pool, &ps);
    n = stats->size < sizeof full ? stats->size : sizeof full;
    full.size = n;
    full.steps = ps.steps;
    full.step_seconds = (double)ps.step_ns * 1e-9;
    full.wait_seconds = (double)ps.wait_ns * 1e-9;
    memcpy(stats, &full, n);
    return WOOLLY_OK;
}
