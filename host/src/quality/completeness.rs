//! Listing completeness: how much of what a platform can show a listing
//! carries. Score out of 100: required fields 50, recommended fields 30,
//! images against the platform's ideal count 20.

use super::fields;
use crate::runtime::platform_api::PlatformInfo;
use crate::runtime::types::Vehicle;
use std::collections::BTreeMap;

/// The image count taken as complete when a platform names none.
pub const DEFAULT_IDEAL_IMAGES: u32 = 20;

/// Completeness of one vehicle on one platform.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Completeness {
    /// Stock id.
    pub stock_id: String,
    /// Platform id.
    pub platform: String,
    /// 0 to 100.
    pub score: i64,
    /// Required fields without a value.
    pub required_missing: Vec<String>,
    /// Recommended fields without a value.
    pub recommended_missing: Vec<String>,
    /// Images sent.
    pub images: i64,
    /// The platform's ideal image count.
    pub ideal_images: i64,
    /// When computed (ms since the epoch).
    pub computed_at: i64,
}

/// Completeness of one platform's stock.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlatformCompleteness {
    /// Platform id.
    pub platform: String,
    /// Vehicles scored.
    pub vehicles: usize,
    /// Mean score.
    pub average: f64,
    /// Lowest score.
    pub lowest: i64,
    /// Vehicles scoring 100.
    pub complete: usize,
    /// Vehicles missing a required field.
    pub missing_required: usize,
    /// Fields most often missing, with how many vehicles lack each.
    pub most_missing: Vec<(String, usize)>,
}

/// Score `v` (as it would be sent) for a platform.
pub fn score(
    v: &Vehicle,
    platform: &str,
    info: &PlatformInfo,
    mandatory: &[String],
    now: i64,
) -> Completeness {
    let mut required: Vec<&str> = mandatory.iter().map(String::as_str).collect();
    required.extend(info.required_fields.iter().map(String::as_str));
    let mut recommended: Vec<&str> = info.recommended_fields.iter().map(String::as_str).collect();
    recommended.extend(fields::RECOMMENDED);
    let dedup = |list: &mut Vec<&str>| {
        let mut seen = std::collections::BTreeSet::new();
        list.retain(|f| seen.insert(fields::reported(f).to_string()));
    };
    dedup(&mut required);
    recommended.retain(|f| {
        !required
            .iter()
            .any(|r| fields::reported(r) == fields::reported(f))
    });
    dedup(&mut recommended);
    let missing = |list: &[&str]| -> (usize, Vec<String>) {
        let applicable: Vec<&&str> = list
            .iter()
            .filter(|f| fields::present(v, f).is_some() && !fields::excused(v, f))
            .collect();
        let missing: Vec<String> = applicable
            .iter()
            .filter(|f| fields::present(v, f) == Some(false))
            .map(|f| fields::reported(f).to_string())
            .collect();
        (applicable.len(), missing)
    };
    let (required_n, required_missing) = missing(&required);
    let (recommended_n, recommended_missing) = missing(&recommended);
    let ideal = info.ideal_images.unwrap_or(DEFAULT_IDEAL_IMAGES).max(1);
    let share = |n: usize, missing: usize| {
        if n == 0 {
            1.0
        } else {
            (n - missing) as f64 / n as f64
        }
    };
    let images = v.images.len() as f64 / ideal as f64;
    let score = 50.0 * share(required_n, required_missing.len())
        + 30.0 * share(recommended_n, recommended_missing.len())
        + 20.0 * images.min(1.0);
    Completeness {
        stock_id: v.stock_id.clone(),
        platform: platform.to_string(),
        score: score.floor() as i64,
        required_missing,
        recommended_missing,
        images: v.images.len() as i64,
        ideal_images: ideal as i64,
        computed_at: now,
    }
}

/// Aggregate rows per platform.
pub fn summarise(rows: &[Completeness]) -> Vec<PlatformCompleteness> {
    let mut by: BTreeMap<&str, Vec<&Completeness>> = BTreeMap::new();
    for r in rows {
        by.entry(&r.platform).or_default().push(r);
    }
    by.into_iter()
        .map(|(platform, rows)| {
            let mut missing: BTreeMap<&str, usize> = BTreeMap::new();
            for r in &rows {
                for f in r.required_missing.iter().chain(&r.recommended_missing) {
                    *missing.entry(f).or_default() += 1;
                }
            }
            let mut most_missing: Vec<(String, usize)> = missing
                .into_iter()
                .map(|(f, n)| (f.to_string(), n))
                .collect();
            most_missing.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            most_missing.truncate(10);
            PlatformCompleteness {
                platform: platform.to_string(),
                vehicles: rows.len(),
                average: rows.iter().map(|r| r.score as f64).sum::<f64>() / rows.len() as f64,
                lowest: rows.iter().map(|r| r.score).min().unwrap_or(0),
                complete: rows.iter().filter(|r| r.score >= 100).count(),
                missing_required: rows
                    .iter()
                    .filter(|r| !r.required_missing.is_empty())
                    .count(),
                most_missing,
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::runtime::platform_api::PlatformKind;

    pub(crate) fn info(
        required: &[&str],
        recommended: &[&str],
        ideal: Option<u32>,
    ) -> PlatformInfo {
        PlatformInfo {
            name: "p".into(),
            version: "1".into(),
            kind: PlatformKind::Api,
            config_schema: "{}".into(),
            required_fields: required.iter().map(|s| s.to_string()).collect(),
            recommended_fields: recommended.iter().map(|s| s.to_string()).collect(),
            max_images: None,
            ideal_images: ideal,
            max_description_length: None,
            batch_size: 10,
            rate_limit_per_minute: None,
            operations: vec![],
            feed: None,
        }
    }

    #[test]
    fn a_full_listing_scores_100_and_gaps_cost_points() {
        let mut v = crate::sample::sample_stock(1, 2).remove(0);
        v.vin = Some("WVWZZZ1KZAW000001".into());
        v.trim = Some("SE".into());
        v.service_history = Some(crate::runtime::types::ServiceHistory::Full);
        v.previous_owners = Some(1);
        v.first_registration = Some(crate::runtime::types::Date {
            year: 2020,
            month: 3,
            day: 1,
        });
        v.mot_expiry = Some(crate::runtime::types::Date {
            year: 2027,
            month: 3,
            day: 1,
        });
        v.condition = crate::runtime::types::Condition::Used;
        v.registration = Some("AB20CDE".into());
        v.images = (0..10)
            .map(|n| crate::runtime::types::Image {
                url: format!("https://img/{n}.jpg"),
                width: None,
                height: None,
            })
            .collect();
        let i = info(&["make", "price"], &["drivetrain"], Some(10));
        v.drivetrain = Some(crate::runtime::types::Drivetrain::FrontWheelDrive);
        let full = score(&v, "p", &i, &["registration".into()], 1);
        assert_eq!(full.score, 100, "{full:?}");
        v.price = None;
        v.drivetrain = None;
        v.images.truncate(5);
        let gaps = score(&v, "p", &i, &["registration".into()], 1);
        assert_eq!(gaps.required_missing, vec!["price"]);
        assert_eq!(gaps.recommended_missing, vec!["drivetrain"]);
        // required 2/3 of 50, recommended 12/13 of 30, images half of 20.
        assert_eq!(
            gaps.score,
            (50.0 * 2.0 / 3.0 + 30.0 * 12.0 / 13.0 + 10.0f64).floor() as i64
        );
        assert_eq!(gaps.ideal_images, 10);
    }
}
