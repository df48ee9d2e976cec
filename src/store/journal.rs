//! The engine's input journal (`routing_journal`, migration V21): one row per
//! input the routing core or the conversation core handled, appended in the transaction that commits the
//! input's effects, read back in order by `switchboard replay`.
//!
//! A row keeps the input's `now`, the input serde-encoded and packed
//! ([`objects::pack_row`]: its shape is shared in `cim_objects`, its conversation id
//! and times near `now` stand as markers), the digest of its effects and a brief line
//! of them (a compact BLOB since issue 15, `journal_brief`; a TEXT before). A *start*
//! row opens each run of the core (the routing configuration it was
//! made with); the *restore* rows after it are the inputs that rebuilt it from the
//! store. A replay begins at a start. The retention purge removes whole runs that
//! ended before its cutoff ([`purge_before`]), so every run left still begins at its
//! start.

use super::journal_brief;
use super::objects::{self, Inflater, Interner};
use super::packed::RowContext;
use super::{StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection};
use serde_json::Value;

/// What a journal row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The core was made: `input` is its routing configuration.
    Start,
    /// An input rebuilding the core from the store after a start.
    Restore,
    /// An input of the running core.
    Input,
    /// The running core's state (`RoutingCore::state_snapshot`), taken daily: a
    /// replay may begin here instead of at the run's start.
    Snapshot,
    /// The conversation core's settings and state (`journal::ConversationState`):
    /// after each start's restore and after each snapshot.
    ConversationState,
    /// An input of the conversation core (`journal::conversation`) whose row holds
    /// ids and references only (a message stored, a session journaled before, an
    /// agent's join, a timer).
    ConversationInput,
    /// An input of the conversation core whose row may hold a customer's values (a
    /// channel session, a task carrying one, a message not stored, a flow's answer):
    /// indexed by conversation (migration V33) for an erasure to scrub.
    ConversationPersonal,
    /// An input of the whole site (`site::SiteInput`: a routing or conversation input
    /// from outside, a desk's accept, join or leave, a tick) with the digest of every
    /// effect of its step, both cores' and the bridge's; what one core asked of the
    /// other within the step is recomputed, not journaled. Its row holds ids and
    /// references only.
    SiteInput,
    /// A site input whose row may hold a customer's values (as
    /// `ConversationPersonal`, which it is indexed and scrubbed as: migration V35).
    /// A routing restore input of a start is a site row too (`{"Restore": input}`:
    /// handled through the site, its effects reach the conversations), personal when
    /// it carries a task's session and metadata.
    SitePersonal,
}

impl Kind {
    /// A row whose input shares the objects the stored events hold (written with
    /// `Interner::compact_row`): the conversation core's and the site's.
    pub fn shares_objects(self) -> bool {
        matches!(
            self,
            Kind::ConversationState
                | Kind::ConversationInput
                | Kind::ConversationPersonal
                | Kind::SiteInput
                | Kind::SitePersonal
        )
    }
}

impl Kind {
    fn code(self) -> i64 {
        match self {
            Kind::Start => 0,
            Kind::Restore => 1,
            Kind::Input => 2,
            Kind::Snapshot => 3,
            Kind::ConversationState => 4,
            Kind::ConversationInput => 5,
            Kind::ConversationPersonal => 6,
            Kind::SiteInput => 7,
            Kind::SitePersonal => 8,
        }
    }

    fn of(code: i64) -> StoreResult<Kind> {
        match code {
            0 => Ok(Kind::Start),
            1 => Ok(Kind::Restore),
            2 => Ok(Kind::Input),
            3 => Ok(Kind::Snapshot),
            4 => Ok(Kind::ConversationState),
            5 => Ok(Kind::ConversationInput),
            6 => Ok(Kind::ConversationPersonal),
            7 => Ok(Kind::SiteInput),
            8 => Ok(Kind::SitePersonal),
            other => Err(StoreError::Corrupt(format!(
                "routing_journal.kind {other} is unknown"
            ))),
        }
    }
}

/// One journal row, as written and as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub kind: Kind,
    pub at: Millis,
    /// The conversation the input names, if any.
    pub conversation_id: Option<String>,
    /// The input (or, for a start, the routing configuration) as JSON.
    pub input: Value,
    pub digest: u64,
    /// The effects in brief.
    pub effects: String,
}

const WHAT: &str = "routing_journal.input";

fn row_context(entry_conv: Option<&str>, at: Millis) -> RowContext<'_> {
    RowContext {
        conversation_id: entry_conv,
        message_id: None,
        base_ms: Some(at),
        event_id: None,
    }
}

/// The digest a row keeps of its effects' 64-bit `digest`: folded to 32 bits, which
/// SQLite stores in 4 bytes where the whole takes 8 (rows written before keep it
/// whole; a digest that fits already is kept as it is). A divergence goes unnoticed
/// at one row with odds of 2^-32, and one that changes what follows shows at the rows
/// after it.
pub fn kept_digest(digest: u64) -> u64 {
    if i32::try_from(digest as i64).is_ok() {
        return digest;
    }
    ((digest ^ (digest >> 32)) as u32 as i32) as i64 as u64
}

/// Whether `kept`, a digest read back from a row, is that of effects whose digest is
/// `recomputed`.
pub fn digest_matches(kept: u64, recomputed: u64) -> bool {
    kept == recomputed || kept == kept_digest(recomputed)
}

/// Appends `entry` in the caller's transaction.
pub fn append(conn: &Connection, interner: &mut Interner, entry: &Entry) -> StoreResult<()> {
    let conv_id = entry.conversation_id.as_deref();
    let row = row_context(conv_id, entry.at);
    let text = match entry.kind {
        // A conversation input carries the objects its stored events carry (a channel,
        // a customer, a task): they are stored once and referred to.
        kind if kind.shares_objects() => interner.compact_row(conn, entry.input.clone(), &row)?,
        _ => {
            let packed = objects::pack_row(entry.input.clone(), &row);
            format!("{}{}", objects::PACKED_TAG, interner.intern(conn, &packed)?)
        }
    };
    let conv = match conv_id {
        Some(id) => Some(interner.conversation_key(conn, id)?),
        None => None,
    };
    conn.prepare_cached(
        "INSERT INTO routing_journal(at, kind, conv, input, digest, effects)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        entry.at,
        entry.kind.code(),
        conv,
        text,
        kept_digest(entry.digest) as i64,
        brief_column(&entry.effects)
    ])?;
    Ok(())
}

/// What `effects` holds for a brief: its compact form (`journal_brief`), or the
/// empty text.
fn brief_column(brief: &str) -> rusqlite::types::Value {
    match brief.is_empty() {
        true => rusqlite::types::Value::Text(String::new()),
        false => rusqlite::types::Value::Blob(journal_brief::encode(brief)),
    }
}

/// A brief as `effects` holds it: compact (a BLOB) or a text written before.
fn read_brief(value: rusqlite::types::ValueRef<'_>) -> StoreResult<String> {
    match value {
        rusqlite::types::ValueRef::Blob(code) => journal_brief::decode(code),
        other => Ok(other.as_str().map_err(rusqlite::Error::from)?.to_owned()),
    }
}

/// The position of the row a replay of `[from, ...)` begins at: the last start or
/// snapshot at or before `from`, else the first of them (None: the journal has none).
pub fn start_for(conn: &Connection, from: Option<Millis>) -> StoreResult<Option<i64>> {
    use rusqlite::OptionalExtension;
    let before: Option<i64> = match from {
        Some(from) => conn
            .prepare_cached(
                "SELECT pos FROM routing_journal WHERE kind IN (0, 3) AND at <= ?1
                 ORDER BY at DESC, pos DESC LIMIT 1",
            )?
            .query_row([from], |r| r.get(0))
            .optional()?,
        None => None,
    };
    match before {
        Some(pos) => Ok(Some(pos)),
        None => Ok(conn
            .prepare_cached("SELECT min(pos) FROM routing_journal WHERE kind IN (0, 3)")?
            .query_row([], |r| r.get(0))?),
    }
}

/// Calls `f` with each row from position `start` on, in order, while its time is
/// before `to`; stops early when `f` answers false.
pub fn for_each(
    conn: &Connection,
    start: i64,
    to: Option<Millis>,
    mut f: impl FnMut(i64, Entry) -> StoreResult<bool>,
) -> StoreResult<()> {
    let mut inflater = Inflater::new(conn);
    let mut st = conn.prepare_cached(
        "SELECT j.pos, j.at, j.kind, k.id, j.input, j.digest, j.effects
         FROM routing_journal j LEFT JOIN conversation_keys k ON k.key = j.conv
         WHERE j.pos >= ?1 AND j.at < ?2 ORDER BY j.pos",
    )?;
    let mut rows = st.query(params![start, to.unwrap_or(Millis::MAX)])?;
    while let Some(r) = rows.next()? {
        let pos: i64 = r.get(0)?;
        let at: Millis = r.get(1)?;
        let conversation_id: Option<String> = r.get(3)?;
        let text = r.get_ref(4)?.as_str().map_err(rusqlite::Error::from)?;
        let input =
            inflater.decode_row(text, &row_context(conversation_id.as_deref(), at), WHAT)?;
        let entry = Entry {
            kind: Kind::of(r.get(2)?)?,
            at,
            conversation_id,
            input,
            digest: r.get::<_, i64>(5)? as u64,
            effects: read_brief(r.get_ref(6)?)?,
        };
        if !f(pos, entry)? {
            break;
        }
    }
    Ok(())
}

/// Removes up to `limit` rows no replay from `cutoff` on needs (the rows before the
/// last start or snapshot at or before it), oldest first, in the caller's
/// transaction; returns the rows removed.
pub fn purge_before(conn: &Connection, cutoff: Millis, limit: u64) -> StoreResult<u64> {
    let removed = conn
        .prepare_cached(
            "DELETE FROM routing_journal WHERE pos IN
                 (SELECT pos FROM routing_journal WHERE pos <
                      (SELECT pos FROM routing_journal WHERE kind IN (0, 3) AND at <= ?1
                       ORDER BY at DESC, pos DESC LIMIT 1)
                  ORDER BY pos LIMIT ?2)",
        )?
        .execute(params![cutoff, limit as i64])?;
    Ok(removed as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(kind: Kind, at: Millis, conv: Option<&str>, input: Value) -> Entry {
        Entry {
            kind,
            at,
            conversation_id: conv.map(str::to_string),
            input,
            // As a row keeps it (`kept_digest`), so it reads back as written.
            digest: kept_digest(u64::MAX - (at as u64).wrapping_mul(0x1_0000_0001)),
            effects: format!("effects at {at}"),
        }
    }

    #[test]
    fn a_row_keeps_a_digest_in_32_bits_and_rows_that_kept_64_still_match() {
        let conn = crate::store::test_connection();
        let whole = 0x9e37_79b9_7f4a_7c15_u64;
        let kept = kept_digest(whole);
        assert_eq!(kept_digest(kept), kept, "kept as it is");
        let mut e = entry(Kind::Input, 1_765_000_000_000, None, json!("Tick"));
        e.digest = whole;
        append(&conn, &mut Interner::default(), &e).unwrap();
        // An integer in i32's range takes SQLite at most 4 bytes.
        let stored: i64 = conn
            .query_row("SELECT digest FROM routing_journal", [], |r| r.get(0))
            .unwrap();
        assert!(i32::try_from(stored).is_ok(), "{stored}");
        assert!(digest_matches(stored as u64, whole));
        assert!(!digest_matches(stored as u64, whole ^ 1));
        // A row written before kept the whole digest.
        assert!(digest_matches(whole, whole));
        assert!(!digest_matches(whole, whole ^ 1));
    }

    fn all(conn: &Connection, from: Option<Millis>, to: Option<Millis>) -> Vec<Entry> {
        let mut out = Vec::new();
        if let Some(start) = start_for(conn, from).unwrap() {
            for_each(conn, start, to, |_, e| {
                out.push(e);
                Ok(true)
            })
            .unwrap();
        }
        out
    }

    #[test]
    fn entries_read_back_as_written_from_the_start_before_from() {
        let conn = crate::store::test_connection();
        let at = 1_765_000_000_000;
        let written = vec![
            entry(Kind::Start, at, None, json!({"acceptTimeoutMs": 30000})),
            entry(
                Kind::Restore,
                at,
                Some("conv-1"),
                json!({"RestoreTask": {"conversation_id": "conv-1", "enqueue": at - 5}}),
            ),
            entry(Kind::Input, at + 10, None, json!("Tick")),
            entry(
                Kind::Start,
                at + 100,
                None,
                json!({"acceptTimeoutMs": 20000}),
            ),
            entry(
                Kind::Input,
                at + 200,
                Some("conv-2"),
                json!({"EnqueueTask": {"conversation_id": "conv-2", "x": [1, null]}}),
            ),
        ];
        let mut interner = Interner::default();
        for e in &written {
            append(&conn, &mut interner, e).unwrap();
        }
        assert_eq!(all(&conn, None, None), written);
        // From inside the second run: it begins at the second start.
        assert_eq!(all(&conn, Some(at + 150), None), written[3..]);
        // Before every start: the first.
        assert_eq!(all(&conn, Some(at - 1), Some(at + 100)), written[..3]);
        // The conversation id is a marker, not stored twice.
        let text: String = conn
            .query_row(
                "SELECT input FROM routing_journal WHERE kind = 2 AND conv IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!text.contains("conv-2"), "{text}");

        // The purge removes the first run only.
        assert_eq!(purge_before(&conn, at + 150, 2).unwrap(), 2);
        assert_eq!(purge_before(&conn, at + 150, 2).unwrap(), 1);
        assert_eq!(all(&conn, None, None), written[3..]);
        assert_eq!(purge_before(&conn, at + 150, 2).unwrap(), 0);
        assert_eq!(purge_before(&conn, at - 1, 2).unwrap(), 0);
    }

    #[test]
    fn a_replay_and_the_purge_begin_at_the_last_snapshot_found_by_index() {
        let conn = crate::store::test_connection();
        let at = 1_765_000_000_000;
        let written = vec![
            entry(Kind::Start, at, None, json!({"acceptTimeoutMs": 30000})),
            entry(Kind::Input, at + 10, None, json!("Tick")),
            entry(
                Kind::Snapshot,
                at + 100,
                None,
                json!({"tasks": {"items": []}}),
            ),
            entry(Kind::Input, at + 110, None, json!("Tick")),
        ];
        let mut interner = Interner::default();
        for e in &written {
            append(&conn, &mut interner, e).unwrap();
        }
        assert_eq!(all(&conn, Some(at + 150), None), written[2..]);
        assert_eq!(all(&conn, Some(at + 50), None), written);
        // `--from` finds its snapshot by index. (The first start or snapshot is read in
        // rowid order and is the first row: the purge keeps from one.)
        let plan: Vec<String> = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT pos FROM routing_journal
                 WHERE kind IN (0, 3) AND at <= 1 ORDER BY at DESC, pos DESC LIMIT 1",
            )
            .unwrap()
            .query_map([], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter().any(|p| p.contains("routing_journal_starts")),
            "{plan:?}"
        );
        // A server that never restarts: the purge stops at the snapshot.
        assert_eq!(purge_before(&conn, at + 150, 10).unwrap(), 2);
        assert_eq!(all(&conn, None, Some(at + 105)), written[2..3]);
    }

    #[test]
    fn an_empty_journal_has_no_start() {
        let conn = crate::store::test_connection();
        assert_eq!(start_for(&conn, Some(5)).unwrap(), None);
        assert_eq!(purge_before(&conn, 5, 10).unwrap(), 0);
    }
}
