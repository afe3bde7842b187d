//! fetch-enquiries as pure logic: the request each cursor sends, and what
//! answers mean (pages, cursors, errors, times), without a network.

use forecourt_plugin_autotrader::config::Config;
use forecourt_plugin_autotrader::enquiries::{enquiries_call, enquiry_page, rfc3339_ms};
use forecourt_plugin_autotrader::publish::Method;
use forecourt_sdk::http::Response;
use forecourt_sdk::ErrorClass;
use serde_json::{json, Value};

fn config() -> Config {
    Config::parse(
        r#"{"base_url":"http://127.0.0.1:8700","advertiser_id":"10008899","page_size":25}"#,
    )
    .unwrap()
}

fn resp(status: u16, body: Value) -> Response {
    Response {
        status,
        headers: vec![("x-request-id".into(), "abc-LHR".into())],
        body: body.to_string().into_bytes(),
    }
}

fn item(id: &str, reference: Option<&str>) -> Value {
    json!({
        "enquiryId": id, "sequence": 1, "createdAt": "2026-11-28T10:15:00Z", "advertiserId": "10008899",
        "type": "EMAIL",
        "stock": {"stockId": "f00d", "externalStockReference": reference},
        "buyer": {"name": "Sam Buyer", "email": "sam@example.com", "phone": "07700 900123", "postcode": "SK1 1AA"},
        "message": "Is it still for sale?"
    })
}

#[test]
fn requests_carry_the_cursor() {
    let c = enquiries_call(&config(), None).unwrap();
    assert_eq!(c.method, Method::Get);
    assert_eq!(c.path, "/enquiries?advertiserId=10008899&pageSize=25");
    assert!(c.body.is_none() && c.idempotency_key.is_none());
    let c = enquiries_call(&config(), Some("42")).unwrap();
    assert_eq!(
        c.path,
        "/enquiries?advertiserId=10008899&pageSize=25&after=42"
    );
    for bad in ["x", "-1", "1 OR 1=1", "123456789012345678901"] {
        let e = enquiries_call(&config(), Some(bad)).unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent, "{bad}");
    }
}

#[test]
fn a_page_maps_to_enquiries_and_the_next_cursor() {
    let page = enquiry_page(
        &resp(200, json!({"results": [item("ENQ-1", Some("STK-1")), item("ENQ-2", None)], "cursor": "7", "hasMore": false})),
        Some("5"),
    )
    .unwrap();
    assert_eq!(page.next_cursor.as_deref(), Some("7"));
    assert_eq!(page.enquiries.len(), 2);
    let e = &page.enquiries[0];
    assert_eq!(e.id, "ENQ-1");
    assert_eq!(e.stock_id.as_deref(), Some("STK-1"));
    assert_eq!(e.remote_id.as_deref(), Some("f00d"));
    assert_eq!(e.received_at_ms, 1_795_860_900_000);
    assert_eq!(e.customer.name.as_deref(), Some("Sam Buyer"));
    assert_eq!(e.customer.address.as_deref(), Some("SK1 1AA"));
    assert_eq!(e.message.as_deref(), Some("Is it still for sale?"));
    assert_eq!(page.enquiries[1].stock_id, None);
    // An empty page keeps the cursor it was asked with.
    let page = enquiry_page(&resp(200, json!({"results": []})), Some("7")).unwrap();
    assert!(page.enquiries.is_empty());
    assert_eq!(page.next_cursor.as_deref(), Some("7"));
}

#[test]
fn errors_have_classes_and_name_no_buyer() {
    let e = enquiry_page(&resp(429, json!({"error": "slow"})), None).unwrap_err();
    assert_eq!(e.class, ErrorClass::RateLimited);
    let e = enquiry_page(&resp(503, json!({"error": "down"})), None).unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient);
    let e = enquiry_page(&resp(401, json!({"error": "bad token"})), None).unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth);
    let e = enquiry_page(&resp(404, json!({"error": "no"})), None).unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("abc-LHR"), "{}", e.message);
    let mut bad = item("ENQ-1", None);
    bad["createdAt"] = json!("last tuesday");
    let e = enquiry_page(&resp(200, json!({"results": [bad]})), None).unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(
        e.message.contains("enquiry 0") && !e.message.contains("sam@"),
        "{}",
        e.message
    );
    let e = enquiry_page(&resp(200, json!({"items": []})), None).unwrap_err();
    assert!(e.message.contains("results"), "{}", e.message);
}

#[test]
fn rfc3339_times() {
    assert_eq!(rfc3339_ms("2026-11-28T10:15:00Z"), Some(1_795_860_900_000));
    assert_eq!(
        rfc3339_ms("2026-11-28T10:15:00.5+01:00"),
        Some(1_795_857_300_500)
    );
    assert_eq!(
        rfc3339_ms("2024-02-29T23:59:59.123Z"),
        Some(1_709_251_199_123)
    );
    assert_eq!(
        rfc3339_ms("1999-12-31T23:00:00-05:30"),
        Some(946_701_000_000)
    );
    for bad in [
        "",
        "2026-11-28",
        "2026-13-01T00:00:00Z",
        "2026-11-28T10:15:00",
        "2026-11-28T10:15:00+0100",
        "2026-11-28T10:15:00.Z",
    ] {
        assert_eq!(rfc3339_ms(bad), None, "{bad}");
    }
}
