/* api_agents: HTTP handlers for GET /agent-types and
 * /workspaces/{id}/agents[/{agent_id}]: parse and validate the body, call
 * the agents service, build the response (lists with X-Total-Count). No
 * SQL here. */
#ifndef WSMS_API_AGENTS_H
#define WSMS_API_AGENTS_H

#include "http/http.h"

wsms_err api_agent_types(struct request *rq, struct response *rs);
wsms_err api_agents_list(struct request *rq, struct response *rs);
wsms_err api_agents_create(struct request *rq, struct response *rs);
wsms_err api_agents_get(struct request *rq, struct response *rs);
wsms_err api_agents_update(struct request *rq, struct response *rs);
wsms_err api_agents_delete(struct request *rq, struct response *rs);

/* Shared with api_jobs: sets X-Total-Count and answers 200
 * with the array (freed on failure). */
wsms_err api_auto_page(struct request *rq, struct response *rs, cJSON *arr, long total);
/* The {x_id} capture (cap[1]) normalized; NULL when it is no GUID. */
const char *api_auto_id(struct request *rq);

#endif
