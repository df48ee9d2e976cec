//! routing (being built).
