-- Issue 15, storage footprint: a task-log row names its task by the 16 bytes of a
-- UUID (text otherwise, as `cim_event_rows.id` since V16) and its conversation by its
-- integer key (`conversation_keys`, V10) instead of two 36-character texts, in the
-- row and in the task index: ~70 bytes less per row, four rows per chat.
-- `store::tasks` reads the texts back (the packed fact's markers stand for them).

ALTER TABLE task_log RENAME TO task_log_v7;

-- No declared type on task: a value keeps the storage class it was written with.
CREATE TABLE task_log (
    pos   INTEGER PRIMARY KEY,
    task  NOT NULL,
    conv  INTEGER NOT NULL,
    at    INTEGER NOT NULL,
    -- the change as the live figures read it (packed, see store::tasks::append_log)
    fact  TEXT NOT NULL
);

INSERT OR IGNORE INTO conversation_keys(id) SELECT conversation_id FROM task_log_v7;

INSERT INTO task_log(pos, task, conv, at, fact)
SELECT pos, CASE WHEN task_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(task_id, '-', '')) ELSE task_id END,
       (SELECT key FROM conversation_keys k WHERE k.id = v.conversation_id), at, fact
FROM task_log_v7 v ORDER BY pos;

DROP TABLE task_log_v7;

CREATE INDEX task_log_task ON task_log(task);
CREATE INDEX task_log_at ON task_log(at);
