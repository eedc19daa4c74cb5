/* alloc.c - memory aligned for vector loads. */
#include <config.h>

#include <stdlib.h>

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
