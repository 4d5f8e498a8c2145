/*
 * r_fastcrash.c - the fast lock (SYSVSHM_FASTLOCK, format version 2) when
 * its users die: a process killed at any step of lock, unlock, slot taking
 * or recovery leaves a lock that the next lockers take within a bound, with
 * SYSVSHM_RECOVERED exactly when a writer died holding it, and no slot
 * wedged; the 32 slots run out and come back; fork() and unlink; and what
 * a block with and without the flag looks like to the kernel.
 *
 * The crashes at the library's own steps need ./configure
 * --enable-fault-injection (the library kills itself at svs_fault(point)
 * when SYSVSHM_FAULT=point) and are skipped otherwise.  Without atomics
 * (--disable-atomics) SYSVSHM_FASTLOCK makes version 1 blocks: the cases
 * about slots and lock words are skipped or check version 1 instead, the
 * others hold for both.
 *
 * Lock words and semaphores are read from the documented layout: lk_ctl
 * (writer slot + 1, sleepers << 16) at 68, lk_readers at 72; the set's
 * semaphore 0 holds wake-up tokens and 3 + k is slot k's presence.
 */
#include "rutil.h"
#include "svs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(fastcrash, .fini = r_cleanup, .timeout = TU_TIMEOUT);

#define SZ 4096
/* A dead holder is found at a sleeper's first look or at the end of a 50 ms
 * slice; the bounds are loose because the machine is shared. */
#define BOUND_MS 5000L
#define WAKE_BOUND_MS 3000L

#define R_OFF_LK_CTL 68
#define R_OFF_LK_READERS 72
#define R_VERSION_FAST 2u
#define R_FLAGS_FAST 3u
#define R_NSEMS_FAST 35
#define R_SLOTS 32
#define R_SEM_SLOT0 3
#define R_WMASK 0x3fu
#define R_SLEEP_SHIFT 16

/* ---- the block under test --------------------------------------------------- */

struct blk {
    const char *name;
    sysvshm_t *h;                /* the test's own handle, NULL once closed */
    key_t key;
    int shmid, semid;
    const volatile unsigned char *hdr; /* a read-only view of the header */
    int fast;                    /* version 2: the fast lock */
};

static uint32_t hdr32(const struct blk *b, size_t off)
{
    return *(const volatile uint32_t *)(b->hdr + off);
}

static uint32_t lk_ctl(const struct blk *b)
{
    return hdr32(b, R_OFF_LK_CTL);
}

static uint32_t lk_readers(const struct blk *b)
{
    return hdr32(b, R_OFF_LK_READERS);
}

static int nsems(int semid)
{
    struct semid_ds ds;
    union semun arg;

    arg.buf = &ds;
    if (semctl(semid, 0, IPC_STAT, arg) != 0)
        return -1;
    return (int)ds.sem_nsems;
}

/* Slots whose presence semaphore is up, as a bit mask in *m.  0, or -1 if
 * the set cannot be read or a presence is neither 0 nor 1.  Safe in a
 * child (no assertion). */
static int slots_read(const struct blk *b, uint32_t *m)
{
    unsigned short v[R_NSEMS_FAST];
    int k;

    *m = 0;
    if (r_sem_values(b->semid, v, R_NSEMS_FAST) != R_NSEMS_FAST)
        return -1;
    for (k = 0; k < R_SLOTS; k++) {
        if (v[R_SEM_SLOT0 + k] > 1)
            return -1;
        if (v[R_SEM_SLOT0 + k])
            *m |= (uint32_t)1 << k;
    }
    return 0;
}

static uint32_t slots_up(const struct blk *b)
{
    uint32_t m;

    cr_assert_eq(slots_read(b, &m), 0, "the set's presence semaphores: %s", strerror(errno));
    return m;
}

static int popcount32(uint32_t m)
{
    int n = 0;

    for (; m != 0; m &= m - 1)
        n++;
    return n;
}

/* The one slot in mask, or -1. */
static int only_slot(uint32_t m)
{
    int k;

    if (popcount32(m) != 1)
        return -1;
    for (k = 0; !(m & ((uint32_t)1 << k)); k++)
        ;
    return k;
}

/* A new block with SYSVSHM_FASTLOCK; with own_slot the test's handle takes
 * its slot at once, so that its first lock after a crash finds the dead
 * holder as a sleeper does (not as the next owner of the dead one's slot). */
static void blk_make(struct blk *b, const char *tag, int own_slot)
{
    void *p;

    b->name = r_name(tag);
    b->h = TU_MUST(sysvshm_create(b->name, SZ, SYSVSHM_FASTLOCK, 0600));
    b->key = sysvshm_key(b->h);
    b->shmid = shmget(b->key, 0, 0);
    b->semid = semget(b->key, 0, 0);
    cr_assert(b->shmid >= 0 && b->semid >= 0, "the block's objects: %s", strerror(errno));
    p = shmat(b->shmid, NULL, SHM_RDONLY);
    cr_assert(p != (void *)-1, "shmat: %s", strerror(errno));
    b->hdr = p;
    b->fast = hdr32(b, R_OFF_VERSION) == R_VERSION_FAST;
    cr_assert_eq(b->fast, svs_fast_available(),
                 "SYSVSHM_FASTLOCK made a version %u block, fast lock compiled in: %d",
                 (unsigned)hdr32(b, R_OFF_VERSION), svs_fast_available());
    if (own_slot) {
        cr_assert_eq(sysvshm_lock(b->h, SYSVSHM_READ, 0), 0);
        cr_assert_eq(sysvshm_unlock(b->h), 0);
    }
}

/* Remove the block (through the handle if it is still open) and check that
 * nothing is left at the name's keys. */
static void blk_end(struct blk *b)
{
    if (b->h != NULL) {
        cr_assert_eq(sysvshm_unlink(b->h), 0, "unlink: %s", strerror(errno));
        cr_assert_eq(sysvshm_close(b->h), 0);
        b->h = NULL;
    } else {
        cr_assert_eq(sysvshm_remove(b->name), 0, "remove: %s", strerror(errno));
    }
    shmdt((const void *)b->hdr);
    cr_assert(tu_name_keys_free(b->name), "left behind:%s", r_describe(b->name));
}

#define NEED_FAST()                                                           \
    do {                                                                      \
        if (!svs_fast_available())                                            \
            cr_skip_test("the fast lock is not compiled in (no atomics)");    \
    } while (0)

#ifdef SVS_FAULT_INJECTION
#define NEED_FAULTS() NEED_FAST()
#else
#define NEED_FAULTS() cr_skip_test("needs ./configure --enable-fault-injection")
#endif

/* ---- lockers: child processes driven through pipes --------------------------- */

enum { P_FAIL, P_READY, P_LOCKED, P_UNLOCKED, P_CLOSED };
enum { HOLD, RELEASE };

struct rep {
    int idx, phase, rc, err;
};

struct locker {
    const char *name;
    int how;           /* SYSVSHM_WRITE or SYSVSHM_READ */
    long timeout;      /* of the lock */
    int then;          /* HOLD: keep the lock; RELEASE: unlock, keep the handle */
    int early;         /* take a slot (a reader try-lock), report, wait for 'g' */
    const char *fault; /* SYSVSHM_FAULT for the lock, or for the unlock: */
    int fault_unlock;
    /* set by crew_add */
    int idx, cmd_rd, rep_wr;
};

static void rep_send(const struct locker *l, int phase, int rc, int err)
{
    struct rep r;

    memset(&r, 0, sizeof r);
    r.idx = l->idx;
    r.phase = phase;
    r.rc = rc;
    r.err = err;
    (void)tu_write_all(l->rep_wr, &r, sizeof r);
}

/* Exit codes: 0 done; 80.. a step failed; 99 the fault point was not
 * reached (a process that reaches it dies of SIGKILL). */
static int locker_main(void *arg)
{
    struct locker *l = arg;
    sysvshm_t *a = sysvshm_attach(l->name, 0);
    int rc, err;
    char c;

    if (a == NULL) {
        rep_send(l, P_FAIL, -1, errno);
        return 80;
    }
    if (l->early) {
        errno = 0;
        rc = sysvshm_lock(a, SYSVSHM_READ, 0);
        err = errno;
        if (rc >= 0 && sysvshm_unlock(a) != 0)
            return 81;
        rep_send(l, P_READY, rc, err);
        if (tu_read_all(l->cmd_rd, &c, 1, 25000) != 0 || c != 'g')
            return 82;
    }
    if (l->fault != NULL && !l->fault_unlock)
        setenv("SYSVSHM_FAULT", l->fault, 1);
    errno = 0;
    rc = sysvshm_lock(a, l->how, l->timeout);
    err = errno;
    if (l->fault != NULL && !l->fault_unlock) {
        rep_send(l, P_LOCKED, rc, err);
        return 99;
    }
    if (rc >= 0 && l->how == SYSVSHM_WRITE)
        memcpy(sysvshm_buf(a), "written", 8);
    if (l->fault_unlock) {
        if (rc < 0)
            return 83;
        setenv("SYSVSHM_FAULT", l->fault, 1);
        (void)sysvshm_unlock(a);
        return 99;
    }
    if (rc >= 0 && l->then == RELEASE && sysvshm_unlock(a) != 0)
        return 84;
    rep_send(l, P_LOCKED, rc, err);
    for (;;) {
        if (tu_read_all(l->cmd_rd, &c, 1, 25000) != 0)
            return 85;
        switch (c) {
        case 'u':
            errno = 0;
            rc = sysvshm_unlock(a);
            rep_send(l, P_UNLOCKED, rc, errno);
            break;
        case 'c':
            errno = 0;
            rc = sysvshm_close(a);
            rep_send(l, P_CLOSED, rc, errno);
            return 0;
        case 'x':
            return 0; /* the handle is left open: the kernel undoes the rest */
        default:
            return 86;
        }
    }
}

#define MAXK 40

struct crew {
    int rep[2];
    int n;
    pid_t pid[MAXK];
    int cmd[MAXK];
    struct rep q[4 * MAXK];
    int nq;
};

static void crew_init(struct crew *c)
{
    memset(c, 0, sizeof *c);
    tu_pipe(c->rep);
}

static int crew_add(struct crew *c, const struct locker *tmpl)
{
    struct locker l = *tmpl;
    int fd[2], i = c->n;

    cr_assert(i < MAXK);
    tu_pipe(fd);
    l.idx = i;
    l.cmd_rd = fd[0];
    l.rep_wr = c->rep[1];
    c->pid[i] = tu_fork(locker_main, &l);
    close(fd[0]);
    c->cmd[i] = fd[1];
    c->n++;
    return i;
}

/* For a failure message: how locker idx ended, if it did (not reaped). */
static const char *crew_fate(const struct crew *c, int idx)
{
    static char buf[64];
    siginfo_t si;

    if (idx < 0 || c->pid[idx] <= 0)
        return "";
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)c->pid[idx], &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        si.si_pid == 0)
        return " (still running)";
    snprintf(buf, sizeof buf, " (it %s %d)", si.si_code == CLD_EXITED ? "exited with" :
             "was killed by signal", si.si_status);
    return buf;
}

/* The report of locker idx (-1: any) in that phase; fails the test if none
 * comes within timeout_ms. */
static struct rep crew_expect(struct crew *c, int idx, int phase, long timeout_ms)
{
    long long end = tu_now_ms() + timeout_ms;
    struct rep r;
    int i;

    for (;;) {
        for (i = 0; i < c->nq; i++) {
            r = c->q[i];
            cr_assert(r.phase != P_FAIL, "locker %d could not attach: %s", r.idx,
                      strerror(r.err));
            if ((idx < 0 || r.idx == idx) && r.phase == phase) {
                c->q[i] = c->q[--c->nq];
                return r;
            }
        }
        cr_assert(tu_now_ms() < end &&
                      tu_read_all(c->rep[0], &r, sizeof r, (long)(end - tu_now_ms())) == 0,
                  "no report (phase %d) from locker %d within %ld ms%s", phase, idx,
                  timeout_ms, crew_fate(c, idx));
        cr_assert(c->nq < 4 * MAXK);
        c->q[c->nq++] = r;
    }
}

/* Nothing from locker idx in that phase within ms. */
static int crew_quiet(struct crew *c, int idx, int phase, long ms)
{
    long long end = tu_now_ms() + ms;
    struct rep r;
    int i;

    for (;;) {
        for (i = 0; i < c->nq; i++)
            if (c->q[i].idx == idx && c->q[i].phase == phase)
                return 0;
        if (tu_now_ms() >= end ||
            tu_read_all(c->rep[0], &r, sizeof r, (long)(end - tu_now_ms())) != 0)
            return 1;
        cr_assert(c->nq < 4 * MAXK);
        c->q[c->nq++] = r;
    }
}

static void crew_cmd(struct crew *c, int idx, char cmd)
{
    cr_assert_eq(tu_write_all(c->cmd[idx], &cmd, 1), 0, "command to locker %d", idx);
}

static int crew_wait(struct crew *c, int idx, long timeout_ms)
{
    int st = tu_wait(c->pid[idx], timeout_ms);

    c->pid[idx] = 0;
    return st;
}

static void crew_kill(struct crew *c, int idx)
{
    tu_kill(c->pid[idx]);
    c->pid[idx] = 0;
}

/* Close locker idx's handle (releasing what it holds) and see it exit. */
static void crew_close(struct crew *c, int idx)
{
    struct rep r;
    int st;

    crew_cmd(c, idx, 'c');
    r = crew_expect(c, idx, P_CLOSED, BOUND_MS);
    cr_assert_eq(r.rc, 0, "locker %d: close %d (%s)", idx, r.rc, strerror(r.err));
    st = crew_wait(c, idx, BOUND_MS);
    cr_assert_eq(st, 0, "locker %d exited with status %d", idx, st);
}

static void crew_end(struct crew *c)
{
    int i;

    for (i = 0; i < c->n; i++) {
        if (c->pid[i] > 0)
            crew_kill(c, i);
        close(c->cmd[i]);
    }
    close(c->rep[0]);
    close(c->rep[1]);
    c->n = 0;
}

/* Start one locker and return its lock's report. */
static struct rep lock_in_child(struct crew *c, const char *name, int how, long timeout,
                                int then, int *idx)
{
    struct locker l;

    memset(&l, 0, sizeof l);
    l.name = name;
    l.how = how;
    l.timeout = timeout;
    l.then = then;
    *idx = crew_add(c, &l);
    return crew_expect(c, *idx, P_LOCKED, BOUND_MS + 2000);
}

/* A locker with SYSVSHM_FAULT=point must die of SIGKILL: proof that the
 * operation reached the point. */
static void expect_killed(struct crew *c, int idx, const char *point)
{
    int st = crew_wait(c, idx, 10000);

    cr_assert_eq(st, 1000 + SIGKILL,
                 "locker with SYSVSHM_FAULT=%s: status %d, expected death by SIGKILL "
                 "(99: the point was not reached)", point, st);
}

static void wait_waiters(const struct blk *b, int n)
{
    cr_assert_eq(tu_wait_lock_waiters(b->key, n, BOUND_MS), 0,
                 "%d locker(s) never waited for the lock", n);
}

/* ---- what must hold after any death -------------------------------------------- */

/* n processes in c, each with its own handle, take a reader lock once and
 * keep the handle (and so a slot) open, until crew_close. */
static void crew_hold_slots(struct crew *c, const struct blk *b, int n)
{
    struct locker l;
    int i;

    memset(&l, 0, sizeof l);
    l.name = b->name;
    l.how = SYSVSHM_READ;
    l.timeout = BOUND_MS;
    l.then = RELEASE;
    for (i = 0; i < n; i++)
        crew_add(c, &l);
    for (i = 0; i < n; i++) {
        struct rep r = crew_expect(c, -1, P_LOCKED, BOUND_MS + 5000);

        cr_assert_eq(r.rc, 0, "handle %d: %d (%s)", r.idx, r.rc, strerror(r.err));
    }
}

/* 32 processes, each with its own handle, lock once (how) and keep their
 * handles open until all have: every slot is usable.  Returns how many got
 * SYSVSHM_RECOVERED; every lock must succeed. */
static int all_slots_lock(const struct blk *b, int how)
{
    struct crew c;
    struct locker l;
    int i, recovered = 0;

    crew_init(&c);
    memset(&l, 0, sizeof l);
    l.name = b->name;
    l.how = how;
    l.timeout = BOUND_MS;
    l.then = RELEASE;
    for (i = 0; i < R_SLOTS; i++)
        crew_add(&c, &l);
    for (i = 0; i < R_SLOTS; i++) {
        struct rep r = crew_expect(&c, -1, P_LOCKED, BOUND_MS + 5000);

        cr_assert(r.rc == 0 || r.rc == SYSVSHM_RECOVERED,
                  "handle %d of 32: lock %d (%s)", r.idx, r.rc, strerror(r.err));
        recovered += r.rc == SYSVSHM_RECOVERED;
    }
    if (b->fast)
        cr_assert_eq(slots_up(b), 0xffffffffu, "32 handles open, slots up: %#x",
                     (unsigned)slots_up(b));
    for (i = 0; i < R_SLOTS; i++)
        crew_close(&c, i);
    if (b->fast)
        cr_assert_eq(slots_up(b), 0, "all closed, slots up: %#x", (unsigned)slots_up(b));
    crew_end(&c);
    return recovered;
}

/*
 * A process died somewhere in the lock.  The test's handle (which owns a
 * slot, so it meets the dead one as a waiter does) takes the writer lock
 * within the bound with `expect' (0, or SYSVSHM_RECOVERED when a writer died
 * holding); then writers exclude, readers share, the lock words are clean,
 * and 32 other processes can all take a slot.  Ends the block.
 */
static void lock_works(struct blk *b, int expect)
{
    struct crew c;
    struct rep r;
    long long t0;
    int rc, err, i1, i2, ix;

    t0 = tu_now_ms();
    errno = 0;
    rc = sysvshm_lock(b->h, SYSVSHM_WRITE, BOUND_MS);
    err = errno;
    cr_assert_eq(rc, expect, "first writer after the death: %d (%s), expected %d", rc,
                 strerror(err), expect);
    cr_assert_lt(tu_now_ms() - t0, BOUND_MS, "the first writer waited %lld ms",
                 tu_now_ms() - t0);
    cr_assert_eq(sysvshm_unlock(b->h), 0);
    /* The unlock cleared the condition; the writer excludes others. */
    cr_assert_eq(sysvshm_lock(b->h, SYSVSHM_WRITE, 0), 0);
    crew_init(&c);
    r = lock_in_child(&c, b->name, SYSVSHM_WRITE, 0, HOLD, &ix);
    cr_assert(r.rc == -1 && r.err == EBUSY, "a writer try-lock while a writer holds: %d (%s)",
              r.rc, strerror(r.err));
    crew_cmd(&c, ix, 'x');
    r = lock_in_child(&c, b->name, SYSVSHM_READ, 300, HOLD, &ix);
    cr_assert(r.rc == -1 && r.err == ETIMEDOUT,
              "a reader while a writer holds: %d (%s)", r.rc, strerror(r.err));
    crew_cmd(&c, ix, 'x');
    cr_assert_eq(sysvshm_unlock(b->h), 0);
    /* Readers share the lock and keep a writer out. */
    r = lock_in_child(&c, b->name, SYSVSHM_READ, BOUND_MS, HOLD, &i1);
    cr_assert_eq(r.rc, 0, "reader 1: %d (%s)", r.rc, strerror(r.err));
    r = lock_in_child(&c, b->name, SYSVSHM_READ, 0, HOLD, &i2);
    cr_assert_eq(r.rc, 0, "reader 2 beside reader 1: %d (%s)", r.rc, strerror(r.err));
    TU_ASSERT_ERR(sysvshm_lock(b->h, SYSVSHM_WRITE, 0), EBUSY);
    cr_assert_eq(sysvshm_lock(b->h, SYSVSHM_READ, 0), 0, "a third reader");
    cr_assert_eq(sysvshm_unlock(b->h), 0);
    crew_close(&c, i1);
    TU_ASSERT_ERR(sysvshm_lock(b->h, SYSVSHM_WRITE, 0), EBUSY);
    crew_close(&c, i2);
    cr_assert_eq(sysvshm_lock(b->h, SYSVSHM_WRITE, 0), 0, "a writer once the readers left");
    cr_assert_eq(sysvshm_unlock(b->h), 0);
    crew_end(&c);
    if (b->fast)
        cr_assert(lk_ctl(b) == 0 && lk_readers(b) == 0,
                  "lock words left: lk_ctl %#x, lk_readers %#x", (unsigned)lk_ctl(b),
                  (unsigned)lk_readers(b));
    cr_assert_eq(sysvshm_close(b->h), 0);
    b->h = NULL;
    cr_assert_eq(all_slots_lock(b, SYSVSHM_WRITE), 0);
    blk_end(b);
}

/* As lock_works, but the first lockers after the death are 32 fresh
 * handles in 32 processes: one of them takes the dead one's slot and finds
 * its leftovers as that slot's next owner. */
static void lock_works_fresh(struct blk *b, int expect)
{
    cr_assert_eq(sysvshm_close(b->h), 0);
    b->h = NULL;
    cr_assert_eq(all_slots_lock(b, SYSVSHM_WRITE), expect == SYSVSHM_RECOVERED ? 1 : 0,
                 "lockers told of a writer that died holding the lock");
    b->h = TU_MUST(sysvshm_attach(b->name, 0));
    cr_assert_eq(sysvshm_lock(b->h, SYSVSHM_READ, 0), 0);
    cr_assert_eq(sysvshm_unlock(b->h), 0);
    lock_works(b, 0);
}

/* ---- 1. a process killed at each step of the fast lock ------------------------- */

static struct locker faulty(const struct blk *b, const char *point, int how)
{
    struct locker l;

    memset(&l, 0, sizeof l);
    l.name = b->name;
    l.how = how;
    l.timeout = BOUND_MS;
    l.fault = point;
    return l;
}

/* Killed just after claiming its slot's presence, before clearing what a
 * former owner left or locking. */
static void crash_slot_claimed(int how, int fresh)
{
    struct blk b;
    struct crew c;
    struct locker l;

    NEED_FAULTS();
    blk_make(&b, "slotclaimed", 1);
    crew_init(&c);
    l = faulty(&b, "fast.slot_claimed", how);
    expect_killed(&c, crew_add(&c, &l), l.fault);
    crew_end(&c);
    cr_assert_eq(popcount32(slots_up(&b)), 1, "only the test's slot is up");
    if (fresh)
        lock_works_fresh(&b, 0);
    else
        lock_works(&b, 0);
}

Test(fastcrash, fault_slot_claimed_writer) { crash_slot_claimed(SYSVSHM_WRITE, 0); }
Test(fastcrash, fault_slot_claimed_reader) { crash_slot_claimed(SYSVSHM_READ, 0); }
Test(fastcrash, fault_slot_claimed_then_fresh) { crash_slot_claimed(SYSVSHM_WRITE, 1); }

/* Killed with the writer field taken, before the readers drained and
 * before it marked the header: a pending writer that never held. */
static void crash_writer_claimed(int fresh)
{
    struct blk b;
    struct crew c;
    struct locker l;

    NEED_FAULTS();
    blk_make(&b, "writerclaimed", 1);
    crew_init(&c);
    l = faulty(&b, "fast.writer_claimed", SYSVSHM_WRITE);
    expect_killed(&c, crew_add(&c, &l), l.fault);
    crew_end(&c);
    cr_assert_neq(lk_ctl(&b) & R_WMASK, 0, "the dead writer's field is not set: lk_ctl %#x",
                  (unsigned)lk_ctl(&b));
    cr_assert_eq(hdr32(&b, R_OFF_WRITER), 0, "the writer mark was written");
    if (fresh)
        lock_works_fresh(&b, 0);
    else
        lock_works(&b, 0);
}

Test(fastcrash, fault_writer_claimed) { crash_writer_claimed(0); }
Test(fastcrash, fault_writer_claimed_then_fresh) { crash_writer_claimed(1); }

/* The same beside a live reader: new readers, held back by the dead
 * pending writer, get in while the old reader still holds. */
Test(fastcrash, fault_writer_claimed_beside_reader)
{
    struct blk b;
    struct crew c;
    struct locker l;
    struct rep r;
    long long t0;
    int ir, in;

    NEED_FAULTS();
    blk_make(&b, "writerclaimedr", 1);
    crew_init(&c);
    r = lock_in_child(&c, b.name, SYSVSHM_READ, 0, HOLD, &ir);
    cr_assert_eq(r.rc, 0);
    l = faulty(&b, "fast.writer_claimed", SYSVSHM_WRITE);
    expect_killed(&c, crew_add(&c, &l), l.fault);
    cr_assert_neq(lk_ctl(&b) & R_WMASK, 0, "lk_ctl %#x", (unsigned)lk_ctl(&b));
    t0 = tu_now_ms();
    r = lock_in_child(&c, b.name, SYSVSHM_READ, BOUND_MS, HOLD, &in);
    cr_assert_eq(r.rc, 0, "a new reader beside the old one: %d (%s)", r.rc, strerror(r.err));
    cr_assert_lt(tu_now_ms() - t0, BOUND_MS);
    TU_ASSERT_ERR(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), EBUSY);
    crew_close(&c, ir);
    crew_close(&c, in);
    crew_end(&c);
    lock_works(&b, 0);
}

/* Killed with its reader bit set, before it looked for a writer. */
Test(fastcrash, fault_reader_set)
{
    struct blk b;
    struct crew c;
    struct locker l;

    NEED_FAULTS();
    blk_make(&b, "readerset", 1);
    crew_init(&c);
    l = faulty(&b, "fast.reader_set", SYSVSHM_READ);
    expect_killed(&c, crew_add(&c, &l), l.fault);
    crew_end(&c);
    cr_assert_eq(popcount32(lk_readers(&b)), 1, "the dead reader's bit: lk_readers %#x",
                 (unsigned)lk_readers(&b));
    lock_works(&b, 0);
}

Test(fastcrash, fault_reader_set_then_fresh)
{
    struct blk b;
    struct crew c;
    struct locker l;

    NEED_FAULTS();
    blk_make(&b, "readersetf", 1);
    crew_init(&c);
    l = faulty(&b, "fast.reader_set", SYSVSHM_READ);
    expect_killed(&c, crew_add(&c, &l), l.fault);
    crew_end(&c);
    lock_works_fresh(&b, 0);
}

/* A dead reader's bit is cleared, a live reader's is not: the writer still
 * waits for the live one. */
Test(fastcrash, fault_reader_set_beside_live_reader)
{
    struct blk b;
    struct crew c;
    struct locker l;
    struct rep r;
    int ir;

    NEED_FAULTS();
    blk_make(&b, "readersetlive", 1);
    crew_init(&c);
    r = lock_in_child(&c, b.name, SYSVSHM_READ, 0, HOLD, &ir);
    cr_assert_eq(r.rc, 0);
    l = faulty(&b, "fast.reader_set", SYSVSHM_READ);
    expect_killed(&c, crew_add(&c, &l), l.fault);
    cr_assert_eq(popcount32(lk_readers(&b)), 2, "lk_readers %#x", (unsigned)lk_readers(&b));
    TU_ASSERT_ERR(sysvshm_lock(b.h, SYSVSHM_WRITE, 300), ETIMEDOUT);
    cr_assert_eq(popcount32(lk_readers(&b)), 1,
                 "lk_readers %#x: expected the live reader's bit alone",
                 (unsigned)lk_readers(&b));
    crew_close(&c, ir);
    crew_end(&c);
    lock_works(&b, 0);
}

/* Killed after registering as a sleeper, before sleeping: the count stays
 * high until the release, whose token then finds nobody. */
static void crash_sleeper(int how, int behind_reader)
{
    struct blk b;
    struct crew c;
    struct locker l;
    struct rep r;
    int ir = -1, ix;

    NEED_FAULTS();
    blk_make(&b, "sleeper", 1);
    crew_init(&c);
    if (behind_reader) {
        /* It sleeps as the pending writer, waiting for the reader. */
        r = lock_in_child(&c, b.name, SYSVSHM_READ, 0, HOLD, &ir);
        cr_assert_eq(r.rc, 0);
    } else {
        cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), 0);
    }
    l = faulty(&b, "fast.sleeper_registered", how);
    expect_killed(&c, crew_add(&c, &l), l.fault);
    cr_assert_eq(lk_ctl(&b) >> R_SLEEP_SHIFT, 1, "registered sleepers: lk_ctl %#x",
                 (unsigned)lk_ctl(&b));
    if (behind_reader) {
        cr_assert_neq(lk_ctl(&b) & R_WMASK, 0, "the pending writer's field: lk_ctl %#x",
                      (unsigned)lk_ctl(&b));
        crew_close(&c, ir);
    } else {
        cr_assert_eq(sysvshm_unlock(b.h), 0);
        cr_assert_eq(lk_ctl(&b), 0, "after the release: lk_ctl %#x", (unsigned)lk_ctl(&b));
        /* The dead sleeper's token is a stray one: it may wake a sleeper,
         * never let one in while the lock is held. */
        cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), 0);
        r = lock_in_child(&c, b.name, how, 300, HOLD, &ix);
        cr_assert(r.rc == -1 && r.err == ETIMEDOUT,
                  "a locker while the writer holds (a stray token posted): %d (%s)", r.rc,
                  strerror(r.err));
        crew_cmd(&c, ix, 'x');
        cr_assert_eq(sysvshm_unlock(b.h), 0);
    }
    crew_end(&c);
    lock_works(&b, 0);
}

Test(fastcrash, fault_sleeper_registered_writer) { crash_sleeper(SYSVSHM_WRITE, 0); }
Test(fastcrash, fault_sleeper_registered_reader) { crash_sleeper(SYSVSHM_READ, 0); }
Test(fastcrash, fault_sleeper_registered_pending_writer) { crash_sleeper(SYSVSHM_WRITE, 1); }

/*
 * Killed while recovering a dead holder, just after claiming the dead
 * slot's presence.  The recoverer took its own slot while the holder lived,
 * so it meets the dead one as a waiter.  writer_held: the dead holder was
 * a writer holding the lock (the next writer is told), else a reader (and
 * the recoverer died as a pending writer itself).
 */
static void crash_recover(int writer_held)
{
    struct blk b;
    struct crew c;
    struct locker l;
    struct rep r;
    int ih, ir;

    NEED_FAULTS();
    blk_make(&b, "recover", 1);
    crew_init(&c);
    r = lock_in_child(&c, b.name, writer_held ? SYSVSHM_WRITE : SYSVSHM_READ, 0, HOLD, &ih);
    cr_assert_eq(r.rc, 0);
    l = faulty(&b, "fast.recover_claimed", SYSVSHM_WRITE);
    l.early = 1;
    ir = crew_add(&c, &l);
    r = crew_expect(&c, ir, P_READY, BOUND_MS);
    cr_assert(writer_held ? r.rc == -1 && r.err == EBUSY : r.rc == 0,
              "the recoverer's early try-lock: %d (%s)", r.rc, strerror(r.err));
    crew_kill(&c, ih);
    cr_assert_eq(popcount32(slots_up(&b)), 2, "slots up: %#x", (unsigned)slots_up(&b));
    crew_cmd(&c, ir, 'g');
    expect_killed(&c, ir, l.fault);
    crew_end(&c);
    if (writer_held)
        cr_assert_neq(hdr32(&b, R_OFF_WRITER), 0, "the dead writer's mark is gone");
    lock_works(&b, writer_held ? SYSVSHM_RECOVERED : 0);
}

Test(fastcrash, fault_recover_claimed_dead_writer) { crash_recover(1); }
Test(fastcrash, fault_recover_claimed_dead_reader) { crash_recover(0); }

/* Killed in the writer's unlock, after it cleared the header's mark but
 * before it let go of the writer field: the update was complete. */
Test(fastcrash, fault_before_release)
{
    struct blk b;
    struct crew c;
    struct locker l;

    NEED_FAULTS();
    blk_make(&b, "beforerelease", 1);
    crew_init(&c);
    l = faulty(&b, "fast.before_release", SYSVSHM_WRITE);
    l.fault_unlock = 1;
    expect_killed(&c, crew_add(&c, &l), l.fault);
    crew_end(&c);
    cr_assert_neq(lk_ctl(&b) & R_WMASK, 0, "lk_ctl %#x", (unsigned)lk_ctl(&b));
    cr_assert_eq(hdr32(&b, R_OFF_WRITER), 0);
    cr_assert_eq(memcmp(sysvshm_buf(b.h), "written", 8), 0);
    lock_works(&b, 0);
}

/* ---- 2. SIGKILL from outside, in every build ------------------------------------ */

/* A holder killed while holding; the next lockers were not waiting. */
static void killed_holder(int how, int fresh)
{
    struct blk b;
    struct crew c;
    struct rep r;
    int ih;

    blk_make(&b, how == SYSVSHM_WRITE ? "killedwriter" : "killedreader", 1);
    crew_init(&c);
    r = lock_in_child(&c, b.name, how, 0, HOLD, &ih);
    cr_assert_eq(r.rc, 0);
    crew_kill(&c, ih);
    crew_end(&c);
    if (how == SYSVSHM_WRITE) {
        cr_assert_eq(memcmp(sysvshm_buf(b.h), "written", 8), 0);
        cr_assert_neq(hdr32(&b, R_OFF_WRITER), 0, "the dead writer's mark");
    }
    if (fresh)
        lock_works_fresh(&b, how == SYSVSHM_WRITE ? SYSVSHM_RECOVERED : 0);
    else
        lock_works(&b, how == SYSVSHM_WRITE ? SYSVSHM_RECOVERED : 0);
}

Test(fastcrash, killed_writer_holding) { killed_holder(SYSVSHM_WRITE, 0); }
Test(fastcrash, killed_writer_holding_then_fresh) { killed_holder(SYSVSHM_WRITE, 1); }
Test(fastcrash, killed_reader_holding) { killed_holder(SYSVSHM_READ, 0); }
Test(fastcrash, killed_reader_holding_then_fresh) { killed_holder(SYSVSHM_READ, 1); }

/* Readers are told of a writer that died holding, until a writer unlocks. */
Test(fastcrash, killed_writer_then_readers_told)
{
    struct blk b;
    struct crew c;
    struct rep r;
    int ih, ir;

    blk_make(&b, "killedwriterr", 1);
    crew_init(&c);
    r = lock_in_child(&c, b.name, SYSVSHM_WRITE, 0, HOLD, &ih);
    cr_assert_eq(r.rc, 0);
    crew_kill(&c, ih);
    r = lock_in_child(&c, b.name, SYSVSHM_READ, BOUND_MS, HOLD, &ir);
    cr_assert_eq(r.rc, SYSVSHM_RECOVERED, "reader after the death: %d (%s)", r.rc,
                 strerror(r.err));
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_READ, BOUND_MS), SYSVSHM_RECOVERED);
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    crew_close(&c, ir);
    crew_end(&c);
    lock_works(&b, SYSVSHM_RECOVERED);
}

/* A try-lock (timeout 0) is a locker too: a dead holder does not make the
 * lock busy for ever, whichever slot the try-locker owns. */
static void trylock_after_death(int how_dead, int how)
{
    struct blk b;
    struct crew c;
    struct rep r;
    long long end;
    int ih, rc = -1, err = 0;

    blk_make(&b, "trylock", 1);
    crew_init(&c);
    r = lock_in_child(&c, b.name, how_dead, 0, HOLD, &ih);
    cr_assert_eq(r.rc, 0);
    crew_kill(&c, ih);
    crew_end(&c);
    end = tu_now_ms() + WAKE_BOUND_MS;
    while (tu_now_ms() < end) {
        errno = 0;
        rc = sysvshm_lock(b.h, how, 0);
        err = errno;
        if (rc >= 0 || err != EBUSY)
            break;
        tu_sleep_ms(10);
    }
    cr_assert_eq(rc, how_dead == SYSVSHM_WRITE ? SYSVSHM_RECOVERED : 0,
                 "try-locks for %ld ms after the holder died: %d (%s)", WAKE_BOUND_MS, rc,
                 strerror(err));
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    lock_works(&b, how == SYSVSHM_WRITE ? 0 : how_dead == SYSVSHM_WRITE ? SYSVSHM_RECOVERED : 0);
}

Test(fastcrash, trylock_writer_after_dead_writer)
{
    trylock_after_death(SYSVSHM_WRITE, SYSVSHM_WRITE);
}
Test(fastcrash, trylock_reader_after_dead_writer)
{
    trylock_after_death(SYSVSHM_WRITE, SYSVSHM_READ);
}
Test(fastcrash, trylock_writer_after_dead_reader)
{
    trylock_after_death(SYSVSHM_READ, SYSVSHM_WRITE);
}

/* A locker sleeping on a holder that is then killed gets the lock soon: a
 * sleeper looks at the holder's presence at least every 50 ms. */
static void waiter_on_killed(int how_dead, int how)
{
    struct blk b;
    struct crew c;
    struct locker l;
    struct rep r;
    long long t0, dt;
    int ih, iw;

    blk_make(&b, "waiter", 1);
    crew_init(&c);
    r = lock_in_child(&c, b.name, how_dead, 0, HOLD, &ih);
    cr_assert_eq(r.rc, 0);
    memset(&l, 0, sizeof l);
    l.name = b.name;
    l.how = how;
    l.timeout = -1;
    l.then = HOLD;
    iw = crew_add(&c, &l);
    wait_waiters(&b, 1);
    cr_assert(crew_quiet(&c, iw, P_LOCKED, 200), "the waiter got in beside the holder");
    t0 = tu_now_ms();
    crew_kill(&c, ih);
    r = crew_expect(&c, iw, P_LOCKED, BOUND_MS);
    dt = tu_now_ms() - t0;
    cr_assert_eq(r.rc, how_dead == SYSVSHM_WRITE ? SYSVSHM_RECOVERED : 0,
                 "the waiter's lock: %d (%s)", r.rc, strerror(r.err));
    cr_assert_lt(dt, WAKE_BOUND_MS, "the waiter got the lock %lld ms after the holder died", dt);
    crew_close(&c, iw);
    crew_end(&c);
    lock_works(&b, how == SYSVSHM_READ && how_dead == SYSVSHM_WRITE ? SYSVSHM_RECOVERED : 0);
}

Test(fastcrash, writer_waiting_on_killed_writer) { waiter_on_killed(SYSVSHM_WRITE, SYSVSHM_WRITE); }
Test(fastcrash, reader_waiting_on_killed_writer) { waiter_on_killed(SYSVSHM_WRITE, SYSVSHM_READ); }
Test(fastcrash, writer_waiting_on_killed_reader) { waiter_on_killed(SYSVSHM_READ, SYSVSHM_WRITE); }

/* A sleeping locker killed: the others, sleeping or not, do not notice. */
static void killed_sleeper(int how)
{
    struct blk b;
    struct crew c;
    struct locker l;
    struct rep r;
    int is, io;

    blk_make(&b, "killedsleeper", 1);
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), 0);
    crew_init(&c);
    memset(&l, 0, sizeof l);
    l.name = b.name;
    l.how = how;
    l.timeout = -1;
    l.then = HOLD;
    is = crew_add(&c, &l);
    io = crew_add(&c, &l);
    wait_waiters(&b, 2);
    crew_kill(&c, is);
    cr_assert(crew_quiet(&c, io, P_LOCKED, 200), "a sleeper got in while the writer holds");
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    r = crew_expect(&c, io, P_LOCKED, WAKE_BOUND_MS);
    cr_assert_eq(r.rc, 0, "the other sleeper: %d (%s)", r.rc, strerror(r.err));
    if (how == SYSVSHM_WRITE)
        TU_ASSERT_ERR(sysvshm_lock(b.h, SYSVSHM_READ, 0), EBUSY);
    else
        TU_ASSERT_ERR(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), EBUSY);
    crew_close(&c, io);
    crew_end(&c);
    lock_works(&b, 0);
}

Test(fastcrash, killed_sleeping_writer) { killed_sleeper(SYSVSHM_WRITE); }
Test(fastcrash, killed_sleeping_reader) { killed_sleeper(SYSVSHM_READ); }

/* A writer waiting for the readers to drain holds new readers back; killed
 * there, it stops holding them back. */
Test(fastcrash, killed_pending_writer)
{
    struct blk b;
    struct crew c;
    struct locker l;
    struct rep r;
    long long t0;
    int ir, ip;

    blk_make(&b, "pending", 1);
    crew_init(&c);
    r = lock_in_child(&c, b.name, SYSVSHM_READ, 0, HOLD, &ir);
    cr_assert_eq(r.rc, 0);
    memset(&l, 0, sizeof l);
    l.name = b.name;
    l.how = SYSVSHM_WRITE;
    l.timeout = -1;
    l.then = HOLD;
    ip = crew_add(&c, &l);
    wait_waiters(&b, 1);
    if (b.fast)
        cr_assert_neq(lk_ctl(&b) & R_WMASK, 0, "no pending writer: lk_ctl %#x",
                      (unsigned)lk_ctl(&b));
    TU_ASSERT_ERR(sysvshm_lock(b.h, SYSVSHM_READ, 0), EBUSY);
    crew_kill(&c, ip);
    t0 = tu_now_ms();
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_READ, BOUND_MS), 0, "a reader after the pending "
                 "writer died: %s", strerror(errno));
    cr_assert_lt(tu_now_ms() - t0, BOUND_MS);
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    crew_close(&c, ir);
    crew_end(&c);
    lock_works(&b, 0);
}

/* 32 slots: a 33rd handle locks without one, through the kernel (OVW for
 * a writer, OVR for readers), excluding and sharing as the others do, and
 * takes a slot at its first lock after one is given back. */
Test(fastcrash, slots_run_out)
{
    struct blk b;
    struct crew c;
    sysvshm_t *h2;
    int i;

    blk_make(&b, "slots", 0);
    crew_init(&c);
    crew_hold_slots(&c, &b, R_SLOTS);
    if (!b.fast) {
        /* Version 1 has no slots: the 33rd handle is like any other. */
        cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), 0);
        cr_assert_eq(sysvshm_unlock(b.h), 0);
        crew_end(&c);
        blk_end(&b);
        return;
    }
    cr_assert_eq(slots_up(&b), 0xffffffffu, "slots up: %#x", (unsigned)slots_up(&b));
    h2 = sysvshm_attach(b.name, 0);
    cr_assert_not_null(h2, "attach: %s", strerror(errno));

    /* A slotless writer: OVW up, slot 32 in the writer field. */
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), 0, "slotless writer: %s", strerror(errno));
    cr_assert_eq(semctl(b.semid, SVS_SEM_OVW, GETVAL), 1, "OVW while a slotless writer holds");
    cr_assert_eq(lk_ctl(&b) & SVS_LK_WMASK, (uint32_t)SVS_SLOTS + 1, "lk_ctl %#x",
                 (unsigned)lk_ctl(&b));
    TU_ASSERT_ERR(sysvshm_lock(h2, SYSVSHM_WRITE, 0), EBUSY);
    TU_ASSERT_ERR(sysvshm_lock(h2, SYSVSHM_READ, 0), EBUSY);
    TU_ASSERT_ERR(sysvshm_lock(h2, SYSVSHM_WRITE, 200), ETIMEDOUT);
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    cr_assert_eq(semctl(b.semid, SVS_SEM_OVW, GETVAL), 0, "OVW given back");
    cr_assert_eq(lk_ctl(&b) & SVS_LK_WMASK, 0u);

    /* Slotless readers share, counted in OVR; a writer waits for them. */
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_READ, 0), 0);
    cr_assert_eq(sysvshm_lock(h2, SYSVSHM_READ, 0), 0);
    cr_assert_eq(semctl(b.semid, SVS_SEM_OVR, GETVAL), 2, "OVR counts the slotless readers");
    cr_assert(lk_ctl(&b) & SVS_LK_OVR, "the OVR bit is set");
    cr_assert_eq(sysvshm_unlock(h2), 0);
    TU_ASSERT_ERR(sysvshm_lock(h2, SYSVSHM_WRITE, 0), EBUSY);
    TU_ASSERT_ERR(sysvshm_lock(h2, SYSVSHM_WRITE, 200), ETIMEDOUT);
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    cr_assert_eq(semctl(b.semid, SVS_SEM_OVR, GETVAL), 0);
    cr_assert_eq(sysvshm_lock(h2, SYSVSHM_WRITE, 0), 0, "writer after the readers left: %s",
                 strerror(errno));
    cr_assert_eq(lk_ctl(&b) & SVS_LK_OVR, 0u, "the writer cleared the OVR bit");
    cr_assert_eq(sysvshm_unlock(h2), 0);

    /* A handle given back: the next lock takes its slot. */
    crew_close(&c, 0);
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, BOUND_MS), 0, "after a handle closed: %s",
                 strerror(errno));
    cr_assert_eq(semctl(b.semid, SVS_SEM_OVW, GETVAL), 0, "a slot, not OVW");
    cr_assert(lk_ctl(&b) & SVS_LK_WMASK, "held");
    cr_assert_leq(lk_ctl(&b) & SVS_LK_WMASK, (uint32_t)SVS_SLOTS);
    cr_assert_eq(slots_up(&b), 0xffffffffu);
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    cr_assert_eq(sysvshm_close(h2), 0);
    for (i = 1; i < R_SLOTS; i++)
        crew_close(&c, i);
    crew_end(&c);
    lock_works(&b, 0);
}

/* Killed in the slotless path, every slot owned by a live handle (the
 * test's own and 31 lockers'): after taking OVW, before the writer field;
 * or counted in OVR, before the OVR bit.  The kernel undoes OVW or OVR, and
 * slotless lockers and slot owners alike lock as before. */
static void crash_slotless(const char *point, int how)
{
    struct blk b;
    struct crew c;
    struct locker l;
    sysvshm_t *h2;
    int i;

    NEED_FAULTS();
    blk_make(&b, "slotless", 1);
    crew_init(&c);
    crew_hold_slots(&c, &b, R_SLOTS - 1);
    cr_assert_eq(slots_up(&b), 0xffffffffu, "slots up: %#x", (unsigned)slots_up(&b));
    l = faulty(&b, point, how);
    expect_killed(&c, crew_add(&c, &l), l.fault);
    cr_assert_eq(semctl(b.semid, SVS_SEM_OVW, GETVAL), 0, "OVW undone");
    cr_assert_eq(semctl(b.semid, SVS_SEM_OVR, GETVAL), 0, "OVR undone");
    /* A slotless writer and reader, then a slot owner, each get the lock
     * (RECOVERED never: the dead one never held). */
    h2 = sysvshm_attach(b.name, 0);
    cr_assert_not_null(h2);
    cr_assert_eq(sysvshm_lock(h2, SYSVSHM_WRITE, BOUND_MS), 0, "slotless writer: %s",
                 strerror(errno));
    cr_assert_eq(sysvshm_unlock(h2), 0);
    cr_assert_eq(sysvshm_lock(h2, SYSVSHM_READ, 0), 0, "slotless reader: %s", strerror(errno));
    cr_assert_eq(sysvshm_unlock(h2), 0);
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, BOUND_MS), 0, "slot owner: %s",
                 strerror(errno));
    cr_assert_eq(lk_ctl(&b) & SVS_LK_OVR, 0u, "a writer holds with the OVR bit set");
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    cr_assert_eq(sysvshm_close(h2), 0);
    for (i = 0; i < R_SLOTS - 1; i++)
        crew_close(&c, i);
    crew_end(&c);
    lock_works(&b, 0);
}

Test(fastcrash, fault_slotless_writer_claimed) { crash_slotless("fast.ovf_writer_claimed", SYSVSHM_WRITE); }
Test(fastcrash, fault_slotless_reader_counted) { crash_slotless("fast.ovf_reader_counted", SYSVSHM_READ); }

/* A slotless writer killed holding the lock: the next locker (with a slot
 * or without) recovers it through OVW, and is told. */
Test(fastcrash, slotless_writer_killed_holding)
{
    struct blk b;
    struct crew c;
    sysvshm_t *h2;
    pid_t pid;
    int i, st, rc;

    blk_make(&b, "slotless-dies", 0);
    if (!b.fast) {
        blk_end(&b);
        cr_skip_test("the fast lock is not compiled in");
    }
    crew_init(&c);
    crew_hold_slots(&c, &b, R_SLOTS);
    pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        sysvshm_t *ch = sysvshm_attach(b.name, 0);

        if (ch == NULL || sysvshm_lock(ch, SYSVSHM_WRITE, BOUND_MS) != 0)
            _exit(3);
        kill(getpid(), SIGKILL);
        _exit(4);
    }
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %#x", (unsigned)st);
    cr_assert_eq(semctl(b.semid, SVS_SEM_OVW, GETVAL), 0, "the kernel gave OVW back");
    cr_assert_eq(lk_ctl(&b) & SVS_LK_WMASK, (uint32_t)SVS_SLOTS + 1, "left in the writer field");
    /* A slotless try recovers it. */
    h2 = sysvshm_attach(b.name, 0);
    cr_assert_not_null(h2);
    rc = sysvshm_lock(h2, SYSVSHM_WRITE, 0);
    cr_assert_eq(rc, SYSVSHM_RECOVERED, "slotless try after the death: %d (%s)", rc,
                 strerror(errno));
    cr_assert_eq(sysvshm_unlock(h2), 0);
    cr_assert_eq(sysvshm_close(h2), 0);
    for (i = 0; i < R_SLOTS; i++)
        crew_close(&c, i);
    crew_end(&c);
    lock_works(&b, 0);
}

/* The slots of 32 killed processes, each holding a reader lock, are taken
 * again by 32 new processes, which clear the dead readers' bits. */
Test(fastcrash, slots_of_the_dead_reused)
{
    struct blk b;
    struct crew c;
    struct locker l;
    int i;

    blk_make(&b, "reuse", 0);
    cr_assert_eq(sysvshm_close(b.h), 0);
    b.h = NULL;
    crew_init(&c);
    memset(&l, 0, sizeof l);
    l.name = b.name;
    l.how = SYSVSHM_READ;
    l.timeout = BOUND_MS;
    l.then = HOLD;
    for (i = 0; i < R_SLOTS; i++)
        crew_add(&c, &l);
    for (i = 0; i < R_SLOTS; i++) {
        struct rep r = crew_expect(&c, -1, P_LOCKED, BOUND_MS + 5000);

        cr_assert_eq(r.rc, 0, "reader %d: %d (%s)", r.idx, r.rc, strerror(r.err));
    }
    if (b.fast)
        cr_assert(slots_up(&b) == 0xffffffffu && lk_readers(&b) == 0xffffffffu,
                  "slots up %#x, readers %#x", (unsigned)slots_up(&b),
                  (unsigned)lk_readers(&b));
    for (i = 0; i < R_SLOTS; i++)
        crew_kill(&c, i);
    crew_end(&c);
    if (b.fast)
        cr_assert_eq(slots_up(&b), 0, "slots of the dead: %#x", (unsigned)slots_up(&b));
    cr_assert_eq(all_slots_lock(&b, SYSVSHM_WRITE), 0);
    if (b.fast)
        cr_assert(lk_ctl(&b) == 0 && lk_readers(&b) == 0, "lk_ctl %#x, lk_readers %#x",
                  (unsigned)lk_ctl(&b), (unsigned)lk_readers(&b));
    b.h = TU_MUST(sysvshm_attach(b.name, 0));
    lock_works(&b, 0);
}

/* The next owner of a dead holder's slot finds what it left as the slot's
 * owner (no waiter is there to clear it first): the test's own handles
 * take, in the order the library looks, every free slot before the dead
 * one's while the holder lives, so the next handle gets exactly that
 * slot. */
static void next_owner_of_dead_slot(int how_dead)
{
    struct blk b;
    struct crew c;
    struct rep r;
    sysvshm_t *fill[R_SLOTS], *n;
    int ih, k, s, nf = 0, rc, i;

    NEED_FAST();
    blk_make(&b, "nextowner", 0);
    crew_init(&c);
    r = lock_in_child(&c, b.name, how_dead, 0, HOLD, &ih);
    cr_assert_eq(r.rc, 0);
    k = only_slot(slots_up(&b));
    cr_assert_geq(k, 0, "the holder's slot: %#x", (unsigned)slots_up(&b));
    for (s = (int)(getpid() % R_SLOTS); s != k; s = (s + 1) % R_SLOTS) {
        fill[nf] = TU_MUST(sysvshm_attach(b.name, 0));
        errno = 0;
        rc = sysvshm_lock(fill[nf], SYSVSHM_READ, 0);
        cr_assert(rc == 0 || (how_dead == SYSVSHM_WRITE && rc == -1 && errno == EBUSY),
                  "a filler's try-lock: %d (%s)", rc, strerror(errno));
        if (rc == 0)
            cr_assert_eq(sysvshm_unlock(fill[nf]), 0);
        cr_assert(slots_up(&b) & ((uint32_t)1 << s), "the filler did not take slot %d", s);
        nf++;
    }
    crew_kill(&c, ih);
    crew_end(&c);
    n = TU_MUST(sysvshm_attach(b.name, 0));
    errno = 0;
    rc = sysvshm_lock(n, SYSVSHM_WRITE, BOUND_MS);
    cr_assert_eq(rc, how_dead == SYSVSHM_WRITE ? SYSVSHM_RECOVERED : 0,
                 "the next owner of the dead one's slot %d: %d (%s)", k, rc, strerror(errno));
    cr_assert_eq(lk_ctl(&b) & R_WMASK, (uint32_t)k + 1, "it locked as slot %u, not %d",
                 (unsigned)(lk_ctl(&b) & R_WMASK) - 1, k);
    cr_assert_eq(lk_readers(&b), 0);
    cr_assert_eq(sysvshm_unlock(n), 0);
    cr_assert_eq(sysvshm_close(n), 0);
    for (i = 0; i < nf; i++)
        cr_assert_eq(sysvshm_close(fill[i]), 0);
    cr_assert_eq(slots_up(&b), 0, "slots up: %#x", (unsigned)slots_up(&b));
    lock_works(&b, 0);
}

Test(fastcrash, next_owner_of_dead_writers_slot) { next_owner_of_dead_slot(SYSVSHM_WRITE); }
Test(fastcrash, next_owner_of_dead_readers_slot) { next_owner_of_dead_slot(SYSVSHM_READ); }

/* ---- 3. fork ------------------------------------------------------------------- */

struct forkjob {
    struct blk *b;
    int parent_slot;
    int close_it;   /* close the inherited handle (else exit with it open) */
    int try_first;  /* take a slot of its own (a try-lock) before closing */
};

/* In a child: lock with the inherited handle while the parent holds
 * nothing.  Exit codes name the check that failed. */
static int fork_lock_child(void *arg)
{
    struct forkjob *j = arg;
    struct blk *b = j->b;
    uint32_t up;

    if (sysvshm_lock(b->h, SYSVSHM_WRITE, BOUND_MS) != 0)
        return 2;
    if (b->fast) {
        if (slots_read(b, &up) != 0 || popcount32(up) != 2 ||
            !(up & ((uint32_t)1 << j->parent_slot)))
            return 3; /* a slot of its own, beside the parent's */
        if ((lk_ctl(b) & R_WMASK) == (uint32_t)j->parent_slot + 1)
            return 4; /* it locked in the parent's slot */
    }
    if (sysvshm_unlock(b->h) != 0)
        return 5;
    if (!j->close_it)
        return 0;
    if (sysvshm_close(b->h) != 0)
        return 6;
    if (b->fast && (slots_read(b, &up) != 0 || up != (uint32_t)1 << j->parent_slot))
        return 7; /* its own slot given back, the parent's kept */
    return 0;
}

static void fork_own_slot(int close_it)
{
    struct blk b;
    struct forkjob j;
    int st;

    blk_make(&b, "forkslot", 1);
    memset(&j, 0, sizeof j);
    j.b = &b;
    j.close_it = close_it;
    if (b.fast) {
        j.parent_slot = only_slot(slots_up(&b));
        cr_assert_geq(j.parent_slot, 0, "slots up: %#x", (unsigned)slots_up(&b));
    }
    st = tu_wait(tu_fork(fork_lock_child, &j), BOUND_MS + 5000);
    cr_assert_eq(st, 0, "child: %d (2 lock, 3 no slot of its own, 4 parent's slot, 5 unlock, "
                 "6 close, 7 gave back the wrong slot)", st);
    if (b.fast)
        cr_assert_eq(slots_up(&b), (uint32_t)1 << j.parent_slot, "after the child: %#x",
                     (unsigned)slots_up(&b));
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    cr_assert_eq(sysvshm_close(b.h), 0, "the parent's close");
    b.h = NULL;
    if (b.fast)
        cr_assert_eq(slots_up(&b), 0, "after the parent's close: %#x", (unsigned)slots_up(&b));
    cr_assert_eq(all_slots_lock(&b, SYSVSHM_WRITE), 0);
    blk_end(&b);
}

Test(fastcrash, fork_child_takes_own_slot_and_closes) { fork_own_slot(1); }
Test(fastcrash, fork_child_takes_own_slot_and_exits) { fork_own_slot(0); }

/* In a child, while the parent holds the writer lock: close the inherited
 * handle (perhaps after taking a slot of its own), then stay alive while the
 * parent checks that nobody else can take the lock: a presence given back
 * by mistake would only come back when the child exits (its SEM_UNDO). */
struct forkclose {
    struct forkjob j;
    int done_wr, cmd_rd;
};

static int fork_close_child(void *arg)
{
    struct forkclose *f = arg;
    struct blk *b = f->j.b;
    uint32_t up, parent = (uint32_t)1 << f->j.parent_slot;
    char c;

    if (f->j.try_first) {
        errno = 0;
        if (sysvshm_lock(b->h, SYSVSHM_READ, 0) != -1 || errno != EBUSY)
            return 2;
        if (b->fast && (slots_read(b, &up) != 0 || popcount32(up) != 2 || !(up & parent)))
            return 3;
    }
    if (sysvshm_close(b->h) != 0)
        return 4;
    if (b->fast && (slots_read(b, &up) != 0 || up != parent))
        return 5;
    if (tu_post(f->done_wr) != 0 || tu_read_all(f->cmd_rd, &c, 1, 25000) != 0)
        return 6;
    return 0;
}

static void fork_close_keeps_parent(int try_first)
{
    struct blk b;
    struct forkclose f;
    struct crew c;
    struct rep r;
    int st, ix, done[2], cmd[2];
    pid_t pid;

    blk_make(&b, "forkclose", 0);
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), 0);
    memset(&f, 0, sizeof f);
    f.j.b = &b;
    if (b.fast)
        f.j.parent_slot = only_slot(slots_up(&b));
    f.j.try_first = try_first;
    tu_pipe(done);
    tu_pipe(cmd);
    f.done_wr = done[1];
    f.cmd_rd = cmd[0];
    pid = tu_fork(fork_close_child, &f);
    if (tu_take(done[0], BOUND_MS) != 0) {
        st = tu_wait(pid, BOUND_MS);
        cr_assert_fail("child: %d (2 try-lock, 3 no slot of its own, 4 close, 5 the parent's "
                       "slot given back)", st);
    }
    if (b.fast)
        cr_assert_eq(slots_up(&b), (uint32_t)1 << f.j.parent_slot,
                     "after the child's close: %#x", (unsigned)slots_up(&b));
    /* A third process, which looks for dead holders as it waits, still
     * finds the parent holding. */
    crew_init(&c);
    r = lock_in_child(&c, b.name, SYSVSHM_WRITE, 300, HOLD, &ix);
    cr_assert(r.rc == -1 && r.err == ETIMEDOUT, "a third process took the writer lock "
              "while the parent holds it: %d (%s)", r.rc, strerror(r.err));
    crew_cmd(&c, ix, 'x');
    r = lock_in_child(&c, b.name, SYSVSHM_READ, 300, HOLD, &ix);
    cr_assert(r.rc == -1 && r.err == ETIMEDOUT, "a reader while the parent holds: %d (%s)",
              r.rc, strerror(r.err));
    crew_cmd(&c, ix, 'x');
    crew_end(&c);
    cr_assert_eq(tu_post(cmd[1]), 0);
    st = tu_wait(pid, BOUND_MS);
    cr_assert_eq(st, 0, "child: %d", st);
    close(done[0]);
    close(done[1]);
    close(cmd[0]);
    close(cmd[1]);
    cr_assert_eq(sysvshm_unlock(b.h), 0, "the parent's unlock: %s", strerror(errno));
    lock_works(&b, 0);
}

Test(fastcrash, fork_child_close_keeps_parent_lock) { fork_close_keeps_parent(0); }
Test(fastcrash, fork_child_with_own_slot_close_keeps_parent_lock) { fork_close_keeps_parent(1); }

/* ---- 4. unlink ---------------------------------------------------------------- */

enum { BY_UNLINK, BY_REMOVE, BY_DESTROY_ID };

struct unlinkjob {
    const char *name;
    int take_slot;
    int cmd_rd, done_wr;
};

/* A user of the block, in another process, whose lock fails once the block
 * is destroyed: 0, or the code of the check that failed. */
static int unlinked_user(void *arg)
{
    struct unlinkjob *j = arg;
    sysvshm_t *a = sysvshm_attach(j->name, 0);
    const volatile unsigned char *hdr;
    char c;

    if (a == NULL)
        return 2;
    if (j->take_slot && (sysvshm_lock(a, SYSVSHM_WRITE, 0) != 0 || sysvshm_unlock(a) != 0))
        return 3;
    if (tu_post(j->done_wr) != 0 || tu_read_all(j->cmd_rd, &c, 1, 25000) != 0)
        return 4;
    hdr = (const volatile unsigned char *)sysvshm_buf(a) - R_HDR;
    errno = 0;
    if (sysvshm_lock(a, SYSVSHM_WRITE, 0) != -1 || errno != EIDRM)
        return 5;
    errno = 0;
    if (sysvshm_lock(a, SYSVSHM_READ, -1) != -1 || errno != EIDRM)
        return 6;
    errno = 0;
    if (sysvshm_lock(a, SYSVSHM_WRITE, 1000) != -1 || errno != EIDRM)
        return 7;
    if (*(const volatile uint32_t *)(hdr + R_OFF_STATE) != R_STATE_UNLINKING)
        return 8;
    if (sysvshm_close(a) != 0)
        return 9;
    return 0;
}

static void destroyed_then_lock(int how)
{
    struct blk b;
    struct unlinkjob j[2];
    int cmd[2], done[2], i, st;
    pid_t pid[2];
    int shmid, semid;
    key_t key;

    blk_make(&b, "unlinked", 1);
    tu_pipe(cmd);
    tu_pipe(done);
    for (i = 0; i < 2; i++) {
        j[i].name = b.name;
        j[i].take_slot = i == 0; /* the second takes none before the removal */
        j[i].cmd_rd = cmd[0];
        j[i].done_wr = done[1];
        pid[i] = tu_fork(unlinked_user, &j[i]);
    }
    for (i = 0; i < 2; i++)
        cr_assert_eq(tu_take(done[0], BOUND_MS), 0, "a user is not ready");
    key = b.key;
    shmid = b.shmid;
    semid = b.semid;
    switch (how) {
    case BY_UNLINK:
        cr_assert_eq(sysvshm_unlink(b.h), 0, "unlink: %s", strerror(errno));
        cr_assert_eq(sysvshm_close(b.h), 0);
        break;
    case BY_REMOVE:
        cr_assert_eq(sysvshm_close(b.h), 0);
        cr_assert_eq(sysvshm_remove(b.name), 0, "remove: %s", strerror(errno));
        break;
    default:
        /* As the Python binding does once its handle is closed. */
        cr_assert_eq(sysvshm_close(b.h), 0);
        cr_assert_eq(svs_destroy_by_id(key, shmid, semid, 1), 0, "destroy: %s",
                     strerror(errno));
        break;
    }
    b.h = NULL;
    for (i = 0; i < 2; i++)
        cr_assert_eq(tu_post(cmd[1]), 0);
    for (i = 0; i < 2; i++) {
        st = tu_wait(pid[i], BOUND_MS + 5000);
        cr_assert_eq(st, 0, "user %d (slot taken: %d): %d (2 attach, 3 lock, 4 pipe, "
                     "5 try-lock, 6 read lock, 7 timed lock: not EIDRM; 8 state; 9 close)",
                     i, j[i].take_slot, st);
    }
    close(cmd[0]);
    close(cmd[1]);
    close(done[0]);
    close(done[1]);
    shmdt((const void *)b.hdr);
    cr_assert(tu_name_keys_free(b.name), "left behind:%s", r_describe(b.name));
}

Test(fastcrash, unlink_then_lock_elsewhere) { destroyed_then_lock(BY_UNLINK); }
Test(fastcrash, remove_then_lock_elsewhere) { destroyed_then_lock(BY_REMOVE); }
Test(fastcrash, destroy_by_id_then_lock_elsewhere) { destroyed_then_lock(BY_DESTROY_ID); }

/* A locker sleeping when the block is unlinked wakes with EIDRM. */
Test(fastcrash, unlink_wakes_sleeper)
{
    struct blk b;
    struct crew c;
    struct locker l;
    struct rep r;
    long long t0;
    int iw, rc;

    blk_make(&b, "unlinksleeper", 1);
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), 0);
    crew_init(&c);
    memset(&l, 0, sizeof l);
    l.name = b.name;
    l.how = SYSVSHM_WRITE;
    l.timeout = -1;
    l.then = HOLD;
    iw = crew_add(&c, &l);
    wait_waiters(&b, 1);
    t0 = tu_now_ms();
    cr_assert_eq(sysvshm_unlink(b.h), 0);
    r = crew_expect(&c, iw, P_LOCKED, BOUND_MS);
    cr_assert(r.rc == -1 && r.err == EIDRM, "the sleeper: %d (%s)", r.rc, strerror(r.err));
    cr_assert_lt(tu_now_ms() - t0, WAKE_BOUND_MS);
    errno = 0;
    rc = sysvshm_unlock(b.h);
    cr_assert(rc == 0 || errno == EIDRM, "unlock after the unlink: %d (%s)", rc,
              strerror(errno));
    crew_close(&c, iw);
    crew_end(&c);
    cr_assert_eq(sysvshm_close(b.h), 0);
    shmdt((const void *)b.hdr);
    cr_assert(tu_name_keys_free(b.name), "left behind:%s", r_describe(b.name));
}

/* ---- 5. the format: version 1 and 2 as the kernel sees them ---------------------- */

/* Without the flag: version 1, three semaphores, the lock in semaphore 0. */
Test(fastcrash, plain_block_is_version_1)
{
    const char *n = r_name("v1");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, SZ, 0, 0600));
    unsigned char hdr[R_HDR];
    int semid = semget(sysvshm_key(h), 0, 0);
    int shmid = shmget(sysvshm_key(h), 0, 0);

    cr_assert(semid >= 0 && shmid >= 0);
    cr_assert_eq(tu_shm_peek(shmid, hdr, R_HDR), 0);
    cr_assert_eq(r_get32(hdr, R_OFF_VERSION), 1);
    cr_assert_eq(r_get32(hdr, R_OFF_FLAGS), 1);
    cr_assert_eq(nsems(semid), 3);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(semctl(semid, 0, GETVAL), 1, "the writer's semaphore");
    cr_assert_eq(tu_shm_peek(shmid, hdr, R_HDR), 0);
    cr_assert_eq((pid_t)r_get32(hdr, R_OFF_WRITER), getpid());
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(semctl(semid, 0, GETVAL), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    cr_assert_eq(semctl(semid, 1, GETVAL), 1, "the readers' semaphore");
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
    cr_assert(tu_name_keys_free(n));
}

static int hold_slot_child(void *arg)
{
    struct unlinkjob *j = arg;
    sysvshm_t *a = sysvshm_attach(j->name, 0);
    char c;

    if (a == NULL || sysvshm_lock(a, SYSVSHM_READ, 0) != 0)
        return 2;
    (void)tu_post(j->done_wr);
    (void)tu_read_all(j->cmd_rd, &c, 1, 25000);
    return 0;
}

/* With the flag: version 2, 35 semaphores, slot k's presence up while the
 * handle owning it is open, no semaphore touched by an uncontended lock.
 * Without fast lock support: a version 1 block. */
Test(fastcrash, fastlock_block_format)
{
    struct blk b;
    struct unlinkjob j;
    uint32_t up;
    int k, k2, p[2], q[2];
    pid_t pid;

    blk_make(&b, "v2", 0);
    if (!b.fast) {
        cr_assert_eq(hdr32(&b, R_OFF_VERSION), 1);
        cr_assert_eq(hdr32(&b, R_OFF_FLAGS), 1);
        cr_assert_eq(nsems(b.semid), 3);
        cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), 0);
        cr_assert_eq(semctl(b.semid, 0, GETVAL), 1, "the writer's semaphore");
        cr_assert_eq(sysvshm_unlock(b.h), 0);
        cr_assert_eq(semctl(b.semid, 0, GETVAL), 0);
        blk_end(&b);
        return;
    }
    cr_assert_eq(hdr32(&b, R_OFF_VERSION), 2);
    cr_assert_eq(hdr32(&b, R_OFF_FLAGS), R_FLAGS_FAST);
    cr_assert_eq(nsems(b.semid), R_NSEMS_FAST);
    cr_assert_eq(slots_up(&b), 0, "a slot before any lock");
    cr_assert(lk_ctl(&b) == 0 && lk_readers(&b) == 0);
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, 0), 0);
    k = only_slot(slots_up(&b));
    cr_assert_geq(k, 0, "slots up while writing: %#x", (unsigned)slots_up(&b));
    cr_assert_eq(lk_ctl(&b), (uint32_t)k + 1, "lk_ctl %#x, slot %d", (unsigned)lk_ctl(&b), k);
    cr_assert_eq((pid_t)hdr32(&b, R_OFF_WRITER), getpid());
    cr_assert(semctl(b.semid, 0, GETVAL) == 0 && semctl(b.semid, 1, GETVAL) == 0 &&
              semctl(b.semid, 2, GETVAL) == 0, "a semaphore of version 1 moved");
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    cr_assert(lk_ctl(&b) == 0 && hdr32(&b, R_OFF_WRITER) == 0);
    cr_assert_eq(slots_up(&b), (uint32_t)1 << k, "the slot is kept until close");
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_READ, 0), 0);
    cr_assert_eq(lk_readers(&b), (uint32_t)1 << k);
    cr_assert_eq(semctl(b.semid, 1, GETVAL), 0);
    /* Another process's handle: a slot of its own, given back by the kernel
     * when the process dies holding its reader lock. */
    tu_pipe(p);
    tu_pipe(q);
    j.name = b.name;
    j.take_slot = 1;
    j.cmd_rd = q[0];
    j.done_wr = p[1];
    pid = tu_fork(hold_slot_child, &j);
    cr_assert_eq(tu_take(p[0], BOUND_MS), 0, "the other reader");
    up = slots_up(&b);
    cr_assert_eq(popcount32(up), 2, "slots up: %#x", (unsigned)up);
    k2 = only_slot(up & ~((uint32_t)1 << k));
    cr_assert_eq(lk_readers(&b), up, "lk_readers %#x", (unsigned)lk_readers(&b));
    tu_kill(pid);
    cr_assert_eq(slots_up(&b), (uint32_t)1 << k, "the dead one's slot %d stays up", k2);
    cr_assert_eq(lk_readers(&b), up, "a dead reader's bit stays until cleared");
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    cr_assert_eq(sysvshm_lock(b.h, SYSVSHM_WRITE, BOUND_MS), 0, "a writer after a dead "
                 "reader: %s", strerror(errno));
    cr_assert_eq(lk_readers(&b), 0, "lk_readers %#x", (unsigned)lk_readers(&b));
    cr_assert_eq(sysvshm_unlock(b.h), 0);
    cr_assert_eq(sysvshm_close(b.h), 0);
    b.h = NULL;
    cr_assert_eq(slots_up(&b), 0, "the slot after close");
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
    blk_end(&b);
}

/* A version 2 block made by hand from the documented layout: this build
 * locks it if it has the fast lock, else attaches it, reads and writes it,
 * and refuses to lock it (ENOTSUP), never locking it the version 1 way. */
Test(fastcrash, forged_version_2_block)
{
    const char *n = r_name("forged2");
    key_t key = tu_name_key(n);
    unsigned char h[R_HDR];
    unsigned short vals[R_NSEMS_FAST];
    sysvshm_t *a;
    int semid, shmid;

    semid = semget(key, R_NSEMS_FAST, IPC_CREAT | IPC_EXCL | 0700);
    cr_assert(semid >= 0, "semget: %s", strerror(errno));
    tu_register_sem(semid, key);
    r_hdr_build(h, n, SZ, R_STATE_READY, 0, R_FLAGS_FAST, semid);
    r_put32(h, R_OFF_VERSION, R_VERSION_FAST);
    shmid = r_raw_segment(key, R_HDR + SZ, h, sizeof h, 0600);
    a = TU_MUST(sysvshm_attach(n, 0));
    memcpy(sysvshm_buf(a), "data", 5);
    cr_assert_eq(memcmp(sysvshm_buf(a), "data", 5), 0);
    if (svs_fast_available()) {
        cr_assert_eq(sysvshm_lock(a, SYSVSHM_WRITE, 0), 0, "lock: %s", strerror(errno));
        cr_assert_eq(tu_shm_peek(shmid, h, R_HDR), 0);
        cr_assert_neq(r_get32(h, R_OFF_LK_CTL) & R_WMASK, 0);
        cr_assert_eq(sysvshm_unlock(a), 0);
    } else {
        TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_WRITE, 0), ENOTSUP);
        TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_READ, 1000), ENOTSUP);
        TU_ASSERT_ERR(sysvshm_unlock(a), EPERM);
    }
    cr_assert_eq(r_sem_values(semid, vals, R_NSEMS_FAST), R_NSEMS_FAST);
    cr_assert(vals[0] == 0 && vals[1] == 0 && vals[2] == 0, "a version 1 semaphore moved");
    cr_assert_eq(sysvshm_close(a), 0);
    cr_assert_eq(sysvshm_remove(n), 0, "remove: %s", strerror(errno));
    cr_assert(tu_name_keys_free(n), "left behind:%s", r_describe(n));
}
