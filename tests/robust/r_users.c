/*
 * r_users.c - blocks of other users.  By default attach and remove accept
 * only blocks created by the caller's effective user or by root; with
 * SYSVSHM_ANYUSER other users' blocks are accepted (their permissions still
 * apply).  A user who creates a name another user holds gets a block of its
 * own beside it.  Needs root, to make children of two other users.
 */
#define _DEFAULT_SOURCE 1 /* setgroups(), for this Linux/BSD test only */
#include "rutil.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

TestSuite(users, .fini = r_cleanup, .timeout = TU_TIMEOUT);

/* Two users that need not exist in /etc/passwd: the kernel only needs ids. */
#define UID_A 65534
#define UID_B 65533

enum step {
    A_CREATE,          /* A makes the block, world read/write */
    B_PROBE,           /* B: attach/remove without and with ANYUSER */
    B_CREATE_BESIDE,   /* B makes the same name: beside A's */
    A_OWN,             /* A attaches its own block */
    B_OWN,             /* B attaches its own block */
    B_PLANT,           /* B makes a name first (a planted block) */
    A_NOT_PLANTED,     /* A does not take B's planted block */
    USER_ROOT_BLOCK    /* a user attaches root's block, may not remove it */
};

struct job {
    uid_t uid;
    enum step step;
    const char *name;
    key_t key; /* a key to compare against, for some steps */
};

static int become(uid_t uid)
{
    gid_t g = (gid_t)uid;

    /* Groups first: after setuid we could not drop root's. */
    if (setgroups(1, &g) != 0 || setgid(g) != 0 || setuid(uid) != 0)
        return -1;
    return geteuid() == uid ? 0 : -1;
}

#define EXPECT_NULL(expr, err, code)                                          \
    do {                                                                      \
        sysvshm_t *x_;                                                        \
        errno = 0;                                                            \
        x_ = (expr);                                                          \
        if (x_ != NULL || errno != (err)) {                                   \
            fprintf(stderr, "uid %ld: %s: got %p, %s\n", (long)geteuid(),     \
                    #expr, (void *)x_, strerror(errno));                      \
            _exit(code);                                                      \
        }                                                                     \
    } while (0)

#define EXPECT_ERR(expr, err, code)                                           \
    do {                                                                      \
        int r_;                                                               \
        errno = 0;                                                            \
        r_ = (expr);                                                          \
        if (r_ != -1 || errno != (err)) {                                     \
            fprintf(stderr, "uid %ld: %s: got %d, %s\n", (long)geteuid(),     \
                    #expr, r_, strerror(errno));                              \
            _exit(code);                                                      \
        }                                                                     \
    } while (0)

static int as_user(void *arg)
{
    struct job *j = arg;
    sysvshm_t *h;

    TU_CHECK(become(j->uid) == 0, 90);
    switch (j->step) {
    case A_CREATE:
        h = sysvshm_create(j->name, 100, 0, 0666);
        TU_CHECK(h != NULL, 2);
        TU_CHECK(sysvshm_key(h) == j->key, 3);
        memcpy(sysvshm_buf(h), "A-data", 7);
        sysvshm_close(h);
        return 0;

    case B_PROBE:
        /* Not B's: passed over, so nothing found but a denied block. */
        EXPECT_NULL(sysvshm_attach(j->name, 0), EACCES, 10);
        EXPECT_NULL(sysvshm_attach(j->name, SYSVSHM_RDONLY), EACCES, 11);
        EXPECT_ERR(sysvshm_remove(j->name), EACCES, 12);
        EXPECT_ERR(sysvshm_remove_v2(j->name, 0), EACCES, 13);
        /* Deliberate sharing: ANYUSER accepts it, and the mode allows all. */
        h = sysvshm_attach(j->name, SYSVSHM_ANYUSER);
        TU_CHECK(h != NULL, 14);
        TU_CHECK(memcmp(sysvshm_buf(h), "A-data", 7) == 0, 15);
        TU_CHECK(sysvshm_lock(h, SYSVSHM_WRITE, 1000) == 0, 16);
        memcpy((char *)sysvshm_buf(h) + 50, "B-wrote", 8);
        TU_CHECK(sysvshm_unlock(h) == 0, 17);
        /* But B may not destroy A's block (nor wedge it half-removed). */
        EXPECT_ERR(sysvshm_unlink(h), EPERM, 18);
        sysvshm_close(h);
        EXPECT_ERR(sysvshm_remove_v2(j->name, SYSVSHM_ANYUSER), EPERM, 19);
        h = sysvshm_attach(j->name, SYSVSHM_ANYUSER | SYSVSHM_RDONLY);
        TU_CHECK(h != NULL, 20); /* still READY, still there */
        sysvshm_close(h);
        return 0;

    case B_CREATE_BESIDE:
        h = sysvshm_create(j->name, 200, 0, 0600);
        TU_CHECK(h != NULL, 30);
        TU_CHECK(sysvshm_key(h) != j->key, 31);
        memcpy(sysvshm_buf(h), "B-data", 7);
        sysvshm_close(h);
        /* B's own block is now what the name means to B. */
        h = sysvshm_attach(j->name, 0);
        TU_CHECK(h != NULL, 32);
        TU_CHECK(memcmp(sysvshm_buf(h), "B-data", 7) == 0, 33);
        TU_CHECK(sysvshm_size(h) == 200, 34);
        sysvshm_close(h);
        return 0;

    case A_OWN:
        h = sysvshm_attach(j->name, 0);
        TU_CHECK(h != NULL, 40);
        TU_CHECK(sysvshm_key(h) == j->key, 41);
        TU_CHECK(memcmp(sysvshm_buf(h), "A-data", 7) == 0, 42);
        TU_CHECK(memcmp((char *)sysvshm_buf(h) + 50, "B-wrote", 8) == 0, 43);
        sysvshm_close(h);
        return 0;

    case B_OWN:
        h = sysvshm_attach(j->name, 0);
        TU_CHECK(h != NULL, 50);
        TU_CHECK(sysvshm_key(h) != j->key, 51);
        TU_CHECK(memcmp(sysvshm_buf(h), "B-data", 7) == 0, 52);
        /* B removes its own block; A's stays. */
        TU_CHECK(sysvshm_unlink(h) == 0, 53);
        sysvshm_close(h);
        EXPECT_NULL(sysvshm_attach(j->name, 0), EACCES, 54);
        return 0;

    case B_PLANT:
        h = sysvshm_create(j->name, 100, 0, 0666);
        TU_CHECK(h != NULL, 60);
        TU_CHECK(sysvshm_key(h) == j->key, 61);
        memcpy(sysvshm_buf(h), "planted", 8);
        sysvshm_close(h);
        return 0;

    case A_NOT_PLANTED:
        /* A looks for its block: B's look-alike is not it. */
        EXPECT_NULL(sysvshm_attach(j->name, 0), EACCES, 70);
        /* A makes its own beside, and from then on gets its own. */
        h = sysvshm_create(j->name, 100, 0, 0600);
        TU_CHECK(h != NULL, 71);
        TU_CHECK(sysvshm_key(h) != j->key, 72);
        memcpy(sysvshm_buf(h), "secret", 7);
        sysvshm_close(h);
        h = sysvshm_attach(j->name, 0);
        TU_CHECK(h != NULL, 73);
        TU_CHECK(memcmp(sysvshm_buf(h), "secret", 7) == 0, 74);
        TU_CHECK(sysvshm_unlink(h) == 0, 75);
        sysvshm_close(h);
        return 0;

    case USER_ROOT_BLOCK:
        /* Blocks made by root are trusted by every user... */
        EXPECT_NULL(sysvshm_attach(j->name, 0), EACCES, 79); /* mode 0644 */
        h = sysvshm_attach(j->name, SYSVSHM_RDONLY);
        TU_CHECK(h != NULL, 80);
        TU_CHECK(memcmp(sysvshm_buf(h), "root", 5) == 0, 81);
        sysvshm_close(h);
        /* ...but only root (owner, creator) may destroy them. */
        EXPECT_ERR(sysvshm_remove(j->name), EPERM, 82);
        return 0;
    }
    return 99;
}

static void run_as(uid_t uid, enum step step, const char *name, key_t key)
{
    struct job j;
    int st;

    j.uid = uid;
    j.step = step;
    j.name = name;
    j.key = key;
    st = tu_wait(tu_fork(as_user, &j), 15000);
    cr_assert_eq(st, 0, "uid %ld, step %d: child failed with %d (see the check with "
                        "that number in r_users.c; 90: could not change user)",
                 (long)uid, (int)step, st);
}

Test(users, another_users_block_needs_anyuser_and_stays)
{
    const char *n;
    key_t k0;
    sysvshm_t *h;

    if (!r_root("changing users"))
        return;
    n = r_name("users");
    k0 = tu_name_key(n);
    run_as(UID_A, A_CREATE, n, k0);
    run_as(UID_B, B_PROBE, n, k0);
    run_as(UID_B, B_CREATE_BESIDE, n, k0);
    cr_assert_eq(r_count_shm(n), 2, "%s", r_describe(n));
    run_as(UID_A, A_OWN, n, k0);
    run_as(UID_B, B_OWN, n, k0);

    /* Root is not exempt from the rule: a block made by A is A's. */
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EACCES);
    TU_ASSERT_ERR(sysvshm_remove(n), EACCES);
    h = TU_MUST(sysvshm_attach(n, SYSVSHM_ANYUSER));
    cr_assert_eq(memcmp(sysvshm_buf(h), "A-data", 7), 0);
    sysvshm_close(h);
    /* Root may remove it, deliberately. */
    cr_assert_eq(sysvshm_remove_v2(n, SYSVSHM_ANYUSER), 0);
    cr_assert(tu_name_keys_free(n), "%s", r_describe(n));
}

Test(users, planted_block_is_not_taken_for_ours)
{
    const char *n;
    key_t k0;

    if (!r_root("changing users"))
        return;
    n = r_name("plant");
    k0 = tu_name_key(n);
    run_as(UID_B, B_PLANT, n, k0);
    run_as(UID_A, A_NOT_PLANTED, n, k0);
    cr_assert_eq(r_count_shm(n), 1, "%s", r_describe(n));
    cr_assert_eq(sysvshm_remove_v2(n, SYSVSHM_ANYUSER), 0);
    cr_assert(tu_name_keys_free(n), "%s", r_describe(n));
}

Test(users, roots_block_is_trusted_but_not_removable_by_users)
{
    const char *n;
    sysvshm_t *h;

    if (!r_root("changing users"))
        return;
    n = r_name("rootblk");
    h = TU_MUST(sysvshm_create(n, 100, 0, 0644));
    memcpy(sysvshm_buf(h), "root", 5);
    run_as(UID_A, USER_ROOT_BLOCK, n, 0);
    cr_assert_eq(memcmp(sysvshm_buf(h), "root", 5), 0);
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
    cr_assert(tu_name_keys_free(n), "%s", r_describe(n));
}

/* The sharing recipe of sysvshm_create(3) and the README: a service makes a
 * 0660 block; a member of its group, running as another user, attaches it
 * with SYSVSHM_ANYUSER (and only with it); a user outside the group cannot,
 * ANYUSER or not. */
#define UID_SVC 65532
#define UID_OUT 65531
#define GID_SHARE 65530

struct groupjob {
    uid_t uid;
    gid_t gid;   /* primary group */
    gid_t extra; /* a supplementary group, or 0 */
    const char *name;
    int role;    /* 0 service, 1 member, 2 outsider */
};

static int as_group_user(void *arg)
{
    struct groupjob *j = arg;
    gid_t groups[2];
    sysvshm_t *h;
    int n = 0;

    groups[n++] = j->gid;
    if (j->extra != 0)
        groups[n++] = j->extra;
    TU_CHECK(setgroups((size_t)n, groups) == 0 && setgid(j->gid) == 0 && setuid(j->uid) == 0, 90);
    switch (j->role) {
    case 0:
        h = sysvshm_create(j->name, 4096, 0, 0660);
        TU_CHECK(h != NULL, 1);
        memcpy(sysvshm_buf(h), "svc", 4);
        sysvshm_close(h);
        return 0;
    case 1:
        EXPECT_NULL(sysvshm_attach(j->name, 0), EACCES, 10);
        h = sysvshm_attach(j->name, SYSVSHM_ANYUSER);
        TU_CHECK(h != NULL, 11);
        TU_CHECK(memcmp(sysvshm_buf(h), "svc", 4) == 0, 12);
        TU_CHECK(sysvshm_lock(h, SYSVSHM_WRITE, 1000) == 0, 13);
        memcpy((char *)sysvshm_buf(h) + 8, "member", 7);
        TU_CHECK(sysvshm_unlock(h) == 0, 14);
        EXPECT_ERR(sysvshm_unlink(h), EPERM, 15);
        sysvshm_close(h);
        return 0;
    case 2:
        EXPECT_NULL(sysvshm_attach(j->name, 0), EACCES, 20);
        EXPECT_NULL(sysvshm_attach(j->name, SYSVSHM_ANYUSER), EACCES, 21);
        EXPECT_NULL(sysvshm_attach(j->name, SYSVSHM_ANYUSER | SYSVSHM_RDONLY), EACCES, 22);
        return 0;
    }
    return 99;
}

static void run_group_user(uid_t uid, gid_t gid, gid_t extra, const char *name, int role)
{
    struct groupjob j;
    int st;

    j.uid = uid;
    j.gid = gid;
    j.extra = extra;
    j.name = name;
    j.role = role;
    st = tu_wait(tu_fork(as_group_user, &j), 15000);
    cr_assert_eq(st, 0, "uid %ld, role %d: child failed with %d (see r_users.c)",
                 (long)uid, role, st);
}

Test(users, group_member_shares_a_0660_block_with_anyuser)
{
    const char *n;
    sysvshm_t *h;

    if (!r_root("changing users"))
        return;
    n = r_name("group");
    run_group_user(UID_SVC, GID_SHARE, 0, n, 0);
    run_group_user(UID_A, UID_A, GID_SHARE, n, 1);
    run_group_user(UID_OUT, UID_OUT, 0, n, 2);
    h = TU_MUST(sysvshm_attach(n, SYSVSHM_ANYUSER));
    cr_assert_eq(memcmp((char *)sysvshm_buf(h) + 8, "member", 7), 0, "the member's write is lost");
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
    cr_assert(tu_name_keys_free(n), "%s", r_describe(n));
}
