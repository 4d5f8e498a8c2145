#!/usr/bin/env python3
"""bench-python.py - the Python rows of sysvshm-bench.

Times multiprocessing.shared_memory.SharedMemory (the baseline) and this
project's Python module sysvshm the way a Python program uses them, for the
C benchmark to put in its table.  --what takes a comma-separated list of:

  create     multiprocessing: SharedMemory(name, create=True, size)
             + close() + unlink()
  attach     multiprocessing: SharedMemory(name) + close()  (of a block
             made once)
  sv-create  sysvshm: SharedMemory(name, create=True, size) + close()
             + unlink()
  sv-create-uc  the same, unlink() before close() (the order of the C
             row: unlink() after close() attaches the block again, to
             check that it is still the very block this object had)
  sv-attach  sysvshm: SharedMemory(name) + close()  (of a block made once)
  sv-lockw   sysvshm: `with shm.lock(): pass`              (writer)
  sv-lockr   sysvshm: `with shm.lock(write=False): pass`   (reader)
  sv-lockw-fast  the writer's loop on a block made with fastlock=True

The loops are timed here, so interpreter start-up is not counted.  Prints
"version X.Y.Z", then for create and attach "<what>-first <ns> 1" (the
first operation of the process, which starts Python's resource tracker),
"<what>-burst <ns per op> <ops>" (the next operations, while the tracker
keeps up) and "<what> <ns per op> <ops>" (sustained); for the sv-* ones
(sysvshm has no tracker) "<what> <ns per op> <ops>" only.  If a module
cannot be used, it prints "skip <reason>" and exits with status 3.

--sysvshm-path DIR imports sysvshm from DIR (the build tree's
python/build/lib) and from nowhere else.  The sysvshm blocks are named
<prefix>-<what>, so that the caller can remove them if this process is
killed.  Everything made is unlinked, also on SIGINT/SIGTERM/SIGHUP.

Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
"""
import argparse
import os
import signal
import sys
import time

try:
    from multiprocessing import shared_memory
except ImportError:  # Python < 3.8
    shared_memory = None

SKIP = 3  # exit status: a module cannot be used (the reason is printed)
sysvshm = None  # imported by load_sysvshm()


class Skip(Exception):
    pass


def load_sysvshm(path):
    """Import sysvshm, from `path` only when given (not an installed copy)."""
    global sysvshm
    if sysvshm is not None:
        return
    if path:
        if not os.path.isdir(os.path.join(path, "sysvshm")):
            raise Skip("sysvshm module not built: no %s/sysvshm "
                       "(make python)" % path)
        sys.path.insert(0, path)
    try:
        import sysvshm as mod
    except ImportError as e:
        raise Skip("cannot import sysvshm: %s%s"
                   % (e, " (make python)" if path else ""))
    if path and not os.path.abspath(mod.__file__).startswith(
            os.path.abspath(path) + os.sep):
        raise Skip("sysvshm imported from %s, not %s" % (mod.__file__, path))
    sysvshm = mod


def create_loop(name, size, n):
    for _ in range(n):
        shm = shared_memory.SharedMemory(name=name, create=True, size=size)
        shm.close()
        shm.unlink()


def attach_loop(name, size, n):
    for _ in range(n):
        shm = shared_memory.SharedMemory(name=name)
        shm.close()


def sv_create_loop(name, size, n):
    for _ in range(n):
        shm = sysvshm.SharedMemory(name=name, create=True, size=size)
        shm.close()
        shm.unlink()


def sv_create_uc_loop(name, size, n):
    for _ in range(n):
        shm = sysvshm.SharedMemory(name=name, create=True, size=size)
        shm.unlink()
        shm.close()


def sv_attach_loop(name, size, n):
    for _ in range(n):
        shm = sysvshm.SharedMemory(name=name)
        shm.close()


def sv_lock_loop(write):
    """`with shm.lock(): pass` on a block made once (kept in a closure)."""
    held = {}

    def loop(name, size, n):
        shm = held.get(name)
        if shm is None:
            shm = held[name] = sysvshm.SharedMemory(name=name)
        if write:
            for _ in range(n):
                with shm.lock():
                    pass
        else:
            for _ in range(n):
                with shm.lock(write=False):
                    pass

    def close():
        for shm in held.values():
            shm.close()
        held.clear()
    return loop, close


def make_quietly(name, size):
    """Make the block to attach as another program would: without
    SharedMemory, so that the first attach is the one that starts the
    resource tracker."""
    try:
        import _posixshmem
    except ImportError:  # not CPython on POSIX: let SharedMemory do it
        shared_memory.SharedMemory(name=name, create=True, size=size).close()
        return
    fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_EXCL | os.O_RDWR,
                              mode=0o600)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def timed(fn, name, size, target_ns):
    """ns per operation, with n chosen so the run takes about target_ns."""
    n = 1
    while True:
        t0 = time.perf_counter_ns()
        fn(name, size, n)
        dt = time.perf_counter_ns() - t0
        if dt >= target_ns / 8:
            break
        n *= 2
    n = max(1, int(n * target_ns / max(dt, 1)))
    t0 = time.perf_counter_ns()
    fn(name, size, n)
    return (time.perf_counter_ns() - t0) / n, n


# SharedMemory tells Python's resource tracker, a second process, about
# every create, attach (Python < 3.13) and unlink, through a pipe.  A burst
# of a few hundred operations runs ahead while the pipe absorbs the
# messages; once it is full, every operation waits for the tracker, so the
# sustained cost is higher.  Both are measured: BURST operations on a fresh
# tracker, then, after enough operations to fill the pipe, the rest.
BURST = 200
FILL = 2000  # messages: ~40 bytes each, the pipe holds 64 KiB


def first_burst_sustained(fn, name, size, target_ns, msgs_per_op):
    # The first SharedMemory of a process starts the tracker.
    t0 = time.perf_counter_ns()
    fn(name, size, 1)
    first = time.perf_counter_ns() - t0
    t0 = time.perf_counter_ns()
    fn(name, size, BURST)
    burst = (time.perf_counter_ns() - t0) / BURST
    fn(name, size, FILL // msgs_per_op)
    ns, n = timed(fn, name, size, target_ns)
    return first, burst, ns, n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--what", default="create,attach")
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--target-ms", type=float, default=40.0)
    p.add_argument("--prefix", default="svsbench-%d-py" % os.getpid())
    p.add_argument("--sysvshm-path", default="")
    a = p.parse_args()

    # SIGTERM/SIGHUP unwind like SIGINT, through the finally below.
    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)

    print("version %s" % sys.version.split()[0], flush=True)
    target_ns = a.target_ms * 1e6
    made = []     # multiprocessing (POSIX) names
    sv_made = []  # sysvshm names
    closers = []
    try:
        for what in a.what.split(","):
            if what in ("create", "attach") and shared_memory is None:
                raise Skip("multiprocessing.shared_memory needs Python 3.8")
            if what.startswith("sv-"):
                load_sysvshm(a.sysvshm_path)
                name = "%s-%s" % (a.prefix, what)
                sv_made.append(name)
                if what == "sv-create":
                    fn = sv_create_loop
                elif what == "sv-create-uc":
                    fn = sv_create_uc_loop
                else:
                    kw = {"fastlock": True} if what.endswith("-fast") else {}
                    sysvshm.SharedMemory(name=name, create=True,
                                         size=a.size, **kw).close()
                    if what == "sv-attach":
                        fn = sv_attach_loop
                    elif what in ("sv-lockw", "sv-lockr", "sv-lockw-fast"):
                        fn, close = sv_lock_loop(what != "sv-lockr")
                        closers.append(close)
                    else:
                        fn = None
                if fn is not None:
                    ns, n = timed(fn, name, a.size, target_ns)
                    print("%s %.1f %d" % (what, ns, n), flush=True)
                    continue
            if what == "create":
                name = a.prefix + "-c"
                made.append(name)
                first, burst, ns, n = first_burst_sustained(
                    create_loop, name, a.size, target_ns, 2)
            elif what == "attach":
                name = a.prefix + "-a"
                made.append(name)
                make_quietly(name, a.size)
                first, burst, ns, n = first_burst_sustained(
                    attach_loop, name, a.size, target_ns, 1)
            else:
                print("bench-python.py: unknown --what %s" % what,
                      file=sys.stderr)
                return 2
            print("%s-first %.1f 1" % (what, first), flush=True)
            print("%s-burst %.1f %d" % (what, burst, BURST), flush=True)
            print("%s %.1f %d" % (what, ns, n), flush=True)
    except Skip as e:
        print("skip %s" % e, flush=True)
        return SKIP
    except KeyboardInterrupt:
        return 130
    finally:
        # Whatever a failed or interrupted loop left behind.
        for close in closers:
            close()
        for name in made:
            try:
                shm = shared_memory.SharedMemory(name=name)
            except (FileNotFoundError, OSError):
                continue
            shm.close()
            shm.unlink()
        for name in sv_made:
            try:
                sysvshm.remove(name)
            except (FileNotFoundError, OSError):
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
