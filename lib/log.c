/* log.c - the process-wide log callback and small message helpers. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* Set once by the application, before threads use the library. */
static woolly_log_fn log_fn;
static void *log_user;

void woolly_log_set(woolly_log_fn fn, void *user)
{
    log_fn = fn;
    log_user = user;
}

void wl_log(woolly_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!log_fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fn(level, msg, log_user);
}

void wl_verrbuf(char *buf, size_t size, const char *fmt, va_list ap)
{
    if (!buf || size == 0)
        return;
    vsnprintf(buf, size, fmt, ap);
}

void wl_errbuf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    wl_verrbuf(buf, size, fmt, ap);
    va_end(ap);
}
