#include "server/cors.h"

#include "core/arena.h"
#include "core/config.h"

#include <stdio.h>
#include <string.h>

bool cors_enabled(void)
{
    const char *o = config_get()->cors_allowed_origins;
    return o && *o;
}

bool cors_origin_allowed(const char *origin)
{
    const char *p = config_get()->cors_allowed_origins;
    if (!origin || !*origin || !p)
        return false;
    size_t ol = strlen(origin);
    while (*p == ' ')
        p++;
    if (strcmp(p, "*") == 0)
        return true;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        size_t t = n;
        while (t && p[t - 1] == ' ')
            t--;
        /* exact, case-sensitive: browsers send origins lowercased */
        if (t == ol && memcmp(p, origin, ol) == 0)
            return true;
        p = e ? e + 1 : p + n;
        while (*p == ' ')
            p++;
    }
    return false;
}

int cors_response_headers(struct request *rq, struct response *rs)
{
    if (!cors_enabled())
        return 0;
    const char *origin = req_header(rq, "Origin");
    if (resp_header(rq, rs, "Vary", "Origin") != 0)
        return -1;
    if (!cors_origin_allowed(origin))
        return 0;
    if (resp_header(rq, rs, "Access-Control-Allow-Origin", origin) != 0 ||
        resp_header(rq, rs, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS) != 0)
        return -1;
    if (config_get()->cors_allow_credentials &&
        resp_header(rq, rs, "Access-Control-Allow-Credentials", "true") != 0)
        return -1;
    return 0;
}

wsms_err cors_preflight(struct request *rq, struct response *rs, const char *allow)
{
    const char *origin = req_header(rq, "Origin");
    char methods[96], age[24];
    if (origin && cors_enabled() && !cors_origin_allowed(origin))
        return resp_error(rs, E_PERMISSION_DENIED, "Origin not allowed");
    snprintf(methods, sizeof(methods), "%s%s, OPTIONS", allow,
             strstr(allow, "GET") ? ", HEAD" : "");
    if (resp_header(rq, rs, "Allow", methods) != 0)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    if (cors_origin_allowed(origin)) {
        snprintf(age, sizeof(age), "%ld", config_get()->cors_max_age_s);
        if (resp_header(rq, rs, "Access-Control-Allow-Methods", methods) != 0 ||
            resp_header(rq, rs, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS) != 0 ||
            resp_header(rq, rs, "Access-Control-Max-Age", age) != 0)
            return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    }
    return resp_no_content(rs);
}
