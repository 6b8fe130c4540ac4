-- WSMS master schema for SQLite. The file DB_PATH/pmassist_master.db is
-- ATTACHed as pmassist_master; per-workspace tables live in the same file
-- as pmassist_master.ws_<hex>__<table>. Statements are separated by GO lines.
CREATE TABLE pmassist_master.SchemaVersion (
    component  TEXT      NOT NULL,
    version    INTEGER   NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    PRIMARY KEY (component, version)
);
GO
CREATE TABLE pmassist_master.Workspace (
    id             TEXT      NOT NULL PRIMARY KEY,
    name           TEXT      NOT NULL,
    description    TEXT      NULL,
    created_by     TEXT      NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    blob_path      TEXT      NOT NULL,
    is_active      INTEGER   NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    db_schema_name TEXT      NOT NULL UNIQUE,
    last_seen_utc  TIMESTAMP NULL,
    status         TEXT      NOT NULL CHECK (status IN ('Active', 'Archived'))
);
GO
CREATE TABLE pmassist_master.WorkspaceMember (
    id           TEXT      NOT NULL PRIMARY KEY,
    workspace_id TEXT      NOT NULL REFERENCES Workspace (id),
    user_id      TEXT      NULL,
    user_email   TEXT      NOT NULL,
    display_name TEXT      NULL,
    role         TEXT      NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER')),
    added_at     TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, user_email),
    UNIQUE (workspace_id, user_id)
);
GO
CREATE INDEX pmassist_master.ix_workspacemember_user_id ON WorkspaceMember (user_id);
GO
CREATE INDEX pmassist_master.ix_workspacemember_email ON WorkspaceMember (user_email);
GO
CREATE TABLE pmassist_master.AuditLog (
    id           TEXT      NOT NULL PRIMARY KEY,
    workspace_id TEXT      NOT NULL REFERENCES Workspace (id),
    action       TEXT      NOT NULL,
    actor_id     TEXT      NOT NULL,
    details      TEXT      NULL,
    timestamp    TIMESTAMP NOT NULL
);
GO
CREATE INDEX pmassist_master.ix_auditlog_workspace_time ON AuditLog (workspace_id, timestamp DESC);
