-- The scheduler's queue (issue 15): one row per run that is PENDING or
-- RUNNING, in any workspace, so claiming work and finding expired leases
-- are one indexed query whatever the number of workspaces. The runs
-- service writes it in the transaction of every run transition and deletes
-- the row in the one that makes the run final. waiting = 1: the run waits
-- for its parents in the chain to succeed.
CREATE TABLE pmassist_master.RunQueue (
    job_run_id        UNIQUEIDENTIFIER NOT NULL,
    workspace_id      UNIQUEIDENTIFIER NOT NULL,
    db_schema_name    NVARCHAR(64)     NOT NULL,
    job_id            UNIQUEIDENTIFIER NOT NULL,
    status            NVARCHAR(16)     NOT NULL,
    waiting           SMALLINT         NOT NULL,
    not_before_utc    DATETIME2(3)     NOT NULL,
    lease_owner       NVARCHAR(128)    NULL,
    lease_expires_utc DATETIME2(3)     NULL,
    timeout_at_utc    DATETIME2(3)     NULL,
    CONSTRAINT PK_RunQueue PRIMARY KEY (job_run_id)
);
GO
CREATE INDEX IX_RunQueue_claim ON pmassist_master.RunQueue (status, waiting, not_before_utc);
GO
CREATE INDEX IX_RunQueue_lease ON pmassist_master.RunQueue (status, lease_expires_utc);
GO
-- The schedulers' counters for /metrics (fires, fire lag, runs by outcome,
-- lease expiries), summed over every scheduler on every host.
CREATE TABLE pmassist_master.SchedulerCounter (
    name  NVARCHAR(64) NOT NULL,
    value BIGINT       NOT NULL,
    CONSTRAINT PK_SchedulerCounter PRIMARY KEY (name)
);
