#include "api/api_invitations.h"

#include "api/api_members.h"
#include "api/api_workspaces.h"
#include "core/util.h"
#include "domain/invitations.h"

#include <stdio.h>

#define MESSAGE_MAX_CHARS 1000

/* Optional "message": a string of at most 1000 characters (tab and newline
 * allowed), or absent / null. */
static void parse_message(struct request *rq, struct response *rs, const cJSON *body,
                          const char **message)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "message");
    *message = NULL;
    if (!v || cJSON_IsNull(v))
        return;
    if (!cJSON_IsString(v) || !v->valuestring) {
        resp_detail(rq, rs, "message", "must be a string");
        return;
    }
    long n = utf8_len(v->valuestring);
    if (n < 0)
        resp_detail(rq, rs, "message", "must be valid UTF-8");
    else if (utf8_has_control(v->valuestring, true))
        resp_detail(rq, rs, "message", "must not contain control characters");
    else if (n > MESSAGE_MAX_CHARS)
        resp_detail(rq, rs, "message", "must be at most 1000 characters");
    else if (n > 0)
        *message = v->valuestring;
}

/* The array with X-Total-Count. */
static wsms_err page(struct request *rq, struct response *rs, cJSON *arr, long total)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%ld", total);
    if (resp_header(rq, rs, "X-Total-Count", buf) != 0) {
        cJSON_Delete(arr);
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    }
    return resp_json(rq, rs, 200, arr);
}

static wsms_err answer(struct request *rq, struct response *rs, wsms_err e, int status, cJSON *obj,
                       const char *why)
{
    if (e != WSMS_OK)
        return resp_error(rs, e, why);
    return resp_json(rq, rs, status, obj);
}

wsms_err api_invitations_create(struct request *rq, struct response *rs)
{
    cJSON *body, *obj = NULL;
    const char *email = NULL, *message = NULL, *why = NULL;
    enum role role = ROLE_NONE;
    wsms_err e = req_json_object(rq, rs, &body);
    if (e != WSMS_OK)
        return e;
    if ((e = api_members_parse_email(rq, rs, body, "email", &email)) != WSMS_OK)
        return e;
    parse_message(rq, rs, body, &message);
    /* last: its verdict covers every detail so far */
    if ((e = api_members_parse_role(rq, rs, body, &role)) != WSMS_OK)
        return e;
    e = invitations_create(rq, email, role, message, &obj, &why);
    return answer(rq, rs, e, 201, obj, why);
}

wsms_err api_invitations_list(struct request *rq, struct response *rs)
{
    long limit, offset, total = 0;
    cJSON *arr = NULL;
    enum inv_status st = INV_ANY;
    const char *s = req_query(rq, "status");
    wsms_err e = req_pagination(rq, rs, &limit, &offset);
    if (e != WSMS_OK)
        return e;
    if (s && *s && (st = inv_status_parse(s)) == INV_ANY) {
        resp_detail(rq, rs, "status",
                    "must be one of pending, accepted, declined, revoked, expired");
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    }
    if ((e = invitations_list(rq, st, limit, offset, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    return page(rq, rs, arr, total);
}

wsms_err api_invitations_resend(struct request *rq, struct response *rs)
{
    cJSON *obj = NULL;
    const char *why = NULL;
    wsms_err e = invitations_resend(rq, rq->cap[1], &obj, &why);
    return answer(rq, rs, e, 200, obj, why);
}

wsms_err api_invitations_revoke(struct request *rq, struct response *rs)
{
    cJSON *obj = NULL;
    const char *why = NULL;
    wsms_err e = invitations_revoke(rq, rq->cap[1], &obj, &why);
    return answer(rq, rs, e, 200, obj, why);
}

wsms_err api_invitations_accept(struct request *rq, struct response *rs)
{
    cJSON *obj = NULL;
    wsms_err e = invitations_respond(rq, rq->cap[0], true, &obj);
    if (e == WSMS_OK && (e = api_add_fresh_pma(rq, obj)) != WSMS_OK)
        cJSON_Delete(obj);
    return answer(rq, rs, e, 200, obj, NULL);
}

wsms_err api_invitations_decline(struct request *rq, struct response *rs)
{
    cJSON *obj = NULL;
    wsms_err e = invitations_respond(rq, rq->cap[0], false, &obj);
    return answer(rq, rs, e, 200, obj, NULL);
}

wsms_err api_me_invitations(struct request *rq, struct response *rs)
{
    long limit, offset, total = 0;
    cJSON *arr = NULL;
    wsms_err e = req_pagination(rq, rs, &limit, &offset);
    if (e != WSMS_OK)
        return e;
    if ((e = invitations_mine(rq, limit, offset, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    return page(rq, rs, arr, total);
}
