//! The retention purge: the transcripts of conversations closed more than
//! `retention.transcript_days` ago are removed ([`super::forget`], keeping wrap-ups),
//! a small batch of conversations per write transaction so that the messages of live
//! chats are never queued behind a long one. The conversation rows, their tasks and
//! the report aggregates stay: reports read the same, search still finds the
//! conversation (not by message text), its transcript is empty. Open conversations
//! are never purged. After the batches, the shared objects only the removed events
//! referred to are swept (`store::object_sweep`, in bounded writes too). Run daily by
//! the server ([`schedule`]) and by `switchboard purge`. The input journal is purged
//! before the last start or snapshot before its own cutoff
//! (`RetentionConfig::journal_cutoff`: `retention.journal_days`, 30 by default, and
//! never later than the transcripts'), in bounded writes too, even when transcripts
//! are kept forever.

use super::forget::{self, Keep};
use super::RetentionConfig;
use crate::clock::{now_ms, Millis};
use crate::store::{journal, object_sweep, Store, StoreResult};
use rusqlite::{params, Connection};
use serde::Serialize;
use std::time::Duration;

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Purged {
    pub conversations: u64,
    pub events: u64,
    /// Shared objects no row referred to any more, swept after the batches
    /// (`store::object_sweep`).
    pub objects: u64,
    /// Rows of the input journal removed: those before the last start or snapshot
    /// before the journal's cutoff (`store::journal::purge_before`).
    pub journal_rows: u64,
    /// The conversations purged (for data kept outside the database).
    #[serde(skip)]
    pub conversation_ids: Vec<String>,
}

impl Purged {
    fn add(&mut self, other: Purged) {
        self.conversations += other.conversations;
        self.events += other.events;
        self.conversation_ids.extend(other.conversation_ids);
    }
}

/// Journal rows removed per write transaction.
const JOURNAL_BATCH: u64 = 5_000;

/// Purges up to `limit` conversations closed before `cutoff`, oldest first, in the
/// caller's transaction; marks each purged at `now`.
pub fn batch(c: &Connection, cutoff: Millis, limit: usize, now: Millis) -> StoreResult<Purged> {
    let ids: Vec<String> = c
        .prepare_cached(
            "SELECT id FROM conversations
             WHERE state = 'CLOSED' AND purged_at IS NULL AND end_time < ?1
             ORDER BY end_time LIMIT ?2",
        )?
        .query_map(params![cutoff, limit as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut done = Purged {
        events: forget::transcripts(c, &ids, Keep::WrapUps)?,
        ..Purged::default()
    };
    for id in ids {
        c.prepare_cached("UPDATE conversations SET purged_at = ?2 WHERE id = ?1")?
            .execute(params![id, now])?;
        done.conversations += 1;
        done.conversation_ids.push(id);
    }
    Ok(done)
}

/// Logs the sweep of the purged conversations' attachment files; a failed one is
/// retried by the next purge (the files stay unnamed).
fn sweep_logged(result: Result<usize, crate::attachments::AttachmentError>) {
    match result {
        Ok(files) => tracing::info!(files, "attachment files of purged conversations removed"),
        Err(e) => tracing::error!(error = %e, "attachment files could not be removed"),
    }
}

/// Purges everything due at `now`, batch after batch, each its own write.
pub async fn run(store: &Store, cfg: &RetentionConfig, now: Millis) -> StoreResult<Purged> {
    let mut total = Purged::default();
    if let Some(cutoff) = cfg.journal_cutoff(now) {
        loop {
            let removed = store
                .write(move |c| journal::purge_before(c, cutoff, JOURNAL_BATCH))
                .await?;
            total.journal_rows += removed;
            if removed < JOURNAL_BATCH {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    let Some(cutoff) = cfg.cutoff(now) else {
        if total.journal_rows > 0 {
            total.objects = object_sweep::run(store).await?.deleted;
        }
        return Ok(total);
    };
    let limit = cfg.batch.max(1);
    loop {
        let done = store.write(move |c| batch(c, cutoff, limit, now)).await?;
        let last = (done.conversations as usize) < limit;
        total.add(done);
        if last {
            if total.conversations > 0 || total.journal_rows > 0 {
                sweep_logged(crate::attachments::sweep(store).await);
                total.objects = object_sweep::run(store).await?.deleted;
            }
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// [`run`] from a thread outside the async runtime (`switchboard purge`).
pub fn run_blocking(store: &Store, cfg: &RetentionConfig, now: Millis) -> StoreResult<Purged> {
    let mut total = Purged::default();
    if let Some(cutoff) = cfg.journal_cutoff(now) {
        loop {
            let removed =
                store.write_blocking(move |c| journal::purge_before(c, cutoff, JOURNAL_BATCH))?;
            total.journal_rows += removed;
            if removed < JOURNAL_BATCH {
                break;
            }
        }
    }
    let Some(cutoff) = cfg.cutoff(now) else {
        total.objects = object_sweep::run_blocking(store)?.deleted;
        return Ok(total);
    };
    let limit = cfg.batch.max(1);
    loop {
        let done = store.write_blocking(move |c| batch(c, cutoff, limit, now))?;
        let last = (done.conversations as usize) < limit;
        total.add(done);
        if last {
            if total.conversations > 0 {
                sweep_logged(crate::attachments::sweep_blocking(store));
            }
            // Always: the command also collects what purges before the sweep left.
            total.objects = object_sweep::run_blocking(store)?.deleted;
            return Ok(total);
        }
    }
}

/// The server's purge: a minute after start, then every `interval_secs`; none when
/// transcripts and the journal are kept forever.
pub fn schedule(store: Store, cfg: RetentionConfig) -> Option<tokio::task::JoinHandle<()>> {
    if !cfg.purges() {
        return None;
    }
    Some(tokio::spawn(async move {
        let period = Duration::from_secs(cfg.interval_secs);
        let first = tokio::time::Instant::now() + Duration::from_secs(60).min(period);
        let mut tick = tokio::time::interval_at(first, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run(&store, &cfg, now_ms()).await {
                Ok(done) => tracing::info!(
                    conversations = done.conversations,
                    events = done.events,
                    objects = done.objects,
                    journal_rows = done.journal_rows,
                    "retention purge done"
                ),
                Err(e) => tracing::error!(error = %e, "retention purge failed"),
            }
        }
    }))
}
