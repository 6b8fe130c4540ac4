/* Unit tests of httpc against the loopback fake upstream (t/fake/upstream.py,
 * started through t/lib/fake.sh): statuses are not errors, no redirects,
 * 8 MiB cap, deadline, broken transfers, connect failures, protocols, TLS
 * verification, proxy from OUTBOUND_PROXY only, request bodies, connection
 * reuse and url_same_origin. */
#include "core/config.h"
#include "harness.h"
#include "core/err.h"
#include "outbound/httpc.h"
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
static wsms_err get(const char *path, const char *const *headers, struct httpc_resp *r, char *why,
                    size_t whylen)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", fake_url, path);
    return httpc_request("GET", url, headers, NULL, 0, r, why, whylen);
}

static void assert_good_request_works(void)
{
    struct httpc_resp r;
    char why[256];
    ck_assert_int_eq(get("/s/ok/snow/api/sn_ppm/workspace/space", NULL, &r, why, sizeof why),
                     WSMS_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "SNOW Space 1"));
    httpc_resp_free(&r);
}

/* A loopback port nothing listens on. */
/* ---- tests ---- */

START_TEST(test_get_ok_and_headers)
{
    struct httpc_resp r;
    char why[256];
    th_config_with(NULL);
    ck_assert_int_eq(get("/s/ok/org/_apis/projects?api-version=7.0", NULL, &r, why, sizeof why),
                     WSMS_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, strlen(r.body));
    ck_assert_ptr_nonnull(strstr(r.body, "ADO Project 1"));
    ck_assert_str_eq(r.continuation, "page1+/=token");
    ck_assert_ptr_null(r.location);
    httpc_resp_free(&r);
    ck_assert_ptr_null(r.body);
    httpc_resp_free(&r); /* twice is fine */
}
END_TEST

START_TEST(test_status_is_not_an_error)
{
    static const char *const codes[] = {"401", "403", "404", "429", "500"};
    char why[256], path[128];
    th_config_with(NULL);
    for (size_t i = 0; i < 5; i++) {
        struct httpc_resp r;
        snprintf(path, sizeof(path), "/s/%s/jira/rest/api/3/project/search", codes[i]);
        ck_assert_int_eq(get(path, NULL, &r, why, sizeof why), WSMS_OK);
        ck_assert_int_eq(r.status, atoi(codes[i]));
        httpc_resp_free(&r);
    }
}
END_TEST

START_TEST(test_redirect_not_followed)
{
    struct httpc_resp r;
    char why[256];
    const char *hdrs[] = {"Authorization: Bearer redirect-secret", NULL};
    th_config_with(NULL);
    th_fake_reset(fake_url);
    ck_assert_int_eq(get("/s/redirect/graph/v1.0/sites?search=*", hdrs, &r, why, sizeof why),
                     WSMS_OK);
    ck_assert_int_eq(r.status, 302);
    ck_assert_ptr_nonnull(r.location);
    ck_assert_msg(strncmp(r.location, "http://127.0.0.2:", 17) == 0, "%s", r.location);
    httpc_resp_free(&r);
    cJSON *reqs = th_fake_requests(fake_url);
    ck_assert_int_eq(th_count_listener(reqs, "main"), 1);
    ck_assert_int_eq(th_count_listener(reqs, "other"), 0);
    cJSON_Delete(reqs);
}
END_TEST

START_TEST(test_body_cap_content_length)
{
    struct httpc_resp r;
    char why[256];
    th_config_with(NULL);
    ck_assert_int_eq(get("/s/big/snow/api/sn_ppm/workspace/space", NULL, &r, why, sizeof why),
                     E_EXTERNAL_SERVICE_ERROR);
    ck_assert_msg(strstr(why, "larger than") != NULL, "%s", why);
    ck_assert_ptr_null(r.body);
    assert_good_request_works();
}
END_TEST

START_TEST(test_body_cap_chunked)
{
    struct httpc_resp r;
    char why[256];
    th_config_with(NULL);
    ck_assert_int_eq(
        get("/s/bigchunked/snow/api/sn_ppm/workspace/space", NULL, &r, why, sizeof why),
        E_EXTERNAL_SERVICE_ERROR);
    ck_assert_msg(strstr(why, "larger than") != NULL, "%s", why);
    ck_assert_ptr_null(r.body);
    assert_good_request_works();
}
END_TEST

START_TEST(test_whole_request_timeout)
{
    struct httpc_resp r;
    char why[256];
    const char *env[] = {"INTEGRATION_TIMEOUT_SECONDS", "1", NULL};
    th_config_with(env);
    int64_t t0 = mono_ms();
    ck_assert_int_eq(get("/s/stall/snow/api/sn_ppm/workspace/space", NULL, &r, why, sizeof why),
                     E_REQUEST_TIMEOUT);
    int64_t took = mono_ms() - t0;
    ck_assert_msg(took >= 900 && took < 2500, "took %lld ms", (long long)took);
    assert_good_request_works();
}
END_TEST

START_TEST(test_deadline)
{
    struct httpc_resp r;
    char why[256], url[256];
    th_config_with(NULL);
    snprintf(url, sizeof(url), "%s/s/stall/snow/api/sn_ppm/workspace/space", fake_url);
    int64_t t0 = mono_ms();
    ck_assert_int_eq(httpc_request_until("GET", url, NULL, NULL, 0, t0 + 400, &r, why, sizeof why),
                     E_REQUEST_TIMEOUT);
    int64_t took = mono_ms() - t0;
    ck_assert_msg(took >= 350 && took < 1500, "took %lld ms", (long long)took);
    /* a deadline already passed: no I/O at all */
    th_fake_reset(fake_url);
    snprintf(url, sizeof(url), "%s/s/ok/snow/api/sn_ppm/workspace/space", fake_url);
    ck_assert_int_eq(
        httpc_request_until("GET", url, NULL, NULL, 0, mono_ms() - 1, &r, why, sizeof why),
        E_REQUEST_TIMEOUT);
    cJSON *reqs = th_fake_requests(fake_url);
    ck_assert_int_eq(cJSON_GetArraySize(reqs), 0);
    cJSON_Delete(reqs);
    ck_assert(httpc_deadline() > mono_ms() + 9000); /* default 10 s */
}
END_TEST

START_TEST(test_cutoff_mid_body)
{
    struct httpc_resp r;
    char why[256];
    th_config_with(NULL);
    ck_assert_int_eq(get("/s/cutoff/snow/api/sn_ppm/workspace/space", NULL, &r, why, sizeof why),
                     E_EXTERNAL_SERVICE_ERROR);
    ck_assert_ptr_null(r.body);
    assert_good_request_works();
}
END_TEST

START_TEST(test_connection_refused)
{
    struct httpc_resp r;
    char why[256], url[128];
    th_config_with(NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", th_closed_port());
    ck_assert_int_eq(httpc_request("GET", url, NULL, NULL, 0, &r, why, sizeof why),
                     E_NETWORK_ERROR);
    ck_assert_str_eq(why, "connection refused");
    assert_good_request_works();
}
END_TEST

START_TEST(test_unresolvable_host)
{
    struct httpc_resp r;
    char why[256];
    th_config_with(NULL);
    ck_assert_int_eq(httpc_request("GET", "http://wsms-no-such-host.invalid/", NULL, NULL, 0, &r,
                                   why, sizeof why),
                     E_NETWORK_ERROR);
    ck_assert_msg(strstr(why, "resolve") != NULL, "%s", why);
}
END_TEST

START_TEST(test_only_http_and_https)
{
    struct httpc_resp r;
    char why[256];
    th_config_with(NULL);
    ck_assert_int_eq(
        httpc_request("GET", "file:///etc/hostname", NULL, NULL, 0, &r, why, sizeof why),
        E_EXTERNAL_SERVICE_ERROR);
    ck_assert_ptr_null(r.body);
    ck_assert_int_eq(httpc_request("GET", "ftp://127.0.0.1/", NULL, NULL, 0, &r, why, sizeof why),
                     E_EXTERNAL_SERVICE_ERROR);
    ck_assert_int_eq(
        httpc_request("GET", "gopher://127.0.0.1/", NULL, NULL, 0, &r, why, sizeof why),
        E_EXTERNAL_SERVICE_ERROR);
}
END_TEST

START_TEST(test_tls_verification_on)
{
    char dir[PATH_MAX], url[128], env[3 * PATH_MAX], why[256];
    struct httpc_resp r;
    th_config_with(NULL);
    char certdir[] = "/tmp/wsms-cert-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(certdir));
    ck_assert_int_eq(th_run_sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
                               "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                               "-keyout '%s/key.pem' -out '%s/cert.pem' >/dev/null 2>&1",
                               certdir, certdir),
                     0);
    snprintf(env, sizeof(env), "FAKE_TLS_CERT='%s/cert.pem' FAKE_TLS_KEY='%s/key.pem'", certdir,
             certdir);
    dir[0] = '\0';
    ck_assert_int_eq(th_fake_start(dir, sizeof dir, url, sizeof url, env), 0);
    int tls_port = th_read_int_file(dir, "fake.tls_port");
    ck_assert_int_gt(tls_port, 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/__health", tls_port);
    wsms_err e = httpc_request("GET", url, NULL, NULL, 0, &r, why, sizeof why);
    th_fake_stop(dir);
    th_run_sh("rm -rf '%s'", certdir);
    ck_assert_int_eq(e, E_EXTERNAL_SERVICE_ERROR);
    ck_assert_msg(strstr(why, "certificate") || strstr(why, "SSL"), "%s", why);
}
END_TEST

START_TEST(test_outbound_proxy)
{
    struct httpc_resp r;
    char why[256];
    const char *env[] = {"OUTBOUND_PROXY", fake_url, NULL};
    th_config_with(env);
    setenv("no_proxy", "*", 1); /* the environment cannot bypass OUTBOUND_PROXY */
    setenv("NO_PROXY", "*", 1);
    ck_assert_int_eq(
        httpc_request("GET", "http://upstream.invalid/__echo", NULL, NULL, 0, &r, why, sizeof why),
        WSMS_OK);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = cJSON_ParseWithLength(r.body, r.len);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "proxied")));
    cJSON_Delete(j);
    httpc_resp_free(&r);
}
END_TEST

START_TEST(test_env_proxy_ignored)
{
    struct httpc_resp r;
    char why[256], dead[64];
    snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", th_closed_port());
    th_config_with(NULL);
    setenv("http_proxy", dead, 1);
    setenv("HTTP_PROXY", dead, 1);
    setenv("ALL_PROXY", dead, 1);
    setenv("all_proxy", dead, 1);
    ck_assert_int_eq(get("/__echo", NULL, &r, why, sizeof why), WSMS_OK);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = cJSON_ParseWithLength(r.body, r.len);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "proxied")));
    cJSON_Delete(j);
    httpc_resp_free(&r);
}
END_TEST

START_TEST(test_put_body)
{
    struct httpc_resp r;
    char why[256], url[256];
    const char *hdrs[] = {"X-Test: yes", NULL};
    th_config_with(NULL);
    snprintf(url, sizeof(url), "%s/__echo", fake_url);
    ck_assert_int_eq(httpc_request("PUT", url, hdrs, "hello", 5, &r, why, sizeof why), WSMS_OK);
    cJSON *j = cJSON_ParseWithLength(r.body, r.len);
    httpc_resp_free(&r);
    cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "headers");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "method")->valuestring, "PUT");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "body")->valuestring, "hello");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(h, "content-length")->valuestring, "5");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(h, "x-test")->valuestring, "yes");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(h, "content-type"));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(h, "expect"));
    cJSON_Delete(j);

    /* PUT without a body still says Content-Length: 0 */
    ck_assert_int_eq(httpc_request("PUT", url, NULL, NULL, 0, &r, why, sizeof why), WSMS_OK);
    j = cJSON_ParseWithLength(r.body, r.len);
    httpc_resp_free(&r);
    h = cJSON_GetObjectItemCaseSensitive(j, "headers");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(h, "content-length")->valuestring, "0");
    cJSON_Delete(j);

    /* a caller's Content-Type is kept */
    const char *ct[] = {"Content-Type: application/json", NULL};
    ck_assert_int_eq(httpc_request("POST", url, ct, "{}", 2, &r, why, sizeof why), WSMS_OK);
    j = cJSON_ParseWithLength(r.body, r.len);
    httpc_resp_free(&r);
    h = cJSON_GetObjectItemCaseSensitive(j, "headers");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(h, "content-type")->valuestring,
                     "application/json");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_header_injection_rejected)
{
    struct httpc_resp r;
    char why[256];
    const char *hdrs[] = {"X-A: a\r\nX-B: b", NULL};
    th_config_with(NULL);
    ck_assert_int_eq(get("/__echo", hdrs, &r, why, sizeof why), E_INTERNAL_SERVER_ERROR);
    ck_assert_ptr_null(r.body);
}
END_TEST

START_TEST(test_connection_reused)
{
    struct httpc_resp r;
    char why[256];
    th_config_with(NULL);
    th_fake_reset(fake_url);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(get("/s/ok/snow/api/sn_ppm/workspace/space", NULL, &r, why, sizeof why),
                         WSMS_OK);
        httpc_resp_free(&r);
    }
    cJSON *reqs = th_fake_requests(fake_url);
    ck_assert_int_eq(cJSON_GetArraySize(reqs), 3);
    int p0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(reqs, 0), "peer_port")->valueint;
    for (int i = 1; i < 3; i++)
        ck_assert_int_eq(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(reqs, i), "peer_port")->valueint,
            p0);
    cJSON_Delete(reqs);
}
END_TEST

START_TEST(test_same_origin)
{
    ck_assert(url_same_origin("https://graph.microsoft.com", "https://graph.microsoft.com/v1.0/x"));
    ck_assert(
        url_same_origin("https://GRAPH.microsoft.com:443/a", "HTTPS://graph.microsoft.com/b"));
    ck_assert(url_same_origin("http://127.0.0.1:80/a", "http://127.0.0.1/b?c=d"));
    ck_assert(!url_same_origin("https://graph.microsoft.com", "http://graph.microsoft.com"));
    ck_assert(!url_same_origin("https://graph.microsoft.com", "https://graph.microsoft.com:8443"));
    ck_assert(!url_same_origin("https://graph.microsoft.com", "https://evil.example.com"));
    ck_assert(!url_same_origin("https://graph.microsoft.com",
                               "https://graph.microsoft.com.evil.example.com/"));
    ck_assert(!url_same_origin("http://127.0.0.1:1000", "http://127.0.0.2:1000"));
    ck_assert(!url_same_origin("https://graph.microsoft.com", "/v1.0/sites"));
    ck_assert(!url_same_origin("https://graph.microsoft.com", "ftp://graph.microsoft.com"));
    ck_assert(!url_same_origin(NULL, "https://graph.microsoft.com"));
    ck_assert(!url_same_origin("", ""));

    char o[128];
    url_origin("https://user:pw@Example.com/a?b", o, sizeof o);
    ck_assert_msg(strstr(o, "pw") == NULL && strstr(o, "user") == NULL, "%s", o);
    ck_assert_str_eq(o, "https://Example.com:443");
    url_origin("not a url", o, sizeof o);
    ck_assert_str_eq(o, "?");
}
END_TEST

START_TEST(test_url_encode)
{
    char *s = url_encode("page1+/= ~a-b_c.d");
    ck_assert_str_eq(s, "page1%2B%2F%3D%20~a-b_c.d");
    free(s);
    s = url_encode("");
    ck_assert_str_eq(s, "");
    free(s);
    ck_assert_ptr_null(url_encode(NULL));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("httpc");
    TCase *tc = tcase_create("httpc");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_get_ok_and_headers);
    tcase_add_test(tc, test_status_is_not_an_error);
    tcase_add_test(tc, test_redirect_not_followed);
    tcase_add_test(tc, test_body_cap_content_length);
    tcase_add_test(tc, test_body_cap_chunked);
    tcase_add_test(tc, test_whole_request_timeout);
    tcase_add_test(tc, test_deadline);
    tcase_add_test(tc, test_cutoff_mid_body);
    tcase_add_test(tc, test_connection_refused);
    tcase_add_test(tc, test_unresolvable_host);
    tcase_add_test(tc, test_only_http_and_https);
    tcase_add_test(tc, test_tls_verification_on);
    tcase_add_test(tc, test_outbound_proxy);
    tcase_add_test(tc, test_env_proxy_ignored);
    tcase_add_test(tc, test_put_body);
    tcase_add_test(tc, test_header_injection_rejected);
    tcase_add_test(tc, test_connection_reused);
    tcase_add_test(tc, test_same_origin);
    tcase_add_test(tc, test_url_encode);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (th_find_root() != 0) {
        fprintf(stderr, "test_httpc: cannot find the source tree (set WSMS_ROOT)\n");
        return 1;
    }
    if (th_fake_start(fake_dir, sizeof fake_dir, fake_url, sizeof fake_url, NULL) != 0) {
        fprintf(stderr, "test_httpc: cannot start t/fake/upstream.py (python3 needed)\n");
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
