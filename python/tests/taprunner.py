"""Run a test module's unittest cases and print TAP, for automake's TAP
driver: a plan, one "ok"/"not ok" line per case (by name), the failure's
traceback as "#" lines, and at the end "# N passed, N failed, N skipped".
Exit status 1 if a case failed.

Standalone:  PYTHONPATH=python/build/lib python3 python/tests/test_api.py [-v]

Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
"""
import sys
import unittest


class TAPResult(unittest.TestResult):
    def __init__(self, out):
        super().__init__()
        self.out = out
        self.n = 0
        self.n_pass = 0
        self.n_fail = 0
        self.n_skip = 0

    def _line(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    def _name(self, test):
        return test.id().split(".", 1)[-1]

    def _diag(self, text):
        for line in text.rstrip("\n").split("\n"):
            self._line("# " + line)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.n += 1
        self.n_pass += 1
        self._line("ok %d - %s" % (self.n, self._name(test)))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.n += 1
        self.n_fail += 1
        self._line("not ok %d - %s" % (self.n, self._name(test)))
        self._diag(self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self.n += 1
        self.n_fail += 1
        self._line("not ok %d - %s" % (self.n, self._name(test)))
        self._diag(self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.n += 1
        self.n_skip += 1
        self._line("ok %d - %s # SKIP %s" % (self.n, self._name(test), reason))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.n += 1
        self.n_pass += 1
        self._line("ok %d - %s (expected failure)" % (self.n, self._name(test)))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.n += 1
        self.n_fail += 1
        self._line("not ok %d - %s (unexpected success)" % (self.n, self._name(test)))


def main(module_name="__main__"):
    module = sys.modules[module_name]
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    out = sys.stdout
    out.write("1..%d\n" % suite.countTestCases())
    out.flush()
    result = TAPResult(out)
    suite.run(result)
    # Errors outside any case (setUpClass, setUpModule) are counted too.
    missing = suite.countTestCases() - result.n
    for i in range(missing):
        result.n += 1
        result.n_fail += 1
        result._line("not ok %d - (not run: a class or module setup failed)" % result.n)
    result._line("# %d passed, %d failed, %d skipped" %
                 (result.n_pass, result.n_fail, result.n_skip))
    sys.exit(1 if result.n_fail else 0)
