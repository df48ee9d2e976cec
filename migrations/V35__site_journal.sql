-- Issue 19: the engine journals each input of the whole site (kind 7: its row holds
-- ids and references only; kind 8: it may hold a customer's values) instead of each
-- core's inputs, a routing restore input of a start included. An erasure scrubs kind
-- 8 rows as it scrubs kind 6 (migration V33): the index covers both.

DROP INDEX routing_journal_conversations;
CREATE INDEX routing_journal_conversations ON routing_journal(conv) WHERE kind IN (4, 6, 8);
