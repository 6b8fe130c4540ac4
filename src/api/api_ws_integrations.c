#include "api/api_ws_integrations.h"

#include "api/api_workspaces.h"
#include "core/arena.h"
#include "core/util.h"
#include "domain/ws_integrations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URL_MAX_CHARS   2048
#define EXTRA_MAX_BYTES 16384

static const char *canonical(const char *s)
{
    static const char *const providers[] = {"Jira", "ADO", "SNOW", "SP"};
    for (size_t i = 0; i < sizeof(providers) / sizeof(*providers); i++)
        if (strcasecmp(s, providers[i]) == 0)
            return providers[i];
    return NULL;
}

/* A one-line text field: trimmed, 1..255 characters. NULL after adding a
 * detail (or on no memory: *oom). */
/* https://host[:port][/...], no spaces or control characters. */
static bool url_ok(const char *u)
{
    if (strncmp(u, "https://", 8) != 0 || strlen(u) > URL_MAX_CHARS || utf8_len(u) < 0)
        return false;
    const char *h = u + 8;
    size_t hl = strcspn(h, "/?#");
    if (hl == 0 || h[0] == ':' || memchr(h, '@', hl))
        return false;
    for (const char *c = u; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '\\' || *c == '"' || *c == '<' ||
            *c == '>')
            return false;
    return true;
}

/* Parses the body; create requires provider, display_name, external_id. */
static wsms_err parse(struct request *rq, struct response *rs, const cJSON *body, bool create,
                      struct wsi_in *in)
{
    bool oom = false;
    const cJSON *v;
    memset(in, 0, sizeof(*in));
    v = cJSON_GetObjectItemCaseSensitive(body, "provider");
    if (create) {
        if (!v || cJSON_IsNull(v))
            resp_detail(rq, rs, "provider", "is required");
        else if (!cJSON_IsString(v) || !(in->provider = canonical(v->valuestring)))
            resp_detail(rq, rs, "provider", "must be one of Jira, ADO, SNOW, SP");
    } else if (v) {
        resp_detail(rq, rs, "provider", "cannot be changed; link a new integration");
    }
    static const char *const names[] = {"display_name", "external_id"};
    const char **dst[] = {&in->display_name, &in->external_id};
    bool *set[] = {&in->set_display_name, &in->set_external_id};
    for (size_t i = 0; i < 2; i++) {
        v = cJSON_GetObjectItemCaseSensitive(body, names[i]);
        if (!v) {
            if (create)
                resp_detail(rq, rs, names[i], "is required");
            continue;
        }
        if (cJSON_IsNull(v)) {
            resp_detail(rq, rs, names[i], create ? "is required" : "must not be null");
            continue;
        }
        *dst[i] = api_text_field(rq, rs, v, names[i], &oom);
        *set[i] = *dst[i] != NULL;
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "url");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsString(v) || !url_ok(v->valuestring))
            resp_detail(rq, rs, "url", "must be an https:// URL of at most 2048 characters");
        else
            in->url = v->valuestring;
    }
    in->set_url = v != NULL;
    v = cJSON_GetObjectItemCaseSensitive(body, "extra_config");
    if (v && !cJSON_IsNull(v)) {
        char *s = cJSON_IsObject(v) ? cJSON_PrintUnformatted(v) : NULL;
        if (!cJSON_IsObject(v)) {
            resp_detail(rq, rs, "extra_config", "must be an object");
        } else if (!s) {
            oom = true;
        } else if (strlen(s) > EXTRA_MAX_BYTES) {
            resp_detail(rq, rs, "extra_config", "must be at most 16384 bytes as JSON");
        } else if (!(in->extra_config = arena_strdup(rq->arena, s))) {
            oom = true;
        }
        free(s);
    }
    in->set_extra_config = v != NULL;
    if (!create && !in->set_display_name && !in->set_external_id && !in->set_url &&
        !in->set_extra_config && !resp_has_details(rs))
        resp_detail(rq, rs, "body", "nothing to change");
    if (oom)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    return WSMS_OK;
}

/* The {integration_id} capture, normalized; NULL when it is no GUID. */
static const char *iid_of(struct request *rq)
{
    char g[GUID_LEN + 1];
    if (!rq->cap[1] || guid_normalize(rq->cap[1], g) != 0)
        return NULL;
    return arena_strdup(rq->arena, g);
}

static wsms_err answer(struct request *rq, struct response *rs, wsms_err e, int status, cJSON *o)
{
    if (e != WSMS_OK)
        return resp_error(rs, e,
                          e == E_CONFLICT ? "This provider project is already linked" : NULL);
    return resp_json(rq, rs, status, o);
}

wsms_err api_wsi_list(struct request *rq, struct response *rs)
{
    long limit, offset, total = 0;
    char buf[24];
    cJSON *arr = NULL;
    wsms_err e = req_pagination(rq, rs, &limit, &offset);
    if (e != WSMS_OK)
        return e;
    if ((e = wsi_list(rq, limit, offset, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    snprintf(buf, sizeof(buf), "%ld", total);
    if (resp_header(rq, rs, "X-Total-Count", buf) != 0) {
        cJSON_Delete(arr);
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    }
    return resp_json(rq, rs, 200, arr);
}

wsms_err api_wsi_create(struct request *rq, struct response *rs)
{
    cJSON *body, *o = NULL;
    struct wsi_in in;
    wsms_err e = req_json_object(rq, rs, &body);
    if (e == WSMS_OK)
        e = parse(rq, rs, body, true, &in);
    if (e != WSMS_OK)
        return e;
    e = wsi_create(rq, &in, &o);
    return answer(rq, rs, e, 201, o);
}

wsms_err api_wsi_get(struct request *rq, struct response *rs)
{
    cJSON *o = NULL;
    const char *iid = iid_of(rq);
    if (!iid)
        return resp_error(rs, E_RESOURCE_NOT_FOUND, "Integration not found");
    wsms_err e = wsi_get(rq, iid, &o);
    return answer(rq, rs, e, 200, o);
}

wsms_err api_wsi_update(struct request *rq, struct response *rs)
{
    cJSON *body, *o = NULL;
    struct wsi_in in;
    const char *iid = iid_of(rq);
    if (!iid)
        return resp_error(rs, E_RESOURCE_NOT_FOUND, "Integration not found");
    wsms_err e = req_json_object(rq, rs, &body);
    if (e == WSMS_OK)
        e = parse(rq, rs, body, false, &in);
    if (e != WSMS_OK)
        return e;
    e = wsi_update(rq, iid, &in, &o);
    return answer(rq, rs, e, 200, o);
}

wsms_err api_wsi_delete(struct request *rq, struct response *rs)
{
    const char *iid = iid_of(rq);
    if (!iid)
        return resp_error(rs, E_RESOURCE_NOT_FOUND, "Integration not found");
    wsms_err e = wsi_delete(rq, iid);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    return resp_no_content(rs);
}

wsms_err api_wsi_test(struct request *rq, struct response *rs)
{
    cJSON *o = NULL;
    wsms_err call = WSMS_OK;
    const char *iid = iid_of(rq);
    if (!iid)
        return resp_error(rs, E_RESOURCE_NOT_FOUND, "Integration not found");
    wsms_err e = wsi_test(rq, iid, &o, &call);
    if (e != WSMS_OK)
        return resp_error(rs, e, NULL);
    if (call != WSMS_OK) {
        /* recorded as Failed; the answer is the list routes' error */
        cJSON_Delete(o);
        return resp_error(rs, call, NULL);
    }
    return resp_json(rq, rs, 200, o);
}
