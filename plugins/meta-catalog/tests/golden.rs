//! Golden tests: every fixture vehicle through `transform`, and the feed of
//! all the transformable ones through `render-feed`, compared with the files
//! in `tests/golden/`.
//!
//! Run natively:
//! `cargo test -p forecourt-plugin-meta-catalog --target-dir target/plugins`.
//! After an intended change, rewrite the goldens with `UPDATE_GOLDEN=1` and
//! review the diff.

#[path = "fixtures/vehicles.rs"]
mod fixtures;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use forecourt_plugin_meta_catalog::{catalog, catalog::Item, MetaCatalog};
use forecourt_sdk::{ErrorClass, Listing, Platform, Severity, Transformed, ValidationIssue};

/// The configuration every case is transformed and rendered with.
const CONFIG: &str = r#"{"link_template":"https://dealer.example/cars/{stock_id}","dealer_name":"Forecourt Motors Leeds","dealer_id":"FC-LEEDS-01","address":{"addr1":"1 Kirkstall Road","city":"Leeds","region":"West Yorkshire","postal_code":"LS3 1AB","country":"GB"}}"#;

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

/// A readable record of one transform: the item, then the issues.
fn describe_transform(result: &Result<Transformed, Vec<ValidationIssue>>) -> String {
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

fn transform_all() -> Vec<(&'static str, Result<Transformed, Vec<ValidationIssue>>)> {
    fixtures::cases()
        .into_iter()
        .map(|(name, v)| (name, MetaCatalog::transform(CONFIG, v)))
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

#[test]
fn every_enumerated_value_is_one_of_metas() {
    for (name, result) in transform_all() {
        let Ok(t) = result else { continue };
        let item: Item = serde_json::from_str(&t.listing.body).unwrap();
        let check = |value: Option<&str>, allowed: &[&str], field: &str| {
            if let Some(value) = value {
                assert!(allowed.contains(&value), "{name}: {field} = {value}");
            }
        };
        check(
            Some(&item.state_of_vehicle),
            &catalog::STATES_OF_VEHICLE,
            "state_of_vehicle",
        );
        check(
            Some(&item.availability),
            &catalog::AVAILABILITIES,
            "availability",
        );
        check(
            Some(&item.vehicle_type),
            &catalog::VEHICLE_TYPES,
            "vehicle_type",
        );
        check(
            Some(&item.mileage.unit),
            &catalog::MILEAGE_UNITS,
            "mileage.unit",
        );
        check(
            item.body_style.as_deref(),
            &catalog::BODY_STYLES,
            "body_style",
        );
        check(item.fuel_type.as_deref(), &catalog::FUEL_TYPES, "fuel_type");
        check(
            item.transmission.as_deref(),
            &catalog::TRANSMISSIONS,
            "transmission",
        );
        check(
            item.drivetrain.as_deref(),
            &catalog::DRIVETRAINS,
            "drivetrain",
        );
        assert!(item.image.len() <= catalog::MAX_IMAGES, "{name}");
        assert!(
            item.description.chars().count() <= catalog::MAX_DESCRIPTION_CHARS,
            "{name}"
        );
        if let Some(vin) = &item.vin {
            assert_eq!(vin.len(), 17, "{name}");
        }
        let (amount, currency) = item.price.split_once(' ').unwrap();
        assert!(amount.parse::<f64>().unwrap() > 0.0, "{name}");
        assert_eq!(currency.len(), 3, "{name}");
    }
}

fn listings() -> Vec<Listing> {
    transform_all()
        .into_iter()
        .filter_map(|(_, r)| r.ok().map(|t| t.listing))
        .collect()
}

#[test]
fn csv_feed_matches_golden() {
    let feed = MetaCatalog::render_feed(CONFIG, listings()).unwrap();
    assert_eq!(feed.content_type, "text/csv");
    assert_eq!(feed.file_name, "meta-catalog.csv");
    let body = String::from_utf8(feed.body).unwrap();
    assert!(!body.starts_with('\u{feff}'), "no byte-order mark");
    assert!(body.ends_with("\r\n"));
    check("feed.csv", &body).unwrap();
}

#[test]
fn the_csv_reads_back_to_the_items() {
    let listings = listings();
    let feed = MetaCatalog::render_feed(CONFIG, listings.clone()).unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(feed.body.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, catalog::columns());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), listings.len());
    for (row, listing) in rows.iter().zip(&listings) {
        let item: Item = serde_json::from_str(&listing.body).unwrap();
        let cells: Vec<&str> = row.iter().collect();
        assert_eq!(cells, item.row(), "{}", listing.stock_id);
        let cell = |name: &str| {
            row.get(header.iter().position(|h| h == name).unwrap())
                .unwrap()
        };
        assert_eq!(cell("vehicle_id"), item.vehicle_id);
        assert_eq!(cell("description"), item.description);
        assert_eq!(cell("address.postal_code"), "LS3 1AB");
    }
}

#[test]
fn special_characters_survive_the_csv() {
    let listings = listings();
    let special = listings.iter().find(|l| l.stock_id == "GV-003/É").unwrap();
    let feed = MetaCatalog::render_feed(CONFIG, vec![special.clone()]).unwrap();
    let body = String::from_utf8(feed.body).unwrap();
    // Quotes are doubled inside a quoted field; the line breaks stay inside it.
    assert!(body.contains("\"\"Like new\"\""), "{body}");
    assert!(body.contains("🚗💨"));
    assert!(!body.contains('\u{1}'), "control characters are removed");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    assert!(row
        .get(2)
        .unwrap()
        .contains("</ul>\nPrice <£15k>, 0% APR\tavailable"));
    assert_eq!(row.len(), catalog::columns().len());
}

#[test]
fn an_empty_feed_is_just_the_header() {
    let feed = MetaCatalog::render_feed(CONFIG, vec![]).unwrap();
    let body = String::from_utf8(feed.body).unwrap();
    assert_eq!(body, format!("{}\r\n", catalog::columns().join(",")));
}

#[test]
fn a_foreign_listing_body_fails_the_feed() {
    let bad = Listing {
        stock_id: "X1".into(),
        body: "{}".into(),
    };
    let e = MetaCatalog::render_feed(CONFIG, vec![bad]).unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("X1"), "{}", e.message);
}

#[test]
fn a_duplicate_vehicle_id_fails_the_feed() {
    let one = listings().remove(0);
    let e = MetaCatalog::render_feed(CONFIG, vec![one.clone(), one]).unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("appears twice"), "{}", e.message);
}

#[test]
fn bad_config_is_a_config_issue() {
    let errors =
        MetaCatalog::transform(r#"{"dealer_name":"D"}"#, fixtures::base("GV-100")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "config");
    let e = MetaCatalog::render_feed("{}", vec![]).unwrap_err();
    assert_eq!(e.class, ErrorClass::Validation);
    assert_eq!(e.field.as_deref(), Some("config"));
}

#[test]
fn dealer_id_defaults_to_the_vehicles() {
    let config = CONFIG.replace(r#""dealer_id":"FC-LEEDS-01","#, "");
    let t = MetaCatalog::transform(&config, fixtures::base("GV-1")).unwrap();
    let item: Item = serde_json::from_str(&t.listing.body).unwrap();
    assert_eq!(item.dealer_id, "dealer-1");
}

#[test]
fn transform_is_deterministic() {
    let a = MetaCatalog::transform(CONFIG, fixtures::base("GV-1")).unwrap();
    let b = MetaCatalog::transform(CONFIG, fixtures::base("GV-1")).unwrap();
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
    let e = MetaCatalog::publish(CONFIG, vec![]).unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert_eq!(e.message, "publish is not supported by this plugin");
    let e = MetaCatalog::list_published(CONFIG, None).unwrap_err();
    assert_eq!(e.message, "list-published is not supported by this plugin");
    let e = MetaCatalog::fetch_enquiries(CONFIG, None).unwrap_err();
    assert_eq!(e.message, "fetch-enquiries is not supported by this plugin");
}

#[test]
fn describe_is_a_feed_platform() {
    let info = MetaCatalog::describe();
    assert_eq!(info.kind, forecourt_sdk::PlatformKind::FeedFile);
    assert!(info.operations.is_empty());
    let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(info.max_images, Some(20));
    assert_eq!(info.max_description_length, Some(5000));
    let feed = info.feed.unwrap();
    assert_eq!(feed.content_type, "text/csv");
    assert_eq!(feed.file_name, "meta-catalog.csv");
}
