//! The conversation manager (being built): the handle other components call.

pub mod handle;
