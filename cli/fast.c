/* fast.c - the synthetic model's sizes, from WOOLLY_FAST_* variables. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct fast_var {
    const char *name;
    size_t offset;
} vars[] = {
    { "WOOLLY_FAST_VOCAB_SIZE", offsetof(woolly_synth_params, n_vocab) },
    { "WOOLLY_FAST_HIDDEN_SIZE", offsetof(woolly_synth_params, n_embd) },
    { "WOOLLY_FAST_NUM_LAYERS", offsetof(woolly_synth_params, n_layer) },
    { "WOOLLY_FAST_NUM_HEADS", offsetof(woolly_synth_params, n_head) },
    { "WOOLLY_FAST_NUM_KV_HEADS", offsetof(woolly_synth_params, n_head_kv) },
    { "WOOLLY_FAST_CONTEXT_LENGTH", offsetof(woolly_synth_params, n_ctx) },
    { "WOOLLY_FAST_INTERMEDIATE_SIZE", offsetof(woolly_synth_params, n_ff) },
};

int cli_fast_params(const char *cmd, woolly_synth_params *p)
{
    const char *type;

    woolly_synth_params_init(p, sizeof *p);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i].name);
        long n;
        if (!v || !*v)
            continue;
        if (cli_parse_long(v, 1, 1L << 24, &n))
            return cli_usage_error(cmd, "%s=%s: a whole number from 1 to %ld is needed", vars[i].name, v,
                                   1L << 24);
        *(uint32_t *)(void *)((char *)p + vars[i].offset) = (uint32_t)n;
    }
    type = getenv("WOOLLY_FAST_TYPE");
    if (type && *type && woolly_type_from_name(type, &p->type) != WOOLLY_OK)
        return cli_usage_error(cmd, "WOOLLY_FAST_TYPE=%s is not a tensor type (f32, f16, bf16, q8_0, q4_0, q4_k, ...)",
                               type);
    return EXIT_OK;
}
