#!/bin/sh
# pkgconfig.sh - sysvshm.pc gives the right flags: the README's complete
# example (its second ```c block) is compiled against a copy installed with
# DESTDIR, using only `pkg-config --cflags --libs sysvshm' (with
# PKG_CONFIG_SYSROOT_DIR pointing at the copy), and run: it must print
# "hello from the child".  The example's block name is made unique to this
# run; nothing else in it is changed.
# Run by `make check' from the top build directory: exit 0 pass, 77 skip.
. ./tests/port/env.sh || exit 99

pc=${PKG_CONFIG:-pkg-config}
if $pc --version >/dev/null 2>&1; then :; else
    echo "SKIP: no pkg-config on PATH"
    exit 77
fi

dest=${TMPDIR:-/tmp}/svsport-pc.$$
rm -rf "$dest"
mkdir "$dest" || exit 99
name=pc$$
trap './tests/port/smoke --remove "$name"; rm -rf "$dest"' 0
trap 'exit 1' INT TERM HUP

if $MAKE install DESTDIR="$dest/root" >"$dest/log" 2>&1; then :; else
    cat "$dest/log"
    echo "FAIL: make install DESTDIR=$dest/root"
    exit 1
fi

PKG_CONFIG_LIBDIR=$dest/root$libdir/pkgconfig
PKG_CONFIG_PATH=
PKG_CONFIG_SYSROOT_DIR=$dest/root
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

v=`$pc --modversion sysvshm` || { echo "FAIL: $pc does not find sysvshm.pc"; exit 1; }
if [ "$v" != "$PACKAGE_VERSION" ]; then
    echo "FAIL: sysvshm.pc says version $v, the package is $PACKAGE_VERSION"
    exit 1
fi
cflags=`$pc --cflags sysvshm` && libs=`$pc --libs sysvshm` || exit 1
echo "pkg-config --cflags --libs sysvshm: $cflags $libs"

awk '/^```c[ 	]*$/ { n++; if (n == 2) { on = 1; next } }
     on && /^```/ { exit }
     on { print }' "$srcdir/README.md" | sed "s/\"example\"/\"$name\"/g" >"$dest/example.c"
if grep 'sysvshm_create' "$dest/example.c" >/dev/null; then :; else
    echo "FAIL: README.md's second \`\`\`c block is not the complete example"
    exit 1
fi

# The user's compiler and flags, but nothing from this build tree (except the
# sanitizers, which an instrumented library needs in the program too).
if $CC $CFLAGS $SAN_CFLAGS $cflags "$dest/example.c" -o "$dest/example" $LDFLAGS $SAN_LDFLAGS $libs >"$dest/log" 2>&1; then :; else
    cat "$dest/log"
    echo "FAIL: the README example does not build with pkg-config's flags"
    exit 1
fi
# The shared library (if any) must come from the installed copy.
# (LIBPATH: AIX, SHLIB_PATH: HP-UX, DYLD_LIBRARY_PATH: macOS.)
LD_LIBRARY_PATH=$dest/root$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
LIBPATH=$dest/root$libdir${LIBPATH:+:$LIBPATH}
SHLIB_PATH=$dest/root$libdir${SHLIB_PATH:+:$SHLIB_PATH}
DYLD_LIBRARY_PATH=$dest/root$libdir${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}
export LD_LIBRARY_PATH LIBPATH SHLIB_PATH DYLD_LIBRARY_PATH
out=`"$dest/example"`
rc=$?
if [ $rc -ne 0 ] || [ "$out" != "hello from the child" ]; then
    echo "FAIL: the README example exited $rc and printed: $out"
    exit 1
fi
echo "ok: the README example, built with pkg-config, prints: $out"
exit 0
