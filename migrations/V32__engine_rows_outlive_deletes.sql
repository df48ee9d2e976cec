-- The engine writes each batch of its steps in one transaction, and a batch the store
-- refuses halts it (the appliance stops and a restart goes on from what is stored).
-- Two foreign keys let an admin's delete, racing live traffic, make such a batch fail:
-- a channel deleted (or deleted and made again under its service identifier) while a
-- chat on it starts, and a user deleted while its agent logs in or out. The delete
-- handlers refuse what is in use by reading the rows themselves; these references
-- only turned a race into a stopped appliance. The tables are rebuilt without them
-- (SQLite cannot drop a foreign key in place), with the same columns and indexes.

CREATE TABLE channel_sessions_v32 (
    id               TEXT NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    channel_id       TEXT NOT NULL,
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    state            TEXT NOT NULL CHECK (state IN ('STARTED', 'ENDED', 'CLOSED')),
    reason_code      TEXT,
    session          TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER,
    PRIMARY KEY (conversation_id, id)
) WITHOUT ROWID;
INSERT INTO channel_sessions_v32 SELECT id, conversation_id, channel_id, customer_id, state,
    reason_code, session, started_at, ended_at FROM channel_sessions;
DROP TABLE channel_sessions;
ALTER TABLE channel_sessions_v32 RENAME TO channel_sessions;
CREATE INDEX channel_sessions_running ON channel_sessions(customer_id)
    WHERE state = 'STARTED';

CREATE TABLE agent_states_v32 (
    user_id       TEXT NOT NULL,
    mrd_id        TEXT NOT NULL,
    state         TEXT NOT NULL,
    reason_code   TEXT,
    changed_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, mrd_id)
);
INSERT INTO agent_states_v32 SELECT user_id, mrd_id, state, reason_code, changed_at
    FROM agent_states;
DROP TABLE agent_states;
ALTER TABLE agent_states_v32 RENAME TO agent_states;
