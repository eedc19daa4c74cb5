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

/* ---- GGUF files -------------------------------------------------------- */

/* ---- Models ------------------------------------------------------------ */

/* ---- Sessions ---------------------------------------------------------- */

/* ---- Tokenizer --------------------------------------------------------- */

/* ---- Sampling ---------------------------------------------------------- */

#ifdef __cplusplus
}
#endif

#endif /* WOOLLY_H */
