-- Session revocation: one row per user whose PMA tokens were revoked.
-- A PMA token of user_id whose iat (Unix seconds) is <= revoked_through is
-- refused; tokens issued afterwards carry an iat of at least
-- revoked_through + 1.
CREATE TABLE pmassist_master.UserSessionRevocation (
    user_id         NVARCHAR(128) NOT NULL,
    revoked_through BIGINT        NOT NULL,
    revoked_at      DATETIME2(3)  NOT NULL,
    CONSTRAINT PK_UserSessionRevocation PRIMARY KEY (user_id)
);
