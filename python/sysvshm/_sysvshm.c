/*
 * _sysvshm.c - the C half of the Python package sysvshm: SharedMemory over
 * libsysvshm's named blocks, with the block's lock.  The library's own
 * sources (lib/) are compiled into this module by setup.py; nothing needs
 * an installed libsysvshm.
 *
 * Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <string.h>

/* The library's internals, compiled from the same tree: the handle's shmid
 * is what identifies a block once its handle is closed (see unlink). */
#include "svs_int.h"

/* A lock wait runs in slices of at most this long, with the GIL released;
 * between two slices Python's signal handlers run, so Ctrl-C interrupts a
 * wait that has no timeout. */
#define LOCK_SLICE_MS 100L

typedef struct {
    PyObject_HEAD
    sysvshm_t *h;          /* NULL once closed (or before __init__) */
    PyObject *name;        /* str, kept after close */
    Py_ssize_t size;
    PyObject *buf;         /* the memoryview handed out as .buf, or NULL */
    Py_ssize_t exports;    /* buffers of the block's memory alive */
    int readonly;
    int anyuser;
    int busy;              /* threads inside a call that released the GIL */
    int held;              /* 0, SYSVSHM_WRITE or SYSVSHM_READ */
    unsigned long lock_gen; /* counts locks taken, to match guards */
    key_t key;             /* identity of the block, kept after close */
    int shmid;
    int semid;             /* its semaphore set, -1 if none */
    int fast;              /* a version 2 block (the fast lock) */
    PyObject *weakreflist;
} ShmObject;

typedef struct {
    PyObject_HEAD
    ShmObject *shm;
    unsigned long gen;
    int how;
    int recovered;
    int released;
} GuardObject;

static PyTypeObject Shm_Type;
static PyTypeObject Guard_Type;

/* ---- errors ---------------------------------------------------------------- */

/* Raise exc (NULL: the OSError subclass errno maps to, as CPython does)
 * with errno err, a message, and the block's name as the filename. */
static PyObject *
raise_errno(PyObject *exc, int err, const char *msg, PyObject *name)
{
    PyObject *args;

    if (exc == NULL)
        exc = PyExc_OSError;
    if (msg == NULL)
        msg = strerror(err);
    if (name != NULL)
        args = Py_BuildValue("(isO)", err, msg, name);
    else
        args = Py_BuildValue("(is)", err, msg);
    if (args != NULL) {
        /* Made now, not left to be made from (OSError, args) later: OSError
         * picks its subclass from errno when it is made, and before Python
         * 3.12 an `except FileNotFoundError' matches against the type the
         * error was set with, which would still be OSError. */
        PyObject *inst = PyObject_Call(exc, args, NULL);

        Py_DECREF(args);
        if (inst != NULL) {
            PyErr_SetObject((PyObject *)Py_TYPE(inst), inst);
            Py_DECREF(inst);
        }
    }
    return NULL;
}

static PyObject *
err_closed(void)
{
    PyErr_SetString(PyExc_ValueError, "operation on a closed SharedMemory");
    return NULL;
}

static PyObject *
err_busy(void)
{
    PyErr_SetString(PyExc_RuntimeError,
                    "another thread is waiting for this SharedMemory's lock; "
                    "give each thread its own SharedMemory");
    return NULL;
}

/* The name as bytes (str or bytes or path-like accepted); NULL on error. */
static PyObject *
name_bytes(PyObject *name)
{
    PyObject *b = NULL;

    if (!PyUnicode_Check(name) && !PyBytes_Check(name)) {
        PyErr_Format(PyExc_TypeError, "name must be str, not %.100s",
                     Py_TYPE(name)->tp_name);
        return NULL;
    }
    if (!PyUnicode_FSConverter(name, &b))
        return NULL;
    return b;
}

/* A name the library refuses, as ValueError (errno kept in the message). */
static int
check_name(const char *bname, PyObject *name)
{
    if (sysvshm_name_key(bname) == (key_t)-1) {
        int err = errno;

        if (err == ENAMETOOLONG)
            PyErr_Format(PyExc_ValueError,
                         "name %R is too long: at most %d bytes", name,
                         SYSVSHM_NAME_MAX);
        else
            PyErr_Format(PyExc_ValueError,
                         "name %R is not a valid block name: 1 to %d bytes, "
                         "no '/' but one leading", name, SYSVSHM_NAME_MAX);
        return -1;
    }
    return 0;
}

/* ---- SharedMemory ---------------------------------------------------------- */

PyDoc_STRVAR(shm_doc,
"SharedMemory(name=None, create=False, size=0, *, mode=0o600, lock=True, fastlock=False, readonly=False, anyuser=False, track=True)\n\
--\n\
\n\
A named block of shared memory, as multiprocessing.shared_memory.SharedMemory,\n\
over System V IPC (libsysvshm), with a writer/reader lock.\n\
\n\
create=True makes a new block of exactly `size` bytes (zero-filled) under\n\
`name` (None: a fresh unique name) and raises FileExistsError if the name\n\
is taken.  create=False attaches the existing block `name` (FileNotFoundError\n\
if there is none); `size` is then ignored and .size is the block's size.\n\
\n\
Keyword-only:\n\
  mode      create: who may attach, 0o600 (owner), 0o660 (group), 0o666;\n\
            must include 0o600 and nothing outside 0o666.\n\
  lock      create: False makes a block without a lock (lock() then fails).\n\
  fastlock  create: True makes a block whose lock takes no system call when\n\
            uncontended (the fast lock; every promise of lock() is kept).\n\
            Only this module and libsysvshm 0.2 or later can lock or attach\n\
            such a block; .fastlock tells whether a block has it.\n\
  readonly  attach read-only: .buf is a read-only memoryview and only\n\
            reader locks can be taken.\n\
  anyuser   attach (and unlink) a block made by another user; by default\n\
            only blocks made by this user or by root are accepted.\n\
  track     accepted for compatibility and ignored: there is no resource\n\
            tracker, and nothing destroys a block but unlink() or remove().\n\
\n\
close() detaches and never destroys the block; unlink() destroys it (for\n\
every process) and may be called before or after close().  A block lives\n\
until it is unlinked, outliving the processes that use it.  Used as a\n\
context manager, the SharedMemory is closed (not unlinked) at the end.\n\
\n\
An object may be used by one thread at a time; give each thread its own.");

static void
shm_clear_identity(ShmObject *self)
{
    self->key = (key_t)-1;
    self->shmid = -1;
    self->semid = -1;
}

static int
shm_init(ShmObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = { "name", "create", "size", "mode", "lock",
                              "fastlock", "readonly", "anyuser", "track", NULL };
    PyObject *name = Py_None, *sizeobj = NULL, *bname = NULL, *modeobj = NULL;
    int create = 0, lock = 1, fastlock = 0, readonly = 0, anyuser = 0, track = 1;
    Py_ssize_t size = 0;
    long mode = 0600;
    const char *cname;
    sysvshm_t *h;
    int err;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OpO$Oppppp:SharedMemory", kwlist,
                                     &name, &create, &sizeobj, &modeobj, &lock,
                                     &fastlock, &readonly, &anyuser, &track))
        return -1;
    (void)track;
    if (self->h != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "SharedMemory is already open");
        return -1;
    }
    if (sizeobj != NULL) {
        PyObject *idx = PyNumber_Index(sizeobj);

        if (idx == NULL)
            return -1;
        size = PyLong_AsSsize_t(idx);
        Py_DECREF(idx);
        if (size == -1 && PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError))
                return -1;
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "'size' is too large");
            return -1;
        }
        if (size < 0) {
            PyErr_SetString(PyExc_ValueError, "'size' must be a positive integer");
            return -1;
        }
    }
    if (modeobj != NULL) {
        mode = PyLong_AsLong(modeobj);
        if (mode == -1 && PyErr_Occurred())
            return -1;
    }
    if (create) {
        if (size == 0) {
            PyErr_SetString(PyExc_ValueError,
                            "'size' must be a positive number different from zero");
            return -1;
        }
        if ((mode & 0600) != 0600 || (mode & ~0666L) != 0) {
            PyErr_Format(PyExc_ValueError,
                         "mode 0o%lo: must include 0o600 and nothing outside 0o666 "
                         "(execute bits are the library's own marks)", mode);
            return -1;
        }
        if (readonly) {
            PyErr_SetString(PyExc_ValueError,
                            "readonly=True is for attaching: a new block is read-write");
            return -1;
        }
        if (fastlock && !lock) {
            PyErr_SetString(PyExc_ValueError,
                            "fastlock=True needs a lock: not with lock=False");
            return -1;
        }
    } else if (fastlock) {
        PyErr_SetString(PyExc_ValueError,
                        "fastlock=True is for creating: a block keeps the lock it was made with");
        return -1;
    } else if (name == Py_None) {
        PyErr_SetString(PyExc_ValueError, "'name' can only be None if create=True");
        return -1;
    }
    if (name != Py_None) {
        bname = name_bytes(name);
        if (bname == NULL)
            return -1;
        if (check_name(PyBytes_AS_STRING(bname), name) < 0) {
            Py_DECREF(bname);
            return -1;
        }
    }
    cname = bname != NULL ? PyBytes_AS_STRING(bname) : NULL;

    Py_BEGIN_ALLOW_THREADS
    if (create)
        h = sysvshm_create(cname, (size_t)size,
                           !lock ? SYSVSHM_NOLOCK : fastlock ? SYSVSHM_FASTLOCK : 0,
                           (mode_t)mode);
    else
        h = sysvshm_attach(cname, (readonly ? SYSVSHM_RDONLY : 0) |
                                  (anyuser ? SYSVSHM_ANYUSER : 0));
    err = errno;
    Py_END_ALLOW_THREADS

    if (h == NULL) {
        PyObject *shown = name;

        if (create && err == EINVAL) {
            PyErr_Format(PyExc_ValueError,
                         "'size' %zd is too large for a block on this system "
                         "(above its maximum segment size, SHMMAX)", size);
        } else if (create && err == EEXIST) {
            raise_errno(NULL, err, "a block of this name exists", shown);
        } else if (!create && err == ENOENT) {
            raise_errno(NULL, err, "no block of this name", shown);
        } else if (!create && err == EACCES && !anyuser) {
            raise_errno(NULL, err, "permission denied, or the block was made by "
                        "another user (anyuser=True accepts it)", shown);
        } else if (err == EPROTO) {
            raise_errno(NULL, err, "a segment of this name has a damaged header "
                        "('sysvshm stat NAME' shows it)", shown);
        } else {
            raise_errno(NULL, err, NULL, shown);
        }
        Py_XDECREF(bname);
        return -1;
    }
    Py_XDECREF(bname);

    Py_XSETREF(self->name, PyUnicode_DecodeFSDefault(sysvshm_name(h)));
    if (self->name == NULL) {
        (void)sysvshm_close(h);
        return -1;
    }
    self->h = h;
    self->size = (Py_ssize_t)sysvshm_size(h);
    self->readonly = readonly;
    self->anyuser = anyuser;
    self->held = 0;
    self->key = h->key;
    self->shmid = h->shmid;
    self->semid = h->semid;
    self->fast = h->fast;
    return 0;
}

static PyObject *
shm_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    ShmObject *self = (ShmObject *)type->tp_alloc(type, 0);

    (void)args;
    (void)kwds;
    if (self != NULL)
        shm_clear_identity(self);
    return (PyObject *)self;
}

static int
shm_traverse(ShmObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->buf);
    return 0;
}

static int
shm_clear(ShmObject *self)
{
    Py_CLEAR(self->buf);
    return 0;
}

static void
shm_dealloc(ShmObject *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    Py_CLEAR(self->buf);
    if (self->h != NULL) {
        (void)sysvshm_close(self->h); /* releases a lock still held */
        self->h = NULL;
    }
    Py_CLEAR(self->name);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
shm_getbuffer(ShmObject *self, Py_buffer *view, int flags)
{
    if (self->h == NULL) {
        view->obj = NULL;
        err_closed();
        return -1;
    }
    if (PyBuffer_FillInfo(view, (PyObject *)self, sysvshm_buf(self->h),
                          self->size, self->readonly, flags) < 0)
        return -1;
    self->exports++;
    return 0;
}

static void
shm_releasebuffer(ShmObject *self, Py_buffer *view)
{
    (void)view;
    self->exports--;
}

static PyBufferProcs shm_as_buffer = {
    (getbufferproc)shm_getbuffer,
    (releasebufferproc)shm_releasebuffer,
};

PyDoc_STRVAR(shm_close_doc,
"close($self, /)\n--\n\n\
Detach from the block; never destroys it.  A lock this object holds is\n\
released.  Raises BufferError while views of .buf (slices, memoryviews,\n\
arrays over it) are alive: release or delete them first.  Calling close()\n\
again does nothing.");

static PyObject *
shm_close(ShmObject *self, PyObject *unused)
{
    int rc, err;

    (void)unused;
    if (self->busy)
        return err_busy();
    if (self->h == NULL)
        Py_RETURN_NONE;
    if (self->buf != NULL) {
        PyObject *r = PyObject_CallMethod(self->buf, "release", NULL);

        if (r == NULL)
            return NULL; /* BufferError: views exported from .buf */
        Py_DECREF(r);
        Py_CLEAR(self->buf);
    }
    if (self->exports > 0) {
        PyErr_Format(PyExc_BufferError,
                     "cannot close SharedMemory %R: views of its memory are "
                     "still alive (slices of .buf, memoryviews, arrays); "
                     "release or delete them first", self->name);
        return NULL;
    }
    rc = sysvshm_close(self->h);
    err = errno;
    self->h = NULL;
    self->held = 0;
    if (rc != 0)
        return raise_errno(NULL, err, NULL, self->name);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(shm_unlink_doc,
"unlink($self, /)\n--\n\n\
Destroy the block, for every process: the name is free at once; processes\n\
still attached keep their memory until they close, but their lock() fails.\n\
Acts only on this object's own block, never on a newer block that took the\n\
name, and works before or after close().  Raises FileNotFoundError if the\n\
block was already destroyed, PermissionError if this user may not.");

static PyObject *
shm_unlink(ShmObject *self, PyObject *unused)
{
    sysvshm_t *h = self->h;
    int rc, err;

    (void)unused;
    if (self->busy)
        return err_busy();
    if (self->shmid < 0)
        return err_closed();
    if (h == NULL) {
        /* Closed: destroy the block by the identity we kept, only if that
         * very segment still holds its key (never a newer block of the
         * name), without attaching it again. */
        Py_BEGIN_ALLOW_THREADS
        rc = svs_destroy_by_id(self->key, self->shmid, self->semid, self->fast);
        err = errno;
        Py_END_ALLOW_THREADS
        if (rc != 0) {
            if (err == ENOENT)
                return raise_errno(NULL, err, "the block was already destroyed",
                                   self->name);
            return raise_errno(NULL, err, NULL, self->name);
        }
        Py_RETURN_NONE;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = sysvshm_unlink(h);
    err = errno;
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        if (err == ENOENT)
            return raise_errno(NULL, err, "the block was already destroyed",
                               self->name);
        return raise_errno(NULL, err, NULL, self->name);
    }
    Py_RETURN_NONE;
}

/* ---- the lock -------------------------------------------------------------- */

static int
lock_error(ShmObject *self, int how, int err, double timeout)
{
    switch (err) {
    case EBUSY:
        raise_errno(PyExc_TimeoutError, err, "the lock is not free", self->name);
        break;
    case ETIMEDOUT: {
        char msg[128];

        PyOS_snprintf(msg, sizeof msg, "the %s lock was not free within %g s",
                      how == SYSVSHM_WRITE ? "writer" : "reader", timeout);
        raise_errno(PyExc_TimeoutError, err, msg, self->name);
        break;
    }
    case EDEADLK:
        PyErr_Format(PyExc_RuntimeError,
                     "SharedMemory %R already holds its lock (the lock is not "
                     "reentrant)", self->name);
        break;
    case EBADF:
        raise_errno(PyExc_PermissionError, err, "a read-only SharedMemory can "
                    "take only the reader lock: lock(write=False)", self->name);
        break;
    case ENOTSUP:
        raise_errno(NULL, err, "the block was made without a lock (lock=False)",
                    self->name);
        break;
    case EIDRM:
        raise_errno(PyExc_FileNotFoundError, err,
                    "the block was destroyed (unlinked)", self->name);
        break;
    default:
        raise_errno(NULL, err, NULL, self->name);
    }
    return -1;
}

/* Parse lock()'s arguments (write=True, timeout=None) by hand: lock() is
 * called for every critical section, and this is its overhead. */
static int
lock_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
          int *write, double *timeout)
{
    PyObject *wobj = NULL, *tobj = NULL;
    Py_ssize_t i, nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;

    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError,
                     "lock() takes at most 2 arguments (%zd given)", nargs);
        return -1;
    }
    if (nargs > 0)
        wobj = args[0];
    if (nargs > 1)
        tobj = args[1];
    for (i = 0; i < nkw; i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i);

        if (PyUnicode_CompareWithASCIIString(k, "write") == 0 && wobj == NULL) {
            wobj = args[nargs + i];
        } else if (PyUnicode_CompareWithASCIIString(k, "timeout") == 0 && tobj == NULL) {
            tobj = args[nargs + i];
        } else {
            PyErr_Format(PyExc_TypeError,
                         "lock() got an unexpected or repeated keyword argument %R", k);
            return -1;
        }
    }
    *write = 1;
    if (wobj != NULL) {
        *write = PyObject_IsTrue(wobj);
        if (*write < 0)
            return -1;
    }
    *timeout = -1.0;
    if (tobj != NULL && tobj != Py_None) {
        *timeout = PyFloat_AsDouble(tobj);
        if (*timeout == -1.0 && PyErr_Occurred())
            return -1;
        if (!(*timeout >= 0.0)) { /* also NaN */
            PyErr_SetString(PyExc_ValueError,
                            "timeout must be None (wait as long as it takes) or "
                            "a number of seconds >= 0");
            return -1;
        }
    }
    return 0;
}

/* Wait for the lock in slices with the GIL released.  Returns what
 * sysvshm_lock returns (errno in *err), or -2 with a Python exception set
 * (a signal handler raised: the lock is not held). */
static int
lock_wait(ShmObject *self, int how, double timeout, int *err)
{
    long long deadline = -1;
    int rc;

    if (timeout >= 0.0) {
        double ms = ceil(timeout * 1000.0);

        deadline = svs_now_ms() + (ms > 1e15 ? (long long)1e15 : (long long)ms);
    }
    self->busy++;
    for (;;) {
        long slice = LOCK_SLICE_MS;
        sysvshm_t *h = self->h;

        if (deadline >= 0) {
            long long left = deadline - svs_now_ms();

            if (left <= 0) {
                rc = -1;
                *err = ETIMEDOUT;
                break;
            }
            if (left < slice)
                slice = (long)left;
        }
        Py_BEGIN_ALLOW_THREADS
        rc = sysvshm_lock(h, how, slice);
        *err = errno;
        Py_END_ALLOW_THREADS
        if (rc >= 0 || *err != ETIMEDOUT)
            break;
        if (PyErr_CheckSignals() < 0) {
            self->busy--;
            return -2;
        }
    }
    self->busy--;
    if (rc >= 0 && PyErr_CheckSignals() < 0) {
        /* Ctrl-C came with the lock: do not return holding it. */
        (void)sysvshm_unlock(self->h);
        return -2;
    }
    return rc;
}

PyDoc_STRVAR(shm_lock_doc,
"lock($self, /, write=True, timeout=None)\n--\n\n\
Take the block's lock and return a LockGuard that releases it, for use as\n\
\n\
    with shm.lock():                            # writer (exclusive)\n\
        shm.buf[0] = 1\n\
    with shm.lock(write=False, timeout=0.5) as held:   # reader (shared)\n\
        if held.recovered: ...\n\
\n\
write=True takes the writer lock, False a reader lock (shared by readers;\n\
a waiting writer holds new readers back).  timeout=None waits as long as it\n\
takes (Ctrl-C interrupts it: KeyboardInterrupt, lock not held), 0 tries once,\n\
otherwise seconds; TimeoutError when the lock is not free in time.  The GIL is\n\
released while waiting.\n\
\n\
The kernel releases the lock of a process that dies holding it.  The next\n\
locker then gets it with .recovered True on the returned guard: the dead\n\
writer may have left its update half done.  A writer clears the condition\n\
by releasing the lock.\n\
\n\
The lock is not reentrant (RuntimeError), belongs to this object in this\n\
process (a child made by fork() does not hold it), and is released by\n\
close().");

static PyObject *
shm_lock(ShmObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    GuardObject *g;
    double timeout;
    int write, how, rc, err;

    if (lock_args(args, nargs, kwnames, &write, &timeout) < 0)
        return NULL;
    if (self->busy)
        return err_busy();
    if (self->h == NULL)
        return err_closed();
    how = write ? SYSVSHM_WRITE : SYSVSHM_READ;
    /* Try once with the GIL held: uncontended, that is one semop. */
    rc = sysvshm_lock(self->h, how, 0);
    err = errno;
    if (rc < 0 && err == EBUSY && timeout != 0.0) {
        rc = lock_wait(self, how, timeout, &err);
        if (rc == -2)
            return NULL;
    }
    if (rc < 0) {
        lock_error(self, how, err, timeout);
        return NULL;
    }
    g = PyObject_New(GuardObject, &Guard_Type);
    if (g == NULL) {
        (void)sysvshm_unlock(self->h);
        return NULL;
    }
    self->held = how;
    self->lock_gen++;
    Py_INCREF(self);
    g->shm = self;
    g->gen = self->lock_gen;
    g->how = how;
    g->recovered = rc == SYSVSHM_RECOVERED;
    g->released = 0;
    return (PyObject *)g;
}

/* Release the lock; quiet_gone: a block destroyed meanwhile is no error
 * (the next lock() says so). */
static PyObject *
do_unlock(ShmObject *self, int quiet_gone)
{
    int rc, err;

    rc = sysvshm_unlock(self->h);
    err = errno;
    self->held = 0;
    if (rc == 0 || (quiet_gone && err == EIDRM))
        Py_RETURN_NONE;
    if (err == EPERM) {
        PyErr_Format(PyExc_RuntimeError,
                     "this process does not hold the lock of SharedMemory %R "
                     "(a child made by fork() does not hold its parent's lock)",
                     self->name);
        return NULL;
    }
    if (err == EIDRM)
        return raise_errno(PyExc_FileNotFoundError, err,
                           "the block was destroyed (unlinked) while locked",
                           self->name);
    return raise_errno(NULL, err, NULL, self->name);
}

PyDoc_STRVAR(shm_unlock_doc,
"unlock($self, /)\n--\n\n\
Release the lock this object holds (RuntimeError if it holds none).");

static PyObject *
shm_unlock(ShmObject *self, PyObject *unused)
{
    (void)unused;
    if (self->busy)
        return err_busy();
    if (self->h == NULL)
        return err_closed();
    if (!self->held) {
        PyErr_Format(PyExc_RuntimeError, "SharedMemory %R holds no lock", self->name);
        return NULL;
    }
    return do_unlock(self, 0);
}

static PyObject *
shm_enter(ShmObject *self, PyObject *unused)
{
    (void)unused;
    if (self->h == NULL)
        return err_closed();
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *
shm_exit(ShmObject *self, PyObject *args)
{
    PyObject *r;

    (void)args;
    r = shm_close(self, NULL);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *
shm_reduce(ShmObject *self, PyObject *unused)
{
    PyObject *cls = (PyObject *)Py_TYPE(self), *functools, *partial, *kw, *f, *r;

    (void)unused;
    if (self->name == NULL)
        return err_closed();
    if (!self->readonly && !self->anyuser)
        return Py_BuildValue("O(OOn)", cls, self->name, Py_False, self->size);
    functools = PyImport_ImportModule("functools");
    if (functools == NULL)
        return NULL;
    partial = PyObject_GetAttrString(functools, "partial");
    Py_DECREF(functools);
    if (partial == NULL)
        return NULL;
    kw = Py_BuildValue("{sOsO}", "readonly", self->readonly ? Py_True : Py_False,
                       "anyuser", self->anyuser ? Py_True : Py_False);
    if (kw == NULL) {
        Py_DECREF(partial);
        return NULL;
    }
    {
        PyObject *a = PyTuple_Pack(1, cls);

        f = a != NULL ? PyObject_Call(partial, a, kw) : NULL;
        Py_XDECREF(a);
    }
    Py_DECREF(partial);
    Py_DECREF(kw);
    if (f == NULL)
        return NULL;
    r = Py_BuildValue("N(OOn)", f, self->name, Py_False, self->size);
    return r;
}

static PyObject *
shm_repr(ShmObject *self)
{
    PyObject *tname = PyObject_GetAttrString((PyObject *)Py_TYPE(self), "__name__");
    PyObject *r;

    if (tname == NULL)
        return NULL;
    if (self->name == NULL)
        r = PyUnicode_FromFormat("<%U, not open>", tname);
    else
        r = PyUnicode_FromFormat("%U(%R, size=%zd%s%s)", tname, self->name, self->size,
                                 self->readonly ? ", readonly=True" : "",
                                 self->anyuser ? ", anyuser=True" : "");
    Py_DECREF(tname);
    return r;
}

static PyObject *
shm_get_name(ShmObject *self, void *c)
{
    (void)c;
    if (self->name == NULL)
        Py_RETURN_NONE;
    Py_INCREF(self->name);
    return self->name;
}

static PyObject *
shm_get_size(ShmObject *self, void *c)
{
    (void)c;
    return PyLong_FromSsize_t(self->size);
}

static PyObject *
shm_get_buf(ShmObject *self, void *c)
{
    (void)c;
    if (self->h == NULL)
        Py_RETURN_NONE;
    if (self->buf == NULL) {
        self->buf = PyMemoryView_FromObject((PyObject *)self);
        if (self->buf == NULL)
            return NULL;
    }
    Py_INCREF(self->buf);
    return self->buf;
}

static PyObject *
shm_get_key(ShmObject *self, void *c)
{
    (void)c;
    if (self->shmid < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong((long)self->key);
}

static PyObject *
shm_get_closed(ShmObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->h == NULL);
}

static PyObject *
shm_get_readonly(ShmObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->readonly);
}

static PyObject *
shm_get_fastlock(ShmObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->fast);
}

static PyObject *
shm_get_anyuser(ShmObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->anyuser);
}

static PyObject *
shm_get_locked(ShmObject *self, void *c)
{
    (void)c;
    /* The library's own record: a child made by fork() holds no lock. */
    return PyBool_FromLong(self->h != NULL && self->h->held != 0 &&
                           self->h->held_gen == svs_fork_generation());
}

static PyGetSetDef shm_getset[] = {
    { "name", (getter)shm_get_name, NULL,
      "The block's name (without a leading '/').", NULL },
    { "size", (getter)shm_get_size, NULL,
      "The block's size in bytes, exactly as created.", NULL },
    { "buf", (getter)shm_get_buf, NULL,
      "A memoryview of exactly size bytes of the block (read-only if\n"
      "readonly=True); None once closed.", NULL },
    { "key", (getter)shm_get_key, NULL,
      "The System V key the block lives at, as ipcs shows it.", NULL },
    { "closed", (getter)shm_get_closed, NULL, "True once close() was called.", NULL },
    { "readonly", (getter)shm_get_readonly, NULL, "Attached read-only.", NULL },
    { "fastlock", (getter)shm_get_fastlock, NULL,
      "The block has the fast lock (made with fastlock=True).", NULL },
    { "anyuser", (getter)shm_get_anyuser, NULL,
      "Blocks made by other users are accepted.", NULL },
    { "locked", (getter)shm_get_locked, NULL,
      "True while this object holds the block's lock.", NULL },
    { NULL, NULL, NULL, NULL, NULL }
};

static PyMethodDef shm_methods[] = {
    { "close", (PyCFunction)shm_close, METH_NOARGS, shm_close_doc },
    { "unlink", (PyCFunction)shm_unlink, METH_NOARGS, shm_unlink_doc },
    { "lock", (PyCFunction)(void (*)(void))shm_lock, METH_FASTCALL | METH_KEYWORDS,
      shm_lock_doc },
    { "unlock", (PyCFunction)shm_unlock, METH_NOARGS, shm_unlock_doc },
    { "__enter__", (PyCFunction)shm_enter, METH_NOARGS, NULL },
    { "__exit__", (PyCFunction)shm_exit, METH_VARARGS,
      "Close (never unlink) the SharedMemory." },
    { "__reduce__", (PyCFunction)shm_reduce, METH_NOARGS,
      "Pickled by name: unpickling attaches the block." },
    { NULL, NULL, 0, NULL }
};

static PyTypeObject Shm_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    "sysvshm.SharedMemory",                   /* tp_name */
    sizeof(ShmObject),                        /* tp_basicsize */
};

/* ---- LockGuard ------------------------------------------------------------- */

PyDoc_STRVAR(guard_doc,
"A held lock of a SharedMemory, as returned by SharedMemory.lock().\n\
\n\
Use it in a with statement (the lock is released at the end) or call\n\
release().  .recovered is True if the last writer died holding the lock:\n\
the block may hold its half-done update.");

static void
guard_dealloc(GuardObject *g)
{
    Py_XDECREF(g->shm);
    PyObject_Del(g);
}

/* Is this guard's lock the one its SharedMemory holds now? */
static int
guard_current(GuardObject *g)
{
    ShmObject *s = g->shm;

    return !g->released && s->h != NULL && s->held && s->lock_gen == g->gen;
}

static PyObject *
guard_release_impl(GuardObject *g, int quiet_gone)
{
    if (g->shm->busy)
        return err_busy();
    if (!guard_current(g)) {
        g->released = 1; /* released already: by close() or unlock() */
        Py_RETURN_NONE;
    }
    g->released = 1;
    return do_unlock(g->shm, quiet_gone);
}

PyDoc_STRVAR(guard_release_doc,
"release($self, /)\n--\n\n\
Release the lock (once; later calls do nothing).");

static PyObject *
guard_release(GuardObject *g, PyObject *unused)
{
    (void)unused;
    return guard_release_impl(g, 0);
}

static PyObject *
guard_enter(GuardObject *g, PyObject *unused)
{
    (void)unused;
    Py_INCREF(g);
    return (PyObject *)g;
}

static PyObject *
guard_exit(GuardObject *g, PyObject *args)
{
    PyObject *r;

    (void)args;
    /* A block destroyed while we held its lock: the next lock() says so. */
    r = guard_release_impl(g, 1);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *
guard_get_recovered(GuardObject *g, void *c)
{
    (void)c;
    return PyBool_FromLong(g->recovered);
}

static PyObject *
guard_get_write(GuardObject *g, void *c)
{
    (void)c;
    return PyBool_FromLong(g->how == SYSVSHM_WRITE);
}

static PyObject *
guard_get_held(GuardObject *g, void *c)
{
    (void)c;
    return PyBool_FromLong(guard_current(g) &&
                           g->shm->h->held_gen == svs_fork_generation());
}

static PyObject *
guard_get_shm(GuardObject *g, void *c)
{
    (void)c;
    Py_INCREF(g->shm);
    return (PyObject *)g->shm;
}

static PyObject *
guard_repr(GuardObject *g)
{
    return PyUnicode_FromFormat("<sysvshm.LockGuard %s of %R%s%s>",
                                g->how == SYSVSHM_WRITE ? "writer" : "reader",
                                g->shm->name, g->recovered ? ", recovered" : "",
                                guard_current(g) ? "" : ", released");
}

static PyGetSetDef guard_getset[] = {
    { "recovered", (getter)guard_get_recovered, NULL,
      "True if the last writer died holding the lock: the data may be half\n"
      "updated.", NULL },
    { "write", (getter)guard_get_write, NULL, "True for the writer lock.", NULL },
    { "held", (getter)guard_get_held, NULL, "True until released.", NULL },
    { "shm", (getter)guard_get_shm, NULL, "The SharedMemory whose lock this is.", NULL },
    { NULL, NULL, NULL, NULL, NULL }
};

static PyMethodDef guard_methods[] = {
    { "release", (PyCFunction)guard_release, METH_NOARGS, guard_release_doc },
    { "__enter__", (PyCFunction)guard_enter, METH_NOARGS, NULL },
    { "__exit__", (PyCFunction)guard_exit, METH_VARARGS, "Release the lock." },
    { NULL, NULL, 0, NULL }
};

static PyTypeObject Guard_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    "sysvshm.LockGuard",                      /* tp_name */
    sizeof(GuardObject),                      /* tp_basicsize */
};

/* ---- module functions ------------------------------------------------------ */

PyDoc_STRVAR(mod_remove_doc,
"remove(name, anyuser=False)\n--\n\n\
Destroy the block of that name now, as unlink() does, without attaching it.\n\
FileNotFoundError if there is none; PermissionError if this user may not;\n\
anyuser=True also considers blocks made by other users.");

static PyObject *
mod_remove(PyObject *mod, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = { "name", "anyuser", NULL };
    PyObject *name, *bname;
    int anyuser = 0, rc, err;

    (void)mod;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p:remove", kwlist, &name, &anyuser))
        return NULL;
    bname = name_bytes(name);
    if (bname == NULL)
        return NULL;
    if (check_name(PyBytes_AS_STRING(bname), name) < 0) {
        Py_DECREF(bname);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = sysvshm_remove_v2(PyBytes_AS_STRING(bname), anyuser ? SYSVSHM_ANYUSER : 0);
    err = errno;
    Py_END_ALLOW_THREADS
    Py_DECREF(bname);
    if (rc != 0) {
        if (err == ENOENT)
            return raise_errno(NULL, err, "no block of this name", name);
        if (err == EACCES && !anyuser)
            return raise_errno(NULL, err, "permission denied, or the block was made "
                               "by another user (anyuser=True)", name);
        return raise_errno(NULL, err, NULL, name);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(mod_key_doc,
"key(name)\n--\n\n\
The first System V key of the name's probe sequence (docs/format.md), as\n\
'sysvshm key NAME' prints it.  A block lives there unless the key was taken.");

static PyObject *
mod_key(PyObject *mod, PyObject *name)
{
    PyObject *bname;
    key_t k;

    (void)mod;
    bname = name_bytes(name);
    if (bname == NULL)
        return NULL;
    if (check_name(PyBytes_AS_STRING(bname), name) < 0) {
        Py_DECREF(bname);
        return NULL;
    }
    k = sysvshm_name_key(PyBytes_AS_STRING(bname));
    Py_DECREF(bname);
    return PyLong_FromLong((long)k);
}

static PyMethodDef mod_methods[] = {
    { "remove", (PyCFunction)(void (*)(void))mod_remove, METH_VARARGS | METH_KEYWORDS,
      mod_remove_doc },
    { "key", (PyCFunction)mod_key, METH_O, mod_key_doc },
    { NULL, NULL, 0, NULL }
};

static struct PyModuleDef mod_def = {
    PyModuleDef_HEAD_INIT,
    "sysvshm._sysvshm",
    "The C half of the sysvshm package (libsysvshm compiled in); use sysvshm.",
    -1,
    mod_methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC
PyInit__sysvshm(void)
{
    PyObject *m;

    Shm_Type.tp_dealloc = (destructor)shm_dealloc;
    Shm_Type.tp_repr = (reprfunc)shm_repr;
    Shm_Type.tp_as_buffer = &shm_as_buffer;
    Shm_Type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC;
    Shm_Type.tp_doc = shm_doc;
    Shm_Type.tp_traverse = (traverseproc)shm_traverse;
    Shm_Type.tp_clear = (inquiry)shm_clear;
    Shm_Type.tp_weaklistoffset = offsetof(ShmObject, weakreflist);
    Shm_Type.tp_methods = shm_methods;
    Shm_Type.tp_getset = shm_getset;
    Shm_Type.tp_init = (initproc)shm_init;
    Shm_Type.tp_new = shm_new;
    if (PyType_Ready(&Shm_Type) < 0)
        return NULL;

    Guard_Type.tp_dealloc = (destructor)guard_dealloc;
    Guard_Type.tp_repr = (reprfunc)guard_repr;
    Guard_Type.tp_flags = Py_TPFLAGS_DEFAULT;
    Guard_Type.tp_doc = guard_doc;
    Guard_Type.tp_methods = guard_methods;
    Guard_Type.tp_getset = guard_getset;
    if (PyType_Ready(&Guard_Type) < 0)
        return NULL;

    m = PyModule_Create(&mod_def);
    if (m == NULL)
        return NULL;
    Py_INCREF(&Shm_Type);
    if (PyModule_AddObject(m, "SharedMemory", (PyObject *)&Shm_Type) < 0)
        goto fail;
    Py_INCREF(&Guard_Type);
    if (PyModule_AddObject(m, "LockGuard", (PyObject *)&Guard_Type) < 0)
        goto fail;
    if (PyModule_AddStringConstant(m, "version", sysvshm_version()) < 0 ||
        PyModule_AddIntConstant(m, "NAME_MAX", SYSVSHM_NAME_MAX) < 0)
        goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
