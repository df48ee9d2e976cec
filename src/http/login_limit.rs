//! The login limit (`[login]` settings): failed logins per username and per client
//! address, so a password cannot be guessed quickly from one address or spread over
//! many. An attempt goes ahead while both buckets hold a token, and only a failed one
//! is charged, so successful logins never count (a whole call center behind one NAT
//! address signing in at once is never refused). Guesses checked at the same moment
//! are all charged when they fail, which puts the buckets into debt: a burst of
//! concurrent guesses waits that much longer after. A limited attempt is refused with
//! 429 and `Retry-After` whatever the password says. Clients on this host
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

/// An attempt allowed to check its password; [`LoginLimiter::failed`] charges it.
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

    /// Lets an attempt for `username` from `client` go ahead, taking nothing;
    /// `Err(retry_after_ms)` when either bucket is spent.
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
        let by_name = self.usernames.check(&key, now);
        let by_address = self.addresses.check(&client.ip, now);
        match (by_name, by_address) {
            (Ok(()), Ok(())) => Ok(Attempt {
                username: Some(key),
                address: Some(client.ip),
            }),
            (Err(a), Err(b)) => Err(a.max(b)),
            (Err(wait), _) | (_, Err(wait)) => Err(wait),
        }
    }

    /// The password was wrong: the attempt counts against both.
    pub fn failed(&self, attempt: Attempt, now: Millis) {
        if let Some(key) = attempt.username {
            self.usernames.charge(&key, now);
        }
        if let Some(ip) = attempt.address {
            self.addresses.charge(&ip, now);
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

    /// An attempt that fails.
    fn fail(
        limiter: &LoginLimiter,
        name: &str,
        client: ClientAddr,
        now: Millis,
    ) -> Result<(), u64> {
        let attempt = limiter.begin(name, client, &AddrList::default(), now)?;
        limiter.failed(attempt, now);
        Ok(())
    }

    #[test]
    fn failures_are_limited_per_username_and_successes_are_free() {
        let limiter = LoginLimiter::new(&settings());
        let none = AddrList::default();
        // Successful attempts (never charged), also many at once.
        let at_once: Vec<Attempt> = (0..50)
            .map(|_| limiter.begin("ann", remote(1), &none, 0).unwrap())
            .collect();
        drop(at_once);
        fail(&limiter, "ann", remote(1), 0).unwrap();
        fail(&limiter, "ann", remote(2), 0).unwrap();
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
            fail(&limiter, name, remote(1), 0).unwrap();
        }
        assert!(limiter.begin("d", remote(1), &none, 0).is_err());
        // The refused attempt charged nothing to the username "d".
        fail(&limiter, "d", remote(2), 0).unwrap();
        fail(&limiter, "d", remote(2), 0).unwrap();
        assert!(limiter.begin("d", remote(3), &none, 0).is_err());
    }

    #[test]
    fn concurrent_guesses_put_the_username_into_debt() {
        let limiter = LoginLimiter::new(&settings());
        let none = AddrList::default();
        let guesses: Vec<Attempt> = (0..4)
            .map(|i| limiter.begin("ann", remote(i), &none, 0).unwrap())
            .collect();
        for g in guesses {
            limiter.failed(g, 0);
        }
        // Four failures against a burst of two: three tokens short, 3 s at 60/min.
        assert_eq!(limiter.begin("ann", remote(9), &none, 0).err(), Some(3000));
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
            fail(&limiter, "ann", local, 0).unwrap();
        }
        // A remote client relayed by an untrusted proxy on this host is not local.
        let relayed = ClientAddr {
            relayed: true,
            ..local
        };
        fail(&limiter, "bob", relayed, 0).unwrap();
        fail(&limiter, "bob", relayed, 0).unwrap();
        assert!(limiter.begin("bob", relayed, &none, 0).is_err());
        let strict = LoginLimiter::new(&LoginSettings {
            limit_loopback: true,
            ..settings()
        });
        fail(&strict, "ann", local, 0).unwrap();
        fail(&strict, "ann", local, 0).unwrap();
        assert!(strict.begin("ann", local, &none, 0).is_err());
    }
}
