-- Workspace integrations managed through /workspaces/{id}/integrations:
-- the provider project (external_id), the last connection check and one
-- link per provider project. Rows made at workspace creation named their
-- project in integration_display_name. The UPDATE is its own batch: SQL
-- Server compiles a batch before the columns exist. The unique index is
-- filtered because SQL Server counts NULLs as equal.
-- One column per ALTER: SQL Server takes a list after ADD, Babelfish does not.
ALTER TABLE {{schema}}.workspace_integrations ADD external_id NVARCHAR(255) NULL;
ALTER TABLE {{schema}}.workspace_integrations ADD status_reason NVARCHAR(1000) NULL;
ALTER TABLE {{schema}}.workspace_integrations ADD last_checked_utc DATETIME2(3) NULL;
GO
UPDATE {{schema}}.workspace_integrations SET external_id = integration_display_name
WHERE external_id IS NULL;
GO
CREATE UNIQUE INDEX UX_{{schema}}_integrations_project
    ON {{schema}}.workspace_integrations (provider, external_id)
    WHERE external_id IS NOT NULL;
