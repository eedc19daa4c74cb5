/*
 * internal.h - declarations shared inside libwoolly; never installed.
 * Internal symbols are prefixed wl_ so that only woolly_* is exported.
 */
#ifndef WOOLLY_INTERNAL_H
#define WOOLLY_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "woolly.h"

#if defined(__GNUC__)
# define WL_PRINTF(f, a) __attribute__((format(printf, f, a)))
# define WL_UNUSED __attribute__((unused))
#else
# define WL_PRINTF(f, a)
# define WL_UNUSED
#endif

/* Logging through the user's callback (log.c); silent when none is set. */
void wl_log(woolly_log_level level, const char *fmt, ...) WL_PRINTF(2, 3);

/* Format a message into an optional caller buffer (buf may be NULL). */
void wl_errbuf(char *buf, size_t size, const char *fmt, ...) WL_PRINTF(3, 4);
void wl_verrbuf(char *buf, size_t size, const char *fmt, va_list ap) WL_PRINTF(3, 0);

/* Overflow-checked size arithmetic: return 0 on success, 1 on overflow. */
static inline int wl_mul_size(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}
static inline int wl_add_size(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}
static inline int wl_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}
static inline int wl_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

/* Size-prefixed parameter structs (see woolly.h).  wl_params_init writes
 * DEFAULTS (a whole struct of FULL bytes) into the caller's PARAMS, which is
 * SIZE bytes long (an older caller's struct may be shorter); wl_params_merge
 * starts from DEFAULTS already in DST and takes the fields USER has. */
void wl_params_init(void *params, size_t size, const void *defaults, size_t full);
void wl_params_merge(void *dst, size_t full, const void *user);

/* Memory aligned for the widest vectors (64 bytes); free with wl_free_aligned. */
void *wl_alloc_aligned(size_t size);
void wl_free_aligned(void *p);

/* Memory streamed through at every token (weights read into memory,
 * synthetic models, the KV cache): SIZE bytes of zeroed anonymous pages
 * aligned to 2 MiB, in huge pages where the system grants them; NULL when
 * out of memory.  Free with wl_free_huge and the same SIZE. */
void *wl_alloc_huge(size_t size);

/* The size of a huge page, on the processors woolly knows. */
#define WL_HUGE_PAGE ((size_t)2 << 20)

/* LEN bytes at an address aligned to WL_HUGE_PAGE, marked MADV_HUGEPAGE:
 * the first LEN bytes of FD read-only, or (FD < 0) zeroed anonymous memory
 * read-write; MAP_FAILED when no aligned room or no mapping is had.  For
 * the memory woolly streams through at every token: Linux backs it with
 * huge pages (for a file, reads it uncached into 2 MiB folios and maps
 * them whole) where it can.  munmap it. */
void *wl_map_huge(int fd, size_t len);
void wl_free_huge(void *p, size_t size);

#endif /* WOOLLY_INTERNAL_H */
