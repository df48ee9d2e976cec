//! The definitions of `docs/metrics.md` on simulated time: abandons, short abandons,
//! service level at the threshold's edge, a transfer, a RONA, and a restart in the
//! middle of a day that rebuilds today's figures equal.

use super::facts::{self, Fact, LiveEvent, TaskFacts};
use super::figures::{FigureSettings, Figures};
use crate::clock::Millis;
use serde_json::json;

const DAY: Millis = 86_400_000;
/// Some midnight, in ms.
const MIDNIGHT: Millis = 20_000 * DAY;

fn task(id: &str, queue: &str, media: &str, enqueue: Millis) -> TaskFacts {
    TaskFacts {
        id: id.into(),
        state: "ACTIVE".into(),
        reason: None,
        assigned_to: None,
        queue_id: queue.into(),
        queue_name: queue.to_uppercase(),
        direction: "INBOUND".into(),
        media_state: media.into(),
        enqueue_time: enqueue,
        answer_time: 0,
        customer_name: Some("Ann".into()),
        channel_name: Some("Web".into()),
    }
}

fn ev(conversation: &str, at: Millis, fact: Fact) -> LiveEvent {
    LiveEvent {
        conversation_id: conversation.into(),
        at,
        fact,
    }
}

/// A task's life as the routing engine publishes it, step by step.
struct Sim {
    events: Vec<LiveEvent>,
}

impl Sim {
    fn new() -> Sim {
        Sim { events: Vec::new() }
    }

    fn enqueue(&mut self, c: &str, t: &TaskFacts, at: Millis) {
        self.events.push(ev(c, at, Fact::Enqueued(t.clone())));
    }

    fn reserve(&mut self, c: &str, t: &mut TaskFacts, agent: &str, at: Millis) {
        t.media_state = "RESERVED".into();
        t.assigned_to = Some(agent.into());
        self.events.push(ev(
            c,
            at,
            Fact::Reserved {
                agent_id: agent.into(),
                task: t.clone(),
            },
        ));
    }

    fn accept(&mut self, c: &str, t: &mut TaskFacts, at: Millis) {
        t.media_state = "ACTIVE".into();
        t.answer_time = at;
        t.reason = None;
        self.events.push(ev(c, at, Fact::Changed(t.clone())));
    }

    fn rona(&mut self, c: &str, t: &mut TaskFacts, at: Millis) {
        t.media_state = "QUEUED".into();
        t.assigned_to = None;
        t.reason = Some("RONA".into());
        self.events.push(ev(c, at, Fact::Changed(t.clone())));
        self.events.push(ev(c, at, Fact::Enqueued(t.clone())));
    }

    fn close(&mut self, c: &str, t: &mut TaskFacts, reason: &str, at: Millis) {
        t.state = "CLOSED".into();
        t.media_state = "CLOSED".into();
        t.reason = Some(reason.into());
        self.events.push(ev(c, at, Fact::Changed(t.clone())));
    }

    fn fold(&self, day_start: Millis) -> Figures {
        let mut f = Figures::new(FigureSettings::default(), day_start);
        for e in &self.events {
            f.apply(e);
        }
        f
    }
}

#[test]
fn an_abandon_counts_with_its_wait_and_short_ones_apart() {
    let mut sim = Sim::new();
    let start = MIDNIGHT + 3_600_000;
    // Customer leaves after 20 s, another after 4.999 s, another after exactly 5 s.
    for (i, wait) in [20_000, 4_999, 5_000].into_iter().enumerate() {
        let c = format!("c{i}");
        let mut t = task(&format!("t{i}"), "q", "QUEUED", start);
        sim.enqueue(&c, &t, start);
        sim.close(&c, &mut t, "CANCELLED", start + wait);
    }
    // The agent-request TTL runs out after 60 s: an abandon too.
    let mut t = task("t9", "q", "QUEUED", start);
    sim.enqueue("c9", &t, start);
    sim.close("c9", &mut t, "NO_AGENT_AVAILABLE", start + 60_000);
    // A flushed task is neither.
    let mut t = task("t10", "q", "QUEUED", start);
    sim.enqueue("c10", &t, start);
    sim.close("c10", &mut t, "FORCE_CLOSED", start + 1_000);
    let f = sim.fold(MIDNIGHT);
    let today = f.queue("q").expect("queue").today;
    assert_eq!(today.offered, 5);
    assert_eq!(today.abandoned, 4);
    assert_eq!(
        today.short_abandons, 1,
        "only the 4.999 s wait is under 5 s"
    );
    assert_eq!(today.flushed, 1);
    assert_eq!(today.answered, 0);
    assert_eq!(today.service_level_pct(), Some(0.0));
    assert_eq!(f.waiting("q"), (0, None));
    assert_eq!(f.conversations().count(), 0, "nothing is ongoing");
}

#[test]
fn service_level_counts_an_answer_at_the_threshold_as_within() {
    let mut sim = Sim::new();
    let start = MIDNIGHT + 1_000;
    for (i, wait) in [30_000, 30_001].into_iter().enumerate() {
        let c = format!("c{i}");
        let mut t = task(&format!("t{i}"), "q", "QUEUED", start);
        sim.enqueue(&c, &t, start);
        sim.reserve(&c, &mut t, "a1", start + wait - 500);
        sim.accept(&c, &mut t, start + wait);
    }
    // A short abandon stays out of the service level.
    let mut t = task("t5", "q", "QUEUED", start);
    sim.enqueue("c5", &t, start);
    sim.close("c5", &mut t, "CANCELLED", start + 1_000);
    let mut f = Figures::new(FigureSettings::default(), MIDNIGHT);
    f.set_service_level("q", Some(30_000));
    for e in &sim.events {
        f.apply(e);
    }
    let today = f.queue("q").expect("queue").today;
    assert_eq!(today.answered, 2);
    assert_eq!(today.answered_within, 1);
    assert_eq!(today.service_level_pct(), Some(50.0));
    assert_eq!(today.asa_ms(), Some(30_000));
    assert_eq!(today.reservations, 2);
    let (conversations, _) = (f.conversations().count(), ());
    assert_eq!(conversations, 2, "two answered chats are ongoing");
}

#[test]
fn a_transfer_is_out_of_one_queue_and_offered_in_the_other() {
    let mut sim = Sim::new();
    let t0 = MIDNIGHT + 10_000;
    let mut first = task("t1", "sales", "QUEUED", t0);
    sim.enqueue("c", &first, t0);
    sim.reserve("c", &mut first, "a1", t0 + 1_000);
    sim.accept("c", &mut first, t0 + 2_000);
    // The agent transfers to support: a new task, its wait starts at its own enqueue.
    let mut second = task("t2", "support", "QUEUED", t0 + 60_000);
    second.direction = "DIRECT_TRANSFER".into();
    sim.enqueue("c", &second, t0 + 60_000);
    sim.reserve("c", &mut second, "a2", t0 + 61_000);
    sim.accept("c", &mut second, t0 + 64_000);
    sim.close("c", &mut first, "TRANSFERRED", t0 + 64_000);
    sim.close("c", &mut second, "DONE", t0 + 124_000);
    let f = sim.fold(MIDNIGHT);
    let sales = f.queue("sales").expect("sales").today;
    let support = f.queue("support").expect("support").today;
    assert_eq!(
        (sales.offered, sales.transfers_out, sales.transfers_in),
        (1, 1, 0)
    );
    assert_eq!(
        (support.offered, support.transfers_in, support.transfers_out),
        (1, 1, 0)
    );
    assert_eq!(support.asa_ms(), Some(4_000));
    assert_eq!(
        sales.aht_ms(),
        Some(62_000),
        "the first agent handled it until the transfer"
    );
    assert_eq!(support.aht_ms(), Some(60_000));
    assert_eq!(f.agent_today("a1").handled, 1);
    assert_eq!(f.agent_today("a2").aht_ms(), Some(60_000));
}

#[test]
fn a_waiting_chat_moved_by_a_supervisor_leaves_one_queue_and_is_offered_in_the_other() {
    let mut sim = Sim::new();
    let t0 = MIDNIGHT + 10_000;
    let mut t = task("t1", "sales", "QUEUED", t0);
    sim.enqueue("c", &t, t0);
    // Moved after 20 s: the same task, now in support, waiting from the move.
    t.queue_id = "support".into();
    t.queue_name = "SUPPORT".into();
    t.enqueue_time = t0 + 20_000;
    sim.enqueue("c", &t, t0 + 20_000);
    sim.reserve("c", &mut t, "a2", t0 + 21_000);
    sim.accept("c", &mut t, t0 + 23_000);
    let f = sim.fold(MIDNIGHT);
    let sales = f.queue("sales").expect("sales").today;
    let support = f.queue("support").expect("support").today;
    assert_eq!(
        (
            sales.offered,
            sales.transfers_out,
            sales.abandoned,
            sales.answered
        ),
        (1, 1, 0, 0)
    );
    assert_eq!(
        (support.offered, support.transfers_in, support.answered),
        (1, 1, 1)
    );
    assert_eq!(
        support.asa_ms(),
        Some(3_000),
        "its wait in support starts at the move"
    );
    assert_eq!(f.waiting("sales").0, 0);
}

#[test]
fn a_rona_counts_once_and_the_task_is_not_offered_again() {
    let mut sim = Sim::new();
    let t0 = MIDNIGHT + 50_000;
    let mut t = task("t1", "q", "QUEUED", t0);
    sim.enqueue("c", &t, t0);
    sim.reserve("c", &mut t, "a1", t0 + 100);
    sim.rona("c", &mut t, t0 + 30_100);
    let f = sim.fold(MIDNIGHT);
    let today = f.queue("q").expect("queue").today;
    assert_eq!((today.offered, today.reservations, today.ronas), (1, 1, 1));
    assert_eq!(
        f.waiting("q"),
        (1, Some(t0)),
        "back in the queue, first enqueue kept"
    );
    sim.reserve("c", &mut t, "a2", t0 + 31_000);
    sim.accept("c", &mut t, t0 + 32_000);
    let f = sim.fold(MIDNIGHT);
    let today = f.queue("q").expect("queue").today;
    assert_eq!((today.offered, today.reservations, today.ronas), (1, 2, 1));
    assert_eq!(
        today.asa_ms(),
        Some(32_000),
        "the wait includes the RONA'd offer"
    );
}

#[test]
fn rolling_window_and_day_roll_over_forget_old_occurrences() {
    let mut sim = Sim::new();
    let t0 = MIDNIGHT + DAY - 60_000; // one minute before the next midnight
    let mut t = task("t1", "q", "QUEUED", t0);
    sim.enqueue("c", &t, t0);
    sim.close("c", &mut t, "CANCELLED", t0 + 10_000);
    let mut f = sim.fold(MIDNIGHT);
    assert_eq!(f.queue("q").expect("q").today.abandoned, 1);
    f.set_day_start(MIDNIGHT + DAY);
    assert_eq!(f.queue("q").expect("q").today.abandoned, 0);
    assert_eq!(f.queue("q").expect("q").rolling.counts().abandoned, 1);
    f.expire(t0 + 10_000 + 30 * 60_000);
    assert_eq!(f.queue("q").expect("q").rolling.counts().abandoned, 0);
}

#[test]
fn unanswered_customer_messages_start_the_clock_until_an_agent_answers() {
    let mut sim = Sim::new();
    let t0 = MIDNIGHT + 1_000;
    let mut t = task("t1", "q", "QUEUED", t0);
    sim.enqueue("c", &t, t0);
    sim.reserve("c", &mut t, "a1", t0 + 10);
    sim.accept("c", &mut t, t0 + 20);
    sim.events.push(ev("c", t0 + 100, Fact::CustomerMessage));
    sim.events.push(ev("c", t0 + 200, Fact::CustomerMessage));
    let f = sim.fold(MIDNIGHT);
    assert_eq!(
        f.conversation("c").expect("c").unanswered_since,
        Some(t0 + 100)
    );
    sim.events.push(ev("c", t0 + 300, Fact::AgentMessage));
    let f = sim.fold(MIDNIGHT);
    assert_eq!(f.conversation("c").expect("c").unanswered_since, None);
}

/// The events of a day as stored rows (JSON text in CIM shape), some of them of a
/// conversation that began the day before and is still open.
fn stored_day() -> Vec<(LiveEvent, String)> {
    let mut sim = Sim::new();
    let y = MIDNIGHT - 120_000; // yesterday, 23:58
    let mut old = task("t0", "q", "QUEUED", y);
    sim.enqueue("old", &old, y);
    sim.reserve("old", &mut old, "a1", y + 1_000);
    sim.rona("old", &mut old, y + 31_000);
    // After midnight: offered again to a2 and answered; not a new offer.
    sim.reserve("old", &mut old, "a2", MIDNIGHT + 10_000);
    sim.accept("old", &mut old, MIDNIGHT + 12_000);
    let t1 = MIDNIGHT + 3_600_000;
    let mut a = task("t1", "q", "QUEUED", t1);
    sim.enqueue("c1", &a, t1);
    sim.reserve("c1", &mut a, "a1", t1 + 2_000);
    sim.accept("c1", &mut a, t1 + 4_000);
    sim.events.push(ev("c1", t1 + 5_000, Fact::CustomerMessage));
    let mut b = task("t2", "q", "QUEUED", t1 + 1_000);
    sim.enqueue("c2", &b, t1 + 1_000);
    sim.close("c2", &mut b, "CANCELLED", t1 + 3_000);
    let mut c = task("t3", "q2", "QUEUED", t1 + 9_000);
    sim.enqueue("c3", &c, t1 + 9_000);
    sim.reserve("c3", &mut c, "a2", t1 + 9_500);
    sim.accept("c3", &mut c, t1 + 10_000);
    sim.close("c3", &mut c, "DONE", t1 + 70_000);
    sim.events
        .into_iter()
        .map(|e| {
            let text = to_stored(&e);
            (e, text)
        })
        .collect()
}

/// A change as it is stored: task changes as task-log rows, messages as CIM events.
fn to_stored(e: &LiveEvent) -> String {
    match &e.fact {
        Fact::CustomerMessage | Fact::AgentMessage => {
            let name = if e.fact == Fact::CustomerMessage {
                "CUSTOMER_MESSAGE"
            } else {
                "AGENT_MESSAGE"
            };
            json!({"id": "e", "name": name, "type": "MESSAGE", "timestamp": e.at,
                   "conversationId": e.conversation_id, "data": {}})
            .to_string()
        }
        _ => serde_json::to_string(e).expect("encodes"),
    }
}

fn read_stored(text: &str) -> LiveEvent {
    facts::of_log(text)
        .or_else(|| facts::of_stored_event(text))
        .expect("stored change reads back")
}

#[test]
fn a_restart_mid_day_rebuilds_todays_figures_equal() {
    let day = stored_day();
    // The process that ran all along: started yesterday, rolled over at midnight.
    let mut live = Figures::new(FigureSettings::default(), MIDNIGHT - DAY);
    for (event, _) in &day {
        if event.at >= MIDNIGHT {
            live.set_day_start(MIDNIGHT);
        }
        live.apply(event);
    }
    // The restarted process: replays the stored rows (as `live_history` selects them,
    // whole histories of the conversations touched today) with today's day start.
    let mut rebuilt = Figures::new(FigureSettings::default(), MIDNIGHT);
    for (_, text) in &day {
        rebuilt.apply(&read_stored(text));
    }
    let now = MIDNIGHT + 4 * 3_600_000;
    live.expire(now);
    rebuilt.expire(now);
    for q in ["q", "q2"] {
        let (l, r) = (
            live.queue(q).expect("live"),
            rebuilt.queue(q).expect("rebuilt"),
        );
        assert_eq!(l.today, r.today, "today's counts of {q}");
        assert_eq!(
            l.rolling.counts(),
            r.rolling.counts(),
            "rolling counts of {q}"
        );
    }
    for agent in ["a1", "a2"] {
        assert_eq!(live.agent_today(agent), rebuilt.agent_today(agent));
    }
    let ongoing = |f: &Figures| {
        let mut v: Vec<_> = f
            .conversations()
            .map(|(id, c)| (id.clone(), c.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(ongoing(&live), ongoing(&rebuilt));
    let tasks = |f: &Figures| {
        let mut v: Vec<_> = f.tasks().map(|(id, t)| (id.clone(), t.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(tasks(&live), tasks(&rebuilt));
    // And the figures are what the definitions say.
    let q = rebuilt.queue("q").expect("q").today;
    assert_eq!(
        q.offered, 2,
        "the task from yesterday is not offered again today"
    );
    assert_eq!(q.answered, 2);
    assert_eq!(q.abandoned, 1);
    assert_eq!(q.short_abandons, 1);
    assert_eq!(q.reservations, 2, "yesterday's reservation is not today's");
    assert_eq!(q.ronas, 0, "the RONA was yesterday");
    assert_eq!(
        rebuilt.queue("q2").expect("q2").today.aht_ms(),
        Some(60_000)
    );
    assert_eq!(
        rebuilt.conversation("c1").expect("c1").unanswered_since,
        Some(MIDNIGHT + 3_605_000)
    );
}
