/*
 * reclaim.c - the one rule for destroying a System V object that the current
 * call did not make itself.
 *
 * The library (create, attach) and the sysvshm tool (gc) remove a leftover
 * only on positive proof that it is this library's, of this name, and
 * abandoned; anything else is left where it is and reported.  The proof
 * rests on what the kernel records and a writer of the block cannot forge:
 *
 *  - the segment's permission bits, which only its owner, its creator or a
 *    privileged process can change (shmctl IPC_SET).  A finished block never
 *    has an execute bit (create refuses them).  A creator makes its segment
 *    with mode SVS_MODE_MAKING and sets the caller's mode just before the
 *    block turns READY; a remover adds SVS_MODE_DOOMED before it marks the
 *    block UNLINKING.  So an execute bit says "the library made this and had
 *    not finished", or "someone allowed to remove it began to";
 *  - the creator's pid (shm_cpid), judged alive unless the kernel says
 *    there is no such process: 0 (not visible from our PID namespace) is
 *    alive;
 *  - the attach count (shm_nattch): anything attached is in use, whatever
 *    its header says;
 *  - for a semaphore set: its key, its size (SVS_NSEMS, or SVS_NSEMS_FAST
 *    for a fast lock's), the mark bit SVS_SEM_MARK every set of ours is
 *    made with, and its creator, which must be the block's creator.
 *
 * The header (state, semid) only ever narrows what may be removed: it can
 * be written by anyone who may write the block.
 */
#include "svs_int.h"

#include <errno.h>
#include <unistd.h>

static int
pid_known_dead(long pid)
{
    /* Unknown (0: a process outside our PID namespace) counts as alive. */
    return pid > 0 && !svs_pid_alive(pid);
}

const char *
svs_reclaim_verdict(const struct shmid_ds *ds, int seen, int set_gone, long self,
                    int any_user)
{
    unsigned mode = (unsigned)ds->shm_perm.mode & 0777u;
    uid_t me = geteuid();

    if (seen == SVS_SEEN_FOREIGN || seen == SVS_SEEN_BAD)
        return "not provably this library's";
    if ((long)ds->shm_nattch - self > 0)
        return "in use";
    if (any_user) {
        if (me != 0 && me != ds->shm_perm.cuid && me != ds->shm_perm.uid)
            return "another user's";
    } else if (ds->shm_perm.cuid != me) {
        return "another user's";
    }
    switch (seen) {
    case SVS_SEEN_PARTIAL:
    case SVS_SEEN_INIT:
        /* Only a creator that never got as far as setting the caller's
         * mode; nobody has changed the owner since. */
        if (mode != SVS_MODE_MAKING || ds->shm_perm.uid != ds->shm_perm.cuid)
            return "no creator's mark";
        if (!pid_known_dead((long)ds->shm_cpid))
            return ds->shm_cpid > 0 ? "its creator is alive" : "its creator is unknown";
        return NULL;
    case SVS_SEEN_UNLINKING:
        if ((mode & 0111u) != SVS_MODE_DOOMED)
            return "no remover's mark";
        return NULL;
    case SVS_SEEN_READY:
        /* A remover without a writable mapping marks, removes the set, then
         * the segment: dying in between leaves exactly this. */
        if ((mode & 0111u) == SVS_MODE_DOOMED && set_gone)
            return NULL;
        return "a complete block";
    }
    return "not provably this library's";
}

int
svs_state_contradicted(int seen, unsigned mode, long cpid)
{
    mode &= 0777u;
    /* A remover marks the mode before it writes UNLINKING. */
    if (seen == SVS_SEEN_UNLINKING)
        return (mode & 0111u) != SVS_MODE_DOOMED;
    /* A creator keeps the making mark until after READY; a live creator may
     * be anywhere in that last step, a dead one is judged on the mark. */
    if (seen == SVS_SEEN_INIT)
        return mode != SVS_MODE_MAKING && pid_known_dead(cpid);
    return 0;
}

static int
zero_or(uint64_t v, uint64_t expected)
{
    return v == 0 || v == expected;
}

int
svs_header_prefix(const struct svs_header *h, size_t segsz)
{
    size_t k;
    int fast;

    if (segsz <= SVS_DATA_OFF)
        return 0; /* too small to ever be a block */
    for (k = 0; k < sizeof h->magic; k++)
        if (h->magic[k] != 0)
            return 0;
    /* Creation writes every field but the magic first, so each field is
     * still zero or what a creator writes; the name is checked by callers.
     * A creator of a fast-lock block writes version 2 and both lock flags. */
    fast = h->version == SVS_FORMAT_VERSION_FAST || h->flags == (SVS_HF_LOCK | SVS_HF_FAST);
    if (!zero_or(h->version, fast ? SVS_FORMAT_VERSION_FAST : SVS_FORMAT_VERSION) ||
        !zero_or(h->state, SVS_STATE_INIT) ||
        !zero_or(h->size, (uint64_t)(segsz - SVS_DATA_OFF)) ||
        !zero_or(h->data_off, SVS_DATA_OFF) ||
        !zero_or(h->flags, fast ? SVS_HF_LOCK | SVS_HF_FAST : SVS_HF_LOCK) ||
        !(h->semid == 0 || h->semid == -1) || h->probe >= SYSVSHM_PROBE_MAX ||
        h->name_len > SYSVSHM_NAME_MAX || h->writer != 0)
        return 0;
    for (k = 0; k < sizeof h->reserved1; k++)
        if (h->reserved1[k] != 0)
            return 0;
    for (k = 0; k < sizeof h->reserved2; k++)
        if (h->reserved2[k] != 0)
            return 0;
    return 1;
}

static int
sem_stat(int semid, struct semid_ds *sds)
{
    union semun arg;

    arg.buf = sds;
    return semctl(semid, 0, IPC_STAT, arg);
}

static int
sem_looks_ours(const struct semid_ds *sds)
{
    return SVS_NSEMS_OK(sds->sem_nsems) &&
           ((unsigned)sds->sem_perm.mode & SVS_SEM_MARK) != 0;
}

int
svs_sem_of_block(key_t key, int semid, const struct shmid_ds *seg)
{
    struct semid_ds sds;
    int cur = semget(key, 0, 0);

    if (cur < 0 || semid == -1 || (semid >= 0 && cur != semid))
        return -1;
    if (sem_stat(cur, &sds) < 0 || !sem_looks_ours(&sds))
        return -1;
    /* Another user's set is never the block's, for root too: a block and
     * its set have one creator. */
    if (sds.sem_perm.cuid != seg->shm_perm.cuid)
        return -1;
    if (sds.sem_perm.uid != sds.sem_perm.cuid && sds.sem_perm.uid != seg->shm_perm.uid)
        return -1;
    /* -2: the creator died inside semget, before it could write the id;
     * its set was made after its segment. */
    if (semid == -2 && sds.sem_ctime < seg->shm_ctime)
        return -1;
    return cur;
}

int
svs_sem_stray(key_t key, int my_shmid)
{
    struct semid_ds sds;
    int cur = semget(key, 0, 0);
    int shmid;

    if (cur < 0)
        return -1;
    /* A set is made after its segment and removed before it, so a set of
     * ours with no segment at its key (but the caller's own, just made) has
     * lost its block. */
    shmid = shmget(key, 0, 0);
    if (shmid >= 0 && shmid != my_shmid)
        return -1;
    if (shmid < 0 && errno != ENOENT)
        return -1;
    if (sem_stat(cur, &sds) < 0 || !sem_looks_ours(&sds))
        return -1;
    if (sds.sem_perm.cuid != geteuid() || sds.sem_perm.uid != sds.sem_perm.cuid)
        return -1;
    return cur;
}
