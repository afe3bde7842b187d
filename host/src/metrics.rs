//! Metrics in the Prometheus text format, served at `/metrics` by the admin
//! server. docs/metrics.md lists every metric.
//!
//! Events (cycles, pulls, listing operations, latencies, reconciliation
//! findings, admin requests) are counted in memory by [`Metrics`], which the
//! engine owns; plugin call durations and traps live in each plugin's stats.
//! Levels (queue depth, dead letters, discrepancies, completeness) are read
//! from the store at scrape time, so they are right after a restart and with
//! other writers. No label carries a vehicle: cardinality stays bounded by
//! platforms, sources, operations and error classes.

pub mod histogram;
pub mod text;

use crate::store::{Job, JobOutcome, SqliteStore, Store, StoreResult};
use histogram::{CounterVec, HistogramVec, LATENCY_BUCKETS};
use text::{Exposition, Kind};

/// What the engine and the admin server count.
#[derive(Debug)]
pub struct Metrics {
    /// Sync cycles, by outcome (success, failure).
    pub sync_cycles: CounterVec,
    /// Source pulls, by source and outcome.
    pub source_pulls: CounterVec,
    /// Listing operation attempts, by platform, operation, outcome, error class.
    pub listing_operations: CounterVec,
    /// DMS change first seen (or drift observed) to platform acknowledgement, by platform.
    pub change_latency: HistogramVec,
    /// Reconciliation findings, by platform and kind (missing, stale, orphaned).
    pub reconcile_findings: CounterVec,
    /// Admin API requests, by outcome.
    pub admin_requests: CounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            sync_cycles: CounterVec::default(),
            source_pulls: CounterVec::default(),
            listing_operations: CounterVec::default(),
            change_latency: HistogramVec::new(LATENCY_BUCKETS),
            reconcile_findings: CounterVec::default(),
            admin_requests: CounterVec::default(),
        }
    }
}

fn outcome(ok: bool) -> &'static str {
    if ok {
        "success"
    } else {
        "failure"
    }
}

impl Metrics {
    /// A sync cycle ended.
    pub fn record_cycle(&self, ok: bool) {
        self.sync_cycles.inc(&[outcome(ok)]);
    }

    /// A pull of `source` ended.
    pub fn record_pull(&self, source: &str, ok: bool) {
        self.source_pulls.inc(&[source, outcome(ok)]);
    }

    /// Delivery results recorded at `now`.
    pub fn record_results(&self, results: &[(Job, JobOutcome)], now: i64) {
        for (job, result) in results {
            let (outcome, class) = match result {
                JobOutcome::Done { .. } => {
                    let seconds = (now - job.seen_at).max(0) as f64 / 1000.0;
                    self.change_latency.observe(&[&job.platform], seconds);
                    ("acknowledged", "none")
                }
                JobOutcome::Retry { class, .. } => ("retry", class.as_str()),
                JobOutcome::Dead { class, .. } => ("dead_letter", class.as_str()),
            };
            let class = if class.is_empty() { "none" } else { class };
            self.listing_operations
                .inc(&[&job.platform, &job.kind, outcome, class]);
        }
    }

    /// What reconciliation of one platform found.
    pub fn record_reconcile(&self, report: &crate::sync::ReconcileReport) {
        for (kind, n) in [
            ("missing", report.missing.len()),
            ("stale", report.stale.len()),
            ("orphaned", report.orphaned.len()),
        ] {
            self.reconcile_findings
                .add(&[&report.platform, kind], n as u64);
        }
    }
}

fn counter_family(e: &mut Exposition, name: &str, help: &str, labels: &[&str], c: &CounterVec) {
    e.family(name, Kind::Counter, help, |f| {
        for (values, n) in c.snapshot() {
            let pairs: Vec<(&str, &str)> = labels
                .iter()
                .copied()
                .zip(values.iter().map(String::as_str))
                .collect();
            f.sample(&pairs, n as f64);
        }
    });
}

/// Render every metric.
pub fn render(
    engine: &crate::sync::Engine,
    store: &SqliteStore,
    completeness: &crate::completeness::Completeness,
) -> StoreResult<String> {
    let m = engine.metrics();
    let platforms: Vec<String> = engine.platforms().iter().map(|p| p.id.clone()).collect();
    let mut e = Exposition::default();

    e.family(
        "forecourt_build_info",
        Kind::Gauge,
        "Always 1; the version label says which forecourt is running.",
        |f| f.sample(&[("version", env!("CARGO_PKG_VERSION"))], 1.0),
    );
    counter_family(
        &mut e,
        "forecourt_sync_cycles_total",
        "Sync cycles (pull, plan, deliver) by outcome; the success rate is success over all.",
        &["outcome"],
        &m.sync_cycles,
    );
    counter_family(
        &mut e,
        "forecourt_source_pulls_total",
        "Pulls of a DMS source by outcome.",
        &["source", "outcome"],
        &m.source_pulls,
    );
    e.family(
        "forecourt_source_last_success_timestamp_seconds",
        Kind::Gauge,
        "When each source last completed a pull (Unix time); absent if never.",
        |f| {
            for s in engine.sources() {
                if let Ok(Some(at)) = store.last_success(&s.id) {
                    f.sample(&[("source", &s.id)], at as f64 / 1000.0);
                }
            }
        },
    );
    counter_family(
        &mut e,
        "forecourt_listing_operations_total",
        "Listing operation attempts by platform, operation (create, update, reserve, unreserve, remove), outcome (acknowledged, retry, dead_letter) and error class.",
        &["platform", "operation", "outcome", "error_class"],
        &m.listing_operations,
    );
    e.family(
        "forecourt_change_to_acknowledgement_seconds",
        Kind::Histogram,
        "Time from a DMS change being first seen (or reconciliation seeing drift) to the platform acknowledging the operation that carries it.",
        |f| {
            for (labels, h) in m.change_latency.snapshot() {
                f.histogram(&[("platform", &labels[0])], &h);
            }
        },
    );
    e.family(
        "forecourt_platform_api_requests_total",
        Kind::Counter,
        "HTTP requests plugins sent to platforms and DMS APIs through the host's egress, by plugin instance.",
        |f| {
            for (id, plugin) in plugins(engine) {
                let sent = plugin.egress_stats().sent.load(std::sync::atomic::Ordering::Relaxed);
                f.sample(&[("plugin", id)], sent as f64);
            }
        },
    );
    e.family(
        "forecourt_egress_denied_total",
        Kind::Counter,
        "HTTP requests the egress policy refused (origin not granted, private address), by plugin instance.",
        |f| {
            for (id, plugin) in plugins(engine) {
                let denied = plugin.egress_stats().denied.load(std::sync::atomic::Ordering::Relaxed);
                f.sample(&[("plugin", id)], denied as f64);
            }
        },
    );

    let counts = store.platform_counts(&platforms)?;
    e.family(
        "forecourt_queue_depth",
        Kind::Gauge,
        "Operations waiting or in flight, by platform.",
        |f| {
            for c in &counts {
                f.sample(&[("platform", &c.platform)], c.queued as f64);
            }
        },
    );
    e.family(
        "forecourt_dead_letters",
        Kind::Gauge,
        "Operations in the dead-letter queue, by platform.",
        |f| {
            for c in &counts {
                f.sample(&[("platform", &c.platform)], c.dead as f64);
            }
        },
    );
    e.family(
        "forecourt_listings",
        Kind::Gauge,
        "Listings by platform and state: published (live or reserved on the platform), pending (an operation is due), blocked (held back by validation).",
        |f| {
            for c in &counts {
                for (state, n) in [("published", c.published), ("pending", c.pending), ("blocked", c.blocked)] {
                    f.sample(&[("platform", &c.platform), ("state", state)], n as f64);
                }
            }
        },
    );
    e.family(
        "forecourt_platform_paused",
        Kind::Gauge,
        "1 while a platform is paused after refusing our credentials, else 0.",
        |f| {
            for c in &counts {
                f.sample(
                    &[("platform", &c.platform)],
                    if c.paused.is_some() { 1.0 } else { 0.0 },
                );
            }
        },
    );
    let discrepancies = store.discrepancies()?;
    e.family(
        "forecourt_discrepancies",
        Kind::Gauge,
        "Vehicles sold or removed in the DMS that a platform still shows, by platform.",
        |f| {
            for p in &platforms {
                let n = discrepancies
                    .iter()
                    .filter(|d| d.still_listed_on.iter().any(|l| l == p))
                    .count();
                f.sample(&[("platform", p)], n as f64);
            }
        },
    );
    let report = completeness.report(store, &platforms)?;
    e.family(
        "forecourt_listing_completeness_ratio",
        Kind::Gauge,
        "Mean completeness (0 to 1) of the vehicle records a platform advertises.",
        |f| {
            for p in &report.platforms {
                f.sample(&[("platform", &p.platform)], p.mean);
            }
        },
    );
    counter_family(
        &mut e,
        "forecourt_reconcile_findings_total",
        "Listings reconciliation found wrong, by platform and kind (missing, stale, orphaned).",
        &["platform", "kind"],
        &m.reconcile_findings,
    );
    e.family(
        "forecourt_plugin_call_duration_seconds",
        Kind::Histogram,
        "Duration of calls into plugins, by plugin instance and operation (describe, transform, publish, list-published, render-feed, pull, ...).",
        |f| {
            for (id, plugin) in plugins(engine) {
                for (labels, h) in plugin.stats().metrics.duration.snapshot() {
                    f.histogram(&[("plugin", id), ("operation", &labels[0])], &h);
                }
            }
        },
    );
    e.family(
        "forecourt_plugin_traps_total",
        Kind::Counter,
        "Plugin calls stopped by a trap, timeout or limit, by plugin instance, operation and kind.",
        |f| {
            for (id, plugin) in plugins(engine) {
                for (labels, n) in plugin.stats().metrics.failures.snapshot() {
                    f.sample(
                        &[
                            ("plugin", id),
                            ("operation", &labels[0]),
                            ("kind", &labels[1]),
                        ],
                        n as f64,
                    );
                }
            }
        },
    );
    counter_family(
        &mut e,
        "forecourt_admin_requests_total",
        "Admin API requests by outcome (ok, unauthenticated, forbidden, client_error, server_error).",
        &["outcome"],
        &m.admin_requests,
    );
    Ok(e.finish())
}

/// Every plugin instance with the id it is configured under.
fn plugins(engine: &crate::sync::Engine) -> Vec<(&str, &crate::runtime::Plugin)> {
    engine
        .sources()
        .iter()
        .map(|s| (s.id.as_str(), &s.plugin))
        .chain(
            engine
                .platforms()
                .iter()
                .map(|p| (p.id.as_str(), &p.plugin)),
        )
        .collect()
}
