/* info.c - `woolly info`: what a GGUF file holds, as text or JSON. */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

/* The hyper-parameters shown, as keys after "ARCH.". */
static const char *const hparams[] = {
    "context_length", "embedding_length", "block_count", "feed_forward_length",
    "attention.head_count", "attention.head_count_kv", "attention.key_length",
    "attention.value_length", "rope.dimension_count", "rope.freq_base",
    "attention.layer_norm_rms_epsilon", "attention.layer_norm_epsilon",
    "expert_count", "expert_used_count", "vocab_size",
};
#define N_HPARAMS (sizeof hparams / sizeof hparams[0])

struct options {
    const char *path;
    int tensors;
    int json;
};

/* Per tensor type: how many tensors and bytes. */
struct type_stat {
    uint64_t count, bytes;
};

struct summary {
    const woolly_gguf *g;
    char arch[64];                          /* "" when absent */
    int64_t hparam_index[N_HPARAMS];        /* -1 when absent */
    int64_t vocab_size;                     /* -1 when absent */
    uint64_t parameters, tensor_bytes;
    struct type_stat types[WOOLLY_TYPE_COUNT];
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: woolly info [--tensors] [--json] MODEL\n"
            "Show what the GGUF file MODEL holds: architecture, name, format version,\n"
            "hyper-parameters, tokenizer, tensor types, parameter count and size.\n"
            "The file is validated completely; a malformed one is an error.\n"
            "\n"
            "Options:\n"
            "  --tensors   list every tensor: name, type, shape, offset, bytes\n"
            "  --json      print everything as one JSON object\n"
            "  -h, --help  show this help and exit\n"
            "\n"
            "See woolly-info(1).\n");
}

/* 0: run; -1: done (help shown); otherwise an exit status. */
static int parse_args(int argc, char **argv, struct options *o)
{
    int end_of_options = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!end_of_options && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            usage(stdout);
            return -1;
        } else if (!end_of_options && strcmp(a, "--tensors") == 0) {
            o->tensors = 1;
        } else if (!end_of_options && strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (!end_of_options && strcmp(a, "--") == 0) {
            end_of_options = 1;
        } else if (!end_of_options && a[0] == '-' && a[1]) {
            return cli_usage_error("info", "unknown option '%s'", a);
        } else if (o->path) {
            return cli_usage_error("info", "one MODEL only ('%s' is extra)", a);
        } else {
            o->path = a;
        }
    }
    if (!o->path)
        return cli_usage_error("info", "no MODEL given");
    return 0;
}

/* ---- gathering -------------------------------------------------------------- */

static int string_value(const woolly_gguf *g, const char *key, const char **s, size_t *len)
{
    int64_t i = woolly_gguf_find_key(g, key);

    return i >= 0 && woolly_gguf_kv_string(g, (size_t)i, s, len) == WOOLLY_OK;
}

static void summarize(const woolly_gguf *g, struct summary *sum)
{
    const char *s;
    size_t len;
    int64_t i;

    memset(sum, 0, sizeof *sum);
    sum->g = g;
    if (string_value(g, "general.architecture", &s, &len) && len < sizeof sum->arch &&
        !memchr(s, 0, len))
        memcpy(sum->arch, s, len);
    for (size_t k = 0; k < N_HPARAMS; k++) {
        char key[128];
        snprintf(key, sizeof key, "%s.%s", sum->arch, hparams[k]);
        sum->hparam_index[k] = sum->arch[0] ? woolly_gguf_find_key(g, key) : -1;
    }
    sum->vocab_size = -1;
    i = woolly_gguf_find_key(g, "tokenizer.ggml.tokens");
    if (i >= 0) {
        uint64_t n;
        if (woolly_gguf_kv_array(g, (size_t)i, NULL, &n) == WOOLLY_OK && n <= INT64_MAX)
            sum->vocab_size = (int64_t)n;
    }
    for (size_t t = 0; t < woolly_gguf_tensor_count(g); t++) {
        woolly_gguf_tensor info;
        woolly_gguf_tensor_info(g, t, &info);
        sum->parameters += info.n_elements;
        sum->tensor_bytes += info.size;
        sum->types[info.type].count++;
        sum->types[info.type].bytes += info.size;
    }
}

/* ---- text ---------------------------------------------------------------- */

/* Bytes from the file, with control characters shown as \xNN. */
static void print_text(const char *s, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

static const char *human(uint64_t bytes, char *buf, size_t size)
{
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    unsigned u = 0;

    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%" PRIu64 " bytes", bytes);
    else
        snprintf(buf, size, "%.2f %s", v, units[u]);
    return buf;
}

/* A scalar or string value, or a numeric array's elements, in text or JSON
 * (non-finite floats are null in JSON, which has no word for them). */

/* Element J of array pair I, or scalar pair I when J < 0. */
static int get_int(const woolly_gguf *g, size_t i, int64_t j, int64_t *v)
{
    return j < 0 ? woolly_gguf_kv_int(g, i, v) : woolly_gguf_kv_array_int(g, i, (uint64_t)j, v);
}

static int get_float(const woolly_gguf *g, size_t i, int64_t j, double *f)
{
    return j < 0 ? woolly_gguf_kv_float(g, i, f)
                 : woolly_gguf_kv_array_float(g, i, (uint64_t)j, f);
}

static void print_number(const woolly_gguf *g, size_t i, int64_t j, int json)
{
    woolly_gguf_type t = woolly_gguf_kv_type(g, i);
    int64_t v;
    uint64_t u;
    double f = NAN;

    if (t == WOOLLY_GGUF_ARRAY)
        woolly_gguf_kv_array(g, i, &t, NULL);
    if (t == WOOLLY_GGUF_FLOAT32 || t == WOOLLY_GGUF_FLOAT64) {
        get_float(g, i, j, &f);
        if (json && !isfinite(f))
            printf("null");
        else
            printf(json ? "%.9g" : "%g", f);
    } else if (t == WOOLLY_GGUF_BOOL && get_int(g, i, j, &v) == WOOLLY_OK) {
        printf("%s", v ? "true" : "false");
    } else if (get_int(g, i, j, &v) == WOOLLY_OK) {
        printf("%" PRId64, v);
    } else if (j < 0 && woolly_gguf_kv_uint(g, i, &u) == WOOLLY_OK) {
        printf("%" PRIu64, u);
    } else if (get_float(g, i, j, &f) == WOOLLY_OK) {
        printf("%.0f", f);  /* a uint64 array element past INT64_MAX */
    } else {
        printf("null");
    }
}

static void print_value(const woolly_gguf *g, size_t i, int json)
{
    woolly_gguf_type et;
    const char *s;
    size_t len;
    uint64_t n;

    if (woolly_gguf_kv_string(g, i, &s, &len) == WOOLLY_OK) {
        if (json)
            cli_print_json_string(s, len);
        else
            print_text(s, len);
    } else if (woolly_gguf_kv_array(g, i, &et, &n) == WOOLLY_OK) {
        if (et == WOOLLY_GGUF_STRING || et == WOOLLY_GGUF_ARRAY) {
            printf(json ? "null" : "(array of %" PRIu64 " %s)", n, woolly_gguf_type_name(et));
            return;
        }
        putchar('[');
        for (uint64_t j = 0; j < n && (json || j < 8); j++) {
            printf("%s", j ? ", " : "");
            print_number(g, i, (int64_t)j, json);
        }
        printf("%s]", !json && n > 8 ? ", ..." : "");
    } else {
        print_number(g, i, -1, json);
    }
}

static void print_label(const char *label)
{
    printf("%-18s", label);
}

static void print_key_line(const struct summary *sum, const char *label, const char *key)
{
    int64_t i = woolly_gguf_find_key(sum->g, key);

    if (i < 0)
        return;
    print_label(label);
    print_value(sum->g, (size_t)i, 0);
    putchar('\n');
}

static void print_shape(const woolly_gguf_tensor *t, const char *sep)
{
    for (uint32_t d = 0; d < t->n_dims; d++)
        printf("%s%" PRIu64, d ? sep : "", t->ne[d]);
}

static void print_tensor_table(const woolly_gguf *g)
{
    size_t width = 4;
    woolly_gguf_tensor t;

    for (size_t i = 0; i < woolly_gguf_tensor_count(g); i++) {
        woolly_gguf_tensor_info(g, i, &t);
        if (strlen(t.name) > width)
            width = strlen(t.name);
    }
    printf("\n%-*s  %-8s %-24s %12s %12s\n", (int)width, "NAME", "TYPE", "SHAPE", "OFFSET",
           "BYTES");
    for (size_t i = 0; i < woolly_gguf_tensor_count(g); i++) {
        char shape[96] = "";
        size_t n = 0;
        woolly_gguf_tensor_info(g, i, &t);
        for (uint32_t d = 0; d < t.n_dims; d++)
            n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%" PRIu64, d ? " x " : "",
                                  t.ne[d]);
        printf("%-*s  %-8s %-24s %12" PRIu64 " %12" PRIu64 "\n", (int)width, t.name,
               woolly_type_name(t.type), shape, t.offset, t.size);
    }
}

static void print_summary_text(const struct summary *sum, const struct options *o)
{
    const woolly_gguf *g = sum->g;
    char buf[32];

    print_label("file:");
    print_text(o->path, strlen(o->path));
    printf("\n");
    print_label("file size:");
    printf("%" PRIu64 " bytes (%s)\n", woolly_gguf_file_size(g),
           human(woolly_gguf_file_size(g), buf, sizeof buf));
    print_label("GGUF version:");
    printf("%" PRIu32 "\n", woolly_gguf_version(g));
    print_label("alignment:");
    printf("%" PRIu64 "\n", woolly_gguf_alignment(g));
    print_key_line(sum, "architecture:", "general.architecture");
    print_key_line(sum, "name:", "general.name");
    for (size_t k = 0; k < N_HPARAMS; k++) {
        if (sum->hparam_index[k] < 0)
            continue;
        printf("  %-34s ", hparams[k]);
        print_value(g, (size_t)sum->hparam_index[k], 0);
        putchar('\n');
    }
    print_key_line(sum, "tokenizer:", "tokenizer.ggml.model");
    print_key_line(sum, "pre-tokenizer:", "tokenizer.ggml.pre");
    if (sum->vocab_size >= 0) {
        print_label("vocab size:");
        printf("%" PRId64 "\n", sum->vocab_size);
    }
    print_label("metadata pairs:");
    printf("%zu\n", woolly_gguf_kv_count(g));
    print_label("tensors:");
    printf("%zu (%s)\n", woolly_gguf_tensor_count(g), human(sum->tensor_bytes, buf, sizeof buf));
    print_label("parameters:");
    printf("%" PRIu64 "\n", sum->parameters);
    if (woolly_gguf_tensor_count(g))
        printf("tensor types:\n");
    for (unsigned t = 0; t < WOOLLY_TYPE_COUNT; t++) {
        const struct type_stat *ts = &sum->types[t];
        if (!ts->count)
            continue;
        printf("  %-8s %6" PRIu64 " tensor%s %14" PRIu64 " bytes%s\n", woolly_type_name(t),
               ts->count, ts->count == 1 ? " " : "s", ts->bytes,
               woolly_type_supported(t) ? "" : "  (woolly cannot compute this type)");
    }
    if (o->tensors)
        print_tensor_table(g);
}

/* ---- JSON ------------------------------------------------------------------ */

static void print_json_key(const char *key, int *first)
{
    printf("%s\n  ", *first ? "" : ",");
    *first = 0;
    cli_print_json_string(key, strlen(key));
    printf(": ");
}

/* "NAME": the value of KEY, or null. */
static void print_json_kv(const woolly_gguf *g, const char *name, const char *key, int *first)
{
    int64_t i = woolly_gguf_find_key(g, key);

    print_json_key(name, first);
    if (i < 0)
        printf("null");
    else
        print_value(g, (size_t)i, 1);
}

static void print_json_hparams(const struct summary *sum, int *first)
{
    int any = 0;

    print_json_key("hyperparameters", first);
    putchar('{');
    for (size_t k = 0; k < N_HPARAMS; k++) {
        if (sum->hparam_index[k] < 0)
            continue;
        printf("%s\n    ", any++ ? "," : "");
        cli_print_json_string(hparams[k], strlen(hparams[k]));
        printf(": ");
        print_value(sum->g, (size_t)sum->hparam_index[k], 1);
    }
    printf("%s}", any ? "\n  " : "");
}

static void print_json_tokenizer(const struct summary *sum, int *first)
{
    int inner = 1;

    print_json_key("tokenizer", first);
    putchar('{');
    /* Indentation inside is one level deeper; keys are reused as is. */
    print_json_kv(sum->g, "model", "tokenizer.ggml.model", &inner);
    print_json_kv(sum->g, "pre", "tokenizer.ggml.pre", &inner);
    print_json_key("vocab_size", &inner);
    if (sum->vocab_size >= 0)
        printf("%" PRId64, sum->vocab_size);
    else
        printf("null");
    printf("\n  }");
}

static void print_json_types(const struct summary *sum, int *first)
{
    int any = 0;

    print_json_key("types", first);
    putchar('[');
    for (unsigned t = 0; t < WOOLLY_TYPE_COUNT; t++) {
        const struct type_stat *ts = &sum->types[t];
        if (!ts->count)
            continue;
        printf("%s\n    {\"type\": \"%s\", \"tensors\": %" PRIu64 ", \"bytes\": %" PRIu64
               ", \"supported\": %s}", any++ ? "," : "", woolly_type_name(t), ts->count,
               ts->bytes, woolly_type_supported(t) ? "true" : "false");
    }
    printf("%s]", any ? "\n  " : "");
}

static void print_json_tensors(const woolly_gguf *g, int *first)
{
    woolly_gguf_tensor t;

    print_json_key("tensors", first);
    putchar('[');
    for (size_t i = 0; i < woolly_gguf_tensor_count(g); i++) {
        woolly_gguf_tensor_info(g, i, &t);
        printf("%s\n    {\"name\": ", i ? "," : "");
        cli_print_json_string(t.name, strlen(t.name));
        printf(", \"type\": \"%s\", \"shape\": [", woolly_type_name(t.type));
        print_shape(&t, ", ");
        printf("], \"offset\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", t.offset, t.size);
    }
    printf("%s]", woolly_gguf_tensor_count(g) ? "\n  " : "");
}

static void print_summary_json(const struct summary *sum, const struct options *o)
{
    const woolly_gguf *g = sum->g;
    int first = 1;

    putchar('{');
    print_json_key("file", &first);
    cli_print_json_string(o->path, strlen(o->path));
    print_json_key("file_size", &first);
    printf("%" PRIu64, woolly_gguf_file_size(g));
    print_json_key("gguf_version", &first);
    printf("%" PRIu32, woolly_gguf_version(g));
    print_json_key("alignment", &first);
    printf("%" PRIu64, woolly_gguf_alignment(g));
    print_json_kv(g, "architecture", "general.architecture", &first);
    print_json_kv(g, "name", "general.name", &first);
    print_json_hparams(sum, &first);
    print_json_tokenizer(sum, &first);
    print_json_key("metadata_count", &first);
    printf("%zu", woolly_gguf_kv_count(g));
    print_json_key("tensor_count", &first);
    printf("%zu", woolly_gguf_tensor_count(g));
    print_json_key("tensor_bytes", &first);
    printf("%" PRIu64, sum->tensor_bytes);
    print_json_key("parameters", &first);
    printf("%" PRIu64, sum->parameters);
    print_json_types(sum, &first);
    if (o->tensors)
        print_json_tensors(g, &first);
    printf("\n}\n");
}

int cmd_info(int argc, char **argv)
{
    struct options o = { 0 };
    char err[WOOLLY_ERRBUF_SIZE];
    struct summary sum;
    woolly_gguf *g;
    int rc = parse_args(argc, argv, &o);

    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    /* The library's message starts with the path. */
    if (woolly_gguf_open(o.path, &g, err, sizeof err) != WOOLLY_OK)
        return cli_error("info", "%s", err);
    summarize(g, &sum);
    if (o.json)
        print_summary_json(&sum, &o);
    else
        print_summary_text(&sum, &o);
    woolly_gguf_free(g);
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_error("info", "cannot write the output");
    return EXIT_OK;
}
