#!/bin/sh
# woolly info: text, --tensors and --json on a fixture the test writes,
# damaged and missing files, bad invocations, and a reference model.
. "$top_srcdir/tests/testlib.sh"

fixture="$tmp/fixture.gguf"
"$top_builddir/tests/mkfixture$EXEEXT" "$fixture" 64 || { echo "FAIL: mkfixture"; exit 1; }

expect_status 0 "$WOOLLY" info "$fixture"
expect_grep '^architecture: +llama$' "$tmp/out"
expect_grep '^name: +woolly "fixture" \\ model$' "$tmp/out"
expect_grep '^GGUF version: +3$' "$tmp/out"
expect_grep '^alignment: +64$' "$tmp/out"
expect_grep '^file size: +3584 bytes' "$tmp/out"
expect_grep '^  context_length +256$' "$tmp/out"
expect_grep '^  attention.head_count_kv +2$' "$tmp/out"
expect_grep '^  rope.freq_base +10000$' "$tmp/out"
expect_grep '^tokenizer: +llama$' "$tmp/out"
expect_grep '^pre-tokenizer: +default$' "$tmp/out"
expect_grep '^vocab size: +7$' "$tmp/out"
expect_grep '^tensors: +5 ' "$tmp/out"
expect_grep '^parameters: +1600$' "$tmp/out"
expect_grep '^  q8_0 +1 tensor +476 bytes' "$tmp/out"
# A type woolly cannot compute is still listed, and marked.
expect_grep '^  iq4_nl +1 tensor +108 bytes +\(woolly cannot compute' "$tmp/out"
expect_no_grep 'token_embd' "$tmp/out"

expect_status 0 "$WOOLLY" info --tensors "$fixture"
expect_grep '^NAME +TYPE +SHAPE +OFFSET +BYTES$' "$tmp/out"
expect_grep '^token_embd.weight +q8_0 +64 x 7 +0 +476$' "$tmp/out"
expect_grep '^blk.0.ffn_down.weight +iq4_nl +32 x 2 x 3 +768 +108$' "$tmp/out"
expect_grep '^output.weight +f16 +64 x 6 +1216 +768$' "$tmp/out"

expect_status 0 "$WOOLLY" info --json --tensors "$fixture"
cp "$tmp/out" "$tmp/json"
expect_grep '"architecture": "llama"' "$tmp/json"
expect_grep '"name": "woolly \\"fixture\\" \\\\ model"' "$tmp/json"
expect_grep '"shape": \[32, 2, 3\]' "$tmp/json"
expect_grep '"type": "iq4_nl", "tensors": 1, "bytes": 108, "supported": false' "$tmp/json"
if command -v python3 >/dev/null 2>&1; then
    if ! python3 -m json.tool "$tmp/json" >/dev/null 2>"$tmp/err"; then
        echo "FAIL: --json output is not valid JSON:"; cat "$tmp/err"; fail=1
    fi
    # The values, read back by a JSON parser.
    python3 - "$tmp/json" >"$tmp/checked" 2>&1 <<'PY' || { echo "FAIL: JSON content:"; cat "$tmp/checked"; fail=1; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["gguf_version"] == 3 and d["alignment"] == 64, d
assert d["hyperparameters"]["block_count"] == 1
assert abs(d["hyperparameters"]["attention.layer_norm_rms_epsilon"] - 1e-5) < 1e-12
assert d["tokenizer"] == {"model": "llama", "pre": "default", "vocab_size": 7}, d["tokenizer"]
assert d["tensor_count"] == 5 and len(d["tensors"]) == 5
assert d["parameters"] == sum(eval("*".join(map(str, t["shape"]))) for t in d["tensors"])
assert sum(t["bytes"] for t in d["types"]) == d["tensor_bytes"] == 1896
PY
else
    echo "python3 not found: JSON validation skipped"
fi
expect_status 0 "$WOOLLY" info --json "$fixture"
expect_no_grep '"tensors": \[' "$tmp/out"

# A damaged file: the message names the file and the problem.
head -c 200 "$fixture" >"$tmp/cut.gguf"
expect_status 1 "$WOOLLY" info "$tmp/cut.gguf"
expect_grep "^woolly info: $tmp/cut.gguf: .* at offset [0-9]+: .*(ends inside|remain|left)" "$tmp/err"
printf 'GGML not a gguf file at all' >"$tmp/bad.gguf"
expect_status 1 "$WOOLLY" info "$tmp/bad.gguf"
expect_grep 'bad magic' "$tmp/err"
expect_status 1 "$WOOLLY" info "$tmp/absent.gguf"
expect_grep "^woolly info: $tmp/absent.gguf: No such file or directory$" "$tmp/err"
expect_status 1 "$WOOLLY" info "$tmp"
expect_grep 'Is a directory' "$tmp/err"

# Bad invocations.
expect_status 2 "$WOOLLY" info
expect_grep 'no MODEL given' "$tmp/err"
expect_status 2 "$WOOLLY" info --frobnicate "$fixture"
expect_grep "unknown option '--frobnicate'" "$tmp/err"
expect_grep "Try 'woolly info --help'" "$tmp/err"
expect_status 2 "$WOOLLY" info "$fixture" "$fixture"
expect_status 0 "$WOOLLY" info --help
expect_grep '^Usage: woolly info' "$tmp/out"

# A reference model, when the reference set is here.
ref=${WOOLLY_REF_DIR:-}/models/qwen2-bpe-tied-q4_k_m.gguf
if [ -n "${WOOLLY_REF_DIR:-}" ] && [ -f "$ref" ]; then
    expect_status 0 "$WOOLLY" info "$ref"
    expect_grep '^architecture: +qwen2$' "$tmp/out"
    expect_grep '^  q4_k +[0-9]+ tensors' "$tmp/out"
    expect_grep '^tensors: +26 ' "$tmp/out"
    expect_status 0 "$WOOLLY" info --json --tensors "$ref"
    if command -v python3 >/dev/null 2>&1 && ! python3 -m json.tool "$tmp/out" >/dev/null; then
        echo "FAIL: --json on $ref is not valid JSON"; fail=1
    fi
else
    echo "no reference models: that part skipped"
fi
finish
