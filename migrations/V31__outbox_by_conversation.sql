-- The retention purge and an erasure remove a conversation's webhook deliveries with
-- its transcript (they carry its messages' text): find them by conversation.
CREATE INDEX outbox_conversation ON outbox(conversation_id);
