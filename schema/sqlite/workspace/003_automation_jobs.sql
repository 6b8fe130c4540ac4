-- Automation (issue 15): named agents with a per-type config, jobs with
-- timeout/retries and their dependency graph (automation_job_deps: job_id
-- depends on parent_job_id). Every key and index leads with workspace_id.
ALTER TABLE pmassist_master.{{schema}}__workspace_agents ADD COLUMN name TEXT NULL;
GO
ALTER TABLE pmassist_master.{{schema}}__workspace_agents ADD COLUMN updated_utc TIMESTAMP NULL;
GO
ALTER TABLE pmassist_master.{{schema}}__workspace_agents ADD COLUMN updated_by_user_id TEXT NULL;
GO
ALTER TABLE pmassist_master.{{schema}}__automation_jobs ADD COLUMN timeout_seconds INTEGER NOT NULL DEFAULT 3600;
GO
ALTER TABLE pmassist_master.{{schema}}__automation_jobs ADD COLUMN max_retries INTEGER NOT NULL DEFAULT 0;
GO
ALTER TABLE pmassist_master.{{schema}}__automation_jobs ADD COLUMN created_by_user_id TEXT NULL;
GO
ALTER TABLE pmassist_master.{{schema}}__automation_jobs ADD COLUMN updated_utc TIMESTAMP NULL;
GO
CREATE INDEX pmassist_master.ix_{{schema}}__agents_ws ON {{schema}}__workspace_agents (workspace_id, created_utc);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__jobs_ws ON {{schema}}__automation_jobs (workspace_id, created_utc);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__jobs_agent ON {{schema}}__automation_jobs (workspace_id, workspace_agent_id);
GO
CREATE UNIQUE INDEX pmassist_master.ux_{{schema}}__jobs_name ON {{schema}}__automation_jobs (workspace_id, name);
GO
CREATE TABLE pmassist_master.{{schema}}__automation_job_deps (
    workspace_id  TEXT NOT NULL,
    job_id        TEXT NOT NULL,
    parent_job_id TEXT NOT NULL,
    PRIMARY KEY (workspace_id, job_id, parent_job_id)
);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__job_deps_parent ON {{schema}}__automation_job_deps (workspace_id, parent_job_id);
