/* The route table: every path the service answers, its handler, who may
 * call it and the minimum workspace role. The OpenAPI test checks
 * src/openapi.json against this table. */
#include "router.h"

#include "api_auth.h"
#include "api_integrations.h"
#include "api_system.h"

static const struct route routes[] = {
    {"GET", "/health", api_health, AUTH_NONE, ROLE_NONE, "health"},
    {"GET", "/openapi.json", api_openapi, AUTH_NONE, ROLE_NONE, "openapi"},
    {"GET", "/db/status", api_db_status, AUTH_NONE, ROLE_NONE, "db.status"},
    {"POST", "/db/init", api_db_init, AUTH_NONE, ROLE_NONE, "db.init"},
    {"POST", "/auth/validate", api_auth_validate, AUTH_NONE, ROLE_NONE, "auth.validate"},
    {"POST", "/auth/refresh", api_auth_refresh, AUTH_NONE, ROLE_NONE, "auth.refresh"},
    {"GET", "/integrations/jira/projects", api_jira_projects, AUTH_USER, ROLE_NONE, "integrations.jira"},
    {"GET", "/integrations/ado/projects", api_ado_projects, AUTH_USER, ROLE_NONE, "integrations.ado"},
    {"GET", "/integrations/snow/spaces", api_snow_spaces, AUTH_USER, ROLE_NONE, "integrations.snow"},
    {"GET", "/integrations/sharepoint/sites", api_sharepoint_sites, AUTH_USER, ROLE_NONE,
     "integrations.sharepoint"},
};

const struct route *router_table(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
