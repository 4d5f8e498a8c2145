/*
 * replay.c - runs the header fuzz target (fuzz_header.c) without libFuzzer,
 * with any C compiler, under `make check': every seed, then a few hundred
 * thousand mutations of them (bit flips, interesting field values, cuts).
 * A disagreement with the reference aborts, as under libFuzzer.  Prints TAP.
 *
 *   r_fuzz_replay                    the check (SVS_FUZZ_ITERS, SVS_FUZZ_SEED)
 *   r_fuzz_replay --write-seeds DIR  write the seeds as files, for libFuzzer
 *   r_fuzz_replay FILE...            run the target on files (a crash input)
 */
#include "svs_int.h"
#include "fuzz_header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    /* xorshift64*: plenty for choosing mutations, same on every host. */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

static const uint32_t interesting[] = {
    0, 1, 2, 7, 8, 255, 256, 383, 384, 448, 65535, 65536, 0x7fffffffu, 0x80000000u,
    0xfffffffeu, 0xffffffffu, 0x494e4954u, 0x52454459u, 0x554e4c4bu,
};

/* Offsets of the header's fields, after the prefix. */
static const size_t fields[] = { 8, 12, 16, 20, 24, 28, 32, 36, 40, 64 };

static void mutate(uint8_t *buf, size_t *len)
{
    unsigned rounds = 1 + (unsigned)(next() % 4);

    while (rounds--) {
        uint64_t r = next();
        size_t at;

        switch (r % 7) {
        case 0: /* flip a bit anywhere */
            at = (size_t)(next() % *len);
            buf[at] ^= (uint8_t)(1u << (next() % 8));
            break;
        case 1: /* an interesting value in a field */
            at = FUZZ_PREFIX + fields[next() % (sizeof fields / sizeof fields[0])];
            if (at + 4 <= *len) {
                uint32_t v = interesting[next() % (sizeof interesting / sizeof interesting[0])];
                memcpy(buf + at, &v, 4);
            }
            break;
        case 2: /* a byte of the name */
            at = FUZZ_PREFIX + 128 + (size_t)(next() % 256);
            if (at < *len)
                buf[at] = (uint8_t)(r >> 8 & 1 ? '/' : (r >> 16) & 0xff);
            break;
        case 3: /* cut it short */
            *len = FUZZ_PREFIX + (size_t)(next() % (*len - FUZZ_PREFIX + 1));
            if (*len < FUZZ_PREFIX)
                *len = FUZZ_PREFIX;
            break;
        case 4: /* the prefix: derived or raw key and size, slack */
            buf[(size_t)(next() % FUZZ_PREFIX)] = (uint8_t)next();
            break;
        case 5: /* the size field near the segment's edges */
            if (FUZZ_PREFIX + 24 <= *len) {
                uint64_t s;
                memcpy(&s, buf + FUZZ_PREFIX + 16, 8);
                s += (uint64_t)(int64_t)((int)(next() % 5) - 2);
                if (next() % 4 == 0)
                    s = next();
                memcpy(buf + FUZZ_PREFIX + 16, &s, 8);
            }
            break;
        default: /* a random byte in the header */
            at = FUZZ_PREFIX + (size_t)(next() % 384);
            if (at < *len)
                buf[at] = (uint8_t)next();
            break;
        }
    }
}

static int write_seeds(const char *dir)
{
    uint8_t buf[FUZZ_PREFIX + 2048];
    char path[4096];
    unsigned i;
    int verdict;
    size_t n;

    for (i = 0; (n = fuzz_seed(i, buf, sizeof buf, &verdict)) != 0; i++) {
        FILE *f;

        snprintf(path, sizeof path, "%s/seed-%02u", dir, i);
        f = fopen(path, "wb");
        if (f == NULL || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
            perror(path);
            return 1;
        }
    }
    printf("r_fuzz_replay: %u seeds written to %s\n", i, dir);
    return 0;
}

static int run_files(int argc, char **argv)
{
    static uint8_t buf[1 << 20];
    int i;

    for (i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        size_t n;

        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }
        n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        printf("%s: verdict %d\n", argv[i], fuzz_last_verdict);
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint8_t seed[FUZZ_PREFIX + 2048], buf[FUZZ_PREFIX + 2048];
    unsigned long iters = 300000, it, counts[3] = { 0, 0, 0 };
    const char *e;
    unsigned i, nseeds = 0, bad_seeds = 0;
    size_t n, len;
    int verdict;

    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
        return write_seeds(argv[2]);
    if (argc > 1)
        return run_files(argc, argv);
    if ((e = getenv("SVS_FUZZ_ITERS")) != NULL)
        iters = strtoul(e, NULL, 10);
    if ((e = getenv("SVS_FUZZ_SEED")) != NULL)
        rng = strtoull(e, NULL, 0) | 1;

    printf("1..2\n");
    /* The seeds get the verdicts they were made for: a check that rejected
     * every header (or accepted every one) would pass the fuzzing alone. */
    for (i = 0; (n = fuzz_seed(i, seed, sizeof seed, &verdict)) != 0; i++) {
        nseeds++;
        LLVMFuzzerTestOneInput(seed, n);
        if (fuzz_last_verdict != verdict) {
            printf("# seed %u: verdict %d, expected %d\n", i, fuzz_last_verdict, verdict);
            bad_seeds++;
        }
    }
    printf("%s 1 - %u seeds get their expected verdicts\n", bad_seeds ? "not ok" : "ok",
           nseeds);

    for (it = 0; it < iters; it++) {
        n = fuzz_seed((unsigned)(next() % nseeds), seed, sizeof seed, &verdict);
        memcpy(buf, seed, n);
        len = n;
        mutate(buf, &len);
        LLVMFuzzerTestOneInput(buf, len);
        counts[fuzz_last_verdict]++;
    }
    /* Reaching here means no disagreement (that aborts). */
    printf("ok 2 - %lu mutated headers: %lu foreign, %lu ok, %lu damaged; "
           "svs_header_check agrees with docs/format.md\n",
           iters, counts[0], counts[1], counts[2]);
    return bad_seeds ? 1 : 0;
}
