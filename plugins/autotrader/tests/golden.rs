//! Golden tests: every fixture vehicle through `transform`, compared with the
//! files in `tests/golden/` (the stock item pretty-printed, then the issues).
//!
//! Run natively:
//! `cargo test -p forecourt-plugin-autotrader --target-dir target/plugins`.
//! After an intended change, rewrite the goldens with `UPDATE_GOLDEN=1` and
//! review the diff.

#[path = "fixtures/vehicles.rs"]
mod fixtures;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use forecourt_plugin_autotrader::{config::LOCATIONS, AutoTrader};
use forecourt_sdk::{
    ErrorClass, OperationKind, Platform, PlatformKind, Severity, Transformed, ValidationIssue,
};
use serde_json::Value;

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

/// A readable record of one transform.
fn describe_transform(result: &Result<Transformed, Vec<ValidationIssue>>) -> String {
    let mut out = String::new();
    match result {
        Ok(t) => {
            let item: Value = serde_json::from_str(&t.listing.body).expect("the body is JSON");
            assert_eq!(
                item.to_string(),
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
        .map(|(name, v)| (name, AutoTrader::transform(fixtures::CONFIG, v)))
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

fn ok(name: &str) -> (Value, Vec<ValidationIssue>) {
    let (_, result) = transform_all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap();
    let t = result.unwrap_or_else(|e| panic!("{name} rejected: {e:?}"));
    (serde_json::from_str(&t.listing.body).unwrap(), t.warnings)
}

fn rejected(name: &str) -> Vec<(String, Severity)> {
    let (_, result) = transform_all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap();
    let Err(errors) = result else {
        panic!("{name} was accepted")
    };
    errors.into_iter().map(|e| (e.field, e.severity)).collect()
}

fn fields(issues: &[ValidationIssue]) -> Vec<&str> {
    issues.iter().map(|i| i.field.as_str()).collect()
}

/// The rules the sandbox (and Auto Trader) check on a create, so a body the
/// plugin accepts is one the platform accepts.
fn assert_platform_valid(name: &str, item: &Value) {
    for field in ["make", "model", "vehicleType"] {
        assert!(
            item["vehicle"][field]
                .as_str()
                .is_some_and(|s| !s.trim().is_empty()),
            "{name}: vehicle.{field}"
        );
    }
    let retail = &item["adverts"]["retailAdverts"];
    for price in ["suppliedPrice", "forecourtPrice"] {
        assert!(
            retail[price]["amountGBP"].as_u64().is_some_and(|p| p > 0),
            "{name}: {price}"
        );
    }
    if let Some(miles) = item["vehicle"].get("odometerReadingMiles") {
        assert!(miles.is_u64(), "{name}: odometer");
    }
    assert!(
        ["DUE_IN", "FORECOURT"].contains(&item["metadata"]["lifecycleState"].as_str().unwrap()),
        "{name}: lifecycle"
    );
    assert!(!item["metadata"]["externalStockReference"]
        .as_str()
        .unwrap()
        .is_empty());
    for location in LOCATIONS {
        assert!(
            ["PUBLISHED", "NOT_PUBLISHED"].contains(&retail[location]["status"].as_str().unwrap()),
            "{name}: {location}"
        );
    }
    let images = item["media"]["images"].as_array().unwrap();
    assert!(images.len() <= 100, "{name}: images");
    assert!(images
        .iter()
        .all(|i| i["href"].as_str().is_some_and(|h| !h.is_empty())));
    for f in item["features"].as_array().unwrap() {
        assert!(
            f["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{name}: feature"
        );
    }
    let reservation = &item["adverts"]["reservationStatus"];
    assert!(reservation.is_null() || reservation == "Reserved", "{name}");
    if let Some(grabber) = retail["attentionGrabber"].as_str() {
        assert!(grabber.chars().count() <= 30, "{name}: grabber {grabber}");
    }
    if let Some(description) = retail["description"].as_str() {
        assert!(description.chars().count() <= 4000, "{name}: description");
        assert!(!description.contains("<p>") && !description.contains('\u{1}'));
    }
}

#[test]
fn every_accepted_body_is_one_auto_trader_accepts() {
    for (name, result) in transform_all() {
        if let Ok(t) = result {
            assert_platform_valid(name, &serde_json::from_str(&t.listing.body).unwrap());
        }
    }
}

#[test]
fn prices_are_whole_pounds_rounded_half_up() {
    let (item, warnings) = ok("price_with_pence");
    assert_eq!(
        item["adverts"]["retailAdverts"]["suppliedPrice"]["amountGBP"],
        13000
    );
    assert!(warnings.iter().any(|w| w.field == "price"));
    let (item, warnings) = ok("complete_used_car");
    assert_eq!(
        item["adverts"]["retailAdverts"]["forecourtPrice"]["amountGBP"],
        12995
    );
    assert!(!fields(&warnings).contains(&"price"));
}

#[test]
fn kilometres_become_miles() {
    let (item, warnings) = ok("kilometres_import");
    // 121,000 km / 1.609344 = 75,186.04 miles.
    assert_eq!(item["vehicle"]["odometerReadingMiles"], 75186);
    assert!(fields(&warnings).contains(&"mileage"));
}

#[test]
fn electric_cars_have_no_engine_capacity() {
    let (item, _) = ok("electric_no_engine_size");
    assert!(item["vehicle"].get("engineCapacityCC").is_none());
    assert_eq!(item["vehicle"]["fuelType"], "Electric");
}

#[test]
fn new_cars_need_neither_registration_nor_miles_but_keep_zero() {
    let (item, _) = ok("new_car_zero_miles");
    assert_eq!(item["vehicle"]["odometerReadingMiles"], 0);
    assert_eq!(item["vehicle"]["ownershipCondition"], "New");
    assert!(item["vehicle"].get("registration").is_none());
    assert_eq!(item["vehicle"]["fuelType"], "Petrol Hybrid");
}

#[test]
fn van_priced_ex_vat() {
    let (item, warnings) = ok("commercial_van_plus_vat");
    assert_eq!(item["vehicle"]["vehicleType"], "Van");
    assert_eq!(item["vehicle"]["bodyType"], "Panel Van");
    assert_eq!(item["adverts"]["retailAdverts"]["vatStatus"], "Ex VAT");
    assert_eq!(
        item["adverts"]["retailAdverts"]["suppliedPrice"]["amountGBP"],
        21995
    );
    assert!(!fields(&warnings).contains(&"vat"));
}

#[test]
fn northern_ireland_plate_without_vin() {
    let (item, warnings) = ok("northern_ireland_no_vin");
    assert_eq!(item["vehicle"]["registration"], "AIZ1234");
    assert!(item["vehicle"].get("vin").is_none());
    assert!(!fields(&warnings).contains(&"registration"));
}

#[test]
fn reservation_and_lifecycle_follow_the_status() {
    let (item, _) = ok("reserved");
    assert_eq!(item["adverts"]["reservationStatus"], "Reserved");
    assert_eq!(item["metadata"]["lifecycleState"], "FORECOURT");
    let (item, _) = ok("due_in");
    assert_eq!(item["metadata"]["lifecycleState"], "DUE_IN");
    assert!(item["adverts"]["reservationStatus"].is_null());
    assert_eq!(rejected("sold"), vec![("status".into(), Severity::Error)]);
    assert_eq!(
        rejected("withdrawn"),
        vec![("status".into(), Severity::Error)]
    );
}

#[test]
fn blocking_issues_name_the_contract_field() {
    let mut errors: Vec<String> = rejected("missing_required_fields")
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    errors.sort();
    assert_eq!(errors, ["make", "model", "price", "vehicle-type"]);
    let mut errors: Vec<String> = rejected("used_car_without_mileage_or_registration")
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    errors.sort();
    assert_eq!(errors, ["mileage", "registration"]);
    assert_eq!(
        rejected("zero_price"),
        vec![("price".into(), Severity::Error)]
    );
    assert_eq!(
        rejected("price_in_euros"),
        vec![("price".into(), Severity::Error)]
    );
    assert_eq!(
        rejected("many_images"),
        vec![("images".into(), Severity::Error)]
    );
}

#[test]
fn descriptions_are_plain_text_within_the_limit() {
    let (item, warnings) = ok("long_description");
    let description = item["adverts"]["retailAdverts"]["description"]
        .as_str()
        .unwrap();
    assert!(description.chars().count() <= 4000);
    assert!(description.ends_with('…'));
    assert!(fields(&warnings).contains(&"description"));
    let (item, _) = ok("special_characters");
    let description = item["adverts"]["retailAdverts"]["description"]
        .as_str()
        .unwrap();
    assert!(description.contains("\"Like new\" & it's ready 🚗💨"));
    assert!(description.contains("Price <£15k>, 0% APR available"));
    assert!(description.contains("- Heated seats\n- Sat-nav"));
    assert!(!description.contains('\t') && !description.contains('\r'));
    assert!(description.contains("日本語"));
}

#[test]
fn attention_grabber_fits_in_thirty_characters() {
    let (item, warnings) = ok("complete_used_car");
    assert_eq!(
        item["adverts"]["retailAdverts"]["attentionGrabber"],
        "Adaptive cruise control"
    );
    assert!(!fields(&warnings).contains(&"features"));
    let (item, warnings) = ok("long_first_feature");
    assert_eq!(
        item["adverts"]["retailAdverts"]["attentionGrabber"],
        "Adaptive cruise control with"
    );
    assert!(fields(&warnings).contains(&"features"));
    let (item, warnings) = ok("attention_grabber_attribute");
    assert_eq!(
        item["adverts"]["retailAdverts"]["attentionGrabber"],
        "One owner, full VW history"
    );
    assert!(fields(&warnings).contains(&"autotrader:adverts.retailAdverts.attentionGrabber"));
    let (item, _) = ok("missing_optional_fields");
    assert!(item["adverts"]["retailAdverts"]
        .get("attentionGrabber")
        .is_none());
}

#[test]
fn images_keep_their_order() {
    let (item, _) = ok("complete_used_car");
    let hrefs: Vec<&str> = item["media"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["href"].as_str().unwrap())
        .collect();
    assert_eq!(
        hrefs,
        [
            "https://img.dealer.example/stock/001.jpg",
            "https://img.dealer.example/stock/002.jpg",
            "https://img.dealer.example/stock/003.jpg"
        ]
    );
    let (item, warnings) = ok("no_images");
    assert_eq!(item["media"]["images"], serde_json::json!([]));
    assert!(fields(&warnings).contains(&"images"));
}

#[test]
fn publish_to_decides_which_locations_are_published() {
    let config =
        r#"{"advertiser_id":"10008899","publish_to":["autotraderAdvert","advertiserAdvert"]}"#;
    let t = AutoTrader::transform(config, fixtures::base("AT-100")).unwrap();
    let item: Value = serde_json::from_str(&t.listing.body).unwrap();
    let retail = &item["adverts"]["retailAdverts"];
    assert_eq!(retail["autotraderAdvert"]["status"], "PUBLISHED");
    assert_eq!(retail["advertiserAdvert"]["status"], "PUBLISHED");
    for location in ["locatorAdvert", "exportAdvert", "profileAdvert"] {
        assert_eq!(retail[location]["status"], "NOT_PUBLISHED", "{location}");
    }
}

#[test]
fn bad_config_is_a_config_issue() {
    let errors =
        AutoTrader::transform(r#"{"advertiser_id":"x"}"#, fixtures::base("AT-101")).unwrap_err();
    assert_eq!(fields(&errors), ["config"]);
    let e = AutoTrader::publish("{}", vec![]).unwrap_err();
    assert_eq!(e.class, ErrorClass::Validation);
    assert_eq!(e.field.as_deref(), Some("config"));
}

#[test]
fn transform_is_deterministic() {
    let a = AutoTrader::transform(fixtures::CONFIG, fixtures::base("AT-1")).unwrap();
    let b = AutoTrader::transform(fixtures::CONFIG, fixtures::base("AT-1")).unwrap();
    assert_eq!(a.listing.body, b.listing.body);
}

#[test]
fn hub_only_data_never_reaches_the_body() {
    for (_, result) in transform_all() {
        if let Ok(t) = result {
            for secret in ["Jane", "jane@example.com", "auction", "10500"] {
                assert!(!t.listing.body.contains(secret), "{secret} leaked");
            }
        }
    }
}

#[test]
fn describe_is_an_api_platform() {
    let info = AutoTrader::describe();
    assert_eq!(info.kind, PlatformKind::Api);
    assert_eq!(info.batch_size, 25);
    assert_eq!(info.max_images, Some(100));
    assert_eq!(info.ideal_images, Some(20));
    assert_eq!(info.max_description_length, Some(4000));
    assert!(info.feed.is_none());
    assert_eq!(info.operations.len(), 5);
    for kind in [
        OperationKind::Create,
        OperationKind::Update,
        OperationKind::Reserve,
        OperationKind::Unreserve,
        OperationKind::Remove,
    ] {
        assert!(info.operations.contains(&kind));
    }
    for field in [
        "make",
        "model",
        "price",
        "mileage",
        "vehicle-type",
        "registration",
    ] {
        assert!(info.required_fields.iter().any(|f| f == field), "{field}");
    }
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"]["page_size"]["maximum"], 100);
}

#[test]
fn unsupported_operations_say_so() {
    let e = AutoTrader::render_feed(fixtures::CONFIG, vec![]).unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    // fetch-enquiries is supported; a cursor it never gave is refused before any request.
    let e = AutoTrader::fetch_enquiries(fixtures::CONFIG, Some("page-2".into())).unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("invalid enquiry cursor"),
        "{}",
        e.message
    );
}
