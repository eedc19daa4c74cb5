/* run.c - `woolly run`: generate text from a prompt, or talk in a REPL. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBEDIT
# include <editline/readline.h>
#endif

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: woolly run (-m MODEL | --fast-fp32) [-p TEXT | -f FILE | --interactive] [OPTIONS]\n"
            "Generate text that continues a prompt, streaming it as it comes.\n"
            "\n"
            "  -m, --model FILE        the GGUF model\n"
            "      --no-mmap           read the model into memory instead of mapping it\n"
            "      --no-repack         use the weights as they lie (no rearranging at load)\n"
            "      --fast-fp32         a synthetic random-weight model (sizes: WOOLLY_FAST_*)\n"
            "      --vocab FILE        with --fast-fp32: borrow this GGUF file's tokenizer\n"
            "  -p, --prompt TEXT       the prompt\n"
            "  -f, --file FILE         read the prompt from FILE ('-': standard input)\n"
            "  -i, --interactive       a conversation: each line you type is appended and answered\n"
            "  -n, --max-tokens N      tokens to generate at most (default 128)\n"
            "  -t, --threads N         threads (default: one per CPU)\n"
            "  -c, --ctx-size N        context length (default: the model's, at most 4096)\n"
            "  -b, --batch N           prompt tokens computed together (default 64)\n"
            "      --temp T            temperature (default 0.8; 0: greedy)\n"
            "      --top-k N           keep the N likeliest tokens (default 40; 0: all)\n"
            "      --top-p P           keep the likeliest tokens up to mass P (default 0.95)\n"
            "      --min-p P           drop tokens below P times the likeliest (default 0.05)\n"
            "      --repeat-penalty X  penalise tokens seen recently (default 1: off)\n"
            "      --repeat-last-n N   how far back the penalty looks (default 64)\n"
            "      --seed N            random seed (default 42)\n"
            "      --parse-special     recognise special tokens written in the prompt\n"
            "      --dry-run           load and check everything, print what would run, generate nothing\n"
            "      --json              print one JSON object with tokens, text and timings\n"
            "      --timing            print load time and speeds to standard error\n"
            "  -h, --help              show this help and exit\n"
            "\n"
            "In --interactive mode, Ctrl-C stops the answer being generated; /reset forgets\n"
            "the conversation and /quit (or Ctrl-D) leaves.\n");
}

/* Set by Ctrl-C: stop the current generation. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct run {
    woolly_model *model;
    const woolly_vocab *vocab;
    woolly_session *sess;
    woolly_sampler *sampler;
    woolly_detokenizer *detok;
    woolly_model_info info;
    long max_tokens;
    int json, timing, parse_special;
    /* Results of the last generation. */
    int32_t *gen;
    size_t n_gen, gen_cap;
    char *text;
    size_t text_len, text_cap;
    double t_prompt, t_gen;
    size_t n_prompt;
};

static int append_text(struct run *r, const char *s, size_t n)
{
    if (r->text_len + n + 1 > r->text_cap) {
        size_t cap = (r->text_len + n + 1) * 2;
        char *t = realloc(r->text, cap);
        if (!t)
            return -1;
        r->text = t;
        r->text_cap = cap;
    }
    memcpy(r->text + r->text_len, s, n);
    r->text_len += n;
    r->text[r->text_len] = '\0';
    return 0;
}

static int push_gen(struct run *r, int32_t t)
{
    if (r->n_gen == r->gen_cap) {
        size_t cap = r->gen_cap ? r->gen_cap * 2 : 64;
        int32_t *g = realloc(r->gen, cap * sizeof *g);
        if (!g)
            return -1;
        r->gen = g;
        r->gen_cap = cap;
    }
    r->gen[r->n_gen++] = t;
    return 0;
}

/* Tokenize TEXT into *OUT (malloc'd). */
static int tokenize(struct run *r, const char *text, int add_special, int32_t **out, size_t *n)
{
    unsigned flags = (add_special ? WOOLLY_TOKENIZE_ADD_SPECIAL : 0) |
                     (r->parse_special ? WOOLLY_TOKENIZE_PARSE_SPECIAL : 0);
    size_t need = 0, len = strlen(text);

    woolly_tokenize(r->vocab, text, len, flags, NULL, 0, &need);
    *out = malloc((need ? need : 1) * sizeof **out);
    if (!*out || woolly_tokenize(r->vocab, text, len, flags, *out, need, n) != WOOLLY_OK) {
        free(*out);
        return cli_error("run", "cannot tokenize the prompt");
    }
    return EXIT_OK;
}

/* Write text as it comes, unless the output is JSON. */
static void emit(struct run *r, const char *s, size_t n)
{
    append_text(r, s, n);
    if (!r->json) {
        fwrite(s, 1, n, stdout);
        fflush(stdout);
    }
}

/* Evaluate the prompt tokens, then sample up to max_tokens. */
static int generate(struct run *r, const int32_t *prompt, size_t n_prompt)
{
    char buf[1024];
    size_t len;
    double t0;

    r->n_gen = 0;
    r->text_len = 0;
    r->n_prompt = n_prompt;
    if (n_prompt > woolly_session_n_ctx(r->sess) - woolly_session_n_past(r->sess))
        return cli_error("run", "the prompt has %zu tokens, but only %u of the context's %u are free%s", n_prompt,
                         woolly_session_n_ctx(r->sess) - woolly_session_n_past(r->sess),
                         woolly_session_n_ctx(r->sess), " (a larger --ctx-size may help)");
    for (size_t i = 0; i < n_prompt; i++)
        woolly_sampler_accept(r->sampler, prompt[i]);
    t0 = cli_now();
    if (woolly_session_eval(r->sess, prompt, n_prompt) != WOOLLY_OK)
        return cli_error("run", "%s", woolly_session_errmsg(r->sess));
    r->t_prompt = cli_now() - t0;
    t0 = cli_now();
    interrupted = 0;
    for (long i = 0; i < r->max_tokens && !interrupted; i++) {
        int32_t tok;
        if (woolly_sampler_sample(r->sampler, woolly_session_logits(r->sess, -1), &tok) != WOOLLY_OK)
            return cli_error("run", "sampling failed");
        if (woolly_vocab_is_eog(r->vocab, tok))
            break;
        push_gen(r, tok);
        if (woolly_detokenizer_push(r->detok, tok, buf, sizeof buf, &len) == WOOLLY_OK)
            emit(r, buf, len);
        if (woolly_session_n_past(r->sess) >= woolly_session_n_ctx(r->sess)) {
            if (!r->json)
                fprintf(stderr, "\nwoolly run: the context (%u tokens) is full\n", woolly_session_n_ctx(r->sess));
            break;
        }
        if (woolly_session_eval(r->sess, &tok, 1) != WOOLLY_OK)
            return cli_error("run", "%s", woolly_session_errmsg(r->sess));
    }
    if (woolly_detokenizer_flush(r->detok, buf, sizeof buf, &len) == WOOLLY_OK)
        emit(r, buf, len);
    r->t_gen = cli_now() - t0;
    return EXIT_OK;
}

static void print_timing(const struct run *r, double load_s)
{
    double pp = r->t_prompt > 0 ? r->n_prompt / r->t_prompt : 0;
    double tg = r->t_gen > 0 ? r->n_gen / r->t_gen : 0;

    fprintf(stderr, "\nload: %.1f ms | prompt: %zu tokens, %.2f tokens/s | generation: %zu tokens, "
            "%.2f tokens/s, %.2f ms/token\n", load_s * 1e3, r->n_prompt, pp, r->n_gen, tg,
            r->n_gen ? r->t_gen * 1e3 / r->n_gen : 0.0);
}

static void print_json(const struct run *r, const int32_t *prompt, double load_s)
{
    printf("{\"prompt_tokens\": [");
    for (size_t i = 0; i < r->n_prompt; i++)
        printf("%s%d", i ? ", " : "", prompt[i]);
    printf("], \"generated_tokens\": [");
    for (size_t i = 0; i < r->n_gen; i++)
        printf("%s%d", i ? ", " : "", r->gen[i]);
    printf("], \"text\": ");
    cli_print_json_string(r->text ? r->text : "", r->text_len);
    printf(", \"timings\": {\"load_ms\": %.3f, \"prompt_ms\": %.3f, \"prompt_tokens_per_s\": %.3f, "
           "\"generation_ms\": %.3f, \"generation_tokens_per_s\": %.3f, \"ms_per_token\": %.3f}}\n",
           load_s * 1e3, r->t_prompt * 1e3, r->t_prompt > 0 ? r->n_prompt / r->t_prompt : 0.0,
           r->t_gen * 1e3, r->t_gen > 0 ? r->n_gen / r->t_gen : 0.0,
           r->n_gen ? r->t_gen * 1e3 / r->n_gen : 0.0);
}

static char *read_line(const char *prompt)
{
#ifdef HAVE_LIBEDIT
    char *line = readline(prompt);
    if (line && *line)
        add_history(line);
    return line;
#else
    char buf[65536];
    fputs(prompt, stdout);
    fflush(stdout);
    if (!fgets(buf, sizeof buf, stdin))
        return NULL;
    buf[strcspn(buf, "\n")] = '\0';
    return strdup(buf);
#endif
}

static int interactive(struct run *r)
{
    int first = 1;

    for (;;) {
        int32_t *tok;
        size_t n;
        char *line = read_line("> ");
        if (!line && interrupted) {      /* Ctrl-C at the prompt: a fresh line */
            interrupted = 0;
            putchar('\n');
            continue;
        }
        if (!line)
            break;
        if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0) {
            free(line);
            break;
        }
        if (strcmp(line, "/reset") == 0) {
            woolly_session_truncate(r->sess, 0);
            woolly_sampler_reset(r->sampler);
            first = 1;
            free(line);
            printf("(the conversation is forgotten)\n");
            continue;
        }
        if (!*line) {
            free(line);
            continue;
        }
        int st = tokenize(r, line, first, &tok, &n);
        free(line);
        if (st != EXIT_OK)
            return st;
        st = generate(r, tok, n);
        free(tok);
        if (st != EXIT_OK) {
            fprintf(stderr, "(type /reset to start again)\n");
            continue;
        }
        first = 0;
        printf("%s\n", interrupted ? " [stopped]" : "");
        if (r->timing)
            print_timing(r, 0);
    }
    return EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
    enum { O_FAST = 256, O_VOCAB, O_TEMP, O_TOPK, O_TOPP, O_MINP, O_PEN, O_PENN, O_SEED, O_PARSE, O_DRY,
           O_JSON, O_TIMING, O_NOMMAP, O_NOREPACK };
    static const struct option opts[] = {
        { "model", required_argument, NULL, 'm' },       { "fast-fp32", no_argument, NULL, O_FAST },
        { "vocab", required_argument, NULL, O_VOCAB },   { "prompt", required_argument, NULL, 'p' },
        { "file", required_argument, NULL, 'f' },        { "interactive", no_argument, NULL, 'i' },
        { "max-tokens", required_argument, NULL, 'n' },  { "threads", required_argument, NULL, 't' },
        { "ctx-size", required_argument, NULL, 'c' },    { "batch", required_argument, NULL, 'b' },
        { "temp", required_argument, NULL, O_TEMP },     { "top-k", required_argument, NULL, O_TOPK },
        { "top-p", required_argument, NULL, O_TOPP },    { "min-p", required_argument, NULL, O_MINP },
        { "repeat-penalty", required_argument, NULL, O_PEN },
        { "repeat-last-n", required_argument, NULL, O_PENN },
        { "seed", required_argument, NULL, O_SEED },     { "parse-special", no_argument, NULL, O_PARSE },
        { "dry-run", no_argument, NULL, O_DRY },         { "json", no_argument, NULL, O_JSON },
        { "timing", no_argument, NULL, O_TIMING },       { "no-mmap", no_argument, NULL, O_NOMMAP },
        { "no-repack", no_argument, NULL, O_NOREPACK },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *model_path = NULL, *prompt_arg = NULL, *prompt_file = NULL, *vocab_path = NULL;
    long threads = 0, ctx = 0, batch = 64, top_k = 40, last_n = 64, seed = 42;
    double temp = 0.8, top_p = 0.95, min_p = 0.05, penalty = 1.0;
    int fast = 0, inter = 0, dry = 0, use_mmap = 1, repack = 1, c, rc = EXIT_RUNTIME;
    struct run r;
    char err[WOOLLY_ERRBUF_SIZE], *prompt = NULL, *end;
    int32_t *tok = NULL;
    size_t n_tok = 0;
    double load_s;

    memset(&r, 0, sizeof r);
    r.max_tokens = 128;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":m:p:f:in:t:c:b:h", opts, NULL)) != -1) {
        long *target = NULL, lo = 0, hi = 0;
        double *real = NULL, rlo = 0, rhi = 0;
        switch (c) {
        case 'm': model_path = optarg; break;
        case O_FAST: fast = 1; break;
        case O_NOMMAP: use_mmap = 0; break;
        case O_NOREPACK: repack = 0; break;
        case O_VOCAB: vocab_path = optarg; break;
        case 'p': prompt_arg = optarg; break;
        case 'f': prompt_file = optarg; break;
        case 'i': inter = 1; break;
        case 'n': target = &r.max_tokens; lo = 0; hi = 1L << 24; break;
        case 't': target = &threads; lo = 1; hi = 512; break;
        case 'c': target = &ctx; lo = 1; hi = 1L << 24; break;
        case 'b': target = &batch; lo = 1; hi = 65536; break;
        case O_TOPK: target = &top_k; lo = 0; hi = 1L << 30; break;
        case O_PENN: target = &last_n; lo = 0; hi = 1L << 20; break;
        case O_SEED: target = &seed; lo = 0; hi = 0x7fffffff; break;
        case O_TEMP: real = &temp; rlo = 0; rhi = 100; break;
        case O_TOPP: real = &top_p; rlo = 0; rhi = 1; break;
        case O_MINP: real = &min_p; rlo = 0; rhi = 1; break;
        case O_PEN: real = &penalty; rlo = 1e-3; rhi = 100; break;
        case O_PARSE: r.parse_special = 1; break;
        case O_DRY: dry = 1; break;
        case O_JSON: r.json = 1; break;
        case O_TIMING: r.timing = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':': return cli_usage_error("run", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
        }
        if (target && cli_parse_long(optarg, lo, hi, target))
            return cli_usage_error("run", "%s wants a whole number from %ld to %ld, not '%s'", argv[optind - 1],
                                   lo, hi, optarg);
        if (real) {
            errno = 0;
            double x = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(x >= rlo && x <= rhi))
                return cli_usage_error("run", "%s wants a number from %g to %g, not '%s'", argv[optind - 1], rlo,
                                       rhi, optarg);
            *real = x;
        }
    }
    if (optind < argc)
        return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (fast && model_path)
        return cli_usage_error("run", "--fast-fp32 builds its own model: it cannot be used with --model");
    if (!fast && !model_path)
        return cli_usage_error("run", "no model: give -m MODEL or --fast-fp32");
    if (vocab_path && !fast)
        return cli_usage_error("run", "--vocab goes with --fast-fp32");
    if ((prompt_arg != NULL) + (prompt_file != NULL) + inter > 1)
        return cli_usage_error("run", "give only one of -p, -f and --interactive");
    if (!prompt_arg && !prompt_file && !inter)
        return cli_usage_error("run", "no prompt: give -p TEXT, -f FILE or --interactive");
    if (inter && r.json)
        return cli_usage_error("run", "--json cannot be used with --interactive");
    if (prompt_file && !(prompt = cli_read_file(prompt_file, NULL)))
        return cli_error("run", "%s: %s", prompt_file, strerror(errno));
    if (prompt_arg)
        prompt = strdup(prompt_arg);

    double t0 = cli_now();
    if (fast) {
        woolly_synth_params sp;
        int st = cli_fast_params("run", &sp);
        if (st != EXIT_OK) {
            free(prompt);
            return st;
        }
        sp.seed = (uint64_t)seed;
        sp.n_threads = (int)threads;
        sp.vocab_path = vocab_path;
        woolly_status s = woolly_model_synth(&sp, &r.model, err, sizeof err);
        if (s != WOOLLY_OK) {
            free(prompt);
            return s == WOOLLY_ERR_INVALID ? cli_usage_error("run", "%s", err) : cli_error("run", "%s", err);
        }
    } else {
        woolly_model_params mp;
        woolly_model_params_init(&mp, sizeof mp);
        mp.n_threads = (int)threads;
        mp.use_mmap = use_mmap;
        mp.repack = repack;
        if (woolly_model_load(model_path, &mp, &r.model, err, sizeof err) != WOOLLY_OK) {
            cli_error("run", "%s", err);
            goto done;
        }
    }
    load_s = cli_now() - t0;
    r.info.size = sizeof r.info;
    woolly_model_get_info(r.model, &r.info);
    r.vocab = woolly_model_vocab(r.model);
    if (!r.vocab) {
        cli_error("run", "%s has no vocabulary: text cannot be generated (woolly logits works with token ids)",
                  model_path ? model_path : "the model");
        goto done;
    }

    woolly_session_params sp;
    woolly_session_params_init(&sp, sizeof sp);
    sp.n_threads = (int)threads;
    sp.n_ctx = (uint32_t)ctx;
    sp.n_batch = (uint32_t)batch;
    if (woolly_session_new(r.model, &sp, &r.sess, err, sizeof err) != WOOLLY_OK) {
        cli_error("run", "%s", err);
        goto done;
    }
    woolly_sampler_params smp;
    woolly_sampler_params_init(&smp, sizeof smp);
    smp.temperature = (float)temp;
    smp.top_k = (int32_t)top_k;
    smp.top_p = (float)top_p;
    smp.min_p = (float)min_p;
    smp.repeat_penalty = (float)penalty;
    smp.repeat_last_n = (int32_t)last_n;
    smp.seed = (uint64_t)seed;
    if (woolly_sampler_new(&smp, (int32_t)r.info.n_vocab, &r.sampler) != WOOLLY_OK ||
        woolly_detokenizer_new(r.vocab, &r.detok) != WOOLLY_OK) {
        cli_error("run", "out of memory");
        goto done;
    }
    if (prompt && (rc = tokenize(&r, prompt, 1, &tok, &n_tok)) != EXIT_OK)
        goto done;
    rc = EXIT_RUNTIME;
    if (prompt && n_tok > woolly_session_n_ctx(r.sess)) {
        cli_error("run", "the prompt has %zu tokens, more than the context of %u (use a larger --ctx-size, "
                  "up to the model's %u)", n_tok, woolly_session_n_ctx(r.sess), r.info.n_ctx_train);
        goto done;
    }
    if (dry) {
        printf("model:     %s (%s, %u layers, %u embedding, %u heads / %u KV heads, vocab %u)\n",
               model_path ? model_path : "synthetic (--fast-fp32)", r.info.arch, r.info.n_layer, r.info.n_embd,
               r.info.n_head, r.info.n_head_kv, r.info.n_vocab);
        printf("weights:   %.2f MiB, %.2f M parameters; kernels: %s\n", (double)r.info.n_bytes / (1 << 20),
               (double)r.info.n_params / 1e6, woolly_kernel_level());
        printf("context:   %u tokens (trained for %u)\n", woolly_session_n_ctx(r.sess), r.info.n_ctx_train);
        if (prompt)
            printf("prompt:    %zu tokens\n", n_tok);
        printf("generate:  up to %ld tokens, temperature %g, top-k %ld, top-p %g, min-p %g, seed %ld\n",
               r.max_tokens, temp, top_k, top_p, min_p, seed);
        printf("(dry run: nothing generated)\n");
        rc = EXIT_OK;
        goto done;
    }
    signal(SIGINT, on_sigint);
    if (inter) {
        rc = interactive(&r);
    } else {
        rc = generate(&r, tok, n_tok);
        if (rc == EXIT_OK) {
            if (r.json)
                print_json(&r, tok, load_s);
            else
                putchar('\n');
            if (r.timing)
                print_timing(&r, load_s);
        }
    }
done:
    free(prompt);
    free(tok);
    free(r.gen);
    free(r.text);
    woolly_detokenizer_free(r.detok);
    woolly_sampler_free(r.sampler);
    woolly_session_free(r.sess);
    woolly_model_free(r.model);
    return rc;
}
