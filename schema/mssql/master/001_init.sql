-- WSMS master schema for SQL Server 2019 / Azure SQL.
-- Batches are separated by lines holding only GO; wsmsd migrate sends each
-- batch on its own, inside one transaction per file.
IF SCHEMA_ID(N'pmassist_master') IS NULL
    EXEC(N'CREATE SCHEMA pmassist_master');
GO
CREATE TABLE pmassist_master.SchemaVersion (
    component  NVARCHAR(64)  NOT NULL,
    version    INT           NOT NULL,
    applied_at DATETIME2(3)  NOT NULL,
    CONSTRAINT PK_SchemaVersion PRIMARY KEY (component, version)
);
GO
CREATE TABLE pmassist_master.Workspace (
    id             UNIQUEIDENTIFIER NOT NULL,
    name           NVARCHAR(255)    NOT NULL,
    description    NVARCHAR(4000)   NULL,
    created_by     NVARCHAR(128)    NOT NULL,
    created_at     DATETIME2(3)     NOT NULL,
    updated_at     DATETIME2(3)     NOT NULL,
    blob_path      NVARCHAR(512)    NOT NULL,
    is_active      BIT              NOT NULL CONSTRAINT DF_Workspace_is_active DEFAULT (1),
    db_schema_name NVARCHAR(64)     NOT NULL,
    last_seen_utc  DATETIME2(3)     NULL,
    status         NVARCHAR(32)     NOT NULL,
    CONSTRAINT PK_Workspace PRIMARY KEY (id),
    CONSTRAINT UQ_Workspace_schema UNIQUE (db_schema_name),
    CONSTRAINT CK_Workspace_status CHECK (status IN (N'Active', N'Archived'))
);
GO
CREATE TABLE pmassist_master.WorkspaceMember (
    id           UNIQUEIDENTIFIER NOT NULL,
    workspace_id UNIQUEIDENTIFIER NOT NULL,
    user_id      NVARCHAR(128)    NULL,
    user_email   NVARCHAR(320)    NOT NULL,
    display_name NVARCHAR(255)    NULL,
    role         NVARCHAR(16)     NOT NULL,
    added_at     DATETIME2(3)     NOT NULL,
    CONSTRAINT PK_WorkspaceMember PRIMARY KEY (id),
    CONSTRAINT FK_WorkspaceMember_Workspace FOREIGN KEY (workspace_id)
        REFERENCES pmassist_master.Workspace (id),
    CONSTRAINT UQ_WorkspaceMember_email UNIQUE (workspace_id, user_email),
    CONSTRAINT CK_WorkspaceMember_role CHECK (role IN (N'OWNER', N'ADMIN', N'MEMBER', N'VIEWER'))
);
GO
-- user_id is NULL until the person first signs in; a filtered index keeps
-- it unique per workspace without treating NULLs as duplicates
CREATE UNIQUE INDEX UX_WorkspaceMember_user ON pmassist_master.WorkspaceMember (workspace_id, user_id)
    WHERE user_id IS NOT NULL;
GO
CREATE INDEX IX_WorkspaceMember_user_id ON pmassist_master.WorkspaceMember (user_id);
GO
CREATE INDEX IX_WorkspaceMember_email ON pmassist_master.WorkspaceMember (user_email);
GO
CREATE TABLE pmassist_master.AuditLog (
    id           UNIQUEIDENTIFIER NOT NULL,
    workspace_id UNIQUEIDENTIFIER NOT NULL,
    action       NVARCHAR(64)     NOT NULL,
    actor_id     NVARCHAR(128)    NOT NULL,
    details      NVARCHAR(MAX)    NULL,
    timestamp    DATETIME2(3)     NOT NULL,
    CONSTRAINT PK_AuditLog PRIMARY KEY (id),
    CONSTRAINT FK_AuditLog_Workspace FOREIGN KEY (workspace_id)
        REFERENCES pmassist_master.Workspace (id)
);
GO
CREATE INDEX IX_AuditLog_workspace_time ON pmassist_master.AuditLog (workspace_id, timestamp DESC);
