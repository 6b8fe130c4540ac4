/* config: defaults, .env parsing, environment precedence, and one clear
 * line naming the variable for every bad value. */
#include "core/config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void write_env(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/wsms-cfg-%d.env", (int)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void clear_env(void)
{
    static const char *vars[] = {"PMA_TOKEN_SECRET",
                                 "AZURE_TENANT_ID",
                                 "AZURE_AUDIENCE",
                                 "AZURE_CLIENT_ID",
                                 "DB_TYPE",
                                 "DB_PORT",
                                 "LOG_LEVEL",
                                 "MAX_BODY_BYTES",
                                 "DB_SERVER",
                                 "WSMS_ENV_FILE",
                                 NULL};
    for (int i = 0; vars[i]; i++)
        unsetenv(vars[i]);
}

#define GOOD "PMA_TOKEN_SECRET=0123456789abcdef0123456789abcdef\nAZURE_TENANT_ID=t\n"

START_TEST(defaults)
{
    char err[256];
    clear_env();
    write_env(GOOD "AZURE_CLIENT_ID=cid\n");
    ck_assert_int_eq(config_load(CONFIG_SERVE, path, err, sizeof(err)), 0);
    const struct config *c = config_get();
    ck_assert_int_eq(c->db_type, DB_SQLITE);
    ck_assert_int_eq(c->max_body_bytes, 1048576);
    ck_assert_int_eq(c->azure_clock_skew_s, 60);
    ck_assert_int_eq(c->azure_jwks_min_refresh_s, 300);
    ck_assert_int_eq(c->pma_token_expiry_hours, 24);
    ck_assert_int_eq(c->integration_timeout_s, 10);
    ck_assert_str_eq(c->azure_audience, "cid"); /* falls back to the client id */
    ck_assert_str_eq(c->graph_base_url, "https://graph.microsoft.com");
    ck_assert_int_eq(c->db_port, 1433);
    config_free();
    unlink(path);
}
END_TEST

START_TEST(env_file_syntax_and_precedence)
{
    char err[256];
    clear_env();
    write_env("# comment\n\nexport " GOOD "AZURE_AUDIENCE='api://x'\nDB_TYPE=postgres\n"
              "DB_SERVER=\"db.local\"\nLOG_LEVEL=debug # inline\nDB_PASSWORD=p#w\n");
    setenv("DB_SERVER", "from-env", 1);
    ck_assert_int_eq(config_load(CONFIG_SERVE, path, err, sizeof(err)), 0);
    const struct config *c = config_get();
    ck_assert_str_eq(c->azure_audience, "api://x");
    ck_assert_int_eq(c->db_type, DB_POSTGRES);
    ck_assert_int_eq(c->db_port, 5432);
    ck_assert_str_eq(c->db_server, "from-env");
    ck_assert_str_eq(c->db_password, "p#w");
    config_free();
    unsetenv("DB_SERVER");
    unlink(path);
}
END_TEST

static void expect_error(const char *text, const char *name)
{
    char err[256] = "";
    clear_env();
    write_env(text);
    ck_assert_int_eq(config_load(CONFIG_SERVE, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, name) != NULL, "error '%s' does not name %s", err, name);
    ck_assert_ptr_null(strchr(err, '\n'));
    config_free();
    unlink(path);
}

START_TEST(bad_values_name_the_variable)
{
    expect_error(GOOD "AZURE_AUDIENCE=a\nDB_TYPE=oracle\n", "DB_TYPE");
    expect_error(GOOD "AZURE_AUDIENCE=a\nDB_PORT=70000\n", "DB_PORT");
    expect_error(GOOD "AZURE_AUDIENCE=a\nMAX_BODY_BYTES=lots\n", "MAX_BODY_BYTES");
    expect_error(GOOD "AZURE_AUDIENCE=a\nLOG_LEVEL=LOUD\n", "LOG_LEVEL");
    expect_error(GOOD "AZURE_AUDIENCE=a\nAZURE_ACCEPT_V1_TOKENS=maybe\n", "AZURE_ACCEPT_V1_TOKENS");
    expect_error(GOOD "AZURE_AUDIENCE=a\nJIRA_BASE_URL=ftp://x\n", "JIRA_BASE_URL");
    expect_error("PMA_TOKEN_SECRET=short\nAZURE_TENANT_ID=t\nAZURE_AUDIENCE=a\n",
                 "PMA_TOKEN_SECRET");
    expect_error(GOOD, "AZURE_AUDIENCE");
    expect_error(GOOD "AZURE_AUDIENCE=a\nthis is not a pair\n", "line 4");
    expect_error(GOOD "AZURE_AUDIENCE=a\nDB_TYPE=postgres\nDB_SERVER=\n", "DB_SERVER");
}
END_TEST

START_TEST(migrate_mode_needs_no_secrets)
{
    char err[256];
    clear_env();
    write_env("DB_TYPE=sqlite\n");
    ck_assert_int_eq(config_load(CONFIG_MIGRATE, path, err, sizeof(err)), 0);
    config_free();
    unlink(path);
}
END_TEST

static int count_cb(const char *k, const char *v, void *ud)
{
    (void)k;
    (void)v;
    (*(int *)ud)++;
    return 0;
}

START_TEST(parser_rejects_nul_and_unterminated_quotes)
{
    int n = 0, bad = 0;
    const char nul[] = "A=1\nB=\0x\n";
    ck_assert_int_eq(config_parse_env_text(nul, sizeof(nul) - 1, count_cb, &n, &bad), -1);
    ck_assert_int_eq(bad, 2);
    n = 0;
    ck_assert_int_eq(config_parse_env_text("A=\"x\n", 5, count_cb, &n, &bad), -1);
    n = 0;
    ck_assert_int_eq(config_parse_env_text("A=1\r\nB=2", 8, count_cb, &n, &bad), 0);
    ck_assert_int_eq(n, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, env_file_syntax_and_precedence);
    tcase_add_test(tc, bad_values_name_the_variable);
    tcase_add_test(tc, migrate_mode_needs_no_secrets);
    tcase_add_test(tc, parser_rejects_nul_and_unterminated_quotes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
