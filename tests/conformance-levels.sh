#!/bin/sh
# The conformance suite against llama.cpp at every kernel level this machine
# runs (check_forward_ref runs the default, highest level on its own).
. "$top_srcdir/tests/testlib.sh"

[ -d "${WOOLLY_REF_DIR:-}/models" ] || { echo "reference set not found: skipped"; exit 77; }
levels="scalar $("$WOOLLY" --version | sed -n 's/^active: //p')"
top=$(echo "$levels" | awk '{print $NF}')
for level in $levels; do
    [ "$level" = none ] && continue
    [ "$level" = "$top" ] && [ "$level" != scalar ] && continue   # that is check_forward_ref itself
    if WOOLLY_CPU=$level "$top_builddir/tests/check_forward_ref" >"$tmp/log" 2>&1; then
        echo "WOOLLY_CPU=$level: $(grep -c 'max|diff|' "$tmp/log") cases pass"
    else
        echo "FAIL: WOOLLY_CPU=$level:"; grep -E 'F:|KNOWN|arg-max' "$tmp/log" | head -10; fail=1
    fi
done
finish
