/*
 * fastlock.c - the fast lock of a version 2 block (SYSVSHM_FASTLOCK).
 *
 * The lock lives in two header words changed only by atomic operations, so
 * an uncontended lock and unlock make no system call:
 *   lk_ctl      the writer's slot + 1 (0: none) and the registered sleepers
 *   lk_readers  bit k set while slot k holds a reader lock
 * The kernel stays the authority on who is alive: a handle owns a slot k by
 * holding the set's presence semaphore P_k at 1 with SEM_UNDO, so a process
 * that dies gives its slots back whatever instruction it was at, and a slot
 * whose bits are set while P_k is 0 belongs to the dead.  Whoever clears a
 * dead slot's bits first claims P_k itself, as an owner would: only the
 * owner of P_k ever changes slot k's bits, so a slot cannot be cleared
 * under a new owner.  Lockers that must wait sleep on the WAKE semaphore.
 * The protocol, and why a SIGKILL at any step leaves a lock that the next
 * locker can take, is in docs/format.md "The fast lock".
 */
#include "svs_int.h"

#include <errno.h>

/* A sleeper looks at the holder's presence at least this often: a holder
 * that died wakes nobody. */
#define SLICE_MS 50L

#if defined(SVS_USE_ATOMIC_FENCE) && defined(SVS_HAVE_ATOMIC_RMW)
#define FAST 1
static uint32_t
ld(volatile uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
static int
cas(volatile uint32_t *p, uint32_t old, uint32_t new_value)
{
    return __atomic_compare_exchange_n(p, &old, new_value, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}
static uint32_t
fetch_or(volatile uint32_t *p, uint32_t v)
{
    return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}
static uint32_t
fetch_and(volatile uint32_t *p, uint32_t v)
{
    return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
}
#elif defined(SVS_USE_SYNC_SYNCHRONIZE) && defined(SVS_HAVE_SYNC_RMW)
#define FAST 1
static uint32_t
ld(volatile uint32_t *p)
{
    return __sync_fetch_and_or(p, 0u); /* a full barrier, as the others */
}
static int
cas(volatile uint32_t *p, uint32_t old, uint32_t new_value)
{
    return __sync_bool_compare_and_swap(p, old, new_value);
}
static uint32_t
fetch_or(volatile uint32_t *p, uint32_t v)
{
    return __sync_fetch_and_or(p, v);
}
static uint32_t
fetch_and(volatile uint32_t *p, uint32_t v)
{
    return __sync_fetch_and_and(p, v);
}
#else
#define FAST 0
#endif

int
svs_fast_available(void)
{
    return FAST;
}

#if FAST

static int
sem_error(void)
{
    if (errno == EINVAL || errno == EIDRM)
        errno = EIDRM; /* the set was removed: the block was unlinked */
    return -1;
}

/* Post n wake-up tokens.  A full semaphore (SEMVMX) already holds more
 * tokens than there can be sleepers: nothing is lost then. */
static void
post(int semid, uint32_t n)
{
    struct sembuf op;

    if (n == 0)
        return;
    op.sem_num = SVS_SEM_WAKE;
    op.sem_op = (short)(n > 16384 ? 16384 : n);
    op.sem_flg = IPC_NOWAIT;
    if (semop(semid, &op, 1) < 0 && errno == ERANGE) {
        op.sem_op = 1;
        (void)semop(semid, &op, 1);
    }
}

/* Take the registered sleepers' count out of lk_ctl and post their
 * tokens. */
static void
wake_sleepers(sysvshm_t *h)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    uint32_t c = ld(ctl);

    while ((c >> SVS_LK_SLEEP_SHIFT) != 0) {
        if (cas(ctl, c, c & SVS_LK_WMASK)) {
            post(h->semid, c >> SVS_LK_SLEEP_SHIFT);
            return;
        }
        c = ld(ctl);
    }
}

/* Let go of the writer field held by slot k (a writer's unlock, a pending
 * writer that gives up, or the clearing of a dead one's), waking every
 * registered sleeper in the same step. */
static void
release_writer(sysvshm_t *h, unsigned k)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    uint32_t c = ld(ctl);

    while ((c & SVS_LK_WMASK) == k + 1) {
        if (cas(ctl, c, 0)) {
            post(h->semid, c >> SVS_LK_SLEEP_SHIFT);
            return;
        }
        c = ld(ctl);
    }
}

/* Slot k's reader bit goes; the last reader wakes a writer waiting for the
 * readers to drain. */
static void
release_reader(sysvshm_t *h, unsigned k)
{
    uint32_t bit = (uint32_t)1 << k;
    uint32_t prev = fetch_and(&h->lk->lk_readers, ~bit);

    if ((prev & bit) && (prev & ~bit) == 0)
        wake_sleepers(h);
}

/* Clear whatever slot k's bits say.  Only the owner of P_k calls this: a
 * new owner for what its dead predecessor left, a recoverer after claiming
 * P_k.  The writer pid mark is left: the next writer learns of the death. */
static void
clear_slot(sysvshm_t *h, unsigned k)
{
    release_writer(h, k);
    if (ld(&h->lk->lk_readers) & ((uint32_t)1 << k))
        release_reader(h, k);
}

/* Claim P_k if it is 0: one atomic semop, so two claimers cannot both win.
 * Returns 0, or -1 with errno EAGAIN (taken) or the semop's. */
static int
claim(int semid, unsigned k)
{
    struct sembuf ops[2];

    ops[0].sem_num = (unsigned short)(SVS_SEM_SLOT0 + k);
    ops[0].sem_op = 0;
    ops[0].sem_flg = IPC_NOWAIT;
    ops[1].sem_num = (unsigned short)(SVS_SEM_SLOT0 + k);
    ops[1].sem_op = 1;
    ops[1].sem_flg = SEM_UNDO | IPC_NOWAIT;
    return semop(semid, ops, 2);
}

static void
give_back(int semid, unsigned k)
{
    struct sembuf op;

    op.sem_num = (unsigned short)(SVS_SEM_SLOT0 + k);
    op.sem_op = -1;
    op.sem_flg = SEM_UNDO | IPC_NOWAIT;
    (void)semop(semid, &op, 1);
}

/* Slot j's bits are set and P_j read 0: its owner is dead (or has just let
 * go).  Clear them as the owner would, under P_j. */
static int
recover_slot(sysvshm_t *h, unsigned j)
{
    if (claim(h->semid, j) < 0)
        return errno == EAGAIN ? 0 : sem_error(); /* owned again: alive */
    svs_fault("fast.recover_claimed");
    clear_slot(h, j);
    give_back(h->semid, j);
    return 0;
}

/* Look at the presence of the slots that stand in our way: the writer's,
 * or (a pending writer) the readers'.  Clears every dead one.  Returns 0,
 * or -1 (EIDRM: the set is gone). */
static int
recover_dead(sysvshm_t *h, uint32_t writer_slot1, uint32_t readers)
{
    unsigned short v[SVS_NSEMS_FAST];
    union semun arg;
    unsigned j;

    arg.array = v;
    if (semctl(h->semid, 0, GETALL, arg) < 0)
        return sem_error();
    if (writer_slot1 != 0 && writer_slot1 - 1 != (uint32_t)h->slot &&
        v[SVS_SEM_SLOT0 + writer_slot1 - 1] == 0 &&
        recover_slot(h, writer_slot1 - 1) < 0)
        return -1;
    for (j = 0; j < SVS_SLOTS; j++)
        if ((readers & ((uint32_t)1 << j)) && j != (unsigned)h->slot &&
            v[SVS_SEM_SLOT0 + j] == 0 && recover_slot(h, j) < 0)
            return -1;
    return 0;
}

/* Milliseconds left of the caller's timeout (< 0: none), at most a slice;
 * 0 when it has run out. */
static long
slice_left(long timeout_ms, long long start)
{
    long long left;

    if (timeout_ms < 0)
        return SLICE_MS;
    left = (long long)timeout_ms - (svs_now_ms() - start);
    if (left <= 0)
        return 0;
    return left < SLICE_MS ? (long)left : SLICE_MS;
}

/* Take a slot for this handle (once per handle and process). */
static int
take_slot(sysvshm_t *h, long timeout_ms, long long start)
{
    unsigned long gen = svs_fork_generation();
    unsigned short v[SVS_NSEMS_FAST];
    union semun arg;
    long us = 1000;

    if (h->slot >= 0 && h->slot_gen == gen)
        return 0;
    /* A slot noted in a handle inherited over fork() is the parent's: the
     * child holds no semaphore adjustment for it. */
    h->slot = -1;
    arg.array = v;
    for (;;) {
        unsigned i, first = (unsigned)(svs_getpid() % SVS_SLOTS);

        if (semctl(h->semid, 0, GETALL, arg) < 0)
            return sem_error();
        for (i = 0; i < SVS_SLOTS; i++) {
            unsigned k = (first + i) % SVS_SLOTS;

            if (v[SVS_SEM_SLOT0 + k] != 0)
                continue;
            if (claim(h->semid, k) < 0) {
                if (errno == EAGAIN)
                    continue;
                return sem_error();
            }
            svs_fault("fast.slot_claimed");
            /* What a dead owner of this slot left is ours to clear now. */
            clear_slot(h, k);
            h->slot = (int)k;
            h->slot_gen = gen;
            return 0;
        }
        /* Every slot is owned by a live handle: wait for one to close. */
        if (timeout_ms == 0) {
            errno = EBUSY;
            return -1;
        }
        if (timeout_ms > 0 && slice_left(timeout_ms, start) == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        svs_sleep_us(us);
        if (us < 50000)
            us *= 2;
    }
}

/*
 * Wait while the lock is in the way.  c: the lk_ctl value that showed a
 * writer (slot c & WMASK - 1); pending: we are that writer, waiting for
 * the readers to drain.  Registers as a sleeper with a CAS on that very
 * value, so that its release (which zeroes the count and posts that many
 * tokens) cannot slip between the look and the sleep.  Returns 0 to look
 * again, -1 with errno ETIMEDOUT or EIDRM.
 */
static int
sleep_once(sysvshm_t *h, uint32_t c, int pending, long timeout_ms,
           long long start, int *looked)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    struct sembuf op;
    long ms;
    int rc;

    /* Before the first sleep and after every slice: a dead holder wakes
     * nobody, but its presence semaphore tells. */
    if (!*looked) {
        *looked = 1;
        if (recover_dead(h, pending ? 0 : (c & SVS_LK_WMASK),
                         pending ? ld(&h->lk->lk_readers) : 0) < 0)
            return -1;
        return 0; /* look at the lock again first */
    }
    ms = slice_left(timeout_ms, start);
    if (ms == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    if ((c >> SVS_LK_SLEEP_SHIFT) == SVS_LK_SLEEP_MAX) {
        svs_sleep_us(1000); /* the count is full: poll, rarely */
        return 0;
    }
    if (!cas(ctl, c, c + SVS_LK_SLEEP_ONE))
        return 0; /* the lock changed: look again */
    svs_fault("fast.sleeper_registered");
    /* The condition may have gone between our look and the count: then
     * take the count back (or leave a stray token if it was already
     * posted) and look again. */
    if (pending ? ld(&h->lk->lk_readers) == 0
                : (ld(ctl) & SVS_LK_WMASK) != (c & SVS_LK_WMASK)) {
        uint32_t d = ld(ctl);

        while ((d >> SVS_LK_SLEEP_SHIFT) != 0 && !cas(ctl, d, d - SVS_LK_SLEEP_ONE))
            d = ld(ctl);
        return 0;
    }
    op.sem_num = SVS_SEM_WAKE;
    op.sem_op = -1;
    op.sem_flg = 0;
    rc = svs_semop_timed(h->semid, &op, 1, ms);
    if (rc == 0 || errno == EINTR)
        return 0;
    if (errno != EAGAIN)
        return sem_error();
    /* The slice ran out without a token: take the count back, and look at
     * the holder's presence before sleeping again. */
    {
        uint32_t d = ld(ctl);

        while ((d >> SVS_LK_SLEEP_SHIFT) != 0 && !cas(ctl, d, d - SVS_LK_SLEEP_ONE))
            d = ld(ctl);
    }
    *looked = 0;
    return 0;
}

int
svs_fast_lock(sysvshm_t *h, int how, long timeout_ms, long long start)
{
    volatile uint32_t *ctl, *readers;
    uint32_t me, bit;
    int looked = 0;

    if (h->lk == NULL) {
        /* A read-only handle: the lock words need a writable mapping. */
        struct svs_header *rw = shmat(h->shmid, NULL, 0);

        if (rw == (void *)-1) {
            if (errno == EINVAL || errno == EIDRM)
                errno = EIDRM;
            return -1;
        }
        h->lk = rw;
    }
    if (take_slot(h, timeout_ms, start) < 0)
        return -1;
    ctl = &h->lk->lk_ctl;
    readers = &h->lk->lk_readers;
    me = (uint32_t)h->slot + 1;
    bit = (uint32_t)1 << h->slot;

    for (;;) {
        uint32_t c;

        /* A remover writes UNLINKING before it removes anything: a lock on
         * a destroyed block fails without a system call. */
        if (h->lk->state != SVS_STATE_READY) {
            errno = EIDRM;
            return -1;
        }
        c = ld(ctl);
        if ((c & SVS_LK_WMASK) == 0) {
            if (how == SYSVSHM_WRITE) {
                if (!cas(ctl, c, c | me))
                    continue;
                svs_fault("fast.writer_claimed");
                /* Ours; new readers hold back while the old ones drain. */
                looked = 0;
                for (;;) {
                    if (ld(readers) == 0)
                        return 0;
                    if (timeout_ms == 0) {
                        /* Dead readers' bits would stay for ever for a
                         * caller that only ever tries: look once. */
                        if (!looked) {
                            looked = 1;
                            if (recover_dead(h, 0, ld(readers)) < 0)
                                break;
                            continue;
                        }
                        errno = EBUSY;
                        break;
                    }
                    if (sleep_once(h, ld(ctl), 1, timeout_ms, start, &looked) < 0)
                        break;
                }
                {
                    int saved = errno;

                    release_writer(h, (unsigned)h->slot);
                    errno = saved;
                }
                return -1;
            }
            fetch_or(readers, bit);
            svs_fault("fast.reader_set");
            c = ld(ctl);
            if ((c & SVS_LK_WMASK) == 0)
                return 0;
            /* A writer came first: step back, and wake it if it waits for
             * us. */
            release_reader(h, (unsigned)h->slot);
            continue;
        }
        if (timeout_ms == 0) {
            /* A dead holder wakes nobody and clears nothing: a try-lock
             * looks at its presence once, as a sleeper does, or the lock
             * would stay busy for callers that only ever try. */
            if (!looked) {
                looked = 1;
                if (recover_dead(h, c & SVS_LK_WMASK, 0) < 0)
                    return -1;
                continue;
            }
            errno = EBUSY;
            return -1;
        }
        if (sleep_once(h, c, 0, timeout_ms, start, &looked) < 0)
            return -1;
    }
}

int
svs_fast_unlock(sysvshm_t *h, int how)
{
    if (h->lk == NULL || h->slot < 0) {
        errno = EPERM;
        return -1;
    }
    if (how == SYSVSHM_WRITE) {
        if ((ld(&h->lk->lk_ctl) & SVS_LK_WMASK) != (uint32_t)h->slot + 1) {
            errno = EPERM; /* someone cleared it: the words were tampered with */
            return -1;
        }
        svs_fault("fast.before_release");
        release_writer(h, (unsigned)h->slot);
    } else {
        if (!(ld(&h->lk->lk_readers) & ((uint32_t)1 << h->slot))) {
            errno = EPERM;
            return -1;
        }
        release_reader(h, (unsigned)h->slot);
    }
    return 0;
}

void
svs_fast_close(sysvshm_t *h)
{
    if (h->slot >= 0 && h->slot_gen == svs_fork_generation())
        give_back(h->semid, (unsigned)h->slot);
    h->slot = -1;
    if (h->lk != NULL && h->lk != h->hdr)
        (void)shmdt((void *)h->lk);
    h->lk = NULL;
}

#else /* !FAST */

int
svs_fast_lock(sysvshm_t *h, int how, long timeout_ms, long long start)
{
    (void)h;
    (void)how;
    (void)timeout_ms;
    (void)start;
    errno = ENOTSUP;
    return -1;
}

int
svs_fast_unlock(sysvshm_t *h, int how)
{
    (void)h;
    (void)how;
    errno = EPERM;
    return -1;
}

void
svs_fast_close(sysvshm_t *h)
{
    h->slot = -1;
    h->lk = NULL;
}

#endif
