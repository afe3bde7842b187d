//! Alert state and the alerting signals' queries on SQLite (tables in
//! `store/alerts.sql`).

use super::{db, SqliteStore};
use crate::alerts::signals::SoldListing;
use crate::alerts::state::{AlertRecord, AlertStore, Notice, Told};
use crate::store::{StoreError, StoreResult};
use rusqlite::params;

impl AlertStore for SqliteStore {
    fn alert_records(&self) -> StoreResult<Vec<AlertRecord>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT key, rule, subject, headline, details, firing_since, resolved_at, updated_at
                     FROM alerts_firing ORDER BY firing_since, key",
                )
                .map_err(db("alert records"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        AlertRecord {
                            key: r.get(0)?,
                            rule: r.get(1)?,
                            subject: r.get(2)?,
                            headline: r.get(3)?,
                            details: Vec::new(),
                            firing_since: r.get(5)?,
                            resolved_at: r.get(6)?,
                            updated_at: r.get(7)?,
                        },
                        r.get::<_, String>(4)?,
                    ))
                })
                .map_err(db("alert records"))?;
            let mut out = Vec::new();
            for row in rows {
                let (mut record, details) = row.map_err(db("alert records"))?;
                record.details =
                    serde_json::from_str(&details).map_err(|e| StoreError::Corrupt {
                        op: "alert records",
                        message: format!("details of {}: {e}", record.key),
                    })?;
                out.push(record);
            }
            Ok(out)
        })
    }

    fn save_alert_records(&self, records: &[AlertRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.write("save alerts", |tx| {
            for r in records {
                tx.execute(
                    "INSERT INTO alerts_firing (key, rule, subject, headline, details, firing_since, resolved_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(key) DO UPDATE SET rule = ?2, subject = ?3, headline = ?4, details = ?5,
                       firing_since = ?6, resolved_at = ?7, updated_at = ?8",
                    params![
                        r.key,
                        r.rule,
                        r.subject,
                        r.headline,
                        serde_json::to_string(&r.details).expect("strings serialise"),
                        r.firing_since,
                        r.resolved_at,
                        r.updated_at
                    ],
                )
                .map_err(db("save alerts"))?;
            }
            Ok(())
        })
    }

    fn alert_notices(&self) -> StoreResult<Vec<Notice>> {
        self.with(|c| {
            let mut stmt = c
                .prepare("SELECT key, channel, state, sent_at FROM alerts_notified ORDER BY key, channel")
                .map_err(db("alert notices"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(Notice {
                        key: r.get(0)?,
                        channel: r.get(1)?,
                        told: if r.get::<_, String>(2)? == "resolved" {
                            Told::Resolved
                        } else {
                            Told::Firing
                        },
                        sent_at: r.get(3)?,
                    })
                })
                .map_err(db("alert notices"))?;
            rows.collect::<Result<_, _>>().map_err(db("alert notices"))
        })
    }

    fn record_notices(&self, notices: &[Notice]) -> StoreResult<()> {
        if notices.is_empty() {
            return Ok(());
        }
        self.write("record alert notices", |tx| {
            for n in notices {
                tx.execute(
                    "INSERT INTO alerts_notified (key, channel, state, sent_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(key, channel) DO UPDATE SET state = ?3, sent_at = ?4",
                    params![n.key, n.channel, n.told.as_str(), n.sent_at],
                )
                .map_err(db("record alert notices"))?;
            }
            Ok(())
        })
    }

    fn prune_alerts(&self, channels: &[String]) -> StoreResult<()> {
        let channels = serde_json::to_string(channels).expect("strings serialise");
        self.write("prune alerts", |tx| {
            tx.execute(
                "DELETE FROM alerts_notified WHERE channel NOT IN (SELECT value FROM json_each(?1))",
                params![channels],
            )
            .map_err(db("prune alerts"))?;
            tx.execute(
                "DELETE FROM alerts_firing WHERE resolved_at IS NOT NULL AND NOT EXISTS
                   (SELECT 1 FROM alerts_notified n WHERE n.key = alerts_firing.key AND n.state = 'firing')",
                [],
            )
            .map_err(db("prune alerts"))?;
            tx.execute(
                "DELETE FROM alerts_notified WHERE key NOT IN (SELECT key FROM alerts_firing)",
                [],
            )
            .map_err(db("prune alerts"))?;
            Ok(())
        })
    }

    fn recent_results(&self, platform: &str, limit: usize) -> StoreResult<Vec<Option<String>>> {
        self.with(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT error_class FROM audit WHERE kind = 'result' AND platform = ?1
                     ORDER BY at DESC, seq DESC LIMIT ?2",
                )
                .map_err(db("recent results"))?;
            let rows = stmt
                .query_map(params![platform, limit as i64], |r| r.get(0))
                .map_err(db("recent results"))?;
            rows.collect::<Result<_, _>>().map_err(db("recent results"))
        })
    }

    fn results_since(&self, platform: &str, since: i64) -> StoreResult<Vec<(Option<String>, u64)>> {
        self.with(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT error_class, COUNT(*) FROM audit WHERE kind = 'result' AND platform = ?1 AND at >= ?2
                     GROUP BY error_class",
                )
                .map_err(db("results since"))?;
            let rows = stmt
                .query_map(params![platform, since], |r| {
                    Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
                })
                .map_err(db("results since"))?;
            rows.collect::<Result<_, _>>().map_err(db("results since"))
        })
    }

    fn sold_still_listed(&self) -> StoreResult<Vec<SoldListing>> {
        // "Since" is the first history entry after the vehicle was last
        // advertisable: the sale, withdrawal or removal, not a later edit.
        self.with(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT v.stock_id, json_extract(v.record, '$.registration'),
                            CASE WHEN v.present = 0 THEN 'removed' ELSE v.status END,
                            l.platform,
                            COALESCE(
                              (SELECT MIN(h.at) FROM vehicle_history h
                                WHERE h.stock_id = v.stock_id
                                  AND h.id > COALESCE((SELECT MAX(h2.id) FROM vehicle_history h2
                                                        WHERE h2.stock_id = v.stock_id AND h2.change = 'upsert'
                                                          AND h2.status IN ('due-in', 'in-stock', 'reserved')), 0)),
                              v.updated_at)
                     FROM listings l JOIN vehicles v ON v.stock_id = l.stock_id
                     WHERE l.published_state IN ('live', 'reserved')
                       AND (v.present = 0 OR v.status IN ('sold', 'withdrawn'))
                     ORDER BY l.platform, 5, v.stock_id",
                )
                .map_err(db("sold still listed"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(SoldListing {
                        stock_id: r.get(0)?,
                        registration: r.get(1)?,
                        reason: r.get(2)?,
                        platform: r.get(3)?,
                        since: r.get(4)?,
                    })
                })
                .map_err(db("sold still listed"))?;
            rows.collect::<Result<_, _>>().map_err(db("sold still listed"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::state::AlertStore;
    use crate::store::{Change, IngestBatch, Store};

    fn ingest(store: &SqliteStore, vehicles: Vec<crate::runtime::types::Vehicle>, now: i64) {
        store
            .ingest(
                &IngestBatch {
                    source: "dms".into(),
                    changes: vehicles
                        .into_iter()
                        .map(|v| Change::Upsert(Box::new(v)))
                        .collect(),
                    next_cursor: None,
                    full_snapshot: false,
                    snapshot_start: false,
                    ..Default::default()
                },
                now,
            )
            .unwrap();
    }

    #[test]
    fn alert_state_round_trips_and_prunes() {
        let s = SqliteStore::in_memory().unwrap();
        let record = AlertRecord {
            key: "platform_paused:autotrader".into(),
            rule: "platform_paused".into(),
            subject: "autotrader".into(),
            headline: "autotrader is paused".into(),
            details: vec!["one".into(), "two".into()],
            firing_since: 10,
            resolved_at: None,
            updated_at: 11,
        };
        s.save_alert_records(std::slice::from_ref(&record)).unwrap();
        assert_eq!(s.alert_records().unwrap(), vec![record.clone()]);
        let notice = |channel: &str, told| Notice {
            key: record.key.clone(),
            channel: channel.into(),
            told,
            sent_at: 12,
        };
        s.record_notices(&[notice("mail", Told::Firing), notice("old", Told::Firing)])
            .unwrap();
        // A channel that left the configuration is forgotten.
        s.prune_alerts(&["mail".into()]).unwrap();
        assert_eq!(
            s.alert_notices().unwrap(),
            vec![notice("mail", Told::Firing)]
        );
        // Cleared, but mail is owed a recovery: kept.
        let resolved = AlertRecord {
            resolved_at: Some(20),
            ..record.clone()
        };
        s.save_alert_records(std::slice::from_ref(&resolved))
            .unwrap();
        s.prune_alerts(&["mail".into()]).unwrap();
        assert_eq!(s.alert_records().unwrap(), vec![resolved]);
        // Told: both go.
        s.record_notices(&[notice("mail", Told::Resolved)]).unwrap();
        s.prune_alerts(&["mail".into()]).unwrap();
        assert!(s.alert_records().unwrap().is_empty());
        assert!(s.alert_notices().unwrap().is_empty());
    }

    #[test]
    fn sold_still_listed_dates_from_the_sale_not_later_edits() {
        use crate::runtime::types::StockStatus;
        let s = SqliteStore::in_memory().unwrap();
        let mut stock = crate::sample::sample_stock(3, 5);
        for v in &mut stock {
            v.status = StockStatus::InStock;
        }
        ingest(&s, stock.clone(), 1_000);
        s.execute_raw(
            "INSERT INTO listings (stock_id, platform, desired_state, published_state, lifecycle, updated_at)
             SELECT stock_id, 'autotrader', 'live', 'live', 'in-sync', 0 FROM vehicles",
        )
        .unwrap();
        assert!(s.sold_still_listed().unwrap().is_empty());
        stock[0].status = StockStatus::Sold;
        ingest(&s, vec![stock[0].clone()], 2_000);
        stock[0].price.as_mut().unwrap().amount_minor += 100;
        ingest(&s, vec![stock[0].clone()], 3_000);
        let sold = s.sold_still_listed().unwrap();
        assert_eq!(sold.len(), 1, "{sold:?}");
        assert_eq!(sold[0].stock_id, stock[0].stock_id);
        assert_eq!(sold[0].registration, stock[0].registration);
        assert_eq!((sold[0].reason.as_str(), sold[0].since), ("sold", 2_000));
        assert_eq!(sold[0].platform, "autotrader");
    }
}
