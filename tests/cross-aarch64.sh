#!/bin/sh
# Cross-compile the library's compute core for AArch64 (NEON and dot-product
# kernels included) and, when qemu-aarch64 is there, run the kernel checks
# in it.  Needs gcc-aarch64-linux-gnu; run from the source tree:
#   sh tests/cross-aarch64.sh
set -eu
CC=${CROSS_CC:-aarch64-linux-gnu-gcc}
command -v "$CC" >/dev/null 2>&1 || { echo "$CC not found: skipped"; exit 77; }
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/woolly-aarch64.XXXXXX")
trap 'rm -rf "$out"' EXIT
cat >"$out/config.h" <<'CONF'
#define _GNU_SOURCE 1
#define HAVE_NEON 1
#define HAVE_DOTPROD 1
#define HAVE_SYS_AUXV_H 1
#define HAVE_GETAUXVAL 1
#define PACKAGE_VERSION "0.1.0"
CONF
flags="-std=c11 -O2 -Wall -Wextra -Werror -I$out -I$src/lib"
objs=""
for f in alloc cpu log status types quant kernels/scalar; do
    $CC $flags -c "$src/lib/$f.c" -o "$out/$(basename $f).o"
    objs="$objs $out/$(basename $f).o"
done
$CC $flags -c "$src/lib/kernels/neon.c" -o "$out/neon.o"
$CC $flags -march=armv8.2-a+dotprod -c "$src/lib/kernels/dotprod.c" -o "$out/dotprod.o"
$CC $flags -static -o "$out/kernels" "$src/tests/kernels-standalone.c" $objs "$out/neon.o" "$out/dotprod.o" \
    -lm -pthread
echo "aarch64: the library's core and its NEON and dot-product kernels compile"
if command -v qemu-aarch64 >/dev/null 2>&1; then
    qemu-aarch64 -cpu max "$out/kernels"
else
    echo "qemu-aarch64 not found: kernels not run"
fi
