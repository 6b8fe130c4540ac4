/* dialect and util: the per-database differences and the small helpers
 * the data layer relies on. */
#include "data/dialect.h"
#include "core/util.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(schema_names)
{
    char s[36];
    ck_assert_int_eq(dialect_schema_name("123E4567-E89B-12D3-A456-426614174000", s), 0);
    ck_assert_str_eq(s, "ws_123e4567e89b12d3a456426614174000");
    ck_assert(dialect_schema_name_valid(s));
    ck_assert(!dialect_schema_name_valid("ws_123e4567e89b12d3a45642661417400"));
    ck_assert(!dialect_schema_name_valid("ws_123e4567e89b12d3a45642661417400G"));
    ck_assert(!dialect_schema_name_valid("ws_x; DROP TABLE x--xxxxxxxxxxxxxxx"));
    ck_assert_int_eq(dialect_schema_name("not-a-guid", s), -1);
}
END_TEST

START_TEST(workspace_tables)
{
    char t[128];
    const char *s = "ws_123e4567e89b12d3a456426614174000";
    ck_assert_int_eq(dialect_ws_table(DB_SQLSERVER, s, "workspace_integrations", t, sizeof(t)), 0);
    ck_assert_str_eq(t, "ws_123e4567e89b12d3a456426614174000.workspace_integrations");
    ck_assert_int_eq(dialect_ws_table(DB_POSTGRES, s, "file_artifacts", t, sizeof(t)), 0);
    ck_assert_str_eq(t, "ws_123e4567e89b12d3a456426614174000.file_artifacts");
    ck_assert_int_eq(dialect_ws_table(DB_SQLITE, s, "workspace_integrations", t, sizeof(t)), 0);
    /* SQLite: one shared set whatever the (logical) schema */
    ck_assert_str_eq(t, "pmassist_master.ws__workspace_integrations");
    ck_assert_int_eq(dialect_ws_table(DB_SQLITE, "ws_00000000000000000000000000000001",
                                      "workspace_integrations", t, sizeof(t)),
                     0);
    ck_assert_str_eq(t, "pmassist_master.ws__workspace_integrations");
    ck_assert_int_eq(dialect_ws_table(DB_SQLITE, "ws", "workspace_integrations", t, sizeof(t)), -1);
    ck_assert_str_eq(dialect_ws_shared(DB_SQLITE), "ws");
    ck_assert_ptr_null(dialect_ws_shared(DB_POSTGRES));
    ck_assert_ptr_null(dialect_ws_shared(DB_SQLSERVER));
    ck_assert_int_eq(dialect_ws_table(DB_POSTGRES, "public", "x", t, sizeof(t)), -1);
    ck_assert_int_eq(dialect_ws_table(DB_POSTGRES, s, "x;--", t, sizeof(t)), -1);
    ck_assert_int_eq(dialect_ws_table(DB_POSTGRES, s, "workspace_integrations", t, 20), -1);
}
END_TEST

START_TEST(pagination_clauses)
{
    long long args[2];
    const char *q = dialect_page_sql(DB_SQLSERVER, 10, 30, args);
    ck_assert_str_eq(q, " OFFSET ? ROWS FETCH NEXT ? ROWS ONLY");
    ck_assert_int_eq(args[0], 30);
    ck_assert_int_eq(args[1], 10);
    q = dialect_page_sql(DB_SQLITE, 10, 30, args);
    ck_assert_str_eq(q, " LIMIT ? OFFSET ?");
    ck_assert_int_eq(args[0], 10);
    ck_assert_int_eq(args[1], 30);
}
END_TEST

START_TEST(connection_strings)
{
    struct config c;
    char buf[1024];
    memset(&c, 0, sizeof(c));
    c.db_type = DB_SQLSERVER;
    c.db_server = "sql.example";
    c.db_port = 1433;
    c.db_name = "pm";
    c.db_user = "svc";
    c.db_password = "p;w}d";
    c.db_driver = "";
    c.db_dsn = "";
    ck_assert_int_eq(dialect_connstr(&c, buf, sizeof(buf)), 0);
    ck_assert_ptr_nonnull(strstr(buf, "libtdsodbc.so;"));
    ck_assert_ptr_nonnull(strstr(buf, "Port=1433;"));
    ck_assert_ptr_nonnull(strstr(buf, "TDS_Version=7.4;"));
    ck_assert_ptr_nonnull(strstr(buf, "ClientCharset=UTF-8;"));
    ck_assert_ptr_nonnull(strstr(buf, "PWD={p;w}}d};"));
    c.db_type = DB_POSTGRES;
    c.db_port = 5432;
    ck_assert_int_eq(dialect_connstr(&c, buf, sizeof(buf)), 0);
    ck_assert_ptr_nonnull(strstr(buf, "psqlodbcw.so;"));
    ck_assert_ptr_nonnull(strstr(buf, "Port=5432;"));
    /* no psqlodbc_*.log per connection, whatever odbcinst.ini says */
    ck_assert_ptr_nonnull(strstr(buf, ";CommLog=0;Debug=0;"));
    c.db_dsn = "DSN=custom";
    ck_assert_int_eq(dialect_connstr(&c, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "DSN=custom");
    ck_assert_int_eq(dialect_connstr(&c, buf, 4), -1);
}
END_TEST

START_TEST(error_classes)
{
    ck_assert_int_eq(dialect_classify(DB_POSTGRES, "08001", 0, "x"), DBE_CONNECTION);
    ck_assert_int_eq(dialect_classify(DB_SQLSERVER, "08S01", 0, "x"), DBE_CONNECTION);
    ck_assert_int_eq(dialect_classify(DB_POSTGRES, "23505", 0, "dup"), DBE_CONFLICT);
    ck_assert_int_eq(dialect_classify(DB_SQLSERVER, "23000", 2627, "dup"), DBE_CONFLICT);
    ck_assert_int_eq(dialect_classify(DB_SQLITE, "HY000", 19, "UNIQUE constraint failed: x"),
                     DBE_CONFLICT);
    ck_assert_int_eq(dialect_classify(DB_POSTGRES, "HY000", 0,
                                      "server closed the connection "
                                      "unexpectedly"),
                     DBE_CONNECTION);
    ck_assert_int_eq(dialect_classify(DB_POSTGRES, "42P01", 0, "no such table"), DBE_OTHER);
}
END_TEST

START_TEST(util_helpers)
{
    char g[GUID_LEN + 1], n[GUID_LEN + 1];
    ck_assert_int_eq(guid_new(g), 0);
    ck_assert_int_eq(guid_normalize(g, n), 0);
    ck_assert_str_eq(g, n);
    ck_assert_int_eq(g[14], '4');
    ck_assert_int_eq(guid_normalize("123e4567-e89b-12d3-a456-42661417400", n), -1);
    char ts[25];
    iso8601_ms(1795338902123LL, ts);
    ck_assert_str_eq(ts, "2026-11-22T09:15:02.123Z");
    ck_assert(iso8601_parse_ms(ts) == 1795338902123LL);
    ck_assert(iso8601_parse_ms("2026-11-22T09:15:02Z") == 1795338902000LL);
    ck_assert(iso8601_parse_ms("2026-11-22T09:15:02.1Z") == 1795338902100LL);
    ck_assert(iso8601_parse_ms(NULL) == -1);
    ck_assert(iso8601_parse_ms("yesterday") == -1);
    ck_assert(ct_equal("abc", 3, "abc", 3));
    ck_assert(!ct_equal("abc", 3, "abd", 3));
    ck_assert(!ct_equal("abc", 3, "abcd", 4));
    ck_assert(email_valid("a.b+c@example.co"));
    ck_assert(!email_valid("no-at.example.com"));
    ck_assert(!email_valid("a@b"));
    ck_assert(!email_valid("a b@example.com"));
    ck_assert(!email_valid("a@@example.com"));
    ck_assert_int_eq(utf8_len("J\xc3\xbcrgen"), 6);
    ck_assert_int_eq(utf8_len("\xff"), -1);
    size_t len;
    unsigned char *d = b64url_decode("aGVsbG8", 7, &len);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq((int)len, 5);
    ck_assert(memcmp(d, "hello", 5) == 0);
    free(d);
    ck_assert_ptr_null(b64url_decode("a", 1, &len));
    ck_assert_ptr_null(b64url_decode("a+b/", 4, &len));
    char *e = b64_encode((const unsigned char *)":pat", 4);
    ck_assert_str_eq(e, "OnBhdA==");
    free(e);
}
END_TEST

START_TEST(like_patterns)
{
    char p[64];
    ck_assert_int_eq(dialect_like_contains(DB_POSTGRES, "A%b_c!d[", p, sizeof(p)), 0);
    ck_assert_str_eq(p, "%a!%b!_c!!d![%");
    ck_assert_int_eq(dialect_like_contains(DB_SQLITE, "x", p, sizeof(p)), 0);
    ck_assert_str_eq(p, "%x%");
    ck_assert_int_eq(dialect_like_contains(DB_SQLSERVER, "A%b_c!d[", p, sizeof(p)), 0);
    ck_assert_str_eq(p, "%a[%]b[_]c!d[[]%");
    ck_assert_str_eq(dialect_like_escape(DB_POSTGRES), " ESCAPE '!'");
    ck_assert_str_eq(dialect_like_escape(DB_SQLSERVER), "");
    ck_assert_int_eq(dialect_like_contains(DB_SQLSERVER, "%%%", p, 10), -1);
    ck_assert_int_eq(dialect_like_contains(DB_SQLSERVER, "%%%", p, 12), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dialect");
    TCase *tc = tcase_create("dialect");
    tcase_add_test(tc, schema_names);
    tcase_add_test(tc, workspace_tables);
    tcase_add_test(tc, pagination_clauses);
    tcase_add_test(tc, connection_strings);
    tcase_add_test(tc, error_classes);
    tcase_add_test(tc, util_helpers);
    tcase_add_test(tc, like_patterns);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
