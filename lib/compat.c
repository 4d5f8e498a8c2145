/*
 * compat.c - portability shims: fences, clocks, timed semop, fork detection.
 */
#include "svs_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>
#ifdef SVS_USE_ATFORK
#include <pthread.h>
#endif

#if defined(SVS_USE_SEMTIMEDOP) && !HAVE_DECL_SEMTIMEDOP
/* glibc declares it only under _GNU_SOURCE, which we never define. */
extern int semtimedop(int, struct sembuf *, size_t, const struct timespec *);
#endif

void
svs_fence(void)
{
#if defined(SVS_USE_ATOMIC_FENCE)
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#elif defined(SVS_USE_SYNC_SYNCHRONIZE)
    __sync_synchronize();
#else
    /* A call the compiler cannot see through stops it from reordering; the
     * system calls around every ordered step order the hardware. */
    static volatile int sink;
    sink++;
#endif
}

int
svs_cas32(volatile uint32_t *p, uint32_t old, uint32_t new_value)
{
#if defined(SVS_USE_ATOMIC_FENCE)
    return __atomic_compare_exchange_n(p, &old, new_value, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
#elif defined(SVS_USE_SYNC_SYNCHRONIZE)
    return __sync_bool_compare_and_swap(p, old, new_value);
#else
    if (*p != old)
        return 0;
    *p = new_value;
    return 1;
#endif
}

long long
svs_now_ms(void)
{
#if defined(HAVE_CLOCK_GETTIME) && HAVE_DECL_CLOCK_MONOTONIC && !defined(SVS_FORCE_GETTIMEOFDAY)
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
    {
        struct timeval tv;

        gettimeofday(&tv, NULL);
        return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    }
}

void
svs_sleep_us(long us)
{
#ifdef HAVE_NANOSLEEP
    struct timespec ts;

    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (us % 1000000) * 1000;
    nanosleep(&ts, NULL);
#else
    struct timeval tv;

    tv.tv_sec = us / 1000000;
    tv.tv_usec = us % 1000000;
    select(0, NULL, NULL, NULL, &tv);
#endif
}

int
svs_semop_timed(int semid, struct sembuf *ops, size_t nops, long timeout_ms)
{
#ifdef SVS_USE_SEMTIMEDOP
    struct timespec ts;

    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (timeout_ms % 1000) * 1000000L;
    return semtimedop(semid, ops, nops, &ts);
#else
    /* No semtimedop (AIX < 6.1, HP-UX, macOS, older BSDs): poll with
     * IPC_NOWAIT.  No signals and no threads, so nothing of the caller's is
     * disturbed; the back-off starts short for latency and is capped so a
     * release is noticed within 10 ms. */
    short saved[8];
    size_t i;
    long long deadline = svs_now_ms() + timeout_ms;
    long delay_us = 50;
    int rc;

    if (nops > sizeof saved / sizeof saved[0]) {
        errno = E2BIG;
        return -1;
    }
    for (i = 0; i < nops; i++) {
        saved[i] = ops[i].sem_flg;
        ops[i].sem_flg |= IPC_NOWAIT;
    }
    for (;;) {
        long long left;

        rc = semop(semid, ops, nops);
        if (rc == 0 || errno != EAGAIN)
            break;
        left = deadline - svs_now_ms();
        if (left <= 0)
            break; /* errno is EAGAIN, as semtimedop's timeout */
        if ((long long)delay_us > left * 1000)
            delay_us = (long)(left * 1000);
        svs_sleep_us(delay_us);
        if (delay_us < 10000)
            delay_us *= 2;
        if (delay_us > 10000)
            delay_us = 10000;
    }
    {
        int saved_errno = errno;

        for (i = 0; i < nops; i++)
            ops[i].sem_flg = saved[i];
        errno = saved_errno;
    }
    return rc;
#endif
}

int
svs_pid_alive(long pid)
{
    int saved = errno, alive;

    /* Unknown counts as alive: a process outside our PID namespace shows as
     * 0 (a container sharing the host's IPC namespace sees host creators
     * so), and only the kernel's "no such process" proves a death. */
    if (pid <= 0)
        return 1;
    alive = kill((pid_t)pid, 0) == 0 || errno != ESRCH;
    errno = saved;
    return alive;
}

#ifdef SVS_USE_ATFORK
static volatile unsigned long fork_gen;
static volatile int atfork_done;

static void
svs_atfork_child(void)
{
    fork_gen++;
}

unsigned long
svs_fork_generation(void)
{
    /* Registering twice from two racing threads only counts forks twice,
     * which is harmless: all that matters is that the value changes. */
    if (!atfork_done) {
        if (pthread_atfork(NULL, NULL, svs_atfork_child) == 0)
            atfork_done = 1;
    }
    return fork_gen;
}

long
svs_getpid(void)
{
    static long cached;
    static unsigned long cached_gen;
    static int have;
    unsigned long g = svs_fork_generation();

    if (!have || cached_gen != g) {
        cached = (long)getpid();
        cached_gen = g;
        have = 1;
    }
    return cached;
}
#else
/* Without pthread_atfork the process id itself is the generation: one
 * getpid() per call, always right. */
unsigned long
svs_fork_generation(void)
{
    return (unsigned long)getpid();
}

long
svs_getpid(void)
{
    return (long)getpid();
}
#endif

#ifdef SVS_FAULT_INJECTION
void
svs_fault(const char *point)
{
    const char *want = getenv("SYSVSHM_FAULT");

    if (want != NULL && strcmp(want, point) == 0)
        kill(getpid(), SIGKILL);
}
#endif
