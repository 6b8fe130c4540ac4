#include "auth/auth.h"

#include "core/arena.h"
#include "auth/entra.h"
#include "core/log.h"
#include "auth/pma.h"
#include "auth/roles.h"
#include "core/util.h"

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

wsms_err auth_request(struct request *rq, struct response *rs)
{
    char why[128] = "";
    struct entra_identity id;
    struct pma_claims pc;
    const char *authz = req_header(rq, "Authorization");
    if (!authz || !*authz)
        return resp_error(rs, E_MISSING_AZURE_TOKEN, NULL);
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
    rq->authenticated = true;
    if (rq->route->auth != AUTH_WORKSPACE && rq->route->auth != AUTH_ARCHIVED)
        return WSMS_OK;

    char ws[GUID_LEN + 1];
    if (!rq->cap[0] || guid_normalize(rq->cap[0], ws) != 0)
        return resp_error(rs, E_WORKSPACE_NOT_FOUND, NULL);
    rq->workspace_id = arena_strdup(rq->arena, ws);
    if (!rq->workspace_id)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    e = roles_in_workspace(rq->arena, ws, rq->user.user_id, rq->user.email,
                           rq->route->auth == AUTH_ARCHIVED, &rq->role);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    if (rq->role == ROLE_NONE)
        return resp_error(rs, E_USER_NOT_AUTHORIZED, NULL);
    if (rq->role < rq->route->min_role)
        return resp_error(rs, E_INSUFFICIENT_PERMISSIONS, NULL);
    return WSMS_OK;
}

const char *auth_fresh_pma_token(struct request *rq)
{
    cJSON *roles;
    if (!rq->authenticated)
        return NULL;
    if (roles_of_user(rq->arena, rq->user.user_id, rq->user.email, &roles) != WSMS_OK)
        return NULL;
    char *t = pma_issue(rq->user.user_id, rq->user.email, roles);
    if (!t) {
        log_error(LG, "cannot issue a PMA token");
        return NULL;
    }
    char *copy = arena_strdup(rq->arena, t);
    free(t);
    return copy;
}
