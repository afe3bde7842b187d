//! The whole pipeline (prepare, then check per platform) on sample stock
//! and on vehicles broken one way at a time.

use super::completeness::tests::info;
use super::rules::{id, Severity};
use super::*;
use crate::runtime::types::{Condition, Date, HubOnly, Image};

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 28)
}

fn facts() -> Facts<'static> {
    Facts {
        today: Some(today()),
        ..Facts::default()
    }
}

fn platform() -> crate::runtime::platform_api::PlatformInfo {
    info(&["stock-id", "make", "model", "price"], &["vin"], Some(20))
}

fn verdict(q: &Quality, v: &Vehicle) -> Verdict {
    q.check(&q.prepare(v), "autotrader", &platform(), &facts())
}

fn rules_found(v: &Verdict) -> Vec<(&'static str, Severity)> {
    v.findings
        .iter()
        .map(|j| (j.finding.rule, j.severity))
        .collect()
}

fn sample() -> Vec<Vehicle> {
    crate::sample::sample_stock(300, 17)
}

#[test]
fn realistic_sample_stock_passes_every_blocking_rule() {
    let q = Quality::default();
    let stock = sample();
    let stored: Vec<crate::store::StoredVehicle> = stock
        .iter()
        .map(|v| crate::store::StoredVehicle {
            record: v.clone(),
            content_hash: String::new(),
            present: true,
            seen_at: 0,
            source: "dms".into(),
            plan_token: 1,
        })
        .collect();
    let index = gate::StockIndex::new(&stored);
    for v in &stock {
        let f = Facts {
            today: Some(today()),
            index: Some(&index),
            ..Facts::default()
        };
        let verdict = q.check(&q.prepare(v), "autotrader", &platform(), &f);
        assert!(
            !verdict.blocked,
            "{} blocked: {:?}",
            v.stock_id, verdict.findings
        );
    }
    // Without sizes (the CSV export carries only URLs) images are a warning, never a block.
    let mut v = stock[0].clone();
    for i in &mut v.images {
        (i.width, i.height) = (None, None);
    }
    let verdict = verdict(&q, &v);
    assert!(!verdict.blocked);
    assert_eq!(
        rules_found(&verdict),
        vec![(id::IMAGES_SIZE_UNKNOWN, Severity::Warn)]
    );
}

#[test]
fn hub_only_data_never_reaches_the_platform() {
    let q = Quality::default();
    let mut v = sample().remove(0);
    v.hub_only = Some(HubOnly {
        internal_notes: Some("Customer Jo Bloggs 07700 900123".into()),
        previous_keeper: None,
        part_exchange: None,
        cost_price: None,
    });
    let p = q.prepare(&v);
    assert!(p.hub_only_removed);
    let verdict = q.check(&p, "autotrader", &platform(), &facts());
    assert!(verdict.vehicle.hub_only.is_none());
    assert!(!serde_json::to_string(&verdict.vehicle)
        .unwrap()
        .contains("Bloggs"));
}

#[test]
fn personal_data_is_stripped_or_holds_the_listing_by_configuration() {
    let mut v = sample().remove(1);
    v.description =
        Some("Lovely car, one owner. Call 07700 900123 or jo@example.com any time.".into());
    let q = Quality::default();
    let verdict = verdict(&q, &v);
    assert!(!verdict.blocked);
    let d = verdict.vehicle.description.clone().unwrap();
    assert!(!d.contains("07700") && !d.contains("jo@"), "{d}");
    assert_eq!(
        rules_found(&verdict),
        vec![
            (id::PERSONAL_DATA, Severity::Warn),
            (id::PERSONAL_DATA, Severity::Warn)
        ]
    );
    assert!(verdict
        .findings
        .iter()
        .all(|j| !j.finding.message.contains("07700")));
    // Hold instead of strip.
    let config =
        crate::config::RawConfig::parse("[quality.rules]\npersonal-data = \"block\"\n", "f.toml")
            .unwrap();
    let q = Quality::new(Settings::from_config(&config, "f.toml").unwrap(), None);
    assert!(verdict_blocked(&q, &v));
}

fn verdict_blocked(q: &Quality, v: &Vehicle) -> bool {
    verdict(q, v).blocked
}

#[test]
fn every_mandatory_field_blocks_with_its_name() {
    let base = sample()
        .into_iter()
        .find(|v| matches!(v.condition, Condition::Used))
        .unwrap();
    let q = Quality::default();
    let cases: Vec<(&str, Box<dyn Fn(&mut Vehicle)>)> = vec![
        ("registration", Box::new(|v| v.registration = None)),
        ("make", Box::new(|v| v.make = Some("  ".into()))),
        ("model", Box::new(|v| v.model = None)),
        ("variant", Box::new(|v| v.variant = None)),
        (
            "model-year",
            Box::new(|v| {
                v.model_year = None;
                v.first_registration = None;
            }),
        ),
        ("mileage", Box::new(|v| v.mileage = None)),
        ("price", Box::new(|v| v.price = None)),
        ("fuel-type", Box::new(|v| v.fuel_type = None)),
        ("transmission", Box::new(|v| v.transmission = None)),
        ("body-style", Box::new(|v| v.body_style = None)),
        ("colour", Box::new(|v| v.colour = None)),
        ("doors", Box::new(|v| v.doors = None)),
    ];
    for (field, break_it) in cases {
        let mut v = base.clone();
        break_it(&mut v);
        let verdict = verdict(&q, &v);
        assert!(verdict.blocked, "{field}");
        let f = verdict
            .findings
            .iter()
            .find(|j| j.finding.field == field)
            .unwrap_or_else(|| panic!("{field}: {:?}", verdict.findings));
        assert!(f.finding.message.contains("missing"), "{field}");
    }
    // An unregistered new car needs no registration.
    let mut new = base.clone();
    new.condition = Condition::New;
    new.first_registration = None;
    new.registration = None;
    new.mileage.as_mut().unwrap().value = 10;
    assert!(
        !verdict_blocked(&q, &new),
        "{:?}",
        verdict(&q, &new).findings
    );
}

#[test]
fn the_platforms_required_fields_come_from_describe() {
    let q = Quality::default();
    let mut v = sample().remove(2);
    v.description = None;
    let needs_description = info(&["description"], &[], None);
    let verdict = q.check(&q.prepare(&v), "meta", &needs_description, &facts());
    assert_eq!(
        rules_found(&verdict),
        vec![(id::PLATFORM_REQUIRED, Severity::Block)]
    );
    assert!(verdict.findings[0]
        .finding
        .message
        .contains("p requires it"));
}

#[test]
fn registration_and_vin_rules() {
    let q = Quality::default();
    let mut v = sample()
        .into_iter()
        .find(|v| matches!(v.condition, Condition::Used))
        .unwrap();
    v.first_registration = Some(Date {
        year: 2021,
        month: 8,
        day: 31,
    });
    v.registration = Some("AB71CDE".into());
    assert_eq!(
        rules_found(&verdict(&q, &v)),
        vec![(id::REGISTRATION_AGE, Severity::Block)]
    );
    v.registration = Some("AB21CDE".into());
    assert!(rules_found(&verdict(&q, &v)).is_empty());
    v.registration = Some("AB21CDEX".into());
    assert_eq!(
        rules_found(&verdict(&q, &v)),
        vec![(id::REGISTRATION_FORMAT, Severity::Block)]
    );
    v.registration = Some("AB21CDE".into());
    v.vin = Some("1M8GDM9A1KP042788".into());
    assert_eq!(
        rules_found(&verdict(&q, &v)),
        vec![(id::VIN_CHECK_DIGIT, Severity::Warn)],
        "UK stock: a warning"
    );
    v.vin = Some("WVWZZZ1KZAW00000I".into());
    assert_eq!(
        rules_found(&verdict(&q, &v)),
        vec![(id::VIN_FORMAT, Severity::Block)]
    );
}

#[test]
fn platform_overrides_beat_dealer_overrides_beat_global_ones() {
    let config = crate::config::RawConfig::parse(
        "[[platform]]\nid = \"autotrader\"\nplugin = \"x\"\nquality = { images-min-count = { min = 10 } }\n\
         [quality.rules]\nimages-min-count = { min = 4 }\n\
         [quality.dealers.dealer-002.rules]\nimages-min-count = { severity = \"warn\", min = 12 }\n",
        "f.toml",
    )
    .unwrap();
    let s = Settings::from_config(&config, "f.toml").unwrap();
    assert_eq!(
        s.rules("dealer-001", "google")
            .int(id::IMAGES_MIN_COUNT, "min"),
        4
    );
    assert_eq!(
        s.rules("dealer-002", "google")
            .int(id::IMAGES_MIN_COUNT, "min"),
        12
    );
    assert_eq!(
        s.rules("dealer-002", "google")
            .severity(id::IMAGES_MIN_COUNT),
        Severity::Warn
    );
    assert_eq!(
        s.rules("dealer-002", "autotrader")
            .int(id::IMAGES_MIN_COUNT, "min"),
        10
    );
    assert_eq!(
        s.rules("dealer-002", "autotrader")
            .severity(id::IMAGES_MIN_COUNT),
        Severity::Warn
    );
    let q = Quality::new(s, None);
    let mut v = sample().remove(3);
    v.images = (0..8)
        .map(|i| Image {
            url: format!("https://img.dealer.co.uk/{i}.jpg"),
            width: Some(1600),
            height: Some(1200),
        })
        .collect();
    assert!(verdict(&q, &v).blocked, "autotrader wants 10");
    assert!(
        !q.check(&q.prepare(&v), "google", &platform(), &facts())
            .blocked
    );
}

#[test]
fn dealer_templates_and_terminology() {
    let dir = std::env::temp_dir().join(format!("fc-terms-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("terms.toml"),
        "\"Warranty included\" = [\"12m warranty\", \"warranty inc\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("forecourt.toml"),
        "[quality]\nterminology_file = \"terms.toml\"\n\
         [quality.dealers.dealer-001]\ndescription_template = \"{year} {make} {model} in {colour}. {description}\"\ntemplate_mode = \"always\"\n\
         terminology = { \"Heated seats\" = [\"htd seats\"] }\n",
    )
    .unwrap();
    let config = crate::config::RawConfig::load(&dir.join("forecourt.toml")).unwrap();
    let q = Quality::new(
        Settings::from_config(&config, "forecourt.toml").unwrap(),
        None,
    );
    let mut v = sample().remove(4);
    v.description = Some("FSH, htd seats, warranty inc.".into());
    let p = q.prepare(&v);
    let d = p.vehicle.description.unwrap();
    assert!(
        d.starts_with(&format!(
            "{} {} {} in ",
            v.model_year.unwrap(),
            v.make.as_deref().unwrap(),
            v.model.as_deref().unwrap()
        )),
        "{d}"
    );
    assert!(
        d.ends_with("Full service history, heated seats, warranty included."),
        "{d}"
    );
    // Another dealer keeps its own text and the shared dictionary only.
    v.dealer_id = "dealer-009".into();
    let d = q.prepare(&v).vehicle.description.unwrap();
    assert_eq!(d, "Full service history, htd seats, warranty included.");
    std::fs::remove_dir_all(dir).ok();
    // A broken terminology file names itself.
    let mut config = crate::config::RawConfig::parse("", "f.toml").unwrap();
    config.quality.terminology_file = Some("/nonexistent/terms.toml".into());
    let err = Settings::from_config(&config, "f.toml").unwrap_err();
    assert!(err.to_string().contains("/nonexistent/terms.toml"), "{err}");
}

#[test]
fn blocked_listings_are_never_transformed_and_warnings_travel_with_the_listing() {
    let q = Quality::default();
    let mut v = sample().remove(5);
    v.price.as_mut().unwrap().amount_minor = 999_900;
    let verdict = verdict(&q, &v);
    assert!(verdict.blocked);
    let issues = verdict.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].field, "price");
    assert!(matches!(
        issues[0].severity,
        crate::runtime::types::Severity::Error
    ));
    assert!(issues[0].message.ends_with("[price-placeholder]"));
}
