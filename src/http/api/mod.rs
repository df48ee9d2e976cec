//! The `/api/v1` resources, one file each, registered so that utoipa-actix-web
//! collects every route into the OpenAPI document (`openapi`), plus the helpers the
//! configuration handlers share: the audit actor, name checks and handing a change to
//! the routing engine.

mod account;
mod agent_profile;
pub(crate) mod attachments;
mod attributes;
mod audit;
mod canned;
mod channel_schema;
mod channel_widget;
mod channels;
mod codes;
mod colleagues;
mod conversations;
mod crud;
mod customer_history;
mod customers;
mod directory;
mod mrds;
pub mod openapi;
mod outbox;
mod pull_lists;
mod queue_thresholds;
mod queues;
mod reports;
mod routing;
mod teams;
mod users;

use crate::http::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::routing::{loader, Effect, Input};
use crate::store::audit::Actor;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    account::configure(cfg);
    users::configure(cfg);
    agent_profile::configure(cfg);
    teams::configure(cfg);
    directory::configure(cfg);
    colleagues::configure(cfg);
    mrds::configure(cfg);
    attributes::configure(cfg);
    queues::configure(cfg);
    channels::configure(cfg);
    channel_widget::configure(cfg);
    pull_lists::configure(cfg);
    codes::configure(cfg);
    canned::configure(cfg);
    audit::configure(cfg);
    routing::configure(cfg);
    conversations::configure(cfg);
    customer_history::configure(cfg);
    customers::configure(cfg);
    attachments::configure(cfg);
    outbox::configure(cfg);
    queue_thresholds::configure(cfg);
    reports::configure(cfg);
    openapi::configure(cfg);
}

/// The audit actor of a caller.
pub(crate) fn actor(auth: &AuthUser) -> Actor {
    Actor {
        id: auth.user.id.clone(),
        username: auth.user.username.clone(),
    }
}

/// A JSON snapshot of an entity for the audit log.
pub(crate) fn snapshot<T: serde::Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// A display name of 1-100 characters (not only spaces).
pub(crate) fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be 1-100 characters"),
        ));
    }
    Ok(())
}

/// At most `max` characters.
pub(crate) fn check_len(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// Hands a stored configuration change to the routing engine.
pub(crate) async fn apply(state: &AppState, input: Input) -> Result<(), ApiError> {
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

/// Re-reads a user's routing profile after a change and hands it to the engine; a
/// user that no longer routes (admin, disabled, deleted) is removed from routing.
pub(crate) async fn refresh_agent(state: &AppState, user_id: &str) -> Result<(), ApiError> {
    let id = user_id.to_owned();
    let profile = state
        .store
        .read(move |c| loader::agent_profile(c, &id))
        .await?;
    match profile {
        Some(profile) => apply(state, Input::UpsertAgent(profile)).await,
        None => {
            let id = user_id.to_owned();
            let known = state
                .routing
                .query(move |core, _| core.agent(&id).is_some())
                .await
                .unwrap_or(false);
            if known {
                apply(
                    state,
                    Input::RemoveAgent {
                        agent_id: user_id.to_owned(),
                    },
                )
                .await?;
            }
            Ok(())
        }
    }
}

/// Records the creation of `entity_type` `entity_id` (see [`record`]).
pub(crate) fn record_created<T: serde::Serialize>(
    c: &rusqlite::Connection,
    who: &Actor,
    entity_type: &str,
    entity_id: &str,
    entity_name: &str,
    after: &T,
) -> crate::store::StoreResult<()> {
    record(
        c,
        who,
        "create",
        entity_type,
        entity_id,
        entity_name,
        None,
        Some(after),
    )
}

/// Records an update of `entity_type` `entity_id` from `before` to `after` (see [`record`]).
pub(crate) fn record_updated<T: serde::Serialize>(
    c: &rusqlite::Connection,
    who: &Actor,
    entity_type: &str,
    entity_id: &str,
    entity_name: &str,
    before: &T,
    after: &T,
) -> crate::store::StoreResult<()> {
    let (before, after) = (Some(before), Some(after));
    record(
        c,
        who,
        "update",
        entity_type,
        entity_id,
        entity_name,
        before,
        after,
    )
}

/// Records the removal of `entity_type` `entity_id`, which was `before` (see [`record`]).
pub(crate) fn record_deleted<T: serde::Serialize>(
    c: &rusqlite::Connection,
    who: &Actor,
    entity_type: &str,
    entity_id: &str,
    entity_name: &str,
    before: &T,
) -> crate::store::StoreResult<()> {
    record(
        c,
        who,
        "delete",
        entity_type,
        entity_id,
        entity_name,
        Some(before),
        None,
    )
}

/// Records one configuration change in the audit log (inside the change's write).
#[allow(clippy::too_many_arguments)]
pub(crate) fn record<T: serde::Serialize>(
    c: &rusqlite::Connection,
    who: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    entity_name: &str,
    before: Option<&T>,
    after: Option<&T>,
) -> crate::store::StoreResult<()> {
    crate::store::audit::record(
        c,
        who,
        crate::store::audit::Change {
            action,
            entity_type,
            entity_id,
            entity_name,
            before: before.and_then(snapshot),
            after: after.and_then(snapshot),
        },
        crate::clock::now_ms(),
    )
}
