//! The Prometheus text exposition format, version 0.0.4: for each metric family a `# HELP` and a
//! `# TYPE` line, then one line per sample, `name{label="value",...} number`. Histograms are
//! written as their cumulative `_bucket{le=...}` lines, `_sum` and `_count`.
//!
//! Only [`Exposition`] writes the text, so every family gets its `HELP` and `TYPE` once, before its
//! samples, and label values are escaped as the format says (`\\`, `\"`, `\n`).

use std::fmt::{Display, Write as _};

use super::histogram::Snapshot;

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// The exposition being written.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Starts the family `name`: its `HELP` and `TYPE` lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', r"\\").replace('\n', r"\n");
        // Writing to a String cannot fail.
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.name());
    }

    /// One sample of the current family.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.out.push_str(name);
        self.labels(labels, None);
        let _ = writeln!(self.out, " {value}");
    }

    /// A whole histogram series of the current family: `name_bucket`, `name_sum`, `name_count`.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], snapshot: &Snapshot) {
        for (le, count) in snapshot.cumulative() {
            let _ = write!(self.out, "{name}_bucket");
            self.labels(labels, Some(le));
            let _ = writeln!(self.out, " {count}");
        }
        let _ = write!(self.out, "{name}_sum");
        self.labels(labels, None);
        let _ = writeln!(self.out, " {}", snapshot.sum_seconds());
        let _ = write!(self.out, "{name}_count");
        self.labels(labels, None);
        let _ = writeln!(self.out, " {}", snapshot.count());
    }

    fn labels(&mut self, labels: &[(&str, &str)], le: Option<&str>) {
        if labels.is_empty() && le.is_none() {
            return;
        }
        self.out.push('{');
        let le = le.map(|le| ("le", le));
        for (i, (name, value)) in labels.iter().copied().chain(le).enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out.push_str(name);
            self.out.push_str("=\"");
            for c in value.chars() {
                match c {
                    '\\' => self.out.push_str(r"\\"),
                    '"' => self.out.push_str("\\\""),
                    '\n' => self.out.push_str(r"\n"),
                    c => self.out.push(c),
                }
            }
            self.out.push('"');
        }
        self.out.push('}');
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::Histogram;
    use std::time::Duration;

    #[test]
    fn families_samples_and_escaped_labels() {
        let mut e = Exposition::default();
        e.family("x_total", Kind::Counter, "Things.\nCounted.");
        e.sample("x_total", &[("a", "b\"c\\d\ne")], 3);
        e.sample("x_total", &[], 4);
        assert_eq!(
            e.finish(),
            "# HELP x_total Things.\\nCounted.\n# TYPE x_total counter\n\
             x_total{a=\"b\\\"c\\\\d\\ne\"} 3\nx_total 4\n"
        );
    }

    #[test]
    fn a_histogram_is_cumulative_buckets_then_sum_and_count() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(30));
        histogram.observe(Duration::from_millis(2));
        let mut e = Exposition::default();
        e.family("d_seconds", Kind::Histogram, "Durations.");
        e.histogram("d_seconds", &[("route", "/")], &histogram.snapshot());
        let text = e.finish();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "d_seconds_bucket{route=\"/\",le=\"1e-05\"} 0");
        assert_eq!(lines[4], "d_seconds_bucket{route=\"/\",le=\"5e-05\"} 1");
        assert!(lines.contains(&"d_seconds_bucket{route=\"/\",le=\"0.0025\"} 2"));
        assert!(lines.contains(&"d_seconds_bucket{route=\"/\",le=\"+Inf\"} 2"));
        assert_eq!(lines[lines.len() - 2], "d_seconds_sum{route=\"/\"} 0.00203");
        assert_eq!(lines[lines.len() - 1], "d_seconds_count{route=\"/\"} 2");
    }
}
