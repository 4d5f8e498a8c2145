/*
 * lock.c - the writer/reader lock on a block's semaphore set.
 *
 * Semaphores (svs_int.h): W is 1 while a writer holds the lock, R counts
 * readers, T counts writers waiting.  Every change is made with SEM_UNDO, so
 * the kernel undoes it when a holder or a waiter dies.
 *   writer:  W==0, R==0, W+1        (one semop when uncontended)
 *   waiting writer: T+1, then W==0, R==0, W+1, T-1 in one semop
 *   reader:  W==0, T==0, R+1        (a waiting writer holds new readers back)
 * A writer also marks the header's `writer' field while it holds the lock;
 * the kernel cannot undo that, so a mark found by the next locker means the
 * last writer died holding the lock (SYSVSHM_RECOVERED).
 */
#include "svs_int.h"

#include <errno.h>

int
svs_sem_init(int semid)
{
    /* Zeros for either size of set: SETALL reads as many as the set has. */
    unsigned short v[SVS_NSEMS_FAST] = { 0 };
    union semun arg;

#if defined(__linux__) && !defined(SVS_FORCE_SETALL)
    /* POSIX leaves a new set's values indeterminate, but Linux makes every
     * new set zeroed and documents it (semget(2)); zeros are what we want,
     * and the SETALL would cost a third of the set's creation. */
    (void)semid;
    (void)v;
    (void)arg;
    return 0;
#else
    /* Only the creator ever does this, before the block is READY: a SETALL
     * on a set in use would wipe every process's SEM_UNDO adjustments. */
    arg.array = v;
    return semctl(semid, 0, SETALL, arg);
#endif
}

int
svs_sem_error(void)
{
    if (errno == EINVAL || errno == EIDRM)
        errno = EIDRM; /* the set was removed: the block was unlinked */
    return -1;
}

/*
 * semop that waits at most timeout_ms (< 0: for ever) counted from `start`,
 * and carries on after signals: Linux never restarts semop after a handler,
 * whatever SA_RESTART says.
 */
static int
sem_wait_ops(int semid, struct sembuf *ops, size_t n, long timeout_ms,
             long long start)
{
    for (;;) {
        int rc;

        if (timeout_ms < 0) {
            rc = semop(semid, ops, n);
        } else {
            long long left = (long long)timeout_ms - (svs_now_ms() - start);

            if (left <= 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            rc = svs_semop_timed(semid, ops, n, (long)left);
        }
        if (rc == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            errno = ETIMEDOUT;
            return -1;
        }
        return svs_sem_error();
    }
}

static int
lock_write(sysvshm_t *h, long timeout_ms, long long start)
{
    struct sembuf try_ops[3] = {
        { SVS_SEM_W, 0, IPC_NOWAIT },
        { SVS_SEM_R, 0, IPC_NOWAIT },
        { SVS_SEM_W, 1, SEM_UNDO | IPC_NOWAIT },
    };
    struct sembuf announce = { SVS_SEM_T, 1, SEM_UNDO };
    struct sembuf retract = { SVS_SEM_T, -1, SEM_UNDO | IPC_NOWAIT };
    struct sembuf wait_ops[4] = {
        { SVS_SEM_W, 0, 0 },
        { SVS_SEM_R, 0, 0 },
        { SVS_SEM_W, 1, SEM_UNDO },
        { SVS_SEM_T, -1, SEM_UNDO },
    };
    int saved;

    if (semop(h->semid, try_ops, 3) == 0)
        return 0;
    if (errno != EAGAIN)
        return svs_sem_error();
    if (timeout_ms == 0) {
        errno = EBUSY;
        return -1;
    }
    while (semop(h->semid, &announce, 1) < 0) {
        if (errno != EINTR)
            return svs_sem_error();
    }
    if (sem_wait_ops(h->semid, wait_ops, 4, timeout_ms, start) == 0)
        return 0;
    saved = errno;
    if (saved != EIDRM)
        (void)semop(h->semid, &retract, 1);
    errno = saved;
    return -1;
}

/* A semaphore holds at most SEMVMX (32767 on most systems): one reader more
 * than that fails with ERANGE, which is no error of the caller's but a
 * resource running out -- EAGAIN, as for other temporary limits. */
static int
reader_limit(void)
{
    if (errno == ERANGE)
        errno = EAGAIN;
    return -1;
}

static int
lock_read(sysvshm_t *h, long timeout_ms, long long start)
{
    struct sembuf ops[3] = {
        { SVS_SEM_W, 0, IPC_NOWAIT },
        { SVS_SEM_T, 0, IPC_NOWAIT },
        { SVS_SEM_R, 1, SEM_UNDO | IPC_NOWAIT },
    };

    if (semop(h->semid, ops, 3) == 0)
        return 0;
    if (errno == ERANGE)
        return reader_limit();
    if (errno != EAGAIN)
        return svs_sem_error();
    if (timeout_ms == 0) {
        errno = EBUSY;
        return -1;
    }
    ops[0].sem_flg = 0;
    ops[1].sem_flg = 0;
    ops[2].sem_flg = SEM_UNDO;
    if (sem_wait_ops(h->semid, ops, 3, timeout_ms, start) == 0)
        return 0;
    return reader_limit();
}

int
sysvshm_lock(sysvshm_t *shm, int how, long timeout_ms)
{
    unsigned long gen;
    long long start;
    int rc;

    if (shm == NULL || (how != SYSVSHM_WRITE && how != SYSVSHM_READ)) {
        errno = EINVAL;
        return -1;
    }
    gen = svs_fork_generation();
    if (shm->held && shm->held_gen == gen) {
        errno = EDEADLK;
        return -1;
    }
    /* A lock noted in a handle inherited over fork() is the parent's. */
    shm->held = 0;
    if (shm->semid < 0) {
        errno = ENOTSUP;
        return -1;
    }
    if (how == SYSVSHM_WRITE && shm->rdonly) {
        errno = EBADF;
        return -1;
    }
    if (shm->unlinked) {
        errno = EIDRM;
        return -1;
    }
    start = timeout_ms > 0 ? svs_now_ms() : 0;
    if (shm->fast)
        rc = svs_fast_lock(shm, how, timeout_ms, start, gen);
    else if (how == SYSVSHM_WRITE)
        rc = lock_write(shm, timeout_ms, start);
    else
        rc = lock_read(shm, timeout_ms, start);
    if (rc < 0)
        return -1;
    shm->held = how;
    shm->held_gen = gen;
    if (how == SYSVSHM_WRITE) {
        int32_t prev = shm->hdr->writer;

        shm->hdr->writer = (int32_t)svs_getpid();
        return prev != 0 ? SYSVSHM_RECOVERED : 0;
    }
    return shm->hdr->writer != 0 ? SYSVSHM_RECOVERED : 0;
}

int
sysvshm_unlock(sysvshm_t *shm)
{
    struct sembuf op;

    if (shm == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (!shm->held || shm->held_gen != svs_fork_generation()) {
        errno = EPERM;
        return -1;
    }
    if (shm->fast) {
        int how = shm->held;

        if (how == SYSVSHM_WRITE)
            shm->hdr->writer = 0; /* first, as below */
        shm->held = 0;
        return svs_fast_unlock(shm, how);
    }
    if (shm->held == SYSVSHM_WRITE) {
        /* Clear the mark first: dying between the two leaves the lock to
         * the kernel's undo and no false alarm, as the update was done. */
        shm->hdr->writer = 0;
        op.sem_num = SVS_SEM_W;
    } else {
        op.sem_num = SVS_SEM_R;
    }
    op.sem_op = -1;
    /* Never blocks (we hold what we decrement); NOWAIT guards a set that
     * was tampered with. */
    op.sem_flg = SEM_UNDO | IPC_NOWAIT;
    shm->held = 0;
    if (semop(shm->semid, &op, 1) < 0) {
        if (errno == EAGAIN)
            errno = EPERM;
        return svs_sem_error();
    }
    return 0;
}
