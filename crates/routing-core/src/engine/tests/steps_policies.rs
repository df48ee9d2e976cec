//! Queue steps (expressions, timeouts, pools searched in order) and the agent
//! selection policies.

use super::*;
use crate::{Input, SelectionPolicy};

fn tech_sim() -> Sim {
    let mut sim = Sim::new();
    sim.queue(
        "tech",
        "chat",
        &[("skill >= 7", 10_000), ("skill >= 3", 10_000), ("", 0)],
    );
    sim.agent("expert", &[("skill", skill(8))]);
    sim.agent("junior", &[("skill", skill(4))]);
    sim.agent("novice", &[]);
    sim
}

#[test]
fn step_expression_limits_the_first_pool() {
    let mut sim = tech_sim();
    sim.ready("junior");
    sim.ready("novice");
    assert!(offers(&sim.enqueue(task("t1", "tech"))).is_empty());
    assert_eq!(offers(&sim.ready("expert")), vec![pair("expert", "t1")]);
}

#[test]
fn step_timeouts_open_the_next_pools() {
    let mut sim = tech_sim();
    sim.ready("novice");
    sim.enqueue(task("t1", "tech"));
    sim.ready("junior");
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
    // Step 2 opens at 10 s: junior matches it.
    assert!(offers(&sim.advance(9_999)).is_empty());
    assert_eq!(offers(&sim.advance(1)), vec![pair("junior", "t1")]);

    sim.enqueue(task("t2", "tech"));
    sim.enqueue(task("t3", "tech"));
    // At 10 s step 2 opens: junior takes t2 and is full; at 20 s step 3 opens for novice.
    assert_eq!(offers(&sim.advance(10_000)), vec![pair("junior", "t2")]);
    assert_eq!(offers(&sim.advance(10_000)), vec![pair("novice", "t3")]);
    assert_eq!(sim.core.task("t3").unwrap().routing.step, 2);
}

#[test]
fn earlier_pools_are_searched_first() {
    let mut sim = tech_sim();
    sim.enqueue(task("t1", "tech"));
    sim.advance(20_000);
    assert_eq!(sim.core.task("t1").unwrap().routing.step, 2);
    sim.ready("expert");
    assert_eq!(sim.holder("t1").as_deref(), Some("expert"));
    // novice has been available longest, but junior matches an earlier step.
    sim.ready("novice");
    sim.now += 1;
    sim.ready("junior");
    let effects = sim.advance(30_000);
    assert_eq!(
        revokes(&effects),
        vec![("expert".to_string(), "t1".to_string(), RevokeReason::Rona)]
    );
    assert_eq!(offers(&effects), vec![pair("junior", "t1")]);
}

#[test]
fn a_queue_without_steps_takes_every_agent_of_its_mrd() {
    let mut sim = tech_sim();
    sim.queue("any", "chat", &[]);
    sim.ready("novice");
    assert_eq!(
        offers(&sim.enqueue(task("t1", "any"))),
        vec![pair("novice", "t1")]
    );
}

#[test]
fn and_or_are_evaluated_left_to_right() {
    let mut sim = Sim::new();
    sim.queue("q", "chat", &[("vip OR skill >= 5 AND english", 0)]);
    sim.agent("vip_only", &[("vip", AttrValue::Bool(true))]);
    sim.agent(
        "vip_english",
        &[
            ("vip", AttrValue::Bool(true)),
            ("english", AttrValue::Bool(true)),
        ],
    );
    sim.ready("vip_only");
    assert!(offers(&sim.enqueue(task("t1", "q"))).is_empty());
    assert_eq!(
        offers(&sim.ready("vip_english")),
        vec![pair("vip_english", "t1")]
    );
}

/// Three available agents on `chat` (max 3): in longest-available order a3 (load 2),
/// a2 (load 1), a1 (load 1); skills a1=9, a2=3, a3=5.
fn policy_sim() -> Sim {
    let mut sim = Sim::new();
    sim.send(Input::UpsertMrd(mrd("chat", 3, true)));
    sim.queue("named", "chat", &[]);
    sim.queue("q", "chat", &[("skill >= 1", 0)]);
    sim.agent("a1", &[("skill", skill(9))]);
    sim.agent("a2", &[("skill", skill(3))]);
    sim.agent("a3", &[("skill", skill(5))]);
    for a in ["a1", "a2", "a3"] {
        sim.ready(a);
    }
    let mut n = 0;
    for (agent, count) in [("a3", 2), ("a2", 1), ("a1", 1)] {
        sim.now += 1;
        for _ in 0..count {
            n += 1;
            sim.enqueue(named(&format!("n{n}"), "named", agent));
        }
    }
    sim
}

#[test]
fn longest_available_picks_the_agent_idle_longest() {
    let mut sim = policy_sim();
    let effects = sim.enqueue(NewTask {
        selection_policy: SelectionPolicy::LongestAvailable,
        ..task("t", "q")
    });
    assert_eq!(offers(&effects), vec![pair("a3", "t")]);
}

#[test]
fn least_active_tasks_picks_the_least_loaded_agent() {
    let mut sim = policy_sim();
    let effects = sim.enqueue(NewTask {
        selection_policy: SelectionPolicy::LeastActiveTasks,
        ..task("t", "q")
    });
    assert_eq!(offers(&effects), vec![pair("a2", "t")]);
}

#[test]
fn most_skilled_picks_the_highest_proficiency_sum() {
    let mut sim = policy_sim();
    let effects = sim.enqueue(NewTask {
        selection_policy: SelectionPolicy::MostSkilled,
        ..task("t", "q")
    });
    assert_eq!(offers(&effects), vec![pair("a1", "t")]);
}

#[test]
fn longest_available_ties_go_to_fewer_tasks() {
    let mut sim = Sim::new();
    sim.send(Input::UpsertMrd(mrd("chat", 3, true)));
    sim.queue("named", "chat", &[]);
    sim.queue("q", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.ready("a2");
    // Both get a task at the same millisecond; a1 a second one.
    sim.enqueue(named("n1", "named", "a1"));
    sim.enqueue(named("n2", "named", "a1"));
    sim.enqueue(named("n3", "named", "a2"));
    assert_eq!(offers(&sim.enqueue(task("t", "q"))), vec![pair("a2", "t")]);
}
