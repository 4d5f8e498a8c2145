/*
 * out.h - output helpers of the sysvshm tool: names made safe to print,
 * JSON strings, aligned tables, hex dumps.
 */
#ifndef SVS_TOOL_OUT_H
#define SVS_TOOL_OUT_H

#include <stddef.h>
#include <stdio.h>

#include "sysvshm.h"

/*
 * A block name may hold any byte but '/' and NUL.  For a terminal, control
 * bytes, bytes that are not valid UTF-8 and backslashes are written as \xHH
 * (and \\); characters that show as nothing or as a blank, or that change
 * how the text around them shows (C1 controls, bidirectional controls,
 * zero-width and other format characters) as \uXXXX (\UXXXXXXXX above
 * U+FFFF); with `space' also the space, so that a table column stays one
 * word.  Writes at most outlen-1 bytes and a NUL (a long name is cut);
 * returns out.
 */
char *out_text(char *out, size_t outlen, const char *name, int space);
#define OUT_TEXT_MAX (SYSVSHM_NAME_MAX * 4 + 1)

/* Is s valid UTF-8? */
int out_utf8_valid(const char *s);

/* A JSON string, quoted.  Bytes that are not valid UTF-8 become \u00HH
 * (lossy: use it for names only when out_utf8_valid); the characters
 * out_text writes as \u escapes are escaped too. */
void out_json_str(FILE *fp, const char *s);

/* The bytes of s as a quoted string of lower-case hex digits. */
void out_json_hex(FILE *fp, const char *s);

/* Decode, in place, a name given as hex digits (two a byte, either case).
 * Returns 0, or -1 if s is empty, of odd length, not hex, or holds NUL. */
int out_unhex(char *s);

/* A table: cells are copied; print pads every column but the last. */
struct table {
    size_t ncols, nrows, cap;
    char **cells;        /* nrows * ncols */
    const int *right;    /* ncols flags: right-align */
};
int table_init(struct table *t, size_t ncols, const int *right);
int table_add(struct table *t, const char *const *row);
void table_print(const struct table *t, FILE *fp);
void table_free(struct table *t);

/* `hexdump -C' layout; offsets printed start at `base'.  Repeated lines
 * are squeezed to one "*". */
void out_hexdump(FILE *fp, const unsigned char *p, size_t n, unsigned long long base);

#endif /* SVS_TOOL_OUT_H */
