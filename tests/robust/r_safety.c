/*
 * r_safety.c - the library destroys only what is provably its own, of this
 * name, and abandoned (lib/reclaim.c): marks in permission bits that only
 * an owner, a creator or root can set, a creator pid the kernel says is
 * dead (unknown counts as alive), nothing attached, and for a semaphore set
 * its size, its mark and its creator.  Each test here plants what another
 * program, another user or a mere writer of a block could leave at a name's
 * keys, and checks that it survives byte for byte (or with its values), and
 * the exact errno the caller gets.  Multi-user cases need root (they switch
 * children to throwaway uids) and are skipped otherwise.
 */
#include "config.h"
#include "rutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SVS_UNSHARE
#define SVS_UNSHARE ""
#endif

/* Not in the installed API (lib/compat.h); linked in from the library. */
int svs_pid_alive(long pid);

TestSuite(safety, .fini = r_cleanup, .timeout = TU_TIMEOUT);

#define USZ 100u
#define R_SEM_R 1 /* the readers' semaphore (docs/format.md) */

static key_t kx(const char *n, unsigned i)
{
    return tu_probe(tu_name_key(n), i);
}

/* Child-side variants of the assertions (exit with a code on failure). */
#define C_NULL(expr, err, code)                                               \
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

#define C_ERR(expr, err, code)                                                \
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

/* ==== 1. a raw segment of a dead creator, zero header, same owner ======== */

#define NRAW (2 * SYSVSHM_PROBE_MAX)

/* A raw segment at key made by a child that has exited (so its creator is
 * dead), nothing attached; -1 if it cannot be made.  No cr_assert: this
 * also runs in a child as another user.  (The names are tracked by the
 * test process: r_cleanup sweeps their keys.) */
static int dead_raw_segment(key_t key, size_t segsz, const unsigned char *bytes, int mode)
{
    pid_t pid = fork();
    int st;

    if (pid < 0)
        return -1;
    if (pid == 0) {
        int id = shmget(key, segsz, IPC_CREAT | IPC_EXCL | mode);
        unsigned char *p;

        if (id < 0)
            _exit(1);
        p = shmat(id, NULL, 0);
        if (p == (void *)-1)
            _exit(2);
        memcpy(p, bytes, segsz);
        shmdt(p);
        _exit(0);
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return shmget(key, 0, 0);
}

#define SAY(code, ...)                                                        \
    do {                                                                      \
        fprintf(stderr, "uid %ld: ", (long)geteuid());                        \
        fprintf(stderr, __VA_ARGS__);                                         \
        fprintf(stderr, "\n");                                                \
        return code;                                                          \
    } while (0)

/* For each of the names (NRAW of them): a raw segment with its first 384
 * bytes zero sits at probe key i (small, then 1 MiB with data at 4096);
 * create of the name succeeds at another key (or says EADDRINUSE) and the
 * segment stays as it was.  Returns 0, or a code after saying why. */
static int raw_zero_segments_survive(const char *const *names)
{
    static const size_t sizes[2] = { R_HDR + USZ, 1u << 20 };
    unsigned i, s;

    for (s = 0; s < 2; s++) {
        for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
            const char *n = names[s * SYSVSHM_PROBE_MAX + i];
            key_t k = kx(n, i);
            size_t segsz = sizes[s], len;
            unsigned char *bytes = calloc(1, segsz), *snap;
            sysvshm_t *h;
            int id;

            if (bytes == NULL)
                SAY(2, "out of memory");
            if (segsz > 4096 + 16)
                memcpy(bytes + 4096, "program data", 12); /* header bytes zero */
            id = dead_raw_segment(k, segsz, bytes, 0600);
            free(bytes);
            if (id < 0)
                SAY(3, "cannot make a raw segment at key 0x%08lx", (unsigned long)k);
            snap = r_snapshot(id, &len);
            if (snap == NULL)
                SAY(4, "cannot read the raw segment");

            errno = 0;
            h = sysvshm_create(n, USZ, 0, 0600);
            if (h == NULL && errno != EADDRINUSE)
                SAY(5, "create with a raw zero-header %zu-byte segment at key %u: %s;%s",
                    segsz, i, strerror(errno), r_describe(n));
            if (!r_unchanged(k, id, snap, len))
                SAY(6, "create destroyed or changed a raw %zu-byte segment (mode 0600, "
                       "dead creator, first 384 bytes zero) at probe key %u;%s",
                    segsz, i, r_describe(n));
            if (h != NULL) {
                if (sysvshm_key(h) == k)
                    SAY(7, "create returned the raw segment's key");
                if (sysvshm_unlink(h) != 0 || sysvshm_close(h) != 0)
                    SAY(8, "unlink of the new block: %s", strerror(errno));
            }
            errno = 0;
            h = sysvshm_attach(n, 0);
            if (h != NULL || errno != ENOENT)
                SAY(9, "attach with only the raw segment there: %p, %s", (void *)h,
                    strerror(errno));
            if (!r_unchanged(k, id, snap, len))
                SAY(10, "the raw segment at key %u changed after attach", i);
            if (r_count_shm(n) != 1 || r_count_sem(n) != 0)
                SAY(11, "left at the keys:%s", r_describe(n));
            free(snap);
            if (shmctl(id, IPC_RMID, NULL) != 0)
                SAY(12, "IPC_RMID of the raw segment: %s", strerror(errno));
        }
    }
    return 0;
}

static void raw_names(const char **names)
{
    unsigned i;

    for (i = 0; i < NRAW; i++)
        names[i] = r_name("rawzero");
}

Test(safety, create_spares_raw_zero_header_segment_of_dead_creator_at_each_key)
{
    const char *names[NRAW];
    int rc;

    /* As the test's own user: root's own segments when run as root. */
    raw_names(names);
    rc = raw_zero_segments_survive(names);
    cr_assert_eq(rc, 0, "check %d failed (message above)", rc);
}

static int raw_zero_as_user(void *arg)
{
    return raw_zero_segments_survive(arg);
}

Test(safety, create_spares_raw_zero_header_segment_of_dead_creator_as_plain_user)
{
    const char *names[NRAW];
    int st;

    if (!r_root("a plain user's own segments (switching to a throwaway uid)"))
        return;
    raw_names(names);
    /* The same, by and for a plain user. */
    st = r_run_as(R_UID_OWNER, raw_zero_as_user, (void *)names, 50000);
    cr_assert_eq(st, 0, "as uid %d: check %d failed (90: could not change user; else see "
                        "the message above)", R_UID_OWNER, st);
}

/* ==== 2. an unknown creator pid is alive =============================== */

Test(safety, unknown_creator_pid_zero_counts_as_alive)
{
    cr_assert_eq(svs_pid_alive(0), 1, "svs_pid_alive(0): a pid not visible from our PID "
                                      "namespace must count as alive");
    cr_assert_eq(svs_pid_alive(-1), 1);
    cr_assert_eq(svs_pid_alive((long)getpid()), 1);
}

static void probe_path(char *out, size_t n)
{
    const char *env = getenv("SVS_PIDNS_PROBE");
    ssize_t len;
    char *slash;

    if (env != NULL) {
        snprintf(out, n, "%s", env);
        return;
    }
    len = readlink("/proc/self/exe", out, n - 16);
    if (len > 0) {
        out[len] = '\0';
        slash = strrchr(out, '/');
        if (slash != NULL) {
            strcpy(slash + 1, "r_pidns_probe");
            if (access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, n, "tests/robust/r_pidns_probe");
}

/* A live process of this (host) PID namespace makes a half-made block at
 * the name's first key; r_pidns_probe, inside `unshare --pid --fork',
 * sees its creator as pid 0 and must treat it as alive. */
static void half_made_seen_from_pid_namespace(const char *mode)
{
    char probe[4096], idbuf[32];
    const char *n;
    unsigned char hdr[R_HDR], *snap;
    size_t len;
    pid_t creator, pid;
    int id, st;

    if (!r_root("unshare --pid"))
        return;
    if (SVS_UNSHARE[0] == '\0' || access(SVS_UNSHARE, X_OK) != 0) {
        cr_skip_test("unshare(1) not found at configure time: cannot make a PID namespace");
        return;
    }
    probe_path(probe, sizeof probe);
    if (access(probe, X_OK) != 0) {
        cr_skip_test("%s not found (set SVS_PIDNS_PROBE)", probe);
        return;
    }
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl(SVS_UNSHARE, SVS_UNSHARE, "--pid", "--fork", "true", (char *)NULL);
        _exit(127);
    }
    if (tu_wait(pid, 10000) != 0) {
        cr_skip_test("unshare --pid --fork does not work here");
        return;
    }

    n = r_name("pidns");
    memset(hdr, 0, sizeof hdr);
    if (strcmp(mode, "init") == 0)
        r_hdr_build(hdr, n, USZ, R_STATE_INIT, 0, 1, -1); /* as a creator that stopped */
    /* Made with the creator's mark (0711), by a process that stays alive. */
    id = r_raw_segment_by((uid_t)-1, tu_name_key(n), R_HDR + USZ, hdr, sizeof hdr, 0711,
                          &creator);
    snap = r_snapshot(id, &len);
    cr_assert_not_null(snap);
    snprintf(idbuf, sizeof idbuf, "%d", id);
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl(SVS_UNSHARE, SVS_UNSHARE, "--pid", "--fork", probe, mode, n, idbuf,
              (char *)NULL);
        _exit(127);
    }
    st = tu_wait(pid, 40000);
    tu_kill(creator);
    if (st == 77) {
        cr_skip_test("this kernel shows the host creator's pid inside a PID namespace");
        return;
    }
    cr_assert_eq(st, 0, "r_pidns_probe %s failed with %d (its message is above);%s", mode, st,
                 r_describe(n));
    cr_assert(r_unchanged(tu_name_key(n), id, snap, len),
              "the half-made block of a live creator was changed or removed");
    free(snap);
}

Test(safety, pid_namespace_create_spares_zero_header_block_of_live_host_creator,
     .timeout = 60)
{
    half_made_seen_from_pid_namespace("partial");
}

Test(safety, pid_namespace_attach_waits_for_init_block_of_live_host_creator, .timeout = 60)
{
    half_made_seen_from_pid_namespace("init");
}

/* ==== 3. another user's semaphore set is never removed ================== */

struct create_job {
    const char *name;
    key_t not_key; /* the key the new block must not be at (0: any) */
};

/* create of the name succeeds (somewhere else than not_key); the new block
 * is removed again. */
static int create_elsewhere(void *arg)
{
    struct create_job *j = arg;
    sysvshm_t *h;

    errno = 0;
    h = sysvshm_create(j->name, USZ, 0, 0600);
    if (h == NULL) {
        fprintf(stderr, "uid %ld: create: %s;%s\n", (long)geteuid(), strerror(errno),
                r_describe(j->name));
        return 2;
    }
    if (j->not_key != 0 && sysvshm_key(h) == j->not_key)
        return 3;
    if (sysvshm_unlink(h) != 0 || sysvshm_close(h) != 0)
        return 4;
    return 0;
}

static void assert_set_intact(int semid, key_t key, const unsigned short *want, int nsems,
                              const char *what)
{
    unsigned short now[8];

    cr_assert_eq(semget(key, 0, 0), semid, "%s: the set at key 0x%08lx was removed", what,
                 (unsigned long)key);
    cr_assert_eq(r_sem_values(semid, now, 8), nsems, "%s: the set changed size", what);
    cr_assert_eq(memcmp(now, want, sizeof *want * (size_t)nsems), 0,
                 "%s: the set's values changed (%u %u %u)", what, now[0], now[1], now[2]);
}

/* A planted segment at the name's first key whose header says UNLINKING
 * and names the victim's set, with the remover's mark in its mode. */
enum planter { BY_OTHER_USER, BY_ROOT_OWNED_BY_VICTIM };

static void doomed_header_names_victims_set(enum planter who, uid_t creator)
{
    static const unsigned short vals[3] = { 5, 7, 9 };
    const char *n = r_name("victimset");
    key_t k0 = tu_name_key(n);
    unsigned char hdr[R_HDR];
    struct create_job j;
    int semid, id, st;

    /* The victim's set looks like one of ours in every way but its creator. */
    semid = r_raw_sem_by(R_UID_OWNER, k0, 3, 0600 | 0100, vals);
    r_hdr_build(hdr, n, USZ, R_STATE_UNLINKING, 0, 1, semid);
    if (who == BY_OTHER_USER) {
        id = r_raw_segment_by(R_UID_OTHER, k0, R_HDR + USZ, hdr, sizeof hdr, 0766, NULL);
    } else {
        id = r_raw_segment_by((uid_t)-1, k0, R_HDR + USZ, hdr, sizeof hdr, 0700, NULL);
        cr_assert_eq(r_shm_set(id, R_UID_OWNER, 0700), 0, "IPC_SET: %s", strerror(errno));
    }
    j.name = n;
    j.not_key = 0;
    st = r_run_as(creator, create_elsewhere, &j, 15000);
    assert_set_intact(semid, k0, vals, 3,
                      who == BY_OTHER_USER ? "segment planted by another user"
                                           : "segment planted by root, owned by the victim");
    cr_assert_eq(st, 0, "create by uid %ld: status %d;%s", (long)creator, st, r_describe(n));
}

Test(safety, create_as_root_never_removes_another_users_set_named_by_doomed_header)
{
    if (!r_root("another user's semaphore set"))
        return;
    doomed_header_names_victims_set(BY_OTHER_USER, (uid_t)-1);
    doomed_header_names_victims_set(BY_ROOT_OWNED_BY_VICTIM, (uid_t)-1);
}

Test(safety, create_as_victim_never_removes_own_set_named_by_planted_doomed_header)
{
    if (!r_root("another user's semaphore set"))
        return;
    doomed_header_names_victims_set(BY_OTHER_USER, R_UID_OWNER);
    doomed_header_names_victims_set(BY_ROOT_OWNED_BY_VICTIM, R_UID_OWNER);
}

/* The caller's own doomed leftover names a set of the caller's own that is
 * not one of ours: 2 semaphores (with the mark), or 3 without the mark. */
static void doomed_header_names_unmarked_set(int nsems, int mode)
{
    static const unsigned short vals[3] = { 4, 2, 1 };
    const char *n = r_name("oddset");
    key_t k0 = tu_name_key(n);
    unsigned char hdr[R_HDR];
    sysvshm_t *h;
    int semid;

    semid = r_raw_sem_by((uid_t)-1, k0, nsems, mode, vals);
    r_hdr_build(hdr, n, USZ, R_STATE_UNLINKING, 0, 1, semid);
    (void)r_raw_segment_by((uid_t)-1, k0, R_HDR + USZ, hdr, sizeof hdr, 0700, NULL);
    h = sysvshm_create(n, USZ, 0, 0600);
    cr_assert_not_null(h, "create: %s;%s", strerror(errno), r_describe(n));
    assert_set_intact(semid, k0, vals, nsems, nsems != 3 ? "a set of 2 semaphores"
                                                         : "a set without the 0100 mark");
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
    assert_set_intact(semid, k0, vals, nsems, "after unlink of the new block");
}

Test(safety, create_never_removes_set_with_other_nsems_or_without_mark)
{
    doomed_header_names_unmarked_set(2, 0600 | 0100);
    doomed_header_names_unmarked_set(3, 0600);
}

/* ==== 4. a mere writer cannot get a block destroyed ===================== */

struct holder {
    const char *name;
    int go[2], done[2]; /* parent -> child: check now; child -> parent: ready */
};

/* Attach, write, say so; when told, check that the name's first key still
 * holds the very segment attached and the data is there; stay attached
 * until told a second time. */
static int attached_holder(void *arg)
{
    struct holder *hd = arg;
    sysvshm_t *h = sysvshm_attach(hd->name, 0);
    key_t key;
    int shmid;

    if (h == NULL)
        return 2;
    key = sysvshm_key(h);
    shmid = shmget(key, 0, 0);
    memcpy(sysvshm_buf(h), "child-data", 10);
    if (tu_post(hd->done[1]) != 0 || tu_take(hd->go[0], 20000) != 0)
        return 3;
    /* No split brain: the name still means the segment we are attached to. */
    if (shmget(key, 0, 0) != shmid)
        return 4;
    if (memcmp(sysvshm_buf(h), "child-data", 10) != 0)
        return 5;
    if (tu_post(hd->done[1]) != 0 || tu_take(hd->go[0], 20000) != 0)
        return 6;
    sysvshm_close(h);
    return 0;
}

struct forger {
    const char *name;
    uint32_t state;
};

/* Another user, allowed to write the block (mode 0666) and attaching it
 * deliberately (SYSVSHM_ANYUSER), writes 4 bytes of state at offset 12 of
 * the header, which sits 384 bytes before the user's bytes. */
static int write_state(void *arg)
{
    struct forger *f = arg;
    sysvshm_t *h = sysvshm_attach(f->name, SYSVSHM_ANYUSER);

    if (h == NULL)
        return 2;
    memcpy((unsigned char *)sysvshm_buf(h) - R_HDR + R_OFF_STATE, &f->state, 4);
    sysvshm_close(h);
    return 0;
}

static void writer_forges_unlinking(int keep_attached)
{
    const char *n = r_name("forged");
    key_t k0 = tu_name_key(n);
    struct holder hd;
    struct forger f;
    sysvshm_t *h;
    pid_t child = 0;
    unsigned char *snap;
    size_t len;
    int shmid, semid, st;
    unsigned short vals[3];

    h = TU_MUST(sysvshm_create(n, USZ, 0, 0666));
    shmid = shmget(k0, 0, 0);
    semid = semget(k0, 0, 0);
    cr_assert(semid >= 0);
    sysvshm_close(h);
    hd.name = n;
    tu_pipe(hd.go);
    tu_pipe(hd.done);
    if (keep_attached) {
        child = tu_fork(attached_holder, &hd);
        cr_assert_eq(tu_take(hd.done[0], 10000), 0, "the attached child did not start");
    } else {
        h = TU_MUST(sysvshm_attach(n, 0));
        memcpy(sysvshm_buf(h), "child-data", 10);
        sysvshm_close(h);
    }
    f.name = n;
    f.state = R_STATE_UNLINKING;
    st = r_run_as(R_UID_OTHER, write_state, &f, 10000);
    cr_assert_eq(st, 0, "the other user's write: status %d", st);
    snap = r_snapshot(shmid, &len);
    cr_assert_not_null(snap);
    cr_assert_eq(r_get32(snap, R_OFF_STATE), R_STATE_UNLINKING);
    cr_assert_eq(r_sem_values(semid, vals, 3), 3);

    /* The header contradicts the kernel (no remover's mark): the block is
     * damaged, and keeps its name.  The owner's create first: it used to
     * take the forged state for a dead remover's and finish the removal. */
    errno = 0;
    h = sysvshm_create(n, USZ, 0, 0666);
    st = errno;
    if (h != NULL) {
        sysvshm_unlink(h);
        sysvshm_close(h);
    }
    cr_assert(r_unchanged(k0, shmid, snap, len),
              "the owner's create destroyed or changed the block after a writer forged "
              "UNLINKING;%s", r_describe(n));
    cr_assert(h == NULL && st == EEXIST, "the owner's create: expected EEXIST, got %s",
              h != NULL ? "a new block" : strerror(st));
    TU_ASSERT_NULL_ERR(sysvshm_create(n, USZ, 0, 0600), EEXIST);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EPROTO);
    TU_ASSERT_ERR(sysvshm_remove(n), EPROTO);
    cr_assert(r_unchanged(k0, shmid, snap, len),
              "the block was destroyed or changed after a writer forged UNLINKING;%s",
              r_describe(n));
    cr_assert_eq(memcmp(snap + R_HDR, "child-data", 10), 0);
    cr_assert_eq(semget(k0, 0, 0), semid, "the block's set was removed");
    cr_assert_eq(r_count_shm(n), 1, "%s", r_describe(n));
    cr_assert_eq(r_count_sem(n), 1, "%s", r_describe(n));
    cr_assert_eq(r_shm_mode(shmid), 0666, "the block's mode was changed");
    if (keep_attached) {
        cr_assert_eq(tu_post(hd.go[1]), 0);
        cr_assert_eq(tu_take(hd.done[0], 10000), 0, "the attached child saw a different "
                                                    "segment or lost its data (status %d)",
                     tu_wait(child, 1000));
        cr_assert_eq(tu_post(hd.go[1]), 0);
        st = tu_wait(child, 10000);
        cr_assert_eq(st, 0, "attached child: status %d", st);
        /* Detached now: still nobody removes it on their own. */
        TU_ASSERT_NULL_ERR(sysvshm_create(n, USZ, 0, 0666), EEXIST);
        TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EPROTO);
        cr_assert(r_unchanged(k0, shmid, snap, len), "removed once the child detached");
        cr_assert_eq(semget(k0, 0, 0), semid);
    }
    free(snap);
}

Test(safety, writer_forging_unlinking_on_attached_block_gets_nothing_destroyed)
{
    if (!r_root("another user's write"))
        return;
    writer_forges_unlinking(1);
}

Test(safety, writer_forging_unlinking_on_idle_block_gets_nothing_destroyed)
{
    if (!r_root("another user's write"))
        return;
    writer_forges_unlinking(0);
}

/* ==== 5. a doomed block still attached keeps its key ==================== */

Test(safety, doomed_block_still_attached_is_reclaimed_only_after_detach)
{
    const char *n = r_name("doomedinuse");
    key_t k0 = tu_name_key(n);
    struct holder hd;
    sysvshm_t *h;
    unsigned char *p, *snap;
    size_t len;
    pid_t child;
    int shmid, st;
    uint32_t unl = R_STATE_UNLINKING;

    h = TU_MUST(sysvshm_create(n, USZ, 0, 0600));
    shmid = shmget(k0, 0, 0);
    sysvshm_close(h);
    hd.name = n;
    tu_pipe(hd.go);
    tu_pipe(hd.done);
    child = tu_fork(attached_holder, &hd);
    cr_assert_eq(tu_take(hd.done[0], 10000), 0, "the attached child did not start");
    /* What a remover leaves when it dies after its mark and the state. */
    cr_assert_eq(r_shm_set(shmid, geteuid(), 0600 | 0100), 0);
    p = shmat(shmid, NULL, 0);
    cr_assert(p != (void *)-1);
    memcpy(p + R_OFF_STATE, &unl, 4);
    shmdt(p);
    snap = r_snapshot(shmid, &len);
    cr_assert_not_null(snap);

    h = sysvshm_create(n, USZ, 0, 0600);
    cr_assert_not_null(h, "create beside a doomed block in use: %s;%s", strerror(errno),
                       r_describe(n));
    cr_assert_eq(sysvshm_key(h), kx(n, 1), "the new block should be at the next key;%s",
                 r_describe(n));
    cr_assert(r_unchanged(k0, shmid, snap, len), "the doomed block in use was removed");
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
    cr_assert_eq(tu_post(hd.go[1]), 0);
    cr_assert_eq(tu_take(hd.done[0], 10000), 0, "the attached child lost its block");
    cr_assert_eq(tu_post(hd.go[1]), 0);
    st = tu_wait(child, 10000);
    cr_assert_eq(st, 0, "attached child: status %d", st);

    /* Nobody attached now: the next create finishes the removal. */
    h = sysvshm_create(n, USZ, 0, 0600);
    cr_assert_not_null(h, "create after the users let go: %s;%s", strerror(errno),
                       r_describe(n));
    cr_assert_eq(sysvshm_key(h), k0, "the doomed block was not reclaimed;%s", r_describe(n));
    cr_assert_eq(r_count_shm(n), 1, "%s", r_describe(n));
    cr_assert_eq(r_count_sem(n), 1, "%s", r_describe(n));
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
    cr_assert(tu_name_keys_free(n), "%s", r_describe(n));
    free(snap);
}

/* ==== 6. SYSVSHM_ANYUSER: the caller's own block first ================== */

struct anyuser_job {
    const char *name;
    key_t k1;
};

static int make_other_users_block(void *arg)
{
    struct anyuser_job *j = arg;
    sysvshm_t *h = sysvshm_create(j->name, USZ, 0, 0666);

    if (h == NULL)
        return 2;
    if (sysvshm_key(h) != tu_name_key(j->name))
        return 3;
    memcpy(sysvshm_buf(h), "theirs", 6);
    sysvshm_close(h);
    return 0;
}

/* Make one's own block beside another user's (it lands at key 1); with
 * SYSVSHM_ANYUSER attach and remove act on one's own. */
static int own_block_first(void *arg)
{
    struct anyuser_job *j = arg;
    sysvshm_t *h = sysvshm_create(j->name, USZ, 0, 0600);

    if (h == NULL) {
        fprintf(stderr, "uid %ld: create beside: %s\n", (long)geteuid(), strerror(errno));
        return 10;
    }
    if (sysvshm_key(h) != j->k1)
        return 11;
    memcpy(sysvshm_buf(h), "mine", 4);
    sysvshm_close(h);
    h = sysvshm_attach(j->name, SYSVSHM_ANYUSER);
    if (h == NULL)
        return 12;
    if (sysvshm_key(h) != j->k1 || memcmp(sysvshm_buf(h), "mine", 4) != 0) {
        fprintf(stderr, "uid %ld: attach with SYSVSHM_ANYUSER took the block at key "
                        "0x%08lx, not the caller's own\n", (long)geteuid(),
                (unsigned long)sysvshm_key(h));
        return 13;
    }
    sysvshm_close(h);
    h = sysvshm_attach(j->name, SYSVSHM_ANYUSER | SYSVSHM_RDONLY);
    if (h == NULL || sysvshm_key(h) != j->k1)
        return 14;
    sysvshm_close(h);
    if (sysvshm_remove_v2(j->name, SYSVSHM_ANYUSER) != 0) {
        fprintf(stderr, "uid %ld: remove_v2 ANYUSER: %s\n", (long)geteuid(), strerror(errno));
        return 15;
    }
    if (shmget(j->k1, 0, 0) >= 0 || semget(j->k1, 0, 0) >= 0)
        return 16; /* one's own block is the one gone */
    return 0;
}

static void anyuser_prefers_own(uid_t caller)
{
    struct anyuser_job j;
    const char *n = r_name("anyuser");
    key_t k0 = tu_name_key(n);
    unsigned char *snap;
    size_t len;
    int id, semid, st;
    unsigned short vals[3];

    j.name = n;
    j.k1 = kx(n, 1);
    st = r_run_as(R_UID_OTHER, make_other_users_block, &j, 10000);
    cr_assert_eq(st, 0, "the other user's create: status %d", st);
    id = shmget(k0, 0, 0);
    semid = semget(k0, 0, 0);
    snap = r_snapshot(id, &len);
    cr_assert_not_null(snap);
    cr_assert_eq(r_sem_values(semid, vals, 3), 3);
    st = r_run_as(caller, own_block_first, &j, 15000);
    cr_assert_eq(st, 0, "caller uid %ld: check %d failed;%s", (long)caller, st, r_describe(n));
    cr_assert(r_unchanged(k0, id, snap, len), "the other user's block was changed or removed");
    cr_assert_eq(semget(k0, 0, 0), semid, "the other user's set was removed");
    cr_assert_eq(r_count_shm(n), 1, "%s", r_describe(n));
    free(snap);
}

Test(safety, anyuser_attach_and_remove_prefer_callers_own_block_as_root)
{
    if (!r_root("another user's block"))
        return;
    anyuser_prefers_own((uid_t)-1);
}

Test(safety, anyuser_attach_and_remove_prefer_callers_own_block_as_plain_user)
{
    if (!r_root("another user's block"))
        return;
    anyuser_prefers_own(R_UID_THIRD);
}

/* ==== 7. the set removed by hand (ipcrm -s) ============================ */

Test(safety, owner_removes_block_whose_set_was_removed_by_hand)
{
    const char *n = r_name("ipcrms");
    key_t k0 = tu_name_key(n);
    sysvshm_t *h = TU_MUST(sysvshm_create(n, USZ, 0, 0600));
    int semid = semget(k0, 0, 0);

    sysvshm_close(h);
    cr_assert(semid >= 0);
    cr_assert_eq(semctl(semid, 0, IPC_RMID), 0); /* ipcrm -s */
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EPROTO);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, SYSVSHM_RDONLY), EPROTO);
    cr_assert_eq(sysvshm_remove(n), 0, "remove after ipcrm -s: %s;%s", strerror(errno),
                 r_describe(n));
    cr_assert(tu_name_keys_free(n), "left at the keys:%s", r_describe(n));
    TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
}

Test(safety, set_made_at_key_after_ipcrm_is_never_touched)
{
    static const unsigned short vals[3] = { 3, 1, 2 };
    const char *n = r_name("ipcrmnew");
    key_t k0 = tu_name_key(n);
    sysvshm_t *h = TU_MUST(sysvshm_create(n, USZ, 0, 0600));
    int semid = semget(k0, 0, 0), other, shmid = shmget(k0, 0, 0);
    uid_t by = geteuid() == 0 ? R_UID_OTHER : (uid_t)-1;
    unsigned char *snap;
    size_t len;

    sysvshm_close(h);
    cr_assert_eq(semctl(semid, 0, IPC_RMID), 0); /* ipcrm -s */
    /* Someone else (another user, when we are root) makes a set there, one
     * that looks like ours in size and mark. */
    other = r_raw_sem_by(by, k0, 3, 0600 | 0100, vals);
    snap = r_snapshot(shmid, &len);
    cr_assert_not_null(snap);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EPROTO);
    TU_ASSERT_ERR(sysvshm_remove(n), EPROTO);
    TU_ASSERT_ERR(sysvshm_remove_v2(n, SYSVSHM_ANYUSER), EPROTO);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, USZ, 0, 0600), EEXIST);
    assert_set_intact(other, k0, vals, 3, "a set made at the key after ipcrm -s");
    cr_assert(r_unchanged(k0, shmid, snap, len), "the block was changed or removed");
    free(snap);
}

/* ==== 8. the 32768th reader ============================================ */

static int writer_try(void *arg)
{
    sysvshm_t *h = sysvshm_attach(arg, 0);

    if (h == NULL)
        return 2;
    C_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 0), EBUSY, 3);
    C_ERR(sysvshm_lock(h, SYSVSHM_WRITE, 50), ETIMEDOUT, 4);
    sysvshm_close(h);
    return 0;
}

Test(safety, reader_beyond_semvmx_is_eagain_and_holds_nothing)
{
    const char *n = r_name("semvmx");
    key_t k0 = tu_name_key(n);
    sysvshm_t *h = TU_MUST(sysvshm_create(n, USZ, 0, 0600));
    int semid = semget(k0, 0, 0), st;
    unsigned short vals[3];

    cr_assert(semid >= 0);
    /* 32767 readers (SEMVMX): the test owns the block, so it may say so. */
    cr_assert_eq(r_sem_setval(semid, R_SEM_R, 32767), 0, "SETVAL 32767: %s", strerror(errno));
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_READ, 0), EAGAIN);
    TU_ASSERT_ERR(sysvshm_lock(h, SYSVSHM_READ, 100), EAGAIN);
    cr_assert_eq(r_sem_values(semid, vals, 3), 3);
    cr_assert(vals[0] == 0 && vals[1] == 32767 && vals[2] == 0,
              "after the failed reader locks: W %u R %u T %u", vals[0], vals[1], vals[2]);
    /* Nothing held: unlock has nothing to give back. */
    cr_assert_eq(sysvshm_unlock(h), -1, "unlock after a failed lock should fail");
    st = tu_wait(tu_fork(writer_try, (void *)n), 10000);
    cr_assert_eq(st, 0, "writer in another process: check %d", st);
    cr_assert_eq(r_sem_values(semid, vals, 3), 3);
    cr_assert(vals[0] == 0 && vals[1] == 32767 && vals[2] == 0,
              "after the writer's attempts: W %u R %u T %u", vals[0], vals[1], vals[2]);
    cr_assert_eq(r_sem_setval(semid, R_SEM_R, 0), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_READ, 0), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
}

/* ==== 9. a stray set at the name's key ================================= */

Test(safety, stray_marked_set_of_own_is_reclaimed_by_create)
{
    const char *n = r_name("stray");
    key_t k0 = tu_name_key(n);
    sysvshm_t *h;
    int stray;

    /* What a remover killed between segment and set used to leave. */
    stray = r_raw_sem_by((uid_t)-1, k0, 3, 0600 | 0100, NULL);
    h = sysvshm_create(n, USZ, 0, 0600);
    cr_assert_not_null(h, "create: %s;%s", strerror(errno), r_describe(n));
    cr_assert_eq(sysvshm_key(h), sysvshm_name_key(n),
                 "the stray set was stepped around, not reclaimed;%s", r_describe(n));
    cr_assert_neq(semget(k0, 0, 0), stray);
    cr_assert_eq(r_count_shm(n), 1, "%s", r_describe(n));
    cr_assert_eq(r_count_sem(n), 1, "%s", r_describe(n));
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
    cr_assert(tu_name_keys_free(n), "%s", r_describe(n));
}

static void stray_stepped_around(uid_t by, int mode)
{
    static const unsigned short vals[3] = { 6, 0, 1 };
    const char *n = r_name("straykept");
    key_t k0 = tu_name_key(n);
    sysvshm_t *h;
    int stray;

    stray = r_raw_sem_by(by, k0, 3, mode, vals);
    h = sysvshm_create(n, USZ, 0, 0600);
    cr_assert_not_null(h, "create: %s;%s", strerror(errno), r_describe(n));
    cr_assert_eq(sysvshm_key(h), kx(n, 1), "the new block should step to key 1;%s",
                 r_describe(n));
    assert_set_intact(stray, k0, vals, 3, mode & 0100 ? "another user's marked set"
                                                      : "a set without the mark");
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
    assert_set_intact(stray, k0, vals, 3, "after unlink of the new block");
}

Test(safety, stray_set_without_mark_is_stepped_around_and_kept)
{
    stray_stepped_around((uid_t)-1, 0600);
}

Test(safety, stray_marked_set_of_another_user_is_stepped_around_and_kept)
{
    if (!r_root("another user's set"))
        return;
    stray_stepped_around(R_UID_OTHER, 0666 | 0100);
}

/* ==== 10. killed at the new steps of the protocol ====================== */

#ifdef SVS_FAULT_INJECTION
struct fault_job {
    const char *name;
    const char *point;
};

static int remove_and_die(void *arg)
{
    struct fault_job *j = arg;

    setenv("SYSVSHM_FAULT", j->point, 1);
    (void)sysvshm_remove(j->name);
    return 99; /* the point was not reached */
}

static int create_and_die(void *arg)
{
    struct fault_job *j = arg;
    sysvshm_t *h;

    setenv("SYSVSHM_FAULT", j->point, 1);
    h = sysvshm_create(j->name, USZ, 0, 0600);
    if (h != NULL)
        sysvshm_close(h);
    return 99;
}
#endif

Test(safety, killed_after_doom_mark_leaves_ready_block_usable_and_removable)
{
#ifdef SVS_FAULT_INJECTION
    struct fault_job j;
    const char *n = r_name("afterdoom");
    key_t k0 = tu_name_key(n);
    sysvshm_t *h = TU_MUST(sysvshm_create(n, USZ, 0, 0600));
    int shmid = shmget(k0, 0, 0), semid = semget(k0, 0, 0), st;
    unsigned char hdr[R_HDR];

    memcpy(sysvshm_buf(h), "kept", 4);
    sysvshm_close(h);
    j.name = n;
    j.point = "unlink.after_doom";
    st = tu_wait(tu_fork(remove_and_die, &j), 10000);
    cr_assert_eq(st, 1000 + SIGKILL, "remover with SYSVSHM_FAULT=unlink.after_doom: status %d "
                                     "(99: the point was not reached)", st);
    cr_assert_eq(shmget(k0, 0, 0), shmid, "the block is gone");
    cr_assert_eq(semget(k0, 0, 0), semid, "the set is gone");
    cr_assert_eq(tu_shm_peek(shmid, hdr, sizeof hdr), 0);
    cr_assert_eq(r_get32(hdr, R_OFF_STATE), R_STATE_READY, "state is no longer READY");
    cr_assert_eq(r_shm_mode(shmid) & 0100, 0100, "the remover's mark is missing");
    h = sysvshm_attach(n, 0);
    cr_assert_not_null(h, "attach after a remover died past its mark: %s;%s", strerror(errno),
                       r_describe(n));
    cr_assert_eq(memcmp(sysvshm_buf(h), "kept", 4), 0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 1000), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    sysvshm_close(h);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, USZ, 0, 0600), EEXIST);
    cr_assert_eq(sysvshm_remove(n), 0, "remove: %s;%s", strerror(errno), r_describe(n));
    cr_assert(tu_name_keys_free(n), "%s", r_describe(n));
#else
    cr_skip_test("needs ./configure --enable-fault-injection");
#endif
}

Test(safety, killed_after_ready_leaves_owner_only_ready_block)
{
#ifdef SVS_FAULT_INJECTION
    struct fault_job j;
    const char *n = r_name("afterready");
    key_t k0 = tu_name_key(n);
    sysvshm_t *h;
    int shmid, st;
    unsigned char hdr[R_HDR];

    j.name = n;
    j.point = "create.after_ready";
    st = tu_wait(tu_fork(create_and_die, &j), 10000);
    cr_assert_eq(st, 1000 + SIGKILL, "creator with SYSVSHM_FAULT=create.after_ready: status %d "
                                     "(99: the point was not reached)", st);
    shmid = shmget(k0, 0, 0);
    cr_assert(shmid >= 0, "no block left;%s", r_describe(n));
    cr_assert_eq(tu_shm_peek(shmid, hdr, sizeof hdr), 0);
    cr_assert_eq(r_get32(hdr, R_OFF_STATE), R_STATE_READY);
    cr_assert_eq(r_shm_mode(shmid), 0711, "mode %o: should still be the creator's 0711",
                 (unsigned)r_shm_mode(shmid));
    h = sysvshm_attach(n, 0);
    cr_assert_not_null(h, "attach by the owner: %s;%s", strerror(errno), r_describe(n));
    cr_assert_eq(sysvshm_size(h), USZ);
    cr_assert_eq(sysvshm_key(h), k0);
    cr_assert_eq(sysvshm_lock(h, SYSVSHM_WRITE, 1000), 0);
    cr_assert_eq(sysvshm_unlock(h), 0);
    sysvshm_close(h);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, USZ, 0, 0600), EEXIST);
    cr_assert_eq(shmget(k0, 0, 0), shmid, "create removed the complete block");
    cr_assert_eq(r_shm_mode(shmid), 0711);
    cr_assert_eq(sysvshm_remove(n), 0, "remove: %s;%s", strerror(errno), r_describe(n));
    cr_assert(tu_name_keys_free(n), "%s", r_describe(n));
#else
    cr_skip_test("needs ./configure --enable-fault-injection");
#endif
}

/* ==== 11. all probe keys held: the documented residual risk =========== */

static int create_eaddrinuse(void *arg)
{
    C_NULL(sysvshm_create(arg, USZ, 0, 0600), EADDRINUSE, 2);
    return 0;
}

Test(safety, probe_keys_all_held_by_another_users_tiny_segments_is_eaddrinuse)
{
    const char *n;
    int ids[SYSVSHM_PROBE_MAX], st;
    unsigned char *snaps[SYSVSHM_PROBE_MAX];
    size_t lens[SYSVSHM_PROBE_MAX];
    unsigned i;

    if (!r_root("another user's segments"))
        return;
    n = r_name("exhaust");
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        ids[i] = r_raw_segment_by(R_UID_OTHER, kx(n, i), 1, "x", 1, 0600, NULL);
        snaps[i] = r_snapshot(ids[i], &lens[i]);
        cr_assert_not_null(snaps[i]);
    }
    st = r_run_as((uid_t)-1, create_eaddrinuse, (void *)n, 15000);
    cr_assert_eq(st, 0, "create as root: status %d", st);
    st = r_run_as(R_UID_THIRD, create_eaddrinuse, (void *)n, 15000);
    cr_assert_eq(st, 0, "create as a third user: status %d", st);
    st = r_run_as(R_UID_OTHER, create_eaddrinuse, (void *)n, 15000);
    cr_assert_eq(st, 0, "create as the segments' own user: status %d", st);
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        cr_assert(r_unchanged(kx(n, i), ids[i], snaps[i], lens[i]),
                  "the segment at key %u was changed or removed", i);
        free(snaps[i]);
    }
    cr_assert_eq(r_count_sem(n), 0, "%s", r_describe(n));
}

/* ==== the owner's explicit unlink after a writer forged UNLINKING ========= */

/* A writer of the block (another user) writes state UNLINKING; then the
 * owner, who still has the block attached, unlinks it.  Either the explicit
 * removal goes through (0, nothing left at the keys), or the block is taken
 * for damaged as sysvshm_remove takes it (EPROTO, nothing changed: bytes,
 * mode, set).  What must not happen: ENOENT ("already destroyed") while the
 * block and its set stay at the key -- with the remover's mark now added,
 * so that sysvshm_remove no longer finds it (ENOENT) and only some later
 * create of the name removes it. */
Test(safety, owners_unlink_after_forged_unlinking_removes_or_reports_eproto)
{
    const char *n;
    key_t k0;
    struct forger f;
    sysvshm_t *h;
    unsigned char *snap;
    size_t len;
    int st, rc, e, shmid, semid;

    if (!r_root("another user's write"))
        return;
    n = r_name("forgedunlink");
    k0 = tu_name_key(n);
    h = TU_MUST(sysvshm_create(n, USZ, 0, 0666));
    shmid = shmget(k0, 0, 0);
    semid = semget(k0, 0, 0);
    f.name = n;
    f.state = R_STATE_UNLINKING;
    st = r_run_as(R_UID_OTHER, write_state, &f, 10000);
    cr_assert_eq(st, 0, "the other user's write: status %d", st);
    snap = r_snapshot(shmid, &len);
    cr_assert_not_null(snap);
    errno = 0;
    rc = sysvshm_unlink(h);
    e = errno;
    sysvshm_close(h);
    if (rc == 0) {
        cr_assert(tu_name_keys_free(n), "unlink said 0, but left:%s", r_describe(n));
    } else {
        cr_assert_eq(e, EPROTO, "the owner's unlink: -1 with %s (mode now %o); at the keys:%s",
                     strerror(e), (unsigned)r_shm_mode(shmid), r_describe(n));
        cr_assert(r_unchanged(k0, shmid, snap, len), "a failed unlink changed the block");
        cr_assert_eq(r_shm_mode(shmid), 0666, "a failed unlink changed the mode to %o",
                     (unsigned)r_shm_mode(shmid));
        cr_assert_eq(semget(k0, 0, 0), semid);
    }
    free(snap);
}
