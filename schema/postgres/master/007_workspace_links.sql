-- The master copy of every workspace's workspace_integrations rows, so
-- that lists (GET /workspaces: external_links of a page) and the
-- integration routes read one indexed table whatever the number of
-- workspace schemas. Written in the same transaction as every change of a
-- workspace's own table; `wsmsd migrate` copies the rows of existing
-- workspaces (those the copy lacks) after the workspace migrations.
CREATE TABLE pmassist_master.WorkspaceLink (
    workspace_integration_id VARCHAR(36)   NOT NULL,
    workspace_id             VARCHAR(36)   NOT NULL REFERENCES pmassist_master.Workspace (id),
    user_id                  VARCHAR(128)  NULL,
    integration_display_name VARCHAR(255)  NOT NULL,
    provider                 VARCHAR(16)   NOT NULL,
    url                      VARCHAR(2048) NULL,
    extra_config_json        TEXT          NULL,
    connection_status        VARCHAR(32)   NOT NULL,
    added_by_user_id         VARCHAR(128)  NOT NULL,
    added_utc                TIMESTAMP(3)  NOT NULL,
    external_id              VARCHAR(255)  NULL,
    status_reason            VARCHAR(1000) NULL,
    last_checked_utc         TIMESTAMP(3)  NULL,
    CONSTRAINT pk_workspacelink PRIMARY KEY (workspace_integration_id)
);
GO
CREATE INDEX ix_workspacelink_workspace
    ON pmassist_master.WorkspaceLink (workspace_id, added_utc, workspace_integration_id);
