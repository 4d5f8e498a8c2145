/*
 * svs-holdslots.c - test program for the sysvshm tool and the fast lock:
 * owns slots of a fast-lock block without holding its lock.
 *
 *   svs-holdslots NAME N [SECONDS]
 *
 * Attaches the block NAME N times; each handle takes the reader lock once
 * and lets it go, which makes it own a slot of the lock for as long as it
 * stays open.  Then prints "ready S" (S: how many of the handles own a
 * slot) and stays, holding them, for SECONDS (default 60) or until it is
 * killed.  With every slot owned, the next locker has to lock without one.
 * Exit status 0, or 1 with a message (2: bad usage).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "svs_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
    sysvshm_t **h;
    long n, secs = 60, i, owned = 0;
    char *end;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: svs-holdslots NAME N [SECONDS]\n");
        return 2;
    }
    n = strtol(argv[2], &end, 10);
    if (*end != '\0' || n < 1 || n > 1000) {
        fprintf(stderr, "svs-holdslots: bad N \"%s\"\n", argv[2]);
        return 2;
    }
    if (argc == 4) {
        secs = strtol(argv[3], &end, 10);
        if (*end != '\0' || secs < 0) {
            fprintf(stderr, "svs-holdslots: bad SECONDS \"%s\"\n", argv[3]);
            return 2;
        }
    }
    h = calloc((size_t)n, sizeof *h);
    if (h == NULL) {
        perror("svs-holdslots");
        return 1;
    }
    for (i = 0; i < n; i++) {
        h[i] = sysvshm_attach(argv[1], 0);
        if (h[i] == NULL) {
            fprintf(stderr, "svs-holdslots: attach %s: %s\n", argv[1], strerror(errno));
            return 1;
        }
        if (sysvshm_lock(h[i], SYSVSHM_READ, 10000) < 0) {
            fprintf(stderr, "svs-holdslots: lock %s: %s\n", argv[1], strerror(errno));
            return 1;
        }
        if (sysvshm_unlock(h[i]) < 0) {
            fprintf(stderr, "svs-holdslots: unlock %s: %s\n", argv[1], strerror(errno));
            return 1;
        }
        if (h[i]->slot >= 0)
            owned++;
    }
    printf("ready %ld\n", owned);
    fflush(stdout);
    while (secs > 0)
        secs = (long)sleep((unsigned)secs);
    for (i = 0; i < n; i++)
        sysvshm_close(h[i]);
    free(h);
    return 0;
}
