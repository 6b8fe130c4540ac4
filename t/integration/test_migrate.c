/* `wsmsd migrate` on a database of its own (a fresh SQLite folder, a
 * PostgreSQL database, a SQL Server database created for the test and
 * dropped again), on every database of the run: a failure injected half-way
 * through a file (WSMS_TEST_MIGRATE_FAIL) leaves the database as it was
 * before that file; then migrate applies it, a second run is a no-op, and a
 * database at a newer version is refused and left untouched. The stored
 * state is read through one helper per dialect (sqlite3, psql, tsql). */
#include "client.h"

#include <check.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_pg(void)
{
    return strcmp(tc_db_type(), "postgres") == 0;
}

static bool is_mssql(void)
{
    return strcmp(tc_db_type(), "sqlserver") == 0;
}

static const char *env_or(const char *k, const char *dflt)
{
    const char *v = getenv(k);
    return v ? v : dflt;
}

/* The test's own database: a name (PostgreSQL, SQL Server) or folder. */
static void own_db(char *buf, size_t n)
{
    if (is_pg() || is_mssql())
        snprintf(buf, n, "%s_migtest", env_or("DB_NAME", "wsms"));
    else
        snprintf(buf, n, "%s/migtest-sqlite", env_or("WSMS_TMP", "/tmp"));
}

/* Runs sql through the dialect's command line client against database db
 * ("" = the test's own); the first line of output into out. Returns the
 * client's exit status (0 = success). */
static int sql_client(const char *db, const char *sql, char *out, size_t n)
{
    char file[512], cmd[2048], own[256];
    own_db(own, sizeof(own));
    if (!*db)
        db = own;
    snprintf(file, sizeof(file), "%s/migtest.sql", env_or("WSMS_TMP", "/tmp"));
    FILE *f = fopen(file, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%s;\n", sql) > 0;
    if (fclose(f) != 0 || !ok)
        return -1;
    if (is_pg())
        snprintf(cmd, sizeof(cmd),
                 "psql -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U postgres -d %s -f %s "
                 "2>&1",
                 env_or("WSMS_PG_PORT", "5432"), db, file);
    else if (is_mssql())
        snprintf(cmd, sizeof(cmd), "TSQL_DB=%s sh t/lib/tsql.sh query %s %s 2>&1", db,
                 env_or("WSMS_TSQL_DIR", "."), file);
    else
        snprintf(cmd, sizeof(cmd), "sqlite3 -batch -bail %s/pmassist_master.db < %s 2>&1", db,
                 file);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    out[0] = '\0';
    if (!fgets(out, (int)n, p))
        out[0] = '\0';
    char rest[256];
    while (fgets(rest, sizeof(rest), p))
        ;
    return pclose(p);
}

/* A count from the test's own database, or -1. */
static long own_count(const char *sql)
{
    char line[512], *end;
    if (sql_client("", sql, line, sizeof(line)) != 0) {
        fprintf(stderr, "migrate: query failed: %s -> %s", sql, line);
        return -1;
    }
    long v = strtol(line, &end, 10);
    return end == line ? -1 : v;
}

/* Tables of the master schema (and the schema itself) in the own database. */
static long master_objects(void)
{
    if (is_mssql())
        return own_count("SELECT (SELECT count(*) FROM sys.schemas WHERE name = "
                         "'pmassist_master') + (SELECT count(*) FROM sys.tables WHERE schema_id = "
                         "SCHEMA_ID('pmassist_master'))");
    if (is_pg())
        return own_count("SELECT (SELECT count(*) FROM information_schema.schemata WHERE "
                         "schema_name = 'pmassist_master') + (SELECT count(*) FROM "
                         "information_schema.tables WHERE table_schema = 'pmassist_master')");
    /* SQLite: the master file is the schema; it may exist empty */
    return own_count("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
}

static long versions(void)
{
    return own_count(is_pg() || is_mssql() ? "SELECT count(*) FROM pmassist_master.SchemaVersion"
                                           : "SELECT count(*) FROM SchemaVersion");
}

static void own_drop(void)
{
    char own[256], sql[1024], line[512], cmd[600];
    own_db(own, sizeof(own));
    if (is_pg()) {
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", own);
        sql_client("postgres", sql, line, sizeof(line));
    } else if (is_mssql()) {
        snprintf(sql, sizeof(sql), "IF DB_ID(N'%s') IS NOT NULL DROP DATABASE %s", own, own);
        sql_client("master", sql, line, sizeof(line));
    } else {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", own);
        if (system(cmd) != 0)
            fprintf(stderr, "migrate: removing %s failed\n", own);
    }
}

static void own_create(void)
{
    char own[256], sql[1024], line[512];
    own_drop();
    own_db(own, sizeof(own));
    if (is_pg()) {
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER %s", own, env_or("DB_USER", "wsms"));
        ck_assert_msg(sql_client("postgres", sql, line, sizeof(line)) == 0, "%s: %s", sql, line);
    } else if (is_mssql()) {
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", own);
        ck_assert_msg(sql_client("master", sql, line, sizeof(line)) == 0, "%s: %s", sql, line);
    }
}

/* wsmsd migrate on the own database with extra environment (may be "");
 * its output (stdout and stderr) into out. Returns its exit status. */
static int migrate(const char *extra, char *out, size_t n)
{
    char own[256], cmd[2048];
    own_db(own, sizeof(own));
    snprintf(cmd, sizeof(cmd), "env %s=%s WSMS_TEST_HOOKS=true %s WSMS_ENV_FILE=%s %s migrate 2>&1",
             is_pg() || is_mssql() ? "DB_NAME" : "DB_PATH", own, extra,
             env_or("WSMS_COMMON_ENV", "/dev/null"), env_or("WSMS_WSMSD", "wsmsd"));
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t got = 0;
    out[0] = '\0';
    while (got + 1 < n) {
        size_t r = fread(out + got, 1, n - 1 - got, p);
        if (r == 0)
            break;
        got += r;
    }
    out[got] = '\0';
    char drain[256];
    while (fread(drain, 1, sizeof(drain), p) > 0)
        ;
    int st = pclose(p);
    ck_assert_msg(!strstr(out, "Sanitizer") && !strstr(out, "runtime error"), "%s", out);
    return st;
}

/* How many master migration files this checkout (and so this wsmsd) has;
 * *top gets the highest version (numbers may have gaps: versions taken by
 * branches not merged yet are skipped). */
static int master_files(int *top)
{
    char pat[128];
    glob_t g;
    snprintf(pat, sizeof(pat), "schema/%s/master/[0-9][0-9][0-9]_*.sql",
             is_pg()      ? "postgres"
             : is_mssql() ? "mssql"
                          : "sqlite");
    int n = glob(pat, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    *top = 0;
    for (int i = 0; i < n; i++) {
        const char *b = strrchr(g.gl_pathv[i], '/');
        int v = atoi(b ? b + 1 : g.gl_pathv[i]);
        if (v > *top)
            *top = v;
    }
    globfree(&g);
    return n;
}

START_TEST(migrate_fail_halfway_then_apply_noop_refuse_newer)
{
    static char out[65536];
    char want[160];
    int last = 0;
    int nfiles = master_files(&last);
    ck_assert_int_ge(nfiles, 1);
    own_create();

    /* batch 3 of master/001 fails: the schema and the two tables the batches
     * before it made are rolled back with it */
    ck_assert_msg(migrate("WSMS_TEST_MIGRATE_FAIL=master:1:3", out, sizeof(out)) != 0, "%s", out);
    ck_assert_msg(strstr(out, "master version 1 failed (DB_QUERY_FAILED)"), "%s", out);
    ck_assert_msg(strstr(out, "test failure injected at master migration 1, batch 3"), "%s", out);
    ck_assert_int_eq(master_objects(), 0);

    if (last >= 2) {
        /* the newest file fails: every version before it stays applied */
        char spec[64];
        snprintf(spec, sizeof(spec), "WSMS_TEST_MIGRATE_FAIL=master:%d:1", last);
        ck_assert_msg(migrate(spec, out, sizeof(out)) != 0, "%s", out);
        snprintf(want, sizeof(want), "master version %d failed (DB_QUERY_FAILED)", last);
        ck_assert_msg(strstr(out, want), "%s", out);
        ck_assert_int_eq(versions(), nfiles - 1);
    }

    /* applied, all of it */
    ck_assert_msg(migrate("", out, sizeof(out)) == 0, "%s", out);
    snprintf(want, sizeof(want), "master: applying version %d ... done", last);
    ck_assert_msg(strstr(out, want), "%s", out);
    long objects = master_objects();
    ck_assert_int_ge(objects, 4);
    ck_assert_int_eq(versions(), nfiles);

    /* twice in a row is a no-op */
    ck_assert_msg(migrate("", out, sizeof(out)) == 0, "%s", out);
    snprintf(want, sizeof(want), "master: up to date at version %d", last);
    ck_assert_msg(strstr(out, want), "%s", out);
    ck_assert_msg(!strstr(out, "applying"), "%s", out);
    ck_assert_int_eq(versions(), nfiles);
    ck_assert_int_eq(master_objects(), objects);

    /* a database newer than this binary is refused and left as it is */
    char line[512];
    ck_assert_msg(sql_client("",
                             is_pg() || is_mssql()
                                 ? "INSERT INTO pmassist_master.SchemaVersion (component, "
                                   "version, applied_at) VALUES ('master', 999, CURRENT_TIMESTAMP)"
                                 : "INSERT INTO SchemaVersion (component, version, applied_at) "
                                   "VALUES ('master', 999, '2030-01-01 00:00:00.000')",
                             line, sizeof(line)) == 0,
                  "insert: %s", line);
    ck_assert_msg(migrate("", out, sizeof(out)) != 0, "%s", out);
    snprintf(want, sizeof(want), "master is at version 999, newer than this wsmsd knows (%d)",
             last);
    ck_assert_msg(strstr(out, want), "%s", out);
    ck_assert_int_eq(versions(), nfiles + 1);
    ck_assert_int_eq(master_objects(), objects);
    own_drop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc = tcase_create("migrate");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, NULL, own_drop);
    tcase_add_test(tc, migrate_fail_halfway_then_apply_noop_refuse_newer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
