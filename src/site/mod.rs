//! The one engine's pure core: [`Site`] owns the routing core and the conversation
//! core and applies the seam between them (`bridge`) inside one step, so a chat's
//! FIND_AGENT, its task and its offer (TASK_ENQUEUED, AGENT_RESERVED) are one step's
//! effects, and a desk's accept (`desk`) joins the task and the conversation in one
//! step with nothing in between to undo. Like both cores it is sans-IO: `handle(now,
//! input) -> effects` and `next_deadline()`, no clock, no store, no sockets (the
//! build check in `build.rs` covers this module too). What a driver does with the
//! effects — persist a step's rows in one transaction, then publish — is the driver's.

pub mod bridge;
mod desk;

#[cfg(test)]
mod tests;

use crate::cim::TaskStateReason;
use crate::clock::Millis;
use crate::conversation::{
    self, ConversationCore, CoreSettings, IdGen, RestoredConversation, UuidIds,
};
use crate::routing::{self, RoutingConfig, RoutingCore};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

/// Everything the engine reacts to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SiteInput {
    /// An input of the routing core (agent states, configuration, supervisor moves).
    Routing(routing::Input),
    /// An input of the conversation core (customers, desk events, studio answers).
    Conversation(Box<conversation::Input>),
    /// A desk accepts the task offered to its agent (`topicSubscription`).
    Accept {
        agent: Box<crate::cim::CcUser>,
        task_id: String,
    },
    /// A desk joins a pull-mode request and its conversation (`joinPullModeRequest`).
    JoinPull {
        agent: Box<crate::cim::CcUser>,
        request_id: String,
    },
    /// An agent leaves a conversation (`topicUnsubscription`); a consult transfer it
    /// was consulted for completes first.
    Leave {
        agent_id: String,
        conversation_id: String,
        reason: String,
    },
    /// Time passed: every deadline of either core at or before `now` fires.
    Tick,
}

/// What a driver must do after one step, in order: store every effect's rows in one
/// transaction, then publish.
#[derive(Debug, Clone)]
pub enum SiteEffect {
    /// A routing effect: task and agent rows, desks' offers and state changes.
    Routing(routing::Effect),
    /// A conversation effect: its persist step, deliveries, studio calls.
    Conversation(conversation::Effect),
    /// `agent_id` joined a pull-mode request and is in its conversation.
    PullJoined {
        agent_id: String,
        conversation_id: String,
    },
    /// FIND_AGENT named no queue and its channel none: nothing was routed.
    Unroutable { conversation_id: String },
    /// `agent_id` accepted `task`, which is now ACTIVE and the agent in the
    /// conversation; an assistance request's requester is told.
    Accepted {
        agent_id: String,
        task: Arc<routing::Task>,
    },
}

/// A core input still to be handled within the current step.
enum Work {
    Routing(routing::Input),
    Conversation(Box<conversation::Input>),
}

impl Work {
    fn conversation(input: conversation::Input) -> Work {
        Work::Conversation(Box::new(input))
    }
}

/// How the site has each core handle an input: directly, or through the driver's
/// journal recorder (`journal::Recorder`), which notes every input with its effects,
/// those one core asked of the other included.
pub trait Steps {
    fn step(
        &mut self,
        core: &mut RoutingCore,
        now: Millis,
        input: routing::Input,
    ) -> Vec<routing::Effect>;

    /// How the conversation core handles an input (the recorder notes it).
    fn conversation_step<I: IdGen + Clone + Serialize>(
        &mut self,
        core: &mut ConversationCore<I>,
        now: Millis,
        input: conversation::Input,
    ) -> Vec<conversation::Effect> {
        core.handle(now, input)
    }

    /// The steps now run inside a [`Site`], which calls [`Steps::begin`] and
    /// [`Steps::end`] around each of its steps and [`Steps::restored`] at a start.
    fn attached(&mut self) {}

    /// A step of the site begins with `input`, before either core handles any of it
    /// (the recorder encodes it; what it takes out for that it puts back).
    fn begin(&mut self, _now: Millis, _input: &mut SiteInput) {}

    /// The step begun last ended with `effects`, every one of both cores and the
    /// bridge, in order.
    fn end(&mut self, _now: Millis, _effects: &[SiteEffect]) {}

    /// The open conversations were read back at a start; `ids` draws the bridge's
    /// task ids.
    fn restored<I: IdGen + Clone + Serialize>(
        &mut self,
        _now: Millis,
        _conversations: &ConversationCore<I>,
        _ids: &I,
    ) {
    }
}

/// The routing core handles each input itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct Direct;

impl Steps for Direct {
    fn step(
        &mut self,
        core: &mut RoutingCore,
        now: Millis,
        input: routing::Input,
    ) -> Vec<routing::Effect> {
        core.handle(now, input)
    }
}

/// One step's effects; those in `own` are the input's own (for a core input: before
/// anything the other core was asked; for a leave: the agent leaving), which is what
/// its caller is answered from.
pub struct Step {
    pub effects: Vec<SiteEffect>,
    pub own: Range<usize>,
}

/// The routing core and the conversation core, bridged inside each step.
pub struct Site<I: IdGen = UuidIds, S: Steps = Direct> {
    routing: RoutingCore,
    conversations: ConversationCore<I>,
    /// Ids of the tasks and pull requests FIND_AGENT creates.
    ids: I,
    steps: S,
}

impl Site<UuidIds> {
    /// A site drawing UUIDs.
    pub fn new(routing: RoutingConfig, settings: CoreSettings) -> Self {
        Site::with_ids(routing, settings, UuidIds::default())
    }
}

impl<I: IdGen + Clone> Site<I> {
    /// A site drawing ids from `ids` (the conversation core from one copy, the
    /// bridge's tasks from another; they ask for different kinds).
    pub fn with_ids(routing: RoutingConfig, settings: CoreSettings, ids: I) -> Self {
        Site::with_steps(routing, settings, ids, Direct)
    }
}

impl<I: IdGen + Clone, S: Steps> Site<I, S> {
    /// A site whose routing inputs go through `steps`.
    pub fn with_steps(routing: RoutingConfig, settings: CoreSettings, ids: I, steps: S) -> Self {
        let conversations = ConversationCore::with_ids(settings, ids.clone());
        Site::from_parts(RoutingCore::new(routing), conversations, ids, steps)
    }

    /// A site of two cores in a given state (a replay's, read from a journal), its
    /// bridge drawing task ids from `ids`.
    pub fn from_parts(
        routing: RoutingCore,
        conversations: ConversationCore<I>,
        ids: I,
        mut steps: S,
    ) -> Self {
        steps.attached();
        Site {
            routing,
            conversations,
            ids,
            steps,
        }
    }
}

impl<I: IdGen + Clone + Serialize, S: Steps> Site<I, S> {
    pub fn routing(&self) -> &RoutingCore {
        &self.routing
    }

    /// The routing core and the steps' runner together (a journal snapshot reads
    /// the core while the recorder notes it).
    pub fn routing_and_steps(&mut self) -> (&RoutingCore, &mut S) {
        (&self.routing, &mut self.steps)
    }

    /// Both cores, the bridge's ids and the steps' runner (a journal snapshot reads
    /// them).
    pub fn cores_and_steps(&mut self) -> (&RoutingCore, &ConversationCore<I>, &I, &mut S) {
        (
            &self.routing,
            &self.conversations,
            &self.ids,
            &mut self.steps,
        )
    }

    /// The ids the bridge draws task ids from.
    pub fn ids(&self) -> &I {
        &self.ids
    }

    /// The routing core alone, for a replay of a journal row of it alone.
    pub fn routing_mut(&mut self) -> &mut RoutingCore {
        &mut self.routing
    }

    /// The conversation core alone, for a replay of a journal row of it alone.
    pub fn conversations_mut(&mut self) -> &mut ConversationCore<I> {
        &mut self.conversations
    }

    /// The steps' runner.
    pub fn steps_mut(&mut self) -> &mut S {
        &mut self.steps
    }

    pub fn conversations(&self) -> &ConversationCore<I> {
        &self.conversations
    }

    /// When the earliest timer of either core is due.
    pub fn next_deadline(&self) -> Option<Millis> {
        match (
            self.routing.next_deadline(),
            self.conversations.next_deadline(),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Rebuilds the site from what was stored: the open conversations first, then the
    /// routing core's restore inputs (configuration, agent views, open tasks), whose
    /// effects (a reservation re-queued, say) reach the conversations they concern.
    pub fn restore(
        &mut self,
        now: Millis,
        conversations: Vec<RestoredConversation>,
        routing: Vec<routing::Input>,
    ) -> Vec<SiteEffect> {
        let mut out = Vec::new();
        self.ids.at(now);
        self.run(
            now,
            Work::conversation(conversation::Input::Restore { conversations }),
            &mut out,
        );
        self.steps.restored(now, &self.conversations, &self.ids);
        for input in routing {
            let start = out.len();
            let mut input = SiteInput::Routing(input);
            self.steps.begin(now, &mut input);
            if let SiteInput::Routing(input) = input {
                self.run(now, Work::Routing(input), &mut out);
            }
            self.steps.end(now, &out[start..]);
        }
        out
    }

    /// One routing restore input of a start, handled as [`Site::restore`] handles
    /// each (a replay's).
    pub fn restore_routing(&mut self, now: Millis, input: routing::Input) -> Vec<SiteEffect> {
        let mut out = Vec::new();
        self.ids.at(now);
        self.run(now, Work::Routing(input), &mut out);
        out
    }

    /// Applies one input at time `now`; the effects of both cores, in the order they
    /// arose.
    pub fn handle(&mut self, now: Millis, input: SiteInput) -> Vec<SiteEffect> {
        self.handle_step(now, input).effects
    }

    /// [`Site::handle`], telling which effects are the input's own.
    pub fn handle_step(&mut self, now: Millis, mut input: SiteInput) -> Step {
        let mut out = Vec::new();
        self.ids.at(now);
        self.steps.begin(now, &mut input);
        let own = match input {
            SiteInput::Routing(input) => self.run(now, Work::Routing(input), &mut out),
            SiteInput::Conversation(input) => self.run(now, Work::Conversation(input), &mut out),
            SiteInput::Accept { agent, task_id } => {
                self.accept(now, *agent, &task_id, &mut out);
                0..out.len()
            }
            SiteInput::JoinPull { agent, request_id } => {
                self.join_pull(now, *agent, &request_id, &mut out);
                0..out.len()
            }
            SiteInput::Leave {
                agent_id,
                conversation_id,
                reason,
            } => self.leave(now, agent_id, conversation_id, reason, &mut out),
            SiteInput::Tick => {
                if self.routing.next_deadline().is_some_and(|d| d <= now) {
                    self.run(now, Work::Routing(routing::Input::Tick), &mut out);
                }
                if self.conversations.next_deadline().is_some_and(|d| d <= now) {
                    self.run(now, Work::conversation(conversation::Input::Tick), &mut out);
                }
                0..out.len()
            }
        };
        self.steps.end(now, &out);
        Step { effects: out, own }
    }

    /// Handles `first` and, breadth first, every input its effects mean for the other
    /// core, until none is left; returns where in `out` the effects of `first`
    /// itself are.
    fn run(&mut self, now: Millis, first: Work, out: &mut Vec<SiteEffect>) -> Range<usize> {
        let start = out.len();
        let mut own_end = None;
        let mut pending = VecDeque::from([first]);
        let mut cancels: VecDeque<(String, TaskStateReason)> = VecDeque::new();
        let mut first = true;
        loop {
            let Some(work) = pending.pop_front() else {
                // Cancels are read last, against the state every other input left.
                let Some((conversation_id, disposition)) = cancels.pop_front() else {
                    break;
                };
                let closes = bridge::cancel_tasks(&self.routing, &conversation_id, &disposition);
                pending.extend(closes.into_iter().map(Work::Routing));
                continue;
            };
            if !std::mem::take(&mut first) && own_end.is_none() {
                own_end = Some(out.len());
            }
            match work {
                Work::Routing(input) => {
                    for effect in self.steps.step(&mut self.routing, now, input) {
                        if let Some(input) = bridge::conversation_input(&effect, &self.routing) {
                            pending.push_back(Work::conversation(input));
                        }
                        out.push(SiteEffect::Routing(effect));
                    }
                }
                Work::Conversation(input) => {
                    let effects =
                        self.steps
                            .conversation_step(&mut self.conversations, now, *input);
                    for effect in effects {
                        match bridge::asked_of_routing(&self.routing, &effect, &mut self.ids) {
                            bridge::Asked::Nothing => out.push(SiteEffect::Conversation(effect)),
                            bridge::Asked::Routing(inputs) => {
                                pending.extend(inputs.into_iter().map(Work::Routing))
                            }
                            bridge::Asked::Also(inputs) => {
                                out.push(SiteEffect::Conversation(effect));
                                pending.extend(inputs.into_iter().map(Work::Routing))
                            }
                            bridge::Asked::Unroutable { conversation_id } => {
                                out.push(SiteEffect::Unroutable { conversation_id })
                            }
                            bridge::Asked::CancelTasks {
                                conversation_id,
                                disposition,
                            } => cancels.push_back((conversation_id, disposition)),
                        }
                    }
                }
            }
        }
        start..own_end.unwrap_or(out.len())
    }
}
