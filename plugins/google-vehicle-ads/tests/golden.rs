//! Golden tests: every fixture vehicle through `transform`, and the feed of
//! all the transformable ones through `render-feed`, compared with the files
//! in `tests/golden/`.
//!
//! Run natively:
//! `cargo test -p forecourt-plugin-google-vehicle-ads --target-dir target/plugins`.
//! After an intended change, rewrite the goldens with `UPDATE_GOLDEN=1` and
//! review the diff.

#[path = "fixtures/vehicles.rs"]
mod fixtures;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use forecourt_plugin_google_vehicle_ads::{feed::Item, GoogleVehicleAds};
use forecourt_sdk::{Listing, Platform, Severity, ValidationIssue};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compare `actual` with the golden file `name`, or rewrite it.
fn check(name: &str, actual: &str) -> Result<(), String> {
    forecourt_sdk::testkit::check_golden(&golden_dir(), name, actual)
}

fn issues(out: &mut String, issues: &[ValidationIssue]) {
    for i in issues {
        let severity = match i.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "- {severity} {}: {}", i.field, i.message);
    }
}

/// A readable record of one transform: the item in attribute order, then
/// the issues.
fn describe_transform(result: &Result<forecourt_sdk::Transformed, Vec<ValidationIssue>>) -> String {
    let mut out = String::new();
    match result {
        Ok(t) => {
            let item: Item = serde_json::from_str(&t.listing.body).expect("the body is an item");
            assert_eq!(
                serde_json::to_string(&item).unwrap(),
                t.listing.body,
                "the body is the item's canonical JSON"
            );
            let _ = writeln!(out, "result: ok");
            let _ = writeln!(out, "stock-id: {}", t.listing.stock_id);
            let _ = writeln!(out, "body:");
            out.push_str(&serde_json::to_string_pretty(&item).unwrap());
            out.push('\n');
            let _ = writeln!(out, "warnings:");
            issues(&mut out, &t.warnings);
        }
        Err(errors) => {
            let _ = writeln!(out, "result: rejected");
            let _ = writeln!(out, "errors:");
            issues(&mut out, errors);
        }
    }
    out
}

fn transform_all() -> Vec<(
    &'static str,
    Result<forecourt_sdk::Transformed, Vec<ValidationIssue>>,
)> {
    fixtures::cases()
        .into_iter()
        .map(|(name, v)| (name, GoogleVehicleAds::transform(fixtures::CONFIG_TSV, v)))
        .collect()
}

#[test]
fn transforms_match_goldens() {
    let failures: Vec<String> = transform_all()
        .iter()
        .filter_map(|(name, result)| {
            check(&format!("{name}.txt"), &describe_transform(result)).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn listings() -> Vec<Listing> {
    transform_all()
        .into_iter()
        .filter_map(|(_, r)| r.ok().map(|t| t.listing))
        .collect()
}

#[test]
fn tsv_feed_matches_golden() {
    let feed = GoogleVehicleAds::render_feed(fixtures::CONFIG_TSV, listings()).unwrap();
    assert_eq!(feed.content_type, "text/tab-separated-values");
    assert_eq!(feed.file_name, "google-vehicle-ads.tsv");
    let body = String::from_utf8(feed.body).unwrap();
    let columns = body.lines().next().unwrap().split('\t').count();
    for (n, line) in body.lines().enumerate() {
        assert_eq!(
            line.split('\t').count(),
            columns,
            "row {} has a stray tab",
            n + 1
        );
    }
    check("feed.tsv", &body).unwrap();
}

#[test]
fn xml_feed_matches_golden() {
    let feed = GoogleVehicleAds::render_feed(fixtures::CONFIG_XML, listings()).unwrap();
    assert_eq!(feed.content_type, "application/xml");
    assert_eq!(feed.file_name, "google-vehicle-ads.xml");
    let body = String::from_utf8(feed.body).unwrap();
    assert!(body.contains(r#"xmlns:g="http://base.google.com/ns/1.0""#));
    assert!(
        !body.contains('\u{1}'),
        "XML cannot carry control characters"
    );
    check("feed.xml", &body).unwrap();
}

#[test]
fn an_empty_feed_is_just_the_header() {
    let feed = GoogleVehicleAds::render_feed(fixtures::CONFIG_TSV, vec![]).unwrap();
    let body = String::from_utf8(feed.body).unwrap();
    assert_eq!(body.lines().count(), 1);
}

#[test]
fn a_foreign_listing_body_fails_the_feed() {
    let bad = Listing {
        stock_id: "X1".into(),
        body: "{}".into(),
    };
    let e = GoogleVehicleAds::render_feed(fixtures::CONFIG_TSV, vec![bad]).unwrap_err();
    assert_eq!(e.class, forecourt_sdk::ErrorClass::Permanent);
    assert!(e.message.contains("X1"), "{}", e.message);
}

#[test]
fn bad_config_is_a_config_issue() {
    let v = fixtures::base("GV-100");
    let errors = GoogleVehicleAds::transform(r#"{"store_code":"S"}"#, v).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "config");
}

#[test]
fn transform_is_deterministic() {
    let a = GoogleVehicleAds::transform(fixtures::CONFIG_TSV, fixtures::base("GV-1")).unwrap();
    let b = GoogleVehicleAds::transform(fixtures::CONFIG_TSV, fixtures::base("GV-1")).unwrap();
    assert_eq!(a.listing.body, b.listing.body);
}

#[test]
fn hub_only_data_never_reaches_the_feed() {
    for (_, result) in transform_all() {
        if let Ok(t) = result {
            for secret in ["Jane", "jane@example.com", "auction", "10500"] {
                assert!(!t.listing.body.contains(secret), "{secret} leaked");
            }
        }
    }
}

#[test]
fn unsupported_operations_say_so() {
    let e = GoogleVehicleAds::publish(fixtures::CONFIG_TSV, vec![]).unwrap_err();
    assert_eq!(e.class, forecourt_sdk::ErrorClass::Permanent);
    assert_eq!(e.message, "publish is not supported by this plugin");
    let e = GoogleVehicleAds::list_published(fixtures::CONFIG_TSV, None).unwrap_err();
    assert_eq!(e.message, "list-published is not supported by this plugin");
}

#[test]
fn describe_is_a_feed_platform() {
    let info = GoogleVehicleAds::describe();
    assert_eq!(info.kind, forecourt_sdk::PlatformKind::FeedFile);
    assert!(info.operations.is_empty());
    let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(info.max_images, Some(11));
}
