#include "api/api_auth.h"

#include "core/arena.h"
#include "auth/entra.h"
#include "core/log.h"
#include "auth/pma.h"
#include "auth/roles.h"
#include "auth/sessions.h"
#include "core/util.h"
#include "domain/invitations.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LG              "auth"
#define REFRESH_GRACE_S (7L * 24 * 3600)

static const char *bearer_token(const char *h)
{
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

/* The common 200 body: identity, fresh roles, the invitations that signing
 * in accepted ("accepted_invitations", domain/invitations.h) and a PMA
 * token carrying the roles.
 * old_iat: the iat of the PMA token being refreshed (-1 for validate); a
 * refresh of a revoked token is refused. The new token's iat is after the
 * user's revocation second. */
static wsms_err issue(struct request *rq, struct response *rs, const struct entra_identity *id,
                      long old_iat)
{
    char email[sizeof(id->email)];
    cJSON *roles = NULL, *body = NULL, *accepted = NULL;
    char *tok = NULL;
    long through = 0;
    wsms_err e;
    if (ascii_lower(id->email, email, sizeof(email)) != 0)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    e = roles_bind_email(id->user_id, email);
    if (e == WSMS_OK)
        e = roles_of_user(rq->arena, id->user_id, email, &roles, &through);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    if (old_iat >= 0 && sessions_is_revoked(old_iat, through)) {
        log_info(LG, "refresh refused: sessions revoked");
        return resp_error(rs, E_TOKEN_REFRESH_FAILED, NULL);
    }
    /* pending invitations for this email are accepted by signing in; the
     * roles are read again only when one was */
    e = invitations_accept_on_sign_in(rq, id->user_id, email, id->display_name, &accepted);
    if (e == WSMS_OK && cJSON_GetArraySize(accepted) > 0)
        e = roles_of_user(rq->arena, id->user_id, email, &roles, &through);
    if (e != WSMS_OK) {
        e = resp_error(rs, e, NULL);
        goto out;
    }
    tok = pma_issue_after(id->user_id, email, roles, through + 1);
    if (!tok) {
        e = resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        goto out;
    }
    body = cJSON_CreateObject();
    cJSON *rc = cJSON_Duplicate(roles, 1);
    if (!body || !rc || !cJSON_AddStringToObject(body, "user_id", id->user_id) ||
        !cJSON_AddStringToObject(body, "email", email) ||
        !cJSON_AddStringToObject(body, "display_name", id->display_name) ||
        !cJSON_AddStringToObject(body, "pma_token", tok) ||
        !cJSON_AddItemToObject(body, "roles", rc)) {
        if (!cJSON_IsObject(rc) || !cJSON_GetObjectItem(body, "roles"))
            cJSON_Delete(rc);
        e = resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        goto out;
    }
    if (!cJSON_AddItemToObject(body, "accepted_invitations", accepted)) {
        e = resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        goto out;
    }
    accepted = NULL;
    rq->user.user_id = arena_strdup(rq->arena, id->user_id);
    rq->authenticated = rq->user.user_id != NULL;
    e = resp_json(rq, rs, 200, body);
    body = NULL;
out:
    cJSON_Delete(accepted);
    cJSON_Delete(body);
    free(tok);
    return e;
}

wsms_err api_auth_validate(struct request *rq, struct response *rs)
{
    char why[128] = "";
    struct entra_identity id;
    const char *h = req_header(rq, "Authorization");
    if (!h || !*h)
        return resp_error(rs, E_MISSING_AUTHORIZATION_HEADER, NULL);
    const char *tok = bearer_token(h);
    if (!tok || entra_verify(tok, &id, why, sizeof(why)) != 0) {
        log_info(LG, "validate refused: %s", tok ? why : "not a Bearer token");
        return resp_error(rs, E_TOKEN_VALIDATION_FAILED, NULL);
    }
    return issue(rq, rs, &id, -1);
}

wsms_err api_auth_refresh(struct request *rq, struct response *rs)
{
    char why[128] = "";
    struct entra_identity id;
    struct pma_claims pc;
    const char *h = req_header(rq, "Authorization");
    if (!h || !*h)
        return resp_error(rs, E_MISSING_AZURE_TOKEN, NULL);
    const char *pma = req_header(rq, "X-PMA-Token");
    if (!pma || !*pma)
        return resp_error(rs, E_MISSING_PMA_TOKEN, NULL);
    const char *tok = bearer_token(h);
    if (!tok || entra_verify(tok, &id, why, sizeof(why)) != 0) {
        log_info(LG, "refresh refused (Entra): %s", tok ? why : "not a Bearer token");
        return resp_error(rs, E_TOKEN_REFRESH_FAILED, NULL);
    }
    if (pma_verify(pma, REFRESH_GRACE_S, &pc, why, sizeof(why)) != 0) {
        log_info(LG, "refresh refused (PMA): %s", why);
        return resp_error(rs, E_TOKEN_REFRESH_FAILED, NULL);
    }
    if (strcmp(pc.user_id, id.user_id) != 0) {
        log_info(LG, "refresh refused: tokens name different users");
        return resp_error(rs, E_TOKEN_REFRESH_FAILED, NULL);
    }
    return issue(rq, rs, &id, pc.iat);
}

wsms_err api_me_sessions_revoke(struct request *rq, struct response *rs)
{
    long through = 0;
    char at[25];
    cJSON *body = NULL;
    wsms_err e = sessions_revoke(rq->user.user_id, &through);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    iso8601_ms((int64_t)through * 1000, at);
    body = cJSON_CreateObject();
    if (!body || !cJSON_AddStringToObject(body, "user_id", rq->user.user_id) ||
        !cJSON_AddNumberToObject(body, "revoked_through", (double)through) ||
        !cJSON_AddStringToObject(body, "revoked_through_utc", at)) {
        e = resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        goto out;
    }
    e = resp_json(rq, rs, 200, body);
    body = NULL;
out:
    cJSON_Delete(body);
    return e;
}
