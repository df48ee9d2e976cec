-- Issue 15, storage, eighth step (docs/architecture.md, "Compact storage").
--
-- 1. The message index without its per-row sizes. FTS5 keeps, for
-- every indexed row, the number of tokens of each column in `message_text_docsize`
-- (~10 bytes a message, ~100 a conversation), which only ranking (bm25) and the
-- auxiliary functions read; search orders by time and ranks nothing.
-- `columnsize=0` is a creation option, so the index is made again and filled from
-- the events after the migrations (store::message_index::carry_over, resumable from
-- message_text_carry.next_pos, as V24's was). Searches during the carry-over find
-- the messages indexed so far. V24's trigger that indexes rows written as plain JSON
-- by SQL names the index, so it writes to the new one.
DROP TABLE IF EXISTS message_text_v9;
DROP TABLE message_text;

CREATE VIRTUAL TABLE message_text USING fts5(
    text,
    content = '',
    columnsize = 0,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO message_text(message_text, rank) VALUES ('secure-delete', 1);

DROP TABLE IF EXISTS message_text_carry;
CREATE TABLE message_text_carry (next_pos INTEGER NOT NULL);
INSERT INTO message_text_carry(next_pos) VALUES (0);

-- 2. A customer's running session is found by the customer alone (a customer runs
-- one session per channel, rarely more than one in all): the channel id (37 bytes an
-- entry, every open chat) is checked on the row.
DROP INDEX channel_sessions_running;
CREATE INDEX channel_sessions_running ON channel_sessions(customer_id)
    WHERE state = 'STARTED';

-- 3. The report memo of an open task (reports::keep) keeps its ids as the events
-- keep theirs (store::event_keys): a UUID as its 16 bytes, ~100 bytes less a task.
UPDATE report_tasks SET
    task_id = CASE WHEN task_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
        THEN unhex(replace(task_id, '-', '')) ELSE task_id END,
    conversation_id = CASE WHEN conversation_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
        THEN unhex(replace(conversation_id, '-', '')) ELSE conversation_id END,
    queue_id = CASE WHEN queue_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
        THEN unhex(replace(queue_id, '-', '')) ELSE queue_id END,
    offered_in = CASE WHEN offered_in GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
        THEN unhex(replace(offered_in, '-', '')) ELSE offered_in END,
    assigned_to = CASE WHEN assigned_to GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
        THEN unhex(replace(assigned_to, '-', '')) ELSE assigned_to END;
