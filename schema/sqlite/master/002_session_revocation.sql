-- Session revocation: one row per user whose PMA tokens were revoked.
-- A PMA token of user_id whose iat (Unix seconds) is <= revoked_through is
-- refused; tokens issued afterwards carry an iat of at least
-- revoked_through + 1.
CREATE TABLE pmassist_master.UserSessionRevocation (
    user_id         TEXT      NOT NULL PRIMARY KEY,
    revoked_through INTEGER   NOT NULL,
    revoked_at      TIMESTAMP NOT NULL
);
