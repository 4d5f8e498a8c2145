"""The seed's two Python programs (demo/process_1.py, demo/process_2.py)
talk to each other and to the C demos (demo/process1, demo/process2): the
creator in one language, the attacher in the other, and both see 1 2 3 4.

Block names start with "pydemo-<pid>-"; every program started is stopped,
and every block removed, also when a test fails.

Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
"""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import taprunner  # noqa: E402

import sysvshm  # noqa: E402

SRCDIR = os.environ.get("SVS_TOP_SRCDIR", os.path.join(HERE, os.pardir, os.pardir))
BUILDDIR = os.environ.get("SVS_TOP_BUILDDIR", "")
PREFIX = "pydemo-%d-" % os.getpid()

PY = {"1": [sys.executable, os.path.join(SRCDIR, "demo", "process_1.py")],
      "2": [sys.executable, os.path.join(SRCDIR, "demo", "process_2.py")]}
C = {"1": [os.path.join(BUILDDIR, "demo", "process1")],
     "2": [os.path.join(BUILDDIR, "demo", "process2")]}
HAVE_C = bool(BUILDDIR) and all(os.access(c[0], os.X_OK) for c in C.values())


class TestDemo(unittest.TestCase):
    counter = 0

    def setUp(self):
        TestDemo.counter += 1
        self.name = "%s%d" % (PREFIX, TestDemo.counter)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        try:
            sysvshm.remove(self.name)
        except FileNotFoundError:
            pass

    def start(self, argv, count):
        p = subprocess.Popen(argv + ["--name", self.name, "--count", str(count),
                                     "--interval", "50"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        self.procs.append(p)
        return p

    def pair(self, first, second):
        p1 = self.start(first, 60)
        line = p1.stdout.readline().strip()
        self.assertEqual(line, "1 0 0 0", p1.stderr.read() if not line else line)
        p2 = self.start(second, 5)
        out2, err2 = p2.communicate(timeout=60)
        self.assertEqual(p2.returncode, 0, err2)
        out1, err1 = p1.communicate(timeout=60)
        self.assertEqual(p1.returncode, 0, err1)
        self.assertEqual(out2.split(), ["1", "2", "3", "4"] * 5)
        self.assertIn("1 2 3 4", out1.splitlines())
        self.assertEqual(out1.splitlines()[-1], "1 2 3 4")
        # The creator destroyed the block when it ended.
        with self.assertRaises(FileNotFoundError):
            sysvshm.SharedMemory(self.name)

    def test_python_with_python(self):
        self.pair(PY["1"], PY["2"])

    @unittest.skipUnless(HAVE_C, "the C demos are not built")
    def test_python_creates_c_attaches(self):
        self.pair(PY["1"], C["2"])

    @unittest.skipUnless(HAVE_C, "the C demos are not built")
    def test_c_creates_python_attaches(self):
        self.pair(C["1"], PY["2"])

    def test_process_2_alone_fails(self):
        p = self.start(PY["2"], 1)
        out, err = p.communicate(timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("FileNotFoundError", err)


if __name__ == "__main__":
    taprunner.main()
