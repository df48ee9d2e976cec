-- Issue 15, storage footprint: the task log's rows are found by their conversation's
-- integer key (`conv`, 1-3 bytes) rather than by their task (16 bytes a row in
-- `task_log_task`). Whole task histories are read for a set of tasks (the live
-- figures' rebuild, a simulation's period); `store::tasks` narrows the rows by the
-- conversations of those tasks through this index, then by task. The erasure's
-- reading of a conversation's log uses it too.
DROP INDEX task_log_task;
CREATE INDEX task_log_conv ON task_log(conv);
