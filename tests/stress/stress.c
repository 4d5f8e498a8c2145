/*
 * stress.c - many processes doing random things to a few blocks, with
 * kill -9 thrown in, checking the library's promises all along.
 *
 *   stress [-n PROCS] [-d SECONDS] [-k NAMES] [-s SEED] [-q]
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
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif

#include <errno.h>
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

struct ctl {
    volatile int stop;
    volatile int kill_req; /* 1 + slot a worker asks the parent to kill */
    volatile pid_t pids[MAXW];
    volatile unsigned long counts[MAXW][NOPS][NOUT];
    volatile long lost_update, wrong_block, undocumented, unexpected;
    volatile long recovered_repairs;
};

static struct ctl *ctl;
static int nworkers = 8, nnames = 5, quiet;
static long seconds = 3;
static unsigned long seed;
static char names[MAXNAMES][64];

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

static void note(int w, enum op op, int rc, int err, const char *name)
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
                        "documented for it\n", w, op_names[op], name, err, strerror(err));
    } else if (!in_list(err, fine)) {
        ctl->unexpected++; /* racy, but never back to 0 */
        fprintf(stderr, "stress: worker %d: %s of block \"%s\": %s (documented, but "
                        "impossible in this run)\n", w, op_names[op], name, strerror(err));
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

    errno = 0;
    rc = sysvshm_lock(hd->h, write ? SYSVSHM_WRITE : SYSVSHM_READ, 2000);
    err = errno;
    note(w, write ? OP_WRITE : OP_READ, rc, err, n);
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
    note(w, OP_UNLOCK, rc, errno, n);
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
        int err;

        /* Never outlive the parent (killed, or its output pipe closed). */
        if (++ops % 64 == 0 && getppid() != parent)
            break;

        if (r < 14) { /* create */
            sysvshm_t *h;

            if (x->h != NULL)
                continue;
            errno = 0;
            h = sysvshm_create(names[name], BLK, 0, 0600);
            err = errno;
            note(w, OP_CREATE, h ? 0 : -1, err, names[name]);
            if (h == NULL)
                continue;
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
            note(w, OP_ATTACH, h ? 0 : -1, err, names[name]);
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
                note(w, OP_CLOSE, i, errno, names[x->name]);
                x->h = NULL;
            }
        } else if (r < 97 && rnd() % 2 == 0) {
            if (x->h != NULL) {
                errno = 0;
                i = sysvshm_unlink(x->h);
                note(w, OP_UNLINK, i, errno, names[x->name]);
                sysvshm_close(x->h);
                x->h = NULL;
            }
        } else if (r < 99 && rnd() % 2 == 0) {
            errno = 0;
            i = sysvshm_remove(names[name]);
            note(w, OP_REMOVE, i, errno, names[name]);
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

/* ---- the parent --------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static pid_t spawn(int w)
{
    pid_t parent = getpid();
    pid_t pid = fork();

    if (pid == 0)
        worker(w, parent);
    if (pid > 0)
        ctl->pids[w] = pid;
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

static key_t probe_key(const char *name, unsigned i)
{
    key_t k0 = sysvshm_name_key(name);

    return (key_t)(0x53000000 | (((unsigned)k0 + i) & 0xffffff));
}

/* What is left at a name's keys: described on stderr, then removed. */
static int sweep(const char *name, int report)
{
    unsigned i;
    int left = 0;

    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        key_t k = probe_key(name, i);
        int id = shmget(k, 0, 0), sid = semget(k, 0, 0);

        if (id >= 0) {
            struct shmid_ds ds;
            unsigned char h[16];
            void *p;

            memset(h, 0, sizeof h);
            if (shmctl(id, IPC_STAT, &ds) == 0 && (p = shmat(id, NULL, SHM_RDONLY)) != (void *)-1) {
                memcpy(h, p, ds.shm_segsz < 16 ? (size_t)ds.shm_segsz : 16);
                shmdt(p);
            }
            if (report)
                fprintf(stderr, "stress: leaked segment at key 0x%08lx (probe %u of \"%s\"): "
                                "id %d, magic %s, state %.4s, creator pid %ld, attached %lu\n",
                        (unsigned long)k, i, name, id,
                        memcmp(h, "SYSVSHM", 8) == 0 ? "yes" : "no",
                        h[12] ? (const char *)h + 12 : "----", (long)ds.shm_cpid,
                        (unsigned long)ds.shm_nattch);
            shmctl(id, IPC_RMID, NULL);
            left++;
        }
        if (sid >= 0) {
            if (report)
                fprintf(stderr, "stress: leaked semaphore set at key 0x%08lx (probe %u of "
                                "\"%s\"): id %d\n", (unsigned long)k, i, name, sid);
            semctl(sid, 0, IPC_RMID);
            left++;
        }
    }
    return left;
}

/* Remove everything of the name through the library: what a user would do
 * after a crash.  Returns the number of IPC objects still left. */
static int final_cleanup(const char *name)
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
    return sweep(name, 1);
}

static void usage(void)
{
    fprintf(stderr, "usage: stress [-n PROCS] [-d SECONDS] [-k NAMES] [-s SEED] [-q]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long totals[NOPS][NOUT];
    unsigned long total_ops = 0, kills = 0, crashes = 0;
    long long start, end, elapsed;
    int c, id, w, n, o, leaked = 0;
    struct sigaction sa;

    seed = (unsigned long)time(NULL) ^ (unsigned long)getpid();
    while ((c = getopt(argc, argv, "n:d:k:s:q")) != -1) {
        switch (c) {
        case 'n': nworkers = atoi(optarg); break;
        case 'd': seconds = atol(optarg); break;
        case 'k': nnames = atoi(optarg); break;
        case 's': seed = strtoul(optarg, NULL, 0); break;
        case 'q': quiet = 1; break;
        default: usage();
        }
    }
    if (nworkers < 2 || nworkers > MAXW || nnames < 1 || nnames > MAXNAMES || seconds < 0)
        usage();
    for (n = 0; n < nnames; n++)
        snprintf(names[n], sizeof names[n], "stress.%ld.%lu.%d", (long)getpid(),
                 seed & 0xffff, n);

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

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    printf("# stress: %d processes, %ld s, %d names, seed %lu\n", nworkers, seconds, nnames,
           seed);
    fflush(stdout);
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

    for (n = 0; n < nnames; n++)
        leaked += final_cleanup(names[n]);

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
    printf("1..5\n");
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
    return ctl->lost_update || ctl->wrong_block || ctl->undocumented || ctl->unexpected ||
                   crashes || leaked || interrupted
               ? 1
               : 0;
}
