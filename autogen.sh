#!/bin/sh
# autogen.sh - make ./configure from a git checkout.
#
#   ./autogen.sh          regenerate the build system (autoreconf -fi)
#   ./autogen.sh --deps   first install what that needs, plus Criterion,
#                         mandoc and Python's headers and setuptools for the
#                         tests, with the system's package manager
#
# Release tarballs (make dist) already contain ./configure: users of those need
# neither this script nor autotools.  Nothing here downloads anything but
# packages from the system's own package manager.
set -e
cd "$(dirname "$0")"

install_deps() {
    pkgs_deb="autoconf automake libtool pkg-config make gcc libcriterion-dev mandoc python3-dev python3-setuptools python3-wheel python3-venv"
    pkgs_rpm="autoconf automake libtool pkgconf-pkg-config make gcc criterion-devel mandoc python3-devel python3-setuptools python3-wheel"
    sudo=
    if [ "$(id -u)" != 0 ]; then
        sudo=sudo
    fi
    if command -v apt-get >/dev/null 2>&1; then
        missing=
        for p in $pkgs_deb; do
            dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
        done
        if [ -n "$missing" ]; then
            echo "autogen.sh: installing$missing"
            $sudo apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
        fi
    elif command -v dnf >/dev/null 2>&1; then
        $sudo dnf install -y $pkgs_rpm
    elif command -v brew >/dev/null 2>&1; then
        brew install autoconf automake libtool pkg-config criterion
    elif command -v pkg >/dev/null 2>&1; then
        $sudo pkg install -y autoconf automake libtool pkgconf criterion
    else
        echo "autogen.sh: --deps: no known package manager; install autoconf, automake, libtool, pkg-config (and Criterion for the tests) by hand" >&2
        exit 1
    fi
}

case "${1-}" in
    --deps) install_deps ;;
    "") ;;
    *) echo "usage: $0 [--deps]" >&2; exit 2 ;;
esac

mkdir -p build-aux
autoreconf -fi
# automake installs its generic test driver itself, but not the TAP one that
# reports each Criterion case by name: take it from this automake.
tap=$(automake --print-libdir)/tap-driver.sh
cp "$tap" build-aux/tap-driver.sh
chmod +x build-aux/tap-driver.sh
