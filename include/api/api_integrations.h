/* api_integrations: the four provider list routes (GET
 * /integrations/{jira,ado}/projects, /integrations/snow/spaces,
 * /integrations/sharepoint/sites); the work is in integrations.c. */
#ifndef WSMS_API_INTEGRATIONS_H
#define WSMS_API_INTEGRATIONS_H

#include "http/http.h"

wsms_err api_jira_projects(struct request *rq, struct response *rs);
wsms_err api_ado_projects(struct request *rq, struct response *rs);
wsms_err api_snow_spaces(struct request *rq, struct response *rs);
wsms_err api_sharepoint_sites(struct request *rq, struct response *rs);

#endif
