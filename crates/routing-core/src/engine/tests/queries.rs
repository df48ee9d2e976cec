//! Queue position, estimated wait, queue statistics and the CIM task shape.

use super::*;
use crate::{Effect, Input, QueuePosition};

#[test]
fn queue_position_follows_priority_then_arrival() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.enqueue(task("t1", "sales"));
    sim.now += 1;
    sim.enqueue(task("t2", "sales"));
    sim.now += 1;
    sim.enqueue(NewTask {
        priority: 9,
        ..task("t3", "sales")
    });
    let position = |sim: &Sim, id: &str| sim.core.queue_position(id).map(|p| p.position);
    assert_eq!(position(&sim, "t3"), Some(1));
    assert_eq!(position(&sim, "t1"), Some(2));
    assert_eq!(position(&sim, "t2"), Some(3));
    // Nobody serves the queue: no estimate.
    assert_eq!(
        sim.core.queue_position("t1"),
        Some(QueuePosition {
            position: 2,
            estimated_wait_ms: None
        })
    );
    assert_eq!(sim.core.queue_position("nope"), None);
}

#[test]
fn estimated_wait_uses_recent_handle_times_and_ready_capacity() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    let mut p = profile("a1", &[]);
    p.mrd_max_tasks.insert("chat".into(), 1);
    sim.send(Input::UpsertAgent(p));
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.enqueue(task("t2", "sales"));
    sim.enqueue(task("t3", "sales"));
    let default = sim.core.config().default_handle_time_ms;
    assert_eq!(
        sim.core.queue_position("t3").unwrap().estimated_wait_ms,
        Some(2 * default)
    );
    sim.now += 60_000;
    sim.close("t1");
    sim.accept("a1", "t2");
    assert_eq!(
        sim.core.queue_position("t3").unwrap(),
        QueuePosition {
            position: 1,
            estimated_wait_ms: Some(60_000)
        }
    );
    assert_eq!(
        sim.core.queue_position("t2"),
        None,
        "t2 is no longer queued"
    );
}

#[test]
fn queue_stats_count_waiting_reserved_active_and_agents() {
    let mut sim = Sim::new();
    sim.send(Input::UpsertQueue(QueueConfig {
        service_level_threshold_ms: Some(20_000),
        accept_timeout_ms: Some(60_000),
        ..queue("sales", "chat")
    }));
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.agent("a3", &[]);
    sim.ready("a1");
    sim.send(Input::AgentConnected {
        agent_id: "a2".into(),
    });
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.enqueue(task("t2", "sales"));
    let first_waiting = sim.now;
    sim.now += 1_000;
    sim.enqueue(task("t3", "sales"));
    sim.now += 30_000;
    sim.enqueue(task("t4", "sales"));
    let stats = sim.core.queue_stats("sales", sim.now).unwrap();
    assert_eq!(stats.reserved, 1);
    assert_eq!(stats.active, 1);
    assert_eq!(stats.waiting, 2);
    assert_eq!(stats.oldest_enqueue_time, Some(first_waiting + 1_000));
    assert_eq!(stats.oldest_wait_ms, Some(30_000));
    assert_eq!(
        stats.staffed_agents, 2,
        "a1 and a2 are logged in, a3 is not"
    );
    assert_eq!(stats.ready_agents, 0, "a1 is full, a2 is not ready");
    assert_eq!(stats.service_level, Some(1.0));
    sim.accept("a1", "t2");
    let stats = sim.core.queue_stats("sales", sim.now).unwrap();
    assert_eq!(stats.service_level, Some(0.5));
    assert_eq!(stats.average_handle_time_ms, None);
}

#[test]
fn task_renders_the_documented_cim_shape() {
    let mut sim = Sim::new();
    sim.queue("web", "chat", &[]);
    let effects = sim.enqueue(NewTask {
        priority: 1,
        metadata: serde_json::json!({"note": "x"}),
        ..task("8a7c6da5", "web")
    });
    let Effect::TaskEnqueued { task, .. } = &effects[0] else {
        panic!("expected TaskEnqueued first, got {effects:?}");
    };
    let cim = task.to_cim();
    let expected = serde_json::json!({
        "id": "8a7c6da5",
        "conversationId": "conv-8a7c6da5",
        "state": {"name": "ACTIVE", "reasonCode": null},
        "assignedTo": null,
        "agentRequestTtlTimerId": "ttl-8a7c6da5",
        "activeMedia": [{
            "id": "media-8a7c6da5",
            "mrdId": "chat",
            "taskId": "8a7c6da5",
            "queue": {"id": "web", "name": "web"},
            "type": {
                "direction": "INBOUND",
                "mode": "QUEUE",
                "metadata": {"note": "x", "offerToAgent": true}
            },
            "priority": 1,
            "state": "QUEUED",
            "requestSession": {"participantType": "ChannelSession", "id": "cs-8a7c6da5"},
            "channelSessions": [{"participantType": "ChannelSession", "id": "cs-8a7c6da5"}],
            "enqueueTime": T0,
            "answerTime": 0
        }]
    });
    assert_eq!(cim, expected);
    let keys: Vec<&str> = cim
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "conversationId",
            "state",
            "assignedTo",
            "agentRequestTtlTimerId",
            "activeMedia"
        ]
    );
}

#[test]
fn task_and_agent_view_round_trip_through_json() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(NewTask {
        preferred_last_agent: Some("a1".into()),
        ..task("t1", "sales")
    });
    let task = sim.core.task("t1").unwrap().clone();
    let json = serde_json::to_string(&task).unwrap();
    assert_eq!(serde_json::from_str::<crate::Task>(&json).unwrap(), task);
    let view = sim.core.agent("a1").unwrap();
    let json = serde_json::to_string(&view).unwrap();
    assert_eq!(
        serde_json::from_str::<crate::AgentView>(&json).unwrap(),
        view
    );
}

#[test]
fn tasks_of_a_conversation_are_its_open_tasks_and_survive_a_snapshot() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    let in_conversation = |id: &str, conversation: &str| NewTask {
        conversation_id: conversation.into(),
        ..task(id, "sales")
    };
    sim.enqueue(in_conversation("t1", "c1"));
    sim.enqueue(in_conversation("t2", "c2"));
    sim.enqueue(in_conversation("t3", "c1"));
    let of = |core: &RoutingCore, conversation: &str| -> Vec<String> {
        core.tasks_of_conversation(conversation)
            .map(|t| t.id.clone())
            .collect()
    };
    assert_eq!(of(&sim.core, "c1"), ["t1", "t3"]);
    sim.send(Input::CloseTask {
        task_id: "t1".into(),
        disposition: crate::Disposition::Cancelled,
    });
    assert_eq!(of(&sim.core, "c1"), ["t3"]);
    assert!(of(&sim.core, "nope").is_empty());
    let state = sim.core.state_snapshot().expect("snapshot");
    let read_back = RoutingCore::from_state_snapshot(state).expect("read back");
    assert_eq!(of(&read_back, "c1"), ["t3"]);
    assert_eq!(of(&read_back, "c2"), ["t2"]);
}
