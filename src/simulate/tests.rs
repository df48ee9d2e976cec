//! The simulation against Erlang C on a synthetic Poisson load, and its what-ifs on
//! small hand-made workloads.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::erlang::erlang_c;
use super::*;
use crate::routing::{AgentProfile, MrdConfig, QueueConfig, RoutingConfig, SelectionPolicy};

const T0: Millis = 1_800_000_000_000;

fn exponential(rng: &mut StdRng, mean_ms: f64) -> Millis {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    (-u.ln() * mean_ms).round() as Millis
}

fn agent(id: &str) -> AgentPlan {
    AgentPlan {
        profile: AgentProfile {
            id: id.to_string(),
            username: id.to_string(),
            team: None,
            attributes: Default::default(),
            mrd_max_tasks: Default::default(),
        },
        shift: vec![ShiftChange {
            at: T0,
            state: ShiftState::Ready,
            reason: None,
        }],
        sample_as: id.to_string(),
    }
}

/// `agents` agents of capacity 1 on one queue, `arrivals` Poisson arrivals at
/// `rate_per_sec`, exponential handle times of mean `handle_secs`, no abandons.
fn mmc(agents: usize, arrivals: usize, rate_per_sec: f64, handle_secs: f64, seed: u64) -> Workload {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut at = T0;
    let recorded: Vec<Arrival> = (0..arrivals)
        .map(|i| {
            at += exponential(&mut rng, 1000.0 / rate_per_sec);
            Arrival {
                task_id: format!("t{i:06}"),
                at,
                queue_id: "q".into(),
                priority: 5,
                policy: SelectionPolicy::LongestAvailable,
                ttl_ms: None,
                patience_ms: None,
            }
        })
        .collect();
    // Through the arrival source, as the store's and the journal's arrivals come.
    let arrivals = recorded[..].arrivals(T0, Millis::MAX).unwrap();
    let handle_all = (0..200_000)
        .map(|_| (exponential(&mut rng, handle_secs * 1000.0), 0))
        .collect();
    Workload {
        routing: RoutingConfig::default(),
        mrds: vec![MrdConfig {
            id: "chat".into(),
            name: "CHAT".into(),
            description: String::new(),
            max_tasks: 1,
            interruptible: true,
        }],
        queues: vec![QueueConfig {
            id: "q".into(),
            name: "Q".into(),
            mrd_id: "chat".into(),
            priority: 5,
            accept_timeout_ms: None,
            agent_sla_ms: None,
            service_level_threshold_ms: Some(20_000),
            steps: Vec::new(),
        }],
        agents: (0..agents).map(|i| agent(&format!("a{i:02}"))).collect(),
        arrivals,
        pools: Pools {
            accept_all: vec![0],
            handle_all,
            ..Pools::default()
        },
        short_abandon_ms: 5_000,
    }
}

/// The recorded and the changed run of `work` over all its arrivals, seed 1.
fn what_if(work: &Workload, changes: Changes) -> Comparison {
    let (from, to) = period(work);
    let request = Request {
        from,
        to,
        seed: 1,
        changes,
    };
    compare(work, &request).unwrap()
}

fn period(work: &Workload) -> (Millis, Millis) {
    (T0, work.arrivals.last().map_or(T0, |a| a.at) + 1)
}

/// Runs an M/M/c load of `arrivals` and compares it with Erlang C: ASA within
/// `asa_tolerance` (relative), the probability of wait and the service level (20 s)
/// within `points` (absolute), occupancy within 3 points of the load per agent.
fn check_against_erlang_c(
    agents: u32,
    erlangs: f64,
    arrivals: usize,
    asa_tolerance: f64,
    points: f64,
) {
    let handle = 180.0;
    let rate = erlangs / handle;
    let work = mmc(agents as usize, arrivals, rate, handle, 7);
    let (from, to) = period(&work);
    let figures = simulate(&work, from, to, 1).unwrap();
    let q = &figures.queues["q"];
    let expected = erlang_c(agents, rate, handle, 20.0).unwrap();
    assert_eq!(figures.rejected, 0, "the core refused an input");
    assert_eq!(
        (q.offered, q.answered),
        (arrivals as u64, arrivals as u64),
        "{q:?}"
    );
    let asa = q.asa_secs().unwrap();
    let wait = q.wait_probability().unwrap();
    let sl = q.service_level_pct().unwrap() / 100.0;
    let occupancy = figures.occupancy_pct("chat").unwrap();
    eprintln!(
        "M/M/{agents} at {erlangs} erlangs, {arrivals} arrivals: ASA {asa:.2} s vs {:.2} s, \
         P(wait) {wait:.4} vs {:.4}, SL(20 s) {sl:.4} vs {:.4}, occupancy {occupancy:.1} % vs {:.1} %",
        expected.asa_secs,
        expected.wait_probability,
        expected.service_level,
        100.0 * erlangs / f64::from(agents),
    );
    assert!(
        (asa - expected.asa_secs).abs() <= asa_tolerance * expected.asa_secs,
        "ASA {asa} vs {expected:?}"
    );
    assert!(
        (wait - expected.wait_probability).abs() <= points,
        "{wait} vs {expected:?}"
    );
    assert!(
        (sl - expected.service_level).abs() <= points,
        "{sl} vs {expected:?}"
    );
    // Occupancy of capacity-1 agents is their utilisation, A / c.
    assert!(
        (occupancy - 100.0 * erlangs / f64::from(agents)).abs() <= 3.0,
        "occupancy {occupancy}"
    );
}

/// M/M/10 at 80 % load (8 erlangs: a chat every 22.5 s, 180 s each), 40,000
/// arrivals (about ten days).
#[test]
fn a_poisson_load_matches_erlang_c() {
    check_against_erlang_c(10, 8.0, 40_000, 0.10, 0.03);
}

/// A 50-agent site at 90 % load (45 erlangs), 200,000 arrivals (about nine days: at
/// this load waits are correlated over hours, and two days came 18 % off on ASA).
#[test]
fn a_busy_50_agent_poisson_load_matches_erlang_c() {
    check_against_erlang_c(50, 45.0, 200_000, 0.10, 0.03);
}

#[test]
fn a_run_is_deterministic_and_more_agents_answer_sooner() {
    let work = mmc(4, 2_000, 3.0 / 180.0, 180.0, 3);
    let (from, to) = period(&work);
    let request = |agents| Request {
        from,
        to,
        seed: 9,
        changes: Changes {
            agents: AgentDelta(agents),
            ..Changes::default()
        },
    };
    let more = compare(&work, &request(2)).unwrap();
    assert_eq!(
        compare(&work, &request(2)).unwrap(),
        more,
        "same seed, same figures"
    );
    let (rec, chg) = (
        more.row("q", "recorded").unwrap(),
        more.row("q", "changed").unwrap(),
    );
    assert_eq!(rec.figures.offered, 2_000);
    assert_eq!(chg.figures.offered, 2_000);
    assert!(
        chg.figures.asa_secs().unwrap() < rec.figures.asa_secs().unwrap(),
        "{rec:?} {chg:?}"
    );
    assert!(chg.figures.service_level_pct() >= rec.figures.service_level_pct());
    let fewer = compare(&work, &request(-1)).unwrap();
    let chg = fewer.row("q", "changed").unwrap();
    assert!(chg.figures.asa_secs().unwrap() > rec.figures.asa_secs().unwrap());
}

#[test]
fn customers_leave_at_their_recorded_patience() {
    let mut work = mmc(0, 50, 1.0 / 60.0, 180.0, 5);
    for (i, a) in work.arrivals.iter_mut().enumerate() {
        a.patience_ms = Some(if i % 2 == 0 { 2_000 } else { 40_000 });
    }
    let (from, to) = period(&work);
    let figures = simulate(&work, from, to, 1).unwrap();
    let q = &figures.queues["q"];
    assert_eq!((q.offered, q.answered, q.abandoned), (50, 0, 50));
    assert_eq!(q.short_abandons, 25, "waits of 2 s are short abandons");
    assert_eq!(q.service_level_pct(), Some(0.0));
    // One agent who takes 1 s per chat answers everyone before they leave.
    work.agents.push(agent("fast"));
    work.pools.handle_all = vec![(1_000, 0)];
    let figures = simulate(&work, from, to, 1).unwrap();
    let q = &figures.queues["q"];
    assert_eq!((q.answered, q.abandoned), (50, 0));
}

#[test]
fn a_shift_end_finishes_its_tasks_then_logs_out() {
    let mut work = mmc(1, 3, 1.0, 600.0, 1);
    work.pools.handle_all = vec![(60_000, 30_000)];
    work.agents[0].shift.push(ShiftChange {
        at: T0 + 10_000,
        state: ShiftState::Logout,
        reason: None,
    });
    let (from, _) = period(&work);
    let to = from + 3_600_000;
    let figures = simulate(&work, from, to, 1).unwrap();
    let q = &figures.queues["q"];
    // The first chat arrived while the agent was ready and is finished; the others
    // were never offered (the agent stopped taking tasks at 10 s).
    assert_eq!((q.offered, q.answered, q.unfinished), (3, 1, 2), "{q:?}");
    let (busy, logged_in) = figures.occupancy["chat"];
    assert_eq!(busy, 60_000, "handled for 60 s (wrap-up frees the slot)");
    assert!(
        (90_000..=95_000).contains(&logged_in),
        "logged out after wrap-up: {logged_in}"
    );
}

#[test]
fn changes_apply_and_bad_changes_are_refused() {
    let work = mmc(3, 10, 1.0 / 60.0, 60.0, 2);
    let (from, to) = period(&work);
    let changes = Changes {
        agents: AgentDelta(2),
        step_timeout: Some(("Q".into(), 15)),
        policy: Some(SelectionPolicy::MostSkilled),
    };
    let changed = changes.apply(&work, from, to).unwrap();
    assert_eq!(changed.agents.len(), 5);
    assert_eq!(changed.agents[3].profile.id, "sim-extra-1");
    assert!(changed
        .arrivals
        .iter()
        .all(|a| a.policy == SelectionPolicy::MostSkilled));
    assert_eq!(
        changes.describe(),
        "agents +2, queue Q step timeout 15 s, policy MOST_SKILLED"
    );
    let fewer = Changes {
        agents: AgentDelta(-3),
        ..Changes::default()
    };
    assert!(fewer.apply(&work, from, to).unwrap().agents.is_empty());
    let too_many = Changes {
        agents: AgentDelta(-4),
        ..Changes::default()
    };
    let err = too_many.apply(&work, from, to).unwrap_err();
    assert_eq!(err.code(), "too_few_agents");
    let unknown = Changes {
        step_timeout: Some(("nope".into(), 5)),
        ..Changes::default()
    };
    assert_eq!(
        unknown.apply(&work, from, to).unwrap_err().code(),
        "unknown_queue"
    );
    let empty = Request {
        from: to,
        to: from,
        seed: 1,
        changes: Changes::default(),
    };
    assert_eq!(compare(&work, &empty).unwrap_err().code(), "empty_period");
}

#[test]
fn times_and_policies_parse_and_bad_ones_are_refused() {
    assert_eq!(parse_time("1800000000000"), Ok(1_800_000_000_000));
    assert_eq!(parse_time("2026-12-04T00:00:00Z"), Ok(1_796_342_400_000));
    assert_eq!(parse_time("2026-12-04"), Ok(1_796_342_400_000));
    assert!(parse_time("yesterday").is_err());
    assert_eq!(
        parse_policy("most-skilled"),
        Ok(SelectionPolicy::MostSkilled)
    );
    assert_eq!(
        parse_policy("LEAST_ACTIVE_TASKS"),
        Ok(SelectionPolicy::LeastActiveTasks)
    );
    assert!(parse_policy("random").is_err());
    assert_eq!("+3".parse::<AgentDelta>(), Ok(AgentDelta(3)));
    assert!("three".parse::<AgentDelta>().is_err());
}

#[test]
fn a_shorter_step_timeout_lets_the_next_step_answer_sooner() {
    // Step 1 looks for an expert nobody is; step 2 (anyone) opens after 60 s.
    let mut work = mmc(3, 300, 1.0 / 60.0, 60.0, 4);
    work.queues[0].steps = vec![
        crate::routing::StepConfig {
            expression: "expert == true".into(),
            timeout_ms: 60_000,
        },
        crate::routing::StepConfig {
            expression: String::new(),
            timeout_ms: 0,
        },
    ];
    let c = what_if(
        &work,
        Changes {
            step_timeout: Some(("q".into(), 5)),
            ..Changes::default()
        },
    );
    let (rec, chg) = (
        c.row("q", "recorded").unwrap(),
        c.row("q", "changed").unwrap(),
    );
    assert!(rec.figures.asa_secs().unwrap() >= 60.0, "{rec:?}");
    assert!(chg.figures.asa_secs().unwrap() < 10.0, "{chg:?}");
    assert_eq!(rec.figures.service_level_pct(), Some(0.0));
    assert!(chg.figures.service_level_pct().unwrap() > 90.0, "{chg:?}");
}

#[test]
fn most_skilled_routing_to_the_faster_expert_answers_sooner() {
    // Two agents of capacity 1: an expert who handles a chat in 20 s and a novice
    // who takes 200 s. Longest-available shares the chats; most-skilled gives each to
    // the expert whenever the expert is free.
    let mut work = mmc(2, 600, 1.0 / 60.0, 60.0, 6);
    work.queues[0].steps = vec![crate::routing::StepConfig {
        expression: "chat >= 1".into(),
        timeout_ms: 0,
    }];
    for (plan, level, handle_ms) in [(0, 10, 20_000), (1, 1, 200_000)] {
        let agent = &mut work.agents[plan];
        agent
            .profile
            .attributes
            .insert("chat".into(), crate::routing::AttrValue::Proficiency(level));
        let own = vec![(handle_ms, 0); super::source::OWN_HANDLE_SAMPLES];
        work.pools
            .handle_by_agent
            .insert(agent.profile.id.clone(), own);
    }
    let c = what_if(
        &work,
        Changes {
            policy: Some(SelectionPolicy::MostSkilled),
            ..Changes::default()
        },
    );
    let (rec, chg) = (
        c.row("q", "recorded").unwrap(),
        c.row("q", "changed").unwrap(),
    );
    assert_eq!(c.recorded.rejected + c.changed.rejected, 0);
    // (Measured: ASA 2.6 s -> 2.2 s, chats that waited 128 -> 99, occupancy 48 % -> 38 %.)
    assert!(
        chg.figures.asa_secs().unwrap() < 0.9 * rec.figures.asa_secs().unwrap(),
        "{rec:?} {chg:?}"
    );
    assert!(chg.figures.answered_after_wait < rec.figures.answered_after_wait);
    assert!(chg.occupancy_pct < rec.occupancy_pct, "{rec:?} {chg:?}");
}

#[test]
fn arrivals_for_a_queue_that_is_gone_are_counted_apart() {
    let mut work = mmc(2, 20, 1.0 / 60.0, 60.0, 8);
    for a in work.arrivals.iter_mut().step_by(4) {
        a.queue_id = "deleted".into();
    }
    let (from, to) = period(&work);
    let figures = simulate(&work, from, to, 1).unwrap();
    assert_eq!(figures.refused_arrivals, 5);
    assert_eq!(figures.rejected, 5);
    let q = &figures.queues["q"];
    assert_eq!((q.offered, q.answered, q.unfinished), (15, 15, 0));
    assert!(!figures.queues.contains_key("deleted"));
}

#[test]
fn a_simulated_day_journals_and_replays_without_divergence_and_a_changed_rule_diverges() {
    use crate::replay::{replay, Overrides};
    use crate::store::{journal as rows, objects::Interner};
    // A day of a 10-agent site at 80 % load (a chat every 22.5 s, 180 s each); the
    // queue looks for one of its three experts for 20 s, then for anyone.
    const HOUR: Millis = 3_600_000;
    let mut work = mmc(10, 3_840, 8.0 / 180.0, 180.0, 11);
    work.queues[0].steps = vec![
        crate::routing::StepConfig {
            expression: "expert == true".into(),
            timeout_ms: 20_000,
        },
        crate::routing::StepConfig {
            expression: String::new(),
            timeout_ms: 0,
        },
    ];
    for plan in &mut work.agents[..3] {
        plan.profile
            .attributes
            .insert("expert".into(), crate::routing::AttrValue::Bool(true));
    }
    work.pools.accept_all = (0..8).map(|s| s * 1_000).collect();
    let (from, to) = (T0, T0 + 24 * HOUR);
    let entries = journal(&work, from, to, 1, HOUR).unwrap();
    let conn = crate::store::test_connection();
    let mut interner = Interner::default();
    for entry in &entries {
        rows::append(&conn, &mut interner, entry).unwrap();
    }

    let whole = replay(&conn, None, None, &Overrides::default()).unwrap();
    assert_eq!(whole.divergence, None);
    assert!(whole.inputs > 10_000, "{whole:?}");
    assert!(whole.snapshots >= 23, "{whole:?}");
    assert!(whole.last_at.unwrap() >= to - HOUR, "{whole:?}");

    // From noon: the snapshot of the first input after it.
    let noon = from + 12 * HOUR;
    let afternoon = replay(&conn, Some(noon + 60_000), None, &Overrides::default()).unwrap();
    assert_eq!(afternoon.divergence, None);
    let began = afternoon.began_at_snapshot.expect("began at a snapshot");
    assert!((noon..noon + 60_000).contains(&began), "{afternoon:?}");
    assert!(afternoon.inputs < whole.inputs * 2 / 3, "{afternoon:?}");

    // The experts searched 5 s instead of 20: the first chat that waited for one
    // goes to anyone sooner.
    let changed = Overrides {
        step_timeout: Some(("q".into(), 5_000)),
        ..Overrides::default()
    };
    let d = replay(&conn, None, None, &changed)
        .unwrap()
        .divergence
        .expect("a divergence");
    assert!(d.at > from, "{d:?}");
    assert_ne!(d.expected, d.recomputed);
}
