/* synth-vocab.c - the built-in vocabulary of synthetic models: SentencePiece
 * style ("llama"), every piece printable, so that a random model's output
 * can be shown on a terminal.  No byte tokens: a random model would emit
 * bytes that are no text; characters outside it tokenize to <unk>. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

/* Common English words, to make output look like text. */
static const char *const words[] = {
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had",
    "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if",
    "more", "when", "will", "would", "who", "so", "no", "she", "other", "its", "may", "these", "what",
    "them", "than", "some", "him", "time", "into", "only", "do", "could", "new", "about", "two", "also",
    "first", "any", "like", "then", "now", "over", "such", "our", "man", "me", "even", "most", "made",
    "after", "many", "before", "must", "through", "years", "where", "much", "your", "way", "well",
    "down", "should", "because", "each", "just", "those", "people", "how", "too", "little", "state",
    "good", "very", "make", "world", "still", "own", "see", "men", "work", "long", "get", "here",
    "between", "both", "life", "being", "under", "never", "day", "same", "another", "know", "while",
    "last", "might", "us", "great", "old", "year", "off", "come", "since", "against", "go", "came",
    "right", "used", "take", "three", "water", "light", "house", "river", "small", "sky", "wool",
    "sheep", "field", "morning", "night", "story", "music", "stone", "green", "blue", "quiet",
};
#define N_WORDS (sizeof words / sizeof words[0])

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Piece I of the groups after the specials, bytes, characters and words:
 * "▁" + two or three lower-case letters, then the same without the space. */
static void letter_group(uint32_t i, char *buf, size_t cap)
{
    static const char sp[] = "\xe2\x96\x81";
    uint32_t two = 26 * 26, three = 26 * 26 * 26;
    int space = 1;
    char letters[4] = { 0 };

    i %= 2 * (two + three);
    if (i >= two + three) {
        i -= two + three;
        space = 0;
    }
    if (i < two) {
        letters[0] = (char)('a' + i / 26);
        letters[1] = (char)('a' + i % 26);
    } else {
        i -= two;
        letters[0] = (char)('a' + i / 676);
        letters[1] = (char)('a' + i / 26 % 26);
        letters[2] = (char)('a' + i % 26);
    }
    snprintf(buf, cap, "%s%s", space ? sp : "", letters);
}

/* Whether BUF is "▁" + one of the words (which come earlier in the vocab). */
static int is_word_piece(const char *buf)
{
    if (strncmp(buf, "\xe2\x96\x81", 3) != 0)
        return 0;
    for (size_t w = 0; w < N_WORDS; w++)
        if (strcmp(buf + 3, words[w]) == 0)
            return 1;
    return 0;
}

woolly_status wl_synth_vocab(uint32_t n, struct wl_synth_vocab *v)
{
    static const char sp[] = "\xe2\x96\x81";
    char buf[32];
    uint32_t i = 0, g = 0;

    memset(v, 0, sizeof *v);
    if (n < 3)
        return WOOLLY_ERR_INVALID;
    v->n = n;
    v->pieces = calloc(n, sizeof *v->pieces);
    v->scores = calloc(n, sizeof *v->scores);
    v->types = calloc(n, sizeof *v->types);
    if (!v->pieces || !v->scores || !v->types)
        goto nomem;
    /* Types as GGUF numbers them: 1 normal, 2 unknown, 3 control, 6 byte. */
    v->pieces[0] = dup_str("<unk>");
    v->types[0] = 2;
    v->pieces[1] = dup_str("<s>");
    v->types[1] = 3;
    v->pieces[2] = dup_str("</s>");
    v->types[2] = 3;
    i = 3;
    for (int c = ' '; c <= '~' && i < n; c++, i++) {
        snprintf(buf, sizeof buf, "%s", c == ' ' ? sp : (char[2]){ (char)c, 0 });
        v->pieces[i] = dup_str(buf);
        v->types[i] = 1;
        v->scores[i] = -1000.0f - (float)i;   /* single characters merge last */
    }
    for (size_t w = 0; w < N_WORDS && i < n; w++, i++) {
        snprintf(buf, sizeof buf, "%s%s", sp, words[w]);
        v->pieces[i] = dup_str(buf);
        v->types[i] = 1;
        v->scores[i] = -(float)w;
    }
    for (; i < n; g++) {
        letter_group(g, buf, sizeof buf);
        if (g >= 2 * (26 * 26 + 26 * 26 * 26))   /* past every group: numbered, still unique */
            snprintf(buf, sizeof buf, "%s%u", sp, (unsigned)g);
        else if (is_word_piece(buf))
            continue;
        v->pieces[i] = dup_str(buf);
        v->types[i] = 1;
        v->scores[i] = -100.0f - (float)g / 100.0f;
        i++;
    }
    for (i = 0; i < n; i++)
        if (!v->pieces[i])
            goto nomem;
    return WOOLLY_OK;
nomem:
    wl_synth_vocab_free(v);
    return WOOLLY_ERR_NOMEM;
}

void wl_synth_vocab_free(struct wl_synth_vocab *v)
{
    for (uint32_t i = 0; v->pieces && i < v->n; i++)
        free(v->pieces[i]);
    free(v->pieces);
    free(v->scores);
    free(v->types);
    memset(v, 0, sizeof *v);
}
