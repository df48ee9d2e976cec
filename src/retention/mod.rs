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
    /// Conversations purged per write transaction: small, so the messages of live
    /// chats queued behind it wait only a few milliseconds.
    pub batch: usize,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            transcript_days: 0,
            interval_secs: 86_400,
            batch: 100,
        }
    }
}

impl RetentionConfig {
    /// The end time before which closed conversations are purged at `now`, when
    /// transcripts are not kept forever.
    pub fn cutoff(&self, now: crate::clock::Millis) -> Option<crate::clock::Millis> {
        (self.transcript_days > 0).then(|| now - i64::from(self.transcript_days) * 86_400_000)
    }
}
