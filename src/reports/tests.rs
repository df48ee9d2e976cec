//! The kept aggregates on a generated day (simulated clock): every hour one chat
//! answered after a known wait and handled for a known time, one customer who
//! leaves (short or not), a RONA, a declined offer, a transfer, and an agent's day
//! of states, and ratings given after chats. The
//! report gives exactly the expected figures per hour, its day equals the live
//! console's "today" fold of the same events, and a rebuild equals what was kept.

use std::collections::HashSet;

use super::keep;
use super::period::{Interval, Period};
use super::read::{self, Kind, Scope};
use super::rebuild;
use super::tally::TallySettings;
use crate::clock::Millis;
use crate::live::facts::{Fact, LiveEvent, TaskFacts};
use crate::live::figures::{FigureSettings, Figures};
use crate::store::agent_states::StateRow;
use rusqlite::Connection;

const HOUR: Millis = 3_600_000;
const MIN: Millis = 60_000;
/// 2026-12-05T00:00:00Z.
const MIDNIGHT: Millis = 1_796_428_800_000;

struct Day {
    events: Vec<LiveEvent>,
    states: Vec<StateRow>,
}

fn task(id: &str, queue: &str, enqueue: Millis) -> TaskFacts {
    TaskFacts {
        id: id.into(),
        state: "ACTIVE".into(),
        reason: None,
        assigned_to: None,
        queue_id: queue.into(),
        queue_name: queue.to_uppercase(),
        direction: "INBOUND".into(),
        media_state: "QUEUED".into(),
        enqueue_time: enqueue,
        answer_time: 0,
        customer_name: None,
        channel_name: None,
    }
}

impl Day {
    fn push(&mut self, c: &str, at: Millis, fact: Fact) {
        self.events.push(LiveEvent {
            conversation_id: c.into(),
            at,
            fact,
        });
    }

    fn enqueue(&mut self, c: &str, t: &TaskFacts, at: Millis) {
        self.push(c, at, Fact::Enqueued(t.clone()));
    }

    fn reserve(&mut self, c: &str, t: &mut TaskFacts, agent: &str, at: Millis) {
        t.media_state = "RESERVED".into();
        t.assigned_to = Some(agent.into());
        let fact = Fact::Reserved {
            agent_id: agent.into(),
            task: t.clone(),
        };
        self.push(c, at, fact);
    }

    fn accept(&mut self, c: &str, t: &mut TaskFacts, at: Millis) {
        t.media_state = "ACTIVE".into();
        t.answer_time = at;
        t.reason = None;
        self.push(c, at, Fact::Changed(t.clone()));
    }

    fn rona(&mut self, c: &str, t: &mut TaskFacts, at: Millis) {
        t.media_state = "QUEUED".into();
        t.assigned_to = None;
        t.reason = Some("RONA".into());
        self.push(c, at, Fact::Changed(t.clone()));
        self.push(c, at, Fact::Enqueued(t.clone()));
    }

    /// The agent offered the task declines it (`rejectTask`): back in its queue.
    fn decline(&mut self, c: &str, t: &mut TaskFacts, at: Millis) {
        t.media_state = "QUEUED".into();
        t.assigned_to = None;
        t.reason = Some("DECLINED".into());
        self.push(c, at, Fact::Changed(t.clone()));
        self.push(c, at, Fact::Enqueued(t.clone()));
    }

    fn close(&mut self, c: &str, t: &mut TaskFacts, reason: &str, at: Millis) {
        t.state = "CLOSED".into();
        t.media_state = "CLOSED".into();
        t.reason = Some(reason.into());
        self.push(c, at, Fact::Changed(t.clone()));
    }

    fn state(
        &mut self,
        agent: &str,
        mrd: Option<&str>,
        state: &str,
        reason: Option<&str>,
        at: Millis,
    ) {
        self.states.push(StateRow {
            user_id: agent.into(),
            mrd_id: mrd.map(str::to_owned),
            state: state.into(),
            reason_code: reason.map(str::to_owned),
            changed_at: at,
        });
    }

    /// Hours 8..18: at :00 a chat waits 10 s × (hour − 7) and is handled 5 min by a1
    /// (whose chat MRD is ACTIVE meanwhile); at :20 a customer leaves after 3 s (even
    /// hours, short) or 40 s. At 09:00 a2 lets the offer run out (RONA, 20 s) first;
    /// at 11:00 a2 declines the offer first.
    /// At 12:40 a chat answered by a1 is transferred to q2 and answered there by a2.
    /// a1: login 08:00, ready, not ready "Lunch" 12:30–13:00, ready, logout 18:00.
    fn generate() -> Day {
        let mut d = Day {
            events: Vec::new(),
            states: Vec::new(),
        };
        d.state("a1", None, "LOGIN", None, MIDNIGHT + 8 * HOUR);
        d.state("a1", None, "READY", None, MIDNIGHT + 8 * HOUR);
        for h in 8..18 {
            let at = MIDNIGHT + h * HOUR;
            let c = format!("c{h}");
            let mut t = task(&format!("t{h}"), "q", at);
            d.enqueue(&c, &t, at);
            let wait = 10_000 * (h - 7);
            if h == 9 {
                d.reserve(&c, &mut t, "a2", at + 1_000);
                d.rona(&c, &mut t, at + 15_000);
            }
            if h == 11 {
                d.reserve(&c, &mut t, "a2", at + 1_000);
                d.decline(&c, &mut t, at + 5_000);
            }
            d.reserve(&c, &mut t, "a1", at + wait - 1_000);
            d.accept(&c, &mut t, at + wait);
            d.state("a1", Some("chat"), "ACTIVE", None, at + wait);
            d.close(&c, &mut t, "DONE", at + wait + 5 * MIN);
            d.state("a1", Some("chat"), "READY", None, at + wait + 5 * MIN);
            let left = at + 20 * MIN;
            let c = format!("l{h}");
            let mut t = task(&format!("l{h}"), "q", left);
            d.enqueue(&c, &t, left);
            let patience = if h % 2 == 0 { 3_000 } else { 40_000 };
            d.close(&c, &mut t, "CANCELLED", left + patience);
        }
        let at = MIDNIGHT + 12 * HOUR + 40 * MIN;
        let mut t = task("x1", "q", at);
        d.enqueue("x", &t, at);
        d.reserve("x", &mut t, "a1", at);
        d.accept("x", &mut t, at + 5_000);
        d.close("x", &mut t, "TRANSFERRED", at + 65_000);
        let mut t2 = task("x2", "q2", at + 65_000);
        t2.direction = "DIRECT_TRANSFER".into();
        d.enqueue("x", &t2, at + 65_000);
        d.reserve("x", &mut t2, "a2", at + 66_000);
        d.accept("x", &mut t2, at + 70_000);
        d.close("x", &mut t2, "DONE", at + 130_000);
        // 14:50: a chat waits 10 s in q, a supervisor moves it to q2, a2 answers it
        // 5 s later and handles it for 2 minutes.
        let at = MIDNIGHT + 14 * HOUR + 50 * MIN;
        let mut t = task("m1", "q", at);
        d.enqueue("m", &t, at);
        t.queue_id = "q2".into();
        t.queue_name = "Q2".into();
        t.enqueue_time = at + 10_000;
        d.enqueue("m", &t, at + 10_000);
        d.reserve("m", &mut t, "a2", at + 12_000);
        d.accept("m", &mut t, at + 15_000);
        d.close("m", &mut t, "DONE", at + 135_000);
        d.state(
            "a1",
            None,
            "NOT_READY",
            Some("Lunch"),
            MIDNIGHT + 12 * HOUR + 30 * MIN,
        );
        d.state("a1", None, "READY", None, MIDNIGHT + 13 * HOUR);
        d.state("a1", None, "LOGOUT", None, MIDNIGHT + 18 * HOUR);
        // The engine driver commits in time order; so does the replay.
        d.events.sort_by_key(|e| e.at);
        d.states.sort_by_key(|s| s.changed_at);
        d
    }
}

fn store(day: &Day) -> Connection {
    let c = crate::store::test_connection();
    c.execute_batch(
        "INSERT INTO teams(id, name, created_at) VALUES ('t1', 'Team one', 0);
         INSERT INTO users(id, username, role, password_hash, team_id, created_at)
           VALUES ('a1', 'a1', 'agent', '', 't1', 0), ('a2', 'a2', 'agent', '', 't1', 0);
         INSERT INTO mrds(id, name, max_tasks, created_at) VALUES ('chat', 'chat', 3, 0);
         INSERT INTO queues(id, name, mrd_id, created_at) VALUES ('q', 'Q', 'chat', 0), ('q2', 'Q2', 'chat', 0);",
    )
    .unwrap();
    // As the engine driver does: each task change in its own batch, in order, with
    // the task log beside it; agent states as recorded.
    for e in &day.events {
        crate::store::tasks::append_log(
            &c,
            e.task_id(),
            &e.conversation_id,
            e.at,
            &serde_json::to_string(e).unwrap(),
        )
        .unwrap();
        keep::task_rows(&c, std::slice::from_ref(e), &TallySettings::default()).unwrap();
    }
    for s in &day.states {
        crate::store::agent_states::record(&c, s).unwrap();
        keep::agent_state(&c, s).unwrap();
    }
    c
}

fn admin() -> Scope {
    Scope {
        admin: true,
        teams: HashSet::new(),
    }
}

fn day_report(c: &Connection, kind: Kind, interval: Interval) -> read::Report {
    let period = Period::parse("2026-12-05", None, interval, jiff::tz::TimeZone::UTC).unwrap();
    read::report(c, kind, &period, &admin(), None, MIDNIGHT + 30 * HOUR).unwrap()
}

#[test]
fn each_hour_has_exactly_the_expected_figures() {
    let day = Day::generate();
    let c = store(&day);
    let report = day_report(&c, Kind::Queues, Interval::Hour);
    for h in 8..18i64 {
        let start = MIDNIGHT + h * HOUR;
        let line = report
            .lines
            .iter()
            .find(|l| l.id == "q" && l.start == start)
            .unwrap_or_else(|| panic!("hour {h}"));
        let n = &line.tally.counts;
        let transfer = u64::from(h == 12);
        let moved = u64::from(h == 14);
        assert_eq!(n.offered, 2 + transfer + moved, "hour {h}");
        assert_eq!(n.answered, 1 + transfer, "hour {h}");
        assert_eq!(n.abandoned, 1, "hour {h}");
        assert_eq!(n.short_abandons, u64::from(h % 2 == 0), "hour {h}");
        let wait = 10_000 * (h - 7);
        // Answered within 30 s: hours 8, 9, 10 (and the transfer's 5 s wait).
        assert_eq!(n.answered_within, u64::from(h <= 10) + transfer, "hour {h}");
        assert_eq!(
            n.wait_sum_ms,
            wait + if h == 12 { 5_000 } else { 0 },
            "hour {h}"
        );
        let longest_abandon = if h % 2 == 0 { 3_000 } else { 40_000 };
        assert_eq!(
            line.tally.max_wait_ms,
            wait.max(longest_abandon),
            "hour {h}"
        );
        assert_eq!(n.ronas, u64::from(h == 9), "hour {h}");
        assert_eq!(n.rejects, u64::from(h == 11), "hour {h}");
        assert_eq!(n.transfers_out, transfer + moved, "hour {h}");
        // Handled counts when the task closes: each chat closes in its own hour.
        assert_eq!(n.handled, 1 + transfer, "hour {h}");
        assert_eq!(n.handle_sum_ms, 5 * MIN + if h == 12 { 60_000 } else { 0 });
    }
    assert!(report.lines.iter().filter(|l| l.id == "q").all(|l| {
        let hour = (l.start - MIDNIGHT) / HOUR;
        (8..18).contains(&hour)
    }));
    let q2 = report.totals.iter().find(|l| l.id == "q2").unwrap();
    assert_eq!(q2.tally.counts.transfers_in, 2, "the transfer and the move");
    assert_eq!(q2.tally.counts.answered, 2);
    assert_eq!(
        q2.tally.counts.wait_sum_ms,
        5_000 + 5_000,
        "the move's wait starts at the move"
    );
}

#[test]
fn agent_and_team_reports_count_the_agents_work_and_time() {
    let day = Day::generate();
    let c = store(&day);
    let agents = day_report(&c, Kind::Agents, Interval::Day);
    let a1 = agents.totals.iter().find(|l| l.id == "a1").unwrap();
    assert_eq!(
        a1.tally.counts.reservations, 11,
        "ten hourly chats and the transfer"
    );
    assert_eq!(a1.tally.counts.handled, 11);
    assert_eq!(a1.tally.counts.transfers_out, 1);
    let a2 = agents.totals.iter().find(|l| l.id == "a2").unwrap();
    assert_eq!(a2.tally.counts.ronas, 1);
    assert_eq!(a2.tally.counts.rejects, 1);
    assert_eq!(a1.tally.counts.rejects, 0);
    assert_eq!(a2.tally.counts.handled, 2);
    let time = a1.time.clone().unwrap();
    assert_eq!(time.logged_in_ms, 10 * HOUR);
    assert_eq!(time.not_ready_ms, 30 * MIN);
    assert_eq!(time.not_ready_by_reason.get("Lunch"), Some(&(30 * MIN)));
    assert_eq!(time.ready_ms, 10 * HOUR - 30 * MIN);
    assert_eq!(time.occupied_ms, 10 * 5 * MIN, "the MRD ACTIVE spans");
    let teams = day_report(&c, Kind::Teams, Interval::Day);
    let t1 = &teams.totals[0];
    assert_eq!(t1.tally.counts.handled, 13);
    assert_eq!(t1.tally.counts.abandoned, 0, "abandons have no agent");
    // By 15 minutes, a1's 08:00 quarter is all ready and the chat's 5 minutes occupy it.
    let quarters = day_report(&c, Kind::Agents, Interval::Quarter);
    let first = quarters
        .lines
        .iter()
        .find(|l| l.id == "a1" && l.start == MIDNIGHT + 8 * HOUR)
        .unwrap();
    let t = first.time.clone().unwrap();
    assert_eq!((t.ready_ms, t.occupied_ms), (15 * MIN, 5 * MIN));
}

/// The figures of one agent asked alone are that agent's lines of the whole report,
/// and a report shows only the entities it knows (a deleted agent's rows stay out).
#[test]
fn a_report_narrowed_to_one_entity_is_its_share_of_the_whole() {
    let day = Day::generate();
    let c = store(&day);
    c.execute_batch(&format!(
        "INSERT INTO report_wrapups (interval_start, dimension, key, code, count) VALUES
         ({t}, '{agent}', 'a1', 'Sale', 2), ({t}, '{agent}', 'a2', 'Sale', 1),
         ({t}, '{agent}', 'gone', 'Sale', 5), ({t}, '{queue}', 'q', 'Sale', 3);",
        t = MIDNIGHT + 9 * HOUR,
        agent = Kind::Agents.dimension(),
        queue = Kind::Queues.dimension(),
    ))
    .unwrap();
    let whole = day_report(&c, Kind::Agents, Interval::Hour);
    let period =
        Period::parse("2026-12-05", None, Interval::Hour, jiff::tz::TimeZone::UTC).unwrap();
    let alone = read::report(
        &c,
        Kind::Agents,
        &period,
        &admin(),
        Some("a2"),
        MIDNIGHT + 30 * HOUR,
    )
    .unwrap();
    let of_a2 = |lines: &[read::Line]| -> Vec<read::Line> {
        lines.iter().filter(|l| l.id == "a2").cloned().collect()
    };
    assert!(alone.lines.len() >= 2, "{:?}", alone.lines);
    assert_eq!(alone.lines, of_a2(&whole.lines));
    assert_eq!(alone.totals, of_a2(&whole.totals));
    let codes = |r: &read::Report| -> Vec<(String, i64)> {
        r.wrapups.iter().map(|w| (w.id.clone(), w.count)).collect()
    };
    assert_eq!(codes(&whole), [("a1".into(), 2), ("a2".into(), 1)]);
    assert_eq!(codes(&alone), [("a2".into(), 1)]);
    assert!(whole.lines.iter().all(|l| l.id != "gone"));
}

#[test]
fn a_days_report_equals_the_live_consoles_today() {
    let day = Day::generate();
    let c = store(&day);
    let mut live = Figures::new(FigureSettings::default(), MIDNIGHT);
    for e in &day.events {
        live.apply(e);
    }
    let report = day_report(&c, Kind::Queues, Interval::Day);
    for queue in ["q", "q2"] {
        let total = report.totals.iter().find(|l| l.id == queue).unwrap();
        assert_eq!(
            total.tally.counts,
            live.queue(queue).unwrap().today,
            "{queue}"
        );
    }
    let agents = day_report(&c, Kind::Agents, Interval::Day);
    for agent in ["a1", "a2"] {
        let total = agents.totals.iter().find(|l| l.id == agent).unwrap();
        let today = live.agent_today(agent);
        assert_eq!(total.tally.counts.handled, today.handled, "{agent}");
        assert_eq!(total.tally.counts.aht_ms(), today.aht_ms(), "{agent}");
    }
}

#[test]
fn a_rebuild_equals_what_was_kept() {
    let day = Day::generate();
    let c = store(&day);
    let kept = rebuild::dump(&c).unwrap();
    for (table, rows) in &kept {
        if table != "report_tasks" && table != "report_wrapups" {
            assert!(!rows.is_empty(), "{table} has rows");
        }
    }
    let done = rebuild::rebuild(&c, &TallySettings::default()).unwrap();
    assert_eq!(done.task_log_rows as usize, day.events.len());
    assert_eq!(done.state_changes as usize, day.states.len());
    assert_eq!(rebuild::dump(&c).unwrap(), kept);
}

#[test]
fn an_agents_timeline_shows_the_days_states_with_reasons() {
    let day = Day::generate();
    let c = store(&day);
    let period = Period::parse("2026-12-05", None, Interval::Day, jiff::tz::TimeZone::UTC).unwrap();
    let now = MIDNIGHT + 20 * HOUR;
    let spans = super::timeline::spans(&c, "a1", &period, now).unwrap();
    let agent: Vec<(Millis, Millis, &str, &str, bool)> = spans
        .iter()
        .filter(|s| s.track == "agent")
        .map(|s| {
            (
                s.start - MIDNIGHT,
                s.end - MIDNIGHT,
                s.state.as_str(),
                s.reason.as_str(),
                s.open,
            )
        })
        .collect();
    assert_eq!(
        agent,
        vec![
            (8 * HOUR, 12 * HOUR + 30 * MIN, "READY", "", false),
            (12 * HOUR + 30 * MIN, 13 * HOUR, "NOT_READY", "Lunch", false),
            (13 * HOUR, 18 * HOUR, "READY", "", false),
            (18 * HOUR, 20 * HOUR, "LOGOUT", "", true),
        ]
    );
    let occupied: Vec<&super::timeline::Span> =
        spans.iter().filter(|s| s.track == "occupied").collect();
    assert_eq!(occupied.len(), 10);
    assert_eq!(occupied[0].start - MIDNIGHT, 8 * HOUR + 10_000);
    assert_eq!(occupied[0].end - occupied[0].start, 5 * MIN);
    let table = super::timeline::table(&spans, &period);
    assert_eq!(table.rows.len(), spans.len());
    let rows = table.json_rows();
    let lunch = rows.iter().find(|r| r["state"] == "NOT_READY").unwrap();
    assert_eq!(lunch["reasonCode"], "Lunch");
    assert_eq!(lunch["durationSecs"], 1800.0);
}

/// A conversation `id` whose one task in `queue` was answered by `agent` (or not),
/// rated `rating` at `at`.
fn rated(c: &Connection, id: &str, queue: &str, agent: Option<&str>, rating: i64, at: Millis) {
    c.execute(
        "INSERT OR IGNORE INTO customers(id, created_at) VALUES ('cu', 0)",
        [],
    )
    .unwrap();
    c.execute(
        "INSERT INTO conversations(id, customer_id, room_id, state, snapshot, creation_time, updated_at)
         VALUES (?1, 'cu', ?1, 'CLOSED', '{}', ?2, ?2)",
        rusqlite::params![id, at - 10 * MIN],
    )
    .unwrap();
    c.execute(
        "INSERT INTO tasks(id, conversation_id, state, agent_id, created_at, closed_at, snapshot, updated_at)
         VALUES (?1, ?1, 'CLOSED', ?2, ?3, ?4, '{}', ?4)",
        rusqlite::params![id, agent, at - 10 * MIN, at - MIN],
    )
    .unwrap();
    c.execute(
        "INSERT INTO task_media(id, task_id, mrd_id, queue_id, state, priority, direction, mode,
             agent_id, enqueue_time, answer_time, updated_at)
         VALUES (?1, ?1, 'chat', ?2, 'CLOSED', 5, 'INBOUND', 'QUEUE', ?3, ?4, ?5, ?4)",
        rusqlite::params![id, queue, agent, at - 10 * MIN, agent.map(|_| at - 9 * MIN)],
    )
    .unwrap();
    c.execute(
        "INSERT INTO csat(conversation_id, rating, submitted_at) VALUES (?1, ?2, ?3)",
        rusqlite::params![id, rating, at],
    )
    .unwrap();
    // As the widget's rating is stored: folded into the aggregates in its write.
    super::keep::rating(c, id, rating, at).unwrap();
}

#[test]
fn csat_is_averaged_per_queue_agent_and_team_in_the_interval_it_was_given() {
    let c = store(&Day::generate());
    // 10:05 a1's chat in q rated 5, 10:40 a2's chat in q rated 2, 11:10 a1's chat in
    // q2 rated 4; a chat nobody answered cannot be rated against an agent or queue.
    rated(&c, "r1", "q", Some("a1"), 5, MIDNIGHT + 10 * HOUR + 5 * MIN);
    rated(
        &c,
        "r2",
        "q",
        Some("a2"),
        2,
        MIDNIGHT + 10 * HOUR + 40 * MIN,
    );
    rated(
        &c,
        "r3",
        "q2",
        Some("a1"),
        4,
        MIDNIGHT + 11 * HOUR + 10 * MIN,
    );
    rated(&c, "r4", "q", None, 1, MIDNIGHT + 11 * HOUR + 20 * MIN);
    let queues = day_report(&c, Kind::Queues, Interval::Hour);
    let at = |report: &read::Report, id: &str, h: Millis| {
        report
            .lines
            .iter()
            .find(|l| l.id == id && l.start == MIDNIGHT + h * HOUR)
            .map(|l| (l.csat.count, l.csat.average()))
    };
    assert_eq!(at(&queues, "q", 10), Some((2, Some(3.5))));
    assert_eq!(
        at(&queues, "q", 11).map(|(n, _)| n),
        Some(0),
        "r4 was never answered"
    );
    assert_eq!(at(&queues, "q2", 11), Some((1, Some(4.0))));
    let agents = day_report(&c, Kind::Agents, Interval::Day);
    let total = |report: &read::Report, id: &str| {
        let line = report.totals.iter().find(|l| l.id == id).unwrap();
        (line.csat.count, line.csat.average())
    };
    assert_eq!(total(&agents, "a1"), (2, Some(4.5)));
    assert_eq!(total(&agents, "a2"), (1, Some(2.0)));
    let teams = day_report(&c, Kind::Teams, Interval::Day);
    assert_eq!(total(&teams, "t1"), (3, Some(11.0 / 3.0)));
    let table = super::table::lines(
        &agents,
        &agents.totals,
        &Period::parse("2026-12-05", None, Interval::Day, jiff::tz::TimeZone::UTC).unwrap(),
    );
    let rows = table.json_rows();
    let a1 = rows.iter().find(|r| r["id"] == "a1").unwrap();
    assert_eq!(
        (a1["csatAvg"].as_f64(), a1["csatCount"].as_u64()),
        (Some(4.5), Some(2))
    );
    let a2 = rows.iter().find(|r| r["id"] == "a2").unwrap();
    assert_eq!(a2["rejects"], 1);
}
