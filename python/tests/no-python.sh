#!/bin/sh
# Run by `make check' when configure found no python3 with development
# headers and setuptools: say so, and report the Python tests as skipped.
echo "SKIP: Python package tests skipped: no python3 with development headers and setuptools (install python3-dev python3-setuptools, then re-run configure)"
exit 77
