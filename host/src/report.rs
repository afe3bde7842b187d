//! Channel analytics, from the store: enquiries per platform and per
//! vehicle category, days to sell by category, price changes before sale,
//! and each platform's share of enquiries against its share of listings.
//!
//! [`channel_report`] returns a serialisable [`ChannelReport`], so the CLI
//! (`forecourt report [--json]`) and the admin API serve the same figures.
//! The facts come from the store ([`ReportStore`]); the arithmetic here is
//! pure. No personal data is read: enquiries count by platform and vehicle.

use crate::runtime::types::{BodyStyle, Vehicle, VehicleType};
use crate::store::StoreResult;
use serde::Serialize;
use std::collections::BTreeMap;

const DAY_MS: i64 = 86_400_000;

/// One vehicle, as the report needs it.
#[derive(Debug, Clone)]
pub struct VehicleFact {
    /// Stock id.
    pub stock_id: String,
    /// See [`category`].
    pub category: String,
    /// When it came into stock (`date-in-stock`, else first seen by the hub).
    pub in_stock_from: i64,
    /// When it was first recorded as sold.
    pub sold_at: Option<i64>,
}

/// One enquiry: where and when, about what (no buyer).
#[derive(Debug, Clone)]
pub struct EnquiryFact {
    /// Platform id.
    pub platform: String,
    /// The vehicle, when known.
    pub stock_id: Option<String>,
    /// When the platform received it.
    pub received_at: i64,
}

/// One advertised price a vehicle had.
#[derive(Debug, Clone)]
pub struct PriceFact {
    /// Stock id.
    pub stock_id: String,
    /// When.
    pub at: i64,
    /// The price.
    pub price_minor: i64,
    /// initial | dms | rule | pin | unpin
    pub reason: String,
}

/// The facts the report is computed from.
pub trait ReportStore: Send + Sync {
    /// Every vehicle the hub has known.
    fn vehicle_facts(&self) -> StoreResult<Vec<VehicleFact>>;
    /// Enquiries received in `[since, until)`.
    fn enquiry_facts(&self, since: i64, until: i64) -> StoreResult<Vec<EnquiryFact>>;
    /// `(platform, stock id)` of every listing a platform has acknowledged.
    fn listing_facts(&self) -> StoreResult<Vec<(String, String)>>;
    /// Every advertised price, oldest first per vehicle.
    fn price_facts(&self) -> StoreResult<Vec<PriceFact>>;
}

/// The report's period.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Period {
    /// From (ms since the epoch), inclusive.
    pub since_ms: i64,
    /// To, exclusive.
    pub until_ms: i64,
}

impl Period {
    /// The last `days` days up to `now`.
    pub fn last_days(days: u32, now: i64) -> Period {
        Period {
            since_ms: now - i64::from(days) * DAY_MS,
            until_ms: now,
        }
    }

    fn contains(&self, t: i64) -> bool {
        (self.since_ms..self.until_ms).contains(&t)
    }
}

/// A platform's enquiries against its listings.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlatformLine {
    /// Platform id.
    pub platform: String,
    /// Enquiries received in the period.
    pub enquiries: u64,
    /// Its share of all enquiries (0 to 1).
    pub enquiry_share: f64,
    /// Vehicles it has listed.
    pub listings: u64,
    /// Its share of all listings (0 to 1).
    pub listing_share: f64,
    /// `enquiry_share / listing_share`: above 1 the platform brings more
    /// than its share of enquiries; `None` without listings.
    pub performance: Option<f64>,
}

/// Enquiries per vehicle category.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CategoryLine {
    /// Category.
    pub category: String,
    /// Enquiries in the period.
    pub enquiries: u64,
    /// Enquiries per platform.
    pub by_platform: BTreeMap<String, u64>,
}

/// How long vehicles of a category took to sell.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DaysToSell {
    /// Category.
    pub category: String,
    /// Vehicles sold in the period.
    pub sold: u64,
    /// Mean days from stock to sale.
    pub mean_days: f64,
    /// Median days.
    pub median_days: f64,
    /// Fastest.
    pub min_days: i64,
    /// Slowest.
    pub max_days: i64,
}

/// Price changes of the vehicles sold in the period, before their sale.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct PriceChanges {
    /// Vehicles sold in the period.
    pub sold: u64,
    /// Of those, how many had their advertised price changed before the sale.
    pub with_changes: u64,
    /// Mean number of changes per sold vehicle.
    pub mean_changes: f64,
    /// Mean change from the first to the last advertised price, in percent (negative = reduced).
    pub mean_change_percent: f64,
    /// Per category: mean changes per sold vehicle.
    pub by_category: BTreeMap<String, f64>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelReport {
    /// The period.
    pub period: Period,
    /// Enquiries received in the period.
    pub enquiries: u64,
    /// Of which about no known vehicle.
    pub enquiries_without_vehicle: u64,
    /// Per platform, most enquiries first.
    pub platforms: Vec<PlatformLine>,
    /// Per category, most enquiries first.
    pub categories: Vec<CategoryLine>,
    /// Per category, of vehicles sold in the period.
    pub days_to_sell: Vec<DaysToSell>,
    /// Of vehicles sold in the period.
    pub price_changes: PriceChanges,
}

/// A vehicle's category: the body style for cars, the type otherwise.
pub fn category(v: &Vehicle) -> String {
    match &v.vehicle_type {
        VehicleType::Car => match &v.body_style {
            Some(BodyStyle::Hatchback) => "hatchback".into(),
            Some(BodyStyle::Saloon) => "saloon".into(),
            Some(BodyStyle::Estate) => "estate".into(),
            Some(BodyStyle::Suv) => "suv".into(),
            Some(BodyStyle::Coupe) => "coupe".into(),
            Some(BodyStyle::Convertible) => "convertible".into(),
            Some(BodyStyle::Mpv) => "mpv".into(),
            Some(BodyStyle::Pickup) => "pickup".into(),
            Some(BodyStyle::PanelVan | BodyStyle::Minibus) => "van".into(),
            Some(BodyStyle::Other(o)) => o.trim().to_lowercase(),
            None => "car".into(),
        },
        VehicleType::Van => "van".into(),
        VehicleType::Motorcycle => "motorcycle".into(),
        VehicleType::Motorhome => "motorhome".into(),
        VehicleType::Truck => "truck".into(),
        VehicleType::Other(o) => o.trim().to_lowercase(),
    }
}

fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn median(sorted: &[i64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2] as f64,
        n => (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0,
    }
}

/// Compute the report from facts (pure).
pub fn compute(
    period: Period,
    vehicles: &[VehicleFact],
    enquiries: &[EnquiryFact],
    listings: &[(String, String)],
    prices: &[PriceFact],
) -> ChannelReport {
    let by_stock: BTreeMap<&str, &VehicleFact> =
        vehicles.iter().map(|v| (v.stock_id.as_str(), v)).collect();
    let enquiries: Vec<&EnquiryFact> = enquiries
        .iter()
        .filter(|e| period.contains(e.received_at))
        .collect();
    let total = enquiries.len() as u64;

    // Platforms: enquiries against listings.
    let mut per_platform: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for e in &enquiries {
        per_platform.entry(&e.platform).or_default().0 += 1;
    }
    for (platform, _) in listings {
        per_platform.entry(platform).or_default().1 += 1;
    }
    let total_listings = listings.len() as u64;
    let mut platforms: Vec<PlatformLine> = per_platform
        .into_iter()
        .map(|(platform, (enq, lst))| {
            let enquiry_share = share(enq, total);
            let listing_share = share(lst, total_listings);
            PlatformLine {
                platform: platform.to_string(),
                enquiries: enq,
                enquiry_share: round(enquiry_share, 4),
                listings: lst,
                listing_share: round(listing_share, 4),
                performance: (listing_share > 0.0).then(|| round(enquiry_share / listing_share, 3)),
            }
        })
        .collect();
    platforms.sort_by(|a, b| {
        b.enquiries
            .cmp(&a.enquiries)
            .then(a.platform.cmp(&b.platform))
    });

    // Categories.
    let mut per_category: BTreeMap<String, CategoryLine> = BTreeMap::new();
    let mut without_vehicle = 0;
    for e in &enquiries {
        let Some(v) = e.stock_id.as_deref().and_then(|s| by_stock.get(s)) else {
            without_vehicle += 1;
            continue;
        };
        let line = per_category
            .entry(v.category.clone())
            .or_insert_with(|| CategoryLine {
                category: v.category.clone(),
                enquiries: 0,
                by_platform: BTreeMap::new(),
            });
        line.enquiries += 1;
        *line.by_platform.entry(e.platform.clone()).or_default() += 1;
    }
    let mut categories: Vec<CategoryLine> = per_category.into_values().collect();
    categories.sort_by(|a, b| {
        b.enquiries
            .cmp(&a.enquiries)
            .then(a.category.cmp(&b.category))
    });

    // Days to sell, and price changes before sale, of vehicles sold in the period.
    let sold: Vec<(&VehicleFact, i64)> = vehicles
        .iter()
        .filter_map(|v| v.sold_at.filter(|t| period.contains(*t)).map(|t| (v, t)))
        .collect();
    let mut days: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (v, at) in &sold {
        days.entry(&v.category)
            .or_default()
            .push(((at - v.in_stock_from) / DAY_MS).max(0));
    }
    let days_to_sell = days
        .into_iter()
        .map(|(category, mut d)| {
            d.sort_unstable();
            DaysToSell {
                category: category.to_string(),
                sold: d.len() as u64,
                mean_days: round(d.iter().sum::<i64>() as f64 / d.len() as f64, 1),
                median_days: median(&d),
                min_days: d[0],
                max_days: d[d.len() - 1],
            }
        })
        .collect();
    let mut history: BTreeMap<&str, Vec<&PriceFact>> = BTreeMap::new();
    for p in prices {
        history.entry(&p.stock_id).or_default().push(p);
    }
    let mut changes = PriceChanges {
        sold: sold.len() as u64,
        ..Default::default()
    };
    let mut per_category_changes: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let (mut change_sum, mut percent_sum, mut percent_n) = (0u64, 0f64, 0u64);
    for (v, at) in &sold {
        let before: Vec<&&PriceFact> = history
            .get(v.stock_id.as_str())
            .map(|h| h.iter().filter(|p| p.at <= *at).collect())
            .unwrap_or_default();
        let n = before.iter().filter(|p| p.reason != "initial").count() as u64;
        change_sum += n;
        changes.with_changes += u64::from(n > 0);
        let entry = per_category_changes.entry(&v.category).or_default();
        entry.0 += n;
        entry.1 += 1;
        if let (Some(first), Some(last)) = (before.first(), before.last()) {
            if first.price_minor > 0 {
                percent_sum += (last.price_minor - first.price_minor) as f64 * 100.0
                    / first.price_minor as f64;
                percent_n += 1;
            }
        }
    }
    changes.mean_changes = round(share(change_sum, changes.sold), 2);
    changes.mean_change_percent = if percent_n == 0 {
        0.0
    } else {
        round(percent_sum / percent_n as f64, 2)
    };
    changes.by_category = per_category_changes
        .into_iter()
        .map(|(c, (n, sold))| (c.to_string(), round(share(n, sold), 2)))
        .collect();

    ChannelReport {
        period,
        enquiries: total,
        enquiries_without_vehicle: without_vehicle,
        platforms,
        categories,
        days_to_sell,
        price_changes: changes,
    }
}

/// The report for `period`, from the store.
pub fn channel_report(store: &dyn ReportStore, period: Period) -> StoreResult<ChannelReport> {
    Ok(compute(
        period,
        &store.vehicle_facts()?,
        &store.enquiry_facts(period.since_ms, period.until_ms)?,
        &store.listing_facts()?,
        &store.price_facts()?,
    ))
}

/// The report as text, for the CLI.
pub fn render_text(r: &ChannelReport) -> String {
    let mut out = String::new();
    let date = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.strftime("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    out.push_str(&format!(
        "Channel report {} to {}: {} enquiries ({} about no known vehicle)\n\n",
        date(r.period.since_ms),
        date(r.period.until_ms),
        r.enquiries,
        r.enquiries_without_vehicle
    ));
    out.push_str(&format!(
        "{:<20} {:>9} {:>8} {:>9} {:>8} {:>12}\n",
        "platform", "enquiries", "share", "listings", "share", "performance"
    ));
    for p in &r.platforms {
        out.push_str(&format!(
            "{:<20} {:>9} {:>7.1}% {:>9} {:>7.1}% {:>12}\n",
            p.platform,
            p.enquiries,
            p.enquiry_share * 100.0,
            p.listings,
            p.listing_share * 100.0,
            p.performance
                .map(|x| format!("{x:.2}x"))
                .unwrap_or_else(|| "-".into())
        ));
    }
    out.push_str(&format!(
        "\n{:<20} {:>9}  by platform\n",
        "category", "enquiries"
    ));
    for c in &r.categories {
        let split = c
            .by_platform
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!("{:<20} {:>9}  {split}\n", c.category, c.enquiries));
    }
    out.push_str(&format!(
        "\n{:<20} {:>5} {:>10} {:>8} {:>6} {:>6}\n",
        "days to sell", "sold", "mean", "median", "min", "max"
    ));
    for d in &r.days_to_sell {
        out.push_str(&format!(
            "{:<20} {:>5} {:>10.1} {:>8.1} {:>6} {:>6}\n",
            d.category, d.sold, d.mean_days, d.median_days, d.min_days, d.max_days
        ));
    }
    let pc = &r.price_changes;
    out.push_str(&format!(
        "\nprice changes before sale: {} of {} sold vehicles repriced; {:.2} changes per vehicle; {:+.2}% from first to last price\n",
        pc.with_changes, pc.sold, pc.mean_changes, pc.mean_change_percent
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: &str, category: &str, from_day: i64, sold_day: Option<i64>) -> VehicleFact {
        VehicleFact {
            stock_id: id.into(),
            category: category.into(),
            in_stock_from: from_day * DAY_MS,
            sold_at: sold_day.map(|d| d * DAY_MS),
        }
    }

    fn e(platform: &str, stock: Option<&str>, day: i64) -> EnquiryFact {
        EnquiryFact {
            platform: platform.into(),
            stock_id: stock.map(str::to_string),
            received_at: day * DAY_MS,
        }
    }

    fn p(id: &str, day: i64, price: i64, reason: &str) -> PriceFact {
        PriceFact {
            stock_id: id.into(),
            at: day * DAY_MS,
            price_minor: price,
            reason: reason.into(),
        }
    }

    #[test]
    fn shares_categories_days_and_price_changes() {
        let period = Period {
            since_ms: 100 * DAY_MS,
            until_ms: 200 * DAY_MS,
        };
        let vehicles = vec![
            v("A", "hatchback", 90, Some(130)),
            v("B", "hatchback", 100, Some(150)),
            v("C", "suv", 110, None),
            v("D", "suv", 50, Some(99)), // sold before the period
        ];
        let enquiries = vec![
            e("autotrader", Some("A"), 101),
            e("autotrader", Some("A"), 102),
            e("autotrader", Some("C"), 120),
            e("website", Some("B"), 103),
            e("website", None, 104),
            e("autotrader", Some("B"), 250), // after the period
        ];
        let listings = vec![
            ("autotrader".to_string(), "A".to_string()),
            ("autotrader".to_string(), "B".to_string()),
            ("website".to_string(), "A".to_string()),
            ("website".to_string(), "B".to_string()),
            ("website".to_string(), "C".to_string()),
        ];
        let prices = vec![
            p("A", 90, 1_000_000, "initial"),
            p("A", 120, 980_000, "rule"),
            p("A", 125, 960_000, "rule"),
            p("A", 140, 900_000, "pin"), // after the sale: not counted
            p("B", 100, 2_000_000, "initial"),
        ];
        let r = compute(period, &vehicles, &enquiries, &listings, &prices);
        assert_eq!(r.enquiries, 5);
        assert_eq!(r.enquiries_without_vehicle, 1);
        let at = &r.platforms[0];
        assert_eq!(
            (at.platform.as_str(), at.enquiries, at.listings),
            ("autotrader", 3, 2)
        );
        assert_eq!(at.enquiry_share, 0.6);
        assert_eq!(at.listing_share, 0.4);
        assert_eq!(at.performance, Some(1.5));
        let web = &r.platforms[1];
        assert_eq!(
            (web.enquiries, web.listings, web.performance),
            (2, 3, Some(0.667))
        );
        assert_eq!(r.categories[0].category, "hatchback");
        assert_eq!(r.categories[0].enquiries, 3);
        assert_eq!(r.categories[0].by_platform["website"], 1);
        assert_eq!(r.categories[1].category, "suv");
        assert_eq!(r.days_to_sell.len(), 1);
        let h = &r.days_to_sell[0];
        assert_eq!(
            (h.sold, h.min_days, h.max_days, h.mean_days, h.median_days),
            (2, 40, 50, 45.0, 45.0)
        );
        let pc = &r.price_changes;
        assert_eq!((pc.sold, pc.with_changes), (2, 1));
        assert_eq!(pc.mean_changes, 1.0);
        // A: 1,000,000 → 960,000 = -4%; B: no change, 0%: mean -2%.
        assert_eq!(pc.mean_change_percent, -2.0);
        assert_eq!(pc.by_category["hatchback"], 1.0);
        let text = render_text(&r);
        assert!(text.contains("autotrader"), "{text}");
        // The admin API serves the same struct as JSON.
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["platforms"][0]["performance"], 1.5);
    }

    #[test]
    fn an_empty_store_reports_zeros() {
        let r = compute(Period::last_days(30, 1_000 * DAY_MS), &[], &[], &[], &[]);
        assert_eq!(r.enquiries, 0);
        assert!(r.platforms.is_empty() && r.days_to_sell.is_empty());
        assert_eq!(r.price_changes.mean_changes, 0.0);
    }

    #[test]
    fn categories() {
        let mut v = crate::sample::sample_stock(1, 1).remove(0);
        v.vehicle_type = VehicleType::Car;
        v.body_style = Some(BodyStyle::Suv);
        assert_eq!(category(&v), "suv");
        v.vehicle_type = VehicleType::Van;
        assert_eq!(category(&v), "van");
        v.vehicle_type = VehicleType::Other(" Quad Bike ".into());
        assert_eq!(category(&v), "quad bike");
    }
}
