/*
 * json-mini.h - just enough JSON for the tests to read the reference set's
 * small files: values are found lazily, by skipping over their neighbours.
 * Test-only; assumes NUL-terminated input.
 */
#ifndef WOOLLY_JSON_MINI_H
#define WOOLLY_JSON_MINI_H

#include <stdlib.h>
#include <string.h>

enum jm_type { JM_NULL, JM_BOOL, JM_NUMBER, JM_STRING, JM_ARRAY, JM_OBJECT };

struct jm_value {
    enum jm_type type;
    const char *p;  /* the value's first character */
};

static inline const char *jm_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* The character after the value at P, or NULL when it is malformed. */
static const char *jm_skip(const char *p)
{
    p = jm_ws(p);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && !*++p)
                return NULL;
        return *p ? p + 1 : NULL;
    }
    if (*p == '[' || *p == '{') {
        char close = *p == '[' ? ']' : '}';
        p = jm_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                p = jm_skip(p);
                if (!p || *(p = jm_ws(p)) != ':')
                    return NULL;
                p++;
            }
            if (!(p = jm_skip(p)))
                return NULL;
            p = jm_ws(p);
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
        char *end;
        strtod(p, &end);
        return end;
    }
    return NULL;
}

static inline void jm_at(const char *p, struct jm_value *v)
{
    v->p = jm_ws(p);
    switch (*v->p) {
    case '"': v->type = JM_STRING; break;
    case '[': v->type = JM_ARRAY; break;
    case '{': v->type = JM_OBJECT; break;
    case 't': case 'f': v->type = JM_BOOL; break;
    case 'n': v->type = JM_NULL; break;
    default: v->type = JM_NUMBER; break;
    }
}

/* 0 when TEXT is one well-formed JSON value. */
static inline int jm_parse(const char *text, struct jm_value *root)
{
    const char *end = jm_skip(text);
    if (!end || *jm_ws(end))
        return -1;
    jm_at(text, root);
    return 0;
}

/* Element I of an array. */
static inline int jm_index(const struct jm_value *arr, size_t i, struct jm_value *out)
{
    const char *p;

    if (arr->type != JM_ARRAY)
        return -1;
    p = jm_ws(arr->p + 1);
    if (*p == ']')
        return -1;
    for (size_t k = 0; k < i; k++) {
        p = jm_ws(jm_skip(p));
        if (*p != ',')
            return -1;
        p++;
    }
    jm_at(p, out);
    return 0;
}

static inline size_t jm_length(const struct jm_value *arr)
{
    struct jm_value v;
    size_t n = 0;
    while (jm_index(arr, n, &v) == 0)
        n++;
    return n;
}

/* A copy of the string at V (escapes decoded, \u to UTF-8; surrogate pairs
 * joined), its length in *LEN when LEN is not NULL. */
static char *jm_string(const struct jm_value *v, size_t *len)
{
    const char *p = v->p + 1;
    char *out = malloc(strlen(p) * 2 + 1), *o = out;

    if (!out || v->type != JM_STRING) {
        free(out);
        return NULL;
    }
    while (*p && *p != '"') {
        unsigned long c;
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        p++;
        switch (*p) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'u': {
            char hex[5] = { 0 };
            memcpy(hex, p + 1, 4);
            c = strtoul(hex, NULL, 16);
            p += 4;
            if (c >= 0xd800 && c < 0xdc00 && p[1] == '\\' && p[2] == 'u') {
                memcpy(hex, p + 3, 4);
                c = 0x10000 + ((c - 0xd800) << 10) + (strtoul(hex, NULL, 16) - 0xdc00);
                p += 6;
            }
            break;
        }
        default: c = (unsigned char)*p; break;
        }
        p++;
        if (c < 0x80) {
            *o++ = (char)c;
        } else if (c < 0x800) {
            *o++ = (char)(0xc0 | c >> 6);
            *o++ = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            *o++ = (char)(0xe0 | c >> 12);
            *o++ = (char)(0x80 | (c >> 6 & 0x3f));
            *o++ = (char)(0x80 | (c & 0x3f));
        } else {
            *o++ = (char)(0xf0 | c >> 18);
            *o++ = (char)(0x80 | (c >> 12 & 0x3f));
            *o++ = (char)(0x80 | (c >> 6 & 0x3f));
            *o++ = (char)(0x80 | (c & 0x3f));
        }
    }
    *o = '\0';
    if (len)
        *len = (size_t)(o - out);
    return out;
}

static inline double jm_number(const struct jm_value *v)
{
    return v->type == JM_NUMBER ? strtod(v->p, NULL) : 0.0;
}

/* The member KEY of an object. */
static inline int jm_member(const struct jm_value *obj, const char *key, struct jm_value *out)
{
    const char *p;
    size_t klen = strlen(key);

    if (obj->type != JM_OBJECT)
        return -1;
    p = jm_ws(obj->p + 1);
    while (*p == '"') {
        const char *kend = jm_skip(p);
        int match = kend && (size_t)(kend - p - 2) == klen && memcmp(p + 1, key, klen) == 0;
        p = jm_ws(kend);
        if (*p != ':')
            return -1;
        p = jm_ws(p + 1);
        if (match) {
            jm_at(p, out);
            return 0;
        }
        p = jm_ws(jm_skip(p));
        if (*p != ',')
            return -1;
        p = jm_ws(p + 1);
    }
    return -1;
}

#endif /* WOOLLY_JSON_MINI_H */
