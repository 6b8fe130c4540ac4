/* Statements per request (X-DB-Statements, WSMS_TEST_HOOKS=true) for every
 * route of the route table that touches the database, on every database,
 * so a change cannot quietly add round trips: every read answers in one
 * statement, the caller's role included (auth/roles.h), and each write in
 * the count of its table row (README "Statements per route"). Begin and
 * commit count as one statement each on every database. A count is the
 * fewest of a few identical requests, so a worker's first connection and
 * the once-a-minute writes (last_seen_utc, an API key's last_used_at) do
 * not count. Also: a non-member, a missing workspace and a malformed query
 * on the one-statement reads get the answers of the other routes, and
 * `wsmsd migrate` copies integrations missing from the master copy
 * (master 007) back. */
#include "client.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIES 4

struct fixture {
    struct tc_user owner, viewer, stranger;
    char ws[64], integ[64], key[128], key_id[64], viewer_member[64];
    char agent[64], job[64], run[64], inv[64];
};

static struct fixture fx;

static void post_ok(const struct tc_user *u, const char *path, const char *body, char *id, size_t n)
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "POST", path, body), 0);
    ck_assert_msg(r.status == 201 || r.status == 200, "POST %s %s: %ld %s", path, body, r.status,
                  r.body);
    if (id)
        snprintf(id, n, "%s", tc_jstr(r.json, "id") ? tc_jstr(r.json, "id") : "");
    tc_free(&r);
}

static void setup_fixture(void)
{
    char path[200], body[300];
    tc_new_user(&fx.owner, "stmt-owner");
    tc_new_user(&fx.viewer, "stmt-viewer");
    tc_new_user(&fx.stranger, "stmt-stranger");
    post_ok(&fx.owner, "/workspaces",
            "{\"name\":\"stmts\",\"provider\":\"Jira\",\"provider_project\":\"ST\"}", fx.ws,
            sizeof(fx.ws));
    snprintf(path, sizeof(path), "/workspaces/%s/integrations", fx.ws);
    post_ok(&fx.owner, path,
            "{\"provider\":\"ADO\",\"display_name\":\"ado\",\"external_id\":\"stmt-ado\"}",
            fx.integ, sizeof(fx.integ));
    snprintf(path, sizeof(path), "/workspaces/%s/members", fx.ws);
    snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"VIEWER\"}", fx.viewer.email);
    post_ok(&fx.owner, path, body, fx.viewer_member, sizeof(fx.viewer_member));
    snprintf(path, sizeof(path), "/workspaces/%s/api-keys", fx.ws);
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, &fx.owner, "POST", path,
                           "{\"name\":\"stmt\",\"scopes\":[\"admin\"],\"expires_in_days\":5}"),
                     0);
    EXPECT(&r, 201, NULL);
    snprintf(fx.key, sizeof(fx.key), "%s", tc_jstr(r.json, "key"));
    snprintf(fx.key_id, sizeof(fx.key_id), "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
    /* automation: an agent, a job and a run of it; an invitation of the
     * stranger's email (pending) */
    snprintf(path, sizeof(path), "/workspaces/%s/agents", fx.ws);
    post_ok(&fx.owner, path, "{\"agent_type\":\"integration_snapshot\",\"name\":\"stmt\"}",
            fx.agent, sizeof(fx.agent));
    snprintf(path, sizeof(path), "/workspaces/%s/jobs", fx.ws);
    snprintf(body, sizeof(body), "{\"name\":\"stmt-job\",\"agent_id\":\"%s\"}", fx.agent);
    post_ok(&fx.owner, path, body, fx.job, sizeof(fx.job));
    snprintf(path, sizeof(path), "/workspaces/%s/jobs/%s/runs", fx.ws, fx.job);
    post_ok(&fx.owner, path, NULL, fx.run, sizeof(fx.run));
    snprintf(path, sizeof(path), "/workspaces/%s/invitations", fx.ws);
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"role\":\"MEMBER\"}", fx.stranger.email);
    post_ok(&fx.owner, path, body, fx.inv, sizeof(fx.inv));
}

/* A request to measure: method, path and body for attempt i (setup may
 * create what the attempt consumes), as whom (NULL: anonymous; key: the
 * API key). */
struct req {
    const char *method;
    char path[256];
    char body[512];
    const struct tc_user *as;
    bool key;
};

typedef void (*prep_fn)(struct req *q, int i);

static void p_health(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/health");
}

static void p_status(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/status");
}

static void p_metrics(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/metrics");
}

static void p_openapi(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/openapi.json");
}

static void p_db_init(struct req *q, int i)
{
    (void)i;
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/db/init");
}

static void p_db_status(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/db/status");
}

static void p_validate(struct req *q, int i)
{
    (void)i;
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/auth/validate");
    q->as = &fx.owner;
}

/* users whose sessions the revocation case revokes, one per attempt */
static struct tc_user revokers[TRIES];

static void p_revoke_me(struct req *q, int i)
{
    tc_new_user(&revokers[i], "stmt-revoke");
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/me/sessions/revoke");
    q->as = &revokers[i];
}

static void p_jira(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/integrations/jira/projects");
    q->as = &fx.owner;
}

static void p_ws_create(struct req *q, int i)
{
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces");
    snprintf(q->body, sizeof(q->body),
             "{\"name\":\"stmt-c%d\",\"provider\":\"SNOW\",\"provider_project\":\"S%d\"}", i, i);
    q->as = &fx.owner;
}

static void p_ws_list(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/workspaces?limit=200");
    q->as = &fx.owner;
}

static void p_ws_get(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s", fx.ws);
    q->as = &fx.owner;
}

static void p_ws_get_key(struct req *q, int i)
{
    p_ws_get(q, i);
    q->key = true;
}

static void p_ws_patch(struct req *q, int i)
{
    q->method = "PATCH";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s", fx.ws);
    snprintf(q->body, sizeof(q->body), "{\"description\":\"d%d\"}", i);
    q->as = &fx.owner;
}

/* a fresh workspace of the owner, archived when asked */
static void fresh_ws(char id[64], bool archived)
{
    char path[160];
    post_ok(&fx.owner, "/workspaces", "{\"name\":\"stmt-fresh\"}", id, 64);
    if (archived) {
        struct tresp r;
        snprintf(path, sizeof(path), "/workspaces/%s", id);
        ck_assert_int_eq(tc_as(&r, &fx.owner, "DELETE", path, NULL), 0);
        ck_assert_int_lt(r.status, 300);
        tc_free(&r);
    }
}

static void p_ws_delete(struct req *q, int i)
{
    char id[64];
    (void)i;
    fresh_ws(id, false);
    q->method = "DELETE";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s", id);
    q->as = &fx.owner;
}

static void p_ws_restore(struct req *q, int i)
{
    char id[64];
    (void)i;
    fresh_ws(id, true);
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/restore", id);
    q->as = &fx.owner;
}

static void p_members_list(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/members?q=stmt", fx.ws);
    q->as = &fx.viewer;
}

static void p_members_add(struct req *q, int i)
{
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/members", fx.ws);
    snprintf(q->body, sizeof(q->body), "{\"user_email\":\"stmt-add-%d-%s\",\"role\":\"MEMBER\"}", i,
             fx.owner.email);
    q->as = &fx.owner;
}

static void p_members_role(struct req *q, int i)
{
    q->method = "PATCH";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/members/%s/role", fx.ws, fx.viewer_member);
    snprintf(q->body, sizeof(q->body), "{\"role\":\"%s\"}", i % 2 ? "VIEWER" : "MEMBER");
    q->as = &fx.owner;
}

static void p_members_patch(struct req *q, int i)
{
    p_members_role(q, i);
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/members/%s", fx.ws, fx.viewer_member);
}

static void p_members_remove(struct req *q, int i)
{
    char body[300], id[64];
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/members", fx.ws);
    snprintf(body, sizeof(body), "{\"user_email\":\"stmt-rm-%d-%s\",\"role\":\"MEMBER\"}", i,
             fx.owner.email);
    post_ok(&fx.owner, q->path, body, id, sizeof(id));
    q->method = "DELETE";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/members/%s", fx.ws, id);
    q->as = &fx.owner;
}

static void p_audit(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/audit?limit=5", fx.ws);
    q->as = &fx.owner;
}

static void p_keys_create(struct req *q, int i)
{
    (void)i;
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/api-keys", fx.ws);
    snprintf(q->body, sizeof(q->body),
             "{\"name\":\"k\",\"scopes\":[\"read\"],\"expires_in_days\":3}");
    q->as = &fx.owner;
}

static void p_keys_list(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/api-keys", fx.ws);
    q->as = &fx.owner;
}

static void p_keys_list_key(struct req *q, int i)
{
    p_keys_list(q, i);
    q->key = true;
}

static void p_keys_revoke(struct req *q, int i)
{
    char id[64];
    p_keys_create(q, i);
    post_ok(&fx.owner, q->path, q->body, id, sizeof(id));
    q->body[0] = '\0';
    q->method = "DELETE";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/api-keys/%s", fx.ws, id);
}

static void p_wsi_list(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/integrations", fx.ws);
    q->as = &fx.viewer;
}

static void p_wsi_get(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/integrations/%s", fx.ws, fx.integ);
    q->as = &fx.viewer;
}

static void p_wsi_create(struct req *q, int i)
{
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/integrations", fx.ws);
    snprintf(q->body, sizeof(q->body),
             "{\"provider\":\"SP\",\"display_name\":\"sp\",\"external_id\":\"stmt-sp-%d\"}", i);
    q->as = &fx.owner;
}

static void p_wsi_patch(struct req *q, int i)
{
    q->method = "PATCH";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/integrations/%s", fx.ws, fx.integ);
    snprintf(q->body, sizeof(q->body), "{\"display_name\":\"ado %d\"}", i);
    q->as = &fx.owner;
}

static void p_wsi_delete(struct req *q, int i)
{
    char id[64];
    p_wsi_create(q, i + 100);
    post_ok(&fx.owner, q->path, q->body, id, sizeof(id));
    q->body[0] = '\0';
    q->method = "DELETE";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/integrations/%s", fx.ws, id);
}

static void p_wsi_test(struct req *q, int i)
{
    (void)i;
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/integrations/%s/test", fx.ws, fx.integ);
    q->as = &fx.owner;
}

static void p_agent_types(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/agent-types");
    q->as = &fx.viewer;
}

/* GET /workspaces/{ws}<rest> as the viewer */
static void ws_get(struct req *q, const char *rest)
{
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s%s", fx.ws, rest);
    q->as = &fx.viewer;
}

static void p_agents_list(struct req *q, int i)
{
    (void)i;
    ws_get(q, "/agents");
}

static void p_agents_get(struct req *q, int i)
{
    char rest[100];
    (void)i;
    snprintf(rest, sizeof(rest), "/agents/%s", fx.agent);
    ws_get(q, rest);
}

static void p_agents_create(struct req *q, int i)
{
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/agents", fx.ws);
    snprintf(q->body, sizeof(q->body),
             "{\"agent_type\":\"integration_snapshot\",\"name\":\"stmt-a%d\"}", i);
    q->as = &fx.owner;
}

static void p_agents_patch(struct req *q, int i)
{
    q->method = "PATCH";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/agents/%s", fx.ws, fx.agent);
    snprintf(q->body, sizeof(q->body), "{\"name\":\"stmt %d\"}", i);
    q->as = &fx.owner;
}

static void p_agents_delete(struct req *q, int i)
{
    char id[64];
    p_agents_create(q, i + 100);
    post_ok(&fx.owner, q->path, q->body, id, sizeof(id));
    q->body[0] = '\0';
    q->method = "DELETE";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/agents/%s", fx.ws, id);
}

static void p_jobs_list(struct req *q, int i)
{
    (void)i;
    ws_get(q, "/jobs");
}

static void p_jobs_get(struct req *q, int i)
{
    char rest[100];
    (void)i;
    snprintf(rest, sizeof(rest), "/jobs/%s", fx.job);
    ws_get(q, rest);
}

static void p_jobs_create(struct req *q, int i)
{
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/jobs", fx.ws);
    snprintf(q->body, sizeof(q->body), "{\"name\":\"stmt-j%d\",\"agent_id\":\"%s\"}", i, fx.agent);
    q->as = &fx.owner;
}

static void p_jobs_patch(struct req *q, int i)
{
    q->method = "PATCH";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/jobs/%s", fx.ws, fx.job);
    snprintf(q->body, sizeof(q->body), "{\"timeout_seconds\":%d}", 600 + i);
    q->as = &fx.owner;
}

static void p_jobs_delete(struct req *q, int i)
{
    char id[64];
    p_jobs_create(q, i + 100);
    post_ok(&fx.owner, q->path, q->body, id, sizeof(id));
    q->body[0] = '\0';
    q->method = "DELETE";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/jobs/%s", fx.ws, id);
}

/* run now: a fresh job each time (a job with a pending run refuses) */
static void p_runs_create(struct req *q, int i)
{
    char id[64];
    p_jobs_create(q, i + 200);
    post_ok(&fx.owner, q->path, q->body, id, sizeof(id));
    q->body[0] = '\0';
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/jobs/%s/runs", fx.ws, id);
}

static void p_runs_list(struct req *q, int i)
{
    (void)i;
    ws_get(q, "/runs");
}

static void p_runs_get(struct req *q, int i)
{
    char rest[100];
    (void)i;
    snprintf(rest, sizeof(rest), "/runs/%s", fx.run);
    ws_get(q, rest);
}

static void p_runs_cancel(struct req *q, int i)
{
    char id[64];
    p_runs_create(q, i + 100);
    post_ok(&fx.owner, q->path, NULL, id, sizeof(id));
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/runs/%s/cancel", fx.ws, id);
}

static void p_artifacts_list(struct req *q, int i)
{
    (void)i;
    ws_get(q, "/artifacts");
}

/* no artifact exists without an executor run: the 404, also one statement */
static void p_artifacts_get(struct req *q, int i)
{
    (void)i;
    ws_get(q, "/artifacts/00000000-0000-4000-8000-000000000000");
}

static void p_inv_create(struct req *q, int i)
{
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/invitations", fx.ws);
    snprintf(q->body, sizeof(q->body), "{\"email\":\"stmt-inv-%d-%s\",\"role\":\"VIEWER\"}", i,
             fx.owner.email);
    q->as = &fx.owner;
}

static void p_inv_list(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/invitations", fx.ws);
    q->as = &fx.owner;
}

static void p_inv_resend(struct req *q, int i)
{
    (void)i;
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/invitations/%s/resend", fx.ws, fx.inv);
    q->as = &fx.owner;
}

static void p_inv_revoke(struct req *q, int i)
{
    char id[64];
    p_inv_create(q, i + 100);
    post_ok(&fx.owner, q->path, q->body, id, sizeof(id));
    q->body[0] = '\0';
    q->method = "DELETE";
    snprintf(q->path, sizeof(q->path), "/workspaces/%s/invitations/%s", fx.ws, id);
}

static void p_inv_mine(struct req *q, int i)
{
    (void)i;
    q->method = "GET";
    snprintf(q->path, sizeof(q->path), "/me/invitations");
    q->as = &fx.stranger;
}

/* users invited (to a fresh workspace each) who accept or decline */
static struct tc_user invitees[2 * TRIES];

static void respond_prep(struct req *q, int i, const char *what)
{
    char ws[64], path[160], body[300], id[64];
    struct tc_user *u = &invitees[(what[0] == 'a' ? 0 : TRIES) + i];
    tc_new_user(u, "stmt-invitee");
    fresh_ws(ws, false);
    snprintf(path, sizeof(path), "/workspaces/%s/invitations", ws);
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"role\":\"MEMBER\"}", u->email);
    post_ok(&fx.owner, path, body, id, sizeof(id));
    q->method = "POST";
    snprintf(q->path, sizeof(q->path), "/invitations/%s/%s", id, what);
    q->as = u;
}

static void p_inv_accept(struct req *q, int i)
{
    respond_prep(q, i, "accept");
}

static void p_inv_decline(struct req *q, int i)
{
    respond_prep(q, i, "decline");
}

/* route (as in src/server/routes.c) -> statements of one request on
 * SQLite, PostgreSQL and SQL Server (they differ only where a workspace's
 * schema is created: one statement per batch of its migration files) */
static const struct {
    const char *route;
    prep_fn prep;
    long statements[3];
} cases[] = {
    {"GET /health", p_health, {0, 0, 0}},
    {"GET /status", p_status, {0, 0, 0}},
    /* the scheduler counters (pmassist_master.SchedulerCounter) */
    {"GET /metrics", p_metrics, {1, 1, 1}},
    {"GET /openapi.json", p_openapi, {0, 0, 0}},
    {"POST /db/init", p_db_init, {0, 0, 0}},
    {"GET /db/status", p_db_status, {5, 5, 5}},
    {"POST /auth/validate", p_validate, {3, 3, 3}},
    {"POST /me/sessions/revoke", p_revoke_me, {3, 3, 3}},
    {"GET /integrations/jira/projects", p_jira, {1, 1, 1}},
    {"POST /workspaces", p_ws_create, {9, 11, 11}},
    {"GET /workspaces", p_ws_list, {1, 1, 1}},
    {"GET /workspaces/{id}", p_ws_get, {1, 1, 1}},
    {"GET /workspaces/{id} (API key)", p_ws_get_key, {1, 1, 1}},
    {"PATCH /workspaces/{id}", p_ws_patch, {8, 8, 8}},
    {"DELETE /workspaces/{id}", p_ws_delete, {5, 5, 5}},
    {"POST /workspaces/{id}/restore", p_ws_restore, {8, 8, 8}},
    {"GET /workspaces/{id}/members", p_members_list, {1, 1, 1}},
    {"POST /workspaces/{id}/members", p_members_add, {7, 7, 7}},
    {"PATCH /workspaces/{id}/members/{member_id}", p_members_patch, {8, 8, 8}},
    {"PATCH /workspaces/{id}/members/{member_id}/role", p_members_role, {8, 8, 8}},
    {"DELETE /workspaces/{id}/members/{member_id}", p_members_remove, {8, 8, 8}},
    {"GET /workspaces/{id}/audit", p_audit, {1, 1, 1}},
    {"POST /workspaces/{id}/api-keys", p_keys_create, {5, 5, 5}},
    {"GET /workspaces/{id}/api-keys", p_keys_list, {1, 1, 1}},
    {"GET /workspaces/{id}/api-keys (API key)", p_keys_list_key, {1, 1, 1}},
    {"DELETE /workspaces/{id}/api-keys/{key_id}", p_keys_revoke, {5, 5, 5}},
    {"GET /workspaces/{id}/integrations", p_wsi_list, {1, 1, 1}},
    {"POST /workspaces/{id}/integrations", p_wsi_create, {8, 8, 8}},
    {"GET /workspaces/{id}/integrations/{integration_id}", p_wsi_get, {1, 1, 1}},
    {"PATCH /workspaces/{id}/integrations/{integration_id}", p_wsi_patch, {8, 8, 8}},
    {"DELETE /workspaces/{id}/integrations/{integration_id}", p_wsi_delete, {8, 8, 8}},
    {"POST /workspaces/{id}/integrations/{integration_id}/test", p_wsi_test, {8, 8, 8}},
    /* no database for the list; the revocation check of AUTH_USER is the one */
    {"GET /agent-types", p_agent_types, {1, 1, 1}},
    {"GET /workspaces/{id}/agents", p_agents_list, {1, 1, 1}},
    {"POST /workspaces/{id}/agents", p_agents_create, {6, 6, 6}},
    {"GET /workspaces/{id}/agents/{agent_id}", p_agents_get, {1, 1, 1}},
    {"PATCH /workspaces/{id}/agents/{agent_id}", p_agents_patch, {7, 7, 7}},
    {"DELETE /workspaces/{id}/agents/{agent_id}", p_agents_delete, {8, 8, 8}},
    {"GET /workspaces/{id}/jobs", p_jobs_list, {1, 1, 1}},
    {"POST /workspaces/{id}/jobs", p_jobs_create, {8, 8, 8}},
    {"GET /workspaces/{id}/jobs/{job_id}", p_jobs_get, {1, 1, 1}},
    {"PATCH /workspaces/{id}/jobs/{job_id}", p_jobs_patch, {7, 7, 7}},
    {"DELETE /workspaces/{id}/jobs/{job_id}", p_jobs_delete, {11, 11, 11}},
    {"POST /workspaces/{id}/jobs/{job_id}/runs", p_runs_create, {10, 10, 10}},
    {"GET /workspaces/{id}/runs", p_runs_list, {1, 1, 1}},
    {"GET /workspaces/{id}/runs/{run_id}", p_runs_get, {1, 1, 1}},
    {"POST /workspaces/{id}/runs/{run_id}/cancel", p_runs_cancel, {11, 11, 11}},
    {"GET /workspaces/{id}/artifacts", p_artifacts_list, {1, 1, 1}},
    {"GET /workspaces/{id}/artifacts/{artifact_id}", p_artifacts_get, {1, 1, 1}},
    {"POST /workspaces/{id}/invitations", p_inv_create, {8, 8, 8}},
    {"GET /workspaces/{id}/invitations", p_inv_list, {1, 1, 1}},
    {"POST /workspaces/{id}/invitations/{inv_id}/resend", p_inv_resend, {7, 7, 7}},
    {"DELETE /workspaces/{id}/invitations/{inv_id}", p_inv_revoke, {7, 7, 7}},
    {"GET /me/invitations", p_inv_mine, {1, 1, 1}},
    {"POST /invitations/{inv_id}/accept", p_inv_accept, {9, 9, 9}},
    {"POST /invitations/{inv_id}/decline", p_inv_decline, {7, 7, 7}},
};

static int db_index(void)
{
    return strcmp(tc_db_type(), "postgres") == 0    ? 1
           : strcmp(tc_db_type(), "sqlserver") == 0 ? 2
                                                    : 0;
}

static long send_req(const struct req *q, long *status)
{
    struct tresp r;
    char authz[200];
    if (q->key) {
        const char *h[3] = {authz, q->body[0] ? "Content-Type: application/json" : NULL, NULL};
        snprintf(authz, sizeof(authz), "Authorization: ApiKey %s", fx.key);
        ck_assert_int_eq(tc_request(&r, q->method, q->path, q->body[0] ? q->body : NULL, h), 0);
    } else if (q->as) {
        ck_assert_int_eq(tc_as(&r, q->as, q->method, q->path, q->body[0] ? q->body : NULL), 0);
    } else {
        ck_assert_int_eq(tc_request(&r, q->method, q->path, NULL, NULL), 0);
    }
    long n = tc_db_statements(&r);
    *status = r.status;
    ck_assert_msg(n >= 0, "%s %s: no X-DB-Statements header", q->method, q->path);
    tc_free(&r);
    return n;
}

START_TEST(statements_per_route)
{
    int bad = 0;
    setup_fixture();
    for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
        long best = -1, status = 0;
        for (int i = 0; i < TRIES; i++) {
            struct req q;
            memset(&q, 0, sizeof(q));
            cases[c].prep(&q, i);
            long n = send_req(&q, &status);
            ck_assert_msg(status < 500 || strstr(cases[c].route, "/integrations/jira") ||
                              strstr(cases[c].route, "/test"),
                          "%s: status %ld", cases[c].route, status);
            if (best < 0 || n < best)
                best = n;
        }
        fprintf(stderr, "statements: %-58s %ld (status %ld)\n", cases[c].route, best, status);
        long want = cases[c].statements[db_index()];
        if (best != want) {
            fprintf(stderr, "statements: %s: %ld, expected %ld\n", cases[c].route, best, want);
            bad++;
        }
    }
    for (int i = 0; i < TRIES; i++)
        tc_user_free(&revokers[i]);
    for (int i = 0; i < 2 * TRIES; i++)
        tc_user_free(&invitees[i]);
    tc_user_free(&fx.owner);
    tc_user_free(&fx.viewer);
    tc_user_free(&fx.stranger);
    ck_assert_msg(bad == 0, "%d route(s) changed their statement count (see above)", bad);
}
END_TEST

static void expect(const struct tc_user *u, const char *path, long st, const char *code)
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "GET", path, NULL), 0);
    EXPECT(&r, st, code);
    tc_free(&r);
}

/* The one-statement reads answer as the middleware does elsewhere. */
START_TEST(read_answers)
{
    static const char *const reads[] = {"",
                                        "/members",
                                        "/integrations",
                                        "/audit",
                                        "/api-keys",
                                        "/agents",
                                        "/jobs",
                                        "/runs",
                                        "/artifacts",
                                        "/invitations",
                                        "/agents/5f0c1b2e-1111-4222-8333-444455556666",
                                        "/jobs/5f0c1b2e-1111-4222-8333-444455556666",
                                        "/runs/5f0c1b2e-1111-4222-8333-444455556666",
                                        "/artifacts/5f0c1b2e-1111-4222-8333-444455556666"};
    char path[300];
    struct tresp r;
    setup_fixture();
    for (size_t i = 0; i < sizeof(reads) / sizeof(*reads); i++) {
        snprintf(path, sizeof(path), "/workspaces/%s%s", fx.ws, reads[i]);
        expect(&fx.stranger, path, 403, "USER_NOT_AUTHORIZED");
        snprintf(path, sizeof(path), "/workspaces/5f0c1b2e-1111-4222-8333-444455556666%s",
                 reads[i]);
        expect(&fx.owner, path, 404, "WORKSPACE_NOT_FOUND");
        expect(&fx.stranger, path, 404, "WORKSPACE_NOT_FOUND");
    }
    /* a bad parameter or id is answered after the role check */
    snprintf(path, sizeof(path), "/workspaces/%s/members?limit=abc", fx.ws);
    expect(&fx.stranger, path, 403, "USER_NOT_AUTHORIZED");
    expect(&fx.owner, path, 422, "VALIDATION_ERROR");
    snprintf(path, sizeof(path), "/workspaces/%s/integrations/not-an-id", fx.ws);
    expect(&fx.stranger, path, 403, "USER_NOT_AUTHORIZED");
    expect(&fx.owner, path, 404, NULL);
    snprintf(path, sizeof(path), "/workspaces/%s/integrations/%s", fx.ws, fx.integ);
    expect(&fx.stranger, path, 403, "USER_NOT_AUTHORIZED");
    snprintf(path, sizeof(path), "/workspaces/%s/runs?status=DONE", fx.ws);
    expect(&fx.stranger, path, 403, "USER_NOT_AUTHORIZED");
    expect(&fx.owner, path, 422, "VALIDATION_ERROR");
    snprintf(path, sizeof(path), "/workspaces/%s/jobs/not-an-id", fx.ws);
    expect(&fx.stranger, path, 403, "USER_NOT_AUTHORIZED");
    expect(&fx.owner, path, 404, NULL);
    snprintf(path, sizeof(path), "/workspaces/%s/agents/%s", fx.ws, fx.agent);
    expect(&fx.stranger, path, 403, "USER_NOT_AUTHORIZED");
    expect(&fx.viewer, path, 200, NULL);
    /* a list past its end reports the real total */
    snprintf(path, sizeof(path), "/workspaces/%s/jobs?offset=50", fx.ws);
    ck_assert_int_eq(tc_as(&r, &fx.viewer, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "1");
    tc_free(&r);
    /* below the route's role */
    snprintf(path, sizeof(path), "/workspaces/%s/audit", fx.ws);
    expect(&fx.viewer, path, 403, "INSUFFICIENT_PERMISSIONS");
    snprintf(path, sizeof(path), "/workspaces/%s/invitations", fx.ws);
    expect(&fx.viewer, path, 403, "INSUFFICIENT_PERMISSIONS");
    /* API keys: another workspace's, and a wrong one */
    char other[64], authz[200];
    post_ok(&fx.stranger, "/workspaces", "{\"name\":\"other\"}", other, sizeof(other));
    const char *h[2] = {authz, NULL};
    snprintf(authz, sizeof(authz), "Authorization: ApiKey %s", fx.key);
    snprintf(path, sizeof(path), "/workspaces/%s", other);
    ck_assert_int_eq(tc_request(&r, "GET", path, NULL, h), 0);
    EXPECT(&r, 401, "INVALID_API_KEY");
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/members", fx.ws);
    ck_assert_int_eq(tc_request(&r, "GET", path, NULL, h), 0);
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    snprintf(authz, sizeof(authz),
             "Authorization: ApiKey %.20sAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", fx.key);
    ck_assert_int_eq(tc_request(&r, "GET", path, NULL, h), 0);
    EXPECT(&r, 401, "INVALID_API_KEY");
    tc_free(&r);
    tc_user_free(&fx.owner);
    tc_user_free(&fx.viewer);
    tc_user_free(&fx.stranger);
}
END_TEST

/* One number from SQL on the shared stack's database, or -1. */
static long stack_count(const char *sql)
{
    char file[600], cmd[2048], line[128];
    const char *dir = getenv("WSMS_STACK_DIR");
    long v = -1;
    ck_assert_ptr_nonnull(dir);
    snprintf(file, sizeof(file), "%s.stmt.sql", dir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_gt(fprintf(f, "%s;\n", sql), 0);
    ck_assert_int_eq(fclose(f), 0);
    if (strcmp(tc_db_type(), "postgres") == 0)
        snprintf(cmd, sizeof(cmd),
                 "psql -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U postgres -d wsms "
                 "-f %s 2>&1",
                 getenv("WSMS_PG_PORT") ? getenv("WSMS_PG_PORT") : "5432", file);
    else if (strcmp(tc_db_type(), "sqlserver") == 0)
        snprintf(cmd, sizeof(cmd), "sh t/lib/tsql.sh query %s %s 2>&1",
                 getenv("WSMS_TSQL_DIR") ? getenv("WSMS_TSQL_DIR") : ".", file);
    else
        snprintf(cmd, sizeof(cmd), "sqlite3 -batch -bail %s/data/pmassist_master.db < %s 2>&1", dir,
                 file);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    while (fgets(line, sizeof(line), p)) {
        char *end;
        long n = strtol(line, &end, 10);
        if (end != line && v < 0)
            v = n;
    }
    pclose(p);
    return v;
}

static long links_of(const char *ws)
{
    char sql[300];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %sWorkspaceLink WHERE workspace_id = '%s'",
             strcmp(tc_db_type(), "sqlite") == 0 ? "" : "pmassist_master.", ws);
    return stack_count(sql);
}

/* Integrations that exist only in a workspace's own table (as before
 * master 007) are copied to the master copy by `wsmsd migrate`, once. */
START_TEST(migrate_backfills_links)
{
    char sql[300], cmd[1200], path[200];
    struct tresp r;
    setup_fixture();
    ck_assert_int_eq(links_of(fx.ws), 2);
    snprintf(sql, sizeof(sql), "DELETE FROM %sWorkspaceLink WHERE workspace_id = '%s'",
             strcmp(tc_db_type(), "sqlite") == 0 ? "" : "pmassist_master.", fx.ws);
    stack_count(sql);
    ck_assert_int_eq(links_of(fx.ws), 0);
    snprintf(cmd, sizeof(cmd), "WSMS_ENV_FILE=%s/wsms.env %s migrate > %s/stmt-migrate.log 2>&1",
             getenv("WSMS_STACK_DIR"), getenv("WSMS_WSMSD"), getenv("WSMS_STACK_DIR"));
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(links_of(fx.ws), 2);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(links_of(fx.ws), 2);
    snprintf(path, sizeof(path), "/workspaces/%s", fx.ws);
    ck_assert_int_eq(tc_as(&r, &fx.owner, "GET", path, NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "external_links")), 2);
    tc_free(&r);
    tc_user_free(&fx.owner);
    tc_user_free(&fx.viewer);
    tc_user_free(&fx.stranger);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("db_statements");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, statements_per_route);
    tcase_add_test(tc, read_answers);
    tcase_add_test(tc, migrate_backfills_links);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
