/*
 * gguf-write.c - writing GGUF version 3 files, streaming the tensor data.
 *
 * The metadata is encoded into memory as it is set (it is small: a large
 * vocabulary is a few megabytes), tensors are only declared; begin_data
 * writes the header, the metadata, the tensor infos and the padding, and
 * from then on the caller's tensor bytes go straight to the file, with the
 * padding between tensors added here.  Memory use thus does not depend on
 * the size of the weights.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "internal.h"
#include "types.h"

struct wl_wtensor {
    char *name;
    uint32_t type;
    uint32_t n_dims;
    uint64_t ne[WL_GGUF_MAX_DIMS];
    uint64_t size;      /* bytes of data */
    uint64_t offset;    /* in the data section, set by begin_data */
};

/* A set of strings by open addressing, so that duplicate keys and tensor
 * names are found in constant time however many there are. */
struct wl_strset {
    const char **slots;
    size_t cap, len;    /* cap: a power of two, or 0 */
};

struct woolly_gguf_writer {
    FILE *f;
    char *path;
    woolly_status status;               /* the first failure, which sticks */
    char errmsg[WOOLLY_ERRBUF_SIZE];
    uint64_t alignment;
    /* metadata, encoded */
    uint8_t *meta;
    size_t meta_len, meta_cap;
    uint64_t n_kv;
    struct wl_strset keys;
    char **key_copies;                  /* the keys the set points to */
    /* tensors */
    struct wl_wtensor *tensors;
    size_t n_tensors, tensors_cap;
    struct wl_strset names;
    /* streaming */
    int data_begun;
    size_t cur;                         /* the tensor being written */
    uint64_t cur_written;               /* its bytes written so far */
};

/* ---- errors that stick ---------------------------------------------------- */

static woolly_status fail(woolly_gguf_writer *w, woolly_status st, const char *fmt, ...)
    WL_PRINTF(3, 4);

static woolly_status fail(woolly_gguf_writer *w, woolly_status st, const char *fmt, ...)
{
    va_list ap;

    if (w->status != WOOLLY_OK)
        return w->status;
    w->status = st;
    va_start(ap, fmt);
    vsnprintf(w->errmsg, sizeof w->errmsg, fmt, ap);
    va_end(ap);
    return st;
}

/* A key for messages, which may be about a NULL one. */
static const char *key_name(const char *key)
{
    return key ? key : "(null)";
}

static woolly_status fail_io(woolly_gguf_writer *w, const char *doing)
{
    return fail(w, WOOLLY_ERR_IO, "%s: %s: %s", w->path, doing, strerror(errno));
}

const char *woolly_gguf_writer_errmsg(const woolly_gguf_writer *w)
{
    return w ? w->errmsg : "no writer";
}

/* ---- the string set ------------------------------------------------------- */

static size_t hash_str(const char *s)
{
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

/* The slot holding S, or the empty slot where it would go. */
static const char **strset_slot(const struct wl_strset *set, const char *s)
{
    size_t i = hash_str(s) & (set->cap - 1);

    while (set->slots[i] && strcmp(set->slots[i], s) != 0)
        i = (i + 1) & (set->cap - 1);
    return &set->slots[i];
}

static int strset_has(const struct wl_strset *set, const char *s)
{
    return set->cap && *strset_slot(set, s);
}

/* Add S (which must outlive the set); 0 on success, -1 out of memory. */
static int strset_add(struct wl_strset *set, const char *s)
{
    if (2 * (set->len + 1) > set->cap) {  /* keep at most half full */
        struct wl_strset bigger = { NULL, set->cap ? 2 * set->cap : 64, 0 };
        if (bigger.cap > SIZE_MAX / sizeof *bigger.slots)
            return -1;
        bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
        if (!bigger.slots)
            return -1;
        for (size_t i = 0; i < set->cap; i++)
            if (set->slots[i])
                *strset_slot(&bigger, set->slots[i]) = set->slots[i];
        free(set->slots);
        bigger.len = set->len;
        *set = bigger;
    }
    *strset_slot(set, s) = s;
    set->len++;
    return 0;
}

/* ---- encoding the metadata ------------------------------------------------ */

static woolly_status meta_reserve(woolly_gguf_writer *w, uint64_t more)
{
    size_t need, cap = w->meta_cap ? w->meta_cap : 4096;
    uint8_t *p;

    if (more > SIZE_MAX || wl_add_size(w->meta_len, (size_t)more, &need))
        return fail(w, WOOLLY_ERR_NOMEM, "the metadata is too large");
    if (need <= w->meta_cap)
        return WOOLLY_OK;
    while (cap < need)
        if (wl_mul_size(cap, 2, &cap))
            return fail(w, WOOLLY_ERR_NOMEM, "the metadata is too large");
    p = realloc(w->meta, cap);
    if (!p)
        return fail(w, WOOLLY_ERR_NOMEM, "out of memory for %zu bytes of metadata", cap);
    w->meta = p;
    w->meta_cap = cap;
    return WOOLLY_OK;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static woolly_status meta_bytes(woolly_gguf_writer *w, const void *p, uint64_t n)
{
    woolly_status st = meta_reserve(w, n);

    if (st == WOOLLY_OK && n) {
        memcpy(w->meta + w->meta_len, p, (size_t)n);
        w->meta_len += (size_t)n;
    }
    return st;
}

static woolly_status meta_uint(woolly_gguf_writer *w, uint64_t v, unsigned n)
{
    uint8_t b[8];

    put_le(b, v, n);
    return meta_bytes(w, b, n);
}

static woolly_status meta_string(woolly_gguf_writer *w, const char *s, uint64_t len)
{
    woolly_status st = meta_uint(w, len, 8);

    return st != WOOLLY_OK ? st : meta_bytes(w, s, len);
}

#define TRY(expr) do { woolly_status try_ = (expr); if (try_ != WOOLLY_OK) return try_; } while (0)

/* A usable writer still declaring metadata and tensors. */
static woolly_status check_declaring(woolly_gguf_writer *w, const char *what)
{
    if (!w)
        return WOOLLY_ERR_INVALID;
    if (w->status != WOOLLY_OK)
        return w->status;
    if (w->data_begun)
        return fail(w, WOOLLY_ERR_INVALID, "%s after woolly_gguf_writer_begin_data", what);
    return WOOLLY_OK;
}

/* Start pair KEY of TYPE: check the key, remember it, encode key and type. */
static woolly_status begin_kv(woolly_gguf_writer *w, const char *key, uint32_t type)
{
    char *copy, **keys;

    TRY(check_declaring(w, "metadata"));
    if (!key || !*key)
        return fail(w, WOOLLY_ERR_INVALID, "a metadata key is empty");
    if (strlen(key) > UINT16_MAX)
        return fail(w, WOOLLY_ERR_INVALID, "metadata key '%.40s...' is longer than %d bytes",
                    key, UINT16_MAX);
    if (strset_has(&w->keys, key))
        return fail(w, WOOLLY_ERR_INVALID, "duplicate metadata key '%s'", key);
    keys = realloc(w->key_copies, (size_t)(w->n_kv + 1) * sizeof *keys);
    if (!keys)
        return fail(w, WOOLLY_ERR_NOMEM, "out of memory for metadata keys");
    w->key_copies = keys;
    copy = strdup(key);
    if (!copy || strset_add(&w->keys, copy)) {
        free(copy);
        return fail(w, WOOLLY_ERR_NOMEM, "out of memory for metadata keys");
    }
    keys[w->n_kv++] = copy;
    TRY(meta_string(w, key, strlen(key)));
    return meta_uint(w, type, 4);
}

/* general.alignment decides the padding: a uint32 power of two. */
static woolly_status note_alignment(woolly_gguf_writer *w, const char *key, uint32_t type,
                                    uint64_t value)
{
    if (!key || strcmp(key, WL_GGUF_ALIGNMENT_KEY) != 0)
        return WOOLLY_OK;   /* a NULL key fails in begin_kv */
    if (type != WOOLLY_GGUF_UINT32 || !wl_gguf_alignment_ok(value))
        return fail(w, WOOLLY_ERR_INVALID, "%s must be a uint32 power of two",
                    WL_GGUF_ALIGNMENT_KEY);
    w->alignment = value;
    return WOOLLY_OK;
}

static int is_signed_type(uint32_t t)
{
    return t == WOOLLY_GGUF_INT8 || t == WOOLLY_GGUF_INT16 || t == WOOLLY_GGUF_INT32 ||
           t == WOOLLY_GGUF_INT64;
}

static int is_int_type(uint32_t t)
{
    return is_signed_type(t) || t == WOOLLY_GGUF_UINT8 || t == WOOLLY_GGUF_UINT16 ||
           t == WOOLLY_GGUF_UINT32 || t == WOOLLY_GGUF_UINT64 || t == WOOLLY_GGUF_BOOL;
}

/* The largest value of an integer type (bool: 1). */
static uint64_t type_max(uint32_t t)
{
    unsigned bits = 8 * wl_gguf_scalar_size(t);

    if (t == WOOLLY_GGUF_BOOL)
        return 1;
    if (is_signed_type(t))
        bits--;
    return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static woolly_status set_scalar(woolly_gguf_writer *w, const char *key, uint32_t type,
                                uint64_t bits)
{
    TRY(note_alignment(w, key, type, bits));
    TRY(begin_kv(w, key, type));
    return meta_uint(w, bits, wl_gguf_scalar_size(type));
}

woolly_status woolly_gguf_writer_set_int(woolly_gguf_writer *w, const char *key,
                                         woolly_gguf_type type, int64_t value)
{
    TRY(check_declaring(w, "metadata"));
    if (!is_int_type(type))
        return fail(w, WOOLLY_ERR_INVALID, "%s: set_int needs an integer or bool type",
                    key_name(key));
    if (value >= 0)
        return woolly_gguf_writer_set_uint(w, key, type, (uint64_t)value);
    /* Negative: a signed type whose minimum, -(max + 1), is below it. */
    if (!is_signed_type(type) || value < -(int64_t)type_max(type) - 1)
        return fail(w, WOOLLY_ERR_INVALID, "%s: %" PRId64 " does not fit a %s", key_name(key),
                    value, woolly_gguf_type_name(type));
    return set_scalar(w, key, type, (uint64_t)value);
}

woolly_status woolly_gguf_writer_set_uint(woolly_gguf_writer *w, const char *key,
                                          woolly_gguf_type type, uint64_t value)
{
    TRY(check_declaring(w, "metadata"));
    if (!is_int_type(type))
        return fail(w, WOOLLY_ERR_INVALID, "%s: set_uint needs an integer or bool type",
                    key_name(key));
    if (value > type_max(type))
        return fail(w, WOOLLY_ERR_INVALID, "%s: %" PRIu64 " does not fit a %s", key_name(key),
                    value, woolly_gguf_type_name(type));
    return set_scalar(w, key, type, value);
}

woolly_status woolly_gguf_writer_set_float(woolly_gguf_writer *w, const char *key,
                                           woolly_gguf_type type, double value)
{
    uint64_t bits;

    TRY(check_declaring(w, "metadata"));
    if (type == WOOLLY_GGUF_FLOAT32) {
        float f = (float)value;
        uint32_t b32;
        if (isfinite(value) && !isfinite(f))
            return fail(w, WOOLLY_ERR_INVALID, "%s: %g does not fit a float32", key_name(key),
                        value);
        memcpy(&b32, &f, sizeof b32);
        bits = b32;
    } else if (type == WOOLLY_GGUF_FLOAT64) {
        memcpy(&bits, &value, sizeof bits);
    } else {
        return fail(w, WOOLLY_ERR_INVALID, "%s: set_float needs float32 or float64",
                    key_name(key));
    }
    return set_scalar(w, key, type, bits);
}

woolly_status woolly_gguf_writer_set_string(woolly_gguf_writer *w, const char *key,
                                            const char *str, size_t len)
{
    TRY(check_declaring(w, "metadata"));
    if (!str && len)
        return fail(w, WOOLLY_ERR_INVALID, "%s: no string", key_name(key));
    TRY(note_alignment(w, key, WOOLLY_GGUF_STRING, 0));
    TRY(begin_kv(w, key, WOOLLY_GGUF_STRING));
    return meta_string(w, str, len);
}

woolly_status woolly_gguf_writer_set_array(woolly_gguf_writer *w, const char *key,
                                           woolly_gguf_type elem_type, const void *data,
                                           uint64_t count)
{
    unsigned size = wl_gguf_scalar_size(elem_type);
    const uint8_t *p = data;
    uint64_t bytes;

    TRY(check_declaring(w, "metadata"));
    if (!size)
        return fail(w, WOOLLY_ERR_INVALID, "%s: set_array needs a numeric or bool element type",
                    key_name(key));
    if ((!data && count) || wl_mul_u64(count, size, &bytes))
        return fail(w, WOOLLY_ERR_INVALID, "%s: bad array data", key_name(key));
    for (uint64_t j = 0; elem_type == WOOLLY_GGUF_BOOL && j < count; j++)
        if (p[j] > 1)
            return fail(w, WOOLLY_ERR_INVALID, "%s: element %" PRIu64 " is not a bool (0 or 1)",
                        key_name(key), j);
    TRY(note_alignment(w, key, WOOLLY_GGUF_ARRAY, 0));
    TRY(begin_kv(w, key, WOOLLY_GGUF_ARRAY));
    TRY(meta_uint(w, elem_type, 4));
    TRY(meta_uint(w, count, 8));
    TRY(meta_reserve(w, bytes));
    /* Host order to little-endian, element by element. */
    for (uint64_t j = 0; j < count; j++, p += size) {
        uint64_t v = 0;
        switch (size) {
        case 1: v = *p; break;
        case 2: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
        case 4: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
        default: memcpy(&v, p, 8); break;
        }
        put_le(w->meta + w->meta_len, v, size);
        w->meta_len += size;
    }
    return WOOLLY_OK;
}

woolly_status woolly_gguf_writer_set_array_string(woolly_gguf_writer *w, const char *key,
                                                  const char *const *strs, const size_t *lens,
                                                  uint64_t count)
{
    TRY(check_declaring(w, "metadata"));
    if (!strs && count)
        return fail(w, WOOLLY_ERR_INVALID, "%s: no strings", key_name(key));
    for (uint64_t j = 0; j < count; j++)
        if (!strs[j] && !(lens && lens[j] == 0))
            return fail(w, WOOLLY_ERR_INVALID, "%s: string %" PRIu64 " is NULL",
                        key_name(key), j);
    TRY(note_alignment(w, key, WOOLLY_GGUF_ARRAY, 0));
    TRY(begin_kv(w, key, WOOLLY_GGUF_ARRAY));
    TRY(meta_uint(w, WOOLLY_GGUF_STRING, 4));
    TRY(meta_uint(w, count, 8));
    for (uint64_t j = 0; j < count; j++)
        TRY(meta_string(w, strs[j], lens ? lens[j] : strlen(strs[j])));
    return WOOLLY_OK;
}

woolly_status woolly_gguf_writer_copy_kv(woolly_gguf_writer *w, const woolly_gguf *src,
                                         size_t i)
{
    const uint8_t *raw;
    uint64_t size = 0;
    const char *key = woolly_gguf_kv_key(src, i);
    uint32_t type;

    TRY(check_declaring(w, "metadata"));
    if (!key || wl_gguf_kv_raw(src, i, &raw, &size))
        return fail(w, WOOLLY_ERR_INVALID, "copy_kv: no pair %zu in the source", i);
    /* The reader validated the value; its bytes are copied as they are. */
    type = woolly_gguf_kv_type(src, i);
    if (type == WOOLLY_GGUF_UINT32)
        TRY(note_alignment(w, key, type, (uint64_t)raw[0] | (uint64_t)raw[1] << 8 |
                           (uint64_t)raw[2] << 16 | (uint64_t)raw[3] << 24));
    TRY(begin_kv(w, key, type));
    return meta_bytes(w, raw, size);
}

/* ---- tensors -------------------------------------------------------------- */

static woolly_status check_tensor(woolly_gguf_writer *w, const char *name, uint32_t type,
                                  uint32_t n_dims, const uint64_t *ne, uint64_t *size)
{
    const struct wl_type_traits *tt = wl_type_traits(type);
    uint64_t n = 1, row;

    if (!name || !*name)
        return fail(w, WOOLLY_ERR_INVALID, "a tensor name is empty");
    if (strlen(name) > WL_GGUF_MAX_TENSOR_NAME)
        return fail(w, WOOLLY_ERR_INVALID, "tensor name '%s' is longer than %d bytes", name,
                    WL_GGUF_MAX_TENSOR_NAME);
    if (strset_has(&w->names, name))
        return fail(w, WOOLLY_ERR_INVALID, "duplicate tensor name '%s'", name);
    if (!tt)
        return fail(w, WOOLLY_ERR_INVALID, "tensor '%s': unknown type %" PRIu32, name, type);
    if (n_dims < 1 || n_dims > WL_GGUF_MAX_DIMS || !ne)
        return fail(w, WOOLLY_ERR_INVALID, "tensor '%s': %" PRIu32 " dimensions (expected 1 "
                    "to %d)", name, n_dims, WL_GGUF_MAX_DIMS);
    for (uint32_t d = 0; d < n_dims; d++)
        if (ne[d] == 0 || wl_mul_u64(n, ne[d], &n) || n > INT64_MAX)
            return fail(w, WOOLLY_ERR_INVALID, "tensor '%s': dimension %" PRIu32 " (%" PRIu64
                        ") is 0 or makes the element count overflow", name, d, ne[d]);
    if (ne[0] % tt->block_size)
        return fail(w, WOOLLY_ERR_INVALID, "tensor '%s': %" PRIu64 " elements per row are not "
                    "a multiple of the %s block size %" PRIu32, name, ne[0], tt->name,
                    tt->block_size);
    if (wl_row_bytes(type, ne[0], &row) || wl_mul_u64(row, n / ne[0], size))
        return fail(w, WOOLLY_ERR_INVALID, "tensor '%s': its size overflows", name);
    return WOOLLY_OK;
}

woolly_status woolly_gguf_writer_add_tensor(woolly_gguf_writer *w, const char *name,
                                            woolly_type type, uint32_t n_dims,
                                            const uint64_t *ne)
{
    struct wl_wtensor *t;
    uint64_t size = 0;

    TRY(check_declaring(w, "add_tensor"));
    TRY(check_tensor(w, name, (uint32_t)type, n_dims, ne, &size));
    if (w->n_tensors == w->tensors_cap) {
        size_t cap = w->tensors_cap ? 2 * w->tensors_cap : 64;
        t = cap > SIZE_MAX / sizeof *t ? NULL : realloc(w->tensors, cap * sizeof *t);
        if (!t)
            return fail(w, WOOLLY_ERR_NOMEM, "out of memory for tensor infos");
        w->tensors = t;
        w->tensors_cap = cap;
    }
    t = &w->tensors[w->n_tensors];
    *t = (struct wl_wtensor){ .name = strdup(name), .type = (uint32_t)type, .n_dims = n_dims,
                              .size = size };
    if (!t->name || strset_add(&w->names, t->name)) {
        free(t->name);
        return fail(w, WOOLLY_ERR_NOMEM, "out of memory for tensor names");
    }
    for (uint32_t d = 0; d < WL_GGUF_MAX_DIMS; d++)
        t->ne[d] = d < n_dims ? ne[d] : 1;
    w->n_tensors++;
    return WOOLLY_OK;
}

/* ---- the file ------------------------------------------------------------- */

static woolly_status put(woolly_gguf_writer *w, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, w->f) != n)
        return fail_io(w, "write failed");
    return WOOLLY_OK;
}

static woolly_status put_uint(woolly_gguf_writer *w, uint64_t v, unsigned n)
{
    uint8_t b[8];

    put_le(b, v, n);
    return put(w, b, n);
}

static uint64_t padding(uint64_t pos, uint64_t align)
{
    return (align - pos % align) % align;
}

static woolly_status put_zeros(woolly_gguf_writer *w, uint64_t n)
{
    static const uint8_t zeros[256];

    while (n) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        TRY(put(w, zeros, k));
        n -= k;
    }
    return WOOLLY_OK;
}

/* Give each tensor its aligned offset in the data section. */
static woolly_status place_tensors(woolly_gguf_writer *w)
{
    uint64_t at = 0;

    for (size_t i = 0; i < w->n_tensors; i++) {
        w->tensors[i].offset = at;
        if (wl_add_u64(at, w->tensors[i].size, &at) ||
            wl_add_u64(at, padding(at, w->alignment), &at))
            return fail(w, WOOLLY_ERR_INVALID, "the tensor data exceeds 2^64 bytes");
    }
    return WOOLLY_OK;
}

static woolly_status put_tensor_info(woolly_gguf_writer *w, const struct wl_wtensor *t,
                                     uint64_t *pos)
{
    size_t len = strlen(t->name);

    TRY(put_uint(w, len, 8));
    TRY(put(w, t->name, len));
    TRY(put_uint(w, t->n_dims, 4));
    for (uint32_t d = 0; d < t->n_dims; d++)
        TRY(put_uint(w, t->ne[d], 8));
    TRY(put_uint(w, t->type, 4));
    TRY(put_uint(w, t->offset, 8));
    *pos += 8 + len + 4 + 8 * (uint64_t)t->n_dims + 4 + 8;
    return WOOLLY_OK;
}

woolly_status woolly_gguf_writer_begin_data(woolly_gguf_writer *w)
{
    uint64_t pos = 24;

    TRY(check_declaring(w, "begin_data"));
    TRY(place_tensors(w));
    TRY(put(w, WL_GGUF_MAGIC, 4));
    TRY(put_uint(w, WL_GGUF_VERSION, 4));
    TRY(put_uint(w, w->n_tensors, 8));
    TRY(put_uint(w, w->n_kv, 8));
    TRY(put(w, w->meta, w->meta_len));
    pos += w->meta_len;
    for (size_t i = 0; i < w->n_tensors; i++)
        TRY(put_tensor_info(w, &w->tensors[i], &pos));
    /* Padding leads to tensor data; without any, files end here (as
     * llama.cpp's vocab-only files do). */
    if (w->n_tensors)
        TRY(put_zeros(w, padding(pos, w->alignment)));
    free(w->meta);   /* no longer needed: give the memory back */
    w->meta = NULL;
    w->meta_len = w->meta_cap = 0;
    w->data_begun = 1;
    return WOOLLY_OK;
}

woolly_status woolly_gguf_writer_write(woolly_gguf_writer *w, const void *data, size_t size)
{
    const uint8_t *p = data;

    if (!w)
        return WOOLLY_ERR_INVALID;
    if (w->status != WOOLLY_OK)
        return w->status;
    if (!w->data_begun)
        return fail(w, WOOLLY_ERR_INVALID, "tensor data written before begin_data");
    if (!data && size)
        return fail(w, WOOLLY_ERR_INVALID, "write: no data");
    /* A piece may end one tensor and start the next. */
    while (size) {
        const struct wl_wtensor *t;
        uint64_t left;
        size_t k;
        if (w->cur >= w->n_tensors)
            return fail(w, WOOLLY_ERR_INVALID, "more data written than the %zu tensors hold",
                        w->n_tensors);
        t = &w->tensors[w->cur];
        left = t->size - w->cur_written;
        k = left < size ? (size_t)left : size;
        TRY(put(w, p, k));
        p += k;
        size -= k;
        w->cur_written += k;
        if (w->cur_written == t->size) {
            TRY(put_zeros(w, padding(t->size, w->alignment)));
            w->cur++;
            w->cur_written = 0;
        }
    }
    return WOOLLY_OK;
}

woolly_status woolly_gguf_writer_open(const char *path, woolly_gguf_writer **out, char *errbuf,
                                      size_t errsize)
{
    woolly_gguf_writer *w;

    if (out)
        *out = NULL;
    if (!path || !out) {
        wl_errbuf(errbuf, errsize, "woolly_gguf_writer_open: no %s", path ? "handle" : "path");
        return WOOLLY_ERR_INVALID;
    }
    w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        wl_errbuf(errbuf, errsize, "%s: out of memory", path);
        return WOOLLY_ERR_NOMEM;
    }
    w->alignment = WL_GGUF_DEFAULT_ALIGNMENT;
    w->f = fopen(path, "wb");
    if (!w->f) {
        wl_errbuf(errbuf, errsize, "%s: %s", path, strerror(errno));
        free(w->path);
        free(w);
        return WOOLLY_ERR_IO;
    }
    *out = w;
    return WOOLLY_OK;
}

/* Free everything but the file. */
static void release(woolly_gguf_writer *w)
{
    for (uint64_t i = 0; i < w->n_kv; i++)
        free(w->key_copies[i]);
    free(w->key_copies);
    free(w->keys.slots);
    for (size_t i = 0; i < w->n_tensors; i++)
        free(w->tensors[i].name);
    free(w->tensors);
    free(w->names.slots);
    free(w->meta);
    free(w->path);
    free(w);
}

woolly_status woolly_gguf_writer_close(woolly_gguf_writer *w, char *errbuf, size_t errsize)
{
    woolly_status st;

    if (!w) {
        wl_errbuf(errbuf, errsize, "woolly_gguf_writer_close: no writer");
        return WOOLLY_ERR_INVALID;
    }
    /* A file of metadata only needs no data call. */
    if (w->status == WOOLLY_OK && !w->data_begun && w->n_tensors == 0)
        woolly_gguf_writer_begin_data(w);
    if (w->status == WOOLLY_OK && (!w->data_begun || w->cur < w->n_tensors))
        fail(w, WOOLLY_ERR_INVALID, "%s: tensor data missing from tensor '%s' on", w->path,
             w->tensors[w->cur].name);
    if (fclose(w->f) != 0)
        fail_io(w, "cannot close");
    w->f = NULL;
    st = w->status;
    if (st != WOOLLY_OK) {
        wl_errbuf(errbuf, errsize, "%s", w->errmsg);
        remove(w->path);
    }
    release(w);
    return st;
}

void woolly_gguf_writer_free(woolly_gguf_writer *w)
{
    if (!w)
        return;
    if (w->f)
        fclose(w->f);
    remove(w->path);
    release(w);
}
