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

const char *api_text_field(struct request *rq, struct response *rs, const cJSON *v,
                           const char *field, bool *oom)
{
    if (!cJSON_IsString(v) || !v->valuestring) {
        resp_detail(rq, rs, field, "must be a string");
        return NULL;
    }
    char *t = api_trim(rq->arena, v->valuestring);
    if (!t) {
        *oom = true;
        return NULL;
    }
    long n = utf8_len(t);
    if (n < 0)
        resp_detail(rq, rs, field, "must be valid UTF-8");
    else if (n == 0)
        resp_detail(rq, rs, field, "must not be empty");
    else if (n > NAME_MAX_CHARS)
        resp_detail(rq, rs, field, "must be at most 255 characters");
    else if (utf8_has_control(t, false))
        resp_detail(rq, rs, field, "must not contain control characters");
    else
        return t;
    return NULL;
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

static wsms_err answer_ws(struct request *rq, struct response *rs, int status, cJSON *obj);

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
    return answer_ws(rq, rs, 201, obj);
}

#define Q_MAX_CHARS 255

wsms_err api_workspaces_list(struct request *rq, struct response *rs)
{
    struct ws_list_opts o;
    long total = 0;
    cJSON *arr = NULL;
    const char *who = req_query(rq, "user_id");
    const char *status = req_query(rq, "status");
    memset(&o, 0, sizeof(o));
    if (who && strcasecmp(who, rq->user.user_id) != 0)
        return resp_error(rs, E_PERMISSION_DENIED, "You may only list your own workspaces");
    wsms_err e = req_pagination(rq, rs, &o.limit, &o.offset);
    if (e != WSMS_OK)
        return e;
    if (status && strcasecmp(status, "Archived") == 0)
        o.archived = true;
    else if (status && *status && strcasecmp(status, "Active") != 0)
        resp_detail(rq, rs, "status", "must be Active or Archived");
    o.q = req_query(rq, "q");
    if (o.q && utf8_len(o.q) < 0)
        resp_detail(rq, rs, "q", "must be valid UTF-8");
    else if (o.q && utf8_len(o.q) > Q_MAX_CHARS)
        resp_detail(rq, rs, "q", "must be at most 255 characters");
    o.sort = req_query(rq, "sort");
    if (o.sort && !*o.sort)
        o.sort = NULL;
    if (o.sort && !ws_sort_valid(o.sort))
        resp_detail(rq, rs, "sort",
                    "must be name, created_at or last_seen_utc, with - for descending");
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    if ((e = ws_list(rq, &o, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    if ((e = set_total(rq, rs, total)) != WSMS_OK) {
        cJSON_Delete(arr);
        return e;
    }
    return resp_json(rq, rs, 200, arr);
}

/* Sends a workspace object with its ETag. */
static wsms_err answer_ws(struct request *rq, struct response *rs, int status, cJSON *obj)
{
    char etag[WS_ETAG_LEN + 1];
    if (ws_etag(obj, etag) != 0 || resp_header(rq, rs, "ETag", etag) != 0) {
        cJSON_Delete(obj);
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    }
    return resp_json(rq, rs, status, obj);
}

wsms_err api_workspaces_get(struct request *rq, struct response *rs)
{
    cJSON *obj = NULL;
    wsms_err e = ws_get(rq, rq->workspace_id, &obj);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    return answer_ws(rq, rs, 200, obj);
}

wsms_err api_workspaces_parse_patch(struct request *rq, struct response *rs, const cJSON *body,
                                    struct ws_patch *p)
{
    const char *name, *desc;
    memset(p, 0, sizeof(*p));
    const cJSON *nv = cJSON_GetObjectItemCaseSensitive(body, "name");
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(body, "description");
    if (!nv && !dv)
        resp_detail(rq, rs, "body", "name or description is required");
    if (nv && cJSON_IsNull(nv))
        resp_detail(rq, rs, "name", "must not be null");
    else if (nv && opt_string(rq, rs, body, "name", &name)) {
        if (!(p->name = api_trim(rq->arena, name)))
            return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
        p->set_name = check_len(rq, rs, "name", p->name, 1, NAME_MAX_CHARS, true);
    }
    if (dv && opt_string(rq, rs, body, "description", &desc) &&
        (!desc || check_len(rq, rs, "description", desc, 0, DESCRIPTION_MAX_CHARS, false))) {
        p->set_description = true;
        p->description = desc;
    }
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    return WSMS_OK;
}

wsms_err api_workspaces_update(struct request *rq, struct response *rs)
{
    cJSON *body, *obj = NULL;
    struct ws_patch p;
    wsms_err e = req_json_object(rq, rs, &body);
    if (e != WSMS_OK)
        return e;
    if ((e = api_workspaces_parse_patch(rq, rs, body, &p)) != WSMS_OK)
        return e;
    if ((e = ws_update(rq, rq->workspace_id, &p, req_header(rq, "If-Match"), &obj)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    return answer_ws(rq, rs, 200, obj);
}

wsms_err api_workspaces_restore(struct request *rq, struct response *rs)
{
    cJSON *obj = NULL;
    wsms_err e = ws_restore(rq, rq->workspace_id, &obj);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    if ((e = api_add_fresh_pma(rq, obj)) != WSMS_OK) {
        cJSON_Delete(obj);
        return resp_error(rs, e, NULL);
    }
    return answer_ws(rq, rs, 200, obj);
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
    if ((e = audit_list(rq, action, limit, offset, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    if ((e = set_total(rq, rs, total)) != WSMS_OK) {
        cJSON_Delete(arr);
        return e;
    }
    return resp_json(rq, rs, 200, arr);
}
