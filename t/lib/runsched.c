#include "runsched.h"

#include "harness.h"

#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[512];
static long clock_s;

void ts_msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

const char *ts_dir(const char *tag)
{
    if (!dir[0]) {
        const char *tmp = getenv("WSMS_TMP");
        snprintf(dir, sizeof(dir), "%s/sched-%s-%s", tmp ? tmp : "/tmp", tag, tc_db_type());
        mkdir(dir, 0755);
    }
    return dir;
}

void ts_clock_set(long seconds)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/clock", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%ld\n", seconds);
    fclose(f);
    clock_s = seconds;
}

long ts_clock_get(void)
{
    char path[600];
    long v = 0;
    snprintf(path, sizeof(path), "%s/clock", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1) /* a frozen clock counts as 0 */
            v = 0;
        fclose(f);
    }
    clock_s = v;
    return v;
}

void ts_clock_add(long s)
{
    ts_clock_set(ts_clock_get() + s);
}

const char *ts_sched_log(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s.log", dir, name);
    return buf;
}

pid_t ts_sched_start(const char *name, const char *extra_env)
{
    char envf[700], logf[700], line[2048], clockf[600];
    const char *stack = getenv("WSMS_STACK_DIR");
    const char *bin = getenv("WSMSD");
    ck_assert_msg(stack && bin, "WSMS_STACK_DIR / WSMSD not set (run through t/run)");
    snprintf(clockf, sizeof(clockf), "%s/clock", dir);
    if (access(clockf, F_OK) != 0)
        ts_clock_set(0);
    snprintf(envf, sizeof(envf), "%s/%s.env", dir, name);
    ts_sched_log(name, logf, sizeof(logf));
    FILE *out = fopen(envf, "w");
    snprintf(line, sizeof(line), "%s/wsms.env", stack);
    FILE *in = fopen(line, "r");
    ck_assert(out && in);
    while (fgets(line, sizeof(line), in))
        if (strncmp(line, "WSMS_LOG_FILE=", 14) != 0 && strncmp(line, "WSMS_RUN_DIR=", 13) != 0)
            fputs(line, out);
    fclose(in);
    fprintf(out,
            "WSMS_LOG_FILE=%s\nWSMS_TEST_HOOKS=true\nWSMS_TEST_CLOCK_FILE=%s\n"
            "WSMS_SCHEDULER_TICK_MS=100\n%s",
            logf, clockf, extra_env ? extra_env : "");
    fclose(out);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("WSMS_ENV_FILE", envf, 1);
        execl(bin, "wsmsd", "scheduler", (char *)NULL);
        _exit(127);
    }
    return pid;
}

int ts_sched_stop(pid_t pid, int wait_s)
{
    int st = 0;
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    for (int i = 0; i < wait_s * 10; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st;
        ts_msleep(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return st;
}

int ts_logs_clean(void)
{
    char cmd[800];
    snprintf(cmd, sizeof(cmd),
             "! grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' %s/*.log "
             "2>/dev/null",
             dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void post_id(const struct tc_user *u, const char *path, const char *body, char id[64])
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "POST", path, body), 0);
    EXPECT(&r, 201, NULL);
    const char *v = tc_jstr(r.json, "id");
    ck_assert_ptr_nonnull(v);
    snprintf(id, 64, "%s", v);
    tc_free(&r);
}

void ts_workspace(const struct tc_user *u, char id[64])
{
    post_id(u, "/workspaces", "{\"name\":\"automation\"}", id);
}

void ts_integration(const struct tc_user *u, const char *ws, const char *provider,
                    const char *external_id, char id[64])
{
    char path[160], body[256];
    snprintf(path, sizeof(path), "/workspaces/%s/integrations", ws);
    snprintf(body, sizeof(body),
             "{\"provider\":\"%s\",\"display_name\":\"%s project\",\"external_id\":\"%s\"}",
             provider, provider, external_id);
    post_id(u, path, body, id);
}

void ts_agent(const struct tc_user *u, const char *ws, const char *config, char id[64])
{
    char path[160], body[1024];
    snprintf(path, sizeof(path), "/workspaces/%s/agents", ws);
    snprintf(body, sizeof(body),
             "{\"name\":\"snap\",\"agent_type\":\"integration_snapshot\",\"config\":%s}",
             config ? config : "{}");
    post_id(u, path, body, id);
}

void ts_job(const struct tc_user *u, const char *ws, const char *name, const char *agent,
            const char *extra, char id[64])
{
    char path[160], body[2048];
    snprintf(path, sizeof(path), "/workspaces/%s/jobs", ws);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"agent_id\":\"%s\"%s}", name, agent,
             extra ? extra : "");
    post_id(u, path, body, id);
}

void ts_run_now(const struct tc_user *u, const char *ws, const char *job, char id[64])
{
    char path[200];
    snprintf(path, sizeof(path), "/workspaces/%s/jobs/%s/runs", ws, job);
    post_id(u, path, NULL, id);
}

cJSON *ts_run(const struct tc_user *u, const char *ws, const char *run)
{
    char path[200];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s/runs/%s", ws, run);
    ck_assert_int_eq(tc_as(&r, u, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    cJSON *o = r.json;
    r.json = NULL;
    tc_free(&r);
    return o;
}

cJSON *ts_wait(const struct tc_user *u, const char *ws, const char *run, const char *want,
               int timeout_s)
{
    cJSON *o = NULL;
    for (int i = 0; i < timeout_s * 10; i++) {
        cJSON_Delete(o);
        o = ts_run(u, ws, run);
        const char *st = tc_jstr(o, "status");
        if (st && strcmp(st, want) == 0)
            return o;
        ts_msleep(100);
    }
    ck_assert_msg(0, "run %s is %s after %d s, not %s (reason %s, error %s)", run,
                  tc_jstr(o, "status"), timeout_s, want, tc_jstr(o, "reason"),
                  tc_jstr(o, "error_message"));
    return o;
}

cJSON *ts_runs(const struct tc_user *u, const char *ws, const char *job)
{
    cJSON *all = cJSON_CreateArray();
    for (int off = 0;; off += 200) {
        char path[300];
        struct tresp r;
        snprintf(path, sizeof(path), "/workspaces/%s/runs?limit=200&offset=%d%s%s", ws, off,
                 job ? "&job_id=" : "", job ? job : "");
        ck_assert_int_eq(tc_as(&r, u, "GET", path, NULL), 0);
        EXPECT(&r, 200, NULL);
        int n = cJSON_GetArraySize(r.json);
        while (cJSON_GetArraySize(r.json) > 0)
            cJSON_AddItemToArray(all, cJSON_DetachItemFromArray(r.json, 0));
        tc_free(&r);
        if (n < 200)
            break;
    }
    return all;
}

void ts_clock_freeze_ms(long long ms)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/clock", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "@%lld\n", ms);
    fclose(f);
}

long long ts_clock_freeze_ahead(long s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ms =
        (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + (long long)(ts_clock_get() + s) * 1000;
    ts_clock_freeze_ms(ms);
    return ms;
}

void ts_agent_for(const struct tc_user *u, const char *ws, const char *iid, char id[64])
{
    char cfg[128];
    snprintf(cfg, sizeof(cfg), "{\"integration_ids\":[\"%s\"]}", iid);
    ts_agent(u, ws, cfg, id);
}

void ts_wait_provider_call(const char *fake_url, const char *scenario)
{
    char want[64];
    bool called = false;
    snprintf(want, sizeof(want), "/s/%s/", scenario);
    for (int i = 0; i < 100 && !called; i++, ts_msleep(100)) {
        cJSON *reqs = th_fake_requests(fake_url);
        const cJSON *q;
        cJSON_ArrayForEach(q, reqs)
        {
            const char *p = tc_jstr(q, "path");
            called = called || (p && strstr(p, want));
        }
        cJSON_Delete(reqs);
    }
    ck_assert_msg(called, "the executor never called the provider (%s)", scenario);
}

void ts_expect_executor_gone(const char *run)
{
    bool alive = true;
    for (int i = 0; i < 50 && alive; i++, ts_msleep(100))
        alive = th_run_sh("pgrep -f 'scheduler-exe[c] .* %s' > /dev/null", run) == 0;
    ck_assert_msg(!alive, "the executor of run %s still runs", run);
}
