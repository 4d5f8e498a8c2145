/*
 * t_concurrent.c - many processes at once: creators racing for one name,
 * attachers racing a creator, removers racing each other, and counters and
 * invariants kept under the lock.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

TestSuite(concurrent, .fini = tu_cleanup, .timeout = TU_TIMEOUT);

#define NPROC 8

struct race {
    const char *name;
    size_t size;
    int gate; /* read end: EOF is the starting shot */
    int gate_w; /* write end, closed by each child */
};

/* Block until the parent closes the gate, so that every child starts its
 * call at the same moment. */
static void wait_gate(const struct race *r)
{
    char c;

    close(r->gate_w);
    while (read(r->gate, &c, 1) < 0 && errno == EINTR)
        ;
}

enum { WON = 0, LOST = 10 };

static int child_create_race(void *arg)
{
    const struct race *r = arg;
    sysvshm_t *h;
    int e, lr;

    wait_gate(r);
    errno = 0;
    h = sysvshm_create(r->name, r->size, 0, 0600);
    e = errno;
    if (h != NULL) {
        TU_CHECK(sysvshm_size(h) == r->size, 1);
        lr = sysvshm_lock(h, SYSVSHM_WRITE, 10000);
        TU_CHECK(lr == 0, 2);
        TU_CHECK(sysvshm_unlock(h) == 0, 3);
        TU_CHECK(sysvshm_close(h) == 0, 4);
        return WON;
    }
    TU_CHECK(e == EEXIST, 5);
    /* The winner's header must be complete by the time anyone can see it. */
    h = sysvshm_attach(r->name, 0);
    TU_CHECK(h != NULL, 6);
    TU_CHECK(sysvshm_size(h) == r->size, 7);
    TU_CHECK(strcmp(sysvshm_name(h), r->name) == 0, 8);
    /* ...and so must its semaphore set: a set still at its indeterminate
     * start values, or reset under us, shows here. */
    lr = sysvshm_lock(h, SYSVSHM_WRITE, 10000);
    TU_CHECK(lr == 0, 9);
    TU_CHECK(sysvshm_unlock(h) == 0, 19);
    TU_CHECK(sysvshm_close(h) == 0, 20);
    return LOST;
}

static void open_gate(int gate[2])
{
    tu_pipe(gate);
}

Test(concurrent, creators_of_one_name_exactly_one_wins)
{
    int round;

    for (round = 0; round < 6; round++) {
        const char *n = tu_name("race");
        key_t k = tu_name_key(n);
        struct race r;
        pid_t pids[NPROC];
        int gate[2], i, won = 0, lost = 0;
        sysvshm_t *h;

        open_gate(gate);
        r.name = n;
        r.size = 1000 + (size_t)round;
        r.gate = gate[0];
        r.gate_w = gate[1];
        for (i = 0; i < NPROC; i++)
            pids[i] = tu_fork(child_create_race, &r);
        tu_sleep_ms(20); /* let them reach the gate (not needed for correctness) */
        close(gate[1]);
        for (i = 0; i < NPROC; i++) {
            int st = tu_wait(pids[i], 30000);
            if (st == WON)
                won++;
            else if (st == LOST)
                lost++;
            else
                cr_assert_fail("round %d: creator %d failed check %d", round, i, st);
        }
        close(gate[0]);
        cr_assert_eq(won, 1, "round %d: %d creators succeeded", round, won);
        cr_assert_eq(lost, NPROC - 1);

        /* One block only: once it is removed nothing of the name is left. */
        h = TU_MUST(sysvshm_attach(n, 0));
        cr_assert_eq(sysvshm_size(h), r.size);
        sysvshm_close(h);
        cr_assert_eq(sysvshm_remove(n), 0);
        TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
        cr_assert(tu_name_keys_free(n), "round %d: a second block or a stray object at 0x%08lx+",
                  round, (unsigned long)k);
        TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
    }
}

static int child_attach_race(void *arg)
{
    const struct race *r = arg;
    long long end;
    sysvshm_t *h = NULL;

    wait_gate(r);
    end = tu_now_ms() + 10000;
    while (h == NULL && tu_now_ms() < end) {
        errno = 0;
        h = sysvshm_attach(r->name, 0);
        if (h == NULL)
            TU_CHECK(errno == ENOENT || errno == EAGAIN, 1);
    }
    TU_CHECK(h != NULL, 2);
    TU_CHECK(sysvshm_size(h) == r->size, 3);
    TU_CHECK(strcmp(sysvshm_name(h), r->name) == 0, 4);
    TU_CHECK(sysvshm_lock(h, SYSVSHM_READ, 10000) == 0, 5);
    TU_CHECK(sysvshm_unlock(h) == 0, 6);
    sysvshm_close(h);
    return 0;
}

static int child_create_once(void *arg)
{
    const struct race *r = arg;
    sysvshm_t *h;

    wait_gate(r);
    h = sysvshm_create(r->name, r->size, 0, 0600);
    TU_CHECK(h != NULL, 1);
    sysvshm_close(h);
    return 0;
}

Test(concurrent, attachers_never_see_a_half_made_block)
{
    int round;

    for (round = 0; round < 4; round++) {
        const char *n = tu_name("att");
        struct race r;
        pid_t pids[NPROC];
        int gate[2], i;

        open_gate(gate);
        r.name = n;
        r.size = 777 + (size_t)round;
        r.gate = gate[0];
        r.gate_w = gate[1];
        pids[0] = tu_fork(child_create_once, &r);
        for (i = 1; i < NPROC; i++)
            pids[i] = tu_fork(child_attach_race, &r);
        tu_sleep_ms(20);
        close(gate[1]);
        for (i = 0; i < NPROC; i++) {
            int st = tu_wait(pids[i], 30000);
            cr_assert_eq(st, 0, "round %d: %s %d failed check %d", round,
                         i == 0 ? "creator" : "attacher", i, st);
        }
        close(gate[0]);
        cr_assert_eq(sysvshm_remove(n), 0);
    }
}

static int child_remove_race(void *arg)
{
    const struct race *r = arg;

    wait_gate(r);
    errno = 0;
    if (sysvshm_remove(r->name) == 0)
        return WON;
    return errno == ENOENT ? LOST : 1;
}

Test(concurrent, removers_of_one_name_exactly_one_wins)
{
    int round;

    for (round = 0; round < 10; round++) {
        const char *n = tu_name("rm");
        struct race r;
        pid_t pids[NPROC];
        int gate[2], i, won = 0;
        sysvshm_t *h = TU_MUST(sysvshm_create(n, 64, 0, 0600));
        key_t k = sysvshm_key(h);

        sysvshm_close(h);
        open_gate(gate);
        r.name = n;
        r.size = 64;
        r.gate = gate[0];
        r.gate_w = gate[1];
        for (i = 0; i < NPROC; i++)
            pids[i] = tu_fork(child_remove_race, &r);
        tu_sleep_ms(20);
        close(gate[1]);
        for (i = 0; i < NPROC; i++) {
            int st = tu_wait(pids[i], 30000);
            cr_assert(st == WON || st == LOST, "round %d: remover %d: %d", round, i, st);
            won += st == WON;
        }
        close(gate[0]);
        cr_assert_eq(won, 1, "round %d: %d removers succeeded", round, won);
        cr_assert_not(tu_shm_exists(k));
        cr_assert_not(tu_sem_exists(k));
    }
}

struct unlinker {
    struct race r;
    int ready; /* write end: "attached" */
};

static int child_unlink_race(void *arg)
{
    const struct unlinker *u = arg;
    sysvshm_t *h = sysvshm_attach(u->r.name, 0);
    int rc, e;

    TU_CHECK(h != NULL, 1);
    TU_CHECK(tu_post(u->ready) == 0, 2);
    wait_gate(&u->r);
    errno = 0;
    rc = sysvshm_unlink(h);
    e = errno;
    sysvshm_close(h);
    if (rc == 0)
        return WON;
    return e == ENOENT ? LOST : 3;
}

Test(concurrent, unlinkers_of_one_block_exactly_one_wins)
{
    int round;

    for (round = 0; round < 10; round++) {
        const char *n = tu_name("ul");
        struct unlinker u;
        pid_t pids[NPROC];
        int gate[2], ready[2], i, won = 0;
        sysvshm_t *h = TU_MUST(sysvshm_create(n, 64, 0, 0600));
        key_t k = sysvshm_key(h);

        sysvshm_close(h);
        open_gate(gate);
        tu_pipe(ready);
        u.r.name = n;
        u.r.size = 64;
        u.r.gate = gate[0];
        u.r.gate_w = gate[1];
        u.ready = ready[1];
        for (i = 0; i < NPROC; i++)
            pids[i] = tu_fork(child_unlink_race, &u);
        for (i = 0; i < NPROC; i++)
            cr_assert_eq(tu_take(ready[0], 10000), 0, "round %d: an unlinker did not attach", round);
        close(gate[1]);
        for (i = 0; i < NPROC; i++) {
            int st = tu_wait(pids[i], 30000);
            cr_assert(st == WON || st == LOST, "round %d: unlinker %d: %d", round, i, st);
            won += st == WON;
        }
        close(gate[0]);
        close(ready[0]);
        close(ready[1]);
        cr_assert_eq(won, 1, "round %d: %d unlinks of one block succeeded", round, won);
        cr_assert_not(tu_shm_exists(k));
        cr_assert_not(tu_sem_exists(k));
    }
}

/* ---- work under the lock -------------------------------------------------- */

#define INCREMENTS 2000
#define WRITERS 4
#define READERS 2

struct work {
    const char *name;
    int gate, gate_w;
};

/* Counter at offset 0; a copy 4096 bytes further: readers check they match. */
static int child_incrementer(void *arg)
{
    const struct work *w = arg;
    struct race r;
    sysvshm_t *h = sysvshm_attach(w->name, 0);
    volatile uint64_t *a, *b;
    int i;

    TU_CHECK(h != NULL, 1);
    r.gate = w->gate;
    r.gate_w = w->gate_w;
    wait_gate(&r);
    a = (volatile uint64_t *)sysvshm_buf(h);
    b = (volatile uint64_t *)((unsigned char *)sysvshm_buf(h) + 4096);
    for (i = 0; i < INCREMENTS; i++) {
        uint64_t v;
        TU_CHECK(sysvshm_lock(h, SYSVSHM_WRITE, 20000) == 0, 2);
        v = *a;
        *a = v + 1;
        *b = v + 1;
        TU_CHECK(sysvshm_unlock(h) == 0, 3);
    }
    sysvshm_close(h);
    return 0;
}

static int child_checker(void *arg)
{
    const struct work *w = arg;
    struct race r;
    sysvshm_t *h = sysvshm_attach(w->name, 0);
    volatile uint64_t *a, *b;
    int i;

    TU_CHECK(h != NULL, 1);
    r.gate = w->gate;
    r.gate_w = w->gate_w;
    wait_gate(&r);
    a = (volatile uint64_t *)sysvshm_buf(h);
    b = (volatile uint64_t *)((unsigned char *)sysvshm_buf(h) + 4096);
    for (i = 0; i < 1000; i++) {
        TU_CHECK(sysvshm_lock(h, SYSVSHM_READ, 20000) == 0, 2);
        TU_CHECK(*a == *b, 3); /* a reader never sees a writer half-way */
        TU_CHECK(sysvshm_unlock(h) == 0, 4);
    }
    sysvshm_close(h);
    return 0;
}

Test(concurrent, no_lost_updates_under_the_writer_lock)
{
    const char *n = tu_name("count");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 8192, 0, 0600));
    struct work w;
    pid_t pids[WRITERS + READERS];
    int gate[2], i;

    tu_pipe(gate);
    w.name = n;
    w.gate = gate[0];
    w.gate_w = gate[1];
    for (i = 0; i < WRITERS; i++)
        pids[i] = tu_fork(child_incrementer, &w);
    for (i = 0; i < READERS; i++)
        pids[WRITERS + i] = tu_fork(child_checker, &w);
    close(gate[1]);
    for (i = 0; i < WRITERS + READERS; i++) {
        int st = tu_wait(pids[i], 50000);
        cr_assert_eq(st, 0, "%s %d failed check %d", i < WRITERS ? "writer" : "reader", i, st);
    }
    close(gate[0]);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    cr_assert_eq(*(uint64_t *)sysvshm_buf(h), (uint64_t)WRITERS * INCREMENTS,
                 "counter %llu, expected %d", (unsigned long long)*(uint64_t *)sysvshm_buf(h),
                 WRITERS * INCREMENTS);
    cr_assert_eq(sysvshm_unlock(h), 0);
    sysvshm_unlink(h);
    sysvshm_close(h);
}
