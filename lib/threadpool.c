/*
 * threadpool.c - workers that spin briefly for the next step, then sleep.
 *
 * A forward pass is a sequence of short parallel steps (one per matrix
 * product), so waking threads must be cheap: each step bumps a generation
 * counter; a worker spins on it for a while before it sleeps on a condition
 * variable.  The caller works as thread 0 and spins until the others are done.
 */
#include <config.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "threadpool.h"

#if defined(__x86_64__) || defined(__i386__)
# include <immintrin.h>
# define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
# define cpu_relax() __asm__ volatile("yield")
#else
# define cpu_relax() ((void)0)
#endif

/* How long a worker polls before sleeping: about 50-100 microseconds. */
#define SPIN_ROUNDS 20000

struct wl_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_uint generation;   /* bumped for every step; read by workers */
    atomic_int pending;       /* workers still running the current step */
    atomic_int sleepers;      /* workers blocked on `wake` */
    atomic_bool quit;
    wl_pool_fn fn;
    void *arg;
    wl_pool_stats stats;      /* the caller's thread only */
};

struct worker_start {
    wl_pool *pool;
    int index;
};

static void *worker_main(void *p)
{
    struct worker_start *start = p;
    wl_pool *pool = start->pool;
    int index = start->index;
    unsigned seen = 0;

    free(start);
    for (;;) {
        unsigned gen;
        int spins = 0;

        while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
               !atomic_load(&pool->quit)) {
            if (++spins < SPIN_ROUNDS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool->lock);
            atomic_fetch_add(&pool->sleepers, 1);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->quit))
                pthread_cond_wait(&pool->wake, &pool->lock);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->lock);
        }
        if (atomic_load(&pool->quit))
            return NULL;
        seen = gen;
        pool->fn(pool->arg, index, pool->n_threads);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
}

wl_pool *wl_pool_new(int n_threads)
{
    wl_pool *pool = calloc(1, sizeof *pool);

    if (!pool)
        return NULL;
    if (n_threads < 1)
        n_threads = 1;
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->sleepers, 0);
    atomic_init(&pool->quit, 0);
    pool->threads = calloc((size_t)n_threads, sizeof *pool->threads);
    if (!pool->threads) {
        wl_pool_free(pool);
        return NULL;
    }
    for (int i = 1; i < n_threads; i++) {
        struct worker_start *start = malloc(sizeof *start);
        if (start) {
            start->pool = pool;
            start->index = i;
        }
        if (!start || pthread_create(&pool->threads[i], NULL, worker_main, start) != 0) {
            free(start);
            pool->n_threads = i;   /* only these were started */
            wl_pool_free(pool);
            return NULL;
        }
    }
    return pool;
}

void wl_pool_free(wl_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->quit, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i < pool->n_threads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool);
}

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void wl_pool_get_stats(const wl_pool *pool, wl_pool_stats *stats)
{
    *stats = pool->stats;
}

int wl_pool_size(const wl_pool *pool)
{
    return pool->n_threads;
}

void wl_pool_run(wl_pool *pool, wl_pool_fn fn, void *arg)
{
    if (pool->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    /* Three clock reads a step (33 ns each through a VM's vDSO, against
     * the tens of microseconds of the shortest steps of a decode). */
    uint64_t t0 = now_ns();
    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->pending, pool->n_threads - 1, memory_order_relaxed);
    atomic_fetch_add(&pool->generation, 1);   /* seq_cst: pairs with `sleepers` */
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
    fn(arg, 0, pool->n_threads);
    uint64_t t1 = now_ns();
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0)
        cpu_relax();
    uint64_t t2 = now_ns();
    pool->stats.steps++;
    pool->stats.step_ns += t2 - t0;
    pool->stats.wait_ns += t2 - t1;
}
