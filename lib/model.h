/* model.h - a loaded model inside the library: hyper-parameters and the
 * weights bound to their tensors (model.c). */
#ifndef WOOLLY_MODEL_H
#define WOOLLY_MODEL_H

#include <stdint.h>

#include "woolly.h"

/* A weight matrix as stored: ROWS rows of COLS elements of TYPE, row-major,
 * each row ROW_BYTES long (whole blocks).  y = W x takes x of COLS elements
 * to y of ROWS. */
typedef struct wl_matrix {
    woolly_type type;
    uint64_t rows, cols;
    size_t row_bytes;
    const uint8_t *data;
    /* The rows repacked for the kernels (wl_type_kernels' repack), which
     * the products read instead of DATA; NULL: not repacked. */
    const uint8_t *packed;
} wl_matrix;

enum wl_arch { WL_ARCH_LLAMA, WL_ARCH_QWEN2 };

enum wl_rope_style {
    WL_ROPE_ADJACENT, /* llama: rotate (x[2i], x[2i+1]) */
    WL_ROPE_HALVES    /* qwen2 (NEOX): rotate (x[i], x[i + d/2]) */
};

typedef struct wl_hparams {
    uint32_t n_vocab;
    uint32_t n_ctx_train;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head;
    uint32_t n_head_kv;
    uint32_t head_dim;    /* per head, for q, k and v */
    uint32_t n_ff;
    uint32_t n_rot;       /* rotated dimensions of each head */
    float norm_eps;
    float rope_base;
    float rope_freq_scale; /* 1 / linear scaling factor */
    enum wl_rope_style rope_style;
} wl_hparams;

typedef struct wl_layer {
    const float *attn_norm;            /* [n_embd] */
    wl_matrix wq, wk, wv, wo;          /* q: n_head*hd x n_embd, k/v: n_head_kv*hd x n_embd, o: n_embd x n_head*hd */
    const float *bq, *bk, *bv;         /* biases or NULL */
    const float *ffn_norm;             /* [n_embd] */
    wl_matrix w_gate, w_up, w_down;    /* gate/up: n_ff x n_embd, down: n_embd x n_ff */
} wl_layer;

struct woolly_model {
    enum wl_arch arch;
    char arch_name[32];
    wl_hparams hp;
    woolly_gguf *gguf;            /* owned; NULL for models built in memory */
    woolly_vocab *vocab;          /* owned; NULL when the file has none */
    void *owned;                  /* the file's bytes when read without mmap, or synthetic
                                   * weights (wl_alloc_huge), or NULL */
    size_t owned_size;            /* bytes at owned */
    float *f32_store;             /* small vectors converted to f32 at load (norms, biases) */
    uint8_t *packed_store;        /* repacked copies of mapped matrices (wl_alloc_huge), or NULL */
    size_t packed_size;           /* bytes at packed_store */
    wl_matrix tok_embd;           /* n_vocab x n_embd */
    const float *output_norm;     /* [n_embd] */
    wl_matrix output;             /* n_vocab x n_embd (tok_embd when tied) */
    wl_layer *layers;
    int n_threads;                /* default for sessions */
    uint64_t n_params;
    uint64_t n_bytes;             /* bytes of weights */
    uint64_t n_bytes_repacked;    /* of them, those repacked (repack.c) */
};

/* Bind a matrix to a tensor view: checks shape and type. */
woolly_status wl_matrix_init(wl_matrix *m, woolly_type type, uint64_t rows, uint64_t cols,
                             const void *data);

#endif /* WOOLLY_MODEL_H */
