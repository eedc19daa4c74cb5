/* tokenize.c - woolly tokenize: show how a model's tokenizer cuts a text. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"

static const char *const cmd = "tokenize";

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: woolly tokenize -m MODEL (-p TEXT | -f FILE | --stdin) [OPTIONS]\n"
            "Print the tokens of a text as the model's tokenizer makes them, one per\n"
            "line: the id, a tab, and the text of the token in quotes.\n"
            "\n"
            "Options:\n"
            "  -m, --model FILE     the GGUF model; a vocabulary-only file will do\n"
            "  -p, --prompt TEXT    tokenize TEXT\n"
            "  -f, --file FILE      tokenize the contents of FILE\n"
            "      --stdin          tokenize standard input\n"
            "      --ids            print only the ids, on one line\n"
            "      --no-bos         add no BOS or EOS token, whatever the model says\n"
            "      --parse-special  recognise control tokens (such as <s>) in the text\n"
            "      --timing         report the tokenizing speed on standard error\n"
            "  -h, --help           show this help and exit\n");
}

/* Print a piece between quotes: control characters, quotes, backslashes and
 * bytes that are not UTF-8 escaped. */
static void print_piece(const char *piece, size_t len)
{
    const unsigned char *s = (const unsigned char *)piece;

    putchar('\'');
    for (size_t i = 0; i < len;) {
        size_t clen;
        if (s[i] == '\n')
            fputs("\\n", stdout);
        else if (s[i] == '\t')
            fputs("\\t", stdout);
        else if (s[i] == '\r')
            fputs("\\r", stdout);
        else if (s[i] == '\\' || s[i] == '\'')
            printf("\\%c", s[i]);
        else if (s[i] >= 0x20 && s[i] < 0x7f)
            putchar(s[i]);
        else if (s[i] >= 0x80 && (clen = cli_utf8_length(s + i, len - i)) > 0) {
            fwrite(s + i, 1, clen, stdout);
            i += clen;
            continue;
        } else
            printf("\\x%02x", s[i]);
        i++;
    }
    putchar('\'');
}

static int print_tokens(const woolly_vocab *v, const int32_t *ids, size_t n, int ids_only)
{
    size_t cap = 256;
    char *piece = malloc(cap);

    if (!piece)
        return cli_error(cmd, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t len;
        woolly_status st;

        if (ids_only) {
            printf("%s%d", i ? " " : "", ids[i]);
            continue;
        }
        st = woolly_token_to_piece(v, ids[i], WOOLLY_PIECE_SPECIAL, piece, cap, &len);
        if (st == WOOLLY_ERR_RANGE) {
            char *np = realloc(piece, len);
            if (!np) {
                free(piece);
                return cli_error(cmd, "out of memory");
            }
            piece = np;
            cap = len;
            st = woolly_token_to_piece(v, ids[i], WOOLLY_PIECE_SPECIAL, piece, cap, &len);
        }
        if (st != WOOLLY_OK) {
            free(piece);
            return cli_error(cmd, "token %d: %s", ids[i], woolly_strerror(st));
        }
        printf("%d\t", ids[i]);
        print_piece(piece, len);
        putchar('\n');
    }
    if (ids_only)
        putchar('\n');
    free(piece);
    return EXIT_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Tokenize TEXT into *IDS (allocated). */
static int tokenize(const woolly_vocab *v, const char *text, size_t len, unsigned flags,
                    int32_t **ids, size_t *n, int timing)
{
    size_t cap = len / 2 + 16;
    double t0 = now(), t;
    woolly_status st;

    *ids = malloc(cap * sizeof **ids);
    if (!*ids)
        return cli_error(cmd, "out of memory");
    st = woolly_tokenize(v, text, len, flags, *ids, cap, n);
    if (st == WOOLLY_ERR_RANGE) {
        int32_t *more = realloc(*ids, *n * sizeof **ids);
        if (!more)
            return cli_error(cmd, "out of memory");
        *ids = more;
        st = woolly_tokenize(v, text, len, flags, *ids, *n, n);
    }
    if (st != WOOLLY_OK)
        return cli_error(cmd, "cannot tokenize: %s", woolly_strerror(st));
    t = now() - t0;
    if (timing)
        fprintf(stderr, "woolly tokenize: %zu bytes, %zu tokens in %.3f ms: %.2f MB/s\n", len, *n,
                t * 1e3, t > 0 ? (double)len / t / 1e6 : 0.0);
    return EXIT_OK;
}

int cmd_tokenize(int argc, char **argv)
{
    enum { OPT_STDIN = 256, OPT_IDS, OPT_NO_BOS, OPT_PARSE_SPECIAL, OPT_TIMING };
    static const struct option options[] = {
        { "model", required_argument, NULL, 'm' },
        { "prompt", required_argument, NULL, 'p' },
        { "file", required_argument, NULL, 'f' },
        { "stdin", no_argument, NULL, OPT_STDIN },
        { "ids", no_argument, NULL, OPT_IDS },
        { "no-bos", no_argument, NULL, OPT_NO_BOS },
        { "parse-special", no_argument, NULL, OPT_PARSE_SPECIAL },
        { "timing", no_argument, NULL, OPT_TIMING },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *model = NULL, *prompt = NULL, *file = NULL;
    int use_stdin = 0, ids_only = 0, timing = 0, sources, opt, rc;
    unsigned flags = WOOLLY_TOKENIZE_ADD_SPECIAL;
    char err[WOOLLY_ERRBUF_SIZE];
    woolly_gguf *gguf;
    woolly_vocab *vocab;
    woolly_status st;
    char *text = NULL;
    size_t len, n = 0;
    int32_t *ids = NULL;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":m:p:f:h", options, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case 'p': prompt = optarg; break;
        case 'f': file = optarg; break;
        case OPT_STDIN: use_stdin = 1; break;
        case OPT_IDS: ids_only = 1; break;
        case OPT_NO_BOS: flags &= ~WOOLLY_TOKENIZE_ADD_SPECIAL; break;
        case OPT_PARSE_SPECIAL: flags |= WOOLLY_TOKENIZE_PARSE_SPECIAL; break;
        case OPT_TIMING: timing = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!model)
        return cli_usage_error(cmd, "no model: give -m MODEL");
    sources = (prompt != NULL) + (file != NULL) + use_stdin;
    if (sources != 1)
        return cli_usage_error(cmd, sources ? "give only one of -p, -f and --stdin"
                                            : "no text: give -p TEXT, -f FILE or --stdin");

    if (prompt) {
        len = strlen(prompt);
    } else {
        text = cli_read_file(use_stdin ? "-" : file, &len);
        if (!text)
            return cli_error(cmd, "cannot read %s: %s", use_stdin ? "standard input" : file,
                             strerror(errno));
    }

    err[0] = '\0';
    st = woolly_gguf_open(model, &gguf, err, sizeof err);
    if (st == WOOLLY_OK) {
        st = woolly_vocab_load(gguf, &vocab, err, sizeof err);
        woolly_gguf_free(gguf);
    }
    if (st != WOOLLY_OK) {
        free(text);
        return cli_error(cmd, "%s: %s", model, err[0] ? err : woolly_strerror(st));
    }
    rc = tokenize(vocab, prompt ? prompt : text, len, flags, &ids, &n, timing);
    if (rc == EXIT_OK)
        rc = print_tokens(vocab, ids, n, ids_only);
    if (rc == EXIT_OK && (fflush(stdout) != 0 || ferror(stdout)))
        rc = cli_error(cmd, "cannot write the output");
    free(ids);
    free(text);
    woolly_vocab_free(vocab);
    return rc;
}
