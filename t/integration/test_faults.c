/* Faults through the real stack, each on a stack of its own: a worker
 * SIGKILLed under concurrent GETs (nginx retries on another socket, the
 * supervisor respawns it) and in the middle of a workspace creation (502,
 * then a whole workspace or no trace), the database server (PostgreSQL, SQL
 * Server) stopped and started again under the same workers, its sessions
 * killed server side while idle and in the middle of a transaction, a stalled integration upstream
 * next to fast requests, SIGTERM to the whole pool under load (in-flight requests finish, nothing
 * half-written), and worker recycling under a 5,000-request run. Orphans are looked for in the
 * database itself: one helper per dialect (sqlite3 CLI, psql, tsql through t/lib/tsql.sh), chosen
 * by WSMS_DB_TYPE. */
#include "client.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NGINX_502_MSG "The worker handling this request failed"
#define MAX_CLIENTS   8
#define MAX_RIDS      24

/* every own stack this suite may start, stopped again by main() whatever
 * happened to the tests */
static const char *const stack_names[] = {"kill",   "killpost", "dbdown", "dbidle", "killidle",
                                          "killtx", "stall",    "term",   "recycle"};

static long t_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const char *json_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static bool is_nginx_502(const struct tresp *r)
{
    return r->status == 502 && strcmp(tc_error_code(r), "INTERNAL_SERVER_ERROR") == 0 &&
           strcmp(json_str(r->json, "message"), NGINX_502_MSG) == 0;
}

/* Request as u (may be NULL) with up to two extra headers (may be NULL). */
static int req_as(struct tresp *r, const struct tc_user *u, const char *method, const char *path,
                  const char *body, const char *x1, const char *x2)
{
    char authz[8192], pma[4096];
    const char *h[6];
    int n = 0;
    if (u) {
        snprintf(authz, sizeof(authz), "Authorization: Bearer %s", u->azure ? u->azure : "");
        snprintf(pma, sizeof(pma), "X-PMA-Token: %s", u->pma ? u->pma : "");
        h[n++] = authz;
        h[n++] = pma;
    }
    if (body)
        h[n++] = "Content-Type: application/json";
    if (x1)
        h[n++] = x1;
    if (x2)
        h[n++] = x2;
    h[n] = NULL;
    return tc_request(r, method, path, body, h);
}

/* ---- forked load clients ------------------------------------------------ */

/* What one client process saw; sent back through a pipe. */
struct load_res {
    long total, ok, bad, noresp, created, n502;
    long max_ms, slow; /* slowest answer; answers over the test's bound */
    long last_done_ms; /* t_ms() when the last 2xx answer arrived */
    long status;       /* single-request clients: the status */
    long elapsed_ms;   /* single-request clients: how long it took */
    char code[48];     /* single-request clients: error_code */
    int nrids;
    char rids[MAX_RIDS][64]; /* request ids of POSTs answered by nginx's 502 */
    char first_bad[320];
};

static void note(struct load_res *o, const char *fmt, ...)
{
    if (o->first_bad[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->first_bad, sizeof(o->first_bad), fmt, ap);
    va_end(ap);
}

typedef void (*client_fn)(int idx, void *arg, struct load_res *out);

struct clients {
    int n;
    pid_t pid[MAX_CLIENTS];
    int fd[MAX_CLIENTS];
};

static void clients_start(struct clients *c, int n, client_fn fn, void *arg)
{
    ck_assert_int_le(n, MAX_CLIENTS);
    c->n = 0;
    for (int i = 0; i < n; i++) {
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            /* never outlive the test (a timeout kills the test process) */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(p[0]);
            static struct load_res r;
            memset(&r, 0, sizeof(r));
            fn(i, arg, &r);
            const char *b = (const char *)&r;
            size_t left = sizeof(r);
            while (left > 0) {
                ssize_t w = write(p[1], b, left);
                if (w <= 0)
                    _exit(3);
                b += w;
                left -= (size_t)w;
            }
            _exit(0);
        }
        close(p[1]);
        c->pid[i] = pid;
        c->fd[i] = p[0];
        c->n++;
    }
}

static void clients_wait(struct clients *c, struct load_res *res)
{
    for (int i = 0; i < c->n; i++) {
        char *b = (char *)&res[i];
        size_t got = 0;
        while (got < sizeof(res[i])) {
            ssize_t n = read(c->fd[i], b + got, sizeof(res[i]) - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        close(c->fd[i]);
        int st = 0;
        while (waitpid(c->pid[i], &st, 0) < 0 && errno == EINTR)
            ;
        ck_assert_msg(got == sizeof(res[i]) && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "client %d died (status 0x%x, %zu bytes of results)", i, st, got);
    }
    c->n = 0;
}

/* GET /health and GET /db/status in turn for *(long *)arg ms. */
static void get_loop(int idx, void *arg, struct load_res *o)
{
    long end = t_ms() + *(const long *)arg;
    (void)idx;
    while (t_ms() < end) {
        const char *path = (o->total % 2) ? "/db/status" : "/health";
        struct tresp r;
        long t0 = t_ms();
        int rc = tc_request(&r, "GET", path, NULL, NULL);
        long dt = t_ms() - t0;
        o->total++;
        if (dt > o->max_ms)
            o->max_ms = dt;
        if (dt >= 500)
            o->slow++;
        if (rc != 0) {
            o->noresp++;
            note(o, "GET %s: no answer", path);
            continue;
        }
        if (r.status == 200)
            o->ok++;
        else {
            o->bad++;
            note(o, "GET %s -> %ld %.200s", path, r.status, r.body ? r.body : "");
        }
        tc_free(&r);
    }
}

/* A fixed number of GETs: *(long *)arg requests. */
static void get_count(int idx, void *arg, struct load_res *o)
{
    long n = *(const long *)arg;
    (void)idx;
    for (long i = 0; i < n; i++) {
        const char *path = (i % 2) ? "/db/status" : "/health";
        struct tresp r;
        o->total++;
        if (tc_request(&r, "GET", path, NULL, NULL) != 0) {
            o->noresp++;
            note(o, "GET %s: no answer (request %ld)", path, i);
            continue;
        }
        if (r.status == 200)
            o->ok++;
        else {
            o->bad++;
            note(o, "GET %s -> %ld %.200s (request %ld)", path, r.status, r.body ? r.body : "", i);
        }
        tc_free(&r);
    }
}

/* One request described by a struct one_req; status, time and error_code. */
struct one_req {
    const struct tc_user *user; /* NULL: anonymous */
    const char *method, *path, *body, *hdr;
};

static void one_request(int idx, void *arg, struct load_res *o)
{
    const struct one_req *q = arg;
    struct tresp r;
    (void)idx;
    long t0 = t_ms();
    o->total = 1;
    if (req_as(&r, q->user, q->method, q->path, q->body, q->hdr, NULL) != 0) {
        o->noresp = 1;
        o->elapsed_ms = t_ms() - t0;
        return;
    }
    o->elapsed_ms = t_ms() - t0;
    o->last_done_ms = t_ms();
    o->status = r.status;
    snprintf(o->code, sizeof(o->code), "%s", tc_error_code(&r));
    snprintf(o->first_bad, sizeof(o->first_bad), "%.300s", r.body ? r.body : "");
    tc_free(&r);
}

/* ---- pool status --------------------------------------------------------- */

struct wstate {
    int pid;
    char state[16];
    char route[48];
    long served, starts;
};

struct cbuf {
    char *p;
    size_t n;
};

static size_t on_body(char *d, size_t sz, size_t nm, void *ud)
{
    struct cbuf *b = ud;
    size_t add = sz * nm;
    if (b->n + add > 1 << 20)
        return 0;
    char *np = realloc(b->p, b->n + add + 1);
    if (!np)
        return 0;
    memcpy(np + b->n, d, add);
    b->n += add;
    np[b->n] = '\0';
    b->p = np;
    return add;
}

/* GET url with a timeout; the body (malloc'd) when the answer is 200. */
static char *http_get(const char *url, long timeout_ms)
{
    struct cbuf b = {0};
    long code = 0;
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(c) != CURLE_OK ||
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200) {
        free(b.p);
        b.p = NULL;
    }
    curl_easy_cleanup(c);
    return b.p;
}

/* GET /status with a short timeout (a status request nginx queues behind a
 * busy worker gives up and is retried); the workers or -1. */
static int pool_status(struct wstate *w, int max, long timeout_ms)
{
    char url[512];
    int n = -1;
    const char *base = getenv("WSMS_URL");
    snprintf(url, sizeof(url), "%s/status", base ? base : "");
    char *body = http_get(url, timeout_ms);
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    cJSON *arr = cJSON_GetObjectItem(j, "workers"), *it;
    if (cJSON_IsArray(arr)) {
        n = 0;
        cJSON_ArrayForEach(it, arr)
        {
            if (n >= max)
                break;
            cJSON *pid = cJSON_GetObjectItem(it, "pid");
            cJSON *served = cJSON_GetObjectItem(it, "requests_served");
            cJSON *starts = cJSON_GetObjectItem(it, "starts");
            w[n].pid = cJSON_IsNumber(pid) ? pid->valueint : -1;
            w[n].served = cJSON_IsNumber(served) ? (long)served->valuedouble : -1;
            w[n].starts = cJSON_IsNumber(starts) ? (long)starts->valuedouble : -1;
            snprintf(w[n].state, sizeof(w[n].state), "%s", json_str(it, "state"));
            snprintf(w[n].route, sizeof(w[n].route), "%s", json_str(it, "route"));
            n++;
        }
    }
    cJSON_Delete(j);
    free(body);
    return n;
}

/* pid of the worker handling `route`, polling /status for up to wait_ms. */
static int find_handling(const char *route, long wait_ms)
{
    long end = t_ms() + wait_ms;
    while (t_ms() < end) {
        struct wstate w[32];
        int n = pool_status(w, 32, 300);
        for (int i = 0; i < n; i++)
            if (strcmp(w[i].state, "handling") == 0 && strcmp(w[i].route, route) == 0)
                return w[i].pid;
        sleep_ms(50);
    }
    return -1;
}

static const struct wstate *find_pid(const struct wstate *w, int n, int pid)
{
    for (int i = 0; i < n; i++)
        if (w[i].pid == pid)
            return &w[i];
    return NULL;
}

static bool alive(int pid)
{
    return kill(pid, 0) == 0 || errno != ESRCH;
}

/* ---- the database itself ------------------------------------------------- */

static bool is_pg(void)
{
    return strcmp(tc_db_type(), "postgres") == 0;
}

static bool is_mssql(void)
{
    return strcmp(tc_db_type(), "sqlserver") == 0;
}

static const char *tsql_dir(void)
{
    const char *d = getenv("WSMS_TSQL_DIR");
    return d ? d : ".";
}

/* A single number from one SQL query against the database of stack `name`
 * (sqlite3 on its master file; psql as postgres on the run's cluster; tsql
 * through t/lib/tsql.sh on the run's SQL Server database), or -1. The SQL
 * goes through a file, so no shell quoting applies. */
static long db_count(const char *name, const char *sql)
{
    char dir[512], sqlf[700], cmd[2048], line[128];
    long v = -1;
    tc_stack_dir(name, dir, sizeof(dir));
    snprintf(sqlf, sizeof(sqlf), "%s.query.sql", dir);
    FILE *f = fopen(sqlf, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%s;\n", sql) > 0;
    if (fclose(f) != 0 || !ok)
        return -1;
    if (strcmp(tc_db_type(), "postgres") == 0)
        snprintf(cmd, sizeof(cmd),
                 "psql -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U postgres -d wsms "
                 "-f %s 2>&1",
                 getenv("WSMS_PG_PORT") ? getenv("WSMS_PG_PORT") : "5432", sqlf);
    else if (is_mssql())
        snprintf(cmd, sizeof(cmd), "sh t/lib/tsql.sh query %s %s 2>&1", tsql_dir(), sqlf);
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
            fprintf(stderr, "query on %s failed: %s", name, line);
    }
    if (pclose(p) != 0)
        v = -1;
    return v;
}

/* Lines of file containing the fixed string text, or -1. */
static long count_lines(const char *file, const char *text)
{
    char cmd[1024];
    long n = -1;
    snprintf(cmd, sizeof(cmd), "grep -cF -- '%s' %s", text, file);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (fscanf(p, "%ld", &n) != 1)
        n = -1;
    pclose(p); /* grep -c exits 1 when the count is 0 */
    return n;
}

/* No member, audit entry or per-workspace schema without its Workspace row,
 * and no Workspace row without all five tables of its schema. */
static void assert_no_orphans(const char *name)
{
    static const char *const members =
        "SELECT count(*) FROM pmassist_master.WorkspaceMember m WHERE NOT EXISTS "
        "(SELECT 1 FROM pmassist_master.Workspace w WHERE w.id = m.workspace_id)";
    static const char *const audits =
        "SELECT count(*) FROM pmassist_master.AuditLog a WHERE NOT EXISTS "
        "(SELECT 1 FROM pmassist_master.Workspace w WHERE w.id = a.workspace_id)";
    /* SQLite: one shared set of workspace tables; no workspace has tables
     * of its own, and no row of the shared set lacks its Workspace row */
    static const char *const sqlite_schemas =
        "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE "
        "'ws\\_%\\_\\_%' ESCAPE '\\' AND name NOT LIKE 'ws\\_\\_%' ESCAPE '\\') + (SELECT "
        "count(*) FROM ws__workspace_integrations i WHERE NOT EXISTS (SELECT 1 FROM Workspace w "
        "WHERE w.id = i.workspace_id))";
    static const char *const sqlite_rows =
        "SELECT 5 - count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
        "('ws__workspace_integrations', 'ws__workspace_agents', 'ws__automation_jobs', "
        "'ws__automation_job_runs', 'ws__file_artifacts')";
    static const char *const pg_schemas =
        "SELECT count(*) FROM information_schema.schemata s WHERE s.schema_name ~ "
        "'^ws_[0-9a-f]{32}$' AND NOT EXISTS (SELECT 1 FROM pmassist_master.Workspace w "
        "WHERE w.db_schema_name = s.schema_name)";
    static const char *const pg_rows =
        "SELECT count(*) FROM pmassist_master.Workspace w WHERE (SELECT count(*) FROM "
        "information_schema.tables t WHERE t.table_schema = w.db_schema_name AND t.table_name "
        "IN ('workspace_integrations', 'workspace_agents', 'automation_jobs', "
        "'automation_job_runs', 'file_artifacts')) <> 5";
    static const char *const mssql_schemas =
        "SELECT count(*) FROM sys.schemas s WHERE s.name LIKE 'ws[_]%' AND LEN(s.name) = 35 "
        "AND NOT EXISTS (SELECT 1 FROM pmassist_master.Workspace w WHERE w.db_schema_name = "
        "s.name)";
    static const char *const mssql_rows =
        "SELECT count(*) FROM pmassist_master.Workspace w WHERE (SELECT count(*) FROM "
        "sys.tables t WHERE t.schema_id = SCHEMA_ID(w.db_schema_name) AND t.name IN "
        "('workspace_integrations', 'workspace_agents', 'automation_jobs', "
        "'automation_job_runs', 'file_artifacts')) <> 5";
    const char *m = members, *a = audits;
    const char *schemas = is_pg() ? pg_schemas : is_mssql() ? mssql_schemas : sqlite_schemas;
    const char *rows = is_pg() ? pg_rows : is_mssql() ? mssql_rows : sqlite_rows;
    char mb[512], ab[512];
    if (!is_pg() && !is_mssql()) {
        /* the sqlite3 CLI opens the master file as `main` */
        snprintf(mb, sizeof(mb), "%s", members);
        snprintf(ab, sizeof(ab), "%s", audits);
        for (char *s; (s = strstr(mb, "pmassist_master."));)
            memmove(s, s + 16, strlen(s + 16) + 1);
        for (char *s; (s = strstr(ab, "pmassist_master."));)
            memmove(s, s + 16, strlen(s + 16) + 1);
        m = mb;
        a = ab;
    }
    ck_assert_msg(db_count(name, m) == 0, "WorkspaceMember rows without their Workspace");
    ck_assert_msg(db_count(name, a) == 0, "AuditLog rows without their Workspace");
    ck_assert_msg(db_count(name, schemas) == 0, "workspace schemas without a Workspace row");
    ck_assert_msg(db_count(name, rows) == 0, "Workspace rows without their complete schema");
}

/* Workspace rows created by this user, straight from the database. */
static long db_workspaces_of(const char *name, const struct tc_user *u)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %sWorkspace WHERE created_by = '%s'",
             is_pg() || is_mssql() ? "pmassist_master." : "", u->oid);
    return db_count(name, sql);
}

static void start_own(const char *name, const char *env, int sockets, char *url, size_t n)
{
    int rc = sockets > 0 ? tc_stack_start_sockets(name, env, sockets, url, n)
                         : tc_stack_start(name, env, 4, url, n);
    ck_assert_msg(rc == 0, "stack %s did not start", name);
    ck_assert_int_eq(setenv("WSMS_URL", url, 1), 0);
}

/* ---- tests --------------------------------------------------------------- */

/* A worker SIGKILLed in the middle of a GET: nginx retries on another socket,
 * no client sees an error, and the worker's supervisor starts a new one. */
START_TEST(sigkill_worker_during_gets)
{
    char url[256];
    int sups[8], kids[8];
    start_own("kill", "", 4, url, sizeof(url));
    ck_assert_int_eq(tc_stack_pids("kill", sups, 8), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(tc_children(sups[i], &kids[i], 1), 1);

    long dur = 4500;
    struct clients load, slow;
    struct load_res res[4], sres[1];
    clients_start(&load, 4, get_loop, &dur);
    sleep_ms(300);
    /* a GET that stays in its worker long enough to be killed there */
    /* (seen within 3 s: fresh workers on the T-SQL server spend their
     * first requests connecting and preparing, slower still when the
     * suite's other databases share the machine) */
    struct one_req q = {NULL, "GET", "/openapi.json", NULL, "X-Test-Pause: handler:4000"};
    clients_start(&slow, 1, one_request, &q);
    int victim = find_handling("openapi", 3000);
    int vs = -1;
    for (int i = 0; i < 4; i++)
        if (kids[i] == victim)
            vs = i;
    if (victim > 0 && vs >= 0)
        ck_assert_int_eq(kill(victim, SIGKILL), 0);
    clients_wait(&slow, sres);
    clients_wait(&load, res);
    ck_assert_msg(victim > 0, "no worker was seen handling the paused GET");
    ck_assert_msg(vs >= 0, "worker %d is not a child of the stack's supervisors", victim);

    /* the killed GET was retried by nginx on another worker */
    ck_assert_msg(sres[0].status == 200, "the GET whose worker was killed got %ld: %s",
                  sres[0].status, sres[0].first_bad);
    long total = 0;
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(res[i].bad == 0 && res[i].noresp == 0,
                      "client %d: %ld of %ld GETs failed; first: %s", i, res[i].bad + res[i].noresp,
                      res[i].total, res[i].first_bad);
        total += res[i].total;
    }
    ck_assert_int_gt(total, 20);
    printf("faults: SIGKILL of worker %d during %ld concurrent GETs: none failed\n", victim, total);

    /* its supervisor started a replacement, and the pool serves with it */
    int now = -1;
    for (int t = 0; t < 100; t++) {
        if (tc_children(sups[vs], &now, 1) == 1 && now != victim)
            break;
        now = -1;
        sleep_ms(100);
    }
    ck_assert_msg(now > 0, "supervisor %d did not replace worker %d", sups[vs], victim);
    ck_assert(!alive(victim));
    struct wstate w[16];
    int n = -1;
    for (int t = 0; t < 50; t++) {
        n = pool_status(w, 16, 2000);
        if (n >= 0 && find_pid(w, n, now))
            break;
        sleep_ms(100);
    }
    ck_assert_msg(n >= 0 && find_pid(w, n, now), "/status does not list the new worker %d", now);
    ck_assert_msg(!find_pid(w, n, victim), "/status still lists the killed worker");
    for (int i = 0; i < 8; i++) {
        struct tresp r;
        ck_assert_int_eq(tc_request(&r, "GET", "/db/status", NULL, NULL), 0);
        ck_assert_int_eq(r.status, 200);
        tc_free(&r);
    }
    tc_stack_stop("kill");
}
END_TEST

/* A worker SIGKILLed between the writes of a workspace creation and its
 * commit: the client gets nginx's 502 (a POST is not retried), and the
 * database holds the whole workspace or no trace of it. */
START_TEST(sigkill_worker_during_create)
{
    char url[256];
    struct tc_user u;
    start_own("killpost", "", 2, url, sizeof(url));
    tc_new_user(&u, "killpost");

    struct one_req q = {&u, "POST", "/workspaces", "{\"name\":\"killed mid-create\"}",
                        "X-Test-Pause: ws.before_commit:3000"};
    struct clients c;
    struct load_res res[1];
    clients_start(&c, 1, one_request, &q);
    int victim = find_handling("workspaces.create", 2000);
    if (victim > 0) {
        sleep_ms(700); /* the inserts are done; the pause before the commit runs */
        ck_assert_int_eq(kill(victim, SIGKILL), 0);
    }
    clients_wait(&c, res);
    ck_assert_msg(victim > 0, "no worker was seen handling the POST");
    ck_assert_msg(res[0].noresp == 0, "no HTTP answer");
    ck_assert_msg(res[0].status == 502, "want nginx's 502, got %ld: %s", res[0].status,
                  res[0].first_bad);
    ck_assert_str_eq(res[0].code, "INTERNAL_SERVER_ERROR");
    ck_assert_ptr_nonnull(strstr(res[0].first_bad, NGINX_502_MSG));
    ck_assert_msg(res[0].elapsed_ms < 3000, "the request outlived its pause (%ld ms)",
                  res[0].elapsed_ms);

    /* a whole workspace or none */
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, &u, "GET", "/workspaces", NULL), 0);
    ck_assert_int_eq(r.status, 200);
    const char *tc = tc_header(&r, "X-Total-Count");
    ck_assert_ptr_nonnull(tc);
    long total = strtol(tc, NULL, 10);
    ck_assert_msg(total == 0 || total == 1, "%ld workspaces after one create", total);
    if (total == 1) {
        cJSON *first = cJSON_GetArrayItem(r.json, 0);
        if (!first) /* a {"items": [...]} page */
            first = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"), 0);
        char path[128];
        snprintf(path, sizeof(path), "/workspaces/%s", json_str(first, "id"));
        struct tresp g;
        ck_assert_int_eq(tc_as(&g, &u, "GET", path, NULL), 0);
        ck_assert_int_eq(g.status, 200);
        cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(g.json, "members"), 0);
        ck_assert_str_eq(json_str(m, "role"), "OWNER");
        tc_free(&g);
    }
    tc_free(&r);
    ck_assert_int_eq(db_workspaces_of("killpost", &u), total);
    assert_no_orphans("killpost");
    printf("faults: SIGKILL during POST /workspaces: 502 after %ld ms, %ld workspace(s) left\n",
           res[0].elapsed_ms, total);
    tc_user_free(&u);
    tc_stack_stop("killpost");
}
END_TEST

/* ---- the database server stopped and started again ---- */

/* "PostgreSQL" or "SQL Server": the server the run owns, for messages. */
static const char *db_label(void)
{
    return is_mssql() ? "SQL Server" : "PostgreSQL";
}

/* Whether this run may stop and start its database server: the cluster
 * t/run created for PostgreSQL, the shared T-SQL server (not a real SQL
 * Server named by WSMS_TEST_SQLSERVER, and not SQLite, which has none). */
static bool db_server_owned(void)
{
    char path[600], mode[16] = "";
    if (is_pg())
        return true;
    if (!is_mssql())
        return false;
    snprintf(path, sizeof(path), "%s/mode", tsql_dir());
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    int got = fgets(mode, sizeof(mode), f) != NULL;
    fclose(f);
    return got && strncmp(mode, "shared", 6) == 0;
}

static void db_marker(char *buf, size_t n)
{
    snprintf(buf, n, "%s/faults-db-paused", getenv("WSMS_TMP") ? getenv("WSMS_TMP") : "/tmp");
}

/* Starts the run's database server again if this suite stopped it. */
static int db_resume_if_paused(void)
{
    char marker[512], cmd[1024];
    db_marker(marker, sizeof(marker));
    if (access(marker, F_OK) != 0)
        return 0;
    if (is_mssql())
        snprintf(cmd, sizeof(cmd), "sh t/lib/tsql.sh resume %s", tsql_dir());
    else
        snprintf(cmd, sizeof(cmd), "sh t/lib/pg.sh resume %s %s", getenv("WSMS_PG_DIR"),
                 getenv("WSMS_PG_PORT"));
    int rc = system(cmd);
    if (rc == 0)
        unlink(marker);
    else
        fprintf(stderr, "faults: resuming %s failed\n", db_label());
    return rc == 0 ? 0 : -1;
}

static void db_teardown(void)
{
    db_resume_if_paused();
}

/* The shared stack of this run uses the same server: let each of its
 * workers find out that its old connection is gone before the next suite
 * runs (a worker answers 503 the first time it uses a connection that died
 * with the server; see database_restart_while_idle). Not an assertion. */
static void flush_shared_stack(void)
{
    char path[600], url[256] = "", full[300];
    const char *dir = getenv("WSMS_STACK_DIR");
    snprintf(path, sizeof(path), "%s/url", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    int got = fgets(url, sizeof(url), f) != NULL;
    fclose(f);
    if (!got)
        return;
    url[strcspn(url, "\n")] = '\0';
    snprintf(full, sizeof(full), "%s/db/status", url);
    int in_a_row = 0, failed = 0;
    for (int i = 0; i < 80 && in_a_row < 16; i++) {
        char *b = http_get(full, 5000);
        if (b)
            in_a_row++;
        else {
            in_a_row = 0;
            failed++;
        }
        free(b);
    }
    printf("faults: shared stack after losing its %s sessions: %d request(s) failed before it "
           "served normally\n",
           db_label(), failed);
}

static int db_pause(void)
{
    char cmd[1024], marker[512];
    db_marker(marker, sizeof(marker));
    FILE *f = fopen(marker, "w");
    if (!f || fclose(f) != 0)
        return -1;
    if (is_mssql())
        snprintf(cmd, sizeof(cmd), "sh t/lib/tsql.sh pause %s", tsql_dir());
    else
        snprintf(cmd, sizeof(cmd), "sh t/lib/pg.sh pause %s", getenv("WSMS_PG_DIR"));
    return system(cmd) == 0 ? 0 : -1;
}

/* Ends every session of the run's database server side (a DBA's KILL, a
 * failover), or -1. */
static int db_kill_sessions(void)
{
    char cmd[1024];
    if (is_mssql())
        snprintf(cmd, sizeof(cmd), "sh t/lib/tsql.sh kill-sessions %s", tsql_dir());
    else
        snprintf(cmd, sizeof(cmd),
                 "psql -X -q -t -A -h 127.0.0.1 -p %s -U postgres -d wsms -c \"SELECT "
                 "count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'wsms' "
                 "AND pid <> pg_backend_pid()\" >/dev/null",
                 getenv("WSMS_PG_PORT") ? getenv("WSMS_PG_PORT") : "5432");
    return system(cmd) == 0 ? 0 : -1;
}

/* Whether the database-server tests can run here; prints why not. */
static bool db_server_tests(const char *test)
{
    if (db_server_owned())
        return true;
    printf("faults: %s skipped on %s (%s)\n", test, tc_db_type(),
           is_mssql() ? "a real SQL Server is not the run's to stop"
                      : "SQLite has no server to stop");
    return false;
}

/* One request during the outage: status and error_code as wanted, within
 * bound_ms. Writes a description of any difference into why. */
static long outage_req(const struct tc_user *u, const char *path, long want, const char *code,
                       long bound_ms, char *why, size_t whylen)
{
    struct tresp r;
    long t0 = t_ms();
    int rc = req_as(&r, u, "GET", path, NULL, NULL, NULL);
    long dt = t_ms() - t0;
    if (rc != 0) {
        if (!why[0])
            snprintf(why, whylen, "GET %s: no answer after %ld ms", path, dt);
        return dt;
    }
    if (!why[0] &&
        (r.status != want || (code && strcmp(tc_error_code(&r), code) != 0) || dt > bound_ms))
        snprintf(why, whylen, "GET %s: %ld %s in %ld ms, want %ld %s within %ld ms", path, r.status,
                 tc_error_code(&r), dt, want, code ? code : "", bound_ms);
    tc_free(&r);
    return dt;
}

START_TEST(database_stopped_and_resumed)
{
    if (!db_server_tests("database_stopped_and_resumed"))
        return;
    /* an earlier test of this case may have died with the server stopped */
    ck_assert_int_eq(db_resume_if_paused(), 0);
    char url[256], why[512] = "";
    struct tc_user u;
    struct wstate before[8], mid[8], after[8];
    start_own("dbdown", "DB_LOGIN_TIMEOUT_SECONDS=1\n", 2, url, sizeof(url));
    tc_new_user(&u, "dbdown");
    for (int i = 0; i < 6; i++) {
        outage_req(NULL, "/db/status", 200, NULL, 5000, why, sizeof(why));
        outage_req(&u, "/workspaces", 200, NULL, 5000, why, sizeof(why));
    }
    ck_assert_msg(!why[0], "before the outage: %s", why);
    int nb = pool_status(before, 8, 5000);
    ck_assert_int_eq(nb, 2);

    ck_assert_int_eq(db_pause(), 0);

    /* every worker answers database requests during the outage (so each has
     * lost its connection), quickly and with 503 */
    long worst = 0, nreq = 0;
    int rounds = 0;
    bool all_saw = false;
    while (!all_saw && rounds < 10 && !why[0]) {
        struct wstate a[8], b[8];
        int na = pool_status(a, 8, 5000);
        for (int i = 0; i < 4; i++) {
            long d1 = outage_req(NULL, "/db/status", 503, "DATABASE_CONNECTION_ERROR", 2000, why,
                                 sizeof(why));
            long d2 = outage_req(&u, "/workspaces", 503, "DATABASE_CONNECTION_ERROR", 2000, why,
                                 sizeof(why));
            worst = d1 > worst ? d1 : worst;
            worst = d2 > worst ? d2 : worst;
            nreq += 2;
        }
        int nbb = pool_status(b, 8, 5000);
        /* the first /status itself counts once for one worker */
        all_saw = na == nb && nbb == nb;
        for (int i = 0; all_saw && i < nb; i++) {
            const struct wstate *x = find_pid(a, na, before[i].pid);
            const struct wstate *y = find_pid(b, nbb, before[i].pid);
            all_saw = x && y && y->served - x->served >= 2;
        }
        rounds++;
    }
    for (int i = 0; i < 6; i++)
        outage_req(NULL, "/health", 200, NULL, 2000, why, sizeof(why));
    int nm = pool_status(mid, 8, 5000);

    int resumed = db_resume_if_paused();
    flush_shared_stack();
    ck_assert_msg(resumed == 0, "%s did not start again", db_label());
    ck_assert_msg(!why[0], "during the outage: %s", why);
    ck_assert_msg(all_saw, "not every worker got a database request during the outage");
    printf("faults: %s stopped: %ld database requests answered 503, slowest %ld ms\n", db_label(),
           nreq, worst);

    /* the same workers, never restarted, serve normally at once */
    for (int i = 0; i < 10; i++) {
        outage_req(NULL, "/db/status", 200, NULL, 5000, why, sizeof(why));
        outage_req(&u, "/workspaces", 200, NULL, 5000, why, sizeof(why));
    }
    ck_assert_msg(!why[0], "after %s came back: %s", db_label(), why);
    int na = pool_status(after, 8, 5000);
    ck_assert_int_eq(nm, nb);
    ck_assert_int_eq(na, nb);
    for (int i = 0; i < nb; i++) {
        const struct wstate *m = find_pid(mid, nm, before[i].pid);
        const struct wstate *a = find_pid(after, na, before[i].pid);
        ck_assert_msg(m && a, "worker %d is gone", before[i].pid);
        ck_assert_msg(a->starts == before[i].starts, "worker %d restarted (%ld -> %ld starts)",
                      before[i].pid, before[i].starts, a->starts);
    }
    tc_user_free(&u);
    tc_stack_stop("dbdown");
}
END_TEST

/* The database server restarted while the workers were idle: their connections died
 * with the server, but the database is up again, so no request may fail. */
START_TEST(database_restart_while_idle)
{
    if (!db_server_tests("database_restart_while_idle"))
        return;
    /* an earlier test of this case may have died with the server stopped */
    ck_assert_int_eq(db_resume_if_paused(), 0);
    char url[256], why[512] = "";
    struct tc_user u;
    struct wstate before[8], after[8];
    start_own("dbidle", "DB_LOGIN_TIMEOUT_SECONDS=1\n", 2, url, sizeof(url));
    tc_new_user(&u, "dbidle");
    for (int i = 0; i < 6; i++) {
        outage_req(NULL, "/db/status", 200, NULL, 5000, why, sizeof(why));
        outage_req(&u, "/workspaces", 200, NULL, 5000, why, sizeof(why));
    }
    ck_assert_msg(!why[0], "before the restart: %s", why);
    int nb = pool_status(before, 8, 5000);
    ck_assert_int_eq(nb, 2);
    ck_assert_int_eq(db_pause(), 0);
    ck_assert_int_eq(db_resume_if_paused(), 0);
    long failed = 0;
    for (int i = 0; i < 8; i++) {
        char one[512] = "";
        outage_req(NULL, "/db/status", 200, NULL, 5000, one, sizeof(one));
        if (one[0]) {
            failed++;
            if (!why[0])
                snprintf(why, sizeof(why), "%s", one);
        }
        one[0] = '\0';
        outage_req(&u, "/workspaces", 200, NULL, 5000, one, sizeof(one));
        if (one[0]) {
            failed++;
            if (!why[0])
                snprintf(why, sizeof(why), "%s", one);
        }
    }
    int na = pool_status(after, 8, 5000);
    printf("faults: %s restarted under idle workers: %ld of 16 requests failed after it "
           "was back\n",
           db_label(), failed);
    flush_shared_stack();
    tc_user_free(&u);
    tc_stack_stop("dbidle");
    ck_assert_msg(!why[0], "%ld of 16 requests failed after %s was back; first: %s", failed,
                  db_label(), why);
    ck_assert_int_eq(na, nb);
    for (int i = 0; i < nb; i++) {
        const struct wstate *a = find_pid(after, na, before[i].pid);
        ck_assert_msg(a && a->starts == before[i].starts, "worker %d restarted", before[i].pid);
    }
}
END_TEST

/* ---- sessions killed server side ---- */

static bool session_tests(const char *test)
{
    if (is_pg() || is_mssql())
        return true;
    printf("faults: %s skipped on %s (SQLite has no server sessions)\n", test, tc_db_type());
    return false;
}

/* Every session killed while the workers were idle (a DBA's KILL, a
 * failover): each worker notices at its next statement, reconnects and runs
 * it again, so no request fails and no worker restarts. */
START_TEST(sessions_killed_while_idle)
{
    if (!session_tests("sessions_killed_while_idle"))
        return;
    char url[256], why[512] = "";
    struct tc_user u;
    struct wstate before[8], after[8];
    start_own("killidle", "", 2, url, sizeof(url));
    tc_new_user(&u, "killidle");
    for (int i = 0; i < 4; i++) {
        outage_req(NULL, "/db/status", 200, NULL, 5000, why, sizeof(why));
        outage_req(&u, "/workspaces", 200, NULL, 5000, why, sizeof(why));
    }
    ck_assert_msg(!why[0], "before the kill: %s", why);
    int nb = pool_status(before, 8, 5000);
    ck_assert_int_eq(nb, 2);
    ck_assert_int_eq(db_kill_sessions(), 0);
    for (int i = 0; i < 6; i++) {
        outage_req(NULL, "/db/status", 200, NULL, 5000, why, sizeof(why));
        outage_req(&u, "/workspaces", 200, NULL, 5000, why, sizeof(why));
    }
    int na = pool_status(after, 8, 5000);
    flush_shared_stack();
    tc_user_free(&u);
    tc_stack_stop("killidle");
    ck_assert_msg(!why[0], "after the sessions were killed: %s", why);
    ck_assert_int_eq(na, nb);
    for (int i = 0; i < nb; i++) {
        const struct wstate *a = find_pid(after, na, before[i].pid);
        ck_assert_msg(a && a->starts == before[i].starts, "worker %d restarted", before[i].pid);
    }
    printf("faults: %s sessions killed under idle workers: no request failed\n", db_label());
}
END_TEST

/* Every session killed while a workspace creation waits before its commit:
 * the request fails cleanly (503 DATABASE_CONNECTION_ERROR, not retried:
 * its writes are gone with the session), nothing of it is stored, and the
 * same workers serve the next creations on new connections. */
START_TEST(sessions_killed_mid_transaction)
{
    if (!session_tests("sessions_killed_mid_transaction"))
        return;
    char url[256];
    struct tc_user u;
    struct wstate before[8], after[8];
    /* two sockets: /status is answered while one worker holds the POST */
    start_own("killtx", "", 2, url, sizeof(url));
    tc_new_user(&u, "killtx");
    int nb = pool_status(before, 8, 5000);
    ck_assert_int_eq(nb, 2);

    struct one_req q = {&u, "POST", "/workspaces", "{\"name\":\"killed mid-transaction\"}",
                        "X-Test-Pause: ws.before_commit:3000"};
    struct clients c;
    struct load_res res[1];
    clients_start(&c, 1, one_request, &q);
    int w = find_handling("workspaces.create", 3000);
    int killed = -1;
    if (w > 0) {
        sleep_ms(1000); /* the inserts are done; the pause before the commit runs */
        killed = db_kill_sessions();
    }
    clients_wait(&c, res);
    ck_assert_msg(w > 0, "no worker was seen handling the POST");
    ck_assert_int_eq(killed, 0);
    ck_assert_msg(res[0].noresp == 0, "no HTTP answer");
    ck_assert_msg(res[0].status == 503 && strcmp(res[0].code, "DATABASE_CONNECTION_ERROR") == 0,
                  "want 503 DATABASE_CONNECTION_ERROR, got %ld: %s", res[0].status,
                  res[0].first_bad);

    /* nothing half-written */
    ck_assert_int_eq(db_workspaces_of("killtx", &u), 0);
    assert_no_orphans("killtx");

    /* the next request works, on the same worker */
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, &u, "POST", "/workspaces", "{\"name\":\"after the kill\"}"), 0);
    ck_assert_msg(r.status == 201, "create after the kill: %ld %s", r.status, r.body ? r.body : "");
    tc_free(&r);
    ck_assert_int_eq(tc_as(&r, &u, "GET", "/workspaces", NULL), 0);
    ck_assert_int_eq(r.status, 200);
    const char *tc = tc_header(&r, "X-Total-Count");
    ck_assert_ptr_nonnull(tc);
    ck_assert_int_eq(strtol(tc, NULL, 10), 1);
    tc_free(&r);
    ck_assert_int_eq(db_workspaces_of("killtx", &u), 1);
    assert_no_orphans("killtx");
    int na = pool_status(after, 8, 5000);
    ck_assert_int_eq(na, nb);
    for (int i = 0; i < nb; i++) {
        const struct wstate *a = find_pid(after, na, before[i].pid);
        ck_assert_msg(a && a->starts == before[i].starts, "worker %d restarted", before[i].pid);
    }
    printf("faults: %s sessions killed before a commit: %ld %s after %ld ms, nothing stored, "
           "next create 201\n",
           db_label(), res[0].status, res[0].code, res[0].elapsed_ms);
    flush_shared_stack();
    tc_user_free(&u);
    tc_stack_stop("killtx");
}
END_TEST

/* ---- a stalled integration upstream ---- */

static void fake_dir(char *buf, size_t n)
{
    snprintf(buf, n, "%s/faults-fake-%s", getenv("WSMS_TMP") ? getenv("WSMS_TMP") : "/tmp",
             tc_db_type());
}

static void fake_stop(void)
{
    char dir[512], cmd[1024];
    fake_dir(dir, sizeof(dir));
    snprintf(cmd, sizeof(cmd), "sh t/lib/fake.sh stop %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "faults: stopping the fake failed\n");
}

START_TEST(stalled_integration_isolated)
{
    char dir[512], cmd[1024], fake[256] = "", env[1024], url[256];
    fake_dir(dir, sizeof(dir));
    snprintf(cmd, sizeof(cmd), "FAKE_STALL_SECONDS=10 sh t/lib/fake.sh start %s", dir);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    int got = fgets(fake, sizeof(fake), p) != NULL;
    ck_assert_int_eq(pclose(p), 0);
    ck_assert(got);
    fake[strcspn(fake, "\n")] = '\0';
    snprintf(env, sizeof(env),
             "JIRA_BASE_URL=%s/s/stall/jira\nJIRA_API_TOKEN=faults-token\n"
             "INTEGRATION_TIMEOUT_SECONDS=3\n",
             fake);
    start_own("stall", env, 4, url, sizeof(url));
    struct tc_user u;
    tc_new_user(&u, "stall");
    /* every worker opens its database connection before the timing starts
     * (nginx spreads these over the four sockets): a first TDS login on the
     * shared T-SQL server alone takes hundreds of milliseconds */
    for (int i = 0; i < 12; i++) {
        struct tresp w;
        if (tc_request(&w, "GET", "/db/status", NULL, NULL) == 0)
            tc_free(&w);
    }

    struct one_req q = {&u, "GET", "/integrations/jira/projects", NULL, NULL};
    struct clients stalled, fast;
    struct load_res sres[2], fres[2];
    clients_start(&stalled, 2, one_request, &q);
    /* both stalled calls are inside their workers: the fake has them */
    char requests_url[512];
    snprintf(requests_url, sizeof(requests_url), "%s/__requests", fake);
    long end = t_ms() + 2000;
    int inside = 0;
    while (t_ms() < end && inside < 2) {
        char *body = http_get(requests_url, 1000);
        cJSON *j = body ? cJSON_Parse(body) : NULL, *it;
        inside = 0;
        cJSON_ArrayForEach(it, j) inside += strcmp(json_str(it, "scenario"), "stall") == 0;
        cJSON_Delete(j);
        free(body);
        if (inside < 2)
            sleep_ms(20);
    }
    long dur = 2000;
    clients_start(&fast, 2, get_loop, &dur);
    clients_wait(&fast, fres);
    clients_wait(&stalled, sres);
    tc_user_free(&u);
    tc_stack_stop("stall");
    fake_stop();

    for (int i = 0; i < 2; i++) {
        ck_assert_msg(sres[i].status == 504 && strcmp(sres[i].code, "REQUEST_TIMEOUT") == 0,
                      "stalled call %d: %ld %s", i, sres[i].status, sres[i].first_bad);
        ck_assert_msg(sres[i].elapsed_ms >= 2500 && sres[i].elapsed_ms < 8000,
                      "stalled call %d answered after %ld ms (timeout 3 s)", i, sres[i].elapsed_ms);
    }
    ck_assert_msg(inside == 2, "the fake did not get both stalled calls");
    long total = 0, worst = 0, slow = 0;
    for (int i = 0; i < 2; i++) {
        total += fres[i].total;
        slow += fres[i].slow;
        worst = fres[i].max_ms > worst ? fres[i].max_ms : worst;
    }
    printf("faults: 2 integration calls stalled: %ld GETs next to them, slowest %ld ms, %ld over "
           "500 ms\n",
           total, worst, slow);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(fres[i].bad == 0 && fres[i].noresp == 0, "fast client %d: %s", i,
                      fres[i].first_bad);
    ck_assert_msg(worst < 500,
                  "GET /health and /db/status waited behind the stalled calls: %ld of %ld over "
                  "500 ms, slowest %ld ms",
                  slow, total, worst);
    ck_assert_int_gt(total, 10);
}
END_TEST

/* ---- SIGTERM to the pool under load ---- */

struct term_arg {
    const struct tc_user *users;
    long run_ms;
};

/* POST /workspaces (every other one paused before its commit), GET
 * /workspaces and GET /health in turn, until the pool has been gone for three
 * answers in a row or run_ms passed. */
static void term_loop(int idx, void *arg, struct load_res *o)
{
    const struct term_arg *ta = arg;
    const struct tc_user *u = &ta->users[idx];
    long end = t_ms() + ta->run_ms;
    int gone = 0;
    for (long n = 0; t_ms() < end && gone < 3; n++) {
        char id[64], rid[96], body[128];
        struct tresp r;
        const char *method = "GET", *path = n % 3 == 1 ? "/workspaces" : "/health";
        const char *pause = NULL;
        snprintf(id, sizeof(id), "faults-term-%d-%d-%ld", (int)getpid(), idx, n);
        snprintf(rid, sizeof(rid), "X-Request-Id: %s", id);
        if (n % 3 == 0) {
            method = "POST";
            path = "/workspaces";
            snprintf(body, sizeof(body), "{\"name\":\"term %d %ld\"}", idx, n);
            if (n % 2 == 0)
                pause = "X-Test-Pause: ws.before_commit:250";
        }
        o->total++;
        if (req_as(&r, u, method, path, n % 3 == 0 ? body : NULL, rid, pause) != 0) {
            o->noresp++;
            note(o, "%s %s: no answer", method, path);
            continue;
        }
        if (r.status == 200 || r.status == 201) {
            o->ok++;
            o->created += r.status == 201;
            o->last_done_ms = t_ms();
            gone = 0;
        } else if (is_nginx_502(&r)) {
            o->n502++;
            gone++;
            if (strcmp(method, "POST") == 0 && o->nrids < MAX_RIDS)
                snprintf(o->rids[o->nrids++], sizeof(o->rids[0]), "%s", id);
        } else {
            o->bad++;
            note(o, "%s %s -> %ld %.200s", method, path, r.status, r.body ? r.body : "");
        }
        tc_free(&r);
    }
}

START_TEST(sigterm_pool_under_load)
{
    char url[256], dir[512], cmd[1024];
    struct tc_user users[5];
    int sups[8];
    start_own("term", "", 4, url, sizeof(url));
    tc_stack_dir("term", dir, sizeof(dir));
    ck_assert_int_eq(tc_stack_pids("term", sups, 8), 4);
    for (int i = 0; i < 5; i++)
        tc_new_user(&users[i], "term");

    struct term_arg ta = {users, 8000};
    struct clients load, inflight;
    struct load_res res[4], ires[1];
    /* first one creation that is surely inside a worker when SIGTERM comes
     * (the only create in the pool when /status shows one), paused before
     * its handler so that it holds no lock while the load runs */
    struct one_req q = {&users[4], "POST", "/workspaces", "{\"name\":\"in flight at SIGTERM\"}",
                        "X-Test-Pause: handler:3000"};
    clients_start(&inflight, 1, one_request, &q);
    int w = find_handling("workspaces.create", 2000);
    clients_start(&load, 4, term_loop, &ta);
    sleep_ms(1500);
    long t_term = t_ms();
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(kill(sups[i], SIGTERM), 0);
    /* supervisors wait for their workers' requests, then exit */
    long deadline = t_ms() + 15000;
    int left = 4;
    while (left > 0 && t_ms() < deadline) {
        left = 0;
        for (int i = 0; i < 4; i++)
            left += alive(sups[i]);
        if (left)
            sleep_ms(50);
    }
    long stopped_ms = t_ms() - t_term;
    clients_wait(&inflight, ires);
    clients_wait(&load, res);
    ck_assert_msg(left == 0, "%d supervisors still running 15 s after SIGTERM", left);
    ck_assert_msg(w > 0, "the in-flight creation was not seen in a worker");

    /* the creation in flight at SIGTERM finished */
    ck_assert_msg(ires[0].status == 201, "in-flight POST got %ld: %s", ires[0].status,
                  ires[0].first_bad);
    ck_assert_msg(ires[0].last_done_ms > t_term, "the in-flight POST ended before SIGTERM");

    long total = 0, n502 = 0, created = 0;
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(res[i].bad == 0 && res[i].noresp == 0,
                      "client %d: %ld bad answers, %ld without answer; first: %s", i, res[i].bad,
                      res[i].noresp, res[i].first_bad);
        total += res[i].total;
        n502 += res[i].n502;
        created += res[i].created;
        /* a POST answered 502 never reached a worker: it is in no worker log */
        for (int k = 0; k < res[i].nrids; k++) {
            snprintf(cmd, sizeof(cmd), "grep -qF -- '%s' %s/wsmsd.log", res[i].rids[k], dir);
            ck_assert_msg(system(cmd) != 0,
                          "POST %s was taken by a worker but answered 502 by nginx",
                          res[i].rids[k]);
        }
    }
    /* nothing half-written: exactly the acknowledged workspaces exist */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(db_workspaces_of("term", &users[i]), res[i].created);
    ck_assert_int_eq(db_workspaces_of("term", &users[4]), 1);
    assert_no_orphans("term");
    char nlog[600];
    snprintf(nlog, sizeof(nlog), "%s/nginx-error.log", dir);
    printf("faults: SIGTERM under load: pool gone %ld ms later; %ld requests, %ld workspaces "
           "created, %ld nginx 502s (nginx log: %ld connection refused, %ld reset, %ld closed "
           "prematurely)\n",
           stopped_ms, total, created + 1, n502, count_lines(nlog, "(111: Connection refused)"),
           count_lines(nlog, "(104: Connection reset by peer)"),
           count_lines(nlog, "upstream prematurely closed"));
    for (int i = 0; i < 5; i++)
        tc_user_free(&users[i]);
    tc_stack_stop("term");
}
END_TEST

/* ---- recycling ---- */

START_TEST(recycling_under_load)
{
    char url[256], dir[512], log[600];
    /* A TDS login on the shared T-SQL server (Babelfish) takes hundreds of
     * milliseconds, far longer than on SQL Server, and every recycle logs in
     * again: on sqlserver 800 requests recycling every 50 (about 16
     * recycles, ~20 s) instead of 5,000 every 100 (~65 s there). */
    bool lean = is_mssql();
    start_own("recycle", lean ? "WSMS_MAX_REQUESTS=50\n" : "WSMS_MAX_REQUESTS=100\n", 0, url,
              sizeof(url));
    long per = lean ? 200 : 1250;
    struct clients c;
    struct load_res res[4];
    long t0 = t_ms();
    clients_start(&c, 4, get_count, &per);
    clients_wait(&c, res);
    long dt = t_ms() - t0;
    long total = 0, failed = 0;
    for (int i = 0; i < 4; i++) {
        total += res[i].total;
        failed += res[i].bad + res[i].noresp;
        ck_assert_msg(res[i].bad == 0 && res[i].noresp == 0, "client %d: %ld failed; first: %s", i,
                      res[i].bad + res[i].noresp, res[i].first_bad);
    }
    ck_assert_int_eq(total, 4 * per);
    /* workers did recycle: about one in a hundred requests */
    tc_stack_dir("recycle", dir, sizeof(dir));
    snprintf(log, sizeof(log), "%s/wsmsd.log", dir);
    long recycled = count_lines(log, "requests; recycling");
    printf("faults: WSMS_MAX_REQUESTS=%d: %ld requests in %ld ms, %ld failed, %ld recycles\n",
           lean ? 50 : 100, total, dt, failed, recycled);
    ck_assert_int_ge(recycled, lean ? 12 : 40);
    tc_stack_stop("recycle");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("workers");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, sigkill_worker_during_gets);
    tcase_add_test(tc, sigkill_worker_during_create);
    suite_add_tcase(s, tc);

    TCase *pg = tcase_create("database");
    tcase_set_timeout(pg, 90);
    /* unchecked: runs in the runner even when the test died */
    tcase_add_unchecked_fixture(pg, NULL, db_teardown);
    tcase_add_test(pg, database_stopped_and_resumed);
    tcase_add_test(pg, database_restart_while_idle);
    tcase_add_test(pg, sessions_killed_while_idle);
    tcase_add_test(pg, sessions_killed_mid_transaction);
    suite_add_tcase(s, pg);

    TCase *up = tcase_create("upstream");
    tcase_set_timeout(up, 90);
    tcase_add_unchecked_fixture(up, NULL, fake_stop);
    tcase_add_test(up, stalled_integration_isolated);
    suite_add_tcase(s, up);

    TCase *pool = tcase_create("pool");
    tcase_set_timeout(pool, 180);
    tcase_add_test(pool, sigterm_pool_under_load);
    tcase_add_test(pool, recycling_under_load);
    suite_add_tcase(s, pool);
    return s;
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 1;
    /* figures printed by a test survive its failure */
    setvbuf(stdout, NULL, _IONBF, 0);
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    /* whatever happened: the run's cluster is up, nothing of ours runs */
    if (db_resume_if_paused() != 0)
        failed++;
    fake_stop();
    for (size_t i = 0; i < sizeof(stack_names) / sizeof(*stack_names); i++) {
        char dir[512];
        struct stat st;
        if (stat(tc_stack_dir(stack_names[i], dir, sizeof(dir)), &st) == 0)
            tc_stack_stop(stack_names[i]);
    }
    curl_global_cleanup();
    return failed ? 1 : 0;
}
