#include "domain/automation/runs.h"

#include "auth/roles.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "data/db.h"
#include "data/dialect.h"
#include "domain/audit.h"
#include "domain/automation/autostore.h"
#include "domain/automation/jobs.h"
#include "http/hooks.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LG          "runs"
#define ERROR_MAX   3900 /* error_message NVARCHAR(4000), in bytes */
#define REASON_MAX  900  /* reason NVARCHAR(1000) */
#define FIRE_KEY_SZ 81

#define RUN_COLS                                                                                   \
    "job_run_id, job_id, chain_id, fire_key, attempt, trigger_kind, scheduled_for_utc, status, "   \
    "created_utc, not_before_utc, started_utc, completed_utc, lease_owner, lease_expires_utc, "    \
    "timeout_at_utc, error_message, reason, created_by"
#define RUN_NCOLS 18

#define ART_COLS                                                                                   \
    "file_artifact_id, workspace_agent_id, job_run_id, type, blob_url, file_name, size_bytes, "    \
    "content_type, created_utc, created_by_user_id"
#define ART_NCOLS 10
/* their types (auth/roles.h roles_read_start) */
#define RUN_TYPES "GGGSISTSTTTTSTTSSS"
#define ART_TYPES "GGGSSSISTS"
#define TR_COLS   "transition_id, from_status, to_status, at_utc, actor, reason, seq"
#define TR_NCOLS  7
#define TR_TYPES  "GSSTSSI"

int64_t runs_now_ms(void)
{
    int64_t now = now_ms();
    const struct config *cfg = config_get();
    const char *f = cfg->test_clock_file;
    if (!cfg->test_hooks || !f || !*f)
        return now;
    FILE *fp = fopen(f, "r");
    if (!fp)
        return now;
    long long s = 0;
    char at = 0;
    /* "@<ms>": the clock stands at that instant; else seconds ahead */
    if (fscanf(fp, " %c", &at) == 1 && at == '@') {
        long long ms = 0;
        int ok = fscanf(fp, "%lld", &ms) == 1;
        fclose(fp);
        return ok && ms > 0 ? (int64_t)ms : now;
    }
    rewind(fp);
    if (fscanf(fp, "%lld", &s) != 1)
        s = 0;
    fclose(fp);
    if (s < -3650LL * 86400 || s > 3650LL * 86400)
        s = 0;
    return now + (int64_t)s * 1000;
}

/* Qualified name of a workspace table (arena), NULL when invalid. */
static const char *tbl(struct arena *a, const char *schema, const char *table)
{
    char buf[AUTO_TABLE_MAX];
    if (!dialect_schema_name_valid(schema) || auto_table_of_schema(schema, table, buf) != WSMS_OK)
        return NULL;
    return arena_strdup(a, buf);
}

/* A copy of s cut to at most max bytes on a UTF-8 boundary (arena). */
static const char *cut(struct arena *a, const char *s, size_t max)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n <= max)
        return s;
    while (n > max || (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80))
        n--;
    return arena_strndup(a, s, n);
}

static wsms_err end_own(bool own, wsms_err e)
{
    if (!own || !db_in_transaction())
        return e;
    if (e == WSMS_OK)
        return db_commit();
    db_rollback();
    return e;
}

/* "YYYY-MM-DD HH:MM:SS[.fff]" (SQLite text) or ISO -> ISO "...Z" (arena). */
static const char *iso(struct arena *a, const char *s)
{
    if (!s || strlen(s) < 19 || s[strlen(s) - 1] == 'Z')
        return s;
    int64_t ms;
    char t[25], out[25];
    snprintf(t, sizeof(t), "%.19s", s);
    t[10] = 'T';
    ms = iso8601_parse_ms(arena_printf(a, "%sZ", t));
    if (ms < 0)
        return s;
    if (s[19] == '.' && isdigit((unsigned char)s[20])) {
        int frac = 0, digits = 0;
        for (const char *p = s + 20; isdigit((unsigned char)*p) && digits < 3; p++, digits++)
            frac = frac * 10 + (*p - '0');
        while (digits++ < 3)
            frac *= 10;
        ms += frac;
    }
    iso8601_ms(ms, out);
    return arena_strdup(a, out);
}

static bool add_n(cJSON *o, const char *k, const char *v)
{
    cJSON *i = v ? cJSON_CreateNumber((double)strtoll(v, NULL, 10)) : cJSON_CreateNull();
    if (!i)
        return false;
    if (!cJSON_AddItemToObject(o, k, i)) {
        cJSON_Delete(i);
        return false;
    }
    return true;
}

/* A run object from RUN_COLS values v[0..18). */
static cJSON *run_json(struct arena *a, const char *ws_id, const char *const *v)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !auto_add_str(o, "id", v[0]) || !auto_add_str(o, "workspace_id", ws_id) ||
        !auto_add_str(o, "job_id", v[1]) || !auto_add_str(o, "chain_id", v[2]) ||
        !auto_add_str(o, "fire_key", v[3]) || !add_n(o, "attempt", v[4]) ||
        !auto_add_str(o, "trigger", v[5]) || !auto_add_str(o, "scheduled_for_utc", iso(a, v[6])) ||
        !auto_add_str(o, "status", v[7]) || !auto_add_str(o, "created_utc", iso(a, v[8])) ||
        !auto_add_str(o, "not_before_utc", iso(a, v[9])) ||
        !auto_add_str(o, "started_utc", iso(a, v[10])) ||
        !auto_add_str(o, "completed_utc", iso(a, v[11])) ||
        !auto_add_str(o, "lease_owner", v[12]) ||
        !auto_add_str(o, "lease_expires_utc", iso(a, v[13])) ||
        !auto_add_str(o, "timeout_at_utc", iso(a, v[14])) ||
        !auto_add_str(o, "error_message", v[15]) || !auto_add_str(o, "reason", v[16]) ||
        !auto_add_str(o, "created_by", v[17])) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* An artifact object from ART_COLS values. */
static cJSON *art_json(struct arena *a, const char *ws_id, const char *const *v)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !auto_add_str(o, "id", v[0]) || !auto_add_str(o, "workspace_id", ws_id) ||
        !auto_add_str(o, "agent_id", v[1]) || !auto_add_str(o, "run_id", v[2]) ||
        !auto_add_str(o, "type", v[3]) || !auto_add_str(o, "blob_url", v[4]) ||
        !auto_add_str(o, "name", v[5]) || !add_n(o, "size_bytes", v[6]) ||
        !auto_add_str(o, "content_type", v[7]) || !auto_add_str(o, "created_utc", iso(a, v[8])) ||
        !auto_add_str(o, "created_by", v[9])) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The page's rows (kind, columns at ROLES_C_DATA) as an array of
 * build(row) objects. */
static wsms_err page_json(struct arena *a, const char *ws_id, const struct db_rows *rows, char kind,
                          long limit, long offset,
                          cJSON *(*build)(struct arena *, const char *, const char *const *),
                          cJSON **out)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return E_INTERNAL_SERVER_ERROR;
    for (int r = 0; r < rows->nrows; r++) {
        if (roles_read_kind(rows, r) != kind || !roles_read_in_page(rows, r, limit, offset))
            continue;
        cJSON *o = build(a, ws_id, &rows->vals[r * rows->ncols + ROLES_C_DATA]);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return E_INTERNAL_SERVER_ERROR;
        }
    }
    *out = arr;
    return WSMS_OK;
}

/* The reads' statement: the caller's role, then branches (auth/roles.h).
 * A missing workspace has no tables: the statement fails before the role
 * is known and the server answers after the role check. */
static wsms_err read_start(struct request *rq, struct roles_read *q, int ndata, const char *types,
                           const char *typed, const char *tfrom)
{
    if (!typed || !tfrom)
        return E_INTERNAL_SERVER_ERROR;
    return roles_read_start(q, rq, ndata, types, typed, tfrom);
}

/* --- inserting runs --- */

struct ins {
    const char *id, *job_id, *chain_id, *fire_key, *trigger, *created_by, *reason, *actor;
    int attempt;
    int64_t scheduled_for, now, not_before;
    bool waiting;
};

static wsms_err insert_transition(struct arena *a, const char *schema, const char *ws_id,
                                  const char *run_id, const char *from, const char *to, int64_t at,
                                  const char *actor, const char *reason)
{
    char tid[GUID_LEN + 1];
    const char *t = tbl(a, schema, "automation_run_transitions");
    if (!t || guid_new(tid) != 0)
        return E_INTERNAL_SERVER_ERROR;
    /* seq orders a run's transitions whatever the clocks of the actors;
     * the run row's conditional UPDATE serialises them */
    const char *sql = arena_printf(a,
                                   "INSERT INTO %s (transition_id, workspace_id, job_run_id, seq, "
                                   "from_status, to_status, at_utc, actor, reason) "
                                   "SELECT ?, ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? "
                                   "FROM %s WHERE workspace_id = ? AND job_run_id = ?",
                                   t, t);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    return db_exec(NULL, sql, "ssssstssss", tid, ws_id, run_id, from, to, at, actor,
                   cut(a, reason, REASON_MAX), ws_id, run_id);
}

/* The run row, its first transition (-> PENDING) and its RunQueue row. */
static wsms_err insert_run(struct arena *a, const char *schema, const char *ws_id,
                           const struct ins *r)
{
    const char *t = tbl(a, schema, "automation_job_runs");
    if (!t)
        return E_INTERNAL_SERVER_ERROR;
    const char *reason = cut(a, r->reason, REASON_MAX);
    const char *sql = arena_printf(
        a,
        "INSERT INTO %s (job_run_id, workspace_id, job_id, chain_id, fire_key, attempt, "
        "trigger_kind, scheduled_for_utc, status, created_utc, not_before_utc, reason, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, %s, 'PENDING', ?, ?, ?, ?)",
        t, r->scheduled_for ? "?" : "NULL");
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e;
    if (r->scheduled_for)
        e = db_exec(NULL, sql, "sssssistttss", r->id, ws_id, r->job_id, r->chain_id, r->fire_key,
                    (long long)r->attempt, r->trigger, r->scheduled_for, r->now, r->not_before,
                    reason, r->created_by);
    else
        e = db_exec(NULL, sql, "sssssisttss", r->id, ws_id, r->job_id, r->chain_id, r->fire_key,
                    (long long)r->attempt, r->trigger, r->now, r->not_before, reason,
                    r->created_by);
    if (e != WSMS_OK)
        return e;
    e = insert_transition(a, schema, ws_id, r->id, NULL, "PENDING", r->now,
                          r->actor ? r->actor : r->created_by, r->reason);
    if (e != WSMS_OK)
        return e;
    e = db_exec(NULL,
                "INSERT INTO pmassist_master.RunQueue (job_run_id, workspace_id, db_schema_name, "
                "job_id, status, waiting, not_before_utc) VALUES (?, ?, ?, ?, 'PENDING', ?, ?)",
                "ssssit", r->id, ws_id, schema, r->job_id, (long long)(r->waiting ? 1 : 0),
                r->not_before);
    if (e == WSMS_OK)
        log_info(LG, "run %s of job %s (workspace %s) created PENDING%s: %s, attempt %d, %s", r->id,
                 r->job_id, ws_id, r->waiting ? " waiting" : "", r->trigger, r->attempt,
                 r->fire_key);
    return e;
}

wsms_err runs_create(struct arena *a, const char *schema, const char *ws_id,
                     const struct run_new *in, const char **run_id)
{
    char id[GUID_LEN + 1];
    const char **desc = NULL;
    size_t nd = 0;
    int64_t now = in->now_ms ? in->now_ms : runs_now_ms();
    *run_id = NULL;
    if (guid_new(id) != 0)
        return E_INTERNAL_SERVER_ERROR;
    const char *fk = in->fire_key ? in->fire_key : arena_printf(a, "m:%s", id);
    const char *dk = arena_printf(a, "d:%s", id);
    const char *rid = arena_strdup(a, id);
    if (!fk || !dk || !rid)
        return E_INTERNAL_SERVER_ERROR;
    bool own = !db_in_transaction();
    wsms_err e = own ? db_begin() : WSMS_OK;
    if (e != WSMS_OK)
        return e;
    struct ins r = {.id = rid,
                    .job_id = in->job_id,
                    .chain_id = rid,
                    .fire_key = fk,
                    .trigger = in->trigger,
                    .created_by = in->created_by,
                    .reason = in->reason,
                    .attempt = 1,
                    .scheduled_for = in->scheduled_for_ms,
                    .now = now,
                    .not_before = now};
    if ((e = insert_run(a, schema, ws_id, &r)) != WSMS_OK)
        goto out;
    if ((e = jobs_descendants(a, schema, ws_id, in->job_id, &desc, &nd)) != WSMS_OK)
        goto out;
    for (size_t i = 0; i < nd; i++) {
        char cid[GUID_LEN + 1];
        if (guid_new(cid) != 0) {
            e = E_INTERNAL_SERVER_ERROR;
            goto out;
        }
        struct ins c = r;
        c.id = arena_strdup(a, cid);
        c.job_id = desc[i];
        c.fire_key = dk;
        c.trigger = "dependency";
        c.reason = arena_printf(a, "waiting for its parents in chain %s", rid);
        c.waiting = true;
        if (!c.id || !c.reason) {
            e = E_INTERNAL_SERVER_ERROR;
            goto out;
        }
        if ((e = insert_run(a, schema, ws_id, &c)) != WSMS_OK)
            goto out;
    }
    *run_id = rid;
out:
    return end_own(own, e);
}

/* --- transitions --- */

struct chain_row {
    const char *run_id, *job_id, *status;
};

/* Every run of the chain: job_run_id, job_id, status. */
static wsms_err chain_rows(struct arena *a, const char *schema, const char *ws_id,
                           const char *chain_id, struct db_rows *rows)
{
    const char *t = tbl(a, schema, "automation_job_runs");
    const char *sql =
        t ? arena_printf(a,
                         "SELECT job_run_id, job_id, status FROM %s WHERE workspace_id = ? "
                         "AND chain_id = ?",
                         t)
          : NULL;
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    return db_query(a, rows, sql, "ss", ws_id, chain_id);
}

/* The PENDING run of job in the chain rows, or NULL. */
static const char *pending_of(const struct db_rows *rows, const char *job)
{
    for (int r = 0; r < rows->nrows; r++)
        if (strcmp(db_val(rows, r, 1), job) == 0 && strcmp(db_val(rows, r, 2), "PENDING") == 0)
            return db_val(rows, r, 0);
    return NULL;
}

/* 0 job has no run in the chain, 1 it has one that SUCCEEDED, 2 not yet. */
static int parent_state(const struct db_rows *rows, const char *job)
{
    int st = 0;
    for (int r = 0; r < rows->nrows; r++)
        if (strcmp(db_val(rows, r, 1), job) == 0) {
            if (strcmp(db_val(rows, r, 2), "SUCCEEDED") == 0)
                return 1;
            st = 2;
        }
    return st;
}

/* After job's run in the chain SUCCEEDED: children whose parents in the
 * chain all succeeded stop waiting. */
static wsms_err release_children(struct arena *a, const char *schema, const char *ws_id,
                                 const char *chain_id, const char *job_id, int64_t now)
{
    const char **kids = NULL;
    size_t nk = 0;
    struct db_rows rows;
    wsms_err e = jobs_children(a, schema, ws_id, job_id, &kids, &nk);
    if (e != WSMS_OK || nk == 0)
        return e;
    if ((e = chain_rows(a, schema, ws_id, chain_id, &rows)) != WSMS_OK)
        return e;
    for (size_t i = 0; i < nk; i++) {
        const char *rid = pending_of(&rows, kids[i]);
        const char **par = NULL;
        size_t np = 0;
        bool ready = true;
        if (!rid)
            continue;
        if ((e = jobs_parents(a, schema, ws_id, kids[i], &par, &np)) != WSMS_OK)
            return e;
        for (size_t p = 0; p < np && ready; p++)
            ready = parent_state(&rows, par[p]) != 2;
        if (!ready)
            continue;
        long n = 0;
        e = db_exec(&n,
                    "UPDATE pmassist_master.RunQueue SET waiting = 0, not_before_utc = ? "
                    "WHERE job_run_id = ? AND waiting = 1",
                    "ts", now, rid);
        if (e != WSMS_OK)
            return e;
        if (n == 1)
            log_info(LG, "run %s of job %s released: its parents in chain %s succeeded", rid,
                     kids[i], chain_id);
    }
    return WSMS_OK;
}

/* After job's run in the chain ended without success for good: the
 * chain's waiting runs of its children are SKIPPED (and theirs, through
 * runs_transition). */
static wsms_err skip_children(struct arena *a, const char *schema, const char *ws_id,
                              const char *chain_id, const char *job_id, enum run_state why,
                              int64_t now)
{
    const char **kids = NULL;
    size_t nk = 0;
    struct db_rows rows;
    wsms_err e = jobs_children(a, schema, ws_id, job_id, &kids, &nk);
    if (e != WSMS_OK || nk == 0)
        return e;
    if ((e = chain_rows(a, schema, ws_id, chain_id, &rows)) != WSMS_OK)
        return e;
    const char *reason = arena_printf(a, "parent job %s ended %s", job_id, run_state_name(why));
    if (!reason)
        return E_INTERNAL_SERVER_ERROR;
    for (size_t i = 0; i < nk; i++) {
        const char *rid = pending_of(&rows, kids[i]);
        bool won;
        if (!rid)
            continue;
        struct run_change c = {.actor = RUNS_ACTOR_SCHEDULER, .reason = reason, .now_ms = now};
        e = runs_transition(a, schema, ws_id, rid, RUN_PENDING, RUN_SKIPPED, &c, &won);
        if (e != WSMS_OK)
            return e;
    }
    return WSMS_OK;
}

/* The next attempt of a FAILED / TIMED_OUT run after the backoff. */
static wsms_err create_retry(struct arena *a, const char *schema, const char *ws_id,
                             const struct run_row *r, const char *fire_key, const char *sched,
                             int max_retries, int64_t now)
{
    char id[GUID_LEN + 1], base[FIRE_KEY_SZ];
    int next = r->attempt + 1;
    int64_t delay = run_retry_delay_seconds(next);
    if (guid_new(id) != 0)
        return E_INTERNAL_SERVER_ERROR;
    snprintf(base, sizeof(base), "%.*s", (int)strcspn(fire_key, "#"), fire_key);
    struct ins n = {.id = arena_strdup(a, id),
                    .job_id = r->job_id,
                    .chain_id = r->chain_id,
                    .fire_key = arena_printf(a, "%.70s#%d", base, next),
                    .trigger = "retry",
                    .created_by = RUNS_ACTOR_SCHEDULER,
                    .reason = arena_printf(a, "retry %d of %d of run %s after a backoff of %lld s",
                                           next - 1, max_retries, r->run_id, (long long)delay),
                    .attempt = next,
                    .scheduled_for = sched ? iso8601_parse_ms(iso(a, sched)) : 0,
                    .now = now,
                    .not_before = now + delay * 1000};
    if (!n.id || !n.fire_key || !n.reason)
        return E_INTERNAL_SERVER_ERROR;
    if (n.scheduled_for < 0)
        n.scheduled_for = 0;
    return insert_run(a, schema, ws_id, &n);
}

/* What a final state brings about in the chain. */
static wsms_err after_final(struct arena *a, const char *schema, const char *ws_id,
                            const char *run_id, enum run_state to, int64_t now)
{
    struct db_rows rows;
    const char *t = tbl(a, schema, "automation_job_runs");
    const char *sql = t ? arena_printf(a,
                                       "SELECT job_id, chain_id, fire_key, attempt, "
                                       "scheduled_for_utc FROM %s WHERE job_run_id = ? AND "
                                       "workspace_id = ?",
                                       t)
                        : NULL;
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(a, &rows, sql, "ss", run_id, ws_id);
    if (e != WSMS_OK)
        return e;
    if (rows.nrows != 1)
        return E_INTERNAL_SERVER_ERROR;
    struct run_row r = {.run_id = run_id,
                        .job_id = db_val(&rows, 0, 0),
                        .chain_id = db_val(&rows, 0, 1),
                        .attempt = (int)db_val_ll(&rows, 0, 3, 1)};
    if (to == RUN_SUCCEEDED)
        return release_children(a, schema, ws_id, r.chain_id, r.job_id, now);
    if (run_state_retryable(to)) {
        struct job_info j;
        e = jobs_info(a, schema, ws_id, r.job_id, &j);
        if (e != WSMS_OK && e != E_RESOURCE_NOT_FOUND && e != E_NOT_FOUND)
            return e;
        if (e == WSMS_OK && r.attempt <= j.max_retries)
            return create_retry(a, schema, ws_id, &r, db_val(&rows, 0, 2), db_val(&rows, 0, 4),
                                j.max_retries, now);
    }
    return skip_children(a, schema, ws_id, r.chain_id, r.job_id, to, now);
}

wsms_err runs_transition(struct arena *a, const char *schema, const char *ws_id, const char *run_id,
                         enum run_state from, enum run_state to, const struct run_change *c,
                         bool *won)
{
    long n = 0;
    wsms_err e;
    *won = false;
    if (!run_transition_allowed(from, to))
        return E_INVALID_TRANSITION;
    int64_t now = c->now_ms ? c->now_ms : runs_now_ms();
    const char *runs = tbl(a, schema, "automation_job_runs");
    const char *reason = cut(a, c->reason, REASON_MAX);
    const char *err = cut(a, c->error, ERROR_MAX);
    const char *sto = run_state_name(to), *sfrom = run_state_name(from);
    if (!runs)
        return E_INTERNAL_SERVER_ERROR;
    bool own = !db_in_transaction();
    if (own && (e = db_begin()) != WSMS_OK)
        return e;
    if (to == RUN_RUNNING) {
        const char *sql = arena_printf(a,
                                       "UPDATE %s SET status = ?, started_utc = ?, lease_owner = "
                                       "?, lease_expires_utc = ?, timeout_at_utc = ? WHERE "
                                       "job_run_id = ? AND workspace_id = ? AND status = ?",
                                       runs);
        e = sql ? db_exec(&n, sql, "ststtsss", sto, now, c->lease_owner, c->lease_expires_ms,
                          c->timeout_at_ms, run_id, ws_id, sfrom)
                : E_INTERNAL_SERVER_ERROR;
    } else {
        bool lease = c->lease_expired_before_ms > 0;
        const char *sql = arena_printf(
            a,
            "UPDATE %s SET status = ?, completed_utc = ?, error_message = %s, reason = %s "
            "WHERE job_run_id = ? AND workspace_id = ? AND status = ?%s",
            runs, err ? "?" : "error_message", reason ? "?" : "reason",
            lease ? " AND lease_expires_utc < ?" : "");
        char types[12];
        if (!sql) {
            e = E_INTERNAL_SERVER_ERROR;
            goto out;
        }
        /* the optional values come in a fixed order; bind the ones used */
        const char *opt[2];
        int no = 0;
        if (err)
            opt[no++] = err;
        if (reason)
            opt[no++] = reason;
        snprintf(types, sizeof(types), "st%.*ssss%s", no, "ss", lease ? "t" : "");
        if (no == 0)
            e = lease ? db_exec(&n, sql, types, sto, now, run_id, ws_id, sfrom,
                                c->lease_expired_before_ms)
                      : db_exec(&n, sql, types, sto, now, run_id, ws_id, sfrom);
        else if (no == 1)
            e = lease ? db_exec(&n, sql, types, sto, now, opt[0], run_id, ws_id, sfrom,
                                c->lease_expired_before_ms)
                      : db_exec(&n, sql, types, sto, now, opt[0], run_id, ws_id, sfrom);
        else
            e = lease ? db_exec(&n, sql, types, sto, now, opt[0], opt[1], run_id, ws_id, sfrom,
                                c->lease_expired_before_ms)
                      : db_exec(&n, sql, types, sto, now, opt[0], opt[1], run_id, ws_id, sfrom);
    }
    if (e != WSMS_OK)
        goto out;
    if (n != 1) {
        /* not in `from` (or the lease was renewed): nothing happened */
        e = WSMS_OK;
        if (own)
            db_rollback();
        return WSMS_OK;
    }
    const char *treason = reason ? reason : err;
    if ((e = insert_transition(a, schema, ws_id, run_id, sfrom, sto, now, c->actor, treason)) !=
        WSMS_OK)
        goto out;
    if (to == RUN_RUNNING) {
        e = db_exec(NULL,
                    "UPDATE pmassist_master.RunQueue SET status = 'RUNNING', lease_owner = ?, "
                    "lease_expires_utc = ?, timeout_at_utc = ? WHERE job_run_id = ?",
                    "stts", c->lease_owner, c->lease_expires_ms, c->timeout_at_ms, run_id);
    } else {
        e = db_exec(NULL, "DELETE FROM pmassist_master.RunQueue WHERE job_run_id = ?", "s", run_id);
        char counter[32];
        snprintf(counter, sizeof(counter), "runs_%s", sto);
        for (char *p = counter; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (e == WSMS_OK)
            e = runs_count(counter, 1);
        if (e == WSMS_OK && c->lease_expired_before_ms > 0)
            e = runs_count("lease_expiries", 1);
        if (e == WSMS_OK)
            e = after_final(a, schema, ws_id, run_id, to, now);
    }
    if (e != WSMS_OK)
        goto out;
    *won = true;
    log_info(LG, "run %s (workspace %s): %s -> %s by %s%s%s", run_id, ws_id, sfrom, sto, c->actor,
             treason ? ": " : "", treason ? treason : "");
out:
    if (e != WSMS_OK)
        *won = false;
    return end_own(own, e);
}

/* --- the queue --- */

wsms_err runs_count(const char *name, long long delta)
{
    return db_exec(NULL,
                   "UPDATE pmassist_master.SchedulerCounter SET value = value + ? WHERE name = ?",
                   "is", delta, name);
}

wsms_err runs_counters(struct arena *a, struct db_rows *out)
{
    return db_query(a, out, "SELECT name, value FROM pmassist_master.SchedulerCounter", "");
}

char *runs_metrics_text(struct arena *a)
{
    static const char *const outcomes[] = {"succeeded", "failed", "timed_out", "cancelled",
                                           "skipped"};
    struct db_rows rows;
    long long v[16] = {0};
    static const char *const names[] = {"fires",          "fire_lag_ms_sum", "missed_fires",
                                        "lease_expiries", "runs_succeeded",  "runs_failed",
                                        "runs_timed_out", "runs_cancelled",  "runs_skipped"};
    if (runs_counters(a, &rows) != WSMS_OK) {
        log_warn(LG, "scheduler counters unavailable for /metrics");
        return arena_strdup(a, "");
    }
    for (int r = 0; r < rows.nrows; r++)
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
            if (db_val(&rows, r, 0) && strcmp(db_val(&rows, r, 0), names[i]) == 0)
                v[i] = db_val_ll(&rows, r, 1, 0);
    char *t = arena_printf(
        a,
        "# HELP wsms_scheduler_fires_total Scheduled fires (a job's missed fire times fire "
        "once)\n# TYPE wsms_scheduler_fires_total counter\nwsms_scheduler_fires_total %lld\n"
        "# HELP wsms_scheduler_missed_fire_times_total Fire times that passed while no "
        "scheduler ran\n# TYPE wsms_scheduler_missed_fire_times_total counter\n"
        "wsms_scheduler_missed_fire_times_total %lld\n"
        "# HELP wsms_scheduler_fire_lag_seconds From a fire time to its fire\n"
        "# TYPE wsms_scheduler_fire_lag_seconds summary\n"
        "wsms_scheduler_fire_lag_seconds_sum %.3f\nwsms_scheduler_fire_lag_seconds_count %lld\n"
        "# HELP wsms_scheduler_lease_expiries_total RUNNING runs taken over after their lease "
        "expired\n# TYPE wsms_scheduler_lease_expiries_total counter\n"
        "wsms_scheduler_lease_expiries_total %lld\n"
        "# HELP wsms_runs_total Runs that reached a final state, by outcome\n"
        "# TYPE wsms_runs_total counter\n",
        v[0], v[2], (double)v[1] / 1000.0, v[0], v[3]);
    for (size_t i = 0; t && i < sizeof(outcomes) / sizeof(*outcomes); i++)
        t = arena_printf(a, "%swsms_runs_total{outcome=\"%s\"} %lld\n", t, outcomes[i], v[4 + i]);
    return t;
}

static void queued_from(const struct db_rows *rows, int r, struct queued_run *q)
{
    q->run_id = db_val(rows, r, 0);
    q->ws_id = db_val(rows, r, 1);
    q->schema = db_val(rows, r, 2);
    q->job_id = db_val(rows, r, 3);
    q->lease_owner = rows->ncols > 4 ? db_val(rows, r, 4) : NULL;
    q->timeout_at_ms = 0;
}

wsms_err runs_claim(struct arena *a, const char *owner, int64_t lease_ms, struct queued_run *out,
                    bool *got)
{
    struct db_rows rows;
    int64_t now = runs_now_ms();
    long n = 0;
    wsms_err e;
    *got = false;
    memset(out, 0, sizeof(*out));
    if ((e = db_begin()) != WSMS_OK)
        return e;
    switch (db_type()) {
    case DB_SQLSERVER:
        /* the hints skip rows another claimer holds on SQL Server; the
         * status condition is what keeps it right where they are ignored */
        e = db_query(a, &rows,
                     "UPDATE TOP (1) pmassist_master.RunQueue WITH (UPDLOCK, READPAST, ROWLOCK) "
                     "SET status = 'RUNNING', lease_owner = ?, lease_expires_utc = ? "
                     "OUTPUT inserted.job_run_id, inserted.workspace_id, "
                     "inserted.db_schema_name, inserted.job_id "
                     "WHERE status = 'PENDING' AND waiting = 0 AND not_before_utc <= ?",
                     "stt", owner, now + lease_ms, now);
        break;
    case DB_POSTGRES:
        e = db_query(a, &rows,
                     "UPDATE pmassist_master.RunQueue SET status = 'RUNNING', lease_owner = ?, "
                     "lease_expires_utc = ? WHERE job_run_id = (SELECT job_run_id FROM "
                     "pmassist_master.RunQueue WHERE status = 'PENDING' AND waiting = 0 AND "
                     "not_before_utc <= ? ORDER BY not_before_utc LIMIT 1 FOR UPDATE SKIP LOCKED) "
                     "AND status = 'PENDING' "
                     "RETURNING job_run_id, workspace_id, db_schema_name, job_id",
                     "stt", owner, now + lease_ms, now);
        break;
    default: /* SQLite: BEGIN IMMEDIATE holds the write lock */
        e = db_query(a, &rows,
                     "SELECT job_run_id, workspace_id, db_schema_name, job_id "
                     "FROM pmassist_master.RunQueue WHERE status = 'PENDING' AND waiting = 0 AND "
                     "not_before_utc <= ? ORDER BY not_before_utc LIMIT 1",
                     "t", now);
        if (e == WSMS_OK && rows.nrows == 1) {
            e = db_exec(&n,
                        "UPDATE pmassist_master.RunQueue SET status = 'RUNNING', lease_owner = ?, "
                        "lease_expires_utc = ? WHERE job_run_id = ? AND status = 'PENDING'",
                        "sts", owner, now + lease_ms, db_val(&rows, 0, 0));
            if (e == WSMS_OK && n != 1)
                rows.nrows = 0;
        }
        break;
    }
    if (e != WSMS_OK || rows.nrows != 1)
        goto out;
    queued_from(&rows, 0, out);
    if (!dialect_schema_name_valid(out->schema)) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    struct job_info j;
    int timeout_s = 3600;
    e = jobs_info(a, out->schema, out->ws_id, out->job_id, &j);
    if (e == WSMS_OK)
        timeout_s = j.timeout_seconds > 0 ? j.timeout_seconds : 3600;
    else if (e != E_RESOURCE_NOT_FOUND && e != E_NOT_FOUND)
        goto out;
    out->timeout_at_ms = now + (int64_t)timeout_s * 1000;
    out->lease_owner = owner;
    struct run_change c = {.actor = RUNS_ACTOR_SCHEDULER,
                           .now_ms = now,
                           .lease_owner = owner,
                           .lease_expires_ms = now + lease_ms,
                           .timeout_at_ms = out->timeout_at_ms};
    bool won;
    e = runs_transition(a, out->schema, out->ws_id, out->run_id, RUN_PENDING, RUN_RUNNING, &c,
                        &won);
    if (e == WSMS_OK && !won) {
        /* a queue row whose run is no longer PENDING: drop it */
        log_warn(LG, "queue row of run %s has no PENDING run; removed", out->run_id);
        e = db_exec(NULL, "DELETE FROM pmassist_master.RunQueue WHERE job_run_id = ?", "s",
                    out->run_id);
        goto out;
    }
    if (e == WSMS_OK)
        *got = true;
out:
    if (e != WSMS_OK)
        *got = false;
    if (e == WSMS_OK)
        return db_commit();
    db_rollback();
    return e;
}

wsms_err runs_renew(struct arena *a, const struct queued_run *q, const char *owner,
                    int64_t expires_ms, bool *held)
{
    long n = 0;
    *held = false;
    const char *t = tbl(a, q->schema, "automation_job_runs");
    const char *sql = t ? arena_printf(a,
                                       "UPDATE %s SET lease_expires_utc = ? WHERE job_run_id = ? "
                                       "AND workspace_id = ? AND status = 'RUNNING' AND "
                                       "lease_owner = ?",
                                       t)
                        : NULL;
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_begin();
    if (e != WSMS_OK)
        return e;
    e = db_exec(&n,
                "UPDATE pmassist_master.RunQueue SET lease_expires_utc = ? WHERE job_run_id = ? "
                "AND status = 'RUNNING' AND lease_owner = ?",
                "tss", expires_ms, q->run_id, owner);
    if (e == WSMS_OK && n == 1)
        e = db_exec(&n, sql, "tsss", expires_ms, q->run_id, q->ws_id, owner);
    if (e == WSMS_OK)
        *held = n == 1;
    if (e == WSMS_OK)
        return db_commit();
    db_rollback();
    return e;
}

wsms_err runs_expired(struct arena *a, int64_t now, size_t limit, struct queued_run **out,
                      size_t *n)
{
    struct db_rows rows;
    long long pg[2];
    *out = NULL;
    *n = 0;
    const char *sql = arena_printf(a,
                                   "SELECT job_run_id, workspace_id, db_schema_name, job_id, "
                                   "lease_owner FROM pmassist_master.RunQueue WHERE status = "
                                   "'RUNNING' AND lease_expires_utc < ? ORDER BY "
                                   "lease_expires_utc%s",
                                   dialect_page_sql(db_type(), (long)limit, 0, pg));
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(a, &rows, sql, "tii", now, pg[0], pg[1]);
    if (e != WSMS_OK || rows.nrows == 0)
        return e;
    struct queued_run *q = arena_alloc(a, sizeof(*q) * (size_t)rows.nrows);
    if (!q)
        return E_INTERNAL_SERVER_ERROR;
    for (int r = 0; r < rows.nrows; r++)
        queued_from(&rows, r, &q[r]);
    *out = q;
    *n = (size_t)rows.nrows;
    return WSMS_OK;
}

wsms_err runs_load(struct arena *a, const char *schema, const char *ws_id, const char *run_id,
                   struct run_row *out)
{
    struct db_rows rows;
    const char *t = tbl(a, schema, "automation_job_runs");
    const char *sql = t ? arena_printf(a,
                                       "SELECT job_run_id, job_id, status, lease_owner, chain_id, "
                                       "attempt FROM %s WHERE job_run_id = ? AND workspace_id = ?",
                                       t)
                        : NULL;
    memset(out, 0, sizeof(*out));
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(a, &rows, sql, "ss", run_id, ws_id);
    if (e != WSMS_OK)
        return e;
    if (rows.nrows != 1)
        return E_RESOURCE_NOT_FOUND;
    out->run_id = db_val(&rows, 0, 0);
    out->job_id = db_val(&rows, 0, 1);
    out->status = db_val(&rows, 0, 2);
    out->lease_owner = db_val(&rows, 0, 3);
    out->chain_id = db_val(&rows, 0, 4);
    out->attempt = (int)db_val_ll(&rows, 0, 5, 1);
    return WSMS_OK;
}

wsms_err runs_add_artifact(struct arena *a, const char *schema, const char *ws_id,
                           const struct artifact_new *in)
{
    char id[GUID_LEN + 1];
    const char *t = tbl(a, schema, "file_artifacts");
    if (!t || guid_new(id) != 0)
        return E_INTERNAL_SERVER_ERROR;
    const char *sql = arena_printf(a,
                                   "INSERT INTO %s (file_artifact_id, workspace_id, "
                                   "workspace_agent_id, job_run_id, type, blob_url, file_name, "
                                   "size_bytes, content_type, created_utc, created_by_user_id) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                   t);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    return db_exec(NULL, sql, "sssssssists", id, ws_id, in->agent_id, in->run_id, in->type,
                   in->blob_url, in->file_name, in->size_bytes, in->content_type,
                   in->now_ms ? in->now_ms : runs_now_ms(), in->created_by);
}

/* --- routes --- */

static const char *schema_of(struct request *rq)
{
    char s[36];
    if (dialect_schema_name(rq->workspace_id, s) != 0)
        return NULL;
    return arena_strdup(rq->arena, s);
}

/* The acting identity as the runs record it. */
static const char *actor_of(const struct request *rq)
{
    return rq->user.user_id ? rq->user.user_id : "unknown";
}

static wsms_err audit_run(struct request *rq, const char *action, const char *run_id,
                          const char *job_id)
{
    cJSON *d = cJSON_CreateObject();
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    if (d && auto_add_str(d, "run_id", run_id) && (!job_id || auto_add_str(d, "job_id", job_id)))
        e = audit_write(rq->workspace_id, action, actor_of(rq), d);
    cJSON_Delete(d);
    return e;
}

wsms_err runs_run_now(struct request *rq, const char *job_id, cJSON **out, const char **why)
{
    char jid[GUID_LEN + 1];
    struct job_info j;
    const char *run_id = NULL;
    const char *schema = schema_of(rq);
    *out = NULL;
    *why = NULL;
    if (!schema)
        return E_INTERNAL_SERVER_ERROR;
    if (!job_id || guid_normalize(job_id, jid) != 0)
        return E_RESOURCE_NOT_FOUND;
    wsms_err e = jobs_info(rq->arena, schema, rq->workspace_id, jid, &j);
    if (e == E_NOT_FOUND)
        e = E_RESOURCE_NOT_FOUND;
    if (e != WSMS_OK)
        return e;
    if (!j.is_active) {
        *why = "The job is inactive";
        return E_CONFLICT;
    }
    if (!j.agent_enabled) {
        *why = "The job's agent is disabled";
        return E_CONFLICT;
    }
    if ((e = db_begin()) != WSMS_OK)
        return e;
    struct run_new in = {.job_id = jid,
                         .trigger = "manual",
                         .created_by = actor_of(rq),
                         .reason = "run now",
                         .now_ms = hook_now_ms(rq)};
    e = runs_create(rq->arena, schema, rq->workspace_id, &in, &run_id);
    if (e == WSMS_OK)
        e = audit_run(rq, "RUN_REQUESTED", run_id, jid);
    if (e == WSMS_OK)
        e = db_commit();
    else
        db_rollback();
    if (e != WSMS_OK)
        return e;
    return runs_get(rq, run_id, out);
}

wsms_err runs_list(struct request *rq, const char *job_id, const char *status, long limit,
                   long offset, cJSON **out, long *total)
{
    struct db_rows rows;
    struct roles_read q;
    struct arena *a = rq->arena;
    const char *schema = schema_of(rq);
    const char *t = schema ? tbl(a, schema, "automation_job_runs") : NULL;
    *out = NULL;
    *total = 0;
    if (!t)
        return E_INTERNAL_SERVER_ERROR;
    const char *inner =
        arena_printf(a, RUN_COLS " FROM %s WHERE workspace_id = ?%s%s", t,
                     job_id ? " AND job_id = ?" : "", status ? " AND status = ?" : "");
    wsms_err e = read_start(rq, &q, RUN_NCOLS, RUN_TYPES, roles_read_cols(a, "tr", RUN_COLS),
                            arena_printf(a, "%s tr", t));
    if (e != WSMS_OK)
        return e;
    if (!inner)
        return E_INTERNAL_SERVER_ERROR;
    db_param_s(&q.params, rq->workspace_id);
    if (job_id)
        db_param_s(&q.params, job_id);
    if (status)
        db_param_s(&q.params, status);
    if ((e = roles_read_page(&q, 'u', 0, RUN_NCOLS, RUN_COLS, inner,
                             "created_utc DESC, job_run_id DESC", limit, offset)) != WSMS_OK ||
        (e = roles_read_run(&q, &rows)) != WSMS_OK)
        return e;
    *total = roles_read_total(&rows, 'u');
    return page_json(a, rq->workspace_id, &rows, 'u', limit, offset, run_json, out);
}

#define RG_OFF_T RUN_NCOLS
#define RG_OFF_A (RUN_NCOLS + TR_NCOLS)
#define RG_NDATA (RUN_NCOLS + TR_NCOLS + ART_NCOLS)

wsms_err runs_get(struct request *rq, const char *run_id, cJSON **out)
{
    char rid[GUID_LEN + 1];
    struct db_rows rows;
    struct roles_read q;
    struct arena *a = rq->arena;
    const char *schema = schema_of(rq);
    *out = NULL;
    if (!schema)
        return E_INTERNAL_SERVER_ERROR;
    if (!run_id || guid_normalize(run_id, rid) != 0)
        return E_RESOURCE_NOT_FOUND;
    const char *runs = tbl(a, schema, "automation_job_runs");
    const char *trs = tbl(a, schema, "automation_run_transitions");
    const char *arts = tbl(a, schema, "file_artifacts");
    if (!runs || !trs || !arts)
        return E_INTERNAL_SERVER_ERROR;
    /* one statement: the caller's role, the run ('u'), its transitions
     * ('t') and artifacts ('a') */
    const char *tr = roles_read_cols(a, "tr", RUN_COLS), *tt = roles_read_cols(a, "tt", TR_COLS),
               *ta = roles_read_cols(a, "ta", ART_COLS);
    const char *typed = tr && tt && ta ? arena_printf(a, "%s, %s, %s", tr, tt, ta) : NULL;
    const char *w = rq->workspace_id;
    wsms_err e = read_start(rq, &q, RG_NDATA, RUN_TYPES TR_TYPES ART_TYPES, typed,
                            arena_printf(a, "%s tr, %s tt, %s ta", runs, trs, arts));
    if (e != WSMS_OK)
        return e;
    const char *f_run =
        arena_printf(a, "FROM %s u WHERE u.job_run_id = ? AND u.workspace_id = ?", runs);
    const char *f_tr =
        arena_printf(a, "FROM %s t WHERE t.job_run_id = ? AND t.workspace_id = ?", trs);
    const char *f_art =
        arena_printf(a, "FROM %s a WHERE a.job_run_id = ? AND a.workspace_id = ?", arts);
    const char *c_run = roles_read_cols(a, "u", RUN_COLS), *c_tr = roles_read_cols(a, "t", TR_COLS),
               *c_art = roles_read_cols(a, "a", ART_COLS);
    if (!f_run || !f_tr || !f_art || !c_run || !c_tr || !c_art)
        return E_INTERNAL_SERVER_ERROR;
    if ((e = roles_read_branch(&q, 'u', "0, 0", 0, RUN_NCOLS, c_run, f_run)) != WSMS_OK)
        return e;
    db_param_s(&q.params, rid);
    db_param_s(&q.params, w);
    if ((e = roles_read_branch(&q, 't', "t.seq, 0", RG_OFF_T, TR_NCOLS, c_tr, f_tr)) != WSMS_OK)
        return e;
    db_param_s(&q.params, rid);
    db_param_s(&q.params, w);
    if ((e = roles_read_branch(&q, 'a',
                               "ROW_NUMBER() OVER (ORDER BY a.created_utc, a.file_artifact_id), 0",
                               RG_OFF_A, ART_NCOLS, c_art, f_art)) != WSMS_OK)
        return e;
    db_param_s(&q.params, rid);
    db_param_s(&q.params, w);
    if ((e = roles_read_run(&q, &rows)) != WSMS_OK)
        return e;
    cJSON *run = NULL, *trans = cJSON_CreateArray(), *art = cJSON_CreateArray();
    e = E_INTERNAL_SERVER_ERROR;
    if (!trans || !art)
        goto out;
    for (int r = 0; r < rows.nrows; r++) {
        char k = roles_read_kind(&rows, r);
        const char *const *v = &rows.vals[r * rows.ncols + ROLES_C_DATA];
        if (k == 'u') {
            if (!(run = run_json(a, w, v)))
                goto out;
        } else if (k == 't') {
            const char *const *t = v + RG_OFF_T;
            cJSON *o = cJSON_CreateObject();
            if (!o || !auto_add_str(o, "id", t[0]) || !auto_add_str(o, "from", t[1]) ||
                !auto_add_str(o, "to", t[2]) || !auto_add_str(o, "at", iso(a, t[3])) ||
                !auto_add_str(o, "actor", t[4]) || !auto_add_str(o, "reason", t[5]) ||
                !cJSON_AddItemToArray(trans, o)) {
                cJSON_Delete(o);
                goto out;
            }
        } else if (k == 'a') {
            cJSON *o = art_json(a, w, v + RG_OFF_A);
            if (!o || !cJSON_AddItemToArray(art, o)) {
                cJSON_Delete(o);
                goto out;
            }
        }
    }
    if (!run) {
        e = E_RESOURCE_NOT_FOUND;
        goto out;
    }
    if (!cJSON_AddItemToObject(run, "transitions", trans))
        goto out;
    trans = NULL;
    if (!cJSON_AddItemToObject(run, "artifacts", art))
        goto out;
    art = NULL;
    *out = run;
    run = NULL;
    e = WSMS_OK;
out:
    cJSON_Delete(run);
    cJSON_Delete(trans);
    cJSON_Delete(art);
    return e;
}

wsms_err runs_cancel(struct request *rq, const char *run_id, cJSON **out)
{
    char rid[GUID_LEN + 1];
    struct run_row row;
    bool won = false;
    const char *schema = schema_of(rq);
    *out = NULL;
    if (!schema)
        return E_INTERNAL_SERVER_ERROR;
    if (!run_id || guid_normalize(run_id, rid) != 0)
        return E_RESOURCE_NOT_FOUND;
    const char *reason = arena_printf(rq->arena, "cancelled by %s", actor_of(rq));
    if (!reason)
        return E_INTERNAL_SERVER_ERROR;
    struct run_change c = {.actor = actor_of(rq), .reason = reason, .now_ms = hook_now_ms(rq)};
    wsms_err e = db_begin();
    if (e != WSMS_OK)
        return e;
    e = runs_transition(rq->arena, schema, rq->workspace_id, rid, RUN_PENDING, RUN_CANCELLED, &c,
                        &won);
    if (e == WSMS_OK && !won)
        e = runs_transition(rq->arena, schema, rq->workspace_id, rid, RUN_RUNNING, RUN_CANCELLED,
                            &c, &won);
    if (e == WSMS_OK && !won) {
        e = runs_load(rq->arena, schema, rq->workspace_id, rid, &row);
        if (e == WSMS_OK)
            e = E_INVALID_TRANSITION;
    }
    if (e == WSMS_OK)
        e = audit_run(rq, "RUN_CANCELLED", rid, NULL);
    if (e == WSMS_OK)
        e = db_commit();
    else
        db_rollback();
    if (e != WSMS_OK)
        return e;
    return runs_get(rq, rid, out);
}

/* The statement of the artifact reads: the caller's role and the page
 * (id NULL, of run_id when given) or the one artifact, kind 'a'. */
static wsms_err art_query(struct request *rq, const char *run_id, const char *id, long limit,
                          long offset, struct db_rows *rows)
{
    struct roles_read q;
    struct arena *a = rq->arena;
    const char *schema = schema_of(rq);
    const char *t = schema ? tbl(a, schema, "file_artifacts") : NULL;
    if (!t)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = read_start(rq, &q, ART_NCOLS, ART_TYPES, roles_read_cols(a, "ta", ART_COLS),
                            arena_printf(a, "%s ta", t));
    if (e != WSMS_OK)
        return e;
    db_param_s(&q.params, rq->workspace_id);
    if (id) {
        const char *cols = roles_read_cols(a, "a", ART_COLS);
        const char *from =
            arena_printf(a, "FROM %s a WHERE a.workspace_id = ? AND a.file_artifact_id = ?", t);
        if (!cols || !from)
            return E_INTERNAL_SERVER_ERROR;
        e = roles_read_branch(&q, 'a', "1, 1", 0, ART_NCOLS, cols, from);
        db_param_s(&q.params, id);
    } else {
        const char *inner = arena_printf(a, ART_COLS " FROM %s WHERE workspace_id = ?%s", t,
                                         run_id ? " AND job_run_id = ?" : "");
        if (!inner)
            return E_INTERNAL_SERVER_ERROR;
        if (run_id)
            db_param_s(&q.params, run_id);
        e = roles_read_page(&q, 'a', 0, ART_NCOLS, ART_COLS, inner,
                            "created_utc DESC, file_artifact_id DESC", limit, offset);
    }
    return e != WSMS_OK ? e : roles_read_run(&q, rows);
}

wsms_err artifacts_list(struct request *rq, const char *run_id, long limit, long offset,
                        cJSON **out, long *total)
{
    struct db_rows rows;
    *out = NULL;
    *total = 0;
    wsms_err e = art_query(rq, run_id, NULL, limit, offset, &rows);
    if (e != WSMS_OK)
        return e;
    *total = roles_read_total(&rows, 'a');
    return page_json(rq->arena, rq->workspace_id, &rows, 'a', limit, offset, art_json, out);
}

wsms_err artifacts_get(struct request *rq, const char *artifact_id, cJSON **out)
{
    char id[GUID_LEN + 1];
    struct db_rows rows;
    *out = NULL;
    if (!artifact_id || guid_normalize(artifact_id, id) != 0)
        return E_RESOURCE_NOT_FOUND;
    wsms_err e = art_query(rq, NULL, id, 1, 0, &rows);
    if (e != WSMS_OK)
        return e;
    for (int r = 0; r < rows.nrows; r++)
        if (roles_read_kind(&rows, r) == 'a')
            return (*out = art_json(rq->arena, rq->workspace_id,
                                    &rows.vals[r * rows.ncols + ROLES_C_DATA]))
                       ? WSMS_OK
                       : E_INTERNAL_SERVER_ERROR;
    return E_RESOURCE_NOT_FOUND;
}
