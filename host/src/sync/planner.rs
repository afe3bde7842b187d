//! The planner: desired state (what the vehicle should look like on a
//! platform, after transform) against published state (what the platform
//! acknowledged) gives at most one operation. Level-triggered: planning the
//! same content twice yields the same idempotency key, so a replay after a
//! crash adds nothing.

use crate::runtime::types::{StockStatus, ValidationIssue};
use crate::store::{ListingRow, NewJob, PlannedListing, StoredVehicle};
use sha2::{Digest, Sha256};

/// Priority of removals of sold and withdrawn stock: first, at once.
pub const PRIORITY_REMOVE: i64 = 0;
/// Priority of new stock and reservation changes.
pub const PRIORITY_NEW: i64 = 1;
/// Priority of other updates (batched in the platform's window).
pub const PRIORITY_UPDATE: i64 = 2;

/// What transform said about a vehicle for one platform.
#[derive(Debug, Clone)]
pub enum Rendered {
    /// Not advertisable (sold, withdrawn, removed): nothing was rendered.
    NotAdvertisable,
    /// The listing, its hash and non-blocking warnings.
    Listing {
        /// sha256 of the body.
        hash: String,
        /// The platform document.
        body: String,
        /// Warnings.
        warnings: Vec<ValidationIssue>,
    },
    /// Blocking validation issues.
    Blocked(Vec<ValidationIssue>),
}

/// Timing rules of one platform.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// How long a sold vehicle stays advertised (the dealer's website may keep it a few days).
    pub deadvertise_delay_ms: i64,
    /// Updates other than new stock and removals wait for the next window boundary (0 = at once).
    pub update_window_ms: i64,
}

/// Whether a vehicle should be advertised at all.
pub fn advertisable(v: &StoredVehicle) -> bool {
    v.present
        && matches!(
            v.record.status,
            StockStatus::DueIn | StockStatus::InStock | StockStatus::Reserved
        )
}

/// sha256 of a listing body.
pub fn body_hash(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// Stable for the same operation on the same content (a replay after a
/// crash adds nothing); new when the content, the time it was seen, or the
/// listing's reconciliation generation changes.
fn idempotency_key(
    platform: &str,
    stock_id: &str,
    kind: &str,
    content: &str,
    seen_at: i64,
    generation: i64,
) -> String {
    let mut h = Sha256::new();
    for part in [
        platform,
        stock_id,
        kind,
        content,
        &seen_at.to_string(),
        &generation.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("fc-{}", &hex::encode(h.finalize())[..40])
}

/// A removal for a listing the platform shows but the hub has no vehicle
/// for (an orphan found by reconciliation).
pub fn orphan_removal(stock_id: &str, platform: &str, now: i64) -> PlannedListing {
    PlannedListing {
        stock_id: stock_id.into(),
        platform: platform.into(),
        desired_state: "absent".into(),
        desired: None,
        issues: vec![],
        blocked: false,
        job: Some(NewJob {
            kind: "remove".into(),
            idempotency_key: idempotency_key(platform, stock_id, "remove", "orphan", now, 0),
            priority: PRIORITY_REMOVE,
            run_at: now,
            listing_hash: None,
            seen_at: now,
        }),
    }
}

/// Plan one (vehicle, platform).
pub fn plan(
    vehicle: &StoredVehicle,
    platform: &str,
    current: Option<&ListingRow>,
    rendered: Rendered,
    timing: Timing,
    now: i64,
) -> PlannedListing {
    let stock_id = vehicle.record.stock_id.clone();
    let published = current.map_or("none", |l| l.published_state.as_str());
    let is_published = matches!(published, "live" | "reserved");
    let generation = current.map_or(0, |l| l.generation);
    let job = |kind: &str, priority: i64, run_at: i64, hash: Option<&str>| NewJob {
        kind: kind.into(),
        idempotency_key: idempotency_key(
            platform,
            &stock_id,
            kind,
            hash.unwrap_or(&vehicle.content_hash),
            vehicle.seen_at,
            generation,
        ),
        priority,
        run_at,
        listing_hash: hash.map(str::to_string),
        seen_at: vehicle.seen_at,
    };
    let mut planned = PlannedListing {
        stock_id: stock_id.clone(),
        platform: platform.to_string(),
        desired_state: "absent".into(),
        desired: None,
        issues: vec![],
        blocked: false,
        job: None,
    };
    match rendered {
        Rendered::NotAdvertisable => {
            if is_published {
                let delay = match vehicle.record.status {
                    StockStatus::Sold if vehicle.present => timing.deadvertise_delay_ms,
                    _ => 0,
                };
                planned.job = Some(job("remove", PRIORITY_REMOVE, now + delay, None));
            }
        }
        Rendered::Blocked(issues) => {
            planned.desired_state = current.map_or("absent".into(), |l| l.desired_state.clone());
            planned.issues = issues;
            planned.blocked = true;
        }
        Rendered::Listing {
            hash,
            body,
            warnings,
        } => {
            let desired_state = if matches!(vehicle.record.status, StockStatus::Reserved) {
                "reserved"
            } else {
                "live"
            };
            planned.desired_state = desired_state.into();
            planned.issues = warnings;
            let same_content =
                current.and_then(|l| l.published_hash.as_deref()) == Some(hash.as_str());
            planned.job = if !is_published {
                Some(job("create", PRIORITY_NEW, now, Some(&hash)))
            } else if same_content && published == desired_state {
                None
            } else if published == "live" && desired_state == "reserved" {
                Some(job("reserve", PRIORITY_NEW, now, Some(&hash)))
            } else if published == "reserved" && desired_state == "live" {
                Some(job("unreserve", PRIORITY_NEW, now, Some(&hash)))
            } else {
                let run_at = match timing.update_window_ms {
                    w if w > 0 => (now / w + 1) * w,
                    _ => now,
                };
                Some(job("update", PRIORITY_UPDATE, run_at, Some(&hash)))
            };
            planned.desired = Some((hash, body));
        }
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(status: StockStatus, present: bool) -> StoredVehicle {
        let mut record = crate::sample::sample_stock(1, 5).remove(0);
        record.status = status;
        StoredVehicle {
            content_hash: crate::store::sqlite::content_hash(&record),
            record,
            present,
            seen_at: 100,
            source: "dms".into(),
            plan_token: 1,
        }
    }

    fn listing(published: &str, hash: Option<&str>) -> ListingRow {
        ListingRow {
            stock_id: "x".into(),
            platform: "p".into(),
            desired_state: "live".into(),
            desired_hash: hash.map(str::to_string),
            desired_body: None,
            published_state: published.into(),
            published_hash: hash.map(str::to_string),
            published_body: None,
            remote_id: Some("r1".into()),
            lifecycle: "in-sync".into(),
            issues: None,
            last_error: None,
            error_class: None,
            attempts: 0,
            generation: 0,
            updated_at: 0,
        }
    }

    fn rendered(body: &str) -> Rendered {
        Rendered::Listing {
            hash: body_hash(body),
            body: body.into(),
            warnings: vec![],
        }
    }

    fn kind(p: &PlannedListing) -> Option<&str> {
        p.job.as_ref().map(|j| j.kind.as_str())
    }

    #[test]
    fn new_vehicle_is_created_unchanged_is_left_alone() {
        let v = stored(StockStatus::InStock, true);
        let p = plan(&v, "p", None, rendered("a"), Timing::default(), 1);
        assert_eq!(kind(&p), Some("create"));
        let l = listing("live", Some(&body_hash("a")));
        let p = plan(&v, "p", Some(&l), rendered("a"), Timing::default(), 1);
        assert_eq!(
            kind(&p),
            None,
            "an unchanged vehicle causes no platform call"
        );
        let p = plan(&v, "p", Some(&l), rendered("b"), Timing::default(), 1);
        assert_eq!(kind(&p), Some("update"));
    }

    #[test]
    fn sold_is_removed_first_with_the_platforms_delay() {
        let v = stored(StockStatus::Sold, true);
        let l = listing("live", Some("h"));
        let timing = Timing {
            deadvertise_delay_ms: 5_000,
            update_window_ms: 0,
        };
        let p = plan(
            &v,
            "website",
            Some(&l),
            Rendered::NotAdvertisable,
            timing,
            10,
        );
        let job = p.job.unwrap();
        assert_eq!(
            (job.kind.as_str(), job.priority, job.run_at),
            ("remove", PRIORITY_REMOVE, 5_010)
        );
        // Removed from the DMS altogether: no delay.
        let gone = stored(StockStatus::InStock, false);
        let p = plan(
            &gone,
            "website",
            Some(&l),
            Rendered::NotAdvertisable,
            timing,
            10,
        );
        assert_eq!(p.job.unwrap().run_at, 10);
        // Never published: nothing to remove.
        assert!(plan(&v, "p", None, Rendered::NotAdvertisable, timing, 10)
            .job
            .is_none());
    }

    #[test]
    fn reservation_changes() {
        let v = stored(StockStatus::Reserved, true);
        let l = listing("live", Some(&body_hash("a")));
        assert_eq!(
            kind(&plan(
                &v,
                "p",
                Some(&l),
                rendered("a"),
                Timing::default(),
                1
            )),
            Some("reserve")
        );
        let v = stored(StockStatus::InStock, true);
        let l = listing("reserved", Some(&body_hash("a")));
        assert_eq!(
            kind(&plan(
                &v,
                "p",
                Some(&l),
                rendered("a"),
                Timing::default(),
                1
            )),
            Some("unreserve")
        );
    }

    #[test]
    fn updates_wait_for_the_window_and_keys_are_stable() {
        let v = stored(StockStatus::InStock, true);
        let l = listing("live", Some(&body_hash("a")));
        let timing = Timing {
            deadvertise_delay_ms: 0,
            update_window_ms: 1_000,
        };
        let a = plan(&v, "p", Some(&l), rendered("b"), timing, 1_500)
            .job
            .unwrap();
        assert_eq!(a.run_at, 2_000);
        let b = plan(&v, "p", Some(&l), rendered("b"), timing, 1_700)
            .job
            .unwrap();
        assert_eq!(
            a.idempotency_key, b.idempotency_key,
            "replanning the same content is idempotent"
        );
        let c = plan(&v, "other", Some(&l), rendered("b"), timing, 1_700)
            .job
            .unwrap();
        assert_ne!(a.idempotency_key, c.idempotency_key);
    }

    #[test]
    fn blocked_keeps_what_is_published() {
        let v = stored(StockStatus::InStock, true);
        let l = listing("live", Some("h"));
        let issue = ValidationIssue {
            field: "price".into(),
            severity: crate::runtime::types::Severity::Error,
            message: "missing".into(),
        };
        let p = plan(
            &v,
            "p",
            Some(&l),
            Rendered::Blocked(vec![issue]),
            Timing::default(),
            1,
        );
        assert!(p.blocked && p.job.is_none());
        assert_eq!(p.desired_state, "live");
    }
}
