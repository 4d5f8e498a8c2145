/*
 * demo.c - the plumbing shared by the two demo programs (see demo.h).
 *
 * Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600 /* sigaction, nanosleep */
#endif

#include "demo.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sysvshm.h>

volatile sig_atomic_t demo_stop = 0;

/* For messages; set by demo_options. */
static const char *prog_name = "demo";
static const char *block_name = DEMO_NAME;

/*
 * With --float64 the doubles sit at byte offsets that are deliberately not
 * multiples of 8: a block is just bytes, and a value in it must be copied out
 * with memcpy.  Reading it through a cast, *(double *)(buf + 9), is undefined
 * behaviour, and on strict-alignment CPUs (SPARC, some ARM and MIPS) it
 * kills the process with SIGBUS.
 */
static const size_t f64_offset[DEMO_SLOTS] = {0, 9, 18, 27};

static void usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s: %s (try '%s --help')\n", prog_name, what, arg,
            prog_name);
    exit(2);
}

/* The value of option `name` if argv[*i] is it, as "--name=V" or as
 * "--name V" (then *i moves past V); NULL if argv[*i] is another option. */
static const char *option_value(const char *name, int argc, char **argv,
                                int *i)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);

    if (strncmp(arg, name, len) != 0)
        return NULL;
    if (arg[len] == '=')
        return arg + len + 1;
    if (arg[len] != '\0')
        return NULL; /* a longer option, e.g. --counter */
    if (*i + 1 >= argc)
        usage_error("option needs a value", arg);
    *i += 1;
    return argv[*i];
}

static long positive_number(const char *option, const char *arg, long max)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || n < 1 || n > max) {
        fprintf(stderr, "%s: %s wants a whole number from 1 to %ld, not '%s'\n",
                prog_name, option, max, arg);
        exit(2);
    }
    return n;
}

void demo_options(int argc, char **argv, const char *prog, const char *help,
                  struct demo_options *opt)
{
    const char *val;
    int i;

    prog_name = prog;
    opt->name = DEMO_NAME;
    opt->count = 0;
    opt->interval_ms = 500;
    opt->float64 = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(help, stdout);
            exit(0);
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("%s (libsysvshm) %s\n", prog, sysvshm_version());
            exit(0);
        } else if (strcmp(argv[i], "--float64") == 0) {
            opt->float64 = 1;
        } else if ((val = option_value("--count", argc, argv, &i)) != NULL) {
            opt->count = positive_number("--count", val, 1000000000L);
        } else if ((val = option_value("--interval", argc, argv, &i)) != NULL) {
            opt->interval_ms = positive_number("--interval", val, 3600000L);
        } else if ((val = option_value("--name", argc, argv, &i)) != NULL) {
            opt->name = val; /* the library checks it */
        } else if (argv[i][0] == '-') {
            usage_error("unknown option", argv[i]);
        } else {
            usage_error("unexpected argument", argv[i]);
        }
    }
    block_name = opt->name;
}

static void on_signal(int sig)
{
    (void)sig;
    demo_stop = 1; /* all a handler may safely do; main does the rest */
}

/*
 * The signals are caught even if they were ignored when we started (as
 * `process1 &' in a script starts it): dying here would leave the block in
 * the kernel until someone removes it.  SIGPIPE is caught so that
 * `process1 | head -n 3' ends in a clean exit rather than a leaked block.
 * No SA_RESTART: the signal must cut demo_sleep_ms short.
 */
void demo_catch_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        (void)sigaction(sigs[i], &sa, NULL);
}

/* A signal that arrives after the caller checked demo_stop but before
 * nanosleep starts only delays the exit by one interval. */
void demo_sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    (void)nanosleep(&ts, NULL); /* EINTR: the caller looks at demo_stop */
}

void demo_put(unsigned char *buf, int slot, double value, int float64)
{
    if (float64)
        memcpy(buf + f64_offset[slot], &value, sizeof value);
    else
        buf[slot] = (unsigned char)value;
}

void demo_get(const unsigned char *buf, int float64, double v[DEMO_SLOTS])
{
    int i;

    for (i = 0; i < DEMO_SLOTS; i++) {
        if (float64)
            memcpy(&v[i], buf + f64_offset[i], sizeof v[i]);
        else
            v[i] = buf[i];
    }
}

int demo_print(const double v[DEMO_SLOTS])
{
    if (printf("%g %g %g %g\n", v[0], v[1], v[2], v[3]) < 0)
        return -1;
    return fflush(stdout) == EOF ? -1 : 0;
}

void demo_error(const char *what)
{
    fprintf(stderr, "%s: block \"%s\": %s: %s\n", prog_name, block_name, what,
            strerror(errno));
}
