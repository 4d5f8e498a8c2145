/*
 * r_pidns_probe.c - run by r_safety inside `unshare --pid --fork': the
 * name's first key holds a half-made block whose creator is alive, but in
 * the parent PID namespace, so that shm_cpid reads 0 here.  An unknown
 * creator counts as alive: nothing here may remove the block, and a block
 * in state INIT is waited for (EAGAIN), never skipped.
 *
 *   r_pidns_probe partial NAME SHMID   zero header (no magic): create goes
 *                                      beside it and leaves it alone
 *   r_pidns_probe init NAME SHMID      header INIT: attach and remove wait
 *                                      and say EAGAIN, create says EEXIST
 *
 * Exit status: 0 all held, 77 the kernel shows the creator's pid here (no
 * PID namespace translation: nothing to test), else the number of the
 * check that failed (its message is on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "sysvshm.h"

/* Not in the installed API (lib/compat.h); the library is linked in. */
int svs_pid_alive(long pid);

#define FAIL(code, ...)                                                       \
    do {                                                                      \
        fprintf(stderr, "r_pidns_probe: " __VA_ARGS__);                       \
        fputc('\n', stderr);                                                  \
        exit(code);                                                           \
    } while (0)

static long long now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static unsigned char *copy_of(int shmid, size_t *len)
{
    struct shmid_ds ds;
    unsigned char *c;
    void *p;

    if (shmctl(shmid, IPC_STAT, &ds) != 0)
        return NULL;
    *len = (size_t)ds.shm_segsz;
    c = malloc(*len);
    p = shmat(shmid, NULL, SHM_RDONLY);
    if (c == NULL || p == (void *)-1) {
        free(c);
        return NULL;
    }
    memcpy(c, p, *len);
    shmdt(p);
    return c;
}

/* The half-made block is still at key, with these bytes, nothing attached. */
static void intact(key_t key, int shmid, const unsigned char *snap, size_t len, int code,
                   const char *after)
{
    struct shmid_ds ds;
    unsigned char *now;
    size_t now_len;

    if (shmget(key, 0, 0) != shmid)
        FAIL(code, "after %s: the half-made block at key 0x%08lx is gone", after,
             (unsigned long)key);
    now = copy_of(shmid, &now_len);
    if (now == NULL || now_len != len || memcmp(now, snap, len) != 0)
        FAIL(code, "after %s: the half-made block was changed", after);
    free(now);
    if (shmctl(shmid, IPC_STAT, &ds) != 0 || ds.shm_nattch != 0)
        FAIL(code, "after %s: the half-made block was left attached", after);
}

/* What the library's own check says of pid 0 here (after the behaviour). */
static int pid_zero_alive(void)
{
    if (svs_pid_alive(0) != 1)
        FAIL(5, "svs_pid_alive(0) is %d: an unknown pid must count as alive",
             svs_pid_alive(0));
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode, *name;
    int shmid, r;
    key_t k0;
    struct shmid_ds ds;
    unsigned char *snap;
    size_t len;
    sysvshm_t *h;
    long long t0, took;

    if (argc != 4)
        FAIL(2, "usage: r_pidns_probe partial|init NAME SHMID");
    mode = argv[1];
    name = argv[2];
    shmid = atoi(argv[3]);
    k0 = sysvshm_name_key(name);
    if (shmget(k0, 0, 0) != shmid)
        FAIL(3, "no segment %d at the name's first key", shmid);
    if (shmctl(shmid, IPC_STAT, &ds) != 0)
        FAIL(4, "IPC_STAT: %s", strerror(errno));
    if (ds.shm_cpid != 0) {
        fprintf(stderr, "r_pidns_probe: shm_cpid reads %ld in this PID namespace, not 0\n",
                (long)ds.shm_cpid);
        return 77;
    }
    snap = copy_of(shmid, &len);
    if (snap == NULL)
        FAIL(6, "cannot read the half-made block: %s", strerror(errno));

    if (strcmp(mode, "partial") == 0) {
        /* Not provably abandoned: the next key is used, this one left. */
        h = sysvshm_create(name, 100, 0, 0600);
        if (h == NULL)
            FAIL(10, "create beside the half-made block: %s", strerror(errno));
        intact(k0, shmid, snap, len, 11, "create");
        if (sysvshm_key(h) == k0)
            FAIL(12, "create took the half-made block's key");
        if (sysvshm_unlink(h) != 0 || sysvshm_close(h) != 0)
            FAIL(13, "unlink of the new block: %s", strerror(errno));
        intact(k0, shmid, snap, len, 14, "unlink of the new block");
        free(snap);
        return pid_zero_alive();
    }
    if (strcmp(mode, "init") == 0) {
        /* Being made by a live process: waited for, a few seconds. */
        t0 = now_ms();
        errno = 0;
        h = sysvshm_attach(name, 0);
        took = now_ms() - t0;
        if (h != NULL || errno != EAGAIN)
            FAIL(20, "attach: expected EAGAIN, got %p, %s", (void *)h, strerror(errno));
        if (took < 2000)
            FAIL(21, "attach gave up after %lld ms: it must wait for a live creator", took);
        intact(k0, shmid, snap, len, 22, "attach");

        errno = 0;
        r = sysvshm_remove(name);
        if (r != -1 || errno != EAGAIN)
            FAIL(23, "remove: expected EAGAIN, got %d, %s", r, strerror(errno));
        intact(k0, shmid, snap, len, 24, "remove");

        errno = 0;
        h = sysvshm_create(name, 100, 0, 0600);
        if (h != NULL || errno != EEXIST)
            FAIL(25, "create: expected EEXIST, got %p, %s", (void *)h, strerror(errno));
        intact(k0, shmid, snap, len, 26, "create");
        free(snap);
        return pid_zero_alive();
    }
    FAIL(2, "unknown mode %s", mode);
}
