/*
 * fastlock.c - the fast lock of a version 2 block (SYSVSHM_FASTLOCK).
 *
 * The lock lives in two header words changed only by atomic operations, so
 * an uncontended lock and unlock make no system call:
 *   lk_ctl      the writer's slot + 1 (0: none), the slot + 1 of a waiting
 *               writer to hand the lock to (0: none), the OVR bit (slotless
 *               readers may hold the lock), registered sleepers
 *   lk_readers  bit k set while slot k holds a reader lock
 * The kernel stays the authority on who is alive: a handle owns a slot k by
 * holding the set's presence semaphore P_k at 1 with SEM_UNDO, so a process
 * that dies gives its slots back whatever instruction it was at, and a slot
 * whose bits are set while P_k is 0 belongs to the dead.  Whoever clears a
 * dead slot's bits first claims P_k itself, as an owner would: only the
 * owner of P_k ever changes slot k's bits, so a slot cannot be cleared
 * under a new owner.  Lockers that must wait sleep on the WAKE semaphore.
 * A handle that finds all 32 slots owned locks through the kernel instead:
 * as a writer it first takes the OVW semaphore (with SEM_UNDO), which makes
 * it slot 32 for the writer field; as a reader it counts itself in OVR (with
 * SEM_UNDO) and sets lk_ctl's OVR bit, which a writer drains by waiting in
 * the kernel for OVR to reach 0.
 * A lock that is free is taken by whoever comes first, which keeps a busy
 * holder fast; but a writer passed over once names itself `next', and the
 * holder's release hands the lock straight to it, so nobody is passed over
 * twice in a row.
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

/* Slot 32 is the slotless writer's, whose presence is the OVW semaphore. */
#define OVF_SLOT SVS_SLOTS
/* What a release keeps of lk_ctl besides the writer field. */
#define KEEP (SVS_LK_WMASK | SVS_LK_NEXT_MASK | SVS_LK_OVR)

static unsigned short
presence(unsigned k)
{
    return (unsigned short)(k < SVS_SLOTS ? SVS_SEM_SLOT0 + k : SVS_SEM_OVW);
}

/* Semaphore operations done at once, waiting as the caller's timeout allows
 * (< 0: for ever; 0: not at all, EBUSY) and carrying on after signals. */
static int
sem_wait_ops(int semid, struct sembuf *b, size_t n, long timeout_ms,
             long long start)
{
    size_t i;

    if (timeout_ms == 0)
        for (i = 0; i < n; i++)
            b[i].sem_flg |= IPC_NOWAIT;
    for (;;) {
        int rc;

        if (timeout_ms <= 0) {
            rc = semop(semid, b, n);
        } else {
            long long left = (long long)timeout_ms - (svs_now_ms() - start);

            if (left <= 0) {
                /* Out of time, but what is free now is still taken. */
                for (i = 0; i < n; i++)
                    b[i].sem_flg |= IPC_NOWAIT;
                if (semop(semid, b, n) == 0)
                    return 0;
                if (errno == EAGAIN || errno == EINTR)
                    errno = ETIMEDOUT;
                else
                    (void)svs_sem_error();
                return -1;
            }
            rc = svs_semop_timed(semid, b, n, (long)left);
        }
        if (rc == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            errno = timeout_ms == 0 ? EBUSY : ETIMEDOUT;
            return -1;
        }
        return svs_sem_error();
    }
}

static int
sem_wait1(int semid, unsigned short num, short op, short flg, long timeout_ms,
          long long start)
{
    struct sembuf b;

    b.sem_num = num;
    b.sem_op = op;
    b.sem_flg = flg;
    return sem_wait_ops(semid, &b, 1, timeout_ms, start);
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
        if (cas(ctl, c, c & KEEP)) {
            post(h->semid, c >> SVS_LK_SLEEP_SHIFT);
            return;
        }
        c = ld(ctl);
    }
}

/* Let go of the writer field held by slot k (a writer's unlock, a pending
 * writer that gives up, or the clearing of a dead one's): it passes to the
 * `next' writer if one is named, else the lock is free; every registered
 * sleeper is woken in the same step.  The OVR bit stays: a pending writer
 * that gives up may not have drained the slotless readers. */
static int
release_writer(sysvshm_t *h, unsigned k)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    uint32_t c = ld(ctl);

    while ((c & SVS_LK_WMASK) == k + 1) {
        uint32_t next = (c & SVS_LK_NEXT_MASK) >> SVS_LK_NEXT_SHIFT;

        /* A next no locker can be was written by a user of the block:
         * the lock goes free instead. */
        if (next > OVF_SLOT + 1)
            next = 0;
        if (cas(ctl, c, (c & SVS_LK_OVR) | next)) {
            post(h->semid, c >> SVS_LK_SLEEP_SHIFT);
            return 1;
        }
        c = ld(ctl);
    }
    return 0;
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

/* Clear whatever slot k's bits say.  Only the owner of slot k's presence
 * calls this: a new owner for what its dead predecessor left, a recoverer
 * after claiming it.  The writer pid mark is left: the next writer learns
 * of the death. */
static void
clear_slot(sysvshm_t *h, unsigned k)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    uint32_t c = ld(ctl);

    /* A dead writer named `next' first: else the release would hand the
     * lock to the slot's new owner, who never asked for it. */
    while ((c & SVS_LK_NEXT_MASK) == (k + 1) << SVS_LK_NEXT_SHIFT) {
        if (cas(ctl, c, c & ~SVS_LK_NEXT_MASK))
            break;
        c = ld(ctl);
    }
    (void)release_writer(h, k);
    if (k < SVS_SLOTS && (ld(&h->lk->lk_readers) & ((uint32_t)1 << k)))
        release_reader(h, k);
}

/* Claim slot k's presence if it is 0: one atomic semop, so two claimers
 * cannot both win.  Returns 0, or -1 with errno EAGAIN (taken) or the
 * semop's. */
static int
claim(int semid, unsigned k)
{
    struct sembuf ops[2];

    ops[0].sem_num = presence(k);
    ops[0].sem_op = 0;
    ops[0].sem_flg = IPC_NOWAIT;
    ops[1].sem_num = presence(k);
    ops[1].sem_op = 1;
    ops[1].sem_flg = SEM_UNDO | IPC_NOWAIT;
    return semop(semid, ops, 2);
}

static void
give_back(int semid, unsigned k)
{
    struct sembuf op;

    op.sem_num = presence(k);
    op.sem_op = -1;
    op.sem_flg = SEM_UNDO | IPC_NOWAIT;
    (void)semop(semid, &op, 1);
}

/* Slot j's bits are set and its presence read 0: its owner is dead (or has
 * just let go).  Clear them as the owner would, holding the presence. */
static int
recover_slot(sysvshm_t *h, unsigned j)
{
    if (claim(h->semid, j) < 0)
        return errno == EAGAIN ? 0 : svs_sem_error(); /* owned again: alive */
    svs_fault("fast.recover_claimed");
    clear_slot(h, j);
    give_back(h->semid, j);
    return 0;
}

/* lk_ctl naming a slot the set does not have was written by a user of the
 * block, not by a locker: nobody owns such a value, so it is cleared
 * (waking the sleepers) rather than left to hold the lock for ever. */
static void
clear_impossible(sysvshm_t *h)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    uint32_t c = ld(ctl);

    for (;;) {
        uint32_t w = c & SVS_LK_WMASK;
        uint32_t n = (c & SVS_LK_NEXT_MASK) >> SVS_LK_NEXT_SHIFT;
        uint32_t d = c;

        if (n > OVF_SLOT + 1)
            d &= ~SVS_LK_NEXT_MASK;
        if (w > OVF_SLOT + 1)
            d &= SVS_LK_OVR;   /* no writer, no next, no sleepers (all woken) */
        if (d == c)
            return;
        if (cas(ctl, c, d)) {
            if (w > OVF_SLOT + 1)
                post(h->semid, c >> SVS_LK_SLEEP_SHIFT);
            return;
        }
        c = ld(ctl);
    }
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
        return svs_sem_error();
    /* lk_ctl can be written by any writer of the block: a slot beyond the
     * set is nobody's to recover, and must not index v. */
    if (writer_slot1 > OVF_SLOT + 1)
        clear_impossible(h);
    else if (writer_slot1 != 0 && v[presence(writer_slot1 - 1)] == 0 &&
             recover_slot(h, writer_slot1 - 1) < 0)
        return -1;
    for (j = 0; j < SVS_SLOTS; j++)
        if ((readers & ((uint32_t)1 << j)) && v[presence(j)] == 0 &&
            recover_slot(h, j) < 0)
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

/* Take a slot for this handle (once per handle and process).  Returns 0
 * with h->slot set, or with h->slot -1 when every slot is owned (the handle
 * then locks without one, and looks for a slot again next time), or -1. */
static int
take_slot(sysvshm_t *h, unsigned long gen)
{
    unsigned short v[SVS_NSEMS_FAST];
    union semun arg;
    unsigned i, first;

    if (h->slot >= 0 && h->slot_gen == gen)
        return 0;
    /* A slot noted in a handle inherited over fork() is the parent's: the
     * child holds no semaphore adjustment for it. */
    h->slot = -1;
    /* The set is read whole into v: it must be exactly a fast lock's.  A
     * header rewritten by a writer of the block can name another set, or
     * claim the fast lock for a version 1 block's.  (Once per handle: a
     * set's size never changes.) */
    if (!h->set_checked) {
        struct semid_ds sds;

        arg.buf = &sds;
        if (semctl(h->semid, 0, IPC_STAT, arg) < 0)
            return svs_sem_error();
        if (sds.sem_nsems != SVS_NSEMS_FAST) {
            errno = EPROTO;
            return -1;
        }
        h->set_checked = 1;
    }
    arg.array = v;
    if (semctl(h->semid, 0, GETALL, arg) < 0)
        return svs_sem_error();
    first = (unsigned)(svs_getpid() % SVS_SLOTS);
    for (i = 0; i < SVS_SLOTS; i++) {
        unsigned k = (first + i) % SVS_SLOTS;

        if (v[SVS_SEM_SLOT0 + k] != 0)
            continue;
        if (claim(h->semid, k) < 0) {
            if (errno == EAGAIN)
                continue;
            return svs_sem_error();
        }
        svs_fault("fast.slot_claimed");
        /* What a dead owner of this slot left is ours to clear now. */
        clear_slot(h, k);
        h->slot = (int)k;
        h->slot_gen = gen;
        return 0;
    }
    return 0;
}

/* A sleeper that will not take a token takes its registration back: one
 * from the count, if its count was not already turned into tokens (then a
 * stray token stays, for one spurious wake-up). */
static void
deregister(volatile uint32_t *ctl)
{
    uint32_t d = ld(ctl);

    while ((d >> SVS_LK_SLEEP_SHIFT) != 0 && !cas(ctl, d, d - SVS_LK_SLEEP_ONE))
        d = ld(ctl);
}

/*
 * Wait while the lock is in the way.  c: the lk_ctl value that showed a
 * writer (slot c & WMASK - 1); pending: we are that writer, waiting for
 * the readers to drain; next: our slot + 1 if we are a writer that was
 * passed over and asks the lock to be handed to it, else 0.  Registers as
 * a sleeper with a CAS on that very value, so that its release (which
 * zeroes the count and posts that many tokens) cannot slip between the
 * look and the sleep.  Returns 0 to look again (1 after a wake-up token),
 * -1 with errno ETIMEDOUT or EIDRM.
 */
static int
sleep_once(sysvshm_t *h, uint32_t c, int pending, uint32_t next, long timeout_ms,
           long long start, int *looked)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    struct sembuf op;
    uint32_t want;
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
    want = c + SVS_LK_SLEEP_ONE;
    if (next != 0 && (c & SVS_LK_NEXT_MASK) == 0)
        want |= next << SVS_LK_NEXT_SHIFT;
    if (!cas(ctl, c, want))
        return 0; /* the lock changed: look again */
    svs_fault("fast.sleeper_registered");
    /* The condition may have gone between our look and the count: then
     * take the count back (or leave a stray token if it was already
     * posted) and look again. */
    if (pending ? ld(&h->lk->lk_readers) == 0
                : (ld(ctl) & SVS_LK_WMASK) != (c & SVS_LK_WMASK)) {
        deregister(ctl);
        return 0;
    }
    op.sem_num = SVS_SEM_WAKE;
    op.sem_op = -1;
    op.sem_flg = 0;
    rc = svs_semop_timed(h->semid, &op, 1, ms);
    if (rc == 0)
        return 1;
    if (errno != EAGAIN && errno != EINTR)
        return svs_sem_error();
    /* No token (the slice ran out, or a signal came): take the count back,
     * so that signals do not pile up registrations; after a slice, look at
     * the holder's presence before sleeping again. */
    if (errno == EAGAIN)
        *looked = 0;
    deregister(ctl);
    return 0;
}

/* Slot k holds the writer field: wait for the readers to drain (new ones
 * hold back meanwhile), the slotless ones in the kernel.  On failure the
 * field is let go. */
static int
drain_readers(sysvshm_t *h, unsigned k, long timeout_ms, long long start)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    int looked = 0;
    int saved;

    for (;;) {
        uint32_t r;

        if (ld(ctl) & SVS_LK_OVR) {
            /* Slotless readers: the kernel counts them (and undoes the
             * dead), and none can join while we hold the field. */
            if (sem_wait1(h->semid, SVS_SEM_OVR, 0, 0, timeout_ms, start) < 0)
                break;
            fetch_and(ctl, ~SVS_LK_OVR);
            continue;
        }
        r = ld(&h->lk->lk_readers);
        if (r == 0)
            return 0;
        if (timeout_ms == 0) {
            /* Try once, but not against the dead: a reader that died
             * holding its lock is cleared now, as a waiter would. */
            if (!looked) {
                looked = 1;
                if (recover_dead(h, 0, r) < 0)
                    break;
                continue;
            }
            errno = EBUSY;
            break;
        }
        if (sleep_once(h, ld(ctl), 1, 0, timeout_ms, start, &looked) < 0)
            break;
    }
    saved = errno;
    (void)release_writer(h, k);
    errno = saved;
    return -1;
}

/* We stop waiting: stop asking for the lock to be handed to us.  Returns 1
 * if it was handed to us all the same (we hold the writer field). */
static int
withdraw(sysvshm_t *h, uint32_t me)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    uint32_t c = ld(ctl);

    while ((c & SVS_LK_NEXT_MASK) == me << SVS_LK_NEXT_SHIFT) {
        if (cas(ctl, c, c & ~SVS_LK_NEXT_MASK))
            return 0;
        c = ld(ctl);
    }
    /* Only a release takes `next' away from us, and it makes us the
     * writer. */
    return (c & SVS_LK_WMASK) == me;
}

/* Try once, but not against the dead: a holder that died is cleared now,
 * as a waiter would, and the lock looked at again.  Returns 1 to look
 * again, 0 for EBUSY, -1 on error. */
static int
try_again(sysvshm_t *h, uint32_t c, int *looked)
{
    if (*looked) {
        errno = EBUSY;
        return 0;
    }
    *looked = 1;
    return recover_dead(h, c & SVS_LK_WMASK, 0) < 0 ? -1 : 1;
}

/* The writer lock for slot k (OVF_SLOT: a slotless writer holding OVW). */
static int
lock_writer(sysvshm_t *h, unsigned k, long timeout_ms, long long start)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    uint32_t me = k + 1;
    int looked = 0, passed_over = 0;

    for (;;) {
        uint32_t c;
        int rc;

        /* A remover writes UNLINKING before it removes anything: a lock on
         * a destroyed block fails without a system call. */
        if (h->lk->state != SVS_STATE_READY) {
            if (withdraw(h, me))
                (void)release_writer(h, k);
            errno = EIDRM;
            return -1;
        }
        c = ld(ctl);
        if ((c & SVS_LK_WMASK) == me) /* handed to us at a release */
            return drain_readers(h, k, timeout_ms, start);
        if ((c & SVS_LK_WMASK) == 0) {
            if (!cas(ctl, c, c | me))
                continue;
            svs_fault("fast.writer_claimed");
            /* Ours; new readers hold back while the old ones drain. */
            return drain_readers(h, k, timeout_ms, start);
        }
        if (timeout_ms == 0) {
            if ((rc = try_again(h, c, &looked)) > 0)
                continue;
            return -1;
        }
        rc = sleep_once(h, c, 0, passed_over ? me : 0, timeout_ms, start, &looked);
        if (rc < 0) {
            int saved = errno;

            if (withdraw(h, me)) {
                if (saved == ETIMEDOUT) {
                    /* Handed to us at the deadline: ours if no reader is
                     * in the way (a try-once wait for them). */
                    if (drain_readers(h, k, 0, start) == 0)
                        return 0;
                    errno = ETIMEDOUT;
                    return -1;
                }
                (void)release_writer(h, k);
            }
            errno = saved;
            return -1;
        }
        /* Woken, yet somebody else may take the lock first: then we ask to
         * be handed it next time. */
        if (rc == 1)
            passed_over = 1;
    }
}

/* A reader lock for slot k, or (k == OVF_SLOT) a slotless one, counted in
 * the OVR semaphore while it holds. */
static int
lock_reader(sysvshm_t *h, unsigned k, long timeout_ms, long long start)
{
    volatile uint32_t *ctl = &h->lk->lk_ctl;
    int looked = 0;

    for (;;) {
        uint32_t c;
        int rc;

        if (h->lk->state != SVS_STATE_READY) {
            errno = EIDRM;
            return -1;
        }
        c = ld(ctl);
        if ((c & SVS_LK_WMASK) == 0) {
            if (k < SVS_SLOTS) {
                fetch_or(&h->lk->lk_readers, (uint32_t)1 << k);
                svs_fault("fast.reader_set");
                if ((ld(ctl) & SVS_LK_WMASK) == 0)
                    return 0;
                /* A writer came first: step back, and wake it if it waits
                 * for us. */
                release_reader(h, k);
                continue;
            }
            /* Counted before the bit is set, so that a writer that sees
             * the bit waits for us in the kernel; the bit is set only while
             * no writer is, in one compare-and-swap. */
            if (sem_wait1(h->semid, SVS_SEM_OVR, 1, SEM_UNDO, 0, start) < 0) {
                /* As many slotless readers as a semaphore counts (SEMVMX)
                 * hold it already: a resource running out. */
                if (errno == ERANGE)
                    errno = EAGAIN;
                return -1;
            }
            svs_fault("fast.ovf_reader_counted");
            if (cas(ctl, c, c | SVS_LK_OVR))
                return 0;
            (void)sem_wait1(h->semid, SVS_SEM_OVR, -1, SEM_UNDO, 0, start);
            continue;
        }
        if (timeout_ms == 0) {
            if ((rc = try_again(h, c, &looked)) > 0)
                continue;
            return -1;
        }
        if (sleep_once(h, c, 0, 0, timeout_ms, start, &looked) < 0)
            return -1;
    }
}

int
svs_fast_lock(sysvshm_t *h, int how, long timeout_ms, long long start,
              unsigned long gen)
{
    int rc;

    h->ovf = 0; /* a slotless lock noted before fork() is the parent's */
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
    if (take_slot(h, gen) < 0)
        return -1;
    if (h->slot >= 0) {
        if (how == SYSVSHM_WRITE)
            return lock_writer(h, (unsigned)h->slot, timeout_ms, start);
        return lock_reader(h, (unsigned)h->slot, timeout_ms, start);
    }
    /* Every slot is owned: lock through the kernel, as slot 32. */
    if (how == SYSVSHM_READ) {
        rc = lock_reader(h, OVF_SLOT, timeout_ms, start);
    } else {
        /* One slotless writer at a time holds OVW, and with it slot 32's
         * identity in the writer field; a dead one's OVW is undone. */
        struct sembuf take[2];

        take[0].sem_num = SVS_SEM_OVW;
        take[0].sem_op = 0;
        take[0].sem_flg = 0;
        take[1].sem_num = SVS_SEM_OVW;
        take[1].sem_op = 1;
        take[1].sem_flg = SEM_UNDO;
        if (sem_wait_ops(h->semid, take, 2, timeout_ms, start) < 0)
            return -1;
        svs_fault("fast.ovf_writer_claimed");
        clear_slot(h, OVF_SLOT); /* what a dead slotless writer left */
        rc = lock_writer(h, OVF_SLOT, timeout_ms, start);
        if (rc < 0) {
            int saved = errno;

            give_back(h->semid, OVF_SLOT);
            errno = saved;
        }
    }
    if (rc == 0)
        h->ovf = how;
    return rc;
}

int
svs_fast_unlock(sysvshm_t *h, int how)
{
    unsigned k;

    if (h->lk == NULL || (h->slot < 0 && h->ovf != how)) {
        errno = EPERM;
        return -1;
    }
    k = h->ovf ? OVF_SLOT : (unsigned)h->slot;
    if (how == SYSVSHM_WRITE) {
        svs_fault("fast.before_release");
        if (!release_writer(h, k)) {
            /* Someone cleared it: the words were tampered with.  OVW is
             * still ours to give back, or no slotless writer could lock
             * until this process ends. */
            if (h->ovf)
                give_back(h->semid, OVF_SLOT);
            h->ovf = 0;
            errno = EPERM;
            return -1;
        }
        if (h->ovf)
            give_back(h->semid, OVF_SLOT);
    } else if (h->ovf) {
        /* The OVR bit stays: the next writer clears it once the count is
         * 0, which the kernel tells without a race. */
        (void)sem_wait1(h->semid, SVS_SEM_OVR, -1, SEM_UNDO, 0, 0);
    } else {
        if (!(ld(&h->lk->lk_readers) & ((uint32_t)1 << k))) {
            errno = EPERM;
            return -1;
        }
        release_reader(h, k);
    }
    h->ovf = 0;
    return 0;
}

void
svs_fast_close(sysvshm_t *h)
{
    if (h->slot >= 0 && h->slot_gen == svs_fork_generation())
        give_back(h->semid, (unsigned)h->slot);
    h->slot = -1;
    h->ovf = 0;
    if (h->lk != NULL && h->lk != h->hdr)
        (void)shmdt((void *)h->lk);
    h->lk = NULL;
}

#else /* !FAST */

int
svs_fast_lock(sysvshm_t *h, int how, long timeout_ms, long long start,
              unsigned long gen)
{
    (void)gen;
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
    h->ovf = 0;
    h->lk = NULL;
}

#endif
