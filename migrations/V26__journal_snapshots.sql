-- Issue 19: the routing journal keeps a snapshot of the engine's state daily (kind 3,
-- store::journal::Kind::Snapshot), so a replay may begin at one and the retention
-- purge can remove what comes before it on a server that never restarts. Replays
-- begin at a start or a snapshot: both are indexed by time.

DROP INDEX routing_journal_starts;
CREATE INDEX routing_journal_starts ON routing_journal(at) WHERE kind IN (0, 3);
