#!/bin/sh
# libwoolly exports exactly the functions woolly.h declares: nothing else,
# nothing missing.
. "$top_srcdir/tests/testlib.sh"

lib=$(ls "$top_builddir"/lib/.libs/libwoolly.so.* 2>/dev/null | head -1)
if [ -z "$lib" ]; then echo "no shared libwoolly built: skipped"; exit 77; fi
command -v nm >/dev/null 2>&1 || { echo "no nm: skipped"; exit 77; }

nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRBVW]$/ {print $3}' | sed 's/@.*//' | sort -u >"$tmp/exported"
# Declarations: an identifier woolly_xxx followed by '(' in the header, not in a comment.
sed -e 's:/\*.*\*/::g' -e '/\/\*/,/\*\//d' "$top_srcdir/lib/woolly.h" |
    grep -Eo '\bwoolly_[a-z0-9_]+[[:space:]]*\(' | sed 's/[[:space:]]*($//' |
    grep -v '_fn$' | sort -u >"$tmp/declared"

if grep -v '^woolly_' "$tmp/exported" >"$tmp/stray"; then
    echo "FAIL: symbols exported without the woolly_ prefix:"; sed 's/^/  /' "$tmp/stray"; fail=1
fi
if ! diff -u "$tmp/declared" "$tmp/exported" >"$tmp/diff"; then
    echo "FAIL: declared (-) and exported (+) functions differ:"; cat "$tmp/diff"; fail=1
fi
[ -s "$tmp/exported" ] || { echo "FAIL: nothing exported"; fail=1; }
finish
