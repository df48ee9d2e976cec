-- Issue 16, reports and history: aggregates kept as events are stored, written in the
-- same transaction as the task-log row or agent state change that causes them
-- (src/reports/keep.rs), and rebuilt from those with `switchboard reports rebuild`.
-- Times are epoch ms; an interval is 15 minutes from a multiple of 900000 (every site
-- time zone's hours and days fall on such a boundary).

-- What the aggregates remember of an open task between its changes (deleted at close).
CREATE TABLE report_tasks (
    task_id          TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL,
    queue_id         TEXT NOT NULL,
    -- the queue the task was counted offered in
    offered_in       TEXT,
    media_state      TEXT NOT NULL,
    assigned_to      TEXT,
    answered         INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Counts per 15-minute interval and dimension (queue, channel, team, agent) and the
-- dimension's id; the sums the averages need beside them (docs/metrics.md, Reports).
CREATE TABLE report_intervals (
    interval_start        INTEGER NOT NULL,
    dimension             TEXT NOT NULL CHECK (dimension IN ('queue', 'channel', 'team', 'agent')),
    key                   TEXT NOT NULL,
    offered               INTEGER NOT NULL DEFAULT 0,
    answered              INTEGER NOT NULL DEFAULT 0,
    answered_within       INTEGER NOT NULL DEFAULT 0,
    abandoned             INTEGER NOT NULL DEFAULT 0,
    short_abandons        INTEGER NOT NULL DEFAULT 0,
    flushed               INTEGER NOT NULL DEFAULT 0,
    transfers_in          INTEGER NOT NULL DEFAULT 0,
    transfers_out         INTEGER NOT NULL DEFAULT 0,
    reservations          INTEGER NOT NULL DEFAULT 0,
    ronas                 INTEGER NOT NULL DEFAULT 0,
    handled               INTEGER NOT NULL DEFAULT 0,
    wait_sum_ms           INTEGER NOT NULL DEFAULT 0,
    handle_sum_ms         INTEGER NOT NULL DEFAULT 0,
    max_wait_ms           INTEGER NOT NULL DEFAULT 0,
    first_responses       INTEGER NOT NULL DEFAULT 0,
    first_response_sum_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (dimension, key, interval_start)
) WITHOUT ROWID;
CREATE INDEX report_intervals_start ON report_intervals(interval_start, dimension);

-- Wrap-up codes given per interval and dimension (counted when the task closes).
CREATE TABLE report_wrapups (
    interval_start  INTEGER NOT NULL,
    dimension       TEXT NOT NULL,
    key             TEXT NOT NULL,
    code            TEXT NOT NULL,
    count           INTEGER NOT NULL,
    PRIMARY KEY (dimension, key, interval_start, code)
) WITHOUT ROWID;

-- Agent state spans: mrd_id '' is the global state (with its reason), an MRD's id its
-- state on that MRD, '*' the agent being OCCUPIED (at least one MRD ACTIVE or BUSY).
-- end_at NULL: the span is still open.
CREATE TABLE agent_state_spans (
    user_id      TEXT NOT NULL,
    mrd_id       TEXT NOT NULL,
    start_at     INTEGER NOT NULL,
    end_at       INTEGER,
    state        TEXT NOT NULL,
    reason_code  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, mrd_id, start_at)
) WITHOUT ROWID;
CREATE INDEX agent_state_spans_open ON agent_state_spans(user_id, mrd_id) WHERE end_at IS NULL;
CREATE INDEX agent_state_spans_start ON agent_state_spans(start_at);

-- Time per 15-minute interval, agent, global state (or OCCUPIED) and reason, from
-- closed spans (open spans are added up to now when read).
CREATE TABLE report_agent_time (
    interval_start  INTEGER NOT NULL,
    user_id         TEXT NOT NULL,
    state           TEXT NOT NULL,
    reason_code     TEXT NOT NULL DEFAULT '',
    ms              INTEGER NOT NULL,
    PRIMARY KEY (interval_start, user_id, state, reason_code)
) WITHOUT ROWID;
