-- Workspace API keys. The key is shown once; stored are its lookup prefix
-- and the SHA-256 (hex) of its secret part. scopes: comma-separated from
-- read, write, admin.
CREATE TABLE pmassist_master.ApiKey (
    id           TEXT      NOT NULL PRIMARY KEY,
    workspace_id TEXT      NOT NULL REFERENCES Workspace (id),
    name         TEXT      NOT NULL,
    key_prefix   TEXT      NOT NULL UNIQUE,
    secret_hash  TEXT      NOT NULL,
    scopes       TEXT      NOT NULL,
    created_by   TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP NULL,
    last_used_at TIMESTAMP NULL
);
GO
CREATE INDEX pmassist_master.ix_apikey_workspace ON ApiKey (workspace_id, created_at);
