/* CORS and HEAD through nginx -> wsmsd on a stack of its own with
 * CORS_ALLOWED_ORIGINS set: the preflight of every route in the table (no
 * tokens, no database), a disallowed origin (no headers, preflight 403),
 * the headers on actual answers including errors from wsmsd and from
 * nginx itself, credentials, the start-up refusal of "*" with credentials,
 * and HEAD wherever GET works. */
#include "browser.h"
#include "client.h"
#include "core/util.h"
#include "server/routes.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#define ALLOWED "http://127.0.0.1:5173"
#define OTHER   "http://127.0.0.1:5174"
#define EVIL    "https://evil.example"

static char old_url[256];

static void stack_up(void)
{
    char url[256];
    const char *cur = getenv("WSMS_URL");
    snprintf(old_url, sizeof(old_url), "%s", cur ? cur : "");
    if (tc_stack_start("cors",
                       "CORS_ALLOWED_ORIGINS=" ALLOWED ", http://localhost:3000\n"
                       "CORS_ALLOW_CREDENTIALS=true\nCORS_MAX_AGE_SECONDS=900\n",
                       2, url, sizeof(url)) != 0) {
        fprintf(stderr, "cors stack did not start\n");
        exit(1);
    }
    setenv("WSMS_URL", url, 1);
}

static void stack_down(void)
{
    tc_stack_stop("cors");
    setenv("WSMS_URL", old_url, 1);
}

static void expect_cors(struct tresp *r, const char *origin)
{
    const char *o = tc_header(r, "Access-Control-Allow-Origin");
    ck_assert_msg(o && strcmp(o, origin) == 0, "status %ld: Allow-Origin %s, want %s", r->status,
                  o ? o : "(none)", origin);
    const char *v = tc_header(r, "Vary");
    ck_assert_msg(v && strstr(v, "Origin"), "no Vary: Origin (status %ld)", r->status);
    const char *x = tc_header(r, "Access-Control-Expose-Headers");
    ck_assert_msg(x && strstr(x, "X-Total-Count") && strstr(x, "X-Request-Id"),
                  "Expose-Headers: %s", x ? x : "(none)");
}

static void expect_no_cors(struct tresp *r)
{
    ck_assert_msg(tc_header(r, "Access-Control-Allow-Origin") == NULL,
                  "status %ld: Allow-Origin sent to a disallowed origin", r->status);
    ck_assert_ptr_null(tc_header(r, "Access-Control-Expose-Headers"));
    ck_assert_ptr_null(tc_header(r, "Access-Control-Allow-Credentials"));
}

/* A route pattern with its {captures} replaced by a GUID. */
static void concrete(const char *pattern, char *out, size_t n)
{
    char g[GUID_LEN + 1];
    size_t o = 0;
    ck_assert_int_eq(guid_new(g), 0);
    for (const char *p = pattern; *p && o + GUID_LEN + 1 < n;) {
        if (*p == '{') {
            memcpy(out + o, g, GUID_LEN);
            o += GUID_LEN;
            p = strchr(p, '}');
            ck_assert_ptr_nonnull(p);
            p++;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

START_TEST(preflight_every_route)
{
    size_t n;
    const struct route *t = routes_table(&n);
    for (size_t i = 0; i < n; i++) {
        char path[256], acrm[64];
        struct tresp r;
        concrete(t[i].pattern, path, sizeof(path));
        snprintf(acrm, sizeof(acrm), "Access-Control-Request-Method: %s", t[i].method);
        const char *h[] = {"Origin: " ALLOWED, acrm,
                           "Access-Control-Request-Headers: authorization, x-pma-token, "
                           "content-type",
                           NULL};
        ck_assert_int_eq(tc_request(&r, "OPTIONS", path, NULL, h), 0);
        ck_assert_msg(r.status == 204, "OPTIONS %s: %ld %s", path, r.status, r.body);
        expect_cors(&r, ALLOWED);
        const char *m = tc_header(&r, "Access-Control-Allow-Methods");
        ck_assert_msg(m && strstr(m, t[i].method), "OPTIONS %s: methods %s lack %s", path,
                      m ? m : "(none)", t[i].method);
        const char *ah = tc_header(&r, "Access-Control-Allow-Headers");
        ck_assert_ptr_nonnull(ah);
        static const char *const need[] = {"Authorization", "X-PMA-Token", "Content-Type",
                                           "X-Request-Id"};
        for (size_t k = 0; k < 4; k++)
            ck_assert_msg(strstr(ah, need[k]), "Allow-Headers %s lacks %s", ah, need[k]);
        ck_assert_str_eq(tc_header(&r, "Access-Control-Max-Age"), "900");
        ck_assert_str_eq(tc_header(&r, "Access-Control-Allow-Credentials"), "true");
        /* answered without tokens and without the database */
        long st = tc_db_statements(&r);
        ck_assert_msg(st == 0, "OPTIONS %s ran %ld statements", path, st);
        tc_free(&r);
    }
    /* the second configured origin works too; a path nobody serves is 404 */
    const char *h2[] = {"Origin: http://localhost:3000", "Access-Control-Request-Method: GET",
                        NULL};
    struct tresp r;
    ck_assert_int_eq(tc_request(&r, "OPTIONS", "/workspaces", NULL, h2), 0);
    EXPECT(&r, 204, NULL);
    expect_cors(&r, "http://localhost:3000");
    ck_assert_ptr_nonnull(strstr(tc_header(&r, "Access-Control-Allow-Methods"), "POST"));
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "OPTIONS", "/no/such/route", NULL, h2), 0);
    EXPECT(&r, 404, "NOT_FOUND");
    tc_free(&r);
}
END_TEST

START_TEST(preflight_disallowed_origin_403)
{
    static const char *const origins[] = {EVIL, OTHER, "http://127.0.0.1:5173/",
                                          "HTTP://127.0.0.1:5173", "null"};
    for (size_t i = 0; i < sizeof(origins) / sizeof(*origins); i++) {
        char o[128];
        struct tresp r;
        snprintf(o, sizeof(o), "Origin: %s", origins[i]);
        const char *h[] = {o, "Access-Control-Request-Method: POST", NULL};
        ck_assert_int_eq(tc_request(&r, "OPTIONS", "/workspaces", NULL, h), 0);
        ck_assert_msg(r.status == 403, "%s: %ld", origins[i], r.status);
        ck_assert_str_eq(tc_error_code(&r), "PERMISSION_DENIED");
        expect_no_cors(&r);
        ck_assert_ptr_null(tc_header(&r, "Access-Control-Allow-Methods"));
        tc_free(&r);
    }
}
END_TEST

START_TEST(actual_answers_carry_headers)
{
    struct tc_user u;
    struct tresp r;
    const char *ok[] = {"Origin: " ALLOWED, NULL};
    const char *bad[] = {"Origin: " EVIL, NULL};
    tc_new_user(&u, "cors");
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, ok), 0);
    EXPECT(&r, 200, NULL);
    expect_cors(&r, ALLOWED);
    ck_assert_str_eq(tc_header(&r, "Access-Control-Allow-Credentials"), "true");
    tc_free(&r);
    /* wsmsd's errors: 401 without tokens, 404, 405 */
    ck_assert_int_eq(tc_request(&r, "GET", "/workspaces", NULL, ok), 0);
    EXPECT(&r, 401, NULL);
    expect_cors(&r, ALLOWED);
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "GET", "/nothing/here", NULL, ok), 0);
    EXPECT(&r, 404, "NOT_FOUND");
    expect_cors(&r, ALLOWED);
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "DELETE", "/health", NULL, ok), 0);
    EXPECT(&r, 405, "METHOD_NOT_ALLOWED");
    expect_cors(&r, ALLOWED);
    tc_free(&r);
    /* an authenticated list: X-Total-Count is exposed */
    ck_assert_int_eq(tc_as_hdr(&r, &u, "GET", "/workspaces", NULL, "Origin: " ALLOWED), 0);
    EXPECT(&r, 200, NULL);
    expect_cors(&r, ALLOWED);
    ck_assert_ptr_nonnull(tc_header(&r, "X-Total-Count"));
    tc_free(&r);
    /* nginx's own errors: its 404 and 413 carry the headers; a 414 is
     * answered before nginx reads any header, Origin included, so it
     * cannot (README) */
    char *path = malloc(40000);
    ck_assert_ptr_nonnull(path);
    snprintf(path, 40000, "/health?");
    for (size_t i = strlen(path); i < 39000; i += 4)
        memcpy(path + i, "a=1&", 4);
    path[39000] = '\0';
    ck_assert_int_eq(tc_request(&r, "GET", path, NULL, ok), 0);
    EXPECT(&r, 414, "INVALID_REQUEST");
    expect_no_cors(&r);
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "GET", path, NULL, bad), 0);
    EXPECT(&r, 414, "INVALID_REQUEST");
    expect_no_cors(&r);
    tc_free(&r);
    free(path);
    size_t big = 1048576 + 100;
    char *body = malloc(big + 1);
    ck_assert_ptr_nonnull(body);
    memset(body, ' ', big);
    body[0] = '{';
    body[big - 1] = '}';
    body[big] = '\0';
    const char *okj[] = {"Origin: " ALLOWED, "Content-Type: application/json", NULL};
    ck_assert_int_eq(tc_request(&r, "POST", "/auth/validate", body, okj), 0);
    EXPECT(&r, 413, "PAYLOAD_TOO_LARGE");
    expect_cors(&r, ALLOWED);
    tc_free(&r);
    const char *badj[] = {"Origin: " EVIL, "Content-Type: application/json", NULL};
    ck_assert_int_eq(tc_request(&r, "POST", "/auth/validate", body, badj), 0);
    EXPECT(&r, 413, "PAYLOAD_TOO_LARGE");
    expect_no_cors(&r);
    tc_free(&r);
    free(body);
    ck_assert_int_eq(tc_request(&r, "GET", "/__wsms_error/502", NULL, ok), 0);
    EXPECT(&r, 404, "NOT_FOUND");
    expect_cors(&r, ALLOWED);
    tc_free(&r);
    /* a disallowed origin: the answer, without any CORS header */
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, bad), 0);
    EXPECT(&r, 200, NULL);
    expect_no_cors(&r);
    ck_assert_ptr_nonnull(strstr(tc_header(&r, "Vary"), "Origin"));
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "GET", "/workspaces", NULL, bad), 0);
    EXPECT(&r, 401, NULL);
    expect_no_cors(&r);
    tc_free(&r);
    /* no Origin: no CORS headers */
    ck_assert_int_eq(tc_request(&r, "GET", "/health", NULL, NULL), 0);
    expect_no_cors(&r);
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

START_TEST(head_wherever_get)
{
    struct tc_user u;
    struct tresp r;
    char path[160], members[176];
    tc_new_user(&u, "head");
    ck_assert_int_eq(tc_request(&r, "HEAD", "/health", NULL, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(r.body, "");
    ck_assert_str_eq(tc_header(&r, "Content-Type"), "application/json");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces", "{\"name\":\"head\"}"), 0);
    EXPECT(&r, 201, NULL);
    snprintf(path, sizeof(path), "/workspaces/%s", tc_jstr(r.json, "id"));
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &u, "HEAD", "/workspaces", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(r.body, "");
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "1");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &u, "HEAD", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_ptr_nonnull(tc_header(&r, "ETag"));
    tc_free(&r);
    snprintf(members, sizeof(members), "%s/members", path);
    ck_assert_int_eq(tc_as(&r, &u, "HEAD", members, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "1");
    tc_free(&r);
    /* HEAD of a route without GET is 405; of no route 404; auth still applies */
    ck_assert_int_eq(tc_request(&r, "HEAD", "/db/init", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 405);
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "HEAD", "/no/such", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 404);
    tc_free(&r);
    ck_assert_int_eq(tc_request(&r, "HEAD", "/workspaces", NULL, NULL), 0);
    ck_assert_int_eq(r.status, 401);
    tc_free(&r);
    tc_user_free(&u);
}
END_TEST

START_TEST(star_with_credentials_refused)
{
    char path[512], cmd[1024];
    snprintf(path, sizeof(path), "%s/cors-bad.env", getenv("WSMS_TMP"));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "PMA_TOKEN_SECRET=0123456789abcdef0123456789abcdef\nAZURE_TENANT_ID=x\n"
               "AZURE_AUDIENCE=y\nCORS_ALLOWED_ORIGINS=*\nCORS_ALLOW_CREDENTIALS=true\n");
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "env -u CORS_ALLOWED_ORIGINS -u CORS_ALLOW_CREDENTIALS WSMS_ENV_FILE=%s %s "
             "check-config > %s/cors-bad.out 2>&1",
             path, getenv("WSMS_WSMSD"), getenv("WSMS_TMP"));
    int st = system(cmd);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    char grep[600];
    snprintf(grep, sizeof(grep), "grep -q CORS_ALLOWED_ORIGINS %s/cors-bad.out",
             getenv("WSMS_TMP"));
    ck_assert_int_eq(system(grep), 0);
    /* a path in an origin is refused too; a clean list passes */
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "PMA_TOKEN_SECRET=0123456789abcdef0123456789abcdef\nAZURE_TENANT_ID=x\n"
               "AZURE_AUDIENCE=y\nCORS_ALLOWED_ORIGINS=https://app.example.com/x\n");
    fclose(f);
    st = system(cmd);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "PMA_TOKEN_SECRET=0123456789abcdef0123456789abcdef\nAZURE_TENANT_ID=x\n"
               "AZURE_AUDIENCE=y\nCORS_ALLOWED_ORIGINS=https://app.example.com, "
               "http://127.0.0.1:5173\nCORS_ALLOW_CREDENTIALS=true\n");
    fclose(f);
    st = system(cmd);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

/* A page served from another loopback origin calls the API from a real
 * headless Chromium with both tokens: from the allowed origin the browser
 * lets the page read the answer and the exposed X-Total-Count; from a
 * disallowed one the same call fails in the browser. */
static void browser_call(const char *dir, int port, const struct tc_user *u, char *out,
                         size_t outlen)
{
    char path[600], url[128], why[512] = "";
    snprintf(path, sizeof(path), "%s/page.html", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "<!DOCTYPE html><html><body><pre id=\"out\">pending</pre><script>\n"
            "fetch('%s/workspaces?limit=5', {headers: {'Authorization': 'Bearer %s',\n"
            "  'X-PMA-Token': '%s'}})\n"
            ".then(async r => { document.getElementById('out').textContent = 'status=' +\n"
            "  r.status + ' total=' + r.headers.get('X-Total-Count') + ' body=' +\n"
            "  (await r.text()).slice(0, 40) + ' end'; })\n"
            ".catch(e => { document.getElementById('out').textContent = 'failed=' + e.name +\n"
            "  ' end'; });\n"
            "</script></body></html>\n",
            getenv("WSMS_URL"), u->azure, u->pma);
    fclose(f);
    pid_t srv = tb_server_start(dir, port);
    ck_assert_msg(srv > 0, "cannot serve the page on 127.0.0.1:%d (port in use?)", port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/page.html", port);
    char *dom = tb_dom(url, why, sizeof(why));
    tb_server_stop(srv);
    ck_assert_msg(dom != NULL, "%s", why);
    const char *o = strstr(dom, "<pre id=\"out\">");
    ck_assert_msg(o != NULL, "no output element in the DOM");
    o += strlen("<pre id=\"out\">");
    const char *e = strstr(o, "</pre>");
    size_t l = e ? (size_t)(e - o) : strlen(o);
    snprintf(out, outlen, "%.*s", (int)(l < outlen ? l : outlen - 1), o);
    free(dom);
}

START_TEST(browser_cross_origin)
{
    struct tc_user u;
    char dir[] = "/tmp/wsms-page.XXXXXX", out[512];
    tc_new_user(&u, "browser");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    chmod(dir, 0755);
    /* ALLOWED is http://127.0.0.1:5173, OTHER http://127.0.0.1:5174: fixed
     * ports, so the databases' passes (side by side) take turns here */
    int lk = open("/tmp/wsms-test-cors-ports.lock", O_RDWR | O_CREAT, 0666);
    ck_assert_int_ge(lk, 0);
    ck_assert_int_eq(flock(lk, LOCK_EX), 0);
    browser_call(dir, 5173, &u, out, sizeof(out));
    ck_assert_msg(strncmp(out, "status=200 total=0 body=", 24) == 0 && strstr(out, " end"),
                  "from the allowed origin: %s", out);
    browser_call(dir, 5174, &u, out, sizeof(out));
    close(lk); /* releases the lock */
    ck_assert_msg(strcmp(out, "failed=TypeError end") == 0, "from a disallowed origin: %s", out);
    char rm[128];
    snprintf(rm, sizeof(rm), "rm -rf %s", dir);
    ck_assert_int_eq(system(rm), 0);
    tc_user_free(&u);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cors");
    TCase *t = tcase_create("cors");
    tcase_set_timeout(t, 120);
    tcase_add_unchecked_fixture(t, stack_up, stack_down);
    tcase_add_test(t, preflight_every_route);
    tcase_add_test(t, preflight_disallowed_origin_403);
    tcase_add_test(t, actual_answers_carry_headers);
    tcase_add_test(t, head_wherever_get);
    tcase_add_test(t, star_with_credentials_refused);
    tcase_add_test(t, browser_cross_origin);
    suite_add_tcase(s, t);
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
