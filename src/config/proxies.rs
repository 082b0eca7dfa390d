//! `TRUSTED_PROXIES`: the reverse proxies whose `X-Forwarded-For` is believed, as a list of
//! addresses and CIDR networks. Reading the header itself is `crate::http::client_addr`'s job.

use std::fmt;
use std::net::IpAddr;

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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
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
}
