/* api_system: the anonymous operational routes: GET /health, GET /db/status,
 * POST /db/init and GET /openapi.json. */
#ifndef WSMS_API_SYSTEM_H
#define WSMS_API_SYSTEM_H

#include "http/http.h"

wsms_err api_health(struct request *rq, struct response *rs);
wsms_err api_db_status(struct request *rq, struct response *rs);
wsms_err api_db_init(struct request *rq, struct response *rs);
wsms_err api_openapi(struct request *rq, struct response *rs);

#endif
