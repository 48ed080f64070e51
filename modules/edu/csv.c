/* The CSV reader of csv.h: one pass over the bytes, fields unescaped into one arena. */
#include "csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        size_t need;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

static int push_cell(struct edu_csv *c, char *cell)
{
    if (c->n_cells == c->cap_cells) {
        size_t cap = c->cap_cells ? c->cap_cells * 2 : 256;
        char **p = realloc(c->cells, cap * sizeof(*p));

        if (p == NULL)
            return -1;
        c->cells = p;
        c->cap_cells = cap;
    }
    c->cells[c->n_cells++] = cell;
    return 0;
}

static struct edu_csv_row *push_row(struct edu_csv *c)
{
    struct edu_csv_row *r;

    if (c->n_rows == c->cap_rows) {
        size_t cap = c->cap_rows ? c->cap_rows * 2 : 64;
        struct edu_csv_row *p = realloc(c->rows, cap * sizeof(*p));

        if (p == NULL)
            return NULL;
        c->rows = p;
        c->cap_rows = cap;
    }
    r = &c->rows[c->n_rows++];
    memset(r, 0, sizeof(*r));
    return r;
}

static void row_error(struct edu_csv_row *r, const char *msg)
{
    if (r->error[0] == '\0')
        snprintf(r->error, sizeof(r->error), "%s", msg);
}

/* Is buf[pos] the start of a line end? Returns its length (1 or 2), or 0. */
static size_t eol(const char *buf, size_t len, size_t pos)
{
    if (buf[pos] == '\n')
        return 1;
    if (buf[pos] == '\r')
        return pos + 1 < len && buf[pos + 1] == '\n' ? 2 : 1;
    return 0;
}

int edu_csv_parse(const char *buf, size_t len, size_t max_rows, struct edu_csv *out,
                  size_t *err_line)
{
    struct edu_csv c = {0};
    size_t pos = 0, line = 1, w = 0, fail_line = 0;
    int rc = EDU_CSV_OK;

    memset(out, 0, sizeof(*out));
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    c.arena = malloc(2 * len + 2);
    if (c.arena == NULL)
        return EDU_CSV_NOMEM;
    while (pos < len) {
        struct edu_csv_row *r;
        size_t e = eol(buf, len, pos), rec_line = line;
        int more = 1;

        if (e > 0) { /* a blank line */
            pos += e;
            line++;
            continue;
        }
        if (c.n_rows > max_rows) { /* header + max_rows already */
            rc = EDU_CSV_TOO_MANY;
            fail_line = line;
            goto out;
        }
        if ((r = push_row(&c)) == NULL) {
            rc = EDU_CSV_NOMEM;
            goto out;
        }
        r->line = rec_line;
        r->first = c.n_cells;
        while (more) {
            char *cell = c.arena + w;
            size_t start = w;

            if (pos < len && buf[pos] == '"') {
                pos++;
                for (;;) {
                    if (pos >= len) {
                        rc = EDU_CSV_UNCLOSED;
                        fail_line = rec_line;
                        goto out;
                    }
                    if (buf[pos] == '"') {
                        if (pos + 1 < len && buf[pos + 1] == '"') {
                            c.arena[w++] = '"';
                            pos += 2;
                            continue;
                        }
                        pos++;
                        break;
                    }
                    if (buf[pos] == '\n' || (buf[pos] == '\r' && eol(buf, len, pos) == 1))
                        line++;
                    c.arena[w++] = buf[pos++];
                }
                if (pos < len && buf[pos] != ',' && eol(buf, len, pos) == 0) {
                    row_error(r, "text follows a closing quote");
                    while (pos < len && buf[pos] != ',' && eol(buf, len, pos) == 0)
                        pos++;
                }
            } else {
                while (pos < len && buf[pos] != ',' && eol(buf, len, pos) == 0) {
                    if (buf[pos] == '"')
                        row_error(r, "a quote inside an unquoted field (quote the whole field)");
                    c.arena[w++] = buf[pos++];
                }
            }
            if (memchr(cell, '\0', w - start) != NULL)
                row_error(r, "the line contains a NUL byte");
            if (!utf8_valid((const unsigned char *)cell, w - start))
                row_error(r, "the line is not valid UTF-8");
            if (w - start > EDU_CSV_MAX_CELL)
                row_error(r, "a field is longer than 8192 bytes");
            c.arena[w++] = '\0';
            if (push_cell(&c, cell) != 0) {
                rc = EDU_CSV_NOMEM;
                goto out;
            }
            r->n++;
            if (pos < len && buf[pos] == ',') {
                pos++;
                continue; /* a comma at the very end makes one more empty field */
            }
            more = 0;
            if (pos < len) {
                pos += eol(buf, len, pos);
                line++;
            }
        }
        if (r->n > EDU_CSV_MAX_COLS)
            row_error(r, "the line has more than 32 fields");
        if (c.n_rows > 1 && r->n != c.rows[0].n) {
            char msg[96];

            snprintf(msg, sizeof(msg), "the line has %zu fields, the header has %zu", r->n,
                     c.rows[0].n);
            row_error(r, msg);
        }
    }
    if (c.n_rows == 0) {
        rc = EDU_CSV_EMPTY;
        fail_line = 1;
    }
out:
    if (rc != EDU_CSV_OK) {
        edu_csv_free(&c);
        if (err_line != NULL)
            *err_line = fail_line;
        return rc;
    }
    *out = c;
    return EDU_CSV_OK;
}

const char *edu_csv_cell(const struct edu_csv *csv, const struct edu_csv_row *r, size_t i)
{
    return i < r->n ? csv->cells[r->first + i] : "";
}

void edu_csv_free(struct edu_csv *csv)
{
    free(csv->arena);
    free(csv->cells);
    free(csv->rows);
    memset(csv, 0, sizeof(*csv));
}
