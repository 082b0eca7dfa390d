//! The exposition of every metric, written when `/metrics` is asked for: each family's name, type
//! and help, then its samples, in the Prometheus text format ([`Exposition`]). Nothing here runs on
//! the request path.

use std::sync::atomic::Ordering;

use super::labels::Label;
use super::{Exposition, Kind, Metrics, STATUS_CLASSES, Sampled};

impl Metrics {
    /// The whole exposition: this server's counters and the `sampled` gauges.
    pub fn render(&self, sampled: &Sampled<'_>) -> String {
        let mut out = Exposition::default();
        out.family(
            "hyperjwt_build_info",
            Kind::Gauge,
            "Always 1; the labels name the running build.",
        );
        out.sample(
            "hyperjwt_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1,
        );

        let name = "hyperjwt_http_requests_total";
        out.family(
            name,
            Kind::Counter,
            "HTTP requests answered, by route and status class.",
        );
        for (row, route) in self.routes.iter().enumerate() {
            for (class, class_name) in STATUS_CLASSES.iter().enumerate() {
                out.sample(
                    name,
                    &[("route", route), ("status_class", class_name)],
                    self.requests(row, class),
                );
            }
        }
        let name = "hyperjwt_http_request_duration_seconds";
        out.family(
            name,
            Kind::Histogram,
            "Time from a request's parsed head to its response, by route.",
        );
        for (row, route) in self.routes.iter().enumerate() {
            out.histogram(name, &[("route", route)], &self.latency(row));
        }

        let name = "hyperjwt_logins_total";
        out.family(name, Kind::Counter, "POST /login answers, by result.");
        self.logins.write(&mut out, name, "result");
        let name = "hyperjwt_token_refusals_total";
        out.family(
            name,
            Kind::Counter,
            "Tokens refused, by the check that refused them.",
        );
        self.refusals.write(&mut out, name, "reason");
        let name = "hyperjwt_revocations_total";
        out.family(
            name,
            Kind::Counter,
            "Revocations made (and journaled, with DENYLIST_FILE), by what they end.",
        );
        self.revocations.write(&mut out, name, "kind");
        let name = "hyperjwt_refresh_token_reuse_total";
        out.family(
            name,
            Kind::Counter,
            "Used refresh tokens presented again (RFC 9700 section 4.14.2); each ends its session.",
        );
        out.sample(name, &[], self.refresh_reuse.load(Ordering::Relaxed));

        let name = "hyperjwt_denylist_entries";
        out.family(
            name,
            Kind::Gauge,
            "Live revocations held in memory, by what they end.",
        );
        for (kind, entries) in sampled.denylist {
            out.sample(name, &[("kind", kind.name())], entries);
        }
        out.family("hyperjwt_users", Kind::Gauge, "Users loaded.");
        out.sample("hyperjwt_users", &[], sampled.users);

        let name = "hyperjwt_limit_hits_total";
        out.family(
            name,
            Kind::Counter,
            "Times a limit acted, by the setting that raises it: connections closed by a cap, logins answered 503 or 429.",
        );
        self.limits.write(&mut out, name);

        let checks = sampled.password_checks;
        let name = "hyperjwt_password_checks_waiting";
        out.family(
            name,
            Kind::Gauge,
            "Logins waiting for a password-check place (all taken), for PASSWORD_CHECK_WAIT at most.",
        );
        out.sample(name, &[], checks.waiting.load(Ordering::Relaxed));
        let name = "hyperjwt_password_checks_queued";
        out.family(
            name,
            Kind::Gauge,
            "Logins waiting for a password-check thread.",
        );
        out.sample(name, &[], checks.queued.load(Ordering::Relaxed));
        let name = "hyperjwt_password_checks_running";
        out.family(name, Kind::Gauge, "Password checks (bcrypt) running now.");
        out.sample(name, &[], checks.running.load(Ordering::Relaxed));
        let name = "hyperjwt_password_check_wait_seconds";
        out.family(
            name,
            Kind::Histogram,
            "Time a login waited for a password-check thread (and before that, for a place).",
        );
        out.histogram(name, &[], &checks.wait.snapshot());
        let name = "hyperjwt_password_check_duration_seconds";
        out.family(
            name,
            Kind::Histogram,
            "Time one password check (bcrypt) took.",
        );
        out.histogram(name, &[], &checks.duration.snapshot());

        let name = "hyperjwt_connections_open";
        out.family(
            name,
            Kind::Gauge,
            "Client connections open on the main listener.",
        );
        out.sample(name, &[], self.connections.open());
        let name = "hyperjwt_connections_accepted_total";
        out.family(
            name,
            Kind::Counter,
            "Client connections accepted on the main listener.",
        );
        out.sample(name, &[], self.connections.accepted.load(Ordering::Relaxed));
        out.finish()
    }
}
