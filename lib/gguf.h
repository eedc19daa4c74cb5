/* gguf.h - GGUF facts shared by the reader (gguf.c) and the writer
 * (gguf-write.c) inside the library. */
#ifndef WOOLLY_GGUF_H
#define WOOLLY_GGUF_H

#include <stdint.h>

#include "woolly.h"

#define WL_GGUF_MAGIC "GGUF"
#define WL_GGUF_VERSION 3                /* what the writer produces */
#define WL_GGUF_DEFAULT_ALIGNMENT 32     /* when general.alignment is absent */
#define WL_GGUF_ALIGNMENT_KEY "general.alignment"
#define WL_GGUF_MAX_DIMS 4
/* ggml keeps tensor names in char[64], NUL included. */
#define WL_GGUF_MAX_TENSOR_NAME 63

/* Bytes of one scalar of value type TYPE; 0 for strings, arrays and
 * numbers that are not types. */
unsigned wl_gguf_scalar_size(uint32_t type);

/* Nonzero when ALIGN is a power of two the format accepts. */
static inline int wl_gguf_alignment_ok(uint64_t align)
{
    return align != 0 && align <= UINT32_MAX && (align & (align - 1)) == 0;
}

/* The encoded value of pair I as it lies in the file, after its type field
 * (for arrays: element type, count, elements), so that it can be copied
 * byte for byte.  0 on success, -1 when I is out of range. */
int wl_gguf_kv_raw(const woolly_gguf *gguf, size_t i, const uint8_t **raw, uint64_t *size);

#endif /* WOOLLY_GGUF_H */
