#include "domain/workspaces.h"

#include "auth/roles.h"
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
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LG "workspaces"

/* The master copy of every workspace's integrations (master 007): what
 * lists and the workspace object read. */
#define LINK_TABLE "pmassist_master.WorkspaceLink"

/* Larger than any qualified per-workspace table name. */
#define TABLE_MAX 128

struct ws_row {
    const char *id, *name, *description, *created_by, *created_at, *updated_at, *blob_path;
    bool is_active;
    const char *db_schema_name, *last_seen_utc, *status;
};

#define WS_PLAIN                                                                                   \
    "id, name, description, created_by, created_at, updated_at, blob_path, is_active, "            \
    "db_schema_name, last_seen_utc, status"
#define WS_COLS                                                                                    \
    "w.id, w.name, w.description, w.created_by, w.created_at, w.updated_at, w.blob_path, "         \
    "w.is_active, w.db_schema_name, w.last_seen_utc, w.status"
#define WS_NCOLS 11
#define WS_TYPES "GSSSTTSBSTS" /* auth/roles.h roles_read_start */

struct integ_row {
    const char *id, *workspace_id, *provider, *display_name, *url, *connection_status, *added_by,
        *added_utc, *external_id, *status_reason, *last_checked;
};

/* the fields of /workspaces/{id}/integrations too (ws_integrations.c) but
 * extra_config */
#define INTEG_COLS                                                                                 \
    "workspace_integration_id, workspace_id, provider, integration_display_name, url, "            \
    "connection_status, added_by_user_id, added_utc, external_id, status_reason, "                 \
    "last_checked_utc"
#define INTEG_NCOLS 11
#define INTEG_TYPES "GGSSSSSTSST"

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

static void ws_from_row(const struct db_rows *rows, int r, int c, struct ws_row *w)
{
    w->id = db_val(rows, r, c);
    w->name = db_val(rows, r, c + 1);
    w->description = db_val(rows, r, c + 2);
    w->created_by = db_val(rows, r, c + 3);
    w->created_at = db_val(rows, r, c + 4);
    w->updated_at = db_val(rows, r, c + 5);
    w->blob_path = db_val(rows, r, c + 6);
    w->is_active = db_val_bool(rows, r, c + 7);
    w->db_schema_name = db_val(rows, r, c + 8);
    w->last_seen_utc = db_val(rows, r, c + 9);
    w->status = db_val(rows, r, c + 10);
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
    g->external_id = db_val(rows, r, col0 + 8);
    g->status_reason = db_val(rows, r, col0 + 9);
    g->last_checked = db_val(rows, r, col0 + 10);
}

static cJSON *integ_json(const struct integ_row *g)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !add_str(o, "id", g->id) || !add_str(o, "workspace_id", g->workspace_id) ||
        !add_str(o, "provider", g->provider) ||
        !add_str(o, "integration_display_name", g->display_name) || !add_str(o, "url", g->url) ||
        !add_str(o, "connection_status", g->connection_status) ||
        !add_str(o, "added_by_user_id", g->added_by) || !add_str(o, "added_utc", g->added_utc) ||
        !add_str(o, "display_name", g->display_name) ||
        !add_str(o, "external_id", g->external_id) ||
        !add_str(o, "status_reason", g->status_reason) ||
        !add_str(o, "last_checked_utc", g->last_checked)) {
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
#define INTEG_INSERT                                                                               \
    "INSERT INTO %s (workspace_integration_id, workspace_id, user_id, "                            \
    "integration_display_name, provider, external_id, url, extra_config_json, "                    \
    "connection_status, added_by_user_id, added_utc) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, "    \
    "?, ?)"
    /* the workspace's own table and its master copy (master 007) */
    const char *integ_sql[2] = {arena_printf(rq->arena, INTEG_INSERT, table),
                                arena_printf(rq->arena, INTEG_INSERT, LINK_TABLE)};
    if (!email || !blob_path || !integ_sql[0] || !integ_sql[1] ||
        ascii_lower(u->email ? u->email : "", email, elen))
        return E_INTERNAL_SERVER_ERROR;

    struct ws_row w = {id,        in->name, in->description, u->user_id, now_iso, now_iso,
                       blob_path, true,     schema,          NULL,       "Active"};
    struct member_row m = {member_id, id, u->user_id, email, u->display_name, "OWNER", now_iso};
    struct integ_row g = {integ_id,  id,         in->provider, in->provider_project, NULL,
                          "Pending", u->user_id, now_iso,      in->provider_project, NULL,
                          NULL};
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
    for (int t = 0; in->provider && t < 2; t++) {
        e = db_exec(NULL, integ_sql[t],
                    "sssss"
                    "ssst",
                    integ_id, id, u->user_id, in->provider_project, in->provider,
                    in->provider_project, "Pending", u->user_id, now);
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

/* Data columns of GET /workspaces/{id}: the workspace (on the role row,
 * from its join of the workspace), its members ('m') and its
 * integrations ('i'), each in its own range. */
#define GET_OFF_W 0
#define GET_OFF_M WS_NCOLS
#define GET_OFF_I (WS_NCOLS + MEMBER_NCOLS)
#define GET_NDATA (WS_NCOLS + MEMBER_NCOLS + INTEG_NCOLS)

/* The one statement of GET /workspaces/{id} (auth/roles.h). Members and
 * integrations come unordered: C sorts them (a ROW_NUMBER per branch
 * costs the T-SQL server more than the whole sort here). */
static wsms_err get_query(struct request *rq, const char *ws_id, struct db_rows *rows)
{
    struct arena *a = rq->arena;
    struct roles_read q;
    const char *tw = roles_read_cols(a, "tw", WS_PLAIN);
    const char *tm = roles_read_cols(a, "tm", MEMBER_PLAIN);
    const char *ti = roles_read_cols(a, "ti", INTEG_COLS);
    const char *ic = roles_read_cols(a, "g", INTEG_COLS);
    const char *typed = arena_printf(a, "%s, %s, %s", tw, tm, ti);
    if (!tw || !tm || !ti || !ic || !typed)
        return E_INTERNAL_SERVER_ERROR;
    /* the role row joins the workspace of rq->workspace_id: ws_id */
    if (!rq->workspace_id || strcmp(rq->workspace_id, ws_id) != 0)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = roles_read_start_role(&q, rq, GET_NDATA, WS_TYPES MEMBER_TYPES INTEG_TYPES, typed,
                                       "pmassist_master.Workspace tw, "
                                       "pmassist_master.WorkspaceMember tm, " LINK_TABLE " ti",
                                       GET_OFF_W, WS_NCOLS, WS_COLS);
    if (e != WSMS_OK)
        return e;
    if ((e = roles_read_branch(&q, 'm', "0, 0", GET_OFF_M, MEMBER_NCOLS, MEMBER_COLS,
                               "FROM pmassist_master.WorkspaceMember m "
                               "WHERE m.workspace_id = ?")) != WSMS_OK)
        return e;
    db_param_s(&q.params, ws_id);
    if ((e = roles_read_branch(&q, 'i', "0, 0", GET_OFF_I, INTEG_NCOLS, ic,
                               "FROM " LINK_TABLE " g WHERE g.workspace_id = ?")) != WSMS_OK)
        return e;
    db_param_s(&q.params, ws_id);
    return roles_read_run(&q, rows);
}

static int member_cmp(const void *a, const void *b)
{
    const struct member_row *x = a, *y = b;
    int c = strcmp(x->added_at ? x->added_at : "", y->added_at ? y->added_at : "");
    return c ? c : strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

static int integ_cmp(const void *a, const void *b)
{
    const struct integ_row *x = a, *y = b;
    int c = strcmp(x->added_utc ? x->added_utc : "", y->added_utc ? y->added_utc : "");
    return c ? c : strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

wsms_err ws_get(struct request *rq, const char *ws_id, cJSON **out)
{
    struct db_rows rows;
    struct ws_row w;
    cJSON *obj = NULL, *members, *links;
    int64_t now = now_ms();
    char seen[25];
    int wr = -1, nm = 0, ni = 0;
    *out = NULL;
    wsms_err e = get_query(rq, ws_id, &rows);
    if (e != WSMS_OK)
        goto out;
    /* the first role row carries the workspace (NULL when there is none) */
    for (int r = 0; r < rows.nrows && wr < 0; r++)
        if (roles_read_kind(&rows, r) == 'r')
            wr = r;
    if (wr < 0 || !db_val(&rows, wr, ROLES_C_DATA + GET_OFF_W) ||
        !db_val_bool(&rows, wr, ROLES_C_DATA + GET_OFF_W + 7)) {
        e = E_WORKSPACE_NOT_FOUND;
        goto out;
    }
    ws_from_row(&rows, wr, ROLES_C_DATA + GET_OFF_W, &w);
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
    struct member_row *ms = arena_alloc(rq->arena, sizeof(*ms) * (size_t)(rows.nrows + 1));
    struct integ_row *gs = arena_alloc(rq->arena, sizeof(*gs) * (size_t)(rows.nrows + 1));
    if (!ms || !gs)
        goto out;
    for (int r = 0; r < rows.nrows; r++) {
        char k = roles_read_kind(&rows, r);
        if (k == 'm')
            member_from_row(&rows, r, ROLES_C_DATA + GET_OFF_M, &ms[nm++]);
        else if (k == 'i')
            integ_from_row(&rows, r, ROLES_C_DATA + GET_OFF_I, &gs[ni++]);
    }
    qsort(ms, (size_t)nm, sizeof(*ms), member_cmp);
    qsort(gs, (size_t)ni, sizeof(*gs), integ_cmp);
    if (!(obj = ws_json(&w)) || !(members = add_array(obj, "members")) ||
        !(links = add_array(obj, "external_links")))
        goto out;
    for (int i = 0; i < nm; i++)
        if (!append(members, member_json(&ms[i])))
            goto out;
    for (int i = 0; i < ni; i++)
        if (!append(links, integ_json(&gs[i])))
            goto out;
    *out = obj;
    obj = NULL;
    e = WSMS_OK;
out:
    cJSON_Delete(obj);
    return e;
}

/* ORDER BY of a sort key (validated by the API); NULL last_seen_utc sorts
 * last in both directions on every database; w.id breaks ties. */
static const char *order_sql(const char *sort)
{
    static const struct {
        const char *key, *sql;
    } orders[] = {
        {"name", "LOWER(w.name), w.name, w.id"},
        {"-name", "LOWER(w.name) DESC, w.name DESC, w.id DESC"},
        {"created_at", "w.created_at, w.id"},
        {"-created_at", "w.created_at DESC, w.id DESC"},
        {"last_seen_utc",
         "CASE WHEN w.last_seen_utc IS NULL THEN 1 ELSE 0 END, w.last_seen_utc, w.id"},
        {"-last_seen_utc",
         "CASE WHEN w.last_seen_utc IS NULL THEN 1 ELSE 0 END, w.last_seen_utc DESC, w.id DESC"},
    };
    for (size_t i = 0; i < sizeof(orders) / sizeof(*orders); i++)
        if (sort && strcmp(sort, orders[i].key) == 0)
            return orders[i].sql;
    return NULL;
}

bool ws_sort_valid(const char *sort)
{
    return order_sql(sort) != NULL;
}

/* LIKE pattern "%q%" for this database (dialect_like_contains); NULL on
 * no memory. */
static char *contains_pattern(struct arena *a, const char *q)
{
    size_t n = 3 * strlen(q) + 3;
    char *p = arena_alloc(a, n);
    if (!p || dialect_like_contains(db_type(), q, p, n) != 0)
        return NULL;
    return p;
}

char *ws_like_pattern(struct arena *a, const char *q)
{
    return contains_pattern(a, q);
}

/* Data columns of GET /workspaces: one row per workspace of the page and
 * integration ('p': the workspace, then one of its integrations or NULLs). */
#define LIST_OFF_I WS_NCOLS
#define LIST_NDATA (WS_NCOLS + INTEG_NCOLS)

/* Integrations of one workspace in the order of GET /workspaces/{id}
 * (added_utc, then id; timestamps are ISO 8601 text of one width). */
wsms_err ws_list(struct request *rq, const struct ws_list_opts *o, cJSON **out, long *total)
{
    struct arena *a = rq->arena;
    const char *uid = rq->user.user_id, *email = rq->user.email ? rq->user.email : "";
    struct db_rows rows;
    struct roles_read q;
    cJSON *arr = NULL;
    bool archived = o->archived;
    bool search = o->q && *o->q;
    const char *order = order_sql(o->sort ? o->sort : "-created_at");
    const char *pat = search ? contains_pattern(a, o->q) : NULL;
    /* Active workspaces of any member, archived ones of their owners only.
     * Driven by the caller's memberships: two index seeks (by user_id, and
     * by email for memberships not yet bound), each an equality, so every
     * database plans them as seeks whatever its statistics; the name
     * filter only when searching. Parameters: user_id, email[, pattern]. */
    const char *role = archived ? " AND m.role = 'OWNER'" : "";
    const char *from = arena_printf(
        a,
        "FROM pmassist_master.Workspace w WHERE w.id IN (SELECT m.workspace_id FROM "
        "pmassist_master.WorkspaceMember m WHERE m.user_id = ?%s UNION ALL SELECT m.workspace_id "
        "FROM pmassist_master.WorkspaceMember m WHERE m.user_id IS NULL AND m.user_email = ?%s) "
        "AND w.is_active = %d%s%s%s",
        role, role, archived ? 0 : 1, archived ? " AND w.status = 'Archived'" : "",
        search ? " AND LOWER(w.name) LIKE ?" : "", search ? dialect_like_escape(db_type()) : "");
    long long lo = o->offset, hi = o->offset + o->limit;
    *out = NULL;
    *total = 0;
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    if (!order || (search && !pat) || !from)
        goto out;
    /* The caller's workspaces numbered once; the page's rows (and the last
     * one, for the total past the end) each joined to their integrations
     * in the master copy: one evaluation of the page. */
    const char *tw = roles_read_cols(a, "tw", WS_PLAIN);
    const char *ti = roles_read_cols(a, "ti", INTEG_COLS);
    const char *xw = roles_read_cols(a, "x", WS_PLAIN);
    const char *ic = roles_read_cols(a, "g", INTEG_COLS);
    const char *typed = arena_printf(a, "%s, %s", tw, ti);
    const char *cols = arena_printf(a, "%s, %s", xw, ic);
    const char *pfrom = arena_printf(
        a,
        "FROM (SELECT ROW_NUMBER() OVER (ORDER BY %s) AS pos, COUNT(*) OVER () AS total, " WS_COLS
        " %s) x LEFT JOIN " LINK_TABLE " g ON g.workspace_id = x.id AND x.pos > ? AND x.pos <= ? "
        "WHERE (x.pos > ? AND x.pos <= ?) OR x.pos = x.total",
        order, from);
    if (!tw || !ti || !xw || !ic || !typed || !cols || !pfrom)
        goto out;
    if ((e = roles_read_start(&q, rq, LIST_NDATA, WS_TYPES INTEG_TYPES, typed,
                              "pmassist_master.Workspace tw, " LINK_TABLE " ti")) != WSMS_OK)
        goto out;
    if ((e = roles_read_branch(&q, 'p', "x.pos, x.total", 0, LIST_NDATA, cols, pfrom)) != WSMS_OK)
        goto out;
    db_param_s(&q.params, uid);
    db_param_s(&q.params, email);
    if (search)
        db_param_s(&q.params, pat);
    db_param_i(&q.params, lo);
    db_param_i(&q.params, hi);
    db_param_i(&q.params, lo);
    db_param_i(&q.params, hi);
    if ((e = roles_read_run(&q, &rows)) != WSMS_OK)
        goto out;
    *total = roles_read_total(&rows, 'p');
    e = E_INTERNAL_SERVER_ERROR;
    struct integ_row *links = arena_alloc(a, sizeof(*links) * (size_t)(rows.nrows + 1));
    if (!links || !(arr = cJSON_CreateArray()))
        goto out;
    /* rows come ordered by pos: a workspace's rows are adjacent */
    for (int r = 0; r < rows.nrows;) {
        if (roles_read_kind(&rows, r) != 'p' ||
            !roles_read_in_page(&rows, r, o->limit, o->offset)) {
            r++;
            continue;
        }
        long long pos = db_val_ll(&rows, r, ROLES_C_POS, 0);
        struct ws_row w;
        ws_from_row(&rows, r, ROLES_C_DATA, &w);
        cJSON *obj = ws_json(&w), *arr_l;
        if (!append(arr, obj) || !(arr_l = add_array(obj, "external_links")))
            goto out;
        int nl = 0;
        for (; r < rows.nrows && roles_read_kind(&rows, r) == 'p' &&
               db_val_ll(&rows, r, ROLES_C_POS, 0) == pos;
             r++) {
            if (db_val(&rows, r, ROLES_C_DATA + LIST_OFF_I))
                integ_from_row(&rows, r, ROLES_C_DATA + LIST_OFF_I, &links[nl++]);
        }
        qsort(links, (size_t)nl, sizeof(*links), integ_cmp);
        for (int k = 0; k < nl; k++)
            if (!append(arr_l, integ_json(&links[k])))
                goto out;
    }
    *out = arr;
    arr = NULL;
    e = WSMS_OK;
out:
    cJSON_Delete(arr);
    return e;
}

int ws_etag(const cJSON *ws, char out[WS_ETAG_LEN + 1])
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ws, "id");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(ws, "name");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(ws, "description");
    const cJSON *upd = cJSON_GetObjectItemCaseSensitive(ws, "updated_at");
    unsigned char h[32];
    char hex[33];
    if (!cJSON_IsString(id) || !cJSON_IsString(name) || !cJSON_IsString(upd))
        return -1;
    /* the edited fields and the change time (as a number: every database
     * spells timestamps its own way) */
    char *s = NULL;
    int n =
        asprintf(&s, "%s\n%lld\n%s\n%s%s", id->valuestring,
                 (long long)iso8601_parse_ms(upd->valuestring), name->valuestring,
                 cJSON_IsString(desc) ? "s" : "n", cJSON_IsString(desc) ? desc->valuestring : "");
    if (n < 0)
        return -1;
    int rc = sha256(s, (size_t)n, h);
    free(s);
    if (rc != 0)
        return -1;
    hex_encode(h, 16, hex);
    snprintf(out, WS_ETAG_LEN + 1, "\"%s\"", hex);
    return 0;
}

/* RFC 9110 If-Match: "*" or a list of strong tags; weak tags never match. */
static bool if_match_ok(const char *if_match, const char *etag)
{
    const char *p = if_match;
    size_t el = strlen(etag);
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        size_t n = (size_t)(t - p);
        if ((n == 1 && *p == '*') || (n == el && memcmp(p, etag, el) == 0))
            return true;
        p = e;
    }
    return false;
}

static wsms_err lock_ws(const char *ws_id, int active)
{
    long n = 0;
    wsms_err e = db_exec(&n,
                         "UPDATE pmassist_master.Workspace SET is_active = is_active "
                         "WHERE id = ? AND is_active = ?",
                         "sb", ws_id, active);
    if (e == WSMS_OK && n == 0)
        e = E_WORKSPACE_NOT_FOUND;
    return e;
}

static cJSON *change_details(const struct ws_row *w, const struct ws_patch *p)
{
    cJSON *d = cJSON_CreateObject();
    cJSON *o = d ? cJSON_AddObjectToObject(d, "old") : NULL;
    cJSON *n = d ? cJSON_AddObjectToObject(d, "new") : NULL;
    bool ok = o && n;
    if (ok && p->set_name)
        ok = add_str(o, "name", w->name) && add_str(n, "name", p->name);
    if (ok && p->set_description)
        ok = add_str(o, "description", w->description) && add_str(n, "description", p->description);
    if (!ok) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

wsms_err ws_update(struct request *rq, const char *ws_id, const struct ws_patch *p,
                   const char *if_match, cJSON **out)
{
    struct db_rows rows;
    struct ws_row w;
    cJSON *cur = NULL, *details = NULL;
    char etag[WS_ETAG_LEN + 1];
    *out = NULL;
    wsms_err e = db_begin();
    if (e != WSMS_OK)
        return e;
    /* the row lock first: the If-Match check and the update see one version */
    if ((e = lock_ws(ws_id, 1)) != WSMS_OK)
        goto out;
    e = db_query(rq->arena, &rows,
                 "SELECT " WS_COLS " FROM pmassist_master.Workspace w WHERE w.id = ?", "s", ws_id);
    if (e != WSMS_OK)
        goto out;
    e = E_WORKSPACE_NOT_FOUND;
    if (rows.nrows == 0)
        goto out;
    ws_from_row(&rows, 0, 0, &w);
    e = E_INTERNAL_SERVER_ERROR;
    if (!(cur = ws_json(&w)) || ws_etag(cur, etag) != 0)
        goto out;
    if (if_match && !if_match_ok(if_match, etag)) {
        e = E_PRECONDITION_FAILED;
        goto out;
    }
    if (!(details = change_details(&w, p)))
        goto out;
    e = db_exec(NULL,
                "UPDATE pmassist_master.Workspace SET name = ?, description = ?, updated_at = ? "
                "WHERE id = ?",
                "ssts", p->set_name ? p->name : w.name,
                p->set_description ? p->description : w.description, now_ms(), ws_id);
    if (e != WSMS_OK)
        goto out;
    e = audit_write(ws_id, "WORKSPACE_UPDATED", rq->user.user_id, details);
out:
    e = end_tx(e);
    cJSON_Delete(cur);
    cJSON_Delete(details);
    if (e != WSMS_OK)
        return e;
    log_info(LG, "updated workspace %s", ws_id);
    return ws_get(rq, ws_id, out);
}

wsms_err ws_restore(struct request *rq, const char *ws_id, cJSON **out)
{
    long n = 0;
    *out = NULL;
    wsms_err e = db_begin();
    if (e != WSMS_OK)
        return e;
    e = db_exec(&n,
                "UPDATE pmassist_master.Workspace SET is_active = 1, status = ?, updated_at = ? "
                "WHERE id = ? AND is_active = 0",
                "sts", "Active", now_ms(), ws_id);
    if (e == WSMS_OK && n != 1)
        e = E_WORKSPACE_NOT_FOUND;
    if (e == WSMS_OK)
        e = audit_write(ws_id, "WORKSPACE_RESTORED", rq->user.user_id, NULL);
    e = end_tx(e);
    if (e != WSMS_OK)
        return e;
    log_info(LG, "restored workspace %s", ws_id);
    return ws_get(rq, ws_id, out);
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
