//! Who a request comes from: the TCP peer, or — when that peer is a reverse proxy
//! trusted by configuration (`http.trusted_proxies`) — the address it forwarded in
//! `X-Forwarded-For`. A forwarded header from anyone else is ignored (it is the
//! client's own claim), but it still marks the request as relayed, so a proxy on the
//! same host that is not configured as trusted never makes remote clients look local.

use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;
use ipnet::IpNet;
use std::net::IpAddr;

/// Addresses or networks (`10.0.0.0/8`, `127.0.0.1`), parsed from configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddrList(Vec<IpNet>);

impl AddrList {
    /// Parses each entry as an address or a CIDR network; Err names the bad entry.
    pub fn parse(entries: &[String]) -> Result<AddrList, String> {
        entries
            .iter()
            .map(|e| {
                let e = e.trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{e}` is not an IP address or CIDR network"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(AddrList)
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The address a request is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    pub ip: IpAddr,
    /// The request came through a proxy (a forwarding header was present).
    pub relayed: bool,
}

impl ClientAddr {
    /// From the peer address and the request's `X-Forwarded-For` values (in order).
    /// Behind trusted proxies, the client is the right-most forwarded address that is
    /// not itself a trusted proxy.
    pub fn resolve(peer: IpAddr, forwarded_for: &[&str], trusted: &AddrList) -> ClientAddr {
        let peer = canonical(peer);
        let hops: Vec<&str> = forwarded_for
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let relayed = !hops.is_empty();
        if !relayed || !trusted.contains(peer) {
            return ClientAddr { ip: peer, relayed };
        }
        let mut ip = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(addr) if trusted.contains(addr) => ip = addr,
                Some(addr) => {
                    ip = addr;
                    break;
                }
                // An unreadable hop: the client is unknown (judged as no address).
                None => {
                    ip = IpAddr::from([0, 0, 0, 0]);
                    break;
                }
            }
        }
        ClientAddr { ip, relayed }
    }

    pub fn of(req: &HttpRequest, trusted: &AddrList) -> ClientAddr {
        let peer = req
            .peer_addr()
            .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
        ClientAddr::from_headers(peer, req.headers(), trusted)
    }

    /// From the TCP peer and the request's headers (any actix request type).
    pub fn from_headers(peer: IpAddr, headers: &HeaderMap, trusted: &AddrList) -> ClientAddr {
        let values: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        ClientAddr::resolve(peer, &values, trusted)
    }

    /// A client on this host: loopback, and not relayed by a proxy from elsewhere
    /// (behind a trusted proxy, the forwarded address itself must be loopback).
    pub fn is_local(&self, trusted: &AddrList) -> bool {
        self.ip.is_loopback() && (!self.relayed || trusted.contains(self.ip))
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80` or `::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sock) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sock.ip()));
    }
    None
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AddrList {
        AddrList::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn bad_entries_are_named() {
        let err = AddrList::parse(&["10.0.0.0/8".into(), "nginx".into()]).unwrap_err();
        assert!(err.contains("`nginx`"), "{err}");
    }

    #[test]
    fn a_direct_client_is_its_peer() {
        let trusted = list(&["127.0.0.1"]);
        let c = ClientAddr::resolve(ip("127.0.0.1"), &[], &trusted);
        assert_eq!(
            c,
            ClientAddr {
                ip: ip("127.0.0.1"),
                relayed: false
            }
        );
        assert!(c.is_local(&trusted));
        let c = ClientAddr::resolve(ip("192.0.2.7"), &[], &trusted);
        assert!(!c.is_local(&trusted));
    }

    #[test]
    fn a_trusted_proxy_is_judged_by_the_address_it_forwards() {
        let trusted = list(&["127.0.0.1", "10.0.0.0/8"]);
        let c = ClientAddr::resolve(ip("127.0.0.1"), &["198.51.100.9"], &trusted);
        assert_eq!(c.ip, ip("198.51.100.9"));
        assert!(
            !c.is_local(&trusted),
            "a remote client behind a local proxy is not local"
        );
        // Chains: the right-most address that is not a trusted proxy.
        let c = ClientAddr::resolve(
            ip("127.0.0.1"),
            &["203.0.113.1, 198.51.100.9, 10.1.2.3"],
            &trusted,
        );
        assert_eq!(c.ip, ip("198.51.100.9"));
        // A local client through the local proxy stays local.
        let c = ClientAddr::resolve(ip("127.0.0.1"), &["127.0.0.1"], &trusted);
        assert!(c.is_local(&trusted));
        // Ports and IPv6.
        let c = ClientAddr::resolve(ip("::ffff:127.0.0.1"), &["[2001:db8::1]:4711"], &trusted);
        assert_eq!(c.ip, ip("2001:db8::1"));
    }

    #[test]
    fn a_forwarded_header_from_an_untrusted_peer_is_ignored_but_not_local() {
        let none = AddrList::default();
        // Anyone may claim to be loopback: the claim is ignored.
        let c = ClientAddr::resolve(ip("192.0.2.7"), &["127.0.0.1"], &none);
        assert_eq!(c.ip, ip("192.0.2.7"));
        assert!(!c.is_local(&none));
        // An untrusted proxy on this host relays a remote client: not local either.
        let c = ClientAddr::resolve(ip("127.0.0.1"), &["198.51.100.9"], &none);
        assert_eq!(c.ip, ip("127.0.0.1"));
        assert!(!c.is_local(&none));
        // Garbage hops stop the walk.
        let trusted = list(&["127.0.0.1"]);
        let c = ClientAddr::resolve(ip("127.0.0.1"), &["198.51.100.9, not-an-ip"], &trusted);
        assert_eq!(c.ip, ip("0.0.0.0"), "unknown");
        assert!(
            !c.is_local(&trusted),
            "relayed, and the hop could not be read"
        );
    }
}
