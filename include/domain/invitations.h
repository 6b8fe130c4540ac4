/* invitations (domain): pmassist_master.Invitation, invitations to join a
 * workspace by email with a role, and their life: created (ADMIN+; only an
 * OWNER invites an OWNER), resent (a new expiry), revoked, accepted (by
 * signing in with the invited email, or explicitly) or declined. Every step
 * is audited in its transaction (INVITATION_CREATED, _RESENT, _REVOKED,
 * _ACCEPTED, _DECLINED). "expired" is derived: a stored pending invitation
 * whose expires_at is before the request clock (hook_now_ms, moved by
 * X-Test-Clock-Offset in tests) reads as expired; nothing runs in the
 * background. At most one pending invitation per workspace and email (a
 * partial / filtered unique index; a second is E_CONFLICT); creating one
 * when the pending one has expired marks the old one expired (stored) first.
 *
 * Acceptance creates the membership in the same transaction (bound to the
 * caller's user id, with the invited role); when the person is already a
 * member the invitation is accepted and the membership kept, its role raised
 * to the invited one when that is higher (never lowered).
 *
 * Trees handed back belong to the caller (cJSON_Delete); strings live in
 * the request arena. Owns no state. */
#ifndef WSMS_INVITATIONS_H
#define WSMS_INVITATIONS_H

#include "core/err.h"
#include "http/http.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Filter of the workspace list: derived status (INV_ANY = every one). */
enum inv_status { INV_ANY = 0, INV_PENDING, INV_ACCEPTED, INV_DECLINED, INV_REVOKED, INV_EXPIRED };
/* "pending" ... "expired" -> the status; INV_ANY for anything else. */
enum inv_status inv_status_parse(const char *s);

/* On rq->workspace_id as rq->user, rq->role (the middleware's). *why gets a
 * static message for a refusal, or NULL. */

/* A new invitation for email (lower-case, validated) with role and message
 * (NULL = none), expiring INVITATION_EXPIRY_DAYS from now. E_CONFLICT when
 * the person is a member already or a pending invitation exists;
 * E_INSUFFICIENT_PERMISSIONS when a non-OWNER invites an OWNER. */
wsms_err invitations_create(struct request *rq, const char *email, enum role role,
                            const char *message, cJSON **out, const char **why);
/* A page of the workspace's invitations (newest first) and the total. */
wsms_err invitations_list(struct request *rq, enum inv_status st, long limit, long offset,
                          cJSON **out, long *total);
/* A pending or expired invitation gets a new expiry (INVITATION_EXPIRY_DAYS
 * from now). E_INVITATION_NOT_FOUND, E_INVITATION_REVOKED,
 * E_INVITATION_ALREADY_USED, E_CONFLICT (another one is pending now),
 * E_INSUFFICIENT_PERMISSIONS (an OWNER invitation, by a non-OWNER). */
wsms_err invitations_resend(struct request *rq, const char *inv_id, cJSON **out, const char **why);
/* Revokes a pending or expired invitation; same errors but the last two. */
wsms_err invitations_revoke(struct request *rq, const char *inv_id, cJSON **out, const char **why);

/* As the signed-in caller (rq->user, email lower-case), any workspace. */

/* Accepts (accept true) or declines inv_id. E_INVITATION_NOT_FOUND,
 * E_WORKSPACE_NOT_FOUND (archived), E_INVITATION_EMAIL_MISMATCH (the
 * invitation is for another email; checked before anything else is told),
 * E_INVITATION_EXPIRED, E_INVITATION_REVOKED, E_INVITATION_ALREADY_USED. */
wsms_err invitations_respond(struct request *rq, const char *inv_id, bool accept, cJSON **out);
/* The caller's pending (not expired) invitations to active workspaces,
 * newest first, with "workspace_name"; a page and the total. */
wsms_err invitations_mine(struct request *rq, long limit, long offset, cJSON **out, long *total);
/* Sign-in hook (/auth/validate, /auth/refresh): accepts every pending,
 * unexpired invitation for email to an active workspace as user_id. One
 * SELECT when there is none; otherwise one transaction. *accepted: an array
 * (possibly empty) of {"id","workspace_id","role","member_id","membership"}. */
wsms_err invitations_accept_on_sign_in(struct request *rq, const char *user_id, const char *email,
                                       const char *display_name, cJSON **accepted);

#endif
