//! Golden tests: every fixture vehicle through `transform` (its JSON-LD
//! `Car` document), and the index of all the transformable ones through
//! `render-feed`, compared with the files in `tests/golden/`.
//!
//! Run natively:
//! `cargo test -p forecourt-plugin-schema-org --target-dir target/plugins`.
//! After an intended change, rewrite the goldens with `UPDATE_GOLDEN=1` and
//! review the diff.

#[path = "fixtures/vehicles.rs"]
mod fixtures;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use forecourt_plugin_schema_org::{jsonld, jsonld::Car, SchemaOrg};
use forecourt_sdk::{ErrorClass, Listing, Platform, Severity, Transformed, ValidationIssue};

/// The configuration every case is transformed and rendered with.
const CONFIG: &str = r#"{"dealer_name":"Forecourt Motors Leeds","link_template":"https://dealer.example/cars/{stock_id}"}"#;

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

/// A readable record of one transform: the document, then the issues.
fn describe_transform(result: &Result<Transformed, Vec<ValidationIssue>>) -> String {
    let mut out = String::new();
    match result {
        Ok(t) => {
            let car: Car = serde_json::from_str(&t.listing.body).expect("the body is a Car");
            assert_eq!(
                jsonld::to_json(&car, false),
                t.listing.body,
                "the body is the Car's canonical JSON"
            );
            let _ = writeln!(out, "result: ok");
            let _ = writeln!(out, "stock-id: {}", t.listing.stock_id);
            let _ = writeln!(out, "body:");
            out.push_str(&jsonld::to_json(&car, true));
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

fn transform_all() -> Vec<(&'static str, Result<Transformed, Vec<ValidationIssue>>)> {
    fixtures::cases()
        .into_iter()
        .map(|(name, v)| (name, SchemaOrg::transform(CONFIG, v)))
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

#[test]
fn required_cases_are_in_the_fixture_set() {
    let names: Vec<&str> = fixtures::cases().iter().map(|(n, _)| *n).collect();
    for required in [
        "missing_optional_fields",
        "special_characters",
        "no_images",
        "many_images",
        "electric_no_engine_size",
        "new_car_zero_miles",
        "commercial_van_plus_vat",
        "northern_ireland_no_vin",
    ] {
        assert!(names.contains(&required), "{required} is missing");
    }
}

fn listings() -> Vec<Listing> {
    transform_all()
        .into_iter()
        .filter_map(|(_, r)| r.ok().map(|t| t.listing))
        .collect()
}

#[test]
fn index_matches_golden() {
    let feed = SchemaOrg::render_feed(CONFIG, listings()).unwrap();
    assert_eq!(feed.content_type, "application/ld+json");
    assert_eq!(feed.file_name, "vehicles.jsonld");
    let body = String::from_utf8(feed.body).unwrap();
    check("vehicles.jsonld", &body).unwrap();
}

#[test]
fn the_index_lists_every_car_in_order() {
    let listings = listings();
    let feed = SchemaOrg::render_feed(CONFIG, listings.clone()).unwrap();
    let index: serde_json::Value = serde_json::from_slice(&feed.body).unwrap();
    assert_eq!(index["@context"], "https://schema.org");
    assert_eq!(index["@type"], "ItemList");
    let elements = index["itemListElement"].as_array().unwrap();
    assert_eq!(elements.len(), listings.len());
    for (n, (element, listing)) in elements.iter().zip(&listings).enumerate() {
        assert_eq!(element["@type"], "ListItem");
        assert_eq!(element["position"], n + 1);
        let mut car: serde_json::Value = serde_json::from_str(&listing.body).unwrap();
        car.as_object_mut().unwrap().remove("@context");
        assert_eq!(element["item"], car, "{}", listing.stock_id);
    }
}

#[test]
fn documents_are_safe_inside_a_script_element() {
    let feed = SchemaOrg::render_feed(CONFIG, listings()).unwrap();
    let index = String::from_utf8(feed.body).unwrap();
    for doc in listings()
        .iter()
        .map(|l| l.body.as_str())
        .chain([index.as_str()])
    {
        assert!(!doc.contains('<') && !doc.contains('>') && !doc.contains('&'));
    }
    let special = transform_all()
        .into_iter()
        .find(|(n, _)| *n == "special_characters")
        .unwrap()
        .1
        .unwrap();
    let car: Car = serde_json::from_str(&special.listing.body).unwrap();
    assert!(car
        .description
        .unwrap()
        .starts_with("<p>Stunning car! \"Like new\" & it's ready 🚗💨</p>\n<ul>"));
}

#[test]
fn an_empty_index_has_no_elements() {
    let feed = SchemaOrg::render_feed(CONFIG, vec![]).unwrap();
    let index: serde_json::Value = serde_json::from_slice(&feed.body).unwrap();
    assert_eq!(index["itemListElement"], serde_json::json!([]));
}

#[test]
fn a_foreign_listing_body_fails_the_index() {
    for body in ["{}", r#"{"@type":"Car"}"#, "[1]"] {
        let bad = Listing {
            stock_id: "X1".into(),
            body: body.into(),
        };
        let e = SchemaOrg::render_feed(CONFIG, vec![bad]).unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent);
        assert!(e.message.contains("X1"), "{}", e.message);
    }
}

#[test]
fn bad_config_is_a_config_issue() {
    let errors =
        SchemaOrg::transform(r#"{"dealer_name":"D"}"#, fixtures::base("GV-100")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "config");
    let e = SchemaOrg::render_feed("{}", vec![]).unwrap_err();
    assert_eq!(e.class, ErrorClass::Validation);
}

#[test]
fn transform_is_deterministic() {
    let a = SchemaOrg::transform(CONFIG, fixtures::base("GV-1")).unwrap();
    let b = SchemaOrg::transform(CONFIG, fixtures::base("GV-1")).unwrap();
    assert_eq!(a.listing.body, b.listing.body);
}

#[test]
fn hub_only_data_never_reaches_a_document() {
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
    let e = SchemaOrg::publish(CONFIG, vec![]).unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert_eq!(e.message, "publish is not supported by this plugin");
    let e = SchemaOrg::list_published(CONFIG, None).unwrap_err();
    assert_eq!(e.message, "list-published is not supported by this plugin");
}

#[test]
fn describe_is_a_feed_platform() {
    let info = SchemaOrg::describe();
    assert_eq!(info.kind, forecourt_sdk::PlatformKind::FeedFile);
    assert!(info.operations.is_empty());
    let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(info.max_images, None);
    let feed = info.feed.unwrap();
    assert_eq!(feed.content_type, "application/ld+json");
    assert_eq!(feed.file_name, "vehicles.jsonld");
}
