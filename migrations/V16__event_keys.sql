-- Issue 15, storage footprint: an event row keeps its id (and its message id) as the
-- 16 bytes of a UUID instead of 36 characters, in the column and in its unique index,
-- and its name and type as small integer codes (`event_names`). An id that is not a
-- lowercase hyphenated UUID (a client's own message id, say) stays text; a name the
-- code list does not know stays text (src/store/event_keys.rs reads and writes both).
--
-- The `cim_events` view keeps giving the text id, conversation id, name and type, so
-- SQL written against the old table keeps working; inserting through it converts.

CREATE TABLE event_names (
    code  INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);
-- The same list, in the same order, is `event_keys::CODES` (a unit test compares).
INSERT INTO event_names(code, name) VALUES
    (1, 'CUSTOMER_MESSAGE'),
    (2, 'AGENT_MESSAGE'),
    (3, 'BOT_MESSAGE'),
    (4, 'WHISPER_MESSAGE'),
    (5, 'BOT_SUGGESTION'),
    (6, 'CHANNEL_SESSION_STARTED'),
    (7, 'CHANNEL_SESSION_ENDED'),
    (8, 'CHANNEL_SESSION_EXPIRED'),
    (9, 'AGENT_RESERVED'),
    (10, 'AGENT_SUBSCRIBED'),
    (11, 'AGENT_UNSUBSCRIBED'),
    (12, 'TASK_ENQUEUED'),
    (13, 'TASK_STATE_CHANGED'),
    (14, 'NO_AGENT_AVAILABLE'),
    (15, 'PARTICIPANT_ROLE_CHANGED'),
    (16, 'CONVERSATION_DATA_CHANGED'),
    (17, 'MRD_INTERRUPTED'),
    (18, 'AGENT_MRD_INTERRUPTED'),
    (19, 'AGENT_SLA_STARTED'),
    (20, 'AGENT_SLA_EXPIRED'),
    (21, 'CUSTOMER_SLA_EXPIRED'),
    (22, 'MESSAGE_DELIVERY_NOTIFICATION'),
    (23, 'CONVERSATION_STARTED'),
    (24, 'CONVERSATION_PAUSED'),
    (25, 'CONVERSATION_RESUMED'),
    (26, 'FIND_AGENT'),
    (27, 'CONSULT_TRANSFER'),
    (28, 'CONSULT_CONFERENCE'),
    (29, 'DIRECT_TRANSFER'),
    (30, 'DIRECT_CONFERENCE'),
    (31, 'TYPING_STARTED'),
    (32, 'TYPING_STOPPED'),
    (33, 'SYSTEM_ERROR'),
    (34, 'MESSAGE'),
    (35, 'NOTIFICATION'),
    (36, 'ACTIVITY'),
    (37, 'SUGGESTION');

DROP VIEW cim_events;
ALTER TABLE cim_event_rows RENAME TO cim_event_rows_v10;

-- No declared type on id, name, type and message_id: a value keeps the storage class
-- it was written with (blob or text id, integer or text name).
CREATE TABLE cim_event_rows (
    pos         INTEGER PRIMARY KEY,
    id          NOT NULL UNIQUE,
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
SELECT pos, CASE WHEN id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(id, '-', '')) ELSE id END, conv, seq,
       COALESCE((SELECT code FROM event_names n WHERE n.name = v.name), v.name), COALESCE((SELECT code FROM event_names n WHERE n.name = v.type), v.type),
       timestamp, CASE WHEN message_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(message_id, '-', '')) ELSE message_id END, event, runtime
FROM cim_event_rows_v10 v ORDER BY pos;

DROP TABLE cim_event_rows_v10;

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
