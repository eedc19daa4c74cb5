/* sampler.c - choosing the next token: penalties, filters, temperature, a draw. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct woolly_sampler {
    woolly_sampler_params p;
    int32_t n_vocab;
    uint64_t rng;
    int32_t *history;      /* ring of the last repeat_last_n tokens */
    size_t n_history, head;
    struct cand { float logit; int32_t id; } *cands;   /* [n_vocab] */
    float *probs;          /* [n_vocab] */
};

void woolly_sampler_params_init(woolly_sampler_params *params, size_t size)
{
    woolly_sampler_params p = { 0 };

    p.size = sizeof p;
    p.temperature = 0.8f;
    p.top_k = 40;
    p.top_p = 0.95f;
    p.min_p = 0.05f;
    p.repeat_penalty = 1.0f;
    p.repeat_last_n = 64;
    p.seed = 42;
    wl_params_init(params, size, &p, sizeof p);
}

woolly_status woolly_sampler_new(const woolly_sampler_params *user, int32_t n_vocab,
                                 woolly_sampler **out)
{
    woolly_sampler *s;
    woolly_sampler_params p;

    if (!out)
        return WOOLLY_ERR_INVALID;
    *out = NULL;
    woolly_sampler_params_init(&p, sizeof p);
    wl_params_merge(&p, sizeof p, user);
    if (n_vocab < 1 || !(p.temperature >= 0.0f) || p.top_k < 0 || !(p.top_p >= 0.0f && p.top_p <= 1.0f) ||
        !(p.min_p >= 0.0f && p.min_p <= 1.0f) || !(p.repeat_penalty > 0.0f) || p.repeat_last_n < 0)
        return WOOLLY_ERR_INVALID;
    s = calloc(1, sizeof *s);
    if (!s)
        return WOOLLY_ERR_NOMEM;
    s->p = p;
    s->n_vocab = n_vocab;
    s->rng = p.seed;
    s->history = malloc(((size_t)p.repeat_last_n + 1) * sizeof *s->history);
    s->cands = malloc((size_t)n_vocab * sizeof *s->cands);
    s->probs = malloc((size_t)n_vocab * sizeof *s->probs);
    if (!s->history || !s->cands || !s->probs) {
        woolly_sampler_free(s);
        return WOOLLY_ERR_NOMEM;
    }
    *out = s;
    return WOOLLY_OK;
}

void woolly_sampler_free(woolly_sampler *s)
{
    if (!s)
        return;
    free(s->history);
    free(s->cands);
    free(s->probs);
    free(s);
}

void woolly_sampler_reset(woolly_sampler *s)
{
    s->n_history = 0;
    s->head = 0;
    s->rng = s->p.seed;
}

void woolly_sampler_accept(woolly_sampler *s, int32_t token)
{
    size_t cap = (size_t)s->p.repeat_last_n;

    if (cap == 0)
        return;
    s->history[s->head] = token;
    s->head = (s->head + 1) % cap;
    if (s->n_history < cap)
        s->n_history++;
}

/* splitmix64: small, and the same sequence everywhere. */
static double next_uniform(woolly_sampler *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* Descending logit, then ascending id: a total order, so results repeat. */
static int by_logit(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->logit != y->logit)
        return x->logit > y->logit ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The penalty of llama.cpp: divide positive logits, multiply negative ones,
 * once per distinct token in the window. */
static void apply_penalty(woolly_sampler *s)
{
    for (size_t i = 0; i < s->n_history; i++) {
        int32_t t = s->history[i];
        int seen = 0;
        if (t < 0 || t >= s->n_vocab)
            continue;
        for (size_t j = 0; j < i; j++)
            if (s->history[j] == t)
                seen = 1;
        if (seen)
            continue;
        float *l = &s->cands[t].logit;
        *l = *l > 0 ? *l / s->p.repeat_penalty : *l * s->p.repeat_penalty;
    }
}

woolly_status woolly_sampler_sample(woolly_sampler *s, const float *logits, int32_t *token)
{
    size_t n = (size_t)s->n_vocab, keep;
    double sum, u, acc;

    if (!logits || !token)
        return WOOLLY_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        s->cands[i].logit = isnan(logits[i]) ? -INFINITY : logits[i];
        s->cands[i].id = (int32_t)i;
    }
    if (s->p.repeat_penalty != 1.0f)
        apply_penalty(s);
    if (s->p.temperature == 0.0f) {
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (s->cands[i].logit > s->cands[best].logit)
                best = i;
        *token = s->cands[best].id;
        woolly_sampler_accept(s, *token);
        return WOOLLY_OK;
    }
    qsort(s->cands, n, sizeof *s->cands, by_logit);
    keep = n;
    if (s->p.top_k > 0 && (size_t)s->p.top_k < keep)
        keep = (size_t)s->p.top_k;
    /* Probabilities of what is left, before temperature. */
    sum = 0.0;
    for (size_t i = 0; i < keep; i++) {
        s->probs[i] = expf(s->cands[i].logit - s->cands[0].logit);
        sum += s->probs[i];
    }
    if (s->p.top_p < 1.0f) {
        acc = 0.0;
        for (size_t i = 0; i < keep; i++) {
            acc += s->probs[i] / sum;
            if (acc >= s->p.top_p) {
                keep = i + 1;
                break;
            }
        }
    }
    if (s->p.min_p > 0.0f) {
        size_t i = 1;
        while (i < keep && s->probs[i] >= s->p.min_p * s->probs[0])
            i++;
        keep = i;
    }
    /* Temperature, then the draw. */
    sum = 0.0;
    for (size_t i = 0; i < keep; i++) {
        s->probs[i] = expf((s->cands[i].logit - s->cands[0].logit) / s->p.temperature);
        sum += s->probs[i];
    }
    u = next_uniform(s) * sum;
    acc = 0.0;
    *token = s->cands[keep - 1].id;
    for (size_t i = 0; i < keep; i++) {
        acc += s->probs[i];
        if (u < acc) {
            *token = s->cands[i].id;
            break;
        }
    }
    woolly_sampler_accept(s, *token);
    return WOOLLY_OK;
}
