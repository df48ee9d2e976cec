//! socketio (being built).
