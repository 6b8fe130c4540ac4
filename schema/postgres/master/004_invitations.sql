-- Workspace invitations. status is what was stored: pending, accepted,
-- declined, revoked, or expired (an expired pending invitation superseded by
-- a new one); a pending one whose expires_at has passed reads as expired
-- (derived at request time, no background job). At most one pending
-- invitation per workspace and email: the partial unique index.
CREATE TABLE pmassist_master.Invitation (
    id           VARCHAR(36)   NOT NULL,
    workspace_id VARCHAR(36)   NOT NULL REFERENCES pmassist_master.Workspace (id),
    email        VARCHAR(320)  NOT NULL,
    role         VARCHAR(16)   NOT NULL,
    message      VARCHAR(1000) NULL,
    status       VARCHAR(16)   NOT NULL,
    invited_by   VARCHAR(128)  NOT NULL,
    created_at   TIMESTAMP(3)  NOT NULL,
    expires_at   TIMESTAMP(3)  NOT NULL,
    resent_at    TIMESTAMP(3)  NULL,
    resend_count INTEGER       NOT NULL,
    closed_at    TIMESTAMP(3)  NULL,
    closed_by    VARCHAR(128)  NULL,
    member_id    VARCHAR(36)   NULL,
    CONSTRAINT pk_invitation PRIMARY KEY (id),
    CONSTRAINT ck_invitation_role CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER')),
    CONSTRAINT ck_invitation_status
        CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired'))
);
GO
CREATE UNIQUE INDEX ux_invitation_pending ON pmassist_master.Invitation (workspace_id, email)
    WHERE status = 'pending';
GO
CREATE INDEX ix_invitation_email ON pmassist_master.Invitation (email, status);
GO
CREATE INDEX ix_invitation_workspace ON pmassist_master.Invitation (workspace_id, created_at);
