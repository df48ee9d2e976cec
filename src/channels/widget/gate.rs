//! What a channel asks of a new chat or a left message before anything is written: it
//! takes new chats (enabled), the customer's answers fit its pre-chat form
//! (`channels::prechat`), and whether it is within its business hours now
//! (`channels::hours`). A new chat outside hours is refused with `closed`; the widget
//! offers to leave a message (`MESSAGE_LEFT`) instead.

use super::{Widget, WidgetError};
use crate::channels::widget_form::form_answers;
use crate::clock::{now_ms, Millis};
use crate::store::channel_widget;
use serde_json::Value;

/// The channel's verdict on a new contact.
pub(super) struct Gate {
    pub open: bool,
    /// When the hours open next (now when open; `None`: never, as set now).
    pub opens_at: Option<Millis>,
    pub time_zone: Option<String>,
}

impl Gate {
    pub fn closed_message(&self) -> String {
        match self.opens_at {
            Some(at) => format!(
                "the channel is closed (business hours) until {}; leave a message with MESSAGE_LEFT",
                jiff::Timestamp::from_millisecond(at)
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            ),
            None => "the channel is closed (business hours); leave a message with MESSAGE_LEFT"
                .to_owned(),
        }
    }
}

impl Widget {
    /// Checks a new contact on the channel `service_identifier` with the customer's
    /// `payload` (its `additionalAttributes.formData`); a `left` message is checked
    /// against the form with name and email offered.
    pub(super) async fn gate(
        &self,
        customer_key: &str,
        service_identifier: &str,
        payload: &Value,
        left: bool,
    ) -> Result<Gate, WidgetError> {
        let sid = service_identifier.to_owned();
        let channel = self
            .inner
            .store
            .read(move |c| channel_widget::by_service_identifier(c, &sid))
            .await
            .map_err(|e| WidgetError::new("unavailable", e.to_string()))?
            .filter(|c| c.enabled)
            .ok_or_else(|| {
                WidgetError::new(
                    "channel_disabled",
                    "this channel takes no new chats at the moment",
                )
            })?;
        if self.connected_channel_id(customer_key).as_deref() != Some(channel.channel_id.as_str()) {
            // The channel was deleted and made again under this service identifier
            // since the tab connected: its chats go to the channel as it is now.
            return Err(WidgetError::new(
                "channel_changed",
                "this channel was changed since the widget connected; connect again",
            ));
        }
        let answers = form_answers(payload)?;
        let form = if left {
            Some(channel.form.for_left_message())
        } else {
            channel.form_set.then_some(channel.form)
        };
        if let Some(form) = form {
            form.accept(&answers)
                .map_err(|e| WidgetError::new(e.code(), e.to_string()))?;
        }
        let schedule = channel
            .hours
            .check(&self.inner.site_zone)
            .map_err(|e| WidgetError::new("unavailable", format!("stored business hours: {e}")))?;
        let now = now_ms();
        Ok(Gate {
            open: schedule.is_open(now),
            opens_at: schedule.next_open(now),
            time_zone: schedule.zone_name().map(str::to_owned),
        })
    }
}
