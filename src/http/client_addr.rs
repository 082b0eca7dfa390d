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

use std::net::IpAddr;

use hyper::header::HeaderMap;

use crate::config::TrustedProxies;

/// The client's IP address, put into each request's extensions by the server (the TCP peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl TrustedProxies {
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
