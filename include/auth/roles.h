/* roles: what the database says about a caller's memberships, for the auth
 * middleware and for PMA token issuance. Matching is by Entra oid
 * (user_id), and for memberships added by email and not yet bound, by the
 * lower-cased email; such memberships are bound to the oid here. Results
 * live in the caller's arena. */
#ifndef WSMS_ROLES_H
#define WSMS_ROLES_H

#include "core/err.h"
#include "http/http.h"

#include <stdbool.h>

struct arena;

/* The caller's role in a workspace that is active (or archived, when
 * archived is set; ROLE_NONE when not a member), read in the same statement
 * as the caller's session revocation: first E_INVALID_PMA_TOKEN when a token
 * issued at token_iat is revoked (see sessions.h), then
 * E_WORKSPACE_NOT_FOUND when the workspace does not exist or is not in that
 * state. Binds an email-only membership to user_id on the way. */
wsms_err roles_in_workspace(struct arena *a, const char *ws_id, const char *user_id,
                            const char *email, long token_iat, bool archived, enum role *role);
/* The user's revoked_through (0 when never revoked): the one statement the
 * middleware adds on routes without a workspace. */
wsms_err roles_revoked_through(struct arena *a, const char *user_id, long *through);
/* Binds every unbound membership with this email to user_id, except in
 * workspaces where user_id already has a membership. */
wsms_err roles_bind_email(const char *user_id, const char *email);
/* {"<workspace id>": "OWNER", ...} over the caller's active workspaces; the
 * object is owned by the arena. *through gets the user's revoked_through
 * from the same statement (0 when never revoked). */
wsms_err roles_of_user(struct arena *a, const char *user_id, const char *email, cJSON **roles,
                       long *through);

#endif
