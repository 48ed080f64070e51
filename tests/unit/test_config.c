/* Configuration: defaults, environment, flags, precedence, and every invalid case. */
#include "../../server/config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/* A fake environment for srv_config_load. */
static const char *env_names[8], *env_values[8];
static size_t n_env;

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < n_env; i++)
        if (strcmp(env_names[i], name) == 0)
            return env_values[i];
    return NULL;
}

static void setenv_fake(const char *name, const char *value)
{
    env_names[n_env] = name;
    env_values[n_env++] = value;
}

static void reset(void)
{
    n_env = 0;
}

static struct srv_config c;
static char err[256];

static int load(int argc, char **argv)
{
    err[0] = '\0';
    return srv_config_load(&c, argc, argv, fake_getenv, err, sizeof(err));
}

START_TEST(defaults)
{
    char *argv[] = {"lianxind"};

    ck_assert_int_eq(load(1, argv), 0);
    ck_assert_str_eq(c.command, "serve");
    ck_assert_str_eq(c.listen_host, "127.0.0.1");
    ck_assert_uint_eq(c.listen_port, 8080);
    ck_assert_str_eq(c.db, "dbname=lianxin");
    ck_assert_str_eq(c.data_dir, "var");
    ck_assert_str_eq(c.web_dir, "web");
    ck_assert_str_eq(c.log, "-");
    ck_assert_str_eq(c.origin, "lianxin.local/dev");
    ck_assert_uint_eq(c.max_body, 16u * 1024 * 1024);
    ck_assert_uint_eq(c.block_txs, 5000);
    ck_assert_uint_eq(c.block_ms, 0);
}
END_TEST

START_TEST(environment_then_flags)
{
    char *argv[] = {"lianxind", "--listen", "0.0.0.0:9000", "--max-body=2048", "migrate"};

    setenv_fake("LIANXIN_LISTEN", "127.0.0.1:7000");
    setenv_fake("LIANXIN_DB", "host=/tmp dbname=x");
    setenv_fake("LIANXIN_LOG", "off");
    setenv_fake("LIANXIN_WEB", "/srv/web");
    setenv_fake("LIANXIN_DATA", "/srv/data");
    ck_assert_int_eq(load(5, argv), 0);
    ck_assert_str_eq(c.listen_host, "0.0.0.0"); /* flag beats environment */
    ck_assert_uint_eq(c.listen_port, 9000);
    ck_assert_str_eq(c.db, "host=/tmp dbname=x");
    ck_assert_str_eq(c.log, "off");
    ck_assert_str_eq(c.web_dir, "/srv/web");
    ck_assert_str_eq(c.data_dir, "/srv/data");
    ck_assert_uint_eq(c.max_body, 2048);
    ck_assert_str_eq(c.command, "migrate");
}
END_TEST

START_TEST(localhost_and_port_zero)
{
    char *argv[] = {"lianxind", "--listen", "localhost:0"};

    ck_assert_int_eq(load(3, argv), 0);
    ck_assert_str_eq(c.listen_host, "127.0.0.1");
    ck_assert_uint_eq(c.listen_port, 0);
}
END_TEST

START_TEST(help_and_version)
{
    char *h[] = {"lianxind", "--help"}, *v[] = {"lianxind", "--version"};

    ck_assert_int_eq(load(2, h), 0);
    ck_assert_str_eq(c.command, "help");
    ck_assert_int_eq(load(2, v), 0);
    ck_assert_str_eq(c.command, "version");
}
END_TEST

/* Each invalid value must be refused with a line that names the setting. */
static const struct {
    const char *env, *value, *must_name;
} bad_env[] = {
    {"LIANXIN_LISTEN", "8080", "LIANXIN_LISTEN"},
    {"LIANXIN_LISTEN", "127.0.0.1:", "LIANXIN_LISTEN"},
    {"LIANXIN_LISTEN", "127.0.0.1:65536", "LIANXIN_LISTEN"},
    {"LIANXIN_LISTEN", "127.0.0.1:-1", "LIANXIN_LISTEN"},
    {"LIANXIN_LISTEN", "127.0.0.1:80x", "LIANXIN_LISTEN"},
    {"LIANXIN_LISTEN", "999.1.1.1:80", "LIANXIN_LISTEN"},
    {"LIANXIN_LISTEN", ":80", "LIANXIN_LISTEN"},
    {"LIANXIN_THREADS", "-1", "LIANXIN_THREADS"},
    {"LIANXIN_THREADS", "1000", "LIANXIN_THREADS"},
    {"LIANXIN_THREADS", "two", "LIANXIN_THREADS"},
    {"LIANXIN_THREADS", "", "LIANXIN_THREADS"},
    {"LIANXIN_MAX_BODY", "10", "LIANXIN_MAX_BODY"},
    {"LIANXIN_MAX_BODY", "16M", "LIANXIN_MAX_BODY"},
    {"LIANXIN_MAX_BODY", "99999999999999999999999", "LIANXIN_MAX_BODY"},
    {"LIANXIN_TIMEOUT", "0", "LIANXIN_TIMEOUT"},
    {"LIANXIN_BLOCK_TXS", "0", "LIANXIN_BLOCK_TXS"},
    {"LIANXIN_ORIGIN", "", "LIANXIN_ORIGIN"},
    {"LIANXIN_ORIGIN", "has space", "LIANXIN_ORIGIN"},
    {"LIANXIN_ORIGIN", "a+b", "LIANXIN_ORIGIN"},
};

START_TEST(invalid_environment)
{
    char *argv[] = {"lianxind"};

    reset();
    setenv_fake(bad_env[_i].env, bad_env[_i].value);
    ck_assert_int_ne(load(1, argv), 0);
    ck_assert_msg(strstr(err, bad_env[_i].must_name) != NULL, "'%s' does not name %s", err,
                  bad_env[_i].must_name);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(invalid_flags)
{
    char *unknown[] = {"lianxind", "--nope", "1"};
    char *missing[] = {"lianxind", "--listen"};
    char *cmd[] = {"lianxind", "frobnicate"};
    char *num[] = {"lianxind", "--per-ip-conns=0"};
    char long_db[SRV_PATH_MAX + 10];
    char *toolong[] = {"lianxind", "--db", long_db};

    ck_assert_int_ne(load(3, unknown), 0);
    ck_assert_ptr_nonnull(strstr(err, "--nope"));
    ck_assert_int_ne(load(2, missing), 0);
    ck_assert_ptr_nonnull(strstr(err, "--listen"));
    ck_assert_int_ne(load(2, cmd), 0);
    ck_assert_ptr_nonnull(strstr(err, "frobnicate"));
    ck_assert_int_ne(load(2, num), 0);
    ck_assert_ptr_nonnull(strstr(err, "--per-ip-conns"));
    memset(long_db, 'x', sizeof(long_db) - 1);
    long_db[sizeof(long_db) - 1] = '\0';
    ck_assert_int_ne(load(3, toolong), 0);
    ck_assert_ptr_nonnull(strstr(err, "--db"));
}
END_TEST

START_TEST(usage_lists_every_variable)
{
    char buf[8192] = "";
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
    const char *vars[] = {"LIANXIN_LISTEN", "LIANXIN_DB",     "LIANXIN_DATA", "LIANXIN_WEB",
                          "LIANXIN_LOG",    "127.0.0.1:8080", "16777216"};

    srv_config_usage(f);
    fclose(f);
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        ck_assert_msg(strstr(buf, vars[i]) != NULL, "usage lacks %s", vars[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, reset, NULL);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, environment_then_flags);
    tcase_add_test(tc, localhost_and_port_zero);
    tcase_add_test(tc, help_and_version);
    tcase_add_loop_test(tc, invalid_environment, 0, sizeof(bad_env) / sizeof(bad_env[0]));
    tcase_add_test(tc, invalid_flags);
    tcase_add_test(tc, usage_lists_every_variable);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
