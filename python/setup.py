"""Build the sysvshm package: the extension _sysvshm, with libsysvshm's own
sources compiled in (no installed library needed).

The library's sources are found in ../lib (this directory inside the
libsysvshm source tree) or in ./lib (a copy, as `setup.py sdist` makes).
What configure would find for the library (semtimedop, union semun, ...)
is probed here with the compiler that builds the extension, into a config.h
in the build directory.  The version is the C library's, read from
lib/sysvshm.h.

Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
"""
import os
import re
import shutil
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))
LIB_SOURCES = ["compat.c", "name.c", "segment.c", "reclaim.c", "lock.c", "fastlock.c"]
LIB_HEADERS = ["sysvshm.h", "svs_int.h", "compat.h"]


def find_lib():
    for d in (os.path.join(HERE, "lib"), os.path.join(HERE, os.pardir, "lib")):
        if os.path.isfile(os.path.join(d, "sysvshm.h")) and os.path.isfile(
            os.path.join(d, "segment.c")
        ):
            return os.path.normpath(d)
    sys.exit(
        "setup.py: libsysvshm's sources (lib/sysvshm.h, lib/*.c) not found in "
        "%s/lib or %s/../lib" % (HERE, HERE)
    )


LIB = find_lib()


def lib_version():
    with open(os.path.join(LIB, "sysvshm.h")) as f:
        m = re.search(r'^#define SYSVSHM_VERSION_STRING "([^"]+)"', f.read(), re.M)
    if not m:
        sys.exit("setup.py: no SYSVSHM_VERSION_STRING in lib/sysvshm.h")
    return m.group(1)


# The probes: what configure.ac checks for the library, in the same terms.
PROLOGUE = """
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/sem.h>
#include <time.h>
"""

# (macro, kind, code): kind "compile" needs it to compile, "link" to link
# (a function called through an undeclared prototype, as AC_CHECK_FUNCS).
PROBES = [
    ("HAVE_UNION_SEMUN", "compile", PROLOGUE + "union semun u;\nint main(void) { (void)sizeof u; return 0; }\n"),
    ("HAVE_SEMTIMEDOP", "link", "char semtimedop(void);\nint main(void) { return semtimedop(); }\n"),
    ("HAVE_DECL_SEMTIMEDOP", "compile", PROLOGUE + "int main(void) { (void)semtimedop; return 0; }\n"),
    ("HAVE_PTHREAD_ATFORK", "link", "char pthread_atfork(void);\nint main(void) { return pthread_atfork(); }\n"),
    ("HAVE_CLOCK_GETTIME", "link", "char clock_gettime(void);\nint main(void) { return clock_gettime(); }\n"),
    ("HAVE_DECL_CLOCK_MONOTONIC", "compile", PROLOGUE + "int main(void) { (void)CLOCK_MONOTONIC; return 0; }\n"),
    ("HAVE_NANOSLEEP", "link", "char nanosleep(void);\nint main(void) { return nanosleep(); }\n"),
    ("SVS_USE_ATOMIC_FENCE", "link", "int main(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); return 0; }\n"),
    ("SVS_USE_SYNC_SYNCHRONIZE", "link", "int main(void) { __sync_synchronize(); return 0; }\n"),
    # The fast lock: lock-free 32-bit read-modify-write (no libatomic locks).
    ("SVS_HAVE_ATOMIC_RMW", "link",
     "#include <stdint.h>\nstatic volatile uint32_t w;\n"
     "#if !defined(__GCC_ATOMIC_INT_LOCK_FREE) || __GCC_ATOMIC_INT_LOCK_FREE != 2\n"
     "#error 32-bit atomics may take a lock\n#endif\n"
     "typedef char int_is_32_bits[sizeof(int) == sizeof(uint32_t) ? 1 : -1];\n"
     "int main(void) { uint32_t o = 0;\n"
     "  (void)__atomic_compare_exchange_n(&w, &o, 1u, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);\n"
     "  (void)__atomic_fetch_or(&w, 2u, __ATOMIC_SEQ_CST);\n"
     "  (void)__atomic_fetch_and(&w, 1u, __ATOMIC_SEQ_CST);\n"
     "  return (int)__atomic_load_n(&w, __ATOMIC_SEQ_CST); }\n"),
]


class BuildExt(build_ext):
    """build_ext that first writes config.h and adds the library's sources."""

    def probe(self, kind, code, tmp, libraries=()):
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(code)
        try:
            objs = self.compiler.compile([src], output_dir=tmp)
            if kind == "link":
                self.compiler.link_executable(
                    objs, "probe", output_dir=tmp, libraries=list(libraries)
                )
        except Exception:  # CompileError, LinkError: the answer is no
            return False
        return True

    def write_config(self, path, ext):
        found = {}
        tmp = tempfile.mkdtemp(prefix="sysvshm-probe-")
        # The failing probes' compiler messages are expected: send them away.
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        try:
            for macro, kind, code in PROBES:
                ok = self.probe(kind, code, tmp)
                if not ok and macro == "HAVE_PTHREAD_ATFORK":
                    ok = self.probe(kind, code, tmp, ["pthread"])
                    if ok:
                        ext.libraries.append("pthread")
                if not ok and macro == "HAVE_CLOCK_GETTIME":
                    ok = self.probe(kind, code, tmp, ["rt"])
                    if ok:
                        ext.libraries.append("rt")
                found[macro] = ok
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            shutil.rmtree(tmp, ignore_errors=True)
        lines = ["/* config.h for the sysvshm extension, written by setup.py. */"]
        for macro in ("HAVE_UNION_SEMUN", "HAVE_CLOCK_GETTIME", "HAVE_NANOSLEEP"):
            if found[macro]:
                lines.append("#define %s 1" % macro)
        for macro in ("HAVE_DECL_SEMTIMEDOP", "HAVE_DECL_CLOCK_MONOTONIC"):
            lines.append("#define %s %d" % (macro, 1 if found[macro] else 0))
        if found["HAVE_SEMTIMEDOP"]:
            lines.append("#define SVS_USE_SEMTIMEDOP 1")
        if found["HAVE_PTHREAD_ATFORK"]:
            lines.append("#define SVS_USE_ATFORK 1")
        if found["SVS_USE_ATOMIC_FENCE"]:
            lines.append("#define SVS_USE_ATOMIC_FENCE 1")
            if found["SVS_HAVE_ATOMIC_RMW"]:
                lines.append("#define SVS_HAVE_ATOMIC_RMW 1")
        elif found["SVS_USE_SYNC_SYNCHRONIZE"]:
            lines.append("#define SVS_USE_SYNC_SYNCHRONIZE 1")
        text = "\n".join(lines) + "\n"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        old = None
        if os.path.exists(path):
            with open(path) as f:
                old = f.read()
        if old != text:  # unchanged: keep its date, so nothing rebuilds
            with open(path, "w") as f:
                f.write(text)
        return found

    def build_extension(self, ext):
        confdir = os.path.join(os.path.abspath(self.build_temp), "sysvshm-config")
        self.write_config(os.path.join(confdir, "config.h"), ext)
        ext.include_dirs = [confdir, LIB] + list(ext.include_dirs)
        # Absolute paths: their objects go under build_temp, whatever the tree.
        ext.sources = list(ext.sources) + [os.path.join(LIB, s) for s in LIB_SOURCES]
        ext.depends = list(ext.depends) + [os.path.join(LIB, h) for h in LIB_HEADERS]
        build_ext.build_extension(self, ext)


class Sdist(sdist):
    """An sdist carries a copy of the library's sources in lib/."""

    def make_release_tree(self, base_dir, files):
        sdist.make_release_tree(self, base_dir, files)
        dest = os.path.join(base_dir, "lib")
        os.makedirs(dest, exist_ok=True)
        for name in LIB_SOURCES + LIB_HEADERS:
            shutil.copy2(os.path.join(LIB, name), dest)


setup(
    version=lib_version(),
    packages=["sysvshm"],
    package_data={"sysvshm": ["py.typed", "*.pyi"]},
    include_package_data=False,
    ext_modules=[
        Extension(
            "sysvshm._sysvshm",
            sources=["sysvshm/_sysvshm.c"],
        )
    ],
    cmdclass={"build_ext": BuildExt, "sdist": Sdist},
)
