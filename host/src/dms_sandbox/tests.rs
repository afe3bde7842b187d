//! The local DMS over real HTTP, as the dms-rest plugin sees it.

use super::*;
use http_body_util::{BodyExt, Full};
use hyper::header::HOST;
use hyper::{Method, Request, StatusCode};
use serde_json::{json, Value};

async fn call(
    dms: &DmsSandbox,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, Value, hyper::HeaderMap) {
    let stream = tokio::net::TcpStream::connect(dms.addr()).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, dms.addr().to_string());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = sender
        .send_request(
            request
                .body(Full::new(bytes::Bytes::from(body.to_string())))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap(), headers)
}

const KEY: (&str, &str) = ("x-api-key", "dms-sandbox-key");

async fn get(dms: &DmsSandbox, path: &str) -> (StatusCode, Value) {
    let (s, v, _) = call(dms, Method::GET, path, &[KEY], "").await;
    (s, v)
}

fn ids(page: &Value) -> Vec<String> {
    page["vehicles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn requires_the_key_in_either_header() {
    let dms = DmsSandbox::start(DmsConfig::default()).await.unwrap();
    let (status, body, _) = call(&dms, Method::GET, "/api/v1/vehicles", &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("missing"));
    let (status, _, _) = call(
        &dms,
        Method::GET,
        "/api/v1/vehicles",
        &[("x-api-key", "nope")],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bearer = ("authorization", "Bearer dms-sandbox-key");
    let (status, _, _) = call(&dms, Method::GET, "/api/v1/vehicles", &[bearer], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(get(&dms, "/api/v1/vehicles").await.0, StatusCode::OK);
    let stats = dms.stats();
    assert_eq!(stats.unauthorised, 2);
    assert_eq!(stats.auth_schemes.get("bearer"), Some(&1));
    assert_eq!(stats.auth_schemes.get("x-api-key"), Some(&1));
}

#[tokio::test]
async fn pages_and_cursors_walk_equal_timestamps_without_gaps() {
    let dms = DmsSandbox::start(DmsConfig::default()).await.unwrap();
    let at: jiff::Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
    dms.freeze_clock(Some(at));
    for v in crate::sample::sample_stock(5, 1) {
        dms.upsert(&v);
    }
    dms.freeze_clock(None);
    let (_, p1) = get(&dms, "/api/v1/vehicles?per_page=2").await;
    assert_eq!(p1["has_more"], true);
    let (_, p2) = get(
        &dms,
        &format!(
            "/api/v1/vehicles?per_page=2&cursor={}",
            p1["next_cursor"].as_str().unwrap()
        ),
    )
    .await;
    let (_, p3) = get(
        &dms,
        &format!(
            "/api/v1/vehicles?per_page=2&cursor={}",
            p2["next_cursor"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(p3["has_more"], false);
    assert!(p3["next_cursor"].is_null());
    let walked: Vec<String> = [ids(&p1), ids(&p2), ids(&p3)].concat();
    let (_, all) = get(&dms, "/api/v1/vehicles").await;
    assert_eq!(walked, ids(&all));
    assert_eq!(walked.len(), 5);
    // Page numbers under the same filter give the same order.
    let (_, page2) = get(
        &dms,
        "/api/v1/vehicles?updated_since=2024-05-01T10:00:00Z&page=2&per_page=2",
    )
    .await;
    assert_eq!(ids(&page2), ids(&p2));
    assert_eq!(page2["total"], 5);
}

#[tokio::test]
async fn changes_move_vehicles_to_the_end_and_deletes_leave_tombstones() {
    let dms = DmsSandbox::start(DmsConfig::default()).await.unwrap();
    let stock = crate::sample::sample_stock(3, 2);
    for v in &stock {
        dms.upsert(v);
    }
    let (_, before) = get(&dms, "/api/v1/vehicles").await;
    let newest = before["vehicles"][2]["updated_at"]
        .as_str()
        .unwrap()
        .to_string();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(dms.set_price(&stock[0].stock_id, 1_234_500));
    assert!(dms.delete(&stock[1].stock_id));
    assert!(!dms.sell("no-such-car"));
    let (_, changed) = get(&dms, &format!("/api/v1/vehicles?updated_since={newest}")).await;
    let got = ids(&changed);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        &got[1..],
        [stock[0].stock_id.clone(), stock[1].stock_id.clone()]
    );
    assert_eq!(changed["vehicles"][1]["price"]["amount"], json!(12345.0));
    assert_eq!(changed["vehicles"][2]["deleted"], true);
    assert_eq!(dms.live_count(), 2);
}

#[tokio::test]
async fn faults_come_in_order_then_by_rate() {
    let dms = DmsSandbox::start(DmsConfig::default()).await.unwrap();
    dms.inject([
        DmsFault::Pass,
        DmsFault::Status(503),
        DmsFault::RateLimited {
            retry_after_secs: 7,
        },
    ]);
    assert_eq!(get(&dms, "/api/v1/vehicles").await.0, StatusCode::OK);
    assert_eq!(
        get(&dms, "/api/v1/vehicles").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (status, _, headers) = call(&dms, Method::GET, "/api/v1/vehicles", &[KEY], "").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers.get("retry-after").unwrap(), "7");
    assert_eq!(get(&dms, "/api/v1/vehicles").await.0, StatusCode::OK);
    let (status, _, _) = call(
        &dms,
        Method::PUT,
        "/_dms/faults",
        &[],
        r#"{"error_rate": 1.0}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        get(&dms, "/api/v1/vehicles").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (status, body, _) = call(
        &dms,
        Method::PUT,
        "/_dms/faults",
        &[],
        r#"{"error_rate": 2}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("error_rate"));
    assert_eq!(dms.stats().faults_served, 3);
}

#[tokio::test]
async fn control_endpoints_change_stock_and_bad_queries_are_named() {
    let dms = DmsSandbox::start(DmsConfig::default()).await.unwrap();
    let (status, _, _) = call(
        &dms,
        Method::PUT,
        "/_dms/vehicles/X1",
        &[],
        r#"{"make": "Ford", "status": "In Stock"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&dms, Method::POST, "/_dms/vehicles/X1/sold", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dms.record("X1").unwrap()["status"], "Sold");
    let (status, _, _) = call(&dms, Method::DELETE, "/_dms/vehicles/X1", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dms.record("X1").unwrap()["deleted"], true);
    let (status, body) = get(&dms, "/api/v1/vehicles?updated_since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("updated_since"));
    assert_eq!(
        get(&dms, "/api/v1/vehicles?per_page=0").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&dms, "/api/v1/vehicles?cursor=zzz").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(dms.stats().list_queries.len(), 3);
}
