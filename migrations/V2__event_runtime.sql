-- A step that appends events and changes no conversation row (a message, most of the
-- time) stores the conversation manager's runtime (timers, SLA bookkeeping) on the
-- last event it appends instead of rewriting its conversation_runtime row: the event
-- row is appended to a page that is written anyway, while the runtime row sits on a
-- page of its own that every message would dirty. On start the newer of the two
-- (by seq; the runtime row on a tie) is restored.
ALTER TABLE cim_events ADD COLUMN runtime TEXT;
