//! The `/api/v1` resources, one file each.

mod config;
mod conversations;
mod directory;
mod outbox;
mod queue_thresholds;
mod routing;
mod users;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    users::configure(cfg);
    directory::configure(cfg);
    routing::configure(cfg);
    config::configure(cfg);
    conversations::configure(cfg);
    outbox::configure(cfg);
    queue_thresholds::configure(cfg);
}
