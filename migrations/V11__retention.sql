-- Issue 16, data over time: retention and erasure (src/retention).
-- A closed conversation whose transcript the retention purge removed keeps its row
-- (reports, search) with the time of the purge; the partial index finds the next
-- ones to purge by end time, and shrinks as they are purged.
ALTER TABLE conversations ADD COLUMN purged_at INTEGER;
CREATE INDEX conversations_to_purge ON conversations(end_time)
    WHERE state = 'CLOSED' AND purged_at IS NULL;

-- A customer whose personal data an admin erased: the row stays (conversations
-- refer to it), anonymised, with the time of the erasure.
ALTER TABLE customers ADD COLUMN erased_at INTEGER;

-- Written and emptied by an erasure to overwrite the free pages of the file with zeros.
CREATE TABLE erase_wipe (b BLOB);
