/*
 * rutil.c - helpers for the robustness tests; see rutil.h.
 */
#define _DEFAULT_SOURCE 1 /* setgroups(), for r_become (Linux/BSD) */
#include "rutil.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define R_MAX_TRACKED 512

static char *r_tracked[R_MAX_TRACKED];
static int r_ntracked;

void r_put32(unsigned char *hdr, size_t off, uint32_t v)
{
    memcpy(hdr + off, &v, sizeof v); /* host byte order, as documented */
}

void r_put64(unsigned char *hdr, size_t off, uint64_t v)
{
    memcpy(hdr + off, &v, sizeof v);
}

uint32_t r_get32(const unsigned char *hdr, size_t off)
{
    uint32_t v;

    memcpy(&v, hdr + off, sizeof v);
    return v;
}

void r_hdr_build(unsigned char *hdr, const char *name, uint64_t size,
                 uint32_t state, uint32_t probe, uint32_t flags, int32_t semid)
{
    size_t len = strlen(name);

    memset(hdr, 0, R_HDR);
    memcpy(hdr + R_OFF_MAGIC, "SYSVSHM", 8);
    r_put32(hdr, R_OFF_VERSION, 1);
    r_put32(hdr, R_OFF_STATE, state);
    r_put64(hdr, R_OFF_SIZE, size);
    r_put32(hdr, R_OFF_DATA_OFF, R_HDR);
    r_put32(hdr, R_OFF_FLAGS, flags);
    r_put32(hdr, R_OFF_SEMID, (uint32_t)semid);
    r_put32(hdr, R_OFF_PROBE, probe);
    r_put32(hdr, R_OFF_NAME_LEN, (uint32_t)len);
    memcpy(hdr + R_OFF_NAME, name, len);
}

int r_raw_segment(key_t key, size_t segsz, const void *bytes, size_t n, int mode)
{
    int id = shmget(key, segsz, IPC_CREAT | IPC_EXCL | mode);
    unsigned char *p;

    cr_assert(id >= 0, "raw segment at key 0x%08lx: %s", (unsigned long)key,
              strerror(errno));
    tu_register_shm(id, key);
    p = shmat(id, NULL, 0);
    cr_assert(p != (void *)-1, "shmat raw segment: %s", strerror(errno));
    memcpy(p, bytes, n < segsz ? n : segsz);
    shmdt(p);
    return id;
}

unsigned char *r_snapshot(int shmid, size_t *len)
{
    struct shmid_ds ds;
    unsigned char *copy;
    void *p;

    if (shmctl(shmid, IPC_STAT, &ds) != 0)
        return NULL;
    *len = (size_t)ds.shm_segsz;
    copy = malloc(*len ? *len : 1);
    if (copy == NULL)
        return NULL;
    p = shmat(shmid, NULL, SHM_RDONLY);
    if (p == (void *)-1) {
        free(copy);
        return NULL;
    }
    memcpy(copy, p, *len);
    shmdt(p);
    return copy;
}

int r_unchanged(key_t key, int shmid, const unsigned char *snap, size_t len)
{
    size_t now_len;
    unsigned char *now;
    int same;

    if (shmget(key, 0, 0) != shmid)
        return 0;
    now = r_snapshot(shmid, &now_len);
    if (now == NULL)
        return 0;
    same = now_len == len && memcmp(now, snap, len) == 0;
    free(now);
    return same;
}

static key_t r_key(const char *name, unsigned i)
{
    return tu_probe(tu_name_key(name), i);
}

int r_count_shm(const char *name)
{
    unsigned i;
    int n = 0;

    for (i = 0; i < SYSVSHM_PROBE_MAX; i++)
        n += tu_shm_exists(r_key(name, i));
    return n;
}

int r_count_sem(const char *name)
{
    unsigned i;
    int n = 0;

    for (i = 0; i < SYSVSHM_PROBE_MAX; i++)
        n += tu_sem_exists(r_key(name, i));
    return n;
}

const char *r_describe(const char *name)
{
    static char out[2048];
    size_t used = 0;
    unsigned i;
    int saved = errno; /* callers print strerror(errno) beside us */

    out[0] = '\0';
    for (i = 0; i < SYSVSHM_PROBE_MAX && used < sizeof out - 200; i++) {
        key_t k = r_key(name, i);
        int id = shmget(k, 0, 0);
        int sid = semget(k, 0, 0);
        struct shmid_ds ds;
        unsigned char h[R_HDR];

        if (id < 0 && sid < 0)
            continue;
        used += (size_t)snprintf(out + used, sizeof out - used, " [k%u 0x%08lx:", i,
                                 (unsigned long)k);
        if (id >= 0 && shmctl(id, IPC_STAT, &ds) == 0) {
            memset(h, 0, sizeof h);
            (void)tu_shm_peek(id, h, ds.shm_segsz < R_HDR ? (size_t)ds.shm_segsz : R_HDR);
            used += (size_t)snprintf(out + used, sizeof out - used,
                                     " shm id %d cpid %ld lpid %ld nattch %lu magic %s state 0x%08lx",
                                     id, (long)ds.shm_cpid, (long)ds.shm_lpid,
                                     (unsigned long)ds.shm_nattch,
                                     memcmp(h, "SYSVSHM", 8) == 0 ? "yes" : "no",
                                     (unsigned long)r_get32(h, R_OFF_STATE));
        }
        if (sid >= 0)
            used += (size_t)snprintf(out + used, sizeof out - used, " sem id %d", sid);
        used += (size_t)snprintf(out + used, sizeof out - used, "]");
    }
    if (used == 0)
        snprintf(out, sizeof out, " (nothing)");
    errno = saved;
    return out;
}

void r_track(const char *name)
{
    char *copy;

    if (name[0] == '/')
        name++;
    if (r_ntracked >= R_MAX_TRACKED)
        return;
    copy = malloc(strlen(name) + 1);
    if (copy == NULL)
        return;
    strcpy(copy, name);
    r_tracked[r_ntracked++] = copy;
}

const char *r_name(const char *tag)
{
    const char *n = tu_name(tag);

    r_track(n);
    return n;
}

void r_cleanup(void)
{
    int t;
    unsigned i;

    tu_cleanup();
    for (t = 0; t < r_ntracked; t++) {
        for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
            key_t k = r_key(r_tracked[t], i);
            int id = shmget(k, 0, 0);
            int sid = semget(k, 0, 0);

            if (id >= 0)
                (void)shmctl(id, IPC_RMID, NULL);
            if (sid >= 0)
                (void)semctl(sid, 0, IPC_RMID);
        }
        free(r_tracked[t]);
    }
    r_ntracked = 0;
}

int r_root(const char *what)
{
    if (geteuid() == 0)
        return 1;
    cr_skip_test("%s needs root (running as uid %ld)", what, (long)geteuid());
    return 0;
}

int r_become(uid_t uid)
{
    gid_t g = (gid_t)uid;

    /* Groups first: after setuid we could not drop root's. */
    if (setgroups(1, &g) != 0 || setgid(g) != 0 || setuid(uid) != 0)
        return -1;
    return geteuid() == uid ? 0 : -1;
}

struct r_as_job {
    uid_t uid;
    tu_child_fn fn;
    void *arg;
};

static int r_as_child(void *arg)
{
    struct r_as_job *j = arg;

    if (j->uid != (uid_t)-1 && r_become(j->uid) != 0)
        return 90;
    return j->fn(j->arg);
}

int r_run_as(uid_t uid, tu_child_fn fn, void *arg, long timeout_ms)
{
    struct r_as_job j;

    j.uid = uid;
    j.fn = fn;
    j.arg = arg;
    return tu_wait(tu_fork(r_as_child, &j), timeout_ms);
}

struct r_raw_job {
    uid_t uid;
    key_t key;
    size_t segsz;
    const void *bytes;
    size_t n;
    int mode;
    int nsems;                 /* > 0: a semaphore set instead */
    const unsigned short *vals;
    int stay;                  /* keep living after making it */
    int ready[2], hold[2];
};

union r_semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static int r_raw_child(void *arg)
{
    struct r_raw_job *j = arg;
    int id;

    close(j->ready[0]);
    close(j->hold[1]);
    if (j->uid != (uid_t)-1 && r_become(j->uid) != 0)
        return 90;
    if (j->nsems > 0) {
        id = semget(j->key, j->nsems, IPC_CREAT | IPC_EXCL | j->mode);
        if (id < 0)
            return 91;
        if (j->vals != NULL) {
            union r_semun a;

            a.array = (unsigned short *)j->vals;
            if (semctl(id, 0, SETALL, a) != 0)
                return 92;
        }
    } else {
        unsigned char *p;

        id = shmget(j->key, j->segsz, IPC_CREAT | IPC_EXCL | j->mode);
        if (id < 0)
            return 91;
        p = shmat(id, NULL, 0);
        if (p == (void *)-1) {
            /* Readable only (a mode without write for us): still made. */
            if (j->n != 0)
                return 93;
        } else {
            memcpy(p, j->bytes, j->n < j->segsz ? j->n : j->segsz);
            shmdt(p);
        }
    }
    if (tu_post(j->ready[1]) != 0)
        return 94;
    if (j->stay)
        (void)tu_take(j->hold[0], 60000); /* until killed (or the test ends) */
    return 0;
}

static int r_raw_by(struct r_raw_job *j, pid_t *alive)
{
    pid_t pid;
    int st, id;

    tu_pipe(j->ready);
    tu_pipe(j->hold);
    j->stay = alive != NULL;
    pid = tu_fork(r_raw_child, j);
    close(j->ready[1]);
    close(j->hold[0]);
    if (tu_take(j->ready[0], 10000) != 0) {
        st = tu_wait(pid, 10000);
        close(j->ready[0]);
        close(j->hold[1]);
        cr_assert_fail("a child could not make a raw %s at key 0x%08lx (status %d: "
                       "90 no user change, 91 get, 92 SETALL, 93 attach)",
                       j->nsems > 0 ? "semaphore set" : "segment", (unsigned long)j->key, st);
    }
    close(j->ready[0]);
    if (alive == NULL) {
        st = tu_wait(pid, 10000);
        cr_assert_eq(st, 0, "raw object maker exited with %d", st);
        close(j->hold[1]);
    } else {
        *alive = pid; /* hold[1] stays open: the child waits on it */
    }
    id = j->nsems > 0 ? semget(j->key, 0, 0) : shmget(j->key, 0, 0);
    cr_assert(id >= 0, "the raw object at key 0x%08lx: %s", (unsigned long)j->key,
              strerror(errno));
    if (j->nsems > 0)
        tu_register_sem(id, j->key);
    else
        tu_register_shm(id, j->key);
    return id;
}

int r_raw_segment_by(uid_t uid, key_t key, size_t segsz, const void *bytes, size_t n,
                     int mode, pid_t *alive)
{
    struct r_raw_job j;

    memset(&j, 0, sizeof j);
    j.uid = uid;
    j.key = key;
    j.segsz = segsz;
    j.bytes = bytes;
    j.n = n;
    j.mode = mode;
    return r_raw_by(&j, alive);
}

int r_raw_sem_by(uid_t uid, key_t key, int nsems, int mode, const unsigned short *vals)
{
    struct r_raw_job j;

    memset(&j, 0, sizeof j);
    j.uid = uid;
    j.key = key;
    j.nsems = nsems;
    j.mode = mode;
    j.vals = vals;
    return r_raw_by(&j, NULL);
}

int r_sem_values(int semid, unsigned short *vals, int max)
{
    struct semid_ds ds;
    union r_semun a;
    unsigned short all[256];

    a.buf = &ds;
    if (semctl(semid, 0, IPC_STAT, a) != 0 || ds.sem_nsems > 256)
        return -1;
    a.array = all;
    if (semctl(semid, 0, GETALL, a) != 0)
        return -1;
    memcpy(vals, all, sizeof *vals * (size_t)((int)ds.sem_nsems < max ? (int)ds.sem_nsems : max));
    return (int)ds.sem_nsems;
}

int r_sem_setval(int semid, int num, int val)
{
    union r_semun a;

    a.val = val;
    return semctl(semid, num, SETVAL, a);
}

int r_shm_set(int shmid, uid_t uid, unsigned mode)
{
    struct shmid_ds ds;

    if (shmctl(shmid, IPC_STAT, &ds) != 0)
        return -1;
    ds.shm_perm.uid = uid;
    ds.shm_perm.mode = (ds.shm_perm.mode & ~(mode_t)0777) | (mode_t)mode;
    return shmctl(shmid, IPC_SET, &ds);
}

int r_shm_mode(int shmid)
{
    struct shmid_ds ds;

    if (shmctl(shmid, IPC_STAT, &ds) != 0)
        return -1;
    return (int)(ds.shm_perm.mode & 0777);
}

/* LeakSanitizer (--enable-sanitizers): Criterion's runner leaks a copy of
 * an argument (criterion_handle_args), and LeakSanitizer's exit then loses
 * the TAP output still buffered.  Weak, so that a shared definition (say in
 * testutil.c) takes precedence. */
#if defined(__GNUC__)
__attribute__((weak)) const char *__lsan_default_suppressions(void);
__attribute__((weak)) const char *__lsan_default_suppressions(void)
{
    return "leak:criterion_handle_args\nleak:libcriterion\n";
}
#endif
