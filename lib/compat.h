/*
 * compat.h - portability shims.  Every feature beyond ISO C99 + POSIX/XSI is
 * detected by configure and has a fallback here; each fallback can be forced
 * on any system (./configure --enable-fallbacks) so that it is tested.
 */
#ifndef SVS_COMPAT_H
#define SVS_COMPAT_H

#include <errno.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>

/* Linux, Solaris and AIX leave `union semun' for the caller to define;
 * the BSDs and macOS define it in <sys/sem.h>. */
#ifndef HAVE_UNION_SEMUN
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};
#endif

/* Old systems without these errno values get the nearest POSIX one. */
#ifndef EPROTO
#define EPROTO EINVAL
#endif
#ifndef ENOTSUP
#ifdef EOPNOTSUPP
#define ENOTSUP EOPNOTSUPP
#else
#define ENOTSUP EINVAL
#endif
#endif
#ifndef EIDRM
#define EIDRM EINVAL
#endif

/* A full memory fence, where the compiler has one; otherwise the system
 * calls that separate the steps we order (shmget, semop, shmctl) are the
 * barrier, as they are on every kernel we know of. */
void svs_fence(void);

/* Set *p from `old` to `new` if it holds `old`; returns 1 if it did.  Atomic
 * where the compiler offers it; the fallback is a plain compare and store,
 * and callers must not rely on it alone (see block_destroy). */
int svs_cas32(volatile uint32_t *p, uint32_t old, uint32_t new_value);
#if defined(SVS_USE_ATOMIC_FENCE) || defined(SVS_USE_SYNC_SYNCHRONIZE)
#define SVS_CAS_ATOMIC 1
#else
#define SVS_CAS_ATOMIC 0
#endif

/* Milliseconds on a clock that never goes back (gettimeofday if need be). */
long long svs_now_ms(void);

/* Sleep about `us` microseconds; a signal may cut it short. */
void svs_sleep_us(long us);

/* semop that gives up after timeout_ms (>= 0) milliseconds with EAGAIN.
 * With semtimedop it is one system call; the fallback polls with
 * IPC_NOWAIT and a back-off capped at 10 ms.  May fail with EINTR. */
int svs_semop_timed(int semid, struct sembuf *ops, size_t nops, long timeout_ms);

/* Might process pid exist (possibly as another user's)?  0 only when the
 * kernel says there is no such process; pid <= 0 (unknown) is alive. */
int svs_pid_alive(long pid);

/* A counter that changes in the child at every fork(), so a handle can tell
 * that it has been inherited without a getpid() on every lock. */
unsigned long svs_fork_generation(void);
long svs_getpid(void);

/* Test-only crash points: with --enable-fault-injection, svs_fault("x")
 * kills the process with SIGKILL when the environment variable
 * SYSVSHM_FAULT equals "x".  Otherwise it compiles to nothing. */
#ifdef SVS_FAULT_INJECTION
void svs_fault(const char *point);
#else
#define svs_fault(point) ((void)0)
#endif

#endif /* SVS_COMPAT_H */
