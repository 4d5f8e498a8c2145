## tools/local.mk: rules for tools/ (included by the top Makefile.am)
##
## The sysvshm command, its manual page and its tests.  The tool links the
## convenience library: it needs the internals (header check, probe keys).

bin_PROGRAMS += tools/sysvshm
tools_sysvshm_SOURCES = tools/sysvshm.c tools/scan.c tools/scan.h \
	tools/out.c tools/out.h
## Where `sysvshm ls' finds ipcs when /proc/sysvipc is missing: the one
## configure found, else (empty) the first in PATH at run time.
tools_sysvshm_CPPFLAGS = $(AM_CPPFLAGS) -DSVS_IPCS_PATH='"$(IPCS)"'
tools_sysvshm_LDADD = lib/libsysvshm_core.la

dist_man_MANS += man/sysvshm.1

## A helper for the gc test: makes a half-made block from a child that exits.
check_PROGRAMS += tools/svs-mkhalf
tools_svs_mkhalf_SOURCES = tools/svs-mkhalf.c
tools_svs_mkhalf_LDADD = lib/libsysvshm_core.la

## A program for the fast-lock test: owns every slot of a block without
## holding its lock, so that the next locker goes without one.
check_PROGRAMS += tests/svs-holdslots
tests_svs_holdslots_SOURCES = tests/svs-holdslots.c
tests_svs_holdslots_LDADD = lib/libsysvshm_core.la

tools_tests = \
	tests/tool-cli.sh \
	tests/tool-blocks.sh \
	tests/tool-data.sh \
	tests/tool-gc.sh \
	tests/tool-ipcs.sh \
	tests/tool-fast.sh
TESTS += $(tools_tests)
EXTRA_DIST += $(tools_tests) tests/tool-lib.sh
