//! Login sessions in force: which desk sockets were opened with which bearer token,
//! the check every socket request passes, and revocation that ends tokens and their
//! sockets at once.
//!
//! A token's row in `sessions` is the truth (expiry, `revoked_at`, the user's
//! `disabled`). A desk socket is checked on every request:
//! 1. in memory: the token's expiry, read at the handshake (and a timer closes the
//!    socket the moment it expires, request or not);
//! 2. in the store: one indexed lookup that finds a row only when the token was
//!    revoked, its user disabled or deleted. A miss (the normal case) is answered at
//!    once without waiting for durability ([`Store::find`]), so the check costs a few
//!    microseconds. Because it reads the token row itself, a change made by another
//!    process — `switchboard user passwd` revokes every token of the user — takes
//!    effect at that token's next check.
//!
//! Revocation from this process ([`Sessions::revoke_token`], [`Sessions::revoke_user`])
//! writes the token rows first, then tells each socket why (`errors` with a
//! `session_*`-style code, see [`Ended`]) and closes it: nothing is told before it is
//! stored.

use crate::clock::{now_ms, Millis};
use crate::socketio::Socket;
use crate::store::{users, Store, StoreResult};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Who ended a session on someone else's behalf (a supervisor's force logout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
}

impl Actor {
    pub fn of(user: &users::User) -> Actor {
        Actor {
            id: user.id.clone(),
            username: user.username.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
        }
    }

    /// "First Last", or the username when the user has no name.
    pub fn display_name(&self) -> String {
        let full = format!("{} {}", self.first_name, self.last_name);
        match full.trim() {
            "" => self.username.clone(),
            name => name.to_string(),
        }
    }
}

/// Why a session ended: what its sockets are told before they are closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The user signed out (`POST /api/v1/auth/logout`).
    LoggedOut,
    /// The token's lifetime (`http.token_ttl_secs`) ran out.
    Expired,
    /// A supervisor (or admin) logged the agent out.
    ForcedLogout {
        by: Actor,
        reason_code: Option<String>,
    },
    /// The user's password was changed.
    PasswordChanged,
    /// The user was disabled.
    UserDisabled,
    /// The user's role or supervised teams changed: what the socket was allowed when
    /// it connected no longer holds. Its token stays valid; it connects again.
    RightsChanged,
    /// Found revoked at a check (by another process, e.g. the CLI), or the user is gone.
    Revoked,
}

impl Ended {
    /// The stable `code` of the `errors` event.
    pub fn code(&self) -> &'static str {
        match self {
            Ended::LoggedOut => "logged_out",
            Ended::Expired => "token_expired",
            Ended::ForcedLogout { .. } => "forced_logout",
            Ended::PasswordChanged => "password_changed",
            Ended::UserDisabled => "user_disabled",
            Ended::RightsChanged => "rights_changed",
            Ended::Revoked => "token_revoked",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Ended::LoggedOut => "you signed out; sign in again".into(),
            Ended::Expired => "your session expired; sign in again".into(),
            Ended::ForcedLogout { by, .. } => {
                format!("{} logged you out; sign in again", by.display_name())
            }
            Ended::PasswordChanged => "your password was changed; sign in again".into(),
            Ended::UserDisabled => "your account was disabled".into(),
            Ended::RightsChanged => "your role or supervised teams changed; connect again".into(),
            Ended::Revoked => "your session was ended; sign in again".into(),
        }
    }

    /// The `errors` payload a socket receives before it is closed:
    /// `{code, message, event: "session"}`, plus for a forced logout
    /// `by {id, username, firstName, lastName, name}` and `reasonCode`.
    pub fn to_payload(&self) -> Value {
        let mut payload = json!({
            "code": self.code(),
            "message": self.message(),
            "event": "session",
        });
        if let Ended::ForcedLogout { by, reason_code } = self {
            payload["by"] = json!({
                "id": by.id,
                "username": by.username,
                "firstName": by.first_name,
                "lastName": by.last_name,
                "name": by.display_name(),
            });
            payload["reasonCode"] = json!(reason_code);
        }
        payload
    }
}

/// `forcedLogout {reason, by {id, username, name}, message}`, sent before `errors`.
pub fn forced_logout_event(by: &Actor) -> Value {
    let name = by.display_name();
    json!({
        "reason": "FORCED_BY_SUPERVISOR",
        "by": {"id": by.id, "username": by.username, "name": name},
        "message": format!("{name} (supervisor) logged you out."),
    })
}

/// What a socket was opened with: its user and token, read at the handshake.
#[derive(Debug, Clone)]
pub struct Grant {
    pub user_id: String,
    pub token_digest: String,
    pub expires_at: Millis,
}

struct Live {
    socket: Socket,
    grant: Grant,
    expiry: tokio::task::AbortHandle,
}

/// The registry of sockets opened with a token, and revocation. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// Socket id → its grant.
    live: Mutex<HashMap<String, Live>>,
}

impl Sessions {
    pub fn new(store: Store) -> Sessions {
        Sessions {
            inner: Arc::new(Inner {
                store,
                live: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Registers a socket opened with `grant` and arms its expiry: at `expires_at`
    /// the socket is told `token_expired` and closed, whether it asks anything or not.
    pub fn attach(&self, socket: Socket, grant: Grant) {
        let sessions = self.clone();
        let socket_id = socket.id().to_string();
        let wait = (grant.expires_at - now_ms()).max(0) as u64;
        let expiry = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            sessions.end_socket(&socket_id, &Ended::Expired);
        })
        .abort_handle();
        let id = socket.id().to_string();
        let replaced = self.inner.live.lock().insert(
            id,
            Live {
                socket,
                grant,
                expiry,
            },
        );
        if let Some(old) = replaced {
            old.expiry.abort();
        }
    }

    /// Forgets a socket that closed.
    pub fn detach(&self, socket_id: &str) {
        if let Some(live) = self.inner.live.lock().remove(socket_id) {
            live.expiry.abort();
        }
    }

    /// The check every request of a socket passes (see the module doc). On failure the
    /// socket has been told why and closed; the request must not be served.
    pub async fn check(&self, socket_id: &str) -> Result<(), Ended> {
        let grant = match self.inner.live.lock().get(socket_id) {
            Some(live) => live.grant.clone(),
            // Not opened with a token (or already ended): nothing to check.
            None => return Ok(()),
        };
        if now_ms() >= grant.expires_at {
            self.end_socket(socket_id, &Ended::Expired);
            return Err(Ended::Expired);
        }
        let (digest, user_id) = (grant.token_digest.clone(), grant.user_id.clone());
        let found = self
            .inner
            .store
            .find(move |c| users::token_revocation(c, &digest, &user_id))
            .await;
        let ended = match found {
            Ok(None) => return Ok(()),
            Ok(Some(users::Revocation::Disabled)) => Ended::UserDisabled,
            Ok(Some(_)) => Ended::Revoked,
            Err(e) => {
                // The store cannot answer (shutting down, disk failure): the expiry
                // above still holds, and the request itself needs the store anyway.
                tracing::warn!(error = %e, "token check could not read the store");
                return Ok(());
            }
        };
        self.end_socket(socket_id, &ended);
        Err(ended)
    }

    /// Signs one token out: its row is revoked, then every socket opened with it is
    /// told `why` and closed.
    pub async fn revoke_token(&self, token_digest: &str, why: Ended) -> StoreResult<()> {
        let digest = token_digest.to_string();
        self.inner
            .store
            .write(move |c| users::revoke_session(c, &digest, now_ms()).map(|_| ()))
            .await?;
        let sockets: Vec<String> = self
            .inner
            .live
            .lock()
            .iter()
            .filter(|(_, l)| l.grant.token_digest == token_digest)
            .map(|(id, _)| id.clone())
            .collect();
        for id in sockets {
            self.end_socket(&id, &why);
        }
        Ok(())
    }

    /// Ends every session of a user at once: all its tokens are revoked in the store
    /// (so `/api/v1/me` answers 401 and no desk can reconnect with them), then each of
    /// its sockets receives `errors` with `why` (see [`Ended::to_payload`]) and is closed.
    /// Returns how many tokens were revoked.
    ///
    /// Call it whenever a user's credentials stop being valid: a supervisor's force
    /// logout ([`Ended::ForcedLogout`]), a password change ([`Ended::PasswordChanged`]),
    /// disabling the user ([`Ended::UserDisabled`]; write `disabled` first). It does not
    /// change the user's routing state: a force logout also sends routing its input.
    pub async fn revoke_user(&self, user_id: &str, why: Ended) -> StoreResult<usize> {
        let id = user_id.to_string();
        let revoked = self
            .inner
            .store
            .write(move |c| users::revoke_user_sessions(c, &id, now_ms()))
            .await?;
        self.end_user_sockets(user_id, None, &why);
        Ok(revoked)
    }

    /// Tells every live socket of the user `why` and closes it, except those opened
    /// with the token `keep` (a digest). Revokes nothing: the caller has ended the
    /// tokens already (a password change keeps the token that made it), or they stay
    /// valid ([`Ended::RightsChanged`]: the socket connects again with what the user
    /// may do now). Returns how many sockets were closed.
    pub fn end_user_sockets(&self, user_id: &str, keep: Option<&str>, why: &Ended) -> usize {
        let sockets: Vec<String> = self
            .inner
            .live
            .lock()
            .iter()
            .filter(|(_, l)| {
                l.grant.user_id == user_id && keep != Some(l.grant.token_digest.as_str())
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &sockets {
            self.end_socket(id, why);
        }
        sockets.len()
    }

    /// Tells a live socket why its session ended (`forcedLogout` first for a forced
    /// logout, then `errors`) and closes it.
    fn end_socket(&self, socket_id: &str, why: &Ended) {
        let Some(live) = self.inner.live.lock().remove(socket_id) else {
            return;
        };
        live.expiry.abort();
        tracing::info!(user = %live.grant.user_id, code = why.code(), "session ended; socket closed");
        if let Ended::ForcedLogout { by, .. } = why {
            // The desk's own event for it (docs/protocol.md, "Desk: forcedLogout").
            let _ = live.socket.emit("forcedLogout", forced_logout_event(by));
        }
        let _ = live.socket.emit("errors", why.to_payload());
        live.socket.disconnect(why.code());
    }

    /// Number of sockets registered with a token (for tests and metrics).
    pub fn live_count(&self) -> usize {
        self.inner.live.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forced_logout_names_who_did_it() {
        let by = Actor {
            id: "s1".into(),
            username: "supervisor".into(),
            first_name: "Sam".into(),
            last_name: "Lead".into(),
        };
        let payload = Ended::ForcedLogout {
            by,
            reason_code: Some("End of shift".into()),
        }
        .to_payload();
        assert_eq!(payload["code"], "forced_logout");
        assert_eq!(payload["by"]["name"], "Sam Lead");
        assert_eq!(payload["by"]["username"], "supervisor");
        assert_eq!(payload["reasonCode"], "End of shift");
        assert!(payload["message"].as_str().unwrap().starts_with("Sam Lead"));
        let nameless = Actor {
            id: "a".into(),
            username: "admin".into(),
            first_name: String::new(),
            last_name: " ".into(),
        };
        assert_eq!(nameless.display_name(), "admin");
        assert_eq!(Ended::Expired.to_payload()["code"], "token_expired");
        assert!(Ended::Expired.to_payload().get("by").is_none());
    }
}
