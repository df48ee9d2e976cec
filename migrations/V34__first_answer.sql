-- Issue 16: the first time an agent answered each task. `answer_time` is the task's
-- current answer, and a task put back in its queue (its agent logged out) has none
-- until it is answered again; the figures count the first answer (docs/metrics.md),
-- and a report's drill-down reads this column so that it lists the same
-- conversations: answered, and not abandoned when the customer then leaves.

ALTER TABLE task_media ADD COLUMN first_answer_time INTEGER;
UPDATE task_media SET first_answer_time = answer_time WHERE answer_time > 0;
