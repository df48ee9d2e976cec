//! What the web widget shows before a chat, per channel: the pre-chat form and the
//! business hours (`channel_widget_settings`, V13). Values are written only after the
//! API checked them; a channel without them has the default form and no hours.

use super::{StoreError, StoreResult};
use crate::channels::hours::BusinessHours;
use crate::channels::prechat::PrechatForm;
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};

/// A channel as the widget sees it before a chat.
#[derive(Debug, Clone)]
pub struct WidgetChannel {
    pub channel_id: String,
    pub name: String,
    /// Enabled and not deleted: takes new chats.
    pub enabled: bool,
    pub form: PrechatForm,
    /// Whether an admin set this channel's form; without one, a chat request's form
    /// data is taken as given (as before forms existed) and only a left message is checked.
    pub form_set: bool,
    pub hours: BusinessHours,
}

fn parse<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> StoreResult<T> {
    match text {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("stored channel widget setting: {e}"))),
    }
}

fn columns(conn: &Connection, channel_id: &str) -> StoreResult<(Option<String>, Option<String>)> {
    Ok(conn
        .prepare_cached(
            "SELECT prechat_form, business_hours FROM channel_widget_settings WHERE channel_id = ?1",
        )?
        .query_row([channel_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((None, None)))
}

fn require_channel(conn: &Connection, channel_id: &str) -> StoreResult<()> {
    let live = conn
        .prepare_cached("SELECT 1 FROM channels WHERE id = ?1 AND deleted_at IS NULL")?
        .exists([channel_id])?;
    if live {
        Ok(())
    } else {
        Err(StoreError::NotFound(format!("channel {channel_id}")))
    }
}

/// The channel's pre-chat form (the default one when none was set).
pub fn prechat_form(conn: &Connection, channel_id: &str) -> StoreResult<PrechatForm> {
    require_channel(conn, channel_id)?;
    parse(columns(conn, channel_id)?.0)
}

/// The channel's business hours (always open when none were set).
pub fn business_hours(conn: &Connection, channel_id: &str) -> StoreResult<BusinessHours> {
    require_channel(conn, channel_id)?;
    parse(columns(conn, channel_id)?.1)
}

fn to_text<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Writes one column of the channel's settings row (made when missing).
fn set_column(
    conn: &Connection,
    channel_id: &str,
    column: &'static str,
    text: String,
    now: Millis,
) -> StoreResult<()> {
    require_channel(conn, channel_id)?;
    conn.execute(
        &format!(
            "INSERT INTO channel_widget_settings (channel_id, {column}, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(channel_id) DO UPDATE SET {column} = excluded.{column},
                                                   updated_at = excluded.updated_at"
        ),
        params![channel_id, text, now],
    )?;
    Ok(())
}

/// Replaces the channel's pre-chat form (already checked).
pub fn set_prechat_form(
    conn: &Connection,
    channel_id: &str,
    form: &PrechatForm,
    now: Millis,
) -> StoreResult<()> {
    set_column(conn, channel_id, "prechat_form", to_text(form)?, now)
}

/// Replaces the channel's business hours (already checked).
pub fn set_business_hours(
    conn: &Connection,
    channel_id: &str,
    hours: &BusinessHours,
    now: Millis,
) -> StoreResult<()> {
    set_column(conn, channel_id, "business_hours", to_text(hours)?, now)
}

/// The channel a widget names by `service_identifier`, with its form and hours.
pub fn by_service_identifier(
    conn: &Connection,
    service_identifier: &str,
) -> StoreResult<Option<WidgetChannel>> {
    conn.prepare_cached(
        "SELECT c.id, c.name, c.enabled = 1 AND c.deleted_at IS NULL, s.prechat_form, s.business_hours
         FROM channels c LEFT JOIN channel_widget_settings s ON s.channel_id = c.id
         WHERE c.service_identifier = ?1",
    )?
    .query_row([service_identifier], |r| {
        Ok((
            WidgetChannel {
                channel_id: r.get(0)?,
                name: r.get(1)?,
                enabled: r.get(2)?,
                form: PrechatForm::default(),
                form_set: false,
                hours: BusinessHours::default(),
            },
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })
    .optional()?
    .map(|(channel, form, hours)| {
        Ok(WidgetChannel {
            form_set: form.is_some(),
            form: parse(form)?,
            hours: parse(hours)?,
            ..channel
        })
    })
    .transpose()
}
