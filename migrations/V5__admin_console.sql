-- The admin console: the audit log of configuration changes, enabled and soft-deleted
-- channels, soft-deleted reason and wrap-up codes (history keeps naming them), and
-- canned responses.

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    actor_id        TEXT,
    actor_username  TEXT NOT NULL,
    action          TEXT NOT NULL,
    entity_type     TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    entity_name     TEXT NOT NULL DEFAULT '',
    before          TEXT,
    after           TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_entity ON audit_log(entity_type, entity_id);

ALTER TABLE channels ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
-- A deleted channel with history is kept (its sessions point at it) but hidden.
ALTER TABLE channels ADD COLUMN deleted_at INTEGER;

ALTER TABLE reason_codes ADD COLUMN deleted_at INTEGER;
ALTER TABLE wrapup_codes ADD COLUMN deleted_at INTEGER;

CREATE TABLE canned_responses (
    id          TEXT PRIMARY KEY,
    shortcut    TEXT NOT NULL,
    text        TEXT NOT NULL,
    team_id     TEXT REFERENCES teams(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX canned_responses_shortcut ON canned_responses(COALESCE(team_id, ''), shortcut);

CREATE INDEX users_team ON users(team_id);
