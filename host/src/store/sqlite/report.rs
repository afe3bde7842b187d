//! The facts of the channel report, read from SQLite.

use super::*;
use crate::report::{category, EnquiryFact, PriceFact, ReportStore, VehicleFact};

impl ReportStore for SqliteStore {
    fn vehicle_facts(&self) -> StoreResult<Vec<VehicleFact>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT v.stock_id, v.record,
                            (SELECT MIN(at) FROM vehicle_history h WHERE h.stock_id = v.stock_id),
                            (SELECT MIN(at) FROM vehicle_history h WHERE h.stock_id = v.stock_id AND h.status = 'sold')
                     FROM vehicles v",
                )
                .map_err(db("report vehicles"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    ))
                })
                .map_err(db("report vehicles"))?;
            let mut out = Vec::new();
            for row in rows {
                let (stock_id, record, first_seen, sold_at) = row.map_err(db("report vehicles"))?;
                let vehicle: Vehicle = serde_json::from_str(&record).map_err(|e| StoreError::Corrupt {
                    op: "report vehicles",
                    message: format!("{stock_id}: {e}"),
                })?;
                let from = crate::pricing::in_stock_from(&vehicle, first_seen).unwrap_or(0);
                out.push(VehicleFact {
                    stock_id,
                    category: category(&vehicle),
                    in_stock_from: from,
                    sold_at,
                });
            }
            Ok(out)
        })
    }

    fn enquiry_facts(&self, since: i64, until: i64) -> StoreResult<Vec<EnquiryFact>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT platform, stock_id, received_at FROM enquiries WHERE received_at >= ?1 AND received_at < ?2",
                )
                .map_err(db("report enquiries"))?;
            let rows = stmt
                .query_map(params![since, until], |r| {
                    Ok(EnquiryFact {
                        platform: r.get(0)?,
                        stock_id: r.get(1)?,
                        received_at: r.get(2)?,
                    })
                })
                .map_err(db("report enquiries"))?;
            rows.collect::<Result<_, _>>().map_err(db("report enquiries"))
        })
    }

    fn listing_facts(&self) -> StoreResult<Vec<(String, String)>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT platform, stock_id FROM listings
                     WHERE published_state IN ('live', 'reserved', 'removed') OR remote_id IS NOT NULL",
                )
                .map_err(db("report listings"))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db("report listings"))?;
            rows.collect::<Result<_, _>>().map_err(db("report listings"))
        })
    }

    fn price_facts(&self) -> StoreResult<Vec<PriceFact>> {
        self.with(|c| {
            let mut stmt = c
                .prepare("SELECT stock_id, at, price_minor, reason FROM price_history ORDER BY stock_id, at, id")
                .map_err(db("report prices"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(PriceFact {
                        stock_id: r.get(0)?,
                        at: r.get(1)?,
                        price_minor: r.get(2)?,
                        reason: r.get(3)?,
                    })
                })
                .map_err(db("report prices"))?;
            rows.collect::<Result<_, _>>().map_err(db("report prices"))
        })
    }
}
