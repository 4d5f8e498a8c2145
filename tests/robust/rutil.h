/*
 * rutil.h - helpers for the robustness tests, on top of testutil.h.
 *
 * Headers are forged here from the documented layout (docs/format.md), by
 * byte offset, not with the library's struct: a test that reused the
 * library's own definition could not notice the two drifting apart.
 */
#ifndef SVS_RUTIL_H
#define SVS_RUTIL_H

#include "../testutil.h"

/* Offsets and values of docs/format.md, format version 1. */
#define R_OFF_MAGIC 0
#define R_OFF_VERSION 8
#define R_OFF_STATE 12
#define R_OFF_SIZE 16
#define R_OFF_DATA_OFF 24
#define R_OFF_FLAGS 28
#define R_OFF_SEMID 32
#define R_OFF_PROBE 36
#define R_OFF_NAME_LEN 40
#define R_OFF_WRITER 64
#define R_OFF_NAME 128
#define R_HDR 384u
#define R_STATE_INIT 0x494e4954u
#define R_STATE_READY 0x52454459u
#define R_STATE_UNLINKING 0x554e4c4bu

/* Fill hdr (R_HDR bytes) with a well-formed header for `name` (no leading
 * '/'), as a creator at probe index `probe` writes it. */
void r_hdr_build(unsigned char *hdr, const char *name, uint64_t size,
                 uint32_t state, uint32_t probe, uint32_t flags, int32_t semid);
void r_put32(unsigned char *hdr, size_t off, uint32_t v);
void r_put64(unsigned char *hdr, size_t off, uint64_t v);
uint32_t r_get32(const unsigned char *hdr, size_t off);

/* A raw segment of segsz bytes at key whose first n bytes are `bytes` (the
 * rest zero), made with IPC_CREAT|IPC_EXCL and `mode`, registered for
 * cleanup.  Fails the test if it cannot be made. */
int r_raw_segment(key_t key, size_t segsz, const void *bytes, size_t n, int mode);

/* A copy of the whole segment (malloc'ed, *len set), NULL on failure. */
unsigned char *r_snapshot(int shmid, size_t *len);
/* The segment still lives at key with this id, and its bytes equal snap. */
int r_unchanged(key_t key, int shmid, const unsigned char *snap, size_t len);

/* Number of segments / semaphore sets at the name's eight probe keys. */
int r_count_shm(const char *name);
int r_count_sem(const char *name);
/* Describe what sits at the name's probe keys, for a failure message. */
const char *r_describe(const char *name);

/* Track a name whose probe keys must be swept at the end of the test:
 * r_cleanup removes *every* segment and semaphore set at them (names are
 * unique to the run, so nothing there is anybody else's).  For tests that
 * make half-made blocks the library itself may not be able to remove. */
void r_track(const char *name);
/* A fresh name (tu_name) that is also tracked. */
const char *r_name(const char *tag);
void r_cleanup(void);

/* 1 when the test runs as root, else 0 after printing why it is skipped. */
int r_root(const char *what);

/* Built with AddressSanitizer?  (Address-space limits do not mix with it.) */
#if defined(__SANITIZE_ADDRESS__)
#define R_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define R_ASAN 1
#endif
#endif
#ifndef R_ASAN
#define R_ASAN 0
#endif

/* ---- other users, and IPC objects made by other processes ---------------- */

/* Throwaway user ids for tests that run as root: the kernel needs only the
 * numbers, not entries in /etc/passwd. */
#define R_UID_OWNER 65532
#define R_UID_OTHER 65531
#define R_UID_THIRD 65530

/* Become uid (groups, gid = uid, then uid).  0, or -1 if the kernel said no. */
int r_become(uid_t uid);
/* Run fn(arg) in a child (tu_fork) as uid, or as this user if uid is
 * (uid_t)-1; its status as tu_wait gives it (90: could not change user). */
int r_run_as(uid_t uid, tu_child_fn fn, void *arg, long timeout_ms);

/* A raw segment made (IPC_CREAT|IPC_EXCL|mode) by a child process as uid
 * (or this user if (uid_t)-1), its first n bytes `bytes', the rest zero,
 * nothing attached when this returns, registered for cleanup.  With
 * alive == NULL the child has exited (its creator pid is dead); else the
 * child lives on, waiting, and its pid is stored (end it with tu_kill).
 * Fails the test if it cannot be made. */
int r_raw_segment_by(uid_t uid, key_t key, size_t segsz, const void *bytes, size_t n,
                     int mode, pid_t *alive);

/* A raw semaphore set of nsems at key made by uid (or this user if
 * (uid_t)-1) with IPC_CREAT|IPC_EXCL|mode, values set to vals (if not NULL),
 * registered for cleanup.  Fails the test if it cannot be made. */
int r_raw_sem_by(uid_t uid, key_t key, int nsems, int mode, const unsigned short *vals);
/* The values of a set (at most max); the number of semaphores, or -1. */
int r_sem_values(int semid, unsigned short *vals, int max);
/* SETVAL of one semaphore; 0 or -1. */
int r_sem_setval(int semid, int num, int val);
/* The segment's owner and permission bits set with IPC_SET; 0 or -1. */
int r_shm_set(int shmid, uid_t uid, unsigned mode);
/* The segment's permission bits (0777 part), or -1. */
int r_shm_mode(int shmid);

#endif /* SVS_RUTIL_H */
