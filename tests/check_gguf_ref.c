/* check_gguf_ref.c - round trips of the reference GGUF files: read each,
 * write a copy with the writer (every pair by copy_kv, tensor data
 * streamed in uneven pieces), read the copy back and compare everything.
 * The originals were written by llama.cpp's tools, so the copies must also
 * be the same bytes: the writer lays files out exactly as they do.
 * Skipped (77) without $WOOLLY_REF_DIR/models. */
#include <config.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"
#include "testutil.h"
#include "woolly.h"

static char out_path[] = "/tmp/check_gguf_ref.XXXXXX";

static woolly_gguf *open_or_fail(const char *path)
{
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_gguf *g = NULL;

    ck_assert_msg(woolly_gguf_open(path, &g, err, sizeof err) == WOOLLY_OK, "%s", err);
    return g;
}

/* Copy SRC to out_path: pairs by copy_kv, data in pieces of 1, 2, 4, ...
 * 65536 bytes, round again, so that pieces straddle tensors. */
static void write_copy(const woolly_gguf *src)
{
    char err[WOOLLY_ERRBUF_SIZE] = "";
    woolly_gguf_writer *w;
    woolly_gguf_tensor t;
    size_t piece = 1;

    ck_assert_msg(woolly_gguf_writer_open(out_path, &w, err, sizeof err) == WOOLLY_OK, "%s", err);
    for (size_t i = 0; i < woolly_gguf_kv_count(src); i++)
        woolly_gguf_writer_copy_kv(w, src, i);
    for (size_t i = 0; i < woolly_gguf_tensor_count(src); i++) {
        woolly_gguf_tensor_info(src, i, &t);
        woolly_gguf_writer_add_tensor(w, t.name, t.type, t.n_dims, t.ne);
    }
    woolly_gguf_writer_begin_data(w);
    for (size_t i = 0; i < woolly_gguf_tensor_count(src); i++) {
        const uint8_t *d;
        woolly_gguf_tensor_info(src, i, &t);
        d = t.data;
        for (uint64_t at = 0; at < t.size; at += piece, piece = piece >= 65536 ? 1 : piece * 2)
            woolly_gguf_writer_write(w, d + at, t.size - at < piece ? (size_t)(t.size - at) : piece);
    }
    ck_assert_msg(woolly_gguf_writer_close(w, err, sizeof err) == WOOLLY_OK, "%s", err);
}

static void compare_kv(const woolly_gguf *a, const woolly_gguf *b, size_t i)
{
    const uint8_t *ra, *rb;
    uint64_t na, nb;

    ck_assert_str_eq(woolly_gguf_kv_key(a, i), woolly_gguf_kv_key(b, i));
    ck_assert_int_eq(woolly_gguf_kv_type(a, i), woolly_gguf_kv_type(b, i));
    /* The encoded values hold everything: type, count, every element. */
    ck_assert_int_eq(wl_gguf_kv_raw(a, i, &ra, &na), 0);
    ck_assert_int_eq(wl_gguf_kv_raw(b, i, &rb, &nb), 0);
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(ra, rb, na) == 0);
}

static void compare_tensor(const woolly_gguf *a, const woolly_gguf *b, size_t i)
{
    woolly_gguf_tensor ta, tb;

    ck_assert_int_eq(woolly_gguf_tensor_info(a, i, &ta), WOOLLY_OK);
    ck_assert_int_eq(woolly_gguf_tensor_info(b, i, &tb), WOOLLY_OK);
    ck_assert_str_eq(ta.name, tb.name);
    ck_assert_int_eq(ta.type, tb.type);
    ck_assert_uint_eq(ta.n_dims, tb.n_dims);
    for (int d = 0; d < 4; d++)
        ck_assert_uint_eq(ta.ne[d], tb.ne[d]);
    ck_assert_uint_eq(ta.size, tb.size);
    ck_assert_msg(memcmp(ta.data, tb.data, ta.size) == 0, "tensor %s differs", ta.name);
}

/* The copy is byte for byte the file at PATH. */
static void compare_files(const char *path)
{
    FILE *a = fopen(path, "rb"), *b = fopen(out_path, "rb");
    char ba[65536], bb[65536];
    size_t na, nb;
    uint64_t at = 0;

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    do {
        na = fread(ba, 1, sizeof ba, a);
        nb = fread(bb, 1, sizeof bb, b);
        ck_assert_msg(na == nb && memcmp(ba, bb, na) == 0, "%s: the copy differs within bytes "
                      "%llu to %llu", path, (unsigned long long)at,
                      (unsigned long long)(at + sizeof ba));
        at += na;
    } while (na);
    fclose(a);
    fclose(b);
}

static void round_trip(const char *path)
{
    woolly_gguf *a = open_or_fail(path), *b;

    write_copy(a);
    b = open_or_fail(out_path);
    ck_assert_uint_eq(woolly_gguf_version(b), 3);
    ck_assert_uint_eq(woolly_gguf_alignment(a), woolly_gguf_alignment(b));
    ck_assert_uint_eq(woolly_gguf_kv_count(a), woolly_gguf_kv_count(b));
    ck_assert_uint_eq(woolly_gguf_tensor_count(a), woolly_gguf_tensor_count(b));
    for (size_t i = 0; i < woolly_gguf_kv_count(a); i++)
        compare_kv(a, b, i);
    for (size_t i = 0; i < woolly_gguf_tensor_count(a); i++)
        compare_tensor(a, b, i);
    compare_files(path);
    woolly_gguf_free(a);
    woolly_gguf_free(b);
}

/* Every .gguf in DIR under the reference directory; the count found. */
static int round_trip_dir(const char *sub)
{
    char dir[4096], path[4096 + 256];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(dir, sizeof dir, "%s/%s", tu_ref_dir(), sub);
    d = opendir(dir);
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".gguf") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        round_trip(path);
        n++;
    }
    closedir(d);
    return n;
}

static void make_out(void)
{
    int fd;

    strcpy(out_path, "/tmp/check_gguf_ref.XXXXXX");
    fd = mkstemp(out_path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void remove_out(void)
{
    unlink(out_path);
}

START_TEST(models_round_trip)
{
    ck_assert_int_gt(round_trip_dir("models"), 0);
}
END_TEST

START_TEST(vocabs_round_trip)
{
    ck_assert_int_gt(round_trip_dir("vocab"), 0);
}
END_TEST

int main(void)
{
    char models[4096];
    struct stat st;
    Suite *s;
    TCase *tc;

    if (!tu_ref_dir())
        return 77;
    snprintf(models, sizeof models, "%s/models", tu_ref_dir());
    if (stat(models, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("no reference models in %s: skipped\n", models);
        return 77;
    }
    s = suite_create("gguf_ref");
    tc = tcase_create("round trip");
    tcase_add_checked_fixture(tc, make_out, remove_out);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, models_round_trip);
    tcase_add_test(tc, vocabs_round_trip);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
