//! The configuration every run starts from: MRDs, queues with their step expressions,
//! agent profiles with attributes and capacities.

use std::collections::BTreeMap;

use switchboard::routing::{
    AgentProfile, AttrValue, MrdConfig, QueueConfig, RoutingConfig, StepConfig,
};

use super::AGENTS;

pub(crate) fn routing_config() -> RoutingConfig {
    RoutingConfig {
        accept_timeout_ms: 20_000,
        disconnect_grace_ms: 15_000,
        last_agent_wait_ms: 5_000,
        unknown_state_grace_ms: 25_000,
        ..RoutingConfig::default()
    }
}

pub(crate) fn mrds() -> Vec<MrdConfig> {
    vec![
        MrdConfig {
            id: "chat".into(),
            name: "Chat".into(),
            description: String::new(),
            max_tasks: 2,
            interruptible: true,
        },
        MrdConfig {
            id: "voice".into(),
            name: "Voice".into(),
            description: String::new(),
            max_tasks: 1,
            interruptible: false,
        },
    ]
}

pub(crate) fn queues() -> Vec<QueueConfig> {
    let step = |expression: &str, timeout_ms: i64| StepConfig {
        expression: expression.into(),
        timeout_ms,
    };
    let queue = |id: &str, mrd: &str, priority: u8, steps: Vec<StepConfig>| QueueConfig {
        id: id.into(),
        name: id.into(),
        mrd_id: mrd.into(),
        priority,
        accept_timeout_ms: None,
        agent_sla_ms: None,
        service_level_threshold_ms: None,
        steps,
    };
    vec![
        queue("any", "chat", 3, vec![]),
        QueueConfig {
            accept_timeout_ms: Some(8_000),
            ..queue(
                "skilled",
                "chat",
                7,
                vec![step("skill >= 5", 6_000), step("skill >= 2 OR vip", 0)],
            )
        },
        queue("calls", "voice", 5, vec![step("voice == true", 0)]),
    ]
}

pub(crate) fn profiles() -> Vec<AgentProfile> {
    let attrs: [&[(&str, AttrValue)]; AGENTS] = [
        &[
            ("skill", AttrValue::Proficiency(8)),
            ("voice", AttrValue::Bool(true)),
        ],
        &[("skill", AttrValue::Proficiency(3))],
        &[
            ("vip", AttrValue::Bool(true)),
            ("voice", AttrValue::Bool(true)),
        ],
        &[],
        &[
            ("skill", AttrValue::Proficiency(6)),
            ("vip", AttrValue::Bool(true)),
        ],
    ];
    attrs
        .iter()
        .enumerate()
        .map(|(i, attrs)| AgentProfile {
            id: format!("a{i}"),
            username: format!("agent{i}"),
            team: None,
            attributes: attrs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            mrd_max_tasks: if i == 4 {
                BTreeMap::from([("chat".to_string(), 1)])
            } else {
                BTreeMap::new()
            },
        })
        .collect()
}
