/* The route table: every path the service answers, its handler, who may
 * call it and the minimum workspace role. The OpenAPI test checks
 * src/openapi.json against this table. */
#include "server/routes.h"

#include "api/api_apikeys.h"
#include "api/api_auth.h"
#include "api/api_integrations.h"
#include "api/api_ops.h"
#include "api/api_members.h"
#include "api/api_system.h"
#include "api/api_workspaces.h"
#include "api/api_ws_integrations.h"

static const struct route routes[] = {
    {"GET", "/health", api_health, AUTH_NONE, ROLE_NONE, "health"},
    {"GET", "/openapi.json", api_openapi, AUTH_NONE, ROLE_NONE, "openapi"},
    {"GET", "/db/status", api_db_status, AUTH_NONE, ROLE_NONE, "db.status"},
    {"POST", "/db/init", api_db_init, AUTH_NONE, ROLE_NONE, "db.init"},
    {"GET", "/status", api_status, AUTH_NONE, ROLE_NONE, "status"},
    {"GET", "/metrics", api_metrics, AUTH_NONE, ROLE_NONE, "metrics"},
    {"POST", "/auth/validate", api_auth_validate, AUTH_NONE, ROLE_NONE, "auth.validate"},
    {"POST", "/auth/refresh", api_auth_refresh, AUTH_NONE, ROLE_NONE, "auth.refresh"},
    {"POST", "/me/sessions/revoke", api_me_sessions_revoke, AUTH_USER, ROLE_NONE,
     "sessions.revoke"},
    {"GET", "/integrations/jira/projects", api_jira_projects, AUTH_USER, ROLE_NONE,
     "integrations.jira"},
    {"GET", "/integrations/ado/projects", api_ado_projects, AUTH_USER, ROLE_NONE,
     "integrations.ado"},
    {"GET", "/integrations/snow/spaces", api_snow_spaces, AUTH_USER, ROLE_NONE,
     "integrations.snow"},
    {"GET", "/integrations/sharepoint/sites", api_sharepoint_sites, AUTH_USER, ROLE_NONE,
     "integrations.sharepoint"},
    {"POST", "/workspaces", api_workspaces_create, AUTH_USER, ROLE_NONE, "workspaces.create"},
    {"GET", "/workspaces", api_workspaces_list, AUTH_USER_READ, ROLE_NONE, "workspaces.list"},
    {"GET", "/workspaces/{id}", api_workspaces_get, AUTH_WORKSPACE_READ, ROLE_VIEWER,
     "workspaces.get"},
    {"PATCH", "/workspaces/{id}", api_workspaces_update, AUTH_WORKSPACE, ROLE_ADMIN,
     "workspaces.update"},
    {"POST", "/workspaces/{id}/restore", api_workspaces_restore, AUTH_ARCHIVED, ROLE_OWNER,
     "workspaces.restore"},
    {"DELETE", "/workspaces/{id}", api_workspaces_delete, AUTH_WORKSPACE, ROLE_OWNER,
     "workspaces.delete"},
    {"GET", "/workspaces/{id}/members", api_members_list, AUTH_WORKSPACE_READ, ROLE_VIEWER,
     "members.list"},
    {"POST", "/workspaces/{id}/members", api_members_add, AUTH_WORKSPACE, ROLE_ADMIN,
     "members.add"},
    /* VIEWER is the floor only: the members service applies the rules that
     * depend on the target (ADMIN+, OWNER for owners, anyone for themselves) */
    {"PATCH", "/workspaces/{id}/members/{member_id}", api_members_update, AUTH_WORKSPACE,
     ROLE_VIEWER, "members.update"},
    {"PATCH", "/workspaces/{id}/members/{member_id}/role", api_members_update, AUTH_WORKSPACE,
     ROLE_VIEWER, "members.update_role"},
    {"DELETE", "/workspaces/{id}/members/{member_id}", api_members_remove, AUTH_WORKSPACE,
     ROLE_VIEWER, "members.remove"},
    {"GET", "/workspaces/{id}/audit", api_workspaces_audit, AUTH_WORKSPACE_READ, ROLE_ADMIN,
     "audit.list"},
    {"POST", "/workspaces/{id}/api-keys", api_apikeys_create, AUTH_WORKSPACE, ROLE_ADMIN,
     "apikeys.create"},
    {"GET", "/workspaces/{id}/api-keys", api_apikeys_list, AUTH_WORKSPACE_READ, ROLE_ADMIN,
     "apikeys.list"},
    {"DELETE", "/workspaces/{id}/api-keys/{key_id}", api_apikeys_revoke, AUTH_WORKSPACE, ROLE_ADMIN,
     "apikeys.revoke"},
    {"GET", "/workspaces/{id}/integrations", api_wsi_list, AUTH_WORKSPACE_READ, ROLE_VIEWER,
     "ws_integrations.list"},
    {"POST", "/workspaces/{id}/integrations", api_wsi_create, AUTH_WORKSPACE, ROLE_ADMIN,
     "ws_integrations.create"},
    {"GET", "/workspaces/{id}/integrations/{integration_id}", api_wsi_get, AUTH_WORKSPACE_READ,
     ROLE_VIEWER, "ws_integrations.get"},
    {"PATCH", "/workspaces/{id}/integrations/{integration_id}", api_wsi_update, AUTH_WORKSPACE,
     ROLE_ADMIN, "ws_integrations.update"},
    {"DELETE", "/workspaces/{id}/integrations/{integration_id}", api_wsi_delete, AUTH_WORKSPACE,
     ROLE_ADMIN, "ws_integrations.delete"},
    {"POST", "/workspaces/{id}/integrations/{integration_id}/test", api_wsi_test, AUTH_WORKSPACE,
     ROLE_ADMIN, "ws_integrations.test"},
};

const struct route *routes_table(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
