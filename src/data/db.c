#include "data/db.h"

#include "core/arena.h"
#include "data/dialect.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sql.h>
#include <sqlext.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define LG         "db"
#define CACHE_MAX  64
#define MAX_PARAMS DB_MAX_PARAMS
#define MAX_COLS   64

/* One bound parameter of a cached statement. Its buffers stay where they
 * are from one execution to the next and SQLBindParameter runs again only
 * when the binding itself changes (type, column size or a buffer that had
 * to grow): FreeTDS prepares a statement anew (sp_prepexec + sp_unprepare)
 * after every SQLBindParameter, but executes it by handle (sp_execute)
 * while the bindings stay put (README "Databases"). */
struct bound {
    bool bound;
    SQLSMALLINT ctype, sqltype, digits;
    SQLULEN colsz;
    SQLWCHAR *w; /* string parameters: UTF-16, wcap code units */
    size_t wcap;
    SQLLEN ind;
    long long ll;
    SQL_TIMESTAMP_STRUCT ts;
};

struct cached {
    char *sql;
    SQLHSTMT h;
    unsigned long used;
    int nparams;       /* parameters bound on h */
    struct bound *prm; /* nparams of them, owned */
};

static SQLHENV henv = SQL_NULL_HENV;
static SQLHDBC hdbc = SQL_NULL_HDBC;
static bool connected;
static bool in_tx;
static struct cached cache[CACHE_MAX];
static unsigned long use_clock;
static long stmt_count;
/* The buffer columns are read into as UTF-16 (module-owned, freed by
 * db_close): it grows for a long value up to FETCH_MAX units and goes back
 * to FETCH_KEEP units after the query that grew it. */
#define FETCH_KEEP 1024
#define FETCH_MAX  (8 * 1024 * 1024)
static SQLWCHAR *fetch_buf;
static size_t fetch_cap;

long db_statement_count(void)
{
    return stmt_count;
}

enum db_type db_type(void)
{
    return config_get()->db_type;
}

bool db_in_transaction(void)
{
    return in_tx;
}

/* Logs the driver's diagnostics and classifies them. */
static enum db_errclass diag(SQLSMALLINT type, SQLHANDLE h, const char *what)
{
    enum db_errclass cls = DBE_OTHER;
    SQLCHAR state[6], msg[512];
    SQLINTEGER native;
    SQLSMALLINT len;
    for (SQLSMALLINT i = 1; i <= 5; i++) {
        if (!SQL_SUCCEEDED(SQLGetDiagRec(type, h, i, state, &native, msg, sizeof(msg), &len)))
            break;
        enum db_errclass c =
            dialect_classify(db_type(), (const char *)state, (long)native, (const char *)msg);
        if (i == 1 || c == DBE_CONNECTION)
            cls = c;
        /* a constraint conflict is an expected answer (409), not a fault */
        log_msg(c == DBE_CONFLICT ? LOG_INFO : LOG_ERROR, LG,
                "%s failed: SQLSTATE %s native %ld: %s", what, state, (long)native, msg);
    }
    /* A session the server ended (KILL, failover, restart) can first come
     * back as a generic error (FreeTDS: HY000 native 0 "Unknown error") and
     * only at the next statement as 08S01; the driver knows already. */
    SQLUINTEGER dead = SQL_CD_FALSE;
    if (cls == DBE_OTHER && connected && hdbc != SQL_NULL_HDBC &&
        SQL_SUCCEEDED(SQLGetConnectAttr(hdbc, SQL_ATTR_CONNECTION_DEAD, &dead, 0, NULL)) &&
        dead == SQL_CD_TRUE) {
        log_warn(LG, "%s: the driver reports the connection dead", what);
        cls = DBE_CONNECTION;
    }
    metrics_db_error((int)cls);
    return cls;
}

static wsms_err class_err(enum db_errclass c)
{
    return c == DBE_CONNECTION ? E_DATABASE_CONNECTION_ERROR
           : c == DBE_CONFLICT ? E_CONFLICT
                               : E_DB_QUERY_FAILED;
}

static void bound_free(struct cached *c)
{
    for (int i = 0; i < c->nparams; i++)
        free(c->prm[i].w);
    free(c->prm);
    c->prm = NULL;
    c->nparams = 0;
}

static void slot_free(struct cached *c)
{
    if (c->sql) {
        SQLFreeHandle(SQL_HANDLE_STMT, c->h);
        free(c->sql);
    }
    bound_free(c);
    memset(c, 0, sizeof(*c));
}

static void cache_clear(void)
{
    for (int i = 0; i < CACHE_MAX; i++)
        slot_free(&cache[i]);
}

/* SQLite's writers, one at a time anyway (BEGIN IMMEDIATE), queue on an
 * flock of DB_PATH/pmassist_master.db.wlock from before BEGIN IMMEDIATE to
 * after COMMIT/ROLLBACK: a waiting worker sleeps in the kernel and takes
 * the lock as soon as the holder lets go, where SQLite's busy handler
 * would poll with sleeps of 1 to 100 ms (the p99 of write-heavy loads).
 * Processes that do not take it (the sqlite3 shell) still only meet
 * SQLite's own locking. The descriptor is close-on-exec, and the kernel
 * drops the lock with the process: a worker replaced after a timeout or
 * killed never leaves it held. When the file cannot be opened, SQLite's
 * busy handling alone serialises the writers. */
static int wlock_fd = -1;
static bool wlock_held;

static void wlock_take(void)
{
    if (wlock_fd < 0) {
        char path[4096];
        int w = snprintf(path, sizeof(path), "%s/pmassist_master.db.wlock", config_get()->db_path);
        if (w < 0 || (size_t)w >= sizeof(path))
            return;
        wlock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (wlock_fd < 0) {
            log_warn(LG, "write lock file %s: %s; relying on SQLite's busy handler", path,
                     strerror(errno));
            return;
        }
    }
    while (flock(wlock_fd, LOCK_EX) != 0)
        if (errno != EINTR)
            return;
    wlock_held = true;
}

static void wlock_release(void)
{
    if (wlock_held && flock(wlock_fd, LOCK_UN) != 0)
        log_warn(LG, "write lock release: %s", strerror(errno));
    wlock_held = false;
}

void db_close(void)
{
    wlock_release();
    cache_clear();
    free(fetch_buf);
    fetch_buf = NULL;
    fetch_cap = 0;
    if (hdbc != SQL_NULL_HDBC) {
        if (connected)
            SQLDisconnect(hdbc);
        SQLFreeHandle(SQL_HANDLE_DBC, hdbc);
        hdbc = SQL_NULL_HDBC;
    }
    if (henv != SQL_NULL_HENV) {
        SQLFreeHandle(SQL_HANDLE_ENV, henv);
        henv = SQL_NULL_HENV;
    }
    connected = false;
    in_tx = false;
}

/* A string parameter's buffer stays allocated for the next execution up
 * to this many code units (4 KB); a longer one is freed after its
 * statement ran and the parameter bound anew next time, so the cache's
 * buffers stay small (at most CACHE_MAX x MAX_PARAMS x 4 KB, in practice
 * a few hundred bytes per statement). */
#define WIDE_KEEP 2048
#define WIDE_MIN  64

/* UTF-8 -> UTF-16 (SQLWCHAR) into b->w, grown when too small (*moved then
 * true: the buffer must be bound again); *chars = code units. -1 on
 * invalid UTF-8, -2 on no memory. */
static int to_wide(struct bound *b, const char *s, SQLLEN *chars, bool *moved)
{
    size_t n = strlen(s);
    size_t need = n + 1; /* UTF-16 never needs more units than UTF-8 bytes */
    if (need > b->wcap) {
        size_t cap = b->wcap ? b->wcap : WIDE_MIN;
        while (cap < need)
            cap *= 2;
        SQLWCHAR *w = malloc(cap * sizeof(SQLWCHAR));
        if (!w)
            return -2;
        free(b->w);
        b->w = w;
        b->wcap = cap;
        *moved = true;
    }
    SQLWCHAR *w = b->w;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        int extra;
        if (*p < 0x80) {
            cp = *p;
            extra = 0;
        } else if ((*p & 0xe0) == 0xc0) {
            cp = *p & 0x1f;
            extra = 1;
        } else if ((*p & 0xf0) == 0xe0) {
            cp = *p & 0x0f;
            extra = 2;
        } else if ((*p & 0xf8) == 0xf0) {
            cp = *p & 0x07;
            extra = 3;
        } else {
            return -1;
        }
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (*p & 0x3f);
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            w[o++] = (SQLWCHAR)(0xd800 + (cp >> 10));
            w[o++] = (SQLWCHAR)(0xdc00 + (cp & 0x3ff));
        } else {
            w[o++] = (SQLWCHAR)cp;
        }
    }
    w[o] = 0;
    *chars = (SQLLEN)o;
    return 0;
}

/* UTF-16 -> UTF-8 into the arena. */
static char *from_wide(struct arena *a, const SQLWCHAR *w, size_t n)
{
    char *out = arena_alloc(a, n * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = w[i];
        if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n && w[i + 1] >= 0xdc00 && w[i + 1] <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (w[i + 1] - 0xdc00);
            i++;
        }
        if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cp < 0x800) {
            out[o++] = (char)(0xc0 | (cp >> 6));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xe0 | (cp >> 12));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        } else {
            out[o++] = (char)(0xf0 | (cp >> 18));
            out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    out[o] = '\0';
    return out;
}

void db_param_s(struct db_params *p, const char *s)
{
    if (p->n >= DB_MAX_PARAMS) {
        p->overflow = true;
        return;
    }
    p->v[p->n].type = 's';
    p->v[p->n++].s = s;
}

void db_param_i(struct db_params *p, long long i)
{
    if (p->n >= DB_MAX_PARAMS) {
        p->overflow = true;
        return;
    }
    p->v[p->n].type = 'i';
    p->v[p->n++].i = i;
}

void db_param_t(struct db_params *p, int64_t t)
{
    if (p->n >= DB_MAX_PARAMS) {
        p->overflow = true;
        return;
    }
    p->v[p->n].type = 't';
    p->v[p->n++].t = t;
}

/* The variadic arguments of `types` as a parameter list. */
static wsms_err collect_params(struct db_params *out, const char *types, va_list ap)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; types[i]; i++) {
        switch (types[i]) {
        case 's':
            db_param_s(out, va_arg(ap, const char *));
            break;
        case 'i':
            db_param_i(out, va_arg(ap, long long));
            break;
        case 'b':
            db_param_i(out, va_arg(ap, int) ? 1 : 0);
            if (out->n > 0)
                out->v[out->n - 1].type = 'b';
            break;
        case 't':
            db_param_t(out, va_arg(ap, int64_t));
            break;
        default:
            log_error(LG, "unknown parameter type '%c'", types[i]);
            return E_INTERNAL_SERVER_ERROR;
        }
    }
    return out->overflow ? E_INTERNAL_SERVER_ERROR : WSMS_OK;
}

/* Binds b (parameter idx of h) unless it is bound as asked already. */
static SQLRETURN bind_one(SQLHSTMT h, SQLUSMALLINT idx, struct bound *b, SQLSMALLINT ctype,
                          SQLSMALLINT sqltype, SQLULEN colsz, SQLSMALLINT digits, void *buf,
                          SQLLEN buflen, bool moved)
{
    if (b->bound && !moved && b->ctype == ctype && b->sqltype == sqltype && b->colsz == colsz &&
        b->digits == digits)
        return SQL_SUCCESS;
    b->bound = false;
    SQLRETURN r = SQLBindParameter(h, idx, SQL_PARAM_INPUT, ctype, sqltype, colsz, digits, buf,
                                   buflen, &b->ind);
    if (SQL_SUCCEEDED(r)) {
        b->bound = true;
        b->ctype = ctype;
        b->sqltype = sqltype;
        b->colsz = colsz;
        b->digits = digits;
    }
    return r;
}

/* Puts this execution's values into c's parameter buffers, binding what
 * is not bound that way yet. */
static wsms_err bind_params(struct cached *c, const struct db_params *in)
{
    SQLHSTMT h = c->h;
    if (in->overflow || in->n > MAX_PARAMS)
        return E_INTERNAL_SERVER_ERROR;
    if (in->n != c->nparams) {
        SQLFreeStmt(h, SQL_RESET_PARAMS);
        bound_free(c);
        if (in->n > 0) {
            c->prm = calloc((size_t)in->n, sizeof(*c->prm));
            if (!c->prm)
                return E_INTERNAL_SERVER_ERROR;
        }
        c->nparams = in->n;
    }
    for (int i = 0; i < in->n; i++) {
        const struct db_param *v = &in->v[i];
        struct bound *b = &c->prm[i];
        SQLUSMALLINT idx = (SQLUSMALLINT)(i + 1);
        SQLRETURN r;
        switch (v->type) {
        case 's': {
            /* NULL and values alike go through the same buffer, so that a
             * NULL in one execution does not change the binding */
            bool moved = false;
            SQLLEN chars = 0;
            int rc = to_wide(b, v->s ? v->s : "", &chars, &moved);
            if (rc == -2)
                return E_INTERNAL_SERVER_ERROR;
            if (rc != 0) {
                log_error(LG, "parameter %d is not valid UTF-8", i + 1);
                return E_INVALID_REQUEST;
            }
            b->ind = v->s ? chars * (SQLLEN)sizeof(SQLWCHAR) : SQL_NULL_DATA;
            /* column size: 4000 keeps NVARCHAR(n) semantics; longer values
             * go as NVARCHAR(MAX) */
            SQLULEN colsz = chars > 4000 ? (SQLULEN)chars : 4000;
            r = bind_one(h, idx, b, SQL_C_WCHAR, SQL_WVARCHAR, colsz, 0, b->w,
                         (SQLLEN)(b->wcap * sizeof(SQLWCHAR)), moved);
            break;
        }
        case 'i':
        case 'b':
            b->ll = v->i;
            b->ind = 0;
            r = bind_one(h, idx, b, SQL_C_SBIGINT, v->type == 'b' ? SQL_INTEGER : SQL_BIGINT, 0, 0,
                         &b->ll, 0, false);
            break;
        case 't': {
            int64_t ms = v->t;
            time_t t = (time_t)(ms / 1000);
            struct tm tm;
            gmtime_r(&t, &tm);
            SQL_TIMESTAMP_STRUCT *ts = &b->ts;
            ts->year = (SQLSMALLINT)(tm.tm_year + 1900);
            ts->month = (SQLUSMALLINT)(tm.tm_mon + 1);
            ts->day = (SQLUSMALLINT)tm.tm_mday;
            ts->hour = (SQLUSMALLINT)tm.tm_hour;
            ts->minute = (SQLUSMALLINT)tm.tm_min;
            ts->second = (SQLUSMALLINT)tm.tm_sec;
            ts->fraction = (SQLUINTEGER)((ms % 1000) * 1000000);
            b->ind = 0;
            r = bind_one(h, idx, b, SQL_C_TYPE_TIMESTAMP, SQL_TYPE_TIMESTAMP, 23, 3, ts, 0, false);
            break;
        }
        default:
            log_error(LG, "unknown parameter type '%c'", v->type);
            return E_INTERNAL_SERVER_ERROR;
        }
        if (!SQL_SUCCEEDED(r))
            return class_err(diag(SQL_HANDLE_STMT, h, "SQLBindParameter"));
    }
    return WSMS_OK;
}

/* After an execution: long string buffers are not kept (their parameter
 * is bound anew next time). */
static void params_trim(struct cached *c)
{
    for (int i = 0; i < c->nparams; i++) {
        struct bound *b = &c->prm[i];
        if (b->wcap > WIDE_KEEP) {
            free(b->w);
            b->w = NULL;
            b->wcap = 0;
            b->bound = false;
        }
    }
}

static wsms_err run_session_sql(void)
{
    const struct config *cfg = config_get();
    const char *const *sql = dialect_session_sql(cfg->db_type);
    for (; *sql; sql++) {
        wsms_err e;
        if (strchr(*sql, '?')) {
            char path[4096];
            int w = snprintf(path, sizeof(path), "%s/pmassist_master.db", cfg->db_path);
            if (w < 0 || (size_t)w >= sizeof(path))
                return E_DATABASE_CONNECTION_ERROR;
            e = db_exec(NULL, *sql, "s", path);
        } else {
            e = db_exec_direct(*sql);
        }
        if (e != WSMS_OK)
            return E_DATABASE_CONNECTION_ERROR;
    }
    return WSMS_OK;
}

wsms_err db_connect(void)
{
    static bool connecting;
    char cs[4096];
    SQLRETURN r;
    wsms_err e = E_DATABASE_CONNECTION_ERROR;
    const struct config *cfg = config_get();
    if (connected || connecting)
        return WSMS_OK;
    if (dialect_connstr(cfg, cs, sizeof(cs)) != 0) {
        log_error(LG, "connection settings are too long");
        goto out;
    }
    if (henv == SQL_NULL_HENV) {
        if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &henv)))
            goto out;
        if (!SQL_SUCCEEDED(SQLSetEnvAttr(henv, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0)))
            goto out;
    }
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, henv, &hdbc)))
        goto out;
    SQLSetConnectAttr(hdbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)(intptr_t)cfg->db_login_timeout_s,
                      0);
    SQLSetConnectAttr(hdbc, SQL_ATTR_CONNECTION_TIMEOUT,
                      (SQLPOINTER)(intptr_t)cfg->db_login_timeout_s, 0);
    r = SQLDriverConnect(hdbc, NULL, (SQLCHAR *)cs, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    memset(cs, 0, sizeof(cs));
    if (!SQL_SUCCEEDED(r)) {
        diag(SQL_HANDLE_DBC, hdbc, "connect");
        log_error(LG, "cannot connect to the %s database", config_db_type_name(cfg->db_type));
        goto out;
    }
    connected = true;
    connecting = true;
    e = run_session_sql();
    connecting = false;
    if (e != WSMS_OK)
        goto out;
    if (!dialect_sql_transactions(cfg->db_type) &&
        !SQL_SUCCEEDED(
            SQLSetConnectAttr(hdbc, SQL_ATTR_AUTOCOMMIT, (SQLPOINTER)SQL_AUTOCOMMIT_ON, 0))) {
        diag(SQL_HANDLE_DBC, hdbc, "autocommit");
        e = E_DATABASE_CONNECTION_ERROR;
        goto out;
    }
    log_info(LG, "connected to the %s database", config_db_type_name(cfg->db_type));
    return WSMS_OK;
out:
    db_close();
    return e;
}

/* The cache slot of sql, its handle prepared when new. */
static struct cached *get_stmt(const char *sql, wsms_err *e)
{
    int free_slot = -1, lru = 0;
    for (int i = 0; i < CACHE_MAX; i++) {
        if (cache[i].sql && strcmp(cache[i].sql, sql) == 0) {
            cache[i].used = ++use_clock;
            SQLFreeStmt(cache[i].h, SQL_CLOSE);
            return &cache[i];
        }
        if (!cache[i].sql && free_slot < 0)
            free_slot = i;
        if (cache[i].used < cache[lru].used)
            lru = i;
    }
    if (free_slot < 0) {
        free_slot = lru;
        slot_free(&cache[lru]);
    }
    SQLHSTMT h;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, hdbc, &h))) {
        *e = class_err(diag(SQL_HANDLE_DBC, hdbc, "SQLAllocHandle"));
        return NULL;
    }
    if (!SQL_SUCCEEDED(SQLPrepare(h, (SQLCHAR *)sql, SQL_NTS))) {
        *e = class_err(diag(SQL_HANDLE_STMT, h, "SQLPrepare"));
        SQLFreeHandle(SQL_HANDLE_STMT, h);
        return NULL;
    }
    char *copy = strdup(sql);
    if (!copy) {
        SQLFreeHandle(SQL_HANDLE_STMT, h);
        *e = E_INTERNAL_SERVER_ERROR;
        return NULL;
    }
    cache[free_slot].sql = copy;
    cache[free_slot].h = h;
    cache[free_slot].used = ++use_clock;
    return &cache[free_slot];
}

/* After an error that may have broken the connection. */
static void after_error(wsms_err e)
{
    if (e == E_DATABASE_CONNECTION_ERROR) {
        log_warn(LG, "connection lost; it will be reopened on the next request");
        db_close();
    }
}

static long tx_statements; /* statements run in the open transaction */

static wsms_err execute_once(SQLHSTMT *out, const char *sql, const struct db_params *prm)
{
    wsms_err e = db_connect();
    if (e != WSMS_OK)
        return e;
    struct cached *c = get_stmt(sql, &e);
    if (!c)
        goto out;
    e = bind_params(c, prm);
    if (e != WSMS_OK)
        goto out;
    stmt_count++;
    if (in_tx)
        tx_statements++;
    /* statement text only: every value is a bound parameter */
    if (log_get_level() <= LOG_DEBUG)
        log_debug(LG, "statement (%d parameters): %s", prm->n, sql);
    SQLRETURN r = SQLExecute(c->h);
    if (r == SQL_NO_DATA) {
        e = WSMS_OK;
    } else if (!SQL_SUCCEEDED(r)) {
        e = class_err(diag(SQL_HANDLE_STMT, c->h, "execute"));
        /* prepared anew next time: after a failed first execution
         * (sp_prepexec) FreeTDS keeps a handle the server never made, and
         * the next sp_execute fails with "Unknown error" */
        slot_free(c);
        c = NULL;
        goto out;
    }
    *out = c->h;
    e = WSMS_OK;
out:
    /* the driver has read the parameters once SQLExecute returned */
    if (c)
        params_trim(c);
    after_error(e);
    return e;
}

/* A connection that died while the worker was idle (database restarted)
 * fails only at its next statement. When that statement is the first thing
 * of a transaction, or runs outside one, nothing has happened yet: reconnect
 * and run it once more instead of failing the request. */
static wsms_err execute(SQLHSTMT *out, const char *sql, const struct db_params *prm)
{
    bool reused = connected;
    bool was_tx = in_tx;
    bool retryable = reused && (!in_tx || tx_statements == 0);
    wsms_err e = execute_once(out, sql, prm);
    if (e == E_DATABASE_CONNECTION_ERROR && retryable) {
        log_warn(LG, "retrying once on a new connection");
        e = db_connect();
        if (e == WSMS_OK && was_tx)
            e = db_begin();
        if (e == WSMS_OK)
            e = execute_once(out, sql, prm);
    }
    return e;
}

wsms_err db_exec(long *affected, const char *sql, const char *types, ...)
{
    struct db_params prm;
    va_list ap;
    va_start(ap, types);
    wsms_err e = collect_params(&prm, types, ap);
    va_end(ap);
    return e != WSMS_OK ? e : db_exec_params(affected, sql, &prm);
}

wsms_err db_exec_params(long *affected, const char *sql, const struct db_params *prm)
{
    SQLHSTMT h = SQL_NULL_HSTMT;
    wsms_err e = execute(&h, sql, prm);
    if (e != WSMS_OK)
        return e;
    if (affected) {
        SQLLEN n = 0;
        if (!SQL_SUCCEEDED(SQLRowCount(h, &n)))
            n = -1;
        *affected = (long)n;
    }
    SQLFreeStmt(h, SQL_CLOSE);
    return WSMS_OK;
}

wsms_err db_exec_direct(const char *sql)
{
    wsms_err e = db_connect();
    SQLHSTMT h = SQL_NULL_HSTMT;
    if (e != WSMS_OK)
        return e;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, hdbc, &h))) {
        e = class_err(diag(SQL_HANDLE_DBC, hdbc, "SQLAllocHandle"));
        goto out;
    }
    stmt_count++;
    SQLRETURN r = SQLExecDirect(h, (SQLCHAR *)sql, SQL_NTS);
    if (!SQL_SUCCEEDED(r) && r != SQL_NO_DATA) {
        e = class_err(diag(SQL_HANDLE_STMT, h, "execute"));
        goto out;
    }
    /* drain any result sets (a PRAGMA or a batch may produce some) */
    while (SQL_SUCCEEDED(SQLMoreResults(h)))
        ;
    e = WSMS_OK;
out:
    if (h != SQL_NULL_HSTMT)
        SQLFreeHandle(SQL_HANDLE_STMT, h);
    after_error(e);
    return e;
}

static void fetch_buf_trim(void)
{
    if (fetch_cap > FETCH_KEEP) {
        free(fetch_buf);
        fetch_buf = NULL;
        fetch_cap = 0;
    }
}

/* digits of v, zero padded to width w, at *o */
static void put_digits(char **o, unsigned v, int w)
{
    for (int i = w - 1; i >= 0; i--) {
        (*o)[i] = (char)('0' + v % 10);
        v /= 10;
    }
    *o += w;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (no printf: a page has hundreds of these) */
static char *format_ts(struct arena *a, const SQL_TIMESTAMP_STRUCT *ts)
{
    char *out = arena_alloc(a, 25), *o = out;
    if (!out)
        return NULL;
    int y = ts->year;
    put_digits(&o, (unsigned)(y < 0 ? 0 : y > 9999 ? 9999 : y), 4);
    *o++ = '-';
    put_digits(&o, ts->month % 100u, 2);
    *o++ = '-';
    put_digits(&o, ts->day % 100u, 2);
    *o++ = 'T';
    put_digits(&o, ts->hour % 100u, 2);
    *o++ = ':';
    put_digits(&o, ts->minute % 100u, 2);
    *o++ = ':';
    put_digits(&o, ts->second % 100u, 2);
    *o++ = '.';
    put_digits(&o, (ts->fraction / 1000000u) % 1000u, 3);
    *o++ = 'Z';
    *o = '\0';
    return out;
}

/* a uniqueidentifier in its canonical lowercase text */
static char *format_guid(struct arena *a, const SQLGUID *g)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(g->Data1 >> (24 - 8 * i));
    b[4] = (unsigned char)(g->Data2 >> 8);
    b[5] = (unsigned char)g->Data2;
    b[6] = (unsigned char)(g->Data3 >> 8);
    b[7] = (unsigned char)g->Data3;
    memcpy(b + 8, g->Data4, 8);
    char *out = arena_alloc(a, 37), *o = out;
    if (!out)
        return NULL;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
    return out;
}

static char *fetch_col(struct arena *a, SQLHSTMT h, SQLUSMALLINT col, SQLSMALLINT type,
                       bool *isnull, wsms_err *e)
{
    SQLLEN ind = 0;
    *isnull = false;
    if (type == SQL_TYPE_TIMESTAMP || type == SQL_TIMESTAMP || type == SQL_TYPE_DATE) {
        SQL_TIMESTAMP_STRUCT ts;
        memset(&ts, 0, sizeof(ts));
        if (!SQL_SUCCEEDED(SQLGetData(h, col, SQL_C_TYPE_TIMESTAMP, &ts, sizeof(ts), &ind))) {
            *e = class_err(diag(SQL_HANDLE_STMT, h, "fetch"));
            return NULL;
        }
        if (ind == SQL_NULL_DATA) {
            *isnull = true;
            return NULL;
        }
        return format_ts(a, &ts);
    }
    if (type == SQL_GUID) {
        SQLGUID g;
        memset(&g, 0, sizeof(g));
        if (!SQL_SUCCEEDED(SQLGetData(h, col, SQL_C_GUID, &g, sizeof(g), &ind))) {
            *e = class_err(diag(SQL_HANDLE_STMT, h, "fetch"));
            return NULL;
        }
        if (ind == SQL_NULL_DATA) {
            *isnull = true;
            return NULL;
        }
        return format_guid(a, &g);
    }
    /* everything else as UTF-16 text, in chunks */
    size_t len = 0;
    if (!fetch_buf) {
        if (!(fetch_buf = malloc(FETCH_KEEP * sizeof(SQLWCHAR)))) {
            *e = E_INTERNAL_SERVER_ERROR;
            return NULL;
        }
        fetch_cap = FETCH_KEEP;
    }
    for (;;) {
        SQLRETURN r = SQLGetData(h, col, SQL_C_WCHAR, fetch_buf + len,
                                 (SQLLEN)((fetch_cap - len) * sizeof(SQLWCHAR)), &ind);
        if (r == SQL_NO_DATA)
            break;
        if (!SQL_SUCCEEDED(r)) {
            *e = class_err(diag(SQL_HANDLE_STMT, h, "fetch"));
            return NULL;
        }
        if (ind == SQL_NULL_DATA) {
            *isnull = true;
            return NULL;
        }
        if (r == SQL_SUCCESS_WITH_INFO &&
            (ind == SQL_NO_TOTAL || (size_t)ind / sizeof(SQLWCHAR) >= fetch_cap - len)) {
            len = fetch_cap - 1; /* the driver wrote cap-len-1 chars + NUL */
            if (fetch_cap >= FETCH_MAX) {
                log_error(LG, "a column value is longer than %d characters", FETCH_MAX);
                *e = E_DB_QUERY_FAILED;
                return NULL;
            }
            SQLWCHAR *nb = realloc(fetch_buf, fetch_cap * 2 * sizeof(SQLWCHAR));
            if (!nb) {
                *e = E_INTERNAL_SERVER_ERROR;
                return NULL;
            }
            fetch_buf = nb;
            fetch_cap *= 2;
            continue;
        }
        len += (size_t)ind / sizeof(SQLWCHAR);
        break;
    }
    char *res = from_wide(a, fetch_buf, len);
    if (!res)
        *e = E_INTERNAL_SERVER_ERROR;
    return res;
}

wsms_err db_query(struct arena *a, struct db_rows *out, const char *sql, const char *types, ...)
{
    struct db_params prm;
    memset(out, 0, sizeof(*out));
    va_list ap;
    va_start(ap, types);
    wsms_err e = collect_params(&prm, types, ap);
    va_end(ap);
    return e != WSMS_OK ? e : db_query_params(a, out, sql, &prm);
}

wsms_err db_query_params(struct arena *a, struct db_rows *out, const char *sql,
                         const struct db_params *prm)
{
    SQLHSTMT h = SQL_NULL_HSTMT;
    memset(out, 0, sizeof(*out));
    wsms_err e = execute(&h, sql, prm);
    if (e != WSMS_OK)
        return e;
    SQLSMALLINT ncols = 0;
    SQLSMALLINT ctype[MAX_COLS];
    int cap = 0;
    if (!SQL_SUCCEEDED(SQLNumResultCols(h, &ncols)) || ncols <= 0 || ncols > MAX_COLS) {
        log_error(LG, "query returned %d columns", (int)ncols);
        e = E_DB_QUERY_FAILED;
        goto out;
    }
    out->ncols = ncols;
    out->names = arena_alloc(a, sizeof(char *) * (size_t)ncols);
    if (!out->names) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    for (SQLSMALLINT c = 0; c < ncols; c++) {
        SQLCHAR name[128];
        SQLSMALLINT nl, dec, nullable;
        SQLULEN size;
        if (!SQL_SUCCEEDED(SQLDescribeCol(h, (SQLUSMALLINT)(c + 1), name, sizeof(name), &nl,
                                          &ctype[c], &size, &dec, &nullable))) {
            e = class_err(diag(SQL_HANDLE_STMT, h, "describe"));
            goto out;
        }
        out->names[c] = arena_strdup(a, (const char *)name);
    }
    for (;;) {
        SQLRETURN r = SQLFetch(h);
        if (r == SQL_NO_DATA)
            break;
        if (!SQL_SUCCEEDED(r)) {
            e = class_err(diag(SQL_HANDLE_STMT, h, "fetch"));
            goto out;
        }
        if (out->nrows == cap) {
            int ncap = cap ? cap * 2 : 16;
            const char **nv = arena_alloc(a, sizeof(char *) * (size_t)ncap * (size_t)ncols);
            if (!nv) {
                e = E_INTERNAL_SERVER_ERROR;
                goto out;
            }
            if (out->vals)
                memcpy(nv, out->vals, sizeof(char *) * (size_t)cap * (size_t)ncols);
            out->vals = nv;
            cap = ncap;
        }
        for (SQLSMALLINT c = 0; c < ncols; c++) {
            bool isnull;
            char *v = fetch_col(a, h, (SQLUSMALLINT)(c + 1), ctype[c], &isnull, &e);
            if (!v && !isnull) {
                if (e == WSMS_OK)
                    e = E_INTERNAL_SERVER_ERROR;
                goto out;
            }
            out->vals[out->nrows * ncols + c] = v;
        }
        out->nrows++;
    }
    e = WSMS_OK;
out:
    SQLFreeStmt(h, SQL_CLOSE);
    fetch_buf_trim();
    after_error(e);
    return e;
}

static wsms_err end_tran(SQLSMALLINT how)
{
    const char *what = how == SQL_COMMIT ? "commit" : "rollback";
    if (!connected)
        return E_DATABASE_CONNECTION_ERROR;
    if (dialect_sql_transactions(db_type()))
        return db_exec_direct(how == SQL_COMMIT ? "COMMIT" : "ROLLBACK");
    stmt_count++; /* a round trip, as BEGIN/COMMIT are on SQLite */
    if (!SQL_SUCCEEDED(SQLEndTran(SQL_HANDLE_DBC, hdbc, how))) {
        wsms_err e = class_err(diag(SQL_HANDLE_DBC, hdbc, what));
        return e;
    }
    if (!SQL_SUCCEEDED(
            SQLSetConnectAttr(hdbc, SQL_ATTR_AUTOCOMMIT, (SQLPOINTER)SQL_AUTOCOMMIT_ON, 0)))
        return class_err(diag(SQL_HANDLE_DBC, hdbc, "autocommit"));
    return WSMS_OK;
}

static wsms_err begin_once(void)
{
    wsms_err e = db_connect();
    if (e != WSMS_OK)
        return e;
    if (in_tx) {
        log_error(LG, "nested transaction");
        return E_INTERNAL_SERVER_ERROR;
    }
    if (dialect_sql_transactions(db_type())) {
        wlock_take();
        if ((e = db_exec_direct("BEGIN IMMEDIATE")) != WSMS_OK)
            wlock_release();
    } else if (stmt_count++, !SQL_SUCCEEDED(SQLSetConnectAttr(hdbc, SQL_ATTR_AUTOCOMMIT,
                                                              (SQLPOINTER)SQL_AUTOCOMMIT_OFF, 0))) {
        e = class_err(diag(SQL_HANDLE_DBC, hdbc, "begin"));
        after_error(e);
    }
    if (e == WSMS_OK) {
        in_tx = true;
        tx_statements = 0;
    }
    return e;
}

/* Turning autocommit off is a round trip with FreeTDS (it starts the
 * transaction), so a connection that died while the worker was idle can
 * fail here first; nothing has happened yet: reconnect and begin again. */
wsms_err db_begin(void)
{
    bool reused = connected;
    wsms_err e = begin_once();
    if (e == E_DATABASE_CONNECTION_ERROR && reused) {
        log_warn(LG, "retrying the begin once on a new connection");
        e = begin_once();
    }
    return e;
}

wsms_err db_commit(void)
{
    wsms_err e = end_tran(SQL_COMMIT);
    in_tx = false;
    wlock_release();
    if (e != WSMS_OK) {
        /* state unknown: do not reuse this connection */
        log_error(LG, "commit failed; closing the connection");
        db_close();
    }
    return e;
}

void db_rollback(void)
{
    if (!connected) {
        in_tx = false;
        wlock_release();
        return;
    }
    wsms_err e = end_tran(SQL_ROLLBACK);
    in_tx = false;
    wlock_release();
    if (e != WSMS_OK) {
        log_error(LG, "rollback failed; closing the connection");
        db_close();
    }
}

wsms_err db_info(struct arena *a, const char **dbms, const char **dbms_ver)
{
    wsms_err e = db_connect();
    if (e != WSMS_OK)
        return e;
    char buf[256];
    SQLSMALLINT len;
    *dbms = *dbms_ver = NULL;
    if (SQL_SUCCEEDED(SQLGetInfo(hdbc, SQL_DBMS_NAME, buf, sizeof(buf), &len)))
        *dbms = arena_strdup(a, buf);
    if (SQL_SUCCEEDED(SQLGetInfo(hdbc, SQL_DBMS_VER, buf, sizeof(buf), &len)))
        *dbms_ver = arena_strdup(a, buf);
    return WSMS_OK;
}

const char *db_val(const struct db_rows *rows, int r, int c)
{
    if (!rows || r < 0 || r >= rows->nrows || c < 0 || c >= rows->ncols)
        return NULL;
    return rows->vals[r * rows->ncols + c];
}

long long db_val_ll(const struct db_rows *rows, int r, int c, long long dflt)
{
    const char *v = db_val(rows, r, c);
    if (!v)
        return dflt;
    char *end;
    long long n = strtoll(v, &end, 10);
    return end == v ? dflt : n;
}

bool db_val_bool(const struct db_rows *rows, int r, int c)
{
    const char *v = db_val(rows, r, c);
    return v && (strcmp(v, "1") == 0 || strcasecmp(v, "t") == 0 || strcasecmp(v, "true") == 0);
}
