//! The replay over journals written by the driver's recorder: the same inputs replay
//! without divergence, a changed accept timeout diverges at the first offer, and
//! rows that do not read back are refused.

use super::*;
use crate::routing::journal::Recorder;
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

/// Runs the inputs through a core as the driver does and journals them; the RONA
/// of task-2 fires at the Tick 10 s after its offer.
fn journaled() -> Connection {
    let conn = crate::store::test_connection();
    let mut recorder = Recorder::new(true);
    let config = RoutingConfig::default();
    recorder.start(T0, &config);
    let mut core = RoutingCore::new(config);
    let mut feed = |at: Millis, kind: Kind, input: Input| {
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
        .prepare("SELECT input || effects FROM routing_journal")
        .unwrap()
        .query_map([], |r| r.get(0))
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
