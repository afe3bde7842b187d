//! Listing completeness: how much of what buyers look for a vehicle's record
//! carries (photos, description, specification, price, mileage, history).
//!
//! The admin API, the dashboard and the `forecourt_listing_completeness_ratio`
//! metric read scores through [`Scorer`], so a richer per-platform scorer
//! (the validation rules of issue 6) can replace [`FieldScorer`] without
//! touching them. Scores are cached: computing them reads every vehicle.

use crate::runtime::types::Vehicle;
use crate::store::{SqliteStore, Store, StoreResult};
use serde::Serialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Scores vehicle records between 0 (nothing useful) and 1 (complete).
pub trait Scorer: Send + Sync {
    /// The score of one vehicle and the names of what it lacks.
    fn score(&self, vehicle: &Vehicle) -> (f64, Vec<&'static str>);
}

/// The fallback scorer: each of a fixed list of fields counts equally.
#[derive(Debug, Default, Clone, Copy)]
pub struct FieldScorer;

/// Photos a complete advert has at least (Auto Trader recommends 20+; 10 is the usual floor).
const GOOD_IMAGE_COUNT: usize = 10;

impl Scorer for FieldScorer {
    fn score(&self, v: &Vehicle) -> (f64, Vec<&'static str>) {
        let checks: [(&'static str, bool); 14] = [
            ("registration", v.registration.is_some()),
            ("make", v.make.is_some()),
            ("model", v.model.is_some()),
            ("variant", v.variant.is_some()),
            ("fuel_type", v.fuel_type.is_some()),
            ("transmission", v.transmission.is_some()),
            ("body_style", v.body_style.is_some()),
            ("colour", v.colour.is_some()),
            ("first_registration", v.first_registration.is_some()),
            ("mileage", v.mileage.is_some()),
            ("price", v.price.is_some()),
            (
                "description",
                v.description
                    .as_deref()
                    .is_some_and(|d| d.trim().len() >= 50),
            ),
            ("images", !v.images.is_empty()),
            ("ten_images", v.images.len() >= GOOD_IMAGE_COUNT),
        ];
        let missing: Vec<&'static str> = checks
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(name, _)| *name)
            .collect();
        (
            (checks.len() - missing.len()) as f64 / checks.len() as f64,
            missing,
        )
    }
}

/// Completeness of what one platform advertises.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlatformCompleteness {
    /// Platform id.
    pub platform: String,
    /// Vehicles the platform should show.
    pub advertised: usize,
    /// Mean score of those vehicles (1 when there are none).
    pub mean: f64,
    /// Vehicles scoring below 0.75.
    pub below_three_quarters: usize,
}

/// The least complete advertised vehicle records.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Incomplete {
    /// Stock id.
    pub stock_id: String,
    /// Score.
    pub score: f64,
    /// What it lacks.
    pub missing: Vec<&'static str>,
}

/// A completeness report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// Per platform.
    pub platforms: Vec<PlatformCompleteness>,
    /// The ten least complete advertised vehicles.
    pub worst: Vec<Incomplete>,
    /// Which scorer produced it.
    pub scorer: &'static str,
}

/// Computes reports and keeps the last one for `ttl`.
pub struct Completeness {
    scorer: Box<dyn Scorer>,
    name: &'static str,
    ttl: Duration,
    cached: Mutex<Option<(Instant, Report)>>,
}

impl Completeness {
    /// With the fallback field scorer, recomputed at most once a minute.
    pub fn fields() -> Self {
        Self::new(Box::new(FieldScorer), "fields", Duration::from_secs(60))
    }

    /// With any scorer.
    pub fn new(scorer: Box<dyn Scorer>, name: &'static str, ttl: Duration) -> Self {
        Self {
            scorer,
            name,
            ttl,
            cached: Mutex::new(None),
        }
    }

    /// The report for these platforms (cached).
    pub fn report(&self, store: &SqliteStore, platforms: &[String]) -> StoreResult<Report> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, report)) = cached.as_ref() {
            if at.elapsed() < self.ttl {
                return Ok(report.clone());
            }
        }
        let report = self.compute(store, platforms)?;
        *cached = Some((Instant::now(), report.clone()));
        Ok(report)
    }

    fn compute(&self, store: &SqliteStore, platforms: &[String]) -> StoreResult<Report> {
        let scored: std::collections::HashMap<String, (f64, Vec<&'static str>)> = store
            .present_vehicles()?
            .into_iter()
            .map(|v| (v.record.stock_id.clone(), self.scorer.score(&v.record)))
            .collect();
        let mut out = Vec::new();
        let mut advertised_anywhere = std::collections::BTreeSet::new();
        for platform in platforms {
            let scores: Vec<f64> = store
                .listings(platform)?
                .into_iter()
                .filter(|l| l.desired_state != "absent")
                .filter_map(|l| {
                    let s = scored.get(&l.stock_id)?;
                    advertised_anywhere.insert(l.stock_id);
                    Some(s.0)
                })
                .collect();
            out.push(PlatformCompleteness {
                platform: platform.clone(),
                advertised: scores.len(),
                mean: if scores.is_empty() {
                    1.0
                } else {
                    scores.iter().sum::<f64>() / scores.len() as f64
                },
                below_three_quarters: scores.iter().filter(|s| **s < 0.75).count(),
            });
        }
        let mut worst: Vec<Incomplete> = advertised_anywhere
            .into_iter()
            .filter_map(|id| {
                let (score, missing) = scored.get(&id)?.clone();
                Some(Incomplete {
                    stock_id: id,
                    score,
                    missing,
                })
            })
            .filter(|i| i.score < 1.0)
            .collect();
        worst.sort_by(|a, b| {
            a.score
                .total_cmp(&b.score)
                .then(a.stock_id.cmp(&b.stock_id))
        });
        worst.truncate(10);
        Ok(Report {
            platforms: out,
            worst,
            scorer: self.name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_record_scores_low_and_names_what_it_lacks() {
        let mut v = crate::sample::sample_stock(1, 5).remove(0);
        let (full, _) = FieldScorer.score(&v);
        v.images.clear();
        v.description = None;
        v.colour = None;
        let (bare, missing) = FieldScorer.score(&v);
        assert!(bare < full, "{bare} < {full}");
        for field in ["images", "ten_images", "description", "colour"] {
            assert!(missing.contains(&field), "{missing:?}");
        }
    }
}
