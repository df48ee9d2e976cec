//! agents (being built).
