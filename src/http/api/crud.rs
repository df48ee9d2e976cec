//! The shapes the configuration handlers share: answer what a store read finds, and
//! writes that record themselves in the audit log (create, update, delete) inside the
//! same transaction. Handlers keep their own routes, types and OpenAPI docs; their
//! bodies say only what differs (the store calls, the side effects after).

use super::{actor, record};
use crate::http::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::StoreResult;
use actix_web::web;
use rusqlite::Connection;
use serde::Serialize;

/// A configuration entity as the audit log names it.
pub(crate) trait Audited: Serialize + Send + 'static {
    /// The audit log's `entityType` ("reasonCode").
    const KIND: &'static str;
    fn audit_id(&self) -> &str;
    /// The `entityName` the audit log shows.
    fn audit_name(&self) -> String;
}

/// Answers what `read` finds in the store.
pub(crate) async fn read<T, F>(state: &AppState, read: F) -> Result<web::Json<T>, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    Ok(web::Json(state.store.read(read).await?))
}

/// Creates with `create` (the saved row, and anything else the write returns) and
/// records the creation.
pub(crate) async fn created<T, X, F>(
    state: &AppState,
    auth: &AuthUser,
    mut create: F,
) -> Result<(T, X), ApiError>
where
    T: Audited,
    X: Send + 'static,
    F: FnMut(&Connection) -> StoreResult<(T, X)> + Send + 'static,
{
    let who = actor(auth);
    Ok(state
        .store
        .write(move |c| {
            let (saved, extra) = create(c)?;
            record(
                c,
                &who,
                "create",
                T::KIND,
                saved.audit_id(),
                &saved.audit_name(),
                None,
                Some(&saved),
            )?;
            Ok((saved, extra))
        })
        .await?)
}

/// Updates `id`: `get` reads it as it was, `update` changes it (given the row before)
/// and answers the saved row and anything else; both are recorded.
pub(crate) async fn updated<T, X, F>(
    state: &AppState,
    auth: &AuthUser,
    id: String,
    get: fn(&Connection, &str) -> StoreResult<T>,
    mut update: F,
) -> Result<(T, X), ApiError>
where
    T: Audited,
    X: Send + 'static,
    F: FnMut(&Connection, &T) -> StoreResult<(T, X)> + Send + 'static,
{
    let who = actor(auth);
    Ok(state
        .store
        .write(move |c| {
            let before = get(c, &id)?;
            let (saved, extra) = update(c, &before)?;
            record(
                c,
                &who,
                "update",
                T::KIND,
                &id,
                &saved.audit_name(),
                Some(&before),
                Some(&saved),
            )?;
            Ok((saved, extra))
        })
        .await?)
}

/// Deletes: `delete` answers the row as it was, the row after when the delete is soft
/// (it stays readable), and anything else; the removal is recorded.
pub(crate) async fn deleted<T, X, F>(
    state: &AppState,
    auth: &AuthUser,
    mut delete: F,
) -> Result<X, ApiError>
where
    T: Audited,
    X: Send + 'static,
    F: FnMut(&Connection) -> StoreResult<(T, Option<T>, X)> + Send + 'static,
{
    let who = actor(auth);
    Ok(state
        .store
        .write(move |c| {
            let (before, after, extra) = delete(c)?;
            let name = before.audit_name();
            record(
                c,
                &who,
                "delete",
                T::KIND,
                before.audit_id(),
                &name,
                Some(&before),
                after.as_ref(),
            )?;
            Ok(extra)
        })
        .await?)
}
