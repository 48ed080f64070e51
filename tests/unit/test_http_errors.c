/* The error body of DESIGN §3.4, exactly. */
#include "../../server/http.h"

#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

START_TEST(without_detail)
{
    char *b = srv_error_body("not_found", "no such tx", NULL);

    ck_assert_str_eq(b, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such tx\"}}");
    free(b);
}
END_TEST

START_TEST(with_detail)
{
    char *b = srv_error_body("invalid_signature", "signature does not verify", "field sig");

    ck_assert_str_eq(b, "{\"error\":{\"code\":\"invalid_signature\",\"message\":\"signature does "
                        "not verify\",\"detail\":\"field sig\"}}");
    free(b);
}
END_TEST

START_TEST(escapes_hostile_text)
{
    /* A detail quoting client input must stay valid JSON whatever it holds. */
    char *b = srv_error_body("malformed_json", "bad", "\"}\\\n\x01 中文");
    json_error_t e;
    json_t *doc = json_loads(b, 0, &e);

    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "error"), "detail")),
                     "\"}\\\n\x01 中文");
    json_decref(doc);
    free(b);
}
END_TEST

START_TEST(invalid_utf8_detail)
{
    /* Jansson refuses invalid UTF-8; the body must still come out, without the detail. */
    char *b = srv_error_body("malformed_json", "bad", "\xff\xfe");

    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(strstr(b, "\"code\":\"malformed_json\""));
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_errors");
    TCase *tc = tcase_create("body");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, without_detail);
    tcase_add_test(tc, with_detail);
    tcase_add_test(tc, escapes_hostile_text);
    tcase_add_test(tc, invalid_utf8_detail);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
