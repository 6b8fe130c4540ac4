-- The schedule index of every workspace's jobs (issue 15), kept in the same
-- transaction as each job change: a scheduler tick is one indexed query
-- (is_active = 1 AND next_fire_utc <= now) whatever the number of
-- workspaces. next_fire_utc is NULL for a job without a schedule or not
-- active; jobs_advance moves it with a conditional UPDATE.
CREATE TABLE pmassist_master.JobSchedule (
    job_id         UNIQUEIDENTIFIER NOT NULL,
    workspace_id   UNIQUEIDENTIFIER NOT NULL,
    db_schema_name NVARCHAR(64)     NOT NULL,
    schedule_cron  NVARCHAR(128)    NULL,
    next_fire_utc  DATETIME2(3)     NULL,
    is_active      BIT              NOT NULL,
    updated_at     DATETIME2(3)     NOT NULL,
    CONSTRAINT PK_JobSchedule PRIMARY KEY (job_id)
);
GO
CREATE INDEX IX_JobSchedule_next ON pmassist_master.JobSchedule (next_fire_utc);
GO
CREATE INDEX IX_JobSchedule_workspace ON pmassist_master.JobSchedule (workspace_id);
