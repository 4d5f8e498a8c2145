/*
 * process2 - the second half of the libsysvshm demo, a C replay of the
 * Python multiprocessing.shared_memory example with the two processes.
 *
 * It attaches to the block "MyMemory" that process1 created, sets bytes 1-3
 * to 2, 3 and 4 under the writer lock, then prints bytes 0-3, read under the
 * reader lock, twice a second: "1 2 3 4".  On Ctrl-C, or after --count lines,
 * it closes its attachment.  It never destroys the block: that is process1's
 * job, and the block outlives process2 (process1 goes on printing 1 2 3 4).
 *
 * Build it on its own with:  cc -o process2 process2.c demo.c -lsysvshm
 *
 * Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sysvshm.h>

#include "demo.h"

static const char help[] =
    "Usage: process2 [--count N] [--interval MS] [--float64] [--name NAME]\n"
    "Attach to the shared memory block MyMemory made by process1, set its\n"
    "bytes 1-3 to 2, 3 and 4, and print bytes 0-3 twice a second until Ctrl-C.\n"
    "Start process1 first, in another terminal.\n"
    "\n"
    "  --count N      stop after printing N lines\n"
    "  --interval MS  print every MS milliseconds (default 500)\n"
    "  --float64      use doubles: write 2.5, 3.5 and 4.5 at byte offsets 9, 18\n"
    "                 and 27 and print the doubles at offsets 0, 9, 18 and 27\n"
    "  --name NAME    use the block NAME instead of MyMemory\n"
    "  --help         print this help\n"
    "  --version      print the library's version\n"
    "\n"
    "Exit status: 0 when done (also after Ctrl-C or SIGTERM, and when process1\n"
    "removes the block while process2 runs: process2 says so and stops),\n"
    "1 on error (for example when the block does not exist), 2 on bad usage.\n";

/* A lock failed.  EIDRM is how the demo normally ends when process1 stops
 * first: it destroyed the block, so there is nothing left to watch.  Our
 * attachment stays valid until we close it, but the lock is gone. */
static int lock_failed(const char *name, const char *what)
{
    if (errno == EIDRM) {
        fprintf(stderr, "process2: block \"%s\" was removed (process1 ended)\n",
                name);
        return 0;
    }
    demo_error(what);
    return 1;
}

int main(int argc, char **argv)
{
    struct demo_options opt;
    sysvshm_t *shm;
    unsigned char *buf;
    double v[DEMO_SLOTS];
    long round;
    int slot, rc, status = 0;

    demo_options(argc, argv, "process2", help, &opt);
    demo_catch_signals();

    shm = sysvshm_attach(opt.name, 0);
    if (shm == NULL) {
        if (errno == ENOENT)
            fprintf(stderr,
                    "process2: block \"%s\" does not exist; start process1 first\n",
                    opt.name);
        else
            demo_error("cannot attach it");
        return 1;
    }
    buf = sysvshm_buf(shm);

    /* Set our values (2, 3, 4, or 2.5, 3.5, 4.5) under the writer lock. */
    rc = sysvshm_lock(shm, SYSVSHM_WRITE, DEMO_LOCK_MS);
    if (rc < 0) {
        status = lock_failed(opt.name, "writer lock");
        goto out;
    }
    if (rc == SYSVSHM_RECOVERED) /* harmless here: we rewrite our slots */
        fprintf(stderr, "process2: block \"%s\": a writer died holding the lock\n",
                opt.name);
    for (slot = 1; slot < DEMO_SLOTS; slot++)
        demo_put(buf, slot, slot + (opt.float64 ? 1.5 : 1), opt.float64);
    (void)sysvshm_unlock(shm); /* a failure shows up at the next lock */

    for (round = 1; !demo_stop; round++) {
        /* As in process1: copy under the reader lock, print after. */
        if (sysvshm_lock(shm, SYSVSHM_READ, DEMO_LOCK_MS) < 0) {
            status = lock_failed(opt.name, "reader lock");
            break;
        }
        demo_get(buf, opt.float64, v);
        (void)sysvshm_unlock(shm);

        if (demo_print(v) != 0) {
            if (!demo_stop) { /* SIGPIPE (reader gone) is a normal stop */
                fprintf(stderr, "process2: stdout: %s\n", strerror(errno));
                status = 1;
            }
            break;
        }
        if (round == opt.count)
            break;
        demo_sleep_ms(opt.interval_ms);
    }

out:
    (void)sysvshm_close(shm); /* detach only: the block is process1's */
    return status;
}
