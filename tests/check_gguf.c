/* check_gguf.c - the GGUF reader and writer: round trips of a file the
 * writer makes, every validation rule, truncation at every byte, random
 * corruption, and the writer's own checks.  Needs no reference data. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "testutil.h"
#include "woolly.h"

/* ---- helpers: temporary files, hand-made images ---------------------------- */

static char tmpdir[] = "/tmp/check_gguf.XXXXXX";

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/check_gguf.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[64];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *tmp_path(const char *name)
{
    static char path[128];

    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/* The whole of a file, in a buffer of exactly its size (so that ASan sees
 * any read past its end). */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p;
    long n;

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    p = malloc((size_t)n);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* A GGUF image built field by field. */
struct img {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct img *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void put_le(struct img *b, uint64_t v, unsigned n)
{
    uint8_t x[8];

    for (unsigned i = 0; i < n; i++, v >>= 8)
        x[i] = (uint8_t)v;
    put(b, x, n);
}

static void put_str(struct img *b, const char *s)
{
    put_le(b, strlen(s), 8);
    put(b, s, strlen(s));
}

static void header(struct img *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    put(b, "GGUF", 4);
    put_le(b, version, 4);
    put_le(b, n_tensors, 8);
    put_le(b, n_kv, 8);
}

static void kv_u32(struct img *b, const char *key, uint32_t v)
{
    put_str(b, key);
    put_le(b, WOOLLY_GGUF_UINT32, 4);
    put_le(b, v, 4);
}

static void tensor_info(struct img *b, const char *name, uint32_t n_dims, const uint64_t *ne,
                        uint32_t type, uint64_t offset)
{
    put_str(b, name);
    put_le(b, n_dims, 4);
    for (uint32_t d = 0; d < n_dims; d++)
        put_le(b, ne[d], 8);
    put_le(b, type, 4);
    put_le(b, offset, 8);
}

static void pad_zeros(struct img *b, size_t align)
{
    while (b->len % align)
        put_le(b, 0, 1);
}

static void zeros(struct img *b, size_t n)
{
    while (n--)
        put_le(b, 0, 1);
}

/* One pair (KEY = 7), one tensor NAME of type TYPE and dims NE at OFFSET,
 * DATA bytes of data after the padding. */
static void simple(struct img *b, const char *key, const char *name, uint32_t n_dims,
                   const uint64_t *ne, uint32_t type, uint64_t offset, size_t data)
{
    header(b, 3, 1, 1);
    kv_u32(b, key, 7);
    tensor_info(b, name, n_dims, ne, type, offset);
    pad_zeros(b, 32);
    zeros(b, data);
}

static const uint64_t ne16[] = { 16 };  /* f32: 64 bytes */

/* Opening the image fails with WANT and a message holding FRAGMENT. */
static void expect_fail(struct img *b, woolly_status want, const char *fragment)
{
    char err[WOOLLY_ERRBUF_SIZE] = "";
    uint8_t *copy = malloc(b->len + 1);
    woolly_gguf *g = (woolly_gguf *)&err;
    woolly_status st;

    memcpy(copy, b->p, b->len);
    st = woolly_gguf_open_memory(copy, b->len, &g, err, sizeof err);
    ck_assert_msg(st == want, "status %d (%s), wanted %d; message: %s", st, woolly_strerror(st),
                  want, err);
    ck_assert_ptr_null(g);
    ck_assert_msg(strstr(err, fragment), "message '%s' lacks '%s'", err, fragment);
    free(copy);
    free(b->p);
    *b = (struct img){ 0 };
}

/* Open an image that must be valid; free with close_img. */
static woolly_gguf *open_img(const struct img *b)
{
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_gguf *g = NULL;
    woolly_status st = woolly_gguf_open_memory(b->p, b->len, &g, err, sizeof err);

    ck_assert_msg(st == WOOLLY_OK, "open failed: %s", err);
    return g;
}

static void close_img(woolly_gguf *g, struct img *b)
{
    woolly_gguf_free(g);
    free(b->p);
    *b = (struct img){ 0 };
}

static woolly_gguf *open_file(const char *path)
{
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_gguf *g = NULL;
    woolly_status st = woolly_gguf_open(path, &g, err, sizeof err);

    ck_assert_msg(st == WOOLLY_OK, "open failed: %s", err);
    return g;
}

/* The fixture in the temporary directory, written with ALIGN and PIECE. */
static const char *write_fixture(uint32_t align, size_t piece)
{
    char err[WOOLLY_ERRBUF_SIZE] = "";
    const char *path = tmp_path("fixture.gguf");
    woolly_status st = fx_write(path, align, piece, err, sizeof err);

    ck_assert_msg(st == WOOLLY_OK, "fx_write: %s", err);
    return path;
}

static size_t key_index(const woolly_gguf *g, const char *key)
{
    int64_t i = woolly_gguf_find_key(g, key);

    ck_assert_msg(i >= 0, "no key %s", key);
    return (size_t)i;
}

/* ---- round trips ---------------------------------------------------------- */

static void check_scalar(const woolly_gguf *g, const struct fx_scalar *s)
{
    size_t i = key_index(g, s->key);
    int64_t v;
    uint64_t u;
    double f;
    int b;

    ck_assert_int_eq(woolly_gguf_kv_type(g, i), s->type);
    switch (s->type) {
    case WOOLLY_GGUF_INT8: case WOOLLY_GGUF_INT16: case WOOLLY_GGUF_INT32: case WOOLLY_GGUF_INT64:
        ck_assert_int_eq(woolly_gguf_kv_int(g, i, &v), WOOLLY_OK);
        ck_assert_int_eq(v, s->i);
        break;
    case WOOLLY_GGUF_FLOAT32:
        ck_assert_int_eq(woolly_gguf_kv_float(g, i, &f), WOOLLY_OK);
        ck_assert(f == (double)(float)s->f);
        break;
    case WOOLLY_GGUF_FLOAT64:
        ck_assert_int_eq(woolly_gguf_kv_float(g, i, &f), WOOLLY_OK);
        ck_assert(f == s->f);
        break;
    case WOOLLY_GGUF_BOOL:
        ck_assert_int_eq(woolly_gguf_kv_bool(g, i, &b), WOOLLY_OK);
        ck_assert_uint_eq((uint64_t)b, s->u);
        break;
    default:
        ck_assert_int_eq(woolly_gguf_kv_uint(g, i, &u), WOOLLY_OK);
        ck_assert_uint_eq(u, s->u);
        break;
    }
}

static void check_arrays(const woolly_gguf *g)
{
    size_t i = key_index(g, "tokenizer.ggml.tokens"), len;
    woolly_gguf_type et;
    uint64_t count;
    const char *s;
    double f;
    int64_t v;

    ck_assert_int_eq(woolly_gguf_kv_array(g, i, &et, &count), WOOLLY_OK);
    ck_assert_int_eq(et, WOOLLY_GGUF_STRING);
    ck_assert_uint_eq(count, fx_n_tokens);
    for (uint64_t j = 0; j < count; j++) {
        ck_assert_int_eq(woolly_gguf_kv_array_string(g, i, j, &s, &len), WOOLLY_OK);
        ck_assert_uint_eq(len, strlen(fx_tokens[j]));
        ck_assert(memcmp(s, fx_tokens[j], len) == 0);
    }
    ck_assert_int_eq(woolly_gguf_kv_array_string(g, i, count, &s, &len), WOOLLY_ERR_RANGE);
    ck_assert_ptr_null(woolly_gguf_kv_array_data(g, i));

    i = key_index(g, "tokenizer.ggml.scores");
    ck_assert_int_eq(woolly_gguf_kv_array(g, i, &et, &count), WOOLLY_OK);
    ck_assert_int_eq(et, WOOLLY_GGUF_FLOAT32);
    ck_assert(memcmp(woolly_gguf_kv_array_data(g, i), fx_scores, sizeof(float) * count) == 0);
    for (uint64_t j = 0; j < count; j++) {
        ck_assert_int_eq(woolly_gguf_kv_array_float(g, i, j, &f), WOOLLY_OK);
        ck_assert(f == fx_scores[j]);
    }
    i = key_index(g, "tokenizer.ggml.token_type");
    for (uint64_t j = 0; j < fx_n_tokens; j++) {
        ck_assert_int_eq(woolly_gguf_kv_array_int(g, i, j, &v), WOOLLY_OK);
        ck_assert_int_eq(v, fx_token_types[j]);
    }
    i = key_index(g, "test.bools");
    ck_assert_int_eq(woolly_gguf_kv_array(g, i, &et, &count), WOOLLY_OK);
    ck_assert_int_eq(et, WOOLLY_GGUF_BOOL);
    ck_assert_uint_eq(count, fx_n_bools);
    for (uint64_t j = 0; j < count; j++) {
        ck_assert_int_eq(woolly_gguf_kv_array_int(g, i, j, &v), WOOLLY_OK);
        ck_assert_int_eq(v, fx_bools[j]);
    }
    i = key_index(g, "test.empty_array");
    ck_assert_int_eq(woolly_gguf_kv_array(g, i, &et, &count), WOOLLY_OK);
    ck_assert_uint_eq(count, 0);
    ck_assert_int_eq(woolly_gguf_kv_array_int(g, i, 0, &v), WOOLLY_ERR_RANGE);
}

static void check_tensors(const woolly_gguf *g)
{
    woolly_gguf_tensor t;

    ck_assert_uint_eq(woolly_gguf_tensor_count(g), fx_n_tensors);
    for (size_t i = 0; i < fx_n_tensors; i++) {
        const struct fx_tensor *x = &fx_tensors[i];
        const uint8_t *d;
        ck_assert_int_eq(woolly_gguf_tensor_info(g, i, &t), WOOLLY_OK);
        ck_assert_str_eq(t.name, x->name);
        ck_assert_int_eq(woolly_gguf_find_tensor(g, x->name), (int64_t)i);
        ck_assert_int_eq(t.type, x->type);
        ck_assert_uint_eq(t.n_dims, x->n_dims);
        for (int d4 = 0; d4 < 4; d4++)
            ck_assert_uint_eq(t.ne[d4], x->ne[d4]);
        ck_assert_uint_eq(t.n_elements, x->ne[0] * x->ne[1] * x->ne[2] * x->ne[3]);
        ck_assert_uint_eq(t.size, x->size);
        ck_assert_uint_eq(t.offset % woolly_gguf_alignment(g), 0);
        d = t.data;
        for (uint64_t k = 0; k < t.size; k++)
            ck_assert_msg(d[k] == fx_byte(i, k), "tensor %zu byte %llu", i, (unsigned long long)k);
    }
}

static void check_fixture(const woolly_gguf *g, uint32_t align)
{
    const char *s;
    size_t len;

    ck_assert_uint_eq(woolly_gguf_version(g), 3);
    ck_assert_uint_eq(woolly_gguf_alignment(g), align ? align : 32);
    ck_assert_uint_eq(woolly_gguf_data_offset(g) % woolly_gguf_alignment(g), 0);
    ck_assert_uint_eq(woolly_gguf_kv_count(g), fx_n_strings + fx_n_scalars + 5 + (align != 0));
    ck_assert_str_eq(woolly_gguf_kv_key(g, 0), "general.architecture");  /* file order */
    for (size_t k = 0; k < fx_n_strings; k++) {
        size_t i = key_index(g, fx_strings[k][0]);
        ck_assert_int_eq(woolly_gguf_kv_type(g, i), WOOLLY_GGUF_STRING);
        ck_assert_int_eq(woolly_gguf_kv_string(g, i, &s, &len), WOOLLY_OK);
        ck_assert_uint_eq(len, strlen(fx_strings[k][1]));
        ck_assert(memcmp(s, fx_strings[k][1], len) == 0);
    }
    for (size_t k = 0; k < fx_n_scalars; k++)
        check_scalar(g, &fx_scalars[k]);
    check_arrays(g);
    check_tensors(g);
}

START_TEST(round_trip_every_type_and_alignment)
{
    static const uint32_t aligns[] = { 0, 32, 64, 8, 1 };
    static const size_t pieces[] = { 1, 7, 100, 1 << 16 };

    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++) {
        for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
            const char *path = write_fixture(aligns[a], pieces[p]);
            woolly_gguf *g = open_file(path);
            check_fixture(g, aligns[a]);
            woolly_gguf_free(g);
        }
    }
}
END_TEST

START_TEST(accessors_convert_or_refuse)
{
    woolly_gguf *g = open_file(write_fixture(64, 4096));
    const char *s;
    size_t len, n = woolly_gguf_kv_count(g);
    woolly_gguf_type et;
    woolly_gguf_tensor t;
    uint64_t u;
    int64_t v;
    double f;
    int b;

    ck_assert_int_eq(woolly_gguf_kv_int(g, key_index(g, "test.uint64"), &v), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_uint(g, key_index(g, "test.int8"), &u), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_uint(g, key_index(g, "test.uint16"), &u), WOOLLY_OK);
    ck_assert_uint_eq(u, 60000);
    ck_assert_int_eq(woolly_gguf_kv_int(g, key_index(g, "test.bool"), &v), WOOLLY_OK);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(woolly_gguf_kv_float(g, key_index(g, "test.int32"), &f), WOOLLY_OK);
    ck_assert(f == -2147483648.0);
    ck_assert_int_eq(woolly_gguf_kv_int(g, key_index(g, "test.float32"), &v), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_bool(g, key_index(g, "test.uint8"), &b), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_float(g, key_index(g, "general.name"), &f),
                     WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_string(g, key_index(g, "test.uint8"), &s, &len),
                     WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_string(g, key_index(g, "test.empty_string"), &s, &len),
                     WOOLLY_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(woolly_gguf_kv_array(g, key_index(g, "test.uint8"), &et, &u),
                     WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_array_string(g, key_index(g, "tokenizer.ggml.scores"), 0,
                                                 &s, &len), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_array_int(g, key_index(g, "tokenizer.ggml.tokens"), 0, &v),
                     WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_array_int(g, key_index(g, "tokenizer.ggml.scores"), 0, &v),
                     WOOLLY_ERR_INVALID);
    /* Out of range and absent. */
    ck_assert_ptr_null(woolly_gguf_kv_key(g, n));
    ck_assert_int_eq(woolly_gguf_kv_type(g, n), (woolly_gguf_type)-1);
    ck_assert_int_eq(woolly_gguf_kv_int(g, n, &v), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_find_key(g, "no.such.key"), -1);
    ck_assert_int_eq(woolly_gguf_find_key(g, NULL), -1);
    ck_assert_int_eq(woolly_gguf_find_tensor(g, "no.such.tensor"), -1);
    ck_assert_int_eq(woolly_gguf_tensor_info(g, fx_n_tensors, &t), WOOLLY_ERR_RANGE);
    ck_assert_str_eq(woolly_gguf_type_name(WOOLLY_GGUF_FLOAT64), "float64");
    ck_assert_str_eq(woolly_gguf_type_name(WOOLLY_GGUF_ARRAY), "array");
    ck_assert_ptr_null(woolly_gguf_type_name((woolly_gguf_type)13));
    woolly_gguf_free(g);
    woolly_gguf_free(NULL);
}
END_TEST

/* The writer's bytes, field by field, as docs/gguf.md lays them out. */
START_TEST(writer_follows_the_spec_byte_for_byte)
{
    const char *path = tmp_path("tiny.gguf");
    static const uint64_t ne[] = { 4 };
    static const float data[4] = { 1, 2, 3, 4 };
    char err[WOOLLY_ERRBUF_SIZE];
    struct img want = { 0 };
    woolly_gguf_writer *w;
    uint8_t *got;
    size_t len;

    ck_assert_int_eq(woolly_gguf_writer_open(path, &w, err, sizeof err), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_set_uint(w, "a", WOOLLY_GGUF_UINT32, 5), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_F32, 1, ne), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_begin_data(w), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_write(w, data, sizeof data), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_close(w, err, sizeof err), WOOLLY_OK);

    header(&want, 3, 1, 1);
    kv_u32(&want, "a", 5);
    tensor_info(&want, "t", 1, ne, WOOLLY_TYPE_F32, 0);
    pad_zeros(&want, 32);
    for (int i = 0; i < 4; i++) {
        uint32_t bits;
        memcpy(&bits, &data[i], 4);
        put_le(&want, bits, 4);
    }
    pad_zeros(&want, 32);
    got = slurp(path, &len);
    ck_assert_uint_eq(len, want.len);
    ck_assert_uint_eq(len, 128);
    ck_assert(memcmp(got, want.p, len) == 0);
    free(got);
    free(want.p);
}
END_TEST

/* A file of 2 MiB or more is mapped with its first byte on a 2 MiB
 * boundary (so that Linux can map the page cache's 2 MiB folios whole),
 * and reads back as it was written. */
START_TEST(large_files_map_on_huge_page_boundaries)
{
    const char *path = tmp_path("large.gguf");
    static const uint64_t ne[] = { 3 << 18 };   /* 3 MiB of F32 */
    char err[WOOLLY_ERRBUF_SIZE];
    woolly_gguf_writer *w;
    woolly_gguf *g;
    woolly_gguf_tensor t;
    float *data = malloc(ne[0] * sizeof *data);

    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < ne[0]; i++)
        data[i] = (float)i;
    ck_assert_int_eq(woolly_gguf_writer_open(path, &w, err, sizeof err), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_F32, 1, ne), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_begin_data(w), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_write(w, data, ne[0] * sizeof *data), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_close(w, err, sizeof err), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_open(path, &g, err, sizeof err), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_tensor_info(g, 0, &t), WOOLLY_OK);
    uintptr_t file_start = (uintptr_t)t.data - (uintptr_t)(woolly_gguf_data_offset(g) + t.offset);
    ck_assert_uint_eq(file_start % ((uintptr_t)2 << 20), 0);
    ck_assert(memcmp(t.data, data, ne[0] * sizeof *data) == 0);
    woolly_gguf_free(g);
    free(data);
    remove(path);
}
END_TEST

/* ---- damaged files -------------------------------------------------------- */

/* Cut at every byte before the end of the data: each must fail cleanly. */
START_TEST(truncated_at_every_byte)
{
    size_t len;
    uint8_t *file = slurp(write_fixture(64, 4096), &len);
    woolly_gguf *g;

    for (size_t cut = 0; cut < len; cut++) {
        char err[WOOLLY_ERRBUF_SIZE] = "";
        uint8_t *copy = malloc(cut + 1);
        woolly_status st;
        memcpy(copy, file, cut);
        st = woolly_gguf_open_memory(copy, cut, &g, err, sizeof err);
        ck_assert_msg(st == WOOLLY_ERR_FORMAT, "cut at %zu: status %d (%s)", cut, st, err);
        ck_assert_ptr_null(g);
        ck_assert_msg(cut == 0 || strstr(err, " at offset "), "cut at %zu: '%s'", cut, err);
        ck_assert_msg(cut == 0 || strstr(err, "ends inside") || strstr(err, "remain") ||
                      strstr(err, "left") || strstr(err, "past the end"),
                      "cut at %zu: '%s' does not say the file is short", cut, err);
        free(copy);
    }
    ck_assert_int_eq(woolly_gguf_open_memory(file, len, &g, NULL, 0), WOOLLY_OK);
    woolly_gguf_free(g);
    free(file);
}
END_TEST

/* Seeded damage: bit flips, random bytes, length and count fields set to
 * extreme values, and a cut.  Whatever opens must be safe to walk. */
static void corrupt(uint8_t *p, size_t header_len, size_t *len, uint64_t *seed)
{
    static const uint64_t extremes[] = { UINT64_MAX, UINT64_MAX - 7, INT64_MAX, 1ull << 63,
                                         1ull << 32, 0xFFFFFFFFu, 0, 1, 3, 4, 5, 13, 65 };
    unsigned kind = (unsigned)(tu_rand(seed) % 4), n = 1 + (unsigned)(tu_rand(seed) % 3);

    for (unsigned k = 0; k < n; k++) {
        size_t at = (size_t)(tu_rand(seed) % header_len);
        uint64_t v = extremes[tu_rand(seed) % (sizeof extremes / sizeof extremes[0])];
        switch (kind) {
        case 0: p[at] ^= (uint8_t)(1u << (tu_rand(seed) % 8)); break;
        case 1: p[at] = (uint8_t)tu_rand(seed); break;
        case 2:
            for (unsigned i = 0; i < 8 && at + i < *len; i++, v >>= 8)
                p[at + i] = (uint8_t)v;
            break;
        default:
            p[at] = (uint8_t)tu_rand(seed);
            *len -= (size_t)(tu_rand(seed) % (*len / 8 + 1));
            break;
        }
    }
}

START_TEST(random_corruptions_fail_cleanly_or_walk_safely)
{
    size_t len, opened = 0, failed = 0;
    uint8_t *file = slurp(write_fixture(32, 4096), &len);
    woolly_gguf *g;
    size_t header_len;
    uint64_t seed = 0x5eed;

    ck_assert_int_eq(woolly_gguf_open_memory(file, len, &g, NULL, 0), WOOLLY_OK);
    header_len = (size_t)woolly_gguf_data_offset(g);
    woolly_gguf_free(g);
    for (int round = 0; round < 4000; round++) {
        char err[WOOLLY_ERRBUF_SIZE] = "";
        size_t n = len;
        uint8_t *copy = malloc(len);
        woolly_status st;
        uint64_t sum;
        memcpy(copy, file, len);
        corrupt(copy, header_len, &n, &seed);
        st = woolly_gguf_open_memory(copy, n, &g, err, sizeof err);
        if (st == WOOLLY_OK) {
            ck_assert_msg(fx_walk(g, &sum) == 0, "round %d: inconsistent", round);
            woolly_gguf_free(g);
            opened++;
        } else {
            ck_assert_msg(st == WOOLLY_ERR_FORMAT || st == WOOLLY_ERR_UNSUPPORTED,
                          "round %d: status %d (%s)", round, st, err);
            ck_assert_msg(strlen(err) > 10, "round %d: no message", round);
            failed++;
        }
        free(copy);
    }
    /* Both outcomes happen: the damage is neither always fatal nor harmless. */
    ck_assert_uint_gt(opened, 100);
    ck_assert_uint_gt(failed, 1000);
    free(file);
}
END_TEST

/* ---- one test per validation rule ------------------------------------------ */

START_TEST(valid_minimal_images)
{
    struct img b = { 0 };
    woolly_gguf *g;

    simple(&b, "a.b", "t", 1, ne16, WOOLLY_TYPE_F32, 0, 64);
    g = open_img(&b);
    ck_assert_uint_eq(woolly_gguf_tensor_count(g), 1);
    ck_assert_uint_eq(woolly_gguf_data_offset(g), 96);
    close_img(g, &b);

    header(&b, 2, 0, 0);            /* version 2, nothing in it */
    g = open_img(&b);
    ck_assert_uint_eq(woolly_gguf_version(g), 2);
    ck_assert_uint_eq(woolly_gguf_kv_count(g), 0);
    ck_assert_uint_eq(woolly_gguf_alignment(g), 32);
    close_img(g, &b);
}
END_TEST

START_TEST(bad_magic)
{
    struct img b = { 0 };

    simple(&b, "a.b", "t", 1, ne16, WOOLLY_TYPE_F32, 0, 64);
    memcpy(b.p, "GGML", 4);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "bad magic 47 47 4d 4c");
}
END_TEST

START_TEST(unsupported_versions)
{
    struct img b = { 0 };

    header(&b, 1, 0, 0);
    expect_fail(&b, WOOLLY_ERR_UNSUPPORTED, "GGUF version 1 is not supported");
    header(&b, 4, 0, 0);
    expect_fail(&b, WOOLLY_ERR_UNSUPPORTED, "GGUF version 4 is not supported");
    header(&b, 0x03000000, 0, 0);
    expect_fail(&b, WOOLLY_ERR_UNSUPPORTED, "big-endian");
    header(&b, 0, 0, 0);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "version 0");
}
END_TEST

START_TEST(counts_that_cannot_fit)
{
    struct img b = { 0 };

    header(&b, 3, 0, 1ull << 40);
    zeros(&b, 100);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "metadata count 1099511627776 cannot fit in the 100 bytes");
    header(&b, 3, UINT64_MAX, 0);
    zeros(&b, 100);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "tensor count 18446744073709551615 cannot fit");
}
END_TEST

START_TEST(strings_longer_than_the_file)
{
    struct img b = { 0 };

    header(&b, 3, 0, 1);
    put_le(&b, 1000, 8);            /* the key's length */
    put(&b, "abcdef", 6);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "the key is 1000 bytes long, but only 6 bytes remain");

    header(&b, 3, 0, 1);
    put_str(&b, "a.s");
    put_le(&b, WOOLLY_GGUF_STRING, 4);
    put_le(&b, UINT64_MAX, 8);
    zeros(&b, 10);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "metadata pair 0 'a.s' at offset 39: the string is "
                "18446744073709551615 bytes long");
}
END_TEST

START_TEST(empty_names_and_nul_bytes)
{
    struct img b = { 0 };

    simple(&b, "", "t", 1, ne16, WOOLLY_TYPE_F32, 0, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "metadata pair 0 at offset 24: the key is empty");
    simple(&b, "a.b", "", 1, ne16, WOOLLY_TYPE_F32, 0, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "tensor 0 at offset 43: the name is empty");
    header(&b, 3, 0, 1);
    put_le(&b, 3, 8);
    put(&b, "a\0b", 3);
    put_le(&b, WOOLLY_GGUF_UINT8, 4);
    put_le(&b, 1, 1);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "contains a NUL byte");
}
END_TEST

START_TEST(dimension_counts)
{
    static const uint64_t ne[5] = { 1, 1, 1, 1, 1 };
    struct img b = { 0 };

    simple(&b, "a.b", "t", 5, ne, WOOLLY_TYPE_F32, 0, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "tensor 0 't' at offset 52: 5 dimensions (expected 1 to 4)");
    simple(&b, "a.b", "t", 0, ne, WOOLLY_TYPE_F32, 0, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "0 dimensions (expected 1 to 4)");
}
END_TEST

START_TEST(zero_and_overflowing_dimensions)
{
    static const uint64_t zero[] = { 16, 0 }, huge[] = { 1ull << 32, 1ull << 32 },
                          big[] = { 1ull << 31, 1ull << 31 };
    struct img b = { 0 };

    simple(&b, "a.b", "t", 2, zero, WOOLLY_TYPE_F32, 0, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "dimension 1 is 0");
    simple(&b, "a.b", "t", 2, huge, WOOLLY_TYPE_F32, 0, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "the element count overflows at dimension 1");
    simple(&b, "a.b", "t", 2, big, WOOLLY_TYPE_F32, 0, 64);   /* 2^62 elements, 2^64 bytes */
    expect_fail(&b, WOOLLY_ERR_FORMAT, "the size of 4611686018427387904 f32 elements overflows");
}
END_TEST

START_TEST(rows_of_whole_blocks)
{
    static const uint64_t ne[] = { 48, 2 };
    struct img b = { 0 };

    simple(&b, "a.b", "t", 2, ne, WOOLLY_TYPE_Q4_0, 0, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT,
                "48 elements per row are not a multiple of the q4_0 block size 32");
}
END_TEST

START_TEST(unknown_type_ids)
{
    struct img b = { 0 };

    simple(&b, "a.b", "t", 1, ne16, 4, 0, 64);     /* Q4_2, retired */
    expect_fail(&b, WOOLLY_ERR_FORMAT, "unknown tensor type 4");
    simple(&b, "a.b", "t", 1, ne16, WOOLLY_TYPE_COUNT, 0, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "unknown tensor type 40");

    header(&b, 3, 0, 1);
    put_str(&b, "a.b");
    put_le(&b, 13, 4);
    zeros(&b, 8);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "metadata pair 0 'a.b' at offset 35: unknown value type 13");

    header(&b, 3, 0, 1);
    put_str(&b, "a.b");
    put_le(&b, WOOLLY_GGUF_ARRAY, 4);
    put_le(&b, 0xFFFFFFFFu, 4);
    put_le(&b, 0, 8);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "unknown array element type 4294967295");
}
END_TEST

START_TEST(every_tensor_type_loads)
{
    for (uint32_t type = 0; type < WOOLLY_TYPE_COUNT; type++) {
        uint64_t ne[] = { woolly_type_block_size((woolly_type)type) * 2 };
        struct img b = { 0 };
        woolly_gguf_tensor t;
        woolly_gguf *g;
        if (!woolly_type_name((woolly_type)type))
            continue;
        simple(&b, "a.b", "t", 1, ne, type, 0, 2 * woolly_type_block_bytes((woolly_type)type));
        g = open_img(&b);
        ck_assert_int_eq(woolly_gguf_tensor_info(g, 0, &t), WOOLLY_OK);
        ck_assert_int_eq(t.type, type);
        ck_assert_uint_eq(t.size, 2 * woolly_type_block_bytes((woolly_type)type));
        close_img(g, &b);
    }
}
END_TEST

START_TEST(tensor_data_out_of_bounds)
{
    struct img b = { 0 };

    simple(&b, "a.b", "t", 1, ne16, WOOLLY_TYPE_F32, 0, 63);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "its 64 bytes at data offset 0 run past the end of the "
                "file (159 bytes, data section from 96)");
    simple(&b, "a.b", "t", 1, ne16, WOOLLY_TYPE_F32, UINT64_MAX - 31, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "run past the end of the file");
}
END_TEST

START_TEST(misaligned_tensor_offsets)
{
    struct img b = { 0 };

    simple(&b, "a.b", "t", 1, ne16, WOOLLY_TYPE_F32, 16, 128);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "data offset 16 is not a multiple of the alignment 32");
    /* With general.alignment = 64, offset 32 is misaligned too. */
    simple(&b, "general.alignment", "t", 1, ne16, WOOLLY_TYPE_F32, 32, 128);
    memcpy(b.p + 24 + 8 + 17 + 4, "\x40\0\0\0", 4);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "not a multiple of the alignment 64");
}
END_TEST

START_TEST(overlapping_tensors)
{
    struct img b = { 0 };

    header(&b, 3, 2, 0);
    tensor_info(&b, "first", 1, ne16, WOOLLY_TYPE_F32, 0);
    tensor_info(&b, "second", 1, ne16, WOOLLY_TYPE_F32, 32);
    pad_zeros(&b, 32);
    zeros(&b, 128);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "tensor 1 'second' at offset 61: its data (bytes 32 to 96 "
                "of the data section) overlaps tensor 'first' (bytes 0 to 64)");
}
END_TEST

START_TEST(duplicate_keys_and_names)
{
    struct img b = { 0 };

    header(&b, 3, 0, 3);
    kv_u32(&b, "a.x", 1);
    kv_u32(&b, "a.y", 2);
    kv_u32(&b, "a.x", 3);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "metadata pair 2 at offset 77: duplicate key 'a.x' (pair 0 "
                "has it too)");

    header(&b, 3, 2, 0);
    tensor_info(&b, "w", 1, ne16, WOOLLY_TYPE_F32, 0);
    tensor_info(&b, "w", 1, ne16, WOOLLY_TYPE_F32, 64);
    pad_zeros(&b, 32);
    zeros(&b, 128);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "tensor 1 at offset 57: duplicate name 'w' (tensor 0 has "
                "it too)");
}
END_TEST

START_TEST(truncated_header_names_the_field)
{
    struct img b = { 0 };

    header(&b, 3, 0, 0);
    b.len = 12;
    expect_fail(&b, WOOLLY_ERR_FORMAT, "header at offset 8: the file ends inside the tensor count "
                "(8 bytes needed, 4 left)");
    header(&b, 3, 0, 1);
    kv_u32(&b, "a.b", 7);
    b.len -= 2;
    expect_fail(&b, WOOLLY_ERR_FORMAT, "metadata pair 0 'a.b' at offset 39: the file ends inside "
                "the uint32 (4 bytes needed, 2 left)");
}
END_TEST

START_TEST(alignment_rules)
{
    struct img b = { 0 };
    woolly_gguf *g;

    simple(&b, "general.alignment", "t", 1, ne16, WOOLLY_TYPE_F32, 0, 64);
    memcpy(b.p + 24 + 8 + 17 + 4, "\x30\0\0\0", 4);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "alignment 48 is not a nonzero power of two");
    simple(&b, "general.alignment", "t", 1, ne16, WOOLLY_TYPE_F32, 0, 64);
    memcpy(b.p + 24 + 8 + 17 + 4, "\0\0\0\0", 4);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "alignment 0 is not");

    header(&b, 3, 0, 1);
    put_str(&b, "general.alignment");
    put_le(&b, WOOLLY_GGUF_UINT64, 4);
    put_le(&b, 32, 8);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "the alignment is a uint64 (expected uint32)");

    header(&b, 3, 1, 1);
    kv_u32(&b, "general.alignment", 256);
    tensor_info(&b, "t", 1, ne16, WOOLLY_TYPE_F32, 256);
    pad_zeros(&b, 256);
    zeros(&b, 256 + 64);
    g = open_img(&b);
    ck_assert_uint_eq(woolly_gguf_alignment(g), 256);
    ck_assert_uint_eq(woolly_gguf_data_offset(g), 256);
    close_img(g, &b);
}
END_TEST

START_TEST(bool_values_are_0_or_1)
{
    struct img b = { 0 };

    header(&b, 3, 0, 1);
    put_str(&b, "a.b");
    put_le(&b, WOOLLY_GGUF_BOOL, 4);
    put_le(&b, 2, 1);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "bool value 2 (expected 0 or 1)");
    header(&b, 3, 0, 1);
    put_str(&b, "a.b");
    put_le(&b, WOOLLY_GGUF_ARRAY, 4);
    put_le(&b, WOOLLY_GGUF_BOOL, 4);
    put_le(&b, 3, 8);
    put(&b, "\1\0\7", 3);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "bool value 7");
}
END_TEST

/* An array of arrays: [[1, 2], ["x"]]. */
static void nested_array(struct img *b, const char *key)
{
    put_str(b, key);
    put_le(b, WOOLLY_GGUF_ARRAY, 4);
    put_le(b, WOOLLY_GGUF_ARRAY, 4);
    put_le(b, 2, 8);
    put_le(b, WOOLLY_GGUF_UINT8, 4);
    put_le(b, 2, 8);
    put(b, "\1\2", 2);
    put_le(b, WOOLLY_GGUF_STRING, 4);
    put_le(b, 1, 8);
    put_str(b, "x");
}

START_TEST(nested_arrays_are_validated_and_skipped)
{
    struct img b = { 0 };
    woolly_gguf_type et;
    const char *s;
    size_t len;
    uint64_t count;
    int64_t v;
    double f;
    woolly_gguf *g;

    header(&b, 3, 0, 2);
    nested_array(&b, "a.nested");
    kv_u32(&b, "a.after", 9);
    g = open_img(&b);
    ck_assert_int_eq(woolly_gguf_kv_array(g, 0, &et, &count), WOOLLY_OK);
    ck_assert_int_eq(et, WOOLLY_GGUF_ARRAY);
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(woolly_gguf_kv_array_int(g, 0, 0, &v), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_array_float(g, 0, 1, &f), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_kv_array_string(g, 0, 0, &s, &len), WOOLLY_ERR_INVALID);
    ck_assert_ptr_null(woolly_gguf_kv_array_data(g, 0));
    ck_assert_int_eq(woolly_gguf_kv_int(g, 1, &v), WOOLLY_OK);   /* found past it */
    ck_assert_int_eq(v, 9);
    close_img(g, &b);

    /* Nine levels deep. */
    header(&b, 3, 0, 1);
    put_str(&b, "a.deep");
    put_le(&b, WOOLLY_GGUF_ARRAY, 4);
    for (int d = 0; d < 9; d++) {
        put_le(&b, WOOLLY_GGUF_ARRAY, 4);
        put_le(&b, 1, 8);
    }
    put_le(&b, WOOLLY_GGUF_UINT8, 4);
    put_le(&b, 0, 8);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "arrays nested more than 8 deep");
}
END_TEST

START_TEST(array_counts_that_cannot_fit)
{
    struct img b = { 0 };

    header(&b, 3, 0, 1);
    put_str(&b, "a.strs");
    put_le(&b, WOOLLY_GGUF_ARRAY, 4);
    put_le(&b, WOOLLY_GGUF_STRING, 4);
    put_le(&b, 1ull << 60, 8);
    zeros(&b, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "1152921504606846976 elements of string cannot fit in the "
                "64 bytes left");
    header(&b, 3, 0, 1);
    put_str(&b, "a.nums");
    put_le(&b, WOOLLY_GGUF_ARRAY, 4);
    put_le(&b, WOOLLY_GGUF_UINT32, 4);
    put_le(&b, 1ull << 62, 8);   /* 2^64 bytes: the product overflows */
    zeros(&b, 64);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "4611686018427387904 elements of uint32 cannot fit");
    header(&b, 3, 0, 1);
    put_str(&b, "a.strs");
    put_le(&b, WOOLLY_GGUF_ARRAY, 4);
    put_le(&b, WOOLLY_GGUF_STRING, 4);
    put_le(&b, 2, 8);
    put_str(&b, "ok");
    put_le(&b, 99, 8);
    expect_fail(&b, WOOLLY_ERR_FORMAT, "metadata pair 0 'a.strs', element 1 at offset 64: the "
                "string is 99 bytes long");
}
END_TEST

START_TEST(io_errors_name_the_path)
{
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_gguf *g = NULL;
    char path[128];
    FILE *f;

    snprintf(path, sizeof path, "%s", tmp_path("empty.gguf"));
    ck_assert_int_eq(woolly_gguf_open(tmp_path("absent.gguf"), &g, err, sizeof err),
                     WOOLLY_ERR_IO);
    ck_assert_ptr_null(g);
    ck_assert_ptr_nonnull(strstr(err, "absent.gguf: "));
    ck_assert_ptr_nonnull(strstr(err, strerror(ENOENT)));
    ck_assert_int_eq(woolly_gguf_open(tmpdir, &g, err, sizeof err), WOOLLY_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err, strerror(EISDIR)));
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(woolly_gguf_open(path, &g, err, sizeof err), WOOLLY_ERR_FORMAT);
    ck_assert_msg(strstr(err, "empty.gguf: the file is empty"), "%s", err);
    /* Validation messages name the file too. */
    f = fopen(path, "wb");
    fputs("GGML and more bytes than a header", f);
    fclose(f);
    ck_assert_int_eq(woolly_gguf_open(path, &g, err, sizeof err), WOOLLY_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "empty.gguf: header at offset 0: bad magic"));
    ck_assert_int_eq(woolly_gguf_open(NULL, &g, err, sizeof err), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_open(path, NULL, NULL, 0), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_open_memory(NULL, 0, &g, NULL, 0), WOOLLY_ERR_FORMAT);
}
END_TEST

/* A 4 GiB file (sparse: the data is never written) opens at once and
 * without reading its data. */
START_TEST(large_file_is_mapped_not_read)
{
    static const uint64_t ne[] = { 1ull << 30 };   /* f32: 4 GiB */
    const char *path = tmp_path("large.gguf");
    struct img b = { 0 };
    struct rusage before, after;
    struct timespec t0, t1;
    woolly_gguf_tensor t;
    woolly_gguf *g;
    int fd;

    simple(&b, "a.b", "huge", 1, ne, WOOLLY_TYPE_F32, 0, 0);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b.p, b.len), (ssize_t)b.len);
    if (ftruncate(fd, (off_t)(b.len + (4ull << 30))) != 0) {
        close(fd);
        free(b.p);
        return;     /* no room for even a sparse file here: nothing to test */
    }
    close(fd);
    getrusage(RUSAGE_SELF, &before);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    g = open_file(path);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &after);
    ck_assert_int_eq(woolly_gguf_tensor_info(g, 0, &t), WOOLLY_OK);
    ck_assert_uint_eq(t.size, 4ull << 30);
    ck_assert_uint_eq(woolly_gguf_file_size(g), b.len + (4ull << 30));
    ck_assert_msg((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 < 1.0,
                  "opening took more than a second");
    ck_assert_msg(after.ru_maxrss - before.ru_maxrss < 64 * 1024, "RSS grew by %ld KiB",
                  after.ru_maxrss - before.ru_maxrss);
    woolly_gguf_free(g);
    unlink(path);
    free(b.p);
}
END_TEST

/* ---- the writer's checks ---------------------------------------------------- */

static woolly_gguf_writer *new_writer(const char *name)
{
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_gguf_writer *w = NULL;

    ck_assert_msg(woolly_gguf_writer_open(tmp_path(name), &w, err, sizeof err) == WOOLLY_OK,
                  "%s", err);
    return w;
}

/* W failed with STATUS and FRAGMENT; closing it fails the same way and
 * leaves no file. */
static void expect_stuck(woolly_gguf_writer *w, const char *name, woolly_status status,
                         const char *fragment)
{
    static const uint64_t ne[] = { 32 };
    char err[WOOLLY_ERRBUF_SIZE] = "";

    ck_assert_msg(strstr(woolly_gguf_writer_errmsg(w), fragment), "'%s' lacks '%s'",
                  woolly_gguf_writer_errmsg(w), fragment);
    ck_assert_int_eq(woolly_gguf_writer_set_uint(w, "later.key", WOOLLY_GGUF_UINT8, 1), status);
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "later", WOOLLY_TYPE_F32, 1, ne), status);
    ck_assert_int_eq(woolly_gguf_writer_close(w, err, sizeof err), status);
    ck_assert_ptr_nonnull(strstr(err, fragment));
    ck_assert_int_eq(access(tmp_path(name), F_OK), -1);
}

START_TEST(writer_errors_stick)
{
    static const uint64_t ne[] = { 32, 2 }, ne5[] = { 1, 1, 1, 1, 1 }, zero[] = { 32, 0 },
                          odd[] = { 33 };
    static const char *long_name =
        "a.tensor.name.that.is.longer.than.ggml.can.hold.in.its.sixty.four.bytes";
    woolly_gguf_writer *w;

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_set_string(w, "a.k", "v", 1), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_set_string(w, "a.k", "v", 1), WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "duplicate metadata key 'a.k'");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_set_uint(w, "", WOOLLY_GGUF_UINT8, 1), WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "key is empty");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_set_uint(w, "a.b", WOOLLY_GGUF_UINT8, 256),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "256 does not fit a uint8");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_set_int(w, "a.b", WOOLLY_GGUF_INT8, -129),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "-129 does not fit a int8");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_set_float(w, "a.b", WOOLLY_GGUF_UINT32, 1.0),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "float32 or float64");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_set_uint(w, "general.alignment", WOOLLY_GGUF_UINT32, 48),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "general.alignment must be a uint32 power");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_F32, 2, ne), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_F32, 2, ne),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "duplicate tensor name 't'");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "", WOOLLY_TYPE_F32, 2, ne),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "tensor name is empty");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, long_name, WOOLLY_TYPE_F32, 2, ne),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "longer than 63 bytes");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_F32, 5, ne5),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "5 dimensions (expected 1 to 4)");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_F32, 2, zero),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "dimension 1 (0) is 0");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_Q8_0, 1, odd),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "not a multiple of the q8_0 block size 32");

    w = new_writer("w.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", (woolly_type)5, 1, ne),
                     WOOLLY_ERR_INVALID);
    expect_stuck(w, "w.gguf", WOOLLY_ERR_INVALID, "unknown type 5");
}
END_TEST

START_TEST(writer_data_must_match_the_tensors)
{
    static const uint64_t ne[] = { 8 };
    static const float data[16] = { 0 };
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_gguf_writer *w;

    w = new_writer("d.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_F32, 1, ne), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_write(w, data, 4), WOOLLY_ERR_INVALID);
    expect_stuck(w, "d.gguf", WOOLLY_ERR_INVALID, "before begin_data");

    w = new_writer("d.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_F32, 1, ne), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_begin_data(w), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_write(w, data, sizeof data), WOOLLY_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(woolly_gguf_writer_errmsg(w), "more data written than"));
    ck_assert_int_eq(woolly_gguf_writer_close(w, err, sizeof err), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(access(tmp_path("d.gguf"), F_OK), -1);

    w = new_writer("d.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_F32, 1, ne), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "u", WOOLLY_TYPE_F32, 1, ne), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_begin_data(w), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_begin_data(w), WOOLLY_ERR_INVALID);
    ck_assert_int_eq(woolly_gguf_writer_close(w, err, sizeof err), WOOLLY_ERR_INVALID);

    w = new_writer("d.gguf");
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "t", WOOLLY_TYPE_F32, 1, ne), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_add_tensor(w, "u", WOOLLY_TYPE_F32, 1, ne), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_begin_data(w), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_write(w, data, 40), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_close(w, err, sizeof err), WOOLLY_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "tensor data missing from tensor 'u'"));
    ck_assert_int_eq(access(tmp_path("d.gguf"), F_OK), -1);

    /* Abandoned: the file goes. */
    w = new_writer("d.gguf");
    ck_assert_int_eq(access(tmp_path("d.gguf"), F_OK), 0);
    woolly_gguf_writer_free(w);
    ck_assert_int_eq(access(tmp_path("d.gguf"), F_OK), -1);
    woolly_gguf_writer_free(NULL);

    ck_assert_int_eq(woolly_gguf_writer_open(tmp_path("no/such/dir.gguf"), &w, err, sizeof err),
                     WOOLLY_ERR_IO);
    ck_assert_ptr_null(w);
    ck_assert_ptr_nonnull(strstr(err, strerror(ENOENT)));
}
END_TEST

START_TEST(writer_copies_every_kind_of_pair)
{
    struct img b = { 0 };
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_gguf *src, *src2, *copy;
    woolly_gguf_writer *w = new_writer("copy.gguf");
    woolly_gguf_type et;
    uint64_t count;

    header(&b, 3, 0, 1);
    nested_array(&b, "a.nested");
    src = open_img(&b);
    src2 = open_file(write_fixture(64, 4096));
    ck_assert_int_eq(woolly_gguf_writer_copy_kv(w, src, 0), WOOLLY_OK);
    for (size_t i = 0; i < woolly_gguf_kv_count(src2); i++)
        ck_assert_int_eq(woolly_gguf_writer_copy_kv(w, src2, i), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_writer_close(w, err, sizeof err), WOOLLY_OK);
    copy = open_file(tmp_path("copy.gguf"));
    ck_assert_uint_eq(woolly_gguf_kv_count(copy), 1 + woolly_gguf_kv_count(src2));
    ck_assert_int_eq(woolly_gguf_kv_array(copy, 0, &et, &count), WOOLLY_OK);
    ck_assert_int_eq(et, WOOLLY_GGUF_ARRAY);
    ck_assert_uint_eq(count, 2);
    ck_assert_uint_eq(woolly_gguf_alignment(copy), 64);   /* copied, and applied */
    ck_assert_uint_eq(woolly_gguf_data_offset(copy) % 64, 0);
    for (size_t k = 0; k < fx_n_scalars; k++)
        check_scalar(copy, &fx_scalars[k]);
    check_arrays(copy);

    w = new_writer("copy2.gguf");
    ck_assert_int_eq(woolly_gguf_writer_copy_kv(w, src, 1), WOOLLY_ERR_INVALID);
    woolly_gguf_writer_free(w);
    woolly_gguf_free(copy);
    woolly_gguf_free(src2);
    close_img(src, &b);
}
END_TEST

static Suite *gguf_suite(void)
{
    Suite *s = suite_create("gguf");
    TCase *tc = tcase_create("round trip");

    tcase_add_checked_fixture(tc, make_tmpdir, remove_tmpdir);
    tcase_add_test(tc, round_trip_every_type_and_alignment);
    tcase_add_test(tc, accessors_convert_or_refuse);
    tcase_add_test(tc, writer_follows_the_spec_byte_for_byte);
    tcase_add_test(tc, large_files_map_on_huge_page_boundaries);
    suite_add_tcase(s, tc);

    tc = tcase_create("damage");
    tcase_add_checked_fixture(tc, make_tmpdir, remove_tmpdir);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, truncated_at_every_byte);
    tcase_add_test(tc, random_corruptions_fail_cleanly_or_walk_safely);
    suite_add_tcase(s, tc);

    tc = tcase_create("validation");
    tcase_add_checked_fixture(tc, make_tmpdir, remove_tmpdir);
    tcase_add_test(tc, valid_minimal_images);
    tcase_add_test(tc, bad_magic);
    tcase_add_test(tc, unsupported_versions);
    tcase_add_test(tc, counts_that_cannot_fit);
    tcase_add_test(tc, strings_longer_than_the_file);
    tcase_add_test(tc, empty_names_and_nul_bytes);
    tcase_add_test(tc, dimension_counts);
    tcase_add_test(tc, zero_and_overflowing_dimensions);
    tcase_add_test(tc, rows_of_whole_blocks);
    tcase_add_test(tc, unknown_type_ids);
    tcase_add_test(tc, every_tensor_type_loads);
    tcase_add_test(tc, tensor_data_out_of_bounds);
    tcase_add_test(tc, misaligned_tensor_offsets);
    tcase_add_test(tc, overlapping_tensors);
    tcase_add_test(tc, duplicate_keys_and_names);
    tcase_add_test(tc, truncated_header_names_the_field);
    tcase_add_test(tc, alignment_rules);
    tcase_add_test(tc, bool_values_are_0_or_1);
    tcase_add_test(tc, nested_arrays_are_validated_and_skipped);
    tcase_add_test(tc, array_counts_that_cannot_fit);
    tcase_add_test(tc, io_errors_name_the_path);
    tcase_add_test(tc, large_file_is_mapped_not_read);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_add_checked_fixture(tc, make_tmpdir, remove_tmpdir);
    tcase_add_test(tc, writer_errors_stick);
    tcase_add_test(tc, writer_data_must_match_the_tensors);
    tcase_add_test(tc, writer_copies_every_kind_of_pair);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(gguf_suite());
}
