#include "domain/automation/executor.h"

#include "core/arena.h"
#include "core/log.h"
#include "data/db.h"
#include "domain/automation/jobs.h"
#include "domain/automation/runs.h"
#include "domain/automation/snapshot.h"

#include <string.h>

#define LG "executor"

/* RUNNING -> FAILED with error; 0 or 1 like executor_run. */
static int fail_run(struct arena *a, const char *schema, const char *ws_id, const char *run_id,
                    const char *error)
{
    bool won;
    struct run_change c = {.actor = RUNS_ACTOR_SCHEDULER, .error = error, .reason = error};
    wsms_err e = runs_transition(a, schema, ws_id, run_id, RUN_RUNNING, RUN_FAILED, &c, &won);
    if (e != WSMS_OK) {
        log_error(LG, "run %s: recording FAILED failed (%s)", run_id, err_code(e));
        return 1;
    }
    if (!won)
        log_info(LG, "run %s left RUNNING meanwhile; its failure is not recorded", run_id);
    return 0;
}

int executor_run(struct arena *a, const char *schema, const char *ws_id, const char *run_id,
                 const char *owner)
{
    struct run_row r;
    struct job_info j;
    wsms_err e = runs_load(a, schema, ws_id, run_id, &r);
    if (e != WSMS_OK) {
        log_error(LG, "run %s: cannot load it (%s)", run_id, err_code(e));
        return 1;
    }
    if (strcmp(r.status, "RUNNING") != 0 || !r.lease_owner || strcmp(r.lease_owner, owner) != 0) {
        log_info(LG, "run %s is %s under %s, not RUNNING under this scheduler; nothing to do",
                 run_id, r.status, r.lease_owner ? r.lease_owner : "nobody");
        return 0;
    }
    e = jobs_info(a, schema, ws_id, r.job_id, &j);
    if (e == E_RESOURCE_NOT_FOUND || e == E_NOT_FOUND)
        return fail_run(a, schema, ws_id, run_id, "the job no longer exists");
    if (e != WSMS_OK)
        return fail_run(a, schema, ws_id, run_id, err_code(e));
    if (!j.is_active)
        return fail_run(a, schema, ws_id, run_id, "the job is inactive");
    if (!j.agent_type)
        return fail_run(a, schema, ws_id, run_id, "the job has no agent");
    if (!j.agent_enabled)
        return fail_run(a, schema, ws_id, run_id, "the job's agent is disabled");
    if (strcmp(j.agent_type, SNAPSHOT_ARTIFACT_TYPE) != 0) {
        const char *m = arena_printf(a, "no executor for agent type %s", j.agent_type);
        return fail_run(a, schema, ws_id, run_id, m ? m : "no executor for the agent type");
    }
    log_info(LG, "run %s: job %s (%s), attempt %d, agent %s", run_id, j.job_id, j.name,
             r.attempt, j.agent_type);
    struct snapshot_result res;
    int64_t now = runs_now_ms();
    e = snapshot_run(a, schema, ws_id, &j, run_id, now, &res);
    if (e != WSMS_OK)
        return fail_run(a, schema, ws_id, run_id, res.error);
    bool won = false;
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    struct artifact_new art = {.run_id = run_id,
                               .agent_id = j.agent_id,
                               .type = SNAPSHOT_ARTIFACT_TYPE,
                               .blob_url = res.blob_url,
                               .file_name = res.file_name,
                               .content_type = "application/json",
                               .created_by = RUNS_ACTOR_SCHEDULER,
                               .size_bytes = res.size_bytes};
    if ((e = runs_add_artifact(a, schema, ws_id, &art)) != WSMS_OK)
        goto out;
    const char *reason = arena_printf(a, "snapshot written: %s", res.file_name);
    struct run_change c = {.actor = RUNS_ACTOR_SCHEDULER, .reason = reason};
    e = runs_transition(a, schema, ws_id, run_id, RUN_RUNNING, RUN_SUCCEEDED, &c, &won);
out:
    if (e == WSMS_OK && won) {
        if ((e = db_commit()) == WSMS_OK)
            return 0;
    } else if (db_in_transaction()) {
        db_rollback();
    }
    if (e == WSMS_OK) {
        log_info(LG, "run %s left RUNNING meanwhile; its result (blob %s) is dropped", run_id,
                 res.file_name);
        return 0;
    }
    log_error(LG, "run %s: recording the result failed (%s)", run_id, err_code(e));
    return 1;
}
