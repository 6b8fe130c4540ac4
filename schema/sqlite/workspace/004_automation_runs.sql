-- Runs, their transitions and artifacts (issue 15). 001 made placeholder
-- automation_job_runs and file_artifacts tables that no code ever wrote;
-- they are dropped and made again in the shape the runs service uses.
-- fire_key: 's:<UTC ISO fire time>' scheduled, 'm:<run id>' manual,
-- 'd:<chain id>' dependency; a retry appends '#<attempt>'. The unique key
-- (workspace_id, job_id, fire_key) makes one fire time fire once across
-- schedulers and a diamond's join run once per chain.
DROP TABLE pmassist_master.{{schema}}__file_artifacts;
GO
DROP TABLE pmassist_master.{{schema}}__automation_job_runs;
GO
CREATE TABLE pmassist_master.{{schema}}__automation_job_runs (
    job_run_id        TEXT      NOT NULL PRIMARY KEY,
    workspace_id      TEXT      NOT NULL,
    job_id            TEXT      NOT NULL,
    chain_id          TEXT      NOT NULL,
    fire_key          TEXT      NOT NULL,
    attempt           INTEGER   NOT NULL,
    trigger_kind      TEXT      NOT NULL,
    scheduled_for_utc TIMESTAMP NULL,
    status            TEXT      NOT NULL,
    created_utc       TIMESTAMP NOT NULL,
    not_before_utc    TIMESTAMP NOT NULL,
    started_utc       TIMESTAMP NULL,
    completed_utc     TIMESTAMP NULL,
    lease_owner       TEXT      NULL,
    lease_expires_utc TIMESTAMP NULL,
    timeout_at_utc    TIMESTAMP NULL,
    error_message     TEXT      NULL,
    reason            TEXT      NULL,
    created_by        TEXT      NOT NULL
);
GO
CREATE UNIQUE INDEX pmassist_master.ux_{{schema}}__runs_fire
    ON {{schema}}__automation_job_runs (workspace_id, job_id, fire_key);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__runs_created
    ON {{schema}}__automation_job_runs (workspace_id, created_utc);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__runs_chain
    ON {{schema}}__automation_job_runs (workspace_id, chain_id);
GO
CREATE TABLE pmassist_master.{{schema}}__automation_run_transitions (
    transition_id TEXT      NOT NULL PRIMARY KEY,
    workspace_id  TEXT      NOT NULL,
    job_run_id    TEXT      NOT NULL,
    from_status   TEXT      NULL,
    to_status     TEXT      NOT NULL,
    at_utc        TIMESTAMP NOT NULL,
    actor         TEXT      NOT NULL,
    reason        TEXT      NULL
);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__transitions_run
    ON {{schema}}__automation_run_transitions (workspace_id, job_run_id, at_utc);
GO
CREATE TABLE pmassist_master.{{schema}}__file_artifacts (
    file_artifact_id   TEXT      NOT NULL PRIMARY KEY,
    workspace_id       TEXT      NOT NULL,
    workspace_agent_id TEXT      NULL,
    job_run_id         TEXT      NULL,
    type               TEXT      NOT NULL,
    blob_url           TEXT      NOT NULL,
    file_name          TEXT      NOT NULL,
    size_bytes         INTEGER   NOT NULL,
    content_type       TEXT      NOT NULL,
    created_utc        TIMESTAMP NOT NULL,
    created_by_user_id TEXT      NOT NULL
);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__artifacts_run
    ON {{schema}}__file_artifacts (workspace_id, job_run_id);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__artifacts_created
    ON {{schema}}__file_artifacts (workspace_id, created_utc);
