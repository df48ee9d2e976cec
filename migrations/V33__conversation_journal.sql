-- Issue 19: the input journal holds the conversation core's rows too (kind 4: its
-- state at a start or a snapshot; kind 5: an input, `conv` naming its conversation).
-- They may hold a customer's channel session, so an erasure scrubs them: those of the
-- customer's conversations by `conv`, the states and the inputs of no conversation
-- (`conv` NULL) once. The index finds both without reading the whole journal.

CREATE INDEX routing_journal_conversations ON routing_journal(conv) WHERE kind IN (4, 5);
