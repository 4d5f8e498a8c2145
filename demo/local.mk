## demo/local.mk: rules for demo/ (included by the top Makefile.am)
##
## The two demo programs, replaying the Python SharedMemory example in C.
## They are installed, so that a user can run them in two terminals.

bin_PROGRAMS += demo/process1 demo/process2

demo_process1_SOURCES = demo/process1.c demo/demo.c demo/demo.h
demo_process1_LDADD = lib/libsysvshm.la
demo_process2_SOURCES = demo/process2.c demo/demo.c demo/demo.h
demo_process2_LDADD = lib/libsysvshm.la

## `make demo': run both together and show their output.
## `make demo DEMO_FLAGS=--float64' does the same with doubles.
DEMO_FLAGS =
demo: demo/process1$(EXEEXT) demo/process2$(EXEEXT)
	@$(SHELL) $(srcdir)/demo/run-demo.sh . $(DEMO_FLAGS)
.PHONY: demo

TESTS += demo/test-demo.sh
EXTRA_DIST += demo/run-demo.sh demo/test-demo.sh
