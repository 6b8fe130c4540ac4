#include "data/migrate.h"

#include "core/arena.h"
#include "core/config.h"
#include "data/db.h"
#include "data/dialect.h"
#include "core/embedded.h"
#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LG "migrate"

/* Version number of "schema/x/master/007_name.sql", or -1. */
static int file_version(const char *name, const char *dir)
{
    size_t dl = strlen(dir);
    if (strncmp(name, dir, dl) != 0 || name[dl] != '/')
        return -1;
    const char *base = name + dl + 1;
    if (strchr(base, '/'))
        return -1;
    char *end;
    long v = strtol(base, &end, 10);
    if (end == base || *end != '_' || v <= 0 || v > 100000)
        return -1;
    return (int)v;
}

static int known_max(const char *kind)
{
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/%s", dialect_schema_dir(db_type()), kind);
    int max = 0;
    for (const struct embedded_file *f = embedded_files(); f->name; f++) {
        int v = file_version(f->name, dir);
        if (v > max)
            max = v;
    }
    return max;
}

int migrate_known_master(void)
{
    return known_max("master");
}

static const struct embedded_file *find_file(const char *kind, int version)
{
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/%s", dialect_schema_dir(db_type()), kind);
    for (const struct embedded_file *f = embedded_files(); f->name; f++)
        if (file_version(f->name, dir) == version)
            return f;
    return NULL;
}

/* Test hook (only with WSMS_TEST_HOOKS=true):
 * WSMS_TEST_MIGRATE_FAIL=<kind>:<version>:<batch> makes batch number <batch>
 * (from 1) of that migration file fail as a refused statement would, after
 * the batches before it ran: a failure half-way through a file. */
static bool inject_fail(const char *kind, int version, int batch)
{
    char want[96];
    if (!config_get()->test_hooks)
        return false;
    const char *spec = getenv("WSMS_TEST_MIGRATE_FAIL");
    if (!spec)
        return false;
    snprintf(want, sizeof(want), "%s:%d:%d", kind, version, batch);
    if (strcmp(spec, want) != 0)
        return false;
    log_warn(LG, "test failure injected at %s migration %d, batch %d", kind, version, batch);
    return true;
}

/* Calls fn with every GO-separated batch of text, {{schema}} replaced. */
typedef wsms_err (*batch_fn)(const char *batch, void *ctx);

static wsms_err each_batch(const char *text, const char *schema, const char *kind, int version,
                           batch_fn fn, void *ctx)
{
    wsms_err e = WSMS_OK;
    size_t cap = strlen(text) * 2 + 64;
    char *batch = malloc(cap);
    if (!batch)
        return E_INTERNAL_SERVER_ERROR;
    size_t bl = 0;
    int nbatch = 0;
    bool has_sql = false;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        char line[4096];
        if (ll >= sizeof(line)) {
            e = E_INTERNAL_SERVER_ERROR;
            goto out;
        }
        memcpy(line, p, ll);
        line[ll] = '\0';
        p += ll + (nl ? 1 : 0);
        char *t = line;
        while (*t == ' ' || *t == '\t')
            t++;
        if (strcmp(t, "GO") == 0 || strcmp(t, "GO\r") == 0) {
            batch[bl] = '\0';
            if (has_sql && inject_fail(kind, version, ++nbatch)) {
                e = E_DB_QUERY_FAILED;
                goto out;
            }
            if (has_sql && (e = fn(batch, ctx)) != WSMS_OK)
                goto out;
            bl = 0;
            has_sql = false;
            continue;
        }
        if (strncmp(t, "--", 2) == 0 || *t == '\0')
            continue;
        has_sql = true;
        /* substitute {{schema}} */
        for (const char *s = line; *s;) {
            if (schema && strncmp(s, "{{schema}}", 10) == 0) {
                size_t sl = strlen(schema);
                if (bl + sl + 2 >= cap) {
                    e = E_INTERNAL_SERVER_ERROR;
                    goto out;
                }
                memcpy(batch + bl, schema, sl);
                bl += sl;
                s += 10;
            } else {
                if (bl + 2 >= cap) {
                    e = E_INTERNAL_SERVER_ERROR;
                    goto out;
                }
                batch[bl++] = *s++;
            }
        }
        batch[bl++] = '\n';
    }
    batch[bl] = '\0';
    if (has_sql && inject_fail(kind, version, ++nbatch))
        e = E_DB_QUERY_FAILED;
    else if (has_sql)
        e = fn(batch, ctx);
out:
    free(batch);
    return e;
}

static wsms_err exec_batch(const char *batch, void *ctx)
{
    (void)ctx;
    return db_exec_direct(batch);
}

/* Runs every GO-separated batch of text with {{schema}} replaced. */
static wsms_err run_script(const char *text, const char *schema, const char *kind, int version)
{
    return each_batch(text, schema, kind, version, exec_batch, NULL);
}

/* Every batch of several files as one text, sent in one round trip:
 * PostgreSQL runs a multi-statement text statement by statement; on SQL
 * Server each batch becomes EXEC(N'...'), compiled and run on its own in
 * turn exactly as if GO separated them (CREATE SCHEMA, deferred name
 * resolution). At most SCRIPT_MAX bytes. */
#define SCRIPT_MAX (1024 * 1024)
struct script {
    char *b;
    size_t len, cap;
    bool mssql;
};

static bool script_put(struct script *sc, const char *s, size_t n)
{
    if (sc->len + n + 1 > sc->cap) {
        size_t cap = sc->cap ? sc->cap : 8192;
        while (cap < sc->len + n + 1)
            cap *= 2;
        if (cap > SCRIPT_MAX)
            return false;
        char *b = realloc(sc->b, cap);
        if (!b)
            return false;
        sc->b = b;
        sc->cap = cap;
    }
    memcpy(sc->b + sc->len, s, n);
    sc->len += n;
    sc->b[sc->len] = '\0';
    return true;
}

static wsms_err collect_batch(const char *batch, void *ctx)
{
    struct script *sc = ctx;
    if (!sc->mssql)
        return script_put(sc, batch, strlen(batch)) && script_put(sc, ";\n", 2)
                   ? WSMS_OK
                   : E_INTERNAL_SERVER_ERROR;
    bool ok = script_put(sc, "EXEC(N'", 7);
    for (const char *p = batch; ok && *p; p++)
        ok = *p == '\'' ? script_put(sc, "''", 2) : script_put(sc, p, 1);
    ok = ok && script_put(sc, "');\n", 4);
    return ok ? WSMS_OK : E_INTERNAL_SERVER_ERROR;
}

wsms_err migrate_current(struct arena *a, const char *component, long *version)
{
    struct db_rows rows;
    *version = 0;
    wsms_err e = db_query(a, &rows, dialect_table_exists_sql(db_type()), "ss", "pmassist_master",
                          "SchemaVersion");
    if (e != WSMS_OK)
        return e;
    if (db_val_ll(&rows, 0, 0, 0) == 0)
        return WSMS_OK;
    e = db_query(a, &rows,
                 "SELECT MAX(version) FROM pmassist_master.SchemaVersion WHERE component = ?", "s",
                 component);
    if (e != WSMS_OK)
        return e;
    *version = (long)db_val_ll(&rows, 0, 0, 0);
    return WSMS_OK;
}

static wsms_err apply_one(const char *kind, const char *component, const char *schema, int v,
                          bool own_tx)
{
    const struct embedded_file *f = find_file(kind, v);
    wsms_err e;
    if (!f) {
        /* a gap: skipping it would mark the database past a file that a
         * later build brings and then never applies */
        log_error(LG, "migration %s %d is missing from this build", kind, v);
        return E_INTERNAL_SERVER_ERROR;
    }
    if (own_tx && (e = db_begin()) != WSMS_OK)
        return e;
    e = run_script(f->data, schema, kind, v);
    if (e == WSMS_OK)
        e = db_exec(NULL,
                    "INSERT INTO pmassist_master.SchemaVersion (component, version, applied_at) "
                    "VALUES (?, ?, ?)",
                    "sit", component, (long long)v, now_ms());
    if (own_tx) {
        if (e == WSMS_OK)
            e = db_commit();
        else
            db_rollback();
    }
    return e;
}

/* Applies the workspace files above the shared set's recorded version, in
 * the open transaction. *applied tells whether any DDL ran. */
static wsms_err shared_up_to_date(bool *applied)
{
    long cur = 0;
    int max = known_max("workspace");
    struct arena *a = arena_new(0);
    wsms_err e = a ? migrate_current(a, MIGRATE_WS_SHARED, &cur) : E_INTERNAL_SERVER_ERROR;
    arena_free(a);
    *applied = false;
    if (e != WSMS_OK)
        return e;
    if (cur > max) {
        log_error(LG, "the shared workspace tables are at version %ld, newer than this build (%d)",
                  cur, max);
        return E_INTERNAL_SERVER_ERROR;
    }
    for (int v = (int)cur + 1; v <= max && e == WSMS_OK; v++) {
        e = apply_one("workspace", MIGRATE_WS_SHARED, dialect_ws_shared(db_type()), v, false);
        *applied = true;
    }
    return e;
}

wsms_err migrate_create_workspace(const char *schema)
{
    /* SQLite: no DDL; the Workspace row records the logical schema. The
     * shared set is checked once per process (and again after a check that
     * had to apply something, in case that transaction is rolled back). */
    static bool shared_ok;
    if (!dialect_schema_name_valid(schema))
        return E_INTERNAL_SERVER_ERROR;
    if (dialect_ws_shared(db_type())) {
        bool applied = false;
        wsms_err e = shared_ok ? WSMS_OK : shared_up_to_date(&applied);
        if (e == WSMS_OK && !applied)
            shared_ok = true;
        return e;
    }
    /* PostgreSQL and SQL Server: every file's DDL in one round trip, then
     * their versions in one INSERT (README "Databases": statements per
     * route) */
    int max = known_max("workspace");
    struct script sc = {.mssql = db_type() == DB_SQLSERVER};
    struct db_params prm = {0};
    char *ins = NULL;
    wsms_err e = WSMS_OK;
    size_t icap = 128 + (size_t)max * 16;
    if (max < 1 || !(ins = malloc(icap))) {
        e = max < 1 ? WSMS_OK : E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    int w = snprintf(ins, icap, "%s",
                     "INSERT INTO pmassist_master.SchemaVersion (component, version, applied_at) "
                     "VALUES ");
    if (w < 0 || (size_t)w >= icap) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    int64_t now = now_ms();
    for (int v = 1; v <= max && e == WSMS_OK; v++) {
        const struct embedded_file *f = find_file("workspace", v);
        if (!f) {
            log_error(LG, "migration workspace %d is missing from this build", v);
            e = E_INTERNAL_SERVER_ERROR;
            break;
        }
        e = each_batch(f->data, schema, "workspace", v, collect_batch, &sc);
        int n = snprintf(ins + w, icap - (size_t)w, "%s(?, ?, ?)", v > 1 ? ", " : "");
        if (n < 0 || (size_t)n >= icap - (size_t)w) {
            e = E_INTERNAL_SERVER_ERROR;
            break;
        }
        w += n;
        db_param_s(&prm, schema);
        db_param_i(&prm, v);
        db_param_t(&prm, now);
    }
    if (e == WSMS_OK && (!sc.b || prm.overflow)) {
        /* no DDL at all, or more versions than one INSERT binds */
        log_error(LG, "cannot batch the %d workspace migrations", max);
        e = E_INTERNAL_SERVER_ERROR;
    }
    if (e != WSMS_OK)
        goto out;
    if ((e = db_exec_direct(sc.b)) == WSMS_OK)
        e = db_exec_params(NULL, ins, &prm);
out:
    free(sc.b);
    free(ins);
    return e;
}

/* Brings one component up to `max`. Returns 0, or 1 after printing why. */
static int upgrade(struct arena *a, const char *kind, const char *component, const char *schema)
{
    long cur;
    int max = known_max(kind);
    wsms_err e = migrate_current(a, component, &cur);
    if (e != WSMS_OK) {
        fprintf(stderr, "migrate: cannot read the schema version of %s (%s)\n", component,
                err_code(e));
        return 1;
    }
    if (cur > max) {
        fprintf(stderr,
                "migrate: %s is at version %ld, newer than this wsmsd knows (%d); "
                "refusing to touch it\n",
                component, cur, max);
        return 1;
    }
    if (cur == max) {
        printf("%s: up to date at version %ld\n", component, cur);
        return 0;
    }
    for (int v = (int)cur + 1; v <= max; v++) {
        if (!find_file(kind, v)) {
            /* numbers taken by branches not merged into this build */
            printf("%s: no version %d in this build, skipped\n", component, v);
            continue;
        }
        printf("%s: applying version %d ...", component, v);
        fflush(stdout);
        e = apply_one(kind, component, schema, v, true);
        if (e != WSMS_OK) {
            printf(" failed\n");
            fprintf(stderr, "migrate: %s version %d failed (%s); see the log above\n", component, v,
                    err_code(e));
            return 1;
        }
        printf(" done\n");
    }
    return 0;
}

#define LINK_COLS                                                                                  \
    "workspace_integration_id, workspace_id, user_id, integration_display_name, provider, url, "   \
    "extra_config_json, connection_status, added_by_user_id, added_utc, external_id, "             \
    "status_reason, last_checked_utc"
#define LINKS_VERSION 7

/* Master 007 keeps a copy of every workspace's integration rows in
 * pmassist_master.WorkspaceLink (maintained by the service in the same
 * transaction as each change). Every run copies the rows a workspace's
 * table has and the copy lacks (those of workspaces older than 007), in
 * one transaction; afterwards there are none, and a second run copies
 * nothing. */
static int backfill_links(struct arena *a, const struct db_rows *ws)
{
    long cur = 0, copied = 0;
    wsms_err e = migrate_current(a, "master", &cur);
    if (e != WSMS_OK) {
        fprintf(stderr, "migrate: cannot read the master version (%s)\n", err_code(e));
        return 1;
    }
    if (cur < LINKS_VERSION || ws->nrows == 0)
        return 0;
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    for (int r = 0; r < ws->nrows && e == WSMS_OK; r++) {
        char table[160];
        long n = 0;
        if (dialect_ws_table(db_type(), db_val(ws, r, 0), "workspace_integrations", table,
                             sizeof(table)) != 0) {
            e = E_INTERNAL_SERVER_ERROR;
            break;
        }
        char *sql = arena_printf(a,
                                 "INSERT INTO pmassist_master.WorkspaceLink (" LINK_COLS ") "
                                 "SELECT " LINK_COLS " FROM %s t WHERE t.workspace_id = ? AND "
                                 "NOT EXISTS (SELECT 1 FROM pmassist_master.WorkspaceLink l "
                                 "WHERE l.workspace_integration_id = t.workspace_integration_id)",
                                 table);
        e = sql ? db_exec(&n, sql, "s", db_val(ws, r, 1)) : E_INTERNAL_SERVER_ERROR;
        copied += n > 0 ? n : 0;
    }
    if (e == WSMS_OK)
        e = db_commit();
    else
        db_rollback();
out:
    if (e != WSMS_OK) {
        fprintf(stderr, "migrate: copying the integrations to the master schema failed (%s)\n",
                err_code(e));
        return 1;
    }
    if (copied > 0)
        printf("copied %ld integration(s) to the master schema\n", copied);
    return 0;
}

/* The column names of pmassist_master.<table> (rows: one name each). */
static wsms_err columns_of(struct arena *a, const char *table, struct db_rows *out)
{
    return db_query(a, out, "SELECT name FROM pragma_table_info(?, 'pmassist_master')", "s", table);
}

static bool has_column(const struct db_rows *cols, const char *name)
{
    for (int r = 0; r < cols->nrows; r++)
        if (db_val(cols, r, 0) && strcmp(db_val(cols, r, 0), name) == 0)
            return true;
    return false;
}

/* Copies the rows of one old per-workspace table into its shared table:
 * the columns both have, and workspace_id (the workspace's id) when the
 * shared table has it and the old one did not. Fails unless every row was
 * copied. *copied gets the count. */
static wsms_err copy_table(struct arena *a, const char *old_t, const char *shared_t,
                           const char *ws_id, long *copied)
{
    struct db_rows oc, sc, cnt;
    wsms_err e;
    *copied = 0;
    if ((e = columns_of(a, old_t, &oc)) != WSMS_OK || (e = columns_of(a, shared_t, &sc)) != WSMS_OK)
        return e;
    size_t cap = 64;
    for (int r = 0; r < oc.nrows; r++)
        cap += strlen(db_val(&oc, r, 0) ? db_val(&oc, r, 0) : "") + 2;
    char *cols = arena_alloc(a, cap);
    if (!cols)
        return E_INTERNAL_SERVER_ERROR;
    size_t len = 0;
    cols[0] = '\0';
    for (int r = 0; r < oc.nrows; r++) {
        const char *c = db_val(&oc, r, 0);
        if (!c || !has_column(&sc, c))
            continue;
        len += (size_t)snprintf(cols + len, cap - len, "%s%s", len ? ", " : "", c);
    }
    bool add_ws = has_column(&sc, "workspace_id") && !has_column(&oc, "workspace_id");
    const char *sql = arena_printf(a,
                                   "INSERT INTO pmassist_master.%s (%s%s) SELECT %s%s FROM "
                                   "pmassist_master.%s",
                                   shared_t, cols, add_ws ? ", workspace_id" : "", cols,
                                   add_ws ? ", ?" : "", old_t);
    const char *csql = arena_printf(a, "SELECT COUNT(*) FROM pmassist_master.%s", old_t);
    if (!sql || !csql || len == 0)
        return E_INTERNAL_SERVER_ERROR;
    if ((e = db_query(a, &cnt, csql, "")) != WSMS_OK)
        return e;
    long want = (long)db_val_ll(&cnt, 0, 0, -1);
    e = add_ws ? db_exec(copied, sql, "s", ws_id) : db_exec(copied, sql, "");
    if (e == WSMS_OK && *copied != want) {
        log_error(LG, "%s: %ld of %ld rows copied", old_t, *copied, want);
        e = E_INTERNAL_SERVER_ERROR;
    }
    return e;
}

/* One old workspace schema: brought to the latest workspace version with
 * the same files, its rows copied into the shared tables, its tables
 * dropped (children first) and its SchemaVersion rows removed. Runs in the
 * caller's transaction. */
static wsms_err convert_schema(struct arena *a, const char *schema, const struct db_rows *shared,
                               long *rows_copied)
{
    struct db_rows ws, old;
    long cur = 0;
    int max = known_max("workspace");
    char ws_id[GUID_LEN + 1];
    wsms_err e = migrate_current(a, schema, &cur);
    if (e != WSMS_OK)
        return e;
    if (cur > max) {
        fprintf(stderr, "migrate: %s is at version %ld, newer than this wsmsd knows (%d)\n", schema,
                cur, max);
        return E_INTERNAL_SERVER_ERROR;
    }
    for (int v = (int)cur + 1; v <= max && e == WSMS_OK; v++)
        e = apply_one("workspace", schema, schema, v, false);
    if (e != WSMS_OK)
        return e;
    /* the workspace's id: from its row, else from the name (ws_ + hex) */
    if ((e = db_query(a, &ws, "SELECT id FROM pmassist_master.Workspace WHERE db_schema_name = ?",
                      "s", schema)) != WSMS_OK)
        return e;
    if (ws.nrows > 0 && db_val(&ws, 0, 0))
        snprintf(ws_id, sizeof(ws_id), "%s", db_val(&ws, 0, 0));
    else
        snprintf(ws_id, sizeof(ws_id), "%.8s-%.4s-%.4s-%.4s-%.12s", schema + 3, schema + 11,
                 schema + 15, schema + 19, schema + 23);
    e = db_query(a, &old,
                 "SELECT name FROM pmassist_master.sqlite_master WHERE type = 'table' AND "
                 "substr(name, 1, 37) = ? || '__' ORDER BY rowid DESC",
                 "s", schema);
    if (e != WSMS_OK)
        return e;
    for (int r = 0; r < old.nrows; r++) {
        const char *t = db_val(&old, r, 0);
        const char *suffix = t + 37;
        bool found = false;
        for (int k = 0; k < shared->nrows && !found; k++)
            found = strcmp(db_val(shared, k, 0) + strlen(DIALECT_WS_SHARED "__"), suffix) == 0;
        if (!found) {
            fprintf(stderr, "migrate: %s has no shared table to go to\n", t);
            return E_INTERNAL_SERVER_ERROR;
        }
    }
    /* parents first (the shared set's creation order) */
    for (int k = 0; k < shared->nrows; k++) {
        const char *st = db_val(shared, k, 0);
        const char *ot = arena_printf(a, "%s__%s", schema, st + strlen(DIALECT_WS_SHARED "__"));
        bool present = false;
        long n = 0;
        for (int r = 0; ot && r < old.nrows && !present; r++)
            present = strcmp(db_val(&old, r, 0), ot) == 0;
        if (!ot)
            return E_INTERNAL_SERVER_ERROR;
        if (present && (e = copy_table(a, ot, st, ws_id, &n)) != WSMS_OK)
            return e;
        *rows_copied += n;
    }
    /* children first (the newest tables of the old set first) */
    for (int r = 0; r < old.nrows; r++) {
        const char *sql = arena_printf(a, "DROP TABLE pmassist_master.%s", db_val(&old, r, 0));
        if (!sql)
            return E_INTERNAL_SERVER_ERROR;
        if ((e = db_exec_direct(sql)) != WSMS_OK)
            return e;
    }
    return db_exec(NULL, "DELETE FROM pmassist_master.SchemaVersion WHERE component = ?", "s",
                   schema);
}

/* SQLite: converts every workspace that still has tables of its own (a
 * database made before the shared set) in one transaction. Returns 0, or
 * 1 after printing why (nothing changed then). */
static int convert_sqlite(struct arena *a)
{
    struct db_rows schemas, shared;
    long copied = 0;
    /* old schemas: by their tables and by their SchemaVersion rows */
    wsms_err e = db_query(
        a, &schemas,
        "SELECT substr(name, 1, 35) FROM pmassist_master.sqlite_master WHERE type = 'table' AND "
        "name LIKE 'ws!_%' ESCAPE '!' AND substr(name, 36, 2) = '__' AND substr(name, 1, 4) <> "
        "'ws__' UNION SELECT component FROM "
        "pmassist_master.SchemaVersion WHERE component LIKE 'ws!_%' ESCAPE '!' ORDER BY 1",
        "");
    if (e == WSMS_OK)
        e = db_query(a, &shared,
                     "SELECT name FROM pmassist_master.sqlite_master WHERE type = 'table' AND "
                     "name LIKE ? ESCAPE '!' ORDER BY rowid",
                     "s", DIALECT_WS_SHARED "!_!_%");
    if (e != WSMS_OK) {
        fprintf(stderr, "migrate: cannot list workspace tables (%s)\n", err_code(e));
        return 1;
    }
    if (schemas.nrows == 0)
        return 0;
    printf("converting %d workspace schema(s) to the shared tables ...", schemas.nrows);
    fflush(stdout);
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    /* foreign keys are checked at the commit, when both sides have moved */
    if ((e = db_exec_direct("PRAGMA defer_foreign_keys = ON")) != WSMS_OK)
        goto out;
    for (int r = 0; r < schemas.nrows && e == WSMS_OK; r++) {
        const char *schema = db_val(&schemas, r, 0);
        if (!dialect_schema_name_valid(schema)) {
            fprintf(stderr, "migrate: invalid workspace schema name %s\n",
                    schema ? schema : "(null)");
            e = E_INTERNAL_SERVER_ERROR;
            break;
        }
        /* test fault point: WSMS_TEST_MIGRATE_FAIL=convert:1:<n> fails
         * before the n-th schema, after the ones before it were converted */
        if (inject_fail("convert", 1, r + 1)) {
            e = E_DB_QUERY_FAILED;
            break;
        }
        e = convert_schema(a, schema, &shared, &copied);
    }
    if (e == WSMS_OK)
        e = db_commit();
out:
    if (e != WSMS_OK) {
        if (db_in_transaction())
            db_rollback();
        printf(" failed\n");
        fprintf(stderr,
                "migrate: converting to the shared workspace tables failed (%s); "
                "nothing was changed\n",
                err_code(e));
        return 1;
    }
    printf(" done (%ld rows)\n", copied);
    return 0;
}

int migrate_run(void)
{
    int rc = 1;
    struct arena *a = arena_new(0);
    if (!a) {
        fprintf(stderr, "migrate: out of memory\n");
        return 1;
    }
    printf("migrating the %s database\n", config_db_type_name(db_type()));
    wsms_err e = db_connect();
    if (e != WSMS_OK) {
        fprintf(stderr, "migrate: cannot connect to the database (%s)\n", err_code(e));
        goto out;
    }
    if (upgrade(a, "master", "master", NULL) != 0)
        goto out;
    if (dialect_ws_shared(db_type())) {
        /* SQLite: one shared set of workspace tables */
        if (upgrade(a, "workspace", MIGRATE_WS_SHARED, dialect_ws_shared(db_type())) != 0 ||
            convert_sqlite(a) != 0)
            goto out;
    }
    struct db_rows rows;
    e = db_query(a, &rows,
                 "SELECT db_schema_name, id FROM pmassist_master.Workspace ORDER BY created_at",
                 "");
    if (e != WSMS_OK) {
        fprintf(stderr, "migrate: cannot list workspaces (%s)\n", err_code(e));
        goto out;
    }
    printf("%d workspace schema(s)\n", rows.nrows);
    for (int r = 0; r < rows.nrows && !dialect_ws_shared(db_type()); r++) {
        const char *schema = db_val(&rows, r, 0);
        if (!dialect_schema_name_valid(schema)) {
            fprintf(stderr, "migrate: skipping invalid schema name in Workspace row %d\n", r);
            goto out;
        }
        if (upgrade(a, "workspace", schema, schema) != 0)
            goto out;
    }
    if (backfill_links(a, &rows) != 0)
        goto out;
    printf("migration complete\n");
    rc = 0;
out:
    arena_free(a);
    return rc;
}
