//! `/api/v1/users/{id}/capacities` and `/attributes`: an agent's per-MRD capacities
//! and routing attributes, readable by supervisors of its team and admins, written by
//! admins; each change reaches the routing engine at once.

use super::users::visible_user;
use super::{actor, refresh_agent};
use crate::clock::now_ms;
use crate::http::error::responses::{
    BadRequest, BodyRefused, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, Supervisor};
use crate::http::AppState;
use crate::store::audit::{self, Change};
use crate::store::{directory, routing_admin, users, StoreError};
use actix_web::{get, put, web};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_capacities)
        .service(set_capacities)
        .service(get_attributes)
        .service(set_attributes);
}

/// An agent's capacities: MRD id → most tasks at once (0: never routed on it).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Capacities {
    pub user_id: String,
    pub capacities: BTreeMap<String, u32>,
}

/// A routing attribute's value as the document describes it: `true`/`false` for a
/// BOOLEAN attribute, 1-10 for a PROFICIENCY one. The handlers read and write these
/// as JSON values (`stored_value` checks them); these types only name their shape.
pub struct AttributeValue;

/// A routing attribute as a change sets it: a value, or `null` to remove it.
pub struct AttributeChange;

fn attribute_schema(nullable: bool) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaType, Type};
    let mut one_of = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(10)),
        );
    if nullable {
        one_of = one_of.item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)));
    }
    utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::OneOf(one_of.build()))
}

impl utoipa::PartialSchema for AttributeValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        attribute_schema(false)
    }
}

impl utoipa::ToSchema for AttributeValue {}

impl utoipa::PartialSchema for AttributeChange {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        attribute_schema(true)
    }
}

impl utoipa::ToSchema for AttributeChange {}

/// An agent's routing attributes: name → `true`/`false` (BOOLEAN) or 1-10 (PROFICIENCY).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    pub user_id: String,
    #[schema(value_type = BTreeMap<String, AttributeValue>)]
    pub attributes: BTreeMap<String, Value>,
}

fn read_capacities(c: &Connection, user_id: &str) -> Result<Capacities, StoreError> {
    Ok(Capacities {
        user_id: user_id.to_string(),
        capacities: directory::agent_capacities_of(c, user_id)?
            .into_iter()
            .collect(),
    })
}

fn read_attributes(c: &Connection, user_id: &str) -> Result<Attributes, StoreError> {
    Ok(Attributes {
        user_id: user_id.to_string(),
        attributes: directory::agent_attributes_of(c, user_id)?
            .into_iter()
            .map(|a| {
                let v = if a.kind == "BOOLEAN" {
                    Value::Bool(a.value != 0)
                } else {
                    Value::from(a.value)
                };
                (a.name, v)
            })
            .collect(),
    })
}

fn must_exist(c: &Connection, user_id: &str) -> Result<users::User, StoreError> {
    users::get_user(c, user_id)?.ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))
}

/// An agent's capacities per MRD.
#[utoipa::path(
    tag = "users",
    responses((status = 200, body = Capacities), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/users/{id}/capacities")]
async fn get_capacities(
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
    id: web::Path<String>,
) -> Result<web::Json<Capacities>, ApiError> {
    let user = visible_user(&state, &auth, id.into_inner()).await?;
    Ok(web::Json(
        state
            .store
            .read(move |c| read_capacities(c, &user.id))
            .await?,
    ))
}

/// Set capacities (merged into the existing ones): `{<mrdId>: 0-100 | null}`; `null`
/// removes the agent's own capacity on that MRD (the MRD's default `maxRequests`
/// applies again, as if never set; GET no longer lists it).
#[utoipa::path(
    tag = "users",
    request_body = BTreeMap<String, Option<u32>>,
    responses((status = 200, body = Capacities), BadRequest, Unauthenticated, Forbidden, NotFound, BodyRefused),
    security(("bearer" = []))
)]
#[put("/users/{id}/capacities")]
async fn set_capacities(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    path: web::Path<String>,
    body: Body<BTreeMap<String, Option<u32>>>,
) -> Result<web::Json<Capacities>, ApiError> {
    let user_id = path.into_inner();
    let caps = body.into_inner()?;
    if let Some((mrd, _)) = caps.iter().find(|(_, v)| v.is_some_and(|v| v > 100)) {
        return Err(ApiError::invalid(
            mrd.clone(),
            format!("{mrd}: maxAgentTasks must be between 0 and 100"),
        ));
    }
    let who = actor(&auth);
    let uid = user_id.clone();
    let after = state
        .store
        .write(move |c| {
            let user = must_exist(c, &uid)?;
            let mrds = directory::list_mrds(c)?;
            for mrd in caps.keys() {
                if !mrds.iter().any(|m| &m.id == mrd) {
                    return Err(StoreError::invalid(
                        mrd.clone(),
                        format!("MRD {mrd} does not exist"),
                    ));
                }
            }
            let before = read_capacities(c, &uid)?;
            for (mrd, max) in &caps {
                match max {
                    Some(max) => directory::set_agent_capacity(c, &uid, mrd, *max)?,
                    None => directory::remove_agent_capacity(c, &uid, mrd)?,
                }
            }
            let after = read_capacities(c, &uid)?;
            audit::record(
                c,
                &who,
                Change {
                    action: "update",
                    entity_type: "capacities",
                    entity_id: &uid,
                    entity_name: &user.username,
                    before: serde_json::to_value(&before.capacities).ok(),
                    after: serde_json::to_value(&after.capacities).ok(),
                },
                now_ms(),
            )?;
            Ok(after)
        })
        .await?;
    refresh_agent(&state, &user_id).await?;
    Ok(web::Json(after))
}

/// An agent's routing attributes.
#[utoipa::path(
    tag = "users",
    responses((status = 200, body = Attributes), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/users/{id}/attributes")]
async fn get_attributes(
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
    id: web::Path<String>,
) -> Result<web::Json<Attributes>, ApiError> {
    let user = visible_user(&state, &auth, id.into_inner()).await?;
    Ok(web::Json(
        state
            .store
            .read(move |c| read_attributes(c, &user.id))
            .await?,
    ))
}

/// The stored value of `value` for an attribute of `kind`; `None` removes it.
fn stored_value(name: &str, kind: &str, value: &Value) -> Result<Option<i64>, StoreError> {
    match (kind, value) {
        (_, Value::Null) => Ok(None),
        ("BOOLEAN", Value::Bool(b)) => Ok(Some(i64::from(*b))),
        ("PROFICIENCY", Value::Number(n)) => match n.as_i64() {
            Some(p @ 1..=10) => Ok(Some(p)),
            _ => Err(StoreError::invalid(
                name,
                format!("{name}: a proficiency is 1-10"),
            )),
        },
        _ => Err(StoreError::invalid(
            name,
            format!(
                "{name} is a {kind} attribute: give {}, or null to remove it",
                if kind == "BOOLEAN" {
                    "true or false"
                } else {
                    "a number 1-10"
                }
            ),
        )),
    }
}

/// Set routing attributes (merged): `{<name>: true|false|1-10|null}`; `null` removes one.
#[utoipa::path(
    tag = "users",
    request_body = BTreeMap<String, AttributeChange>,
    responses((status = 200, body = Attributes), BadRequest, Unauthenticated, Forbidden, NotFound, BodyRefused),
    security(("bearer" = []))
)]
#[put("/users/{id}/attributes")]
async fn set_attributes(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    path: web::Path<String>,
    body: Body<BTreeMap<String, Value>>,
) -> Result<web::Json<Attributes>, ApiError> {
    let user_id = path.into_inner();
    let attrs = body.into_inner()?;
    let who = actor(&auth);
    let uid = user_id.clone();
    let after = state
        .store
        .write(move |c| {
            let user = must_exist(c, &uid)?;
            let mut values = Vec::with_capacity(attrs.len());
            for (name, value) in &attrs {
                let (attr_id, kind) = directory::attribute_id(c, name)?.ok_or_else(|| {
                    StoreError::invalid(
                        name.clone(),
                        format!("routing attribute {name} does not exist"),
                    )
                })?;
                values.push((attr_id, stored_value(name, &kind, value)?));
            }
            let before = read_attributes(c, &uid)?;
            for (attr_id, value) in &values {
                match value {
                    Some(v) => directory::set_agent_attribute(c, &uid, attr_id, *v)?,
                    None => routing_admin::remove_agent_attribute(c, &uid, attr_id)?,
                }
            }
            let after = read_attributes(c, &uid)?;
            audit::record(
                c,
                &who,
                Change {
                    action: "update",
                    entity_type: "attributes",
                    entity_id: &uid,
                    entity_name: &user.username,
                    before: serde_json::to_value(&before.attributes).ok(),
                    after: serde_json::to_value(&after.attributes).ok(),
                },
                now_ms(),
            )?;
            Ok(after)
        })
        .await?;
    refresh_agent(&state, &user_id).await?;
    Ok(web::Json(after))
}
