"""sysvshm across processes: multiprocessing with fork and spawn, a lock
holder killed, Ctrl-C while waiting, the GIL released while waiting, and a
block shared with the C tool (tools/sysvshm) both ways.

Every block name starts with "pyprocs-<pid>-"; every test removes what it
made, and kills the processes it started, also when it fails.

Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
"""
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import taprunner  # noqa: E402

import sysvshm  # noqa: E402
from sysvshm import SharedMemory  # noqa: E402

PREFIX = "pyprocs-%d-" % os.getpid()
BUILDDIR = os.environ.get("SVS_TOP_BUILDDIR", "")
TOOL = os.path.join(BUILDDIR, "tools", "sysvshm") if BUILDDIR else ""
ROUNDS = 200


# ---- what the child processes run (importable, for spawn) -------------------

def child_write(shm, offset, value):
    """Given the SharedMemory itself (inherited or pickled)."""
    with shm.lock():
        shm.buf[offset] = value
    shm.close()


def child_attach_write(name, offset, value):
    """Given only the name."""
    with SharedMemory(name) as shm, shm.lock():
        shm.buf[offset] = value


def child_count(name, rounds):
    """Increment a 4-byte counter `rounds` times under the writer lock."""
    with SharedMemory(name) as shm:
        for _ in range(rounds):
            with shm.lock():
                v = int.from_bytes(shm.buf[0:4], "little")
                shm.buf[0:4] = (v + 1).to_bytes(4, "little")


def child_read_locked(name, q):
    with SharedMemory(name, readonly=True) as shm, shm.lock(write=False):
        q.put(bytes(shm.buf[0:4]))


class Base(unittest.TestCase):
    counter = 0

    def setUp(self):
        self.names = []
        self.opened = []
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for shm in self.opened:
            try:
                shm.close()
            except BufferError:
                pass
        for n in self.names:
            try:
                sysvshm.remove(n)
            except FileNotFoundError:
                pass

    def fresh(self):
        Base.counter += 1
        n = "%s%d" % (PREFIX, Base.counter)
        self.names.append(n)
        return n

    def make(self, size=64, **kw):
        shm = SharedMemory(self.fresh(), create=True, size=size, **kw)
        self.opened.append(shm)
        return shm

    def attach(self, name, **kw):
        shm = SharedMemory(name, **kw)
        self.opened.append(shm)
        return shm

    def python(self, code, *args):
        p = subprocess.Popen([sys.executable, "-c", code] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        self.procs.append(p)
        return p


class MultiprocessingMixin:
    method = None

    def ctx(self):
        return multiprocessing.get_context(self.method)

    def run_child(self, target, *args):
        p = self.ctx().Process(target=target, args=args)
        p.start()
        p.join(60)
        self.assertEqual(p.exitcode, 0)

    def test_child_gets_the_object(self):
        a = self.make(8)
        self.run_child(child_write, a, 1, 42)
        self.assertEqual(a.buf[1], 42)

    def test_child_attaches_by_name(self):
        a = self.make(8)
        self.run_child(child_attach_write, a.name, 2, 43)
        self.assertEqual(a.buf[2], 43)

    def test_lock_excludes_across_processes(self):
        a = self.make(8)
        procs = [self.ctx().Process(target=child_count, args=(a.name, ROUNDS))
                 for _ in range(3)]
        for p in procs:
            p.start()
        for _ in range(ROUNDS):
            with a.lock():
                v = int.from_bytes(a.buf[0:4], "little")
                a.buf[0:4] = (v + 1).to_bytes(4, "little")
        for p in procs:
            p.join(120)
            self.assertEqual(p.exitcode, 0)
        self.assertEqual(int.from_bytes(a.buf[0:4], "little"), 4 * ROUNDS)

    def test_readonly_child_through_a_queue(self):
        a = self.make(8)
        a.buf[0:4] = b"abcd"
        q = self.ctx().Queue()
        p = self.ctx().Process(target=child_read_locked, args=(a.name, q))
        p.start()
        self.assertEqual(q.get(timeout=60), b"abcd")
        p.join(60)
        self.assertEqual(p.exitcode, 0)


@unittest.skipUnless("fork" in multiprocessing.get_all_start_methods(), "no fork")
class TestFork(MultiprocessingMixin, Base):
    method = "fork"

    def test_child_does_not_hold_the_parents_lock(self):
        a = self.make(8)
        g = a.lock()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(r)
                if a.locked or g.held:
                    code = 1
                try:
                    a.lock(timeout=0)
                    code = 2
                except TimeoutError:
                    pass
                try:
                    g.release()
                    code = 3
                except RuntimeError:
                    pass
                os.write(w, b"%d" % code)
            finally:
                os._exit(0)
        os.close(w)
        answer = os.read(r, 16)
        os.close(r)
        os.waitpid(pid, 0)
        self.assertEqual(answer, b"0")
        self.assertTrue(g.held)  # still the parent's
        g.release()


class TestSpawn(MultiprocessingMixin, Base):
    method = "spawn"


class TestLockHolderDies(Base):
    def hold_and_die(self, name, write=True):
        """A child takes the lock and is killed with SIGKILL holding it."""
        p = self.python(
            "import sys, time, sysvshm\n"
            "shm = sysvshm.SharedMemory(sys.argv[1])\n"
            "g = shm.lock(write=sys.argv[2] == 'w')\n"
            "shm.buf[0] = 99  # half an update\n"
            "print('holding', flush=True)\n"
            "time.sleep(60)\n", name, "w" if write else "r")
        self.assertEqual(p.stdout.readline().strip(), "holding")
        p.kill()
        p.wait()

    def test_killed_writer_next_writer_sees_recovered(self):
        a = self.make(8)
        self.hold_and_die(a.name)
        with a.lock(timeout=5) as g:
            self.assertTrue(g.recovered)
            self.assertEqual(a.buf[0], 99)
        with a.lock(timeout=5) as g:
            self.assertFalse(g.recovered)  # the writer's unlock cleared it

    def test_killed_writer_readers_see_recovered_until_a_writer_unlocks(self):
        a = self.make(8)
        b = self.attach(a.name)
        self.hold_and_die(a.name)
        with a.lock(write=False, timeout=5) as g:
            self.assertTrue(g.recovered)
        with b.lock(write=False, timeout=5) as g:
            self.assertTrue(g.recovered)
        with b.lock(timeout=5) as g:
            self.assertTrue(g.recovered)
        with a.lock(write=False, timeout=5) as g:
            self.assertFalse(g.recovered)

    def test_killed_reader_frees_the_lock_without_alarm(self):
        a = self.make(8)
        self.hold_and_die(a.name, write=False)
        with a.lock(timeout=5) as g:
            self.assertFalse(g.recovered)

    def test_waiter_gets_the_lock_when_the_holder_is_killed(self):
        a = self.make(8)
        p = self.python(
            "import sys, time, sysvshm\n"
            "shm = sysvshm.SharedMemory(sys.argv[1])\n"
            "g = shm.lock()\n"
            "print('holding', flush=True)\n"
            "time.sleep(60)\n", a.name)
        self.assertEqual(p.stdout.readline().strip(), "holding")
        threading.Timer(0.3, p.kill).start()
        t0 = time.monotonic()
        with a.lock(timeout=30) as g:
            self.assertTrue(g.recovered)
        self.assertGreater(time.monotonic() - t0, 0.2)


class TestWaiting(Base):
    def test_ctrl_c_interrupts_a_wait_without_timeout(self):
        a = self.make(8)
        held = a.lock()
        p = self.python(
            "import sys, sysvshm\n"
            "shm = sysvshm.SharedMemory(sys.argv[1])\n"
            "print('waiting', flush=True)\n"
            "try:\n"
            "    shm.lock()\n"
            "    print('locked?!')\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted', shm.locked, flush=True)\n"
            "try:\n"
            "    shm.lock(write=False, timeout=0)\n"
            "    print('reader lock taken?!')\n"
            "except TimeoutError:\n"
            "    print('still held by the parent')\n", a.name)
        self.assertEqual(p.stdout.readline().strip(), "waiting")
        time.sleep(0.5)  # well into the wait
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(out.split("\n")[:2], ["interrupted False", "still held by the parent"], err)
        self.assertEqual(p.returncode, 0, err)
        held.release()
        # The interrupted waiter left nothing behind: readers are not held back.
        b = self.attach(a.name)
        b.lock(write=False, timeout=0).release()
        b.lock(timeout=0).release()

    def test_gil_released_while_waiting(self):
        a = self.make(8)
        b = self.attach(a.name)
        held = a.lock()
        got = []

        def waiter():
            with b.lock(timeout=30) as g:
                got.append(g.recovered)

        t = threading.Thread(target=waiter)
        t.start()
        spins = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.4:
            spins += 1  # pure Python: runs only if the waiter let the GIL go
        self.assertEqual(got, [])
        held.release()
        t.join(30)
        self.assertEqual(got, [False])
        self.assertGreater(spins, 10000)

    def test_object_busy_in_another_thread(self):
        a = self.make(8)
        b = self.attach(a.name)
        held = a.lock()
        t = threading.Thread(target=lambda: b.lock(timeout=5).release())
        t.start()
        time.sleep(0.3)
        with self.assertRaises(RuntimeError):
            b.close()  # the waiting thread uses it
        held.release()
        t.join(30)
        b.close()


@unittest.skipUnless(TOOL and os.access(TOOL, os.X_OK), "the sysvshm tool is not built")
class TestWithC(Base):
    def tool(self, *args, data=None):
        r = subprocess.run([TOOL] + list(args), input=data, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_c_block_opened_from_python(self):
        n = self.fresh()
        self.tool("create", n, "16")
        self.tool("write", n, data=b"from C")
        a = self.attach(n)
        self.assertEqual(a.size, 16)
        self.assertEqual(bytes(a.buf[0:6]), b"from C")
        with a.lock():
            a.buf[0:6] = b"Python"
        self.assertEqual(self.tool("cat", n, "--length", "6"), b"Python")

    def test_python_block_opened_from_c(self):
        a = self.make(32)
        with a.lock():
            a.buf[0:9] = b"hello, C!"
        self.assertEqual(self.tool("cat", a.name, "--length", "9"), b"hello, C!")
        self.assertEqual(self.tool("key", a.name).strip().lower(),
                         ("0x%08x" % a.key).encode())
        # This process made it and has it attached: the tool refuses
        # without --force, and removes it with it.
        r = subprocess.run([TOOL, "rm", a.name], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"in use by 1 process", r.stderr)
        self.tool("rm", "--force", a.name)
        with self.assertRaises(FileNotFoundError):
            a.lock()


class FastLockMixin:
    """Blocks made with fastlock=True."""

    def make(self, size=64, **kw):
        kw.setdefault("fastlock", True)
        shm = super().make(size, **kw)
        self.assertTrue(shm.fastlock)
        return shm


class TestForkFast(FastLockMixin, TestFork):
    pass


class TestSpawnFast(FastLockMixin, TestSpawn):
    pass


class TestLockHolderDiesFast(FastLockMixin, TestLockHolderDies):
    pass


class TestWaitingFast(FastLockMixin, TestWaiting):
    pass


if __name__ == "__main__":
    taprunner.main()
