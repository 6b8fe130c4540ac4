/* executor: runs one claimed run to its end, in the executor process the
 * scheduler starts for it: checks the run is still RUNNING under the
 * scheduler's lease, looks the job's agent type up (integration_snapshot
 * -> snapshot), runs it with no transaction open, then records the result
 * through runs_transition (SUCCEEDED with its artifact row in the same
 * transaction, or FAILED with the error). Owns no state. */
#ifndef WSMS_EXECUTOR_H
#define WSMS_EXECUTOR_H

struct arena;

/* 0 when the run was taken to a final state here (or had already left
 * RUNNING under owner), 1 when recording the result failed. */
int executor_run(struct arena *a, const char *schema, const char *ws_id, const char *run_id,
                 const char *owner);

#endif
