/* scheduler: the `wsmsd scheduler` process. Every WSMS_SCHEDULER_TICK_MS it
 *   - fires the due jobs of JobSchedule (one indexed query): per job one
 *     transaction that advances next_fire_utc with a conditional UPDATE and
 *     inserts the root run with its unique fire_key, so a fire time fires
 *     once across any number of schedulers; after downtime a job fires once
 *     with the reason "missed N fire times since ...";
 *   - renews the lease of each run its executors hold, kills an executor
 *     whose run was cancelled or taken over, and ends a run past its
 *     timeout_seconds as TIMED_OUT (killing the executor);
 *   - takes over RUNNING runs of any scheduler whose lease expired (FAILED
 *     "lease expired", retried when retries are left);
 *   - claims PENDING runs up to WSMS_SCHEDULER_CONCURRENCY executors, each a
 *     fresh `wsmsd scheduler-exec` process (its own database connection;
 *     it dies with the scheduler: PR_SET_PDEATHSIG).
 * SIGTERM/SIGINT: stop firing and claiming, wait up to
 * WSMS_SCHEDULER_DRAIN_SECONDS for the running runs, end the rest FAILED
 * (retried when retries are left), exit 0. Owns its executor table. */
#ifndef WSMS_SCHEDULER_H
#define WSMS_SCHEDULER_H

/* The scheduler loop; returns the process exit code. */
int scheduler_run(void);
/* The executor process: argv = schema, workspace id, run id, lease owner.
 * Returns the exit code. */
int scheduler_exec(int argc, char **argv);

#endif
