/*
 * t_collide.c - the probe sequence: names that share a key, holes left by an
 * unlink, foreign segments and semaphore sets on a name's keys, a full probe
 * sequence, damaged and half-made blocks.
 */
#include "testutil.h"
#include "svs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

TestSuite(collide, .fini = tu_cleanup, .timeout = TU_TIMEOUT);

/* ---- helpers ------------------------------------------------------------- */

struct cand {
    key_t key;
    unsigned idx;
};

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

static int keys_free(key_t k0, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (tu_shm_exists(tu_probe(k0, i)) || tu_sem_exists(tu_probe(k0, i)))
            return 0;
    }
    return 1;
}

/* Two names unique to this run with the same first key, whose first `nfree`
 * probe keys are free.  A birthday search: 24-bit keys, 40000 names give
 * dozens of pairs. */
static key_t colliding_pair(char *a, char *b, size_t len, unsigned nfree)
{
    enum { N = 40000 };
    struct cand *c = malloc(N * sizeof *c);
    char prefix[64];
    unsigned i;
    key_t found = (key_t)-1;

    cr_assert_not_null(c);
    snprintf(prefix, sizeof prefix, "c%ld.%ld.%d", (long)getpid(), (long)time(NULL), rand() % 1000);
    for (i = 0; i < N; i++) {
        char n[96];
        snprintf(n, sizeof n, "%s.%u", prefix, i);
        c[i].key = tu_name_key(n);
        c[i].idx = i;
    }
    qsort(c, N, sizeof *c, cand_cmp);
    for (i = 0; i + 1 < N; i++) {
        if (c[i].key == c[i + 1].key && keys_free(c[i].key, nfree)) {
            snprintf(a, len, "%s.%u", prefix, c[i].idx);
            snprintf(b, len, "%s.%u", prefix, c[i + 1].idx);
            found = c[i].key;
            break;
        }
    }
    free(c);
    cr_assert_neq(found, (key_t)-1, "no colliding pair of names found");
    tu_register_name(a);
    tu_register_name(b);
    cr_assert_eq(sysvshm_name_key(a), found);
    cr_assert_eq(sysvshm_name_key(b), found);
    return found;
}

/* A name unique to the run whose first nfree probe keys are free. */
static const char *name_with_free_keys(const char *tag, unsigned nfree)
{
    int tries;

    for (tries = 0; tries < 100; tries++) {
        const char *n = tu_name(tag);
        if (keys_free(tu_name_key(n), nfree))
            return n;
    }
    cr_assert_fail("no name with %u free keys", nfree);
    return NULL;
}

static unsigned char *bytes(sysvshm_t *h)
{
    return sysvshm_buf(h);
}

static struct svs_header *raw_header(key_t k)
{
    int id = shmget(k, 0, 0);
    void *p;

    cr_assert_geq(id, 0, "no segment at 0x%08lx", (unsigned long)k);
    p = shmat(id, NULL, 0);
    cr_assert_neq(p, (void *)-1, "shmat: %s", strerror(errno));
    return p;
}

/* Snapshot of a foreign segment, to prove it was not touched. */
struct snap {
    int id;
    size_t size;
    unsigned char bytes[4096];
    mode_t mode;
};

static void take_snap(struct snap *s, key_t k, size_t size)
{
    struct shmid_ds ds;

    s->id = shmget(k, 0, 0);
    cr_assert_geq(s->id, 0);
    s->size = size;
    cr_assert_eq(tu_shm_peek(s->id, s->bytes, size), 0);
    cr_assert_eq(shmctl(s->id, IPC_STAT, &ds), 0);
    s->mode = ds.shm_perm.mode & 0777;
}

static void assert_snap(const struct snap *s, key_t k, const char *when)
{
    unsigned char now[4096];
    struct shmid_ds ds;

    cr_assert_eq(shmget(k, 0, 0), s->id, "%s: the foreign segment is gone or replaced", when);
    cr_assert_eq(tu_shm_peek(s->id, now, s->size), 0);
    cr_assert_eq(memcmp(now, s->bytes, s->size), 0, "%s: the foreign segment's bytes changed", when);
    cr_assert_eq(shmctl(s->id, IPC_STAT, &ds), 0);
    cr_assert_eq(ds.shm_perm.mode & 0777, s->mode, "%s: its mode changed", when);
    cr_assert_eq((size_t)ds.shm_segsz, s->size, "%s: its size changed", when);
}

/* ---- two names, one key ------------------------------------------------- */

Test(collide, two_names_with_one_key_both_live)
{
    char a[96], b[96];
    key_t k = colliding_pair(a, b, sizeof a, 3);
    sysvshm_t *ha, *hb, *x;

    ha = TU_MUST(sysvshm_create(a, 100, 0, 0600));
    hb = TU_MUST(sysvshm_create(b, 200, 0, 0600));
    cr_assert_eq(sysvshm_key(ha), k);
    cr_assert_eq(sysvshm_key(hb), tu_probe(k, 1), "second name at 0x%08lx, expected 0x%08lx",
                 (unsigned long)sysvshm_key(hb), (unsigned long)tu_probe(k, 1));
    memset(bytes(ha), 0xaa, 100);
    memset(bytes(hb), 0xbb, 200);

    x = TU_MUST(sysvshm_attach(a, 0));
    cr_assert_str_eq(sysvshm_name(x), a);
    cr_assert_eq(sysvshm_size(x), 100u);
    cr_assert_eq(sysvshm_key(x), k);
    cr_assert_eq(bytes(x)[99], 0xaa);
    sysvshm_close(x);
    x = TU_MUST(sysvshm_attach(b, 0));
    cr_assert_str_eq(sysvshm_name(x), b);
    cr_assert_eq(sysvshm_size(x), 200u);
    cr_assert_eq(sysvshm_key(x), tu_probe(k, 1));
    cr_assert_eq(bytes(x)[199], 0xbb);
    sysvshm_close(x);

    /* Each has its own lock. */
    cr_assert_eq(sysvshm_lock(ha, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_lock(hb, SYSVSHM_WRITE, 0), 0);
    sysvshm_unlock(ha);
    sysvshm_unlock(hb);

    TU_ASSERT_NULL_ERR(sysvshm_create(a, 100, 0, 0600), EEXIST);
    TU_ASSERT_NULL_ERR(sysvshm_create(b, 100, 0, 0600), EEXIST);
    cr_assert_not(tu_shm_exists(tu_probe(k, 2)), "a refused create left a segment");

    cr_assert_eq(sysvshm_remove(b), 0);
    x = TU_MUST(sysvshm_attach(a, 0));
    cr_assert_eq(bytes(x)[0], 0xaa);
    sysvshm_close(x);
    cr_assert_eq(sysvshm_remove(a), 0);
    cr_assert(keys_free(k, 3));
    sysvshm_close(ha);
    sysvshm_close(hb);
}

Test(collide, hole_in_the_probe_sequence)
{
    char a[96], b[96];
    key_t k = colliding_pair(a, b, sizeof a, 3);
    sysvshm_t *ha, *hb, *x;

    ha = TU_MUST(sysvshm_create(a, 100, 0, 0600));
    hb = TU_MUST(sysvshm_create(b, 200, 0, 0600));
    cr_assert_eq(sysvshm_key(hb), tu_probe(k, 1));
    bytes(hb)[0] = 0xbb;
    cr_assert_eq(sysvshm_unlink(ha), 0);
    cr_assert_not(tu_shm_exists(k), "the hole is not free");

    /* b lives behind the hole: still found, never made twice. */
    x = sysvshm_attach(b, 0);
    cr_assert_not_null(x, "a name behind a hole is not found: %s", strerror(errno));
    cr_assert_eq(sysvshm_key(x), tu_probe(k, 1));
    cr_assert_eq(bytes(x)[0], 0xbb);
    sysvshm_close(x);
    TU_ASSERT_NULL_ERR(sysvshm_create(b, 200, 0, 0600), EEXIST);
    cr_assert_not(tu_shm_exists(k), "create of a name behind a hole made a second block");
    cr_assert_not(tu_sem_exists(k), "create of a name behind a hole left a semaphore set");
    TU_ASSERT_ERR(sysvshm_remove(a), ENOENT);
    x = TU_MUST(sysvshm_attach(b, 0));
    sysvshm_close(x);

    /* a comes back into the hole; both are found. */
    sysvshm_close(ha);
    ha = TU_MUST(sysvshm_create(a, 300, 0, 0600));
    cr_assert_eq(sysvshm_key(ha), k, "a new block takes the first free key");
    x = TU_MUST(sysvshm_attach(b, 0));
    cr_assert_eq(sysvshm_size(x), 200u);
    sysvshm_close(x);
    x = TU_MUST(sysvshm_attach(a, 0));
    cr_assert_eq(sysvshm_size(x), 300u);
    sysvshm_close(x);

    /* remove by name behind a hole. */
    cr_assert_eq(sysvshm_unlink(ha), 0);
    cr_assert_eq(sysvshm_remove(b), 0);
    TU_ASSERT_NULL_ERR(sysvshm_attach(b, 0), ENOENT);
    cr_assert(keys_free(k, 3));
    sysvshm_close(ha);
    sysvshm_close(hb);
}

Test(collide, lock_of_a_name_behind_a_hole)
{
    char a[96], b[96];
    key_t k = colliding_pair(a, b, sizeof a, 3);
    sysvshm_t *ha, *hb, *x;

    ha = TU_MUST(sysvshm_create(a, 10, 0, 0600));
    hb = TU_MUST(sysvshm_create(b, 10, 0, 0600));
    cr_assert_eq(sysvshm_unlink(ha), 0);
    x = TU_MUST(sysvshm_attach(b, 0));
    cr_assert_eq(sysvshm_lock(hb, SYSVSHM_WRITE, 0), 0);
    TU_ASSERT_ERR(sysvshm_lock(x, SYSVSHM_WRITE, 0), EBUSY);
    cr_assert_eq(sysvshm_unlock(hb), 0);
    cr_assert_eq(sysvshm_lock(x, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_unlock(x), 0);
    sysvshm_close(x);
    sysvshm_unlink(hb);
    sysvshm_close(ha);
    sysvshm_close(hb);
    cr_assert(keys_free(k, 3));
}

/* ---- foreign objects on the keys ---------------------------------------------- */

static void foreign_segment_case(size_t fsize, int fill)
{
    const char *n = name_with_free_keys("foreign", 3);
    key_t k = tu_name_key(n);
    struct snap s;
    sysvshm_t *h, *x;

    cr_assert_geq(tu_foreign_shm(k, fsize, fill), 0, "shmget: %s", strerror(errno));
    take_snap(&s, k, fsize);

    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, SYSVSHM_RDONLY), ENOENT);
    TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
    assert_snap(&s, k, "after attach/remove of a missing name");

    h = sysvshm_create(n, 500, 0, 0600);
    cr_assert_not_null(h, "create next to a foreign segment: %s", strerror(errno));
    cr_assert_neq(sysvshm_key(h), k, "the block claims the foreign segment's key");
    cr_assert_eq(sysvshm_key(h), tu_probe(k, 1), "expected the next key of the sequence");
    bytes(h)[0] = 0x42;
    assert_snap(&s, k, "after create");

    x = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_eq(sysvshm_key(x), tu_probe(k, 1));
    cr_assert_eq(sysvshm_size(x), 500u);
    cr_assert_eq(bytes(x)[0], 0x42);
    cr_assert_eq(sysvshm_lock(x, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_unlock(x), 0);
    sysvshm_close(x);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 500, 0, 0600), EEXIST);

    cr_assert_eq(sysvshm_remove(n), 0);
    assert_snap(&s, k, "after remove");
    TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    assert_snap(&s, k, "at the end");
    cr_assert_not(tu_shm_exists(tu_probe(k, 1)));
    cr_assert_not(tu_sem_exists(tu_probe(k, 1)));
    sysvshm_close(h);
    cr_assert_eq(shmctl(s.id, IPC_RMID, NULL), 0);
}

Test(collide, foreign_zero_filled_segment_on_the_key)
{
    foreign_segment_case(4096, 0);
}

Test(collide, foreign_random_segment_on_the_key)
{
    foreign_segment_case(4096, -1);
}

Test(collide, foreign_one_byte_segment_on_the_key)
{
    foreign_segment_case(1, 0);
}

Test(collide, foreign_small_segment_on_the_key)
{
    foreign_segment_case(100, -1);
}

Test(collide, foreign_segment_with_our_magic_but_garbage)
{
    const char *n = name_with_free_keys("magic", 3);
    key_t k = tu_name_key(n);
    int id = tu_foreign_shm(k, 4096, -1);
    struct snap s;
    sysvshm_t *h, *x;
    unsigned char *p;

    cr_assert_geq(id, 0);
    p = shmat(id, NULL, 0);
    cr_assert_neq((void *)p, (void *)-1);
    memcpy(p, "SYSVSHM", 8);
    shmdt(p);
    take_snap(&s, k, 4096);

    x = sysvshm_attach(n, 0);
    cr_assert_null(x, "attached a segment that is not a block of this name");
    assert_snap(&s, k, "after a failed attach");
    errno = 0;
    cr_assert_eq(sysvshm_remove(n), -1);
    assert_snap(&s, k, "after remove");

    h = sysvshm_create(n, 64, 0, 0600);
    cr_assert_not_null(h, "create next to a garbage segment: %s", strerror(errno));
    cr_assert_neq(sysvshm_key(h), k);
    assert_snap(&s, k, "after create");
    x = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_eq(sysvshm_key(x), sysvshm_key(h));
    sysvshm_close(x);
    cr_assert_eq(sysvshm_remove(n), 0);
    assert_snap(&s, k, "after removing the real block");
    sysvshm_close(h);
    shmctl(s.id, IPC_RMID, NULL);
}

Test(collide, failed_attach_changes_nothing)
{
    const char *n = name_with_free_keys("noop", 2);
    key_t k = tu_name_key(n);
    struct snap s;
    struct shmid_ds ds;
    int i;

    cr_assert_geq(tu_foreign_shm(k, 4096, -1), 0);
    take_snap(&s, k, 4096);
    for (i = 0; i < 3; i++) {
        TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
        TU_ASSERT_NULL_ERR(sysvshm_attach(n, SYSVSHM_RDONLY), ENOENT);
    }
    assert_snap(&s, k, "after failed attaches");
    cr_assert_eq(shmctl(s.id, IPC_STAT, &ds), 0);
    cr_assert_eq(ds.shm_nattch, 0, "a failed attach stayed attached");
    cr_assert_not(tu_sem_exists(k), "a failed attach made a semaphore set");
    cr_assert_not(tu_shm_exists(tu_probe(k, 1)));
    shmctl(s.id, IPC_RMID, NULL);
}

Test(collide, foreign_semaphore_set_on_the_key)
{
    const char *n = name_with_free_keys("fsem", 3);
    key_t k = tu_name_key(n);
    int semid = semget(k, 2, IPC_CREAT | IPC_EXCL | 0600);
    union {
        int val;
        struct semid_ds *buf;
        unsigned short *array;
    } arg;
    sysvshm_t *h, *x;

    cr_assert_geq(semid, 0, "semget: %s", strerror(errno));
    tu_register_sem(semid, k);
    arg.val = 7;
    cr_assert_eq(semctl(semid, 0, SETVAL, arg), 0);
    arg.val = 3;
    cr_assert_eq(semctl(semid, 1, SETVAL, arg), 0);

    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    h = sysvshm_create(n, 64, 0, 0600);
    cr_assert_not_null(h, "create with a foreign semaphore set on the key: %s", strerror(errno));
    cr_assert_eq(semctl(semid, 0, GETVAL), 7, "the foreign semaphore set was changed");
    cr_assert_eq(semctl(semid, 1, GETVAL), 3, "the foreign semaphore set was changed");
    x = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    TU_ASSERT_ERR(sysvshm_lock(x, SYSVSHM_WRITE, 0), EBUSY);
    cr_assert_eq(semctl(semid, 0, GETVAL), 7, "locking used the foreign semaphore set");
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(x, SYSVSHM_READ, 0), 0);
    cr_assert_eq(sysvshm_unlock(x), 0);
    sysvshm_close(x);
    cr_assert_eq(sysvshm_remove(n), 0);
    cr_assert_eq(semget(k, 0, 0), semid, "remove destroyed the foreign semaphore set");
    cr_assert_eq(semctl(semid, 0, GETVAL), 7);
    cr_assert_not(tu_shm_exists(k));
    cr_assert_not(tu_shm_exists(tu_probe(k, 1)));
    sysvshm_close(h);
    semctl(semid, 0, IPC_RMID);
}

Test(collide, full_probe_sequence_is_eaddrinuse)
{
    const char *n = name_with_free_keys("full", SYSVSHM_PROBE_MAX + 1);
    key_t k = tu_name_key(n);
    unsigned i;

    /* Random bytes, not zeros: a zero-filled segment is the subject of its
     * own test. */
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++)
        cr_assert_geq(tu_foreign_shm(tu_probe(k, i), 64, -1), 0);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 64, 0, 0600), EADDRINUSE);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 64, SYSVSHM_NOLOCK, 0600), EADDRINUSE);
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++)
        cr_assert_not(tu_sem_exists(tu_probe(k, i)), "a failed create left a semaphore set");
    cr_assert_not(tu_shm_exists(tu_probe(k, SYSVSHM_PROBE_MAX)),
                  "the probe sequence is longer than SYSVSHM_PROBE_MAX");
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++)
        cr_assert(tu_shm_exists(tu_probe(k, i)), "a foreign segment was removed");

    /* One freed key is enough again. */
    shmctl(shmget(tu_probe(k, 5), 0, 0), IPC_RMID, NULL);
    {
        sysvshm_t *h = sysvshm_create(n, 64, 0, 0600);
        cr_assert_not_null(h, "create with one free key: %s", strerror(errno));
        cr_assert_eq(sysvshm_key(h), tu_probe(k, 5));
        sysvshm_close(h);
        h = TU_MUST(sysvshm_attach(n, 0));
        cr_assert_eq(sysvshm_key(h), tu_probe(k, 5));
        sysvshm_unlink(h);
        sysvshm_close(h);
    }
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++)
        shmctl(shmget(tu_probe(k, i), 0, 0), IPC_RMID, NULL);
}

/* ---- damaged and half-made blocks ---------------------------------------- */

Test(collide, damaged_header_is_eproto_and_never_removed)
{
    const char *n = name_with_free_keys("proto", 2);
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 64, 0, 0600));
    key_t k = sysvshm_key(h);
    struct svs_header *hdr = raw_header(k);
    uint32_t version = hdr->version;
    sysvshm_t *x;

    tu_register_shm(shmget(k, 0, 0), k);
    tu_register_sem(semget(k, 0, 0), k);
    hdr->version = 99;
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EPROTO);
    TU_ASSERT_ERR(sysvshm_remove(n), EPROTO);
    errno = 0;
    x = sysvshm_create(n, 64, 0, 0600);
    cr_assert_null(x, "a second block made for a name whose block is damaged");
    cr_assert(errno == EEXIST || errno == EPROTO, "create over a damaged block: %s",
              strerror(errno));
    cr_assert_not(tu_shm_exists(tu_probe(k, 1)), "a failed create left a segment");
    cr_assert(tu_shm_exists(k), "a damaged block was removed");
    hdr->version = version;
    x = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_eq(sysvshm_key(x), k);
    sysvshm_close(x);

    /* A size that does not fit the segment is damage too. */
    hdr->size = (uint64_t)1 << 40;
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EPROTO);
    hdr->size = 64;
    shmdt(hdr);
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
}

struct timed_attach {
    const char *name;
    int wfd; /* "about to attach", or -1 */
    struct svs_header *hdr; /* the block's header, mapped in the parent */
};

static int child_attach_timed(void *arg)
{
    const struct timed_attach *ta = arg;
    sysvshm_t *h;

    if (ta->wfd >= 0)
        TU_CHECK(tu_post(ta->wfd) == 0, 4);
    errno = 0;
    h = sysvshm_attach(ta->name, 0);
    if (h == NULL)
        return errno == EAGAIN ? 11 : 1;
    TU_CHECK(sysvshm_size(h) == 64, 2);
    /* It waited: the block it got is the one the parent finished. */
    TU_CHECK(ta->hdr->state == SVS_STATE_READY, 3);
    sysvshm_close(h);
    return 0;
}

Test(collide, block_being_made_by_a_live_process_is_waited_for)
{
    const char *n = tu_name("init");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 64, 0, 0600));
    struct svs_header *hdr = raw_header(sysvshm_key(h));
    struct timed_attach ta;
    int up[2];
    pid_t pid;
    int st;

    tu_pipe(up);
    ta.name = n;
    ta.wfd = up[1];
    ta.hdr = hdr;
    /* We made it, we are alive: it looks half-made by a live creator. */
    hdr->state = SVS_STATE_INIT;
    pid = tu_fork(child_attach_timed, &ta);
    cr_assert_eq(tu_take(up[0], 10000), 0, "child did not start");
    tu_sleep_ms(300); /* let it find the INIT block (not needed for the verdict) */
    hdr->state = SVS_STATE_READY;
    st = tu_wait(pid, 15000);
    cr_assert_eq(st, 0, "attach while the block was being made: %d (11 = EAGAIN)", st);

    /* Never finished: EAGAIN after a few seconds. */
    hdr->state = SVS_STATE_INIT;
    ta.wfd = -1;
    st = tu_wait(tu_fork(child_attach_timed, &ta), 20000);
    cr_assert_eq(st, 11, "attach of a block a live process never finishes: %d", st);
    hdr->state = SVS_STATE_READY;
    shmdt(hdr);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

struct half {
    const char *name;
    uint32_t state;
    int marked;
};

static int child_half_make(void *arg)
{
    const struct half *hm = arg;
    sysvshm_t *h = sysvshm_create(hm->name, 64, 0, 0600);
    struct svs_header *hdr;

    TU_CHECK(h != NULL, 1);
    int id = shmget(sysvshm_key(h), 0, 0);
    struct shmid_ds ds;

    hdr = shmat(id, NULL, 0);
    TU_CHECK(hdr != (void *)-1, 2);
    if (hm->marked) {
        /* The marks a creator or remover of the library leaves in the mode
         * (docs/format.md): 0711 until READY; the 0100 bit once removal
         * began.  Without them the state is just bytes someone wrote. */
        TU_CHECK(shmctl(id, IPC_STAT, &ds) == 0, 3);
        ds.shm_perm.mode = hm->state == SVS_STATE_INIT ? 0711 : 0700;
        TU_CHECK(shmctl(id, IPC_SET, &ds) == 0, 4);
    }
    hdr->state = hm->state;
    _exit(0); /* dies without finishing (or undoing) it */
}

/* A state written into a complete block by someone who may write it, not
 * by a creator or remover: the block keeps its name and is never removed. */
static void forged_state_case(const char *n, key_t k, int oldshm)
{
    struct shmid_ds ds;

    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EPROTO);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 128, 0, 0600), EEXIST);
    cr_assert_eq(shmget(k, 0, 0), oldshm, "the block was removed");
    cr_assert_eq(shmctl(oldshm, IPC_STAT, &ds), 0);
    cr_assert_geq(semget(k, 0, 0), 0, "its semaphore set was removed");
}

static void dead_creator_case(uint32_t state, int marked)
{
    struct half hm;
    const char *n = tu_name("dead");
    key_t k = tu_name_key(n);
    sysvshm_t *h, *x;
    int st, oldshm, oldsem;

    if (!keys_free(k, 3))
        cr_skip_test("keys of the name taken");
    hm.name = n;
    hm.state = state;
    hm.marked = marked;
    st = tu_wait(tu_fork(child_half_make, &hm), 10000);
    cr_assert_eq(st, 0, "child making a half-made block: check %d failed", st);
    oldshm = shmget(k, 0, 0);
    oldsem = semget(k, 0, 0);
    cr_assert_geq(oldshm, 0);
    tu_register_shm(oldshm, k);
    if (oldsem >= 0)
        tu_register_sem(oldsem, k);
    if (!marked) {
        forged_state_case(n, k, oldshm);
        return;
    }

    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    h = sysvshm_create(n, 128, 0, 0600);
    cr_assert_not_null(h, "create over a dead creator's half-made block: %s", strerror(errno));
    x = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_eq(sysvshm_size(x), 128u, "attached the dead creator's block");
    cr_assert_eq(sysvshm_key(x), sysvshm_key(h));
    cr_assert_eq(sysvshm_lock(x, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_unlock(x), 0);
    sysvshm_close(x);
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
}

Test(collide, half_made_block_of_a_dead_creator_is_passed_over)
{
    dead_creator_case(SVS_STATE_INIT, 1);
}

Test(collide, half_removed_block_is_passed_over)
{
    dead_creator_case(SVS_STATE_UNLINKING, 1);
}

Test(collide, init_written_into_a_block_keeps_it)
{
    dead_creator_case(SVS_STATE_INIT, 0);
}

Test(collide, unlinking_written_into_a_block_keeps_it)
{
    dead_creator_case(SVS_STATE_UNLINKING, 0);
}
