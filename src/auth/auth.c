#include "auth/auth.h"

#include "auth/apikeys.h"
#include "http/hooks.h"
#include "core/arena.h"
#include "auth/entra.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/ratelimit.h"
#include "auth/pma.h"
#include "auth/roles.h"
#include "auth/sessions.h"
#include "core/util.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LG "auth"

/* The token after "Bearer ", or NULL when the header has another scheme. */
static const char *bearer(const char *h)
{
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

static wsms_err fill_user(struct request *rq, const struct entra_identity *id)
{
    char lower[sizeof(id->email)];
    if (ascii_lower(id->email, lower, sizeof(lower)) != 0)
        return E_INTERNAL_SERVER_ERROR;
    rq->user.user_id = arena_strdup(rq->arena, id->user_id);
    rq->user.email = arena_strdup(rq->arena, lower);
    rq->user.display_name = arena_strdup(rq->arena, id->display_name);
    if (!rq->user.user_id || !rq->user.email || !rq->user.display_name)
        return E_INTERNAL_SERVER_ERROR;
    return WSMS_OK;
}

/* One token from the bucket of identity (kind "u" user, "k" API key
 * prefix) before any database work; 429 RATE_LIMITED with Retry-After when
 * there is none. */
static wsms_err rate_limit(struct request *rq, struct response *rs, const char *kind,
                           const char *who)
{
    char key[160], retry[24];
    long after = 0;
    if (!ratelimit_enabled())
        return WSMS_OK;
    int n = snprintf(key, sizeof(key), "%s:%s", kind, who);
    if (n < 0 || (size_t)n >= sizeof(key))
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    if (ratelimit_take(key, now_ms(), &after))
        return WSMS_OK;
    metrics_rate_limited();
    snprintf(retry, sizeof(retry), "%ld", after);
    if (resp_header(rq, rs, "Retry-After", retry) != 0)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    log_info(LG, "%s %s over the rate limit (retry after %ld s)", kind, who, after);
    return resp_error(rs, E_RATE_LIMITED, NULL);
}

static bool workspace_route(const struct route *r)
{
    return r->auth == AUTH_WORKSPACE || r->auth == AUTH_WORKSPACE_READ || r->auth == AUTH_ARCHIVED;
}

static bool deferred_route(const struct route *r)
{
    return r->auth == AUTH_WORKSPACE_READ || r->auth == AUTH_USER_READ;
}

/* The normalized {id} into rq->workspace_id. */
static wsms_err take_workspace(struct request *rq)
{
    char ws[GUID_LEN + 1];
    if (!rq->cap[0] || guid_normalize(rq->cap[0], ws) != 0)
        return E_WORKSPACE_NOT_FOUND;
    rq->workspace_id = arena_strdup(rq->arena, ws);
    return rq->workspace_id ? WSMS_OK : E_INTERNAL_SERVER_ERROR;
}

/* Authorization: ApiKey <key>: only on workspace routes, acting as
 * "apikey:<id>" with the role its scopes grant. */
static wsms_err auth_api_key(struct request *rq, struct response *rs, const char *key)
{
    char prefix[APIKEY_PREFIX_LEN + 1], hash[APIKEY_HASH_LEN + 1];
    while (*key == ' ')
        key++;
    if (rq->route->auth != AUTH_WORKSPACE && rq->route->auth != AUTH_WORKSPACE_READ) {
        log_info(LG, "API key refused: %s is not a workspace route", rq->route->name);
        return resp_error(rs, E_INVALID_API_KEY, "API keys are accepted on workspace routes only");
    }
    if (apikey_parse(key, prefix, hash) != 0) {
        log_info(LG, "API key refused: malformed");
        return resp_error(rs, E_INVALID_API_KEY, NULL);
    }
    OPENSSL_cleanse(hash, sizeof(hash));
    wsms_err e = rate_limit(rq, rs, "k", prefix);
    if (e != WSMS_OK)
        return e;
    if ((e = take_workspace(rq)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    rq->api_key = key;
    if (deferred_route(rq->route))
        return WSMS_OK;
    e = roles_check(rq);
    if (e == E_INSUFFICIENT_PERMISSIONS)
        return resp_error(rs, e, "The API key's scopes do not allow this");
    return e != WSMS_OK ? resp_error(rs, e, NULL) : WSMS_OK;
}

wsms_err auth_request(struct request *rq, struct response *rs)
{
    char why[128] = "";
    struct entra_identity id;
    struct pma_claims pc;
    const char *authz = req_header(rq, "Authorization");
    if (!authz || !*authz)
        return resp_error(rs, E_MISSING_AZURE_TOKEN, NULL);
    if (strncasecmp(authz, "ApiKey ", 7) == 0)
        return auth_api_key(rq, rs, authz + 7);
    const char *tok = bearer(authz);
    if (!tok)
        return resp_error(rs, E_INVALID_AZURE_TOKEN, "Authorization must be a Bearer token");
    const char *pma = req_header(rq, "X-PMA-Token");
    if (!pma || !*pma)
        return resp_error(rs, E_MISSING_PMA_TOKEN, NULL);
    if (entra_verify(tok, &id, why, sizeof(why)) != 0) {
        log_info(LG, "Entra token refused: %s", why);
        return resp_error(rs, E_INVALID_AZURE_TOKEN, NULL);
    }
    if (pma_verify(pma, 0, &pc, why, sizeof(why)) != 0) {
        log_info(LG, "PMA token refused: %s", why);
        return resp_error(rs, E_INVALID_PMA_TOKEN, NULL);
    }
    if (strcmp(pc.user_id, id.user_id) != 0) {
        log_info(LG, "Entra and PMA tokens name different users");
        return resp_error(rs, E_TOKEN_MISMATCH, NULL);
    }
    wsms_err e = fill_user(rq, &id);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    rq->azure_token = tok;
    e = rate_limit(rq, rs, "u", rq->user.user_id);
    if (e != WSMS_OK)
        return e;
    rq->token_iat = pc.iat;
    rq->authenticated = true;
    if (workspace_route(rq->route) && (e = take_workspace(rq)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    if (deferred_route(rq->route))
        return WSMS_OK;
    /* one statement: the revocation (and on workspace routes the role) */
    e = roles_check(rq);
    return e != WSMS_OK ? resp_error(rs, e, NULL) : WSMS_OK;
}

const char *auth_fresh_pma_token(struct request *rq)
{
    cJSON *roles;
    long through = 0;
    if (!rq->authenticated)
        return NULL;
    if (roles_of_user(rq->arena, rq->user.user_id, rq->user.email, &roles, &through) != WSMS_OK)
        return NULL;
    char *t = pma_issue_after(rq->user.user_id, rq->user.email, roles, through + 1);
    if (!t) {
        log_error(LG, "cannot issue a PMA token");
        return NULL;
    }
    char *copy = arena_strdup(rq->arena, t);
    free(t);
    return copy;
}
