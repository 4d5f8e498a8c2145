## python/local.mk: rules for python/ (included by the top Makefile.am)
##
## The Python package sysvshm: a C extension that compiles the library's
## lib/ sources in, built with setuptools (python/setup.py) into
## python/build/lib of the build tree, so that a read-only source tree
## (distcheck) works.  `make python' builds it; `make check' builds it and
## runs its tests when configure found python3 with development headers and
## setuptools, and says they were skipped otherwise.  Users install it with
## `pip install --no-build-isolation ./python'.
##
## Each test file prints TAP through python/tests/taprunner.py and runs
## through automake's TAP driver, so every case is listed by name.

python_sources = \
	python/pyproject.toml \
	python/setup.py \
	python/README.md \
	python/sysvshm/__init__.py \
	python/sysvshm/_sysvshm.c \
	python/sysvshm/_sysvshm.pyi \
	python/sysvshm/py.typed
python_tests = \
	python/tests/test_api.py \
	python/tests/test_procs.py \
	python/tests/test_cpython.py \
	python/tests/test_demo.py
EXTRA_DIST += $(python_sources) $(python_tests) \
	python/tests/taprunner.py \
	python/tests/no-python.sh \
	demo/process_1.py demo/process_2.py \
	python/local.mk

PY_BUILD = $(abs_top_builddir)/python/build

## Unconditional: automake wants TEST_EXTENSIONS outside conditionals; without
## Python no .py test is listed, and these are unused.
TEST_EXTENSIONS += .py
PY_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
## A failing case is a "not ok" line; a runner that dies is caught by its
## plan, as for Criterion.
AM_PY_LOG_DRIVER_FLAGS = --ignore-exit
PY_LOG_COMPILER = env PYTHONPATH='$(PY_BUILD)/lib' \
	SVS_TOP_BUILDDIR='$(abs_top_builddir)' SVS_TOP_SRCDIR='$(abs_top_srcdir)' \
	$(PYTHON3)

if HAVE_PYTHON_DEV
python/build/stamp: $(python_sources) $(lib_libsysvshm_core_la_SOURCES)
	@$(MKDIR_P) python/build
	cd $(srcdir)/python && $(PYTHON3) setup.py -q build \
	    --build-base '$(PY_BUILD)' --build-lib '$(PY_BUILD)/lib' \
	    --build-temp '$(PY_BUILD)/temp'
	@echo built > $@
python: python/build/stamp
check_SCRIPTS += python/build/stamp

TESTS += $(python_tests)
else
python:
	@echo "make python: skipped: configure found no python3 with development headers and setuptools"
TESTS += python/tests/no-python.sh
endif
.PHONY: python

clean-local: clean-python
clean-python:
	-rm -rf python/build
.PHONY: clean-python
