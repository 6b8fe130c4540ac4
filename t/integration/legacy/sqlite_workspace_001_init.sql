-- Per-workspace tables for SQLite. SQLite has no schemas inside one file and
-- allows only a few ATTACHed files, so a workspace's tables live in the
-- master file as pmassist_master.{{schema}}__<table> (the dialect module
-- names them). {{schema}} is the validated ws_<32 hex digits>.
CREATE TABLE pmassist_master.{{schema}}__workspace_integrations (
    workspace_integration_id TEXT      NOT NULL PRIMARY KEY,
    workspace_id             TEXT      NOT NULL,
    user_id                  TEXT      NULL,
    integration_display_name TEXT      NOT NULL,
    provider                 TEXT      NOT NULL CHECK (provider IN ('Jira', 'ADO', 'SNOW', 'SP')),
    url                      TEXT      NULL,
    extra_config_json        TEXT      NULL,
    connection_status        TEXT      NOT NULL,
    added_by_user_id         TEXT      NOT NULL,
    added_utc                TIMESTAMP NOT NULL
);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__integrations_added ON {{schema}}__workspace_integrations (added_utc);
GO
CREATE TABLE pmassist_master.{{schema}}__workspace_agents (
    workspace_agent_id TEXT      NOT NULL PRIMARY KEY,
    workspace_id       TEXT      NOT NULL,
    agent_type         TEXT      NOT NULL,
    is_enabled         INTEGER   NOT NULL,
    config_json        TEXT      NULL,
    created_utc        TIMESTAMP NOT NULL,
    created_by_user_id TEXT      NOT NULL
);
GO
CREATE TABLE pmassist_master.{{schema}}__automation_jobs (
    job_id             TEXT      NOT NULL PRIMARY KEY,
    workspace_id       TEXT      NOT NULL,
    workspace_agent_id TEXT      NULL REFERENCES {{schema}}__workspace_agents (workspace_agent_id),
    name               TEXT      NOT NULL,
    schedule_cron      TEXT      NULL,
    is_active          INTEGER   NOT NULL,
    created_utc        TIMESTAMP NOT NULL
);
GO
CREATE TABLE pmassist_master.{{schema}}__automation_job_runs (
    job_run_id    TEXT      NOT NULL PRIMARY KEY,
    job_id        TEXT      NOT NULL REFERENCES {{schema}}__automation_jobs (job_id),
    started_utc   TIMESTAMP NOT NULL,
    completed_utc TIMESTAMP NULL,
    status        TEXT      NOT NULL,
    error_message TEXT      NULL
);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__runs_job ON {{schema}}__automation_job_runs (job_id, started_utc);
GO
CREATE TABLE pmassist_master.{{schema}}__file_artifacts (
    file_artifact_id   TEXT      NOT NULL PRIMARY KEY,
    workspace_id       TEXT      NOT NULL,
    workspace_agent_id TEXT      NULL,
    job_run_id         TEXT      NULL REFERENCES {{schema}}__automation_job_runs (job_run_id),
    type               TEXT      NOT NULL,
    blob_url           TEXT      NOT NULL,
    file_name          TEXT      NOT NULL,
    created_utc        TIMESTAMP NOT NULL,
    created_by_user_id TEXT      NOT NULL
);
GO
CREATE INDEX pmassist_master.ix_{{schema}}__artifacts_created ON {{schema}}__file_artifacts (created_utc);
