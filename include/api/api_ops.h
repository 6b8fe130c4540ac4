/* api_ops: GET /status (worker states, like php-fpm's status page) and GET
 * /metrics (Prometheus text). Both answer only clients listed in
 * STATUS_ALLOW; nginx also limits them to loopback. */
#ifndef WSMS_API_OPS_H
#define WSMS_API_OPS_H

#include "http/http.h"

wsms_err api_status(struct request *rq, struct response *rs);
wsms_err api_metrics(struct request *rq, struct response *rs);

#endif
