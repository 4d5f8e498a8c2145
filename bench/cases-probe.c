/*
 * cases-probe.c - case 7 of sysvshm-bench: what the length of the probe
 * sequence costs (docs/format.md, "Keys and the probe sequence").
 *
 * A name hashes to SYSVSHM_PROBE_MAX (8) consecutive keys.  Anyone who may
 * make a segment can deny a name by holding all of them, so a longer or a
 * per-user sequence is a candidate fix; this case measures what either would
 * cost, in one run, interleaved:
 *   - raw shmget(key, 0, 0) on keys that hold nothing (ENOENT): 1 key (the
 *     baseline), and 8, 16, 32 and 64 in a row, which is what an attach of a
 *     missing name costs with that many keys (holes are allowed, so every
 *     key is tried);
 *   - one raw semget miss (a create checks the set's key too);
 *   - the library today, with the name's 8 keys free, or with its keys
 *     0..6 held by foreign 1-byte segments (so that a block lands on its
 *     last key): attach of a name that does not exist (with the keys free:
 *     the second reference of the table), and the create cycle of case 1
 *     (create + unlink + close).  The foreign segments are the caller's own
 *     (attached and looked at), or, when run as root, another user's
 *     (passed over on their creator alone, as an attacker's would be).
 *
 * Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/sem.h>
#include <sys/shm.h>

#define PROBE_RAW_MAX 64

static const char *const G_PROBE = "7. probe sequence: keys a name is looked up at";

/* The name's k_i, as docs/format.md gives it. */
static key_t
probe_key(key_t k0, int i)
{
    return (key_t)(0x53000000L | (((long)k0 + i) & 0xffffffL));
}

static int
key_free(key_t k)
{
    return shmget(k, 0, 0) < 0 && errno == ENOENT && semget(k, 0, 0) < 0 &&
           errno == ENOENT;
}

/*
 * A name unique to this run whose whole probe sequence holds no segment and
 * no semaphore set now, and none of whose keys is one of avoid[0..navoid).
 * Returns its k_0, or (key_t)-1.
 */
static key_t
probe_name(char *buf, size_t len, const char *tag, const key_t *avoid, int navoid)
{
    int n, i, j;

    for (n = 0; n < 1000; n++) {
        char t[48];
        key_t k0;
        int ok = 1;

        snprintf(t, sizeof t, "%s-%d", tag, n);
        bench_name(buf, len, t);
        k0 = sysvshm_name_key(buf);
        if (k0 == (key_t)-1)
            return (key_t)-1;
        for (i = 0; i < SYSVSHM_PROBE_MAX && ok; i++) {
            key_t k = probe_key(k0, i);

            for (j = 0; j < navoid && ok; j++)
                if (avoid[j] == k)
                    ok = 0;
            if (ok && !key_free(k))
                ok = 0;
        }
        if (ok)
            return k0;
    }
    errno = EADDRINUSE;
    return (key_t)-1;
}

/* ---- the loops ---------------------------------------------------------------- */

struct miss {
    const key_t *keys;
    int nkeys;
    int sem; /* semget instead of shmget */
};

/* nkeys lookups of keys that hold nothing; a key that does hold something
 * now (another program made it since) ends the variant. */
static int
loop_miss(void *c, long n)
{
    const struct miss *x = c;
    long i;
    int j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < x->nkeys; j++) {
            int id = x->sem ? semget(x->keys[j], 0, 0) : shmget(x->keys[j], 0, 0);

            if (id >= 0) {
                errno = EEXIST;
                return -1;
            }
            if (errno != ENOENT)
                return -1;
        }
    }
    return 0;
}

struct named {
    char name[64];
    size_t size;
    int miss_errno; /* what an attach says: ENOENT, or EACCES when another
                     * user's segments are in the sequence */
};

static int
loop_attach_missing(void *c, long n)
{
    const struct named *x = c;
    long i;

    for (i = 0; i < n; i++) {
        sysvshm_t *h = sysvshm_attach(x->name, 0);

        if (h != NULL) {
            sysvshm_close(h);
            errno = EEXIST;
            return -1;
        }
        if (errno != x->miss_errno)
            return -1;
    }
    return 0;
}

/* The cycle of case 1: create, unlink, close. */
static int
loop_create(void *c, long n)
{
    const struct named *x = c;
    long i;

    for (i = 0; i < n; i++) {
        sysvshm_t *h = sysvshm_create(x->name, x->size, 0, 0600);

        if (h == NULL)
            return -1;
        if (sysvshm_unlink(h) < 0) {
            int saved = errno;

            sysvshm_close(h);
            errno = saved;
            return -1;
        }
        if (sysvshm_close(h) < 0)
            return -1;
    }
    return 0;
}

/* Make one block of the name and say at which index of its sequence it
 * landed: -1 with errno if it could not be made, SYSVSHM_PROBE_MAX if at a
 * key outside the sequence. */
static int
landing_index(const struct named *x, key_t k0)
{
    sysvshm_t *h = sysvshm_create(x->name, x->size, 0, 0600);
    key_t k;
    int i;

    if (h == NULL)
        return -1;
    k = sysvshm_key(h);
    sysvshm_unlink(h);
    sysvshm_close(h);
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++)
        if (probe_key(k0, i) == k)
            break;
    return i;
}

static void
check_landing(struct result *r, const struct named *x, key_t k0, int want)
{
    int idx = landing_index(x, k0);

    if (idx < 0)
        res_note(r, 0, "skipped: create: %s", strerror(errno));
    else if (idx != want)
        res_note(r, 1, "failed: the block landed on key %d, not %d", idx, want);
}

/* ---- keys held by someone else ------------------------------------------------ */

#define PROBE_HELD (SYSVSHM_PROBE_MAX - 1)
#define PROBE_OTHER_UID 65534 /* nobody */

struct hold {
    key_t k0;
    int fd;               /* other user: where the child writes the ids */
    int ids[PROBE_HELD];  /* -1: not made */
};

/* In a child that has become another user: make the segments, report. */
static int
hold_as_other(void *c, int unused)
{
    struct hold *x = c;
    int i;

    (void)unused;
    if (setgid(PROBE_OTHER_UID) < 0 || setuid(PROBE_OTHER_UID) < 0)
        return 1;
    for (i = 0; i < PROBE_HELD; i++)
        x->ids[i] = shmget(probe_key(x->k0, i), 1, IPC_CREAT | IPC_EXCL | 0644);
    return write_full(x->fd, x->ids, sizeof x->ids) < 0;
}

/* Hold keys 0..6 of the sequence at k0 with 1-byte segments, made by this
 * process or (other) by user PROBE_OTHER_UID; all registered for clean-up.
 * Returns 0, or -1 with errno. */
static int
hold_keys(struct hold *x, key_t k0, int other)
{
    int i, fd[2], st, saved = 0;
    pid_t pid;

    x->k0 = k0;
    for (i = 0; i < PROBE_HELD; i++)
        x->ids[i] = -1;
    if (!other) {
        for (i = 0; i < PROBE_HELD; i++) {
            x->ids[i] = shmget(probe_key(k0, i), 1, IPC_CREAT | IPC_EXCL | 0600);
            if (x->ids[i] < 0)
                return -1;
            reg_shm(x->ids[i]);
        }
        return 0;
    }
    if (pipe(fd) < 0)
        return -1;
    x->fd = fd[1];
    pid = spawn(hold_as_other, x, 0);
    close(fd[1]);
    if (pid < 0) {
        saved = errno;
        close(fd[0]);
        errno = saved;
        return -1;
    }
    if (read_full(fd[0], x->ids, sizeof x->ids) < 0) {
        saved = errno;
        for (i = 0; i < PROBE_HELD; i++)
            x->ids[i] = -1;
    }
    close(fd[0]);
    st = reap(pid);
    for (i = 0; i < PROBE_HELD; i++) {
        if (x->ids[i] >= 0)
            reg_shm(x->ids[i]);
        else if (saved == 0)
            saved = EEXIST;
    }
    if (st != 0 && saved == 0)
        saved = EPERM;
    if (saved != 0) {
        errno = saved;
        return -1;
    }
    return 0;
}

static void
release_keys(struct hold *x)
{
    int i;

    for (i = 0; i < PROBE_HELD; i++) {
        if (x->ids[i] >= 0) {
            shmctl(x->ids[i], IPC_RMID, NULL);
            unreg_shm(x->ids[i]);
            x->ids[i] = -1;
        }
    }
}

/* ---- the case ------------------------------------------------------------------- */

void
case_probe(void)
{
    static const int lens[] = { 8, 16, 32, PROBE_RAW_MAX };
    key_t raw[PROBE_RAW_MAX], avoid[3 * SYSVSHM_PROBE_MAX], k0[3];
    struct named nm[3];   /* keys all free; 0..6 held by us; by another user */
    struct hold hd[2];
    struct miss m1, mn[4], ms;
    struct variant v[16];
    struct result *att[3], *cre[3];
    int nv = 0, i, k, other = geteuid() == 0;
    char vn[80];
    static const char *const tags[3] = { "probe-free", "probe-own", "probe-other" };
    static const char *const what[3] = { "", ", keys 0-6 ours", ", keys 0-6 other uid" };

    progress("case 7: probe sequence: lookups of empty keys, attach of a missing "
             "name, create pushed to the last key");
    memset(v, 0, sizeof v);
    memset(nm, 0, sizeof nm);
    for (i = 0; i < 2; i++)
        for (k = 0; k < PROBE_HELD; k++)
            hd[i].ids[k] = -1;

    /* Raw misses: keys 0x62xxxxxx that hold nothing. */
    for (i = 0; i < PROBE_RAW_MAX; i++)
        raw[i] = bench_free_key();
    m1.keys = raw;
    m1.nkeys = 1;
    m1.sem = 0;
    ms = m1;
    ms.sem = 1;
    v[nv].res = res_new(G_PROBE, "raw shmget miss (ENOENT), 1 key", U_NS, 1);
    v[nv].loop = loop_miss;
    v[nv++].ctx = &m1;
    for (i = 0; i < 4; i++) {
        mn[i] = m1;
        mn[i].nkeys = lens[i];
        snprintf(vn, sizeof vn, "raw shmget misses, %d keys in a row%s", lens[i],
                 lens[i] == SYSVSHM_PROBE_MAX ? " (today)" : "");
        v[nv].res = res_new(G_PROBE, vn, U_NS, 0);
        v[nv].loop = loop_miss;
        v[nv++].ctx = &mn[i];
    }
    v[nv].res = res_new(G_PROBE, "raw semget miss (ENOENT), 1 key", U_NS, 0);
    v[nv].loop = loop_miss;
    v[nv++].ctx = &ms;
    for (i = 0; i < PROBE_RAW_MAX; i++) {
        if (raw[i] == (key_t)IPC_PRIVATE) {
            for (k = 0; k < nv; k++)
                res_note(v[k].res, 0, "skipped: no free keys 0x62xxxxxx");
            break;
        }
    }

    /* The library: three names whose whole sequences are free now, none
     * sharing a key with another. */
    for (i = 0; i < 3; i++) {
        nm[i].size = opt.size;
        nm[i].miss_errno = i == 2 ? EACCES : ENOENT;
        k0[i] = probe_name(nm[i].name, sizeof nm[i].name, tags[i], avoid,
                           i * SYSVSHM_PROBE_MAX);
        for (k = 0; k < SYSVSHM_PROBE_MAX; k++)
            avoid[i * SYSVSHM_PROBE_MAX + k] = probe_key(k0[i], k);
        reg_block(nm[i].name);
    }
    for (i = 0; i < 3; i++) {
        snprintf(vn, sizeof vn, "libsysvshm attach miss%s", what[i]);
        att[i] = v[nv].res = res_new(G_PROBE, vn, U_NS, 0);
        v[nv].loop = loop_attach_missing;
        v[nv++].ctx = &nm[i];
        if (k0[i] == (key_t)-1)
            res_note(att[i], 0, "skipped: no name with 8 free keys");
    }
    att[0]->ref2 = 1;
    for (i = 0; i < 3; i++) {
        snprintf(vn, sizeof vn, "libsysvshm create cycle%s", what[i]);
        cre[i] = v[nv].res = res_new(G_PROBE, vn, U_NS, 0);
        v[nv].loop = loop_create;
        v[nv++].ctx = &nm[i];
        if (k0[i] == (key_t)-1)
            res_note(cre[i], 0, "skipped: no name with 8 free keys");
    }

    /* Keys 0..6 of the second and third names: 1-byte segments, which the
     * library passes over as another program's (too small for a header). */
    for (i = 1; i < 3; i++) {
        if (k0[i] == (key_t)-1)
            continue;
        if (i == 2 && !other) {
            res_note(att[i], 0, "skipped: making another user's segments needs root");
            res_note(cre[i], 0, "skipped: as above");
            continue;
        }
        if (hold_keys(&hd[i - 1], k0[i], i == 2) < 0) {
            res_note(att[i], 0, "skipped: holding keys 0-6: %s", strerror(errno));
            res_note(cre[i], 0, "skipped: as above");
        }
    }
    /* Where the blocks land is part of what is measured: check it. */
    for (i = 0; i < 3; i++)
        if (cre[i]->note[0] == '\0')
            check_landing(cre[i], &nm[i], k0[i], i == 0 ? 0 : SYSVSHM_PROBE_MAX - 1);

    run_group(v, nv);

    release_keys(&hd[0]);
    release_keys(&hd[1]);
    for (i = 0; i < 3; i++)
        drop_block(nm[i].name);
}
