/*
 * bench.h - sysvshm-bench: the measuring framework shared by the cases.
 *
 * Every number the program prints is a repetition's median and spread, and
 * every table line is a ratio against a baseline measured in the same run,
 * interleaved with it: these machines are shared and noisy, so absolute
 * times from different runs must never be compared.
 */
#ifndef BENCH_H
#define BENCH_H

/* The benchmark (not the library) uses POSIX 2008 for robust mutexes. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include "config.h"

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/ipc.h>

#include "sysvshm.h"

#define BENCH_MAX_REPS 31
#define BENCH_MAX_LIST 8

/* What a result measures, and so which way is better. */
enum unit {
    U_NS,   /* nanoseconds per operation: lower is better */
    U_MIBS, /* MiB per second: higher is better */
    U_OPS   /* operations per second: higher is better */
};

struct result {
    char group[96];   /* one table section, with exactly one baseline */
    char variant[80];
    enum unit unit;
    int baseline;
    int ref2;         /* a second reference of its group (at most one): the
                       * table also gives every line's ratio to it */
    int nrep;
    double rep[BENCH_MAX_REPS];
    char note[200];   /* why it was skipped, or what failed */
    int failed;       /* a correctness check failed: the run fails */
};

struct bench_opts {
    unsigned cases;   /* CASE_ bits */
    int reps;
    long time_ms;     /* target duration of one timed repetition */
    size_t size;      /* block size for create/attach/lock */
    long bulk_mib;    /* bytes streamed by the bulk case */
    long block_mib;   /* block the bulk case streams through */
    int bulk_slots;   /* chunks the block holds at once (2: double buffer) */
    int procs[BENCH_MAX_LIST];
    int nprocs;
    long scale[BENCH_MAX_LIST];
    int nscale;
    long big_gib;     /* 0: no big-block case */
    const char *python;   /* interpreter, "" or NULL: none */
    const char *pyscript; /* bench-python.py */
    const char *pylib;    /* where the sysvshm Python module is built;
                           * "": the interpreter's own path */
    const char *json;
    int verbose;
};

enum {
    CASE_CREATE = 1 << 0,
    CASE_ATTACH = 1 << 1,
    CASE_LOCK = 1 << 2,
    CASE_PINGPONG = 1 << 3,
    CASE_BULK = 1 << 4,
    CASE_CONTENTION = 1 << 5,
    CASE_SCALE = 1 << 6,
    CASE_BIG = 1 << 7,
    CASE_PROBE = 1 << 8,
    CASE_ALL = (1 << 9) - 1
};

extern struct bench_opts opt;
extern volatile sig_atomic_t g_stop; /* SIGINT/SIGTERM/SIGHUP seen */

/* ---- results (bench.c) ---- */
struct result *res_new(const char *group, const char *variant, enum unit u,
                       int baseline);
void res_add(struct result *r, double v);
/* Mark r skipped (or, with failed, failed) with a reason; keeps reps so far. */
void res_note(struct result *r, int failed, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void progress(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* ---- timing (bench.c) ---- */
double now_ns(void); /* CLOCK_MONOTONIC: comparable across processes */
void sleep_us(long us);

/* A loop that performs n operations; 0, or -1 with errno set. */
typedef int (*loop_fn)(void *ctx, long n);
/* One whole repetition measured by the case itself (several processes,
 * a subprocess): returns the value in the result's unit, or < 0 on failure
 * after calling res_note. */
typedef double (*rep_fn)(void *ctx, struct result *r);

struct variant {
    struct result *res;
    loop_fn loop;     /* either this ... */
    rep_fn rep;       /* ... or this */
    void *ctx;
    long n;           /* loop: operations per repetition (calibrated) */
};

/* Calibrate the loop variants, then run opt.reps repetitions of every
 * variant, rotating the order each repetition so that drift on a busy
 * machine falls on all of them alike. */
void run_group(struct variant *v, int nv);
/* The two halves of run_group, for a case that changes the machine's state
 * between repetitions: calibrate once, then run `reps' repetitions, the
 * rotation starting at `first'. */
void calibrate_group(struct variant *v, int nv);
void run_reps(struct variant *v, int nv, int reps, int first);

/* ---- names, keys and the clean-up registry (bench.c) ---- */
/* A block name unique to this run: "svsbench-<pid>-<tag>". */
void bench_name(char *buf, size_t len, const char *tag);
/* A SysV key that no segment or semaphore set holds now. */
key_t bench_free_key(void);

/* Everything the run makes is registered before it is made, and removed by
 * cleanup_all (at the end, on error, and on SIGINT/SIGTERM/SIGHUP). */
void reg_block(const char *name);   /* a libsysvshm block */
void unreg_block(const char *name); /* removed by the caller already */
void reg_shm(int shmid);
void unreg_shm(int shmid);
void reg_sem(int semid);
void unreg_sem(int semid);
void reg_posix(const char *name);
void unreg_posix(const char *name);
void cleanup_all(void);
/* Remove a block by name (registered or not) and forget it. */
void drop_block(const char *name);
/* 1 if h's block is of format version 2 (the fast lock), 0 if not, -1 with
 * errno set.  A build without atomics makes a version 1 block when asked for
 * SYSVSHM_FASTLOCK: the fast lock's rows must not measure the other lock. */
int bench_is_fast(const sysvshm_t *h);

/* ---- processes (bench.c) ---- */
/* fork(); the child resets signals, runs fn(ctx, i) and _exits with its
 * return value.  Returns the child's pid or -1. */
pid_t spawn(int (*fn)(void *ctx, int i), void *ctx, int i);
/* Wait for a child; if the run is being stopped, kill it first.  Returns its
 * exit status (0..255), or 128+signal, or -1. */
int reap(pid_t pid);
/* read/write exactly len bytes, retrying EINTR (but giving up on g_stop). */
int read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);

/* ---- the cases ---- */
void case_create_attach(void); /* cases-basic.c */
void case_lock(void);
void case_scale(void);
void case_big(void);
void case_pingpong(void);      /* cases-proc.c */
void case_bulk(void);
void case_contention(void);
void case_probe(void);         /* cases-probe.c */

/* ---- Python baseline (cases-basic.c) ---- */
const char *python_version(void);

#endif /* BENCH_H */
