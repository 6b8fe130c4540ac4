/* api_jobs: HTTP handlers for /workspaces/{id}/jobs[/{job_id}]: parse and
 * validate the body (the cron expression through cron_parse, whose message
 * names the field and the bad part), call the jobs service, build the
 * response (lists with X-Total-Count). No SQL here. */
#ifndef WSMS_API_JOBS_H
#define WSMS_API_JOBS_H

#include "http/http.h"

wsms_err api_jobs_list(struct request *rq, struct response *rs);
wsms_err api_jobs_create(struct request *rq, struct response *rs);
wsms_err api_jobs_get(struct request *rq, struct response *rs);
wsms_err api_jobs_update(struct request *rq, struct response *rs);
wsms_err api_jobs_delete(struct request *rq, struct response *rs);

#endif
