//! Pricing rules: automatic reductions by days in stock, never below a
//! floor, rounded to trade endings, and a dealer's pins. The advertised
//! price is decided once per vehicle, stored (`pricing_state`), and put on
//! the canonical vehicle before any platform transforms it, so every
//! platform is sent the same price. Each rule step fires once per vehicle;
//! every change is audited and kept in `price_history`. docs/pricing.md is
//! the user's guide.
//!
//! Layers: [`rules`] (the arithmetic), [`config`] (`[pricing]`), this file
//! (per-vehicle decisions against the store), [`command`] (`forecourt
//! pricing ...`).

pub mod command;
pub mod config;
pub mod rules;

use crate::runtime::types::{Money, StockStatus, Vehicle};
use crate::store::audit::AuditEntry;
use crate::store::{Store, StoreError, StoreResult, StoredVehicle};
use config::Settings;
use rules::{advertised, reduce};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const DAY_MS: i64 = 86_400_000;

/// One vehicle's pricing state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceState {
    /// Stock id.
    pub stock_id: String,
    /// The DMS price the advertised price derives from.
    pub dms_price_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// What every platform is sent.
    pub advertised_minor: i64,
    /// Rule steps fired so far.
    pub steps_applied: u32,
    /// Steps that had fired when the DMS price last changed (they do not apply to the new price).
    pub steps_at_dms_change: u32,
    /// A dealer's pinned price.
    pub pinned_minor: Option<i64>,
    /// Last change.
    pub updated_at: i64,
}

/// One advertised price a vehicle had.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceHistoryRow {
    /// Stock id.
    pub stock_id: String,
    /// When.
    pub at: i64,
    /// The price.
    pub price_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// initial | dms | rule | pin | unpin
    pub reason: String,
}

/// A state to store, with the history row and audit entries it brings.
#[derive(Debug, Clone)]
pub struct PriceChange {
    /// The new state.
    pub state: PriceState,
    /// `(reason, detail)` when the advertised price changed (or was first set).
    pub history: Option<(String, serde_json::Value)>,
    /// What to audit.
    pub audit: Vec<AuditEntry>,
    /// The vehicle must be planned again (its listings change).
    pub replan: bool,
}

/// The store's side of pricing.
pub trait PricingStore: Send + Sync {
    /// States of these vehicles.
    fn price_states(&self, stock_ids: &[&str]) -> StoreResult<HashMap<String, PriceState>>;
    /// When the hub first saw each of these vehicles.
    fn first_seen(&self, stock_ids: &[&str]) -> StoreResult<HashMap<String, i64>>;
    /// Store changes in one transaction: states, history, audit, plan flags.
    fn save_prices(&self, changes: &[PriceChange], now: i64) -> StoreResult<()>;
    /// Price history, oldest first (one vehicle, or all).
    fn price_history(&self, stock_id: Option<&str>) -> StoreResult<Vec<PriceHistoryRow>>;
}

/// Why a pricing command failed.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    /// No such vehicle in stock.
    #[error("no vehicle `{0}` in stock")]
    UnknownVehicle(String),
    /// The vehicle has no price to work from.
    #[error("vehicle `{0}` has no price in the DMS")]
    NoPrice(String),
    /// A pin must be above zero.
    #[error("a pinned price must be above zero")]
    BadPin,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The next step a vehicle will meet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextStep {
    /// Its threshold.
    pub after_days: u32,
    /// Days until it applies (0 = due now).
    pub in_days: i64,
    /// Reduction in percent.
    pub percent: f64,
    /// The advertised price once it has applied.
    pub price_after_minor: i64,
    /// The floor will stop (part of) it.
    pub held_at_floor: bool,
}

/// One line of `pricing preview`.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewRow {
    /// Stock id.
    pub stock_id: String,
    /// "2019 Ford Fiesta".
    pub vehicle: String,
    /// Stock status.
    pub status: String,
    /// Days in stock, when known.
    pub days_in_stock: Option<i64>,
    /// The DMS price.
    pub dms_price_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// Advertised now (as stored).
    pub advertised_minor: Option<i64>,
    /// Advertised after the changes due now are applied.
    pub due_minor: i64,
    /// What is due now: "rule 30 days: £12,995 → £12,695", "DMS price changed", ...
    pub due: Vec<String>,
    /// The floor.
    pub floor_minor: i64,
    /// Pinned price.
    pub pinned_minor: Option<i64>,
    /// The next rule step.
    pub next: Option<NextStep>,
}

/// What a sweep changed.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SweepReport {
    /// Vehicles looked at.
    pub vehicles: usize,
    /// Vehicles whose advertised price changed.
    pub repriced: usize,
}

/// When a vehicle came into stock (ms): its `date-in-stock` (midnight UTC),
/// else when the hub first saw it.
pub fn in_stock_from(v: &Vehicle, first_seen: Option<i64>) -> Option<i64> {
    match &v.date_in_stock {
        Some(d) => {
            Some(days_from_civil(i64::from(d.year), i64::from(d.month), i64::from(d.day)) * DAY_MS)
        }
        None => first_seen,
    }
}

/// Days in stock at `now`.
pub fn days_in_stock(v: &Vehicle, first_seen: Option<i64>, now: i64) -> Option<i64> {
    let start = in_stock_from(v, first_seen)?;
    Some((now - start).div_euclid(DAY_MS).max(0))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `£12,995` (or `12995.50 EUR`).
pub fn money(minor: i64, currency: &str) -> String {
    let pounds = minor / 100;
    let mut digits = pounds.abs().to_string();
    let mut grouped = String::new();
    while digits.len() > 3 {
        let tail = digits.split_off(digits.len() - 3);
        grouped = format!(",{tail}{grouped}");
    }
    let whole = format!("{}{digits}{grouped}", if minor < 0 { "-" } else { "" });
    let pence = if minor % 100 != 0 {
        format!(".{:02}", (minor % 100).abs())
    } else {
        String::new()
    };
    match currency {
        "GBP" => format!("£{whole}{pence}"),
        other => format!("{whole}{pence} {other}"),
    }
}

fn advertisable(v: &StoredVehicle) -> bool {
    v.present
        && matches!(
            v.record.status,
            StockStatus::DueIn | StockStatus::InStock | StockStatus::Reserved
        )
}

fn title(v: &Vehicle) -> String {
    let year = v
        .first_registration
        .as_ref()
        .map(|d| d.year)
        .or(v.model_year)
        .map(|y| format!("{y} "))
        .unwrap_or_default();
    format!(
        "{year}{} {}",
        v.make.as_deref().unwrap_or(""),
        v.model.as_deref().unwrap_or("")
    )
    .trim()
    .to_string()
}

/// The result of deciding one vehicle's price.
struct Evaluation {
    change: Option<PriceChange>,
    state: PriceState,
    due: Vec<String>,
    floor: i64,
    days: Option<i64>,
}

/// The pricing service.
pub struct Pricing {
    settings: Settings,
    store: Arc<dyn PricingStore>,
    hub: Arc<dyn Store>,
    last_sweep: Mutex<Option<Instant>>,
}

impl Pricing {
    /// Pricing with these settings over the store.
    pub fn new(settings: Settings, store: Arc<dyn PricingStore>, hub: Arc<dyn Store>) -> Self {
        Self {
            settings,
            store,
            hub,
            last_sweep: Mutex::new(None),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Decide a vehicle's next state at `now` (nothing is written).
    fn evaluate(
        &self,
        v: &StoredVehicle,
        state: Option<&PriceState>,
        first_seen: Option<i64>,
        now: i64,
    ) -> Option<Evaluation> {
        let price = v.record.price.as_ref().filter(|p| p.amount_minor > 0)?;
        let stock_id = &v.record.stock_id;
        let steps = &self.settings.steps;
        let cost = v
            .record
            .hub_only
            .as_ref()
            .and_then(|h| h.cost_price.as_ref())
            .filter(|c| c.currency == price.currency)
            .map(|c| c.amount_minor);
        let floor = self.settings.floor.for_vehicle(price.amount_minor, cost);
        let rounding = self.settings.rounding;
        let days = days_in_stock(&v.record, first_seen, now);
        let mut s = state.cloned().unwrap_or(PriceState {
            stock_id: stock_id.clone(),
            dms_price_minor: price.amount_minor,
            currency: price.currency.clone(),
            advertised_minor: price.amount_minor,
            steps_applied: 0,
            steps_at_dms_change: 0,
            pinned_minor: None,
            updated_at: now,
        });
        let mut audit = Vec::new();
        let mut due = Vec::new();
        let mut reason = "initial";
        let entry = |step: &str| {
            AuditEntry::new("pricing", "engine")
                .stock(stock_id)
                .step(step)
        };
        if state.is_some()
            && (s.dms_price_minor != price.amount_minor || s.currency != price.currency)
        {
            due.push(format!(
                "DMS price changed: {} → {}",
                money(s.dms_price_minor, &s.currency),
                money(price.amount_minor, &price.currency)
            ));
            audit.push(entry("dms-price").detail(serde_json::json!({
                "from": s.dms_price_minor, "to": price.amount_minor, "currency": price.currency,
                "steps_not_reapplied": s.steps_applied,
            })));
            s.dms_price_minor = price.amount_minor;
            s.currency = price.currency.clone();
            s.steps_at_dms_change = s.steps_applied;
            reason = "dms";
        }
        // Rule steps fire once each, while the vehicle is in stock and not pinned.
        if s.pinned_minor.is_none() && v.record.status == StockStatus::InStock {
            while let (Some(step), Some(d)) = (steps.get(s.steps_applied as usize), days) {
                if d < i64::from(step.after_days) {
                    break;
                }
                let before = advertised(
                    s.dms_price_minor,
                    steps,
                    s.steps_at_dms_change as usize,
                    s.steps_applied as usize,
                    floor,
                    rounding,
                );
                let r = reduce(before, step.basis_points, floor, rounding);
                s.steps_applied += 1;
                let percent = f64::from(step.basis_points) / 100.0;
                due.push(format!(
                    "rule {} days, {percent}%: {} → {}{}",
                    step.after_days,
                    money(before, &s.currency),
                    money(r.price_minor, &s.currency),
                    if r.held_at_floor {
                        " (held at the floor)"
                    } else {
                        ""
                    }
                ));
                audit.push(
                    entry(if r.held_at_floor {
                        "held-at-floor"
                    } else {
                        "reduced"
                    })
                    .detail(serde_json::json!({
                        "from": before, "to": r.price_minor, "currency": s.currency,
                        "after_days": step.after_days, "percent": percent, "days_in_stock": d,
                    })),
                );
                reason = "rule";
            }
        }
        let computed = s.pinned_minor.unwrap_or_else(|| {
            advertised(
                s.dms_price_minor,
                steps,
                s.steps_at_dms_change as usize,
                s.steps_applied as usize,
                floor,
                rounding,
            )
        });
        let first = state.is_none();
        let moved = computed != s.advertised_minor;
        let before = s.advertised_minor;
        s.advertised_minor = computed;
        let change = (first || moved || !audit.is_empty()).then(|| {
            s.updated_at = now;
            PriceChange {
                state: s.clone(),
                history: (first || moved).then(|| {
                    (
                        reason.to_string(),
                        serde_json::json!({"from": if first { None } else { Some(before) }}),
                    )
                }),
                audit,
                replan: moved,
            }
        });
        Some(Evaluation {
            change,
            state: s,
            due,
            floor,
            days,
        })
    }

    fn load(
        &self,
        vehicles: &[&StoredVehicle],
    ) -> StoreResult<(HashMap<String, PriceState>, HashMap<String, i64>)> {
        let ids: Vec<&str> = vehicles
            .iter()
            .map(|v| v.record.stock_id.as_str())
            .collect();
        Ok((self.store.price_states(&ids)?, self.store.first_seen(&ids)?))
    }

    /// The vehicles as they are advertised at `now`: the stored price
    /// decision applied (and brought up to date, in one transaction).
    pub fn priced_batch(&self, vehicles: &[StoredVehicle], now: i64) -> StoreResult<Vec<Vehicle>> {
        self.price(vehicles, now, true)
    }

    /// As [`Self::priced_batch`], without saving anything (previews).
    pub fn preview_batch(&self, vehicles: &[StoredVehicle], now: i64) -> StoreResult<Vec<Vehicle>> {
        self.price(vehicles, now, false)
    }

    fn price(&self, vehicles: &[StoredVehicle], now: i64, save: bool) -> StoreResult<Vec<Vehicle>> {
        let priced: Vec<&StoredVehicle> = vehicles.iter().filter(|v| advertisable(v)).collect();
        let (states, first_seen) = self.load(&priced)?;
        let mut changes = Vec::new();
        let mut prices: HashMap<&str, Money> = HashMap::new();
        for v in priced {
            let id = v.record.stock_id.as_str();
            if let Some(e) = self.evaluate(v, states.get(id), first_seen.get(id).copied(), now) {
                prices.insert(
                    id,
                    Money {
                        amount_minor: e.state.advertised_minor,
                        currency: e.state.currency.clone(),
                    },
                );
                changes.extend(e.change);
            }
        }
        if save && !changes.is_empty() {
            // These vehicles are being planned with the prices returned
            // here: asking for another plan would only repeat this one.
            for change in &mut changes {
                change.replan = false;
            }
            self.store.save_prices(&changes, now)?;
        }
        Ok(vehicles
            .iter()
            .map(|v| {
                let mut record = v.record.clone();
                if let Some(p) = prices.remove(record.stock_id.as_str()) {
                    record.price = Some(p);
                }
                record
            })
            .collect())
    }

    /// The advertised price of one vehicle as stored (for leads).
    pub fn advertised_price(&self, stock_id: &str) -> Option<Money> {
        let states = self.store.price_states(&[stock_id]).ok()?;
        states.get(stock_id).map(|s| Money {
            amount_minor: s.advertised_minor,
            currency: s.currency.clone(),
        })
    }

    /// Apply every change due at `now` to every advertisable vehicle:
    /// thresholds crossed, DMS prices changed. Repriced vehicles are planned again.
    pub fn sweep(&self, now: i64) -> StoreResult<SweepReport> {
        let vehicles = self.hub.present_vehicles()?;
        let mut report = SweepReport::default();
        for chunk in vehicles.chunks(500) {
            let list: Vec<&StoredVehicle> = chunk.iter().filter(|v| advertisable(v)).collect();
            let (states, first_seen) = self.load(&list)?;
            let mut changes = Vec::new();
            for v in list {
                report.vehicles += 1;
                let id = v.record.stock_id.as_str();
                if let Some(change) = self
                    .evaluate(v, states.get(id), first_seen.get(id).copied(), now)
                    .and_then(|e| e.change)
                {
                    report.repriced += usize::from(change.replan);
                    changes.push(change);
                }
            }
            if !changes.is_empty() {
                self.store.save_prices(&changes, now)?;
            }
        }
        *self.last_sweep.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        Ok(report)
    }

    /// [`Pricing::sweep`], unless one ran within the sweep interval.
    pub fn sweep_if_due(&self, now: i64) -> StoreResult<Option<SweepReport>> {
        let last = *self.last_sweep.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < self.settings.sweep_interval) {
            return Ok(None);
        }
        self.sweep(now).map(Some)
    }

    /// What each advertisable vehicle costs now, what is due, and what comes next.
    pub fn preview(&self, now: i64) -> StoreResult<Vec<PreviewRow>> {
        let vehicles = self.hub.present_vehicles()?;
        let list: Vec<&StoredVehicle> = vehicles.iter().filter(|v| advertisable(v)).collect();
        let (states, first_seen) = self.load(&list)?;
        let steps = &self.settings.steps;
        let mut rows = Vec::new();
        for v in list {
            let id = v.record.stock_id.as_str();
            let stored = states.get(id);
            let Some(e) = self.evaluate(v, stored, first_seen.get(id).copied(), now) else {
                continue;
            };
            let next = match (
                steps.get(e.state.steps_applied as usize),
                e.state.pinned_minor,
            ) {
                (Some(step), None) => {
                    let r = reduce(
                        e.state.advertised_minor,
                        step.basis_points,
                        e.floor,
                        self.settings.rounding,
                    );
                    Some(NextStep {
                        after_days: step.after_days,
                        in_days: e.days.map_or(i64::from(step.after_days), |d| {
                            (i64::from(step.after_days) - d).max(0)
                        }),
                        percent: f64::from(step.basis_points) / 100.0,
                        price_after_minor: r.price_minor,
                        held_at_floor: r.held_at_floor,
                    })
                }
                _ => None,
            };
            rows.push(PreviewRow {
                stock_id: id.to_string(),
                vehicle: title(&v.record),
                status: format!("{:?}", v.record.status).to_lowercase(),
                days_in_stock: e.days,
                dms_price_minor: e.state.dms_price_minor,
                currency: e.state.currency.clone(),
                advertised_minor: stored.map(|s| s.advertised_minor),
                due_minor: e.state.advertised_minor,
                due: e.due,
                floor_minor: e.floor,
                pinned_minor: e.state.pinned_minor,
                next,
            });
        }
        Ok(rows)
    }

    /// Pin a vehicle's price (`price` in minor units, or its advertised price now).
    pub fn pin(
        &self,
        stock_id: &str,
        price: Option<i64>,
        actor: &str,
        now: i64,
    ) -> Result<PriceState, PricingError> {
        self.set_pin(stock_id, Some(price), actor, now)
    }

    /// Release a pin: the rules' price applies again.
    pub fn unpin(&self, stock_id: &str, actor: &str, now: i64) -> Result<PriceState, PricingError> {
        self.set_pin(stock_id, None, actor, now)
    }

    fn set_pin(
        &self,
        stock_id: &str,
        pin: Option<Option<i64>>,
        actor: &str,
        now: i64,
    ) -> Result<PriceState, PricingError> {
        if let Some(Some(p)) = pin {
            if p <= 0 {
                return Err(PricingError::BadPin);
            }
        }
        let v = self
            .hub
            .vehicle(stock_id)?
            .filter(|v| v.present)
            .ok_or_else(|| PricingError::UnknownVehicle(stock_id.into()))?;
        let (states, first_seen) = self.load(&[&v])?;
        // Bring the state up to date first, so the pin starts from today's price.
        let current = self
            .evaluate(
                &v,
                states.get(stock_id),
                first_seen.get(stock_id).copied(),
                now,
            )
            .ok_or_else(|| PricingError::NoPrice(stock_id.into()))?;
        let mut state = current.state.clone();
        let from = state.advertised_minor;
        let (step, reason) = match pin {
            Some(price) => {
                let to = price.unwrap_or(from);
                state.pinned_minor = Some(to);
                state.advertised_minor = to;
                ("pinned", "pin")
            }
            None => {
                state.pinned_minor = None;
                state.advertised_minor = advertised(
                    state.dms_price_minor,
                    &self.settings.steps,
                    state.steps_at_dms_change as usize,
                    state.steps_applied as usize,
                    current.floor,
                    self.settings.rounding,
                );
                ("unpinned", "unpin")
            }
        };
        state.updated_at = now;
        let mut audit = current.change.map(|c| c.audit).unwrap_or_default();
        audit.push(
            AuditEntry::new("pricing", actor)
                .stock(stock_id)
                .step(step)
                .detail(serde_json::json!({"from": from, "to": state.advertised_minor, "currency": state.currency})),
        );
        let moved = states
            .get(stock_id)
            .is_none_or(|s| s.advertised_minor != state.advertised_minor);
        self.store.save_prices(
            &[PriceChange {
                state: state.clone(),
                history: moved.then(|| (reason.to_string(), serde_json::json!({"from": from}))),
                audit,
                replan: true,
            }],
            now,
        )?;
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_money() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        let mut v = crate::sample::sample_stock(1, 1).remove(0);
        v.date_in_stock = Some(crate::runtime::types::Date {
            year: 2026,
            month: 10,
            day: 1,
        });
        let now = days_from_civil(2026, 10, 31) * DAY_MS + 5 * 3_600_000;
        assert_eq!(days_in_stock(&v, None, now), Some(30));
        v.date_in_stock = None;
        assert_eq!(days_in_stock(&v, Some(now - 3 * DAY_MS), now), Some(3));
        assert_eq!(days_in_stock(&v, None, now), None);
        assert_eq!(money(1_299_500, "GBP"), "£12,995");
        assert_eq!(money(99_550, "GBP"), "£995.50");
        assert_eq!(money(123_456_700, "EUR"), "1,234,567 EUR");
    }
}
