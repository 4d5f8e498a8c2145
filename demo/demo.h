/*
 * demo.h - what demo/process1.c and demo/process2.c share: the layout of the
 * four values they exchange, their command line, and Ctrl-C handling.
 * Nothing here calls the library; the interesting calls are in process1.c
 * and process2.c.
 *
 * Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
 */
#ifndef DEMO_H
#define DEMO_H

#include <signal.h> /* sig_atomic_t */
#include <stddef.h> /* size_t */

#define DEMO_NAME "MyMemory" /* as in the Python original */
#define DEMO_SIZE 1024
#define DEMO_SLOTS 4       /* process1 writes slot 0, process2 slots 1-3 */
#define DEMO_LOCK_MS 5000L /* a lock held longer than this means a stuck peer */

struct demo_options {
    const char *name; /* --name, default DEMO_NAME */
    long count;       /* --count: rounds to print; 0 means until Ctrl-C */
    long interval_ms; /* --interval, default 500 */
    int float64;      /* --float64: doubles instead of bytes */
};

/*
 * Parse the command line of program `prog` ("process1") into *opt.  --help
 * prints `help` and exits 0; --version exits 0; bad usage prints one line on
 * stderr and exits 2.
 */
void demo_options(int argc, char **argv, const char *prog, const char *help,
                  struct demo_options *opt);

/* Set by SIGINT, SIGTERM, SIGHUP and SIGPIPE once demo_catch_signals ran. */
extern volatile sig_atomic_t demo_stop;
void demo_catch_signals(void);

/* Sleep `ms` milliseconds, or less if a signal arrives. */
void demo_sleep_ms(long ms);

/* Store `value` in slot `slot` of the block's bytes `buf`: byte `slot`, or
 * with --float64 the double at byte offset 0, 9, 18 or 27. */
void demo_put(unsigned char *buf, int slot, double value, int float64);

/* Copy the four slots out of `buf` into v[]. */
void demo_get(const unsigned char *buf, int float64, double v[DEMO_SLOTS]);

/* Print v[] as one line ("1 2 3 4", "1.5 2.5 3.5 4.5") and flush it, so that
 * a pipe sees each line as it comes.  Returns 0, or -1 if stdout failed. */
int demo_print(const double v[DEMO_SLOTS]);

/* Print "PROG: block "NAME": WHAT: <strerror(errno)>" on stderr. */
void demo_error(const char *what);

#endif /* DEMO_H */
