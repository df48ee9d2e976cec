//! The `/api/v1` resources, one file each.

mod conversations;
mod directory;
mod outbox;
mod users;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    users::configure(cfg);
    directory::configure(cfg);
    conversations::configure(cfg);
    outbox::configure(cfg);
}
