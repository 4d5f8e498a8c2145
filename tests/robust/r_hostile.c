/*
 * r_hostile.c - segments that carry this library's magic but a header that
 * is wrong in some way sit at a name's key: attach and remove of the name
 * fail with EPROTO, the segment is neither written nor removed (byte for
 * byte the same), nothing crashes, and a create of the name goes beside it.
 * Each header is forged from docs/format.md, by offset.
 */
#include "rutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

TestSuite(hostile, .fini = r_cleanup, .timeout = TU_TIMEOUT);

#define USZ 1000u

typedef void (*damage_fn)(unsigned char *h, const char *name, size_t *segsz);

/* Everything a user of the name can do to it, none of which may trust,
 * change or remove the damaged segment at `key'. */
static void expect_untrusted_(const char *n, key_t key, int id, int at_k0, int may_eexist)
{
    unsigned char *snap;
    size_t len;
    sysvshm_t *h;
    struct shmid_ds ds;

    snap = r_snapshot(id, &len);
    cr_assert_not_null(snap);

    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EPROTO);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, SYSVSHM_RDONLY), EPROTO);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, SYSVSHM_ANYUSER), EPROTO);
    TU_ASSERT_ERR(sysvshm_remove(n), EPROTO);
    TU_ASSERT_ERR(sysvshm_remove_v2(n, SYSVSHM_ANYUSER), EPROTO);
    cr_assert(r_unchanged(key, id, snap, len), "the damaged segment was changed or removed");
    cr_assert_eq(shmctl(id, IPC_STAT, &ds), 0);
    cr_assert_eq(ds.shm_nattch, 0, "the library kept the damaged segment attached");

    /* The name is not wedged: a new block goes beside the damaged one, and
     * from then on the name means the new block. */
    /* Unless the damaged header bears this very name: then the name is
     * taken (it may be a newer format's block), and create says EEXIST. */
    {
        size_t nl = strlen(n);

        if (len >= 128 + 256 && nl < 256 && memcmp(snap + 128, n, nl) == 0 &&
            snap[128 + nl] == '\0')
            may_eexist = 1;
    }
    h = sysvshm_create(n, 64, 0, 0600);
    if (h == NULL && may_eexist && errno == EEXIST) {
        cr_assert(r_unchanged(key, id, snap, len), "the damaged segment was changed");
        cr_assert_eq(r_count_shm(n), 1, "%s", r_describe(n));
        cr_assert_eq(r_count_sem(n), 0, "%s", r_describe(n));
        free(snap);
        return;
    }
    cr_assert_not_null(h, "create beside a damaged segment: %s", strerror(errno));
    cr_assert_neq(sysvshm_key(h), key);
    if (at_k0)
        cr_assert_eq(sysvshm_key(h), tu_probe(tu_name_key(n), 1));
    memcpy(sysvshm_buf(h), "good", 4);
    {
        sysvshm_t *a = sysvshm_attach(n, 0);
        cr_assert_not_null(a, "attach with a good block beside a damaged one: %s",
                           strerror(errno));
        cr_assert_eq(memcmp(sysvshm_buf(a), "good", 4), 0);
        sysvshm_close(a);
    }
    cr_assert_eq(sysvshm_remove(n), 0, "remove of the good block: %s", strerror(errno));
    sysvshm_close(h);
    cr_assert(r_unchanged(key, id, snap, len), "the damaged segment was changed or removed");
    /* Only the damaged segment is left. */
    TU_ASSERT_ERR(sysvshm_remove(n), EPROTO);
    cr_assert_eq(r_count_shm(n), 1, "%s", r_describe(n));
    cr_assert_eq(r_count_sem(n), 0, "%s", r_describe(n));
    free(snap);
}

static void expect_untrusted(const char *n, key_t key, int id, int at_k0)
{
    expect_untrusted_(n, key, id, at_k0, 0);
}

static void hostile_at(const char *tag, damage_fn damage, unsigned probe)
{
    const char *n = r_name(tag);
    key_t key = tu_probe(tu_name_key(n), probe);
    unsigned char h[R_HDR];
    size_t segsz = R_HDR + USZ;
    int id;

    r_hdr_build(h, n, USZ, R_STATE_READY, probe, 0, -1);
    damage(h, n, &segsz);
    id = r_raw_segment(key, segsz, h, sizeof h, 0600);
    expect_untrusted(n, key, id, probe == 0);
}

static void hostile(const char *tag, damage_fn damage)
{
    hostile_at(tag, damage, 0);
}

/* ---- the control: an undamaged forgery is a block like any other --------- */

static void no_damage(unsigned char *h, const char *n, size_t *segsz)
{
    (void)h;
    (void)n;
    (void)segsz;
}

Test(hostile, control_well_formed_forgery_is_attached)
{
    const char *n = r_name("control");
    key_t key = tu_name_key(n);
    unsigned char h[R_HDR];
    size_t segsz = R_HDR + USZ;
    sysvshm_t *a;

    /* Proves the forging is right, so that the tests below fail because of
     * the one thing each breaks and nothing else. */
    r_hdr_build(h, n, USZ, R_STATE_READY, 0, 0, -1);
    no_damage(h, n, &segsz);
    r_raw_segment(key, segsz, h, sizeof h, 0600);
    a = sysvshm_attach(n, 0);
    cr_assert_not_null(a, "a well-formed forged header must be accepted: %s", strerror(errno));
    cr_assert_eq(sysvshm_size(a), USZ);
    cr_assert_eq(sysvshm_key(a), key);
    TU_ASSERT_ERR(sysvshm_lock(a, SYSVSHM_WRITE, 0), ENOTSUP);
    sysvshm_close(a);
    cr_assert_eq(sysvshm_remove(n), 0);
    cr_assert(tu_name_keys_free(n));
}

/* ---- each kind of damage -------------------------------------------------- */

static void version_2(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_VERSION, 2); }
static void version_0(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_VERSION, 0); }
static void version_max(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_VERSION, 0xffffffffu); }
static void state_unknown(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_STATE, 0x12345678u); }
static void state_zero(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_STATE, 0); }
static void size_above_segment(unsigned char *h, const char *n, size_t *s) { (void)n; r_put64(h, R_OFF_SIZE, *s - R_HDR + 1); }
static void size_zero(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put64(h, R_OFF_SIZE, 0); }
static void size_huge(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put64(h, R_OFF_SIZE, UINT64_MAX); }
static void size_wraps(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put64(h, R_OFF_SIZE, UINT64_MAX - R_HDR + 2); }
/* The segment is far bigger than the header says: not a block of that size. */
static void size_far_below_segment(unsigned char *h, const char *n, size_t *s) { (void)n; (void)h; *s = R_HDR + USZ + 65536; }
static void segment_smaller_than_header(unsigned char *h, const char *n, size_t *s) { (void)n; (void)h; *s = 200; }
static void segment_is_only_magic(unsigned char *h, const char *n, size_t *s) { (void)n; (void)h; *s = 8; }
static void data_off_wrong(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_DATA_OFF, 448); }
static void flags_unknown(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_FLAGS, 0x2); }
static void lock_without_semid(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_FLAGS, 1); r_put32(h, R_OFF_SEMID, (uint32_t)-1); }
static void nolock_with_semid(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_SEMID, 5); }
static void semid_minus_two_when_ready(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_FLAGS, 1); r_put32(h, R_OFF_SEMID, (uint32_t)-2); }
static void probe_wrong(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_PROBE, 1); }
static void probe_out_of_range(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_PROBE, 8); }
static void probe_max(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_PROBE, 0xffffffffu); }
static void name_len_zero(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_NAME_LEN, 0); }
static void name_len_256(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_NAME_LEN, 256); }
static void name_len_huge(unsigned char *h, const char *n, size_t *s) { (void)n; (void)s; r_put32(h, R_OFF_NAME_LEN, 0xffffffffu); }
static void name_len_short(unsigned char *h, const char *n, size_t *s) { (void)s; r_put32(h, R_OFF_NAME_LEN, (uint32_t)strlen(n) - 1); }
static void name_len_long(unsigned char *h, const char *n, size_t *s) { (void)s; r_put32(h, R_OFF_NAME_LEN, (uint32_t)strlen(n) + 1); }
/* The 256-byte name field with no NUL in it at all. */
static void name_not_nul_terminated(unsigned char *h, const char *n, size_t *s)
{
    (void)s;
    memset(h + R_OFF_NAME + strlen(n), 'x', 256 - strlen(n));
}
/* The name's own bytes right, junk after them. */
static void name_junk_after(unsigned char *h, const char *n, size_t *s) { (void)s; h[R_OFF_NAME + strlen(n) + 5] = 'j'; }
static void name_with_slash(unsigned char *h, const char *n, size_t *s) { (void)s; h[R_OFF_NAME + strlen(n) / 2] = '/'; }
static void name_with_nul(unsigned char *h, const char *n, size_t *s) { (void)s; h[R_OFF_NAME + 1] = '\0'; (void)n; }

Test(hostile, version_unknown_2) { hostile("v2", version_2); }
Test(hostile, version_0) { hostile("v0", version_0); }
Test(hostile, version_max) { hostile("vmax", version_max); }
Test(hostile, state_unknown) { hostile("st", state_unknown); }
Test(hostile, state_zero) { hostile("st0", state_zero); }
Test(hostile, size_above_segment) { hostile("big", size_above_segment); }
Test(hostile, size_zero) { hostile("sz0", size_zero); }
Test(hostile, size_huge) { hostile("szmax", size_huge); }
Test(hostile, size_wraps_with_header) { hostile("szwrap", size_wraps); }
Test(hostile, size_far_below_segment) { hostile("far", size_far_below_segment); }
Test(hostile, segment_smaller_than_header) { hostile("tiny", segment_smaller_than_header); }
Test(hostile, segment_is_only_the_magic) { hostile("magic", segment_is_only_magic); }
Test(hostile, data_off_wrong) { hostile("doff", data_off_wrong); }
Test(hostile, flags_unknown) { hostile("flags", flags_unknown); }
Test(hostile, lock_flag_without_semid) { hostile("nosem", lock_without_semid); }
Test(hostile, semid_without_lock_flag) { hostile("semid", nolock_with_semid); }
Test(hostile, semid_minus_two_when_ready) { hostile("semm2", semid_minus_two_when_ready); }
Test(hostile, probe_index_wrong) { hostile("pr1", probe_wrong); }
Test(hostile, probe_index_out_of_range) { hostile("pr8", probe_out_of_range); }
Test(hostile, probe_index_max) { hostile("prmax", probe_max); }
Test(hostile, name_len_zero) { hostile("nl0", name_len_zero); }
Test(hostile, name_len_256) { hostile("nl256", name_len_256); }
Test(hostile, name_len_huge) { hostile("nlmax", name_len_huge); }
Test(hostile, name_len_too_short) { hostile("nlshort", name_len_short); }
Test(hostile, name_len_too_long) { hostile("nllong", name_len_long); }
Test(hostile, name_not_nul_terminated) { hostile("nonul", name_not_nul_terminated); }
Test(hostile, name_junk_after_nul) { hostile("junk", name_junk_after); }
Test(hostile, name_with_slash) { hostile("slash", name_with_slash); }
Test(hostile, name_with_nul_inside) { hostile("nul", name_with_nul); }

/* Damage at a later key of the probe sequence is found too: the name's
 * first key is free (a hole), the damaged segment at key 2. */
Test(hostile, damaged_at_third_key) { hostile_at("k2", version_2, 2); }

/* The header names another name, which does not hash to this key. */
Test(hostile, name_does_not_hash_to_key)
{
    const char *n = r_name("victim");
    const char *other = r_name("other");
    key_t key = tu_name_key(n);
    unsigned char h[R_HDR];
    int id;

    r_hdr_build(h, other, USZ, R_STATE_READY, 0, 0, -1);
    id = r_raw_segment(key, R_HDR + USZ, h, sizeof h, 0600);
    expect_untrusted(n, key, id, 1);
    /* Nor is it the other name's block. */
    TU_ASSERT_NULL_ERR(sysvshm_attach(other, 0), ENOENT);
}

/* Random bytes after the magic, many times over. */
Test(hostile, random_bytes_after_magic)
{
    unsigned seed = (unsigned)getpid();
    int round;

    for (round = 0; round < 12; round++) {
        const char *n = r_name("rnd");
        key_t key = tu_name_key(n);
        unsigned char h[R_HDR];
        size_t i;
        int id;

        memcpy(h, "SYSVSHM", 8);
        for (i = 8; i < sizeof h; i++) {
            seed = seed * 1103515245u + 12345u;
            h[i] = (unsigned char)(seed >> 16);
        }
        id = r_raw_segment(key, R_HDR + USZ + (size_t)(seed % 5000), h, sizeof h, 0600);
        expect_untrusted(n, key, id, 1);
    }
}

/* A READY header that is well-formed but names a semaphore set that is not
 * the one at its key: never trusted, and the set it names (somebody else's)
 * is never touched. */
Test(hostile, semid_not_the_set_at_the_key)
{
    const char *n = r_name("forgedsem");
    key_t key = tu_name_key(n);
    unsigned char h[R_HDR];
    unsigned short vals[3] = { 0, 0, 0 }, now[3];
    union {
        int val;
        struct semid_ds *buf;
        unsigned short *array;
    } arg;
    int id, victim;

    victim = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    cr_assert(victim >= 0);
    tu_register_sem(victim, IPC_PRIVATE);
    vals[0] = 1;
    vals[1] = 7;
    arg.array = vals;
    cr_assert_eq(semctl(victim, 0, SETALL, arg), 0);
    r_hdr_build(h, n, USZ, R_STATE_READY, 0, 1, victim);
    id = r_raw_segment(key, R_HDR + USZ, h, sizeof h, 0600);
    /* Never attached; the name is taken (EEXIST); but it is our own user's
     * block whose set is gone (as after `ipcrm -s'), so its owner may
     * remove it -- the segment only, never the set it names. */
    {
        unsigned char *snap;
        size_t len;

        snap = r_snapshot(id, &len);
        TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EPROTO);
        TU_ASSERT_NULL_ERR(sysvshm_attach(n, SYSVSHM_RDONLY), EPROTO);
        TU_ASSERT_NULL_ERR(sysvshm_create(n, 64, 0, 0600), EEXIST);
        cr_assert(r_unchanged(key, id, snap, len), "the block was changed");
        free(snap);
        cr_assert_eq(sysvshm_remove(n), 0, "remove: %s", strerror(errno));
        cr_assert(tu_name_keys_free(n), "left:%s", r_describe(n));
    }
    arg.array = now;
    cr_assert_eq(semctl(victim, 0, GETALL, arg), 0, "the victim set was removed");
    cr_assert(now[0] == 1 && now[1] == 7 && now[2] == 0, "the victim set was changed");
    semctl(victim, 0, IPC_RMID);
}

/* UNLINKING and INIT forged headers of a *live* process's segment: the
 * segment is not attached; whether a create may reclaim it is decided by its
 * creator being dead, and here the creator (us) is alive. */
Test(hostile, unlinking_block_is_never_attached)
{
    const char *n = r_name("unlk");
    key_t key = tu_name_key(n);
    unsigned char h[R_HDR];

    /* With the remover's mark in its mode (docs/format.md), a removal under
     * way: nobody attaches it, there is nothing left to remove. */
    r_hdr_build(h, n, USZ, R_STATE_UNLINKING, 0, 0, -1);
    r_raw_segment(key, R_HDR + USZ, h, sizeof h, 0600 | 0100);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
}

/* Without the mark the state is only bytes that anyone who may write the
 * block could have written: the block is taken as damaged and kept. */
Test(hostile, unlinking_without_removers_mark_is_damaged)
{
    const char *n = r_name("unlknomark");
    key_t key = tu_name_key(n);
    unsigned char h[R_HDR];
    int id;

    r_hdr_build(h, n, USZ, R_STATE_UNLINKING, 0, 0, -1);
    id = r_raw_segment(key, R_HDR + USZ, h, sizeof h, 0600);
    expect_untrusted_(n, key, id, 1, 1);
}

/* A segment without the magic is foreign: passed over, never touched. */
Test(hostile, foreign_segment_is_passed_over)
{
    const char *n = r_name("foreign");
    key_t key = tu_name_key(n);
    unsigned char h[R_HDR];
    unsigned char *snap;
    size_t len;
    sysvshm_t *c;
    int id;

    r_hdr_build(h, n, USZ, R_STATE_READY, 0, 0, -1);
    h[0] = 's'; /* "sYSVSHM": everything right but the magic */
    id = r_raw_segment(key, R_HDR + USZ, h, sizeof h, 0600);
    snap = r_snapshot(id, &len);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENOENT);
    TU_ASSERT_ERR(sysvshm_remove(n), ENOENT);
    c = TU_MUST(sysvshm_create(n, 10, 0, 0600));
    cr_assert_eq(sysvshm_key(c), tu_probe(key, 1));
    cr_assert_eq(sysvshm_unlink(c), 0);
    sysvshm_close(c);
    cr_assert(r_unchanged(key, id, snap, len));
    free(snap);
}

/* Damaged segments at every key of the name: create has nowhere to go. */
Test(hostile, damaged_at_every_key)
{
    const char *n = r_name("all");
    key_t k0 = tu_name_key(n);
    unsigned char h[R_HDR];
    unsigned i;

    for (i = 0; i < SYSVSHM_PROBE_MAX; i++) {
        r_hdr_build(h, n, USZ, R_STATE_READY, i, 0, -1);
        r_put32(h, R_OFF_VERSION, 9);
        r_raw_segment(tu_probe(k0, i), R_HDR + USZ, h, sizeof h, 0600);
    }
    /* They bear the name: it is taken (EEXIST), not merely crowded out. */
    TU_ASSERT_NULL_ERR(sysvshm_create(n, 10, 0, 0600), EEXIST);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), EPROTO);
    TU_ASSERT_ERR(sysvshm_remove(n), EPROTO);
    cr_assert_eq(r_count_shm(n), (int)SYSVSHM_PROBE_MAX);
    cr_assert_eq(r_count_sem(n), 0);
}

/* A header that another process changes while we look at it (a hostile
 * writer flipping one field between its right value and a wrong one): every
 * attach either fails with EPROTO or returns the block exactly as it was
 * when checked (size, name, data), never a mix; nothing crashes.  The
 * library must use its checked copy, not re-read the segment. */
struct flip {
    int id;
    size_t off;
    int width; /* 4 or 8 */
    uint64_t good, bad;
};

static int child_flipper(void *arg)
{
    struct flip *f = arg;
    unsigned char *p = shmat(f->id, NULL, 0);
    long long end = tu_now_ms() + 1500;
    unsigned long n = 0;

    TU_CHECK(p != (void *)-1, 2);
    while (tu_now_ms() < end) {
        uint64_t v = (n++ & 1) ? f->bad : f->good;

        if (f->width == 4)
            r_put32(p, f->off, (uint32_t)v);
        else
            r_put64(p, f->off, v);
    }
    if (f->width == 4)
        r_put32(p, f->off, (uint32_t)f->good);
    else
        r_put64(p, f->off, f->good);
    shmdt(p);
    return 0;
}

static void flipping(const char *tag, size_t off, int width, uint64_t good, uint64_t bad)
{
    const char *n = r_name(tag);
    key_t key = tu_name_key(n);
    unsigned char h[R_HDR + 16];
    struct flip f;
    int ok = 0, proto = 0;
    pid_t kid;
    long long end;

    r_hdr_build(h, n, USZ, R_STATE_READY, 0, 0, -1);
    memcpy(h + R_HDR, "DATA-AT-384.....", 16);
    f.id = r_raw_segment(key, R_HDR + USZ, h, sizeof h, 0600);
    f.off = off;
    f.width = width;
    f.good = good != 0 ? good : strlen(n);
    f.bad = bad;
    kid = tu_fork(child_flipper, &f);
    end = tu_now_ms() + 1000;
    while (tu_now_ms() < end) {
        sysvshm_t *a;

        errno = 0;
        a = sysvshm_attach(n, SYSVSHM_RDONLY);
        if (a != NULL) {
            cr_assert_eq(sysvshm_size(a), USZ, "attached with size %zu", sysvshm_size(a));
            cr_assert_str_eq(sysvshm_name(a), n);
            cr_assert_eq(memcmp(sysvshm_buf(a), "DATA-AT-384", 11), 0,
                         "buffer not at the checked data offset");
            sysvshm_close(a);
            ok++;
        } else {
            cr_assert_eq(errno, EPROTO, "attach: %s", strerror(errno));
            proto++;
        }
    }
    cr_assert_eq(tu_wait(kid, 5000), 0);
    cr_log_info("%s: %d attached, %d EPROTO", tag, ok, proto);
}

Test(hostile, size_changing_under_the_check)
{
    flipping("flipsize", R_OFF_SIZE, 8, USZ, USZ + 100000);
}

Test(hostile, name_len_changing_under_the_check)
{
    /* good: the name's length (filled in by flipping); bad: far too long */
    flipping("flipnlen", R_OFF_NAME_LEN, 4, 0, 0x7fff);
}

Test(hostile, data_off_changing_under_the_check)
{
    flipping("flipdoff", R_OFF_DATA_OFF, 4, R_HDR, R_HDR + 64);
}
