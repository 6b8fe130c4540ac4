#include "domain/automation/agents.h"

#include "auth/roles.h"
#include "core/arena.h"
#include "core/util.h"
#include "data/db.h"
#include "data/dialect.h"
#include "domain/audit.h"
#include "domain/automation/agent_types.h"
#include "domain/automation/autostore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_COLS                                                                                 \
    "workspace_agent_id, workspace_id, agent_type, name, is_enabled, config_json, created_utc, "   \
    "created_by_user_id, updated_utc, updated_by_user_id"
#define AGENT_NCOLS 10
#define AGENT_TYPES "GGSSBXTSTS" /* auth/roles.h roles_read_start */
#define WHY_MAX     600

struct agent_row {
    const char *id, *workspace_id, *type, *name, *enabled, *config, *created, *created_by, *updated,
        *updated_by;
};

static void from_row(const struct db_rows *rows, int r, int c0, struct agent_row *g)
{
    const char **f[] = {&g->id,     &g->workspace_id, &g->type,       &g->name,    &g->enabled,
                        &g->config, &g->created,      &g->created_by, &g->updated, &g->updated_by};
    for (int c = 0; c < AGENT_NCOLS; c++)
        *f[c] = db_val(rows, r, c0 + c);
}

static cJSON *to_json(const struct agent_row *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *cfg = g->config ? cJSON_Parse(g->config) : NULL;
    if (!cJSON_IsObject(cfg)) {
        cJSON_Delete(cfg);
        cfg = cJSON_CreateObject();
    }
    if (!o || !cfg || !auto_add_str(o, "id", g->id) ||
        !auto_add_str(o, "workspace_id", g->workspace_id) ||
        !auto_add_str(o, "agent_type", g->type) || !auto_add_str(o, "name", g->name) ||
        !auto_add_bool(o, "is_enabled", g->enabled) || !cJSON_AddItemToObject(o, "config", cfg)) {
        if (o && cfg && !cJSON_GetObjectItem(o, "config"))
            cJSON_Delete(cfg);
        else if (!o)
            cJSON_Delete(cfg);
        cJSON_Delete(o);
        return NULL;
    }
    if (!auto_add_str(o, "created_utc", g->created) ||
        !auto_add_str(o, "created_by_user_id", g->created_by) ||
        !auto_add_str(o, "updated_utc", g->updated) ||
        !auto_add_str(o, "updated_by_user_id", g->updated_by)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static wsms_err load(struct request *rq, const char *table, const char *id, struct agent_row *g)
{
    struct db_rows rows;
    const char *sql = arena_printf(rq->arena,
                                   "SELECT " AGENT_COLS " FROM %s WHERE workspace_id = ? AND "
                                   "workspace_agent_id = ?",
                                   table);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(rq->arena, &rows, sql, "ss", rq->workspace_id, id);
    if (e != WSMS_OK)
        return e;
    if (rows.nrows == 0)
        return E_RESOURCE_NOT_FOUND;
    from_row(&rows, 0, 0, g);
    return WSMS_OK;
}

/* The statement of the two reads: the caller's role and the page (id
 * NULL) or the one agent, kind 'g'. */
static wsms_err read_query(struct request *rq, const char *id, long limit, long offset,
                           struct db_rows *rows)
{
    char table[AUTO_TABLE_MAX];
    struct roles_read q;
    wsms_err e = auto_table(rq->workspace_id, "workspace_agents", table);
    if (e != WSMS_OK)
        return e;
    const char *typed = roles_read_cols(rq->arena, "ta", AGENT_COLS);
    const char *cols = roles_read_cols(rq->arena, "g", AGENT_COLS);
    const char *tfrom = arena_printf(rq->arena, "%s ta", table);
    const char *inner =
        arena_printf(rq->arena, AGENT_COLS " FROM %s WHERE workspace_id = ?", table);
    const char *one = arena_printf(
        rq->arena, "FROM %s g WHERE g.workspace_id = ? AND g.workspace_agent_id = ?", table);
    if (!typed || !cols || !tfrom || !inner || !one)
        return E_INTERNAL_SERVER_ERROR;
    /* one statement: the caller's role and the agents (a missing workspace
     * has no table: the statement fails before the role is known and the
     * server answers after the role check, auth/roles.h) */
    if ((e = roles_read_start(&q, rq, AGENT_NCOLS, AGENT_TYPES, typed, tfrom)) != WSMS_OK)
        return e;
    db_param_s(&q.params, rq->workspace_id);
    if (id) {
        e = roles_read_branch(&q, 'g', "1, 1", 0, AGENT_NCOLS, cols, one);
        db_param_s(&q.params, id);
    } else {
        e = roles_read_page(&q, 'g', 0, AGENT_NCOLS, AGENT_COLS, inner,
                            "created_utc, workspace_agent_id", limit, offset);
    }
    return e != WSMS_OK ? e : roles_read_run(&q, rows);
}

wsms_err agents_list(struct request *rq, long limit, long offset, cJSON **out, long *total)
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
        struct agent_row g;
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

wsms_err agents_get(struct request *rq, const char *agent_id, cJSON **out)
{
    struct db_rows rows;
    struct agent_row g;
    *out = NULL;
    wsms_err e = read_query(rq, agent_id, 1, 0, &rows);
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

/* The type's config check, then every integration id against the
 * workspace's integrations. *cfg_text: the config as stored. */
static wsms_err check_config(struct request *rq, const char *type, const cJSON *config,
                             const char **cfg_text, const char **why)
{
    char buf[WHY_MAX];
    const cJSON *ids = NULL;
    const struct agent_type *t = agent_type_find(type);
    if (!t) {
        *why =
            arena_printf(rq->arena, "agent_type \"%s\" is not known (see GET /agent-types)", type);
        return E_VALIDATION_ERROR;
    }
    wsms_err e = agent_config_check(t, config, buf, sizeof(buf), &ids);
    if (e != WSMS_OK) {
        *why = arena_strdup(rq->arena, buf);
        return e;
    }
    if (ids && cJSON_GetArraySize(ids) > 0) {
        char table[AUTO_TABLE_MAX];
        struct db_rows rows;
        if ((e = auto_table(rq->workspace_id, "workspace_integrations", table)) != WSMS_OK)
            return e;
        const char *sql = arena_printf(
            rq->arena, "SELECT workspace_integration_id FROM %s WHERE workspace_id = ?", table);
        if (!sql)
            return E_INTERNAL_SERVER_ERROR;
        if ((e = db_query(rq->arena, &rows, sql, "s", rq->workspace_id)) != WSMS_OK)
            return e;
        const cJSON *it;
        cJSON_ArrayForEach(it, ids)
        {
            bool found = false;
            for (int r = 0; r < rows.nrows && !found; r++)
                found = db_val(&rows, r, 0) && strcmp(db_val(&rows, r, 0), it->valuestring) == 0;
            if (!found) {
                *why = arena_printf(rq->arena,
                                    "config.integration_ids: %s is not an integration of this "
                                    "workspace",
                                    it->valuestring);
                return E_VALIDATION_ERROR;
            }
        }
    }
    char *s = config && !cJSON_IsNull(config) ? cJSON_PrintUnformatted(config) : NULL;
    *cfg_text = arena_strdup(rq->arena, s ? s : "{}");
    free(s);
    return *cfg_text ? WSMS_OK : E_INTERNAL_SERVER_ERROR;
}

wsms_err agents_create(struct request *rq, const struct agent_in *in, cJSON **out, const char **why)
{
    char table[AUTO_TABLE_MAX], id[GUID_LEN + 1], now_iso[25];
    const char *cfg = NULL;
    cJSON *details = NULL;
    int64_t now = now_ms();
    *out = NULL;
    *why = NULL;
    wsms_err e = auto_table(rq->workspace_id, "workspace_agents", table);
    if (e != WSMS_OK || guid_new(id) != 0)
        return E_INTERNAL_SERVER_ERROR;
    iso8601_ms(now, now_iso);
    const char *sql = arena_printf(rq->arena,
                                   "INSERT INTO %s (workspace_agent_id, workspace_id, agent_type, "
                                   "name, is_enabled, config_json, created_utc, "
                                   "created_by_user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                   table);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    if ((e = db_begin()) != WSMS_OK)
        return e;
    if ((e = auto_lock_ws(rq->workspace_id)) != WSMS_OK ||
        (e = check_config(rq, in->agent_type, in->config, &cfg, why)) != WSMS_OK)
        goto out;
    e = db_exec(NULL, sql, "ssssbsts", id, rq->workspace_id, in->agent_type, in->name,
                in->is_enabled ? 1 : 0, cfg, now, rq->user.user_id);
    if (e != WSMS_OK)
        goto out;
    e = E_INTERNAL_SERVER_ERROR;
    if (!(details = cJSON_CreateObject()) || !auto_add_str(details, "agent_id", id) ||
        !auto_add_str(details, "agent_type", in->agent_type) ||
        !auto_add_str(details, "name", in->name))
        goto out;
    e = audit_write(rq->workspace_id, "AGENT_CREATED", rq->user.user_id, details);
out:
    e = auto_end_tx(e);
    cJSON_Delete(details);
    if (e == WSMS_OK) {
        struct agent_row g = {
            id,  rq->workspace_id, in->agent_type,   in->name, in->is_enabled ? "1" : "0",
            cfg, now_iso,          rq->user.user_id, NULL,     NULL};
        if (!(*out = to_json(&g)))
            e = E_INTERNAL_SERVER_ERROR;
    }
    return e;
}

wsms_err agents_update(struct request *rq, const char *agent_id, const struct agent_in *in,
                       cJSON **out, const char **why)
{
    char table[AUTO_TABLE_MAX], now_iso[25];
    struct agent_row g;
    int64_t now = now_ms();
    cJSON *details = cJSON_CreateObject();
    cJSON *old = details ? cJSON_AddObjectToObject(details, "old") : NULL;
    cJSON *nw = details ? cJSON_AddObjectToObject(details, "new") : NULL;
    *out = NULL;
    *why = NULL;
    iso8601_ms(now, now_iso);
    wsms_err e = auto_table(rq->workspace_id, "workspace_agents", table);
    if (e != WSMS_OK || !old || !nw) {
        cJSON_Delete(details);
        return E_INTERNAL_SERVER_ERROR;
    }
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    if ((e = auto_lock_ws(rq->workspace_id)) != WSMS_OK ||
        (e = load(rq, table, agent_id, &g)) != WSMS_OK)
        goto out;
    e = E_INTERNAL_SERVER_ERROR;
    if (!auto_add_str(details, "agent_id", agent_id))
        goto out;
    if (in->set_name) {
        if (!auto_add_str(old, "name", g.name) || !auto_add_str(nw, "name", in->name))
            goto out;
        g.name = in->name;
    }
    if (in->set_is_enabled) {
        const char *v = in->is_enabled ? "1" : "0";
        if (!auto_add_bool(old, "is_enabled", g.enabled) || !auto_add_bool(nw, "is_enabled", v))
            goto out;
        g.enabled = v;
    }
    if (in->set_config) {
        const char *cfg = NULL;
        if ((e = check_config(rq, g.type, in->config, &cfg, why)) != WSMS_OK)
            goto out;
        e = E_INTERNAL_SERVER_ERROR;
        cJSON *o = g.config ? cJSON_Parse(g.config) : cJSON_CreateObject();
        cJSON *n = cJSON_Parse(cfg);
        bool ok = o && n && cJSON_AddItemToObject(old, "config", o);
        if (!ok)
            cJSON_Delete(o);
        if (!ok || !cJSON_AddItemToObject(nw, "config", n)) {
            cJSON_Delete(n);
            goto out;
        }
        g.config = cfg;
    }
    const char *sql = arena_printf(rq->arena,
                                   "UPDATE %s SET name = ?, is_enabled = ?, config_json = ?, "
                                   "updated_utc = ?, updated_by_user_id = ? WHERE workspace_id = "
                                   "? AND workspace_agent_id = ?",
                                   table);
    if (!sql)
        goto out;
    e = db_exec(NULL, sql, "sbstsss", g.name, strcmp(g.enabled, "0") != 0 ? 1 : 0, g.config, now,
                rq->user.user_id, rq->workspace_id, agent_id);
    if (e != WSMS_OK)
        goto out;
    e = audit_write(rq->workspace_id, "AGENT_UPDATED", rq->user.user_id, details);
out:
    e = auto_end_tx(e);
    cJSON_Delete(details);
    if (e == WSMS_OK) {
        g.updated = arena_strdup(rq->arena, now_iso);
        g.updated_by = rq->user.user_id;
        if (!g.updated || !(*out = to_json(&g)))
            e = E_INTERNAL_SERVER_ERROR;
    }
    return e;
}

wsms_err agents_delete(struct request *rq, const char *agent_id, const char **why)
{
    char table[AUTO_TABLE_MAX], jobs[AUTO_TABLE_MAX];
    struct agent_row g;
    struct db_rows rows;
    cJSON *details = NULL;
    *why = NULL;
    wsms_err e = auto_table(rq->workspace_id, "workspace_agents", table);
    if (e == WSMS_OK)
        e = auto_table(rq->workspace_id, "automation_jobs", jobs);
    if (e != WSMS_OK)
        return e;
    const char *q = arena_printf(rq->arena,
                                 "SELECT name, is_active FROM %s WHERE workspace_id = ? AND "
                                 "workspace_agent_id = ? ORDER BY name",
                                 jobs);
    const char *detach = arena_printf(rq->arena,
                                      "UPDATE %s SET workspace_agent_id = NULL WHERE "
                                      "workspace_id = ? AND workspace_agent_id = ?",
                                      jobs);
    const char *del = arena_printf(
        rq->arena, "DELETE FROM %s WHERE workspace_id = ? AND workspace_agent_id = ?", table);
    if (!q || !detach || !del)
        return E_INTERNAL_SERVER_ERROR;
    if ((e = db_begin()) != WSMS_OK)
        return e;
    if ((e = auto_lock_ws(rq->workspace_id)) != WSMS_OK ||
        (e = load(rq, table, agent_id, &g)) != WSMS_OK)
        goto out;
    if ((e = db_query(rq->arena, &rows, q, "ss", rq->workspace_id, agent_id)) != WSMS_OK)
        goto out;
    char names[WHY_MAX] = "";
    size_t used = 0;
    int active = 0;
    for (int r = 0; r < rows.nrows; r++) {
        if (!db_val_bool(&rows, r, 1))
            continue;
        int w = snprintf(names + used, used < sizeof(names) ? sizeof(names) - used : 0, "%s\"%s\"",
                         active ? ", " : "", db_val(&rows, r, 0));
        if (w > 0)
            used += (size_t)w;
        active++;
    }
    if (active) {
        *why = arena_printf(rq->arena, "The agent is used by active job%s: %s",
                            active > 1 ? "s" : "", names);
        e = E_CONFLICT;
        goto out;
    }
    if (rows.nrows > 0 && (e = db_exec(NULL, detach, "ss", rq->workspace_id, agent_id)) != WSMS_OK)
        goto out;
    if ((e = db_exec(NULL, del, "ss", rq->workspace_id, agent_id)) != WSMS_OK)
        goto out;
    e = E_INTERNAL_SERVER_ERROR;
    if (!(details = cJSON_CreateObject()) || !auto_add_str(details, "agent_id", agent_id) ||
        !auto_add_str(details, "agent_type", g.type) || !auto_add_str(details, "name", g.name) ||
        !cJSON_AddNumberToObject(details, "jobs_detached", rows.nrows))
        goto out;
    e = audit_write(rq->workspace_id, "AGENT_DELETED", rq->user.user_id, details);
out:
    cJSON_Delete(details);
    return auto_end_tx(e);
}
