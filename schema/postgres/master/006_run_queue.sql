-- The scheduler's queue (issue 15): one row per run that is PENDING or
-- RUNNING, in any workspace, so claiming work and finding expired leases
-- are one indexed query whatever the number of workspaces. The runs
-- service writes it in the transaction of every run transition and deletes
-- the row in the one that makes the run final. waiting = 1: the run waits
-- for its parents in the chain to succeed.
CREATE TABLE pmassist_master.RunQueue (
    job_run_id        VARCHAR(36)  NOT NULL,
    workspace_id      VARCHAR(36)  NOT NULL,
    db_schema_name    VARCHAR(64)  NOT NULL,
    job_id            VARCHAR(36)  NOT NULL,
    status            VARCHAR(16)  NOT NULL,
    waiting           SMALLINT     NOT NULL,
    not_before_utc    TIMESTAMP(3) NOT NULL,
    lease_owner       VARCHAR(128) NULL,
    lease_expires_utc TIMESTAMP(3) NULL,
    timeout_at_utc    TIMESTAMP(3) NULL,
    CONSTRAINT pk_runqueue PRIMARY KEY (job_run_id)
);
GO
CREATE INDEX ix_runqueue_claim ON pmassist_master.RunQueue (status, waiting, not_before_utc);
GO
CREATE INDEX ix_runqueue_lease ON pmassist_master.RunQueue (status, lease_expires_utc);
GO
-- The schedulers' counters for /metrics (fires, fire lag, runs by outcome,
-- lease expiries), summed over every scheduler on every host.
CREATE TABLE pmassist_master.SchedulerCounter (
    name  VARCHAR(64) NOT NULL,
    value BIGINT      NOT NULL,
    CONSTRAINT pk_schedulercounter PRIMARY KEY (name)
);
