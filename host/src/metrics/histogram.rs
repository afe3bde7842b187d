//! Lock-free histograms and labelled counters for the metrics the host keeps
//! in memory (engine events, plugin calls). Gauges are read from the store at
//! scrape time instead, so they survive restarts and other writers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Buckets of plugin call durations, in seconds (1 ms to 30 s: a call's default budget is 10 s).
pub const CALL_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Buckets of DMS-change-to-acknowledgement latency, in seconds (100 ms to a day:
/// a sold car should be gone in minutes; a paused platform can take hours).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
    21600.0, 86400.0,
];

/// A histogram with fixed upper bounds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Per-bucket (not cumulative) counts; the last is +Inf.
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_bits: AtomicU64,
}

/// A consistent-enough reading of a histogram: cumulative buckets, count, sum.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// `(upper bound, cumulative count)`, ending with `(+Inf, count)`.
    pub buckets: Vec<(f64, u64)>,
    /// Observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
}

impl Histogram {
    /// An empty histogram with these upper bounds (ascending).
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// Record one value.
    pub fn observe(&self, value: f64) {
        let value = if value.is_finite() {
            value.max(0.0)
        } else {
            0.0
        };
        let i = self
            .bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(self.bounds.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let _ = self
            .sum_bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + value).to_bits())
            });
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Cumulative buckets, count and sum. The count is the +Inf bucket, so
    /// the two always agree even while other threads observe.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.buckets.len());
        for (i, b) in self.buckets.iter().enumerate() {
            cumulative += b.load(Ordering::Relaxed);
            buckets.push((
                self.bounds.get(i).copied().unwrap_or(f64::INFINITY),
                cumulative,
            ));
        }
        HistogramSnapshot {
            buckets,
            count: cumulative,
            sum: f64::from_bits(self.sum_bits.load(Ordering::Relaxed)),
        }
    }
}

/// Histograms by label values.
#[derive(Debug)]
pub struct HistogramVec {
    bounds: &'static [f64],
    series: Mutex<BTreeMap<Vec<String>, Arc<Histogram>>>,
}

impl HistogramVec {
    /// An empty family with these bounds.
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            series: Mutex::default(),
        }
    }

    /// Record a value for these label values.
    pub fn observe(&self, labels: &[&str], value: f64) {
        let histogram = {
            let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
            series
                .entry(labels.iter().map(|l| l.to_string()).collect())
                .or_insert_with(|| Arc::new(Histogram::new(self.bounds)))
                .clone()
        };
        histogram.observe(value);
    }

    /// Every series, ordered by label values.
    pub fn snapshot(&self) -> Vec<(Vec<String>, HistogramSnapshot)> {
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series
            .iter()
            .map(|(labels, h)| (labels.clone(), h.snapshot()))
            .collect()
    }
}

/// Monotonic counters by label values.
#[derive(Debug, Default)]
pub struct CounterVec {
    series: Mutex<BTreeMap<Vec<String>, u64>>,
}

impl CounterVec {
    /// Add `n` to the series with these label values.
    pub fn add(&self, labels: &[&str], n: u64) {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        *series
            .entry(labels.iter().map(|l| l.to_string()).collect())
            .or_default() += n;
    }

    /// Add one.
    pub fn inc(&self, labels: &[&str]) {
        self.add(labels, 1);
    }

    /// The value of one series (0 if never touched).
    pub fn get(&self, labels: &[&str]) -> u64 {
        let key: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series.get(&key).copied().unwrap_or(0)
    }

    /// Every series, ordered by label values.
    pub fn snapshot(&self) -> Vec<(Vec<String>, u64)> {
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// What a plugin's calls took and how they failed, by operation: kept in
/// the plugin's stats, rendered as `forecourt_plugin_*` metrics.
#[derive(Debug)]
pub struct CallMetrics {
    /// Duration of every call, by operation.
    pub duration: HistogramVec,
    /// Traps, timeouts and limits, by operation and kind.
    pub failures: CounterVec,
}

impl Default for CallMetrics {
    fn default() -> Self {
        Self {
            duration: HistogramVec::new(CALL_BUCKETS),
            failures: CounterVec::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_with_the_count() {
        let h = Histogram::new(&[1.0, 5.0]);
        for v in [0.5, 1.0, 3.0, 7.0, f64::NAN] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.buckets, vec![(1.0, 3), (5.0, 4), (f64::INFINITY, 5)]);
        assert_eq!(s.count, 5);
        assert_eq!(s.sum, 11.5);
    }

    #[test]
    fn counters_keep_series_apart() {
        let c = CounterVec::default();
        c.inc(&["a", "ok"]);
        c.add(&["a", "ok"], 2);
        c.inc(&["b", "ok"]);
        assert_eq!(c.get(&["a", "ok"]), 3);
        assert_eq!(c.snapshot().len(), 2);
    }
}
