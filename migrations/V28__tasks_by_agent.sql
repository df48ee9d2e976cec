-- Issue 16, conversation search by agent: an agent's conversations are found through
-- their tasks by agent (reports::search, `c.id IN (SELECT conversation_id FROM tasks
-- WHERE agent_id = ?)`), not by probing every conversation of the period for a task of
-- that agent (0.9 s for a year's 290,000 conversations). Partial: tasks no agent took
-- (abandons) are never looked up by agent.
CREATE INDEX tasks_agent ON tasks(agent_id) WHERE agent_id IS NOT NULL;
