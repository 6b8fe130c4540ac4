/* api_ws_integrations: HTTP handlers of /workspaces/{id}/integrations and
 * /workspaces/{id}/integrations/{integration_id}[/test]: parse and validate
 * the body (provider, display_name, external_id, https url, extra_config
 * object), call the ws_integrations service, build the response. No SQL. */
#ifndef WSMS_API_WS_INTEGRATIONS_H
#define WSMS_API_WS_INTEGRATIONS_H

#include "http/http.h"

wsms_err api_wsi_list(struct request *rq, struct response *rs);
wsms_err api_wsi_create(struct request *rq, struct response *rs);
wsms_err api_wsi_get(struct request *rq, struct response *rs);
wsms_err api_wsi_update(struct request *rq, struct response *rs);
wsms_err api_wsi_delete(struct request *rq, struct response *rs);
wsms_err api_wsi_test(struct request *rq, struct response *rs);

#endif
