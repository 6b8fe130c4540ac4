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
    job_run_id         UNIQUEIDENTIFIER NOT NULL,
    workspace_id       UNIQUEIDENTIFIER NOT NULL,
    job_id             UNIQUEIDENTIFIER NOT NULL,
    chain_id           UNIQUEIDENTIFIER NOT NULL,
    fire_key           NVARCHAR(80)     NOT NULL,
    attempt            INT              NOT NULL,
    trigger_kind       NVARCHAR(16)     NOT NULL,
    scheduled_for_utc  DATETIME2(3)     NULL,
    status             NVARCHAR(16)     NOT NULL,
    created_utc        DATETIME2(3)     NOT NULL,
    not_before_utc     DATETIME2(3)     NOT NULL,
    started_utc        DATETIME2(3)     NULL,
    completed_utc      DATETIME2(3)     NULL,
    lease_owner        NVARCHAR(128)    NULL,
    lease_expires_utc  DATETIME2(3)     NULL,
    timeout_at_utc     DATETIME2(3)     NULL,
    error_message      NVARCHAR(4000)   NULL,
    reason             NVARCHAR(1000)   NULL,
    created_by         NVARCHAR(128)    NOT NULL,
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
    transition_id      UNIQUEIDENTIFIER NOT NULL,
    workspace_id       UNIQUEIDENTIFIER NOT NULL,
    job_run_id         UNIQUEIDENTIFIER NOT NULL,
    from_status        NVARCHAR(16)     NULL,
    to_status          NVARCHAR(16)     NOT NULL,
    at_utc             DATETIME2(3)     NOT NULL,
    actor              NVARCHAR(128)    NOT NULL,
    reason             NVARCHAR(1000)   NULL,
    CONSTRAINT PK_{{schema}}_transitions PRIMARY KEY (transition_id)
);
GO
CREATE INDEX IX_{{schema}}_transitions_run
    ON {{schema}}.automation_run_transitions (workspace_id, job_run_id, at_utc);
GO
CREATE TABLE {{schema}}.file_artifacts (
    file_artifact_id   UNIQUEIDENTIFIER NOT NULL,
    workspace_id       UNIQUEIDENTIFIER NOT NULL,
    workspace_agent_id UNIQUEIDENTIFIER NULL,
    job_run_id         UNIQUEIDENTIFIER NULL,
    type               NVARCHAR(64)     NOT NULL,
    blob_url           NVARCHAR(2048)   NOT NULL,
    file_name          NVARCHAR(512)    NOT NULL,
    size_bytes         BIGINT           NOT NULL,
    content_type       NVARCHAR(128)    NOT NULL,
    created_utc        DATETIME2(3)     NOT NULL,
    created_by_user_id NVARCHAR(128)    NOT NULL,
    CONSTRAINT PK_{{schema}}_artifacts PRIMARY KEY (file_artifact_id)
);
GO
CREATE INDEX IX_{{schema}}_artifacts_run
    ON {{schema}}.file_artifacts (workspace_id, job_run_id);
GO
CREATE INDEX IX_{{schema}}_artifacts_created
    ON {{schema}}.file_artifacts (workspace_id, created_utc);
