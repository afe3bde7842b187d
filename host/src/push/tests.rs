//! The push listener over real HTTP on loopback, with a real inbox in a
//! SQLite file: what is refused and why, and that 202 means "on disk".

use super::signature::sign;
use super::*;
use crate::runtime::secrets::MemorySecrets;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HOST;
use hyper::{Method, Request, StatusCode};
use serde_json::Value;

const SECRET: &str = "whsec-test-3f9a";

struct Fixture {
    _dir: tempfile::TempDir,
    service: PushService,
}

async fn fixture(max_body: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("forecourt.db");
    crate::store::SqliteStore::open(&database).unwrap();
    let secrets = MemorySecrets::default();
    secrets.set("dms-webhook", "push_secret", SECRET);
    secrets.set("dms-webhook", "old_secret", "whsec-old");
    let route = |source: &str| PushRoute {
        source: source.into(),
        plugin: "dms-webhook".into(),
        secret: "push_secret".into(),
        previous_secret: Some("old_secret".into()),
        tolerance_secs: 300,
        max_body,
        listen: "127.0.0.1:0".parse().unwrap(),
    };
    let plan = PushPlan::new(
        vec![route("dms-push"), route("branch-2")],
        database,
        Arc::new(secrets),
    );
    Fixture {
        _dir: dir,
        service: plan.start().await.unwrap(),
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

async fn post(
    f: &Fixture,
    method: Method,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (StatusCode, Value) {
    let addr = f.service.addr("dms-push").unwrap();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, addr.to_string());
    for (k, v) in headers {
        request = request.header(*k, v.as_str());
    }
    let response = sender
        .send_request(
            request
                .body(Full::new(Bytes::copy_from_slice(body)))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn signed(f: &Fixture, body: &[u8], event: Option<&str>, at: i64) -> (StatusCode, Value) {
    let mut headers = vec![("x-forecourt-signature", sign(SECRET.as_bytes(), at, body))];
    if let Some(e) = event {
        headers.push(("x-forecourt-event-id", e.to_string()));
    }
    post(f, Method::POST, "/push/dms-push", &headers, body).await
}

#[tokio::test]
async fn a_signed_push_is_on_disk_when_202_arrives() {
    let f = fixture(1024).await;
    let body = br#"{"id":"evt_1","type":"vehicle.deleted","stock_id":"A1"}"#;
    let (status, answer) = signed(&f, body, Some("evt_1"), now()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["status"], "accepted");
    // Read through a connection of our own: the row is committed.
    let db = rusqlite::Connection::open(f._dir.path().join("forecourt.db")).unwrap();
    let (state, stored, headers): (String, Vec<u8>, String) = db
        .query_row(
            "SELECT state, body, headers FROM push_inbox WHERE id = ?1",
            [answer["id"].as_i64().unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((state.as_str(), stored.as_slice()), ("pending", &body[..]));
    // The plugin gets the event id, never the signature.
    assert!(headers.contains("evt_1") && !headers.contains("x-forecourt-signature"));
}

#[tokio::test]
async fn forged_stale_and_replayed_pushes_are_refused_and_not_stored() {
    let f = fixture(1024).await;
    let body = br#"{"id":"evt_2","type":"ping"}"#;
    let check = |(status, answer): (StatusCode, Value), want: StatusCode, code: &str| {
        assert_eq!(status, want, "{answer}");
        assert_eq!(answer["error"], code, "{answer}");
        assert!(!answer["message"].as_str().unwrap().is_empty());
    };
    let forged = vec![("x-forecourt-signature", sign(b"guessed", now(), body))];
    check(
        post(&f, Method::POST, "/push/dms-push", &forged, body).await,
        StatusCode::UNAUTHORIZED,
        "bad_signature",
    );
    check(
        signed(&f, body, None, now() - 301).await,
        StatusCode::UNAUTHORIZED,
        "stale_timestamp",
    );
    check(
        signed(&f, body, None, now() + 3600).await,
        StatusCode::UNAUTHORIZED,
        "stale_timestamp",
    );
    check(
        post(&f, Method::POST, "/push/dms-push", &[], body).await,
        StatusCode::BAD_REQUEST,
        "missing_signature",
    );
    let garbled = vec![("x-forecourt-signature", "sha256=abc".to_string())];
    check(
        post(&f, Method::POST, "/push/dms-push", &garbled, body).await,
        StatusCode::BAD_REQUEST,
        "malformed_signature",
    );
    assert!(f.service.inbox().rows(10).unwrap().is_empty());

    // The same request twice: the second is a replay.
    let at = now();
    let headers = vec![("x-forecourt-signature", sign(SECRET.as_bytes(), at, body))];
    let first = post(&f, Method::POST, "/push/dms-push", &headers, body).await;
    assert_eq!(first.0, StatusCode::ACCEPTED);
    check(
        post(&f, Method::POST, "/push/dms-push", &headers, body).await,
        StatusCode::CONFLICT,
        "replay",
    );
    // The same event id re-signed later: a replay too.
    let (status, _) = signed(&f, b"{\"v\":1}", Some("evt_9"), now()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    check(
        signed(&f, b"{\"v\":2}", Some("evt_9"), now() + 1).await,
        StatusCode::CONFLICT,
        "replay",
    );
    assert_eq!(f.service.inbox().rows(10).unwrap().len(), 2);
}

#[tokio::test]
async fn routes_methods_sizes_and_rotated_secrets() {
    let f = fixture(64).await;
    let small = b"{}";
    let headers = vec![(
        "x-forecourt-signature",
        sign(SECRET.as_bytes(), now(), small),
    )];
    let (status, answer) = post(&f, Method::POST, "/push/nowhere", &headers, small).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_source"))
    );
    let (status, _) = post(&f, Method::POST, "/webhooks", &headers, small).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, answer) = post(&f, Method::GET, "/push/dms-push", &[], b"").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
    let big = vec![b'x'; 65];
    let big_headers = vec![(
        "x-forecourt-signature",
        sign(SECRET.as_bytes(), now(), &big),
    )];
    let (status, answer) = post(&f, Method::POST, "/push/dms-push", &big_headers, &big).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
    );
    let bad_id = vec![
        (
            "x-forecourt-signature",
            sign(SECRET.as_bytes(), now(), small),
        ),
        ("x-forecourt-event-id", "x".repeat(201)),
    ];
    let (status, answer) = post(&f, Method::POST, "/push/dms-push", &bad_id, small).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_event_id"))
    );
    // Signed with the previous secret, during rotation: accepted.
    let old = vec![("x-forecourt-signature", sign(b"whsec-old", now(), small))];
    let (status, _) = post(&f, Method::POST, "/push/branch-2", &old, small).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let rows = f.service.inbox().rows(10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].source, "branch-2");
}
