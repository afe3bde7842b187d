//! The SQLite side of [`QualityStore`] (tables in `store/quality.sql`).

use super::{append_audit, db, exec, query_one, SqliteStore};
use crate::quality::completeness::Completeness;
use crate::quality::image_probe::{CachedSize, Measured};
use crate::quality::{MileageReading, QualityStore};
use crate::store::audit::AuditEntry;
use crate::store::StoreResult;
use rusqlite::{params, params_from_iter, OptionalExtension};
use std::collections::HashMap;

impl QualityStore for SqliteStore {
    fn image_sizes(&self, urls: &[String]) -> StoreResult<HashMap<String, CachedSize>> {
        let mut out = HashMap::new();
        self.with(|c| {
            for chunk in urls.chunks(400) {
                let marks = vec!["?"; chunk.len()].join(",");
                let mut stmt = c
                    .prepare_cached(&format!(
                        "SELECT url, width, height, failure, checked_at FROM quality_image_sizes WHERE url IN ({marks})"
                    ))
                    .map_err(db("image sizes"))?;
                let rows = stmt
                    .query_map(params_from_iter(chunk.iter()), |r| {
                        let (w, h, failure): (Option<u32>, Option<u32>, Option<String>) =
                            (r.get(1)?, r.get(2)?, r.get(3)?);
                        let measured = match (w, h, failure) {
                            (Some(w), Some(h), None) => Measured::Size(w, h),
                            (_, _, f) => Measured::Failed(f.unwrap_or_default()),
                        };
                        Ok((r.get::<_, String>(0)?, CachedSize { measured, at: r.get(4)? }))
                    })
                    .map_err(db("image sizes"))?;
                for row in rows {
                    let (url, size) = row.map_err(db("image sizes"))?;
                    out.insert(url, size);
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn put_image_size(&self, url: &str, measured: &Measured, now: i64) -> StoreResult<()> {
        let (w, h, failure) = match measured {
            Measured::Size(w, h) => (Some(*w), Some(*h), None),
            Measured::Failed(why) => (None, None, Some(why.as_str())),
        };
        self.write("cache image size", |tx| {
            tx.execute(
                "INSERT INTO quality_image_sizes (url, width, height, failure, checked_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(url) DO UPDATE SET width = ?2, height = ?3, failure = ?4, checked_at = ?5",
                params![url, w, h, failure, now],
            )
            .map_err(db("cache image size"))
            .map(drop)
        })
    }

    fn last_mileage(
        &self,
        stock_id: &str,
        vin: Option<&str>,
    ) -> StoreResult<Option<MileageReading>> {
        self.with(|c| {
            query_one(
                c,
                "SELECT stock_id, vin, miles, at FROM quality_mileage_readings
                 WHERE stock_id = ?1 OR (?2 IS NOT NULL AND vin = ?2) ORDER BY id DESC LIMIT 1",
                params![stock_id, vin],
                |r| {
                    Ok(MileageReading {
                        stock_id: r.get(0)?,
                        vin: r.get(1)?,
                        miles: r.get(2)?,
                        at: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(db("last mileage"))
        })
    }

    fn record_mileage(&self, readings: &[MileageReading]) -> StoreResult<()> {
        if readings.is_empty() {
            return Ok(());
        }
        self.write("record mileage", |tx| {
            for r in readings {
                let last: Option<u32> = query_one(
                    tx,
                    "SELECT miles FROM quality_mileage_readings WHERE stock_id = ?1 ORDER BY id DESC LIMIT 1",
                    params![r.stock_id],
                    |row| row.get(0),
                )
                .optional()
                .map_err(db("record mileage"))?;
                if last != Some(r.miles) {
                    exec(
                        tx,
                        "INSERT INTO quality_mileage_readings (stock_id, vin, miles, at) VALUES (?1, ?2, ?3, ?4)",
                        params![r.stock_id, r.vin, r.miles, r.at],
                    )
                    .map_err(db("record mileage"))?;
                }
            }
            Ok(())
        })
    }

    fn reset_mileage(&self, stock_id: &str, actor: &str, now: i64) -> StoreResult<usize> {
        self.write("reset mileage", |tx| {
            let vin: Option<String> = tx
                .query_row(
                    "SELECT vin FROM quality_mileage_readings WHERE stock_id = ?1 AND vin IS NOT NULL ORDER BY id DESC LIMIT 1",
                    params![stock_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db("reset mileage"))?;
            let n = tx
                .execute(
                    "DELETE FROM quality_mileage_readings WHERE stock_id = ?1 OR (?2 IS NOT NULL AND vin = ?2)",
                    params![stock_id, vin],
                )
                .map_err(db("reset mileage"))?;
            tx.execute(
                "UPDATE vehicles SET plan_needed = plan_needed + 1 WHERE stock_id = ?1",
                params![stock_id],
            )
            .map_err(db("reset mileage"))?;
            append_audit(
                tx,
                &AuditEntry::new("operator", actor)
                    .stock(stock_id)
                    .step("mileage-reset")
                    .detail(serde_json::json!({"readings": n})),
                now,
            )?;
            Ok(n)
        })
    }

    fn put_completeness(&self, rows: &[Completeness], cleared: &[String]) -> StoreResult<()> {
        if rows.is_empty() && cleared.is_empty() {
            return Ok(());
        }
        self.write("store completeness", |tx| {
            for id in cleared {
                exec(tx, "DELETE FROM quality_completeness WHERE stock_id = ?1", params![id])
                    .map_err(db("store completeness"))?;
            }
            for r in rows {
                exec(
                    tx,
                    "INSERT INTO quality_completeness (stock_id, platform, score, required_missing, recommended_missing, images, ideal_images, computed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(stock_id, platform) DO UPDATE SET score = ?3, required_missing = ?4, recommended_missing = ?5,
                       images = ?6, ideal_images = ?7, computed_at = ?8",
                    params![
                        r.stock_id,
                        r.platform,
                        r.score,
                        serde_json::to_string(&r.required_missing).expect("lists serialise"),
                        serde_json::to_string(&r.recommended_missing).expect("lists serialise"),
                        r.images,
                        r.ideal_images,
                        r.computed_at
                    ],
                )
                .map_err(db("store completeness"))?;
            }
            Ok(())
        })
    }

    fn completeness(&self, platform: Option<&str>) -> StoreResult<Vec<Completeness>> {
        self.with(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT q.stock_id, q.platform, q.score, q.required_missing, q.recommended_missing, q.images, q.ideal_images, q.computed_at
                     FROM quality_completeness q JOIN vehicles v ON v.stock_id = q.stock_id AND v.present = 1
                     WHERE ?1 IS NULL OR q.platform = ?1 ORDER BY q.score, q.stock_id, q.platform",
                )
                .map_err(db("completeness"))?;
            let rows = stmt
                .query_map(params![platform], |r| {
                    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
                    Ok(Completeness {
                        stock_id: r.get(0)?,
                        platform: r.get(1)?,
                        score: r.get(2)?,
                        required_missing: list(r.get(3)?),
                        recommended_missing: list(r.get(4)?),
                        images: r.get(5)?,
                        ideal_images: r.get(6)?,
                        computed_at: r.get(7)?,
                    })
                })
                .map_err(db("completeness"))?;
            rows.collect::<Result<_, _>>().map_err(db("completeness"))
        })
    }

    fn request_replan(&self, stock_ids: &[String]) -> StoreResult<usize> {
        if stock_ids.is_empty() {
            return Ok(0);
        }
        self.write("request re-plan", |tx| {
            let mut n = 0;
            for id in stock_ids {
                n += tx
                    .execute(
                        "UPDATE vehicles SET plan_needed = plan_needed + 1 WHERE stock_id = ?1 AND present = 1",
                        params![id],
                    )
                    .map_err(db("request re-plan"))?;
            }
            Ok(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::completeness::Completeness;
    use crate::store::{Change, IngestBatch, Store};

    fn store_with(n: usize) -> (SqliteStore, Vec<crate::runtime::types::Vehicle>) {
        let s = SqliteStore::in_memory().unwrap();
        let stock = crate::sample::sample_stock(n, 5);
        s.ingest(
            &IngestBatch {
                source: "dms".into(),
                changes: stock
                    .iter()
                    .cloned()
                    .map(|v| Change::Upsert(Box::new(v)))
                    .collect(),
                next_cursor: None,
                full_snapshot: false,
                snapshot_start: false,
                ..Default::default()
            },
            1,
        )
        .unwrap();
        (s, stock)
    }

    #[test]
    fn image_sizes_are_cached_by_url() {
        let (s, _) = store_with(1);
        s.put_image_size("https://a/1.jpg", &Measured::Size(1024, 768), 5)
            .unwrap();
        s.put_image_size("https://a/2.jpg", &Measured::Failed("HTTP 404".into()), 6)
            .unwrap();
        let got = s
            .image_sizes(&[
                "https://a/1.jpg".into(),
                "https://a/2.jpg".into(),
                "https://a/3.jpg".into(),
            ])
            .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got["https://a/1.jpg"].measured, Measured::Size(1024, 768));
        assert_eq!(
            got["https://a/2.jpg"].measured,
            Measured::Failed("HTTP 404".into())
        );
        s.put_image_size("https://a/2.jpg", &Measured::Size(800, 600), 7)
            .unwrap();
        assert_eq!(
            s.image_sizes(&["https://a/2.jpg".into()]).unwrap()["https://a/2.jpg"],
            CachedSize {
                measured: Measured::Size(800, 600),
                at: 7
            }
        );
    }

    #[test]
    fn mileage_history_by_stock_id_and_vin_and_reset() {
        let (s, stock) = store_with(2);
        let id = &stock[0].stock_id;
        let r = |stock_id: &str, vin: Option<&str>, miles, at| MileageReading {
            stock_id: stock_id.into(),
            vin: vin.map(str::to_string),
            miles,
            at,
        };
        assert_eq!(s.last_mileage(id, None).unwrap(), None);
        s.record_mileage(&[r(id, Some("VIN1"), 10_000, 1)]).unwrap();
        s.record_mileage(&[r(id, Some("VIN1"), 10_000, 2)]).unwrap();
        s.record_mileage(&[r(id, Some("VIN1"), 12_000, 3)]).unwrap();
        assert_eq!(s.last_mileage(id, None).unwrap().unwrap().miles, 12_000);
        // The same car back under another stock id is found by its VIN.
        assert_eq!(
            s.last_mileage("NEW-ID", Some("VIN1"))
                .unwrap()
                .unwrap()
                .miles,
            12_000
        );
        assert_eq!(s.last_mileage("NEW-ID", Some("VIN2")).unwrap(), None);
        assert_eq!(
            s.reset_mileage(id, "operator:test", 9).unwrap(),
            2,
            "equal readings are not repeated"
        );
        assert_eq!(s.last_mileage(id, Some("VIN1")).unwrap(), None);
        assert!(matches!(
            s.audit_verify().unwrap(),
            crate::store::audit::Verification::Intact { .. }
        ));
    }

    #[test]
    fn completeness_is_stored_replaced_cleared_and_summarised() {
        let (s, stock) = store_with(3);
        let row = |i: usize, platform: &str, score: i64, missing: &[&str]| Completeness {
            stock_id: stock[i].stock_id.clone(),
            platform: platform.into(),
            score,
            required_missing: missing.iter().map(|s| s.to_string()).collect(),
            recommended_missing: vec!["vin".into()],
            images: 10,
            ideal_images: 20,
            computed_at: 1,
        };
        s.put_completeness(
            &[
                row(0, "a", 90, &[]),
                row(1, "a", 50, &["price"]),
                row(1, "b", 70, &[]),
            ],
            &[],
        )
        .unwrap();
        s.put_completeness(&[row(0, "a", 95, &[])], &[]).unwrap();
        let all = s.completeness(None).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].score, 50, "lowest first");
        assert_eq!(all[0].required_missing, vec!["price"]);
        assert_eq!(s.completeness(Some("a")).unwrap().len(), 2);
        let summary = s.completeness_summary().unwrap();
        let a = summary.iter().find(|p| p.platform == "a").unwrap();
        assert_eq!((a.vehicles, a.average, a.lowest), (2, 72.5, 50));
        s.put_completeness(&[], &[stock[1].stock_id.clone()])
            .unwrap();
        assert_eq!(s.completeness(None).unwrap().len(), 1);
    }

    #[test]
    fn replan_requests_raise_the_plan_flag() {
        let (s, stock) = store_with(2);
        while !s.vehicles_to_plan(10).unwrap().is_empty() {
            let batch = s.vehicles_to_plan(10).unwrap();
            let plans: Vec<_> = batch
                .iter()
                .map(|v| crate::store::VehiclePlan {
                    stock_id: v.record.stock_id.clone(),
                    content_hash: v.content_hash.clone(),
                    plan_token: v.plan_token,
                    listings: vec![],
                })
                .collect();
            s.apply_plans(&plans, 2).unwrap();
        }
        assert_eq!(
            s.request_replan(&[stock[1].stock_id.clone(), "UNKNOWN".into()])
                .unwrap(),
            1
        );
        let again = s.vehicles_to_plan(10).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].record.stock_id, stock[1].stock_id);
    }

    #[test]
    fn a_replan_request_during_planning_is_not_lost() {
        let (s, stock) = store_with(1);
        let id = stock[0].stock_id.clone();
        let read = s.vehicles_to_plan(10).unwrap();
        // An image size arrives after the planner read the vehicle and
        // before it stored the plan.
        s.request_replan(std::slice::from_ref(&id)).unwrap();
        let plans: Vec<_> = read
            .iter()
            .map(|v| crate::store::VehiclePlan {
                stock_id: v.record.stock_id.clone(),
                content_hash: v.content_hash.clone(),
                plan_token: v.plan_token,
                listings: vec![],
            })
            .collect();
        s.apply_plans(&plans, 2).unwrap();
        let again = s.vehicles_to_plan(10).unwrap();
        assert_eq!(again.len(), 1, "the request made during planning stays");
        assert!(again[0].plan_token > read[0].plan_token);
        // Planned with the newer token, it is cleared.
        let plans: Vec<_> = again
            .iter()
            .map(|v| crate::store::VehiclePlan {
                stock_id: v.record.stock_id.clone(),
                content_hash: v.content_hash.clone(),
                plan_token: v.plan_token,
                listings: vec![],
            })
            .collect();
        s.apply_plans(&plans, 3).unwrap();
        assert!(s.vehicles_to_plan(10).unwrap().is_empty());
    }
}
