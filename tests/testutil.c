/*
 * testutil.c - shared helpers for the libsysvshm Criterion tests.
 *
 * Cleanup has two layers.  Each test process keeps a registry of the names
 * and raw IPC objects it made and removes them in its suite's .fini, which
 * Criterion runs even after a failed assertion.  A test that crashes or is
 * killed for a timeout never reaches .fini, so every registration is also
 * appended to a file that the runner process (the parent of all test
 * processes) empties after the last test.
 */
#include "testutil.h"
#include "svs_int.h"

#include <criterion/hooks.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TU_REG_ENV "SVS_TEST_REGISTRY"
#define TU_MAX_NAMES 4096
#define TU_MAX_RAW 256
#define TU_MAX_KIDS 256

struct tu_raw {
    int id;
    key_t key;
    int is_sem;
};

static char *tu_names[TU_MAX_NAMES];
static int tu_nnames;
static struct tu_raw tu_raws[TU_MAX_RAW];
static int tu_nraws;
static pid_t tu_kids[TU_MAX_KIDS];
static int tu_nkids;
static unsigned tu_counter;

/* ---- the registry file (crash-safe layer) ------------------------------ */

static void tu_reg_append(const char *line)
{
    const char *path = getenv(TU_REG_ENV);
    int fd;

    if (path == NULL)
        return;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd < 0)
        return;
    /* One write per line: O_APPEND keeps concurrent test processes' lines
     * whole. */
    (void)tu_write_all(fd, line, strlen(line));
    close(fd);
}

static void tu_hex(const char *s, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        *out++ = digits[c >> 4];
        *out++ = digits[c & 15];
    }
    *out = '\0';
}

static int tu_unhex(const char *s, char *out, size_t outlen)
{
    size_t n = 0;

    while (s[0] != '\0' && s[1] != '\0' && n + 1 < outlen) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1)
            return -1;
        out[n++] = (char)v;
        s += 2;
    }
    out[n] = '\0';
    return 0;
}

static void tu_remove_name(const char *name)
{
    int i;

    /* A name has one block at a time, but a test may leave an old one in an
     * odd state; a few rounds are plenty. */
    for (i = 0; i < 4; i++) {
        if (sysvshm_remove_v2(name, SYSVSHM_ANYUSER) != 0)
            break;
    }
}

static void tu_remove_raw(int id, key_t key, int is_sem)
{
    /* Ids are reused: remove only if the key we made the object at still
     * leads to this id (keys here derive from names unique to this run). */
    if (is_sem) {
        if (semget(key, 0, 0) == id)
            (void)semctl(id, 0, IPC_RMID);
    } else {
        if (shmget(key, 0, 0) == id)
            (void)shmctl(id, IPC_RMID, NULL);
    }
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    static char path[512];
    const char *tmp = getenv("TMPDIR");
    int fd;

    (void)set;
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    snprintf(path, sizeof path, "%s/svs-tests.%ld.reg", tmp, (long)getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return;
    close(fd);
    setenv(TU_REG_ENV, path, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    const char *path = getenv(TU_REG_ENV);
    char line[1024];
    FILE *f;

    (void)stats;
    if (path == NULL)
        return;
    f = fopen(path, "r");
    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL) {
            char name[SYSVSHM_NAME_MAX + 2];
            char hex[1024];
            int id;
            long key;
            if (sscanf(line, "N %1000s", hex) == 1) {
                if (tu_unhex(hex, name, sizeof name) == 0)
                    tu_remove_name(name);
            } else if (sscanf(line, "S %d %ld", &id, &key) == 2) {
                tu_remove_raw(id, (key_t)key, 0);
            } else if (sscanf(line, "M %d %ld", &id, &key) == 2) {
                tu_remove_raw(id, (key_t)key, 1);
            }
        }
        fclose(f);
    }
    unlink(path);
}

/* ---- names -------------------------------------------------------------- */

void tu_register_name(const char *name)
{
    char line[2 * SYSVSHM_NAME_MAX + 16];
    char hex[2 * SYSVSHM_NAME_MAX + 8];
    char *copy;

    if (name == NULL || strlen(name) > SYSVSHM_NAME_MAX + 1)
        return;
    cr_assert(tu_nnames < TU_MAX_NAMES, "testutil: name registry full");
    copy = malloc(strlen(name) + 1);
    cr_assert(copy != NULL, "testutil: out of memory");
    strcpy(copy, name);
    tu_names[tu_nnames++] = copy;
    tu_hex(name, hex);
    snprintf(line, sizeof line, "N %s\n", hex);
    tu_reg_append(line);
}

const char *tu_name(const char *tag)
{
    char buf[SYSVSHM_NAME_MAX + 1];

    snprintf(buf, sizeof buf, "t%ld.%ld.%u.%s", (long)getpid(),
             (long)time(NULL), tu_counter++, tag);
    tu_register_name(buf);
    return tu_names[tu_nnames - 1];
}

static void tu_register_raw(int id, key_t key, int is_sem)
{
    char line[64];

    cr_assert(tu_nraws < TU_MAX_RAW, "testutil: raw registry full");
    tu_raws[tu_nraws].id = id;
    tu_raws[tu_nraws].key = key;
    tu_raws[tu_nraws].is_sem = is_sem;
    tu_nraws++;
    snprintf(line, sizeof line, "%c %d %ld\n", is_sem ? 'M' : 'S', id, (long)key);
    tu_reg_append(line);
}

void tu_register_shm(int shmid, key_t key) { tu_register_raw(shmid, key, 0); }
void tu_register_sem(int semid, key_t key) { tu_register_raw(semid, key, 1); }

void tu_cleanup(void)
{
    int i;

    for (i = 0; i < tu_nkids; i++) {
        if (tu_kids[i] > 0) {
            kill(tu_kids[i], SIGKILL);
            (void)waitpid(tu_kids[i], NULL, 0);
        }
    }
    tu_nkids = 0;
    for (i = 0; i < tu_nnames; i++) {
        tu_remove_name(tu_names[i]);
        free(tu_names[i]);
    }
    tu_nnames = 0;
    for (i = 0; i < tu_nraws; i++)
        tu_remove_raw(tu_raws[i].id, tu_raws[i].key, tu_raws[i].is_sem);
    tu_nraws = 0;
}

sysvshm_t *tu_must_(sysvshm_t *h, const char *what, const char *file, int line)
{
    int e = errno;

    cr_assert(h != NULL, "%s:%d: %s failed: %s", file, line, what, strerror(e));
    return h;
}

/* ---- keys --------------------------------------------------------------- */

uint32_t tu_fnv1a(const unsigned char *s, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

key_t tu_name_key(const char *name)
{
    uint32_t h;

    if (name[0] == '/')
        name++;
    h = tu_fnv1a((const unsigned char *)name, strlen(name));
    return (key_t)(0x53000000u | ((h >> 24) ^ (h & 0xffffffu)));
}

key_t tu_probe(key_t key0, unsigned i)
{
    return (key_t)(0x53000000u | (((uint32_t)key0 + i) & 0xffffffu));
}

int tu_shm_exists(key_t key)
{
    return shmget(key, 0, 0) >= 0 || errno != ENOENT;
}

int tu_sem_exists(key_t key)
{
    return semget(key, 0, 0) >= 0 || errno != ENOENT;
}

int tu_name_keys_free(const char *name)
{
    key_t k0 = tu_name_key(name);
    unsigned i;

    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        if (tu_shm_exists(tu_probe(k0, i)) || tu_sem_exists(tu_probe(k0, i)))
            return 0;
    }
    return 1;
}

int tu_shm_count_cpid(pid_t cpid)
{
    char line[512];
    FILE *f = fopen("/proc/sysvipc/shm", "r");
    int n = 0;

    if (f == NULL)
        return -1;
    if (fgets(line, sizeof line, f) == NULL) { /* the column titles */
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        long key, id, pid;
        unsigned long perms, size;
        if (sscanf(line, "%ld %ld %lo %lu %ld", &key, &id, &perms, &size, &pid) == 5
            && pid == (long)cpid)
            n++;
    }
    fclose(f);
    return n;
}

int tu_foreign_shm(key_t key, size_t size, int fill)
{
    int id = shmget(key, size, IPC_CREAT | IPC_EXCL | 0600);
    unsigned char *p;
    size_t i;

    if (id < 0)
        return -1;
    tu_register_shm(id, key);
    p = shmat(id, NULL, 0);
    if (p == (void *)-1)
        return -1;
    if (fill >= 0) {
        memset(p, fill, size);
    } else {
        unsigned seed = (unsigned)getpid() ^ (unsigned)key;
        for (i = 0; i < size; i++) {
            seed = seed * 1103515245u + 12345u;
            p[i] = (unsigned char)(seed >> 16);
        }
        p[0] = 'X'; /* never this library's magic by chance */
    }
    shmdt(p);
    return id;
}

int tu_shm_peek(int shmid, void *out, size_t n)
{
    void *p = shmat(shmid, NULL, SHM_RDONLY);

    if (p == (void *)-1)
        return -1;
    memcpy(out, p, n);
    shmdt(p);
    return 0;
}

/* ---- processes ---------------------------------------------------------- */

pid_t tu_fork(tu_child_fn fn, void *arg)
{
    pid_t pid = fork();

    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* A child that hangs (waiting for a lock that never comes) must not
         * outlive the test. */
        signal(SIGALRM, SIG_DFL);
        alarm(30);
        _exit(fn(arg));
    }
    if (tu_nkids < TU_MAX_KIDS)
        tu_kids[tu_nkids++] = pid;
    return pid;
}

static void tu_forget_kid(pid_t pid)
{
    int i;

    for (i = 0; i < tu_nkids; i++) {
        if (tu_kids[i] == pid)
            tu_kids[i] = 0;
    }
}

int tu_wait(pid_t pid, long timeout_ms)
{
    long long end = tu_now_ms() + timeout_ms;
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            tu_forget_kid(pid);
            return -2;
        }
        if (tu_now_ms() > end) {
            tu_kill(pid);
            return -1;
        }
        tu_sleep_ms(2);
    }
    tu_forget_kid(pid);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 1000 + WTERMSIG(status);
    return -3;
}

void tu_kill(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    tu_forget_kid(pid);
}

void tu_pipe(int fd[2])
{
    cr_assert(pipe(fd) == 0, "pipe: %s", strerror(errno));
}

int tu_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int tu_read_all(int fd, void *p, size_t n, long timeout_ms)
{
    long long end = tu_now_ms() + timeout_ms;
    char *c = p;

    while (n > 0) {
        struct pollfd pfd;
        long long left = end - tu_now_ms();
        ssize_t r;
        int pr;

        if (left < 0)
            return -1;
        pfd.fd = fd;
        pfd.events = POLLIN;
        pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return -1;
        r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

int tu_post(int fd)
{
    return tu_write_all(fd, "x", 1);
}

int tu_take(int fd, long timeout_ms)
{
    char c;

    return tu_read_all(fd, &c, 1, timeout_ms);
}

long long tu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tu_sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int tu_wait_lock_waiters(key_t key, int n, long timeout_ms)
{
    long long end = tu_now_ms() + timeout_ms;
    int id = semget(key, 0, 0);

    if (id < 0)
        return -1;
    for (;;) {
        struct semid_ds ds;
        union {
            int val;
            struct semid_ds *buf;
            unsigned short *array;
        } arg;
        unsigned long i;
        int sleepers = 0;

        arg.buf = &ds;
        if (semctl(id, 0, IPC_STAT, arg) != 0)
            return -1;
        for (i = 0; i < (unsigned long)ds.sem_nsems; i++) {
            int c = semctl(id, (int)i, GETNCNT);
            int z = semctl(id, (int)i, GETZCNT);
            if (c > 0)
                sleepers += c;
            if (z > 0)
                sleepers += z;
        }
        if (sleepers >= n)
            return 0;
        if ((unsigned long)ds.sem_nsems > SVS_SEM_T && semctl(id, SVS_SEM_T, GETVAL) >= n)
            return 0;
        if (tu_now_ms() > end)
            return -1;
        tu_sleep_ms(2);
    }
}

/* LeakSanitizer (--enable-sanitizers): Criterion's runner leaks a copy of its
 * arguments, and LeakSanitizer's report at exit would lose the TAP output
 * still buffered.  Suppress Criterion's own leaks only. */
#if defined(__GNUC__)
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:criterion_handle_args\nleak:libcriterion\n";
}
#endif
