/* Unit tests of integ_list() for Jira, Azure DevOps, ServiceNow and Graph
 * against the loopback fake upstream (t/fake/upstream.py through
 * t/lib/fake.sh): pagination, exact Authorization forms, not configured,
 * upstream errors, malformed and oversized bodies, timeouts over the whole
 * paginated call, broken connections, redirects and next links to another
 * host (which must never see a request), the page cap, and that no
 * credential reaches the log or the reason string. */
#include "core/config.h"
#include "harness.h"
#include "core/err.h"
#include "outbound/httpc.h"
#include "outbound/integrations.h"
#include "core/util.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- harness: repo th_root, the fake, config ---- */

static char fake_dir[PATH_MAX];
static char fake_url[128];

/* Environment for one test: integration settings cleared, then the pairs. */
static void teardown(void)
{
    httpc_cleanup();
    config_free();
}

/* The fake's request records (caller deletes). */
/* A loopback port nothing listens on. */
#define JIRA_EMAIL  "dev@example.com"
#define JIRA_TOKEN  "jira-secret-token"
#define ADO_PAT     "ado-secret-pat"
#define SNOW_TOKEN  "snow-secret-token"
#define GRAPH_TOKEN "graph-secret-token"
/* computed independently: base64 of "dev@example.com:jira-secret-token"
 * and of ":ado-secret-pat" */
#define JIRA_BASIC "Basic ZGV2QGV4YW1wbGUuY29tOmppcmEtc2VjcmV0LXRva2Vu"
#define ADO_BASIC  "Basic OmFkby1zZWNyZXQtcGF0"

static const enum provider all[] = {PROV_JIRA, PROV_ADO, PROV_SNOW, PROV_SP};

/* Configures every provider against the fake with `scenario`; extra env
 * pairs (NULL-terminated) are applied last and may override. */
static void setup_providers(const char *scenario, const char *const *extra)
{
    char jira[256], ado[256], snow[256], graph[256];
    snprintf(jira, sizeof jira, "%s/s/%s/jira", fake_url, scenario);
    snprintf(ado, sizeof ado, "%s/s/%s/myorg", fake_url, scenario);
    snprintf(snow, sizeof snow, "%s/s/%s/snow", fake_url, scenario);
    snprintf(graph, sizeof graph, "%s/s/%s/graph", fake_url, scenario);
    const char *kv[64] = {"JIRA_BASE_URL",           jira,       "JIRA_EMAIL",     JIRA_EMAIL,
                          "JIRA_API_TOKEN",          JIRA_TOKEN, "ADO_ORG_URL",    ado,
                          "ADO_PAT_TOKEN",           ADO_PAT,    "SNOW_BASE_URL",  snow,
                          "SNOW_API_TOKEN",          SNOW_TOKEN, "GRAPH_BASE_URL", graph,
                          "SHAREPOINT_ACCESS_TOKEN", GRAPH_TOKEN};
    size_t n = 18;
    for (size_t i = 0; extra && extra[i] && n + 2 < 64; i++)
        kv[n++] = extra[i];
    kv[n] = NULL;
    th_config_with(kv);
}

static const char *expected_auth(enum provider p)
{
    switch (p) {
    case PROV_JIRA:
        return JIRA_BASIC;
    case PROV_ADO:
        return ADO_BASIC;
    case PROV_SNOW:
        return "Bearer " SNOW_TOKEN;
    case PROV_SP:
        return "Bearer " GRAPH_TOKEN;
    }
    return "?";
}

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Asserts every recorded request went to the main listener with `auth`. */
static void assert_requests(const cJSON *reqs, int expect_n, const char *auth)
{
    const cJSON *r;
    ck_assert_int_eq(cJSON_GetArraySize(reqs), expect_n);
    ck_assert_int_eq(th_count_listener(reqs, "other"), 0);
    cJSON_ArrayForEach(r, reqs)
    {
        ck_assert_str_eq(str_of(r, "listener"), "main");
        ck_assert_str_eq(str_of(r, "method"), "GET");
        ck_assert_msg(str_of(r, "authorization") && strcmp(str_of(r, "authorization"), auth) == 0,
                      "authorization %s", str_of(r, "authorization"));
    }
}

static cJSON *projects_of(cJSON *out)
{
    cJSON *p = cJSON_GetObjectItemCaseSensitive(out, "projects");
    ck_assert(cJSON_IsArray(p));
    return p;
}

static void assert_list_ok(enum provider p)
{
    cJSON *out = NULL;
    char why[256];
    wsms_err e = integ_list(p, &out, why, sizeof why);
    ck_assert_msg(e == WSMS_OK, "%s: %s", integ_provider_name(p), why);
    ck_assert_int_gt(cJSON_GetArraySize(projects_of(out)), 0);
    cJSON_Delete(out);
}

/* ---- tests ---- */

START_TEST(test_jira_pages_basic_auth)
{
    cJSON *out = NULL;
    char why[256];
    setup_providers("ok", NULL);
    th_fake_reset(fake_url);
    ck_assert_int_eq(integ_list(PROV_JIRA, &out, why, sizeof why), WSMS_OK);
    cJSON *p = projects_of(out);
    ck_assert_int_eq(cJSON_GetArraySize(p), 6);
    cJSON *first = cJSON_GetArrayItem(p, 0);
    ck_assert_str_eq(str_of(first, "id"), "10001");
    ck_assert_str_eq(str_of(first, "name"), "Jira Project 1");
    ck_assert_str_eq(str_of(first, "key"), "PRJ1");
    ck_assert_str_eq(str_of(first, "projectTypeKey"), "software");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(first, "self"));
    ck_assert_str_eq(str_of(cJSON_GetArrayItem(p, 5), "key"), "PRJ6");
    cJSON_Delete(out);

    cJSON *reqs = th_fake_requests(fake_url);
    assert_requests(reqs, 3, JIRA_BASIC);
    static const char *const paths[] = {
        "/s/ok/jira/rest/api/3/project/search?startAt=0&maxResults=50",
        "/s/ok/jira/rest/api/3/project/search?startAt=2&maxResults=50",
        "/s/ok/jira/rest/api/3/project/search?startAt=4&maxResults=50"};
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(str_of(cJSON_GetArrayItem(reqs, i), "path"), paths[i]);
    cJSON_Delete(reqs);
}
END_TEST

START_TEST(test_jira_bearer_without_email)
{
    cJSON *out = NULL;
    char why[256];
    const char *extra[] = {"JIRA_EMAIL", "", NULL};
    setup_providers("ok", extra);
    th_fake_reset(fake_url);
    ck_assert_int_eq(integ_list(PROV_JIRA, &out, why, sizeof why), WSMS_OK);
    ck_assert_int_eq(cJSON_GetArraySize(projects_of(out)), 6);
    cJSON_Delete(out);
    cJSON *reqs = th_fake_requests(fake_url);
    assert_requests(reqs, 3, "Bearer " JIRA_TOKEN);
    cJSON_Delete(reqs);
}
END_TEST

START_TEST(test_ado_continuation)
{
    cJSON *out = NULL;
    char why[256];
    setup_providers("ok", NULL);
    th_fake_reset(fake_url);
    ck_assert_int_eq(integ_list(PROV_ADO, &out, why, sizeof why), WSMS_OK);
    cJSON *p = projects_of(out);
    ck_assert_int_eq(cJSON_GetArraySize(p), 6);
    cJSON *first = cJSON_GetArrayItem(p, 0);
    ck_assert_str_eq(str_of(first, "id"), "00000000-0000-4000-8000-000000000001");
    ck_assert_str_eq(str_of(first, "name"), "ADO Project 1");
    ck_assert_str_eq(str_of(first, "description"), "ADO description 1");
    ck_assert_str_eq(str_of(first, "state"), "wellFormed");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(first, "revision"));
    cJSON_Delete(out);
    cJSON *reqs = th_fake_requests(fake_url);
    assert_requests(reqs, 3, ADO_BASIC);
    ck_assert_str_eq(str_of(cJSON_GetArrayItem(reqs, 0), "path"),
                     "/s/ok/myorg/_apis/projects?api-version=7.0");
    ck_assert_str_eq(str_of(cJSON_GetArrayItem(reqs, 1), "path"),
                     "/s/ok/myorg/_apis/projects?api-version=7.0&continuationToken="
                     "page1%2B%2F%3Dtoken");
    cJSON_Delete(reqs);
}
END_TEST

START_TEST(test_snow_spaces)
{
    cJSON *out = NULL;
    char why[256];
    setup_providers("ok", NULL);
    th_fake_reset(fake_url);
    ck_assert_int_eq(integ_list(PROV_SNOW, &out, why, sizeof why), WSMS_OK);
    cJSON *p = projects_of(out);
    ck_assert_int_eq(cJSON_GetArraySize(p), 3);
    cJSON *first = cJSON_GetArrayItem(p, 0);
    ck_assert_str_eq(str_of(first, "id"), "00000000000000000000000000000001");
    ck_assert_str_eq(str_of(first, "name"), "SNOW Space 1");
    ck_assert_str_eq(str_of(first, "description"), "SNOW description 1");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(first, "sys_id"));
    cJSON_Delete(out);
    cJSON *reqs = th_fake_requests(fake_url);
    assert_requests(reqs, 1, "Bearer " SNOW_TOKEN);
    ck_assert_str_eq(str_of(cJSON_GetArrayItem(reqs, 0), "path"),
                     "/s/ok/snow/api/sn_ppm/workspace/space");
    cJSON_Delete(reqs);
}
END_TEST

START_TEST(test_graph_next_link)
{
    cJSON *out = NULL;
    char why[256];
    setup_providers("ok", NULL);
    th_fake_reset(fake_url);
    ck_assert_int_eq(integ_list(PROV_SP, &out, why, sizeof why), WSMS_OK);
    cJSON *p = projects_of(out);
    ck_assert_int_eq(cJSON_GetArraySize(p), 6);
    cJSON *first = cJSON_GetArrayItem(p, 0);
    ck_assert_str_eq(str_of(first, "id"),
                     "contoso.sharepoint.com,00000001-aaaa-bbbb-cccc-000000000000,site1");
    ck_assert_str_eq(str_of(first, "name"), "Site 1");
    ck_assert_str_eq(str_of(first, "webUrl"), "https://contoso.sharepoint.com/sites/site1");
    ck_assert_str_eq(str_of(first, "description"), "Site description 1");
    cJSON_Delete(out);
    cJSON *reqs = th_fake_requests(fake_url);
    assert_requests(reqs, 3, "Bearer " GRAPH_TOKEN);
    ck_assert_str_eq(str_of(cJSON_GetArrayItem(reqs, 0), "path"),
                     "/s/ok/graph/v1.0/sites?search=*");
    ck_assert_str_eq(str_of(cJSON_GetArrayItem(reqs, 2), "path"),
                     "/s/ok/graph/v1.0/sites?search=*&$skiptoken=2");
    cJSON_Delete(reqs);
}
END_TEST

START_TEST(test_trailing_slash_and_empty)
{
    cJSON *out = NULL;
    char why[256], base[256];
    snprintf(base, sizeof base, "%s/s/empty/jira/", fake_url);
    const char *extra[] = {"JIRA_BASE_URL", base, NULL};
    setup_providers("empty", extra);
    th_fake_reset(fake_url);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(integ_list(all[i], &out, why, sizeof why), WSMS_OK);
        ck_assert_int_eq(cJSON_GetArraySize(projects_of(out)), 0);
        cJSON_Delete(out);
    }
    cJSON *reqs = th_fake_requests(fake_url);
    ck_assert_str_eq(str_of(cJSON_GetArrayItem(reqs, 0), "path"),
                     "/s/empty/jira/rest/api/3/project/search?startAt=0&maxResults=50");
    cJSON_Delete(reqs);
}
END_TEST

START_TEST(test_not_configured)
{
    static const char *const base_vars[] = {"JIRA_BASE_URL", "ADO_ORG_URL", "SNOW_BASE_URL",
                                            "GRAPH_BASE_URL"};
    static const char *const token_vars[] = {"JIRA_API_TOKEN", "ADO_PAT_TOKEN", "SNOW_API_TOKEN",
                                             "SHAREPOINT_ACCESS_TOKEN"};
    cJSON *out = (cJSON *)1;
    char why[256];
    for (size_t i = 0; i < 4; i++) {
        const char *no_base[] = {base_vars[i], "", NULL};
        const char *no_token[] = {token_vars[i], "", NULL};
        setup_providers("ok", no_base);
        th_fake_reset(fake_url);
        ck_assert_int_eq(integ_list(all[i], &out, why, sizeof why), E_INTEGRATION_NOT_CONFIGURED);
        ck_assert_ptr_null(out);
        setup_providers("ok", no_token);
        ck_assert_int_eq(integ_list(all[i], &out, why, sizeof why), E_INTEGRATION_NOT_CONFIGURED);
        ck_assert_ptr_null(out);
        cJSON *reqs = th_fake_requests(fake_url);
        ck_assert_int_eq(cJSON_GetArraySize(reqs), 0);
        cJSON_Delete(reqs);
    }
    /* nothing set at all: GRAPH_BASE_URL has a default, the token does not */
    th_config_with(NULL);
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(integ_list(all[i], &out, why, sizeof why), E_INTEGRATION_NOT_CONFIGURED);
    ck_assert_int_eq(integ_list(PROV_JIRA, NULL, why, sizeof why), E_INTERNAL_SERVER_ERROR);
}
END_TEST

START_TEST(test_upstream_failures)
{
    static const char *const scenarios[] = {
        "401",     "403",      "404", "429",        "500",    "malformed", "wrongshape",
        "noarray", "baditems", "big", "bigchunked", "cutoff", "redirect"};
    char why[256];
    for (size_t s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++) {
        setup_providers(scenarios[s], NULL);
        th_fake_reset(fake_url);
        for (size_t i = 0; i < 4; i++) {
            cJSON *out = (cJSON *)1;
            wsms_err e = integ_list(all[i], &out, why, sizeof why);
            ck_assert_msg(e == E_EXTERNAL_SERVICE_ERROR, "%s/%s: got %s (%s)", scenarios[s],
                          integ_provider_name(all[i]), err_code(e), why);
            ck_assert_ptr_null(out);
            ck_assert_msg(
                strncmp(why, integ_provider_name(all[i]), strlen(integ_provider_name(all[i]))) == 0,
                "%s", why);
        }
        cJSON *reqs = th_fake_requests(fake_url);
        ck_assert_int_eq(th_count_listener(reqs, "other"), 0);
        ck_assert_int_eq(th_count_listener(reqs, "main"), 4); /* one request each, no retry */
        const cJSON *r;
        cJSON_ArrayForEach(r, reqs)
        {
            static const char *const names[] = {"jira", "ado", "snow", "graph"};
            for (size_t i = 0; i < 4; i++)
                if (strcmp(str_of(r, "provider"), names[i]) == 0)
                    ck_assert_str_eq(str_of(r, "authorization"), expected_auth(all[i]));
        }
        cJSON_Delete(reqs);
        /* the next good call still works */
        setup_providers("ok", NULL);
        for (size_t i = 0; i < 4; i++)
            assert_list_ok(all[i]);
    }
}
END_TEST

START_TEST(test_status_reason)
{
    cJSON *out = NULL;
    char why[256];
    setup_providers("403", NULL);
    ck_assert_int_eq(integ_list(PROV_ADO, &out, why, sizeof why), E_EXTERNAL_SERVICE_ERROR);
    ck_assert_str_eq(why, "ado: upstream status 403");
    setup_providers("redirect", NULL);
    ck_assert_int_eq(integ_list(PROV_SP, &out, why, sizeof why), E_EXTERNAL_SERVICE_ERROR);
    ck_assert_str_eq(why, "sharepoint: upstream redirect (302) not followed");
}
END_TEST

START_TEST(test_stall_times_out)
{
    const char *extra[] = {"INTEGRATION_TIMEOUT_SECONDS", "1", NULL};
    char why[256];
    setup_providers("stall", extra);
    for (size_t i = 0; i < 4; i++) {
        cJSON *out = (cJSON *)1;
        int64_t t0 = mono_ms();
        ck_assert_int_eq(integ_list(all[i], &out, why, sizeof why), E_REQUEST_TIMEOUT);
        int64_t took = mono_ms() - t0;
        ck_assert_msg(took >= 900 && took < 2500, "took %lld ms", (long long)took);
        ck_assert_ptr_null(out);
    }
    setup_providers("ok", extra);
    for (size_t i = 0; i < 4; i++)
        assert_list_ok(all[i]);
}
END_TEST

START_TEST(test_timeout_covers_all_pages)
{
    /* each page takes 0.6 s (< 1 s) but three pages take 1.8 s (> 1 s) */
    const char *extra[] = {"INTEGRATION_TIMEOUT_SECONDS", "1", NULL};
    static const enum provider paged[] = {PROV_JIRA, PROV_ADO, PROV_SP};
    char why[256];
    setup_providers("slowpages", extra);
    for (size_t i = 0; i < 3; i++) {
        cJSON *out = (cJSON *)1;
        th_fake_reset(fake_url);
        int64_t t0 = mono_ms();
        ck_assert_int_eq(integ_list(paged[i], &out, why, sizeof why), E_REQUEST_TIMEOUT);
        int64_t took = mono_ms() - t0;
        ck_assert_msg(took >= 900 && took < 1800, "took %lld ms", (long long)took);
        ck_assert_ptr_null(out);
        cJSON *reqs = th_fake_requests(fake_url);
        ck_assert_int_eq(cJSON_GetArraySize(reqs), 2); /* the first page, then out of time */
        cJSON_Delete(reqs);
    }
}
END_TEST

START_TEST(test_connect_refused)
{
    char why[256], base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", th_closed_port());
    const char *extra[] = {"JIRA_BASE_URL",  base, "ADO_ORG_URL", base, "SNOW_BASE_URL", base,
                           "GRAPH_BASE_URL", base, NULL};
    setup_providers("ok", extra);
    for (size_t i = 0; i < 4; i++) {
        cJSON *out = (cJSON *)1;
        ck_assert_int_eq(integ_list(all[i], &out, why, sizeof why), E_NETWORK_ERROR);
        ck_assert_ptr_null(out);
        ck_assert_msg(strstr(why, "connection refused") != NULL, "%s", why);
    }
}
END_TEST

START_TEST(test_next_link_to_other_host)
{
    cJSON *out = NULL;
    char why[256];
    setup_providers("nextother", NULL);
    th_fake_reset(fake_url);
    /* Graph: page 1 kept, the foreign next link is not followed */
    ck_assert_int_eq(integ_list(PROV_SP, &out, why, sizeof why), WSMS_OK);
    ck_assert_int_eq(cJSON_GetArraySize(projects_of(out)), 2);
    cJSON_Delete(out);
    /* Jira: its nextPage field (on the other host) is never used */
    ck_assert_int_eq(integ_list(PROV_JIRA, &out, why, sizeof why), WSMS_OK);
    ck_assert_int_eq(cJSON_GetArraySize(projects_of(out)), 4);
    cJSON_Delete(out);
    cJSON *reqs = th_fake_requests(fake_url);
    ck_assert_int_eq(th_count_listener(reqs, "other"), 0);
    ck_assert_int_eq(th_count_listener(reqs, "main"), 3);
    cJSON_Delete(reqs);
}
END_TEST

START_TEST(test_page_cap)
{
    static const enum provider paged[] = {PROV_JIRA, PROV_ADO, PROV_SP};
    char why[256];
    setup_providers("loop", NULL);
    for (size_t i = 0; i < 3; i++) {
        cJSON *out = NULL;
        th_fake_reset(fake_url);
        ck_assert_int_eq(integ_list(paged[i], &out, why, sizeof why), WSMS_OK);
        ck_assert_int_eq(cJSON_GetArraySize(projects_of(out)), INTEG_MAX_PAGES);
        cJSON_Delete(out);
        cJSON *reqs = th_fake_requests(fake_url);
        ck_assert_int_eq(cJSON_GetArraySize(reqs), INTEG_MAX_PAGES);
        cJSON_Delete(reqs);
    }
}
END_TEST

/* ---- no credentials in the log or in `why` ---- */

static char cap_path[64];
static int saved_stderr = -1;

static void capture_begin(void)
{
    snprintf(cap_path, sizeof cap_path, "/tmp/wsms-log-XXXXXX");
    int fd = mkstemp(cap_path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    saved_stderr = dup(2);
    ck_assert_int_ge(saved_stderr, 0);
    ck_assert_int_ge(dup2(fd, 2), 0);
    close(fd);
}

static char *capture_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    FILE *f = fopen(cap_path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 1 << 20);
    ck_assert_ptr_nonnull(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(cap_path);
    return buf;
}

static void assert_no_secret(const char *text)
{
    static const char *const secrets[] = {JIRA_TOKEN,
                                          ADO_PAT,
                                          SNOW_TOKEN,
                                          GRAPH_TOKEN,
                                          "ZGV2QGV4YW1wbGUuY29tOmppcmEtc2VjcmV0LXRva2Vu",
                                          "OmFkby1zZWNyZXQtcGF0",
                                          "Basic ",
                                          "Bearer "};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        ck_assert_msg(strstr(text, secrets[i]) == NULL, "found \"%s\" in: %s", secrets[i], text);
}

START_TEST(test_no_credentials_logged)
{
    static const char *const scenarios[] = {"401", "redirect",  "cutoff", "malformed",
                                            "big", "nextother", "ok"};
    char why[256];
    capture_begin();
    for (size_t s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++) {
        setup_providers(scenarios[s], NULL);
        for (size_t i = 0; i < 4; i++) {
            cJSON *out = NULL;
            integ_list(all[i], &out, why, sizeof why);
            cJSON_Delete(out);
            assert_no_secret(why);
        }
    }
    char *log = capture_end();
    ck_assert_msg(strstr(log, "upstream") != NULL, "expected warnings, got: %s", log);
    assert_no_secret(log);
    free(log);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integrations");
    TCase *tc = tcase_create("integrations");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_jira_pages_basic_auth);
    tcase_add_test(tc, test_jira_bearer_without_email);
    tcase_add_test(tc, test_ado_continuation);
    tcase_add_test(tc, test_snow_spaces);
    tcase_add_test(tc, test_graph_next_link);
    tcase_add_test(tc, test_trailing_slash_and_empty);
    tcase_add_test(tc, test_not_configured);
    tcase_add_test(tc, test_upstream_failures);
    tcase_add_test(tc, test_status_reason);
    tcase_add_test(tc, test_stall_times_out);
    tcase_add_test(tc, test_timeout_covers_all_pages);
    tcase_add_test(tc, test_connect_refused);
    tcase_add_test(tc, test_next_link_to_other_host);
    tcase_add_test(tc, test_page_cap);
    tcase_add_test(tc, test_no_credentials_logged);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (th_find_root() != 0) {
        fprintf(stderr, "test_integrations: cannot find the source tree (set WSMS_ROOT)\n");
        return 1;
    }
    if (th_fake_start(fake_dir, sizeof fake_dir, fake_url, sizeof fake_url, NULL) != 0) {
        fprintf(stderr, "test_integrations: cannot start t/fake/upstream.py (python3 needed)\n");
        th_fake_stop(fake_dir);
        return 1;
    }
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    th_fake_stop(fake_dir);
    return failed ? 1 : 0;
}
