-- Issue 19: the input journal holds the conversation core's rows too (kind 4: its
-- state at a start or a snapshot; kind 5: an input whose row holds ids and references
-- only; kind 6: an input whose row may hold a customer's values, `conv` naming its
-- conversation). An erasure scrubs kinds 4 and 6: those of the customer's
-- conversations by `conv`, the states and the inputs of no conversation (`conv` NULL)
-- once. The index finds them without reading the whole journal, and leaves out the
-- rows each message writes (kind 5), which it would slow.

CREATE INDEX routing_journal_conversations ON routing_journal(conv) WHERE kind IN (4, 6);
