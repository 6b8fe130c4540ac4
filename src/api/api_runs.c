#include "api/api_runs.h"

#include "core/arena.h"
#include "core/util.h"
#include "domain/automation/run_state.h"
#include "domain/automation/runs.h"

#include <stdio.h>

static wsms_err with_total(struct request *rq, struct response *rs, cJSON *arr, long total)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%ld", total);
    if (resp_header(rq, rs, "X-Total-Count", buf) != 0) {
        cJSON_Delete(arr);
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    }
    return resp_json(rq, rs, 200, arr);
}

/* A GUID query filter: NULL when absent; adds a detail when malformed. */
static const char *guid_filter(struct request *rq, struct response *rs, const char *name)
{
    char id[GUID_LEN + 1];
    const char *v = req_query(rq, name);
    if (!v)
        return NULL;
    if (guid_normalize(v, id) != 0) {
        resp_detail(rq, rs, name, "must be a GUID");
        return NULL;
    }
    return arena_strdup(rq->arena, id);
}

wsms_err api_runs_create(struct request *rq, struct response *rs)
{
    cJSON *o = NULL;
    const char *why = NULL;
    wsms_err e = runs_run_now(rq, rq->cap[1], &o, &why);
    if (e != WSMS_OK)
        return resp_error(rs, e, e == E_RESOURCE_NOT_FOUND ? "No such job" : why);
    return resp_json(rq, rs, 201, o);
}

wsms_err api_runs_list(struct request *rq, struct response *rs)
{
    long limit, offset, total = 0;
    cJSON *arr = NULL;
    enum run_state st;
    wsms_err e = req_check_query(rq, rs);
    if (e == WSMS_OK)
        e = req_pagination(rq, rs, &limit, &offset);
    if (e != WSMS_OK)
        return e;
    const char *job_id = guid_filter(rq, rs, "job_id");
    const char *status = req_query(rq, "status");
    if (status && run_state_parse(status, &st) != 0)
        resp_detail(rq, rs, "status",
                    "must be one of PENDING, RUNNING, SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, "
                    "SKIPPED");
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    if ((e = runs_list(rq, job_id, status, limit, offset, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    return with_total(rq, rs, arr, total);
}

wsms_err api_runs_get(struct request *rq, struct response *rs)
{
    cJSON *o = NULL;
    wsms_err e = runs_get(rq, rq->cap[1], &o);
    if (e != WSMS_OK)
        return resp_error(rs, e, e == E_RESOURCE_NOT_FOUND ? "No such run" : NULL);
    return resp_json(rq, rs, 200, o);
}

wsms_err api_runs_cancel(struct request *rq, struct response *rs)
{
    cJSON *o = NULL;
    wsms_err e = runs_cancel(rq, rq->cap[1], &o);
    if (e != WSMS_OK)
        return resp_error(rs, e,
                          e == E_RESOURCE_NOT_FOUND    ? "No such run"
                          : e == E_INVALID_TRANSITION ? "Only a PENDING or RUNNING run can be "
                                                        "cancelled"
                                                      : NULL);
    return resp_json(rq, rs, 200, o);
}

wsms_err api_artifacts_list(struct request *rq, struct response *rs)
{
    long limit, offset, total = 0;
    cJSON *arr = NULL;
    wsms_err e = req_check_query(rq, rs);
    if (e == WSMS_OK)
        e = req_pagination(rq, rs, &limit, &offset);
    if (e != WSMS_OK)
        return e;
    const char *run_id = guid_filter(rq, rs, "run_id");
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    if ((e = artifacts_list(rq, run_id, limit, offset, &arr, &total)) != WSMS_OK)
        return resp_error(rs, e, NULL);
    return with_total(rq, rs, arr, total);
}

wsms_err api_artifacts_get(struct request *rq, struct response *rs)
{
    cJSON *o = NULL;
    wsms_err e = artifacts_get(rq, rq->cap[1], &o);
    if (e != WSMS_OK)
        return resp_error(rs, e, e == E_RESOURCE_NOT_FOUND ? "No such artifact" : NULL);
    return resp_json(rq, rs, 200, o);
}
