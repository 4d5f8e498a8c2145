## tests/robust.mk: robustness tests, included by the top Makefile.am.
##
##   tests/robust/r_*     Criterion programs (TAP through the TAP driver):
##                        crashes at every fault point (needs
##                        --enable-fault-injection), hostile segments, other
##                        users, limits, large blocks, locks under pressure
##                        (r_fastlockpress: the same over fast-lock blocks),
##                        deaths in the fast lock (r_fastcrash).
##   tests/robust/r_contend  four processes contending for a version-1 and a
##                        fast-lock block; TAP, its figures in the log.
##   tests/robust/r_limits_ns  lowers IPC limits inside `unshare --ipc' (root).
##   tests/robust/r_fuzz_replay  the header fuzz target over seeds and
##                        mutations, with any compiler (always in `make check').
##   tests/stress/stress  N processes, D seconds of random operations and
##                        kill -9; prints TAP.  `make check' runs it ~3 s,
##                        `make stress STRESS_SECONDS=N [STRESS_PROCS=P]' longer.
##   tests/stress/stress-fast  the same with -F: blocks made with and without
##                        SYSVSHM_FASTLOCK, at random.  ~3 s in `make check',
##                        `make stress-fast STRESS_SECONDS=N' longer.
##   tests/stress/stress-hostile  the same with -H: a hostile process plants
##                        look-alikes, zero-filled segments and semaphore sets
##                        at the names' keys and flips blocks' states; nothing
##                        it planted may be removed.  ~3 s in `make check',
##                        `make stress-hostile STRESS_SECONDS=N' longer.
##   tests/fuzz/fuzz_header  libFuzzer target (./configure --enable-fuzz,
##                        needs clang); `make fuzz-short' runs it ~20 s.
##   make check-valgrind  the Criterion programs under valgrind memcheck.

## ---- Always: stress and the fuzz replay (no Criterion needed) ---------------
check_PROGRAMS += tests/stress/stress tests/stress/stress-fast tests/stress/stress-hostile \
	tests/robust/r_fuzz_replay tests/robust/r_contend
TESTS += tests/stress/stress tests/stress/stress-fast tests/stress/stress-hostile \
	tests/robust/r_fuzz_replay tests/robust/r_contend

tests_stress_stress_SOURCES = tests/stress/stress.c
tests_stress_stress_LDADD = lib/libsysvshm.la
tests_stress_stress_fast_SOURCES = tests/stress/stress.c
tests_stress_stress_fast_CPPFLAGS = $(AM_CPPFLAGS) -DSTRESS_FAST=1
tests_stress_stress_fast_LDADD = lib/libsysvshm.la
tests_stress_stress_hostile_SOURCES = tests/stress/stress.c
tests_stress_stress_hostile_CPPFLAGS = $(AM_CPPFLAGS) -DSTRESS_HOSTILE=1
tests_stress_stress_hostile_LDADD = lib/libsysvshm.la

tests_robust_r_fuzz_replay_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_header.c \
	tests/fuzz/fuzz_header.h
tests_robust_r_fuzz_replay_LDADD = lib/libsysvshm_core.la

## Four processes contending for a version-1 and then a fast-lock block; its
## log shows the two locks' hand-over and fairness figures.
tests_robust_r_contend_SOURCES = tests/robust/r_contend.c
tests_robust_r_contend_LDADD = lib/libsysvshm_core.la

STRESS_SECONDS = 60
STRESS_PROCS = 8
stress: tests/stress/stress$(EXEEXT)
	./tests/stress/stress -d $(STRESS_SECONDS) -n $(STRESS_PROCS)
stress-fast: tests/stress/stress$(EXEEXT)
	./tests/stress/stress -F -d $(STRESS_SECONDS) -n $(STRESS_PROCS)
stress-hostile: tests/stress/stress$(EXEEXT)
	./tests/stress/stress -H -d $(STRESS_SECONDS) -n $(STRESS_PROCS)

## ---- Criterion programs ---------------------------------------------------------
if HAVE_CRITERION
robust_common = tests/robust/rutil.c tests/robust/rutil.h \
	tests/testutil.c tests/testutil.h
robust_cflags = $(AM_CFLAGS) $(CRITERION_CFLAGS)
robust_ldadd = lib/libsysvshm_core.la $(CRITERION_LIBS)

robust_criterion = \
	tests/robust/r_hostile \
	tests/robust/r_users \
	tests/robust/r_large \
	tests/robust/r_lockpress \
	tests/robust/r_fastlockpress \
	tests/robust/r_limits \
	tests/robust/r_safety \
	tests/robust/r_fastcrash
if FAULT_INJECTION
robust_criterion += tests/robust/r_crash
endif
check_PROGRAMS += $(robust_criterion) tests/robust/r_limits_ns tests/robust/r_pidns_probe
TESTS += $(robust_criterion)

tests_robust_r_crash_SOURCES = tests/robust/r_crash.c $(robust_common)
tests_robust_r_crash_CFLAGS = $(robust_cflags)
tests_robust_r_crash_LDADD = $(robust_ldadd)

tests_robust_r_hostile_SOURCES = tests/robust/r_hostile.c $(robust_common)
tests_robust_r_hostile_CFLAGS = $(robust_cflags)
tests_robust_r_hostile_LDADD = $(robust_ldadd)

tests_robust_r_users_SOURCES = tests/robust/r_users.c $(robust_common)
tests_robust_r_users_CFLAGS = $(robust_cflags)
tests_robust_r_users_LDADD = $(robust_ldadd)

tests_robust_r_large_SOURCES = tests/robust/r_large.c $(robust_common)
tests_robust_r_large_CFLAGS = $(robust_cflags)
tests_robust_r_large_LDADD = $(robust_ldadd)

tests_robust_r_lockpress_SOURCES = tests/robust/r_lockpress.c $(robust_common)
tests_robust_r_lockpress_CFLAGS = $(robust_cflags)
tests_robust_r_lockpress_LDADD = $(robust_ldadd)
## The same over blocks made with SYSVSHM_FASTLOCK.
tests_robust_r_fastlockpress_SOURCES = tests/robust/r_lockpress.c $(robust_common)
tests_robust_r_fastlockpress_CFLAGS = $(robust_cflags) -DTU_LOCK_CREATE_FLAGS=SYSVSHM_FASTLOCK
tests_robust_r_fastlockpress_LDADD = $(robust_ldadd)

## r_fastcrash: deaths in the fast lock (SYSVSHM_FASTLOCK).  Its crashes at
## the library's own steps need --enable-fault-injection (or skip); the rest
## runs in every build, version 1 blocks included (--disable-atomics).
tests_robust_r_fastcrash_SOURCES = tests/robust/r_fastcrash.c $(robust_common)
tests_robust_r_fastcrash_CFLAGS = $(robust_cflags)
tests_robust_r_fastcrash_LDADD = $(robust_ldadd)

## r_limits runs r_limits_ns inside a fresh IPC namespace (or skips).
tests_robust_r_limits_SOURCES = tests/robust/r_limits.c $(robust_common)
tests_robust_r_limits_CFLAGS = $(robust_cflags) -DSVS_UNSHARE='"$(UNSHARE)"'
tests_robust_r_limits_LDADD = $(robust_ldadd)
tests_robust_r_limits_ns_SOURCES = tests/robust/r_limits_ns.c
tests_robust_r_limits_ns_LDADD = lib/libsysvshm_core.la

## r_safety: what the library may destroy (lib/reclaim.c).  Its PID namespace
## cases run r_pidns_probe inside `unshare --pid --fork' (or skip); its
## crash cases need --enable-fault-injection (or skip).
tests_robust_r_safety_SOURCES = tests/robust/r_safety.c $(robust_common)
tests_robust_r_safety_CFLAGS = $(robust_cflags) -DSVS_UNSHARE='"$(UNSHARE)"'
tests_robust_r_safety_LDADD = $(robust_ldadd)
tests_robust_r_pidns_probe_SOURCES = tests/robust/r_pidns_probe.c
tests_robust_r_pidns_probe_LDADD = lib/libsysvshm_core.la

## Memcheck over every Criterion program.  Criterion runs each test in a
## child it starts by re-executing the program, hence --trace-children; one
## job at a time keeps the timing tests honest.  Each process writes its own
## log; any memcheck error in any of them (an invalid access, a use of
## uninitialised memory, a bad free) fails the target.  Leaks are listed but
## do not fail it: test children _exit() with handles open by design, and
## the sanitizer build's LeakSanitizer checks leaks properly.
VALGRIND_FLAGS = --tool=memcheck --trace-children=yes --error-exitcode=42 \
	--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=none
check-valgrind: $(check_PROGRAMS)
	@if test -z "$(VALGRIND)"; then \
	  echo "check-valgrind: valgrind not found (install it and re-run configure)"; exit 1; fi
	@rm -rf tests/valgrind-logs; $(MKDIR_P) tests/valgrind-logs; \
	fail=0; \
	for t in $(tests_criterion) $(robust_criterion); do \
	  b=`echo $$t | sed 's|/|_|g'`; \
	  echo "== valgrind $$t"; \
	  CRITERION_OUTPUTS=; SVS_VALGRIND=1; export SVS_VALGRIND; \
	  $(VALGRIND) $(VALGRIND_FLAGS) --log-file=tests/valgrind-logs/$$b.%p.log \
	    ./$$t --jobs 1 --timeout 300 >tests/valgrind-logs/$$b.out 2>&1 \
	    || { echo "FAIL: $$t (see tests/valgrind-logs/$$b.out)"; fail=1; }; \
	  tail -1 tests/valgrind-logs/$$b.out; \
	done; \
	bad=`grep -l 'ERROR SUMMARY: [1-9]' tests/valgrind-logs/*.log 2>/dev/null`; \
	if test -n "$$bad"; then echo "memcheck errors in:"; echo "$$bad"; fail=1; fi; \
	leaks=`grep -l 'definitely lost: [1-9]' tests/valgrind-logs/*.log 2>/dev/null | wc -l`; \
	echo "check-valgrind: $$leaks process(es) ended with memory definitely lost (see the logs)"; \
	if test $$fail = 0; then echo "check-valgrind: no memcheck errors"; fi; \
	exit $$fail
else
check-valgrind:
	@echo "check-valgrind: Criterion not found, no tests to run"
endif

## ---- libFuzzer (./configure --enable-fuzz; clang) -------------------------------
## Built by hand with $(CLANG): automake has one C compiler per makefile.  The
## library sources are compiled into the fuzzer so that they are instrumented.
FUZZ_SECONDS = 20
fuzz_lib_sources = $(top_srcdir)/lib/compat.c $(top_srcdir)/lib/name.c \
	$(top_srcdir)/lib/segment.c $(top_srcdir)/lib/reclaim.c $(top_srcdir)/lib/lock.c \
	$(top_srcdir)/lib/fastlock.c
CLEANFILES += tests/fuzz/fuzz_header$(EXEEXT)
clean-local: clean-robust
clean-robust:
	rm -rf tests/fuzz/corpus tests/fuzz/crashes tests/valgrind-logs
if FUZZ
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
tests/fuzz/fuzz_header$(EXEEXT): $(srcdir)/tests/fuzz/fuzz_header.c \
		$(srcdir)/tests/fuzz/fuzz_header.h $(fuzz_lib_sources) config.h
	@$(MKDIR_P) tests/fuzz
	$(CLANG) $(FUZZ_CFLAGS) $(DEFS) $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) $(CPPFLAGS) \
	  -o $@ $(srcdir)/tests/fuzz/fuzz_header.c $(fuzz_lib_sources) $(LIBS)

fuzz-short: tests/fuzz/fuzz_header$(EXEEXT) tests/robust/r_fuzz_replay$(EXEEXT)
	@rm -rf tests/fuzz/corpus; $(MKDIR_P) tests/fuzz/corpus tests/fuzz/crashes
	./tests/robust/r_fuzz_replay --write-seeds tests/fuzz/corpus
	./tests/fuzz/fuzz_header -max_total_time=$(FUZZ_SECONDS) -max_len=1024 \
	  -artifact_prefix=tests/fuzz/crashes/ -print_final_stats=1 tests/fuzz/corpus
else
fuzz-short:
	@echo "fuzz-short: configure with --enable-fuzz (needs clang with libFuzzer)"; exit 1
endif

.PHONY: stress stress-fast stress-hostile check-valgrind fuzz-short clean-robust
