//! The embedded SQLite store (WAL mode, versioned migrations).
//!
//! One connection guarded by a mutex: SQLite has one writer anyway, and
//! every method is one short transaction. Writers use `BEGIN IMMEDIATE` so a
//! second process on the same file waits instead of failing mid-transaction.

use super::audit::{self, AuditEntry, StoredAudit, Verification};
use super::*;
use crate::runtime::kv::KvBackend;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use rusqlite_migration::{Migrations, M};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;

mod admin;
pub use admin::{
    AccessRecord, AdminTokenRow, JobFilter, ListingFilter, NewTokenRow, VehicleFilter,
    VehicleSummary,
};
mod alerts;
mod enquiries;
mod pricing;
mod quality;
mod report;
mod snapshot;
use snapshot::{close_snapshot, Seen, SourceRows};

/// The SQLite store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// The audit head kept outside the database (file-backed stores only).
    anchor: Option<super::anchor::Anchor>,
    /// Checkpoints the log of a file-backed store (none in memory).
    checkpointer: Option<super::checkpoint::Checkpointer>,
}

/// Execute through the connection's statement cache: the hot paths run the
/// same SQL thousands of times a cycle, and parsing it each time showed in
/// profiles of the sync benchmark.
fn exec(c: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

/// [`exec`] for a query of one row.
fn query_one<T>(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.prepare_cached(sql)?.query_row(params, f)
}

fn db(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Db { op, source }
}

fn status_name(status: &crate::runtime::types::StockStatus) -> &'static str {
    use crate::runtime::types::StockStatus::*;
    match status {
        DueIn => "due-in",
        InStock => "in-stock",
        Reserved => "reserved",
        Sold => "sold",
        Withdrawn => "withdrawn",
    }
}

/// The content hash of a vehicle: sha256 of its canonical JSON.
pub fn content_hash(vehicle: &Vehicle) -> String {
    record_and_hash(vehicle).1
}

/// The stored record (canonical JSON) and its content hash, from one
/// serialisation: ingest needs both for every new or changed vehicle.
fn record_and_hash(vehicle: &Vehicle) -> (String, String) {
    let record = serde_json::to_string(vehicle).expect("vehicles serialise");
    let hash = hex::encode(Sha256::digest(record.as_bytes()));
    (record, hash)
}

/// The schema's versions, oldest first (append only).
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("schema.sql")),
        M::up(include_str!("admin.sql")),
        M::up(include_str!("observed_at.sql")),
        M::up(include_str!("quality.sql")),
        M::up(include_str!("alerts.sql")),
        M::up(include_str!("push_inbox.sql")),
        M::up(include_str!("migrations/enquiries.sql")),
        M::up(include_str!("migrations/pricing.sql")),
        M::up(include_str!("migrations/token_grants.sql")),
        M::up(include_str!("migrations/plan_requests.sql")),
        M::up(include_str!("migrations/listing_bodies.sql")),
        M::up(include_str!("migrations/source_rows.sql")),
    ])
}

/// The schema version before the listing bodies moved (its migration test).
#[cfg(test)]
const MIGRATIONS_BEFORE_LISTING_BODIES: usize = 10;

impl SqliteStore {
    /// Open (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let mut conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        Self::prepare(&mut conn).map_err(open_err)?;
        // The log is copied into the database file by a thread of its own
        // (store/checkpoint.rs). A checkpoint in the commit itself is only a
        // backstop, once the log reaches ~200 MB: while commits keep coming
        // the background checkpoints never quite finish, so the log cannot
        // start over, and each checkpoint in a commit (measured ~0.3 s with
        // its fsyncs here) stalls every user of the store. Once the log has
        // started over, its file is cut back to 64 MB.
        conn.pragma_update(None, "wal_autocheckpoint", 50_000)
            .map_err(|e| open_err(e.to_string()))?;
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
            .map_err(|e| open_err(e.to_string()))?;
        let checkpointer = super::checkpoint::Checkpointer::start(path).map_err(open_err)?;
        Ok(Self {
            conn: Mutex::new(conn),
            anchor: Some(super::anchor::Anchor::beside(path)),
            checkpointer: Some(checkpointer),
        })
    }

    /// An in-memory store (tests).
    pub fn in_memory() -> StoreResult<Self> {
        let mut conn = Connection::open_in_memory().map_err(db("open"))?;
        Self::prepare(&mut conn).map_err(|message| StoreError::Open {
            path: ":memory:".into(),
            message,
        })?;
        Ok(Self {
            conn: Mutex::new(conn),
            anchor: None,
            checkpointer: None,
        })
    }

    fn prepare(conn: &mut Connection) -> Result<(), String> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| e.to_string())?;
        // NORMAL in WAL mode: a commit survives a crash of this process (the
        // SIGKILL test); after a power loss the newest commits may roll back,
        // and since cursors move in the same transactions as the records and
        // every operation carries an idempotency key, replaying them is safe.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| e.to_string())?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| e.to_string())?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| e.to_string())?;
        // Room for every hot statement of ingest, planning and delivery.
        conn.set_prepared_statement_cache_capacity(128);
        migrations()
            .to_latest(conn)
            .map_err(|e| format!("migration failed: {e}"))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut conn)
    }

    fn write<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&Transaction) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let (out, head) = self.with(|conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db(op))?;
            let out = f(&tx)?;
            tx.commit().map_err(db(op))?;
            let head = match &self.anchor {
                Some(_) => audit_head(conn)?,
                None => None,
            };
            Ok((out, head))
        })?;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.committed();
        }
        // The anchor's own thread writes the file (store/anchor.rs); it only
        // ever moves forward, whichever commit reaches it first.
        if let (Some(anchor), Some(head)) = (&self.anchor, head) {
            anchor.advance(&head);
        }
        Ok(out)
    }

    /// The audit trail's newest entry, as anchored outside the database.
    pub fn audit_anchor(&self) -> Option<&super::anchor::Anchor> {
        self.anchor.as_ref()
    }

    /// Run raw SQL (tests that simulate tampering).
    #[doc(hidden)]
    pub fn execute_raw(&self, sql: &str) -> StoreResult<usize> {
        self.with(|c| exec(c, sql, []).map_err(db("raw")))
    }
}

fn audit_head(conn: &Connection) -> StoreResult<Option<super::anchor::Head>> {
    query_one(
        conn,
        "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
        [],
        |r| {
            Ok(super::anchor::Head {
                seq: r.get(0)?,
                hash: r.get(1)?,
            })
        },
    )
    .optional()
    .map_err(db("audit head"))
}

fn append_audit(tx: &Transaction, entry: &AuditEntry, now: i64) -> StoreResult<()> {
    let (prev_seq, prev_hash): (i64, String) = query_one(
        tx,
        "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .map_err(db("audit"))?
    .unwrap_or((0, audit::GENESIS.to_string()));
    let seq = prev_seq + 1;
    let hash = audit::entry_hash(&prev_hash, seq, now, entry);
    exec(tx,
        "INSERT INTO audit (seq, at, kind, actor, stock_id, platform, step, error_class, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            seq,
            now,
            entry.kind,
            entry.actor,
            entry.stock_id,
            entry.platform,
            entry.step,
            entry.error_class,
            entry.detail.to_string(),
            prev_hash,
            hash
        ],
    )
    .map_err(db("audit"))?;
    Ok(())
}

type RawVehicle = (String, String, bool, i64, String, i64);

fn read_vehicle(row: &rusqlite::Row) -> rusqlite::Result<RawVehicle> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get::<_, i64>(2)? != 0,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn decode_vehicle(op: &'static str, raw: RawVehicle) -> StoreResult<StoredVehicle> {
    let (record, content_hash, present, seen_at, source, plan_token) = raw;
    let record = serde_json::from_str(&record).map_err(|e| StoreError::Corrupt {
        op,
        message: e.to_string(),
    })?;
    Ok(StoredVehicle {
        record,
        content_hash,
        present,
        seen_at,
        source,
        plan_token,
    })
}

const VEHICLE_COLS: &str = "record, content_hash, present, seen_at, source, plan_needed";
// Listing bodies live in `listing_bodies`, keyed by listing and hash
// (migrations/listing_bodies.sql): the desired body is the one of
// `desired_hash`, the published body the one of `published_body_hash`. A
// body is written once, when planned; acknowledging it moves a hash.
macro_rules! body_of {
    ($hash:literal) => {
        concat!(
            "(SELECT body FROM listing_bodies b WHERE b.stock_id = listings.stock_id
                AND b.platform = listings.platform AND b.hash = listings.",
            $hash,
            ")"
        )
    };
}
const LISTING_COLS: &str = concat!(
    "stock_id, platform, desired_state, desired_hash, ",
    body_of!("desired_hash"),
    ", published_state, published_hash, ",
    body_of!("published_body_hash"),
    ", remote_id, lifecycle, issues, last_error, error_class, attempts, updated_at, generation"
);

/// Delete the bodies of these vehicles' listings that nothing needs any
/// more: not the desired body, not the last acknowledged one, and not one
/// an unfinished operation is sending. Run after hashes move.
fn prune_bodies(tx: &Transaction, stock_ids: &[&str]) -> StoreResult<()> {
    let ids = serde_json::to_string(stock_ids).expect("stock ids serialise");
    exec(
        tx,
        "DELETE FROM listing_bodies
          WHERE stock_id IN (SELECT value FROM json_each(?1))
            AND NOT EXISTS (SELECT 1 FROM listings l
                             WHERE l.stock_id = listing_bodies.stock_id AND l.platform = listing_bodies.platform
                               AND listing_bodies.hash IN (l.desired_hash, l.published_body_hash))
            AND NOT EXISTS (SELECT 1 FROM jobs j
                             WHERE j.stock_id = listing_bodies.stock_id AND j.platform = listing_bodies.platform
                               AND j.state IN ('available', 'running') AND j.listing_hash = listing_bodies.hash)",
        params![ids],
    )
    .map_err(db("prune listing bodies"))?;
    Ok(())
}

const JOB_COLS: &str = "id, platform, stock_id, kind, idempotency_key, attempts, listing_hash, seen_at, state, last_error, error_class, priority, run_at";

fn read_listing(r: &rusqlite::Row) -> rusqlite::Result<ListingRow> {
    Ok(ListingRow {
        stock_id: r.get(0)?,
        platform: r.get(1)?,
        desired_state: r.get(2)?,
        desired_hash: r.get(3)?,
        desired_body: r.get(4)?,
        published_state: r.get(5)?,
        published_hash: r.get(6)?,
        published_body: r.get(7)?,
        remote_id: r.get(8)?,
        lifecycle: r.get(9)?,
        issues: r.get(10)?,
        last_error: r.get(11)?,
        error_class: r.get(12)?,
        attempts: r.get(13)?,
        updated_at: r.get(14)?,
        generation: r.get(15)?,
    })
}

fn read_job(r: &rusqlite::Row) -> rusqlite::Result<Job> {
    Ok(Job {
        id: r.get(0)?,
        platform: r.get(1)?,
        stock_id: r.get(2)?,
        kind: r.get(3)?,
        idempotency_key: r.get(4)?,
        attempts: r.get(5)?,
        listing_hash: r.get(6)?,
        seen_at: r.get(7)?,
        state: r.get(8)?,
        last_error: r.get(9)?,
        error_class: r.get(10)?,
        priority: r.get(11)?,
        run_at: r.get(12)?,
    })
}

fn remove_vehicle(tx: &Transaction, stock_id: &str, change: &str, now: i64) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE vehicles SET present = 0, plan_needed = plan_needed + 1, seen_at = ?2, updated_at = ?2 WHERE stock_id = ?1 AND present = 1",
            params![stock_id, now],
        )
        .map_err(db("remove"))?;
    if n > 0 {
        exec(
            tx,
            "INSERT INTO vehicle_history (stock_id, at, change) VALUES (?1, ?2, ?3)",
            params![stock_id, now, change],
        )
        .map_err(db("remove"))?;
        snapshot::forget(tx, stock_id).map_err(db("remove"))?;
    }
    Ok(n > 0)
}

fn apply_vehicle_plan(tx: &Transaction, vehicle: &VehiclePlan, now: i64) -> StoreResult<()> {
    for plan in &vehicle.listings {
        let issues = (!plan.issues.is_empty())
            .then(|| serde_json::to_string(&plan.issues).expect("issues serialise"));
        let lifecycle = if plan.blocked {
            "blocked"
        } else if plan.job.is_some() {
            "pending"
        } else {
            "in-sync"
        };
        let (hash, body) = match &plan.desired {
            Some((h, b)) => (Some(h.as_str()), Some(b.as_str())),
            None => (None, None),
        };
        // A blocked listing keeps its previous desired content: what is
        // published stays as it is until the data is fixed. (A body nothing
        // points at is pruned after the batch.)
        exec(tx,
                "INSERT INTO listings (stock_id, platform, desired_state, desired_hash, published_state, lifecycle, issues, attempts, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'none', ?5, ?6, 0, ?7)
                 ON CONFLICT(stock_id, platform) DO UPDATE SET
                   desired_state = CASE WHEN ?8 THEN desired_state ELSE ?3 END,
                   desired_hash = CASE WHEN ?8 THEN desired_hash ELSE ?4 END,
                   lifecycle = CASE WHEN ?5 = 'pending' THEN 'pending' WHEN lifecycle = 'dead' AND ?5 = 'in-sync' THEN 'dead' ELSE ?5 END,
                   issues = ?6, updated_at = ?7,
                   attempts = CASE WHEN ?5 = 'pending' THEN 0 ELSE attempts END",
                params![plan.stock_id, plan.platform, plan.desired_state, hash, lifecycle, issues, now, plan.blocked],
            )
            .map_err(db("apply plans"))?;
        if let (Some(hash), Some(body)) = (hash, body) {
            exec(tx,
                "INSERT INTO listing_bodies (stock_id, platform, hash, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(stock_id, platform, hash) DO NOTHING",
                params![plan.stock_id, plan.platform, hash, body],
            )
            .map_err(db("apply plans"))?;
        }
        if let Some(job) = &plan.job {
            // A newer plan supersedes operations not yet started.
            exec(tx,
                    "UPDATE jobs SET state = 'superseded', finished_at = ?3 WHERE stock_id = ?1 AND platform = ?2 AND state = 'available'",
                    params![plan.stock_id, plan.platform, now],
                )
                .map_err(db("apply plans"))?;
            let inserted = exec(
                        tx,
                        "INSERT INTO jobs (platform, stock_id, kind, idempotency_key, priority, state, attempts, run_at, listing_hash, seen_at, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, 'available', 0, ?6, ?7,
                                 MAX(?8, COALESCE((SELECT observed_at FROM listings WHERE stock_id = ?2 AND platform = ?1), 0)), ?9)
                         ON CONFLICT(idempotency_key) DO UPDATE SET state = 'available', run_at = MIN(run_at, ?6)
                           WHERE state = 'superseded'",
                        params![
                            plan.platform,
                            plan.stock_id,
                            job.kind,
                            job.idempotency_key,
                            job.priority,
                            job.run_at,
                            job.listing_hash,
                            job.seen_at,
                            now
                        ],
                    )
                    .map_err(db("apply plans"))?;
            if inserted > 0 {
                append_audit(
                        tx,
                        &AuditEntry::new("plan", "engine")
                            .stock(&plan.stock_id)
                            .platform(&plan.platform)
                            .step(&job.kind)
                            .detail(serde_json::json!({"idempotency_key": job.idempotency_key, "priority": job.priority})),
                        now,
                    )?;
            }
        }
        if plan.blocked {
            append_audit(
                    tx,
                    &AuditEntry::new("plan", "engine")
                        .stock(&plan.stock_id)
                        .platform(&plan.platform)
                        .step("blocked")
                        .error_class("validation")
                        .detail(serde_json::json!({"fields": plan.issues.iter().map(|i| i.field.clone()).collect::<Vec<_>>()})),
                    now,
                )?;
        }
    }
    exec(tx,
        // Compare-and-clear: a change or re-plan request that arrived while
        // this plan was made raised plan_needed past the token, so it stays.
        "UPDATE vehicles SET plan_needed = 0 WHERE stock_id = ?1 AND content_hash = ?2 AND plan_needed = ?3",
        params![vehicle.stock_id, vehicle.content_hash, vehicle.plan_token],
    )
    .map_err(db("apply plans"))?;
    Ok(())
}

fn finish_one(tx: &Transaction, job: &Job, outcome: &JobOutcome, now: i64) -> StoreResult<()> {
    match outcome {
        JobOutcome::Done { remote_id } => {
            exec(tx,
                "UPDATE jobs SET state = 'completed', finished_at = ?2, lease_until = NULL, last_error = NULL, error_class = NULL WHERE id = ?1",
                params![job.id, now],
            )
            .map_err(db("finish job"))?;
            let published_state = match job.kind.as_str() {
                "remove" => "removed",
                "reserve" => "reserved",
                _ => "live",
            };
            // The listing reflects what this job sent; if a newer plan
            // is pending, the listing stays pending, and if a newer plan
            // was blocked by the quality rules, it stays blocked.
            exec(tx,
                concat!("UPDATE listings SET
                   published_state = CASE WHEN ?3 = 'removed' THEN 'removed'
                                          WHEN desired_state = 'reserved' AND ?3 = 'live' THEN 'reserved'
                                          ELSE ?3 END,
                   published_hash = CASE WHEN ?3 = 'removed' THEN NULL ELSE ?4 END,
                   published_body_hash = CASE WHEN ?3 = 'removed' THEN NULL ELSE ?4 END,
                   remote_id = COALESCE(?5, remote_id),
                   lifecycle = CASE WHEN lifecycle = 'blocked' THEN 'blocked'
                                    WHEN (?3 = 'removed' AND desired_state = 'absent') OR desired_hash = ?4 THEN 'in-sync'
                                    ELSE lifecycle END,
                   last_error = NULL, error_class = NULL, attempts = 0, updated_at = ?6
                 WHERE stock_id = ?1 AND platform = ?2"),
                params![job.stock_id, job.platform, published_state, job.listing_hash, remote_id, now],
            )
            .map_err(db("finish job"))?;
            append_audit(
                tx,
                &AuditEntry::new("result", "engine")
                    .stock(&job.stock_id)
                    .platform(&job.platform)
                    .step(&job.kind)
                    .detail(serde_json::json!({"outcome": "acknowledged", "attempts": job.attempts, "remote_id": remote_id})),
                now,
            )?;
        }
        JobOutcome::Retry {
            run_at,
            class,
            message,
            counts,
        } => {
            exec(tx,
                "UPDATE jobs SET state = 'available', run_at = ?2, lease_until = NULL, worker = NULL, last_error = ?3, error_class = ?4,
                   attempts = CASE WHEN ?5 THEN attempts ELSE attempts - 1 END WHERE id = ?1",
                params![job.id, run_at, message, class, counts],
            )
            .map_err(db("finish job"))?;
            exec(tx,
                "UPDATE listings SET last_error = ?3, error_class = ?4, attempts = attempts + 1, updated_at = ?5 WHERE stock_id = ?1 AND platform = ?2",
                params![job.stock_id, job.platform, message, class, now],
            )
            .map_err(db("finish job"))?;
            append_audit(
                tx,
                &AuditEntry::new("result", "engine")
                    .stock(&job.stock_id)
                    .platform(&job.platform)
                    .step(&job.kind)
                    .error_class(class)
                    .detail(serde_json::json!({"outcome": "retry", "attempts": job.attempts, "run_at": run_at})),
                now,
            )?;
        }
        JobOutcome::Dead { class, message } => {
            exec(tx,
                "UPDATE jobs SET state = 'dead', finished_at = ?2, lease_until = NULL, last_error = ?3, error_class = ?4 WHERE id = ?1",
                params![job.id, now, message, class],
            )
            .map_err(db("finish job"))?;
            exec(tx,
                "UPDATE listings SET lifecycle = 'dead', last_error = ?3, error_class = ?4, updated_at = ?5 WHERE stock_id = ?1 AND platform = ?2",
                params![job.stock_id, job.platform, message, class, now],
            )
            .map_err(db("finish job"))?;
            append_audit(
                tx,
                &AuditEntry::new("result", "engine")
                    .stock(&job.stock_id)
                    .platform(&job.platform)
                    .step(&job.kind)
                    .error_class(class)
                    .detail(
                        serde_json::json!({"outcome": "dead-letter", "attempts": job.attempts}),
                    ),
                now,
            )?;
        }
    }
    Ok(())
}

impl Store for SqliteStore {
    fn record_observed(
        &self,
        stock_id: &str,
        platform: &str,
        observed: &Observed,
        now: i64,
    ) -> StoreResult<()> {
        self.write("record observed", |tx| {
            let step = match observed {
                Observed::Missing => {
                    exec(tx,
                        "UPDATE listings SET published_state = 'none', published_hash = NULL, published_body_hash = NULL, lifecycle = 'pending',
                           generation = generation + 1, updated_at = ?3, observed_at = ?3
                         WHERE stock_id = ?1 AND platform = ?2",
                        params![stock_id, platform, now],
                    )
                    .map_err(db("record observed"))?;
                    prune_bodies(tx, &[stock_id])?;
                    "missing"
                }
                Observed::Present { state, remote_id } => {
                    // Forget the published hash: what the platform shows is not
                    // what we last sent, so the planner sends it again.
                    exec(tx,
                        "INSERT INTO listings (stock_id, platform, desired_state, published_state, remote_id, lifecycle, attempts, updated_at, observed_at)
                         VALUES (?1, ?2, 'absent', ?3, ?4, 'pending', 0, ?5, ?5)
                         ON CONFLICT(stock_id, platform) DO UPDATE SET published_state = ?3, remote_id = ?4, published_hash = NULL,
                           lifecycle = 'pending', generation = generation + 1, updated_at = ?5, observed_at = ?5",
                        params![stock_id, platform, state, remote_id, now],
                    )
                    .map_err(db("record observed"))?;
                    "drift"
                }
            };
            exec(tx, "UPDATE vehicles SET plan_needed = plan_needed + 1 WHERE stock_id = ?1", params![stock_id])
                .map_err(db("record observed"))?;
            append_audit(
                tx,
                &AuditEntry::new("reconcile", "engine").stock(stock_id).platform(platform).step(step),
                now,
            )
        })
    }

    fn ingest(&self, batch: &IngestBatch, now: i64) -> StoreResult<IngestSummary> {
        self.write("ingest", |tx| {
            exec(tx,
                "INSERT INTO source_cursors (source) VALUES (?1) ON CONFLICT(source) DO NOTHING",
                params![batch.source],
            )
            .map_err(db("ingest"))?;
            if batch.snapshot_start {
                exec(tx,
                    "UPDATE source_cursors SET snapshot_seq = snapshot_seq + 1, snapshot_open = 1 WHERE source = ?1",
                    params![batch.source],
                )
                .map_err(db("ingest"))?;
            }
            let snapshot_seq: i64 = query_one(tx, "SELECT snapshot_seq FROM source_cursors WHERE source = ?1", params![batch.source], |r| r.get(0))
                .map_err(db("ingest"))?;
            let digests = SourceRows::begin(tx, batch)?;
            let mut seen = Seen::begin(tx, batch, snapshot_seq)?;
            let mut summary = IngestSummary::default();
            for (i, change) in batch.changes.iter().enumerate() {
                match change {
                    Change::Upsert(vehicle) => {
                        let digest = batch.digests.get(i).and_then(|d| d.as_deref());
                        let (record, hash) = record_and_hash(vehicle);
                        let existing: Option<(String, bool)> = query_one(tx,
                                "SELECT content_hash, present FROM vehicles WHERE stock_id = ?1",
                                params![vehicle.stock_id],
                                |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)),
                            )
                            .optional()
                            .map_err(db("ingest"))?;
                        digests.set(tx, &vehicle.stock_id, digest)?;
                        match existing {
                            Some((old, true)) if old == hash => {
                                seen.unchanged(tx, &vehicle.stock_id)?;
                                summary.unchanged += 1;
                                continue;
                            }
                            Some(_) => summary.updated += 1,
                            None => summary.created += 1,
                        }
                        seen.written(&vehicle.stock_id);
                        exec(tx,
                            "INSERT INTO vehicles (stock_id, source, record, content_hash, status, present, plan_needed, seen_at, updated_at, snapshot_seq, missing_since)
                             VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, ?6, ?6, ?7, NULL)
                             ON CONFLICT(stock_id) DO UPDATE SET source = ?2, record = ?3, content_hash = ?4, status = ?5, present = 1,
                               plan_needed = vehicles.plan_needed + 1, seen_at = ?6, updated_at = ?6, snapshot_seq = COALESCE(?7, snapshot_seq), missing_since = NULL",
                            params![vehicle.stock_id, batch.source, record, hash, status_name(&vehicle.status), now, seen.mark],
                        )
                        .map_err(db("ingest"))?;
                        exec(tx,
                            "INSERT INTO vehicle_history (stock_id, at, change, content_hash, price_minor, status) VALUES (?1, ?2, 'upsert', ?3, ?4, ?5)",
                            params![
                                vehicle.stock_id,
                                now,
                                hash,
                                vehicle.price.as_ref().map(|p| p.amount_minor),
                                status_name(&vehicle.status)
                            ],
                        )
                        .map_err(db("ingest"))?;
                    }
                    Change::Remove(stock_id) => {
                        if remove_vehicle(tx, stock_id, "remove", now)? {
                            summary.removed += 1;
                        }
                    }
                }
            }
            for stock_id in &batch.unchanged {
                seen.unchanged(tx, stock_id)?;
                summary.unchanged += 1;
            }
            exec(tx,
                "UPDATE source_cursors SET cursor = ?2, last_success_at = ?3 WHERE source = ?1",
                params![batch.source, batch.next_cursor, now],
            )
            .map_err(db("ingest"))?;
            append_audit(
                tx,
                &AuditEntry::new("ingest", &format!("source:{}", batch.source))
                    .step("pull")
                    .detail(serde_json::json!({
                        "created": summary.created,
                        "updated": summary.updated,
                        "unchanged": summary.unchanged,
                        "removed": summary.removed,
                        "full_snapshot": batch.full_snapshot,
                    })),
                now,
            )?;
            if let Some(rules) = batch.close {
                summary.snapshot = Some(close_snapshot(tx, &batch.source, seen.named(), rules, now)?);
            }
            Ok(summary)
        })
    }

    fn close_snapshot(
        &self,
        source: &str,
        grace_ms: i64,
        max_shrink: f64,
        now: i64,
    ) -> StoreResult<SnapshotOutcome> {
        self.write("close snapshot", |tx| {
            close_snapshot(
                tx,
                source,
                None,
                SnapshotRules {
                    grace_ms,
                    max_shrink,
                },
                now,
            )
        })
    }

    fn source_rows(&self, source: &str, epoch: &str) -> StoreResult<Vec<(String, String)>> {
        self.with(|c| {
            let stored: Option<Option<String>> = query_one(
                c,
                "SELECT digest_epoch FROM source_cursors WHERE source = ?1",
                params![source],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("source rows"))?;
            if stored.flatten().as_deref() != Some(epoch) {
                return Ok(Vec::new());
            }
            let mut stmt = c
                .prepare_cached("SELECT stock_id, digest FROM source_rows WHERE source = ?1")
                .map_err(db("source rows"))?;
            let rows = stmt
                .query_map(params![source], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db("source rows"))?;
            rows.collect::<Result<_, _>>().map_err(db("source rows"))
        })
    }

    fn cursor(&self, source: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(query_one(
                c,
                "SELECT cursor FROM source_cursors WHERE source = ?1",
                params![source],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("cursor"))?
            .flatten())
        })
    }

    fn snapshot_open(&self, source: &str) -> StoreResult<bool> {
        self.with(|c| {
            Ok(query_one(
                c,
                "SELECT snapshot_open FROM source_cursors WHERE source = ?1",
                params![source],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map_err(db("snapshot state"))?
            .unwrap_or(0)
                != 0)
        })
    }

    fn last_success(&self, source: &str) -> StoreResult<Option<i64>> {
        self.with(|c| {
            Ok(query_one(
                c,
                "SELECT last_success_at FROM source_cursors WHERE source = ?1",
                params![source],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("last success"))?
            .flatten())
        })
    }

    fn vehicles_to_plan(&self, limit: usize) -> StoreResult<Vec<StoredVehicle>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!("SELECT {VEHICLE_COLS} FROM vehicles WHERE plan_needed > 0 ORDER BY seen_at LIMIT ?1"))
                .map_err(db("vehicles to plan"))?;
            let rows = stmt.query_map(params![limit as i64], read_vehicle).map_err(db("vehicles to plan"))?;
            rows.map(|r| decode_vehicle("vehicles to plan", r.map_err(db("vehicles to plan"))?)).collect()
        })
    }

    fn present_vehicles(&self) -> StoreResult<Vec<StoredVehicle>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {VEHICLE_COLS} FROM vehicles WHERE present = 1 ORDER BY stock_id"
                ))
                .map_err(db("present vehicles"))?;
            let rows = stmt
                .query_map([], read_vehicle)
                .map_err(db("present vehicles"))?;
            rows.map(|r| decode_vehicle("present vehicles", r.map_err(db("present vehicles"))?))
                .collect()
        })
    }

    fn vehicle(&self, stock_id: &str) -> StoreResult<Option<StoredVehicle>> {
        self.with(|c| {
            query_one(
                c,
                &format!("SELECT {VEHICLE_COLS} FROM vehicles WHERE stock_id = ?1"),
                params![stock_id],
                read_vehicle,
            )
            .optional()
            .map_err(db("vehicle"))?
            .map(|r| decode_vehicle("vehicle", r))
            .transpose()
        })
    }

    fn listing(&self, stock_id: &str, platform: &str) -> StoreResult<Option<ListingRow>> {
        self.with(|c| {
            query_one(
                c,
                &format!(
                    "SELECT {LISTING_COLS} FROM listings WHERE stock_id = ?1 AND platform = ?2"
                ),
                params![stock_id, platform],
                read_listing,
            )
            .optional()
            .map_err(db("listing"))
        })
    }

    fn listings(&self, platform: &str) -> StoreResult<Vec<ListingRow>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {LISTING_COLS} FROM listings WHERE platform = ?1 ORDER BY stock_id"
                ))
                .map_err(db("listings"))?;
            let rows = stmt
                .query_map(params![platform], read_listing)
                .map_err(db("listings"))?;
            rows.collect::<Result<_, _>>().map_err(db("listings"))
        })
    }

    fn feed_listings(&self, platform: &str) -> StoreResult<Vec<(String, String)>> {
        self.with(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT l.stock_id, b.body FROM listings l
                       JOIN listing_bodies b ON b.stock_id = l.stock_id AND b.platform = l.platform AND b.hash = l.desired_hash
                     WHERE l.platform = ?1 AND l.desired_state != 'absent'",
                )
                .map_err(db("feed listings"))?;
            let rows = stmt
                .query_map(params![platform], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db("feed listings"))?;
            let mut rows: Vec<(String, String)> =
                rows.collect::<Result<_, _>>().map_err(db("feed listings"))?;
            // Sorted here rather than by SQLite, which would copy every body
            // through a temporary B-tree (~9,000 bodies for a 10,000-car feed).
            rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            Ok(rows)
        })
    }

    fn delivery_rows(
        &self,
        platform: &str,
        stock_ids: &[&str],
    ) -> StoreResult<HashMap<String, (ListingRow, crate::runtime::types::StockStatus)>> {
        use crate::runtime::types::StockStatus;
        let ids = serde_json::to_string(stock_ids).expect("stock ids serialise");
        self.with(|c| {
            // The status alone (as JSON), not the whole record to decode.
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {LISTING_COLS},
                       (SELECT CASE WHEN v.present THEN json_quote(json_extract(v.record, '$.status')) END
                          FROM vehicles v WHERE v.stock_id = listings.stock_id)
                     FROM listings
                     WHERE platform = ?1 AND stock_id IN (SELECT value FROM json_each(?2))"
                ))
                .map_err(db("delivery rows"))?;
            let rows = stmt
                .query_map(params![platform, ids], |r| {
                    // The status is the column after LISTING_COLS' sixteen.
                    Ok((read_listing(r)?, r.get::<_, Option<String>>(16)?))
                })
                .map_err(db("delivery rows"))?;
            let mut out = HashMap::new();
            for row in rows {
                let (listing, status) = row.map_err(db("delivery rows"))?;
                let status = match status {
                    None => StockStatus::Withdrawn,
                    Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                        op: "delivery rows",
                        message: format!("stock status of {}: {e}", listing.stock_id),
                    })?,
                };
                out.insert(listing.stock_id.clone(), (listing, status));
            }
            Ok(out)
        })
    }

    fn listings_of(&self, stock_ids: &[&str]) -> StoreResult<Vec<ListingRow>> {
        let ids = serde_json::to_string(stock_ids).expect("stock ids serialise");
        self.with(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {LISTING_COLS} FROM listings WHERE stock_id IN (SELECT value FROM json_each(?1))"
                ))
                .map_err(db("listings of vehicles"))?;
            let rows = stmt
                .query_map(params![ids], read_listing)
                .map_err(db("listings of vehicles"))?;
            rows.collect::<Result<_, _>>().map_err(db("listings of vehicles"))
        })
    }

    fn apply_plans(&self, batch: &[VehiclePlan], now: i64) -> StoreResult<()> {
        self.write("apply plans", |tx| {
            for vehicle in batch {
                apply_vehicle_plan(tx, vehicle, now)?;
            }
            let ids: Vec<&str> = batch.iter().map(|v| v.stock_id.as_str()).collect();
            prune_bodies(tx, &ids)
        })
    }

    fn claim_jobs(
        &self,
        platform: &str,
        worker: &str,
        limit: usize,
        lease_ms: i64,
        now: i64,
    ) -> StoreResult<Vec<Job>> {
        self.write("claim jobs", |tx| {
            // Expired leases (a worker that died mid-call) become available
            // again; the idempotency key makes the retry safe.
            exec(tx,
                "UPDATE jobs SET state = 'available', worker = NULL WHERE platform = ?1 AND state = 'running' AND lease_until < ?2",
                params![platform, now],
            )
            .map_err(db("claim jobs"))?;
            let mut stmt = tx
                .prepare(&format!(
                    "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?3, worker = ?4
                     WHERE id IN (SELECT id FROM jobs WHERE platform = ?1 AND state = 'available' AND run_at <= ?2
                                  ORDER BY priority, run_at, id LIMIT ?5)
                     RETURNING {JOB_COLS}"
                ))
                .map_err(db("claim jobs"))?;
            let rows = stmt
                .query_map(params![platform, now, now + lease_ms, worker, limit as i64], read_job)
                .map_err(db("claim jobs"))?;
            let mut jobs: Vec<Job> = rows.collect::<Result<_, _>>().map_err(db("claim jobs"))?;
            jobs.sort_by_key(|j| (j.priority, j.run_at, j.id));
            Ok(jobs)
        })
    }

    fn finish_jobs(&self, results: &[(Job, JobOutcome)], now: i64) -> StoreResult<()> {
        self.write("finish jobs", |tx| {
            let mut acknowledged = std::collections::BTreeSet::new();
            let mut moved = Vec::new();
            for (job, outcome) in results {
                finish_one(tx, job, outcome, now)?;
                if matches!(outcome, JobOutcome::Done { .. }) {
                    acknowledged.insert(job.platform.as_str());
                    moved.push(job.stock_id.as_str());
                }
            }
            // An acknowledgement moves the published hash: the body it replaced may go.
            prune_bodies(tx, &moved)?;
            // A platform that acknowledged anything is not failing (once per batch).
            for platform in acknowledged {
                exec(
                    tx,
                    "UPDATE platform_state SET consecutive_failures = 0 WHERE platform = ?1",
                    params![platform],
                )
                .map_err(db("finish job"))?;
            }
            Ok(())
        })
    }

    fn queue_depth(&self, platform: Option<&str>) -> StoreResult<i64> {
        self.with(|c| {
            query_one(c,
                "SELECT COUNT(*) FROM jobs WHERE state IN ('available', 'running') AND (?1 IS NULL OR platform = ?1)",
                params![platform],
                |r| r.get(0),
            )
            .map_err(db("queue depth"))
        })
    }

    fn next_run_at(&self, platform: &str) -> StoreResult<Option<i64>> {
        self.with(|c| {
            query_one(
                c,
                "SELECT MIN(run_at) FROM jobs WHERE platform = ?1 AND state = 'available'",
                params![platform],
                |r| r.get(0),
            )
            .map_err(db("next run"))
        })
    }

    fn dead_letters(&self, platform: Option<&str>) -> StoreResult<Vec<Job>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {JOB_COLS} FROM jobs WHERE state = 'dead' AND (?1 IS NULL OR platform = ?1) ORDER BY finished_at DESC, id DESC"
                ))
                .map_err(db("dead letters"))?;
            let rows = stmt.query_map(params![platform], read_job).map_err(db("dead letters"))?;
            rows.collect::<Result<_, _>>().map_err(db("dead letters"))
        })
    }

    fn retry_dead(&self, job_id: i64, actor: &str, now: i64) -> StoreResult<bool> {
        self.write("retry dead letter", |tx| {
            let job = query_one(tx, &format!("SELECT {JOB_COLS} FROM jobs WHERE id = ?1 AND state = 'dead'"), params![job_id], read_job)
                .optional()
                .map_err(db("retry dead letter"))?;
            let Some(job) = job else { return Ok(false) };
            exec(tx,
                "UPDATE jobs SET state = 'available', attempts = 0, run_at = ?2, finished_at = NULL WHERE id = ?1",
                params![job_id, now],
            )
            .map_err(db("retry dead letter"))?;
            exec(tx,
                "UPDATE listings SET lifecycle = 'pending', updated_at = ?3 WHERE stock_id = ?1 AND platform = ?2",
                params![job.stock_id, job.platform, now],
            )
            .map_err(db("retry dead letter"))?;
            append_audit(
                tx,
                &AuditEntry::new("operator", actor)
                    .stock(&job.stock_id)
                    .platform(&job.platform)
                    .step("retry-dead-letter")
                    .detail(serde_json::json!({"job": job_id})),
                now,
            )?;
            Ok(true)
        })
    }

    fn discard_dead(&self, job_id: i64, actor: &str, now: i64) -> StoreResult<bool> {
        self.write("discard dead letter", |tx| {
            let job = query_one(
                tx,
                &format!("SELECT {JOB_COLS} FROM jobs WHERE id = ?1 AND state = 'dead'"),
                params![job_id],
                read_job,
            )
            .optional()
            .map_err(db("discard dead letter"))?;
            let Some(job) = job else { return Ok(false) };
            exec(
                tx,
                "UPDATE jobs SET state = 'discarded', finished_at = ?2 WHERE id = ?1",
                params![job_id, now],
            )
            .map_err(db("discard dead letter"))?;
            append_audit(
                tx,
                &AuditEntry::new("operator", actor)
                    .stock(&job.stock_id)
                    .platform(&job.platform)
                    .step("discard-dead-letter")
                    .detail(serde_json::json!({"job": job_id})),
                now,
            )?;
            Ok(true)
        })
    }

    fn discrepancies(&self) -> StoreResult<Vec<Discrepancy>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT v.stock_id, CASE WHEN v.present = 0 THEN 'removed from the DMS' ELSE v.status END,
                            l.platform, l.published_state
                     FROM vehicles v JOIN listings l ON l.stock_id = v.stock_id
                     WHERE (v.present = 0 OR v.status IN ('sold', 'withdrawn'))
                     ORDER BY v.stock_id, l.platform",
                )
                .map_err(db("discrepancies"))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)))
                .map_err(db("discrepancies"))?;
            let mut out: Vec<Discrepancy> = Vec::new();
            for row in rows {
                let (stock_id, reason, platform, published) = row.map_err(db("discrepancies"))?;
                if out.last().is_none_or(|d| d.stock_id != stock_id) {
                    out.push(Discrepancy {
                        stock_id: stock_id.clone(),
                        reason,
                        still_listed_on: vec![],
                        removed_from: vec![],
                    });
                }
                let d = out.last_mut().expect("pushed above");
                if published == "live" || published == "reserved" {
                    d.still_listed_on.push(platform);
                } else {
                    d.removed_from.push(platform);
                }
            }
            out.retain(|d| !d.still_listed_on.is_empty());
            Ok(out)
        })
    }

    fn platform_counts(&self, platforms: &[String]) -> StoreResult<Vec<PlatformCounts>> {
        let mut out = Vec::new();
        for p in platforms {
            let counts = self.with(|c| {
                let count = |sql: &str| -> StoreResult<i64> { query_one(c, sql, params![p], |r| r.get(0)).map_err(db("status")) };
                Ok(PlatformCounts {
                    platform: p.clone(),
                    published: count("SELECT COUNT(*) FROM listings WHERE platform = ?1 AND published_state IN ('live', 'reserved')")?,
                    pending: count("SELECT COUNT(*) FROM listings WHERE platform = ?1 AND lifecycle = 'pending'")?,
                    blocked: count("SELECT COUNT(*) FROM listings WHERE platform = ?1 AND lifecycle = 'blocked'")?,
                    queued: count("SELECT COUNT(*) FROM jobs WHERE platform = ?1 AND state IN ('available', 'running')")?,
                    dead: count("SELECT COUNT(*) FROM jobs WHERE platform = ?1 AND state = 'dead'")?,
                    paused: None,
                })
            })?;
            let paused = self.paused(p)?;
            out.push(PlatformCounts { paused, ..counts });
        }
        Ok(out)
    }

    fn set_paused(&self, platform: &str, reason: Option<&str>, now: i64) -> StoreResult<()> {
        self.write("pause platform", |tx| {
            exec(
                tx,
                "INSERT INTO platform_state (platform, paused_reason) VALUES (?1, ?2)
                 ON CONFLICT(platform) DO UPDATE SET paused_reason = ?2",
                params![platform, reason],
            )
            .map_err(db("pause platform"))?;
            append_audit(
                tx,
                &AuditEntry::new("platform", "engine")
                    .platform(platform)
                    .step(if reason.is_some() {
                        "paused"
                    } else {
                        "resumed"
                    })
                    .error_class(if reason.is_some() { "auth" } else { "" }),
                now,
            )
        })
    }

    fn paused(&self, platform: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(query_one(
                c,
                "SELECT paused_reason FROM platform_state WHERE platform = ?1",
                params![platform],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("paused"))?
            .flatten())
        })
    }

    fn audit(&self, entry: &AuditEntry, now: i64) -> StoreResult<()> {
        self.write("audit", |tx| append_audit(tx, entry, now))
    }

    fn audit_tail(&self, limit: usize) -> StoreResult<Vec<StoredAudit>> {
        self.with(|c| {
            let mut stmt = c
                .prepare("SELECT seq, at, kind, actor, stock_id, platform, step, error_class, detail, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT ?1")
                .map_err(db("audit tail"))?;
            let rows = stmt.query_map(params![limit as i64], read_audit).map_err(db("audit tail"))?;
            rows.collect::<Result<_, _>>().map_err(db("audit tail"))
        })
    }

    fn audit_verify(&self) -> StoreResult<Verification> {
        let anchored = match &self.anchor {
            Some(anchor) => anchor.read().map_err(|message| StoreError::Corrupt {
                op: "audit anchor",
                message,
            })?,
            None => None,
        };
        self.with(|c| {
            let mut stmt = c
                .prepare("SELECT seq, at, kind, actor, stock_id, platform, step, error_class, detail, prev_hash, hash FROM audit ORDER BY seq")
                .map_err(db("audit verify"))?;
            let rows = stmt.query_map([], read_audit).map_err(db("audit verify"))?;
            let mut prev = audit::GENESIS.to_string();
            let mut count = 0;
            for (expected_seq, row) in (1..).zip(rows) {
                let a = row.map_err(db("audit verify"))?;
                if a.seq != expected_seq {
                    return Ok(Verification::Broken {
                        seq: expected_seq,
                        reason: format!("entry {expected_seq} is missing (next entry is {})", a.seq),
                    });
                }
                if a.prev_hash != prev {
                    return Ok(Verification::Broken {
                        seq: a.seq,
                        reason: "does not link to the previous entry".into(),
                    });
                }
                if audit::entry_hash(&prev, a.seq, a.at, &a.entry) != a.hash {
                    return Ok(Verification::Broken {
                        seq: a.seq,
                        reason: "content does not match its hash (edited)".into(),
                    });
                }
                if anchored.as_ref().is_some_and(|h| h.seq == a.seq && h.hash != a.hash) {
                    return Ok(Verification::Broken {
                        seq: a.seq,
                        reason: "differs from the anchored head (the trail was rewritten)".into(),
                    });
                }
                prev = a.hash;
                count += 1;
            }
            if let Some(head) = anchored.filter(|h| h.seq > count) {
                return Ok(Verification::Broken {
                    seq: count + 1,
                    reason: format!(
                        "entries {}..={} are missing: the trail ends before the head anchored in {} \
                         (truncated, or the last commits were lost in a power failure)",
                        count + 1,
                        head.seq,
                        self.anchor.as_ref().map(|a| a.path().display().to_string()).unwrap_or_default()
                    ),
                });
            }
            Ok(Verification::Intact { entries: count })
        })
    }

    fn plan_backlog(&self) -> StoreResult<Option<i64>> {
        self.with(|c| {
            query_one(
                c,
                "SELECT COUNT(*) FROM vehicles WHERE plan_needed > 0",
                [],
                |r| r.get(0),
            )
            .map(Some)
            .map_err(db("plan backlog"))
        })
    }
}

fn read_audit(r: &rusqlite::Row) -> rusqlite::Result<StoredAudit> {
    let detail: String = r.get(8)?;
    Ok(StoredAudit {
        seq: r.get(0)?,
        at: r.get(1)?,
        entry: AuditEntry {
            kind: r.get(2)?,
            actor: r.get(3)?,
            stock_id: r.get(4)?,
            platform: r.get(5)?,
            step: r.get(6)?,
            error_class: r.get(7)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        },
        prev_hash: r.get(9)?,
        hash: r.get(10)?,
    })
}

impl KvBackend for SqliteStore {
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.with(|c| {
            query_one(
                c,
                "SELECT value FROM plugin_kv WHERE plugin = ?1 AND key = ?2",
                params![plugin, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("kv get"))
        })
        .map_err(|e| e.to_string())
    }

    fn set(&self, plugin: &str, key: &str, value: &[u8]) -> Result<(), String> {
        self.write("kv set", |tx| {
            exec(tx,
                "INSERT INTO plugin_kv (plugin, key, value) VALUES (?1, ?2, ?3) ON CONFLICT(plugin, key) DO UPDATE SET value = ?3",
                params![plugin, key, value],
            )
            .map_err(db("kv set"))
            .map(drop)
        })
        .map_err(|e| e.to_string())
    }

    fn delete(&self, plugin: &str, key: &str) -> Result<(), String> {
        self.write("kv delete", |tx| {
            exec(
                tx,
                "DELETE FROM plugin_kv WHERE plugin = ?1 AND key = ?2",
                params![plugin, key],
            )
            .map_err(db("kv delete"))
            .map(drop)
        })
        .map_err(|e| e.to_string())
    }

    fn key_count(&self, plugin: &str) -> Result<usize, String> {
        self.with(|c| {
            query_one(
                c,
                "SELECT COUNT(*) FROM plugin_kv WHERE plugin = ?1",
                params![plugin],
                |r| r.get::<_, i64>(0),
            )
            .map_err(db("kv count"))
        })
        .map(|n| n as usize)
        .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::types::StockStatus;

    fn stock() -> Vec<Vehicle> {
        crate::sample::sample_stock(10, 3)
    }

    fn batch(changes: Vec<Change>, cursor: &str, snapshot_start: bool) -> IngestBatch {
        IngestBatch {
            source: "dms".into(),
            changes,
            next_cursor: Some(cursor.into()),
            full_snapshot: true,
            snapshot_start,
            ..Default::default()
        }
    }

    /// A plan listing `v` on platform "p" with `desired` (hash, body) and one job.
    fn live_on_p(v: &Vehicle, desired: (&str, &str), kind: &str, key: &str) -> VehiclePlan {
        VehiclePlan {
            stock_id: v.stock_id.clone(),
            content_hash: content_hash(v),
            plan_token: 1,
            listings: vec![PlannedListing {
                stock_id: v.stock_id.clone(),
                platform: "p".into(),
                desired_state: "live".into(),
                desired: Some((desired.0.into(), desired.1.into())),
                issues: vec![],
                blocked: false,
                job: Some(NewJob {
                    kind: kind.into(),
                    idempotency_key: key.into(),
                    priority: 1,
                    run_at: 0,
                    listing_hash: Some(desired.0.into()),
                    seen_at: 1,
                }),
            }],
        }
    }

    #[test]
    fn ingest_detects_unchanged_and_advances_cursor_atomically() {
        let s = SqliteStore::in_memory().unwrap();
        let v = stock();
        let first = s
            .ingest(
                &batch(
                    v.iter()
                        .cloned()
                        .map(|v| Change::Upsert(Box::new(v)))
                        .collect(),
                    "c1",
                    true,
                ),
                1,
            )
            .unwrap();
        assert_eq!(first.created, 10);
        assert_eq!(s.cursor("dms").unwrap().as_deref(), Some("c1"));
        let again = s
            .ingest(
                &batch(
                    v.iter()
                        .cloned()
                        .map(|v| Change::Upsert(Box::new(v)))
                        .collect(),
                    "c2",
                    true,
                ),
                2,
            )
            .unwrap();
        assert_eq!(again.unchanged, 10);
        let mut changed = v[0].clone();
        changed.price.as_mut().unwrap().amount_minor -= 50_000;
        let third = s
            .ingest(
                &batch(vec![Change::Upsert(Box::new(changed))], "c3", false),
                3,
            )
            .unwrap();
        assert_eq!(third.updated, 1);
        assert_eq!(s.cursor("dms").unwrap().as_deref(), Some("c3"));
    }

    #[test]
    fn snapshot_grace_period_and_shrink_guard() {
        let s = SqliteStore::in_memory().unwrap();
        let v = stock();
        s.ingest(
            &batch(
                v.iter()
                    .cloned()
                    .map(|v| Change::Upsert(Box::new(v)))
                    .collect(),
                "a",
                true,
            ),
            1,
        )
        .unwrap();
        s.close_snapshot("dms", 1000, 0.3, 1).unwrap();
        // Next snapshot lacks one vehicle: missing, not yet removed.
        s.ingest(
            &batch(
                v[1..]
                    .iter()
                    .cloned()
                    .map(|v| Change::Upsert(Box::new(v)))
                    .collect(),
                "b",
                true,
            ),
            10,
        )
        .unwrap();
        assert_eq!(
            s.close_snapshot("dms", 1000, 0.3, 10).unwrap(),
            SnapshotOutcome::Applied {
                newly_missing: 1,
                removed: 0
            }
        );
        assert!(s.vehicle(&v[0].stock_id).unwrap().unwrap().present);
        // Still missing after the grace period: removed.
        s.ingest(
            &batch(
                v[1..]
                    .iter()
                    .cloned()
                    .map(|v| Change::Upsert(Box::new(v)))
                    .collect(),
                "c",
                true,
            ),
            2000,
        )
        .unwrap();
        assert_eq!(
            s.close_snapshot("dms", 1000, 0.3, 2000).unwrap(),
            SnapshotOutcome::Applied {
                newly_missing: 0,
                removed: 1
            }
        );
        assert!(!s.vehicle(&v[0].stock_id).unwrap().unwrap().present);
        // A snapshot with half the stock missing is held.
        s.ingest(
            &batch(
                v[1..4]
                    .iter()
                    .cloned()
                    .map(|v| Change::Upsert(Box::new(v)))
                    .collect(),
                "d",
                true,
            ),
            3000,
        )
        .unwrap();
        assert!(matches!(
            s.close_snapshot("dms", 0, 0.3, 3000).unwrap(),
            SnapshotOutcome::Held { .. }
        ));
        assert!(s.vehicle(&v[8].stock_id).unwrap().unwrap().present);
    }

    #[test]
    fn returning_vehicle_clears_missing_mark() {
        let s = SqliteStore::in_memory().unwrap();
        let v = stock();
        s.ingest(
            &batch(
                v.iter()
                    .cloned()
                    .map(|v| Change::Upsert(Box::new(v)))
                    .collect(),
                "a",
                true,
            ),
            1,
        )
        .unwrap();
        s.ingest(
            &batch(
                v[1..]
                    .iter()
                    .cloned()
                    .map(|v| Change::Upsert(Box::new(v)))
                    .collect(),
                "b",
                true,
            ),
            2,
        )
        .unwrap();
        s.close_snapshot("dms", 1000, 0.5, 2).unwrap();
        s.ingest(
            &batch(
                v.iter()
                    .cloned()
                    .map(|v| Change::Upsert(Box::new(v)))
                    .collect(),
                "c",
                true,
            ),
            3,
        )
        .unwrap();
        s.close_snapshot("dms", 1000, 0.5, 5000).unwrap();
        assert!(s.vehicle(&v[0].stock_id).unwrap().unwrap().present);
    }

    #[test]
    fn audit_chain_detects_edits_and_deletions() {
        let s = SqliteStore::in_memory().unwrap();
        let mut v = stock();
        v[0].status = StockStatus::Sold;
        for (i, vehicle) in v.iter().enumerate().take(5) {
            s.ingest(
                &batch(
                    vec![Change::Upsert(Box::new(vehicle.clone()))],
                    &format!("c{i}"),
                    false,
                ),
                i as i64,
            )
            .unwrap();
        }
        assert_eq!(
            s.audit_verify().unwrap(),
            Verification::Intact { entries: 5 }
        );
        s.execute_raw("UPDATE audit SET actor = 'someone-else' WHERE seq = 3")
            .unwrap();
        assert!(matches!(
            s.audit_verify().unwrap(),
            Verification::Broken { seq: 3, .. }
        ));
        let s = SqliteStore::in_memory().unwrap();
        for (i, vehicle) in v.iter().enumerate().take(5) {
            s.ingest(
                &batch(
                    vec![Change::Upsert(Box::new(vehicle.clone()))],
                    &format!("c{i}"),
                    false,
                ),
                i as i64,
            )
            .unwrap();
        }
        s.execute_raw("DELETE FROM audit WHERE seq = 2").unwrap();
        assert!(matches!(
            s.audit_verify().unwrap(),
            Verification::Broken { seq: 2, .. }
        ));
        let s2 = SqliteStore::in_memory().unwrap();
        s2.ingest(
            &batch(vec![Change::Upsert(Box::new(v[0].clone()))], "x", false),
            1,
        )
        .unwrap();
        s2.execute_raw("DELETE FROM audit WHERE seq = 1").unwrap();
        // In memory there is no anchor: deleting the newest entry leaves a
        // shorter valid chain. A file-backed store anchors its head outside
        // the database and catches that too (next test).
        assert_eq!(
            s2.audit_verify().unwrap(),
            Verification::Intact { entries: 0 }
        );
    }

    #[test]
    fn anchored_head_catches_tail_truncation_and_rewrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forecourt.db");
        let v = stock();
        let fill = |s: &SqliteStore| {
            for (i, vehicle) in v.iter().enumerate().take(5) {
                s.ingest(
                    &batch(
                        vec![Change::Upsert(Box::new(vehicle.clone()))],
                        &format!("c{i}"),
                        false,
                    ),
                    i as i64,
                )
                .unwrap();
            }
        };
        let s = SqliteStore::open(&path).unwrap();
        fill(&s);
        assert_eq!(
            s.audit_verify().unwrap(),
            Verification::Intact { entries: 5 }
        );
        s.execute_raw("DELETE FROM audit WHERE seq >= 4").unwrap();
        match s.audit_verify().unwrap() {
            Verification::Broken { seq: 4, reason } => {
                assert!(reason.contains("entries 4..=5 are missing"), "{reason}")
            }
            other => panic!("truncation not detected: {other:?}"),
        }
        drop(s);
        // Rewriting the newest entry together with its hash keeps the chain
        // self-consistent; the anchor still tells.
        let path2 = dir.path().join("second.db");
        let s = SqliteStore::open(&path2).unwrap();
        fill(&s);
        s.execute_raw("UPDATE audit SET hash = '00', actor = 'x' WHERE seq = 5")
            .unwrap();
        assert!(matches!(
            s.audit_verify().unwrap(),
            Verification::Broken { seq: 5, .. }
        ));
    }

    #[test]
    fn a_corrective_job_is_timed_from_when_the_drift_was_seen() {
        let s = SqliteStore::in_memory().unwrap();
        let v = stock().remove(0);
        s.ingest(
            &batch(vec![Change::Upsert(Box::new(v.clone()))], "a", false),
            1,
        )
        .unwrap();
        let plan = |key: &str| live_on_p(&v, ("h", "{}"), "create", key);
        s.apply_plans(&[plan("k1")], 2).unwrap();
        let job = s.claim_jobs("p", "w", 10, 1000, 3).unwrap().remove(0);
        assert_eq!(
            job.seen_at, 1,
            "a DMS change is timed from when it was seen"
        );
        s.finish_jobs(
            &[(
                job,
                JobOutcome::Done {
                    remote_id: Some("r".into()),
                },
            )],
            4,
        )
        .unwrap();
        s.record_observed(&v.stock_id, "p", &Observed::Missing, 1000)
            .unwrap();
        s.apply_plans(&[plan("k2")], 1001).unwrap();
        let job = s.claim_jobs("p", "w", 10, 1000, 1002).unwrap().remove(0);
        assert_eq!(job.seen_at, 1000, "not from the months-old DMS change");
    }

    #[test]
    fn bodies_are_stored_once_and_kept_while_needed() {
        let s = SqliteStore::in_memory().unwrap();
        let v = stock().remove(0);
        s.ingest(
            &batch(vec![Change::Upsert(Box::new(v.clone()))], "a", false),
            1,
        )
        .unwrap();
        let body = |n: u32| format!("{{\"v\":{n}}}");
        let plan = |n: u32, kind: &str| {
            live_on_p(&v, (&format!("h{n}"), &body(n)), kind, &format!("k-{n}"))
        };
        let claim = |at: i64| s.claim_jobs("p", "w", 10, 1000, at).unwrap().remove(0);
        let done = |job: Job, at: i64| {
            let outcome = JobOutcome::Done {
                remote_id: Some("r".into()),
            };
            s.finish_jobs(&[(job, outcome)], at).unwrap();
        };
        let listing = || s.listing(&v.stock_id, "p").unwrap().unwrap();
        let stored = || {
            s.with(|c| {
                let mut stmt = c
                    .prepare("SELECT hash FROM listing_bodies ORDER BY hash")
                    .map_err(db("test"))?;
                let rows = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(db("test"))?;
                rows.collect::<Result<Vec<_>, _>>().map_err(db("test"))
            })
            .unwrap()
        };

        s.apply_plans(&[plan(1, "create")], 2).unwrap();
        assert_eq!(
            listing().published_body,
            None,
            "nothing is published before delivery"
        );
        assert_eq!(listing().desired_body, Some(body(1)));
        done(claim(3), 3);
        assert_eq!(listing().published_body, Some(body(1)));
        assert_eq!(
            stored(),
            ["h1"],
            "published and desired are one stored body"
        );

        // A new plan: until it is delivered, the previous body is what the
        // platform shows (and what an update is computed against). A plan
        // that supersedes it before it is sent drops its body.
        s.apply_plans(&[plan(2, "update")], 4).unwrap();
        assert_eq!(listing().published_body, Some(body(1)));
        assert_eq!(stored(), ["h1", "h2"]);
        s.apply_plans(&[plan(3, "update")], 5).unwrap();
        assert_eq!(stored(), ["h1", "h3"], "the superseded body went");
        done(claim(6), 6);
        assert_eq!(listing().published_body, Some(body(3)));
        assert_eq!(stored(), ["h3"]);

        // An operation being sent keeps its body, which becomes the
        // published one when it is acknowledged after a newer plan.
        s.apply_plans(&[plan(4, "update")], 7).unwrap();
        let sending = claim(8);
        s.apply_plans(&[plan(5, "update")], 9).unwrap();
        assert_eq!(stored(), ["h3", "h4", "h5"]);
        done(sending, 10);
        assert_eq!(listing().published_body, Some(body(4)));
        assert_eq!(stored(), ["h4", "h5"]);

        // Drift seen by reconciliation forgets the hash but keeps the body;
        // a listing missing from the platform has no published body.
        let observe =
            |observed: Observed| s.record_observed(&v.stock_id, "p", &observed, 11).unwrap();
        observe(Observed::Present {
            state: "live".into(),
            remote_id: "r".into(),
        });
        assert_eq!(listing().published_hash, None);
        assert_eq!(listing().published_body, Some(body(4)));
        observe(Observed::Missing);
        assert_eq!(listing().published_body, None);
        assert_eq!(stored(), ["h5"]);
    }

    #[test]
    fn listing_bodies_migration_keeps_every_desired_and_published_body() {
        let mut conn = Connection::open_in_memory().unwrap();
        let before = MIGRATIONS_BEFORE_LISTING_BODIES;
        migrations().to_version(&mut conn, before).unwrap();
        // Old rows: published body implied by equal hashes, kept beside a
        // newer desired one, kept after drift (no published hash), none.
        conn.execute_batch(
            "INSERT INTO listings (stock_id, platform, desired_state, desired_hash, desired_body,
                                   published_state, published_hash, published_body, lifecycle, updated_at) VALUES
               ('A', 'p', 'live', 'h1', 'b1', 'live', 'h1', NULL, 'in-sync', 1),
               ('B', 'p', 'live', 'h2', 'b2', 'live', 'h1', 'b1', 'pending', 1),
               ('C', 'p', 'live', 'h3', 'b3', 'live', NULL, 'b0', 'pending', 1),
               ('D', 'p', 'absent', NULL, NULL, 'removed', NULL, NULL, 'in-sync', 1);",
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let s = SqliteStore {
            conn: Mutex::new(conn),
            anchor: None,
            checkpointer: None,
        };
        let bodies = |id: &str| {
            let l = s.listing(id, "p").unwrap().unwrap();
            (l.desired_body, l.published_body)
        };
        let some = |b: &str| Some(b.to_string());
        assert_eq!(bodies("A"), (some("b1"), some("b1")));
        assert_eq!(bodies("B"), (some("b2"), some("b1")));
        assert_eq!(bodies("C"), (some("b3"), some("b0")));
        assert_eq!(bodies("D"), (None, None));
    }

    #[test]
    fn kv_is_namespaced_per_plugin() {
        let s = SqliteStore::in_memory().unwrap();
        s.set("a", "k", b"1").unwrap();
        s.set("b", "k", b"2").unwrap();
        assert_eq!(KvBackend::get(&s, "a", "k").unwrap().unwrap(), b"1");
        assert_eq!(s.key_count("a").unwrap(), 1);
        KvBackend::delete(&s, "a", "k").unwrap();
        assert!(KvBackend::get(&s, "a", "k").unwrap().is_none());
    }
}
