-- A user's memberships newest first, so the PMA token's roles claim (the
-- ROLES_TOKEN_MAX most recently joined workspaces, auth/roles.h) walks
-- that many index entries whatever the number of the user's workspaces.
CREATE INDEX IX_WorkspaceMember_user_added
    ON pmassist_master.WorkspaceMember (user_id, added_at);
