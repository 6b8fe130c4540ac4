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

/* Versions of the master schema (SQLite also records its shared workspace
 * tables there, as component "workspace"). */
static long versions(void)
{
    return own_count(is_pg() || is_mssql() ? "SELECT count(*) FROM pmassist_master.SchemaVersion "
                                             "WHERE component = 'master'"
                                           : "SELECT count(*) FROM SchemaVersion WHERE component "
                                             "= 'master'");
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

/* ---- SQLite: converting a database made before the shared tables ---- */

#define W1 "11111111-aaaa-4aaa-8aaa-000000000001"
#define S1 "ws_11111111aaaa4aaa8aaa000000000001"
#define W2 "22222222-bbbb-4bbb-8bbb-000000000002"
#define S2 "ws_22222222bbbb4bbb8bbb000000000002"
#define TS "'2026-01-01 00:00:00.000'"

/* Runs sql on the own database through the sqlite3 CLI, failing the test. */
static void own_sql(const char *sql)
{
    char line[512];
    ck_assert_msg(sql_client("", sql, line, sizeof(line)) == 0, "%s -> %s", sql, line);
}

/* The per-workspace tables the code before the shared set made: the old
 * workspace file t/integration/legacy/<file> with {{schema}} = schema,
 * applied directly (GO lines end statements) to the master file ATTACHed as
 * pmassist_master, as that code did. */
static void legacy_apply(const char *file, const char *schema)
{
    char path[512], own[256], script[512], cmd[1200], line[4096];
    own_db(own, sizeof(own));
    snprintf(path, sizeof(path), "t/integration/legacy/%s", file);
    snprintf(script, sizeof(script), "%s/legacy.sql", env_or("WSMS_TMP", "/tmp"));
    FILE *in = fopen(path, "r"), *out = fopen(script, "w");
    ck_assert_msg(in && out, "cannot open %s or %s", path, script);
    fprintf(out, "ATTACH DATABASE '%s/pmassist_master.db' AS pmassist_master;\n", own);
    while (fgets(line, sizeof(line), in)) {
        if (strncmp(line, "GO", 2) == 0 && (line[2] == '\n' || line[2] == '\0')) {
            fputs(";\n", out);
            continue;
        }
        for (const char *p = line; *p;) {
            if (strncmp(p, "{{schema}}", 10) == 0) {
                fputs(schema, out);
                p += 10;
            } else {
                fputc(*p++, out);
            }
        }
    }
    fputs(";\n", out);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
    snprintf(cmd, sizeof(cmd), "sqlite3 -batch -bail :memory: < %s 2>&1", script);
    ck_assert_msg(system(cmd) == 0, "applying %s to %s failed", file, schema);
}

static long legacy_tables(void)
{
    return own_count("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE "
                     "'ws!_%' ESCAPE '!' AND substr(name, 36, 2) = '__'");
}

static long shared_rows(void)
{
    return own_count("SELECT (SELECT count(*) FROM ws__workspace_integrations) + (SELECT "
                     "count(*) FROM ws__workspace_agents) + (SELECT count(*) FROM "
                     "ws__automation_jobs) + (SELECT count(*) FROM ws__automation_job_runs) + "
                     "(SELECT count(*) FROM ws__file_artifacts)");
}

/* Two workspaces as the old code left them, owned by u: W1 at workspace
 * version 2 with an integration, an agent and a job of that agent (no runs
 * or artifacts: no code ever wrote those, and a later workspace migration
 * may recreate their tables), W2 still at version 1 (made before 002) with
 * one integration. Both link Jira project PROJ. */
static void make_legacy(const struct tc_user *u)
{
    char sql[4096];
    legacy_apply("sqlite_workspace_001_init.sql", S1);
    legacy_apply("sqlite_workspace_002_integration_links.sql", S1);
    legacy_apply("sqlite_workspace_001_init.sql", S2);
    snprintf(sql, sizeof(sql),
             "INSERT INTO Workspace (id, name, description, created_by, created_at, updated_at, "
             "blob_path, is_active, db_schema_name, last_seen_utc, status) VALUES "
             "('" W1 "', 'Legacy one', NULL, '%s', " TS ", " TS ", 'workspaces/" W1 "', 1, '" S1
             "', NULL, 'Active'), ('" W2 "', 'Legacy two', NULL, '%s', '2026-01-02 "
             "00:00:00.000', '2026-01-02 00:00:00.000', 'workspaces/" W2 "', 1, '" S2
             "', NULL, 'Active');"
             "INSERT INTO WorkspaceMember (id, workspace_id, user_id, user_email, display_name, "
             "role, added_at) VALUES ('aaaaaaaa-0000-4000-8000-000000000001', '" W1
             "', '%s', '%s', 'Legacy', 'OWNER', " TS "), ('aaaaaaaa-0000-4000-8000-000000000002', "
             "'" W2 "', '%s', '%s', 'Legacy', 'OWNER', " TS ");"
             "INSERT INTO SchemaVersion (component, version, applied_at) VALUES ('" S1 "', 1, " TS
             "), ('" S1 "', 2, " TS "), ('" S2 "', 1, " TS ");"
             "INSERT INTO " S1 "__workspace_integrations (workspace_integration_id, "
             "workspace_id, user_id, integration_display_name, provider, url, extra_config_json, "
             "connection_status, added_by_user_id, added_utc, external_id) VALUES "
             "('bbbbbbbb-0000-4000-8000-000000000001', '" W1 "', NULL, 'Project one', 'Jira', "
             "NULL, '{\"board\":7}', 'Pending', '%s', " TS ", 'PROJ');"
             "INSERT INTO " S1 "__workspace_agents VALUES ('cccccccc-0000-4000-8000-000000000001', "
             "'" W1 "', 'summary', 1, NULL, " TS ", '%s');"
             "INSERT INTO " S1 "__automation_jobs VALUES ('dddddddd-0000-4000-8000-000000000001', "
             "'" W1 "', 'cccccccc-0000-4000-8000-000000000001', 'nightly', '0 0 * * *', 1, " TS ");"
             "INSERT INTO " S2 "__workspace_integrations VALUES "
             "('bbbbbbbb-0000-4000-8000-000000000002', '" W2 "', NULL, 'PROJ', 'Jira', NULL, "
             "NULL, 'Pending', '%s', " TS ")",
             u->oid, u->oid, u->oid, u->email, u->oid, u->email, u->oid, u->oid, u->oid);
    own_sql(sql);
}

/* The converted database served by a stack of its own: the old rows are
 * there through the API, the unique link is per workspace, creation works. */
static void read_through_api(const struct tc_user *u)
{
    char own[256], url[256], saved[256];
    struct tresp r;
    own_db(own, sizeof(own));
    snprintf(saved, sizeof(saved), "%s", env_or("WSMS_URL", ""));
    ck_assert_int_eq(setenv("DB_PATH", own, 1), 0);
    int rc = tc_stack_start("legacy", NULL, 2, url, sizeof(url));
    ck_assert_int_eq(unsetenv("DB_PATH"), 0);
    ck_assert_msg(rc == 0, "stack on the converted database did not start");
    ck_assert_int_eq(setenv("WSMS_URL", url, 1), 0);

    ck_assert_int_eq(tc_as(&r, u, "GET", "/workspaces/" W1, NULL), 0);
    EXPECT(&r, 200, NULL);
    cJSON *links = cJSON_GetObjectItem(r.json, "external_links");
    ck_assert_int_eq(cJSON_GetArraySize(links), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(links, 0), "id"),
                     "bbbbbbbb-0000-4000-8000-000000000001");
    ck_assert_str_eq(tc_jstr(r.json, "db_schema_name"), S1);
    tc_free(&r);

    /* W2's row got external_id from 002, applied before the copy */
    ck_assert_int_eq(tc_as(&r, u, "GET", "/workspaces/" W2 "/integrations", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "external_id"), "PROJ");
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "workspace_id"), W2);
    tc_free(&r);

    /* the list: each workspace with its own link only */
    ck_assert_int_eq(tc_as(&r, u, "GET", "/workspaces?sort=created_at", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
    for (int i = 0; i < 2; i++) {
        cJSON *w = cJSON_GetArrayItem(r.json, i);
        cJSON *l = cJSON_GetObjectItem(w, "external_links");
        ck_assert_int_eq(cJSON_GetArraySize(l), 1);
        ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(l, 0), "workspace_id"), tc_jstr(w, "id"));
    }
    tc_free(&r);

    /* one provider project once per workspace, not once overall */
    ck_assert_int_eq(tc_as(&r, u, "POST", "/workspaces/" W1 "/integrations",
                           "{\"provider\":\"jira\",\"display_name\":\"Again\","
                           "\"external_id\":\"PROJ\"}"),
                     0);
    EXPECT(&r, 409, "CONFLICT");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, u, "POST", "/workspaces/" W1 "/integrations",
                           "{\"provider\":\"ado\",\"display_name\":\"Other\","
                           "\"external_id\":\"PROJ\"}"),
                     0);
    EXPECT(&r, 201, NULL);
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, u, "POST", "/workspaces",
                           "{\"name\":\"After\",\"provider\":\"jira\","
                           "\"provider_project\":\"PROJ\"}"),
                     0);
    EXPECT(&r, 201, NULL);
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, u, "GET", "/workspaces", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 3);
    tc_free(&r);
    tc_stack_stop("legacy");
    ck_assert_int_eq(setenv("WSMS_URL", saved, 1), 0);
}

START_TEST(sqlite_per_workspace_tables_converted)
{
    static char out[65536];
    struct tc_user u;
    if (is_pg() || is_mssql())
        return; /* one schema per workspace there */
    tc_new_user(&u, "legacy");
    own_create();
    /* the master schema alone, as the code before the shared set made it */
    ck_assert_msg(migrate("WSMS_TEST_MIGRATE_FAIL=workspace:1:1", out, sizeof(out)) != 0, "%s",
                  out);
    ck_assert_int_eq(own_count("SELECT count(*) FROM sqlite_master WHERE name LIKE 'ws!_!_%' "
                               "ESCAPE '!'"),
                     0);
    make_legacy(&u);
    ck_assert_int_eq(legacy_tables(), 10);

    /* a failure before the second workspace: the first is not converted
     * either (one transaction); the shared tables were made (their own
     * transactions) and stay empty */
    ck_assert_msg(migrate("WSMS_TEST_MIGRATE_FAIL=convert:1:2", out, sizeof(out)) != 0, "%s", out);
    ck_assert_msg(strstr(out, "workspace: applying version 2 ... done"), "%s", out);
    ck_assert_msg(strstr(out, "converting 2 workspace schema(s) to the shared tables"), "%s", out);
    ck_assert_msg(strstr(out, "failed (DB_QUERY_FAILED); nothing was changed"), "%s", out);
    ck_assert_int_eq(legacy_tables(), 10);
    ck_assert_int_eq(shared_rows(), 0);
    ck_assert_int_eq(own_count("SELECT count(*) FROM SchemaVersion WHERE component LIKE 'ws!_%' "
                               "ESCAPE '!'"),
                     3);

    /* converted: every row in the shared tables, the old tables gone */
    ck_assert_msg(migrate("", out, sizeof(out)) == 0, "%s", out);
    ck_assert_msg(strstr(out, "converting 2 workspace schema(s) to the shared tables ... done "
                              "(4 rows)"),
                  "%s", out);
    ck_assert_int_eq(legacy_tables(), 0);
    /* no table or index of the old schemas is left */
    ck_assert_int_eq(own_count("SELECT count(*) FROM sqlite_master WHERE instr(name, '" S1
                               "') > 0 OR instr(name, '" S2 "') > 0"),
                     0);
    ck_assert_int_eq(shared_rows(), 4);
    ck_assert_int_eq(own_count("SELECT count(*) FROM SchemaVersion WHERE component LIKE 'ws!_%' "
                               "ESCAPE '!'"),
                     0);
    ck_assert_int_eq(own_count("SELECT count(*) FROM ws__workspace_integrations WHERE "
                               "external_id = 'PROJ' AND provider = 'Jira'"),
                     2);
    ck_assert_int_eq(own_count("SELECT count(*) FROM ws__automation_jobs j JOIN "
                               "ws__workspace_agents a ON a.workspace_agent_id = "
                               "j.workspace_agent_id WHERE j.workspace_id = '" W1
                               "' AND a.workspace_id = '" W1 "'"),
                     1);
    ck_assert_int_eq(own_count("SELECT count(*) FROM pragma_foreign_key_check"), 0);

    /* and again: nothing to convert */
    ck_assert_msg(migrate("", out, sizeof(out)) == 0, "%s", out);
    ck_assert_msg(!strstr(out, "converting"), "%s", out);
    ck_assert_msg(strstr(out, "workspace: up to date"), "%s", out);

    read_through_api(&u);
    tc_user_free(&u);
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
    tcase_add_test(tc, sqlite_per_workspace_tables_converted);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
