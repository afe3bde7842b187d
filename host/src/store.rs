//! The store: vehicles, listings, cursors, the job outbox, the audit trail and
//! plugin state, behind one trait.
//!
//! The engine never relies on being the only writer: every state change is a
//! transaction with its own guard (a compare on content hash, a job lease),
//! so a second backend where several hosts share one database (PostgreSQL,
//! claiming jobs with `FOR UPDATE SKIP LOCKED`) fits the same trait.

pub mod anchor;
pub mod audit;
pub mod checkpoint;
pub mod sqlite;

use crate::runtime::types::Vehicle;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use sqlite::SqliteStore;
pub use sqlite::{
    AccessRecord, AdminTokenRow, JobFilter, ListingFilter, NewTokenRow, VehicleFilter,
    VehicleSummary,
};

/// Store errors. The message names the operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("store: {op}: {source}")]
    Db {
        /// What was being done.
        op: &'static str,
        /// The database error.
        source: rusqlite::Error,
    },
    /// A stored record could not be decoded.
    #[error("store: {op}: corrupt record: {message}")]
    Corrupt {
        /// What was being done.
        op: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The change conflicts with what is stored (a name already in use).
    #[error("store: {op}: {message}")]
    Conflict {
        /// What was being done.
        op: &'static str,
        /// What conflicts.
        message: String,
    },
    /// Opening or migrating the database failed.
    #[error("store: cannot open {path}: {message}")]
    Open {
        /// The database file.
        path: String,
        /// Why.
        message: String,
    },
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One change from a source.
#[derive(Debug, Clone)]
pub enum Change {
    /// Insert or replace.
    Upsert(Box<Vehicle>),
    /// The DMS no longer has it.
    Remove(String),
}

/// A page of changes to store atomically with the cursor that follows it.
#[derive(Debug, Clone, Default)]
pub struct IngestBatch {
    /// The source id.
    pub source: String,
    /// The changes.
    pub changes: Vec<Change>,
    /// The cursor after this page (stored in the same transaction).
    pub next_cursor: Option<String>,
    /// The page belongs to a full snapshot.
    pub full_snapshot: bool,
    /// This is the first page of a snapshot (starts a new snapshot sequence).
    pub snapshot_start: bool,
    /// Per change, in order, the digest its source gave the row it came from
    /// (contract 1.2.0 `snapshot`); empty when the source gave none.
    pub digests: Vec<Option<String>>,
    /// Stock ids the source found unchanged since the digests it was handed:
    /// they are in this snapshot exactly as stored.
    pub unchanged: Vec<String>,
    /// What the digests were made under (plugin and configuration). A new
    /// epoch forgets the source's earlier digests.
    pub digest_epoch: Option<String>,
    /// The page ends a full snapshot: close it in the same transaction.
    pub close: Option<SnapshotRules>,
}

/// How a full snapshot is closed (see [`Store::close_snapshot`]).
#[derive(Debug, Clone, Copy)]
pub struct SnapshotRules {
    /// How long a vehicle may be missing before it counts as removed.
    pub grace_ms: i64,
    /// Largest share (0..1) of present stock one snapshot may remove.
    pub max_shrink: f64,
}

/// What an ingest changed.
#[derive(Debug, Default, Clone, Serialize)]
pub struct IngestSummary {
    /// New vehicles.
    pub created: usize,
    /// Vehicles whose content changed.
    pub updated: usize,
    /// Upserts identical to what was stored (no further work).
    pub unchanged: usize,
    /// Vehicles removed.
    pub removed: usize,
    /// The snapshot this page closed, if it closed one.
    pub snapshot: Option<SnapshotOutcome>,
}

/// Outcome of closing a full snapshot.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum SnapshotOutcome {
    /// Missing vehicles were marked (or are waiting out the grace period).
    Applied {
        /// Newly missing, inside the grace period.
        newly_missing: usize,
        /// Removed because missing longer than the grace period.
        removed: usize,
    },
    /// The snapshot would remove more than the threshold: nothing was removed.
    Held {
        /// Present stock before the snapshot.
        present: usize,
        /// How many the snapshot lacks.
        missing: usize,
    },
}

/// A stored vehicle.
#[derive(Debug, Clone)]
pub struct StoredVehicle {
    /// The canonical record.
    pub record: Vehicle,
    /// Its content hash.
    pub content_hash: String,
    /// Still in the DMS.
    pub present: bool,
    /// When this content was first seen.
    pub seen_at: i64,
    /// The source that owns it.
    pub source: String,
    /// Re-plan requests seen when it was read (0: none). Planning clears
    /// the request only if no newer one arrived meanwhile.
    pub plan_token: i64,
}

/// Desired versus published state of one vehicle on one platform.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ListingRow {
    /// Stock id.
    pub stock_id: String,
    /// Platform id.
    pub platform: String,
    /// live | reserved | absent
    pub desired_state: String,
    /// Hash of the desired listing body.
    pub desired_hash: Option<String>,
    /// The desired listing body.
    pub desired_body: Option<String>,
    /// none | live | reserved | removed
    pub published_state: String,
    /// Hash of what the platform acknowledged.
    pub published_hash: Option<String>,
    /// What the platform acknowledged.
    pub published_body: Option<String>,
    /// The platform's id.
    pub remote_id: Option<String>,
    /// pending | in-sync | blocked | dead
    pub lifecycle: String,
    /// Validation issues (JSON).
    pub issues: Option<String>,
    /// Last error message.
    pub last_error: Option<String>,
    /// Last error class.
    pub error_class: Option<String>,
    /// Delivery attempts of the current operation.
    pub attempts: i64,
    /// Bumped whenever reconciliation corrects the published state, so the
    /// corrective operation gets a new idempotency key.
    pub generation: i64,
    /// Last change.
    pub updated_at: i64,
}

/// The planner's verdict for one (vehicle, platform).
#[derive(Debug, Clone)]
pub struct PlannedListing {
    /// Stock id.
    pub stock_id: String,
    /// Platform id.
    pub platform: String,
    /// live | reserved | absent
    pub desired_state: String,
    /// Hash and body of the rendered listing (none when absent or blocked).
    pub desired: Option<(String, String)>,
    /// Validation issues (blocking if `blocked`).
    pub issues: Vec<crate::runtime::types::ValidationIssue>,
    /// Transform refused the vehicle: keep what is published, record why.
    pub blocked: bool,
    /// Operation to enqueue, if any.
    pub job: Option<NewJob>,
}

/// The plans of one vehicle for every platform.
#[derive(Debug, Clone)]
pub struct VehiclePlan {
    /// Stock id.
    pub stock_id: String,
    /// The content that was planned (empty for orphans the hub does not know).
    pub content_hash: String,
    /// [`StoredVehicle::plan_token`] of the record planned.
    pub plan_token: i64,
    /// One plan per platform.
    pub listings: Vec<PlannedListing>,
}

/// An operation to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// create | update | reserve | unreserve | remove
    pub kind: String,
    /// Unique per (platform, vehicle, operation, content).
    pub idempotency_key: String,
    /// 0 = sold/withdrawn removals, 1 = new stock, 2 = other updates.
    pub priority: i64,
    /// Earliest run time.
    pub run_at: i64,
    /// Hash of the listing the job publishes.
    pub listing_hash: Option<String>,
    /// When the DMS change behind it was seen.
    pub seen_at: i64,
}

/// A claimed job with what is needed to send it.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// Platform id.
    pub platform: String,
    /// Stock id.
    pub stock_id: String,
    /// Operation.
    pub kind: String,
    /// Idempotency key.
    pub idempotency_key: String,
    /// Attempts so far (including this one).
    pub attempts: i64,
    /// Hash of the listing to publish.
    pub listing_hash: Option<String>,
    /// When the DMS change was seen.
    pub seen_at: i64,
    /// State (for listings of jobs).
    pub state: String,
    /// Last error.
    pub last_error: Option<String>,
    /// Last error class.
    pub error_class: Option<String>,
    /// Priority.
    pub priority: i64,
    /// Earliest run time.
    pub run_at: i64,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone)]
pub enum JobOutcome {
    /// The platform acknowledged it.
    Done {
        /// The platform's id of the listing.
        remote_id: Option<String>,
    },
    /// Try again at `run_at`.
    Retry {
        /// When.
        run_at: i64,
        /// Error class.
        class: String,
        /// Message.
        message: String,
        /// Whether this attempt counts towards the maximum (rate limits and pauses do not).
        counts: bool,
    },
    /// Give up: dead-letter with the reason.
    Dead {
        /// Error class.
        class: String,
        /// Message.
        message: String,
    },
}

/// Per-platform counts for `status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlatformCounts {
    /// Platform id.
    pub platform: String,
    /// Listings live or reserved on the platform.
    pub published: i64,
    /// Listings waiting for an operation.
    pub pending: i64,
    /// Listings held back by validation.
    pub blocked: i64,
    /// Jobs waiting or running.
    pub queued: i64,
    /// Dead letters.
    pub dead: i64,
    /// Paused because of an auth error, with the reason.
    pub paused: Option<String>,
}

/// A vehicle that is sold or gone but still advertised somewhere.
#[derive(Debug, Clone, Serialize)]
pub struct Discrepancy {
    /// Stock id.
    pub stock_id: String,
    /// Why it should not be advertised (sold, withdrawn, removed).
    pub reason: String,
    /// Platforms still showing it.
    pub still_listed_on: Vec<String>,
    /// Platforms that have removed it.
    pub removed_from: Vec<String>,
}

/// What reconciliation saw on a platform for one vehicle.
#[derive(Debug, Clone)]
pub enum Observed {
    /// We believe it is published; the platform does not have it.
    Missing,
    /// The platform has it in this state (`live`, `reserved` or `removed`).
    Present {
        /// The platform's state, in our vocabulary.
        state: String,
        /// The platform's id.
        remote_id: String,
    },
}

/// The store's operations (data-quality state: [`crate::quality::QualityStore`]).
pub trait Store: Send + Sync + crate::quality::QualityStore {
    /// Record what reconciliation saw and make the planner look at the vehicle again.
    fn record_observed(
        &self,
        stock_id: &str,
        platform: &str,
        observed: &Observed,
        now: i64,
    ) -> StoreResult<()>;
    /// Store a page of changes and its cursor in one transaction.
    fn ingest(&self, batch: &IngestBatch, now: i64) -> StoreResult<IngestSummary>;
    /// Close a full snapshot of `source`: vehicles it did not mention become
    /// missing, and are removed after `grace_ms`, unless more than
    /// `max_shrink` (0..1) of the stock would go at once.
    fn close_snapshot(
        &self,
        source: &str,
        grace_ms: i64,
        max_shrink: f64,
        now: i64,
    ) -> StoreResult<SnapshotOutcome>;
    /// (stock id, row digest) of `source`'s present vehicles, if its digests
    /// were made under `epoch`; none otherwise.
    fn source_rows(&self, source: &str, epoch: &str) -> StoreResult<Vec<(String, String)>>;
    /// The cursor to continue `source` from.
    fn cursor(&self, source: &str) -> StoreResult<Option<String>>;
    /// Whether `source` is in the middle of a multi-page snapshot.
    fn snapshot_open(&self, source: &str) -> StoreResult<bool>;
    /// When `source` last completed a pull.
    fn last_success(&self, source: &str) -> StoreResult<Option<i64>>;
    /// Vehicles whose current content has not been planned yet.
    fn vehicles_to_plan(&self, limit: usize) -> StoreResult<Vec<StoredVehicle>>;
    /// Every present vehicle (for feeds and previews).
    fn present_vehicles(&self) -> StoreResult<Vec<StoredVehicle>>;
    /// One vehicle.
    fn vehicle(&self, stock_id: &str) -> StoreResult<Option<StoredVehicle>>;
    /// Listing state of a vehicle on a platform.
    fn listing(&self, stock_id: &str, platform: &str) -> StoreResult<Option<ListingRow>>;
    /// All listings of a platform.
    fn listings(&self, platform: &str) -> StoreResult<Vec<ListingRow>>;
    /// What a feed platform's feed holds: (stock id, desired body) of every
    /// listing meant to be advertised, by stock id.
    fn feed_listings(&self, platform: &str) -> StoreResult<Vec<(String, String)>>;
    /// What delivering jobs of `platform` for these vehicles needs, by stock
    /// id: the listing there and the stock status to send (withdrawn for a
    /// vehicle no longer present). One query per publish batch.
    fn delivery_rows(
        &self,
        platform: &str,
        stock_ids: &[&str],
    ) -> StoreResult<HashMap<String, (ListingRow, crate::runtime::types::StockStatus)>>;
    /// Listing states of these vehicles on every platform (one query for a
    /// planning batch instead of one per vehicle and platform).
    fn listings_of(&self, stock_ids: &[&str]) -> StoreResult<Vec<ListingRow>>;
    /// Record plans and enqueue their jobs, in one transaction; clears each
    /// vehicle's plan flag only if its content is still the planned hash.
    fn apply_plans(&self, plans: &[VehiclePlan], now: i64) -> StoreResult<()>;
    /// Claim up to `limit` due jobs of `platform` for `lease_ms`.
    fn claim_jobs(
        &self,
        platform: &str,
        worker: &str,
        limit: usize,
        lease_ms: i64,
        now: i64,
    ) -> StoreResult<Vec<Job>>;
    /// Record how claimed jobs ended, with their listings' state, in one transaction.
    fn finish_jobs(&self, results: &[(Job, JobOutcome)], now: i64) -> StoreResult<()>;
    /// Jobs waiting or leased.
    fn queue_depth(&self, platform: Option<&str>) -> StoreResult<i64>;
    /// Earliest `run_at` of a waiting job of `platform`.
    fn next_run_at(&self, platform: &str) -> StoreResult<Option<i64>>;
    /// Dead letters, newest first.
    fn dead_letters(&self, platform: Option<&str>) -> StoreResult<Vec<Job>>;
    /// Put a dead letter back in the queue.
    fn retry_dead(&self, job_id: i64, actor: &str, now: i64) -> StoreResult<bool>;
    /// Discard a dead letter.
    fn discard_dead(&self, job_id: i64, actor: &str, now: i64) -> StoreResult<bool>;
    /// Sold or removed vehicles still advertised somewhere.
    fn discrepancies(&self) -> StoreResult<Vec<Discrepancy>>;
    /// Per-platform counts.
    fn platform_counts(&self, platforms: &[String]) -> StoreResult<Vec<PlatformCounts>>;
    /// Pause or resume a platform.
    fn set_paused(&self, platform: &str, reason: Option<&str>, now: i64) -> StoreResult<()>;
    /// Why a platform is paused.
    fn paused(&self, platform: &str) -> StoreResult<Option<String>>;
    /// Append an audit entry.
    fn audit(&self, entry: &audit::AuditEntry, now: i64) -> StoreResult<()>;
    /// The newest audit entries.
    fn audit_tail(&self, limit: usize) -> StoreResult<Vec<audit::StoredAudit>>;
    /// Re-compute the hash chain.
    fn audit_verify(&self) -> StoreResult<audit::Verification>;
    /// How many vehicles wait for the planner, if the backend can tell cheaply (progress totals).
    fn plan_backlog(&self) -> StoreResult<Option<i64>> {
        Ok(None)
    }
}
