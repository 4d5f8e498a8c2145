/*
 * smoke.c - a self-checking smoke test of the public API, for every row of
 * the portability matrix (.ci/matrix), including those where Criterion
 * cannot be used (-m32, musl, a bare build).  Public API only, linked with
 * the installed-shape library, plain C99 + POSIX/XSI: it must build with
 * any compiler that builds the library.
 *
 * Output is TAP ("ok N - what"), so `make check' lists each case by name,
 * and it ends with "# smoke: N passed, N failed".  Exit 0 if all passed.
 *
 *   tests/port/smoke             run the checks
 *   tests/port/smoke --remove N  remove block N (cleanup for the shell tests)
 *
 * Every block name is "port<pid>.<n>", removed at the end even after a
 * failure (or a fatal signal); children _exit() and never remove anything.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sysvshm.h"

#define MAX_NAMES 16

static char names[MAX_NAMES][64];
static int n_names;
static int n_test;
static int n_fail;
static pid_t main_pid;

/* ---- reporting and cleanup ------------------------------------------------ */

static void
check(int ok, const char *what, int err)
{
    n_test++;
    if (ok) {
        printf("ok %d - %s\n", n_test, what);
    } else {
        n_fail++;
        printf("not ok %d - %s (errno %d: %s)\n", n_test, what, err, strerror(err));
    }
    fflush(stdout);
}

static void cleanup(void);

static const char *
new_name(void)
{
    char *n;

    if (n_names == MAX_NAMES) {
        fprintf(stderr, "smoke: too many names\n");
        cleanup();
        exit(99);
    }
    n = names[n_names];
    sprintf(n, "port%ld.%d", (long)getpid(), n_names);
    n_names++;
    return n;
}

static void
cleanup(void)
{
    int i;

    if (getpid() != main_pid)
        return;
    for (i = 0; i < n_names; i++)
        (void)sysvshm_remove(names[i]);
    n_names = 0;
}

static void
on_fatal(int sig)
{
    /* The only async work: remove what we made, then die of the signal. */
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static long long
now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
nap_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        continue;
}

/* Wait for child pid; returns its exit status, or -1 if it did not exit. */
static int
reap(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A pipe a child writes one byte to when it is ready. */
static int ready_fd[2];

static void
child_ready(void)
{
    char c = 'r';

    (void)write(ready_fd[1], &c, 1);
}

static int
wait_ready(void)
{
    char c;

    return read(ready_fd[0], &c, 1) == 1 ? 0 : -1;
}

/* ---- the key, computed independently (README "Names and keys") ------- */

static unsigned long
ref_key(const char *name, unsigned i)
{
    uint32_t h = 2166136261u;
    unsigned long k0;

    if (*name == '/')
        name++;
    for (; *name; name++) {
        h ^= (unsigned char)*name;
        h *= 16777619u;
    }
    k0 = (unsigned long)((h >> 24) ^ (h & 0xffffffu));
    return 0x53000000ul | ((k0 + i) & 0xfffffful);
}

/* ---- the checks ------------------------------------------------------------ */

static void
t_version_and_keys(void)
{
    key_t k;
    unsigned long uk;

    check(strcmp(sysvshm_version(), SYSVSHM_VERSION_STRING) == 0,
          "sysvshm_version() is SYSVSHM_VERSION_STRING", 0);

    /* key_t is int on Linux but long on the BSDs: the value must be the same
     * positive 31-bit number either way. */
    k = sysvshm_name_key("MyMemory");
    uk = (unsigned long)k;
    check(k > 0 && uk == ref_key("MyMemory", 0),
          "sysvshm_name_key(\"MyMemory\") is the documented FNV-1a key", errno);
    check(sysvshm_name_key("/MyMemory") == k, "a leading '/' is ignored", errno);
    check(sizeof(key_t) >= 4, "key_t has at least 32 bits", 0);
}

static void
t_bad_input(void)
{
    char longname[SYSVSHM_NAME_MAX + 2];
    sysvshm_t *h;

    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';

    errno = 0;
    h = sysvshm_create(new_name(), 0, 0, 0600);
    check(h == NULL && errno == EINVAL, "create size 0: EINVAL", errno);
    errno = 0;
    h = sysvshm_create(new_name(), SIZE_MAX - 100, 0, 0600);
    check(h == NULL && errno == EINVAL, "create size SIZE_MAX-100: EINVAL (no overflow)", errno);
    errno = 0;
    h = sysvshm_create(longname, 64, 0, 0600);
    check(h == NULL && errno == ENAMETOOLONG, "create 256-byte name: ENAMETOOLONG", errno);
    errno = 0;
    h = sysvshm_attach("a/b", 0);
    check(h == NULL && errno == EINVAL, "attach \"a/b\": EINVAL", errno);
    errno = 0;
    check(sysvshm_close(NULL) == -1 && errno == EINVAL, "close(NULL): EINVAL", errno);
}

static void
t_life_cycle(void)
{
    const char *name = new_name();
    sysvshm_t *h, *h2;
    unsigned char *p;
    size_t i;
    int zero = 1;
    pid_t pid;

    h = sysvshm_create(name, 1000, 0, 0600);
    check(h != NULL, "create 1000 bytes", errno);
    if (h == NULL)
        return;
    p = sysvshm_buf(h);
    check(sysvshm_size(h) == 1000, "size is exactly 1000", 0);
    check(((uintptr_t)p & 63u) == 0, "buffer is 64-byte aligned", 0);
    check(strcmp(sysvshm_name(h), name) == 0, "name reads back", 0);
    check((unsigned long)sysvshm_key(h) == ref_key(name, 0)
              || (unsigned long)sysvshm_key(h) == ref_key(name, 1),
          "key is on the name's probe sequence", 0);
    for (i = 0; i < 1000; i++)
        zero &= p[i] == 0;
    check(zero, "new block is zero-filled", 0);

    errno = 0;
    h2 = sysvshm_create(name, 1000, 0, 0600);
    check(h2 == NULL && errno == EEXIST, "second create: EEXIST", errno);

    /* Another process, by name: writes under the writer lock. */
    pid = fork();
    if (pid == 0) {
        sysvshm_t *c = sysvshm_attach(name, 0);

        if (c == NULL || sysvshm_size(c) != 1000)
            _exit(1);
        if (sysvshm_lock(c, SYSVSHM_WRITE, 2000) != 0)
            _exit(2);
        memcpy(sysvshm_buf(c), "hello", 6);
        if (sysvshm_unlock(c) != 0 || sysvshm_close(c) != 0)
            _exit(3);
        _exit(0);
    }
    check(pid > 0 && reap(pid) == 0, "child attaches by name, writes under the lock", errno);
    check(sysvshm_lock(h, SYSVSHM_READ, 2000) == 0, "reader lock", errno);
    check(memcmp(p, "hello", 6) == 0, "child's write is seen", 0);
    check(sysvshm_unlock(h) == 0, "unlock", errno);

    h2 = sysvshm_attach(name, SYSVSHM_RDONLY);
    check(h2 != NULL && ((unsigned char *)sysvshm_buf(h2))[0] == 'h',
          "read-only attach reads", errno);
    if (h2 != NULL) {
        errno = 0;
        check(sysvshm_lock(h2, SYSVSHM_WRITE, 0) == -1 && errno == EBADF,
              "writer lock on read-only handle: EBADF", errno);
        sysvshm_close(h2);
    }

    check(sysvshm_unlink(h) == 0, "unlink", errno);
    errno = 0;
    check(sysvshm_unlink(h) == -1 && errno == ENOENT, "second unlink: ENOENT", errno);
    errno = 0;
    check(sysvshm_lock(h, SYSVSHM_WRITE, 0) == -1 && errno == EIDRM,
          "lock after unlink: EIDRM", errno);
    check(p[0] == 'h', "memory stays mapped after unlink", 0);
    errno = 0;
    h2 = sysvshm_attach(name, 0);
    check(h2 == NULL && errno == ENOENT, "attach after unlink: ENOENT", errno);
    check(sysvshm_close(h) == 0, "close", errno);
}

static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

static void
t_locks(void)
{
    const char *name = new_name();
    sysvshm_t *h, *r1, *r2;
    long long t0, dt;
    pid_t pid;
    int rc;
    struct sigaction sa;

    h = sysvshm_create(name, 64, 0, 0600);
    check(h != NULL, "create lock block", errno);
    if (h == NULL)
        return;

    /* Readers share. */
    r1 = sysvshm_attach(name, 0);
    r2 = sysvshm_attach(name, 0);
    check(r1 != NULL && r2 != NULL && sysvshm_lock(r1, SYSVSHM_READ, 0) == 0
              && sysvshm_lock(r2, SYSVSHM_READ, 0) == 0,
          "two reader locks at once", errno);
    errno = 0;
    check(sysvshm_lock(h, SYSVSHM_WRITE, 0) == -1 && errno == EBUSY,
          "writer lock while readers hold it: EBUSY", errno);
    if (r1 != NULL)
        sysvshm_close(r1); /* close releases its lock */
    if (r2 != NULL)
        sysvshm_close(r2);
    check(sysvshm_lock(h, SYSVSHM_WRITE, 0) == 0, "writer lock once readers closed", errno);
    errno = 0;
    check(sysvshm_lock(h, SYSVSHM_WRITE, 0) == -1 && errno == EDEADLK,
          "second lock on one handle: EDEADLK", errno);

    /* After fork the child does not hold its parent's lock. */
    pid = fork();
    if (pid == 0) {
        if (sysvshm_unlock(h) != -1 || errno != EPERM)
            _exit(1);
        if (sysvshm_lock(h, SYSVSHM_WRITE, 0) != -1 || errno != EBUSY)
            _exit(2);
        _exit(0);
    }
    check(pid > 0 && reap(pid) == 0, "forked child holds no lock (EPERM, then EBUSY)", errno);

    /* A timed wait ends with ETIMEDOUT after about the time asked for, and
     * a signal does not cut it short: exercises semtimedop or the polling
     * fallback, and the monotonic clock or gettimeofday. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the wait sees EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    pid = fork();
    if (pid == 0) {
        sysvshm_t *c = sysvshm_attach(name, 0);

        if (c == NULL)
            _exit(1);
        nap_ms(100);
        kill(getppid(), SIGUSR1);
        rc = sysvshm_lock(c, SYSVSHM_WRITE, 400);
        _exit(rc == -1 && errno == ETIMEDOUT ? 0 : 2);
    }
    r1 = sysvshm_attach(name, 0);
    t0 = now_ms();
    rc = sysvshm_lock(r1, SYSVSHM_READ, 400);
    dt = now_ms() - t0;
    check(rc == -1 && errno == ETIMEDOUT, "reader waits 400 ms for the writer: ETIMEDOUT", errno);
    if (r1 != NULL)
        sysvshm_close(r1);
    check(dt >= 350 && dt < 3000, "... after about 400 ms (a signal came at 100 ms)", 0);
    check(got_usr1 == 1, "... and the signal was delivered", 0);
    check(pid > 0 && reap(pid) == 0, "a second process also times out", errno);
    check(sysvshm_unlock(h) == 0, "writer unlock", errno);

    /* A writer that dies holding the lock: the kernel releases it and the
     * next writer is told. */
    if (pipe(ready_fd) < 0) {
        check(0, "pipe", errno);
        sysvshm_close(h);
        return;
    }
    pid = fork();
    if (pid == 0) {
        sysvshm_t *c = sysvshm_attach(name, 0);

        if (c == NULL || sysvshm_lock(c, SYSVSHM_WRITE, 2000) != 0)
            _exit(1);
        child_ready();
        for (;;)
            pause(); /* killed holding the lock */
    }
    check(pid > 0 && wait_ready() == 0, "child takes the writer lock", errno);
    errno = 0;
    check(sysvshm_lock(h, SYSVSHM_WRITE, 50) == -1 && errno == ETIMEDOUT,
          "lock held by the child: ETIMEDOUT", errno);
    kill(pid, SIGKILL);
    reap(pid);
    rc = sysvshm_lock(h, SYSVSHM_WRITE, 2000);
    check(rc == SYSVSHM_RECOVERED, "after the holder is killed: SYSVSHM_RECOVERED", errno);
    check(sysvshm_unlock(h) == 0, "unlock clears it", errno);
    check(sysvshm_lock(h, SYSVSHM_WRITE, 0) == 0, "next lock returns 0", errno);
    sysvshm_unlock(h);
    close(ready_fd[0]);
    close(ready_fd[1]);

    sysvshm_unlink(h);
    sysvshm_close(h);
}

static void
t_nolock(void)
{
    const char *name = new_name();
    sysvshm_t *h = sysvshm_create(name, 10, SYSVSHM_NOLOCK, 0600);

    check(h != NULL, "create SYSVSHM_NOLOCK", errno);
    if (h == NULL)
        return;
    errno = 0;
    check(sysvshm_lock(h, SYSVSHM_READ, 0) == -1 && errno == ENOTSUP,
          "lock on a NOLOCK block: ENOTSUP", errno);
    check(sysvshm_remove(name) == 0, "remove by name", errno);
    sysvshm_close(h);
}

int
main(int argc, char **argv)
{
    main_pid = getpid();
    if (argc == 3 && strcmp(argv[1], "--remove") == 0) {
        if (sysvshm_remove(argv[2]) < 0 && errno != ENOENT) {
            fprintf(stderr, "smoke: block \"%s\": %s\n", argv[2], strerror(errno));
            return 1;
        }
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: smoke [--remove NAME]\n");
        return 2;
    }
    /* No atexit(): pcc on glibc cannot link it (no __dso_handle).  Every
     * way out of main() below calls cleanup(). */
    signal(SIGINT, on_fatal);
    signal(SIGTERM, on_fatal);
    signal(SIGHUP, on_fatal);
    /* A hung lock must not hang CI: the harness sees the alarm as a failure. */
    signal(SIGALRM, on_fatal);
    alarm(60);

    t_version_and_keys();
    t_bad_input();
    t_life_cycle();
    t_locks();
    t_nolock();

    cleanup();
    printf("1..%d\n", n_test);
    printf("# smoke: %d passed, %d failed\n", n_test - n_fail, n_fail);
    return n_fail == 0 ? 0 : 1;
}
