-- Per-workspace schema for PostgreSQL. {{schema}} is replaced by the
-- validated name ws_<32 hex digits>.
-- PostgreSQL has transactional DDL: all of it commits or none.
CREATE SCHEMA {{schema}};
GO
CREATE TABLE {{schema}}.workspace_integrations (
    workspace_integration_id VARCHAR(36)      NOT NULL,
    workspace_id             VARCHAR(36)      NOT NULL,
    user_id                  VARCHAR(128)    NULL,
    integration_display_name VARCHAR(255)    NOT NULL,
    provider                 VARCHAR(16)     NOT NULL,
    url                      VARCHAR(2048)   NULL,
    extra_config_json        TEXT             NULL,
    connection_status        VARCHAR(32)     NOT NULL,
    added_by_user_id         VARCHAR(128)    NOT NULL,
    added_utc                TIMESTAMP(3)     NOT NULL,
    CONSTRAINT PK_{{schema}}_integrations PRIMARY KEY (workspace_integration_id),
    CONSTRAINT CK_{{schema}}_integrations_provider CHECK (provider IN ('Jira', 'ADO', 'SNOW', 'SP'))
);
GO
CREATE INDEX IX_{{schema}}_integrations_added ON {{schema}}.workspace_integrations (added_utc);
GO
CREATE TABLE {{schema}}.workspace_agents (
    workspace_agent_id VARCHAR(36)      NOT NULL,
    workspace_id       VARCHAR(36)      NOT NULL,
    agent_type         VARCHAR(64)     NOT NULL,
    is_enabled         SMALLINT         NOT NULL,
    config_json        TEXT             NULL,
    created_utc        TIMESTAMP(3)     NOT NULL,
    created_by_user_id VARCHAR(128)    NOT NULL,
    CONSTRAINT PK_{{schema}}_agents PRIMARY KEY (workspace_agent_id)
);
GO
CREATE TABLE {{schema}}.automation_jobs (
    job_id             VARCHAR(36)      NOT NULL,
    workspace_id       VARCHAR(36)      NOT NULL,
    workspace_agent_id VARCHAR(36)      NULL,
    name               VARCHAR(255)    NOT NULL,
    schedule_cron      VARCHAR(128)    NULL,
    is_active          SMALLINT         NOT NULL,
    created_utc        TIMESTAMP(3)     NOT NULL,
    CONSTRAINT PK_{{schema}}_jobs PRIMARY KEY (job_id),
    CONSTRAINT FK_{{schema}}_jobs_agent FOREIGN KEY (workspace_agent_id)
        REFERENCES {{schema}}.workspace_agents (workspace_agent_id)
);
GO
CREATE TABLE {{schema}}.automation_job_runs (
    job_run_id    VARCHAR(36)      NOT NULL,
    job_id        VARCHAR(36)      NOT NULL,
    started_utc   TIMESTAMP(3)     NOT NULL,
    completed_utc TIMESTAMP(3)     NULL,
    status        VARCHAR(32)     NOT NULL,
    error_message VARCHAR(4000)   NULL,
    CONSTRAINT PK_{{schema}}_runs PRIMARY KEY (job_run_id),
    CONSTRAINT FK_{{schema}}_runs_job FOREIGN KEY (job_id) REFERENCES {{schema}}.automation_jobs (job_id)
);
GO
CREATE INDEX IX_{{schema}}_runs_job ON {{schema}}.automation_job_runs (job_id, started_utc);
GO
CREATE TABLE {{schema}}.file_artifacts (
    file_artifact_id   VARCHAR(36)      NOT NULL,
    workspace_id       VARCHAR(36)      NOT NULL,
    workspace_agent_id VARCHAR(36)      NULL,
    job_run_id         VARCHAR(36)      NULL,
    type               VARCHAR(64)     NOT NULL,
    blob_url           VARCHAR(2048)   NOT NULL,
    file_name          VARCHAR(512)    NOT NULL,
    created_utc        TIMESTAMP(3)     NOT NULL,
    created_by_user_id VARCHAR(128)    NOT NULL,
    CONSTRAINT PK_{{schema}}_artifacts PRIMARY KEY (file_artifact_id),
    CONSTRAINT FK_{{schema}}_artifacts_run FOREIGN KEY (job_run_id)
        REFERENCES {{schema}}.automation_job_runs (job_run_id)
);
GO
CREATE INDEX IX_{{schema}}_artifacts_created ON {{schema}}.file_artifacts (created_utc);
