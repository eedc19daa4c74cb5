#!/bin/sh
# woolly run: synthetic and real models, sampling, JSON, errors.
. "$top_srcdir/tests/testlib.sh"

expect_status 0 "$WOOLLY" run --fast-fp32 --prompt "Hello world" --timing -n 16
[ -s "$tmp/out" ] || { echo "FAIL: nothing generated"; fail=1; }
expect_grep '^load: [0-9.]+ ms \| prompt: [0-9]+ tokens' "$tmp/err"
# the output is printable text
if LC_ALL=C grep -q '[^[:print:][:space:]]' "$tmp/out"; then echo "FAIL: unprintable output"; fail=1; fi

# --json, and the same seed gives the same tokens whatever the threads
expect_status 0 "$WOOLLY" run --fast-fp32 -p "Once upon a time" -n 12 --json -t 1 --seed 7
cp "$tmp/out" "$tmp/a.json"
expect_grep '^\{"prompt_tokens": \[1, ' "$tmp/a.json"
expect_grep '"timings": \{"load_ms"' "$tmp/a.json"
expect_status 0 "$WOOLLY" run --fast-fp32 -p "Once upon a time" -n 12 --json -t 2 --seed 7
sed 's/"timings".*//' "$tmp/a.json" >"$tmp/a"; sed 's/"timings".*//' "$tmp/out" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || { echo "FAIL: tokens depend on the thread count"; fail=1; }
expect_status 0 "$WOOLLY" run --fast-fp32 -p "Once upon a time" -n 12 --json --seed 8
sed 's/"timings".*//' "$tmp/out" >"$tmp/c"
cmp -s "$tmp/a" "$tmp/c" && { echo "FAIL: another seed gave the same tokens"; fail=1; }
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["generated_tokens"]) <= 12' "$tmp/a.json" ||
        { echo "FAIL: --json is not valid JSON"; fail=1; }
fi

# -f, --dry-run, the context limit
printf 'A prompt from a file' >"$tmp/p.txt"
expect_status 0 "$WOOLLY" run --fast-fp32 -f "$tmp/p.txt" -n 4 --temp 0
expect_status 0 "$WOOLLY" run --fast-fp32 -p "Hello" --dry-run
expect_grep '^prompt: +[0-9]+ tokens' "$tmp/out"
expect_grep 'dry run' "$tmp/out"
expect_status 1 "$WOOLLY" run --fast-fp32 -p "a b c d e f g h i j k l" -c 4
expect_grep 'more than the context of 4' "$tmp/err"

# interactive, from a pipe
printf 'Hello\n/reset\nAgain\n/quit\n' | "$WOOLLY" run --fast-fp32 -i -n 4 >"$tmp/out" 2>"$tmp/err" ||
    { echo "FAIL: interactive mode failed"; fail=1; }
expect_grep 'forgotten' "$tmp/out"

# bad invocations: exit 2 and a hint
expect_status 2 "$WOOLLY" run --fast-fp32
expect_grep 'no prompt' "$tmp/err"
expect_status 2 "$WOOLLY" run -p "x"
expect_grep 'no model' "$tmp/err"
expect_status 2 "$WOOLLY" run --fast-fp32 -m model.gguf -p x
expect_grep 'cannot be used with --model' "$tmp/err"
expect_status 2 "$WOOLLY" run --fast-fp32 -p x --temp -1
expect_status 2 "$WOOLLY" run --fast-fp32 -p x --top-p 2
expect_status 2 "$WOOLLY" run --fast-fp32 -p x -n abc
expect_status 2 "$WOOLLY" run --fast-fp32 -p x --frobnicate
expect_grep "Try 'woolly run --help'" "$tmp/err"
expect_status 2 env WOOLLY_FAST_NUM_HEADS=7 "$WOOLLY" run --fast-fp32 -p x
expect_grep 'not divisible by the 7 heads' "$tmp/err"
expect_status 1 "$WOOLLY" run -m "$tmp/missing.gguf" -p x
expect_status 1 "$WOOLLY" run --fast-fp32 -f "$tmp/missing.txt"

# a real model from the reference set: greedy, as llama.cpp generated
if [ -f "${WOOLLY_REF_DIR:-}/models/llama-spm-gqa.gguf" ]; then
    expect_status 0 "$WOOLLY" run -m "$WOOLLY_REF_DIR/models/llama-spm-gqa.gguf" \
        -p "The quick brown fox jumps over the lazy dog. Once upon a time" --temp 0 -n 24 --json
    want=$(LC_ALL=C tr -d '\n ' <"$WOOLLY_REF_DIR/logits/llama-spm-gqa.json" | sed 's/.*"tokens":\[\([0-9,]*\)\].*/\1/')
    got=$(LC_ALL=C sed -e 's/, "text".*//' -e 's/^{"prompt_tokens": \[//' -e 's/\], "generated_tokens": \[/,/' -e 's/\]$//' "$tmp/out" | tr -d ' ')
    [ "$got" = "$want" ] || { echo "FAIL: greedy run differs from llama.cpp:"; echo " got  $got"; echo " want $want"; fail=1; }
    # the file read into memory instead of mapped: the same tokens
    sed 's/, "timings".*//' "$tmp/out" >"$tmp/out-mmap"
    expect_status 0 "$WOOLLY" run -m "$WOOLLY_REF_DIR/models/llama-spm-gqa.gguf" --no-mmap \
        -p "The quick brown fox jumps over the lazy dog. Once upon a time" --temp 0 -n 24 --json
    sed 's/, "timings".*//' "$tmp/out" >"$tmp/out-read"
    grep -q '"generated_tokens": \[[0-9]' "$tmp/out-read" || { echo "FAIL: run --no-mmap generated nothing"; fail=1; }
    cmp -s "$tmp/out-read" "$tmp/out-mmap" || { echo "FAIL: run --no-mmap differs from run"; fail=1; }
fi
finish
