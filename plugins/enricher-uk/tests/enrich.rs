//! The enricher over the shared fixture vehicles (golden files) and the
//! rules that matter most: only gaps are filled, search terms only where
//! configured and within the platform's limit, the same answer every time.

use std::path::Path;

use forecourt_plugin_enricher_uk::config::Config;
use forecourt_plugin_enricher_uk::{enrich, UkEnricher};
use forecourt_sdk::testkit::{check_golden, fixtures};
use forecourt_sdk::{Attribute, Date, Enricher, FuelType, Target, Transmission, Vehicle};

const CONFIG: &str = r#"{"search_terms":{"platforms":["website"],"max_terms":6}}"#;

fn target(platform: &str, max: Option<u32>) -> Target {
    Target {
        platform: platform.into(),
        max_description_length: max,
    }
}

fn attr<'a>(v: &'a Vehicle, key: &str) -> Option<&'a str> {
    v.attributes
        .iter()
        .find(|a| a.key == key)
        .map(|a| a.value.as_str())
}

fn summary(v: &Vehicle, changed: &[String]) -> String {
    let keys = ["fuel-economy-mpg", "co2-band", "insurance-group"];
    serde_json::to_string_pretty(&serde_json::json!({
        "changed": changed,
        "co2_g_per_km": v.co2_g_per_km,
        "attributes": keys.iter().map(|k| (k.to_string(), attr(v, k))).collect::<std::collections::BTreeMap<_, _>>(),
        "description": v.description,
    }))
    .unwrap()
        + "\n"
}

#[test]
fn fixtures_match_their_golden_files() {
    let config = Config::parse(CONFIG).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut failures = vec![];
    for (name, v) in fixtures::cases() {
        for platform in ["website", "autotrader"] {
            let out = enrich(&config, v.clone(), &target(platform, Some(4000)));
            if let Err(e) = check_golden(
                &dir,
                &format!("{name}.{platform}.json"),
                &summary(&out.vehicle, &out.changed),
            ) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_golf_is_filled_from_the_table() {
    let mut v = fixtures::base("S1");
    v.co2_g_per_km = None;
    let out = enrich(&Config::default(), v, &target("autotrader", None)).vehicle;
    // 2019 Golf 1.5 TSI petrol: the 2017-2019 row.
    assert_eq!(out.co2_g_per_km, Some(131));
    assert_eq!(attr(&out, "fuel-economy-mpg"), Some("48.7"));
    assert_eq!(attr(&out, "insurance-group"), Some("19E"));
    // Registered March 2019: the April-2017 scheme, 131 g/km is band H.
    assert_eq!(attr(&out, "co2-band"), Some("H"));
    // No search terms for a platform not in the list.
    assert_eq!(out.description, fixtures::base("S1").description);
}

#[test]
fn dms_values_are_never_overwritten() {
    let mut v = fixtures::base("S1");
    v.co2_g_per_km = Some(140);
    v.attributes.push(Attribute {
        key: "insurance-group".into(),
        value: "22E".into(),
    });
    let out = enrich(&Config::default(), v, &target("autotrader", None));
    assert_eq!(out.vehicle.co2_g_per_km, Some(140));
    assert_eq!(attr(&out.vehicle, "insurance-group"), Some("22E"));
    assert_eq!(
        out.vehicle
            .attributes
            .iter()
            .filter(|a| a.key == "insurance-group")
            .count(),
        1
    );
    assert!(!out.changed.contains(&"co2-g-per-km".to_string()));
    assert!(!out
        .changed
        .contains(&"attributes.insurance-group".to_string()));
}

#[test]
fn unknown_models_get_only_what_can_be_computed() {
    let mut v = fixtures::base("S1");
    v.make = Some("Lada".into());
    v.model = Some("Niva".into());
    let out = enrich(&Config::default(), v, &target("autotrader", None));
    assert_eq!(
        out.changed,
        ["attributes.co2-band"],
        "the band from the DMS's CO2 figure only"
    );
    let mut v = fixtures::base("S2");
    v.fuel_type = None;
    v.co2_g_per_km = None;
    assert!(enrich(&Config::default(), v, &target("autotrader", None))
        .changed
        .is_empty());
}

#[test]
fn electric_cars_and_search_terms() {
    let mut v = fixtures::base("EV1");
    v.make = Some("Tesla".into());
    v.model = Some("Model 3".into());
    v.fuel_type = Some(FuelType::Electric);
    v.engine_size_cc = None;
    v.co2_g_per_km = None;
    v.transmission = Some(Transmission::Automatic);
    v.first_registration = Some(Date {
        year: 2021,
        month: 6,
        day: 1,
    });
    let config = Config::parse(CONFIG).unwrap();
    let out = enrich(&config, v.clone(), &target("website", None)).vehicle;
    assert_eq!(out.co2_g_per_km, Some(0));
    assert_eq!(attr(&out, "co2-band"), Some("A"));
    assert_eq!(attr(&out, "insurance-group"), Some("48E"));
    assert_eq!(attr(&out, "fuel-economy-mpg"), None);
    let description = out.description.unwrap();
    assert!(description.ends_with("\n\nSearch terms: Electric, ULEZ compliant, Automatic, Zero emissions, Full service history, One owner"), "{description}");
    // A tight limit keeps as many terms as fit; none fit, nothing is added.
    let base = v.description.clone().unwrap();
    let limit = (base.chars().count() + "\n\nSearch terms: Electric, ULEZ compliant".len()) as u32;
    let out = enrich(&config, v.clone(), &target("website", Some(limit))).vehicle;
    assert!(out
        .description
        .unwrap()
        .ends_with("Search terms: Electric, ULEZ compliant"));
    let out = enrich(&config, v.clone(), &target("website", Some(10))).vehicle;
    assert_eq!(out.description.as_deref(), Some(base.as_str()));
}

#[test]
fn the_same_answer_every_time_and_through_the_trait() {
    let v = fixtures::base("S1");
    let a = UkEnricher::enrich(CONFIG, v.clone(), target("website", Some(4000))).unwrap();
    let b = UkEnricher::enrich(CONFIG, v, target("website", Some(4000))).unwrap();
    assert_eq!(
        format!("{:?}", (a.vehicle, a.changed)),
        format!("{:?}", (b.vehicle, b.changed))
    );
    let e = UkEnricher::enrich(
        r#"{"search_terms":{"max_terms":0}}"#,
        fixtures::base("S1"),
        target("x", None),
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("config"));
    let info = UkEnricher::describe();
    assert!(info
        .fields
        .contains(&"attributes.insurance-group".to_string()));
}
