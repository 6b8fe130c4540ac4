#include "api/api_integrations.h"

#include "outbound/integrations.h"
#include "core/log.h"
#include "core/metrics.h"

#define LG "integrations"

static wsms_err list(struct request *rq, struct response *rs, enum provider p, const char *name)
{
    cJSON *out = NULL;
    char why[256] = "";
    req_stage(rq, name);
    wsms_err e = integ_list(p, &out, why, sizeof(why));
    metrics_integration(name, e);
    if (e != WSMS_OK) {
        log_warn(LG, "%s list failed: %s (%s)", name, err_code(e), why);
        cJSON_Delete(out);
        return resp_error(rs, e, NULL);
    }
    return resp_json(rq, rs, 200, out);
}

wsms_err api_jira_projects(struct request *rq, struct response *rs)
{
    return list(rq, rs, PROV_JIRA, "jira");
}

wsms_err api_ado_projects(struct request *rq, struct response *rs)
{
    return list(rq, rs, PROV_ADO, "ado");
}

wsms_err api_snow_spaces(struct request *rq, struct response *rs)
{
    return list(rq, rs, PROV_SNOW, "snow");
}

wsms_err api_sharepoint_sites(struct request *rq, struct response *rs)
{
    return list(rq, rs, PROV_SP, "sharepoint");
}
