/* snapshot: the built-in agent `integration_snapshot`. For each
 * integration of the workspace (or those its config names in
 * integration_ids) it fetches the provider's project list through
 * outbound/integrations and writes ONE JSON document per run to blob
 * storage under workspaces/<id>/documents/snapshots/. The document holds
 * the integrations (id, provider, external_id, display_name) and the
 * projects the providers answered; never a credential. Owns no state;
 * strings handed back live in the caller's arena. */
#ifndef WSMS_SNAPSHOT_H
#define WSMS_SNAPSHOT_H

#include "core/err.h"
#include "domain/automation/jobs.h"

#include <stdint.h>

struct arena;

#define SNAPSHOT_ARTIFACT_TYPE "integration_snapshot"

struct snapshot_result {
    const char *blob_url, *file_name; /* on success */
    long long size_bytes;
    const char *error; /* on failure: "<ERROR_CODE>: ..." for error_message */
};

/* Runs the agent for run_id of job. WSMS_OK with out->blob_url set, or an
 * error code with out->error saying why (a provider's error code, blob
 * storage not configured or failing, a bad config). No transaction is
 * open meanwhile. */
wsms_err snapshot_run(struct arena *a, const char *schema, const char *ws_id,
                      const struct job_info *job, const char *run_id, int64_t now,
                      struct snapshot_result *out);

#endif
