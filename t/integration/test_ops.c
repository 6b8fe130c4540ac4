/* Operations: the systemd units verify, and a worker started the way
 * systemd starts it (socket activation, LISTEN_FDS) serves through nginx. */
#include "client.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(systemd_units_verify)
{
    /* point ExecStart at the built binary so verify can check it exists */
    char cmd[2048];
    const char *tmp = getenv("WSMS_TMP");
    snprintf(cmd, sizeof(cmd),
             "rm -rf %s/units && mkdir -p %s/units && cp systemd/* %s/units/ && "
             "sed -i 's#/usr/local/sbin/wsmsd#%s#' %s/units/*.service && "
             "systemd-analyze verify %s/units/wsms@1.socket %s/units/wsms@1.service "
             "%s/units/wsms.target %s/units/wsms-migrate.service > %s/units/verify.out 2>&1",
             tmp, tmp, tmp, getenv("WSMS_WSMSD"), tmp, tmp, tmp, tmp, tmp, tmp);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof(cmd), "cat %s/units/verify.out", tmp);
        ck_assert_int_eq(system(cmd), 0);
    }
    ck_assert_int_eq(rc, 0);
    /* the service hands the socket over on stdin and is hardened */
    ck_assert_int_eq(system("grep -q '^StandardInput=socket' systemd/wsms@.service && "
                            "grep -q '^ListenStream=/run/wsms/%i.sock' systemd/wsms@.socket && "
                            "grep -q '^NoNewPrivileges=yes' systemd/wsms@.service && "
                            "grep -q '^CapabilityBoundingSet=$' systemd/wsms@.service"),
                     0);
    /* nginx's production upstream lists the same sockets */
    ck_assert_int_eq(system("grep -q 'server unix:/run/wsms/1.sock' nginx/wsms.conf"), 0);
}
END_TEST

START_TEST(socket_activated_worker_serves)
{
    char url[256];
    ck_assert_int_eq(tc_stack_start("sockact", "", 0, url, sizeof(url)), 0);
    setenv("WSMS_URL", url, 1);
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "GET", "/db/status", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
    tc_stack_stop("sockact");
}
END_TEST

/* Value of the sample line starting with `series` (not the # HELP line). */
static long metric(const char *text, const char *series)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, series, strlen(series)) == 0)
            return strtol(p + strlen(series), NULL, 10);
    return -1;
}

START_TEST(status_lists_pool_workers)
{
    struct tresp r;
    int kids[64];
    int sup = tc_stack_pid("");
    int n = tc_children(sup, kids, 64);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(tc_request(&r, "GET", "/status", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    cJSON *w = cJSON_GetObjectItem(r.json, "workers");
    ck_assert_int_eq(cJSON_GetArraySize(w), 4);
    cJSON *it;
    int handling = 0;
    cJSON_ArrayForEach(it, w)
    {
        int pid = cJSON_GetObjectItem(it, "pid")->valueint;
        int found = 0;
        for (int i = 0; i < n; i++)
            found |= kids[i] == pid;
        ck_assert_msg(found, "status lists pid %d that is not a worker", pid);
        const char *state = cJSON_GetObjectItem(it, "state")->valuestring;
        if (strcmp(state, "handling") == 0) {
            handling++;
            ck_assert_str_eq(cJSON_GetObjectItem(it, "route")->valuestring, "status");
        }
        ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(it, "requests_served")));
        ck_assert(cJSON_IsString(cJSON_GetObjectItem(it, "last_restart")));
    }
    ck_assert_int_eq(handling, 1); /* the worker answering this very request */
    tc_free(&r);
}
END_TEST

START_TEST(metrics_count_across_workers_and_restarts)
{
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/metrics", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    long before = metric(r.body, "wsms_requests_total{route=\"health\",class=\"2xx\"} ");
    long starts = metric(r.body, "wsms_worker_starts_total ");
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE wsms_request_duration_seconds histogram"));
    ck_assert_ptr_nonnull(strstr(r.body, "wsms_db_errors_total{class=\"connection\"}"));
    ck_assert_ptr_nonnull(strstr(r.body, "wsms_integration_calls_total{provider=\"jira\""));
    ck_assert_ptr_nonnull(strstr(r.body, "wsms_jwks_refreshes_total"));
    tc_free(&r);
    for (int i = 0; i < 40; i++) {
        ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
        tc_free(&r);
    }
    /* kill a worker: its counters stay in the pool's totals */
    int kids[64];
    int sup = tc_stack_pid("");
    ck_assert_int_eq(tc_children(sup, kids, 64), 4);
    ck_assert_int_eq(kill(kids[1], SIGKILL), 0);
    for (int i = 0; i < 50 && tc_children(sup, kids, 64) != 4; i++)
        usleep(100000);
    usleep(300000);
    ck_assert_int_eq(tc_request(&r, "GET", "/metrics", NULL, NULL), 0);
    long after = metric(r.body, "wsms_requests_total{route=\"health\",class=\"2xx\"} ");
    ck_assert_int_ge(after, before + 40);
    ck_assert_int_gt(metric(r.body, "wsms_worker_starts_total "), starts);
    tc_free(&r);
}
END_TEST

START_TEST(status_refused_outside_allow_list)
{
    char url[256];
    ck_assert_int_eq(tc_stack_start("allow", "STATUS_ALLOW=10.9.9.9\n", 1, url, sizeof(url)), 0);
    setenv("WSMS_URL", url, 1);
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/status", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(tc_error_code(&r), "PERMISSION_DENIED");
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "GET", "/metrics", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 403);
    tc_free(&r);
    tc_stack_stop("allow");
}
END_TEST

START_TEST(slowlog_names_route_and_stage)
{
    char url[256], dir[512], cmd[1024];
    ck_assert_int_eq(tc_stack_start("slow", "WSMS_SLOWLOG_SECONDS=1\n", 1, url, sizeof(url)), 0);
    setenv("WSMS_URL", url, 1);
    const char *h[] = {"X-Test-Pause: handler:1600", NULL};
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/db/status", NULL, h), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
    tc_stack_dir("slow", dir, sizeof(dir));
    snprintf(cmd, sizeof(cmd),
             "grep -q 'slow request: route db.status still in stage handler' %s/wsmsd.log", dir);
    ck_assert_int_eq(system(cmd), 0);
    tc_stack_stop("slow");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("systemd");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, systemd_units_verify);
    tcase_add_test(tc, socket_activated_worker_serves);
    tcase_add_test(tc, status_lists_pool_workers);
    tcase_add_test(tc, metrics_count_across_workers_and_restarts);
    tcase_add_test(tc, status_refused_outside_allow_list);
    tcase_add_test(tc, slowlog_names_route_and_stage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
