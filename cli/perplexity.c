/* perplexity.c - `woolly perplexity`: how well a model predicts a text. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: woolly perplexity -m MODEL -f TEXT [OPTIONS]\n"
            "Measure the perplexity of MODEL on the text in TEXT ('-': standard input): the text\n"
            "is cut into windows of the context length; in each, the tokens of the second half\n"
            "are predicted from all that comes before them, as llama.cpp's perplexity does.\n"
            "\n"
            "  -m, --model FILE     the GGUF model\n"
            "      --no-mmap        read the model into memory instead of mapping it\n"
            "      --no-repack      use the weights as they lie (no rearranging at load)\n"
            "  -f, --file FILE      the text\n"
            "  -c, --ctx-size N     window length in tokens (default 512)\n"
            "      --chunks N       use at most N windows (default: all)\n"
            "  -b, --batch N        tokens computed together (default 64)\n"
            "  -t, --threads N      threads (default: one per CPU)\n"
            "      --json           print the result as JSON\n"
            "  -h, --help           show this help and exit\n");
}

/* -log p(target) from a row of logits, in double. */
static double nll(const float *logits, int32_t n_vocab, int32_t target)
{
    double max = logits[0], sum = 0.0;

    for (int32_t i = 1; i < n_vocab; i++)
        if (logits[i] > max)
            max = logits[i];
    for (int32_t i = 0; i < n_vocab; i++)
        sum += exp((double)logits[i] - max);
    return log(sum) - ((double)logits[target] - max);
}

int cmd_perplexity(int argc, char **argv)
{
    static const struct option opts[] = {
        { "model", required_argument, NULL, 'm' },  { "file", required_argument, NULL, 'f' },
        { "ctx-size", required_argument, NULL, 'c' }, { "chunks", required_argument, NULL, 'C' },
        { "batch", required_argument, NULL, 'b' },  { "threads", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },         { "no-mmap", no_argument, NULL, 'M' },
        { "no-repack", no_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *model_path = NULL, *file = NULL;
    long ctx = 512, chunks = 0, batch = 64, threads = 0;
    int json = 0, use_mmap = 1, repack = 1, c, rc = EXIT_RUNTIME;
    char err[WOOLLY_ERRBUF_SIZE], *text = NULL;
    woolly_model *model = NULL;
    woolly_session *sess = NULL;
    int32_t *tok = NULL;
    size_t len = 0, n_tok = 0;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":m:f:c:b:t:h", opts, NULL)) != -1) {
        long *target = NULL, lo = 0, hi = 0;
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'f': file = optarg; break;
        case 'M': use_mmap = 0; break;
        case 'P': repack = 0; break;
        case 'c': target = &ctx; lo = 2; hi = 1L << 20; break;
        case 'C': target = &chunks; lo = 1; hi = 1L << 30; break;
        case 'b': target = &batch; lo = 1; hi = 65536; break;
        case 't': target = &threads; lo = 1; hi = 512; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':': return cli_usage_error("perplexity", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("perplexity", "unknown option '%s'", argv[optind - 1]);
        }
        if (target && cli_parse_long(optarg, lo, hi, target))
            return cli_usage_error("perplexity", "%s wants a number from %ld to %ld, not '%s'", argv[optind - 1],
                                   lo, hi, optarg);
    }
    if (optind < argc)
        return cli_usage_error("perplexity", "unexpected argument '%s'", argv[optind]);
    if (!model_path)
        return cli_usage_error("perplexity", "no model: give -m MODEL");
    if (!file)
        return cli_usage_error("perplexity", "no text: give -f FILE");
    if (!(text = cli_read_file(file, &len)))
        return cli_error("perplexity", "%s: %s", file, strerror(errno));

    woolly_model_params mp;
    woolly_model_params_init(&mp, sizeof mp);
    mp.n_threads = (int)threads;
    mp.use_mmap = use_mmap;
    mp.repack = repack;
    if (woolly_model_load(model_path, &mp, &model, err, sizeof err) != WOOLLY_OK) {
        cli_error("perplexity", "%s", err);
        goto done;
    }
    const woolly_vocab *v = woolly_model_vocab(model);
    if (!v) {
        cli_error("perplexity", "%s has no vocabulary", model_path);
        goto done;
    }
    woolly_tokenize(v, text, len, WOOLLY_TOKENIZE_ADD_SPECIAL, NULL, 0, &n_tok);
    tok = malloc((n_tok ? n_tok : 1) * sizeof *tok);
    if (!tok || woolly_tokenize(v, text, len, WOOLLY_TOKENIZE_ADD_SPECIAL, tok, n_tok, &n_tok) != WOOLLY_OK) {
        cli_error("perplexity", "cannot tokenize %s", file);
        goto done;
    }
    size_t n_windows = n_tok / (size_t)ctx;
    if (n_windows == 0) {
        cli_error("perplexity", "%s has %zu tokens, fewer than one window of %ld (use a smaller --ctx-size)", file,
                  n_tok, ctx);
        goto done;
    }
    if (chunks > 0 && (size_t)chunks < n_windows)
        n_windows = (size_t)chunks;
    woolly_session_params sp;
    woolly_session_params_init(&sp, sizeof sp);
    sp.n_ctx = (uint32_t)ctx;
    sp.n_batch = (uint32_t)batch;
    sp.n_threads = (int)threads;
    sp.logits_all = 1;
    if (woolly_session_new(model, &sp, &sess, err, sizeof err) != WOOLLY_OK) {
        cli_error("perplexity", "%s", err);
        goto done;
    }
    woolly_model_info info = { .size = sizeof info };
    woolly_model_get_info(model, &info);
    int32_t bos = woolly_vocab_bos(v);
    double sum = 0.0, sum2 = 0.0;
    size_t scored = 0;
    double t0 = cli_now();
    for (size_t w = 0; w < n_windows; w++) {
        int32_t *win = tok + w * (size_t)ctx;
        int32_t saved = win[0];
        if (bos >= 0)
            win[0] = bos;   /* every window starts as a text does */
        woolly_session_truncate(sess, 0);
        woolly_status st = woolly_session_eval(sess, win, (size_t)ctx);
        win[0] = saved;
        if (st != WOOLLY_OK) {
            cli_error("perplexity", "%s", woolly_session_errmsg(sess));
            goto done;
        }
        for (long i = ctx / 2; i < ctx - 1; i++) {
            double x = nll(woolly_session_logits(sess, i), (int32_t)info.n_vocab, win[i + 1]);
            sum += x;
            sum2 += x * x;
            scored++;
        }
        if (!json) {
            fprintf(stderr, "[%zu]%.4f%s", w + 1, exp(sum / scored), w + 1 == n_windows ? "\n" : ",");
            fflush(stderr);
        }
    }
    double mean = sum / scored, var = scored > 1 ? (sum2 - sum * mean) / (scored - 1) : 0.0;
    double ppl = exp(mean), se = ppl * sqrt(var / scored);
    double secs = cli_now() - t0;
    if (json)
        printf("{\"perplexity\": %.6f, \"uncertainty\": %.6f, \"mean_nll\": %.6f, \"tokens_scored\": %zu, "
               "\"windows\": %zu, \"ctx\": %ld, \"tokens\": %zu, \"seconds\": %.3f}\n",
               ppl, se, mean, scored, n_windows, ctx, n_tok, secs);
    else
        printf("perplexity: %.4f +/- %.4f (%zu tokens scored in %zu windows of %ld, %.1f s)\n", ppl, se, scored,
               n_windows, ctx, secs);
    rc = EXIT_OK;
done:
    free(text);
    free(tok);
    woolly_session_free(sess);
    woolly_model_free(model);
    return rc;
}
