-- Automation (issue 15): named agents with a per-type config, jobs with
-- timeout/retries and their dependency graph (automation_job_deps: job_id
-- depends on parent_job_id). Every key and index leads with workspace_id.
-- One column per ALTER: SQL Server takes a list after ADD, Babelfish does not.
ALTER TABLE {{schema}}.workspace_agents ADD name NVARCHAR(255) NULL;
ALTER TABLE {{schema}}.workspace_agents ADD updated_utc DATETIME2(3) NULL;
ALTER TABLE {{schema}}.workspace_agents ADD updated_by_user_id NVARCHAR(128) NULL;
ALTER TABLE {{schema}}.automation_jobs ADD timeout_seconds INT NOT NULL
    CONSTRAINT DF_{{schema}}_jobs_timeout DEFAULT 3600;
ALTER TABLE {{schema}}.automation_jobs ADD max_retries INT NOT NULL
    CONSTRAINT DF_{{schema}}_jobs_retries DEFAULT 0;
ALTER TABLE {{schema}}.automation_jobs ADD created_by_user_id NVARCHAR(128) NULL;
ALTER TABLE {{schema}}.automation_jobs ADD updated_utc DATETIME2(3) NULL;
GO
CREATE INDEX IX_{{schema}}_agents_ws ON {{schema}}.workspace_agents (workspace_id, created_utc);
GO
CREATE INDEX IX_{{schema}}_jobs_ws ON {{schema}}.automation_jobs (workspace_id, created_utc);
GO
CREATE INDEX IX_{{schema}}_jobs_agent ON {{schema}}.automation_jobs (workspace_id, workspace_agent_id);
GO
CREATE UNIQUE INDEX UX_{{schema}}_jobs_name ON {{schema}}.automation_jobs (workspace_id, name);
GO
CREATE TABLE {{schema}}.automation_job_deps (
    workspace_id  UNIQUEIDENTIFIER NOT NULL,
    job_id        UNIQUEIDENTIFIER NOT NULL,
    parent_job_id UNIQUEIDENTIFIER NOT NULL,
    CONSTRAINT PK_{{schema}}_job_deps PRIMARY KEY (workspace_id, job_id, parent_job_id)
);
GO
CREATE INDEX IX_{{schema}}_job_deps_parent ON {{schema}}.automation_job_deps (workspace_id, parent_job_id);
