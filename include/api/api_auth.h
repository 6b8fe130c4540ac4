/* api_auth: POST /auth/validate and POST /auth/refresh: exchange an Entra
 * token (plus, for refresh, the current PMA token, refused when its
 * session was revoked) for a PMA token carrying the caller's roles as the
 * database holds them, after accepting the pending invitations for the
 * token's email (domain/invitations.h; listed in "accepted_invitations");
 * POST /me/sessions/revoke: revoke every PMA token of
 * the caller issued up to now (see auth/sessions.h). */
#ifndef WSMS_API_AUTH_H
#define WSMS_API_AUTH_H

#include "http/http.h"

wsms_err api_auth_validate(struct request *rq, struct response *rs);
wsms_err api_auth_refresh(struct request *rq, struct response *rs);
wsms_err api_me_sessions_revoke(struct request *rq, struct response *rs);

#endif
