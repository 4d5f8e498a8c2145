/*
 * name.c - block names and the SysV keys they hash to.
 *
 * The key is public (docs/format.md) so that a program in any language can
 * find a block from its name alone:
 *   h   = FNV-1a 32 over the name's bytes, without a leading '/'
 *   k0  = 0x53000000 | ((h >> 24) ^ (h & 0xffffff))   ('S' is ftok's id byte)
 *   k_i = 0x53000000 | ((k0 + i) & 0xffffff),  i = 0 .. SYSVSHM_PROBE_MAX-1
 */
#include "svs_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SVS_KEY_ID 0x53000000UL

int
svs_name_check(const char *name, const char **bare, size_t *len)
{
    size_t n;

    if (name == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (name[0] == '/')
        name++;
    /* Bounded scan: a name without a NUL in reach is simply too long. */
    for (n = 0; n <= SYSVSHM_NAME_MAX && name[n] != '\0'; n++) {
        if (name[n] == '/') {
            errno = EINVAL;
            return -1;
        }
    }
    if (n == 0) {
        errno = EINVAL;
        return -1;
    }
    if (n > SYSVSHM_NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    *bare = name;
    *len = n;
    return 0;
}

uint32_t
svs_fnv1a(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

key_t
svs_probe_key(const char *bare, size_t len, unsigned i)
{
    uint32_t h = svs_fnv1a(bare, len);
    uint32_t low = ((h >> 24) ^ (h & 0xffffffu)) + i;

    return (key_t)(SVS_KEY_ID | (low & 0xffffffu));
}

int
svs_probe_index(const char *bare, size_t len, key_t key)
{
    unsigned i;

    for (i = 0; i < SYSVSHM_PROBE_MAX; i++)
        if (svs_probe_key(bare, len, i) == key)
            return (int)i;
    return -1;
}

void
svs_name_generate(char *out, size_t outlen)
{
    static unsigned long counter;
    unsigned long long mix;
    uint32_t a, b;
    char seed[64];
    int n;

    /* Unique per process (pid), per call (counter) and per boot-ish moment
     * (time, clock); hashing spreads them over the key space.  A collision
     * is not fatal: create retries with the next name on EEXIST. */
    counter++;
    mix = (unsigned long long)svs_now_ms();
    n = snprintf(seed, sizeof seed, "%ld.%lu.%llu.%lu", svs_getpid(), counter,
                 mix, (unsigned long)clock());
    if (n < 0)
        n = 0;
    a = svs_fnv1a(seed, (size_t)n);
    seed[0] ^= 0x5a;
    b = svs_fnv1a(seed, (size_t)n) ^ (uint32_t)counter;
    snprintf(out, outlen, "svs_%08lx%08lx", (unsigned long)a, (unsigned long)b);
}

key_t
sysvshm_name_key(const char *name)
{
    const char *bare;
    size_t len;

    if (svs_name_check(name, &bare, &len) < 0)
        return (key_t)-1;
    return svs_probe_key(bare, len, 0);
}
