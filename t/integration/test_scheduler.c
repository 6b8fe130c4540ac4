/* `wsmsd scheduler` processes against the stack's database, time from the
 * schedulers' test clock (WSMS_TEST_CLOCK_FILE; a 100 ms tick, no waiting
 * for real minutes): after downtime a job fires once with "missed N fire
 * times since ...", and the next fire time once more; a hung run past
 * timeout_seconds ends TIMED_OUT and its executor is killed; a scheduler
 * killed with SIGKILL mid-run loses its executor with it and another
 * scheduler takes the run over after the lease (FAILED "lease expired",
 * then the retry to a final state); SIGTERM stops claiming and drains the
 * running run, and past WSMS_SCHEDULER_DRAIN_SECONDS ends it; two
 * schedulers racing over 500 jobs due in the same minute fire each exactly
 * once. */
#include "client.h"
#include "core/util.h"
#include "harness.h"
#include "runsched.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define RACE_JOBS 500

static char fake_dir[256], fake_url[128], setup_err[256];
static struct tc_user owner;
static char ws[64], int_jira[64], int_snow[64], ag_good[64], ag_stall[64];

/* lease 2 s; ServiceNow stalls unless snow_ok; no blob storage (a run that
 * gets through the provider ends FAILED: final either way) */
static const char *env_of(int concurrency, int drain_s, bool snow_ok)
{
    static char env[1024];
    snprintf(env, sizeof(env),
             "WSMS_SCHEDULER_CONCURRENCY=%d\nWSMS_SCHEDULER_LEASE_SECONDS=2\n"
             "WSMS_SCHEDULER_DRAIN_SECONDS=%d\nJIRA_BASE_URL=%s/s/ok/jira\n"
             "JIRA_EMAIL=bot@example.com\nJIRA_API_TOKEN=tok\nSNOW_BASE_URL=%s/s/%s/snow\n"
             "SNOW_API_TOKEN=tok\nINTEGRATION_TIMEOUT_SECONDS=30\n",
             concurrency, drain_s, fake_url, fake_url, snow_ok ? "ok" : "stall");
    return env;
}

static void setup(void)
{
    snprintf(setup_err, sizeof(setup_err), "setup did not finish");
    if (th_find_root() != 0 || !getenv("WSMS_TMP"))
        return;
    ts_dir("sched");
    if (th_fake_start(fake_dir, sizeof(fake_dir), fake_url, sizeof(fake_url),
                      "FAKE_STALL_SECONDS=6") != 0) {
        snprintf(setup_err, sizeof(setup_err), "the provider fake did not start");
        return;
    }
    if (tc_user_new(&owner, "sched-owner") != 0) {
        snprintf(setup_err, sizeof(setup_err), "no test user");
        return;
    }
    ts_workspace(&owner, ws);
    ts_integration(&owner, ws, "Jira", "JIRA-9", int_jira);
    ts_integration(&owner, ws, "SNOW", "snow-9", int_snow);
    ts_agent_for(&owner, ws, int_jira, ag_good);
    ts_agent_for(&owner, ws, int_snow, ag_stall);
    setup_err[0] = '\0';
}

static void teardown(void)
{
    th_fake_stop(fake_dir);
    tc_user_free(&owner);
}

#define NEED_SETUP() ck_assert_msg(setup_err[0] == '\0', "%s", setup_err)

static void cancel(const char *w, const char *run)
{
    char path[200];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s/runs/%s/cancel", w, run);
    ck_assert_int_eq(tc_as(&r, &owner, "POST", path, NULL), 0);
    tc_free(&r);
}

static void wait_stalled(void)
{
    ts_wait_provider_call(fake_url, "stall");
}

static int count_runs(const char *w, const char *job)
{
    cJSON *all = ts_runs(&owner, w, job);
    int n = cJSON_GetArraySize(all);
    cJSON_Delete(all);
    return n;
}

static void patch_job(const char *job, const char *body)
{
    char path[200];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s/jobs/%s", ws, job);
    ck_assert_int_eq(tc_as(&r, &owner, "PATCH", path, body), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
}

START_TEST(missed_fires_fire_once)
{
    char job[64];
    NEED_SETUP();
    ts_job(&owner, ws, "every minute", ag_good, ",\"schedule_cron\":\"* * * * *\"", job);
    /* ten minutes of downtime, on a stopped clock: a real minute passing
     * while the test waits must not add a fire */
    long off = ts_clock_get();
    long long t = ts_clock_freeze_ahead(600);
    pid_t s = ts_sched_start("missed", env_of(0, 5, true));
    for (int i = 0; i < 200 && count_runs(ws, job) == 0; i++)
        ts_msleep(100);
    ts_msleep(1000);
    cJSON *all = ts_runs(&owner, ws, job);
    ck_assert_int_eq(cJSON_GetArraySize(all), 1);
    const cJSON *r = cJSON_GetArrayItem(all, 0);
    ck_assert_str_eq(tc_jstr(r, "trigger"), "schedule");
    ck_assert_str_eq(tc_jstr(r, "status"), "PENDING");
    ck_assert(strncmp(tc_jstr(r, "fire_key"), "s:", 2) == 0);
    const char *reason = tc_jstr(r, "reason");
    long missed = 0;
    ck_assert_msg(reason && sscanf(reason, "missed %ld fire times since", &missed) == 1,
                  "reason %s", reason);
    ck_assert_msg(missed >= 9 && missed <= 11, "missed %ld", missed);
    ck_assert_str_eq(tc_jstr(r, "scheduled_for_utc"), tc_jstr(r, "fire_key") + 2);
    char first[64];
    snprintf(first, sizeof(first), "%s", tc_jstr(r, "id"));
    cJSON_Delete(all);

    /* the next minute fires once more, as a plain fire */
    ts_clock_freeze_ms(t + 60000);
    for (int i = 0; i < 100 && count_runs(ws, job) < 2; i++)
        ts_msleep(100);
    ts_msleep(1000);
    all = ts_runs(&owner, ws, job);
    ck_assert_int_eq(cJSON_GetArraySize(all), 2);
    r = cJSON_GetArrayItem(all, 0);
    ck_assert_msg(strncmp(tc_jstr(r, "reason"), "scheduled fire at ", 18) == 0, "reason %s",
                  tc_jstr(r, "reason"));
    char second[64];
    snprintf(second, sizeof(second), "%s", tc_jstr(r, "id"));
    cJSON_Delete(all);
    ck_assert_int_eq(ts_sched_stop(s, 20), 0);
    /* a running clock again, past the stopped one, for the later tests */
    ts_clock_set(off + 661);
    patch_job(job, "{\"is_active\":false}");
    cancel(ws, first);
    cancel(ws, second);
}
END_TEST

START_TEST(timeout_ends_run_timed_out)
{
    char job[64], run[64];
    NEED_SETUP();
    pid_t s = ts_sched_start("timeout", env_of(2, 5, false));
    ts_job(&owner, ws, "hangs", ag_stall, ",\"timeout_seconds\":60", job);
    th_fake_reset(fake_url);
    ts_run_now(&owner, ws, job, run);
    cJSON_Delete(ts_wait(&owner, ws, run, "RUNNING", 30));
    wait_stalled();
    ts_clock_add(61);
    cJSON *o = ts_wait(&owner, ws, run, "TIMED_OUT", 10);
    ck_assert_msg(strstr(tc_jstr(o, "error_message"), "timed out"), "error %s",
                  tc_jstr(o, "error_message"));
    cJSON_Delete(o);
    ts_expect_executor_gone(run);
    ck_assert_int_eq(count_runs(ws, job), 1); /* no retries asked */
    ck_assert_int_eq(ts_sched_stop(s, 20), 0);
}
END_TEST

START_TEST(sigkill_run_taken_over_after_lease)
{
    char job[64], run[64], log[700];
    int st;
    NEED_SETUP();
    pid_t a = ts_sched_start("killed", env_of(1, 5, false));
    ts_job(&owner, ws, "taken over", ag_stall, ",\"max_retries\":1", job);
    th_fake_reset(fake_url);
    ts_run_now(&owner, ws, job, run);
    cJSON *o = ts_wait(&owner, ws, run, "RUNNING", 30);
    char lease_owner[160];
    snprintf(lease_owner, sizeof(lease_owner), "%s", tc_jstr(o, "lease_owner"));
    cJSON_Delete(o);
    wait_stalled();
    kill(a, SIGKILL);
    waitpid(a, &st, 0);
    ts_expect_executor_gone(run); /* it dies with its scheduler */
    o = ts_run(&owner, ws, run);
    ck_assert_str_eq(tc_jstr(o, "status"), "RUNNING"); /* nobody ended it yet */
    cJSON_Delete(o);

    pid_t b = ts_sched_start("survivor", env_of(1, 5, true));
    o = ts_wait(&owner, ws, run, "FAILED", 20);
    ck_assert_msg(strstr(tc_jstr(o, "reason"), "lease expired") &&
                      strstr(tc_jstr(o, "reason"), lease_owner),
                  "reason %s", tc_jstr(o, "reason"));
    cJSON_Delete(o);
    /* the retry after its backoff, to a final state */
    cJSON *all = NULL;
    for (int i = 0; i < 50; i++, ts_msleep(100)) {
        cJSON_Delete(all);
        all = ts_runs(&owner, ws, job);
        if (cJSON_GetArraySize(all) == 2)
            break;
    }
    ck_assert_int_eq(cJSON_GetArraySize(all), 2);
    char retry[64];
    snprintf(retry, sizeof(retry), "%s", tc_jstr(cJSON_GetArrayItem(all, 0), "id"));
    ck_assert_int_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(all, 0), "attempt")->valueint, 2);
    cJSON_Delete(all);
    ts_clock_add(40);
    o = ts_wait(&owner, ws, retry, "FAILED", 30);
    ck_assert_msg(strstr(tc_jstr(o, "error_message"), "blob storage is not configured"), "error %s",
                  tc_jstr(o, "error_message"));
    cJSON_Delete(o);
    ck_assert_int_eq(ts_sched_stop(b, 20), 0);
    ts_sched_log("survivor", log, sizeof(log));
    ck_assert_int_eq(th_run_sh("grep -q 'run %s: lease expired' %s", run, log), 0);
}
END_TEST

START_TEST(sigterm_drains_then_exits)
{
    char j1[64], j2[64], r1[64], r2[64], log[700];
    NEED_SETUP();
    pid_t s = ts_sched_start("drain", env_of(1, 20, false));
    ts_job(&owner, ws, "drained", ag_stall, "", j1);
    ts_job(&owner, ws, "left pending", ag_good, "", j2);
    th_fake_reset(fake_url);
    ts_run_now(&owner, ws, j1, r1);
    cJSON_Delete(ts_wait(&owner, ws, r1, "RUNNING", 30));
    wait_stalled();
    ts_run_now(&owner, ws, j2, r2); /* the one executor is busy */
    int64_t t0 = mono_ms();
    int st = ts_sched_stop(s, 30);
    int64_t took = mono_ms() - t0;
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
    ck_assert_msg(took < 15000, "drain took %lld ms", (long long)took);
    /* r1 ran to its own end (past the stall), not stopped by the drain */
    cJSON *o = ts_run(&owner, ws, r1);
    ck_assert_str_eq(tc_jstr(o, "status"), "FAILED");
    const char *em = tc_jstr(o, "error_message");
    ck_assert_msg(em && strstr(em, "provider snow") && !strstr(em, "DRAIN"), "error %s", em);
    cJSON_Delete(o);
    o = ts_run(&owner, ws, r2);
    ck_assert_str_eq(tc_jstr(o, "status"), "PENDING");
    cJSON_Delete(o);
    ts_sched_log("drain", log, sizeof(log));
    ck_assert_int_eq(th_run_sh("grep -q 'SIGTERM: no more fires or claims' %s", log), 0);
    cancel(ws, r2);

    /* past the drain deadline the run is ended (and may be retried) */
    s = ts_sched_start("deadline", env_of(1, 1, false));
    th_fake_reset(fake_url);
    ts_run_now(&owner, ws, j1, r1);
    cJSON_Delete(ts_wait(&owner, ws, r1, "RUNNING", 30));
    wait_stalled();
    t0 = mono_ms();
    st = ts_sched_stop(s, 30);
    took = mono_ms() - t0;
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
    ck_assert_msg(took < 5000, "stop took %lld ms", (long long)took);
    o = ts_run(&owner, ws, r1);
    ck_assert_str_eq(tc_jstr(o, "status"), "FAILED");
    ck_assert_msg(strstr(tc_jstr(o, "error_message"), "WSMS_SCHEDULER_DRAIN_SECONDS"), "error %s",
                  tc_jstr(o, "error_message"));
    cJSON_Delete(o);
    ts_expect_executor_gone(r1);
}
END_TEST

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Last: its jobs keep their schedule until the workspace is archived. */
START_TEST(two_schedulers_fire_each_once)
{
    char w[64], agent[64], cfg[160], log1[700], log2[700];
    static char jobs[RACE_JOBS][64];
    NEED_SETUP();
    ts_workspace(&owner, w);
    snprintf(cfg, sizeof(cfg), "{}");
    ts_agent(&owner, w, cfg, agent);
    for (int i = 0; i < RACE_JOBS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "race %03d", i);
        ts_job(&owner, w, name, agent, ",\"schedule_cron\":\"* * * * *\"", jobs[i]);
    }
    /* every job's next fire time is within the coming minute: stop the
     * clock past it (no further fire time comes while they race) and let
     * two fire-only schedulers race */
    ts_clock_freeze_ahead(70);
    pid_t s1 = ts_sched_start("race1", env_of(0, 5, true));
    pid_t s2 = ts_sched_start("race2", env_of(0, 5, true));
    int64_t t0 = mono_ms();
    int n = 0;
    for (int i = 0; i < 1200 && n < RACE_JOBS; i++, ts_msleep(250))
        n = count_runs(w, NULL);
    int64_t took = mono_ms() - t0;
    ts_msleep(1500);
    ck_assert_int_eq(ts_sched_stop(s1, 20), 0);
    ck_assert_int_eq(ts_sched_stop(s2, 20), 0);
    cJSON *all = ts_runs(&owner, w, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(all), RACE_JOBS);
    const char *ids[RACE_JOBS];
    for (int i = 0; i < RACE_JOBS; i++) {
        const cJSON *r = cJSON_GetArrayItem(all, i);
        ck_assert_str_eq(tc_jstr(r, "trigger"), "schedule");
        ids[i] = tc_jstr(r, "job_id");
    }
    qsort(ids, RACE_JOBS, sizeof(ids[0]), cmp_str);
    qsort(jobs, RACE_JOBS, sizeof(jobs[0]), (int (*)(const void *, const void *))strcmp);
    for (int i = 0; i < RACE_JOBS; i++)
        ck_assert_msg(strcmp(ids[i], jobs[i]) == 0, "job %s fired %s", jobs[i],
                      i + 1 < RACE_JOBS && strcmp(ids[i], ids[i + 1]) == 0 ? "twice" : "not");
    cJSON_Delete(all);
    ts_sched_log("race1", log1, sizeof(log1));
    ts_sched_log("race2", log2, sizeof(log2));
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "echo \"race: 500 fires in %lld ms; scheduler 1 fired $(grep -c 'fired job .* "
             "(workspace %s)' %s), scheduler 2 $(grep -c 'fired job .* (workspace %s)' %s)\"",
             (long long)took, w, log1, w, log2);
    th_run_sh("%s", cmd);
    snprintf(cmd, sizeof(cmd), "test $(cat %s %s | grep -c 'fired job .* (workspace %s)') = %d",
             log1, log2, w, RACE_JOBS);
    ck_assert_msg(th_run_sh("%s", cmd) == 0, "the logs do not show %d fires", RACE_JOBS);
    /* the counters reach /metrics (from the database, any scheduler) */
    struct tresp m;
    ck_assert_int_eq(tc_request(&m, "GET", "/metrics", NULL, NULL), 0);
    EXPECT(&m, 200, NULL);
    const char *f = strstr(m.body, "\nwsms_scheduler_fires_total ");
    ck_assert_msg(f && atol(f + 28) >= RACE_JOBS, "no fires in /metrics");
    ck_assert(strstr(m.body, "wsms_scheduler_fire_lag_seconds_sum ") != NULL);
    ck_assert(strstr(m.body, "wsms_scheduler_lease_expiries_total ") != NULL);
    const char *o = strstr(m.body, "wsms_runs_total{outcome=\"timed_out\"} ");
    ck_assert_msg(o && atol(o + 37) >= 1, "no timed-out run in /metrics");
    tc_free(&m);
    /* archived: its jobs fire no more */
    char path[120];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s", w);
    ck_assert_int_eq(tc_as(&r, &owner, "DELETE", path, NULL), 0);
    tc_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("scheduler");
    TCase *tc = tcase_create("scheduler");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 400);
    tcase_add_test(tc, missed_fires_fire_once);
    tcase_add_test(tc, timeout_ends_run_timed_out);
    tcase_add_test(tc, sigkill_run_taken_over_after_lease);
    tcase_add_test(tc, sigterm_drains_then_exits);
    tcase_add_test(tc, two_schedulers_fire_each_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (ts_logs_clean() != 0)
        failed++;
    return failed ? 1 : 0;
}
