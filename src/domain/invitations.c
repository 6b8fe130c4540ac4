#include "domain/invitations.h"

#include "auth/roles.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "data/db.h"
#include "data/dialect.h"
#include "domain/audit.h"
#include "http/hooks.h"

#include <stdio.h>
#include <string.h>

#define LG "invitations"

/* Column list (alias i), in the order inv_json reads it. */
#define INV_COLS                                                                                   \
    "i.id, i.workspace_id, i.email, i.role, i.message, i.status, i.invited_by, i.created_at, "     \
    "i.expires_at, i.resent_at, i.resend_count, i.closed_at, i.closed_by, i.member_id"
#define INV_NCOLS 14
/* the same, unqualified, and their types (auth/roles.h roles_read_start) */
#define INV_PLAIN                                                                                  \
    "id, workspace_id, email, role, message, status, invited_by, created_at, expires_at, "         \
    "resent_at, resend_count, closed_at, closed_by, member_id"
#define INV_TYPES "GGSSSSSTTTITSG"
enum { C_ID, C_WS, C_EMAIL, C_ROLE, C_MESSAGE, C_STATUS };
#define C_EXPIRES 8
#define C_COUNT   10

static const char *const status_names[] = {"",         "pending", "accepted",
                                           "declined", "revoked", "expired"};

enum inv_status inv_status_parse(const char *s)
{
    for (int i = INV_PENDING; s && i <= INV_EXPIRED; i++)
        if (strcmp(s, status_names[i]) == 0)
            return (enum inv_status)i;
    return INV_ANY;
}

/* The status a client sees: stored, with pending past expires_at (before
 * now) as expired. */
static enum inv_status derived(const char *stored, const char *expires_at, int64_t now)
{
    enum inv_status st = inv_status_parse(stored);
    if (st == INV_PENDING) {
        int64_t exp = iso8601_parse_ms(expires_at);
        if (exp < 0 || exp < now)
            st = INV_EXPIRED;
    }
    return st;
}

/* Why a derived status refuses a response or a change (WSMS_OK when the
 * invitation is pending and unexpired). */
static wsms_err refusal(enum inv_status st)
{
    switch (st) {
    case INV_PENDING:
        return WSMS_OK;
    case INV_EXPIRED:
        return E_INVITATION_EXPIRED;
    case INV_REVOKED:
        return E_INVITATION_REVOKED;
    default:
        return E_INVITATION_ALREADY_USED;
    }
}

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

/* Row r as {"id","workspace_id","email","role","message","status",
 * "invited_by","created_at","expires_at","resent_at","resend_count",
 * "closed_at","closed_by","member_id"[,"workspace_name"]}, its columns
 * from c0. */
static cJSON *inv_json(const struct db_rows *rows, int r, int c0, int64_t now, bool ws_name)
{
    static const char *const names[INV_NCOLS] = {
        "id",           "workspace_id", "email",      "role",       "message",
        "status",       "invited_by",   "created_at", "expires_at", "resent_at",
        "resend_count", "closed_at",    "closed_by",  "member_id"};
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (int c = 0; c < INV_NCOLS; c++) {
        const char *v = db_val(rows, r, c0 + c);
        bool ok;
        if (c == C_STATUS)
            ok = add_str(o, names[c],
                         status_names[derived(v, db_val(rows, r, c0 + C_EXPIRES), now)]);
        else if (c == C_COUNT)
            ok =
                cJSON_AddNumberToObject(o, names[c], (double)db_val_ll(rows, r, c0 + c, 0)) != NULL;
        else
            ok = add_str(o, names[c], v);
        if (!ok)
            goto fail;
    }
    if (ws_name && !add_str(o, "workspace_name", db_val(rows, r, c0 + INV_NCOLS)))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static wsms_err end_tx(wsms_err e)
{
    if (!db_in_transaction())
        return e;
    if (e == WSMS_OK)
        return db_commit();
    db_rollback();
    return e;
}

static int64_t expiry_from(int64_t now)
{
    return now + (int64_t)config_get()->invitation_expiry_days * 86400 * 1000;
}

/* The invitation inv_id (raw path text) of ws_id (NULL: any workspace, then
 * with w.is_active as column INV_NCOLS) into *rows. */
static wsms_err load(struct request *rq, const char *inv_id, const char *ws_id,
                     struct db_rows *rows)
{
    char id[GUID_LEN + 1];
    wsms_err e;
    if (!inv_id || guid_normalize(inv_id, id) != 0)
        return E_INVITATION_NOT_FOUND;
    if (ws_id)
        e = db_query(rq->arena, rows,
                     "SELECT " INV_COLS " FROM pmassist_master.Invitation i "
                     "WHERE i.id = ? AND i.workspace_id = ?",
                     "ss", id, ws_id);
    else
        e = db_query(rq->arena, rows,
                     "SELECT " INV_COLS ", w.is_active FROM pmassist_master.Invitation i "
                     "JOIN pmassist_master.Workspace w ON w.id = i.workspace_id WHERE i.id = ?",
                     "s", id);
    if (e == WSMS_OK && rows->nrows != 1)
        e = E_INVITATION_NOT_FOUND;
    return e;
}

/* One row of the invitation as JSON into *out (after a change). */
static wsms_err reload_json(struct request *rq, const char *id, const char *ws_id, int64_t now,
                            cJSON **out)
{
    struct db_rows rows;
    wsms_err e = load(rq, id, ws_id, &rows);
    if (e != WSMS_OK)
        return e;
    *out = inv_json(&rows, 0, 0, now, false);
    return *out ? WSMS_OK : E_INTERNAL_SERVER_ERROR;
}

/* Audit entry action on ws_id by actor: {"invitation_id","email","role"}
 * plus the key/value pairs of extra (NULL-terminated; a NULL value is
 * left out). */
static wsms_err audit(const char *ws_id, const char *action, const char *actor, const char *inv_id,
                      const char *email, const char *role, const char *const *extra)
{
    cJSON *d = cJSON_CreateObject();
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    if (!d || !add_str(d, "invitation_id", inv_id) || !add_str(d, "email", email) ||
        !add_str(d, "role", role))
        goto out;
    for (; extra && extra[0]; extra += 2)
        if (extra[1] && !add_str(d, extra[0], extra[1]))
            goto out;
    e = audit_write(ws_id, action, actor, d);
out:
    cJSON_Delete(d);
    return e;
}

wsms_err invitations_create(struct request *rq, const char *email, enum role role,
                            const char *message, cJSON **out, const char **why)
{
    char id[GUID_LEN + 1], exp_s[25];
    struct db_rows rows;
    long superseded = 0;
    int64_t now = hook_now_ms(rq), exp = expiry_from(now);
    wsms_err e;
    *out = NULL;
    *why = NULL;
    if (role == ROLE_OWNER && rq->role < ROLE_OWNER) {
        *why = "Only an OWNER may invite an OWNER";
        return E_INSUFFICIENT_PERMISSIONS;
    }
    if (guid_new(id) != 0)
        return E_INTERNAL_SERVER_ERROR;
    iso8601_ms(exp, exp_s);
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    e = db_query(rq->arena, &rows,
                 "SELECT COUNT(*) FROM pmassist_master.WorkspaceMember "
                 "WHERE workspace_id = ? AND user_email = ?",
                 "ss", rq->workspace_id, email);
    if (e == WSMS_OK && db_val_ll(&rows, 0, 0, 0) > 0) {
        *why = "This person is already a member of the workspace";
        e = E_CONFLICT;
    }
    if (e != WSMS_OK)
        goto out;
    /* an expired pending invitation gives way (stored as expired) */
    e = db_exec(&superseded,
                "UPDATE pmassist_master.Invitation SET status = 'expired' "
                "WHERE workspace_id = ? AND email = ? AND status = 'pending' AND expires_at < ?",
                "sst", rq->workspace_id, email, now);
    if (e != WSMS_OK)
        goto out;
    /* a live pending one stays: the unique index answers E_CONFLICT */
    e = db_exec(NULL,
                "INSERT INTO pmassist_master.Invitation (id, workspace_id, email, role, message, "
                "status, invited_by, created_at, expires_at, resent_at, resend_count, closed_at, "
                "closed_by, member_id) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, NULL, 0, NULL, "
                "NULL, NULL)",
                "sssssstt", id, rq->workspace_id, email, role_name(role), message, rq->user.user_id,
                now, exp);
    if (e == E_CONFLICT)
        *why = "A pending invitation for this email exists: resend or revoke it";
    if (e != WSMS_OK)
        goto out;
    const char *extra[] = {"expires_at", exp_s, "superseded", superseded ? "expired" : NULL, NULL};
    e = audit(rq->workspace_id, "INVITATION_CREATED", rq->user.user_id, id, email, role_name(role),
              extra);
    if (e == WSMS_OK)
        e = reload_json(rq, id, rq->workspace_id, now, out);
out:
    e = end_tx(e);
    if (e == WSMS_OK)
        log_info(LG, "invitation %s to workspace %s as %s", id, rq->workspace_id, role_name(role));
    else {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return e;
}

/* The page's rows (kind 'i', columns at ROLES_C_DATA) as an array. */
static wsms_err page_array(const struct db_rows *rows, long limit, long offset, int64_t now,
                           bool ws_name, cJSON **out)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return E_INTERNAL_SERVER_ERROR;
    for (int r = 0; r < rows->nrows; r++) {
        if (roles_read_kind(rows, r) != 'i' || !roles_read_in_page(rows, r, limit, offset))
            continue;
        cJSON *it = inv_json(rows, r, ROLES_C_DATA, now, ws_name);
        if (!it || !cJSON_AddItemToArray(arr, it)) {
            cJSON_Delete(it);
            cJSON_Delete(arr);
            return E_INTERNAL_SERVER_ERROR;
        }
    }
    *out = arr;
    return WSMS_OK;
}

wsms_err invitations_list(struct request *rq, enum inv_status st, long limit, long offset,
                          cJSON **out, long *total)
{
    struct db_rows rows;
    struct roles_read q;
    int64_t now = hook_now_ms(rq);
    /* the derived status as SQL, each with one parameter (time or status) */
    const char *cond = st == INV_PENDING   ? "i.status = 'pending' AND i.expires_at >= ?"
                       : st == INV_EXPIRED ? "(i.status = 'expired' OR (i.status = 'pending' "
                                             "AND i.expires_at < ?))"
                       : st == INV_ANY     ? "i.status <> ?"
                                           : "i.status = ?";
    const char *sval = st == INV_ANY ? "any" : status_names[st];
    const char *typed = roles_read_cols(rq->arena, "ti", INV_PLAIN);
    const char *inner = arena_printf(rq->arena,
                                     INV_COLS " FROM pmassist_master.Invitation i "
                                              "WHERE i.workspace_id = ? AND %s",
                                     cond);
    *out = NULL;
    *total = 0;
    if (!typed || !inner)
        return E_INTERNAL_SERVER_ERROR;
    /* one statement: the caller's role, the page and its total */
    wsms_err e =
        roles_read_start(&q, rq, INV_NCOLS, INV_TYPES, typed, "pmassist_master.Invitation ti");
    if (e != WSMS_OK)
        return e;
    db_param_s(&q.params, rq->workspace_id);
    if (st == INV_PENDING || st == INV_EXPIRED)
        db_param_t(&q.params, now);
    else
        db_param_s(&q.params, sval);
    if ((e = roles_read_page(&q, 'i', 0, INV_NCOLS, INV_PLAIN, inner, "i.created_at DESC, i.id",
                             limit, offset)) != WSMS_OK ||
        (e = roles_read_run(&q, &rows)) != WSMS_OK)
        return e;
    *total = roles_read_total(&rows, 'i');
    return page_array(&rows, limit, offset, now, false, out);
}

/* Resend or revoke: the stored status must be pending or expired. */
static wsms_err change(struct request *rq, const char *inv_id, bool resend, cJSON **out,
                       const char **why)
{
    struct db_rows rows;
    char exp_s[25], count[24];
    long n = 0;
    int64_t now = hook_now_ms(rq), exp = expiry_from(now);
    wsms_err e;
    *out = NULL;
    *why = NULL;
    iso8601_ms(exp, exp_s);
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    if ((e = load(rq, inv_id, rq->workspace_id, &rows)) != WSMS_OK)
        goto out;
    const char *id = db_val(&rows, 0, C_ID), *email = db_val(&rows, 0, C_EMAIL);
    const char *role = db_val(&rows, 0, C_ROLE);
    enum inv_status st = derived(db_val(&rows, 0, C_STATUS), db_val(&rows, 0, C_EXPIRES), now);
    if (st != INV_PENDING && st != INV_EXPIRED) {
        e = refusal(st);
        goto out;
    }
    if (resend && role_parse(role) == ROLE_OWNER && rq->role < ROLE_OWNER) {
        *why = "Only an OWNER may resend an OWNER invitation";
        e = E_INSUFFICIENT_PERMISSIONS;
        goto out;
    }
    if (resend)
        e = db_exec(&n,
                    "UPDATE pmassist_master.Invitation SET status = 'pending', expires_at = ?, "
                    "resent_at = ?, resend_count = resend_count + 1 WHERE id = ? AND "
                    "workspace_id = ? AND status IN ('pending', 'expired')",
                    "ttss", exp, now, id, rq->workspace_id);
    else
        e = db_exec(&n,
                    "UPDATE pmassist_master.Invitation SET status = 'revoked', closed_at = ?, "
                    "closed_by = ? WHERE id = ? AND workspace_id = ? AND "
                    "status IN ('pending', 'expired')",
                    "tsss", now, rq->user.user_id, id, rq->workspace_id);
    if (e == E_CONFLICT)
        *why = "Another invitation for this email is pending";
    if (e == WSMS_OK && n != 1)
        e = E_CONFLICT; /* changed meanwhile */
    if (e != WSMS_OK)
        goto out;
    snprintf(count, sizeof(count), "%lld", db_val_ll(&rows, 0, C_COUNT, 0) + 1);
    const char *extra[] = {"expires_at", exp_s, "resend_count", count, NULL};
    e = audit(rq->workspace_id, resend ? "INVITATION_RESENT" : "INVITATION_REVOKED",
              rq->user.user_id, id, email, role, resend ? extra : NULL);
    if (e == WSMS_OK)
        e = reload_json(rq, id, rq->workspace_id, now, out);
out:
    e = end_tx(e);
    if (e == WSMS_OK) {
        log_info(LG, "invitation %s %s", inv_id, resend ? "resent" : "revoked");
    } else {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return e;
}

wsms_err invitations_resend(struct request *rq, const char *inv_id, cJSON **out, const char **why)
{
    return change(rq, inv_id, true, out, why);
}

wsms_err invitations_revoke(struct request *rq, const char *inv_id, cJSON **out, const char **why)
{
    return change(rq, inv_id, false, out, why);
}

static int role_rank(const char *r)
{
    return (int)role_parse(r);
}

/* Inside the caller's transaction: accepts invitation id (of ws_id, for
 * role) as user_id with display_name and makes the membership: claims the
 * invitation with a conditional UPDATE (*claimed false when it was no
 * longer pending and unexpired: nothing else is done), inserts the
 * membership from the invitation row unless the person is a member, else
 * raises a lower role. *member_id, *how ("created", "role_raised",
 * "unchanged") are arena strings. Audited INVITATION_ACCEPTED. */
static wsms_err accept_one(struct request *rq, const char *id, const char *ws_id, const char *email,
                           const char *role, const char *user_id, const char *display_name,
                           const char *via, int64_t now, bool *claimed, const char **member_id,
                           const char **how)
{
    char mid[GUID_LEN + 1];
    struct db_rows rows;
    const char *old_role = NULL;
    long n = 0;
    *claimed = false;
    *member_id = *how = NULL;
    if (guid_new(mid) != 0)
        return E_INTERNAL_SERVER_ERROR;
    wsms_err e = db_exec(&n,
                         "UPDATE pmassist_master.Invitation SET status = 'accepted', "
                         "closed_at = ?, closed_by = ?, member_id = ? WHERE id = ? AND "
                         "status = 'pending' AND expires_at >= ?",
                         "tssst", now, user_id, mid, id, now);
    if (e != WSMS_OK || n != 1)
        return e;
    *claimed = true;
    /* the membership from the invitation row itself, unless one exists by
     * user id or by email (both are unique per workspace) */
    e = db_exec(&n,
                "INSERT INTO pmassist_master.WorkspaceMember (id, workspace_id, user_id, "
                "user_email, display_name, role, added_at) "
                "SELECT i.member_id, i.workspace_id, i.closed_by, i.email, ?, i.role, i.closed_at "
                "FROM pmassist_master.Invitation i WHERE i.id = ? AND NOT EXISTS "
                "(SELECT 1 FROM pmassist_master.WorkspaceMember m WHERE m.workspace_id = "
                "i.workspace_id AND (m.user_id = i.closed_by OR m.user_email = i.email))",
                "ss", display_name && *display_name ? display_name : NULL, id);
    if (e != WSMS_OK)
        return e;
    if (n == 1) {
        *member_id = arena_strdup(rq->arena, mid);
        *how = "created";
    } else {
        e = db_query(rq->arena, &rows,
                     "SELECT id, role, user_id FROM pmassist_master.WorkspaceMember "
                     "WHERE workspace_id = ? AND (user_id = ? OR user_email = ?)",
                     "sss", ws_id, user_id, email);
        if (e != WSMS_OK)
            return e;
        if (rows.nrows == 0)
            return E_CONFLICT; /* removed meanwhile: the caller tries again */
        int pick = 0;
        for (int r = 0; r < rows.nrows; r++)
            if (db_val(&rows, r, 2) && strcmp(db_val(&rows, r, 2), user_id) == 0)
                pick = r;
        *member_id = db_val(&rows, pick, 0);
        old_role = db_val(&rows, pick, 1);
        *how = "unchanged";
        if (role_rank(role) > role_rank(old_role)) {
            e = db_exec(&n,
                        "UPDATE pmassist_master.WorkspaceMember SET role = ? "
                        "WHERE id = ? AND role = ?",
                        "sss", role, *member_id, old_role);
            if (e != WSMS_OK)
                return e;
            if (n != 1)
                return E_CONFLICT; /* changed meanwhile: try again */
            *how = "role_raised";
        }
        e = db_exec(NULL, "UPDATE pmassist_master.Invitation SET member_id = ? WHERE id = ?", "ss",
                    *member_id, id);
        if (e != WSMS_OK)
            return e;
    }
    const char *extra[] = {"member_id", *member_id, "membership", *how, "old_role",
                           old_role,    "via",      via,          NULL};
    e = audit(ws_id, "INVITATION_ACCEPTED", user_id, id, email, role, extra);
    if (e == WSMS_OK)
        log_info(LG, "invitation %s accepted by %s (%s, member %s)", id, user_id, *how, *member_id);
    return e;
}

wsms_err invitations_respond(struct request *rq, const char *inv_id, bool accept, cJSON **out)
{
    struct db_rows rows;
    int64_t now = hook_now_ms(rq);
    bool claimed = false;
    const char *member_id = NULL, *how = NULL;
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    *out = NULL;
    /* a conflict with a concurrent membership change rolls back; the second
     * attempt sees it */
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((e = db_begin()) != WSMS_OK)
            break;
        if ((e = load(rq, inv_id, NULL, &rows)) != WSMS_OK)
            goto next;
        const char *id = db_val(&rows, 0, C_ID), *ws = db_val(&rows, 0, C_WS);
        const char *email = db_val(&rows, 0, C_EMAIL), *role = db_val(&rows, 0, C_ROLE);
        if (!rq->user.email || !email || strcmp(email, rq->user.email) != 0) {
            e = E_INVITATION_EMAIL_MISMATCH;
            goto next;
        }
        if (!db_val_bool(&rows, 0, INV_NCOLS)) {
            e = E_WORKSPACE_NOT_FOUND;
            goto next;
        }
        e = refusal(derived(db_val(&rows, 0, C_STATUS), db_val(&rows, 0, C_EXPIRES), now));
        if (e != WSMS_OK)
            goto next;
        if (accept) {
            e = accept_one(rq, id, ws, email, role, rq->user.user_id, rq->user.display_name,
                           "explicit", now, &claimed, &member_id, &how);
        } else {
            long n = 0;
            e = db_exec(&n,
                        "UPDATE pmassist_master.Invitation SET status = 'declined', "
                        "closed_at = ?, closed_by = ? WHERE id = ? AND status = 'pending' AND "
                        "expires_at >= ?",
                        "tsst", now, rq->user.user_id, id, now);
            claimed = e == WSMS_OK && n == 1;
            if (claimed)
                e = audit(ws, "INVITATION_DECLINED", rq->user.user_id, id, email, role, NULL);
        }
        if (e == WSMS_OK && !claimed)
            e = E_CONFLICT; /* answered meanwhile: read it again */
        if (e == WSMS_OK)
            e = reload_json(rq, id, NULL, now, out);
    next:
        e = end_tx(e);
        if (e != E_CONFLICT)
            break;
        cJSON_Delete(*out);
        *out = NULL;
    }
    if (e == E_CONFLICT) {
        /* still conflicting: answer with what the invitation is now */
        if (load(rq, inv_id, NULL, &rows) == WSMS_OK)
            e = refusal(derived(db_val(&rows, 0, C_STATUS), db_val(&rows, 0, C_EXPIRES), now));
        if (e == WSMS_OK)
            e = E_CONFLICT;
    }
    if (e != WSMS_OK) {
        cJSON_Delete(*out);
        *out = NULL;
    } else if (accept && !add_str(*out, "membership", how)) {
        cJSON_Delete(*out);
        *out = NULL;
        e = E_INTERNAL_SERVER_ERROR;
    }
    return e;
}

wsms_err invitations_mine(struct request *rq, long limit, long offset, cJSON **out, long *total)
{
    struct db_rows rows;
    struct roles_read q;
    int64_t now = hook_now_ms(rq);
    const char *email = rq->user.email ? rq->user.email : "";
    const char *typed = roles_read_cols(rq->arena, "ti", INV_PLAIN);
    const char *typed_all = typed ? arena_printf(rq->arena, "%s, tw.name", typed) : NULL;
    *out = NULL;
    *total = 0;
    if (!typed_all)
        return E_INTERNAL_SERVER_ERROR;
    /* one statement: the caller's revocation, the page and its total */
    wsms_err e = roles_read_start(&q, rq, INV_NCOLS + 1, INV_TYPES "S", typed_all,
                                  "pmassist_master.Invitation ti, pmassist_master.Workspace tw");
    if (e != WSMS_OK)
        return e;
    db_param_s(&q.params, email);
    db_param_t(&q.params, now);
    if ((e = roles_read_page(&q, 'i', 0, INV_NCOLS + 1, INV_PLAIN ", workspace_name",
                             INV_COLS ", w.name AS workspace_name "
                                      "FROM pmassist_master.Invitation i "
                                      "JOIN pmassist_master.Workspace w ON w.id = i.workspace_id "
                                      "WHERE i.email = ? AND i.status = 'pending' AND "
                                      "i.expires_at >= ? AND w.is_active = 1",
                             "i.created_at DESC, i.id", limit, offset)) != WSMS_OK ||
        (e = roles_read_run(&q, &rows)) != WSMS_OK)
        return e;
    *total = roles_read_total(&rows, 'i');
    return page_array(&rows, limit, offset, now, true, out);
}

/* {"id","workspace_id","role","member_id","membership"} appended to arr. */
static bool add_accepted(cJSON *arr, const char *id, const char *ws, const char *role,
                         const char *member_id, const char *how)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !add_str(o, "id", id) || !add_str(o, "workspace_id", ws) ||
        !add_str(o, "role", role) || !add_str(o, "member_id", member_id) ||
        !add_str(o, "membership", how) || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return false;
    }
    return true;
}

wsms_err invitations_accept_on_sign_in(struct request *rq, const char *user_id, const char *email,
                                       const char *display_name, cJSON **accepted)
{
    struct db_rows rows;
    cJSON *arr = NULL;
    int64_t now = hook_now_ms(rq);
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    *accepted = NULL;
    if (!email || !*email)
        return (*accepted = cJSON_CreateArray()) ? WSMS_OK : E_INTERNAL_SERVER_ERROR;
    /* the one statement on every sign-in (index on email, status) */
    e = db_query(rq->arena, &rows,
                 "SELECT i.id, i.workspace_id, i.role FROM pmassist_master.Invitation i "
                 "JOIN pmassist_master.Workspace w ON w.id = i.workspace_id "
                 "WHERE i.email = ? AND i.status = 'pending' AND i.expires_at >= ? AND "
                 "w.is_active = 1",
                 "st", email, now);
    if (e != WSMS_OK)
        return e;
    for (int attempt = 0; attempt < 2; attempt++) {
        cJSON_Delete(arr);
        if (!(arr = cJSON_CreateArray())) {
            e = E_INTERNAL_SERVER_ERROR;
            break;
        }
        if (rows.nrows == 0) {
            e = WSMS_OK;
            break;
        }
        if ((e = db_begin()) != WSMS_OK)
            break;
        for (int r = 0; e == WSMS_OK && r < rows.nrows; r++) {
            const char *id = db_val(&rows, r, 0), *ws = db_val(&rows, r, 1);
            const char *role = db_val(&rows, r, 2), *member_id = NULL, *how = NULL;
            bool claimed = false;
            e = accept_one(rq, id, ws, email, role, user_id, display_name, "sign_in", now, &claimed,
                           &member_id, &how);
            if (e == WSMS_OK && claimed && !add_accepted(arr, id, ws, role, member_id, how))
                e = E_INTERNAL_SERVER_ERROR;
        }
        e = end_tx(e);
        if (e != E_CONFLICT)
            break;
    }
    if (e == E_CONFLICT) {
        /* a membership changing under both attempts: sign in without
         * accepting; the invitations stay pending for the next sign-in */
        log_warn(LG, "invitations for user %s left pending (concurrent change)", user_id);
        cJSON_Delete(arr);
        arr = cJSON_CreateArray();
        e = arr ? WSMS_OK : E_INTERNAL_SERVER_ERROR;
    }
    if (e == WSMS_OK) {
        *accepted = arr;
        arr = NULL;
    }
    cJSON_Delete(arr);
    return e;
}
