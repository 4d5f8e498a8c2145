/*
 * segment.c - the life cycle of a block: create, attach, close, unlink,
 * remove; and the one function that decides whether a segment's header can
 * be trusted.
 *
 * The rules that keep names unique without any lock of their own:
 *  - A creator claims the first free key of the name's probe sequence with
 *    shmget(IPC_CREAT|IPC_EXCL), writes the whole header but the magic, then
 *    the magic with state INIT, and only then looks at the other keys.
 *  - It loses, removing its own segment, if another key holds the name READY,
 *    or INIT at a lower index.  Of two racing creators, the one that writes
 *    its header second is bound to see the first one's, so they cannot both
 *    miss each other; a key whose segment has no header yet, made by a live
 *    process a moment ago, is waited for, since it may be a racer that has
 *    not written its header.
 *  - Only the creator sets the semaphore values, before the block is READY:
 *    nobody can lock a set that is not yet published (the SysV start-up race).
 */
#include "svs_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Compile-time check that the header is the documented 384 bytes. */
typedef char svs_header_is_384_bytes[sizeof(struct svs_header) == SVS_DATA_OFF ? 1 : -1];

/* A segment a creator made less than this long ago, whose header is not
 * written yet, may belong to a racing creator: wait for it. */
#define SVS_FRESH_SECONDS 3

enum slot_kind {
    SLOT_EMPTY,   /* no segment at the key */
    SLOT_DENIED,  /* cannot read it, or another user's and no ANYUSER */
    SLOT_PARTIAL, /* no magic, but a prefix of what a creator of this name at
                   * this key writes (all zero, say): a creator mid-way */
    SLOT_FOREIGN, /* not this library's */
    SLOT_OTHER,   /* this library's block of another name */
    SLOT_BAD,     /* our magic, but the header cannot be trusted */
    SLOT_MINE     /* this library's block of this name (any state) */
};

struct slot {
    enum slot_kind kind;
    int shmid;
    struct shmid_ds ds;
    struct svs_header *hdr; /* mapped, or NULL */
    /* The header as it was checked.  Only this copy is used after the check:
     * whoever can write the segment can change the original under us. */
    struct svs_header copy;
    int bad_named; /* SLOT_BAD, and its name field holds exactly our name */
    int seen;      /* SVS_SEEN_*: what the checked header says */
    int set_gone;  /* SLOT_MINE with a lock: its set is not at the key */
    int not_own;   /* SLOT_DENIED only because of who made it */
};

/* slot_examine: accept only blocks made by the caller's own user (the
 * first pass of a lookup; see find_block). */
#define SVS_OWN_ONLY 0x10000

static size_t
seg_size(const struct shmid_ds *ds)
{
    return (size_t)ds->shm_segsz;
}

int
svs_header_check(const void *p, size_t avail, size_t segsz, key_t key)
{
    struct svs_header h;
    size_t i;

    if (avail < sizeof h.magic || memcmp(p, SVS_MAGIC, sizeof h.magic) != 0)
        return SVS_HDR_FOREIGN;
    if (avail < sizeof h || segsz < sizeof h)
        return SVS_HDR_BAD;
    /* A copy: the original may be changing under us, and may be unaligned
     * when it comes from a fuzzer. */
    memcpy(&h, p, sizeof h);
    if (h.data_off != SVS_DATA_OFF)
        return SVS_HDR_BAD;
    /* Version 2 is exactly a version 1 block with the fast lock. */
    if (h.version == SVS_FORMAT_VERSION_FAST) {
        if (h.flags != (SVS_HF_LOCK | SVS_HF_FAST))
            return SVS_HDR_BAD;
    } else if (h.version != SVS_FORMAT_VERSION || (h.flags & SVS_HF_FAST)) {
        return SVS_HDR_BAD;
    }
    if (h.state != SVS_STATE_INIT && h.state != SVS_STATE_READY &&
        h.state != SVS_STATE_UNLINKING)
        return SVS_HDR_BAD;
    if ((h.flags & ~(SVS_HF_LOCK | SVS_HF_FAST)) != 0)
        return SVS_HDR_BAD;
    /* The segment is exactly header + size bytes; allow a system that
     * reports a rounded-up size, never a smaller one. */
    if (h.size == 0 || h.size > (uint64_t)(segsz - h.data_off) ||
        (uint64_t)(segsz - h.data_off) - h.size >= 65536)
        return SVS_HDR_BAD;
    if (h.name_len == 0 || h.name_len > SYSVSHM_NAME_MAX)
        return SVS_HDR_BAD;
    if (memchr(h.name, '\0', h.name_len) != NULL ||
        memchr(h.name, '/', h.name_len) != NULL)
        return SVS_HDR_BAD;
    for (i = h.name_len; i < sizeof h.name; i++)
        if (h.name[i] != '\0')
            return SVS_HDR_BAD;
    if (h.probe >= SYSVSHM_PROBE_MAX ||
        svs_probe_key(h.name, h.name_len, h.probe) != key)
        return SVS_HDR_BAD;
    if (h.flags & SVS_HF_LOCK) {
        /* -2: the creator is making the set; -1: it has not started. */
        if (h.semid < 0 && !(h.state == SVS_STATE_INIT && h.semid >= -2))
            return SVS_HDR_BAD;
    } else if (h.semid != -1) {
        return SVS_HDR_BAD;
    }
    return SVS_HDR_OK;
}

static int
user_ok(const struct shmid_ds *ds, int flags)
{
    uid_t me = geteuid();

    if (flags & SVS_OWN_ONLY)
        return ds->shm_perm.cuid == me;
    if (flags & SYSVSHM_ANYUSER)
        return 1;
    /* Another local user could plant a block under a name we use and read
     * what we write into it: by default trust only our user and root. */
    return ds->shm_perm.cuid == me || ds->shm_perm.cuid == 0;
}

/* Copy the segment's header into s->copy and check the copy. */
static int
slot_check(struct slot *s, key_t key)
{
    size_t segsz = seg_size(&s->ds);
    size_t n = segsz < sizeof s->copy ? segsz : sizeof s->copy;

    memset(&s->copy, 0, sizeof s->copy);
    /* The magic first, then the rest: a creator writes the magic last, so
     * once we have seen it every other field is there -- but memcpy may read
     * a buffer in any order, and would then mix old fields with a new magic. */
    if (n >= sizeof s->copy.magic)
        memcpy(s->copy.magic, (const void *)s->hdr->magic, sizeof s->copy.magic);
    svs_fence();
    if (n > sizeof s->copy.magic)
        memcpy((char *)&s->copy + sizeof s->copy.magic,
               (const char *)s->hdr + sizeof s->copy.magic, n - sizeof s->copy.magic);
    return svs_header_check(&s->copy, n, segsz, key);
}

/* Could this magic-less header be what a creator of `bare` at probe index
 * idx had written when it stopped?  Anything else is another program's data,
 * which we never touch. */
static int
header_partial(const struct slot *s, const char *bare, size_t len, unsigned idx)
{
    const struct svs_header *h = &s->copy;
    size_t k;

    if (!svs_header_prefix(h, seg_size(&s->ds)) || !(h->probe == 0 || h->probe == idx) ||
        !(h->name_len == 0 || h->name_len == len))
        return 0;
    for (k = 0; k < sizeof h->name; k++) {
        char want = k < len ? bare[k] : '\0';

        if (h->name[k] != 0 && h->name[k] != want)
            return 0;
    }
    return 1;
}

static void
slot_release(struct slot *s)
{
    if (s->hdr != NULL)
        shmdt((void *)s->hdr);
    s->hdr = NULL;
}

/*
 * A header's state is only a claim: anyone who may write the block can
 * write it.  Hold it against the marks that only the owner, the creator or
 * root can make (reclaim.c); where they contradict it, the block is taken
 * for damaged -- it keeps its name and nothing removes it on its own.
 */
static int
state_contradicted(const struct slot *s, unsigned mode)
{
    return svs_state_contradicted(s->seen, mode, (long)s->ds.shm_cpid);
}

static void
slot_judge_state(struct slot *s, key_t key)
{
    unsigned mode = (unsigned)s->ds.shm_perm.mode & 0777u;

    if (s->copy.state == SVS_STATE_READY)
        s->seen = SVS_SEEN_READY;
    else if (s->copy.state == SVS_STATE_UNLINKING)
        s->seen = SVS_SEEN_UNLINKING;
    else
        s->seen = SVS_SEEN_INIT;
    /* Gone, not replaced: no set at the key at all. */
    if ((s->copy.flags & SVS_HF_LOCK) && s->copy.semid >= 0)
        s->set_gone = semget(key, 0, 0) < 0 && errno == ENOENT;
    if (!state_contradicted(s, mode))
        return;
    /* The mark is set before the state is written, but our stat may be
     * older than our copy of the header: look at the mode again. */
    if (shmctl(s->shmid, IPC_STAT, &s->ds) == 0)
        mode = (unsigned)s->ds.shm_perm.mode & 0777u;
    if (state_contradicted(s, mode)) {
        s->kind = SLOT_BAD;
        s->bad_named = 1;
        s->seen = SVS_SEEN_BAD;
    }
}

/*
 * Look at the segment at key, the idx-th of the name's probe sequence.  On
 * SLOT_MINE and SLOT_PARTIAL the segment stays
 * mapped in s->hdr, read-only unless map_rw; the caller releases it.
 * Returns the kind, or -1 with errno set for a failure that must not be
 * hidden (EMFILE, ENOMEM from shmat).
 */
static int
slot_examine(key_t key, unsigned idx, const char *bare, size_t len, int flags,
             int map_rw, struct slot *s)
{
    void *addr;
    int r;

    memset(s, 0, sizeof *s);
    s->hdr = NULL;
    s->shmid = shmget(key, 0, 0);
    if (s->shmid < 0) {
        if (errno == ENOENT)
            return s->kind = SLOT_EMPTY;
        if (errno == EACCES)
            return s->kind = SLOT_DENIED;
        return -1;
    }
    if (shmctl(s->shmid, IPC_STAT, &s->ds) < 0) {
        if (errno == EACCES)
            return s->kind = SLOT_DENIED;
        if (errno == EINVAL || errno == EIDRM)
            return s->kind = SLOT_EMPTY; /* removed since shmget */
        return -1;
    }
    if (!user_ok(&s->ds, flags)) {
        s->not_own = 1;
        return s->kind = SLOT_DENIED;
    }
    addr = shmat(s->shmid, NULL, map_rw ? 0 : SHM_RDONLY);
    if (addr == (void *)-1 && errno == EACCES && map_rw) {
        /* We may not write it; find out whether it is ours before saying
         * EACCES, as a read-only foreign segment must just be passed over. */
        addr = shmat(s->shmid, NULL, SHM_RDONLY);
        if (addr != (void *)-1) {
            s->hdr = addr;
            r = slot_check(s, key);
            slot_release(s);
            if (r == SVS_HDR_OK)
                return s->kind = SLOT_DENIED;
            return s->kind = (r == SVS_HDR_BAD) ? SLOT_BAD : SLOT_FOREIGN;
        }
    }
    if (addr == (void *)-1) {
        if (errno == EACCES)
            return s->kind = SLOT_DENIED;
        if (errno == EINVAL || errno == EIDRM)
            return s->kind = SLOT_EMPTY;
        return -1;
    }
    s->hdr = addr;
    r = slot_check(s, key);
    s->seen = SVS_SEEN_FOREIGN;
    if (r == SVS_HDR_FOREIGN) {
        s->kind = header_partial(s, bare, len, idx) ? SLOT_PARTIAL : SLOT_FOREIGN;
        if (s->kind == SLOT_PARTIAL)
            s->seen = SVS_SEEN_PARTIAL;
    } else if (r == SVS_HDR_BAD) {
        /* Damaged, or of a format version we do not know (a newer library's
         * block?): if it bears our name, the name is taken. */
        s->kind = SLOT_BAD;
        s->bad_named = seg_size(&s->ds) >= sizeof s->copy &&
                       memcmp(s->copy.name, bare, len) == 0 && s->copy.name[len] == '\0';
    } else if (s->copy.name_len == len && memcmp(s->copy.name, bare, len) == 0) {
        s->kind = SLOT_MINE;
        slot_judge_state(s, key);
    } else {
        s->kind = SLOT_OTHER;
    }
    if (s->kind != SLOT_MINE && s->kind != SLOT_PARTIAL)
        slot_release(s);
    return (int)s->kind;
}

/* Is the segment still at its key?  (After IPC_RMID the key is freed.) */
static int
slot_present(key_t key, const struct slot *s)
{
    return shmget(key, 0, 0) == s->shmid;
}

/* A segment with no header yet, made a moment ago by a live process. */
static int
slot_partial_fresh(const struct slot *s)
{
    time_t now = time(NULL);

    if (!svs_pid_alive((long)s->ds.shm_cpid))
        return 0;
    return now - s->ds.shm_ctime <= SVS_FRESH_SECONDS;
}

/*
 * Remove a leftover found at key -- if, judged afresh, the one rule
 * (reclaim.c) says it is provably ours, of this name, and abandoned: only
 * the caller's own, nothing attached, and the marks that prove a creator
 * never finished or a remover had begun.  Its semaphore set goes first, and
 * only if it is provably the block's own.  Releases the slot either way.
 * Returns 0 if it is gone, -1 if it was left alone.
 */
static int
slot_reclaim(key_t key, struct slot *s)
{
    struct shmid_ds ds;
    int semid = -1;
    int rc = -1;

    if (shmctl(s->shmid, IPC_STAT, &ds) < 0) {
        rc = 0; /* removed meanwhile */
        goto out;
    }
#ifdef SVS_SHM_DEST
    /* Removed meanwhile, but our look keeps it attached, so Linux still
     * answers by id: its key may already be a new block's, whose set at
     * that key must not be taken for this one's. */
    if ((unsigned)ds.shm_perm.mode & SVS_SHM_DEST) {
        rc = 0;
        goto out;
    }
#endif
    if (svs_reclaim_verdict(&ds, s->seen, s->set_gone, s->hdr != NULL ? 1 : 0, 0) != NULL)
        goto out;
    /* Only what the checked copy said -- but a creator alive at our look may
     * have gone on to make its set and died before writing its id (our copy
     * says -1, or has no magic yet).  Its set is then the one at the key
     * that svs_sem_of_block's -2 case finds: ours, made by the segment's
     * creator after the segment.  Without this the segment went and its set
     * stayed, a stray at a key the name's next create may never visit. */
    if (s->seen == SVS_SEEN_PARTIAL || (s->copy.flags & SVS_HF_LOCK))
        semid = svs_sem_of_block(key, s->seen == SVS_SEEN_PARTIAL || s->copy.semid == -1
                                          ? -2 : s->copy.semid, &ds);
    if (semid >= 0)
        semctl(semid, 0, IPC_RMID);
    if (shmctl(s->shmid, IPC_RMID, NULL) == 0 || errno == EINVAL || errno == EIDRM)
        rc = 0;
out:
    slot_release(s);
    return rc;
}

enum settle { SETTLED_READY, SETTLED_GONE, SETTLED_DEAD, SETTLED_TIMEOUT };

/* Wait for a block that is INIT (or a segment with no header yet) to become
 * READY, vanish, or be left by a dead creator; at most until deadline. */
static enum settle
slot_wait(key_t key, struct slot *s, long long deadline)
{
    long us = 100;

    for (;;) {
        if (!slot_present(key, s))
            return SETTLED_GONE;
        if (s->kind == SLOT_MINE && s->hdr->state != SVS_STATE_INIT)
            return SETTLED_READY;
        if (s->kind == SLOT_PARTIAL &&
            memcmp((const void *)s->hdr->magic, SVS_MAGIC, sizeof s->hdr->magic) == 0)
            return SETTLED_READY; /* it has a header now: look again */
        if (!svs_pid_alive((long)s->ds.shm_cpid))
            return SETTLED_DEAD; /* known dead: unknown counts as alive */
        if (svs_now_ms() >= deadline)
            return SETTLED_TIMEOUT;
        svs_sleep_us(us);
        if (us < 20000)
            us *= 2;
    }
}

/* Set the segment's permission bits (the owner's uid and gid kept). */
static int
seg_set_mode(int shmid, struct shmid_ds *ds, unsigned mode)
{
    ds->shm_perm.mode = (ds->shm_perm.mode & ~(mode_t)0777) | (mode_t)mode;
    return shmctl(shmid, IPC_SET, ds);
}

/* The block's creator sets the caller's mode just after READY (claim), and
 * may thereby wipe the remover's mark that we set a moment before: look
 * again, and mark again if it is gone.  Only a mark set over the creator's
 * own mode can be wiped so: a remover that saw the caller's mode in place
 * marked after the creator's one mode change, which is then behind us. */
static void
keep_doomed(int shmid, int over_making)
{
    struct shmid_ds ds;

    if (!over_making)
        return;
    svs_fence();
    if (shmctl(shmid, IPC_STAT, &ds) == 0 &&
        ((unsigned)ds.shm_perm.mode & 0111u) != SVS_MODE_DOOMED)
        (void)seg_set_mode(shmid, &ds, ((unsigned)ds.shm_perm.mode & 0666u) | SVS_MODE_DOOMED);
}

/*
 * Remove the block.  In this order, so that a remover that dies at any
 * step leaves something the next creator can prove abandoned (reclaim.c):
 *  1. the remover's mark SVS_MODE_DOOMED in the segment's mode: only someone
 *     allowed to remove the block can set it, so a header merely written
 *     UNLINKING by a writer of the block is never taken for a removal;
 *  2. state UNLINKING (if we have a writable mapping), so nobody attaches;
 *  3. the semaphore set, if it is the one the header names;
 *  4. the segment, which frees the name.
 */
static int
block_destroy(key_t key, int shmid, struct svs_header *hdr_rw, int semid)
{
    struct shmid_ds ds;
    uid_t me = geteuid();
    uint32_t seen = hdr_rw != NULL ? hdr_rw->state : SVS_STATE_READY;
    int over_making;

    /* The state before the stat: a remover marks the mode before it writes
     * UNLINKING, so a state read first and a mode without the mark read
     * after it mean the state was written by someone else. */
    svs_fence();
    if (shmctl(shmid, IPC_STAT, &ds) < 0) {
        if (errno == EINVAL || errno == EIDRM)
            errno = ENOENT;
        return -1;
    }
#ifdef SVS_SHM_DEST
    /* Linux: a segment removed while attached still answers by id. */
    if ((unsigned)ds.shm_perm.mode & SVS_SHM_DEST) {
        errno = ENOENT;
        return -1;
    }
#endif
    /* Check before marking: a user who may write the block but not remove
     * it must not wedge it in UNLINKING. */
    if (me != 0 && me != ds.shm_perm.uid && me != ds.shm_perm.cuid) {
        errno = EPERM;
        return -1;
    }
    /* A creator sets the caller's mode just after READY, over whatever mode
     * the segment has then: a remover's mark made before that would be
     * wiped.  So let a live creator finish first (microseconds; at most the
     * wait for a slow creator).  A dead one's block keeps 0711 for good. */
    if (((unsigned)ds.shm_perm.mode & 0777u) == SVS_MODE_MAKING) {
        long long deadline = svs_now_ms() + SVS_INIT_WAIT_MS;
        long us = 50;

        while (((unsigned)ds.shm_perm.mode & 0777u) == SVS_MODE_MAKING &&
               svs_pid_alive((long)ds.shm_cpid) && svs_now_ms() < deadline) {
            svs_sleep_us(us);
            if (us < 10000)
                us *= 2;
            if (shmctl(shmid, IPC_STAT, &ds) < 0) {
                if (errno == EINVAL || errno == EIDRM)
                    errno = ENOENT;
                return -1;
            }
        }
    }
    /* The block was READY when it was found: any other state but an
     * UNLINKING with the remover's mark was written by a user of the block.
     * Someone allowed to remove it asked to, so put the state back and
     * remove it the ordinary way (the swap below still picks one winner). */
    if (hdr_rw != NULL && seen != SVS_STATE_READY &&
        !(seen == SVS_STATE_UNLINKING &&
          ((unsigned)ds.shm_perm.mode & 0111u) == SVS_MODE_DOOMED))
        (void)svs_cas32(&hdr_rw->state, seen, SVS_STATE_READY);
    over_making = ((unsigned)ds.shm_perm.mode & 0777u) == SVS_MODE_MAKING;
    if (seg_set_mode(shmid, &ds, ((unsigned)ds.shm_perm.mode & 0666u) | SVS_MODE_DOOMED) < 0) {
        if (errno == EINVAL || errno == EIDRM)
            errno = ENOENT;
        return -1;
    }
    svs_fault("unlink.after_doom");
    /* Of concurrent removers exactly one moves READY to UNLINKING; the rest
     * are told the block is gone.  Without an atomic compare-and-swap, or
     * without a writable mapping, the removal of the semaphore set or of the
     * segment (each succeeds once) decides instead. */
    if (hdr_rw != NULL) {
        if (!svs_cas32(&hdr_rw->state, SVS_STATE_READY, SVS_STATE_UNLINKING)) {
            errno = ENOENT;
            return -1;
        }
        svs_fence();
    }
    keep_doomed(shmid, over_making);
    svs_fault("unlink.after_mark");
    if (semid >= 0) {
        int gone = semget(key, 0, 0) != semid || semctl(semid, 0, IPC_RMID) < 0;

        if (gone && (!SVS_CAS_ATOMIC || hdr_rw == NULL)) {
            errno = ENOENT;
            return -1;
        }
    }
    svs_fault("unlink.after_sem");
    if (hdr_rw == NULL)
        keep_doomed(shmid, over_making);
    if (shmctl(shmid, IPC_RMID, NULL) < 0) {
        if (errno == EINVAL || errno == EIDRM)
            errno = ENOENT;
        return -1;
    }
    return 0;
}

/* block_destroy through a writable mapping of our own if we may have one
 * (for the UNLINKING mark), else without one. */
static int
block_destroy_mapped(key_t key, int shmid, int semid)
{
    struct svs_header *rw = shmat(shmid, NULL, 0);
    int rc, saved;

    if (rw == (void *)-1)
        rw = NULL;
    rc = block_destroy(key, shmid, rw, semid);
    saved = errno;
    if (rw != NULL)
        shmdt((void *)rw);
    errno = saved;
    return rc;
}

int
svs_destroy_by_id(key_t key, int shmid, int semid, int map)
{
    /* The same segment still at its key is the block we had; once it was
     * removed the key is free or another block's, and ids are not reused
     * while a segment lives.  Without a mapping there is no state to swap:
     * the removal of the set, or of the segment, picks one winner. */
    if (shmget(key, 0, 0) != shmid) {
        errno = ENOENT;
        return -1;
    }
    /* The fast lock's lockers learn of the removal from the state alone. */
    if (map)
        return block_destroy_mapped(key, shmid, semid);
    return block_destroy(key, shmid, NULL, semid);
}

static sysvshm_t *
handle_new(void)
{
    sysvshm_t *h = calloc(1, sizeof *h);

    if (h == NULL)
        return NULL;
    h->shmid = -1;
    h->semid = -1;
    /* Register the fork hook now, before the caller can fork with a lock. */
    (void)svs_fork_generation();
    h->pid = svs_getpid();
    return h;
}

/* Fill a handle from the checked copy `c` of the header at hdr. */
static void
handle_fill(sysvshm_t *h, struct svs_header *hdr, const struct svs_header *c,
            int shmid, key_t key, int rdonly)
{
    h->hdr = hdr;
    h->buf = (unsigned char *)hdr + c->data_off;
    h->size = (size_t)c->size;
    h->shmid = shmid;
    h->semid = (c->flags & SVS_HF_LOCK) ? c->semid : -1;
    h->key = key;
    h->rdonly = rdonly;
    h->fast = (c->flags & SVS_HF_FAST) != 0;
    h->slot = -1;
    /* The fast lock's words need a writable mapping: a read-only handle
     * makes a second one when it first locks. */
    h->lk = rdonly ? NULL : hdr;
    memcpy(h->name, c->name, c->name_len);
    h->name[c->name_len] = '\0';
}

/* ---- create ---------------------------------------------------------------- */

enum claim { CLAIM_WON, CLAIM_LOST, CLAIM_RETRY, CLAIM_NEXT, CLAIM_FAIL };

/*
 * Make the block's semaphore set at key, with the library's mark in its
 * mode.  A set of our own user's, with our mark, whose block is gone (a
 * remover or creator died between the two) is removed first: without that
 * it would hold one of the name's keys for ever.
 */
static int
make_set(key_t key, int shmid, mode_t mode, int nsems)
{
    int flags = IPC_CREAT | IPC_EXCL | (int)mode | (int)SVS_SEM_MARK;
    int semid = semget(key, nsems, flags);
    int stray;

    if (semid >= 0 || errno != EEXIST)
        return semid;
    stray = svs_sem_stray(key, shmid);
    if (stray < 0 || semctl(stray, 0, IPC_RMID) < 0) {
        errno = EEXIST;
        return -1;
    }
    return semget(key, nsems, flags);
}

/*
 * We made the segment `shmid` at probe index i: write the header, check no
 * other key holds the name, make the semaphore set, publish.  On anything but
 * CLAIM_WON our segment is gone again.
 */
static enum claim
claim(sysvshm_t *h, const char *bare, size_t len, unsigned i, int shmid,
      size_t size, int flags, mode_t mode, long long deadline)
{
    key_t key = svs_probe_key(bare, len, i);
    struct svs_header *hdr;
    struct slot s;
    unsigned j;
    int semid = -1;
    int saved;
    enum claim result = CLAIM_FAIL;

    svs_fault("create.after_shmget");
    hdr = shmat(shmid, NULL, 0);
    if (hdr == (void *)-1) {
        saved = errno;
        shmctl(shmid, IPC_RMID, NULL);
        errno = saved;
        return CLAIM_FAIL;
    }
    svs_fault("create.after_shmat");
    /* Everything but the magic first: a reader that sees the magic sees a
     * header it can check. */
    hdr->version = (flags & SYSVSHM_FASTLOCK) ? SVS_FORMAT_VERSION_FAST : SVS_FORMAT_VERSION;
    hdr->size = (uint64_t)size;
    hdr->data_off = SVS_DATA_OFF;
    hdr->flags = (flags & SYSVSHM_NOLOCK) ? 0
               : (flags & SYSVSHM_FASTLOCK) ? SVS_HF_LOCK | SVS_HF_FAST : SVS_HF_LOCK;
    hdr->semid = -1;
    hdr->probe = i;
    svs_fault("create.header_half");
    hdr->name_len = (uint32_t)len;
    memcpy(hdr->name, bare, len);
    hdr->state = SVS_STATE_INIT;
    svs_fence();
    memcpy(hdr->magic, SVS_MAGIC, sizeof hdr->magic);
    svs_fence();
    svs_fault("create.after_header");

    for (j = 0; j < SYSVSHM_PROBE_MAX; j++) {
        key_t kj = svs_probe_key(bare, len, j);
        int k;

        if (j == i)
            continue;
        k = slot_examine(kj, j, bare, len, 0, 0, &s);
        if (k < 0)
            goto undo; /* EMFILE, ENOMEM: we cannot tell, so do not win */
        if (k == SLOT_PARTIAL && j < i && slot_partial_fresh(&s)) {
            /* Perhaps a racer at a lower key that has not written its
             * header yet: if we did not wait, it could see us still INIT
             * and win too.  (A racer at a higher key will see us and lose.)
             * After the wait it is taken for what it looks like: not ours;
             * a racer stalled that long finds us READY and loses. */
            enum settle st = slot_wait(kj, &s, deadline);

            slot_release(&s);
            if (st == SETTLED_READY)
                j--; /* it has a header now: look again */
            continue;
        }
        if (k == SLOT_PARTIAL) {
            (void)slot_reclaim(kj, &s); /* if provably abandoned; else step around */
            continue;
        }
        if (k == SLOT_BAD && s.bad_named) {
            errno = EEXIST;
            goto lose;
        }
        if (k != SLOT_MINE) {
            slot_release(&s);
            continue;
        }
        if (s.seen == SVS_SEEN_READY) {
            /* A remover that died between the set and the segment left it
             * complete-looking: finish that; otherwise the name is taken. */
            if (slot_reclaim(kj, &s) == 0)
                continue;
            errno = EEXIST;
            goto lose;
        }
        if (s.seen == SVS_SEEN_UNLINKING) {
            /* A remover died half-way: finish it, unless the old block is
             * still in use -- then it keeps its key until its users let go,
             * and the name, already free, goes elsewhere. */
            (void)slot_reclaim(kj, &s);
            continue;
        }
        /* INIT: a racing creator.  The lower index wins; a dead one's
         * half-made block is cleared away. */
        if (slot_reclaim(kj, &s) == 0)
            continue;
        if (j < i) {
            result = CLAIM_LOST;
            goto undo;
        }
    }

    if (hdr->flags & SVS_HF_LOCK) {
        hdr->semid = -2;
        svs_fence();
        svs_fault("create.before_sem");
        semid = make_set(key, shmid, mode,
                         (hdr->flags & SVS_HF_FAST) ? SVS_NSEMS_FAST : SVS_NSEMS);
        if (semid < 0) {
            /* Someone else's set sits on this key: try the next key. */
            if (errno == EEXIST)
                result = CLAIM_NEXT;
            goto undo;
        }
        svs_fault("create.set_made");
        hdr->semid = semid;
        svs_fault("create.after_semget");
        if (svs_sem_init(semid) < 0)
            goto undo;
    }
    svs_fence();
    svs_fault("create.before_ready");
    hdr->state = SVS_STATE_READY;
    svs_fence();
    svs_fault("create.after_ready");
    /* Only now the caller's mode replaces the creator's mark: a creator
     * that dies any earlier leaves the proof that the block is a half-made
     * one of ours; one that dies just after leaves a complete block that only
     * its owner can use until the mode is set by hand. */
    {
        struct shmid_ds ds;

        if (shmctl(shmid, IPC_STAT, &ds) == 0)
            (void)seg_set_mode(shmid, &ds, (unsigned)mode);
        /* A remover may have found the block READY a moment ago, marked it,
         * and moved it on; our mode has then wiped its mark.  Put it back.
         * (The remover looks again after its swap: whichever of us comes
         * second sees the other.  Only our own user can attach a block
         * that is still 0711, so no mere writer can bring this on.) */
        svs_fence();
        if (hdr->state != SVS_STATE_READY && shmctl(shmid, IPC_STAT, &ds) == 0)
            (void)seg_set_mode(shmid, &ds, ((unsigned)mode & 0666u) | SVS_MODE_DOOMED);
    }
    {
        struct svs_header mine;

        memcpy(&mine, (const void *)hdr, sizeof mine);
        handle_fill(h, hdr, &mine, shmid, key, 0);
    }
    return CLAIM_WON;

lose:
    result = CLAIM_FAIL;
undo:
    saved = errno;
    if (semid >= 0)
        semctl(semid, 0, IPC_RMID);
    shmdt((void *)hdr);
    shmctl(shmid, IPC_RMID, NULL);
    errno = saved;
    return result;
}

static sysvshm_t *
create_named(const char *name, size_t size, int flags, mode_t mode)
{
    const char *bare;
    size_t len;
    sysvshm_t *h;
    long long deadline = svs_now_ms() + SVS_INIT_WAIT_MS;
    unsigned i;
    int retries = 0;

    if (svs_name_check(name, &bare, &len) < 0)
        return NULL;
    h = handle_new();
    if (h == NULL)
        return NULL;

restart:
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        key_t key = svs_probe_key(bare, len, i);
        struct slot s;
        int shmid, k;

        if (++retries > 1000) { /* a key that keeps changing hands */
            errno = EAGAIN;
            goto fail;
        }
        /* Made with the creator's mark for its mode (reclaim.c): from the
         * first instant, a creator that dies leaves proof of what it was. */
        shmid = shmget(key, SVS_DATA_OFF + size, IPC_CREAT | IPC_EXCL | (int)SVS_MODE_MAKING);
        if (shmid >= 0) {
            switch (claim(h, bare, len, i, shmid, size, flags, mode, deadline)) {
            case CLAIM_WON:
                return h;
            case CLAIM_NEXT:
                continue;
            case CLAIM_RETRY:
                goto restart;
            case CLAIM_LOST:
                /* A racer at a lower key is ahead of us: it will finish
                 * (EEXIST) or fail (then the name is free: try again). */
                svs_sleep_us(1000);
                if (svs_now_ms() >= deadline) {
                    errno = EEXIST;
                    goto fail;
                }
                goto restart;
            case CLAIM_FAIL:
                goto fail;
            }
        }
        if (errno != EEXIST)
            goto fail;
        k = slot_examine(key, i, bare, len, 0, 0, &s);
        if (k < 0)
            goto fail;
        switch (k) {
        case SLOT_EMPTY: /* removed since our shmget: try it again */
            i--;
            continue;
        case SLOT_MINE:
            if (s.seen == SVS_SEEN_READY) {
                /* Complete -- unless a remover died between the set and the
                 * segment: then finish its work. */
                if (slot_reclaim(key, &s) == 0) {
                    i--;
                    continue;
                }
                errno = EEXIST;
                goto fail;
            }
            if (s.seen == SVS_SEEN_UNLINKING) {
                /* A remover died half-way: finish its work -- unless the
                 * old block is still in use; then it keeps this key until
                 * its users let go, and the new block goes to the next. */
                if (slot_reclaim(key, &s) == 0)
                    i--;
                continue;
            }
            switch (slot_wait(key, &s, deadline)) {
            case SETTLED_READY:
                slot_release(&s);
                errno = EEXIST;
                goto fail;
            case SETTLED_DEAD:
                if (slot_reclaim(key, &s) == 0) {
                    i--;
                    continue;
                }
                errno = EEXIST;
                goto fail;
            case SETTLED_GONE:
                slot_release(&s);
                i--;
                continue;
            case SETTLED_TIMEOUT:
                slot_release(&s);
                errno = EEXIST;
                goto fail;
            }
            break;
        case SLOT_BAD:
            if (s.bad_named) {
                errno = EEXIST;
                goto fail;
            }
            continue;
        case SLOT_PARTIAL:
            /* Removed only with the proof of a dead creator of ours;
             * otherwise another program's, and stepped around. */
            if (slot_reclaim(key, &s) == 0)
                i--;
            continue;
        default: /* another name's block, or not ours: next key */
            continue;
        }
    }
    errno = EADDRINUSE;
fail:
    {
        int saved = errno;

        free(h);
        errno = saved;
    }
    return NULL;
}

sysvshm_t *
sysvshm_create(const char *name, size_t size, int flags, mode_t mode)
{
    char gen[SYSVSHM_NAME_MAX + 1];
    sysvshm_t *h;
    int tries;

    /* Execute bits are refused: the library uses them as marks that only an
     * owner can set (reclaim.c). */
    if ((flags & ~(SYSVSHM_NOLOCK | SYSVSHM_FASTLOCK)) != 0 ||
        (flags & (SYSVSHM_NOLOCK | SYSVSHM_FASTLOCK)) == (SYSVSHM_NOLOCK | SYSVSHM_FASTLOCK) ||
        (mode & ~(mode_t)0666) != 0 || (mode & 0600) != 0600 || size == 0) {
        errno = EINVAL;
        return NULL;
    }
    /* Without atomics there is no fast lock to give: an ordinary block
     * keeps every promise, at the semaphores' speed. */
    if (!svs_fast_available())
        flags &= ~SYSVSHM_FASTLOCK;
    /* shmget takes a size_t: the header must fit on top without wrapping. */
    if (size > (size_t)-1 - SVS_DATA_OFF) {
        errno = EINVAL;
        return NULL;
    }
    if (name != NULL)
        return create_named(name, size, flags, mode);
    for (tries = 0; tries < 16; tries++) {
        svs_name_generate(gen, sizeof gen);
        h = create_named(gen, size, flags, mode);
        if (h != NULL || errno != EEXIST)
            return h;
    }
    return NULL;
}

/* ---- attach --------------------------------------------------------------------- */

/*
 * Find the name's READY block; on success out->hdr is mapped (rw if map_rw).
 * The caller's own blocks (made by its effective user) come first, in probe
 * order; then, at the keys passed over for that reason alone, root's blocks
 * (or, with SYSVSHM_ANYUSER, anybody's).  So a block another user put at an
 * earlier key never hides one's own.  for_remove: also accept a block whose
 * semaphore set was removed by hand (out->set_gone tells), so that its owner
 * can clear it.
 */
static int
find_block(const char *bare, size_t len, int flags, int map_rw, int for_remove,
           struct slot *out, key_t *keyp)
{
    long long deadline = svs_now_ms() + SVS_INIT_WAIT_MS;
    int saw_bad = 0, saw_denied = 0, saw_busy = 0;
    unsigned visit = (1u << SYSVSHM_PROBE_MAX) - 1, later = 0;
    int pass;

    for (pass = 0; pass < 2; pass++) {
        unsigned i;

        for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
            key_t key = svs_probe_key(bare, len, i);
            int k;

            if (!(visit & (1u << i)))
                continue;
            k = slot_examine(key, i, bare, len, pass == 0 ? flags | SVS_OWN_ONLY : flags,
                             map_rw, out);
            if (k < 0)
                return -1;
            if (k == SLOT_DENIED && pass == 0 && out->not_own) {
                later |= 1u << i; /* another user's: look again in pass 2 */
                continue;
            }
            if (k == SLOT_BAD)
                saw_bad = 1;
            if (k == SLOT_DENIED)
                saw_denied = 1;
            if (k == SLOT_PARTIAL)
                slot_release(out);
            if (k != SLOT_MINE)
                continue;
            /* Decide on the checked copy: the live state may have moved on
             * since, and the copy would then be stale (semid not yet set). */
            if (out->copy.state == SVS_STATE_INIT) {
                enum settle st = slot_wait(key, out, deadline);

                if (st == SETTLED_TIMEOUT)
                    saw_busy = 1;
                if (st != SETTLED_READY) {
                    slot_release(out);
                    continue;
                }
                /* Its creator has now written the semaphore id: check again. */
                if (slot_check(out, key) != SVS_HDR_OK) {
                    slot_release(out);
                    saw_bad = 1;
                    continue;
                }
                if (shmctl(out->shmid, IPC_STAT, &out->ds) == 0)
                    slot_judge_state(out, key);
                if (out->kind == SLOT_BAD) {
                    slot_release(out);
                    saw_bad = 1;
                    continue;
                }
            }
            if (out->copy.state != SVS_STATE_READY) {
                slot_release(out);
                continue;
            }
            /* The set the header names must be the one at the key, or the
             * header lies -- unless a remover took the set away just now
             * (or died after that: its mark says so), or someone removed
             * it by hand and the block's owner now removes the block. */
            if ((out->copy.flags & SVS_HF_LOCK) && semget(key, 0, 0) != out->copy.semid) {
                struct shmid_ds ds;
                int removed = !slot_present(key, out) ||
                              out->hdr->state != SVS_STATE_READY ||
                              (shmctl(out->shmid, IPC_STAT, &ds) == 0 &&
                               ((unsigned)ds.shm_perm.mode & 0111u) == SVS_MODE_DOOMED);

                if (for_remove && !removed && semget(key, 0, 0) < 0 && errno == ENOENT) {
                    out->set_gone = 1;
                    *keyp = key;
                    return 0;
                }
                slot_release(out);
                if (!removed)
                    saw_bad = 1;
                continue;
            }
            out->set_gone = 0;
            *keyp = key;
            return 0;
        }
        visit = later;
        if (visit == 0)
            break;
    }
    errno = saw_bad ? EPROTO : saw_busy ? EAGAIN : saw_denied ? EACCES : ENOENT;
    return -1;
}

sysvshm_t *
sysvshm_attach(const char *name, int flags)
{
    const char *bare;
    size_t len;
    sysvshm_t *h;
    struct slot s;
    key_t key;
    int saved;

    if ((flags & ~(SYSVSHM_RDONLY | SYSVSHM_ANYUSER)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    if (svs_name_check(name, &bare, &len) < 0)
        return NULL;
    h = handle_new();
    if (h == NULL)
        return NULL;
    if (find_block(bare, len, flags, !(flags & SYSVSHM_RDONLY), 0, &s, &key) < 0) {
        saved = errno;
        free(h);
        errno = saved;
        return NULL;
    }
    handle_fill(h, s.hdr, &s.copy, s.shmid, key, (flags & SYSVSHM_RDONLY) != 0);
    return h;
}

/* ---- accessors ------------------------------------------------------------------ */

void *
sysvshm_buf(const sysvshm_t *shm)
{
    return shm != NULL ? shm->buf : NULL;
}

size_t
sysvshm_size(const sysvshm_t *shm)
{
    return shm != NULL ? shm->size : 0;
}

const char *
sysvshm_name(const sysvshm_t *shm)
{
    return shm != NULL ? shm->name : NULL;
}

key_t
sysvshm_key(const sysvshm_t *shm)
{
    return shm != NULL ? shm->key : (key_t)-1;
}

const char *
sysvshm_version(void)
{
    return SYSVSHM_VERSION_STRING;
}

/* ---- close, unlink, remove ----------------------------------------------------- */

int
sysvshm_close(sysvshm_t *shm)
{
    int rc = 0;

    if (shm == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (shm->held && shm->held_gen == svs_fork_generation())
        (void)sysvshm_unlock(shm);
    if (shm->fast)
        svs_fast_close(shm);
    if (shmdt((void *)shm->hdr) < 0)
        rc = -1;
    {
        int saved = errno;

        free(shm);
        errno = saved;
    }
    return rc;
}

int
sysvshm_unlink(sysvshm_t *shm)
{
    struct svs_header *rw;
    int rc, saved;

    if (shm == NULL) {
        errno = EINVAL;
        return -1;
    }
    /* By id, never by key: a newer block of the same name is not ours.
     * Our segment, removed by someone else, has left its key (Linux marks
     * it SVS_SHM_DEST instead, which block_destroy reads in its first stat). */
    if (shm->unlinked
#ifndef SVS_SHM_DEST
        || shmget(shm->key, 0, 0) != shm->shmid
#endif
       ) {
        shm->unlinked = 1;
        errno = ENOENT;
        return -1;
    }
    rw = shm->hdr;
    if (shm->rdonly) {
        /* Mark it UNLINKING through a writable mapping if we may have one;
         * otherwise block_destroy removes it unmarked. */
        rw = shmat(shm->shmid, NULL, 0);
        if (rw == (void *)-1)
            rw = NULL;
    }
    rc = block_destroy(shm->key, shm->shmid, rw, shm->semid);
    saved = errno;
    if (rw != NULL && rw != shm->hdr)
        shmdt((void *)rw);
    if (rc == 0 || saved == ENOENT)
        shm->unlinked = 1;
    errno = saved;
    return rc;
}

int
sysvshm_remove_v2(const char *name, int flags)
{
    const char *bare;
    size_t len;
    struct slot s;
    key_t key;
    int rc, saved, semid;

    if ((flags & ~SYSVSHM_ANYUSER) != 0) {
        errno = EINVAL;
        return -1;
    }
    if (svs_name_check(name, &bare, &len) < 0)
        return -1;
    if (find_block(bare, len, flags, 0, 1, &s, &key) < 0)
        return -1;
    /* find_block mapped it read-only (a failed remove must change nothing);
     * the UNLINKING mark needs a writable mapping.  A set removed by hand
     * is not looked for: whatever sits at the key now is not the block's. */
    semid = (s.copy.flags & SVS_HF_LOCK) && !s.set_gone ? s.copy.semid : -1;
    rc = block_destroy_mapped(key, s.shmid, semid);
    saved = errno;
    slot_release(&s);
    errno = saved;
    return rc;
}

int
sysvshm_remove(const char *name)
{
    return sysvshm_remove_v2(name, 0);
}
