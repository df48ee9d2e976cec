//! Conversation search: one row per conversation started in a period, filtered by
//! indexed columns (start time, state, customer) and its tasks and sessions (queue
//! of any of its tasks, channel, agent, the agent's team), wrap-up codes, and by
//! message text through the full-text index `message_text` (FTS5, migration V24),
//! newest first, paged; each row with its customer's name, agents, queue, channel,
//! wrap-up codes and note, wait and handle time, and the customer's rating (CSAT). A supervisor sees the conversations
//! an agent of its teams took part in, and those no agent joined (abandoned or still
//! waiting: queue work, whose figures every supervisor sees), as the conversation
//! history does (`store::conversations::in_scope`).
//!
//! Message text is found by its matches when it is rare; when it is common, by its
//! newest matches checked against the other filters, or, when an agent, team or
//! customer filter passes few conversations, from that filter's side (`by_filter`):
//! both find the first conversations by their newest matching message, and the page
//! is then read from those alone. A broad customer filter is checked in memory
//! (`customers`).
//!
//! A drill-down from a report figure asks for an [`Outcome`]: then the period is the
//! window in which one of the conversation's tasks had that outcome (offered,
//! answered, abandoned, short abandon, handled), and queue, agent and team are those
//! of that same task, as the aggregates count it.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

mod by_filter;
mod customers;
mod text;

pub use text::{fts_terms, prefix_terms};

use super::messages;
use super::read::Scope;
use super::table::{secs, Table};
use crate::clock::Millis;
use crate::store::{events, StoreResult};

/// What happened to a task in the window, as a report figure counts it. Answered and
/// abandoned read the task's first answer (`first_answer_time`, migration V34): a task
/// put back in its queue at its agent's logout was answered, as the figures count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Entered its queue (enqueue time in the window).
    Offered,
    /// Answered by an agent (answer time in the window).
    Answered,
    /// Closed unanswered because the customer left or no agent was available.
    Abandoned,
    /// Abandoned after a wait under the short-abandon threshold.
    ShortAbandoned,
    /// Closed after it was answered (close time in the window).
    Handled,
}

impl Outcome {
    /// The SQL condition on `t` (tasks) and `m` (task_media) with two placeholders for
    /// the window, and the short-abandon threshold's when it takes one.
    fn condition(self) -> &'static str {
        match self {
            Outcome::Offered => "m.enqueue_time >= ? AND m.enqueue_time < ?",
            Outcome::Answered => {
                "m.first_answer_time > 0 AND m.first_answer_time >= ? AND m.first_answer_time < ?"
            }
            Outcome::Abandoned => ABANDONED,
            Outcome::ShortAbandoned => SHORT_ABANDONED,
            Outcome::Handled => {
                "m.answer_time > 0 AND t.agent_id IS NOT NULL AND t.closed_at >= ? AND t.closed_at < ?"
            }
        }
    }
}

const ABANDONED: &str =
    "COALESCE(m.first_answer_time, 0) = 0 AND t.disposition IN ('CANCELLED', 'NO_AGENT_AVAILABLE')
     AND m.direction NOT IN ('DIRECT_TRANSFER', 'DIRECT_CONFERENCE', 'CONSULT')
     AND t.closed_at >= ? AND t.closed_at < ?";
const SHORT_ABANDONED: &str =
    "COALESCE(m.first_answer_time, 0) = 0 AND t.disposition IN ('CANCELLED', 'NO_AGENT_AVAILABLE')
     AND m.direction NOT IN ('DIRECT_TRANSFER', 'DIRECT_CONFERENCE', 'CONSULT')
     AND t.closed_at >= ? AND t.closed_at < ? AND t.closed_at - m.enqueue_time < ?";

/// What to look for; `None` means any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// The window: conversations started in it, or with `outcome`, tasks that had
    /// that outcome in it.
    pub start: Millis,
    pub end: Millis,
    pub outcome: Option<Outcome>,
    /// Abandons with a wait under this are short (for [`Outcome::ShortAbandoned`]).
    pub short_abandon_ms: Millis,
    pub queue: Option<String>,
    pub channel: Option<String>,
    pub agent: Option<String>,
    /// Team id: conversations with a task of one of the team's agents.
    pub team: Option<String>,
    pub state: Option<String>,
    /// A customer: words each starting a word of the customer's name (first or last),
    /// email or an identifier (case and accents ignored), or an exact identifier.
    pub customer: Option<String>,
    /// A wrap-up code as `category: value`, or its value alone.
    pub wrapup: Option<String>,
    /// Words every message-text match must hold (FTS5 terms, each quoted).
    pub text: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// One conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    pub started: Millis,
    pub ended: Option<Millis>,
    pub state: String,
    pub customer: String,
    pub queue: String,
    pub channel: String,
    pub agents: Vec<String>,
    pub wrapups: Vec<String>,
    pub note: String,
    /// The first task's wait (answer or close − enqueue).
    pub wait_ms: Option<Millis>,
    /// The handle time of its answered tasks, summed.
    pub handle_ms: Millis,
    /// The customer's rating (1-5), when given.
    pub csat: Option<i64>,
}

/// How far a search with message text goes (see [`search_with`]): `[search]` in the
/// configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The matching conversations are counted up to this many past the page's
    /// offset (`Found::more` says there are more); a search without text counts all.
    pub count_cap: i64,
    /// Text matching more messages than this is read newest match first: the
    /// conversations of its newest matches are taken, more until the page and the
    /// bounded count are full (or every match was read); rarer text collects all its
    /// matches first.
    pub frequent: i64,
    /// Frequent text with an agent, team or customer filter passing at most this
    /// many conversations is searched from the filter's side: their messages are
    /// looked up among the matches (see `by_filter`) instead of the matches'
    /// conversations checked against the filter. A customer filter passing more
    /// than this many customers is taken as broad without counting their
    /// conversations.
    pub selective: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            count_cap: 1_000,
            frequent: 20_000,
            selective: 20_000,
        }
    }
}

/// A page of conversations found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub rows: Vec<Row>,
    /// How many match in all; with message text, at most `offset + count_cap`.
    pub total: i64,
    /// The count stopped at its cap: more than `total` match.
    pub more: bool,
}

/// The rows matching `filter` as `scope` may see them, and how many match (see
/// [`Found`]), with the default [`Limits`].
pub fn search(c: &Connection, filter: &Filter, scope: &Scope) -> StoreResult<Found> {
    search_with(c, filter, scope, &Limits::default())
}

/// [`search`] with `limits`.
pub fn search_with(
    c: &Connection,
    filter: &Filter,
    scope: &Scope,
    limits: &Limits,
) -> StoreResult<Found> {
    let (mut sql, mut args) = conditions(filter, scope);
    // Message text, last: rare text by its matches, common text by the
    // conversations of its newest matches (read on until the count is full) or
    // from a selective filter's side.
    let terms = filter.text.as_deref().and_then(fts_terms);
    let frequent = match &terms {
        Some(terms) => text::is_frequent(c, terms, limits.frequent)?,
        None => false,
    };
    if let (Some(terms), false) = (&terms, frequent) {
        sql.push_str(
            " AND c.id IN (SELECT e.conversation_id FROM message_text m JOIN cim_events e ON e.pos = m.rowid
                           WHERE message_text MATCH ?)",
        );
        args.push(Sql::Text(terms.clone()));
    }
    // A text search counts no further than `count_cap` past the page.
    let cap = terms.is_some().then(|| {
        filter
            .offset
            .saturating_add(limits.count_cap.max(filter.limit))
    });
    let total: i64 = match (cap, &terms) {
        (Some(cap), Some(terms)) if frequent => {
            let wanted = usize::try_from(cap.saturating_add(1)).unwrap_or(usize::MAX);
            let found = frequent_text(c, filter, scope, (&sql, &args), terms, wanted, limits)?;
            // Every conversation found passed every condition: the page is read from
            // them alone, no filter evaluated again.
            sql =
                String::from("FROM conversations c WHERE c.id IN (SELECT value FROM json_each(?))");
            args = vec![Sql::Text(Value::from(found.clone()).to_string())];
            found.len() as i64
        }
        (Some(cap), _) => {
            let mut bounded = args.clone();
            bounded.push(Sql::Integer(cap.saturating_add(1)));
            c.query_row(
                &format!("SELECT COUNT(*) FROM (SELECT 1 {sql} LIMIT ?)"),
                rusqlite::params_from_iter(bounded.iter()),
                |r| r.get(0),
            )?
        }
        (None, _) => c.query_row(
            &format!("SELECT COUNT(*) {sql}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )?,
    };
    let more = cap.is_some_and(|cap| total > cap);
    let total = cap.map_or(total, |cap| total.min(cap));
    let mut paged = args.clone();
    paged.push(Sql::Integer(filter.limit));
    paged.push(Sql::Integer(filter.offset));
    let mut st = c.prepare(&format!(
        "SELECT c.id, c.creation_time, c.end_time, c.state,
                COALESCE((SELECT cu.first_name FROM customers cu WHERE cu.id = c.customer_id), ''),
                COALESCE((SELECT q.name FROM queues q WHERE q.id = COALESCE(c.queue_id,
                    (SELECT m.queue_id FROM tasks t JOIN task_media m ON m.task_id = t.id
                     WHERE t.conversation_id = c.id ORDER BY m.enqueue_time LIMIT 1))), '')
         {sql} ORDER BY c.creation_time DESC, c.id LIMIT ? OFFSET ?"
    ))?;
    let heads = st
        .query_map(rusqlite::params_from_iter(paged.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Millis>(1)?,
                r.get::<_, Option<Millis>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::with_capacity(heads.len());
    for (id, started, ended, state, customer, queue) in heads {
        rows.push(details(c, id, started, ended, state, customer, queue)?);
    }
    Ok(Found { rows, total, more })
}

/// The conversations of frequent message text `terms` that pass the other conditions
/// (`filtered`: `FROM … WHERE …` and its arguments, no text condition), the first
/// `wanted` in the order of their newest match. A selective agent, team or customer
/// filter: its conversations, then their messages among the matches; else the
/// matches newest first, each batch's conversations checked. A customer filter is
/// then checked in memory ([`customers::Customers`]): in SQL its customers would be
/// gathered again for every batch, 0.2 s each for a fifth of a year's customers.
fn frequent_text(
    c: &Connection,
    filter: &Filter,
    scope: &Scope,
    filtered: (&str, &[Sql]),
    terms: &str,
    wanted: usize,
    limits: &Limits,
) -> StoreResult<Vec<String>> {
    let customers = match &filter.customer {
        Some(who) => Some(customers::Customers::of(c, who)?),
        None => None,
    };
    // A customer filter passing more customers than `selective` passes more
    // conversations than that but for customers without any: not counted.
    let broad = customers
        .as_ref()
        .is_some_and(|m| i64::try_from(m.count()).unwrap_or(i64::MAX) > limits.selective);
    let by_filter = filter.agent.is_some() || filter.team.is_some() || filter.customer.is_some();
    if by_filter && !broad {
        let (sql, args) = filtered;
        if let Some(conversations) = by_filter::passing(c, sql, args, limits.selective)? {
            return by_filter::newest_matching(c, &conversations, terms, wanted);
        }
    }
    let (sql, args) = match &customers {
        Some(_) => conditions(
            &Filter {
                customer: None,
                ..filter.clone()
            },
            scope,
        ),
        None => (filtered.0.to_string(), filtered.1.to_vec()),
    };
    // A malformed prefix leaves the whole text: the statement then fails to prepare.
    let checked = sql.strip_prefix(FROM_CONVERSATIONS).unwrap_or(&sql);
    text::newest_passing(c, (checked, &args), terms, wanted, customers.as_ref())
}

/// How [`conditions`] begins: its conditions are on `conversations c`.
const FROM_CONVERSATIONS: &str = "FROM conversations c WHERE ";

/// The search's `FROM … WHERE …` and its arguments: every condition of `filter` and
/// `scope` but the message text.
fn conditions(filter: &Filter, scope: &Scope) -> (String, Vec<Sql>) {
    // No join of the customer: only the page's rows read its name (a join here cost
    // every conversation counted or checked a customer lookup).
    let mut sql = String::from(FROM_CONVERSATIONS);
    let mut args: Vec<Sql> = Vec::new();
    // The task conditions: agent, team and queue of one task.
    let mut task = String::new();
    let mut task_args: Vec<Sql> = Vec::new();
    if let Some(a) = &filter.agent {
        task.push_str(" AND t.agent_id = ?");
        task_args.push(Sql::Text(a.clone()));
    }
    if let Some(team) = &filter.team {
        task.push_str(" AND t.agent_id IN (SELECT u.id FROM users u WHERE u.team_id = ?)");
        task_args.push(Sql::Text(team.clone()));
    }
    if let Some(q) = &filter.queue {
        task.push_str(" AND m.queue_id = ?");
        task_args.push(Sql::Text(q.clone()));
    }
    match filter.outcome {
        Some(outcome) => {
            sql.push_str(&format!(
                "c.id IN (SELECT t.conversation_id FROM tasks t JOIN task_media m ON m.task_id = t.id
                          WHERE {}{task})",
                outcome.condition()
            ));
            args.extend([Sql::Integer(filter.start), Sql::Integer(filter.end)]);
            if outcome == Outcome::ShortAbandoned {
                args.push(Sql::Integer(filter.short_abandon_ms));
            }
        }
        None => {
            sql.push_str("c.creation_time >= ? AND c.creation_time < ?");
            args.extend([Sql::Integer(filter.start), Sql::Integer(filter.end)]);
            if let Some(by_agent) = (filter.agent.is_some() || filter.team.is_some())
                .then(|| task.strip_prefix(" AND "))
                .flatten()
            {
                // The agent's (or team's) tasks by the index of tasks by agent (V28):
                // its conversations, not every conversation of the period probed.
                sql.push_str(&format!(
                    " AND c.id IN (SELECT t.conversation_id FROM tasks t JOIN task_media m ON m.task_id = t.id
                       WHERE {by_agent})"
                ));
            } else if !task.is_empty() {
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM tasks t JOIN task_media m ON m.task_id = t.id
                       WHERE t.conversation_id = c.id{task})"
                ));
            }
        }
    }
    args.extend(task_args);
    let mut text = |sql: &mut String, clause: &str, values: Vec<String>| {
        sql.push_str(clause);
        args.extend(values.into_iter().map(Sql::Text));
    };
    if let Some(s) = &filter.state {
        text(&mut sql, " AND c.state = ?", vec![s.clone()]);
    }
    if let Some(ch) = &filter.channel {
        text(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM channel_sessions s WHERE s.conversation_id = c.id AND s.channel_id = ?)",
            vec![ch.clone()],
        );
    }
    if let Some(who) = &filter.customer {
        // `""` matches nothing (an empty phrase).
        let words = prefix_terms(who).unwrap_or_else(|| "\"\"".into());
        text(
            &mut sql,
            // The matching customers by the index of their names and identifiers
            // (migration V23), then their conversations by theirs.
            " AND c.customer_id IN (SELECT t.customer_id FROM customer_words w
                   JOIN customer_terms t ON t.id = w.rowid WHERE customer_words MATCH ?
                   UNION SELECT customer_id FROM customer_identifiers WHERE identifier = ?)",
            vec![words, who.clone()],
        );
    }
    if let Some(code) = &filter.wrapup {
        let value = code.rsplit(": ").next().unwrap_or(code).to_string();
        text(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM cim_events w WHERE w.conversation_id = c.id
                   AND w.name = 'AGENT_MESSAGE' AND instr(w.event, '\"WRAPUP\"') > 0
                   AND instr(w.event, ?) > 0)",
            vec![serde_json::to_string(&value).unwrap_or_default()],
        );
    }
    if !scope.admin {
        let teams: Vec<String> = scope.teams.iter().cloned().collect();
        let marks = vec!["?"; teams.len().max(1)].join(", ");
        let mut teams = teams;
        if teams.is_empty() {
            teams.push(String::new());
        }
        text(
            &mut sql,
            &format!(
                " AND (EXISTS (SELECT 1 FROM tasks t JOIN users u ON u.id = t.agent_id
                   WHERE t.conversation_id = c.id AND u.team_id IN ({marks}))
                   OR NOT EXISTS (SELECT 1 FROM participants p
                   WHERE p.conversation_id = c.id AND p.type = 'AGENT'))"
            ),
            teams,
        );
    }
    (sql, args)
}

fn details(
    c: &Connection,
    id: String,
    started: Millis,
    ended: Option<Millis>,
    state: String,
    customer: String,
    queue: String,
) -> StoreResult<Row> {
    let channel: String = c
        .prepare_cached(
            "SELECT COALESCE(ch.name, '') FROM channel_sessions s LEFT JOIN channels ch ON ch.id = s.channel_id
             WHERE s.conversation_id = ?1 ORDER BY s.started_at LIMIT 1",
        )?
        .query_row([&id], |r| r.get(0))
        .unwrap_or_default();
    let mut st = c.prepare_cached(
        "SELECT t.agent_id, m.enqueue_time, m.answer_time, t.closed_at,
                CASE WHEN TRIM(u.first_name || ' ' || u.last_name) = '' THEN u.username
                     ELSE TRIM(u.first_name || ' ' || u.last_name) END,
                m.first_answer_time
         FROM tasks t JOIN task_media m ON m.task_id = t.id LEFT JOIN users u ON u.id = t.agent_id
         WHERE t.conversation_id = ?1 ORDER BY m.enqueue_time, t.id",
    )?;
    let tasks = st
        .query_map([&id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Millis>(1)?,
                r.get::<_, Option<Millis>>(2)?,
                r.get::<_, Option<Millis>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<Millis>>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut agents: Vec<String> = Vec::new();
    let mut handle_ms = 0;
    for (agent, _, answer, closed, name, _) in &tasks {
        if let (Some(_), Some(name), Some(_)) = (agent, name, answer) {
            if !agents.contains(name) {
                agents.push(name.clone());
            }
        }
        if let (Some(answer), Some(closed)) = (answer, closed) {
            handle_ms += (closed - answer).max(0);
        }
    }
    // The wait ends at the first answer: a chat put back in its queue at its agent's
    // logout waited until then, as the figures count it.
    let wait_ms = tasks
        .first()
        .and_then(|(_, enqueue, answer, closed, _, first)| {
            first
                .or(*answer)
                .or(*closed)
                .map(|end| (end - enqueue).max(0))
        });
    let csat: Option<i64> = c
        .prepare_cached("SELECT rating FROM csat WHERE conversation_id = ?1")?
        .query_row([&id], |r| r.get(0))
        .optional()?;
    let stored = events::bodies_named_between(c, &id, "AGENT_MESSAGE", 0, Millis::MAX)?;
    let wrapped = messages::read(&stored, started);
    Ok(Row {
        id,
        started,
        ended,
        state,
        customer,
        queue,
        channel,
        agents,
        wrapups: wrapped.wrapups,
        note: wrapped.notes.join(" / "),
        wait_ms,
        handle_ms,
        csat,
    })
}

/// The rows as a table (JSON rows and CSV share it); times as `local`.
pub fn table(rows: &[Row], local: impl Fn(Millis) -> String) -> Table {
    Table {
        columns: [
            "id",
            "started",
            "ended",
            "state",
            "customer",
            "queue",
            "channel",
            "agents",
            "wrapups",
            "note",
            "waitSecs",
            "handleSecs",
            "csat",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Value::from(r.id.clone()),
                    Value::from(local(r.started)),
                    r.ended.map_or(Value::Null, |e| Value::from(local(e))),
                    Value::from(r.state.clone()),
                    Value::from(r.customer.clone()),
                    Value::from(r.queue.clone()),
                    Value::from(r.channel.clone()),
                    Value::from(r.agents.join(", ")),
                    Value::from(r.wrapups.join(", ")),
                    Value::from(r.note.clone()),
                    r.wait_ms.map_or(Value::Null, secs),
                    secs(r.handle_ms),
                    r.csat.map_or(Value::Null, Value::from),
                ]
            })
            .collect(),
    }
}
