//! `GET /api/v1/openapi.json`: the API as an OpenAPI 3.1 document, built at start
//! from the handlers' own `#[utoipa::path]` annotations and types (utoipa-actix-web
//! collects every route registered with `service`), plus the few routes mounted
//! outside `/api/v1` (health and the connector inbound route). No token needed: it
//! describes the API, it exposes no data.

use crate::http::error::ErrorBody;
use actix_web::{get, web, HttpResponse};
use std::collections::HashMap;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, PathItem, Ref, ResponseBuilder};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::OpenApiFactory;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(openapi_json);
}

/// The serialized document, shared with the handler.
pub struct OpenApiJson(pub String);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard",
        description = "The contact-center appliance's REST API. Errors answer {code, message} (plus field for a refused value, blockers for a refused delete); lists that grow answer {items, total, limit, offset}. See docs/api.md.",
        license(name = "Apache-2.0")
    ),
    // The schemas of the routes outside `/api/v1` (root_paths), which no service collects.
    components(schemas(
        ErrorBody,
        crate::store::Blocker,
        crate::http::health::Alive,
        crate::http::health::Readiness,
        crate::health::ComponentStatus,
        crate::channels::connector::Received
    ))
)]
struct Base;

/// The document: the base (info, bearer scheme, error schema) with the collected
/// paths and schemas of `/api/v1` and the root routes.
pub fn document(
    paths: utoipa::openapi::path::Paths,
    schemas: Vec<(
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )>,
) -> Document {
    let mut doc = Base::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc.paths.merge(paths);
    doc.paths.merge(root_paths());
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("A token from POST /api/v1/auth/login"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "connector",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A channel's connector token (POST /api/v1/channels/{id}/connector-token), \
                     or the site-wide `[channels] connector_token`; a login token is refused",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "metrics",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "`[metrics] token`, for a scraper that is not this host or in `metrics.allow`",
                ))
                .build(),
        ),
    );
    unique_operation_ids(&mut doc);
    add_unavailable(&mut doc);
    doc
}

/// The mutable operations of a path item, with their methods.
fn operations_mut(item: &mut PathItem) -> [(&'static str, Option<&mut Operation>); 5] {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
}

/// Operation ids default to the handler's name (`list`, `get_one`, ...), which
/// several modules share; OpenAPI wants them unique, and clients name their calls
/// by them. A shared one gets the path's words: `list_users`, `get_one_queues`.
fn unique_operation_ids(doc: &mut Document) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for item in doc.paths.paths.values() {
        for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
            .into_iter()
            .flatten()
        {
            if let Some(id) = &op.operation_id {
                *seen.entry(id.clone()).or_default() += 1;
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let words: Vec<String> = path
            .trim_start_matches("/api/v1")
            .split('/')
            .filter(|w| !w.is_empty() && !w.starts_with('{'))
            .map(|w| w.replace('-', "_"))
            .collect();
        for (_, op) in operations_mut(item) {
            let Some(op) = op else { continue };
            if let Some(id) = op.operation_id.as_mut() {
                if seen.get(id.as_str()).copied().unwrap_or(0) > 1 {
                    *id = format!("{id}_{}", words.join("_"));
                }
            }
        }
    }
}

/// Every operation that reads or writes the store or asks the engine can answer 503
/// (the store shut down, a write not committed, the engine halted or stopping).
fn add_unavailable(doc: &mut Document) {
    const STATELESS: [&str; 3] = ["/api/v1/openapi.json", "/healthz", "/readyz"];
    let unavailable = ResponseBuilder::new()
        .description(
            "unavailable: the store or the engine cannot take the request now (shutting down, a write not committed); try again",
        )
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    for (path, item) in doc.paths.paths.iter_mut() {
        if STATELESS.contains(&path.as_str()) {
            continue;
        }
        for (_, op) in operations_mut(item) {
            let Some(op) = op else { continue };
            op.responses
                .responses
                .entry("503".to_string())
                .or_insert_with(|| unavailable.clone().into());
        }
    }
}

/// Paths mounted outside `/api/v1` with `route` (health, metrics, connector).
fn root_paths() -> utoipa::openapi::path::Paths {
    let mut paths = utoipa::openapi::path::Paths::new();
    paths.merge(OpenApiFactory::paths(&crate::http::health::__path_healthz));
    paths.merge(OpenApiFactory::paths(&crate::http::health::__path_readyz));
    paths.merge(OpenApiFactory::paths(&crate::http::metrics::__path_metrics));
    paths.merge(OpenApiFactory::paths(
        &crate::channels::connector::__path_receive,
    ));
    paths.merge(OpenApiFactory::paths(
        &crate::http::api::attachments::__path_download,
    ));
    paths
}

/// Every (METHOD, path) the document describes, for checks.
pub fn operations(doc: &Document) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let PathItem {
            get,
            put,
            post,
            delete,
            patch,
            ..
        } = item;
        for (method, op) in [
            ("GET", get),
            ("PUT", put),
            ("POST", post),
            ("DELETE", delete),
            ("PATCH", patch),
        ] {
            if op.is_some() {
                out.push((method.to_string(), path.clone()));
            }
        }
    }
    out
}

/// This API as an OpenAPI 3.1 document (no token needed).
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "the OpenAPI 3.1 document", body = Object))
)]
#[get("/openapi.json")]
async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}
