/* kvcache.h - the attention cache of a session: keys and values of every
 * layer for every position seen (kvcache.c). */
#ifndef WOOLLY_KVCACHE_H
#define WOOLLY_KVCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "woolly.h"

typedef struct wl_kvcache {
    woolly_type type;      /* F32 or F16 */
    uint32_t n_layer, n_ctx, kv_dim;
    size_t elt;            /* bytes an element */
    void *k, *v;           /* [n_layer][n_ctx][kv_dim] each */
} wl_kvcache;

/* Allocate; WOOLLY_ERR_NOMEM when the size overflows or memory is short. */
woolly_status wl_kv_init(wl_kvcache *kv, woolly_type type, uint32_t n_layer, uint32_t n_ctx,
                         uint32_t kv_dim);
void wl_kv_free(wl_kvcache *kv);
/* Bytes a cache of these dimensions takes, or 0 on overflow. */
uint64_t wl_kv_bytes(woolly_type type, uint32_t n_layer, uint32_t n_ctx, uint32_t kv_dim);

/* Store the key and value rows (kv_dim floats) of position POS in LAYER. */
void wl_kv_store(wl_kvcache *kv, uint32_t layer, uint32_t pos, const float *k, const float *v);
/* The key or value row of position POS in LAYER, in the cache's type. */
static inline const void *wl_kv_key(const wl_kvcache *kv, uint32_t layer, uint32_t pos)
{
    return (const char *)kv->k + ((size_t)layer * kv->n_ctx + pos) * kv->kv_dim * kv->elt;
}
static inline const void *wl_kv_value(const wl_kvcache *kv, uint32_t layer, uint32_t pos)
{
    return (const char *)kv->v + ((size_t)layer * kv->n_ctx + pos) * kv->kv_dim * kv->elt;
}

#endif /* WOOLLY_KVCACHE_H */
