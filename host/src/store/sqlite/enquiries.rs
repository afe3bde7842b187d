//! Enquiries and their CRM deliveries in SQLite (`migrations/enquiries.sql`).

use super::*;
use crate::enquiries::{
    enquiry_uid, DeliveryJob, DeliveryOutcome, EnquiryIngest, EnquiryQuery, EnquiryStore,
    NewEnquiry, StoredEnquiry, Via,
};
use crate::runtime::types::Person;

const DELIVERY_COLS: &str = "d.id, d.enquiry_id, e.uid, d.target, d.attempts, d.resend, d.state, d.last_error, d.error_class, d.crm_ref";
const ENQUIRY_COLS: &str = "id, uid, platform, platform_enquiry_id, stock_id, remote_id, via, received_at, stored_at, customer, message, purged_at";

fn read_delivery(r: &rusqlite::Row) -> rusqlite::Result<DeliveryJob> {
    Ok(DeliveryJob {
        id: r.get(0)?,
        enquiry_id: r.get(1)?,
        uid: r.get(2)?,
        target: r.get(3)?,
        attempts: r.get(4)?,
        resend: r.get::<_, i64>(5)? != 0,
        state: r.get(6)?,
        last_error: r.get(7)?,
        error_class: r.get(8)?,
        crm_ref: r.get(9)?,
    })
}

fn read_enquiry(r: &rusqlite::Row) -> rusqlite::Result<(StoredEnquiry, Option<String>)> {
    Ok((
        StoredEnquiry {
            id: r.get(0)?,
            uid: r.get(1)?,
            platform: r.get(2)?,
            platform_enquiry_id: r.get(3)?,
            stock_id: r.get(4)?,
            remote_id: r.get(5)?,
            via: r.get(6)?,
            received_at: r.get(7)?,
            stored_at: r.get(8)?,
            customer: None,
            message: r.get(10)?,
            purged_at: r.get(11)?,
        },
        r.get(9)?,
    ))
}

fn decode_enquiry(
    op: &'static str,
    (mut enquiry, customer): (StoredEnquiry, Option<String>),
) -> StoreResult<StoredEnquiry> {
    enquiry.customer = customer
        .map(|c| serde_json::from_str::<Person>(&c))
        .transpose()
        .map_err(|e| StoreError::Corrupt {
            op,
            message: format!("enquiry {}: customer: {e}", enquiry.uid),
        })?;
    Ok(enquiry)
}

/// Error text as stored: personal data a CRM or SMTP server echoed is removed.
fn clean_error(message: &str) -> String {
    let (text, _) = crate::pii::redact(message);
    text.chars().take(2000).collect()
}

impl EnquiryStore for SqliteStore {
    fn store_enquiries(
        &self,
        platform: &str,
        via: Via,
        enquiries: &[NewEnquiry],
        cursor: Option<&str>,
        targets: &[String],
        now: i64,
    ) -> StoreResult<EnquiryIngest> {
        self.write("store enquiries", |tx| {
            let mut summary = EnquiryIngest::default();
            for e in enquiries {
                let uid = enquiry_uid(platform, &e.platform_enquiry_id);
                // The platform may name the listing by its own id only.
                let stock_id = match &e.stock_id {
                    Some(s) => Some(s.clone()),
                    None => match &e.remote_id {
                        Some(remote) => tx
                            .query_row(
                                "SELECT stock_id FROM listings WHERE platform = ?1 AND remote_id = ?2",
                                params![platform, remote],
                                |r| r.get::<_, String>(0),
                            )
                            .optional()
                            .map_err(db("store enquiries"))?,
                        None => None,
                    },
                };
                let customer = serde_json::to_string(&e.customer).expect("people serialise");
                let inserted = tx
                    .execute(
                        "INSERT INTO enquiries (uid, platform, platform_enquiry_id, stock_id, remote_id, via, received_at, stored_at, customer, message)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                         ON CONFLICT(platform, platform_enquiry_id) DO NOTHING",
                        params![uid, platform, e.platform_enquiry_id, stock_id, e.remote_id, via.name(), e.received_at_ms, now, customer, e.message],
                    )
                    .map_err(db("store enquiries"))?;
                if inserted == 0 {
                    summary.duplicates += 1;
                    continue;
                }
                summary.stored += 1;
                let id = tx.last_insert_rowid();
                for target in targets {
                    tx.execute(
                        "INSERT INTO enquiry_deliveries (enquiry_id, target, state, run_at, created_at) VALUES (?1, ?2, 'available', ?3, ?3)",
                        params![id, target, now],
                    )
                    .map_err(db("store enquiries"))?;
                }
                let mut entry = AuditEntry::new("enquiry", &format!("platform:{platform}"))
                    .platform(platform)
                    .step("received")
                    .detail(serde_json::json!({"enquiry": uid, "via": via.name(), "deliveries": targets}));
                if let Some(s) = &stock_id {
                    entry = entry.stock(s);
                }
                append_audit(tx, &entry, now)?;
            }
            if via == Via::Pull {
                tx.execute(
                    "INSERT INTO enquiry_cursors (platform, cursor, last_success_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(platform) DO UPDATE SET cursor = COALESCE(?2, cursor), last_success_at = ?3",
                    params![platform, cursor, now],
                )
                .map_err(db("store enquiries"))?;
            }
            Ok(summary)
        })
    }

    fn enquiry_cursor(&self, platform: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT cursor FROM enquiry_cursors WHERE platform = ?1",
                params![platform],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("enquiry cursor"))?
            .flatten())
        })
    }

    fn enquiry(&self, id: i64) -> StoreResult<Option<StoredEnquiry>> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {ENQUIRY_COLS} FROM enquiries WHERE id = ?1"),
                params![id],
                read_enquiry,
            )
            .optional()
            .map_err(db("enquiry"))?
            .map(|raw| decode_enquiry("enquiry", raw))
            .transpose()
        })
    }

    fn enquiries(&self, query: &EnquiryQuery) -> StoreResult<Vec<StoredEnquiry>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {ENQUIRY_COLS} FROM enquiries
                     WHERE (?1 IS NULL OR platform = ?1) AND (?2 IS NULL OR stock_id = ?2) AND (?3 IS NULL OR received_at >= ?3)
                     ORDER BY received_at DESC, id DESC LIMIT ?4"
                ))
                .map_err(db("enquiries"))?;
            let rows = stmt
                .query_map(
                    params![
                        query.platform,
                        query.stock_id,
                        query.since_ms,
                        query.limit.unwrap_or(100) as i64
                    ],
                    read_enquiry,
                )
                .map_err(db("enquiries"))?;
            rows.map(|r| decode_enquiry("enquiries", r.map_err(db("enquiries"))?))
                .collect()
        })
    }

    fn claim_deliveries(
        &self,
        target: &str,
        worker: &str,
        limit: usize,
        lease_ms: i64,
        now: i64,
    ) -> StoreResult<Vec<DeliveryJob>> {
        self.write("claim deliveries", |tx| {
            // A worker that died mid-call: the lead's id makes the retry safe.
            tx.execute(
                "UPDATE enquiry_deliveries SET state = 'available', worker = NULL WHERE target = ?1 AND state = 'running' AND lease_until < ?2",
                params![target, now],
            )
            .map_err(db("claim deliveries"))?;
            let ids: Vec<i64> = {
                let mut stmt = tx
                    .prepare(
                        "UPDATE enquiry_deliveries SET state = 'running', attempts = attempts + 1, lease_until = ?3, worker = ?4
                         WHERE id IN (SELECT id FROM enquiry_deliveries WHERE target = ?1 AND state = 'available' AND run_at <= ?2
                                      ORDER BY run_at, id LIMIT ?5)
                         RETURNING id",
                    )
                    .map_err(db("claim deliveries"))?;
                let rows = stmt
                    .query_map(params![target, now, now + lease_ms, worker, limit as i64], |r| r.get(0))
                    .map_err(db("claim deliveries"))?;
                rows.collect::<Result<_, _>>().map_err(db("claim deliveries"))?
            };
            let mut jobs = Vec::with_capacity(ids.len());
            for id in ids {
                jobs.push(
                    tx.query_row(
                        &format!("SELECT {DELIVERY_COLS} FROM enquiry_deliveries d JOIN enquiries e ON e.id = d.enquiry_id WHERE d.id = ?1"),
                        params![id],
                        read_delivery,
                    )
                    .map_err(db("claim deliveries"))?,
                );
            }
            jobs.sort_by_key(|j| j.id);
            Ok(jobs)
        })
    }

    fn finish_deliveries(
        &self,
        results: &[(DeliveryJob, DeliveryOutcome)],
        now: i64,
    ) -> StoreResult<()> {
        self.write("finish deliveries", |tx| {
            for (job, outcome) in results {
                let stock: Option<(String, Option<String>)> = tx
                    .query_row(
                        "SELECT platform, stock_id FROM enquiries WHERE id = ?1",
                        params![job.enquiry_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(db("finish deliveries"))?;
                let mut entry = AuditEntry::new("enquiry", "engine");
                if let Some((platform, stock_id)) = &stock {
                    entry = entry.platform(platform);
                    if let Some(s) = stock_id {
                        entry = entry.stock(s);
                    }
                }
                let entry = match outcome {
                    DeliveryOutcome::Done { crm_ref } => {
                        tx.execute(
                            "UPDATE enquiry_deliveries SET state = 'completed', finished_at = ?2, lease_until = NULL, crm_ref = ?3, last_error = NULL, error_class = NULL WHERE id = ?1",
                            params![job.id, now, crm_ref],
                        )
                        .map_err(db("finish deliveries"))?;
                        entry.step("delivered").detail(serde_json::json!({
                            "enquiry": job.uid, "target": job.target, "attempts": job.attempts, "crm_ref": crm_ref,
                        }))
                    }
                    DeliveryOutcome::Retry { run_at, class, message, counts } => {
                        tx.execute(
                            "UPDATE enquiry_deliveries SET state = 'available', run_at = ?2, lease_until = NULL, worker = NULL, last_error = ?3, error_class = ?4,
                               attempts = CASE WHEN ?5 THEN attempts ELSE attempts - 1 END WHERE id = ?1",
                            params![job.id, run_at, clean_error(message), class, counts],
                        )
                        .map_err(db("finish deliveries"))?;
                        entry.step("retry").error_class(class).detail(serde_json::json!({
                            "enquiry": job.uid, "target": job.target, "attempts": job.attempts, "run_at": run_at,
                        }))
                    }
                    DeliveryOutcome::Dead { class, message } => {
                        tx.execute(
                            "UPDATE enquiry_deliveries SET state = 'dead', finished_at = ?2, lease_until = NULL, last_error = ?3, error_class = ?4 WHERE id = ?1",
                            params![job.id, now, clean_error(message), class],
                        )
                        .map_err(db("finish deliveries"))?;
                        entry.step("dead-letter").error_class(class).detail(serde_json::json!({
                            "enquiry": job.uid, "target": job.target, "attempts": job.attempts,
                        }))
                    }
                };
                append_audit(tx, &entry, now)?;
            }
            Ok(())
        })
    }

    fn next_delivery_at(&self, target: &str) -> StoreResult<Option<i64>> {
        self.with(|c| {
            c.query_row(
                "SELECT MIN(run_at) FROM enquiry_deliveries WHERE target = ?1 AND state = 'available'",
                params![target],
                |r| r.get(0),
            )
            .map_err(db("next delivery"))
        })
    }

    fn delivery_queue_depth(&self, target: Option<&str>) -> StoreResult<i64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM enquiry_deliveries WHERE state IN ('available', 'running') AND (?1 IS NULL OR target = ?1)",
                params![target],
                |r| r.get(0),
            )
            .map_err(db("delivery queue"))
        })
    }

    fn delivery_dead_letters(&self, target: Option<&str>) -> StoreResult<Vec<DeliveryJob>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {DELIVERY_COLS} FROM enquiry_deliveries d JOIN enquiries e ON e.id = d.enquiry_id
                     WHERE d.state = 'dead' AND (?1 IS NULL OR d.target = ?1) ORDER BY d.finished_at DESC, d.id DESC"
                ))
                .map_err(db("delivery dead letters"))?;
            let rows = stmt
                .query_map(params![target], read_delivery)
                .map_err(db("delivery dead letters"))?;
            rows.collect::<Result<_, _>>()
                .map_err(db("delivery dead letters"))
        })
    }

    fn deliveries_of(&self, enquiry_id: i64) -> StoreResult<Vec<DeliveryJob>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {DELIVERY_COLS} FROM enquiry_deliveries d JOIN enquiries e ON e.id = d.enquiry_id
                     WHERE d.enquiry_id = ?1 ORDER BY d.target"
                ))
                .map_err(db("deliveries"))?;
            let rows = stmt
                .query_map(params![enquiry_id], read_delivery)
                .map_err(db("deliveries"))?;
            rows.collect::<Result<_, _>>().map_err(db("deliveries"))
        })
    }

    fn retry_delivery(&self, id: i64, actor: &str, now: i64) -> StoreResult<bool> {
        self.settle_dead_delivery(
            "retry delivery",
            "UPDATE enquiry_deliveries SET state = 'available', attempts = 0, run_at = ?2, finished_at = NULL WHERE id = ?1 AND state = 'dead'",
            "retry-enquiry-delivery",
            id,
            actor,
            now,
        )
    }

    fn discard_delivery(&self, id: i64, actor: &str, now: i64) -> StoreResult<bool> {
        self.settle_dead_delivery(
            "discard delivery",
            "UPDATE enquiry_deliveries SET state = 'discarded', finished_at = ?2 WHERE id = ?1 AND state = 'dead'",
            "discard-enquiry-delivery",
            id,
            actor,
            now,
        )
    }

    fn purge_enquiries(&self, before: i64, now: i64) -> StoreResult<usize> {
        // Deleted personal data must not linger in free space or the WAL:
        // secure_delete zeroes the old cells; the checkpoint below empties the WAL.
        let previous: i64 = self.with(|c| {
            let previous = c
                .pragma_query_value(None, "secure_delete", |r| r.get(0))
                .map_err(db("purge enquiries"))?;
            c.pragma_update(None, "secure_delete", "ON")
                .map_err(db("purge enquiries"))?;
            Ok(previous)
        })?;
        let n = self.write("purge enquiries", |tx| {
            tx.execute(
                "UPDATE enquiry_deliveries SET last_error = NULL
                 WHERE enquiry_id IN (SELECT id FROM enquiries WHERE purged_at IS NULL AND stored_at < ?1)",
                params![before],
            )
            .map_err(db("purge enquiries"))?;
            let n = tx
                .execute(
                    "UPDATE enquiries SET customer = NULL, message = NULL, purged_at = ?2 WHERE purged_at IS NULL AND stored_at < ?1",
                    params![before, now],
                )
                .map_err(db("purge enquiries"))?;
            if n > 0 {
                append_audit(
                    tx,
                    &AuditEntry::new("retention", "engine")
                        .step("enquiries-purged")
                        .detail(serde_json::json!({"enquiries": n, "stored_before": before})),
                    now,
                )?;
            }
            Ok(n)
        });
        self.with(|c| {
            c.pragma_update(None, "secure_delete", previous)
                .map_err(db("purge enquiries"))
        })?;
        let n = n?;
        if n > 0 {
            self.with(|c| {
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                    .map_err(db("purge enquiries"))
            })?;
        }
        Ok(n)
    }
}

impl SqliteStore {
    /// An operator's action on one dead delivery (`sql` takes `?1` id and
    /// `?2` now and only touches it while it is dead), audited when it applied.
    fn settle_dead_delivery(
        &self,
        op: &'static str,
        sql: &str,
        step: &str,
        id: i64,
        actor: &str,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(op, |tx| {
            let n = tx.execute(sql, params![id, now]).map_err(db(op))?;
            if n > 0 {
                append_audit(
                    tx,
                    &AuditEntry::new("operator", actor)
                        .step(step)
                        .detail(serde_json::json!({"delivery": id})),
                    now,
                )?;
            }
            Ok(n > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enquiry(id: &str, stock: Option<&str>) -> NewEnquiry {
        NewEnquiry {
            platform_enquiry_id: id.into(),
            stock_id: stock.map(str::to_string),
            remote_id: None,
            received_at_ms: 1_000,
            customer: Person {
                name: Some("Jane Buyer".into()),
                email: Some("jane@example.com".into()),
                phone: None,
                address: None,
            },
            message: Some("Is it available?".into()),
        }
    }

    fn targets() -> Vec<String> {
        vec!["crm".into(), "mail".into()]
    }

    #[test]
    fn duplicates_are_stored_once_and_queued_once_per_target() {
        let s = SqliteStore::in_memory().unwrap();
        let first = s
            .store_enquiries(
                "autotrader",
                Via::Pull,
                &[enquiry("E1", Some("S1")), enquiry("E2", None)],
                Some("c1"),
                &targets(),
                10,
            )
            .unwrap();
        assert_eq!(
            first,
            EnquiryIngest {
                stored: 2,
                duplicates: 0
            }
        );
        // The same enquiry pushed by webhook: recognised.
        let again = s
            .store_enquiries(
                "autotrader",
                Via::Push,
                &[enquiry("E1", Some("S1"))],
                None,
                &targets(),
                20,
            )
            .unwrap();
        assert_eq!(
            again,
            EnquiryIngest {
                stored: 0,
                duplicates: 1
            }
        );
        // Another platform may reuse the id.
        let other = s
            .store_enquiries(
                "website",
                Via::Push,
                &[enquiry("E1", None)],
                None,
                &targets(),
                20,
            )
            .unwrap();
        assert_eq!(other.stored, 1);
        assert_eq!(
            s.enquiry_cursor("autotrader").unwrap().as_deref(),
            Some("c1")
        );
        assert_eq!(s.delivery_queue_depth(None).unwrap(), 6);
        let all = s.enquiries(&EnquiryQuery::default()).unwrap();
        assert_eq!(all.len(), 3);
        let e1 = all
            .iter()
            .find(|e| e.platform == "autotrader" && e.platform_enquiry_id == "E1")
            .unwrap();
        assert_eq!(e1.via, "pull");
        assert_eq!(
            e1.customer.as_ref().unwrap().email.as_deref(),
            Some("jane@example.com")
        );
        // The audit trail names the enquiry, never the buyer.
        let audit = serde_json::to_string(&s.audit_tail(100).unwrap()).unwrap();
        assert!(
            !audit.contains("jane") && !audit.contains("Jane") && !audit.contains("available?"),
            "{audit}"
        );
        assert!(audit.contains(&e1.uid));
    }

    #[test]
    fn the_listing_id_finds_the_vehicle() {
        let s = SqliteStore::in_memory().unwrap();
        s.execute_raw("INSERT INTO listings (stock_id, platform, desired_state, published_state, remote_id, lifecycle, updated_at) VALUES ('S9', 'autotrader', 'live', 'live', 'R9', 'in-sync', 0)").unwrap();
        let mut e = enquiry("E9", None);
        e.remote_id = Some("R9".into());
        s.store_enquiries("autotrader", Via::Push, &[e], None, &[], 1)
            .unwrap();
        let stored = s.enquiries(&EnquiryQuery::default()).unwrap();
        assert_eq!(stored[0].stock_id.as_deref(), Some("S9"));
    }

    #[test]
    fn deliveries_retry_dead_letter_and_come_back() {
        let s = SqliteStore::in_memory().unwrap();
        s.store_enquiries(
            "autotrader",
            Via::Pull,
            &[enquiry("E1", Some("S1"))],
            None,
            &["crm".to_string()],
            0,
        )
        .unwrap();
        let jobs = s.claim_deliveries("crm", "w", 10, 1000, 0).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].attempts, 1);
        // Leased: nobody else gets it.
        assert!(s
            .claim_deliveries("crm", "w2", 10, 1000, 1)
            .unwrap()
            .is_empty());
        s.finish_deliveries(
            &[(
                jobs[0].clone(),
                DeliveryOutcome::Retry {
                    run_at: 50,
                    class: "transient".into(),
                    message: "503 for jane@example.com".into(),
                    counts: true,
                },
            )],
            2,
        )
        .unwrap();
        assert!(
            s.claim_deliveries("crm", "w", 10, 1000, 10)
                .unwrap()
                .is_empty(),
            "not due yet"
        );
        assert_eq!(s.next_delivery_at("crm").unwrap(), Some(50));
        let jobs = s.claim_deliveries("crm", "w", 10, 1000, 50).unwrap();
        assert_eq!(jobs[0].attempts, 2);
        assert_eq!(
            jobs[0].last_error.as_deref(),
            Some("503 for [email removed]")
        );
        s.finish_deliveries(
            &[(
                jobs[0].clone(),
                DeliveryOutcome::Dead {
                    class: "permanent".into(),
                    message: "no".into(),
                },
            )],
            60,
        )
        .unwrap();
        let dead = s.delivery_dead_letters(None).unwrap();
        assert_eq!(dead.len(), 1);
        assert!(s.retry_delivery(dead[0].id, "operator:t", 70).unwrap());
        let jobs = s.claim_deliveries("crm", "w", 10, 1000, 70).unwrap();
        assert_eq!(jobs[0].attempts, 1);
        s.finish_deliveries(
            &[(
                jobs[0].clone(),
                DeliveryOutcome::Done {
                    crm_ref: Some("L-1".into()),
                },
            )],
            80,
        )
        .unwrap();
        assert_eq!(s.delivery_queue_depth(None).unwrap(), 0);
        assert_eq!(
            s.deliveries_of(jobs[0].enquiry_id).unwrap()[0]
                .crm_ref
                .as_deref(),
            Some("L-1")
        );
        // An expired lease makes a job available again.
        s.store_enquiries(
            "autotrader",
            Via::Pull,
            &[enquiry("E2", None)],
            None,
            &["crm".to_string()],
            100,
        )
        .unwrap();
        assert_eq!(s.claim_deliveries("crm", "w", 10, 5, 100).unwrap().len(), 1);
        assert_eq!(s.claim_deliveries("crm", "w", 10, 5, 200).unwrap().len(), 1);
    }

    #[test]
    fn purging_deletes_personal_data_but_keeps_the_dedup_key() {
        let s = SqliteStore::in_memory().unwrap();
        s.store_enquiries(
            "autotrader",
            Via::Pull,
            &[enquiry("E1", Some("S1"))],
            None,
            &["crm".to_string()],
            1_000,
        )
        .unwrap();
        s.store_enquiries(
            "autotrader",
            Via::Pull,
            &[enquiry("E2", Some("S2"))],
            None,
            &[],
            5_000,
        )
        .unwrap();
        let jobs = s.claim_deliveries("crm", "w", 10, 1000, 1_000).unwrap();
        s.finish_deliveries(
            &[(
                jobs[0].clone(),
                DeliveryOutcome::Dead {
                    class: "permanent".into(),
                    message: "bad lead".into(),
                },
            )],
            1_001,
        )
        .unwrap();
        assert_eq!(s.purge_enquiries(2_000, 9_000).unwrap(), 1);
        assert_eq!(s.purge_enquiries(2_000, 9_001).unwrap(), 0, "purged once");
        let all = s.enquiries(&EnquiryQuery::default()).unwrap();
        let e1 = all.iter().find(|e| e.platform_enquiry_id == "E1").unwrap();
        assert!(e1.customer.is_none() && e1.message.is_none());
        assert_eq!(e1.purged_at, Some(9_000));
        assert_eq!(
            e1.stock_id.as_deref(),
            Some("S1"),
            "the anonymous fact stays for the report"
        );
        let e2 = all.iter().find(|e| e.platform_enquiry_id == "E2").unwrap();
        assert!(e2.customer.is_some());
        assert!(s.delivery_dead_letters(None).unwrap()[0]
            .last_error
            .is_none());
        // Pulled again after the purge: still a duplicate, not a new lead.
        let again = s
            .store_enquiries(
                "autotrader",
                Via::Pull,
                &[enquiry("E1", Some("S1"))],
                None,
                &["crm".to_string()],
                10_000,
            )
            .unwrap();
        assert_eq!(again.duplicates, 1);
    }
}
