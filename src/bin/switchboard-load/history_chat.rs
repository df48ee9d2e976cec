//! One generated conversation of `switchboard-load history`: [`build`] makes all of
//! it that needs no database (its events in their stored form from
//! `store::events::encode`, its snapshots, its task-log rows) on a worker thread, and
//! [`write`] stores it through the store's row functions in the writer's transaction.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use serde_json::{json, Value};
use switchboard::live::facts::{Fact, LiveEvent, TaskFacts};
use switchboard::reports::messages::Found;
use switchboard::reports::tally::ClosedAnswered;
use switchboard::store::conversations::{self, ChannelSessionRow, ConversationRow};
use switchboard::store::events::{self, EventRow};
use switchboard::store::message_index::PendingIndex;
use switchboard::store::objects::{self, Dehydrated, Interner};
use switchboard::store::{csat, tasks, StoreError, StoreResult};

use super::events::{Event, Events};
use super::shapes::{Chat, Templates, WORDS};
use super::{on_shift, Site};

/// One chat to generate, decided in order on the main thread.
pub struct Plan {
    pub start: i64,
    /// The customer: `visitor-<n>`, also the chat of a returning customer.
    pub visitor: u64,
    /// Seeds the chat's own choices.
    pub seed: u64,
}

/// A visitor's identifier and the first name typed in the widget.
pub fn visitor_names(visitor: u64) -> (String, String) {
    (format!("visitor-{visitor}"), format!("Customer{visitor}"))
}

/// One conversation ready to store.
pub struct Built {
    conversation_id: String,
    session_id: String,
    task_id: String,
    customer_id: String,
    channel_id: String,
    queue_id: String,
    agent_id: Option<String>,
    start: i64,
    wait: i64,
    end: i64,
    /// The snapshots, dehydrated here (off the writer thread).
    snapshot: Dehydrated,
    session: Dehydrated,
    task: Dehydrated,
    events: Vec<Event>,
    /// The task-log rows (in order), and each one's JSON text.
    pub log: Vec<LiveEvent>,
    log_texts: Vec<String>,
    rating: Option<u8>,
    /// (agent, answered, closed) when an agent handled it.
    pub busy: Option<(String, i64, i64)>,
    /// The handled task's answer and close, and what its agent messages say.
    found: Option<(i64, i64, Found)>,
}

impl Built {
    pub fn conversation_id(&self) -> &str {
        &self.conversation_id
    }

    /// What the stored agent messages of `closed` say, when it is this chat's task.
    pub fn found(&self, closed: &ClosedAnswered) -> Option<Found> {
        let (answer, end, found) = self.found.as_ref()?;
        let window = (closed.answer_time, closed.closed_at, closed.enqueue_time);
        (closed.conversation_id == self.conversation_id && window == (*answer, *end, self.start))
            .then(|| found.clone())
    }
}

/// How one task goes.
enum Outcome {
    Abandoned,
    Handled { rona: bool, transfer: bool },
}

/// All of one closed conversation that needs no database, as the server would have
/// written it; `customer` is the plan's visitor's record.
pub fn build(site: &Site, t: &Templates, customer: &Value, plan: &Plan) -> Built {
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let rng = &mut rng;
    let (start, visitor) = (plan.start, plan.visitor);
    let staff = on_shift(site, start);
    let roll = rng.gen_range(0..100);
    let outcome = if staff.is_empty() || roll < 8 {
        Outcome::Abandoned
    } else {
        Outcome::Handled {
            rona: roll < 11,
            transfer: (11..15).contains(&roll),
        }
    };
    let (identifier, first_name) = visitor_names(visitor);
    let customer_id = customer["_id"].as_str().unwrap_or_default().to_string();
    let conversation_id = uuid::Uuid::new_v4().to_string();
    let session_id = uuid::Uuid::new_v4().to_string();
    let task_id = uuid::Uuid::new_v4().to_string();
    let queue = &site.queues[rng.gen_range(0..site.queues.len())];
    let agent = staff
        .get(rng.gen_range(0..staff.len().max(1)))
        .map(|(id, name)| (id.as_str(), name.as_str()));
    let chat = Chat {
        conversation_id: &conversation_id,
        session_id: &session_id,
        task_id: &task_id,
        customer,
        identifier: &identifier,
        first_name: &first_name,
        queue: (&queue.0, &queue.1),
        agent: match outcome {
            Outcome::Abandoned => None,
            Outcome::Handled { .. } => agent,
        },
        start,
    };
    let session = t.session(&chat);
    let mut log = Vec::new();
    let mut events = Events::new(t, &chat, &session);
    events.notification("CHANNEL_SESSION_STARTED", start);
    events.notification("CONVERSATION_STARTED", start + 5);
    events.notification("TASK_ENQUEUED", start + 10);
    let wait = 2_000 + rng.gen_range(0..90_000i64);
    let facts =
        |state: &str, media: &str, reason: Option<&str>, agent: Option<&str>, answer: i64| {
            TaskFacts {
                id: task_id.clone(),
                state: state.into(),
                reason: reason.map(str::to_string),
                assigned_to: agent.map(str::to_string),
                queue_id: queue.0.clone(),
                queue_name: queue.1.clone(),
                direction: "INBOUND".into(),
                media_state: media.into(),
                enqueue_time: start,
                answer_time: answer,
                customer_name: Some(first_name.clone()),
                channel_name: Some("web".into()),
            }
        };
    let at = |at: i64, fact: Fact| LiveEvent {
        conversation_id: conversation_id.clone(),
        at,
        fact,
    };
    log.push(at(
        start,
        Fact::Enqueued(facts("CREATED", "QUEUED", None, None, 0)),
    ));
    let end;
    let mut agent_id = None;
    let mut answered = None;
    match (outcome, chat.agent) {
        (Outcome::Handled { rona, transfer }, Some((aid, _))) => {
            agent_id = Some(aid);
            let mut offered = start + wait - 2_000;
            if rona {
                let other = staff[rng.gen_range(0..staff.len())].0.as_str();
                let task = facts("CREATED", "RESERVED", None, Some(other), 0);
                log.push(at(
                    offered - 30_000,
                    Fact::Reserved {
                        agent_id: other.into(),
                        task,
                    },
                ));
                let back = facts("CREATED", "QUEUED", Some("RONA"), None, 0);
                log.push(at(offered - 1_000, Fact::Enqueued(back)));
                offered += 1;
            }
            let task = facts("CREATED", "RESERVED", None, Some(aid), 0);
            log.push(at(
                offered,
                Fact::Reserved {
                    agent_id: aid.into(),
                    task,
                },
            ));
            let answer = start + wait;
            log.push(at(
                answer,
                Fact::Changed(facts("ACTIVE", "ACTIVE", None, Some(aid), answer)),
            ));
            events.notification("AGENT_RESERVED", offered);
            events.agent_event("AGENT_SUBSCRIBED", answer);
            let messages = rng.gen_range(8..17);
            let mut when = answer;
            let mut text = String::new();
            for m in 0..messages {
                when += rng.gen_range(5_000..60_000);
                text.clear();
                for w in 0..rng.gen_range(4..14) {
                    if w > 0 {
                        text.push(' ');
                    }
                    text.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
                }
                events.text(m % 2 == 1, &text, when);
            }
            let left = when + rng.gen_range(5_000..30_000);
            events.agent_event("AGENT_UNSUBSCRIBED", left);
            let (category, value) = &site.wrapups[rng.gen_range(0..site.wrapups.len())];
            let wrapup = json!({"type": "WRAPUP", "note": "", "wrapups": [{"categoryName": category, "value": value}]});
            let closed = left + rng.gen_range(3_000..40_000);
            events.message(true, wrapup, closed - 1);
            log.push(at(
                left,
                Fact::Changed(facts("WRAP_UP", "ACTIVE", None, Some(aid), answer)),
            ));
            let reason = transfer.then_some("TRANSFERRED");
            log.push(at(
                closed,
                Fact::Changed(facts("CLOSED", "CLOSED", reason, Some(aid), answer)),
            ));
            end = closed;
            answered = Some((answer, closed));
        }
        _ => {
            end = start + wait;
            log.push(at(
                end,
                Fact::Changed(facts("CLOSED", "CLOSED", Some("CANCELLED"), None, 0)),
            ));
        }
    }
    let snapshot = t.conversation(&chat, &session, end);
    events.notification("TASK_STATE_CHANGED", end);
    events.notification("CHANNEL_SESSION_ENDED", end + 5);
    // What the aggregates read back from the stored agent messages (`keep`), read
    // here from the same messages by the same function.
    let found =
        answered.map(|(answer, closed)| (answer, closed, events.found(answer, closed, start)));
    let events = events.list;
    let task = t.task(&chat, &session);
    let log_texts = log
        .iter()
        .map(|event| serde_json::to_string(event).unwrap_or_default())
        .collect();
    let rating = (agent_id.is_some() && rng.gen_range(0..10) < 3).then(|| rng.gen_range(1..6));
    let snapshot = objects::dehydrate_row(snapshot, &conversations::snapshot_row(&conversation_id));
    let session = objects::dehydrate_whole(session);
    let task = objects::dehydrate_row(task, &tasks::snapshot_row(&task_id, &conversation_id, end));
    Built {
        channel_id: site.channel_id.clone(),
        busy: agent_id.map(|a| (a.to_string(), start + wait, end)),
        agent_id: agent_id.map(str::to_string),
        queue_id: queue.0.clone(),
        customer_id,
        conversation_id,
        session_id,
        task_id,
        start,
        wait,
        end,
        snapshot,
        session,
        task,
        events,
        log,
        log_texts,
        rating,
        found,
    }
}

/// Stores `b` in the writer's transaction, in the order the foreign keys need.
pub fn write(c: &Connection, interner: &mut Interner, b: &Built) -> StoreResult<()> {
    conversations::upsert(
        c,
        &ConversationRow {
            id: &b.conversation_id,
            customer_id: &b.customer_id,
            room_id: &b.conversation_id,
            state: "CLOSED",
            direction: "INBOUND",
            queue_id: Some(&b.queue_id),
            last_agent_id: b.agent_id.as_deref(),
            data: "[]".into(),
            metadata: "{}".into(),
            timers: "{}".into(),
            snapshot: interner.tagged(c, &b.snapshot)?,
            creation_time: b.start,
            end_time: Some(b.end),
            last_seq: 0,
        },
        b.end,
    )?;
    conversations::upsert_channel_session(
        c,
        &ChannelSessionRow {
            id: &b.session_id,
            conversation_id: &b.conversation_id,
            channel_id: &b.channel_id,
            customer_id: &b.customer_id,
            state: "CLOSED",
            reason_code: None,
            session: interner.tagged(c, &b.session)?,
            started_at: b.start,
            ended_at: Some(b.end),
        },
    )?;
    let mut index = PendingIndex::default();
    for (seq, e) in b.events.iter().enumerate() {
        let appended = events::append(
            c,
            interner,
            &mut index,
            &EventRow {
                id: &e.id,
                conversation_id: &b.conversation_id,
                seq: seq as u64 + 1,
                name: &e.name,
                kind: &e.kind,
                timestamp: e.timestamp,
                message_id: e.message_id.as_deref(),
                event: &e.encoded,
                runtime: None,
            },
        )?;
        if appended == events::Appended::MessageIdTaken {
            return Err(StoreError::Conflict(format!(
                "generated message id {:?}",
                e.message_id
            )));
        }
    }
    index.write(c)?;
    tasks::upsert(
        c,
        &tasks::TaskRow {
            id: &b.task_id,
            conversation_id: &b.conversation_id,
            state: "CLOSED",
            agent_id: b.agent_id.as_deref(),
            disposition: None,
            closed: true,
            snapshot: interner.tagged(c, &b.task)?,
            media_id: &uuid::Uuid::new_v4().to_string(),
            mrd_id: "",
            queue_id: &b.queue_id,
            media_state: "CLOSED",
            priority: 1,
            direction: "INBOUND",
            mode: "QUEUE",
            enqueue_time: b.start,
            answer_time: b.agent_id.as_ref().map(|_| b.start + b.wait),
        },
        b.end,
    )?;
    for (event, text) in b.log.iter().zip(&b.log_texts) {
        tasks::append_log(c, &b.task_id, &b.conversation_id, event.at, text)?;
    }
    if let Some(rating) = b.rating {
        let rating = csat::Csat {
            rating,
            comment: String::new(),
            submitted_at: b.end + 60_000,
        };
        csat::submit(c, &b.conversation_id, &b.customer_id, &rating)?;
        switchboard::reports::keep::rating(
            c,
            &b.conversation_id,
            i64::from(rating.rating),
            rating.submitted_at,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of generated chats, most made from an earlier one's encoding, is
    /// what building and encoding it gives (`Events` checks each under test), and
    /// the aggregates' reading of the agent messages is the one of the whole events.
    #[test]
    fn chats_built_from_first_encodings_are_what_encoding_them_gives() {
        let id = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
        let agents: Vec<(String, String)> = (0..6)
            .map(|a| (id(a), format!("hist-agent-{a:04}")))
            .collect();
        let site = Site {
            channel_id: id(100),
            mrd_id: id(101),
            queues: vec![(id(102), "History queue 1".into()), (id(103), "Web".into())],
            shifts: [
                agents[..2].to_vec(),
                agents[2..4].to_vec(),
                agents[4..].to_vec(),
            ],
            wrapups: vec![
                ("Sales".into(), "upgrade".into()),
                ("".into(), "other".into()),
            ],
        };
        let templates = Templates::load();
        let customer = serde_json::json!({"_id": "0123456789abcdef0123456789abcdef",
                                          "firstName": "Customer7", "createdAt": 1_760_000_000_000i64});
        let (mut handled, mut messages) = (0, 0);
        for n in 0..40u64 {
            let plan = Plan {
                start: 1_760_000_000_000 + (n as i64) * 3_600_000,
                visitor: 7,
                seed: n,
            };
            let built = build(&site, &templates, &customer, &plan);
            messages += built
                .events
                .iter()
                .filter(|e| e.message_id.is_some())
                .count();
            if let Some((answer, end, found)) = &built.found {
                handled += 1;
                assert!(found.first_response_ms.is_some() && found.wrapups.len() == 1);
                assert!(answer < end);
            }
        }
        assert!(
            handled > 5 && messages > 100,
            "{handled} handled, {messages} messages"
        );
    }
}
