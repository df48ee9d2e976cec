-- Issue 15, storage footprint: events refer to their conversation by a small integer
-- instead of repeating its 36-character id in every row and in the (conversation,
-- seq) index; a message id is indexed only where there is one.
--
-- `conversation_keys` gives each conversation with events its integer key.
-- `cim_event_rows` holds the events (its texts are packed, see src/store/events.rs).
-- `cim_events` stays, as a view with the columns it always had (`conversation_id` the
-- text id), so every reader of the old table keeps working; inserting into it and
-- deleting from it write through to the table (the triggers below). The store itself
-- reads and writes `cim_event_rows` (src/store/events.rs).
--
-- The full-text index of message texts (V9) is now written by the store in the
-- event's transaction (`events::append`): a packed text is not readable by SQL's
-- json_extract. Rows moved here keep their `pos`, so the index stays valid.

CREATE TABLE conversation_keys (
    key  INTEGER PRIMARY KEY,
    id   TEXT NOT NULL UNIQUE
);

CREATE TABLE cim_event_rows (
    pos         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    conv        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    timestamp   INTEGER NOT NULL,
    message_id  TEXT,
    event       TEXT NOT NULL,
    runtime     TEXT,
    UNIQUE (conv, seq)
);
CREATE UNIQUE INDEX cim_event_rows_message ON cim_event_rows(message_id)
    WHERE message_id IS NOT NULL;

INSERT INTO conversation_keys(id)
SELECT conversation_id FROM cim_events GROUP BY conversation_id ORDER BY MIN(pos);

INSERT INTO cim_event_rows(pos, id, conv, seq, name, type, timestamp, message_id, event, runtime)
SELECT e.pos, e.id, k.key, e.seq, e.name, e.type, e.timestamp, e.message_id, e.event, e.runtime
FROM cim_events e JOIN conversation_keys k ON k.id = e.conversation_id
ORDER BY e.pos;

DROP TABLE cim_events;

CREATE VIEW cim_events AS
SELECT e.pos AS pos, e.id AS id, k.id AS conversation_id, e.seq AS seq, e.name AS name,
       e.type AS type, e.timestamp AS timestamp, e.message_id AS message_id,
       e.event AS event, e.runtime AS runtime
FROM cim_event_rows e JOIN conversation_keys k ON k.key = e.conv;

CREATE TRIGGER cim_events_insert INSTEAD OF INSERT ON cim_events
BEGIN
    INSERT OR IGNORE INTO conversation_keys(id) VALUES (new.conversation_id);
    INSERT INTO cim_event_rows(pos, id, conv, seq, name, type, timestamp, message_id, event, runtime)
    VALUES (new.pos, new.id, (SELECT key FROM conversation_keys WHERE id = new.conversation_id),
            new.seq, new.name, new.type, new.timestamp, new.message_id, new.event, new.runtime);
END;

CREATE TRIGGER cim_events_delete INSTEAD OF DELETE ON cim_events
BEGIN
    DELETE FROM cim_event_rows WHERE pos = old.pos;
END;

CREATE TRIGGER cim_event_rows_message_text_gone AFTER DELETE ON cim_event_rows
WHEN old.name IN ('CUSTOMER_MESSAGE', 'AGENT_MESSAGE', 'BOT_MESSAGE')
BEGIN
    DELETE FROM message_text WHERE rowid = old.pos;
END;

-- A row written as plain JSON by SQL (a tool or test inserting through the view)
-- is still indexed as V9 did; the store's own rows are indexed by the store.
CREATE TRIGGER cim_event_rows_message_text AFTER INSERT ON cim_event_rows
WHEN new.name IN ('CUSTOMER_MESSAGE', 'AGENT_MESSAGE', 'BOT_MESSAGE')
     AND substr(new.event, 1, 1) = '{'
BEGIN
    INSERT INTO message_text(rowid, text)
    SELECT new.pos, t FROM (
        SELECT CASE WHEN json_valid(new.event)
                    THEN json_extract(new.event, '$.data.body.markdownText') END AS t
    ) WHERE typeof(t) = 'text' AND t <> '';
END;
