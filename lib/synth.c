/*
 * synth.c - synthetic models: a Llama-shaped model with random weights,
 * built in memory.  Every weight is a pure function of (seed, tensor, index),
 * so any number of threads generates the same model.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fp16.h"
#include "internal.h"
#include "kernels/kernels.h"
#include "model.h"
#include "repack.h"
#include "threadpool.h"
#include "synth.h"
#include "vocab.h"
#include "types.h"

void woolly_synth_params_init(woolly_synth_params *params, size_t size)
{
    woolly_synth_params p = { 0 };

    p.size = sizeof p;
    p.n_vocab = 512;
    p.n_embd = 256;
    p.n_layer = 4;
    p.n_head = 8;
    p.n_head_kv = 4;
    p.n_ctx = 2048;
    p.n_ff = 768;
    p.type = WOOLLY_TYPE_F32;
    p.seed = 42;
    p.n_threads = 0;
    p.rope_freq_base = 10000.0f;
    p.norm_eps = 1e-5f;
    wl_params_init(params, size, &p, sizeof p);
}

static void params_from_user(woolly_synth_params *p, const woolly_synth_params *user)
{
    woolly_synth_params_init(p, sizeof *p);
    wl_params_merge(p, sizeof *p, user);
}

/* ---- layout ------------------------------------------------------------ */

#define ALIGN 64

/* Which tensor of a layer, in storage order. */
enum { T_ATTN_NORM, T_Q, T_K, T_V, T_O, T_FFN_NORM, T_GATE, T_UP, T_DOWN, T_PER_LAYER };

struct shape {
    uint64_t rows, cols;
    int is_norm;
};

static struct shape layer_shape(const woolly_synth_params *p, int which)
{
    uint64_t hd = p->n_embd / p->n_head, q = (uint64_t)p->n_head * hd, kv = (uint64_t)p->n_head_kv * hd;

    switch (which) {
    case T_ATTN_NORM:
    case T_FFN_NORM: return (struct shape){ 1, p->n_embd, 1 };
    case T_Q: return (struct shape){ q, p->n_embd, 0 };
    case T_K:
    case T_V: return (struct shape){ kv, p->n_embd, 0 };
    case T_O: return (struct shape){ p->n_embd, q, 0 };
    case T_GATE:
    case T_UP: return (struct shape){ p->n_ff, p->n_embd, 0 };
    default: return (struct shape){ p->n_embd, p->n_ff, 0 };
    }
}

/* Bytes of one tensor, rounded up to ALIGN; 0 on overflow or bad blocks. */
static uint64_t tensor_bytes(const woolly_synth_params *p, struct shape s)
{
    uint64_t row, all;

    if (wl_row_bytes(s.is_norm ? WOOLLY_TYPE_F32 : (uint32_t)p->type, s.cols, &row) ||
        wl_mul_u64(row, s.rows, &all) || all > UINT64_MAX - ALIGN)
        return 0;
    return (all + ALIGN - 1) / ALIGN * ALIGN;
}

/* Every tensor in storage order: token_embd, the layers, output_norm, output. */
static int n_tensors(const woolly_synth_params *p)
{
    return 3 + (int)p->n_layer * T_PER_LAYER;
}

static struct shape shape_of(const woolly_synth_params *p, int i)
{
    if (i == 0)
        return (struct shape){ p->n_vocab, p->n_embd, 0 };
    if (i == n_tensors(p) - 2)
        return (struct shape){ 1, p->n_embd, 1 };
    if (i == n_tensors(p) - 1)
        return (struct shape){ p->n_vocab, p->n_embd, 0 };
    return layer_shape(p, (i - 1) % T_PER_LAYER);
}

uint64_t woolly_synth_bytes(const woolly_synth_params *user)
{
    woolly_synth_params p;
    uint64_t total = 0;

    params_from_user(&p, user);
    if (p.n_head == 0 || p.n_layer == 0 || p.n_layer > 100000)
        return 0;
    for (int i = 0; i < n_tensors(&p); i++) {
        uint64_t b = tensor_bytes(&p, shape_of(&p, i));
        if (b == 0 || wl_add_u64(total, b, &total))
            return 0;
    }
    return total;
}

/* ---- validation -------------------------------------------------------- */

static uint64_t available_memory(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    unsigned long long kb;

    if (f) {
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                fclose(f);
                return (uint64_t)kb * 1024;
            }
        }
        fclose(f);
    }
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : UINT64_MAX;
}

static woolly_status validate(const woolly_synth_params *p, char *err, size_t errsize)
{
    const struct wl_type_traits *t = wl_type_traits((uint32_t)p->type);
    uint64_t bytes, avail;

    if (!p->n_vocab || !p->n_embd || !p->n_layer || !p->n_head || !p->n_head_kv || !p->n_ctx || !p->n_ff) {
        wl_errbuf(err, errsize, "every size of a synthetic model must be at least 1");
        return WOOLLY_ERR_INVALID;
    }
    if (p->n_vocab > INT32_MAX || p->n_embd > (1u << 20) || p->n_ff > (1u << 22) ||
        p->n_layer > 4096 || p->n_ctx > (1u << 24)) {
        wl_errbuf(err, errsize, "a size of the synthetic model is beyond any real model's");
        return WOOLLY_ERR_INVALID;
    }
    if (p->n_embd % p->n_head != 0) {
        wl_errbuf(err, errsize, "the hidden size %u is not divisible by the %u heads", p->n_embd, p->n_head);
        return WOOLLY_ERR_INVALID;
    }
    if ((p->n_embd / p->n_head) % 2 != 0) {
        wl_errbuf(err, errsize, "the head size %u (hidden size / heads) must be even", p->n_embd / p->n_head);
        return WOOLLY_ERR_INVALID;
    }
    if (p->n_head % p->n_head_kv != 0) {
        wl_errbuf(err, errsize, "the %u heads are not divisible by the %u KV heads", p->n_head, p->n_head_kv);
        return WOOLLY_ERR_INVALID;
    }
    if (!t || !wl_kernels_get()->type[p->type].from_float || !wl_kernels_get()->type[p->type].vec_dot) {
        wl_errbuf(err, errsize, "woolly cannot build weights of type %s",
                  t ? t->name : "(unknown)");
        return WOOLLY_ERR_INVALID;
    }
    if (p->n_embd % t->block_size != 0 || p->n_ff % t->block_size != 0) {
        wl_errbuf(err, errsize, "%s weights need the hidden size (%u) and the feed-forward size (%u) "
                  "to be multiples of %u", t->name, p->n_embd, p->n_ff, t->block_size);
        return WOOLLY_ERR_INVALID;
    }
    bytes = woolly_synth_bytes(p);
    avail = available_memory();
    if (bytes == 0) {
        wl_errbuf(err, errsize, "the synthetic model's size overflows");
        return WOOLLY_ERR_INVALID;
    }
    if (bytes > avail / 10 * 9) {
        wl_errbuf(err, errsize, "the synthetic model needs %.2f GiB of %s weights, but only %.2f GiB "
                  "of memory is available", (double)bytes / (1u << 30), t->name, (double)avail / (1u << 30));
        return WOOLLY_ERR_NOMEM;
    }
    return WOOLLY_OK;
}

/* ---- generation -------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Each row has its own generator, seeded from (tensor, row) alone: rows can
 * be made by any thread in any order and come out the same. */
static uint64_t row_state(uint64_t stream, uint64_t row)
{
    return splitmix64(stream ^ splitmix64(row)) | 1;
}

/* xorshift64*: 64 random bits. */
static uint64_t next_bits(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [-1, 1). */
static float next_uniform(uint64_t *s)
{
    return (float)((int64_t)next_bits(s) >> 40) * (1.0f / 8388608.0f);
}

struct gen_job {
    const woolly_synth_params *p;
    struct shape shape;
    uint8_t *dst;
    size_t row_bytes;
    uint64_t stream;
    float limit;          /* Xavier bound, or the noise of a norm */
    float *rows;          /* [n_threads][cols] scratch */
};

/* Fill N bytes with random bits. */
static void random_bytes(uint64_t *s, uint8_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t b = next_bits(s);
        memcpy(dst + i, &b, n - i < 8 ? n - i : 8);
    }
}

/* The simple block types are made directly: random quants and a scale that
 * spans [-LIMIT, LIMIT], as uniform as the Xavier draw and many times faster
 * than quantizing floats.  Returns 0 for types made from floats. */
static int direct_row(woolly_type type, uint64_t *s, float limit, uint8_t *dst, uint64_t cols)
{
    size_t nb = (size_t)(cols / 32);
    uint16_t d, m;

    switch (type) {
    case WOOLLY_TYPE_Q4_0:   /* (q - 8) d, q in 0..15 */
        d = wl_f32_to_f16(limit / 8);
        for (size_t b = 0; b < nb; b++, dst += 18) {
            memcpy(dst, &d, 2);
            random_bytes(s, dst + 2, 16);
        }
        return 1;
    case WOOLLY_TYPE_Q4_1:   /* q d + m, q in 0..15 */
        d = wl_f32_to_f16(2 * limit / 15);
        m = wl_f32_to_f16(-limit);
        for (size_t b = 0; b < nb; b++, dst += 20) {
            memcpy(dst, &d, 2);
            memcpy(dst + 2, &m, 2);
            random_bytes(s, dst + 4, 16);
        }
        return 1;
    case WOOLLY_TYPE_Q5_0:   /* (q - 16) d, q in 0..31 */
        d = wl_f32_to_f16(limit / 16);
        for (size_t b = 0; b < nb; b++, dst += 22) {
            memcpy(dst, &d, 2);
            random_bytes(s, dst + 2, 20);
        }
        return 1;
    case WOOLLY_TYPE_Q5_1:   /* q d + m, q in 0..31 */
        d = wl_f32_to_f16(2 * limit / 31);
        m = wl_f32_to_f16(-limit);
        for (size_t b = 0; b < nb; b++, dst += 24) {
            memcpy(dst, &d, 2);
            memcpy(dst + 2, &m, 2);
            random_bytes(s, dst + 4, 20);
        }
        return 1;
    case WOOLLY_TYPE_Q8_0:   /* q d, q in -127..127 */
        d = wl_f32_to_f16(limit / 127);
        for (size_t b = 0; b < nb; b++, dst += 34) {
            memcpy(dst, &d, 2);
            random_bytes(s, dst + 2, 32);
            for (int i = 2; i < 34; i++)
                if (dst[i] == 0x80)
                    dst[i] = 0x81;
        }
        return 1;
    default:
        return 0;
    }
}

static void gen_rows(void *arg, int ith, int nth)
{
    struct gen_job *j = arg;
    const wl_type_kernels *tk = &wl_kernels_get()->type[j->p->type];
    float *row = j->rows + (size_t)ith * j->shape.cols;
    long b, e;

    wl_split((long)j->shape.rows, ith, nth, &b, &e);
    for (long r = b; r < e; r++) {
        uint64_t state = row_state(j->stream, (uint64_t)r);
        if (j->shape.is_norm) {
            float *out = (float *)(void *)j->dst;
            for (uint64_t c = 0; c < j->shape.cols; c++)
                out[c] = 1.0f + j->limit * next_uniform(&state);
            continue;
        }
        if (direct_row(j->p->type, &state, j->limit, j->dst + (size_t)r * j->row_bytes, j->shape.cols))
            continue;
        for (uint64_t c = 0; c < j->shape.cols; c++)
            row[c] = j->limit * next_uniform(&state);
        tk->from_float(row, j->dst + (size_t)r * j->row_bytes, (size_t)j->shape.cols);
    }
}

/* Generate tensor I of the model into DST with POOL's threads. */
static void generate(const woolly_synth_params *p, int i, uint8_t *dst, wl_pool *pool, float *rows)
{
    struct shape s = shape_of(p, i);
    uint64_t row_bytes;
    struct gen_job job;

    wl_row_bytes(s.is_norm ? WOOLLY_TYPE_F32 : (uint32_t)p->type, s.cols, &row_bytes);
    job.p = p;
    job.shape = s;
    job.dst = dst;
    job.row_bytes = (size_t)row_bytes;
    job.stream = splitmix64(p->seed) ^ splitmix64((uint64_t)i + 1);
    job.limit = s.is_norm ? 0.01f : sqrtf(6.0f / (float)(s.rows + s.cols));
    job.rows = rows;
    wl_pool_run(pool, gen_rows, &job);
}

static int thread_count(const woolly_synth_params *p)
{
    long n = p->n_threads > 0 ? p->n_threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 && n <= 512 ? (int)n : 1;
}

static void bind(woolly_model *m, int i, uint8_t *data, const woolly_synth_params *p)
{
    struct shape s = shape_of(p, i);
    int last = n_tensors(p) - 1;

    if (i == 0) {
        wl_matrix_init(&m->tok_embd, p->type, s.rows, s.cols, data);
    } else if (i == last - 1) {
        m->output_norm = (const float *)(void *)data;
    } else if (i == last) {
        wl_matrix_init(&m->output, p->type, s.rows, s.cols, data);
    } else {
        wl_layer *l = &m->layers[(i - 1) / T_PER_LAYER];
        wl_matrix *mats[T_PER_LAYER] = { NULL, &l->wq, &l->wk, &l->wv, &l->wo, NULL, &l->w_gate, &l->w_up, &l->w_down };
        int which = (i - 1) % T_PER_LAYER;
        if (which == T_ATTN_NORM)
            l->attn_norm = (const float *)(void *)data;
        else if (which == T_FFN_NORM)
            l->ffn_norm = (const float *)(void *)data;
        else
            wl_matrix_init(mats[which], p->type, s.rows, s.cols, data);
    }
}

/* The vocabulary of a synthetic model: borrowed from P->vocab_path (whose
 * size then replaces n_vocab), or the built-in one. */
static woolly_status synth_vocab(woolly_synth_params *p, woolly_vocab **out, char *err, size_t errsize)
{
    struct wl_synth_vocab sv;
    struct wl_vocab_init init;
    woolly_status st;

    if (p->vocab_path) {
        woolly_gguf *g;
        char verr[WOOLLY_ERRBUF_SIZE];
        if ((st = woolly_gguf_open(p->vocab_path, &g, err, errsize)))
            return st;
        st = woolly_vocab_load(g, out, verr, sizeof verr);
        woolly_gguf_free(g);
        if (st) {
            wl_errbuf(err, errsize, "%s: %s", p->vocab_path, verr);
            return st;
        }
        p->n_vocab = (uint32_t)woolly_vocab_n_tokens(*out);
        return WOOLLY_OK;
    }
    if (p->n_vocab < 3) {
        wl_errbuf(err, errsize, "a synthetic model needs a vocabulary of at least 3 tokens");
        return WOOLLY_ERR_INVALID;
    }
    if ((st = wl_synth_vocab(p->n_vocab, &sv)))
        return st;
    wl_vocab_init_defaults(&init);
    init.type = WL_VOCAB_SPM;
    init.n_tokens = sv.n;
    init.texts = (const char *const *)sv.pieces;
    init.scores = sv.scores;
    init.types = sv.types;
    init.ids[WL_SP_UNK] = 0;
    init.ids[WL_SP_BOS] = 1;
    init.ids[WL_SP_EOS] = 2;
    init.add_bos = 1;
    init.add_eos = 0;
    st = wl_vocab_build(&init, out, err, errsize);
    wl_synth_vocab_free(&sv);
    return st;
}

woolly_status woolly_model_synth(const woolly_synth_params *user, woolly_model **out, char *err,
                                 size_t errsize)
{
    woolly_synth_params p;
    woolly_model *m;
    wl_pool *pool;
    woolly_status st;
    uint8_t *data;
    float *rows;
    size_t max_cols;
    int nth;

    if (!out) {
        wl_errbuf(err, errsize, "woolly_model_synth: no out pointer");
        return WOOLLY_ERR_INVALID;
    }
    *out = NULL;
    params_from_user(&p, user);
    woolly_vocab *vocab = NULL;
    if ((p.vocab_path || p.n_vocab >= 3) && (st = synth_vocab(&p, &vocab, err, errsize)))
        return st;
    if ((st = validate(&p, err, errsize))) {
        woolly_vocab_free(vocab);
        return st;
    }
    nth = thread_count(&p);
    max_cols = p.n_ff > p.n_embd ? p.n_ff : p.n_embd;
    const size_t bytes = (size_t)woolly_synth_bytes(&p);
    m = calloc(1, sizeof *m);
    data = wl_alloc_huge(bytes);
    rows = malloc((size_t)nth * max_cols * sizeof *rows);
    pool = wl_pool_new(nth);
    if (m)
        m->layers = calloc(p.n_layer, sizeof *m->layers);
    if (!m || !data || !rows || !pool || !m->layers) {
        wl_errbuf(err, errsize, "out of memory for a synthetic model of %llu bytes",
                  (unsigned long long)bytes);
        if (m)
            free(m->layers);
        free(m);
        wl_free_huge(data, bytes);
        free(rows);
        wl_pool_free(pool);
        woolly_vocab_free(vocab);
        return WOOLLY_ERR_NOMEM;
    }
    m->owned = data;
    m->owned_size = bytes;
    m->vocab = vocab;
    snprintf(m->arch_name, sizeof m->arch_name, "llama");
    m->arch = WL_ARCH_LLAMA;
    m->hp = (wl_hparams){ .n_vocab = p.n_vocab, .n_ctx_train = p.n_ctx, .n_embd = p.n_embd,
                          .n_layer = p.n_layer, .n_head = p.n_head, .n_head_kv = p.n_head_kv,
                          .head_dim = p.n_embd / p.n_head, .n_ff = p.n_ff,
                          .n_rot = p.n_embd / p.n_head, .norm_eps = p.norm_eps,
                          .rope_base = p.rope_freq_base, .rope_freq_scale = 1.0f,
                          .rope_style = WL_ROPE_ADJACENT };
    m->n_threads = nth;
    for (int i = 0; i < n_tensors(&p); i++) {
        struct shape s = shape_of(&p, i);
        generate(&p, i, data, pool, rows);
        bind(m, i, data, &p);
        m->n_params += s.rows * s.cols;
        data += tensor_bytes(&p, s);
    }
    m->n_bytes = bytes;
    free(rows);
    st = wl_model_repack(m, pool, 1);
    wl_pool_free(pool);
    if (st) {
        wl_errbuf(err, errsize, "out of memory to repack a synthetic model");
        woolly_model_free(m);
        return st;
    }
    *out = m;
    return WOOLLY_OK;
}

/* ---- writing as GGUF ---------------------------------------------------- */

static void tensor_name(const woolly_synth_params *p, int i, char *buf, size_t cap)
{
    static const char *const layer_names[T_PER_LAYER] = {
        "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down",
    };
    int last = n_tensors(p) - 1;

    if (i == 0)
        snprintf(buf, cap, "token_embd.weight");
    else if (i == last - 1)
        snprintf(buf, cap, "output_norm.weight");
    else if (i == last)
        snprintf(buf, cap, "output.weight");
    else
        snprintf(buf, cap, "blk.%d.%s.weight", (i - 1) / T_PER_LAYER, layer_names[(i - 1) % T_PER_LAYER]);
}

/* The tokenizer of the file at PATH: copy its tokenizer.* pairs; *n_vocab
 * becomes its number of tokens. */
static woolly_status borrow_vocab(woolly_gguf_writer *w, const char *path, uint32_t *n_vocab, char *err,
                                  size_t errsize)
{
    woolly_gguf *g;
    woolly_status st = woolly_gguf_open(path, &g, err, errsize);
    int64_t k;
    woolly_gguf_type et;
    uint64_t count = 0;

    if (st)
        return st;
    k = woolly_gguf_find_key(g, "tokenizer.ggml.tokens");
    if (k < 0 || woolly_gguf_kv_array(g, (size_t)k, &et, &count) != WOOLLY_OK || et != WOOLLY_GGUF_STRING ||
        count == 0 || count > INT32_MAX) {
        wl_errbuf(err, errsize, "%s has no vocabulary (tokenizer.ggml.tokens) to borrow", path);
        woolly_gguf_free(g);
        return WOOLLY_ERR_FORMAT;
    }
    *n_vocab = (uint32_t)count;
    for (size_t i = 0; w && i < woolly_gguf_kv_count(g) && st == WOOLLY_OK; i++)
        if (strncmp(woolly_gguf_kv_key(g, i), "tokenizer.", 10) == 0)
            st = woolly_gguf_writer_copy_kv(w, g, i);
    woolly_gguf_free(g);
    return st;
}

static woolly_status write_builtin_vocab(woolly_gguf_writer *w, uint32_t n)
{
    struct wl_synth_vocab v;
    woolly_status st = wl_synth_vocab(n, &v);

    if (st)
        return st;
    if (!st)
        st = woolly_gguf_writer_set_string(w, "tokenizer.ggml.model", "llama", 5);
    if (!st)
        st = woolly_gguf_writer_set_array_string(w, "tokenizer.ggml.tokens", (const char *const *)v.pieces,
                                                 NULL, n);
    if (!st)
        st = woolly_gguf_writer_set_array(w, "tokenizer.ggml.scores", WOOLLY_GGUF_FLOAT32, v.scores, n);
    if (!st)
        st = woolly_gguf_writer_set_array(w, "tokenizer.ggml.token_type", WOOLLY_GGUF_INT32, v.types, n);
    if (!st)
        st = woolly_gguf_writer_set_uint(w, "tokenizer.ggml.unknown_token_id", WOOLLY_GGUF_UINT32, 0);
    if (!st)
        st = woolly_gguf_writer_set_uint(w, "tokenizer.ggml.bos_token_id", WOOLLY_GGUF_UINT32, 1);
    if (!st)
        st = woolly_gguf_writer_set_uint(w, "tokenizer.ggml.eos_token_id", WOOLLY_GGUF_UINT32, 2);
    if (!st)
        st = woolly_gguf_writer_set_int(w, "tokenizer.ggml.add_bos_token", WOOLLY_GGUF_BOOL, 1);
    if (!st)
        st = woolly_gguf_writer_set_int(w, "tokenizer.ggml.add_eos_token", WOOLLY_GGUF_BOOL, 0);
    wl_synth_vocab_free(&v);
    return st;
}

static woolly_status write_hparams(woolly_gguf_writer *w, const woolly_synth_params *p)
{
    woolly_status st;
    static const char name[] = "woolly synthetic model";

    if ((st = woolly_gguf_writer_set_string(w, "general.architecture", "llama", 5)) ||
        (st = woolly_gguf_writer_set_string(w, "general.name", name, sizeof name - 1)) ||
        (st = woolly_gguf_writer_set_uint(w, "llama.context_length", WOOLLY_GGUF_UINT32, p->n_ctx)) ||
        (st = woolly_gguf_writer_set_uint(w, "llama.embedding_length", WOOLLY_GGUF_UINT32, p->n_embd)) ||
        (st = woolly_gguf_writer_set_uint(w, "llama.block_count", WOOLLY_GGUF_UINT32, p->n_layer)) ||
        (st = woolly_gguf_writer_set_uint(w, "llama.feed_forward_length", WOOLLY_GGUF_UINT32, p->n_ff)) ||
        (st = woolly_gguf_writer_set_uint(w, "llama.attention.head_count", WOOLLY_GGUF_UINT32, p->n_head)) ||
        (st = woolly_gguf_writer_set_uint(w, "llama.attention.head_count_kv", WOOLLY_GGUF_UINT32, p->n_head_kv)) ||
        (st = woolly_gguf_writer_set_uint(w, "llama.rope.dimension_count", WOOLLY_GGUF_UINT32, p->n_embd / p->n_head)) ||
        (st = woolly_gguf_writer_set_float(w, "llama.rope.freq_base", WOOLLY_GGUF_FLOAT32, p->rope_freq_base)) ||
        (st = woolly_gguf_writer_set_float(w, "llama.attention.layer_norm_rms_epsilon", WOOLLY_GGUF_FLOAT32,
                                           p->norm_eps)))
        return st;
    return WOOLLY_OK;
}

woolly_status woolly_synth_write(const woolly_synth_params *user, const char *path, char *err,
                                 size_t errsize)
{
    woolly_synth_params p;
    woolly_gguf_writer *w = NULL;
    woolly_status st;
    wl_pool *pool = NULL;
    uint8_t *buf = NULL;
    float *rows = NULL;
    uint64_t largest = 0;
    size_t max_cols;
    char name[64];
    int nth;

    params_from_user(&p, user);
    if (!path) {
        wl_errbuf(err, errsize, "woolly_synth_write: no path");
        return WOOLLY_ERR_INVALID;
    }
    if (p.vocab_path && (st = borrow_vocab(NULL, p.vocab_path, &p.n_vocab, err, errsize)))
        return st;
    if ((st = validate(&p, err, errsize)))
        return st;
    for (int i = 0; i < n_tensors(&p); i++)
        if (tensor_bytes(&p, shape_of(&p, i)) > largest)
            largest = tensor_bytes(&p, shape_of(&p, i));
    nth = thread_count(&p);
    max_cols = p.n_ff > p.n_embd ? p.n_ff : p.n_embd;
    buf = wl_alloc_aligned((size_t)largest);
    rows = malloc((size_t)nth * max_cols * sizeof *rows);
    pool = wl_pool_new(nth);
    if (!buf || !rows || !pool) {
        wl_errbuf(err, errsize, "out of memory");
        st = WOOLLY_ERR_NOMEM;
        goto done;
    }
    if ((st = woolly_gguf_writer_open(path, &w, err, errsize)))
        goto done;
    if ((st = write_hparams(w, &p)) ||
        (st = p.vocab_path ? borrow_vocab(w, p.vocab_path, &p.n_vocab, err, errsize)
                           : write_builtin_vocab(w, p.n_vocab)))
        goto fail;
    for (int i = 0; i < n_tensors(&p); i++) {
        struct shape s = shape_of(&p, i);
        uint64_t ne[2] = { s.cols, s.rows };
        tensor_name(&p, i, name, sizeof name);
        if ((st = woolly_gguf_writer_add_tensor(w, name, s.is_norm ? WOOLLY_TYPE_F32 : p.type,
                                                s.is_norm ? 1 : 2, ne)))
            goto fail;
    }
    if ((st = woolly_gguf_writer_begin_data(w)))
        goto fail;
    for (int i = 0; i < n_tensors(&p); i++) {
        struct shape s = shape_of(&p, i);
        uint64_t row_bytes;
        wl_row_bytes(s.is_norm ? WOOLLY_TYPE_F32 : (uint32_t)p.type, s.cols, &row_bytes);
        generate(&p, i, buf, pool, rows);
        if ((st = woolly_gguf_writer_write(w, buf, (size_t)(row_bytes * s.rows))))
            goto fail;
    }
    st = woolly_gguf_writer_close(w, err, errsize);
    w = NULL;
    goto done;
fail:
    if (woolly_gguf_writer_errmsg(w) && *woolly_gguf_writer_errmsg(w))
        wl_errbuf(err, errsize, "%s", woolly_gguf_writer_errmsg(w));
    woolly_gguf_writer_free(w);
done:
    wl_free_aligned(buf);
    free(rows);
    wl_pool_free(pool);
    return st;
}
