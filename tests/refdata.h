/* refdata.h - reading the reference set (../shared/ref) in tests. */
#ifndef WOOLLY_REFDATA_H
#define WOOLLY_REFDATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct ref_case {
    char name[96];
    char model[160];        /* relative to the reference directory */
    char kind[16];          /* "f32" or "quantized" */
    char *prompt;           /* UTF-8, NUL-terminated */
    double tol_max_abs;
    uint32_t n_vocab, n_prompt;
} ref_case;

/* Every case of DIR/manifest.json; NULL (and *n = 0) when unreadable. */
ref_case *ref_load_manifest(const char *dir, size_t *n);
void ref_free_manifest(ref_case *cases, size_t n);

/* The token list of DIR/logits/NAME.json; malloc'd, NULL on error. */
int32_t *ref_load_tokens(const char *dir, const char *name, size_t *n);
/* The logits of DIR/logits/NAME.f32: N_ROWS rows of N_VOCAB; NULL on error. */
float *ref_load_logits(const char *dir, const char *name, size_t n_rows, size_t n_vocab);

/* A whole file, NUL-terminated; NULL on error. */
char *ref_read_file(const char *path, size_t *len);

#endif /* WOOLLY_REFDATA_H */
