/* The pure parts of the audit log: the row hash exactly as docs/OPERATIONS.md states it, and
 * CSV cells (RFC 4180 quoting, formulas defused). */
#include "../../server/auditlog.h"

#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static struct srv_auditlog_row sample(void)
{
    struct srv_auditlog_row row;

    memset(&row, 0, sizeof(row));
    row.id = 7;
    row.at_ms = 1795000000123;
    snprintf(row.username, sizeof(row.username), "张三");
    snprintf(row.org, sizeof(row.org), "pku");
    snprintf(row.role, sizeof(row.role), "issuer");
    snprintf(row.method, sizeof(row.method), "POST");
    snprintf(row.route, sizeof(row.route), "/api/edu/:id");
    snprintf(row.target, sizeof(row.target), "/api/edu/x%%22y");
    row.status = 201;
    snprintf(row.tx_id, sizeof(row.tx_id), "%064d", 0);
    snprintf(row.client, sizeof(row.client), "127.0.0.1");
    memset(row.prev_hash, 0xab, sizeof(row.prev_hash));
    return row;
}

START_TEST(row_hash_is_sha256_of_prev_and_jcs)
{
    static const char jcs[] =
        "{\"at_ms\":1795000000123,\"client\":\"127.0.0.1\",\"id\":7,\"method\":\"POST\","
        "\"org\":\"pku\",\"role\":\"issuer\",\"route\":\"/api/edu/:id\",\"status\":201,"
        "\"target\":\"/api/edu/x%22y\",\"tx_id\":"
        "\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"username\":\"张三\"}";
    struct srv_auditlog_row row = sample();
    unsigned char buf[32 + sizeof(jcs)], want[32];

    memcpy(buf, row.prev_hash, 32);
    memcpy(buf + 32, jcs, sizeof(jcs) - 1);
    crypto_hash_sha256(want, buf, 32 + sizeof(jcs) - 1);
    ck_assert_int_eq(srv_auditlog_row_hash(&row), 0);
    ck_assert_mem_eq(row.hash, want, 32);
}
END_TEST

START_TEST(row_hash_covers_every_field)
{
    struct srv_auditlog_row a = sample(), b;
    uint8_t h[32];

    ck_assert_int_eq(srv_auditlog_row_hash(&a), 0);
    memcpy(h, a.hash, 32);
    for (int f = 0; f < 12; f++) {
        b = sample();
        switch (f) {
        case 0:
            b.id++;
            break;
        case 1:
            b.at_ms++;
            break;
        case 2:
            snprintf(b.username, sizeof(b.username), "李四");
            break;
        case 3:
            b.org[0] = 'x';
            break;
        case 4:
            b.role[0] = 'x';
            break;
        case 5:
            b.method[0] = 'x';
            break;
        case 6:
            b.route[1] = 'x';
            break;
        case 7:
            b.target[1] = 'x';
            break;
        case 8:
            b.status++;
            break;
        case 9:
            b.tx_id[0] = '1';
            break;
        case 10:
            b.client[0] = '2';
            break;
        default:
            b.prev_hash[31] ^= 1;
            break;
        }
        ck_assert_int_eq(srv_auditlog_row_hash(&b), 0);
        ck_assert_msg(memcmp(b.hash, h, 32) != 0, "field %d is not covered", f);
    }
}
END_TEST

START_TEST(row_hash_refuses_bad_utf8)
{
    struct srv_auditlog_row row = sample();

    snprintf(row.username, sizeof(row.username), "a\xff");
    ck_assert_int_eq(srv_auditlog_row_hash(&row), -1);
}
END_TEST

static const char *cell(const char *in)
{
    static char out[256];

    ck_assert_uint_lt(srv_csv_cell(in, out, sizeof(out)), sizeof(out));
    return out;
}

START_TEST(csv_cells)
{
    char small[4];

    ck_assert_str_eq(cell("plain"), "plain");
    ck_assert_str_eq(cell(""), "");
    ck_assert_str_eq(cell("a,b"), "\"a,b\"");
    ck_assert_str_eq(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    ck_assert_str_eq(cell("two\r\nlines"), "\"two\r\nlines\"");
    ck_assert_str_eq(cell("中文"), "中文");
    /* formulas become text */
    ck_assert_str_eq(cell("=1+2"), "'=1+2");
    ck_assert_str_eq(cell("+1"), "'+1");
    ck_assert_str_eq(cell("-1"), "'-1");
    ck_assert_str_eq(cell("@SUM(A1)"), "'@SUM(A1)");
    ck_assert_str_eq(cell("\tx"), "'\tx");
    ck_assert_str_eq(cell("=HYPERLINK(\"http://x\",\"y\")"),
                     "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    ck_assert_str_eq(cell("a=b"), "a=b");
    /* too small: the size needed, nothing promised in out */
    ck_assert_uint_eq(srv_csv_cell("a,b", small, sizeof(small)), 5);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auditlog");
    TCase *tc = tcase_create("pure");
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    tcase_add_test(tc, row_hash_is_sha256_of_prev_and_jcs);
    tcase_add_test(tc, row_hash_covers_every_field);
    tcase_add_test(tc, row_hash_refuses_bad_utf8);
    tcase_add_test(tc, csv_cells);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
