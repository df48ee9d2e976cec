//! Pull mode: lists of open requests (chats nobody is pushed) that subscribed,
//! logged-in agents see live and may join, several agents on one request.
//! Whether an agent is logged in is the engine's business; this board only keeps
//! lists, requests and subscriptions and says who must be told what.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::effect::Effect;
use super::error::RoutingError;
use super::model::{
    AgentId, ConversationId, PullListConfig, PullListId, PullRequestId, PullRequestState,
    SharedJson,
};
use crate::Millis;

/// A request on a pull-mode list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullRequest {
    pub id: PullRequestId,
    pub list_id: PullListId,
    pub conversation_id: ConversationId,
    pub state: PullRequestState,
    pub joined_agents: Vec<AgentId>,
    pub created_at: Millis,
    /// Opaque payload for the desk (channel session, customer, last message, ...).
    pub data: SharedJson,
}

/// What a client supplies to open a pull-mode request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewPullRequest {
    pub id: PullRequestId,
    pub list_id: PullListId,
    pub conversation_id: ConversationId,
    #[serde(default)]
    pub data: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct PullList {
    config: PullListConfig,
    /// Ordered by creation, oldest first.
    requests: BTreeSet<(Millis, PullRequestId)>,
    subscribers: BTreeSet<AgentId>,
}

impl PullList {
    fn subscriber_list(&self) -> Vec<AgentId> {
        self.subscribers.iter().cloned().collect()
    }
}

#[derive(Default, Serialize, Deserialize)]
pub(crate) struct PullBoard {
    lists: HashMap<PullListId, PullList>,
    #[serde(serialize_with = "crate::engine::requests_without_data")]
    requests: HashMap<PullRequestId, PullRequest>,
}

impl PullBoard {
    pub fn upsert_list(&mut self, config: PullListConfig) {
        match self.lists.get_mut(&config.id) {
            Some(list) => list.config = config,
            None => {
                self.lists.insert(
                    config.id.clone(),
                    PullList {
                        config,
                        requests: BTreeSet::new(),
                        subscribers: BTreeSet::new(),
                    },
                );
            }
        }
    }

    pub fn remove_list(
        &mut self,
        list_id: &str,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoutingError> {
        let list = self
            .lists
            .remove(list_id)
            .ok_or_else(|| RoutingError::UnknownPullList(list_id.to_string()))?;
        let request_ids: Vec<PullRequestId> =
            list.requests.iter().map(|(_, id)| id.clone()).collect();
        for id in &request_ids {
            self.requests.remove(id);
        }
        for agent_id in list.subscribers {
            out.push(Effect::PullListUnsubscribed {
                agent_id,
                list_id: list_id.to_string(),
                request_ids: request_ids.clone(),
            });
        }
        Ok(())
    }

    pub fn add_request(
        &mut self,
        now: Millis,
        new: NewPullRequest,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoutingError> {
        let request = PullRequest {
            id: new.id,
            list_id: new.list_id,
            conversation_id: new.conversation_id,
            state: PullRequestState::Unread,
            joined_agents: Vec::new(),
            created_at: now,
            data: SharedJson::new(new.data),
        };
        let agents = self.insert(request.clone())?;
        out.push(Effect::PullRequestAdded { agents, request });
        Ok(())
    }

    /// Puts back a request read from storage after a restart; tells nobody.
    pub fn restore_request(&mut self, request: PullRequest) -> Result<(), RoutingError> {
        self.insert(request).map(|_| ())
    }

    fn insert(&mut self, request: PullRequest) -> Result<Vec<AgentId>, RoutingError> {
        if self.requests.contains_key(&request.id) {
            return Err(RoutingError::DuplicatePullRequest(request.id));
        }
        let list = self
            .lists
            .get_mut(&request.list_id)
            .ok_or_else(|| RoutingError::UnknownPullList(request.list_id.clone()))?;
        list.requests
            .insert((request.created_at, request.id.clone()));
        let agents = list.subscriber_list();
        self.requests.insert(request.id.clone(), request);
        Ok(agents)
    }

    pub fn update_request(
        &mut self,
        request_id: &str,
        state: PullRequestState,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoutingError> {
        let request = self.request_mut(request_id)?;
        request.state = state;
        self.publish_update(request_id, out);
        Ok(())
    }

    pub fn delete_request(
        &mut self,
        request_id: &str,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoutingError> {
        let request = self
            .requests
            .remove(request_id)
            .ok_or_else(|| RoutingError::UnknownPullRequest(request_id.to_string()))?;
        let agents = match self.lists.get_mut(&request.list_id) {
            Some(list) => {
                list.requests
                    .remove(&(request.created_at, request.id.clone()));
                list.subscriber_list()
            }
            None => Vec::new(),
        };
        out.push(Effect::PullRequestRemoved {
            agents,
            list_id: request.list_id,
            request_id: request.id,
        });
        Ok(())
    }

    pub fn subscribe(
        &mut self,
        agent_id: &str,
        list_id: &str,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoutingError> {
        let list = self
            .lists
            .get_mut(list_id)
            .ok_or_else(|| RoutingError::UnknownPullList(list_id.to_string()))?;
        list.subscribers.insert(agent_id.to_string());
        let requests = list
            .requests
            .iter()
            .filter_map(|(_, id)| self.requests.get(id).cloned())
            .collect();
        out.push(Effect::PullListSubscribed {
            agent_id: agent_id.to_string(),
            list_id: list_id.to_string(),
            requests,
        });
        Ok(())
    }

    pub fn unsubscribe(
        &mut self,
        agent_id: &str,
        list_id: &str,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoutingError> {
        let list = self
            .lists
            .get_mut(list_id)
            .ok_or_else(|| RoutingError::UnknownPullList(list_id.to_string()))?;
        if !list.subscribers.remove(agent_id) {
            return Err(RoutingError::NotSubscribed {
                agent: agent_id.to_string(),
                list: list_id.to_string(),
            });
        }
        out.push(Effect::PullListUnsubscribed {
            agent_id: agent_id.to_string(),
            list_id: list_id.to_string(),
            request_ids: list.requests.iter().map(|(_, id)| id.clone()).collect(),
        });
        Ok(())
    }

    /// Drops every subscription of an agent that logged out.
    pub fn unsubscribe_all(&mut self, agent_id: &str, out: &mut Vec<Effect>) {
        let mut list_ids: Vec<PullListId> = self
            .lists
            .values()
            .filter(|list| list.subscribers.contains(agent_id))
            .map(|list| list.config.id.clone())
            .collect();
        list_ids.sort();
        for list_id in list_ids {
            // Cannot fail: the list exists and the agent is subscribed.
            let _ = self.unsubscribe(agent_id, &list_id, out);
        }
    }

    pub fn join(
        &mut self,
        agent_id: &str,
        request_id: &str,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoutingError> {
        let request = self
            .requests
            .get(request_id)
            .ok_or_else(|| RoutingError::UnknownPullRequest(request_id.to_string()))?;
        let subscribed = self
            .lists
            .get(&request.list_id)
            .is_some_and(|list| list.subscribers.contains(agent_id));
        if !subscribed {
            return Err(RoutingError::NotSubscribed {
                agent: agent_id.to_string(),
                list: request.list_id.clone(),
            });
        }
        if request.state == PullRequestState::Closed {
            return Err(RoutingError::PullRequestClosed(request_id.to_string()));
        }
        if request.joined_agents.iter().any(|a| a == agent_id) {
            return Err(RoutingError::AlreadyJoined {
                agent: agent_id.to_string(),
                request: request_id.to_string(),
            });
        }
        let request = self.request_mut(request_id)?;
        request.joined_agents.push(agent_id.to_string());
        request.state = PullRequestState::Active;
        let joined = request.clone();
        out.push(Effect::PullRequestJoined {
            agent_id: agent_id.to_string(),
            request: joined,
        });
        self.publish_update(request_id, out);
        Ok(())
    }

    /// An agent left the request's conversation; with nobody left it becomes INACTIVE.
    pub fn leave(
        &mut self,
        agent_id: &str,
        request_id: &str,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoutingError> {
        let request = self.request_mut(request_id)?;
        let before = request.joined_agents.len();
        request.joined_agents.retain(|a| a != agent_id);
        if request.joined_agents.len() == before {
            return Ok(());
        }
        if request.joined_agents.is_empty() && request.state == PullRequestState::Active {
            request.state = PullRequestState::Inactive;
        }
        self.publish_update(request_id, out);
        Ok(())
    }

    /// The agent left `conversation_id`: it leaves each request of it that it joined,
    /// and the subscribers of their lists hear of each.
    pub fn leave_conversation(
        &mut self,
        agent_id: &str,
        conversation_id: &str,
        out: &mut Vec<Effect>,
    ) {
        let mut joined: Vec<PullRequestId> = self
            .requests
            .values()
            .filter(|r| r.conversation_id == conversation_id)
            .filter(|r| r.joined_agents.iter().any(|a| a == agent_id))
            .map(|r| r.id.clone())
            .collect();
        joined.sort();
        for request_id in joined {
            // Cannot fail: the request exists.
            let _ = self.leave(agent_id, &request_id, out);
        }
    }

    pub fn requests_of_conversation<'a>(
        &'a self,
        conversation_id: &'a str,
    ) -> impl Iterator<Item = &'a PullRequest> + 'a {
        self.requests
            .values()
            .filter(move |r| r.conversation_id == conversation_id)
    }

    pub fn request(&self, request_id: &str) -> Option<&PullRequest> {
        self.requests.get(request_id)
    }

    /// The requests of a list, oldest first.
    pub fn list_requests(&self, list_id: &str) -> Option<Vec<&PullRequest>> {
        let list = self.lists.get(list_id)?;
        Some(
            list.requests
                .iter()
                .filter_map(|(_, id)| self.requests.get(id))
                .collect(),
        )
    }

    pub fn is_subscribed(&self, agent_id: &str, list_id: &str) -> bool {
        self.lists
            .get(list_id)
            .is_some_and(|list| list.subscribers.contains(agent_id))
    }

    fn request_mut(&mut self, request_id: &str) -> Result<&mut PullRequest, RoutingError> {
        self.requests
            .get_mut(request_id)
            .ok_or_else(|| RoutingError::UnknownPullRequest(request_id.to_string()))
    }

    fn publish_update(&self, request_id: &str, out: &mut Vec<Effect>) {
        let Some(request) = self.requests.get(request_id) else {
            return;
        };
        let agents = self
            .lists
            .get(&request.list_id)
            .map(PullList::subscriber_list)
            .unwrap_or_default();
        out.push(Effect::PullRequestUpdated {
            agents,
            request: request.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board_with_list() -> PullBoard {
        let mut board = PullBoard::default();
        board.upsert_list(PullListConfig {
            id: "L".into(),
            name: "leads".into(),
        });
        board
    }

    fn new_request(id: &str) -> NewPullRequest {
        NewPullRequest {
            id: id.into(),
            list_id: "L".into(),
            conversation_id: format!("conv-{id}"),
            data: serde_json::json!({"customer": id}),
        }
    }

    #[test]
    fn subscribers_see_requests_and_several_agents_join() {
        let mut board = board_with_list();
        let mut out = Vec::new();
        board.add_request(10, new_request("r1"), &mut out).unwrap();
        assert!(matches!(&out[0], Effect::PullRequestAdded { agents, .. } if agents.is_empty()));
        out.clear();

        board.subscribe("a1", "L", &mut out).unwrap();
        board.subscribe("a2", "L", &mut out).unwrap();
        assert!(
            matches!(&out[0], Effect::PullListSubscribed { requests, .. } if requests.len() == 1)
        );
        out.clear();

        board.add_request(20, new_request("r2"), &mut out).unwrap();
        assert!(
            matches!(&out[0], Effect::PullRequestAdded { agents, .. } if agents == &["a1", "a2"])
        );
        out.clear();

        board.join("a1", "r1", &mut out).unwrap();
        board.join("a2", "r1", &mut out).unwrap();
        let request = board.request("r1").unwrap();
        assert_eq!(request.state, PullRequestState::Active);
        assert_eq!(request.joined_agents, vec!["a1", "a2"]);
        assert!(matches!(
            board.join("a2", "r1", &mut out),
            Err(RoutingError::AlreadyJoined { .. })
        ));

        board.leave("a1", "r1", &mut out).unwrap();
        board.leave("a2", "r1", &mut out).unwrap();
        assert_eq!(
            board.request("r1").unwrap().state,
            PullRequestState::Inactive
        );
    }

    #[test]
    fn leaving_the_conversation_leaves_its_request_and_tells_the_subscribers() {
        let mut board = board_with_list();
        let mut out = Vec::new();
        board.subscribe("a1", "L", &mut out).unwrap();
        board.subscribe("a2", "L", &mut out).unwrap();
        board.add_request(10, new_request("r1"), &mut out).unwrap();
        board.join("a1", "r1", &mut out).unwrap();
        board.join("a2", "r1", &mut out).unwrap();
        out.clear();
        board.leave_conversation("a1", "conv-other", &mut out);
        assert!(out.is_empty());
        board.leave_conversation("a1", "conv-r1", &mut out);
        assert!(matches!(&out[..],
            [Effect::PullRequestUpdated { agents, request }]
                if agents == &["a1", "a2"] && request.joined_agents == ["a2"]
                    && request.state == PullRequestState::Active));
        out.clear();
        board.leave_conversation("a2", "conv-r1", &mut out);
        let request = board.request("r1").unwrap();
        assert!(request.joined_agents.is_empty());
        assert_eq!(request.state, PullRequestState::Inactive);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn only_subscribers_join_open_requests() {
        let mut board = board_with_list();
        let mut out = Vec::new();
        board.add_request(10, new_request("r1"), &mut out).unwrap();
        assert!(matches!(
            board.join("a1", "r1", &mut out),
            Err(RoutingError::NotSubscribed { .. })
        ));
        board.subscribe("a1", "L", &mut out).unwrap();
        board
            .update_request("r1", PullRequestState::Closed, &mut out)
            .unwrap();
        assert!(matches!(
            board.join("a1", "r1", &mut out),
            Err(RoutingError::PullRequestClosed(_))
        ));
    }

    #[test]
    fn delete_and_unsubscribe_tell_the_subscribers() {
        let mut board = board_with_list();
        let mut out = Vec::new();
        board.subscribe("a1", "L", &mut out).unwrap();
        board.add_request(10, new_request("r1"), &mut out).unwrap();
        board.add_request(11, new_request("r2"), &mut out).unwrap();
        out.clear();
        board.delete_request("r1", &mut out).unwrap();
        assert!(matches!(&out[0],
            Effect::PullRequestRemoved { agents, request_id, .. } if agents == &["a1"] && request_id == "r1"));
        out.clear();
        board.unsubscribe_all("a1", &mut out);
        assert!(matches!(&out[0],
            Effect::PullListUnsubscribed { request_ids, .. } if request_ids == &["r2"]));
        assert!(!board.is_subscribed("a1", "L"));
        assert_eq!(board.list_requests("L").unwrap().len(), 1);
        assert!(matches!(
            board.add_request(12, new_request("r2"), &mut out),
            Err(RoutingError::DuplicatePullRequest(_))
        ));
    }
}
