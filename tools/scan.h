/*
 * scan.h - what the sysvshm tool knows about the segments on the host: how
 * they are listed (/proc/sysvipc/shm or `ipcs -m`), and what one segment is
 * (this library's block, in which state, with which lock state, or foreign).
 */
#ifndef SVS_TOOL_SCAN_H
#define SVS_TOOL_SCAN_H

#include "svs_int.h"

#include <stdio.h>
#include <time.h>

/* What a segment is, as the tool shows it. */
enum seg_state {
    ST_READY,     /* a complete block */
    ST_INIT,      /* being made, or left INIT but not provably abandoned */
    ST_HALFMADE,  /* a creator's leftover the one rule (reclaim.c) lets gc
                   * remove -- for a caller allowed to (see verdict) */
    ST_UNLINKING, /* a removal is under way or was interrupted */
    ST_NOHEADER,  /* mode SVS_MODE_MAKING, no header yet: a creator mid-way
                   * (or dead) before it wrote one */
    ST_SUSPECT,   /* a header whose state the kernel's marks contradict */
    ST_REMOVED,   /* destroyed (key now IPC_PRIVATE), still attached somewhere */
    ST_DAMAGED,   /* our magic, but a header that cannot be trusted */
    ST_FOREIGN,   /* not this library's */
    ST_NOACCESS   /* we may not read it, so cannot tell */
};

/* The state of a block's writer/reader lock. */
enum lock_kind {
    LK_NA,      /* not a block (foreign, damaged, removed ...) */
    LK_NOLOCK,  /* made with SYSVSHM_NOLOCK */
    LK_PENDING, /* INIT: the creator has not made the set yet */
    LK_MISSING, /* the header names a set that is not at the key */
    LK_DENIED,  /* the set's permissions deny us */
    LK_FREE,
    LK_WRITE,
    LK_READ
};

struct lockinfo {
    enum lock_kind kind;
    int semid;              /* -1 if none */
    unsigned w, r, t;       /* the three semaphore values (LK_FREE/WRITE/READ) */
    long pid_w;             /* GETPID of the writer semaphore */
    long pid_r;             /* GETPID of the reader semaphore */
    long writer;            /* the header's writer mark, 0 if none */
    int writer_alive;
    int have_semds;         /* semds below is valid */
    unsigned long nsems;
    unsigned sem_mode;
    uid_t sem_uid, sem_cuid;
    time_t sem_otime, sem_ctime;
    /* A version 2 block's fast lock (lib/fastlock.c), from its lock words
     * and its slots' presence semaphores read together; kind then says
     * what the live holders hold, and w, r and t stay 0 but for r, the
     * live readers (slotless ones included). */
    int fast;
    uint32_t lk_ctl, lk_readers;
    unsigned wslot;         /* the writer's slot + 1, 0 if none */
    int wlive;              /* that slot's presence is 1 */
    int pending;            /* a live writer waits for the readers to go */
    unsigned sleepers;      /* registered sleepers (lk_ctl's count) */
    unsigned wake;          /* wake-up tokens (semaphore SVS_SEM_WAKE) */
    unsigned nreaders;      /* reader bits set in lk_readers */
    uint32_t present;       /* bit k: slot k's presence semaphore is 1 */
    uint32_t dead;          /* bit k: slot k's bits are set while its
                             * presence is 0 -- a dead holder's, which the
                             * next locker clears */
    long slot_pid[SVS_SLOTS]; /* GETPID of the slot's presence semaphore
                               * (its owner while it is 1), 0 if unknown */
    /* A handle that found all the slots owned locks through the kernel:
     * as slot 32 in the writer field while it holds SVS_SEM_OVW, or as a
     * reader counted in SVS_SEM_OVR. */
    unsigned nslot;         /* lk_ctl's `next' writer: slot + 1, 0 if none */
    int ovr_bit;            /* lk_ctl's OVR bit: slotless readers may hold */
    unsigned ovw, ovr;      /* the two semaphores' values */
    long ovw_pid, ovr_pid;  /* their GETPID, 0 if unknown */
    int ovw_dead;           /* lk_ctl names slot 32 while OVW is 0: a dead
                             * slotless writer's, which the next locker
                             * clears */
};

/* One segment.  Fields from shmid_ds are valid when have_ds. */
struct seginfo {
    key_t key;
    int shmid;
    int have_ds;
    unsigned long long segsz;
    unsigned mode;          /* permission bits (0777) */
    int dest;               /* destroyed, still attached (Linux SHM_DEST) */
    uid_t uid, cuid;
    gid_t gid, cgid;
    long cpid, lpid;
    unsigned long nattch;
    time_t atime, dtime, ctime;
    int cpid_alive;         /* 1 alive, 0 dead, -1 unknown (pid 0) */
    /* A fresh IPC_STAT taken after our own look (never counting our own
     * attachment), for svs_reclaim_verdict; valid when have_kds. */
    struct shmid_ds kds;
    int have_kds;
    /* What the one rule (reclaim.c) says, judged for `sysvshm gc':
     * seen is SVS_SEEN_*; verdict NULL means gc removes it, else why not;
     * note explains the state in words ("" if nothing to say). */
    int seen;
    int set_gone;
    const char *verdict;
    char note[160];

    enum seg_state state;
    int access_errno;       /* ST_NOACCESS: why */
    /* For this library's blocks (READY .. REMOVED, and DAMAGED if readable): */
    char name[SYSVSHM_NAME_MAX + 1];
    int have_name;
    unsigned long long size; /* the user's size */
    unsigned probe;
    unsigned hflags;
    int hsemid;
    unsigned hstate;
    struct lockinfo lock;
};

struct seglist {
    struct seginfo *v;
    size_t n, cap;
};

/* Which listing backend: "proc", "ipcs" or "auto" (the default: /proc
 * when it is readable), from $SYSVSHM_LIST_BACKEND. */
const char *scan_backend(void);

/*
 * List every SysV segment of the host and examine each one.  Segments that
 * vanish while we look are left out.  Returns 0, or -1 with a message
 * already printed (prefix `who') when no listing could be had.
 */
int scan_all(struct seglist *out, const char *who);
void seglist_free(struct seglist *l);

/*
 * Examine the segments at the probe keys of `bare' (len bytes): appends
 * every segment that carries this library's header for this name, whatever
 * its state (damaged ones too when the name can be read).  Sets *denied to
 * the number of probe keys whose segment we may not read.  Returns 0 or -1
 * (errno) on an allocation failure.
 */
int scan_name(const char *bare, size_t len, struct seglist *out, int *denied);

/* Parse `ipcs -m' output (Linux, Solaris, BSD, AIX, HP-UX layouts): calls
 * fn(key, shmid, arg) for each segment row.  Returns the number of rows, or
 * -1 if no header line naming the key and id columns was found. */
int scan_parse_ipcs(FILE *fp, void (*fn)(key_t, int, void *), void *arg);

/* Examine the one segment shmid, which must still be at key (IPC_PRIVATE:
 * a destroyed one): fills *s afresh.  Returns 0, 1 if it is gone or no
 * longer at key, or -1 (errno) if it cannot be stat'ed. */
int scan_one(key_t key, int shmid, struct seginfo *s);

/* Is this segment's key one a block of this library could have? */
int scan_key_ours(key_t key);

/* A semaphore set, as listed. */
struct semsetinfo {
    key_t key;
    int semid;
    int have_ds;            /* the fields below are valid */
    unsigned mode;          /* permission bits (0777) */
    unsigned long nsems;
    uid_t uid, cuid;
};

struct semlist {
    struct semsetinfo *v;
    size_t n, cap;
};

/* List every SysV semaphore set of the host at a key this library could
 * use (same backend as scan_all).  Returns 0 or -1, message printed. */
int scan_sems(struct semlist *out, const char *who);
void semlist_free(struct semlist *l);

const char *seg_state_name(enum seg_state s);
int seg_is_ours(const struct seginfo *s);

#endif /* SVS_TOOL_SCAN_H */
