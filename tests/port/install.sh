#!/bin/sh
# install.sh - `make install DESTDIR=...' installs the header, both
# libraries, sysvshm.pc, the demos (process1, process2), the tool (sysvshm)
# and every man page; the installed header compiles on its own; and
# `make uninstall' removes every file it installed.
# Run by `make check' from the top build directory: exit 0 pass, 77 skip.
. ./tests/port/env.sh || exit 99

dest=${TMPDIR:-/tmp}/svsport-inst.$$
rm -rf "$dest"
mkdir "$dest" || exit 99
log=$dest.log
trap 'rm -rf "$dest" "$log"' 0
trap 'exit 1' INT TERM HUP
failed=0

fail() { echo "FAIL: $*"; failed=1; }
expect() {
    if [ -f "$dest$1" ]; then
        echo "ok: installed $1"
    else
        fail "not installed: $1"
    fi
}

if $MAKE install DESTDIR="$dest" >"$log" 2>&1; then :; else
    cat "$log"
    echo "FAIL: make install DESTDIR=$dest"
    exit 1
fi

expect "$includedir/sysvshm.h"
expect "$libdir/libsysvshm.la"
la=lib/libsysvshm.la
library_names=`sed -n "s/^library_names='\(.*\)'\$/\1/p" "$la"`
old_library=`sed -n "s/^old_library='\(.*\)'\$/\1/p" "$la"`
for f in $library_names $old_library; do
    expect "$libdir/$f"
done
[ -n "$library_names$old_library" ] || fail "$la names no library"
expect "$libdir/pkgconfig/sysvshm.pc"

for p in demo/process1 demo/process2 tools/sysvshm; do
    case " $bin_PROGRAMS " in
        *" $p$EXEEXT "*) ;;
        *) fail "$p is not in bin_PROGRAMS, so it is not installed" ;;
    esac
done
for p in $bin_PROGRAMS; do
    expect "$bindir/`basename "$p"`"
done

[ -n "$dist_man_MANS" ] || fail "no man pages in dist_man_MANS"
case " $dist_man_MANS " in
    *"/sysvshm.3 "*) ;;
    *) fail "man/sysvshm.3 is not in dist_man_MANS" ;;
esac
for m in $dist_man_MANS; do
    base=`basename "$m"`
    sect=`echo "$base" | sed 's/.*\.//'`
    expect "$mandir/man$sect/$base"
done

# The installed header stands alone: a program needs nothing else.
printf '#include <sysvshm.h>\nint main(void) { return sysvshm_version() == 0; }\n' >"$dest.c"
if $CC $CFLAGS -I"$dest$includedir" -c "$dest.c" -o "$dest.o" >>"$log" 2>&1; then
    echo "ok: the installed <sysvshm.h> compiles on its own"
else
    cat "$log"
    fail "the installed <sysvshm.h> does not compile on its own"
fi
rm -f "$dest.c" "$dest.o"

if $MAKE uninstall DESTDIR="$dest" >>"$log" 2>&1; then :; else
    cat "$log"
    fail "make uninstall DESTDIR=$dest"
fi
left=`cd "$dest" && find . ! -type d -print`
if [ -n "$left" ]; then
    fail "make uninstall left files behind:"
    echo "$left" | sed 's/^/    /'
else
    echo "ok: make uninstall removed every file"
fi
exit $failed
