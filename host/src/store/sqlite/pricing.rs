//! Pricing state and price history in SQLite (`migrations/pricing.sql`).

use super::*;
use crate::pricing::{PriceChange, PriceHistoryRow, PriceState, PricingStore};
use std::collections::HashMap;

impl PricingStore for SqliteStore {
    fn price_states(&self, stock_ids: &[&str]) -> StoreResult<HashMap<String, PriceState>> {
        self.with(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT stock_id, dms_price_minor, currency, advertised_minor, steps_applied, steps_at_dms_change, pinned_minor, updated_at
                     FROM pricing_state WHERE stock_id = ?1",
                )
                .map_err(db("price states"))?;
            let mut out = HashMap::with_capacity(stock_ids.len());
            for id in stock_ids {
                let state = stmt
                    .query_row(params![id], |r| {
                        Ok(PriceState {
                            stock_id: r.get(0)?,
                            dms_price_minor: r.get(1)?,
                            currency: r.get(2)?,
                            advertised_minor: r.get(3)?,
                            steps_applied: r.get(4)?,
                            steps_at_dms_change: r.get(5)?,
                            pinned_minor: r.get(6)?,
                            updated_at: r.get(7)?,
                        })
                    })
                    .optional()
                    .map_err(db("price states"))?;
                if let Some(s) = state {
                    out.insert(s.stock_id.clone(), s);
                }
            }
            Ok(out)
        })
    }

    fn first_seen(&self, stock_ids: &[&str]) -> StoreResult<HashMap<String, i64>> {
        self.with(|c| {
            let mut stmt = c
                .prepare_cached("SELECT MIN(at) FROM vehicle_history WHERE stock_id = ?1")
                .map_err(db("first seen"))?;
            let mut out = HashMap::with_capacity(stock_ids.len());
            for id in stock_ids {
                let at: Option<i64> = stmt
                    .query_row(params![id], |r| r.get(0))
                    .map_err(db("first seen"))?;
                if let Some(at) = at {
                    out.insert(id.to_string(), at);
                }
            }
            Ok(out)
        })
    }

    fn save_prices(&self, changes: &[PriceChange], now: i64) -> StoreResult<()> {
        self.write("save prices", |tx| {
            for change in changes {
                let s = &change.state;
                tx.execute(
                    "INSERT INTO pricing_state (stock_id, dms_price_minor, currency, advertised_minor, steps_applied, steps_at_dms_change, pinned_minor, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(stock_id) DO UPDATE SET dms_price_minor = ?2, currency = ?3, advertised_minor = ?4,
                       steps_applied = ?5, steps_at_dms_change = ?6, pinned_minor = ?7, updated_at = ?8",
                    params![s.stock_id, s.dms_price_minor, s.currency, s.advertised_minor, s.steps_applied, s.steps_at_dms_change, s.pinned_minor, now],
                )
                .map_err(db("save prices"))?;
                if let Some((reason, detail)) = &change.history {
                    tx.execute(
                        "INSERT INTO price_history (stock_id, at, price_minor, currency, reason, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![s.stock_id, now, s.advertised_minor, s.currency, reason, detail.to_string()],
                    )
                    .map_err(db("save prices"))?;
                }
                for entry in &change.audit {
                    append_audit(tx, entry, now)?;
                }
                if change.replan {
                    // The listings change: the planner renders it again.
                    tx.execute(
                        "UPDATE vehicles SET plan_needed = plan_needed + 1 WHERE stock_id = ?1",
                        params![s.stock_id],
                    )
                    .map_err(db("save prices"))?;
                }
            }
            Ok(())
        })
    }

    fn price_history(&self, stock_id: Option<&str>) -> StoreResult<Vec<PriceHistoryRow>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT stock_id, at, price_minor, currency, reason FROM price_history
                     WHERE (?1 IS NULL OR stock_id = ?1) ORDER BY stock_id, at, id",
                )
                .map_err(db("price history"))?;
            let rows = stmt
                .query_map(params![stock_id], |r| {
                    Ok(PriceHistoryRow {
                        stock_id: r.get(0)?,
                        at: r.get(1)?,
                        price_minor: r.get(2)?,
                        currency: r.get(3)?,
                        reason: r.get(4)?,
                    })
                })
                .map_err(db("price history"))?;
            rows.collect::<Result<_, _>>().map_err(db("price history"))
        })
    }
}
