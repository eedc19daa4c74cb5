/* alloc.c - memory aligned for vector loads, and size-prefixed parameter structs. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "internal.h"

void *wl_alloc_aligned(size_t size)
{
    void *p = NULL;

    if (size == 0)
        size = 1;
    if (posix_memalign(&p, 64, size) != 0)
        return NULL;
    return p;
}

void wl_free_aligned(void *p)
{
    free(p);
}

void wl_params_init(void *params, size_t size, const void *defaults, size_t full)
{
    if (!params || size < sizeof(size_t))
        return;
    if (size > full)
        size = full;
    memcpy(params, defaults, size);
    memcpy(params, &size, sizeof size);
}

void wl_params_merge(void *dst, size_t full, const void *user)
{
    size_t n;

    if (!user)
        return;
    memcpy(&n, user, sizeof n);
    if (n < sizeof(size_t))
        return;
    memcpy(dst, user, n < full ? n : full);
    memcpy(dst, &full, sizeof full);
}
