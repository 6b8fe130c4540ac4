-- Workspace API keys. The key is shown once; stored are its lookup prefix
-- and the SHA-256 (hex) of its secret part. scopes: comma-separated from
-- read, write, admin.
CREATE TABLE pmassist_master.ApiKey (
    id           VARCHAR(36)  NOT NULL,
    workspace_id VARCHAR(36)  NOT NULL REFERENCES pmassist_master.Workspace (id),
    name         VARCHAR(255) NOT NULL,
    key_prefix   VARCHAR(32)  NOT NULL,
    secret_hash  VARCHAR(64)  NOT NULL,
    scopes       VARCHAR(64)  NOT NULL,
    created_by   VARCHAR(128) NOT NULL,
    created_at   TIMESTAMP(3) NOT NULL,
    expires_at   TIMESTAMP(3) NOT NULL,
    revoked_at   TIMESTAMP(3) NULL,
    last_used_at TIMESTAMP(3) NULL,
    CONSTRAINT pk_apikey PRIMARY KEY (id),
    CONSTRAINT uq_apikey_prefix UNIQUE (key_prefix)
);
GO
CREATE INDEX ix_apikey_workspace ON pmassist_master.ApiKey (workspace_id, created_at);
