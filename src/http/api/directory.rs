//! `GET /api/v1/channel-types`: the channel types of the site (any signed-in user).

use super::channel_schema::ChannelType;
use crate::http::auth::AuthUser;
use crate::http::error::responses::Unauthenticated;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::directory;
use actix_web::{get, web};
use serde_json::Value;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(channel_types);
}

/// Channel types, in the CIM `channelType` shape.
#[utoipa::path(
    tag = "channels",
    responses((status = 200, body = Vec<ChannelType>), Unauthenticated),
    security(("bearer" = []))
)]
#[get("/channel-types")]
async fn channel_types(
    state: web::Data<AppState>,
    _: AuthUser,
) -> Result<web::Json<Vec<Value>>, ApiError> {
    Ok(web::Json(
        state.store.read(directory::list_channel_types).await?,
    ))
}
