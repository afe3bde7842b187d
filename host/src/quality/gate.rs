//! Where quality meets the sync engine: the facts a batch of vehicles is
//! checked against (stock index, mileage history, image sizes), the
//! field rules, the transform of a checked vehicle, and what the engine
//! records after planning (mileage readings, completeness, audit of
//! stripped personal data).

use super::image_probe::{Measured, RETRY_FAILED_MS};
use super::rules::{id, Finding, RuleSet};
use super::{
    fields, images, mileage, registration, vin, Facts, MileageReading, Prepared, Quality, Verdict,
};
use crate::runtime::platform_api::PlatformInfo;
use crate::runtime::types::{Severity as WitSeverity, ValidationIssue, Vehicle};
use crate::store::audit::AuditEntry;
use crate::store::{Store, StoreResult, StoredVehicle};
use crate::sync::planner::{self, Rendered};
use crate::sync::PlatformSetup;
use std::collections::HashMap;
use std::sync::Arc;

/// What the stock as a whole says: prices to compare with and image URLs
/// shared by several vehicles (stock photos).
#[derive(Debug, Default)]
pub struct StockIndex {
    /// Prices by make and model.
    pub prices: super::price::PriceIndex,
    /// Vehicles per image URL.
    pub shared: images::SharedUrls,
}

impl StockIndex {
    /// Index the advertisable vehicles among `stock`.
    pub fn new(stock: &[StoredVehicle]) -> Self {
        let live: Vec<&Vehicle> = stock
            .iter()
            .filter(|v| planner::advertisable(v))
            .map(|v| &v.record)
            .collect();
        let mut shared = images::SharedUrls::new();
        for v in &live {
            let mut own: Vec<String> = v.images.iter().map(|i| images::url_key(&i.url)).collect();
            own.sort();
            own.dedup();
            for url in own {
                *shared.entry(url).or_default() += 1;
            }
        }
        Self {
            prices: super::price::PriceIndex::new(live.iter().copied()),
            shared,
        }
    }
}

/// Mandatory and platform-required fields, registration and VIN.
pub fn field_findings(
    v: &Vehicle,
    rules: &RuleSet,
    info: &PlatformInfo,
    facts: &Facts,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut reported = std::collections::BTreeSet::new();
    let mut require = |rule: &'static str, field: &str, why: &str, out: &mut Vec<Finding>| {
        if fields::present(v, field) == Some(false)
            && !fields::excused(v, field)
            && reported.insert(fields::reported(field).to_string())
        {
            out.push(Finding::new(
                rule,
                fields::reported(field),
                format!("is missing; {why}"),
            ));
        }
    };
    if rules.on(id::MANDATORY_FIELDS) {
        for f in rules.list(id::MANDATORY_FIELDS, "fields") {
            require(id::MANDATORY_FIELDS, f, "every listing needs it", &mut out);
        }
    }
    if rules.on(id::PLATFORM_REQUIRED) {
        for f in &info.required_fields {
            require(
                id::PLATFORM_REQUIRED,
                f,
                &format!("{} requires it", info.name),
                &mut out,
            );
        }
    }
    if let Some(mark) = v.registration.as_deref().filter(|m| !m.is_empty()) {
        match registration::format(mark) {
            Err(why) => {
                if rules.on(id::REGISTRATION_FORMAT) {
                    out.push(Finding::new(
                        id::REGISTRATION_FORMAT,
                        "registration",
                        format!("{mark} {why}"),
                    ));
                }
            }
            Ok(format) => {
                if let Some(today) = facts.today {
                    let first = v.first_registration.as_ref().and_then(|d| {
                        jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8).ok()
                    });
                    if let Some(problem) = registration::age_problem(mark, format, first, today) {
                        out.push(Finding::new(id::REGISTRATION_AGE, "registration", problem));
                    }
                }
            }
        }
    }
    if let Some(number) = v.vin.as_deref().filter(|n| !n.is_empty()) {
        match vin::structure_problem(number) {
            Some(why) => out.push(Finding::new(id::VIN_FORMAT, "vin", why)),
            None => {
                let all = rules.word(id::VIN_CHECK_DIGIT, "scope") == "all";
                if all || vin::north_american(number) {
                    if let Some(why) = vin::check_digit_problem(number) {
                        out.push(Finding::new(id::VIN_CHECK_DIGIT, "vin", why));
                    }
                }
            }
        }
    }
    out
}

/// Today in the UK (dates on plates and in the DMS are UK dates).
pub fn uk_today() -> jiff::civil::Date {
    jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
}

/// The facts for a batch of vehicles.
#[derive(Debug, Default)]
pub struct BatchContext {
    today: Option<jiff::civil::Date>,
    index: Option<Arc<StockIndex>>,
    mileage: HashMap<String, MileageReading>,
    sizes: HashMap<String, Measured>,
}

impl BatchContext {
    /// Gather what `batch` is checked against. With `schedule`, images of
    /// unknown size are queued for measuring in the background.
    pub fn gather(
        quality: &Quality,
        store: &dyn Store,
        batch: &[&StoredVehicle],
        schedule: bool,
    ) -> StoreResult<Self> {
        let live: Vec<&&StoredVehicle> =
            batch.iter().filter(|v| planner::advertisable(v)).collect();
        let mut ctx = Self {
            today: Some(uk_today()),
            ..Self::default()
        };
        if live.is_empty() {
            return Ok(ctx);
        }
        ctx.index = Some(quality.stock_index(store)?);
        for v in &live {
            let r = &v.record;
            if let Some(m) = store.last_mileage(&r.stock_id, r.vin.as_deref())? {
                ctx.mileage.insert(r.stock_id.clone(), m);
            }
        }
        let unsized_urls: Vec<(String, String)> = live
            .iter()
            .flat_map(|v| {
                v.record
                    .images
                    .iter()
                    .filter(|i| i.width.is_none() || i.height.is_none())
                    .map(|i| (i.url.clone(), v.record.stock_id.clone()))
            })
            .collect();
        if unsized_urls.is_empty() {
            return Ok(ctx);
        }
        let urls: Vec<String> = unsized_urls.iter().map(|(u, _)| u.clone()).collect();
        let cached = store.image_sizes(&urls)?;
        let now = crate::store::now_ms();
        for (url, stock_id) in &unsized_urls {
            let fresh = match cached.get(url) {
                Some(c) => {
                    ctx.sizes.insert(url.clone(), c.measured.clone());
                    matches!(c.measured, Measured::Size(..)) || now - c.at < RETRY_FAILED_MS
                }
                None => false,
            };
            if !fresh && schedule {
                if let Some(probe) = quality.probe() {
                    probe.schedule(url, stock_id);
                }
            }
        }
        Ok(ctx)
    }

    /// Add measured sizes (the preview measures one vehicle's images at once).
    pub fn add_sizes(&mut self, sizes: impl IntoIterator<Item = (String, Measured)>) {
        self.sizes.extend(sizes);
    }

    /// The facts for one vehicle.
    pub fn facts(&self, stock_id: &str) -> Facts<'_> {
        Facts {
            today: self.today,
            index: self.index.as_deref(),
            last_mileage: self.mileage.get(stock_id),
            sizes: Some(&self.sizes),
        }
    }
}

/// Transform a checked vehicle: blocked listings never reach the plugin;
/// the host's warnings travel with the plugin's.
pub async fn render(platform: &PlatformSetup, verdict: &Verdict) -> Rendered {
    let mut issues = verdict.issues();
    if verdict.blocked {
        return Rendered::Blocked(issues);
    }
    match platform
        .plugin
        .transform(&platform.config, &verdict.vehicle)
        .await
    {
        Ok(Ok(t)) => {
            issues.extend(t.warnings);
            Rendered::Listing {
                hash: planner::body_hash(&t.listing.body),
                body: t.listing.body,
                warnings: issues,
            }
        }
        Ok(Err(plugin)) => {
            issues.extend(plugin);
            Rendered::Blocked(issues)
        }
        Err(e) => {
            issues.push(ValidationIssue {
                field: format!("{}:transform", platform.id),
                severity: WitSeverity::Error,
                message: e.to_string(),
            });
            Rendered::Blocked(issues)
        }
    }
}

/// One batch of planning as the engine runs it: prepare and check each
/// vehicle, then record what was learnt.
pub struct Gate<'a> {
    quality: &'a Quality,
    ctx: BatchContext,
    readings: Vec<MileageReading>,
    completeness: Vec<super::completeness::Completeness>,
    cleared: Vec<String>,
    audits: Vec<AuditEntry>,
}

impl<'a> Gate<'a> {
    /// Open a gate for `batch`, measuring unknown image sizes in the background.
    pub fn open(
        quality: &'a Quality,
        store: &dyn Store,
        batch: &[StoredVehicle],
    ) -> StoreResult<Self> {
        let refs: Vec<&StoredVehicle> = batch.iter().collect();
        Ok(Self {
            quality,
            ctx: BatchContext::gather(quality, store, &refs, true)?,
            readings: vec![],
            completeness: vec![],
            cleared: vec![],
            audits: vec![],
        })
    }

    /// Prepare a vehicle, or `None` when it is not advertised (sold,
    /// withdrawn, removed): removals are never held back by quality rules.
    pub fn prepare(&mut self, vehicle: &StoredVehicle) -> Option<Prepared> {
        if !planner::advertisable(vehicle) {
            self.cleared.push(vehicle.record.stock_id.clone());
            return None;
        }
        let prepared = self.quality.prepare(&vehicle.record);
        if !prepared.stripped.is_empty() {
            // That something was stripped, where, and how much: never what.
            self.audits.push(
                AuditEntry::new("quality", "engine")
                    .stock(&vehicle.record.stock_id)
                    .step("personal-data-stripped")
                    .detail(serde_json::json!({ "stripped": prepared.stripped })),
            );
        }
        Some(prepared)
    }

    /// Check a prepared vehicle for one platform.
    pub fn check(&mut self, prepared: &Prepared, platform: &PlatformSetup) -> Verdict {
        let facts = self.ctx.facts(&prepared.vehicle.stock_id);
        let verdict = self
            .quality
            .check(prepared, &platform.id, &platform.info, &facts);
        self.completeness.push(verdict.completeness.clone());
        verdict
    }

    /// After a vehicle's platforms are checked: keep its mileage reading
    /// unless some platform refused it as lower than the last one.
    pub fn accept_mileage(&mut self, prepared: &Prepared, verdicts_regressed: bool) {
        if verdicts_regressed {
            return;
        }
        if let Some(miles) = mileage::miles(&prepared.vehicle) {
            self.readings.push(MileageReading {
                stock_id: prepared.vehicle.stock_id.clone(),
                vin: prepared.vehicle.vin.clone(),
                miles,
                at: crate::store::now_ms(),
            });
        }
    }

    /// Record readings, completeness and audit entries (after the plans are stored).
    pub fn finish(self, store: &dyn Store, now: i64) -> StoreResult<()> {
        store.record_mileage(&self.readings)?;
        store.put_completeness(&self.completeness, &self.cleared)?;
        for entry in &self.audits {
            store.audit(entry, now)?;
        }
        Ok(())
    }
}

/// Whether a verdict refused the mileage as lower than the last reading.
pub fn regressed(verdict: &Verdict) -> bool {
    verdict
        .findings
        .iter()
        .any(|j| j.finding.rule == id::MILEAGE_REGRESSION)
}

/// For `forecourt status`: the listings held back and the first reason of each.
pub fn print_blocked(store: &dyn Store, platforms: &[String]) -> StoreResult<()> {
    for platform in platforms {
        let blocked: Vec<_> = store
            .listings(platform)?
            .into_iter()
            .filter(|l| l.lifecycle == "blocked")
            .collect();
        if blocked.is_empty() {
            continue;
        }
        println!("{} listing(s) blocked on {platform} (forecourt preview --vehicle ID shows all findings):", blocked.len());
        for l in blocked.iter().take(10) {
            let issues: Vec<ValidationIssue> =
                serde_json::from_str(l.issues.as_deref().unwrap_or("[]")).unwrap_or_default();
            let first = issues
                .iter()
                .find(|i| matches!(i.severity, WitSeverity::Error))
                .map(|i| format!("{}: {}", i.field, i.message))
                .unwrap_or_default();
            println!("  {:<12} {first}", l.stock_id);
        }
    }
    Ok(())
}
