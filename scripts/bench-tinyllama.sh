#!/bin/sh
# Reproduce the speed table of README: TinyLlama-1.1B-shaped models with
# random weights (vocab 32000, hidden 2048, 22 layers, 32 heads, 4 KV heads,
# FFN 5632) in Q4_0, Q8_0, Q4_K_M and F32, measured with `woolly bench`
# (pp512 and tg128, 2 threads by default).
#
#   scripts/bench-tinyllama.sh [WOOLLY] [THREADS] [TYPES...]
#
# WOOLLY defaults to ./cli/woolly; the models are written to $TMPDIR (about
# 8 GB while F32 is measured) and removed afterwards.
set -eu
woolly=${1:-./cli/woolly}
threads=${2:-2}
[ $# -ge 2 ] && shift 2 || shift $#
types=${*:-q4_0 q8_0 q4_k_m f32}
dir=$(mktemp -d "${TMPDIR:-/tmp}/woolly-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
shape="--vocab-size 32000 --hidden-size 2048 --layers 22 --heads 32 --kv-heads 4 --intermediate-size 5632 --context 2048"

printf '| type | size | pp512 t/s | tg128 t/s | decode GB/s | share of bandwidth |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: |\n'
for t in $types; do
    m="$dir/tinyllama-$t.gguf"
    case $t in
    q4_k_m|q5_k_m)
        "$woolly" synth -o "$dir/f16.gguf" --type f16 $shape -t "$threads"
        "$woolly" quantize -q "$dir/f16.gguf" "$m" "$t" -t "$threads"
        rm -f "$dir/f16.gguf" ;;
    *)
        "$woolly" synth -o "$m" --type "$t" $shape -t "$threads" ;;
    esac
    # A file just written sits in the page cache in small pages; dropped
    # from it, the model is read back as a downloaded one is, into the
    # 2 MiB folios that woolly's mapping asks for.
    sync "$m" 2>/dev/null || sync
    dd if="$m" iflag=nocache count=0 2>/dev/null || :
    "$woolly" bench -m "$m" -t "$threads" -p 512 -n 128 -r 3 --sustained 0 --no-sequence --json >"$dir/out.json"
    python3 - "$t" "$dir/out.json" <<'PY'
import json, sys
t, d = sys.argv[1], json.load(open(sys.argv[2]))
r = d["roofline"]
gbs = d["tg"]["tps_mean"] * r["decode_bytes_per_token"] / 1e9
print("| %s | %.0f MiB | %.1f ± %.1f | %.1f ± %.1f | %.1f | %.0f%% of %.1f GB/s |" % (
    t, d["size_bytes"] / 2**20, d["pp"]["tps_mean"], d["pp"]["tps_sd"], d["tg"]["tps_mean"],
    d["tg"]["tps_sd"], gbs, 100 * r["decode_share"], r["bandwidth_gbs"]))
PY
    rm -f "$m"
done
