#include "domain/ws_integrations.h"

#include "auth/roles.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"
#include "data/db.h"
#include "data/dialect.h"
#include "domain/audit.h"
#include "outbound/integrations.h"

#include <stdio.h>
#include <string.h>

#define LG "ws_integrations"
/* the master copy of every workspace's integrations (master 007) */
#define LINK_TABLE "pmassist_master.WorkspaceLink"
#define TABLE_MAX  128

#define WSI_COLS                                                                                   \
    "workspace_integration_id, workspace_id, provider, integration_display_name, external_id, "    \
    "url, extra_config_json, connection_status, status_reason, last_checked_utc, "                 \
    "added_by_user_id, added_utc"

struct wsi_row {
    const char *id, *workspace_id, *provider, *display_name, *external_id, *url, *extra, *status,
        *reason, *checked, *added_by, *added_utc;
};

#define WSI_NCOLS 12

static void from_row(const struct db_rows *rows, int r, int c, struct wsi_row *g)
{
    g->id = db_val(rows, r, c);
    g->workspace_id = db_val(rows, r, c + 1);
    g->provider = db_val(rows, r, c + 2);
    g->display_name = db_val(rows, r, c + 3);
    g->external_id = db_val(rows, r, c + 4);
    g->url = db_val(rows, r, c + 5);
    g->extra = db_val(rows, r, c + 6);
    g->status = db_val(rows, r, c + 7);
    g->reason = db_val(rows, r, c + 8);
    g->checked = db_val(rows, r, c + 9);
    g->added_by = db_val(rows, r, c + 10);
    g->added_utc = db_val(rows, r, c + 11);
}

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

static cJSON *to_json(const struct wsi_row *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *extra = g->extra ? cJSON_Parse(g->extra) : cJSON_CreateNull();
    if (!o || !extra || !add_str(o, "id", g->id) || !add_str(o, "workspace_id", g->workspace_id) ||
        !add_str(o, "provider", g->provider) || !add_str(o, "display_name", g->display_name) ||
        !add_str(o, "integration_display_name", g->display_name) ||
        !add_str(o, "external_id", g->external_id) || !add_str(o, "url", g->url) ||
        !cJSON_AddItemToObject(o, "extra_config", extra) ||
        !add_str(o, "connection_status", g->status) || !add_str(o, "status_reason", g->reason) ||
        !add_str(o, "last_checked_utc", g->checked) ||
        !add_str(o, "added_by_user_id", g->added_by) || !add_str(o, "added_utc", g->added_utc)) {
        if (o && extra && !cJSON_GetObjectItem(o, "extra_config"))
            cJSON_Delete(extra);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static wsms_err table_of(const char *ws_id, char table[TABLE_MAX])
{
    char schema[36];
    if (dialect_schema_name(ws_id, schema) != 0 ||
        dialect_ws_table(db_type(), schema, "workspace_integrations", table, TABLE_MAX) != 0)
        return E_INTERNAL_SERVER_ERROR;
    return WSMS_OK;
}

/* The change fmt (one %s for the table) on the workspace's table and on
 * its master copy: the two arguments of exec_both. */
#define ON_BOTH(fmt) arena_printf(rq->arena, fmt, table), arena_printf(rq->arena, fmt, LINK_TABLE)

/* Runs a change on the workspace's table (own), then the same on its
 * master copy (master 007, read by every list and integration read), in
 * the caller's transaction: *affected is the workspace table's row count. */
static wsms_err exec_both(const char *own, const char *copy, const struct db_params *p,
                          long *affected)
{
    long n = 0;
    if (!own || !copy)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_exec_params(affected, own, p);
    return e != WSMS_OK ? e : db_exec_params(&n, copy, p);
}

static wsms_err end_tx(wsms_err e)
{
    if (!db_in_transaction())
        return e;
    if (e == WSMS_OK)
        return db_commit();
    db_rollback();
    return e;
}

/* The workspace row's lock (see members.c): serialises changes of one
 * workspace's integrations on all three databases. */
static wsms_err lock_ws(const char *ws_id)
{
    long n = 0;
    wsms_err e = db_exec(&n,
                         "UPDATE pmassist_master.Workspace SET is_active = is_active "
                         "WHERE id = ? AND is_active = 1",
                         "s", ws_id);
    if (e == WSMS_OK && n == 0)
        e = E_WORKSPACE_NOT_FOUND;
    return e;
}

static wsms_err load(struct request *rq, const char *table, const char *iid, struct wsi_row *g)
{
    struct db_rows rows;
    const char *sql = arena_printf(rq->arena,
                                   "SELECT " WSI_COLS " FROM %s WHERE workspace_integration_id = ? "
                                   "AND workspace_id = ?",
                                   table);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(rq->arena, &rows, sql, "ss", iid, rq->workspace_id);
    if (e != WSMS_OK)
        return e;
    if (rows.nrows == 0)
        return E_RESOURCE_NOT_FOUND;
    from_row(&rows, 0, 0, g);
    return WSMS_OK;
}

/* E_CONFLICT when another row (not except_id) of the workspace links
 * provider + external_id. No '' stands in for "no row": SQL Server cannot
 * compare it with a UNIQUEIDENTIFIER. */
static wsms_err check_unique(struct request *rq, const char *table, const char *provider,
                             const char *external_id, const char *except_id)
{
    struct db_rows rows;
    const char *sql = arena_printf(rq->arena,
                                   "SELECT COUNT(*) FROM %s WHERE workspace_id = ? AND provider = "
                                   "? AND external_id = ?%s",
                                   table, except_id ? " AND workspace_integration_id <> ?" : "");
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e =
        except_id ? db_query(rq->arena, &rows, sql, "ssss", rq->workspace_id, provider, external_id,
                             except_id)
                  : db_query(rq->arena, &rows, sql, "sss", rq->workspace_id, provider, external_id);
    if (e != WSMS_OK)
        return e;
    return db_val_ll(&rows, 0, 0, 0) > 0 ? E_CONFLICT : WSMS_OK;
}

/* The statement of the two reads: the caller's role and, from the master
 * copy (master 007; the workspace's own table may not exist when the
 * workspace does not), the page (iid NULL) or the one integration. */
static wsms_err read_query(struct request *rq, const char *iid, long limit, long offset,
                           struct db_rows *rows)
{
    struct roles_read q;
    const char *typed = roles_read_cols(rq->arena, "ti", WSI_COLS);
    const char *cols = roles_read_cols(rq->arena, "g", WSI_COLS);
    if (!typed || !cols)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = roles_read_start(&q, rq, WSI_NCOLS, "GGSSSSXSSTST", typed, LINK_TABLE " ti");
    if (e != WSMS_OK)
        return e;
    db_param_s(&q.params, rq->workspace_id);
    if (iid) {
        e = roles_read_branch(&q, 'g', "1, 1", 0, WSI_NCOLS, cols,
                              "FROM " LINK_TABLE " g WHERE g.workspace_id = ? AND "
                              "g.workspace_integration_id = ?");
        db_param_s(&q.params, iid);
    } else {
        e = roles_read_page(&q, 'g', 0, WSI_NCOLS, WSI_COLS,
                            WSI_COLS " FROM " LINK_TABLE " WHERE workspace_id = ?",
                            "added_utc, workspace_integration_id", limit, offset);
    }
    return e != WSMS_OK ? e : roles_read_run(&q, rows);
}

wsms_err wsi_list(struct request *rq, long limit, long offset, cJSON **out, long *total)
{
    struct db_rows rows;
    cJSON *arr = NULL;
    *out = NULL;
    *total = 0;
    wsms_err e = read_query(rq, NULL, limit, offset, &rows);
    if (e != WSMS_OK)
        goto out;
    *total = roles_read_total(&rows, 'g');
    e = E_INTERNAL_SERVER_ERROR;
    if (!(arr = cJSON_CreateArray()))
        goto out;
    for (int r = 0; r < rows.nrows; r++) {
        if (roles_read_kind(&rows, r) != 'g' || !roles_read_in_page(&rows, r, limit, offset))
            continue;
        struct wsi_row g;
        from_row(&rows, r, ROLES_C_DATA, &g);
        cJSON *o = to_json(&g);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            goto out;
        }
    }
    *out = arr;
    arr = NULL;
    e = WSMS_OK;
out:
    cJSON_Delete(arr);
    return e;
}

wsms_err wsi_get(struct request *rq, const char *iid, cJSON **out)
{
    struct db_rows rows;
    struct wsi_row g;
    *out = NULL;
    wsms_err e = read_query(rq, iid, 1, 0, &rows);
    if (e != WSMS_OK)
        return e;
    for (int r = 0; r < rows.nrows; r++) {
        if (roles_read_kind(&rows, r) != 'g')
            continue;
        from_row(&rows, r, ROLES_C_DATA, &g);
        return (*out = to_json(&g)) ? WSMS_OK : E_INTERNAL_SERVER_ERROR;
    }
    return E_RESOURCE_NOT_FOUND;
}

static cJSON *details_of(const struct wsi_row *g)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !add_str(d, "integration_id", g->id) || !add_str(d, "provider", g->provider) ||
        !add_str(d, "external_id", g->external_id)) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

wsms_err wsi_create(struct request *rq, const struct wsi_in *in, cJSON **out)
{
    char table[TABLE_MAX], id[GUID_LEN + 1], now_iso[25];
    cJSON *details = NULL;
    int64_t now = now_ms();
    *out = NULL;
    wsms_err e = table_of(rq->workspace_id, table);
    if (e != WSMS_OK || guid_new(id) != 0)
        return E_INTERNAL_SERVER_ERROR;
    iso8601_ms(now, now_iso);
    struct wsi_row g = {id,
                        rq->workspace_id,
                        in->provider,
                        in->display_name,
                        in->external_id,
                        in->url,
                        in->extra_config,
                        "Pending",
                        NULL,
                        NULL,
                        rq->user.user_id,
                        now_iso};
    struct db_params p = {0};
    if (!(details = details_of(&g)) ||
        !cJSON_AddStringToObject(details, "display_name", in->display_name))
        goto fail;
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    if ((e = lock_ws(rq->workspace_id)) != WSMS_OK)
        goto out;
    if ((e = check_unique(rq, table, in->provider, in->external_id, NULL)) != WSMS_OK)
        goto out;
    db_param_s(&p, id);
    db_param_s(&p, rq->workspace_id);
    db_param_s(&p, rq->user.user_id);
    db_param_s(&p, in->display_name);
    db_param_s(&p, in->provider);
    db_param_s(&p, in->external_id);
    db_param_s(&p, in->url);
    db_param_s(&p, in->extra_config);
    db_param_s(&p, "Pending");
    db_param_s(&p, rq->user.user_id);
    db_param_t(&p, now);
    if ((e = exec_both(ON_BOTH("INSERT INTO %s (workspace_integration_id, workspace_id, user_id, "
                               "integration_display_name, provider, external_id, url, "
                               "extra_config_json, connection_status, added_by_user_id, "
                               "added_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                       &p, NULL)) != WSMS_OK)
        goto out;
    e = audit_write(rq->workspace_id, "INTEGRATION_ADDED", rq->user.user_id, details);
    goto out;
fail:
    e = E_INTERNAL_SERVER_ERROR;
out:
    e = end_tx(e);
    cJSON_Delete(details);
    if (e == WSMS_OK && !(*out = to_json(&g)))
        e = E_INTERNAL_SERVER_ERROR;
    return e;
}

/* Adds old/new of one changed field to the details. */
static bool diff(cJSON *old, cJSON *nw, const char *k, const char *a, const char *b)
{
    return add_str(old, k, a) && add_str(nw, k, b);
}

wsms_err wsi_update(struct request *rq, const char *iid, const struct wsi_in *in, cJSON **out)
{
    char table[TABLE_MAX];
    struct wsi_row g;
    cJSON *details = cJSON_CreateObject();
    cJSON *old = details ? cJSON_AddObjectToObject(details, "old") : NULL;
    cJSON *nw = details ? cJSON_AddObjectToObject(details, "new") : NULL;
    *out = NULL;
    wsms_err e = table_of(rq->workspace_id, table);
    if (e != WSMS_OK || !old || !nw) {
        cJSON_Delete(details);
        return E_INTERNAL_SERVER_ERROR;
    }
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    if ((e = lock_ws(rq->workspace_id)) != WSMS_OK || (e = load(rq, table, iid, &g)) != WSMS_OK)
        goto out;
    e = E_INTERNAL_SERVER_ERROR;
    if (!cJSON_AddStringToObject(details, "integration_id", iid))
        goto out;
    if (in->set_display_name) {
        if (!diff(old, nw, "display_name", g.display_name, in->display_name))
            goto out;
        g.display_name = in->display_name;
    }
    if (in->set_external_id) {
        if (!diff(old, nw, "external_id", g.external_id, in->external_id))
            goto out;
        g.external_id = in->external_id;
    }
    if (in->set_url) {
        if (!diff(old, nw, "url", g.url, in->url))
            goto out;
        g.url = in->url;
    }
    if (in->set_extra_config) {
        if (!diff(old, nw, "extra_config", g.extra, in->extra_config))
            goto out;
        g.extra = in->extra_config;
    }
    if (in->set_external_id &&
        (e = check_unique(rq, table, g.provider, g.external_id, iid)) != WSMS_OK)
        goto out;
    struct db_params p = {0};
    db_param_s(&p, g.display_name);
    db_param_s(&p, g.external_id);
    db_param_s(&p, g.url);
    db_param_s(&p, g.extra);
    db_param_s(&p, iid);
    db_param_s(&p, rq->workspace_id);
    e = exec_both(
        ON_BOTH("UPDATE %s SET integration_display_name = ?, external_id = ?, url = ?, "
                "extra_config_json = ? WHERE workspace_integration_id = ? AND workspace_id = ?"),
        &p, NULL);
    if (e != WSMS_OK)
        goto out;
    e = audit_write(rq->workspace_id, "INTEGRATION_UPDATED", rq->user.user_id, details);
out:
    e = end_tx(e);
    cJSON_Delete(details);
    if (e == WSMS_OK && !(*out = to_json(&g)))
        e = E_INTERNAL_SERVER_ERROR;
    return e;
}

wsms_err wsi_delete(struct request *rq, const char *iid)
{
    char table[TABLE_MAX];
    struct wsi_row g;
    cJSON *details = NULL;
    long n = 0;
    wsms_err e = table_of(rq->workspace_id, table);
    if (e != WSMS_OK)
        return e;
    struct db_params p = {0};
    db_param_s(&p, iid);
    db_param_s(&p, rq->workspace_id);
    if ((e = db_begin()) != WSMS_OK)
        return e;
    if ((e = lock_ws(rq->workspace_id)) != WSMS_OK || (e = load(rq, table, iid, &g)) != WSMS_OK)
        goto out;
    e = E_INTERNAL_SERVER_ERROR;
    if (!(details = details_of(&g)))
        goto out;
    e = exec_both(ON_BOTH("DELETE FROM %s WHERE workspace_integration_id = ? AND workspace_id = ?"),
                  &p, &n);
    if (e != WSMS_OK)
        goto out;
    e = audit_write(rq->workspace_id, "INTEGRATION_REMOVED", rq->user.user_id, details);
out:
    cJSON_Delete(details);
    return end_tx(e);
}

bool wsi_provider_of(const char *s, enum provider *p, const char **metric)
{
    static const struct {
        const char *name, *metric;
        enum provider p;
    } map[] = {{"Jira", "jira", PROV_JIRA},
               {"ADO", "ado", PROV_ADO},
               {"SNOW", "snow", PROV_SNOW},
               {"SP", "sharepoint", PROV_SP}};
    for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++)
        if (s && strcmp(s, map[i].name) == 0) {
            *p = map[i].p;
            *metric = map[i].metric;
            return true;
        }
    return false;
}

wsms_err wsi_test(struct request *rq, const char *iid, cJSON **out, wsms_err *call)
{
    char table[TABLE_MAX], why[256] = "", reason[300], now_iso[25];
    struct wsi_row g;
    enum provider p;
    const char *metric;
    cJSON *res = NULL, *details = NULL;
    *out = NULL;
    *call = WSMS_OK;
    wsms_err e = table_of(rq->workspace_id, table);
    if (e != WSMS_OK || (e = load(rq, table, iid, &g)) != WSMS_OK)
        return e;
    if (!wsi_provider_of(g.provider, &p, &metric))
        return E_INTERNAL_SERVER_ERROR;
    /* the provider call runs with no transaction (and no lock) open */
    req_stage(rq, metric);
    *call = integ_list(p, &res, why, sizeof(why));
    metrics_integration(metric, *call);
    cJSON_Delete(res);
    int64_t now = now_ms();
    iso8601_ms(now, now_iso);
    const char *status = *call == WSMS_OK ? "Connected" : "Failed";
    if (*call == WSMS_OK)
        snprintf(reason, sizeof(reason), "ok");
    else
        snprintf(reason, sizeof(reason), "%s%s%s", err_code(*call), why[0] ? ": " : "", why);
    if (*call != WSMS_OK)
        log_warn(LG, "test of integration %s failed: %s", iid, reason);
    const char *rs = arena_strdup(rq->arena, reason);
    if (!rs || !(details = details_of(&g)) ||
        !cJSON_AddStringToObject(details, "connection_status", status) ||
        !cJSON_AddStringToObject(details, "reason", reason)) {
        cJSON_Delete(details);
        return E_INTERNAL_SERVER_ERROR;
    }
    long n = 0;
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    if ((e = lock_ws(rq->workspace_id)) != WSMS_OK)
        goto out;
    struct db_params prm = {0};
    db_param_s(&prm, status);
    db_param_s(&prm, rs);
    db_param_t(&prm, now);
    db_param_s(&prm, iid);
    db_param_s(&prm, rq->workspace_id);
    e = exec_both(
        ON_BOTH("UPDATE %s SET connection_status = ?, status_reason = ?, last_checked_utc = ? "
                "WHERE workspace_integration_id = ? AND workspace_id = ?"),
        &prm, &n);
    if (e != WSMS_OK)
        goto out;
    if (n == 0) {
        e = E_RESOURCE_NOT_FOUND; /* unlinked while the provider answered */
        goto out;
    }
    e = audit_write(rq->workspace_id, "INTEGRATION_TESTED", rq->user.user_id, details);
out:
    e = end_tx(e);
    cJSON_Delete(details);
    if (e != WSMS_OK)
        return e;
    g.status = status;
    g.reason = rs;
    g.checked = arena_strdup(rq->arena, now_iso);
    if (!g.checked || !(*out = to_json(&g)))
        return E_INTERNAL_SERVER_ERROR;
    return WSMS_OK;
}
