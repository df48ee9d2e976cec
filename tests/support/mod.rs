//! Helpers shared by the integration tests (each test file uses a different subset).
#![allow(dead_code)]

pub mod chat;
pub mod sio_client;
