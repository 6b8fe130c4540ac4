-- Runs, their transitions and artifacts (issue 15). 001 made placeholder
-- automation_job_runs and file_artifacts tables that no code ever wrote;
-- they are dropped and made again in the shape the runs service uses.
-- fire_key: 's:<UTC ISO fire time>' scheduled, 'm:<run id>' manual,
-- 'd:<chain id>' dependency; a retry appends '#<attempt>'. The unique key
-- (workspace_id, job_id, fire_key) makes one fire time fire once across
-- schedulers and a diamond's join run once per chain.
DROP TABLE {{schema}}.file_artifacts;
GO
DROP TABLE {{schema}}.automation_job_runs;
GO
CREATE TABLE {{schema}}.automation_job_runs (
    job_run_id         VARCHAR(36)      NOT NULL,
    workspace_id       VARCHAR(36)      NOT NULL,
    job_id             VARCHAR(36)      NOT NULL,
    chain_id           VARCHAR(36)      NOT NULL,
    fire_key           VARCHAR(80)      NOT NULL,
    attempt            INT              NOT NULL,
    trigger_kind       VARCHAR(16)      NOT NULL,
    scheduled_for_utc  TIMESTAMP(3)     NULL,
    status             VARCHAR(16)      NOT NULL,
    created_utc        TIMESTAMP(3)     NOT NULL,
    not_before_utc     TIMESTAMP(3)     NOT NULL,
    started_utc        TIMESTAMP(3)     NULL,
    completed_utc      TIMESTAMP(3)     NULL,
    lease_owner        VARCHAR(128)     NULL,
    lease_expires_utc  TIMESTAMP(3)     NULL,
    timeout_at_utc     TIMESTAMP(3)     NULL,
    error_message      VARCHAR(4000)    NULL,
    reason             VARCHAR(1000)    NULL,
    created_by         VARCHAR(128)     NOT NULL,
    CONSTRAINT PK_{{schema}}_runs PRIMARY KEY (job_run_id)
);
GO
CREATE UNIQUE INDEX UX_{{schema}}_runs_fire
    ON {{schema}}.automation_job_runs (workspace_id, job_id, fire_key);
GO
CREATE INDEX IX_{{schema}}_runs_created
    ON {{schema}}.automation_job_runs (workspace_id, created_utc);
GO
CREATE INDEX IX_{{schema}}_runs_chain
    ON {{schema}}.automation_job_runs (workspace_id, chain_id);
GO
CREATE TABLE {{schema}}.automation_run_transitions (
    transition_id      VARCHAR(36)      NOT NULL,
    workspace_id       VARCHAR(36)      NOT NULL,
    job_run_id         VARCHAR(36)      NOT NULL,
    from_status        VARCHAR(16)      NULL,
    to_status          VARCHAR(16)      NOT NULL,
    at_utc             TIMESTAMP(3)     NOT NULL,
    actor              VARCHAR(128)     NOT NULL,
    reason             VARCHAR(1000)    NULL,
    CONSTRAINT PK_{{schema}}_transitions PRIMARY KEY (transition_id)
);
GO
CREATE INDEX IX_{{schema}}_transitions_run
    ON {{schema}}.automation_run_transitions (workspace_id, job_run_id, at_utc);
GO
CREATE TABLE {{schema}}.file_artifacts (
    file_artifact_id   VARCHAR(36)      NOT NULL,
    workspace_id       VARCHAR(36)      NOT NULL,
    workspace_agent_id VARCHAR(36)      NULL,
    job_run_id         VARCHAR(36)      NULL,
    type               VARCHAR(64)      NOT NULL,
    blob_url           VARCHAR(2048)    NOT NULL,
    file_name          VARCHAR(512)     NOT NULL,
    size_bytes         BIGINT           NOT NULL,
    content_type       VARCHAR(128)     NOT NULL,
    created_utc        TIMESTAMP(3)     NOT NULL,
    created_by_user_id VARCHAR(128)     NOT NULL,
    CONSTRAINT PK_{{schema}}_artifacts PRIMARY KEY (file_artifact_id)
);
GO
CREATE INDEX IX_{{schema}}_artifacts_run
    ON {{schema}}.file_artifacts (workspace_id, job_run_id);
GO
CREATE INDEX IX_{{schema}}_artifacts_created
    ON {{schema}}.file_artifacts (workspace_id, created_utc);
