"""Named shared memory over System V IPC, with a lock: a drop-in for
multiprocessing.shared_memory.SharedMemory.

    from sysvshm import SharedMemory

    shm = SharedMemory(name="MyMemory", create=True, size=1024)
    with shm.lock():                 # writer lock; the kernel frees it if we die
        shm.buf[0] = 1
    ...
    shm.close()                      # detach (never destroys the block)
    shm.unlink()                     # destroy it, for every process

Another process attaches with SharedMemory(name="MyMemory").  Blocks are
libsysvshm's (docs/format.md), so C programs linked with -lsysvshm share
them.  How this differs from multiprocessing.shared_memory:

- .size is exactly the size created, and .buf exactly that long;
- close() never destroys a block: there is no resource tracker, and only
  unlink() or remove() destroy one; unlink() acts on this object's own
  block, never on a newer block of the same name;
- close() raises BufferError while views of .buf are alive;
- lock() gives a writer lock and shared reader locks; a lock whose holder
  died is released by the kernel and reported (LockGuard.recovered);
- by default only blocks made by this user (or root) are attached
  (anyuser=True accepts other users' blocks).

Names: SharedMemory, LockGuard, ShareableList, remove, key, __version__.
"""
import types as _types

from ._sysvshm import LockGuard, SharedMemory, key, remove, version as __version__

__all__ = ["SharedMemory", "LockGuard", "ShareableList", "remove", "key", "__version__"]


def _shareable_list_class():
    """ShareableList: CPython's own class, with its blocks made and attached
    by this module's SharedMemory.

    Everything but __init__ is inherited as it is.  CPython's __init__ looks
    SharedMemory up in its module's globals, so ours is the same code
    (the same version's) run with SharedMemory bound to this module's."""
    from multiprocessing import shared_memory  # Python 3.8 and later

    base = shared_memory.ShareableList
    init = base.__init__
    env = dict(init.__globals__)
    env["SharedMemory"] = SharedMemory
    new_init = _types.FunctionType(init.__code__, env, init.__name__,
                                   init.__defaults__, init.__closure__)
    new_init.__kwdefaults__ = init.__kwdefaults__
    new_init.__doc__ = init.__doc__
    new_init.__qualname__ = "ShareableList.__init__"

    doc = (
        "ShareableList(sequence=None, *, name=None)\n\n"
        "multiprocessing.shared_memory.ShareableList over a sysvshm block: a\n"
        "list of fixed length holding int, float, bool, str (<= 10M bytes\n"
        "encoded), bytes and None, stored in shared memory.  .shm is the\n"
        "sysvshm.SharedMemory that holds it (close and unlink it as any\n"
        "other; .shm.lock() serialises updates between processes).\n"
        "Pickled by name, as CPython's.\n"
    )
    return type(base)("ShareableList", (base,),
                      {"__init__": new_init, "__doc__": doc,
                       "__module__": __name__})


try:
    ShareableList = _shareable_list_class()
except (ImportError, AttributeError, TypeError):  # Python 3.7, or not CPython
    ShareableList = None
    __all__.remove("ShareableList")

del _shareable_list_class
