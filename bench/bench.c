/*
 * bench.c - sysvshm-bench: options, the measuring loop, the clean-up
 * registry, the ratio table, the performance targets and the JSON output.
 * The cases themselves are in cases-basic.c, cases-proc.c and cases-probe.c.
 *
 * Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
 */
#include "bench.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#ifndef BENCH_PYTHON3
#define BENCH_PYTHON3 ""
#endif
#ifndef BENCH_PYSCRIPT
#define BENCH_PYSCRIPT "bench/bench-python.py"
#endif
#ifndef BENCH_PYLIB
#define BENCH_PYLIB "python/build/lib"
#endif

struct bench_opts opt;
volatile sig_atomic_t g_stop;

/* ---- results ------------------------------------------------------------ */

#define MAX_RESULTS 160
static struct result *results[MAX_RESULTS];
static int nresults;
static int run_failed; /* a correctness check failed somewhere */

struct result *
res_new(const char *group, const char *variant, enum unit u, int baseline)
{
    struct result *r;

    if (nresults == MAX_RESULTS) {
        fprintf(stderr, "sysvshm-bench: too many results\n");
        exit(2);
    }
    r = calloc(1, sizeof *r);
    if (r == NULL) {
        perror("sysvshm-bench: calloc");
        exit(2);
    }
    snprintf(r->group, sizeof r->group, "%s", group);
    snprintf(r->variant, sizeof r->variant, "%s", variant);
    r->unit = u;
    r->baseline = baseline;
    results[nresults++] = r;
    return r;
}

void
res_add(struct result *r, double v)
{
    if (r->nrep < BENCH_MAX_REPS)
        r->rep[r->nrep++] = v;
}

void
res_note(struct result *r, int failed, const char *fmt, ...)
{
    va_list ap;

    if (r->note[0] == '\0') {
        va_start(ap, fmt);
        vsnprintf(r->note, sizeof r->note, fmt, ap);
        va_end(ap);
    }
    if (failed) {
        r->failed = 1;
        run_failed = 1;
    }
}

static double t_start;

void
progress(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "[bench %5.1fs] ", (now_ns() - t_start) / 1e9);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* "No value": a NaN made at run time, and tests that need no <math.h>
 * macros (some compilers cannot use glibc's builtins for them). */
static double
no_value(void)
{
    volatile double z = 0.0;

    return z / z;
}

static int
is_nan(double v)
{
    return v != v;
}

static int
is_finite(double v)
{
    return !is_nan(v) && !is_nan(v - v);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
median_of(const double *v, int n)
{
    double s[BENCH_MAX_REPS];

    if (n == 0)
        return no_value();
    memcpy(s, v, (size_t)n * sizeof *v);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double
min_of(const double *v, int n)
{
    double m = v[0];
    int i;

    for (i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

static double
max_of(const double *v, int n)
{
    double m = v[0];
    int i;

    for (i = 1; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m;
}

static int
usable(const struct result *r)
{
    return r != NULL && r->nrep > 0 && !r->failed && r->note[0] == '\0';
}

static double
res_median(const struct result *r)
{
    return usable(r) ? median_of(r->rep, r->nrep) : no_value();
}

static const struct result *
group_baseline(const char *group)
{
    int i;

    for (i = 0; i < nresults; i++)
        if (results[i]->baseline && strcmp(results[i]->group, group) == 0)
            return results[i];
    return NULL;
}

static const struct result *
group_ref2(const char *group)
{
    int i;

    for (i = 0; i < nresults; i++)
        if (results[i]->ref2 && strcmp(results[i]->group, group) == 0)
            return results[i];
    return NULL;
}

/* Ratio of medians, and the spread of the per-repetition ratios (the two
 * were measured side by side in each repetition). */
static double
ratio_of(const struct result *r, const struct result *b, double *lo, double *hi)
{
    double rr[BENCH_MAX_REPS];
    int i, n = 0;

    *lo = *hi = no_value();
    if (!usable(r) || !usable(b))
        return no_value();
    for (i = 0; i < r->nrep && i < b->nrep; i++)
        rr[n++] = r->rep[i] / b->rep[i];
    if (n > 0) {
        *lo = min_of(rr, n);
        *hi = max_of(rr, n);
    }
    return res_median(r) / res_median(b);
}

/* ---- timing -------------------------------------------------------------- */

double
now_ns(void)
{
#if defined(HAVE_CLOCK_GETTIME) && HAVE_DECL_CLOCK_MONOTONIC
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
#endif
    {
        struct timeval tv;

        gettimeofday(&tv, NULL);
        return (double)tv.tv_sec * 1e9 + (double)tv.tv_usec * 1e3;
    }
}

void
sleep_us(long us)
{
    struct timespec ts;

    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (us % 1000000) * 1000;
    nanosleep(&ts, NULL);
}

static int
time_loop(loop_fn fn, void *ctx, long n, double *ns)
{
    double t0 = now_ns();

    if (fn(ctx, n) < 0)
        return -1;
    *ns = now_ns() - t0;
    return 0;
}

/* Find n so that a repetition takes about opt.time_ms. */
static long
calibrate(struct variant *v)
{
    double target = (double)opt.time_ms * 1e6, ns = 0;
    long n = 1;

    for (;;) {
        if (g_stop)
            return -1;
        if (time_loop(v->loop, v->ctx, n, &ns) < 0) {
            res_note(v->res, 0, "skipped: %s", strerror(errno));
            return -1;
        }
        if (ns >= target / 8 || n >= LONG_MAX / 4)
            break;
        n *= 2;
    }
    n = (long)((double)n * target / (ns > 1 ? ns : 1));
    return n > 0 ? n : 1;
}

void
calibrate_group(struct variant *v, int nv)
{
    int i;

    for (i = 0; i < nv; i++) {
        if (v[i].loop == NULL || v[i].res->note[0] != '\0')
            continue;
        /* A first short run also warms caches and the kernel's objects. */
        v[i].n = calibrate(&v[i]);
    }
}

/* A repetition of the loop variants is cut into slices, taken in turn
 * (A B C A B C ...), so that a burst of load from other programs falls on
 * every variant alike instead of on whichever ran at that moment. */
#define SLICES 8

void
run_reps(struct variant *v, int nv, int reps, int first)
{
    double ns[64];
    int rep, k, s, failed[64];

    if (nv > 64)
        nv = 64;
    for (rep = first; rep < first + reps && !g_stop; rep++) {
        for (k = 0; k < nv; k++) {
            ns[k] = 0;
            failed[k] = 0;
        }
        for (s = 0; s < SLICES && !g_stop; s++) {
            for (k = 0; k < nv && !g_stop; k++) {
                int i = (rep + s + k) % nv;
                struct variant *x = &v[i];
                long n = x->n / SLICES > 0 ? x->n / SLICES : 1;
                double t;

                if (x->loop == NULL || x->res->note[0] != '\0' || failed[i])
                    continue;
                if (time_loop(x->loop, x->ctx, n, &t) < 0) {
                    res_note(x->res, 0, "failed: %s", strerror(errno));
                    failed[i] = 1;
                    continue;
                }
                ns[i] += t / (double)n;
            }
        }
        for (k = 0; k < nv && !g_stop; k++) {
            struct variant *x = &v[(rep + k) % nv];
            int i = (int)(x - v);
            double val;

            if (x->res->note[0] != '\0')
                continue;
            if (x->loop != NULL) {
                res_add(x->res, ns[i] / SLICES);
                continue;
            }
            val = x->rep(x->ctx, x->res);
            if (val >= 0)
                res_add(x->res, val);
        }
    }
}

void
run_group(struct variant *v, int nv)
{
    calibrate_group(v, nv);
    run_reps(v, nv, opt.reps, 0);
}

/* ---- names, keys, registry ----------------------------------------------- */

#define NAME_LEN 48
#define MAX_BLOCKS 4600
#define MAX_IDS 64

/* Fixed arrays, never reallocated: the second-signal path reads them from a
 * signal handler. */
static char reg_names[MAX_BLOCKS][NAME_LEN];
static int nreg_names;
static int reg_shmids[MAX_IDS], nreg_shmids;
static int reg_semids[MAX_IDS], nreg_semids;
static char reg_posixs[MAX_IDS][NAME_LEN];
static int nreg_posixs;

void
bench_name(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "svsbench-%ld-%s", (long)getpid(), tag);
}

key_t
bench_free_key(void)
{
    static unsigned long next;
    unsigned long tries;

    if (next == 0)
        next = ((unsigned long)getpid() * 2654435761UL) & 0xffffffUL;
    /* Keys 0x62xxxxxx: away from the library's 0x53xxxxxx. */
    for (tries = 0; tries < 100000; tries++) {
        key_t k = (key_t)(0x62000000UL | (next++ & 0xffffffUL));

        if (shmget(k, 0, 0) < 0 && errno == ENOENT &&
            semget(k, 0, 0) < 0 && errno == ENOENT)
            return k;
    }
    return (key_t)IPC_PRIVATE;
}

void
reg_block(const char *name)
{
    if (nreg_names < MAX_BLOCKS)
        snprintf(reg_names[nreg_names++], NAME_LEN, "%s", name);
}

void
unreg_block(const char *name)
{
    int i;

    for (i = nreg_names - 1; i >= 0; i--) {
        if (strcmp(reg_names[i], name) == 0) {
            memcpy(reg_names[i], reg_names[nreg_names - 1], NAME_LEN);
            nreg_names--;
            return;
        }
    }
}

void
drop_block(const char *name)
{
    if (sysvshm_remove(name) < 0 && errno != ENOENT)
        fprintf(stderr, "sysvshm-bench: block \"%s\": cannot remove: %s\n", name,
                strerror(errno));
    unreg_block(name);
}

int
bench_is_fast(const sysvshm_t *h)
{
    /* The header's version field: offset 8 (docs/format.md). */
    int id = shmget(sysvshm_key(h), 0, 0);
    unsigned char *p;
    uint32_t v;

    if (id < 0)
        return -1;
    p = shmat(id, NULL, SHM_RDONLY);
    if (p == (void *)-1)
        return -1;
    memcpy(&v, p + 8, sizeof v);
    shmdt(p);
    return v == 2;
}

static void
reg_id(int *a, int *n, int id)
{
    if (*n < MAX_IDS)
        a[(*n)++] = id;
}

static void
unreg_id(int *a, int *n, int id)
{
    int i;

    for (i = 0; i < *n; i++) {
        if (a[i] == id) {
            a[i] = a[--*n];
            return;
        }
    }
}

void reg_shm(int id) { reg_id(reg_shmids, &nreg_shmids, id); }
void unreg_shm(int id) { unreg_id(reg_shmids, &nreg_shmids, id); }
void reg_sem(int id) { reg_id(reg_semids, &nreg_semids, id); }
void unreg_sem(int id) { unreg_id(reg_semids, &nreg_semids, id); }

void
reg_posix(const char *name)
{
    if (nreg_posixs < MAX_IDS)
        snprintf(reg_posixs[nreg_posixs++], NAME_LEN, "%s", name);
}

void
unreg_posix(const char *name)
{
    int i;

    for (i = 0; i < nreg_posixs; i++) {
        if (strcmp(reg_posixs[i], name) == 0) {
            memcpy(reg_posixs[i], reg_posixs[--nreg_posixs], NAME_LEN);
            return;
        }
    }
}

void
cleanup_all(void)
{
    while (nreg_names > 0)
        drop_block(reg_names[nreg_names - 1]);
    while (nreg_shmids > 0) {
        (void)shmctl(reg_shmids[0], IPC_RMID, NULL);
        unreg_shm(reg_shmids[0]);
    }
    while (nreg_semids > 0) {
        (void)semctl(reg_semids[0], 0, IPC_RMID);
        unreg_sem(reg_semids[0]);
    }
    while (nreg_posixs > 0) {
        (void)shm_unlink(reg_posixs[0]);
        unreg_posix(reg_posixs[0]);
    }
}

/* Second signal: the run did not stop in time.  Remove everything by key
 * and id with plain system calls (no library call, no stdio) and leave. */
static void
cleanup_hard(void)
{
    int i;

    for (i = 0; i < nreg_names; i++) {
        key_t k = sysvshm_name_key(reg_names[i]);
        int p;

        for (p = 0; p < SYSVSHM_PROBE_MAX && k != (key_t)-1; p++) {
            key_t kp = (key_t)(0x53000000L | ((k + p) & 0xffffffL));
            int id = semget(kp, 0, 0);

            /* Only what this run made: our blocks' segments are ours. */
            int sid = shmget(kp, 0, 0);
            struct shmid_ds ds;

            if (sid >= 0 && shmctl(sid, IPC_STAT, &ds) == 0 &&
                ds.shm_cpid == getpid()) {
                if (id >= 0)
                    (void)semctl(id, 0, IPC_RMID);
                (void)shmctl(sid, IPC_RMID, NULL);
            }
        }
    }
    for (i = 0; i < nreg_shmids; i++)
        (void)shmctl(reg_shmids[i], IPC_RMID, NULL);
    for (i = 0; i < nreg_semids; i++)
        (void)semctl(reg_semids[i], 0, IPC_RMID);
    for (i = 0; i < nreg_posixs; i++)
        (void)shm_unlink(reg_posixs[i]);
}

static pid_t main_pid;

static void
on_signal(int sig)
{
    (void)sig;
    if (getpid() != main_pid)
        _exit(128 + sig);
    if (g_stop) {
        cleanup_hard();
        _exit(130);
    }
    g_stop = 1;
}

static void
set_signals(void (*h)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* ---- processes ------------------------------------------------------------ */

pid_t
spawn(int (*fn)(void *ctx, int i), void *ctx, int i)
{
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        set_signals(SIG_DFL);
        _exit(fn(ctx, i) & 0xff);
    }
    return pid;
}

int
reap(pid_t pid)
{
    int st;

    for (;;) {
        if (waitpid(pid, &st, 0) == pid)
            break;
        if (errno != EINTR)
            return -1;
        if (g_stop)
            kill(pid, SIGKILL);
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

int
read_full(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t k = read(fd, p, len);

        if (k > 0) {
            p += k;
            len -= (size_t)k;
            continue;
        }
        if (k == 0) {
            errno = EPIPE;
            return -1;
        }
        if (errno != EINTR || g_stop)
            return -1;
    }
    return 0;
}

int
write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t k = write(fd, p, len);

        if (k > 0) {
            p += k;
            len -= (size_t)k;
            continue;
        }
        if (k < 0 && (errno != EINTR || g_stop))
            return -1;
    }
    return 0;
}

/* ---- the table ------------------------------------------------------------- */

static void
fmt_value(char *buf, size_t len, enum unit u, double v)
{
    if (is_nan(v)) {
        snprintf(buf, len, "-");
    } else if (u == U_NS) {
        if (v < 1e3)
            snprintf(buf, len, "%.0f ns", v);
        else if (v < 1e6)
            snprintf(buf, len, "%.2f us", v / 1e3);
        else
            snprintf(buf, len, "%.2f ms", v / 1e6);
    } else if (u == U_MIBS) {
        snprintf(buf, len, "%.0f MiB/s", v);
    } else if (v >= 1e6) {
        snprintf(buf, len, "%.2f M/s", v / 1e6);
    } else {
        snprintf(buf, len, "%.1f k/s", v / 1e3);
    }
}

static void
print_row(const struct result *r, const struct result *b, const struct result *b2)
{
    char med[32], lo[32], hi[32], spread[72], ratio[48], ratio2[48];
    double rl, rh, q;

    if (!usable(r)) {
        printf("  %c %-46s %s\n", r->baseline ? '*' : r->ref2 ? '+' : ' ', r->variant,
               r->note[0] ? r->note : "no measurement");
        return;
    }
    fmt_value(med, sizeof med, r->unit, res_median(r));
    fmt_value(lo, sizeof lo, r->unit, min_of(r->rep, r->nrep));
    fmt_value(hi, sizeof hi, r->unit, max_of(r->rep, r->nrep));
    snprintf(spread, sizeof spread, "%s .. %s", lo, hi);
    q = ratio_of(r, b, &rl, &rh);
    if (r == b)
        snprintf(ratio, sizeof ratio, "1 (baseline)");
    else if (is_nan(q))
        snprintf(ratio, sizeof ratio, "- (no baseline)");
    else
        snprintf(ratio, sizeof ratio, "%.2fx  [%.2f..%.2f]", q, rl, rh);
    ratio2[0] = '\0';
    if (b2 != NULL) {
        q = ratio_of(r, b2, &rl, &rh);
        if (r == b2)
            snprintf(ratio2, sizeof ratio2, "1 (+)");
        else if (is_nan(q))
            snprintf(ratio2, sizeof ratio2, "-");
        else
            snprintf(ratio2, sizeof ratio2, "%.2fx  [%.2f..%.2f]", q, rl, rh);
    }
    if (b2 == NULL)
        printf("  %c %-46s %11s  %-27s %s\n", r->baseline ? '*' : ' ', r->variant, med,
               spread, ratio);
    else
        printf("  %c %-46s %11s  %-27s %-26s %s\n",
               r->baseline ? '*' : r->ref2 ? '+' : ' ', r->variant, med, spread, ratio,
               ratio2);
}

static void
print_table(void)
{
    int i, j;

    printf("\n%-50s %11s  %-27s %s\n", "  group / variant   (* = the group's baseline)",
           "median", "spread (min .. max)", "ratio to baseline [per-rep range]");
    for (i = 0; i < nresults; i++) {
        const struct result *b, *b2;
        int seen = 0;

        for (j = 0; j < i; j++)
            if (strcmp(results[j]->group, results[i]->group) == 0)
                seen = 1;
        if (seen)
            continue;
        b = group_baseline(results[i]->group);
        b2 = group_ref2(results[i]->group);
        printf("%s  (%s)\n", results[i]->group,
               results[i]->unit == U_NS ? "time per op: ratio < 1 is faster"
                                        : "throughput: ratio > 1 is faster");
        if (b2 != NULL)
            printf("  (last column: ratio to the line marked +, \"%s\")\n", b2->variant);
        if (b != NULL)
            print_row(b, b, b2);
        for (j = i; j < nresults; j++)
            if (strcmp(results[j]->group, results[i]->group) == 0 && results[j] != b)
                print_row(results[j], b, b2);
    }
}

/* ---- targets ---------------------------------------------------------------- */

struct target {
    const char *what;
    const char *num_group, *num_variant; /* ratio = num / den (medians) */
    const char *den_group, *den_variant;
    int at_most; /* 1: ratio <= limit, 0: ratio >= limit */
    double limit;
    /* filled */
    double ratio;
    const char *status;
};

/* Group names the cases use, shared with the targets. */
extern const char *G_CREATE, *G_ATTACH, *G_LOCK, *G_BULK, *G_SCALE_LIB;
extern const char *V_LIB, *V_LIB_W, *V_LIB_R, *V_RAW, *V_RAWSEM, *V_PY, *V_MEMCPY,
    *V_PIPE, *V_LIBBULK, *V_LIBBULK2, *V_SCALE_LO, *V_SCALE_HI, *V_RAWT_C,
    *V_RAWT_A, *V_RAWSEMT, *V_BULKBOUND, *V_PYB, *V_PYSV, *V_PYLW;
extern const char *V_LIB_FW, *V_LIB_FR, *V_RMX, *G_PP, *V_RELAY, *V_FRELAY,
    *V_CONT_W, *V_CONT_FW;
extern char cont_group_2[], cont_group_n[];
extern int cont_n;
static char target_cont_n[64];

static struct target targets[] = {
    { "attach+close <= 1.3x raw SysV", NULL, NULL, NULL, NULL, 1, 1.3, 0, 0 },
    { "create cycle <= 1.3x raw SysV", NULL, NULL, NULL, NULL, 1, 1.3, 0, 0 },
    { "attach+close: Python (sustained) >= 2x slower", NULL, NULL, NULL, NULL, 0, 2.0, 0, 0 },
    { "create cycle: Python (sustained) >= 2x slower", NULL, NULL, NULL, NULL, 0, 2.0, 0, 0 },
    { "writer lock+unlock <= 1.2x raw semop pair", NULL, NULL, NULL, NULL, 1, 1.2, 0, 0 },
    { "reader lock+unlock <= 1.2x raw semop pair", NULL, NULL, NULL, NULL, 1, 1.2, 0, 0 },
    { "bulk, read in place >= 0.7x memcpy", NULL, NULL, NULL, NULL, 0, 0.7, 0, 0 },
    { "bulk, read in place >= 3x pipe", NULL, NULL, NULL, NULL, 0, 3.0, 0, 0 },
    { "attach with 4000 blocks <= 1.2x with 10", NULL, NULL, NULL, NULL, 1, 1.2, 0, 0 },
    /* The same targets against baselines that do the same work: */
    { "bulk, copied out >= 0.7x memcpy", NULL, NULL, NULL, NULL, 0, 0.7, 0, 0 },
    { "bulk, copied out >= 3x pipe", NULL, NULL, NULL, NULL, 0, 3.0, 0, 0 },
    { "attach+close <= 1.3x raw reading 1st page", NULL, NULL, NULL, NULL, 1, 1.3, 0, 0 },
    { "create cycle <= 1.3x raw writing 1st page", NULL, NULL, NULL, NULL, 1, 1.3, 0, 0 },
    { "create cycle <= 1.3x raw + page + sem set", NULL, NULL, NULL, NULL, 1, 1.3, 0, 0 },
    { "bulk, read in place >= 0.8x no hand-off", NULL, NULL, NULL, NULL, 0, 0.8, 0, 0 },
    { "attach+close: Python (burst) >= 2x slower", NULL, NULL, NULL, NULL, 0, 2.0, 0, 0 },
    { "create cycle: Python (burst) >= 2x slower", NULL, NULL, NULL, NULL, 0, 2.0, 0, 0 },
    /* The Python module sysvshm (TARGET_PYMOD and on): */
    { "sysvshm attach+close <= 1x multiprocessing", NULL, NULL, NULL, NULL, 1, 1.0, 0, 0 },
    { "sysvshm create cycle <= 1x multiprocessing", NULL, NULL, NULL, NULL, 1, 1.0, 0, 0 },
    { "with shm.lock(): <= 1.5x C writer lock+unlock", NULL, NULL, NULL, NULL, 1, 1.5, 0, 0 },
    /* The fast lock (TARGET_FAST and on): uncontended against the robust
     * mutex, contended against today's lock (must not be slower). */
    { "fast writer lock+unlock <= 1.5x robust mutex pair", NULL, NULL, NULL, NULL, 1, 1.5, 0, 0 },
    { "fast reader lock+unlock <= 1.5x robust mutex pair", NULL, NULL, NULL, NULL, 1, 1.5, 0, 0 },
    { "fast lock contended, ping-pong time <= 1x today's", NULL, NULL, NULL, NULL, 1, 1.0, 0, 0 },
    { "fast lock contended, 2 procs ops/s >= 1x today's", NULL, NULL, NULL, NULL, 0, 1.0, 0, 0 },
    { target_cont_n, NULL, NULL, NULL, NULL, 0, 1.0, 0, 0 },
};
#define TARGET_PYMOD 17
#define TARGET_FAST 20
#define NTARGETS ((int)(sizeof targets / sizeof targets[0]))

static void
target_set(int i, const char *ng, const char *nv, const char *dg, const char *dv)
{
    targets[i].num_group = ng;
    targets[i].num_variant = nv;
    targets[i].den_group = dg;
    targets[i].den_variant = dv;
}

static const struct result *
find_result(const char *group, const char *variant)
{
    int i;

    if (group == NULL || variant == NULL)
        return NULL;
    for (i = 0; i < nresults; i++)
        if (strcmp(results[i]->group, group) == 0 &&
            strcmp(results[i]->variant, variant) == 0)
            return results[i];
    return NULL;
}

static void
eval_targets(void)
{
    int i;

    target_set(0, G_ATTACH, V_LIB, G_ATTACH, V_RAW);
    target_set(1, G_CREATE, V_LIB, G_CREATE, V_RAW);
    target_set(2, G_ATTACH, V_PY, G_ATTACH, V_LIB);
    target_set(3, G_CREATE, V_PY, G_CREATE, V_LIB);
    target_set(4, G_LOCK, V_LIB_W, G_LOCK, V_RAWSEM);
    target_set(5, G_LOCK, V_LIB_R, G_LOCK, V_RAWSEM);
    target_set(6, G_BULK, V_LIBBULK, G_BULK, V_MEMCPY);
    target_set(7, G_BULK, V_LIBBULK, G_BULK, V_PIPE);
    target_set(8, G_SCALE_LIB, V_SCALE_HI, G_SCALE_LIB, V_SCALE_LO);
    target_set(9, G_BULK, V_LIBBULK2, G_BULK, V_MEMCPY);
    target_set(10, G_BULK, V_LIBBULK2, G_BULK, V_PIPE);
    target_set(11, G_ATTACH, V_LIB, G_ATTACH, V_RAWT_A);
    target_set(12, G_CREATE, V_LIB, G_CREATE, V_RAWT_C);
    target_set(13, G_CREATE, V_LIB, G_CREATE, V_RAWSEMT);
    target_set(14, G_BULK, V_LIBBULK, G_BULK, V_BULKBOUND);
    target_set(15, G_ATTACH, V_PYB, G_ATTACH, V_LIB);
    target_set(16, G_CREATE, V_PYB, G_CREATE, V_LIB);
    target_set(17, G_ATTACH, V_PYSV, G_ATTACH, V_PY);
    target_set(18, G_CREATE, V_PYSV, G_CREATE, V_PY);
    target_set(19, G_LOCK, V_PYLW, G_LOCK, V_LIB_W);
    target_set(20, G_LOCK, V_LIB_FW, G_LOCK, V_RMX);
    target_set(21, G_LOCK, V_LIB_FR, G_LOCK, V_RMX);
    target_set(22, G_PP, V_FRELAY, G_PP, V_RELAY);
    target_set(23, cont_group_2, V_CONT_FW, cont_group_2, V_CONT_W);
    target_set(24, cont_group_n, V_CONT_FW, cont_group_n, V_CONT_W);
    if (cont_n > 2)
        snprintf(target_cont_n, sizeof target_cont_n,
                 "fast lock contended, %d procs ops/s >= 1x today's", cont_n);
    else
        snprintf(target_cont_n, sizeof target_cont_n,
                 "fast lock contended, >2 procs ops/s >= 1x today's");
    for (i = 0; i < NTARGETS; i++) {
        struct target *t = &targets[i];
        double n = res_median(find_result(t->num_group, t->num_variant));
        double d = res_median(find_result(t->den_group, t->den_variant));

        t->ratio = n / d;
        if (is_nan(t->ratio))
            t->status = "not measured";
        else if (t->at_most ? t->ratio <= t->limit : t->ratio >= t->limit)
            t->status = "MET";
        else
            t->status = "MISSED";
    }
}

static void
print_targets(void)
{
    int i;

    printf("\nPerformance targets (ratios of medians from the table above)\n");
    for (i = 0; i < NTARGETS; i++) {
        const struct target *t = &targets[i];

        if (i == 9)
            printf("The same against baselines doing the same work (see docs/performance.md):\n");
        if (i == TARGET_PYMOD)
            printf("The Python module sysvshm, against multiprocessing (sustained) and C:\n");
        if (i == TARGET_FAST)
            printf("The fast lock (SYSVSHM_FASTLOCK), against a robust mutex and today's lock:\n");
        if (is_nan(t->ratio))
            printf("  %-51s %-8s %s\n", t->what, "-", t->status);
        else
            printf("  %-51s %6.2fx  %s\n", t->what, t->ratio, t->status);
    }
}

/* ---- JSON -------------------------------------------------------------------- */

static void
json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void
json_num(FILE *f, double v)
{
    if (!is_finite(v))
        fputs("null", f);
    else
        fprintf(f, "%.6g", v);
}

static char machine_cpu[128];
static struct utsname machine_uts;

static int
write_json(const char *path)
{
    FILE *f = fopen(path, "w");
    int i, j;

    if (f == NULL) {
        fprintf(stderr, "sysvshm-bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "{\n  \"library\": ");
    json_str(f, sysvshm_version());
    fprintf(f, ",\n  \"machine\": {\"cpus\": %ld, \"cpu\": ",
            sysconf(_SC_NPROCESSORS_ONLN));
    json_str(f, machine_cpu);
    fprintf(f, ", \"system\": ");
    json_str(f, machine_uts.sysname);
    fprintf(f, ", \"release\": ");
    json_str(f, machine_uts.release);
    fprintf(f, ", \"arch\": ");
    json_str(f, machine_uts.machine);
    fprintf(f, ", \"python\": ");
    json_str(f, python_version());
    fprintf(f, "},\n  \"config\": {\"reps\": %d, \"time_ms\": %ld, \"size\": %lu, "
               "\"bulk_mib\": %ld, \"block_mib\": %ld, \"bulk_slots\": %d, \"big_gib\": %ld},\n",
            opt.reps, opt.time_ms, (unsigned long)opt.size, opt.bulk_mib,
            opt.block_mib, opt.bulk_slots, opt.big_gib);
    fprintf(f, "  \"results\": [");
    for (i = 0; i < nresults; i++) {
        const struct result *r = results[i];
        const struct result *b = group_baseline(r->group);
        const struct result *r2 = group_ref2(r->group);
        double lo, hi, q = ratio_of(r, b, &lo, &hi);

        fprintf(f, "%s\n    {\"group\": ", i ? "," : "");
        json_str(f, r->group);
        fprintf(f, ", \"variant\": ");
        json_str(f, r->variant);
        fprintf(f, ", \"unit\": \"%s\", \"baseline\": %s, \"median\": ",
                r->unit == U_NS ? "ns/op" : r->unit == U_MIBS ? "MiB/s" : "ops/s",
                r->baseline ? "true" : "false");
        json_num(f, res_median(r));
        fprintf(f, ", \"min\": ");
        json_num(f, usable(r) ? min_of(r->rep, r->nrep) : no_value());
        fprintf(f, ", \"max\": ");
        json_num(f, usable(r) ? max_of(r->rep, r->nrep) : no_value());
        fprintf(f, ", \"ratio\": ");
        json_num(f, q);
        fprintf(f, ", \"ratio_min\": ");
        json_num(f, lo);
        fprintf(f, ", \"ratio_max\": ");
        json_num(f, hi);
        fprintf(f, ", \"reps\": [");
        for (j = 0; j < r->nrep; j++) {
            fprintf(f, "%s", j ? ", " : "");
            json_num(f, r->rep[j]);
        }
        fprintf(f, "], \"failed\": %s, \"note\": ", r->failed ? "true" : "false");
        json_str(f, r->note);
        if (r2 != NULL) {
            q = ratio_of(r, r2, &lo, &hi);
            fprintf(f, ", \"ref2\": %s, \"ratio_ref2\": ", r->ref2 ? "true" : "false");
            json_num(f, q);
            fprintf(f, ", \"ratio_ref2_min\": ");
            json_num(f, lo);
            fprintf(f, ", \"ratio_ref2_max\": ");
            json_num(f, hi);
        }
        fprintf(f, "}");
    }
    fprintf(f, "\n  ],\n  \"targets\": [");
    for (i = 0; i < NTARGETS; i++) {
        fprintf(f, "%s\n    {\"target\": ", i ? "," : "");
        json_str(f, targets[i].what);
        fprintf(f, ", \"ratio\": ");
        json_num(f, targets[i].ratio);
        fprintf(f, ", \"limit\": ");
        json_num(f, targets[i].limit);
        fprintf(f, ", \"at_most\": %s, \"status\": ", targets[i].at_most ? "true" : "false");
        json_str(f, targets[i].status);
        fprintf(f, "}");
    }
    fprintf(f, "\n  ]\n}\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "sysvshm-bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- options ------------------------------------------------------------------ */

static void
usage(FILE *f)
{
    fprintf(f,
"usage: sysvshm-bench [options]\n"
"  --case LIST        cases to run (default all): create, attach, lock, pingpong,\n"
"                     bulk, contention, scale, big, probe, all\n"
"  --reps N           repetitions of every measurement (default 7, max %d)\n"
"  --time-ms MS       length of one timed repetition (default 30)\n"
"  --size BYTES       block size for create/attach/lock (default 4096; K/M/G ok)\n"
"  --bulk-mib N       bytes the bulk case streams, in MiB (default 1024)\n"
"  --block-mib N      block the bulk case streams through, in MiB (default 64)\n"
"  --bulk-slots N     chunks in the block at once (default 2: double buffering)\n"
"  --procs LIST       process counts for contention (default 1,2,4,8)\n"
"  --scale LIST       other live blocks for the scale case (default 10,1000,4000)\n"
"  --big-gib N        size of the big block case in GiB (default 4; 0: skip)\n"
"  --python PATH      python3 for the SharedMemory baseline ('none': skip)\n"
"  --python-script F  path of bench-python.py\n"
"  --python-lib DIR   where the sysvshm Python module is built (default: this\n"
"                     build tree's python/build/lib; 'none': python's own path)\n"
"  --json FILE        also write the results as JSON\n"
"  --quick            3 repetitions of 10 ms, 256 MiB bulk (a smoke test)\n"
"  -v, --verbose      say more about each step\n",
            BENCH_MAX_REPS);
}

static int
parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s)
        return -1;
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
    }
    if (*end != '\0' || v == 0 || v > (unsigned long long)(size_t)-1)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int
parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int
parse_list(const char *s, long lo, long hi, long *out, int *n)
{
    char buf[256], *tok, *save = NULL;

    snprintf(buf, sizeof buf, "%s", s);
    *n = 0;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (*n == BENCH_MAX_LIST || parse_long(tok, lo, hi, &out[*n]) < 0)
            return -1;
        (*n)++;
    }
    return *n > 0 ? 0 : -1;
}

static int
parse_cases(const char *s, unsigned *out)
{
    static const struct { const char *name; unsigned bit; } tab[] = {
        { "create", CASE_CREATE }, { "attach", CASE_ATTACH }, { "lock", CASE_LOCK },
        { "pingpong", CASE_PINGPONG }, { "bulk", CASE_BULK },
        { "contention", CASE_CONTENTION }, { "scale", CASE_SCALE }, { "big", CASE_BIG },
        { "probe", CASE_PROBE }, { "all", CASE_ALL },
    };
    char buf[256], *tok, *save = NULL;
    size_t i;

    snprintf(buf, sizeof buf, "%s", s);
    *out = 0;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
            if (strcmp(tok, tab[i].name) == 0)
                break;
        if (i == sizeof tab / sizeof tab[0])
            return -1;
        *out |= tab[i].bit;
    }
    return *out ? 0 : -1;
}

static int
parse_args(int argc, char **argv)
{
    int i;

    opt.cases = CASE_ALL;
    opt.reps = 7;
    opt.time_ms = 30;
    opt.size = 4096;
    opt.bulk_mib = 1024;
    opt.block_mib = 64;
    opt.bulk_slots = 2;
    opt.procs[0] = 1; opt.procs[1] = 2; opt.procs[2] = 4; opt.procs[3] = 8;
    opt.nprocs = 4;
    opt.scale[0] = 10; opt.scale[1] = 1000; opt.scale[2] = 4000;
    opt.nscale = 3;
    opt.big_gib = 4;
    opt.python = BENCH_PYTHON3;
    opt.pyscript = BENCH_PYSCRIPT;
    opt.pylib = BENCH_PYLIB;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char key[32];
        const char *eq = strchr(a, '=');
        long v, list[BENCH_MAX_LIST];
        int n, k;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            opt.verbose = 1;
            continue;
        }
        if (strcmp(a, "--quick") == 0) {
            opt.reps = 3;
            opt.time_ms = 10;
            opt.bulk_mib = 256;
            continue;
        }
        if (eq != NULL && eq - a < (long)sizeof key) {
            memcpy(key, a, (size_t)(eq - a));
            key[eq - a] = '\0';
            val = eq + 1;
        } else {
            snprintf(key, sizeof key, "%s", a);
            if (i + 1 < argc)
                val = argv[++i];
        }
        if (val == NULL)
            goto bad;
        if (strcmp(key, "--case") == 0) {
            if (parse_cases(val, &opt.cases) < 0)
                goto bad;
        } else if (strcmp(key, "--reps") == 0) {
            if (parse_long(val, 1, BENCH_MAX_REPS, &v) < 0)
                goto bad;
            opt.reps = (int)v;
        } else if (strcmp(key, "--time-ms") == 0) {
            if (parse_long(val, 1, 60000, &opt.time_ms) < 0)
                goto bad;
        } else if (strcmp(key, "--size") == 0) {
            if (parse_size(val, &opt.size) < 0)
                goto bad;
        } else if (strcmp(key, "--bulk-mib") == 0) {
            if (parse_long(val, 1, 1L << 20, &opt.bulk_mib) < 0)
                goto bad;
        } else if (strcmp(key, "--block-mib") == 0) {
            if (parse_long(val, 1, 1L << 16, &opt.block_mib) < 0)
                goto bad;
        } else if (strcmp(key, "--bulk-slots") == 0) {
            if (parse_long(val, 2, 64, &v) < 0)
                goto bad;
            opt.bulk_slots = (int)v;
        } else if (strcmp(key, "--procs") == 0) {
            if (parse_list(val, 1, 256, list, &n) < 0)
                goto bad;
            for (k = 0; k < n; k++)
                opt.procs[k] = (int)list[k];
            opt.nprocs = n;
        } else if (strcmp(key, "--scale") == 0) {
            if (parse_list(val, 0, MAX_BLOCKS - 100, opt.scale, &opt.nscale) < 0)
                goto bad;
        } else if (strcmp(key, "--big-gib") == 0) {
            if (parse_long(val, 0, 1L << 20, &opt.big_gib) < 0)
                goto bad;
        } else if (strcmp(key, "--python") == 0) {
            opt.python = strcmp(val, "none") == 0 ? "" : val;
        } else if (strcmp(key, "--python-script") == 0) {
            opt.pyscript = val;
        } else if (strcmp(key, "--python-lib") == 0) {
            opt.pylib = strcmp(val, "none") == 0 ? "" : val;
        } else if (strcmp(key, "--json") == 0) {
            opt.json = val;
        } else {
            goto bad;
        }
        continue;
bad:
        if (val == NULL)
            fprintf(stderr, "sysvshm-bench: %s: unknown option or missing value "
                    "(see --help)\n", key);
        else
            fprintf(stderr, "sysvshm-bench: %s %s: unknown option or bad value "
                    "(see --help)\n", key, val);
        return -1;
    }
    return 0;
}

static void
machine_info(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];

    if (uname(&machine_uts) < 0)
        memset(&machine_uts, 0, sizeof machine_uts);
    snprintf(machine_cpu, sizeof machine_cpu, "unknown");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        char *c = strchr(line, ':');

        if (strncmp(line, "model name", 10) == 0 && c != NULL) {
            c++;
            while (*c == ' ' || *c == '\t')
                c++;
            c[strcspn(c, "\n")] = '\0';
            snprintf(machine_cpu, sizeof machine_cpu, "%s", c);
            break;
        }
    }
    fclose(f);
}

int
main(int argc, char **argv)
{
    struct sigaction ign;

    if (parse_args(argc, argv) < 0)
        return 2;
    main_pid = getpid();
    t_start = now_ns();
    set_signals(on_signal);
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, NULL); /* a dead reader is an error return */
    machine_info();
    setvbuf(stdout, NULL, _IOLBF, 0);

    printf("sysvshm-bench: libsysvshm %s; %ld CPU(s), %s; %s %s %s\n",
           sysvshm_version(), sysconf(_SC_NPROCESSORS_ONLN), machine_cpu,
           machine_uts.sysname, machine_uts.release, machine_uts.machine);
    printf("%d repetitions of ~%ld ms each; every line is a ratio to its group's "
           "baseline, measured in this run, interleaved.\n",
           opt.reps, opt.time_ms);

    if ((opt.cases & (CASE_CREATE | CASE_ATTACH)) && !g_stop)
        case_create_attach();
    if ((opt.cases & CASE_LOCK) && !g_stop)
        case_lock();
    if ((opt.cases & CASE_PINGPONG) && !g_stop)
        case_pingpong();
    if ((opt.cases & CASE_BULK) && !g_stop)
        case_bulk();
    if ((opt.cases & CASE_CONTENTION) && !g_stop)
        case_contention();
    if ((opt.cases & CASE_SCALE) && !g_stop)
        case_scale();
    if ((opt.cases & CASE_BIG) && !g_stop)
        case_big();
    if ((opt.cases & CASE_PROBE) && !g_stop)
        case_probe();
    cleanup_all();
    progress("done");

    if (g_stop) {
        fprintf(stderr, "sysvshm-bench: interrupted; everything made was removed\n");
        return 130;
    }
    eval_targets();
    print_table();
    print_targets();
    if (run_failed)
        printf("\nFAILED: a correctness check failed (see the notes above)\n");
    if (opt.json != NULL && write_json(opt.json) < 0)
        return 1;
    return run_failed ? 1 : 0;
}
