/*
 * cases-basic.c - the single-process cases of sysvshm-bench:
 *   1. create+close+unlink and attach+close, against raw SysV, POSIX shm and
 *      Python's multiprocessing SharedMemory, and the same through this
 *      project's Python module sysvshm (both in a subprocess);
 *   2. uncontended lock+unlock, today's lock and the fast lock
 *      (SYSVSHM_FASTLOCK), against a raw semop pair, a process-shared pthread
 *      mutex and a POSIX semaphore, and `with shm.lock()' in Python;
 *   6. attach latency with many other blocks live, and a 4 GiB block.
 *
 * Copyright (c) 2026 The libsysvshm authors.  BSD-2-Clause, see LICENSE.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef HAVE_UNION_SEMUN
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};
#endif

/* Group and variant names, shared with the targets in bench.c. */
const char *G_CREATE = "1. create + close + unlink";
const char *G_ATTACH = "1. attach + close";
const char *G_LOCK = "2. uncontended lock + unlock";
const char *V_LIB = "libsysvshm";
const char *V_RAW = "raw SysV shmget/shmat/shmdt";
const char *V_PY = "Python multiprocessing, sustained";
const char *V_PYB = "Python multiprocessing, next 200 (burst)";
const char *V_PYF = "Python multiprocessing, first in a process";
const char *V_PYSV = "Python sysvshm.SharedMemory";
const char *V_PYSVUC = "Python sysvshm, unlink() before close()";
const char *V_PYLW = "Python sysvshm: with shm.lock()";
const char *V_PYLR = "Python sysvshm: with shm.lock(write=False)";
const char *V_LIB_W = "libsysvshm writer";
const char *V_LIB_R = "libsysvshm reader";
const char *V_LIB_FW = "libsysvshm fast writer (SYSVSHM_FASTLOCK)";
const char *V_LIB_FR = "libsysvshm fast reader (SYSVSHM_FASTLOCK)";
const char *V_RMX = "pthread mutex, process-shared + robust";
const char *V_RAWSEM = "raw semop pair, SEM_UNDO";
const char *V_RAWT_C = "raw SysV + writes the first page";
const char *V_RAWT_A = "raw SysV + reads the first page";
const char *V_RAWSEMT = "raw SysV + first page + 3-sem set (lib's work)";
char scale_group_lib[96];
char scale_lo_variant[96], scale_hi_variant[96];
const char *G_SCALE_LIB = scale_group_lib;
const char *V_SCALE_LO = scale_lo_variant;
const char *V_SCALE_HI = scale_hi_variant;

/* ---- raw and POSIX helpers -------------------------------------------------- */

static int
sem_make(key_t key, int nsems, unsigned short val)
{
    unsigned short v[8];
    union semun arg;
    int id, i;

    id = semget(key, nsems, IPC_CREAT | IPC_EXCL | 0600);
    if (id < 0)
        return -1;
    reg_sem(id);
    for (i = 0; i < nsems; i++)
        v[i] = val;
    arg.array = v;
    if (semctl(id, 0, SETALL, arg) < 0) {
        int saved = errno;

        semctl(id, 0, IPC_RMID);
        unreg_sem(id);
        errno = saved;
        return -1;
    }
    return id;
}

static void
sem_drop(int id)
{
    if (id >= 0) {
        semctl(id, 0, IPC_RMID);
        unreg_sem(id);
    }
}

static void
shm_drop(int id)
{
    if (id >= 0) {
        shmctl(id, IPC_RMID, NULL);
        unreg_shm(id);
    }
}

/* ---- 1. create and attach ---------------------------------------------------- */

struct life {
    char name[64];   /* libsysvshm block */
    char pname[72];  /* POSIX object, "/name" */
    size_t size;
    int flags;
    key_t key;       /* raw SysV */
    int touch;       /* raw: also write (create) or read (attach) the first
                      * page, as the library does with its header and as
                      * any use of a block does */
};

static volatile unsigned char sink;

static int
loop_lib_create(void *c, long n)
{
    struct life *x = c;
    long i;

    for (i = 0; i < n; i++) {
        sysvshm_t *h = sysvshm_create(x->name, x->size, x->flags, 0600);

        if (h == NULL)
            return -1;
        if (sysvshm_unlink(h) < 0) {
            int saved = errno;

            sysvshm_close(h);
            errno = saved;
            return -1;
        }
        if (sysvshm_close(h) < 0)
            return -1;
    }
    return 0;
}

static int
loop_raw_create(void *c, long n)
{
    struct life *x = c;
    long i;

    for (i = 0; i < n; i++) {
        int id = shmget(x->key, x->size, IPC_CREAT | IPC_EXCL | 0600);
        void *p;

        if (id < 0)
            return -1;
        p = shmat(id, NULL, 0);
        if (p == (void *)-1) {
            int saved = errno;

            shmctl(id, IPC_RMID, NULL);
            errno = saved;
            return -1;
        }
        if (x->touch)
            *(volatile unsigned char *)p = 1;
        shmdt(p);
        if (shmctl(id, IPC_RMID, NULL) < 0)
            return -1;
    }
    return 0;
}

/* What the library does for a locked block, written by hand: the segment
 * plus a 3-semaphore set set to zero, both removed. */
static int
loop_rawsem_create(void *c, long n)
{
    struct life *x = c;
    unsigned short v[3] = { 0, 0, 0 };
    union semun arg;
    long i;

    arg.array = v;
    for (i = 0; i < n; i++) {
        int id = shmget(x->key, x->size, IPC_CREAT | IPC_EXCL | 0600);
        int sid;
        void *p;

        if (id < 0)
            return -1;
        p = shmat(id, NULL, 0);
        sid = semget(x->key, 3, IPC_CREAT | IPC_EXCL | 0600);
        if (p == (void *)-1 || sid < 0 || semctl(sid, 0, SETALL, arg) < 0) {
            int saved = errno;

            if (sid >= 0)
                semctl(sid, 0, IPC_RMID);
            if (p != (void *)-1)
                shmdt(p);
            shmctl(id, IPC_RMID, NULL);
            errno = saved;
            return -1;
        }
        if (x->touch)
            *(volatile unsigned char *)p = 1;
        semctl(sid, 0, IPC_RMID);
        shmdt(p);
        if (shmctl(id, IPC_RMID, NULL) < 0)
            return -1;
    }
    return 0;
}

static int
loop_posix_create(void *c, long n)
{
    struct life *x = c;
    long i;

    for (i = 0; i < n; i++) {
        int fd = shm_open(x->pname, O_RDWR | O_CREAT | O_EXCL, 0600);
        void *p;

        if (fd < 0)
            return -1;
        if (ftruncate(fd, (off_t)x->size) < 0 ||
            (p = mmap(NULL, x->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
                MAP_FAILED) {
            int saved = errno;

            close(fd);
            shm_unlink(x->pname);
            errno = saved;
            return -1;
        }
        close(fd);
        munmap(p, x->size);
        if (shm_unlink(x->pname) < 0)
            return -1;
    }
    return 0;
}

static int
loop_lib_attach(void *c, long n)
{
    struct life *x = c;
    long i;

    for (i = 0; i < n; i++) {
        sysvshm_t *h = sysvshm_attach(x->name, x->flags);

        if (h == NULL)
            return -1;
        if (sysvshm_close(h) < 0)
            return -1;
    }
    return 0;
}

static int
loop_raw_attach(void *c, long n)
{
    struct life *x = c;
    long i;

    for (i = 0; i < n; i++) {
        int id = shmget(x->key, 0, 0);
        void *p;

        if (id < 0)
            return -1;
        p = shmat(id, NULL, 0);
        if (p == (void *)-1)
            return -1;
        if (x->touch)
            sink = *(volatile unsigned char *)p;
        if (shmdt(p) < 0)
            return -1;
    }
    return 0;
}

static int
loop_posix_attach(void *c, long n)
{
    struct life *x = c;
    long i;

    for (i = 0; i < n; i++) {
        int fd = shm_open(x->pname, O_RDWR, 0);
        void *p;

        if (fd < 0)
            return -1;
        p = mmap(NULL, x->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
            return -1;
        munmap(p, x->size);
    }
    return 0;
}

/* ---- Python ------------------------------------------------------------------- */

struct pyrun {
    const char *what;      /* bench-python.py --what: "create", "attach"
                            * (multiprocessing), "sv-create", "sv-attach",
                            * "sv-lockw", "sv-lockr", "sv-lockw-fast"
                            * (sysvshm) */
    struct result *first;  /* filled alongside the sustained result; */
    struct result *burst;  /* NULL for the sysvshm ones (no tracker) */
};

static char py_version[64];

static int
have_python(void)
{
    return opt.python != NULL && opt.python[0] != '\0' && access(opt.python, X_OK) == 0 &&
           opt.pyscript != NULL && access(opt.pyscript, R_OK) == 0;
}

/*
 * Run bench-python.py once for x->what; return its sustained ns/op, and
 * (multiprocessing) add to x->first the cost of the process's first
 * operation (it starts Python's resource tracker) and to x->burst the ns/op
 * of the next ones (while the tracker keeps up).  The script times its own
 * loops, so interpreter start-up is not counted.  The sysvshm rows import
 * the module from opt.pylib (the build tree's), and are skipped, with the
 * script's reason, when it is not there.  The script names its sysvshm
 * block <prefix>-<what>: it is registered here, so that it is removed even
 * if the script is killed.
 */
static double
python_run(const struct pyrun *x, struct result *r)
{
    const char *what = x->what;
    char size[32], ms[32], prefix[64], line[256], bkey[32], fkey[32];
    char block[96], skip[256];
    int fd[2], st, sv = strncmp(what, "sv-", 3) == 0;
    double ns = -1, bns = -1, fns = -1;
    pid_t pid;
    FILE *f;

    snprintf(size, sizeof size, "%lu", (unsigned long)opt.size);
    snprintf(ms, sizeof ms, "%ld", opt.time_ms);
    snprintf(bkey, sizeof bkey, "%s-burst", what);
    snprintf(fkey, sizeof fkey, "%s-first", what);
    bench_name(prefix, sizeof prefix, "py");
    snprintf(block, sizeof block, "%s-%s", prefix, what);
    skip[0] = '\0';
    if (pipe(fd) < 0) {
        res_note(r, 0, "skipped: pipe: %s", strerror(errno));
        return -1;
    }
    if (sv)
        reg_block(block);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        res_note(r, 0, "skipped: fork: %s", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        if (sv)
            unreg_block(block);
        return -1;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl(opt.python, opt.python, opt.pyscript, "--what", what, "--size", size,
              "--target-ms", ms, "--prefix", prefix, "--sysvshm-path",
              opt.pylib != NULL ? opt.pylib : "", (char *)NULL);
        fprintf(stderr, "sysvshm-bench: %s: %s\n", opt.python, strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    f = fdopen(fd[0], "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        char key[32];
        double v;

        if (strncmp(line, "version ", 8) == 0) {
            snprintf(py_version, sizeof py_version, "%.40s", line + 8);
            py_version[strcspn(py_version, "\n")] = '\0';
        } else if (strncmp(line, "skip ", 5) == 0) {
            snprintf(skip, sizeof skip, "%s", line + 5);
            skip[strcspn(skip, "\n")] = '\0';
        } else if (sscanf(line, "%31s %lf", key, &v) == 2) {
            if (strcmp(key, what) == 0)
                ns = v;
            else if (strcmp(key, bkey) == 0)
                bns = v;
            else if (strcmp(key, fkey) == 0)
                fns = v;
        }
    }
    if (f != NULL)
        fclose(f);
    else
        close(fd[0]);
    st = reap(pid);
    if (sv)
        drop_block(block); /* gone already, unless the script was killed */
    if (st == 3 && skip[0] != '\0') {
        res_note(r, 0, "skipped: %s", skip);
        return -1;
    }
    if (st != 0 || ns <= 0 || (x->burst != NULL && bns <= 0) ||
        (x->first != NULL && fns <= 0)) {
        res_note(r, 0, "skipped: %s --what %s failed (exit status %d)", opt.pyscript,
                 what, st);
        if (x->burst != NULL)
            res_note(x->burst, 0, "skipped: as above");
        if (x->first != NULL)
            res_note(x->first, 0, "skipped: as above");
        return -1;
    }
    if (x->burst != NULL)
        res_add(x->burst, bns);
    if (x->first != NULL)
        res_add(x->first, fns);
    return ns;
}

static double
rep_python(void *c, struct result *r)
{
    return python_run(c, r);
}

const char *
python_version(void)
{
    return py_version[0] ? py_version : "";
}

static void
python_note(struct result *r)
{
    if (opt.python == NULL || opt.python[0] == '\0')
        res_note(r, 0, "skipped: no python3 (configure found none; --python PATH)");
    else if (access(opt.python, X_OK) != 0)
        res_note(r, 0, "skipped: %s: %s", opt.python, strerror(errno));
    else
        res_note(r, 0, "skipped: %s: %s", opt.pyscript, strerror(errno));
}

/* A row of a sysvshm Python loop (x->what), added to v[*nv]. */
static void
add_python_sv(struct variant *v, int *nv, struct pyrun *x, const char *group,
              const char *variant, const char *what)
{
    memset(x, 0, sizeof *x);
    x->what = what;
    v[*nv].res = res_new(group, variant, U_NS, 0);
    v[*nv].rep = rep_python;
    v[*nv].ctx = x;
    if (!have_python())
        python_note(v[*nv].res);
    (*nv)++;
}

void
case_create_attach(void)
{
    struct life lib, nolock, raw, rawt;
    struct pyrun pyc, pya, svc, svcu, sva;
    struct variant v[12];
    int nv, id = -1, fd = -1;
    sysvshm_t *h = NULL;
    char sz[64];

    memset(&lib, 0, sizeof lib);
    bench_name(lib.name, sizeof lib.name, "life");
    snprintf(lib.pname, sizeof lib.pname, "/%s", lib.name);
    lib.size = opt.size;
    nolock = lib;
    bench_name(nolock.name, sizeof nolock.name, "life-nolock");
    nolock.flags = SYSVSHM_NOLOCK;
    raw = lib;
    raw.key = bench_free_key();
    rawt = raw;
    rawt.touch = 1;
    snprintf(sz, sizeof sz, "%lu B", (unsigned long)opt.size);

    reg_block(lib.name);
    reg_block(nolock.name);
    reg_posix(lib.pname);
    if (opt.cases & CASE_CREATE) {
        progress("case 1: create + close + unlink, %s blocks", sz);
        memset(v, 0, sizeof v);
        nv = 0;
        v[nv].res = res_new(G_CREATE, V_RAW, U_NS, 1);
        v[nv].loop = loop_raw_create;
        v[nv++].ctx = &raw;
        v[nv].res = res_new(G_CREATE, V_LIB, U_NS, 0);
        v[nv].loop = loop_lib_create;
        v[nv++].ctx = &lib;
        v[nv].res = res_new(G_CREATE, "libsysvshm, SYSVSHM_NOLOCK", U_NS, 0);
        v[nv].loop = loop_lib_create;
        v[nv++].ctx = &nolock;
        v[nv].res = res_new(G_CREATE, V_RAWT_C, U_NS, 0);
        v[nv].loop = loop_raw_create;
        v[nv++].ctx = &rawt;
        v[nv].res = res_new(G_CREATE, V_RAWSEMT, U_NS, 0);
        v[nv].loop = loop_rawsem_create;
        v[nv++].ctx = &rawt;
        v[nv].res = res_new(G_CREATE, "POSIX shm_open+ftruncate+mmap", U_NS, 0);
        v[nv].loop = loop_posix_create;
        v[nv++].ctx = &lib;
        v[nv].res = res_new(G_CREATE, V_PY, U_NS, 0);
        v[nv].rep = rep_python;
        v[nv].ctx = &pyc;
        pyc.what = "create";
        pyc.burst = res_new(G_CREATE, V_PYB, U_NS, 0);
        pyc.first = res_new(G_CREATE, V_PYF, U_NS, 0);
        if (!have_python()) {
            python_note(v[nv].res);
            python_note(pyc.burst);
            python_note(pyc.first);
        }
        nv++;
        add_python_sv(v, &nv, &svc, G_CREATE, V_PYSV, "sv-create");
        /* The C rows' order: close() then unlink() attaches again. */
        add_python_sv(v, &nv, &svcu, G_CREATE, V_PYSVUC, "sv-create-uc");
        run_group(v, nv);
    }

    if ((opt.cases & CASE_ATTACH) && !g_stop) {
        progress("case 1: attach + close, %s blocks", sz);
        h = sysvshm_create(lib.name, lib.size, 0, 0600);
        id = shmget(raw.key, raw.size, IPC_CREAT | IPC_EXCL | 0600);
        if (id >= 0)
            reg_shm(id);
        fd = shm_open(lib.pname, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0 && ftruncate(fd, (off_t)lib.size) < 0) {
            close(fd);
            fd = -1;
        }
        memset(v, 0, sizeof v);
        nv = 0;
        v[nv].res = res_new(G_ATTACH, V_RAW, U_NS, 1);
        v[nv].loop = loop_raw_attach;
        v[nv++].ctx = &raw;
        if (id < 0)
            res_note(v[nv - 1].res, 0, "skipped: shmget: %s", strerror(errno));
        v[nv].res = res_new(G_ATTACH, V_RAWT_A, U_NS, 0);
        v[nv].loop = loop_raw_attach;
        v[nv++].ctx = &rawt;
        if (id < 0)
            res_note(v[nv - 1].res, 0, "skipped: shmget: %s", strerror(errno));
        v[nv].res = res_new(G_ATTACH, V_LIB, U_NS, 0);
        v[nv].loop = loop_lib_attach;
        v[nv++].ctx = &lib;
        if (h == NULL)
            res_note(v[nv - 1].res, 0, "skipped: create: %s", strerror(errno));
        v[nv].res = res_new(G_ATTACH, "POSIX shm_open+mmap", U_NS, 0);
        v[nv].loop = loop_posix_attach;
        v[nv++].ctx = &lib;
        if (fd < 0)
            res_note(v[nv - 1].res, 0, "skipped: shm_open: %s", strerror(errno));
        v[nv].res = res_new(G_ATTACH, V_PY, U_NS, 0);
        v[nv].rep = rep_python;
        v[nv].ctx = &pya;
        pya.what = "attach";
        pya.burst = res_new(G_ATTACH, V_PYB, U_NS, 0);
        pya.first = res_new(G_ATTACH, V_PYF, U_NS, 0);
        if (!have_python()) {
            python_note(v[nv].res);
            python_note(pya.burst);
            python_note(pya.first);
        }
        nv++;
        add_python_sv(v, &nv, &sva, G_ATTACH, V_PYSV, "sv-attach");
        run_group(v, nv);
    }

    if (h != NULL)
        sysvshm_close(h);
    if (fd >= 0)
        close(fd);
    shm_drop(id);
    drop_block(lib.name);
    drop_block(nolock.name);
    shm_unlink(lib.pname);
    unreg_posix(lib.pname);
}

/* ---- 2. lock + unlock ------------------------------------------------------------- */

struct lk {
    sysvshm_t *h;
    int how;
    int semid;
    pthread_mutex_t *mutex;
    sem_t *psem;
};

static int
loop_lib_lock(void *c, long n)
{
    struct lk *x = c;
    long i;

    for (i = 0; i < n; i++) {
        if (sysvshm_lock(x->h, x->how, -1) < 0)
            return -1;
        if (sysvshm_unlock(x->h) < 0)
            return -1;
    }
    return 0;
}

static int
loop_raw_semop(void *c, long n)
{
    struct lk *x = c;
    struct sembuf p = { 0, -1, SEM_UNDO }, v = { 0, 1, SEM_UNDO };
    long i;

    for (i = 0; i < n; i++) {
        if (semop(x->semid, &p, 1) < 0)
            return -1;
        if (semop(x->semid, &v, 1) < 0)
            return -1;
    }
    return 0;
}

/* The library's writer operations (lock.c), without the library around them. */
static int
loop_raw_3op(void *c, long n)
{
    struct lk *x = c;
    struct sembuf lk[3] = {
        { 0, 0, IPC_NOWAIT }, { 1, 0, IPC_NOWAIT }, { 0, 1, SEM_UNDO | IPC_NOWAIT }
    };
    struct sembuf un = { 0, -1, SEM_UNDO | IPC_NOWAIT };
    long i;

    for (i = 0; i < n; i++) {
        if (semop(x->semid, lk, 3) < 0)
            return -1;
        if (semop(x->semid, &un, 1) < 0)
            return -1;
    }
    return 0;
}

static int
loop_mutex(void *c, long n)
{
    struct lk *x = c;
    long i;

    for (i = 0; i < n; i++) {
        int e = pthread_mutex_lock(x->mutex);

        if (e != 0) {
            errno = e;
            return -1;
        }
        pthread_mutex_unlock(x->mutex);
    }
    return 0;
}

static int
loop_psem(void *c, long n)
{
    struct lk *x = c;
    long i;

    for (i = 0; i < n; i++) {
        if (sem_wait(x->psem) < 0)
            return -1;
        if (sem_post(x->psem) < 0)
            return -1;
    }
    return 0;
}

static int
mutex_init(pthread_mutex_t *m, int robust)
{
    pthread_mutexattr_t a;
    int e;

    if ((e = pthread_mutexattr_init(&a)) != 0)
        return e;
    e = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
#if defined(PTHREAD_MUTEX_ROBUST) || defined(_POSIX_THREADS) && _POSIX_VERSION >= 200809L
    if (e == 0 && robust)
        e = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
#else
    if (e == 0 && robust)
        e = ENOTSUP;
#endif
    if (e == 0)
        e = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return e;
}

void
case_lock(void)
{
    char name[64], fname[64], sname[64];
    sysvshm_t *h, *fh, *sh;
    struct lk w, r, fw, fr, raw, raw3, mx, rmx, ps;
    struct pyrun pyw, pyr, pywf;
    struct variant v[13];
    unsigned char *buf;
    int nv = 0, e, fast = -1, fast_errno = 0;

    progress("case 2: uncontended lock + unlock");
    bench_name(name, sizeof name, "lock");
    bench_name(fname, sizeof fname, "lock-fast");
    bench_name(sname, sizeof sname, "lock-sync");
    reg_block(name);
    reg_block(fname);
    reg_block(sname);
    h = sysvshm_create(name, opt.size, 0, 0600);
    fh = sysvshm_create(fname, opt.size, SYSVSHM_FASTLOCK, 0600);
    if (fh == NULL || (fast = bench_is_fast(fh)) < 0)
        fast_errno = errno;
    /* The mutexes and the POSIX semaphore live in a block too, as they would
     * in a program that uses this library with its own locking. */
    sh = sysvshm_create(sname, 4096, SYSVSHM_NOLOCK, 0600);
    if (h == NULL || sh == NULL) {
        struct result *x = res_new(G_LOCK, V_RAWSEM, U_NS, 1);

        res_note(x, 0, "skipped: create: %s", strerror(errno));
        goto out;
    }
    buf = sysvshm_buf(sh);
    memset(&w, 0, sizeof w);
    w.h = h;
    w.how = SYSVSHM_WRITE;
    r = w;
    r.how = SYSVSHM_READ;
    fw = w;
    fw.h = fh;
    fr = fw;
    fr.how = SYSVSHM_READ;
    raw = w;
    raw.semid = sem_make(bench_free_key(), 1, 1);
    raw3 = w;
    raw3.semid = sem_make(bench_free_key(), 3, 0);
    mx = w;
    mx.mutex = (pthread_mutex_t *)(void *)buf;
    rmx = w;
    rmx.mutex = (pthread_mutex_t *)(void *)(buf + 512);
    ps = w;
    ps.psem = (sem_t *)(void *)(buf + 1024);

    memset(v, 0, sizeof v);
    v[nv].res = res_new(G_LOCK, V_RAWSEM, U_NS, 1);
    v[nv].loop = loop_raw_semop;
    v[nv++].ctx = &raw;
    if (raw.semid < 0)
        res_note(v[nv - 1].res, 0, "skipped: semget: %s", strerror(errno));
    v[nv].res = res_new(G_LOCK, V_LIB_W, U_NS, 0);
    v[nv].res->ref2 = 1; /* the Python lock's target is against it */
    v[nv].loop = loop_lib_lock;
    v[nv++].ctx = &w;
    v[nv].res = res_new(G_LOCK, V_LIB_R, U_NS, 0);
    v[nv].loop = loop_lib_lock;
    v[nv++].ctx = &r;
    v[nv].res = res_new(G_LOCK, V_LIB_FW, U_NS, 0);
    v[nv].loop = loop_lib_lock;
    v[nv++].ctx = &fw;
    v[nv].res = res_new(G_LOCK, V_LIB_FR, U_NS, 0);
    v[nv].loop = loop_lib_lock;
    v[nv++].ctx = &fr;
    if (fast != 1) {
        if (fast < 0)
            res_note(v[nv - 2].res, 0, "skipped: %s: %s", fh ? "header" : "create",
                     strerror(fast_errno));
        else
            res_note(v[nv - 2].res, 0, "skipped: a version 1 block was made "
                     "(a build without atomics)");
        res_note(v[nv - 1].res, 0, "skipped: as above");
    }
    v[nv].res = res_new(G_LOCK, "raw semop, the library's 3-op writer set", U_NS, 0);
    v[nv].loop = loop_raw_3op;
    v[nv++].ctx = &raw3;
    if (raw3.semid < 0)
        res_note(v[nv - 1].res, 0, "skipped: semget: %s", strerror(errno));
    v[nv].res = res_new(G_LOCK, "pthread mutex, process-shared", U_NS, 0);
    v[nv].loop = loop_mutex;
    v[nv++].ctx = &mx;
    if ((e = mutex_init(mx.mutex, 0)) != 0)
        res_note(v[nv - 1].res, 0, "skipped: %s", strerror(e));
    v[nv].res = res_new(G_LOCK, V_RMX, U_NS, 0);
    v[nv].loop = loop_mutex;
    v[nv++].ctx = &rmx;
    if ((e = mutex_init(rmx.mutex, 1)) != 0)
        res_note(v[nv - 1].res, 0, "skipped: %s", strerror(e));
    v[nv].res = res_new(G_LOCK, "POSIX semaphore, process-shared", U_NS, 0);
    v[nv].loop = loop_psem;
    v[nv++].ctx = &ps;
    if (sem_init(ps.psem, 1, 1) < 0)
        res_note(v[nv - 1].res, 0, "skipped: sem_init: %s", strerror(errno));
    add_python_sv(v, &nv, &pyw, G_LOCK, V_PYLW, "sv-lockw");
    add_python_sv(v, &nv, &pyr, G_LOCK, V_PYLR, "sv-lockr");
    add_python_sv(v, &nv, &pywf, G_LOCK, "Python sysvshm: with shm.lock(), fast lock",
                  "sv-lockw-fast");
    run_group(v, nv);
    sem_drop(raw.semid);
    sem_drop(raw3.semid);

out:
    if (h != NULL) {
        sysvshm_unlink(h);
        sysvshm_close(h);
    }
    if (fh != NULL) {
        sysvshm_unlink(fh);
        sysvshm_close(fh);
    }
    if (sh != NULL) {
        sysvshm_unlink(sh);
        sysvshm_close(sh);
    }
    unreg_block(name);
    unreg_block(fname);
    unreg_block(sname);
}

/* ---- 6. scale ------------------------------------------------------------------------ */

static long
read_long_file(const char *path, long dflt)
{
    FILE *f = fopen(path, "r");
    long long v;

    if (f == NULL)
        return dflt;
    if (fscanf(f, "%lld", &v) != 1)
        v = dflt;
    fclose(f);
    return v > 0x7fffffffffffLL || v > (long long)(~0UL >> 1) ? (long)(0x7fffffffffffULL < (~0UL >> 1) ? 0x7fffffffffffULL : (~0UL >> 1)) : (long)v;
}

/* Segments in use on the host now (all users), or 0 if we cannot tell. */
static long
shm_in_use(void)
{
    FILE *f = fopen("/proc/sysvipc/shm", "r");
    long n = -1;
    int c;

    if (f == NULL)
        return 0;
    while ((c = getc(f)) != EOF)
        if (c == '\n')
            n++;
    fclose(f);
    return n > 0 ? n : 0;
}

struct filler {
    long n;
    char (*names)[48];
};

static int
fill_to(struct filler *f, long level)
{
    while (f->n < level && !g_stop) {
        char tag[32];
        sysvshm_t *h;

        snprintf(tag, sizeof tag, "fill-%ld", f->n);
        bench_name(f->names[f->n], sizeof f->names[0], tag);
        reg_block(f->names[f->n]);
        h = sysvshm_create(f->names[f->n], 1, SYSVSHM_NOLOCK, 0600);
        if (h == NULL) {
            unreg_block(f->names[f->n]);
            return -1;
        }
        sysvshm_close(h);
        f->n++;
    }
    while (f->n > level) {
        f->n--;
        drop_block(f->names[f->n]);
    }
    return g_stop ? -1 : 0;
}

void
case_scale(void)
{
    const char *g_raw = "6. scale: raw SysV attach, other blocks live";
    struct result *lr[BENCH_MAX_LIST], *rr[BENCH_MAX_LIST];
    long levels[BENCH_MAX_LIST] = { 0 }, shmmni, in_use;
    struct filler f;
    struct life lib, raw;
    struct variant v[BENCH_MAX_LIST][2];
    sysvshm_t *h;
    int nl, i, j, id, rep;

    snprintf(scale_group_lib, sizeof scale_group_lib,
             "6. scale: libsysvshm attach + close, other blocks live");
    /* Ascending, without duplicates. */
    nl = 0;
    for (i = 0; i < opt.nscale; i++) {
        long x = opt.scale[i];

        for (j = nl; j > 0 && levels[j - 1] > x; j--)
            levels[j] = levels[j - 1];
        if (j > 0 && levels[j - 1] == x)
            continue;
        memmove(&levels[j + 1], &levels[j], (size_t)(nl - j) * sizeof levels[0]);
        levels[j] = x;
        nl++;
    }
    progress("case 6: attach latency with %ld .. %ld other blocks live", levels[0],
             levels[nl - 1]);
    shmmni = read_long_file("/proc/sys/kernel/shmmni", 0);
    in_use = shm_in_use();
    for (i = 0; i < nl; i++) {
        char vn[64];

        snprintf(vn, sizeof vn, "libsysvshm, %ld other blocks", levels[i]);
        lr[i] = res_new(scale_group_lib, vn, U_NS, i == 0);
        snprintf(vn, sizeof vn, "raw SysV, %ld other blocks", levels[i]);
        rr[i] = res_new(g_raw, vn, U_NS, i == 0);
        /* Leave room for the other users of this machine: 2 segments of
         * ours, and 32 to spare. */
        if (shmmni > 0 && levels[i] + 2 + 32 > shmmni - in_use) {
            res_note(lr[i], 0, "skipped: needs %ld segments; SHMMNI %ld, %ld in use",
                     levels[i] + 2, shmmni, in_use);
            res_note(rr[i], 0, "skipped: as above");
            nl = i + (i == 0); /* keep at least the first row for its note */
            break;
        }
    }
    if (nl > 0) {
        snprintf(scale_lo_variant, sizeof scale_lo_variant, "%s", lr[0]->variant);
        snprintf(scale_hi_variant, sizeof scale_hi_variant, "%s", lr[nl - 1]->variant);
    }

    memset(&lib, 0, sizeof lib);
    bench_name(lib.name, sizeof lib.name, "scale");
    lib.size = opt.size;
    raw = lib;
    raw.key = bench_free_key();
    f.n = 0;
    f.names = calloc((size_t)levels[nl - 1] + 1, sizeof f.names[0]);
    reg_block(lib.name);
    h = sysvshm_create(lib.name, lib.size, 0, 0600);
    id = shmget(raw.key, raw.size, IPC_CREAT | IPC_EXCL | 0600);
    if (id >= 0)
        reg_shm(id);
    if (h == NULL || id < 0 || f.names == NULL) {
        res_note(lr[0], 0, "skipped: %s", strerror(errno));
        goto out;
    }
    /* Every repetition visits every level, up and down in turn, so that the
     * levels are compared a fraction of a second apart: load on a shared
     * machine comes and goes over seconds.  Moving between levels costs
     * making or removing the blocks in between (~50 us each). */
    memset(v, 0, sizeof v);
    for (i = 0; i < nl; i++) {
        v[i][0].res = lr[i];
        v[i][0].loop = loop_lib_attach;
        v[i][0].ctx = &lib;
        v[i][1].res = rr[i];
        v[i][1].loop = loop_raw_attach;
        v[i][1].ctx = &raw;
    }
    calibrate_group(v[0], 2);
    for (i = 1; i < nl; i++) {
        v[i][0].n = v[0][0].n;
        v[i][1].n = v[0][1].n;
    }
    for (rep = 0; rep < opt.reps && !g_stop; rep++) {
        for (j = 0; j < nl && !g_stop; j++) {
            i = rep % 2 ? nl - 1 - j : j;
            if (lr[i]->note[0] != '\0')
                continue;
            if (fill_to(&f, levels[i]) < 0) {
                res_note(lr[i], 0, "skipped: only %ld blocks could be made: %s", f.n,
                         strerror(errno));
                res_note(rr[i], 0, "skipped: as above");
                continue;
            }
            if (opt.verbose)
                progress("  repetition %d: %ld other blocks", rep + 1, f.n);
            run_reps(v[i], 2, 1, rep);
        }
    }

out:
    fill_to(&f, 0);
    free(f.names);
    if (h != NULL) {
        sysvshm_unlink(h);
        sysvshm_close(h);
    }
    unreg_block(lib.name);
    shm_drop(id);
}

/* ---- 6. a big block ------------------------------------------------------------------ */

static long
meminfo_kib(const char *field)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = atol(line + n + 1);
    fclose(f);
    return v;
}

void
case_big(void)
{
    const char *gc = "6. big block: create + close + unlink";
    const char *ga = "6. big block: attach + close";
    struct life small, big, rawbig, rawbigt;
    struct variant v[4];
    struct result *rows[8];
    char vn[64];
    double bytes;
    long shmmax, shmall, avail, page = sysconf(_SC_PAGESIZE);
    sysvshm_t *hs = NULL, *hb = NULL;
    int id = -1, i;
    const char *why = NULL;

    if (opt.big_gib <= 0)
        return;
    progress("case 6: a %ld GiB block", opt.big_gib);
    bytes = (double)opt.big_gib * 1073741824.0;
    memset(&small, 0, sizeof small);
    bench_name(small.name, sizeof small.name, "big-small");
    small.size = opt.size;
    big = small;
    bench_name(big.name, sizeof big.name, "big");
    rawbig = small;
    rawbig.key = bench_free_key();

    snprintf(vn, sizeof vn, "libsysvshm, %lu B", (unsigned long)opt.size);
    rows[0] = res_new(gc, vn, U_NS, 1);
    rows[3] = res_new(ga, vn, U_NS, 1);
    snprintf(vn, sizeof vn, "libsysvshm, %ld GiB", opt.big_gib);
    rows[1] = res_new(gc, vn, U_NS, 0);
    rows[4] = res_new(ga, vn, U_NS, 0);
    snprintf(vn, sizeof vn, "raw SysV, %ld GiB", opt.big_gib);
    rows[2] = res_new(gc, vn, U_NS, 0);
    rows[5] = res_new(ga, vn, U_NS, 0);
    snprintf(vn, sizeof vn, "raw SysV, %ld GiB, writes the first page", opt.big_gib);
    rows[6] = res_new(gc, vn, U_NS, 0);
    snprintf(vn, sizeof vn, "raw SysV, %ld GiB, reads the first page", opt.big_gib);
    rows[7] = res_new(ga, vn, U_NS, 0);

    shmmax = read_long_file("/proc/sys/kernel/shmmax", -1);
    shmall = read_long_file("/proc/sys/kernel/shmall", -1);
    avail = meminfo_kib("MemAvailable");
    if (sizeof(size_t) < 8 || bytes >= (double)((size_t)-1 / 2))
        why = "size_t is too small";
    else if (shmmax >= 0 && (double)shmmax < bytes + 4096)
        why = "SHMMAX is below the size";
    else if (shmall >= 0 && (double)shmall * (double)page < bytes + 4096)
        why = "SHMALL is below the size";
    else if (avail >= 0 && (double)avail * 1024.0 < bytes * 1.25)
        why = "not enough available memory";
    if (why != NULL) {
        for (i = 0; i < 8; i++)
            res_note(rows[i], 0, "skipped: %s", why);
        return;
    }
    big.size = rawbig.size = (size_t)bytes;
    rawbigt = rawbig;
    rawbigt.touch = 1;

    memset(v, 0, sizeof v);
    reg_block(small.name);
    reg_block(big.name);
    v[0].res = rows[0]; v[0].loop = loop_lib_create; v[0].ctx = &small;
    v[1].res = rows[1]; v[1].loop = loop_lib_create; v[1].ctx = &big;
    v[2].res = rows[2]; v[2].loop = loop_raw_create; v[2].ctx = &rawbig;
    v[3].res = rows[6]; v[3].loop = loop_raw_create; v[3].ctx = &rawbigt;
    run_group(v, 4);
    if (g_stop)
        goto out;

    hs = sysvshm_create(small.name, small.size, 0, 0600);
    hb = sysvshm_create(big.name, big.size, 0, 0600);
    id = shmget(rawbig.key, rawbig.size, IPC_CREAT | IPC_EXCL | 0600);
    if (id >= 0)
        reg_shm(id);
    if (hs == NULL || hb == NULL || id < 0) {
        for (i = 3; i < 8; i++)
            if (i != 6)
                res_note(rows[i], 0, "skipped: %s", strerror(errno));
        goto out;
    }
    rawbigt.key = rawbig.key; /* the segment made above */
    v[0].res = rows[3]; v[0].loop = loop_lib_attach;
    v[1].res = rows[4]; v[1].loop = loop_lib_attach;
    v[2].res = rows[5]; v[2].loop = loop_raw_attach;
    v[3].res = rows[7]; v[3].loop = loop_raw_attach;
    run_group(v, 4);

out:
    if (hs != NULL)
        sysvshm_close(hs);
    if (hb != NULL)
        sysvshm_close(hb);
    drop_block(small.name);
    drop_block(big.name);
    shm_drop(id);
}
