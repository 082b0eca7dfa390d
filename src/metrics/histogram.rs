//! A latency histogram over atomics: fixed buckets (in seconds, as Prometheus wants base units),
//! one relaxed add for the bucket and one for the sum per observation, no lock.
//!
//! Each bucket counts only its own observations; the exposition makes them cumulative
//! (`le="0.001"` counts everything up to a millisecond) and `_count` is the sum of all of them, so
//! `_count` always equals the `+Inf` bucket, even while observations land mid-scrape.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The bucket bounds: nanoseconds (compared) and the `le` label (shown). From 10 µs, where a
/// `/protected` answer lies, to 10 s, past any bcrypt check.
pub const BOUNDS: [(u64, &str); 19] = [
    (10_000, "1e-05"),
    (25_000, "2.5e-05"),
    (50_000, "5e-05"),
    (100_000, "0.0001"),
    (250_000, "0.00025"),
    (500_000, "0.0005"),
    (1_000_000, "0.001"),
    (2_500_000, "0.0025"),
    (5_000_000, "0.005"),
    (10_000_000, "0.01"),
    (25_000_000, "0.025"),
    (50_000_000, "0.05"),
    (100_000_000, "0.1"),
    (250_000_000, "0.25"),
    (500_000_000, "0.5"),
    (1_000_000_000, "1"),
    (2_500_000_000, "2.5"),
    (5_000_000_000, "5"),
    (10_000_000_000, "10"),
];

/// Observations per bucket (the last one is `+Inf`) and their sum.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BOUNDS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS
            .iter()
            .position(|&(bound, _)| nanos <= bound)
            .unwrap_or(BOUNDS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Adds this histogram's counts to `into` (the shards of one series are summed).
    pub fn add_to(&self, into: &mut Snapshot) {
        for (total, bucket) in into.buckets.iter_mut().zip(&self.buckets) {
            *total += bucket.load(Ordering::Relaxed);
        }
        into.sum_nanos += self.sum_nanos.load(Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut snapshot = Snapshot::default();
        self.add_to(&mut snapshot);
        snapshot
    }
}

/// A histogram's counts at one moment, per bucket (not cumulative).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub buckets: [u64; BOUNDS.len() + 1],
    pub sum_nanos: u64,
}

impl Snapshot {
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    pub fn sum_seconds(&self) -> f64 {
        self.sum_nanos as f64 / 1e9
    }

    /// `(le label, cumulative count)` for every bucket, `+Inf` last.
    pub fn cumulative(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let labels = BOUNDS.iter().map(|&(_, le)| le).chain(["+Inf"]);
        labels.zip(self.buckets.iter().scan(0, |total, &n| {
            *total += n;
            Some(*total)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_rise_and_their_labels_say_the_same_seconds() {
        for pair in BOUNDS.windows(2) {
            assert!(pair[0].0 < pair[1].0);
        }
        for (nanos, label) in BOUNDS {
            let seconds: f64 = label.parse().unwrap();
            assert!((seconds * 1e9 - nanos as f64).abs() < 1e-3, "{label}");
        }
    }

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them_and_add_up() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(10)); // on the bound: le is "less or equal"
        histogram.observe(Duration::from_micros(11));
        histogram.observe(Duration::from_millis(300));
        histogram.observe(Duration::from_secs(60));
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.count(), 4);
        let cumulative: Vec<(&str, u64)> = snapshot.cumulative().collect();
        assert_eq!(cumulative[0], ("1e-05", 1));
        assert_eq!(cumulative[1], ("2.5e-05", 2));
        assert_eq!(cumulative[13], ("0.25", 2));
        assert_eq!(cumulative[14], ("0.5", 3));
        assert_eq!(cumulative[18], ("10", 3));
        assert_eq!(cumulative[19], ("+Inf", 4));
        assert!(cumulative.windows(2).all(|w| w[0].1 <= w[1].1));
        assert_eq!(
            snapshot.sum_nanos,
            10_000 + 11_000 + 300_000_000 + 60_000_000_000
        );
        assert!((snapshot.sum_seconds() - 60.300021).abs() < 1e-9);
    }
}
