/* router: the shape of a route, and matching of a method + decoded path
 * against a route table (the server's, src/server/routes.c) with {name}
 * captures, yielding 404/405 + Allow. Owns nothing. */
#ifndef WSMS_ROUTER_H
#define WSMS_ROUTER_H

#include "core/err.h"
#include "http/http.h"

#include <stddef.h>

enum route_auth {
    AUTH_NONE,      /* anonymous */
    AUTH_USER,      /* Entra + PMA tokens */
    AUTH_WORKSPACE, /* tokens + membership of {id} with at least min_role */
    AUTH_ARCHIVED,  /* the same, of an archived {id} (restore) */
    /* One-statement reads (auth/roles.h): the middleware verifies the
     * tokens (or parses the API key) and the handler's single statement
     * reads the role with its data (roles_read_run); the server answers
     * 500 when such a handler answered without checking it. */
    AUTH_WORKSPACE_READ, /* AUTH_WORKSPACE, role read by the handler */
    AUTH_USER_READ       /* AUTH_USER, revocation read by the handler */
};

typedef wsms_err (*handler_fn)(struct request *rq, struct response *rs);

struct route {
    const char *method;
    const char *pattern; /* "/workspaces/{id}/members/{member_id}" */
    handler_fn handler;
    enum route_auth auth;
    enum role min_role;
    const char *name; /* stable label for logs and metrics, e.g. "workspaces.get" */
};

/* Matches against table[0..n). On a match returns the route and fills cap[]
 * (arena copies). Otherwise returns NULL with *err E_NOT_FOUND, or
 * E_METHOD_NOT_ALLOWED and the comma-separated methods of that path in
 * allow. */
const struct route *router_match(const struct route *table, size_t n, struct arena *a,
                                 const char *method, const char *path, const char *cap[2],
                                 wsms_err *err, char *allow, size_t allowlen);

#endif
