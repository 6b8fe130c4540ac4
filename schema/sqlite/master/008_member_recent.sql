-- A user's memberships newest first, so the PMA token's roles claim (the
-- ROLES_TOKEN_MAX most recently joined workspaces, auth/roles.h) walks
-- that many index entries whatever the number of the user's workspaces.
CREATE INDEX pmassist_master.ix_workspacemember_user_added
    ON WorkspaceMember (user_id, added_at);
