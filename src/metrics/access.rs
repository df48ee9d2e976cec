//! Who may read `/metrics`: clients on this host by default; a bearer token or a
//! list of allowed addresses opens it wider (`[metrics]` in the configuration). The
//! client address is the one [`ClientAddr`] resolves, so a request relayed by a
//! reverse proxy is judged by the address it was relayed for.

use crate::http::client_addr::{AddrList, ClientAddr};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `GET /metrics`.
    pub enabled: bool,
    /// Scrapers that send `Authorization: Bearer <token>` may read from anywhere.
    /// Empty: no token opens it.
    pub token: String,
    /// Addresses or networks (CIDR) that may read without a token, besides this host.
    pub allow: Vec<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            token: String::new(),
            allow: Vec::new(),
        }
    }
}

/// The access rule, parsed once at start.
#[derive(Debug, Clone)]
pub struct MetricsAccess {
    enabled: bool,
    token_hash: Option<[u8; 32]>,
    allow: AddrList,
    trusted_proxies: AddrList,
}

/// Why a request may not read the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Disabled,
    Forbidden,
}

impl MetricsAccess {
    /// Err names the bad entry of `metrics.allow` or `http.trusted_proxies`.
    pub fn new(
        config: &MetricsConfig,
        trusted_proxies: &[String],
    ) -> Result<Self, (String, String)> {
        let allow = AddrList::parse(&config.allow).map_err(|m| ("metrics.allow".to_string(), m))?;
        let trusted_proxies = AddrList::parse(trusted_proxies)
            .map_err(|m| ("http.trusted_proxies".to_string(), m))?;
        Ok(MetricsAccess {
            enabled: config.enabled,
            token_hash: (!config.token.is_empty()).then(|| hash(&config.token)),
            allow,
            trusted_proxies,
        })
    }

    pub fn trusted_proxies(&self) -> &AddrList {
        &self.trusted_proxies
    }

    /// Decides for a client and the bearer token it sent, if any.
    pub fn check(&self, client: ClientAddr, bearer: Option<&str>) -> Result<(), Refusal> {
        if !self.enabled {
            return Err(Refusal::Disabled);
        }
        if client.is_local(&self.trusted_proxies) || self.allow.contains(client.ip) {
            return Ok(());
        }
        match (self.token_hash, bearer) {
            // Compared as digests: the time taken says nothing about the token.
            (Some(expected), Some(given)) if hash(given) == expected => Ok(()),
            _ => Err(Refusal::Forbidden),
        }
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn access(token: &str, allow: &[&str], trusted: &[&str]) -> MetricsAccess {
        let config = MetricsConfig {
            enabled: true,
            token: token.into(),
            allow: allow.iter().map(|s| s.to_string()).collect(),
        };
        let trusted: Vec<String> = trusted.iter().map(|s| s.to_string()).collect();
        MetricsAccess::new(&config, &trusted).unwrap()
    }

    fn client(a: &MetricsAccess, peer: &str, forwarded: &[&str]) -> ClientAddr {
        ClientAddr::resolve(
            peer.parse::<IpAddr>().unwrap(),
            forwarded,
            a.trusted_proxies(),
        )
    }

    #[test]
    fn loopback_only_by_default() {
        let a = access("", &[], &[]);
        assert_eq!(a.check(client(&a, "127.0.0.1", &[]), None), Ok(()));
        assert_eq!(a.check(client(&a, "::1", &[]), None), Ok(()));
        assert_eq!(
            a.check(client(&a, "192.0.2.7", &[]), None),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            a.check(client(&a, "192.0.2.7", &[]), Some("")),
            Err(Refusal::Forbidden),
            "an empty token opens nothing"
        );
    }

    #[test]
    fn a_token_or_the_allow_list_opens_it_wider() {
        let a = access("s3cret", &["10.0.0.0/8"], &[]);
        assert_eq!(a.check(client(&a, "10.9.8.7", &[]), None), Ok(()));
        assert_eq!(
            a.check(client(&a, "192.0.2.7", &[]), Some("s3cret")),
            Ok(())
        );
        assert_eq!(
            a.check(client(&a, "192.0.2.7", &[]), Some("wrong")),
            Err(Refusal::Forbidden)
        );
    }

    #[test]
    fn behind_a_local_proxy_the_forwarded_address_decides() {
        let a = access("", &["10.0.0.0/8"], &["127.0.0.1"]);
        assert_eq!(
            a.check(client(&a, "127.0.0.1", &["198.51.100.9"]), None),
            Err(Refusal::Forbidden),
            "not loopback: relayed for a remote client"
        );
        assert_eq!(
            a.check(client(&a, "127.0.0.1", &["10.1.1.1"]), None),
            Ok(())
        );
        // The same proxy, not configured as trusted: relayed requests are not local.
        let b = access("", &[], &[]);
        assert_eq!(
            b.check(client(&b, "127.0.0.1", &["198.51.100.9"]), None),
            Err(Refusal::Forbidden)
        );
    }

    #[test]
    fn disabled_refuses_everyone() {
        let config = MetricsConfig {
            enabled: false,
            ..MetricsConfig::default()
        };
        let a = MetricsAccess::new(&config, &[]).unwrap();
        assert_eq!(
            a.check(client(&a, "127.0.0.1", &[]), None),
            Err(Refusal::Disabled)
        );
    }

    #[test]
    fn bad_addresses_name_their_key() {
        let config = MetricsConfig {
            allow: vec!["everyone".into()],
            ..MetricsConfig::default()
        };
        assert_eq!(
            MetricsAccess::new(&config, &[]).unwrap_err().0,
            "metrics.allow"
        );
        let err = MetricsAccess::new(&MetricsConfig::default(), &["x".into()]).unwrap_err();
        assert_eq!(err.0, "http.trusted_proxies");
    }
}
