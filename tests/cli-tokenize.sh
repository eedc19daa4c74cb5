#!/bin/sh
# woolly tokenize: invocation errors always; real tokenizing on the reference
# vocabularies when $WOOLLY_REF_DIR has them.
. "$top_srcdir/tests/testlib.sh"

expect_status 0 "$WOOLLY" tokenize --help
expect_grep '^Usage: woolly tokenize' "$tmp/out"
expect_status 2 "$WOOLLY" tokenize -p text
expect_grep 'no model' "$tmp/err"
expect_grep "Try 'woolly tokenize --help'" "$tmp/err"
expect_status 2 "$WOOLLY" tokenize -m model.gguf
expect_grep 'no text' "$tmp/err"
expect_status 2 "$WOOLLY" tokenize -m model.gguf -p a -f b
expect_grep 'only one of' "$tmp/err"
expect_status 2 "$WOOLLY" tokenize -m model.gguf -p a --frobnicate
expect_grep "unknown option '--frobnicate'" "$tmp/err"
expect_status 2 "$WOOLLY" tokenize -m
expect_grep 'needs a value' "$tmp/err"
expect_status 2 "$WOOLLY" tokenize -m model.gguf -p a stray
expect_grep "unexpected argument 'stray'" "$tmp/err"
expect_status 1 "$WOOLLY" tokenize -m "$tmp/no-such-model.gguf" -p text
expect_grep 'no-such-model.gguf' "$tmp/err"
echo "not a GGUF file" >"$tmp/junk.gguf"
expect_status 1 "$WOOLLY" tokenize -m "$tmp/junk.gguf" -p text
expect_status 1 "$WOOLLY" tokenize -m "$tmp/junk.gguf" -f "$tmp/no-such-text"
expect_grep 'cannot read .*No such file' "$tmp/err"

vocab=${WOOLLY_REF_DIR:-}/vocab
if [ ! -f "$vocab/ggml-vocab-llama-spm.gguf" ]; then
    echo "no reference vocabularies: only the error paths were tested"
    [ $fail -eq 0 ] && exit 77
    finish
fi
spm="$vocab/ggml-vocab-llama-spm.gguf"
gpt2="$vocab/ggml-vocab-gpt-2.gguf"

# SentencePiece: BOS, the leading space, pieces in quotes
expect_status 0 "$WOOLLY" tokenize -m "$spm" -p 'Hello world'
expect_lines 3 "$tmp/out"
expect_grep "^1	'<s>'$" "$tmp/out"
expect_grep "^15043	' Hello'$" "$tmp/out"
expect_grep "^3186	' world'$" "$tmp/out"
expect_status 0 "$WOOLLY" tokenize -m "$spm" -p 'Hello world' --ids
expect_grep '^1 15043 3186$' "$tmp/out"
expect_status 0 "$WOOLLY" tokenize -m "$spm" -p 'Hello world' --ids --no-bos
expect_grep '^15043 3186$' "$tmp/out"

# escapes: newline, tab, quote, and the bytes of a character split over
# byte tokens; the same text from a file and from standard input
printf "a\n\tb'\360\237\246\231" >"$tmp/text"
expect_status 0 "$WOOLLY" tokenize -m "$spm" -f "$tmp/text"
expect_grep "^13	'\\\\n'$" "$tmp/out"
expect_grep "^12	'\\\\t'$" "$tmp/out"
expect_grep "^29915	'\\\\''$" "$tmp/out"
expect_grep "^243	'\\\\xf0'$" "$tmp/out"
cp "$tmp/out" "$tmp/from-file"
"$WOOLLY" tokenize -m "$spm" --stdin <"$tmp/text" >"$tmp/from-stdin" 2>"$tmp/err" ||
    { echo "FAIL: --stdin"; fail=1; }
cmp -s "$tmp/from-file" "$tmp/from-stdin" || { echo "FAIL: --stdin and -f differ"; fail=1; }

# byte-level BPE; control tokens only with --parse-special
expect_status 0 "$WOOLLY" tokenize -m "$gpt2" -p "it's <|endoftext|>" --ids
expect_grep '^270 338 1279 91 437 1659 5239 91 29$' "$tmp/out"
expect_status 0 "$WOOLLY" tokenize -m "$gpt2" -p "it's <|endoftext|>" --parse-special
expect_lines 4 "$tmp/out"
expect_grep "^50256	'<\\|endoftext\\|>'$" "$tmp/out"
expect_status 0 "$WOOLLY" tokenize -m "$gpt2" -p "" --ids
expect_grep '^$' "$tmp/out"

expect_status 0 "$WOOLLY" tokenize -m "$gpt2" -p 'timing' --timing --ids
expect_grep 'MB/s' "$tmp/err"
finish
