/*
 * A strict, small CSV reader (RFC 4180 with the usual tolerances) for batch issuance: UTF-8 with
 * or without a BOM, LF or CRLF line ends, quoted fields with "" for a quote and line breaks
 * inside, blank lines skipped. Every record keeps the physical line it starts on, so that every
 * problem can be reported as "line N". Pure: no I/O, no database.
 */
#ifndef LX_MODULES_EDU_CSV_H
#define LX_MODULES_EDU_CSV_H

#include <stddef.h>

#define EDU_CSV_MAX_CELL 8192 /* bytes in one field */
#define EDU_CSV_MAX_COLS 32   /* fields in one record */

/* Results of edu_csv_parse. */
enum edu_csv_result {
    EDU_CSV_OK = 0,
    EDU_CSV_EMPTY = -1,    /* no header row */
    EDU_CSV_TOO_MANY = -2, /* more data rows than allowed */
    EDU_CSV_UNCLOSED = -3, /* a quoted field runs to the end of the file */
    EDU_CSV_NOMEM = -4,    /* out of memory */
};

/* One record. rows[0] of a parse is the header. */
struct edu_csv_row {
    size_t line;     /* physical line (1-based) on which the record starts */
    size_t first;    /* index of its first field in edu_csv.cells */
    size_t n;        /* number of fields */
    char error[128]; /* "" when usable, else why not (a short lowercase sentence) */
};

struct edu_csv {
    char *arena;  /* the unescaped fields, NUL-terminated (owned) */
    char **cells; /* every field of every row, in order, into arena (owned array) */
    size_t n_cells, cap_cells;
    struct edu_csv_row *rows; /* header first, then the data rows (owned array) */
    size_t n_rows, cap_rows;
};

/* Parses buf[0..len). Blank lines are skipped; at most max_rows data rows may follow the
 * header. A record with bad UTF-8, a NUL byte, text after a closing quote, a field over
 * EDU_CSV_MAX_CELL bytes, more than EDU_CSV_MAX_COLS fields, or another number of fields than
 * the header gets row->error set and is still returned (so every bad line can be reported). On
 * EDU_CSV_OK *out is filled (free with edu_csv_free); on the other results *out is empty and
 * *err_line (may be NULL) names the line where it went wrong (for EDU_CSV_TOO_MANY the line of
 * the first row too many). Borrows buf. */
int edu_csv_parse(const char *buf, size_t len, size_t max_rows, struct edu_csv *out,
                  size_t *err_line) __attribute__((warn_unused_result));

/* Field i of row r (borrowed from csv), or "" when the row has fewer fields. */
const char *edu_csv_cell(const struct edu_csv *csv, const struct edu_csv_row *r, size_t i);

/* Frees what a parse made; the struct may be parsed into again. */
void edu_csv_free(struct edu_csv *csv);

#endif
