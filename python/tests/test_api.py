"""sysvshm's API, sentence by sentence, in one process.

Every block name starts with "pyapi-<pid>-", and every test removes what
it made, also when it fails.

Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
"""
import errno
import gc
import inspect
import os
import pickle
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taprunner  # noqa: E402

import sysvshm  # noqa: E402
from sysvshm import SharedMemory  # noqa: E402

PREFIX = "pyapi-%d-" % os.getpid()
SRCDIR = os.environ.get(
    "SVS_TOP_SRCDIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir),
)


def fnv_key(name, i=0):
    """docs/format.md's key computation, verbatim."""
    b = name.encode()
    if b.startswith(b"/"):
        b = b[1:]
    h = 2166136261
    for c in b:
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    f = (h >> 24) ^ (h & 0xFFFFFF)
    return 0x53000000 | ((f + i) & 0xFFFFFF)


class Base(unittest.TestCase):
    counter = 0

    def setUp(self):
        self.names = []
        self.opened = []

    def tearDown(self):
        for shm in self.opened:
            try:
                shm.close()
            except BufferError:
                pass
        gc.collect()
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


class TestLifeCycle(Base):
    def test_create_then_attach_share_bytes(self):
        a = self.make(100)
        b = self.attach(a.name)
        a.buf[0:3] = b"abc"
        self.assertEqual(bytes(b.buf[0:3]), b"abc")
        b.buf[99] = 7
        self.assertEqual(a.buf[99], 7)

    def test_new_block_is_zero_filled(self):
        a = self.make(4096)
        self.assertEqual(bytes(a.buf), bytes(4096))

    def test_size_is_exact_on_create_and_attach(self):
        for size in (1, 63, 4097, 100003):
            a = self.make(size)
            b = self.attach(a.name)
            self.assertEqual((a.size, b.size), (size, size))
            self.assertEqual((len(a.buf), len(b.buf)), (size, size))
            self.assertEqual(a.buf.nbytes, size)

    def test_size_is_ignored_on_attach(self):
        a = self.make(10)
        b = self.attach(a.name, size=5000)
        self.assertEqual(b.size, 10)

    def test_buf_is_a_writable_byte_memoryview(self):
        a = self.make(16)
        self.assertIsInstance(a.buf, memoryview)
        self.assertFalse(a.buf.readonly)
        self.assertEqual(a.buf.format, "B")
        self.assertIs(a.buf, a.buf)

    def test_name_without_leading_slash(self):
        n = self.fresh()
        a = SharedMemory("/" + n, create=True, size=8)
        self.opened.append(a)
        self.assertEqual(a.name, n)
        b = self.attach(n)
        self.assertEqual(b.name, n)
        c = self.attach("/" + n)
        self.assertEqual(c.key, a.key)

    def test_name_none_makes_a_unique_name(self):
        a = SharedMemory(create=True, size=8)
        self.opened.append(a)
        self.names.append(a.name)
        self.assertIsInstance(a.name, str)
        self.assertTrue(0 < len(a.name) <= 32)
        b = SharedMemory(create=True, size=8)
        self.opened.append(b)
        self.names.append(b.name)
        self.assertNotEqual(a.name, b.name)

    def test_close_detaches_and_never_destroys(self):
        a = self.make(8)
        a.buf[0] = 42
        a.close()
        self.assertTrue(a.closed)
        self.assertIsNone(a.buf)
        b = self.attach(a.name)
        self.assertEqual(b.buf[0], 42)

    def test_close_twice_is_harmless(self):
        a = self.make(8)
        a.close()
        a.close()

    def test_name_and_size_stay_after_close(self):
        a = self.make(9)
        n = a.name
        a.close()
        self.assertEqual((a.name, a.size), (n, 9))

    def test_close_with_a_slice_alive_raises_buffererror(self):
        a = self.make(8)
        view = a.buf[2:4]
        with self.assertRaises(BufferError):
            a.close()
        self.assertFalse(a.closed)
        view[0] = 5  # still valid: nothing dangles
        self.assertEqual(a.buf[2], 5)
        del view
        a.close()
        self.assertTrue(a.closed)

    def test_close_with_memoryview_of_buf_alive_raises_buffererror(self):
        a = self.make(8)
        view = memoryview(a.buf)
        with self.assertRaises(BufferError):
            a.close()
        view.release()
        a.close()

    def test_close_after_released_views_succeeds(self):
        a = self.make(8)
        v = a.buf.cast("b")
        v.release()
        a.close()

    def test_unlink_destroys_for_everyone(self):
        a = self.make(8)
        b = self.attach(a.name)
        a.unlink()
        with self.assertRaises(FileNotFoundError):
            SharedMemory(a.name)
        b.buf[0] = 1  # attached processes keep their memory
        self.assertEqual(b.buf[0], 1)

    def test_unlink_after_close(self):
        a = self.make(8)
        a.close()
        a.unlink()
        with self.assertRaises(FileNotFoundError):
            SharedMemory(a.name)

    def test_unlink_twice_raises_filenotfounderror(self):
        a = self.make(8)
        a.unlink()
        with self.assertRaises(FileNotFoundError):
            a.unlink()

    def test_unlink_never_touches_a_newer_block_of_the_name(self):
        a = self.make(8)
        a.close()
        sysvshm.remove(a.name)
        newer = SharedMemory(a.name, create=True, size=8)
        self.opened.append(newer)
        with self.assertRaises(FileNotFoundError):
            a.unlink()  # closed: must not destroy `newer`
        b = SharedMemory(a.name, create=False)
        self.opened.append(b)
        c = self.make(8)
        d = self.attach(c.name)
        c.unlink()
        again = SharedMemory(c.name, create=True, size=4)
        self.opened.append(again)
        with self.assertRaises(FileNotFoundError):
            d.unlink()  # open, but its block is gone
        self.attach(c.name)

    def test_context_manager_closes_not_unlinks(self):
        n = self.fresh()
        with SharedMemory(n, create=True, size=8) as a:
            a.buf[0] = 3
        self.assertTrue(a.closed)
        with SharedMemory(n) as b:
            self.assertEqual(b.buf[0], 3)

    def test_repr(self):
        a = self.make(12)
        self.assertEqual(repr(a), "SharedMemory(%r, size=12)" % a.name)
        r = self.attach(a.name, readonly=True)
        self.assertEqual(repr(r), "SharedMemory(%r, size=12, readonly=True)" % a.name)

    def test_pickle_by_name(self):
        a = self.make(12)
        a.buf[0] = 9
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            b = pickle.loads(pickle.dumps(a, proto))
            self.opened.append(b)
            self.assertIsNot(a, b)
            self.assertEqual((b.name, b.size, b.buf[0]), (a.name, 12, 9))
            b.buf[1] = proto
            self.assertEqual(a.buf[1], proto)
        self.assertEqual(a.__reduce__(), (SharedMemory, (a.name, False, 12)))

    def test_pickle_keeps_readonly(self):
        a = self.make(12)
        r = self.attach(a.name, readonly=True)
        b = pickle.loads(pickle.dumps(r))
        self.opened.append(b)
        self.assertTrue(b.readonly)
        self.assertTrue(b.buf.readonly)

    def test_subclass(self):
        class Mine(SharedMemory):
            pass

        n = self.fresh()
        m = Mine(n, create=True, size=8)
        self.opened.append(m)
        self.assertEqual(repr(m), "Mine(%r, size=8)" % n)
        self.assertIsInstance(m, SharedMemory)

    def test_track_is_accepted(self):
        a = self.make(8, track=False)
        b = self.attach(a.name, track=True)
        self.assertEqual(b.size, 8)

    def test_garbage_collected_with_buf_cycle(self):
        a = SharedMemory(self.fresh(), create=True, size=8)
        a.buf[0] = 1
        a = None
        gc.collect()  # the object and its .buf reference each other

    def test_memoryview_of_the_object(self):
        a = self.make(8)
        with memoryview(a) as m:
            self.assertEqual(m.nbytes, 8)


class TestErrors(Base):
    def test_create_existing_raises_fileexistserror(self):
        a = self.make(8)
        with self.assertRaises(FileExistsError) as cm:
            SharedMemory(a.name, create=True, size=8)
        self.assertEqual(cm.exception.errno, errno.EEXIST)
        self.assertEqual(cm.exception.filename, a.name)

    def test_attach_missing_raises_filenotfounderror(self):
        with self.assertRaises(FileNotFoundError) as cm:
            SharedMemory(self.fresh())
        self.assertEqual(cm.exception.errno, errno.ENOENT)

    def test_bad_sizes_raise_valueerror(self):
        for size in (0, -1):
            with self.assertRaises(ValueError):
                SharedMemory(self.fresh(), create=True, size=size)
        with self.assertRaises(ValueError):
            SharedMemory(self.fresh(), create=True, size=2 ** 70)
        with self.assertRaises(ValueError):
            SharedMemory(self.fresh(), size=-1)
        with self.assertRaises(TypeError):
            SharedMemory(self.fresh(), create=True, size=1.5)

    def test_bad_names_raise_valueerror(self):
        for name in ("", "a/b", "x" * 256, "/"):
            with self.assertRaises(ValueError, msg=repr(name)):
                SharedMemory(name, create=True, size=8)
            with self.assertRaises(ValueError, msg=repr(name)):
                SharedMemory(name)
        with self.assertRaises(ValueError):
            SharedMemory("a\0b", create=True, size=8)
        with self.assertRaises(TypeError):
            SharedMemory(42, create=True, size=8)

    def test_name_none_without_create_raises_valueerror(self):
        with self.assertRaises(ValueError):
            SharedMemory()

    def test_longest_name_works(self):
        n = PREFIX + "x" * (255 - len(PREFIX))
        self.names.append(n)
        a = SharedMemory(n, create=True, size=8)
        self.opened.append(a)
        self.assertEqual(a.name, n)

    def test_bad_mode_raises_valueerror(self):
        for mode in (0o700, 0o400, 0o777, 0o1600):
            with self.assertRaises(ValueError, msg=oct(mode)):
                SharedMemory(self.fresh(), create=True, size=8, mode=mode)
        for mode in (0o600, 0o640, 0o660, 0o666):
            self.make(8, mode=mode)

    def test_readonly_create_raises_valueerror(self):
        with self.assertRaises(ValueError):
            SharedMemory(self.fresh(), create=True, size=8, readonly=True)

    @unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0,
                         "needs root, to become another user")
    def test_another_user_gets_permissionerror(self):
        a = self.make(8, mode=0o600)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                try:
                    SharedMemory(a.name)
                except PermissionError:
                    code = 0
                try:
                    SharedMemory(a.name, anyuser=True)
                    code = 1
                except PermissionError:
                    pass
                try:
                    sysvshm.remove(a.name, anyuser=True)
                    code = 1
                except PermissionError:
                    pass
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(status, 0)

    def test_operations_on_closed_object(self):
        a = self.make(8)
        a.close()
        with self.assertRaises(ValueError):
            a.lock()
        with self.assertRaises(ValueError):
            memoryview(a)


class TestModule(Base):
    def test_version_is_the_c_librarys(self):
        with open(os.path.join(SRCDIR, "lib", "sysvshm.h")) as f:
            want = re.search(r'#define SYSVSHM_VERSION_STRING "([^"]+)"', f.read()).group(1)
        self.assertEqual(sysvshm.__version__, want)

    def test_key_follows_the_format(self):
        for n in ("MyMemory", "x", "/x", "a" * 255):
            self.assertEqual(sysvshm.key(n), fnv_key(n))
        self.assertEqual(sysvshm.key("MyMemory"), 0x5376FB15)  # README's ipcs line
        with self.assertRaises(ValueError):
            sysvshm.key("a/b")

    def test_block_lives_at_its_key(self):
        a = self.make(8)
        self.assertEqual(a.key, sysvshm.key(a.name))

    def test_remove(self):
        a = self.make(8)
        a.close()
        sysvshm.remove(a.name)
        with self.assertRaises(FileNotFoundError):
            SharedMemory(a.name)
        with self.assertRaises(FileNotFoundError):
            sysvshm.remove(a.name)
        with self.assertRaises(ValueError):
            sysvshm.remove("")

    def test_remove_by_name_with_slash_and_anyuser(self):
        a = self.make(8)
        sysvshm.remove("/" + a.name, anyuser=True)
        with self.assertRaises(FileNotFoundError):
            SharedMemory(a.name)

    def test_help_reads_well(self):
        sig = inspect.signature(SharedMemory)
        self.assertEqual(list(sig.parameters)[:3], ["name", "create", "size"])
        for p in ("mode", "lock", "readonly", "anyuser"):
            self.assertEqual(sig.parameters[p].kind, inspect.Parameter.KEYWORD_ONLY)
        self.assertIn("timeout", str(inspect.signature(SharedMemory.lock)))
        for obj in (sysvshm, SharedMemory, SharedMemory.lock, SharedMemory.close,
                    SharedMemory.unlink, sysvshm.LockGuard, sysvshm.remove,
                    sysvshm.key, sysvshm.ShareableList):
            self.assertTrue(obj.__doc__ and len(obj.__doc__) > 20, obj)

    def test_all(self):
        for n in sysvshm.__all__:
            self.assertTrue(hasattr(sysvshm, n), n)


class TestReadonly(Base):
    def test_readonly_buf(self):
        a = self.make(8)
        a.buf[0] = 5
        r = self.attach(a.name, readonly=True)
        self.assertTrue(r.buf.readonly)
        self.assertEqual(r.buf[0], 5)
        with self.assertRaises(TypeError):
            r.buf[0] = 1

    def test_readonly_reader_lock_only(self):
        a = self.make(8)
        r = self.attach(a.name, readonly=True)
        with r.lock(write=False):
            pass
        with self.assertRaises(PermissionError):
            r.lock()


class TestLock(Base):
    def test_with_lock(self):
        a = self.make(8)
        with a.lock() as g:
            self.assertTrue(a.locked)
            self.assertTrue(g.held)
            self.assertTrue(g.write)
            self.assertFalse(g.recovered)
            self.assertIs(g.shm, a)
            a.buf[0] = 1
        self.assertFalse(a.locked)
        self.assertFalse(g.held)

    def test_lock_is_taken_at_the_call(self):
        a = self.make(8)
        b = self.attach(a.name)
        g = a.lock()
        with self.assertRaises(TimeoutError):
            b.lock(timeout=0)
        g.release()
        g.release()  # once; later calls do nothing
        b.lock(timeout=0).release()

    def test_timeout_zero_and_positive(self):
        a = self.make(8)
        b = self.attach(a.name)
        with a.lock():
            with self.assertRaises(TimeoutError) as cm:
                b.lock(timeout=0)
            self.assertEqual(cm.exception.errno, errno.EBUSY)
            t0 = time.monotonic()
            with self.assertRaises(TimeoutError) as cm:
                b.lock(write=False, timeout=0.3)
            dt = time.monotonic() - t0
            self.assertEqual(cm.exception.errno, errno.ETIMEDOUT)
            self.assertGreaterEqual(dt, 0.25)
            self.assertLess(dt, 3.0)
            self.assertFalse(b.locked)
        with b.lock(timeout=0.5):
            pass

    def test_timeout_argument_forms(self):
        a = self.make(8)
        with a.lock(True, 1):
            pass
        with a.lock(False, None):
            pass
        with a.lock(write=False, timeout=0.5):
            pass
        with self.assertRaises(ValueError):
            a.lock(timeout=-1)
        with self.assertRaises(ValueError):
            a.lock(timeout=float("nan"))
        with self.assertRaises(TypeError):
            a.lock(timeout="1")
        with self.assertRaises(TypeError):
            a.lock(wait=1)
        with self.assertRaises(TypeError):
            a.lock(True, 1, 2)
        self.assertFalse(a.locked)

    def test_readers_share_writer_excluded(self):
        a = self.make(8)
        b = self.attach(a.name)
        c = self.attach(a.name)
        with a.lock(write=False), b.lock(write=False):
            with self.assertRaises(TimeoutError):
                c.lock(timeout=0)
            with c.lock(write=False, timeout=0):
                pass
        with a.lock():
            with self.assertRaises(TimeoutError):
                b.lock(write=False, timeout=0)

    def test_not_reentrant(self):
        a = self.make(8)
        with a.lock():
            with self.assertRaises(RuntimeError):
                a.lock()
            with self.assertRaises(RuntimeError):
                a.lock(write=False, timeout=0)
        self.assertFalse(a.locked)

    def test_unlock_method(self):
        a = self.make(8)
        g = a.lock()
        a.unlock()
        self.assertFalse(g.held)
        g.release()  # already released: nothing happens
        with self.assertRaises(RuntimeError):
            a.unlock()

    def test_stale_guard_never_releases_a_newer_lock(self):
        a = self.make(8)
        b = self.attach(a.name)
        g1 = a.lock()
        a.unlock()
        g2 = a.lock()
        g1.release()
        self.assertTrue(g2.held)
        with self.assertRaises(TimeoutError):
            b.lock(timeout=0)
        g2.release()

    def test_close_releases_the_lock(self):
        a = self.make(8)
        b = self.attach(a.name)
        g = a.lock()
        a.close()
        self.assertFalse(g.held)
        g.release()
        b.lock(timeout=0).release()

    def test_block_without_lock(self):
        a = self.make(8, lock=False)
        with self.assertRaises(OSError) as cm:
            a.lock()
        self.assertEqual(cm.exception.errno, errno.ENOTSUP)

    def test_lock_after_unlink(self):
        a = self.make(8)
        b = self.attach(a.name)
        a.unlink()
        with self.assertRaises(FileNotFoundError) as cm:
            b.lock()
        self.assertEqual(cm.exception.errno, errno.EIDRM)

    def test_unlink_while_locked(self):
        a = self.make(8)
        b = self.attach(a.name)
        with b.lock():
            a.unlink()  # the with's end is quiet: the next lock() says it
        with self.assertRaises(FileNotFoundError):
            b.lock()

    def test_guard_repr(self):
        a = self.make(8)
        with a.lock(write=False) as g:
            self.assertIn("reader", repr(g))
        self.assertIn("released", repr(g))


class FastLockMixin:
    """Blocks made with fastlock=True (unless made without a lock)."""

    def make(self, size=64, **kw):
        if kw.get("lock", True):
            kw.setdefault("fastlock", True)
        shm = super().make(size, **kw)
        self.assertEqual(shm.fastlock, kw.get("lock", True))
        return shm


class TestFastLock(FastLockMixin, TestLock):
    """Every TestLock case again, over the fast lock; then its own."""

    def test_fastlock_is_a_property_of_the_block(self):
        a = self.make(8)
        b = self.attach(a.name)
        self.assertTrue(b.fastlock)
        plain = SharedMemory(self.fresh(), create=True, size=8)
        self.opened.append(plain)
        self.assertFalse(plain.fastlock)
        self.assertFalse(self.attach(plain.name).fastlock)

    def test_fastlock_arguments(self):
        with self.assertRaises(ValueError):
            SharedMemory(self.fresh(), create=True, size=8, fastlock=True, lock=False)
        a = self.make(8)
        with self.assertRaises(ValueError):
            SharedMemory(a.name, fastlock=True)
        with self.assertRaises(TypeError):
            SharedMemory(a.name, fastlock=True, create=False, size=8, foo=1)

    def test_lock_after_unlink_after_close(self):
        a = self.make(8)
        b = self.attach(a.name)
        a.close()
        a.unlink()  # by the identity kept at close: marks the block removed
        with self.assertRaises(FileNotFoundError) as cm:
            b.lock()
        self.assertEqual(cm.exception.errno, errno.EIDRM)


class TestShareableList(Base):
    def test_basics(self):
        sl = sysvshm.ShareableList([1, 2.5, "two", b"three", None, True])
        self.opened.append(sl.shm)
        self.names.append(sl.shm.name)
        self.assertIsInstance(sl.shm, SharedMemory)
        self.assertEqual(list(sl), [1, 2.5, "two", b"three", None, True])
        other = sysvshm.ShareableList(name=sl.shm.name)
        self.opened.append(other.shm)
        other[0] = 99
        self.assertEqual(sl[0], 99)
        self.assertEqual(len(other), 6)
        again = pickle.loads(pickle.dumps(sl))
        self.opened.append(again.shm)
        self.assertEqual(again[0], 99)
        self.assertIsInstance(again, sysvshm.ShareableList)
        with sl.shm.lock():
            sl[1] = 3.5
        self.assertEqual(other[1], 3.5)

    def test_named(self):
        n = self.fresh()
        sl = sysvshm.ShareableList(range(5), name=n)
        self.opened.append(sl.shm)
        self.assertEqual(sl.shm.name, n)
        self.assertEqual(sl.count(3), 1)
        self.assertEqual(sl.index(4), 4)


if __name__ == "__main__":
    taprunner.main()
