//! The sync engine: pull sources into the store, plan listings, deliver
//! operations to platforms, reconcile against what platforms show.
//!
//! Guarantees (see docs/sync.md): a cursor advances in the same transaction
//! as the records it covers; a vehicle's plan flag clears only for the
//! content that was planned; a job is marked done only after the platform
//! acknowledged it, in the same transaction as the listing's new published
//! state; a retry of a job carries the same idempotency key.

pub mod planner;
pub mod retry;
mod rows;

use crate::runtime::types::{ErrorClass, PluginError, Vehicle};
use crate::runtime::{platform_api as p, source_api as s, CallError, Plugin};
use crate::store::audit::AuditEntry;
use crate::store::{
    now_ms, Change, IngestBatch, Job, JobOutcome, SnapshotOutcome, SnapshotRules, Store,
    StoredVehicle, VehiclePlan,
};
use planner::{Rendered, Timing};
use retry::{class_name, CircuitBreaker, Decision, RetryPolicy, TokenBucket};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where a feed-file platform's feed goes.
#[derive(Debug, Clone)]
pub enum FeedOutput {
    /// Written atomically into this directory.
    Directory(PathBuf),
    /// Delivered by a transport (served over HTTP, uploaded by SFTP, ...).
    Sink(Arc<dyn crate::transport::FeedSink>),
}

/// One platform as the engine runs it.
pub struct PlatformSetup {
    /// Platform id (the plugin id unless configured otherwise).
    pub id: String,
    /// The plugin.
    pub plugin: Plugin,
    /// Its configuration (JSON).
    pub config: String,
    /// What it said in describe().
    pub info: p::PlatformInfo,
    /// Retry settings.
    pub retry: RetryPolicy,
    /// Sold-car delay and update window.
    pub timing: Timing,
    /// Feed destinations (feed-file platforms).
    pub feed_outputs: Vec<FeedOutput>,
    /// Requests per minute, overriding describe().
    pub rate_limit_per_minute: Option<u32>,
    /// Publish batches in flight at once.
    pub concurrency: usize,
}

impl PlatformSetup {
    fn is_feed(&self) -> bool {
        matches!(self.info.kind, p::PlatformKind::FeedFile)
    }
}

/// Where a document source's document comes from.
#[derive(Debug, Clone)]
pub enum DocumentSource {
    /// A file the host reads (the watched export path).
    File(PathBuf),
    /// Fetched by a transport (drop directory, URL, SFTP); see `transport`.
    Pickup(Arc<dyn crate::transport::Pickup>),
}

/// A source plugin answered a pull with an error (for an export file: it
/// cannot be parsed at all, and nothing was stored).
#[derive(Debug, thiserror::Error)]
#[error("source {source_id} pull failed ({class}): {message}")]
pub struct PullRefused {
    /// Source id.
    pub source_id: String,
    /// Error class name.
    pub class: &'static str,
    /// The plugin's message.
    pub message: String,
}

/// One source as the engine runs it.
pub struct SourceSetup {
    /// Source id.
    pub id: String,
    /// The plugin.
    pub plugin: Plugin,
    /// Its configuration (JSON).
    pub config: String,
    /// The document to hand to `pull`, for export-file sources.
    pub document: Option<DocumentSource>,
    /// How long a vehicle may be missing from snapshots before it counts as removed.
    pub snapshot_grace: Duration,
    /// Largest share of stock a single snapshot may remove (0..1).
    pub max_snapshot_shrink: f64,
    /// Time between scheduled pulls.
    pub interval: Duration,
    /// Pulled on schedule (false for a source driven by pushes only).
    pub pull_on_schedule: bool,
}

/// What one pull of a source did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct PullReport {
    /// Source id.
    pub source: String,
    /// Pages pulled.
    pub pages: usize,
    /// Totals.
    pub created: usize,
    /// Totals.
    pub updated: usize,
    /// Totals.
    pub unchanged: usize,
    /// Totals.
    pub removed: usize,
    /// Rows the source could not use.
    pub row_issues: Vec<String>,
    /// Outcome of a closed snapshot.
    pub snapshot: Option<SnapshotOutcome>,
}

/// What one delivery round did on one platform.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct DeliveryReport {
    /// Platform id.
    pub platform: String,
    /// Plugin calls (publish or render).
    pub calls: usize,
    /// Operations acknowledged.
    pub done: usize,
    /// Operations scheduled for retry.
    pub retried: usize,
    /// Operations dead-lettered.
    pub dead: usize,
    /// Operations skipped because a newer plan replaced them.
    pub superseded: usize,
    /// Milliseconds from the DMS change being seen to acknowledgement, per done operation.
    pub latencies_ms: Vec<i64>,
    /// Why delivery stopped early (paused, circuit open).
    pub held: Option<String>,
    /// Wall-clock milliseconds this platform's delivery took.
    pub elapsed_ms: f64,
}

struct PlatformRuntime {
    bucket: TokenBucket,
    breaker: CircuitBreaker,
}

/// The engine.
pub struct Engine {
    store: Arc<dyn Store>,
    sources: Vec<SourceSetup>,
    /// Shared with the tasks that render and deliver for each platform.
    platforms: Vec<Arc<PlatformSetup>>,
    state: Mutex<HashMap<String, PlatformRuntime>>,
    worker_id: String,
    stopping: std::sync::atomic::AtomicBool,
    metrics: Arc<crate::metrics::Metrics>,
    progress: Mutex<Option<Arc<dyn crate::progress::Progress>>>,
    /// Held for a whole cycle (scheduler turn, `sync_once`, a triggered
    /// reconcile), so work triggered from the admin API never interleaves
    /// with the scheduler's pulls of the same source.
    turn: tokio::sync::Mutex<()>,
    quality: crate::quality::Quality,
    /// Pricing rules applied to each vehicle before transform (docs/pricing.md).
    pricing: Option<Arc<crate::pricing::Pricing>>,
    /// The enricher run on each vehicle before transform.
    enricher: Option<crate::enrich::EnricherSetup>,
}

/// `rendered` with `notes` (the enricher's warnings) added to its issues.
pub fn with_warnings(
    rendered: Rendered,
    notes: Vec<crate::runtime::types::ValidationIssue>,
) -> Rendered {
    match rendered {
        Rendered::Listing {
            hash,
            body,
            mut warnings,
        } => {
            warnings.extend(notes);
            Rendered::Listing {
                hash,
                body,
                warnings,
            }
        }
        Rendered::Blocked(mut issues) => {
            issues.extend(notes);
            Rendered::Blocked(issues)
        }
        other => other,
    }
}

/// Vehicles planned per batch (and per transaction).
const PLAN_BATCH: usize = 500;

/// A vehicle checked for one platform, ready to transform.
struct Checked {
    verdict: crate::quality::Verdict,
    /// The enricher's warnings.
    notes: Vec<crate::runtime::types::ValidationIssue>,
}

/// Transform each platform's checked vehicles on a task of its own: the
/// transforms are CPU-bound sandboxed calls, and separate tasks let the
/// runtime spread platforms over the cores. Returns, per platform, one
/// rendering per vehicle in order.
async fn render_on_tasks(
    platforms: &[Arc<PlatformSetup>],
    checked: Vec<Vec<Option<Checked>>>,
) -> EngineResult<Vec<Vec<Rendered>>> {
    let tasks: Vec<_> = platforms
        .iter()
        .cloned()
        .zip(checked)
        .map(|(platform, checked)| {
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(checked.len());
                for checked in checked {
                    out.push(match checked {
                        None => Rendered::NotAdvertisable,
                        Some(Checked { verdict, notes }) => {
                            with_warnings(crate::quality::render(&platform, &verdict).await, notes)
                        }
                    });
                }
                out
            })
        })
        .collect();
    let mut rendered = Vec::with_capacity(tasks.len());
    for (task, platform) in tasks.into_iter().zip(platforms) {
        rendered.push(task.await.map_err(|e| {
            anyhow::anyhow!("transforming for platform {} failed: {e}", platform.id)
        })?);
    }
    Ok(rendered)
}

/// Errors that stop an engine step (store failures, plugin failures of describe or render).
pub type EngineResult<T> = anyhow::Result<T>;

/// A plugin call that failed (timeout, trap, limit) is retried like a
/// transient error: a hang may pass, and a plugin bug ends in the dead-letter
/// queue once the attempts run out, with the trap as the reason.
fn call_error_class(_: &CallError) -> ErrorClass {
    ErrorClass::Transient
}

impl Engine {
    /// An engine over `store` with these sources and platforms.
    pub fn new(
        store: Arc<dyn Store>,
        sources: Vec<SourceSetup>,
        platforms: Vec<PlatformSetup>,
    ) -> Self {
        let state = platforms
            .iter()
            .map(|p| {
                let per_minute = p
                    .rate_limit_per_minute
                    .or(p.info.rate_limit_per_minute)
                    .unwrap_or(6_000);
                (
                    p.id.clone(),
                    PlatformRuntime {
                        bucket: TokenBucket::new(per_minute, p.info.batch_size.max(1) * 2),
                        breaker: CircuitBreaker::new(5, Duration::from_secs(30)),
                    },
                )
            })
            .collect();
        Self {
            store,
            sources,
            platforms: platforms.into_iter().map(Arc::new).collect(),
            state: Mutex::new(state),
            worker_id: format!("{}-{}", std::process::id(), rand::random::<u32>()),
            stopping: std::sync::atomic::AtomicBool::new(false),
            metrics: Arc::default(),
            progress: Mutex::new(None),
            turn: tokio::sync::Mutex::new(()),
            quality: crate::quality::Quality::default(),
            pricing: None,
            enricher: None,
        }
    }

    /// What the engine counts (rendered at `/metrics`).
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.metrics
    }

    /// Report progress of long steps to `progress` (a terminal line), or stop reporting.
    pub fn set_progress(&self, progress: Option<Arc<dyn crate::progress::Progress>>) {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = progress;
    }

    fn report_progress(&self, task: &str, done: u64, total: Option<u64>) {
        if let Some(p) = &*self.progress.lock().unwrap_or_else(|e| e.into_inner()) {
            p.update(task, done, total);
        }
    }

    fn finish_progress(&self, task: &str) {
        if let Some(p) = &*self.progress.lock().unwrap_or_else(|e| e.into_inner()) {
            p.finish(task);
        }
    }

    /// Wait for the current cycle to end and hold off the next one while
    /// the guard lives (a reconcile triggered from the admin API).
    pub async fn exclusive(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }

    /// Use this quality pipeline (the default applies the built-in rules and measures no images).
    pub fn set_quality(&mut self, quality: crate::quality::Quality) {
        self.quality = quality;
    }

    /// The quality pipeline every listing passes before it is planned.
    pub fn quality(&self) -> &crate::quality::Quality {
        &self.quality
    }

    /// Apply pricing rules before transform.
    pub fn set_pricing(&mut self, pricing: Arc<crate::pricing::Pricing>) {
        self.pricing = Some(pricing);
    }

    /// The pricing rules in force.
    pub fn pricing(&self) -> Option<&Arc<crate::pricing::Pricing>> {
        self.pricing.as_ref()
    }

    /// Run this enricher on each vehicle before transform.
    pub fn set_enricher(&mut self, enricher: crate::enrich::EnricherSetup) {
        self.enricher = Some(enricher);
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Platform setups.
    pub fn platforms(&self) -> &[Arc<PlatformSetup>] {
        &self.platforms
    }

    /// Source setups.
    pub fn sources(&self) -> &[SourceSetup] {
        &self.sources
    }

    // ----- ingest -----

    /// Pull a source until it has no more pages right now.
    pub async fn pull(&self, source: &SourceSetup) -> EngineResult<PullReport> {
        let document = match &source.document {
            Some(DocumentSource::File(path)) => Some(std::fs::read(path).map_err(|e| {
                anyhow::anyhow!(
                    "source {}: cannot read export file {}: {e}",
                    source.id,
                    path.display()
                )
            })?),
            Some(DocumentSource::Pickup(pickup)) => {
                return crate::transport::pull::pull_pickup(self, source, pickup.as_ref()).await
            }
            None => None,
        };
        self.pull_document(source, document).await
    }

    /// Pull a source with this document (for export-file sources) until it
    /// has no more pages right now.
    pub async fn pull_document(
        &self,
        source: &SourceSetup,
        document: Option<Vec<u8>>,
    ) -> EngineResult<PullReport> {
        let mut report = PullReport {
            source: source.id.clone(),
            ..Default::default()
        };
        let refused = |e: PluginError| PullRefused {
            source_id: source.id.clone(),
            class: class_name(&e.class),
            message: e.message,
        };
        loop {
            let cursor = self.store.cursor(&source.id)?;
            let request = s::PullRequest {
                config: source.config.clone(),
                cursor: if document.is_some() { None } else { cursor },
                document: document.clone(),
            };
            let (page, rows) = if document.is_some() && source.plugin.has_snapshot() {
                // The source skips the rows whose digest it gave last time.
                let epoch = rows::epoch(source);
                let known = rows::known(self.store.source_rows(&source.id, &epoch)?);
                let answer = source
                    .plugin
                    .pull_snapshot(&request, &known)
                    .await?
                    .map_err(refused)?;
                rows::split(answer, known, epoch)
            } else {
                let page = source.plugin.pull(&request).await?.map_err(refused)?;
                (page, rows::RowDigests::default())
            };
            let more = self.ingest_rows(source, page, rows, &mut report)?;
            self.report_progress(
                &format!("pull {}", source.id),
                (report.created + report.updated + report.unchanged + report.removed) as u64,
                None,
            );
            if !more {
                break;
            }
        }
        self.finish_progress(&format!("pull {}", source.id));
        Ok(report)
    }

    /// Store one page (from a pull or a push); returns whether the source has more pages now.
    pub fn ingest_page(
        &self,
        source: &SourceSetup,
        page: s::PullPage,
        report: &mut PullReport,
    ) -> EngineResult<bool> {
        self.ingest_rows(source, page, rows::RowDigests::default(), report)
    }

    /// [`Engine::ingest_page`] with the row digests of a `snapshot` pull.
    fn ingest_rows(
        &self,
        source: &SourceSetup,
        page: s::PullPage,
        rows: rows::RowDigests,
        report: &mut PullReport,
    ) -> EngineResult<bool> {
        let now = now_ms();
        let snapshot_start = page.full_snapshot && !self.store.snapshot_open(&source.id)?;
        let closes = page.full_snapshot && !page.has_more;
        let changes = page
            .changes
            .into_iter()
            .map(|c| match c {
                s::Change::Upsert(v) => Change::Upsert(Box::new(v)),
                s::Change::Remove(id) => Change::Remove(id),
            })
            .collect();
        let summary = self.store.ingest(
            &IngestBatch {
                source: source.id.clone(),
                changes,
                next_cursor: page.next_cursor,
                full_snapshot: page.full_snapshot,
                snapshot_start,
                digests: rows.digests,
                unchanged: rows.unchanged,
                digest_epoch: rows.epoch,
                close: closes.then_some(SnapshotRules {
                    grace_ms: source.snapshot_grace.as_millis() as i64,
                    max_shrink: source.max_snapshot_shrink,
                }),
            },
            now,
        )?;
        report.pages += 1;
        report.created += summary.created;
        report.updated += summary.updated;
        report.unchanged += summary.unchanged;
        report.removed += summary.removed;
        for issue in &page.issues {
            // Row numbers, fields and reasons only: never the row's content.
            let line = format!(
                "record {}{}{}: {}",
                issue.record_number,
                issue
                    .stock_id
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
                issue
                    .field
                    .as_deref()
                    .map(|f| format!(", field {f}"))
                    .unwrap_or_default(),
                crate::pii::redact(&issue.message).0
            );
            tracing::warn!(source = %source.id, issue = %line, "Source record skipped.");
            report.row_issues.push(line);
        }
        if !page.issues.is_empty() {
            self.store.audit(
                &AuditEntry::new("ingest", &format!("source:{}", source.id))
                    .step("row-issues")
                    .error_class("validation")
                    .detail(serde_json::json!({
                        "records": page.issues.iter().map(|i| i.record_number).collect::<Vec<_>>(),
                    })),
                now,
            )?;
        }
        if let Some(outcome) = summary.snapshot {
            if let SnapshotOutcome::Held { present, missing } = &outcome {
                tracing::error!(source = %source.id, present, missing, "Snapshot would remove too much stock; held. Nothing was de-listed.");
            }
            report.snapshot = Some(outcome);
        }
        Ok(page.has_more)
    }

    // ----- plan -----

    /// Plan every vehicle whose content has not been planned yet.
    pub async fn plan(&self) -> EngineResult<usize> {
        self.plan_then(|| {}).await
    }

    /// [`Engine::plan`], calling `committed` after each batch of plans (and
    /// its jobs) is stored, so delivery can start on it at once.
    async fn plan_then(&self, committed: impl Fn()) -> EngineResult<usize> {
        let mut planned = 0;
        if let Some(pricing) = &self.pricing {
            // Thresholds crossed since the last sweep reprice (and replan) vehicles.
            pricing.sweep_if_due(now_ms())?;
        }
        let total = self.store.plan_backlog()?.map(|n| n as u64);
        loop {
            let batch = self.store.vehicles_to_plan(PLAN_BATCH)?;
            if batch.is_empty() {
                self.finish_progress("plan");
                return Ok(planned);
            }
            let plans = self.plan_batch(batch).await?;
            planned += plans.len();
            committed();
            self.report_progress("plan", planned as u64, total.map(|t| t.max(planned as u64)));
        }
    }

    /// Plan one batch of vehicles and store the plans. The host's steps
    /// (price, quality, enrichment) run here in order; the platforms'
    /// transforms, the costly part, run on a task per platform.
    async fn plan_batch(&self, batch: Vec<StoredVehicle>) -> EngineResult<Vec<VehiclePlan>> {
        let now = now_ms();
        // The advertised price, decided once for every platform.
        let priced = match &self.pricing {
            Some(pricing) => pricing.priced_batch(&batch, now)?,
            None => batch.iter().map(|v| v.record.clone()).collect(),
        };
        // Quality checks run before the planner emits any operation.
        let mut gate = crate::quality::Gate::open(&self.quality, self.store.as_ref(), &batch)?;
        let mut vehicles = Vec::with_capacity(batch.len());
        // Per platform, per vehicle: what to transform (None: not advertised).
        let mut checked: Vec<Vec<Option<Checked>>> = self
            .platforms
            .iter()
            .map(|_| Vec::with_capacity(batch.len()))
            .collect();
        for (mut vehicle, record) in batch.into_iter().zip(priced) {
            // Checked, enriched and sent with the advertised price.
            vehicle.record = record;
            let prepared = gate.prepare(&vehicle);
            let mut regressed = false;
            for (platform, checked) in self.platforms.iter().zip(&mut checked) {
                checked.push(match &prepared {
                    None => None,
                    Some(prepared) => {
                        let (enriched, notes) = self.enrich_for(platform, prepared).await;
                        let verdict = gate.check(&enriched, platform);
                        regressed |= crate::quality::gate::regressed(&verdict);
                        Some(Checked { verdict, notes })
                    }
                });
            }
            if let Some(prepared) = &prepared {
                gate.accept_mileage(prepared, regressed);
            }
            vehicles.push(vehicle);
        }
        let rendered = render_on_tasks(&self.platforms, checked).await?;
        let ids: Vec<&str> = vehicles
            .iter()
            .map(|v| v.record.stock_id.as_str())
            .collect();
        let mut current: HashMap<(String, String), crate::store::ListingRow> = self
            .store
            .listings_of(&ids)?
            .into_iter()
            .map(|l| ((l.stock_id.clone(), l.platform.clone()), l))
            .collect();
        let mut rendered: Vec<_> = rendered.into_iter().map(Vec::into_iter).collect();
        let plans: Vec<VehiclePlan> = vehicles
            .into_iter()
            .map(|vehicle| {
                let listings = self
                    .platforms
                    .iter()
                    .zip(&mut rendered)
                    .map(|(platform, rendered)| {
                        let key = (vehicle.record.stock_id.clone(), platform.id.clone());
                        planner::plan(
                            &vehicle,
                            &platform.id,
                            current.remove(&key).as_ref(),
                            rendered.next().expect("one rendering per vehicle"),
                            platform.timing,
                            now,
                        )
                    })
                    .collect();
                VehiclePlan {
                    stock_id: vehicle.record.stock_id.clone(),
                    content_hash: vehicle.content_hash.clone(),
                    plan_token: vehicle.plan_token,
                    listings,
                }
            })
            .collect();
        // One transaction per batch: planning 10,000 vehicles is 20 commits, not 10,000.
        self.store.apply_plans(&plans, now)?;
        gate.finish(self.store.as_ref(), now)?;
        Ok(plans)
    }

    /// Check and transform one vehicle for a platform as planning would
    /// (hub-only data removed, quality rules applied), without side effects.
    pub async fn render(
        &self,
        platform: &PlatformSetup,
        vehicle: &Vehicle,
        advertisable: bool,
    ) -> EngineResult<Rendered> {
        if !advertisable {
            return Ok(Rendered::NotAdvertisable);
        }
        let prepared = self.quality.prepare(vehicle);
        let (prepared, notes) = self.enrich_for(platform, &prepared).await;
        let facts = crate::quality::Facts {
            today: Some(crate::quality::gate::uk_today()),
            ..Default::default()
        };
        let verdict = self
            .quality
            .check(&prepared, &platform.id, &platform.info, &facts);
        Ok(with_warnings(
            crate::quality::render(platform, &verdict).await,
            notes,
        ))
    }

    /// The prepared vehicle with the enricher's additions for `platform`
    /// (unchanged without an enricher), and warnings when it failed. Runs
    /// before the quality checks, so enriched fields are validated too.
    pub async fn enrich_for<'a>(
        &self,
        platform: &PlatformSetup,
        prepared: &'a crate::quality::Prepared,
    ) -> (
        std::borrow::Cow<'a, crate::quality::Prepared>,
        Vec<crate::runtime::types::ValidationIssue>,
    ) {
        let Some(enricher) = &self.enricher else {
            return (std::borrow::Cow::Borrowed(prepared), Vec::new());
        };
        let limit = platform.info.max_description_length;
        let mut out = prepared.clone();
        let (vehicle, mut notes) = enricher
            .enrich(&platform.id, limit, prepared.vehicle.clone())
            .await;
        // The unstripped copy (sent where the personal-data rule is off) is
        // the same vehicle unless personal data was stripped.
        out.unstripped = if prepared.unstripped == prepared.vehicle {
            vehicle.clone()
        } else {
            let (unstripped, more) = enricher
                .enrich(&platform.id, limit, prepared.unstripped.clone())
                .await;
            notes.extend(more);
            unstripped
        };
        out.vehicle = vehicle;
        (std::borrow::Cow::Owned(out), notes)
    }

    // ----- deliver -----

    /// Deliver due operations of one platform until none are due (or it is held).
    pub async fn deliver(&self, platform: &PlatformSetup) -> EngineResult<DeliveryReport> {
        let mut report = DeliveryReport {
            platform: platform.id.clone(),
            ..Default::default()
        };
        let task = format!("deliver {}", platform.id);
        let reporting = self
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        let total = if reporting {
            self.store.queue_depth(Some(&platform.id))? as u64
        } else {
            0
        };
        let started = std::time::Instant::now();
        let result = self.deliver_loop(platform, &mut report, &task, total).await;
        report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.finish_progress(&task);
        result.map(|()| report)
    }

    async fn deliver_loop(
        &self,
        platform: &PlatformSetup,
        report: &mut DeliveryReport,
        task: &str,
        total: u64,
    ) -> EngineResult<()> {
        loop {
            let finished = (report.done + report.retried + report.dead) as u64;
            if total > 0 {
                self.report_progress(task, finished, Some(total.max(finished)));
            }
            if self.is_stopping() {
                report.held = Some("shutting down".into());
                return Ok(());
            }
            if let Some(reason) = self.store.paused(&platform.id)? {
                report.held = Some(format!("paused: {reason}"));
                return Ok(());
            }
            let wait = self.with_runtime(&platform.id, |rt| rt.breaker.wait());
            if !wait.is_zero() {
                report.held = Some(format!("circuit open for {} ms", wait.as_millis()));
                return Ok(());
            }
            let batch = platform.info.batch_size.max(1) as usize;
            let limit = if platform.is_feed() {
                1_000_000
            } else {
                batch * platform.concurrency.max(1)
            };
            let now = now_ms();
            let lease = platform.plugin.manifest().limits.call_timeout_ms as i64 * 3 + 30_000;
            let jobs = self
                .store
                .claim_jobs(&platform.id, &self.worker_id, limit, lease, now)?;
            if jobs.is_empty() {
                return Ok(());
            }
            if platform.is_feed() {
                self.deliver_feed(platform, jobs, report).await?;
            } else {
                // Up to `concurrency` batches in flight at once, each in its
                // own plugin instance; priorities hold because jobs were
                // claimed in priority order and chunked in that order. The
                // outcomes of all of them are stored in one transaction.
                let chunks: Vec<Vec<Job>> = jobs.chunks(batch).map(<[Job]>::to_vec).collect();
                let parts = futures::future::join_all(chunks.into_iter().map(|chunk| async {
                    let mut part = DeliveryReport::default();
                    self.deliver_api(platform, chunk, &mut part)
                        .await
                        .map(|outcomes| (part, outcomes))
                }))
                .await;
                let mut outcomes = Vec::new();
                let mut failed = None;
                for part in parts {
                    match part {
                        Ok((part, part_outcomes)) => {
                            report.absorb(part);
                            outcomes.extend(part_outcomes);
                        }
                        Err(e) => failed = Some(e),
                    }
                }
                // What was answered is stored even when another batch failed.
                self.finish(outcomes, report)?;
                if let Some(e) = failed {
                    return Err(e);
                }
            }
        }
    }

    fn with_runtime<T>(&self, platform: &str, f: impl FnOnce(&mut PlatformRuntime) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(state
            .get_mut(platform)
            .expect("every platform has runtime state"))
    }

    /// Send one batch; returns the outcomes for [`Self::finish`] to store.
    async fn deliver_api(
        &self,
        platform: &PlatformSetup,
        jobs: Vec<Job>,
        report: &mut DeliveryReport,
    ) -> EngineResult<Vec<(Job, JobOutcome)>> {
        // Rate limit: one token per operation.
        loop {
            match self.with_runtime(&platform.id, |rt| rt.bucket.take(jobs.len() as u32)) {
                Ok(()) => break,
                Err(wait) => tokio::time::sleep(wait.min(Duration::from_secs(5))).await,
            }
        }
        let mut operations = Vec::with_capacity(jobs.len());
        let mut sent = Vec::with_capacity(jobs.len());
        let mut results: Vec<(Job, JobOutcome)> = Vec::with_capacity(jobs.len());
        let ids: Vec<&str> = jobs.iter().map(|j| j.stock_id.as_str()).collect();
        let rows = self.store.delivery_rows(&platform.id, &ids)?;
        for job in jobs {
            let Some((listing, status)) = rows.get(&job.stock_id) else {
                let outcome = JobOutcome::Dead {
                    class: "permanent".into(),
                    message: "listing state missing".into(),
                };
                results.push((job, outcome));
                continue;
            };
            let body = if job.kind == "remove" {
                None
            } else if listing.desired_hash == job.listing_hash {
                listing.desired_body.clone()
            } else {
                // A newer plan replaced this one while it waited.
                results.push((job, JobOutcome::Done { remote_id: None }));
                report.superseded += 1;
                continue;
            };
            operations.push(p::Operation {
                status: *status,
                kind: match job.kind.as_str() {
                    "create" => p::OperationKind::Create,
                    "update" => p::OperationKind::Update,
                    "reserve" => p::OperationKind::Reserve,
                    "unreserve" => p::OperationKind::Unreserve,
                    _ => p::OperationKind::Remove,
                },
                idempotency_key: job.idempotency_key.clone(),
                stock_id: job.stock_id.clone(),
                remote_id: listing.remote_id.clone(),
                listing: body.map(|body| p::Listing {
                    stock_id: job.stock_id.clone(),
                    body,
                }),
                previous: listing.published_body.clone().map(|body| p::Listing {
                    stock_id: job.stock_id.clone(),
                    body,
                }),
            });
            sent.push(job);
        }
        if operations.is_empty() {
            return Ok(results);
        }
        report.calls += 1;
        self.store.audit(
            &AuditEntry::new("transmit", "engine")
                .platform(&platform.id)
                .step("publish")
                .detail(serde_json::json!({"operations": operations.len(), "keys": sent.iter().map(|j| j.idempotency_key.clone()).collect::<Vec<_>>()})),
            now_ms(),
        )?;
        // The call runs on a task of its own, so the batches in flight for
        // a platform execute on every core, not only on this task's.
        let (plugin, config) = (platform.plugin.clone(), platform.config.clone());
        let outcome = tokio::spawn(async move { plugin.publish(&config, &operations).await })
            .await
            .map_err(|e| {
                anyhow::anyhow!("the publish task of platform {} failed: {e}", platform.id)
            })?;
        let mut any_transient = false;
        let mut any_answer = false;
        let mut rng = rand::rng();
        let answers: HashMap<String, Result<String, PluginError>> = match outcome {
            Ok(Ok(results)) => results
                .into_iter()
                .map(|r| (r.idempotency_key, r.outcome))
                .collect(),
            Ok(Err(batch_error)) => sent
                .iter()
                .map(|j| (j.idempotency_key.clone(), Err(batch_error.clone())))
                .collect(),
            Err(call_error) => {
                let error = PluginError {
                    class: call_error_class(&call_error),
                    message: call_error.to_string(),
                    retry_after_ms: None,
                    field: None,
                };
                sent.iter()
                    .map(|j| (j.idempotency_key.clone(), Err(error.clone())))
                    .collect()
            }
        };
        for job in &sent {
            let result = answers
                .get(&job.idempotency_key)
                .cloned()
                .unwrap_or_else(|| {
                    Err(PluginError {
                        class: ErrorClass::Transient,
                        message: "the plugin returned no result for this operation".into(),
                        retry_after_ms: None,
                        field: None,
                    })
                });
            let outcome = match result {
                Ok(remote_id) => {
                    any_answer = true;
                    JobOutcome::Done {
                        remote_id: Some(remote_id),
                    }
                }
                Err(error) => {
                    let retry_after = error.retry_after_ms.map(Duration::from_millis);
                    if matches!(error.class, ErrorClass::Transient) {
                        any_transient = true;
                    } else {
                        any_answer = true;
                    }
                    if let (ErrorClass::RateLimited, Some(after)) = (&error.class, retry_after) {
                        self.with_runtime(&platform.id, |rt| rt.bucket.block_for(after));
                    }
                    let message = match &error.field {
                        Some(field) => format!("{field}: {}", error.message),
                        None => error.message.clone(),
                    };
                    let class = class_name(&error.class).to_string();
                    match platform.retry.decide(
                        &error.class,
                        retry_after,
                        job.attempts as u32,
                        &mut rng,
                    ) {
                        Decision::Retry { after, counts } => JobOutcome::Retry {
                            run_at: now_ms() + after.as_millis() as i64,
                            class,
                            message,
                            counts,
                        },
                        Decision::Pause => {
                            self.store
                                .set_paused(&platform.id, Some(&message), now_ms())?;
                            tracing::error!(platform = %platform.id, "Platform refused our credentials; paused until an operator resumes it.");
                            JobOutcome::Retry {
                                run_at: now_ms(),
                                class,
                                message,
                                counts: false,
                            }
                        }
                        Decision::Dead => JobOutcome::Dead { class, message },
                    }
                }
            };
            results.push((job.clone(), outcome));
        }
        self.with_runtime(&platform.id, |rt| {
            if any_transient && !any_answer {
                rt.breaker.failure();
            } else {
                rt.breaker.success();
            }
        });
        Ok(results)
    }

    async fn deliver_feed(
        &self,
        platform: &PlatformSetup,
        jobs: Vec<Job>,
        report: &mut DeliveryReport,
    ) -> EngineResult<()> {
        let listings: Vec<p::Listing> = self
            .store
            .feed_listings(&platform.id)?
            .into_iter()
            .map(|(stock_id, body)| p::Listing { stock_id, body })
            .collect();
        report.calls += 1;
        let rendered = platform
            .plugin
            .render_feed(&platform.config, &listings)
            .await;
        let failure = match rendered {
            Ok(Ok(feed)) => {
                let mut error = None;
                for output in &platform.feed_outputs {
                    match output {
                        FeedOutput::Directory(dir) => {
                            if let Err(e) =
                                crate::files::write_atomic(&dir.join(&feed.file_name), &feed.body)
                            {
                                error = Some(PluginError {
                                    class: ErrorClass::Transient,
                                    message: format!("{e:#}"),
                                    retry_after_ms: None,
                                    field: None,
                                });
                            }
                        }
                        FeedOutput::Sink(sink) => {
                            let file = crate::transport::FeedFile {
                                file_name: &feed.file_name,
                                content_type: &feed.content_type,
                                body: &feed.body,
                            };
                            if let Err(e) = sink.deliver(file).await {
                                tracing::warn!(platform = %platform.id, to = %sink.describe(), class = class_name(&e.class), error = %e, "Feed delivery failed.");
                                error = Some(e.to_plugin_error());
                            }
                        }
                    }
                }
                error
            }
            Ok(Err(e)) => Some(e),
            Err(e) => Some(PluginError {
                class: call_error_class(&e),
                message: e.to_string(),
                retry_after_ms: None,
                field: None,
            }),
        };
        let mut rng = rand::rng();
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            let outcome = match &failure {
                None => JobOutcome::Done { remote_id: None },
                Some(e) => {
                    match platform
                        .retry
                        .decide(&e.class, None, job.attempts as u32, &mut rng)
                    {
                        Decision::Retry { after, counts } => JobOutcome::Retry {
                            run_at: now_ms() + after.as_millis() as i64,
                            class: class_name(&e.class).into(),
                            message: e.message.clone(),
                            counts,
                        },
                        // Credentials or host key refused by a feed
                        // destination: keep the job, pause like an API platform.
                        Decision::Pause => {
                            self.store
                                .set_paused(&platform.id, Some(&e.message), now_ms())?;
                            JobOutcome::Retry {
                                run_at: now_ms(),
                                class: class_name(&e.class).into(),
                                message: e.message.clone(),
                                counts: false,
                            }
                        }
                        Decision::Dead => JobOutcome::Dead {
                            class: class_name(&e.class).into(),
                            message: e.message.clone(),
                        },
                    }
                }
            };
            results.push((job, outcome));
        }
        self.finish(results, report)
    }

    /// Record the outcomes of one batch in one transaction.
    fn finish(
        &self,
        results: Vec<(Job, JobOutcome)>,
        report: &mut DeliveryReport,
    ) -> EngineResult<()> {
        if results.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        self.store.finish_jobs(&results, now)?;
        self.metrics.record_results(&results, now);
        for (job, outcome) in &results {
            match outcome {
                JobOutcome::Done { .. } => {
                    report.done += 1;
                    report.latencies_ms.push(now - job.seen_at);
                }
                JobOutcome::Retry { .. } => report.retried += 1,
                JobOutcome::Dead { .. } => report.dead += 1,
            }
        }
        Ok(())
    }

    // ----- reconcile -----

    /// Compare what an API platform shows with the store and plan corrective
    /// operations: missing (we think it is listed, it is not), stale (listed
    /// in another state), orphaned (listed, but sold, removed or unknown).
    pub async fn reconcile(&self, platform: &PlatformSetup) -> EngineResult<ReconcileReport> {
        let mut report = ReconcileReport {
            platform: platform.id.clone(),
            ..Default::default()
        };
        if platform.is_feed() {
            report.skipped = Some("feed platforms are rebuilt whole on every change".into());
            return Ok(report);
        }
        let mut seen: HashMap<String, p::PublishedItem> = HashMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = platform
                .plugin
                .list_published(&platform.config, cursor.as_deref())
                .await?
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{}: list-published failed ({}): {}",
                        platform.id,
                        class_name(&e.class),
                        e.message
                    )
                })?;
            report.pages += 1;
            self.report_progress(
                &format!("reconcile {}", platform.id),
                report.pages as u64,
                None,
            );
            for item in page.items {
                seen.insert(item.stock_id.clone(), item);
            }
            match page.next_cursor {
                Some(next) if report.pages < 10_000 => cursor = Some(next),
                _ => break,
            }
        }
        let now = now_ms();
        let state_name = |s: &p::PublishedState| match s {
            p::PublishedState::Live => "live",
            p::PublishedState::Reserved => "reserved",
            p::PublishedState::Sold | p::PublishedState::Removed => "removed",
        };
        let listings = self.store.listings(&platform.id)?;
        let known: HashMap<&str, &crate::store::ListingRow> =
            listings.iter().map(|l| (l.stock_id.as_str(), l)).collect();
        for l in &listings {
            let ours = l.published_state.as_str();
            let on_platform = seen.get(&l.stock_id).map(|i| state_name(&i.state));
            match (ours, on_platform) {
                ("live" | "reserved", None) => {
                    report.missing.push(l.stock_id.clone());
                    self.store.record_observed(
                        &l.stock_id,
                        &platform.id,
                        &crate::store::Observed::Missing,
                        now,
                    )?;
                }
                (ours, Some(theirs))
                    if ours != theirs && !(ours == "none" && theirs == "removed") =>
                {
                    let item = &seen[&l.stock_id];
                    if l.desired_state == "absent" && theirs != "removed" {
                        report.orphaned.push(l.stock_id.clone());
                    } else {
                        report.stale.push(l.stock_id.clone());
                    }
                    self.store.record_observed(
                        &l.stock_id,
                        &platform.id,
                        &crate::store::Observed::Present {
                            state: theirs.into(),
                            remote_id: item.remote_id.clone(),
                        },
                        now,
                    )?;
                }
                _ => {}
            }
        }
        for (stock_id, item) in &seen {
            if known.contains_key(stock_id.as_str()) || state_name(&item.state) == "removed" {
                continue;
            }
            report.orphaned.push(stock_id.clone());
            self.store.record_observed(
                stock_id,
                &platform.id,
                &crate::store::Observed::Present {
                    state: state_name(&item.state).into(),
                    remote_id: item.remote_id.clone(),
                },
                now,
            )?;
            if self.store.vehicle(stock_id)?.is_none() {
                // Unknown to the hub altogether: nothing to plan from, remove it.
                self.store.apply_plans(
                    &[VehiclePlan {
                        stock_id: stock_id.clone(),
                        content_hash: String::new(),
                        plan_token: 0,
                        listings: vec![planner::orphan_removal(stock_id, &platform.id, now)],
                    }],
                    now,
                )?;
            }
        }
        self.finish_progress(&format!("reconcile {}", platform.id));
        self.metrics.record_reconcile(&report);
        report.planned = self.plan().await?;
        Ok(report)
    }

    // ----- scheduler -----

    /// Stop taking new work: delivery loops end after their current batch.
    pub fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether [`Engine::stop`] was called.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Run until stopped: pull each source on its interval, plan, deliver
    /// whatever is due on every platform, reconcile API platforms every
    /// `reconcile_every`. Errors of one step are logged and retried on the
    /// next turn; they never stop the loop.
    pub async fn run(self: &Arc<Self>, reconcile_every: Duration) {
        let start = tokio::time::Instant::now();
        let mut next_pull: Vec<tokio::time::Instant> = vec![start; self.sources.len()];
        let mut next_reconcile = start + reconcile_every;
        while !self.is_stopping() {
            let turn = self.turn.lock().await;
            let mut failed = false;
            let now = tokio::time::Instant::now();
            for (i, source) in self.sources.iter().enumerate() {
                if now >= next_pull[i] && !self.is_stopping() && source.pull_on_schedule {
                    let pulled = self.pull(source).await;
                    self.metrics.record_pull(&source.id, pulled.is_ok());
                    match pulled {
                        Ok(report) => tracing::info!(
                            source = %source.id,
                            created = report.created,
                            updated = report.updated,
                            removed = report.removed,
                            row_issues = report.row_issues.len(),
                            "Source pulled."
                        ),
                        Err(error) => {
                            failed = true;
                            tracing::error!(source = %source.id, error = %format!("{error:#}"), "Source pull failed; trying again next interval.")
                        }
                    }
                    next_pull[i] = now + source.interval;
                }
            }
            let round = self.plan_and_deliver().await;
            if let Err(error) = round.planned {
                failed = true;
                tracing::error!(error = %format!("{error:#}"), "Planning failed; trying again.");
            }
            for (platform, result) in self.platforms.iter().zip(round.deliveries) {
                if let Err(error) = result {
                    failed = true;
                    tracing::error!(platform = %platform.id, error = %format!("{error:#}"), "Delivery failed; trying again.");
                }
            }
            if now >= next_reconcile && !self.is_stopping() {
                for platform in &self.platforms {
                    if let Err(error) = self.reconcile(platform).await {
                        failed = true;
                        tracing::error!(platform = %platform.id, error = %format!("{error:#}"), "Reconciliation failed.");
                    }
                }
                next_reconcile = now + reconcile_every;
            }
            self.metrics.record_cycle(!failed);
            drop(turn);
            // Sleep until the next pull or the next due operation, at most a second.
            let mut wait = Duration::from_secs(1);
            for (at, source) in next_pull.iter().zip(&self.sources) {
                if source.pull_on_schedule {
                    wait = wait.min(at.saturating_duration_since(tokio::time::Instant::now()));
                }
            }
            for platform in &self.platforms {
                if let Ok(Some(at)) = self.store.next_run_at(&platform.id) {
                    wait = wait.min(Duration::from_millis((at - now_ms()).max(0) as u64));
                }
            }
            tokio::time::sleep(wait.max(Duration::from_millis(20))).await;
        }
    }

    // ----- cycle -----

    /// One full cycle: pull every source, plan, deliver everything due.
    pub async fn sync_once(self: &Arc<Self>) -> EngineResult<CycleReport> {
        let _turn = self.turn.lock().await;
        let result = self.cycle().await;
        self.metrics.record_cycle(result.is_ok());
        result
    }

    async fn cycle(self: &Arc<Self>) -> EngineResult<CycleReport> {
        let mut report = CycleReport::default();
        let started = std::time::Instant::now();
        for source in self.sources.iter().filter(|s| s.pull_on_schedule) {
            let pulled = self.pull(source).await;
            self.metrics.record_pull(&source.id, pulled.is_ok());
            report.pulls.push(pulled?);
        }
        report.timings.pull_ms = elapsed_ms(started);
        let round = self.plan_and_deliver().await;
        report.timings.plan_ms = round.plan_ms;
        report.timings.deliver_ms = round.deliver_ms;
        report.planned = round.planned?;
        for (platform, delivered) in self.platforms.iter().zip(round.deliveries) {
            report
                .deliveries
                .push(delivered.map_err(|e| e.context(format!("delivery to {}", platform.id)))?);
        }
        // The audit head goes to the logs too, so a copy of the anchor lives
        // wherever they are shipped (store/anchor.rs).
        if let Ok(Some(head)) = self.store.audit_tail(1).map(|t| t.into_iter().next()) {
            tracing::info!(audit_seq = head.seq, audit_hash = %head.hash, "audit head");
        }
        Ok(report)
    }

    /// Plan, and deliver on every platform while planning goes on. Each
    /// platform has a task of its own (a slow or failing platform never
    /// holds up the others). An API platform takes each batch of operations
    /// as soon as its plans are committed, so the first cars are on their
    /// way while the rest of the stock is still being planned; a feed
    /// platform renders once planning is over, so a feed never goes out
    /// half planned. Delivery finishes what was planned even when planning
    /// fails part way (those plans are committed and stand).
    pub async fn plan_and_deliver(self: &Arc<Self>) -> PlanAndDeliver {
        let started = std::time::Instant::now();
        let (progress, planning) = tokio::sync::watch::channel(Planning::Running);
        let tasks: Vec<_> = (0..self.platforms.len())
            .map(|index| {
                let engine = self.clone();
                let planning = planning.clone();
                tokio::spawn(async move { engine.deliver_as_planned(index, planning).await })
            })
            .collect();
        let planned = self
            .plan_then(|| {
                progress.send_replace(Planning::Running);
            })
            .await;
        let plan_ms = elapsed_ms(started);
        progress.send_replace(Planning::Over);
        let mut deliveries = Vec::with_capacity(tasks.len());
        for (task, platform) in tasks.into_iter().zip(&self.platforms) {
            deliveries.push(task.await.unwrap_or_else(|e| {
                Err(anyhow::anyhow!(
                    "the delivery task of platform {} failed: {e}",
                    platform.id
                ))
            }));
        }
        PlanAndDeliver {
            planned,
            deliveries,
            plan_ms,
            deliver_ms: elapsed_ms(started),
        }
    }

    /// Deliver one platform's operations as planning commits them, until
    /// planning is over and nothing due is left.
    async fn deliver_as_planned(
        &self,
        index: usize,
        mut planning: tokio::sync::watch::Receiver<Planning>,
    ) -> EngineResult<DeliveryReport> {
        let platform = &self.platforms[index];
        let started = std::time::Instant::now();
        let mut total = DeliveryReport {
            platform: platform.id.clone(),
            ..Default::default()
        };
        let mut over = false;
        loop {
            // Read before delivering: a batch committed during this round
            // marks the channel changed, so it gets a round of its own.
            over |= *planning.borrow_and_update() == Planning::Over;
            if over || !platform.is_feed() {
                total.absorb(self.deliver(platform).await?);
            }
            if over {
                break;
            }
            // A dropped sender means planning ended (its future was
            // dropped): one last round, then stop.
            over = planning.changed().await.is_err();
        }
        total.elapsed_ms = elapsed_ms(started);
        Ok(total)
    }
}

/// Where planning is, as delivery tasks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Planning {
    /// More batches may come; sent again after each committed batch.
    Running,
    /// No more batches this round.
    Over,
}

/// What [`Engine::plan_and_deliver`] did.
#[derive(Debug)]
pub struct PlanAndDeliver {
    /// Vehicles planned, or why planning stopped.
    pub planned: EngineResult<usize>,
    /// Per platform, in configuration order.
    pub deliveries: Vec<EngineResult<DeliveryReport>>,
    /// Milliseconds planning took.
    pub plan_ms: f64,
    /// Milliseconds until the last platform finished (delivery overlaps planning).
    pub deliver_ms: f64,
}

fn elapsed_ms(since: std::time::Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

impl DeliveryReport {
    /// Add the counts of another round (or batch) of the same platform.
    fn absorb(&mut self, round: DeliveryReport) {
        self.calls += round.calls;
        self.done += round.done;
        self.retried += round.retried;
        self.dead += round.dead;
        self.superseded += round.superseded;
        self.latencies_ms.extend(round.latencies_ms);
        if round.held.is_some() {
            self.held = round.held;
        }
    }
}

/// What reconciliation found on one platform.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ReconcileReport {
    /// Platform id.
    pub platform: String,
    /// Pages read back.
    pub pages: usize,
    /// Published per the store, absent on the platform.
    pub missing: Vec<String>,
    /// Listed in another state than the store says.
    pub stale: Vec<String>,
    /// Listed, but sold, removed or unknown to the hub.
    pub orphaned: Vec<String>,
    /// Vehicles re-planned as a result.
    pub planned: usize,
    /// Why nothing was done.
    pub skipped: Option<String>,
}

/// What a cycle did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct CycleReport {
    /// Per source.
    pub pulls: Vec<PullReport>,
    /// Vehicles planned.
    pub planned: usize,
    /// Per platform.
    pub deliveries: Vec<DeliveryReport>,
    /// Where the time went.
    pub timings: CycleTimings,
}

/// Wall-clock time of a cycle's steps, in milliseconds.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct CycleTimings {
    /// Pulling and ingesting every scheduled source.
    pub pull_ms: f64,
    /// Quality, transform and planning.
    pub plan_ms: f64,
    /// From the start of planning until every platform finished delivering
    /// (delivery runs beside planning, so this includes `plan_ms`).
    pub deliver_ms: f64,
}
