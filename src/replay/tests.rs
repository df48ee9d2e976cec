//! The replay over journals written by the driver's recorder: the same inputs replay
//! without divergence, a changed accept timeout diverges at the first offer, and
//! rows that do not read back are refused.

use super::*;
use crate::journal::Recorder;
use crate::routing::{
    AgentProfile, Direction, MrdConfig, NewTask, QueueConfig, RequestedAgentState, StepConfig,
    TaskMode,
};
use crate::store::objects::Interner;
use serde_json::json;

const T0: Millis = 1_765_000_000_000;

fn setup() -> Vec<Input> {
    vec![
        Input::UpsertMrd(MrdConfig {
            id: "chat".into(),
            name: "CHAT".into(),
            description: String::new(),
            max_tasks: 2,
            interruptible: true,
        }),
        Input::UpsertQueue(QueueConfig {
            id: "q1".into(),
            name: "Sales".into(),
            mrd_id: "chat".into(),
            priority: 1,
            accept_timeout_ms: Some(10_000),
            agent_sla_ms: None,
            service_level_threshold_ms: None,
            steps: vec![StepConfig {
                expression: String::new(),
                timeout_ms: 5_000,
            }],
        }),
        Input::UpsertAgent(AgentProfile {
            id: "agent-a".into(),
            username: "a".into(),
            team: None,
            attributes: Default::default(),
            mrd_max_tasks: Default::default(),
        }),
    ]
}

fn enqueue(n: u32) -> Input {
    Input::EnqueueTask(Box::new(NewTask {
        task_id: format!("task-{n}"),
        media_id: format!("media-{n}"),
        conversation_id: format!("conv-{n}"),
        queue_id: "q1".into(),
        priority: 5,
        direction: Direction::Inbound,
        mode: TaskMode::Queue,
        offer_to_agent: true,
        agent_request_ttl_ms: None,
        selection_policy: SelectionPolicy::LongestAvailable,
        preferred_last_agent: None,
        exclude_agents: Vec::new(),
        related_task: None,
        request_session: json!({"customer": "Ada"}),
        metadata: json!({}),
    }))
}

fn journaled() -> Connection {
    journaled_with_snapshots_every(0)
}

/// Runs the inputs through a core as the driver does and journals them, with a
/// snapshot of the core's state every `snapshot_every` ms (0: none); the RONA of
/// task-2 fires at the Tick 10 s after its offer.
fn journaled_with_snapshots_every(snapshot_every: Millis) -> Connection {
    let conn = crate::store::test_connection();
    let mut recorder = Recorder::new(true, snapshot_every);
    let config = RoutingConfig::default();
    recorder.start(T0, &config);
    let mut core = RoutingCore::new(config);
    let mut feed = |at: Millis, kind: Kind, input: Input| {
        if kind == Kind::Input {
            recorder.snapshot_if_due(at, &core);
        }
        recorder.handle(&mut core, at, kind, input);
    };
    for input in setup() {
        feed(T0, Kind::Restore, input);
    }
    feed(
        T0 + 1,
        Kind::Input,
        Input::AgentConnected {
            agent_id: "agent-a".into(),
        },
    );
    feed(
        T0 + 2,
        Kind::Input,
        Input::SetAgentState {
            agent_id: "agent-a".into(),
            state: RequestedAgentState::Ready,
            reason_code: None,
        },
    );
    feed(T0 + 3, Kind::Input, enqueue(1));
    feed(
        T0 + 4,
        Kind::Input,
        Input::AcceptTask {
            agent_id: "agent-a".into(),
            task_id: "task-1".into(),
        },
    );
    feed(T0 + 5, Kind::Input, enqueue(2));
    feed(T0 + 10_005, Kind::Input, Input::Tick);
    // Refused inputs are journaled too.
    feed(
        T0 + 10_006,
        Kind::Input,
        Input::AcceptTask {
            agent_id: "agent-a".into(),
            task_id: "no-such-task".into(),
        },
    );
    let mut interner = Interner::default();
    for entry in recorder.take() {
        journal::append(&conn, &mut interner, &entry).unwrap();
    }
    conn
}

#[test]
fn the_same_inputs_replay_without_divergence() {
    let conn = journaled();
    let out = replay(&conn, None, None, &Overrides::default()).unwrap();
    assert_eq!(out.divergence, None);
    assert_eq!((out.runs, out.inputs), (1, 10));
    assert_eq!((out.first_at, out.last_at), (Some(T0), Some(T0 + 10_006)));
    // The journal keeps no payload: the customer's name is nowhere in it.
    let texts: Vec<String> = conn
        .prepare("SELECT input, effects FROM routing_journal")
        .unwrap()
        .query_map([], |r| {
            let effects = match r.get_ref(1)? {
                rusqlite::types::ValueRef::Blob(code) => {
                    crate::store::journal_brief::decode(code).unwrap()
                }
                other => other.as_str()?.to_owned(),
            };
            Ok(format!("{}{effects}", r.get::<_, String>(0)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(texts.iter().all(|t| !t.contains("Ada")), "{texts:?}");
    // Up to a time: the rows before it.
    let out = replay(&conn, None, Some(T0 + 4), &Overrides::default()).unwrap();
    assert_eq!((out.inputs, out.divergence), (6, None));
}

#[test]
fn a_longer_accept_timeout_diverges_at_the_first_offer() {
    let conn = journaled();
    let overrides = Overrides {
        accept_timeout_ms: Some(60_000),
        ..Overrides::default()
    };
    let out = replay(&conn, None, None, &overrides).unwrap();
    let d = out.divergence.expect("a divergence");
    assert_eq!(d.at, T0 + 3);
    assert_eq!(d.kind, Kind::Input);
    assert_eq!(d.input["EnqueueTask"]["taskId"], "task-1");
    assert!(
        d.expected
            .contains("offer task-1 to agent-a (10000 ms to accept)"),
        "{d:?}"
    );
    assert!(
        d.recomputed
            .contains("offer task-1 to agent-a (60000 ms to accept)"),
        "{d:?}"
    );
    assert_ne!(d.expected_digest, d.recomputed_digest);
}

#[test]
fn another_policy_or_step_timeout_that_decides_the_same_does_not_diverge() {
    let conn = journaled();
    // One agent: every policy picks it.
    let overrides = Overrides {
        policy: Some(SelectionPolicy::LeastActiveTasks),
        step_timeout: Some(("Sales".into(), 1_000)),
        ..Overrides::default()
    };
    let out = replay(&conn, None, None, &overrides).unwrap();
    assert_eq!(out.divergence, None);
    let unknown = Overrides {
        step_timeout: Some(("Nope".into(), 1_000)),
        ..Overrides::default()
    };
    let err = replay(&conn, None, None, &unknown).unwrap_err();
    assert_eq!(err.code(), "unknown_queue");
}

#[test]
fn an_empty_or_unreadable_journal_is_refused() {
    let conn = crate::store::test_connection();
    let err = replay(&conn, None, None, &Overrides::default()).unwrap_err();
    assert_eq!(err.code(), "no_journal");
    let conn = journaled();
    conn.execute(
        "UPDATE routing_journal SET input = '{\"NoSuchInput\": 1}' WHERE pos = 3",
        [],
    )
    .unwrap();
    let err = replay(&conn, None, None, &Overrides::default()).unwrap_err();
    assert_eq!(err.code(), "bad_row");
}

#[test]
fn a_replay_begins_at_a_daily_snapshot_and_checks_those_it_passes() {
    // T0 is a multiple of 5 s: the first input of the third period is the RONA tick.
    let conn = journaled_with_snapshots_every(5_000);
    let snapshots: Vec<(Millis, String)> = conn
        .prepare("SELECT at, input FROM routing_journal WHERE kind = 3")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0].0, T0 + 10_005);
    assert!(!snapshots[0].1.contains("Ada"), "a payload was kept");

    let whole = replay(&conn, None, None, &Overrides::default()).unwrap();
    assert_eq!(whole.divergence, None);
    assert_eq!(
        (whole.inputs, whole.snapshots, whole.began_at_snapshot),
        (10, 1, None)
    );

    let tail = replay(&conn, Some(T0 + 10_005), None, &Overrides::default()).unwrap();
    assert_eq!(tail.divergence, None);
    assert_eq!(tail.began_at_snapshot, Some(T0 + 10_005));
    // The RONA tick (it revokes task-2 from the reserved agent) and the refused accept.
    assert_eq!((tail.runs, tail.inputs), (1, 2));

    // Changed rules begin there too, and the queue they name is found in the state.
    let changed = Overrides {
        step_timeout: Some(("Sales".into(), 1_000)),
        ..Overrides::default()
    };
    let tail = replay(&conn, Some(T0 + 10_005), None, &changed).unwrap();
    assert_eq!((tail.inputs, tail.divergence), (2, None));

    // The purge keeps what a replay from its cutoff needs: the snapshot on.
    // The start, its 3 restore rows and the 5 inputs before the snapshot.
    assert_eq!(journal::purge_before(&conn, T0 + 20_000, 100).unwrap(), 9);
    let kept = replay(&conn, None, None, &Overrides::default()).unwrap();
    assert_eq!(
        (kept.began_at_snapshot, kept.inputs),
        (Some(T0 + 10_005), 2)
    );
}

#[test]
fn an_input_missing_before_a_snapshot_shows_there_when_no_effect_told() {
    let conn = journaled_with_snapshots_every(5_000);
    // The accept of task-1 left the journal: every effect after it is the same
    // (task-2 is still offered to the agent, which has room), but the state is not.
    conn.execute("DELETE FROM routing_journal WHERE at = ?1", [T0 + 4])
        .unwrap();
    let out = replay(&conn, None, None, &Overrides::default()).unwrap();
    let d = out.divergence.expect("a divergence at the snapshot");
    assert_eq!((d.kind, d.at), (Kind::Snapshot, T0 + 10_005));
    // The first place the states part (here the queue's service-level window: the
    // answer was never recorded).
    let path = d.input.as_str().unwrap();
    assert!(path.starts_with(".queues[0].window"), "{d:?}");
    assert_ne!(d.expected, d.recomputed);
}

#[test]
fn stand_ins_take_the_ids_a_state_row_kept_at_their_places() {
    let conversation =
        |id: &str, ids: Value| json!({"record": {"conversation": {"id": id}}, "recent_ids": ids});
    let stored = json!({"state": {"conversations": [
        conversation("c-1", json!([["m-1", 3], ["e-2", 5], ["m-2", 5], ["m-3", 7]])),
    ]}});
    let mut rebuilt = json!({"state": {"conversations": [
        conversation("c-1", json!([["m-1", 3], ["$stored-event-c-1-5", 5],
                                   ["$stored-c-1-5", 5], ["$stored-c-1-6", 6]])),
    ]}});
    super::engine::stand_ins_take_stored_ids(&stored, &mut rebuilt);
    // The message of #7 is not what the row says was stored under #6: left as rebuilt.
    assert_eq!(
        rebuilt["state"]["conversations"][0]["recent_ids"],
        json!([["m-1", 3], ["e-2", 5], ["m-2", 5], ["$stored-c-1-6", 6]])
    );
}
