/*
 * woolly.h - the C interface of libwoolly, a library that runs large
 * language models stored as GGUF files on the CPU.
 *
 * Conventions (see woolly(3)):
 *  - Handles are opaque.  Every woolly_*_free() accepts NULL.
 *  - Every call that can fail returns a woolly_status; results come back
 *    through out-parameters.  woolly_strerror() names a status.  Calls that
 *    create a handle take an optional error buffer (WOOLLY_ERRBUF_SIZE bytes
 *    is always enough) that receives a message saying exactly what went
 *    wrong; calls on an existing handle leave that message in the handle.
 *  - Parameter structs begin with their own size and are initialised with
 *    woolly_*_params_init(&p, sizeof p); fields are only ever appended.
 *  - The library never prints and never exits.  Diagnostics go to a log
 *    callback, which is silent by default.
 *
 * Copyright (c) 2026 the woolly authors.  MIT licence, see COPYING.
 */
#ifndef WOOLLY_H
#define WOOLLY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ----------------------------------------------------------- */

#define WOOLLY_VERSION_MAJOR 0
#define WOOLLY_VERSION_MINOR 1
#define WOOLLY_VERSION_MICRO 0
#define WOOLLY_VERSION_STRING "0.1.0"
/* One number that compares: 0xMMmmuu. */
#define WOOLLY_VERSION_NUMBER \
    ((WOOLLY_VERSION_MAJOR << 16) | (WOOLLY_VERSION_MINOR << 8) | WOOLLY_VERSION_MICRO)

/* The version of the library actually linked, as "MAJOR.MINOR.MICRO". */
const char *woolly_version(void);
/* The same as WOOLLY_VERSION_NUMBER, but of the linked library. */
unsigned woolly_version_number(void);

/* ---- Status codes ------------------------------------------------------ */

typedef enum woolly_status {
    WOOLLY_OK = 0,
    WOOLLY_ERR_INVALID = 1,     /* an argument is out of its domain */
    WOOLLY_ERR_NOMEM = 2,       /* memory allocation failed or size impossible */
    WOOLLY_ERR_IO = 3,          /* a system call on a file failed */
    WOOLLY_ERR_FORMAT = 4,      /* a file is malformed */
    WOOLLY_ERR_UNSUPPORTED = 5, /* valid, but woolly cannot do it (yet) */
    WOOLLY_ERR_RANGE = 6,       /* an index or count beyond its limit (context full) */
    WOOLLY_ERR_INTERNAL = 7     /* a bug in woolly */
} woolly_status;

/* A short constant description of a status; never NULL. */
const char *woolly_strerror(woolly_status status);

/* Size of an error buffer that always holds a whole message. */
#define WOOLLY_ERRBUF_SIZE 512

/* ---- Logging ----------------------------------------------------------- */

typedef enum woolly_log_level {
    WOOLLY_LOG_ERROR = 0,
    WOOLLY_LOG_WARN = 1,
    WOOLLY_LOG_INFO = 2,
    WOOLLY_LOG_DEBUG = 3
} woolly_log_level;

typedef void (*woolly_log_fn)(woolly_log_level level, const char *message, void *user);

/* Install a log callback for the whole process (NULL: silence, the default).
 * Set it before other threads use the library. */
void woolly_log_set(woolly_log_fn fn, void *user);

/* ---- CPU features and kernels ----------------------------------------- */

/* Instruction sets, as bits.  A level includes the ones before it in its
 * architecture: AVX512 means AVX2 too, AMX means AVX512_BF16, VNNI, ... */
#define WOOLLY_ISA_AVX2        (1u << 0)  /* AVX2 + FMA + F16C */
#define WOOLLY_ISA_AVX512      (1u << 1)  /* AVX-512 F, BW, VL, DQ */
#define WOOLLY_ISA_AVX512_VNNI (1u << 2)
#define WOOLLY_ISA_AVX512_BF16 (1u << 3)
#define WOOLLY_ISA_AMX         (1u << 4)  /* AMX-TILE, INT8, BF16 */
#define WOOLLY_ISA_NEON        (1u << 8)
#define WOOLLY_ISA_DOTPROD     (1u << 9)

/* Sets whose kernels were compiled into this library. */
unsigned woolly_isa_compiled(void);
/* Sets this CPU and operating system support. */
unsigned woolly_isa_detected(void);
/* Sets the kernels in use: compiled & detected, capped by the WOOLLY_CPU
 * environment variable (scalar, avx2, avx512, vnni, bf16, amx, neon,
 * dotprod), read once. */
unsigned woolly_isa_active(void);
/* The lower-case name of one ISA bit ("avx2"), or NULL. */
const char *woolly_isa_name(unsigned isa_bit);
/* The name of the kernel level in use ("scalar", "avx512", ...). */
const char *woolly_kernel_level(void);
/* Nonzero when NAME is a value WOOLLY_CPU accepts (a level, "native" or
 * "auto"); unknown values are ignored by the library with a warning. */
int woolly_kernel_level_valid(const char *name);

/* ---- Tensor types ------------------------------------------------------ */

/* The element types of GGUF tensors, numbered as in the GGUF specification.
 * Block types store BLOCK_SIZE elements in BLOCK_BYTES bytes; the gaps in
 * the numbering are types the format has retired. */
typedef enum woolly_type {
    WOOLLY_TYPE_F32 = 0,
    WOOLLY_TYPE_F16 = 1,
    WOOLLY_TYPE_Q4_0 = 2,
    WOOLLY_TYPE_Q4_1 = 3,
    WOOLLY_TYPE_Q5_0 = 6,
    WOOLLY_TYPE_Q5_1 = 7,
    WOOLLY_TYPE_Q8_0 = 8,
    WOOLLY_TYPE_Q8_1 = 9,
    WOOLLY_TYPE_Q2_K = 10,
    WOOLLY_TYPE_Q3_K = 11,
    WOOLLY_TYPE_Q4_K = 12,
    WOOLLY_TYPE_Q5_K = 13,
    WOOLLY_TYPE_Q6_K = 14,
    WOOLLY_TYPE_Q8_K = 15,
    WOOLLY_TYPE_IQ2_XXS = 16,
    WOOLLY_TYPE_IQ2_XS = 17,
    WOOLLY_TYPE_IQ3_XXS = 18,
    WOOLLY_TYPE_IQ1_S = 19,
    WOOLLY_TYPE_IQ4_NL = 20,
    WOOLLY_TYPE_IQ3_S = 21,
    WOOLLY_TYPE_IQ2_S = 22,
    WOOLLY_TYPE_IQ4_XS = 23,
    WOOLLY_TYPE_I8 = 24,
    WOOLLY_TYPE_I16 = 25,
    WOOLLY_TYPE_I32 = 26,
    WOOLLY_TYPE_I64 = 27,
    WOOLLY_TYPE_F64 = 28,
    WOOLLY_TYPE_IQ1_M = 29,
    WOOLLY_TYPE_BF16 = 30,
    WOOLLY_TYPE_TQ1_0 = 34,
    WOOLLY_TYPE_TQ2_0 = 35,
    WOOLLY_TYPE_MXFP4 = 39
} woolly_type;

/* One more than the largest type number. */
#define WOOLLY_TYPE_COUNT 40

/* The lower-case name ("q4_k", "bf16"), or NULL for a number that is not a type. */
const char *woolly_type_name(woolly_type type);
/* The type of a name, case-insensitive; WOOLLY_ERR_INVALID when unknown. */
woolly_status woolly_type_from_name(const char *name, woolly_type *out);
/* Elements per block and bytes per block; 0 for a number that is not a type. */
size_t woolly_type_block_size(woolly_type type);
size_t woolly_type_block_bytes(woolly_type type);
/* Nonzero when woolly can compute with weights of this type. */
int woolly_type_supported(woolly_type type);

/* ---- GGUF files -------------------------------------------------------- */

/* ---- Models ------------------------------------------------------------ */

/* ---- Sessions ---------------------------------------------------------- */

/* ---- Tokenizer --------------------------------------------------------- */

/* ---- Sampling ---------------------------------------------------------- */

#ifdef __cplusplus
}
#endif

#endif /* WOOLLY_H */
