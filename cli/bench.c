/* bench.c - `woolly bench`: prompt processing and generation speed, latency,
 * load time, and how close decoding gets to the memory bandwidth. */
#include <config.h>

#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: woolly bench (-m MODEL | --fast-fp32) [OPTIONS]\n"
            "Measure prompt processing (pp) and generation (tg) in tokens per second.\n"
            "\n"
            "  -m, --model FILE      the GGUF model to measure\n"
            "      --no-mmap         read the model into memory instead of mapping it\n"
            "      --no-repack       use the weights as they lie (no rearranging at load)\n"
            "      --fast-fp32       a synthetic model sized by the WOOLLY_FAST_* variables\n"
            "  -p, --n-prompt N      prompt tokens for the pp test (default 512; 0: skip)\n"
            "  -n, --n-gen N         generated tokens for the tg test (default 128; 0: skip)\n"
            "  -r, --repetitions N   runs of each test (default 3)\n"
            "  -t, --threads N       threads (default: one per CPU)\n"
            "  -b, --batch N         tokens computed together in pp (default 512)\n"
            "      --sustained N     tokens of the sustained generation test (default 256; 0: skip)\n"
            "      --no-sequence     skip the 1, 10, 50 and 100 token generation runs\n"
            "      --no-roofline     skip measuring the memory bandwidth\n"
            "      --seed N          seed of the synthetic model (default 42)\n"
            "      --json            print the results as JSON\n"
            "  -h, --help            show this help and exit\n");
}

struct stats {
    double mean, sd;
};

static struct stats summarize(const double *x, int n)
{
    struct stats s = { 0, 0 };

    for (int i = 0; i < n; i++)
        s.mean += x[i] / n;
    for (int i = 0; i < n && n > 1; i++)
        s.sd += (x[i] - s.mean) * (x[i] - s.mean) / (n - 1);
    s.sd = sqrt(s.sd);
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- memory bandwidth --------------------------------------------------- */

struct bw_job {
    const uint8_t *buf;
    size_t bytes;
    uint64_t sink;
};

#if defined(__x86_64__)
# include <immintrin.h>
/* 256-bit loads, 256 bytes a step: a scalar loop does not keep enough
 * reads in flight to measure what the memory can deliver. */
__attribute__((target("avx2"))) static uint64_t read_avx2(const uint8_t *p, size_t bytes)
{
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;

#define LD(o) _mm256_load_si256((const __m256i *)(const void *)(p + i + (o)))
    for (size_t i = 0; i + 256 <= bytes; i += 256) {
        a = _mm256_xor_si256(a, _mm256_xor_si256(LD(0), LD(128)));
        b = _mm256_xor_si256(b, _mm256_xor_si256(LD(32), LD(160)));
        c = _mm256_xor_si256(c, _mm256_xor_si256(LD(64), LD(192)));
        d = _mm256_xor_si256(d, _mm256_xor_si256(LD(96), LD(224)));
    }
#undef LD
    a = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    return (uint64_t)_mm256_extract_epi64(a, 0) ^ (uint64_t)_mm256_extract_epi64(a, 3);
}

/* 512-bit loads where there are: here they read 10-20 % more a second
 * than 256-bit ones (the L2 streamer keeps more lines in flight when each
 * load takes a whole line), and the kernels that decode use them. */
__attribute__((target("avx512f"))) static uint64_t read_avx512(const uint8_t *p, size_t bytes)
{
    __m512i a = _mm512_setzero_si512(), b = a;

#define LD(o) _mm512_load_si512((const void *)(p + i + (o)))
    for (size_t i = 0; i + 256 <= bytes; i += 256) {
        a = _mm512_xor_si512(a, _mm512_xor_si512(LD(0), LD(64)));
        b = _mm512_xor_si512(b, _mm512_xor_si512(LD(128), LD(192)));
    }
#undef LD
    a = _mm512_xor_si512(a, b);
    return (uint64_t)_mm512_reduce_add_epi64(a);
}
#endif

static uint64_t read_plain(const uint8_t *p, size_t bytes)
{
    const uint64_t *q = (const uint64_t *)(const void *)p;
    uint64_t a = 0, b = 0, c = 0, d = 0;

    for (size_t i = 0; i + 4 <= bytes / 8; i += 4) {
        a ^= q[i];
        b ^= q[i + 1];
        c ^= q[i + 2];
        d ^= q[i + 3];
    }
    return a ^ b ^ c ^ d;
}

static void *bw_read(void *arg)
{
    struct bw_job *j = arg;

#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        j->sink = read_avx512(j->buf, j->bytes);
        return NULL;
    }
    if (__builtin_cpu_supports("avx2")) {
        j->sink = read_avx2(j->buf, j->bytes);
        return NULL;
    }
#endif
    j->sink = read_plain(j->buf, j->bytes);
    return NULL;
}

/* Read 1 GiB with N_THREADS threads, best of 5: bytes per second. */
static double measure_bandwidth(int n_threads)
{
    const size_t bytes = (size_t)1 << 30;
    uint8_t *buf = NULL;
    pthread_t tid[64];
    struct bw_job jobs[64];
    double best = 0;

    /* In huge pages where the system gives them, as a mapped model's are
     * (fewer TLB misses: 1-2 GB/s more here). */
    if (posix_memalign((void **)&buf, (size_t)2 << 20, bytes) != 0)
        return 0;
#ifdef MADV_HUGEPAGE
    madvise(buf, bytes, MADV_HUGEPAGE);
#endif
    if (n_threads > 64)
        n_threads = 64;
    memset(buf, 1, bytes);
    for (int rep = 0; rep < 5; rep++) {
        double t0 = cli_now();
        for (int t = 0; t < n_threads; t++) {
            jobs[t].buf = buf + bytes / (size_t)n_threads * (size_t)t;
            jobs[t].bytes = bytes / (size_t)n_threads;
            pthread_create(&tid[t], NULL, bw_read, &jobs[t]);
        }
        for (int t = 0; t < n_threads; t++)
            pthread_join(tid[t], NULL);
        double dt = cli_now() - t0;
        if (bytes / dt > best)
            best = bytes / dt;
    }
    free(buf);
    return best;
}

/* Whether BYTES fit in the last level cache, as far as the C library
 * knows (it may not: then they are taken to fit). */
static int fits_in_cache(double bytes)
{
#ifdef _SC_LEVEL3_CACHE_SIZE
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (l3 > 0)
        return bytes <= (double)l3;
#endif
    return 1;
}

/* ---- the tests ------------------------------------------------------------ */

struct bench {
    woolly_model *model;
    woolly_model_info info;
    woolly_session *sess;
    int32_t *tokens;
    int n_threads;
};

static int32_t token_at(const struct bench *b, size_t i)
{
    return (int32_t)((i * 2654435761u + 7) % b->info.n_vocab);
}

/* Seconds to evaluate N prompt tokens from an empty context. */
static double time_prompt(struct bench *b, size_t n)
{
    double t0;

    woolly_session_truncate(b->sess, 0);
    t0 = cli_now();
    if (woolly_session_eval(b->sess, b->tokens, n) != WOOLLY_OK)
        return -1;
    return cli_now() - t0;
}

/* Generate N tokens one at a time after a one-token prompt; per-token
 * latencies go to LAT when it is not NULL. */
static double time_gen(struct bench *b, size_t n, double *lat)
{
    double start;

    woolly_session_truncate(b->sess, 0);
    if (woolly_session_eval(b->sess, b->tokens, 1) != WOOLLY_OK)
        return -1;
    start = cli_now();
    for (size_t i = 0; i < n; i++) {
        double t0 = cli_now();
        if (woolly_session_eval(b->sess, &b->tokens[(i + 1) % 4096], 1) != WOOLLY_OK)
            return -1;
        if (lat)
            lat[i] = cli_now() - t0;
    }
    return cli_now() - start;
}

/* What the session's threads did during a test: parallel steps a token,
 * and the shares of its time the calling thread waited at their ends for
 * the other threads and worked alone between them. */
struct pool_use {
    double steps, wait, alone;
};

struct pool_mark {
    woolly_session_stats st;
    double t;
};

static void pool_mark(const struct bench *b, struct pool_mark *m)
{
    m->st.size = sizeof m->st;
    woolly_session_get_stats(b->sess, &m->st);
    m->t = cli_now();
}

/* The use since M0 of TOKENS tokens. */
static struct pool_use pool_since(const struct bench *b, const struct pool_mark *m0, double tokens)
{
    struct pool_mark m1;
    struct pool_use u = { 0, 0, 0 };

    pool_mark(b, &m1);
    double wall = m1.t - m0->t;
    if (m1.st.steps == m0->st.steps || wall <= 0 || tokens <= 0)
        return u;
    u.steps = (double)(m1.st.steps - m0->st.steps) / tokens;
    u.wait = (m1.st.wait_seconds - m0->st.wait_seconds) / wall;
    u.alone = 1 - (m1.st.step_seconds - m0->st.step_seconds) / wall;
    return u;
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        { "model", required_argument, NULL, 'm' },   { "fast-fp32", no_argument, NULL, 'F' },
        { "n-prompt", required_argument, NULL, 'p' }, { "n-gen", required_argument, NULL, 'n' },
        { "repetitions", required_argument, NULL, 'r' }, { "threads", required_argument, NULL, 't' },
        { "batch", required_argument, NULL, 'b' },     { "sustained", required_argument, NULL, 'S' },
        { "no-sequence", no_argument, NULL, 'Q' },     { "no-roofline", no_argument, NULL, 'R' },
        { "seed", required_argument, NULL, 's' },      { "json", no_argument, NULL, 'j' },
        { "no-mmap", no_argument, NULL, 'M' },         { "help", no_argument, NULL, 'h' },
        { "no-repack", no_argument, NULL, 'P' },
        { NULL, 0, NULL, 0 },
    };
    const char *model_path = NULL;
    long n_prompt = 512, n_gen = 128, reps = 3, threads = 0, batch = 512, sustained = 256, seed = 42;
    int fast = 0, sequence = 1, roofline = 1, json = 0, use_mmap = 1, repack = 1, c, rc = EXIT_RUNTIME;
    char err[WOOLLY_ERRBUF_SIZE];
    struct bench b = { 0 };
    double load_s = 0, bw = 0;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":m:p:n:r:t:b:h", opts, NULL)) != -1) {
        long *target = NULL, lo = 0, hi = 0;
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'M': use_mmap = 0; break;
        case 'P': repack = 0; break;
        case 'F': fast = 1; break;
        case 'p': target = &n_prompt; lo = 0; hi = 1 << 20; break;
        case 'n': target = &n_gen; lo = 0; hi = 1 << 20; break;
        case 'r': target = &reps; lo = 1; hi = 1000; break;
        case 't': target = &threads; lo = 1; hi = 512; break;
        case 'b': target = &batch; lo = 1; hi = 1 << 16; break;
        case 'S': target = &sustained; lo = 0; hi = 1 << 20; break;
        case 's': target = &seed; lo = 0; hi = 0x7fffffff; break;
        case 'Q': sequence = 0; break;
        case 'R': roofline = 0; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':': return cli_usage_error("bench", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("bench", "unknown option '%s'", argv[optind - 1]);
        }
        if (target && cli_parse_long(optarg, lo, hi, target))
            return cli_usage_error("bench", "%s wants a number from %ld to %ld, not '%s'",
                                   argv[optind - 1], lo, hi, optarg);
    }
    if (optind < argc)
        return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    if (!model_path == !fast)
        return cli_usage_error("bench", "give either -m MODEL or --fast-fp32");

    double t0 = cli_now();
    if (fast) {
        woolly_synth_params sp;
        int st = cli_fast_params("bench", &sp);
        if (st != EXIT_OK)
            return st;
        sp.seed = (uint64_t)seed;
        sp.n_threads = (int)threads;
        woolly_status s = woolly_model_synth(&sp, &b.model, err, sizeof err);
        if (s == WOOLLY_ERR_INVALID)
            return cli_usage_error("bench", "%s", err);
        if (s != WOOLLY_OK)
            return cli_error("bench", "%s", err);
    } else {
        woolly_model_params mp;
        woolly_model_params_init(&mp, sizeof mp);
        mp.n_threads = (int)threads;
        mp.use_mmap = use_mmap;
        mp.repack = repack;
        if (woolly_model_load(model_path, &mp, &b.model, err, sizeof err) != WOOLLY_OK)
            return cli_error("bench", "%s", err);
    }
    load_s = cli_now() - t0;
    b.info.size = sizeof b.info;
    woolly_model_get_info(b.model, &b.info);

    size_t max_gen = (size_t)(n_gen > sustained ? n_gen : sustained);
    if (max_gen < 100 && sequence)
        max_gen = 100;
    woolly_session_params sp;
    woolly_session_params_init(&sp, sizeof sp);
    sp.n_threads = (int)threads;
    sp.n_batch = (uint32_t)batch;
    sp.n_ctx = (uint32_t)((size_t)n_prompt > max_gen + 1 ? (size_t)n_prompt : max_gen + 1);
    if (sp.n_ctx > b.info.n_ctx_train)
        fprintf(stderr, "woolly bench: note: %u tokens exceed the model's training context (%u)\n",
                sp.n_ctx, b.info.n_ctx_train);
    if (woolly_session_new(b.model, &sp, &b.sess, err, sizeof err) != WOOLLY_OK) {
        cli_error("bench", "%s", err);
        goto done;
    }
    b.tokens = malloc(4096 > (size_t)n_prompt ? 4096 * sizeof *b.tokens : (size_t)n_prompt * sizeof *b.tokens);
    for (size_t i = 0; i < (4096 > (size_t)n_prompt ? 4096 : (size_t)n_prompt); i++)
        b.tokens[i] = token_at(&b, i);

    double pp[1000], tg[1000];
    struct stats pps = { 0, 0 }, tgs = { 0, 0 };
    struct pool_use ppu = { 0, 0, 0 }, tgu = { 0, 0, 0 };
    struct pool_mark mark;
    if (n_prompt > 0) {
        /* Warm-up with a whole batch, as llama-bench does: the first batch
         * of that size faults in the session's buffers (2% of a pp512
         * profile went to zeroing their pages), which is not the speed of
         * prompt processing. */
        time_prompt(&b, (size_t)(n_prompt < batch ? n_prompt : batch));
        pool_mark(&b, &mark);
        for (int r = 0; r < reps; r++)
            pp[r] = n_prompt / time_prompt(&b, (size_t)n_prompt);
        ppu = pool_since(&b, &mark, (double)reps * (double)n_prompt);
        pps = summarize(pp, (int)reps);
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int n_thr = threads > 0 ? (int)threads : online > 0 ? (int)online : 1;
    if (n_gen > 0) {
        time_gen(&b, 4, NULL);
        /* The bandwidth just before and just after the decoding runs, the
         * better of the two: a shared machine's speed drifts, and measured
         * minutes later it had come out below what decoding read. */
        if (roofline)
            bw = measure_bandwidth(n_thr);
        pool_mark(&b, &mark);
        for (int r = 0; r < reps; r++)
            tg[r] = n_gen / time_gen(&b, (size_t)n_gen, NULL);
        tgu = pool_since(&b, &mark, (double)reps * (double)(n_gen + 1));   /* + each run's one-token prompt */
        tgs = summarize(tg, (int)reps);
        if (roofline) {
            double after = measure_bandwidth(n_thr);
            bw = after > bw ? after : bw;
        }
    }
    static const int seq_n[4] = { 1, 10, 50, 100 };
    double seq[4] = { 0 };
    for (int i = 0; sequence && i < 4; i++)
        seq[i] = seq_n[i] / time_gen(&b, (size_t)seq_n[i], NULL);
    double *lat = sustained > 0 ? malloc((size_t)sustained * sizeof *lat) : NULL;
    double sus_tps = 0, p50 = 0, p99 = 0, first_q = 0, last_q = 0;
    if (lat) {
        double total = time_gen(&b, (size_t)sustained, lat);
        size_t q = (size_t)sustained / 4 ? (size_t)sustained / 4 : 1;
        for (size_t i = 0; i < q; i++) {
            first_q += lat[i];
            last_q += lat[(size_t)sustained - q + i];
        }
        first_q = q / first_q;
        last_q = q / last_q;
        sus_tps = sustained / total;
        qsort(lat, (size_t)sustained, sizeof *lat, cmp_double);
        p50 = lat[(size_t)(0.50 * (sustained - 1))] * 1e3;
        p99 = lat[(size_t)(0.99 * (sustained - 1))] * 1e3;
    }
    if (roofline && n_gen <= 0)
        bw = measure_bandwidth(n_thr);
    double bytes_per_token = (double)b.info.n_bytes_token;
    double share = bw > 0 && n_gen > 0 ? tgs.mean * bytes_per_token / bw : 0;
    const char *name = fast ? "synthetic (--fast-fp32)" : model_path;
    double gib = (double)b.info.n_bytes / (1 << 30);

    if (json) {
        printf("{\"model\": \"%s\", \"arch\": \"%s\", \"size_bytes\": %llu, \"params\": %llu, "
               "\"kernels\": \"%s\", \"threads\": %d, \"load_ms\": %.2f, \"repacked_bytes\": %llu",
               fast ? "synthetic" : model_path, b.info.arch, (unsigned long long)b.info.n_bytes,
               (unsigned long long)b.info.n_params, woolly_kernel_level(), n_thr, load_s * 1e3,
               (unsigned long long)b.info.n_bytes_repacked);
        if (n_prompt > 0)
            printf(", \"pp\": {\"tokens\": %ld, \"tps_mean\": %.3f, \"tps_sd\": %.3f, \"steps_per_token\": %.3f, "
                   "\"wait_share\": %.4f, \"alone_share\": %.4f}",
                   n_prompt, pps.mean, pps.sd, ppu.steps, ppu.wait, ppu.alone);
        if (n_gen > 0)
            printf(", \"tg\": {\"tokens\": %ld, \"tps_mean\": %.3f, \"tps_sd\": %.3f, \"steps_per_token\": %.3f, "
                   "\"wait_share\": %.4f, \"alone_share\": %.4f}",
                   n_gen, tgs.mean, tgs.sd, tgu.steps, tgu.wait, tgu.alone);
        if (sequence)
            printf(", \"sequence\": {\"1\": %.3f, \"10\": %.3f, \"50\": %.3f, \"100\": %.3f}", seq[0], seq[1], seq[2], seq[3]);
        if (lat)
            printf(", \"sustained\": {\"tokens\": %ld, \"tps\": %.3f, \"tps_first_quarter\": %.3f, "
                   "\"tps_last_quarter\": %.3f, \"latency_p50_ms\": %.3f, \"latency_p99_ms\": %.3f}",
                   sustained, sus_tps, first_q, last_q, p50, p99);
        if (roofline)
            printf(", \"roofline\": {\"bandwidth_gbs\": %.3f, \"decode_bytes_per_token\": %.0f, \"decode_share\": %.4f}",
                   bw / 1e9, bytes_per_token, share);
        printf("}\n");
    } else {
        printf("| model | size | params | kernels | threads | test | t/s |\n");
        printf("| --- | ---: | ---: | --- | ---: | --- | ---: |\n");
        char row[256];
        snprintf(row, sizeof row, "| %s | %.2f GiB | %.2f M | %s | %d |", name, gib,
                 (double)b.info.n_params / 1e6, woolly_kernel_level(), n_thr);
        if (n_prompt > 0)
            printf("%s pp%ld | %.2f ± %.2f |\n", row, n_prompt, pps.mean, pps.sd);
        if (n_gen > 0)
            printf("%s tg%ld | %.2f ± %.2f |\n", row, n_gen, tgs.mean, tgs.sd);
        for (int i = 0; sequence && i < 4; i++)
            printf("%s tg%d (sequence) | %.2f |\n", row, seq_n[i], seq[i]);
        if (lat)
            printf("%s sustained tg%ld | %.2f |\n", row, sustained, sus_tps);
        printf("\nload: %.1f ms", load_s * 1e3);
        if (b.info.n_bytes_repacked)
            printf(", with %.0f MB of weights repacked for the kernels (--no-repack: none)",
                   (double)b.info.n_bytes_repacked / 1e6);
        printf("\n");
        /* With one thread there are no parallel steps to report. */
        if (n_prompt > 0 && ppu.steps > 0)
            printf("threads: pp%ld: the calling thread waited for the others %.1f%% of the time, worked alone "
                   "%.1f%%\n", n_prompt, ppu.wait * 100, ppu.alone * 100);
        if (n_gen > 0 && tgu.steps > 0)
            printf("threads: tg%ld: %.1f parallel steps a token; the calling thread waited for the others %.1f%% of "
                   "the time, worked alone %.1f%%\n", n_gen, tgu.steps, tgu.wait * 100, tgu.alone * 100);
        if (lat)
            printf("sustained: first quarter %.2f t/s, last quarter %.2f t/s; latency p50 %.2f ms, p99 %.2f ms\n",
                   first_q, last_q, p50, p99);
        if (roofline && n_gen > 0)
            printf("roofline: memory bandwidth %.1f GB/s; decode reads %.1f MB/token, %.1f GB/s = %.0f%% of it%s\n",
                   bw / 1e9, bytes_per_token / 1e6, tgs.mean * bytes_per_token / 1e9, share * 100,
                   share <= 1 ? "" : fits_in_cache(bytes_per_token) ? " (the model fits in the caches)"
                                   : " (the machine's speed changed while it was measured)");
        else if (roofline)   /* no tg test: no decode rate to compare */
            printf("roofline: memory bandwidth %.1f GB/s; decode reads %.1f MB/token\n", bw / 1e9,
                   bytes_per_token / 1e6);
    }
    free(lat);
    rc = EXIT_OK;
done:
    free(b.tokens);
    woolly_session_free(b.sess);
    woolly_model_free(b.model);
    return rc;
}
