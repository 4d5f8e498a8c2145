/*
 * testutil.h - shared helpers for the libsysvshm Criterion tests.
 *
 * Every block name a test makes comes from tu_name() (or is handed to
 * tu_register_name()), so that it is unique to the run and is removed even
 * when an assertion fails: each suite's .fini calls tu_cleanup(), and a
 * runner-side hook removes whatever a crashed or timed-out test left behind.
 *
 * Children made with tu_fork() never return into Criterion: they run a
 * function and _exit() with its result; they must not call cr_assert.
 */
#ifndef SVS_TESTUTIL_H
#define SVS_TESTUTIL_H

/* Tests are POSIX/XSI programs like the library: no _GNU_SOURCE. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/sem.h>

#include <criterion/criterion.h>

#include "sysvshm.h"

/* Suites use this so that a test that hangs (a lock never released) is
 * killed; the cleanup hook then removes what it left. */
#define TU_TIMEOUT 60.0

/* ---- names -------------------------------------------------------------- */

/* A fresh name unique to this run ("t<pid>.<time>.<n>.<tag>"), registered for
 * cleanup.  The returned string stays valid until tu_cleanup(). */
const char *tu_name(const char *tag);
/* Register a name made elsewhere (a NULL-name create, a collision search). */
void tu_register_name(const char *name);
/* Register a raw segment / semaphore set made by the test itself (a foreign
 * segment): removed at cleanup if the id still has that key. */
void tu_register_shm(int shmid, key_t key);
void tu_register_sem(int semid, key_t key);
/* Remove every registered block and raw object, kill live children. */
void tu_cleanup(void);

/* ---- keys, computed independently of the library ---------------------- */

uint32_t tu_fnv1a(const unsigned char *s, size_t len);
/* The documented first key of a name (leading '/' stripped). */
key_t tu_name_key(const char *name);
/* key_i of the probe sequence that starts at key0. */
key_t tu_probe(key_t key0, unsigned i);

int tu_shm_exists(key_t key); /* 1 if a segment sits at key */
int tu_sem_exists(key_t key); /* 1 if a semaphore set sits at key */
/* 1 if no segment and no semaphore set sits at any of the name's
 * SYSVSHM_PROBE_MAX keys. */
int tu_name_keys_free(const char *name);
/* Number of segments this process created that still exist (-1 if the
 * system gives no /proc/sysvipc/shm). */
int tu_shm_count_cpid(pid_t cpid);

/* A raw segment at key (IPC_CREAT|IPC_EXCL), registered for cleanup;
 * filled with `fill` (or random bytes if fill < 0).  Returns the id or -1. */
int tu_foreign_shm(key_t key, size_t size, int fill);
/* Copy the first n bytes of segment shmid into out. 0 on success. */
int tu_shm_peek(int shmid, void *out, size_t n);

/* ---- processes ---------------------------------------------------------- */

typedef int (*tu_child_fn)(void *arg);
/* Fork a child that runs fn(arg) and _exit()s with its value (an alarm ends
 * it if it hangs).  Returns the pid; fails the test if fork fails. */
pid_t tu_fork(tu_child_fn fn, void *arg);
/* Wait for a child: returns its exit status 0..255, or 1000 + the signal that
 * killed it, or -1 if it is not done within timeout_ms (then it is killed). */
int tu_wait(pid_t pid, long timeout_ms);
/* SIGKILL a child and reap it. */
void tu_kill(pid_t pid);

/* Pipes: one byte is one event. */
void tu_pipe(int fd[2]);
int tu_post(int fd);                       /* write one byte; 0 or -1 */
int tu_take(int fd, long timeout_ms);      /* read one byte; 0, or -1 on EOF/timeout */
int tu_write_all(int fd, const void *p, size_t n);
int tu_read_all(int fd, void *p, size_t n, long timeout_ms);

long long tu_now_ms(void);
void tu_sleep_ms(long ms);

/* Wait until at least n processes wait for the lock of the block at key:
 * they sleep in semop on its semaphore set (GETNCNT + GETZCNT), or, for a
 * library that polls instead of sleeping, writers have announced themselves
 * in the set's waiting-writers semaphore (SVS_SEM_T).  0 once they do, -1
 * after timeout_ms. */
int tu_wait_lock_waiters(key_t key, int n, long timeout_ms);

/* ---- assertions ------------------------------------------------------- */

/* expr must fail with -1 (or (key_t)-1) and errno == err. */
#define TU_ASSERT_ERR(expr, err)                                              \
    do {                                                                      \
        long tu_r_;                                                           \
        int tu_e_;                                                            \
        errno = 0;                                                            \
        tu_r_ = (long)(expr);                                                 \
        tu_e_ = errno;                                                        \
        cr_assert(tu_r_ == -1 && tu_e_ == (err),                              \
                  "%s: expected -1 with %s, got %ld with errno %d (%s)",      \
                  #expr, #err, tu_r_, tu_e_, strerror(tu_e_));                \
    } while (0)

/* expr (a handle constructor) must return NULL with errno == err.  A handle
 * made by mistake is destroyed before the test fails. */
#define TU_ASSERT_NULL_ERR(expr, err)                                         \
    do {                                                                      \
        sysvshm_t *tu_h_;                                                     \
        int tu_e_;                                                            \
        errno = 0;                                                            \
        tu_h_ = (expr);                                                       \
        tu_e_ = errno;                                                        \
        if (tu_h_ != NULL) {                                                  \
            sysvshm_unlink(tu_h_);                                            \
            sysvshm_close(tu_h_);                                             \
        }                                                                     \
        cr_assert(tu_h_ == NULL && tu_e_ == (err),                            \
                  "%s: expected NULL with %s, got %p with errno %d (%s)",     \
                  #expr, #err, (void *)tu_h_, tu_e_, strerror(tu_e_));        \
    } while (0)

/* A handle constructor that must succeed. */
#define TU_MUST(expr)                                                         \
    tu_must_((expr), #expr, __FILE__, __LINE__)
sysvshm_t *tu_must_(sysvshm_t *h, const char *what, const char *file, int line);

/* Child-side check: on failure the child exits with `code` (>= 1) so the
 * parent's assertion names the check that failed. */
#define TU_CHECK(cond, code)                                                  \
    do {                                                                      \
        if (!(cond))                                                          \
            _exit(code);                                                      \
    } while (0)

#endif /* SVS_TESTUTIL_H */
