#include "auth/roles.h"

#include "auth/apikeys.h"
#include "auth/sessions.h"
#include "http/hooks.h"
#include "http/router.h"
#include "core/arena.h"
#include "data/db.h"
#include "data/dialect.h"
#include "core/log.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LG "roles"

#define ROLE_TYPED                                                                                 \
    "hs.revoked_through, hw.is_active, hm.role, hm.user_id, hm.id, hk.id, hk.secret_hash, "        \
    "hk.scopes, hk.expires_at, hk.revoked_at, hk.last_used_at, hk.name"
/* their types, for dialect_typed_null */
#define ROLE_TYPES "IBSSGGSSTTTS"
#define ROLE_TYPED_FROM                                                                            \
    "pmassist_master.UserSessionRevocation hs, pmassist_master.Workspace hw, "                     \
    "pmassist_master.WorkspaceMember hm, pmassist_master.ApiKey hk"
/* The role row: LEFT JOINs from a one-row table, so the row is there
 * even when the workspace, the membership or the key is not; each caller
 * joins only what it is checked by (a join of a NULL key still costs the
 * server a plan node on every execution).
 * A signed-in caller in a workspace: the session revocation, the
 * workspace and the memberships; four parameters: user_id, workspace id,
 * user_id, email. */
#define ROLE_ROW_MEMBER                                                                            \
    "SELECT 'r' AS k, s.revoked_through, w.is_active, m.role, m.user_id, m.id, NULL, NULL, NULL, " \
    "NULL, NULL, NULL, NULL, 0 AS pos, 0 AS total"
#define ROLE_FROM_MEMBER                                                                           \
    " FROM (SELECT 1 AS one) d "                                                                   \
    "LEFT JOIN pmassist_master.UserSessionRevocation s ON s.user_id = ? "                          \
    "LEFT JOIN pmassist_master.Workspace w ON w.id = ? "                                           \
    "LEFT JOIN pmassist_master.WorkspaceMember m ON m.workspace_id = w.id "                        \
    "AND (m.user_id = ? OR (m.user_id IS NULL AND m.user_email = ?))"
/* An API key: the workspace and the key's row; two parameters: workspace
 * id (NULL on a route without one: no key row, refused), key prefix. */
#define ROLE_ROW_KEY                                                                               \
    "SELECT 'r' AS k, NULL, w.is_active, NULL, NULL, NULL, k.id, k.secret_hash, k.scopes, "        \
    "k.expires_at, k.revoked_at, k.last_used_at, k.name, 0 AS pos, 0 AS total"
#define ROLE_FROM_KEY                                                                              \
    " FROM (SELECT 1 AS one) d "                                                                   \
    "LEFT JOIN pmassist_master.Workspace w ON w.id = ? "                                           \
    "LEFT JOIN pmassist_master.ApiKey k ON k.key_prefix = ? AND k.workspace_id = w.id"
/* A signed-in caller on a route without a workspace: the session
 * revocation alone; one parameter, user_id. */
#define ROLE_ROW_USER                                                                              \
    "SELECT 'r' AS k, s.revoked_through, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "   \
    "NULL, NULL, 0 AS pos, 0 AS total"
#define ROLE_FROM_USER                                                                             \
    " FROM (SELECT 1 AS one) d "                                                                   \
    "LEFT JOIN pmassist_master.UserSessionRevocation s ON s.user_id = ?"

/* role slot columns */
enum {
    C_THROUGH = 1,
    C_ACTIVE,
    C_ROLE,
    C_UID,
    C_MID,
    C_KID,
    C_KHASH,
    C_KSCOPES,
    C_KEXP,
    C_KREV,
    C_KUSED,
    C_KNAME
};

static bool put(struct roles_read *q, const char *s)
{
    size_t n = strlen(s);
    if (q->failed)
        return false;
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap : 1024;
        while (cap < q->len + n + 1)
            cap *= 2;
        char *b = arena_alloc(q->rq->arena, cap);
        if (!b) {
            q->failed = true;
            return false;
        }
        if (q->len)
            memcpy(b, q->sql, q->len);
        q->sql = b;
        q->cap = cap;
    }
    memcpy(q->sql + q->len, s, n + 1);
    q->len += n;
    return true;
}

static bool put_nulls(struct roles_read *q, int n)
{
    for (int i = 0; i < n; i++)
        if (!put(q, ", NULL"))
            return false;
    return true;
}

/* The header on PostgreSQL and SQL Server: typed NULLs, no table (a
 * cross join of the tables costs the server a join plan on every
 * execution). */
static void typed_header(struct roles_read *q, const char *types)
{
    put(q, "SELECT 'h' AS k");
    for (const char *t = ROLE_TYPES; *t; t++) {
        const char *n = dialect_typed_null(db_type(), *t);
        put(q, ", ");
        if (!n || !put(q, n))
            q->failed = true;
    }
    put(q, ", 0 AS pos, 0 AS total");
    for (const char *t = types; *t; t++) {
        const char *n = dialect_typed_null(db_type(), *t);
        put(q, ", ");
        if (!n || !put(q, n))
            q->failed = true;
    }
    put(q, " WHERE 1 = 0 UNION ALL ");
}

wsms_err roles_read_start(struct roles_read *q, struct request *rq, int ndata, const char *types,
                          const char *typed_cols, const char *typed_from)
{
    return roles_read_start_role(q, rq, ndata, types, typed_cols, typed_from, 0, 0, NULL);
}

wsms_err roles_read_start_role(struct roles_read *q, struct request *rq, int ndata,
                               const char *types, const char *typed_cols, const char *typed_from,
                               int off, int ncols, const char *cols)
{
    memset(q, 0, sizeof(*q));
    q->rq = rq;
    q->ndata = ndata;
    const char *key = rq->api_key;
    char prefix[APIKEY_PREFIX_LEN + 1], hash[APIKEY_HASH_LEN + 1];
    const char *pfx = NULL;
    if (key) {
        if (apikey_parse(key, prefix, hash) != 0)
            return E_INVALID_API_KEY;
        OPENSSL_cleanse(hash, sizeof(hash));
        pfx = arena_strdup(rq->arena, prefix);
        if (!pfx)
            return E_INTERNAL_SERVER_ERROR;
    }
    if (ndata > 0 && (!types || (int)strlen(types) != ndata))
        return E_INTERNAL_SERVER_ERROR;
    if (ndata > 0 && db_type() != DB_SQLITE) {
        typed_header(q, types);
    } else if (ndata > 0) {
        /* SQLite reports the declared type of the leftmost branch's
         * columns only, so its header names real columns */
        put(q, "SELECT 'h' AS k, " ROLE_TYPED ", 0 AS pos, 0 AS total");
        put(q, ", ");
        put(q, typed_cols);
        put(q, " FROM " ROLE_TYPED_FROM);
        if (typed_from) {
            put(q, ", ");
            put(q, typed_from);
        }
        put(q, " WHERE 1 = 0 UNION ALL ");
    }
    if (off < 0 || ncols < 0 || off + ncols > ndata || (ncols > 0 && !cols))
        return E_INTERNAL_SERVER_ERROR;
    const char *uid = key ? NULL : rq->user.user_id;
    if (!key && !rq->workspace_id) {
        /* a signed-in caller outside any workspace: the revocation only
         * (joins of a NULL workspace find nothing and still cost the
         * server their plan) */
        if (ncols > 0)
            return E_INTERNAL_SERVER_ERROR;
        put(q, ROLE_ROW_USER);
        put_nulls(q, ndata);
        put(q, ROLE_FROM_USER);
        db_param_s(&q->params, uid);
        return q->failed ? E_INTERNAL_SERVER_ERROR : WSMS_OK;
    }
    put(q, key ? ROLE_ROW_KEY : ROLE_ROW_MEMBER);
    put_nulls(q, off);
    if (ncols > 0) {
        put(q, ", ");
        put(q, cols);
    }
    put_nulls(q, ndata - off - ncols);
    if (key) {
        put(q, ROLE_FROM_KEY);
        db_param_s(&q->params, rq->workspace_id);
        db_param_s(&q->params, pfx);
    } else {
        put(q, ROLE_FROM_MEMBER);
        db_param_s(&q->params, uid);
        db_param_s(&q->params, rq->workspace_id);
        db_param_s(&q->params, uid);
        db_param_s(&q->params, rq->user.email ? rq->user.email : "");
    }
    return q->failed ? E_INTERNAL_SERVER_ERROR : WSMS_OK;
}

wsms_err roles_read_branch(struct roles_read *q, char kind, const char *pos_total, int off,
                           int ncols, const char *cols, const char *from)
{
    char head[32];
    if (off < 0 || ncols < 0 || off + ncols > q->ndata)
        return E_INTERNAL_SERVER_ERROR;
    snprintf(head, sizeof(head), " UNION ALL SELECT '%c'", kind);
    put(q, head);
    put_nulls(q, ROLES_SLOTS);
    put(q, ", ");
    put(q, pos_total);
    put_nulls(q, off);
    if (ncols > 0) {
        put(q, ", ");
        put(q, cols);
    }
    put_nulls(q, q->ndata - off - ncols);
    put(q, " ");
    put(q, from);
    return q->failed ? E_INTERNAL_SERVER_ERROR : WSMS_OK;
}

char *roles_read_cols(struct arena *a, const char *alias, const char *cols)
{
    size_t al = strlen(alias), n = strlen(cols), commas = 1;
    for (const char *c = cols; *c; c++)
        commas += *c == ',';
    size_t cap = n + commas * (al + 3) + 1;
    char *out = arena_alloc(a, cap), *o = out;
    if (!out)
        return NULL;
    const char *p = cols;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int w = snprintf(o, cap - (size_t)(o - out), "%s%s.%.*s", o == out ? "" : ", ", alias,
                         (int)len, p);
        if (w < 0 || (size_t)w >= cap - (size_t)(o - out))
            return NULL;
        o += w;
        p = e ? e + 1 : p + len;
    }
    *o = '\0';
    return out;
}

wsms_err roles_read_page(struct roles_read *q, char kind, int off, int ncols,
                         const char *plain_cols, const char *inner, const char *order, long limit,
                         long offset)
{
    struct arena *a = q->rq->arena;
    const char *cols = roles_read_cols(a, "x", plain_cols);
    const char *from = arena_printf(a,
                                    "FROM (SELECT ROW_NUMBER() OVER (ORDER BY %s) AS pos, "
                                    "COUNT(*) OVER () AS total, %s) x "
                                    "WHERE (x.pos > ? AND x.pos <= ?) OR x.pos = x.total",
                                    order, inner);
    if (!cols || !from)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = roles_read_branch(q, kind, "x.pos, x.total", off, ncols, cols, from);
    db_param_i(&q->params, offset);
    db_param_i(&q->params, offset + limit);
    return e;
}

char roles_read_kind(const struct db_rows *rows, int r)
{
    const char *k = db_val(rows, r, ROLES_C_K);
    return k ? k[0] : '\0';
}

bool roles_read_in_page(const struct db_rows *rows, int r, long limit, long offset)
{
    long long pos = db_val_ll(rows, r, ROLES_C_POS, 0);
    return pos > offset && pos <= offset + limit;
}

long roles_read_total(const struct db_rows *rows, char kind)
{
    for (int r = 0; r < rows->nrows; r++)
        if (roles_read_kind(rows, r) == kind)
            return (long)db_val_ll(rows, r, ROLES_C_TOTAL, 0);
    return 0;
}

/* revoked_through of the role row (0 when NULL). */
static long revoked_col(const struct db_rows *rows, int r)
{
    long long v = r >= 0 ? db_val_ll(rows, r, C_THROUGH, 0) : 0;
    return v > 0 ? (long)v : 0;
}

/* An API key caller: the key's row, then its identity. */
static wsms_err resolve_key(struct request *rq, const struct db_rows *rows, int first)
{
    const char *why = NULL;
    enum role role = ROLE_NONE;
    struct apikey_row k = {0};
    bool found = first >= 0 && db_val(rows, first, C_KID);
    if (found) {
        k.id = db_val(rows, first, C_KID);
        k.secret_hash = db_val(rows, first, C_KHASH);
        k.scopes = db_val(rows, first, C_KSCOPES);
        k.expires_at = db_val(rows, first, C_KEXP);
        k.revoked_at = db_val(rows, first, C_KREV);
        k.last_used_at = db_val(rows, first, C_KUSED);
        k.workspace_active = db_val_bool(rows, first, C_ACTIVE);
    }
    wsms_err e = apikey_check(rq->api_key, found ? &k : NULL, hook_now_ms(rq), &role, &why);
    if (e != WSMS_OK) {
        if (why)
            log_info(LG, "API key refused: %s", why);
        return e;
    }
    const char *name = db_val(rows, first, C_KNAME);
    rq->user.user_id = arena_printf(rq->arena, "apikey:%s", k.id);
    rq->user.email = "";
    rq->user.display_name = arena_strdup(rq->arena, name ? name : "");
    rq->api_key_id = arena_strdup(rq->arena, k.id);
    if (!rq->user.user_id || !rq->user.display_name || !rq->api_key_id)
        return E_INTERNAL_SERVER_ERROR;
    rq->authenticated = true;
    rq->role = role;
    return WSMS_OK;
}

/* A signed-in caller: revocation, workspace, membership (bound to the oid
 * on its first use). */
static wsms_err resolve_user(struct request *rq, const struct db_rows *rows, int first)
{
    if (sessions_is_revoked(rq->token_iat, revoked_col(rows, first))) {
        log_info(LG, "PMA token refused: sessions revoked");
        rq->authenticated = false;
        return E_INVALID_PMA_TOKEN;
    }
    if (!rq->workspace_id)
        return WSMS_OK;
    bool archived = rq->route && rq->route->auth == AUTH_ARCHIVED;
    if (first < 0 || !db_val(rows, first, C_ACTIVE) ||
        db_val_bool(rows, first, C_ACTIVE) == archived)
        return E_WORKSPACE_NOT_FOUND;
    int pick = -1;
    for (int r = first; r < rows->nrows; r++) {
        if (roles_read_kind(rows, r) != 'r' || !db_val(rows, r, C_ROLE))
            continue;
        const char *uid = db_val(rows, r, C_UID);
        if (uid && strcmp(uid, rq->user.user_id) == 0) {
            pick = r;
            break;
        }
        if (!uid && pick < 0)
            pick = r;
    }
    if (pick < 0)
        return WSMS_OK;
    if (!db_val(rows, pick, C_UID)) {
        /* added by email, first request with a token: bind to the oid */
        long n = 0;
        wsms_err e = db_exec(&n,
                             "UPDATE pmassist_master.WorkspaceMember SET user_id = ? "
                             "WHERE id = ? AND user_id IS NULL",
                             "ss", rq->user.user_id, db_val(rows, pick, C_MID));
        if (e == E_CONFLICT)
            return WSMS_OK; /* this oid is already a member under another row */
        if (e != WSMS_OK)
            return e;
        log_info(LG, "bound membership %s to user %s", db_val(rows, pick, C_MID), rq->user.user_id);
    }
    rq->role = role_parse(db_val(rows, pick, C_ROLE));
    return WSMS_OK;
}

static wsms_err resolve(struct request *rq, const struct db_rows *rows)
{
    int first = -1;
    for (int r = 0; r < rows->nrows && first < 0; r++)
        if (roles_read_kind(rows, r) == 'r')
            first = r;
    rq->role = ROLE_NONE;
    rq->role_checked = true; /* also when refused: the answer is that refusal */
    wsms_err e = rq->api_key ? resolve_key(rq, rows, first) : resolve_user(rq, rows, first);
    if (e != WSMS_OK)
        return e;
    if (!rq->workspace_id)
        return WSMS_OK;
    if (rq->role == ROLE_NONE)
        return rq->api_key ? E_INVALID_API_KEY : E_USER_NOT_AUTHORIZED;
    if (rq->route && rq->role < rq->route->min_role)
        return E_INSUFFICIENT_PERMISSIONS;
    return WSMS_OK;
}

struct row_key {
    char k;
    long long pos;
    int i;
};

static int row_key_cmp(const void *a, const void *b)
{
    const struct row_key *x = a, *y = b;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Puts the rows in (k, pos) order, rows with equal keys in the order the
 * database sent them. Sorting here rather than by ORDER BY spares the
 * server a sort of the whole union on every read. */
static wsms_err order_rows(struct arena *a, struct db_rows *rows)
{
    int n = rows->nrows, nc = rows->ncols;
    if (n < 2)
        return WSMS_OK;
    struct row_key *keys = arena_alloc(a, sizeof(*keys) * (size_t)n);
    if (!keys)
        return E_INTERNAL_SERVER_ERROR;
    bool sorted = true;
    for (int r = 0; r < n; r++) {
        keys[r].k = roles_read_kind(rows, r);
        keys[r].pos = db_val_ll(rows, r, ROLES_C_POS, 0);
        keys[r].i = r;
        if (r > 0 && row_key_cmp(&keys[r - 1], &keys[r]) > 0)
            sorted = false;
    }
    if (sorted)
        return WSMS_OK;
    qsort(keys, (size_t)n, sizeof(*keys), row_key_cmp);
    const char **vals = arena_alloc(a, sizeof(*vals) * (size_t)n * (size_t)nc);
    if (!vals)
        return E_INTERNAL_SERVER_ERROR;
    for (int r = 0; r < n; r++)
        memcpy(vals + (size_t)r * (size_t)nc, rows->vals + (size_t)keys[r].i * (size_t)nc,
               sizeof(*vals) * (size_t)nc);
    rows->vals = vals;
    return WSMS_OK;
}

wsms_err roles_read_run(struct roles_read *q, struct db_rows *rows)
{
    memset(rows, 0, sizeof(*rows));
    if (q->failed)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query_params(q->rq->arena, rows, q->sql, &q->params);
    if (e == WSMS_OK)
        e = order_rows(q->rq->arena, rows);
    if (e != WSMS_OK)
        return e;
    if (q->rq->role_checked)
        return WSMS_OK;
    return resolve(q->rq, rows);
}

wsms_err roles_check(struct request *rq)
{
    struct roles_read q;
    struct db_rows rows;
    wsms_err e = roles_read_start(&q, rq, 0, "", "", NULL);
    if (e == WSMS_OK)
        e = roles_read_run(&q, &rows);
    return e;
}

wsms_err roles_bind_email(const char *user_id, const char *email)
{
    long n = 0;
    if (!email || !*email)
        return WSMS_OK;
    wsms_err e = db_exec(&n,
                         "UPDATE pmassist_master.WorkspaceMember SET user_id = ? "
                         "WHERE user_email = ? AND user_id IS NULL AND workspace_id NOT IN "
                         "(SELECT workspace_id FROM pmassist_master.WorkspaceMember "
                         "WHERE user_id = ?)",
                         "sss", user_id, email, user_id);
    if (e == WSMS_OK && n > 0)
        log_info(LG, "bound %ld membership(s) added by email to user %s", n, user_id);
    return e;
}

wsms_err roles_of_user(struct arena *a, const char *user_id, const char *email, cJSON **out,
                       long *through)
{
    struct db_rows rows;
    *out = NULL;
    *through = 0;
    /* the caller's memberships by two seeks (user_id; email while not yet
     * bound), the ROLES_TOKEN_MAX most recent of the active workspaces */
    /* each branch walks its index newest first
     * (ix_workspacemember_user_added; memberships not yet bound are few)
     * and stops after ROLES_TOKEN_MAX active workspaces; the union is cut
     * again in the loop below */
    long long pg[2];
    const char *page = dialect_page_sql(db_type(), ROLES_TOKEN_MAX, 0, pg);
    char *sql = arena_printf(
        a,
        "SELECT s.revoked_through, x.workspace_id, x.role, x.added_at "
        "FROM (SELECT 1 AS one) d "
        "LEFT JOIN pmassist_master.UserSessionRevocation s ON s.user_id = ? "
        "LEFT JOIN (SELECT b.workspace_id, b.role, b.added_at FROM (SELECT m.workspace_id, "
        "m.role, m.added_at FROM pmassist_master.WorkspaceMember m JOIN "
        "pmassist_master.Workspace w ON w.id = m.workspace_id AND w.is_active = 1 "
        "WHERE m.user_id = ? ORDER BY m.added_at DESC%s) b UNION ALL "
        "SELECT e.workspace_id, e.role, e.added_at FROM (SELECT m.workspace_id, m.role, "
        "m.added_at FROM pmassist_master.WorkspaceMember m JOIN pmassist_master.Workspace w "
        "ON w.id = m.workspace_id AND w.is_active = 1 WHERE m.user_id IS NULL AND "
        "m.user_email = ? ORDER BY m.added_at DESC%s) e) x ON 1 = 1 "
        "ORDER BY x.added_at DESC",
        page, page);
    if (!sql)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_query(a, &rows, sql, "ssiisii", user_id, user_id, pg[0], pg[1],
                          email ? email : "", pg[0], pg[1]);
    if (e != WSMS_OK)
        return e;
    cJSON *roles = arena_json(a, cJSON_CreateObject());
    if (!roles)
        return E_INTERNAL_SERVER_ERROR;
    int n = 0;
    for (int r = 0; r < rows.nrows && n < ROLES_TOKEN_MAX; r++) {
        const char *ws = db_val(&rows, r, 1), *role = db_val(&rows, r, 2);
        /* a workspace twice: a bound and an e-mail membership both */
        if (!ws || !role || cJSON_GetObjectItemCaseSensitive(roles, ws))
            continue;
        if (!cJSON_AddStringToObject(roles, ws, role))
            return E_INTERNAL_SERVER_ERROR;
        n++;
    }
    if (n >= ROLES_TOKEN_MAX)
        log_info(LG, "user %s: the token lists the %d most recent of more workspaces", user_id,
                 ROLES_TOKEN_MAX);
    *out = roles;
    long long v = rows.nrows > 0 ? db_val_ll(&rows, 0, 0, 0) : 0;
    *through = v > 0 ? (long)v : 0;
    return WSMS_OK;
}
