-- Issue 15, storage footprint: an event row's id is no longer a UNIQUE column. Event
-- ids are made by the appliance (UUIDv7), nothing looks an event up by its id (the
-- `cim_events` view's id is computed, so no query used the index), and a write
-- repeated after a failure is still refused by UNIQUE (conv, seq). The index cost
-- about 30 bytes per event, ~500 bytes per conversation of 10 messages.
--
-- The table is rebuilt (SQLite cannot drop a column's UNIQUE in place) with the same
-- columns, and the view, its triggers and the message-text triggers as V16 made them.

DROP VIEW cim_events;
ALTER TABLE cim_event_rows RENAME TO cim_event_rows_v16;

CREATE TABLE cim_event_rows (
    pos         INTEGER PRIMARY KEY,
    id          NOT NULL,
    conv        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    name        NOT NULL,
    type        NOT NULL,
    timestamp   INTEGER NOT NULL,
    message_id,
    event       TEXT NOT NULL,
    runtime     TEXT,
    UNIQUE (conv, seq)
);

INSERT INTO cim_event_rows(pos, id, conv, seq, name, type, timestamp, message_id, event, runtime)
SELECT pos, id, conv, seq, name, type, timestamp, message_id, event, runtime
FROM cim_event_rows_v16 ORDER BY pos;

DROP TABLE cim_event_rows_v16;

CREATE UNIQUE INDEX cim_event_rows_message ON cim_event_rows(message_id)
    WHERE message_id IS NOT NULL;

CREATE VIEW cim_events AS
SELECT e.pos AS pos, CASE WHEN typeof(e.id) = 'blob' THEN lower(substr(hex(e.id), 1, 8) || '-' || substr(hex(e.id), 9, 4) || '-' || substr(hex(e.id), 13, 4) || '-' || substr(hex(e.id), 17, 4) || '-' || substr(hex(e.id), 21)) ELSE e.id END AS id,
       k.id AS conversation_id, e.seq AS seq,
       COALESCE((SELECT n.name FROM event_names n WHERE n.code = e.name), e.name) AS name,
       COALESCE((SELECT n.name FROM event_names n WHERE n.code = e.type), e.type) AS type,
       e.timestamp AS timestamp, CASE WHEN typeof(e.message_id) = 'blob' THEN lower(substr(hex(e.message_id), 1, 8) || '-' || substr(hex(e.message_id), 9, 4) || '-' || substr(hex(e.message_id), 13, 4) || '-' || substr(hex(e.message_id), 17, 4) || '-' || substr(hex(e.message_id), 21)) ELSE e.message_id END AS message_id,
       e.event AS event, e.runtime AS runtime
FROM cim_event_rows e JOIN conversation_keys k ON k.key = e.conv;

CREATE TRIGGER cim_events_insert INSTEAD OF INSERT ON cim_events
BEGIN
    INSERT OR IGNORE INTO conversation_keys(id) VALUES (new.conversation_id);
    INSERT INTO cim_event_rows(pos, id, conv, seq, name, type, timestamp, message_id, event, runtime)
    VALUES (new.pos, CASE WHEN new.id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(new.id, '-', '')) ELSE new.id END,
            (SELECT key FROM conversation_keys WHERE id = new.conversation_id), new.seq,
            COALESCE((SELECT code FROM event_names n WHERE n.name = new.name), new.name), COALESCE((SELECT code FROM event_names n WHERE n.name = new.type), new.type),
            new.timestamp, CASE WHEN new.message_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(new.message_id, '-', '')) ELSE new.message_id END, new.event, new.runtime);
END;

CREATE TRIGGER cim_events_delete INSTEAD OF DELETE ON cim_events
BEGIN
    DELETE FROM cim_event_rows WHERE pos = old.pos;
END;

-- Codes 1, 2, 3: CUSTOMER_MESSAGE, AGENT_MESSAGE, BOT_MESSAGE.
CREATE TRIGGER cim_event_rows_message_text_gone AFTER DELETE ON cim_event_rows
WHEN old.name IN (1, 2, 3)
BEGIN
    DELETE FROM message_text WHERE rowid = old.pos;
END;

-- A row written as plain JSON by SQL (a tool or test inserting through the view)
-- is still indexed as V9 did; the store's own rows are indexed by the store.
CREATE TRIGGER cim_event_rows_message_text AFTER INSERT ON cim_event_rows
WHEN new.name IN (1, 2, 3) AND substr(new.event, 1, 1) = '{'
BEGIN
    INSERT INTO message_text(rowid, text)
    SELECT new.pos, t FROM (
        SELECT CASE WHEN json_valid(new.event)
                    THEN json_extract(new.event, '$.data.body.markdownText') END AS t
    ) WHERE typeof(t) = 'text' AND t <> '';
END;
