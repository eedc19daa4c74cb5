/* kvcache.c - the attention cache: F32, or F16 to halve its memory. */
#include <config.h>

#include <string.h>

#include "fp16.h"
#include "internal.h"
#include "kvcache.h"

uint64_t wl_kv_bytes(woolly_type type, uint32_t n_layer, uint32_t n_ctx, uint32_t kv_dim)
{
    uint64_t elt = type == WOOLLY_TYPE_F16 ? 2 : 4, n;

    if (wl_mul_u64((uint64_t)n_layer * n_ctx, kv_dim, &n) || wl_mul_u64(n, elt * 2, &n))
        return 0;
    return n;
}

woolly_status wl_kv_init(wl_kvcache *kv, woolly_type type, uint32_t n_layer, uint32_t n_ctx,
                         uint32_t kv_dim)
{
    uint64_t bytes = wl_kv_bytes(type, n_layer, n_ctx, kv_dim);

    memset(kv, 0, sizeof *kv);
    if (type != WOOLLY_TYPE_F32 && type != WOOLLY_TYPE_F16)
        return WOOLLY_ERR_INVALID;
    if (bytes == 0 || bytes / 2 > SIZE_MAX)
        return WOOLLY_ERR_NOMEM;
    kv->type = type;
    kv->n_layer = n_layer;
    kv->n_ctx = n_ctx;
    kv->kv_dim = kv_dim;
    kv->elt = type == WOOLLY_TYPE_F16 ? 2 : 4;
    /* Huge pages: decoding at position p reads p rows of every layer's
     * keys and values, through a TLB miss every 4 KiB in small pages. */
    kv->k = wl_alloc_huge((size_t)(bytes / 2));
    kv->v = wl_alloc_huge((size_t)(bytes / 2));
    if (!kv->k || !kv->v) {
        wl_kv_free(kv);
        return WOOLLY_ERR_NOMEM;
    }
    return WOOLLY_OK;
}

void wl_kv_free(wl_kvcache *kv)
{
    size_t half = (size_t)(wl_kv_bytes(kv->type, kv->n_layer, kv->n_ctx, kv->kv_dim) / 2);

    wl_free_huge(kv->k, half);
    wl_free_huge(kv->v, half);
    kv->k = kv->v = NULL;
}

static void store_row(const wl_kvcache *kv, void *dst, const float *src)
{
    if (kv->type == WOOLLY_TYPE_F32) {
        memcpy(dst, src, kv->kv_dim * sizeof(float));
    } else {
        uint16_t *h = dst;
        for (uint32_t i = 0; i < kv->kv_dim; i++)
            h[i] = wl_f32_to_f16(src[i]);
    }
}

void wl_kv_store(wl_kvcache *kv, uint32_t layer, uint32_t pos, const float *k, const float *v)
{
    store_row(kv, (void *)wl_kv_key(kv, layer, pos), k);
    store_row(kv, (void *)wl_kv_value(kv, layer, pos), v);
}
