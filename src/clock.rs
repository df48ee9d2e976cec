//! Wall-clock access for drivers. Cores never read the clock; drivers pass `now` in.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, the unit every timestamp in the CIM uses.
pub type Millis = i64;

/// The current wall-clock time in epoch milliseconds.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}
