/* types.h - tensor type traits inside the library (types.c). */
#ifndef WOOLLY_TYPES_H
#define WOOLLY_TYPES_H

#include <stdint.h>

#include "woolly.h"

struct wl_type_traits {
    const char *name;
    uint32_t block_size;  /* elements per block */
    uint32_t block_bytes; /* bytes per block */
};

/* The traits of a type number, or NULL when the number is not a type. */
const struct wl_type_traits *wl_type_traits(uint32_t type);

/* Bytes of N elements of TYPE: 0 on success, 1 when N is not a whole number
 * of blocks, the type is unknown or the size overflows. */
int wl_row_bytes(uint32_t type, uint64_t n, uint64_t *out);

#endif /* WOOLLY_TYPES_H */
