/* Helpers of the runs and scheduler integration tests: `wsmsd scheduler`
 * processes of the test's own (same database as the shared stack, their
 * own log and settings), the scheduler's test clock file, and the API
 * calls that build agents, jobs and integrations and follow runs. Uses
 * Check's assertions. */
#ifndef WSMS_T_RUNSCHED_H
#define WSMS_T_RUNSCHED_H

#include "client.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <sys/types.h>

/* Directory of the test's files ($WSMS_TMP/sched-<tag>-<db>), made. */
const char *ts_dir(const char *tag);
/* Seconds the schedulers' clock runs ahead (WSMS_TEST_CLOCK_FILE, kept
 * across the forked tests in the file): set, read, move ahead by s. */
void ts_clock_set(long seconds);
long ts_clock_get(void);
void ts_clock_add(long s);
/* Stops the schedulers' clock at real now + the current offset + s;
 * returns that instant (Unix ms). A stopped clock reads as offset 0. */
long long ts_clock_freeze_ahead(long s);
/* Stops the schedulers' clock at the instant ms (Unix ms). */
void ts_clock_freeze_ms(long long ms);
/* Starts `wsmsd scheduler` with the shared stack's settings, a 100 ms
 * tick, the clock file and extra "KEY=VALUE\n" lines; its log is
 * ts_dir()/<name>.log. Returns the pid (> 0). */
pid_t ts_sched_start(const char *name, const char *extra_env);
/* SIGTERM and wait (up to wait_s, then SIGKILL); the exit status. */
int ts_sched_stop(pid_t pid, int wait_s);
/* The log of a scheduler started as name. */
const char *ts_sched_log(const char *name, char *buf, size_t n);
/* 0 when the scheduler logs are free of sanitizer reports. */
int ts_logs_clean(void);

/* API helpers; each asserts the expected status and returns the id. */
void ts_workspace(const struct tc_user *u, char id[64]);
void ts_integration(const struct tc_user *u, const char *ws, const char *provider,
                    const char *external_id, char id[64]);
/* config: JSON object text or NULL. */
void ts_agent(const struct tc_user *u, const char *ws, const char *config, char id[64]);
/* extra: more JSON members (",\"max_retries\":2") or "". */
void ts_job(const struct tc_user *u, const char *ws, const char *name, const char *agent,
            const char *extra, char id[64]);
/* An integration_snapshot agent over the one integration iid. */
void ts_agent_for(const struct tc_user *u, const char *ws, const char *iid, char id[64]);
/* POST .../jobs/{job}/runs -> 201; the run id. */
void ts_run_now(const struct tc_user *u, const char *ws, const char *job, char id[64]);
/* GET the run (caller frees with cJSON_Delete). */
cJSON *ts_run(const struct tc_user *u, const char *ws, const char *run);
/* Polls until the run's status is want (or timeout_s): the run. */
cJSON *ts_wait(const struct tc_user *u, const char *ws, const char *run, const char *want,
               int timeout_s);
/* Every run of the workspace (all pages), newest first; ?job_id= when job. */
cJSON *ts_runs(const struct tc_user *u, const char *ws, const char *job);

/* Sleeps ms milliseconds. */
void ts_msleep(long ms);
/* Waits (up to 10 s) until the provider fake at fake_url has seen a
 * request with "/s/<scenario>/" in its path. */
void ts_wait_provider_call(const char *fake_url, const char *scenario);
/* Waits (up to 5 s) until no executor process of run is left. */
void ts_expect_executor_gone(const char *run);

#endif
