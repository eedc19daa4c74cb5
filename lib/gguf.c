/*
 * gguf.c - reading GGUF files (versions 2 and 3, little-endian).
 *
 * The file is mapped read-only and validated completely when opened: every
 * length, count and offset is checked against the bytes that really remain
 * before it is used, so that the accessors afterwards can trust what they
 * serve straight from the mapping.  Tensor data is never touched.
 *
 * Layout (docs/gguf.md of ggml): "GGUF", u32 version, u64 tensor count,
 * u64 pair count; pairs (string key, u32 value type, value); tensor infos
 * (string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset); padding
 * to general.alignment; the data section.  A string is a u64 length and
 * that many bytes, no NUL.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"
#include "internal.h"
#include "types.h"

/* Arrays of arrays are allowed by the format, but nothing needs them deep;
 * the limit keeps validation (which recurses) off the stack's edge. */
#define MAX_ARRAY_DEPTH 8

/* The smallest encodings, to reject counts that cannot fit in what remains
 * before allocating anything for them. */
#define MIN_KV_BYTES 14      /* key length 8, key 1, type 4, value 1 */
#define MIN_TENSOR_BYTES 33  /* name length 8, name 1, n_dims 4, ne 8, type 4, offset 8 */
#define MIN_STRING_BYTES 8
#define MIN_ARRAY_BYTES 12   /* element type 4, count 8 */

#define NO_ELEMENT UINT64_MAX

struct wl_kv {
    size_t key_at;          /* in the name pool while parsing */
    const char *key;        /* NUL-terminated, in the name pool */
    uint32_t type;
    const uint8_t *raw;     /* the value as encoded, after the type field */
    uint64_t raw_size;
    /* arrays */
    uint32_t elem_type;
    uint64_t count;
    const uint8_t *elems;   /* the first element */
    uint64_t *str_at;       /* arrays of strings: each element's place in elems */
};

struct wl_tensor {
    woolly_gguf_tensor pub;
    size_t name_at;         /* in the name pool while parsing */
    uint64_t info_at;       /* where its tensor info starts, for messages */
};

/* A name and the index of what bears it, to sort and search. */
struct wl_named {
    const char *name;
    size_t index;
};

struct woolly_gguf {
    const uint8_t *base;
    uint64_t size;
    void *map;              /* non-NULL when the file was mapped by us */
    size_t map_size;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;
    size_t n_kv;
    struct wl_kv *kv;
    struct wl_named *kv_by_key;       /* sorted by key */
    size_t n_tensors;
    struct wl_tensor *tensors;
    struct wl_named *tensor_by_name;  /* sorted by name */
    char *names;            /* keys and tensor names, each NUL-terminated */
};

/* ---- the parser's cursor and messages ----------------------------------- */

struct parser {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
    char *err;
    size_t errsize;
    char what[160];         /* the item being read, for messages */
    uint64_t elem;          /* the array element being read, or NO_ELEMENT */
    char *pool;             /* the name pool, growing */
    size_t pool_len, pool_cap;
};

static woolly_status bad(struct parser *ps, uint64_t at, const char *fmt, ...) WL_PRINTF(3, 4);

/* "WHAT[, element N] at offset AT: MESSAGE" into the caller's buffer. */
static woolly_status bad(struct parser *ps, uint64_t at, const char *fmt, ...)
{
    char msg[WOOLLY_ERRBUF_SIZE], elem[40] = "";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->elem != NO_ELEMENT)
        snprintf(elem, sizeof elem, ", element %" PRIu64, ps->elem);
    wl_errbuf(ps->err, ps->errsize, "%s%s at offset %" PRIu64 ": %s", ps->what, elem, at, msg);
    return WOOLLY_ERR_FORMAT;
}

/* Name the item being read: PREFIX, then NAME (from the file, so shortened
 * and with control bytes shown as '?') in quotes when given. */
static void set_what(struct parser *ps, const char *prefix, const uint8_t *name, uint64_t len)
{
    size_t n = strlen(prefix), shown = len > 64 ? 64 : (size_t)len;

    snprintf(ps->what, sizeof ps->what, "%s", prefix);
    if (!name)
        return;
    n += (size_t)snprintf(ps->what + n, sizeof ps->what - n, " '");
    for (size_t i = 0; i < shown && n + 6 < sizeof ps->what; i++)
        ps->what[n++] = name[i] < 0x20 || name[i] == 0x7f ? '?' : (char)name[i];
    snprintf(ps->what + n, sizeof ps->what - n, "%s'", len > shown ? "..." : "");
}

#define TRY(expr) do { woolly_status try_ = (expr); if (try_ != WOOLLY_OK) return try_; } while (0)

static uint64_t remaining(const struct parser *ps)
{
    return ps->size - ps->pos;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    while (n--)
        v = v << 8 | p[n];
    return v;
}

/* Make sure N more bytes of FIELD are in the file. */
static woolly_status need(struct parser *ps, uint64_t n, const char *field)
{
    if (remaining(ps) < n)
        return bad(ps, ps->pos, "the file ends inside the %s (%" PRIu64 " bytes needed, %" PRIu64
                   " left)", field, n, remaining(ps));
    return WOOLLY_OK;
}

static woolly_status read_uint(struct parser *ps, unsigned bytes, const char *field, uint64_t *out)
{
    TRY(need(ps, bytes, field));
    *out = get_le(ps->base + ps->pos, bytes);
    ps->pos += bytes;
    return WOOLLY_OK;
}

static woolly_status read_u32(struct parser *ps, const char *field, uint32_t *out)
{
    uint64_t v;

    TRY(read_uint(ps, 4, field, &v));
    *out = (uint32_t)v;
    return WOOLLY_OK;
}

static woolly_status read_u64(struct parser *ps, const char *field, uint64_t *out)
{
    return read_uint(ps, 8, field, out);
}

/* A string: its length, then that many bytes, which must all be there. */
static woolly_status read_string(struct parser *ps, const char *field, const uint8_t **str,
                                 uint64_t *len)
{
    uint64_t at = ps->pos;

    TRY(read_u64(ps, field, len));
    if (*len > remaining(ps))
        return bad(ps, at, "the %s is %" PRIu64 " bytes long, but only %" PRIu64
                   " bytes remain in the file", field, *len, remaining(ps));
    *str = ps->base + ps->pos;
    ps->pos += *len;
    return WOOLLY_OK;
}

/* A key or tensor name: a string that is not empty and holds no NUL (it is
 * served NUL-terminated). */
static woolly_status read_name(struct parser *ps, const char *field, const uint8_t **str,
                               uint64_t *len)
{
    uint64_t at = ps->pos;

    TRY(read_string(ps, field, str, len));
    if (*len == 0)
        return bad(ps, at, "the %s is empty", field);
    if (memchr(*str, 0, *len))
        return bad(ps, at, "the %s contains a NUL byte", field);
    return WOOLLY_OK;
}

/* Copy a name into the pool, which grows by doubling; pointers into it are
 * made once it stops moving.  The pool never exceeds the names' bytes in
 * the file plus one per name. */
static woolly_status pool_add(struct parser *ps, const uint8_t *str, uint64_t len, size_t *at)
{
    size_t need_len;

    if (len >= SIZE_MAX || wl_add_size(ps->pool_len, (size_t)len + 1, &need_len))
        return WOOLLY_ERR_NOMEM;
    if (need_len > ps->pool_cap) {
        size_t cap = ps->pool_cap ? ps->pool_cap : 256;
        char *p;
        while (cap < need_len)
            if (wl_mul_size(cap, 2, &cap))
                return WOOLLY_ERR_NOMEM;
        p = realloc(ps->pool, cap);
        if (!p)
            return WOOLLY_ERR_NOMEM;
        ps->pool = p;
        ps->pool_cap = cap;
    }
    memcpy(ps->pool + ps->pool_len, str, (size_t)len);
    ps->pool[ps->pool_len + len] = '\0';
    *at = ps->pool_len;
    ps->pool_len = need_len;
    return WOOLLY_OK;
}

static woolly_status nomem(struct parser *ps, const char *what)
{
    wl_errbuf(ps->err, ps->errsize, "out of memory for %s", what);
    return WOOLLY_ERR_NOMEM;
}

/* ---- metadata values ------------------------------------------------------ */

unsigned wl_gguf_scalar_size(uint32_t type)
{
    switch (type) {
    case WOOLLY_GGUF_UINT8: case WOOLLY_GGUF_INT8: case WOOLLY_GGUF_BOOL:
        return 1;
    case WOOLLY_GGUF_UINT16: case WOOLLY_GGUF_INT16:
        return 2;
    case WOOLLY_GGUF_UINT32: case WOOLLY_GGUF_INT32: case WOOLLY_GGUF_FLOAT32:
        return 4;
    case WOOLLY_GGUF_UINT64: case WOOLLY_GGUF_INT64: case WOOLLY_GGUF_FLOAT64:
        return 8;
    default:
        return 0;
    }
}

static const char *const value_type_names[] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool", "string", "array", "uint64", "int64", "float64",
};

const char *woolly_gguf_type_name(woolly_gguf_type type)
{
    if ((unsigned)type >= sizeof value_type_names / sizeof value_type_names[0])
        return NULL;
    return value_type_names[type];
}

/* The spec allows only 0 and 1 in a bool. */
static woolly_status check_bools(struct parser *ps, const uint8_t *p, uint64_t n)
{
    for (uint64_t j = 0; j < n; j++)
        if (p[j] > 1)
            return bad(ps, (uint64_t)(p + j - ps->base), "bool value %u (expected 0 or 1)", p[j]);
    return WOOLLY_OK;
}

static woolly_status skip_value(struct parser *ps, uint32_t type, unsigned depth);

/* An array's elements (its header is read): numbers in one stride, strings
 * and arrays one by one, having first checked that COUNT of the smallest
 * element could fit, so that a huge count fails at once. */
static woolly_status skip_elements(struct parser *ps, uint32_t elem_type, uint64_t count,
                                   uint64_t count_at, unsigned depth)
{
    unsigned size = wl_gguf_scalar_size(elem_type);
    uint64_t bytes, min = elem_type == WOOLLY_GGUF_STRING ? MIN_STRING_BYTES : MIN_ARRAY_BYTES;

    if (size) {
        if (wl_mul_u64(count, size, &bytes) || bytes > remaining(ps))
            return bad(ps, count_at, "%" PRIu64 " elements of %s cannot fit in the %" PRIu64
                       " bytes left", count, value_type_names[elem_type], remaining(ps));
        if (elem_type == WOOLLY_GGUF_BOOL)
            TRY(check_bools(ps, ps->base + ps->pos, count));
        ps->pos += bytes;
        return WOOLLY_OK;
    }
    if (count > remaining(ps) / min)
        return bad(ps, count_at, "%" PRIu64 " elements of %s cannot fit in the %" PRIu64
                   " bytes left (each takes at least %" PRIu64 ")", count,
                   value_type_names[elem_type], remaining(ps), min);
    for (uint64_t j = 0; j < count; j++) {
        if (depth == 0)
            ps->elem = j;   /* name the top-level element in messages */
        TRY(skip_value(ps, elem_type, depth + 1));
    }
    if (depth == 0)
        ps->elem = NO_ELEMENT;
    return WOOLLY_OK;
}

/* Validate one value of TYPE at the cursor and step over it. */
static woolly_status skip_value(struct parser *ps, uint32_t type, unsigned depth)
{
    unsigned size = wl_gguf_scalar_size(type);
    const uint8_t *s;
    uint64_t len, count, count_at, type_at;
    uint32_t elem_type;

    if (size) {
        TRY(need(ps, size, value_type_names[type]));
        if (type == WOOLLY_GGUF_BOOL)
            TRY(check_bools(ps, ps->base + ps->pos, 1));
        ps->pos += size;
        return WOOLLY_OK;
    }
    if (type == WOOLLY_GGUF_STRING)
        return read_string(ps, "string", &s, &len);
    if (depth >= MAX_ARRAY_DEPTH)
        return bad(ps, ps->pos, "arrays nested more than %d deep", MAX_ARRAY_DEPTH);
    type_at = ps->pos;
    TRY(read_u32(ps, "array element type", &elem_type));
    if (elem_type > WOOLLY_GGUF_FLOAT64)
        return bad(ps, type_at, "unknown array element type %" PRIu32 " (expected 0 to 12)",
                   elem_type);
    count_at = ps->pos;
    TRY(read_u64(ps, "array length", &count));
    return skip_elements(ps, elem_type, count, count_at, depth);
}

/* For arrays of strings, where each element starts: made only after the
 * whole array was validated, one u64 per element of at least 8 bytes. */
static woolly_status index_strings(struct parser *ps, struct wl_kv *kv)
{
    uint64_t at = 0;

    if (kv->count > SIZE_MAX / sizeof *kv->str_at)
        return nomem(ps, "a string array index");
    kv->str_at = malloc((size_t)kv->count * sizeof *kv->str_at + 1);
    if (!kv->str_at)
        return nomem(ps, "a string array index");
    for (uint64_t j = 0; j < kv->count; j++) {
        kv->str_at[j] = at;
        at += 8 + get_le(kv->elems + at, 8);
    }
    return WOOLLY_OK;
}

static woolly_status parse_kv(struct parser *ps, size_t i, struct wl_kv *kv)
{
    const uint8_t *key;
    uint64_t key_len, type_at;
    char prefix[48];

    snprintf(prefix, sizeof prefix, "metadata pair %zu", i);
    set_what(ps, prefix, NULL, 0);
    TRY(read_name(ps, "key", &key, &key_len));
    set_what(ps, prefix, key, key_len);
    if (pool_add(ps, key, key_len, &kv->key_at))
        return nomem(ps, "metadata keys");
    type_at = ps->pos;
    TRY(read_u32(ps, "value type", &kv->type));
    if (kv->type > WOOLLY_GGUF_FLOAT64)
        return bad(ps, type_at, "unknown value type %" PRIu32 " (expected 0 to 12)", kv->type);
    kv->raw = ps->base + ps->pos;
    TRY(skip_value(ps, kv->type, 0));
    kv->raw_size = (uint64_t)(ps->base + ps->pos - kv->raw);
    if (kv->type != WOOLLY_GGUF_ARRAY)
        return WOOLLY_OK;
    kv->elem_type = (uint32_t)get_le(kv->raw, 4);
    kv->count = get_le(kv->raw + 4, 8);
    kv->elems = kv->raw + MIN_ARRAY_BYTES;
    if (kv->elem_type == WOOLLY_GGUF_STRING)
        return index_strings(ps, kv);
    return WOOLLY_OK;
}

/* ---- sorted names: duplicates and look-ups in O(n log n) ------------------ */

static int cmp_named(const void *a, const void *b)
{
    const struct wl_named *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sort ITEMS by name; then, if two are equal, *DUP is the later of the
 * first such pair and *FIRST the other; otherwise *DUP is N. */
static void sort_named(struct wl_named *items, size_t n, size_t *dup, size_t *first)
{
    qsort(items, n, sizeof *items, cmp_named);
    *dup = n;
    for (size_t k = 1; k < n; k++) {
        if (strcmp(items[k - 1].name, items[k].name) == 0) {
            *dup = items[k].index;
            *first = items[k - 1].index;
            return;
        }
    }
}

static int64_t find_named(const struct wl_named *items, size_t n, const char *name)
{
    size_t lo = 0, hi = n;

    if (!name)
        return -1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, items[mid].name);
        if (c == 0)
            return (int64_t)items[mid].index;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

static struct wl_named *new_named(size_t n)
{
    /* +1: malloc(0) may return NULL, which would read as a failure. */
    return n > SIZE_MAX / sizeof(struct wl_named) - 1 ? NULL
                                                      : malloc((n + 1) * sizeof(struct wl_named));
}

/* ---- the sections of the file --------------------------------------------- */

static woolly_status parse_header(struct parser *ps, woolly_gguf *g, uint64_t *n_tensors,
                                  uint64_t *n_kv)
{
    const uint8_t *m = ps->base;

    set_what(ps, "header", NULL, 0);
    TRY(need(ps, 4, "magic"));
    if (memcmp(m, WL_GGUF_MAGIC, 4) != 0)
        return bad(ps, 0, "bad magic %02x %02x %02x %02x (expected 'GGUF': 47 47 55 46)",
                   m[0], m[1], m[2], m[3]);
    ps->pos = 4;
    TRY(read_u32(ps, "version", &g->version));
    if (g->version == 0)
        return bad(ps, 4, "version 0 (expected 2 or 3)");
    if (g->version == 0x02000000 || g->version == 0x03000000) {
        wl_errbuf(ps->err, ps->errsize, "header at offset 4: big-endian GGUF files are not "
                  "supported (woolly reads little-endian versions 2 and 3)");
        return WOOLLY_ERR_UNSUPPORTED;
    }
    if (g->version != 2 && g->version != 3) {
        wl_errbuf(ps->err, ps->errsize, "header at offset 4: GGUF version %" PRIu32 " is not "
                  "supported (woolly reads versions 2 and 3)%s", g->version,
                  g->version == 1 ? "; convert the file with a current llama.cpp" : "");
        return WOOLLY_ERR_UNSUPPORTED;
    }
    TRY(read_u64(ps, "tensor count", n_tensors));
    TRY(read_u64(ps, "metadata count", n_kv));
    if (*n_kv > remaining(ps) / MIN_KV_BYTES)
        return bad(ps, 16, "metadata count %" PRIu64 " cannot fit in the %" PRIu64
                   " bytes left (each pair takes at least %d)", *n_kv, remaining(ps), MIN_KV_BYTES);
    if (*n_tensors > remaining(ps) / MIN_TENSOR_BYTES)
        return bad(ps, 8, "tensor count %" PRIu64 " cannot fit in the %" PRIu64
                   " bytes left (each tensor takes at least %d)", *n_tensors, remaining(ps),
                   MIN_TENSOR_BYTES);
    return WOOLLY_OK;
}

/* Dimensions: 1 to 4, each nonzero, their product (the element count) no
 * more than INT64_MAX, which is what ggml can hold. */
static woolly_status read_dims(struct parser *ps, woolly_gguf_tensor *t)
{
    uint64_t at = ps->pos;

    TRY(read_u32(ps, "dimension count", &t->n_dims));
    if (t->n_dims < 1 || t->n_dims > WL_GGUF_MAX_DIMS)
        return bad(ps, at, "%" PRIu32 " dimensions (expected 1 to %d)", t->n_dims,
                   WL_GGUF_MAX_DIMS);
    t->n_elements = 1;
    for (uint32_t d = 0; d < WL_GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d >= t->n_dims)
            continue;
        at = ps->pos;
        TRY(read_u64(ps, "dimensions", &t->ne[d]));
        if (t->ne[d] == 0)
            return bad(ps, at, "dimension %" PRIu32 " is 0", d);
        if (wl_mul_u64(t->n_elements, t->ne[d], &t->n_elements) || t->n_elements > INT64_MAX)
            return bad(ps, at, "the element count overflows at dimension %" PRIu32
                       " (%" PRIu64 ")", d, t->ne[d]);
    }
    return WOOLLY_OK;
}

/* The type, and the bytes its elements take: rows of ne[0] elements must
 * be whole blocks, as ggml stores them. */
static woolly_status read_type(struct parser *ps, woolly_gguf_tensor *t)
{
    uint64_t at = ps->pos, row;
    const struct wl_type_traits *tt;
    uint32_t type;

    TRY(read_u32(ps, "type", &type));
    tt = wl_type_traits(type);
    if (!tt)
        return bad(ps, at, "unknown tensor type %" PRIu32, type);
    t->type = (woolly_type)type;
    if (t->ne[0] % tt->block_size)
        return bad(ps, at, "%" PRIu64 " elements per row are not a multiple of the %s block "
                   "size %" PRIu32, t->ne[0], tt->name, tt->block_size);
    if (wl_row_bytes(type, t->ne[0], &row) || wl_mul_u64(row, t->n_elements / t->ne[0], &t->size))
        return bad(ps, at, "the size of %" PRIu64 " %s elements overflows", t->n_elements,
                   tt->name);
    return WOOLLY_OK;
}

static woolly_status parse_tensor_info(struct parser *ps, size_t i, struct wl_tensor *t)
{
    const uint8_t *name;
    uint64_t len;
    char prefix[48];

    t->info_at = ps->pos;
    snprintf(prefix, sizeof prefix, "tensor %zu", i);
    set_what(ps, prefix, NULL, 0);
    TRY(read_name(ps, "name", &name, &len));
    set_what(ps, prefix, name, len);
    if (pool_add(ps, name, len, &t->name_at))
        return nomem(ps, "tensor names");
    TRY(read_dims(ps, &t->pub));
    TRY(read_type(ps, &t->pub));
    return read_u64(ps, "data offset", &t->pub.offset);
}

/* Names point into the pool once it has stopped growing. */
static void settle_names(struct parser *ps, woolly_gguf *g)
{
    g->names = ps->pool;
    ps->pool = NULL;
    for (size_t i = 0; i < g->n_kv; i++)
        g->kv[i].key = g->names + g->kv[i].key_at;
    for (size_t i = 0; i < g->n_tensors; i++)
        g->tensors[i].pub.name = g->names + g->tensors[i].name_at;
}

static woolly_status check_duplicate_keys(struct parser *ps, woolly_gguf *g)
{
    size_t dup, first = 0;

    g->kv_by_key = new_named(g->n_kv);
    if (!g->kv_by_key)
        return nomem(ps, "sorting the metadata");
    for (size_t i = 0; i < g->n_kv; i++)
        g->kv_by_key[i] = (struct wl_named){ g->kv[i].key, i };
    sort_named(g->kv_by_key, g->n_kv, &dup, &first);
    if (dup == g->n_kv)
        return WOOLLY_OK;
    snprintf(ps->what, sizeof ps->what, "metadata pair %zu", dup);
    return bad(ps, (uint64_t)(g->kv[dup].raw - ps->base), "duplicate key '%s' (pair %zu has it "
               "too)", g->kv[dup].key, first);
}

static woolly_status check_duplicate_names(struct parser *ps, woolly_gguf *g)
{
    size_t dup, first = 0;

    g->tensor_by_name = new_named(g->n_tensors);
    if (!g->tensor_by_name)
        return nomem(ps, "sorting the tensors");
    for (size_t i = 0; i < g->n_tensors; i++)
        g->tensor_by_name[i] = (struct wl_named){ g->tensors[i].pub.name, i };
    sort_named(g->tensor_by_name, g->n_tensors, &dup, &first);
    if (dup == g->n_tensors)
        return WOOLLY_OK;
    snprintf(ps->what, sizeof ps->what, "tensor %zu", dup);
    return bad(ps, g->tensors[dup].info_at, "duplicate name '%s' (tensor %zu has it too)",
               g->tensors[dup].pub.name, first);
}

/* general.alignment: a uint32, a power of two; 32 when absent. */
static woolly_status parse_alignment(struct parser *ps, woolly_gguf *g)
{
    int64_t i = find_named(g->kv_by_key, g->n_kv, WL_GGUF_ALIGNMENT_KEY);
    const struct wl_kv *kv;

    g->alignment = WL_GGUF_DEFAULT_ALIGNMENT;
    if (i < 0)
        return WOOLLY_OK;
    kv = &g->kv[i];
    snprintf(ps->what, sizeof ps->what, "metadata pair %" PRId64 " '%s'", i, kv->key);
    if (kv->type != WOOLLY_GGUF_UINT32)
        return bad(ps, (uint64_t)(kv->raw - ps->base), "the alignment is a %s (expected uint32)",
                   value_type_names[kv->type]);
    g->alignment = get_le(kv->raw, 4);
    if (!wl_gguf_alignment_ok(g->alignment))
        return bad(ps, (uint64_t)(kv->raw - ps->base), "alignment %" PRIu64
                   " is not a nonzero power of two", g->alignment);
    return WOOLLY_OK;
}

/* Each tensor's offset is aligned and its bytes lie inside the file. */
static woolly_status place_tensor(struct parser *ps, woolly_gguf *g, size_t i)
{
    struct wl_tensor *t = &g->tensors[i];
    uint64_t start, end;

    snprintf(ps->what, sizeof ps->what, "tensor %zu '%s'", i, t->pub.name);
    if (t->pub.offset % g->alignment)
        return bad(ps, t->info_at, "data offset %" PRIu64 " is not a multiple of the alignment %"
                   PRIu64, t->pub.offset, g->alignment);
    if (wl_add_u64(g->data_offset, t->pub.offset, &start) ||
        wl_add_u64(start, t->pub.size, &end) || end > g->size)
        return bad(ps, t->info_at, "its %" PRIu64 " bytes at data offset %" PRIu64 " run past "
                   "the end of the file (%" PRIu64 " bytes, data section from %" PRIu64 ")",
                   t->pub.size, t->pub.offset, g->size, g->data_offset);
    t->pub.data = g->base + start;
    return WOOLLY_OK;
}

static int cmp_by_offset(const void *a, const void *b)
{
    const struct wl_tensor *x = *(const struct wl_tensor *const *)a;
    const struct wl_tensor *y = *(const struct wl_tensor *const *)b;

    return x->pub.offset < y->pub.offset ? -1 : x->pub.offset > y->pub.offset;
}

/* Sorted by offset, each tensor must end where or before the next starts
 * (sums cannot overflow: place_tensor checked them). */
static woolly_status check_overlaps(struct parser *ps, woolly_gguf *g)
{
    const struct wl_tensor **order = malloc((g->n_tensors + 1) * sizeof *order);
    woolly_status st = WOOLLY_OK;

    if (!order)
        return nomem(ps, "sorting the tensors");
    for (size_t i = 0; i < g->n_tensors; i++)
        order[i] = &g->tensors[i];
    qsort(order, g->n_tensors, sizeof *order, cmp_by_offset);
    for (size_t k = 1; k < g->n_tensors && st == WOOLLY_OK; k++) {
        const woolly_gguf_tensor *a = &order[k - 1]->pub, *b = &order[k]->pub;
        if (a->offset + a->size <= b->offset)
            continue;
        snprintf(ps->what, sizeof ps->what, "tensor %zu '%s'", (size_t)(order[k] - g->tensors),
                 b->name);
        st = bad(ps, order[k]->info_at, "its data (bytes %" PRIu64 " to %" PRIu64 " of the data "
                 "section) overlaps tensor '%s' (bytes %" PRIu64 " to %" PRIu64 ")", b->offset,
                 b->offset + b->size, a->name, a->offset, a->offset + a->size);
    }
    free(order);
    return st;
}

static woolly_status parse_tensor_data(struct parser *ps, woolly_gguf *g)
{
    uint64_t pad = (g->alignment - ps->pos % g->alignment) % g->alignment;

    /* A file without tensors may end before the padding. */
    g->data_offset = ps->pos + pad;
    if (g->data_offset < ps->pos) {
        set_what(ps, "tensor data", NULL, 0);
        return bad(ps, ps->pos, "the data section's offset overflows");
    }
    for (size_t i = 0; i < g->n_tensors; i++)
        TRY(place_tensor(ps, g, i));
    return check_overlaps(ps, g);
}

/* TABLE with room for entry N, grown by doubling (and zeroed), or NULL when
 * memory runs out (TABLE is then still valid): memory follows the entries
 * the file really holds, not the count its header claims. */
static void *reserve(void *table, size_t *cap, size_t n, size_t size)
{
    size_t new_cap = *cap ? *cap : 16;
    char *p;

    if (n < *cap)
        return table;
    while (new_cap <= n)
        if (wl_mul_size(new_cap, 2, &new_cap))
            return NULL;
    if (new_cap > SIZE_MAX / size || !(p = realloc(table, new_cap * size)))
        return NULL;
    memset(p + *cap * size, 0, (new_cap - *cap) * size);
    *cap = new_cap;
    return p;
}

static woolly_status parse(struct parser *ps, woolly_gguf *g)
{
    uint64_t n_tensors = 0, n_kv = 0;
    size_t kv_cap = 0, tensor_cap = 0;

    TRY(parse_header(ps, g, &n_tensors, &n_kv));
    for (; g->n_kv < n_kv; g->n_kv++) {
        struct wl_kv *kv = reserve(g->kv, &kv_cap, g->n_kv, sizeof *kv);
        if (!kv)
            return nomem(ps, "the metadata table");
        g->kv = kv;
        TRY(parse_kv(ps, g->n_kv, &g->kv[g->n_kv]));
    }
    for (; g->n_tensors < n_tensors; g->n_tensors++) {
        struct wl_tensor *t = reserve(g->tensors, &tensor_cap, g->n_tensors, sizeof *t);
        if (!t)
            return nomem(ps, "the tensor table");
        g->tensors = t;
        TRY(parse_tensor_info(ps, g->n_tensors, &g->tensors[g->n_tensors]));
    }
    settle_names(ps, g);
    TRY(check_duplicate_keys(ps, g));
    TRY(parse_alignment(ps, g));
    TRY(check_duplicate_names(ps, g));
    return parse_tensor_data(ps, g);
}

/* ---- opening and closing ------------------------------------------------- */

void woolly_gguf_free(woolly_gguf *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_kv; i++)
        free(g->kv[i].str_at);
    free(g->kv);
    free(g->kv_by_key);
    free(g->tensors);
    free(g->tensor_by_name);
    free(g->names);
    if (g->map)
        munmap(g->map, g->map_size);
    free(g);
}

/* Parse the image already in G (base, size); G is freed on failure. */
static woolly_status open_image(woolly_gguf *g, woolly_gguf **out, char *errbuf, size_t errsize)
{
    struct parser ps = { .base = g->base, .size = g->size, .err = errbuf, .errsize = errsize,
                         .elem = NO_ELEMENT };
    woolly_status st = parse(&ps, g);

    free(ps.pool);  /* non-NULL only when parsing stopped before settle_names */
    if (st != WOOLLY_OK) {
        woolly_gguf_free(g);
        return st;
    }
    *out = g;
    return WOOLLY_OK;
}

woolly_status woolly_gguf_open_memory(const void *data, size_t size, woolly_gguf **out,
                                      char *errbuf, size_t errsize)
{
    woolly_gguf *g;

    if (out)
        *out = NULL;
    if (!out || (!data && size)) {
        wl_errbuf(errbuf, errsize, "woolly_gguf_open_memory: no %s", out ? "data" : "handle");
        return WOOLLY_ERR_INVALID;
    }
    if (size == 0) {
        wl_errbuf(errbuf, errsize, "the image is empty, not a GGUF file");
        return WOOLLY_ERR_FORMAT;
    }
    g = calloc(1, sizeof *g);
    if (!g) {
        wl_errbuf(errbuf, errsize, "out of memory");
        return WOOLLY_ERR_NOMEM;
    }
    g->base = data;
    g->size = size;
    return open_image(g, out, errbuf, errsize);
}

/* Map PATH read-only into G. */
static woolly_status map_file(const char *path, woolly_gguf *g, char *errbuf, size_t errsize)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    woolly_status status = WOOLLY_OK;

    if (fd < 0) {
        wl_errbuf(errbuf, errsize, "%s: %s", path, strerror(errno));
        return WOOLLY_ERR_IO;
    }
    if (fstat(fd, &st) != 0) {
        wl_errbuf(errbuf, errsize, "%s: %s", path, strerror(errno));
        status = WOOLLY_ERR_IO;
    } else if (S_ISDIR(st.st_mode)) {
        wl_errbuf(errbuf, errsize, "%s: %s", path, strerror(EISDIR));
        status = WOOLLY_ERR_IO;
    } else if (!S_ISREG(st.st_mode)) {
        wl_errbuf(errbuf, errsize, "%s: not a regular file", path);
        status = WOOLLY_ERR_IO;
    } else if (st.st_size == 0) {
        wl_errbuf(errbuf, errsize, "%s: the file is empty, not a GGUF file", path);
        status = WOOLLY_ERR_FORMAT;
    } else if ((uint64_t)st.st_size > SIZE_MAX) {
        wl_errbuf(errbuf, errsize, "%s: too large to map (%jd bytes)", path, (intmax_t)st.st_size);
        status = WOOLLY_ERR_IO;
    } else {
        g->map_size = (size_t)st.st_size;
        /* At a huge page's boundary with MADV_HUGEPAGE (wl_map_huge): on a
         * Zen 5 VM (Linux 6.18, ext4), decoding the TinyLlama-shaped F32
         * model from a cache of 2 MiB folios ran at 10.1 t/s against
         * 6.1-7.0 from 4 KiB pages, Q4_0 at 63 against 58-60; that kernel
         * read 890 of a 1100 MB model's MB into 2 MiB folios by itself and
         * all of them with the advice.  A file already cached in small
         * pages maps as it is, and the pages stay the page cache's, shared
         * with every process that maps the file.  Smaller files, or no
         * aligned room: mapped where the system puts them. */
        g->map = g->map_size >= WL_HUGE_PAGE ? wl_map_huge(fd, g->map_size) : MAP_FAILED;
        if (g->map == MAP_FAILED)
            g->map = mmap(NULL, g->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (g->map == MAP_FAILED) {
            g->map = NULL;
            wl_errbuf(errbuf, errsize, "%s: cannot map the file: %s", path, strerror(errno));
            status = WOOLLY_ERR_IO;
        }
    }
    close(fd);  /* the mapping keeps the file */
    g->base = g->map;
    g->size = g->map_size;
    return status;
}

woolly_status woolly_gguf_open(const char *path, woolly_gguf **out, char *errbuf, size_t errsize)
{
    char msg[WOOLLY_ERRBUF_SIZE];
    woolly_gguf *g;
    woolly_status st;

    if (out)
        *out = NULL;
    if (!path || !out) {
        wl_errbuf(errbuf, errsize, "woolly_gguf_open: no %s", path ? "handle" : "path");
        return WOOLLY_ERR_INVALID;
    }
    g = calloc(1, sizeof *g);
    if (!g) {
        wl_errbuf(errbuf, errsize, "%s: out of memory", path);
        return WOOLLY_ERR_NOMEM;
    }
    st = map_file(path, g, errbuf, errsize);
    if (st != WOOLLY_OK) {
        woolly_gguf_free(g);
        return st;
    }
    /* Validation messages name the file first, like the I/O ones. */
    st = open_image(g, out, msg, sizeof msg);
    if (st != WOOLLY_OK)
        wl_errbuf(errbuf, errsize, "%s: %s", path, msg);
    return st;
}

/* ---- the file as a whole -------------------------------------------------- */

uint32_t woolly_gguf_version(const woolly_gguf *g)
{
    return g ? g->version : 0;
}

uint64_t woolly_gguf_file_size(const woolly_gguf *g)
{
    return g ? g->size : 0;
}

uint64_t woolly_gguf_alignment(const woolly_gguf *g)
{
    return g ? g->alignment : 0;
}

uint64_t woolly_gguf_data_offset(const woolly_gguf *g)
{
    return g ? g->data_offset : 0;
}

/* ---- metadata ------------------------------------------------------------- */

size_t woolly_gguf_kv_count(const woolly_gguf *g)
{
    return g ? g->n_kv : 0;
}

int64_t woolly_gguf_find_key(const woolly_gguf *g, const char *key)
{
    return g ? find_named(g->kv_by_key, g->n_kv, key) : -1;
}

static const struct wl_kv *get_kv(const woolly_gguf *g, size_t i)
{
    return g && i < g->n_kv ? &g->kv[i] : NULL;
}

const char *woolly_gguf_kv_key(const woolly_gguf *g, size_t i)
{
    const struct wl_kv *kv = get_kv(g, i);

    return kv ? kv->key : NULL;
}

woolly_gguf_type woolly_gguf_kv_type(const woolly_gguf *g, size_t i)
{
    const struct wl_kv *kv = get_kv(g, i);

    return kv ? (woolly_gguf_type)kv->type : (woolly_gguf_type)-1;
}

int wl_gguf_kv_raw(const woolly_gguf *g, size_t i, const uint8_t **raw, uint64_t *size)
{
    const struct wl_kv *kv = get_kv(g, i);

    if (!kv)
        return -1;
    *raw = kv->raw;
    *size = kv->raw_size;
    return 0;
}

/* A decoded scalar, before conversion to what the caller asked for. */
struct number {
    enum { NUM_INT, NUM_UINT, NUM_FLOAT, NUM_BOOL } kind;
    int64_t i;
    uint64_t u;
    double f;
};

static struct number decode(uint32_t type, const uint8_t *p)
{
    struct number n = { NUM_UINT, 0, 0, 0.0 };
    unsigned size = wl_gguf_scalar_size(type);
    uint64_t bits = get_le(p, size);

    switch (type) {
    case WOOLLY_GGUF_INT8: n.kind = NUM_INT; n.i = (int8_t)bits; break;
    case WOOLLY_GGUF_INT16: n.kind = NUM_INT; n.i = (int16_t)bits; break;
    case WOOLLY_GGUF_INT32: n.kind = NUM_INT; n.i = (int32_t)bits; break;
    case WOOLLY_GGUF_INT64: n.kind = NUM_INT; n.i = (int64_t)bits; break;
    case WOOLLY_GGUF_BOOL: n.kind = NUM_BOOL; n.u = bits; break;
    case WOOLLY_GGUF_FLOAT32: {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        n.kind = NUM_FLOAT;
        n.f = f;
        break;
    }
    case WOOLLY_GGUF_FLOAT64:
        n.kind = NUM_FLOAT;
        memcpy(&n.f, &bits, sizeof n.f);
        break;
    default: n.u = bits; break;
    }
    return n;
}

static woolly_status to_int(struct number n, int64_t *out)
{
    if (n.kind == NUM_INT)
        *out = n.i;
    else if ((n.kind == NUM_UINT || n.kind == NUM_BOOL) && n.u <= INT64_MAX)
        *out = (int64_t)n.u;
    else
        return WOOLLY_ERR_INVALID;
    return WOOLLY_OK;
}

static woolly_status to_uint(struct number n, uint64_t *out)
{
    if (n.kind == NUM_UINT)
        *out = n.u;
    else if (n.kind == NUM_INT && n.i >= 0)
        *out = (uint64_t)n.i;
    else
        return WOOLLY_ERR_INVALID;
    return WOOLLY_OK;
}

static woolly_status to_float(struct number n, double *out)
{
    switch (n.kind) {
    case NUM_INT: *out = (double)n.i; return WOOLLY_OK;
    case NUM_UINT: *out = (double)n.u; return WOOLLY_OK;
    case NUM_FLOAT: *out = n.f; return WOOLLY_OK;
    default: return WOOLLY_ERR_INVALID;
    }
}

/* Pair I when it is a scalar number or bool, decoded. */
static woolly_status kv_number(const woolly_gguf *g, size_t i, struct number *n)
{
    const struct wl_kv *kv = get_kv(g, i);

    if (!kv || !wl_gguf_scalar_size(kv->type))
        return WOOLLY_ERR_INVALID;
    *n = decode(kv->type, kv->raw);
    return WOOLLY_OK;
}

woolly_status woolly_gguf_kv_int(const woolly_gguf *g, size_t i, int64_t *out)
{
    struct number n;

    if (!out || kv_number(g, i, &n))
        return WOOLLY_ERR_INVALID;
    return to_int(n, out);
}

woolly_status woolly_gguf_kv_uint(const woolly_gguf *g, size_t i, uint64_t *out)
{
    struct number n;

    if (!out || kv_number(g, i, &n))
        return WOOLLY_ERR_INVALID;
    return to_uint(n, out);
}

woolly_status woolly_gguf_kv_float(const woolly_gguf *g, size_t i, double *out)
{
    struct number n;

    if (!out || kv_number(g, i, &n))
        return WOOLLY_ERR_INVALID;
    return to_float(n, out);
}

woolly_status woolly_gguf_kv_bool(const woolly_gguf *g, size_t i, int *out)
{
    struct number n;

    if (!out || kv_number(g, i, &n) || n.kind != NUM_BOOL)
        return WOOLLY_ERR_INVALID;
    *out = (int)n.u;
    return WOOLLY_OK;
}

/* The string at P (length, bytes), already validated. */
static void string_at(const uint8_t *p, const char **str, size_t *len)
{
    *len = (size_t)get_le(p, 8);
    *str = (const char *)p + 8;
}

woolly_status woolly_gguf_kv_string(const woolly_gguf *g, size_t i, const char **str,
                                    size_t *len)
{
    const struct wl_kv *kv = get_kv(g, i);

    if (!kv || kv->type != WOOLLY_GGUF_STRING || !str || !len)
        return WOOLLY_ERR_INVALID;
    string_at(kv->raw, str, len);
    return WOOLLY_OK;
}

/* ---- arrays --------------------------------------------------------------- */

static const struct wl_kv *get_array(const woolly_gguf *g, size_t i)
{
    const struct wl_kv *kv = get_kv(g, i);

    return kv && kv->type == WOOLLY_GGUF_ARRAY ? kv : NULL;
}

woolly_status woolly_gguf_kv_array(const woolly_gguf *g, size_t i, woolly_gguf_type *elem_type,
                                   uint64_t *count)
{
    const struct wl_kv *kv = get_array(g, i);

    if (!kv)
        return WOOLLY_ERR_INVALID;
    if (elem_type)
        *elem_type = (woolly_gguf_type)kv->elem_type;
    if (count)
        *count = kv->count;
    return WOOLLY_OK;
}

/* Element J of a numeric array, decoded. */
static woolly_status array_number(const woolly_gguf *g, size_t i, uint64_t j, struct number *n)
{
    const struct wl_kv *kv = get_array(g, i);
    unsigned size;

    if (!kv || !(size = wl_gguf_scalar_size(kv->elem_type)))
        return WOOLLY_ERR_INVALID;
    if (j >= kv->count)
        return WOOLLY_ERR_RANGE;
    *n = decode(kv->elem_type, kv->elems + j * size);
    return WOOLLY_OK;
}

woolly_status woolly_gguf_kv_array_int(const woolly_gguf *g, size_t i, uint64_t j, int64_t *out)
{
    struct number n;
    woolly_status st = out ? array_number(g, i, j, &n) : WOOLLY_ERR_INVALID;

    return st != WOOLLY_OK ? st : to_int(n, out);
}

woolly_status woolly_gguf_kv_array_float(const woolly_gguf *g, size_t i, uint64_t j,
                                         double *out)
{
    struct number n;
    woolly_status st = out ? array_number(g, i, j, &n) : WOOLLY_ERR_INVALID;

    return st != WOOLLY_OK ? st : to_float(n, out);
}

woolly_status woolly_gguf_kv_array_string(const woolly_gguf *g, size_t i, uint64_t j,
                                          const char **str, size_t *len)
{
    const struct wl_kv *kv = get_array(g, i);

    if (!kv || kv->elem_type != WOOLLY_GGUF_STRING || !str || !len)
        return WOOLLY_ERR_INVALID;
    if (j >= kv->count)
        return WOOLLY_ERR_RANGE;
    string_at(kv->elems + kv->str_at[j], str, len);
    return WOOLLY_OK;
}

const void *woolly_gguf_kv_array_data(const woolly_gguf *g, size_t i)
{
    const struct wl_kv *kv = get_array(g, i);

    return kv && wl_gguf_scalar_size(kv->elem_type) ? kv->elems : NULL;
}

/* ---- tensors -------------------------------------------------------------- */

size_t woolly_gguf_tensor_count(const woolly_gguf *g)
{
    return g ? g->n_tensors : 0;
}

int64_t woolly_gguf_find_tensor(const woolly_gguf *g, const char *name)
{
    return g ? find_named(g->tensor_by_name, g->n_tensors, name) : -1;
}

woolly_status woolly_gguf_tensor_info(const woolly_gguf *g, size_t i, woolly_gguf_tensor *out)
{
    if (!g || !out)
        return WOOLLY_ERR_INVALID;
    if (i >= g->n_tensors)
        return WOOLLY_ERR_RANGE;
    *out = g->tensors[i].pub;
    return WOOLLY_OK;
}
