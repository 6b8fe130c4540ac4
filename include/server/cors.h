/* cors: wsmsd's side of CORS (CORS_ALLOWED_ORIGINS): whether a request's
 * Origin is allowed, the headers every answer to an allowed origin carries
 * (errors included), and the preflight answer, whose methods come from the
 * route table. Preflights need no tokens and touch no database. Owns
 * nothing; header values are copied into the request arena. */
#ifndef WSMS_CORS_H
#define WSMS_CORS_H

#include "http/http.h"

#include <stdbool.h>

#define CORS_ALLOW_HEADERS  "Authorization, X-PMA-Token, Content-Type, X-Request-Id, If-Match"
#define CORS_EXPOSE_HEADERS "X-Total-Count, X-Request-Id, ETag"

/* CORS_ALLOWED_ORIGINS is set. */
bool cors_enabled(void);
/* origin (the Origin header, may be NULL) is one of the allowed origins. */
bool cors_origin_allowed(const char *origin);
/* For the response about to be written: Vary: Origin whenever CORS is on;
 * Access-Control-Allow-Origin (the origin), -Expose-Headers and, when
 * configured, -Allow-Credentials when the Origin is allowed. 0 or -1. */
int cors_response_headers(struct request *rq, struct response *rs);
/* OPTIONS on a path that exists; allow = its methods from the route table.
 * 204 with Allow (and, for an allowed origin, Access-Control-Allow-Methods,
 * -Allow-Headers, -Max-Age); a disallowed Origin is 403 PERMISSION_DENIED
 * without CORS headers. */
wsms_err cors_preflight(struct request *rq, struct response *rs, const char *allow);

#endif
