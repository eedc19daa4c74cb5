#!/bin/sh
# woolly synth, quantize, logits and bench on a small synthetic model: the
# good paths and the bad ones.
. "$top_srcdir/tests/testlib.sh"

m="$tmp/syn.gguf"
export WOOLLY_FAST_VOCAB_SIZE=300 WOOLLY_FAST_HIDDEN_SIZE=256 WOOLLY_FAST_NUM_LAYERS=2 \
    WOOLLY_FAST_NUM_HEADS=4 WOOLLY_FAST_NUM_KV_HEADS=2 WOOLLY_FAST_INTERMEDIATE_SIZE=512 \
    WOOLLY_FAST_CONTEXT_LENGTH=256

# synth
expect_status 0 "$WOOLLY" synth -o "$m"
[ -s "$m" ] || { echo "FAIL: synth wrote nothing"; fail=1; }
expect_status 0 "$WOOLLY" info "$m"
expect_grep '^architecture: +llama' "$tmp/out"
expect_grep '^vocab size: +300' "$tmp/out"
expect_status 2 "$WOOLLY" synth
expect_grep 'no output file' "$tmp/err"
expect_status 2 "$WOOLLY" synth -o "$tmp/x.gguf" --heads 7
expect_grep 'not divisible by the 7 heads' "$tmp/err"
expect_status 2 env WOOLLY_FAST_NUM_KV_HEADS=3 "$WOOLLY" synth -o "$tmp/x.gguf"
expect_grep 'KV heads' "$tmp/err"
expect_status 2 env WOOLLY_FAST_HIDDEN_SIZE=0 "$WOOLLY" synth -o "$tmp/x.gguf"
expect_grep 'WOOLLY_FAST_HIDDEN_SIZE=0' "$tmp/err"
expect_status 2 "$WOOLLY" synth -o "$tmp/x.gguf" --type iq2_xxs
expect_grep 'cannot build weights of type iq2_xxs' "$tmp/err"
expect_status 1 "$WOOLLY" synth -o /nonexistent/dir/x.gguf
# a 7B shape in F32 at 16 times the layers: refused with the size, nothing allocated
expect_status 1 "$WOOLLY" synth -o "$tmp/x.gguf" --vocab-size 32000 --hidden-size 4096 --layers 512 \
    --heads 32 --kv-heads 32 --intermediate-size 11008
expect_grep 'needs [0-9.]+ GiB' "$tmp/err"
[ ! -e "$tmp/x.gguf" ] || { echo "FAIL: a refused synth left a file"; fail=1; }

# logits
expect_status 0 "$WOOLLY" logits -m "$m" --tokens "1 17 42 99" -o "$tmp/l.f32" --json
expect_grep '"rows": 4' "$tmp/out"
size=$(wc -c <"$tmp/l.f32")
[ "$size" -eq $((4 * 300 * 4)) ] || { echo "FAIL: logits file has $size bytes"; fail=1; }
expect_status 0 "$WOOLLY" logits -m "$m" --tokens "1,17,42,99" -o "$tmp/l2.f32" -t 1 -b 1
cmp -s "$tmp/l.f32" "$tmp/l2.f32" || { echo "FAIL: logits depend on threads or batch"; fail=1; }
expect_status 0 "$WOOLLY" logits -m "$m" --no-mmap --tokens "1 17 42 99" -o "$tmp/l3.f32"
cmp -s "$tmp/l.f32" "$tmp/l3.f32" || { echo "FAIL: logits differ with --no-mmap"; fail=1; }
# Q4_0, which the AVX512-VNNI kernels read repacked: the same logits
# repacked from the mapping, in place (--no-mmap) and not at all.
q4="$tmp/q4.gguf"
expect_status 0 "$WOOLLY" synth -o "$q4" --type q4_0 --vocab-size 320
expect_status 0 "$WOOLLY" logits -m "$q4" --tokens "1 17 42 99" -o "$tmp/q1.f32"
expect_status 0 "$WOOLLY" logits -m "$q4" --no-repack --tokens "1 17 42 99" -o "$tmp/q2.f32" -b 1
expect_status 0 "$WOOLLY" logits -m "$q4" --no-mmap --tokens "1 17 42 99" -o "$tmp/q3.f32" -b 1
cmp -s "$tmp/q1.f32" "$tmp/q2.f32" || { echo "FAIL: q4_0 logits differ with --no-repack"; fail=1; }
cmp -s "$tmp/q1.f32" "$tmp/q3.f32" || { echo "FAIL: q4_0 logits differ with --no-mmap"; fail=1; }
expect_status 0 "$WOOLLY" bench -m "$q4" --no-repack -p 8 -n 2 -r 1 --sustained 0 --no-roofline --no-sequence
expect_status 1 "$WOOLLY" logits -m "$tmp/missing.gguf" --no-mmap --tokens "1" -o "$tmp/l.f32"
expect_grep 'missing.gguf' "$tmp/err"
expect_status 2 "$WOOLLY" logits -m "$m" -o "$tmp/l.f32"
expect_status 2 "$WOOLLY" logits -m "$m" --tokens "1 x" -o "$tmp/l.f32"
expect_status 1 "$WOOLLY" logits -m "$m" --tokens "1 300" -o "$tmp/l.f32"
expect_grep 'not in the vocabulary' "$tmp/err"
expect_status 1 "$WOOLLY" logits -m "$tmp/missing.gguf" --tokens "1" -o "$tmp/l.f32"

# quantize
expect_status 0 "$WOOLLY" quantize -q "$m" "$tmp/q8.gguf" q8_0
expect_status 0 "$WOOLLY" info "$tmp/q8.gguf"
expect_grep 'q8_0 +16 tensors' "$tmp/out"
expect_status 0 "$WOOLLY" quantize "$m" "$tmp/q4km.gguf" Q4_K_M
"$WOOLLY" info "$tmp/q4km.gguf" >"$tmp/info"
expect_grep 'q4_k ' "$tmp/info"
expect_grep 'q6_k ' "$tmp/info"
expect_status 0 "$WOOLLY" logits -m "$tmp/q4km.gguf" --tokens "1 17 42 99" -o "$tmp/lq.f32"
expect_status 2 "$WOOLLY" quantize "$tmp/q8.gguf" "$tmp/q4.gguf" q4_0
expect_grep 'allow-requantize' "$tmp/err"
expect_status 0 "$WOOLLY" quantize -q --allow-requantize "$tmp/q8.gguf" "$tmp/q4.gguf" q4_0
expect_status 2 "$WOOLLY" quantize "$m" "$tmp/x.gguf" q7_0
expect_grep "'q7_0' is not a type" "$tmp/err"
expect_status 2 "$WOOLLY" quantize "$m" "$tmp/x.gguf"
expect_status 2 "$WOOLLY" quantize "$m" "$m" q8_0
expect_status 1 "$WOOLLY" quantize "$tmp/missing.gguf" "$tmp/x.gguf" q8_0

# perplexity
i=0; : >"$tmp/text.txt"
while [ $i -lt 60 ]; do echo "the quick brown fox jumps over the lazy dog and the river runs to the sea" >>"$tmp/text.txt"; i=$((i + 1)); done
expect_status 0 "$WOOLLY" perplexity -m "$m" -f "$tmp/text.txt" -c 64 --json -t 1
expect_grep '^\{"perplexity": [0-9.]+, "uncertainty": [0-9.]+' "$tmp/out"
cp "$tmp/out" "$tmp/ppl1"
expect_status 0 "$WOOLLY" perplexity -m "$m" -f "$tmp/text.txt" -c 64 --json -t 2 -b 7
sed 's/, "seconds".*//' "$tmp/ppl1" >"$tmp/p1"; sed 's/, "seconds".*//' "$tmp/out" >"$tmp/p2"
cmp -s "$tmp/p1" "$tmp/p2" || { echo "FAIL: perplexity depends on threads or batch"; fail=1; }
expect_status 0 "$WOOLLY" perplexity -m "$m" --no-mmap -f "$tmp/text.txt" -c 64 --json -t 1
sed 's/, "seconds".*//' "$tmp/out" >"$tmp/p3"
cmp -s "$tmp/p1" "$tmp/p3" || { echo "FAIL: perplexity differs with --no-mmap"; fail=1; }
expect_status 0 "$WOOLLY" perplexity -m "$m" -f "$tmp/text.txt" -c 64 --chunks 2
expect_grep '^perplexity: [0-9.]+ \+/- [0-9.]+ \([0-9]+ tokens scored in 2 windows of 64' "$tmp/out"
expect_grep '^\[1\][0-9.]+,\[2\][0-9.]+$' "$tmp/err"
expect_status 1 "$WOOLLY" perplexity -m "$m" -f "$tmp/text.txt" -c 100000
expect_grep 'fewer than one window' "$tmp/err"
expect_status 2 "$WOOLLY" perplexity -m "$m"
expect_status 2 "$WOOLLY" perplexity -f "$tmp/text.txt"
expect_status 1 "$WOOLLY" perplexity -m "$m" -f "$tmp/missing.txt"

# bench, small and quick
expect_status 0 "$WOOLLY" bench --fast-fp32 -p 16 -n 4 -r 1 --sustained 8 --no-roofline --no-sequence
expect_grep '^\| synthetic .*pp16 \|' "$tmp/out"
expect_grep 'tg4 ' "$tmp/out"
expect_grep 'latency p50' "$tmp/out"
# without a tg test the roofline gives the bandwidth and no decode share
expect_status 0 "$WOOLLY" bench --fast-fp32 -p 0 -n 0 -r 1 --sustained 4 --no-sequence
expect_grep '^roofline: memory bandwidth [0-9.]+ GB/s; decode reads [0-9.]+ MB/token$' "$tmp/out"
expect_status 0 "$WOOLLY" bench -m "$m" -p 8 -n 2 -r 1 --sustained 0 --no-roofline --no-sequence --json
expect_grep '"pp": \{"tokens": 8' "$tmp/out"
# the threads' waiting: with two threads, and not with one
expect_status 0 "$WOOLLY" bench -m "$m" -t 2 -p 8 -n 2 -r 1 --sustained 0 --no-roofline --no-sequence --json
expect_grep '"tg": \{"tokens": 2, .*"steps_per_token": [1-9][0-9.]*, "wait_share": [0-9.]+, "alone_share": [0-9.]+\}' "$tmp/out"
expect_status 0 "$WOOLLY" bench -m "$m" -t 2 -p 8 -n 2 -r 1 --sustained 0 --no-roofline --no-sequence
expect_grep '^threads: pp8: the calling thread waited for the others [0-9.]+% of the time, worked alone [0-9.]+%$' "$tmp/out"
expect_grep '^threads: tg2: [0-9.]+ parallel steps a token; the calling thread waited' "$tmp/out"
expect_status 0 "$WOOLLY" bench -m "$m" -t 1 -p 8 -n 2 -r 1 --sustained 0 --no-roofline --no-sequence
expect_no_grep '^threads:' "$tmp/out"
expect_status 0 "$WOOLLY" bench -m "$m" --no-mmap -p 8 -n 2 -r 1 --sustained 0 --no-roofline --no-sequence
expect_grep 'tg2 ' "$tmp/out"
expect_status 2 "$WOOLLY" bench
expect_status 2 "$WOOLLY" bench --fast-fp32 -m "$m"
expect_status 2 "$WOOLLY" bench --fast-fp32 -r 0
expect_status 2 env WOOLLY_FAST_TYPE=q9_9 "$WOOLLY" bench --fast-fp32
expect_grep 'WOOLLY_FAST_TYPE=q9_9' "$tmp/err"
finish
