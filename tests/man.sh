#!/bin/sh
# The manual pages are clean roff, and every command and option the tool's
# help shows is documented in its page.
. "$top_srcdir/tests/testlib.sh"

if [ -z "${GROFF:-}" ]; then echo "groff not found: skipped"; exit 77; fi
for page in "$top_srcdir"/man/*.[13]; do
    if ! LC_ALL=C $GROFF -man -ww -z "$page" >"$tmp/warn" 2>&1 || [ -s "$tmp/warn" ]; then
        echo "FAIL: $(basename "$page") has roff warnings:"; sed 's/^/  /' "$tmp/warn"; fail=1
    fi
done

# Long options shown by `woolly [COMMAND] --help` appear in the right page.
check_options() { # HELPFILE PAGE
    grep -Eo -- '--[a-z][a-z0-9-]*' "$1" | sort -u | while read -r opt; do
        esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
        if ! grep -Fq -- "$opt" "$2" && ! grep -Eq -- "$esc" "$2"; then
            echo "FAIL: $opt (in --help) is not in $(basename "$2")"; echo x >>"$tmp/bad"
        fi
    done
}
"$WOOLLY" --help >"$tmp/help"
check_options "$tmp/help" "$top_srcdir/man/woolly.1"
sed -n '/^Commands:/,/^$/p' "$tmp/help" | awk 'NF && !/^Commands:/ {print $1}' | while read -r cmd; do
    page="$top_srcdir/man/woolly-$cmd.1"
    [ -f "$page" ] || page="$top_srcdir/man/woolly.1"
    if ! grep -Eq "^\.(SS|TP|B|IP|SH).*\b$cmd\b|woolly\\\\?-$cmd" "$page"; then
        echo "FAIL: command $cmd is not documented in $(basename "$page")"; echo x >>"$tmp/bad"
    fi
    "$WOOLLY" "$cmd" --help >"$tmp/chelp"
    check_options "$tmp/chelp" "$page"
done
[ -f "$tmp/bad" ] && fail=1
finish
