-- Issue 11. A widget chat's session secret: issued to the widget that requested the
-- chat, required in the handshake to resume that channel session or replay its history.
-- Only its SHA-256 is kept, so it survives a restart and a backup/restore and the
-- database alone does not give it away. A channel session without a row here (started
-- by a connector, or by a release before this one) is not guarded.
CREATE TABLE widget_secrets (
    channel_session_id  TEXT PRIMARY KEY,
    secret_hash         TEXT NOT NULL,
    created_at          INTEGER NOT NULL
) WITHOUT ROWID;

-- A channel's own connector token (SHA-256): connectors post to
-- POST /ccm/message/receive with it, and only into that channel's chats.
ALTER TABLE channels ADD COLUMN connector_token_hash TEXT;
