/*
 * t_names.c - names and keys: validation, the documented key formula, the
 * key a block really lives at, generated names, the header layout, version.
 */
#include "testutil.h"
#include "svs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

TestSuite(names, .fini = tu_cleanup, .timeout = TU_TIMEOUT);

/* A name unique to the run, padded with 'x' to exactly len bytes (plus a
 * leading '/' if slash), registered for cleanup. */
static const char *name_of_len(const char *tag, size_t len, int slash)
{
    static char buf[4][SYSVSHM_NAME_MAX + 8];
    static int next;
    char *b = buf[next++ % 4];
    const char *base = tu_name(tag);
    size_t off = slash ? 1 : 0;
    size_t n = strlen(base);

    cr_assert(n <= len, "tag too long for %zu bytes", len);
    if (slash)
        b[0] = '/';
    memcpy(b + off, base, n);
    memset(b + off + n, 'x', len - n);
    b[off + len] = '\0';
    tu_register_name(b);
    return b;
}

/* ---- the key formula ---------------------------------------------------- */

Test(names, fnv1a_reference_vectors)
{
    /* Checks the test's own reference implementation against the published
     * FNV-1a 32-bit vectors, so the comparisons below mean something. */
    cr_assert_eq(tu_fnv1a((const unsigned char *)"", 0), 0x811c9dc5u);
    cr_assert_eq(tu_fnv1a((const unsigned char *)"a", 1), 0xe40c292cu);
    cr_assert_eq(tu_fnv1a((const unsigned char *)"foobar", 6), 0xbf9cf968u);
}

Test(names, name_key_known_values)
{
    /* Worked out by hand from the documented formula. */
    cr_assert_eq(sysvshm_name_key("a"), (key_t)0x530c29c8);
    cr_assert_eq(sysvshm_name_key("foobar"), (key_t)0x539cf9d7);
    cr_assert_eq(sysvshm_name_key("MyMemory"), (key_t)0x5376fb15);
    cr_assert_eq(sysvshm_name_key("/MyMemory"), (key_t)0x5376fb15);
    /* Bytes >= 0x80 hash as unsigned values (a signed-char bug changes
     * these). */
    cr_assert_eq(sysvshm_name_key("\xc3\xa9t\xc3\xa9"), (key_t)0x53b588e8);
    cr_assert_eq(sysvshm_name_key("\xff\x80"), (key_t)0x531eeaa4);
}

Test(names, name_key_matches_documented_formula)
{
    char name[SYSVSHM_NAME_MAX + 2];
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    int round;

    for (round = 0; round < 2000; round++) {
        size_t len = 1 + (size_t)(round % SYSVSHM_NAME_MAX);
        size_t i;
        key_t want, got;

        for (i = 0; i < len; i++) {
            unsigned char c;
            do {
                seed = seed * 1103515245u + 12345u;
                c = (unsigned char)(seed >> 16);
            } while (c == '\0' || c == '/');
            name[i] = (char)c;
        }
        name[len] = '\0';
        want = tu_name_key(name);
        got = sysvshm_name_key(name);
        cr_assert_eq(got, want, "name of %zu bytes (round %d): key 0x%08lx, formula says 0x%08lx",
                     len, round, (unsigned long)got, (unsigned long)want);
        cr_assert_eq(((unsigned long)got >> 24) & 0xff, 0x53ul, "top byte of 0x%08lx",
                     (unsigned long)got);
    }
}

Test(names, name_key_strips_one_leading_slash)
{
    const char *n255 = name_of_len("k255", SYSVSHM_NAME_MAX, 0);
    char slashed[SYSVSHM_NAME_MAX + 2];

    cr_assert_eq(sysvshm_name_key("/x"), sysvshm_name_key("x"));
    cr_assert_eq(sysvshm_name_key("/x"), tu_name_key("x"));
    slashed[0] = '/';
    strcpy(slashed + 1, n255);
    cr_assert_eq(sysvshm_name_key(slashed), sysvshm_name_key(n255));
    cr_assert_neq(sysvshm_name_key(slashed), (key_t)-1);
}

Test(names, name_key_rejects_bad_names)
{
    char n256[SYSVSHM_NAME_MAX + 3];

    TU_ASSERT_ERR(sysvshm_name_key(NULL), EINVAL);
    TU_ASSERT_ERR(sysvshm_name_key(""), EINVAL);
    TU_ASSERT_ERR(sysvshm_name_key("/"), EINVAL);
    TU_ASSERT_ERR(sysvshm_name_key("a/b"), EINVAL);
    TU_ASSERT_ERR(sysvshm_name_key("//a"), EINVAL);
    TU_ASSERT_ERR(sysvshm_name_key("a/"), EINVAL);
    memset(n256, 'n', SYSVSHM_NAME_MAX + 1);
    n256[SYSVSHM_NAME_MAX + 1] = '\0';
    TU_ASSERT_ERR(sysvshm_name_key(n256), ENAMETOOLONG);
    n256[0] = '/'; /* "/" + 255 bytes: fine */
    cr_assert_eq(sysvshm_name_key(n256), tu_name_key(n256));
    memset(n256, 'n', SYSVSHM_NAME_MAX + 2);
    n256[0] = '/';
    n256[SYSVSHM_NAME_MAX + 2] = '\0'; /* "/" + 256 bytes */
    TU_ASSERT_ERR(sysvshm_name_key(n256), ENAMETOOLONG);
}

/* ---- names on real blocks ---------------------------------------------- */

Test(names, name_of_255_bytes_works)
{
    const char *n = name_of_len("n255", SYSVSHM_NAME_MAX, 0);
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 10, 0, 0600));
    sysvshm_t *a;

    cr_assert_str_eq(sysvshm_name(h), n);
    cr_assert_eq(strlen(sysvshm_name(h)), (size_t)SYSVSHM_NAME_MAX);
    a = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_str_eq(sysvshm_name(a), n);
    cr_assert_eq(sysvshm_key(a), sysvshm_key(h));
    sysvshm_close(a);
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
}

Test(names, slash_plus_255_bytes_works)
{
    const char *n = name_of_len("s255", SYSVSHM_NAME_MAX, 1);
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 10, 0, 0600));
    sysvshm_t *a;

    cr_assert_str_eq(sysvshm_name(h), n + 1);
    a = TU_MUST(sysvshm_attach(n + 1, 0));
    sysvshm_close(a);
    cr_assert_eq(sysvshm_remove(n + 1), 0);
    sysvshm_close(h);
}

Test(names, name_of_256_bytes_is_too_long)
{
    const char *n = name_of_len("n256", SYSVSHM_NAME_MAX + 1, 0);
    const char *s = name_of_len("s256", SYSVSHM_NAME_MAX + 1, 1);

    TU_ASSERT_NULL_ERR(sysvshm_create(n, 10, 0, 0600), ENAMETOOLONG);
    TU_ASSERT_NULL_ERR(sysvshm_create(s, 10, 0, 0600), ENAMETOOLONG);
    TU_ASSERT_NULL_ERR(sysvshm_attach(n, 0), ENAMETOOLONG);
    TU_ASSERT_ERR(sysvshm_remove(n), ENAMETOOLONG);
}

Test(names, leading_slash_names_the_same_block)
{
    const char *bare = tu_name("slash");
    char slashed[SYSVSHM_NAME_MAX + 2];
    sysvshm_t *h, *a, *b;

    slashed[0] = '/';
    strcpy(slashed + 1, bare);
    h = TU_MUST(sysvshm_create(slashed, 64, 0, 0600));
    cr_assert_str_eq(sysvshm_name(h), bare, "the name is returned without its '/'");
    ((unsigned char *)sysvshm_buf(h))[5] = 0x5a;

    a = TU_MUST(sysvshm_attach(bare, 0));
    b = TU_MUST(sysvshm_attach(slashed, 0));
    cr_assert_str_eq(sysvshm_name(a), bare);
    cr_assert_str_eq(sysvshm_name(b), bare);
    cr_assert_eq(((unsigned char *)sysvshm_buf(a))[5], 0x5a);
    cr_assert_eq(((unsigned char *)sysvshm_buf(b))[5], 0x5a);
    TU_ASSERT_NULL_ERR(sysvshm_create(bare, 64, 0, 0600), EEXIST);
    sysvshm_close(a);
    sysvshm_close(b);

    cr_assert_eq(sysvshm_remove(bare), 0, "remove without '/' of a block made with one");
    TU_ASSERT_NULL_ERR(sysvshm_attach(slashed, 0), ENOENT);
    sysvshm_close(h);
}

Test(names, slash_after_first_byte_is_rejected)
{
    const char *base = tu_name("sl");
    char bad[SYSVSHM_NAME_MAX + 2];

    snprintf(bad, sizeof bad, "%s/x", base);
    TU_ASSERT_NULL_ERR(sysvshm_create(bad, 10, 0, 0600), EINVAL);
    TU_ASSERT_NULL_ERR(sysvshm_attach(bad, 0), EINVAL);
    TU_ASSERT_ERR(sysvshm_remove(bad), EINVAL);
    snprintf(bad, sizeof bad, "//%s", base);
    TU_ASSERT_NULL_ERR(sysvshm_create(bad, 10, 0, 0600), EINVAL);
    snprintf(bad, sizeof bad, "%s/", base);
    TU_ASSERT_NULL_ERR(sysvshm_create(bad, 10, 0, 0600), EINVAL);
    cr_assert(tu_name_keys_free(bad), "nothing may be made for a rejected name");
}

Test(names, any_byte_but_slash_and_nul_is_allowed)
{
    const char *base = tu_name("b");
    char n[SYSVSHM_NAME_MAX + 1];
    sysvshm_t *h, *a;

    /* Control characters, space, bytes >= 0x80. */
    snprintf(n, sizeof n, "%s \x01\t\n\x7f\x80\xc3\xa9\xff", base);
    tu_register_name(n);
    h = TU_MUST(sysvshm_create(n, 32, 0, 0600));
    cr_assert_eq(memcmp(sysvshm_name(h), n, strlen(n) + 1), 0);
    a = TU_MUST(sysvshm_attach(n, 0));
    cr_assert_eq(memcmp(sysvshm_name(a), n, strlen(n) + 1), 0);
    cr_assert_eq(sysvshm_key(h), sysvshm_key(a));
    sysvshm_close(a);
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
}

Test(names, similar_names_are_different_blocks)
{
    const char *n1 = tu_name("case");
    char n2[SYSVSHM_NAME_MAX + 1];
    sysvshm_t *h1, *h2, *a;

    strcpy(n2, n1);
    n2[strlen(n2) - 1] = 'E'; /* "...case" -> "...casE" */
    tu_register_name(n2);
    h1 = TU_MUST(sysvshm_create(n1, 16, 0, 0600));
    h2 = TU_MUST(sysvshm_create(n2, 32, 0, 0600));
    a = TU_MUST(sysvshm_attach(n2, 0));
    cr_assert_eq(sysvshm_size(a), 32u);
    cr_assert_str_eq(sysvshm_name(a), n2);
    sysvshm_close(a);
    a = TU_MUST(sysvshm_attach(n1, 0));
    cr_assert_eq(sysvshm_size(a), 16u);
    sysvshm_close(a);
    sysvshm_unlink(h1);
    sysvshm_unlink(h2);
    sysvshm_close(h1);
    sysvshm_close(h2);
}

Test(names, block_lives_at_name_key_when_free)
{
    const char *n = tu_name("key");
    key_t k = tu_name_key(n);
    sysvshm_t *h;
    int shmid;

    cr_assert_eq(sysvshm_name_key(n), k);
    if (tu_shm_exists(k) || tu_sem_exists(k))
        cr_skip_test("key 0x%08lx already taken by someone else", (unsigned long)k);
    h = TU_MUST(sysvshm_create(n, 100, 0, 0600));
    cr_assert_eq(sysvshm_key(h), k, "key 0x%08lx, expected first key 0x%08lx",
                 (unsigned long)sysvshm_key(h), (unsigned long)k);
    shmid = shmget(k, 0, 0);
    cr_assert_geq(shmid, 0, "no segment at the name's key: %s", strerror(errno));
    cr_assert_geq(semget(k, 0, 0), 0, "no semaphore set at the name's key: %s", strerror(errno));
    cr_assert_eq(sysvshm_unlink(h), 0);
    sysvshm_close(h);
}

/* ---- generated names -------------------------------------------------- */

static int child_attach_generated(void *arg)
{
    const char *name = arg;
    sysvshm_t *h = sysvshm_attach(name, 0);

    TU_CHECK(h != NULL, 1);
    TU_CHECK(sysvshm_size(h) == 100, 2);
    TU_CHECK(strcmp(sysvshm_name(h), name) == 0, 3);
    TU_CHECK(((unsigned char *)sysvshm_buf(h))[99] == 0x77, 4);
    sysvshm_close(h);
    return 0;
}

Test(names, null_name_generates_unique_name)
{
    sysvshm_t *h1, *h2;
    const char *n1, *n2;
    char copy[SYSVSHM_NAME_MAX + 1];
    int st;

    h1 = sysvshm_create(NULL, 100, 0, 0600);
    if (h1 != NULL)
        tu_register_name(sysvshm_name(h1));
    h2 = sysvshm_create(NULL, 100, 0, 0600);
    if (h2 != NULL)
        tu_register_name(sysvshm_name(h2));
    cr_assert_not_null(h1, "create(NULL): %s", strerror(errno));
    cr_assert_not_null(h2, "create(NULL): %s", strerror(errno));
    n1 = sysvshm_name(h1);
    n2 = sysvshm_name(h2);
    cr_assert_not_null(n1);
    cr_assert_not_null(n2);
    cr_assert(strlen(n1) >= 1 && strlen(n1) <= 32, "generated name \"%s\" has %zu bytes",
              n1, strlen(n1));
    cr_assert(strlen(n2) >= 1 && strlen(n2) <= 32);
    cr_assert_null(strchr(n1, '/'));
    cr_assert_str_neq(n1, n2, "two generated names are equal");
    cr_assert_eq(sysvshm_name_key(n1) != (key_t)-1, 1, "generated name is not valid");

    /* Another process finds the block by the name alone. */
    ((unsigned char *)sysvshm_buf(h1))[99] = 0x77;
    strcpy(copy, n1);
    st = tu_wait(tu_fork(child_attach_generated, copy), 10000);
    cr_assert_eq(st, 0, "attach by generated name in a child: check %d failed", st);

    cr_assert_eq(sysvshm_unlink(h1), 0);
    cr_assert_eq(sysvshm_unlink(h2), 0);
    sysvshm_close(h1);
    sysvshm_close(h2);
}

/* ---- header layout (documented next to the key) ------------------------ */

Test(names, header_layout_matches_documentation)
{
    const char *n = tu_name("hdr");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 1000, 0, 0640));
    key_t k = sysvshm_key(h);
    int shmid = shmget(k, 0, 0);
    const struct svs_header *hdr;
    const unsigned char *raw;
    size_t i;

    cr_assert_geq(shmid, 0);
    hdr = shmat(shmid, NULL, SHM_RDONLY);
    cr_assert_neq((void *)hdr, (void *)-1, "shmat: %s", strerror(errno));
    raw = (const unsigned char *)hdr;

    /* The documented offsets, read as bytes (host byte order). */
    cr_assert_eq(memcmp(raw, "SYSVSHM\0", 8), 0, "magic");
    cr_assert_eq(hdr->version, SVS_FORMAT_VERSION);
    cr_assert_eq(hdr->state, SVS_STATE_READY);
    cr_assert_eq(hdr->size, 1000u);
    cr_assert_eq(hdr->data_off % 64, 0u);
    cr_assert_geq(hdr->data_off, SVS_DATA_OFF);
    cr_assert_eq(hdr->flags & SVS_HF_LOCK, SVS_HF_LOCK);
    cr_assert_eq(hdr->semid, semget(k, 0, 0));
    cr_assert_eq(tu_probe(tu_name_key(n), hdr->probe), k);
    cr_assert_eq(hdr->name_len, strlen(n));
    cr_assert_str_eq(hdr->name, n);
    for (i = strlen(n); i < SVS_NAME_FIELD; i++)
        cr_assert_eq(hdr->name[i], '\0', "name field not NUL-padded at %zu", i);
    cr_assert_eq(hdr->writer, 0);
    cr_assert_eq(offsetof(struct svs_header, writer), 64u);
    cr_assert_eq(offsetof(struct svs_header, name), 128u);
    cr_assert_eq(offsetof(struct svs_header, size), 16u);

    /* The user's bytes are at data_off. */
    memset(sysvshm_buf(h), 0xa5, 1000);
    cr_assert_eq(raw[hdr->data_off], 0xa5);
    cr_assert_eq(raw[hdr->data_off + 999], 0xa5);
    cr_assert_eq(raw[hdr->data_off - 1], 0, "the byte before data_off is the header's");

    shmdt(hdr);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

Test(names, header_of_nolock_block)
{
    const char *n = tu_name("hdrnl");
    sysvshm_t *h = TU_MUST(sysvshm_create(n, 10, SYSVSHM_NOLOCK, 0600));
    key_t k = sysvshm_key(h);
    const struct svs_header *hdr;

    hdr = shmat(shmget(k, 0, 0), NULL, SHM_RDONLY);
    cr_assert_neq((void *)hdr, (void *)-1, "shmat: %s", strerror(errno));
    cr_assert_eq(hdr->flags & SVS_HF_LOCK, 0u);
    cr_assert_eq(hdr->semid, -1);
    cr_assert_eq(hdr->size, 10u);
    cr_assert_not(tu_sem_exists(k), "a NOLOCK block has no semaphore set");
    shmdt(hdr);
    sysvshm_unlink(h);
    sysvshm_close(h);
}

/* ---- version ------------------------------------------------------------ */

Test(names, version_string)
{
    char want[32];

    cr_assert_not_null(sysvshm_version());
    cr_assert_str_eq(sysvshm_version(), SYSVSHM_VERSION_STRING);
    snprintf(want, sizeof want, "%d.%d.%d", SYSVSHM_VERSION_MAJOR, SYSVSHM_VERSION_MINOR,
             SYSVSHM_VERSION_PATCH);
    cr_assert_str_eq(sysvshm_version(), want);
    cr_assert_eq(sysvshm_version(), sysvshm_version(), "a static string");
}
