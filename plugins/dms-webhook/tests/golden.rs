//! Golden tests: each push body in `tests/fixtures/NAME.json` (with the
//! headers in `NAME.headers.json`, if any) goes through `parse-push`, and
//! the page or the error is compared with `tests/golden/NAME.json`.
//!
//! Run natively:
//! `cargo test -p forecourt-plugin-dms-webhook --target-dir target/plugins`.
//! After an intended change, rewrite the goldens with `UPDATE_GOLDEN=1` and
//! review the diff.

use std::path::{Path, PathBuf};

use forecourt_plugin_dms_webhook::DmsWebhook;
use forecourt_sdk::testkit::{check_golden, pull_json};
use forecourt_sdk::{Change, ErrorClass, PluginError, PullPage, Source};

const CONFIG: &str = r#"{"dealer_id": "dealer-1"}"#;

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(sub)
}

fn golden(name: &str) -> Result<PullPage, PluginError> {
    let fixtures = dir("fixtures");
    let body = std::fs::read(fixtures.join(format!("{name}.json"))).unwrap();
    let headers: Vec<(String, String)> =
        match std::fs::read_to_string(fixtures.join(format!("{name}.headers.json"))) {
            Ok(text) => serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
                .unwrap()
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
                .collect(),
            Err(_) => Vec::new(),
        };
    let result = DmsWebhook::parse_push(CONFIG, headers, body);
    check_golden(&dir("golden"), &format!("{name}.json"), &pull_json(&result))
        .unwrap_or_else(|e| panic!("{e}"));
    result
}

fn ok(name: &str) -> PullPage {
    let page = golden(name).unwrap_or_else(|e| panic!("{name}: {}: {}", e.class, e.message));
    assert!(!page.full_snapshot && !page.has_more && page.next_cursor.is_none());
    page
}

fn err(name: &str) -> PluginError {
    let e = golden(name)
        .err()
        .unwrap_or_else(|| panic!("{name}: expected an error"));
    assert_eq!(
        (e.class, e.field.as_deref()),
        (ErrorClass::Validation, Some("body"))
    );
    e
}

fn summary(page: &PullPage) -> Vec<String> {
    page.changes
        .iter()
        .map(|c| match c {
            Change::Upsert(v) => format!("upsert {} {:?}", v.stock_id, v.status),
            Change::Remove(id) => format!("remove {id}"),
        })
        .collect()
}

#[test]
fn an_update_is_an_upsert_with_hub_only_data_kept_apart() {
    let page = ok("updated");
    assert_eq!(summary(&page), ["upsert WH1001 StockStatus::InStock"]);
    let Change::Upsert(v) = &page.changes[0] else {
        panic!()
    };
    assert_eq!(v.price.as_ref().unwrap().amount_minor, 1_799_500);
    let hub = v.hub_only.as_ref().unwrap();
    assert_eq!(hub.cost_price.as_ref().unwrap().amount_minor, 1_520_000);
    assert!(v.description.is_none());
    assert!(page.issues.is_empty());
}

#[test]
fn sold_is_an_upsert_with_status_sold() {
    assert_eq!(summary(&ok("sold")), ["upsert WH1002 StockStatus::Sold"]);
}

#[test]
fn deleted_is_a_remove() {
    assert_eq!(summary(&ok("deleted")), ["remove WH1003"]);
    assert_eq!(summary(&ok("deleted_by_vehicle")), ["remove WH1004"]);
}

#[test]
fn a_batch_keeps_the_good_events_and_reports_the_rest() {
    let page = ok("batch");
    assert_eq!(
        summary(&page),
        [
            "upsert WH2001 StockStatus::InStock",
            "upsert WH2002 StockStatus::InStock",
            "upsert WH2005 StockStatus::InStock",
        ]
    );
    let issues: Vec<(u32, Option<&str>, Option<&str>)> = page
        .issues
        .iter()
        .map(|i| (i.record_number, i.stock_id.as_deref(), i.field.as_deref()))
        .collect();
    assert_eq!(
        issues,
        [
            (2, Some("WH2001"), None),
            (3, None, None),
            (4, Some("WH2002"), Some("mileage")),
            (5, None, None),
            (6, Some("WH2003"), None),
            (7, None, None),
            (8, None, Some("stock-id")),
            (10, Some("WH2004"), None),
        ]
    );
    assert!(page.issues[0].message.contains("unknown event type"));
    assert!(page.issues[4].message.contains("dealer"));
    let Change::Upsert(long) = &page.changes[1] else {
        panic!()
    };
    assert_eq!(long.description.as_ref().unwrap().chars().count(), 10_000);
}

#[test]
fn bodies_that_are_not_events_change_nothing() {
    assert!(err("malformed_json").message.contains("not JSON"));
    assert!(err("not_an_event").message.contains("no `type`"));
    assert!(err("empty").message.contains("empty"));
    assert!(err("events_not_a_list").message.contains("not a list"));
    assert!(err("header_mismatch").message.contains("evt_999"));
}

#[test]
fn a_ping_changes_nothing() {
    let page = ok("ping");
    assert!(page.changes.is_empty() && page.issues.is_empty());
}

#[test]
fn describe_says_push_only() {
    let info = DmsWebhook::describe();
    assert!(info.push && !info.incremental && !info.needs_document);
    serde_json::from_str::<serde_json::Value>(&info.config_schema).unwrap();
    let e = DmsWebhook::pull(forecourt_sdk::PullRequest {
        config: CONFIG.into(),
        cursor: None,
        document: None,
    })
    .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
}

#[test]
fn a_bad_configuration_is_a_config_error() {
    let e = DmsWebhook::parse_push("{}", vec![], b"{}".to_vec()).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("config"));
}

#[test]
fn too_many_events_are_refused_whole() {
    let events: Vec<String> = (0..1001)
        .map(|i| format!(r#"{{"type":"vehicle.deleted","stock_id":"S{i}"}}"#))
        .collect();
    let body = format!(r#"{{"events":[{}]}}"#, events.join(","));
    let e = DmsWebhook::parse_push(CONFIG, vec![], body.into_bytes()).unwrap_err();
    assert!(e.message.contains("at most 1000"), "{}", e.message);
}
