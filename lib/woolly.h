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

/* A GGUF file, mapped read-only and validated when opened; tensor data is
 * never read or copied by the reader.  Immutable once open: any number of
 * threads may read it at once. */
typedef struct woolly_gguf woolly_gguf;

/* The value types of GGUF metadata, numbered as in the specification. */
typedef enum woolly_gguf_type {
    WOOLLY_GGUF_UINT8 = 0,
    WOOLLY_GGUF_INT8 = 1,
    WOOLLY_GGUF_UINT16 = 2,
    WOOLLY_GGUF_INT16 = 3,
    WOOLLY_GGUF_UINT32 = 4,
    WOOLLY_GGUF_INT32 = 5,
    WOOLLY_GGUF_FLOAT32 = 6,
    WOOLLY_GGUF_BOOL = 7,
    WOOLLY_GGUF_STRING = 8,
    WOOLLY_GGUF_ARRAY = 9,
    WOOLLY_GGUF_UINT64 = 10,
    WOOLLY_GGUF_INT64 = 11,
    WOOLLY_GGUF_FLOAT64 = 12
} woolly_gguf_type;

/* The lower-case name of a value type ("uint32", "array"), or NULL. */
const char *woolly_gguf_type_name(woolly_gguf_type type);

/* Open and validate PATH.  On failure ERRBUF (may be NULL) says which field
 * or tensor is wrong, at what offset, and what was expected, after the path
 * ("PATH: tensor 3 'x' at offset 1234: ...").  WOOLLY_ERR_IO when the file
 * cannot be read, WOOLLY_ERR_FORMAT when it is malformed (or empty),
 * WOOLLY_ERR_UNSUPPORTED for GGUF version 1, later versions and big-endian
 * files.  A file whose tensors woolly cannot compute still opens. */
woolly_status woolly_gguf_open(const char *path, woolly_gguf **out, char *errbuf, size_t errsize);
/* The same for a GGUF image in memory, which is not copied and must outlive
 * the handle. */
woolly_status woolly_gguf_open_memory(const void *data, size_t size, woolly_gguf **out,
                                      char *errbuf, size_t errsize);
void woolly_gguf_free(woolly_gguf *gguf);

uint32_t woolly_gguf_version(const woolly_gguf *gguf);
uint64_t woolly_gguf_file_size(const woolly_gguf *gguf);
/* general.alignment, 32 when the file does not set it. */
uint64_t woolly_gguf_alignment(const woolly_gguf *gguf);
/* Where the tensor data section starts in the file. */
uint64_t woolly_gguf_data_offset(const woolly_gguf *gguf);

/* Metadata: key/value pairs in file order, 0 <= i < woolly_gguf_kv_count(). */
size_t woolly_gguf_kv_count(const woolly_gguf *gguf);
/* The index of KEY, or -1 when absent. */
int64_t woolly_gguf_find_key(const woolly_gguf *gguf, const char *key);
/* The key of pair I (NUL-terminated), or NULL when I is out of range. */
const char *woolly_gguf_kv_key(const woolly_gguf *gguf, size_t i);
/* The type of pair I, or (woolly_gguf_type)-1 when I is out of range. */
woolly_gguf_type woolly_gguf_kv_type(const woolly_gguf *gguf, size_t i);

/* Scalar values.  _int accepts every integer type (and bool) whose value
 * fits in int64_t; _uint every integer type whose value is >= 0; _float
 * the float types and the integers; otherwise WOOLLY_ERR_INVALID. */
woolly_status woolly_gguf_kv_int(const woolly_gguf *gguf, size_t i, int64_t *out);
woolly_status woolly_gguf_kv_uint(const woolly_gguf *gguf, size_t i, uint64_t *out);
woolly_status woolly_gguf_kv_float(const woolly_gguf *gguf, size_t i, double *out);
woolly_status woolly_gguf_kv_bool(const woolly_gguf *gguf, size_t i, int *out);
/* A string value: points into the mapped file, LEN bytes, not NUL-terminated. */
woolly_status woolly_gguf_kv_string(const woolly_gguf *gguf, size_t i, const char **str, size_t *len);

/* Arrays: the element type and count of pair I (WOOLLY_ERR_INVALID when
 * it is not an array), then element J by the same conversions as above
 * (WOOLLY_ERR_RANGE when J >= count; WOOLLY_ERR_INVALID for the elements
 * of an array of arrays, which are validated but not served). */
woolly_status woolly_gguf_kv_array(const woolly_gguf *gguf, size_t i, woolly_gguf_type *elem_type,
                                   uint64_t *count);
woolly_status woolly_gguf_kv_array_int(const woolly_gguf *gguf, size_t i, uint64_t j, int64_t *out);
woolly_status woolly_gguf_kv_array_float(const woolly_gguf *gguf, size_t i, uint64_t j, double *out);
woolly_status woolly_gguf_kv_array_string(const woolly_gguf *gguf, size_t i, uint64_t j,
                                          const char **str, size_t *len);
/* The packed little-endian elements of a numeric array, in the mapped file
 * (not aligned), or NULL for arrays of strings or arrays. */
const void *woolly_gguf_kv_array_data(const woolly_gguf *gguf, size_t i);

/* Tensors, in file order. */
typedef struct woolly_gguf_tensor {
    const char *name;     /* NUL-terminated */
    woolly_type type;
    uint32_t n_dims;      /* 1 to 4 */
    uint64_t ne[4];       /* elements per dimension, ne[0] contiguous; 1 past n_dims */
    uint64_t n_elements;
    uint64_t offset;      /* from the start of the data section */
    uint64_t size;        /* bytes */
    const void *data;     /* in the mapped file */
} woolly_gguf_tensor;

size_t woolly_gguf_tensor_count(const woolly_gguf *gguf);
/* The index of the tensor called NAME, or -1 when absent. */
int64_t woolly_gguf_find_tensor(const woolly_gguf *gguf, const char *name);
/* WOOLLY_ERR_RANGE when I >= woolly_gguf_tensor_count(). */
woolly_status woolly_gguf_tensor_info(const woolly_gguf *gguf, size_t i, woolly_gguf_tensor *out);

/* Writing GGUF version 3, streaming: set the metadata, declare every tensor,
 * call woolly_gguf_writer_begin_data(), then write each tensor's bytes in
 * declaration order, in as many pieces as suits (padding is added), and
 * close.  Memory use does not grow with the tensor data.  Errors stick: once
 * a call fails, later calls return the same status and
 * woolly_gguf_writer_errmsg() says what went wrong. */
typedef struct woolly_gguf_writer woolly_gguf_writer;

/* PATH is created (or truncated) at once and removed again if writing
 * fails or is abandoned. */
woolly_status woolly_gguf_writer_open(const char *path, woolly_gguf_writer **out,
                                      char *errbuf, size_t errsize);
/* Scalar metadata; TYPE must be a numeric or bool type and VALUE fit it. */
woolly_status woolly_gguf_writer_set_int(woolly_gguf_writer *w, const char *key,
                                         woolly_gguf_type type, int64_t value);
woolly_status woolly_gguf_writer_set_uint(woolly_gguf_writer *w, const char *key,
                                          woolly_gguf_type type, uint64_t value);
woolly_status woolly_gguf_writer_set_float(woolly_gguf_writer *w, const char *key,
                                           woolly_gguf_type type, double value);
woolly_status woolly_gguf_writer_set_string(woolly_gguf_writer *w, const char *key,
                                            const char *str, size_t len);
/* A numeric array: COUNT packed elements of ELEM_TYPE in host order. */
woolly_status woolly_gguf_writer_set_array(woolly_gguf_writer *w, const char *key,
                                           woolly_gguf_type elem_type, const void *data,
                                           uint64_t count);
/* An array of strings; LENS may be NULL for NUL-terminated strings. */
woolly_status woolly_gguf_writer_set_array_string(woolly_gguf_writer *w, const char *key,
                                                  const char *const *strs, const size_t *lens,
                                                  uint64_t count);
/* Copy pair I of SRC, whatever its type (arrays of arrays included). */
woolly_status woolly_gguf_writer_copy_kv(woolly_gguf_writer *w, const woolly_gguf *src, size_t i);
/* Keys and tensor names must be unique and not empty; tensor names at most
 * 63 bytes (what llama.cpp holds); 1 to 4 nonzero dimensions, rows (NE[0])
 * whole blocks of TYPE.  Setting general.alignment (a uint32 power of two)
 * changes the padding; the default is 32. */
woolly_status woolly_gguf_writer_add_tensor(woolly_gguf_writer *w, const char *name,
                                            woolly_type type, uint32_t n_dims,
                                            const uint64_t *ne);
woolly_status woolly_gguf_writer_begin_data(woolly_gguf_writer *w);
woolly_status woolly_gguf_writer_write(woolly_gguf_writer *w, const void *data, size_t size);
/* Finish the file; fails if tensor data is missing.  Frees W either way. */
woolly_status woolly_gguf_writer_close(woolly_gguf_writer *w, char *errbuf, size_t errsize);
/* Abandon the file (it is removed) and free W.  Accepts NULL. */
void woolly_gguf_writer_free(woolly_gguf_writer *w);
const char *woolly_gguf_writer_errmsg(const woolly_gguf_writer *w);

/* ---- Models ------------------------------------------------------------ */

/* ---- Sessions ---------------------------------------------------------- */

/* ---- Tokenizer --------------------------------------------------------- */

/* A vocabulary and its tokenizer (SentencePiece or byte-level BPE), built
 * from a GGUF file's tokenizer.ggml.* metadata.  Tokenizes exactly as
 * llama.cpp does.  Immutable once loaded: any number of threads may use it
 * at once. */
typedef struct woolly_vocab woolly_vocab;

/* Read the vocabulary of GGUF (a model, or a vocab-only file).  The
 * vocabulary copies what it needs: GGUF may be freed afterwards.
 * WOOLLY_ERR_UNSUPPORTED for a tokenizer model or pre-tokenizer woolly does
 * not know (ERRBUF names it), WOOLLY_ERR_FORMAT for inconsistent metadata. */
woolly_status woolly_vocab_load(const woolly_gguf *gguf, woolly_vocab **out, char *errbuf,
                                size_t errsize);
void woolly_vocab_free(woolly_vocab *v);

int32_t woolly_vocab_n_tokens(const woolly_vocab *v);
/* Special tokens: the id, or -1 when the vocabulary has none. */
int32_t woolly_vocab_bos(const woolly_vocab *v);
int32_t woolly_vocab_eos(const woolly_vocab *v);
int32_t woolly_vocab_unk(const woolly_vocab *v);
int32_t woolly_vocab_pad(const woolly_vocab *v);
/* Nonzero when TOKEN ends generation (end of sequence, of turn, ...). */
int woolly_vocab_is_eog(const woolly_vocab *v, int32_t token);
/* The text of TOKEN as stored in the vocabulary (NUL-terminated), or NULL
 * when TOKEN is out of range. */
const char *woolly_vocab_token_text(const woolly_vocab *v, int32_t token);

/* Flags of woolly_tokenize(). */
#define WOOLLY_TOKENIZE_ADD_SPECIAL   1u  /* add BOS/EOS as the vocabulary says */
#define WOOLLY_TOKENIZE_PARSE_SPECIAL 2u  /* recognise control tokens written in the text */

/* Tokenize the LEN bytes at TEXT (any bytes: invalid UTF-8 is replaced by
 * U+FFFD as llama.cpp does).  Writes at most CAP ids to TOKENS (which may be
 * NULL when CAP is 0) and sets *N_TOKENS to the number of tokens of the
 * whole text; WOOLLY_ERR_RANGE when that is more than CAP. */
woolly_status woolly_tokenize(const woolly_vocab *v, const char *text, size_t len, unsigned flags,
                              int32_t *tokens, size_t cap, size_t *n_tokens);

/* Flags of woolly_token_to_piece(). */
#define WOOLLY_PIECE_SPECIAL 1u  /* render control and unknown tokens as their text */

/* The bytes TOKEN stands for: byte tokens as their byte, SentencePiece's
 * U+2581 as a space, byte-level BPE decoded to the original bytes.  Control
 * and unknown tokens give no bytes unless FLAGS has WOOLLY_PIECE_SPECIAL.
 * Not NUL-terminated.  *LEN is the length; WOOLLY_ERR_RANGE when it is more
 * than CAP, WOOLLY_ERR_INVALID when TOKEN is out of range. */
woolly_status woolly_token_to_piece(const woolly_vocab *v, int32_t token, unsigned flags, char *buf,
                                    size_t cap, size_t *len);

/* A streaming detokenizer: turns tokens into text one at a time and hands
 * out only whole UTF-8 characters, holding back the bytes of a character
 * that later tokens complete.  Bytes that can never form a valid character
 * are passed through as they are.  One thread at a time. */
typedef struct woolly_detokenizer woolly_detokenizer;

woolly_status woolly_detokenizer_new(const woolly_vocab *v, woolly_detokenizer **out);
/* Add TOKEN; writes the text that is now complete to BUF and its length to
 * *LEN.  WOOLLY_ERR_RANGE (nothing consumed, *LEN = the size needed) when
 * CAP is too small; 4 bytes more than the longest piece is always enough. */
woolly_status woolly_detokenizer_push(woolly_detokenizer *d, int32_t token, char *buf, size_t cap,
                                      size_t *len);
/* Hand out what is held back (an incomplete character, as its bytes) and
 * start afresh. */
woolly_status woolly_detokenizer_flush(woolly_detokenizer *d, char *buf, size_t cap, size_t *len);
void woolly_detokenizer_free(woolly_detokenizer *d);

/* ---- Sampling ---------------------------------------------------------- */

#ifdef __cplusplus
}
#endif

#endif /* WOOLLY_H */
