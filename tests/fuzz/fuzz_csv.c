/* fuzz_csv.c — the batch-issuance CSV reader (modules/edu/csv.c) on arbitrary bytes, with the
 * row limit taken from the first byte (so the "too many rows" path is reachable) and the real
 * limit of the server. Properties: on success every row's fields lie in the cell table and are
 * NUL-terminated strings inside the arena, line numbers only grow, and a row without error has as
 * many fields as the header; on failure the struct holds nothing. */
#include "fuzz.h"

#include "../../modules/edu/csv.h"

static void check_parse(const char *buf, size_t len, size_t max_rows)
{
    struct edu_csv c;
    size_t line = 0, prev = 0;
    int rc = edu_csv_parse(buf, len, max_rows, &c, &line);

    FUZZ_ASSERT(rc == EDU_CSV_OK || rc == EDU_CSV_EMPTY || rc == EDU_CSV_TOO_MANY ||
                rc == EDU_CSV_UNCLOSED);
    if (rc != EDU_CSV_OK) {
        FUZZ_ASSERT(c.n_rows == 0 && c.rows == NULL && c.cells == NULL && c.arena == NULL);
        FUZZ_ASSERT(line >= 1);
        return;
    }
    FUZZ_ASSERT(c.n_rows >= 1 && c.n_rows <= max_rows + 1);
    for (size_t i = 0; i < c.n_rows; i++) {
        const struct edu_csv_row *row = &c.rows[i];

        FUZZ_ASSERT(row->line > prev && row->first + row->n <= c.n_cells);
        FUZZ_ASSERT(memchr(row->error, '\0', sizeof row->error) != NULL);
        if (row->error[0] == '\0')
            FUZZ_ASSERT(row->n == c.rows[0].n && row->n <= EDU_CSV_MAX_COLS);
        prev = row->line;
        for (size_t j = 0; j <= row->n; j++) /* one past the end is "" */
            FUZZ_ASSERT(strlen(edu_csv_cell(&c, row, j)) <= EDU_CSV_MAX_CELL || row->error[0]);
    }
    edu_csv_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    check_parse((const char *)data + 1, size - 1, data[0] % 8);
    check_parse((const char *)data, size, 10000);
    return 0;
}
