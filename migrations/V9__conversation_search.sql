-- Issue 16, conversation search: conversations by start time, and the text of every
-- message (customer, agent and bot messages' markdownText) in a full-text index whose
-- rowid is the event's cim_events.pos. Contentless: it holds the index only, never a
-- second copy of the text. Kept by a trigger in the transaction that stores the event.
CREATE INDEX conversations_created ON conversations(creation_time);

CREATE VIRTUAL TABLE message_text USING fts5(
    text,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- An event text is plain JSON (rows from before V4) or a one-character tag and then
-- JSON; a text that is not JSON is left out of the index, never refused.
CREATE TRIGGER cim_events_message_text AFTER INSERT ON cim_events
WHEN new.name IN ('CUSTOMER_MESSAGE', 'AGENT_MESSAGE', 'BOT_MESSAGE')
BEGIN
    INSERT INTO message_text(rowid, text)
    SELECT new.pos, t FROM (
        SELECT CASE WHEN json_valid(j) THEN json_extract(j, '$.data.body.markdownText') END AS t
        FROM (SELECT CASE WHEN substr(new.event, 1, 1) = '{' THEN new.event
                          ELSE substr(new.event, 2) END AS j)
    ) WHERE typeof(t) = 'text' AND t <> '';
END;

CREATE TRIGGER cim_events_message_text_gone AFTER DELETE ON cim_events
WHEN old.name IN ('CUSTOMER_MESSAGE', 'AGENT_MESSAGE', 'BOT_MESSAGE')
BEGIN
    DELETE FROM message_text WHERE rowid = old.pos;
END;

INSERT INTO message_text(rowid, text)
SELECT pos, t FROM (
    SELECT pos, CASE WHEN json_valid(j) THEN json_extract(j, '$.data.body.markdownText') END AS t
    FROM (SELECT pos, CASE WHEN substr(event, 1, 1) = '{' THEN event ELSE substr(event, 2) END AS j
          FROM cim_events WHERE name IN ('CUSTOMER_MESSAGE', 'AGENT_MESSAGE', 'BOT_MESSAGE'))
) WHERE typeof(t) = 'text' AND t <> '';
