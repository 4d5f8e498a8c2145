/*
 * r_lockpress.c - the lock under pressure: a storm of signals whose handler
 * has no SA_RESTART, a steady stream of readers against a writer, and fork()
 * while holding the lock.  Semaphore values are read with semctl (W, R, T
 * of docs/format.md) to check that nothing is left counted.
 *
 * Built twice, as t_lock.c is: tests/robust/r_lockpress over version-1
 * blocks, tests/robust/r_fastlockpress with
 * TU_LOCK_CREATE_FLAGS=SYSVSHM_FASTLOCK over fast-lock blocks, whose lock
 * is not in the semaphores: there the header's lock words (lk_ctl: writer
 * slot and registered sleepers; lk_readers: one bit per reader slot) are
 * read instead.
 */
#include "rutil.h"
#include "svs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef TU_LOCK_CREATE_FLAGS
#define TU_LOCK_CREATE_FLAGS 0
#endif
#if (TU_LOCK_CREATE_FLAGS) & SYSVSHM_FASTLOCK
#define SUITE fastlockpress
#else
#define SUITE lockpress
#endif

TestSuite(SUITE, .fini = r_cleanup, .timeout = TU_TIMEOUT);

#define SEM_W 0
#define SEM_R 1
#define SEM_T 2

/* Data layout of the test blocks. */
#define OFF_STOP 0      /* readers stop when non-zero */
#define OFF_RELEASED 8  /* long long ms: when the holder released */
#define OFF_COUNT 16    /* uint64 counter bumped under the writer lock */
#define OFF_READS 64    /* uint64 per reader: iterations done */

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
    (void)sig;
    ticks++;
}

/* SIGALRM every 10 ms, with a handler that does NOT ask for restarting:
 * every blocking system call in the lock gets EINTR over and over. */
static void signal_storm(int on)
{
    struct sigaction sa;
    struct itimerval it;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on ? on_tick : SIG_IGN;
    sa.sa_flags = 0; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    memset(&it, 0, sizeof it);
    if (on) {
        it.it_interval.tv_usec = 10000;
        it.it_value.tv_usec = 10000;
    }
    setitimer(ITIMER_REAL, &it, NULL);
}

static int semval(sysvshm_t *h, int which)
{
    int id = semget(sysvshm_key(h), 0, 0);

    return id < 0 ? -1 : semctl(id, which, GETVAL);
}

/* Every block of the program: with the lock this program is built for. */
static sysvshm_t *make_block(const char *name)
{
    sysvshm_t *h = TU_MUST(sysvshm_create(name, 4096, TU_LOCK_CREATE_FLAGS, 0600));
    int fast = (TU_LOCK_CREATE_FLAGS & SYSVSHM_FASTLOCK) && svs_fast_available();

    cr_assert_eq(h->hdr->version, fast ? SVS_FORMAT_VERSION_FAST : SVS_FORMAT_VERSION,
                 "block of format version %u", (unsigned)h->hdr->version);
    cr_assert_eq(h->fast, fast);
    return h;
}

static int is_fast(const sysvshm_t *h)
{
    return h->fast;
}

static uint32_t lk_ctl(const sysvshm_t *h)
{
    return h->hdr->lk_ctl;
}

static uint32_t lk_readers(const sysvshm_t *h)
{
    return h->hdr->lk_readers;
}

/* Nobody holds or waits for the lock, nothing is left counted: W, R, T are
 * 0; or no writer slot, no sleeper registered, no reader bit. */
static void assert_released(sysvshm_t *h)
{
    if (!is_fast(h)) {
        cr_assert_eq(semval(h, SEM_W), 0, "W left at %d", semval(h, SEM_W));
        cr_assert_eq(semval(h, SEM_R), 0, "R left at %d", semval(h, SEM_R));
        cr_assert_eq(semval(h, SEM_T), 0, "waiting-writer count left at %d", semval(h, SEM_T));
    } else {
        cr_assert_eq(lk_ctl(h) & SVS_LK_WMASK, 0, "writer slot left in lk_ctl 0x%08x",
                     (unsigned)lk_ctl(h));
        cr_assert_eq(lk_ctl(h), 0, "sleepers left counted in lk_ctl 0x%08x",
                     (unsigned)lk_ctl(h));
        cr_assert_eq(lk_readers(h), 0, "reader bits left: 0x%08x", (unsigned)lk_readers(h));
    }
}

/* Lockers that gave up waiting took back what they had announced: T is 0;
 * no sleeper is left registered in lk_ctl. */
static void assert_no_waiter_counted(sysvshm_t *h)
{
    if (!is_fast(h))
        cr_assert_eq(semval(h, SEM_T), 0, "waiting-writer count left at %d", semval(h, SEM_T));
    else
        cr_assert_eq(lk_ctl(h) >> SVS_LK_SLEEP_SHIFT, 0,
                     "%u sleepers left registered (lk_ctl 0x%08x)",
                     (unsigned)(lk_ctl(h) >> SVS_LK_SLEEP_SHIFT), (unsigned)lk_ctl(h));
}

/* Does a reader hold the lock now? */
static int readers_in(sysvshm_t *h)
{
    return is_fast(h) ? lk_readers(h) != 0 : semval(h, SEM_R) > 0;
}

static long long *released_at(sysvshm_t *h)
{
    return (long long *)((char *)sysvshm_buf(h) + OFF_RELEASED);
}

struct holder {
    const char *name;
    int how;
    long hold_ms; /* < 0: until told through rfd */
    int rfd, wfd;
};

/* Takes the lock, says so, holds it, notes the time, releases. */
static int child_holder(void *arg)
{
    struct holder *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, 0);

    TU_CHECK(h != NULL, 2);
    TU_CHECK(sysvshm_lock(h, j->how, 5000) >= 0, 3);
    TU_CHECK(tu_post(j->wfd) == 0, 4);
    if (j->hold_ms >= 0)
        tu_sleep_ms(j->hold_ms);
    else
        (void)tu_take(j->rfd, 20000);
    *released_at(h) = tu_now_ms();
    TU_CHECK(sysvshm_unlock(h) == 0, 5);
    sysvshm_close(h);
    return 0;
}

static pid_t start_holder(const char *name, int how, long hold_ms, int to[2], int from[2])
{
    struct holder j;
    pid_t pid;

    j.name = name;
    j.how = how;
    j.hold_ms = hold_ms;
    j.rfd = to[0];
    j.wfd = from[1];
    pid = tu_fork(child_holder, &j);
    cr_assert_eq(tu_take(from[0], 10000), 0, "holder did not get the lock");
    return pid;
}

/* ---- signals ------------------------------------------------------------- */

Test(SUITE, blocking_wait_survives_signal_storm)
{
    const char *n = r_name("storm");
    sysvshm_t *h = make_block(n);
    int to[2], from[2];
    long long t0, got;
    pid_t kid;
    int rc;

    tu_pipe(to);
    tu_pipe(from);
    kid = start_holder(n, SYSVSHM_WRITE, 600, to, from);
    ticks = 0;
    signal_storm(1);
    t0 = tu_now_ms();
    rc = sysvshm_lock(h, SYSVSHM_WRITE, -1);
    got = tu_now_ms();
    signal_storm(0);
    cr_assert_eq(rc, 0, "lock under signals: %d (%s)", rc, strerror(errno));
    cr_assert_geq(got - t0, 400, "got the lock after %lld ms, while it was held", got - t0);
    cr_assert_geq(ticks, 20, "only %d signals arrived: the test did not test", (int)ticks);
    /* No lost wake-up: we got it soon after the release, not at some later
     * signal or timeout. */
    cr_assert_lt(got - *released_at(h), 250, "woke %lld ms after the release",
                 got - *released_at(h));
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(tu_wait(kid, 5000), 0);
    assert_released(h);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

Test(SUITE, timed_waits_honour_timeout_under_signal_storm)
{
    const char *n = r_name("stormto");
    sysvshm_t *h = make_block(n);
    int to[2], from[2];
    long long t0, el;
    pid_t kid;

    tu_pipe(to);
    tu_pipe(from);
    kid = start_holder(n, SYSVSHM_WRITE, -1, to, from);
    ticks = 0;
    signal_storm(1);

    t0 = tu_now_ms();
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 500), ETIMEDOUT);
    el = tu_now_ms() - t0;
    cr_assert(el >= 450 && el <= 1500, "writer timed out after %lld ms, asked 500", el);

    t0 = tu_now_ms();
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_READ, 300), ETIMEDOUT);
    el = tu_now_ms() - t0;
    cr_assert(el >= 250 && el <= 1300, "reader timed out after %lld ms, asked 300", el);

    t0 = tu_now_ms();
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 0), EBUSY);
    cr_assert_lt(tu_now_ms() - t0, 200);
    signal_storm(0);
    cr_assert_geq(ticks, 30, "only %d signals arrived", (int)ticks);

    /* The writers that gave up took their announcement back: once the
     * holder is gone, a reader gets in at once (a leaked count would hold
     * readers back for ever). */
    assert_no_waiter_counted(h);
    cr_assert_eq(tu_post(to[1]), 0);
    cr_assert_eq(tu_wait(kid, 5000), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0, "reader after the release: %s",
                 strerror(errno));
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

Test(SUITE, timed_wait_succeeds_when_released_in_time_under_signals)
{
    const char *n = r_name("stormok");
    sysvshm_t *h = make_block(n);
    int to[2], from[2];
    long long t0, got;
    pid_t kid;
    int rc;

    tu_pipe(to);
    tu_pipe(from);
    kid = start_holder(n, SYSVSHM_WRITE, 300, to, from);
    signal_storm(1);
    t0 = tu_now_ms();
    rc = sysvshm_lock(h, SYSVSHM_READ, 3000);
    got = tu_now_ms();
    signal_storm(0);
    cr_assert_eq(rc, 0, "timed reader: %s", strerror(errno));
    cr_assert_lt(got - *released_at(h), 250, "woke %lld ms after the release (waited %lld)",
                 got - *released_at(h), got - t0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(tu_wait(kid, 5000), 0);
    assert_released(h);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

/* Two processes under signal storms hand the writer lock back and forth
 * hundreds of times, each holding it a moment: a single lost wake-up
 * hangs the test (timeout), a broken exclusion loses a count. */
struct pp {
    const char *name;
    int rounds;
};

static int pingpong(const char *name, int rounds)
{
    sysvshm_t *h = sysvshm_attach(name, 0);
    int i;

    if (h == NULL)
        return 2;
    signal_storm(1);
    for (i = 0; i < rounds; i++) {
        uint64_t c;
        long long until;
        int rc = sysvshm_lock(h, SYSVSHM_WRITE, i % 2 ? -1 : 10000);

        if (rc != 0) {
            signal_storm(0);
            return 3;
        }
        memcpy(&c, (char *)sysvshm_buf(h) + OFF_COUNT, 8);
        /* Hold it a while (busy: signals must land in the waiters). */
        until = tu_now_ms() + (i % 3 == 0);
        while (tu_now_ms() < until)
            ;
        c++;
        memcpy((char *)sysvshm_buf(h) + OFF_COUNT, &c, 8);
        if (sysvshm_unlock(h) != 0) {
            signal_storm(0);
            return 4;
        }
    }
    signal_storm(0);
    sysvshm_close(h);
    return 0;
}

static int child_pingpong(void *arg)
{
    struct pp *p = arg;

    return pingpong(p->name, p->rounds);
}

Test(SUITE, no_lost_wakeup_in_hundreds_of_handovers_under_signals)
{
    const char *n = r_name("pingpong");
    sysvshm_t *h = make_block(n);
    struct pp p;
    pid_t a, b;
    uint64_t c;

    p.name = n;
    p.rounds = 300;
    a = tu_fork(child_pingpong, &p);
    b = tu_fork(child_pingpong, &p);
    cr_assert_eq(pingpong(n, p.rounds), 0);
    cr_assert_eq(tu_wait(a, 20000), 0, "first child");
    cr_assert_eq(tu_wait(b, 20000), 0, "second child");
    memcpy(&c, (char *)sysvshm_buf(h) + OFF_COUNT, 8);
    cr_assert_eq(c, 900u, "counter %llu after 3 x 300 locked increments",
                 (unsigned long long)c);
    assert_released(h);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

/* ---- readers do not starve a writer ------------------------------------------- */

struct reader {
    const char *name;
    int idx;
};

static int child_reader(void *arg)
{
    struct reader *r = arg;
    sysvshm_t *h = sysvshm_attach(r->name, 0);
    volatile unsigned char *stop;
    uint64_t *count;

    TU_CHECK(h != NULL, 2);
    stop = (volatile unsigned char *)sysvshm_buf(h) + OFF_STOP;
    count = (uint64_t *)((char *)sysvshm_buf(h) + OFF_READS + 8 * r->idx);
    while (!*stop) {
        TU_CHECK(sysvshm_lock(h, SYSVSHM_READ, 10000) >= 0, 3);
        tu_sleep_ms(3); /* readers overlap: the read count never drops to 0 */
        TU_CHECK(sysvshm_unlock(h) == 0, 4);
        (*count)++;
    }
    sysvshm_close(h);
    return 0;
}

static uint64_t reads_done(sysvshm_t *h)
{
    uint64_t sum = 0, v;
    int i;

    for (i = 0; i < 3; i++) {
        memcpy(&v, (char *)sysvshm_buf(h) + OFF_READS + 8 * i, 8);
        sum += v;
    }
    return sum;
}

Test(SUITE, writer_not_starved_by_reader_stream)
{
    const char *n = r_name("starve");
    sysvshm_t *h = make_block(n);
    struct reader r[3];
    pid_t kids[3];
    long long worst = 0;
    int i, busy = 0, samples = 0;
    uint64_t before;

    for (i = 0; i < 3; i++) {
        r[i].name = n;
        r[i].idx = i;
        kids[i] = tu_fork(child_reader, &r[i]);
    }
    /* Let the stream start; see how continuous it is (for the log). */
    tu_sleep_ms(200);
    for (i = 0; i < 50; i++, samples++) {
        if (readers_in(h))
            busy++;
        tu_sleep_ms(2);
    }
    cr_log_info("readers held the lock in %d of %d samples", busy, samples);

    for (i = 0; i < 5; i++) {
        long long t0 = tu_now_ms(), el;
        int rc = sysvshm_lock(h, SYSVSHM_WRITE, 5000);

        el = tu_now_ms() - t0;
        cr_assert_eq(rc, 0, "writer against a reader stream: %s after %lld ms",
                     strerror(errno), el);
        cr_assert(!readers_in(h), "a reader holds the lock with the writer");
        if (el > worst)
            worst = el;
        tu_sleep_ms(5);
        cr_assert_eq(sysvshm_unlock(h), 0);
        tu_sleep_ms(50);
    }
    cr_log_info("writer's worst wait against 3 readers: %lld ms", worst);
    cr_assert_lt(worst, 2000, "the writer waited %lld ms against a reader stream", worst);

    /* And the readers were not shut out by the writers that came and went. */
    before = reads_done(h);
    tu_sleep_ms(100);
    cr_assert_gt(reads_done(h), before, "readers made no progress after the writers");
    /* The readers go on; no writer is left waiting or counted. */
    if (is_fast(h))
        cr_assert_eq(lk_ctl(h), 0, "lk_ctl 0x%08x with only readers about", (unsigned)lk_ctl(h));
    else
        cr_assert_eq(semval(h, SEM_T), 0);

    *((volatile unsigned char *)sysvshm_buf(h) + OFF_STOP) = 1;
    for (i = 0; i < 3; i++)
        cr_assert_eq(tu_wait(kids[i], 15000), 0, "reader %d", i);
    assert_released(h);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

/* ---- fork() while holding ------------------------------------------------------ */

struct forkjob {
    sysvshm_t *h;
    int how;
    int rfd, wfd;
};

/* In the child of a process that holds the lock. */
static int child_after_fork(void *arg)
{
    struct forkjob *j = arg;
    int rc;

    /* It is the parent's lock, not ours. */
    errno = 0;
    TU_CHECK(sysvshm_unlock(j->h) == -1 && errno == EPERM, 2);
    if (j->how == SYSVSHM_WRITE) {
        errno = 0;
        TU_CHECK(sysvshm_lock(j->h, SYSVSHM_WRITE, 0) == -1 && errno == EBUSY, 3);
        errno = 0;
        TU_CHECK(sysvshm_lock(j->h, SYSVSHM_READ, 0) == -1 && errno == EBUSY, 4);
    } else {
        /* Readers share: the child may read-lock beside the parent, but
         * not write-lock. */
        TU_CHECK(sysvshm_lock(j->h, SYSVSHM_READ, 0) == 0, 5);
        TU_CHECK(sysvshm_unlock(j->h) == 0, 6);
        errno = 0;
        TU_CHECK(sysvshm_lock(j->h, SYSVSHM_WRITE, 0) == -1 && errno == EBUSY, 7);
    }
    TU_CHECK(tu_post(j->wfd) == 0, 8);
    /* Wait for the parent's release, then take it for ourselves. */
    rc = sysvshm_lock(j->h, SYSVSHM_WRITE, 10000);
    TU_CHECK(rc == 0, 9); /* not RECOVERED: the parent released it cleanly */
    TU_CHECK(tu_post(j->wfd) == 0, 10);
    TU_CHECK(sysvshm_unlock(j->h) == 0, 11);
    TU_CHECK(sysvshm_close(j->h) == 0, 12);
    return 0;
}

static void fork_while_holding(int how)
{
    const char *n = r_name(how == SYSVSHM_WRITE ? "forkw" : "forkr");
    sysvshm_t *h = make_block(n);
    struct forkjob j;
    int from[2];
    pid_t kid;

    tu_pipe(from);
    cr_assert_eq(sysvshm_lock(h, how, 0), 0);
    j.h = h;
    j.how = how;
    j.wfd = from[1];
    kid = tu_fork(child_after_fork, &j);
    cr_assert_eq(tu_take(from[0], 10000), 0, "child's checks failed: status %d",
                 tu_wait(kid, 1000));
    /* The child waits for the writer lock; it must not get it while we
     * hold ours. */
    tu_sleep_ms(200);
    cr_assert_neq(tu_take(from[0], 0), 0, "the child got the lock while the parent held it");
    if (!is_fast(h)) {
        cr_assert_eq(semval(h, how == SYSVSHM_WRITE ? SEM_W : SEM_R), 1);
    } else if (how == SYSVSHM_WRITE) {
        cr_assert_eq(lk_ctl(h) & SVS_LK_WMASK, (uint32_t)h->slot + 1,
                     "lk_ctl 0x%08x, our slot %d", (unsigned)lk_ctl(h), h->slot);
        cr_assert_eq(lk_readers(h), 0, "reader bits 0x%08x", (unsigned)lk_readers(h));
    } else {
        /* Our reader bit alone (the child's own read lock is gone); the
         * child, in a slot of its own, waits as the writer to come. */
        cr_assert_eq(lk_readers(h), (uint32_t)1 << h->slot, "reader bits 0x%08x, our slot %d",
                     (unsigned)lk_readers(h), h->slot);
        cr_assert(((lk_ctl(h) & SVS_LK_WMASK) != 0 &&
                   (lk_ctl(h) & SVS_LK_WMASK) != (uint32_t)h->slot + 1),
                  "the child is not the waiting writer: lk_ctl 0x%08x, our slot %d",
                  (unsigned)lk_ctl(h), h->slot);
    }
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(tu_take(from[0], 10000), 0, "the child never got the lock");
    cr_assert_eq(tu_wait(kid, 10000), 0);
    assert_released(h);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

Test(SUITE, fork_while_holding_writer_lock) { fork_while_holding(SYSVSHM_WRITE); }
Test(SUITE, fork_while_holding_reader_lock) { fork_while_holding(SYSVSHM_READ); }

/* The child's exit (or close) gives back nothing of the parent's lock. */
static int child_close_and_exit(void *arg)
{
    struct forkjob *j = arg;

    sysvshm_close(j->h);
    return 0;
}

Test(SUITE, child_exit_leaves_parents_lock_held)
{
    const char *n = r_name("forkexit");
    sysvshm_t *h = make_block(n);
    sysvshm_t *other;
    struct forkjob j;

    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    j.h = h;
    cr_assert_eq(tu_wait(tu_fork(child_close_and_exit, &j), 5000), 0);
    if (!is_fast(h)) {
        cr_assert_eq(semval(h, SEM_W), 1, "the child's exit released the parent's lock");
    } else {
        cr_assert_eq(lk_ctl(h) & SVS_LK_WMASK, (uint32_t)h->slot + 1,
                     "the child's exit released the parent's lock: lk_ctl 0x%08x",
                     (unsigned)lk_ctl(h));
        cr_assert_eq(semval(h, SVS_SEM_SLOT0 + h->slot), 1,
                     "the child's exit gave back the parent's slot");
    }
    other = TU_MUST(sysvshm_attach(n, 0));
    TU_ASSERT_ERR(sysvshm_lock(other, SYSVSHM_WRITE, 0), EBUSY);
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(other, SYSVSHM_WRITE, 0), 0, "not RECOVERED: released cleanly");
    cr_assert_eq(sysvshm_unlock(other), 0);
    sysvshm_close(other);
    assert_released(h);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

/* A process holding the lock forks and dies: the kernel undoes its hold
 * (adjustments are not inherited), so the lock is free although the child
 * lives on with a copy of the handle; the next writer is told the holder
 * died (SYSVSHM_RECOVERED). */
static int child_fork_then_die(void *arg)
{
    struct forkjob *j = arg;
    sysvshm_t *h = sysvshm_attach((const char *)sysvshm_name(j->h), 0);
    pid_t grandchild;

    TU_CHECK(h != NULL, 2);
    TU_CHECK(sysvshm_lock(h, SYSVSHM_WRITE, 0) == 0, 3);
    grandchild = fork();
    if (grandchild == 0) {
        /* Lives on with the handle, holding nothing. */
        alarm(10);
        char verdict;

        (void)tu_take(j->rfd, 10000);
        errno = 0;
        verdict = sysvshm_unlock(h) == -1 && errno == EPERM ? 'y' : 'n';
        (void)tu_write_all(j->wfd, &verdict, 1);
        _exit(0);
    }
    TU_CHECK(grandchild > 0, 4);
    TU_CHECK(tu_write_all(j->wfd, &grandchild, sizeof grandchild) == 0, 6);
    pause(); /* killed by the test */
    return 7;
}

Test(SUITE, holder_forks_and_dies_lock_is_freed)
{
    const char *n = r_name("forkdie");
    sysvshm_t *h = make_block(n);
    struct forkjob j;
    int to[2], from[2];
    pid_t mid, grandchild;
    char verdict = 0;

    tu_pipe(to);
    tu_pipe(from);
    j.h = h;
    j.rfd = to[0];
    j.wfd = from[1];
    mid = tu_fork(child_fork_then_die, &j);
    cr_assert_eq(tu_read_all(from[0], &grandchild, sizeof grandchild, 10000), 0);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 0), EBUSY);
    tu_kill(mid);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 2000), SYSVSHM_RECOVERED,
                 "after the holder died (its child alive): %s", strerror(errno));
    cr_assert_eq(sysvshm_unlock(h), 0);
    /* The grandchild (not our child: it is reparented) holds nothing. */
    tu_post(to[1]);
    cr_assert_eq(tu_read_all(from[0], &verdict, 1, 10000), 0, "no word from the grandchild");
    cr_assert_eq(verdict, 'y', "the grandchild's unlock was not EPERM");
    assert_released(h);
    sysvshm_unlink(h);
    sysvshm_close(h);
}
