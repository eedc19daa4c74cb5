#!/bin/sh
# The woolly command: global options, dispatch, errors and exit statuses.
. "$top_srcdir/tests/testlib.sh"

expect_status 0 "$WOOLLY" --version
expect_grep '^woolly [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out"
expect_grep '^compiled:' "$tmp/out"
expect_grep '^detected:' "$tmp/out"
expect_grep '^kernels: ' "$tmp/out"

expect_status 0 env WOOLLY_CPU=scalar "$WOOLLY" --version
expect_grep '^active: none$' "$tmp/out"
expect_grep '^kernels: scalar$' "$tmp/out"

expect_status 2 env WOOLLY_CPU=pentium "$WOOLLY" --version
expect_grep 'WOOLLY_CPU=pentium is not a kernel level' "$tmp/err"

expect_status 0 "$WOOLLY" --help
expect_grep '^Usage: woolly' "$tmp/out"
expect_status 0 "$WOOLLY" -h

expect_status 2 "$WOOLLY"
expect_grep '^Usage: woolly' "$tmp/err"

expect_status 2 "$WOOLLY" --frobnicate
expect_grep "unknown option '--frobnicate'" "$tmp/err"
expect_grep "Try 'woolly --help'" "$tmp/err"

expect_status 2 "$WOOLLY" frobnicate
expect_grep "'frobnicate' is not a woolly command" "$tmp/err"

# Every command listed in --help answers --help with its usage, and so does
# `woolly help COMMAND`.
"$WOOLLY" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}' >"$tmp/cmds"
[ -s "$tmp/cmds" ] || { echo "FAIL: --help lists no command"; fail=1; }
while read -r cmd; do
    expect_status 0 "$WOOLLY" "$cmd" --help
    expect_grep "^Usage: woolly $cmd" "$tmp/out"
    expect_status 0 "$WOOLLY" help "$cmd"
    expect_grep "^Usage: woolly $cmd" "$tmp/out"
done <"$tmp/cmds"

expect_status 2 "$WOOLLY" help nosuchcommand
expect_grep "'nosuchcommand' is not a woolly command" "$tmp/err"

finish
