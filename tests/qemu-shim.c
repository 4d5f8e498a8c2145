/* tests/qemu-shim.c - corrects what qemu-user 7.2 (Debian 12) gets wrong in
 * shmctl and semctl, for the programs .ci/cross runs under emulation.
 *
 * Built on its own as a shared object (`make tests/qemu-shim.so', see
 * tests/cross.mk) and preloaded (LD_PRELOAD, given to qemu with -E) into each
 * program run under qemu-user: the demos, the tool and the test programs.
 * No installed file contains it and the library carries no workaround: on a
 * real kernel each correction below finds nothing to correct (the first two
 * look at the values before touching them; the third is the kernel's own
 * calling convention).
 *
 * The qemu-user defects it covers:
 *
 *  1. s390x and sparc64: the mode in struct ipc_perm is 32 bits wide in the
 *     target's ABI, but qemu converts it as a 16-bit field.  IPC_STAT reads
 *     the mode in the upper half (0640 reads as 0150000000), and IPC_SET
 *     takes the upper half (0640 sets mode 0).  Both for shmctl and semctl.
 *     IPC_STAT writes only those 16 bits: the lower half keeps what the
 *     caller's buffer held.  Corrected: the buffer is cleared before a STAT,
 *     and a mode whose low 16 bits are then zero and upper ones not is
 *     shifted down; before a SET, if a STAT of the same object shows the
 *     defect, the mode is shifted up.
 *
 *  2. 32-bit PowerPC: semctl(IPC_STAT) returns sem_otime and sem_ctime with
 *     their two 32-bit words swapped (the time in the high word, 0 in the low
 *     one), which glibc's 32-bit time_t then reads as 0.  Corrected: IPC_STAT
 *     is made with the semctl system call into the kernel's structure (the
 *     same layout as glibc's 32-bit struct semid_ds), and a time found in
 *     the high word with a low word of 0 is moved back.
 *
 *  3. sparc64: glibc passes union semun to the semctl system call by value,
 *     as the kernel wants, but qemu dereferences it as if it were a pointer
 *     to the union (SETALL fails with EFAULT, IPC_STAT too).  Corrected:
 *     semctl is made with the system call directly, the union's pointer or
 *     (SETVAL) its int in the upper half of the 64-bit word, as the
 *     big-endian 64-bit kernel reads it.
 *
 * Not covered here (a qemu option, set by .ci/cross): on sparc64, repeated
 * shmat fails with ENOMEM after a few attaches unless qemu reserves the
 * guest's address space (QEMU_RESERVED_VA=0x4000000000, qemu -R).
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/sem.h>

#if defined __s390x__ || (defined __sparc__ && defined __arch64__)
#define SHIM_MODE16 1
#endif
#if defined __powerpc__ && !defined __powerpc64__
#define SHIM_PPC32_TIMES 1
#endif
#if defined __sparc__ && defined __arch64__
#define SHIM_SPARC64_SEMUN 1
#endif

union shim_semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

typedef int (*shmctl_fn)(int, int, struct shmid_ds *);
typedef int (*semctl_fn)(int, int, int, ...);

static shmctl_fn
real_shmctl(void)
{
    static shmctl_fn fn;
    if (fn == NULL) {
        void *p = dlsym(RTLD_NEXT, "shmctl");
        memcpy(&fn, &p, sizeof fn);
    }
    return fn;
}

#ifndef SHIM_SPARC64_SEMUN
static semctl_fn
real_semctl(void)
{
    static semctl_fn fn;
    if (fn == NULL) {
        void *p = dlsym(RTLD_NEXT, "semctl");
        memcpy(&fn, &p, sizeof fn);
    }
    return fn;
}
#endif

#ifdef SHIM_MODE16
/* Defect 1: a mode as qemu returned it, made right. */
static mode_t
mode_read(mode_t m)
{
    if ((m & 0xffffu) == 0 && (m >> 16) != 0)
        return m >> 16;
    return m;
}

static int
mode_defect(mode_t raw)
{
    return (raw & 0xffffu) == 0 && (raw >> 16) != 0;
}
#endif

/* The STAT commands of shmctl and of semctl, apart: their numbers overlap
 * (SHM_STAT is 13, which for semctl is GETALL, whose array must not be
 * taken for a struct). */
#ifdef SHIM_MODE16
static int
is_shm_stat(int cmd)
{
    if (cmd == IPC_STAT)
        return 1;
#ifdef SHM_STAT
    if (cmd == SHM_STAT)
        return 1;
#endif
#ifdef SHM_STAT_ANY
    if (cmd == SHM_STAT_ANY)
        return 1;
#endif
    return 0;
}
#endif

static int
is_sem_stat(int cmd)
{
    if (cmd == IPC_STAT)
        return 1;
#ifdef SEM_STAT
    if (cmd == SEM_STAT)
        return 1;
#endif
#ifdef SEM_STAT_ANY
    if (cmd == SEM_STAT_ANY)
        return 1;
#endif
    return 0;
}

int shmctl(int shmid, int cmd, struct shmid_ds *buf);
int semctl(int semid, int semnum, int cmd, ...);

int
shmctl(int shmid, int cmd, struct shmid_ds *buf)
{
    shmctl_fn fn = real_shmctl();
    if (fn == NULL) {
        errno = ENOSYS;
        return -1;
    }
#ifdef SHIM_MODE16
    if (cmd == IPC_SET && buf != NULL) {
        struct shmid_ds now, set;
        memset(&now, 0, sizeof now);
        if (fn(shmid, IPC_STAT, &now) == 0 && mode_defect(now.shm_perm.mode)) {
            set = *buf;
            set.shm_perm.mode = (mode_t)((buf->shm_perm.mode & 0xffffu) << 16);
            return fn(shmid, IPC_SET, &set);
        }
        return fn(shmid, cmd, buf);
    }
    {
        int r;
        if (buf != NULL && is_shm_stat(cmd))
            memset(buf, 0, sizeof *buf);
        r = fn(shmid, cmd, buf);
        if (r >= 0 && buf != NULL && is_shm_stat(cmd))
            buf->shm_perm.mode = mode_read(buf->shm_perm.mode);
        return r;
    }
#else
    return fn(shmid, cmd, buf);
#endif
}

/* The commands that take the fourth argument (as glibc reads it). */
static int
takes_arg(int cmd)
{
    switch (cmd) {
    case IPC_RMID: case GETVAL: case GETPID: case GETNCNT: case GETZCNT:
        return 0;
    default:
        return 1;
    }
}

/* The semctl system call, or what stands for it, with the union as given. */
static int
sem_call(int semid, int semnum, int cmd, union shim_semun arg)
{
#ifdef SHIM_SPARC64_SEMUN
    /* Defect 3: the union by value, as the kernel takes it. */
    unsigned long word = 0;
    if (cmd == SETVAL)
        word = (unsigned long)(unsigned)arg.val << 32;
    else if (takes_arg(cmd))
        word = (unsigned long)arg.buf;
    return (int)syscall(SYS_semctl, semid, semnum, cmd, word);
#else
    semctl_fn fn = real_semctl();
    if (fn == NULL) {
        errno = ENOSYS;
        return -1;
    }
    if (!takes_arg(cmd))
        return fn(semid, semnum, cmd);
    return fn(semid, semnum, cmd, arg);
#endif
}

int
semctl(int semid, int semnum, int cmd, ...)
{
    union shim_semun arg;
    int r;

    memset(&arg, 0, sizeof arg);
    if (takes_arg(cmd)) {
        va_list ap;
        va_start(ap, cmd);
        arg = va_arg(ap, union shim_semun);
        va_end(ap);
    }
#ifdef SHIM_MODE16
    if (cmd == IPC_SET && arg.buf != NULL) {
        struct semid_ds now, set;
        union shim_semun a2;
        memset(&now, 0, sizeof now);
        a2.buf = &now;
        if (sem_call(semid, 0, IPC_STAT, a2) == 0 && mode_defect(now.sem_perm.mode)) {
            set = *arg.buf;
            set.sem_perm.mode = (mode_t)((arg.buf->sem_perm.mode & 0xffffu) << 16);
            a2.buf = &set;
            return sem_call(semid, semnum, IPC_SET, a2);
        }
        return sem_call(semid, semnum, cmd, arg);
    }
#endif
#if defined SHIM_PPC32_TIMES && defined SYS_semctl
    if (is_sem_stat(cmd) && arg.buf != NULL) {
        /* Defect 2: the kernel's struct semid64_ds is glibc's 32-bit one,
         * with the high words where glibc has __sem_*time_high. */
        r = (int)syscall(SYS_semctl, semid, semnum, cmd | 0x100 /* IPC_64 */, arg.buf);
        if (r >= 0) {
            struct semid_ds *b = arg.buf;
            if (b->sem_otime == 0 && b->__sem_otime_high != 0) {
                b->sem_otime = (time_t)b->__sem_otime_high;
                b->__sem_otime_high = 0;
            }
            if (b->sem_ctime == 0 && b->__sem_ctime_high != 0) {
                b->sem_ctime = (time_t)b->__sem_ctime_high;
                b->__sem_ctime_high = 0;
            }
        }
        return r;
    }
#endif
#ifdef SHIM_MODE16
    if (arg.buf != NULL && is_sem_stat(cmd))
        memset(arg.buf, 0, sizeof *arg.buf);
#endif
    r = sem_call(semid, semnum, cmd, arg);
#ifdef SHIM_MODE16
    if (r >= 0 && arg.buf != NULL && is_sem_stat(cmd))
        arg.buf->sem_perm.mode = mode_read(arg.buf->sem_perm.mode);
#endif
    return r;
}
