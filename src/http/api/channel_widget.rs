//! A channel's widget settings: its pre-chat form and business hours
//! (`/api/v1/channels/{id}/prechat-form`, `/api/v1/channels/{id}/business-hours`:
//! supervisors read, admins replace, audited), and the public
//! `/api/v1/widget/channels/{serviceIdentifier}` the widget reads before a chat: the
//! form to show, and whether the channel is open now or when it opens next.

use super::{actor, record_updated};
use crate::channels::hours::BusinessHours;
use crate::channels::prechat::PrechatForm;
use crate::clock::{now_ms, Millis};
use crate::http::auth::AuthUser;
use crate::http::error::responses::{
    BadRequest, BodyRefused, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, Supervisor};
use crate::http::AppState;
use crate::store::{channel_admin, channel_widget, StoreResult};
use actix_web::{get, put, web};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_form)
        .service(put_form)
        .service(get_hours)
        .service(put_hours)
        .service(widget_channel);
}

fn site_zone(state: &AppState) -> jiff::tz::TimeZone {
    state.config.site.zone().unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A channel's pre-chat form (the default one, name optional, when none was set).
#[utoipa::path(
    tag = "channels",
    responses((status = 200, body = PrechatForm), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/channels/{id}/prechat-form")]
async fn get_form(
    state: web::Data<AppState>,
    _: Supervisor,
    id: web::Path<String>,
) -> Result<web::Json<PrechatForm>, ApiError> {
    read(&state, id.into_inner(), channel_widget::prechat_form).await
}

/// Replace a channel's pre-chat form: name and email each required, optional or
/// hidden; up to 10 custom text or select fields. The next chat is checked against it.
#[utoipa::path(
    tag = "channels",
    request_body = PrechatForm,
    responses((status = 200, body = PrechatForm), BadRequest, Unauthenticated, Forbidden, NotFound, BodyRefused),
    security(("bearer" = []))
)]
#[put("/channels/{id}/prechat-form")]
async fn put_form(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<PrechatForm>,
) -> Result<web::Json<PrechatForm>, ApiError> {
    let form = body.into_inner()?;
    form.check()
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    let setting = Setting {
        key: "prechatForm",
        read: channel_widget::prechat_form,
        write: channel_widget::set_prechat_form,
    };
    replace(&state, &auth, id.into_inner(), setting, form).await
}

/// One widget setting of a channel: its key in the audit entry, how it is read and
/// written.
struct Setting<T> {
    key: &'static str,
    read: fn(&Connection, &str) -> StoreResult<T>,
    write: fn(&Connection, &str, &T, Millis) -> StoreResult<()>,
}

async fn read<T: Send + 'static>(
    state: &AppState,
    id: String,
    read: fn(&Connection, &str) -> StoreResult<T>,
) -> Result<web::Json<T>, ApiError> {
    Ok(web::Json(state.store.read(move |c| read(c, &id)).await?))
}

/// Replaces a checked setting of channel `id`, audited as a channel update
/// `{key: before}` → `{key: after}`; answers the setting.
async fn replace<T: Serialize + Clone + Send + 'static>(
    state: &AppState,
    auth: &AuthUser,
    id: String,
    setting: Setting<T>,
    value: T,
) -> Result<web::Json<T>, ApiError> {
    let who = actor(auth);
    let saved = value.clone();
    state
        .store
        .write(move |c| {
            let before = (setting.read)(c, &id)?;
            (setting.write)(c, &id, &value, now_ms())?;
            let name = channel_name(c, &id)?;
            record_updated(
                c,
                &who,
                "channel",
                &id,
                &name,
                &json!({setting.key: before}),
                &json!({setting.key: value}),
            )
        })
        .await?;
    Ok(web::Json(saved))
}

fn channel_name(c: &Connection, id: &str) -> StoreResult<String> {
    Ok(channel_admin::channel_json(c, id)?
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned())
}

/// A channel's business hours (`enabled: false`, always open, when none were set).
#[utoipa::path(
    tag = "channels",
    responses((status = 200, body = BusinessHours), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/channels/{id}/business-hours")]
async fn get_hours(
    state: web::Data<AppState>,
    _: Supervisor,
    id: web::Path<String>,
) -> Result<web::Json<BusinessHours>, ApiError> {
    read(&state, id.into_inner(), channel_widget::business_hours).await
}

/// Replace a channel's business hours: per weekday up to 6 open intervals (`HH:MM`,
/// overnight when `close` is before `open`), holidays (closed all day), in `timeZone`
/// or the site's. Messages left while closed are routed when the hours open.
#[utoipa::path(
    tag = "channels",
    request_body = BusinessHours,
    responses((status = 200, body = BusinessHours), BadRequest, Unauthenticated, Forbidden, NotFound, BodyRefused),
    security(("bearer" = []))
)]
#[put("/channels/{id}/business-hours")]
async fn put_hours(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<BusinessHours>,
) -> Result<web::Json<BusinessHours>, ApiError> {
    let hours = body.into_inner()?;
    let schedule = hours
        .check(&site_zone(&state))
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    let id = id.into_inner();
    let setting = Setting {
        key: "businessHours",
        read: channel_widget::business_hours,
        write: channel_widget::set_business_hours,
    };
    let saved = replace(&state, &auth, id.clone(), setting, hours).await?;
    // Messages left on the channel now wait for the new hours' next opening.
    state
        .conversations
        .hours_changed(&id, schedule.next_open(now_ms()));
    Ok(saved)
}

/// What the widget shows before a chat.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetChannel {
    pub service_identifier: String,
    pub name: String,
    /// false: the channel takes no new chats (disabled by an admin).
    pub enabled: bool,
    /// Within business hours now (always true without hours).
    pub open: bool,
    /// When closed: when the hours open next (epoch ms); null when open, or never.
    #[schema(value_type = Option<i64>)]
    pub next_open: Option<Millis>,
    /// The IANA zone the hours are read in.
    pub time_zone: Option<String>,
    pub prechat_form: PrechatForm,
}

/// Public (no credential): the channel a widget names, its pre-chat form, and whether
/// it is open. 404 for an unknown serviceIdentifier.
#[utoipa::path(
    tag = "widget",
    responses((status = 200, body = WidgetChannel), NotFound)
)]
#[get("/widget/channels/{serviceIdentifier}")]
async fn widget_channel(
    state: web::Data<AppState>,
    service_identifier: web::Path<String>,
) -> Result<web::Json<WidgetChannel>, ApiError> {
    let sid = service_identifier.into_inner();
    let lookup = sid.clone();
    let channel = state
        .store
        .read(move |c| channel_widget::by_service_identifier(c, &lookup))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("channel {sid}")))?;
    let schedule = channel
        .hours
        .check(&site_zone(&state))
        .map_err(|e| ApiError::Internal(format!("stored business hours: {e}")))?;
    let now = now_ms();
    let open = schedule.is_open(now);
    Ok(web::Json(WidgetChannel {
        service_identifier: sid,
        name: channel.name,
        enabled: channel.enabled,
        open,
        next_open: if open { None } else { schedule.next_open(now) },
        time_zone: schedule.zone_name().map(str::to_owned),
        prechat_form: channel.form,
    }))
}
