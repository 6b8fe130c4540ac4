/* members: the WorkspaceMember rows of a workspace and the rules for
 * changing them (who may add, re-role or remove whom; a workspace always
 * keeps an OWNER). Every change runs in one transaction with its audit
 * entry. Every query filters by workspace_id, so a member of another
 * workspace is never touched through this one. Owns no state; trees handed
 * back belong to the caller (cJSON_Delete), strings live in the arena. */
#ifndef WSMS_MEMBERS_H
#define WSMS_MEMBERS_H

#include "core/err.h"
#include "http/http.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

struct arena;
struct db_rows;

/* A membership as stored (strings borrowed; NULL for SQL NULL). */
struct member_row {
    const char *id, *workspace_id, *user_id, *user_email, *display_name, *role, *added_at;
};

/* Column list (alias m) in struct member_row order, for every member query. */
#define MEMBER_COLS                                                                                \
    "m.id, m.workspace_id, m.user_id, m.user_email, m.display_name, m.role, m.added_at"

#define MEMBER_NCOLS 7
#define MEMBER_TYPES "GGSSSST" /* auth/roles.h roles_read_start */
#define MEMBER_PLAIN "id, workspace_id, user_id, user_email, display_name, role, added_at"
/* Row r of a result selected with MEMBER_COLS (starting at column col0). */
void member_from_row(const struct db_rows *rows, int r, int col0, struct member_row *m);
/* {"id","workspace_id","user_id","user_email","display_name","role","added_at"}. */
cJSON *member_json(const struct member_row *m);
/* True when the membership is the caller's: same user_id, or not yet bound
 * and the caller's email. */
bool member_is_caller(const struct member_row *m, const struct identity *u);

/* The operations below act on rq->workspace_id as rq->user. Changes lock the
 * workspace row and read the caller's role again (into rq->role) inside
 * their transaction, so concurrent changes are judged one after the other
 * against current roles. *why gets a message for a refusal (static
 * string) or NULL; *is_caller tells whether the member touched is the caller
 * (the handler then sends a fresh PMA token). */

/* A page of members (oldest first) and the total. */
/* Filters of GET /workspaces/{id}/members: q (email or display name
 * contains, ASCII case-insensitive; NULL = any), role (ROLE_NONE = any). */
struct members_filter {
    const char *q;
    enum role role;
};
wsms_err members_list(struct request *rq, const struct members_filter *f, long limit, long offset,
                      cJSON **out, long *total);
/* Adds email (lower-case, validated) with role. E_CONFLICT when already a
 * member; E_INSUFFICIENT_PERMISSIONS when a non-OWNER adds an OWNER. */
wsms_err members_add(struct request *rq, const char *email, enum role role,
                     const char *display_name, cJSON **out, bool *is_caller, const char **why);
/* Changes the role of member_id (raw path text). E_MEMBER_NOT_FOUND,
 * E_INSUFFICIENT_PERMISSIONS, E_LAST_OWNER. */
wsms_err members_set_role(struct request *rq, const char *member_id, enum role role, cJSON **out,
                          bool *is_caller, const char **why);
/* Removes member_id; *out is the removed member. Same errors. */
wsms_err members_remove(struct request *rq, const char *member_id, cJSON **out, bool *is_caller,
                        const char **why);

#endif
