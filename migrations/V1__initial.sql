-- Switchboard schema, version 1: everything the agent manager, routing engine,
-- conversation manager and channels persist. Times are epoch milliseconds.
-- JSON columns hold CIM objects exactly as they travel (camelCase).

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL,
    team_id       TEXT REFERENCES teams(id) ON DELETE SET NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Teams a supervisor supervises (a supervisor may also be a member of its team).
CREATE TABLE team_supervisors (
    team_id  TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);

-- Opaque bearer tokens, stored as SHA-256 of the token.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Media routing domains.
CREATE TABLE mrds (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    description   TEXT NOT NULL DEFAULT '',
    max_tasks     INTEGER NOT NULL CHECK (max_tasks >= 0),
    interruptible INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);

-- Per agent and MRD capacity; 0 means never routed on that MRD.
CREATE TABLE agent_mrd_capacities (
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mrd_id           TEXT NOT NULL REFERENCES mrds(id) ON DELETE CASCADE,
    max_agent_tasks  INTEGER NOT NULL CHECK (max_agent_tasks >= 0),
    PRIMARY KEY (user_id, mrd_id)
);

CREATE TABLE routing_attributes (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL CHECK (type IN ('BOOLEAN', 'PROFICIENCY')),
    description  TEXT NOT NULL DEFAULT ''
);

-- BOOLEAN attributes store 0/1, PROFICIENCY attributes 1..10.
CREATE TABLE agent_attributes (
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    attribute_id  TEXT NOT NULL REFERENCES routing_attributes(id) ON DELETE CASCADE,
    value         INTEGER NOT NULL,
    PRIMARY KEY (user_id, attribute_id)
);

CREATE TABLE queues (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    mrd_id               TEXT NOT NULL REFERENCES mrds(id),
    priority             INTEGER NOT NULL DEFAULT 1 CHECK (priority BETWEEN 1 AND 10),
    -- RONA timeout of offers from this queue; NULL uses routing.accept_timeout_secs
    accept_timeout_secs  INTEGER,
    agent_sla_secs       INTEGER NOT NULL DEFAULT 60,
    service_level_secs   INTEGER NOT NULL DEFAULT 30,
    created_at           INTEGER NOT NULL
);

CREATE TABLE queue_steps (
    queue_id      TEXT NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    step_index    INTEGER NOT NULL CHECK (step_index BETWEEN 1 AND 10),
    expression    TEXT NOT NULL,
    timeout_secs  INTEGER NOT NULL,
    PRIMARY KEY (queue_id, step_index)
);

CREATE TABLE channel_types (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    channel_logo    TEXT NOT NULL DEFAULT '',
    is_interactive  INTEGER NOT NULL DEFAULT 1,
    mrd_id          TEXT NOT NULL REFERENCES mrds(id)
);

CREATE TABLE channel_providers (
    id                       TEXT PRIMARY KEY,
    name                     TEXT NOT NULL,
    provider_webhook         TEXT NOT NULL DEFAULT '',
    supported_channel_types  TEXT NOT NULL DEFAULT '[]',
    config_schema            TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE channel_connectors (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    provider_id  TEXT NOT NULL REFERENCES channel_providers(id),
    configs      TEXT NOT NULL DEFAULT '[]'
);

-- config holds the channelConfig object (routingPolicy, customerActivityTimeout, ...).
CREATE TABLE channels (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    service_identifier  TEXT NOT NULL UNIQUE,
    channel_type_id     TEXT NOT NULL REFERENCES channel_types(id),
    connector_id        TEXT NOT NULL REFERENCES channel_connectors(id),
    config              TEXT NOT NULL,
    default_outbound    INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
);

CREATE TABLE reason_codes (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    type         TEXT NOT NULL CHECK (type IN ('NOT_READY', 'LOGOUT')),
    description  TEXT NOT NULL DEFAULT '',
    UNIQUE (type, name)
);

CREATE TABLE wrapup_codes (
    id         TEXT PRIMARY KEY,
    category   TEXT NOT NULL,
    value      TEXT NOT NULL,
    UNIQUE (category, value)
);

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    first_name    TEXT NOT NULL DEFAULT '',
    is_anonymous  INTEGER NOT NULL DEFAULT 1,
    data          TEXT NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL
);

-- How a channel knows its customer: (channel type, channelCustomerIdentifier).
CREATE TABLE customer_identifiers (
    channel_type  TEXT NOT NULL,
    identifier    TEXT NOT NULL,
    customer_id   TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    PRIMARY KEY (channel_type, identifier)
);

CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL REFERENCES customers(id),
    room_id        TEXT NOT NULL,
    state          TEXT NOT NULL,
    direction      TEXT NOT NULL DEFAULT 'INBOUND',
    queue_id       TEXT,
    last_agent_id  TEXT,
    data           TEXT NOT NULL DEFAULT '[]',
    metadata       TEXT NOT NULL DEFAULT '{}',
    -- timers and SLA bookkeeping of the conversation manager, restored on start
    timers         TEXT NOT NULL DEFAULT '{}',
    -- the whole CIM conversation object (participants, customer, channel session, ...)
    snapshot       TEXT NOT NULL,
    creation_time  INTEGER NOT NULL,
    end_time       INTEGER,
    last_seq       INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX conversations_customer_state ON conversations(customer_id, state);
CREATE INDEX conversations_state ON conversations(state, creation_time);
CREATE INDEX conversations_queue ON conversations(queue_id, creation_time);

-- The conversation manager's small per-message state, kept apart from `conversations`:
-- SQLite rewrites a whole row (and its overflow pages) on any update, and a conversation
-- row carries the ~8 KB snapshot, so updating timers there on every message multiplied
-- the bytes written per message (see docs/benchmarks-load.md). Newer than
-- conversations.timers / last_seq whenever present.
CREATE TABLE conversation_runtime (
    conversation_id  TEXT PRIMARY KEY REFERENCES conversations(id),
    timers           TEXT NOT NULL,
    last_seq         INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE channel_sessions (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    channel_id       TEXT NOT NULL REFERENCES channels(id),
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    state            TEXT NOT NULL CHECK (state IN ('STARTED', 'ENDED', 'CLOSED')),
    reason_code      TEXT,
    session          TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER
);
CREATE INDEX channel_sessions_conversation ON channel_sessions(conversation_id);

CREATE TABLE participants (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    type             TEXT NOT NULL CHECK (type IN ('CUSTOMER', 'AGENT', 'BOT')),
    role             TEXT NOT NULL,
    participant_ref  TEXT NOT NULL,
    state            TEXT,
    joined_at        INTEGER NOT NULL,
    left_at          INTEGER,
    participant      TEXT NOT NULL
);
CREATE INDEX participants_conversation ON participants(conversation_id);
CREATE INDEX participants_ref ON participants(participant_ref, left_at);

-- Every CIM event of a conversation, numbered per conversation. message_id is the
-- idempotency key of inbound and outbound messages.
CREATE TABLE cim_events (
    pos              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    conversation_id  TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    name             TEXT NOT NULL,
    type             TEXT NOT NULL,
    timestamp        INTEGER NOT NULL,
    message_id       TEXT UNIQUE,
    event            TEXT NOT NULL,
    UNIQUE (conversation_id, seq)
);

CREATE TABLE tasks (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL,
    state            TEXT NOT NULL,
    agent_id         TEXT,
    disposition      TEXT,
    created_at       INTEGER NOT NULL,
    closed_at        INTEGER,
    -- the routing engine's whole task, restored on start
    snapshot         TEXT NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX tasks_open ON tasks(state) WHERE state <> 'CLOSED';
CREATE INDEX tasks_conversation ON tasks(conversation_id);

CREATE TABLE task_media (
    id            TEXT PRIMARY KEY,
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
    updated_at    INTEGER NOT NULL
);
CREATE INDEX task_media_task ON task_media(task_id);

-- Current agent states (mrd_id '' is the global state), restored on start.
CREATE TABLE agent_states (
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mrd_id        TEXT NOT NULL,
    state         TEXT NOT NULL,
    reason_code   TEXT,
    changed_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, mrd_id)
);

-- Every agent state change with its time, for reports.
CREATE TABLE agent_state_history (
    id           INTEGER PRIMARY KEY,
    user_id      TEXT NOT NULL,
    mrd_id       TEXT,
    state        TEXT NOT NULL,
    reason_code  TEXT,
    changed_at   INTEGER NOT NULL
);
CREATE INDEX agent_state_history_user ON agent_state_history(user_id, changed_at);

CREATE TABLE pull_lists (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    queue_id  TEXT REFERENCES queues(id) ON DELETE SET NULL
);

-- Outbound webhook deliveries: retried with backoff, dead-lettered after N attempts.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    message_id       TEXT NOT NULL,
    conversation_id  TEXT,
    url              TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('PENDING', 'DELIVERED', 'DEAD')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (message_id, url)
);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE state = 'PENDING';

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- The routing engine's presence record of each agent (AgentView), restored on start.
CREATE TABLE agent_views (
    user_id  TEXT PRIMARY KEY,
    view     TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Pull-mode list requests, restored on start.
CREATE TABLE pull_requests (
    id        TEXT PRIMARY KEY,
    list_id   TEXT NOT NULL,
    state     TEXT NOT NULL,
    snapshot  TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
