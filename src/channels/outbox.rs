//! The outbound webhook worker: delivers the `outbox` rows the engine driver
//! writes (in the same transaction as the event) to a channel's `providerWebhook`.
//!
//! Each due row's payload (the CIM event) is POSTed as JSON with the headers
//! `Idempotency-Key: <message id>` and `X-Switchboard-Delivery: <row id>`. A 2xx answer
//! marks it DELIVERED; anything else (refused connection, timeout, other status) is a
//! failed attempt, retried after an exponential backoff with jitter, and dead-lettered
//! after `outbox.max_attempts`. Delivery is at least once: a crash between the
//! receiver's 2xx and the commit of DELIVERED sends the row again after a restart,
//! which the idempotency key lets the receiver recognise.
//!
//! The worker sleeps until the next retry falls due or it is woken ([`OutboxWake`]:
//! new rows committed, a dead row put back by the API); it never polls. On start it
//! picks up whatever is PENDING in the database.

use crate::clock::{now_ms, Millis};
use crate::config::OutboxSettings;
use crate::health::{Health, RunningGuard};
use crate::store::outbox::{self, OutboxEntry};
use crate::store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// Longest error text kept on a row.
const MAX_ERROR_LEN: usize = 500;
/// How long the worker waits before reading again after the store failed a read.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// Wakes the outbox worker: new rows were committed or a dead row was put back.
/// A wake while the worker is busy is remembered, never lost.
#[derive(Clone, Default)]
pub struct OutboxWake(Arc<Notify>);

impl OutboxWake {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// The underlying notify, for deliverers that only know `Notify`.
    pub fn notify(&self) -> Arc<Notify> {
        self.0.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// The delay before the next attempt after `failures` failed ones (1-based):
/// `initial · 2^(failures-1)` capped at `max`, of which the upper half is scaled by
/// `jitter` (0..=1) so that receivers coming back are not hit by every sender at once.
pub fn backoff_ms(settings: &OutboxSettings, failures: u32, jitter: f64) -> u64 {
    let exponent = failures.saturating_sub(1);
    let factor = 2u64.checked_pow(exponent).unwrap_or(u64::MAX);
    let full = settings
        .initial_backoff_ms
        .saturating_mul(factor)
        .min(settings.max_backoff_ms)
        .max(1);
    let fixed = full / 2;
    let spread = (full - fixed) as f64 * jitter.clamp(0.0, 1.0);
    fixed + spread.round() as u64
}

/// The worker; [`OutboxWorker::run`] is its task.
pub struct OutboxWorker {
    store: Store,
    settings: OutboxSettings,
    client: reqwest::Client,
    wake: OutboxWake,
}

impl OutboxWorker {
    pub fn new(
        store: Store,
        settings: OutboxSettings,
        wake: OutboxWake,
    ) -> Result<Self, OutboxError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.request_timeout_ms))
            .connect_timeout(Duration::from_millis(settings.request_timeout_ms))
            // A webhook answers for itself: a redirect is a misconfiguration, not a delivery.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OutboxWorker {
            store,
            settings,
            client,
            wake,
        })
    }

    /// Delivers until the store closes (or the task is aborted; rows in flight then stay
    /// PENDING and are sent again by the next start).
    pub async fn run(self, health: Health) {
        let _running = RunningGuard::new(&health, "outbox");
        let capacity = self.settings.concurrency.max(1);
        let mut in_flight: JoinSet<()> = JoinSet::new();
        let mut rows: HashMap<tokio::task::Id, i64> = HashMap::new();
        loop {
            let now = now_ms();
            let wait = match self
                .dispatch(now, capacity, &mut in_flight, &mut rows)
                .await
            {
                Ok(Some(deadline)) => Some(Duration::from_millis(
                    u64::try_from(deadline - now_ms()).unwrap_or(0),
                )),
                Ok(None) => None,
                Err(StoreError::Closed) => {
                    tracing::info!("outbox: store closed, worker stops");
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "outbox: cannot read pending deliveries");
                    Some(STORE_RETRY)
                }
            };
            tokio::select! {
                _ = self.wake.0.notified() => {}
                Some(done) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                    finished(&mut rows, done);
                }
                _ = sleep_for(wait) => {}
            }
            while let Some(done) = in_flight.try_join_next_with_id() {
                finished(&mut rows, done);
            }
        }
    }

    /// Starts every due delivery that fits; returns when to look again if nothing
    /// else wakes the worker (None: only a wake or a finished delivery will).
    async fn dispatch(
        &self,
        now: Millis,
        capacity: usize,
        in_flight: &mut JoinSet<()>,
        rows: &mut HashMap<tokio::task::Id, i64>,
    ) -> Result<Option<Millis>, StoreError> {
        if rows.len() >= capacity {
            return Ok(None);
        }
        // Rows in flight are still PENDING and due: read enough to see past them.
        let limit = capacity + rows.len();
        let (due, next) = self
            .store
            .read(move |c| Ok((outbox::due(c, now, limit)?, outbox::next_due_after(c, now)?)))
            .await?;
        for row in due {
            if rows.len() >= capacity {
                // Full: a finished delivery wakes the worker to take the rest.
                return Ok(None);
            }
            if rows.values().any(|id| *id == row.id) {
                continue;
            }
            let id = row.id;
            let attempt = Attempt {
                store: self.store.clone(),
                client: self.client.clone(),
                settings: self.settings.clone(),
                row,
            };
            let handle = in_flight.spawn(attempt.run());
            rows.insert(handle.id(), id);
        }
        Ok(next)
    }
}

fn finished(
    rows: &mut HashMap<tokio::task::Id, i64>,
    done: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
) {
    let task = match done {
        Ok((task, ())) => task,
        Err(e) => {
            tracing::error!(error = %e, "outbox: a delivery task failed; the row stays pending");
            e.id()
        }
    };
    rows.remove(&task);
}

async fn sleep_for(wait: Option<Duration>) {
    match wait {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// One delivery attempt of one row, and the record of its outcome.
struct Attempt {
    store: Store,
    client: reqwest::Client,
    settings: OutboxSettings,
    row: OutboxEntry,
}

impl Attempt {
    async fn run(self) {
        let outcome = self.post().await;
        let id = self.row.id;
        let now = now_ms();
        let recorded = match outcome {
            Ok(()) => {
                tracing::debug!(id, url = %self.row.url, "outbox: delivered");
                self.store
                    .write(move |c| outbox::mark_delivered(c, id, now))
                    .await
            }
            Err(reason) => {
                let failures = self.row.attempts.saturating_add(1);
                let dead = failures >= self.settings.max_attempts;
                let delay = backoff_ms(&self.settings, failures, rand::random::<f64>());
                let next = now.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
                if dead {
                    tracing::warn!(id, url = %self.row.url, attempts = failures, error = %reason,
                        "outbox: delivery dead-lettered");
                } else {
                    tracing::info!(id, url = %self.row.url, attempts = failures, error = %reason,
                        retry_in_ms = delay, "outbox: delivery failed, will retry");
                }
                self.store
                    .write(move |c| outbox::mark_failed(c, id, &reason, next, dead))
                    .await
            }
        };
        if let Err(e) = recorded {
            tracing::error!(id, error = %e, "outbox: cannot record a delivery attempt");
        }
    }

    /// POSTs the payload; Err names why the attempt failed.
    async fn post(&self) -> Result<(), String> {
        let response = self
            .client
            .post(&self.row.url)
            .header("Idempotency-Key", &self.row.message_id)
            .header("X-Switchboard-Delivery", self.row.id.to_string())
            .json(&self.row.payload)
            .send()
            .await
            .map_err(|e| truncate(error_chain(&e)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(truncate(format!("HTTP {status}")))
        }
    }
}

/// An error with its causes ("error sending request: ... : Connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(initial: u64, max: u64) -> OutboxSettings {
        OutboxSettings {
            initial_backoff_ms: initial,
            max_backoff_ms: max,
            ..OutboxSettings::default()
        }
    }

    #[test]
    fn backoff_doubles_from_the_initial_delay_up_to_the_cap() {
        let s = settings(500, 10_000);
        let full: Vec<u64> = (1..=8).map(|n| backoff_ms(&s, n, 1.0)).collect();
        assert_eq!(
            full,
            vec![500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]
        );
        assert_eq!(backoff_ms(&s, u32::MAX, 1.0), 10_000, "no overflow");
    }

    #[test]
    fn jitter_spreads_over_the_upper_half() {
        let s = settings(1000, 60_000);
        assert_eq!(backoff_ms(&s, 1, 0.0), 500);
        assert_eq!(backoff_ms(&s, 1, 0.5), 750);
        assert_eq!(backoff_ms(&s, 3, 0.0), 2000);
        assert_eq!(backoff_ms(&s, 3, 7.0), 4000, "jitter is clamped");
        assert!(backoff_ms(&settings(0, 0), 1, 0.0) <= 1);
    }

    #[test]
    fn errors_keep_their_causes_and_are_bounded() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(error_chain(&io).contains("refused"));
        let long = "é".repeat(MAX_ERROR_LEN);
        let cut = truncate(long);
        assert!(cut.len() <= MAX_ERROR_LEN);
    }
}
