-- The master copy of every workspace's workspace_integrations rows, so
-- that lists (GET /workspaces: external_links of a page) and the
-- integration routes read one indexed table whatever the number of
-- workspace tables. Written in the same transaction as every change of a
-- workspace's own table; `wsmsd migrate` copies the rows of existing
-- workspaces (those the copy lacks) after the workspace migrations.
CREATE TABLE pmassist_master.WorkspaceLink (
    workspace_integration_id TEXT      NOT NULL PRIMARY KEY,
    workspace_id             TEXT      NOT NULL REFERENCES Workspace (id),
    user_id                  TEXT      NULL,
    integration_display_name TEXT      NOT NULL,
    provider                 TEXT      NOT NULL,
    url                      TEXT      NULL,
    extra_config_json        TEXT      NULL,
    connection_status        TEXT      NOT NULL,
    added_by_user_id         TEXT      NOT NULL,
    added_utc                TIMESTAMP NOT NULL,
    external_id              TEXT      NULL,
    status_reason            TEXT      NULL,
    last_checked_utc         TIMESTAMP NULL
);
GO
CREATE INDEX pmassist_master.ix_workspacelink_workspace
    ON WorkspaceLink (workspace_id, added_utc, workspace_integration_id);
