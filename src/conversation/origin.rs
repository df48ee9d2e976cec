//! A message's origin as JSON (`header.sender`, `header.channelSession`,
//! `header.channelData`), kept per conversation for the senders who spoke last.
//!
//! Every stored message carries its sender participant and the conversation's channel
//! session in full (seed 004's header). Serialising them again for each message was
//! the largest single cost of a customer message in the conversation core; a
//! conversation's sender and session change rarely, so the JSON of the last few is
//! kept beside the values it was made from and reused while they compare equal.

use serde_json::Value;

use crate::cim::{ChannelSession, Participant};

/// How many senders a conversation keeps the origin of: its customer and the agent
/// answering, so that alternating messages do not evict each other.
const KEPT: usize = 2;

/// The JSON of one message origin, as `views::set_message_origin` writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginJson {
    pub sender: Value,
    /// `channelSession` and `channelData`, when the conversation has a session.
    pub session: Option<(Value, Value)>,
}

impl OriginJson {
    pub fn of(sender: &Participant, session: Option<&ChannelSession>) -> Self {
        OriginJson {
            sender: serde_json::to_value(sender).unwrap_or(Value::Null),
            session: session.map(|s| {
                (
                    serde_json::to_value(s).unwrap_or(Value::Null),
                    serde_json::to_value(&s.channel_data).unwrap_or(Value::Null),
                )
            }),
        }
    }
}

#[derive(Debug, Clone)]
struct Kept {
    sender: Participant,
    session: Option<ChannelSession>,
    json: OriginJson,
}

/// The origins a conversation's last senders wrote, newest last.
#[derive(Debug, Clone, Default)]
pub struct OriginCache {
    kept: Vec<Kept>,
}

impl OriginCache {
    /// The JSON of `sender` speaking in `session`: reused when both equal what they
    /// were when it was made, made (and kept) otherwise.
    pub fn json(&mut self, sender: &Participant, session: Option<&ChannelSession>) -> OriginJson {
        let found = self
            .kept
            .iter()
            .position(|k| k.sender == *sender && k.session.as_ref() == session);
        if let Some(at) = found {
            let kept = self.kept.remove(at);
            let json = kept.json.clone();
            self.kept.push(kept);
            return json;
        }
        let json = OriginJson::of(sender, session);
        if self.kept.len() == KEPT {
            self.kept.remove(0);
        }
        self.kept.push(Kept {
            sender: sender.clone(),
            session: session.cloned(),
            json: json.clone(),
        });
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::fixtures::{agent1, started_session};
    use crate::cim::ParticipantRole;

    #[test]
    fn the_json_follows_the_sender_and_session_it_is_asked_for() {
        let mut cache = OriginCache::default();
        let session = started_session();
        let customer = Participant::customer("p-c", session.clone(), 1);
        let agent = Participant::agent("p-a", agent1(), ParticipantRole::Primary, "c", 1);
        for _ in 0..3 {
            for (sender, session) in [(&customer, Some(&session)), (&agent, Some(&session))] {
                assert_eq!(cache.json(sender, session), OriginJson::of(sender, session));
            }
        }
        let mut renamed = session.clone();
        renamed.channel_data.channel_customer_identifier = "someone-else".into();
        assert_eq!(
            cache.json(&customer, Some(&renamed)),
            OriginJson::of(&customer, Some(&renamed))
        );
        assert_ne!(
            cache.json(&customer, Some(&renamed)),
            OriginJson::of(&customer, Some(&session))
        );
        assert_eq!(cache.json(&agent, None), OriginJson::of(&agent, None));
        assert_eq!(cache.kept.len(), KEPT);
    }
}
