//! What the server counts, for `/metrics` (docs/http.md §2): requests by route and status class
//! with their latency, logins by result, token refusals by reason, revocations by kind, the limits
//! that acted, and the gauges read at scrape time (denylist size, password-check queue, open
//! connections, users).
//!
//! Written by hand over atomics, with no metrics crate: on the request path counting is three
//! relaxed atomic adds (the route's status class, one latency bucket, the latency sum) in
//! counters indexed by the route's row in the router's table, with no lock, no allocation and no
//! formatting; the text is only written when `/metrics` is asked for. The request counters are
//! sharded per thread (one cache-line-aligned set per shard, summed at scrape), so worker threads
//! serving `/protected` side by side don't fight over one cache line.
//!
//! Here: the request counters and their shards. Beside them: `labels.rs` (the label sets and their
//! counters), `gauges.rs` (connections, the password-check pool, what is sampled at scrape),
//! `histogram.rs` (fixed buckets), `render.rs` (every metric written out) and `exposition.rs` (the
//! Prometheus text format).
//!
//! A core module: it imports nothing of `http`, `handlers` or `app` (only `jwt`'s error type, to
//! name refusals). The request path gives it a route index and a status code; the handlers give it
//! typed outcomes ([`LoginResult`], [`Refusal`], [`Revoked`]).

mod exposition;
mod gauges;
mod histogram;
mod labels;
mod render;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

pub use exposition::{CONTENT_TYPE, Exposition, Kind};
pub use gauges::{ConnectionGauges, OpenConnection, QueueStats, Sampled};
pub use histogram::{BOUNDS, Histogram, Snapshot};
pub use labels::{Label, Limit, LimitHits, LoginResult, Refusal, Revoked};

use labels::Counters;

/// The status classes counted: 1xx to 5xx.
pub const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// One route's counters in one shard, on cache lines of their own.
#[derive(Debug, Default)]
#[repr(align(128))]
struct RouteCounters {
    by_class: [AtomicU64; STATUS_CLASSES.len()],
    latency: Histogram,
}

/// Every counter of one server; see the module documentation.
#[derive(Debug)]
pub struct Metrics {
    enabled: bool,
    /// The route labels, by row index (the router's table, then requests to no route).
    routes: Vec<&'static str>,
    /// `shards.len()` is a power of two; each holds `routes.len()` [`RouteCounters`].
    shards: Box<[Box<[RouteCounters]>]>,
    logins: Counters<LoginResult>,
    refusals: Counters<Refusal>,
    revocations: Counters<Revoked>,
    refresh_reuse: AtomicU64,
    connections: Arc<ConnectionGauges>,
    limits: Arc<LimitHits>,
}

/// Hands each thread a shard: the n-th thread to count a request takes shard n (mod the count).
static NEXT_TICKET: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static TICKET: Cell<Option<usize>> = const { Cell::new(None) };
}

fn thread_ticket() -> usize {
    TICKET.with(|ticket| match ticket.get() {
        Some(n) => n,
        None => {
            let n = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
            ticket.set(Some(n));
            n
        }
    })
}

impl Metrics {
    /// Counters for requests to `routes` (labels by row index). Disabled ones count nothing.
    pub fn new(routes: Vec<&'static str>, enabled: bool) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let shards = if enabled {
            threads.clamp(1, 16).next_power_of_two()
        } else {
            1
        };
        Metrics {
            enabled,
            shards: (0..shards)
                .map(|_| routes.iter().map(|_| RouteCounters::default()).collect())
                .collect(),
            routes,
            logins: Counters::new(),
            refusals: Counters::new(),
            revocations: Counters::new(),
            refresh_reuse: AtomicU64::new(0),
            connections: Arc::new(ConnectionGauges::default()),
            limits: Arc::new(LimitHits::default()),
        }
    }

    /// Counts one answered request to route row `route` (out of range: the last label).
    #[inline]
    pub fn request(&self, route: usize, status: u16, elapsed: Duration) {
        if !self.enabled {
            return;
        }
        let shard = &self.shards[thread_ticket() & (self.shards.len() - 1)];
        let Some(counters) = shard.get(route).or_else(|| shard.last()) else {
            return;
        };
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        counters.by_class[class].fetch_add(1, Ordering::Relaxed);
        counters.latency.observe(elapsed);
    }

    pub fn login(&self, result: LoginResult) {
        if self.enabled {
            self.logins.add(result);
        }
    }

    pub fn refused(&self, reason: impl Into<Refusal>) {
        if self.enabled {
            self.refusals.add(reason.into());
        }
    }

    /// A revocation newly made (and, with a journal, durable).
    pub fn revoked(&self, kind: Revoked) {
        if self.enabled {
            self.revocations.add(kind);
        }
    }

    /// A used refresh token presented again (RFC 9700 §4.14.2).
    pub fn refresh_token_reused(&self) {
        if self.enabled {
            self.refresh_reuse.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The gauges the accept loop keeps, if counting.
    pub fn connections(&self) -> Option<Arc<ConnectionGauges>> {
        self.enabled.then(|| Arc::clone(&self.connections))
    }

    /// The counts of limits that acted, for those that apply them elsewhere, if counting.
    pub fn limit_hits(&self) -> Option<Arc<LimitHits>> {
        self.enabled.then(|| Arc::clone(&self.limits))
    }

    /// A limit acted (`/login`'s throttle).
    pub fn limit_hit(&self, limit: Limit) {
        if self.enabled {
            self.limits.hit(limit);
        }
    }

    /// The requests counted for `route` and status class `class` (`0` is 1xx), all shards.
    pub fn requests(&self, route: usize, class: usize) -> u64 {
        self.shards
            .iter()
            .map(|shard| shard[route].by_class[class].load(Ordering::Relaxed))
            .sum()
    }

    /// The latency histogram of `route`, all shards.
    pub fn latency(&self, route: usize) -> Snapshot {
        let mut total = Snapshot::default();
        for shard in &self.shards {
            shard[route].latency.add_to(&mut total);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::JwtError;

    fn metrics() -> Metrics {
        Metrics::new(vec!["/", "/protected", "unmatched"], true)
    }

    fn sampled(stats: &QueueStats) -> Sampled<'_> {
        Sampled {
            denylist: [
                (Revoked::Token, 1),
                (Revoked::Session, 2),
                (Revoked::User, 3),
            ],
            users: 2,
            password_checks: stats,
        }
    }

    #[test]
    fn labels_index_their_own_array() {
        fn check<L: Label + std::fmt::Debug>() {
            for (i, label) in L::ALL.iter().enumerate() {
                assert_eq!(label.index(), i, "{label:?}");
                let name = label.name();
                assert!(
                    name.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "{name}"
                );
            }
        }
        check::<LoginResult>();
        check::<Refusal>();
        check::<Revoked>();
        check::<Limit>();
    }

    #[test]
    fn requests_count_by_route_and_class_across_threads() {
        let metrics = Arc::new(metrics());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let metrics = Arc::clone(&metrics);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        metrics.request(1, 200, Duration::from_micros(20));
                    }
                    metrics.request(1, 401, Duration::from_micros(20));
                    // Out of range: counted as the last label, never a panic.
                    metrics.request(99, 599, Duration::from_micros(20));
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(metrics.requests(1, 1), 4000);
        assert_eq!(metrics.requests(1, 3), 4);
        assert_eq!(metrics.requests(2, 4), 4);
        assert_eq!(metrics.requests(0, 1), 0);
        assert_eq!(metrics.latency(1).count(), 4004);
    }

    #[test]
    fn disabled_metrics_count_nothing() {
        let metrics = Metrics::new(vec!["/"], false);
        metrics.request(0, 200, Duration::from_micros(1));
        metrics.login(LoginResult::Ok);
        metrics.refused(JwtError::Expired);
        metrics.limit_hit(Limit::MaxConnections);
        assert_eq!(metrics.limits.get(Limit::MaxConnections), 0);
        assert!(metrics.limit_hits().is_none());
        assert_eq!(metrics.requests(0, 1), 0);
        assert_eq!(metrics.logins.get(LoginResult::Ok), 0);
        assert!(metrics.connections().is_none());
    }

    #[test]
    fn the_exposition_names_every_family_once_with_help_and_type() {
        let metrics = metrics();
        metrics.request(1, 200, Duration::from_micros(20));
        metrics.login(LoginResult::Throttled);
        metrics.refused(JwtError::WrongType {
            expected: crate::jwt::TokenType::Access,
        });
        metrics.revoked(Revoked::Session);
        metrics.limit_hit(Limit::LoginMaxFailuresPerAddress);
        metrics
            .limit_hits()
            .unwrap()
            .hit(Limit::MaxConnectionsPerAddress);
        let gauges = metrics.connections().unwrap();
        let open = gauges.opened();
        let stats = QueueStats::default();
        let text = metrics.render(&sampled(&stats));
        for line in [
            "hyperjwt_build_info{version=\"0.1.0\"} 1",
            "hyperjwt_http_requests_total{route=\"/protected\",status_class=\"2xx\"} 1",
            "hyperjwt_http_requests_total{route=\"unmatched\",status_class=\"5xx\"} 0",
            "hyperjwt_http_request_duration_seconds_bucket{route=\"/protected\",le=\"2.5e-05\"} 1",
            "hyperjwt_http_request_duration_seconds_count{route=\"/protected\"} 1",
            "hyperjwt_logins_total{result=\"throttled\"} 1",
            "hyperjwt_token_refusals_total{reason=\"wrong_type\"} 1",
            "hyperjwt_revocations_total{kind=\"session\"} 1",
            "hyperjwt_denylist_entries{kind=\"user\"} 3",
            "hyperjwt_users 2",
            "hyperjwt_connections_open 1",
            "hyperjwt_connections_accepted_total 1",
            "hyperjwt_password_check_wait_seconds_count 0",
            "hyperjwt_password_checks_waiting 0",
            "hyperjwt_limit_hits_total{limit=\"login_max_failures_per_address\"} 1",
            "hyperjwt_limit_hits_total{limit=\"max_connections_per_address\"} 1",
            "hyperjwt_limit_hits_total{limit=\"password_check_queue\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
        drop(open);
        assert!(
            metrics
                .render(&sampled(&stats))
                .lines()
                .any(|l| l == "hyperjwt_connections_open 0")
        );
        let mut families = std::collections::HashSet::new();
        for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
            let name = line.split(' ').nth(2).unwrap();
            assert!(families.insert(name), "{name} twice");
        }
        assert_eq!(
            text.lines().filter(|l| l.starts_with("# HELP ")).count(),
            families.len()
        );
    }
}
