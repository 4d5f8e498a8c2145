/*
 * t_badinput.c - every public function given bad input returns the documented
 * error, never crashes, and never leaves an IPC object behind.
 */
#include "testutil.h"
#include "svs_int.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

TestSuite(badinput, .fini = tu_cleanup, .timeout = TU_TIMEOUT);

/* Segments made by this process, to catch leaks of calls that have no name
 * to check (a NULL-name create).  -1 where /proc/sysvipc is missing. */
static int my_segments(void)
{
    return tu_shm_count_cpid(getpid());
}

static char *long_name(size_t len, int slash)
{
    char *s = malloc(len + 2);

    cr_assert_not_null(s);
    memset(s, 'L', len + 1);
    if (slash)
        s[0] = '/';
    s[len + (slash ? 1 : 0)] = '\0';
    return s;
}

/* ---- NULL handles -------------------------------------------------------- */

Test(badinput, null_handle_everywhere)
{
    TU_ASSERT_ERR(sysvshm_close(NULL), EINVAL);
    TU_ASSERT_ERR(sysvshm_unlink(NULL), EINVAL);
    TU_ASSERT_ERR(sysvshm_lock(NULL, SYSVSHM_WRITE, 0), EINVAL);
    TU_ASSERT_ERR(sysvshm_lock(NULL, SYSVSHM_READ, -1), EINVAL);
    TU_ASSERT_ERR(sysvshm_lock(NULL, 0, 0), EINVAL);
    TU_ASSERT_ERR(sysvshm_unlock(NULL), EINVAL);
    cr_assert_null(sysvshm_buf(NULL));
    cr_assert_eq(sysvshm_size(NULL), 0u);
    cr_assert_null(sysvshm_name(NULL));
    cr_assert_eq(sysvshm_key(NULL), (key_t)-1);
}

/* ---- names ------------------------------------------------------------------- */

Test(badinput, null_and_empty_names)
{
    int before = my_segments();

    TU_ASSERT_NULL_ERR(sysvshm_attach(NULL, 0), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_attach("", 0), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_attach("/", 0), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_create("", 10, 0, 0600), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_create("/", 10, 0, 0600), EINVAL);
    TU_ASSERT_ERR(sysvshm_remove(NULL), EINVAL);
    TU_ASSERT_ERR(sysvshm_remove(""), EINVAL);
    TU_ASSERT_ERR(sysvshm_remove("/"), EINVAL);
    TU_ASSERT_ERR(sysvshm_remove_v2(NULL, 0), EINVAL);
    TU_ASSERT_ERR(sysvshm_remove_v2("", SYSVSHM_ANYUSER), EINVAL);
    TU_ASSERT_ERR(sysvshm_name_key(NULL), EINVAL);
    TU_ASSERT_ERR(sysvshm_name_key(""), EINVAL);
    cr_assert_eq(my_segments(), before, "a rejected call made a segment");
}

Test(badinput, over_long_names)
{
    static const size_t lens[] = { SYSVSHM_NAME_MAX + 1, SYSVSHM_NAME_MAX + 2, 1000, 100000 };
    int before = my_segments();
    size_t i;
    int slash;

    for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (slash = 0; slash < 2; slash++) {
            char *n = long_name(lens[i], slash);
            TU_ASSERT_NULL_ERR(sysvshm_create(n, 10, 0, 0600), ENAMETOOLONG);
            TU_ASSERT_NULL_ERR(sysvshm_create(n, 10, SYSVSHM_NOLOCK, 0600), ENAMETOOLONG);
            TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENAMETOOLONG);
            TU_ASSERT_ERR(sysvshm_remove(n), ENAMETOOLONG);
            TU_ASSERT_ERR(sysvshm_remove_v2(n, SYSVSHM_ANYUSER), ENAMETOOLONG);
            TU_ASSERT_ERR(sysvshm_name_key(n), ENAMETOOLONG);
            free(n);
        }
    }
    cr_assert_eq(my_segments(), before, "a rejected call made a segment");
}

Test(badinput, slash_after_the_first_byte)
{
    static const char *const bad[] = { "a/b", "//a", "a/", "/a/", "ab//", "/a/b/c", "//" };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TU_ASSERT_NULL_ERR(sysvshm_create(bad[i], 10, 0, 0600), EINVAL);
        TU_ASSERT_NULL_ERR(sysvshm_attach(bad[i], 0), EINVAL);
        TU_ASSERT_ERR(sysvshm_remove(bad[i]), EINVAL);
        TU_ASSERT_ERR(sysvshm_remove_v2(bad[i], 0), EINVAL);
        TU_ASSERT_ERR(sysvshm_name_key(bad[i]), EINVAL);
    }
}

/* ---- sizes -------------------------------------------------------------------- */

Test(badinput, size_zero)
{
    const char *n = tu_name("size0");
    int before = my_segments();

    TU_ASSERT_NULL_ERR(sysvshm_create(n, 0, 0, 0600), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 0, SYSVSHM_NOLOCK, 0600), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_create(NULL, 0, 0, 0600), EINVAL);
    cr_assert(tu_name_keys_free(n), "size 0 left an IPC object");
    cr_assert_eq(my_segments(), before);
}

Test(badinput, size_near_size_max)
{
    static const size_t bad[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 100, SIZE_MAX - 383,
                                  SIZE_MAX - SVS_DATA_OFF, SIZE_MAX - 4096 };
    int before = my_segments();
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *n = tu_name("huge");
        errno = 0;
        sysvshm_t *h = sysvshm_create(n, bad[i], 0, 0600);
        int e = errno;
        if (h != NULL) {
            sysvshm_unlink(h);
            sysvshm_close(h);
        }
        cr_assert(h == NULL && e == EINVAL, "size SIZE_MAX-%zu: expected EINVAL, got %p / %s",
                  SIZE_MAX - bad[i], (void *)h, strerror(e));
        cr_assert(tu_name_keys_free(n), "size SIZE_MAX-%zu left an IPC object", SIZE_MAX - bad[i]);
        TU_ASSERT_NULL_ERR(sysvshm_create(NULL, bad[i], 0, 0600), EINVAL);
    }
    cr_assert_eq(my_segments(), before);
}

Test(badinput, size_above_the_system_limit_leaves_nothing)
{
    /* The kernel refuses these (EINVAL above SHMMAX, or ENOMEM/ENOSPC):
     * the point is that the semaphore set is not left behind. */
    static const size_t bad[] = { SIZE_MAX / 2, SIZE_MAX / 4, (size_t)1 << (sizeof(size_t) * 8 - 4) };
    int before = my_segments();
    size_t i;
    int flags;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (flags = 0; flags <= SYSVSHM_NOLOCK; flags += SYSVSHM_NOLOCK) {
            const char *n = tu_name("big");
            errno = 0;
            sysvshm_t *h = sysvshm_create(n, bad[i], flags, 0600);
            int e = errno;
            if (h != NULL) {
                sysvshm_unlink(h);
                sysvshm_close(h);
                cr_skip_test("this system gave a segment of %zu bytes", bad[i]);
            }
            cr_assert(e == EINVAL || e == ENOMEM || e == ENOSPC,
                      "size %zu: errno %d (%s)", bad[i], e, strerror(e));
            cr_assert(tu_name_keys_free(n), "size %zu: a failed create left an IPC object",
                      bad[i]);
        }
    }
    cr_assert_eq(my_segments(), before);
}

/* ---- flags ---------------------------------------------------------------------- */

Test(badinput, unknown_create_flags)
{
    static const int bad[] = { SYSVSHM_RDONLY, SYSVSHM_ANYUSER, 0x10, 0x80, 0x100, 0x10000, -1,
                               INT_MIN, SYSVSHM_NOLOCK | 0x80, SYSVSHM_NOLOCK | SYSVSHM_RDONLY,
                               SYSVSHM_NOLOCK | SYSVSHM_FASTLOCK, SYSVSHM_FASTLOCK | SYSVSHM_RDONLY };
    int before = my_segments();
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *n = tu_name("cflags");
        TU_ASSERT_NULL_ERR(sysvshm_create(n, 10, bad[i], 0600), EINVAL);
        cr_assert(tu_name_keys_free(n), "flags 0x%x left an IPC object", (unsigned)bad[i]);
        TU_ASSERT_NULL_ERR(sysvshm_create(NULL, 10, bad[i], 0600), EINVAL);
    }
    cr_assert_eq(my_segments(), before);
}

Test(badinput, unknown_attach_flags)
{
    static const int bad[] = { SYSVSHM_NOLOCK, 0x8, 0x80, 0x100, -1, INT_MIN,
                               SYSVSHM_RDONLY | SYSVSHM_NOLOCK, SYSVSHM_RDONLY | 0x40 };
    const char *n = tu_name("aflags");
    const char *missing = tu_name("aflags-missing");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 10, 0, 0600));
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TU_ASSERT_NULL_ERR(sysvshm_attach(n, bad[i]), EINVAL);
        TU_ASSERT_NULL_ERR(sysvshm_attach(missing, bad[i]), EINVAL);
    }
    /* The valid combinations work, and the block is unharmed. */
    {
        sysvshm_t *a = TU_MUST(sysvshm_attach(n, SYSVSHM_RDONLY | SYSVSHM_ANYUSER));
        sysvshm_close(a);
        a = TU_MUST(sysvshm_attach(n, SYSVSHM_ANYUSER));
        sysvshm_close(a);
    }
    cr_assert(tu_name_keys_free(missing));
    sysvshm_unlink(h);
    sysvshm_close(h);
}

Test(badinput, unknown_remove_flags)
{
    static const int bad[] = { SYSVSHM_NOLOCK, SYSVSHM_RDONLY, 0x8, -1, INT_MIN };
    const char *n = tu_name("rflags");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 10, 0, 0600));
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TU_ASSERT_ERR(sysvshm_remove_v2(n, bad[i]), EINVAL);
    cr_assert(tu_shm_exists(sysvshm_key(h)), "a rejected remove removed the block");
    cr_assert(tu_sem_exists(sysvshm_key(h)), "a rejected remove removed the semaphore set");
    cr_assert_eq(sysvshm_remove_v2(n, 0), 0);
    sysvshm_close(h);
}

Test(badinput, bad_modes)
{
    static const mode_t bad[] = { 0, 0400, 0200, 0066, 01600, 02600, 04600, 07777, 010600,
                                  (mode_t)-1 };
    int before = my_segments();
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *n = tu_name("mode");
        errno = 0;
        sysvshm_t *h = sysvshm_create(n, 10, 0, bad[i]);
        int e = errno;
        if (h != NULL) {
            sysvshm_unlink(h);
            sysvshm_close(h);
        }
        cr_assert(h == NULL && e == EINVAL, "mode 0%o: expected EINVAL, got %p / %s",
                  (unsigned)bad[i], (void *)h, strerror(e));
        cr_assert(tu_name_keys_free(n), "mode 0%o left an IPC object", (unsigned)bad[i]);
        TU_ASSERT_NULL_ERR(sysvshm_create(NULL, 10, SYSVSHM_NOLOCK, bad[i]), EINVAL);
    }
    cr_assert_eq(my_segments(), before);
}

Test(badinput, bad_how)
{
    const char *n = tu_name("how");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 10, 0, 0600));
    static const int bad[] = { 0, 3, -1, 4, INT_MIN, INT_MAX };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TU_ASSERT_ERR(sysvshm_lock(h, bad[i], 0), EINVAL);
        TU_ASSERT_ERR(sysvshm_lock(h, bad[i], 100), EINVAL);
        TU_ASSERT_ERR(sysvshm_lock(h, bad[i], -1), EINVAL);
    }
    TU_ASSERT_ERR(sysvshm_unlock(h), EPERM);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

Test(badinput, failures_leave_errno_and_nothing_else)
{
    /* A failed call on a valid name where a block exists does not disturb
     * the block. */
    const char *n = tu_name("intact");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    sysvshm_t *a;

    memset(sysvshm_buf(h), 0x3d, 100);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 0, 0, 0600), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 100, 0x80, 0600), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 100, 0, 0400), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_create(n, SIZE_MAX, 0, 0600), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0x80), EINVAL);
    TU_ASSERT_ERR(sysvshm_remove_v2(n, 0x80), EINVAL);
    a = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_eq(sysvshm_size(a), 100u);
    cr_assert_eq(((unsigned char *)sysvshm_buf(a))[99], 0x3d);
    cr_assert_eq(sysvshm_lock(a, SYSVSHM_WRITE, 0), 0);
    cr_assert_eq(sysvshm_unlock(a), 0);
    sysvshm_close(a);
    sysvshm_unlink(h);
    sysvshm_close(h);
}
