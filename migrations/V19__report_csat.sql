-- Issue 16, reports: each customer rating (CSAT) counted and summed in the interval
-- aggregates when it is stored (reports::keep::rating), so a report reads it with the
-- other figures instead of looking up each rating's conversation and tasks. The
-- ratings stored before are folded here by the same definitions (src/reports/csat.rs):
-- the queue of the conversation's last answered task, its first channel session's
-- channel, each agent who answered a task of it, and each such agent's team, in the
-- 15-minute interval the rating was given.
ALTER TABLE report_intervals ADD COLUMN csat_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_intervals ADD COLUMN csat_sum INTEGER NOT NULL DEFAULT 0;

INSERT INTO report_intervals(interval_start, dimension, key, csat_count, csat_sum)
SELECT at - at % 900000, 'queue', key, COUNT(*), SUM(rating) FROM (
    SELECT r.submitted_at AS at, r.rating AS rating, (SELECT m.queue_id FROM tasks t
        JOIN task_media m ON m.task_id = t.id
        WHERE t.conversation_id = r.conversation_id AND m.answer_time > 0
        ORDER BY m.answer_time DESC LIMIT 1) AS key
    FROM csat r)
WHERE key IS NOT NULL GROUP BY 1, 3
ON CONFLICT(dimension, key, interval_start) DO UPDATE SET
    csat_count = csat_count + excluded.csat_count, csat_sum = csat_sum + excluded.csat_sum;

INSERT INTO report_intervals(interval_start, dimension, key, csat_count, csat_sum)
SELECT at - at % 900000, 'channel', key, COUNT(*), SUM(rating) FROM (
    SELECT r.submitted_at AS at, r.rating AS rating, (SELECT s.channel_id
        FROM channel_sessions s WHERE s.conversation_id = r.conversation_id
        ORDER BY s.started_at, s.id LIMIT 1) AS key
    FROM csat r)
WHERE key IS NOT NULL GROUP BY 1, 3
ON CONFLICT(dimension, key, interval_start) DO UPDATE SET
    csat_count = csat_count + excluded.csat_count, csat_sum = csat_sum + excluded.csat_sum;

INSERT INTO report_intervals(interval_start, dimension, key, csat_count, csat_sum)
SELECT at - at % 900000, 'agent', key, COUNT(*), SUM(rating) FROM (
    SELECT DISTINCT r.conversation_id, r.submitted_at AS at, r.rating AS rating,
           t.agent_id AS key
    FROM csat r JOIN tasks t ON t.conversation_id = r.conversation_id
    JOIN task_media m ON m.task_id = t.id
    WHERE m.answer_time > 0 AND t.agent_id IS NOT NULL)
WHERE true GROUP BY 1, 3
ON CONFLICT(dimension, key, interval_start) DO UPDATE SET
    csat_count = csat_count + excluded.csat_count, csat_sum = csat_sum + excluded.csat_sum;

INSERT INTO report_intervals(interval_start, dimension, key, csat_count, csat_sum)
SELECT at - at % 900000, 'team', key, COUNT(*), SUM(rating) FROM (
    SELECT DISTINCT r.conversation_id, r.submitted_at AS at, r.rating AS rating,
           u.team_id AS key
    FROM csat r JOIN tasks t ON t.conversation_id = r.conversation_id
    JOIN task_media m ON m.task_id = t.id JOIN users u ON u.id = t.agent_id
    WHERE m.answer_time > 0 AND u.team_id IS NOT NULL)
WHERE true GROUP BY 1, 3
ON CONFLICT(dimension, key, interval_start) DO UPDATE SET
    csat_count = csat_count + excluded.csat_count, csat_sum = csat_sum + excluded.csat_sum;
