/*
 * process1 - the first half of the libsysvshm demo, a C replay of the Python
 * multiprocessing.shared_memory example with the two processes.
 *
 * It creates the block "MyMemory" (1024 bytes, with its semaphore set), sets
 * byte 0 to 1 under the writer lock, then prints bytes 0-3, read under the
 * reader lock, twice a second.  Alone it prints "1 0 0 0"; once process2 has
 * written bytes 1-3 it prints "1 2 3 4".  A block lives in the kernel until
 * someone destroys it, so on Ctrl-C, or after --count lines, process1
 * destroys it before it exits: nothing is left behind.
 *
 * Build it on its own with:  cc -o process1 process1.c demo.c -lsysvshm
 *
 * Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <sysvshm.h>

#include "demo.h"

static const char help[] =
    "Usage: process1 [--count N] [--interval MS] [--float64] [--name NAME]\n"
    "Create the shared memory block MyMemory (1024 bytes), set its byte 0 to 1,\n"
    "and print bytes 0-3 twice a second until Ctrl-C; then remove the block.\n"
    "Start process2 in another terminal to see it write bytes 1-3: 1 2 3 4.\n"
    "\n"
    "  --count N      stop after printing N lines\n"
    "  --interval MS  print every MS milliseconds (default 500)\n"
    "  --float64      use doubles: write 1.5 at byte offset 0 and print the\n"
    "                 doubles at offsets 0, 9, 18 and 27\n"
    "  --name NAME    use the block NAME instead of MyMemory\n"
    "  --help         print this help\n"
    "  --version      print the library's version\n"
    "\n"
    "Exit status: 0 when done (also after Ctrl-C or SIGTERM), 1 on error\n"
    "(for example when the block already exists), 2 on bad usage.\n";

/* The program that runs as process pid, where the system says (Linux's
 * /proc); "" elsewhere. */
static const char *program_of(long pid, char *buf, size_t len)
{
    char path[64];
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return "";
    n = fread(buf, 1, len - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return buf;
}

/* The name is taken: by a process1 that is still running, or by one that
 * was killed (kill -9, a crash) before it could remove its block.  Only in
 * the second case is removing it the right advice: removing a block in use
 * pulls it from under the program using it.  The kernel knows who made the
 * segment (shm_cpid) and how many processes have it attached. */
static void already_exists(const char *name)
{
    sysvshm_t *old = sysvshm_attach(name, 0);
    struct shmid_ds ds;
    char prog[64] = "", what[96];
    long cpid, others;
    int alive, id;

    if (old == NULL) {
        fprintf(stderr, "process1: block \"%s\" already exists but cannot be attached "
                "(%s); see 'sysvshm stat %s'\n", name, strerror(errno), name);
        return;
    }
    id = shmget(sysvshm_key(old), 0, 0);
    if (id < 0 || shmctl(id, IPC_STAT, &ds) != 0) {
        (void)sysvshm_close(old);
        fprintf(stderr, "process1: block \"%s\" already exists; see 'sysvshm stat %s'\n",
                name, name);
        return;
    }
    (void)sysvshm_close(old);
    cpid = (long)ds.shm_cpid;
    others = (long)ds.shm_nattch - 1; /* not counting our own look */
    /* 0: the creator is outside our PID namespace; it may well be running. */
    alive = cpid <= 0 || kill((pid_t)cpid, 0) == 0 || errno == EPERM;
    if (cpid > 0 && *program_of(cpid, prog, sizeof prog) != '\0')
        snprintf(what, sizeof what, "%s (pid %ld)", prog, cpid);
    else if (cpid > 0)
        snprintf(what, sizeof what, "process %ld", cpid);
    else
        snprintf(what, sizeof what, "a process not visible from here");
    if (alive) {
        fprintf(stderr, "process1: block \"%s\" is in use by %s, still running, "
                "with %ld process%s attached; stop it first, or pick another name "
                "with --name\n", name, what, others, others == 1 ? "" : "es");
    } else if (others > 0) {
        fprintf(stderr, "process1: block \"%s\" was left by a run that died (creator %ld "
                "is gone), but %ld process%s still %s it attached; stop %s, then "
                "remove it with 'sysvshm rm %s'\n", name, cpid, others,
                others == 1 ? "" : "es", others == 1 ? "has" : "have",
                others == 1 ? "it" : "them", name);
    } else {
        fprintf(stderr, "process1: block \"%s\" was left by a run that died (creator %ld "
                "is gone); remove it with 'sysvshm rm %s' and start again\n",
                name, cpid, name);
    }
}

int main(int argc, char **argv)
{
    struct demo_options opt;
    sysvshm_t *shm;
    double v[DEMO_SLOTS];
    long round;
    int status = 0;

    demo_options(argc, argv, "process1", help, &opt);
    demo_catch_signals(); /* first: from here on, Ctrl-C ends in the unlink */

    /* Mode 0600: only our user may attach.  No SYSVSHM_NOLOCK flag, so the
     * block comes with the semaphore set behind sysvshm_lock. */
    shm = sysvshm_create(opt.name, DEMO_SIZE, 0, 0600);
    if (shm == NULL) {
        if (errno == EEXIST)
            already_exists(opt.name);
        else
            demo_error("cannot create it");
        return 1;
    }

    /* A new block is all zeros.  Set our value under the writer lock, so
     * that no reader ever sees it half-written. */
    if (sysvshm_lock(shm, SYSVSHM_WRITE, DEMO_LOCK_MS) < 0) {
        demo_error("writer lock");
        status = 1;
        goto out;
    }
    demo_put(sysvshm_buf(shm), 0, opt.float64 ? 1.5 : 1, opt.float64);
    (void)sysvshm_unlock(shm); /* a failure shows up at the next lock */

    for (round = 1; !demo_stop; round++) {
        /* Copy the values out under the reader lock and print them after
         * unlocking: never hold a lock across slow I/O.  A result of
         * SYSVSHM_RECOVERED (a writer died while holding the lock) also
         * means we hold it; the demo prints whatever is there. */
        if (sysvshm_lock(shm, SYSVSHM_READ, DEMO_LOCK_MS) < 0) {
            demo_error("reader lock");
            status = 1;
            break;
        }
        demo_get(sysvshm_buf(shm), opt.float64, v);
        (void)sysvshm_unlock(shm);

        if (demo_print(v) != 0) {
            if (!demo_stop) { /* SIGPIPE (reader gone) is a normal stop */
                fprintf(stderr, "process1: stdout: %s\n", strerror(errno));
                status = 1;
            }
            break;
        }
        if (round == opt.count)
            break;
        demo_sleep_ms(opt.interval_ms);
    }

out:
    /* We made the block, so we destroy it.  ENOENT: someone already did
     * (sysvshm rm), which is all we wanted. */
    if (sysvshm_unlink(shm) != 0 && errno != ENOENT) {
        demo_error("cannot remove it");
        status = 1;
    }
    (void)sysvshm_close(shm);
    return status;
}
