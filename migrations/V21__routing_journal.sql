-- Issue 19: the routing engine's input journal. Every input the routing core handles
-- is appended, with its `now`, in the transaction that commits its effects, so that
-- `switchboard replay` can rebuild the core and check it decides the same
-- (docs/architecture.md, "Input journal and replay"). Written by store::journal.

CREATE TABLE routing_journal (
    pos     INTEGER PRIMARY KEY,
    -- the `now` the core handled the input at (epoch ms)
    at      INTEGER NOT NULL,
    -- 0: a start (input holds the routing configuration the core was made with),
    -- 1: a restore input of that start, 2: an input
    kind    INTEGER NOT NULL,
    -- the conversation the input names (conversation_keys), if any
    conv    INTEGER,
    -- the input, serde-encoded without opaque payloads, packed (store::packed)
    input   TEXT NOT NULL,
    -- FNV-1a of the routing content of its effects (routing_core::digest)
    digest  INTEGER NOT NULL,
    -- its effects in brief, for a person reading a divergence
    effects TEXT NOT NULL
);

-- Replays begin at a start: only starts are indexed by time.
CREATE INDEX routing_journal_starts ON routing_journal(at) WHERE kind = 0;
