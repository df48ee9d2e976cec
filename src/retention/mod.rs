//! Data over time (issue 16): the retention purge that removes old transcripts
//! ([`purge`]), an admin's erasure of one customer's personal data ([`erase`]), and
//! what both remove from a conversation ([`forget`]) — the one place later kinds of
//! conversation data (attachments) add their removal to. The report aggregates are
//! never touched: reports read the same before and after.

pub mod erase;
pub mod forget;
pub mod purge;
pub mod scrub;

use serde::{Deserialize, Serialize};

/// `[retention]` in the configuration file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days a closed conversation's transcript (its messages and events, its CSAT
    /// comment) is kept after the conversation closed; 0 keeps transcripts forever.
    pub transcript_days: u32,
    /// Seconds between two purge runs of the server (the first runs a minute after
    /// start).
    pub interval_secs: u64,
    /// Conversations purged per write transaction: small, because the messages of
    /// live chats wait behind it. A batch holds the writer about 75 ms at 25 on a
    /// database of 100,000 conversations (most of it the message index's deletions,
    /// which a batch amortises: 230 ms at 100; docs/benchmarks.md).
    pub batch: usize,
    /// Days the input journal (`switchboard replay`) is kept (from the last snapshot
    /// or start before then: without snapshots, a run is kept whole): an incident is
    /// replayed within weeks, and the journal costs a conversation about 1.3 KB. Never
    /// longer than the transcripts, which its rows refer to; 0: as long as the
    /// transcripts.
    pub journal_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            transcript_days: 0,
            interval_secs: 86_400,
            batch: 25,
            journal_days: 30,
        }
    }
}

impl RetentionConfig {
    /// The end time before which closed conversations are purged at `now`, when
    /// transcripts are not kept forever.
    pub fn cutoff(&self, now: crate::clock::Millis) -> Option<crate::clock::Millis> {
        (self.transcript_days > 0).then(|| now - days(self.transcript_days))
    }

    /// The time before which the input journal is purged at `now` (from the last
    /// start or snapshot at or before it): the later of the journal's window and the
    /// transcripts' cutoff (a journal row refers to its conversation's stored events),
    /// if either is set.
    pub fn journal_cutoff(&self, now: crate::clock::Millis) -> Option<crate::clock::Millis> {
        let window = (self.journal_days > 0).then(|| now - days(self.journal_days));
        match (window, self.cutoff(now)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the server has anything to purge on its schedule.
    pub fn purges(&self) -> bool {
        self.interval_secs > 0 && (self.transcript_days > 0 || self.journal_days > 0)
    }
}

fn days(n: u32) -> crate::clock::Millis {
    i64::from(n) * 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: crate::clock::Millis = 1_800_000_000_000;

    fn config(transcript_days: u32, journal_days: u32) -> RetentionConfig {
        RetentionConfig {
            transcript_days,
            journal_days,
            ..RetentionConfig::default()
        }
    }

    #[test]
    fn the_journal_is_kept_its_own_days_and_never_longer_than_the_transcripts() {
        assert_eq!(config(0, 30).journal_cutoff(NOW), Some(NOW - days(30)));
        assert_eq!(config(365, 30).journal_cutoff(NOW), Some(NOW - days(30)));
        assert_eq!(config(7, 30).journal_cutoff(NOW), Some(NOW - days(7)));
        assert_eq!(config(7, 0).journal_cutoff(NOW), Some(NOW - days(7)));
        assert_eq!(config(0, 0).journal_cutoff(NOW), None);
        assert!(config(0, 30).purges());
        assert!(!config(0, 0).purges());
        assert!(!RetentionConfig {
            interval_secs: 0,
            ..config(7, 30)
        }
        .purges());
    }
}
