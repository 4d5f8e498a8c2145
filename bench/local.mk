## bench/local.mk: rules for bench/ (included by the top Makefile.am)
##
## sysvshm-bench, the benchmarks (docs/performance.md).  It is
## built with everything else, so that it never rots, but not installed.
## `make bench' builds and runs it (about a minute on 2 cores):
##   make bench BENCH_FLAGS='--case lock,pingpong --reps 9 --json out.json'
##   make bench BENCH_WRAP='unshare --ipc'   (a private IPC namespace: the
##                                            scale case's 4000 blocks do not
##                                            use up the host's SHMMNI)

noinst_PROGRAMS += bench/sysvshm-bench
bench_sysvshm_bench_SOURCES = \
	bench/bench.h \
	bench/bench.c \
	bench/cases-basic.c \
	bench/cases-proc.c \
	bench/cases-probe.c
## The Python rows' script is found where the sources are, the sysvshm
## module where `make python' builds it (--python-lib DIR changes it; not
## built: those rows say skipped, and why); the interpreter is the one
## configure found (none: the Python lines say skipped).
bench_sysvshm_bench_CPPFLAGS = $(AM_CPPFLAGS) \
	-DBENCH_PYTHON3='"$(PYTHON3)"' \
	-DBENCH_PYSCRIPT='"$(abs_top_srcdir)/bench/bench-python.py"' \
	-DBENCH_PYLIB='"$(abs_top_builddir)/python/build/lib"'
## The baselines need shm_open, sem_init and pthread_mutexattr_setpshared:
## in libc since glibc 2.34, in -lrt / -lpthread before; configure finds
## them and sets BENCH_LIBS.
bench_sysvshm_bench_LDADD = lib/libsysvshm.la $(BENCH_LIBS)

EXTRA_DIST += bench/bench-python.py docs/performance.md

BENCH_FLAGS =
BENCH_WRAP =
## `make bench' measures the Python module as it is now: it (re)builds it
## first when configure found what it needs.
if HAVE_PYTHON_DEV
BENCH_PYMOD = python/build/stamp
else
BENCH_PYMOD =
endif
bench: bench/sysvshm-bench$(EXEEXT) $(BENCH_PYMOD)
	$(BENCH_WRAP) ./bench/sysvshm-bench$(EXEEXT) $(BENCH_FLAGS)
.PHONY: bench
