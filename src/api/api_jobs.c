#include "api/api_jobs.h"

#include "api/api_agents.h"
#include "api/api_workspaces.h"
#include "core/arena.h"
#include "core/util.h"
#include "domain/automation/cron.h"
#include "domain/automation/jobs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CRON_MAX_CHARS 128
#define DEPS_MAX       50
#define TIMEOUT_MIN    1
#define TIMEOUT_MAX    86400
#define RETRIES_MAX    10

/* An integer in [lo, hi] or a detail naming the range. */
static bool int_field(struct request *rq, struct response *rs, const cJSON *v, const char *field,
                      int lo, int hi, int *out)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi) {
        char msg[96];
        snprintf(msg, sizeof(msg), "must be an integer from %d to %d", lo, hi);
        resp_detail(rq, rs, field, msg);
        return false;
    }
    *out = (int)v->valuedouble;
    return true;
}

static void parse_cron(struct request *rq, struct response *rs, const cJSON *v, struct job_in *in)
{
    struct cron c;
    char why[200];
    in->set_schedule_cron = true;
    if (cJSON_IsNull(v))
        return;
    if (!cJSON_IsString(v) || !v->valuestring) {
        resp_detail(rq, rs, "schedule_cron", "must be a cron expression or null");
        return;
    }
    if (strlen(v->valuestring) > CRON_MAX_CHARS || utf8_has_control(v->valuestring, true)) {
        resp_detail(rq, rs, "schedule_cron", "must be at most 128 characters of one line");
        return;
    }
    if (cron_parse(v->valuestring, &c, why, sizeof(why)) != WSMS_OK) {
        resp_detail(rq, rs, "schedule_cron", why);
        return;
    }
    /* stored trimmed */
    const char *s = v->valuestring;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    in->schedule_cron = arena_strndup(rq->arena, s, n);
}

static bool parse_deps(struct request *rq, struct response *rs, const cJSON *v, struct job_in *in)
{
    in->set_depends_on = true;
    if (cJSON_IsNull(v))
        return true;
    int n = cJSON_GetArraySize(v);
    if (!cJSON_IsArray(v) || n > DEPS_MAX) {
        resp_detail(rq, rs, "depends_on", "must be an array of at most 50 job ids");
        return true;
    }
    in->depends_on = arena_alloc(rq->arena, sizeof(char *) * (size_t)(n ? n : 1));
    if (!in->depends_on)
        return false;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        char g[GUID_LEN + 1];
        if (!cJSON_IsString(it) || guid_normalize(it->valuestring, g) != 0) {
            resp_detail(rq, rs, "depends_on", "each must be a job id");
            return true;
        }
        for (size_t k = 0; k < in->ndeps; k++)
            if (strcmp(in->depends_on[k], g) == 0) {
                char msg[96];
                snprintf(msg, sizeof(msg), "%s is listed twice", g);
                resp_detail(rq, rs, "depends_on", msg);
                return true;
            }
        if (!(in->depends_on[in->ndeps++] = arena_strdup(rq->arena, g)))
            return false;
    }
    return true;
}

static wsms_err parse(struct request *rq, struct response *rs, const cJSON *body, bool create,
                      struct job_in *in)
{
    static const char *const known[] = {"name",       "agent_id",  "schedule_cron",
                                        "depends_on", "is_active", "timeout_seconds",
                                        "max_retries"};
    bool oom = false;
    const cJSON *v;
    memset(in, 0, sizeof(*in));
    cJSON_ArrayForEach(v, body)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(*known) && !ok; i++)
            ok = strcmp(v->string, known[i]) == 0;
        if (!ok)
            resp_detail(rq, rs, v->string, "is not a field of a job");
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "name");
    if (v && !cJSON_IsNull(v)) {
        in->name = api_text_field(rq, rs, v, "name", &oom);
        in->set_name = in->name != NULL;
    } else if (create || v) {
        resp_detail(rq, rs, "name", create ? "is required" : "must not be null");
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "agent_id");
    if (v && !cJSON_IsNull(v)) {
        char g[GUID_LEN + 1];
        if (!cJSON_IsString(v) || guid_normalize(v->valuestring, g) != 0)
            resp_detail(rq, rs, "agent_id", "must be an agent id");
        else if (!(in->agent_id = arena_strdup(rq->arena, g)))
            oom = true;
        in->set_agent_id = true;
    } else if (create) {
        resp_detail(rq, rs, "agent_id", "is required");
    } else if (v) {
        in->set_agent_id = true; /* null: detach (only an inactive job) */
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "schedule_cron")))
        parse_cron(rq, rs, v, in);
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "depends_on")) && !parse_deps(rq, rs, v, in))
        oom = true;
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "is_active"))) {
        if (!cJSON_IsBool(v))
            resp_detail(rq, rs, "is_active", "must be true or false");
        in->is_active = cJSON_IsTrue(v);
        in->set_is_active = true;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "timeout_seconds")))
        in->set_timeout_seconds =
            int_field(rq, rs, v, "timeout_seconds", TIMEOUT_MIN, TIMEOUT_MAX, &in->timeout_seconds);
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "max_retries")))
        in->set_max_retries = int_field(rq, rs, v, "max_retries", 0, RETRIES_MAX, &in->max_retries);
    if (!resp_has_details(rs) && in->schedule_cron && in->ndeps > 0)
        resp_detail(rq, rs, "schedule_cron",
                    "a job has a schedule_cron or depends_on (or neither), not both");
    if (!create && !resp_has_details(rs) && !in->set_name && !in->set_agent_id &&
        !in->set_schedule_cron && !in->set_depends_on && !in->set_is_active &&
        !in->set_timeout_seconds && !in->set_max_retries)
        resp_detail(rq, rs, "body", "nothing to change");
    if (oom)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    if (resp_has_details(rs)) {
        /* the first problem is the message too (the cron text says the
         * field and the bad part) */
        const cJSON *d = cJSON_GetArrayItem(rs->details, 0);
        const char *f = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "field"));
        const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "message"));
        const char *msg = f && m ? arena_printf(rq->arena, "%s: %s", f, m) : NULL;
        return resp_error(rs, E_VALIDATION_ERROR, msg);
    }
    return WSMS_OK;
}

static const char *field_of(const char *why)
{
    static const char *const fields[] = {"depends_on", "agent_id", "schedule_cron"};
    for (size_t i = 0; why && i < sizeof(fields) / sizeof(*fields); i++)
        if (strstr(why, fields[i]))
            return fields[i];
    return "body";
}

static wsms_err answer(struct request *rq, struct response *rs, wsms_err e, const char *why,
                       int status, cJSON *o)
{
    if (e == E_VALIDATION_ERROR && why)
        resp_detail(rq, rs, field_of(why), why);
    if (e != WSMS_OK)
        return resp_error(rs, e, e == E_RESOURCE_NOT_FOUND ? "Job not found" : why);
    return resp_json(rq, rs, status, o);
}

wsms_err api_jobs_list(struct request *rq, struct response *rs)
{
    long limit, offset, total = 0;
    cJSON *arr = NULL;
    wsms_err e = req_pagination(rq, rs, &limit, &offset);
    if (e != WSMS_OK)
        return e;
    if ((e = jobs_list(rq, limit, offset, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    return api_auto_page(rq, rs, arr, total);
}

wsms_err api_jobs_create(struct request *rq, struct response *rs)
{
    cJSON *body, *o = NULL;
    struct job_in in;
    const char *why = NULL;
    wsms_err e = req_json_object(rq, rs, &body);
    if (e == WSMS_OK)
        e = parse(rq, rs, body, true, &in);
    if (e != WSMS_OK)
        return e;
    e = jobs_create(rq, &in, &o, &why);
    return answer(rq, rs, e, why, 201, o);
}

wsms_err api_jobs_get(struct request *rq, struct response *rs)
{
    cJSON *o = NULL;
    const char *id = api_auto_id(rq);
    if (!id)
        return resp_error(rs, E_RESOURCE_NOT_FOUND, "Job not found");
    wsms_err e = jobs_get(rq, id, &o);
    return answer(rq, rs, e, NULL, 200, o);
}

wsms_err api_jobs_update(struct request *rq, struct response *rs)
{
    cJSON *body, *o = NULL;
    struct job_in in;
    const char *why = NULL;
    const char *id = api_auto_id(rq);
    if (!id)
        return resp_error(rs, E_RESOURCE_NOT_FOUND, "Job not found");
    wsms_err e = req_json_object(rq, rs, &body);
    if (e == WSMS_OK)
        e = parse(rq, rs, body, false, &in);
    if (e != WSMS_OK)
        return e;
    e = jobs_update(rq, id, &in, &o, &why);
    return answer(rq, rs, e, why, 200, o);
}

wsms_err api_jobs_delete(struct request *rq, struct response *rs)
{
    const char *why = NULL;
    const char *id = api_auto_id(rq);
    if (!id)
        return resp_error(rs, E_RESOURCE_NOT_FOUND, "Job not found");
    wsms_err e = jobs_delete(rq, id, &why);
    if (e != WSMS_OK)
        return resp_error(rs, e, e == E_RESOURCE_NOT_FOUND ? "Job not found" : why);
    return resp_no_content(rs);
}
