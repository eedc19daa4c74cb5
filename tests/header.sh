#!/bin/sh
# woolly.h compiles on its own as strict C99 and as C++.
. "$top_srcdir/tests/testlib.sh"

printf '#include "woolly.h"\nint main(void) { return woolly_version() == 0; }\n' >"$tmp/h.c"
if ! $CC -std=c99 -pedantic -Werror -Wall -Wextra -fsyntax-only -I"$top_srcdir/lib" "$tmp/h.c"; then
    echo "FAIL: woolly.h is not clean C99"; fail=1
fi
if ! $CC -std=c11 -pedantic -Werror -Wall -Wextra -fsyntax-only -I"$top_srcdir/lib" "$tmp/h.c"; then
    echo "FAIL: woolly.h is not clean C11"; fail=1
fi
cp "$tmp/h.c" "$tmp/h.cc"
if [ -n "${CXX:-}" ] && $CXX --version >/dev/null 2>&1; then
    if ! $CXX -std=c++11 -pedantic -Werror -Wall -Wextra -fsyntax-only -I"$top_srcdir/lib" "$tmp/h.cc"; then
        echo "FAIL: woolly.h does not compile as C++"; fail=1
    fi
else
    echo "no C++ compiler: C++ part skipped"
fi
finish
