/* The four integration routes through nginx -> wsmsd -> the loopback fake of
 * Jira / Azure DevOps / ServiceNow / Graph (t/fake/upstream.py): paging and
 * the mapped fields, the credential forms that reach the provider, every
 * failure mapped to its status and error code (upstream 4xx/5xx, broken,
 * oversized and cut-off bodies, stalls and the whole-call budget, redirects
 * and next links to another host, not configured, connect failure), the
 * worker staying healthy after each, no credential in the worker logs, and
 * the integration counters of /metrics.
 *
 * Own stacks (the shared one has no integration settings):
 *   integ     all four providers on the fake, JIRA_EMAIL set (Basic), 2 workers
 *   integb    Jira without JIRA_EMAIL (Bearer); ADO URL without a PAT
 *   integdown all four providers on a closed loopback port
 * The fake's scenario is switched globally (POST /__scenario); tests run
 * one after the other, so nothing else changes it meanwhile. */
#include "client.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_S  2
#define JIRA_EMAIL "integ-bot@example.com"

/* ---- state made once by the unchecked fixture (parent process) ---- */

static char setup_err[512] = "not set up";
static char fake_dir[512], fake_url[256];
static char url_integ[256], url_bearer[256], url_down[256];
static char tok_jira[64], tok_ado[64], tok_snow[64], tok_graph[64], tok_jira_b[64];
static char *auth_jira, *auth_ado, *auth_snow, *auth_graph, *auth_jira_b; /* expected headers */
static struct tc_user user;
static bool started_integ, started_bearer, started_down, started_fake;

struct prov {
    const char *route;  /* WSMS route */
    const char *fake;   /* provider name in the fake's records */
    const char *metric; /* provider label in /metrics */
    int pages;          /* upstream requests of one full listing */
    int items;
};

static const struct prov provs[4] = {
    {"/integrations/jira/projects", "jira", "jira", 3, 6},
    {"/integrations/ado/projects", "ado", "ado", 3, 6},
    {"/integrations/snow/spaces", "snow", "snow", 1, 3},
    {"/integrations/sharepoint/sites", "graph", "sharepoint", 3, 6},
};

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "(absent)";
}

static void ready(void)
{
    ck_assert_msg(setup_err[0] == '\0', "setup failed: %s", setup_err);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    fflush(NULL);
    int st = system(cmd);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* ---- requests ---- */

/* As the test user against the stack at base. */
static void call(struct tresp *r, const char *base, const char *path)
{
    ck_assert_int_eq(setenv("WSMS_URL", base, 1), 0);
    ck_assert_msg(tc_as(r, &user, "GET", path, NULL) == 0, "no answer from %s%s", base, path);
}

static void plain(struct tresp *r, const char *base, const char *method, const char *path,
                  const char *body)
{
    ck_assert_int_eq(setenv("WSMS_URL", base, 1), 0);
    ck_assert_msg(tc_request(r, method, path, body, NULL) == 0, "no answer from %s%s", base, path);
}

static void fake_post(const char *path, const char *body)
{
    struct tresp r;
    plain(&r, fake_url, "POST", path, body);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
}

/* Clears the fake's records and sets its scenario. */
static void scenario(const char *s)
{
    fake_post("/__reset", NULL);
    if (strcmp(s, "ok") != 0)
        fake_post("/__scenario", s);
}

/* The fake's request records (caller deletes). */
static cJSON *records(void)
{
    struct tresp r;
    plain(&r, fake_url, "GET", "/__requests", NULL);
    EXPECT(&r, 200, NULL);
    ck_assert(cJSON_IsArray(r.json));
    cJSON *copy = cJSON_Duplicate(r.json, 1);
    tc_free(&r);
    ck_assert_ptr_nonnull(copy);
    return copy;
}

static int count_records(const cJSON *recs, const char *listener, const char *provider)
{
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, recs)
    {
        if (listener && strcmp(jstr(it, "listener"), listener) != 0)
            continue;
        if (provider && strcmp(jstr(it, "provider"), provider) != 0)
            continue;
        n++;
    }
    return n;
}

/* No request reached the other host (127.0.0.2) at all. */
static void other_host_untouched(void)
{
    cJSON *recs = records();
    int n = count_records(recs, "other", NULL);
    char *txt = n ? cJSON_PrintUnformatted(recs) : NULL;
    ck_assert_msg(n == 0, "the other host got %d request(s): %s", n, txt ? txt : "");
    free(txt);
    cJSON_Delete(recs);
}

/* ---- expected lists ---- */

static void expect_item(const struct prov *p, const cJSON *it, int n)
{
    char id[128], name[64], x[128];
    ck_assert(cJSON_IsObject(it));
    if (strcmp(p->fake, "jira") == 0) {
        snprintf(id, sizeof(id), "%d", 10000 + n);
        snprintf(name, sizeof(name), "Jira Project %d", n);
        snprintf(x, sizeof(x), "PRJ%d", n);
        ck_assert_str_eq(jstr(it, "key"), x);
        ck_assert_str_eq(jstr(it, "projectTypeKey"), "software");
    } else if (strcmp(p->fake, "ado") == 0) {
        snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", n);
        snprintf(name, sizeof(name), "ADO Project %d", n);
        snprintf(x, sizeof(x), "ADO description %d", n);
        ck_assert_str_eq(jstr(it, "description"), x);
        ck_assert_str_eq(jstr(it, "state"), "wellFormed");
    } else if (strcmp(p->fake, "snow") == 0) {
        snprintf(id, sizeof(id), "%032x", (unsigned)n);
        snprintf(name, sizeof(name), "SNOW Space %d", n);
        snprintf(x, sizeof(x), "SNOW description %d", n);
        ck_assert_str_eq(jstr(it, "description"), x);
    } else {
        snprintf(id, sizeof(id), "contoso.sharepoint.com,%08d-aaaa-bbbb-cccc-000000000000,site%d",
                 n, n);
        snprintf(name, sizeof(name), "Site %d", n);
        snprintf(x, sizeof(x), "https://contoso.sharepoint.com/sites/site%d", n);
        ck_assert_str_eq(jstr(it, "webUrl"), x);
        snprintf(x, sizeof(x), "Site description %d", n);
        ck_assert_str_eq(jstr(it, "description"), x);
    }
    ck_assert_str_eq(jstr(it, "id"), id);
    ck_assert_str_eq(jstr(it, "name"), name);
}

/* 200 {"projects": [items 1..n]} */
static void expect_list(const struct prov *p, const struct tresp *r, int n)
{
    ck_assert_msg(r->status == 200, "%s: want 200, got %ld: %s", p->route, r->status,
                  r->body ? r->body : "");
    ck_assert_ptr_nonnull(r->json);
    ck_assert_int_eq(cJSON_GetArraySize(r->json), 1);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(r->json, "projects");
    ck_assert_msg(cJSON_IsArray(arr), "%s: no projects array: %s", p->route, r->body);
    ck_assert_msg(cJSON_GetArraySize(arr) == n, "%s: want %d items, got %d: %s", p->route, n,
                  cJSON_GetArraySize(arr), r->body);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) expect_item(p, it, ++i);
    ck_assert_str_eq(tc_header((struct tresp *)r, "Content-Type"), "application/json");
}

static void expect_full_list(const struct prov *p, const char *base)
{
    struct tresp r;
    call(&r, base, p->route);
    expect_list(p, &r, p->items);
    tc_free(&r);
}

/* The same worker pool still answers: the good scenario gives the full
 * list (several times, so both workers are likely to be asked) and
 * /health is 200. */
static void still_healthy(const struct prov *p)
{
    scenario("ok");
    for (int i = 0; i < 3; i++)
        expect_full_list(p, url_integ);
    struct tresp r;
    plain(&r, url_integ, "GET", "/health", NULL);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
}

/* The body of an answer never carries a credential. */
static void no_secret_in(const struct tresp *r)
{
    const char *s[] = {tok_jira, tok_ado, tok_snow, tok_graph, tok_jira_b};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        ck_assert_msg(!r->body || !strstr(r->body, s[i]), "credential in the body: %s", r->body);
}

/* scenario -> status/code for all four providers, then healthy again. */
static void expect_failure_all(const char *scen, int status, const char *code)
{
    for (int i = 0; i < 4; i++) {
        const struct prov *p = &provs[i];
        struct tresp r;
        scenario(scen);
        call(&r, url_integ, p->route);
        ck_assert_msg(r.status == status && strcmp(tc_error_code(&r), code) == 0,
                      "%s scenario %s: want %d %s, got %ld: %s", p->route, scen, status, code,
                      r.status, r.body ? r.body : "");
        ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r.json, "message")));
        ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r.json, "projects"));
        no_secret_in(&r);
        tc_free(&r);
        still_healthy(p);
    }
}

/* ---- fixture ---- */

static char *basic_hdr(const char *user_part, const char *secret)
{
    char pair[256], *hdr = NULL;
    snprintf(pair, sizeof(pair), "%s:%s", user_part, secret);
    char *b64 = b64_encode((const unsigned char *)pair, strlen(pair));
    if (b64 && asprintf(&hdr, "Basic %s", b64) < 0)
        hdr = NULL;
    free(b64);
    return hdr;
}

static char *bearer_hdr(const char *secret)
{
    char *hdr = NULL;
    if (asprintf(&hdr, "Bearer %s", secret) < 0)
        return NULL;
    return hdr;
}

static int make_token(char *out, size_t n, const char *prefix)
{
    char g[GUID_LEN + 1];
    if (guid_new(g) != 0)
        return -1;
    snprintf(out, n, "%s-%s", prefix, g);
    return 0;
}

/* A loopback port nothing listens on (bound, then released). */
static int closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t al = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return -1;
    int port = -1;
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    close(s);
    return port;
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
    char env[4096], path[700];
    const char *tmp = getenv("WSMS_TMP");
    snprintf(setup_err, sizeof(setup_err), "setup did not finish");
    if (!tmp) {
        snprintf(setup_err, sizeof(setup_err), "WSMS_TMP is not set (run through t/run)");
        return;
    }
    snprintf(fake_dir, sizeof(fake_dir), "%s/fake-integ-%s", tmp, tc_db_type());
    snprintf(path, sizeof(path), "%s.url", fake_dir);
    /* stall outlives the 2 s budget by a margin; pages of "slowpages" fit
     * the budget one by one (0.8 s) but not three together */
    if (sh("FAKE_STALL_SECONDS=6 FAKE_PAGE_DELAY=0.8 sh t/lib/fake.sh start %s > %s", fake_dir,
           path) != 0 ||
        read_line(path, fake_url, sizeof(fake_url)) != 0) {
        snprintf(setup_err, sizeof(setup_err), "the fake did not start (log in %.400s)", fake_dir);
        return;
    }
    started_fake = true;
    if (make_token(tok_jira, sizeof(tok_jira), "jiratok") ||
        make_token(tok_ado, sizeof(tok_ado), "adopat") ||
        make_token(tok_snow, sizeof(tok_snow), "snowtok") ||
        make_token(tok_graph, sizeof(tok_graph), "graphtok") ||
        make_token(tok_jira_b, sizeof(tok_jira_b), "jirabearer")) {
        snprintf(setup_err, sizeof(setup_err), "guid_new failed");
        return;
    }
    auth_jira = basic_hdr(JIRA_EMAIL, tok_jira);
    auth_ado = basic_hdr("", tok_ado);
    auth_snow = bearer_hdr(tok_snow);
    auth_graph = bearer_hdr(tok_graph);
    auth_jira_b = bearer_hdr(tok_jira_b);
    if (!auth_jira || !auth_ado || !auth_snow || !auth_graph || !auth_jira_b) {
        snprintf(setup_err, sizeof(setup_err), "out of memory");
        return;
    }

    snprintf(env, sizeof(env),
             "LOG_LEVEL=DEBUG\n"
             "INTEGRATION_TIMEOUT_SECONDS=%d\n"
             "JIRA_BASE_URL=%s/jira\nJIRA_EMAIL=%s\nJIRA_API_TOKEN=%s\n"
             "ADO_ORG_URL=%s/org\nADO_PAT_TOKEN=%s\n"
             "SNOW_BASE_URL=%s/snow\nSNOW_API_TOKEN=%s\n"
             "GRAPH_BASE_URL=%s/graph\nSHAREPOINT_ACCESS_TOKEN=%s\n",
             TIMEOUT_S, fake_url, JIRA_EMAIL, tok_jira, fake_url, tok_ado, fake_url, tok_snow,
             fake_url, tok_graph);
    if (tc_stack_start("integ", env, 2, url_integ, sizeof(url_integ)) != 0) {
        snprintf(setup_err, sizeof(setup_err), "own stack integ did not start");
        return;
    }
    started_integ = true;

    snprintf(env, sizeof(env),
             "LOG_LEVEL=DEBUG\nINTEGRATION_TIMEOUT_SECONDS=%d\n"
             "JIRA_BASE_URL=%s/jira\nJIRA_API_TOKEN=%s\n"
             "ADO_ORG_URL=%s/org\n",
             TIMEOUT_S, fake_url, tok_jira_b, fake_url);
    if (tc_stack_start("integb", env, 1, url_bearer, sizeof(url_bearer)) != 0) {
        snprintf(setup_err, sizeof(setup_err), "own stack integb did not start");
        return;
    }
    started_bearer = true;

    int port = closed_port();
    if (port < 0) {
        snprintf(setup_err, sizeof(setup_err), "no free port");
        return;
    }
    snprintf(env, sizeof(env),
             "LOG_LEVEL=DEBUG\nINTEGRATION_TIMEOUT_SECONDS=%d\n"
             "JIRA_BASE_URL=http://127.0.0.1:%d/jira\nJIRA_EMAIL=%s\nJIRA_API_TOKEN=%s\n"
             "ADO_ORG_URL=http://127.0.0.1:%d/org\nADO_PAT_TOKEN=%s\n"
             "SNOW_BASE_URL=http://127.0.0.1:%d/snow\nSNOW_API_TOKEN=%s\n"
             "GRAPH_BASE_URL=http://127.0.0.1:%d/graph\nSHAREPOINT_ACCESS_TOKEN=%s\n",
             TIMEOUT_S, port, JIRA_EMAIL, tok_jira, port, tok_ado, port, tok_snow, port, tok_graph);
    if (tc_stack_start("integdown", env, 1, url_down, sizeof(url_down)) != 0) {
        snprintf(setup_err, sizeof(setup_err), "own stack integdown did not start");
        return;
    }
    started_down = true;

    /* the user signs in on the stack it is used with */
    if (setenv("WSMS_URL", url_integ, 1) != 0 || tc_user_new(&user, "integ") != 0) {
        snprintf(setup_err, sizeof(setup_err), "cannot make the test user");
        return;
    }
    setup_err[0] = '\0';
}

static void teardown(void)
{
    if (started_integ)
        tc_stack_stop("integ");
    if (started_bearer)
        tc_stack_stop("integb");
    if (started_down)
        tc_stack_stop("integdown");
    if (started_fake && sh("sh t/lib/fake.sh stop %s", fake_dir) != 0)
        fprintf(stderr, "stopping the fake failed\n");
    tc_user_free(&user);
    free(auth_jira);
    free(auth_ado);
    free(auth_snow);
    free(auth_graph);
    free(auth_jira_b);
}

/* ---- tests ---- */

/* Every page is fetched, the documented fields come through, and each
 * upstream request carried the provider's credential form. */
START_TEST(lists_all_pages_with_credentials)
{
    ready();
    const char *want[4] = {auth_jira, auth_ado, auth_snow, auth_graph};
    for (int i = 0; i < 4; i++) {
        const struct prov *p = &provs[i];
        scenario("ok");
        expect_full_list(p, url_integ);
        cJSON *recs = records();
        ck_assert_int_eq(cJSON_GetArraySize(recs), p->pages);
        ck_assert_int_eq(count_records(recs, "main", p->fake), p->pages);
        const cJSON *it;
        cJSON_ArrayForEach(it, recs)
        {
            ck_assert_str_eq(jstr(it, "method"), "GET");
            ck_assert_msg(strcmp(jstr(it, "authorization"), want[i]) == 0,
                          "%s: authorization %s, want %s", p->route, jstr(it, "authorization"),
                          want[i]);
        }
        cJSON_Delete(recs);
    }
}
END_TEST

START_TEST(jira_bearer_without_email)
{
    ready();
    const struct prov *p = &provs[0];
    scenario("ok");
    expect_full_list(p, url_bearer);
    cJSON *recs = records();
    ck_assert_int_eq(count_records(recs, "main", "jira"), 3);
    const cJSON *it;
    cJSON_ArrayForEach(it, recs) ck_assert_str_eq(jstr(it, "authorization"), auth_jira_b);
    cJSON_Delete(recs);
}
END_TEST

START_TEST(empty_lists)
{
    ready();
    for (int i = 0; i < 4; i++) {
        struct tresp r;
        scenario("empty");
        call(&r, url_integ, provs[i].route);
        expect_list(&provs[i], &r, 0);
        tc_free(&r);
    }
}
END_TEST

START_TEST(upstream_statuses_502)
{
    ready();
    static const char *const st[] = {"401", "403", "404", "429", "500"};
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
        expect_failure_all(st[i], 502, "EXTERNAL_SERVICE_ERROR");
}
END_TEST

START_TEST(unparsable_bodies_502)
{
    ready();
    static const char *const sc[] = {"malformed", "wrongshape", "noarray", "baditems"};
    for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++)
        expect_failure_all(sc[i], 502, "EXTERNAL_SERVICE_ERROR");
}
END_TEST

/* 9 MiB, announced by Content-Length and chunked without a length. */
START_TEST(oversized_bodies_502)
{
    ready();
    expect_failure_all("big", 502, "EXTERNAL_SERVICE_ERROR");
    expect_failure_all("bigchunked", 502, "EXTERNAL_SERVICE_ERROR");
}
END_TEST

START_TEST(cut_off_body_502)
{
    ready();
    expect_failure_all("cutoff", 502, "EXTERNAL_SERVICE_ERROR");
}
END_TEST

/* A stalled provider: 504 once the budget is spent, not later. */
START_TEST(stall_504_within_budget)
{
    ready();
    for (int i = 0; i < 4; i++) {
        const struct prov *p = &provs[i];
        struct tresp r;
        scenario("stall");
        double t0 = now_s();
        call(&r, url_integ, p->route);
        double took = now_s() - t0;
        EXPECT(&r, 504, "REQUEST_TIMEOUT");
        ck_assert_msg(took < TIMEOUT_S + 2.0, "%s: 504 after %.2f s", p->route, took);
        ck_assert_msg(took >= TIMEOUT_S - 0.3, "%s: 504 already after %.2f s", p->route, took);
        no_secret_in(&r);
        tc_free(&r);
        still_healthy(p);
    }
}
END_TEST

/* Pages of 0.8 s each: one fits the 2 s budget, three do not. The budget
 * covers the whole listing, not each request. */
START_TEST(budget_covers_all_pages)
{
    ready();
    for (int i = 0; i < 4; i++) {
        const struct prov *p = &provs[i];
        struct tresp r;
        scenario("slowpages");
        double t0 = now_s();
        call(&r, url_integ, p->route);
        double took = now_s() - t0;
        if (p->pages == 1) {
            expect_list(p, &r, p->items);
        } else {
            EXPECT(&r, 504, "REQUEST_TIMEOUT");
            ck_assert_msg(took < TIMEOUT_S + 2.0, "%s: 504 after %.2f s", p->route, took);
        }
        tc_free(&r);
        still_healthy(p);
    }
}
END_TEST

/* A 302 to another host is not followed: 502, and that host saw nothing. */
START_TEST(redirect_to_other_host_502)
{
    ready();
    for (int i = 0; i < 4; i++) {
        const struct prov *p = &provs[i];
        struct tresp r;
        scenario("redirect");
        call(&r, url_integ, p->route);
        EXPECT(&r, 502, "EXTERNAL_SERVICE_ERROR");
        tc_free(&r);
        other_host_untouched();
        still_healthy(p);
    }
}
END_TEST

/* Next links on another host: Graph stops after page 1 (the link is not
 * followed), Jira pages by startAt on the configured host and ignores
 * nextPage. Nothing reaches the other host with credentials. */
START_TEST(next_link_to_other_host)
{
    ready();
    struct tresp r;
    scenario("nextother");
    call(&r, url_integ, provs[3].route);
    expect_list(&provs[3], &r, 2);
    tc_free(&r);
    cJSON *recs = records();
    const cJSON *it;
    cJSON_ArrayForEach(it, recs)
    {
        if (strcmp(jstr(it, "listener"), "other") == 0)
            ck_assert_msg(!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "authorization")),
                          "credentials sent to the other host: %s", jstr(it, "authorization"));
    }
    ck_assert_int_eq(count_records(recs, "main", "graph"), 1);
    cJSON_Delete(recs);
    other_host_untouched();

    scenario("nextother");
    call(&r, url_integ, provs[0].route);
    expect_list(&provs[0], &r, 4);
    tc_free(&r);
    recs = records();
    ck_assert_int_eq(count_records(recs, "main", "jira"), 2);
    cJSON_Delete(recs);
    other_host_untouched();
    still_healthy(&provs[0]);
}
END_TEST

/* The shared stack has no integration settings. */
START_TEST(not_configured_503)
{
    ready();
    const char *shared = getenv("WSMS_URL_SHARED");
    ck_assert_ptr_nonnull(shared);
    for (int i = 0; i < 4; i++) {
        struct tresp r;
        call(&r, shared, provs[i].route);
        EXPECT(&r, 503, "INTEGRATION_NOT_CONFIGURED");
        tc_free(&r);
    }
    /* a base URL without its token is not configured either, nor is Graph
     * with only its default URL */
    scenario("ok");
    for (int i = 1; i < 4; i++) {
        struct tresp r;
        call(&r, url_bearer, provs[i].route);
        EXPECT(&r, 503, "INTEGRATION_NOT_CONFIGURED");
        tc_free(&r);
    }
    cJSON *recs = records();
    ck_assert_int_eq(cJSON_GetArraySize(recs), 0);
    cJSON_Delete(recs);
}
END_TEST

START_TEST(connect_failure_503)
{
    ready();
    for (int i = 0; i < 4; i++) {
        struct tresp r;
        double t0 = now_s();
        call(&r, url_down, provs[i].route);
        EXPECT(&r, 503, "NETWORK_ERROR");
        ck_assert_msg(now_s() - t0 < TIMEOUT_S + 2.0, "connect failure took too long");
        no_secret_in(&r);
        tc_free(&r);
        plain(&r, url_down, "GET", "/health", NULL);
        EXPECT(&r, 200, NULL);
        tc_free(&r);
    }
}
END_TEST

/* Without tokens the route is refused before any upstream call. */
START_TEST(unauthenticated_401)
{
    ready();
    scenario("ok");
    for (int i = 0; i < 4; i++) {
        struct tresp r;
        plain(&r, url_integ, "GET", provs[i].route, NULL);
        EXPECT(&r, 401, "MISSING_AZURE_TOKEN");
        tc_free(&r);
    }
    cJSON *recs = records();
    ck_assert_int_eq(cJSON_GetArraySize(recs), 0);
    cJSON_Delete(recs);
}
END_TEST

/* wsms_integration_calls_total{provider,outcome} of a stack. */
static long metric(const char *base, const char *provider, const char *outcome)
{
    struct tresp r;
    char line[160];
    plain(&r, base, "GET", "/metrics", NULL);
    EXPECT(&r, 200, NULL);
    snprintf(line, sizeof(line), "\nwsms_integration_calls_total{provider=\"%s\",outcome=\"%s\"} ",
             provider, outcome);
    const char *s = strstr(r.body, line);
    ck_assert_msg(s != NULL, "metric %s/%s missing", provider, outcome);
    long v = strtol(s + strlen(line), NULL, 10);
    tc_free(&r);
    return v;
}

START_TEST(metrics_count_outcomes)
{
    ready();
    static const char *const outs[] = {"ok", "not_configured", "network_error", "timeout",
                                       "upstream_error"};
    long before[4][5], after[4][5];
    for (int p = 0; p < 4; p++)
        for (int o = 0; o < 5; o++)
            before[p][o] = metric(url_integ, provs[p].metric, outs[o]);
    /* jira: 2 ok, 1 upstream error, 1 timeout; ado: 1 ok; sharepoint: 1
     * upstream error; snow: nothing */
    struct tresp r;
    scenario("ok");
    expect_full_list(&provs[0], url_integ);
    expect_full_list(&provs[0], url_integ);
    expect_full_list(&provs[1], url_integ);
    scenario("500");
    call(&r, url_integ, provs[0].route);
    EXPECT(&r, 502, "EXTERNAL_SERVICE_ERROR");
    tc_free(&r);
    call(&r, url_integ, provs[3].route);
    EXPECT(&r, 502, "EXTERNAL_SERVICE_ERROR");
    tc_free(&r);
    scenario("stall");
    call(&r, url_integ, provs[0].route);
    EXPECT(&r, 504, "REQUEST_TIMEOUT");
    tc_free(&r);
    scenario("ok");
    for (int p = 0; p < 4; p++)
        for (int o = 0; o < 5; o++)
            after[p][o] = metric(url_integ, provs[p].metric, outs[o]);
    static const long want[4][5] = {
        {2, 0, 0, 1, 1}, {1, 0, 0, 0, 0}, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 1}};
    for (int p = 0; p < 4; p++)
        for (int o = 0; o < 5; o++)
            ck_assert_msg(after[p][o] - before[p][o] == want[p][o],
                          "%s/%s went from %ld to %ld, want +%ld", provs[p].metric, outs[o],
                          before[p][o], after[p][o], want[p][o]);

    /* network errors and not configured on the other stacks */
    long ne = metric(url_down, "ado", "network_error");
    call(&r, url_down, provs[1].route);
    EXPECT(&r, 503, "NETWORK_ERROR");
    tc_free(&r);
    ck_assert_int_eq(metric(url_down, "ado", "network_error"), ne + 1);
    long nc = metric(url_bearer, "snow", "not_configured");
    call(&r, url_bearer, provs[2].route);
    EXPECT(&r, 503, "INTEGRATION_NOT_CONFIGURED");
    tc_free(&r);
    ck_assert_int_eq(metric(url_bearer, "snow", "not_configured"), nc + 1);
}
END_TEST

/* Runs last: every failure above has been logged by now. */
START_TEST(no_credentials_in_worker_logs)
{
    ready();
    const char *stacks[] = {"integ", "integb", "integdown"};
    const char *secrets[] = {
        tok_jira,   tok_ado,       tok_snow,    tok_graph,
        tok_jira_b, auth_jira + 6, auth_ado + 6}; /* base64 parts of the Basic forms */
    for (size_t s = 0; s < sizeof(stacks) / sizeof(stacks[0]); s++) {
        char dir[512];
        tc_stack_dir(stacks[s], dir, sizeof(dir));
        /* the log exists and has the failures in it */
        ck_assert_int_eq(sh("test -s %s/wsmsd.log", dir), 0);
        for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
            ck_assert_msg(sh("grep -qF -- '%s' %s/wsmsd.log", secrets[i], dir) == 1,
                          "credential %zu found in %s/wsmsd.log", i, dir);
    }
    char dir[512];
    tc_stack_dir("integ", dir, sizeof(dir));
    ck_assert_int_eq(sh("grep -q 'jira list failed: EXTERNAL_SERVICE_ERROR' %s/wsmsd.log", dir), 0);
}
END_TEST

/* ---- workspace integrations (/workspaces/{id}/integrations) ---- */

static void as_user(struct tresp *r, const struct tc_user *u, const char *method, const char *path,
                    const char *body)
{
    ck_assert_int_eq(setenv("WSMS_URL", url_integ, 1), 0);
    ck_assert_msg(tc_as(r, u, method, path, body) == 0, "no answer: %s %s", method, path);
}

/* A new workspace of `user` on the integ stack; its id into ws. */
static void new_ws(char ws[64])
{
    struct tresp r;
    as_user(&r, &user, "POST", "/workspaces",
            "{\"name\":\"links\",\"provider\":\"jira\",\"provider_project\":\"PRJ9\"}");
    EXPECT(&r, 201, NULL);
    snprintf(ws, 64, "%s", jstr(r.json, "id"));
    tc_free(&r);
}

static long audit_count(const char *ws, const char *action)
{
    struct tresp r;
    char path[256];
    snprintf(path, sizeof(path), "/workspaces/%s/audit?action=%s", ws, action);
    as_user(&r, &user, "GET", path, NULL);
    EXPECT(&r, 200, NULL);
    long n = strtol(tc_header(&r, "X-Total-Count"), NULL, 10);
    tc_free(&r);
    return n;
}

START_TEST(workspace_integrations_crud)
{
    ready();
    char ws[64], base[160], one[300], jira[64], ado[64];
    struct tresp r;
    new_ws(ws);
    snprintf(base, sizeof(base), "/workspaces/%s/integrations", ws);
    /* the link made at creation is listed */
    as_user(&r, &user, "GET", base, NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "1");
    ck_assert_str_eq(jstr(cJSON_GetArrayItem(r.json, 0), "external_id"), "PRJ9");
    tc_free(&r);
    as_user(&r, &user, "POST", base,
            "{\"provider\":\"jira\",\"display_name\":\" Jira one \",\"external_id\":\"PRJ1\","
            "\"url\":\"https://jira.example.com/browse/PRJ1\",\"extra_config\":{\"board\":7}}");
    EXPECT(&r, 201, NULL);
    snprintf(jira, sizeof(jira), "%s", jstr(r.json, "id"));
    ck_assert_str_eq(jstr(r.json, "provider"), "Jira");
    ck_assert_str_eq(jstr(r.json, "display_name"), "Jira one");
    ck_assert_str_eq(jstr(r.json, "connection_status"), "Pending");
    ck_assert_int_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "extra_config"), "board")->valueint, 7);
    tc_free(&r);
    /* one provider project once per workspace; the same key elsewhere is fine */
    as_user(&r, &user, "POST", base,
            "{\"provider\":\"Jira\",\"display_name\":\"again\",\"external_id\":\"PRJ1\"}");
    EXPECT(&r, 409, "CONFLICT");
    tc_free(&r);
    as_user(&r, &user, "POST", base,
            "{\"provider\":\"Jira\",\"display_name\":\"again\",\"external_id\":\"PRJ9\"}");
    EXPECT(&r, 409, "CONFLICT");
    tc_free(&r);
    as_user(&r, &user, "POST", base,
            "{\"provider\":\"ADO\",\"display_name\":\"ado\",\"external_id\":\"PRJ1\"}");
    EXPECT(&r, 201, NULL);
    snprintf(ado, sizeof(ado), "%s", jstr(r.json, "id"));
    tc_free(&r);
    static const char *const bad[] = {
        "{\"display_name\":\"x\",\"external_id\":\"y\"}",
        "{\"provider\":\"GitHub\",\"display_name\":\"x\",\"external_id\":\"y\"}",
        "{\"provider\":\"SP\",\"external_id\":\"y\"}",
        "{\"provider\":\"SP\",\"display_name\":\"x\"}",
        "{\"provider\":\"SP\",\"display_name\":\"\",\"external_id\":\"y\"}",
        "{\"provider\":\"SP\",\"display_name\":\"x\",\"external_id\":\"y\",\"url\":\"http://a.b\"}",
        "{\"provider\":\"SP\",\"display_name\":\"x\",\"external_id\":\"y\",\"url\":\"https://\"}",
        "{\"provider\":\"SP\",\"display_name\":\"x\",\"external_id\":\"y\",\"url\":\"https://a "
        "b\"}",
        "{\"provider\":\"SP\",\"display_name\":\"x\",\"external_id\":\"y\",\"extra_config\":[1]}",
        "{\"provider\":\"SP\",\"display_name\":\"x\\ny\",\"external_id\":\"y\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        as_user(&r, &user, "POST", base, bad[i]);
        ck_assert_msg(r.status == 422, "%s: %ld %s", bad[i], r.status, r.body);
        tc_free(&r);
    }
    /* list, one, and the workspace's external_links agree */
    as_user(&r, &user, "GET", base, NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "3");
    tc_free(&r);
    snprintf(one, sizeof(one), "%s/%s", base, jira);
    as_user(&r, &user, "GET", one, NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(jstr(r.json, "url"), "https://jira.example.com/browse/PRJ1");
    tc_free(&r);
    snprintf(one, sizeof(one), "/workspaces/%s", ws);
    as_user(&r, &user, "GET", one, NULL);
    EXPECT(&r, 200, NULL);
    cJSON *links = cJSON_GetObjectItem(r.json, "external_links");
    ck_assert_int_eq(cJSON_GetArraySize(links), 3);
    int seen = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, links) seen +=
        strcmp(jstr(l, "id"), jira) == 0 || strcmp(jstr(l, "id"), ado) == 0;
    ck_assert_int_eq(seen, 2);
    /* the same fields as the integration routes */
    cJSON_ArrayForEach(l, links) if (strcmp(jstr(l, "id"), jira) == 0)
    {
        ck_assert_str_eq(jstr(l, "external_id"), "PRJ1");
        ck_assert_str_eq(jstr(l, "display_name"), "Jira one");
        ck_assert_str_eq(jstr(l, "connection_status"), "Pending");
        ck_assert(cJSON_IsNull(cJSON_GetObjectItem(l, "last_checked_utc")));
    }
    tc_free(&r);
    /* PATCH */
    snprintf(one, sizeof(one), "%s/%s", base, jira);
    as_user(&r, &user, "PATCH", one, "{\"display_name\":\"Jira renamed\",\"url\":null}");
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(jstr(r.json, "display_name"), "Jira renamed");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "url")));
    ck_assert_str_eq(jstr(r.json, "external_id"), "PRJ1");
    tc_free(&r);
    as_user(&r, &user, "PATCH", one, "{\"external_id\":\"PRJ9\"}");
    EXPECT(&r, 409, "CONFLICT");
    tc_free(&r);
    as_user(&r, &user, "PATCH", one, "{\"provider\":\"ADO\"}");
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);
    as_user(&r, &user, "PATCH", one, "{}");
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);
    /* roles: VIEWER reads, MEMBER cannot change, ADMIN can */
    struct tc_user viewer, member, admin, stranger;
    ck_assert_int_eq(setenv("WSMS_URL", url_integ, 1), 0);
    tc_new_user(&viewer, "wsi-viewer");
    tc_new_user(&member, "wsi-member");
    tc_new_user(&admin, "wsi-admin");
    tc_new_user(&stranger, "wsi-stranger");
    static const char *const roles[] = {"VIEWER", "MEMBER", "ADMIN"};
    const struct tc_user *who[] = {&viewer, &member, &admin};
    char mpath[200], body[400];
    snprintf(mpath, sizeof(mpath), "/workspaces/%s/members", ws);
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"%s\"}", who[i]->email,
                 roles[i]);
        as_user(&r, &user, "POST", mpath, body);
        EXPECT(&r, 201, NULL);
        tc_free(&r);
    }
    as_user(&r, &viewer, "GET", one, NULL);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    as_user(&r, &viewer, "GET", base, NULL);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    as_user(&r, &stranger, "GET", base, NULL);
    EXPECT(&r, 403, "USER_NOT_AUTHORIZED");
    tc_free(&r);
    const struct tc_user *low[] = {&viewer, &member};
    for (int i = 0; i < 2; i++) {
        as_user(&r, low[i], "POST", base,
                "{\"provider\":\"SP\",\"display_name\":\"x\",\"external_id\":\"site\"}");
        EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
        tc_free(&r);
        as_user(&r, low[i], "PATCH", one, "{\"display_name\":\"no\"}");
        EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
        tc_free(&r);
        as_user(&r, low[i], "DELETE", one, NULL);
        EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
        tc_free(&r);
        snprintf(body, sizeof(body), "%s/test", one);
        as_user(&r, low[i], "POST", body, NULL);
        EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
        tc_free(&r);
    }
    as_user(&r, &admin, "PATCH", one, "{\"extra_config\":{\"board\":8}}");
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    /* DELETE, then 404 */
    snprintf(one, sizeof(one), "%s/%s", base, ado);
    as_user(&r, &admin, "DELETE", one, NULL);
    EXPECT(&r, 204, NULL);
    tc_free(&r);
    as_user(&r, &user, "GET", one, NULL);
    EXPECT(&r, 404, "RESOURCE_NOT_FOUND");
    tc_free(&r);
    as_user(&r, &user, "DELETE", one, NULL);
    EXPECT(&r, 404, "RESOURCE_NOT_FOUND");
    tc_free(&r);
    snprintf(one, sizeof(one), "%s/not-a-guid", base);
    as_user(&r, &user, "GET", one, NULL);
    EXPECT(&r, 404, "RESOURCE_NOT_FOUND");
    tc_free(&r);
    ck_assert_int_eq(audit_count(ws, "INTEGRATION_ADDED"), 2);
    ck_assert_int_eq(audit_count(ws, "INTEGRATION_UPDATED"), 2);
    ck_assert_int_eq(audit_count(ws, "INTEGRATION_REMOVED"), 1);
    tc_user_free(&viewer);
    tc_user_free(&member);
    tc_user_free(&admin);
    tc_user_free(&stranger);
}
END_TEST

/* The test call against the fake: ok, upstream 401 and 500, a stall. */
START_TEST(workspace_integration_test_call)
{
    ready();
    char ws[64], list[200], path[400], get[300];
    struct tresp r;
    new_ws(ws);
    snprintf(list, sizeof(list), "/workspaces/%s/integrations", ws);
    as_user(&r, &user, "POST", list,
            "{\"provider\":\"ADO\",\"display_name\":\"ado\",\"external_id\":\"ADO Project 1\"}");
    EXPECT(&r, 201, NULL);
    snprintf(get, sizeof(get), "%s/%.64s", list, jstr(r.json, "id"));
    tc_free(&r);
    snprintf(path, sizeof(path), "%s/test", get);
    static const struct {
        const char *scenario, *code, *status;
        long http;
    } cases[] = {{"ok", NULL, "Connected", 200},
                 {"401", "EXTERNAL_SERVICE_ERROR", "Failed", 502},
                 {"500", "EXTERNAL_SERVICE_ERROR", "Failed", 502},
                 {"stall", "REQUEST_TIMEOUT", "Failed", 504},
                 {"ok", NULL, "Connected", 200}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        scenario(cases[i].scenario);
        as_user(&r, &user, "POST", path, NULL);
        ck_assert_msg(r.status == cases[i].http, "%s: %ld %s", cases[i].scenario, r.status, r.body);
        if (cases[i].code)
            ck_assert_str_eq(tc_error_code(&r), cases[i].code);
        else
            ck_assert_str_eq(jstr(r.json, "connection_status"), "Connected");
        no_secret_in(&r);
        tc_free(&r);
        /* the outcome is recorded with its reason and time */
        as_user(&r, &user, "GET", get, NULL);
        EXPECT(&r, 200, NULL);
        ck_assert_str_eq(jstr(r.json, "connection_status"), cases[i].status);
        ck_assert(cJSON_IsString(cJSON_GetObjectItem(r.json, "last_checked_utc")));
        if (cases[i].code)
            ck_assert_msg(strstr(jstr(r.json, "status_reason"), cases[i].code), "reason %s",
                          jstr(r.json, "status_reason"));
        no_secret_in(&r);
        tc_free(&r);
    }
    scenario("ok");
    ck_assert_int_eq(audit_count(ws, "INTEGRATION_TESTED"), 5);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integrations_api");
    TCase *tc = tcase_create("integrations");
    tcase_set_timeout(tc, 180);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lists_all_pages_with_credentials);
    tcase_add_test(tc, jira_bearer_without_email);
    tcase_add_test(tc, empty_lists);
    tcase_add_test(tc, upstream_statuses_502);
    tcase_add_test(tc, unparsable_bodies_502);
    tcase_add_test(tc, oversized_bodies_502);
    tcase_add_test(tc, cut_off_body_502);
    tcase_add_test(tc, stall_504_within_budget);
    tcase_add_test(tc, budget_covers_all_pages);
    tcase_add_test(tc, redirect_to_other_host_502);
    tcase_add_test(tc, next_link_to_other_host);
    tcase_add_test(tc, not_configured_503);
    tcase_add_test(tc, connect_failure_503);
    tcase_add_test(tc, unauthenticated_401);
    tcase_add_test(tc, metrics_count_outcomes);
    tcase_add_test(tc, no_credentials_in_worker_logs);
    tcase_add_test(tc, workspace_integrations_crud);
    tcase_add_test(tc, workspace_integration_test_call);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* the shared stack's URL, kept before tests point WSMS_URL elsewhere */
    const char *shared = getenv("WSMS_URL");
    if (shared && setenv("WSMS_URL_SHARED", shared, 1) != 0)
        return 1;
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
