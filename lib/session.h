/* session.h - a session inside the library (session.c, forward.c). */
#ifndef WOOLLY_SESSION_H
#define WOOLLY_SESSION_H

#include "kvcache.h"
#include "matmul.h"
#include "model.h"
#include "threadpool.h"
#include "woolly.h"

struct woolly_session {
    const woolly_model *model;
    uint32_t n_ctx, n_batch;
    int logits_all;
    wl_pool *pool;
    wl_kvcache kv;
    uint32_t n_past;

    /* Scratch for one batch of at most n_batch tokens (B), in one region
     * of SCRATCH_SIZE bytes (wl_alloc_huge): */
    char *scratch;
    size_t scratch_size;
    float *x;       /* [B][n_embd] the residual stream */
    float *xb;      /* [B][n_embd] normalised input of a block */
    float *q;       /* [B][n_head * head_dim] */
    float *k, *v;   /* [B][n_head_kv * head_dim] */
    float *att;     /* [B][n_head * head_dim] attention output */
    float *hb, *hb2;/* [B][max(n_ff, n_embd)] feed-forward */
    float *scores;  /* [n_threads][wl_attn_scratch()] attention weights of one
                     * query and the lanes of its weighted sum */
    float *rope;    /* [B][n_rot] cos and sin of each position, interleaved */
    wl_acts acts;   /* converted activations */

    /* Logits of the last eval: rows of n_vocab, for its tokens
     * [logits_first, logits_first + logits_rows). */
    float *logits;
    size_t logits_cap, logits_rows, logits_first, last_n;

    char errmsg[WOOLLY_ERRBUF_SIZE];
};

#define WL_PAD16(n) (((size_t)(n) + 15) / 16 * 16)
/* Floats of attention scratch a thread needs: the weights of N_CTX
 * positions for each of the GROUP query heads of a KV head and, for a
 * cache that is not F32, the keys or values of N_CTX positions converted. */
static inline size_t wl_attn_scratch(size_t n_ctx, size_t head_dim, woolly_type kv_type, size_t group)
{
    return group * WL_PAD16(n_ctx) + (kv_type == WOOLLY_TYPE_F32 ? 0 : n_ctx * head_dim);
}

/* Compute N <= n_batch tokens at positions n_past.., append them to the KV
 * cache, and write the logits of the tokens t >= FIRST_LOGIT to LOGITS
 * (rows of n_vocab); FIRST_LOGIT = N for none. */
void wl_forward(woolly_session *s, const int32_t *tokens, size_t n, size_t first_logit,
                float *logits);

#endif /* WOOLLY_SESSION_H */
