//! Every type, property and enumeration member the plugin writes must be
//! defined in the schema.org vocabulary, and used where the vocabulary says
//! it may be: a property on a type within its `domainIncludes` (or a
//! subclass of one), its value within its `rangeIncludes`.
//!
//! The vocabulary is the project's reference copy of schema.org release 30.0
//! (`/work/shared/reference/schemaorg/schemaorg-current-https.jsonld`, see
//! its SOURCE.md), read from `CARGO_MANIFEST_DIR/../../../shared/…`. Where
//! that file is not reachable (a checkout without the shared reference
//! folder) the test uses `tests/fixtures/schemaorg-subset.jsonld`: the nodes
//! of the same file that these checks consult, copied unchanged. When the
//! full file is reachable the test also checks that the subset is still
//! exactly that extract; `UPDATE_GOLDEN=1` rewrites it.

#[path = "fixtures/vehicles.rs"]
mod fixtures;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use forecourt_plugin_schema_org::SchemaOrg;
use forecourt_sdk::{Drivetrain, Listing, Platform, StockStatus, Vehicle, VehicleType};
use serde_json::{json, Value};

const CONFIG: &str = r#"{"dealer_name":"Forecourt Motors Leeds","link_template":"https://dealer.example/cars/{stock_id}"}"#;

fn full_vocabulary_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/schemaorg/schemaorg-current-https.jsonld")
}

fn subset_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schemaorg-subset.jsonld")
}

/// The vocabulary's nodes by `@id` (`schema:Car`), and which were consulted.
struct Vocabulary {
    nodes: BTreeMap<String, Value>,
    consulted: std::cell::RefCell<BTreeSet<String>>,
}

fn ids(value: Option<&Value>) -> Vec<String> {
    match value {
        None => vec![],
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Object(o)) => o
            .get("@id")
            .and_then(Value::as_str)
            .map(String::from)
            .into_iter()
            .collect(),
        Some(Value::Array(items)) => items.iter().flat_map(|i| ids(Some(i))).collect(),
        Some(_) => vec![],
    }
}

impl Vocabulary {
    fn load(path: &Path) -> Vocabulary {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).unwrap();
        let nodes = doc["@graph"]
            .as_array()
            .expect("a JSON-LD @graph")
            .iter()
            .filter_map(|n| Some((n["@id"].as_str()?.to_string(), n.clone())))
            .collect();
        Vocabulary {
            nodes,
            consulted: Default::default(),
        }
    }

    fn node(&self, id: &str) -> Option<&Value> {
        let node = self.nodes.get(id);
        if node.is_some() {
            self.consulted.borrow_mut().insert(id.to_string());
        }
        node
    }

    fn types(&self, id: &str) -> Vec<String> {
        ids(self.node(id).and_then(|n| n.get("@type")))
    }

    fn is_class(&self, id: &str) -> bool {
        self.types(id).iter().any(|t| t == "rdfs:Class")
    }

    fn is_property(&self, id: &str) -> bool {
        self.types(id).iter().any(|t| t == "rdf:Property")
    }

    fn is_pending(&self, id: &str) -> bool {
        ids(self.node(id).and_then(|n| n.get("schema:isPartOf")))
            .iter()
            .any(|p| p.contains("pending.schema.org"))
    }

    /// `class` and every class it is a subclass of.
    fn ancestors(&self, class: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([class.to_string()]);
        while let Some(c) = queue.pop_front() {
            if !seen.insert(c.clone()) {
                continue;
            }
            queue.extend(ids(self.node(&c).and_then(|n| n.get("rdfs:subClassOf"))));
        }
        seen
    }

    fn is_a(&self, class: &str, any_of: &[String]) -> bool {
        let ancestors = self.ancestors(class);
        any_of.iter().any(|r| ancestors.contains(r))
    }
}

/// What the checker saw: `schema:` terms used, and every problem.
#[derive(Default)]
struct Report {
    used: BTreeSet<String>,
    problems: Vec<String>,
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    match b.len() {
        4 => digits(0..4),
        10 => digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10),
        _ => false,
    }
}

fn check(vocab: &Vocabulary, value: &Value, range: Option<&[String]>, path: &str, r: &mut Report) {
    let has = |name: &str| range.is_some_and(|rg| rg.iter().any(|x| x == name));
    match value {
        Value::Object(map) => {
            let types: Vec<String> = ids(map.get("@type"))
                .iter()
                .map(|t| format!("schema:{t}"))
                .collect();
            if types.is_empty() {
                r.problems.push(format!("{path}: an object without @type"));
            }
            for t in &types {
                r.used.insert(t.clone());
                if !vocab.is_class(t) {
                    r.problems.push(format!("{path}: type {t} is not defined"));
                } else if vocab.is_pending(t) {
                    r.problems
                        .push(format!("{path}: type {t} is still pending"));
                }
            }
            if let Some(range) = range {
                if !types.iter().any(|t| vocab.is_a(t, range)) {
                    r.problems.push(format!(
                        "{path}: {types:?} is not within the range {range:?}"
                    ));
                }
            }
            for (key, child) in map {
                if let Some(keyword) = key.strip_prefix('@') {
                    if keyword == "context" && child != "https://schema.org" {
                        r.problems.push(format!("{path}: @context is {child}"));
                    } else if !matches!(keyword, "context" | "type") {
                        r.problems
                            .push(format!("{path}: unexpected keyword @{keyword}"));
                    }
                    continue;
                }
                let property = format!("schema:{key}");
                let here = format!("{path}.{key}");
                r.used.insert(property.clone());
                if !vocab.is_property(&property) {
                    r.problems
                        .push(format!("{here}: property {property} is not defined"));
                    continue;
                }
                if vocab.is_pending(&property) {
                    r.problems
                        .push(format!("{here}: property {property} is still pending"));
                }
                let domain = ids(vocab.node(&property).unwrap().get("schema:domainIncludes"));
                if !types.iter().any(|t| vocab.is_a(t, &domain)) {
                    r.problems.push(format!(
                        "{here}: {property} is not a property of {types:?} (domain {domain:?})"
                    ));
                }
                let range = ids(vocab.node(&property).unwrap().get("schema:rangeIncludes"));
                check(vocab, child, Some(&range), &here, r);
            }
        }
        Value::Array(items) => {
            for (n, item) in items.iter().enumerate() {
                check(vocab, item, range, &format!("{path}[{n}]"), r);
            }
        }
        Value::String(s) => {
            if let Some(member) = s.strip_prefix("https://schema.org/") {
                let id = format!("schema:{member}");
                r.used.insert(id.clone());
                let member_types = vocab.types(&id);
                if member_types.is_empty() {
                    r.problems
                        .push(format!("{path}: {s} is not defined in the vocabulary"));
                } else if let Some(range) = range {
                    if !member_types.iter().any(|t| vocab.is_a(t, range)) {
                        r.problems.push(format!(
                            "{path}: {s} is a {member_types:?}, not within the range {range:?}"
                        ));
                    }
                }
            } else {
                let fits = has("schema:Text")
                    || (has("schema:URL")
                        && (s.starts_with("https://") || s.starts_with("http://")))
                    || (has("schema:Date") && is_date(s))
                    || (has("schema:Number") && s.parse::<f64>().is_ok());
                if !fits {
                    r.problems.push(format!(
                        "{path}: the text {s:?} is not within the range {range:?}"
                    ));
                }
            }
        }
        Value::Number(n) => {
            let integer = n.is_u64() || n.is_i64();
            if !(has("schema:Number") || has("schema:Float") || (integer && has("schema:Integer")))
            {
                r.problems.push(format!(
                    "{path}: the number {n} is not within the range {range:?}"
                ));
            }
        }
        Value::Bool(b) => {
            if !has("schema:Boolean") {
                r.problems.push(format!(
                    "{path}: the boolean {b} is not within the range {range:?}"
                ));
            }
        }
        Value::Null => r.problems.push(format!("{path}: null")),
    }
}

/// Every document the plugin writes for the fixture set, plus vehicles that
/// reach the enumeration members the fixtures do not.
fn documents() -> Vec<(String, Value)> {
    let mut vehicles: Vec<(String, Vehicle)> = fixtures::cases()
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
    vehicles.push((
        "rear_wheel_drive".into(),
        Vehicle {
            drivetrain: Some(Drivetrain::RearWheelDrive),
            ..fixtures::base("VOC-1")
        },
    ));
    vehicles.push((
        "motorcycle".into(),
        Vehicle {
            vehicle_type: VehicleType::Motorcycle,
            body_style: None,
            doors: None,
            ..fixtures::base("VOC-3")
        },
    ));
    vehicles.push((
        "motorhome".into(),
        Vehicle {
            vehicle_type: VehicleType::Motorhome,
            ..fixtures::base("VOC-4")
        },
    ));
    vehicles.push((
        "sold_page".into(),
        Vehicle {
            status: StockStatus::Sold,
            ..fixtures::base("VOC-2")
        },
    ));
    let mut docs = Vec::new();
    let mut listings: Vec<Listing> = Vec::new();
    for (name, v) in vehicles {
        if let Ok(t) = SchemaOrg::transform(CONFIG, v) {
            docs.push((name, serde_json::from_str(&t.listing.body).unwrap()));
            listings.push(t.listing);
        }
    }
    let index = SchemaOrg::render_feed(CONFIG, listings).unwrap();
    docs.push((
        "vehicles.jsonld".into(),
        serde_json::from_slice(&index.body).unwrap(),
    ));
    docs
}

fn check_all(vocab: &Vocabulary) -> Report {
    let mut report = Report::default();
    for (name, doc) in documents() {
        check(vocab, &doc, None, &name, &mut report);
    }
    report
}

#[test]
fn every_term_is_defined_and_used_where_the_vocabulary_allows() {
    let full = full_vocabulary_path();
    let (vocab, which) = if full.exists() {
        (Vocabulary::load(&full), "the full vocabulary")
    } else {
        eprintln!(
            "{} is not reachable: checking against the committed subset {}",
            full.display(),
            subset_path().display()
        );
        (Vocabulary::load(&subset_path()), "the committed subset")
    };
    let report = check_all(&vocab);
    assert!(
        report.problems.is_empty(),
        "checked against {which}:\n{}",
        report.problems.join("\n")
    );
    // The checks reached every kind of term the plugin writes.
    for term in [
        "schema:Car",
        "schema:Motorcycle",
        "schema:Vehicle",
        "schema:Offer",
        "schema:AutoDealer",
        "schema:EngineSpecification",
        "schema:QuantitativeValue",
        "schema:PriceSpecification",
        "schema:ItemList",
        "schema:ListItem",
        "schema:engineDisplacement",
        "schema:enginePower",
        "schema:mileageFromOdometer",
        "schema:vehicleIdentificationNumber",
        "schema:valueAddedTaxIncluded",
        "schema:InStock",
        "schema:LimitedAvailability",
        "schema:PreOrder",
        "schema:SoldOut",
        "schema:NewCondition",
        "schema:UsedCondition",
        "schema:FrontWheelDriveConfiguration",
        "schema:RearWheelDriveConfiguration",
        "schema:AllWheelDriveConfiguration",
        "schema:FourWheelDriveConfiguration",
    ] {
        assert!(report.used.contains(term), "no document uses {term}");
    }
}

#[test]
fn the_committed_subset_suffices_on_its_own() {
    let report = check_all(&Vocabulary::load(&subset_path()));
    assert!(
        report.problems.is_empty(),
        "checked against the committed subset:\n{}",
        report.problems.join("\n")
    );
}

#[test]
fn the_committed_subset_is_an_exact_extract() {
    let full = full_vocabulary_path();
    if !full.exists() {
        eprintln!("{} is not reachable: subset not re-derived", full.display());
        return;
    }
    let vocab = Vocabulary::load(&full);
    let report = check_all(&vocab);
    assert!(report.problems.is_empty(), "{}", report.problems.join("\n"));
    let graph: Vec<Value> = vocab
        .consulted
        .borrow()
        .iter()
        .map(|id| vocab.nodes[id].clone())
        .collect();
    let subset = json!({
        "@context": {
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "schema": "https://schema.org/",
        },
        "@graph": graph,
    });
    let text = serde_json::to_string_pretty(&subset).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(subset_path(), &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(subset_path()).unwrap_or_default();
    assert!(
        committed == text,
        "{} is not the extract of the terms these checks consult; rerun with UPDATE_GOLDEN=1",
        subset_path().display()
    );
}

#[test]
fn the_checker_catches_what_is_not_in_the_vocabulary() {
    let path = if full_vocabulary_path().exists() {
        full_vocabulary_path()
    } else {
        subset_path()
    };
    let vocab = Vocabulary::load(&path);
    for (bad, why) in [
        (json!({"@type": "Car", "milage": 5}), "not defined"),
        (json!({"@type": "Vehicel"}), "not defined"),
        (
            json!({"@type": "Brand", "name": "X", "vehicleConfiguration": "SE"}),
            "not a property of",
        ),
        (
            json!({"@type": "Car", "itemCondition": "https://schema.org/InStock"}),
            "not within the range",
        ),
        (
            json!({"@type": "Car", "vehicleEngine": {"@type": "Brand", "name": "X"}}),
            "not within the range",
        ),
        (
            json!({"@type": "Car", "numberOfDoors": "five"}),
            "not within the range",
        ),
        (
            json!({"@type": "Car", "vehicleModelDate": "MY19"}),
            "not within the range",
        ),
    ] {
        let mut report = Report::default();
        check(&vocab, &bad, None, "doc", &mut report);
        assert!(
            report.problems.iter().any(|p| p.contains(why)),
            "{bad} should fail with `{why}`: {:?}",
            report.problems
        );
    }
}
