//! The publish logic without HTTP: the requests each operation sends (method,
//! path, body, idempotency header), what each answer means, how a batch goes
//! on after a failure, and how a stock page reads back.
//!
//! A fake transport records every call and answers from a script, so these
//! run natively: `cargo test -p forecourt-plugin-autotrader --target-dir target/plugins`.

#[path = "fixtures/vehicles.rs"]
mod fixtures;

use std::collections::VecDeque;

use forecourt_plugin_autotrader::config::{Config, LOCATIONS};
use forecourt_plugin_autotrader::diff;
use forecourt_plugin_autotrader::publish::{self, Call, Method, Step};
use forecourt_plugin_autotrader::AutoTrader;
use forecourt_sdk::http::Response;
use forecourt_sdk::{
    ErrorClass, Listing, Operation, OperationKind, Platform, PluginError, PublishedState,
    StockStatus, Vehicle,
};
use serde_json::{json, Value};

const ADVERTISER: &str = "10008899";
const REMOTE: &str = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8";

fn config() -> Config {
    Config::parse(fixtures::CONFIG).unwrap()
}

fn body_of(v: Vehicle) -> String {
    AutoTrader::transform(fixtures::CONFIG, v)
        .unwrap()
        .listing
        .body
}

fn listing(body: &str) -> Option<Listing> {
    Some(Listing {
        stock_id: "AT-001".into(),
        body: body.to_string(),
    })
}

fn op(
    kind: OperationKind,
    remote_id: Option<&str>,
    status: StockStatus,
    new: Option<&str>,
    previous: Option<&str>,
) -> Operation {
    Operation {
        kind,
        idempotency_key: format!("fc-{}-key", kind_name(kind)),
        stock_id: "AT-001".into(),
        remote_id: remote_id.map(String::from),
        status,
        listing: new.and_then(listing),
        previous: previous.and_then(listing),
    }
}

fn kind_name(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Create => "create",
        OperationKind::Update => "update",
        OperationKind::Reserve => "reserve",
        OperationKind::Unreserve => "unreserve",
        OperationKind::Remove => "remove",
    }
}

fn resp(status: u16, body: Value) -> Response {
    Response {
        status,
        headers: vec![("x-request-id".into(), "5f1c0e2a9b7d4c31-LHR".into())],
        body: if body.is_null() {
            vec![]
        } else {
            body.to_string().into_bytes()
        },
    }
}

fn with_header(mut r: Response, name: &str, value: &str) -> Response {
    r.headers.push((name.into(), value.into()));
    r
}

/// A transport that answers from a script and records what was sent.
struct Fake {
    answers: VecDeque<Result<Response, PluginError>>,
    calls: Vec<Call>,
}

impl Fake {
    fn new(answers: Vec<Response>) -> Fake {
        Fake {
            answers: answers.into_iter().map(Ok).collect(),
            calls: vec![],
        }
    }

    fn send(&mut self, call: &Call) -> Result<Response, PluginError> {
        self.calls.push(call.clone());
        self.answers
            .pop_front()
            .expect("the script has an answer for every call")
    }

    fn run(&mut self, op: &Operation) -> Result<String, PluginError> {
        publish::run(&config(), op, &mut |c| self.send(c))
    }
}

fn patch_path(id: &str) -> String {
    format!("/stock/{id}?advertiserId={ADVERTISER}")
}

fn created(id: &str) -> Response {
    resp(
        201,
        json!({"metadata": {"stockId": id, "versionNumber": 1, "lifecycleState": "FORECOURT"}}),
    )
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

// ----- create -----

#[test]
fn create_posts_the_listing_with_the_idempotency_key() {
    let body = body_of(fixtures::base("AT-001"));
    let mut fake = Fake::new(vec![created(REMOTE)]);
    let outcome = fake.run(&op(
        OperationKind::Create,
        None,
        StockStatus::InStock,
        Some(&body),
        None,
    ));
    assert_eq!(outcome.unwrap(), REMOTE);
    assert_eq!(fake.calls.len(), 1);
    let call = &fake.calls[0];
    assert_eq!(call.method, Method::Post);
    assert_eq!(call.path, format!("/stock?advertiserId={ADVERTISER}"));
    assert_eq!(call.body.as_ref().unwrap(), &parse(&body));
    assert_eq!(call.idempotency_key.as_deref(), Some("fc-create-key"));
}

#[test]
fn a_duplicate_create_takes_the_existing_id_and_brings_it_up_to_date() {
    let old = body_of(Vehicle {
        colour: fixtures::s("Red"),
        ..fixtures::base("AT-001")
    });
    let new = body_of(Vehicle {
        colour: None,
        ..fixtures::base("AT-001")
    });
    let mut fake = Fake::new(vec![
        resp(
            409,
            json!({"error": "duplicate externalStockReference", "stockId": REMOTE}),
        ),
        resp(200, json!({"metadata": {"stockId": REMOTE}})),
    ]);
    // A re-listed vehicle: create, with what was published before.
    let outcome = fake.run(&op(
        OperationKind::Create,
        Some(REMOTE),
        StockStatus::InStock,
        Some(&new),
        Some(&old),
    ));
    assert_eq!(outcome.unwrap(), REMOTE);
    assert_eq!(fake.calls.len(), 2);
    let patch = &fake.calls[1];
    assert_eq!(patch.method, Method::Patch);
    assert_eq!(patch.path, patch_path(REMOTE));
    assert_eq!(patch.idempotency_key.as_deref(), Some("fc-create-key"));
    // The whole listing (lifecycle and advert statuses included, so a
    // wastebinned item comes back on sale), and the dropped colour removed.
    let sent = patch.body.as_ref().unwrap();
    assert_eq!(sent["metadata"]["lifecycleState"], "FORECOURT");
    for location in LOCATIONS {
        assert_eq!(
            sent["adverts"]["retailAdverts"][location]["status"],
            "PUBLISHED"
        );
    }
    assert_eq!(sent["vehicle"]["colour"], Value::Null);
    assert!(sent["vehicle"].as_object().unwrap().contains_key("colour"));
    let mut merged = parse(&old);
    diff::merge(&mut merged, sent);
    assert_eq!(merged, without_nulls(parse(&new)));
}

/// What a merge-patch leaves of a document: null members removed.
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn the_patch_after_a_duplicate_create_is_built_from_the_create() {
    // The patch is built only when the 409 arrives; it is what it was when
    // built up front: `diff::full` of what was published and the listing.
    let old = body_of(Vehicle {
        colour: fixtures::s("Red"),
        ..fixtures::base("AT-001")
    });
    let new = body_of(Vehicle {
        colour: None,
        trim: None,
        ..fixtures::base("AT-001")
    });
    let cases = [
        (
            Some(old.as_str()),
            diff::full(Some(&parse(&old)), &parse(&new)),
        ),
        // Nothing published before, or unreadable: the whole listing.
        (None, parse(&new)),
        (Some("not json"), parse(&new)),
        (Some("[1]"), parse(&new)),
    ];
    for (previous, expected) in cases {
        let mut fake = Fake::new(vec![
            resp(409, json!({"stockId": format!(" {REMOTE} ")})),
            resp(200, json!({})),
        ]);
        let outcome = fake.run(&op(
            OperationKind::Create,
            None,
            StockStatus::InStock,
            Some(&new),
            previous,
        ));
        assert_eq!(outcome.unwrap(), REMOTE, "{previous:?}");
        assert_eq!(fake.calls[0].body.as_ref().unwrap(), &parse(&new));
        assert_eq!(fake.calls[1].path, patch_path(REMOTE));
        assert_eq!(fake.calls[1].body.as_ref(), Some(&expected), "{previous:?}");
    }
    // A reserve that creates sends, and then revives with, the flag set.
    let mut fake = Fake::new(vec![
        resp(409, json!({"stockId": REMOTE})),
        resp(200, json!({})),
    ]);
    let outcome = fake.run(&op(
        OperationKind::Reserve,
        None,
        StockStatus::Reserved,
        Some(&new),
        Some(&old),
    ));
    assert_eq!(outcome.unwrap(), REMOTE);
    let sent = fake.calls[0].body.as_ref().unwrap();
    assert_eq!(sent["adverts"]["reservationStatus"], "Reserved");
    assert_eq!(
        fake.calls[1].body.as_ref().unwrap(),
        &diff::full(Some(&parse(&old)), sent)
    );
}

#[test]
fn the_created_id_is_read_from_the_answer() {
    let body = body_of(fixtures::base("AT-001"));
    let create = |answer: Value| {
        let mut fake = Fake::new(vec![resp(201, answer)]);
        fake.run(&op(
            OperationKind::Create,
            None,
            StockStatus::InStock,
            Some(&body),
            None,
        ))
    };
    // The full created item: metadata.stockId, trimmed, first.
    let mut item = parse(&body);
    item["metadata"]["stockId"] = json!(" m1 ");
    item["stockId"] = json!("s1");
    assert_eq!(create(item.clone()).unwrap(), "m1");
    // Blank or not a string: the top-level stockId.
    for blank in [json!("  "), json!(12), json!(null), json!({"id": "x"})] {
        item["metadata"]["stockId"] = blank;
        assert_eq!(create(item.clone()).unwrap(), "s1");
    }
    item["stockId"] = json!("");
    assert_eq!(
        create(item.clone()).unwrap_err().class,
        ErrorClass::Transient
    );
    assert_eq!(
        create(json!({"metadata": "m1", "stockId": " s2"})).unwrap(),
        "s2"
    );
}

#[test]
fn a_create_answer_without_an_id_is_retried() {
    let body = body_of(fixtures::base("AT-001"));
    let mut fake = Fake::new(vec![resp(201, json!({}))]);
    let e = fake
        .run(&op(
            OperationKind::Create,
            None,
            StockStatus::InStock,
            Some(&body),
            None,
        ))
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient);
    let mut fake = Fake::new(vec![resp(409, json!({"error": "duplicate"}))]);
    let e = fake
        .run(&op(
            OperationKind::Create,
            None,
            StockStatus::InStock,
            Some(&body),
            None,
        ))
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
}

#[test]
fn a_create_without_a_listing_is_permanent() {
    let mut fake = Fake::new(vec![]);
    let e = fake
        .run(&op(
            OperationKind::Create,
            None,
            StockStatus::InStock,
            None,
            None,
        ))
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    let e = fake
        .run(&op(
            OperationKind::Create,
            None,
            StockStatus::InStock,
            Some("[1]"),
            None,
        ))
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(fake.calls.is_empty());
}

// ----- update -----

fn plan_patch(op: &Operation) -> Option<Value> {
    match publish::plan(&config(), op) {
        Step::Send(call) => {
            assert_eq!(call.method, Method::Patch);
            assert_eq!(call.path, patch_path(REMOTE));
            call.body
        }
        Step::Done(outcome) => {
            assert_eq!(outcome.unwrap(), REMOTE);
            None
        }
    }
}

#[test]
fn an_update_patches_only_what_changed() {
    let old = body_of(fixtures::base("AT-001"));
    let new = body_of(Vehicle {
        price: fixtures::gbp(1_249_500),
        ..fixtures::base("AT-001")
    });
    let patch = plan_patch(&op(
        OperationKind::Update,
        Some(REMOTE),
        StockStatus::InStock,
        Some(&new),
        Some(&old),
    ));
    assert_eq!(
        patch.unwrap(),
        json!({"adverts": {"retailAdverts": {
            "suppliedPrice": {"amountGBP": 12495},
            "forecourtPrice": {"amountGBP": 12495}
        }}})
    );
}

#[test]
fn images_and_features_are_sent_whole_and_in_order() {
    let base = fixtures::base("AT-001");
    let old = body_of(base.clone());
    let mut images = base.images.clone();
    images.swap(0, 2);
    let new = body_of(Vehicle {
        images,
        features: vec!["Apple CarPlay".into(), "Heated seats".into()],
        ..base
    });
    let patch = plan_patch(&op(
        OperationKind::Update,
        Some(REMOTE),
        StockStatus::InStock,
        Some(&new),
        Some(&old),
    ))
    .unwrap();
    assert_eq!(
        patch["media"]["images"],
        json!([
            {"href": "https://img.dealer.example/stock/003.jpg"},
            {"href": "https://img.dealer.example/stock/002.jpg"},
            {"href": "https://img.dealer.example/stock/001.jpg"}
        ])
    );
    assert_eq!(
        patch["features"],
        json!([{"name": "Apple CarPlay"}, {"name": "Heated seats"}])
    );
    // The attention grabber follows the first feature.
    assert_eq!(
        patch["adverts"],
        json!({"retailAdverts": {"attentionGrabber": "Apple CarPlay, Heated seats"}})
    );
    assert!(patch.get("vehicle").is_none() && patch.get("metadata").is_none());
}

#[test]
fn a_removed_field_is_sent_as_null() {
    let old = body_of(fixtures::base("AT-001"));
    let new = body_of(Vehicle {
        colour: None,
        trim: None,
        ..fixtures::base("AT-001")
    });
    let patch = plan_patch(&op(
        OperationKind::Update,
        Some(REMOTE),
        StockStatus::InStock,
        Some(&new),
        Some(&old),
    ));
    assert_eq!(
        patch.unwrap(),
        json!({"vehicle": {"colour": null, "trim": null}})
    );
}

#[test]
fn an_unchanged_update_sends_nothing() {
    let body = body_of(fixtures::base("AT-001"));
    let mut fake = Fake::new(vec![]);
    let outcome = fake.run(&op(
        OperationKind::Update,
        Some(REMOTE),
        StockStatus::InStock,
        Some(&body),
        Some(&body),
    ));
    assert_eq!(outcome.unwrap(), REMOTE);
    assert!(fake.calls.is_empty());
}

#[test]
fn an_update_without_previous_sends_the_whole_listing() {
    let body = body_of(fixtures::base("AT-001"));
    let patch = plan_patch(&op(
        OperationKind::Update,
        Some(REMOTE),
        StockStatus::InStock,
        Some(&body),
        None,
    ));
    assert_eq!(patch.unwrap(), parse(&body));
    // An unreadable previous body counts as none.
    let patch = plan_patch(&op(
        OperationKind::Update,
        Some(REMOTE),
        StockStatus::InStock,
        Some(&body),
        Some("not json"),
    ));
    assert_eq!(patch.unwrap(), parse(&body));
}

#[test]
fn an_update_without_remote_id_creates() {
    let body = body_of(fixtures::base("AT-001"));
    for kind in [
        OperationKind::Update,
        OperationKind::Reserve,
        OperationKind::Unreserve,
    ] {
        let Step::Send(call) = publish::plan(
            &config(),
            &op(kind, None, StockStatus::InStock, Some(&body), Some(&body)),
        ) else {
            panic!("{kind:?} sends nothing");
        };
        assert_eq!(call.method, Method::Post, "{kind:?}");
        assert_eq!(call.path, format!("/stock?advertiserId={ADVERTISER}"));
    }
    // Through the 409, the existing item is found.
    let mut fake = Fake::new(vec![
        resp(409, json!({"stockId": REMOTE})),
        resp(200, json!({})),
    ]);
    let outcome = fake.run(&op(
        OperationKind::Update,
        Some(" "),
        StockStatus::InStock,
        Some(&body),
        None,
    ));
    assert_eq!(outcome.unwrap(), REMOTE);
}

#[test]
fn an_update_of_an_unknown_item_is_permanent() {
    let old = body_of(fixtures::base("AT-001"));
    let new = body_of(Vehicle {
        price: fixtures::gbp(1_000_000),
        ..fixtures::base("AT-001")
    });
    let mut fake = Fake::new(vec![resp(404, json!({"error": "stock item not found"}))]);
    let e = fake
        .run(&op(
            OperationKind::Update,
            Some(REMOTE),
            StockStatus::InStock,
            Some(&new),
            Some(&old),
        ))
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.starts_with("stock item not found on Auto Trader"),
        "{}",
        e.message
    );
    assert!(e.message.contains("5f1c0e2a9b7d4c31-LHR"), "{}", e.message);
}

// ----- reserve / unreserve -----

#[test]
fn reserve_sets_the_flag_plus_what_changed() {
    let old = body_of(fixtures::base("AT-001"));
    let new = body_of(Vehicle {
        status: StockStatus::Reserved,
        price: fixtures::gbp(1_200_000),
        ..fixtures::base("AT-001")
    });
    let patch = plan_patch(&op(
        OperationKind::Reserve,
        Some(REMOTE),
        StockStatus::Reserved,
        Some(&new),
        Some(&old),
    ));
    assert_eq!(
        patch.unwrap(),
        json!({"adverts": {
            "reservationStatus": "Reserved",
            "retailAdverts": {
                "suppliedPrice": {"amountGBP": 12000},
                "forecourtPrice": {"amountGBP": 12000}
            }
        }})
    );
    // Even when the listings agree, the flag is sent.
    let patch = plan_patch(&op(
        OperationKind::Reserve,
        Some(REMOTE),
        StockStatus::Reserved,
        Some(&old),
        Some(&old),
    ));
    assert_eq!(
        patch.unwrap(),
        json!({"adverts": {"reservationStatus": "Reserved"}})
    );
}

#[test]
fn unreserve_clears_the_flag() {
    let old = body_of(Vehicle {
        status: StockStatus::Reserved,
        ..fixtures::base("AT-001")
    });
    let new = body_of(fixtures::base("AT-001"));
    let patch = plan_patch(&op(
        OperationKind::Unreserve,
        Some(REMOTE),
        StockStatus::InStock,
        Some(&new),
        Some(&old),
    ));
    assert_eq!(
        patch.unwrap(),
        json!({"adverts": {"reservationStatus": null}})
    );
}

// ----- remove -----

fn unpublished_everywhere() -> Value {
    LOCATIONS
        .iter()
        .map(|l| (l.to_string(), json!({"status": "NOT_PUBLISHED"})))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[test]
fn sold_is_one_patch_with_every_location_unpublished() {
    let mut fake = Fake::new(vec![resp(200, json!({}))]);
    let outcome = fake.run(&op(
        OperationKind::Remove,
        Some(REMOTE),
        StockStatus::Sold,
        None,
        None,
    ));
    assert_eq!(outcome.unwrap(), REMOTE);
    assert_eq!(fake.calls.len(), 1);
    let call = &fake.calls[0];
    assert_eq!(call.method, Method::Patch);
    assert_eq!(call.path, patch_path(REMOTE));
    assert_eq!(
        call.body.as_ref().unwrap(),
        &json!({
            "metadata": {"lifecycleState": "SOLD"},
            "adverts": {"retailAdverts": unpublished_everywhere()}
        })
    );
}

#[test]
fn withdrawn_or_gone_goes_to_the_wastebin() {
    for status in [
        StockStatus::Withdrawn,
        StockStatus::InStock,
        StockStatus::DueIn,
    ] {
        let Step::Send(call) = publish::plan(
            &config(),
            &op(OperationKind::Remove, Some(REMOTE), status, None, None),
        ) else {
            panic!("nothing sent");
        };
        assert_eq!(
            call.body.unwrap(),
            json!({
                "metadata": {"lifecycleState": "WASTEBIN"},
                "adverts": {"retailAdverts": unpublished_everywhere()}
            })
        );
    }
}

#[test]
fn removing_what_is_already_gone_succeeds() {
    let mut fake = Fake::new(vec![resp(404, json!({"error": "stock item not found"}))]);
    let outcome = fake.run(&op(
        OperationKind::Remove,
        Some(REMOTE),
        StockStatus::Withdrawn,
        None,
        None,
    ));
    assert_eq!(outcome.unwrap(), REMOTE);
}

#[test]
fn a_remove_without_remote_id_is_permanent() {
    let mut fake = Fake::new(vec![]);
    let e = fake
        .run(&op(
            OperationKind::Remove,
            None,
            StockStatus::Sold,
            None,
            None,
        ))
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("remote-id"));
    assert!(fake.calls.is_empty());
}

// ----- error mapping -----

#[test]
fn statuses_map_to_error_classes() {
    let class = |r: Response| publish::error(&r, "update").class;
    assert_eq!(
        class(resp(401, json!({"error": "token expired"}))),
        ErrorClass::Auth
    );
    assert_eq!(
        class(resp(403, json!({"error": "advertiser"}))),
        ErrorClass::Auth
    );
    assert_eq!(class(resp(500, Value::Null)), ErrorClass::Transient);
    assert_eq!(class(resp(502, Value::Null)), ErrorClass::Transient);
    assert_eq!(
        class(resp(503, json!({"error": "down"}))),
        ErrorClass::Transient
    );
    assert_eq!(class(resp(404, Value::Null)), ErrorClass::Permanent);
    assert_eq!(
        class(resp(409, json!({"error": "dup"}))),
        ErrorClass::Permanent
    );
    assert_eq!(class(resp(400, Value::Null)), ErrorClass::Validation);

    let e = publish::error(
        &with_header(resp(429, json!({})), "Retry-After", "7"),
        "create",
    );
    assert_eq!(e.class, ErrorClass::RateLimited);
    assert_eq!(e.retry_after_ms, Some(7000));
    let e = publish::error(&resp(429, json!({})), "create");
    assert_eq!(e.retry_after_ms, Some(publish::DEFAULT_RETRY_AFTER_MS));
    let e = publish::error(
        &with_header(
            resp(429, json!({})),
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT",
        ),
        "create",
    );
    assert_eq!(e.retry_after_ms, Some(1000));
}

#[test]
fn field_errors_name_the_field_and_list_every_warning() {
    for status in [400, 422] {
        let r = resp(
            status,
            json!({
                "error": "invalid: vehicle.colour, media.images",
                "warnings": [
                    {"type": "ERROR", "feature": "vehicle.colour", "message": "this field is not accepted"},
                    {"type": "ERROR", "feature": "media.images", "message": "at most 100 allowed, got 101"}
                ]
            }),
        );
        let e = publish::error(&r, "create");
        assert_eq!(e.class, ErrorClass::Validation);
        assert_eq!(e.field.as_deref(), Some("vehicle.colour"));
        assert!(
            e.message.contains("vehicle.colour: this field is not accepted; media.images: at most 100 allowed, got 101"),
            "{}",
            e.message
        );
    }
}

#[test]
fn transport_errors_pass_through_as_they_are() {
    let body = body_of(fixtures::base("AT-001"));
    let mut fake = Fake {
        answers: VecDeque::from([Err(PluginError::transient("connection timed out"))]),
        calls: vec![],
    };
    let e = fake
        .run(&op(
            OperationKind::Create,
            None,
            StockStatus::InStock,
            Some(&body),
            None,
        ))
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient);
    assert_eq!(e.message, "connection timed out");
}

// ----- batches -----

fn batch_ops() -> Vec<Operation> {
    let body = body_of(fixtures::base("AT-001"));
    (0..4)
        .map(|i| Operation {
            idempotency_key: format!("fc-{i}"),
            stock_id: format!("AT-00{i}"),
            ..op(
                OperationKind::Create,
                None,
                StockStatus::InStock,
                Some(&body),
                None,
            )
        })
        .collect()
}

#[test]
fn one_failure_does_not_stop_the_batch() {
    let mut fake = Fake::new(vec![
        created("a"),
        resp(
            400,
            json!({"warnings": [{"feature": "vehicle.make", "message": "must be a non-empty string"}]}),
        ),
        resp(503, json!({})),
        created("d"),
    ]);
    let results = publish::run_batch(&config(), &batch_ops(), &mut |c| fake.send(c));
    assert_eq!(fake.calls.len(), 4);
    let keys: Vec<&str> = results.iter().map(|r| r.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["fc-0", "fc-1", "fc-2", "fc-3"]);
    assert_eq!(results[0].outcome.as_deref().unwrap(), "a");
    assert_eq!(
        results[1].outcome.as_ref().unwrap_err().class,
        ErrorClass::Validation
    );
    assert_eq!(
        results[2].outcome.as_ref().unwrap_err().class,
        ErrorClass::Transient
    );
    assert_eq!(results[3].outcome.as_deref().unwrap(), "d");
}

#[test]
fn auth_and_rate_limits_stop_the_rest_of_the_batch() {
    for (answer, class) in [
        (
            resp(401, json!({"error": "invalid credentials"})),
            ErrorClass::Auth,
        ),
        (
            with_header(resp(429, json!({})), "Retry-After", "2"),
            ErrorClass::RateLimited,
        ),
    ] {
        let mut fake = Fake::new(vec![created("a"), answer]);
        let results = publish::run_batch(&config(), &batch_ops(), &mut |c| fake.send(c));
        assert_eq!(fake.calls.len(), 2, "nothing is sent after {class:?}");
        assert_eq!(results.len(), 4);
        assert!(results[0].outcome.is_ok());
        for r in &results[1..] {
            let e = r.outcome.as_ref().unwrap_err();
            assert_eq!(e.class, class);
            if class == ErrorClass::RateLimited {
                assert_eq!(e.retry_after_ms, Some(2000));
            }
        }
        assert!(results[3]
            .outcome
            .as_ref()
            .unwrap_err()
            .message
            .starts_with("not sent"));
    }
}

// ----- list-published -----

fn item(
    id: &str,
    reference: Option<&str>,
    lifecycle: &str,
    reserved: bool,
    published: bool,
) -> Value {
    let status = if published {
        "PUBLISHED"
    } else {
        "NOT_PUBLISHED"
    };
    let mut metadata = json!({"stockId": id, "lifecycleState": lifecycle});
    if let Some(r) = reference {
        metadata["externalStockReference"] = json!(r);
    }
    json!({
        "metadata": metadata,
        "adverts": {
            "reservationStatus": if reserved { json!("Reserved") } else { Value::Null },
            "retailAdverts": {"autotraderAdvert": {"status": status}, "profileAdvert": {"status": "NOT_PUBLISHED"}}
        }
    })
}

#[test]
fn list_published_reads_pages_and_states() {
    let config = Config::parse(r#"{"advertiser_id":"10008899","page_size":5}"#).unwrap();
    assert_eq!(publish::page_of(None).unwrap(), 1);
    assert_eq!(publish::page_of(Some("3")).unwrap(), 3);
    for bad in ["0", "x", "-1"] {
        assert_eq!(
            publish::page_of(Some(bad)).unwrap_err().class,
            ErrorClass::Permanent
        );
    }
    let call = publish::list_call(&config, 2);
    assert_eq!(call.method, Method::Get);
    assert_eq!(call.path, "/stock?advertiserId=10008899&page=2&pageSize=5");
    assert!(call.body.is_none() && call.idempotency_key.is_none());

    let results = vec![
        item("s1", Some("A1"), "FORECOURT", false, true),
        item("s2", Some("A2"), "FORECOURT", true, true),
        item("s3", Some("A3"), "SOLD", false, false),
        item("s4", Some("A4"), "WASTEBIN", false, false),
        item("s5", None, "FORECOURT", false, true),
    ];
    let page = publish::published_page(
        &config,
        1,
        &resp(200, json!({"results": results, "totalResults": 7})),
    )
    .unwrap();
    let got: Vec<(&str, &str, PublishedState)> = page
        .items
        .iter()
        .map(|i| (i.remote_id.as_str(), i.stock_id.as_str(), i.state))
        .collect();
    assert_eq!(
        got,
        [
            ("s1", "A1", PublishedState::Live),
            ("s2", "A2", PublishedState::Reserved),
            ("s3", "A3", PublishedState::Sold),
            ("s4", "A4", PublishedState::Removed),
        ]
    );
    assert_eq!(parse(page.items[0].body.as_deref().unwrap()), results[0]);
    assert_eq!(page.next_cursor.as_deref(), Some("2"));

    let last = publish::published_page(
        &config,
        2,
        &resp(
            200,
            json!({"results": [item("s6", Some("A6"), "DUE_IN", false, false)], "totalResults": 6}),
        ),
    )
    .unwrap();
    assert_eq!(last.items[0].state, PublishedState::Removed);
    assert_eq!(last.next_cursor, None);

    let e = publish::published_page(&config, 1, &resp(401, json!({}))).unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth);
    let e = publish::published_page(&config, 1, &resp(200, json!({"items": []}))).unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
}

#[test]
fn published_state_rules() {
    let state = |v: Value| publish::published_state(&v);
    assert_eq!(
        state(item("x", Some("r"), "DELETED", false, true)),
        PublishedState::Removed
    );
    assert_eq!(
        state(item("x", Some("r"), "SOLD", true, false)),
        PublishedState::Sold
    );
    assert_eq!(
        state(item("x", Some("r"), "DUE_IN", false, true)),
        PublishedState::Live
    );
    assert_eq!(
        state(item("x", Some("r"), "SALE_IN_PROGRESS", false, true)),
        PublishedState::Live
    );
    assert_eq!(state(json!({})), PublishedState::Removed);
}
