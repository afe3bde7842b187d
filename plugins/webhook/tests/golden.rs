//! Golden tests: every fixture vehicle through `transform` (the neutral
//! document), and recorded exchanges of `publish` and `list-published`
//! against a scripted partner, compared with the files in `tests/golden/`.
//!
//! Run natively:
//! `cargo test -p forecourt-plugin-webhook --target-dir target/plugins`.
//! After an intended change, rewrite the goldens with `UPDATE_GOLDEN=1` and
//! review the diff.

#[path = "fixtures/vehicles.rs"]
mod fixtures;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use forecourt_plugin_webhook::neutral::NeutralVehicle;
use forecourt_plugin_webhook::publish::{self, Config, HttpRequest, Method, Transport};
use forecourt_plugin_webhook::Webhook;
use forecourt_sdk::http::Response;
use forecourt_sdk::{
    ErrorClass, Listing, Operation, OperationKind, OperationResult, Platform, PluginError,
    PublishedState, Severity, StockStatus, Transformed, ValidationIssue,
};

const CONFIG: &str = r#"{"endpoint":"https://partner.example.com/forecourt/listings"}"#;
const CONFIG_BATCH: &str =
    r#"{"endpoint":"https://partner.example.com/forecourt/listings","batch":true}"#;
/// 2025-11-28T13:05:09.123Z
const NOW_MS: u64 = 1_764_335_109_123;

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
            let doc: NeutralVehicle =
                serde_json::from_str(&t.listing.body).expect("the body is a neutral document");
            assert_eq!(
                serde_json::to_string(&doc).unwrap(),
                t.listing.body,
                "the body is the document's canonical JSON"
            );
            let _ = writeln!(out, "result: ok");
            let _ = writeln!(out, "stock-id: {}", t.listing.stock_id);
            let _ = writeln!(out, "body:");
            out.push_str(&serde_json::to_string_pretty(&doc).unwrap());
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
        .map(|(name, v)| (name, Webhook::transform(CONFIG, v)))
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
fn the_document_has_every_contract_field_and_no_hub_only_data() {
    let t = Webhook::transform(CONFIG, fixtures::base("GV-1")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&t.listing.body).unwrap();
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "dealer_id",
        "location_id",
        "stock_id",
        "registration",
        "vin",
        "make",
        "model",
        "variant",
        "trim",
        "vehicle_type",
        "body_style",
        "fuel_type",
        "transmission",
        "drivetrain",
        "doors",
        "seats",
        "engine_size_cc",
        "power_bhp",
        "co2_g_per_km",
        "emissions_standard",
        "colour",
        "first_registration",
        "model_year",
        "mileage",
        "price",
        "vat",
        "condition",
        "service_history",
        "previous_owners",
        "mot_expiry",
        "features",
        "description",
        "images",
        "status",
        "date_in_stock",
        "attributes",
    ];
    expected.sort();
    assert_eq!(
        keys, expected,
        "every contract field but hub-only, nothing else"
    );
    assert_eq!(
        doc["price"],
        serde_json::json!({"amount_minor": 1_299_500, "currency": "GBP"})
    );
    assert_eq!(doc["first_registration"], "2019-03-14");
    for (_, result) in transform_all() {
        if let Ok(t) = result {
            for secret in ["Jane", "jane@example.com", "auction", "1050000", "hub_only"] {
                assert!(!t.listing.body.contains(secret), "{secret} leaked");
            }
        }
    }
}

// ----- a scripted partner -----

enum Answer {
    Http(u16, Vec<(&'static str, &'static str)>, &'static str),
    Fail(PluginError),
}

fn http(status: u16, body: &'static str) -> Answer {
    Answer::Http(status, vec![], body)
}

/// Answers requests from a script and records them; the clock stands still
/// unless `step` says how long each request takes.
struct Partner {
    answers: VecDeque<Answer>,
    log: String,
    requests: Vec<HttpRequest>,
    elapsed: Duration,
    step: Duration,
}

impl Partner {
    fn new(answers: Vec<Answer>) -> Partner {
        Partner {
            answers: answers.into(),
            log: String::new(),
            requests: vec![],
            elapsed: Duration::ZERO,
            step: Duration::ZERO,
        }
    }
}

impl Transport for Partner {
    fn send(&mut self, request: &HttpRequest) -> Result<Response, PluginError> {
        self.requests.push(request.clone());
        self.elapsed += self.step;
        let method = match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let _ = writeln!(self.log, "> {method} {}", request.url);
        for (k, v) in &request.headers {
            let _ = writeln!(self.log, "> {k}: {v}");
        }
        if !request.body.is_empty() {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(
                serde_json::to_vec(&body).unwrap().len(),
                request.body.len(),
                "bodies are compact JSON"
            );
            let laid_out = indent(std::str::from_utf8(&request.body).unwrap());
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&laid_out).unwrap(),
                body,
                "the layout changes nothing"
            );
            let _ = writeln!(self.log, ">");
            let _ = writeln!(self.log, "{laid_out}");
        }
        match self
            .answers
            .pop_front()
            .expect("an answer for every request")
        {
            Answer::Http(status, headers, body) => {
                let _ = writeln!(self.log, "< HTTP {status}");
                for (k, v) in &headers {
                    let _ = writeln!(self.log, "< {k}: {v}");
                }
                if !body.is_empty() {
                    let _ = writeln!(self.log, "<");
                    let _ = writeln!(self.log, "{body}");
                }
                let _ = writeln!(self.log);
                Ok(Response {
                    status,
                    headers: headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    body: body.as_bytes().to_vec(),
                })
            }
            Answer::Fail(e) => {
                let _ = writeln!(self.log, "< (no answer: {} {})\n", e.class, e.message);
                Err(e)
            }
        }
    }

    fn now_ms(&self) -> u64 {
        NOW_MS
    }

    fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

/// Compact JSON laid out two spaces per level, in the order it was sent
/// (re-serialising through `Value` would sort the keys).
fn indent(compact: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next().unwrap());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth -= 1;
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c => out.push(c),
        }
    }
    out
}

fn listing_of(case: &str) -> Listing {
    let (_, v) = fixtures::cases()
        .into_iter()
        .find(|(n, _)| *n == case)
        .unwrap();
    Webhook::transform(CONFIG, v).unwrap().listing
}

fn op(
    kind: OperationKind,
    n: u32,
    stock_id: &str,
    remote_id: Option<&str>,
    status: StockStatus,
    listing: Option<&str>,
) -> Operation {
    Operation {
        kind,
        idempotency_key: format!("fc-{n:040}"),
        stock_id: stock_id.into(),
        remote_id: remote_id.map(String::from),
        status,
        listing: listing.map(listing_of),
        previous: None,
    }
}

/// Create, update, reserve, unreserve and remove (of a sold car).
fn the_five_operations() -> Vec<Operation> {
    vec![
        op(
            OperationKind::Create,
            1,
            "GV-001",
            None,
            StockStatus::InStock,
            Some("complete_used_car"),
        ),
        op(
            OperationKind::Update,
            2,
            "GV-010",
            Some("P-1010"),
            StockStatus::InStock,
            Some("commercial_van_plus_vat"),
        ),
        op(
            OperationKind::Reserve,
            3,
            "GV-014",
            Some("P-1014"),
            StockStatus::Reserved,
            Some("reserved"),
        ),
        op(
            OperationKind::Unreserve,
            4,
            "GV-015",
            None,
            StockStatus::DueIn,
            Some("due_in"),
        ),
        op(
            OperationKind::Remove,
            5,
            "GV-016",
            Some("P-1016"),
            StockStatus::Sold,
            None,
        ),
    ]
}

fn describe_results(out: &mut String, results: &Result<Vec<OperationResult>, PluginError>) {
    let _ = writeln!(out, "== results");
    match results {
        Err(e) => {
            let _ = writeln!(out, "whole batch failed: {}", error_text(e));
        }
        Ok(results) => {
            for r in results {
                match &r.outcome {
                    Ok(id) => {
                        let _ = writeln!(out, "{}: ok, remote id {id}", r.idempotency_key);
                    }
                    Err(e) => {
                        let _ = writeln!(out, "{}: {}", r.idempotency_key, error_text(e));
                    }
                }
            }
        }
    }
}

fn error_text(e: &PluginError) -> String {
    let mut s = format!("{} error", e.class);
    if let Some(f) = &e.field {
        let _ = write!(s, " on {f}");
    }
    if let Some(ms) = e.retry_after_ms {
        let _ = write!(s, " (retry after {ms} ms)");
    }
    let _ = write!(s, ": {}", e.message);
    s
}

fn run(config: &str, ops: &[Operation], partner: &mut Partner) -> String {
    let config = Config::parse(config).unwrap();
    let results = publish::publish(&config, ops, partner);
    let mut out = String::new();
    let _ = writeln!(out, "== exchanges");
    out.push_str(&partner.log);
    describe_results(&mut out, &results);
    assert!(partner.answers.is_empty(), "every scripted answer was used");
    out
}

#[test]
fn publish_per_operation_matches_golden() {
    let mut partner = Partner::new(vec![
        http(201, r#"{"id":"P-1001"}"#),
        http(204, ""),
        http(200, r#"{"id":1014}"#),
        http(200, "{}"),
        http(404, r#"{"error":"no such listing"}"#),
    ]);
    let out = run(CONFIG, &the_five_operations(), &mut partner);
    check("publish_per_operation.txt", &out).unwrap();
    for (request, op) in partner.requests.iter().zip(the_five_operations()) {
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("idempotency-key"), Some(op.idempotency_key.as_str()));
        assert_eq!(header("content-type"), Some("application/json"));
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["sent_at"], "2025-11-28T13:05:09.123Z");
        match &op.listing {
            Some(l) => assert_eq!(
                body["listing"],
                serde_json::from_str::<serde_json::Value>(&l.body).unwrap()
            ),
            None => assert!(body["listing"].is_null()),
        }
    }
}

#[test]
fn publish_per_operation_errors_match_golden() {
    let ops = vec![
        op(
            OperationKind::Create,
            11,
            "GV-001",
            None,
            StockStatus::InStock,
            Some("complete_used_car"),
        ),
        op(
            OperationKind::Create,
            12,
            "GV-005",
            None,
            StockStatus::InStock,
            Some("many_images"),
        ),
        op(
            OperationKind::Create,
            13,
            "GV-008",
            None,
            StockStatus::InStock,
            Some("electric_no_engine_size"),
        ),
        op(
            OperationKind::Create,
            14,
            "GV-009",
            None,
            StockStatus::InStock,
            Some("new_car_zero_miles"),
        ),
        op(
            OperationKind::Remove,
            15,
            "GV-012",
            Some("P-1012"),
            StockStatus::Withdrawn,
            None,
        ),
    ];
    let mut partner = Partner::new(vec![
        http(
            422,
            r#"{"field":"price","message":"price above the partner's limit"}"#,
        ),
        http(500, "internal error"),
        http(409, r#"{"message":"duplicate"}"#),
        Answer::Http(429, vec![("retry-after", "30")], "slow down"),
    ]);
    let out = run(CONFIG, &ops, &mut partner);
    check("publish_per_operation_errors.txt", &out).unwrap();
}

#[test]
fn publish_batch_matches_golden() {
    let ops = the_five_operations();
    let key = publish::batch_key(&ops);
    let answer = format!(
        r#"{{"results":[{{"idempotency_key":"{k1}","id":"P-1001"}},{{"idempotency_key":"{k2}","error":{{"status":422,"message":"model not in the partner's taxonomy","field":"model"}}}},{{"idempotency_key":"{k5}","error":{{"status":404,"message":"gone"}}}}]}}"#,
        k1 = ops[0].idempotency_key,
        k2 = ops[1].idempotency_key,
        k5 = ops[4].idempotency_key,
    );
    let answer: &'static str = Box::leak(answer.into_boxed_str());
    let mut partner = Partner::new(vec![http(200, answer)]);
    let out = run(CONFIG_BATCH, &ops, &mut partner);
    check("publish_batch.txt", &out).unwrap();
    assert_eq!(partner.requests.len(), 1, "one POST for the batch");
    let header = partner.requests[0]
        .headers
        .iter()
        .find(|(k, _)| k == "Idempotency-Key")
        .unwrap();
    assert_eq!(header.1, key);
}

#[test]
fn a_failed_batch_fails_as_a_whole() {
    for (status, class) in [
        (503, ErrorClass::Transient),
        (401, ErrorClass::Auth),
        (400, ErrorClass::Validation),
    ] {
        let config = Config::parse(CONFIG_BATCH).unwrap();
        let mut partner = Partner::new(vec![http(status, "no")]);
        let e = publish::publish(&config, &the_five_operations(), &mut partner).unwrap_err();
        assert_eq!(e.class, class, "{status}");
    }
    let config = Config::parse(CONFIG_BATCH).unwrap();
    let mut partner = Partner::new(vec![Answer::Fail(PluginError::transient(
        "connection refused",
    ))]);
    let e = publish::publish(&config, &the_five_operations(), &mut partner).unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient);
}

#[test]
fn auth_and_transport_failures_stop_the_rest() {
    let config = Config::parse(CONFIG).unwrap();
    let mut partner = Partner::new(vec![http(401, "bad signature")]);
    let results = publish::publish(&config, &the_five_operations(), &mut partner).unwrap();
    assert_eq!(partner.requests.len(), 1);
    assert!(results
        .iter()
        .all(|r| r.outcome.as_ref().unwrap_err().class == ErrorClass::Auth));
    assert!(results[1]
        .outcome
        .as_ref()
        .unwrap_err()
        .message
        .starts_with("not sent"));

    let mut partner = Partner::new(vec![
        http(201, r#"{"id":"P-1"}"#),
        Answer::Fail(PluginError::transient("connection reset")),
    ]);
    let results = publish::publish(&config, &the_five_operations(), &mut partner).unwrap();
    assert_eq!(partner.requests.len(), 2);
    assert_eq!(results[0].outcome.as_ref().unwrap(), "P-1");
    for r in &results[1..] {
        assert_eq!(r.outcome.as_ref().unwrap_err().class, ErrorClass::Transient);
    }

    let mut partner = Partner::new(vec![http(503, "maintenance")]);
    let results = publish::publish(&config, &the_five_operations(), &mut partner).unwrap();
    assert_eq!(partner.requests.len(), 1);
    assert!(results
        .iter()
        .all(|r| r.outcome.as_ref().unwrap_err().class == ErrorClass::Transient));
}

#[test]
fn the_time_budget_leaves_the_rest_for_the_next_call() {
    let config = Config::parse(CONFIG).unwrap();
    let mut partner = Partner::new(vec![http(201, "{}"), http(201, "{}")]);
    partner.step = publish::SEND_BUDGET / 2;
    let results = publish::publish(&config, &the_five_operations(), &mut partner).unwrap();
    assert_eq!(partner.requests.len(), 2);
    assert!(results[0].outcome.is_ok() && results[1].outcome.is_ok());
    for r in &results[2..] {
        let e = r.outcome.as_ref().unwrap_err();
        assert_eq!(e.class, ErrorClass::Transient);
        assert!(e.message.starts_with("not sent"), "{}", e.message);
    }
}

#[test]
fn a_listing_that_is_not_json_fails_only_its_operation() {
    let config = Config::parse(CONFIG).unwrap();
    let mut ops = the_five_operations();
    ops[0].listing = Some(Listing {
        stock_id: "GV-001".into(),
        body: "GV-001\tVolkswagen".into(),
    });
    let mut partner = Partner::new(vec![
        http(200, "{}"),
        http(200, "{}"),
        http(200, "{}"),
        http(200, "{}"),
    ]);
    let results = publish::publish(&config, &ops, &mut partner).unwrap();
    assert_eq!(
        results[0].outcome.as_ref().unwrap_err().class,
        ErrorClass::Permanent
    );
    assert!(results[1..].iter().all(|r| r.outcome.is_ok()));
}

#[test]
fn list_published_matches_golden() {
    let config = Config::parse(CONFIG).unwrap();
    let mut partner = Partner::new(vec![
        http(
            200,
            r#"{"items":[{"id":"P-1001","stock_id":"GV-001","state":"live"},{"id":1014,"stock_id":"GV-014","state":"reserved","listing":{"price":{"amount_minor":1299500,"currency":"GBP"}}}],"next":"cursor-2"}"#,
        ),
        http(
            200,
            r#"{"items":[{"id":"P-1016","stock_id":"GV-016","state":"sold"},{"id":"P-0999","stock_id":"GV-999","state":"removed"}],"next":null}"#,
        ),
    ]);
    let mut out = String::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = publish::list_published(&config, cursor.as_deref(), &mut partner).unwrap();
        let _ = writeln!(out, "== page (cursor {cursor:?})");
        for item in &page.items {
            let _ = writeln!(
                out,
                "{} {} {:?} body={:?}",
                item.remote_id, item.stock_id, item.state, item.body
            );
        }
        let _ = writeln!(out, "next: {:?}", page.next_cursor);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let _ = writeln!(out, "== exchanges");
    out.push_str(&partner.log);
    check("list_published.txt", &out).unwrap();
    assert_eq!(
        partner.requests[1].url,
        "https://partner.example.com/forecourt/listings?page=cursor-2"
    );
}

#[test]
fn an_endpoint_without_listing_says_so() {
    let config = Config::parse(CONFIG).unwrap();
    for status in [404, 405] {
        let mut partner = Partner::new(vec![http(status, "")]);
        let e = publish::list_published(&config, None, &mut partner).unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent);
        assert!(
            e.message
                .starts_with("the partner endpoint does not support listing"),
            "{}",
            e.message
        );
    }
    let mut partner = Partner::new(vec![http(401, "")]);
    let e = publish::list_published(&config, None, &mut partner).unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth);
}

#[test]
fn a_listing_answer_outside_the_contract_is_refused() {
    let config = Config::parse(CONFIG).unwrap();
    for body in [
        r#"{"items":[{"id":"P-1","stock_id":"A","state":"published"}]}"#,
        r#"{"items":[{"id":null,"stock_id":"A","state":"live"}]}"#,
        r#"{"items":[{"stock_id":"A","state":"live"}]}"#,
        r#"{"results":[]}"#,
        r#"{"items":[],"next":{"page":2}}"#,
        "not json",
    ] {
        let mut partner = Partner::new(vec![http(200, body)]);
        let e = publish::list_published(&config, None, &mut partner).unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent, "{body}");
    }
    let mut partner = Partner::new(vec![http(200, r#"{"items":[]}"#)]);
    let page = publish::list_published(&config, None, &mut partner).unwrap();
    assert!(page.items.is_empty() && page.next_cursor.is_none());
    let _ = PublishedState::Live;
}

#[test]
fn the_documented_signature_example_verifies() {
    // The example in docs/plugins/webhook.md, computed the way the host signs
    // (host/src/runtime/egress.rs): HMAC-SHA256 over "<t>.<raw body>".
    use hmac::{Hmac, Mac};
    let secret = "whsec_test_2f8a61c4";
    let t = "1764335109";
    let body = r#"{"operation":"remove","idempotency_key":"fc-0000000000000000000000000000000000000005","stock_id":"GV-016","remote_id":"P-1016","status":"sold","listing":null,"sent_at":"2025-11-28T13:05:09.123Z"}"#;
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/plugins/webhook.md"),
    )
    .unwrap();
    assert!(docs.contains(body), "the documented body is this one");
    assert!(
        docs.contains(&format!("t={t},v1={hex}")),
        "the documented signature is t={t},v1={hex}"
    );
}

#[test]
fn bad_config_is_a_config_issue() {
    let errors = Webhook::transform("{}", fixtures::base("GV-100")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "config");
    let e = Webhook::publish(r#"{"endpoint":"ftp://x"}"#, vec![]).unwrap_err();
    assert_eq!(e.class, ErrorClass::Validation);
    assert_eq!(e.field.as_deref(), Some("config"));
}

#[test]
fn transform_is_deterministic() {
    let a = Webhook::transform(CONFIG, fixtures::base("GV-1")).unwrap();
    let b = Webhook::transform(CONFIG, fixtures::base("GV-1")).unwrap();
    assert_eq!(a.listing.body, b.listing.body);
}

#[test]
fn unsupported_operations_say_so() {
    let e = Webhook::render_feed(CONFIG, vec![]).unwrap_err();
    assert_eq!(e.message, "render-feed is not supported by this plugin");
    let e = Webhook::fetch_enquiries(CONFIG, None).unwrap_err();
    assert_eq!(e.message, "fetch-enquiries is not supported by this plugin");
}

#[test]
fn describe_is_an_api_platform() {
    let info = Webhook::describe();
    assert_eq!(info.kind, forecourt_sdk::PlatformKind::Api);
    assert_eq!(info.operations.len(), 5);
    assert!(info.feed.is_none());
    assert_eq!(info.batch_size, publish::BATCH_SIZE);
    let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["properties"]["batch"]["default"], false);
}
