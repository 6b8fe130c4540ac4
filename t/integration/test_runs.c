/* Runs through nginx -> spawn-fcgi -> wsmsd, with `wsmsd scheduler`
 * processes of this test against the same database: run now (MEMBER+, 409
 * for an inactive job or a disabled agent), list / filter / get with the
 * transitions, cancel of a PENDING and a RUNNING run, cancel of a finished
 * run refused 409 INVALID_TRANSITION, every illegal transition refused by
 * the service's one transition function, a diamond DAG running its join
 * once, a failed parent skipping its subtree, retries with backoff (the
 * scheduler's test clock jumps, no waiting), and the integration_snapshot
 * agent against the loopback provider fake and Azurite: the blob and its
 * file_artifacts row, a provider error failing the run with its code, blob
 * storage unconfigured failing it with the reason, and no secret in a run,
 * an artifact or the scheduler's log. */
#include "client.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/util.h"
#include "data/db.h"
#include "data/dialect.h"
#include "domain/automation/runs.h"
#include "harness.h"
#include "outbound/blob.h"
#include "runsched.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JIRA_SECRET "jira-token-never-shown-7c1f"
#define ADO_SECRET  "ado-pat-never-shown-93ab"

static char fake_dir[256], fake_url[128], az_dir[600], connstr[1024], container[64];
static char setup_err[256];
static struct tc_user owner;
static char ws[64], int_jira[64], int_ado[64], int_snow[64];
static char ag_good[64], ag_bad[64], ag_stall[64];

/* The scheduler's settings: Jira answers, ADO fails (500), ServiceNow
 * stalls; blob storage only when with_blob. */
static const char *sched_env(bool with_blob)
{
    static char env[3072];
    snprintf(env, sizeof(env),
             "WSMS_SCHEDULER_LEASE_SECONDS=3\nWSMS_SCHEDULER_DRAIN_SECONDS=5\n"
             "JIRA_BASE_URL=%s/s/ok/jira\nJIRA_EMAIL=bot@example.com\nJIRA_API_TOKEN=%s\n"
             "ADO_ORG_URL=%s/s/500/org\nADO_PAT_TOKEN=%s\n"
             "SNOW_BASE_URL=%s/s/stall/snow\nSNOW_API_TOKEN=%s\n"
             "INTEGRATION_TIMEOUT_SECONDS=30\n"
             "AZURE_STORAGE_CONNECTION_STRING=%s\nAZURE_STORAGE_CONTAINER_NAME=%s\n",
             fake_url, JIRA_SECRET, fake_url, ADO_SECRET, fake_url, JIRA_SECRET,
             with_blob ? connstr : "", container);
    return env;
}

static int read_line(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(out, (int)n, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    out[strcspn(out, "\n")] = '\0';
    return 0;
}

static void setup(void)
{
    char path[700], hex[GUID_LEN + 1];
    snprintf(setup_err, sizeof(setup_err), "setup did not finish");
    if (th_find_root() != 0 || !getenv("WSMS_TMP"))
        return;
    const char *d = ts_dir("runs");
    if (th_fake_start(fake_dir, sizeof(fake_dir), fake_url, sizeof(fake_url),
                      "FAKE_STALL_SECONDS=60") != 0) {
        snprintf(setup_err, sizeof(setup_err), "the provider fake did not start");
        return;
    }
    snprintf(az_dir, sizeof(az_dir), "%s/azurite", d);
    if (th_run_sh("sh t/lib/azurite.sh start %s > /dev/null", az_dir) != 0) {
        snprintf(setup_err, sizeof(setup_err), "Azurite did not start (see above)");
        return;
    }
    snprintf(path, sizeof(path), "%s.connstr", az_dir);
    if (th_run_sh("sh t/lib/azurite.sh connstr %s > %s", az_dir, path) != 0 ||
        read_line(path, connstr, sizeof(connstr)) != 0 || guid_new(hex) != 0) {
        snprintf(setup_err, sizeof(setup_err), "no Azurite connection string");
        return;
    }
    snprintf(container, sizeof(container), "wsms-runs-%s-%.8s", tc_db_type(), hex);
    if (tc_user_new(&owner, "runs-owner") != 0) {
        snprintf(setup_err, sizeof(setup_err), "no test user");
        return;
    }
    ts_workspace(&owner, ws);
    ts_integration(&owner, ws, "Jira", "JIRA-1", int_jira);
    ts_integration(&owner, ws, "ADO", "ado-project", int_ado);
    ts_integration(&owner, ws, "SNOW", "snow-space", int_snow);
    ts_agent_for(&owner, ws, int_jira, ag_good);
    ts_agent_for(&owner, ws, int_ado, ag_bad);
    ts_agent_for(&owner, ws, int_snow, ag_stall);
    setup_err[0] = '\0';
}

static void teardown(void)
{
    if (az_dir[0])
        th_run_sh("sh t/lib/azurite.sh stop %s", az_dir);
    th_fake_stop(fake_dir);
    tc_user_free(&owner);
}

#define NEED_SETUP() ck_assert_msg(setup_err[0] == '\0', "%s", setup_err)

static cJSON *transitions(const cJSON *run)
{
    return cJSON_GetObjectItemCaseSensitive(run, "transitions");
}

/* "A>B>C" of the transitions' to states. */
static void expect_path(const cJSON *run, const char *want)
{
    char got[256] = "";
    const cJSON *t;
    cJSON_ArrayForEach(t, transitions(run))
    {
        size_t l = strlen(got);
        snprintf(got + l, sizeof(got) - l, "%s%s", l ? ">" : "", tc_jstr(t, "to"));
    }
    ck_assert_msg(strcmp(got, want) == 0, "run %s went %s, want %s", tc_jstr(run, "id"), got, want);
}

static void cancel_expect(const char *run, long status, const char *code)
{
    char path[200];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s/runs/%s/cancel", ws, run);
    ck_assert_int_eq(tc_as(&r, &owner, "POST", path, NULL), 0);
    EXPECT(&r, status, code);
    tc_free(&r);
}

static void no_secret_in(const char *what, const char *text)
{
    ck_assert_msg(!strstr(text, JIRA_SECRET) && !strstr(text, ADO_SECRET), "a secret in %s", what);
}

static void no_secret_json(const char *what, const cJSON *o)
{
    char *t = cJSON_PrintUnformatted(o);
    ck_assert_ptr_nonnull(t);
    no_secret_in(what, t);
    free(t);
}

static void no_secret_in_log(const char *name)
{
    char log[700];
    ts_sched_log(name, log, sizeof(log));
    ck_assert_int_eq(th_run_sh("test -s %s", log), 0);
    ck_assert_msg(th_run_sh("grep -qF -e %s -e %s %s", JIRA_SECRET, ADO_SECRET, log) == 1,
                  "a secret in %s", log);
}

/* The single run of job (asserts there is exactly one). */
static cJSON *only_run(const char *job)
{
    cJSON *all = ts_runs(&owner, ws, job);
    ck_assert_msg(cJSON_GetArraySize(all) == 1, "job %s has %d runs, want 1", job,
                  cJSON_GetArraySize(all));
    cJSON *r = cJSON_DetachItemFromArray(all, 0);
    cJSON_Delete(all);
    return r;
}

/* ---- the snapshot agent ---- */

START_TEST(snapshot_writes_blob_and_artifact)
{
    char job[64], run[64], path[300], prefix[200], why[256] = "", err[300];
    struct tresp r;
    NEED_SETUP();
    pid_t s = ts_sched_start("snap", sched_env(true));
    ts_job(&owner, ws, "snapshot", ag_good, "", job);
    ts_run_now(&owner, ws, job, run);
    cJSON *o = ts_wait(&owner, ws, run, "SUCCEEDED", 60);
    expect_path(o, "PENDING>RUNNING>SUCCEEDED");
    ck_assert_ptr_nonnull(tc_jstr(o, "started_utc"));
    ck_assert_ptr_nonnull(tc_jstr(o, "completed_utc"));
    const cJSON *arts = cJSON_GetObjectItemCaseSensitive(o, "artifacts");
    ck_assert_int_eq(cJSON_GetArraySize(arts), 1);
    const cJSON *a = cJSON_GetArrayItem(arts, 0);
    ck_assert_str_eq(tc_jstr(a, "type"), "integration_snapshot");
    ck_assert_str_eq(tc_jstr(a, "run_id"), run);
    ck_assert_str_eq(tc_jstr(a, "agent_id"), ag_good);
    ck_assert_str_eq(tc_jstr(a, "content_type"), "application/json");
    ck_assert(cJSON_GetObjectItemCaseSensitive(a, "size_bytes")->valuedouble > 10);
    const char *name = tc_jstr(a, "name"), *url = tc_jstr(a, "blob_url");
    ck_assert_msg(strncmp(name, "snapshot-", 9) == 0 && strstr(name, run), "name %s", name);
    snprintf(prefix, sizeof(prefix), "workspaces/%s/documents/snapshots/", ws);
    ck_assert_msg(strstr(url, container) && strstr(url, prefix) && strstr(url, name), "url %s",
                  url);
    no_secret_json("the run", o);

    /* the artifact routes */
    snprintf(path, sizeof(path), "/workspaces/%s/artifacts?run_id=%s", ws, run);
    ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "1");
    char aid[64];
    snprintf(aid, sizeof(aid), "%s", tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"));
    no_secret_json("the artifact list", r.json);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/artifacts/%s", ws, aid);
    ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "blob_url"), url);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/artifacts/%s", ws,
             "00000000-0000-4000-8000-000000000000");
    ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
    EXPECT(&r, 404, "RESOURCE_NOT_FOUND");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/artifacts?run_id=nope", ws);
    ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);

    /* the blob is there, in this test's own view of Azurite */
    setenv("AZURE_STORAGE_CONNECTION_STRING", connstr, 1);
    setenv("AZURE_STORAGE_CONTAINER_NAME", container, 1);
    ck_assert_msg(config_load(CONFIG_MIGRATE, "/nonexistent", err, sizeof err) == 0, "%s", err);
    cJSON *names = NULL;
    int rc = blob_list(prefix, &names, why, sizeof(why));
    ck_assert_msg(rc == 0, "blob_list: %d %s", rc, why);
    ck_assert_int_eq(cJSON_GetArraySize(names), 1);
    ck_assert(strstr(cJSON_GetArrayItem(names, 0)->valuestring, name) != NULL);
    cJSON_Delete(names);
    /* the document: the integration and the projects the fake listed, no
     * credential */
    char blob[300], *text = NULL;
    size_t len = 0;
    snprintf(blob, sizeof(blob), "%s%s", prefix, name);
    rc = blob_get(blob, &text, &len, why, sizeof(why));
    ck_assert_msg(rc == 0, "blob_get: %d %s", rc, why);
    ck_assert_int_eq((long)len,
                     (long)cJSON_GetObjectItemCaseSensitive(a, "size_bytes")->valuedouble);
    no_secret_in("the snapshot", text);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(tc_jstr(doc, "type"), "integration_snapshot");
    ck_assert_str_eq(tc_jstr(doc, "run_id"), run);
    ck_assert_str_eq(tc_jstr(doc, "workspace_id"), ws);
    const cJSON *ints = cJSON_GetObjectItemCaseSensitive(doc, "integrations");
    ck_assert_int_eq(cJSON_GetArraySize(ints), 1);
    const cJSON *i0 = cJSON_GetArrayItem(ints, 0);
    ck_assert_str_eq(tc_jstr(i0, "integration_id"), int_jira);
    ck_assert_str_eq(tc_jstr(i0, "provider"), "Jira");
    ck_assert_str_eq(tc_jstr(i0, "external_id"), "JIRA-1");
    /* the fake's "ok" Jira: 3 pages of 2 projects */
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(i0, "projects")), 6);
    cJSON_Delete(doc);

    /* a finished run cannot be cancelled */
    cancel_expect(run, 409, "INVALID_TRANSITION");
    cJSON_Delete(o);
    ck_assert_int_eq(ts_sched_stop(s, 20), 0);
    no_secret_in_log("snap");
}
END_TEST

START_TEST(provider_error_and_blob_unconfigured)
{
    char jbad[64], jgood[64], rbad[64], rgood[64];
    NEED_SETUP();
    pid_t s = ts_sched_start("noblob", sched_env(false));
    ts_job(&owner, ws, "provider fails", ag_bad, "", jbad);
    ts_job(&owner, ws, "no storage", ag_good, "", jgood);
    ts_run_now(&owner, ws, jbad, rbad);
    ts_run_now(&owner, ws, jgood, rgood);
    cJSON *o = ts_wait(&owner, ws, rbad, "FAILED", 60);
    const char *em = tc_jstr(o, "error_message");
    ck_assert_msg(em && strstr(em, "EXTERNAL_SERVICE_ERROR") && strstr(em, "ado"),
                  "error_message %s", em);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "artifacts")), 0);
    no_secret_json("the failed run", o);
    cancel_expect(rbad, 409, "INVALID_TRANSITION");
    cJSON_Delete(o);
    o = ts_wait(&owner, ws, rgood, "FAILED", 60);
    em = tc_jstr(o, "error_message");
    ck_assert_msg(em && strstr(em, "blob storage is not configured"), "error_message %s", em);
    expect_path(o, "PENDING>RUNNING>FAILED");
    cJSON_Delete(o);
    ck_assert_int_eq(ts_sched_stop(s, 20), 0);
    no_secret_in_log("noblob");
}
END_TEST

/* ---- chains ---- */

START_TEST(diamond_runs_join_once)
{
    char a[64], b[64], c[64], d[64], run[64], extra[300];
    NEED_SETUP();
    pid_t s = ts_sched_start("diamond", sched_env(true));
    ts_job(&owner, ws, "dia-a", ag_good, "", a);
    snprintf(extra, sizeof(extra), ",\"depends_on\":[\"%s\"]", a);
    ts_job(&owner, ws, "dia-b", ag_good, extra, b);
    ts_job(&owner, ws, "dia-c", ag_good, extra, c);
    snprintf(extra, sizeof(extra), ",\"depends_on\":[\"%s\",\"%s\"]", b, c);
    ts_job(&owner, ws, "dia-d", ag_good, extra, d);
    ts_run_now(&owner, ws, a, run);
    cJSON_Delete(ts_wait(&owner, ws, run, "SUCCEEDED", 60));
    const char *jobs[3] = {b, c, d};
    for (int i = 0; i < 3; i++) {
        cJSON *r = only_run(jobs[i]);
        cJSON_Delete(ts_wait(&owner, ws, tc_jstr(r, "id"), "SUCCEEDED", 60));
        ck_assert_str_eq(tc_jstr(r, "chain_id"), run);
        ck_assert_str_eq(tc_jstr(r, "trigger"), "dependency");
        cJSON_Delete(r);
    }
    ts_msleep(500);
    cJSON_Delete(only_run(d)); /* still one */
    ck_assert_int_eq(ts_sched_stop(s, 20), 0);
}
END_TEST

START_TEST(failed_parent_skips_subtree)
{
    char a[64], b[64], c[64], d[64], run[64], extra[300];
    NEED_SETUP();
    pid_t s = ts_sched_start("skip", sched_env(true));
    ts_job(&owner, ws, "skip-a", ag_bad, "", a);
    snprintf(extra, sizeof(extra), ",\"depends_on\":[\"%s\"]", a);
    ts_job(&owner, ws, "skip-b", ag_good, extra, b);
    ts_job(&owner, ws, "skip-d", ag_good, extra, d);
    snprintf(extra, sizeof(extra), ",\"depends_on\":[\"%s\"]", b);
    ts_job(&owner, ws, "skip-c", ag_good, extra, c);
    ts_run_now(&owner, ws, a, run);
    cJSON_Delete(ts_wait(&owner, ws, run, "FAILED", 60));
    const char *jobs[3] = {b, c, d};
    for (int i = 0; i < 3; i++) {
        cJSON *r = only_run(jobs[i]);
        cJSON *full = ts_wait(&owner, ws, tc_jstr(r, "id"), "SKIPPED", 10);
        expect_path(full, "PENDING>SKIPPED");
        ck_assert_msg(strstr(tc_jstr(full, "reason"), "ended"), "reason %s",
                      tc_jstr(full, "reason"));
        cancel_expect(tc_jstr(r, "id"), 409, "INVALID_TRANSITION");
        cJSON_Delete(full);
        cJSON_Delete(r);
    }
    ck_assert_int_eq(ts_sched_stop(s, 20), 0);
}
END_TEST

START_TEST(retries_back_off_and_count_attempts)
{
    char job[64], run[64];
    NEED_SETUP();
    pid_t s = ts_sched_start("retry", sched_env(true));
    ts_job(&owner, ws, "retrying", ag_bad, ",\"max_retries\":2", job);
    ts_run_now(&owner, ws, job, run);
    cJSON_Delete(ts_wait(&owner, ws, run, "FAILED", 60));
    int64_t prev_done = 0;
    for (int attempt = 2; attempt <= 3; attempt++) {
        cJSON *all = NULL;
        const cJSON *next = NULL;
        for (int i = 0; i < 50 && !next; i++, ts_msleep(100)) {
            cJSON_Delete(all);
            all = ts_runs(&owner, ws, job);
            const cJSON *x;
            cJSON_ArrayForEach(x, all)
            {
                if (cJSON_GetObjectItemCaseSensitive(x, "attempt")->valueint == attempt)
                    next = x;
            }
        }
        ck_assert_msg(next != NULL, "no attempt %d", attempt);
        char fk[120];
        snprintf(fk, sizeof(fk), "m:%s#%d", run, attempt);
        ck_assert_str_eq(tc_jstr(next, "fire_key"), fk);
        ck_assert_str_eq(tc_jstr(next, "trigger"), "retry");
        ck_assert_str_eq(tc_jstr(next, "chain_id"), run);
        int64_t created = iso8601_parse_ms(tc_jstr(next, "created_utc"));
        int64_t nb = iso8601_parse_ms(tc_jstr(next, "not_before_utc"));
        int64_t want = attempt == 2 ? 30000 : 60000;
        ck_assert_msg(nb - created == want, "attempt %d waits %lld ms, want %lld", attempt,
                      (long long)(nb - created), (long long)want);
        ck_assert(created >= prev_done);
        char id[64];
        snprintf(id, sizeof(id), "%s", tc_jstr(next, "id"));
        cJSON_Delete(all);
        /* not before its time */
        ts_msleep(400);
        cJSON *o = ts_run(&owner, ws, id);
        ck_assert_str_eq(tc_jstr(o, "status"), "PENDING");
        cJSON_Delete(o);
        ts_clock_add(want / 1000 + 5);
        o = ts_wait(&owner, ws, id, "FAILED", 60);
        prev_done = iso8601_parse_ms(tc_jstr(o, "completed_utc"));
        cJSON_Delete(o);
    }
    ts_msleep(500);
    cJSON *all = ts_runs(&owner, ws, job);
    ck_assert_int_eq(cJSON_GetArraySize(all), 3);
    cJSON_Delete(all);
    ck_assert_int_eq(ts_sched_stop(s, 20), 0);
}
END_TEST

START_TEST(cancel_running_kills_executor)
{
    char job[64], run[64], log[700];
    NEED_SETUP();
    pid_t s = ts_sched_start("cancel", sched_env(true));
    ts_job(&owner, ws, "stalls", ag_stall, "", job);
    ts_run_now(&owner, ws, job, run);
    cJSON_Delete(ts_wait(&owner, ws, run, "RUNNING", 30));
    /* the executor is inside the provider call (the fake stalls it) */
    ts_wait_provider_call(fake_url, "stall");
    cancel_expect(run, 200, NULL);
    cJSON *o = ts_run(&owner, ws, run);
    expect_path(o, "PENDING>RUNNING>CANCELLED");
    cJSON_Delete(o);
    /* the scheduler notices at its next renewal (lease 3 s: every second) */
    ts_sched_log("cancel", log, sizeof(log));
    int found = 1;
    for (int i = 0; i < 50 && found; i++, ts_msleep(100))
        found = th_run_sh("grep -q 'run %s is no longer ours' %s", run, log);
    if (found != 0)
        th_run_sh("tail -n 40 %s >&2", log);
    ck_assert_msg(found == 0, "the executor of run %s was not stopped", run);
    ts_expect_executor_gone(run);
    o = ts_run(&owner, ws, run);
    expect_path(o, "PENDING>RUNNING>CANCELLED");
    cJSON_Delete(o);
    cancel_expect(run, 409, "INVALID_TRANSITION");
    ck_assert_int_eq(ts_sched_stop(s, 20), 0);
}
END_TEST

/* ---- the API alone (no scheduler: runs stay PENDING) ---- */

START_TEST(run_now_list_get_cancel)
{
    char j1[64], j2[64], jin[64], agoff[64], joff[64], r1[64], r2[64], r3[64], path[300];
    struct tresp r;
    NEED_SETUP();
    ts_job(&owner, ws, "api-1", ag_good, "", j1);
    ts_job(&owner, ws, "api-2", ag_good, "", j2);
    ts_job(&owner, ws, "api-inactive", ag_good, ",\"is_active\":false", jin);
    ts_run_now(&owner, ws, j1, r1);
    ts_run_now(&owner, ws, j1, r2);
    ts_run_now(&owner, ws, j2, r3);

    cJSON *o = ts_run(&owner, ws, r1);
    ck_assert_str_eq(tc_jstr(o, "status"), "PENDING");
    ck_assert_str_eq(tc_jstr(o, "trigger"), "manual");
    ck_assert_str_eq(tc_jstr(o, "chain_id"), r1);
    ck_assert_str_eq(tc_jstr(o, "job_id"), j1);
    ck_assert_str_eq(tc_jstr(o, "workspace_id"), ws);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(o, "attempt")->valueint, 1);
    char fk[80];
    snprintf(fk, sizeof(fk), "m:%s", r1);
    ck_assert_str_eq(tc_jstr(o, "fire_key"), fk);
    expect_path(o, "PENDING");
    const cJSON *t0 = cJSON_GetArrayItem(transitions(o), 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(t0, "from")));
    ck_assert_str_eq(tc_jstr(t0, "actor"), owner.oid);
    cJSON_Delete(o);

    /* refused run-now */
    snprintf(path, sizeof(path), "/workspaces/%s/jobs/%s/runs", ws, jin);
    ck_assert_int_eq(tc_as(&r, &owner, "POST", path, NULL), 0);
    EXPECT(&r, 409, "CONFLICT");
    tc_free(&r);
    ts_agent(&owner, ws, NULL, agoff);
    ts_job(&owner, ws, "api-agent-off", agoff, "", joff);
    snprintf(path, sizeof(path), "/workspaces/%s/agents/%s", ws, agoff);
    ck_assert_int_eq(tc_as(&r, &owner, "PATCH", path, "{\"is_enabled\":false}"), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/jobs/%s/runs", ws, joff);
    ck_assert_int_eq(tc_as(&r, &owner, "POST", path, NULL), 0);
    EXPECT(&r, 409, "CONFLICT");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/jobs/%s/runs", ws,
             "00000000-0000-4000-8000-000000000000");
    ck_assert_int_eq(tc_as(&r, &owner, "POST", path, NULL), 0);
    EXPECT(&r, 404, "RESOURCE_NOT_FOUND");
    tc_free(&r);

    /* a VIEWER reads but cannot run or cancel */
    struct tc_user v;
    tc_new_user(&v, "runs-viewer");
    char body[300];
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"VIEWER\"}", v.email);
    ck_assert_int_eq(tc_as(&r, &owner, "POST", path, body), 0);
    EXPECT(&r, 201, NULL);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/jobs/%s/runs", ws, j1);
    ck_assert_int_eq(tc_as(&r, &v, "POST", path, NULL), 0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/runs/%s/cancel", ws, r1);
    ck_assert_int_eq(tc_as(&r, &v, "POST", path, NULL), 0);
    EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/runs/%s", ws, r1);
    ck_assert_int_eq(tc_as(&r, &v, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);

    /* list, newest first, filters */
    snprintf(path, sizeof(path), "/workspaces/%s/runs?job_id=%s", ws, j1);
    ck_assert_int_eq(tc_as(&r, &v, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "2");
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"), r2);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 1), "id"), r1);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/runs?job_id=%s&status=PENDING&limit=1", ws, j1);
    ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "2");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/runs?job_id=%s&status=SUCCEEDED", ws, j1);
    ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/runs?status=DONE", ws);
    ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/runs?job_id=x", ws);
    ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/runs/%s", ws,
             "00000000-0000-4000-8000-000000000000");
    ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
    EXPECT(&r, 404, "RESOURCE_NOT_FOUND");
    tc_free(&r);
    /* a read is one statement, the role check included */
    snprintf(path, sizeof(path), "/workspaces/%s/runs/%s", ws, r1);
    ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
    long n = tc_db_statements(&r);
    tc_free(&r);
    /* the fewest of a few (a worker's first connection adds statements) */
    for (int i = 0; i < 3 && n > 1; i++) {
        ck_assert_int_eq(tc_as(&r, &owner, "GET", path, NULL), 0);
        long m = tc_db_statements(&r);
        tc_free(&r);
        if (m >= 0 && m < n)
            n = m;
    }
    if (n >= 0)
        ck_assert_msg(n == 1, "GET run took %ld statements", n);

    /* cancel PENDING, then again */
    cancel_expect(r1, 200, NULL);
    o = ts_run(&owner, ws, r1);
    expect_path(o, "PENDING>CANCELLED");
    ck_assert_ptr_nonnull(tc_jstr(o, "completed_utc"));
    cJSON_Delete(o);
    cancel_expect(r1, 409, "INVALID_TRANSITION");
    cancel_expect("00000000-0000-4000-8000-000000000000", 404, "RESOURCE_NOT_FOUND");
    cancel_expect(r2, 200, NULL);
    cancel_expect(r3, 200, NULL);
    tc_user_free(&v);
}
END_TEST

/* The service's one transition function refuses every pair run_state
 * forbids and makes no transition from a state the run is not in. */
START_TEST(illegal_transitions_refused)
{
    char job[64], run[64], env[700], err[300], schema[36];
    NEED_SETUP();
    ts_job(&owner, ws, "matrix", ag_good, "", job);
    ts_run_now(&owner, ws, job, run);
    snprintf(env, sizeof(env), "%s/wsms.env", getenv("WSMS_STACK_DIR"));
    ck_assert_msg(config_load(CONFIG_MIGRATE, env, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(dialect_schema_name(ws, schema), 0);
    struct arena *a = arena_new(0);
    int refused = 0, lost = 0;
    for (int from = 0; from < RUN_STATE__COUNT; from++)
        for (int to = 0; to < RUN_STATE__COUNT; to++) {
            struct run_change c = {.actor = "test", .reason = "matrix"};
            bool won = true;
            if (from == RUN_PENDING && run_transition_allowed(from, to))
                continue; /* the run is PENDING: these would work */
            wsms_err e = runs_transition(a, schema, ws, run, (enum run_state)from,
                                         (enum run_state)to, &c, &won);
            if (!run_transition_allowed(from, to)) {
                ck_assert_msg(e == E_INVALID_TRANSITION, "%s -> %s: %s", run_state_name(from),
                              run_state_name(to), err_code(e));
                refused++;
            } else {
                ck_assert_msg(e == WSMS_OK && !won, "%s -> %s from PENDING happened",
                              run_state_name(from), run_state_name(to));
                lost++;
            }
        }
    ck_assert_int_eq(refused, 49 - 7); /* 7 transitions exist */
    ck_assert_int_eq(lost, 4);         /* the 4 out of RUNNING */
    db_close();
    arena_free(a);
    cJSON *o = ts_run(&owner, ws, run);
    expect_path(o, "PENDING");
    cJSON_Delete(o);
    cancel_expect(run, 200, NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("runs");
    TCase *tc = tcase_create("runs");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, snapshot_writes_blob_and_artifact);
    tcase_add_test(tc, provider_error_and_blob_unconfigured);
    tcase_add_test(tc, diamond_runs_join_once);
    tcase_add_test(tc, failed_parent_skips_subtree);
    tcase_add_test(tc, retries_back_off_and_count_attempts);
    tcase_add_test(tc, cancel_running_kills_executor);
    tcase_add_test(tc, run_now_list_get_cancel);
    tcase_add_test(tc, illegal_transitions_refused);
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
