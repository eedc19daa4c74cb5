/* status.c - version and status codes. */
#include <config.h>

#include "woolly.h"

const char *woolly_version(void)
{
    return WOOLLY_VERSION_STRING;
}

unsigned woolly_version_number(void)
{
    return WOOLLY_VERSION_NUMBER;
}

const char *woolly_strerror(woolly_status status)
{
    switch (status) {
    case WOOLLY_OK: return "success";
    case WOOLLY_ERR_INVALID: return "invalid argument";
    case WOOLLY_ERR_NOMEM: return "out of memory";
    case WOOLLY_ERR_IO: return "input/output error";
    case WOOLLY_ERR_FORMAT: return "malformed file";
    case WOOLLY_ERR_UNSUPPORTED: return "not supported";
    case WOOLLY_ERR_RANGE: return "out of range";
    case WOOLLY_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}
