//! Golden tests: every fixture in `tests/fixtures/` through `pull`, the page
//! (or the error) written as JSON and compared with `tests/golden/<name>.json`.
//!
//! A fixture `NAME.EXT` is pulled with the configuration in
//! `NAME.config.json` when there is one, else `{"dealer_id": "dealer-1"}`.
//!
//! Run natively:
//! `cargo test -p forecourt-plugin-csv-export --target-dir target/plugins`.
//! After an intended change, rewrite the goldens with `UPDATE_GOLDEN=1` and
//! review the diff.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use forecourt_plugin_csv_export::CsvExport;
use forecourt_sdk::testkit::pull_json;
use forecourt_sdk::{
    BodyStyle, Change, ErrorClass, FuelType, MileageUnit, PluginError, PullPage, PullRequest,
    Source, StockStatus, Transmission, VatStatus, Vehicle, VehicleType,
};

const DEFAULT_CONFIG: &str = r#"{"dealer_id": "dealer-1"}"#;

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(sub)
}

// ---------------------------------------------------------------- golden --

/// Pull the fixture `file` with its configuration.
fn pull_fixture(file: &str) -> Result<PullPage, PluginError> {
    let path = dir("fixtures").join(file);
    let document = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let config = std::fs::read_to_string(dir("fixtures").join(format!("{stem}.config.json")))
        .unwrap_or_else(|_| DEFAULT_CONFIG.to_string());
    CsvExport::pull(PullRequest {
        config,
        cursor: None,
        document: Some(document),
    })
}

/// Compare the pull of `file` with its golden JSON, or rewrite the golden.
fn golden(file: &str) -> Result<PullPage, PluginError> {
    let result = pull_fixture(file);
    let actual = pull_json(&result);
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let path = dir("golden").join(format!("{stem}.json"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(dir("golden")).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return result;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{file} differs from {} at line {}:\n  expected: {}\n  actual:   {}\n\
             (run with UPDATE_GOLDEN=1 to accept, then review the diff)",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end of file>"),
            actual.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
    result
}

fn ok(file: &str) -> PullPage {
    match golden(file) {
        Ok(p) => {
            assert!(p.full_snapshot && !p.has_more && p.next_cursor.is_none());
            p
        }
        Err(e) => panic!("{file}: unexpected error {}: {}", e.class, e.message),
    }
}

fn err(file: &str) -> PluginError {
    match golden(file) {
        Ok(_) => panic!("{file}: expected an error"),
        Err(e) => {
            assert_eq!(e.class, ErrorClass::Validation);
            assert_eq!(e.field.as_deref(), Some("document"));
            e
        }
    }
}

fn vehicles(p: &PullPage) -> Vec<&Vehicle> {
    p.changes
        .iter()
        .map(|c| match c {
            Change::Upsert(v) => v,
            Change::Remove(id) => panic!("a snapshot source never removes ({id})"),
        })
        .collect()
}

fn stock_ids(p: &PullPage) -> Vec<&str> {
    vehicles(p).iter().map(|v| v.stock_id.as_str()).collect()
}

fn issue_records(p: &PullPage) -> Vec<(u32, Option<&str>, Option<&str>)> {
    p.issues
        .iter()
        .map(|i| (i.record_number, i.stock_id.as_deref(), i.field.as_deref()))
        .collect()
}

#[test]
fn canonical_header() {
    let p = ok("canonical.csv");
    assert_eq!(
        stock_ids(&p),
        ["FC1001", "FC1002", "FC1003", "FC1004", "FC1005", "FC1006"]
    );
    assert!(p.issues.is_empty(), "{:?}", issue_records(&p));
    let v = vehicles(&p);
    let fiesta = v[0];
    assert_eq!(fiesta.registration.as_deref(), Some("AB19XYZ"));
    let price = fiesta.price.as_ref().unwrap();
    assert_eq!(
        (price.amount_minor, price.currency.as_str()),
        (1_149_500, "GBP")
    );
    assert_eq!(fiesta.images.len(), 3);
    assert_eq!(fiesta.location_id, "main");
    // Internal notes and cost price stay hub-only, never in the description.
    let hub = fiesta.hub_only.as_ref().unwrap();
    assert!(hub
        .internal_notes
        .as_deref()
        .unwrap()
        .contains("SMART repair"));
    assert!(!fiesta.description.as_deref().unwrap().contains("SMART"));
    assert_eq!(v[2].location_id, "leeds");
    assert!(matches!(v[4].vat, VatStatus::PlusVat));
    assert!(matches!(v[4].vehicle_type, VehicleType::Van));
    assert!(v[5].registration.is_none());
}

#[test]
fn bom_and_crlf() {
    let p = ok("bom_crlf.csv");
    assert_eq!(stock_ids(&p), ["BC1", "BC2"]);
    // The BOM is not part of the first header name, and no value ends in \r.
    assert_eq!(vehicles(&p)[1].make.as_deref(), Some("Škoda"));
    assert!(matches!(vehicles(&p)[1].status, StockStatus::Reserved));
}

#[test]
fn windows_1252() {
    let p = ok("windows1252.csv");
    let v = vehicles(&p);
    assert_eq!(v[0].price.as_ref().unwrap().amount_minor, 749_500);
    assert!(matches!(v[0].body_style, Some(BodyStyle::Coupe)));
    assert_eq!(
        v[0].description.as_deref(),
        Some("\u{201c}Stunning\u{201d} example \u{2013} £500 of extras")
    );
    assert_eq!(v[1].make.as_deref(), Some("Citroën"));
}

#[test]
fn tsv() {
    let p = ok("tsv.tsv");
    assert_eq!(stock_ids(&p), ["T1", "T2"]);
    assert_eq!(vehicles(&p)[0].features.len(), 3);
    assert_eq!(vehicles(&p)[0].images.len(), 2);
}

#[test]
fn quoted_fields() {
    let p = ok("quoted.csv");
    assert_eq!(stock_ids(&p), ["Q1", "Q2", "Q3"]);
    let q1 = vehicles(&p)[0];
    assert!(q1
        .description
        .as_deref()
        .unwrap()
        .contains("roof, tow bar.\nFull"));
    assert!(q1
        .description
        .as_deref()
        .unwrap()
        .contains("\"test drive\""));
    // Q1 spans four physical lines, yet Q3 is record 4: records, not lines.
    assert_eq!(issue_records(&p), [(4, Some("Q3"), Some("mileage"))]);
}

#[test]
fn truncated_inside_quotes() {
    let p = ok("truncated.csv");
    assert_eq!(stock_ids(&p), ["TR1", "TR2"]);
    assert_eq!(issue_records(&p), [(4, Some("TR3"), None)]);
}

#[test]
fn truncated_mid_line() {
    let p = ok("truncated_line.csv");
    assert_eq!(stock_ids(&p), ["TL1"]);
    assert_eq!(issue_records(&p), [(3, Some("TL2"), None)]);
}

#[test]
fn empty_file() {
    let e = err("empty.csv");
    assert!(e.message.contains("empty"));
}

#[test]
fn header_only_is_an_empty_snapshot() {
    let p = ok("header_only.csv");
    assert!(p.changes.is_empty() && p.issues.is_empty());
}

#[test]
fn duplicate_stock_ids() {
    let p = ok("duplicates.csv");
    assert_eq!(stock_ids(&p), ["D1", "D2", "D3"]);
    // The first occurrence wins.
    assert_eq!(vehicles(&p)[0].model.as_deref(), Some("Ka"));
    assert_eq!(
        issue_records(&p),
        [
            (4, Some("D1"), Some("stock-id")),
            (6, Some("D2"), Some("stock-id")),
            (7, Some("D1"), Some("stock-id")),
        ]
    );
    assert!(p.issues[0].message.contains("first seen at record 2"));
    assert!(p.issues[1].message.contains("first seen at record 3"));
}

#[test]
fn long_description_is_kept_whole() {
    let p = ok("long_description.csv");
    let d = vehicles(&p)[0].description.clone().unwrap();
    assert_eq!(d.chars().count(), 10_000);
    assert!(d.starts_with("Sentence 0001"));
    assert!(p.issues.is_empty());
}

#[test]
fn bad_optional_fields() {
    let p = ok("mileage_currency.csv");
    assert_eq!(stock_ids(&p), ["M1", "M2", "M3"]);
    let v = vehicles(&p);
    // The currency symbol in the mileage column drops only the mileage.
    assert!(v[0].mileage.is_none());
    assert!(v[0].price.is_some());
    assert!(v[0].first_registration.is_none());
    assert_eq!(v[0].images.len(), 2);
    assert!(v[1].price.is_none());
    assert!(matches!(v[1].status, StockStatus::Withdrawn));
    assert!(matches!(
        v[2].mileage.as_ref().unwrap().unit,
        MileageUnit::Kilometres
    ));
    let m1: Vec<_> = issue_records(&p)
        .into_iter()
        .filter(|i| i.1 == Some("M1"))
        .map(|i| i.2.unwrap())
        .collect();
    // Issues follow the contract's field order within a row.
    assert_eq!(m1, ["first-registration", "mileage", "images"]);
}

#[test]
fn mapping_by_position_without_header() {
    let p = ok("positions.txt");
    assert_eq!(stock_ids(&p), ["PS1", "PS2"]);
    // Without a header the first vehicle is record 1.
    assert_eq!(issue_records(&p), [(3, None, Some("stock-id"))]);
    assert!(matches!(
        vehicles(&p)[0].mileage.as_ref().unwrap().unit,
        MileageUnit::Kilometres
    ));
}

#[test]
fn mapping_by_name() {
    let p = ok("named_mapping.csv");
    let v = vehicles(&p)[0];
    assert_eq!(v.stock_id, "N1");
    assert_eq!(v.model.as_deref(), Some("208"));
    assert_eq!(v.images.len(), 2);
    let reg = v.first_registration.as_ref().unwrap();
    assert_eq!((reg.year, reg.month, reg.day), (2019, 7, 25));
    let cost = v.hub_only.as_ref().unwrap().cost_price.as_ref().unwrap();
    assert_eq!(cost.amount_minor, 720_000);
}

#[test]
fn synonym_headers() {
    let p = ok("synonyms.csv");
    assert!(p.issues.is_empty(), "{:?}", issue_records(&p));
    let v = vehicles(&p);
    assert_eq!(v[0].registration.as_deref(), Some("AB12CDE"));
    assert_eq!(v[0].location_id, "sheffield");
    assert_eq!(v[1].location_id, "doncaster");
    assert!(matches!(v[1].transmission, Some(Transmission::Automatic)));
    assert!(matches!(v[1].body_style, Some(BodyStyle::Estate)));
    assert!(matches!(v[1].fuel_type, Some(FuelType::Diesel)));
    assert_eq!(
        v[1].hub_only.as_ref().unwrap().internal_notes.as_deref(),
        Some("Timing belt due")
    );
}

#[test]
fn personal_data_stays_hub_only() {
    let p = ok("personal_data.csv");
    let v = vehicles(&p)[0];
    let notes = v
        .hub_only
        .as_ref()
        .unwrap()
        .internal_notes
        .as_deref()
        .unwrap();
    assert!(notes.contains("07700 900123"));
    let description = v.description.as_deref().unwrap();
    for secret in ["John Smith", "07700", "High Street", "LS1"] {
        assert!(!description.contains(secret));
        assert!(!p.issues.iter().any(|i| i.message.contains(secret)));
        for a in &v.attributes {
            assert!(!a.value.contains(secret));
        }
    }
    assert_eq!(
        v.hub_only
            .as_ref()
            .unwrap()
            .cost_price
            .as_ref()
            .unwrap()
            .amount_minor,
        1_510_000
    );
}

#[test]
fn no_stock_column() {
    let e = err("no_stock_column.csv");
    assert!(e.message.contains("no stock id column"));
}

#[test]
fn binary_garbage() {
    err("binary.bin");
}

#[test]
fn bad_rows_do_not_stop_good_ones() {
    let p = ok("bad_rows.csv");
    assert_eq!(stock_ids(&p), ["B1", "B2"]);
    // The blank line is not a record; the all-empty record 4 is skipped silently.
    assert_eq!(
        issue_records(&p),
        [(3, None, Some("stock-id")), (6, None, Some("stock-id"))]
    );
}

#[test]
fn excel_sep_line() {
    let p = ok("excel_sep.csv");
    assert_eq!(stock_ids(&p), ["X1", "X2"]);
    assert_eq!(issue_records(&p), [(2, Some("X1"), Some("price"))]);
}

// ------------------------------------------------------ not from fixtures --

fn pull(config: &str, document: Option<Vec<u8>>) -> Result<PullPage, PluginError> {
    CsvExport::pull(PullRequest {
        config: config.into(),
        cursor: None,
        document,
    })
}

#[test]
fn describe() {
    let info = CsvExport::describe();
    assert!(!info.incremental && !info.push && info.needs_document);
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["required"], serde_json::json!(["dealer_id"]));
}

#[test]
fn missing_document_and_bad_config() {
    let e = pull(DEFAULT_CONFIG, None).unwrap_err();
    assert_eq!(
        (e.class, e.field.as_deref()),
        (ErrorClass::Validation, Some("document"))
    );
    let e = pull("{}", Some(b"StockNo\nA\n".to_vec())).unwrap_err();
    assert_eq!(
        (e.class, e.field.as_deref()),
        (ErrorClass::Validation, Some("config"))
    );
}

#[test]
fn mapped_column_missing_from_header() {
    let config = r#"{"dealer_id":"d","columns":{"price":"Asking"}}"#;
    let e = pull(config, Some(b"StockNo,Price\nA,1\n".to_vec())).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("document"));
    assert!(e.message.contains("columns.price"), "{}", e.message);
}

#[test]
fn field_longer_than_the_cap_is_truncated() {
    let long = "y".repeat(100_005);
    let doc = format!("StockNo,Description\nL1,{long}\n");
    let p = pull(DEFAULT_CONFIG, Some(doc.into_bytes())).unwrap();
    let v = vehicles(&p);
    assert_eq!(v[0].description.as_ref().unwrap().chars().count(), 100_000);
    assert_eq!(issue_records(&p), [(2, Some("L1"), Some("description"))]);
}

#[test]
fn document_over_50_mib_is_refused() {
    let mut doc = b"StockNo\n".to_vec();
    doc.resize(50 * 1024 * 1024 + 1, b'a');
    let e = pull(DEFAULT_CONFIG, Some(doc)).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("document"));
    assert!(e.message.contains("limit"));
}

#[test]
fn more_than_50_000_vehicles_is_refused() {
    let mut doc = String::from("StockNo\n");
    for i in 0..50_000 {
        writeln!(doc, "V{i}").unwrap();
    }
    let p = pull(DEFAULT_CONFIG, Some(doc.clone().into_bytes())).unwrap();
    assert_eq!(p.changes.len(), 50_000);
    doc.push_str("V50000\n");
    let e = pull(DEFAULT_CONFIG, Some(doc.into_bytes())).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("document"));
    assert!(
        e.message.contains("more than 50000 vehicles"),
        "{}",
        e.message
    );
}

#[test]
fn issues_are_capped() {
    let mut doc = String::from("StockNo,Make\n");
    for _ in 0..10_050 {
        doc.push_str(",Ford\n");
    }
    let p = pull(DEFAULT_CONFIG, Some(doc.into_bytes())).unwrap();
    assert_eq!(p.issues.len(), 10_001);
    let last = p.issues.last().unwrap();
    assert_eq!(last.record_number, 10_002);
    assert!(last.message.starts_with("50 more issues"));
}

#[test]
fn cursor_is_ignored_full_snapshot_every_time() {
    let doc = b"StockNo\nA\nB\n".to_vec();
    let page = CsvExport::pull(PullRequest {
        config: DEFAULT_CONFIG.into(),
        cursor: Some("anything".into()),
        document: Some(doc),
    })
    .unwrap();
    assert_eq!(stock_ids(&page), ["A", "B"]);
    assert!(page.full_snapshot && page.next_cursor.is_none());
}
