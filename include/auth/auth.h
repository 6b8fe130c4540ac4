/* auth: the middleware run before every handler whose route needs it.
 * `Authorization: ApiKey <key>` is accepted on workspace routes only
 * (auth/apikeys.h: the key acts as "apikey:<id>" with its scopes' role).
 * Otherwise:
 * Verifies the Entra token (Authorization: Bearer) and the PMA token
 * (X-PMA-Token), checks they name the same user, binds memberships added by
 * email to the caller's oid, takes a token from the caller's rate limit
 * bucket (429 RATE_LIMITED, core/ratelimit.h), refuses PMA tokens issued
 * at or before the user's session revocation (auth/sessions.h), and for
 * workspace routes reads the caller's role from WorkspaceMember now (never
 * from the token), in the same statement as the revocation. Fills rq->user,
 * rq->workspace_id and rq->role. Owns nothing per request. */
#ifndef WSMS_AUTH_H
#define WSMS_AUTH_H

#include "http/http.h"
#include "http/router.h"

wsms_err auth_request(struct request *rq, struct response *rs);
/* A new PMA token (arena string) for the authenticated caller with the
 * roles the database holds now; NULL on failure (logged). */
const char *auth_fresh_pma_token(struct request *rq);

#endif
