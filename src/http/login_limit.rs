//! The login limit (`[login]` settings): failed logins per username and per client
//! address, so a password cannot be guessed quickly from one address or spread over
//! many. An attempt takes a token from both buckets before the password is checked
//! (concurrent guesses cannot overshoot the burst) and a successful one gives them
//! back, so only failures count. A limited attempt is refused with 429 and
//! `Retry-After` whatever the password says. Clients on this host
//! ([`ClientAddr::is_local`]) are not limited unless `login.limit_loopback` is set.

use super::client_addr::{AddrList, ClientAddr};
use crate::clock::Millis;
use crate::config::LoginSettings;
use crate::rate_limit::Buckets;
use std::net::IpAddr;

/// Longest username kept as a bucket key; longer ones share the key of their prefix.
const MAX_KEY_CHARS: usize = 128;

pub struct LoginLimiter {
    usernames: Buckets<String>,
    addresses: Buckets<IpAddr>,
    limit_loopback: bool,
}

/// An attempt allowed to check its password; [`LoginLimiter::succeeded`] gives its
/// tokens back.
#[must_use]
pub struct Attempt {
    username: Option<String>,
    address: Option<IpAddr>,
}

impl LoginLimiter {
    pub fn new(settings: &LoginSettings) -> Self {
        LoginLimiter {
            usernames: Buckets::new(settings.username_per_minute, settings.username_burst),
            addresses: Buckets::new(settings.address_per_minute, settings.address_burst),
            limit_loopback: settings.limit_loopback,
        }
    }

    /// Takes a failure token for `username` and `client`; `Err(retry_after_ms)` when
    /// either is spent (nothing is taken then).
    pub fn begin(
        &self,
        username: &str,
        client: ClientAddr,
        trusted: &AddrList,
        now: Millis,
    ) -> Result<Attempt, u64> {
        if client.is_local(trusted) && !self.limit_loopback {
            return Ok(Attempt {
                username: None,
                address: None,
            });
        }
        let key: String = username.chars().take(MAX_KEY_CHARS).collect();
        self.usernames.take(&key, now)?;
        if let Err(wait) = self.addresses.take(&client.ip, now) {
            self.usernames.refund(&key, now);
            return Err(wait);
        }
        Ok(Attempt {
            username: Some(key),
            address: Some(client.ip),
        })
    }

    /// The password was right: the attempt does not count.
    pub fn succeeded(&self, attempt: Attempt, now: Millis) {
        if let Some(key) = attempt.username {
            self.usernames.refund(&key, now);
        }
        if let Some(ip) = attempt.address {
            self.addresses.refund(&ip, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LoginSettings {
        LoginSettings {
            username_burst: 2,
            username_per_minute: 60,
            address_burst: 3,
            address_per_minute: 60,
            limit_loopback: false,
        }
    }

    fn remote(last: u8) -> ClientAddr {
        ClientAddr {
            ip: IpAddr::from([203, 0, 113, last]),
            relayed: false,
        }
    }

    #[test]
    fn failures_are_limited_per_username_and_successes_are_free() {
        let limiter = LoginLimiter::new(&settings());
        let none = AddrList::default();
        for _ in 0..10 {
            let a = limiter.begin("ann", remote(1), &none, 0).unwrap();
            limiter.succeeded(a, 0);
        }
        let _ = limiter.begin("ann", remote(1), &none, 0).unwrap();
        let _ = limiter.begin("ann", remote(2), &none, 0).unwrap();
        assert_eq!(
            limiter.begin("ann", remote(3), &none, 0).err(),
            Some(1000),
            "the username is limited from any address"
        );
        assert!(limiter.begin("ann", remote(3), &none, 1000).is_ok());
    }

    #[test]
    fn failures_are_limited_per_address() {
        let limiter = LoginLimiter::new(&settings());
        let none = AddrList::default();
        for name in ["a", "b", "c"] {
            let _ = limiter.begin(name, remote(1), &none, 0).unwrap();
        }
        assert!(limiter.begin("d", remote(1), &none, 0).is_err());
        // The refused attempt took nothing from the username "d".
        let _ = limiter.begin("d", remote(2), &none, 0).unwrap();
        let _ = limiter.begin("d", remote(2), &none, 0).unwrap();
        assert!(limiter.begin("d", remote(3), &none, 0).is_err());
    }

    #[test]
    fn local_clients_are_free_unless_asked() {
        let local = ClientAddr {
            ip: IpAddr::from([127, 0, 0, 1]),
            relayed: false,
        };
        let none = AddrList::default();
        let limiter = LoginLimiter::new(&settings());
        for _ in 0..50 {
            let _ = limiter.begin("ann", local, &none, 0).unwrap();
        }
        // A remote client relayed by an untrusted proxy on this host is not local.
        let relayed = ClientAddr {
            relayed: true,
            ..local
        };
        let _ = limiter.begin("bob", relayed, &none, 0).unwrap();
        let _ = limiter.begin("bob", relayed, &none, 0).unwrap();
        assert!(limiter.begin("bob", relayed, &none, 0).is_err());
        let strict = LoginLimiter::new(&LoginSettings {
            limit_loopback: true,
            ..settings()
        });
        let _ = strict.begin("ann", local, &none, 0).unwrap();
        let _ = strict.begin("ann", local, &none, 0).unwrap();
        assert!(strict.begin("ann", local, &none, 0).is_err());
    }
}
