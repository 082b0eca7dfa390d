//! Telling when the connection caps act: the accept loop ([`super::server`]) hands each decision of
//! the [`super::connections`] table here, which counts every connection a cap closed in `/metrics`
//! (`hyperjwt_limit_hits_total`) and warns at most once a minute per cap
//! ([`crate::logger::limits`]), naming the address and the setting to raise. Without this, a
//! benchmark with more connections from one machine than `MAX_CONNECTIONS_PER_ADDRESS`, or clients
//! behind a NAT, saw resets and nothing said why.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::http::connections::MadeRoom;
use crate::logger::limits::{LimitWarning, times};
use crate::metrics::{Limit, LimitHits};

/// The caps' settings, counters and warnings, for one accept loop.
#[derive(Debug)]
pub struct CapReports {
    max_total: usize,
    max_per_address: usize,
    hits: Option<Arc<LimitHits>>,
    per_address: LimitWarning,
    total: LimitWarning,
    full: LimitWarning,
}

impl CapReports {
    pub fn new(max_total: usize, max_per_address: usize, hits: Option<Arc<LimitHits>>) -> Self {
        CapReports {
            max_total,
            max_per_address,
            hits,
            per_address: LimitWarning::default(),
            total: LimitWarning::default(),
            full: LimitWarning::default(),
        }
    }

    fn hit(&self, limit: Limit) {
        if let Some(hits) = &self.hits {
            hits.hit(limit);
        }
    }

    /// A connection from `addr` was admitted after `made_room` closed waiting ones.
    pub fn admitted(&self, addr: IpAddr, made_room: MadeRoom) {
        if made_room.per_address {
            self.hit(Limit::MaxConnectionsPerAddress);
            if let Some(n) = self.per_address.due(Instant::now()) {
                log::warn!(
                    "MAX_CONNECTIONS_PER_ADDRESS={} reached by {addr}: its longest-waiting \
                     connection was closed for a new one ({} since the last such line); raise \
                     MAX_CONNECTIONS_PER_ADDRESS if many clients share this address (benchmarks, a \
                     NAT), or list it in TRUSTED_PROXIES if it is your reverse proxy",
                    self.max_per_address,
                    times(n)
                );
            }
        }
        if let Some(closed) = made_room.total {
            self.hit(Limit::MaxConnections);
            if let Some(n) = self.total.due(Instant::now()) {
                log::warn!(
                    "MAX_CONNECTIONS={} reached: the longest-waiting connection (from {closed}) was \
                     closed for a new one from {addr} ({} since the last such line); raise \
                     MAX_CONNECTIONS if the host has memory and file descriptors to spare",
                    self.max_total,
                    times(n)
                );
            }
        }
    }

    /// A connection from `addr` was closed unanswered: every one of its address's was busy.
    pub fn refused_for_address(&self, addr: IpAddr) {
        self.hit(Limit::MaxConnectionsPerAddress);
        if let Some(n) = self.per_address.due(Instant::now()) {
            log::warn!(
                "MAX_CONNECTIONS_PER_ADDRESS={} reached by {addr} with every one of its connections \
                 serving a request: a new one was closed unanswered ({} since the last such line); \
                 raise MAX_CONNECTIONS_PER_ADDRESS if many clients share this address (benchmarks, \
                 a NAT), or list it in TRUSTED_PROXIES if it is your reverse proxy",
                self.max_per_address,
                times(n)
            );
        }
    }

    /// Every connection is serving a request: new ones wait in the kernel's accept queue. Not a
    /// close, so not counted; said at most once a minute.
    pub fn full(&self) {
        if let Some(n) = self.full.due(Instant::now()) {
            log::warn!(
                "MAX_CONNECTIONS={} reached with every connection serving a request: new clients \
                 wait in the accept queue ({} since the last such line); raise MAX_CONNECTIONS if \
                 the host has room",
                self.max_total,
                times(n)
            );
        }
    }
}
