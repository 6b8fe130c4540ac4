-- The scheduler's queue (issue 15): one row per run that is PENDING or
-- RUNNING, in any workspace, so claiming work and finding expired leases
-- are one indexed query whatever the number of workspaces. The runs
-- service writes it in the transaction of every run transition and deletes
-- the row in the one that makes the run final. waiting = 1: the run waits
-- for its parents in the chain to succeed.
CREATE TABLE pmassist_master.RunQueue (
    job_run_id        TEXT      NOT NULL PRIMARY KEY,
    workspace_id      TEXT      NOT NULL,
    db_schema_name    TEXT      NOT NULL,
    job_id            TEXT      NOT NULL,
    status            TEXT      NOT NULL,
    waiting           INTEGER   NOT NULL,
    not_before_utc    TIMESTAMP NOT NULL,
    lease_owner       TEXT      NULL,
    lease_expires_utc TIMESTAMP NULL,
    timeout_at_utc    TIMESTAMP NULL
);
GO
CREATE INDEX pmassist_master.ix_runqueue_claim ON RunQueue (status, waiting, not_before_utc);
GO
CREATE INDEX pmassist_master.ix_runqueue_lease ON RunQueue (status, lease_expires_utc);
GO
-- The schedulers' counters for /metrics (fires, fire lag, runs by outcome,
-- lease expiries), summed over every scheduler on every host.
CREATE TABLE pmassist_master.SchedulerCounter (
    name  TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);
