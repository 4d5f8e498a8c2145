/*
 * scan.c - list the host's SysV segments and tell which are this library's
 * blocks, and in which state.
 *
 * Listing: Linux's /proc/sysvipc/shm shows every segment to every user, with
 * its shmid_ds.  Elsewhere (or when forced, to test it) `ipcs -m' is run and
 * only its key and id columns are used; shmctl(IPC_STAT) gives the rest.
 * Each segment is then attached read-only for a moment to read its header,
 * which svs_header_check judges: only a header it calls OK is believed.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "scan.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#ifndef SVS_IPCS_PATH
#define SVS_IPCS_PATH "" /* configure found none: look in PATH */
#endif
#define PROC_SHM "/proc/sysvipc/shm"

/* Linux's mode bit for a destroyed segment that is still attached
 * (svs_int.h); elsewhere such segments are not looked into. */
#ifndef SVS_SHM_DEST
#define SVS_SHM_DEST 0
#endif

const char *
seg_state_name(enum seg_state s)
{
    switch (s) {
    case ST_READY: return "ready";
    case ST_INIT: return "init";
    case ST_HALFMADE: return "half-made";
    case ST_UNLINKING: return "unlinking";
    case ST_NOHEADER: return "no-header";
    case ST_SUSPECT: return "suspect";
    case ST_REMOVED: return "removed";
    case ST_DAMAGED: return "damaged";
    case ST_FOREIGN: return "foreign";
    case ST_NOACCESS: return "no-access";
    }
    return "?";
}

int
seg_is_ours(const struct seginfo *s)
{
    return s->state != ST_FOREIGN && s->state != ST_NOACCESS;
}

void
seglist_free(struct seglist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static struct seginfo *
seglist_add(struct seglist *l)
{
    struct seginfo *s;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct seginfo *v = realloc(l->v, cap * sizeof *v);

        if (v == NULL)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    s->lock.semid = -1;
    s->hsemid = -1;
    s->cpid_alive = -1;
    return s;
}

static void
fill_from_ds(struct seginfo *s, const struct shmid_ds *ds)
{
    s->have_ds = 1;
    s->segsz = (unsigned long long)ds->shm_segsz;
    s->mode = (unsigned)ds->shm_perm.mode & 0777u;
    s->dest = ((unsigned)ds->shm_perm.mode & SVS_SHM_DEST) != 0;
    s->uid = ds->shm_perm.uid;
    s->gid = ds->shm_perm.gid;
    s->cuid = ds->shm_perm.cuid;
    s->cgid = ds->shm_perm.cgid;
    s->cpid = (long)ds->shm_cpid;
    s->lpid = (long)ds->shm_lpid;
    s->nattch = (unsigned long)ds->shm_nattch;
    s->atime = ds->shm_atime;
    s->dtime = ds->shm_dtime;
    s->ctime = ds->shm_ctime;
}

/* ---- the lock ------------------------------------------------------------- */

static unsigned
bit_count(uint32_t v)
{
    unsigned n = 0;

    for (; v != 0; v &= v - 1)
        n++;
    return n;
}

/*
 * A version 2 block's lock words and its set's values (v, SVS_NSEMS_FAST
 * of them), read so that they agree: words, set, words again, until both
 * looks at the words match -- a holder that let go and gave its slot back
 * in between would otherwise look like a dead one.  The header copy h
 * stands in when the segment cannot be attached again.  Returns 0, or -1
 * with GETALL's errno.
 */
static int
read_fast_words(struct seginfo *s, const struct svs_header *h, unsigned short *v)
{
    struct lockinfo *lk = &s->lock;
    const struct svs_header *live;
    union semun arg;
    void *addr;
    int tries;

    arg.array = v;
    lk->lk_ctl = h->lk_ctl;
    lk->lk_readers = h->lk_readers;
    addr = shmat(s->shmid, NULL, SHM_RDONLY);
    if (addr == (void *)-1)
        return semctl(h->semid, 0, GETALL, arg) < 0 ? -1 : 0;
    live = addr;
    for (tries = 0;; tries++) {
        uint32_t c = live->lk_ctl, r = live->lk_readers;
        int32_t w = live->writer;

        if (semctl(h->semid, 0, GETALL, arg) < 0) {
            int saved = errno;

            shmdt(addr);
            errno = saved;
            return -1;
        }
        lk->lk_ctl = c;
        lk->lk_readers = r;
        lk->writer = (long)w;
        if ((live->lk_ctl == c && live->lk_readers == r) || tries == 4)
            break;
    }
    shmdt(addr);
    lk->writer_alive = lk->writer > 0 ? svs_pid_alive(lk->writer) : 0;
    return 0;
}

/* GETPID of semaphore num of the set, 0 if unknown. */
static long
sem_pid(int semid, int num)
{
    int pid = semctl(semid, num, GETPID);

    return pid > 0 ? pid : 0;
}

/* What the fast lock's words and presence semaphores say (see lockinfo). */
static void
judge_fast(struct lockinfo *lk, int semid, const unsigned short *v)
{
    uint32_t live_readers;
    unsigned k;

    lk->wslot = lk->lk_ctl & SVS_LK_WMASK;
    lk->nslot = (lk->lk_ctl & SVS_LK_NEXT_MASK) >> SVS_LK_NEXT_SHIFT;
    lk->ovr_bit = (lk->lk_ctl & SVS_LK_OVR) != 0;
    lk->sleepers = lk->lk_ctl >> SVS_LK_SLEEP_SHIFT;
    lk->wake = v[SVS_SEM_WAKE];
    lk->ovw = v[SVS_SEM_OVW];
    lk->ovr = v[SVS_SEM_OVR];
    lk->nreaders = bit_count(lk->lk_readers);
    for (k = 0; k < SVS_SLOTS; k++) {
        uint32_t b = (uint32_t)1 << k;
        int mine = (lk->lk_readers & b) != 0 || lk->wslot == k + 1;

        if (v[SVS_SEM_SLOT0 + k] != 0)
            lk->present |= b;
        else if (mine)
            lk->dead |= b;
        if (v[SVS_SEM_SLOT0 + k] != 0 || mine)
            lk->slot_pid[k] = sem_pid(semid, (int)(SVS_SEM_SLOT0 + k));
    }
    /* Slot 32 is the slotless writer's, whose presence is OVW. */
    lk->ovw_dead = lk->wslot == SVS_SLOTS + 1 && lk->ovw == 0;
    if (lk->ovw != 0 || lk->wslot == SVS_SLOTS + 1)
        lk->ovw_pid = sem_pid(semid, SVS_SEM_OVW);
    if (lk->ovr != 0)
        lk->ovr_pid = sem_pid(semid, SVS_SEM_OVR);
    /* A writer slot beyond slot 32 is no holder anybody owns: a damaged
     * word (the next locker clears it), shown as it is. */
    if (lk->wslot >= 1 && lk->wslot <= SVS_SLOTS)
        lk->wlive = (lk->present & ((uint32_t)1 << (lk->wslot - 1))) != 0;
    else
        lk->wlive = lk->wslot == SVS_SLOTS + 1 && lk->ovw != 0;
    live_readers = lk->lk_readers & lk->present;
    /* The kernel counts the slotless readers, and undoes a dead one's. */
    lk->r = bit_count(live_readers) + lk->ovr;
    lk->pending = lk->wlive && (lk->lk_readers != 0 || lk->ovr != 0);
    if (lk->wlive) {
        lk->w = 1;
        lk->pid_w = lk->wslot <= SVS_SLOTS ? lk->slot_pid[lk->wslot - 1] : lk->ovw_pid;
    }
    if (lk->wlive && lk->r == 0)
        lk->kind = LK_WRITE;
    else if (lk->r > 0)
        lk->kind = LK_READ;
    else
        lk->kind = LK_FREE;
}

static void
read_lock(struct seginfo *s, const struct svs_header *h)
{
    struct lockinfo *lk = &s->lock;
    unsigned short v[SVS_NSEMS_FAST];
    unsigned long want;
    struct semid_ds sds;
    union semun arg;
    int pid;

    lk->writer = (long)h->writer;
    lk->writer_alive = lk->writer > 0 ? svs_pid_alive(lk->writer) : 0;
    if (!(h->flags & SVS_HF_LOCK)) {
        lk->kind = LK_NOLOCK;
        return;
    }
    if (h->semid < 0) {
        lk->kind = LK_PENDING;
        return;
    }
    lk->semid = h->semid;
    /* The set the header names must be the one at the key (as attach
     * checks), or it is not the block's. */
    if (semget(s->key, 0, 0) != h->semid) {
        lk->kind = LK_MISSING;
        return;
    }
    arg.buf = &sds;
    if (semctl(h->semid, 0, IPC_STAT, arg) < 0) {
        /* Without its size, GETALL could write past v. */
        lk->kind = errno == EACCES ? LK_DENIED : LK_MISSING;
        return;
    }
    lk->have_semds = 1;
    lk->nsems = (unsigned long)sds.sem_nsems;
    lk->sem_mode = (unsigned)sds.sem_perm.mode & 0777u;
    lk->sem_uid = sds.sem_perm.uid;
    lk->sem_cuid = sds.sem_perm.cuid;
    lk->sem_otime = sds.sem_otime;
    lk->sem_ctime = sds.sem_ctime;
    /* Each kind of block has a set of its own size (svs_int.h). */
    want = (h->flags & SVS_HF_FAST) ? SVS_NSEMS_FAST : SVS_NSEMS;
    if (!SVS_NSEMS_OK(lk->nsems) || lk->nsems != want) {
        lk->kind = LK_MISSING;
        return;
    }
    if (h->flags & SVS_HF_FAST) {
        lk->fast = 1;
        if (read_fast_words(s, h, v) < 0) {
            lk->kind = errno == EACCES ? LK_DENIED : LK_MISSING;
            return;
        }
        judge_fast(lk, h->semid, v);
        return;
    }
    arg.array = v;
    if (semctl(h->semid, 0, GETALL, arg) < 0) {
        lk->kind = errno == EACCES ? LK_DENIED : LK_MISSING;
        return;
    }
    lk->w = v[SVS_SEM_W];
    lk->r = v[SVS_SEM_R];
    lk->t = v[SVS_SEM_T];
    pid = semctl(h->semid, SVS_SEM_W, GETPID);
    lk->pid_w = pid > 0 ? pid : 0;
    pid = semctl(h->semid, SVS_SEM_R, GETPID);
    lk->pid_r = pid > 0 ? pid : 0;
    if (lk->w > 0)
        lk->kind = LK_WRITE;
    else if (lk->r > 0)
        lk->kind = LK_READ;
    else
        lk->kind = LK_FREE;
}

/* ---- one segment -------------------------------------------------------------- */

/* A name from a header we do not trust: only for matching and display. */
static void
salvage_name(struct seginfo *s, const struct svs_header *h)
{
    size_t n = 0;

    while (n < SYSVSHM_NAME_MAX && h->name[n] != '\0')
        n++;
    if (n == 0)
        return;
    memcpy(s->name, h->name, n);
    s->name[n] = '\0';
    s->have_name = 1;
}

int
scan_key_ours(key_t key)
{
    return ((unsigned long)(unsigned int)key & 0xff000000UL) == 0x53000000UL;
}

/*
 * Could the segment be one of our blocks?  They live at keys 0x53xxxxxx
 * only; once destroyed (and still attached) at IPC_PRIVATE, which Linux
 * marks SHM_DEST.  Other segments are not even attached: attaching updates
 * their shm_atime and shm_lpid, which their owners may be watching.
 */
static int
could_be_ours(const struct seginfo *s)
{
    if (s->segsz < sizeof(((struct svs_header *)0)->magic))
        return 0;
    /* A creator makes its segment with exactly this mode: one that died
     * before it attached leaves it never attached, and it must be seen. */
    if (scan_key_ours(s->key) && s->mode == SVS_MODE_MAKING)
        return 1;
    /* Otherwise never attached means never written: no header to read. */
    if (s->atime == 0)
        return 0;
    if (scan_key_ours(s->key))
        return 1;
    return s->key == IPC_PRIVATE && s->dest;
}

/*
 * A segment with no magic: is it, byte for byte, what a creator of this
 * library writes before the magic -- all zero, or a prefix of a header whose
 * name hashes to this key (svs_header_prefix judges the other fields)?
 * Returns 1 (name in s->name if the prefix holds it whole), 0 if the bytes
 * could be a creator's but do not tell whose, -1 if they are another
 * program's.
 */
static int
partial_header(struct seginfo *s, const struct svs_header *h)
{
    const unsigned char *b = (const unsigned char *)h;
    size_t k, n;
    unsigned i;

    if (s->segsz <= SVS_DATA_OFF)
        return -1; /* too small to ever be a block */
    for (k = 0; k < sizeof *h; k++)
        if (b[k] != 0)
            break;
    if (k == sizeof *h)
        return 1;
    if (!svs_header_prefix(h, (size_t)s->segsz))
        return -1;
    for (n = 0; n < sizeof h->name && h->name[n] != '\0'; n++)
        if (h->name[n] == '/')
            return -1;
    for (k = n; k < sizeof h->name; k++)
        if (h->name[k] != '\0')
            return -1;
    /* Only a whole name that leads to this very key proves whose it is. */
    if (n == 0 || h->name_len != n)
        return 0;
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        if ((h->probe == 0 || h->probe == i) && svs_probe_key(h->name, n, i) == s->key) {
            memcpy(s->name, h->name, n);
            s->name[n] = '\0';
            s->have_name = 1;
            s->probe = i;
            return 1;
        }
    }
    return -1;
}

/* The verdict, in words for people. */
static void
explain(struct seginfo *s, const char *v)
{
    size_t n = sizeof s->note;

    if (v == NULL)
        return;
    if (strcmp(v, "in use") == 0)
        snprintf(s->note, n, "in use by %lu process%s", s->nattch,
                 s->nattch == 1 ? "" : "es");
    else if (strcmp(v, "another user's") == 0)
        snprintf(s->note, n, "another user's (uid %lu)", (unsigned long)s->cuid);
    else if (strcmp(v, "its creator is alive") == 0)
        snprintf(s->note, n, "its creator, process %ld, is alive", s->cpid);
    else if (strcmp(v, "its creator is unknown") == 0)
        snprintf(s->note, n, "its creator is not visible from here: counts as alive");
    else if (strcmp(v, "no creator's mark") == 0)
        snprintf(s->note, n, "no creator's mark (mode %04o)", s->mode);
    else
        snprintf(s->note, n, "%s", v);
}

/*
 * The verdict of the one rule (reclaim.c) for gc, and the state it implies.
 * For another user's leftover the state is what the rule would say to
 * someone allowed to remove it: the kernel's marks do not depend on who
 * looks, only the permission to act does.
 */
static void
judge(struct seginfo *s)
{
    const char *v;

    if (!s->have_kds) {
        s->verdict = "not examined";
        return;
    }
    v = svs_reclaim_verdict(&s->kds, s->seen, s->set_gone, 0, 1);
    s->verdict = v;
    if (v != NULL && strcmp(v, "another user's") == 0) {
        struct shmid_ds as_mine = s->kds;
        int same = as_mine.shm_perm.uid == as_mine.shm_perm.cuid;

        as_mine.shm_perm.cuid = geteuid();
        if (same)
            as_mine.shm_perm.uid = as_mine.shm_perm.cuid;
        if (svs_reclaim_verdict(&as_mine, s->seen, s->set_gone, 0, 1) == NULL)
            v = NULL; /* removable, by its owner or root */
    }
    switch (s->seen) {
    case SVS_SEEN_PARTIAL:
        s->state = v == NULL ? ST_HALFMADE : ST_NOHEADER;
        if (v == NULL && s->verdict == NULL)
            snprintf(s->note, sizeof s->note, "no header; its creator, process %ld, "
                     "died: gc removes it", s->cpid);
        else
            explain(s, s->verdict);
        break;
    case SVS_SEEN_INIT:
        if (svs_state_contradicted(SVS_SEEN_INIT, s->mode, s->cpid)) {
            /* The library takes such a block for damaged (segment.c). */
            s->state = ST_SUSPECT;
            snprintf(s->note, sizeof s->note, "INIT header without the creator's mark "
                     "(mode %04o), creator %ld dead: libsysvshm 0.1's or forged",
                     s->mode, s->cpid);
            break;
        }
        s->state = v == NULL ? ST_HALFMADE : ST_INIT;
        if (v == NULL && s->verdict == NULL)
            snprintf(s->note, sizeof s->note, "its creator, process %ld, died: gc "
                     "removes it", s->cpid);
        else
            explain(s, s->verdict);
        break;
    case SVS_SEEN_UNLINKING:
        if (svs_state_contradicted(SVS_SEEN_UNLINKING, s->mode, s->cpid)) {
            s->state = ST_SUSPECT;
            snprintf(s->note, sizeof s->note, "UNLINKING header without the remover's "
                     "mark: written by a user of the block, or libsysvshm 0.1's");
            break;
        }
        s->state = ST_UNLINKING;
        if (s->verdict == NULL)
            snprintf(s->note, sizeof s->note, "removal interrupted: gc finishes it");
        else
            explain(s, s->verdict);
        break;
    case SVS_SEEN_READY:
        s->state = ST_READY;
        if (v == NULL) {
            /* A remover died between the set and the segment. */
            s->state = ST_UNLINKING;
            if (s->verdict == NULL)
                snprintf(s->note, sizeof s->note, "removal interrupted after its "
                         "semaphore set: gc finishes it");
            else
                explain(s, s->verdict);
        } else if (s->mode & SVS_MODE_DOOMED) {
            snprintf(s->note, sizeof s->note, "a removal began (remover's mark)");
        } else if (s->mode == SVS_MODE_MAKING) {
            snprintf(s->note, sizeof s->note, "its creator never set its mode");
        }
        break;
    default:
        break;
    }
}

/* Refresh the shmid_ds after our own look, which attached and detached. */
static int
restat(struct seginfo *s)
{
    if (shmctl(s->shmid, IPC_STAT, &s->kds) < 0)
        return errno == EINVAL || errno == EIDRM ? 1 : -1;
    s->have_kds = 1;
    {
        key_t key = s->key;
        int shmid = s->shmid;

        fill_from_ds(s, &s->kds);
        s->key = key;
        s->shmid = shmid;
    }
    s->cpid_alive = s->cpid > 0 ? svs_pid_alive(s->cpid) : -1;
    return 0;
}

/*
 * Read the header of s (whose shmid_ds fields are filled) and classify it.
 * Returns 0, or 1 if the segment is gone.
 */
static int
examine(struct seginfo *s)
{
    struct svs_header h;
    size_t avail;
    void *addr;
    key_t key = s->key;
    int removed = 0, r;

    s->seen = SVS_SEEN_FOREIGN;
    s->verdict = "not provably this library's";
    s->cpid_alive = s->cpid > 0 ? svs_pid_alive(s->cpid) : -1;
    if (!could_be_ours(s)) {
        s->state = ST_FOREIGN;
        return 0;
    }
    memset(&h, 0, sizeof h);
    avail = s->segsz < sizeof h ? (size_t)s->segsz : sizeof h;
    if (s->atime == 0) {
        /* Never attached: the kernel's zeros, nothing to read -- and our
         * attach would not leave it looking untouched. */
        r = restat(s);
        if (r != 0) {
            if (r == 1)
                return 1;
            s->state = ST_NOACCESS;
            s->access_errno = errno;
            return 0;
        }
    } else {
        addr = shmat(s->shmid, NULL, SHM_RDONLY);
        if (addr == (void *)-1) {
            if (errno == EINVAL || errno == EIDRM)
                return 1;
            s->state = ST_NOACCESS;
            s->access_errno = errno;
            return 0;
        }
        memcpy(&h, addr, avail);
        shmdt(addr);
        if (restat(s) == 1)
            return 1;
    }

    /* A destroyed segment still attached somewhere has lost its key; judge
     * it against the key its own header says it had. */
    if (key == IPC_PRIVATE && avail >= sizeof h &&
        memcmp(h.magic, SVS_MAGIC, sizeof h.magic) == 0 &&
        h.name_len > 0 && h.name_len <= SYSVSHM_NAME_MAX &&
        h.probe < SYSVSHM_PROBE_MAX) {
        key = svs_probe_key(h.name, h.name_len, h.probe);
        removed = 1;
    }
    r = svs_header_check(&h, avail, (size_t)s->segsz, key);
    if (r == SVS_HDR_FOREIGN) {
        s->state = ST_FOREIGN;
        if (scan_key_ours(key) && s->mode == SVS_MODE_MAKING) {
            r = partial_header(s, &h);
            if (r < 0)
                return 0;
            s->seen = SVS_SEEN_PARTIAL;
            if (r == 0) {
                s->state = ST_NOHEADER;
                s->verdict = "not provably this library's";
                snprintf(s->note, sizeof s->note, "a header begun without its name: "
                         "cannot tell whose");
                return 0;
            }
            judge(s);
        }
        return 0;
    }
    if (r == SVS_HDR_BAD) {
        s->state = ST_DAMAGED;
        s->seen = SVS_SEEN_BAD;
        if (avail >= sizeof h)
            salvage_name(s, &h);
        return 0;
    }
    memcpy(s->name, h.name, h.name_len);
    s->name[h.name_len] = '\0';
    s->have_name = 1;
    s->size = (unsigned long long)h.size;
    s->probe = h.probe;
    s->hflags = h.flags;
    s->hsemid = h.semid;
    s->hstate = h.state;
    if (removed) {
        s->state = ST_REMOVED;
        return 0;
    }
    if (h.state == SVS_STATE_READY)
        s->seen = SVS_SEEN_READY;
    else if (h.state == SVS_STATE_UNLINKING)
        s->seen = SVS_SEEN_UNLINKING;
    else
        s->seen = SVS_SEEN_INIT;
    /* Gone, not replaced: no set at the key at all (as the library asks). */
    if ((h.flags & SVS_HF_LOCK) && h.semid >= 0)
        s->set_gone = semget(key, 0, 0) < 0 && errno == ENOENT;
    judge(s);
    read_lock(s, &h);
    return 0;
}

static void
seg_reset(struct seginfo *s)
{
    memset(s, 0, sizeof *s);
    s->lock.semid = -1;
    s->hsemid = -1;
    s->cpid_alive = -1;
}

/* Stat and examine the segment shmid at key into s.  Returns 0, 1 if gone. */
static int
stat_examine(struct seginfo *s, key_t key, int shmid)
{
    struct shmid_ds ds;

    seg_reset(s);
    s->key = key;
    s->shmid = shmid;
    if (shmctl(shmid, IPC_STAT, &ds) < 0) {
        if (errno == EINVAL || errno == EIDRM)
            return 1;
        s->state = ST_NOACCESS;
        s->access_errno = errno;
        return 0;
    }
    fill_from_ds(s, &ds);
    return examine(s);
}

int
scan_one(key_t key, int shmid, struct seginfo *s)
{
    if (key != IPC_PRIVATE && shmget(key, 0, 0) != shmid)
        return 1;
    if (stat_examine(s, key, shmid) == 1)
        return 1;
    if (s->state == ST_NOACCESS) {
        errno = s->access_errno;
        return -1;
    }
    return 0;
}

/* Stat and examine the segment shmid at key; appends it to l unless gone. */
static int
add_by_id(struct seglist *l, key_t key, int shmid)
{
    struct seginfo *s = seglist_add(l);

    if (s == NULL)
        return -1;
    if (stat_examine(s, key, shmid) == 1)
        l->n--;
    return 0;
}

/* ---- /proc/sysvipc/shm ------------------------------------------------------- */

enum { PC_KEY, PC_SHMID, PC_PERMS, PC_SIZE, PC_CPID, PC_LPID, PC_NATTCH, PC_UID,
       PC_GID, PC_CUID, PC_CGID, PC_ATIME, PC_DTIME, PC_CTIME, PC_N };
static const char *const proc_cols[PC_N] = {
    "key", "shmid", "perms", "size", "cpid", "lpid", "nattch", "uid",
    "gid", "cuid", "cgid", "atime", "dtime", "ctime"
};

#define MAXTOK 32

static int
split(char *line, char **tok, int max)
{
    int n = 0;
    char *p = line;

    while (n < max) {
        while (*p != '\0' && isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        tok[n++] = p;
        while (*p != '\0' && !isspace((unsigned char)*p))
            p++;
        if (*p != '\0')
            *p++ = '\0';
    }
    return n;
}

/* Read a line; a longer one than the buffer is cut and its rest skipped. */
static char *
read_line(char *buf, size_t len, FILE *fp)
{
    size_t n;

    if (fgets(buf, (int)len, fp) == NULL)
        return NULL;
    n = strlen(buf);
    if (n > 0 && buf[n - 1] != '\n' && !feof(fp)) {
        int c;

        while ((c = getc(fp)) != EOF && c != '\n')
            ;
    }
    return buf;
}

static int
num(const char *t, int base, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(t, &end, base);
    return errno == 0 && end != t && *end == '\0' ? 0 : -1;
}

static int
scan_proc(FILE *fp, struct seglist *l)
{
    char line[1024];
    char *tok[MAXTOK];
    int col[PC_N];
    int i, n, have_header = 0;

    while (read_line(line, sizeof line, fp) != NULL) {
        long long v[PC_N];
        struct seginfo *s;

        n = split(line, tok, MAXTOK);
        if (!have_header) {
            int c;

            for (i = 0; i < PC_N; i++)
                col[i] = -1;
            for (c = 0; c < n; c++)
                for (i = 0; i < PC_N; i++)
                    if (strcmp(tok[c], proc_cols[i]) == 0)
                        col[i] = c;
            for (i = 0; i < PC_N; i++)
                if (col[i] < 0) {
                    errno = EPROTO;
                    return -1;
                }
            have_header = 1;
            continue;
        }
        for (i = 0; i < PC_N; i++) {
            if (col[i] >= n || num(tok[col[i]], i == PC_PERMS ? 8 : 10, &v[i]) < 0)
                break;
        }
        if (i < PC_N)
            continue;
        s = seglist_add(l);
        if (s == NULL)
            return -1;
        s->key = (key_t)v[PC_KEY];
        s->shmid = (int)v[PC_SHMID];
        s->have_ds = 1;
        s->mode = (unsigned)v[PC_PERMS] & 0777u;
        s->dest = ((unsigned)v[PC_PERMS] & SVS_SHM_DEST) != 0;
        s->segsz = (unsigned long long)v[PC_SIZE];
        s->cpid = (long)v[PC_CPID];
        s->lpid = (long)v[PC_LPID];
        s->nattch = (unsigned long)v[PC_NATTCH];
        s->uid = (uid_t)v[PC_UID];
        s->gid = (gid_t)v[PC_GID];
        s->cuid = (uid_t)v[PC_CUID];
        s->cgid = (gid_t)v[PC_CGID];
        s->atime = (time_t)v[PC_ATIME];
        s->dtime = (time_t)v[PC_DTIME];
        s->ctime = (time_t)v[PC_CTIME];
        if (examine(s) == 1)
            l->n--;
    }
    if (!have_header) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

/* ---- ipcs -m ----------------------------------------------------------------- */

static int
ieq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* A key as ipcs prints it: 0x hex (Linux, Solaris, AIX, macOS) or decimal,
 * possibly negative (FreeBSD, NetBSD, OpenBSD print key_t with %d). */
static int
parse_key(const char *t, key_t *out)
{
    long long v;

    if ((t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) && num(t + 2, 16, &v) == 0 &&
        t[2] != '-' && t[2] != '+') {
        *out = (key_t)(unsigned)v;
        return 0;
    }
    if (num(t, 10, &v) == 0 && v >= -2147483648LL && v <= 4294967295LL) {
        *out = (key_t)v;
        return 0;
    }
    return -1;
}

/*
 * Layouts seen in the wild (LC_ALL=C):
 *   Linux:    key shmid owner perms bytes nattch status
 *   Solaris, AIX, HP-UX, BSD, macOS:  T ID KEY MODE OWNER GROUP [...]
 * preceded by title lines ("------ Shared Memory Segments --------",
 * "IPC status from ...", "Shared Memory:").  The header line is the one with
 * a "key" column and a "shmid" or "ID" column; a row is any later line with
 * a number in the id column.  A key that is not a number (some systems
 * print IPC_PRIVATE specially) is taken as IPC_PRIVATE.
 */
int
scan_parse_ipcs(FILE *fp, void (*fn)(key_t, int, void *), void *arg)
{
    char line[1024];
    char *tok[MAXTOK];
    int key_col = -1, id_col = -1, rows = 0;

    while (read_line(line, sizeof line, fp) != NULL) {
        int n = split(line, tok, MAXTOK), c, k = -1, id = -1;
        long long idv;
        key_t key;

        for (c = 0; c < n; c++) {
            if (ieq(tok[c], "key"))
                k = c;
            else if (ieq(tok[c], "shmid") || ieq(tok[c], "semid") || ieq(tok[c], "id"))
                id = c;
        }
        if (k >= 0 && id >= 0) {
            key_col = k;
            id_col = id;
            continue;
        }
        if (key_col < 0 || n <= key_col || n <= id_col)
            continue;
        if (num(tok[id_col], 10, &idv) < 0 || idv < 0 || idv > 2147483647LL)
            continue;
        if (parse_key(tok[key_col], &key) < 0)
            key = IPC_PRIVATE;
        fn(key, (int)idv, arg);
        rows++;
    }
    return key_col < 0 ? -1 : rows;
}

struct ipcs_rows {
    struct { key_t key; int shmid; } *v;
    size_t n, cap;
    int oom;
};

static void
ipcs_row(key_t key, int shmid, void *arg)
{
    struct ipcs_rows *r = arg;

    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        void *v = realloc(r->v, cap * sizeof *r->v);

        if (v == NULL) {
            r->oom = 1;
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n].key = key;
    r->v[r->n].shmid = shmid;
    r->n++;
}

/* Run `ipcs OPT' (OPT "-m" or "-s") and collect the key and id of each row. */
static int
run_ipcs(const char *opt, struct ipcs_rows *rows, const char *who)
{
    const char *prog = getenv("SYSVSHM_IPCS");
    int fd[2], status, parsed;
    pid_t pid;
    FILE *fp;

    if (prog == NULL || *prog == '\0')
        prog = SVS_IPCS_PATH[0] != '\0' ? SVS_IPCS_PATH : "ipcs";
    if (pipe(fd) < 0) {
        fprintf(stderr, "%s: pipe: %s\n", who, strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", who, strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        if (fd[1] != STDOUT_FILENO) {
            dup2(fd[1], STDOUT_FILENO);
            close(fd[1]);
        }
        /* Column titles are translated in other locales. */
        setenv("LC_ALL", "C", 1);
        execlp(prog, prog, opt, (char *)NULL);
        fprintf(stderr, "%s: cannot run %s: %s\n", who, prog, strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    fp = fdopen(fd[0], "r");
    if (fp == NULL) {
        close(fd[0]);
        waitpid(pid, &status, 0);
        fprintf(stderr, "%s: %s\n", who, strerror(errno));
        return -1;
    }
    parsed = scan_parse_ipcs(fp, ipcs_row, rows);
    fclose(fp);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 127))
            fprintf(stderr, "%s: `%s %s' failed (status %d)\n", who, prog, opt, status);
        return -1;
    }
    if (parsed < 0) {
        fprintf(stderr, "%s: cannot read the output of `%s %s': no header line "
                "with KEY and ID columns\n", who, prog, opt);
        return -1;
    }
    if (rows->oom) {
        fprintf(stderr, "%s: %s\n", who, strerror(ENOMEM));
        return -1;
    }
    return 0;
}

static int
scan_ipcs(struct seglist *l, const char *who)
{
    struct ipcs_rows rows = { NULL, 0, 0, 0 };
    int rc = -1;
    size_t i;

    if (run_ipcs("-m", &rows, who) < 0)
        goto out;
    for (i = 0; i < rows.n; i++) {
        if (add_by_id(l, rows.v[i].key, rows.v[i].shmid) < 0) {
            fprintf(stderr, "%s: %s\n", who, strerror(errno));
            goto out;
        }
    }
    rc = 0;
out:
    free(rows.v);
    return rc;
}

/* ---- semaphore sets ------------------------------------------------------------ */

#define PROC_SEM "/proc/sysvipc/sem"

void
semlist_free(struct semlist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static struct semsetinfo *
semlist_add(struct semlist *l, key_t key, int semid)
{
    struct semsetinfo *m;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct semsetinfo *v = realloc(l->v, cap * sizeof *v);

        if (v == NULL)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    m = &l->v[l->n++];
    memset(m, 0, sizeof *m);
    m->key = key;
    m->semid = semid;
    return m;
}

/* IPC_STAT where the listing gave only key and id (ipcs). */
static void
sem_fill(struct semsetinfo *m)
{
    struct semid_ds sds;
    union semun arg;

    arg.buf = &sds;
    if (semctl(m->semid, 0, IPC_STAT, arg) < 0)
        return;
    m->have_ds = 1;
    m->mode = (unsigned)sds.sem_perm.mode & 0777u;
    m->nsems = (unsigned long)sds.sem_nsems;
    m->uid = sds.sem_perm.uid;
    m->cuid = sds.sem_perm.cuid;
}

enum { SC_KEY, SC_SEMID, SC_PERMS, SC_NSEMS, SC_UID, SC_CUID, SC_N };
static const char *const sem_cols[SC_N] = { "key", "semid", "perms", "nsems", "uid", "cuid" };

static int
scan_proc_sem(FILE *fp, struct semlist *l)
{
    char line[1024];
    char *tok[MAXTOK];
    int col[SC_N];
    int i, n, have_header = 0;

    while (read_line(line, sizeof line, fp) != NULL) {
        long long v[SC_N];
        struct semsetinfo *m;

        n = split(line, tok, MAXTOK);
        if (!have_header) {
            int c;

            for (i = 0; i < SC_N; i++)
                col[i] = -1;
            for (c = 0; c < n; c++)
                for (i = 0; i < SC_N; i++)
                    if (strcmp(tok[c], sem_cols[i]) == 0)
                        col[i] = c;
            for (i = 0; i < SC_N; i++)
                if (col[i] < 0) {
                    errno = EPROTO;
                    return -1;
                }
            have_header = 1;
            continue;
        }
        for (i = 0; i < SC_N; i++)
            if (col[i] >= n || num(tok[col[i]], i == SC_PERMS ? 8 : 10, &v[i]) < 0)
                break;
        if (i < SC_N || !scan_key_ours((key_t)v[SC_KEY]))
            continue;
        m = semlist_add(l, (key_t)v[SC_KEY], (int)v[SC_SEMID]);
        if (m == NULL)
            return -1;
        m->have_ds = 1;
        m->mode = (unsigned)v[SC_PERMS] & 0777u;
        m->nsems = (unsigned long)v[SC_NSEMS];
        m->uid = (uid_t)v[SC_UID];
        m->cuid = (uid_t)v[SC_CUID];
    }
    if (!have_header) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

int
scan_sems(struct semlist *out, const char *who)
{
    const char *b = scan_backend();
    struct ipcs_rows rows = { NULL, 0, 0, 0 };
    FILE *fp = NULL;
    size_t i;
    int rc;

    if (strcmp(b, "ipcs") != 0) {
        fp = fopen(PROC_SEM, "r");
        if (fp == NULL && strcmp(b, "proc") == 0) {
            fprintf(stderr, "%s: %s: %s\n", who, PROC_SEM, strerror(errno));
            return -1;
        }
    }
    if (fp != NULL) {
        rc = scan_proc_sem(fp, out);
        if (rc < 0)
            fprintf(stderr, "%s: %s: %s\n", who, PROC_SEM,
                    errno == EPROTO ? "unexpected format" : strerror(errno));
        fclose(fp);
        return rc;
    }
    rc = run_ipcs("-s", &rows, who);
    for (i = 0; rc == 0 && i < rows.n; i++) {
        struct semsetinfo *m;

        if (!scan_key_ours(rows.v[i].key))
            continue;
        m = semlist_add(out, rows.v[i].key, rows.v[i].shmid);
        if (m == NULL) {
            fprintf(stderr, "%s: %s\n", who, strerror(errno));
            rc = -1;
            break;
        }
        sem_fill(m);
    }
    free(rows.v);
    return rc;
}

/* ---- entry points ---------------------------------------------------------------- */

const char *
scan_backend(void)
{
    const char *b = getenv("SYSVSHM_LIST_BACKEND");

    return b != NULL && *b != '\0' ? b : "auto";
}

int
scan_all(struct seglist *out, const char *who)
{
    const char *b = scan_backend();
    FILE *fp = NULL;
    int rc;

    if (strcmp(b, "proc") != 0 && strcmp(b, "ipcs") != 0 && strcmp(b, "auto") != 0) {
        fprintf(stderr, "%s: SYSVSHM_LIST_BACKEND=%s: expected proc, ipcs or auto\n",
                who, b);
        return -1;
    }
    if (strcmp(b, "ipcs") != 0) {
        fp = fopen(PROC_SHM, "r");
        if (fp == NULL && strcmp(b, "proc") == 0) {
            fprintf(stderr, "%s: %s: %s\n", who, PROC_SHM, strerror(errno));
            return -1;
        }
    }
    if (fp == NULL)
        return scan_ipcs(out, who);
    rc = scan_proc(fp, out);
    if (rc < 0)
        fprintf(stderr, "%s: %s: %s\n", who, PROC_SHM,
                errno == EPROTO ? "unexpected format" : strerror(errno));
    fclose(fp);
    return rc;
}

int
scan_name(const char *bare, size_t len, struct seglist *out, int *denied)
{
    unsigned i;

    *denied = 0;
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        key_t key = svs_probe_key(bare, len, i);
        int shmid = shmget(key, 0, 0);
        size_t before = out->n;
        struct seginfo *s;

        if (shmid < 0) {
            if (errno == EACCES)
                (*denied)++;
            continue;
        }
        if (add_by_id(out, key, shmid) < 0)
            return -1;
        if (out->n == before)
            continue;
        s = &out->v[out->n - 1];
        if (s->state == ST_NOACCESS)
            (*denied)++;
        if (!s->have_name || strlen(s->name) != len || memcmp(s->name, bare, len) != 0)
            out->n--;
    }
    return 0;
}
