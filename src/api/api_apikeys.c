#include "api/api_apikeys.h"

#include "api/api_workspaces.h"
#include "auth/apikeys.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/util.h"
#include "domain/apikeys.h"

#include <math.h>
#include <string.h>

#define NAME_MAX_CHARS 255

wsms_err api_apikeys_create(struct request *rq, struct response *rs)
{
    cJSON *body, *obj = NULL;
    const char *name = NULL;
    unsigned scopes = 0;
    long days = 0, max_days = config_get()->api_key_max_days;
    wsms_err e = req_json_object(rq, rs, &body);
    if (e != WSMS_OK)
        return e;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "name");
    if (!cJSON_IsString(v) || !v->valuestring) {
        resp_detail(rq, rs, "name", "is required and must be a string");
    } else {
        char *t = api_trim(rq->arena, v->valuestring);
        if (!t)
            return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        long n = utf8_len(t);
        if (n < 1 || n > NAME_MAX_CHARS)
            resp_detail(rq, rs, "name", "must be 1 to 255 characters of UTF-8");
        else
            name = t;
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "scopes");
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        resp_detail(rq, rs, "scopes", "is required: a non-empty array of read, write, admin");
    } else {
        const cJSON *s;
        cJSON_ArrayForEach(s, v)
        {
            unsigned bit = cJSON_IsString(s) ? apikey_scopes_parse(s->valuestring) : 0;
            if (!bit || (bit & (bit - 1))) {
                resp_detail(rq, rs, "scopes", "each must be one of read, write, admin");
                scopes = 0;
                break;
            }
            if (apikey_scopes_role(bit) > rq->role) {
                resp_detail(rq, rs, "scopes", "a scope may not exceed your own role");
                scopes = 0;
                break;
            }
            scopes |= bit;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "expires_in_days");
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
        v->valuedouble > (double)max_days) {
        char *msg =
            arena_printf(rq->arena, "is required: a whole number of days from 1 to %ld", max_days);
        if (!msg)
            return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        resp_detail(rq, rs, "expires_in_days", msg);
    } else {
        days = (long)v->valuedouble;
    }
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    e = apikeys_create(rq, name, scopes, now_ms() + (int64_t)days * 86400 * 1000, &obj);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    return resp_json(rq, rs, 201, obj);
}

wsms_err api_apikeys_list(struct request *rq, struct response *rs)
{
    cJSON *arr = NULL;
    wsms_err e = apikeys_list(rq, &arr);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    return resp_json(rq, rs, 200, arr);
}

wsms_err api_apikeys_revoke(struct request *rq, struct response *rs)
{
    cJSON *obj = NULL;
    wsms_err e = apikeys_revoke(rq, rq->cap[1]);
    if (e != WSMS_OK)
        return resp_error(rs, e, e == E_RESOURCE_NOT_FOUND ? "No such active API key" : NULL);
    obj = cJSON_CreateObject();
    if (!obj || !cJSON_AddStringToObject(obj, "id", rq->cap[1]) ||
        !cJSON_AddBoolToObject(obj, "revoked", 1)) {
        cJSON_Delete(obj);
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    }
    return resp_json(rq, rs, 200, obj);
}
