/*
 * r_contend.c - four processes contending for one block's lock, on a
 * version-1 block and then on a fast-lock block (SYSVSHM_FASTLOCK).  Prints
 * TAP (not a Criterion program: while its report goes to standard output,
 * Criterion sends what its tests print to /dev/null, and the figures below
 * are meant for the test log).
 *
 *   r_contend [-c CYCLES]
 *
 * Each process does CYCLES (default 20000) lock/unlock cycles, every
 * WRITE_EVERY-th one a writer, the others readers, with a little work of
 * its own between them.  Under the writer lock a process bumps a counter by a slow
 * read-modify-write, appends itself to the log of writer holds and rewrites
 * a pair of fields one after the other; under the reader lock it reads the
 * pair, slowly.  Checked, as none of it depends on the machine's speed or
 * load: every process got all of its CYCLES; no update lost, no torn pair
 * seen, nobody inside with a writer; the counts add up (each process's
 * writes are in the log, the hand-overs counted under the lock are those of
 * the log).
 *
 * Printed for each lock as a TAP diagnostic ("# contend ..."), for
 * comparing the two in the log: how often the writer lock passed to another
 * process, the longest run of writer holds by one process, and how far the
 * slowest process had got when the first one finished (1.00: all finished
 * together; a lock that lets its last holder take it again at once scores
 * lower).  Not checked: on a shared 2-CPU machine they depend on the
 * scheduler.
 */
#include "svs_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define NPROC 4
#define MAXCYCLES 1000000
#define WRITE_EVERY 4
#define LOCK_TIMEOUT_MS 20000L
#define RUN_TIMEOUT_MS 100000L
#define THINK_NS 1000L /* between two cycles: see think() */

static int cycles = 20000;

/* The block's data.  A process writes the shared fields under the writer
 * lock only, its own slots ([me]) at any time.  volatile: every access is
 * made, in program order, so that two processes inside at once would show. */
struct arena {
    volatile uint64_t counter;   /* bumped by a slow read-modify-write */
    volatile uint64_t seq;       /* writer holds so far: next index of owner[] */
    volatile uint64_t pair_a;    /* rewritten a, then b, apart in time */
    volatile uint64_t pair_b;
    volatile int32_t last_owner; /* process of the last writer hold, -1: none */
    volatile uint32_t handovers; /* writer holds whose last holder was another */
    volatile uint32_t in_write;  /* writers inside */
    volatile uint32_t in_read[NPROC];  /* 1 while inside as a reader */
    volatile uint64_t acquired[NPROC]; /* locks got */
    volatile uint64_t writes[NPROC];   /* writer holds */
    volatile uint64_t torn[NPROC];     /* pairs seen half-updated */
    volatile uint64_t overlap[NPROC];  /* others seen inside with a writer */
    volatile uint8_t owner[];          /* process of each writer hold */
};

static int writes_each(void)
{
    return (cycles + WRITE_EVERY - 1) / WRITE_EVERY;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void spin(unsigned n)
{
    volatile unsigned i;

    for (i = 0; i < n; i++)
        ;
}

/* Inside the lock: long enough that a second process inside at once would
 * see the middle of an update on two CPUs. */
static void dawdle(void)
{
    spin(300);
}

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Between two cycles: some work of its own, so that each process's run
 * lasts many scheduler time slices and the four really overlap (without
 * it a fast lock's run can end within one slice, contending with nobody).
 * Timed, not counted: a loop's speed varies too much between machines. */
static void think(void)
{
    long long end = now_ns() + THINK_NS;

    while (now_ns() < end)
        ;
}

/* One contender; exits 0, or the number of the check that failed. */
static int contender(const char *name, int me, int go)
{
    sysvshm_t *h = sysvshm_attach(name, 0);
    struct arena *a;
    uint64_t total = (uint64_t)NPROC * (uint64_t)writes_each();
    char c;
    int k, o;

    if (h == NULL)
        return 2;
    a = sysvshm_buf(h);
    if (read(go, &c, 1) != 1)
        return 3;
    for (k = 0; k < cycles; k++) {
        int write = k % WRITE_EVERY == 0;
        /* Nobody dies here: SYSVSHM_RECOVERED would be a false alarm. */
        if (sysvshm_lock(h, write ? SYSVSHM_WRITE : SYSVSHM_READ, LOCK_TIMEOUT_MS) != 0)
            return write ? 4 : 5;
        a->acquired[me]++;
        if (write) {
            uint64_t v, s;

            a->in_write++;
            for (o = 0; o < NPROC; o++)
                if (a->in_read[o])
                    a->overlap[me]++;
            if (a->in_write != 1)
                a->overlap[me]++;
            v = a->counter;
            dawdle();
            a->counter = v + 1;
            s = a->seq;
            if (s >= total)
                return 6; /* only if writers were inside together */
            a->owner[s] = (uint8_t)me;
            a->seq = s + 1;
            if (a->last_owner >= 0 && a->last_owner != me)
                a->handovers++;
            a->last_owner = me;
            a->pair_a = s + 1;
            dawdle();
            a->pair_b = s + 1;
            a->writes[me]++;
            a->in_write--;
        } else {
            uint64_t x, y;

            a->in_read[me] = 1;
            if (a->in_write != 0)
                a->overlap[me]++;
            x = a->pair_a;
            dawdle();
            y = a->pair_b;
            if (x != y)
                a->torn[me]++;
            a->in_read[me] = 0;
        }
        if (sysvshm_unlock(h) != 0)
            return 7;
        think();
    }
    return sysvshm_close(h) == 0 ? 0 : 8;
}

static int test_no;
static int failed;

static void tap(int ok, const char *what, const char *label, const char *detail)
{
    printf("%s %d - %s: %s%s%s\n", ok ? "ok" : "not ok", ++test_no, label, what,
           detail[0] ? ": " : "", detail);
    if (!ok)
        failed = 1;
}

/* Children of the current run, killed if the parent must give up. */
static pid_t kids[NPROC];

static void kill_kids(void)
{
    int i;

    for (i = 0; i < NPROC; i++)
        if (kids[i] > 0) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
            kids[i] = 0;
        }
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Wait for a child until `end' (ms); its status as waitpid gives it, or -1
 * if it is still running then (or we were told to stop). */
static int wait_until(pid_t pid, long long end)
{
    int st;

    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);

        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_ms() > end || interrupted)
            return -1;
        {
            struct timespec ts = { 0, 2000000L };

            nanosleep(&ts, NULL);
        }
    }
}

static void contend(int flags, const char *label)
{
    char name[64], detail[512];
    size_t size = sizeof(struct arena) + (size_t)NPROC * (size_t)writes_each();
    sysvshm_t *h;
    struct arena *a;
    int go[2], i, st, bad;
    uint64_t total = 0, holds = (uint64_t)NPROC * (uint64_t)writes_each();
    unsigned count[NPROC], handovers = 0, run = 0, longest = 0, s;
    double fairness = 0;
    long long t0, end, ms;
    int first_done = 0;

    snprintf(name, sizeof name, "contend.%ld.%d", (long)getpid(), flags);
    h = sysvshm_create(name, size, flags, 0600);
    if (h == NULL) {
        snprintf(detail, sizeof detail, "create: %s", strerror(errno));
        tap(0, "block made", label, detail);
        return;
    }
    a = sysvshm_buf(h);
    a->last_owner = -1;
    /* SYSVSHM_FASTLOCK makes a version-1 block where the library has no
     * atomics; anything else would compare the wrong locks. */
    tap(h->fast == ((flags & SYSVSHM_FASTLOCK) != 0 && svs_fast_available()),
        "the block has the lock asked for", label, "");
    if (pipe(go) != 0) {
        tap(0, "pipe", label, strerror(errno));
        goto out;
    }
    fflush(stdout);
    for (i = 0; i < NPROC; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            alarm((unsigned)(RUN_TIMEOUT_MS / 1000 + 10)); /* never outlive the run */
            close(go[1]);
            _exit(contender(name, i, go[0]));
        }
        if (kids[i] < 0) {
            tap(0, "fork", label, strerror(errno));
            kids[i] = 0;
            kill_kids();
            goto out;
        }
    }
    close(go[0]);
    t0 = now_ms();
    /* All at once: the bytes wake them together. */
    if (write(go[1], "gggg", NPROC) != NPROC)
        tap(0, "start", label, strerror(errno));
    close(go[1]);
    end = t0 + RUN_TIMEOUT_MS;
    bad = 0;
    detail[0] = 0;
    for (i = 0; i < NPROC; i++) {
        st = wait_until(kids[i], end);
        if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            size_t n = strlen(detail);

            snprintf(detail + n, sizeof detail - n,
                     "%sprocess %d %s %d after %llu of %d locks", bad ? "; " : "", i,
                     st == -1 ? "still running, status" : WIFEXITED(st) ? "exited"
                                                                        : "killed by",
                     st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
                     (unsigned long long)a->acquired[i], cycles);
            bad = 1;
        }
        if (st != -1)
            kids[i] = 0;
    }
    kill_kids();
    ms = now_ms() - t0;
    /* Exit statuses: 4/5 a writer/reader lock failed, 6 writers overlapped. */
    for (i = 0; i < NPROC; i++)
        if (a->acquired[i] != (uint64_t)cycles || a->writes[i] != (uint64_t)writes_each())
            bad = 1;
    tap(!bad, "every process got all of its locks, none starved", label, detail);

    bad = 0;
    detail[0] = 0;
    for (i = 0; i < NPROC; i++) {
        if (a->torn[i] != 0 || a->overlap[i] != 0) {
            size_t n = strlen(detail);

            snprintf(detail + n, sizeof detail - n,
                     "%sprocess %d saw %llu torn pairs, %llu others inside", bad ? "; " : "",
                     i, (unsigned long long)a->torn[i], (unsigned long long)a->overlap[i]);
            bad = 1;
        }
        total += a->writes[i];
    }
    if (a->counter != total) {
        size_t n = strlen(detail);

        snprintf(detail + n, sizeof detail - n, "%scounter %llu after %llu locked increments",
                 bad ? "; " : "", (unsigned long long)a->counter, (unsigned long long)total);
        bad = 1;
    }
    tap(!bad, "no lost update, no torn read, nobody inside with a writer", label, detail);

    /* The log against the counts. */
    bad = a->seq != total || a->pair_a != total || a->pair_b != total || total > holds;
    memset(count, 0, sizeof count);
    for (s = 0; !bad && s < total; s++) {
        unsigned o = a->owner[s];

        if (o >= NPROC) {
            bad = 1;
            break;
        }
        if (s > 0 && o != a->owner[s - 1])
            handovers++;
        run = s > 0 && o == a->owner[s - 1] ? run + 1 : 1;
        if (run > longest)
            longest = run;
        if (++count[o] == (unsigned)writes_each() && !first_done) {
            unsigned least = (unsigned)writes_each();

            first_done = 1;
            for (i = 0; i < NPROC; i++)
                if (count[i] < least)
                    least = count[i];
            fairness = (double)least / writes_each();
        }
    }
    for (i = 0; !bad && i < NPROC; i++)
        if (count[i] != a->writes[i])
            bad = 1;
    snprintf(detail, sizeof detail, "%llu holds logged of %llu, %u hand-overs counted, %u in "
             "the log", (unsigned long long)a->seq, (unsigned long long)total, a->handovers,
             handovers);
    tap(!bad && a->handovers == handovers, "the log of writer holds adds up", label,
        bad || a->handovers != handovers ? detail : "");

    errno = 0;
    st = sysvshm_lock(h, SYSVSHM_WRITE, 0);
    tap(st == 0, "the lock is free afterwards, and no holder died", label,
        st == 0 ? "" : st > 0 ? "SYSVSHM_RECOVERED" : strerror(errno));
    if (st >= 0)
        sysvshm_unlock(h);

    printf("# contend %-9s %d processes x %d locks (1 in %d a writer) in %lld ms: "
           "%u hand-overs in %llu writer holds (%.0f%%), longest run by one process %u, "
           "fairness %.2f (the slowest's share done when the first finished)\n",
           label, NPROC, cycles, WRITE_EVERY, ms, handovers, (unsigned long long)holds,
           holds ? 100.0 * handovers / (double)holds : 0.0, longest, fairness);
out:
    sysvshm_unlink(h);
    sysvshm_close(h);
    /* Nothing of the block left at its keys. */
    {
        key_t k0 = sysvshm_name_key(name);
        unsigned p;
        int left = 0;

        for (p = 0; p < SYSVSHM_PROBE_MAX; p++) {
            key_t k = (key_t)(0x53000000 | (((unsigned)k0 + p) & 0xffffff));

            left += shmget(k, 0, 0) >= 0;
            left += semget(k, 0, 0) >= 0;
        }
        snprintf(detail, sizeof detail, "%d objects at the name's keys", left);
        tap(left == 0, "no IPC object left", label, left ? detail : "");
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int c;

    while ((c = getopt(argc, argv, "c:")) != -1) {
        if (c == 'c' && atoi(optarg) >= WRITE_EVERY && atoi(optarg) <= MAXCYCLES) {
            cycles = atoi(optarg);
        } else {
            fprintf(stderr, "usage: r_contend [-c CYCLES]\n");
            return 2;
        }
    }
    /* Stopped from outside: kill the contenders, remove the block, fail. */
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("1..12\n");
    contend(0, "version-1");
    if (!interrupted)
        contend(SYSVSHM_FASTLOCK, svs_fast_available() ? "fast" : "fast(=v1)");
    /* A run that failed early printed fewer lines: fill the plan. */
    while (test_no < 12)
        tap(0, "not run", "", "");
    return failed || interrupted;
}
