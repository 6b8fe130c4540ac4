#include "auth/roles.h"

#include "auth/sessions.h"
#include "core/arena.h"
#include "data/db.h"
#include "core/log.h"

#include <string.h>

#define LG "roles"

/* revoked_through of row 0, column 0 (0 when NULL). */
static long revoked_col(const struct db_rows *rows)
{
    long long v = rows->nrows > 0 ? db_val_ll(rows, 0, 0, 0) : 0;
    return v > 0 ? (long)v : 0;
}

wsms_err roles_in_workspace(struct arena *a, const char *ws_id, const char *user_id,
                            const char *email, long token_iat, bool archived, enum role *role)
{
    struct db_rows rows;
    *role = ROLE_NONE;
    /* one statement: the derived one-row table keeps a row (and so the
     * revocation) even when the workspace does not exist */
    wsms_err e = db_query(a, &rows,
                          "SELECT s.revoked_through, w.is_active, m.role, m.user_id, m.id "
                          "FROM (SELECT 1 AS one) d "
                          "LEFT JOIN pmassist_master.UserSessionRevocation s ON s.user_id = ? "
                          "LEFT JOIN pmassist_master.Workspace w ON w.id = ? "
                          "LEFT JOIN pmassist_master.WorkspaceMember m ON m.workspace_id = w.id "
                          "AND (m.user_id = ? OR (m.user_id IS NULL AND m.user_email = ?))",
                          "ssss", user_id, ws_id, user_id, email);
    if (e != WSMS_OK)
        return e;
    if (sessions_is_revoked(token_iat, revoked_col(&rows)))
        return E_INVALID_PMA_TOKEN;
    if (rows.nrows == 0 || !db_val(&rows, 0, 1) || db_val_bool(&rows, 0, 1) == archived)
        return E_WORKSPACE_NOT_FOUND;
    int pick = -1;
    for (int r = 0; r < rows.nrows; r++) {
        const char *uid = db_val(&rows, r, 3);
        if (!db_val(&rows, r, 2))
            continue;
        if (uid && strcmp(uid, user_id) == 0) {
            pick = r;
            break;
        }
        if (!uid && pick < 0)
            pick = r;
    }
    if (pick < 0)
        return WSMS_OK;
    if (!db_val(&rows, pick, 3)) {
        /* added by email, first request with a token: bind to the oid */
        long n = 0;
        e = db_exec(&n,
                    "UPDATE pmassist_master.WorkspaceMember SET user_id = ? "
                    "WHERE id = ? AND user_id IS NULL",
                    "ss", user_id, db_val(&rows, pick, 4));
        if (e == E_CONFLICT)
            return WSMS_OK; /* this oid is already a member under another row */
        if (e != WSMS_OK)
            return e;
        log_info(LG, "bound membership %s to user %s", db_val(&rows, pick, 4), user_id);
    }
    *role = role_parse(db_val(&rows, pick, 2));
    return WSMS_OK;
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

wsms_err roles_revoked_through(struct arena *a, const char *user_id, long *through)
{
    struct db_rows rows;
    *through = 0;
    wsms_err e = db_query(a, &rows,
                          "SELECT revoked_through FROM pmassist_master.UserSessionRevocation "
                          "WHERE user_id = ?",
                          "s", user_id);
    if (e != WSMS_OK)
        return e;
    *through = revoked_col(&rows);
    return WSMS_OK;
}

wsms_err roles_of_user(struct arena *a, const char *user_id, const char *email, cJSON **out,
                       long *through)
{
    struct db_rows rows;
    *out = NULL;
    *through = 0;
    wsms_err e = db_query(a, &rows,
                          "SELECT s.revoked_through, x.workspace_id, x.role "
                          "FROM (SELECT 1 AS one) d "
                          "LEFT JOIN pmassist_master.UserSessionRevocation s ON s.user_id = ? "
                          "LEFT JOIN (SELECT m.workspace_id, m.role, m.user_id, m.user_email "
                          "FROM pmassist_master.WorkspaceMember m "
                          "JOIN pmassist_master.Workspace w ON w.id = m.workspace_id "
                          "WHERE w.is_active = 1) x ON (x.user_id = ? OR "
                          "(x.user_id IS NULL AND x.user_email = ?))",
                          "sss", user_id, user_id, email ? email : "");
    if (e != WSMS_OK)
        return e;
    cJSON *roles = arena_json(a, cJSON_CreateObject());
    if (!roles)
        return E_INTERNAL_SERVER_ERROR;
    for (int r = 0; r < rows.nrows; r++) {
        const char *ws = db_val(&rows, r, 1), *role = db_val(&rows, r, 2);
        if (!ws || !role || cJSON_GetObjectItemCaseSensitive(roles, ws))
            continue;
        if (!cJSON_AddStringToObject(roles, ws, role))
            return E_INTERNAL_SERVER_ERROR;
    }
    *out = roles;
    *through = revoked_col(&rows);
    return WSMS_OK;
}
