-- Per-queue limits that turn the queue's row on the supervisor console amber or red
-- (docs/metrics.md, "Thresholds"). NULL: that limit never triggers.
CREATE TABLE queue_thresholds (
    queue_id                 TEXT PRIMARY KEY REFERENCES queues(id) ON DELETE CASCADE,
    longest_wait_amber_secs  INTEGER CHECK (longest_wait_amber_secs >= 0),
    longest_wait_red_secs    INTEGER CHECK (longest_wait_red_secs >= 0),
    service_level_amber_pct  INTEGER CHECK (service_level_amber_pct BETWEEN 0 AND 100),
    service_level_red_pct    INTEGER CHECK (service_level_red_pct BETWEEN 0 AND 100)
) WITHOUT ROWID;

-- The task log: one row per task change (enqueued, offered, state changed) with the
-- routing engine's time, written with the task row. The live figures of the
-- supervisor console are a fold over it (docs/metrics.md), replayed on start.
CREATE TABLE task_log (
    pos              INTEGER PRIMARY KEY,
    task_id          TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    at               INTEGER NOT NULL,
    -- the change as the live figures read it (JSON)
    fact             TEXT NOT NULL
);
CREATE INDEX task_log_task ON task_log(task_id);
CREATE INDEX task_log_at ON task_log(at);
