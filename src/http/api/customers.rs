//! Customers' personal data on request (admins):
//!
//! - `POST /customers/{id}/erase` — erases the customer's personal data
//!   ([`crate::retention::erase`]), audit-logged, then truncates the WAL so that
//!   nothing of it stays readable in the database's files. Backups taken before
//!   still hold it (docs/operations.md, "Erasing a customer").

use crate::http::error::responses::{Conflict, Forbidden, NotFound, Unauthenticated};
use crate::http::error::ApiError;
use crate::http::extract::Admin;
use crate::http::AppState;
use crate::retention::erase::{self, Erased};
use actix_web::{post, web};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(erase_customer);
}

/// What an erasure did.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Erasure {
    #[serde(flatten)]
    pub erased: Erased,
    /// Whether the WAL was emptied at once; when false (readers held it), the
    /// checkpoints of the next minutes overwrite it.
    pub wal_truncated: bool,
}

/// Erase a customer's personal data: name, attributes and identifiers, the
/// transcripts of their conversations (messages, CSAT comment, search index) and
/// their values in every stored record of those conversations. Conversations,
/// tasks and report figures stay. Refused (409) while a conversation of theirs is
/// open.
#[utoipa::path(
    tag = "customers",
    responses((status = 200, body = Erasure), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/customers/{id}/erase")]
async fn erase_customer(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<web::Json<Erasure>, ApiError> {
    let id = id.into_inner();
    let who = super::actor(&auth);
    let erased = state
        .store
        .write(move |c| erase::customer(c, &id, &who, crate::clock::now_ms()))
        .await?;
    // The attachment files of the erased conversations (their rows went with them).
    if let Err(e) = crate::attachments::sweep(&state.store).await {
        tracing::error!(error = %e, "erasure: attachment files could not be removed");
    }
    let wal_truncated = state.store.truncate_wal().await?;
    if !wal_truncated {
        tracing::warn!(customer = %erased.customer_id, "erasure: the WAL could not be truncated at once");
    }
    // The old versions of the erased objects only the removed events named (already
    // scrubbed) go too, after the answer: the sweep reads the whole database.
    let store = state.store.clone();
    tokio::spawn(async move {
        match crate::store::object_sweep::run(&store).await {
            Ok(swept) => tracing::info!(
                objects = swept.deleted,
                "erasure: unreferenced objects swept"
            ),
            Err(e) => tracing::error!(error = %e, "erasure: the object sweep failed"),
        }
    });
    Ok(web::Json(Erasure {
        erased,
        wal_truncated,
    }))
}
