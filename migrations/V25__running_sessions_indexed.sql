-- A customer's running chat on a channel (store::conversations::running_session, asked
-- at every widget handshake and connector message) is found through the sessions that
-- are still STARTED, not a scan of every session ever kept. Partial: ended sessions,
-- nearly all of them, cost nothing in it.
CREATE INDEX channel_sessions_running ON channel_sessions(customer_id, channel_id)
    WHERE state = 'STARTED';
