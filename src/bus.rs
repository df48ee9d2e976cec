//! bus (being built).
