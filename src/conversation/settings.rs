//! `CoreSettings`: everything the conversation core's behaviour depends on — the
//! `[conversation]` and `[studio]` configuration sections plus the few knobs that have
//! no configuration key yet — and the derived facts the core asks of them (SLA
//! thresholds, whether an intent goes to the external flow).

use crate::cim::CimEventName;
use crate::config::{ConversationSettings, StudioSettings};

/// Text sent to a customer when the customer SLA reaches its reminder threshold.
pub const DEFAULT_CUSTOMER_SLA_REMINDER: &str =
    "Are you still there? This chat will close soon if we don't hear from you.";

/// How long past the driver's own studio timeout the core waits before it falls back
/// by itself (covers a driver that lost the call, e.g. across a restart).
pub const STUDIO_BACKSTOP_GRACE_MS: i64 = 1_000;

/// Serde: the input journal keeps it with each state of the core.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CoreSettings {
    pub conversation: ConversationSettings,
    pub studio: StudioSettings,
    /// Text of the customer SLA reminder.
    pub customer_sla_reminder_message: String,
    /// Message and event ids remembered per open conversation for duplicate detection.
    pub dedup_window_per_conversation: usize,
    /// Ids remembered after their conversation closed, so a late retry is still
    /// acknowledged as a duplicate rather than opening a new conversation.
    pub dedup_window_closed: usize,
}

impl CoreSettings {
    pub fn new(conversation: ConversationSettings, studio: StudioSettings) -> Self {
        CoreSettings {
            conversation,
            studio,
            customer_sla_reminder_message: DEFAULT_CUSTOMER_SLA_REMINDER.to_owned(),
            dedup_window_per_conversation: 1024,
            dedup_window_closed: 100_000,
        }
    }

    /// True when `intent` is answered by the external flow rather than the built-in one:
    /// a studio URL is configured and the intent list is empty (all) or names it.
    pub fn is_external(&self, intent: &CimEventName) -> bool {
        !self.studio.url.trim().is_empty()
            && (self.studio.intents.is_empty()
                || self
                    .studio
                    .intents
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(intent.as_str())))
    }

    /// The driver's timeout for one studio call, milliseconds.
    pub fn studio_timeout_ms(&self) -> i64 {
        i64::try_from(self.studio.timeout_ms).unwrap_or(i64::MAX / 4)
    }

    /// Agent SLA notification points: the configured thresholds in (0, 100), sorted
    /// and unique, then 100 (expiry).
    pub fn agent_sla_points(&self) -> Vec<u8> {
        sla_points(&self.conversation.agent_sla_thresholds)
    }

    /// Customer SLA points: the reminder threshold (when in (0, 100)), then 100.
    pub fn customer_sla_points(&self) -> Vec<u8> {
        sla_points(&[self.conversation.customer_sla_reminder_percent])
    }

    /// The wrap-up duration, or `None` when wrap-up is disabled.
    pub fn wrapup_secs(&self) -> Option<u64> {
        self.conversation
            .wrapup_enabled
            .then_some(self.conversation.wrapup_timeout_secs)
    }
}

impl Default for CoreSettings {
    fn default() -> Self {
        CoreSettings::new(ConversationSettings::default(), StudioSettings::default())
    }
}

fn sla_points(thresholds: &[u8]) -> Vec<u8> {
    let mut points: Vec<u8> = thresholds
        .iter()
        .copied()
        .filter(|p| (1..100).contains(p))
        .collect();
    points.sort_unstable();
    points.dedup();
    points.push(100);
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_points_are_sorted_unique_and_end_at_expiry() {
        let mut settings = CoreSettings::default();
        settings.conversation.agent_sla_thresholds = vec![80, 0, 50, 80, 120, 100];
        assert_eq!(settings.agent_sla_points(), vec![50, 80, 100]);
        settings.conversation.customer_sla_reminder_percent = 0;
        assert_eq!(settings.customer_sla_points(), vec![100]);
    }

    #[test]
    fn external_routing_follows_url_and_intent_list() {
        let mut settings = CoreSettings::default();
        assert!(!settings.is_external(&CimEventName::ConversationStarted));
        settings.studio.url = "http://flow".into();
        assert!(settings.is_external(&CimEventName::ConversationStarted));
        settings.studio.intents = vec!["agent_sla_expired".into()];
        assert!(!settings.is_external(&CimEventName::ConversationStarted));
        assert!(settings.is_external(&CimEventName::AgentSlaExpired));
    }
}
