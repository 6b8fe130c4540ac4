/* runs: a workspace's job runs (automation_job_runs), their transitions
 * (automation_run_transitions), their artifacts (file_artifacts) and the
 * scheduler's cross-workspace queue pmassist_master.RunQueue.
 *
 * runs_transition is the ONE function that changes a run's status: a
 * conditional UPDATE ... WHERE job_run_id = ? AND workspace_id = ? AND
 * status = <from> (0 rows: the race was lost or the run is elsewhere), the
 * transition row (from, to, when, actor, reason), the RunQueue row (made
 * RUNNING with the lease, or deleted when the run becomes final) and the
 * consequences in the chain (a retry attempt after the backoff, waiting
 * children released when all their parents in the chain succeeded, the
 * waiting subtree SKIPPED after a final non-success), all in one
 * transaction. run_state says which transitions exist.
 *
 * A chain is what one root run (a schedule fire or run-now) brings about:
 * the root and one run of each downstream job (fire_key 'd:<chain_id>',
 * created PENDING with RunQueue.waiting = 1 together with the root).
 *
 * Owns no state. Strings and rows handed back live in the caller's arena;
 * cJSON trees belong to the caller (cJSON_Delete). Times are UTC ms. */
#ifndef WSMS_RUNS_H
#define WSMS_RUNS_H

#include "core/err.h"
#include "data/db.h"
#include "domain/automation/run_state.h"
#include "http/http.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

#define RUNS_ACTOR_SCHEDULER "scheduler"

/* What a transition records besides from/to. All optional but actor. */
struct run_change {
    const char *actor;  /* user id, "apikey:<id>" or "scheduler" */
    const char *reason; /* why (transition row and the run's reason) */
    const char *error;  /* error_message of a FAILED / TIMED_OUT run */
    int64_t now_ms;     /* 0: runs_now_ms() */
    /* to RUNNING: the claimer's lease and the run's deadline */
    const char *lease_owner;
    int64_t lease_expires_ms, timeout_at_ms;
    /* > 0: only when the run's lease expired before this time (takeover) */
    int64_t lease_expired_before_ms;
};

/* The clock of the runs service and the scheduler: now_ms(), moved by the
 * number of seconds in the file WSMS_TEST_CLOCK_FILE names (read at each
 * call) when WSMS_TEST_HOOKS is on. */
int64_t runs_now_ms(void);

/* Moves run_id of the workspace (schema ws_...) from `from` to `to`. *won
 * false (WSMS_OK) when the run is not in `from` (lost race, illegal
 * request, no such run); E_INVALID_TRANSITION when run_state forbids the
 * pair. Opens its own transaction unless one is open (then it runs in it
 * and the caller commits). Logs one line per transition. */
wsms_err runs_transition(struct arena *a, const char *schema, const char *ws_id,
                         const char *run_id, enum run_state from, enum run_state to,
                         const struct run_change *c, bool *won);

/* A root run of job_id and the PENDING waiting runs of its downstream jobs.
 * trigger "schedule" (fire_key "s:<iso>", scheduled_for_ms set) or
 * "manual" (fire_key NULL: "m:<run id>"). E_CONFLICT when the fire_key is
 * taken (another scheduler fired it). Runs in the caller's transaction
 * when one is open. *run_id: the root's id (arena). */
struct run_new {
    const char *job_id, *trigger, *fire_key, *created_by, *reason;
    int64_t scheduled_for_ms, now_ms;
};
wsms_err runs_create(struct arena *a, const char *schema, const char *ws_id,
                     const struct run_new *in, const char **run_id);

/* --- the scheduler's queue --- */

/* One RunQueue row. Strings in the arena. */
struct queued_run {
    const char *run_id, *ws_id, *schema, *job_id, *lease_owner;
    int64_t timeout_at_ms;
};

/* Claims one PENDING, not waiting run whose not_before has come, atomically
 * across schedulers (SQL Server UPDATE TOP (1) ... WITH (UPDLOCK, READPAST,
 * ROWLOCK) OUTPUT, PostgreSQL FOR UPDATE SKIP LOCKED, SQLite BEGIN
 * IMMEDIATE; the conditional UPDATE on status decides everywhere), and
 * makes it RUNNING with lease owner/expiry and its job's timeout. *got false
 * when there is nothing to claim. */
wsms_err runs_claim(struct arena *a, const char *owner, int64_t lease_ms, struct queued_run *out,
                    bool *got);
/* Extends the lease of a run owner holds; *held false when it is no longer
 * RUNNING under owner (cancelled, taken over). */
wsms_err runs_renew(struct arena *a, const struct queued_run *q, const char *owner,
                    int64_t expires_ms, bool *held);
/* Up to limit RUNNING rows whose lease expired before now. */
wsms_err runs_expired(struct arena *a, int64_t now, size_t limit, struct queued_run **out,
                      size_t *n);
/* Adds delta to a scheduler counter (SchedulerCounter.name). */
wsms_err runs_count(const char *name, long long delta);
/* The counters as rows (name, value). */
wsms_err runs_counters(struct arena *a, struct db_rows *out);

/* The run row an executor needs (status, job, attempt). */
struct run_row {
    const char *run_id, *job_id, *status, *lease_owner, *chain_id;
    int attempt;
};
wsms_err runs_load(struct arena *a, const char *schema, const char *ws_id, const char *run_id,
                   struct run_row *out);
/* Inserts a file_artifacts row (in the caller's transaction). */
struct artifact_new {
    const char *run_id, *agent_id, *type, *blob_url, *file_name, *content_type, *created_by;
    long long size_bytes;
    int64_t now_ms;
};
wsms_err runs_add_artifact(struct arena *a, const char *schema, const char *ws_id,
                           const struct artifact_new *in);

/* --- routes (rq->workspace_id) --- */

/* Run now (audited RUN_REQUESTED): E_RESOURCE_NOT_FOUND, E_CONFLICT with
 * *why when the job is inactive or its agent disabled. *out: the run. */
wsms_err runs_run_now(struct request *rq, const char *job_id, cJSON **out, const char **why);
/* A page, newest first; job_id / status filters may be NULL. One
 * statement; *total without paging. */
wsms_err runs_list(struct request *rq, const char *job_id, const char *status, long limit,
                   long offset, cJSON **out, long *total);
/* The run with "transitions" (oldest first) and "artifacts", in one
 * statement. E_RESOURCE_NOT_FOUND. */
wsms_err runs_get(struct request *rq, const char *run_id, cJSON **out);
/* PENDING or RUNNING -> CANCELLED (audited RUN_CANCELLED);
 * E_INVALID_TRANSITION for a final run, E_RESOURCE_NOT_FOUND. */
wsms_err runs_cancel(struct request *rq, const char *run_id, cJSON **out);
/* Artifacts, newest first, optionally of one run; one statement. */
wsms_err artifacts_list(struct request *rq, const char *run_id, long limit, long offset,
                        cJSON **out, long *total);
wsms_err artifacts_get(struct request *rq, const char *artifact_id, cJSON **out);

#endif
