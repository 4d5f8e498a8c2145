/*
 * stress.c - many processes doing random things to a few blocks, with
 * kill -9 thrown in, checking the library's promises all along.
 *
 *   stress [-n PROCS] [-d SECONDS] [-k NAMES] [-s SEED] [-q] [-H] [-F]
 *
 * PROCS workers (default 8) run for SECONDS (default 3) over NAMES block
 * names (default 5) unique to the run.  Each worker repeatedly picks one of:
 * create, attach, write under the writer lock, read under the reader lock,
 * close, unlink/remove, or asking for a random worker to be killed with
 * SIGKILL (the parent does it, and starts a new worker in its place: only
 * the parent can kill a child without risking a recycled pid).
 *
 * Checked all along:
 *  - no lost update: a block holds a counter and one tally per worker; a
 *    writer bumps both under the writer lock, slowly, so two writers inside
 *    at once would break `counter == sum of tallies'.  Whoever takes the lock
 *    checks it, unless the lock says SYSVSHM_RECOVERED (a writer died
 *    mid-update), in which case a writer repairs it;
 *  - no attach of a wrong block: the block's name, size and key, and the
 *    name its creator wrote into the data, are those asked for;
 *  - no errno outside the set sysvshm.h documents for each function, and
 *    none that this run cannot legitimately get (EPROTO, EADDRINUSE, ...);
 *  - no worker dies of anything but the SIGKILLs asked for;
 *  - at the end, once every name is removed and re-created and removed (the
 *    library reclaims what killed workers left), not one segment or
 *    semaphore set is left at any of the names' keys.
 * Prints TAP (one line per promise) with the operation counts as comments;
 * exit status 0 only if every promise held.
 *
 * With -F, each create picks at random between a block with the fast lock
 * (SYSVSHM_FASTLOCK, format version 2; a version-1 block where the library
 * has no atomics) and an ordinary version-1 block, so that a name's block
 * changes kinds as it is removed and made again under handles still
 * attached to the old one.  The promises are the same for both locks; the
 * run ends with how many blocks of each format were made.
 *
 * With -H (hostile), one more process attacks the names' probe keys all
 * along; see "the hostile process" below for what it plants and flips and
 * how the promises above are kept meaningful, and for the sixth promise:
 * nothing that the stress workers did not create is ever removed.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "sysvshm.h"

#define MAXW 64
#define MAXNAMES 32
#define MAXH 4
#define BLK 4096
#define OFF_NAME 0
#define OFF_COUNTER 64
#define OFF_TALLY 128 /* MAXW uint64 tallies: 512 bytes */
#define OFF_PLANT 1024 /* -H: the hostile process's look-alikes carry PLANT_MARK here */
#define PLANT_MARK "planted by the hostile process"

enum op { OP_CREATE, OP_ATTACH, OP_WRITE, OP_READ, OP_CLOSE, OP_UNLINK, OP_REMOVE,
          OP_UNLOCK, OP_KILL, NOPS };
static const char *op_names[NOPS] = { "create", "attach", "write-locked", "read-locked",
                                      "close", "unlink", "remove", "unlock", "kill -9" };

/* Outcomes: 0 ok, 1 SYSVSHM_RECOVERED, then errno values. */
static const int outcome_errno[] = { 0, -1, EEXIST, ENOENT, EAGAIN, EIDRM, ETIMEDOUT,
                                     EBUSY, ENOSPC, ENOMEM, EMFILE, EADDRINUSE, EPROTO,
                                     EACCES, EPERM, EINVAL, EDEADLK, ENOTSUP, EBADF,
                                     ENAMETOOLONG };
#define NOUT ((int)(sizeof outcome_errno / sizeof outcome_errno[0]) + 1) /* + other */
#define OUT_OTHER (NOUT - 1)

/* Hostile mode: why an errno the run could not get otherwise may be seen. */
enum just {
    J_PROTO, /* a look-alike of the name at one of its keys, or a flipped state */
    J_KEYS,  /* a planted object at one of the name's keys */
    NJ
};

struct ctl {
    volatile int stop;
    volatile int kill_req; /* 1 + slot a worker asks the parent to kill */
    volatile pid_t pids[MAXW];
    volatile unsigned long counts[MAXW][NOPS][NOUT];
    volatile long lost_update, wrong_block, undocumented, unexpected;
    volatile long recovered_repairs;
    volatile unsigned long made[MAXW][3]; /* creates that made format version 1, 2, other */
    /* Hostile mode.  Written by the hostile process only (the workers read
     * jact/jlast): jact counts what is planted or flipped now, jlast is
     * when the last one went away (ms since the start of the run). */
    volatile int jact[MAXNAMES][NJ];
    volatile long jlast[MAXNAMES][NJ];
    volatile long justified[NJ]; /* errno values let through by jact/jlast */
    volatile int hostile_done, hostile_exit;
    volatile long h_plants, h_flips, h_flips_clobbered, h_vanished, h_reclaimed;
};

static struct ctl *ctl;
/* tests/stress/stress-hostile is this program built with STRESS_HOSTILE=1:
 * `make check' runs it, as -H cannot be given there. */
#ifndef STRESS_HOSTILE
#define STRESS_HOSTILE 0
#endif
/* tests/stress/stress-fast: built with STRESS_FAST=1, for -F in `make check'. */
#ifndef STRESS_FAST
#define STRESS_FAST 0
#endif
static int nworkers = 8, nnames = 5, quiet, hostile_mode = STRESS_HOSTILE;
static int fast_mode = STRESS_FAST;
static long seconds = 3;
static unsigned long seed;
static char names[MAXNAMES][64];
static long long run_start_ms;
static time_t run_start;

/* ---- helpers -------------------------------------------------------------- */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_us(long us)
{
    struct timespec ts;

    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (us % 1000000) * 1000;
    nanosleep(&ts, NULL);
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static int outcome_of(int rc, int err)
{
    int i;

    if (rc >= 0)
        return rc == SYSVSHM_RECOVERED ? 1 : 0;
    for (i = 2; i < NOUT - 1; i++)
        if (outcome_errno[i] == err)
            return i;
    return OUT_OTHER;
}

static const char *outcome_name(int o)
{
    if (o == 0)
        return "ok";
    if (o == 1)
        return "RECOVERED";
    if (o == OUT_OTHER)
        return "other";
    switch (outcome_errno[o]) {
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EAGAIN: return "EAGAIN";
    case EIDRM: return "EIDRM";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EBUSY: return "EBUSY";
    case ENOSPC: return "ENOSPC";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case EADDRINUSE: return "EADDRINUSE";
    case EPROTO: return "EPROTO";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EDEADLK: return "EDEADLK";
    case ENOTSUP: return "ENOTSUP";
    case EBADF: return "EBADF";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    }
    return "?";
}

static int in_list(int err, const int *list)
{
    for (; *list != 0; list++)
        if (*list == err)
            return 1;
    return 0;
}

/* sysvshm.h's documented errno values, per function. */
static const int doc_create[] = { EINVAL, ENAMETOOLONG, EEXIST, EADDRINUSE, ENOSPC, ENOMEM,
                                  EMFILE, EAGAIN, EACCES, EPERM, 0 };
static const int doc_attach[] = { EINVAL, ENAMETOOLONG, ENOENT, EACCES, EPROTO, EAGAIN,
                                  EMFILE, ENOMEM, 0 };
static const int doc_lock[] = { EINVAL, EDEADLK, ENOTSUP, EBADF, EBUSY, ETIMEDOUT, EIDRM,
                                EACCES, 0 };
static const int doc_unlock[] = { EINVAL, EPERM, EIDRM, 0 };
static const int doc_close[] = { EINVAL, 0 };
static const int doc_unlink[] = { EINVAL, ENOENT, EPERM, 0 };
static const int doc_remove[] = { EINVAL, ENAMETOOLONG, ENOENT, EACCES, EPROTO, EPERM, EAGAIN,
                                  EMFILE, ENOMEM, 0 };
/* What this run may legitimately see: all blocks are ours, well-formed,
 * made with locks, by one user; resources may run short on a busy host. */
static const int fine[] = { EEXIST, ENOENT, EAGAIN, EIDRM, ETIMEDOUT, EBUSY, ENOSPC, ENOMEM,
                            EMFILE, 0 };

static key_t probe_key(const char *name, unsigned i)
{
    key_t k0 = sysvshm_name_key(name);

    return (key_t)(0x53000000 | (((unsigned)k0 + i) & 0xffffff));
}

/* A header's state word (host byte order), by name. */
static const char *state_name(const unsigned char *h)
{
    uint32_t v;

    memcpy(&v, h + 12, 4);
    return v == 0x494e4954u ? "INIT" : v == 0x52454459u ? "READY"
         : v == 0x554e4c4bu ? "UNLINKING" : v == 0 ? "----" : "?";
}

/* What sits at the name's keys now (after an errno nothing explains): the
 * segments' modes, header states, creators and attach counts, and the sets. */
static void describe_keys(int w, int name)
{
    unsigned i;

    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        key_t k = probe_key(names[name], i);
        int id = shmget(k, 0, 0), sid = semget(k, 0, 0);
        struct shmid_ds ds;
        unsigned char h[40];
        void *p;

        if (id < 0 && sid < 0)
            continue;
        memset(h, 0, sizeof h);
        if (id >= 0 && shmctl(id, IPC_STAT, &ds) == 0) {
            if (ds.shm_segsz >= sizeof h && (p = shmat(id, NULL, SHM_RDONLY)) != (void *)-1) {
                memcpy(h, p, sizeof h);
                shmdt(p);
            }
            fprintf(stderr, "stress: worker %d:   probe %u: segment %d mode %03o magic %s "
                            "state %s creator %ld attached %lu; set %d\n", w, i, id,
                    (unsigned)ds.shm_perm.mode & 0777, h[0] == 'S' ? "yes" : "no",
                    state_name(h), (long)ds.shm_cpid,
                    (unsigned long)ds.shm_nattch, sid);
        } else {
            fprintf(stderr, "stress: worker %d:   probe %u: no segment; set %d\n", w, i, sid);
        }
    }
}

/* Milliseconds since the start of the run (the same clock in every process). */
static long run_ms(void)
{
    return (long)(now_ms() - run_start_ms);
}

/* Was something of kind j planted at (or flipped in) the name's keys at any
 * moment since t0?  The hostile process counts it in jact before the object
 * exists and stamps jlast after it is gone, so "jact > 0 now, or jlast at or
 * after t0" covers every moment of a call that began at t0. */
static int planted_since(int name, enum just j, long t0)
{
    return ctl->jact[name][j] > 0 || ctl->jlast[name][j] >= t0;
}

/* Hostile mode widens the possible errno values, each only where what was
 * planted or flipped during the call explains it:
 *  - attach, remove: EPROTO, when a look-alike bearing the name sat at one of
 *    its keys (a damaged one: a state its mode contradicts, a set that is not
 *    the header's) or one of the name's blocks had its state flipped;
 *  - create: EADDRINUSE, when planted objects held some of the name's keys.
 * (EEXIST and EAGAIN, the other answers to a planted INIT or damaged block,
 * are possible without -H already.) */
static int hostile_explains(enum op op, int err, int name, long t0)
{
    if (!hostile_mode || name < 0)
        return 0;
    if (err == EPROTO && (op == OP_ATTACH || op == OP_REMOVE) &&
        planted_since(name, J_PROTO, t0)) {
        ctl->justified[J_PROTO]++;
        return 1;
    }
    if (err == EADDRINUSE && op == OP_CREATE && planted_since(name, J_KEYS, t0)) {
        ctl->justified[J_KEYS]++;
        return 1;
    }
    return 0;
}

static void note(int w, enum op op, int rc, int err, int name, long t0)
{
    static const int *const doc[NOPS] = { doc_create, doc_attach, doc_lock, doc_lock,
                                          doc_close, doc_unlink, doc_remove, doc_unlock,
                                          NULL };
    int o = outcome_of(rc, err);

    ctl->counts[w][op][o]++;
    if (rc >= 0 || doc[op] == NULL)
        return;
    if (!in_list(err, doc[op])) {
        ctl->undocumented++; /* racy, but never back to 0 */
        fprintf(stderr, "stress: worker %d: %s of block \"%s\": errno %d (%s) is not "
                        "documented for it\n", w, op_names[op], names[name], err,
                strerror(err));
    } else if (!in_list(err, fine) && !hostile_explains(op, err, name, t0)) {
        ctl->unexpected++; /* racy, but never back to 0 */
        fprintf(stderr, "stress: worker %d: %s of block \"%s\": %s (documented, but "
                        "impossible in this run%s)\n", w, op_names[op], names[name],
                strerror(err), hostile_mode ? ": nothing planted or flipped explains it" : "");
        describe_keys(w, name);
    }
}

/* ---- a worker -------------------------------------------------------------- */

struct held {
    sysvshm_t *h;
    int name;
};

static uint64_t get64(const unsigned char *p, size_t off)
{
    uint64_t v;

    memcpy(&v, p + off, sizeof v);
    return v;
}

static void put64(unsigned char *p, size_t off, uint64_t v)
{
    memcpy(p + off, &v, sizeof v);
}

/* The block's counter equals the sum of its tallies. */
static int consistent(const unsigned char *p)
{
    uint64_t sum = 0;
    int i;

    for (i = 0; i < MAXW; i++)
        sum += get64(p, OFF_TALLY + 8 * (size_t)i);
    return sum == get64(p, OFF_COUNTER);
}

static void repair(unsigned char *p)
{
    uint64_t sum = 0;
    int i;

    for (i = 0; i < MAXW; i++)
        sum += get64(p, OFF_TALLY + 8 * (size_t)i);
    put64(p, OFF_COUNTER, sum);
}

static int right_block(int w, sysvshm_t *h, int name)
{
    const char *n = names[name];
    const unsigned char *p = sysvshm_buf(h);
    key_t k0 = sysvshm_name_key(n), k = sysvshm_key(h);
    unsigned d = (unsigned)((k - k0) & 0xffffff);

    int bad = strcmp(sysvshm_name(h), n) != 0 || sysvshm_size(h) != BLK ||
              d >= SYSVSHM_PROBE_MAX;

    /* -H: never one of the hostile process's look-alikes (none of them is a
     * complete block: each has a state, a mode or a set that gives it away). */
    if (memcmp(p + OFF_PLANT, PLANT_MARK, sizeof PLANT_MARK) == 0) {
        ctl->wrong_block++; /* racy, but never back to 0 */
        fprintf(stderr, "stress: worker %d: attached a planted look-alike of \"%s\" at key "
                        "0x%08lx\n", w, n, (unsigned long)k);
        return 0;
    }

    if (!bad && p[OFF_NAME] != 0 && strncmp((const char *)p + OFF_NAME, n, 64) != 0) {
        /* That read raced a writer copying the name in (strncpy may write
         * its bytes in any order): look again under the reader lock.  A
         * writer killed half-way through the copy leaves RECOVERED, and a
         * destroyed block cannot be asked: neither counts. */
        int rc = sysvshm_lock(h, SYSVSHM_READ, 2000);

        if (rc == 0)
            bad = p[OFF_NAME] != 0 && strncmp((const char *)p + OFF_NAME, n, 64) != 0;
        if (rc >= 0)
            sysvshm_unlock(h);
    }
    if (bad) {
        ctl->wrong_block++; /* racy, but never back to 0 */
        fprintf(stderr, "stress: worker %d: asked for block \"%s\", got \"%s\" (size %zu, "
                        "key 0x%08lx, data names \"%.63s\")\n", w, n, sysvshm_name(h),
                sysvshm_size(h), (unsigned long)k, (const char *)p + OFF_NAME);
        return 0;
    }
    return 1;
}

static void do_locked(int w, struct held *hd, int write)
{
    const char *n = names[hd->name];
    unsigned char *p = sysvshm_buf(hd->h);
    int rc, err;

    long t0 = run_ms();

    errno = 0;
    rc = sysvshm_lock(hd->h, write ? SYSVSHM_WRITE : SYSVSHM_READ, 2000);
    err = errno;
    note(w, write ? OP_WRITE : OP_READ, rc, err, hd->name, t0);
    if (rc < 0)
        return;
    if (rc == 0 && !consistent(p)) {
        ctl->lost_update++; /* racy, but never back to 0 */
        fprintf(stderr, "stress: worker %d: block \"%s\": counter %llu but tallies say "
                        "otherwise under the %s lock (lost update)\n", w, n,
                (unsigned long long)get64(p, OFF_COUNTER), write ? "writer" : "reader");
    }
    if (write) {
        uint64_t c;
        volatile unsigned spin, k = (unsigned)(rnd() % 200);

        if (rc == SYSVSHM_RECOVERED) {
            repair(p);
            /* The dead writer may have been copying the name in. */
            if (p[OFF_NAME] != 0 && strncmp((const char *)p + OFF_NAME, n, 64) != 0) {
                memset(p + OFF_NAME, 0, 64);
                strncpy((char *)p + OFF_NAME, n, 63);
            }
            ctl->recovered_repairs++; /* racy, but never back to 0 */
        }
        /* Read, dawdle, write: two writers inside at once lose an update. */
        c = get64(p, OFF_COUNTER);
        for (spin = 0; spin < k; spin++)
            ;
        if (k < 25)
            sleep_us(100); /* now and then a long update: a kill lands in it */
        put64(p, OFF_COUNTER, c + 1);
        put64(p, OFF_TALLY + 8 * (size_t)w, get64(p, OFF_TALLY + 8 * (size_t)w) + 1);
        if (p[OFF_NAME] == 0)
            strncpy((char *)p + OFF_NAME, n, 63);
    }
    errno = 0;
    rc = sysvshm_unlock(hd->h);
    note(w, OP_UNLOCK, rc, errno, hd->name, t0);
}

static void worker(int w, pid_t parent)
{
    struct held hd[MAXH];
    unsigned long ops = 0;
    int i;

    rng_state = (seed ^ ((uint64_t)getpid() << 20) ^ (uint64_t)w) | 1;
    memset(hd, 0, sizeof hd);
    while (!ctl->stop) {
        unsigned r = (unsigned)(rnd() % 100);
        int slot = (int)(rnd() % MAXH);
        struct held *x = &hd[slot];
        int name = (int)(rnd() % (unsigned)nnames);
        long t0 = run_ms();
        int err;

        /* Never outlive the parent (killed, or its output pipe closed). */
        if (++ops % 64 == 0 && getppid() != parent)
            break;

        if (r < 14) { /* create */
            sysvshm_t *h;

            if (x->h != NULL)
                continue;
            errno = 0;
            /* -H: writable by all, so that the hostile process could flip
             * its state even if it were not root. */
            h = sysvshm_create(names[name], BLK,
                               fast_mode && rnd() % 2 ? SYSVSHM_FASTLOCK : 0,
                               hostile_mode ? 0666 : 0600);
            err = errno;
            note(w, OP_CREATE, h ? 0 : -1, err, name, t0);
            if (h == NULL)
                continue;
            {
                /* The format version, from the header before the data
                 * (docs/format.md: offset 8; the data at 384). */
                uint32_t v;

                memcpy(&v, (const unsigned char *)sysvshm_buf(h) - 384 + 8, 4);
                ctl->made[w][v == 1 ? 0 : v == 2 ? 1 : 2]++;
            }
            x->h = h;
            x->name = name;
            right_block(w, h, name);
            do_locked(w, x, 1); /* writes the name into the data */
        } else if (r < 34) { /* attach */
            sysvshm_t *h;

            if (x->h != NULL)
                continue;
            errno = 0;
            h = sysvshm_attach(names[name], 0);
            err = errno;
            note(w, OP_ATTACH, h ? 0 : -1, err, name, t0);
            if (h == NULL)
                continue;
            x->h = h;
            x->name = name;
            right_block(w, h, name);
        } else if (r < 64) {
            if (x->h != NULL)
                do_locked(w, x, 1);
        } else if (r < 88) {
            if (x->h != NULL)
                do_locked(w, x, 0);
        } else if (r < 95) {
            if (x->h != NULL) {
                errno = 0;
                i = sysvshm_close(x->h);
                note(w, OP_CLOSE, i, errno, x->name, t0);
                x->h = NULL;
            }
        } else if (r < 97 && rnd() % 2 == 0) {
            if (x->h != NULL) {
                errno = 0;
                i = sysvshm_unlink(x->h);
                note(w, OP_UNLINK, i, errno, x->name, t0);
                sysvshm_close(x->h);
                x->h = NULL;
            }
        } else if (r < 99 && rnd() % 2 == 0) {
            errno = 0;
            i = sysvshm_remove(names[name]);
            note(w, OP_REMOVE, i, errno, name, t0);
        } else if (r == 99 && rnd() % 2 == 0) {
            int victim = (int)(rnd() % (unsigned)nworkers);

            if (victim != w && ctl->kill_req == 0) {
                ctl->kill_req = 1 + victim;
                ctl->counts[w][OP_KILL][0]++;
            }
        }
    }
    for (i = 0; i < MAXH; i++)
        if (hd[i].h != NULL)
            sysvshm_close(hd[i].h);
    _exit(0);
}

/* ---- the hostile process (-H) ----------------------------------------------------- */

/*
 * One process, alive from the start of the run until the parent has made its
 * last check, keeps doing at random, at the probe keys of the run's names:
 *  (a) zero-filled segments: mode 0600, or 0711 -- the creator's mark of a
 *      half-made block -- with a live creator (this process); the size of a
 *      block (to the library: a header not yet written) or a tiny one;
 *  (b) look-alikes: the size of a block, a valid header bearing one of the
 *      names and its right probe index, state INIT, READY or UNLINKING, mode
 *      0600 or 0700 (0100 is the remover's mark; only an owner can set it
 *      with IPC_SET, and this process owns its plants).  A READY look-alike
 *      either has a header semid that is not the set at its key (an
 *      unmarked set planted there first) or has no set at all.  Each carries
 *      PLANT_MARK in its data: a worker that attaches one fails promise 2;
 *  (c) semaphore sets: 3 semaphores with and without the library's 0100
 *      mark, or 1 or 5;
 *  (d) flips of the state word of the workers' blocks (made 0666 under -H),
 *      READY to INIT or UNLINKING and back after at most a millisecond, with
 *      a compare-and-swap, so that it never undoes a remover's own change.
 * Plants go to free keys only (IPC_EXCL), one object (or a look-alike and
 * its set) per key, at most 3 keys of a name at a time.  Each lives 1 to 300
 * ms (an INIT look-alike at most 20: a block being made is waited for, up to
 * seconds), or, a few of the kinds that cost the workers nothing but a step
 * to the next key, to the end of the run.
 *
 * Every plant goes into the plant log (a file; the parent reads it at the
 * end) with `prot': whether the library's one rule forbids it to remove the
 * plant.  The rule lets it prove abandoned only: an UNLINKING look-alike
 * with the remover's mark that nobody has attached (create reclaims it), a
 * READY one with no set at its key (with the mark create reclaims it; without
 * it sysvshm_remove may: the owner removes a block whose set was removed by
 * hand) and a set with the library's mark and 3 semaphores but no segment
 * (a stray, removed by the create that claims its key).  Everything else
 * must be where it was planted, with the same id, when this process comes
 * to remove it (it looks first) and, for what lives to the end, when the
 * parent looks after the run and again after its final cleanup through
 * the library.  That is promise 6.
 *
 * Promise 1 (no lost update) stays as strict as without -H: a flip touches
 * only the 4-byte state word at offset 12, never the data (counter, tallies)
 * nor the writer word, and the lock is the semaphore set, which no flip
 * touches; it makes attach, remove and unlink fail (EPROTO, EAGAIN, ENOENT)
 * but lets no writer in.  And as a flip lasts at most a millisecond and is
 * always undone, the blocks stay usable: updates keep being made and checked.
 * Promise 3: hostile_explains() lets EPROTO and EADDRINUSE through only for a
 * name that had a plant or a flip during the call.
 */

enum pkind { PK_ZERO, PK_ZERO711, PK_INIT, PK_READY, PK_UNLINKING, PK_SET, NPK };
static const char *const pk_names[NPK] = { "zero-filled 0600", "zero-filled 0711",
                                           "INIT look-alike", "READY look-alike",
                                           "UNLINKING look-alike", "semaphore set" };

/* One record of the plant log: 'P' planted, 'R' removed by the hostile
 * process, 'V' found gone by it (before its own removal), 'F' a flip. */
struct prec {
    char op, is_sem, prot, kind;
    int key, id;
    char desc[56];
};

#define MAXPLANTS 64
#define SEG_BLK (384 + BLK)

struct plant {
    int used, kind, prot, mark;
    key_t key;
    int shmid, semid; /* -1: none */
    void *att;        /* kept attached: in use */
    unsigned names;   /* bit n: the key is one of names[n]'s */
    int lookname;     /* the name a look-alike bears, or -1 */
    long until;       /* run_ms() to remove it at; -1: at the end */
    char desc[56];
};

static struct plant plants[MAXPLANTS];
static int plog_fd = -1;

static void plog(char op, const struct plant *pl, int is_sem, int id, const char *desc)
{
    struct prec r;

    memset(&r, 0, sizeof r);
    r.op = op;
    r.is_sem = (char)is_sem;
    r.prot = pl != NULL ? (char)pl->prot : 0;
    r.kind = pl != NULL ? (char)pl->kind : 0;
    r.key = pl != NULL ? (int)pl->key : 0;
    r.id = id;
    snprintf(r.desc, sizeof r.desc, "%s", desc);
    /* One write of a small record to a file opened O_APPEND: whole. */
    if (write(plog_fd, &r, sizeof r) != (ssize_t)sizeof r)
        fprintf(stderr, "stress: hostile: plant log: %s\n", strerror(errno));
}

static unsigned names_of_key(key_t key)
{
    unsigned m = 0;
    int n;

    for (n = 0; n < nnames; n++)
        if ((((unsigned)key - (unsigned)probe_key(names[n], 0)) & 0xffffff) <
            SYSVSHM_PROBE_MAX)
            m |= 1u << n;
    return m;
}

/* Count the plant in jact before it exists; stamp jlast, then uncount,
 * after it is gone (see planted_since). */
static void j_up(const struct plant *pl)
{
    int n;

    for (n = 0; n < nnames; n++)
        if (pl->names & (1u << n))
            ctl->jact[n][J_KEYS]++;
    if (pl->lookname >= 0)
        ctl->jact[pl->lookname][J_PROTO]++;
}

static void j_down(const struct plant *pl)
{
    long t = run_ms();
    int n;

    for (n = 0; n < nnames; n++)
        if (pl->names & (1u << n)) {
            ctl->jlast[n][J_KEYS] = t;
            ctl->jact[n][J_KEYS]--;
        }
    if (pl->lookname >= 0) {
        ctl->jlast[pl->lookname][J_PROTO] = t;
        ctl->jact[pl->lookname][J_PROTO]--;
    }
}

static int is_plant(int shmid)
{
    int i;

    for (i = 0; i < MAXPLANTS; i++)
        if (plants[i].used && plants[i].shmid == shmid)
            return 1;
    return 0;
}

static int cas32(unsigned char *p, uint32_t old, uint32_t new_value)
{
    /* As configure found it for the library: pcc says __GNUC__ but has no
     * __sync builtins. */
#if defined(SVS_USE_ATOMIC_FENCE)
    uint32_t expected = old;

    return __atomic_compare_exchange_n((uint32_t *)(void *)p, &expected, new_value, 0,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
#elif defined(SVS_USE_SYNC_SYNCHRONIZE)
    return __sync_bool_compare_and_swap((uint32_t *)(void *)p, old, new_value);
#else
    volatile uint32_t *q = (volatile uint32_t *)(void *)p;

    if (*q != old)
        return 0;
    *q = new_value;
    return 1;
#endif
}

#define ST_INIT 0x494e4954u
#define ST_READY 0x52454459u
#define ST_UNLINKING 0x554e4c4bu

/* A header docs/format.md calls valid, for names[n] at probe index idx. */
static void write_header(unsigned char *p, uint32_t state, uint32_t flags, int32_t semid,
                         unsigned idx, const char *name)
{
    uint32_t u;
    uint64_t size = BLK;
    size_t len = strlen(name);

    memset(p, 0, 384);
    u = 1;
    memcpy(p + 8, &u, 4);
    memcpy(p + 12, &state, 4);
    memcpy(p + 16, &size, 8);
    u = 384;
    memcpy(p + 24, &u, 4);
    memcpy(p + 28, &flags, 4);
    memcpy(p + 32, &semid, 4);
    u = idx;
    memcpy(p + 36, &u, 4);
    u = (uint32_t)len;
    memcpy(p + 40, &u, 4);
    memcpy(p + 128, name, len);
    memcpy(p + 384 + OFF_PLANT, PLANT_MARK, sizeof PLANT_MARK);
    memcpy(p, "SYSVSHM", 8); /* the magic last, as a creator does */
}

/* Add the 0100 mark to the segment's mode (we own it: we may). */
static int add_mark(int shmid)
{
    struct shmid_ds ds;

    if (shmctl(shmid, IPC_STAT, &ds) < 0)
        return -1;
    ds.shm_perm.mode = (ds.shm_perm.mode & ~(mode_t)0777) | 0700;
    return shmctl(shmid, IPC_SET, &ds);
}

/* Make pl's objects at pl->key (free a moment ago).  0, or -1 with nothing
 * left behind. */
static int plant_make(struct plant *pl, int n, unsigned idx)
{
    unsigned char *p;
    int mark = pl->mark, attach_it = 0;
    size_t size = SEG_BLK;
    int mode = 0600;
    uint32_t state = ST_READY, flags = 1;
    int32_t semid = 0;

    pl->shmid = pl->semid = -1;
    pl->prot = 1;
    switch (pl->kind) {
    case PK_ZERO:
        if (rnd() % 2 == 0)
            size = 64; /* too small to be a block: foreign */
        snprintf(pl->desc, sizeof pl->desc, "zero-filled, %zu bytes, 0600", size);
        break;
    case PK_ZERO711:
        mode = 0711;
        snprintf(pl->desc, sizeof pl->desc, "zero-filled, 0711, live creator");
        break;
    case PK_SET: {
        static const int nsems[4] = { 3, 3, 1, 5 };
        int ns = nsems[rnd() % 4];

        pl->semid = semget(pl->key, ns, IPC_CREAT | IPC_EXCL | 0600 | (mark ? 0100 : 0));
        if (pl->semid < 0)
            return -1;
        pl->prot = !(ns == 3 && mark); /* a marked 3-set with no segment: a stray */
        snprintf(pl->desc, sizeof pl->desc, "set of %d, mode %o", ns, mark ? 0700 : 0600);
        return 0;
    }
    case PK_INIT:
        state = ST_INIT;
        semid = rnd() % 2 ? -2 : -1;
        snprintf(pl->desc, sizeof pl->desc, "INIT, semid %d, mode %o", (int)semid,
                 mark ? 0700 : 0600);
        break;
    case PK_READY:
        if (rnd() % 3 != 0) {
            /* The set first, so that the look-alike is never without it. */
            pl->semid = semget(pl->key, 3, IPC_CREAT | IPC_EXCL | 0600);
            if (pl->semid < 0)
                return -1;
            semid = pl->semid + 1; /* not the set at the key */
            snprintf(pl->desc, sizeof pl->desc, "READY, another set, mode %o",
                     mark ? 0700 : 0600);
        } else {
            semid = 0x7ffffff0; /* and no set at the key: fair game */
            pl->prot = 0;
            snprintf(pl->desc, sizeof pl->desc, "READY, set gone, mode %o", mark ? 0700 : 0600);
        }
        break;
    case PK_UNLINKING:
        state = ST_UNLINKING;
        semid = 0x7ffffff0;
        if (mark) {
            /* The remover's mark: the rule may reclaim it, unless in use. */
            attach_it = (int)(rnd() % 2);
            pl->prot = attach_it;
        }
        snprintf(pl->desc, sizeof pl->desc, "UNLINKING, mode %o%s", mark ? 0700 : 0600,
                 attach_it ? ", attached" : "");
        break;
    }
    pl->shmid = shmget(pl->key, size, IPC_CREAT | IPC_EXCL | mode);
    if (pl->shmid < 0)
        goto undo;
    if (pl->kind == PK_ZERO || pl->kind == PK_ZERO711)
        return 0;
    /* The mark before the header: a look-alike is never seen with the
     * state it will have and without the mark it will have (that one
     * moment could make an attach say EPROTO that nothing here explains). */
    if (mark && add_mark(pl->shmid) < 0)
        goto undo;
    p = shmat(pl->shmid, NULL, 0);
    if (p == (void *)-1)
        goto undo;
    write_header(p, state, flags, semid, idx, names[n]);
    if (attach_it)
        pl->att = p;
    else
        shmdt(p);
    return 0;
undo:
    if (pl->shmid >= 0)
        shmctl(pl->shmid, IPC_RMID, NULL);
    if (pl->semid >= 0)
        semctl(pl->semid, 0, IPC_RMID);
    return -1;
}

static void plant_one(void)
{
    int n = (int)(rnd() % (unsigned)nnames);
    unsigned idx = (unsigned)(rnd() % SYSVSHM_PROBE_MAX);
    unsigned r = (unsigned)(rnd() % 100);
    key_t key = probe_key(names[n], idx);
    struct plant *pl = NULL;
    int i, m, keeps = 0, load[MAXNAMES];
    long now = run_ms();

    memset(load, 0, sizeof load);
    for (i = 0; i < MAXPLANTS; i++) {
        if (!plants[i].used) {
            if (pl == NULL)
                pl = &plants[i];
            continue;
        }
        keeps += plants[i].until < 0;
        for (m = 0; m < nnames; m++)
            load[m] += (plants[i].names >> m) & 1;
    }
    if (pl == NULL)
        return;
    memset(pl, 0, sizeof *pl);
    pl->key = key;
    pl->names = names_of_key(key);
    for (m = 0; m < nnames; m++)
        if ((pl->names & (1u << m)) && load[m] >= 3)
            return;
    if (shmget(key, 0, 0) >= 0 || errno != ENOENT || semget(key, 0, 0) >= 0 ||
        errno != ENOENT)
        return; /* not free */
    pl->kind = r < 15 ? PK_ZERO : r < 27 ? PK_ZERO711 : r < 37 ? PK_INIT : r < 55 ? PK_READY
             : r < 72 ? PK_UNLINKING : PK_SET;
    if (pl->kind == PK_INIT)
        pl->until = now + 1 + (long)(rnd() % 20);
    else if (rnd() % 100 < 70)
        pl->until = now + 1 + (long)(rnd() % 30);
    else
        pl->until = now + 30 + (long)(rnd() % 270);
    /* A few to the end of the run: kinds that cost a create no more than a
     * step to the next key (a zero-filled one at a low key would make every
     * create above it wait for a "racing creator" for seconds). */
    if (keeps < nnames && rnd() % 100 < 4 &&
        (pl->kind == PK_SET || ((pl->kind == PK_ZERO || pl->kind == PK_ZERO711) && idx >= 2)))
        pl->until = -1;
    /* Only a damaged look-alike (UNLINKING or READY without the remover's
     * mark; with it the block reads as being removed, and is passed over)
     * can make attach or remove say EPROTO; an INIT one is waited for. */
    pl->mark = (int)(rnd() % 2);
    pl->lookname = (pl->kind == PK_UNLINKING || pl->kind == PK_READY) && !pl->mark ? n : -1;
    j_up(pl);
    if (plant_make(pl, n, idx) < 0) {
        j_down(pl);
        return;
    }
    pl->used = 1;
    ctl->h_plants++;
    if (pl->semid >= 0)
        plog('P', pl, 1, pl->semid, pl->desc);
    if (pl->shmid >= 0)
        plog('P', pl, 0, pl->shmid, pl->desc);
}

/* Remove a plant of ours, after looking that it is still there. */
static void plant_remove(struct plant *pl)
{
    int gone_shm = pl->shmid >= 0 && shmget(pl->key, 0, 0) != pl->shmid;
    int gone_sem = pl->semid >= 0 && semget(pl->key, 0, 0) != pl->semid;

    if (gone_shm || gone_sem) {
        if (pl->prot) {
            ctl->h_vanished++;
            fprintf(stderr, "stress: hostile: planted %s (%s) at key 0x%08lx, %s id %d, was "
                            "removed by somebody else\n", pk_names[pl->kind], pl->desc,
                    (unsigned long)pl->key, gone_shm ? "segment" : "set",
                    gone_shm ? pl->shmid : pl->semid);
        } else {
            ctl->h_reclaimed++;
        }
        if (gone_sem)
            plog('V', pl, 1, pl->semid, pl->desc);
        if (gone_shm)
            plog('V', pl, 0, pl->shmid, pl->desc);
    }
    if (pl->att != NULL)
        shmdt(pl->att);
    if (pl->semid >= 0) {
        if (!gone_sem)
            semctl(pl->semid, 0, IPC_RMID);
        plog('R', pl, 1, pl->semid, pl->desc);
    }
    if (pl->shmid >= 0) {
        if (!gone_shm)
            shmctl(pl->shmid, IPC_RMID, NULL);
        plog('R', pl, 0, pl->shmid, pl->desc);
    }
    j_down(pl);
    pl->used = 0;
}

/* Flip the state of one of the workers' READY blocks for a moment. */
static void flip_one(void)
{
    int n = (int)(rnd() % (unsigned)nnames);
    /* Mostly the first keys, where the blocks mostly are. */
    unsigned idx = rnd() % 2 ? 0 : (unsigned)(rnd() % SYSVSHM_PROBE_MAX);
    key_t key = probe_key(names[n], idx);
    uint32_t to = rnd() % 2 ? ST_INIT : ST_UNLINKING;
    struct shmid_ds ds;
    unsigned char *p;
    int id = shmget(key, 0, 0);

    if (id < 0 || is_plant(id))
        return;
    if (shmctl(id, IPC_STAT, &ds) < 0 || ds.shm_segsz < 384)
        return;
    p = shmat(id, NULL, 0);
    if (p == (void *)-1)
        return;
    if (memcmp(p, "SYSVSHM", 8) == 0 && strncmp((const char *)p + 128, names[n], 256) == 0) {
        ctl->jact[n][J_PROTO]++;
        if (cas32(p + 12, ST_READY, to)) {
            struct plant f;

            memset(&f, 0, sizeof f);
            f.key = key;
            plog('F', &f, 0, id, to == ST_INIT ? "READY -> INIT" : "READY -> UNLINKING");
            ctl->h_flips++;
            sleep_us(20 + (long)(rnd() % 1000));
            if (!cas32(p + 12, to, ST_READY))
                ctl->h_flips_clobbered++; /* a remover's plain store (no CAS) */
        }
        ctl->jlast[n][J_PROTO] = run_ms();
        ctl->jact[n][J_PROTO]--;
    }
    shmdt(p);
}

static void hostile(pid_t parent)
{
    unsigned long it = 0;
    int i;

    rng_state = ((uint64_t)seed * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 7) | 1;
    while (!ctl->stop) {
        long now = run_ms();
        unsigned r = (unsigned)(rnd() % 100);

        if (++it % 64 == 0 && getppid() != parent)
            break;
        for (i = 0; i < MAXPLANTS; i++)
            if (plants[i].used && plants[i].until >= 0 && now >= plants[i].until)
                plant_remove(&plants[i]);
        if (r < 45)
            plant_one();
        else if (r < 80)
            flip_one();
        sleep_us(100 + (long)(rnd() % 900));
    }
    /* What lives to the end stays for the parent to check. */
    for (i = 0; i < MAXPLANTS; i++)
        if (plants[i].used && plants[i].until >= 0)
            plant_remove(&plants[i]);
    ctl->hostile_done = 1;
    /* Stay alive (the creator of the 0711 plants) until the parent is done. */
    while (!ctl->hostile_exit && getppid() == parent)
        sleep_us(2000);
    for (i = 0; i < MAXPLANTS; i++)
        if (plants[i].used) {
            if (getppid() != parent)
                plant_remove(&plants[i]); /* nobody else will */
            else if (plants[i].att != NULL)
                shmdt(plants[i].att);
        }
    _exit(0);
}

/* ---- the parent --------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Every process this run started (and the parent): the creators whose
 * objects the run may remove at the end. */
static pid_t *ourpids;
static size_t nourpids, capourpids;
static pid_t hostile_pid = -1;

static void remember_pid(pid_t pid)
{
    if (nourpids == capourpids) {
        size_t cap = capourpids ? 2 * capourpids : 256;
        pid_t *p = realloc(ourpids, cap * sizeof *p);

        if (p == NULL)
            return;
        ourpids = p;
        capourpids = cap;
    }
    ourpids[nourpids++] = pid;
}

static int is_ours(pid_t pid)
{
    size_t i;

    if (pid == getpid())
        return 1;
    for (i = 0; i < nourpids; i++)
        if (ourpids[i] == pid)
            return 1;
    return 0;
}

static pid_t spawn(int w)
{
    pid_t parent = getpid();
    pid_t pid = fork();

    if (pid == 0)
        worker(w, parent);
    if (pid > 0) {
        ctl->pids[w] = pid;
        remember_pid(pid);
    }
    return pid;
}

static int slot_of(pid_t pid)
{
    int w;

    for (w = 0; w < nworkers; w++)
        if (ctl->pids[w] == pid)
            return w;
    return -1;
}

/* ---- the plants, as the parent sees them in the log ----------------------------- */

struct plants_seen {
    struct prec *live; /* planted, not removed by the hostile process */
    size_t nlive;
    int *flipped; /* ids of worker segments whose state was flipped */
    size_t nflipped;
    unsigned long planted[NPK], removed_by_it, flips;
};

static void read_plant_log(struct plants_seen *ps)
{
    struct prec r;
    off_t off = 0;
    size_t cap = 0, capf = 0, i;

    memset(ps, 0, sizeof *ps);
    while (pread(plog_fd, &r, sizeof r, off) == (ssize_t)sizeof r) {
        off += (off_t)sizeof r;
        if (r.op == 'P') {
            if (ps->nlive == cap) {
                struct prec *p;

                cap = cap ? 2 * cap : 64;
                p = realloc(ps->live, cap * sizeof *p);
                if (p == NULL)
                    break;
                ps->live = p;
            }
            ps->live[ps->nlive++] = r;
            if (!r.is_sem || r.kind == PK_SET)
                ps->planted[(int)r.kind]++;
        } else if (r.op == 'R') {
            for (i = 0; i < ps->nlive; i++)
                if (ps->live[i].is_sem == r.is_sem && ps->live[i].id == r.id &&
                    ps->live[i].key == r.key) {
                    ps->live[i] = ps->live[--ps->nlive];
                    break;
                }
            if (!r.is_sem || r.kind == PK_SET)
                ps->removed_by_it++;
        } else if (r.op == 'F') {
            if (ps->nflipped == capf) {
                int *p;

                capf = capf ? 2 * capf : 64;
                p = realloc(ps->flipped, capf * sizeof *p);
                if (p == NULL)
                    break;
                ps->flipped = p;
            }
            ps->flipped[ps->nflipped++] = r.id;
            ps->flips++;
        }
    }
}

static int plant_present(const struct prec *r)
{
    return (r->is_sem ? semget((key_t)r->key, 0, 0) : shmget((key_t)r->key, 0, 0)) == r->id;
}

/* The plants still there; those the rule protects and that are gone are
 * reported (when) and counted in *vanished, the others in *reclaimed. */
static void check_plants(struct plants_seen *ps, const char *when, long *vanished,
                         long *reclaimed)
{
    size_t i;

    for (i = 0; i < ps->nlive; i++) {
        struct prec *r = &ps->live[i];

        if (r->op != 'P' || plant_present(r))
            continue;
        if (r->prot) {
            ++*vanished;
            fprintf(stderr, "stress: planted %s (%s) at key 0x%08lx, %s id %d, is gone %s\n",
                    pk_names[(int)r->kind], r->desc, (unsigned long)(unsigned)r->key,
                    r->is_sem ? "set" : "segment", r->id, when);
        } else {
            ++*reclaimed;
        }
        r->op = 'V'; /* counted once */
    }
}

static int is_plant_id(const struct plants_seen *ps, int is_sem, int id)
{
    size_t i;

    for (i = 0; ps != NULL && i < ps->nlive; i++)
        if (ps->live[i].is_sem == is_sem && ps->live[i].id == id)
            return 1;
    return 0;
}

static int was_flipped(const struct plants_seen *ps, int shmid)
{
    size_t i;

    for (i = 0; ps != NULL && i < ps->nflipped; i++)
        if (ps->flipped[i] == shmid)
            return 1;
    return 0;
}

/* What this run made and left at a name's keys: described on stderr, then
 * removed by id.  Only what the run provably made: a segment whose creator
 * is one of its processes, a set that is such a segment's (its header's
 * semid) or that has the library's mark and was made during the run.  The
 * plants (ps) are not counted here.  Anything else found at the keys is
 * another program's (keys can collide): reported, left alone.  Blocks whose
 * state the hostile process flipped are counted in *flipped_left instead.
 * Returns the number of objects left. */
static int sweep(const char *name, int report, const struct plants_seen *ps,
                 int *flipped_left)
{
    unsigned i;
    int left = 0;

    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        key_t k = probe_key(name, i);
        int id = shmget(k, 0, 0), sid;
        int32_t hsemid = -1;

        if (id >= 0 && !is_plant_id(ps, 0, id)) {
            struct shmid_ds ds;
            unsigned char h[64];
            void *p;
            int mine, flipped;

            memset(h, 0, sizeof h);
            if (shmctl(id, IPC_STAT, &ds) < 0)
                continue;
            if ((p = shmat(id, NULL, SHM_RDONLY)) != (void *)-1) {
                memcpy(h, p, ds.shm_segsz < sizeof h ? (size_t)ds.shm_segsz : sizeof h);
                shmdt(p);
            }
            mine = is_ours(ds.shm_cpid) && ds.shm_ctime >= run_start - 1;
            flipped = mine && was_flipped(ps, id);
            if (report || !mine)
                fprintf(stderr, "stress: %s segment at key 0x%08lx (probe %u of \"%s\"): "
                                "id %d, mode %03o, magic %s, state %s, creator pid %ld, "
                                "attached %lu%s\n",
                        !mine ? "another program's" : flipped ? "flipped, left" : "leaked",
                        (unsigned long)k, i, name, id, (unsigned)ds.shm_perm.mode & 0777,
                        memcmp(h, "SYSVSHM", 8) == 0 ? "yes" : "no",
                        state_name(h), (long)ds.shm_cpid,
                        (unsigned long)ds.shm_nattch, mine ? ": removed" : ": left alone");
            if (!mine)
                continue;
            if (memcmp(h, "SYSVSHM", 8) == 0)
                memcpy(&hsemid, h + 32, sizeof hsemid);
            if (flipped && flipped_left != NULL)
                ++*flipped_left;
            else
                left++;
            sid = semget(k, 0, 0);
            if (sid >= 0 && sid == hsemid && !is_plant_id(ps, 1, sid)) {
                semctl(sid, 0, IPC_RMID);
                if (!flipped)
                    left++;
            }
            shmctl(id, IPC_RMID, NULL);
        }
        sid = semget(k, 0, 0);
        if (sid >= 0 && !is_plant_id(ps, 1, sid)) {
            struct semid_ds sds;
            union {
                int val;
                struct semid_ds *buf;
                unsigned short *array;
            } arg;
            int mine;

            arg.buf = &sds;
            if (semctl(sid, 0, IPC_STAT, arg) < 0)
                continue;
            /* 3 semaphores, or 35 for a fast-lock block. */
            mine = (sds.sem_nsems == 3 || sds.sem_nsems == 35) &&
                   (sds.sem_perm.mode & 0100) != 0 &&
                   sds.sem_ctime >= run_start - 1;
            if (report || !mine)
                fprintf(stderr, "stress: %s semaphore set at key 0x%08lx (probe %u of \"%s\"): "
                                "id %d, %lu semaphores, mode %03o%s\n",
                        mine ? "leaked" : "another program's", (unsigned long)k, i, name, sid,
                        (unsigned long)sds.sem_nsems, (unsigned)sds.sem_perm.mode & 0777,
                        mine ? ": removed" : ": left alone");
            if (mine) {
                semctl(sid, 0, IPC_RMID);
                left++;
            }
        }
    }
    return left;
}

/* Remove everything of the name through the library: what a user would do
 * after a crash. */
static void final_cleanup(const char *name)
{
    int i;

    for (i = 0; i < 16 && sysvshm_remove(name) == 0; i++)
        ;
    if (errno != ENOENT)
        fprintf(stderr, "stress: final remove of \"%s\": %s\n", name, strerror(errno));
    /* A create reclaims what dead creators and removers left on its way. */
    for (i = 0; i < 2; i++) {
        sysvshm_t *h = sysvshm_create(name, BLK, 0, 0600);

        if (h == NULL) {
            fprintf(stderr, "stress: final create of \"%s\": %s\n", name, strerror(errno));
            break;
        }
        sysvshm_unlink(h);
        sysvshm_close(h);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: stress [-n PROCS] [-d SECONDS] [-k NAMES] [-s SEED] [-q] [-H] "
                    "[-F]\n");
    exit(2);
}

/* Start the hostile process, with the plant log it writes: a file removed at
 * once, so that it cannot be left behind; the parent reads it by offset. */
static pid_t start_hostile(void)
{
    char path[] = "/tmp/stress-plants-XXXXXX";
    pid_t parent = getpid(), pid;

    plog_fd = mkstemp(path);
    if (plog_fd < 0) {
        fprintf(stderr, "stress: plant log: %s\n", strerror(errno));
        return -1;
    }
    unlink(path);
    if (fcntl(plog_fd, F_SETFL, fcntl(plog_fd, F_GETFL) | O_APPEND) < 0) {
        fprintf(stderr, "stress: plant log: %s\n", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid == 0)
        hostile(parent);
    if (pid > 0)
        remember_pid(pid);
    return pid;
}

int main(int argc, char **argv)
{
    unsigned long totals[NOPS][NOUT];
    unsigned long total_ops = 0, kills = 0, crashes = 0;
    long long start, end, elapsed;
    int c, id, w, n, o, leaked = 0, flipped_left = 0;
    long vanished = 0, reclaimed = 0;
    struct plants_seen ps;
    struct sigaction sa;

    seed = (unsigned long)time(NULL) ^ (unsigned long)getpid();
    while ((c = getopt(argc, argv, "n:d:k:s:qHF")) != -1) {
        switch (c) {
        case 'n': nworkers = atoi(optarg); break;
        case 'd': seconds = atol(optarg); break;
        case 'k': nnames = atoi(optarg); break;
        case 's': seed = strtoul(optarg, NULL, 0); break;
        case 'q': quiet = 1; break;
        case 'H': hostile_mode = 1; break;
        case 'F': fast_mode = 1; break;
        default: usage();
        }
    }
    if (nworkers < 2 || nworkers > MAXW || nnames < 1 || nnames > MAXNAMES || seconds < 0)
        usage();
    for (n = 0; n < nnames; n++)
        snprintf(names[n], sizeof names[n], "stress.%ld.%lu.%d", (long)getpid(),
                 seed & 0xffff, n);
    memset(&ps, 0, sizeof ps);

    /* The shared control block: removed at once, so it cannot leak even if
     * we are killed; the workers inherit the attachment over fork. */
    id = shmget(IPC_PRIVATE, sizeof *ctl, IPC_CREAT | 0600);
    if (id < 0) {
        fprintf(stderr, "stress: control segment: %s\n", strerror(errno));
        return 1;
    }
    ctl = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);
    if (ctl == (void *)-1) {
        fprintf(stderr, "stress: control segment: %s\n", strerror(errno));
        return 1;
    }
    memset((void *)ctl, 0, sizeof *ctl);
    for (n = 0; n < MAXNAMES; n++)
        for (c = 0; c < NJ; c++)
            ctl->jlast[n][c] = -1;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    printf("# stress: %d processes, %ld s, %d names, seed %lu%s%s\n", nworkers, seconds, nnames,
           seed, hostile_mode ? ", hostile process (-H)" : "",
           fast_mode ? ", fast-lock and version-1 blocks (-F)" : "");
    fflush(stdout);
    run_start = time(NULL);
    run_start_ms = now_ms();
    if (hostile_mode && (hostile_pid = start_hostile()) < 0) {
        fprintf(stderr, "stress: hostile process: %s\n", strerror(errno));
        return 1;
    }
    for (w = 0; w < nworkers; w++)
        if (spawn(w) < 0) {
            fprintf(stderr, "stress: fork: %s\n", strerror(errno));
            ctl->stop = 1;
            break;
        }
    start = now_ms();
    end = start + seconds * 1000;
    while (!interrupted && !ctl->stop && now_ms() < end) {
        int status;
        pid_t pid;

        if (ctl->kill_req != 0) {
            int v = ctl->kill_req - 1;

            /* Our own unreaped child: its pid cannot have been reused. */
            if (v >= 0 && v < nworkers && ctl->pids[v] > 0)
                kill(ctl->pids[v], SIGKILL);
            ctl->kill_req = 0;
        }
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid == hostile_pid) {
                crashes++;
                hostile_pid = -1;
                fprintf(stderr, "stress: the hostile process ended early: status 0x%x\n",
                        (unsigned)status);
                continue;
            }
            w = slot_of(pid);
            if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
                kills++;
            } else {
                crashes++;
                fprintf(stderr, "stress: worker %d (pid %ld) ended unexpectedly: status "
                                "0x%x\n", w, (long)pid, (unsigned)status);
            }
            if (w >= 0) {
                ctl->pids[w] = 0;
                spawn(w);
            }
        }
        sleep_us(2000);
    }
    ctl->stop = 1;
    elapsed = now_ms() - start;
    /* Workers finish their operation and exit; a hung one is a failure. */
    {
        long long give_up = now_ms() + 10000;
        int alive = nworkers;

        while (alive > 0) {
            int status;
            pid_t pid = waitpid(-1, &status, WNOHANG);

            if (pid > 0 && pid == hostile_pid) {
                crashes++;
                hostile_pid = -1;
                fprintf(stderr, "stress: the hostile process ended early: status 0x%x\n",
                        (unsigned)status);
                continue;
            }
            if (pid > 0) {
                w = slot_of(pid);
                if (w >= 0)
                    ctl->pids[w] = 0;
                if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                    kills++;
                else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    crashes++;
                    fprintf(stderr, "stress: worker %d ended unexpectedly: status 0x%x\n", w,
                            (unsigned)status);
                }
                alive--;
                continue;
            }
            if (pid < 0)
                break;
            if (now_ms() > give_up) {
                fprintf(stderr, "stress: workers still running 10 s after the end: killed\n");
                crashes++;
                for (w = 0; w < nworkers; w++)
                    if (ctl->pids[w] > 0)
                        kill(ctl->pids[w], SIGKILL);
                give_up = now_ms() + 100000;
            }
            sleep_us(2000);
        }
    }

    if (hostile_mode) {
        /* The hostile process has removed its short-lived plants; what is
         * left must all be there, before and after the final cleanup
         * through the library. */
        long long give_up = now_ms() + 10000;

        while (hostile_pid > 0 && !ctl->hostile_done && now_ms() < give_up)
            sleep_us(2000);
        if (hostile_pid > 0 && !ctl->hostile_done) {
            fprintf(stderr, "stress: the hostile process did not stop\n");
            crashes++;
        }
        read_plant_log(&ps);
        check_plants(&ps, "after the run", &vanished, &reclaimed);
    }
    for (n = 0; n < nnames; n++)
        final_cleanup(names[n]);
    if (hostile_mode)
        check_plants(&ps, "after the final remove and create through the library", &vanished,
                     &reclaimed);
    for (n = 0; n < nnames; n++)
        leaked += sweep(names[n], 1, hostile_mode ? &ps : NULL, &flipped_left);
    if (hostile_mode) {
        size_t i;
        int status;

        /* Now the plants go, by id (sets first), once the hostile process,
         * the creator of the 0711 ones, is gone. */
        ctl->hostile_exit = 1;
        if (hostile_pid > 0 && waitpid(hostile_pid, &status, 0) == hostile_pid &&
            (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
            crashes++;
            fprintf(stderr, "stress: the hostile process ended badly: status 0x%x\n",
                    (unsigned)status);
        }
        for (c = 1; c >= 0; c--)
            for (i = 0; i < ps.nlive; i++) {
                const struct prec *r = &ps.live[i];

                if (r->is_sem != c || r->op != 'P' || !plant_present(r))
                    continue;
                if (c)
                    semctl(r->id, 0, IPC_RMID);
                else
                    shmctl(r->id, IPC_RMID, NULL);
            }
        /* Nothing of ours (and no plant) may be left now. */
        for (n = 0; n < nnames; n++)
            leaked += sweep(names[n], 1, NULL, NULL);
        close(plog_fd);
    }

    memset(totals, 0, sizeof totals);
    for (w = 0; w < MAXW; w++)
        for (c = 0; c < NOPS; c++)
            for (o = 0; o < NOUT; o++) {
                totals[c][o] += ctl->counts[w][c][o];
                if (c != OP_KILL && c != OP_UNLOCK)
                    total_ops += ctl->counts[w][c][o];
            }
    printf("# %lu operations in %.2f s: %.0f ops/s; %lu workers killed with SIGKILL, "
           "%ld half-done updates repaired after SYSVSHM_RECOVERED\n",
           total_ops, elapsed / 1000.0, elapsed > 0 ? total_ops * 1000.0 / (double)elapsed : 0.0,
           kills, ctl->recovered_repairs);
    for (c = 0; c < NOPS; c++) {
        char line[1024];
        size_t used = 0;

        used += (size_t)snprintf(line, sizeof line, "#   %-13s", op_names[c]);
        for (o = 0; o < NOUT; o++)
            if (totals[c][o] != 0 && used < sizeof line - 40)
                used += (size_t)snprintf(line + used, sizeof line - used, " %s %lu",
                                         outcome_name(o), totals[c][o]);
        if (!quiet || c == OP_CREATE)
            printf("%s\n", line);
    }
    {
        unsigned long made[3] = { 0, 0, 0 };

        for (w = 0; w < MAXW; w++)
            for (c = 0; c < 3; c++)
                made[c] += ctl->made[w][c];
        printf("# blocks made: %lu of format version 1, %lu of version 2 (fast lock)%s\n",
               made[0], made[1], made[2] ? ", and some of another version" : "");
        if (made[2] != 0)
            ctl->wrong_block++;
    }
    if (hostile_mode) {
        unsigned long planted = 0;

        printf("# hostile:");
        for (c = 0; c < NPK; c++) {
            printf(" %s %lu%s", pk_names[c], ps.planted[c], c + 1 < NPK ? "," : "\n");
            planted += ps.planted[c];
        }
        printf("# hostile: %lu planted, %lu removed by it (each checked first), %lu kept to "
               "the end and checked twice; %ld state flips (%ld clobbered); EPROTO let "
               "through %ld times, EADDRINUSE %ld; %ld fair-game plants reclaimed by the "
               "rule; %d flipped blocks removed by id\n",
               planted, ps.removed_by_it, (unsigned long)ps.nlive, ctl->h_flips,
               ctl->h_flips_clobbered, ctl->justified[J_PROTO], ctl->justified[J_KEYS],
               ctl->h_reclaimed + reclaimed, flipped_left);
    }
    printf("1..%d\n", hostile_mode ? 6 : 5);
    printf("%s 1 - no lost update under the writer lock (%ld seen)\n",
           ctl->lost_update ? "not ok" : "ok", ctl->lost_update);
    printf("%s 2 - no attach of a wrong block (%ld seen)\n",
           ctl->wrong_block ? "not ok" : "ok", ctl->wrong_block);
    printf("%s 3 - no errno outside the documented set (%ld seen), none impossible here "
           "(%ld seen)\n", ctl->undocumented || ctl->unexpected ? "not ok" : "ok",
           ctl->undocumented, ctl->unexpected);
    printf("%s 4 - no worker died but by the SIGKILLs asked for (%lu crashed)\n",
           crashes ? "not ok" : "ok", crashes);
    printf("%s 5 - no IPC object left at the names' keys after remove + re-create "
           "(%d left)\n", leaked ? "not ok" : "ok", leaked);
    if (hostile_mode) {
        vanished += ctl->h_vanished;
        printf("%s 6 - no object that the workers did not create was removed (%ld planted "
               "objects gone)\n", vanished ? "not ok" : "ok", vanished);
    }
    free(ps.live);
    free(ps.flipped);
    free(ourpids);
    return ctl->lost_update || ctl->wrong_block || ctl->undocumented || ctl->unexpected ||
                   crashes || leaked || vanished || interrupted
               ? 1
               : 0;
}
