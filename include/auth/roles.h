/* roles: what the database says about a caller's memberships, for the auth
 * middleware, for the one-statement reads and for PMA token issuance.
 * Matching is by Entra oid (user_id), and for memberships added by email
 * and not yet bound, by the lower-cased email; such memberships are bound to
 * the oid here. Results live in the caller's arena.
 *
 * One-statement reads (issue 14). Every read route answers in ONE
 * statement, the caller's role included: a UNION ALL of typed rows whose
 * first column k says what a row is. Its branches, in this order:
 *
 *   'h'  a header that yields no row (WHERE 1 = 0) and gives every column
 *        its type, so that each column has one type on all three
 *        databases (PostgreSQL types a chain of NULL branches as text,
 *        T-SQL as int): typed NULLs on PostgreSQL and SQL Server, real
 *        table columns on SQLite (which reports a column's declared type
 *        from the leftmost branch only; timestamps are formatted from it);
 *   'r'  the caller's role row(s): the session revocation, the
 *        workspace's is_active, the caller's memberships and, for an API
 *        key, the key's row, all in one LEFT JOIN from a one-row table (so
 *        the row exists even when the workspace does not);
 *   ...  the route's data branches, each with its own letter.
 *
 * Every row has the same columns: k, the ROLES_SLOTS role slots (NULL in
 * data rows), pos and total (a data row's position in its list and the
 * size of the list, e.g. ROW_NUMBER() OVER (...) and COUNT(*) OVER (); 0
 * when unused), then the route's ndata data columns (NULL in the role
 * row; a branch fills its own range and NULL elsewhere). Rows come ordered
 * by k, then pos (sorted here, not by the server; rows with equal keys
 * in the order the database sent them). The role row may carry data
 * columns of its own tables (roles_read_start_role: GET /workspaces/{id}
 * reads the workspace from the role row's join), which spares a branch.
 *
 * How a route composes it:
 *
 *   struct roles_read q;
 *   roles_read_start(&q, rq, ndata, "GS...", "tm.id, tm.role, ...",
 *                    "pmassist_master.WorkspaceMember tm");   typed columns
 *   roles_read_branch(&q, 'm', "x.pos, x.total", 0, 7, "FROM (SELECT ...) x WHERE ...");
 *   db_param_s(&q.params, rq->workspace_id);                  that branch's ?s
 *   e = roles_read_run(&q, &rows);        runs it, then resolves the caller
 *
 * roles_read_run checks what the middleware checks on other routes, from
 * the role row, with the same answers: 401 INVALID_PMA_TOKEN (revoked
 * session), 404 WORKSPACE_NOT_FOUND, 403 USER_NOT_AUTHORIZED (not a
 * member), 403 INSUFFICIENT_PERMISSIONS (below the route's min_role), and
 * for an API key 401 INVALID_API_KEY; it then sets rq->role (and for a key
 * rq->user / rq->api_key_id) and rq->role_checked. Data rows are read only
 * after that returned WSMS_OK. When the role was already checked (the
 * middleware did, e.g. a PATCH answering with the workspace), the role rows
 * are ignored. A page past the end still reports its total: a paginated
 * branch also returns its last row (pos = total), which the route skips
 * when outside the page (roles_read_in_page).
 *
 * Extra statements happen only when something is written: binding an
 * email-only membership to the oid (first request of that member) and an
 * API key's last_used_at (at most once a minute). */
#ifndef WSMS_ROLES_H
#define WSMS_ROLES_H

#include "core/err.h"
#include "data/db.h"
#include "http/http.h"

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* Column layout of a one-statement read. */
#define ROLES_SLOTS   12
#define ROLES_C_K     0
#define ROLES_C_POS   (1 + ROLES_SLOTS)
#define ROLES_C_TOTAL (2 + ROLES_SLOTS)
#define ROLES_C_DATA  (3 + ROLES_SLOTS) /* first data column */

struct roles_read {
    struct request *rq;
    char *sql;
    size_t len, cap;
    int ndata;
    bool failed;
    struct db_params params; /* the statement's parameters, in text order */
};

/* Starts the statement with the header and the role row. The data
 * columns' types: types, one letter per column (data/dialect.h
 * dialect_typed_null: the header of PostgreSQL and SQL Server), and
 * typed_cols (ndata column references, "" when 0) from typed_from (tables
 * with aliases other than hs, hw, hm, hk, d, s, w, m, k; NULL when none),
 * the header of SQLite. */
wsms_err roles_read_start(struct roles_read *q, struct request *rq, int ndata, const char *types,
                          const char *typed_cols, const char *typed_from);
/* roles_read_start, with ncols data columns at data column off in the
 * role row: cols may name the role row's tables (s the session
 * revocation, w the workspace, m the membership, k the API key); a role
 * row exists when the workspace does not, with these columns NULL. */
wsms_err roles_read_start_role(struct roles_read *q, struct request *rq, int ndata,
                               const char *types, const char *typed_cols, const char *typed_from,
                               int off, int ncols, const char *cols);
/* Appends "UNION ALL SELECT '<kind>', <role NULLs>, <pos_total>, <NULLs>,
 * <cols>, <NULLs> <from>": cols are ncols columns placed at data column
 * off; pos_total two expressions ("0, 0" when unused); from the rest of the
 * branch (FROM ... WHERE ...). Its parameters go to q->params next. */
wsms_err roles_read_branch(struct roles_read *q, char kind, const char *pos_total, int off,
                           int ncols, const char *cols, const char *from);
/* A paginated branch: the rows of "SELECT <inner>" (whose columns are
 * named plain_cols, ncols of them, placed at data column off) numbered
 * by ORDER BY order, with their count, rows offset+1 .. offset+limit and
 * the last one (so the total is known past the end). inner's parameters
 * must already be in q->params; the page bounds are added here. */
wsms_err roles_read_page(struct roles_read *q, char kind, int off, int ncols,
                         const char *plain_cols, const char *inner, const char *order, long limit,
                         long offset);
/* Runs the statement into rows, puts them in (k, pos) order and resolves
 * the caller (see above). */
wsms_err roles_read_run(struct roles_read *q, struct db_rows *rows);
/* "a.c1, a.c2, ..." of the plain column list cols ("c1, c2, ..."), in the
 * arena; NULL on no memory. For typed_cols and branch columns. */
char *roles_read_cols(struct arena *a, const char *alias, const char *cols);
/* Kind of row r. */
char roles_read_kind(const struct db_rows *rows, int r);
/* True when row r's pos is within the page [offset, offset + limit). */
bool roles_read_in_page(const struct db_rows *rows, int r, long limit, long offset);
/* Total of the first row of kind (0 when none). */
long roles_read_total(const struct db_rows *rows, char kind);

/* The middleware's check on routes whose handler does not read the role
 * itself: the role statement alone (roles_read_start + roles_read_run
 * with no data), one statement. */
wsms_err roles_check(struct request *rq);

/* Binds every unbound membership with this email to user_id, except in
 * workspaces where user_id already has a membership. */
wsms_err roles_bind_email(const char *user_id, const char *email);
/* {"<workspace id>": "OWNER", ...} over the caller's active workspaces, the
 * ROLES_TOKEN_MAX most recently joined of them (the PMA token's `roles`
 * claim, a convenience: authorization always reads the database; a token
 * listing thousands would outgrow PMA_MAX_TOKEN_BYTES and nginx's header
 * buffers); the object is owned by the arena. *through gets the user's
 * revoked_through from the same statement (0 when never revoked). */
#define ROLES_TOKEN_MAX 200
wsms_err roles_of_user(struct arena *a, const char *user_id, const char *email, cJSON **roles,
                       long *through);

#endif
