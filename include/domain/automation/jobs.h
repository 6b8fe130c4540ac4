/* jobs: a workspace's automation jobs (automation_jobs, automation_job_deps)
 * and the master schedule index pmassist_master.JobSchedule, which every job
 * change keeps in the same transaction (one row per job: its schema, cron,
 * next fire time, active flag), so a scheduler tick is one indexed query
 * whatever the number of workspaces. Routes (list/get/create/update/delete,
 * audited JOB_CREATED/JOB_UPDATED/JOB_DELETED) and the functions the
 * scheduler and executor use (info, graph, due, advance). The dependency
 * graph stays acyclic (dag). Owns no state; strings and arrays handed back
 * live in the caller's arena, cJSON trees belong to the caller. Times are
 * UTC milliseconds (int64_t) or ISO 8601 "YYYY-MM-DDTHH:MM:SSZ" strings. */
#ifndef WSMS_JOBS_H
#define WSMS_JOBS_H

#include "core/err.h"
#include "data/db.h"
#include "http/http.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* What the executor needs about one job, its agent included. Strings in
 * the arena; schedule_cron NULL when the job has none, agent_config_json
 * "{}" when empty. */
struct job_info {
    const char *job_id, *workspace_id, *name, *agent_id, *agent_type, *agent_config_json,
        *schedule_cron;
    bool is_active, agent_enabled;
    int timeout_seconds, max_retries;
};

/* job_id of the workspace in schema (validated ws_... name).
 * E_RESOURCE_NOT_FOUND when missing. */
wsms_err jobs_info(struct arena *a, const char *schema, const char *ws_id, const char *job_id,
                   struct job_info *out);

/* Ids of the jobs that depend directly on job_id (children) / that job_id
 * depends on directly (parents); *ids an arena array of *n arena strings
 * (n may be 0). */
wsms_err jobs_children(struct arena *a, const char *schema, const char *ws_id, const char *job_id,
                       const char ***ids, size_t *n);
wsms_err jobs_parents(struct arena *a, const char *schema, const char *ws_id, const char *job_id,
                      const char ***ids, size_t *n);
/* Every job downstream of job_id (not job_id itself), each once, in
 * topological order (a job after all of its parents that are in the set). */
wsms_err jobs_descendants(struct arena *a, const char *schema, const char *ws_id,
                          const char *job_id, const char ***ids, size_t *n);

/* Up to limit JobSchedule rows with is_active = 1 and next_fire_utc <=
 * now_ms, earliest first. Columns: 0 job_id, 1 workspace_id,
 * 2 db_schema_name, 3 schedule_cron, 4 next_fire_utc (ISO "...Z"). */
wsms_err jobs_due(struct arena *a, int64_t now_ms, size_t limit, struct db_rows *out);

/* Moves job_id's next_fire_utc from old_next_iso (as jobs_due returned it)
 * to new_next_iso (NULL: no further fire) with one conditional UPDATE ...
 * WHERE job_id = ? AND next_fire_utc = ?. *won is false when another
 * scheduler moved it first (or the job changed/was deleted meanwhile). Runs
 * in the caller's transaction when one is open. */
wsms_err jobs_advance(struct arena *a, const char *job_id, const char *old_next_iso,
                      const char *new_next_iso, bool *won);

/* --- routes (rq->workspace_id, rq->db_schema set by the middleware) --- */

/* A validated body. Create: name and agent_id required. Update: each set_*
 * says the field was sent (schedule_cron may be set to NULL). depends_on is
 * an array of ndeps job ids. */
struct job_in {
    const char *name, *agent_id, *schedule_cron;
    const char **depends_on;
    size_t ndeps;
    bool is_active;
    int timeout_seconds, max_retries;
    bool set_name, set_agent_id, set_schedule_cron, set_depends_on, set_is_active,
        set_timeout_seconds, set_max_retries;
};

/* A page of the workspace's jobs, oldest first; *total without paging. */
wsms_err jobs_list(struct request *rq, long limit, long offset, cJSON **out, long *total);
/* E_RESOURCE_NOT_FOUND when job_id is not a job of the workspace. */
wsms_err jobs_get(struct request *rq, const char *job_id, cJSON **out);
/* E_VALIDATION_ERROR with *why set (bad cron, unknown dependency or agent,
 * schedule and dependencies both, a cycle "a -> b -> a"). */
wsms_err jobs_create(struct request *rq, const struct job_in *in, cJSON **out, const char **why);
wsms_err jobs_update(struct request *rq, const char *job_id, const struct job_in *in, cJSON **out,
                     const char **why);
/* E_CONFLICT with *why naming the jobs that depend on it. */
wsms_err jobs_delete(struct request *rq, const char *job_id, const char **why);

#endif
