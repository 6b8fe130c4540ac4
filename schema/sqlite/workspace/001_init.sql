-- Workspace tables for SQLite. Every workspace shares one set of tables in
-- the master file, keyed by workspace_id: this file is applied once, with
-- {{schema}} bound to "ws", making pmassist_master.ws__<table> (the dialect
-- module names them; the API keeps ws_<hex> as the logical schema name).
-- Creating a workspace then changes no schema, so no other connection has
-- to re-read it. Every key and index leads with workspace_id (the agents'
-- and jobs' indexes come with workspace version 003).
-- (`wsmsd migrate` also applies these files to the per-workspace tables,
-- pmassist_master.ws_<hex>__<table>, of a database made before the shared
-- set, just before copying their rows into it.)
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
CREATE INDEX pmassist_master.ix_{{schema}}__integrations_added
    ON {{schema}}__workspace_integrations (workspace_id, added_utc);
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
CREATE INDEX pmassist_master.ix_{{schema}}__artifacts_created
    ON {{schema}}__file_artifacts (workspace_id, created_utc);
