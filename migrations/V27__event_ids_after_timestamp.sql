-- Issue 15, storage footprint: an event id that is a UUIDv7 made with its event, whose
-- first 48 bits are the event's `timestamp` or up to 255 ms after it, is kept as its
-- last 10 bytes, after one byte of those milliseconds when there are any (11 bytes):
-- the `timestamp` column holds the rest (store::event_keys::event_id /
-- read_event_id). 5-6 bytes less per event. Rows written before keep 16 bytes and read
-- as they are; nothing needs rewriting.
--
-- Only the `cim_events` view changes (its id is computed from the stored bytes); it
-- is made again with the INSTEAD OF triggers V17 gave it (dropping a view drops them).

DROP VIEW cim_events;

CREATE VIEW cim_events AS
SELECT e.pos AS pos, CASE WHEN typeof(e.id) = 'blob' THEN lower(substr((CASE length(e.id) WHEN 10 THEN printf('%012X', e.timestamp) || hex(e.id) WHEN 11 THEN printf('%012X', e.timestamp + (instr('0123456789ABCDEF', substr(hex(e.id), 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hex(e.id), 2, 1)) - 1) || substr(hex(e.id), 3) ELSE hex(e.id) END), 1, 8) || '-' || substr((CASE length(e.id) WHEN 10 THEN printf('%012X', e.timestamp) || hex(e.id) WHEN 11 THEN printf('%012X', e.timestamp + (instr('0123456789ABCDEF', substr(hex(e.id), 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hex(e.id), 2, 1)) - 1) || substr(hex(e.id), 3) ELSE hex(e.id) END), 9, 4) || '-' || substr((CASE length(e.id) WHEN 10 THEN printf('%012X', e.timestamp) || hex(e.id) WHEN 11 THEN printf('%012X', e.timestamp + (instr('0123456789ABCDEF', substr(hex(e.id), 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hex(e.id), 2, 1)) - 1) || substr(hex(e.id), 3) ELSE hex(e.id) END), 13, 4) || '-' || substr((CASE length(e.id) WHEN 10 THEN printf('%012X', e.timestamp) || hex(e.id) WHEN 11 THEN printf('%012X', e.timestamp + (instr('0123456789ABCDEF', substr(hex(e.id), 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hex(e.id), 2, 1)) - 1) || substr(hex(e.id), 3) ELSE hex(e.id) END), 17, 4) || '-' || substr((CASE length(e.id) WHEN 10 THEN printf('%012X', e.timestamp) || hex(e.id) WHEN 11 THEN printf('%012X', e.timestamp + (instr('0123456789ABCDEF', substr(hex(e.id), 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hex(e.id), 2, 1)) - 1) || substr(hex(e.id), 3) ELSE hex(e.id) END), 21)) ELSE e.id END AS id,
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
