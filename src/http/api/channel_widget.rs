//! A channel's widget settings: its pre-chat form and business hours
//! (`/api/v1/channels/{id}/prechat-form`, `/api/v1/channels/{id}/business-hours`:
//! supervisors read, admins replace, audited), and the public
//! `/api/v1/widget/channels/{serviceIdentifier}` the widget reads before a chat: the
//! form to show, and whether the channel is open now or when it opens next.

use super::{actor, record_updated};
use crate::channels::hours::BusinessHours;
use crate::channels::prechat::PrechatForm;
use crate::clock::{now_ms, Millis};
use crate::http::error::responses::{
    BadRequest, BodyRefused, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, Supervisor};
use crate::http::AppState;
use crate::store::channel_admin;
use crate::store::channel_widget;
use actix_web::{get, put, web};
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
    let id = id.into_inner();
    Ok(web::Json(
        state
            .store
            .read(move |c| channel_widget::prechat_form(c, &id))
            .await?,
    ))
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
    let id = id.into_inner();
    let who = actor(&auth);
    let saved = form.clone();
    state
        .store
        .write(move |c| {
            let before = channel_widget::prechat_form(c, &id)?;
            channel_widget::set_prechat_form(c, &id, &form, now_ms())?;
            let name = channel_name(c, &id)?;
            record_updated(
                c,
                &who,
                "channel",
                &id,
                &name,
                &json!({"prechatForm": before}),
                &json!({"prechatForm": form}),
            )
        })
        .await?;
    Ok(web::Json(saved))
}

fn channel_name(c: &rusqlite::Connection, id: &str) -> crate::store::StoreResult<String> {
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
    let id = id.into_inner();
    Ok(web::Json(
        state
            .store
            .read(move |c| channel_widget::business_hours(c, &id))
            .await?,
    ))
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
    let who = actor(&auth);
    let saved = hours.clone();
    let channel_id = id.clone();
    state
        .store
        .write(move |c| {
            let before = channel_widget::business_hours(c, &id)?;
            channel_widget::set_business_hours(c, &id, &hours, now_ms())?;
            let name = channel_name(c, &id)?;
            record_updated(
                c,
                &who,
                "channel",
                &id,
                &name,
                &json!({"businessHours": before}),
                &json!({"businessHours": hours}),
            )
        })
        .await?;
    state
        .conversations
        .hours_changed(&channel_id, schedule.next_open(now_ms()));
    Ok(web::Json(saved))
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
