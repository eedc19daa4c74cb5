/* fixture.c - the GGUF file the tests make with the writer (fixture.h). */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/* One pair of every scalar type, at the edges of their ranges. */
const struct fx_scalar fx_scalars[] = {
    { "test.uint8", WOOLLY_GGUF_UINT8, 0, 200, 0 },
    { "test.int8", WOOLLY_GGUF_INT8, -100, 0, 0 },
    { "test.uint16", WOOLLY_GGUF_UINT16, 0, 60000, 0 },
    { "test.int16", WOOLLY_GGUF_INT16, -30000, 0, 0 },
    { "test.uint32", WOOLLY_GGUF_UINT32, 0, 4000000000u, 0 },
    { "test.int32", WOOLLY_GGUF_INT32, INT32_MIN, 0, 0 },
    { "test.float32", WOOLLY_GGUF_FLOAT32, 0, 0, -1.5 },
    { "test.bool", WOOLLY_GGUF_BOOL, 0, 1, 0 },
    { "test.uint64", WOOLLY_GGUF_UINT64, 0, UINT64_MAX - 1, 0 },
    { "test.int64", WOOLLY_GGUF_INT64, INT64_MIN + 1, 0, 0 },
    { "test.float64", WOOLLY_GGUF_FLOAT64, 0, 0, 3.141592653589793 },
    { "llama.context_length", WOOLLY_GGUF_UINT32, 0, 256, 0 },
    { "llama.embedding_length", WOOLLY_GGUF_UINT32, 0, 64, 0 },
    { "llama.block_count", WOOLLY_GGUF_UINT32, 0, 1, 0 },
    { "llama.feed_forward_length", WOOLLY_GGUF_UINT32, 0, 128, 0 },
    { "llama.attention.head_count", WOOLLY_GGUF_UINT32, 0, 4, 0 },
    { "llama.attention.head_count_kv", WOOLLY_GGUF_UINT32, 0, 2, 0 },
    { "llama.rope.freq_base", WOOLLY_GGUF_FLOAT32, 0, 0, 10000.0 },
    { "llama.attention.layer_norm_rms_epsilon", WOOLLY_GGUF_FLOAT32, 0, 0, 0.0000100000002 },
};
const size_t fx_n_scalars = sizeof fx_scalars / sizeof fx_scalars[0];

const char *const fx_strings[][2] = {
    { "general.architecture", "llama" },
    { "general.name", "woolly \"fixture\" \\ model" },
    { "tokenizer.ggml.model", "llama" },
    { "tokenizer.ggml.pre", "default" },
    { "test.empty_string", "" },
};
const size_t fx_n_strings = sizeof fx_strings / sizeof fx_strings[0];

/* Quotes, backslashes, control characters, UTF-8 and an empty string. */
const char *const fx_tokens[] = { "<unk>", "<s>", "</s>", "a\"b\\c\n\t\x01", "",
                                  "\xe2\x96\x81hello", "world" };
const size_t fx_n_tokens = sizeof fx_tokens / sizeof fx_tokens[0];
const float fx_scores[] = { 0.0f, -1.0f, -2.0f, -3.5f, -4.0f, 1e30f, -1e-30f };
const int32_t fx_token_types[] = { 2, 3, 3, 1, 1, 1, 6 };
const uint8_t fx_bools[] = { 1, 0, 0, 1 };
const size_t fx_n_bools = sizeof fx_bools / sizeof fx_bools[0];

/* Types with different blocks, one woolly cannot compute (iq4_nl), sizes
 * that need padding; output.weight is 768 bytes, a multiple of 64. */
const struct fx_tensor fx_tensors[] = {
    { "token_embd.weight", WOOLLY_TYPE_Q8_0, 2, { 64, 7, 1, 1 }, 2 * 34 * 7 },
    { "blk.0.attn_norm.weight", WOOLLY_TYPE_F32, 1, { 64, 1, 1, 1 }, 256 },
    { "blk.0.ffn_down.weight", WOOLLY_TYPE_IQ4_NL, 3, { 32, 2, 3, 1 }, 18 * 6 },
    { "blk.0.attn_q.weight", WOOLLY_TYPE_Q4_K, 4, { 256, 1, 2, 1 }, 144 * 2 },
    { "output.weight", WOOLLY_TYPE_F16, 2, { 64, 6, 1, 1 }, 768 },
};
const size_t fx_n_tensors = sizeof fx_tensors / sizeof fx_tensors[0];

uint8_t fx_byte(size_t t, uint64_t k)
{
    return (uint8_t)(t * 37 + k * 7 + (k >> 8));
}

static void set_scalar(woolly_gguf_writer *w, const struct fx_scalar *s)
{
    switch (s->type) {
    case WOOLLY_GGUF_INT8: case WOOLLY_GGUF_INT16: case WOOLLY_GGUF_INT32: case WOOLLY_GGUF_INT64:
        woolly_gguf_writer_set_int(w, s->key, s->type, s->i);
        break;
    case WOOLLY_GGUF_FLOAT32: case WOOLLY_GGUF_FLOAT64:
        woolly_gguf_writer_set_float(w, s->key, s->type, s->f);
        break;
    default:
        woolly_gguf_writer_set_uint(w, s->key, s->type, s->u);
        break;
    }
}

static void set_metadata(woolly_gguf_writer *w, uint32_t alignment)
{
    for (size_t i = 0; i < fx_n_strings; i++)
        woolly_gguf_writer_set_string(w, fx_strings[i][0], fx_strings[i][1],
                                      strlen(fx_strings[i][1]));
    if (alignment)
        woolly_gguf_writer_set_uint(w, "general.alignment", WOOLLY_GGUF_UINT32, alignment);
    for (size_t i = 0; i < fx_n_scalars; i++)
        set_scalar(w, &fx_scalars[i]);
    woolly_gguf_writer_set_array_string(w, "tokenizer.ggml.tokens", fx_tokens, NULL, fx_n_tokens);
    woolly_gguf_writer_set_array(w, "tokenizer.ggml.scores", WOOLLY_GGUF_FLOAT32, fx_scores,
                                 fx_n_tokens);
    woolly_gguf_writer_set_array(w, "tokenizer.ggml.token_type", WOOLLY_GGUF_INT32,
                                 fx_token_types, fx_n_tokens);
    woolly_gguf_writer_set_array(w, "test.bools", WOOLLY_GGUF_BOOL, fx_bools, fx_n_bools);
    woolly_gguf_writer_set_array(w, "test.empty_array", WOOLLY_GGUF_UINT64, NULL, 0);
}

/* All tensor data, one pattern after another, in pieces of PIECE bytes. */
static void write_data(woolly_gguf_writer *w, size_t piece)
{
    uint8_t *buf = malloc(piece);
    size_t n = 0;

    if (!buf)
        return;
    for (size_t t = 0; t < fx_n_tensors; t++) {
        for (uint64_t k = 0; k < fx_tensors[t].size; k++) {
            buf[n++] = fx_byte(t, k);
            if (n == piece) {
                woolly_gguf_writer_write(w, buf, n);
                n = 0;
            }
        }
    }
    woolly_gguf_writer_write(w, buf, n);
    free(buf);
}

woolly_status fx_write(const char *path, uint32_t alignment, size_t piece, char *err,
                       size_t errsize)
{
    woolly_gguf_writer *w;
    woolly_status st = woolly_gguf_writer_open(path, &w, err, errsize);

    if (st != WOOLLY_OK)
        return st;
    /* Errors stick, so the calls are checked once, at close. */
    set_metadata(w, alignment);
    for (size_t t = 0; t < fx_n_tensors; t++)
        woolly_gguf_writer_add_tensor(w, fx_tensors[t].name, fx_tensors[t].type,
                                      fx_tensors[t].n_dims, fx_tensors[t].ne);
    woolly_gguf_writer_begin_data(w);
    write_data(w, piece ? piece : 1);
    return woolly_gguf_writer_close(w, err, errsize);
}

/* Every accessor on pair I; -1 on an inconsistency. */
static int walk_kv(const woolly_gguf *g, size_t i, uint64_t *sum)
{
    const char *key = woolly_gguf_kv_key(g, i), *s;
    woolly_gguf_type et;
    uint64_t count, u;
    int64_t v;
    double f;
    size_t len;
    int b;

    if (!key || woolly_gguf_find_key(g, key) != (int64_t)i)
        return -1;
    *sum += strlen(key) + (unsigned)woolly_gguf_kv_type(g, i);
    if (woolly_gguf_kv_int(g, i, &v) == WOOLLY_OK)
        *sum += (uint64_t)v;
    if (woolly_gguf_kv_uint(g, i, &u) == WOOLLY_OK)
        *sum += u;
    if (woolly_gguf_kv_float(g, i, &f) == WOOLLY_OK)
        *sum += f == f;
    if (woolly_gguf_kv_bool(g, i, &b) == WOOLLY_OK)
        *sum += (uint64_t)b;
    if (woolly_gguf_kv_string(g, i, &s, &len) == WOOLLY_OK)
        for (size_t k = 0; k < len; k++)
            *sum += (unsigned char)s[k];
    if (woolly_gguf_kv_array(g, i, &et, &count) != WOOLLY_OK)
        return 0;
    if (woolly_gguf_kv_array_data(g, i))
        *sum += 1;
    for (uint64_t j = 0; j <= count; j++) {
        woolly_status want = j < count ? WOOLLY_OK : WOOLLY_ERR_RANGE;
        if (woolly_gguf_kv_array_int(g, i, j, &v) == WOOLLY_OK)
            *sum += (uint64_t)v;
        if (woolly_gguf_kv_array_float(g, i, j, &f) == WOOLLY_OK)
            *sum += f == f;
        if (et == WOOLLY_GGUF_STRING) {
            if (woolly_gguf_kv_array_string(g, i, j, &s, &len) != want)
                return -1;
            for (size_t k = 0; j < count && k < len; k++)
                *sum += (unsigned char)s[k];
        } else if (et == WOOLLY_GGUF_ARRAY && woolly_gguf_kv_array_int(g, i, j, &v) !=
                                                  WOOLLY_ERR_INVALID) {
            return -1;  /* nested arrays have no elements to read */
        }
    }
    return 0;
}

static int walk_tensor(const woolly_gguf *g, size_t i, uint64_t *sum)
{
    woolly_gguf_tensor t;
    uint64_t n = 1;
    const uint8_t *d;

    if (woolly_gguf_tensor_info(g, i, &t) != WOOLLY_OK || !t.name ||
        woolly_gguf_find_tensor(g, t.name) != (int64_t)i || t.n_dims < 1 || t.n_dims > 4 ||
        !woolly_type_name(t.type) || t.size == 0 || !t.data)
        return -1;
    for (int d4 = 0; d4 < 4; d4++)
        n *= t.ne[d4];
    if (n != t.n_elements || t.offset % woolly_gguf_alignment(g))
        return -1;
    d = t.data;
    *sum += d[0] + d[t.size - 1];
    return 0;
}

int fx_walk(const woolly_gguf *g, uint64_t *sum)
{
    *sum = woolly_gguf_version(g) + woolly_gguf_file_size(g) + woolly_gguf_data_offset(g);
    if (woolly_gguf_kv_key(g, woolly_gguf_kv_count(g)) ||
        woolly_gguf_tensor_info(g, woolly_gguf_tensor_count(g), &(woolly_gguf_tensor){ 0 }) !=
            WOOLLY_ERR_RANGE)
        return -1;
    for (size_t i = 0; i < woolly_gguf_kv_count(g); i++)
        if (walk_kv(g, i, sum))
            return -1;
    for (size_t i = 0; i < woolly_gguf_tensor_count(g); i++)
        if (walk_tensor(g, i, sum))
            return -1;
    return 0;
}
