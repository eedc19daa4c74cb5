/*
 * model.c - load a model: read the hyper-parameters of its architecture from
 * the GGUF metadata and bind every weight to its tensor where it lies in the
 * file.  Nothing is converted at load but a few small vectors (norms,
 * biases) stored in another type than F32.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "model.h"
#include "repack.h"
#include "types.h"

void woolly_model_params_init(woolly_model_params *params, size_t size)
{
    woolly_model_params p = { 0 };

    p.size = sizeof p;
    p.use_mmap = 1;
    p.n_threads = 0;
    p.repack = 1;
    wl_params_init(params, size, &p, sizeof p);
}

/* Copy the fields of USER that its size says it has over the defaults. */
static void params_from_user(woolly_model_params *p, const woolly_model_params *user)
{
    woolly_model_params_init(p, sizeof *p);
    wl_params_merge(p, sizeof *p, user);
}

woolly_status wl_matrix_init(wl_matrix *m, woolly_type type, uint64_t rows, uint64_t cols,
                             const void *data)
{
    uint64_t row_bytes;

    if (wl_row_bytes((uint32_t)type, cols, &row_bytes))
        return WOOLLY_ERR_FORMAT;
    m->type = type;
    m->rows = rows;
    m->cols = cols;
    m->row_bytes = (size_t)row_bytes;
    m->data = data;
    m->packed = NULL;
    return WOOLLY_OK;
}

/* ---- metadata ---------------------------------------------------------- */

struct loader {
    woolly_model *model;
    const woolly_gguf *gguf;
    char *err;
    size_t errsize;
    char unsupported[256];   /* names of types found that cannot be computed */
    size_t f32_used, f32_cap;
};

static woolly_status fail(struct loader *ld, woolly_status st, const char *fmt, ...)
    WL_PRINTF(3, 4);

static woolly_status fail(struct loader *ld, woolly_status st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    wl_verrbuf(ld->err, ld->errsize, fmt, ap);
    va_end(ap);
    return st;
}

/* ARCH.SUFFIX as an unsigned 32-bit value; DEF when absent and not REQUIRED. */
static woolly_status get_u32(struct loader *ld, const char *suffix, int required, uint32_t def,
                             uint32_t *out)
{
    char key[128];
    int64_t i;
    uint64_t v;

    snprintf(key, sizeof key, "%s.%s", ld->model->arch_name, suffix);
    i = woolly_gguf_find_key(ld->gguf, key);
    if (i < 0) {
        if (required)
            return fail(ld, WOOLLY_ERR_FORMAT, "the model has no %s", key);
        *out = def;
        return WOOLLY_OK;
    }
    if (woolly_gguf_kv_uint(ld->gguf, (size_t)i, &v) != WOOLLY_OK || v > UINT32_MAX)
        return fail(ld, WOOLLY_ERR_FORMAT, "%s must be an unsigned 32-bit integer", key);
    *out = (uint32_t)v;
    return WOOLLY_OK;
}

static woolly_status get_f32(struct loader *ld, const char *suffix, float def, float *out)
{
    char key[128];
    int64_t i;
    double v;

    snprintf(key, sizeof key, "%s.%s", ld->model->arch_name, suffix);
    i = woolly_gguf_find_key(ld->gguf, key);
    if (i < 0) {
        *out = def;
        return WOOLLY_OK;
    }
    if (woolly_gguf_kv_float(ld->gguf, (size_t)i, &v) != WOOLLY_OK)
        return fail(ld, WOOLLY_ERR_FORMAT, "%s must be a number", key);
    *out = (float)v;
    return WOOLLY_OK;
}

static woolly_status read_arch(struct loader *ld)
{
    int64_t i = woolly_gguf_find_key(ld->gguf, "general.architecture");
    const char *s;
    size_t len;

    if (i < 0)
        return fail(ld, WOOLLY_ERR_FORMAT, "the file has no general.architecture: not a model");
    if (woolly_gguf_kv_string(ld->gguf, (size_t)i, &s, &len) != WOOLLY_OK)
        return fail(ld, WOOLLY_ERR_FORMAT, "general.architecture must be a string");
    if (len >= sizeof ld->model->arch_name)
        len = sizeof ld->model->arch_name - 1;
    memcpy(ld->model->arch_name, s, len);
    ld->model->arch_name[len] = '\0';
    if (strcmp(ld->model->arch_name, "llama") == 0)
        ld->model->arch = WL_ARCH_LLAMA;
    else if (strcmp(ld->model->arch_name, "qwen2") == 0)
        ld->model->arch = WL_ARCH_QWEN2;
    else
        return fail(ld, WOOLLY_ERR_UNSUPPORTED,
                    "architecture '%s' is not supported (woolly runs llama and qwen2)",
                    ld->model->arch_name);
    return WOOLLY_OK;
}

static woolly_status read_hparams(struct loader *ld)
{
    wl_hparams *hp = &ld->model->hp;
    woolly_status st;
    uint32_t key_len, value_len, head_dim;
    char key[128];
    int64_t i;

    if ((st = get_u32(ld, "context_length", 1, 0, &hp->n_ctx_train)) ||
        (st = get_u32(ld, "embedding_length", 1, 0, &hp->n_embd)) ||
        (st = get_u32(ld, "block_count", 1, 0, &hp->n_layer)) ||
        (st = get_u32(ld, "feed_forward_length", 1, 0, &hp->n_ff)) ||
        (st = get_u32(ld, "attention.head_count", 1, 0, &hp->n_head)) ||
        (st = get_u32(ld, "attention.head_count_kv", 0, hp->n_head, &hp->n_head_kv)) ||
        (st = get_f32(ld, "attention.layer_norm_rms_epsilon", 1e-5f, &hp->norm_eps)) ||
        (st = get_f32(ld, "rope.freq_base", 10000.0f, &hp->rope_base)))
        return st;
    if (hp->n_embd == 0 || hp->n_layer == 0 || hp->n_head == 0 || hp->n_head_kv == 0 ||
        hp->n_ff == 0 || hp->n_ctx_train == 0)
        return fail(ld, WOOLLY_ERR_FORMAT, "a hyper-parameter of the model is zero");
    if (hp->n_embd % hp->n_head != 0)
        return fail(ld, WOOLLY_ERR_FORMAT, "embedding length %u is not a multiple of the %u heads",
                    hp->n_embd, hp->n_head);
    if (hp->n_head % hp->n_head_kv != 0)
        return fail(ld, WOOLLY_ERR_FORMAT, "%u heads cannot share %u key/value heads", hp->n_head,
                    hp->n_head_kv);
    head_dim = hp->n_embd / hp->n_head;
    if ((st = get_u32(ld, "attention.key_length", 0, head_dim, &key_len)) ||
        (st = get_u32(ld, "attention.value_length", 0, head_dim, &value_len)))
        return st;
    if (key_len != value_len || key_len == 0 || key_len % 2 != 0 || key_len > 1024)
        return fail(ld, WOOLLY_ERR_UNSUPPORTED, "head dimensions %u (keys) and %u (values) are not supported",
                    key_len, value_len);
    hp->head_dim = key_len;
    if ((st = get_u32(ld, "rope.dimension_count", 0, hp->head_dim, &hp->n_rot)))
        return st;
    if (hp->n_rot > hp->head_dim || hp->n_rot % 2 != 0)
        return fail(ld, WOOLLY_ERR_FORMAT, "rope.dimension_count %u does not fit heads of %u",
                    hp->n_rot, hp->head_dim);
    hp->rope_style = ld->model->arch == WL_ARCH_QWEN2 ? WL_ROPE_HALVES : WL_ROPE_ADJACENT;
    hp->rope_freq_scale = 1.0f;
    snprintf(key, sizeof key, "%s.rope.scaling.type", ld->model->arch_name);
    i = woolly_gguf_find_key(ld->gguf, key);
    if (i >= 0) {
        const char *s;
        size_t len;
        if (woolly_gguf_kv_string(ld->gguf, (size_t)i, &s, &len) != WOOLLY_OK)
            return fail(ld, WOOLLY_ERR_FORMAT, "%s must be a string", key);
        if (len == 6 && memcmp(s, "linear", 6) == 0) {
            float factor;
            if ((st = get_f32(ld, "rope.scaling.factor", 1.0f, &factor)))
                return st;
            if (!(factor > 0.0f))
                return fail(ld, WOOLLY_ERR_FORMAT, "rope.scaling.factor must be positive");
            hp->rope_freq_scale = 1.0f / factor;
        } else if (!(len == 4 && memcmp(s, "none", 4) == 0)) {
            return fail(ld, WOOLLY_ERR_UNSUPPORTED, "rope scaling '%.*s' is not supported (only linear)",
                        (int)len, s);
        }
    }
    if (!(hp->rope_base > 0.0f) || !(hp->norm_eps >= 0.0f))
        return fail(ld, WOOLLY_ERR_FORMAT, "rope.freq_base or the norm epsilon is invalid");
    return WOOLLY_OK;
}

/* ---- tensors ----------------------------------------------------------- */

static void note_unsupported(struct loader *ld, woolly_type type)
{
    const char *name = woolly_type_name(type);

    if (!name || strstr(ld->unsupported, name))
        return;
    if (ld->unsupported[0])
        strncat(ld->unsupported, ", ", sizeof ld->unsupported - strlen(ld->unsupported) - 1);
    strncat(ld->unsupported, name, sizeof ld->unsupported - strlen(ld->unsupported) - 1);
}

/* Find NAME with the shape ne0 x ne1 (ne1 = 1 for a vector); OPTIONAL
 * tensors that are absent leave *out NULL. */
static woolly_status find_tensor(struct loader *ld, const char *name, uint64_t ne0, uint64_t ne1,
                                 int optional, woolly_gguf_tensor *out)
{
    int64_t i = woolly_gguf_find_tensor(ld->gguf, name);

    memset(out, 0, sizeof *out);
    if (i < 0) {
        if (optional)
            return WOOLLY_OK;
        return fail(ld, WOOLLY_ERR_FORMAT, "tensor %s is missing", name);
    }
    woolly_gguf_tensor_info(ld->gguf, (size_t)i, out);
    if (out->ne[0] != ne0 || out->ne[1] != ne1 || out->ne[2] != 1 || out->ne[3] != 1)
        return fail(ld, WOOLLY_ERR_FORMAT,
                    "tensor %s has shape [%llu, %llu, %llu, %llu], expected [%llu, %llu]", name,
                    (unsigned long long)out->ne[0], (unsigned long long)out->ne[1],
                    (unsigned long long)out->ne[2], (unsigned long long)out->ne[3],
                    (unsigned long long)ne0, (unsigned long long)ne1);
    if (!wl_kernels_get()->type[out->type].vec_dot)
        note_unsupported(ld, out->type);
    ld->model->n_params += out->n_elements;
    ld->model->n_bytes += out->size;
    return WOOLLY_OK;
}

static woolly_status bind_matrix(struct loader *ld, wl_matrix *m, const char *name, uint64_t rows,
                                 uint64_t cols)
{
    woolly_gguf_tensor t;
    woolly_status st = find_tensor(ld, name, cols, rows, 0, &t);

    if (st)
        return st;
    if (wl_matrix_init(m, t.type, rows, cols, t.data) != WOOLLY_OK)
        return fail(ld, WOOLLY_ERR_FORMAT, "tensor %s: rows of %llu are not whole %s blocks", name,
                    (unsigned long long)cols, woolly_type_name(t.type));
    return WOOLLY_OK;
}

/* A vector of N floats: used in place when stored as F32, else converted
 * into the model's small f32 store (sized by the first pass). */
static woolly_status bind_vector(struct loader *ld, const float **v, const char *name, uint64_t n,
                                 int optional)
{
    woolly_gguf_tensor t;
    woolly_status st = find_tensor(ld, name, n, 1, optional, &t);
    const wl_type_kernels *tk;

    *v = NULL;
    if (st || !t.data)
        return st;
    if (t.type == WOOLLY_TYPE_F32 && ((uintptr_t)t.data % sizeof(float)) == 0) {
        *v = t.data;
        return WOOLLY_OK;
    }
    tk = &wl_kernels_get()->type[t.type];
    if (!tk->to_float)
        return WOOLLY_OK;   /* reported as unsupported */
    if (ld->model->f32_store) {
        float *dst = ld->model->f32_store + ld->f32_used;
        tk->to_float(t.data, dst, (size_t)n);
        *v = dst;
    }
    ld->f32_used += (size_t)n;
    return WOOLLY_OK;
}

static woolly_status bind_layer(struct loader *ld, uint32_t il)
{
    const wl_hparams *hp = &ld->model->hp;
    wl_layer *l = &ld->model->layers[il];
    uint64_t q_dim = (uint64_t)hp->n_head * hp->head_dim, kv_dim = (uint64_t)hp->n_head_kv * hp->head_dim;
    char name[96];
    woolly_status st;

#define NAME(s) (snprintf(name, sizeof name, "blk.%u.%s", il, s), name)
    if ((st = bind_vector(ld, &l->attn_norm, NAME("attn_norm.weight"), hp->n_embd, 0)) ||
        (st = bind_matrix(ld, &l->wq, NAME("attn_q.weight"), q_dim, hp->n_embd)) ||
        (st = bind_matrix(ld, &l->wk, NAME("attn_k.weight"), kv_dim, hp->n_embd)) ||
        (st = bind_matrix(ld, &l->wv, NAME("attn_v.weight"), kv_dim, hp->n_embd)) ||
        (st = bind_matrix(ld, &l->wo, NAME("attn_output.weight"), hp->n_embd, q_dim)) ||
        (st = bind_vector(ld, &l->bq, NAME("attn_q.bias"), q_dim, 1)) ||
        (st = bind_vector(ld, &l->bk, NAME("attn_k.bias"), kv_dim, 1)) ||
        (st = bind_vector(ld, &l->bv, NAME("attn_v.bias"), kv_dim, 1)) ||
        (st = bind_vector(ld, &l->ffn_norm, NAME("ffn_norm.weight"), hp->n_embd, 0)) ||
        (st = bind_matrix(ld, &l->w_gate, NAME("ffn_gate.weight"), hp->n_ff, hp->n_embd)) ||
        (st = bind_matrix(ld, &l->w_up, NAME("ffn_up.weight"), hp->n_ff, hp->n_embd)) ||
        (st = bind_matrix(ld, &l->w_down, NAME("ffn_down.weight"), hp->n_embd, hp->n_ff)))
        return st;
#undef NAME
    return WOOLLY_OK;
}

static woolly_status bind_all(struct loader *ld)
{
    woolly_model *m = ld->model;
    woolly_gguf_tensor t;
    woolly_status st;
    int64_t i;

    m->n_params = m->n_bytes = 0;
    ld->f32_used = 0;
    ld->unsupported[0] = '\0';
    i = woolly_gguf_find_tensor(ld->gguf, "token_embd.weight");
    if (i < 0)
        return fail(ld, WOOLLY_ERR_FORMAT, "tensor token_embd.weight is missing");
    woolly_gguf_tensor_info(ld->gguf, (size_t)i, &t);
    if (t.ne[1] == 0 || t.ne[1] > INT32_MAX)
        return fail(ld, WOOLLY_ERR_FORMAT, "token_embd.weight has an impossible vocabulary size");
    m->hp.n_vocab = (uint32_t)t.ne[1];
    if ((st = bind_matrix(ld, &m->tok_embd, "token_embd.weight", m->hp.n_vocab, m->hp.n_embd)) ||
        (st = bind_vector(ld, &m->output_norm, "output_norm.weight", m->hp.n_embd, 0)))
        return st;
    if (woolly_gguf_find_tensor(ld->gguf, "output.weight") >= 0) {
        if ((st = bind_matrix(ld, &m->output, "output.weight", m->hp.n_vocab, m->hp.n_embd)))
            return st;
    } else {
        m->output = m->tok_embd;   /* tied embeddings */
    }
    for (uint32_t il = 0; il < m->hp.n_layer; il++)
        if ((st = bind_layer(ld, il)))
            return st;
    if (ld->unsupported[0])
        return fail(ld, WOOLLY_ERR_UNSUPPORTED,
                    "the model uses tensor types woolly cannot compute: %s", ld->unsupported);
    return WOOLLY_OK;
}

/* ---- loading ----------------------------------------------------------- */

#define READ_PIECE ((size_t)16 << 20)

static woolly_status open_gguf(const char *path, int use_mmap, woolly_model *m, char *err,
                               size_t errsize)
{
    struct stat sb;
    ssize_t got;
    size_t done = 0;
    int fd;

    if (use_mmap)
        return woolly_gguf_open(path, &m->gguf, err, errsize);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        wl_errbuf(err, errsize, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return WOOLLY_ERR_IO;
    }
    if ((uintmax_t)sb.st_size > SIZE_MAX) {
        close(fd);
        wl_errbuf(err, errsize, "%s: too large to read into memory (%jd bytes)", path, (intmax_t)sb.st_size);
        return WOOLLY_ERR_NOMEM;
    }
    m->owned_size = (size_t)sb.st_size;
    m->owned = wl_alloc_huge(m->owned_size);
    if (!m->owned) {
        close(fd);
        wl_errbuf(err, errsize, "%s: cannot allocate %lld bytes to read it", path, (long long)sb.st_size);
        return WOOLLY_ERR_NOMEM;
    }
    /* In pieces: one read of a whole 600 MB file into fresh huge pages took
     * 0.64 s on a Zen 5 VM, pieces of 16 MiB 0.08 s. */
    while (done < m->owned_size &&
           (got = read(fd, (char *)m->owned + done,
                       m->owned_size - done < READ_PIECE ? m->owned_size - done : READ_PIECE)) > 0)
        done += (size_t)got;
    close(fd);
    if (done != m->owned_size) {
        wl_errbuf(err, errsize, "%s: read error", path);
        return WOOLLY_ERR_IO;
    }
    return woolly_gguf_open_memory(m->owned, done, &m->gguf, err, errsize);
}

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 1024 ? (int)n : 1;
}

/* wl_model_repack with the model's threads. */
static woolly_status repack(woolly_model *m, int in_place)
{
    wl_pool *pool = wl_pool_new(m->n_threads);
    woolly_status st;

    if (!pool)
        return WOOLLY_ERR_NOMEM;
    st = wl_model_repack(m, pool, in_place);
    wl_pool_free(pool);
    return st;
}

woolly_status woolly_model_load(const char *path, const woolly_model_params *user,
                                woolly_model **out, char *err, size_t errsize)
{
    woolly_model_params p;
    struct loader ld = { 0 };
    woolly_model *m;
    woolly_status st;

    if (!path || !out) {
        wl_errbuf(err, errsize, "woolly_model_load: no path or no out pointer");
        return WOOLLY_ERR_INVALID;
    }
    *out = NULL;
    params_from_user(&p, user);
    m = calloc(1, sizeof *m);
    if (!m)
        return WOOLLY_ERR_NOMEM;
    m->n_threads = p.n_threads > 0 ? p.n_threads : online_cpus();
    if ((st = open_gguf(path, p.use_mmap, m, err, errsize)))
        goto fail;
    ld.model = m;
    ld.gguf = m->gguf;
    ld.err = err;
    ld.errsize = errsize;
    if ((st = read_arch(&ld)) || (st = read_hparams(&ld)))
        goto fail;
    m->layers = calloc(m->hp.n_layer, sizeof *m->layers);
    if (!m->layers) {
        st = WOOLLY_ERR_NOMEM;
        goto fail;
    }
    /* Two passes: the first measures the small store, the second fills it. */
    if ((st = bind_all(&ld)))
        goto fail;
    if (ld.f32_used) {
        m->f32_store = malloc(ld.f32_used * sizeof(float));
        if (!m->f32_store) {
            st = WOOLLY_ERR_NOMEM;
            goto fail;
        }
        if ((st = bind_all(&ld)))
            goto fail;
    }
    if (woolly_gguf_find_key(m->gguf, "tokenizer.ggml.model") >= 0) {
        char verr[WOOLLY_ERRBUF_SIZE];
        if ((st = woolly_vocab_load(m->gguf, &m->vocab, verr, sizeof verr))) {
            wl_errbuf(err, errsize, "%s: tokenizer: %s", path, verr);
            goto fail;
        }
        if ((uint32_t)woolly_vocab_n_tokens(m->vocab) > m->hp.n_vocab) {
            wl_errbuf(err, errsize, "%s: the tokenizer has %d tokens, the embeddings only %u", path,
                      woolly_vocab_n_tokens(m->vocab), m->hp.n_vocab);
            st = WOOLLY_ERR_FORMAT;
            goto fail;
        }
    }
    if (p.repack && (st = repack(m, !p.use_mmap))) {
        wl_errbuf(err, errsize, "%s: out of memory to repack the weights for the kernels (without repacking, "
                  "woolly uses them as they lie: --no-repack)", path);
        woolly_model_free(m);
        return st;
    }
    *out = m;
    return WOOLLY_OK;
fail:
    if (st == WOOLLY_ERR_NOMEM)
        wl_errbuf(err, errsize, "%s: out of memory", path);
    woolly_model_free(m);
    return st;
}

void woolly_model_free(woolly_model *m)
{
    if (!m)
        return;
    woolly_vocab_free(m->vocab);
    woolly_gguf_free(m->gguf);
    wl_free_huge(m->owned, m->owned_size);
    free(m->f32_store);
    wl_free_huge(m->packed_store, m->packed_size);
    free(m->layers);
    free(m);
}

woolly_status woolly_model_get_info(const woolly_model *m, woolly_model_info *info)
{
    woolly_model_info full;
    size_t n;

    if (!m || !info || info->size < sizeof(size_t))
        return WOOLLY_ERR_INVALID;
    n = info->size < sizeof full ? info->size : sizeof full;
    full.size = n;
    full.arch = m->arch_name;
    full.n_vocab = m->hp.n_vocab;
    full.n_ctx_train = m->hp.n_ctx_train;
    full.n_embd = m->hp.n_embd;
    full.n_layer = m->hp.n_layer;
    full.n_head = m->hp.n_head;
    full.n_head_kv = m->hp.n_head_kv;
    full.head_dim = m->hp.head_dim;
    full.n_ff = m->hp.n_ff;
    full.rope_freq_base = m->hp.rope_base;
    full.norm_eps = m->hp.norm_eps;
    full.n_params = m->n_params;
    full.n_bytes = m->n_bytes;
    full.n_bytes_token = m->n_bytes;
    full.n_bytes_repacked = m->n_bytes_repacked;
    if (m->output.data != m->tok_embd.data)   /* the embedding of one token is read, not the others */
        full.n_bytes_token -= (m->tok_embd.rows - 1) * m->tok_embd.row_bytes;
    memcpy(info, &full, n);
    return WOOLLY_OK;
}

const woolly_vocab *woolly_model_vocab(const woolly_model *m)
{
    return m ? m->vocab : NULL;
}
