#include "domain/workspaces.h"

#include "core/arena.h"
#include "domain/audit.h"
#include "outbound/blob.h"
#include "data/db.h"
#include "data/dialect.h"
#include "http/hooks.h"
#include "core/log.h"
#include "domain/members.h"
#include "data/migrate.h"
#include "core/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LG "workspaces"

/* Larger than any qualified per-workspace table name. */
#define TABLE_MAX 128

struct ws_row {
    const char *id, *name, *description, *created_by, *created_at, *updated_at, *blob_path;
    bool is_active;
    const char *db_schema_name, *last_seen_utc, *status;
};

#define WS_COLS                                                                                    \
    "w.id, w.name, w.description, w.created_by, w.created_at, w.updated_at, w.blob_path, "         \
    "w.is_active, w.db_schema_name, w.last_seen_utc, w.status"

struct integ_row {
    const char *id, *workspace_id, *provider, *display_name, *url, *connection_status, *added_by,
        *added_utc;
};

#define INTEG_COLS                                                                                 \
    "workspace_integration_id, workspace_id, provider, integration_display_name, url, "            \
    "connection_status, added_by_user_id, added_utc"

/* Workspaces the caller belongs to (alias w), by oid or by a not yet bound
 * email; two parameters: user_id, email. */
#define MINE                                                                                       \
    "FROM pmassist_master.Workspace w WHERE w.is_active = 1 AND EXISTS (SELECT 1 FROM "            \
    "pmassist_master.WorkspaceMember m WHERE m.workspace_id = w.id AND (m.user_id = ? OR "         \
    "(m.user_id IS NULL AND m.user_email = ?)))"

static bool add_str(cJSON *o, const char *k, const char *v)
{
    cJSON *i = v ? cJSON_CreateString(v) : cJSON_CreateNull();
    if (!i)
        return false;
    if (!cJSON_AddItemToObject(o, k, i)) {
        cJSON_Delete(i);
        return false;
    }
    return true;
}

static void ws_from_row(const struct db_rows *rows, int r, struct ws_row *w)
{
    w->id = db_val(rows, r, 0);
    w->name = db_val(rows, r, 1);
    w->description = db_val(rows, r, 2);
    w->created_by = db_val(rows, r, 3);
    w->created_at = db_val(rows, r, 4);
    w->updated_at = db_val(rows, r, 5);
    w->blob_path = db_val(rows, r, 6);
    w->is_active = db_val_bool(rows, r, 7);
    w->db_schema_name = db_val(rows, r, 8);
    w->last_seen_utc = db_val(rows, r, 9);
    w->status = db_val(rows, r, 10);
}

/* The workspace object without members and external_links. */
static cJSON *ws_json(const struct ws_row *w)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !add_str(o, "id", w->id) || !add_str(o, "name", w->name) ||
        !add_str(o, "description", w->description) || !add_str(o, "created_by", w->created_by) ||
        !add_str(o, "created_at", w->created_at) || !add_str(o, "updated_at", w->updated_at) ||
        !add_str(o, "blob_path", w->blob_path) ||
        !cJSON_AddBoolToObject(o, "is_active", w->is_active) ||
        !add_str(o, "db_schema_name", w->db_schema_name) ||
        !add_str(o, "last_seen_utc", w->last_seen_utc) || !add_str(o, "status", w->status)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Row r of a result selected with INTEG_COLS starting at column col0. */
static void integ_from_row(const struct db_rows *rows, int r, int col0, struct integ_row *g)
{
    g->id = db_val(rows, r, col0);
    g->workspace_id = db_val(rows, r, col0 + 1);
    g->provider = db_val(rows, r, col0 + 2);
    g->display_name = db_val(rows, r, col0 + 3);
    g->url = db_val(rows, r, col0 + 4);
    g->connection_status = db_val(rows, r, col0 + 5);
    g->added_by = db_val(rows, r, col0 + 6);
    g->added_utc = db_val(rows, r, col0 + 7);
}

static cJSON *integ_json(const struct integ_row *g)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !add_str(o, "id", g->id) || !add_str(o, "workspace_id", g->workspace_id) ||
        !add_str(o, "provider", g->provider) ||
        !add_str(o, "integration_display_name", g->display_name) || !add_str(o, "url", g->url) ||
        !add_str(o, "connection_status", g->connection_status) ||
        !add_str(o, "added_by_user_id", g->added_by) || !add_str(o, "added_utc", g->added_utc)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool append(cJSON *arr, cJSON *item)
{
    if (!item)
        return false;
    if (!cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

/* Adds an empty array under k and returns it (owned by o). */
static cJSON *add_array(cJSON *o, const char *k)
{
    return o ? cJSON_AddArrayToObject(o, k) : NULL;
}

static wsms_err integ_table(const char *schema, char buf[TABLE_MAX])
{
    if (dialect_ws_table(db_type(), schema, "workspace_integrations", buf, TABLE_MAX) != 0) {
        log_error(LG, "invalid workspace schema name in the database");
        return E_INTERNAL_SERVER_ERROR;
    }
    return WSMS_OK;
}

/* The integrations of one workspace appended to arr. */
static wsms_err integrations_of(struct arena *a, const char *ws_id, const char *schema, cJSON *arr)
{
    char table[TABLE_MAX];
    struct db_rows rows;
    wsms_err e = integ_table(schema, table);
    if (e != WSMS_OK)
        return e;
    const char *sql = arena_printf(a,
                                   "SELECT " INTEG_COLS " FROM %s WHERE workspace_id = ? "
                                   "ORDER BY added_utc, workspace_integration_id",
                                   table);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    if ((e = db_query(a, &rows, sql, "s", ws_id)) != WSMS_OK)
        return e;
    for (int r = 0; r < rows.nrows; r++) {
        struct integ_row g;
        integ_from_row(&rows, r, 0, &g);
        if (!append(arr, integ_json(&g)))
            return E_INTERNAL_SERVER_ERROR;
    }
    return WSMS_OK;
}

/* Commits on success, rolls back otherwise. */
static wsms_err end_tx(wsms_err e)
{
    if (!db_in_transaction())
        return e;
    if (e == WSMS_OK)
        return db_commit();
    db_rollback();
    return e;
}

static cJSON *created_details(const struct ws_new *in)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !add_str(d, "name", in->name) ||
        (in->provider && (!add_str(d, "provider", in->provider) ||
                          !add_str(d, "provider_project", in->provider_project)))) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

/* After the commit: a failure is audited and logged, never returned. */
static void create_blob_folders(struct request *rq, const char *ws_id)
{
    char why[256] = "";
    if (blob_create_workspace_folders(ws_id, why, sizeof(why)) >= 0)
        return;
    cJSON *d = cJSON_CreateObject();
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    if (d && add_str(d, "reason", why[0] ? why : "unknown") && (e = db_begin()) == WSMS_OK)
        e = end_tx(audit_write(ws_id, "BLOB_FOLDERS_FAILED", rq->user.user_id, d));
    cJSON_Delete(d);
    log_warn(LG, "blob folders of workspace %s were not created (%s)%s", ws_id, why,
             e == WSMS_OK ? "" : "; the audit entry failed too");
}

wsms_err ws_create(struct request *rq, const struct ws_new *in, cJSON **out)
{
    char id[GUID_LEN + 1], member_id[GUID_LEN + 1], integ_id[GUID_LEN + 1];
    char schema[36], table[TABLE_MAX], now_iso[25];
    const struct identity *u = &rq->user;
    cJSON *obj = NULL, *details = NULL;
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    int64_t now = now_ms();
    *out = NULL;
    if (guid_new(id) != 0 || guid_new(member_id) != 0 || guid_new(integ_id) != 0 ||
        dialect_schema_name(id, schema) != 0 || integ_table(schema, table) != WSMS_OK)
        return E_INTERNAL_SERVER_ERROR;
    iso8601_ms(now, now_iso);
    size_t elen = u->email ? strlen(u->email) + 1 : 1;
    char *email = arena_alloc(rq->arena, elen);
    const char *blob_path = arena_printf(rq->arena, "workspaces/%s", id);
    const char *integ_sql = arena_printf(
        rq->arena,
        "INSERT INTO %s (workspace_integration_id, workspace_id, user_id, "
        "integration_display_name, provider, url, extra_config_json, connection_status, "
        "added_by_user_id, added_utc) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?)",
        table);
    if (!email || !blob_path || !integ_sql || ascii_lower(u->email ? u->email : "", email, elen))
        return E_INTERNAL_SERVER_ERROR;

    struct ws_row w = {id,        in->name, in->description, u->user_id, now_iso, now_iso,
                       blob_path, true,     schema,          NULL,       "Active"};
    struct member_row m = {member_id, id, u->user_id, email, u->display_name, "OWNER", now_iso};
    struct integ_row g = {integ_id, id,        in->provider, in->provider_project,
                          NULL,     "Pending", u->user_id,   now_iso};
    cJSON *members, *links;
    if (!(obj = ws_json(&w)) || !(members = add_array(obj, "members")) ||
        !append(members, member_json(&m)) || !(links = add_array(obj, "external_links")) ||
        (in->provider && !append(links, integ_json(&g))) || !(details = created_details(in)))
        goto out;

    if ((e = db_begin()) != WSMS_OK)
        goto out;
    e = db_exec(NULL,
                "INSERT INTO pmassist_master.Workspace (id, name, description, created_by, "
                "created_at, updated_at, blob_path, is_active, db_schema_name, last_seen_utc, "
                "status) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, NULL, ?)",
                "sssstt"
                "sss",
                id, in->name, in->description, u->user_id, now, now, blob_path, schema, "Active");
    if (e != WSMS_OK)
        goto out;
    e = db_exec(NULL,
                "INSERT INTO pmassist_master.WorkspaceMember "
                "(id, workspace_id, user_id, user_email, display_name, role, added_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                "ssssss"
                "t",
                member_id, id, u->user_id, email, u->display_name, "OWNER", now);
    if (e != WSMS_OK)
        goto out;
    if ((e = migrate_create_workspace(schema)) != WSMS_OK)
        goto out;
    if (in->provider) {
        e = db_exec(NULL, integ_sql,
                    "sssss"
                    "sst",
                    integ_id, id, u->user_id, in->provider_project, in->provider, "Pending",
                    u->user_id, now);
        if (e != WSMS_OK)
            goto out;
    }
    if ((e = audit_write(id, "WORKSPACE_CREATED", u->user_id, details)) != WSMS_OK)
        goto out;
    /* test fault point: everything is written, nothing is committed */
    if (hook_fail(rq, "ws.schema")) {
        e = E_DB_QUERY_FAILED;
        goto out;
    }
    hook_pause(rq, "ws.before_commit");
out:
    e = end_tx(e);
    cJSON_Delete(details);
    if (e != WSMS_OK) {
        cJSON_Delete(obj);
        return e;
    }
    log_info(LG, "created workspace %s (schema %s)", id, schema);
    create_blob_folders(rq, id);
    *out = obj;
    return WSMS_OK;
}

wsms_err ws_get(struct request *rq, const char *ws_id, cJSON **out)
{
    struct db_rows rows;
    struct ws_row w;
    cJSON *obj = NULL, *members, *links;
    int64_t now = now_ms();
    char seen[25];
    *out = NULL;
    wsms_err e = db_query(rq->arena, &rows,
                          "SELECT " WS_COLS " FROM pmassist_master.Workspace w "
                          "WHERE w.id = ? AND w.is_active = 1",
                          "s", ws_id);
    if (e != WSMS_OK)
        goto out;
    if (rows.nrows == 0) {
        e = E_WORKSPACE_NOT_FOUND;
        goto out;
    }
    ws_from_row(&rows, 0, &w);
    /* last_seen_utc moves at most once a minute: most reads write nothing
     * (the WHERE clause keeps two racing workers from both moving it) */
    int64_t last = iso8601_parse_ms(w.last_seen_utc);
    if (last < 0 || now - last >= 60000) {
        long changed = 0;
        e = db_exec(&changed,
                    "UPDATE pmassist_master.Workspace SET last_seen_utc = ? WHERE id = ? "
                    "AND (last_seen_utc IS NULL OR last_seen_utc < ?)",
                    "tst", now, ws_id, now - 60000);
        if (e == E_DATABASE_CONNECTION_ERROR)
            goto out;
        if (e != WSMS_OK)
            log_warn(LG, "last_seen_utc of %s not updated (%s)", ws_id, err_code(e));
        if (e == WSMS_OK && changed > 0) {
            iso8601_ms(now, seen);
            w.last_seen_utc = seen;
        }
    }
    e = E_INTERNAL_SERVER_ERROR;
    if (!(obj = ws_json(&w)) || !(members = add_array(obj, "members")) ||
        !(links = add_array(obj, "external_links")))
        goto out;
    if ((e = members_all(rq->arena, ws_id, members)) != WSMS_OK)
        goto out;
    if ((e = integrations_of(rq->arena, ws_id, w.db_schema_name, links)) != WSMS_OK)
        goto out;
    *out = obj;
    obj = NULL;
out:
    cJSON_Delete(obj);
    return e;
}

/* One query for the integrations of every workspace of a page: a UNION ALL
 * of their tables. Each branch is tagged with its page index (a number the
 * code writes), and a row only counts for the workspace it belongs to. The
 * statement has no parameters: schema names are validated identifiers. */
static wsms_err page_integrations(struct arena *a, const struct db_rows *page, cJSON *const *links)
{
    static const char sep[] = " UNION ALL ";
    size_t cap = (size_t)page->nrows * (sizeof(sep) + sizeof(INTEG_COLS) + TABLE_MAX + 48) + 128;
    size_t len = 0;
    int branches = 0;
    struct db_rows rows;
    char *sql = arena_alloc(a, cap);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    for (int r = 0; r < page->nrows; r++) {
        char table[TABLE_MAX];
        if (dialect_ws_table(db_type(), db_val(page, r, 8), "workspace_integrations", table,
                             sizeof(table)) != 0) {
            log_error(LG, "workspace %s has an invalid schema name", db_val(page, r, 0));
            continue;
        }
        int n = snprintf(sql + len, cap - len, "%sSELECT %d AS k, " INTEG_COLS " FROM %s",
                         branches ? sep : "", r, table);
        if (n < 0 || (size_t)n >= cap - len)
            return E_INTERNAL_SERVER_ERROR;
        len += (size_t)n;
        branches++;
    }
    if (branches == 0)
        return WSMS_OK;
    int n = snprintf(sql + len, cap - len, " ORDER BY added_utc, workspace_integration_id");
    if (n < 0 || (size_t)n >= cap - len)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(a, &rows, sql, "");
    if (e != WSMS_OK)
        return e;
    for (int r = 0; r < rows.nrows; r++) {
        long long k = db_val_ll(&rows, r, 0, -1);
        struct integ_row g;
        if (k < 0 || k >= page->nrows)
            continue;
        integ_from_row(&rows, r, 1, &g);
        if (!g.workspace_id || strcmp(g.workspace_id, db_val(page, (int)k, 0)) != 0)
            continue;
        if (!append(links[k], integ_json(&g)))
            return E_INTERNAL_SERVER_ERROR;
    }
    return WSMS_OK;
}

wsms_err ws_list(struct request *rq, long limit, long offset, cJSON **out, long *total)
{
    const char *uid = rq->user.user_id, *email = rq->user.email ? rq->user.email : "";
    long long pg[2];
    struct db_rows rows, page;
    cJSON *arr = NULL;
    cJSON **links = NULL;
    *out = NULL;
    *total = 0;
    wsms_err e = db_query(rq->arena, &rows, "SELECT COUNT(*) " MINE, "ss", uid, email);
    if (e != WSMS_OK)
        goto out;
    *total = (long)db_val_ll(&rows, 0, 0, 0);
    const char *sql = arena_printf(
        rq->arena, "SELECT " WS_COLS " " MINE " ORDER BY w.created_at DESC, w.id DESC%s",
        dialect_page_sql(db_type(), limit, offset, pg));
    e = E_INTERNAL_SERVER_ERROR;
    if (!sql)
        goto out;
    if ((e = db_query(rq->arena, &page, sql, "ssii", uid, email, pg[0], pg[1])) != WSMS_OK)
        goto out;
    e = E_INTERNAL_SERVER_ERROR;
    if (!(arr = cJSON_CreateArray()))
        goto out;
    if (page.nrows > 0 && !(links = arena_alloc(rq->arena, sizeof(*links) * (size_t)page.nrows)))
        goto out;
    for (int r = 0; r < page.nrows; r++) {
        struct ws_row w;
        ws_from_row(&page, r, &w);
        cJSON *o = ws_json(&w);
        if (!append(arr, o) || !(links[r] = add_array(o, "external_links")))
            goto out;
    }
    if (page.nrows > 0 && (e = page_integrations(rq->arena, &page, links)) != WSMS_OK)
        goto out;
    *out = arr;
    arr = NULL;
    e = WSMS_OK;
out:
    cJSON_Delete(arr);
    return e;
}

wsms_err ws_delete(struct request *rq, const char *ws_id)
{
    long n = 0;
    wsms_err e = db_begin();
    if (e != WSMS_OK)
        return e;
    e = db_exec(&n,
                "UPDATE pmassist_master.Workspace SET is_active = 0, status = ?, updated_at = ? "
                "WHERE id = ? AND is_active = 1",
                "sts", "Archived", now_ms(), ws_id);
    if (e == WSMS_OK && n != 1)
        e = E_WORKSPACE_NOT_FOUND;
    if (e == WSMS_OK)
        e = audit_write(ws_id, "WORKSPACE_DELETED", rq->user.user_id, NULL);
    e = end_tx(e);
    if (e == WSMS_OK)
        log_info(LG, "archived workspace %s", ws_id);
    return e;
}
