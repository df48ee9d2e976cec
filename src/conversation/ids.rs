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

    /// The time of the input being handled; ids drawn until the next call may use it.
    fn at(&mut self, _now: i64) {}
}

/// Time-ordered (v7) UUIDs: what the appliance runs with. Ids of rows written
/// together sit together in their indexes, so a commit touches fewer pages.
///
/// They are drawn from a seed, not from the system's randomness: the timestamp is the
/// `now` of the input being handled ([`IdGen::at`]) and the random bits a hash of the
/// seed, the kind and a count of the ids drawn. The seed is random per run (so runs
/// never share an id), and the seed and the count are all a replay needs to draw the
/// same ids again (the input journal keeps them: `conversation::journal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UuidIds {
    seed: u64,
    drawn: u64,
    #[serde(skip)]
    now: i64,
}

impl Default for UuidIds {
    /// A generator with a random seed.
    fn default() -> Self {
        UuidIds::seeded(uuid::Uuid::new_v4().as_u64_pair().0, 0)
    }
}

impl UuidIds {
    /// The generator that has drawn `drawn` ids from `seed`.
    pub fn seeded(seed: u64, drawn: u64) -> Self {
        UuidIds {
            seed,
            drawn,
            now: 0,
        }
    }
}

/// SplitMix64's finaliser: every bit of the input reaches every bit of the output.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl IdGen for UuidIds {
    fn next_id(&mut self, kind: IdKind) -> String {
        self.drawn += 1;
        // The kind is mixed in: the site's bridge draws from a copy of this generator
        // (tasks, media, pull requests) while the core draws the other kinds.
        let base = self.seed ^ ((kind as u64 + 1) << 56);
        let high = mix(base.wrapping_add(self.drawn.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        let low = mix(high ^ self.seed.rotate_left(17));
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&high.to_le_bytes());
        random[8..].copy_from_slice(&low.to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(self.now.max(0) as u64, &random)
            .into_uuid()
            .to_string()
    }

    fn at(&mut self, now: i64) {
        self.now = now;
    }
}

/// `<prefix>-<n>` with one counter per kind, starting at 1: deterministic ids for
/// tests and replayable simulations.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
        let mut ids = UuidIds::default();
        assert_ne!(ids.next_id(IdKind::Event), ids.next_id(IdKind::Event));
        let mut other = UuidIds::default();
        assert_ne!(ids.next_id(IdKind::Event), other.next_id(IdKind::Event));
    }

    #[test]
    fn uuid_ids_are_drawn_again_from_their_seed_and_count() {
        let mut first = UuidIds::seeded(42, 0);
        first.at(1_700_000_000_000);
        let drawn: Vec<String> = (0..3).map(|_| first.next_id(IdKind::Event)).collect();
        let mut again = UuidIds::seeded(42, 1);
        again.at(1_700_000_000_000);
        assert_eq!(again.next_id(IdKind::Event), drawn[1]);
        let id = uuid::Uuid::parse_str(&drawn[0]).unwrap();
        assert_eq!(id.get_version_num(), 7);
        let (secs, _) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(secs, 1_700_000_000);
        // Another kind at the same count is another id (the bridge's copy).
        let mut copy = UuidIds::seeded(42, 0);
        copy.at(1_700_000_000_000);
        assert_ne!(copy.next_id(IdKind::Task), drawn[0]);
    }
}
