/* api_runs: HTTP handlers for runs and artifacts:
 *   POST /workspaces/{id}/jobs/{job_id}/runs        run now (MEMBER+)
 *   GET  /workspaces/{id}/runs                      page, filters job_id, status
 *   GET  /workspaces/{id}/runs/{run_id}             with transitions and artifacts
 *   POST /workspaces/{id}/runs/{run_id}/cancel      (MEMBER+)
 *   GET  /workspaces/{id}/artifacts                 page, filter run_id
 *   GET  /workspaces/{id}/artifacts/{artifact_id}
 * Parse and validate, call domain/automation/runs, build the response. No
 * SQL here. */
#ifndef WSMS_API_RUNS_H
#define WSMS_API_RUNS_H

#include "http/http.h"

wsms_err api_runs_create(struct request *rq, struct response *rs);
wsms_err api_runs_list(struct request *rq, struct response *rs);
wsms_err api_runs_get(struct request *rq, struct response *rs);
wsms_err api_runs_cancel(struct request *rq, struct response *rs);
wsms_err api_artifacts_list(struct request *rq, struct response *rs);
wsms_err api_artifacts_get(struct request *rq, struct response *rs);

#endif
