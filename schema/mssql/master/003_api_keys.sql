-- Workspace API keys. The key is shown once; stored are its lookup prefix
-- and the SHA-256 (hex) of its secret part. scopes: comma-separated from
-- read, write, admin.
CREATE TABLE pmassist_master.ApiKey (
    id           UNIQUEIDENTIFIER NOT NULL,
    workspace_id UNIQUEIDENTIFIER NOT NULL,
    name         NVARCHAR(255)    NOT NULL,
    key_prefix   NVARCHAR(32)     NOT NULL,
    secret_hash  NVARCHAR(64)     NOT NULL,
    scopes       NVARCHAR(64)     NOT NULL,
    created_by   NVARCHAR(128)    NOT NULL,
    created_at   DATETIME2(3)     NOT NULL,
    expires_at   DATETIME2(3)     NOT NULL,
    revoked_at   DATETIME2(3)     NULL,
    last_used_at DATETIME2(3)     NULL,
    CONSTRAINT PK_ApiKey PRIMARY KEY (id),
    CONSTRAINT FK_ApiKey_Workspace FOREIGN KEY (workspace_id)
        REFERENCES pmassist_master.Workspace (id),
    CONSTRAINT UQ_ApiKey_prefix UNIQUE (key_prefix)
);
GO
CREATE INDEX IX_ApiKey_workspace ON pmassist_master.ApiKey (workspace_id, created_at);
