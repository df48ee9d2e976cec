-- Issue 17: a channel's pre-chat form and business hours, as JSON in the API's shape
-- (checked by the server before it is written). A channel without a row, or with a
-- NULL column, has the default form (the name optional, nothing required) and no
-- hours (always open). Removed with its channel.
CREATE TABLE channel_widget_settings (
    channel_id      TEXT PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
    prechat_form    TEXT,
    business_hours  TEXT,
    updated_at      INTEGER NOT NULL
);
