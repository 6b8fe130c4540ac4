/* ws_integrations: the rows of a workspace's workspace_integrations table
 * managed through /workspaces/{id}/integrations (the same rows the
 * workspace object lists as external_links): list, read, link, change,
 * unlink, and the connection check through the provider client. One
 * provider project (provider + external_id) is linked once per workspace
 * (E_CONFLICT). Changes run under the workspace row's lock and are
 * audited in the same transaction. Owns no state; trees handed back belong
 * to the caller (cJSON_Delete), strings live in the arena. */
#ifndef WSMS_WS_INTEGRATIONS_H
#define WSMS_WS_INTEGRATIONS_H

#include "core/err.h"
#include "http/http.h"
#include "outbound/integrations.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* A validated body. Create: provider (canonical), display_name,
 * external_id required; url (https) and extra_config (JSON object text)
 * optional. Update: each set_* says the field was sent (url and
 * extra_config may be set to NULL). */
struct wsi_in {
    const char *provider, *display_name, *external_id, *url, *extra_config;
    bool set_display_name, set_external_id, set_url, set_extra_config;
};

/* A page of the workspace's integrations, oldest first; *total without
 * paging. */
wsms_err wsi_list(struct request *rq, long limit, long offset, cJSON **out, long *total);
/* E_RESOURCE_NOT_FOUND when iid is not an integration of the workspace. */
wsms_err wsi_get(struct request *rq, const char *iid, cJSON **out);
/* 201 body; audits INTEGRATION_ADDED. */
wsms_err wsi_create(struct request *rq, const struct wsi_in *in, cJSON **out);
/* Audits INTEGRATION_UPDATED with the old and new values of the fields
 * sent. */
wsms_err wsi_update(struct request *rq, const char *iid, const struct wsi_in *in, cJSON **out);
/* Audits INTEGRATION_REMOVED. */
wsms_err wsi_delete(struct request *rq, const char *iid);
/* Calls the provider's list through the outbound client (no transaction
 * open meanwhile), then records connection_status Connected or Failed
 * with status_reason and last_checked_utc (audited
 * INTEGRATION_TESTED). *out is the integration; *call is the provider
 * call's result (WSMS_OK or the error the list routes answer). */
wsms_err wsi_test(struct request *rq, const char *iid, cJSON **out, wsms_err *call);

/* The stored provider name ("Jira", "ADO", "SNOW", "SP") -> the outbound
 * client's provider and its metrics label; false when unknown. */
bool wsi_provider_of(const char *s, enum provider *p, const char **metric);

#endif
