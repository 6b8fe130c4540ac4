#include "api/api_workspaces.h"

#include "core/arena.h"
#include "domain/audit.h"
#include "auth/auth.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_CHARS        255
#define DESCRIPTION_MAX_CHARS 4000
#define PROJECT_MAX_CHARS     255
#define ACTION_MAX_CHARS      64

char *api_trim(struct arena *a, const char *s)
{
    static const char ws[] = " \t\r\n\f\v";
    size_t n;
    while (*s && strchr(ws, *s))
        s++;
    n = strlen(s);
    while (n > 0 && strchr(ws, s[n - 1]))
        n--;
    return arena_strndup(a, s, n);
}

wsms_err api_add_fresh_pma(struct request *rq, cJSON *obj)
{
    const char *tok = auth_fresh_pma_token(rq);
    cJSON *v = tok ? cJSON_CreateString(tok) : cJSON_CreateNull();
    if (!v)
        return E_INTERNAL_SERVER_ERROR;
    if (!cJSON_AddItemToObject(obj, "pma_token", v)) {
        cJSON_Delete(v);
        return E_INTERNAL_SERVER_ERROR;
    }
    return WSMS_OK;
}

/* A string field that may be absent or null (*out NULL). Another type adds a
 * detail and returns false. */
static bool opt_string(struct request *rq, struct response *rs, const cJSON *body,
                       const char *field, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, field);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v) || !v->valuestring) {
        resp_detail(rq, rs, field, "must be a string");
        return false;
    }
    *out = v->valuestring;
    return true;
}

/* Checks the character count of s (already trimmed); adds a detail and
 * returns false when it is not valid UTF-8, outside min..max, or (oneline)
 * holds a tab or newline. */
static bool check_len(struct request *rq, struct response *rs, const char *field, const char *s,
                      long min, long max, bool oneline)
{
    char msg[64];
    long n = utf8_len(s);
    if (n < 0) {
        resp_detail(rq, rs, field, "must be valid UTF-8");
        return false;
    }
    if (utf8_has_control(s, !oneline)) {
        resp_detail(rq, rs, field, "must not contain control characters");
        return false;
    }
    if (n < min) {
        resp_detail(rq, rs, field, "must not be empty");
        return false;
    }
    if (n > max) {
        snprintf(msg, sizeof(msg), "must be at most %ld characters", max);
        resp_detail(rq, rs, field, msg);
        return false;
    }
    return true;
}

static const char *canonical_provider(const char *s)
{
    static const char *const providers[] = {"Jira", "ADO", "SNOW", "SP"};
    for (size_t i = 0; i < sizeof(providers) / sizeof(*providers); i++)
        if (strcasecmp(s, providers[i]) == 0)
            return providers[i];
    return NULL;
}

wsms_err api_workspaces_parse_create(struct request *rq, struct response *rs, const cJSON *body,
                                     struct ws_new *in)
{
    const char *name, *desc, *prov, *proj;
    memset(in, 0, sizeof(*in));
    if (opt_string(rq, rs, body, "name", &name)) {
        if (!name) {
            resp_detail(rq, rs, "name", "is required");
        } else if (!(in->name = api_trim(rq->arena, name))) {
            return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        } else {
            check_len(rq, rs, "name", in->name, 1, NAME_MAX_CHARS, true);
        }
    }
    if (opt_string(rq, rs, body, "description", &desc) && desc &&
        check_len(rq, rs, "description", desc, 0, DESCRIPTION_MAX_CHARS, false))
        in->description = desc;
    bool prov_ok = opt_string(rq, rs, body, "provider", &prov);
    if (prov_ok && prov && !(in->provider = canonical_provider(prov)))
        resp_detail(rq, rs, "provider", "must be one of Jira, ADO, SNOW, SP");
    if (opt_string(rq, rs, body, "provider_project", &proj)) {
        if (proj && !(proj = api_trim(rq->arena, proj)))
            return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        if (prov) {
            if (!proj || !*proj)
                resp_detail(rq, rs, "provider_project", "is required when provider is given");
            else if (check_len(rq, rs, "provider_project", proj, 1, PROJECT_MAX_CHARS, true))
                in->provider_project = proj;
        } else if (prov_ok && proj && *proj) {
            resp_detail(rq, rs, "provider", "is required when provider_project is given");
        }
    }
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    return WSMS_OK;
}

static wsms_err set_total(struct request *rq, struct response *rs, long total)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%ld", total);
    if (resp_header(rq, rs, "X-Total-Count", buf) != 0)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    return WSMS_OK;
}

wsms_err api_workspaces_create(struct request *rq, struct response *rs)
{
    cJSON *body, *obj = NULL;
    struct ws_new in;
    wsms_err e = req_json_object(rq, rs, &body);
    if (e != WSMS_OK)
        return e;
    if ((e = api_workspaces_parse_create(rq, rs, body, &in)) != WSMS_OK)
        return e;
    if ((e = ws_create(rq, &in, &obj)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    if ((e = api_add_fresh_pma(rq, obj)) != WSMS_OK) {
        cJSON_Delete(obj);
        return resp_error(rs, e, NULL);
    }
    return resp_json(rq, rs, 201, obj);
}

wsms_err api_workspaces_list(struct request *rq, struct response *rs)
{
    long limit, offset, total = 0;
    cJSON *arr = NULL;
    const char *who = req_query(rq, "user_id");
    if (who && strcasecmp(who, rq->user.user_id) != 0)
        return resp_error(rs, E_PERMISSION_DENIED, "You may only list your own workspaces");
    wsms_err e = req_pagination(rq, rs, &limit, &offset);
    if (e != WSMS_OK)
        return e;
    if ((e = ws_list(rq, limit, offset, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    if ((e = set_total(rq, rs, total)) != WSMS_OK) {
        cJSON_Delete(arr);
        return e;
    }
    return resp_json(rq, rs, 200, arr);
}

wsms_err api_workspaces_get(struct request *rq, struct response *rs)
{
    cJSON *obj = NULL;
    wsms_err e = ws_get(rq, rq->workspace_id, &obj);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    return resp_json(rq, rs, 200, obj);
}

wsms_err api_workspaces_delete(struct request *rq, struct response *rs)
{
    wsms_err e = ws_delete(rq, rq->workspace_id);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    return resp_no_content(rs);
}

wsms_err api_workspaces_audit(struct request *rq, struct response *rs)
{
    long limit, offset, total = 0;
    cJSON *arr = NULL;
    const char *action = req_query(rq, "action");
    if (action && !*action)
        action = NULL;
    if (action && utf8_len(action) > ACTION_MAX_CHARS)
        resp_detail(rq, rs, "action", "must be at most 64 characters");
    else if (action && utf8_len(action) < 0)
        resp_detail(rq, rs, "action", "must be valid UTF-8");
    wsms_err e = req_pagination(rq, rs, &limit, &offset);
    if (e != WSMS_OK)
        return e;
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    if ((e = audit_list(rq->arena, rq->workspace_id, action, limit, offset, &arr, &total)) !=
        WSMS_OK)
        return resp_error(rs, e, NULL);
    if ((e = set_total(rq, rs, total)) != WSMS_OK) {
        cJSON_Delete(arr);
        return e;
    }
    return resp_json(rq, rs, 200, arr);
}
