/* threadpool.h - a fixed set of worker threads that run one function at a time. */
#ifndef WOOLLY_THREADPOOL_H
#define WOOLLY_THREADPOOL_H

#include <stdint.h>

typedef struct wl_pool wl_pool;

/* The work of one parallel step: called once on every thread, with the
 * thread's index ITH in [0, NTH).  Split work by ITH so that the result
 * does not depend on NTH. */
typedef void (*wl_pool_fn)(void *arg, int ith, int nth);

/* A pool of N_THREADS threads in all, the caller's included (N_THREADS-1
 * workers).  NULL when out of memory or threads cannot be started. */
wl_pool *wl_pool_new(int n_threads);
void wl_pool_free(wl_pool *pool);
int wl_pool_size(const wl_pool *pool);
/* Run FN on every thread and return when all have finished. */
void wl_pool_run(wl_pool *pool, wl_pool_fn fn, void *arg);

/* What wl_pool_run has done since the pool was made, with two threads or
 * more (all 0 with one): the steps; the nanoseconds the calling thread
 * spent in them, waking the others included; and of those the nanoseconds
 * it waited at their ends for the others to finish their shares (the
 * pool's own cost: imbalance and hand-over). */
typedef struct wl_pool_stats {
    uint64_t steps, step_ns, wait_ns;
} wl_pool_stats;

void wl_pool_get_stats(const wl_pool *pool, wl_pool_stats *stats);

/* The slice [*begin, *end) of N items that thread ITH of NTH takes. */
static inline void wl_split(long n, int ith, int nth, long *begin, long *end)
{
    *begin = n * ith / nth;
    *end = n * (ith + 1) / nth;
}

#endif /* WOOLLY_THREADPOOL_H */
