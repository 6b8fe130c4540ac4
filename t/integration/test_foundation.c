/* Foundation behaviour through nginx -> spawn-fcgi -> wsmsd: system routes,
 * error shapes, limits, request ids, the OpenAPI document against the route
 * table, migrations, and the worker lifecycle (respawn, SIGTERM drain,
 * timeouts, recycling, bad configuration). */
#include "client.h"
#include "server/routes.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *json_str(cJSON *j, const char *k)
{
    cJSON *v = cJSON_GetObjectItem(j, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

START_TEST(health_ok)
{
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_str(r.json, "status"), "healthy");
    ck_assert_str_eq(tc_header(&r, "Content-Type"), "application/json");
    ck_assert_ptr_nonnull(tc_header(&r, "X-Request-Id"));
    tc_free(&r);
}
END_TEST

START_TEST(unknown_path_404)
{
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/no/such/thing", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(tc_error_code(&r), "NOT_FOUND");
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(r.json, "message")));
    tc_free(&r);
}
END_TEST

START_TEST(wrong_method_405_allow)
{
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "DELETE", "/health", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(tc_error_code(&r), "METHOD_NOT_ALLOWED");
    ck_assert_str_eq(tc_header(&r, "Allow"), "GET");
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "BREW", "/db/init", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(tc_header(&r, "Allow"), "POST");
    tc_free(&r);
}
END_TEST

START_TEST(body_too_large_413)
{
    size_t n = 1048576 + 100;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'a', n);
    big[0] = '"';
    big[n - 1] = '"';
    big[n] = '\0';
    const char *h[] = {"Content-Type: application/json", NULL};
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "POST", "/auth/validate", big, h), 0);
    ck_assert_int_eq(r.status, 413);
    ck_assert_str_eq(tc_error_code(&r), "PAYLOAD_TOO_LARGE");
    tc_free(&r);
    free(big);
    /* the worker keeps serving */
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
}
END_TEST

START_TEST(oversized_header_400_json)
{
    size_t n = 40000;
    char *h = malloc(n + 16);
    ck_assert_ptr_nonnull(h);
    memcpy(h, "X-Big: ", 7);
    memset(h + 7, 'a', n);
    h[7 + n] = '\0';
    const char *hdrs[] = {h, NULL};
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, hdrs), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(tc_error_code(&r), "INVALID_REQUEST");
    tc_free(&r);
    free(h);
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
}
END_TEST

START_TEST(wrong_content_type_400)
{
    const char *h[] = {"Content-Type: text/plain", NULL};
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "POST", "/db/init", "{}", h), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(tc_error_code(&r), "INVALID_REQUEST");
    tc_free(&r);
}
END_TEST

START_TEST(request_id_echo_and_generated)
{
    struct tresp r;
    const char *h[] = {"X-Request-Id: trace-abc.123_X", NULL};
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, h), 0);
    ck_assert_str_eq(tc_header(&r, "X-Request-Id"), "trace-abc.123_X");
    tc_free(&r);
    const char *bad[] = {"X-Request-Id: <script>alert(1)</script>", NULL};
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, bad), 0);
    const char *gen = tc_header(&r, "X-Request-Id");
    ck_assert_ptr_nonnull(gen);
    ck_assert_int_eq((int)strlen(gen), 36);
    ck_assert_ptr_null(strchr(gen, '<'));
    tc_free(&r);
    /* errors carry it too, and it is in the worker's log line */
    const char *h2[] = {"X-Request-Id: errcase-77", NULL};
    ck_assert_int_eq(tc_request(&r, "GET", "/nowhere", NULL, h2), 0);
    ck_assert_str_eq(tc_header(&r, "X-Request-Id"), "errcase-77");
    tc_free(&r);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "grep -q 'errcase-77.*GET /nowhere 404' %s/wsmsd.log",
             getenv("WSMS_STACK_DIR"));
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(junk_paths_400)
{
    static const char *paths[] = {"/health%00", "/%zz", "/heal%", "/a%0a", NULL};
    for (int i = 0; paths[i]; i++) {
        struct tresp r;
        ck_assert_int_eq(tc_request(&r, "GET", paths[i], NULL, NULL), 0);
        ck_assert_msg(r.status == 400 || r.status == 404, "%s gave %ld", paths[i], r.status);
        ck_assert(*tc_error_code(&r));
        tc_free(&r);
    }
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/health%00", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(tc_error_code(&r), "INVALID_REQUEST");
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
}
END_TEST

START_TEST(db_status_connected)
{
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/db/status", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_str(r.json, "status"), "connected");
    ck_assert_str_eq(json_str(r.json, "database_type"), tc_db_type());
    cJSON *t = cJSON_GetObjectItem(r.json, "tables");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(t, "Workspace")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(t, "WorkspaceMember")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(t, "AuditLog")));
    ck_assert_int_ge(cJSON_GetObjectItem(r.json, "schema_version")->valueint, 1);
    ck_assert_ptr_null(strstr(r.body, "wsms-test-pw"));
    ck_assert_ptr_null(strstr(r.body, "assword"));
    tc_free(&r);
}
END_TEST

START_TEST(db_init_info)
{
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "POST", "/db/init", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_str(r.json, "status"), "info");
    ck_assert_str_eq(json_str(r.json, "database_type"), tc_db_type());
    ck_assert_ptr_nonnull(strstr(json_str(r.json, "instructions"), "wsmsd migrate"));
    tc_free(&r);
}
END_TEST

/* Every route of the table is an operation of the OpenAPI document and
 * every operation is a route. */
START_TEST(openapi_matches_routes)
{
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/openapi.json", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(r.json);
    ck_assert(strncmp(json_str(r.json, "openapi"), "3.", 2) == 0);
    cJSON *paths = cJSON_GetObjectItem(r.json, "paths");
    ck_assert(cJSON_IsObject(paths));
    size_t n;
    const struct route *t = routes_table(&n);
    int ops = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *p = cJSON_GetObjectItemCaseSensitive(paths, t[i].pattern);
        ck_assert_msg(p != NULL, "route %s %s missing from openapi.json", t[i].method,
                      t[i].pattern);
        char m[16];
        size_t k = 0;
        for (; t[i].method[k] && k < sizeof(m) - 1; k++)
            m[k] = (char)(t[i].method[k] | 0x20);
        m[k] = '\0';
        ck_assert_msg(cJSON_GetObjectItemCaseSensitive(p, m) != NULL,
                      "operation %s %s missing from openapi.json", t[i].method, t[i].pattern);
    }
    cJSON *p;
    cJSON_ArrayForEach(p, paths)
    {
        cJSON *op;
        cJSON_ArrayForEach(op, p)
        {
            if (strcmp(op->string, "parameters") == 0)
                continue;
            int found = 0;
            for (size_t i = 0; i < n; i++)
                if (strcmp(t[i].pattern, p->string) == 0 &&
                    strcasecmp(t[i].method, op->string) == 0)
                    found = 1;
            ck_assert_msg(found, "openapi.json has %s %s that no route serves", op->string,
                          p->string);
            ops++;
        }
    }
    ck_assert_int_eq(ops, (int)n);
    tc_free(&r);
}
END_TEST

START_TEST(migrate_twice)
{
    char cmd[1024];
    const char *dir = getenv("WSMS_STACK_DIR");
    snprintf(cmd, sizeof(cmd), "WSMS_ENV_FILE=%s/wsms.env %s migrate > %s/m1.out 2>&1", dir,
             getenv("WSMS_WSMSD"), dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "grep -q 'master: up to date at version' %s/m1.out", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A database migrated by a newer wsmsd is refused (on a scratch SQLite
 * directory, whatever database this run uses). */
START_TEST(migrate_refuses_newer_database)
{
    char cmd[2048];
    const char *tmp = getenv("WSMS_TMP");
    snprintf(
        cmd, sizeof(cmd),
        "rm -rf %s/newer && mkdir -p %s/newer && cd %s/newer && "
        "env -i PATH=\"$PATH\" DB_TYPE=sqlite DB_PATH=%s/newer/data %s migrate > m.out 2>&1 && "
        "sqlite3 data/pmassist_master.db \"INSERT INTO SchemaVersion VALUES "
        "('master', 999, '2030-01-01 00:00:00')\" && "
        "! env -i PATH=\"$PATH\" DB_TYPE=sqlite DB_PATH=%s/newer/data %s migrate > m2.out 2>&1 && "
        "grep -q 'newer than this wsmsd' m2.out",
        tmp, tmp, tmp, tmp, getenv("WSMS_WSMSD"), tmp, getenv("WSMS_WSMSD"));
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(bad_env_refuses_to_start)
{
    char path[512], cmd[1024];
    snprintf(path, sizeof(path), "%s/bad.env", getenv("WSMS_TMP"));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "PMA_TOKEN_SECRET=0123456789abcdef0123456789abcdef\nAZURE_TENANT_ID=x\n"
               "AZURE_AUDIENCE=y\nWSMS_REQUEST_TIMEOUT_SECONDS=soon\n");
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "env -u WSMS_REQUEST_TIMEOUT_SECONDS WSMS_ENV_FILE=%s %s --socket %s/bad.sock "
             "> %s/bad.out 2>&1",
             path, getenv("WSMS_WSMSD"), getenv("WSMS_TMP"), getenv("WSMS_TMP"));
    int st = system(cmd);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(cmd, sizeof(cmd), "grep -q 'WSMS_REQUEST_TIMEOUT_SECONDS must be' %s/bad.out",
             getenv("WSMS_TMP"));
    ck_assert_int_eq(system(cmd), 0);
    /* a short secret is refused too, and the secret is never echoed */
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "PMA_TOKEN_SECRET=short-secret-value\nAZURE_TENANT_ID=x\nAZURE_AUDIENCE=y\n");
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "env -u PMA_TOKEN_SECRET WSMS_ENV_FILE=%s %s --socket %s/bad.sock > %s/bad.out 2>&1",
             path, getenv("WSMS_WSMSD"), getenv("WSMS_TMP"), getenv("WSMS_TMP"));
    st = system(cmd);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(cmd, sizeof(cmd),
             "grep -q PMA_TOKEN_SECRET %s/bad.out && ! grep -q short-secret-value %s/bad.out",
             getenv("WSMS_TMP"), getenv("WSMS_TMP"));
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static void wait_workers(int sup, int want, int *kids)
{
    for (int i = 0; i < 100; i++) {
        if (tc_children(sup, kids, 64) == want)
            return;
        usleep(100000);
    }
}

START_TEST(killed_worker_is_replaced)
{
    int sup = tc_stack_pid("");
    int before[64], after[64];
    ck_assert_int_gt(sup, 0);
    int n = tc_children(sup, before, 64);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(kill(before[0], SIGKILL), 0);
    usleep(300000);
    wait_workers(sup, 4, after);
    ck_assert_int_eq(tc_children(sup, after, 64), 4);
    int replaced = 1;
    for (int i = 0; i < 4; i++)
        if (after[i] == before[0])
            replaced = 0;
    ck_assert(replaced);
    for (int i = 0; i < 20; i++) {
        struct tresp r;
        ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
        ck_assert_int_eq(r.status, 200);
        tc_free(&r);
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "grep -q 'worker %d killed by signal 9' %s/wsmsd.log", before[0],
             getenv("WSMS_STACK_DIR"));
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(sigterm_lets_inflight_finish)
{
    char url[256];
    ck_assert_int_eq(tc_stack_start("drain", "", 2, url, sizeof(url)), 0);
    int sup = tc_stack_pid("drain");
    ck_assert_int_gt(sup, 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        setenv("WSMS_URL", url, 1);
        const char *h[] = {"X-Test-Pause: handler:1500", NULL};
        struct tresp r;
        int ok = tc_request(&r, "GET", "/health", NULL, h) == 0 && r.status == 200;
        _exit(ok ? 0 : 1);
    }
    usleep(500000);
    ck_assert_int_eq(kill(sup, SIGTERM), 0);
    int st;
    ck_assert_int_eq(waitpid(child, &st, 0), child);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "in-flight request did not finish");
    for (int i = 0; i < 50 && kill(sup, 0) == 0; i++)
        usleep(100000);
    ck_assert_msg(kill(sup, 0) != 0, "supervisor still running after SIGTERM");
    tc_stack_stop("drain");
}
END_TEST

START_TEST(timeout_answers_504_and_replaces_worker)
{
    char url[256];
    ck_assert_int_eq(
        tc_stack_start("timeout", "WSMS_REQUEST_TIMEOUT_SECONDS=1\n", 1, url, sizeof(url)), 0);
    setenv("WSMS_URL", url, 1);
    const char *h[] = {"X-Test-Pause: handler:4000", NULL};
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, h), 0);
    ck_assert_int_eq(r.status, 504);
    ck_assert_str_eq(tc_error_code(&r), "REQUEST_TIMEOUT");
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    tc_free(&r);
    tc_stack_stop("timeout");
}
END_TEST

START_TEST(max_requests_recycles_without_failures)
{
    char url[256];
    ck_assert_int_eq(tc_stack_start("recycle", "WSMS_MAX_REQUESTS=5\n", 2, url, sizeof(url)), 0);
    setenv("WSMS_URL", url, 1);
    for (int i = 0; i < 60; i++) {
        struct tresp r;
        ck_assert_int_eq(tc_request(&r, "GET", "/db/status", NULL, NULL), 0);
        ck_assert_int_eq(r.status, 200);
        tc_free(&r);
    }
    char dir[512], cmd[1024];
    tc_stack_dir("recycle", dir, sizeof(dir));
    snprintf(cmd, sizeof(cmd), "grep -q 'served 5 requests; recycling' %s/wsmsd.log", dir);
    ck_assert_int_eq(system(cmd), 0);
    tc_stack_stop("recycle");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("foundation");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, health_ok);
    tcase_add_test(tc, unknown_path_404);
    tcase_add_test(tc, wrong_method_405_allow);
    tcase_add_test(tc, body_too_large_413);
    tcase_add_test(tc, wrong_content_type_400);
    tcase_add_test(tc, oversized_header_400_json);
    tcase_add_test(tc, request_id_echo_and_generated);
    tcase_add_test(tc, junk_paths_400);
    tcase_add_test(tc, db_status_connected);
    tcase_add_test(tc, db_init_info);
    tcase_add_test(tc, openapi_matches_routes);
    tcase_add_test(tc, migrate_twice);
    tcase_add_test(tc, migrate_refuses_newer_database);
    tcase_add_test(tc, bad_env_refuses_to_start);
    suite_add_tcase(s, tc);
    TCase *life = tcase_create("lifecycle");
    tcase_set_timeout(life, 120);
    tcase_add_test(life, killed_worker_is_replaced);
    tcase_add_test(life, sigterm_lets_inflight_finish);
    tcase_add_test(life, timeout_answers_504_and_replaces_worker);
    tcase_add_test(life, max_requests_recycles_without_failures);
    suite_add_tcase(s, life);
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
