#include "domain/members.h"

#include "auth/roles.h"
#include "core/arena.h"
#include "domain/audit.h"
#include "domain/workspaces.h"
#include "data/db.h"
#include "data/dialect.h"
#include "core/log.h"
#include "core/util.h"

#include <string.h>
#include <strings.h>

#define LG "members"

static bool add_str(cJSON *o, const char *k, const char *v)
{
    cJSON *i = v ? cJSON_CreateString(v) : cJSON_CreateNull();
    if (!i)
        return false;
    if (!cJSON_AddItemToObject(o, k, i)) {
        cJSON_Delete(i);
        return false;
    }
    return true;
}

void member_from_row(const struct db_rows *rows, int r, int col0, struct member_row *m)
{
    m->id = db_val(rows, r, col0);
    m->workspace_id = db_val(rows, r, col0 + 1);
    m->user_id = db_val(rows, r, col0 + 2);
    m->user_email = db_val(rows, r, col0 + 3);
    m->display_name = db_val(rows, r, col0 + 4);
    m->role = db_val(rows, r, col0 + 5);
    m->added_at = db_val(rows, r, col0 + 6);
}

cJSON *member_json(const struct member_row *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !add_str(o, "id", m->id) || !add_str(o, "workspace_id", m->workspace_id) ||
        !add_str(o, "user_id", m->user_id) || !add_str(o, "user_email", m->user_email) ||
        !add_str(o, "display_name", m->display_name) || !add_str(o, "role", m->role) ||
        !add_str(o, "added_at", m->added_at)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

bool member_is_caller(const struct member_row *m, const struct identity *u)
{
    if (m->user_id)
        return u->user_id && strcmp(m->user_id, u->user_id) == 0;
    return u->email && m->user_email && strcasecmp(m->user_email, u->email) == 0;
}

wsms_err members_list(struct request *rq, const struct members_filter *f, long limit, long offset,
                      cJSON **out, long *total)
{
    struct db_rows rows;
    struct roles_read q;
    cJSON *arr = NULL;
    /* q matches the email or the display name (contains, ASCII
     * case-insensitive); role exactly; each a parameter, '' = any */
    const char *esc = dialect_like_escape(db_type());
    const char *inner = arena_printf(rq->arena,
                                     MEMBER_COLS " FROM pmassist_master.WorkspaceMember m "
                                                 "WHERE m.workspace_id = ? AND (? = '' OR "
                                                 "LOWER(m.user_email) LIKE ?%s OR "
                                                 "LOWER(m.display_name) LIKE ?%s) AND (? = '' OR "
                                                 "m.role = ?)",
                                     esc, esc);
    const char *typed = roles_read_cols(rq->arena, "tm", MEMBER_PLAIN);
    const char *q_ = f && f->q && *f->q ? f->q : "";
    const char *role = f && f->role ? role_name(f->role) : "";
    const char *pat = *q_ ? ws_like_pattern(rq->arena, q_) : "%";
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    *out = NULL;
    *total = 0;
    if (!pat || !role || !inner || !typed)
        goto out;
    /* one statement: the caller's role, the page and its total */
    if ((e = roles_read_start(&q, rq, MEMBER_NCOLS, MEMBER_TYPES, typed,
                              "pmassist_master.WorkspaceMember tm")) != WSMS_OK)
        goto out;
    const char *v[] = {rq->workspace_id, q_, pat, pat, role, role};
    for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
        db_param_s(&q.params, v[i]);
    if ((e = roles_read_page(&q, 'm', 0, MEMBER_NCOLS, MEMBER_PLAIN, inner, "m.added_at, m.id",
                             limit, offset)) != WSMS_OK)
        goto out;
    if ((e = roles_read_run(&q, &rows)) != WSMS_OK)
        goto out;
    *total = roles_read_total(&rows, 'm');
    if (!(arr = cJSON_CreateArray())) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    for (int r = 0; r < rows.nrows; r++) {
        if (roles_read_kind(&rows, r) != 'm' || !roles_read_in_page(&rows, r, limit, offset))
            continue;
        struct member_row m;
        member_from_row(&rows, r, ROLES_C_DATA, &m);
        cJSON *item = member_json(&m);
        if (!item || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            e = E_INTERNAL_SERVER_ERROR;
            goto out;
        }
    }
    *out = arr;
    arr = NULL;
    e = WSMS_OK;
out:
    cJSON_Delete(arr);
    return e;
}

/* Takes the workspace row's write lock for the rest of the transaction, so
 * member changes of one workspace are serialised and an owner count read
 * after it cannot be invalidated by a concurrent demotion or removal. The
 * no-op update locks the row on SQL Server, PostgreSQL and SQLite alike. */
static wsms_err lock_workspace(const char *ws_id)
{
    long n = 0;
    wsms_err e = db_exec(&n,
                         "UPDATE pmassist_master.Workspace SET is_active = is_active "
                         "WHERE id = ? AND is_active = 1",
                         "s", ws_id);
    if (e == WSMS_OK && n == 0)
        e = E_WORKSPACE_NOT_FOUND;
    return e;
}

static wsms_err load_member(struct arena *a, const char *ws_id, const char *member_id,
                            struct member_row *m)
{
    struct db_rows rows;
    wsms_err e = db_query(a, &rows,
                          "SELECT " MEMBER_COLS " FROM pmassist_master.WorkspaceMember m "
                          "WHERE m.id = ? AND m.workspace_id = ?",
                          "ss", member_id, ws_id);
    if (e != WSMS_OK)
        return e;
    if (rows.nrows == 0)
        return E_MEMBER_NOT_FOUND;
    member_from_row(&rows, 0, 0, m);
    return WSMS_OK;
}

/* The caller's role read again under the workspace lock: the middleware's
 * reading may be stale by the time a concurrent change has committed. */
static wsms_err caller_role(struct request *rq, enum role *role)
{
    struct db_rows rows;
    const char *email = rq->user.email ? rq->user.email : "";
    if (rq->api_key_id) {
        *role = rq->role; /* an API key acts with its scopes, not a membership */
        return WSMS_OK;
    }
    *role = ROLE_NONE;
    wsms_err e = db_query(rq->arena, &rows,
                          "SELECT role, user_id FROM pmassist_master.WorkspaceMember "
                          "WHERE workspace_id = ? AND (user_id = ? OR "
                          "(user_id IS NULL AND user_email = ?))",
                          "sss", rq->workspace_id, rq->user.user_id, email);
    if (e != WSMS_OK)
        return e;
    for (int r = 0; r < rows.nrows; r++)
        if (*role == ROLE_NONE || db_val(&rows, r, 1))
            *role = role_parse(db_val(&rows, r, 0));
    return *role == ROLE_NONE ? E_USER_NOT_AUTHORIZED : WSMS_OK;
}

/* Opens the transaction, locks the workspace and refreshes rq->role. */
static wsms_err begin_change(struct request *rq)
{
    wsms_err e = db_begin();
    if (e == WSMS_OK)
        e = lock_workspace(rq->workspace_id);
    if (e == WSMS_OK)
        e = caller_role(rq, &rq->role);
    return e;
}

/* LAST_OWNER when the transaction's changes left ws_id without an OWNER. */
static wsms_err check_owners_left(struct arena *a, const char *ws_id)
{
    struct db_rows rows;
    wsms_err e = db_query(a, &rows,
                          "SELECT COUNT(*) FROM pmassist_master.WorkspaceMember "
                          "WHERE workspace_id = ? AND role = 'OWNER'",
                          "s", ws_id);
    if (e == WSMS_OK && db_val_ll(&rows, 0, 0, 0) < 1)
        e = E_LAST_OWNER;
    return e;
}

/* Commits on success, rolls back otherwise. */
static wsms_err end_tx(wsms_err e)
{
    if (!db_in_transaction())
        return e;
    if (e == WSMS_OK)
        return db_commit();
    db_rollback();
    return e;
}

static cJSON *change_details(const char *member_id, const char *email, const char *k1,
                             const char *v1, const char *k2, const char *v2)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !add_str(d, "member_id", member_id) || !add_str(d, "user_email", email) ||
        !add_str(d, k1, v1) || (k2 && !add_str(d, k2, v2))) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

wsms_err members_add(struct request *rq, const char *email, enum role role,
                     const char *display_name, cJSON **out, bool *is_caller, const char **why)
{
    char id[GUID_LEN + 1], added[25];
    int64_t now = now_ms();
    cJSON *obj = NULL, *details = NULL;
    wsms_err e;
    *out = NULL;
    *is_caller = false;
    *why = NULL;
    if (guid_new(id) != 0)
        return E_INTERNAL_SERVER_ERROR;
    iso8601_ms(now, added);
    struct member_row m = {id, rq->workspace_id, NULL, email, display_name, role_name(role), added};
    if ((e = begin_change(rq)) != WSMS_OK)
        goto out;
    if (rq->role < ROLE_ADMIN) {
        *why = "Adding members needs ADMIN or OWNER";
        e = E_INSUFFICIENT_PERMISSIONS;
        goto out;
    }
    if (role == ROLE_OWNER && rq->role < ROLE_OWNER) {
        *why = "Only an OWNER may add an OWNER";
        e = E_INSUFFICIENT_PERMISSIONS;
        goto out;
    }
    e = db_exec(NULL,
                "INSERT INTO pmassist_master.WorkspaceMember "
                "(id, workspace_id, user_id, user_email, display_name, role, added_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                "sssssst", id, rq->workspace_id, (const char *)NULL, email, display_name,
                role_name(role), now);
    if (e == E_CONFLICT)
        *why = "This person is already a member of the workspace";
    if (e != WSMS_OK)
        goto out;
    if (!(details = change_details(id, email, "role", role_name(role), NULL, NULL))) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    if ((e = audit_write(rq->workspace_id, "MEMBER_ADDED", rq->user.user_id, details)) != WSMS_OK)
        goto out;
    if (!(obj = member_json(&m)))
        e = E_INTERNAL_SERVER_ERROR;
out:
    e = end_tx(e);
    cJSON_Delete(details);
    if (e == WSMS_OK) {
        *is_caller = member_is_caller(&m, &rq->user);
        *out = obj;
        obj = NULL;
        log_info(LG, "added %s to workspace %s as %s", id, rq->workspace_id, role_name(role));
    }
    cJSON_Delete(obj);
    return e;
}

wsms_err members_set_role(struct request *rq, const char *member_id, enum role role, cJSON **out,
                          bool *is_caller, const char **why)
{
    char mid[GUID_LEN + 1];
    struct member_row m;
    cJSON *obj = NULL, *details = NULL;
    wsms_err e;
    *out = NULL;
    *is_caller = false;
    *why = NULL;
    memset(&m, 0, sizeof(m));
    /* the middleware's role answers the common refusal without a
     * transaction; begin_change checks it again under the lock */
    if (rq->role < ROLE_ADMIN) {
        *why = "Changing a role needs ADMIN or OWNER";
        return E_INSUFFICIENT_PERMISSIONS;
    }
    if (!member_id || guid_normalize(member_id, mid) != 0)
        return E_MEMBER_NOT_FOUND;
    if ((e = begin_change(rq)) != WSMS_OK)
        goto out;
    if (rq->role < ROLE_ADMIN) {
        *why = "Changing a role needs ADMIN or OWNER";
        e = E_INSUFFICIENT_PERMISSIONS;
        goto out;
    }
    if (role == ROLE_OWNER && rq->role < ROLE_OWNER) {
        *why = "Only an OWNER may grant OWNER";
        e = E_INSUFFICIENT_PERMISSIONS;
        goto out;
    }
    if ((e = load_member(rq->arena, rq->workspace_id, mid, &m)) != WSMS_OK)
        goto out;
    enum role old = role_parse(m.role);
    if (old == ROLE_OWNER && rq->role < ROLE_OWNER) {
        *why = "Only an OWNER may change an OWNER's role";
        e = E_INSUFFICIENT_PERMISSIONS;
        goto out;
    }
    if (old != role) {
        long n = 0;
        e = db_exec(&n,
                    "UPDATE pmassist_master.WorkspaceMember SET role = ? "
                    "WHERE id = ? AND workspace_id = ?",
                    "sss", role_name(role), mid, rq->workspace_id);
        if (e == WSMS_OK && n != 1)
            e = E_MEMBER_NOT_FOUND;
        if (e == WSMS_OK && old == ROLE_OWNER)
            e = check_owners_left(rq->arena, rq->workspace_id);
        if (e != WSMS_OK)
            goto out;
        details = change_details(mid, m.user_email, "old_role", role_name(old), "new_role",
                                 role_name(role));
        if (!details) {
            e = E_INTERNAL_SERVER_ERROR;
            goto out;
        }
        e = audit_write(rq->workspace_id, "MEMBER_ROLE_UPDATED", rq->user.user_id, details);
        if (e != WSMS_OK)
            goto out;
    }
    m.role = role_name(role);
    if (!(obj = member_json(&m)))
        e = E_INTERNAL_SERVER_ERROR;
out:
    e = end_tx(e);
    cJSON_Delete(details);
    if (e == WSMS_OK) {
        *is_caller = member_is_caller(&m, &rq->user);
        *out = obj;
        obj = NULL;
    }
    cJSON_Delete(obj);
    return e;
}

wsms_err members_remove(struct request *rq, const char *member_id, cJSON **out, bool *is_caller,
                        const char **why)
{
    char mid[GUID_LEN + 1];
    struct member_row m;
    cJSON *obj = NULL, *details = NULL;
    bool self = false;
    wsms_err e;
    *out = NULL;
    *is_caller = false;
    *why = NULL;
    memset(&m, 0, sizeof(m));
    if (!member_id || guid_normalize(member_id, mid) != 0)
        return E_MEMBER_NOT_FOUND;
    if ((e = begin_change(rq)) != WSMS_OK)
        goto out;
    if ((e = load_member(rq->arena, rq->workspace_id, mid, &m)) != WSMS_OK)
        goto out;
    enum role old = role_parse(m.role);
    self = member_is_caller(&m, &rq->user);
    if (!self && rq->role < ROLE_ADMIN) {
        *why = "Removing another member needs ADMIN or OWNER";
        e = E_INSUFFICIENT_PERMISSIONS;
        goto out;
    }
    if (!self && old == ROLE_OWNER && rq->role < ROLE_OWNER) {
        *why = "Only an OWNER may remove an OWNER";
        e = E_INSUFFICIENT_PERMISSIONS;
        goto out;
    }
    long n = 0;
    e = db_exec(&n, "DELETE FROM pmassist_master.WorkspaceMember WHERE id = ? AND workspace_id = ?",
                "ss", mid, rq->workspace_id);
    if (e == WSMS_OK && n != 1)
        e = E_MEMBER_NOT_FOUND;
    if (e == WSMS_OK && old == ROLE_OWNER)
        e = check_owners_left(rq->arena, rq->workspace_id);
    if (e != WSMS_OK)
        goto out;
    if (!(details = change_details(mid, m.user_email, "role", m.role, NULL, NULL))) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    if ((e = audit_write(rq->workspace_id, "MEMBER_REMOVED", rq->user.user_id, details)) != WSMS_OK)
        goto out;
    if (!(obj = member_json(&m)))
        e = E_INTERNAL_SERVER_ERROR;
out:
    e = end_tx(e);
    cJSON_Delete(details);
    if (e == WSMS_OK) {
        *is_caller = self;
        *out = obj;
        obj = NULL;
        log_info(LG, "removed %s from workspace %s", mid, rq->workspace_id);
    }
    cJSON_Delete(obj);
    return e;
}
