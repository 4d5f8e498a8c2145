## man/local.mk: rules for man/ (included by the top Makefile.am)
##
## The manual pages are written by hand in man(7) macros and shipped as
## they are: building, installing and `make distcheck' need no doc tools.
## A page that documents several functions has one-line `.so' pages for the
## others.  The library's overview is libsysvshm(3), as libcurl's is
## libcurl(3), so that `man sysvshm' finds the tool; sysvshm(3) links to it.
## The tool's page, man/sysvshm.1, is listed in tools/local.mk.

dist_man_MANS += \
	man/libsysvshm.3 \
	man/sysvshm.3 \
	man/sysvshm_create.3 \
	man/sysvshm_attach.3 \
	man/sysvshm_close.3 \
	man/sysvshm_unlink.3 \
	man/sysvshm_remove.3 \
	man/sysvshm_remove_v2.3 \
	man/sysvshm_lock.3 \
	man/sysvshm_unlock.3 \
	man/sysvshm_buf.3 \
	man/sysvshm_size.3 \
	man/sysvshm_name.3 \
	man/sysvshm_key.3 \
	man/sysvshm_name_key.3 \
	man/sysvshm_version.3 \
	man/process1.1 \
	man/process2.1

## Every exported function has a page, every errno of the header's comments
## is on it, the synopses match the header, and mandoc -T lint is quiet.
TESTS += tests/man-check.sh
EXTRA_DIST += tests/man-check.sh
