-- Customer satisfaction: the 1-5 rating (and comment) a customer gives after a chat,
-- one per conversation, kept with the conversation (history, reports).
CREATE TABLE csat (
    conversation_id  TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    rating           INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment          TEXT NOT NULL DEFAULT '',
    submitted_at     INTEGER NOT NULL
);
