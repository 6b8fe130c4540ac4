/* Agents and jobs (issue 15) through nginx -> spawn-fcgi -> wsmsd: the
 * agent type registry, agent CRUD with per-type config validation (unknown
 * keys named, integration ids of the workspace only), the role matrix
 * (VIEWER+ reads, ADMIN+ changes), job CRUD with range checks, the cron
 * table through the API (next_runs from a clock set by the test hook:
 * month ends, the leap day, day-of-month OR day-of-week, steps, ranges,
 * names, macros, and bad expressions with their messages), dependency
 * cycles of length 1, 2 and 5 refused with the path, 409 on deleting an
 * agent or a job that others use, the JobSchedule row following each
 * change (next_fire_utc in the response, and the row read from the
 * database after a delete), the audit, paging and one statement per read
 * beyond the role check. */
#include "client.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void create_ws(const struct tc_user *u, char id[64])
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "POST", "/workspaces", "{\"name\":\"automation\"}"), 0);
    EXPECT(&r, 201, NULL);
    snprintf(id, 64, "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
}

static void add_member(const struct tc_user *o, const char *ws, const struct tc_user *m,
                       const char *role)
{
    char path[160], body[256];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"%s\"}", m->email, role);
    ck_assert_int_eq(tc_as(&r, o, "POST", path, body), 0);
    EXPECT(&r, 201, NULL);
    tc_free(&r);
}

/* A request as u on /workspaces/<ws><sub>; the response is the caller's. */
static void ws_req(struct tresp *r, const struct tc_user *u, const char *method, const char *ws,
                   const char *sub, const char *body)
{
    char path[400];
    snprintf(path, sizeof(path), "/workspaces/%s%s", ws, sub);
    ck_assert_int_eq(tc_as(r, u, method, path, body), 0);
}

/* As ws_req with X-Test-Clock-Offset moving the request clock to `at`. */
static void ws_req_at(struct tresp *r, const struct tc_user *u, const char *method, const char *ws,
                      const char *sub, const char *body, time_t at)
{
    char path[400], hdr[64];
    snprintf(path, sizeof(path), "/workspaces/%s%s", ws, sub);
    snprintf(hdr, sizeof(hdr), "X-Test-Clock-Offset: %lld", (long long)(at - time(NULL)));
    ck_assert_int_eq(tc_as_hdr(r, u, method, path, body, hdr), 0);
}

static void new_agent(const struct tc_user *u, const char *ws, const char *name, char id[64])
{
    char body[256];
    struct tresp r;
    snprintf(body, sizeof(body), "{\"agent_type\":\"integration_snapshot\",\"name\":\"%s\"}", name);
    ws_req(&r, u, "POST", ws, "/agents", body);
    EXPECT(&r, 201, NULL);
    snprintf(id, 64, "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
}

/* A job named name on agent (extra: more JSON members, "" for none). */
static void new_job(const struct tc_user *u, const char *ws, const char *agent, const char *name,
                    const char *extra, char id[64])
{
    char body[1024];
    struct tresp r;
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"agent_id\":\"%s\"%s%s}", name, agent,
             *extra ? "," : "", extra);
    ws_req(&r, u, "POST", ws, "/jobs", body);
    EXPECT(&r, 201, NULL);
    snprintf(id, 64, "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
}

/* A read route (r answered GET ws + sub as u): one statement, the role
 * check included (auth/roles.h). When r took more, the fewest of a few
 * more identical requests (a worker's first connection adds statements). */
static void one_statement(struct tresp *r, const struct tc_user *u, const char *ws, const char *sub)
{
    long n = tc_db_statements(r);
    for (int i = 0; i < 3 && n != 1; i++) {
        struct tresp again;
        ws_req(&again, u, "GET", ws, sub, NULL);
        long m = tc_db_statements(&again);
        tc_free(&again);
        if (m >= 0 && m < n)
            n = m;
    }
    ck_assert_msg(n == 1, "GET %s: %ld statements (1 expected, the role check included)", sub, n);
}

static bool message_has(const struct tresp *r, const char *text)
{
    const char *m = r->json ? tc_jstr(r->json, "message") : NULL;
    return m && strstr(m, text);
}

static int audit_count(const struct tc_user *o, const char *ws, const char *action)
{
    char sub[128];
    struct tresp r;
    snprintf(sub, sizeof(sub), "/audit?action=%s&limit=200", action);
    ws_req(&r, o, "GET", ws, sub, NULL);
    EXPECT(&r, 200, NULL);
    int n = cJSON_GetArraySize(r.json);
    tc_free(&r);
    return n;
}

/* One number from SQL run on the shared stack's database (sqlite3 on the
 * master file, psql on the run's cluster, tsql through t/lib/tsql.sh), as
 * test_faults does; -1 on failure. pmassist_master. is dropped for the
 * sqlite3 CLI, which opens the master file as main. */
static long db_number(const char *sql_in)
{
    char sql[1024], sqlf[600], cmd[2048], line[128];
    const char *dir = getenv("WSMS_STACK_DIR"), *db = tc_db_type();
    long v = -1;
    snprintf(sql, sizeof(sql), "%s", sql_in);
    if (strcmp(db, "sqlite") == 0)
        for (char *s; (s = strstr(sql, "pmassist_master."));)
            memmove(s, s + 16, strlen(s + 16) + 1);
    snprintf(sqlf, sizeof(sqlf), "%s/agents_jobs.query.sql", dir ? dir : "/tmp");
    FILE *f = fopen(sqlf, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%s;\n", sql) > 0;
    if (fclose(f) != 0 || !ok)
        return -1;
    if (strcmp(db, "postgres") == 0)
        snprintf(cmd, sizeof(cmd),
                 "psql -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U postgres -d wsms "
                 "-f %s 2>&1",
                 getenv("WSMS_PG_PORT") ? getenv("WSMS_PG_PORT") : "5432", sqlf);
    else if (strcmp(db, "sqlserver") == 0)
        snprintf(cmd, sizeof(cmd), "sh t/lib/tsql.sh query %s %s 2>&1",
                 getenv("WSMS_TSQL_DIR") ? getenv("WSMS_TSQL_DIR") : ".", sqlf);
    else
        snprintf(cmd, sizeof(cmd), "sqlite3 -batch -bail %s/data/pmassist_master.db < %s 2>&1", dir,
                 sqlf);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (fgets(line, sizeof(line), p)) {
        char *end;
        v = strtol(line, &end, 10);
        if (end == line || (*end && *end != '\n'))
            v = -1;
        if (v < 0)
            fprintf(stderr, "query failed: %s", line);
    }
    if (pclose(p) != 0)
        v = -1;
    return v;
}

static long schedule_rows(const char *job_id, const char *extra)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pmassist_master.JobSchedule WHERE job_id = '%s'%s", job_id,
             extra);
    return db_number(sql);
}

START_TEST(agent_types_and_agents)
{
    struct tc_user o;
    char ws[64], agent[64], sub[160], body[512];
    struct tresp r;
    tc_new_user(&o, "agents-owner");
    create_ws(&o, ws);

    ck_assert_int_eq(tc_as(&r, &o, "GET", "/agent-types", NULL), 0);
    EXPECT(&r, 200, NULL);
    ck_assert(cJSON_IsArray(r.json));
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "agent_type"), "integration_snapshot");
    ck_assert_str_eq(
        tc_jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 0), "config"), 0),
                "name"),
        "integration_ids");
    tc_free(&r);

    /* validation */
    static const char *const bad[] = {
        "{\"name\":\"x\"}",
        "{\"agent_type\":\"integration_snapshot\"}",
        "{\"agent_type\":\"nope\",\"name\":\"x\"}",
        "{\"agent_type\":\"integration_snapshot\",\"name\":\"\"}",
        "{\"agent_type\":\"integration_snapshot\",\"name\":\"x\",\"config\":[]}",
        "{\"agent_type\":\"integration_snapshot\",\"name\":\"x\",\"is_enabled\":\"yes\"}",
        "{\"agent_type\":\"integration_snapshot\",\"name\":\"x\",\"config\":{\"integration_ids\":"
        "\"all\"}}",
        "{\"agent_type\":\"integration_snapshot\",\"name\":\"x\",\"config\":{\"integration_ids\":"
        "[\"not-a-guid\"]}}",
        "{\"agent_type\":\"integration_snapshot\",\"name\":\"x\",\"config\":{\"integration_ids\":"
        "[\"00000000-0000-4000-8000-000000000001\"]}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ws_req(&r, &o, "POST", ws, "/agents", bad[i]);
        ck_assert_msg(r.status == 422, "%s: %ld %s", bad[i], r.status, r.body);
        tc_free(&r);
    }
    /* unknown config keys are named */
    ws_req(&r, &o, "POST", ws, "/agents",
           "{\"agent_type\":\"integration_snapshot\",\"name\":\"x\",\"config\":{\"foo\":1,"
           "\"integration_ids\":[],\"bar\":true}}");
    EXPECT(&r, 422, "VALIDATION_ERROR");
    ck_assert_msg(message_has(&r, "\"foo\"") && message_has(&r, "\"bar\"") &&
                      !message_has(&r, "integration_ids"),
                  "%s", r.body);
    tc_free(&r);

    /* an integration of the workspace may be named */
    ws_req(&r, &o, "POST", ws, "/integrations",
           "{\"provider\":\"Jira\",\"display_name\":\"Jira\",\"external_id\":\"SNAP\"}");
    EXPECT(&r, 201, NULL);
    char integ[64];
    snprintf(integ, sizeof(integ), "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
    snprintf(body, sizeof(body),
             "{\"agent_type\":\"integration_snapshot\",\"name\":\"snap\",\"config\":"
             "{\"integration_ids\":[\"%s\"]}}",
             integ);
    ws_req(&r, &o, "POST", ws, "/agents", body);
    EXPECT(&r, 201, NULL);
    snprintf(agent, sizeof(agent), "%s", tc_jstr(r.json, "id"));
    ck_assert_str_eq(tc_jstr(r.json, "name"), "snap");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "is_enabled")));
    ck_assert_str_eq(
        cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "config"), "integration_ids"), 0)
            ->valuestring,
        integ);
    tc_free(&r);

    /* read, list (one statement beyond the role check), change */
    snprintf(sub, sizeof(sub), "/agents/%s", agent);
    ws_req(&r, &o, "GET", ws, sub, NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "agent_type"), "integration_snapshot");
    one_statement(&r, &o, ws, sub);
    tc_free(&r);
    char second[64];
    new_agent(&o, ws, "second", second);
    ws_req(&r, &o, "GET", ws, "/agents?limit=1", NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "2");
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"), agent);
    one_statement(&r, &o, ws, "/agents?limit=1");
    tc_free(&r);
    ws_req(&r, &o, "GET", ws, "/agents?offset=5", NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "2");
    tc_free(&r);
    ws_req(&r, &o, "PATCH", ws, sub, "{\"config\":{\"nope\":1}}");
    EXPECT(&r, 422, "VALIDATION_ERROR");
    ck_assert_msg(message_has(&r, "\"nope\""), "%s", r.body);
    tc_free(&r);
    ws_req(&r, &o, "PATCH", ws, sub, "{\"agent_type\":\"integration_snapshot\"}");
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);
    ws_req(&r, &o, "PATCH", ws, sub, "{\"name\":\"renamed\",\"is_enabled\":false,\"config\":{}}");
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "name"), "renamed");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "is_enabled")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "config")), 0);
    ck_assert_ptr_nonnull(tc_jstr(r.json, "updated_utc"));
    tc_free(&r);
    ws_req(&r, &o, "GET", ws, sub, NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "name"), "renamed");
    tc_free(&r);

    /* delete */
    ws_req(&r, &o, "DELETE", ws, sub, NULL);
    EXPECT(&r, 204, NULL);
    tc_free(&r);
    ws_req(&r, &o, "GET", ws, sub, NULL);
    EXPECT(&r, 404, NULL);
    tc_free(&r);
    ws_req(&r, &o, "GET", ws, "/agents/not-a-guid", NULL);
    EXPECT(&r, 404, NULL);
    tc_free(&r);
    ck_assert_int_eq(audit_count(&o, ws, "AGENT_CREATED"), 2);
    ck_assert_int_eq(audit_count(&o, ws, "AGENT_UPDATED"), 1);
    ck_assert_int_eq(audit_count(&o, ws, "AGENT_DELETED"), 1);
    tc_user_free(&o);
}
END_TEST

START_TEST(role_matrix)
{
    struct tc_user o, ad, mem, view, out;
    char ws[64], agent[64], job[64], asub[160], jsub[160];
    struct tresp r;
    tc_new_user(&o, "auto-owner");
    tc_new_user(&ad, "auto-admin");
    tc_new_user(&mem, "auto-member");
    tc_new_user(&view, "auto-viewer");
    tc_new_user(&out, "auto-outsider");
    create_ws(&o, ws);
    add_member(&o, ws, &ad, "ADMIN");
    add_member(&o, ws, &mem, "MEMBER");
    add_member(&o, ws, &view, "VIEWER");
    new_agent(&ad, ws, "by admin", agent);
    new_job(&ad, ws, agent, "by admin", "", job);
    snprintf(asub, sizeof(asub), "/agents/%s", agent);
    snprintf(jsub, sizeof(jsub), "/jobs/%s", job);
    const struct tc_user *readers[] = {&o, &ad, &mem, &view};
    for (int i = 0; i < 4; i++) {
        const char *subs[] = {"/agents", asub, "/jobs", jsub};
        for (int k = 0; k < 4; k++) {
            ws_req(&r, readers[i], "GET", ws, subs[k], NULL);
            EXPECT(&r, 200, NULL);
            tc_free(&r);
        }
    }
    const struct tc_user *weak[] = {&mem, &view};
    for (int i = 0; i < 2; i++) {
        ws_req(&r, weak[i], "POST", ws, "/agents",
               "{\"agent_type\":\"integration_snapshot\",\"name\":\"x\"}");
        EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
        tc_free(&r);
        ws_req(&r, weak[i], "PATCH", ws, asub, "{\"name\":\"x\"}");
        EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
        tc_free(&r);
        ws_req(&r, weak[i], "DELETE", ws, asub, NULL);
        EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
        tc_free(&r);
        ws_req(&r, weak[i], "POST", ws, "/jobs", "{\"name\":\"x\"}");
        EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
        tc_free(&r);
        ws_req(&r, weak[i], "PATCH", ws, jsub, "{\"name\":\"x\"}");
        EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
        tc_free(&r);
        ws_req(&r, weak[i], "DELETE", ws, jsub, NULL);
        EXPECT(&r, 403, "INSUFFICIENT_PERMISSIONS");
        tc_free(&r);
    }
    ws_req(&r, &out, "GET", ws, "/jobs", NULL);
    EXPECT(&r, 403, NULL);
    tc_free(&r);
    ws_req(&r, &out, "GET", ws, asub, NULL);
    EXPECT(&r, 403, NULL);
    tc_free(&r);
    ws_req(&r, &o, "PATCH", ws, jsub, "{\"name\":\"by owner\"}");
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    ws_req(&r, &ad, "DELETE", ws, jsub, NULL);
    EXPECT(&r, 204, NULL);
    tc_free(&r);
    ws_req(&r, &ad, "DELETE", ws, asub, NULL);
    EXPECT(&r, 204, NULL);
    tc_free(&r);
    /* no auth at all */
    ck_assert_int_eq(tc_request(&r, "GET", "/agent-types", NULL, NULL), 0);
    EXPECT(&r, 401, NULL);
    tc_free(&r);
    tc_user_free(&o);
    tc_user_free(&ad);
    tc_user_free(&mem);
    tc_user_free(&view);
    tc_user_free(&out);
}
END_TEST

START_TEST(jobs_crud_and_validation)
{
    struct tc_user o;
    char ws[64], agent[64], other_ws[64], other_agent[64], job[64], sub[160], body[512];
    struct tresp r;
    tc_new_user(&o, "jobs-owner");
    create_ws(&o, ws);
    create_ws(&o, other_ws);
    new_agent(&o, ws, "a", agent);
    new_agent(&o, other_ws, "a", other_agent);

    const char *bad[] = {
        "{\"agent_id\":\"@A\"}",
        "{\"name\":\"x\"}",
        "{\"name\":\"x\",\"agent_id\":\"nope\"}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"timeout_seconds\":0}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"timeout_seconds\":86401}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"timeout_seconds\":1.5}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"max_retries\":-1}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"max_retries\":11}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"is_active\":1}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"depends_on\":\"a\"}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"depends_on\":[\"nope\"]}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"depends_on\":[\"00000000-0000-4000-8000-"
        "000000000001\"]}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"schedule_cron\":5}",
        "{\"name\":\"x\",\"agent_id\":\"@A\",\"colour\":\"red\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *at = strstr(bad[i], "@A");
        if (at)
            snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - bad[i]), bad[i], agent, at + 2);
        else
            snprintf(body, sizeof(body), "%s", bad[i]);
        ws_req(&r, &o, "POST", ws, "/jobs", body);
        ck_assert_msg(r.status == 422, "%s: %ld %s", body, r.status, r.body);
        tc_free(&r);
    }
    /* an agent of another workspace */
    snprintf(body, sizeof(body), "{\"name\":\"x\",\"agent_id\":\"%s\"}", other_agent);
    ws_req(&r, &o, "POST", ws, "/jobs", body);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    ck_assert_msg(message_has(&r, "agent_id"), "%s", r.body);
    tc_free(&r);

    /* defaults */
    snprintf(body, sizeof(body), "{\"name\":\"manual\",\"agent_id\":\"%s\"}", agent);
    ws_req(&r, &o, "POST", ws, "/jobs", body);
    EXPECT(&r, 201, NULL);
    snprintf(job, sizeof(job), "%s", tc_jstr(r.json, "id"));
    ck_assert_str_eq(tc_jstr(r.json, "agent_id"), agent);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "schedule_cron")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "is_active")));
    ck_assert_int_eq(cJSON_GetObjectItem(r.json, "timeout_seconds")->valueint, 3600);
    ck_assert_int_eq(cJSON_GetObjectItem(r.json, "max_retries")->valueint, 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "next_runs")), 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "depends_on")), 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "next_fire_utc")));
    tc_free(&r);
    /* the name is unique in the workspace */
    ws_req(&r, &o, "POST", ws, "/jobs", body);
    EXPECT(&r, 409, "CONFLICT");
    tc_free(&r);

    /* schedule and dependencies: not both */
    char sched[64];
    new_job(&o, ws, agent, "scheduled", "\"schedule_cron\":\"0 * * * *\"", sched);
    snprintf(body, sizeof(body),
             "{\"name\":\"both\",\"agent_id\":\"%s\",\"schedule_cron\":\"@daily\","
             "\"depends_on\":[\"%s\"]}",
             agent, job);
    ws_req(&r, &o, "POST", ws, "/jobs", body);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    ck_assert_msg(message_has(&r, "not both"), "%s", r.body);
    tc_free(&r);
    snprintf(body, sizeof(body), "{\"depends_on\":[\"%s\"]}", job);
    snprintf(sub, sizeof(sub), "/jobs/%s", sched);
    ws_req(&r, &o, "PATCH", ws, sub, body);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    ck_assert_msg(message_has(&r, "not both"), "%s", r.body);
    tc_free(&r);
    /* ... but moving from one to the other in one change is fine */
    snprintf(body, sizeof(body), "{\"schedule_cron\":null,\"depends_on\":[\"%s\"]}", job);
    ws_req(&r, &o, "PATCH", ws, sub, body);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "depends_on"), 0)->valuestring,
                     job);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "next_runs")), 0);
    tc_free(&r);

    /* changes */
    snprintf(sub, sizeof(sub), "/jobs/%s", job);
    ws_req(&r, &o, "PATCH", ws, sub, "{}");
    EXPECT(&r, 422, "VALIDATION_ERROR");
    tc_free(&r);
    ws_req(&r, &o, "PATCH", ws, sub, "{\"timeout_seconds\":60,\"max_retries\":3,\"name\":\"m2\"}");
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetObjectItem(r.json, "timeout_seconds")->valueint, 60);
    ck_assert_int_eq(cJSON_GetObjectItem(r.json, "max_retries")->valueint, 3);
    ck_assert_str_eq(tc_jstr(r.json, "name"), "m2");
    tc_free(&r);
    ws_req(&r, &o, "PATCH", ws, sub, "{\"agent_id\":null}");
    EXPECT(&r, 422, "VALIDATION_ERROR"); /* an active job needs an agent */
    tc_free(&r);
    ws_req(&r, &o, "GET", ws, sub, NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "name"), "m2");
    one_statement(&r, &o, ws, sub);
    tc_free(&r);

    /* list and paging */
    ws_req(&r, &o, "GET", ws, "/jobs?limit=1&offset=1", NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "2");
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"), sched);
    ck_assert_int_eq(
        cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(r.json, 0), "depends_on")), 1);
    one_statement(&r, &o, ws, "/jobs?limit=1&offset=1");
    tc_free(&r);
    ws_req(&r, &o, "GET", ws, "/jobs?limit=0", NULL);
    EXPECT(&r, 422, NULL);
    tc_free(&r);

    /* a job others depend on is not deleted; the message names them */
    ws_req(&r, &o, "DELETE", ws, sub, NULL);
    EXPECT(&r, 409, "CONFLICT");
    ck_assert_msg(message_has(&r, "\"scheduled\""), "%s", r.body);
    tc_free(&r);
    /* nor one with a run pending (no scheduler runs here: it stays so) */
    snprintf(sub, sizeof(sub), "/jobs/%s/runs", sched);
    ws_req(&r, &o, "POST", ws, sub, "{}");
    EXPECT(&r, 201, NULL);
    char run_cancel[200];
    snprintf(run_cancel, sizeof(run_cancel), "/runs/%s/cancel", tc_jstr(r.json, "id"));
    tc_free(&r);
    snprintf(sub, sizeof(sub), "/jobs/%s", sched);
    ws_req(&r, &o, "DELETE", ws, sub, NULL);
    EXPECT(&r, 409, "CONFLICT");
    ck_assert_msg(message_has(&r, "pending or running"), "%s", r.body);
    tc_free(&r);
    ws_req(&r, &o, "POST", ws, run_cancel, "{}");
    EXPECT(&r, 200, NULL);
    tc_free(&r);
    ws_req(&r, &o, "DELETE", ws, sub, NULL);
    EXPECT(&r, 204, NULL);
    tc_free(&r);
    snprintf(sub, sizeof(sub), "/jobs/%s", job);
    ws_req(&r, &o, "DELETE", ws, sub, NULL);
    EXPECT(&r, 204, NULL);
    tc_free(&r);
    ws_req(&r, &o, "GET", ws, sub, NULL);
    EXPECT(&r, 404, NULL);
    tc_free(&r);
    ck_assert_int_eq(audit_count(&o, ws, "JOB_CREATED"), 2);
    ck_assert_int_eq(audit_count(&o, ws, "JOB_UPDATED"), 2);
    ck_assert_int_eq(audit_count(&o, ws, "JOB_DELETED"), 2);
    tc_user_free(&o);
}
END_TEST

/* 2026-12-15T12:00:30Z, a Tuesday */
#define CLOCK ((time_t)1797336030)

START_TEST(cron_through_the_api)
{
    static const struct {
        const char *expr, *runs[5];
    } table[] = {
        {"0 0 31 * *",
         {"2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z", "2027-03-31T00:00:00Z",
          "2027-05-31T00:00:00Z", "2027-07-31T00:00:00Z"}},
        {"0 0 29 2 *",
         {"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z",
          "2040-02-29T00:00:00Z", "2044-02-29T00:00:00Z"}},
        {"0 0 13 * 5",
         {"2026-12-18T00:00:00Z", "2026-12-25T00:00:00Z", "2027-01-01T00:00:00Z",
          "2027-01-08T00:00:00Z", "2027-01-13T00:00:00Z"}},
        {"*/15 9-17 * * mon-fri",
         {"2026-12-15T12:15:00Z", "2026-12-15T12:30:00Z", "2026-12-15T12:45:00Z",
          "2026-12-15T13:00:00Z", "2026-12-15T13:15:00Z"}},
        {"10-40/15 23 * dec,JAN sun",
         {"2026-12-20T23:10:00Z", "2026-12-20T23:25:00Z", "2026-12-20T23:40:00Z",
          "2026-12-27T23:10:00Z", "2026-12-27T23:25:00Z"}},
        {"0 12 1 jan,jul *",
         {"2027-01-01T12:00:00Z", "2027-07-01T12:00:00Z", "2028-01-01T12:00:00Z",
          "2028-07-01T12:00:00Z", "2029-01-01T12:00:00Z"}},
        {"30 2 * * 7",
         {"2026-12-20T02:30:00Z", "2026-12-27T02:30:00Z", "2027-01-03T02:30:00Z",
          "2027-01-10T02:30:00Z", "2027-01-17T02:30:00Z"}},
        {"@hourly",
         {"2026-12-15T13:00:00Z", "2026-12-15T14:00:00Z", "2026-12-15T15:00:00Z",
          "2026-12-15T16:00:00Z", "2026-12-15T17:00:00Z"}},
        {"@daily",
         {"2026-12-16T00:00:00Z", "2026-12-17T00:00:00Z", "2026-12-18T00:00:00Z",
          "2026-12-19T00:00:00Z", "2026-12-20T00:00:00Z"}},
        {"@weekly",
         {"2026-12-20T00:00:00Z", "2026-12-27T00:00:00Z", "2027-01-03T00:00:00Z",
          "2027-01-10T00:00:00Z", "2027-01-17T00:00:00Z"}},
        {"@monthly",
         {"2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z",
          "2027-04-01T00:00:00Z", "2027-05-01T00:00:00Z"}},
    };
    static const struct {
        const char *expr, *msg[2];
    } bad[] = {
        {"60 * * * *", {"minute", "60"}},
        {"* 24 * * *", {"hour field \\\"24\\\"", "0-23"}},
        {"* * 0 * *", {"day-of-month", "0"}},
        {"* * * 13 *", {"month", "13"}},
        {"* * * * 8", {"day-of-week", "8"}},
        {"* * * foo *", {"month", "foo"}},
        {"*/0 * * * *", {"minute", "*/0"}},
        {"5-1 * * * *", {"minute", "5-1"}},
        {"* * * *", {"schedule_cron", "5"}},
        {"@often", {"schedule_cron", "@often"}},
        {"0 0 30 2 *", {"schedule_cron", "never"}},
    };
    struct tc_user o;
    char ws[64], agent[64], body[512];
    struct tresp r;
    tc_new_user(&o, "cron-owner");
    create_ws(&o, ws);
    new_agent(&o, ws, "a", agent);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"name\":\"cron %zu\",\"agent_id\":\"%s\","
                 "\"schedule_cron\":\"%s\"}",
                 i, agent, table[i].expr);
        ws_req_at(&r, &o, "POST", ws, "/jobs", body, CLOCK);
        EXPECT(&r, 201, NULL);
        const cJSON *runs = cJSON_GetObjectItem(r.json, "next_runs");
        ck_assert_msg(cJSON_GetArraySize(runs) == 5, "%s: %s", table[i].expr, r.body);
        for (int k = 0; k < 5; k++)
            ck_assert_msg(strcmp(cJSON_GetArrayItem(runs, k)->valuestring, table[i].runs[k]) == 0,
                          "%s run %d: %s, want %s", table[i].expr, k,
                          cJSON_GetArrayItem(runs, k)->valuestring, table[i].runs[k]);
        ck_assert_str_eq(tc_jstr(r.json, "next_fire_utc"), table[i].runs[0]);
        ck_assert_str_eq(tc_jstr(r.json, "schedule_cron"), table[i].expr);
        /* read back with the same clock */
        char sub[160];
        snprintf(sub, sizeof(sub), "/jobs/%s", tc_jstr(r.json, "id"));
        tc_free(&r);
        ws_req_at(&r, &o, "GET", ws, sub, NULL, CLOCK);
        EXPECT(&r, 200, NULL);
        ck_assert_str_eq(
            cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "next_runs"), 4)->valuestring,
            table[i].runs[4]);
        tc_free(&r);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"name\":\"bad\",\"agent_id\":\"%s\",\"schedule_cron\":\"%s\"}", agent,
                 bad[i].expr);
        ws_req_at(&r, &o, "POST", ws, "/jobs", body, CLOCK);
        EXPECT(&r, 422, "VALIDATION_ERROR");
        ck_assert_msg(strstr(r.body, "schedule_cron") != NULL, "%s: %s", bad[i].expr, r.body);
        for (int k = 0; k < 2; k++)
            ck_assert_msg(strstr(r.body, bad[i].msg[k]) != NULL, "%s: want %s in %s", bad[i].expr,
                          bad[i].msg[k], r.body);
        tc_free(&r);
    }
    tc_user_free(&o);
}
END_TEST

START_TEST(dependency_cycles)
{
    struct tc_user o;
    char ws[64], agent[64], j[5][64], a[64], b[64], sub[160], body[512];
    struct tresp r;
    tc_new_user(&o, "dag-owner");
    create_ws(&o, ws);
    new_agent(&o, ws, "a", agent);
    /* j1 <- j2 <- j3 <- j4 <- j5 (each depends on the one before) */
    for (int i = 0; i < 5; i++) {
        char name[16], extra[128] = "";
        snprintf(name, sizeof(name), "j%d", i + 1);
        if (i > 0)
            snprintf(extra, sizeof(extra), "\"depends_on\":[\"%s\"]", j[i - 1]);
        new_job(&o, ws, agent, name, extra, j[i]);
    }
    /* length 1: j1 on itself */
    snprintf(sub, sizeof(sub), "/jobs/%s", j[0]);
    snprintf(body, sizeof(body), "{\"depends_on\":[\"%s\"]}", j[0]);
    ws_req(&r, &o, "PATCH", ws, sub, body);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    ck_assert_msg(message_has(&r, "j1 -> j1"), "%s", r.body);
    tc_free(&r);
    /* length 5: j1 on j5 */
    snprintf(body, sizeof(body), "{\"depends_on\":[\"%s\"]}", j[4]);
    ws_req(&r, &o, "PATCH", ws, sub, body);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    ck_assert_msg(message_has(&r, "j1 -> j5 -> j4 -> j3 -> j2 -> j1"), "%s", r.body);
    tc_free(&r);
    /* length 2 */
    new_job(&o, ws, agent, "a", "", a);
    snprintf(body, sizeof(body), "\"depends_on\":[\"%s\"]", a);
    new_job(&o, ws, agent, "b", body, b);
    snprintf(sub, sizeof(sub), "/jobs/%s", a);
    snprintf(body, sizeof(body), "{\"depends_on\":[\"%s\"]}", b);
    ws_req(&r, &o, "PATCH", ws, sub, body);
    EXPECT(&r, 422, "VALIDATION_ERROR");
    ck_assert_msg(message_has(&r, "a -> b -> a"), "%s", r.body);
    tc_free(&r);
    /* nothing changed: a still has no dependencies */
    ws_req(&r, &o, "GET", ws, sub, NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "depends_on")), 0);
    tc_free(&r);
    /* a diamond is fine: j5 on j4 and a */
    snprintf(sub, sizeof(sub), "/jobs/%s", j[4]);
    snprintf(body, sizeof(body), "{\"depends_on\":[\"%s\",\"%s\"]}", j[3], a);
    ws_req(&r, &o, "PATCH", ws, sub, body);
    EXPECT(&r, 200, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "depends_on")), 2);
    tc_free(&r);
    /* a dependency of another workspace's job id is unknown here */
    snprintf(body, sizeof(body), "{\"depends_on\":[\"%s\",\"%s\"]}", j[3], j[3]);
    ws_req(&r, &o, "PATCH", ws, sub, body);
    EXPECT(&r, 422, "VALIDATION_ERROR"); /* listed twice */
    tc_free(&r);
    tc_user_free(&o);
}
END_TEST

START_TEST(agent_delete_conflict)
{
    struct tc_user o;
    char ws[64], agent[64], j1[64], j2[64], j3[64], sub[160];
    struct tresp r;
    tc_new_user(&o, "agentdel-owner");
    create_ws(&o, ws);
    new_agent(&o, ws, "busy", agent);
    new_job(&o, ws, agent, "nightly", "\"schedule_cron\":\"@daily\"", j1);
    new_job(&o, ws, agent, "hourly", "\"schedule_cron\":\"@hourly\"", j2);
    new_job(&o, ws, agent, "paused", "\"is_active\":false", j3);
    snprintf(sub, sizeof(sub), "/agents/%s", agent);
    ws_req(&r, &o, "DELETE", ws, sub, NULL);
    EXPECT(&r, 409, "CONFLICT");
    ck_assert_msg(message_has(&r, "\"nightly\"") && message_has(&r, "\"hourly\"") &&
                      !message_has(&r, "paused"),
                  "%s", r.body);
    tc_free(&r);
    /* deactivate both: the agent goes, the jobs stay without it */
    const char *ids[] = {j1, j2};
    for (int i = 0; i < 2; i++) {
        char jsub[160];
        snprintf(jsub, sizeof(jsub), "/jobs/%s", ids[i]);
        ws_req(&r, &o, "PATCH", ws, jsub, "{\"is_active\":false}");
        EXPECT(&r, 200, NULL);
        tc_free(&r);
    }
    ws_req(&r, &o, "DELETE", ws, sub, NULL);
    EXPECT(&r, 204, NULL);
    tc_free(&r);
    snprintf(sub, sizeof(sub), "/jobs/%s", j1);
    ws_req(&r, &o, "GET", ws, sub, NULL);
    EXPECT(&r, 200, NULL);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "agent_id")));
    tc_free(&r);
    /* and cannot be activated without one */
    ws_req(&r, &o, "PATCH", ws, sub, "{\"is_active\":true}");
    EXPECT(&r, 422, "VALIDATION_ERROR");
    ck_assert_msg(message_has(&r, "agent"), "%s", r.body);
    tc_free(&r);
    tc_user_free(&o);
}
END_TEST

START_TEST(job_schedule_follows)
{
    struct tc_user o;
    char ws[64], agent[64], job[64], sub[160];
    struct tresp r;
    tc_new_user(&o, "sched-owner");
    create_ws(&o, ws);
    new_agent(&o, ws, "a", agent);
    char body[256];
    snprintf(body, sizeof(body),
             "{\"name\":\"s\",\"agent_id\":\"%s\",\"schedule_cron\":\"0 0 31 * *\"}", agent);
    ws_req_at(&r, &o, "POST", ws, "/jobs", body, CLOCK);
    EXPECT(&r, 201, NULL);
    snprintf(job, sizeof(job), "%s", tc_jstr(r.json, "id"));
    ck_assert_str_eq(tc_jstr(r.json, "next_fire_utc"), "2026-12-31T00:00:00Z");
    tc_free(&r);
    ck_assert_int_eq(schedule_rows(job, " AND is_active = 1 AND next_fire_utc IS NOT NULL"), 1);
    snprintf(sub, sizeof(sub), "/jobs/%s", job);
    /* a rename keeps the stored next fire time (even with another clock) */
    ws_req_at(&r, &o, "PATCH", ws, sub, "{\"name\":\"s2\"}", CLOCK + 40 * 86400);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "next_fire_utc"), "2026-12-31T00:00:00Z");
    tc_free(&r);
    /* a new schedule moves it */
    ws_req_at(&r, &o, "PATCH", ws, sub, "{\"schedule_cron\":\"0 0 29 2 *\"}", CLOCK);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "next_fire_utc"), "2028-02-29T00:00:00Z");
    tc_free(&r);
    ws_req(&r, &o, "GET", ws, sub, NULL);
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "next_fire_utc"), "2028-02-29T00:00:00Z");
    tc_free(&r);
    /* deactivated: no next fire, nothing in next_runs */
    ws_req_at(&r, &o, "PATCH", ws, sub, "{\"is_active\":false}", CLOCK);
    EXPECT(&r, 200, NULL);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "next_fire_utc")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "next_runs")), 0);
    tc_free(&r);
    ck_assert_int_eq(schedule_rows(job, " AND is_active = 0 AND next_fire_utc IS NULL"), 1);
    /* reactivated from a later clock: the next fire after that clock */
    ws_req_at(&r, &o, "PATCH", ws, sub, "{\"is_active\":true}",
              (time_t)1835000000); /* 2028-02-24 */
    EXPECT(&r, 200, NULL);
    ck_assert_str_eq(tc_jstr(r.json, "next_fire_utc"), "2028-02-29T00:00:00Z");
    tc_free(&r);
    ws_req_at(&r, &o, "PATCH", ws, sub, "{\"is_active\":true,\"schedule_cron\":null}", CLOCK);
    EXPECT(&r, 200, NULL);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "next_fire_utc")));
    tc_free(&r);
    ck_assert_int_eq(schedule_rows(job, " AND next_fire_utc IS NULL AND schedule_cron IS NULL"), 1);
    ws_req(&r, &o, "DELETE", ws, sub, NULL);
    EXPECT(&r, 204, NULL);
    tc_free(&r);
    ck_assert_int_eq(schedule_rows(job, ""), 0);
    tc_user_free(&o);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("agents_jobs");
    TCase *tc = tcase_create("agents_jobs");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, agent_types_and_agents);
    tcase_add_test(tc, role_matrix);
    tcase_add_test(tc, jobs_crud_and_validation);
    tcase_add_test(tc, cron_through_the_api);
    tcase_add_test(tc, dependency_cycles);
    tcase_add_test(tc, agent_delete_conflict);
    tcase_add_test(tc, job_schedule_follows);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
