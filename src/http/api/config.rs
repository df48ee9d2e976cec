//! Live routing configuration (admins): MRDs, queues with steps, routing
//! attributes, agent capacities and attributes, pull lists. Each change is
//! stored, then handed to the routing engine, which applies it at once.

use crate::clock::now_ms;
use crate::http::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::routing::{expr, loader, Effect, Input, MrdConfig, PullListConfig};
use crate::store::directory::{self, MrdRow, QueueRow, QueueStepRow};
use crate::store::users::Role;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mrds", web::post().to(create_mrd))
        .route("/mrds/{id}", web::put().to(update_mrd))
        .route("/queues", web::post().to(create_queue))
        .route("/queues/{id}", web::put().to(update_queue))
        .route("/queues/{id}", web::delete().to(delete_queue))
        .route("/routing-attributes", web::post().to(create_attribute))
        .route("/users/{id}/capacities", web::put().to(set_capacities))
        .route("/users/{id}/attributes", web::put().to(set_attributes))
        .route("/pull-lists", web::post().to(create_pull_list))
        .route("/channels", web::post().to(create_channel));
}

async fn apply(state: &AppState, input: Input) -> Result<(), ApiError> {
    for effect in state.routing.call(input).await {
        if let Effect::Rejected { error, .. } = effect {
            // Stored but refused by the engine would be a bug; say so loudly.
            return Err(ApiError::Internal(format!(
                "routing refused the change: {error}"
            )));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MrdBody {
    name: String,
    #[serde(default)]
    description: String,
    max_tasks: u32,
    #[serde(default = "yes")]
    interruptible: bool,
}

fn yes() -> bool {
    true
}

fn validate_name(name: &str, what: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 100 {
        return Err(ApiError::Validation(format!(
            "{what} name must be 1-100 characters"
        )));
    }
    Ok(())
}

async fn save_mrd(state: &AppState, row: MrdRow, create: bool) -> Result<HttpResponse, ApiError> {
    validate_name(&row.name, "MRD")?;
    if row.max_tasks > 100 {
        return Err(ApiError::Validation(
            "maxTasks must be between 0 and 100".into(),
        ));
    }
    let saved = row.clone();
    state
        .store
        .write(move |c| {
            if create {
                directory::create_mrd(c, &saved, now_ms())
            } else {
                directory::update_mrd(c, &saved)
            }
        })
        .await?;
    apply(
        state,
        Input::UpsertMrd(MrdConfig {
            id: row.id.clone(),
            name: row.name.clone(),
            description: row.description.clone(),
            max_tasks: row.max_tasks,
            interruptible: row.interruptible,
        }),
    )
    .await?;
    Ok(if create {
        HttpResponse::Created().json(row)
    } else {
        HttpResponse::Ok().json(row)
    })
}

async fn create_mrd(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<MrdBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let b = body.into_inner();
    let row = MrdRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: b.name,
        description: b.description,
        max_tasks: b.max_tasks,
        interruptible: b.interruptible,
    };
    save_mrd(&state, row, true).await
}

async fn update_mrd(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<MrdBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let b = body.into_inner();
    let row = MrdRow {
        id: path.into_inner(),
        name: b.name,
        description: b.description,
        max_tasks: b.max_tasks,
        interruptible: b.interruptible,
    };
    save_mrd(&state, row, false).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StepBody {
    expression: String,
    timeout_secs: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct QueueBody {
    name: String,
    mrd_id: String,
    #[serde(default = "one")]
    priority: u8,
    /// Absent: the engine's default (routing.accept_timeout_secs).
    #[serde(default)]
    accept_timeout_secs: Option<i64>,
    #[serde(default = "sixty")]
    agent_sla_secs: i64,
    #[serde(default = "thirty")]
    service_level_secs: i64,
    #[serde(default)]
    steps: Vec<StepBody>,
}

fn one() -> u8 {
    1
}
fn thirty() -> i64 {
    30
}
fn sixty() -> i64 {
    60
}

fn queue_row(id: String, b: QueueBody) -> Result<QueueRow, ApiError> {
    validate_name(&b.name, "queue")?;
    if !(1..=10).contains(&b.priority) {
        return Err(ApiError::Validation(
            "priority must be between 1 and 10".into(),
        ));
    }
    if b.accept_timeout_secs.is_some_and(|s| s < 1) {
        return Err(ApiError::Validation(
            "acceptTimeoutSecs must be positive".into(),
        ));
    }
    if b.agent_sla_secs < 0 || b.service_level_secs < 0 {
        return Err(ApiError::Validation(
            "SLA times must not be negative".into(),
        ));
    }
    if b.steps.len() > 10 {
        return Err(ApiError::Validation("a queue has at most 10 steps".into()));
    }
    for (i, step) in b.steps.iter().enumerate() {
        if step.timeout_secs < 0 {
            return Err(ApiError::Validation(format!(
                "steps[{i}].timeoutSecs must not be negative"
            )));
        }
        if !step.expression.trim().is_empty() {
            expr::Expr::parse(&step.expression)
                .map_err(|e| ApiError::Validation(format!("steps[{i}].expression: {e}")))?;
        }
    }
    Ok(QueueRow {
        id,
        name: b.name,
        mrd_id: b.mrd_id,
        priority: b.priority,
        accept_timeout_secs: b.accept_timeout_secs,
        agent_sla_secs: b.agent_sla_secs,
        service_level_secs: b.service_level_secs,
        steps: b
            .steps
            .into_iter()
            .map(|s| QueueStepRow {
                expression: s.expression,
                timeout_secs: s.timeout_secs,
            })
            .collect(),
    })
}

async fn save_queue(
    state: &AppState,
    row: QueueRow,
    create: bool,
) -> Result<HttpResponse, ApiError> {
    let saved = row.clone();
    state
        .store
        .write(move |c| {
            let mrds = directory::list_mrds(c)?;
            if !mrds.iter().any(|m| m.id == saved.mrd_id) {
                return Err(crate::store::StoreError::NotFound(format!(
                    "MRD {}",
                    saved.mrd_id
                )));
            }
            if create {
                directory::create_queue(c, &saved, now_ms())
            } else {
                directory::update_queue(c, &saved)
            }
        })
        .await?;
    state
        .conversations
        .set_queue_sla(&row.id, row.agent_sla_secs.max(0) as u32);
    apply(state, Input::UpsertQueue(loader::queue_config(row.clone()))).await?;
    Ok(if create {
        HttpResponse::Created().json(row)
    } else {
        HttpResponse::Ok().json(row)
    })
}

async fn create_queue(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<QueueBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let row = queue_row(uuid::Uuid::new_v4().to_string(), body.into_inner())?;
    save_queue(&state, row, true).await
}

async fn update_queue(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<QueueBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let row = queue_row(path.into_inner(), body.into_inner())?;
    save_queue(&state, row, false).await
}

async fn delete_queue(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let id = path.into_inner();
    let queue_id = id.clone();
    let waiting = state
        .routing
        .query(move |core, _| {
            core.tasks()
                .any(|t| t.media.queue.id == queue_id && !t.is_closed())
        })
        .await
        .unwrap_or(false);
    if waiting {
        return Err(ApiError::Conflict(
            "the queue has open tasks; flush it first".into(),
        ));
    }
    let del = id.clone();
    state
        .store
        .write(move |c| directory::delete_queue(c, &del))
        .await?;
    apply(&state, Input::RemoveQueue { queue_id: id }).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AttributeBody {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    description: String,
}

async fn create_attribute(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<AttributeBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let b = body.into_inner();
    validate_name(&b.name, "attribute")?;
    if !b
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ApiError::Validation(
            "attribute names are letters, digits and '_' (they appear in step expressions)".into(),
        ));
    }
    if b.kind != "BOOLEAN" && b.kind != "PROFICIENCY" {
        return Err(ApiError::Validation(
            "type must be BOOLEAN or PROFICIENCY".into(),
        ));
    }
    let (name, kind, description) = (b.name.clone(), b.kind.clone(), b.description);
    let id = state
        .store
        .write(move |c| directory::create_routing_attribute(c, &name, &kind, &description))
        .await?;
    Ok(HttpResponse::Created().json(json!({"id": id, "name": b.name, "type": b.kind})))
}

/// Re-reads an agent's profile after a change and hands it to the engine.
async fn refresh_agent(state: &AppState, user_id: &str) -> Result<(), ApiError> {
    let id = user_id.to_owned();
    let profile = state
        .store
        .read(move |c| loader::agent_profile(c, &id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("agent {user_id}")))?;
    apply(state, Input::UpsertAgent(profile)).await
}

async fn set_capacities(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<BTreeMap<String, u32>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let user_id = path.into_inner();
    let caps = body.into_inner();
    if caps.values().any(|v| *v > 100) {
        return Err(ApiError::Validation(
            "maxAgentTasks must be between 0 and 100".into(),
        ));
    }
    let uid = user_id.clone();
    let given = caps.clone();
    state
        .store
        .write(move |c| {
            if crate::store::users::get_user(c, &uid)?.is_none() {
                return Err(crate::store::StoreError::NotFound(format!("user {uid}")));
            }
            let mrds = directory::list_mrds(c)?;
            for (mrd, max) in &given {
                if !mrds.iter().any(|m| &m.id == mrd) {
                    return Err(crate::store::StoreError::NotFound(format!("MRD {mrd}")));
                }
                directory::set_agent_capacity(c, &uid, mrd, *max)?;
            }
            Ok(())
        })
        .await?;
    refresh_agent(&state, &user_id).await?;
    Ok(HttpResponse::Ok().json(json!({"userId": user_id, "capacities": caps})))
}

async fn set_attributes(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<BTreeMap<String, serde_json::Value>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let user_id = path.into_inner();
    let attrs = body.into_inner();
    let names: Vec<String> = attrs.keys().cloned().collect();
    let kinds = state
        .store
        .read(move |c| {
            names
                .iter()
                .map(|n| Ok((n.clone(), directory::attribute_id(c, n)?)))
                .collect::<Result<Vec<_>, crate::store::StoreError>>()
        })
        .await?;
    let mut values = Vec::with_capacity(attrs.len());
    for (name, found) in kinds {
        let (attr_id, kind) =
            found.ok_or_else(|| ApiError::NotFound(format!("routing attribute {name}")))?;
        let stored = match (kind.as_str(), &attrs[&name]) {
            ("BOOLEAN", serde_json::Value::Bool(b)) => i64::from(*b),
            ("PROFICIENCY", serde_json::Value::Number(n)) => match n.as_i64() {
                Some(p @ 1..=10) => p,
                _ => {
                    return Err(ApiError::Validation(format!(
                        "{name}: a proficiency is 1-10"
                    )))
                }
            },
            _ => {
                return Err(ApiError::Validation(format!(
                    "{name} is a {kind} attribute: give {}",
                    if kind == "BOOLEAN" {
                        "true or false"
                    } else {
                        "a number 1-10"
                    }
                )))
            }
        };
        values.push((attr_id, stored));
    }
    let uid = user_id.clone();
    state
        .store
        .write(move |c| {
            if crate::store::users::get_user(c, &uid)?.is_none() {
                return Err(crate::store::StoreError::NotFound(format!("user {uid}")));
            }
            for (attr_id, value) in &values {
                directory::set_agent_attribute(c, &uid, attr_id, *value)?;
            }
            Ok(())
        })
        .await?;
    refresh_agent(&state, &user_id).await?;
    Ok(HttpResponse::Ok().json(json!({"userId": user_id, "attributes": attrs})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PullListBody {
    name: String,
    #[serde(default)]
    queue_id: Option<String>,
}

async fn create_pull_list(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<PullListBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let b = body.into_inner();
    validate_name(&b.name, "pull list")?;
    let (name, queue) = (b.name.clone(), b.queue_id.clone());
    let id = state
        .store
        .write(move |c| directory::create_pull_list(c, &name, queue.as_deref()))
        .await?;
    apply(
        &state,
        Input::UpsertPullList(PullListConfig {
            id: id.clone(),
            name: b.name.clone(),
        }),
    )
    .await?;
    Ok(HttpResponse::Created().json(json!({"id": id, "name": b.name, "queueId": b.queue_id})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RoutingPolicyBody {
    #[serde(default = "push")]
    routing_mode: String,
    /// A queue id (PUSH) or a pull list id (PULL).
    routing_object_id: String,
    #[serde(default = "longest")]
    agent_selection_policy: String,
    #[serde(default)]
    route_to_last_agent: bool,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ChannelBody {
    name: String,
    service_identifier: String,
    /// Name of a channel type (WEB, CX_VOICE, ...).
    channel_type: String,
    #[serde(default)]
    provider_webhook: String,
    #[serde(default = "activity")]
    customer_activity_timeout: i64,
    #[serde(default)]
    response_sla: i64,
    routing_policy: RoutingPolicyBody,
}

/// Creates a channel (with its provider and connector) routed to a queue (PUSH) or
/// a pull list (PULL); connector channels name the `providerWebhook` replies go to.
async fn create_channel(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<ChannelBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let b = body.into_inner();
    validate_name(&b.name, "channel")?;
    if b.service_identifier.is_empty() || b.service_identifier.len() > 64 {
        return Err(ApiError::Validation(
            "serviceIdentifier must be 1-64 characters".into(),
        ));
    }
    let p = &b.routing_policy;
    if p.routing_mode != "PUSH" && p.routing_mode != "PULL" {
        return Err(ApiError::Validation(
            "routingPolicy.routingMode must be PUSH or PULL".into(),
        ));
    }
    if !["LONGEST_AVAILABLE", "LEAST_ACTIVE_TASKS", "MOST_SKILLED"]
        .contains(&p.agent_selection_policy.as_str())
    {
        return Err(ApiError::Validation(
            "routingPolicy.agentSelectionPolicy must be LONGEST_AVAILABLE, LEAST_ACTIVE_TASKS or MOST_SKILLED".into(),
        ));
    }
    if p.agent_request_ttl < 1 || b.customer_activity_timeout < 1 || b.response_sla < 0 {
        return Err(ApiError::Validation(
            "agentRequestTtl and customerActivityTimeout must be positive, responseSla not negative".into(),
        ));
    }
    if !(b.provider_webhook.is_empty()
        || b.provider_webhook.starts_with("http://")
        || b.provider_webhook.starts_with("https://"))
    {
        return Err(ApiError::Validation(
            "providerWebhook must be an http(s) URL".into(),
        ));
    }
    let config = json!({
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
    });
    let sid = b.service_identifier.clone();
    let channel = state
        .store
        .write(move |c| {
            let object = &b.routing_policy.routing_object_id;
            let known: bool = if b.routing_policy.routing_mode == "PULL" {
                c.prepare_cached("SELECT 1 FROM pull_lists WHERE id = ?1")?
                    .exists([object])?
            } else {
                c.prepare_cached("SELECT 1 FROM queues WHERE id = ?1")?
                    .exists([object])?
            };
            if !known {
                return Err(crate::store::StoreError::NotFound(format!(
                    "routing object {object}"
                )));
            }
            let type_id: String = c
                .prepare_cached("SELECT id FROM channel_types WHERE name = ?1")?
                .query_row([&b.channel_type], |r| r.get(0))
                .map_err(|_| {
                    crate::store::StoreError::NotFound(format!("channel type {}", b.channel_type))
                })?;
            directory::create_channel(
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
            directory::channel_by_service_identifier(c, &sid)
        })
        .await?;
    Ok(HttpResponse::Created().json(channel))
}
