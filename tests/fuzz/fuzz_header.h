/*
 * fuzz_header.h - the fuzz target for svs_header_check (lib/segment.c).
 *
 * One input is a 16-byte prefix and then the bytes found at the start of a
 * segment:
 *   [0]      bit 0: the key is the one the header's own name and probe
 *                   index give (so that well-formed headers are reachable);
 *                   else the raw key below.
 *            bit 1: the segment size is 384 + the header's size field +
 *                   257 * [13] (so that exact and near sizes are reachable);
 *                   else the raw size below.
 *   [1..4]   raw key          [5..12]  raw segment size      [13] slack
 *   [16..]   the header bytes (as many as given: `avail')
 * The target runs the library's check and an independent reference written
 * from docs/format.md, and aborts if they disagree.
 */
#ifndef SVS_FUZZ_HEADER_H
#define SVS_FUZZ_HEADER_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_PREFIX 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seed number idx into out (capacity cap >= 1024); returns its length, or 0
 * past the last seed.  *ok is set to the verdict the seed must get
 * (0 foreign, 1 ok, 2 bad). */
size_t fuzz_seed(unsigned idx, uint8_t *out, size_t cap, int *verdict);

/* The verdict of the last LLVMFuzzerTestOneInput call (0, 1, 2). */
extern int fuzz_last_verdict;

#endif /* SVS_FUZZ_HEADER_H */
