//! Firing due timers: a customer session expiring, customer SLA reminder and expiry,
//! agent SLA thresholds and expiry, wrap-up and hold running out, a studio call never
//! answered, business hours opening for a message left while closed.

use super::core::OpenMap;
use super::effect::Effect;
use super::ids::IdGen;
use super::intents::studio_answered;
use super::open::OpenConversation;
use super::step::Ctx;
use super::studio::IntentFacts;
use super::timers::DueTimer;
use crate::cim::{ChannelSessionReasonCode, ChannelSessionStateName, CimEventName, EventEmitter};

/// Most timers one conversation may fire in one tick (each firing removes or advances
/// its timer, so this only guards against a bug looping forever).
const MAX_FIRINGS: usize = 64;

pub(super) fn fire_due<I: IdGen>(open: &mut OpenMap, cx: &mut Ctx<'_, I>, due: &[String]) {
    for conversation_id in due {
        for _ in 0..MAX_FIRINGS {
            let Some(conversation) = open.get_mut(conversation_id) else {
                break;
            };
            conversation.touch(cx);
            if conversation.closed {
                break;
            }
            let Some(timer) = conversation.runtime.timers.due(cx.now) else {
                break;
            };
            if let DueTimer::Studio { request_id } = timer {
                let timeout = cx.settings.studio_timeout_ms();
                let reason = format!("the studio did not answer within {timeout} ms");
                if studio_answered(open, cx, &request_id, Err(reason)).is_err() {
                    // The call is gone from the index (should not happen); drop the timer.
                    if let Some(conversation) = open.get_mut(conversation_id) {
                        conversation.runtime.timers.studio_calls.remove(&request_id);
                    }
                }
                continue;
            }
            fire(conversation, cx, timer);
        }
    }
}

fn fire<I: IdGen>(conversation: &mut OpenConversation, cx: &mut Ctx<'_, I>, timer: DueTimer) {
    match timer {
        DueTimer::CustomerActivity { channel_session_id } => {
            conversation
                .runtime
                .timers
                .customer_activity
                .remove(&channel_session_id);
            if conversation.session_running(&channel_session_id) {
                conversation.end_session(
                    cx,
                    &channel_session_id,
                    ChannelSessionStateName::Ended,
                    ChannelSessionReasonCode::Inactivity,
                );
            }
        }
        DueTimer::CustomerSla => {
            let percent = conversation
                .runtime
                .timers
                .customer_sla
                .as_mut()
                .and_then(|clock| clock.take_due(cx.now));
            match percent {
                Some(100) => {
                    let data =
                        serde_json::to_value(conversation.materialized()).unwrap_or_default();
                    conversation.runtime.timers.customer_sla = None;
                    conversation.notify_with_intent(
                        cx,
                        CimEventName::CustomerSlaExpired,
                        EventEmitter::conversation_monitor(),
                        data,
                        IntentFacts::default(),
                    );
                }
                Some(_) => {
                    let text = cx.settings.customer_sla_reminder_message.clone();
                    if !text.trim().is_empty() {
                        // The customer may be gone already; then there is no one to remind.
                        let _ = conversation.send_studio_message(cx, &text);
                    }
                }
                None => {}
            }
        }
        DueTimer::AgentSla => {
            let (percent, remaining_ms) = match conversation.runtime.timers.agent_sla.as_mut() {
                Some(clock) => (clock.take_due(cx.now), clock.remaining_ms(cx.now)),
                None => (None, 0),
            };
            match percent {
                Some(100) => {
                    let data =
                        serde_json::to_value(conversation.materialized()).unwrap_or_default();
                    conversation.runtime.timers.agent_sla = None;
                    conversation.notify_with_intent(
                        cx,
                        CimEventName::AgentSlaExpired,
                        EventEmitter::conversation_monitor(),
                        data,
                        IntentFacts::default(),
                    );
                }
                Some(percent) => {
                    let agent_ids = conversation.active_agent_ids();
                    if !agent_ids.is_empty() {
                        cx.effect(Effect::AgentSlaThreshold {
                            conversation_id: conversation.id.clone(),
                            agent_ids,
                            percent,
                            remaining_ms,
                        });
                    }
                }
                None => {}
            }
        }
        DueTimer::Wrapup { agent_id } => conversation.finish_wrapup(cx, &agent_id, true),
        DueTimer::Hold => conversation.resume(cx, None),
        DueTimer::HoursOpen => super::hours_hold::release(conversation, cx),
        DueTimer::Studio { .. } => {}
    }
}
