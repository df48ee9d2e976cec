//! cim (being built).
