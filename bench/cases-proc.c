/*
 * cases-proc.c - the cases of sysvshm-bench that need several processes:
 *   3. ping-pong: the lock handed back and forth, against a pipe;
 *   4. bulk: 1 GiB streamed through a 64 MiB block, against memcpy in one
 *      process, a pipe and a Unix socket;
 *   5. contention: N processes incrementing a counter under the lock.
 * Cases 3 and 5 measure today's lock and the fast lock (SYSVSHM_FASTLOCK)
 * side by side.
 *
 * Children report through a pipe (struct report); the parent times from the
 * moment every child is ready, and children take their own end times on the
 * same monotonic clock.
 *
 * Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sem.h>
#include <sys/socket.h>

#ifndef HAVE_UNION_SEMUN
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};
#endif

const char *G_BULK = "4. bulk transfer";
const char *V_MEMCPY = "memcpy in one process (the limit)";
const char *V_PIPE = "pipe";
const char *V_LIBBULK = "libsysvshm, read in place (1 copy)";
const char *V_LIBBULK2 = "libsysvshm, copied out (2 copies)";
const char *V_BULKBOUND = "1 copy, no hand-off at all (the 2-CPU bound)";
const char *G_PP = "3. ping-pong round trip, 2 processes";
const char *V_RELAY = "libsysvshm, writer lock relayed (3 locks)";
const char *V_FRELAY = "libsysvshm fast lock, writer relayed (3 locks)";
const char *V_CONT_W = "libsysvshm writer, counter++";
const char *V_CONT_FW = "libsysvshm fast writer, counter++";
/* The contention groups the targets look at (bench.c): 2 processes, and
 * the most of --procs ("" when no count above 2 was asked for). */
char cont_group_2[96], cont_group_n[96];
int cont_n;

#define MAXPROCS 256
#define WAIT_LIMIT_NS 30e9 /* a peer this late is dead or stuck */

/* What a child sends back: fits in PIPE_BUF, so writes never interleave. */
struct report {
    double t_end;
    double wait_ns, work_ns; /* bulk: time spent waiting, and copying */
    double lock_ns;          /* bulk: time inside sysvshm_lock/unlock */
    long lock_calls;
    uint64_t ops;
    int err;       /* errno of a failure, or -1 for a failed check */
    char what[48]; /* which step failed */
};

static int
report_send(int fd, double t_end, uint64_t ops, int err, const char *what)
{
    struct report rp;

    memset(&rp, 0, sizeof rp);
    rp.t_end = t_end;
    rp.ops = ops;
    rp.err = err;
    snprintf(rp.what, sizeof rp.what, "%s", what ? what : "");
    return write_full(fd, &rp, sizeof rp) < 0 ? 1 : (err != 0);
}

static void
report_note(struct result *r, const struct report *rp)
{
    if (rp->err == -1)
        res_note(r, 1, "FAILED: %s", rp->what);
    else
        res_note(r, 0, "failed: %s: %s", rp->what, strerror(rp->err));
}

/* The pipes of a parent and its children: `up' carries ready bytes and
 * reports to the parent; `go' one start byte to each child. */
struct team {
    int n;
    pid_t pid[MAXPROCS];
    int up[2], go[2];
};

static int
team_open(struct team *t)
{
    t->n = 0;
    if (pipe(t->up) < 0)
        return -1;
    if (pipe(t->go) < 0) {
        close(t->up[0]);
        close(t->up[1]);
        return -1;
    }
    return 0;
}

/* In a child: say ready, and wait for the start (if `wait_go'). */
static int
team_ready(struct team *t, int wait_go)
{
    char c = 'r';

    close(t->up[0]);
    close(t->go[1]);
    if (write_full(t->up[1], &c, 1) < 0)
        return -1;
    if (wait_go && read_full(t->go[0], &c, 1) < 0)
        return -1;
    return 0;
}

/* In the parent: wait for every child to be ready. */
static int
team_wait_ready(struct team *t)
{
    int i;

    for (i = 0; i < t->n; i++) {
        char c;

        if (read_full(t->up[0], &c, 1) < 0)
            return -1;
    }
    return 0;
}

static int
team_go(struct team *t)
{
    char c[MAXPROCS];

    memset(c, 'g', sizeof c);
    return write_full(t->go[1], c, (size_t)t->n);
}

/* Close the pipes, and reap the children (killing them if the run stops or
 * something failed).  Returns 0 if every child exited 0. */
static int
team_close(struct team *t, int failed)
{
    int i, bad = 0;

    close(t->go[1]);
    close(t->up[0]);
    close(t->go[0]);
    close(t->up[1]);
    for (i = 0; i < t->n; i++) {
        if (failed || g_stop)
            kill(t->pid[i], SIGKILL);
        if (reap(t->pid[i]) != 0)
            bad = 1;
    }
    t->n = 0;
    return bad ? -1 : 0;
}

/* ---- 3. ping-pong ------------------------------------------------------------------ */

struct pp {
    sysvshm_t *h[3];          /* the relay's three locks */
    volatile uint64_t *turn;  /* in h[0]'s block */
    volatile int *stop;
    int semid;                /* raw: two signalling semaphores */
    int p2c[2], c2p[2];       /* pipe */
    long n;                   /* round trips */
    struct team t;
};

/*
 * The relay: three writer locks, each process holding two when it has the
 * turn.  To pass the turn, a process releases the older of its two locks
 * (the one the other side is waiting for) and waits for the third, which
 * the other side releases when it passes the turn back.  Strict alternation
 * with nothing but blocking lock waits: no polling, no other primitive.
 */
static int
relay_pass(sysvshm_t **h, int held[2])
{
    int next = 3 - held[0] - held[1];

    if (sysvshm_unlock(h[held[0]]) < 0)
        return -1;
    if (sysvshm_lock(h[next], SYSVSHM_WRITE, -1) < 0)
        return -1;
    held[0] = held[1];
    held[1] = next;
    return 0;
}

static int
child_relay(void *c, int i)
{
    struct pp *x = c;
    int held[2] = { 2, 0 };
    const char *what = "lock";
    int stopped;

    (void)i;
    if (sysvshm_lock(x->h[2], SYSVSHM_WRITE, -1) < 0)
        return 1;
    if (team_ready(&x->t, 0) < 0)
        return 1;
    if (sysvshm_lock(x->h[0], SYSVSHM_WRITE, -1) < 0)
        return 1;
    for (;;) {
        if (*x->stop)
            break;
        if (*x->turn % 2 != 1) {
            what = "turns did not alternate";
            errno = 0;
            break;
        }
        (*x->turn)++;
        if (relay_pass(x->h, held) < 0)
            return report_send(x->t.up[1], 0, 0, errno, "lock relay");
    }
    stopped = *x->stop;
    /* close releases the locks this process holds (and unmaps x->stop) */
    sysvshm_close(x->h[0]);
    sysvshm_close(x->h[1]);
    sysvshm_close(x->h[2]);
    return report_send(x->t.up[1], 0, 0, stopped ? 0 : -1, what);
}

static double
rep_relay(void *c, struct result *r)
{
    struct pp *x = c;
    int held[2] = { -1, -1 };
    struct report rp;
    double t0 = 0, t1 = 0;
    long i;
    int fail = 1;

    *x->turn = 0;
    *x->stop = 0;
    if (team_open(&x->t) < 0) {
        res_note(r, 0, "failed: pipe: %s", strerror(errno));
        return -1;
    }
    if (sysvshm_lock(x->h[0], SYSVSHM_WRITE, -1) < 0)
        goto sys;
    held[0] = 0;
    if (sysvshm_lock(x->h[1], SYSVSHM_WRITE, -1) < 0)
        goto sys;
    held[1] = 1;
    x->t.pid[0] = spawn(child_relay, x, 0);
    if (x->t.pid[0] < 0)
        goto sys;
    x->t.n = 1;
    close(x->t.up[1]);
    x->t.up[1] = -1;
    if (team_wait_ready(&x->t) < 0)
        goto sys;
    t0 = now_ns();
    for (i = 0; i < x->n && !g_stop; i++) {
        if (*x->turn % 2 != 0) {
            res_note(r, 1, "FAILED: turns did not alternate");
            goto out;
        }
        (*x->turn)++;
        if (relay_pass(x->h, held) < 0)
            goto sys;
    }
    t1 = now_ns();
    /* Pass once more with the stop mark: the child sees it and leaves. */
    *x->stop = 1;
    if (sysvshm_unlock(x->h[held[0]]) < 0)
        goto sys;
    held[0] = -1;
    if (read_full(x->t.up[0], &rp, sizeof rp) < 0)
        goto sys;
    if (rp.err != 0) {
        report_note(r, &rp);
        goto out;
    }
    fail = 0;
    goto out;
sys:
    res_note(r, 0, "failed: %s", strerror(errno));
out:
    if (held[0] >= 0)
        sysvshm_unlock(x->h[held[0]]);
    if (held[1] >= 0)
        sysvshm_unlock(x->h[held[1]]);
    if (team_close(&x->t, fail) < 0 && !fail) {
        res_note(r, 0, "failed: child exited badly");
        fail = 1;
    }
    if (fail || g_stop)
        return -1;
    return (t1 - t0) / (double)x->n;
}

static int
child_pipe(void *c, int i)
{
    struct pp *x = c;
    long k;
    char b;

    (void)i;
    close(x->p2c[1]);
    close(x->c2p[0]);
    for (k = 0; k < x->n; k++) {
        if (read_full(x->p2c[0], &b, 1) < 0 || write_full(x->c2p[1], &b, 1) < 0)
            return 1;
    }
    return 0;
}

static double
rep_pipe(void *c, struct result *r)
{
    struct pp *x = c;
    double t0, t1;
    pid_t pid;
    long k;
    char b = 'x';
    int ok = 1;

    if (pipe(x->p2c) < 0)
        goto sys;
    if (pipe(x->c2p) < 0) {
        close(x->p2c[0]);
        close(x->p2c[1]);
        goto sys;
    }
    pid = spawn(child_pipe, x, 0);
    close(x->p2c[0]);
    close(x->c2p[1]);
    /* the first round trip waits for the child to start: not timed */
    ok = pid > 0 && write_full(x->p2c[1], &b, 1) == 0 && read_full(x->c2p[0], &b, 1) == 0;
    t0 = now_ns();
    for (k = 1; ok && k < x->n; k++)
        ok = write_full(x->p2c[1], &b, 1) == 0 && read_full(x->c2p[0], &b, 1) == 0;
    t1 = now_ns();
    if (!ok)
        res_note(r, 0, "failed: %s", strerror(errno));
    close(x->p2c[1]);
    close(x->c2p[0]);
    if (pid > 0 && (reap(pid) != 0 || g_stop))
        ok = 0;
    return ok ? (t1 - t0) / (double)(x->n - 1) : -1;
sys:
    res_note(r, 0, "failed: %s", strerror(errno));
    return -1;
}

static int
child_sem(void *c, int i)
{
    struct pp *x = c;
    struct sembuf wait0 = { 0, -1, 0 }, post1 = { 1, 1, 0 };
    long k;

    (void)i;
    for (k = 0; k < x->n; k++) {
        if (semop(x->semid, &wait0, 1) < 0 || semop(x->semid, &post1, 1) < 0)
            return 1;
    }
    return 0;
}

static double
rep_sem(void *c, struct result *r)
{
    struct pp *x = c;
    struct sembuf post0 = { 0, 1, 0 }, wait1 = { 1, -1, 0 };
    unsigned short zero[2] = { 0, 0 };
    union semun arg;
    double t0, t1;
    pid_t pid;
    long k;
    int ok;

    arg.array = zero;
    if (semctl(x->semid, 0, SETALL, arg) < 0) {
        res_note(r, 0, "failed: semctl: %s", strerror(errno));
        return -1;
    }
    pid = spawn(child_sem, x, 0);
    ok = pid > 0 && semop(x->semid, &post0, 1) == 0 && semop(x->semid, &wait1, 1) == 0;
    t0 = now_ns();
    for (k = 1; ok && k < x->n && !g_stop; k++)
        ok = semop(x->semid, &post0, 1) == 0 && semop(x->semid, &wait1, 1) == 0;
    t1 = now_ns();
    if (!ok)
        res_note(r, 0, "failed: %s", strerror(errno));
    if (pid > 0) {
        if (!ok || g_stop)
            kill(pid, SIGKILL);
        if (reap(pid) != 0)
            ok = 0;
    }
    return ok && !g_stop ? (t1 - t0) / (double)(x->n - 1) : -1;
}

/* Three blocks for a relay, with the lock `flags' asks for.  Returns 0,
 * or -1 with the reason noted in r. */
static int
relay_make(struct pp *x, char names[3][64], const char *tag0, int flags,
           struct result *r)
{
    int i, fast;

    memset(x, 0, sizeof *x);
    for (i = 0; i < 3; i++) {
        char tag[16];

        snprintf(tag, sizeof tag, "%s%d", tag0, i);
        bench_name(names[i], sizeof names[i], tag);
        reg_block(names[i]);
    }
    for (i = 0; i < 3; i++) {
        x->h[i] = sysvshm_create(names[i], 64, flags, 0600);
        if (x->h[i] == NULL) {
            res_note(r, 0, "skipped: create: %s", strerror(errno));
            return -1;
        }
        if (flags & SYSVSHM_FASTLOCK) {
            fast = bench_is_fast(x->h[i]);
            if (fast < 0) {
                res_note(r, 0, "skipped: header: %s", strerror(errno));
                return -1;
            }
            if (fast == 0) {
                res_note(r, 0, "skipped: a version 1 block was made "
                         "(a build without atomics)");
                return -1;
            }
        }
    }
    x->turn = (volatile uint64_t *)sysvshm_buf(x->h[0]);
    x->stop = (volatile int *)((char *)sysvshm_buf(x->h[0]) + 32);
    return 0;
}

static void
relay_drop(struct pp *x, char names[3][64])
{
    int i;

    for (i = 0; i < 3; i++) {
        if (x->h[i] != NULL)
            sysvshm_close(x->h[i]);
        drop_block(names[i]);
    }
}

void
case_pingpong(void)
{
    char names[3][64], fnames[3][64];
    struct pp relay, frelay, pp_pipe, pp_sem;
    struct variant v[4];
    struct result scratch;
    int i;

    progress("case 3: ping-pong");
    memset(v, 0, sizeof v);
    v[0].res = res_new(G_PP, "pipe, 1 byte each way", U_NS, 1);
    v[0].rep = rep_pipe;
    v[0].ctx = &pp_pipe;
    v[1].res = res_new(G_PP, V_RELAY, U_NS, 0);
    v[1].rep = rep_relay;
    v[1].ctx = &relay;
    v[2].res = res_new(G_PP, V_FRELAY, U_NS, 0);
    v[2].rep = rep_relay;
    v[2].ctx = &frelay;
    v[3].res = res_new(G_PP, "raw semop, post/wait on 2 semaphores", U_NS, 0);
    v[3].rep = rep_sem;
    v[3].ctx = &pp_sem;
    relay_make(&relay, names, "pp", 0, v[1].res);
    relay_make(&frelay, fnames, "ppf", SYSVSHM_FASTLOCK, v[2].res);
    memset(&pp_pipe, 0, sizeof pp_pipe);
    memset(&pp_sem, 0, sizeof pp_sem);
    pp_sem.semid = semget(bench_free_key(), 2, IPC_CREAT | IPC_EXCL | 0600);
    if (pp_sem.semid >= 0)
        reg_sem(pp_sem.semid);
    else
        res_note(v[3].res, 0, "skipped: semget: %s", strerror(errno));

    /* A pilot run of each sizes the repetitions to about opt.time_ms. */
    for (i = 0; i < 4 && !g_stop; i++) {
        struct pp *x = v[i].ctx;
        double per;

        if (v[i].res->note[0] != '\0')
            continue;
        memset(&scratch, 0, sizeof scratch);
        x->n = 200;
        per = v[i].rep(x, &scratch);
        if (per <= 0) {
            res_note(v[i].res, scratch.failed, "%s", scratch.note);
            continue;
        }
        x->n = (long)((double)opt.time_ms * 1e6 / per);
        if (x->n < 100)
            x->n = 100;
    }
    run_group(v, 4);

    if (pp_sem.semid >= 0) {
        semctl(pp_sem.semid, 0, IPC_RMID);
        unreg_sem(pp_sem.semid);
    }
    relay_drop(&relay, names);
    relay_drop(&frelay, fnames);
}

/* ---- 4. bulk --------------------------------------------------------------------------- */

/* The protocol, at the start of the block's buffer, read and written only
 * under the block's lock: seq[r] is the number (from 1) of the chunk that
 * slot r holds, 0 when the slot is free.  Chunk k goes to slot k % nslots
 * (2 slots: double buffering). */
#define MAX_SLOTS 64
struct bulk_ctl {
    volatile uint64_t seq[MAX_SLOTS];
    volatile uint64_t len[MAX_SLOTS];
};

#define BULK_CTL_SIZE 4096 /* the data halves start page-aligned */
#define IO_PIECE (1024 * 1024)

struct bulk {
    size_t total, chunk;
    unsigned char *src;    /* the producer's private data */
    sysvshm_t *h;
    struct bulk_ctl *ctl;
    int nslots;
    unsigned char *slot[MAX_SLOTS];
    int fd[2];             /* pipe or socket */
    int in_place;          /* the consumer reads the block, copies nothing */
    int no_sync;           /* no hand-off at all: the hardware's bound */
    double wait_ns, work_ns; /* the producer's, for --verbose */
    struct team t;
};

/* Wait, polling under the reader lock, until *slot == want.  The lock has no
 * condition variable; polling every ~50 us costs 2 semops per poll, against
 * milliseconds per chunk. */
/* Time spent inside the library's lock calls, and their number, in this
 * process (the producer's or the consumer's): for --verbose. */
static double bulk_lock_ns;
static long bulk_lock_calls;

static int
bulk_lock(sysvshm_t *h, int how)
{
    double t = now_ns();
    int rc = sysvshm_lock(h, how, -1);

    bulk_lock_ns += now_ns() - t;
    bulk_lock_calls++;
    return rc < 0 ? -1 : 0;
}

static int
bulk_unlock(sysvshm_t *h)
{
    double t = now_ns();
    int rc = sysvshm_unlock(h);

    bulk_lock_ns += now_ns() - t;
    bulk_lock_calls++;
    return rc;
}

static int
bulk_wait(sysvshm_t *h, volatile uint64_t *slot, uint64_t want)
{
    double deadline = now_ns() + WAIT_LIMIT_NS;

    for (;;) {
        uint64_t v;

        if (bulk_lock(h, SYSVSHM_READ) < 0)
            return -1;
        v = *slot;
        if (bulk_unlock(h) < 0)
            return -1;
        if (v == want)
            return 0;
        if (g_stop || now_ns() > deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        sleep_us(20);
    }
}

static int
bulk_set(sysvshm_t *h, volatile uint64_t *seq, uint64_t sv, volatile uint64_t *len,
         uint64_t lv)
{
    if (bulk_lock(h, SYSVSHM_WRITE) < 0)
        return -1;
    if (len != NULL)
        *len = lv;
    *seq = sv;
    return bulk_unlock(h);
}

static volatile uint64_t bulk_sink;

static size_t
nchunks(const struct bulk *x)
{
    return (x->total + x->chunk - 1) / x->chunk;
}

static size_t
chunk_len(const struct bulk *x, size_t k)
{
    size_t off = k * x->chunk;

    return x->total - off < x->chunk ? x->total - off : x->chunk;
}

static int
child_shm_consumer(void *c, int i)
{
    struct bulk *x = c;
    unsigned char *dst = malloc(x->chunk);
    volatile unsigned char *p;
    size_t k, n = nchunks(x), j;
    uint64_t got = 0, sum = 0;
    double t_a, t_b, wait_ns = 0, work_ns = 0;
    struct report rp;

    (void)i;
    if (dst == NULL)
        return report_send(x->t.up[1], 0, 0, ENOMEM, "malloc");
    memset(dst, 0, x->chunk);
    /* Map every page of the block now, not while timed. */
    for (p = x->slot[0], j = 0; j < (size_t)x->nslots * x->chunk; j += 4096)
        sum += p[j];
    if (team_ready(&x->t, 0) < 0)
        return 1;
    for (k = 0; k < n; k++) {
        int r = (int)(k % (size_t)x->nslots);
        size_t len;
        uint64_t a, b;

        t_a = now_ns();
        if (!x->no_sync && bulk_wait(x->h, &x->ctl->seq[r], k + 1) < 0)
            return report_send(x->t.up[1], 0, got, errno, "wait for a full slot");
        t_b = now_ns();
        wait_ns += t_b - t_a;
        len = x->no_sync ? chunk_len(x, k) : (size_t)x->ctl->len[r];
        if (x->in_place) {
            /* Use every byte where it is: what shared memory is for. */
            const uint64_t *w = (const uint64_t *)(void *)x->slot[r];
            size_t m;

            for (m = 0; m < len / 8; m++)
                sum += w[m];
            memcpy(&a, x->slot[r], sizeof a);
            memcpy(&b, x->slot[r] + len - sizeof b, sizeof b);
        } else {
            memcpy(dst, x->slot[r], len);
            memcpy(&a, dst, sizeof a);
            memcpy(&b, dst + len - sizeof b, sizeof b);
        }
        work_ns += now_ns() - t_b;
        if (x->no_sync) {
            got += chunk_len(x, k);
            sum += a + b;
            continue;
        }
        if (a != k + 1 || b != k + 1 || len != chunk_len(x, k))
            return report_send(x->t.up[1], 0, got, -1, "chunk stamps do not match");
        got += len;
        if (bulk_set(x->h, &x->ctl->seq[r], 0, NULL, 0) < 0)
            return report_send(x->t.up[1], 0, got, errno, "lock");
    }
    free(dst);
    bulk_sink = sum; /* so that the reads are not optimised away */
    memset(&rp, 0, sizeof rp);
    rp.t_end = now_ns();
    rp.ops = got;
    rp.wait_ns = wait_ns;
    rp.work_ns = work_ns;
    rp.lock_ns = bulk_lock_ns;
    rp.lock_calls = bulk_lock_calls;
    return write_full(x->t.up[1], &rp, sizeof rp) < 0;
}

static int
child_stream_consumer(void *c, int i)
{
    struct bulk *x = c;
    unsigned char *dst = malloc(x->chunk);
    uint64_t got = 0;
    size_t off = 0;

    (void)i;
    close(x->fd[1]);
    if (dst == NULL)
        return report_send(x->t.up[1], 0, 0, ENOMEM, "malloc");
    memset(dst, 0, x->chunk);
    if (team_ready(&x->t, 0) < 0)
        return 1;
    while (got < x->total) {
        size_t want = x->chunk - off < IO_PIECE ? x->chunk - off : IO_PIECE;
        ssize_t k = read(x->fd[0], dst + off, want);

        if (k <= 0) {
            if (k < 0 && errno == EINTR)
                continue;
            return report_send(x->t.up[1], 0, got, k == 0 ? EPIPE : errno, "read");
        }
        got += (uint64_t)k;
        off = (off + (size_t)k) % x->chunk;
    }
    free(dst);
    return report_send(x->t.up[1], now_ns(), got, 0, NULL);
}

/* Start the consumer and wait for it to be ready; *t0 is the start time.
 * On failure nothing is left open or running. */
static int
bulk_start(struct bulk *x, int (*fn)(void *, int), double *t0)
{
    if (team_open(&x->t) < 0)
        return -1;
    x->t.pid[0] = spawn(fn, x, 0);
    if (x->t.pid[0] > 0)
        x->t.n = 1;
    close(x->t.up[1]);
    x->t.up[1] = -1;
    if (x->t.n == 0 || team_wait_ready(&x->t) < 0) {
        int saved = errno;

        team_close(&x->t, 1);
        errno = saved;
        return -1;
    }
    *t0 = now_ns();
    return 0;
}

/* Collect the consumer's report; the transfer ends when both are done
 * (t_prod: when the producer finished its part). */
static double
bulk_finish(struct bulk *x, struct result *r, double t0, double t_prod, int failed)
{
    struct report rp;

    if (!failed && read_full(x->t.up[0], &rp, sizeof rp) < 0) {
        res_note(r, 0, "failed: no report from the consumer: %s", strerror(errno));
        failed = 1;
    } else if (!failed && rp.err != 0) {
        report_note(r, &rp);
        failed = 1;
    } else if (!failed && rp.ops != x->total) {
        res_note(r, 1, "FAILED: %llu bytes arrived of %llu", (unsigned long long)rp.ops,
                 (unsigned long long)x->total);
        failed = 1;
    }
    if (team_close(&x->t, failed) < 0 && !failed) {
        res_note(r, 0, "failed: the consumer exited badly");
        failed = 1;
    }
    if (failed || g_stop)
        return -1;
    if (opt.verbose && rp.work_ns > 0)
        progress("  %s: %.0f ms; producer waited %.0f ms, copied %.0f ms, "
                 "%ld lock calls took %.2f ms; consumer waited %.0f ms, worked %.0f ms, "
                 "%ld lock calls took %.2f ms", r->variant,
                 (rp.t_end - t0) / 1e6, x->wait_ns / 1e6, x->work_ns / 1e6,
                 bulk_lock_calls, bulk_lock_ns / 1e6, rp.wait_ns / 1e6,
                 rp.work_ns / 1e6, rp.lock_calls, rp.lock_ns / 1e6);
    if (t_prod > rp.t_end)
        rp.t_end = t_prod;
    return (double)x->total / 1048576.0 / ((rp.t_end - t0) / 1e9);
}

static double
rep_bulk_shm(void *c, struct result *r)
{
    struct bulk *x = c;
    size_t k, n = nchunks(x);
    double t0 = 0, t_a, t_b;
    int failed = 1;

    x->wait_ns = x->work_ns = 0;
    bulk_lock_ns = 0;
    bulk_lock_calls = 0;
    memset((void *)x->ctl, 0, sizeof *x->ctl);
    if (bulk_start(x, child_shm_consumer, &t0) < 0) {
        res_note(r, 0, "failed: %s", strerror(errno));
        return -1;
    }
    for (k = 0; k < n; k++) {
        int h = (int)(k % (size_t)x->nslots);
        size_t len = chunk_len(x, k);
        uint64_t stamp = k + 1;

        t_a = now_ns();
        if (!x->no_sync && bulk_wait(x->h, &x->ctl->seq[h], 0) < 0) {
            res_note(r, 0, "failed: wait for a free slot: %s", strerror(errno));
            goto out;
        }
        t_b = now_ns();
        memcpy(x->slot[h], x->src, len);
        memcpy(x->slot[h], &stamp, sizeof stamp);
        memcpy(x->slot[h] + len - sizeof stamp, &stamp, sizeof stamp);
        x->wait_ns += t_b - t_a;
        x->work_ns += now_ns() - t_b;
        if (x->no_sync)
            continue;
        if (bulk_set(x->h, &x->ctl->seq[h], k + 1, &x->ctl->len[h], len) < 0) {
            res_note(r, 0, "failed: lock: %s", strerror(errno));
            goto out;
        }
    }
    failed = 0;
out:
    return bulk_finish(x, r, t0, now_ns(), failed);
}

static double
rep_bulk_stream(struct bulk *x, struct result *r, int sock)
{
    uint64_t sent = 0;
    double t0 = 0;
    int failed = 1;

    if ((sock ? socketpair(AF_UNIX, SOCK_STREAM, 0, x->fd) : pipe(x->fd)) < 0) {
        res_note(r, 0, "failed: %s", strerror(errno));
        return -1;
    }
    if (bulk_start(x, child_stream_consumer, &t0) < 0) {
        res_note(r, 0, "failed: %s", strerror(errno));
        close(x->fd[0]);
        close(x->fd[1]);
        return -1;
    }
    close(x->fd[0]);
    x->fd[0] = -1;
    while (sent < x->total) {
        size_t off = (size_t)(sent % x->chunk);
        size_t len = x->chunk - off;

        if (len > x->total - sent)
            len = (size_t)(x->total - sent);
        /* 1 MiB writes, as a program with a large buffer would make. */
        if (len > IO_PIECE)
            len = IO_PIECE;
        if (write_full(x->fd[1], x->src + off, len) < 0) {
            res_note(r, 0, "failed: write: %s", strerror(errno));
            goto out;
        }
        sent += len;
    }
    failed = 0;
out:
    close(x->fd[1]);
    return bulk_finish(x, r, t0, 0, failed);
}

static double
rep_bulk_pipe(void *c, struct result *r)
{
    return rep_bulk_stream(c, r, 0);
}

static double
rep_bulk_socket(void *c, struct result *r)
{
    return rep_bulk_stream(c, r, 1);
}

static double
rep_memcpy(void *c, struct result *r)
{
    struct bulk *x = c;
    unsigned char *dst = malloc(x->chunk);
    size_t k, n = nchunks(x);
    double t0, t1;

    if (dst == NULL) {
        res_note(r, 0, "skipped: malloc: %s", strerror(errno));
        return -1;
    }
    memset(dst, 1, x->chunk);
    t0 = now_ns();
    for (k = 0; k < n; k++)
        memcpy(dst, x->src, chunk_len(x, k));
    t1 = now_ns();
    /* keep the copies from being optimised away */
    if (dst[x->chunk / 2] != x->src[x->chunk / 2])
        res_note(r, 1, "FAILED: memcpy did not copy");
    free(dst);
    return (double)x->total / 1048576.0 / ((t1 - t0) / 1e9);
}

static int
child_memcpy(void *c, int i)
{
    struct bulk *x = c;
    unsigned char *dst = malloc(x->chunk);
    size_t k, n = nchunks(x);

    (void)i;
    if (dst == NULL)
        return report_send(x->t.up[1], 0, 0, ENOMEM, "malloc");
    memset(dst, 1, x->chunk);
    if (team_ready(&x->t, 1) < 0)
        return 1;
    for (k = 0; k < n; k++)
        memcpy(dst, x->src, chunk_len(x, k));
    bulk_sink = dst[x->chunk / 2];
    free(dst);
    return report_send(x->t.up[1], now_ns(), x->total, 0, NULL);
}

/* Two processes copying at once, each its own bytes, no sharing and no
 * synchronisation: what the machine's memory gives two CPUs together. */
static double
rep_memcpy2(void *c, struct result *r)
{
    struct bulk *x = c;
    unsigned char *dst = malloc(x->chunk);
    size_t k, n = nchunks(x);
    struct report rp;
    double t0 = 0, t1 = 0;
    int failed = 1;

    if (dst == NULL) {
        res_note(r, 0, "skipped: malloc: %s", strerror(errno));
        return -1;
    }
    memset(dst, 1, x->chunk);
    if (team_open(&x->t) < 0) {
        res_note(r, 0, "failed: pipe: %s", strerror(errno));
        free(dst);
        return -1;
    }
    x->t.pid[0] = spawn(child_memcpy, x, 0);
    if (x->t.pid[0] > 0)
        x->t.n = 1;
    close(x->t.up[1]);
    x->t.up[1] = -1;
    close(x->t.go[0]);
    x->t.go[0] = -1;
    if (x->t.n == 0 || team_wait_ready(&x->t) < 0 || team_go(&x->t) < 0)
        goto sys;
    t0 = now_ns();
    for (k = 0; k < n; k++)
        memcpy(dst, x->src, chunk_len(x, k));
    t1 = now_ns();
    bulk_sink = dst[x->chunk / 2];
    if (read_full(x->t.up[0], &rp, sizeof rp) < 0)
        goto sys;
    if (rp.err != 0) {
        report_note(r, &rp);
        goto out;
    }
    if (rp.t_end > t1)
        t1 = rp.t_end;
    failed = 0;
    goto out;
sys:
    res_note(r, 0, "failed: %s", strerror(errno));
out:
    free(dst);
    if (team_close(&x->t, failed) < 0 && !failed) {
        res_note(r, 0, "failed: the child exited badly");
        failed = 1;
    }
    if (failed || g_stop)
        return -1;
    return 2.0 * (double)x->total / 1048576.0 / ((t1 - t0) / 1e9);
}

void
case_bulk(void)
{
    char name[64];
    struct bulk x, xin, xfree;
    struct variant v[7];
    size_t block = (size_t)opt.block_mib * 1048576, i;
    int k;

    progress("case 4: bulk, %ld MiB through a %ld MiB block, %d slots", opt.bulk_mib,
             opt.block_mib, opt.bulk_slots);
    memset(&x, 0, sizeof x);
    x.total = (size_t)opt.bulk_mib * 1048576;
    /* Page-aligned slots after the protocol page. */
    x.nslots = opt.bulk_slots;
    x.chunk = ((block - BULK_CTL_SIZE) / (size_t)x.nslots) & ~(size_t)4095;
    memset(v, 0, sizeof v);
    v[0].res = res_new(G_BULK, V_MEMCPY, U_MIBS, 1);
    v[0].rep = rep_memcpy;
    v[1].res = res_new(G_BULK, V_LIBBULK, U_MIBS, 0);
    v[1].rep = rep_bulk_shm;
    v[2].res = res_new(G_BULK, V_LIBBULK2, U_MIBS, 0);
    v[2].rep = rep_bulk_shm;
    v[3].res = res_new(G_BULK, V_PIPE, U_MIBS, 0);
    v[3].rep = rep_bulk_pipe;
    v[4].res = res_new(G_BULK, "Unix socket (socketpair)", U_MIBS, 0);
    v[4].rep = rep_bulk_socket;
    v[5].res = res_new(G_BULK, V_BULKBOUND, U_MIBS, 0);
    v[5].rep = rep_bulk_shm;
    v[6].res = res_new(G_BULK, "memcpy in 2 processes at once (sum of both)", U_MIBS, 0);
    v[6].rep = rep_memcpy2;
    for (k = 0; k < 7; k++)
        v[k].ctx = &x;
    v[1].ctx = &xin;
    v[5].ctx = &xfree;
    if (x.chunk < 4096) {
        for (k = 0; k < 7; k++)
            res_note(v[k].res, 0, "skipped: --block-mib too small");
        return;
    }
    x.src = malloc(x.chunk);
    bench_name(name, sizeof name, "bulk");
    reg_block(name);
    x.h = sysvshm_create(name, block, 0, 0600);
    if (x.src == NULL || x.h == NULL) {
        for (k = 0; k < 7; k++)
            res_note(v[k].res, 0, "skipped: %s", strerror(errno));
        goto out;
    }
    for (i = 0; i < x.chunk; i++)
        x.src[i] = (unsigned char)(i * 131u + 7u);
    x.ctl = (struct bulk_ctl *)sysvshm_buf(x.h);
    for (k = 0; k < x.nslots; k++)
        x.slot[k] = (unsigned char *)sysvshm_buf(x.h) + BULK_CTL_SIZE + (size_t)k * x.chunk;
    memset(sysvshm_buf(x.h), 0, block); /* map every page before timing */
    xin = x;
    xin.in_place = 1;
    xfree = xin;
    xfree.no_sync = 1;
    run_group(v, 7);
out:
    free(x.src);
    if (x.h != NULL)
        sysvshm_close(x.h);
    drop_block(name);
}

/* ---- 5. contention ------------------------------------------------------------------------ */

struct cshared {           /* in a NOLOCK block */
    volatile int stop;
    volatile uint64_t counter; /* for the raw semop and pthread variants */
    char pad[48];
    pthread_mutex_t mutex;
};

/* The variants, in table order. */
enum { K_SEMOP, K_LIBW, K_LIBR, K_FASTW, K_FASTR, K_PTHREAD, NKINDS };

struct cont {
    int kind;               /* K_ */
    int nproc;
    sysvshm_t *h;           /* locked block; its buffer holds the counter */
    volatile uint64_t *lib_counter;
    struct cshared *sh;
    int semid;
    struct team t;
};

#define READER_VALUE 424242u

static int
child_cont(void *c, int i)
{
    struct cont *x = c;
    struct sembuf p = { 0, -1, SEM_UNDO }, v = { 0, 1, SEM_UNDO };
    uint64_t ops = 0;
    int how = x->kind == K_LIBR || x->kind == K_FASTR ? SYSVSHM_READ : SYSVSHM_WRITE;
    int lib = x->kind == K_LIBW || x->kind == K_LIBR || x->kind == K_FASTW ||
              x->kind == K_FASTR;
    int first_err = 0;

    (void)i;
    /* The fast lock's first lock in a process takes a slot (three system
     * calls): a lock and unlock before the start keeps that out of the
     * timed part, for both locks alike.  A failure is reported after the
     * start, where the parent reads reports. */
    if (lib && (sysvshm_lock(x->h, how, -1) < 0 || sysvshm_unlock(x->h) < 0))
        first_err = errno;
    if (team_ready(&x->t, 1) < 0)
        return 1;
    if (first_err != 0)
        return report_send(x->t.up[1], 0, 0, first_err, "first lock");
    while (!x->sh->stop) {
        switch (x->kind) {
        case K_SEMOP:
            if (semop(x->semid, &p, 1) < 0)
                return report_send(x->t.up[1], 0, ops, errno, "semop");
            x->sh->counter++;
            if (semop(x->semid, &v, 1) < 0)
                return report_send(x->t.up[1], 0, ops, errno, "semop");
            break;
        case K_LIBW:
        case K_LIBR:
        case K_FASTW:
        case K_FASTR:
            if (sysvshm_lock(x->h, how, -1) < 0)
                return report_send(x->t.up[1], 0, ops, errno, "sysvshm_lock");
            if (how == SYSVSHM_WRITE) {
                (*x->lib_counter)++;
            } else if (*x->lib_counter != READER_VALUE) {
                sysvshm_unlock(x->h);
                return report_send(x->t.up[1], 0, ops, -1, "a reader saw a change");
            }
            if (sysvshm_unlock(x->h) < 0)
                return report_send(x->t.up[1], 0, ops, errno, "sysvshm_unlock");
            break;
        default:
            if ((errno = pthread_mutex_lock(&x->sh->mutex)) != 0)
                return report_send(x->t.up[1], 0, ops, errno, "pthread_mutex_lock");
            x->sh->counter++;
            pthread_mutex_unlock(&x->sh->mutex);
            break;
        }
        ops++;
    }
    return report_send(x->t.up[1], now_ns(), ops, 0, NULL);
}

static double
rep_cont(void *c, struct result *r)
{
    struct cont *x = c;
    uint64_t total = 0, counted, least = UINT64_MAX, most = 0;
    double t0 = 0, t_end = 0;
    int i, failed = 1;

    x->sh->stop = 0;
    x->sh->counter = 0;
    *x->lib_counter = x->kind == K_LIBR || x->kind == K_FASTR ? READER_VALUE : 0;
    if (team_open(&x->t) < 0) {
        res_note(r, 0, "failed: pipe: %s", strerror(errno));
        return -1;
    }
    for (i = 0; i < x->nproc; i++) {
        x->t.pid[i] = spawn(child_cont, x, i);
        if (x->t.pid[i] < 0) {
            res_note(r, 0, "failed: fork: %s", strerror(errno));
            goto out;
        }
        x->t.n++;
    }
    close(x->t.up[1]);
    x->t.up[1] = -1;
    close(x->t.go[0]);
    x->t.go[0] = -1;
    if (team_wait_ready(&x->t) < 0)
        goto sys;
    t0 = now_ns();
    if (team_go(&x->t) < 0)
        goto sys;
    sleep_us(opt.time_ms * 1000);
    x->sh->stop = 1;
    for (i = 0; i < x->nproc; i++) {
        struct report rp;

        if (read_full(x->t.up[0], &rp, sizeof rp) < 0)
            goto sys;
        if (rp.err != 0) {
            report_note(r, &rp);
            goto out;
        }
        total += rp.ops;
        if (rp.ops < least)
            least = rp.ops;
        if (rp.ops > most)
            most = rp.ops;
        if (rp.t_end > t_end)
            t_end = rp.t_end;
    }
    /* Every increment made under the lock must be there. */
    counted = x->kind == K_SEMOP || x->kind == K_PTHREAD ? x->sh->counter
                                                          : *x->lib_counter;
    if (x->kind != K_LIBR && x->kind != K_FASTR && counted != total) {
        res_note(r, 1, "FAILED: lost updates: counter %llu, increments %llu",
                 (unsigned long long)counted, (unsigned long long)total);
        goto out;
    }
    /* A lock that lets its releaser take it again at once (the fast lock,
     * a pthread mutex) gives a high total with an uneven share. */
    if (opt.verbose)
        progress("  %s, %d processes: ops per process %llu .. %llu", r->variant,
                 x->nproc, (unsigned long long)least, (unsigned long long)most);
    failed = 0;
    goto out;
sys:
    res_note(r, 0, "failed: %s", strerror(errno));
out:
    x->sh->stop = 1;
    if (team_close(&x->t, failed) < 0 && !failed) {
        res_note(r, 0, "failed: a child exited badly");
        failed = 1;
    }
    if (failed || g_stop)
        return -1;
    return (double)total / ((t_end - t0) / 1e9);
}

/* Processes that can use a fast lock's block at once: each takes one of
 * the block's slots (SVS_SLOTS in lib/svs_int.h); more would wait for one. */
#define FAST_SLOTS 32

void
case_contention(void)
{
    char name[64], fname[64], sname[64];
    sysvshm_t *h, *fh, *sh;
    struct cont base, cs[BENCH_MAX_LIST][NKINDS];
    int i, k, semid = -1, e = 0, fast = -1, fast_errno = 0, nmax = 0;
    static const char *vn[NKINDS] = {
        "raw semop mutex, SEM_UNDO", "libsysvshm writer, counter++",
        "libsysvshm reader, read counter", "libsysvshm fast writer, counter++",
        "libsysvshm fast reader, read counter", "pthread mutex, process-shared",
    };

    progress("case 5: contention, %d process counts", opt.nprocs);
    bench_name(name, sizeof name, "cont");
    bench_name(fname, sizeof fname, "cont-fast");
    bench_name(sname, sizeof sname, "cont-sync");
    reg_block(name);
    reg_block(fname);
    reg_block(sname);
    h = sysvshm_create(name, 4096, 0, 0600);
    sh = sysvshm_create(sname, 4096, SYSVSHM_NOLOCK, 0600);
    fh = sysvshm_create(fname, 4096, SYSVSHM_FASTLOCK, 0600);
    if (fh == NULL || (fast = bench_is_fast(fh)) < 0)
        fast_errno = errno;
    if (h != NULL && sh != NULL) {
        semid = semget(bench_free_key(), 1, IPC_CREAT | IPC_EXCL | 0600);
        if (semid >= 0) {
            union semun arg;

            reg_sem(semid);
            arg.val = 1;
            semctl(semid, 0, SETVAL, arg);
        }
    }
    memset(&base, 0, sizeof base);
    base.h = h;
    base.lib_counter = h ? (volatile uint64_t *)sysvshm_buf(h) : NULL;
    base.sh = sh ? (struct cshared *)sysvshm_buf(sh) : NULL;
    base.semid = semid;
    if (base.sh != NULL) {
        pthread_mutexattr_t a;

        pthread_mutexattr_init(&a);
        e = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        if (e == 0)
            e = pthread_mutex_init(&base.sh->mutex, &a);
        pthread_mutexattr_destroy(&a);
    }

    for (i = 0; i < opt.nprocs; i++)
        if (opt.procs[i] > nmax)
            nmax = opt.procs[i];
    cont_n = nmax > 2 ? nmax : 0;
    for (i = 0; i < opt.nprocs && !g_stop; i++) {
        char g[96];
        struct variant v[NKINDS];

        snprintf(g, sizeof g, "5. contention, %d process%s (total ops/s)", opt.procs[i],
                 opt.procs[i] > 1 ? "es" : "");
        if (opt.procs[i] == 2)
            snprintf(cont_group_2, sizeof cont_group_2, "%s", g);
        if (opt.procs[i] == cont_n)
            snprintf(cont_group_n, sizeof cont_group_n, "%s", g);
        memset(v, 0, sizeof v);
        for (k = 0; k < NKINDS; k++) {
            int fk = k == K_FASTW || k == K_FASTR;

            cs[i][k] = base;
            cs[i][k].kind = k;
            cs[i][k].nproc = opt.procs[i];
            if (fk) {
                cs[i][k].h = fh;
                cs[i][k].lib_counter =
                    fh ? (volatile uint64_t *)sysvshm_buf(fh) : NULL;
            }
            v[k].res = res_new(g, vn[k], U_OPS, k == K_SEMOP);
            v[k].rep = rep_cont;
            v[k].ctx = &cs[i][k];
            if (h == NULL || sh == NULL)
                res_note(v[k].res, 0, "skipped: create: %s", strerror(errno));
            else if (k == K_SEMOP && semid < 0)
                res_note(v[k].res, 0, "skipped: semget: %s", strerror(errno));
            else if (k == K_PTHREAD && e != 0)
                res_note(v[k].res, 0, "skipped: %s", strerror(e));
            else if (opt.procs[i] > MAXPROCS)
                res_note(v[k].res, 0, "skipped: at most %d processes", MAXPROCS);
            else if (fk && fast < 0)
                res_note(v[k].res, 0, "skipped: %s: %s", fh ? "header" : "create",
                         strerror(fast_errno));
            else if (fk && fast == 0)
                res_note(v[k].res, 0, "skipped: a version 1 block was made "
                         "(a build without atomics)");
            else if (fk && opt.procs[i] > FAST_SLOTS)
                res_note(v[k].res, 0, "skipped: at most %d processes (slots)",
                         FAST_SLOTS);
        }
        if (opt.verbose)
            progress("  %d processes", opt.procs[i]);
        run_group(v, NKINDS);
    }

    if (semid >= 0) {
        semctl(semid, 0, IPC_RMID);
        unreg_sem(semid);
    }
    if (h != NULL)
        sysvshm_close(h);
    if (fh != NULL)
        sysvshm_close(fh);
    if (sh != NULL)
        sysvshm_close(sh);
    drop_block(name);
    drop_block(fname);
    drop_block(sname);
}
