-- Issue 17, attachments: the files agents and customers send. The bytes live under
-- <data_dir>/attachments/<2 hex>/<62 hex> named by their SHA-256 (one file for any
-- number of uploads of the same content); a row says who sent what in which
-- conversation. Rows go with their conversation (retention purge, erasure); a file goes
-- when no row names its hash any more.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    mime_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    -- 'AGENT:<user id>' or 'CUSTOMER:<channel session id>'.
    uploaded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX attachments_conversation ON attachments(conversation_id);
CREATE INDEX attachments_sha256 ON attachments(sha256);

-- Keys the appliance makes for itself on first use, e.g. the one signing attachment
-- URLs. In the database so that a backup restores them with the rows they sign.
CREATE TABLE site_keys (
    name TEXT PRIMARY KEY,
    key TEXT NOT NULL
);
