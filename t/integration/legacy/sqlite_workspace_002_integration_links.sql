-- Workspace integrations managed through /workspaces/{id}/integrations:
-- the provider project (external_id), the last connection check and one
-- link per provider project. Rows made at workspace creation named their
-- project in integration_display_name.
ALTER TABLE pmassist_master.{{schema}}__workspace_integrations ADD COLUMN external_id TEXT NULL;
GO
ALTER TABLE pmassist_master.{{schema}}__workspace_integrations ADD COLUMN status_reason TEXT NULL;
GO
ALTER TABLE pmassist_master.{{schema}}__workspace_integrations ADD COLUMN last_checked_utc TIMESTAMP NULL;
GO
UPDATE pmassist_master.{{schema}}__workspace_integrations SET external_id = integration_display_name
WHERE external_id IS NULL;
GO
CREATE UNIQUE INDEX pmassist_master.ux_{{schema}}__integrations_project
    ON {{schema}}__workspace_integrations (provider, external_id);
