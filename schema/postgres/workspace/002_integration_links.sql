-- Workspace integrations managed through /workspaces/{id}/integrations:
-- the provider project (external_id), the last connection check and one
-- link per provider project. Rows made at workspace creation named their
-- project in integration_display_name.
ALTER TABLE {{schema}}.workspace_integrations ADD COLUMN external_id VARCHAR(255) NULL;
GO
ALTER TABLE {{schema}}.workspace_integrations ADD COLUMN status_reason VARCHAR(1000) NULL;
GO
ALTER TABLE {{schema}}.workspace_integrations ADD COLUMN last_checked_utc TIMESTAMP(3) NULL;
GO
UPDATE {{schema}}.workspace_integrations SET external_id = integration_display_name
WHERE external_id IS NULL;
GO
CREATE UNIQUE INDEX UX_{{schema}}_integrations_project
    ON {{schema}}.workspace_integrations (provider, external_id);
