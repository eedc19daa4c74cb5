/* quantize.c - `woolly quantize`: convert a model's weights to another type. */
#include <config.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: woolly quantize [OPTIONS] IN.gguf OUT.gguf TYPE\n"
            "Write IN with its weight matrices converted to TYPE: f16, bf16, q8_0, q4_0,\n"
            "q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, or the mixes q4_k_m and\n"
            "q5_k_m (llama.cpp's per-tensor rules).  Norms and other vectors stay f32.\n"
            "\n"
            "      --allow-requantize  convert tensors that are already quantized\n"
            "  -t, --threads N         threads (default: one per CPU)\n"
            "  -q, --quiet             no progress bar\n"
            "  -h, --help              show this help and exit\n");
}

struct progress {
    int tty, quiet;
    double start;
};

static void show_progress(size_t done, size_t total, const char *tensor, void *user)
{
    struct progress *p = user;
    int width = 30, filled = (int)(width * done / (total ? total : 1));

    if (p->quiet || !p->tty)
        return;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu %-32.32s", filled, "##############################", width - filled,
            "", done, total, tensor);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

int cmd_quantize(int argc, char **argv)
{
    static const struct option opts[] = {
        { "allow-requantize", no_argument, NULL, 'R' }, { "threads", required_argument, NULL, 't' },
        { "quiet", no_argument, NULL, 'q' },            { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    woolly_quantize_params p;
    struct progress prog = { isatty(2), 0, 0 };
    char err[WOOLLY_ERRBUF_SIZE];
    const char *type;
    long v;
    int c;

    woolly_quantize_params_init(&p, sizeof p);
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":t:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'R': p.allow_requantize = 1; break;
        case 't':
            if (cli_parse_long(optarg, 1, 512, &v))
                return cli_usage_error("quantize", "--threads wants a number from 1 to 512, not '%s'", optarg);
            p.n_threads = (int)v;
            break;
        case 'q': prog.quiet = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':': return cli_usage_error("quantize", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("quantize", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 3)
        return cli_usage_error("quantize", "give IN.gguf OUT.gguf TYPE (%d argument%s given)", argc - optind,
                               argc - optind == 1 ? "" : "s");
    type = argv[optind + 2];
    if (strcasecmp(type, "q4_k_m") == 0) {
        p.mix = WOOLLY_MIX_Q4_K_M;
    } else if (strcasecmp(type, "q5_k_m") == 0) {
        p.mix = WOOLLY_MIX_Q5_K_M;
    } else if (woolly_type_from_name(type, &p.type) != WOOLLY_OK || !woolly_type_supported(p.type) ||
               p.type == WOOLLY_TYPE_Q8_1 || p.type == WOOLLY_TYPE_Q8_K) {
        return cli_usage_error("quantize", "'%s' is not a type woolly quantizes to (f16, bf16, q8_0, q4_0, "
                               "q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, q4_k_m, q5_k_m)", type);
    }
    if (strcmp(argv[optind], argv[optind + 1]) == 0)
        return cli_usage_error("quantize", "the output would overwrite the input");
    p.progress = show_progress;
    p.progress_user = &prog;
    woolly_status st = woolly_quantize(argv[optind], argv[optind + 1], &p, err, sizeof err);
    if (st != WOOLLY_OK) {
        if (prog.tty && !prog.quiet)
            fputc('\n', stderr);
        if (st == WOOLLY_ERR_INVALID && strstr(err, "already quantized"))
            return cli_usage_error("quantize", "%s (--allow-requantize)", err);
        return cli_error("quantize", "%s", err);
    }
    return EXIT_OK;
}
