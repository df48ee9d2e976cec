//! `/api/v1/routing-attributes`: the attributes queue steps select agents by.
//! Supervisors read; admins create, edit (no rename while a step names it, no type
//! change while agents hold values) and delete (refused while a step uses it).

use super::crud::{self, Audited};
use super::{check_len, refresh_agent};
use crate::http::error::responses::{
    BadRequest, BodyRefused, Conflict, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, Supervisor};
use crate::http::AppState;
use crate::routing::expr::Expr;
use crate::store::directory;
use crate::store::routing_admin::{self, RoutingAttribute};
use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

impl Audited for RoutingAttribute {
    const KIND: &'static str = "routingAttribute";
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn audit_name(&self) -> String {
        self.name.clone()
    }
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(remove);
}

/// Whether a step expression names the attribute `name`.
pub(crate) fn names_attribute(expression: &str, name: &str) -> bool {
    Expr::parse(expression)
        .map(|e| e.terms().any(|t| t.attribute == name))
        .unwrap_or(false)
}

/// Every routing attribute.
#[utoipa::path(
    tag = "routing-attributes",
    responses((status = 200, body = Vec<RoutingAttribute>), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/routing-attributes")]
async fn list(
    state: web::Data<AppState>,
    _: Supervisor,
) -> Result<web::Json<Vec<RoutingAttribute>>, ApiError> {
    crud::read(&state, routing_admin::list_attributes).await
}

/// One routing attribute.
#[utoipa::path(
    tag = "routing-attributes",
    responses((status = 200, body = RoutingAttribute), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/routing-attributes/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    _: Supervisor,
    id: web::Path<String>,
) -> Result<web::Json<RoutingAttribute>, ApiError> {
    let id = id.into_inner();
    crud::read(&state, move |c| routing_admin::get_attribute(c, &id)).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeBody {
    /// Letters, digits and `_` (it appears in step expressions), 1-100.
    name: String,
    /// BOOLEAN or PROFICIENCY.
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    description: String,
}

fn attribute(id: String, b: AttributeBody) -> Result<RoutingAttribute, ApiError> {
    if b.name.is_empty()
        || b.name.len() > 100
        || !b
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ApiError::invalid(
            "name",
            "name must be 1-100 letters, digits and '_' (it appears in step expressions)",
        ));
    }
    if b.kind != "BOOLEAN" && b.kind != "PROFICIENCY" {
        return Err(ApiError::invalid(
            "type",
            "type must be BOOLEAN or PROFICIENCY",
        ));
    }
    check_len("description", &b.description, 1000)?;
    Ok(RoutingAttribute {
        id,
        name: b.name,
        kind: b.kind,
        description: b.description,
    })
}

/// Create a routing attribute.
#[utoipa::path(
    tag = "routing-attributes",
    request_body = AttributeBody,
    responses((status = 201, body = RoutingAttribute), BadRequest, Unauthenticated, Forbidden, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[post("/routing-attributes")]
async fn create(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    body: Body<AttributeBody>,
) -> Result<HttpResponse, ApiError> {
    let a = attribute(String::new(), body.into_inner()?)?;
    let (saved, ()) = crud::created(&state, &auth, move |c| {
        let id = directory::create_routing_attribute(c, &a.name, &a.kind, &a.description)?;
        Ok((routing_admin::get_attribute(c, &id)?, ()))
    })
    .await?;
    Ok(HttpResponse::Created().json(saved))
}

/// Edit a routing attribute.
#[utoipa::path(
    tag = "routing-attributes",
    request_body = AttributeBody,
    responses((status = 200, body = RoutingAttribute), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[put("/routing-attributes/{id}")]
async fn update(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<AttributeBody>,
) -> Result<web::Json<RoutingAttribute>, ApiError> {
    let a = attribute(id.into_inner(), body.into_inner()?)?;
    let (saved, holders) = crud::updated(
        &state,
        &auth,
        a.id.clone(),
        routing_admin::get_attribute,
        move |c, before| {
            let old = &before.name;
            let saved = routing_admin::update_attribute(c, &a, &|e| names_attribute(e, old))?;
            let holders: Vec<String> = c
                .prepare_cached("SELECT user_id FROM agent_attributes WHERE attribute_id = ?1")?
                .query_map([&a.id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok((saved, holders))
        },
    )
    .await?;
    for user in holders {
        refresh_agent(&state, &user).await?;
    }
    Ok(web::Json(saved))
}

/// Delete a routing attribute no queue step uses (409 naming the queues otherwise).
#[utoipa::path(
    tag = "routing-attributes",
    responses((status = 204), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[delete("/routing-attributes/{id}")]
async fn remove(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let holders = crud::deleted(&state, &auth, move |c| {
        let name = routing_admin::get_attribute(c, &id)?.name;
        let (before, holders) =
            routing_admin::delete_attribute(c, &id, &|e| names_attribute(e, &name))?;
        Ok((before, None, holders))
    })
    .await?;
    for user in holders {
        refresh_agent(&state, &user).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
