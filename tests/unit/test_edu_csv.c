/* test_edu_csv.c — the CSV reader of batch issuance (modules/edu/csv.c): quotes, BOM, CRLF, bad
 * UTF-8, wrong field counts, the 10,000-row limit, and the line numbers every error names. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../modules/edu/csv.h"

static int parse(const char *text, size_t max, struct edu_csv *c, size_t *line)
{
    return edu_csv_parse(text, strlen(text), max, c, line);
}

START_TEST(simple_lf_and_crlf)
{
    static const char *const texts[] = {"kind,name\ndiploma,Li Lei\ndegree,Han Meimei\n",
                                        "kind,name\r\ndiploma,Li Lei\r\ndegree,Han Meimei\r\n",
                                        "kind,name\r\ndiploma,Li Lei\r\ndegree,Han Meimei"};

    for (size_t t = 0; t < 3; t++) {
        struct edu_csv c;
        size_t line = 0;

        ck_assert_int_eq(parse(texts[t], 10, &c, &line), EDU_CSV_OK);
        ck_assert_uint_eq(c.n_rows, 3);
        ck_assert_str_eq(edu_csv_cell(&c, &c.rows[0], 0), "kind");
        ck_assert_str_eq(edu_csv_cell(&c, &c.rows[0], 1), "name");
        ck_assert_str_eq(edu_csv_cell(&c, &c.rows[2], 1), "Han Meimei");
        ck_assert_uint_eq(c.rows[2].line, 3);
        ck_assert_str_eq(c.rows[1].error, "");
        ck_assert_str_eq(edu_csv_cell(&c, &c.rows[1], 7), ""); /* past the end */
        edu_csv_free(&c);
    }
}
END_TEST

START_TEST(bom_is_skipped)
{
    struct edu_csv c;

    ck_assert_int_eq(
        parse("\xef\xbb\xbfkind,name\ndiploma,\xe6\x9d\x8e\xe9\x9b\xb7\n", 10, &c, NULL),
        EDU_CSV_OK);
    ck_assert_str_eq(edu_csv_cell(&c, &c.rows[0], 0), "kind");
    ck_assert_str_eq(edu_csv_cell(&c, &c.rows[1], 1), "\xe6\x9d\x8e\xe9\x9b\xb7");
    edu_csv_free(&c);
}
END_TEST

START_TEST(quotes)
{
    struct edu_csv c;
    const char *text = "a,b,c\n"
                       "\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n"
                       "\"\",plain,\"\"\"\"\n"
                       "last,row,here\n";

    ck_assert_int_eq(parse(text, 10, &c, NULL), EDU_CSV_OK);
    ck_assert_uint_eq(c.n_rows, 4);
    ck_assert_str_eq(edu_csv_cell(&c, &c.rows[1], 0), "x, y");
    ck_assert_str_eq(edu_csv_cell(&c, &c.rows[1], 1), "say \"hi\"");
    ck_assert_str_eq(edu_csv_cell(&c, &c.rows[1], 2), "two\nlines");
    ck_assert_uint_eq(c.rows[1].line, 2);
    ck_assert_str_eq(edu_csv_cell(&c, &c.rows[2], 0), "");
    ck_assert_str_eq(edu_csv_cell(&c, &c.rows[2], 2), "\"");
    ck_assert_uint_eq(c.rows[2].line, 4); /* the quoted line break counted */
    ck_assert_uint_eq(c.rows[3].line, 5);
    for (size_t i = 0; i < c.n_rows; i++)
        ck_assert_str_eq(c.rows[i].error, "");
    edu_csv_free(&c);
}
END_TEST

START_TEST(quote_errors)
{
    struct edu_csv c;
    size_t line = 0;

    ck_assert_int_eq(parse("a,b\n\"x\"y,z\nab\"c,d\n", 10, &c, NULL), EDU_CSV_OK);
    ck_assert_str_eq(c.rows[1].error, "text follows a closing quote");
    ck_assert_ptr_nonnull(strstr(c.rows[2].error, "quote inside an unquoted field"));
    edu_csv_free(&c);
    ck_assert_int_eq(parse("a,b\nx,y\n1,\"never closed\n2,3\n", 10, &c, &line), EDU_CSV_UNCLOSED);
    ck_assert_uint_eq(line, 3);
    ck_assert_ptr_null(c.rows);
}
END_TEST

START_TEST(bad_utf8_flags_the_line)
{
    struct edu_csv c;

    /* line 3: GBK bytes; line 4: an overlong '/'; line 5: a UTF-16 surrogate */
    ck_assert_int_eq(
        parse("a,b\nok,fine\nx,\xc0\xee\xc0\xd7\ny,\xc0\xaf\nz,\xed\xa0\x80\nw,ok\n", 10, &c, NULL),
        EDU_CSV_OK);
    ck_assert_uint_eq(c.n_rows, 6);
    ck_assert_str_eq(c.rows[1].error, "");
    ck_assert_str_eq(c.rows[2].error, "the line is not valid UTF-8");
    ck_assert_uint_eq(c.rows[2].line, 3);
    ck_assert_str_eq(c.rows[3].error, "the line is not valid UTF-8");
    ck_assert_str_eq(c.rows[4].error, "the line is not valid UTF-8");
    ck_assert_str_eq(c.rows[5].error, "");
    edu_csv_free(&c);
}
END_TEST

START_TEST(wrong_field_count)
{
    struct edu_csv c;

    ck_assert_int_eq(parse("a,b,c\n1,2,3\n1,2\n1,2,3,4\n1,2,\n", 10, &c, NULL), EDU_CSV_OK);
    ck_assert_str_eq(c.rows[1].error, "");
    ck_assert_str_eq(c.rows[2].error, "the line has 2 fields, the header has 3");
    ck_assert_uint_eq(c.rows[2].line, 3);
    ck_assert_str_eq(c.rows[3].error, "the line has 4 fields, the header has 3");
    ck_assert_str_eq(c.rows[4].error, ""); /* a trailing comma is an empty third field */
    ck_assert_str_eq(edu_csv_cell(&c, &c.rows[4], 2), "");
    edu_csv_free(&c);
}
END_TEST

START_TEST(blank_lines_nul_and_empty)
{
    struct edu_csv c;
    size_t line = 0;
    static const char with_nul[] = "a,b\nx,y\0z\n";

    ck_assert_int_eq(parse("\n\na,b\n\n1,2\r\n\r\n3,4\n\n", 10, &c, NULL), EDU_CSV_OK);
    ck_assert_uint_eq(c.n_rows, 3);
    ck_assert_uint_eq(c.rows[0].line, 3);
    ck_assert_uint_eq(c.rows[1].line, 5);
    ck_assert_uint_eq(c.rows[2].line, 7);
    edu_csv_free(&c);
    ck_assert_int_eq(edu_csv_parse(with_nul, sizeof(with_nul) - 1, 10, &c, NULL), EDU_CSV_OK);
    ck_assert_str_eq(c.rows[1].error, "the line contains a NUL byte");
    edu_csv_free(&c);
    ck_assert_int_eq(parse("", 10, &c, &line), EDU_CSV_EMPTY);
    ck_assert_int_eq(parse("\xef\xbb\xbf\r\n\n", 10, &c, &line), EDU_CSV_EMPTY);
}
END_TEST

START_TEST(long_field_and_many_columns)
{
    struct edu_csv c;
    char *text = malloc(EDU_CSV_MAX_CELL + 64);
    size_t n = 0;

    n += (size_t)sprintf(text, "a\n");
    memset(text + n, 'x', EDU_CSV_MAX_CELL + 1);
    n += EDU_CSV_MAX_CELL + 1;
    text[n++] = '\n';
    ck_assert_int_eq(edu_csv_parse(text, n, 10, &c, NULL), EDU_CSV_OK);
    ck_assert_str_eq(c.rows[1].error, "a field is longer than 8192 bytes");
    edu_csv_free(&c);
    free(text);
    ck_assert_int_eq(parse(",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n", 10, &c, NULL), EDU_CSV_OK);
    ck_assert_uint_eq(c.rows[0].n, 34);
    ck_assert_str_eq(c.rows[0].error, "the line has more than 32 fields");
    edu_csv_free(&c);
}
END_TEST

/* 10,000 data rows are accepted; 10,001 are refused, naming the first line too many. */
START_TEST(row_limit)
{
    size_t cap = 32 + 10001 * 24, n = 0, line = 0;
    char *text = malloc(cap);
    struct edu_csv c;

    n += (size_t)snprintf(text, cap, "kind,name,student_number\n");
    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(text + n, cap - n, "diploma,S%d,%d\n", i, i);
    ck_assert_int_eq(edu_csv_parse(text, n, 10000, &c, &line), EDU_CSV_OK);
    ck_assert_uint_eq(c.n_rows, 10001);
    ck_assert_uint_eq(c.rows[10000].line, 10001);
    ck_assert_str_eq(edu_csv_cell(&c, &c.rows[10000], 1), "S9999");
    edu_csv_free(&c);
    n += (size_t)snprintf(text + n, cap - n, "diploma,S10000,10000\n");
    ck_assert_int_eq(edu_csv_parse(text, n, 10000, &c, &line), EDU_CSV_TOO_MANY);
    ck_assert_uint_eq(line, 10002);
    ck_assert_ptr_null(c.rows);
    free(text);
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("edu_csv");
    TCase *tc = tcase_create("csv");

    tcase_add_test(tc, simple_lf_and_crlf);
    tcase_add_test(tc, bom_is_skipped);
    tcase_add_test(tc, quotes);
    tcase_add_test(tc, quote_errors);
    tcase_add_test(tc, bad_utf8_flags_the_line);
    tcase_add_test(tc, wrong_field_count);
    tcase_add_test(tc, blank_lines_nul_and_empty);
    tcase_add_test(tc, long_field_and_many_columns);
    tcase_add_test(tc, row_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(csv_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
