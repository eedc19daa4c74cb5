/* alloc.c - memory aligned for vector loads, and size-prefixed parameter structs. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/* Weights read into memory take anonymous pages aligned to 2 MiB and
 * marked for transparent huge pages: reading a file into them faults once
 * every 2 MiB instead of every 4 KiB.  On a 2-core Zen 5 VM a 600 MB file
 * read into malloc'd memory took 1.7-2.2 s, into such pages 0.08-0.1 s
 * (from the page cache).  The products then run as fast as from the
 * mapped file (measured once both are faulted in). */
#define WL_HUGE (2u << 20)

static size_t huge_round(size_t size)
{
    return (size + WL_HUGE - 1) / WL_HUGE * WL_HUGE;
}

void *wl_alloc_huge(size_t size)
{
    size_t len;
    uint8_t *p, *a;

    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - 2 * (size_t)WL_HUGE)
        return NULL;
    len = huge_round(size);
    p = mmap(NULL, len + WL_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* Keep the 2 MiB-aligned LEN bytes inside, unmap the rest. */
    a = (uint8_t *)(((uintptr_t)p + WL_HUGE - 1) & ~(uintptr_t)(WL_HUGE - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (a + len < p + len + WL_HUGE)
        munmap(a + len, (size_t)(p + len + WL_HUGE - (a + len)));
#ifdef MADV_HUGEPAGE
    madvise(a, len, MADV_HUGEPAGE);   /* advice only: 4 KiB pages where refused */
#endif
    return a;
}

void wl_free_huge(void *p, size_t size)
{
    if (p)
        munmap(p, huge_round(size ? size : 1));
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
