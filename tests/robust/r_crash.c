/*
 * r_crash.c - a process killed (SIGKILL) at each step of create and of
 * unlink never wedges the name, never shows a half-made block, and leaves
 * nothing behind once the name is reclaimed and removed.  Also: a creator
 * that is alive but slow is waited for, a bounded time, and never reclaimed.
 *
 * Needs ./configure --enable-fault-injection: the library kills itself at
 * svs_fault(point) when SYSVSHM_FAULT=point.
 */
#include "rutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(crash, .fini = r_cleanup, .timeout = TU_TIMEOUT);

#define SZ 4096

struct job {
    const char *name;
    const char *point;
    int flags;
    int rfd, wfd;
};

/* ---- crash while creating ------------------------------------------------- */

static int child_create_and_die(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h;

    setenv("SYSVSHM_FAULT", j->point, 1);
    h = sysvshm_create(j->name, SZ, j->flags, 0600);
    /* Reaching here means the point was not on the path: say so. */
    if (h != NULL) {
        sysvshm_unlink(h);
        sysvshm_close(h);
    }
    return 99;
}

static void crash_in_create(const char *point, int flags, int attach_first)
{
    struct job j;
    const char *n = r_name(point);
    sysvshm_t *h;
    unsigned char *p;
    size_t i;
    int st;

    j.name = n;
    j.point = point;
    j.flags = flags;
    st = tu_wait(tu_fork(child_create_and_die, &j), 10000);
    cr_assert_eq(st, 1000 + SIGKILL,
                 "creator with SYSVSHM_FAULT=%s should die of SIGKILL, status %d "
                 "(99: point not reached; is fault injection compiled in?)", point, st);

    if (attach_first) {
        /* A half-made block is never returned, and looking at it must not
         * stop the next creator from reclaiming it. */
        TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
        TU_ASSERT_NULL_ERR(sysvshm_attach(n, SYSVSHM_RDONLY), ENOENT);
        TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
    }

    h = sysvshm_create(n, SZ, flags, 0600);
    cr_assert_not_null(h, "create after a crash at %s: %s; at the keys:%s", point,
                       strerror(errno), r_describe(n));
    p = sysvshm_buf(h);
    for (i = 0; i < SZ; i++)
        cr_assert_eq(p[i], 0, "new block not zero-filled at %zu", i);
    if (!(flags & SYSVSHM_NOLOCK)) {
        cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 1000), 0, "lock of the new block");
        cr_assert_eq(sysvshm_unlock(h), 0);
    }
    /* The dead creator's leftovers were reclaimed, not stepped around. */
    cr_assert_eq(r_count_shm(n), 1, "crash at %s: segments left beside the new block:%s",
                 point, r_describe(n));
    cr_assert_eq(r_count_sem(n), (flags & SYSVSHM_NOLOCK) ? 0 : 1,
                 "crash at %s: semaphore sets left beside the new block:%s", point,
                 r_describe(n));
    memcpy(p, "alive", 5);
    {
        sysvshm_t *a = TU_MUST(sysvshm_attach(n, 0));
        cr_assert_eq(memcmp(sysvshm_buf(a), "alive", 5), 0);
        sysvshm_close(a);
    }
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
    cr_assert(tu_name_keys_free(n), "crash at %s: left behind after removal:%s", point,
              r_describe(n));
}

#define CREATE_POINT(id, point)                                                  \
    Test(crash, create_##id##_then_create) { crash_in_create(point, 0, 0); }     \
    Test(crash, create_##id##_then_attach_then_create) { crash_in_create(point, 0, 1); }

CREATE_POINT(after_shmget, "create.after_shmget")
CREATE_POINT(after_shmat, "create.after_shmat")
CREATE_POINT(header_half, "create.header_half")
CREATE_POINT(after_header, "create.after_header")
CREATE_POINT(before_sem, "create.before_sem")
CREATE_POINT(set_made, "create.set_made")
CREATE_POINT(after_semget, "create.after_semget")
CREATE_POINT(before_ready, "create.before_ready")

Test(crash, create_nolock_after_header) { crash_in_create("create.after_header", SYSVSHM_NOLOCK, 1); }
Test(crash, create_nolock_before_ready) { crash_in_create("create.before_ready", SYSVSHM_NOLOCK, 1); }

/* ---- crash while removing -------------------------------------------------- */

static int child_remove_and_die(void *arg)
{
    struct job *j = arg;

    setenv("SYSVSHM_FAULT", j->point, 1);
    if (j->flags) {
        sysvshm_t *h = sysvshm_attach(j->name, 0);
        if (h == NULL)
            return 98;
        sysvshm_unlink(h);
    } else {
        sysvshm_remove(j->name);
    }
    return 99;
}

static void crash_in_unlink(const char *point, int by_handle, int keep_attached)
{
    struct job j;
    const char *n = r_name(point);
    sysvshm_t *old = TU_MUST(sysvshm_create(n, SZ, 0, 0600));
    sysvshm_t *h;
    int st;

    memcpy(sysvshm_buf(old), "old", 3);
    if (!keep_attached) {
        sysvshm_close(old);
        old = NULL;
    }
    j.name = n;
    j.point = point;
    j.flags = by_handle;
    st = tu_wait(tu_fork(child_remove_and_die, &j), 10000);
    cr_assert_eq(st, 1000 + SIGKILL, "remover with SYSVSHM_FAULT=%s: status %d", point, st);

    /* Half-removed: never attached again, and it does not count as there. */
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, SYSVSHM_RDONLY), ENOENT);
    TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
    if (old != NULL) {
        /* The old handle's memory stays usable until it is closed. */
        cr_assert_eq(memcmp(sysvshm_buf(old), "old", 3), 0);
    }

    /* The next creator finishes the removal -- unless the old block is still
     * in use: then it is left alone, and the new block goes beside it. */
    h = sysvshm_create(n, SZ, 0, 0600);
    cr_assert_not_null(h, "create after a crash at %s: %s; at the keys:%s", point,
                       strerror(errno), r_describe(n));
    cr_assert_eq(((unsigned char *)sysvshm_buf(h))[0], 0, "new block shows old data");
    if (old != NULL) {
        cr_assert_neq(sysvshm_key(h), tu_name_key(n), "a block in use was reclaimed");
        cr_assert_eq(r_count_shm(n), 2, "crash at %s: segments:%s", point, r_describe(n));
        cr_assert_eq(memcmp(sysvshm_buf(old), "old", 3), 0, "the old block lost its data");
    } else {
        cr_assert_eq(r_count_shm(n), 1, "crash at %s: segments left:%s", point, r_describe(n));
        cr_assert_eq(r_count_sem(n), 1, "crash at %s: semaphore sets left:%s", point,
                     r_describe(n));
    }
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 1000), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    if (old != NULL) {
        /* The old handle's block is gone: unlinking it must not touch the
         * new one. */
        TU_ASSERT_ERR(sysvshm_unlink(old), ENOENT);
        sysvshm_close(old);
    }
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
    if (keep_attached) {
        /* Its last user gone, the half-removed block is reclaimed by the
         * next create of the name, which then lands at the first key. */
        h = sysvshm_create(n, SZ, 0, 0600);
        cr_assert_not_null(h, "create: %s;%s", strerror(errno), r_describe(n));
        cr_assert_eq(sysvshm_key(h), tu_name_key(n), "not reclaimed:%s", r_describe(n));
        cr_assert_eq(r_count_shm(n), 1, "%s", r_describe(n));
        cr_assert_eq(sysvshm_unlink(h), 0);
        cr_assert_eq(sysvshm_close(h), 0);
    }
    cr_assert(tu_name_keys_free(n), "crash at %s: left behind:%s", point, r_describe(n));
}

Test(crash, remove_after_mark) { crash_in_unlink("unlink.after_mark", 0, 0); }
Test(crash, remove_after_sem) { crash_in_unlink("unlink.after_sem", 0, 0); }
Test(crash, unlink_after_mark) { crash_in_unlink("unlink.after_mark", 1, 0); }
Test(crash, unlink_after_sem) { crash_in_unlink("unlink.after_sem", 1, 0); }
Test(crash, unlink_after_mark_while_attached) { crash_in_unlink("unlink.after_mark", 1, 1); }
Test(crash, unlink_after_sem_while_attached) { crash_in_unlink("unlink.after_sem", 1, 1); }

/* A crash half-way through a remove leaves the name free at once for
 * attach; the half-removed block does not live at the name's first key
 * only: put the block at key 1 (key 0 held by a foreign segment). */
Test(crash, remove_after_mark_at_second_key)
{
    struct job j;
    const char *n = r_name("k1");
    key_t k0 = tu_name_key(n);
    unsigned char junk[64];
    sysvshm_t *h;
    int st, fid;

    memset(junk, 0x5a, sizeof junk);
    fid = r_raw_segment(k0, sizeof junk, junk, sizeof junk, 0600);
    h = TU_MUST(sysvshm_create(n, SZ, 0, 0600));
    cr_assert_eq(sysvshm_key(h), tu_probe(k0, 1));
    sysvshm_close(h);
    j.name = n;
    j.point = "unlink.after_mark";
    j.flags = 0;
    st = tu_wait(tu_fork(child_remove_and_die, &j), 10000);
    cr_assert_eq(st, 1000 + SIGKILL);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    h = sysvshm_create(n, SZ, 0, 0600);
    cr_assert_not_null(h, "create: %s;%s", strerror(errno), r_describe(n));
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
    cr_assert_eq(shmget(k0, 0, 0), fid, "the foreign segment must stay");
    cr_assert_eq(r_count_shm(n), 1, "left behind besides the foreign segment:%s",
                 r_describe(n));
    cr_assert_eq(r_count_sem(n), 0, "left behind:%s", r_describe(n));
}

/* ---- a creator that is alive but slow --------------------------------------- */

/* Plays a creator that has written its INIT header and then stalls: it
 * makes the segment at the name's first key, posts, and stays attached
 * until told to finish (with a real semaphore set and state READY) or is
 * killed. */
static int child_slow_creator(void *arg)
{
    struct job *j = arg;
    key_t k = tu_name_key(j->name);
    unsigned char hdr[R_HDR];
    unsigned char *p;
    unsigned short zero[3] = { 0, 0, 0 };
    union {
        int val;
        struct semid_ds *buf;
        unsigned short *array;
    } arg2;
    int id, sid;

    /* docs/format.md: made with the creator's mark 0711 for its mode. */
    id = shmget(k, R_HDR + SZ, IPC_CREAT | IPC_EXCL | 0711);
    TU_CHECK(id >= 0, 2);
    p = shmat(id, NULL, 0);
    TU_CHECK(p != (void *)-1, 3);
    r_hdr_build(hdr, j->name, SZ, R_STATE_INIT, 0, 1, -1);
    memcpy(p + 8, hdr + 8, R_HDR - 8); /* the magic last, as a creator does */
    memcpy(p, hdr, 8);
    TU_CHECK(tu_post(j->wfd) == 0, 4);
    if (tu_take(j->rfd, 20000) != 0)
        return 5;
    /* Told to finish: the set, its values, then READY. */
    sid = semget(k, 3, IPC_CREAT | IPC_EXCL | 0600 | 0100); /* the set's mark */
    TU_CHECK(sid >= 0, 6);
    arg2.array = zero;
    TU_CHECK(semctl(sid, 0, SETALL, arg2) == 0, 7);
    r_put32(p, R_OFF_SEMID, (uint32_t)sid);
    memcpy(p + R_HDR, "finished", 8);
#if defined(__GNUC__)
    __sync_synchronize(); /* the set's id before READY, as a creator does */
#endif
    r_put32(p, R_OFF_STATE, R_STATE_READY);
    {
        struct shmid_ds ds;

        /* Then the caller's mode replaces the creator's mark. */
        TU_CHECK(shmctl(id, IPC_STAT, &ds) == 0, 8);
        ds.shm_perm.mode = 0600;
        TU_CHECK(shmctl(id, IPC_SET, &ds) == 0, 9);
    }
    shmdt(p);
    return 0;
}

struct timed {
    const char *name;
    int op; /* 0 create, 1 attach, 2 remove */
    int wfd;
};

struct outcome {
    int ok;
    int err;
    long ms;
};

static int child_timed_op(void *arg)
{
    struct timed *t = arg;
    struct outcome o;
    long long t0 = tu_now_ms();
    sysvshm_t *h = NULL;

    errno = 0;
    if (t->op == 0)
        h = sysvshm_create(t->name, SZ, 0, 0600);
    else if (t->op == 1)
        h = sysvshm_attach(t->name, 0);
    o.err = errno;
    if (t->op == 2) {
        o.ok = sysvshm_remove(t->name) == 0;
        o.err = errno;
    } else {
        o.ok = h != NULL;
    }
    o.ms = (long)(tu_now_ms() - t0);
    if (h != NULL) {
        if (t->op == 1 && memcmp((char *)sysvshm_buf(h), "finished", 8) != 0)
            o.ok = 2; /* attached something that is not the finished block */
        sysvshm_close(h);
    }
    tu_write_all(t->wfd, &o, sizeof o);
    return 0;
}

static pid_t start_timed(const char *name, int op, int fd[2])
{
    struct timed t;

    tu_pipe(fd);
    t.name = name;
    t.op = op;
    t.wfd = fd[1];
    return tu_fork(child_timed_op, &t);
}

static struct outcome finish_timed(pid_t pid, int fd[2])
{
    struct outcome o;

    cr_assert_eq(tu_read_all(fd[0], &o, sizeof o, 15000), 0, "timed child said nothing");
    cr_assert_eq(tu_wait(pid, 5000), 0);
    close(fd[0]);
    close(fd[1]);
    return o;
}

Test(crash, slow_live_creator_is_waited_for_and_never_reclaimed)
{
    const char *n = r_name("slow");
    key_t k0 = tu_name_key(n);
    int to_kid[2], from_kid[2];
    int fc[2], fa[2], fr[2];
    struct job j;
    pid_t kid, pc, pa, pr;
    struct outcome oc, oa, orm;
    unsigned char *snap;
    size_t len;
    int id;

    tu_pipe(to_kid);
    tu_pipe(from_kid);
    j.name = n;
    j.rfd = to_kid[0];
    j.wfd = from_kid[1];
    kid = tu_fork(child_slow_creator, &j);
    cr_assert_eq(tu_take(from_kid[0], 10000), 0, "slow creator did not start");
    id = shmget(k0, 0, 0);
    cr_assert(id >= 0);
    snap = r_snapshot(id, &len);
    cr_assert_not_null(snap);

    /* Three at once, so the test waits the bound once, not three times. */
    pc = start_timed(n, 0, fc);
    pa = start_timed(n, 1, fa);
    pr = start_timed(n, 2, fr);
    oc = finish_timed(pc, fc);
    oa = finish_timed(pa, fa);
    orm = finish_timed(pr, fr);

    cr_assert(!oc.ok && oc.err == EEXIST, "create beside a live INIT block: ok %d errno %s",
              oc.ok, strerror(oc.err));
    cr_assert(!oa.ok && oa.err == EAGAIN, "attach of a live INIT block: ok %d errno %s",
              oa.ok, strerror(oa.err));
    cr_assert(!orm.ok, "remove of a block still being made must fail (errno %s)",
              strerror(orm.err));
    /* Bounded and documented: SVS_INIT_WAIT_MS (3 s), with slack for load. */
    cr_assert(oc.ms >= 2000 && oc.ms <= 10000, "create waited %ld ms", oc.ms);
    cr_assert(oa.ms >= 2000 && oa.ms <= 10000, "attach waited %ld ms", oa.ms);
    cr_assert(r_unchanged(k0, id, snap, len), "the live creator's block was touched");
    cr_assert_eq(r_count_shm(n), 1, "losers left segments behind:%s", r_describe(n));
    cr_assert_eq(r_count_sem(n), 0, "losers left semaphore sets behind:%s", r_describe(n));

    /* Now it finishes while an attacher waits: the attacher gets it. */
    pa = start_timed(n, 1, fa);
    tu_sleep_ms(300);
    cr_assert_eq(tu_post(to_kid[1]), 0);
    oa = finish_timed(pa, fa);
    cr_assert_eq(tu_wait(kid, 5000), 0, "slow creator failed to finish");
    cr_assert(oa.ok == 1, "attach waiting for a slow creator: ok %d errno %s", oa.ok,
              strerror(oa.err));
    cr_assert(oa.ms < 2500, "attach took %ld ms after the creator finished", oa.ms);
    pc = start_timed(n, 0, fc);
    oc = finish_timed(pc, fc);
    cr_assert(!oc.ok && oc.err == EEXIST);
    cr_assert_eq(sysvshm_remove(n), 0);
    cr_assert(tu_name_keys_free(n), "left:%s", r_describe(n));
    free(snap);
}

Test(crash, dead_slow_creator_is_reclaimed)
{
    const char *n = r_name("slowdead");
    int to_kid[2], from_kid[2];
    struct job j;
    pid_t kid;
    sysvshm_t *h;

    tu_pipe(to_kid);
    tu_pipe(from_kid);
    j.name = n;
    j.rfd = to_kid[0];
    j.wfd = from_kid[1];
    kid = tu_fork(child_slow_creator, &j);
    cr_assert_eq(tu_take(from_kid[0], 10000), 0);
    tu_kill(kid);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    h = sysvshm_create(n, SZ, 0, 0600);
    cr_assert_not_null(h, "create: %s;%s", strerror(errno), r_describe(n));
    cr_assert_eq(sysvshm_key(h), tu_name_key(n), "the dead creator's block was not reclaimed");
    cr_assert_eq(r_count_shm(n), 1, "%s", r_describe(n));
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
    cr_assert(tu_name_keys_free(n), "left:%s", r_describe(n));
}

/* A half-made block of a dead creator that some other process still has
 * attached is not reclaimed (it may be in use): a create either reports the
 * name as taken or goes beside it, and leaves it untouched. */
static int child_hold(void *arg)
{
    struct job *j = arg;
    void *p = shmat(j->flags, NULL, SHM_RDONLY);

    TU_CHECK(p != (void *)-1, 2);
    TU_CHECK(tu_post(j->wfd) == 0, 3);
    (void)tu_take(j->rfd, 20000);
    shmdt(p);
    return 0;
}

Test(crash, half_made_block_still_attached_is_not_reclaimed)
{
    const char *n = r_name("held");
    key_t k0 = tu_name_key(n);
    int to_kid[2], from_kid[2];
    struct job j, hj;
    pid_t kid, holder;
    sysvshm_t *h;
    unsigned char *snap;
    size_t len;
    int id;

    tu_pipe(to_kid);
    tu_pipe(from_kid);
    j.name = n;
    j.rfd = to_kid[0];
    j.wfd = from_kid[1];
    kid = tu_fork(child_slow_creator, &j);
    cr_assert_eq(tu_take(from_kid[0], 10000), 0);
    id = shmget(k0, 0, 0);
    cr_assert(id >= 0);
    hj.flags = id;
    hj.rfd = to_kid[0];
    hj.wfd = from_kid[1];
    holder = tu_fork(child_hold, &hj);
    cr_assert_eq(tu_take(from_kid[0], 10000), 0);
    tu_kill(kid);
    snap = r_snapshot(id, &len);
    errno = 0;
    h = sysvshm_create(n, SZ, 0, 0600);
    cr_assert(h != NULL || errno == EEXIST, "create: %s;%s", strerror(errno), r_describe(n));
    cr_assert(r_unchanged(k0, id, snap, len), "the attached half-made block was touched");
    if (h != NULL) {
        cr_assert_neq(sysvshm_key(h), k0, "a block someone has attached was reclaimed");
        cr_assert_eq(sysvshm_unlink(h), 0);
        sysvshm_close(h);
    }
    tu_post(to_kid[1]);
    cr_assert_eq(tu_wait(holder, 5000), 0);
    free(snap);
}
