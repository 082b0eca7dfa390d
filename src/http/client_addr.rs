//! Who is calling, for failed-login throttling per address: the TCP peer, or, only when that peer is
//! a proxy the operator listed in `TRUSTED_PROXIES`, the client the proxies name in
//! `X-Forwarded-For`.
//!
//! `X-Forwarded-For` is never trusted by default: any client can send one, so believing it would let
//! an attacker pick a fresh address for every guess. Behind a reverse proxy, every request arrives
//! from the proxy's address; list the proxy and the header it appends becomes believable.
//!
//! Reading the header: each proxy appends the address it received the request from, so the list is
//! read from the right. Entries written by trusted proxies are skipped; the first entry that is not
//! a trusted proxy is the client. Anything left of it was written by the client itself and is ignored.

use std::fmt;
use std::net::IpAddr;

use hyper::header::HeaderMap;

/// The client's IP address, put into each request's extensions by the server (the TCP peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// One `TRUSTED_PROXIES` entry: an address, or a network in CIDR form (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    prefix_len: u8,
}

impl Network {
    fn parse(text: &str) -> Option<Self> {
        let (addr, prefix_len) = match text.split_once('/') {
            Some((addr, len)) => (addr.parse::<IpAddr>().ok()?, Some(len.parse::<u8>().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix_len = prefix_len.unwrap_or(max);
        (prefix_len <= max).then_some(Network { addr, prefix_len })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        // Compare the first `prefix_len` bits of both addresses, as integers.
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`); empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

/// A `TRUSTED_PROXIES` entry that is neither an IP address nor a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadProxyEntry(pub String);

impl fmt::Display for BadProxyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an IP address or a network like 10.0.0.0/8",
            self.0
        )
    }
}

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR networks.
    pub fn parse(list: &str) -> Result<Self, BadProxyEntry> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| Network::parse(entry).ok_or_else(|| BadProxyEntry(entry.to_string())))
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True if `ip` is one of the listed proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The address to throttle for a request that came from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        // Every X-Forwarded-For line, in order, as one list read from the right.
        let lines: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        for entry in lines.iter().rev().flat_map(|line| line.rsplit(',')) {
            match parse_forwarded_addr(entry) {
                Some(hop) => {
                    client = hop;
                    if !self.trusts(hop) {
                        break;
                    }
                }
                // A trusted proxy passed on something that is not an address: stop at the last
                // address we could believe rather than guess.
                None => break,
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_forwarded_addr(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", HeaderValue::from_str(line).unwrap());
        }
        headers
    }

    #[test]
    fn parses_addresses_and_networks() {
        let proxies = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,").unwrap();
        assert!(proxies.trusts(ip("10.1.2.3")));
        assert!(proxies.trusts(ip("192.168.1.7")));
        assert!(!proxies.trusts(ip("192.168.1.8")));
        assert!(proxies.trusts(ip("fd12::1")));
        assert!(!proxies.trusts(ip("fe80::1")));
        // An IPv4 peer seen through an IPv6 socket is the same peer.
        assert!(proxies.trusts(ip("::ffff:10.9.9.9")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .trusts(ip("8.8.8.8"))
        );
    }

    #[test]
    fn refuses_bad_entries() {
        for bad in ["proxy.local", "10.0.0.0/33", "::/129", "1.2.3.4/x", "1.2.3"] {
            assert_eq!(
                TrustedProxies::parse(&format!("10.0.0.1,{bad}")),
                Err(BadProxyEntry(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let headers = forwarded(&["203.0.113.9"]);
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
        // Listing a proxy doesn't make other peers' headers believable either.
        let one = TrustedProxies::parse("10.0.0.1").unwrap();
        assert_eq!(one.client(ip("198.51.100.1"), &headers), ip("198.51.100.1"));
    }

    #[test]
    fn a_trusted_peer_names_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &headers), ip("203.0.113.9"));
        // No header: the proxy itself is all we know.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn entries_written_by_the_client_are_ignored() {
        // The client sent "1.1.1.1" itself; our proxy appended the address it really saw.
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let headers = forwarded(&["1.1.1.1, 203.0.113.9"]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &headers), ip("203.0.113.9"));
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked_across_lines() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let headers = forwarded(&["1.1.1.1, 203.0.113.9", "10.0.0.5:4444"]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &headers), ip("203.0.113.9"));
        // Every hop trusted: the leftmost is the best we have.
        let all_inside = forwarded(&["10.0.0.7, 10.0.0.5"]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &all_inside), ip("10.0.0.7"));
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_believable_hop() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let headers = forwarded(&["203.0.113.9, not-an-ip, 10.0.0.5"]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &headers), ip("10.0.0.5"));
        let v6 = forwarded(&["[2001:db8::7]:443"]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &v6), ip("2001:db8::7"));
    }
}
