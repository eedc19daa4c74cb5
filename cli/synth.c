/* synth.c - `woolly synth`: write a synthetic random-weight model as GGUF. */
#include <config.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: woolly synth -o FILE.gguf [OPTIONS]\n"
            "Write a Llama-architecture model with random weights (Xavier-uniform) and a\n"
            "printable built-in vocabulary as GGUF, loadable by woolly and by llama.cpp.\n"
            "Sizes come from the WOOLLY_FAST_* variables, which the options override.\n"
            "\n"
            "  -o, --output FILE         where to write the model\n"
            "      --vocab FILE          borrow the tokenizer of this GGUF file\n"
            "      --type TYPE           weight type: f32, f16, bf16, q8_0, q4_0, q4_k, ... (default f32)\n"
            "      --vocab-size N        tokens (default 512)\n"
            "      --hidden-size N       embedding length (default 256)\n"
            "      --layers N            blocks (default 4)\n"
            "      --heads N             attention heads (default 8)\n"
            "      --kv-heads N          key/value heads (default 4)\n"
            "      --context N           training context length (default 2048)\n"
            "      --intermediate-size N feed-forward length (default 768)\n"
            "      --seed N              random seed (default 42)\n"
            "  -t, --threads N           threads to generate with (default: one per CPU)\n"
            "  -h, --help                show this help and exit\n");
}

int cmd_synth(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },     { "vocab", required_argument, NULL, 'V' },
        { "type", required_argument, NULL, 'T' },       { "vocab-size", required_argument, NULL, 1 },
        { "hidden-size", required_argument, NULL, 2 },  { "layers", required_argument, NULL, 3 },
        { "heads", required_argument, NULL, 4 },        { "kv-heads", required_argument, NULL, 5 },
        { "context", required_argument, NULL, 6 },      { "intermediate-size", required_argument, NULL, 7 },
        { "seed", required_argument, NULL, 's' },       { "threads", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },             { NULL, 0, NULL, 0 },
    };
    woolly_synth_params p;
    const char *out = NULL;
    char err[WOOLLY_ERRBUF_SIZE];
    int c, st;
    long v;

    if ((st = cli_fast_params("synth", &p)) != EXIT_OK)
        return st;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:t:h", opts, NULL)) != -1) {
        uint32_t *size = NULL;
        switch (c) {
        case 'o': out = optarg; break;
        case 'V': p.vocab_path = optarg; break;
        case 'T':
            if (woolly_type_from_name(optarg, &p.type) != WOOLLY_OK)
                return cli_usage_error("synth", "'%s' is not a tensor type (f32, f16, bf16, q8_0, q4_0, q4_k, ...)",
                                       optarg);
            break;
        case 1: size = &p.n_vocab; break;
        case 2: size = &p.n_embd; break;
        case 3: size = &p.n_layer; break;
        case 4: size = &p.n_head; break;
        case 5: size = &p.n_head_kv; break;
        case 6: size = &p.n_ctx; break;
        case 7: size = &p.n_ff; break;
        case 's':
            if (cli_parse_long(optarg, 0, 0x7fffffff, &v))
                return cli_usage_error("synth", "--seed wants a non-negative number, not '%s'", optarg);
            p.seed = (uint64_t)v;
            break;
        case 't':
            if (cli_parse_long(optarg, 1, 512, &v))
                return cli_usage_error("synth", "--threads wants a number from 1 to 512, not '%s'", optarg);
            p.n_threads = (int)v;
            break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':': return cli_usage_error("synth", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("synth", "unknown option '%s'", argv[optind - 1]);
        }
        if (size) {
            if (cli_parse_long(optarg, 1, 1L << 24, &v))
                return cli_usage_error("synth", "%s wants a number from 1 to %ld, not '%s'", argv[optind - 1],
                                       1L << 24, optarg);
            *size = (uint32_t)v;
        }
    }
    if (optind < argc)
        return cli_usage_error("synth", "unexpected argument '%s'", argv[optind]);
    if (!out)
        return cli_usage_error("synth", "no output file: give -o FILE.gguf");
    woolly_status s = woolly_synth_write(&p, out, err, sizeof err);
    if (s == WOOLLY_ERR_INVALID)
        return cli_usage_error("synth", "%s", err);
    if (s != WOOLLY_OK)
        return cli_error("synth", "%s", err);
    return EXIT_OK;
}
