#include "api/api_members.h"

#include "api/api_workspaces.h"
#include "core/arena.h"
#include "domain/members.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

#define DISPLAY_NAME_MAX_CHARS 255
#define ROLE_HINT              "must be one of OWNER, ADMIN, MEMBER, VIEWER"

/* Reads "role" into *role. Returns 1 when it is a string naming no role
 * (detail added), 0 otherwise (a missing or non-string role adds a detail
 * and leaves ROLE_NONE). */
static int parse_role(struct request *rq, struct response *rs, const cJSON *body, enum role *role)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "role");
    *role = ROLE_NONE;
    if (!v || cJSON_IsNull(v)) {
        resp_detail(rq, rs, "role", "is required");
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        resp_detail(rq, rs, "role", "must be a string");
        return 0;
    }
    *role = role_parse(v->valuestring);
    if (*role != ROLE_NONE)
        return 0;
    resp_detail(rq, rs, "role", ROLE_HINT);
    return 1;
}

/* INVALID_ROLE when the unknown role is the only problem. */
static wsms_err verdict(struct response *rs, int bad_role)
{
    if (!resp_has_details(rs))
        return WSMS_OK;
    if (bad_role && cJSON_GetArraySize(rs->details) == 1)
        return resp_error(rs, E_INVALID_ROLE, "role " ROLE_HINT);
    return resp_error(rs, E_VALIDATION_ERROR, NULL);
}

wsms_err api_members_parse_email(struct request *rq, struct response *rs, const cJSON *body,
                                 const char *key, const char **email)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
    *email = NULL;
    if (!v || cJSON_IsNull(v)) {
        resp_detail(rq, rs, key, "is required");
    } else if (!cJSON_IsString(v) || !v->valuestring) {
        resp_detail(rq, rs, key, "must be a string");
    } else {
        char *t = api_trim(rq->arena, v->valuestring);
        size_t n = t ? strlen(t) + 1 : 0;
        char *lower = t ? arena_alloc(rq->arena, n) : NULL;
        if (!lower)
            return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        if (ascii_lower(t, lower, n) != 0 || !email_valid(lower) || utf8_len(lower) < 0)
            resp_detail(rq, rs, key, "must be a valid email address");
        else
            *email = lower;
    }
    return WSMS_OK;
}

wsms_err api_members_parse_add(struct request *rq, struct response *rs, const cJSON *body,
                               const char **email, enum role *role, const char **display_name)
{
    *display_name = NULL;
    wsms_err e = api_members_parse_email(rq, rs, body, "user_email", email);
    if (e != WSMS_OK)
        return e;
    int bad_role = parse_role(rq, rs, body, role);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "display_name");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsString(v) || !v->valuestring) {
            resp_detail(rq, rs, "display_name", "must be a string");
        } else {
            char *t = api_trim(rq->arena, v->valuestring);
            long n = t ? utf8_len(t) : 0;
            if (!t)
                return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
            if (n < 0)
                resp_detail(rq, rs, "display_name", "must be valid UTF-8");
            else if (utf8_has_control(t, false))
                resp_detail(rq, rs, "display_name", "must not contain control characters");
            else if (n > DISPLAY_NAME_MAX_CHARS)
                resp_detail(rq, rs, "display_name", "must be at most 255 characters");
            else if (n > 0)
                *display_name = t;
        }
    }
    return verdict(rs, bad_role);
}

wsms_err api_members_parse_role(struct request *rq, struct response *rs, const cJSON *body,
                                enum role *role)
{
    return verdict(rs, parse_role(rq, rs, body, role));
}

/* Sends the member with a fresh PMA token when it is the caller. */
static wsms_err answer(struct request *rq, struct response *rs, int status, cJSON *obj,
                       bool is_caller)
{
    wsms_err e = is_caller ? api_add_fresh_pma(rq, obj) : WSMS_OK;
    if (e != WSMS_OK) {
        cJSON_Delete(obj);
        return resp_error(rs, e, NULL);
    }
    return resp_json(rq, rs, status, obj);
}

wsms_err api_members_list(struct request *rq, struct response *rs)
{
    long limit, offset, total = 0;
    cJSON *arr = NULL;
    char buf[24];
    struct members_filter f = {req_query(rq, "q"), ROLE_NONE};
    const char *role = req_query(rq, "role");
    wsms_err e = req_pagination(rq, rs, &limit, &offset);
    if (e != WSMS_OK)
        return e;
    if (f.q && utf8_len(f.q) < 0)
        resp_detail(rq, rs, "q", "must be valid UTF-8");
    else if (f.q && utf8_len(f.q) > 255)
        resp_detail(rq, rs, "q", "must be at most 255 characters");
    if (role && *role && (f.role = role_parse(role)) == ROLE_NONE)
        resp_detail(rq, rs, "role", ROLE_HINT);
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    if ((e = members_list(rq, &f, limit, offset, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    snprintf(buf, sizeof(buf), "%ld", total);
    if (resp_header(rq, rs, "X-Total-Count", buf) != 0) {
        cJSON_Delete(arr);
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    }
    return resp_json(rq, rs, 200, arr);
}

wsms_err api_members_add(struct request *rq, struct response *rs)
{
    cJSON *body, *obj = NULL;
    const char *email, *display_name, *why = NULL;
    enum role role;
    bool is_caller = false;
    wsms_err e = req_json_object(rq, rs, &body);
    if (e != WSMS_OK)
        return e;
    if ((e = api_members_parse_add(rq, rs, body, &email, &role, &display_name)) != WSMS_OK)
        return e;
    if ((e = members_add(rq, email, role, display_name, &obj, &is_caller, &why)) != WSMS_OK)
        return resp_error(rs, e, why);
    return answer(rq, rs, 201, obj, is_caller);
}

wsms_err api_members_update(struct request *rq, struct response *rs)
{
    cJSON *body, *obj = NULL;
    const char *why = NULL;
    enum role role;
    bool is_caller = false;
    wsms_err e = req_json_object(rq, rs, &body);
    if (e != WSMS_OK)
        return e;
    if ((e = api_members_parse_role(rq, rs, body, &role)) != WSMS_OK)
        return e;
    if ((e = members_set_role(rq, rq->cap[1], role, &obj, &is_caller, &why)) != WSMS_OK)
        return resp_error(rs, e, why);
    return answer(rq, rs, 200, obj, is_caller);
}

wsms_err api_members_remove(struct request *rq, struct response *rs)
{
    cJSON *obj = NULL;
    const char *why = NULL;
    bool is_caller = false;
    wsms_err e = members_remove(rq, rq->cap[1], &obj, &is_caller, &why);
    if (e != WSMS_OK)
        return resp_error(rs, e, why);
    return answer(rq, rs, 200, obj, is_caller);
}
