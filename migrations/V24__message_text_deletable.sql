-- Issue 16, erasure in proportion to the customer's data. V9's message index was a
-- `contentless_delete=1` FTS5 table: deleting a row only marked it deleted, its
-- words stayed in the index's pages until a merge, so an erasure rewrote the whole
-- index ('optimize': seconds on a year of messages). FTS5's `secure-delete` option
-- does not remove such a row's words, and the 'delete' command, which would give
-- FTS5 the words to remove, is refused on such a table.
--
-- The new `message_text` is contentless without `contentless_delete`: a row is
-- removed with the text it was indexed with ('delete', by store::message_index,
-- which reads the text back from the event before the event is deleted), and
-- `secure-delete` removes its words from the index's pages in the same write.
--
-- V9's index cannot give its text back, so the messages stored before are indexed
-- again from their events after the migrations (store::message_index::carry_over,
-- resumable from message_text_carry.next_pos), which then drops message_text_v9.
DROP TRIGGER IF EXISTS cim_event_rows_message_text_gone;
DROP TRIGGER IF EXISTS cim_event_rows_message_text;
ALTER TABLE message_text RENAME TO message_text_v9;

CREATE VIRTUAL TABLE message_text USING fts5(
    text,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO message_text(message_text, rank) VALUES ('secure-delete', 1);

CREATE TABLE message_text_carry (next_pos INTEGER NOT NULL);
INSERT INTO message_text_carry(next_pos) VALUES (0);

-- A row written as plain JSON by SQL (a tool or test inserting through the view)
-- is still indexed as V9 did; the store's own rows are indexed by the store.
-- Codes 1, 2, 3: CUSTOMER_MESSAGE, AGENT_MESSAGE, BOT_MESSAGE.
CREATE TRIGGER cim_event_rows_message_text AFTER INSERT ON cim_event_rows
WHEN new.name IN (1, 2, 3) AND substr(new.event, 1, 1) = '{'
BEGIN
    INSERT INTO message_text(rowid, text)
    SELECT new.pos, t FROM (
        SELECT CASE WHEN json_valid(new.event)
                    THEN json_extract(new.event, '$.data.body.markdownText') END AS t
    ) WHERE typeof(t) = 'text' AND t <> '';
END;
