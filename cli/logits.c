/* logits.c - `woolly logits`: the logits after every position, as raw
 * little-endian float32 rows, for comparing woolly with other engines. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: woolly logits -m MODEL (-p TEXT | --tokens \"ID ...\") -o OUT.f32 [OPTIONS]\n"
            "Evaluate the tokens and write the logits after every position to OUT.f32:\n"
            "one row of n_vocab little-endian float32 values per token.\n"
            "\n"
            "  -m, --model FILE     the GGUF model\n"
            "      --no-mmap        read the model into memory instead of mapping it\n"
            "      --no-repack      use the weights as they lie (no rearranging at load)\n"
            "  -p, --prompt TEXT    text to tokenize (BOS added as the model says)\n"
            "      --tokens LIST    token ids, separated by spaces or commas\n"
            "  -o, --output FILE    where to write the rows ('-': standard output)\n"
            "      --json           print the tokens and the output shape as JSON\n"
            "  -t, --threads N      threads (default: one per CPU)\n"
            "  -b, --batch N        tokens computed together (default 64)\n"
            "  -h, --help           show this help and exit\n");
}

/* Parse "1 2, 3" into a malloc'd array. */
static int parse_tokens(const char *s, int32_t **out, size_t *n)
{
    size_t cap = 16, count = 0;
    int32_t *tok = malloc(cap * sizeof *tok);

    while (tok && *s) {
        char *end;
        long v;
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n')
            s++;
        if (!*s)
            break;
        errno = 0;
        v = strtol(s, &end, 10);
        if (end == s || errno || v < 0 || v > INT32_MAX) {
            free(tok);
            return -1;
        }
        if (count == cap) {
            int32_t *t = realloc(tok, (cap *= 2) * sizeof *tok);
            if (!t) {
                free(tok);
                return -1;
            }
            tok = t;
        }
        tok[count++] = (int32_t)v;
        s = end;
    }
    *out = tok;
    *n = count;
    return tok && count > 0 ? 0 : -1;
}

int cmd_logits(int argc, char **argv)
{
    static const struct option opts[] = {
        { "model", required_argument, NULL, 'm' },  { "prompt", required_argument, NULL, 'p' },
        { "tokens", required_argument, NULL, 'T' }, { "output", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },         { "threads", required_argument, NULL, 't' },
        { "batch", required_argument, NULL, 'b' },  { "no-mmap", no_argument, NULL, 'M' },
        { "no-repack", no_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *model_path = NULL, *prompt = NULL, *tokens_arg = NULL, *out_path = NULL;
    long threads = 0, batch = 64;
    int json = 0, use_mmap = 1, repack = 1, c, rc = EXIT_RUNTIME;
    char err[WOOLLY_ERRBUF_SIZE];
    woolly_model *model = NULL;
    woolly_session *sess = NULL;
    int32_t *tok = NULL;
    size_t n_tok = 0;
    FILE *out = NULL;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":m:p:o:t:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'p': prompt = optarg; break;
        case 'T': tokens_arg = optarg; break;
        case 'o': out_path = optarg; break;
        case 'j': json = 1; break;
        case 'M': use_mmap = 0; break;
        case 'P': repack = 0; break;
        case 't':
            if (cli_parse_long(optarg, 1, 512, &threads))
                return cli_usage_error("logits", "--threads wants a number from 1 to 512, not '%s'", optarg);
            break;
        case 'b':
            if (cli_parse_long(optarg, 1, 65536, &batch))
                return cli_usage_error("logits", "--batch wants a number from 1 to 65536, not '%s'", optarg);
            break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':': return cli_usage_error("logits", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("logits", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("logits", "unexpected argument '%s'", argv[optind]);
    if (!model_path)
        return cli_usage_error("logits", "no model: give -m MODEL");
    if (!prompt == !tokens_arg)
        return cli_usage_error("logits", "give either -p TEXT or --tokens LIST");
    if (!out_path)
        return cli_usage_error("logits", "no output file: give -o OUT.f32");
    if (tokens_arg && parse_tokens(tokens_arg, &tok, &n_tok))
        return cli_usage_error("logits", "--tokens wants non-negative integers, not '%s'", tokens_arg);
    woolly_model_params mp;
    woolly_model_params_init(&mp, sizeof mp);
    mp.n_threads = (int)threads;
    mp.use_mmap = use_mmap;
    mp.repack = repack;
    if (woolly_model_load(model_path, &mp, &model, err, sizeof err) != WOOLLY_OK) {
        cli_error("logits", "%s", err);
        goto done;
    }
    if (prompt) {
        const woolly_vocab *v = woolly_model_vocab(model);
        size_t need = 0;
        if (!v) {
            cli_error("logits", "%s has no vocabulary to tokenize -p with; use --tokens", model_path);
            goto done;
        }
        woolly_tokenize(v, prompt, strlen(prompt), WOOLLY_TOKENIZE_ADD_SPECIAL, NULL, 0, &need);
        tok = malloc((need ? need : 1) * sizeof *tok);
        if (!tok || woolly_tokenize(v, prompt, strlen(prompt), WOOLLY_TOKENIZE_ADD_SPECIAL, tok, need, &n_tok)) {
            cli_error("logits", "cannot tokenize the prompt");
            goto done;
        }
        if (n_tok == 0) {
            cli_error("logits", "the prompt makes no tokens");
            goto done;
        }
    }
    woolly_session_params sp;
    woolly_session_params_init(&sp, sizeof sp);
    sp.n_ctx = (uint32_t)n_tok;
    sp.n_batch = (uint32_t)batch;
    sp.logits_all = 1;
    if (woolly_session_new(model, &sp, &sess, err, sizeof err) != WOOLLY_OK) {
        cli_error("logits", "%s", err);
        goto done;
    }
    if (woolly_session_eval(sess, tok, n_tok) != WOOLLY_OK) {
        cli_error("logits", "%s", woolly_session_errmsg(sess));
        goto done;
    }
    out = strcmp(out_path, "-") == 0 ? stdout : fopen(out_path, "wb");
    if (!out) {
        cli_error("logits", "%s: %s", out_path, strerror(errno));
        goto done;
    }
    woolly_model_info info = { .size = sizeof info };
    woolly_model_get_info(model, &info);
    for (size_t i = 0; i < n_tok; i++) {
        if (fwrite(woolly_session_logits(sess, (int64_t)i), sizeof(float), info.n_vocab, out) != info.n_vocab) {
            cli_error("logits", "%s: write error", out_path);
            goto done;
        }
    }
    if (out != stdout && fclose(out) != 0) {
        out = NULL;
        cli_error("logits", "%s: %s", out_path, strerror(errno));
        goto done;
    }
    out = NULL;
    if (json) {
        printf("{\"model\": \"");
        for (const char *p = model_path; *p; p++)
            printf(*p == '"' || *p == '\\' ? "\\%c" : (unsigned char)*p < 0x20 ? "?" : "%c", *p);
        printf("\", \"n_vocab\": %u, \"rows\": %zu, \"tokens\": [", info.n_vocab, n_tok);
        for (size_t i = 0; i < n_tok; i++)
            printf("%s%d", i ? ", " : "", tok[i]);
        printf("]}\n");
    }
    rc = EXIT_OK;
done:
    if (out && out != stdout)
        fclose(out);
    free(tok);
    woolly_session_free(sess);
    woolly_model_free(model);
    return rc;
}
