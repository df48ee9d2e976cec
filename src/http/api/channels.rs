//! `/api/v1/channels`: channels with their routing policy. Supervisors read them
//! (paged); admins create, edit (everything but the channel type), disable and delete
//! (refused while conversations run on it). Channels are read on every new chat, so a
//! change applies to the next chat at once.

use super::channel_schema::Channel;
use super::{actor, check_name, record_created, record_deleted, record_updated};
use crate::channels::connector::WEB_CHANNEL_TYPE;
use crate::clock::now_ms;
use crate::http::error::responses::{
    BadRequest, BodyRefused, Conflict, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, QueryOf, Supervisor};
use crate::http::page::{like_pattern, Page, Window};
use crate::http::AppState;
use crate::store::channel_admin::{self, ChannelEdit, ChannelFilter};
use crate::store::{directory, secrets, users, StoreError};
use actix_web::{delete, get, post, put, web, HttpResponse};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(remove)
        .service(new_connector_token);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ChannelListQuery {
    /// Case-insensitive search over name and serviceIdentifier.
    q: Option<String>,
    /// PUSH or PULL.
    routing_mode: Option<String>,
    /// The queue (PUSH) or pull list (PULL) it routes to.
    routing_object_id: Option<String>,
    enabled: Option<bool>,
    /// 1-500, default 50.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// List channels (the CIM `channel` object plus `enabled` and `deleted`), one page at a time.
#[utoipa::path(
    tag = "channels",
    params(ChannelListQuery),
    responses((status = 200, body = Page<Channel>), BadRequest, Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/channels")]
async fn list(
    state: web::Data<AppState>,
    _: Supervisor,
    QueryOf(q): QueryOf<ChannelListQuery>,
) -> Result<web::Json<Page<Value>>, ApiError> {
    let window = Window::new(q.limit, q.offset)?;
    if let Some(mode) = &q.routing_mode {
        if mode != "PUSH" && mode != "PULL" {
            return Err(ApiError::invalid(
                "routingMode",
                "routingMode must be PUSH or PULL",
            ));
        }
    }
    let filter = ChannelFilter {
        like: like_pattern(q.q.as_deref()),
        routing_mode: q.routing_mode,
        routing_object_id: q.routing_object_id,
        enabled: q.enabled,
    };
    let (items, total) = state
        .store
        .read(move |c| channel_admin::page(c, &filter, window.limit, window.offset))
        .await?;
    Ok(web::Json(window.page(items, total)))
}

/// One channel (a deleted one answers with `deleted: true`).
#[utoipa::path(
    tag = "channels",
    responses((status = 200, body = Channel), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/channels/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    _: Supervisor,
    id: web::Path<String>,
) -> Result<web::Json<Value>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        state
            .store
            .read(move |c| channel_admin::channel_json(c, &id))
            .await?,
    ))
}

#[derive(Deserialize, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoutingPolicyBody {
    /// PUSH (to a queue) or PULL (to a pull list); default PUSH.
    #[serde(default = "push")]
    routing_mode: String,
    /// A queue id (PUSH) or a pull list id (PULL).
    routing_object_id: String,
    /// LONGEST_AVAILABLE (default), LEAST_ACTIVE_TASKS or MOST_SKILLED.
    #[serde(default = "longest")]
    agent_selection_policy: String,
    #[serde(default)]
    route_to_last_agent: bool,
    /// Seconds a pull-mode request lives; default 300.
    #[serde(default = "ttl")]
    agent_request_ttl: i64,
}

fn push() -> String {
    "PUSH".into()
}
fn longest() -> String {
    "LONGEST_AVAILABLE".into()
}
fn ttl() -> i64 {
    300
}
fn activity() -> i64 {
    600
}
fn yes() -> bool {
    true
}

#[derive(Deserialize, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChannelBody {
    name: String,
    /// 1-64 characters, unique: what widgets and connectors name the channel by.
    service_identifier: String,
    /// Name of a channel type (WEB, CX_VOICE, ...); fixed after create.
    channel_type: String,
    /// Where replies go for connector channels: "" or an http(s) URL.
    #[serde(default)]
    provider_webhook: String,
    /// Seconds of customer silence before the chat ends; default 600.
    #[serde(default = "activity")]
    customer_activity_timeout: i64,
    #[serde(default)]
    response_sla: i64,
    /// A disabled channel refuses new chats; running ones finish. Default true.
    #[serde(default = "yes")]
    enabled: bool,
    routing_policy: RoutingPolicyBody,
}

/// Checks a channel body; answers its channelConfig object.
fn checked_config(b: &ChannelBody) -> Result<Value, ApiError> {
    check_name("name", &b.name)?;
    if b.service_identifier.is_empty()
        || b.service_identifier.chars().count() > 64
        || b.service_identifier.contains('#')
    {
        return Err(ApiError::invalid(
            "serviceIdentifier",
            "serviceIdentifier must be 1-64 characters, without '#'",
        ));
    }
    let p = &b.routing_policy;
    if p.routing_mode != "PUSH" && p.routing_mode != "PULL" {
        return Err(ApiError::invalid(
            "routingPolicy.routingMode",
            "routingPolicy.routingMode must be PUSH or PULL",
        ));
    }
    if !["LONGEST_AVAILABLE", "LEAST_ACTIVE_TASKS", "MOST_SKILLED"]
        .contains(&p.agent_selection_policy.as_str())
    {
        return Err(ApiError::invalid(
            "routingPolicy.agentSelectionPolicy",
            "routingPolicy.agentSelectionPolicy must be LONGEST_AVAILABLE, LEAST_ACTIVE_TASKS or MOST_SKILLED",
        ));
    }
    if !(1..=86_400).contains(&p.agent_request_ttl) {
        return Err(ApiError::invalid(
            "routingPolicy.agentRequestTtl",
            "routingPolicy.agentRequestTtl must be 1-86400 seconds",
        ));
    }
    if !(1..=604_800).contains(&b.customer_activity_timeout) {
        return Err(ApiError::invalid(
            "customerActivityTimeout",
            "customerActivityTimeout must be 1-604800 seconds",
        ));
    }
    if !(0..=604_800).contains(&b.response_sla) {
        return Err(ApiError::invalid(
            "responseSla",
            "responseSla must be 0-604800 seconds",
        ));
    }
    let url_ok = b.provider_webhook.is_empty()
        || ((b.provider_webhook.starts_with("http://")
            || b.provider_webhook.starts_with("https://"))
            && b.provider_webhook.len() <= 2000);
    if !url_ok {
        return Err(ApiError::invalid(
            "providerWebhook",
            "providerWebhook must be empty or an http(s) URL",
        ));
    }
    Ok(json!({
        "channelMode": "HYBRID",
        "conversationBot": "",
        "responseSla": b.response_sla,
        "customerActivityTimeout": b.customer_activity_timeout,
        "customerSla": {"totalDuration": null, "action": null, "startTime": null},
        "customerIdentificationCriteria": {"value": null},
        "routingPolicy": {
            "agentSelectionPolicy": p.agent_selection_policy,
            "routeToLastAgent": p.route_to_last_agent,
            "routingMode": p.routing_mode,
            "routingObjectId": p.routing_object_id,
            "agentRequestTtl": p.agent_request_ttl,
        },
        "botId": "",
    }))
}

/// The queue (PUSH) or pull list (PULL) must exist.
fn check_routing_object(c: &Connection, p: &RoutingPolicyBody) -> Result<(), StoreError> {
    let object = &p.routing_object_id;
    let (sql, what) = if p.routing_mode == "PULL" {
        ("SELECT 1 FROM pull_lists WHERE id = ?1", "pull list")
    } else {
        ("SELECT 1 FROM queues WHERE id = ?1", "queue")
    };
    if c.prepare_cached(sql)?.exists([object])? {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "routingPolicy.routingObjectId",
            format!("{what} {object} does not exist"),
        ))
    }
}

fn channel_type_id(c: &Connection, name: &str) -> Result<String, StoreError> {
    use rusqlite::OptionalExtension;
    c.prepare_cached("SELECT id FROM channel_types WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| {
            StoreError::invalid("channelType", format!("channel type {name} does not exist"))
        })
}

/// A new connector token for the channel `id`: only its digest is stored, so the answer
/// is the one time it is shown. Web (widget) channels take no connector posts.
fn issue_connector_token(c: &Connection, id: &str, channel: &Value) -> Result<String, StoreError> {
    let type_name = channel.pointer("/channelType/name").and_then(Value::as_str);
    if type_name == Some(WEB_CHANNEL_TYPE) {
        return Err(StoreError::invalid(
            "channelType",
            "web (widget) channels take no connector posts, so they have no connector token",
        ));
    }
    let (token, digest) = users::new_token();
    secrets::set_connector_token(c, id, &digest)?;
    Ok(token)
}

/// Create a channel (with its provider and connector) routed to a queue or pull list.
/// A connector channel (any type but WEB) is created with its connector token, answered
/// once as `connectorToken`: its connector posts with it to `/ccm/message/receive`.
#[utoipa::path(
    tag = "channels",
    request_body = ChannelBody,
    responses((status = 201, body = Channel), BadRequest, Unauthenticated, Forbidden, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[post("/channels")]
async fn create(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    body: Body<ChannelBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    let config = checked_config(&b)?;
    let who = actor(&auth);
    let channel = state
        .store
        .write(move |c| {
            check_routing_object(c, &b.routing_policy)?;
            let type_id = channel_type_id(c, &b.channel_type)?;
            let id = directory::create_channel(
                c,
                &directory::NewChannel {
                    name: &b.name,
                    service_identifier: &b.service_identifier,
                    channel_type_id: &type_id,
                    provider_webhook: &b.provider_webhook,
                    channel_config: config.clone(),
                },
                now_ms(),
            )?;
            if !b.enabled {
                c.execute("UPDATE channels SET enabled = 0 WHERE id = ?1", [&id])?;
            }
            let mut channel = channel_admin::channel_json(c, &id)?;
            record_created(c, &who, "channel", &id, &b.name, &channel)?;
            if b.channel_type != WEB_CHANNEL_TYPE {
                let token = issue_connector_token(c, &id, &channel)?;
                channel["connectorToken"] = Value::String(token);
            }
            Ok(channel)
        })
        .await?;
    Ok(HttpResponse::Created().json(channel))
}

/// What a new connector token answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorToken {
    /// `Authorization: Bearer <connectorToken>` on `POST /ccm/message/receive`; shown
    /// this once (only its digest is kept).
    connector_token: String,
}

/// Replace a connector channel's connector token (the old one stops working at once).
#[utoipa::path(
    tag = "channels",
    responses((status = 200, body = ConnectorToken), BadRequest, Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[post("/channels/{id}/connector-token")]
async fn new_connector_token(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<web::Json<ConnectorToken>, ApiError> {
    let id = id.into_inner();
    let who = actor(&auth);
    let token = state
        .store
        .write(move |c| {
            let channel = channel_admin::channel_json(c, &id)?;
            let token = issue_connector_token(c, &id, &channel)?;
            let name = channel
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let note = json!({"connectorToken": "replaced"});
            record_updated(c, &who, "channel", &id, name, &json!({}), &note)?;
            Ok(token)
        })
        .await?;
    Ok(web::Json(ConnectorToken {
        connector_token: token,
    }))
}

/// Edit a channel: name, serviceIdentifier, routing, webhook, timeouts, enabled.
///
/// The body replaces the whole record, as on create: a field left out takes its
/// default (empty, unset or the documented default), not its current value.
#[utoipa::path(
    tag = "channels",
    request_body = ChannelBody,
    responses((status = 200, body = Channel), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[put("/channels/{id}")]
async fn update(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<ChannelBody>,
) -> Result<web::Json<Value>, ApiError> {
    let id = id.into_inner();
    let b = body.into_inner()?;
    let config = checked_config(&b)?;
    let who = actor(&auth);
    let channel = state
        .store
        .write(move |c| {
            check_routing_object(c, &b.routing_policy)?;
            let before = channel_admin::channel_json(c, &id)?;
            let after = channel_admin::update(
                c,
                &ChannelEdit {
                    id: &id,
                    name: &b.name,
                    service_identifier: &b.service_identifier,
                    channel_type: &b.channel_type,
                    provider_webhook: &b.provider_webhook,
                    enabled: b.enabled,
                    channel_config: config.clone(),
                },
            )?;
            record_updated(c, &who, "channel", &id, &b.name, &before, &after)?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(channel))
}

/// Delete a channel; 409 while conversations run on it. One with history is kept hidden.
#[utoipa::path(
    tag = "channels",
    responses((status = 204), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[delete("/channels/{id}")]
async fn remove(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let who = actor(&auth);
    state
        .store
        .write(move |c| {
            let before = channel_admin::delete(c, &id, now_ms())?;
            let name = before
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            record_deleted(c, &who, "channel", &id, &name, &before)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
