/* The route table: every path the service answers, its handler, who may
 * call it and the minimum workspace role. The OpenAPI test checks
 * src/openapi.json against this table. */
#include "server/routes.h"

#include "api/api_agents.h"
#include "api/api_apikeys.h"
#include "api/api_auth.h"
#include "api/api_integrations.h"
#include "api/api_jobs.h"
#include "api/api_invitations.h"
#include "api/api_ops.h"
#include "api/api_members.h"
#include "api/api_runs.h"
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
    {"GET", "/me/invitations", api_me_invitations, AUTH_USER_READ, ROLE_NONE, "invitations.mine"},
    {"POST", "/invitations/{inv_id}/accept", api_invitations_accept, AUTH_USER, ROLE_NONE,
     "invitations.accept"},
    {"POST", "/invitations/{inv_id}/decline", api_invitations_decline, AUTH_USER, ROLE_NONE,
     "invitations.decline"},
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
    {"POST", "/workspaces/{id}/invitations", api_invitations_create, AUTH_WORKSPACE, ROLE_ADMIN,
     "invitations.create"},
    {"GET", "/workspaces/{id}/invitations", api_invitations_list, AUTH_WORKSPACE_READ, ROLE_ADMIN,
     "invitations.list"},
    {"POST", "/workspaces/{id}/invitations/{inv_id}/resend", api_invitations_resend, AUTH_WORKSPACE,
     ROLE_ADMIN, "invitations.resend"},
    {"DELETE", "/workspaces/{id}/invitations/{inv_id}", api_invitations_revoke, AUTH_WORKSPACE,
     ROLE_ADMIN, "invitations.revoke"},
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
    {"POST", "/workspaces/{id}/jobs/{job_id}/runs", api_runs_create, AUTH_WORKSPACE, ROLE_MEMBER,
     "runs.create"},
    {"GET", "/workspaces/{id}/runs", api_runs_list, AUTH_WORKSPACE_READ, ROLE_VIEWER, "runs.list"},
    {"GET", "/workspaces/{id}/runs/{run_id}", api_runs_get, AUTH_WORKSPACE_READ, ROLE_VIEWER,
     "runs.get"},
    {"POST", "/workspaces/{id}/runs/{run_id}/cancel", api_runs_cancel, AUTH_WORKSPACE, ROLE_MEMBER,
     "runs.cancel"},
    {"GET", "/workspaces/{id}/artifacts", api_artifacts_list, AUTH_WORKSPACE_READ, ROLE_VIEWER,
     "artifacts.list"},
    {"GET", "/workspaces/{id}/artifacts/{artifact_id}", api_artifacts_get, AUTH_WORKSPACE_READ,
     ROLE_VIEWER, "artifacts.get"},
    /* automation: agents and jobs (issue 15) */
    {"GET", "/agent-types", api_agent_types, AUTH_USER, ROLE_NONE, "agent_types.list"},
    {"GET", "/workspaces/{id}/agents", api_agents_list, AUTH_WORKSPACE_READ, ROLE_VIEWER,
     "agents.list"},
    {"POST", "/workspaces/{id}/agents", api_agents_create, AUTH_WORKSPACE, ROLE_ADMIN,
     "agents.create"},
    {"GET", "/workspaces/{id}/agents/{agent_id}", api_agents_get, AUTH_WORKSPACE_READ, ROLE_VIEWER,
     "agents.get"},
    {"PATCH", "/workspaces/{id}/agents/{agent_id}", api_agents_update, AUTH_WORKSPACE, ROLE_ADMIN,
     "agents.update"},
    {"DELETE", "/workspaces/{id}/agents/{agent_id}", api_agents_delete, AUTH_WORKSPACE, ROLE_ADMIN,
     "agents.delete"},
    {"GET", "/workspaces/{id}/jobs", api_jobs_list, AUTH_WORKSPACE_READ, ROLE_VIEWER, "jobs.list"},
    {"POST", "/workspaces/{id}/jobs", api_jobs_create, AUTH_WORKSPACE, ROLE_ADMIN, "jobs.create"},
    {"GET", "/workspaces/{id}/jobs/{job_id}", api_jobs_get, AUTH_WORKSPACE_READ, ROLE_VIEWER,
     "jobs.get"},
    {"PATCH", "/workspaces/{id}/jobs/{job_id}", api_jobs_update, AUTH_WORKSPACE, ROLE_ADMIN,
     "jobs.update"},
    {"DELETE", "/workspaces/{id}/jobs/{job_id}", api_jobs_delete, AUTH_WORKSPACE, ROLE_ADMIN,
     "jobs.delete"},
};

const struct route *routes_table(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
