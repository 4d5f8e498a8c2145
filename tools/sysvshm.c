/*
 * sysvshm.c - the sysvshm command: see and manage the named shared memory
 * blocks of libsysvshm on this host, by name.
 *
 *   sysvshm ls [-a] [--json]            sysvshm cat NAME [--offset N] [--length N] [-x]
 *   sysvshm stat NAME [--json]          sysvshm write NAME [--offset N]
 *   sysvshm create NAME SIZE [-m MODE] [--nolock]
 *   sysvshm rm [-f] NAME...             sysvshm key NAME [--all]
 *   sysvshm gc [-n] [--force] [NAME...] sysvshm lock NAME [--read] [--timeout MS] -- COMMAND...
 *
 * Exit status: 0 success, 1 failure, 2 bad usage (and, for lock, the
 * command's own status).  Every error is one line on stderr naming the
 * block and the cause, with a hint where the errno alone misleads.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "scan.h"
#include "out.h"

#include <ctype.h>
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* The command being run, for messages; NULL before one is chosen. */
static const char *cmdname;

/* Does the user's locale encode text in UTF-8 (so that "→" shows)? */
static int utf8_locale;

static void
find_locale(void)
{
    const char *cs;

    if (setlocale(LC_CTYPE, "") == NULL)
        return;
    cs = nl_langinfo(CODESET);
    utf8_locale = cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0 ||
                                 strcmp(cs, "utf-8") == 0);
    /* Everything else runs in the C locale, as before. */
    setlocale(LC_CTYPE, "C");
}

static void
prefix(void)
{
    if (cmdname != NULL)
        fprintf(stderr, "sysvshm %s: ", cmdname);
    else
        fputs("sysvshm: ", stderr);
}

/* ---- platform hints ------------------------------------------------------------ */

#if defined(__linux__)
#define SEE_SHMMAX "see /proc/sys/kernel/shmmax or `ipcs -l'"
#define SEE_SHMALL "see /proc/sys/kernel/shmall (in pages) or `ipcs -l'"
#define SEE_COUNT "see /proc/sys/kernel/shmmni, /proc/sys/kernel/sem, /proc/sys/kernel/shmall or `ipcs -l'"
#define SEE_SEMMSL "see the first field of /proc/sys/kernel/sem or `ipcs -l'"
#elif defined(__sun)
#define SEE_SHMMAX "see `prctl -n project.max-shm-memory $$'"
#define SEE_SHMALL "see `prctl -n project.max-shm-memory $$'"
#define SEE_COUNT "on Solaris, project.max-shm-ids and project.max-sem-ids: see `prctl -n project.max-shm-ids $$' and `ipcs -a'"
#define SEE_SEMMSL "see `prctl -n process.max-sem-nsems $$'"
#elif defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__) || defined(__APPLE__)
#define SEE_SHMMAX "see `sysctl kern.ipc.shmmax'"
#define SEE_SHMALL "see `sysctl kern.ipc.shmall' (in pages)"
#define SEE_COUNT "see `sysctl kern.ipc.shmmni kern.ipc.semmni kern.ipc.semmns'"
#define SEE_SEMMSL "see `sysctl kern.ipc.semmsl'"
#else
#define SEE_SHMMAX "see the system's IPC tunables (`ipcs -l' where it exists)"
#define SEE_SHMALL "see the system's IPC tunables (`ipcs -l' where it exists)"
#define SEE_COUNT "see the system's IPC tunables (`ipcs -l' where it exists)"
#define SEE_SEMMSL "see the system's IPC tunables (`ipcs -l' where it exists)"
#endif

/* ---- messages ------------------------------------------------------------------- */

static char *
shown(const char *name)
{
    static char buf[4][OUT_TEXT_MAX];
    static int next;
    char *b = buf[next];

    next = (next + 1) % 4;
    if (name[0] == '/')
        name++;
    return out_text(b, sizeof buf[0], name, 0);
}

/* "sysvshm CMD: MESSAGE" */
static void
say(const char *fmt, ...)
{
    va_list ap;

    prefix();
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    putc('\n', stderr);
}

/* "sysvshm CMD: block "NAME": CAUSE (HINT)" */
static void
block_msg(const char *name, const char *cause, const char *hint)
{
    if (hint != NULL && *hint != '\0')
        say("block \"%s\": %s (%s)", shown(name), cause, hint);
    else
        say("block \"%s\": %s", shown(name), cause);
}

static void
block_error(const char *name, int err, const char *hint)
{
    /* strerror(EPROTO) says "Protocol error", which means nothing here. */
    block_msg(name, err == EPROTO ? "its header is damaged or of an unknown format" :
              strerror(err), hint);
}

static int
usage_error(const char *fmt, ...)
{
    va_list ap;

    prefix();
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmdname == NULL)
        fprintf(stderr, " (see `sysvshm --help')\n");
    else
        fprintf(stderr, " (see `sysvshm %s --help')\n", cmdname);
    return EXIT_USAGE;
}

static const char *
user_name(uid_t uid, char *buf, size_t len)
{
    struct passwd *pw = getpwuid(uid);

    if (pw != NULL && pw->pw_name != NULL)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "%lu", (unsigned long)uid);
    return buf;
}

static const char *
time_text(time_t t, char *buf, size_t len, int utc)
{
    struct tm *tm = utc ? gmtime(&t) : localtime(&t);

    if (t == 0 || tm == NULL) {
        snprintf(buf, len, "-");
        return buf;
    }
    strftime(buf, len, utc ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S", tm);
    return buf;
}

static unsigned long
key_hex(key_t key)
{
    return (unsigned long)(unsigned int)key;
}

/* ---- arguments -------------------------------------------------------------------- */

struct optdef {
    const char *lng;  /* without "--" */
    char shrt;        /* 0: none */
    int arg;          /* takes a value */
};

#define MAXOPT 8

struct parsed {
    const char *val[MAXOPT];
    int seen[MAXOPT];
    char **ops;
    int nops;
};

enum { PARSE_OK, PARSE_HELP, PARSE_BAD };

/*
 * Options may come anywhere among the operands, until "--".  With
 * cmd_from > 0 (lock), once that many operands are collected the next
 * operand, or whatever follows "--", is a command line taken verbatim.
 */
static int
parse_args(int argc, char **argv, const struct optdef *defs, struct parsed *p,
           int cmd_from)
{
    int i, only_ops = 0;

    memset(p, 0, sizeof *p);
    p->ops = calloc((size_t)argc + 1, sizeof *p->ops);
    if (p->ops == NULL) {
        say("%s", strerror(errno));
        return PARSE_BAD;
    }
    for (i = 1; i < argc; i++) {
        char *a = argv[i];
        int d;

        if (cmd_from > 0 && p->nops >= cmd_from && (only_ops || a[0] != '-' || a[1] == '\0')) {
            for (; i < argc; i++)
                p->ops[p->nops++] = argv[i];
            break;
        }
        if (only_ops || a[0] != '-' || a[1] == '\0') {
            p->ops[p->nops++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_ops = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return PARSE_HELP;
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t n = eq != NULL ? (size_t)(eq - (a + 2)) : strlen(a + 2);

            for (d = 0; defs[d].lng != NULL; d++)
                if (strlen(defs[d].lng) == n && strncmp(defs[d].lng, a + 2, n) == 0)
                    break;
            if (defs[d].lng == NULL) {
                usage_error("unknown option %s", a);
                return PARSE_BAD;
            }
            if (!defs[d].arg && eq != NULL) {
                usage_error("option --%s takes no value", defs[d].lng);
                return PARSE_BAD;
            }
            if (defs[d].arg) {
                if (eq != NULL) {
                    p->val[d] = eq + 1;
                } else if (i + 1 < argc) {
                    p->val[d] = argv[++i];
                } else {
                    usage_error("option --%s needs a value", defs[d].lng);
                    return PARSE_BAD;
                }
            }
            p->seen[d] = 1;
            continue;
        }
        /* Short options, possibly grouped: -ax, -m0600, -m 0600. */
        for (a++; *a != '\0'; a++) {
            for (d = 0; defs[d].lng != NULL; d++)
                if (defs[d].shrt == *a)
                    break;
            if (defs[d].lng == NULL) {
                usage_error("unknown option -%c", *a);
                return PARSE_BAD;
            }
            p->seen[d] = 1;
            if (!defs[d].arg)
                continue;
            if (a[1] != '\0') {
                p->val[d] = a + 1;
            } else if (i + 1 < argc) {
                p->val[d] = argv[++i];
            } else {
                usage_error("option -%c needs a value", *a);
                return PARSE_BAD;
            }
            break;
        }
    }
    return PARSE_OK;
}

/* A byte count: decimal (or 0x hex) with an optional k, M, G or T suffix
 * (powers of 1024). */
static int
parse_bytes(const char *s, unsigned long long *out)
{
    unsigned long long v, mul = 1;
    char *end;

    if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
    if (errno != 0 || end == s)
        return -1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': mul = 1ULL << 10; end++; break;
    case 'm': case 'M': mul = 1ULL << 20; end++; break;
    case 'g': case 'G': mul = 1ULL << 30; end++; break;
    case 't': case 'T': mul = 1ULL << 40; end++; break;
    default: return -1;
    }
    if (*end != '\0')
        return -1;
    if (v > ULLONG_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

static int
parse_timeout(const char *s, long *out)
{
    char *end;
    long v;

    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < -1)
        return -1;
    *out = v;
    return 0;
}

/* A name given on the command line; bad ones are usage errors. */
static int
check_name(const char *name)
{
    const char *bare;
    size_t len;

    if (svs_name_check(name, &bare, &len) == 0)
        return 0;
    if (errno == ENAMETOOLONG)
        usage_error("block name too long (at most %d bytes)", SYSVSHM_NAME_MAX);
    else if (name[0] == '\0' || strcmp(name, "/") == 0)
        usage_error("empty block name");
    else
        usage_error("bad block name \"%s\": a name may not contain '/' after its first byte",
                    shown(name));
    return -1;
}

/* A NAME operand: with hex, given as hex digits and decoded in place
 * (--hex, --name-hex); then checked as check_name does. */
static int
name_arg(char *name, int hex)
{
    if (hex && out_unhex(name) < 0) {
        usage_error("bad hex name \"%s\": two hex digits a byte, none of them 00", name);
        return -1;
    }
    return check_name(name);
}

static const char *
bare_name(const char *name)
{
    return name[0] == '/' ? name + 1 : name;
}

/* ---- diagnosis: why did the library say that? -------------------------------------- */

static char hintbuf[1024];

/* The command that removes a damaged block of this name, for hints: the
 * name as it is if a shell takes it as one word, else in hex. */
static const char *
rm_force_cmd(const char *name)
{
    static char buf[2 * SYSVSHM_NAME_MAX + 48];
    const char *bare = bare_name(name), *c;
    size_t n;

    for (c = bare; *c != '\0'; c++)
        if (!isalnum((unsigned char)*c) && strchr("._+:@%=,-", *c) == NULL)
            break;
    if (*c == '\0' && bare[0] != '-') {
        snprintf(buf, sizeof buf, "sysvshm rm --force %s", bare);
        return buf;
    }
    n = (size_t)snprintf(buf, sizeof buf, "sysvshm rm --force --hex ");
    for (c = bare; *c != '\0' && n + 3 <= sizeof buf; c++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%02x", (unsigned char)*c);
    return buf;
}

/* Look at the name's probe keys to explain ENOENT, EACCES and EAGAIN. */
static const char *
diagnose(const char *name, int err)
{
    const char *bare = bare_name(name);
    struct seglist l = { NULL, 0, 0 };
    int denied = 0;
    size_t i;
    char u[64];

    hintbuf[0] = '\0';
    if (scan_name(bare, strlen(bare), &l, &denied) < 0)
        return NULL;
    for (i = 0; err == EEXIST && i < l.n; i++)
        if (l.v[i].state == ST_READY) {
            seglist_free(&l);
            return NULL; /* a complete block: the plain hint */
        }
    for (i = 0; i < l.n; i++) {
        const struct seginfo *s = &l.v[i];

        if (err == ENOENT && s->state == ST_HALFMADE) {
            snprintf(hintbuf, sizeof hintbuf, "only a half-made block left by dead process "
                     "%ld exists: `sysvshm gc' removes it", s->cpid);
            break;
        }
        if (err == ENOENT && s->state == ST_UNLINKING) {
            snprintf(hintbuf, sizeof hintbuf, s->verdict == NULL ?
                     "a removal was interrupted: `sysvshm gc' finishes it" :
                     "it is being removed (%s)", s->note);
            break;
        }
        if ((err == EPROTO || err == ENOENT || err == EEXIST) && s->state == ST_SUSPECT) {
            snprintf(hintbuf, sizeof hintbuf, "shmid %d: %s; see `sysvshm stat'; "
                     "`%s' removes it once nobody uses it", s->shmid, s->note,
                     rm_force_cmd(name));
            break;
        }
        if ((err == ENOENT || err == EAGAIN) && s->state == ST_INIT) {
            snprintf(hintbuf, sizeof hintbuf, "it is still being created by process %ld",
                     s->cpid);
            break;
        }
        if (err == EACCES && s->state == ST_READY && s->cuid != geteuid() &&
            s->cuid != 0) {
            snprintf(hintbuf, sizeof hintbuf, "it was made by user %s: pass --any-user "
                     "to use another user's block", user_name(s->cuid, u, sizeof u));
            break;
        }
        if ((err == EPROTO || err == EEXIST) && s->state == ST_DAMAGED) {
            snprintf(hintbuf, sizeof hintbuf, "%sshmid %d: see `sysvshm stat'; `%s' "
                     "removes it once nobody uses it", err == EEXIST ?
                     "a block of that name with a damaged header: " : "", s->shmid,
                     rm_force_cmd(name));
            break;
        }
    }
    if (hintbuf[0] == '\0' && err == EACCES && denied > 0)
        snprintf(hintbuf, sizeof hintbuf, "a segment at one of the name's keys may not "
                 "be read by you: its owner or root can");
    if (hintbuf[0] == '\0' && err == EPROTO)
        snprintf(hintbuf, sizeof hintbuf, "see `sysvshm stat'");
    if (hintbuf[0] == '\0' && err == EAGAIN)
        snprintf(hintbuf, sizeof hintbuf, "it is still being created");
    seglist_free(&l);
    return hintbuf[0] != '\0' ? hintbuf : NULL;
}

/* The hint for an error of sysvshm_attach / sysvshm_remove / sysvshm_lock. */
static const char *
use_hint(const char *name, int err)
{
    switch (err) {
    case ENOENT: case EACCES: case EPROTO: case EAGAIN:
        return diagnose(name, err);
    case EPERM:
        return "only its owner, its creator or root may remove it";
    case EMFILE:
        return "this process has too many segments attached (SHMSEG)";
    case ENOMEM:
        return "not enough memory to attach it";
    case ENOTSUP:
        return "it was made with --nolock and has no lock";
    case EIDRM:
        return "the block was removed meanwhile";
    }
    return NULL;
}

#ifdef __linux__
/* Linux shows the limits and what uses them: say which limit was hit. */
static int
read_nums(const char *path, unsigned long long *v, int n)
{
    FILE *fp = fopen(path, "r");
    int i = 0;

    if (fp == NULL)
        return -1;
    while (i < n && fscanf(fp, "%llu", &v[i]) == 1)
        i++;
    fclose(fp);
    return i == n ? 0 : -1;
}

/* Rows of a /proc/sysvipc table, and the sum of column `col' (or -1). */
static long
proc_rows(const char *path, int col, unsigned long long *sum, int pages)
{
    char line[1024];
    long rows = 0;
    long pg = sysconf(_SC_PAGESIZE);
    FILE *fp = fopen(path, "r");

    *sum = 0;
    if (fp == NULL)
        return -1;
    if (pg <= 0)
        pg = 4096;
    if (fgets(line, sizeof line, fp) == NULL) {
        fclose(fp);
        return -1;
    }
    while (fgets(line, sizeof line, fp) != NULL) {
        char *p = line, *end;
        unsigned long long v = 0;
        int c;

        rows++;
        for (c = 0; c <= col; c++) {
            v = strtoull(p, &end, 10);
            if (end == p)
                break;
            p = end;
        }
        if (c > col)
            *sum += pages ? (v + (unsigned long long)pg - 1) / (unsigned long long)pg : v;
    }
    fclose(fp);
    return rows;
}

/* nsems: the size of the set the block needs, 0 for none. */
static const char *
linux_enospc(unsigned long long want, int nsems_needed)
{
    unsigned long long shmmni, shmall, sem[4], pages, nsems;
    long nshm, nsets, pg = sysconf(_SC_PAGESIZE);

    if (pg <= 0)
        pg = 4096;
    /* /proc/sysvipc/shm: key shmid perms size ...; sem: key semid perms nsems */
    nshm = proc_rows("/proc/sysvipc/shm", 3, &pages, 1);
    nsets = proc_rows("/proc/sysvipc/sem", 3, &nsems, 0);
    if (nshm >= 0 && read_nums("/proc/sys/kernel/shmmni", &shmmni, 1) == 0 &&
        (unsigned long long)nshm >= shmmni) {
        snprintf(hintbuf, sizeof hintbuf, "not disk space: the limit on the number of "
                 "shared memory segments, SHMMNI (%llu), is reached; see "
                 "/proc/sys/kernel/shmmni or `ipcs -l', and `sysvshm ls -a'", shmmni);
        return hintbuf;
    }
    if (nsems_needed > 0 && nsets >= 0 && read_nums("/proc/sys/kernel/sem", sem, 4) == 0) {
        if ((unsigned long long)nsets >= sem[3]) {
            snprintf(hintbuf, sizeof hintbuf, "not disk space: the limit on the number of "
                     "semaphore sets, SEMMNI (%llu), is reached; see the 4th field of "
                     "/proc/sys/kernel/sem or `ipcs -l', and `ipcs -s'", sem[3]);
            return hintbuf;
        }
        if (nsems + (unsigned long long)nsems_needed > sem[1]) {
            snprintf(hintbuf, sizeof hintbuf, "not disk space: the limit on the number of "
                     "semaphores, SEMMNS (%llu), is reached; see the 2nd field of "
                     "/proc/sys/kernel/sem or `ipcs -l', and `ipcs -s'", sem[1]);
            return hintbuf;
        }
    }
    if (nshm >= 0 && read_nums("/proc/sys/kernel/shmall", &shmall, 1) == 0 &&
        pages + (want + (unsigned long long)pg - 1) / (unsigned long long)pg > shmall) {
        snprintf(hintbuf, sizeof hintbuf, "not disk space: the system-wide total of shared "
                 "memory, SHMALL (%llu pages of %ld bytes), would be exceeded; see "
                 "/proc/sys/kernel/shmall or `ipcs -l', and `sysvshm ls -a'", shmall, pg);
        return hintbuf;
    }
    return NULL;
}
#endif

/* What holds each of the name's probe keys, for EADDRINUSE: a segment (a
 * block of another name, of this name but in use, or not this library's)
 * and/or a semaphore set -- `ls -a' shows no set. */
static char keysbuf[4096];

static const char *
keys_hint(const char *name)
{
    const char *bare = bare_name(name);
    size_t len = strlen(bare), n = 0;
    unsigned i;

    n += (size_t)snprintf(keysbuf, sizeof keysbuf, "every key of the name's probe "
                          "sequence is held:");
    for (i = 0; i < SYSVSHM_PROBE_MAX && n < sizeof keysbuf; i++) {
        key_t key = svs_probe_key(bare, len, i);
        int shmid = shmget(key, 0, 0), semid = semget(key, 0, 0);
        char u[64], what[OUT_TEXT_MAX + 160];
        struct seginfo si;

        n += (size_t)snprintf(keysbuf + n, sizeof keysbuf - n, "%s 0x%08lx", i ? ";" : "",
                              key_hex(key));
        if (n >= sizeof keysbuf)
            break;
        if (shmid < 0 && errno == EACCES) {
            n += (size_t)snprintf(keysbuf + n, sizeof keysbuf - n,
                                  " a segment you may not see");
        } else if (shmid >= 0 && scan_one(key, shmid, &si) == 0) {
            char nm[OUT_TEXT_MAX];

            if (si.state == ST_FOREIGN)
                snprintf(what, sizeof what, "not this library's");
            else if (si.have_name && strcmp(si.name, bare) != 0)
                snprintf(what, sizeof what, "block \"%s\"", out_text(nm, sizeof nm, si.name, 0));
            else
                snprintf(what, sizeof what, "%s%s%s", seg_state_name(si.state),
                         si.note[0] != '\0' ? ", " : "", si.note);
            n += (size_t)snprintf(keysbuf + n, sizeof keysbuf - n, " segment %d of %s (%s)",
                                  shmid, user_name(si.uid, u, sizeof u), what);
        } else if (shmid >= 0) {
            n += (size_t)snprintf(keysbuf + n, sizeof keysbuf - n, " segment %d", shmid);
        }
        if (n >= sizeof keysbuf)
            break;
        if (semid >= 0) {
            struct semid_ds sds;
            union semun arg;

            arg.buf = &sds;
            if (semctl(semid, 0, IPC_STAT, arg) < 0) {
                n += (size_t)snprintf(keysbuf + n, sizeof keysbuf - n, "%s semaphore set %d",
                                      shmid >= 0 ? " and" : "", semid);
            } else {
                int ours = SVS_NSEMS_OK(sds.sem_nsems) &&
                           ((unsigned)sds.sem_perm.mode & SVS_SEM_MARK) != 0;

                n += (size_t)snprintf(keysbuf + n, sizeof keysbuf - n,
                                      "%s semaphore set %d of %s (%s)",
                                      shmid >= 0 ? " and" : "", semid,
                                      user_name(sds.sem_perm.cuid, u, sizeof u),
                                      !ours ? "not this library's" :
                                      shmid >= 0 ? "this library's" :
                                      "this library's, with no segment: a stray set");
            }
        } else if (shmid < 0 && errno != EACCES) {
            n += (size_t)snprintf(keysbuf + n, sizeof keysbuf - n, " free now");
        }
    }
    if (n < sizeof keysbuf)
        snprintf(keysbuf + n, sizeof keysbuf - n, "; `sysvshm gc -n' tells what gc "
                 "would clear");
    return keysbuf;
}

/* The hint for an error of sysvshm_create of `size' bytes whose semaphore
 * set has nsems semaphores (0: none). */
static const char *
create_hint(const char *name, int err, unsigned long long size, int nsems)
{
    switch (err) {
    case ENOSPC:
#ifdef __linux__
        if (linux_enospc(size + SVS_DATA_OFF, nsems) != NULL)
            return hintbuf;
#else
        (void)size;
#endif
        return "not disk space: a system limit is reached: the number of shared memory "
               "segments (SHMMNI), of semaphore sets (SEMMNI) or semaphores (SEMMNS), or "
               "the total size of shared memory (SHMALL); " SEE_COUNT;
    case EINVAL:
        if (nsems > SVS_NSEMS) {
            /* The fast lock's set is the larger one (svs_int.h). */
#ifdef __linux__
            unsigned long long sem[4];

            if (read_nums("/proc/sys/kernel/sem", sem, 4) == 0) {
                if (sem[0] >= (unsigned long long)nsems)
                    return "the size is probably above the system's maximum segment "
                           "size (SHMMAX); " SEE_SHMMAX;
                snprintf(hintbuf, sizeof hintbuf, "the fast lock needs a set of %d "
                         "semaphores, above the system's limit per set, SEMMSL (%llu); "
                         SEE_SEMMSL ", or create the block without --fast", nsems, sem[0]);
                return hintbuf;
            }
#endif
            snprintf(hintbuf, sizeof hintbuf, "the size is probably above the system's "
                     "maximum segment size (SHMMAX; " SEE_SHMMAX "), or the fast lock's "
                     "set of %d semaphores above the limit per set (SEMMSL; " SEE_SEMMSL ")",
                     nsems);
            return hintbuf;
        }
        return "the size is probably above the system's maximum segment size "
               "(SHMMAX); " SEE_SHMMAX;
    case ENOMEM:
        return "the system-wide total of shared memory (SHMALL) is reached, or memory "
               "is short; " SEE_SHMALL;
    case EEXIST:
        /* The name may be held by a block the library will not remove. */
        if (diagnose(name, EEXIST) != NULL)
            return hintbuf;
        return "see it with `sysvshm stat', remove it with `sysvshm rm'";
    case EADDRINUSE:
        return keys_hint(name);
    case EMFILE:
        return "this process has too many segments attached (SHMSEG)";
    case EACCES: case EPERM:
        return "a segment or semaphore set at the name's key denies you access";
    }
    return NULL;
}

/* ---- lock state as text -------------------------------------------------------------- */

static long
lock_writer(const struct lockinfo *lk)
{
    /* The fast lock: the kernel's record of the writer slot's owner first;
     * the header's mark is written only once the lock is held. */
    if (lk->fast)
        return lk->pid_w > 0 ? lk->pid_w : lk->writer;
    return lk->writer > 0 ? lk->writer : lk->pid_w;
}

/* lk_ctl names a writer or a `next' writer beyond slot 32 (the slotless
 * writer's): written by a user of the block, not by a locker.  Nobody owns
 * such a slot; the next locker clears it. */
static int
fast_bad_slot(const struct lockinfo *lk)
{
    return lk->fast && (lk->wslot > SVS_SLOTS + 1 || lk->nslot > SVS_SLOTS + 1);
}

/* Dead holders still marked in the fast lock's words: slots and the
 * slotless writer's slot 32. */
static unsigned
fast_dead_count(const struct lockinfo *lk)
{
    uint32_t d = lk->dead;
    unsigned c = lk->ovw_dead ? 1 : 0;

    for (; d != 0; d &= d - 1)
        c++;
    return c;
}

static const char *
lock_short(const struct seginfo *s, char *buf, size_t len)
{
    const struct lockinfo *lk = &s->lock;
    size_t n;

    switch (lk->kind) {
    case LK_NA: return "-";
    case LK_NOLOCK: return "none";
    case LK_PENDING: return "-";
    case LK_MISSING: return "missing";
    case LK_DENIED: return "?";
    case LK_FREE:
        if (fast_bad_slot(lk))
            snprintf(buf, len, "damaged");
        else if (lk->writer > 0 && !lk->writer_alive)
            snprintf(buf, len, "free(died:%ld)", lk->writer);
        else
            snprintf(buf, len, "free");
        break;
    case LK_WRITE:
        snprintf(buf, len, "write:%ld%s", lock_writer(lk),
                 lk->fast && lk->wslot == SVS_SLOTS + 1 ? ",slotless" : "");
        break;
    case LK_READ:
        snprintf(buf, len, "read:%u", lk->r);
        if (lk->fast && lk->ovr > 0) {
            n = strlen(buf);
            snprintf(buf + n, len - n, ",slotless:%u", lk->ovr);
        }
        break;
    }
    n = strlen(buf);
    if (lk->t > 0 && n < len)
        snprintf(buf + n, len - n, ",waiting:%u", lk->t);
    if (!lk->fast)
        return buf;
    /* A writer waiting for the readers holds new ones back; sleepers wait
     * for the lock (readers or writers); a dead holder's bits stay until
     * the next locker clears them. */
    n = strlen(buf);
    if (lk->pending && lk->kind == LK_READ && n < len)
        snprintf(buf + n, len - n, ",pending:%ld", lock_writer(lk));
    n = strlen(buf);
    if (lk->sleepers > 0 && n < len)
        snprintf(buf + n, len - n, ",sleeping:%u", lk->sleepers);
    n = strlen(buf);
    if (fast_dead_count(lk) != 0 && n < len)
        snprintf(buf + n, len - n, ",dead:%u", fast_dead_count(lk));
    /* Held or not, the words are still damaged. */
    n = strlen(buf);
    if (lk->kind != LK_FREE && fast_bad_slot(lk) && n < len)
        snprintf(buf + n, len - n, ",damaged");
    return buf;
}

/* For messages: who holds the lock. */
static void
lock_words(const struct lockinfo *lk, char *buf, size_t len)
{
    if (lk->kind == LK_WRITE)
        snprintf(buf, len, "write-locked by process %ld", lock_writer(lk));
    else if (lk->kind == LK_READ)
        snprintf(buf, len, "read-locked by %u reader%s%s", lk->r, lk->r == 1 ? "" : "s",
                 lk->t > 0 || lk->pending ? ", a writer waiting" : "");
    else if (fast_bad_slot(lk))
        snprintf(buf, len, "its lock words are damaged: see `sysvshm stat'");
    else
        buf[0] = '\0';
}

static const char *
lock_json_state(enum lock_kind k)
{
    switch (k) {
    case LK_NA: return NULL;
    case LK_NOLOCK: return "none";
    case LK_PENDING: return "pending";
    case LK_MISSING: return "missing";
    case LK_DENIED: return "unknown";
    case LK_FREE: return "free";
    case LK_WRITE: return "write";
    case LK_READ: return "read";
    }
    return NULL;
}

/* ---- ls ------------------------------------------------------------------------------ */

static int
seg_cmp(const void *a, const void *b)
{
    const struct seginfo *x = a, *y = b;
    int ox = seg_is_ours(x) && x->have_name, oy = seg_is_ours(y) && y->have_name;
    int c;

    if (ox != oy)
        return oy - ox;
    if (ox && (c = strcmp(x->name, y->name)) != 0)
        return c;
    if (key_hex(x->key) != key_hex(y->key))
        return key_hex(x->key) < key_hex(y->key) ? -1 : 1;
    return x->shmid < y->shmid ? -1 : x->shmid > y->shmid;
}

static int
has_block_fields(const struct seginfo *s)
{
    /* A header we checked, or a prefix with its whole name: the header's
     * fields are only there when seen is not PARTIAL. */
    if (s->seen == SVS_SEEN_PARTIAL)
        return 0;
    return s->state == ST_READY || s->state == ST_INIT || s->state == ST_HALFMADE ||
           s->state == ST_UNLINKING || s->state == ST_SUSPECT || s->state == ST_REMOVED;
}

static void
json_num_or_null(FILE *fp, const char *field, int have, long long v)
{
    if (have)
        fprintf(fp, "\"%s\": %lld", field, v);
    else
        fprintf(fp, "\"%s\": null", field);
}

/* A JSON array of the slots whose bit is set in mask, and slot 32 if
 * slot32. */
static void
json_slots(FILE *fp, const char *field, uint32_t mask, int slot32)
{
    unsigned k;
    int first = 1;

    fprintf(fp, "\"%s\": [", field);
    for (k = 0; k < SVS_SLOTS; k++)
        if (mask & ((uint32_t)1 << k)) {
            fprintf(fp, first ? "%u" : ", %u", k);
            first = 0;
        }
    if (slot32)
        fprintf(fp, first ? "%u" : ", %u", (unsigned)SVS_SLOTS);
    fputs("]", fp);
}

/* The fast lock's words and slots: "fast" in the lock object. */
static void
json_fast(FILE *fp, const struct lockinfo *lk)
{
    fprintf(fp, ", \"fast\": {\"lk_ctl\": %lu, \"lk_readers\": %lu, ",
            (unsigned long)lk->lk_ctl, (unsigned long)lk->lk_readers);
    json_num_or_null(fp, "writer_slot", lk->wslot != 0, (long long)lk->wslot - 1);
    fprintf(fp, ", \"writer_pending\": %s, ", lk->pending ? "true" : "false");
    json_slots(fp, "reader_slots", lk->lk_readers, 0);
    fprintf(fp, ", \"sleepers\": %u, \"wake_tokens\": %u, ", lk->sleepers, lk->wake);
    json_slots(fp, "slots_in_use", lk->present, 0);
    fputs(", ", fp);
    /* Slot 32, the slotless writer's, has its place in the writer field
     * and so among the dead; it is no slot a handle owns. */
    json_slots(fp, "dead_slots", lk->dead, lk->ovw_dead);
    fputs(", ", fp);
    json_num_or_null(fp, "next_slot", lk->nslot != 0, (long long)lk->nslot - 1);
    fputs(", ", fp);
    json_num_or_null(fp, "slotless_writer", lk->ovw != 0 && lk->ovw_pid > 0, lk->ovw_pid);
    fprintf(fp, ", \"slotless_readers\": %u, \"ovr_bit\": %s, \"damaged\": %s}", lk->ovr,
            lk->ovr_bit ? "true" : "false", fast_bad_slot(lk) ? "true" : "false");
}

static void
json_seg(FILE *fp, const struct seginfo *s)
{
    const struct lockinfo *lk = &s->lock;
    const char *ls = lock_json_state(lk->kind);
    char u[64], t[64];
    int b = has_block_fields(s), d = s->have_ds;

    /* The name exactly, or null when its bytes are not UTF-8 (JSON strings
     * cannot hold them); name_hex always has the bytes. */
    fputs("{\"name\": ", fp);
    if (s->have_name && s->state != ST_FOREIGN && out_utf8_valid(s->name))
        out_json_str(fp, s->name);
    else
        fputs("null", fp);
    fputs(", \"name_hex\": ", fp);
    if (s->have_name && s->state != ST_FOREIGN)
        out_json_hex(fp, s->name);
    else
        fputs("null", fp);
    fprintf(fp, ", \"key\": \"0x%08lx\", \"shmid\": %d, ", key_hex(s->key), s->shmid);
    fprintf(fp, "\"state\": \"%s\", \"foreign\": %s, ", seg_state_name(s->state),
            s->state == ST_FOREIGN ? "true" : s->state == ST_NOACCESS ? "null" : "false");
    json_num_or_null(fp, "size", b || (d && s->state != ST_DAMAGED),
                     b ? (long long)s->size : (long long)s->segsz);
    fputs(", ", fp);
    json_num_or_null(fp, "segsz", d, (long long)s->segsz);
    if (d)
        fprintf(fp, ", \"mode\": \"%04o\", \"owner\": ", s->mode);
    else
        fputs(", \"mode\": null, \"owner\": ", fp);
    if (d)
        out_json_str(fp, user_name(s->uid, u, sizeof u));
    else
        fputs("null", fp);
    fputs(", \"creator\": ", fp);
    if (d)
        out_json_str(fp, user_name(s->cuid, u, sizeof u));
    else
        fputs("null", fp);
    fputs(", ", fp);
    json_num_or_null(fp, "uid", d, (long long)s->uid);
    fputs(", ", fp);
    json_num_or_null(fp, "gid", d, (long long)s->gid);
    fputs(", ", fp);
    json_num_or_null(fp, "cuid", d, (long long)s->cuid);
    fputs(", ", fp);
    json_num_or_null(fp, "nattch", d, (long long)s->nattch);
    fputs(", ", fp);
    json_num_or_null(fp, "cpid", d, (long long)s->cpid);
    fprintf(fp, ", \"cpid_alive\": %s, ", !d || s->cpid_alive < 0 ? "null" :
            s->cpid_alive ? "true" : "false");
    json_num_or_null(fp, "lpid", d, (long long)s->lpid);
    fputs(", ", fp);
    json_num_or_null(fp, "probe", b, (long long)s->probe);
    /* Only where there is something new to say: version 1 objects stay as
     * they always were. */
    if (b && (s->hflags & SVS_HF_FAST))
        fprintf(fp, ", \"version\": %u", SVS_FORMAT_VERSION_FAST);
    fputs(", \"lock\": ", fp);
    if (ls == NULL) {
        fputs("null", fp);
    } else {
        fprintf(fp, "{\"state\": \"%s\", ", ls);
        json_num_or_null(fp, "semid", lk->semid >= 0, lk->semid);
        fputs(", ", fp);
        json_num_or_null(fp, "writer", lk->kind == LK_WRITE, lock_writer(lk));
        if (lk->fast)
            /* Sleepers may be readers or writers: nobody can tell. */
            fprintf(fp, ", \"readers\": %u, \"waiting_writers\": null, ",
                    lk->kind == LK_READ ? lk->r : 0);
        else
            fprintf(fp, ", \"readers\": %u, \"waiting_writers\": %u, ",
                    lk->kind == LK_READ ? lk->r : 0, lk->t);
        json_num_or_null(fp, "dead_writer", lk->kind == LK_FREE && lk->writer > 0 &&
                         !lk->writer_alive, lk->writer);
        if (lk->fast && (lk->kind == LK_FREE || lk->kind == LK_WRITE || lk->kind == LK_READ))
            json_fast(fp, lk);
        fputs("}", fp);
    }
    fputs(", \"created\": ", fp);
    if (d && s->ctime != 0)
        fprintf(fp, "\"%s\"", time_text(s->ctime, t, sizeof t, 1));
    else
        fputs("null", fp);
    fputs(", ", fp);
    json_num_or_null(fp, "ctime", d, (long long)s->ctime);
    fputs(", ", fp);
    json_num_or_null(fp, "atime", d, (long long)s->atime);
    fputs(", ", fp);
    json_num_or_null(fp, "dtime", d, (long long)s->dtime);
    fputs(", \"note\": ", fp);
    if (s->note[0] != '\0')
        out_json_str(fp, s->note);
    else
        fputs("null", fp);
    fprintf(fp, ", \"gc_removes\": %s}", seg_is_ours(s) && s->verdict == NULL ?
            "true" : "false");
}

static void
json_list(FILE *fp, const struct seginfo *v, size_t n)
{
    size_t i;

    fputs("[", fp);
    for (i = 0; i < n; i++) {
        fputs(i ? ",\n " : "\n ", fp);
        json_seg(fp, &v[i]);
    }
    fputs(n ? "\n]\n" : "]\n", fp);
}

/* The creator: a pid we cannot see (0, another PID namespace) is unknown,
 * and counts as alive -- never "(dead)". */
static const char *
cpid_text(const struct seginfo *s, char *buf, size_t len)
{
    if (!s->have_ds)
        snprintf(buf, len, "?");
    else if (s->cpid <= 0)
        snprintf(buf, len, "%ld(?)", s->cpid);
    else
        snprintf(buf, len, s->cpid_alive ? "%ld" : "%ld(dead)", s->cpid);
    return buf;
}

static int
ls_row(struct table *t, const struct seginfo *s)
{
    char name[OUT_TEXT_MAX], key[16], id[16], size[24], mode[8], owner[140];
    char nattch[24], cpid[40], lock[96], created[32];
    const char *row[12];
    int d = s->have_ds;

    if (s->have_name && s->state != ST_FOREIGN)
        out_text(name, sizeof name, s->name, 1);
    else
        snprintf(name, sizeof name, "-");
    snprintf(key, sizeof key, "0x%08lx", key_hex(s->key));
    snprintf(id, sizeof id, "%d", s->shmid);
    if (has_block_fields(s))
        snprintf(size, sizeof size, "%llu", s->size);
    else if (d)
        snprintf(size, sizeof size, "%llu", s->segsz);
    else
        snprintf(size, sizeof size, "?");
    snprintf(mode, sizeof mode, d ? "%04o" : "?", s->mode);
    if (d && s->cuid != s->uid) {
        /* The owner was changed (IPC_SET): creator→owner. */
        char c[64], o[64];

        snprintf(owner, sizeof owner, "%s%s%s", user_name(s->cuid, c, sizeof c),
                 utf8_locale ? "\xe2\x86\x92" : "->", user_name(s->uid, o, sizeof o));
    } else if (d) {
        user_name(s->uid, owner, sizeof owner);
    } else {
        snprintf(owner, sizeof owner, "?");
    }
    snprintf(nattch, sizeof nattch, d ? "%lu" : "?", s->nattch);
    cpid_text(s, cpid, sizeof cpid);
    row[0] = name;
    row[1] = key;
    row[2] = id;
    row[3] = size;
    row[4] = mode;
    row[5] = owner;
    row[6] = nattch;
    row[7] = cpid;
    row[8] = lock_short(s, lock, sizeof lock);
    row[9] = seg_state_name(s->state);
    row[10] = d ? time_text(s->ctime, created, sizeof created, 0) : "?";
    row[11] = s->note[0] != '\0' ? s->note : "-";
    return table_add(t, row);
}

static int
cmd_ls(int argc, char **argv)
{
    static const struct optdef defs[] = {
        { "all", 'a', 0 }, { "json", 0, 0 }, { NULL, 0, 0 }
    };
    static const char *const head[12] = {
        "NAME", "KEY", "SHMID", "SIZE", "MODE", "OWNER", "NATTCH", "CPID", "LOCK",
        "STATE", "CREATED", "NOTE"
    };
    static const int right[12] = { 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0 };
    struct seglist l = { NULL, 0, 0 };
    struct parsed p;
    struct table t;
    size_t i, n = 0;
    int rc = EXIT_FAIL;

    switch (parse_args(argc, argv, defs, &p, 0)) {
    case PARSE_HELP: free(p.ops); return -1;
    case PARSE_BAD: free(p.ops); return EXIT_USAGE;
    }
    if (p.nops > 0) {
        rc = usage_error("unexpected argument \"%s\"", p.ops[0]);
        free(p.ops);
        return rc;
    }
    free(p.ops);
    if (scan_all(&l, "sysvshm ls") < 0)
        return EXIT_FAIL;
    /* Keep what is shown: our blocks (a segment with no header only when it
     * names its block), and with -a everything. */
    for (i = 0; i < l.n; i++)
        if (p.seen[0] || (seg_is_ours(&l.v[i]) &&
                          (l.v[i].seen != SVS_SEEN_PARTIAL || l.v[i].have_name)))
            l.v[n++] = l.v[i];
    l.n = n;
    qsort(l.v, l.n, sizeof *l.v, seg_cmp);
    if (p.seen[1]) {
        json_list(stdout, l.v, l.n);
        rc = 0;
        goto out;
    }
    table_init(&t, 12, right);
    if (table_add(&t, head) < 0)
        goto oom;
    for (i = 0; i < l.n; i++)
        if (ls_row(&t, &l.v[i]) < 0)
            goto oom;
    table_print(&t, stdout);
    table_free(&t);
    rc = 0;
    goto out;
oom:
    table_free(&t);
    say("%s", strerror(ENOMEM));
out:
    seglist_free(&l);
    return rc;
}

/* ---- stat ------------------------------------------------------------------------------ */

static const char *
alive_text(int alive)
{
    return alive < 0 ? "unknown" : alive ? "alive" : "dead";
}

/* Whether a damaged block's header has our magic and a version that reads
 * as ours byte-swapped: made on a host of the other byte order (the header
 * is in the maker's byte order, docs/format.md). */
static int
other_byte_order(const struct seginfo *s)
{
    struct svs_header h;
    uint32_t v, w;
    void *addr;

    if (s->segsz < sizeof h)
        return 0;
    addr = shmat(s->shmid, NULL, SHM_RDONLY);
    if (addr == (void *)-1)
        return 0;
    memcpy(&h, addr, sizeof h);
    shmdt(addr);
    v = h.version;
    w = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
    return memcmp(h.magic, SVS_MAGIC, sizeof h.magic) == 0 &&
           v != SVS_FORMAT_VERSION && v != SVS_FORMAT_VERSION_FAST &&
           (w == SVS_FORMAT_VERSION || w == SVS_FORMAT_VERSION_FAST);
}

/* The version 1 lock: its three semaphores. */
static void
stat_sems(FILE *fp, const struct lockinfo *lk)
{
    fputs("lock:        ", fp);
    if (lk->kind == LK_WRITE)
        fprintf(fp, "write-locked by process %ld\n", lock_writer(lk));
    else if (lk->kind == LK_READ)
        fprintf(fp, "read-locked by %u reader%s\n", lk->r, lk->r == 1 ? "" : "s");
    else
        fputs("free\n", fp);
    fprintf(fp, "             writer %u (last changed by process %ld), readers %u "
            "(last changed by process %ld), writers waiting %u\n",
            lk->w, lk->pid_w, lk->r, lk->pid_r, lk->t);
}

/* The slots of mask, as "3 (process 812), 7 (process 990)". */
static void
stat_slot_list(FILE *fp, const struct lockinfo *lk, uint32_t mask)
{
    unsigned k;
    const char *sep = "";

    for (k = 0; k < SVS_SLOTS; k++) {
        if (!(mask & ((uint32_t)1 << k)))
            continue;
        if (lk->slot_pid[k] > 0)
            fprintf(fp, "%s%u (process %ld)", sep, k, lk->slot_pid[k]);
        else
            fprintf(fp, "%s%u", sep, k);
        sep = ", ";
    }
}

/* The writer slot + 1 of lk_ctl, as "slot 3", "slot 32 (slotless)". */
static const char *
slot_text(unsigned slot1, char *buf, size_t len)
{
    snprintf(buf, len, "slot %u%s", slot1 - 1, slot1 == SVS_SLOTS + 1 ? " (slotless)" : "");
    return buf;
}

/* Who the writer of lk_ctl is, in parentheses after its process. */
static const char *
writer_text(const struct lockinfo *lk, char *buf, size_t len)
{
    if (lk->wslot == SVS_SLOTS + 1)
        return "slotless writer";
    return slot_text(lk->wslot, buf, len);
}

/* What is impossible in lk_ctl, for a line that starts "damaged: ". */
static void
stat_damage(FILE *fp, const struct lockinfo *lk)
{
    const char *sep = "";

    fputs("damaged: lk_ctl names ", fp);
    if (lk->wslot > SVS_SLOTS + 1) {
        fprintf(fp, "writer slot %u", lk->wslot - 1);
        sep = " and ";
    }
    if (lk->nslot > SVS_SLOTS + 1)
        fprintf(fp, "%snext writer slot %u", sep, lk->nslot - 1);
    fprintf(fp, ", beyond the %u slots and the slotless writer's slot %u; ", (unsigned)SVS_SLOTS,
            (unsigned)SVS_SLOTS);
    /* A locker clears an impossible writer; a release drops an impossible
     * `next'. */
    fputs(lk->wslot > SVS_SLOTS + 1 ? "the next locker clears it\n" :
          "the next release clears it\n", fp);
}

/* The fast lock (version 2): what its words say, checked against the
 * presence of the slots they name. */
static void
stat_fast(FILE *fp, const struct lockinfo *lk)
{
    unsigned k, used = 0;
    uint32_t m;
    char sl[32];

    fputs("lock:        ", fp);
    if (lk->kind == LK_WRITE) {
        fprintf(fp, "write-locked by process %ld (%s)", lock_writer(lk),
                writer_text(lk, sl, sizeof sl));
        if (lk->pending)
            fputs("; it waits for the bits of dead readers to be cleared", fp);
        fputc('\n', fp);
    } else if (lk->kind == LK_READ) {
        uint32_t slotted = lk->lk_readers & lk->present;

        fprintf(fp, "read-locked by %u reader%s: ", lk->r, lk->r == 1 ? "" : "s");
        if (slotted != 0) {
            fprintf(fp, "slot%s ", lk->r - lk->ovr == 1 ? "" : "s");
            stat_slot_list(fp, lk, slotted);
        }
        if (lk->ovr > 0) {
            fprintf(fp, "%s%u slotless", slotted != 0 ? "; " : "", lk->ovr);
            if (lk->ovr_pid > 0)
                fprintf(fp, " (last counted by process %ld)", lk->ovr_pid);
        }
        if (lk->pending)
            fprintf(fp, "; process %ld (%s) waits for them to finish and holds new "
                    "readers back", lock_writer(lk), writer_text(lk, sl, sizeof sl));
        fputc('\n', fp);
    } else if (fast_bad_slot(lk)) {
        stat_damage(fp, lk);
    } else {
        fputs("free\n", fp);
    }
    if (lk->kind != LK_FREE && fast_bad_slot(lk)) {
        fputs("             ", fp);
        stat_damage(fp, lk);
    }
    fprintf(fp, "lock words:  lk_ctl 0x%08lx (", (unsigned long)lk->lk_ctl);
    if (lk->wslot != 0)
        fprintf(fp, "writer %s", slot_text(lk->wslot, sl, sizeof sl));
    else
        fputs("no writer", fp);
    if (lk->nslot != 0)
        fprintf(fp, ", next writer %s", slot_text(lk->nslot, sl, sizeof sl));
    if (lk->ovr_bit)
        fputs(", OVR bit", fp);
    fprintf(fp, ", %u registered sleeper%s), lk_readers 0x%08lx (%u reader%s)\n", lk->sleepers,
            lk->sleepers == 1 ? "" : "s", (unsigned long)lk->lk_readers, lk->nreaders,
            lk->nreaders == 1 ? "" : "s");
    for (m = lk->present; m != 0; m &= m - 1)
        used++;
    fprintf(fp, "slots:       %u of %u in use", used, (unsigned)SVS_SLOTS);
    if (used > 0) {
        fputs(": ", fp);
        stat_slot_list(fp, lk, lk->present);
    }
    fprintf(fp, "; %u wake-up token%s\n", lk->wake, lk->wake == 1 ? "" : "s");
    /* The lockers that found every slot owned, as the kernel counts them. */
    if (lk->ovw != 0 || lk->ovr != 0 || lk->ovr_bit) {
        fputs("slotless:    ", fp);
        if (lk->ovw != 0) {
            fputs("a writer", fp);
            if (lk->ovw_pid > 0)
                fprintf(fp, ", process %ld,", lk->ovw_pid);
            fputs(lk->wslot == SVS_SLOTS + 1 ? " holds semaphore OVW and slot 32" :
                  " holds semaphore OVW and waits for the lock", fp);
        } else {
            fputs("no writer", fp);
        }
        fprintf(fp, "; %u reader%s counted in semaphore OVR", lk->ovr, lk->ovr == 1 ? "" : "s");
        if (lk->ovr_bit && lk->ovr == 0)
            fputs("; the OVR bit is stale, harmless (the next writer clears it)", fp);
        fputc('\n', fp);
    }
    for (k = 0; k <= SVS_SLOTS; k++) {
        uint32_t b = k < SVS_SLOTS ? (uint32_t)1 << k : 0;
        char label[16];
        int w = lk->wslot == k + 1, r = (lk->lk_readers & b) != 0;
        long pid;

        if (k < SVS_SLOTS ? !(lk->dead & b) : !lk->ovw_dead)
            continue;
        snprintf(label, sizeof label, "slot %u:", k);
        fprintf(fp, "%-13s%s%s%s set while its presence%s is 0: dead holder (the next locker "
                "recovers it)", label, w ? "writer" : "", w && r ? " and " : "",
                r ? "reader bit" : "", k < SVS_SLOTS ? "" : " (semaphore OVW)");
        pid = k < SVS_SLOTS ? lk->slot_pid[k] : lk->ovw_pid;
        if (pid > 0)
            fprintf(fp, "; last used by process %ld", pid);
        fputc('\n', fp);
    }
}

static void
stat_print(FILE *fp, const struct seginfo *s)
{
    const struct lockinfo *lk = &s->lock;
    char u[64], g[64], t[32], nm[OUT_TEXT_MAX];
    key_t k0 = svs_probe_key(s->name, strlen(s->name), 0);

    fprintf(fp, "name:        %s\n", s->have_name ? out_text(nm, sizeof nm, s->name, 0) : "-");
    fprintf(fp, "state:       %s", seg_state_name(s->state));
    if (s->note[0] != '\0') {
        fprintf(fp, " (%s)\n", s->note);
    } else switch (s->state) {
    case ST_READY: fputs(" (complete)\n", fp); break;
    case ST_INIT: fputs(" (being created)\n", fp); break;
    case ST_HALFMADE: fputs(" (half-made by a dead creator: `sysvshm gc' removes it)\n", fp); break;
    case ST_UNLINKING: fputs(" (removal under way or interrupted)\n", fp); break;
    case ST_REMOVED: fputs(" (destroyed; memory kept until the last process detaches)\n", fp); break;
    case ST_DAMAGED:
        fputs(other_byte_order(s) ? " (made on a host of the other byte order)\n" :
              " (header damaged or of an unknown format version)\n", fp);
        break;
    default: putc('\n', fp);
    }
    if ((s->state == ST_DAMAGED || s->state == ST_SUSPECT) && s->have_name)
        fprintf(fp, "remove:      `%s' removes it once no process is attached\n",
                rm_force_cmd(s->name));
    if (seg_is_ours(s) && s->state != ST_REMOVED)
        fprintf(fp, "gc:          %s%s%s\n", s->verdict == NULL ? "removes it" : "leaves it (",
                s->verdict == NULL ? "" : s->verdict, s->verdict == NULL ? "" : ")");
    fprintf(fp, "key:         0x%08lx", key_hex(s->key));
    if (has_block_fields(s) && s->state != ST_REMOVED)
        fprintf(fp, " (probe %u; the name's first key is 0x%08lx)", s->probe, key_hex(k0));
    fprintf(fp, "\nshmid:       %d\n", s->shmid);
    if (has_block_fields(s))
        fprintf(fp, "size:        %llu bytes (segment %llu bytes, data at offset %u)\n",
                s->size, s->segsz, SVS_DATA_OFF);
    else
        fprintf(fp, "segment:     %llu bytes\n", s->segsz);
    if (has_block_fields(s) && (s->hflags & SVS_HF_FAST))
        fprintf(fp, "format:      version %u (fast lock%s)\n", SVS_FORMAT_VERSION_FAST,
                svs_fast_available() ? "" : "; this build of the library cannot lock it");
    fprintf(fp, "mode:        %04o\n", s->mode);
    fprintf(fp, "owner:       %s (uid %lu), group %lu\n", user_name(s->uid, u, sizeof u),
            (unsigned long)s->uid, (unsigned long)s->gid);
    fprintf(fp, "creator:     %s (uid %lu), group %lu, process %ld (%s)\n",
            user_name(s->cuid, g, sizeof g), (unsigned long)s->cuid,
            (unsigned long)s->cgid, s->cpid,
            s->cpid <= 0 ? "not visible from here: counts as alive" : alive_text(s->cpid_alive));
    fprintf(fp, "attached:    %lu process%s", s->nattch, s->nattch == 1 ? "" : "es");
    if (s->lpid > 0)
        fprintf(fp, " (last attach or detach by process %ld)", s->lpid);
    fputc('\n', fp);
    fprintf(fp, "created:     %s\n", time_text(s->ctime, t, sizeof t, 0));
    fprintf(fp, "attached at: %s\n", time_text(s->atime, t, sizeof t, 0));
    fprintf(fp, "detached at: %s\n", time_text(s->dtime, t, sizeof t, 0));
    if (!has_block_fields(s) || s->state == ST_REMOVED)
        return;
    switch (lk->kind) {
    case LK_NOLOCK:
        fputs("semaphores:  none (made with --nolock)\nlock:        none\n", fp);
        return;
    case LK_PENDING:
        fputs("semaphores:  not made yet\n", fp);
        return;
    case LK_MISSING:
        if ((s->hflags & SVS_HF_FAST) && lk->have_semds && lk->nsems != SVS_NSEMS_FAST)
            fprintf(fp, "semaphores:  set %d named by the header has %lu semaphores, not "
                    "the fast lock's %d: not the block's\n", lk->semid, lk->nsems,
                    SVS_NSEMS_FAST);
        else
            fprintf(fp, "semaphores:  set %d named by the header is missing or not the one "
                    "at the key\n", lk->semid);
        return;
    default:
        break;
    }
    fprintf(fp, "semaphores:  semid %d", lk->semid);
    if (lk->have_semds)
        fprintf(fp, ", %lu semaphores, mode %04o, owner %s, created %s", lk->nsems,
                lk->sem_mode, user_name(lk->sem_uid, u, sizeof u),
                time_text(lk->sem_ctime, t, sizeof t, 0));
    fputc('\n', fp);
    if (lk->kind == LK_DENIED) {
        fputs("lock:        unknown (the semaphore set's mode denies you reading it)\n", fp);
        return;
    }
    if (lk->fast)
        stat_fast(fp, lk);
    else
        stat_sems(fp, lk);
    if (lk->writer > 0)
        fprintf(fp, "writer mark: process %ld (%s)%s\n", lk->writer, alive_text(lk->writer_alive),
                lk->kind != LK_WRITE && !lk->writer_alive ?
                ": it died holding the lock; the next locker is told SYSVSHM_RECOVERED" : "");
}

static int
cmd_stat(int argc, char **argv)
{
    static const struct optdef defs[] = {
        { "json", 0, 0 }, { "hex", 0, 0 }, { "name-hex", 0, 0 }, { NULL, 0, 0 }
    };
    struct seglist l = { NULL, 0, 0 };
    struct parsed p;
    char *name;
    int denied = 0;
    size_t i;

    switch (parse_args(argc, argv, defs, &p, 0)) {
    case PARSE_HELP: free(p.ops); return -1;
    case PARSE_BAD: free(p.ops); return EXIT_USAGE;
    }
    if (p.nops != 1) {
        free(p.ops);
        return usage_error(p.nops == 0 ? "missing NAME" : "too many arguments");
    }
    name = p.ops[0];
    free(p.ops);
    if (name_arg(name, p.seen[1] || p.seen[2]) < 0)
        return EXIT_USAGE;
    if (scan_name(bare_name(name), strlen(bare_name(name)), &l, &denied) < 0) {
        block_error(name, errno, NULL);
        return EXIT_FAIL;
    }
    if (l.n == 0) {
        if (denied > 0)
            block_error(name, EACCES, "a segment at one of the name's keys may not be read "
                        "by you: its owner or root can");
        else
            block_error(name, ENOENT, NULL);
        seglist_free(&l);
        return EXIT_FAIL;
    }
    if (p.seen[0]) {
        json_list(stdout, l.v, l.n);
    } else {
        for (i = 0; i < l.n; i++) {
            if (i > 0)
                putchar('\n');
            stat_print(stdout, &l.v[i]);
        }
    }
    seglist_free(&l);
    return 0;
}

/* ---- create --------------------------------------------------------------------------- */

static int
cmd_create(int argc, char **argv)
{
    enum { O_MODE, O_NOLOCK, O_NHEX, O_FAST };
    static const struct optdef defs[] = {
        { "mode", 'm', 1 }, { "nolock", 0, 0 }, { "name-hex", 0, 0 }, { "fast", 0, 0 },
        { NULL, 0, 0 }
    };
    struct parsed p;
    unsigned long long size;
    unsigned long mode = 0600;
    const char *sz;
    char *name;
    sysvshm_t *h;
    int flags, nsems;

    switch (parse_args(argc, argv, defs, &p, 0)) {
    case PARSE_HELP: free(p.ops); return -1;
    case PARSE_BAD: free(p.ops); return EXIT_USAGE;
    }
    if (p.nops != 2) {
        free(p.ops);
        return usage_error(p.nops == 0 ? "missing NAME and SIZE" :
                           p.nops == 1 ? "missing SIZE" : "too many arguments");
    }
    name = p.ops[0];
    sz = p.ops[1];
    free(p.ops);
    if (name_arg(name, p.seen[O_NHEX]) < 0)
        return EXIT_USAGE;
    if (p.seen[O_FAST] && p.seen[O_NOLOCK])
        return usage_error("--fast and --nolock exclude each other: --fast chooses the lock");
    if (parse_bytes(sz, &size) < 0 || size == 0)
        return usage_error("bad SIZE \"%s\": a number of bytes above 0, with an optional "
                           "suffix k, M, G or T", sz);
    if (size > (unsigned long long)((size_t)-1 - SVS_DATA_OFF))
        return usage_error("SIZE %s is too large for this system", sz);
    if (p.seen[O_MODE]) {
        const char *m = p.val[O_MODE];
        char *end;

        errno = 0;
        mode = strtoul(m, &end, 8);
        if (*m == '\0' || *end != '\0' || errno != 0 || mode > 0777 || *m == '-' || *m == '+')
            return usage_error("bad MODE \"%s\": octal permission bits, such as 0600 or 0660", m);
        if ((mode & 0600) != 0600)
            return usage_error("MODE %04lo must let the owner read and write (0600)", mode);
    }
    flags = p.seen[O_NOLOCK] ? SYSVSHM_NOLOCK : p.seen[O_FAST] ? SYSVSHM_FASTLOCK : 0;
    /* Without atomic operations the library makes an ordinary block. */
    nsems = p.seen[O_NOLOCK] ? 0 :
            p.seen[O_FAST] && svs_fast_available() ? SVS_NSEMS_FAST : SVS_NSEMS;
    h = sysvshm_create(name, (size_t)size, flags, (mode_t)mode);
    if (h == NULL) {
        int err = errno;

        block_error(name, err, create_hint(name, err, size, nsems));
        return EXIT_FAIL;
    }
    if (p.seen[O_FAST] && !h->fast)
        block_msg(name, "warning: this build of the library has no fast lock (no atomic "
                  "operations): made with the ordinary lock", NULL);
    if (sysvshm_close(h) < 0) {
        block_error(name, errno, "created, but detaching failed");
        return EXIT_FAIL;
    }
    return 0;
}

/* ---- rm ------------------------------------------------------------------------------ */

/* The command name of process pid where the system tells (Linux's
 * /proc/PID/comm), made safe to print; "" elsewhere. */
static const char *
proc_name(long pid, char *buf, size_t len)
{
    char path[64], raw[64];
    FILE *fp;
    size_t n;

    buf[0] = '\0';
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    fp = fopen(path, "r");
    if (fp == NULL)
        return buf;
    n = fread(raw, 1, sizeof raw - 1, fp);
    fclose(fp);
    raw[n] = '\0';
    raw[strcspn(raw, "\n")] = '\0';
    if (raw[0] != '\0')
        out_text(buf, len, raw, 0);
    return buf;
}

/*
 * Who uses the block that sysvshm_remove_v2(name, flags) would remove: the
 * processes attached to it and its creator if that still runs (an unknown
 * creator, pid 0 from another PID namespace, counts as running).  Fills
 * `why' and returns 1 if anyone does, 0 if nobody does or if no block can
 * be found (the removal then reports why).
 */
static int
rm_in_use(const char *name, int flags, char *why, size_t len)
{
    sysvshm_t *h = sysvshm_attach(name, SYSVSHM_RDONLY | flags);
    struct shmid_ds ds;
    unsigned long others;
    long cpid;
    int r, running;
    size_t n = 0;

    why[0] = '\0';
    if (h != NULL) {
        r = shmctl(h->shmid, IPC_STAT, &ds);
        sysvshm_close(h);
        if (r < 0)
            return 0;
        /* Our own attachment was counted. */
        others = ds.shm_nattch > 0 ? (unsigned long)ds.shm_nattch - 1 : 0;
    } else {
        /* The removal also takes a complete block whose semaphore set was
         * removed by hand, which attach refuses: look at it unattached. */
        const char *bare = bare_name(name);
        struct seglist l = { NULL, 0, 0 };
        int denied;
        size_t i;

        if (scan_name(bare, strlen(bare), &l, &denied) < 0)
            return 0;
        for (i = 0; i < l.n; i++)
            if (l.v[i].state == ST_READY && l.v[i].have_kds && l.v[i].set_gone &&
                (l.v[i].cuid == geteuid() || l.v[i].cuid == 0 ||
                 (flags & SYSVSHM_ANYUSER)))
                break;
        if (i == l.n) {
            seglist_free(&l);
            return 0;
        }
        ds = l.v[i].kds;
        seglist_free(&l);
        others = (unsigned long)ds.shm_nattch;
    }
    cpid = (long)ds.shm_cpid;
    running = cpid <= 0 || kill((pid_t)cpid, 0) == 0 || errno != ESRCH;
    if (others > 0)
        n += (size_t)snprintf(why, len, "in use by %lu process%s", others,
                              others == 1 ? "" : "es");
    if (running && n < len) {
        char comm[OUT_TEXT_MAX];

        if (cpid <= 0)
            snprintf(why + n, len - n, "%screator not visible from here (pid %ld), counted "
                     "as running", n > 0 ? "; " : "", cpid);
        else if (proc_name(cpid, comm, sizeof comm)[0] != '\0')
            snprintf(why + n, len - n, "%screator %ld (%s) is running", n > 0 ? "; " : "",
                     cpid, comm);
        else
            snprintf(why + n, len - n, "%screator %ld is running", n > 0 ? "; " : "", cpid);
    }
    return why[0] != '\0';
}

/*
 * rm --force of a damaged block: one that bears the name in its header's
 * name field, at one of the name's keys, but whose header the library does
 * not trust (damaged, or suspect: its state contradicts the marks).  It is
 * judged afresh, then removed by id -- never with a process attached --
 * with its semaphore set only if that is provably the block's own.
 * Returns 0 (removed, or gone meanwhile) or -1 (message printed).
 */
static int
rm_damaged_one(const char *name, const struct seginfo *old)
{
    const char *bare = bare_name(name);
    size_t len = strlen(bare);
    struct seginfo s;
    struct svs_header h;
    struct shmid_ds ds;
    uid_t me = geteuid();
    void *addr;
    int r, semid = -1;
    char msg[256];

    r = scan_one(old->key, old->shmid, &s);
    if (r == 1)
        return 0;
    if (r < 0) {
        block_error(name, errno, "cannot look at its damaged segment again");
        return -1;
    }
    if ((s.state != ST_DAMAGED && s.state != ST_SUSPECT) || !s.have_name ||
        strcmp(s.name, bare) != 0) {
        snprintf(msg, sizeof msg, "segment %d changed while we looked, left alone", s.shmid);
        block_msg(name, msg, NULL);
        return -1;
    }
    /* The semaphore set's id, from the header's own field. */
    memset(&h, 0, sizeof h);
    addr = shmat(s.shmid, NULL, SHM_RDONLY);
    if (addr == (void *)-1) {
        if (errno == EINVAL || errno == EIDRM)
            return 0;
        block_error(name, errno, "cannot read its damaged header");
        return -1;
    }
    memcpy(&h, addr, s.segsz < sizeof h ? (size_t)s.segsz : sizeof h);
    shmdt(addr);
    /* The last look before acting, with our own attachment gone. */
    if (shmctl(s.shmid, IPC_STAT, &ds) < 0) {
        if (errno == EINVAL || errno == EIDRM)
            return 0;
        block_error(name, errno, "cannot look at its damaged segment again");
        return -1;
    }
    if (memcmp(h.name, bare, len) != 0 || h.name[len] != '\0' ||
        shmget(s.key, 0, 0) != s.shmid) {
        snprintf(msg, sizeof msg, "segment %d changed while we looked, left alone", s.shmid);
        block_msg(name, msg, NULL);
        return -1;
    }
    if (ds.shm_nattch > 0) {
        snprintf(msg, sizeof msg, "its header is damaged (shmid %d) and it is in use by "
                 "%lu process%s: not removed, even with --force, until %s", s.shmid,
                 (unsigned long)ds.shm_nattch, ds.shm_nattch == 1 ? "" : "es",
                 ds.shm_nattch == 1 ? "it detaches" : "they detach");
        block_msg(name, msg, NULL);
        return -1;
    }
    if (me != 0 && me != ds.shm_perm.uid && me != ds.shm_perm.cuid) {
        snprintf(msg, sizeof msg, "its header is damaged (shmid %d); only its owner, its "
                 "creator or root may remove it", s.shmid);
        block_error(name, EPERM, msg);
        return -1;
    }
    if (h.semid >= 0)
        semid = svs_sem_of_block(s.key, h.semid, &ds);
    if (semid >= 0 && semctl(semid, 0, IPC_RMID) < 0 && errno != EINVAL && errno != EIDRM) {
        snprintf(msg, sizeof msg, "cannot remove the semaphore set %d of its damaged "
                 "segment %d", semid, s.shmid);
        block_error(name, errno, msg);
        return -1;
    }
    if (shmctl(s.shmid, IPC_RMID, NULL) < 0 && errno != EINVAL && errno != EIDRM) {
        snprintf(msg, sizeof msg, "cannot remove its damaged segment %d", s.shmid);
        block_error(name, errno, msg);
        return -1;
    }
    return 0;
}

/* rm --force when the library answered EPROTO: the damaged blocks that bear
 * the name (of the caller's user or root, or anybody's with --any-user).
 * Returns 0 if all were removed, 1 if there is none, -1 if one was not
 * (message printed). */
static int
rm_damaged(const char *name, int flags)
{
    const char *bare = bare_name(name);
    struct seglist l = { NULL, 0, 0 };
    int denied, found = 0, failed = 0;
    size_t i;

    if (scan_name(bare, strlen(bare), &l, &denied) < 0)
        return 1;
    for (i = 0; i < l.n; i++) {
        const struct seginfo *s = &l.v[i];

        if (s->state != ST_DAMAGED && s->state != ST_SUSPECT)
            continue;
        if (!(flags & SYSVSHM_ANYUSER) && s->cuid != geteuid() && s->cuid != 0)
            continue;
        found = 1;
        if (rm_damaged_one(name, s) < 0)
            failed = 1;
    }
    seglist_free(&l);
    return failed ? -1 : found ? 0 : 1;
}

static int
cmd_rm(int argc, char **argv)
{
    static const struct optdef defs[] = {
        { "force", 'f', 0 }, { "any-user", 0, 0 }, { "hex", 0, 0 }, { "name-hex", 0, 0 },
        { NULL, 0, 0 }
    };
    struct parsed p;
    int i, rc = 0;

    switch (parse_args(argc, argv, defs, &p, 0)) {
    case PARSE_HELP: free(p.ops); return -1;
    case PARSE_BAD: free(p.ops); return EXIT_USAGE;
    }
    if (p.nops == 0 && !p.seen[0]) {
        free(p.ops);
        return usage_error("missing NAME");
    }
    /* All names are checked before anything is removed. */
    for (i = 0; i < p.nops; i++)
        if (name_arg(p.ops[i], p.seen[2] || p.seen[3]) < 0) {
            free(p.ops);
            return EXIT_USAGE;
        }
    for (i = 0; i < p.nops; i++) {
        const char *name = p.ops[i];
        int flags = p.seen[1] ? SYSVSHM_ANYUSER : 0;
        char why[OUT_TEXT_MAX + 160];

        /* Never pull a block from under a running program unasked. */
        if (!p.seen[0] && rm_in_use(name, flags, why, sizeof why)) {
            say("block \"%s\": %s: use --force to remove it anyway", shown(name), why);
            rc = EXIT_FAIL;
            continue;
        }
        if (sysvshm_remove_v2(name, flags) == 0)
            continue;
        if (errno == ENOENT && p.seen[0])
            continue;
        {
            int err = errno;

            if (err == EPROTO && p.seen[0]) {
                int r = rm_damaged(name, flags);

                if (r == 0)
                    continue;
                if (r < 0) {
                    rc = EXIT_FAIL;
                    continue;
                }
            }
            block_error(name, err, use_hint(name, err));
        }
        rc = EXIT_FAIL;
    }
    free(p.ops);
    return rc;
}

/* ---- gc ------------------------------------------------------------------------------ */

/*
 * gc removes exactly what the one rule (lib/reclaim.c) lets a caller allowed
 * to remove other users' leftovers remove, and the semaphore sets that are
 * provably those blocks' own (svs_sem_of_block).  --force also removes the
 * INIT and UNLINKING leftovers that lack the marks (libsysvshm 0.1's, or
 * made by hand): those are judged by the same rule as if they bore them, and
 * for UNLINKING the creator must be known dead too.
 */
struct gc {
    int dry, force, failed;
    char **names;
    int nnames;
};

/* Would the rule let it go if it bore the marks a library of today leaves? */
static int
force_ok(const struct seginfo *s)
{
    struct shmid_ds ds = s->kds;

    if (!s->have_kds || (s->state != ST_SUSPECT && s->state != ST_INIT &&
                         s->state != ST_UNLINKING))
        return 0;
    if (s->cpid <= 0 || svs_pid_alive(s->cpid))
        return 0;
    if (s->seen == SVS_SEEN_INIT) {
        ds.shm_perm.mode = (ds.shm_perm.mode & ~(mode_t)0777) | (mode_t)SVS_MODE_MAKING;
        ds.shm_perm.uid = ds.shm_perm.cuid;
    } else if (s->seen == SVS_SEEN_UNLINKING) {
        ds.shm_perm.mode |= (mode_t)SVS_MODE_DOOMED;
    } else {
        return 0;
    }
    return svs_reclaim_verdict(&ds, s->seen, s->set_gone, 0, 1) == NULL;
}

/* "block "NAME" (key 0x..., shmid N" -- or a segment that names no block. */
static void
gc_label(FILE *fp, const struct seginfo *s)
{
    if (s->have_name)
        fprintf(fp, "block \"%s\" (", shown(s->name));
    else
        fputs("segment with no header (", fp);
    fprintf(fp, "key 0x%08lx, shmid %d", key_hex(s->key), s->shmid);
}

/* One line for what gc leaves alone that looks like the library's. */
static void
gc_left(const struct seginfo *s, int force)
{
    char u[64];

    gc_label(stdout, s);
    fputs("): ", stdout);
    if (s->nattch > 0)
        printf("in use by %lu process%s", s->nattch, s->nattch == 1 ? "" : "es");
    else if (s->state == ST_SUSPECT && s->seen == SVS_SEEN_UNLINKING)
        printf("no remover's mark: the header may have been written by a user of the "
               "block%s", force ? "" : " (libsysvshm 0.1's? --force removes it once "
               "its creator is gone)");
    else if (s->state == ST_SUSPECT || force_ok(s))
        printf("no creator's mark: made by libsysvshm 0.1 or by hand%s",
               force ? "" : ": use --force");
    else if (s->verdict != NULL && strcmp(s->verdict, "another user's") == 0)
        printf("another user's (%s): only its owner, its creator or root may remove it",
               user_name(s->cuid, u, sizeof u));
    else if (s->state == ST_DAMAGED && s->have_name)
        printf("damaged header, not provably this library's (`%s' removes it)",
               rm_force_cmd(s->name));
    else if (s->state == ST_DAMAGED)
        printf("damaged header, not provably this library's (only `ipcrm -m %d' "
               "removes it)", s->shmid);
    else if (s->state == ST_READY)
        printf("%s: a complete block (`sysvshm rm' removes it)", s->note);
    else
        printf("%s", s->note[0] != '\0' ? s->note : s->verdict != NULL ? s->verdict : "?");
    fputs(", left alone\n", stdout);
}

static int
gc_wanted(const struct gc *g, const struct seginfo *s)
{
    int j;

    if (g->nnames == 0)
        return 1;
    for (j = 0; j < g->nnames; j++) {
        const char *bare = bare_name(g->names[j]);

        if (s->have_name && strcmp(bare, s->name) == 0)
            return 1;
        /* A segment with no header yet cannot say whose it is: the names'
         * keys are where their creators would have made it. */
        if (!s->have_name && s->seen == SVS_SEEN_PARTIAL &&
            svs_probe_index(bare, strlen(bare), s->key) >= 0)
            return 1;
    }
    return 0;
}

static int
gc_key_wanted(const struct gc *g, key_t key)
{
    int j;

    if (g->nnames == 0)
        return 1;
    for (j = 0; j < g->nnames; j++) {
        const char *bare = bare_name(g->names[j]);

        if (svs_probe_index(bare, strlen(bare), key) >= 0)
            return 1;
    }
    return 0;
}

static void
gc_fail(const struct seginfo *s, const char *what, int err)
{
    char cause[256];

    snprintf(cause, sizeof cause, "cannot remove its %s: %s", what, strerror(err));
    if (s->have_name)
        block_msg(s->name, cause, NULL);
    else
        say("segment %d (key 0x%08lx): %s", s->shmid, key_hex(s->key), cause);
}

/* Judge the segment afresh and remove it if the rule (or --force) says so. */
static void
gc_seg(struct gc *g, const struct seginfo *old)
{
    struct seginfo s;
    int r, semid = -1, forced = 0;
    const char *what;

    /* Looked at again just before acting: what we listed may have changed
     * hands since; and it is removed by id, never by key. */
    r = scan_one(old->key, old->shmid, &s);
    if (r == 1)
        return; /* gone meanwhile */
    if (r < 0) {
        gc_fail(old, "segment", errno);
        g->failed = 1;
        return;
    }
    if (s.seen != old->seen) {
        gc_label(stdout, &s);
        fputs("): changed while gc looked, left alone\n", stdout);
        return;
    }
    if (s.verdict != NULL) {
        if (!g->force || !force_ok(&s)) {
            gc_left(&s, g->force);
            return;
        }
        forced = 1;
    }
    if (s.seen != SVS_SEEN_PARTIAL && (s.hflags & SVS_HF_LOCK))
        semid = svs_sem_of_block(s.key, s.hsemid, &s.kds);
    what = forced ? "leftover without the library's marks" :
           s.state == ST_HALFMADE ? "half-made block" :
           "leftover of an interrupted removal";
    if (!g->dry) {
        if (semid >= 0 && semctl(semid, 0, IPC_RMID) < 0 && errno != EINVAL &&
            errno != EIDRM) {
            gc_fail(&s, "semaphore set", errno);
            g->failed = 1;
            return;
        }
        if (shmctl(s.shmid, IPC_RMID, NULL) < 0 && errno != EINVAL && errno != EIDRM) {
            gc_fail(&s, "segment", errno);
            g->failed = 1;
            return;
        }
    }
    printf("%s %s ", g->dry ? "would remove" : "removed", what);
    if (s.have_name)
        printf("\"%s\" (", shown(s.name));
    else
        fputs("with no header (", stdout);
    printf("key 0x%08lx, shmid %d", key_hex(s.key), s.shmid);
    if (semid >= 0)
        printf(", semid %d", semid);
    if (s.cpid > 0 && (s.seen == SVS_SEEN_INIT || s.seen == SVS_SEEN_PARTIAL))
        printf("; its creator, process %ld, is dead", s.cpid);
    puts(")");
    /* A set the header names that is not provably the block's stays. */
    if (semid < 0 && s.seen != SVS_SEEN_PARTIAL && (s.hflags & SVS_HF_LOCK) &&
        s.hsemid >= 0 && semget(s.key, 0, 0) == s.hsemid)
        printf("semaphore set %d (key 0x%08lx): not provably the block's own, left "
               "alone\n", s.hsemid, key_hex(s.key));
}

/* Sets at our keys with the library's mark and no segment at their key. */
static void
gc_sems(struct gc *g)
{
    struct semlist l = { NULL, 0, 0 };
    size_t i;

    if (scan_sems(&l, "sysvshm gc") < 0) {
        g->failed = 1;
        return;
    }
    for (i = 0; i < l.n; i++) {
        const struct semsetinfo *m = &l.v[i];
        char u[64];
        int shmid, id;

        if (!m->have_ds || !SVS_NSEMS_OK(m->nsems) || !(m->mode & SVS_SEM_MARK) ||
            !gc_key_wanted(g, m->key))
            continue;
        shmid = shmget(m->key, 0, 0);
        if (shmid >= 0 || errno != ENOENT)
            continue; /* its block may be there */
        id = svs_sem_stray(m->key, -1);
        if (id != m->semid) {
            printf("stray semaphore set %d (key 0x%08lx) of %s: no segment at its key; "
                   "%s, left alone\n", m->semid, key_hex(m->key),
                   user_name(m->cuid, u, sizeof u),
                   m->cuid != geteuid() ? "another user's: only its creator may remove it "
                   "with `sysvshm gc'" : "not provably the library's");
            continue;
        }
        if (!g->dry && semctl(id, 0, IPC_RMID) < 0 && errno != EINVAL && errno != EIDRM) {
            say("semaphore set %d (key 0x%08lx): cannot remove it: %s", id,
                key_hex(m->key), strerror(errno));
            g->failed = 1;
            continue;
        }
        printf("%s stray semaphore set %d (key 0x%08lx): no segment at its key\n",
               g->dry ? "would remove" : "removed", id, key_hex(m->key));
    }
    semlist_free(&l);
}

static int
cmd_gc(int argc, char **argv)
{
    static const struct optdef defs[] = {
        { "dry-run", 'n', 0 }, { "force", 0, 0 }, { "name-hex", 0, 0 }, { NULL, 0, 0 }
    };
    struct seglist l = { NULL, 0, 0 };
    struct parsed p;
    struct gc g;
    size_t i;
    int j;

    switch (parse_args(argc, argv, defs, &p, 0)) {
    case PARSE_HELP: free(p.ops); return -1;
    case PARSE_BAD: free(p.ops); return EXIT_USAGE;
    }
    for (j = 0; j < p.nops; j++)
        if (name_arg(p.ops[j], p.seen[2]) < 0) {
            free(p.ops);
            return EXIT_USAGE;
        }
    memset(&g, 0, sizeof g);
    g.dry = p.seen[0];
    g.force = p.seen[1];
    g.names = p.ops;
    g.nnames = p.nops;
    if (scan_all(&l, "sysvshm gc") < 0) {
        free(p.ops);
        return EXIT_FAIL;
    }
    qsort(l.v, l.n, sizeof *l.v, seg_cmp);
    for (i = 0; i < l.n; i++) {
        const struct seginfo *s = &l.v[i];

        if (s->state == ST_NOACCESS && scan_key_ours(s->key) && gc_key_wanted(&g, s->key)) {
            /* Perhaps one of ours; we cannot tell, and may not remove it. */
            char u[64];

            printf("segment (key 0x%08lx, shmid %d) of %s: you may not read it%s, left "
                   "alone\n", key_hex(s->key), s->shmid,
                   s->have_ds ? user_name(s->uid, u, sizeof u) : "another user",
                   s->have_ds && s->uid != geteuid() && s->cuid != geteuid() ?
                   " (another user's)" : "");
            continue;
        }
        if (!seg_is_ours(s) || s->state == ST_REMOVED || !gc_wanted(&g, s))
            continue;
        /* A complete block is no garbage; one whose removal began (the
         * remover's mark) is worth a word. */
        if (s->state == ST_READY && !(s->mode & SVS_MODE_DOOMED))
            continue;
        if (s->state == ST_DAMAGED || s->state == ST_READY) {
            gc_left(s, g.force);
            continue;
        }
        gc_seg(&g, s);
    }
    /* After the segments: a set whose block gc just removed is gone with
     * it, and one left stray is now seen without its segment. */
    gc_sems(&g);
    free(p.ops);
    seglist_free(&l);
    return g.failed ? EXIT_FAIL : 0;
}

/* ---- cat / write --------------------------------------------------------------------- */

/* Take the lock; returns 0 or SYSVSHM_RECOVERED (held, or with nolock_ok a
 * block that has no lock: *held tells), -1 (failed, message printed). */
static int
take_lock(sysvshm_t *h, const char *name, int how, long timeout, int nolock_ok, int *held)
{
    int r = sysvshm_lock(h, how, timeout);

    *held = 0;
    /* A block made without a lock.  A fast lock that this build cannot
     * take says ENOTSUP too, but its block is never used unlocked. */
    if (r < 0 && errno == ENOTSUP && nolock_ok && h->semid < 0)
        return 0;
    if (r < 0) {
        int err = errno;
        char hint[128] = "";

        if (err == EBUSY || err == ETIMEDOUT) {
            struct seglist l = { NULL, 0, 0 };
            int denied;
            size_t i;

            if (scan_name(bare_name(name), strlen(bare_name(name)), &l, &denied) == 0)
                for (i = 0; i < l.n; i++) {
                    if (l.v[i].shmid == h->shmid &&
                        (l.v[i].lock.kind != LK_FREE || fast_bad_slot(&l.v[i].lock)))
                        lock_words(&l.v[i].lock, hint, sizeof hint);
                }
            seglist_free(&l);
        }
        if (err == EBUSY)
            block_msg(name, "the lock is busy", hint);
        else if (err == ETIMEDOUT)
            block_msg(name, "timed out waiting for the lock", hint);
        else if (err == ENOTSUP && h->fast)
            block_error(name, err, "it was made with `create --fast', whose lock this "
                        "build of the library cannot take: it has no atomic operations");
        else
            block_error(name, err, use_hint(name, err));
        return -1;
    }
    *held = 1;
    if (r == SYSVSHM_RECOVERED)
        say("block \"%s\": warning: a writer died holding the lock; the data may be "
            "half-updated", shown(name));
    return r;
}

static int
parse_range(const struct parsed *p, int io, int il, unsigned long long *off,
            unsigned long long *len, int *have_len)
{
    *off = 0;
    *have_len = 0;
    if (io >= 0 && p->seen[io] && parse_bytes(p->val[io], off) < 0)
        return usage_error("bad --offset \"%s\"", p->val[io]);
    if (il >= 0 && p->seen[il]) {
        if (parse_bytes(p->val[il], len) < 0)
            return usage_error("bad --length \"%s\"", p->val[il]);
        *have_len = 1;
    }
    return 0;
}

static int
cmd_cat(int argc, char **argv)
{
    enum { O_OFF, O_LEN, O_HEX, O_ANY, O_TMO, O_NOLOCK, O_NHEX };
    static const struct optdef defs[] = {
        { "offset", 'o', 1 }, { "length", 'l', 1 }, { "hex", 'x', 0 },
        { "any-user", 0, 0 }, { "timeout", 0, 1 }, { "no-lock", 0, 0 },
        { "name-hex", 0, 0 }, { NULL, 0, 0 }
    };
    unsigned long long off, len = 0;
    unsigned char *copy = NULL;
    const unsigned char *src;
    struct parsed p;
    char *name;
    long timeout = -1;
    int have_len, held = 0, rc = EXIT_FAIL;
    sysvshm_t *h;
    size_t size;

    switch (parse_args(argc, argv, defs, &p, 0)) {
    case PARSE_HELP: free(p.ops); return -1;
    case PARSE_BAD: free(p.ops); return EXIT_USAGE;
    }
    if (p.nops != 1) {
        free(p.ops);
        return usage_error(p.nops == 0 ? "missing NAME" : "too many arguments");
    }
    name = p.ops[0];
    free(p.ops);
    if (name_arg(name, p.seen[O_NHEX]) < 0 ||
        parse_range(&p, O_OFF, O_LEN, &off, &len, &have_len) != 0)
        return EXIT_USAGE;
    if (p.seen[O_TMO] && parse_timeout(p.val[O_TMO], &timeout) < 0)
        return usage_error("bad --timeout \"%s\": milliseconds, or -1 to wait for ever",
                           p.val[O_TMO]);
    h = sysvshm_attach(name, SYSVSHM_RDONLY | (p.seen[O_ANY] ? SYSVSHM_ANYUSER : 0));
    if (h == NULL) {
        int err = errno;

        block_error(name, err, use_hint(name, err));
        return EXIT_FAIL;
    }
    size = sysvshm_size(h);
    if (off > size || (have_len && len > size - off)) {
        char msg[128];

        snprintf(msg, sizeof msg, "the range goes past the end of the block (%zu bytes)", size);
        block_msg(name, msg, NULL);
        goto out;
    }
    if (!have_len)
        len = size - off;
    if (!p.seen[O_NOLOCK] && take_lock(h, name, SYSVSHM_READ, timeout, 1, &held) < 0)
        goto out;
    /* A snapshot taken under the lock, so that a slow reader of our output
     * does not keep writers waiting. */
    src = (const unsigned char *)sysvshm_buf(h) + off;
    copy = malloc(len ? (size_t)len : 1);
    if (copy != NULL) {
        memcpy(copy, src, (size_t)len);
        if (held)
            sysvshm_unlock(h);
        held = 0;
        src = copy;
    }
    if (p.seen[O_HEX])
        out_hexdump(stdout, src, (size_t)len, off);
    else
        fwrite(src, 1, (size_t)len, stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        say("standard output: %s", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (held)
        sysvshm_unlock(h);
    free(copy);
    sysvshm_close(h);
    return rc;
}

/* Read all of fd, at most max+1 bytes (so that "too long" can be told). */
static unsigned char *
slurp(int fd, size_t max, size_t *got)
{
    size_t cap = 0, n = 0;
    unsigned char *buf = NULL;

    for (;;) {
        ssize_t r;

        if (n == cap) {
            size_t want = cap ? cap * 2 : 65536;
            unsigned char *b;

            if (want > max + 1)
                want = max + 1;
            if (want <= cap) {
                *got = n;
                return buf; /* full: max+1 bytes read */
            }
            b = realloc(buf, want);
            if (b == NULL) {
                free(buf);
                return NULL;
            }
            buf = b;
            cap = want;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *got = n;
    return buf != NULL ? buf : malloc(1);
}

static int
cmd_write(int argc, char **argv)
{
    enum { O_OFF, O_ANY, O_TMO, O_NHEX };
    static const struct optdef defs[] = {
        { "offset", 'o', 1 }, { "any-user", 0, 0 }, { "timeout", 0, 1 },
        { "name-hex", 0, 0 }, { NULL, 0, 0 }
    };
    unsigned long long off, unused;
    unsigned char *data = NULL;
    struct parsed p;
    char *name;
    long timeout = -1;
    int have_len, held = 0, rc = EXIT_FAIL;
    size_t size, n;
    sysvshm_t *h;

    switch (parse_args(argc, argv, defs, &p, 0)) {
    case PARSE_HELP: free(p.ops); return -1;
    case PARSE_BAD: free(p.ops); return EXIT_USAGE;
    }
    if (p.nops != 1) {
        free(p.ops);
        return usage_error(p.nops == 0 ? "missing NAME" : "too many arguments");
    }
    name = p.ops[0];
    free(p.ops);
    if (name_arg(name, p.seen[O_NHEX]) < 0 ||
        parse_range(&p, O_OFF, -1, &off, &unused, &have_len) != 0)
        return EXIT_USAGE;
    if (p.seen[O_TMO] && parse_timeout(p.val[O_TMO], &timeout) < 0)
        return usage_error("bad --timeout \"%s\": milliseconds, or -1 to wait for ever",
                           p.val[O_TMO]);
    h = sysvshm_attach(name, p.seen[O_ANY] ? SYSVSHM_ANYUSER : 0);
    if (h == NULL) {
        int err = errno;

        block_error(name, err, use_hint(name, err));
        return EXIT_FAIL;
    }
    size = sysvshm_size(h);
    if (off > size) {
        char msg[128];

        snprintf(msg, sizeof msg, "--offset is past the end of the block (%zu bytes)", size);
        block_msg(name, msg, NULL);
        goto out;
    }
    /* All of the input first: the lock is not held while we wait for it. */
    data = slurp(STDIN_FILENO, size - (size_t)off, &n);
    if (data == NULL) {
        say("standard input: %s", strerror(errno));
        goto out;
    }
    if (n > size - (size_t)off) {
        char msg[160];

        snprintf(msg, sizeof msg, "the input is longer than the %zu bytes from offset "
                 "%llu to the end of the block", size - (size_t)off, off);
        block_msg(name, msg, "nothing written");
        goto out;
    }
    if (take_lock(h, name, SYSVSHM_WRITE, timeout, 1, &held) < 0)
        goto out;
    memcpy((unsigned char *)sysvshm_buf(h) + off, data, n);
    rc = 0;
out:
    if (held && sysvshm_unlock(h) < 0) {
        block_error(name, errno, "unlocking failed");
        rc = EXIT_FAIL;
    }
    free(data);
    sysvshm_close(h);
    return rc;
}

/* ---- key ------------------------------------------------------------------------------ */

static int
cmd_key(int argc, char **argv)
{
    static const struct optdef defs[] = {
        { "all", 'a', 0 }, { "name-hex", 0, 0 }, { NULL, 0, 0 }
    };
    struct parsed p;
    char *name;
    unsigned i;

    switch (parse_args(argc, argv, defs, &p, 0)) {
    case PARSE_HELP: free(p.ops); return -1;
    case PARSE_BAD: free(p.ops); return EXIT_USAGE;
    }
    if (p.nops != 1) {
        free(p.ops);
        return usage_error(p.nops == 0 ? "missing NAME" : "too many arguments");
    }
    name = p.ops[0];
    free(p.ops);
    if (name_arg(name, p.seen[1]) < 0)
        return EXIT_USAGE;
    if (!p.seen[0]) {
        printf("0x%08lx\n", key_hex(sysvshm_name_key(name)));
        return 0;
    }
    for (i = 0; i < SYSVSHM_PROBE_MAX; i++)
        printf("0x%08lx\n", key_hex(svs_probe_key(bare_name(name), strlen(bare_name(name)), i)));
    return 0;
}

/* ---- lock ------------------------------------------------------------------------------ */

static volatile sig_atomic_t child_pid;

static void
forward(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

static int
cmd_lock(int argc, char **argv)
{
    enum { O_READ, O_TMO, O_ANY, O_NHEX };
    static const struct optdef defs[] = {
        { "read", 'r', 0 }, { "timeout", 't', 1 }, { "any-user", 0, 0 },
        { "name-hex", 0, 0 }, { NULL, 0, 0 }
    };
    struct sigaction ign, fwd, old_int, old_quit, old_term, old_hup;
    sigset_t fwdset, oldmask;
    struct parsed p;
    const char *name;
    long timeout = -1;
    int held, r, status, rc = EXIT_FAIL;
    sysvshm_t *h;
    pid_t pid;

    switch (parse_args(argc, argv, defs, &p, 1)) {
    case PARSE_HELP: free(p.ops); return -1;
    case PARSE_BAD: free(p.ops); return EXIT_USAGE;
    }
    if (p.nops < 2) {
        free(p.ops);
        return usage_error(p.nops == 0 ? "missing NAME and COMMAND" : "missing COMMAND");
    }
    name = p.ops[0];
    if (name_arg(p.ops[0], p.seen[O_NHEX]) < 0) {
        free(p.ops);
        return EXIT_USAGE;
    }
    if (p.seen[O_TMO] && parse_timeout(p.val[O_TMO], &timeout) < 0) {
        free(p.ops);
        return usage_error("bad --timeout \"%s\": milliseconds, or -1 to wait for ever",
                           p.val[O_TMO]);
    }
    h = sysvshm_attach(name, (p.seen[O_READ] ? SYSVSHM_RDONLY : 0) |
                       (p.seen[O_ANY] ? SYSVSHM_ANYUSER : 0));
    if (h == NULL) {
        int err = errno;

        block_error(name, err, use_hint(name, err));
        free(p.ops);
        return EXIT_FAIL;
    }
    r = take_lock(h, name, p.seen[O_READ] ? SYSVSHM_READ : SYSVSHM_WRITE, timeout, 0,
                  &held);
    if (r < 0)
        goto out;
    if (r == SYSVSHM_RECOVERED)
        setenv("SYSVSHM_LOCK_RECOVERED", "1", 1);
    /* Like system(3): the terminal's ^C and ^\ are for the command; we stay
     * until it ends, so that the lock is held as long as it runs.  A TERM or
     * HUP sent to us is passed on to it. */
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    memset(&fwd, 0, sizeof fwd);
    fwd.sa_handler = forward;
    sigemptyset(&fwd.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    sigaction(SIGTERM, &fwd, &old_term);
    sigaction(SIGHUP, &fwd, &old_hup);
    /* Held back until child_pid is known, so that none is lost. */
    sigemptyset(&fwdset);
    sigaddset(&fwdset, SIGTERM);
    sigaddset(&fwdset, SIGHUP);
    sigprocmask(SIG_BLOCK, &fwdset, &oldmask);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        block_error(name, errno, "cannot start the command");
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        goto restore;
    }
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        execvp(p.ops[1], p.ops + 1);
        {
            int err = errno;

            fprintf(stderr, "sysvshm lock: %s: %s\n", p.ops[1], strerror(err));
            _exit(err == ENOENT ? 127 : 126);
        }
    }
    child_pid = pid;
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            say("waitpid: %s", strerror(errno));
            goto restore;
        }
    }
    child_pid = 0;
    if (WIFEXITED(status))
        rc = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        rc = 128 + WTERMSIG(status);
restore:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    if (sysvshm_unlock(h) < 0 && errno != EIDRM) {
        block_error(name, errno, "unlocking failed");
        if (rc == 0)
            rc = EXIT_FAIL;
    }
out:
    if (h != NULL)
        sysvshm_close(h);
    free(p.ops);
    return rc;
}

/* ---- help ------------------------------------------------------------------------------ */

struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *synopsis;
    const char *help;
};

static const struct command commands[] = {
    { "ls", cmd_ls, "ls [-a] [--json]",
      "List this library's blocks on the host, one line each: name, key, shmid, size,\n"
      "mode, owner (creator->owner if the owner was changed), processes attached,\n"
      "creating process (marked (dead) if it is gone, (?) if it is not visible from\n"
      "here), lock state, state, creation time and a note saying why a leftover is\n"
      "or is not garbage.\n"
      "\n"
      "  -a, --all   also list segments that are not this library's (state foreign,\n"
      "              or no-access when we may not read them), and segments with no\n"
      "              header yet that do not name their block\n"
      "  --json      print a JSON array of objects instead of the table: \"name\" is\n"
      "              the exact name (null if it is not UTF-8), \"name_hex\" its bytes\n"
      "              in hex, which --hex (--name-hex) of the other commands takes\n"
      "\n"
      "Names are shown with \\xHH for control bytes and bytes that are not UTF-8,\n"
      "\\uXXXX for invisible and format characters (U+200B, U+202E, U+009B...).\n"
      "LOCK is free, write:PID, read:N (N readers), none (made with --nolock),\n"
      "free(died:PID) when a writer died holding it, ? when we may not read it.\n"
      "A block with the fast lock (create --fast) may add ,pending:PID (that writer\n"
      "waits for the readers to finish), ,sleeping:N (lockers asleep, waiting) and\n"
      ",dead:N (slots of dead processes still marked in the lock: the next locker\n"
      "clears them).  A locker that finds all 32 slots owned goes without one:\n"
      "write:PID,slotless is such a writer (its slot 32, whose death counts in\n"
      ",dead:N too), read:N,slotless:M says M of the N readers are such.  LOCK is\n"
      "damaged when the lock's words name a slot beyond 32 (the next lockers clear\n"
      "it).\n"
      "STATE is ready, init (being created, or not provably abandoned), half-made\n"
      "(its creator died: gc removes it), unlinking (a removal under way, in use, or\n"
      "interrupted), no-header (a creator's segment before its header), suspect (a\n"
      "header the segment's marks contradict), removed (destroyed but still\n"
      "attached), damaged, foreign or no-access.\n"
      "The list comes from /proc/sysvipc/shm, else from `ipcs -m';\n"
      "SYSVSHM_LIST_BACKEND=proc, ipcs or auto chooses.\n" },
    { "stat", cmd_stat, "stat NAME [--json] [--hex]",
      "Show everything known about the block NAME: state, key and place in the\n"
      "name's probe sequence, sizes, owner and creator, attachments, times, its\n"
      "semaphore set and the lock's state (for a block with the fast lock, its\n"
      "format version, lock words and slots, the lockers that hold or wait without\n"
      "a slot, and any dead holder).  Half-made, unlinking and damaged segments of\n"
      "that name are shown too.\n"
      "\n"
      "  --json      print a JSON array (as ls --json)\n"
      "  --hex, --name-hex  NAME is given as hex digits (ls --json's name_hex)\n" },
    { "create", cmd_create, "create NAME SIZE [-m MODE] [--nolock|--fast]",
      "Create the block NAME of exactly SIZE bytes, zero-filled.  SIZE is a number\n"
      "of bytes with an optional suffix k, M, G or T (powers of 1024): 4k, 16M, 2G.\n"
      "\n"
      "  -m, --mode MODE   octal permission bits of the segment and its semaphore\n"
      "                    set (default 0600; must include 0600; no umask applies)\n"
      "  --nolock          make no semaphore set (the block then has no lock)\n"
      "  --fast            the fast lock (format version 2): locking and unlocking\n"
      "                    make no system call while nobody waits; its semaphore set\n"
      "                    has 35 semaphores.  Programs built with libsysvshm 0.1\n"
      "                    refuse such a block (a header of an unknown format)\n"
      "  --name-hex        NAME is given as hex digits, two a byte\n" },
    { "rm", cmd_rm, "rm [-f] [--any-user] [--hex] NAME...",
      "Remove the blocks NAME... and their semaphore sets.  A block that processes\n"
      "are attached to, or whose creating process still runs (or is not visible\n"
      "from here), is refused unless --force is given.  Processes still attached\n"
      "keep their memory until they detach; the names are free at once.\n"
      "\n"
      "  -f, --force   remove blocks in use too; a name with no block is not an error;\n"
      "                remove a damaged block that bears the name (by its owner, its\n"
      "                creator or root), unless processes are attached to it\n"
      "  --any-user    also remove blocks made by other users (SYSVSHM_ANYUSER)\n"
      "  --hex, --name-hex  the NAMEs are given as hex digits (ls --json's name_hex)\n" },
    { "gc", cmd_gc, "gc [-n|--dry-run] [--force] [NAME...]",
      "Remove the garbage of dead processes, by the library's own rule: half-made\n"
      "blocks whose creator is known dead (the segment still has the creator's mode\n"
      "0711), blocks whose removal was interrupted (the remover's mark 0100 in the\n"
      "mode), with their semaphore sets when provably theirs, and semaphore sets of\n"
      "the library left with no segment at their key (your own only).  Nothing\n"
      "attached is removed, nor a complete block: blocks outlive their creators.\n"
      "Each leftover left alone is named on one line with the reason.\n"
      "With NAME..., only the blocks of those names (and their keys).\n"
      "\n"
      "  -n, --dry-run   only say what would be removed\n"
      "  --force         also remove INIT and UNLINKING leftovers without the marks\n"
      "                  (libsysvshm 0.1's, or forged) whose creator is dead and\n"
      "                  that nobody is attached to\n"
      "  --name-hex      the NAMEs are given as hex digits, two a byte\n" },
    { "cat", cmd_cat, "cat NAME [--offset N] [--length N] [-x]",
      "Copy the block's bytes to standard output, read under the reader lock.\n"
      "N takes the suffixes of create's SIZE.\n"
      "\n"
      "  -o, --offset N    start N bytes into the block (default 0)\n"
      "  -l, --length N    copy N bytes (default: to the end)\n"
      "  -x, --hex         a hex dump (hexdump -C layout) instead of raw bytes\n"
      "  --timeout MS      wait at most MS milliseconds for the lock (default: for ever)\n"
      "  --no-lock         read without taking the lock\n"
      "  --any-user        accept a block made by another user\n"
      "  --name-hex        NAME is given as hex digits, two a byte (not -x/--hex)\n" },
    { "write", cmd_write, "write NAME [--offset N]",
      "Copy standard input into the block under the writer lock.  Input longer than\n"
      "the block (from the offset) is refused and nothing is written; bytes after\n"
      "the input are left as they were.\n"
      "\n"
      "  -o, --offset N    start N bytes into the block (default 0)\n"
      "  --timeout MS      wait at most MS milliseconds for the lock (default: for ever)\n"
      "  --any-user        accept a block made by another user\n"
      "  --name-hex        NAME is given as hex digits, two a byte\n" },
    { "key", cmd_key, "key NAME [--all]",
      "Print the SysV key of NAME as ipcs prints keys (0x%08x): the first key of\n"
      "the name's probe sequence, where the block lives unless that key was taken\n"
      "(`sysvshm stat NAME' shows where it lives).\n"
      "\n"
      "  -a, --all   print the whole probe sequence, one key a line\n"
      "  --name-hex  NAME is given as hex digits, two a byte\n" },
    { "lock", cmd_lock, "lock NAME [--read] [--timeout MS] [--] COMMAND [ARG...]",
      "Run COMMAND while holding the block's lock, like flock(1), and exit with its\n"
      "status (128+N if signal N killed it; 126 or 127 if it could not be run).\n"
      "If a writer had died holding the lock, a warning is printed and COMMAND\n"
      "gets SYSVSHM_LOCK_RECOVERED=1 in its environment.\n"
      "\n"
      "  -r, --read          take a shared reader lock (default: the writer lock)\n"
      "  -t, --timeout MS    give up after MS milliseconds (0: try once), exit 1\n"
      "  --any-user          accept a block made by another user\n"
      "  --name-hex          NAME is given as hex digits, two a byte\n" },
    { NULL, NULL, NULL, NULL }
};

static void
main_help(FILE *fp)
{
    const struct command *c;

    fputs("Usage: sysvshm COMMAND [OPTION]... [ARG]...\n"
          "See and manage the named System V shared memory blocks of libsysvshm.\n"
          "\nCommands:\n", fp);
    for (c = commands; c->name != NULL; c++)
        fprintf(fp, "  sysvshm %s\n", c->synopsis);
    fputs("\n`sysvshm COMMAND --help' describes a command.  --version shows the version.\n"
          "Exit status: 0 success, 1 failure, 2 bad usage (lock: the command's status).\n",
          fp);
}

static void
cmd_help(const struct command *c)
{
    printf("Usage: sysvshm %s\n\n%s", c->synopsis, c->help);
}

int
main(int argc, char **argv)
{
    const struct command *c;
    int rc;

    if (argc < 2)
        return usage_error("missing COMMAND");
    find_locale();
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        main_help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("sysvshm (%s) %s, library %s\n", PACKAGE_NAME, PACKAGE_VERSION,
               sysvshm_version());
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            main_help(stdout);
            return 0;
        }
        for (c = commands; c->name != NULL; c++)
            if (strcmp(c->name, argv[2]) == 0) {
                cmdname = c->name;
                cmd_help(c);
                return 0;
            }
        return usage_error("no command \"%s\"", argv[2]);
    }
    for (c = commands; c->name != NULL; c++)
        if (strcmp(c->name, argv[1]) == 0)
            break;
    if (c->name == NULL) {
        if (argv[1][0] == '-')
            return usage_error("unknown option %s", argv[1]);
        return usage_error("no command \"%s\"", argv[1]);
    }
    cmdname = c->name;
    rc = c->fn(argc - 1, argv + 1);
    if (rc < 0) {
        cmd_help(c);
        rc = 0;
    }
    if (fflush(stdout) != 0 && rc == 0) {
        say("standard output: %s", strerror(errno));
        rc = EXIT_FAIL;
    }
    return rc;
}
