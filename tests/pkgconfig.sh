#!/bin/sh
# Install into a scratch root, then build and run a small program against the
# installed library with `pkg-config --cflags --libs woolly`.
. "$top_srcdir/tests/testlib.sh"

command -v pkg-config >/dev/null 2>&1 || { echo "no pkg-config: skipped"; exit 77; }
dest="$tmp/root"
if ! ${MAKE:-make} -s -C "$top_builddir" install DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
    echo "FAIL: make install DESTDIR failed:"; tail -20 "$tmp/install.log"; exit 1
fi
pcdir=$(dirname "$(find "$dest" -name woolly.pc | head -1)")
[ -f "$pcdir/woolly.pc" ] || { echo "FAIL: woolly.pc not installed"; exit 1; }
libdir=$(dirname "$(find "$dest" -name 'libwoolly.so.*' | head -1)")
ls "$libdir"/libwoolly.so.[0-9]* >/dev/null 2>&1 || { echo "FAIL: no versioned libwoolly.so.N"; fail=1; }
find "$dest" -path '*/include/woolly.h' | grep -q . || { echo "FAIL: woolly.h not installed"; fail=1; }
find "$dest" -path '*/bin/woolly' | grep -q . || { echo "FAIL: bin/woolly not installed"; fail=1; }
find "$dest" -path '*/man1/woolly.1' | grep -q . || { echo "FAIL: woolly.1 not installed"; fail=1; }
soname=$(objdump -p "$libdir"/libwoolly.so 2>/dev/null | awk '/SONAME/ {print $2}')
case "$soname" in libwoolly.so.[0-9]*) ;; *) echo "FAIL: SONAME is '$soname'"; fail=1 ;; esac

cat >"$tmp/hello.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include <woolly.h>
int main(void)
{
    printf("libwoolly %s, kernels %s\n", woolly_version(), woolly_kernel_level());
    if (strcmp(woolly_version(), WOOLLY_VERSION_STRING) != 0) return 1;
    return woolly_strerror(WOOLLY_ERR_FORMAT)[0] ? 0 : 1;
}
PROG
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs woolly) || { echo "FAIL: pkg-config cannot read woolly.pc"; exit 1; }
if ! $CC ${SAN_CFLAGS:-} -o "$tmp/hello" "$tmp/hello.c" $flags ${SAN_LDFLAGS:-}; then
    echo "FAIL: cannot build against the installed library ($flags)"; exit 1
fi
LD_LIBRARY_PATH="$libdir" "$tmp/hello" >"$tmp/out" || { echo "FAIL: the program failed"; fail=1; }
expect_grep '^libwoolly [0-9.]+, kernels ' "$tmp/out"
finish
