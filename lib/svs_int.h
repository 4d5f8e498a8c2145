/*
 * svs_int.h - libsysvshm internals shared by the lib/ sources, the tool and the tests.
 * Nothing here is part of the installed API; the shared library exports only
 * the sysvshm_ names (libtool -export-symbols-regex).
 */
#ifndef SVS_INT_H
#define SVS_INT_H

/* The library is ISO C99 + POSIX/XSI: no _GNU_SOURCE, ever. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/sem.h>

#include "sysvshm.h"
#include "compat.h"

/* A segment removed (IPC_RMID) while still attached: Linux keeps answering
 * IPC_STAT by id and sets this bit in its mode, where other systems fail the
 * stat.  glibc shows SHM_DEST only beyond XSI, so its value (the same on
 * every Linux architecture) is spelled here. */
#if defined(SHM_DEST)
#define SVS_SHM_DEST SHM_DEST
#elif defined(__linux__)
#define SVS_SHM_DEST 01000
#endif

/*
 * The block header, at offset 0 of every segment this library makes.
 * All integers are in the host's byte order (a segment never leaves its
 * host).  Documented for other languages in docs/format.md.
 *
 *   off  size  field
 *     0     8  magic      "SYSVSHM\0"
 *     8     4  version    SVS_FORMAT_VERSION
 *    12     4  state      SVS_STATE_INIT, _READY or _UNLINKING
 *    16     8  size       the user's size in bytes
 *    24     4  data_off   offset of the user's bytes (multiple of 64)
 *    28     4  flags      SVS_HF_LOCK: a semaphore set is paired
 *    32     4  semid      the paired set's id, or -1
 *    36     4  probe      index i of the key in the name's probe sequence
 *    40     4  name_len   strlen(name)
 *    44    20  reserved   zero
 *    64     4  writer     pid of the process holding the writer lock, 0 if
 *                         none; left non-zero by a writer that died holding it
 *    68     4  lk_ctl     version 2 only (the fast lock, fastlock.c): writer
 *                         slot + 1, next writer's slot + 1, and the count of
 *                         registered sleepers
 *    72     4  lk_readers version 2 only: bit k set while slot k holds a
 *                         reader lock
 *    76    52  reserved   zero (the lock words have their cache line to themselves)
 *   128   256  name       NUL-terminated, NUL-padded
 *   384        data
 *
 * Creation writes every field but magic, then magic and state INIT, then
 * (after making and initialising the semaphore set) state READY.  Only a
 * READY block is ever attached.  Unlink writes state UNLINKING before it
 * removes anything, so that a remover that dies half-way leaves a block that
 * nobody attaches and the next creator of the name finishes removing.
 */
#define SVS_MAGIC "SYSVSHM"     /* 8 bytes with its NUL */
#define SVS_FORMAT_VERSION 1u
#define SVS_FORMAT_VERSION_FAST 2u      /* made with SYSVSHM_FASTLOCK */
#define SVS_STATE_INIT 0x494e4954u      /* "INIT" */
#define SVS_STATE_READY 0x52454459u     /* "REDY" */
#define SVS_STATE_UNLINKING 0x554e4c4bu /* "UNLK" */
#define SVS_HF_LOCK 0x1u
#define SVS_HF_FAST 0x2u        /* version 2: the fast lock (with SVS_HF_LOCK) */
#define SVS_DATA_OFF 384u
#define SVS_NAME_FIELD 256u

struct svs_header {
    char magic[8];
    uint32_t version;
    volatile uint32_t state;
    uint64_t size;
    uint32_t data_off;
    uint32_t flags;
    int32_t semid;
    uint32_t probe;
    uint32_t name_len;
    uint8_t reserved1[20];
    volatile int32_t writer;
    volatile uint32_t lk_ctl;
    volatile uint32_t lk_readers;
    uint8_t reserved2[52];
    char name[SVS_NAME_FIELD];
};

/* The paired semaphore set, at the block's key.  All start at 0 and only the
 * creator sets them, before the block is READY (the SysV start-up race). */
#define SVS_SEM_W 0 /* 1 while a writer holds the lock */
#define SVS_SEM_R 1 /* number of readers holding the lock */
#define SVS_SEM_T 2 /* number of writers waiting: new readers hold back */
#define SVS_NSEMS 3

/* A version 2 block's set (fastlock.c): semaphore 0 holds wake-up tokens for
 * sleeping lockers; 3 + k is slot k's presence: 1 while a live handle owns
 * slot k, given back by the kernel (SEM_UNDO) when its process dies.  A
 * handle that finds every slot owned locks through the kernel: 1 is 1 while
 * such a writer holds or waits for the writer field (as slot 32), 2 counts
 * such readers. */
#define SVS_SEM_WAKE 0
#define SVS_SEM_OVW 1
#define SVS_SEM_OVR 2
#define SVS_SEM_SLOT0 3
#define SVS_SLOTS 32
#define SVS_NSEMS_FAST (SVS_SEM_SLOT0 + SVS_SLOTS)
/* lk_ctl: the writer's slot + 1 (0: no writer), the slot + 1 of the waiting
 * writer the lock is handed to at its release (0: none), and the registered
 * sleepers. */
#define SVS_LK_WMASK 0x3fu
#define SVS_LK_NEXT_SHIFT 6
#define SVS_LK_NEXT_MASK (0x3fu << SVS_LK_NEXT_SHIFT)
#define SVS_LK_OVR (1u << 12)   /* slotless readers may hold (SVS_SEM_OVR) */
#define SVS_LK_SLEEP_SHIFT 16
#define SVS_LK_SLEEP_ONE (1u << SVS_LK_SLEEP_SHIFT)
#define SVS_LK_SLEEP_MAX 0xffffu
/* Is n the size of a set this library makes? */
#define SVS_NSEMS_OK(n) ((n) == SVS_NSEMS || (n) == SVS_NSEMS_FAST)

/*
 * Marks in permission bits, which only the owner, the creator or a privileged
 * process can set (see reclaim.c).  A finished block has no execute bit.
 *   SVS_MODE_MAKING  the segment's mode from shmget until just before READY
 *   SVS_MODE_DOOMED  added by a remover before it marks the block UNLINKING
 *   SVS_SEM_MARK     in the mode of every semaphore set the library makes
 * Execute bits grant nothing on a semaphore set, and on a segment only
 * SHM_EXEC attaches, which also need the read bit.
 */
#define SVS_MODE_MAKING 0711u
#define SVS_MODE_DOOMED 0100u
#define SVS_SEM_MARK 0100u

/* How long a block that a live process is still creating is waited for. */
#define SVS_INIT_WAIT_MS 3000L

struct sysvshm {
    struct svs_header *hdr; /* the shmat address */
    unsigned char *buf;     /* hdr + data_off */
    size_t size;
    int shmid;
    int semid;              /* -1: SYSVSHM_NOLOCK */
    key_t key;
    int rdonly;
    int unlinked;           /* this handle destroyed its block */
    int held;               /* 0, SYSVSHM_WRITE or SYSVSHM_READ */
    unsigned long held_gen; /* svs_fork_generation() when the lock was taken */
    long pid;               /* this process (refreshed after fork) */
    int fast;               /* version 2 block: the fast lock (fastlock.c) */
    int slot;               /* fast lock: the slot this handle owns, or -1 */
    int set_checked;        /* fast lock: the set's size was found right */
    int ovf;                /* fast lock held without a slot: SYSVSHM_WRITE
                             * (through SVS_SEM_OVW) or SYSVSHM_READ */
    unsigned long slot_gen; /* svs_fork_generation() when it took the slot */
    struct svs_header *lk;  /* fast lock: a writable mapping of the header
                             * (hdr, or a second one for a read-only handle) */
    char name[SYSVSHM_NAME_MAX + 1];
};

/* ---- names and keys (name.c) ---- */
/* Validates name; on success stores the bare name (no leading '/') in *bare
 * and its length in *len.  Returns 0, or -1 with errno EINVAL/ENAMETOOLONG. */
int svs_name_check(const char *name, const char **bare, size_t *len);
uint32_t svs_fnv1a(const char *s, size_t len);
key_t svs_probe_key(const char *bare, size_t len, unsigned i);
/* Is key one of the probe keys of bare? Returns the index or -1. */
int svs_probe_index(const char *bare, size_t len, key_t key);
/* Fills out (SYSVSHM_NAME_MAX+1) with a fresh name of at most 32 bytes. */
void svs_name_generate(char *out, size_t outlen);

/* ---- segments and headers (segment.c) ---- */
/* The one check of a header found in a segment of seg_size bytes at `key`.
 * Returns SVS_HDR_FOREIGN (no magic: not ours), SVS_HDR_OK (well-formed,
 * state READY/INIT/UNLINKING, name hashes to a probe key that is `key`), or
 * SVS_HDR_BAD (our magic, but anything else is wrong).  Reads only the first
 * `avail` bytes of hdr; never writes. */
enum { SVS_HDR_FOREIGN = 0, SVS_HDR_OK = 1, SVS_HDR_BAD = 2 };
int svs_header_check(const void *hdr, size_t avail, size_t seg_size, key_t key);

/* Destroy the block a handle had (key, shmid, semid: -1 if none) after the
 * handle was closed, if that very segment still holds its key, as
 * sysvshm_unlink would; for bindings that outlive their handle.  map: attach
 * it to mark it UNLINKING (a version 2 block's lockers need that; others
 * are removed without).  Returns 0, or -1 with errno ENOENT (already
 * destroyed) or EPERM. */
int svs_destroy_by_id(key_t key, int shmid, int semid, int map);

/* ---- the one rule for destroying what we did not just make (reclaim.c) ---- */
/* What a segment's checked header says it is. */
enum {
    SVS_SEEN_FOREIGN,   /* no magic and not a prefix of our header */
    SVS_SEEN_BAD,       /* our magic, header not trusted */
    SVS_SEEN_PARTIAL,   /* no magic, a prefix of what a creator writes */
    SVS_SEEN_INIT,
    SVS_SEEN_READY,
    SVS_SEEN_UNLINKING
};
/* May the segment described by ds (a fresh IPC_STAT) be destroyed?  seen:
 * SVS_SEEN_*; set_gone: the header names a set that is no longer at the key;
 * self: attachments that are the caller's own (0 or 1); any_user: judge for
 * a caller allowed to remove other users' leftovers (the tool's gc), else
 * only the caller's own.  Returns NULL if it may, else why not. */
const char *svs_reclaim_verdict(const struct shmid_ds *ds, int seen, int set_gone,
                                long self, int any_user);
/* Does the header's state (SVS_SEEN_INIT/UNLINKING) contradict the marks
 * in the segment's mode, so that a user of the block, not its creator or
 * remover, must have written it?  cpid: the segment's creator. */
int svs_state_contradicted(int seen, unsigned mode, long cpid);
/* Is the magic-less header h (of a segment of segsz bytes) field by field
 * zero or what a creator writes before the magic?  The name bytes are left
 * to the caller, who knows which name it looks for. */
int svs_header_prefix(const struct svs_header *h, size_t segsz);
/* The id of the set at key if it is provably the set of the block whose
 * segment is seg and whose header names semid (-2: being made), else -1. */
int svs_sem_of_block(key_t key, int semid, const struct shmid_ds *seg);
/* The id of a set of the caller's own at key whose block is gone (no
 * segment at the key, or only my_shmid), else -1. */
int svs_sem_stray(key_t key, int my_shmid);

/* ---- locking (lock.c, fastlock.c) ---- */
int svs_sem_init(int semid);
/* After a failed semop or semctl: the set's removal (EINVAL, EIDRM) becomes
 * EIDRM, the documented errno; returns -1. */
int svs_sem_error(void);
/* Is the fast lock compiled in (atomics found by configure)? */
int svs_fast_available(void);
/* The fast lock of a version 2 block; the same contract as sysvshm_lock and
 * sysvshm_unlock once the arguments are checked (gen: svs_fork_generation()
 * of the caller). */
int svs_fast_lock(sysvshm_t *h, int how, long timeout_ms, long long start,
                  unsigned long gen);
int svs_fast_unlock(sysvshm_t *h, int how);
/* Give back the slot (and the second mapping) at close.  Never fails. */
void svs_fast_close(sysvshm_t *h);

#endif /* SVS_INT_H */
