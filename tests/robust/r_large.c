/*
 * r_large.c - sizes are size_t end to end: a block above 4 GiB works in
 * every process that attaches it, sizes near SIZE_MAX are refused without
 * wrapping, and a block too big for the caller's address space fails with
 * shmat's ENOMEM and leaves nothing behind.
 */
#include "rutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>

TestSuite(large, .fini = r_cleanup, .timeout = TU_TIMEOUT);

static unsigned long long read_ull(const char *path)
{
    FILE *f = fopen(path, "r");
    unsigned long long v = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu", &v) != 1)
        v = 0;
    fclose(f);
    return v;
}

/* Can this host make a segment of `bytes'?  (Only /proc tells; elsewhere
 * we just try.) */
static int host_allows(unsigned long long bytes, char *why, size_t n)
{
    unsigned long long shmmax = read_ull("/proc/sys/kernel/shmmax");
    unsigned long long shmall = read_ull("/proc/sys/kernel/shmall");
    long page = sysconf(_SC_PAGESIZE);

    if (sizeof(size_t) < 8) {
        snprintf(why, n, "size_t has %zu bytes", sizeof(size_t));
        return 0;
    }
    if (shmmax != 0 && shmmax < bytes) {
        snprintf(why, n, "SHMMAX is %llu", shmmax);
        return 0;
    }
    if (shmall != 0 && shmall < bytes / (unsigned long long)page + 1) {
        snprintf(why, n, "SHMALL is %llu pages", shmall);
        return 0;
    }
    return 1;
}

struct big {
    const char *name;
    size_t size;
};

static int child_check_big(void *arg)
{
    struct big *b = arg;
    sysvshm_t *h = sysvshm_attach(b->name, 0);
    unsigned char *p;

    TU_CHECK(h != NULL, 2);
    TU_CHECK(sysvshm_size(h) == b->size, 3);
    p = sysvshm_buf(h);
    TU_CHECK(p[0] == 0xa1, 4);
    TU_CHECK(p[b->size / 2] == 0xa2, 5);
    TU_CHECK(p[b->size - 1] == 0xa3, 6);
    TU_CHECK(p[(size_t)1 << 32] == 0xa4, 7); /* past 4 GiB: no 32-bit wrap */
    p[b->size - 2] = 0xb1;
    TU_CHECK(sysvshm_lock(h, SYSVSHM_WRITE, 1000) == 0, 8);
    TU_CHECK(sysvshm_unlock(h) == 0, 9);
    sysvshm_close(h);
    return 0;
}

Test(large, block_above_4_gib)
{
    const char *n = r_name("big");
    /* 5 GiB and an odd 12345 bytes: neither a page nor a 32-bit size. */
    size_t size = ((size_t)5 << 30) + 12345;
    char why[128];
    sysvshm_t *h;
    unsigned char *p;
    unsigned char hdr[R_HDR];
    uint64_t stored;
    struct shmid_ds ds;
    struct big b;

    if (getenv("SVS_VALGRIND") != NULL) {
        cr_skip_test("memcheck takes minutes to map a 5 GiB segment");
        return;
    }
    if (!host_allows((unsigned long long)size + R_HDR, why, sizeof why)) {
        cr_skip_test("a %zu-byte block: %s", size, why);
        return;
    }
    h = sysvshm_create(n, size, 0, 0600);
    if (h == NULL && (errno == ENOMEM || errno == ENOSPC)) {
        cr_skip_test("a %zu-byte block: %s", size, strerror(errno));
        return;
    }
    cr_assert_not_null(h, "create of %zu bytes: %s", size, strerror(errno));
    cr_assert_eq(sysvshm_size(h), size);
    p = sysvshm_buf(h);
    /* Touch a few pages only: the rest is never backed. */
    cr_assert_eq(p[size - 1], 0);
    p[0] = 0xa1;
    p[size / 2] = 0xa2;
    p[size - 1] = 0xa3;
    p[(size_t)1 << 32] = 0xa4;

    /* The header and the kernel agree on the size, to the byte. */
    cr_assert_eq(shmctl(shmget(sysvshm_key(h), 0, 0), IPC_STAT, &ds), 0);
    cr_assert_eq((unsigned long long)ds.shm_segsz, (unsigned long long)size + R_HDR);
    cr_assert_eq(tu_shm_peek(shmget(sysvshm_key(h), 0, 0), hdr, sizeof hdr), 0);
    memcpy(&stored, hdr + R_OFF_SIZE, sizeof stored);
    cr_assert_eq(stored, (uint64_t)size);

    b.name = n;
    b.size = size;
    cr_assert_eq(tu_wait(tu_fork(child_check_big, &b), 20000), 0, "the other process");
    cr_assert_eq(p[size - 2], 0xb1);
    cr_assert_eq(sysvshm_unlink(h), 0);
    cr_assert_eq(sysvshm_close(h), 0);
    cr_assert(tu_name_keys_free(n));
}

/* Sizes whose header would wrap size_t are refused before any system call;
 * absurd sizes get the kernel's refusal.  Nothing is left either way. */
Test(large, sizes_near_size_max)
{
    static const size_t wraps[] = { (size_t)-1, (size_t)-1 - 1, (size_t)-1 - 383 };
    size_t absurd[4];
    unsigned i;

    absurd[0] = (size_t)-1 - 384;
    absurd[1] = (size_t)-1 / 2;
    absurd[2] = (size_t)1 << (sizeof(size_t) * 8 - 2);
    absurd[3] = ((size_t)-1 & ~(size_t)0xfff) - 384;
    for (i = 0; i < sizeof wraps / sizeof wraps[0]; i++) {
        const char *n = r_name("wrap");

        TU_ASSERT_NULL_ERR(sysvshm_create(n, wraps[i], 0, 0600), EINVAL);
        TU_ASSERT_NULL_ERR(sysvshm_create(n, wraps[i], SYSVSHM_NOLOCK, 0600), EINVAL);
        cr_assert(tu_name_keys_free(n), "size %zu left:%s", wraps[i], r_describe(n));
    }
    for (i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
        const char *n = r_name("absurd");
        sysvshm_t *h;

        errno = 0;
        h = sysvshm_create(n, absurd[i], 0, 0600);
        cr_assert_null(h, "a block of %zu bytes was made", absurd[i]);
        cr_assert(errno == EINVAL || errno == ENOSPC || errno == ENOMEM,
                  "size %zu: %s", absurd[i], strerror(errno));
        cr_assert(tu_name_keys_free(n), "size %zu left:%s", absurd[i], r_describe(n));
    }
}

/* ---- an address space too small for the block -------------------------- */

static unsigned long long vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu", &pages) != 1)
        pages = 0;
    fclose(f);
    return pages * (unsigned long long)sysconf(_SC_PAGESIZE);
}

#define BIG ((size_t)1 << 30)

static int child_small_space(void *arg)
{
    const char **names = arg;
    struct rlimit rl;
    sysvshm_t *h;

    /* Room for a little more than we have, far less than 1 GiB. */
    rl.rlim_cur = rl.rlim_max = (rlim_t)(vm_size() + ((size_t)64 << 20));
    TU_CHECK(setrlimit(RLIMIT_AS, &rl) == 0, 2);
    /* create: the segment is made, then cannot be attached: it must go. */
    errno = 0;
    h = sysvshm_create(names[0], BIG, 0, 0600);
    TU_CHECK(h == NULL, 3);
    TU_CHECK(errno == ENOMEM, 4);
    /* attach of an existing block: shmat's ENOMEM, nothing changed. */
    errno = 0;
    h = sysvshm_attach(names[1], 0);
    TU_CHECK(h == NULL, 5);
    TU_CHECK(errno == ENOMEM, 6);
    errno = 0;
    h = sysvshm_attach(names[1], SYSVSHM_RDONLY);
    TU_CHECK(h == NULL && errno == ENOMEM, 7);
    /* remove must look at the header, so it cannot either; it says why
     * and removes nothing. */
    errno = 0;
    TU_CHECK(sysvshm_remove(names[1]) == -1, 8);
    TU_CHECK(errno == ENOMEM, 9);
    return 0;
}

Test(large, no_room_to_attach_is_enomem_and_leaves_nothing)
{
    const char *names[2];
    sysvshm_t *h;
    int st;

    if (R_ASAN || getenv("SVS_VALGRIND") != NULL) {
        cr_skip_test("address-space limits do not mix with AddressSanitizer or valgrind");
        return;
    }
    names[0] = r_name("noroom");
    names[1] = r_name("exists");
    h = sysvshm_create(names[1], BIG, 0, 0600);
    if (h == NULL && (errno == ENOMEM || errno == ENOSPC || errno == EINVAL)) {
        cr_skip_test("cannot make a 1 GiB block here: %s", strerror(errno));
        return;
    }
    cr_assert_not_null(h);
    memcpy(sysvshm_buf(h), "still here", 11);
    st = tu_wait(tu_fork(child_small_space, names), 20000);
    cr_assert_eq(st, 0, "child check %d failed (see r_large.c)", st);
    cr_assert(tu_name_keys_free(names[0]), "the failed create left:%s", r_describe(names[0]));
    cr_assert_eq(memcmp(sysvshm_buf(h), "still here", 11), 0);
    {
        sysvshm_t *a = TU_MUST(sysvshm_attach(names[1], 0));
        sysvshm_close(a);
    }
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
}
