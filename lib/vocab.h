/*
 * vocab.h - the vocabulary shared by vocab.c (loading), tokenizer.c (special
 * tokens, the public calls), tokenizer-spm.c and tokenizer-bpe.c.  Internal.
 */
#ifndef WOOLLY_VOCAB_H
#define WOOLLY_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

enum wl_vocab_type { WL_VOCAB_SPM = 1, WL_VOCAB_BPE = 2 };

/* tokenizer.ggml.token_type values. */
enum wl_token_type {
    WL_TOKTYPE_UNDEFINED = 0,
    WL_TOKTYPE_NORMAL = 1,
    WL_TOKTYPE_UNKNOWN = 2,
    WL_TOKTYPE_CONTROL = 3,
    WL_TOKTYPE_USER_DEFINED = 4,
    WL_TOKTYPE_UNUSED = 5,
    WL_TOKTYPE_BYTE = 6
};

/* Token attributes, as llama.cpp derives them from the token type. */
enum wl_token_attr {
    WL_ATTR_UNKNOWN = 1u << 0,
    WL_ATTR_UNUSED = 1u << 1,
    WL_ATTR_NORMAL = 1u << 2,
    WL_ATTR_CONTROL = 1u << 3,
    WL_ATTR_USER_DEFINED = 1u << 4,
    WL_ATTR_BYTE = 1u << 5,
    WL_ATTR_LSTRIP = 1u << 7,
    WL_ATTR_RSTRIP = 1u << 8
};

/* Special token roles: GGUF keys tokenizer.ggml.<name>_token_id. */
enum wl_special {
    WL_SP_BOS, WL_SP_EOS, WL_SP_EOT, WL_SP_EOM, WL_SP_UNK, WL_SP_SEP, WL_SP_PAD, WL_SP_MASK,
    WL_SP_FIM_PRE, WL_SP_FIM_SUF, WL_SP_FIM_MID, WL_SP_FIM_PAD, WL_SP_FIM_REP, WL_SP_FIM_SEP,
    WL_SP_COUNT
};

/* An id that the metadata does not set. */
#define WL_ID_UNSET INT64_MIN

/* Everything a vocabulary is built from, as plain arrays (the GGUF loader
 * fills it from metadata; tests fill it by hand).  Nothing is kept: the
 * vocabulary copies what it needs. */
struct wl_vocab_init {
    enum wl_vocab_type type;
    size_t n_tokens;
    const char *const *texts;   /* N_TOKENS strings */
    const size_t *lens;         /* their lengths, or NULL: NUL-terminated */
    const float *scores;        /* or NULL: all 0 */
    const int32_t *types;       /* enum wl_token_type, or NULL: all normal */
    size_t n_merges;            /* BPE: "left right" strings, rank = index */
    const char *const *merges;
    const size_t *merge_lens;   /* or NULL */
    const char *pre;            /* pre-tokenizer name (BPE), or NULL: "default" */
    const char *name;           /* general.name, or NULL */
    int64_t ids[WL_SP_COUNT];   /* WL_ID_UNSET where not given */
    int add_bos, add_eos, add_space_prefix;  /* -1 where not given */
};

/* Set every optional field of INIT to "not given". */
void wl_vocab_init_defaults(struct wl_vocab_init *init);
/* Build a vocabulary from INIT. */
woolly_status wl_vocab_build(const struct wl_vocab_init *init, woolly_vocab **out, char *errbuf,
                             size_t errsize);

struct wl_token {
    const char *text;   /* NUL-terminated, in the vocabulary's arena */
    uint32_t len;
    uint32_t attr;      /* enum wl_token_attr */
    float score;
    uint32_t piece_off; /* the decoded piece, in vocab->pieces */
    uint32_t piece_len;
};

/* A compiled pre-tokenizer (tokenizer-bpe.c). */
struct wl_pretok;

struct woolly_vocab {
    enum wl_vocab_type type;
    int32_t n_tokens;
    struct wl_token *tokens;
    char *arena;                /* token texts */
    char *pieces;               /* decoded pieces */

    /* text -> id: open addressing, slots hold id + 1, 0 = empty */
    uint32_t *map;
    size_t map_mask;

    int32_t ids[WL_SP_COUNT];   /* -1 = none */
    int32_t *eog;               /* sorted */
    size_t n_eog;
    int add_bos, add_eos, add_space_prefix, ignore_merges;

    /* tokens that the text is split on before tokenizing (control,
     * user-defined, unknown), longest text first; to find them, the
     * positions in SPECIAL of those of two bytes or more by their first two
     * bytes (SPECIAL_BY2[SPECIAL_AT[k] .. SPECIAL_AT[k + 1]] for the bytes
     * k >> 8, k & 255), and of the one-byte ones by their byte (-1: none) */
    int32_t *special;
    size_t n_special;
    uint32_t *special_at;
    uint32_t *special_by2;
    int32_t special_by1[256];

    /* SentencePiece: the token of each byte (<0xXX>), -1 when none */
    int32_t byte_token[256];
    /* SentencePiece: no token has U+2581 after another character, so no
     * merge crosses into a word and words can be merged one at a time */
    int spm_words_apart;

    /* BPE: merge ranks and the pre-tokenizer */
    struct wl_merge *merges;
    size_t merge_mask;
    char *merge_arena;
    struct wl_pretok *pretok;
};

struct wl_merge {
    const char *text;   /* "left right" */
    uint32_t left_len;  /* bytes of left */
    uint32_t right_len;
    int32_t rank;       /* -1 = empty slot */
};

/* BUF (of *CAP elements of SIZE bytes) grown to hold N, or NULL (BUF left
 * as it is) when memory runs out (tokenizer.c). */
void *wl_grow(void *buf, size_t *cap, size_t n, size_t size);

/* A growable list of token ids. */
struct wl_tokbuf {
    int32_t *v;
    size_t n, cap;
};
woolly_status wl_tokbuf_push(struct wl_tokbuf *b, int32_t id);

/* Both tokenizers cut a text into UTF-8 characters, then merge the adjacent
 * pair that ranks best, again and again, until no pair may merge
 * (tokenizer.c). */
struct wl_symbol {
    int prev, next;     /* -1 at the ends */
    size_t off, n;      /* bytes of the text; n = 0 once merged into its left */
};
struct wl_bigram {
    double priority;    /* higher first; of equal ones, the leftmost */
    int left, right;
    size_t size;
};
struct wl_merger {
    const woolly_vocab *v;
    const char *text;
    struct wl_symbol *sym;
    size_t cap_sym;
    struct wl_bigram *heap;
    size_t n_heap, cap_heap;
    /* Nonzero, with the priority, when the symbols at L and R may merge. */
    int (*priority)(const struct wl_merger *m, const struct wl_symbol *l,
                    const struct wl_symbol *r, double *out);
};
/* Cut the LEN bytes at TEXT into characters (the length each lead byte
 * announces, as llama.cpp reads them): M->sym[0 .. *N_SYM). */
woolly_status wl_merger_split(struct wl_merger *m, const char *text, size_t len, size_t *n_sym);
/* Merge the symbols [C0, C1), cut from the others, as far as they go; the
 * result is the chain from C0. */
woolly_status wl_merger_run(struct wl_merger *m, size_t c0, size_t c1);
void wl_merger_free(struct wl_merger *m);

/* A piece of a text: LEN bytes at OFF, or a special token. */
struct wl_frag {
    size_t off, len;
    int32_t token;  /* -1 for text */
};
struct wl_frags {
    struct wl_frag *v;
    size_t n, cap;
};
/* Split TEXT on the special tokens in it (tokenizer.c). */
woolly_status wl_split_special(const woolly_vocab *v, const char *text, size_t len,
                               int parse_special, struct wl_frags *out);

/* The id of the token whose text is the LEN bytes at S, or -1. */
int32_t wl_vocab_find(const woolly_vocab *v, const char *s, size_t len);

/* FNV-1a, in pieces: h = wl_hash_init(); h = wl_hash_more(h, s, n)... */
static inline uint64_t wl_hash_init(void) { return 0xcbf29ce484222325ULL; }
static inline uint64_t wl_hash_more(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

/* UTF-8, decoded the way llama.cpp decodes it: the length a lead byte
 * announces (1 for a stray continuation byte). */
static inline size_t wl_utf8_len(unsigned char c)
{
    static const unsigned char lookup[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4 };
    return lookup[c >> 4];
}

/* SentencePiece (tokenizer-spm.c): tokenize one fragment of raw text. */
woolly_status wl_spm_tokenize(const woolly_vocab *v, const char *text, size_t len,
                              int prefix_space, struct wl_tokbuf *out);

/* Byte-level BPE (tokenizer-bpe.c). */
woolly_status wl_bpe_init(woolly_vocab *v, const char *pre, char *errbuf, size_t errsize);
void wl_bpe_free(woolly_vocab *v);
woolly_status wl_bpe_tokenize(const woolly_vocab *v, const char *text, size_t len,
                              struct wl_tokbuf *out);
/* The original bytes of a byte-level encoded token text; writes at most
 * LEN bytes (never more than the text) and returns the count. */
size_t wl_bpe_decode(const char *text, size_t len, char *out);
/* Nonzero when NAME is a pre-tokenizer woolly knows. */
int wl_bpe_pre_known(const char *name);

#endif /* WOOLLY_VOCAB_H */
