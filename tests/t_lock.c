/*
 * t_lock.c - the writer/reader lock across processes: exclusion, sharing,
 * EBUSY/ETIMEDOUT timing, blocking waits, SIGKILLed holders and
 * SYSVSHM_RECOVERED, signals during a wait, fork while holding.
 *
 * Built twice: as tests/t_lock, whose blocks have the version-1 lock, and as
 * tests/t_fastlock with TU_LOCK_CREATE_FLAGS=SYSVSHM_FASTLOCK, whose blocks
 * have the fast lock (format version 2) wherever the library has atomics.
 * Both locks make the same promises, so every case runs on both; where a
 * case looks at the lock's inner state, it looks at the semaphores W, R, T
 * of a version-1 block, at the header's lock words and the slots' presence
 * semaphores of a fast one.
 *
 * Timing bounds are loose on purpose (the machine is shared): a timeout of T
 * must not end before about T, and must end within seconds, never exactly.
 */
#include "testutil.h"
#include "svs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The flags of every block this program creates (make_block). */
#ifndef TU_LOCK_CREATE_FLAGS
#define TU_LOCK_CREATE_FLAGS 0
#endif
/* The suite's name tells the two programs' cases apart in the logs. */
#if (TU_LOCK_CREATE_FLAGS) & SYSVSHM_FASTLOCK
#define SUITE fastlock
#else
#define SUITE lock
#endif

TestSuite(SUITE, .fini = tu_cleanup, .timeout = TU_TIMEOUT);

struct res {
    int rc;
    int err;
    long long ms;
};

struct job {
    const char *name;
    int how;
    long timeout_ms;
    long hold_ms;  /* how long a holder keeps the lock */
    int rfd, wfd;  /* child reads rfd, writes wfd */
    sysvshm_t *h;  /* inherited handle */
};

static struct res timed_lock(sysvshm_t *h, int how, long timeout_ms)
{
    struct res r;
    long long t0 = tu_now_ms();

    errno = 0;
    r.rc = sysvshm_lock(h, how, timeout_ms);
    r.err = errno;
    r.ms = tu_now_ms() - t0;
    return r;
}

static void send_res(int fd, struct res r)
{
    if (tu_write_all(fd, &r, sizeof r) != 0)
        _exit(90);
}

static struct res recv_res(int fd)
{
    struct res r;

    cr_assert_eq(tu_read_all(fd, &r, sizeof r, 20000), 0, "no result from the child");
    return r;
}

static void assert_res(struct res r, int rc, int err, const char *what)
{
    if (rc == -1)
        cr_assert(r.rc == -1 && r.err == err, "%s: expected -1/%s, got %d/%s", what,
                  strerror(err), r.rc, strerror(r.err));
    else
        cr_assert_eq(r.rc, rc, "%s: expected %d, got %d (%s)", what, rc, r.rc, strerror(r.err));
}

static void assert_waited(struct res r, long timeout_ms, const char *what)
{
    cr_assert_geq(r.ms, timeout_ms - timeout_ms / 10,
                  "%s: gave up after %lld ms, timeout was %ld ms", what, r.ms, timeout_ms);
    cr_assert_leq(r.ms, timeout_ms + 3000,
                  "%s: gave up only after %lld ms, timeout was %ld ms", what, r.ms, timeout_ms);
}

/* Does h's block have the fast lock?  SYSVSHM_FASTLOCK makes one only where
 * the library has atomics, an ordinary version-1 block elsewhere. */
static int is_fast(const sysvshm_t *h)
{
    return h->fast;
}

static sysvshm_t *make_block(const char *tag, size_t size)
{
    sysvshm_t *h = TU_MUST(sysvshm_create(tu_name(tag), size, TU_LOCK_CREATE_FLAGS, 0600));
    int fast = (TU_LOCK_CREATE_FLAGS & SYSVSHM_FASTLOCK) && svs_fast_available();

    /* Else this program would test the other lock a second time. */
    cr_assert_eq(h->hdr->version, fast ? SVS_FORMAT_VERSION_FAST : SVS_FORMAT_VERSION,
                 "block of format version %u", (unsigned)h->hdr->version);
    cr_assert_eq(is_fast(h), fast);
    return h;
}

static int semval(const sysvshm_t *h, int num)
{
    return semctl(h->semid, num, GETVAL);
}

/*
 * Nothing holds or waits for the lock any more, and nothing of another
 * process is counted in it: for a version-1 block W, R and T are 0; for a
 * fast one both lock words are 0 (a sleeper count without a writer would be
 * a leak) and the only slot owned is that of h, if it has locked (the
 * children that locked have closed or died: their slots are free).  Only
 * for a test whose holders all released their locks: a fast lock's dead
 * holder is cleared by the next locker, not by the kernel.
 */
static void assert_released(sysvshm_t *h)
{
    if (!is_fast(h)) {
        cr_assert_eq(semval(h, SVS_SEM_W), 0, "W is %d", semval(h, SVS_SEM_W));
        cr_assert_eq(semval(h, SVS_SEM_R), 0, "R is %d", semval(h, SVS_SEM_R));
        cr_assert_eq(semval(h, SVS_SEM_T), 0, "T is %d", semval(h, SVS_SEM_T));
    } else {
        unsigned short v[SVS_NSEMS_FAST];
        union semun arg;
        int k;

        cr_assert_eq(h->hdr->lk_ctl, 0, "lk_ctl is 0x%08x", (unsigned)h->hdr->lk_ctl);
        cr_assert_eq(h->hdr->lk_readers, 0, "lk_readers is 0x%08x",
                     (unsigned)h->hdr->lk_readers);
        arg.array = v;
        cr_assert_eq(semctl(h->semid, 0, GETALL, arg), 0);
        for (k = 0; k < SVS_SLOTS; k++)
            cr_assert_eq(v[SVS_SEM_SLOT0 + k], k == h->slot ? 1 : 0,
                         "presence of slot %d is %d (our slot: %d)", k,
                         v[SVS_SEM_SLOT0 + k], h->slot);
    }
    cr_assert_eq(h->hdr->writer, 0, "writer mark %ld left", (long)h->hdr->writer);
}

/*
 * Wait until another process waits for h's lock.  writer_first: it is a
 * writer that must hold back new readers from now on.  A version-1 waiter
 * sleeps in semop on the set, a waiting writer has raised T.  The fast lock
 * has no T: a waiting writer shows as the writer slot in lk_ctl while
 * readers still hold the lock (that is what holds new readers back), and a
 * waiter sleeps on the WAKE semaphore after registering in lk_ctl.
 */
static int wait_for_waiter(sysvshm_t *h, int writer_first, long timeout_ms)
{
    long long end = tu_now_ms() + timeout_ms;

    if (!is_fast(h))
        return tu_wait_lock_waiters(sysvshm_key(h), 1, timeout_ms);
    for (;;) {
        uint32_t c = h->hdr->lk_ctl;
        int mine = h->slot >= 0 && (c & SVS_LK_WMASK) == (uint32_t)h->slot + 1;

        if ((!writer_first || ((c & SVS_LK_WMASK) != 0 && !mine)) &&
            ((c >> SVS_LK_SLEEP_SHIFT) > 0 || semctl(h->semid, SVS_SEM_WAKE, GETNCNT) > 0))
            return 0;
        if (tu_now_ms() > end)
            return -1;
        tu_sleep_ms(2);
    }
}

static void destroy(sysvshm_t *h)
{
    sysvshm_unlink(h);
    sysvshm_close(h);
}

/* ---- children ------------------------------------------------------------ */

#define RELEASED 0xee

static int released(sysvshm_t *h)
{
    unsigned char *last = (unsigned char *)sysvshm_buf(h) + sysvshm_size(h) - 1;
    int r = *last == RELEASED;

    *last = 0;
    return r;
}

/* Tries the locks a second writer would, reporting each result. */
static int child_contender(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, 0);

    TU_CHECK(h != NULL, 1);
    send_res(j->wfd, timed_lock(h, SYSVSHM_WRITE, 0));
    send_res(j->wfd, timed_lock(h, SYSVSHM_READ, 0));
    send_res(j->wfd, timed_lock(h, SYSVSHM_WRITE, 200));
    send_res(j->wfd, timed_lock(h, SYSVSHM_READ, 200));
    sysvshm_close(h);
    return 0;
}

/* Takes a lock, says so, and holds it until told to release (or for hold_ms
 * if that is > 0), then reports the unlock. */
static int child_holder(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, 0);
    int r;

    TU_CHECK(h != NULL, 1);
    r = sysvshm_lock(h, j->how, 10000);
    TU_CHECK(r == 0 || r == SYSVSHM_RECOVERED, 2);
    TU_CHECK(tu_post(j->wfd) == 0, 3);
    if (j->hold_ms > 0)
        tu_sleep_ms(j->hold_ms);
    else
        TU_CHECK(tu_take(j->rfd, 25000) == 0, 4);
    /* The last thing done under the lock: whoever gets the lock next must
     * see it, which proves it waited for us. */
    if (j->how == SYSVSHM_WRITE)
        ((unsigned char *)sysvshm_buf(h))[sysvshm_size(h) - 1] = RELEASED;
    TU_CHECK(sysvshm_unlock(h) == 0, 5);
    TU_CHECK(sysvshm_close(h) == 0, 6);
    return 0;
}

/* Takes the lock and then waits to be killed. */
static int child_hold_forever(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, 0);

    TU_CHECK(h != NULL, 1);
    TU_CHECK(sysvshm_lock(h, j->how, 10000) >= 0, 2);
    if (j->how == SYSVSHM_WRITE)
        memset(sysvshm_buf(h), 0x5e, 16); /* a half-done update */
    TU_CHECK(tu_post(j->wfd) == 0, 3);
    for (;;)
        pause();
}

/* One lock attempt with j->timeout_ms, reported. */
static int child_try(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, 0);
    struct res r;

    TU_CHECK(h != NULL, 1);
    r = timed_lock(h, j->how, j->timeout_ms);
    send_res(j->wfd, r);
    if (r.rc >= 0)
        TU_CHECK(sysvshm_unlock(h) == 0, 2);
    sysvshm_close(h);
    return 0;
}

static pid_t spawn(tu_child_fn fn, struct job *j, const char *name, int how, long timeout_ms,
                   long hold_ms, int rfd, int wfd)
{
    j->name = name;
    j->how = how;
    j->timeout_ms = timeout_ms;
    j->hold_ms = hold_ms;
    j->rfd = rfd;
    j->wfd = wfd;
    j->h = NULL;
    return tu_fork(fn, j);
}

/* ---- exclusion and sharing ----------------------------------------------- */

Test(SUITE, writer_excludes_a_second_writer)
{
    sysvshm_t *h = make_block("excl", 64);
    int p[2];
    struct job j;
    pid_t pid;

    tu_pipe(p);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    pid = spawn(child_contender, &j, sysvshm_name(h), 0, 0, 0, -1, p[1]);
    {
        struct res r1 = recv_res(p[0]), r2 = recv_res(p[0]);
        struct res r3 = recv_res(p[0]), r4 = recv_res(p[0]);
        assert_res(r1, -1, EBUSY, "second writer, timeout 0");
        assert_res(r2, -1, EBUSY, "reader while a writer holds, timeout 0");
        assert_res(r3, -1, ETIMEDOUT, "second writer, timeout 200");
        assert_waited(r3, 200, "second writer, timeout 200");
        assert_res(r4, -1, ETIMEDOUT, "reader while a writer holds, timeout 200");
        assert_waited(r4, 200, "reader while a writer holds, timeout 200");
    }
    cr_assert_eq(tu_wait(pid, 10000), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

Test(SUITE, two_handles_in_one_process_exclude_each_other)
{
    sysvshm_t *h = make_block("twoh", 64);
    sysvshm_t *a = TU_MUST(sysvshm_attach(sysvshm_name(h), 0));
    struct res r;

    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_WRITE, 0), EBUSY);
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_READ, 0), EBUSY);
    r = timed_lock(a, SYSVSHM_WRITE, 200);
    assert_res(r, -1, ETIMEDOUT, "other handle, same process");
    assert_waited(r, 200, "other handle, same process");
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(a, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_unlock(a), 0);
    sysvshm_close(a);
    assert_released(h);
    destroy(h);
}

Test(SUITE, readers_share)
{
    sysvshm_t *h = make_block("share", 64);
    int up[2], down[2], res[2];
    struct job j1, j2, j3;
    pid_t r1, r2, w;
    struct res r;

    tu_pipe(up);
    tu_pipe(down);
    tu_pipe(res);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    /* Two more processes take the reader lock while we hold it. */
    r1 = spawn(child_holder, &j1, sysvshm_name(h), SYSVSHM_READ, 0, 0, down[0], up[1]);
    r2 = spawn(child_holder, &j2, sysvshm_name(h), SYSVSHM_READ, 0, 0, down[0], up[1]);
    cr_assert_eq(tu_take(up[0], 10000), 0, "a second reader could not lock");
    cr_assert_eq(tu_take(up[0], 10000), 0, "a third reader could not lock");
    /* Three readers at once; a writer is shut out. */
    w = spawn(child_try, &j3, sysvshm_name(h), SYSVSHM_WRITE, 0, 0, -1, res[1]);
    r = recv_res(res[0]);
    assert_res(r, -1, EBUSY, "writer while three readers hold");
    cr_assert_eq(tu_wait(w, 10000), 0);
    cr_assert_eq(tu_post(down[1]), 0);
    cr_assert_eq(tu_post(down[1]), 0);
    cr_assert_eq(tu_wait(r1, 10000), 0);
    cr_assert_eq(tu_wait(r2, 10000), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0, "lock not free after every reader left");
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

Test(SUITE, reader_blocks_writer)
{
    sysvshm_t *h = make_block("rbw", 64);
    int res[2];
    struct job j;
    pid_t pid;
    struct res r;

    tu_pipe(res);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    pid = spawn(child_try, &j, sysvshm_name(h), SYSVSHM_WRITE, 0, 0, -1, res[1]);
    assert_res(recv_res(res[0]), -1, EBUSY, "writer while a reader holds, timeout 0");
    cr_assert_eq(tu_wait(pid, 10000), 0);
    pid = spawn(child_try, &j, sysvshm_name(h), SYSVSHM_WRITE, 200, 0, -1, res[1]);
    r = recv_res(res[0]);
    assert_res(r, -1, ETIMEDOUT, "writer while a reader holds, timeout 200");
    assert_waited(r, 200, "writer while a reader holds");
    cr_assert_eq(tu_wait(pid, 10000), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    pid = spawn(child_try, &j, sysvshm_name(h), SYSVSHM_WRITE, 0, 0, -1, res[1]);
    assert_res(recv_res(res[0]), 0, 0, "writer after the reader left");
    cr_assert_eq(tu_wait(pid, 10000), 0);
    assert_released(h);
    destroy(h);
}

Test(SUITE, waiting_writer_holds_back_new_readers)
{
    sysvshm_t *h = make_block("fair", 64);
    int res[2], wres[2];
    struct job jw, jr;
    pid_t w, r;
    struct res wr;

    tu_pipe(res);
    tu_pipe(wres);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    w = spawn(child_try, &jw, sysvshm_name(h), SYSVSHM_WRITE, 20000, 0, -1, wres[1]);
    cr_assert_eq(wait_for_waiter(h, 1, 10000), 0, "the writer never waited");
    r = spawn(child_try, &jr, sysvshm_name(h), SYSVSHM_READ, 0, 0, -1, res[1]);
    assert_res(recv_res(res[0]), -1, EBUSY, "new reader while a writer waits");
    cr_assert_eq(tu_wait(r, 10000), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    wr = recv_res(wres[0]);
    assert_res(wr, 0, 0, "the waiting writer once the reader left");
    cr_assert_eq(tu_wait(w, 10000), 0);
    assert_released(h);
    destroy(h);
}

Test(SUITE, dead_waiting_writer_does_not_hold_back_readers)
{
    sysvshm_t *h = make_block("deadwait", 64);
    int res[2], wres[2];
    struct job jw, jr;
    pid_t w, r;

    tu_pipe(res);
    tu_pipe(wres);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    w = spawn(child_try, &jw, sysvshm_name(h), SYSVSHM_WRITE, 20000, 0, -1, wres[1]);
    cr_assert_eq(wait_for_waiter(h, 1, 10000), 0, "the writer never waited");
    tu_kill(w);
    r = spawn(child_try, &jr, sysvshm_name(h), SYSVSHM_READ, 0, 0, -1, res[1]);
    assert_res(recv_res(res[0]), 0, 0, "reader after the waiting writer was killed");
    cr_assert_eq(tu_wait(r, 10000), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0, "the killed waiter left the lock taken");
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

/* ---- errors of lock/unlock ------------------------------------------------ */

Test(SUITE, second_lock_on_a_handle_is_edeadlk)
{
    sysvshm_t *h = make_block("deadlk", 64);
    sysvshm_t *a = TU_MUST(sysvshm_attach(sysvshm_name(h), 0));

    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 0), EDEADLK);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, -1), EDEADLK);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_READ, 100), EDEADLK);
    /* Still held. */
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_READ, 0), EBUSY);
    cr_assert_eq(sysvshm_unlock(h), 0);

    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_READ, 0), EDEADLK);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, -1), EDEADLK);
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_WRITE, 0), EBUSY);
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(a, SYSVSHM_WRITE, 0), 0, "the EDEADLK calls left a lock behind");
    cr_assert_eq(sysvshm_unlock(a), 0);
    sysvshm_close(a);
    assert_released(h);
    destroy(h);
}

Test(SUITE, unlock_without_lock_is_eperm)
{
    sysvshm_t *h = make_block("eperm", 64);
    sysvshm_t *a = TU_MUST(sysvshm_attach(sysvshm_name(h), 0));

    TU_ASSERT_ERR(sysvshm_unlock(h), EPERM);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    /* Another handle cannot release our lock. */
    TU_ASSERT_ERR(sysvshm_unlock(a), EPERM);
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_WRITE, 0), EBUSY);
    cr_assert_eq(sysvshm_unlock(h), 0);
    TU_ASSERT_ERR(sysvshm_unlock(h), EPERM);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    TU_ASSERT_ERR(sysvshm_unlock(h), EPERM);
    sysvshm_close(a);
    assert_released(h);
    destroy(h);
}

Test(SUITE, bad_how_is_einval)
{
    sysvshm_t *h = make_block("how", 64);
    static const int bad[] = { 0, 3, -1, 4, 0x100, SYSVSHM_WRITE | SYSVSHM_READ };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TU_ASSERT_ERR(sysvshm_lock(h, bad[i], 0), EINVAL);
        TU_ASSERT_ERR(sysvshm_lock(h, bad[i], -1), EINVAL);
    }
    TU_ASSERT_ERR(sysvshm_unlock(h), EPERM);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0, "a rejected call took the lock");
    TU_ASSERT_ERR(sysvshm_lock(h, 7, 0), EINVAL);
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

/* ---- waiting ---------------------------------------------------------------- */

Test(SUITE, negative_timeout_waits_for_the_holder)
{
    sysvshm_t *h = make_block("wait", 64);
    int up[2];
    struct job j;
    pid_t pid;
    struct res r;

    tu_pipe(up);
    pid = spawn(child_holder, &j, sysvshm_name(h), SYSVSHM_WRITE, 0, 300, -1, up[1]);
    cr_assert_eq(tu_take(up[0], 10000), 0, "holder did not lock");
    r = timed_lock(h, SYSVSHM_WRITE, -1);
    assert_res(r, 0, 0, "blocking writer lock");
    cr_assert(released(h), "got the lock while the holder still had it (%lld ms)", r.ms);
    cr_assert_eq(tu_wait(pid, 10000), 0, "holder failed");
    cr_assert_eq(sysvshm_unlock(h), 0);

    pid = spawn(child_holder, &j, sysvshm_name(h), SYSVSHM_WRITE, 0, 300, -1, up[1]);
    cr_assert_eq(tu_take(up[0], 10000), 0, "holder did not lock");
    r = timed_lock(h, SYSVSHM_READ, -1);
    assert_res(r, 0, 0, "blocking reader lock");
    cr_assert(released(h), "got the lock while the holder still had it (%lld ms)", r.ms);
    cr_assert_eq(tu_wait(pid, 10000), 0, "holder failed");
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

Test(SUITE, positive_timeout_succeeds_if_released_in_time)
{
    sysvshm_t *h = make_block("intime", 64);
    int up[2];
    struct job j;
    pid_t pid;
    struct res r;

    tu_pipe(up);
    pid = spawn(child_holder, &j, sysvshm_name(h), SYSVSHM_WRITE, 0, 300, -1, up[1]);
    cr_assert_eq(tu_take(up[0], 10000), 0, "holder did not lock");
    r = timed_lock(h, SYSVSHM_WRITE, 20000);
    assert_res(r, 0, 0, "writer lock with a long timeout");
    cr_assert(released(h), "got the lock while the holder still had it (%lld ms)", r.ms);
    cr_assert_eq(tu_wait(pid, 10000), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

/* ---- holders that die ------------------------------------------------------ */

Test(SUITE, killed_writer_gives_recovered_to_next_writer)
{
    sysvshm_t *h = make_block("kill", 64);
    int up[2], res[2];
    struct job j, jt;
    pid_t pid;

    tu_pipe(up);
    tu_pipe(res);
    pid = spawn(child_hold_forever, &j, sysvshm_name(h), SYSVSHM_WRITE, 0, 0, -1, up[1]);
    cr_assert_eq(tu_take(up[0], 10000), 0, "holder did not lock");
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 0), EBUSY);
    tu_kill(pid);

    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), SYSVSHM_RECOVERED,
                 "the first writer after a killed holder must get SYSVSHM_RECOVERED");
    cr_assert_eq(((unsigned char *)sysvshm_buf(h))[0], 0x5e, "the dead writer's bytes");
    /* RECOVERED means held: nobody else gets in. */
    pid = spawn(child_try, &jt, sysvshm_name(h), SYSVSHM_WRITE, 0, 0, -1, res[1]);
    assert_res(recv_res(res[0]), -1, EBUSY, "another writer while RECOVERED is held");
    cr_assert_eq(tu_wait(pid, 10000), 0);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 0), EDEADLK);
    memset(sysvshm_buf(h), 0, 16);
    cr_assert_eq(sysvshm_unlock(h), 0);

    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0, "the condition is cleared by unlocking");
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

Test(SUITE, readers_see_recovered_until_a_writer_clears_it)
{
    sysvshm_t *h = make_block("killr", 64);
    int up[2];
    struct job j;
    pid_t pid;

    tu_pipe(up);
    pid = spawn(child_hold_forever, &j, sysvshm_name(h), SYSVSHM_WRITE, 0, 0, -1, up[1]);
    cr_assert_eq(tu_take(up[0], 10000), 0, "holder did not lock");
    tu_kill(pid);

    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), SYSVSHM_RECOVERED, "reader after a dead writer");
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, -1), SYSVSHM_RECOVERED, "a reader does not clear it");
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 1000), SYSVSHM_RECOVERED);
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

Test(SUITE, killed_waiter_blocked_on_a_dead_writer_gets_recovered)
{
    sysvshm_t *h = make_block("killw", 64);
    int up[2], res[2];
    struct job j, jt;
    pid_t holder, waiter;
    struct res r;

    tu_pipe(up);
    tu_pipe(res);
    holder = spawn(child_hold_forever, &j, sysvshm_name(h), SYSVSHM_WRITE, 0, 0, -1, up[1]);
    cr_assert_eq(tu_take(up[0], 10000), 0, "holder did not lock");
    /* A writer already waiting when the holder dies is the next writer. */
    waiter = spawn(child_try, &jt, sysvshm_name(h), SYSVSHM_WRITE, 20000, 0, -1, res[1]);
    cr_assert_eq(wait_for_waiter(h, 0, 10000), 0, "the waiter never waited");
    tu_kill(holder);
    r = recv_res(res[0]);
    assert_res(r, SYSVSHM_RECOVERED, 0, "waiting writer when the holder was killed");
    cr_assert_eq(tu_wait(waiter, 10000), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0, "the waiter's unlock cleared it");
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

Test(SUITE, killed_reader_releases_its_lock)
{
    sysvshm_t *h = make_block("killrd", 64);
    int up[2];
    struct job j;
    pid_t pid;

    tu_pipe(up);
    pid = spawn(child_hold_forever, &j, sysvshm_name(h), SYSVSHM_READ, 0, 0, -1, up[1]);
    cr_assert_eq(tu_take(up[0], 10000), 0, "reader did not lock");
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 0), EBUSY);
    tu_kill(pid);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0,
                 "a dead reader's lock is released, and it was no writer");
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

/* ---- data visibility --------------------------------------------------------- */

static int child_write_under_lock(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, 0);
    unsigned char *p;
    size_t i;
    int round;

    TU_CHECK(h != NULL, 1);
    p = sysvshm_buf(h);
    for (round = 1; round <= 20; round++) {
        TU_CHECK(tu_take(j->rfd, 10000) == 0, 2);
        TU_CHECK(sysvshm_lock(h, SYSVSHM_WRITE, 10000) == 0, 3);
        for (i = 0; i < sysvshm_size(h); i++)
            p[i] = (unsigned char)(round + i);
        TU_CHECK(sysvshm_unlock(h) == 0, 4);
        TU_CHECK(tu_post(j->wfd) == 0, 5);
    }
    sysvshm_close(h);
    return 0;
}

Test(SUITE, data_written_under_writer_lock_is_seen_by_next_locker)
{
    sysvshm_t *h = make_block("vis", 100000);
    int down[2], up[2];
    struct job j;
    const unsigned char *p = sysvshm_buf(h);
    pid_t pid;
    int round;
    size_t i;

    tu_pipe(down);
    tu_pipe(up);
    pid = spawn(child_write_under_lock, &j, sysvshm_name(h), 0, 0, 0, down[0], up[1]);
    for (round = 1; round <= 20; round++) {
        cr_assert_eq(tu_post(down[1]), 0);
        cr_assert_eq(tu_take(up[0], 10000), 0, "writer child stopped at round %d", round);
        cr_assert_eq(sysvshm_lock(h, round % 2 ? SYSVSHM_READ : SYSVSHM_WRITE, 10000), 0);
        for (i = 0; i < 100000; i++)
            cr_assert_eq(p[i], (unsigned char)(round + i), "round %d byte %zu", round, i);
        cr_assert_eq(sysvshm_unlock(h), 0);
    }
    cr_assert_eq(tu_wait(pid, 10000), 0);
    assert_released(h);
    destroy(h);
}

/* ---- signals during a wait ------------------------------------------------- */

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
    (void)sig;
    signals_seen++;
}

static int child_pester(void *arg)
{
    pid_t target = getppid();
    int i;

    (void)arg;
    /* 3 s of signals, one every 20 ms. */
    for (i = 0; i < 150; i++) {
        if (kill(target, SIGUSR1) != 0)
            return 1;
        tu_sleep_ms(20);
    }
    return 0;
}

static void install_handler_without_restart(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: semop really returns EINTR */
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
}

Test(SUITE, signal_does_not_end_a_timed_wait)
{
    sysvshm_t *h = make_block("sigt", 64);
    int up[2];
    struct job j;
    pid_t holder, pester;
    struct res r;

    tu_pipe(up);
    install_handler_without_restart();
    holder = spawn(child_hold_forever, &j, sysvshm_name(h), SYSVSHM_WRITE, 0, 0, -1, up[1]);
    cr_assert_eq(tu_take(up[0], 10000), 0, "holder did not lock");
    signals_seen = 0;
    pester = tu_fork(child_pester, NULL);
    r = timed_lock(h, SYSVSHM_WRITE, 400);
    assert_res(r, -1, ETIMEDOUT, "timed wait under a rain of signals");
    cr_assert_gt(signals_seen, 2, "the signals did not arrive during the wait (%d)",
                 (int)signals_seen);
    cr_assert_geq(r.ms, 360, "the wait ended early, after %lld ms", r.ms);
    /* The pester goes on for 3 s: a timeout restarted at every signal would
     * only end after that. */
    cr_assert_lt(r.ms, 2700, "the timeout restarted at each signal: %lld ms", r.ms);
    tu_kill(pester);
    tu_kill(holder);
    destroy(h);
}

Test(SUITE, signal_does_not_end_a_blocking_wait)
{
    sysvshm_t *h = make_block("sigb", 64);
    int up[2];
    struct job j;
    pid_t holder, pester;
    struct res r;

    tu_pipe(up);
    install_handler_without_restart();
    holder = spawn(child_holder, &j, sysvshm_name(h), SYSVSHM_WRITE, 0, 600, -1, up[1]);
    cr_assert_eq(tu_take(up[0], 10000), 0, "holder did not lock");
    signals_seen = 0;
    pester = tu_fork(child_pester, NULL);
    r = timed_lock(h, SYSVSHM_WRITE, -1);
    assert_res(r, 0, 0, "blocking wait under a rain of signals");
    cr_assert_gt(signals_seen, 2, "the signals did not arrive during the wait");
    cr_assert(released(h), "got the lock while the holder still had it (%lld ms)", r.ms);
    cr_assert_eq(sysvshm_unlock(h), 0);
    tu_kill(pester);
    cr_assert_eq(tu_wait(holder, 10000), 0);
    assert_released(h);
    destroy(h);
}

/* ---- fork while holding ------------------------------------------------------ */

static int child_forked_from_holder(void *arg)
{
    struct job *j = arg;
    int r;

    errno = 0;
    TU_CHECK(sysvshm_unlock(j->h) == -1, 1);
    TU_CHECK(errno == EPERM, 2);
    errno = 0;
    TU_CHECK(sysvshm_lock(j->h, SYSVSHM_WRITE, 0) == -1, 3);
    TU_CHECK(errno == EBUSY, 4);
    TU_CHECK(tu_post(j->wfd) == 0, 5);
    /* The parent releases; now the child can get it. */
    r = sysvshm_lock(j->h, SYSVSHM_WRITE, 20000);
    TU_CHECK(r == 0, 6);
    ((unsigned char *)sysvshm_buf(j->h))[0] = 0x77;
    TU_CHECK(sysvshm_unlock(j->h) == 0, 7);
    TU_CHECK(sysvshm_close(j->h) == 0, 8);
    return 0;
}

Test(SUITE, forked_child_does_not_hold_the_parents_lock)
{
    sysvshm_t *h = make_block("fork", 64);
    int up[2];
    struct job j;
    pid_t pid;
    int st;

    tu_pipe(up);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    j.h = h;
    j.wfd = up[1];
    pid = tu_fork(child_forked_from_holder, &j);
    cr_assert_eq(tu_take(up[0], 10000), 0, "child stopped early: status %d", tu_wait(pid, 5000));
    /* The child is now waiting for us. */
    tu_sleep_ms(50);
    cr_assert_eq(((unsigned char *)sysvshm_buf(h))[0], 0, "the child wrote while we hold the lock");
    cr_assert_eq(sysvshm_unlock(h), 0);
    st = tu_wait(pid, 10000);
    cr_assert_eq(st, 0, "child: check %d failed", st);
    cr_assert_eq(((unsigned char *)sysvshm_buf(h))[0], 0x77);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0, "lock not free (or RECOVERED) after the child");
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}

static int child_close_inherited(void *arg)
{
    struct job *j = arg;

    TU_CHECK(sysvshm_close(j->h) == 0, 1);
    return 0;
}

static int child_exit_inherited(void *arg)
{
    (void)arg;
    return 0;
}

Test(SUITE, child_closing_or_exiting_does_not_release_the_parents_lock)
{
    sysvshm_t *h = make_block("forkcl", 64);
    int res[2];
    struct job j, jt;
    pid_t pid;

    tu_pipe(res);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    j.h = h;
    cr_assert_eq(tu_wait(tu_fork(child_close_inherited, &j), 10000), 0);
    cr_assert_eq(tu_wait(tu_fork(child_exit_inherited, &j), 10000), 0);
    /* What the lock counts is still ours alone. */
    if (!is_fast(h)) {
        cr_assert_eq(semval(h, SVS_SEM_W), 1, "W is %d", semval(h, SVS_SEM_W));
    } else {
        cr_assert_eq(h->hdr->lk_ctl & SVS_LK_WMASK, (uint32_t)h->slot + 1,
                     "lk_ctl 0x%08x, our slot %d", (unsigned)h->hdr->lk_ctl, h->slot);
        cr_assert_eq(semval(h, SVS_SEM_SLOT0 + h->slot), 1, "a child gave back our slot");
    }
    pid = spawn(child_try, &jt, sysvshm_name(h), SYSVSHM_WRITE, 0, 0, -1, res[1]);
    assert_res(recv_res(res[0]), -1, EBUSY, "writer after the children left");
    cr_assert_eq(tu_wait(pid, 10000), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    assert_released(h);
    destroy(h);
}
