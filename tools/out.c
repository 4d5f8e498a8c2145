/*
 * out.c - output helpers of the sysvshm tool.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "config.h"
#include "out.h"

#include <stdlib.h>
#include <string.h>

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0; its code point
 * in *cpp. */
static size_t
utf8_dec(const unsigned char *p, unsigned long *cpp)
{
    unsigned c = p[0];
    size_t n, i;
    unsigned long cp;

    if (c < 0x80) {
        *cpp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0; /* also stops at the NUL */
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    /* Overlong forms, surrogates, beyond U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    *cpp = cp;
    return n;
}

/*
 * Characters that show as nothing, as a blank, or change how the text
 * around them is shown: C1 controls, blanks other than the space, line and
 * paragraph separators, bidirectional controls, zero-width and other format
 * characters (Unicode's Cf and default-ignorable code points), variation
 * selectors, tags, Hangul fillers and the noncharacters U+FFFE, U+FFFF.
 */
static const struct { unsigned long lo, hi; } hidden[] = {
    { 0x0080, 0x00a0 }, { 0x00ad, 0x00ad }, { 0x034f, 0x034f }, { 0x0600, 0x0605 },
    { 0x061c, 0x061c }, { 0x06dd, 0x06dd }, { 0x070f, 0x070f }, { 0x0890, 0x0891 },
    { 0x08e2, 0x08e2 }, { 0x115f, 0x1160 }, { 0x1680, 0x1680 }, { 0x17b4, 0x17b5 },
    { 0x180b, 0x180f }, { 0x2000, 0x200f }, { 0x2028, 0x202f }, { 0x205f, 0x206f },
    { 0x3000, 0x3000 }, { 0x3164, 0x3164 }, { 0xfe00, 0xfe0f }, { 0xfeff, 0xfeff },
    { 0xffa0, 0xffa0 }, { 0xfff0, 0xfffb }, { 0xfffe, 0xffff }, { 0x110bd, 0x110bd },
    { 0x110cd, 0x110cd }, { 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 },
    { 0x1d173, 0x1d17a }, { 0xe0000, 0xe0fff }
};

static int
is_hidden(unsigned long cp)
{
    size_t i;

    for (i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        if (cp >= hidden[i].lo && cp <= hidden[i].hi)
            return 1;
    return 0;
}

int
out_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned long cp;

    while (*p != '\0') {
        size_t n = utf8_dec(p, &cp);

        if (n == 0)
            return 0;
        p += n;
    }
    return 1;
}

char *
out_text(char *out, size_t outlen, const char *name, int space)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t o = 0;

    if (outlen == 0)
        return out;
    while (*p != '\0') {
        unsigned long cp = 0;
        size_t n = utf8_dec(p, &cp);
        char esc[12];
        const char *src;
        size_t k;

        if (n == 1 && (*p < 0x20 || *p == 0x7f || *p == '\\' || (space && *p == ' ')))
            n = 0;
        if (n == 0) {
            if (*p == '\\')
                memcpy(esc, "\\\\", 3);
            else
                snprintf(esc, sizeof esc, "\\x%02x", *p);
            src = esc;
            k = strlen(esc);
            n = 1;
        } else if (n > 1 && is_hidden(cp)) {
            snprintf(esc, sizeof esc, cp > 0xffff ? "\\U%08lx" : "\\u%04lx", cp);
            src = esc;
            k = strlen(esc);
        } else {
            src = (const char *)p;
            k = n;
        }
        if (o + k >= outlen)
            break;
        memcpy(out + o, src, k);
        o += k;
        p += n;
    }
    out[o] = '\0';
    return out;
}

void
out_json_str(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    putc('"', fp);
    while (*p != '\0') {
        unsigned long cp = 0;
        size_t n = utf8_dec(p, &cp);

        if (n == 0) {
            fprintf(fp, "\\u%04x", *p);
            p++;
            continue;
        }
        if (n > 1) {
            /* Escaped, so that what a terminal shows of the raw JSON does
             * not hide them either: the decoded string is the same. */
            if (is_hidden(cp) && cp > 0xffff)
                fprintf(fp, "\\u%04lx\\u%04lx", 0xd800 + ((cp - 0x10000) >> 10),
                        0xdc00 + ((cp - 0x10000) & 0x3ff));
            else if (is_hidden(cp))
                fprintf(fp, "\\u%04lx", cp);
            else
                fwrite(p, 1, n, fp);
            p += n;
            continue;
        }
        switch (*p) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\t': fputs("\\t", fp); break;
        case '\r': fputs("\\r", fp); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(fp, "\\u%04x", *p);
            else
                putc(*p, fp);
        }
        p++;
    }
    putc('"', fp);
}

void
out_json_hex(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    putc('"', fp);
    for (; *p != '\0'; p++)
        fprintf(fp, "%02x", *p);
    putc('"', fp);
}

int
out_unhex(char *s)
{
    size_t i, n = strlen(s);
    char *o = s;

    if (n == 0 || n % 2 != 0)
        return -1;
    for (i = 0; i < n; i += 2) {
        int hi, lo;

        hi = hexval(s[i]);
        lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return -1;
        *o++ = (char)(hi * 16 + lo);
    }
    *o = '\0';
    return 0;
}

int
table_init(struct table *t, size_t ncols, const int *right)
{
    t->ncols = ncols;
    t->nrows = 0;
    t->cap = 0;
    t->cells = NULL;
    t->right = right;
    return 0;
}

int
table_add(struct table *t, const char *const *row)
{
    size_t i;

    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, cap * t->ncols * sizeof *c);

        if (c == NULL)
            return -1;
        t->cells = c;
        t->cap = cap;
    }
    for (i = 0; i < t->ncols; i++) {
        char *d = strdup(row[i] != NULL ? row[i] : "");

        if (d == NULL) {
            while (i-- > 0)
                free(t->cells[t->nrows * t->ncols + i]);
            return -1;
        }
        t->cells[t->nrows * t->ncols + i] = d;
    }
    t->nrows++;
    return 0;
}

/* Display width: one column per character (UTF-8 continuation bytes do
 * not count); good enough for names, which are mostly ASCII. */
static size_t
width(const char *s)
{
    size_t w = 0;

    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

void
table_print(const struct table *t, FILE *fp)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
    size_t r, c;

    if (w == NULL)
        return;
    for (r = 0; r < t->nrows; r++)
        for (c = 0; c < t->ncols; c++) {
            size_t x = width(t->cells[r * t->ncols + c]);

            if (x > w[c])
                w[c] = x;
        }
    for (r = 0; r < t->nrows; r++) {
        for (c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            size_t pad = w[c] - width(cell), k;
            int last = c + 1 == t->ncols;

            if (t->right != NULL && t->right[c])
                for (k = 0; k < pad; k++)
                    putc(' ', fp);
            fputs(cell, fp);
            if (last)
                break;
            if (t->right == NULL || !t->right[c])
                for (k = 0; k < pad; k++)
                    putc(' ', fp);
            fputs("  ", fp);
        }
        putc('\n', fp);
    }
    free(w);
}

void
table_free(struct table *t)
{
    size_t i;

    for (i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

void
out_hexdump(FILE *fp, const unsigned char *p, size_t n, unsigned long long base)
{
    size_t off, i;
    int squeezing = 0;

    for (off = 0; off < n; off += 16) {
        size_t len = n - off < 16 ? n - off : 16;

        if (off > 0 && len == 16 && memcmp(p + off, p + off - 16, 16) == 0) {
            if (!squeezing)
                fputs("*\n", fp);
            squeezing = 1;
            continue;
        }
        squeezing = 0;
        fprintf(fp, "%08llx ", base + off);
        for (i = 0; i < 16; i++) {
            if (i == 8)
                putc(' ', fp);
            if (i < len)
                fprintf(fp, " %02x", p[off + i]);
            else
                fputs("   ", fp);
        }
        fputs("  |", fp);
        for (i = 0; i < len; i++)
            putc(p[off + i] >= 0x20 && p[off + i] < 0x7f ? p[off + i] : '.', fp);
        fputs("|\n", fp);
    }
    if (n > 0)
        fprintf(fp, "%08llx\n", base + n);
}
