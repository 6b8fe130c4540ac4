/* integrations: the four provider "list projects" calls (Jira Cloud, Azure
 * DevOps, ServiceNow, SharePoint through Microsoft Graph) over httpc.
 *
 * Owns nothing between calls. Each call follows the provider's pagination
 * inside one INTEGRATION_TIMEOUT_SECONDS budget and at most
 * INTEG_MAX_PAGES pages, never follows a redirect, and follows a Graph
 * @odata.nextLink only while it stays on the configured origin. The cJSON
 * tree returned through *out belongs to the caller (cJSON_Delete or
 * arena_json). Credentials are built here and wiped after use; they are
 * never logged or put in `why`. */
#ifndef WSMS_INTEGRATIONS_H
#define WSMS_INTEGRATIONS_H

#include "core/err.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define INTEG_MAX_PAGES      100
#define INTEG_JIRA_PAGE_SIZE 50

enum provider { PROV_JIRA, PROV_ADO, PROV_SNOW, PROV_SP };

/* On WSMS_OK *out is a new object {"projects": [...]} whose items carry
 * "id" and "name" (strings) and, where the provider gives them, "key",
 * "description", "state", "webUrl", "projectTypeKey". Errors:
 * E_INTEGRATION_NOT_CONFIGURED (base URL or token empty), E_NETWORK_ERROR,
 * E_REQUEST_TIMEOUT, E_EXTERNAL_SERVICE_ERROR (upstream 3xx/4xx/5xx, a body
 * that is not the documented JSON, oversized or broken response),
 * E_INTERNAL_SERVER_ERROR (out of memory). why: short reason for the log,
 * never credentials. *out is NULL on error. */
wsms_err integ_list(enum provider p, cJSON **out, char *why, size_t whylen);

/* "jira", "ado", "snow", "sharepoint". */
const char *integ_provider_name(enum provider p);

#endif
