-- Objects that many rows carry (a channel session with its channel and customer, a
-- task, a participant's user, an event emitter, a message header's sender and
-- channel data, a room) are stored here once per content and referred to as
-- {"$ref": id} from the compact JSON texts of cim_events.event,
-- conversations.snapshot and .metadata, channel_sessions.session,
-- participants.participant and tasks.snapshot (see src/store/objects.rs). A compact text starts with '~' (an
-- event's with its own tag, see src/store/events.rs); rows written before this
-- migration hold plain JSON and are read as they are. `hash` is a 63-bit hash of
-- `body`; lookups compare `body` too, so a collision only stores a second row.
CREATE TABLE cim_objects (
    id    INTEGER PRIMARY KEY,
    hash  INTEGER NOT NULL,
    body  TEXT NOT NULL
);
CREATE INDEX cim_objects_hash ON cim_objects(hash);
