## tests/cross.mk: the qemu-user shim, included by the top Makefile.am.
##
## .ci/cross builds the tarball for big-endian targets (s390x, 32-bit
## PowerPC, sparc64) and runs the programs under qemu-user.  qemu-user 7.2
## gets a few System V calls wrong (tests/qemu-shim.c names them); the shim
## corrects them, preloaded into each program .ci/cross runs.  It is built
## only on request, `make tests/qemu-shim.so', never installed, and never
## linked into the library or the programs.

EXTRA_DIST += tests/qemu-shim.c .ci/cross
CLEANFILES += tests/qemu-shim.so

tests/qemu-shim.so: $(srcdir)/tests/qemu-shim.c
	@$(MKDIR_P) tests
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN_CFLAGS) -fPIC -shared $(LDFLAGS) \
		-o $@ $(srcdir)/tests/qemu-shim.c
