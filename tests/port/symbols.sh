#!/bin/sh
# symbols.sh - the shared library exports exactly the sysvshm_ API: every
# function lib/sysvshm.h declares, and no other symbol (the internals are
# svs_ functions, hidden by libtool's -export-symbols-regex).  The static
# library cannot hide anything, so there every global must at least carry
# one of the two prefixes, sysvshm_ or svs_.
# Run by `make check' from the top build directory: exit 0 pass, 77 skip.
. ./tests/port/env.sh || exit 99

la=lib/libsysvshm.la
[ -f "$la" ] || { echo "symbols.sh: $la not built" >&2; exit 99; }
dlname=`sed -n "s/^dlname='\(.*\)'\$/\1/p" "$la"`
old_library=`sed -n "s/^old_library='\(.*\)'\$/\1/p" "$la"`
nm_cmd=${NM:-nm}
failed=0
checked=0

# Defined global symbols (nm's upper-case types but U, and not A: version
# nodes), one name per line.
defined() {
    awk 'NF >= 3 && $(NF-1) ~ /^[BCDGIRSTVW]$/ { print $NF }'
}

api=`sed -n 's/^SYSVSHM_API[^(]*[ *]\(sysvshm_[a-z0-9_]*\)(.*/\1/p' "$srcdir/lib/sysvshm.h" | sort`
[ -n "$api" ] || { echo "symbols.sh: no SYSVSHM_API functions found in sysvshm.h" >&2; exit 99; }

if [ -n "$dlname" ] && [ -f "lib/.libs/$dlname" ]; then
    checked=1
    # -D is GNU and Solaris nm; where nm has no -D (macOS, AIX) the
    # dynamic table cannot be read this way: say so rather than fail.
    if $nm_cmd -D "lib/.libs/$dlname" >/dev/null 2>&1; then
        got=`$nm_cmd -D "lib/.libs/$dlname" | defined | sort -u`
    else
        echo "SKIP: $nm_cmd -D cannot read lib/.libs/$dlname"
        exit 77
    fi
    if [ -z "$got" ]; then
        echo "FAIL: $nm_cmd -D lib/.libs/$dlname listed no symbols"
        failed=1
    fi
    extra=`echo "$got" | grep -v '^sysvshm_'`
    if [ -n "$extra" ]; then
        echo "FAIL: lib/.libs/$dlname exports symbols outside sysvshm_:"
        echo "$extra" | sed 's/^/    /'
        failed=1
    fi
    for f in $api; do
        if echo "$got" | grep "^$f\$" >/dev/null; then
            echo "ok: exported $f"
        else
            echo "FAIL: $f is declared in sysvshm.h but not exported"
            failed=1
        fi
    done
    n=`echo "$got" | grep -c '^sysvshm_'`
    echo "lib/.libs/$dlname: $n symbols exported, all sysvshm_"
else
    echo "no shared library built (--disable-shared?): export list not checked"
fi

if [ -n "$old_library" ] && [ -f "lib/.libs/$old_library" ]; then
    checked=1
    # Names beginning with "__" are the compiler's (i386 PIC thunks, say).
    bad=`$nm_cmd "lib/.libs/$old_library" | defined | sort -u | grep -v '^sysvshm_' | grep -v '^svs_' | grep -v '^__'`
    if [ -n "$bad" ]; then
        echo "FAIL: lib/.libs/$old_library defines globals outside sysvshm_/svs_:"
        echo "$bad" | sed 's/^/    /'
        failed=1
    else
        echo "ok: lib/.libs/$old_library defines only sysvshm_ and svs_ globals"
    fi
fi

[ "$checked" = 1 ] || { echo "SKIP: neither a shared nor a static library to check"; exit 77; }
exit $failed
