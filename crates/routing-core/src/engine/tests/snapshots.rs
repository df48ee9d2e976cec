//! A core read back from its state snapshot decides what the running core decides.

use super::*;
use crate::digest;
use crate::{NewPullRequest, PullListConfig, SnapshotError};

/// A site in the middle of its day: a queue with steps, tasks waiting at different
/// steps, an offer out (RONA armed), an active chat, a closed task's slot free, a
/// dropped desk in its grace and a pull-mode request with data.
fn busy_site() -> Sim {
    let mut sim = Sim::new();
    sim.queue(
        "sales",
        "chat",
        &[("skill >= 7", 10_000), ("skill >= 3", 20_000), ("", 0)],
    );
    sim.queue("support", "chat", &[]);
    sim.agent("expert", &[("skill", skill(8))]);
    sim.agent("junior", &[("skill", skill(4))]);
    sim.agent("novice", &[("skill", skill(1))]);
    sim.ready("expert");
    sim.enqueue(task("t0", "support"));
    sim.accept("expert", "t0");
    sim.close("t0");
    sim.enqueue(task("t1", "sales"));
    sim.accept("expert", "t1");
    sim.enqueue(task("t2", "sales"));
    sim.now += 1_000;
    sim.enqueue(NewTask {
        priority: 9,
        ..task("t3", "sales")
    });
    sim.enqueue(task("t4", "support"));
    sim.advance(12_000);
    sim.ready("junior");
    sim.send(Input::AgentConnected {
        agent_id: "novice".into(),
    });
    sim.send(Input::AgentDisconnected {
        agent_id: "novice".into(),
    });
    sim.send(Input::UpsertPullList(PullListConfig {
        id: "leads".into(),
        name: "Leads".into(),
    }));
    sim.send(Input::AddPullRequest(NewPullRequest {
        id: "r1".into(),
        list_id: "leads".into(),
        conversation_id: "c1".into(),
        data: serde_json::json!({"customer": "Ada"}),
    }));
    sim
}

/// What happens next on both cores, as each input's effect digest and brief.
fn the_rest_of_the_day(core: &mut RoutingCore, from: Millis) -> Vec<(u64, String)> {
    let inputs = vec![
        (from + 5_000, Input::Tick),
        (
            from + 6_000,
            Input::AcceptTask {
                agent_id: "junior".into(),
                task_id: "t3".into(),
            },
        ),
        (from + 25_000, Input::Tick),
        (
            from + 26_000,
            Input::EnqueueTask(Box::new(task("t5", "sales"))),
        ),
        (
            from + 27_000,
            Input::CloseTask {
                task_id: "t1".into(),
                disposition: crate::Disposition::Done,
            },
        ),
        (from + 60_000, Input::Tick),
        (
            from + 61_000,
            Input::SubscribePullList {
                agent_id: "expert".into(),
                list_id: "leads".into(),
            },
        ),
        (from + 200_000, Input::Tick),
    ];
    inputs
        .into_iter()
        .map(|(at, input)| {
            let effects = core.handle(at, input);
            (digest::digest(&effects), digest::brief(&effects))
        })
        .collect()
}

#[test]
fn a_core_read_back_from_its_snapshot_decides_the_same() {
    let mut sim = busy_site();
    let snapshot = sim.core.state_snapshot().unwrap();
    let mut twin = RoutingCore::from_state_snapshot(snapshot.clone()).unwrap();
    assert_eq!(twin.next_deadline(), sim.core.next_deadline());
    assert_eq!(twin.state_snapshot().unwrap(), snapshot);

    let expected = the_rest_of_the_day(&mut sim.core, sim.now);
    let recomputed = the_rest_of_the_day(&mut twin, sim.now);
    assert!(
        expected
            .iter()
            .filter(|(_, brief)| !brief.is_empty())
            .count()
            >= 5,
        "the rest of the day decides things: {expected:?}"
    );
    assert_eq!(recomputed, expected);
    assert_eq!(
        twin.state_snapshot().unwrap(),
        sim.core.state_snapshot().unwrap()
    );
}

#[test]
fn a_snapshot_leaves_out_the_customers_payloads() {
    let sim = busy_site();
    let text = sim.core.state_snapshot().unwrap().to_string();
    assert!(!text.contains("cs-t2"), "a request session was kept");
    assert!(!text.contains("Ada"), "pull-request data was kept");
    // The core still holds them; only the snapshot leaves them out.
    assert_eq!(
        sim.core.task("t2").unwrap().media.request_session["id"],
        "cs-t2"
    );
}

#[test]
fn a_changed_state_shows_in_the_snapshot_and_a_bad_one_is_refused() {
    let mut sim = busy_site();
    let before = sim.core.state_snapshot().unwrap();
    sim.advance(1);
    sim.enqueue(task("t9", "support"));
    assert_ne!(sim.core.state_snapshot().unwrap(), before);

    let mut bad = before.clone();
    bad["queues"][0]["config"]["steps"][0]["expression"] = "skill >=".into();
    assert!(matches!(
        RoutingCore::from_state_snapshot(bad),
        Err(SnapshotError::BadExpression { step: 0, .. })
    ));
    let err = RoutingCore::from_state_snapshot(serde_json::json!({"tasks": 3})).err();
    assert_eq!(err.map(|e| e.code()), Some("snapshot_undecodable"));
}
