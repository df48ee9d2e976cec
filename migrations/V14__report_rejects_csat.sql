-- Issue 16, reports: offers the agent declined (`rejectTask`) counted per interval
-- beside the RONAs (docs/metrics.md), and the customers' ratings found by when they
-- were given, for CSAT per queue, channel, team and agent in the interval reports.
ALTER TABLE report_intervals ADD COLUMN rejects INTEGER NOT NULL DEFAULT 0;

CREATE INDEX csat_submitted ON csat(submitted_at);
