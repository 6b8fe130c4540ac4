-- The master copy of every workspace's workspace_integrations rows, so
-- that lists (GET /workspaces: external_links of a page) and the
-- integration routes read one indexed table whatever the number of
-- workspace schemas. Written in the same transaction as every change of a
-- workspace's own table; `wsmsd migrate` copies the rows of existing
-- workspaces (those the copy lacks) after the workspace migrations.
CREATE TABLE pmassist_master.WorkspaceLink (
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
    external_id              NVARCHAR(255)    NULL,
    status_reason            NVARCHAR(1000)   NULL,
    last_checked_utc         DATETIME2(3)     NULL,
    CONSTRAINT PK_WorkspaceLink PRIMARY KEY (workspace_integration_id),
    CONSTRAINT FK_WorkspaceLink_Workspace FOREIGN KEY (workspace_id)
        REFERENCES pmassist_master.Workspace (id)
);
GO
CREATE INDEX IX_WorkspaceLink_workspace
    ON pmassist_master.WorkspaceLink (workspace_id, added_utc, workspace_integration_id);
