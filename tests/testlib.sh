# testlib.sh - sourced by the shell tests.  The harness exports WOOLLY (the
# built tool), top_srcdir, top_builddir, CC, CXX, SAN_CFLAGS, GROFF.
set -u
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/woolly-test.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

# expect_status WANT CMD...: run CMD, keep its output in $tmp/out and $tmp/err.
expect_status() {
    want=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: '$*' exited $got, wanted $want"; sed 's/^/  stderr: /' "$tmp/err" | head -5
        fail=1
    fi
}
# expect_grep PATTERN FILE: the file holds a line matching PATTERN.
expect_grep() {
    if ! grep -Eq -- "$1" "$2"; then
        echo "FAIL: no line matching '$1' in $(basename "$2"):"; head -5 "$2" | sed 's/^/  /'
        fail=1
    fi
}
# expect_no_grep PATTERN FILE
expect_no_grep() {
    if grep -Eq -- "$1" "$2"; then
        echo "FAIL: a line matches '$1' in $(basename "$2")"; fail=1
    fi
}
# expect_lines N FILE: FILE has exactly N lines.
expect_lines() {
    n=$(wc -l <"$2")
    if [ "$n" -ne "$1" ]; then echo "FAIL: $(basename "$2") has $n lines, wanted $1"; fail=1; fi
}
finish() { exit $fail; }
