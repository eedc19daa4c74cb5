/*
 * quantize.c - convert a GGUF model's matrices to another type, tensor by
 * tensor, with llama.cpp's per-tensor rules for the usual mixes.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "quant.h"
#include "threadpool.h"
#include "types.h"

void woolly_quantize_params_init(woolly_quantize_params *params, size_t size)
{
    woolly_quantize_params p = { 0 };

    p.size = sizeof p;
    p.type = WOOLLY_TYPE_Q4_K;
    p.mix = WOOLLY_MIX_NONE;
    wl_params_init(params, size, &p, sizeof p);
}

/* llama.cpp's file types (general.file_type) for what we write. */
static uint32_t file_type(woolly_type t, woolly_quant_mix mix)
{
    if (mix == WOOLLY_MIX_Q4_K_M)
        return 15;
    if (mix == WOOLLY_MIX_Q5_K_M)
        return 17;
    switch (t) {
    case WOOLLY_TYPE_F32: return 0;
    case WOOLLY_TYPE_F16: return 1;
    case WOOLLY_TYPE_Q4_0: return 2;
    case WOOLLY_TYPE_Q4_1: return 3;
    case WOOLLY_TYPE_Q8_0: return 7;
    case WOOLLY_TYPE_Q5_0: return 8;
    case WOOLLY_TYPE_Q5_1: return 9;
    case WOOLLY_TYPE_Q2_K: return 10;
    case WOOLLY_TYPE_Q3_K: return 11;  /* Q3_K_S */
    case WOOLLY_TYPE_Q4_K: return 14;  /* Q4_K_S */
    case WOOLLY_TYPE_Q5_K: return 16;  /* Q5_K_S */
    case WOOLLY_TYPE_Q6_K: return 18;
    case WOOLLY_TYPE_BF16: return 32;
    default: return 0;
    }
}

/* llama.cpp's rule for which layers get more bits: the first and last
 * eighth, and every third in between. */
static int use_more_bits(int i, int n)
{
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

struct plan {
    int n_layer;
    int has_output;
    int i_attn_v, i_ffn_down;  /* counters, as llama.cpp keeps them */
};

/* The type a matrix called NAME gets. */
static woolly_type choose(const woolly_quantize_params *p, struct plan *pl, const char *name)
{
    woolly_type base = p->mix == WOOLLY_MIX_Q4_K_M ? WOOLLY_TYPE_Q4_K
                     : p->mix == WOOLLY_MIX_Q5_K_M ? WOOLLY_TYPE_Q5_K : p->type;

    if (p->mix == WOOLLY_MIX_NONE)
        return base;
    if (strcmp(name, "output.weight") == 0 || (!pl->has_output && strcmp(name, "token_embd.weight") == 0))
        return WOOLLY_TYPE_Q6_K;
    if (strstr(name, "attn_v.weight"))
        return use_more_bits(pl->i_attn_v++, pl->n_layer) ? WOOLLY_TYPE_Q6_K : base;
    if (strstr(name, "ffn_down"))
        return use_more_bits(pl->i_ffn_down++, pl->n_layer) ? WOOLLY_TYPE_Q6_K : base;
    return base;
}

/* K-quants need rows of whole 256-element blocks; llama.cpp falls back. */
static woolly_type fallback(woolly_type t, uint64_t cols)
{
    if (cols % woolly_type_block_size(t) == 0)
        return t;
    switch (t) {
    case WOOLLY_TYPE_Q2_K:
    case WOOLLY_TYPE_Q3_K:
    case WOOLLY_TYPE_Q4_K: t = WOOLLY_TYPE_Q5_0; break;
    case WOOLLY_TYPE_Q5_K: t = WOOLLY_TYPE_Q5_1; break;
    case WOOLLY_TYPE_Q6_K: t = WOOLLY_TYPE_Q8_0; break;
    default: return WOOLLY_TYPE_F16;
    }
    return cols % woolly_type_block_size(t) == 0 ? t : WOOLLY_TYPE_F16;
}

static int is_float(woolly_type t)
{
    return t == WOOLLY_TYPE_F32 || t == WOOLLY_TYPE_F16 || t == WOOLLY_TYPE_BF16;
}

struct convert_job {
    const woolly_gguf_tensor *t;
    woolly_type to;
    uint64_t cols, rows;
    size_t in_row, out_row;
    uint8_t *out;
    float *scratch;   /* [nth][cols] */
};

static void convert_rows(void *arg, int ith, int nth)
{
    struct convert_job *j = arg;
    const wl_kernels *k = wl_kernels_get();
    float *row = j->scratch + (size_t)ith * j->cols;
    long b, e;

    wl_split((long)j->rows, ith, nth, &b, &e);
    for (long r = b; r < e; r++) {
        const uint8_t *src = (const uint8_t *)j->t->data + (size_t)r * j->in_row;
        uint8_t *dst = j->out + (size_t)r * j->out_row;
        k->type[j->t->type].to_float(src, row, (size_t)j->cols);
        if (is_float(j->to))
            k->type[j->to].from_float(row, dst, (size_t)j->cols);
        else
            wl_quantize_rows(j->to, row, dst, 1, (size_t)j->cols);
    }
}

woolly_status woolly_quantize(const char *in, const char *out, const woolly_quantize_params *user,
                              char *err, size_t errsize)
{
    woolly_quantize_params p;
    woolly_gguf *g = NULL;
    woolly_gguf_writer *w = NULL;
    woolly_type *types = NULL;
    struct plan pl = { 0 };
    wl_pool *pool = NULL;
    uint8_t *buf = NULL;
    float *scratch = NULL;
    uint64_t largest = 0, max_cols = 0;
    woolly_status st;
    size_t n;
    int nth;

    woolly_quantize_params_init(&p, sizeof p);
    wl_params_merge(&p, sizeof p, user);
    if (!in || !out) {
        wl_errbuf(err, errsize, "woolly_quantize: no input or output path");
        return WOOLLY_ERR_INVALID;
    }
    if (p.mix == WOOLLY_MIX_NONE && (!woolly_type_supported(p.type) || p.type == WOOLLY_TYPE_Q8_1 ||
                                     p.type == WOOLLY_TYPE_Q8_K)) {
        wl_errbuf(err, errsize, "woolly cannot quantize to %s",
                  woolly_type_name(p.type) ? woolly_type_name(p.type) : "that type");
        return WOOLLY_ERR_INVALID;
    }
    if ((st = woolly_gguf_open(in, &g, err, errsize)))
        return st;
    n = woolly_gguf_tensor_count(g);
    types = calloc(n ? n : 1, sizeof *types);
    if (!types) {
        st = WOOLLY_ERR_NOMEM;
        goto done;
    }
    pl.has_output = woolly_gguf_find_tensor(g, "output.weight") >= 0;
    for (size_t i = 0; i < n; i++) {
        woolly_gguf_tensor t;
        woolly_gguf_tensor_info(g, i, &t);
        if (strncmp(t.name, "blk.", 4) == 0) {
            int layer = atoi(t.name + 4);
            if (layer + 1 > pl.n_layer)
                pl.n_layer = layer + 1;
        }
    }
    /* Decide every tensor's type before writing anything. */
    for (size_t i = 0; i < n; i++) {
        woolly_gguf_tensor t;
        woolly_gguf_tensor_info(g, i, &t);
        int matrix = t.n_dims >= 2 && ends_with(t.name, ".weight");
        types[i] = matrix ? fallback(choose(&p, &pl, t.name), t.ne[0]) : t.type;
        if (types[i] == t.type)
            continue;
        if (!wl_kernels_get()->type[t.type].to_float) {
            wl_errbuf(err, errsize, "%s: tensor %s is %s, which woolly cannot read", in, t.name,
                      woolly_type_name(t.type));
            st = WOOLLY_ERR_UNSUPPORTED;
            goto done;
        }
        if (!is_float(t.type) && !p.allow_requantize) {
            wl_errbuf(err, errsize, "%s: tensor %s is already quantized (%s); requantizing loses more "
                      "precision: allow it explicitly", in, t.name, woolly_type_name(t.type));
            st = WOOLLY_ERR_INVALID;
            goto done;
        }
        if (t.size > largest)
            largest = t.size;
        if (t.ne[0] > max_cols)
            max_cols = t.ne[0];
    }
    nth = p.n_threads > 0 ? p.n_threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nth < 1 || nth > 512)
        nth = 1;
    /* The output of a tensor is never larger than its F32 form. */
    for (size_t i = 0; i < n; i++) {
        woolly_gguf_tensor t;
        woolly_gguf_tensor_info(g, i, &t);
        uint64_t b;
        if (wl_row_bytes((uint32_t)types[i], t.n_elements, &b) == 0 && b > largest)
            largest = b;
    }
    buf = wl_alloc_aligned((size_t)largest);
    scratch = malloc((size_t)nth * (size_t)(max_cols ? max_cols : 1) * sizeof *scratch);
    pool = wl_pool_new(nth);
    if (!buf || !scratch || !pool) {
        wl_errbuf(err, errsize, "out of memory");
        st = WOOLLY_ERR_NOMEM;
        goto done;
    }
    if ((st = woolly_gguf_writer_open(out, &w, err, errsize)))
        goto done;
    for (size_t i = 0; i < woolly_gguf_kv_count(g) && !st; i++) {
        const char *key = woolly_gguf_kv_key(g, i);
        if (strcmp(key, "general.file_type") != 0 && strcmp(key, "general.quantization_version") != 0)
            st = woolly_gguf_writer_copy_kv(w, g, i);
    }
    if (!st)
        st = woolly_gguf_writer_set_uint(w, "general.quantization_version", WOOLLY_GGUF_UINT32, 2);
    if (!st)
        st = woolly_gguf_writer_set_uint(w, "general.file_type", WOOLLY_GGUF_UINT32, file_type(p.type, p.mix));
    for (size_t i = 0; i < n && !st; i++) {
        woolly_gguf_tensor t;
        woolly_gguf_tensor_info(g, i, &t);
        st = woolly_gguf_writer_add_tensor(w, t.name, types[i], t.n_dims, t.ne);
    }
    if (!st)
        st = woolly_gguf_writer_begin_data(w);
    for (size_t i = 0; i < n && !st; i++) {
        woolly_gguf_tensor t;
        woolly_gguf_tensor_info(g, i, &t);
        if (types[i] == t.type) {
            st = woolly_gguf_writer_write(w, t.data, (size_t)t.size);
        } else {
            uint64_t in_row, out_row;
            wl_row_bytes((uint32_t)t.type, t.ne[0], &in_row);
            wl_row_bytes((uint32_t)types[i], t.ne[0], &out_row);
            struct convert_job job = { &t, types[i], t.ne[0], t.n_elements / t.ne[0], (size_t)in_row,
                                       (size_t)out_row, buf, scratch };
            wl_pool_run(pool, convert_rows, &job);
            st = woolly_gguf_writer_write(w, buf, (size_t)(out_row * job.rows));
        }
        if (!st && p.progress)
            p.progress(i + 1, n, t.name, p.progress_user);
    }
    if (st) {
        wl_errbuf(err, errsize, "%s: %s", out, woolly_gguf_writer_errmsg(w));
        woolly_gguf_writer_free(w);
    } else {
        st = woolly_gguf_writer_close(w, err, errsize);
    }
    w = NULL;
done:
    woolly_gguf_writer_free(w);
    woolly_gguf_free(g);
    free(types);
    wl_free_aligned(buf);
    free(scratch);
    wl_pool_free(pool);
    return st;
}
