-- Workspace invitations. status is what was stored: pending, accepted,
-- declined, revoked, or expired (an expired pending invitation superseded by
-- a new one); a pending one whose expires_at has passed reads as expired
-- (derived at request time, no background job). At most one pending
-- invitation per workspace and email: the partial unique index.
CREATE TABLE pmassist_master.Invitation (
    id           TEXT      NOT NULL PRIMARY KEY,
    workspace_id TEXT      NOT NULL REFERENCES Workspace (id),
    email        TEXT      NOT NULL,
    role         TEXT      NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER')),
    message      TEXT      NULL,
    status       TEXT      NOT NULL
        CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    invited_by   TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    resent_at    TIMESTAMP NULL,
    resend_count INTEGER   NOT NULL,
    closed_at    TIMESTAMP NULL,
    closed_by    TEXT      NULL,
    member_id    TEXT      NULL
);
GO
CREATE UNIQUE INDEX pmassist_master.ux_invitation_pending ON Invitation (workspace_id, email)
    WHERE status = 'pending';
GO
CREATE INDEX pmassist_master.ix_invitation_email ON Invitation (email, status);
GO
CREATE INDEX pmassist_master.ix_invitation_workspace ON Invitation (workspace_id, created_at);
