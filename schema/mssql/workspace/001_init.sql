-- Per-workspace schema for SQL Server. {{schema}} is replaced by the
-- validated name ws_<32 hex digits>. CREATE SCHEMA must be alone in its
-- batch, so it goes through EXEC.
EXEC(N'CREATE SCHEMA {{schema}}');
GO
CREATE TABLE {{schema}}.workspace_integrations (
    workspace_integration_id UNIQUEIDENTIFIER NOT NULL,
    workspace_id             UNIQUEIDENTIFIER NOT NULL,
    user_id                  NVARCHAR(128)    NULL,
    integration_display_name NVARCHAR(255)    NOT NULL,
    provider                 NVARCHAR(16)     NOT NULL,
    url                      NVARCHAR(2048)   NULL,
    extra_config_json        NVARCHAR(MAX)    NULL,
    connection_status        NVARCHAR(32)     NOT NULL,
    added_by_user_id         NVARCHAR(128)    NOT NULL,
    added_utc                DATETIME2(3)     NOT NULL,
    CONSTRAINT PK_{{schema}}_integrations PRIMARY KEY (workspace_integration_id),
    CONSTRAINT CK_{{schema}}_integrations_provider CHECK (provider IN (N'Jira', N'ADO', N'SNOW', N'SP'))
);
GO
CREATE INDEX IX_{{schema}}_integrations_added ON {{schema}}.workspace_integrations (added_utc);
GO
CREATE TABLE {{schema}}.workspace_agents (
    workspace_agent_id UNIQUEIDENTIFIER NOT NULL,
    workspace_id       UNIQUEIDENTIFIER NOT NULL,
    agent_type         NVARCHAR(64)     NOT NULL,
    is_enabled         BIT              NOT NULL,
    config_json        NVARCHAR(MAX)    NULL,
    created_utc        DATETIME2(3)     NOT NULL,
    created_by_user_id NVARCHAR(128)    NOT NULL,
    CONSTRAINT PK_{{schema}}_agents PRIMARY KEY (workspace_agent_id)
);
GO
CREATE TABLE {{schema}}.automation_jobs (
    job_id             UNIQUEIDENTIFIER NOT NULL,
    workspace_id       UNIQUEIDENTIFIER NOT NULL,
    workspace_agent_id UNIQUEIDENTIFIER NULL,
    name               NVARCHAR(255)    NOT NULL,
    schedule_cron      NVARCHAR(128)    NULL,
    is_active          BIT              NOT NULL,
    created_utc        DATETIME2(3)     NOT NULL,
    CONSTRAINT PK_{{schema}}_jobs PRIMARY KEY (job_id),
    CONSTRAINT FK_{{schema}}_jobs_agent FOREIGN KEY (workspace_agent_id)
        REFERENCES {{schema}}.workspace_agents (workspace_agent_id)
);
GO
CREATE TABLE {{schema}}.automation_job_runs (
    job_run_id    UNIQUEIDENTIFIER NOT NULL,
    job_id        UNIQUEIDENTIFIER NOT NULL,
    started_utc   DATETIME2(3)     NOT NULL,
    completed_utc DATETIME2(3)     NULL,
    status        NVARCHAR(32)     NOT NULL,
    error_message NVARCHAR(4000)   NULL,
    CONSTRAINT PK_{{schema}}_runs PRIMARY KEY (job_run_id),
    CONSTRAINT FK_{{schema}}_runs_job FOREIGN KEY (job_id) REFERENCES {{schema}}.automation_jobs (job_id)
);
GO
CREATE INDEX IX_{{schema}}_runs_job ON {{schema}}.automation_job_runs (job_id, started_utc);
GO
CREATE TABLE {{schema}}.file_artifacts (
    file_artifact_id   UNIQUEIDENTIFIER NOT NULL,
    workspace_id       UNIQUEIDENTIFIER NOT NULL,
    workspace_agent_id UNIQUEIDENTIFIER NULL,
    job_run_id         UNIQUEIDENTIFIER NULL,
    type               NVARCHAR(64)     NOT NULL,
    blob_url           NVARCHAR(2048)   NOT NULL,
    file_name          NVARCHAR(512)    NOT NULL,
    created_utc        DATETIME2(3)     NOT NULL,
    created_by_user_id NVARCHAR(128)    NOT NULL,
    CONSTRAINT PK_{{schema}}_artifacts PRIMARY KEY (file_artifact_id),
    CONSTRAINT FK_{{schema}}_artifacts_run FOREIGN KEY (job_run_id)
        REFERENCES {{schema}}.automation_job_runs (job_run_id)
);
GO
CREATE INDEX IX_{{schema}}_artifacts_created ON {{schema}}.file_artifacts (created_utc);
