-- Automation (issue 15): named agents with a per-type config, jobs with
-- timeout/retries and their dependency graph (automation_job_deps: job_id
-- depends on parent_job_id). Every key and index leads with workspace_id.
ALTER TABLE {{schema}}.workspace_agents ADD COLUMN name VARCHAR(255) NULL;
GO
ALTER TABLE {{schema}}.workspace_agents ADD COLUMN updated_utc TIMESTAMP(3) NULL;
GO
ALTER TABLE {{schema}}.workspace_agents ADD COLUMN updated_by_user_id VARCHAR(128) NULL;
GO
ALTER TABLE {{schema}}.automation_jobs ADD COLUMN timeout_seconds INT NOT NULL DEFAULT 3600;
GO
ALTER TABLE {{schema}}.automation_jobs ADD COLUMN max_retries INT NOT NULL DEFAULT 0;
GO
ALTER TABLE {{schema}}.automation_jobs ADD COLUMN created_by_user_id VARCHAR(128) NULL;
GO
ALTER TABLE {{schema}}.automation_jobs ADD COLUMN updated_utc TIMESTAMP(3) NULL;
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
    workspace_id  VARCHAR(36) NOT NULL,
    job_id        VARCHAR(36) NOT NULL,
    parent_job_id VARCHAR(36) NOT NULL,
    CONSTRAINT PK_{{schema}}_job_deps PRIMARY KEY (workspace_id, job_id, parent_job_id)
);
GO
CREATE INDEX IX_{{schema}}_job_deps_parent ON {{schema}}.automation_job_deps (workspace_id, parent_job_id);
