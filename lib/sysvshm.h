/*
 * sysvshm.h - named shared memory blocks over System V IPC.
 *
 * Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
 *
 * THE OBJECT MODEL
 *
 * A *block* is a System V shared memory segment of a fixed size, found by a
 * *name* (1 to SYSVSHM_NAME_MAX bytes, any byte but '/' and NUL; one leading
 * '/' is accepted and ignored, so "/x" and "x" are the same block).  The name
 * is hashed to a SysV key (see sysvshm_name_key); the segment begins with a
 * small header (magic, format version, name, size) that lets every process
 * check that the segment at a key really is this library's block of that
 * name.  Unless made with SYSVSHM_NOLOCK, a block has a paired SysV semaphore
 * set, at the same key, that gives a writer lock and shared reader locks; both
 * are released by the kernel when a holder dies.
 *
 * A block lives in the kernel, not in any process: it outlives the process
 * that made it and every process attached to it, until it is destroyed with
 * sysvshm_unlink or sysvshm_remove (or the host reboots).  A *handle*
 * (sysvshm_t) is one process's attachment to one block.  A handle belongs to
 * the process that made it; sysvshm_close ends it.  A handle may be used by one
 * thread at a time.  After fork(), the child may use its copy of a handle to
 * read, write, lock and close, but it does not hold a lock that the parent
 * held (SysV semaphore adjustments are not inherited).
 *
 * Functions that make a handle return it, or NULL with errno set.  The others
 * return 0 (or a documented positive value) on success, -1 with errno set on
 * failure.  The library never prints and never raises a signal.
 */
#ifndef SYSVSHM_H
#define SYSVSHM_H

#include <stddef.h>    /* size_t */
#include <sys/types.h> /* mode_t */
#include <sys/ipc.h>   /* key_t (XSI: <sys/types.h> alone may not have it) */

#define SYSVSHM_VERSION_MAJOR 0
#define SYSVSHM_VERSION_MINOR 2
#define SYSVSHM_VERSION_PATCH 0
#define SYSVSHM_VERSION_STRING "0.2.0"

#ifndef SYSVSHM_API
#if defined(__GNUC__) && __GNUC__ >= 4
#define SYSVSHM_API __attribute__((visibility("default")))
#else
#define SYSVSHM_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handle: one process's attachment to one block. */
typedef struct sysvshm sysvshm_t;

#define SYSVSHM_NAME_MAX 255 /* bytes, not counting an optional leading '/' */

/* Flags (combine with |).  Each function rejects a flag it does not take. */
#define SYSVSHM_NOLOCK  0x1 /* create: make no paired semaphore set */
#define SYSVSHM_RDONLY  0x2 /* attach: attach read-only (SHM_RDONLY) */
#define SYSVSHM_ANYUSER 0x4 /* attach, remove_v2: accept blocks made by other users */
#define SYSVSHM_FASTLOCK 0x8 /* create: the fast lock (no system call when
                              * uncontended); see sysvshm_create */

/* sysvshm_lock: how */
#define SYSVSHM_WRITE 1 /* exclusive (writer) lock */
#define SYSVSHM_READ  2 /* shared (reader) lock */

/* sysvshm_lock result: acquired, but a writer died holding the lock, so the
 * block may hold a half-done update. */
#define SYSVSHM_RECOVERED 1

/*
 * Create a new block of exactly `size` bytes, zero-filled, and attach it
 * read-write.
 *
 * name:  the block's name, or NULL for a fresh unique name (at most 32 bytes;
 *        read it back with sysvshm_name).  Only read during the call.
 * flags: 0, SYSVSHM_NOLOCK (no semaphore set: sysvshm_lock fails ENOTSUP)
 *        or SYSVSHM_FASTLOCK (format version 2: the lock takes no system call
 *        when no other handle holds or waits for it, for the first 32
 *        handles to lock the block; further handles lock with system calls;
 *        only libsysvshm 0.2 and later, or code following docs/format.md
 *        "The fast lock", can use the block).
 *        Where the build has no lock-free atomics, SYSVSHM_FASTLOCK makes an
 *        ordinary block.
 * mode:  permission bits of the segment and its semaphore set, used as given
 *        (no umask).  Must include 0600 and nothing outside 0666: execute
 *        bits are the library's own marks (docs/format.md).
 *
 * Returns a handle the caller owns (end it with sysvshm_close), or NULL with
 * errno set:
 *   EINVAL        name empty or containing '/' after the first byte, size 0,
 *                 size too large to represent with the header (near SIZE_MAX),
 *                 unknown flags, SYSVSHM_NOLOCK with SYSVSHM_FASTLOCK, bad mode; also shmget's EINVAL for a size
 *                 above the system's maximum segment size (SHMMAX).
 *   ENAMETOOLONG  name longer than SYSVSHM_NAME_MAX.
 *   EEXIST        a block of that name exists (or is being created by a live
 *                 process that did not finish within a few seconds, or a
 *                 damaged block bears the name).
 *   EADDRINUSE    every key of the name's probe sequence is held by other
 *                 blocks or by segments that are not this library's.
 *   ENOSPC        the system's limit on segments (SHMMNI) or semaphore sets
 *                 (SEMMNI) or semaphores (SEMMNS) is reached.
 *   ENOMEM        not enough memory, or the system-wide total (SHMALL; Linux
 *                 reports that one as ENOSPC).
 *   EMFILE        this process has too many segments attached (SHMSEG).
 *   EAGAIN        the name's keys kept changing hands (1000 tries).
 *   EACCES, EPERM as reported by shmget, shmat or semget.
 * A failure leaves nothing behind: no segment, no semaphore set.
 *
 * Create removes leftovers at the name's keys only on proof that they are
 * this library's and abandoned: a half-made block of the caller's own user
 * whose creator is known to be dead, a half-removed one whose remover had
 * begun, nothing attached to either (docs/format.md, "What the library
 * removes").  Anything else it steps around or reports as EEXIST.
 */
SYSVSHM_API sysvshm_t *sysvshm_create(const char *name, size_t size, int flags,
                                      mode_t mode);

/*
 * Attach an existing block by name.
 *
 * flags: 0, or SYSVSHM_RDONLY (attach read-only: writing to the buffer
 *        faults, writer locks fail EBADF), and/or SYSVSHM_ANYUSER (accept a
 *        block created by another user; by default only blocks created by
 *        the caller's effective user or by root are accepted, so another
 *        local user cannot plant a look-alike block under a known name).
 *        The caller's own block (made by its effective user) is preferred
 *        wherever it is in the probe sequence; then root's, or with
 *        SYSVSHM_ANYUSER anybody's, the first in probe order.
 *
 * Only a complete block that this library made for exactly this name is ever
 * attached; segments that are not, including half-made blocks of dead
 * creators, are passed over.  A block still being made by a live process is
 * waited for, a few seconds at most.  A failed attach changes nothing.
 *
 * Returns a handle the caller owns, or NULL with errno set:
 *   EINVAL        NULL, empty or malformed name; unknown flags.
 *   ENAMETOOLONG  name longer than SYSVSHM_NAME_MAX.
 *   ENOENT        no block of that name exists.
 *   EACCES        a segment in the name's probe sequence exists but its
 *                 permissions deny us, or the block was made by another user
 *                 and SYSVSHM_ANYUSER was not given; no other block matched.
 *   EPROTO        the segment carries this library's magic for this name but
 *                 its header is damaged or of an unknown format version, or
 *                 says a state the kernel's record contradicts, or names a
 *                 semaphore set that is not at its key.
 *   EAGAIN        the block is still being created by a live process.
 *   EMFILE, ENOMEM as reported by shmat.
 */
SYSVSHM_API sysvshm_t *sysvshm_attach(const char *name, int flags);

/*
 * The first usable byte of the block (aligned to at least 64 bytes), valid
 * until sysvshm_close.  NULL if shm is NULL.
 */
SYSVSHM_API void *sysvshm_buf(const sysvshm_t *shm);

/* The block's size in bytes, exactly as given at creation; 0 if shm is NULL. */
SYSVSHM_API size_t sysvshm_size(const sysvshm_t *shm);

/*
 * The block's name, without a leading '/'.  Owned by the handle, valid until
 * sysvshm_close.  NULL if shm is NULL.
 */
SYSVSHM_API const char *sysvshm_name(const sysvshm_t *shm);

/* The key the block's segment (and semaphore set) actually lives at; this is
 * sysvshm_name_key(name) unless that key was taken.  (key_t)-1 if shm is NULL. */
SYSVSHM_API key_t sysvshm_key(const sysvshm_t *shm);

/*
 * Release a lock this handle holds, detach the block and free the handle.
 * Never destroys the block.  shm is invalid afterwards, even on failure.
 * Returns 0, or -1 with errno EINVAL (shm is NULL) or shmdt's error.
 */
SYSVSHM_API int sysvshm_close(sysvshm_t *shm);

/*
 * Destroy this handle's block and its semaphore set.  The name is free at
 * once; processes still attached keep their memory until they close, but
 * their locks fail with EIDRM.  The handle stays valid and must still be
 * closed.  Acts only on the handle's own block, never on a newer block that
 * took the same name.
 * Returns 0, or -1 with errno:
 *   EINVAL  shm is NULL.
 *   ENOENT  the block was already destroyed (by this or another handle).
 *   EPERM   the caller is neither the block's owner, nor its creator, nor
 *           privileged.
 */
SYSVSHM_API int sysvshm_unlink(sysvshm_t *shm);

/*
 * Destroy the block that holds `name` now, as sysvshm_unlink does, without
 * attaching it for the caller.  Same as sysvshm_remove_v2(name, 0).  Blocks
 * are looked for as by sysvshm_attach (the caller's own first).  A block
 * whose semaphore set was removed by hand (ipcrm -s) is removed too; no
 * other set is ever touched.
 * Returns 0, or -1 with errno EINVAL, ENAMETOOLONG (bad name), ENOENT (no
 * such block, or another remover got there first), EACCES (made by another
 * user: see SYSVSHM_ANYUSER), EPROTO (damaged header: nothing is removed),
 * EPERM (not allowed to remove it), EAGAIN (still being created by a live
 * process), EMFILE or ENOMEM (as reported by shmat).
 */
SYSVSHM_API int sysvshm_remove(const char *name);

/* As sysvshm_remove; flags 0 or SYSVSHM_ANYUSER, anything else EINVAL. */
SYSVSHM_API int sysvshm_remove_v2(const char *name, int flags);

/*
 * Take the block's lock.  how: SYSVSHM_WRITE (exclusive) or SYSVSHM_READ
 * (shared with other readers).  A writer waiting for the lock holds back new
 * readers, so readers cannot starve writers.
 *
 * timeout_ms < 0 waits as long as it takes; 0 tries once; > 0 gives up after
 * about that many milliseconds.  A signal delivered while waiting does not end
 * the wait (the timeout still counts from the call).  The lock is taken with
 * SEM_UNDO: if the holder dies, the kernel releases it.  Data written under
 * the writer lock is visible to whoever takes the lock next.  A block made
 * with SYSVSHM_FASTLOCK keeps these promises with atomic operations in its
 * header: a dead holder's lock is taken back by the next locker (by one
 * already waiting, within about 50 ms).  The first 32 handles to lock such a
 * block each take one of its 32 slots, which they keep until they are
 * closed; a handle that finds every slot taken locks with system calls, and
 * takes a slot at a later lock if one is free by then.
 *
 * Returns 0 when the lock is held; SYSVSHM_RECOVERED (also held) when the last
 * writer died holding the lock, so the data may be half-updated (a writer that
 * gets this value clears the condition by unlocking; readers see it until
 * then).  On failure returns -1 with errno:
 *   EINVAL     shm is NULL or how is not SYSVSHM_WRITE or SYSVSHM_READ.
 *   EDEADLK    this handle already holds a lock.
 *   ENOTSUP    the block was made with SYSVSHM_NOLOCK.
 *   EBADF      SYSVSHM_WRITE on a read-only handle.
 *   EBUSY      timeout_ms == 0 and the lock is not free.
 *   ETIMEDOUT  timeout_ms > 0 elapsed.
 *   EIDRM      the block was destroyed.
 *   EACCES     the semaphore set's permissions deny us (fast lock, read-only
 *              handle: the block may not be mapped read-write for the lock).
 *   ENOTSUP    also: a SYSVSHM_FASTLOCK block, in a build without atomics.
 *   EMFILE, ENOMEM  fast lock, read-only handle: its second mapping failed.
 *   EAGAIN     SYSVSHM_READ when the most readers a semaphore can count
 *              (SEMVMX, 32767 on most systems) already hold the lock (fast
 *              lock: readers without a slot).
 *   EPROTO     fast lock: the header names a semaphore set that is not a
 *              fast lock's (of the wrong size).
 */
SYSVSHM_API int sysvshm_lock(sysvshm_t *shm, int how, long timeout_ms);

/*
 * Release the lock this handle holds.
 * Returns 0, or -1 with errno EINVAL (shm is NULL), EPERM (this handle, in
 * this process, holds no lock), EIDRM (the block was destroyed meanwhile; the
 * handle no longer holds the lock; a SYSVSHM_FASTLOCK block answers 0).
 */
SYSVSHM_API int sysvshm_unlock(sysvshm_t *shm);

/*
 * The first key of the name's probe sequence:
 *   h = FNV-1a 32-bit hash of the name's bytes (without a leading '/'),
 *   key = 0x53000000 | ((h >> 24) ^ (h & 0xffffff)).
 * A block lives at key_i = 0x53000000 | ((key + i) & 0xffffff) for the
 * first i in 0 .. SYSVSHM_PROBE_MAX-1 that was free when it was made.
 * Returns the key, or (key_t)-1 with errno EINVAL or ENAMETOOLONG.
 */
#define SYSVSHM_PROBE_MAX 8
SYSVSHM_API key_t sysvshm_name_key(const char *name);

/* The library's version, "MAJOR.MINOR.PATCH"; a static string. */
SYSVSHM_API const char *sysvshm_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SYSVSHM_H */
