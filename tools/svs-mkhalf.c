/*
 * svs-mkhalf.c - test helper for `sysvshm gc': leaves behind what a process
 * that died half-way would, using the block header layout of svs_int.h.
 *
 *   svs-mkhalf NAME init|unlinking|damaged|foreign [--lock] [--live]
 *
 * A child process makes the segment at the name's first key with raw shmget,
 * writes a header in state INIT (a creator that died before finishing) or
 * UNLINKING (a remover that died half-way), with --lock also a semaphore set
 * named by the header, detaches and exits.  `damaged' writes a header with
 * an impossible state; `foreign' writes no header, just other bytes (another
 * program's segment sitting on the key).  With --live the child stays alive
 * (detached) for up to 60 seconds instead: a creator that is still at work.
 * Prints "SHMID SEMID PID" (SEMID -1 without --lock; PID the child's).
 * Exit status 0, or 1 with a message.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "svs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define SIZE 4096

static int
make(const char *bare, size_t len, unsigned state, int lock, int out)
{
    key_t key = svs_probe_key(bare, len, 0);
    struct svs_header *h;
    int shmid, semid = -1;
    char line[64];

    shmid = shmget(key, SVS_DATA_OFF + SIZE, IPC_CREAT | IPC_EXCL | 0600);
    if (shmid < 0) {
        fprintf(stderr, "svs-mkhalf: shmget 0x%08x: %s\n", (unsigned)key, strerror(errno));
        return -1;
    }
    h = shmat(shmid, NULL, 0);
    if (h == (void *)-1) {
        fprintf(stderr, "svs-mkhalf: shmat: %s\n", strerror(errno));
        shmctl(shmid, IPC_RMID, NULL);
        return -1;
    }
    h->version = SVS_FORMAT_VERSION;
    h->size = SIZE;
    h->data_off = SVS_DATA_OFF;
    h->flags = lock ? SVS_HF_LOCK : 0;
    h->semid = -1;
    h->probe = 0;
    h->name_len = (uint32_t)len;
    memcpy(h->name, bare, len);
    if (lock) {
        semid = semget(key, SVS_NSEMS, IPC_CREAT | IPC_EXCL | 0600);
        if (semid < 0 || svs_sem_init(semid) < 0) {
            fprintf(stderr, "svs-mkhalf: semget 0x%08x: %s\n", (unsigned)key,
                    strerror(errno));
            if (semid >= 0)
                semctl(semid, 0, IPC_RMID);
            shmdt((void *)h);
            shmctl(shmid, IPC_RMID, NULL);
            return -1;
        }
        h->semid = semid;
    }
    h->state = state;
    if (state != 0)
        memcpy(h->magic, SVS_MAGIC, sizeof h->magic);
    else
        memcpy(h->magic, "FOREIGN", 8);
    shmdt((void *)h);
    snprintf(line, sizeof line, "%d %d %ld\n", shmid, semid, (long)getpid());
    if (write(out, line, strlen(line)) < 0)
        return -1;
    return 0;
}

int
main(int argc, char **argv)
{
    const char *bare;
    size_t len;
    unsigned state;
    int lock = 0, live = 0, fd[2], i, status;
    char buf[64];
    ssize_t n;
    pid_t pid;

    if (argc < 3) {
        fprintf(stderr, "usage: svs-mkhalf NAME init|unlinking|damaged|foreign [--lock] [--live]\n");
        return 2;
    }
    if (svs_name_check(argv[1], &bare, &len) < 0) {
        fprintf(stderr, "svs-mkhalf: bad name: %s\n", strerror(errno));
        return 2;
    }
    if (strcmp(argv[2], "init") == 0)
        state = SVS_STATE_INIT;
    else if (strcmp(argv[2], "unlinking") == 0)
        state = SVS_STATE_UNLINKING;
    else if (strcmp(argv[2], "damaged") == 0)
        state = 0x42414421u; /* "BAD!": no state the library writes */
    else if (strcmp(argv[2], "foreign") == 0)
        state = 0;
    else
        return 2;
    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--lock") == 0)
            lock = 1;
        else if (strcmp(argv[i], "--live") == 0)
            live = 1;
        else
            return 2;
    }
    if (pipe(fd) < 0)
        return 1;
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        close(fd[0]);
        if (make(bare, len, state, lock, fd[1]) < 0)
            _exit(1);
        close(fd[1]);
        if (live) {
            /* Out of the caller's way: a test's $(...) must not wait for us. */
            int null = open("/dev/null", O_RDWR);

            if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
            }
            sleep(60);
        }
        _exit(0);
    }
    close(fd[1]);
    n = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    if (!live) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (n <= 0)
        return 1;
    buf[n] = '\0';
    fputs(buf, stdout);
    return 0;
}
