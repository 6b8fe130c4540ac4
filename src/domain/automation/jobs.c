#include "domain/automation/jobs.h"

#include "auth/roles.h"
#include "core/arena.h"
#include "core/util.h"
#include "data/db.h"
#include "data/dialect.h"
#include "domain/audit.h"
#include "domain/automation/autostore.h"
#include "domain/automation/cron.h"
#include "domain/automation/dag.h"
#include "http/hooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEXT_RUNS 5
#define WHY_MAX   1024

/* The job columns every read selects (table alias j or p), then the
 * JobSchedule next fire time and one dependency per row. */
#define JOB_COLS(t)                                                                                \
    t ".job_id, " t ".workspace_id, " t ".name, " t ".workspace_agent_id, " t ".schedule_cron, " t \
      ".is_active, " t ".timeout_seconds, " t ".max_retries, " t ".created_utc, " t                \
      ".created_by_user_id, " t ".updated_utc"
enum {
    C_ID,
    C_WS,
    C_NAME,
    C_AGENT,
    C_CRON,
    C_ACTIVE,
    C_TIMEOUT,
    C_RETRIES,
    C_CREATED,
    C_CREATED_BY,
    C_UPDATED,
    C_NEXT,
    C_DEP
};

struct tables {
    char jobs[AUTO_TABLE_MAX], deps[AUTO_TABLE_MAX], agents[AUTO_TABLE_MAX];
};

static wsms_err tables_of_schema(const char *schema, struct tables *t)
{
    wsms_err e = auto_table_of_schema(schema, "automation_jobs", t->jobs);
    if (e == WSMS_OK)
        e = auto_table_of_schema(schema, "automation_job_deps", t->deps);
    if (e == WSMS_OK)
        e = auto_table_of_schema(schema, "workspace_agents", t->agents);
    return e;
}

static wsms_err tables_of(const char *ws_id, struct tables *t)
{
    char schema[36];
    if (!ws_id || dialect_schema_name(ws_id, schema) != 0)
        return E_INTERNAL_SERVER_ERROR;
    return tables_of_schema(schema, t);
}

/* "2026-12-02T10:00:00Z" (whole seconds; every fire time is a minute). */
static void iso_s(int64_t ms, char out[25])
{
    iso8601_ms(ms, out);
    char *dot = strchr(out, '.');
    if (dot) {
        dot[0] = 'Z';
        dot[1] = '\0';
    }
}

/* The first fire time after now_ms, or -1 (no schedule, inactive, or a
 * stored expression that no longer parses). */
static int64_t next_fire_ms(const char *cron_expr, bool active, int64_t now)
{
    struct cron c;
    char why[160];
    int64_t next;
    if (!cron_expr || !active || cron_parse(cron_expr, &c, why, sizeof(why)) != WSMS_OK)
        return -1;
    int64_t after = now / 1000;
    after -= ((after % 60) + 60) % 60;
    if (cron_next(&c, after, &next) != 0)
        return -1;
    return next * 1000;
}

/* ---------------------------------------------------------------- JSON */

struct job_row {
    const char *id, *ws, *name, *agent, *cron, *active, *timeout, *retries, *created, *created_by,
        *updated, *next;
    const char **deps;
    size_t ndeps;
};

static cJSON *to_json(struct request *rq, const struct job_row *g)
{
    cJSON *o = cJSON_CreateObject(), *deps, *runs;
    if (!o || !auto_add_str(o, "id", g->id) || !auto_add_str(o, "workspace_id", g->ws) ||
        !auto_add_str(o, "name", g->name) || !auto_add_str(o, "agent_id", g->agent) ||
        !auto_add_str(o, "schedule_cron", g->cron) ||
        !(deps = cJSON_AddArrayToObject(o, "depends_on")))
        goto fail;
    for (size_t i = 0; i < g->ndeps; i++) {
        cJSON *s = cJSON_CreateString(g->deps[i]);
        if (!s || !cJSON_AddItemToArray(deps, s)) {
            cJSON_Delete(s);
            goto fail;
        }
    }
    bool active = g->active && strcmp(g->active, "0") != 0;
    if (!cJSON_AddBoolToObject(o, "is_active", active) ||
        !cJSON_AddNumberToObject(o, "timeout_seconds", g->timeout ? atof(g->timeout) : 3600) ||
        !cJSON_AddNumberToObject(o, "max_retries", g->retries ? atof(g->retries) : 0) ||
        !(runs = cJSON_AddArrayToObject(o, "next_runs")))
        goto fail;
    struct cron c;
    char why[160];
    if (g->cron && active && cron_parse(g->cron, &c, why, sizeof(why)) == WSMS_OK) {
        int64_t now = hook_now_ms(rq) / 1000, t[NEXT_RUNS];
        now -= ((now % 60) + 60) % 60;
        size_t n = cron_next_n(&c, now, t, NEXT_RUNS);
        for (size_t i = 0; i < n; i++) {
            char iso[25];
            iso_s(t[i] * 1000, iso);
            cJSON *s = cJSON_CreateString(iso);
            if (!s || !cJSON_AddItemToArray(runs, s)) {
                cJSON_Delete(s);
                goto fail;
            }
        }
    }
    char next[25];
    int64_t nm = g->next ? iso8601_parse_ms(g->next) : -1;
    if (nm >= 0)
        iso_s(nm, next);
    if (!auto_add_str(o, "next_fire_utc", nm >= 0 ? next : NULL) ||
        !auto_add_str(o, "created_utc", g->created) ||
        !auto_add_str(o, "created_by_user_id", g->created_by) ||
        !auto_add_str(o, "updated_utc", g->updated))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* Groups consecutive rows of one job (one row per dependency) into
 * job_rows. *n gets the count. */
static wsms_err group_rows(struct arena *a, const struct db_rows *rows, struct job_row **out,
                           size_t *n)
{
    *n = 0;
    *out = rows->nrows ? arena_alloc(a, sizeof(**out) * (size_t)rows->nrows) : NULL;
    if (rows->nrows && !*out)
        return E_INTERNAL_SERVER_ERROR;
    for (int r = 0; r < rows->nrows; r++) {
        const char *id = db_val(rows, r, C_ID);
        struct job_row *g = *n ? &(*out)[*n - 1] : NULL;
        if (!g || !id || strcmp(g->id, id) != 0) {
            g = &(*out)[(*n)++];
            const char **f[] = {&g->id,      &g->ws,         &g->name,    &g->agent,
                                &g->cron,    &g->active,     &g->timeout, &g->retries,
                                &g->created, &g->created_by, &g->updated, &g->next};
            for (int c = 0; c <= C_NEXT; c++)
                *f[c] = db_val(rows, r, c);
            g->ndeps = 0;
            g->deps = arena_alloc(a, sizeof(char *) * (size_t)rows->nrows);
            if (!g->deps)
                return E_INTERNAL_SERVER_ERROR;
        }
        if (db_val(rows, r, C_DEP))
            g->deps[g->ndeps++] = db_val(rows, r, C_DEP);
    }
    return WSMS_OK;
}

/* One job with its dependencies and stored next fire time: one statement. */
static wsms_err load(struct request *rq, const struct tables *t, const char *job_id,
                     struct job_row *g)
{
    struct db_rows rows;
    struct job_row *all;
    size_t n;
    const char *sql =
        arena_printf(rq->arena,
                     "SELECT " JOB_COLS(
                         "j") ", s.next_fire_utc, d.parent_job_id FROM %s j "
                              "LEFT JOIN pmassist_master.JobSchedule s ON s.job_id = j.job_id "
                              "LEFT JOIN %s d ON d.workspace_id = ? AND d.job_id = j.job_id "
                              "WHERE j.workspace_id = ? AND j.job_id = ? ORDER BY d.parent_job_id",
                     t->jobs, t->deps);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(rq->arena, &rows, sql, "sss", rq->workspace_id, rq->workspace_id, job_id);
    if (e == WSMS_OK)
        e = group_rows(rq->arena, &rows, &all, &n);
    if (e != WSMS_OK)
        return e;
    if (n == 0)
        return E_RESOURCE_NOT_FOUND;
    *g = all[0];
    return WSMS_OK;
}

/* The reads' columns: the job with its next fire time (kind 'j'), then a
 * dependency (kind 'd': job, parent). */
#define JOB_PLAIN                                                                                  \
    "job_id, workspace_id, name, workspace_agent_id, schedule_cron, is_active, timeout_seconds, "  \
    "max_retries, created_utc, created_by_user_id, updated_utc, next_fire_utc"
#define JOB_NCOLS  12
#define READ_NDATA (JOB_NCOLS + 2)
#define READ_TYPES                                                                                 \
    "GGSGSBIITSTT"                                                                                 \
    "GG" /* auth/roles.h roles_read_start */

/* The statement of the two reads: the caller's role, the page (job_id
 * NULL) or the one job, and the dependencies of the workspace's jobs (of
 * the one job). A missing workspace has no tables: the statement fails
 * before the role is known and the server answers after the role check. */
static wsms_err read_query(struct request *rq, const char *job_id, long limit, long offset,
                           struct db_rows *rows)
{
    struct tables t;
    struct roles_read q;
    struct arena *a = rq->arena;
    wsms_err e = tables_of(rq->workspace_id, &t);
    if (e != WSMS_OK)
        return e;
    const char *typed = arena_printf(a, JOB_COLS("tj") ", ts.next_fire_utc, td.job_id, "
                                                       "td.parent_job_id");
    const char *tfrom =
        arena_printf(a, "%s tj, pmassist_master.JobSchedule ts, %s td", t.jobs, t.deps);
    const char *inner = arena_printf(a,
                                     JOB_COLS("j") ", s.next_fire_utc FROM %s j "
                                                   "LEFT JOIN pmassist_master.JobSchedule s ON "
                                                   "s.job_id = j.job_id WHERE j.workspace_id = ?%s",
                                     t.jobs, job_id ? " AND j.job_id = ?" : "");
    const char *deps = arena_printf(a, "FROM %s d WHERE d.workspace_id = ?%s", t.deps,
                                    job_id ? " AND d.job_id = ?" : "");
    if (!typed || !tfrom || !inner || !deps)
        return E_INTERNAL_SERVER_ERROR;
    if ((e = roles_read_start(&q, rq, READ_NDATA, READ_TYPES, typed, tfrom)) != WSMS_OK)
        return e;
    db_param_s(&q.params, rq->workspace_id);
    if (job_id)
        db_param_s(&q.params, job_id);
    if ((e = roles_read_page(&q, 'j', 0, JOB_NCOLS, JOB_PLAIN, inner, "j.created_utc, j.job_id",
                             limit, offset)) != WSMS_OK)
        return e;
    e = roles_read_branch(&q, 'd', "ROW_NUMBER() OVER (ORDER BY d.job_id, d.parent_job_id), 0",
                          JOB_NCOLS, 2, "d.job_id, d.parent_job_id", deps);
    db_param_s(&q.params, rq->workspace_id);
    if (job_id)
        db_param_s(&q.params, job_id);
    return e != WSMS_OK ? e : roles_read_run(&q, rows);
}

/* Job row r (kind 'j') with its dependencies (the 'd' rows), as JSON. */
static cJSON *read_job_json(struct request *rq, const struct db_rows *rows, int r)
{
    struct job_row g;
    const char **f[] = {&g.id,      &g.ws,      &g.name,    &g.agent,      &g.cron,    &g.active,
                        &g.timeout, &g.retries, &g.created, &g.created_by, &g.updated, &g.next};
    for (int c = 0; c < JOB_NCOLS; c++)
        *f[c] = db_val(rows, r, ROLES_C_DATA + c);
    g.ndeps = 0;
    g.deps = arena_alloc(rq->arena, sizeof(char *) * (size_t)(rows->nrows + 1));
    if (!g.deps || !g.id)
        return NULL;
    for (int d = 0; d < rows->nrows; d++) {
        const char *jid = db_val(rows, d, ROLES_C_DATA + JOB_NCOLS);
        const char *parent = db_val(rows, d, ROLES_C_DATA + JOB_NCOLS + 1);
        if (roles_read_kind(rows, d) == 'd' && jid && parent && strcmp(jid, g.id) == 0)
            g.deps[g.ndeps++] = parent;
    }
    return to_json(rq, &g);
}

wsms_err jobs_list(struct request *rq, long limit, long offset, cJSON **out, long *total)
{
    struct db_rows rows;
    cJSON *arr = NULL;
    *out = NULL;
    *total = 0;
    wsms_err e = read_query(rq, NULL, limit, offset, &rows);
    if (e != WSMS_OK)
        return e;
    *total = roles_read_total(&rows, 'j');
    if (!(arr = cJSON_CreateArray()))
        return E_INTERNAL_SERVER_ERROR;
    for (int r = 0; r < rows.nrows; r++) {
        if (roles_read_kind(&rows, r) != 'j' || !roles_read_in_page(&rows, r, limit, offset))
            continue;
        cJSON *o = read_job_json(rq, &rows, r);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return E_INTERNAL_SERVER_ERROR;
        }
    }
    *out = arr;
    return WSMS_OK;
}

wsms_err jobs_get(struct request *rq, const char *job_id, cJSON **out)
{
    struct db_rows rows;
    *out = NULL;
    wsms_err e = read_query(rq, job_id, 1, 0, &rows);
    if (e != WSMS_OK)
        return e;
    for (int r = 0; r < rows.nrows; r++)
        if (roles_read_kind(&rows, r) == 'j')
            return (*out = read_job_json(rq, &rows, r)) ? WSMS_OK : E_INTERNAL_SERVER_ERROR;
    return E_RESOURCE_NOT_FOUND;
}

/* ------------------------------------------------------------- the graph */

/* Every job (id, name) and every dependency edge of the workspace. */
struct graph {
    struct db_rows jobs, edges;
};

static wsms_err graph_load(struct arena *a, const struct tables *t, const char *ws_id,
                           struct graph *g)
{
    const char *js = arena_printf(a, "SELECT job_id, name FROM %s WHERE workspace_id = ?", t->jobs);
    const char *es = arena_printf(
        a, "SELECT job_id, parent_job_id FROM %s WHERE workspace_id = ? ORDER BY job_id", t->deps);
    if (!js || !es)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(a, &g->jobs, js, "s", ws_id);
    if (e == WSMS_OK)
        e = db_query(a, &g->edges, es, "s", ws_id);
    return e;
}

static int graph_index(const struct graph *g, const char *id)
{
    for (int r = 0; r < g->jobs.nrows; r++)
        if (db_val(&g->jobs, r, 0) && strcmp(db_val(&g->jobs, r, 0), id) == 0)
            return r;
    return -1;
}

/* The names of ids ("a", "b") for messages; ids not found are shown as
 * they are. */
static const char *names_of(struct arena *a, const struct graph *g, const char *const *ids,
                            size_t n)
{
    char buf[WHY_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        int k = graph_index(g, ids[i]);
        const char *nm = k >= 0 ? db_val(&g->jobs, k, 1) : ids[i];
        int w = snprintf(buf + used, used < sizeof(buf) ? sizeof(buf) - used : 0, "%s\"%s\"",
                         i ? ", " : "", nm);
        if (w > 0)
            used += (size_t)w;
    }
    return arena_strdup(a, buf);
}

/* Refuses a cycle once job_idx's dependencies are deps[0..ndeps): builds
 * the graph with job_idx first (so the path starts at the changed job). */
static wsms_err check_acyclic(struct arena *a, const struct graph *g, int job_idx,
                              const char *const *deps, size_t ndeps, const char **why)
{
    size_t n = (size_t)g->jobs.nrows;
    struct dag_node *nodes = arena_alloc(a, sizeof(*nodes) * (n ? n : 1));
    size_t *perm = arena_alloc(a, sizeof(size_t) * (n ? n : 1)); /* row -> node */
    size_t *idx = arena_alloc(a, sizeof(size_t) * ((size_t)g->edges.nrows + ndeps + 1));
    if (!nodes || !perm || !idx)
        return E_INTERNAL_SERVER_ERROR;
    for (size_t r = 0, k = 1; r < n; r++)
        perm[r] = (int)r == job_idx ? 0 : k++;
    size_t used = 0;
    for (size_t r = 0; r < n; r++) {
        struct dag_node *nd = &nodes[perm[r]];
        const char *id = db_val(&g->jobs, (int)r, 0);
        nd->label = db_val(&g->jobs, (int)r, 1);
        nd->deps = idx + used;
        nd->ndeps = 0;
        if ((int)r == job_idx) {
            for (size_t i = 0; i < ndeps; i++) {
                int p = graph_index(g, deps[i]);
                if (p < 0)
                    return E_INTERNAL_SERVER_ERROR;
                idx[used++] = perm[p];
                nd->ndeps++;
            }
            continue;
        }
        for (int e = 0; e < g->edges.nrows; e++) {
            if (strcmp(db_val(&g->edges, e, 0), id) != 0)
                continue;
            int p = graph_index(g, db_val(&g->edges, e, 1));
            if (p < 0)
                continue;
            idx[used++] = perm[p];
            nd->ndeps++;
        }
    }
    char path[WHY_MAX - 64];
    int rc = dag_find_cycle(nodes, n, path, sizeof(path));
    if (rc < 0)
        return E_INTERNAL_SERVER_ERROR;
    if (rc == 1) {
        *why = arena_printf(a, "depends_on would make a dependency cycle: %s", path);
        return E_VALIDATION_ERROR;
    }
    return WSMS_OK;
}

/* Every id of deps is a job of the workspace. */
static wsms_err check_deps_exist(struct arena *a, const struct graph *g, const char *const *deps,
                                 size_t ndeps, const char **why)
{
    for (size_t i = 0; i < ndeps; i++)
        if (graph_index(g, deps[i]) < 0) {
            *why = arena_printf(a, "depends_on: %s is not a job of this workspace", deps[i]);
            return E_VALIDATION_ERROR;
        }
    return WSMS_OK;
}

static wsms_err check_agent(struct request *rq, const struct tables *t, const char *agent_id,
                            const char **why)
{
    struct db_rows rows;
    const char *sql = arena_printf(
        rq->arena, "SELECT COUNT(*) FROM %s WHERE workspace_id = ? AND workspace_agent_id = ?",
        t->agents);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(rq->arena, &rows, sql, "ss", rq->workspace_id, agent_id);
    if (e == WSMS_OK && db_val_ll(&rows, 0, 0, 0) == 0) {
        *why = arena_printf(rq->arena, "agent_id: %s is not an agent of this workspace", agent_id);
        e = E_VALIDATION_ERROR;
    }
    return e;
}

static wsms_err insert_deps(const struct tables *t, struct arena *a, const char *ws_id,
                            const char *job_id, const char *const *deps, size_t ndeps)
{
    const char *sql = arena_printf(
        a, "INSERT INTO %s (workspace_id, job_id, parent_job_id) VALUES (?, ?, ?)", t->deps);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    for (size_t i = 0; i < ndeps; i++) {
        wsms_err e = db_exec(NULL, sql, "sss", ws_id, job_id, deps[i]);
        if (e != WSMS_OK)
            return e;
    }
    return WSMS_OK;
}

/* The JobSchedule row of a job as it is now (insert or update); next < 0
 * stores NULL. */
static wsms_err schedule_write(bool insert, const char *job_id, const char *ws_id,
                               const char *cron_expr, bool active, int64_t next, int64_t now)
{
    char schema[36];
    if (dialect_schema_name(ws_id, schema) != 0)
        return E_INTERNAL_SERVER_ERROR;
    int act = active ? 1 : 0;
    if (insert && next >= 0)
        return db_exec(NULL,
                       "INSERT INTO pmassist_master.JobSchedule (job_id, workspace_id, "
                       "db_schema_name, schedule_cron, next_fire_utc, is_active, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       "sssstbt", job_id, ws_id, schema, cron_expr, next, act, now);
    if (insert)
        return db_exec(NULL,
                       "INSERT INTO pmassist_master.JobSchedule (job_id, workspace_id, "
                       "db_schema_name, schedule_cron, next_fire_utc, is_active, updated_at) "
                       "VALUES (?, ?, ?, ?, NULL, ?, ?)",
                       "ssssbt", job_id, ws_id, schema, cron_expr, act, now);
    if (next >= 0)
        return db_exec(NULL,
                       "UPDATE pmassist_master.JobSchedule SET schedule_cron = ?, "
                       "next_fire_utc = ?, is_active = ?, updated_at = ? WHERE job_id = ?",
                       "stbts", cron_expr, next, act, now, job_id);
    return db_exec(
        NULL,
        "UPDATE pmassist_master.JobSchedule SET schedule_cron = ?, next_fire_utc = NULL, "
        "is_active = ?, updated_at = ? WHERE job_id = ?",
        "sbts", cron_expr, act, now, job_id);
}

static cJSON *ids_json(const char *const *ids, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *s = cJSON_CreateString(ids[i]);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

/* A job cannot have both a schedule and dependencies, nor be active
 * without an agent. */
static wsms_err check_shape(struct arena *a, const char *cron_expr, size_t ndeps, bool active,
                            const char *agent, const char **why)
{
    if (cron_expr && ndeps > 0) {
        *why = arena_strdup(a, "a job has a schedule_cron or depends_on (or neither), not both");
        return E_VALIDATION_ERROR;
    }
    if (active && !agent) {
        *why = arena_strdup(a, "agent_id: an active job needs an agent");
        return E_VALIDATION_ERROR;
    }
    return WSMS_OK;
}

static wsms_err map_conflict(struct request *rq, wsms_err e, const char *name, const char **why)
{
    if (e == E_CONFLICT && !*why)
        *why = arena_printf(rq->arena, "A job named \"%s\" already exists in this workspace", name);
    return e;
}

wsms_err jobs_create(struct request *rq, const struct job_in *in, cJSON **out, const char **why)
{
    struct tables t;
    struct graph g;
    char id[GUID_LEN + 1], now_iso[25];
    cJSON *details = NULL, *deps = NULL;
    int64_t now = now_ms(), clock = hook_now_ms(rq);
    bool active = in->set_is_active ? in->is_active : true;
    int timeout = in->set_timeout_seconds ? in->timeout_seconds : 3600;
    int retries = in->set_max_retries ? in->max_retries : 0;
    int64_t next = next_fire_ms(in->schedule_cron, active, clock);
    *out = NULL;
    *why = NULL;
    wsms_err e = tables_of(rq->workspace_id, &t);
    if (e != WSMS_OK || guid_new(id) != 0)
        return E_INTERNAL_SERVER_ERROR;
    iso8601_ms(now, now_iso);
    if ((e = check_shape(rq->arena, in->schedule_cron, in->ndeps, active, in->agent_id, why)) !=
        WSMS_OK)
        return e;
    const char *sql = arena_printf(rq->arena,
                                   "INSERT INTO %s (job_id, workspace_id, workspace_agent_id, "
                                   "name, schedule_cron, is_active, timeout_seconds, max_retries, "
                                   "created_utc, created_by_user_id) VALUES (?, ?, ?, ?, ?, ?, ?, "
                                   "?, ?, ?)",
                                   t.jobs);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    if ((e = db_begin()) != WSMS_OK)
        return e;
    if ((e = auto_lock_ws(rq->workspace_id)) != WSMS_OK ||
        (in->agent_id && (e = check_agent(rq, &t, in->agent_id, why)) != WSMS_OK))
        goto out;
    if (in->ndeps &&
        ((e = graph_load(rq->arena, &t, rq->workspace_id, &g)) != WSMS_OK ||
         (e = check_deps_exist(rq->arena, &g, in->depends_on, in->ndeps, why)) != WSMS_OK))
        goto out;
    e = db_exec(NULL, sql, "sssssbiits", id, rq->workspace_id, in->agent_id, in->name,
                in->schedule_cron, active ? 1 : 0, (long long)timeout, (long long)retries, now,
                rq->user.user_id);
    if (e != WSMS_OK)
        goto out;
    if ((e = insert_deps(&t, rq->arena, rq->workspace_id, id, in->depends_on, in->ndeps)) !=
        WSMS_OK)
        goto out;
    if ((e = schedule_write(true, id, rq->workspace_id, in->schedule_cron, active, next, now)) !=
        WSMS_OK)
        goto out;
    e = E_INTERNAL_SERVER_ERROR;
    if (!(details = cJSON_CreateObject()) || !auto_add_str(details, "job_id", id) ||
        !auto_add_str(details, "name", in->name) ||
        !auto_add_str(details, "agent_id", in->agent_id) ||
        !auto_add_str(details, "schedule_cron", in->schedule_cron) ||
        !(deps = ids_json(in->depends_on, in->ndeps)))
        goto out;
    if (!cJSON_AddItemToObject(details, "depends_on", deps)) {
        cJSON_Delete(deps);
        goto out;
    }
    e = audit_write(rq->workspace_id, "JOB_CREATED", rq->user.user_id, details);
out:
    e = auto_end_tx(map_conflict(rq, e, in->name, why));
    cJSON_Delete(details);
    if (e == WSMS_OK) {
        struct job_row g2;
        memset(&g2, 0, sizeof(g2));
        char nx[25];
        if (next >= 0)
            iso8601_ms(next, nx);
        g2.id = id;
        g2.ws = rq->workspace_id;
        g2.name = in->name;
        g2.agent = in->agent_id;
        g2.cron = in->schedule_cron;
        g2.active = active ? "1" : "0";
        g2.timeout = arena_printf(rq->arena, "%d", timeout);
        g2.retries = arena_printf(rq->arena, "%d", retries);
        g2.created = now_iso;
        g2.created_by = rq->user.user_id;
        g2.next = next >= 0 ? nx : NULL;
        g2.deps = in->depends_on;
        g2.ndeps = in->ndeps;
        if (!g2.timeout || !g2.retries || !(*out = to_json(rq, &g2)))
            e = E_INTERNAL_SERVER_ERROR;
    }
    return e;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* old/new of one changed string field into the audit details. */
static bool diff_str(cJSON *old, cJSON *nw, const char *k, const char *a, const char *b)
{
    return auto_add_str(old, k, a) && auto_add_str(nw, k, b);
}

wsms_err jobs_update(struct request *rq, const char *job_id, const struct job_in *in, cJSON **out,
                     const char **why)
{
    struct tables t;
    struct graph gr;
    struct job_row g;
    char now_iso[25];
    int64_t now = now_ms(), clock = hook_now_ms(rq);
    cJSON *details = cJSON_CreateObject();
    cJSON *old = details ? cJSON_AddObjectToObject(details, "old") : NULL;
    cJSON *nw = details ? cJSON_AddObjectToObject(details, "new") : NULL;
    *out = NULL;
    *why = NULL;
    iso8601_ms(now, now_iso);
    wsms_err e = tables_of(rq->workspace_id, &t);
    if (e != WSMS_OK || !old || !nw) {
        cJSON_Delete(details);
        return E_INTERNAL_SERVER_ERROR;
    }
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    if ((e = auto_lock_ws(rq->workspace_id)) != WSMS_OK ||
        (e = load(rq, &t, job_id, &g)) != WSMS_OK)
        goto out;
    bool was_active = strcmp(g.active, "0") != 0, active = was_active;
    const char *old_cron = g.cron;
    e = E_INTERNAL_SERVER_ERROR;
    if (!auto_add_str(details, "job_id", job_id))
        goto out;
    if (in->set_name) {
        if (!diff_str(old, nw, "name", g.name, in->name))
            goto out;
        g.name = in->name;
    }
    if (in->set_agent_id) {
        if (!diff_str(old, nw, "agent_id", g.agent, in->agent_id))
            goto out;
        g.agent = in->agent_id;
    }
    if (in->set_schedule_cron) {
        if (!diff_str(old, nw, "schedule_cron", g.cron, in->schedule_cron))
            goto out;
        g.cron = in->schedule_cron;
    }
    if (in->set_is_active) {
        if (!cJSON_AddBoolToObject(old, "is_active", was_active) ||
            !cJSON_AddBoolToObject(nw, "is_active", in->is_active))
            goto out;
        active = in->is_active;
        g.active = active ? "1" : "0";
    }
    if (in->set_timeout_seconds) {
        if (!cJSON_AddNumberToObject(old, "timeout_seconds", atof(g.timeout)) ||
            !cJSON_AddNumberToObject(nw, "timeout_seconds", in->timeout_seconds) ||
            !(g.timeout = arena_printf(rq->arena, "%d", in->timeout_seconds)))
            goto out;
    }
    if (in->set_max_retries) {
        if (!cJSON_AddNumberToObject(old, "max_retries", atof(g.retries)) ||
            !cJSON_AddNumberToObject(nw, "max_retries", in->max_retries) ||
            !(g.retries = arena_printf(rq->arena, "%d", in->max_retries)))
            goto out;
    }
    if (in->set_depends_on) {
        cJSON *o = ids_json(g.deps, g.ndeps), *n = ids_json(in->depends_on, in->ndeps);
        bool ok = o && cJSON_AddItemToObject(old, "depends_on", o);
        if (!ok)
            cJSON_Delete(o);
        if (!ok || !n || !cJSON_AddItemToObject(nw, "depends_on", n)) {
            cJSON_Delete(n);
            goto out;
        }
        g.deps = in->depends_on;
        g.ndeps = in->ndeps;
    }
    if ((e = check_shape(rq->arena, g.cron, g.ndeps, active, g.agent, why)) != WSMS_OK)
        goto out;
    if (in->set_agent_id && g.agent && (e = check_agent(rq, &t, g.agent, why)) != WSMS_OK)
        goto out;
    if (in->set_depends_on) {
        if ((e = graph_load(rq->arena, &t, rq->workspace_id, &gr)) != WSMS_OK ||
            (e = check_deps_exist(rq->arena, &gr, g.deps, g.ndeps, why)) != WSMS_OK ||
            (e = check_acyclic(rq->arena, &gr, graph_index(&gr, job_id), g.deps, g.ndeps, why)) !=
                WSMS_OK)
            goto out;
    }
    const char *sql = arena_printf(rq->arena,
                                   "UPDATE %s SET name = ?, workspace_agent_id = ?, "
                                   "schedule_cron = ?, is_active = ?, timeout_seconds = ?, "
                                   "max_retries = ?, updated_utc = ? WHERE workspace_id = ? AND "
                                   "job_id = ?",
                                   t.jobs);
    const char *dsql =
        arena_printf(rq->arena, "DELETE FROM %s WHERE workspace_id = ? AND job_id = ?", t.deps);
    e = E_INTERNAL_SERVER_ERROR;
    if (!sql || !dsql)
        goto out;
    e = db_exec(NULL, sql, "sssbiitss", g.name, g.agent, g.cron, active ? 1 : 0,
                strtoll(g.timeout, NULL, 10), strtoll(g.retries, NULL, 10), now, rq->workspace_id,
                job_id);
    if (e != WSMS_OK)
        goto out;
    if (in->set_depends_on &&
        ((e = db_exec(NULL, dsql, "ss", rq->workspace_id, job_id)) != WSMS_OK ||
         (e = insert_deps(&t, rq->arena, rq->workspace_id, job_id, g.deps, g.ndeps)) != WSMS_OK))
        goto out;
    /* the next fire time moves only when the schedule or the active flag
     * changes: a rename must not skip a fire time that is due */
    if (active != was_active || !same_str(old_cron, g.cron)) {
        int64_t next = next_fire_ms(g.cron, active, clock);
        if ((e = schedule_write(false, job_id, rq->workspace_id, g.cron, active, next, now)) !=
            WSMS_OK)
            goto out;
        if (next >= 0) {
            char nx[25];
            iso8601_ms(next, nx);
            g.next = arena_strdup(rq->arena, nx);
        } else {
            g.next = NULL;
        }
    }
    e = audit_write(rq->workspace_id, "JOB_UPDATED", rq->user.user_id, details);
out:
    e = auto_end_tx(map_conflict(rq, e, g.name, why));
    cJSON_Delete(details);
    if (e == WSMS_OK) {
        g.updated = arena_strdup(rq->arena, now_iso);
        if (!g.updated || !(*out = to_json(rq, &g)))
            e = E_INTERNAL_SERVER_ERROR;
    }
    return e;
}

wsms_err jobs_delete(struct request *rq, const char *job_id, const char **why)
{
    struct tables t;
    struct job_row g;
    struct graph gr;
    cJSON *details = NULL;
    *why = NULL;
    wsms_err e = tables_of(rq->workspace_id, &t);
    if (e != WSMS_OK)
        return e;
    const char *csql = arena_printf(
        rq->arena, "SELECT job_id FROM %s WHERE workspace_id = ? AND parent_job_id = ?", t.deps);
    const char *dsql =
        arena_printf(rq->arena, "DELETE FROM %s WHERE workspace_id = ? AND job_id = ?", t.deps);
    const char *jsql =
        arena_printf(rq->arena, "DELETE FROM %s WHERE workspace_id = ? AND job_id = ?", t.jobs);
    if (!csql || !dsql || !jsql)
        return E_INTERNAL_SERVER_ERROR;
    if ((e = db_begin()) != WSMS_OK)
        return e;
    if ((e = auto_lock_ws(rq->workspace_id)) != WSMS_OK ||
        (e = load(rq, &t, job_id, &g)) != WSMS_OK)
        goto out;
    struct db_rows kids;
    if ((e = db_query(rq->arena, &kids, csql, "ss", rq->workspace_id, job_id)) != WSMS_OK)
        goto out;
    if (kids.nrows > 0) {
        const char **ids = arena_alloc(rq->arena, sizeof(char *) * (size_t)kids.nrows);
        e = E_INTERNAL_SERVER_ERROR;
        if (!ids)
            goto out;
        for (int r = 0; r < kids.nrows; r++)
            ids[r] = db_val(&kids, r, 0);
        if ((e = graph_load(rq->arena, &t, rq->workspace_id, &gr)) != WSMS_OK)
            goto out;
        *why = arena_printf(rq->arena, "Job%s %s depend%s on this job; change them first",
                            kids.nrows > 1 ? "s" : "",
                            names_of(rq->arena, &gr, ids, (size_t)kids.nrows),
                            kids.nrows > 1 ? "" : "s");
        e = E_CONFLICT;
        goto out;
    }
    /* runs still PENDING or RUNNING would lose their job under them */
    struct db_rows q;
    if ((e = db_query(rq->arena, &q,
                      "SELECT COUNT(*) FROM pmassist_master.RunQueue WHERE workspace_id = ? AND "
                      "job_id = ?",
                      "ss", rq->workspace_id, job_id)) != WSMS_OK)
        goto out;
    if (db_val_ll(&q, 0, 0, 0) > 0) {
        *why =
            arena_printf(rq->arena, "The job has %lld run(s) pending or running; cancel them first",
                         db_val_ll(&q, 0, 0, 0));
        e = E_CONFLICT;
        goto out;
    }
    if ((e = db_exec(NULL, dsql, "ss", rq->workspace_id, job_id)) != WSMS_OK ||
        (e = db_exec(NULL, "DELETE FROM pmassist_master.JobSchedule WHERE job_id = ?", "s",
                     job_id)) != WSMS_OK ||
        (e = db_exec(NULL, jsql, "ss", rq->workspace_id, job_id)) != WSMS_OK)
        goto out;
    e = E_INTERNAL_SERVER_ERROR;
    if (!(details = cJSON_CreateObject()) || !auto_add_str(details, "job_id", job_id) ||
        !auto_add_str(details, "name", g.name))
        goto out;
    e = audit_write(rq->workspace_id, "JOB_DELETED", rq->user.user_id, details);
out:
    cJSON_Delete(details);
    return auto_end_tx(e);
}

/* ------------------------------------------- scheduler and executor side */

wsms_err jobs_info(struct arena *a, const char *schema, const char *ws_id, const char *job_id,
                   struct job_info *out)
{
    struct tables t;
    struct db_rows rows;
    memset(out, 0, sizeof(*out));
    wsms_err e = tables_of_schema(schema, &t);
    if (e != WSMS_OK)
        return e;
    const char *sql = arena_printf(
        a,
        "SELECT j.job_id, j.workspace_id, j.name, j.workspace_agent_id, a.agent_type, "
        "a.config_json, j.schedule_cron, j.is_active, a.is_enabled, j.timeout_seconds, "
        "j.max_retries FROM %s j LEFT JOIN %s a ON a.workspace_id = ? AND "
        "a.workspace_agent_id = j.workspace_agent_id WHERE j.workspace_id = ? AND j.job_id = ?",
        t.jobs, t.agents);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    if ((e = db_query(a, &rows, sql, "sss", ws_id, ws_id, job_id)) != WSMS_OK)
        return e;
    if (rows.nrows == 0)
        return E_RESOURCE_NOT_FOUND;
    out->job_id = db_val(&rows, 0, 0);
    out->workspace_id = db_val(&rows, 0, 1);
    out->name = db_val(&rows, 0, 2);
    out->agent_id = db_val(&rows, 0, 3);
    out->agent_type = db_val(&rows, 0, 4);
    out->agent_config_json = db_val(&rows, 0, 5) ? db_val(&rows, 0, 5) : "{}";
    out->schedule_cron = db_val(&rows, 0, 6);
    out->is_active = db_val_bool(&rows, 0, 7);
    out->agent_enabled = db_val_bool(&rows, 0, 8);
    out->timeout_seconds = (int)db_val_ll(&rows, 0, 9, 3600);
    out->max_retries = (int)db_val_ll(&rows, 0, 10, 0);
    return WSMS_OK;
}

static wsms_err one_column(struct arena *a, const char *sql, const char *ws_id, const char *id,
                           const char ***ids, size_t *n)
{
    struct db_rows rows;
    *ids = NULL;
    *n = 0;
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(a, &rows, sql, "ss", ws_id, id);
    if (e != WSMS_OK)
        return e;
    *ids = arena_alloc(a, sizeof(char *) * ((size_t)rows.nrows + 1));
    if (!*ids)
        return E_INTERNAL_SERVER_ERROR;
    for (int r = 0; r < rows.nrows; r++)
        (*ids)[(*n)++] = db_val(&rows, r, 0);
    return WSMS_OK;
}

wsms_err jobs_children(struct arena *a, const char *schema, const char *ws_id, const char *job_id,
                       const char ***ids, size_t *n)
{
    struct tables t;
    wsms_err e = tables_of_schema(schema, &t);
    if (e != WSMS_OK)
        return e;
    return one_column(a,
                      arena_printf(a,
                                   "SELECT job_id FROM %s WHERE workspace_id = ? AND "
                                   "parent_job_id = ? ORDER BY job_id",
                                   t.deps),
                      ws_id, job_id, ids, n);
}

wsms_err jobs_parents(struct arena *a, const char *schema, const char *ws_id, const char *job_id,
                      const char ***ids, size_t *n)
{
    struct tables t;
    wsms_err e = tables_of_schema(schema, &t);
    if (e != WSMS_OK)
        return e;
    return one_column(a,
                      arena_printf(a,
                                   "SELECT parent_job_id FROM %s WHERE workspace_id = ? AND "
                                   "job_id = ? ORDER BY parent_job_id",
                                   t.deps),
                      ws_id, job_id, ids, n);
}

wsms_err jobs_descendants(struct arena *a, const char *schema, const char *ws_id,
                          const char *job_id, const char ***ids, size_t *n)
{
    struct tables t;
    struct db_rows ed;
    *ids = NULL;
    *n = 0;
    wsms_err e = tables_of_schema(schema, &t);
    if (e != WSMS_OK)
        return e;
    const char *sql = arena_printf(
        a, "SELECT job_id, parent_job_id FROM %s WHERE workspace_id = ? ORDER BY job_id", t.deps);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    if ((e = db_query(a, &ed, sql, "s", ws_id)) != WSMS_OK)
        return e;
    size_t m = (size_t)ed.nrows;
    const char **set = arena_alloc(a, sizeof(char *) * (m + 1));
    bool *done = arena_alloc(a, sizeof(bool) * (m + 1));
    const char **order = arena_alloc(a, sizeof(char *) * (m + 1));
    if (!set || !done || !order)
        return E_INTERNAL_SERVER_ERROR;
    /* the downstream set: breadth first over child edges */
    size_t ns = 0;
    for (size_t head = 0;; head++) {
        const char *from = head == 0 ? job_id : (head - 1 < ns ? set[head - 1] : NULL);
        if (!from)
            break;
        for (size_t r = 0; r < m; r++) {
            const char *child = db_val(&ed, (int)r, 0);
            if (strcmp(db_val(&ed, (int)r, 1), from) != 0 || strcmp(child, job_id) == 0)
                continue;
            bool seen = false;
            for (size_t k = 0; k < ns && !seen; k++)
                seen = strcmp(set[k], child) == 0;
            if (!seen)
                set[ns++] = child;
        }
    }
    /* topological order within the set: a job once all its parents in the
     * set are placed (the graph is acyclic, so every pass places one) */
    size_t placed = 0;
    while (placed < ns) {
        bool progress = false;
        for (size_t k = 0; k < ns; k++) {
            if (done[k])
                continue;
            bool ready = true;
            for (size_t r = 0; r < m && ready; r++) {
                if (strcmp(db_val(&ed, (int)r, 0), set[k]) != 0)
                    continue;
                const char *p = db_val(&ed, (int)r, 1);
                for (size_t q = 0; q < ns && ready; q++)
                    if (!done[q] && strcmp(set[q], p) == 0)
                        ready = false;
            }
            if (ready) {
                done[k] = true;
                order[placed++] = set[k];
                progress = true;
            }
        }
        if (!progress)
            return E_INTERNAL_SERVER_ERROR; /* a cycle slipped in: refuse */
    }
    *ids = order;
    *n = ns;
    return WSMS_OK;
}

wsms_err jobs_due(struct arena *a, int64_t now_ms_, size_t limit, struct db_rows *out)
{
    long long pg[2];
    const char *page = dialect_page_sql(db_type(), (long)limit, 0, pg);
    const char *sql = arena_printf(
        a,
        "SELECT s.job_id, s.workspace_id, s.db_schema_name, s.schedule_cron, s.next_fire_utc "
        "FROM pmassist_master.JobSchedule s JOIN pmassist_master.Workspace w ON w.id = "
        "s.workspace_id WHERE s.is_active = 1 AND s.next_fire_utc <= ? AND w.is_active = 1 "
        "ORDER BY s.next_fire_utc, s.job_id%s",
        page);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    return db_query(a, out, sql, "tii", now_ms_, pg[0], pg[1]);
}

wsms_err jobs_advance(struct arena *a, const char *job_id, const char *old_next_iso,
                      const char *new_next_iso, bool *won)
{
    (void)a;
    long n = 0;
    *won = false;
    int64_t old = iso8601_parse_ms(old_next_iso), nw = -1;
    if (old < 0 || (new_next_iso && (nw = iso8601_parse_ms(new_next_iso)) < 0))
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e =
        nw >= 0 ? db_exec(&n,
                          "UPDATE pmassist_master.JobSchedule SET next_fire_utc = ?, updated_at = "
                          "? WHERE job_id = ? AND next_fire_utc = ? AND is_active = 1",
                          "ttst", nw, now_ms(), job_id, old)
                : db_exec(&n,
                          "UPDATE pmassist_master.JobSchedule SET next_fire_utc = NULL, "
                          "updated_at = ? WHERE job_id = ? AND next_fire_utc = ? AND is_active = 1",
                          "tst", now_ms(), job_id, old);
    if (e == WSMS_OK)
        *won = n == 1;
    return e;
}
