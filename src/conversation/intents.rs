//! The intents a step raised, and what answers them: the built-in flow's actions at
//! once, or a `CallStudio` to the external flow whose answer (or failure, which falls
//! back to the built-in flow) arrives later as an input. Either way the actions are
//! applied in order and the ones that cannot apply are reported.

use super::core::OpenMap;
use super::effect::Effect;
use super::error::CoreError;
use super::ids::{IdGen, IdKind};
use super::open::OpenConversation;
use super::settings::STUDIO_BACKSTOP_GRACE_MS;
use super::step::{Ctx, RaisedIntent, RaisedTrigger};
use super::studio::{builtin_actions, intent_message, Action, IntentTrigger};
use super::timers::PendingStudioCall;

/// Most intents one `handle` call may run; a flow that keeps raising intents (e.g. role
/// changes answered with role changes) is cut off here.
const MAX_INTENTS_PER_CALL: usize = 256;

/// Runs the queued intents: built-in flow at once, external flow as a studio call.
pub(super) fn run_intents<I: IdGen>(open: &mut OpenMap, cx: &mut Ctx<'_, I>) {
    let mut budget = MAX_INTENTS_PER_CALL;
    while let Some(raised) = cx.step.intents.pop_front() {
        let Some(conversation) = open.get_mut(&raised.conversation_id) else {
            continue;
        };
        if conversation.closed {
            continue;
        }
        if budget == 0 {
            cx.effect(Effect::ActionFailed {
                conversation_id: raised.conversation_id.clone(),
                action: "INTENT",
                reason: format!(
                    "more than {MAX_INTENTS_PER_CALL} intents in one step; {} dropped",
                    raised.intent
                ),
            });
            continue;
        }
        budget -= 1;
        if cx.settings.is_external(&raised.intent) {
            call_studio(conversation, cx, raised);
        } else {
            let actions = builtin_actions(
                &raised.intent,
                &raised.facts,
                &conversation.flow_context(),
                cx.settings,
            );
            apply_all(conversation, cx, &actions);
        }
    }
}

fn call_studio<I: IdGen>(
    conversation: &mut OpenConversation,
    cx: &mut Ctx<'_, I>,
    raised: RaisedIntent,
) {
    let request_id = cx.new_id(IdKind::StudioRequest);
    let trigger = match &raised.trigger {
        RaisedTrigger::Event(event) => IntentTrigger::Event(event),
        RaisedTrigger::Session(session) => IntentTrigger::ChannelSession(session),
    };
    let message = intent_message(
        &request_id,
        &conversation.room_info().id,
        conversation.materialized(),
        trigger,
    );
    let timeout_ms = cx.settings.studio_timeout_ms();
    conversation.runtime.timers.studio_calls.insert(
        request_id.clone(),
        PendingStudioCall {
            intent: raised.intent.clone(),
            facts: raised.facts,
            deadline: cx.now + timeout_ms + STUDIO_BACKSTOP_GRACE_MS,
        },
    );
    cx.index
        .studio_requests
        .insert(request_id.clone(), conversation.id.clone());
    conversation.touch(cx);
    cx.effect(Effect::CallStudio {
        request_id,
        conversation_id: conversation.id.clone(),
        intent: raised.intent,
        message: Box::new(message),
        timeout_ms,
    });
}

/// Applies actions in order, reporting the ones that cannot apply.
fn apply_all<I: IdGen>(
    conversation: &mut OpenConversation,
    cx: &mut Ctx<'_, I>,
    actions: &[Action],
) {
    for action in actions {
        if let Err(reason) = conversation.apply_action(cx, action) {
            cx.effect(Effect::ActionFailed {
                conversation_id: conversation.id.clone(),
                action: action.name(),
                reason,
            });
        }
    }
}

/// The external flow answered (`Ok`) or failed (`Err`: fall back to the built-in flow).
pub(super) fn studio_answered<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    request_id: &str,
    answer: Result<Vec<Action>, String>,
) -> Result<(), CoreError> {
    let unknown = || CoreError::UnknownStudioRequest {
        request_id: request_id.to_owned(),
    };
    let conversation_id = cx
        .index
        .studio_requests
        .get(request_id)
        .cloned()
        .ok_or_else(unknown)?;
    let conversation = match open.get_mut(&conversation_id) {
        Some(c) if !c.closed => c,
        _ => return Err(unknown()),
    };
    let call = conversation
        .runtime
        .timers
        .studio_calls
        .remove(request_id)
        .ok_or_else(unknown)?;
    cx.index.studio_requests.remove(request_id);
    conversation.touch(cx);
    let actions = match answer {
        Ok(actions) => actions,
        Err(reason) => {
            cx.effect(Effect::StudioFallback {
                request_id: request_id.to_owned(),
                conversation_id: conversation_id.clone(),
                intent: call.intent.clone(),
                reason,
            });
            builtin_actions(
                &call.intent,
                &call.facts,
                &conversation.flow_context(),
                cx.settings,
            )
        }
    };
    apply_all(conversation, cx, &actions);
    Ok(())
}
