-- Workspace invitations. status is what was stored: pending, accepted,
-- declined, revoked, or expired (an expired pending invitation superseded by
-- a new one); a pending one whose expires_at has passed reads as expired
-- (derived at request time, no background job). At most one pending
-- invitation per workspace and email: the filtered unique index.
CREATE TABLE pmassist_master.Invitation (
    id           UNIQUEIDENTIFIER NOT NULL,
    workspace_id UNIQUEIDENTIFIER NOT NULL,
    email        NVARCHAR(320)    NOT NULL,
    role         NVARCHAR(16)     NOT NULL,
    message      NVARCHAR(1000)   NULL,
    status       NVARCHAR(16)     NOT NULL,
    invited_by   NVARCHAR(128)    NOT NULL,
    created_at   DATETIME2(3)     NOT NULL,
    expires_at   DATETIME2(3)     NOT NULL,
    resent_at    DATETIME2(3)     NULL,
    resend_count INT              NOT NULL,
    closed_at    DATETIME2(3)     NULL,
    closed_by    NVARCHAR(128)    NULL,
    member_id    UNIQUEIDENTIFIER NULL,
    CONSTRAINT PK_Invitation PRIMARY KEY (id),
    CONSTRAINT FK_Invitation_Workspace FOREIGN KEY (workspace_id)
        REFERENCES pmassist_master.Workspace (id),
    CONSTRAINT CK_Invitation_role CHECK (role IN (N'OWNER', N'ADMIN', N'MEMBER', N'VIEWER')),
    CONSTRAINT CK_Invitation_status
        CHECK (status IN (N'pending', N'accepted', N'declined', N'revoked', N'expired'))
);
GO
CREATE UNIQUE INDEX UX_Invitation_pending ON pmassist_master.Invitation (workspace_id, email)
    WHERE status = N'pending';
GO
CREATE INDEX IX_Invitation_email ON pmassist_master.Invitation (email, status);
GO
CREATE INDEX IX_Invitation_workspace ON pmassist_master.Invitation (workspace_id, created_at);
