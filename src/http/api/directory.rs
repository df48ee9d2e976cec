//! Read access to the site configuration: MRDs, queues, channels, channel types,
//! reason codes and wrap-up codes (any signed-in user; desks need them).

use crate::http::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::directory;
use actix_web::{web, HttpResponse};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mrds", web::get().to(mrds))
        .route("/queues", web::get().to(queues))
        .route("/channels", web::get().to(channels))
        .route("/channel-types", web::get().to(channel_types))
        .route("/reason-codes", web::get().to(reason_codes))
        .route("/wrapup-codes", web::get().to(wrapup_codes));
}

async fn mrds(state: web::Data<AppState>, _: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.read(directory::list_mrds).await?))
}

async fn queues(state: web::Data<AppState>, _: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.read(directory::list_queues).await?))
}

async fn channels(state: web::Data<AppState>, _: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.read(directory::list_channels).await?))
}

async fn channel_types(state: web::Data<AppState>, _: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.read(directory::list_channel_types).await?))
}

async fn reason_codes(state: web::Data<AppState>, _: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.read(directory::list_reason_codes).await?))
}

async fn wrapup_codes(state: web::Data<AppState>, _: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.read(directory::list_wrapup_codes).await?))
}
