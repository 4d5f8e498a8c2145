/*
 * r_limits_ns.c - run by r_limits inside a fresh IPC namespace (unshare
 * --ipc), as root: lowers one of the kernel's SysV limits there and checks
 * that sysvshm_create fails with the errno shmget/semget give and leaves
 * nothing behind.  The namespace, and whatever is in it, goes away when this
 * program exits, so the host's limits and objects are never touched.
 *
 *   r_limits_ns shmmni|semmni|semmns|shmmax|shmall
 * Exit 0 pass, 1 fail, 77 cannot set the limit here (skip).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "sysvshm.h"

static int failures;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "r_limits_ns: %s:%d: ", __FILE__, __LINE__);      \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            failures++;                                                       \
        }                                                                     \
    } while (0)

static int set_limit(const char *file, const char *value)
{
    char path[128], back[128];
    FILE *f;

    snprintf(path, sizeof path, "/proc/sys/kernel/%s", file);
    f = fopen(path, "w");
    if (f == NULL || fprintf(f, "%s\n", value) < 0 || fclose(f) != 0) {
        fprintf(stderr, "r_limits_ns: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    f = fopen(path, "r");
    if (f == NULL || fgets(back, sizeof back, f) == NULL) {
        fprintf(stderr, "r_limits_ns: cannot read back %s\n", path);
        return -1;
    }
    fclose(f);
    return 0;
}

/* Objects in this namespace: /proc/sysvipc lists only the caller's. */
static int count(const char *what)
{
    char path[64], line[512];
    FILE *f;
    int n = -1;

    snprintf(path, sizeof path, "/proc/sysvipc/%s", what);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        n++;
    fclose(f);
    return n;
}

static int keys_free(const char *name)
{
    key_t k0 = sysvshm_name_key(name);
    unsigned i;

    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        key_t k = (key_t)(0x53000000 | (((unsigned)k0 + i) & 0xffffff));
        if (shmget(k, 0, 0) >= 0 || semget(k, 0, 0) >= 0)
            return 0;
    }
    return 1;
}

static sysvshm_t *must_create(const char *name, size_t size, int flags)
{
    sysvshm_t *h = sysvshm_create(name, size, flags, 0600);

    CHECK(h != NULL, "create \"%s\" (%zu bytes) under the lowered limit: %s", name, size,
          strerror(errno));
    return h;
}

/* create must fail with `want', leaving the namespace as it was. */
static void must_fail(const char *name, size_t size, int flags, int want)
{
    int shm_before = count("shm"), sem_before = count("sem");
    sysvshm_t *h;

    errno = 0;
    h = sysvshm_create(name, size, flags, 0600);
    CHECK(h == NULL && errno == want, "create \"%s\" (%zu bytes): got %p, errno %s; "
          "want %s", name, size, (void *)h, strerror(errno), strerror(want));
    CHECK(keys_free(name), "create \"%s\" failed but left an object at its keys", name);
    CHECK(count("shm") == shm_before, "segments: %d before the failed create, %d after",
          shm_before, count("shm"));
    CHECK(count("sem") == sem_before, "semaphore sets: %d before the failed create, %d after",
          sem_before, count("sem"));
    if (h != NULL) {
        sysvshm_unlink(h);
        sysvshm_close(h);
    }
}

static void still_works(sysvshm_t *h)
{
    sysvshm_t *a;

    if (h == NULL)
        return;
    a = sysvshm_attach(sysvshm_name(h), 0);
    CHECK(a != NULL, "attach of \"%s\" after the failure: %s", sysvshm_name(h), strerror(errno));
    if (a != NULL)
        sysvshm_close(a);
}

int main(int argc, char **argv)
{
    const char *c = argc == 2 ? argv[1] : "";
    sysvshm_t *a = NULL, *b = NULL;

    if (count("shm") != 0 || count("sem") != 0) {
        fprintf(stderr, "r_limits_ns: not in a fresh IPC namespace (objects exist): skip\n");
        return 77;
    }
    if (strcmp(c, "shmmni") == 0) {
        /* Two segments in all: the third create finds no room. */
        if (set_limit("shmmni", "2") != 0)
            return 77;
        a = must_create("lim.a", 100, 0);
        b = must_create("lim.b", 100, SYSVSHM_NOLOCK);
        must_fail("lim.c", 100, 0, ENOSPC);
        must_fail("lim.d", 100, SYSVSHM_NOLOCK, ENOSPC);
        still_works(a);
    } else if (strcmp(c, "semmni") == 0) {
        /* One semaphore set in all: the second create makes its segment,
         * is refused a set, and must remove the segment again. */
        if (set_limit("sem", "250 32000 32 1") != 0)
            return 77;
        a = must_create("lim.a", 100, 0);
        must_fail("lim.b", 100, 0, ENOSPC);
        b = must_create("lim.c", 100, SYSVSHM_NOLOCK); /* needs no set */
        still_works(a);
    } else if (strcmp(c, "semmns") == 0) {
        /* Three semaphores in all: one block's set. */
        if (set_limit("sem", "250 3 32 32") != 0)
            return 77;
        a = must_create("lim.a", 100, 0);
        must_fail("lim.b", 100, 0, ENOSPC);
        still_works(a);
    } else if (strcmp(c, "shmmax") == 0) {
        /* Segments of at most 4096 bytes: the header counts. */
        if (set_limit("shmmax", "4096") != 0)
            return 77;
        a = must_create("lim.a", 4096 - 384, 0);
        must_fail("lim.b", 4096 - 384 + 1, 0, EINVAL);
        must_fail("lim.c", 1u << 20, SYSVSHM_NOLOCK, EINVAL);
        still_works(a);
    } else if (strcmp(c, "shmall") == 0) {
        /* Four pages of shared memory in all.  The kernel's errno for the
         * total is what a raw shmget gets (ENOSPC on Linux): create must pass
         * it on unchanged. */
        long page = sysconf(_SC_PAGESIZE);
        int raw, want;

        if (set_limit("shmall", "4") != 0)
            return 77;
        a = must_create("lim.a", (size_t)(2 * page), 0); /* 3 pages with the header */
        raw = shmget(IPC_PRIVATE, (size_t)(2 * page), IPC_CREAT | 0600);
        want = errno;
        CHECK(raw < 0, "a raw shmget of 2 pages past SHMALL succeeded");
        if (raw >= 0)
            shmctl(raw, IPC_RMID, NULL);
        CHECK(want == ENOSPC || want == ENOMEM, "raw shmget past SHMALL: %s", strerror(want));
        must_fail("lim.b", (size_t)(2 * page), 0, want);
        b = must_create("lim.c", (size_t)(page - 384), 0); /* the last page */
        still_works(a);
    } else {
        fprintf(stderr, "usage: r_limits_ns shmmni|semmni|semmns|shmmax|shmall\n");
        return 2;
    }
    if (a != NULL) {
        sysvshm_unlink(a);
        sysvshm_close(a);
    }
    if (b != NULL) {
        sysvshm_unlink(b);
        sysvshm_close(b);
    }
    CHECK(count("shm") == 0 && count("sem") == 0, "objects left after removing every block: "
          "%d segments, %d semaphore sets", count("shm"), count("sem"));
    printf("r_limits_ns %s: %s\n", c, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
