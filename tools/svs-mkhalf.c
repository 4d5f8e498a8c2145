/*
 * svs-mkhalf.c - test helper for `sysvshm gc': leaves behind what a process
 * that died half-way would, using the block header layout of svs_int.h.
 *
 *   svs-mkhalf NAME STATE [--lock] [--fast] [--live] [--attached] [--nomark]
 *              [--probe N]
 *
 * STATE is one of
 *   init       a creator that died before finishing: header in state INIT
 *   unlinking  a remover that died half-way: header in state UNLINKING
 *   partial    a creator that died right after shmget: never attached, no
 *              header at all
 *   prefix     a creator that died before writing the magic: every header
 *              field but the magic
 *   damaged    a header with an impossible state
 *   foreign    no header, other bytes: another program's segment on the key
 *   stray-set  only a semaphore set of the library, no segment: its block
 *              was removed by hand or its remover died between the two
 *   ready      a complete block, as a creator leaves it (with --fast, one
 *              of the fast lock even where this build cannot make one)
 *
 * A child process makes the segment at the name's first key (--probe N: the
 * Nth key of its probe sequence) with raw shmget, marked as the library marks
 * its leftovers (reclaim.c): a creator's segment has mode SVS_MODE_MAKING
 * from shmget on, a remover adds SVS_MODE_DOOMED to the block's mode before
 * it writes UNLINKING, every set is made with SVS_SEM_MARK.  --nomark leaves
 * all marks out, as libsysvshm 0.1 did (or someone forging a header would).
 * With --lock a semaphore set named by the header is made too; with --fast
 * the block is one of the fast lock (format version 2, its set of
 * SVS_NSEMS_FAST semaphores; implies --lock).  The child
 * detaches and exits; with --live it stays alive (detached) for up to 60
 * seconds instead: a creator still at work.  With --attached another process
 * stays attached to the segment for up to 60 seconds: a block in use.
 *
 * Prints "SHMID SEMID PID HOLDER": SEMID -1 without a set, PID the child's,
 * HOLDER the attached process's or -1; SHMID -1 for stray-set.
 * Exit status 0, or 1 with a message (2: bad usage).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "svs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define SIZE 4096

enum kind { K_INIT, K_UNLINKING, K_PARTIAL, K_PREFIX, K_DAMAGED, K_FOREIGN, K_STRAY,
            K_READY };

struct opts {
    enum kind kind;
    int lock, fast, live, attached, nomark;
    unsigned probe;
};

/* Out of the caller's way: a test's $(...) must not wait for us. */
static void
quiet(void)
{
    int null = open("/dev/null", O_RDWR);

    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
}

static int
make_set(key_t key, const struct opts *o)
{
    int nsems = o->fast ? SVS_NSEMS_FAST : SVS_NSEMS;
    int semid = semget(key, nsems, IPC_CREAT | IPC_EXCL | 0600 |
                       (o->nomark ? 0 : (int)SVS_SEM_MARK));

    if (semid < 0 || svs_sem_init(semid) < 0) {
        fprintf(stderr, "svs-mkhalf: semget 0x%08x: %s\n", (unsigned)key, strerror(errno));
        if (semid >= 0)
            semctl(semid, 0, IPC_RMID);
        return -1;
    }
    return semid;
}

/* A process that keeps the segment attached; returns its pid or -1. */
static long
hold(int shmid)
{
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        quiet();
        if (shmat(shmid, NULL, SHM_RDONLY) == (void *)-1)
            _exit(1);
        sleep(60);
        _exit(0);
    }
    return (long)pid;
}

static int
make(const char *bare, size_t len, const struct opts *o, int out)
{
    key_t key = svs_probe_key(bare, len, o->probe);
    struct svs_header *h;
    struct shmid_ds ds;
    int shmid, semid = -1, mode = 0600;
    long holder = -1;
    char line[96];

    if (o->kind == K_STRAY) {
        semid = make_set(key, o);
        if (semid < 0)
            return -1;
        shmid = -1;
        goto done;
    }
    /* A creator's mark from the first instant, as the library does. */
    if (!o->nomark && (o->kind == K_INIT || o->kind == K_PARTIAL || o->kind == K_PREFIX))
        mode = (int)SVS_MODE_MAKING;
    shmid = shmget(key, SVS_DATA_OFF + SIZE, IPC_CREAT | IPC_EXCL | mode);
    if (shmid < 0) {
        fprintf(stderr, "svs-mkhalf: shmget 0x%08x: %s\n", (unsigned)key, strerror(errno));
        return -1;
    }
    if (o->kind == K_PARTIAL)
        goto done; /* died before it attached */
    h = shmat(shmid, NULL, 0);
    if (h == (void *)-1) {
        fprintf(stderr, "svs-mkhalf: shmat: %s\n", strerror(errno));
        shmctl(shmid, IPC_RMID, NULL);
        return -1;
    }
    h->version = o->fast ? SVS_FORMAT_VERSION_FAST : SVS_FORMAT_VERSION;
    h->size = SIZE;
    h->data_off = SVS_DATA_OFF;
    h->flags = o->fast ? SVS_HF_LOCK | SVS_HF_FAST : o->lock ? SVS_HF_LOCK : 0;
    h->semid = -1;
    h->probe = o->probe;
    h->name_len = (uint32_t)len;
    memcpy(h->name, bare, len);
    if (o->lock && o->kind != K_PREFIX) {
        semid = make_set(key, o);
        if (semid < 0) {
            shmdt((void *)h);
            shmctl(shmid, IPC_RMID, NULL);
            return -1;
        }
        h->semid = semid;
    }
    switch (o->kind) {
    case K_INIT:
        h->state = SVS_STATE_INIT;
        break;
    case K_PREFIX:
        h->state = SVS_STATE_INIT;
        break;
    case K_UNLINKING:
        /* The remover's mark comes before the state. */
        if (!o->nomark && shmctl(shmid, IPC_STAT, &ds) == 0) {
            ds.shm_perm.mode = (ds.shm_perm.mode & ~(mode_t)0777) |
                               (mode_t)(0600 | SVS_MODE_DOOMED);
            shmctl(shmid, IPC_SET, &ds);
        }
        h->state = SVS_STATE_UNLINKING;
        break;
    case K_DAMAGED:
        h->state = 0x42414421u; /* "BAD!": no state the library writes */
        break;
    case K_READY:
        h->state = SVS_STATE_READY;
        break;
    default:
        h->state = 0;
        break;
    }
    if (o->kind == K_FOREIGN)
        memcpy(h->magic, "FOREIGN", 8);
    else if (o->kind != K_PREFIX)
        memcpy(h->magic, SVS_MAGIC, sizeof h->magic);
    shmdt((void *)h);
done:
    if (o->attached && shmid >= 0) {
        holder = hold(shmid);
        if (holder < 0)
            return -1;
        /* Return only once it is attached: the test looks at once. */
        while (shmctl(shmid, IPC_STAT, &ds) == 0 && ds.shm_nattch == 0) {
            struct timespec ms = { 0, 1000000L };

            nanosleep(&ms, NULL);
        }
    }
    snprintf(line, sizeof line, "%d %d %ld %ld\n", shmid, semid, (long)getpid(), holder);
    if (write(out, line, strlen(line)) < 0)
        return -1;
    return 0;
}

static int
usage(void)
{
    fprintf(stderr, "usage: svs-mkhalf NAME init|unlinking|partial|prefix|damaged|foreign|"
            "stray-set|ready [--lock] [--fast] [--live] [--attached] [--nomark] [--probe N]\n");
    return 2;
}

int
main(int argc, char **argv)
{
    static const char *const kinds[] = {
        "init", "unlinking", "partial", "prefix", "damaged", "foreign", "stray-set", "ready",
        NULL
    };
    struct opts o;
    const char *bare;
    size_t len;
    int fd[2], i, status;
    char buf[96];
    ssize_t n;
    pid_t pid;

    if (argc < 3)
        return usage();
    if (svs_name_check(argv[1], &bare, &len) < 0) {
        fprintf(stderr, "svs-mkhalf: bad name: %s\n", strerror(errno));
        return 2;
    }
    memset(&o, 0, sizeof o);
    for (i = 0; kinds[i] != NULL; i++)
        if (strcmp(argv[2], kinds[i]) == 0)
            break;
    if (kinds[i] == NULL)
        return usage();
    o.kind = (enum kind)i;
    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--lock") == 0)
            o.lock = 1;
        else if (strcmp(argv[i], "--fast") == 0)
            o.fast = o.lock = 1;
        else if (strcmp(argv[i], "--live") == 0)
            o.live = 1;
        else if (strcmp(argv[i], "--attached") == 0)
            o.attached = 1;
        else if (strcmp(argv[i], "--nomark") == 0)
            o.nomark = 1;
        else if (strcmp(argv[i], "--probe") == 0 && i + 1 < argc &&
                 (unsigned)atoi(argv[i + 1]) < SYSVSHM_PROBE_MAX)
            o.probe = (unsigned)atoi(argv[++i]);
        else
            return usage();
    }
    if (pipe(fd) < 0)
        return 1;
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        close(fd[0]);
        if (make(bare, len, &o, fd[1]) < 0)
            _exit(1);
        close(fd[1]);
        if (o.live) {
            quiet();
            sleep(60);
        }
        _exit(0);
    }
    close(fd[1]);
    n = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    if (!o.live) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (n <= 0)
        return 1;
    buf[n] = '\0';
    fputs(buf, stdout);
    return 0;
}
