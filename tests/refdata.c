/* refdata.c - a minimal reader for the reference set's JSON and float files.
 * It understands exactly what manifest.json and CASE.json hold: objects,
 * arrays, strings (with escapes), numbers, true/false/null. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refdata.h"

char *ref_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) {
            buf[size] = '\0';
            if (len)
                *len = (size_t)size;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return p;
}

static void put_utf8(char **out, unsigned cp)
{
    char *o = *out;
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    *out = o;
}

/* Parse the string at P (at its opening quote) into a malloc'd copy. */
static const char *parse_string(const char *p, char **out)
{
    char *buf = malloc(strlen(p) + 1), *o = buf;

    p++;
    while (*p && *p != '"') {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        p++;
        switch (*p) {
        case 'n': *o++ = '\n'; p++; break;
        case 't': *o++ = '\t'; p++; break;
        case 'r': *o++ = '\r'; p++; break;
        case 'b': *o++ = '\b'; p++; break;
        case 'f': *o++ = '\f'; p++; break;
        case 'u': {
            unsigned cp = (unsigned)strtoul((char[5]){ p[1], p[2], p[3], p[4], 0 }, NULL, 16);
            p += 5;
            if (cp >= 0xd800 && cp < 0xdc00 && p[0] == '\\' && p[1] == 'u') {
                unsigned lo = (unsigned)strtoul((char[5]){ p[2], p[3], p[4], p[5], 0 }, NULL, 16);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }
            put_utf8(&o, cp);
            break;
        }
        default: *o++ = *p++; break;
        }
    }
    *o = '\0';
    *out = buf;
    return *p ? p + 1 : p;
}

/* Skip one value of any kind. */
static const char *skip_value(const char *p)
{
    p = skip_ws(p);
    if (*p == '"') {
        char *s;
        p = parse_string(p, &s);
        free(s);
        return p;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = skip_ws(p + 1);
        while (*p && *p != close) {
            p = skip_value(p);           /* key or value */
            p = skip_ws(p);
            if (*p == ':' || *p == ',')
                p = skip_ws(p + 1);
        }
        return *p ? p + 1 : p;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']')
        p++;
    return p;
}

/* In the object at P, find KEY; returns a pointer to its value or NULL. */
static const char *find_key(const char *p, const char *key)
{
    p = skip_ws(p);
    if (*p != '{')
        return NULL;
    p = skip_ws(p + 1);
    while (*p == '"') {
        char *k;
        p = skip_ws(parse_string(p, &k));
        if (*p == ':')
            p = skip_ws(p + 1);
        int match = strcmp(k, key) == 0;
        free(k);
        if (match)
            return p;
        p = skip_ws(skip_value(p));
        if (*p == ',')
            p = skip_ws(p + 1);
    }
    return NULL;
}

static void copy_string(const char *obj, const char *key, char *dst, size_t cap)
{
    const char *v = find_key(obj, key);
    char *s;

    dst[0] = '\0';
    if (!v || *v != '"')
        return;
    parse_string(v, &s);
    snprintf(dst, cap, "%s", s);
    free(s);
}

static double number(const char *obj, const char *key)
{
    const char *v = find_key(obj, key);
    return v ? strtod(v, NULL) : 0.0;
}

ref_case *ref_load_manifest(const char *dir, size_t *n)
{
    char path[1024];
    char *text, *prompt;
    const char *p;
    ref_case *cases = NULL;
    size_t count = 0;

    *n = 0;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (!(text = ref_read_file(path, NULL)))
        return NULL;
    p = find_key(text, "cases");
    if (!p || *p != '[') {
        free(text);
        return NULL;
    }
    p = skip_ws(p + 1);
    while (*p == '{') {
        ref_case *c;
        cases = realloc(cases, (count + 1) * sizeof *cases);
        c = &cases[count++];
        memset(c, 0, sizeof *c);
        copy_string(p, "case", c->name, sizeof c->name);
        copy_string(p, "model", c->model, sizeof c->model);
        copy_string(p, "kind", c->kind, sizeof c->kind);
        c->tol_max_abs = number(p, "tol_max_abs");
        c->n_vocab = (uint32_t)number(p, "n_vocab");
        c->n_prompt = (uint32_t)number(p, "n_prompt");
        const char *v = find_key(p, "prompt");
        if (v && *v == '"') {
            parse_string(v, &prompt);
            c->prompt = prompt;
        } else {
            c->prompt = calloc(1, 1);
        }
        p = skip_ws(skip_value(p));
        if (*p == ',')
            p = skip_ws(p + 1);
    }
    free(text);
    *n = count;
    return cases;
}

void ref_free_manifest(ref_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(cases[i].prompt);
    free(cases);
}

int32_t *ref_load_tokens(const char *dir, const char *name, size_t *n)
{
    char path[1024];
    char *text, *end;
    const char *p;
    int32_t *tok = NULL;
    size_t count = 0;

    snprintf(path, sizeof path, "%s/logits/%s.json", dir, name);
    if (!(text = ref_read_file(path, NULL)))
        return NULL;
    p = find_key(text, "tokens");
    if (p && *p == '[') {
        p = skip_ws(p + 1);
        while (*p && *p != ']') {
            long v = strtol(p, &end, 10);
            if (end == p)
                break;
            tok = realloc(tok, (count + 1) * sizeof *tok);
            tok[count++] = (int32_t)v;
            p = skip_ws(end);
            if (*p == ',')
                p = skip_ws(p + 1);
        }
    }
    free(text);
    *n = count;
    return tok;
}

float *ref_load_logits(const char *dir, const char *name, size_t n_rows, size_t n_vocab)
{
    char path[1024];
    size_t len;
    char *raw;

    snprintf(path, sizeof path, "%s/logits/%s.f32", dir, name);
    if (!(raw = ref_read_file(path, &len)))
        return NULL;
    if (len != n_rows * n_vocab * sizeof(float)) {
        free(raw);
        return NULL;
    }
    return (float *)(void *)raw;   /* little-endian floats, as this host */
}
