#include "api/api_agents.h"

#include "api/api_workspaces.h"
#include "core/arena.h"
#include "core/util.h"
#include "domain/automation/agent_types.h"
#include "domain/automation/agents.h"

#include <stdio.h>
#include <string.h>

wsms_err api_auto_page(struct request *rq, struct response *rs, cJSON *arr, long total)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%ld", total);
    if (resp_header(rq, rs, "X-Total-Count", buf) != 0) {
        cJSON_Delete(arr);
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    }
    return resp_json(rq, rs, 200, arr);
}

const char *api_auto_id(struct request *rq)
{
    char g[GUID_LEN + 1];
    if (!rq->cap[1] || guid_normalize(rq->cap[1], g) != 0)
        return NULL;
    return arena_strdup(rq->arena, g);
}

wsms_err api_agent_types(struct request *rq, struct response *rs)
{
    cJSON *arr = agent_types_json();
    if (!arr)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    return resp_json(rq, rs, 200, arr);
}

static wsms_err parse(struct request *rq, struct response *rs, const cJSON *body, bool create,
                      struct agent_in *in)
{
    static const char *const known[] = {"agent_type", "name", "is_enabled", "config"};
    bool oom = false;
    const cJSON *v;
    memset(in, 0, sizeof(*in));
    in->is_enabled = true;
    cJSON_ArrayForEach(v, body)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(*known) && !ok; i++)
            ok = strcmp(v->string, known[i]) == 0;
        if (!ok)
            resp_detail(rq, rs, v->string, "is not a field of an agent");
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "agent_type");
    if (create) {
        if (!v || cJSON_IsNull(v))
            resp_detail(rq, rs, "agent_type", "is required (see GET /agent-types)");
        else if (!cJSON_IsString(v) || !agent_type_find(v->valuestring))
            resp_detail(rq, rs, "agent_type", "is not a known agent type (see GET /agent-types)");
        else
            in->agent_type = v->valuestring;
    } else if (v) {
        resp_detail(rq, rs, "agent_type", "cannot be changed; create a new agent");
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "name");
    if (v && !cJSON_IsNull(v)) {
        in->name = api_text_field(rq, rs, v, "name", &oom);
        in->set_name = in->name != NULL;
    } else if (create || v) {
        resp_detail(rq, rs, "name", create ? "is required" : "must not be null");
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "is_enabled");
    if (v) {
        if (!cJSON_IsBool(v))
            resp_detail(rq, rs, "is_enabled", "must be true or false");
        in->is_enabled = cJSON_IsTrue(v);
        in->set_is_enabled = true;
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "config");
    if (v) {
        if (!cJSON_IsObject(v) && !cJSON_IsNull(v))
            resp_detail(rq, rs, "config", "must be an object");
        in->config = v;
        in->set_config = true;
    }
    if (!create && !in->set_name && !in->set_is_enabled && !in->set_config && !resp_has_details(rs))
        resp_detail(rq, rs, "body", "nothing to change");
    if (oom)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    return WSMS_OK;
}

static wsms_err answer(struct request *rq, struct response *rs, wsms_err e, const char *why,
                       int status, cJSON *o)
{
    if (e == E_VALIDATION_ERROR && why)
        resp_detail(rq, rs, strncmp(why, "agent_type", 10) == 0 ? "agent_type" : "config", why);
    if (e != WSMS_OK)
        return resp_error(rs, e, e == E_RESOURCE_NOT_FOUND ? "Agent not found" : why);
    return resp_json(rq, rs, status, o);
}

wsms_err api_agents_list(struct request *rq, struct response *rs)
{
    long limit, offset, total = 0;
    cJSON *arr = NULL;
    wsms_err e = req_pagination(rq, rs, &limit, &offset);
    if (e != WSMS_OK)
        return e;
    if ((e = agents_list(rq, limit, offset, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    return api_auto_page(rq, rs, arr, total);
}

wsms_err api_agents_create(struct request *rq, struct response *rs)
{
    cJSON *body, *o = NULL;
    struct agent_in in;
    const char *why = NULL;
    wsms_err e = req_json_object(rq, rs, &body);
    if (e == WSMS_OK)
        e = parse(rq, rs, body, true, &in);
    if (e != WSMS_OK)
        return e;
    e = agents_create(rq, &in, &o, &why);
    return answer(rq, rs, e, why, 201, o);
}

wsms_err api_agents_get(struct request *rq, struct response *rs)
{
    cJSON *o = NULL;
    const char *id = api_auto_id(rq);
    if (!id)
        return resp_error(rs, E_RESOURCE_NOT_FOUND, "Agent not found");
    wsms_err e = agents_get(rq, id, &o);
    return answer(rq, rs, e, NULL, 200, o);
}

wsms_err api_agents_update(struct request *rq, struct response *rs)
{
    cJSON *body, *o = NULL;
    struct agent_in in;
    const char *why = NULL;
    const char *id = api_auto_id(rq);
    if (!id)
        return resp_error(rs, E_RESOURCE_NOT_FOUND, "Agent not found");
    wsms_err e = req_json_object(rq, rs, &body);
    if (e == WSMS_OK)
        e = parse(rq, rs, body, false, &in);
    if (e != WSMS_OK)
        return e;
    e = agents_update(rq, id, &in, &o, &why);
    return answer(rq, rs, e, why, 200, o);
}

wsms_err api_agents_delete(struct request *rq, struct response *rs)
{
    const char *why = NULL;
    const char *id = api_auto_id(rq);
    if (!id)
        return resp_error(rs, E_RESOURCE_NOT_FOUND, "Agent not found");
    wsms_err e = agents_delete(rq, id, &why);
    if (e != WSMS_OK)
        return resp_error(rs, e, e == E_RESOURCE_NOT_FOUND ? "Agent not found" : why);
    return resp_no_content(rs);
}
