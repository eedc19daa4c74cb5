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

/* ---- Quantization -------------------------------------------------------- */

/* The per-tensor mixes of llama.cpp's quantizer, besides one type for every
 * matrix. */
typedef enum woolly_quant_mix {
    WOOLLY_MIX_NONE = 0, /* every matrix in the params' type */
    WOOLLY_MIX_Q4_K_M,   /* Q4_K, with Q6_K for the output and part of attn_v/ffn_down */
    WOOLLY_MIX_Q5_K_M    /* Q5_K, likewise */
} woolly_quant_mix;

typedef struct woolly_quantize_params {
    size_t size;               /* sizeof(woolly_quantize_params), set by _init */
    woolly_type type;          /* the matrices' type (WOOLLY_MIX_NONE); default Q4_K */
    woolly_quant_mix mix;      /* default WOOLLY_MIX_NONE */
    int allow_requantize;      /* quantize tensors that are already quantized (lossy twice) */
    int n_threads;             /* 0: one per online CPU */
    /* Called after each tensor with the tensors done and the total; may be NULL. */
    void (*progress)(size_t done, size_t total, const char *tensor, void *user);
    void *progress_user;
} woolly_quantize_params;

void woolly_quantize_params_init(woolly_quantize_params *params, size_t size);
/* Read the GGUF model IN and write OUT with its matrices (the 2-D weight
 * tensors) quantized; vectors stay F32, metadata is copied and
 * general.file_type updated.  Tensors are streamed: memory use is about
 * that of the largest tensor. */
woolly_status woolly_quantize(const char *in, const char *out, const woolly_quantize_params *params,
                              char *errbuf, size_t errsize);

/* ---- Models ------------------------------------------------------------ */

/* A model: hyper-parameters and weights, immutable once loaded.  One model
 * may serve any number of sessions in any number of threads at once. */
typedef struct woolly_model woolly_model;

typedef struct woolly_model_params {
    size_t size;        /* sizeof(woolly_model_params), set by _init */
    int use_mmap;       /* 1 (default): map the file; 0: read it into memory
                         * at load (transparent huge pages where the kernel
                         * grants them; a private copy, always resident) */
    int n_threads;      /* default threads of its sessions; 0 (default): one per online CPU */
    int repack;         /* 1 (default): rearrange the matrices that this CPU's
                         * kernels read faster so (Q4_0, Q4_K, Q6_K with
                         * AVX512-VNNI or AMX), once at load, with n_threads
                         * threads: in place when read into memory, else into
                         * memory of the model's own (those pages of the file
                         * are then let go, and no longer shared with other
                         * processes); 0: use every weight where it lies.  The
                         * results are the same. */
} woolly_model_params;

void woolly_model_params_init(woolly_model_params *params, size_t size);

/* Load a GGUF model (architectures llama and qwen2; weights F32, F16, BF16
 * and the block types woolly_type_supported() accepts).  PARAMS may be
 * NULL for the defaults.  Weights are used where they lie in the file (or
 * in its copy in memory, with use_mmap 0), never converted at load; only
 * rearranged, with repack 1, where the kernels read them faster so. */
woolly_status woolly_model_load(const char *path, const woolly_model_params *params,
                                woolly_model **out, char *errbuf, size_t errsize);
void woolly_model_free(woolly_model *model);

/* What a model is; filled by woolly_model_get_info(), which sets every field
 * up to info->size (set it to sizeof *info first). */
typedef struct woolly_model_info {
    size_t size;
    const char *arch;       /* "llama", "qwen2"; owned by the model */
    uint32_t n_vocab;
    uint32_t n_ctx_train;   /* the context length it was trained for */
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head;
    uint32_t n_head_kv;
    uint32_t head_dim;
    uint32_t n_ff;
    float rope_freq_base;
    float norm_eps;
    uint64_t n_params;
    uint64_t n_bytes;       /* bytes of weights */
    uint64_t n_bytes_token; /* of them, those a generated token reads: all but
                               the other rows of the token embeddings (all,
                               where the output shares them) */
    uint64_t n_bytes_repacked; /* of them, those rearranged at load for the
                                  kernels (woolly_model_params.repack) */
} woolly_model_info;

woolly_status woolly_model_get_info(const woolly_model *model, woolly_model_info *info);

/* Synthetic models: a Llama-architecture model with random weights, built
 * in memory, to run the real kernels without a download.  Weights are
 * Xavier/Glorot-uniform, norm weights 1 with a little noise, generated in
 * parallel and the same for any number of threads. */
typedef struct woolly_synth_params {
    size_t size;          /* sizeof(woolly_synth_params), set by _init */
    uint32_t n_vocab;     /* default 512 */
    uint32_t n_embd;      /* default 256 */
    uint32_t n_layer;     /* default 4 */
    uint32_t n_head;      /* default 8 */
    uint32_t n_head_kv;   /* default 4 */
    uint32_t n_ctx;       /* training context, default 2048 */
    uint32_t n_ff;        /* default 768 */
    woolly_type type;     /* weight type, default F32 */
    uint64_t seed;        /* default 42 */
    int n_threads;        /* threads to generate with and default for sessions; 0: one per CPU */
    float rope_freq_base; /* default 10000 */
    float norm_eps;       /* default 1e-5 */
    const char *vocab_path; /* a GGUF file whose tokenizer to borrow (its size
                             * replaces n_vocab); NULL: the built-in one */
} woolly_synth_params;

void woolly_synth_params_init(woolly_synth_params *params, size_t size);
/* The bytes of weights such a model takes (0 when the sizes overflow). */
uint64_t woolly_synth_bytes(const woolly_synth_params *params);
/* Build the model.  Invalid sizes (zero, heads not dividing the embedding,
 * KV heads not dividing the heads, a weight type whose blocks do not divide
 * the rows) give WOOLLY_ERR_INVALID, and a model larger than the memory
 * available gives WOOLLY_ERR_NOMEM, before anything is allocated. */
woolly_status woolly_model_synth(const woolly_synth_params *params, woolly_model **out,
                                 char *errbuf, size_t errsize);
/* Write the same model, with its vocabulary, as a GGUF file at PATH, one
 * tensor at a time (memory use: the largest tensor).  llama.cpp loads it. */
woolly_status woolly_synth_write(const woolly_synth_params *params, const char *path,
                                 char *errbuf, size_t errsize);

/* ---- Sessions ---------------------------------------------------------- */

/* A session evaluates tokens with a model and keeps the attention cache
 * (KV cache) of what it has seen.  One thread at a time may use a session;
 * different sessions of one model may run in different threads at once.
 * Results are bit-identical whatever the number of threads and however the
 * tokens are split between woolly_session_eval() calls. */
typedef struct woolly_session woolly_session;

typedef struct woolly_session_params {
    size_t size;           /* sizeof(woolly_session_params), set by _init */
    uint32_t n_ctx;        /* context length; 0 (default): the model's, at most 4096 */
    uint32_t n_batch;      /* tokens computed together (default 64) */
    int n_threads;         /* 0 (default): the model's */
    woolly_type kv_type;   /* WOOLLY_TYPE_F32 (default) or WOOLLY_TYPE_F16 */
    int logits_all;        /* keep the logits of every position of an eval, not just the last */
} woolly_session_params;

void woolly_session_params_init(woolly_session_params *params, size_t size);

woolly_status woolly_session_new(const woolly_model *model, const woolly_session_params *params,
                                 woolly_session **out, char *errbuf, size_t errsize);
void woolly_session_free(woolly_session *session);

/* Append N tokens at the end of the context and compute.  WOOLLY_ERR_RANGE
 * when they do not fit in the context (nothing is evaluated then),
 * WOOLLY_ERR_INVALID for a token outside the vocabulary. */
woolly_status woolly_session_eval(woolly_session *session, const int32_t *tokens, size_t n);

/* The n_vocab logits after token I of the last eval (I < 0 counts from the
 * end: -1 is the last token).  Without logits_all only -1 (and n-1) exist;
 * NULL otherwise.  Valid until the next eval. */
const float *woolly_session_logits(const woolly_session *session, int64_t i);

/* Tokens in the context, and the context's size. */
uint32_t woolly_session_n_past(const woolly_session *session);
uint32_t woolly_session_n_ctx(const woolly_session *session);
/* Forget everything after the first N_PAST tokens (0: everything). */
woolly_status woolly_session_truncate(woolly_session *session, uint32_t n_past);
/* What went wrong in the last failed call on SESSION ("" when nothing did). */
const char *woolly_session_errmsg(const woolly_session *session);

/* What a session's threads have done since it was made, for judging the
 * cost of running in parallel; filled by woolly_session_get_stats(), which
 * sets every field up to stats->size (set it to sizeof *stats first).
 * All 0 with one thread. */
typedef struct woolly_session_stats {
    size_t size;
    uint64_t steps;        /* parallel steps run: matrix products, attention, ... */
    double step_seconds;   /* the calling thread's time in them */
    double wait_seconds;   /* of that, waiting at their ends for the other threads */
} woolly_session_stats;

woolly_status woolly_session_get_stats(const woolly_session *session, woolly_session_stats *stats);

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
/* The vocabulary of a model (loaded with it, or a synthetic model's), or
 * NULL when the model file has none.  Owned by the model. */
const woolly_vocab *woolly_model_vocab(const woolly_model *model);

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

/* Picks the next token from logits.  The filters run in llama.cpp's order:
 * repetition penalty, top-k, top-p, min-p, then temperature, then a draw
 * from what is left.  Temperature 0 is greedy (the arg-max, lowest id on
 * ties).  Same seed and same logits: same tokens. */
typedef struct woolly_sampler woolly_sampler;

typedef struct woolly_sampler_params {
    size_t size;            /* sizeof(woolly_sampler_params), set by _init */
    float temperature;      /* default 0.8; 0: greedy */
    int32_t top_k;          /* default 40; 0: off */
    float top_p;            /* default 0.95; 1: off */
    float min_p;            /* default 0.05; 0: off */
    float repeat_penalty;   /* default 1 (off); > 1 discourages repeats */
    int32_t repeat_last_n;  /* tokens the penalty looks back over, default 64 */
    uint64_t seed;          /* default 42 */
} woolly_sampler_params;

void woolly_sampler_params_init(woolly_sampler_params *params, size_t size);
/* WOOLLY_ERR_INVALID for a negative temperature or top-k, top-p or min-p
 * outside [0, 1], a penalty <= 0, or N_VOCAB < 1. */
woolly_status woolly_sampler_new(const woolly_sampler_params *params, int32_t n_vocab,
                                 woolly_sampler **out);
void woolly_sampler_free(woolly_sampler *sampler);
/* Choose a token from N_VOCAB logits (not modified). */
woolly_status woolly_sampler_sample(woolly_sampler *sampler, const float *logits, int32_t *token);
/* Record a token in the history the repetition penalty sees (prompt tokens
 * too; sampled tokens are recorded by woolly_sampler_sample). */
void woolly_sampler_accept(woolly_sampler *sampler, int32_t token);
/* Forget the history. */
void woolly_sampler_reset(woolly_sampler *sampler);

#ifdef __cplusplus
}
#endif

#endif /* WOOLLY_H */
