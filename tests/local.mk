## tests/local.mk: rules for tests/ (included by the top Makefile.am)
##
## The Criterion programs print TAP (CRITERION_OUTPUTS=tap:-) and run through
## automake's TAP driver, so `make check' lists every case by name and ends
## with the totals.  Shell tests (*.sh) use the plain driver: exit status,
## 77 = skipped.  Without Criterion, one script says the tests were skipped.

TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
## SH_LOG_DRIVER is left to automake: its default is the plain
## build-aux/test-driver, and only then does automake install that driver
## (autoreconf -i) and put it in the tarball.
AM_TESTS_ENVIRONMENT = CRITERION_OUTPUTS=tap:-; export CRITERION_OUTPUTS;
## Criterion exits non-zero when a case fails, which its TAP already says:
## without --ignore-exit each failing program would count once more as an
## ERROR.  A runner that dies early is still caught (no or short plan).
AM_LOG_DRIVER_FLAGS = --ignore-exit

EXTRA_DIST += build-aux/tap-driver.sh tests/no-criterion.sh

if HAVE_CRITERION
tests_criterion = \
	tests/t_names \
	tests/t_lifecycle \
	tests/t_collide \
	tests/t_lock \
	tests/t_fastlock \
	tests/t_concurrent \
	tests/t_badinput
check_PROGRAMS += $(tests_criterion)
TESTS += $(tests_criterion)

tests_common = tests/testutil.c tests/testutil.h
tests_cflags = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_ldadd = lib/libsysvshm_core.la $(CRITERION_LIBS)

tests_t_names_SOURCES = tests/t_names.c $(tests_common)
tests_t_names_CFLAGS = $(tests_cflags)
tests_t_names_LDADD = $(tests_ldadd)

tests_t_lifecycle_SOURCES = tests/t_lifecycle.c $(tests_common)
tests_t_lifecycle_CFLAGS = $(tests_cflags)
tests_t_lifecycle_LDADD = $(tests_ldadd)

tests_t_collide_SOURCES = tests/t_collide.c $(tests_common)
tests_t_collide_CFLAGS = $(tests_cflags)
tests_t_collide_LDADD = $(tests_ldadd)

tests_t_lock_SOURCES = tests/t_lock.c $(tests_common)
tests_t_lock_CFLAGS = $(tests_cflags)
tests_t_lock_LDADD = $(tests_ldadd)

## The same cases over blocks made with SYSVSHM_FASTLOCK (the fast lock
## wherever the library has atomics, else version-1 blocks).
tests_t_fastlock_SOURCES = tests/t_lock.c $(tests_common)
tests_t_fastlock_CFLAGS = $(tests_cflags) -DTU_LOCK_CREATE_FLAGS=SYSVSHM_FASTLOCK
tests_t_fastlock_LDADD = $(tests_ldadd)

tests_t_concurrent_SOURCES = tests/t_concurrent.c $(tests_common)
tests_t_concurrent_CFLAGS = $(tests_cflags)
tests_t_concurrent_LDADD = $(tests_ldadd)

tests_t_badinput_SOURCES = tests/t_badinput.c $(tests_common)
tests_t_badinput_CFLAGS = $(tests_cflags)
tests_t_badinput_LDADD = $(tests_ldadd)
else
TESTS += tests/no-criterion.sh
endif
