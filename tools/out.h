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
 * (and \\); with `space' also blanks, so that a table column stays one word.
 * Writes at most outlen-1 bytes and a NUL (a long name is cut); returns out.
 */
char *out_text(char *out, size_t outlen, const char *name, int space);
#define OUT_TEXT_MAX (SYSVSHM_NAME_MAX * 4 + 1)

/* A JSON string, quoted.  Bytes that are not valid UTF-8 become \u00HH. */
void out_json_str(FILE *fp, const char *s);

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
