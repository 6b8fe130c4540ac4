#include "server/server.h"

#include "core/arena.h"
#include "auth/auth.h"
#include "auth/roles.h"
#include "core/config.h"
#include "data/db.h"
#include "data/dialect.h"
#include "core/err.h"
#include "http/hooks.h"
#include "http/http.h"
#include "auth/entra.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/ratelimit.h"
#include "http/router.h"
#include "server/cors.h"
#include "server/routes.h"
#include "core/util.h"

#include <errno.h>
#include <malloc.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <unistd.h>

#define LG "server"

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t in_request;
static volatile sig_atomic_t response_started;
static volatile int conn_fd = -1;
static char timeout_rec[1024 + 32]; /* body (<= 1023) + three FastCGI record headers */
static size_t timeout_len;
static char exec_self[512];
static char exec_fd[16];
static const char *volatile cur_route = "-";
static const char *volatile cur_stage = "idle";

static void server_set_stage(const char *stage)
{
    cur_stage = stage;
    metrics_state(cur_route, strcmp(stage, "idle") == 0 ? NULL : stage);
}

int server_listen(const char *spec, int backlog)
{
    int fd = -1;
    const char *colon = strrchr(spec, ':');
    if (spec[0] != '/' && colon) {
        struct sockaddr_in sin = {0};
        char host[64];
        size_t hl = (size_t)(colon - spec);
        if (hl >= sizeof(host))
            goto fail;
        memcpy(host, spec, hl);
        host[hl] = '\0';
        sin.sin_family = AF_INET;
        sin.sin_port = htons((unsigned short)atoi(colon + 1));
        if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
            goto fail;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            goto fail;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
            goto fail;
    } else {
        struct sockaddr_un sun = {0};
        sun.sun_family = AF_UNIX;
        if (strlen(spec) >= sizeof(sun.sun_path))
            goto fail;
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", spec);
        unlink(spec);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            goto fail;
        if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
            goto fail;
        chmod(spec, 0660);
    }
    if (listen(fd, backlog) != 0)
        goto fail;
    return fd;
fail:
    log_error(LG, "cannot listen on %s: %s", spec, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static const char *status_text(int st)
{
    switch (st) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}

/* Pre-encodes the FastCGI records of a 504 answer so the SIGALRM handler
 * can send it with write() alone. */
static void build_timeout_record(int fcgi_id, const char *rid, const char *origin)
{
    char body[1024], cors[512] = "";
    /* an allowed origin gets its CORS headers on this answer too */
    if (cors_enabled() && strlen(origin ? origin : "") < 256)
        snprintf(cors, sizeof(cors),
                 cors_origin_allowed(origin) ? "Vary: Origin\r\nAccess-Control-Allow-Origin: %s\r\n"
                                               "Access-Control-Expose-Headers: " CORS_EXPOSE_HEADERS
                                               "\r\n%s"
                                             : "Vary: Origin\r\n",
                 origin ? origin : "",
                 config_get()->cors_allow_credentials ? "Access-Control-Allow-Credentials: true\r\n"
                                                      : "");
    int n = snprintf(body, sizeof(body),
                     "Status: 504 Gateway Timeout\r\nContent-Type: application/json\r\n"
                     "X-Request-Id: %s\r\n%s\r\n{\"error_code\":\"REQUEST_TIMEOUT\","
                     "\"message\":\"The request took too long and was stopped\"}",
                     rid, cors);
    timeout_len = 0;
    if (n <= 0 || (size_t)n >= sizeof(body))
        return;
    unsigned char *p = (unsigned char *)timeout_rec;
    size_t o = 0;
    /* FCGI_STDOUT with the answer, an empty FCGI_STDOUT, FCGI_END_REQUEST */
    const unsigned char hdr[8] = {1,
                                  6,
                                  (unsigned char)(fcgi_id >> 8),
                                  (unsigned char)fcgi_id,
                                  (unsigned char)(n >> 8),
                                  (unsigned char)n,
                                  0,
                                  0};
    memcpy(p + o, hdr, 8);
    o += 8;
    memcpy(p + o, body, (size_t)n);
    o += (size_t)n;
    const unsigned char eos[8] = {1, 6, (unsigned char)(fcgi_id >> 8), (unsigned char)fcgi_id, 0, 0,
                                  0, 0};
    memcpy(p + o, eos, 8);
    o += 8;
    const unsigned char end[16] = {
        1, 3, (unsigned char)(fcgi_id >> 8), (unsigned char)fcgi_id, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0};
    memcpy(p + o, end, 16);
    o += 16;
    timeout_len = o;
}

static void write_str(int fd, const char *s)
{
    ssize_t r = write(fd, s, strlen(s));
    (void)r;
}

static void reexec(void)
{
    char *args[] = {exec_self, "--fd", exec_fd, NULL};
    execv("/proc/self/exe", args);
    _exit(75);
}

static volatile sig_atomic_t slow_pending;
static volatile unsigned timeout_left;

static void on_alarm(int sig)
{
    (void)sig;
    if (!in_request)
        return;
    if (slow_pending) {
        /* the slow-log mark passed; the request may still finish in time */
        slow_pending = 0;
        write_str(2, "wsmsd - server - WARNING - slow request: route ");
        write_str(2, cur_route);
        write_str(2, " still in stage ");
        write_str(2, cur_stage);
        write_str(2, "\n");
        if (timeout_left > 0) {
            alarm(timeout_left);
            return;
        }
    }
    write_str(2, "wsmsd - server - ERROR - request timed out in route ");
    write_str(2, cur_route);
    write_str(2, " at stage ");
    write_str(2, cur_stage);
    write_str(2, "; answering 504 and replacing this worker\n");
    int fd = conn_fd;
    if (fd >= 0) {
        if (!response_started && timeout_len) {
            ssize_t r = write(fd, timeout_rec, timeout_len);
            (void)r;
        }
        close(fd);
    }
    reexec();
}

static void on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_term;
    sa.sa_flags = 0; /* no SA_RESTART: interrupt poll/accept */
    if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) ||
        sigaction(SIGHUP, &sa, NULL))
        return -1;
    sa.sa_handler = on_alarm;
    if (sigaction(SIGALRM, &sa, NULL))
        return -1;
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL))
        return -1;
    /* a respawned/exec'd worker must not inherit blocked signals */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    return 0;
}

static void set_alarm(long seconds)
{
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = seconds;
    setitimer(ITIMER_REAL, &it, NULL);
}

static bool sane_request_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* Reads exactly len bytes of body. -1 when the client sent fewer. */
static int read_body(FCGX_Request *r, struct request *rq, long len)
{
    char *buf = arena_alloc(rq->arena, (size_t)len + 1);
    if (!buf)
        return -1;
    long got = 0;
    while (got < len) {
        int n = FCGX_GetStr(buf + got, (int)(len - got), r->in);
        if (n <= 0)
            return -1;
        got += n;
    }
    buf[len] = '\0';
    rq->body = buf;
    rq->body_len = (size_t)len;
    return 0;
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Parses the request line parts, body and route. Returns WSMS_OK or an
 * error already recorded in rs. */
static wsms_err prepare(FCGX_Request *r, struct request *rq, struct response *rs)
{
    const struct config *cfg = config_get();
    const char *uri = FCGX_GetParam("REQUEST_URI", r->envp);
    if (!rq->method || !*rq->method || !uri || uri[0] != '/')
        return resp_error(rs, E_INVALID_REQUEST, "Malformed request line");
    const char *qm = strchr(uri, '?');
    size_t plen = qm ? (size_t)(qm - uri) : strlen(uri);
    char *path = http_decode_path(rq->arena, uri, plen);
    if (!path)
        return resp_error(rs, E_INVALID_REQUEST, "Malformed path");
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return resp_error(rs, E_INVALID_REQUEST, "Malformed path");
    size_t n = strlen(path);
    if (n > 1 && path[n - 1] == '/')
        path[n - 1] = '\0';
    rq->path = path;
    rq->query = qm ? qm + 1 : "";

    const char *cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);
    long len = 0;
    if (cl && *cl) {
        char *end;
        errno = 0;
        len = strtol(cl, &end, 10);
        if (*end || errno || len < 0)
            return resp_error(rs, E_INVALID_REQUEST, "Malformed Content-Length");
    }
    if (len > cfg->max_body_bytes)
        return resp_error(rs, E_PAYLOAD_TOO_LARGE, NULL);

    char allow[64];
    wsms_err e;
    size_t nroutes;
    const struct route *table = routes_table(&nroutes);
    /* HEAD is GET without the body (write_response leaves it out) */
    const char *as = strcmp(rq->method, "HEAD") == 0 ? "GET" : rq->method;
    rq->route =
        router_match(table, nroutes, rq->arena, as, rq->path, rq->cap, &e, allow, sizeof(allow));
    if (!rq->route && e == E_METHOD_NOT_ALLOWED && strcmp(rq->method, "OPTIONS") == 0)
        return cors_preflight(rq, rs, allow); /* no route: no auth, no database */
    if (!rq->route) {
        if (e == E_METHOD_NOT_ALLOWED && resp_header(rq, rs, "Allow", allow) != 0)
            return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        return resp_error(rs, e, e == E_NOT_FOUND ? "No such path" : NULL);
    }
    cur_route = rq->route->name;
    if ((e = req_check_query(rq, rs)) != WSMS_OK)
        return e;
    if (len > 0) {
        server_set_stage("reading body");
        if (read_body(r, rq, len) != 0)
            return resp_error(rs, E_INVALID_REQUEST, "Request body is shorter than Content-Length");
        if (!is_json_type(rq->content_type))
            return resp_error(rs, E_INVALID_REQUEST, "Content-Type must be application/json");
    }
    return WSMS_OK;
}

static void error_body(struct request *rq, struct response *rs)
{
    wsms_err e = rs->err ? rs->err : E_INTERNAL_SERVER_ERROR;
    int status = err_status(e);
    if (status >= 500)
        log_error("errors", "%s %s -> %d %s", rq->method ? rq->method : "-",
                  rq->path ? rq->path : "-", status, err_code(e));
    else
        log_info("errors", "%s %s -> %d %s%s%s", rq->method ? rq->method : "-",
                 rq->path ? rq->path : "-", status, err_code(e), rs->err_msg ? ": " : "",
                 rs->err_msg ? rs->err_msg : "");
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "error_code", err_code(e)) ||
        !cJSON_AddStringToObject(j, "message", rs->err_msg ? rs->err_msg : err_message(e)))
        goto fallback;
    if (rs->details && resp_has_details(rs)) {
        cJSON *d = cJSON_Duplicate(rs->details, 1);
        if (!d || !cJSON_AddItemToObject(j, "details", d)) {
            cJSON_Delete(d);
            goto fallback;
        }
    }
    rs->err = WSMS_OK;
    if (resp_json(rq, rs, status, j) == WSMS_OK)
        return;
    j = NULL;
fallback:
    cJSON_Delete(j);
    rs->status = status;
    rs->body = "{\"error_code\":\"INTERNAL_SERVER_ERROR\",\"message\":\"Internal server error\"}";
    rs->body_len = strlen(rs->body);
    rs->content_type = "application/json";
}

static void write_response(FCGX_Request *r, struct request *rq, struct response *rs)
{
    response_started = 1;
    server_set_stage("writing");
    FCGX_FPrintF(r->out, "Status: %d %s\r\n", rs->status, status_text(rs->status));
    if (rs->content_type)
        FCGX_FPrintF(r->out, "Content-Type: %s\r\n", rs->content_type);
    FCGX_FPrintF(r->out, "X-Request-Id: %s\r\n", rq->request_id);
    for (int i = 0; i < rs->nheaders; i++)
        FCGX_FPrintF(r->out, "%s: %s\r\n", rs->headers[i].name, rs->headers[i].value);
    FCGX_PutS("\r\n", r->out);
    if (rs->body_len && !(rq->method && strcmp(rq->method, "HEAD") == 0))
        FCGX_PutStr(rs->body, (int)rs->body_len, r->out);
}

/* Names the pool counters' labels: routes by table index, database error
 * classes by value (the counters themselves know neither). */
static void label_metrics(void)
{
    static const char *names[METRICS_MAX_ROUTES];
    size_t n, nclass;
    const struct route *t = routes_table(&n);
    if (n > METRICS_MAX_ROUTES) {
        log_warn(LG, "%zu routes, metrics keep the first %d", n, METRICS_MAX_ROUTES);
        n = METRICS_MAX_ROUTES;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = t[i].name;
    metrics_label_routes(names, n);
    const char *const *cls = dialect_errclass_names(&nclass);
    metrics_label_db_errors(cls, nclass);
}

/* A one-statement read (auth/roles.h) that answered without reading the
 * caller's role: an error it found first (a bad query parameter or id) is
 * answered only after the role check, so that callers get the same 401,
 * 403 and 404 as on other routes (one statement more, on that error path
 * only); a success without the check is a bug, answered 500. */
static wsms_err after_deferred(struct request *rq, struct response *rs, wsms_err e)
{
    if (e == WSMS_OK) {
        log_error(LG, "%s answered without checking the caller's role", rq->route->name);
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    }
    wsms_err a = roles_check(rq);
    if (a == WSMS_OK)
        return e;
    rs->details = NULL;
    rs->err_msg = NULL;
    rs->nheaders = 0;
    return resp_error(rs, a, NULL);
}

static void handle(FCGX_Request *r, struct arena *a)
{
    struct request rq;
    struct response rs;
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    rq.arena = a;
    rq.set_stage = server_set_stage;
    rq.params = r->envp;
    rq.start_ms = mono_ms();
    int64_t start_us = mono_us();
    rq.method = FCGX_GetParam("REQUEST_METHOD", r->envp);
    rq.remote_addr = FCGX_GetParam("REMOTE_ADDR", r->envp);
    rq.content_type = FCGX_GetParam("CONTENT_TYPE", r->envp);
    const char *rid = req_header(&rq, "X-Request-Id");
    char gen[GUID_LEN + 1];
    if (!sane_request_id(rid)) {
        if (guid_new(gen) != 0)
            snprintf(gen, sizeof(gen), "%lld", (long long)now_ms());
        rid = gen;
    }
    rq.request_id = arena_strdup(a, rid);
    if (!rq.request_id)
        rq.request_id = "-";
    log_set_request_id(rq.request_id);
    build_timeout_record(r->requestId, rq.request_id, req_header(&rq, "Origin"));
    cur_route = "-";

    long stmts_before = db_statement_count();
    wsms_err e = prepare(r, &rq, &rs);
    if (e == WSMS_OK && rq.route && rq.route->auth != AUTH_NONE) {
        server_set_stage("auth");
        e = auth_request(&rq, &rs);
    }
    if (e == WSMS_OK && rq.route) {
        server_set_stage("handler");
        hook_pause(&rq, "handler");
        e = rq.route->handler(&rq, &rs);
        if (!rq.role_checked &&
            (rq.route->auth == AUTH_WORKSPACE_READ || rq.route->auth == AUTH_USER_READ))
            e = after_deferred(&rq, &rs, e);
    }
    if (e != WSMS_OK) {
        if (!rs.err)
            rs.err = e;
        error_body(&rq, &rs);
    } else if (rs.status == 0) {
        rs.err = E_INTERNAL_SERVER_ERROR;
        error_body(&rq, &rs);
    }
    if (config_get()->test_hooks) {
        char n[24];
        snprintf(n, sizeof(n), "%ld", db_statement_count() - stmts_before);
        resp_header(&rq, &rs, "X-DB-Statements", n);
    }
    if (cors_response_headers(&rq, &rs) != 0)
        log_warn(LG, "CORS headers did not fit the response");
    if (db_in_transaction()) {
        log_error(LG, "a transaction was left open by %s; rolling back",
                  rq.route ? rq.route->name : "-");
        db_rollback();
    }
    write_response(r, &rq, &rs);
    double ms = (double)(mono_us() - start_us) / 1000.0;
    size_t nroutes;
    const struct route *table = routes_table(&nroutes);
    metrics_request(rq.route ? (int)(rq.route - table) : -1, rs.status, ms);
    long verifs, hits, fetches;
    entra_stats(&verifs, &hits, &fetches);
    metrics_jwks_fetches(fetches);
    if (config_get()->slowlog_s > 0 && ms >= (double)config_get()->slowlog_s * 1000.0)
        log_warn("slowlog", "%s %s took %.0f ms (route %s)", rq.method ? rq.method : "-",
                 rq.path ? rq.path : "-", ms, rq.route ? rq.route->name : "-");
    log_info("access", "%s %s %d %.1fms user=%s", rq.method ? rq.method : "-",
             rq.path ? rq.path : "-", rs.status, ms,
             rq.authenticated && rq.user.user_id ? rq.user.user_id : "-");
    log_set_request_id(NULL);
}

int server_worker(int listen_fd, const char *self)
{
    int rc = 1;
    struct arena *a = NULL;
    FCGX_Request req;
    bool req_init = false;
    long served = 0;
    const struct config *cfg = config_get();

    snprintf(exec_self, sizeof(exec_self), "%s", self ? self : "wsmsd");
    snprintf(exec_fd, sizeof(exec_fd), "%d", listen_fd);
    if (install_signals() != 0)
        goto out;
    int fl = fcntl(listen_fd, F_GETFL);
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        log_error(LG, "listening socket %d is not usable: %s", listen_fd, strerror(errno));
        goto out;
    }
    int fdfl = fcntl(listen_fd, F_GETFD);
    if (fdfl >= 0)
        fcntl(listen_fd, F_SETFD, fdfl & ~FD_CLOEXEC);
    if (FCGX_Init() != 0) {
        log_error(LG, "FCGX_Init failed");
        goto out;
    }
    if (FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        log_error(LG, "FCGX_InitRequest failed");
        goto out;
    }
    req_init = true;
    /* libfcgi ends a connection with shutdown() and then waits (select,
     * up to 2 s) for the peer to close its side, so that unread bytes do
     * not turn the close into a TCP reset that loses the response; each
     * request's end then waits on nginx. A Unix socket has no reset (the
     * answer stays readable after close), so there a worker closes at
     * once: a detached request is closed without the wait. */
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    bool plain_close =
        getsockname(listen_fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_UNIX;
    /* A fixed mmap threshold: blocks of 256 KB and more (a large page's
     * arena blocks, a long value's fetch buffer) are mapped and unmapped
     * with their free, and more than 512 KB free at the heap's top goes
     * back to the kernel; glibc's default threshold rises to the largest
     * block freed, so one large request would stay in the worker's RSS.
     * Not lower: FreeTDS allocates a statement's row buffer (every column
     * at its declared size, 176 KB for GET /workspaces/{id}) on each
     * execution; mapped anew each time (at 64 KB), its page faults and
     * munmap took 15% of a worker's CPU. */
    if (mallopt(M_MMAP_THRESHOLD, 256 * 1024) != 1 || mallopt(M_TRIM_THRESHOLD, 512 * 1024) != 1)
        log_warn(LG, "mallopt failed; glibc's default heap thresholds apply");
    label_metrics();
    metrics_init();
    ratelimit_init();
    a = arena_new(0);
    if (!a) {
        log_error(LG, "out of memory");
        goto out;
    }
    log_info(LG, "worker %d ready (fd %d)", (int)getpid(), listen_fd);
    while (!stop_flag) {
        arena_reset(a);
        struct pollfd pfd = {listen_fd, POLLIN, 0};
        int pr = poll(&pfd, 1, 1000);
        if (pr <= 0)
            continue;
        if (FCGX_Accept_r(&req) < 0)
            continue; /* another worker took it, or interrupted */
        conn_fd = req.ipcFd;
        response_started = 0;
        in_request = 1;
        if (cfg->slowlog_s > 0 && cfg->slowlog_s < cfg->request_timeout_s) {
            slow_pending = 1;
            timeout_left = (unsigned)(cfg->request_timeout_s - cfg->slowlog_s);
            set_alarm(cfg->slowlog_s);
        } else {
            slow_pending = 0;
            set_alarm(cfg->request_timeout_s);
        }
        handle(&req, a);
        set_alarm(0);
        alarm(0);
        in_request = 0;
        server_set_stage("idle");
        cur_route = "-";
        if (plain_close && FCGX_Detach(&req) != 0)
            log_warn(LG, "FCGX_Detach failed; the connection closes with libfcgi's wait");
        FCGX_Finish_r(&req);
        conn_fd = -1;
        served++;
        if (cfg->max_requests > 0 && served >= cfg->max_requests && !stop_flag) {
            log_info(LG, "worker %d served %ld requests; recycling", (int)getpid(), served);
            arena_free(a);
            a = NULL;
            db_close();
            metrics_close();
            ratelimit_close();
            reexec();
        }
    }
    log_info(LG, "worker %d stopping after %ld requests", (int)getpid(), served);
    rc = 0;
out:
    if (req_init)
        FCGX_Free(&req, 0);
    arena_free(a);
    return rc;
}
