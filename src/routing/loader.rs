//! Reads the site's routing configuration and the engine's saved state from the
//! store, as the inputs that rebuild a [`super::RoutingCore`] on start.

use super::{AgentProfile, AttrValue, Input, MrdConfig, PullListConfig, QueueConfig, StepConfig};
use crate::store::directory::{self, QueueRow};
use crate::store::routing_admin;
use crate::store::users::{self, Role};
use crate::store::{tasks, StoreResult};
use rusqlite::Connection;
use std::collections::BTreeMap;

/// Configuration inputs first (MRDs, queues, agents, pull lists), then saved state
/// (agent presence, open tasks, open pull requests).
pub fn load(conn: &Connection) -> StoreResult<Vec<Input>> {
    let mut inputs = configuration(conn)?;
    for view in tasks::agent_views(conn)? {
        inputs.push(Input::RestoreAgentState(Box::new(view)));
    }
    for task in tasks::open_snapshots(conn)? {
        inputs.push(Input::RestoreTask(Box::new(task)));
    }
    for request in tasks::open_pull_requests::<crate::routing::PullRequest>(conn)? {
        // A closed conversation's request leaves its list when it closes; requests of
        // conversations that closed before that was so are not brought back.
        if conversation_open(conn, &request.conversation_id)? {
            inputs.push(Input::RestorePullRequest(Box::new(request)));
        }
    }
    Ok(inputs)
}

fn conversation_open(conn: &Connection, conversation_id: &str) -> StoreResult<bool> {
    use rusqlite::OptionalExtension;
    let state: Option<String> = conn
        .prepare_cached("SELECT state FROM conversations WHERE id = ?1")?
        .query_row([conversation_id], |r| r.get(0))
        .optional()?;
    Ok(state.is_some_and(|s| s != "CLOSED"))
}

/// The configuration inputs alone (MRDs, queues, agents, pull lists), as configured now.
pub fn configuration(conn: &Connection) -> StoreResult<Vec<Input>> {
    let mut inputs = Vec::new();
    for m in directory::list_mrds(conn)? {
        inputs.push(Input::UpsertMrd(MrdConfig {
            id: m.id,
            name: m.name,
            description: m.description,
            max_tasks: m.max_tasks,
            interruptible: m.interruptible,
        }));
    }
    for q in directory::list_queues(conn)? {
        inputs.push(Input::UpsertQueue(queue_config(q)));
    }
    for profile in agent_profiles(conn)? {
        inputs.push(Input::UpsertAgent(profile));
    }
    for list in routing_admin::list_pull_lists(conn)? {
        inputs.push(Input::UpsertPullList(PullListConfig {
            id: list.id,
            name: list.name,
        }));
    }
    Ok(inputs)
}

pub fn queue_config(q: QueueRow) -> QueueConfig {
    QueueConfig {
        id: q.id,
        name: q.name,
        mrd_id: q.mrd_id,
        priority: q.priority,
        accept_timeout_ms: q.accept_timeout_secs.map(|s| s * 1000),
        agent_sla_ms: Some(q.agent_sla_secs * 1000),
        service_level_threshold_ms: Some(q.service_level_secs * 1000),
        steps: q
            .steps
            .into_iter()
            .map(|s| StepConfig {
                expression: s.expression,
                timeout_ms: s.timeout_secs * 1000,
            })
            .collect(),
    }
}

/// Every user who can take tasks (agents and supervisors), with capacities and attributes.
pub fn agent_profiles(conn: &Connection) -> StoreResult<Vec<AgentProfile>> {
    let mut capacities: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for (user, mrd, max) in directory::list_agent_capacities(conn)? {
        capacities.entry(user).or_default().insert(mrd, max);
    }
    let mut attributes: BTreeMap<String, BTreeMap<String, AttrValue>> = BTreeMap::new();
    for (user, attr) in directory::list_agent_attributes(conn)? {
        let value = attr_value(&attr);
        attributes.entry(user).or_default().insert(attr.name, value);
    }
    Ok(users::list_users(conn)?
        .into_iter()
        .filter(|u| u.role != Role::Admin && !u.disabled)
        .map(|u| AgentProfile {
            attributes: attributes.remove(&u.id).unwrap_or_default(),
            mrd_max_tasks: capacities.remove(&u.id).unwrap_or_default(),
            team: u.team_id,
            username: u.username,
            id: u.id,
        })
        .collect())
}

/// The routing profile of one agent (`None` for admins, disabled and unknown users), read
/// without loading every agent of the site.
pub fn agent_profile(conn: &Connection, user_id: &str) -> StoreResult<Option<AgentProfile>> {
    let Some(u) = users::get_user(conn, user_id)? else {
        return Ok(None);
    };
    if u.role == Role::Admin || u.disabled {
        return Ok(None);
    }
    Ok(Some(AgentProfile {
        attributes: directory::agent_attributes_of(conn, user_id)?
            .into_iter()
            .map(|attr| {
                let value = attr_value(&attr);
                (attr.name, value)
            })
            .collect(),
        mrd_max_tasks: directory::agent_capacities_of(conn, user_id)?
            .into_iter()
            .collect(),
        team: u.team_id,
        username: u.username,
        id: u.id,
    }))
}

fn attr_value(attr: &directory::AgentAttributeRow) -> AttrValue {
    if attr.kind == "BOOLEAN" {
        AttrValue::Bool(attr.value != 0)
    } else {
        AttrValue::Proficiency(attr.value.clamp(1, 10) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::users::NewUser;

    #[test]
    fn one_agent_profile_matches_the_full_load() {
        let conn = crate::store::test_connection();
        let user = |name: &str, role| {
            users::create_user(
                &conn,
                NewUser {
                    username: name.into(),
                    first_name: String::new(),
                    last_name: String::new(),
                    role,
                    team_id: None,
                    password_hash: "x".into(),
                },
                1,
            )
            .unwrap()
        };
        let agent = user("a1", Role::Agent);
        user("a2", Role::Agent);
        let admin = user("root", Role::Admin);
        directory::create_mrd(
            &conn,
            &directory::MrdRow {
                id: "chat".into(),
                name: "CHAT".into(),
                description: String::new(),
                max_tasks: 5,
                interruptible: true,
            },
            1,
        )
        .unwrap();
        directory::set_agent_capacity(&conn, &agent.id, "chat", 3).unwrap();
        let attr = directory::create_routing_attribute(&conn, "sales", "PROFICIENCY", "").unwrap();
        directory::set_agent_attribute(&conn, &agent.id, &attr, 7).unwrap();

        let all = agent_profiles(&conn).unwrap();
        let one = agent_profile(&conn, &agent.id).unwrap().unwrap();
        assert_eq!(Some(&one), all.iter().find(|p| p.id == agent.id));
        assert_eq!(one.mrd_max_tasks.get("chat"), Some(&3));
        assert!(agent_profile(&conn, &admin.id).unwrap().is_none());
        assert!(agent_profile(&conn, "nobody").unwrap().is_none());
    }
}
