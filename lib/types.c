/* types.c - the tensor types of GGUF: names, block sizes, bytes per block. */
#include <config.h>

#include <strings.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "types.h"

/* Block layouts (ggml's, which GGUF stores verbatim); QK = elements:
 *   q4_0  QK 32: f16 d; u8 qs[16]                          18 bytes
 *   q4_1  QK 32: f16 d, m; u8 qs[16]                       20
 *   q5_0  QK 32: f16 d; u8 qh[4]; u8 qs[16]                22
 *   q5_1  QK 32: f16 d, m; u8 qh[4]; u8 qs[16]             24
 *   q8_0  QK 32: f16 d; i8 qs[32]                          34
 *   q8_1  QK 32: f16 d, s; i8 qs[32]                       36
 *   q2_k  QK 256: u8 scales[16]; u8 qs[64]; f16 d, dmin    84
 *   q3_k  QK 256: u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d   110
 *   q4_k  QK 256: f16 d, dmin; u8 scales[12]; u8 qs[128]   144
 *   q5_k  QK 256: f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]  176
 *   q6_k  QK 256: u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d      210
 *   q8_k  QK 256: f32 d; i8 qs[256]; i16 bsums[16]          292
 * The IQ and TQ types and MXFP4 are known by size only. */
static const struct wl_type_traits traits[WOOLLY_TYPE_COUNT] = {
    [WOOLLY_TYPE_F32] = { "f32", 1, 4 },
    [WOOLLY_TYPE_F16] = { "f16", 1, 2 },
    [WOOLLY_TYPE_Q4_0] = { "q4_0", 32, 18 },
    [WOOLLY_TYPE_Q4_1] = { "q4_1", 32, 20 },
    [WOOLLY_TYPE_Q5_0] = { "q5_0", 32, 22 },
    [WOOLLY_TYPE_Q5_1] = { "q5_1", 32, 24 },
    [WOOLLY_TYPE_Q8_0] = { "q8_0", 32, 34 },
    [WOOLLY_TYPE_Q8_1] = { "q8_1", 32, 36 },
    [WOOLLY_TYPE_Q2_K] = { "q2_k", 256, 84 },
    [WOOLLY_TYPE_Q3_K] = { "q3_k", 256, 110 },
    [WOOLLY_TYPE_Q4_K] = { "q4_k", 256, 144 },
    [WOOLLY_TYPE_Q5_K] = { "q5_k", 256, 176 },
    [WOOLLY_TYPE_Q6_K] = { "q6_k", 256, 210 },
    [WOOLLY_TYPE_Q8_K] = { "q8_k", 256, 292 },
    [WOOLLY_TYPE_IQ2_XXS] = { "iq2_xxs", 256, 66 },
    [WOOLLY_TYPE_IQ2_XS] = { "iq2_xs", 256, 74 },
    [WOOLLY_TYPE_IQ3_XXS] = { "iq3_xxs", 256, 98 },
    [WOOLLY_TYPE_IQ1_S] = { "iq1_s", 256, 50 },
    [WOOLLY_TYPE_IQ4_NL] = { "iq4_nl", 32, 18 },
    [WOOLLY_TYPE_IQ3_S] = { "iq3_s", 256, 110 },
    [WOOLLY_TYPE_IQ2_S] = { "iq2_s", 256, 82 },
    [WOOLLY_TYPE_IQ4_XS] = { "iq4_xs", 256, 136 },
    [WOOLLY_TYPE_I8] = { "i8", 1, 1 },
    [WOOLLY_TYPE_I16] = { "i16", 1, 2 },
    [WOOLLY_TYPE_I32] = { "i32", 1, 4 },
    [WOOLLY_TYPE_I64] = { "i64", 1, 8 },
    [WOOLLY_TYPE_F64] = { "f64", 1, 8 },
    [WOOLLY_TYPE_IQ1_M] = { "iq1_m", 256, 56 },
    [WOOLLY_TYPE_BF16] = { "bf16", 1, 2 },
    [WOOLLY_TYPE_TQ1_0] = { "tq1_0", 256, 54 },
    [WOOLLY_TYPE_TQ2_0] = { "tq2_0", 256, 66 },
    [WOOLLY_TYPE_MXFP4] = { "mxfp4", 32, 17 },
};

const struct wl_type_traits *wl_type_traits(uint32_t type)
{
    if (type >= WOOLLY_TYPE_COUNT || !traits[type].name)
        return NULL;
    return &traits[type];
}

const char *woolly_type_name(woolly_type type)
{
    const struct wl_type_traits *t = wl_type_traits((uint32_t)type);
    return t ? t->name : NULL;
}

woolly_status woolly_type_from_name(const char *name, woolly_type *out)
{
    if (!name || !out)
        return WOOLLY_ERR_INVALID;
    for (uint32_t i = 0; i < WOOLLY_TYPE_COUNT; i++) {
        if (traits[i].name && strcasecmp(traits[i].name, name) == 0) {
            *out = (woolly_type)i;
            return WOOLLY_OK;
        }
    }
    return WOOLLY_ERR_INVALID;
}

size_t woolly_type_block_size(woolly_type type)
{
    const struct wl_type_traits *t = wl_type_traits((uint32_t)type);
    return t ? t->block_size : 0;
}

size_t woolly_type_block_bytes(woolly_type type)
{
    const struct wl_type_traits *t = wl_type_traits((uint32_t)type);
    return t ? t->block_bytes : 0;
}

/* A type is supported when woolly can multiply weights of it: the scalar
 * table, which every level extends, has its dot product. */
int woolly_type_supported(woolly_type type)
{
    const wl_kernels *k = wl_kernels_get();

    return (unsigned)type < WOOLLY_TYPE_COUNT && k->type[type].vec_dot != NULL;
}

int wl_row_bytes(uint32_t type, uint64_t n, uint64_t *out)
{
    const struct wl_type_traits *t = wl_type_traits(type);

    if (!t || n % t->block_size != 0)
        return 1;
    return wl_mul_u64(n / t->block_size, t->block_bytes, out);
}
