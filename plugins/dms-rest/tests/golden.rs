//! Golden tests: each scenario in `tests/fixtures/NAME.json` is a
//! configuration, an optional starting cursor and the DMS's responses in
//! order. The harness pulls until every response is used, feeding each
//! pull the cursor of the last successful one (as the host does: a failed
//! pull stores nothing), checks every request URL the scenario expects, and
//! writes each request and its page (or error) to `tests/golden/NAME.txt`.
//!
//! Run natively:
//! `cargo test -p forecourt-plugin-dms-rest --target-dir target/plugins`.
//! After an intended change, rewrite the goldens with `UPDATE_GOLDEN=1` and
//! review the diff.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use forecourt_plugin_dms_rest::poll::{self, Fetch};
use forecourt_sdk::http::Response;
use forecourt_sdk::testkit::{check_golden, pull_json};
use forecourt_sdk::{Change, ErrorClass, PluginError, PullPage, StockStatus};
use serde_json::Value;

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(sub)
}

/// One canned response.
struct Canned {
    expect: Option<String>,
    response: Response,
}

/// Serves the scenario's responses in order and records the URLs asked for.
struct Script {
    name: String,
    queue: VecDeque<Canned>,
    asked: Vec<String>,
}

impl Fetch for Script {
    fn get(&mut self, url: &str) -> Result<Response, PluginError> {
        self.asked.push(url.to_string());
        let canned = self
            .queue
            .pop_front()
            .unwrap_or_else(|| panic!("{}: unexpected request {url}", self.name));
        if let Some(expect) = &canned.expect {
            assert_eq!(url, expect, "{}: request {}", self.name, self.asked.len());
        }
        if canned.response.status == 0 {
            return Err(PluginError::transient("connection reset by peer"));
        }
        Ok(canned.response)
    }
}

/// What a scenario did: each pull's request and result.
struct Run {
    steps: Vec<(String, Result<PullPage, PluginError>)>,
}

impl Run {
    fn pages(&self) -> Vec<&PullPage> {
        self.steps
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .collect()
    }

    fn errors(&self) -> Vec<&PluginError> {
        self.steps
            .iter()
            .filter_map(|(_, r)| r.as_ref().err())
            .collect()
    }

    fn upserted(&self) -> Vec<String> {
        self.pages()
            .iter()
            .flat_map(|p| &p.changes)
            .filter_map(|c| match c {
                Change::Upsert(v) => Some(v.stock_id.clone()),
                Change::Remove(_) => None,
            })
            .collect()
    }
}

fn run(name: &str) -> Run {
    let path = dir("fixtures").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let scenario: Value = serde_json::from_str(&text).unwrap();
    let config = scenario["config"].to_string();
    let mut cursor = scenario["cursor"].as_str().map(str::to_string);
    let queue = scenario["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let body = match (&r["body"], &r["body_text"]) {
                (Value::Null, Value::String(t)) => t.clone().into_bytes(),
                (body, _) => body.to_string().into_bytes(),
            };
            let headers = r["headers"]
                .as_object()
                .map(|h| {
                    h.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            Canned {
                expect: r["expect"].as_str().map(str::to_string),
                response: Response {
                    status: r["status"].as_u64().unwrap_or(200) as u16,
                    headers,
                    body,
                },
            }
        })
        .collect();
    let mut script = Script {
        name: name.to_string(),
        queue,
        asked: Vec::new(),
    };
    let mut steps = Vec::new();
    let mut out = String::new();
    while !script.queue.is_empty() {
        let before = script.asked.len();
        let result = poll::pull(&config, cursor.as_deref(), &mut script);
        let url = script
            .asked
            .get(before)
            .cloned()
            .unwrap_or_else(|| "(no request)".into());
        out.push_str(&format!("=== pull {}: GET {url}\n", steps.len() + 1));
        out.push_str(&pull_json(&result));
        if let Ok(page) = &result {
            cursor = page.next_cursor.clone();
        }
        steps.push((url, result));
        assert!(steps.len() < 50, "{name}: too many pulls");
    }
    check_golden(&dir("golden"), &format!("{name}.txt"), &out).unwrap_or_else(|e| panic!("{e}"));
    Run { steps }
}

#[test]
fn cursor_pagination_and_the_next_pass() {
    let run = run("cursor_pagination");
    let pages = run.pages();
    assert_eq!(pages.len(), 4);
    assert_eq!(
        pages.iter().map(|p| p.has_more).collect::<Vec<_>>(),
        [true, false, true, false]
    );
    // Pass 2 starts at the newest updated_at: FC3 and FC4 shared it and were
    // read, so only FC5 (same instant, new) and FC6 come back.
    assert_eq!(run.upserted(), ["FC1", "FC2", "FC3", "FC4", "FC5", "FC6"]);
    assert!(pages
        .iter()
        .all(|p| !p.full_snapshot && p.issues.is_empty()));
}

#[test]
fn page_numbers_under_one_timestamp() {
    // Five vehicles updated in the same second, two per page: the filter
    // cannot move, so the page number does, and nothing repeats or is lost.
    let run = run("page_equal_timestamps");
    assert_eq!(run.upserted(), ["E1", "E2", "E3", "E4", "E5", "E6"]);
}

#[test]
fn page_boundary_ties_move_the_filter_not_the_page() {
    let run = run("page_boundary_ties");
    assert_eq!(run.upserted(), ["T1", "T2", "T3", "T4", "T5"]);
}

#[test]
fn an_api_that_ignores_the_page_number_ends_the_pass() {
    // Page 2 under the same filter is page 1 again: the pass ends rather
    // than asking forever, and the next pass starts after what was read.
    let run = run("page_ignored");
    let pages = run.pages();
    assert_eq!(
        pages.iter().map(|p| p.has_more).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(run.upserted(), ["X1", "X2"]);
}

#[test]
fn bad_records_never_stop_good_ones() {
    let run = run("malformed_records");
    let page = run.pages()[0];
    assert_eq!(run.upserted(), ["OK1", "M1", "L1", "N1", "S1", "P1"]);
    let issues: Vec<(u32, Option<&str>, Option<&str>)> = page
        .issues
        .iter()
        .map(|i| (i.record_number, i.stock_id.as_deref(), i.field.as_deref()))
        .collect();
    assert_eq!(
        issues,
        [
            (2, None, None),
            (3, None, Some("stock-id")),
            (4, Some("M1"), Some("mileage")),
            (6, Some("N1"), None),
            (7, Some("S1"), Some("status")),
            (8, Some("P1"), Some("price")),
            (8, Some("P1"), Some("images")),
        ]
    );
    let Change::Upsert(long) = &page.changes[2] else {
        panic!()
    };
    assert_eq!(long.description.as_ref().unwrap().chars().count(), 10_000);
    let Change::Upsert(minimal) = &page.changes[3] else {
        panic!()
    };
    assert!(minimal.make.is_none() && minimal.price.is_none() && minimal.images.is_empty());
    let Change::Upsert(unknown) = &page.changes[4] else {
        panic!()
    };
    assert_eq!(unknown.status, StockStatus::Withdrawn);
}

#[test]
fn deleted_and_sold_records() {
    let run = run("deleted_and_sold");
    let page = run.pages()[0];
    let got: Vec<String> = page
        .changes
        .iter()
        .map(|c| match c {
            Change::Upsert(v) => format!("upsert {} {:?}", v.stock_id, v.status),
            Change::Remove(id) => format!("remove {id}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            "upsert A1 StockStatus::Sold",
            "remove A2",
            "remove A3",
            "upsert A4 StockStatus::Reserved",
            "remove A5"
        ]
    );
}

#[test]
fn a_failed_page_is_asked_for_again() {
    let run = run("server_error_mid_pagination");
    let urls: Vec<&str> = run.steps.iter().map(|(u, _)| u.as_str()).collect();
    // The 503 and the dropped connection leave the cursor where it was: the
    // same page is requested until it arrives.
    assert_eq!(urls[1], urls[2]);
    assert_eq!(urls[2], urls[3]);
    let classes: Vec<ErrorClass> = run.errors().iter().map(|e| e.class).collect();
    assert_eq!(classes, [ErrorClass::Transient, ErrorClass::Transient]);
    assert_eq!(run.upserted(), ["R1", "R2", "R3", "R4"]);
}

#[test]
fn http_errors_map_to_error_classes() {
    let run = run("http_errors");
    let errors = run.errors();
    let classes: Vec<ErrorClass> = errors.iter().map(|e| e.class).collect();
    assert_eq!(
        classes,
        [
            ErrorClass::RateLimited,
            ErrorClass::Auth,
            ErrorClass::Auth,
            ErrorClass::Permanent,
            ErrorClass::Permanent,
            ErrorClass::Permanent,
        ]
    );
    assert_eq!(errors[0].retry_after_ms, Some(30_000));
    assert!(errors[3].message.contains("404"), "{}", errors[3].message);
    assert!(
        errors[4].message.contains("not JSON"),
        "{}",
        errors[4].message
    );
    assert!(
        errors[5].message.contains("no list of vehicles"),
        "{}",
        errors[5].message
    );
}

#[test]
fn lookback_and_periodic_snapshots() {
    let run = run("lookback_and_snapshot");
    let pages = run.pages();
    // Pass 1 (a snapshot: passes % 2 == 0), pass 2 (incremental, re-reading
    // the last minute), pass 3 (a snapshot again).
    assert_eq!(
        pages.iter().map(|p| p.full_snapshot).collect::<Vec<_>>(),
        [true, false, true]
    );
    assert_eq!(run.upserted(), ["K1", "K2", "K2", "K3", "K1", "K2", "K3"]);
}

#[test]
fn next_page_links_and_custom_shapes() {
    let run = run("next_links");
    assert_eq!(run.upserted(), ["L1", "L2"]);
    let Change::Upsert(v) = &run.pages()[0].changes[0] else {
        panic!()
    };
    assert_eq!(v.price.as_ref().unwrap().amount_minor, 1_299_500);
    assert_eq!(v.location_id, "leeds");
}

#[test]
fn a_cursor_that_cannot_be_read_starts_over() {
    let run = run("foreign_cursor");
    assert_eq!(run.upserted(), ["F1"]);
}

#[test]
fn configuration_errors_name_the_key() {
    let e = poll::pull(r#"{"dealer_id":"d"}"#, None, &mut NoFetch).unwrap_err();
    assert_eq!(
        (e.class, e.field.as_deref()),
        (ErrorClass::Validation, Some("config"))
    );
    assert!(e.message.contains("base_url"), "{}", e.message);
}

struct NoFetch;

impl Fetch for NoFetch {
    fn get(&mut self, url: &str) -> Result<Response, PluginError> {
        panic!("no request expected, got {url}")
    }
}

#[test]
fn describe_says_incremental() {
    use forecourt_sdk::Source;
    let info = forecourt_plugin_dms_rest::DmsRest::describe();
    assert!(info.incremental && !info.push && !info.needs_document);
    serde_json::from_str::<Value>(&info.config_schema).unwrap();
}
