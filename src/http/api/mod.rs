//! The `/api/v1` resources, one file each.

mod directory;
mod users;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    users::configure(cfg);
    directory::configure(cfg);
}
