//! Where the conversation core gets its ids. The core never draws randomness itself:
//! it asks an [`IdGen`], so production uses UUIDs and tests get readable,
//! deterministic ids (`conv-1`, `evt-3`, ...).

/// What an id is for; deterministic generators use it as a readable prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    Conversation,
    Event,
    Participant,
    StudioRequest,
    /// A routing task FIND_AGENT asks for, and its media.
    Task,
    Media,
    /// A pull-mode request FIND_AGENT asks for.
    PullRequest,
}

impl IdKind {
    /// The prefix [`SequentialIds`] writes.
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Conversation => "conv",
            IdKind::Event => "evt",
            IdKind::Participant => "part",
            IdKind::StudioRequest => "studio",
            IdKind::Task => "task",
            IdKind::Media => "media",
            IdKind::PullRequest => "pull",
        }
    }
}

/// A source of fresh, unique ids.
pub trait IdGen {
    fn next_id(&mut self, kind: IdKind) -> String;
}

/// Time-ordered (v7) UUIDs: what the appliance runs with. Ids of rows written
/// together sit together in their indexes, so a commit touches fewer pages.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidIds;

impl IdGen for UuidIds {
    fn next_id(&mut self, _kind: IdKind) -> String {
        uuid::Uuid::now_v7().to_string()
    }
}

/// `<prefix>-<n>` with one counter per kind, starting at 1: deterministic ids for
/// tests and replayable simulations.
#[derive(Debug, Default, Clone)]
pub struct SequentialIds {
    conversation: u64,
    event: u64,
    participant: u64,
    studio_request: u64,
    task: u64,
    media: u64,
    pull_request: u64,
}

impl IdGen for SequentialIds {
    fn next_id(&mut self, kind: IdKind) -> String {
        let counter = match kind {
            IdKind::Conversation => &mut self.conversation,
            IdKind::Event => &mut self.event,
            IdKind::Participant => &mut self.participant,
            IdKind::StudioRequest => &mut self.studio_request,
            IdKind::Task => &mut self.task,
            IdKind::Media => &mut self.media,
            IdKind::PullRequest => &mut self.pull_request,
        };
        *counter += 1;
        format!("{}-{}", kind.prefix(), counter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_count_per_kind() {
        let mut ids = SequentialIds::default();
        assert_eq!(ids.next_id(IdKind::Conversation), "conv-1");
        assert_eq!(ids.next_id(IdKind::Event), "evt-1");
        assert_eq!(ids.next_id(IdKind::Event), "evt-2");
        assert_eq!(ids.next_id(IdKind::Conversation), "conv-2");
    }

    #[test]
    fn uuid_ids_are_unique() {
        let mut ids = UuidIds;
        assert_ne!(ids.next_id(IdKind::Event), ids.next_id(IdKind::Event));
    }
}
