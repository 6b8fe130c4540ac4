-- The schedule index of every workspace's jobs (issue 15), kept in the same
-- transaction as each job change: a scheduler tick is one indexed query
-- (is_active = 1 AND next_fire_utc <= now) whatever the number of
-- workspaces. next_fire_utc is NULL for a job without a schedule or not
-- active; jobs_advance moves it with a conditional UPDATE.
CREATE TABLE pmassist_master.JobSchedule (
    job_id         TEXT      NOT NULL PRIMARY KEY,
    workspace_id   TEXT      NOT NULL,
    db_schema_name TEXT      NOT NULL,
    schedule_cron  TEXT      NULL,
    next_fire_utc  TIMESTAMP NULL,
    is_active      INTEGER   NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
GO
CREATE INDEX pmassist_master.ix_jobschedule_next ON JobSchedule (next_fire_utc);
GO
CREATE INDEX pmassist_master.ix_jobschedule_workspace ON JobSchedule (workspace_id);
