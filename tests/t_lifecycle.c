/*
 * t_lifecycle.c - create, attach, buf/size/name/key, close, unlink, remove,
 * modes and permissions, read-only attaches, across real processes.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

TestSuite(lifecycle, .fini = tu_cleanup, .timeout = TU_TIMEOUT);

#define NOBODY 65534

struct job {
    const char *name;
    size_t size;
    int flags;
    int rfd, wfd; /* pipe ends the child uses, -1 if none */
    sysvshm_t *h; /* a handle inherited over fork, if any */
};

static unsigned char *bytes(sysvshm_t *h)
{
    return sysvshm_buf(h);
}

static void fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31 + seed);
}

static int check_pattern(const unsigned char *p, size_t n, unsigned seed)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != (unsigned char)(i * 31 + seed))
            return 0;
    }
    return 1;
}

/* ---- create / attach / accessors --------------------------------------- */

Test(lifecycle, create_and_attach_in_one_process)
{
    const char *n = tu_name("basic");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 1000, 0, 0600));
    sysvshm_t *a;

    cr_assert_not_null(sysvshm_buf(h));
    cr_assert_eq(sysvshm_size(h), 1000u);
    cr_assert_str_eq(sysvshm_name(h), n);
    cr_assert_neq(sysvshm_key(h), (key_t)-1);

    a = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_eq(sysvshm_size(a), 1000u);
    cr_assert_str_eq(sysvshm_name(a), n);
    cr_assert_eq(sysvshm_key(a), sysvshm_key(h));
    bytes(h)[0] = 42;
    bytes(h)[999] = 43;
    cr_assert_eq(bytes(a)[0], 42);
    cr_assert_eq(bytes(a)[999], 43);
    bytes(a)[500] = 44;
    cr_assert_eq(bytes(h)[500], 44);

    cr_assert_eq(sysvshm_close(a), 0);
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
}

static int child_report_size(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, j->flags);

    TU_CHECK(h != NULL, 1);
    TU_CHECK(sysvshm_size(h) == j->size, 2);
    TU_CHECK(((uintptr_t)sysvshm_buf(h) % 64) == 0, 3);
    TU_CHECK(bytes(h)[0] == 0xab, 4);
    TU_CHECK(j->size == 1 || bytes(h)[j->size - 1] == 0xcd, 5);
    TU_CHECK(sysvshm_close(h) == 0, 6);
    return 0;
}

Test(lifecycle, size_is_exact_in_creator_and_attachers)
{
    static const size_t sizes[] = { 1, 2, 63, 64, 65, 1000, 4095, 4096, 4097, 65537 };
    size_t i;

    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const char *n = tu_name("size");
        sysvshm_t *h = TU_MUST(sysvshm_create(n, sizes[i], 0, 0600));
        struct job j = { n, sizes[i], 0, -1, -1, NULL };
        int st;

        cr_assert_eq(sysvshm_size(h), sizes[i], "creator: size %zu, made with %zu",
                     sysvshm_size(h), sizes[i]);
        cr_assert_eq((uintptr_t)sysvshm_buf(h) % 64, 0u, "buf not aligned to 64");
        bytes(h)[sizes[i] - 1] = 0xcd;
        bytes(h)[0] = 0xab;
        st = tu_wait(tu_fork(child_report_size, &j), 10000);
        cr_assert_eq(st, 0, "attacher of %zu bytes: check %d failed", sizes[i], st);
        j.flags = SYSVSHM_RDONLY;
        st = tu_wait(tu_fork(child_report_size, &j), 10000);
        cr_assert_eq(st, 0, "read-only attacher of %zu bytes: check %d failed", sizes[i], st);
        cr_assert_eq(sysvshm_unlink(h), 0);
        sysvshm_close(h);
    }
}

Test(lifecycle, new_block_is_zero_filled)
{
    const char *n = tu_name("zero");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 20000, 0, 0600));
    size_t i;

    for (i = 0; i < 20000; i++)
        cr_assert_eq(bytes(h)[i], 0, "byte %zu is %d", i, bytes(h)[i]);
    /* A block made again under the same name starts from zero too. */
    memset(bytes(h), 0xff, 20000);
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
    h = TU_MUST(sysvshm_create(n, 20000, 0, 0600));
    for (i = 0; i < 20000; i++)
        cr_assert_eq(bytes(h)[i], 0, "recreated: byte %zu is %d", i, bytes(h)[i]);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

Test(lifecycle, create_existing_name_is_eexist)
{
    const char *n = tu_name("dup");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    sysvshm_t *a;
    key_t k = sysvshm_key(h);

    bytes(h)[10] = 99;
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 100, 0, 0600), EEXIST);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 5000, SYSVSHM_NOLOCK, 0666), EEXIST);
    /* The block is untouched and there is still only one. */
    a = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_eq(sysvshm_size(a), 100u);
    cr_assert_eq(bytes(a)[10], 99);
    cr_assert_eq(sysvshm_key(a), k);
    sysvshm_close(a);
    cr_assert_eq(sysvshm_remove(n), 0);
    TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
    sysvshm_close(h);
}

Test(lifecycle, create_nolock_existing_name_is_eexist)
{
    const char *n = tu_name("dupnl");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, SYSVSHM_NOLOCK, 0600));

    TU_ASSERT_NULL_ERR(sysvshm_create(n, 100, 0, 0600), EEXIST);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 100, SYSVSHM_NOLOCK, 0600), EEXIST);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

Test(lifecycle, attach_missing_is_enoent)
{
    const char *n = tu_name("missing");

    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, SYSVSHM_RDONLY), ENOENT);
    cr_assert(tu_name_keys_free(n), "a failed attach made something");
}

/* ---- mode ----------------------------------------------------------------- */

static mode_t shm_mode_at(key_t k)
{
    struct shmid_ds ds;
    int id = shmget(k, 0, 0);

    cr_assert_geq(id, 0, "no segment at 0x%08lx", (unsigned long)k);
    cr_assert_eq(shmctl(id, IPC_STAT, &ds), 0);
    return ds.shm_perm.mode & 0777;
}

static mode_t sem_mode_at(key_t k)
{
    struct semid_ds ds;
    union {
        int val;
        struct semid_ds *buf;
        unsigned short *array;
    } arg;
    int id = semget(k, 0, 0);

    cr_assert_geq(id, 0, "no semaphore set at 0x%08lx", (unsigned long)k);
    arg.buf = &ds;
    cr_assert_eq(semctl(id, 0, IPC_STAT, arg), 0);
    return ds.sem_perm.mode & 0777;
}

Test(lifecycle, mode_is_applied_without_umask)
{
    static const mode_t modes[] = { 0600, 0640, 0644, 0660, 0666, 0604, 0620 };
    mode_t old = umask(077);
    size_t i;

    for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        const char *n = tu_name("mode");
        sysvshm_t *h = sysvshm_create(n, 10, 0, modes[i]);
        cr_assert_not_null(h, "create with mode %o: %s", (unsigned)modes[i], strerror(errno));
        cr_assert_eq(shm_mode_at(sysvshm_key(h)), modes[i], "segment mode %o, asked %o",
                     (unsigned)shm_mode_at(sysvshm_key(h)), (unsigned)modes[i]);
        /* The set carries the library's mark, an execute bit that grants
         * nothing on a semaphore set (docs/format.md). */
        cr_assert_eq(sem_mode_at(sysvshm_key(h)), modes[i] | 0100, "semaphore mode %o, asked %o",
                     (unsigned)sem_mode_at(sysvshm_key(h)), (unsigned)modes[i]);
        sysvshm_unlink(h);
        sysvshm_close(h);
    }
    umask(old);
}

/* Execute bits are refused too: the library keeps them for its own marks. */
Test(lifecycle, mode_must_grant_owner_rw_and_stay_in_0666)
{
    static const mode_t bad[] = { 0, 0400, 0200, 0500, 0300, 0466, 0266,
                                  01600, 02600, 04600, 07777, 010600, 0100600,
                                  0700, 0777, 0610, 0601, 0711, 0766 };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *n = tu_name("badmode");
        errno = 0;
        sysvshm_t *h = sysvshm_create(n, 10, 0, bad[i]);
        int e = errno;
        if (h != NULL) {
            sysvshm_unlink(h);
            sysvshm_close(h);
        }
        cr_assert(h == NULL && e == EINVAL, "mode %o: expected EINVAL, got %p / %s",
                  (unsigned)bad[i], (void *)h, strerror(e));
        cr_assert(tu_name_keys_free(n), "mode %o: left an IPC object", (unsigned)bad[i]);
    }
}

/* ---- the semaphore set ----------------------------------------------------- */

Test(lifecycle, semaphore_set_is_paired_unless_nolock)
{
    const char *n1 = tu_name("sem");
    const char *n2 = tu_name("nosem");
    sysvshm_t *h1 = TU_MUST(sysvshm_create(n1, 10, 0, 0600));
    sysvshm_t *h2 = TU_MUST(sysvshm_create(n2, 10, SYSVSHM_NOLOCK, 0600));

    cr_assert(tu_sem_exists(sysvshm_key(h1)), "no semaphore set at the block's key");
    cr_assert_not(tu_sem_exists(sysvshm_key(h2)), "a NOLOCK block got a semaphore set");
    sysvshm_unlink(h1);
    sysvshm_unlink(h2);
    sysvshm_close(h1);
    sysvshm_close(h2);
}

Test(lifecycle, nolock_block_lock_is_enotsup)
{
    const char *n = tu_name("nolock");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 10, SYSVSHM_NOLOCK, 0600));
    sysvshm_t *a = TU_MUST(sysvshm_attach(n, 0));

    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 0), ENOTSUP);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_READ, -1), ENOTSUP);
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_WRITE, 100), ENOTSUP);
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_READ, 0), ENOTSUP);
    /* The memory itself works. */
    bytes(h)[3] = 7;
    cr_assert_eq(bytes(a)[3], 7);
    sysvshm_close(a);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

/* ---- read-only attach -------------------------------------------------- */

static int child_rdonly_checks(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, SYSVSHM_RDONLY);

    TU_CHECK(h != NULL, 1);
    TU_CHECK(check_pattern(bytes(h), j->size, 3), 2);
    errno = 0;
    TU_CHECK(sysvshm_lock(h, SYSVSHM_WRITE, 0) == -1 && errno == EBADF, 3);
    errno = 0;
    TU_CHECK(sysvshm_lock(h, SYSVSHM_WRITE, -1) == -1 && errno == EBADF, 4);
    TU_CHECK(sysvshm_lock(h, SYSVSHM_READ, 1000) == 0, 5);
    TU_CHECK(check_pattern(bytes(h), j->size, 3), 6);
    TU_CHECK(sysvshm_unlock(h) == 0, 7);
    TU_CHECK(sysvshm_close(h) == 0, 8);
    return 0;
}

static int child_rdonly_write(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, SYSVSHM_RDONLY);

    TU_CHECK(h != NULL, 1);
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    ((volatile unsigned char *)sysvshm_buf(h))[0] = 0xee; /* must fault */
    return 0;
}

Test(lifecycle, rdonly_attach_reads_but_cannot_write)
{
    const char *n = tu_name("rdonly");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 3000, 0, 0600));
    struct job j = { n, 3000, 0, -1, -1, NULL };
    int st;

    fill_pattern(bytes(h), 3000, 3);
    st = tu_wait(tu_fork(child_rdonly_checks, &j), 10000);
    cr_assert_eq(st, 0, "read-only child: check %d failed", st);
    st = tu_wait(tu_fork(child_rdonly_write, &j), 10000);
    cr_assert(st == 1000 + SIGSEGV || st == 1000 + SIGBUS,
              "a write through a read-only attach must fault; child status %d", st);
    cr_assert(check_pattern(bytes(h), 3000, 3), "the block changed");
    sysvshm_unlink(h);
    sysvshm_close(h);
}

/* ---- two processes ------------------------------------------------------- */

static int child_pingpong(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, 0);

    TU_CHECK(h != NULL, 1);
    TU_CHECK(tu_take(j->rfd, 10000) == 0, 2);      /* parent wrote pattern 1 */
    TU_CHECK(check_pattern(bytes(h), j->size, 1), 3);
    fill_pattern(bytes(h), j->size, 2);
    TU_CHECK(tu_post(j->wfd) == 0, 4);
    TU_CHECK(sysvshm_close(h) == 0, 5);
    return 0;
}

Test(lifecycle, writes_are_seen_across_processes)
{
    const char *n = tu_name("xproc");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 8192, 0, 0600));
    int to_child[2], to_parent[2];
    struct job j;
    pid_t pid;
    int st;

    tu_pipe(to_child);
    tu_pipe(to_parent);
    j.name = n;
    j.size = 8192;
    j.rfd = to_child[0];
    j.wfd = to_parent[1];
    pid = tu_fork(child_pingpong, &j);
    fill_pattern(bytes(h), 8192, 1);
    cr_assert_eq(tu_post(to_child[1]), 0);
    cr_assert_eq(tu_take(to_parent[0], 10000), 0, "child did not answer");
    cr_assert(check_pattern(bytes(h), 8192, 2), "the child's writes are not seen");
    st = tu_wait(pid, 10000);
    cr_assert_eq(st, 0, "child: check %d failed", st);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

static int child_create_and_leave(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_create(j->name, j->size, 0, 0600);

    TU_CHECK(h != NULL, 1);
    fill_pattern(bytes(h), j->size, 9);
    TU_CHECK(sysvshm_close(h) == 0, 2);
    return 0;
}

Test(lifecycle, block_outlives_its_creator)
{
    const char *n = tu_name("outlive");
    struct job j = { n, 5000, 0, -1, -1, NULL };
    sysvshm_t *a;
    int st;

    st = tu_wait(tu_fork(child_create_and_leave, &j), 10000);
    cr_assert_eq(st, 0, "creator child: check %d failed", st);
    a = sysvshm_attach(n, 0);
    cr_assert_not_null(a, "block gone after its creator closed and exited: %s", strerror(errno));
    cr_assert_eq(sysvshm_size(a), 5000u);
    cr_assert(check_pattern(bytes(a), 5000, 9));
    cr_assert_eq(sysvshm_close(a), 0);
    /* Still there after every process closed. */
    a = TU_MUST(sysvshm_attach(n, 0));
    sysvshm_close(a);
    cr_assert_eq(sysvshm_remove(n), 0);
}

Test(lifecycle, close_never_destroys)
{
    const char *n = tu_name("close");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    key_t k = sysvshm_key(h);

    fill_pattern(bytes(h), 100, 4);
    cr_assert_eq(sysvshm_close(h), 0);
    cr_assert(tu_shm_exists(k), "segment destroyed by close");
    cr_assert(tu_sem_exists(k), "semaphore set destroyed by close");
    h = TU_MUST(sysvshm_attach(n, 0));
    cr_assert(check_pattern(bytes(h), 100, 4), "data lost by close");
    cr_assert_eq(sysvshm_close(h), 0);
    cr_assert(tu_shm_exists(k));
    cr_assert_eq(sysvshm_remove(n), 0);
}

Test(lifecycle, close_releases_a_held_lock)
{
    const char *n = tu_name("closelock");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    sysvshm_t *a = TU_MUST(sysvshm_attach(n, 0));
    sysvshm_t *b = TU_MUST(sysvshm_attach(n, 0));

    cr_assert_eq(sysvshm_lock(a, SYSVSHM_WRITE, 0), 0);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 0), EBUSY);
    cr_assert_eq(sysvshm_close(a), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0,
                 "lock after a writer closed must be free and not RECOVERED");
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_lock(b, SYSVSHM_READ, 0), 0);
    cr_assert_eq(sysvshm_close(b), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0, "reader lock not released by close");
    cr_assert_eq(sysvshm_unlock(h), 0);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

static int child_inherited_handle(void *arg)
{
    struct job *j = arg;

    /* After fork the child may read, write, lock and close its copy. */
    TU_CHECK(check_pattern(bytes(j->h), j->size, 5), 1);
    TU_CHECK(sysvshm_lock(j->h, SYSVSHM_WRITE, 5000) == 0, 2);
    fill_pattern(bytes(j->h), j->size, 6);
    TU_CHECK(sysvshm_unlock(j->h) == 0, 3);
    TU_CHECK(sysvshm_close(j->h) == 0, 4);
    return 0;
}

Test(lifecycle, child_uses_inherited_handle)
{
    const char *n = tu_name("inherit");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 1000, 0, 0600));
    struct job j = { n, 1000, 0, -1, -1, NULL };
    int st;

    j.h = h;
    fill_pattern(bytes(h), 1000, 5);
    st = tu_wait(tu_fork(child_inherited_handle, &j), 10000);
    cr_assert_eq(st, 0, "child with inherited handle: check %d failed", st);
    cr_assert(check_pattern(bytes(h), 1000, 6), "the child's writes are not seen");
    /* The child's close did not destroy the block nor spoil our handle. */
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
}

/* ---- unlink and remove -------------------------------------------------- */

Test(lifecycle, unlink_frees_the_name_at_once)
{
    const char *n = tu_name("unlink");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    sysvshm_t *h2;

    fill_pattern(bytes(h), 100, 7);
    cr_assert_eq(sysvshm_unlink(h), 0);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    h2 = sysvshm_create(n, 300, 0, 0600);
    cr_assert_not_null(h2, "create after unlink: %s", strerror(errno));
    cr_assert_eq(sysvshm_size(h2), 300u);
    cr_assert_eq(bytes(h2)[0], 0, "the new block is a new, zeroed block");
    /* The old handle still has its own memory. */
    cr_assert(check_pattern(bytes(h), 100, 7));
    bytes(h)[0] = 0x11;
    cr_assert_eq(bytes(h2)[0], 0);
    sysvshm_close(h);
    sysvshm_unlink(h2);
    sysvshm_close(h2);
}

Test(lifecycle, unlinked_handle_stays_valid)
{
    const char *n = tu_name("valid");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 123, 0, 0600));
    void *buf = sysvshm_buf(h);
    key_t k = sysvshm_key(h);

    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_buf(h), buf);
    cr_assert_eq(sysvshm_size(h), 123u);
    cr_assert_str_eq(sysvshm_name(h), n);
    cr_assert_eq(sysvshm_key(h), k);
    memset(buf, 0x42, 123);
    cr_assert_eq(((unsigned char *)buf)[122], 0x42);
    cr_assert_eq(sysvshm_close(h), 0);
}

Test(lifecycle, unlink_leaves_no_segment_or_semaphore_set)
{
    const char *n = tu_name("noipc");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    sysvshm_t *a = TU_MUST(sysvshm_attach(n, 0));
    key_t k = sysvshm_key(h);

    cr_assert(tu_shm_exists(k) && tu_sem_exists(k));
    cr_assert_eq(sysvshm_unlink(h), 0);
    /* Still attached twice, yet nothing is left at the key. */
    errno = 0;
    cr_assert_lt(shmget(k, 0, 0), 0);
    cr_assert_eq(errno, ENOENT, "shmget after unlink: %s", strerror(errno));
    errno = 0;
    cr_assert_lt(semget(k, 0, 0), 0);
    cr_assert_eq(errno, ENOENT, "semget after unlink: %s", strerror(errno));
    cr_assert(tu_name_keys_free(n));
    sysvshm_close(a);
    sysvshm_close(h);
}

Test(lifecycle, remove_by_name_leaves_nothing)
{
    const char *n = tu_name("rmname");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    key_t k = sysvshm_key(h);

    cr_assert_eq(sysvshm_close(h), 0);
    cr_assert_eq(sysvshm_remove(n), 0);
    cr_assert_not(tu_shm_exists(k));
    cr_assert_not(tu_sem_exists(k));
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
}

Test(lifecycle, remove_missing_is_enoent)
{
    const char *n = tu_name("rmmissing");

    TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
    TU_ASSERT_ERR(sysvshm_remove_v2(n, 0), ENOENT);
    TU_ASSERT_ERR(sysvshm_remove_v2(n, SYSVSHM_ANYUSER), ENOENT);
}

static int child_keeps_memory(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, 0);

    TU_CHECK(h != NULL, 1);
    TU_CHECK(tu_post(j->wfd) == 0, 2);        /* attached */
    TU_CHECK(tu_take(j->rfd, 10000) == 0, 3); /* parent unlinked */
    TU_CHECK(check_pattern(bytes(h), j->size, 8), 4);
    fill_pattern(bytes(h), j->size, 10);
    TU_CHECK(tu_post(j->wfd) == 0, 5);
    TU_CHECK(sysvshm_close(h) == 0, 6);
    return 0;
}

Test(lifecycle, attached_process_keeps_memory_after_unlink)
{
    const char *n = tu_name("keep");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 4096, 0, 0600));
    sysvshm_t *remover;
    int to_child[2], to_parent[2];
    struct job j = { n, 4096, 0, -1, -1, NULL };
    pid_t pid;
    int st;

    tu_pipe(to_child);
    tu_pipe(to_parent);
    j.rfd = to_child[0];
    j.wfd = to_parent[1];
    fill_pattern(bytes(h), 4096, 8);
    pid = tu_fork(child_keeps_memory, &j);
    cr_assert_eq(tu_take(to_parent[0], 10000), 0, "child did not attach");
    remover = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_eq(sysvshm_unlink(remover), 0);
    sysvshm_close(remover);
    cr_assert_eq(tu_post(to_child[1]), 0);
    cr_assert_eq(tu_take(to_parent[0], 10000), 0, "child failed after the unlink");
    /* Both still share the destroyed block's memory. */
    cr_assert(check_pattern(bytes(h), 4096, 10), "writes after unlink not shared");
    st = tu_wait(pid, 10000);
    cr_assert_eq(st, 0, "child: check %d failed", st);
    TU_ASSERT_ERR(sysvshm_unlink(h), ENOENT);
    sysvshm_close(h);
}

Test(lifecycle, second_unlink_is_enoent_and_spares_a_new_block)
{
    const char *n = tu_name("again");
    sysvshm_t *h1 = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    sysvshm_t *h2, *a;

    cr_assert_eq(sysvshm_unlink(h1), 0);
    TU_ASSERT_ERR(sysvshm_unlink(h1), ENOENT);
    h2 = TU_MUST(sysvshm_create(n, 200, 0, 0600));
    bytes(h2)[0] = 0x3c;
    TU_ASSERT_ERR(sysvshm_unlink(h1), ENOENT);
    /* The new block of the name is intact. */
    cr_assert(tu_shm_exists(sysvshm_key(h2)));
    cr_assert(tu_sem_exists(sysvshm_key(h2)));
    a = sysvshm_attach(n, 0);
    cr_assert_not_null(a, "the newer block was destroyed by a stale unlink: %s", strerror(errno));
    cr_assert_eq(sysvshm_size(a), 200u);
    cr_assert_eq(bytes(a)[0], 0x3c);
    cr_assert_eq(sysvshm_lock(a, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_unlock(a), 0);
    sysvshm_close(a);
    sysvshm_close(h1);
    /* remove acts on whatever holds the name now. */
    cr_assert_eq(sysvshm_remove(n), 0);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    TU_ASSERT_ERR(sysvshm_unlink(h2), ENOENT);
    sysvshm_close(h2);
}

Test(lifecycle, unlink_by_other_handle_then_unlink_is_enoent)
{
    const char *n = tu_name("other");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    sysvshm_t *a = TU_MUST(sysvshm_attach(n, 0));

    cr_assert_eq(sysvshm_unlink(a), 0);
    TU_ASSERT_ERR(sysvshm_unlink(h), ENOENT);
    sysvshm_close(a);
    sysvshm_close(h);
}

Test(lifecycle, lock_after_unlink_is_eidrm)
{
    const char *n = tu_name("eidrm");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    sysvshm_t *a = TU_MUST(sysvshm_attach(n, 0));
    sysvshm_t *b = TU_MUST(sysvshm_attach(n, 0));

    cr_assert_eq(sysvshm_lock(b, SYSVSHM_READ, 0), 0);
    cr_assert_eq(sysvshm_unlink(h), 0);
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_WRITE, 0), EIDRM);
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_READ, -1), EIDRM);
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_WRITE, 200), EIDRM);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 0), EIDRM);
    /* A lock held when the block went away is gone too. */
    TU_ASSERT_ERR(sysvshm_unlock(b), EIDRM);
    TU_ASSERT_ERR(sysvshm_unlock(b), EPERM);
    sysvshm_close(a);
    sysvshm_close(b);
    sysvshm_close(h);
}

static int child_blocked_then_eidrm(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h = sysvshm_attach(j->name, 0);

    TU_CHECK(h != NULL, 1);
    errno = 0;
    TU_CHECK(sysvshm_lock(h, SYSVSHM_WRITE, -1) == -1, 2);
    TU_CHECK(errno == EIDRM, 3);
    sysvshm_close(h);
    return 0;
}

Test(lifecycle, waiter_gets_eidrm_when_block_is_unlinked)
{
    const char *n = tu_name("waitrm");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    struct job j = { n, 100, 0, -1, -1, NULL };
    key_t k = sysvshm_key(h);
    pid_t pid;
    int st;

    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    pid = tu_fork(child_blocked_then_eidrm, &j);
    cr_assert_eq(tu_wait_lock_waiters(k, 1, 10000), 0, "the child never blocked");
    cr_assert_eq(sysvshm_unlink(h), 0);
    st = tu_wait(pid, 10000);
    cr_assert_eq(st, 0, "blocked waiter: check %d failed (-1: still waiting)", st);
    sysvshm_close(h);
}

/* ---- permissions (need root to switch users) ----------------------------- */

static void become_nobody(void)
{
    if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
        _exit(99);
}

static int child_nobody_attach(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h;

    become_nobody();
    errno = 0;
    h = sysvshm_attach(j->name, j->flags);
    if (h != NULL) {
        sysvshm_close(h);
        return 0;
    }
    return errno == EACCES ? 13 : 1;
}

Test(lifecycle, attach_denied_by_mode_is_eacces)
{
    const char *n = tu_name("eacces");
    sysvshm_t *h;
    struct job j = { n, 10, 0, -1, -1, NULL };
    int st;

    if (geteuid() != 0)
        cr_skip_test("needs root to run a child as another user");
    h = TU_MUST(sysvshm_create(n, 10, 0, 0600));
    st = tu_wait(tu_fork(child_nobody_attach, &j), 10000);
    cr_assert_eq(st, 13, "other user attaching a 0600 block: expected EACCES (13), got %d", st);
    j.flags = SYSVSHM_RDONLY;
    st = tu_wait(tu_fork(child_nobody_attach, &j), 10000);
    cr_assert_eq(st, 13, "read-only attach of a 0600 block by another user: got %d", st);
    sysvshm_close(h);
    /* The failed attaches changed nothing. */
    h = TU_MUST(sysvshm_attach(n, 0));
    sysvshm_unlink(h);
    sysvshm_close(h);
}

static int child_nobody_lock(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h;

    become_nobody();
    h = sysvshm_attach(j->name, SYSVSHM_RDONLY);
    TU_CHECK(h != NULL, 1);
    TU_CHECK(bytes(h)[0] == 0x21, 2);
    errno = 0;
    TU_CHECK(sysvshm_lock(h, SYSVSHM_READ, 0) == -1, 3);
    TU_CHECK(errno == EACCES, 4);
    sysvshm_close(h);
    return 0;
}

Test(lifecycle, lock_denied_by_semaphore_mode_is_eacces)
{
    const char *n = tu_name("semacc");
    sysvshm_t *h;
    struct job j = { n, 10, 0, -1, -1, NULL };
    int st;

    if (geteuid() != 0)
        cr_skip_test("needs root to run a child as another user");
    h = TU_MUST(sysvshm_create(n, 10, 0, 0644));
    bytes(h)[0] = 0x21;
    st = tu_wait(tu_fork(child_nobody_lock, &j), 10000);
    cr_assert_eq(st, 0, "other user on a 0644 block: check %d failed", st);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

static int child_nobody_unlink(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h;

    become_nobody();
    h = sysvshm_attach(j->name, 0);
    TU_CHECK(h != NULL, 1);
    errno = 0;
    TU_CHECK(sysvshm_unlink(h) == -1, 2);
    TU_CHECK(errno == EPERM, 3);
    errno = 0;
    TU_CHECK(sysvshm_remove(j->name) == -1, 4);
    TU_CHECK(errno == EPERM, 5);
    sysvshm_close(h);
    return 0;
}

Test(lifecycle, unlink_by_another_user_is_eperm)
{
    const char *n = tu_name("eperm");
    sysvshm_t *h, *a;
    struct job j = { n, 10, 0, -1, -1, NULL };
    int st;

    if (geteuid() != 0)
        cr_skip_test("needs root to run a child as another user");
    h = TU_MUST(sysvshm_create(n, 10, 0, 0666));
    st = tu_wait(tu_fork(child_nobody_unlink, &j), 10000);
    cr_assert_eq(st, 0, "other user unlinking: check %d failed", st);
    a = sysvshm_attach(n, 0);
    cr_assert_not_null(a, "the block is gone after a refused unlink");
    cr_assert_eq(sysvshm_lock(a, SYSVSHM_WRITE, 0), 0, "the semaphore set is gone");
    sysvshm_unlock(a);
    sysvshm_close(a);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

static int child_nobody_create(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h;

    become_nobody();
    h = sysvshm_create(j->name, j->size, 0, 0666);
    TU_CHECK(h != NULL, 1);
    bytes(h)[0] = 0x66;
    sysvshm_close(h);
    return 0;
}

Test(lifecycle, block_of_another_user_needs_anyuser)
{
    const char *n = tu_name("anyuser");
    struct job j = { n, 10, 0, -1, -1, NULL };
    sysvshm_t *a;
    int st;

    if (geteuid() != 0)
        cr_skip_test("needs root to run a child as another user");
    st = tu_wait(tu_fork(child_nobody_create, &j), 10000);
    cr_assert_eq(st, 0, "nobody creating a block: check %d failed", st);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EACCES);
    TU_ASSERT_ERR(sysvshm_remove(n), EACCES);
    a = sysvshm_attach(n, SYSVSHM_ANYUSER);
    cr_assert_not_null(a, "attach with ANYUSER: %s", strerror(errno));
    cr_assert_eq(bytes(a)[0], 0x66);
    sysvshm_close(a);
    cr_assert_eq(sysvshm_remove_v2(n, SYSVSHM_ANYUSER), 0);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, SYSVSHM_ANYUSER), ENOENT);
}
