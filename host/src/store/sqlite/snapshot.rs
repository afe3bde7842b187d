//! Full snapshots on SQLite: which vehicles a snapshot named, the row
//! digests of sources that skip unchanged rows (`source_rows`, contract 1.2.0
//! `snapshot`), and closing a snapshot (grace period, shrink threshold).
//!
//! A snapshot that arrives in one page (an export file) is closed against
//! the stock ids it names, so an unchanged vehicle costs no write at all. A
//! snapshot in several pages marks each named vehicle with the snapshot's
//! sequence number instead, because its pages are stored in separate
//! transactions.

use super::{append_audit, db, exec, query_one, remove_vehicle};
use crate::store::audit::AuditEntry;
use crate::store::{IngestBatch, SnapshotOutcome, SnapshotRules, StoreResult};
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::HashSet;

/// Keeps `source_rows` true to what the store holds while a page is stored.
pub(super) struct SourceRows<'b> {
    source: &'b str,
    /// Whether any digest may exist to delete: false for a source that has
    /// never given one, so its upserts cost no extra statement.
    any: bool,
}

impl<'b> SourceRows<'b> {
    /// Starts a page: a new digest epoch forgets the source's old digests.
    pub(super) fn begin(tx: &Transaction, batch: &'b IngestBatch) -> StoreResult<Self> {
        if let Some(epoch) = &batch.digest_epoch {
            let stored: Option<String> = query_one(
                tx,
                "SELECT digest_epoch FROM source_cursors WHERE source = ?1",
                params![batch.source],
                |r| r.get(0),
            )
            .map_err(db("ingest"))?;
            if stored.as_ref() != Some(epoch) {
                exec(
                    tx,
                    "DELETE FROM source_rows WHERE source = ?1",
                    params![batch.source],
                )
                .map_err(db("ingest"))?;
                exec(
                    tx,
                    "UPDATE source_cursors SET digest_epoch = ?2 WHERE source = ?1",
                    params![batch.source, epoch],
                )
                .map_err(db("ingest"))?;
            }
        }
        let any = batch.digests.iter().any(Option::is_some)
            || query_one(tx, "SELECT EXISTS (SELECT 1 FROM source_rows)", [], |r| {
                r.get::<_, bool>(0)
            })
            .map_err(db("ingest"))?;
        Ok(Self {
            source: &batch.source,
            any,
        })
    }

    /// Records the digest of the row a vehicle was just upserted from, or
    /// forgets the old one when the upsert came without a digest.
    pub(super) fn set(
        &self,
        tx: &Transaction,
        stock_id: &str,
        digest: Option<&str>,
    ) -> StoreResult<()> {
        match digest {
            Some(digest) => exec(
                tx,
                "INSERT INTO source_rows (stock_id, source, digest) VALUES (?1, ?2, ?3)
                 ON CONFLICT(stock_id) DO UPDATE SET source = ?2, digest = ?3",
                params![stock_id, self.source, digest],
            ),
            None if self.any => forget(tx, stock_id),
            None => Ok(0),
        }
        .map_err(db("ingest"))?;
        Ok(())
    }
}

/// Forgets a vehicle's row digest (it was removed or replaced otherwise).
pub(super) fn forget(tx: &Transaction, stock_id: &str) -> rusqlite::Result<usize> {
    exec(
        tx,
        "DELETE FROM source_rows WHERE stock_id = ?1",
        params![stock_id],
    )
}

/// How the vehicles a page names are recorded as in the snapshot.
pub(super) struct Seen<'b> {
    /// The snapshot mark written on the vehicles this page stores (full
    /// snapshots only).
    pub(super) mark: Option<i64>,
    /// A snapshot in one page: the stock ids it names.
    named: Option<HashSet<&'b str>>,
    /// For a snapshot in one page: the source's vehicles already missing,
    /// whose `missing_since` is cleared if the snapshot names them.
    missing: HashSet<String>,
}

impl<'b> Seen<'b> {
    pub(super) fn begin(tx: &Transaction, batch: &IngestBatch, seq: i64) -> StoreResult<Self> {
        let whole = batch.full_snapshot && batch.snapshot_start && batch.close.is_some();
        let missing = if whole {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT stock_id FROM vehicles WHERE source = ?1 AND missing_since IS NOT NULL",
                )
                .map_err(db("ingest"))?;
            let rows = stmt
                .query_map(params![batch.source], |r| r.get(0))
                .map_err(db("ingest"))?;
            rows.collect::<Result<_, _>>().map_err(db("ingest"))?
        } else {
            HashSet::new()
        };
        Ok(Self {
            mark: batch.full_snapshot.then_some(seq),
            named: whole
                .then(|| HashSet::with_capacity(batch.changes.len() + batch.unchanged.len())),
            missing,
        })
    }

    /// A vehicle this page names and stores (with [`Seen::mark`]).
    pub(super) fn written(&mut self, stock_id: &'b str) {
        if let Some(named) = &mut self.named {
            named.insert(stock_id);
        }
    }

    /// A vehicle this page names whose stored content stays as it is.
    pub(super) fn unchanged(&mut self, tx: &Transaction, stock_id: &'b str) -> StoreResult<()> {
        match &mut self.named {
            Some(named) => {
                named.insert(stock_id);
                if self.missing.contains(stock_id) {
                    exec(
                        tx,
                        "UPDATE vehicles SET missing_since = NULL WHERE stock_id = ?1",
                        params![stock_id],
                    )
                    .map_err(db("ingest"))?;
                }
            }
            None => {
                exec(
                    tx,
                    "UPDATE vehicles SET snapshot_seq = COALESCE(?2, snapshot_seq), missing_since = NULL
                      WHERE stock_id = ?1 AND present = 1",
                    params![stock_id, self.mark],
                )
                .map_err(db("ingest"))?;
            }
        }
        Ok(())
    }

    /// The stock ids of a snapshot in one page; none for a page of a longer one.
    pub(super) fn named(&self) -> Option<&HashSet<&'b str>> {
        self.named.as_ref()
    }
}

/// Close a full snapshot of `source`: vehicles it did not name become
/// missing, and are removed after the grace period, unless more than the
/// threshold of the stock would go at once. `named` are the stock ids of a
/// snapshot in one page; without them the snapshot's marks decide.
pub(super) fn close_snapshot(
    tx: &Transaction,
    source: &str,
    named: Option<&HashSet<&str>>,
    rules: SnapshotRules,
    now: i64,
) -> StoreResult<SnapshotOutcome> {
    let err = || db("close snapshot");
    let seq: i64 = query_one(
        tx,
        "SELECT snapshot_seq FROM source_cursors WHERE source = ?1",
        params![source],
        |r| r.get(0),
    )
    .optional()
    .map_err(err())?
    .unwrap_or(0);
    exec(
        tx,
        "UPDATE source_cursors SET snapshot_open = 0 WHERE source = ?1",
        params![source],
    )
    .map_err(err())?;
    let (present, missing): (usize, Vec<(String, Option<i64>)>) = match named {
        Some(named) => {
            let present: Vec<String> = {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT stock_id FROM vehicles WHERE source = ?1 AND present = 1",
                    )
                    .map_err(err())?;
                let rows = stmt
                    .query_map(params![source], |r| r.get(0))
                    .map_err(err())?;
                rows.collect::<Result<_, _>>().map_err(err())?
            };
            let mut missing = Vec::new();
            for stock_id in present.iter().filter(|id| !named.contains(id.as_str())) {
                let since: Option<i64> = query_one(
                    tx,
                    "SELECT missing_since FROM vehicles WHERE stock_id = ?1",
                    params![stock_id],
                    |r| r.get(0),
                )
                .map_err(err())?;
                missing.push((stock_id.clone(), since));
            }
            (present.len(), missing)
        }
        None => {
            let present: i64 = query_one(
                tx,
                "SELECT COUNT(*) FROM vehicles WHERE source = ?1 AND present = 1",
                params![source],
                |r| r.get(0),
            )
            .map_err(err())?;
            let mut stmt = tx
                .prepare_cached("SELECT stock_id, missing_since FROM vehicles WHERE source = ?1 AND present = 1 AND (snapshot_seq IS NULL OR snapshot_seq < ?2)")
                .map_err(err())?;
            let rows = stmt
                .query_map(params![source, seq], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(err())?;
            let missing = rows.collect::<Result<_, _>>().map_err(err())?;
            (present as usize, missing)
        }
    };
    if present > 0 && missing.len() as f64 > present as f64 * rules.max_shrink {
        append_audit(
            tx,
            &AuditEntry::new("snapshot", &format!("source:{source}"))
                .step("held")
                .detail(serde_json::json!({"present": present, "missing": missing.len(), "threshold": rules.max_shrink})),
            now,
        )?;
        return Ok(SnapshotOutcome::Held {
            present,
            missing: missing.len(),
        });
    }
    let (mut newly_missing, mut removed) = (0, 0);
    for (stock_id, since) in missing {
        match since {
            None if rules.grace_ms > 0 => {
                exec(
                    tx,
                    "UPDATE vehicles SET missing_since = ?2 WHERE stock_id = ?1",
                    params![stock_id, now],
                )
                .map_err(err())?;
                newly_missing += 1;
            }
            Some(since) if now - since < rules.grace_ms => {}
            _ => {
                if remove_vehicle(tx, &stock_id, "snapshot-missing", now)? {
                    removed += 1;
                }
            }
        }
    }
    append_audit(
        tx,
        &AuditEntry::new("snapshot", &format!("source:{source}"))
            .step("closed")
            .detail(serde_json::json!({"newly_missing": newly_missing, "removed": removed})),
        now,
    )?;
    Ok(SnapshotOutcome::Applied {
        newly_missing,
        removed,
    })
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use crate::runtime::types::Vehicle;
    use crate::store::{Change, IngestBatch, SnapshotOutcome, SnapshotRules, Store};
    use proptest::prelude::*;

    const RULES: SnapshotRules = SnapshotRules {
        grace_ms: 1000,
        max_shrink: 0.5,
    };

    fn upsert(v: &Vehicle) -> Change {
        Change::Upsert(Box::new(v.clone()))
    }

    fn digest(v: &Vehicle) -> Option<String> {
        Some(format!("row-{}", v.stock_id))
    }

    /// A snapshot in one page, as the engine stores a `snapshot` pull:
    /// vehicles in `unchanged_ok` whose digest is known are named unchanged,
    /// the rest upserted with digests.
    fn one_page(
        s: &SqliteStore,
        vehicles: &[&Vehicle],
        unchanged_ok: &dyn Fn(&Vehicle) -> bool,
        epoch: &str,
        now: i64,
    ) -> SnapshotOutcome {
        let known: std::collections::HashSet<String> = s
            .source_rows("dms", epoch)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut batch = IngestBatch {
            source: "dms".into(),
            full_snapshot: true,
            snapshot_start: true,
            digest_epoch: Some(epoch.into()),
            close: Some(RULES),
            ..Default::default()
        };
        for v in vehicles {
            if unchanged_ok(v) && known.contains(&v.stock_id) {
                batch.unchanged.push(v.stock_id.clone());
            } else {
                batch.changes.push(upsert(v));
                batch.digests.push(digest(v));
            }
        }
        s.ingest(&batch, now).unwrap().snapshot.unwrap()
    }

    /// The same snapshot stored the way multi-page snapshots are: marks,
    /// then a separate close.
    fn marked(s: &SqliteStore, vehicles: &[&Vehicle], now: i64) -> SnapshotOutcome {
        let batch = IngestBatch {
            source: "dms".into(),
            changes: vehicles.iter().map(|v| upsert(v)).collect(),
            full_snapshot: true,
            snapshot_start: true,
            ..Default::default()
        };
        s.ingest(&batch, now).unwrap();
        s.close_snapshot("dms", RULES.grace_ms, RULES.max_shrink, now)
            .unwrap()
    }

    fn rows(s: &SqliteStore) -> Vec<(String, String)> {
        let mut rows = s.source_rows("dms", "e1").unwrap();
        rows.sort();
        rows
    }

    #[test]
    fn digests_describe_what_the_store_holds() {
        let s = SqliteStore::in_memory().unwrap();
        let v = crate::sample::sample_stock(4, 9);
        let all: Vec<&Vehicle> = v.iter().collect();
        one_page(&s, &all, &|_| false, "e1", 1);
        assert_eq!(rows(&s).len(), 4);
        assert!(
            s.source_rows("dms", "e2").unwrap().is_empty(),
            "digests of another plugin build or configuration are not handed over"
        );

        // An upsert without a digest (a push) forgets the row's digest.
        let pushed = IngestBatch {
            source: "dms".into(),
            changes: vec![upsert(&v[0])],
            ..Default::default()
        };
        s.ingest(&pushed, 2).unwrap();
        assert!(!rows(&s).iter().any(|(id, _)| *id == v[0].stock_id));

        // A removal forgets it too.
        let removed = IngestBatch {
            source: "dms".into(),
            changes: vec![Change::Remove(v[1].stock_id.clone())],
            ..Default::default()
        };
        s.ingest(&removed, 3).unwrap();
        assert_eq!(rows(&s).len(), 2);

        // A new epoch starts over: every row is upserted again with new digests.
        one_page(&s, &all, &|_| true, "e2", 4);
        assert!(s.source_rows("dms", "e1").unwrap().is_empty());
        assert_eq!(s.source_rows("dms", "e2").unwrap().len(), 4);
        assert!(s.vehicle(&v[1].stock_id).unwrap().unwrap().present);
    }

    #[test]
    fn unchanged_rows_keep_their_vehicle_and_clear_its_missing_mark() {
        let s = SqliteStore::in_memory().unwrap();
        let v = crate::sample::sample_stock(4, 9);
        let all: Vec<&Vehicle> = v.iter().collect();
        one_page(&s, &all, &|_| false, "e1", 1);
        // v[0] is missing from the next export: missing, inside the grace period.
        assert_eq!(
            one_page(&s, &all[1..], &|_| true, "e1", 10),
            SnapshotOutcome::Applied {
                newly_missing: 1,
                removed: 0
            }
        );
        // It comes back unchanged: named by digest, not upserted, and no
        // longer missing, so the grace period does not remove it later.
        let summary_before = s.vehicle(&v[0].stock_id).unwrap().unwrap();
        one_page(&s, &all, &|_| true, "e1", 20);
        assert_eq!(
            one_page(&s, &all, &|_| true, "e1", 5000),
            SnapshotOutcome::Applied {
                newly_missing: 0,
                removed: 0
            }
        );
        let after = s.vehicle(&v[0].stock_id).unwrap().unwrap();
        assert!(after.present);
        assert_eq!(after.content_hash, summary_before.content_hash);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Closing a one-page snapshot against the ids it names (with some
        /// of them named unchanged by digest) decides exactly what closing
        /// it by marks decides: the same outcome and the same present stock.
        #[test]
        fn one_page_close_matches_marks_close(
            steps in prop::collection::vec((any::<u16>(), any::<u16>(), 1i64..1500), 1..8)
        ) {
            let v = crate::sample::sample_stock(12, 4);
            let by_marks = SqliteStore::in_memory().unwrap();
            let by_names = SqliteStore::in_memory().unwrap();
            let mut now = 0;
            for (present_bits, unchanged_bits, gap) in steps {
                now += gap;
                let named: Vec<&Vehicle> = v
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| present_bits & (1 << i) != 0)
                    .map(|(_, v)| v)
                    .collect();
                let unchanged = |x: &Vehicle| {
                    v.iter().position(|y| y.stock_id == x.stock_id)
                        .is_some_and(|i| unchanged_bits & (1 << i) != 0)
                };
                let a = marked(&by_marks, &named, now);
                let b = one_page(&by_names, &named, &unchanged, "e1", now);
                prop_assert_eq!(a, b);
                for x in &v {
                    let present = |s: &SqliteStore| s.vehicle(&x.stock_id).unwrap().map(|s| s.present);
                    prop_assert_eq!(present(&by_marks), present(&by_names), "{}", x.stock_id);
                }
            }
        }
    }
}
