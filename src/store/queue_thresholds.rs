//! Per-queue limits that turn a queue's row amber or red on the supervisor console
//! (`docs/metrics.md`, "Thresholds"): one row per queue that has any.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use super::StoreResult;
use crate::clock::Millis;

/// Per-queue limits that turn a queue's row amber or red (`None`: never).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Thresholds {
    pub longest_wait_amber_secs: Option<u32>,
    pub longest_wait_red_secs: Option<u32>,
    pub service_level_amber_pct: Option<u8>,
    pub service_level_red_pct: Option<u8>,
}

impl Thresholds {
    /// `red`, `amber` or `ok` for this longest wait and service level.
    pub fn status(
        &self,
        longest_wait_ms: Option<Millis>,
        service_level: Option<f64>,
    ) -> &'static str {
        let wait_secs = longest_wait_ms.map(|ms| ms / 1000);
        let over = |limit: Option<u32>| matches!((limit, wait_secs), (Some(l), Some(w)) if w >= i64::from(l));
        let under = |limit: Option<u8>| matches!((limit, service_level), (Some(l), Some(sl)) if sl < f64::from(l));
        if over(self.longest_wait_red_secs) || under(self.service_level_red_pct) {
            "red"
        } else if over(self.longest_wait_amber_secs) || under(self.service_level_amber_pct) {
            "amber"
        } else {
            "ok"
        }
    }
}

/// Every queue's limits, by queue id.
pub fn all(conn: &Connection) -> StoreResult<HashMap<String, Thresholds>> {
    let mut st = conn.prepare_cached(
        "SELECT queue_id, longest_wait_amber_secs, longest_wait_red_secs,
                service_level_amber_pct, service_level_red_pct FROM queue_thresholds",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Thresholds {
                    longest_wait_amber_secs: r.get(1)?,
                    longest_wait_red_secs: r.get(2)?,
                    service_level_amber_pct: r.get(3)?,
                    service_level_red_pct: r.get(4)?,
                },
            ))
        })?
        .collect::<Result<HashMap<_, _>, _>>()?;
    Ok(rows)
}

/// Sets one queue's limits (all of them; `None` clears one). False when the queue
/// does not exist.
pub fn set(conn: &Connection, queue_id: &str, t: &Thresholds) -> StoreResult<bool> {
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM queues WHERE id = ?1)")?
        .query_row([queue_id], |r| r.get(0))?;
    if !exists {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO queue_thresholds(queue_id, longest_wait_amber_secs, longest_wait_red_secs,
                                      service_level_amber_pct, service_level_red_pct)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(queue_id) DO UPDATE SET
             longest_wait_amber_secs = excluded.longest_wait_amber_secs,
             longest_wait_red_secs = excluded.longest_wait_red_secs,
             service_level_amber_pct = excluded.service_level_amber_pct,
             service_level_red_pct = excluded.service_level_red_pct",
    )?
    .execute(params![
        queue_id,
        t.longest_wait_amber_secs,
        t.longest_wait_red_secs,
        t.service_level_amber_pct,
        t.service_level_red_pct
    ])?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_turn_amber_then_red() {
        let t = Thresholds {
            longest_wait_amber_secs: Some(30),
            longest_wait_red_secs: Some(60),
            service_level_amber_pct: Some(80),
            service_level_red_pct: Some(60),
        };
        assert_eq!(t.status(Some(29_999), Some(90.0)), "ok");
        assert_eq!(t.status(Some(30_000), Some(90.0)), "amber");
        assert_eq!(t.status(Some(60_000), None), "red");
        assert_eq!(t.status(None, Some(79.9)), "amber");
        assert_eq!(t.status(None, Some(59.0)), "red");
        assert_eq!(
            Thresholds::default().status(Some(1_000_000), Some(0.0)),
            "ok"
        );
    }
}
