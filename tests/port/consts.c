/*
 * consts.c - compile lib/compat.h's fallbacks on a system that does not need
 * them, so that they are tested here and not first on a user's old Unix.
 *
 * The system's EPROTO, ENOTSUP and EIDRM are removed before compat.h is read
 * (its own #include <errno.h> is then a no-op), so its #ifndef branches are
 * the ones compiled.  And where the system leaves `union semun' to the
 * caller (Linux, Solaris, AIX), this file defines it first and says so with
 * HAVE_UNION_SEMUN, as a BSD or macOS <sys/sem.h> would: compat.h must then
 * not define it again.  (The opposite branch, compat.h's own union, is the
 * one the library itself is built with on those systems.)  .ci/matrix also
 * runs configure against a simulated BSD <sys/sem.h> ("semun-sys" row).
 *
 * TAP output; exit 0 if every check passed.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>

#undef EPROTO
#undef ENOTSUP
#undef EIDRM

#ifndef HAVE_UNION_SEMUN
#define HAVE_UNION_SEMUN 1
#define SIMULATED_SYSTEM_SEMUN 1
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};
#endif

#include "compat.h"

static int n_test;
static int n_fail;

static void
check(int ok, const char *what)
{
    n_test++;
    if (!ok)
        n_fail++;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", n_test, what);
}

int
main(void)
{
    union semun arg;

    check(EPROTO == EINVAL, "EPROTO falls back to EINVAL");
#ifdef EOPNOTSUPP
    check(ENOTSUP == EOPNOTSUPP, "ENOTSUP falls back to EOPNOTSUPP");
#else
    check(ENOTSUP == EINVAL, "ENOTSUP falls back to EINVAL");
#endif
    check(EIDRM == EINVAL, "EIDRM falls back to EINVAL");
    check(EPROTO != 0 && ENOTSUP != 0 && EIDRM != 0, "fallbacks are non-zero errno values");
    check(strerror(ENOTSUP) != NULL, "strerror knows the ENOTSUP fallback");

    memset(&arg, 0, sizeof arg);
    arg.val = 1;
#ifdef SIMULATED_SYSTEM_SEMUN
    check(arg.val == 1, "a system-defined union semun is used, not redefined (simulated)");
#else
    check(arg.val == 1, "the system's union semun is used, not redefined");
#endif

    printf("1..%d\n", n_test);
    printf("# consts: %d passed, %d failed\n", n_test - n_fail, n_fail);
    return n_fail == 0 ? 0 : 1;
}
