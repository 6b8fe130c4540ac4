#include "api/api_ops.h"

#include "core/config.h"
#include "core/arena.h"
#include "core/metrics.h"
#include "domain/automation/runs.h"

#include <string.h>

/* Is the client address one of the comma-separated STATUS_ALLOW entries? */
static bool allowed(const struct request *rq)
{
    const char *list = config_get()->status_allow;
    const char *addr = rq->remote_addr;
    if (!addr || !*addr)
        return false;
    size_t al = strlen(addr);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - p) == al && strncmp(p, addr, al) == 0)
            return true;
        p = e;
    }
    return false;
}

wsms_err api_status(struct request *rq, struct response *rs)
{
    if (!allowed(rq))
        return resp_error(rs, E_PERMISSION_DENIED, "Status is not available to this client");
    char *body = metrics_status_json(rq->arena);
    if (!body)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    rs->status = 200;
    rs->body = body;
    rs->body_len = strlen(body);
    rs->content_type = "application/json";
    return WSMS_OK;
}

wsms_err api_metrics(struct request *rq, struct response *rs)
{
    if (!allowed(rq))
        return resp_error(rs, E_PERMISSION_DENIED, "Metrics are not available to this client");
    char *body = metrics_render(rq->arena);
    /* the schedulers' counters live in the database (any host) */
    char *sched = body ? runs_metrics_text(rq->arena) : NULL;
    if (sched && *sched)
        body = arena_printf(rq->arena, "%s%s", body, sched);
    if (!body || !sched)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    rs->status = 200;
    rs->body = body;
    rs->body_len = strlen(body);
    rs->content_type = "text/plain; version=0.0.4";
    return WSMS_OK;
}
