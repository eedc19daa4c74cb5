/* text.c - text the subcommands read and write: whole files, UTF-8, JSON strings. */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

char *cli_read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 1 << 16, n = 0;
    char *buf;
    int saved;

    if (!f)
        return NULL;
    buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n + 1 == cap) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb)
                free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    saved = ferror(f) ? (errno ? errno : EIO) : 0;
    if (f != stdin)
        fclose(f);
    if (buf && saved) {
        free(buf);
        buf = NULL;
    }
    if (!buf) {
        errno = saved ? saved : ENOMEM;
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

size_t cli_utf8_length(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3f);
    }
    /* No overlong forms, surrogates or code points past U+10FFFF. */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void cli_print_json_string(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;

    putchar('"');
    for (size_t k = 0; k < len;) {
        size_t n = cli_utf8_length(s + k, len - k);
        if (n == 0) {
            printf("\\ufffd");
            k++;
            continue;
        }
        if (s[k] == '"' || s[k] == '\\')
            printf("\\%c", s[k]);
        else if (s[k] == '\n')
            printf("\\n");
        else if (s[k] == '\t')
            printf("\\t");
        else if (s[k] == '\r')
            printf("\\r");
        else if (s[k] < 0x20 || s[k] == 0x7f)
            printf("\\u%04x", s[k]);
        else
            fwrite(s + k, 1, n, stdout);
        k += n;
    }
    putchar('"');
}
