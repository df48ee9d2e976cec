//! Run-wide counters the client tasks bump and the coordinator watches (to print progress
//! and to know when every message has arrived), plus per-task error notes.

use crate::wire::origin;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Progress {
    pub sent: AtomicU64,
    pub acked: AtomicU64,
    pub received: AtomicU64,
    pub errors: AtomicU64,
    last_receipt_nanos: AtomicU64,
    last_send_nanos: AtomicU64,
}

impl Progress {
    pub fn sent(&self, at: Instant) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.last_send_nanos
            .fetch_max(nanos_since_origin(at), Ordering::Relaxed);
    }

    pub fn acked(&self) {
        self.acked.fetch_add(1, Ordering::Relaxed);
    }

    pub fn received(&self, at: Instant) {
        self.received.fetch_add(1, Ordering::Relaxed);
        self.last_receipt_nanos
            .fetch_max(nanos_since_origin(at), Ordering::Relaxed);
    }

    pub fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Counts {
        Counts {
            sent: self.sent.load(Ordering::Relaxed),
            acked: self.acked.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }

    /// When the latest receipt happened.
    pub fn last_receipt(&self) -> Instant {
        origin() + Duration::from_nanos(self.last_receipt_nanos.load(Ordering::Relaxed))
    }

    /// When the latest send happened.
    pub fn last_send(&self) -> Instant {
        origin() + Duration::from_nanos(self.last_send_nanos.load(Ordering::Relaxed))
    }
}

fn nanos_since_origin(at: Instant) -> u64 {
    at.saturating_duration_since(origin()).as_nanos() as u64
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub sent: u64,
    pub acked: u64,
    pub received: u64,
    pub errors: u64,
}

/// Errors one task saw: a count and the first few texts.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Errors {
    pub count: u64,
    pub samples: Vec<String>,
}

impl Errors {
    const KEPT: usize = 5;

    pub fn note(&mut self, progress: &Progress, what: impl Into<String>) {
        progress.error();
        self.count += 1;
        if self.samples.len() < Self::KEPT {
            self.samples.push(what.into());
        }
    }

    pub fn merge(&mut self, other: Errors) {
        self.count += other.count;
        for s in other.samples {
            if self.samples.len() < Self::KEPT {
                self.samples.push(s);
            }
        }
    }
}
