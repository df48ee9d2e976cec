//! Every integration test in one binary: each file under tests/ is one module, so
//! the suite links the library once instead of once per file (41 test binaries
//! of ~100 MB each filled CI disks). Run one file with
//! `cargo test --test integration <module>::`.

mod channels_support;
mod common;
mod support;

#[path = "admin_api/main.rs"]
mod admin_api;
mod attachments;
mod backup_restore;
mod channels_connector;
mod channels_outbox;
mod chat_end_to_end;
mod cim_fixtures;
mod config_template;
mod conversation_live;
mod conversations_history;
mod desk_delivery;
mod desk_events;
mod edge_limits;
mod foundation_http;
mod foundation_process;
mod history_generator;
mod load_tool;
mod metrics;
mod openapi_doc;
mod packaging;
mod powercut;
mod pull_mode;
mod replay;
#[path = "reports_api/main.rs"]
mod reports_api;
mod retention;
mod role_scope;
mod routing_commit;
mod routing_live;
#[path = "routing_properties/main.rs"]
mod routing_properties;
mod search_api;
mod seed_shapes;
mod sessions_tokens;
mod simulate;
#[path = "socketio_protocol/main.rs"]
mod socketio_protocol;
mod storage_fidelity;
mod store_writer;
mod tls;
mod typing;
mod upgrade;
mod widget_hours;
mod widget_session;
