-- Issue 15, storage footprint: a conversation's participants and channel sessions,
-- and a task's media, are kept in one B-tree each, ordered by their parent and then
-- their own id (WITHOUT ROWID, primary key (parent, id)), instead of a rowid table
-- plus an index on the id plus an index on the parent: every query reads them by
-- their parent (or by parent and id), so two of the three trees were pure cost
-- (~400 bytes a conversation). Writers upsert on (parent, id).
-- The index of participants by user (`participants_ref`) goes: only the check whether
-- a user to delete has history read it, and that check scans other tables anyway and
-- now asks the indexed agent state history first (`store::user_admin::has_history`);
-- on the new table it would have held each row's whole key (~150 bytes a chat).
-- `conversations_queue` goes too: nothing reads conversations by queue (the search
-- filters by the task's queue, task_media; the conversation list's optional queue
-- filter cannot use it).

ALTER TABLE participants RENAME TO participants_v1;
CREATE TABLE participants (
    id               TEXT NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    type             TEXT NOT NULL CHECK (type IN ('CUSTOMER', 'AGENT', 'BOT')),
    role             TEXT NOT NULL,
    participant_ref  TEXT NOT NULL,
    state            TEXT,
    joined_at        INTEGER NOT NULL,
    left_at          INTEGER,
    participant      TEXT NOT NULL,
    PRIMARY KEY (conversation_id, id)
) WITHOUT ROWID;
INSERT INTO participants(id, conversation_id, type, role, participant_ref, state, joined_at,
                         left_at, participant)
SELECT id, conversation_id, type, role, participant_ref, state, joined_at, left_at, participant
FROM participants_v1;
DROP TABLE participants_v1;

ALTER TABLE channel_sessions RENAME TO channel_sessions_v1;
CREATE TABLE channel_sessions (
    id               TEXT NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    channel_id       TEXT NOT NULL REFERENCES channels(id),
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    state            TEXT NOT NULL CHECK (state IN ('STARTED', 'ENDED', 'CLOSED')),
    reason_code      TEXT,
    session          TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER,
    PRIMARY KEY (conversation_id, id)
) WITHOUT ROWID;
INSERT INTO channel_sessions(id, conversation_id, channel_id, customer_id, state, reason_code,
                             session, started_at, ended_at)
SELECT id, conversation_id, channel_id, customer_id, state, reason_code, session, started_at,
       ended_at
FROM channel_sessions_v1;
DROP TABLE channel_sessions_v1;

ALTER TABLE task_media RENAME TO task_media_v1;
CREATE TABLE task_media (
    id            TEXT NOT NULL,
    task_id       TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    mrd_id        TEXT NOT NULL,
    queue_id      TEXT,
    state         TEXT NOT NULL,
    priority      INTEGER NOT NULL,
    direction     TEXT NOT NULL,
    mode          TEXT NOT NULL,
    agent_id      TEXT,
    enqueue_time  INTEGER NOT NULL,
    answer_time   INTEGER,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (task_id, id)
) WITHOUT ROWID;
INSERT INTO task_media(id, task_id, mrd_id, queue_id, state, priority, direction, mode, agent_id,
                       enqueue_time, answer_time, updated_at)
SELECT id, task_id, mrd_id, queue_id, state, priority, direction, mode, agent_id, enqueue_time,
       answer_time, updated_at
FROM task_media_v1;
DROP TABLE task_media_v1;

DROP INDEX IF EXISTS conversations_queue;
