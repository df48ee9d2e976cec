//! What the power-cut harness was told is stored, and the audit of a rebooted
//! appliance against it: every acknowledged message present exactly once at the
//! acknowledged place, contiguous sequence numbers, and the conversations, tasks,
//! timers and outbox rows that acknowledgements imply, on a database whose
//! `PRAGMA integrity_check` is ok.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use switchboard::store::{Store, StoreError};

/// One acknowledged message.
#[derive(Debug, Clone)]
pub struct AckedMessage {
    /// The client's message id (customer messages) or CIM event id (agent messages).
    pub id: String,
    pub conversation_id: String,
    /// The acknowledged sequence number, when the ack carries one.
    pub seq: Option<i64>,
    /// An agent reply on a webhook channel: an outbox row must carry it.
    pub outbound: bool,
}

/// Everything acknowledged since the chain of boots began on an empty disk.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    pub messages: Vec<AckedMessage>,
    /// Conversations whose start was acknowledged.
    pub conversations: BTreeSet<String>,
    /// Conversations whose task a desk was offered (published only after commit).
    pub tasks: BTreeSet<String>,
}

/// The audit's findings for one boot.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Findings {
    pub acknowledged: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// Conversations with a gap in their sequence numbers.
    pub gaps: u64,
    /// Acknowledged conversations, offered tasks, timers or outbox rows missing.
    pub missing_state: u64,
    pub integrity: String,
    /// The first few problems, for the report.
    pub notes: Vec<String>,
    /// Ids of the messages lost (dropped from the ledger so each counts once).
    #[serde(skip)]
    pub lost_ids: Vec<String>,
    /// Ids of acknowledged conversations missing (likewise dropped).
    #[serde(skip)]
    pub lost_conversations: Vec<String>,
}

impl Findings {
    fn note(&mut self, what: String) {
        if self.notes.len() < 8 {
            self.notes.push(what);
        }
    }
}

/// Audits the rebooted appliance's store against `ledger`.
pub async fn audit(store: &Store, ledger: &Ledger) -> Result<Findings, StoreError> {
    let ledger = ledger.clone();
    store.read(move |c| Ok(audit_on(c, &ledger)?)).await
}

fn audit_on(c: &Connection, ledger: &Ledger) -> rusqlite::Result<Findings> {
    let mut f = Findings {
        acknowledged: ledger.messages.len() as u64,
        integrity: c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?,
        ..Findings::default()
    };
    let mut by_id = c.prepare_cached(
        "SELECT conversation_id, seq FROM cim_events WHERE message_id = ?1 OR id = ?1",
    )?;
    let mut outbox = c.prepare_cached("SELECT COUNT(*) FROM outbox WHERE payload LIKE ?1")?;
    for m in &ledger.messages {
        let rows = by_id
            .query_map([&m.id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let at_place = rows
            .iter()
            .filter(|(conv, seq)| *conv == m.conversation_id && m.seq.is_none_or(|s| s == *seq))
            .count();
        if at_place == 0 {
            f.lost += 1;
            f.lost_ids.push(m.id.clone());
            f.note(format!(
                "lost: {} in {} at {:?} (found {rows:?})",
                m.id, m.conversation_id, m.seq
            ));
        } else if rows.len() > 1 {
            f.duplicated += 1;
            f.note(format!("duplicated: {} ({rows:?})", m.id));
        }
        if m.outbound {
            let n: i64 = outbox.query_row([format!("%{}%", m.id)], |r| r.get(0))?;
            if n == 0 {
                f.missing_state += 1;
                f.note(format!("no outbox row for {}", m.id));
            }
        }
    }
    let conversations: BTreeSet<&String> = ledger
        .conversations
        .iter()
        .chain(ledger.messages.iter().map(|m| &m.conversation_id))
        .collect();
    for id in conversations {
        check_conversation(c, id, ledger.tasks.contains(id), &mut f)?;
    }
    Ok(f)
}

/// The conversation, its timers and (if one was offered) its task are back, and its
/// events are numbered without a gap.
fn check_conversation(
    c: &Connection,
    id: &str,
    offered: bool,
    f: &mut Findings,
) -> rusqlite::Result<()> {
    let timers: Option<String> = c
        .query_row(
            "SELECT timers FROM conversations WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let runtime: Option<String> = c
        .query_row(
            "SELECT timers FROM conversation_runtime WHERE conversation_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    match (timers, runtime) {
        (None, _) => {
            f.missing_state += 1;
            f.lost_conversations.push(id.to_string());
            f.note(format!("conversation {id} missing"));
        }
        (Some(t), r) if r.as_deref().unwrap_or(&t).is_empty() => {
            f.missing_state += 1;
            f.note(format!("conversation {id} has no timers"));
        }
        _ => {}
    }
    if offered {
        let tasks: i64 = c.query_row(
            "SELECT COUNT(*) FROM tasks WHERE conversation_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        if tasks == 0 {
            f.missing_state += 1;
            f.note(format!("the task offered for {id} is missing"));
        }
    }
    let mut seqs =
        c.prepare_cached("SELECT seq FROM cim_events WHERE conversation_id = ?1 ORDER BY seq")?;
    let seqs = seqs
        .query_map([id], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if let Some(w) = seqs.windows(2).find(|w| w[1] != w[0] + 1) {
        f.gaps += 1;
        f.note(format!("conversation {id}: seq {} follows {}", w[1], w[0]));
    }
    Ok(())
}

impl Ledger {
    /// Forgets what an audit found lost, so a loss is counted once.
    pub fn forget_lost(&mut self, f: &Findings) {
        self.messages.retain(|m| !f.lost_ids.contains(&m.id));
        for id in &f.lost_conversations {
            self.conversations.remove(id);
            self.tasks.remove(id);
        }
    }
}

/// Totals over a run.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Totals {
    pub cuts: u64,
    /// Distinct messages acknowledged over the run.
    pub acknowledged: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub gaps: u64,
    pub missing_state: u64,
    pub integrity_failures: u64,
    /// Boots of a surviving image that failed without a cut.
    pub failed_boots: u64,
    /// Where the cuts fell (thread and operation), for coverage.
    pub cut_points: BTreeMap<String, u64>,
    pub notes: Vec<String>,
}

impl Totals {
    pub fn add(&mut self, f: &Findings) {
        self.lost += f.lost;
        self.duplicated += f.duplicated;
        self.gaps += f.gaps;
        self.missing_state += f.missing_state;
        if f.integrity != "ok" {
            self.integrity_failures += 1;
        }
        for n in &f.notes {
            if self.notes.len() < 20 {
                self.notes.push(n.clone());
            }
        }
    }

    pub fn clean(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.gaps == 0
            && self.missing_state == 0
            && self.integrity_failures == 0
            && self.failed_boots == 0
    }
}
