/*
 * fuzz_header.c - libFuzzer target for svs_header_check, the one function
 * that decides whether a segment found at a name's key can be trusted.
 * Input layout: fuzz_header.h.
 *
 * Two things are checked on every input: the check reads nothing beyond the
 * `avail' bytes it is given (the header is handed over in a buffer of exactly
 * that size, so AddressSanitizer sees any over-read), and its verdict equals
 * that of a reference written independently from docs/format.md.
 */
#include "svs_int.h"
#include "fuzz_header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fuzz_last_verdict;

static uint32_t get32(const uint8_t *p, size_t off)
{
    uint32_t v;

    memcpy(&v, p + off, sizeof v);
    return v;
}

static uint64_t get64(const uint8_t *p, size_t off)
{
    uint64_t v;

    memcpy(&v, p + off, sizeof v);
    return v;
}

static uint32_t ref_key(const uint8_t *name, size_t len, unsigned i)
{
    uint32_t h = 2166136261u;
    size_t n;

    for (n = 0; n < len; n++) {
        h ^= name[n];
        h *= 16777619u;
    }
    return 0x53000000u | ((((h >> 24) ^ (h & 0xffffffu)) + i) & 0xffffffu);
}

/* docs/format.md, "A header is trusted only if every one of these holds". */
static int ref_check(const uint8_t *p, size_t avail, uint64_t segsz, uint32_t key)
{
    uint32_t state, flags, name_len, probe;
    int32_t semid;
    uint64_t size;
    size_t i;

    if (avail < 8 || memcmp(p, "SYSVSHM", 8) != 0)
        return 0;
    if (avail < 384 || segsz < 384)
        return 2;
    if (get32(p, 24) != 384)
        return 2;
    state = get32(p, 12);
    if (state != 0x494e4954u && state != 0x52454459u && state != 0x554e4c4bu)
        return 2;
    /* version 1: flags 0 or 1; version 2 (the fast lock): flags exactly 3 */
    flags = get32(p, 28);
    if (get32(p, 8) == 1) {
        if (flags & ~1u)
            return 2;
    } else if (get32(p, 8) != 2 || flags != 3u) {
        return 2;
    }
    size = get64(p, 16);
    if (size == 0 || size > segsz - 384 || segsz - 384 - size >= 65536)
        return 2;
    name_len = get32(p, 40);
    if (name_len < 1 || name_len > 255)
        return 2;
    for (i = 0; i < 256; i++) {
        uint8_t c = p[128 + i];
        if (i < name_len && (c == 0 || c == '/'))
            return 2;
        if (i >= name_len && c != 0)
            return 2;
    }
    probe = get32(p, 36);
    if (probe >= 8 || ref_key(p + 128, name_len, probe) != key)
        return 2;
    semid = (int32_t)get32(p, 32);
    if (flags & 1u) {
        if (semid < 0 && !(state == 0x494e4954u && (semid == -1 || semid == -2)))
            return 2;
    } else if (semid != -1) {
        return 2;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *hdr;
    uint8_t *copy;
    size_t avail;
    uint32_t key;
    uint64_t segsz;
    int got, want;

    if (size < FUZZ_PREFIX)
        return 0;
    hdr = data + FUZZ_PREFIX;
    avail = size - FUZZ_PREFIX;
    key = get32(data, 1);
    segsz = get64(data, 5);
    if ((data[0] & 1) && avail >= 384)
        key = ref_key(hdr + 128, get32(hdr, 40) > 255 ? 255 : get32(hdr, 40),
                      get32(hdr, 36) & 7u);
    if ((data[0] & 2) && avail >= 24) {
        uint64_t s = get64(hdr, 16);
        uint64_t extra = 384u + 257u * (uint64_t)data[13];

        segsz = s > UINT64_MAX - extra ? UINT64_MAX : s + extra;
    }
    if (segsz > (uint64_t)(size_t)-1)
        segsz = (size_t)-1;
    key &= 0x7fffffffu; /* a key_t is a positive int here */

    /* Exactly avail bytes, on the heap, so an over-read is caught. */
    copy = malloc(avail ? avail : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, hdr, avail);
    got = svs_header_check(copy, avail, (size_t)segsz, (key_t)key);
    want = ref_check(copy, avail, segsz, key);
    free(copy);
    fuzz_last_verdict = got;
    if (got != want) {
        fprintf(stderr, "fuzz_header: svs_header_check says %d, format.md says %d "
                        "(avail %zu, segsz %llu, key 0x%08lx)\n",
                got, want, avail, (unsigned long long)segsz, (unsigned long)key);
        abort();
    }
    return 0;
}

/* ---- seeds ---------------------------------------------------------------- */

static size_t seed_header(uint8_t *out, const char *name, size_t name_len,
                          uint32_t state, uint32_t probe, uint32_t flags,
                          int32_t semid, uint64_t usize, uint8_t slack)
{
    uint8_t *h = out + FUZZ_PREFIX;
    uint32_t v;

    memset(out, 0, FUZZ_PREFIX + 384);
    out[0] = 3;
    out[13] = slack;
    memcpy(h, "SYSVSHM", 8);
    v = 1;
    memcpy(h + 8, &v, 4);
    memcpy(h + 12, &state, 4);
    memcpy(h + 16, &usize, 8);
    v = 384;
    memcpy(h + 24, &v, 4);
    memcpy(h + 28, &flags, 4);
    memcpy(h + 32, &semid, 4);
    memcpy(h + 36, &probe, 4);
    v = (uint32_t)name_len;
    memcpy(h + 40, &v, 4);
    memcpy(h + 128, name, name_len);
    return FUZZ_PREFIX + 384;
}

size_t fuzz_seed(unsigned idx, uint8_t *out, size_t cap, int *verdict)
{
    char longname[256];
    size_t n;

    if (cap < FUZZ_PREFIX + 1024)
        return 0;
    memset(longname, 'a', 255);
    longname[255] = '\0';
    longname[100] = (char)0xff;
    switch (idx) {
    case 0: /* the demo's block, READY, with its lock */
        *verdict = 1;
        return seed_header(out, "MyMemory", 8, 0x52454459u, 0, 1, 7, 1024, 0);
    case 1: /* INIT, set being made, at the last probe key, longest name */
        *verdict = 1;
        return seed_header(out, longname, 255, 0x494e4954u, 7, 1, -2, 1, 0);
    case 2: /* UNLINKING, no lock, the most slack a size may have; a 1 TiB
             * segment cannot exist where size_t has 32 bits, so there the
             * size is taken modulo 2^32 and the verdict is "damaged" */
        *verdict = sizeof(size_t) > 4 ? 1 : 2;
        return seed_header(out, "x", 1, 0x554e4c4bu, 3, 0, -1, (uint64_t)1 << 40, 255);
    case 3: /* INIT, set not started yet */
        *verdict = 1;
        return seed_header(out, "block.42", 8, 0x494e4954u, 1, 1, -1, 4096, 1);
    case 4: /* a header cut short */
        *verdict = 2;
        n = seed_header(out, "MyMemory", 8, 0x52454459u, 0, 1, 7, 1024, 0);
        return n - 200;
    case 5: /* the magic alone */
        *verdict = 2;
        n = seed_header(out, "MyMemory", 8, 0x52454459u, 0, 1, 7, 1024, 0);
        return FUZZ_PREFIX + 8;
    case 6: /* a foreign segment */
        *verdict = 0;
        n = seed_header(out, "MyMemory", 8, 0x52454459u, 0, 1, 7, 1024, 0);
        out[FUZZ_PREFIX] = 'X';
        return n;
    case 7: /* version 2 without the fast lock's flag */
        *verdict = 2;
        n = seed_header(out, "MyMemory", 8, 0x52454459u, 0, 1, 7, 1024, 0);
        {
            uint32_t v = 2;

            memcpy(out + FUZZ_PREFIX + 8, &v, 4);
        }
        return n;
    case 8: /* a name that does not hash to the key */
        *verdict = 2;
        n = seed_header(out, "MyMemory", 8, 0x52454459u, 0, 1, 7, 1024, 0);
        out[0] = 2;
        memset(out + 1, 0x53, 4);
        return n;
    case 9: /* a segment smaller than the size says */
        *verdict = 2;
        n = seed_header(out, "MyMemory", 8, 0x52454459u, 0, 1, 7, 1024, 0);
        out[0] = 1;
        {
            uint64_t s = 384 + 1000;
            memcpy(out + 5, &s, 8);
        }
        return n;
    case 10: /* the name not NUL-padded */
        *verdict = 2;
        n = seed_header(out, "MyMemory", 8, 0x52454459u, 0, 1, 7, 1024, 0);
        out[FUZZ_PREFIX + 128 + 255] = 'z';
        return n;
    case 11: /* bytes beyond the header (data) */
        *verdict = 1;
        n = seed_header(out, "MyMemory", 8, 0x52454459u, 0, 1, 7, 1024, 0);
        memset(out + n, 0xee, 512);
        return n + 512;
    case 12: /* version 2, the fast lock */
        *verdict = 1;
        n = seed_header(out, "MyMemory", 8, 0x52454459u, 0, 3, 7, 1024, 0);
        {
            uint32_t v = 2; /* in host order, as every field */

            memcpy(out + FUZZ_PREFIX + 8, &v, 4);
        }
        return n;
    case 13: /* version 1 claiming the fast lock */
        *verdict = 2;
        return seed_header(out, "MyMemory", 8, 0x52454459u, 0, 3, 7, 1024, 0);
    default:
        return 0;
    }
}
