//! Customer ratings (CSAT, `csat` table of migration V8) for the interval reports:
//! each rating counted in the interval it was given, for the queue of the task that
//! was last answered in its conversation, the conversation's channel, and every agent
//! who answered a task in it (and each such agent's team, once).

use rusqlite::{params, Connection};

use super::read::Kind;
use crate::clock::Millis;
use crate::store::StoreResult;

/// The ratings of a period: count and sum (the average is sum ÷ count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Csat {
    pub count: u64,
    pub sum: i64,
}

impl Csat {
    pub fn add(&mut self, rating: i64) {
        self.count += 1;
        self.sum += rating;
    }

    pub fn merge(&mut self, other: &Csat) {
        self.count += other.count;
        self.sum += other.sum;
    }

    /// The mean rating, when there is one.
    pub fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }
}

/// Per queue: the queue of the conversation's last answered task.
const BY_QUEUE: &str = "SELECT r.submitted_at, (SELECT m.queue_id FROM tasks t
         JOIN task_media m ON m.task_id = t.id
         WHERE t.conversation_id = r.conversation_id AND m.answer_time > 0
         ORDER BY m.answer_time DESC LIMIT 1) AS key, r.rating
     FROM csat r WHERE r.submitted_at >= ?1 AND r.submitted_at < ?2 AND key IS NOT NULL";

/// Per channel: the conversation's first channel session's.
const BY_CHANNEL: &str = "SELECT r.submitted_at, (SELECT s.channel_id FROM channel_sessions s
         WHERE s.conversation_id = r.conversation_id ORDER BY s.started_at, s.id LIMIT 1) AS key,
         r.rating
     FROM csat r WHERE r.submitted_at >= ?1 AND r.submitted_at < ?2 AND key IS NOT NULL";

/// Per agent: each agent who answered a task of the conversation, once.
const BY_AGENT: &str = "SELECT DISTINCT r.submitted_at, t.agent_id, r.rating, r.conversation_id
     FROM csat r JOIN tasks t ON t.conversation_id = r.conversation_id
     JOIN task_media m ON m.task_id = t.id
     WHERE r.submitted_at >= ?1 AND r.submitted_at < ?2 AND m.answer_time > 0
       AND t.agent_id IS NOT NULL";

/// Per team: the team of each such agent, once.
const BY_TEAM: &str = "SELECT DISTINCT r.submitted_at, u.team_id, r.rating, r.conversation_id
     FROM csat r JOIN tasks t ON t.conversation_id = r.conversation_id
     JOIN task_media m ON m.task_id = t.id JOIN users u ON u.id = t.agent_id
     WHERE r.submitted_at >= ?1 AND r.submitted_at < ?2 AND m.answer_time > 0
       AND u.team_id IS NOT NULL";

/// (given at, entity id, rating) of the ratings given in `start..end` for `kind`.
pub fn ratings(
    c: &Connection,
    kind: Kind,
    start: Millis,
    end: Millis,
) -> StoreResult<Vec<(Millis, String, i64)>> {
    let sql = match kind {
        Kind::Queues => BY_QUEUE,
        Kind::Channels => BY_CHANNEL,
        Kind::Agents => BY_AGENT,
        Kind::Teams => BY_TEAM,
    };
    let mut st = c.prepare_cached(sql)?;
    let rows = st
        .query_map(params![start, end], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_is_the_mean_of_the_ratings() {
        let mut a = Csat::default();
        assert_eq!(a.average(), None);
        a.add(4);
        a.add(5);
        let mut b = Csat::default();
        b.add(3);
        a.merge(&b);
        assert_eq!((a.count, a.sum), (3, 12));
        assert_eq!(a.average(), Some(4.0));
    }
}
