/* sessions: revoking every PMA token of a user (POST /me/sessions/revoke,
 * `wsmsd revoke-user`). Writes pmassist_master.UserSessionRevocation, one
 * row per user: a PMA token whose iat (Unix seconds) is at or before the
 * row's revoked_through is refused by the middleware (read together with
 * the role lookup in roles.c), and tokens issued later get an iat of at
 * least revoked_through + 1, so a token issued in the revocation second
 * but after it still works. revoked_through never moves backwards. Owns
 * nothing. */
#ifndef WSMS_SESSIONS_H
#define WSMS_SESSIONS_H

#include "core/err.h"

#define SESSIONS_MAX_USER_ID 128

/* Revokes user_id's tokens issued at or before the current second; the
 * second now in force goes to *through (may be NULL). E_VALIDATION_ERROR
 * for an empty or over-long user_id. */
wsms_err sessions_revoke(const char *user_id, long *through);
/* True when a PMA token issued at iat is revoked by revoked_through
 * (0 = never revoked). */
int sessions_is_revoked(long iat, long revoked_through);

#endif
