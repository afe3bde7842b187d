//! The sandbox over real HTTP, as a platform plugin would see it.

use super::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, HOST, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{Method, Request, StatusCode};
use serde_json::{json, Value};

const ADVERTISER: &str = "10008899";

/// One answer: status, headers, JSON body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

/// A minimal client: one connection per request, optional bearer token.
struct Client {
    addr: SocketAddr,
    token: Option<String>,
}

impl Client {
    fn new(sandbox: &Sandbox) -> Self {
        Client {
            addr: sandbox.addr(),
            token: None,
        }
    }

    async fn try_send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: String,
    ) -> anyhow::Result<Answer> {
        let stream = TcpStream::connect(self.addr).await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.addr.to_string())
            .header(CONTENT_TYPE, content_type);
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = sender
            .send_request(request.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await?.to_bytes();
        let body = serde_json::from_slice(&bytes)?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.try_send(method, path, "application/json", body)
            .await
            .expect("request failed")
    }

    async fn login(&mut self) {
        let answer = self
            .send(
                Method::POST,
                "/authenticate",
                Some(json!({"key": "sandbox-key", "secret": "sandbox-secret"})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        self.token = Some(answer.body["access_token"].as_str().unwrap().to_owned());
    }

    async fn create(&self, body: Value) -> Answer {
        self.send(
            Method::POST,
            &format!("/stock?advertiserId={ADVERTISER}"),
            Some(body),
        )
        .await
    }

    async fn patch(&self, stock_id: &str, body: Value) -> Answer {
        let path = format!("/stock/{stock_id}?advertiserId={ADVERTISER}");
        self.send(Method::PATCH, &path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }
}

fn vehicle(reference: &str) -> Value {
    json!({
        "vehicle": {"vehicleType": "Car", "make": "Ford", "model": "Focus", "registration": "AB12CDE", "odometerReadingMiles": 23000},
        "adverts": {
            "retailAdverts": {
                "suppliedPrice": {"amountGBP": 11995},
                "autotraderAdvert": {"status": "PUBLISHED"},
                "advertiserAdvert": {"status": "PUBLISHED"},
                "locatorAdvert": {"status": "NOT_PUBLISHED"}
            },
            "reservationStatus": null
        },
        "metadata": {"lifecycleState": "FORECOURT", "externalStockReference": reference},
        "features": [{"name": "Bluetooth"}],
        "media": {"images": [{"href": "https://img.example/1.jpg"}, {"href": "https://img.example/2.jpg"}]}
    })
}

fn warned(answer: &Answer) -> Vec<String> {
    answer.body["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .map(|w| w["feature"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn started(config: SandboxConfig) -> (Sandbox, Client) {
    let sandbox = Sandbox::start(config).await.unwrap();
    let mut client = Client::new(&sandbox);
    client.login().await;
    (sandbox, client)
}

async fn stock_id_of(client: &Client, reference: &str) -> String {
    let created = client.create(vehicle(reference)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["metadata"]["stockId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn authenticates_with_json_or_form_and_refuses_bad_credentials() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
    let client = Client::new(&sandbox);
    let form = client
        .try_send(
            Method::POST,
            "/authenticate",
            "application/x-www-form-urlencoded",
            "key=sandbox-key&secret=sandbox-secret".into(),
        )
        .await
        .unwrap();
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.body["access_token"].as_str().unwrap().len(), 40);
    let expires = form.body["expires_at"].as_str().unwrap();
    assert!(
        expires.len() == 20 && expires.ends_with('Z') && expires.as_bytes()[10] == b'T',
        "{expires}"
    );
    assert!(form.headers.contains_key("x-request-id"));

    let wrong = client
        .send(
            Method::POST,
            "/authenticate",
            Some(json!({"key": "sandbox-key", "secret": "guess"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, json!({"error": "invalid credentials"}));

    let stats = sandbox.stats();
    assert_eq!((stats.authenticate, stats.rejected), (2, 1));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn stock_calls_need_a_token_and_a_known_advertiser() {
    let (sandbox, mut client) = started(SandboxConfig::default()).await;
    let token = client.token.take();
    let anonymous = client
        .get("/stock?advertiserId=10008899&page=1&pageSize=10")
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    client.token = token;
    let missing = client.get("/stock?page=1&pageSize=10").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(warned(&missing), ["advertiserId"]);
    let unknown = client
        .get("/stock?advertiserId=999&page=1&pageSize=10")
        .await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);
    let nowhere = client.get("/nowhere").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert!(nowhere.body["error"].is_string());
    let wrong_method = client.send(Method::DELETE, "/stock/abc", None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(sandbox.stats().rejected, 3);
}

#[tokio::test]
async fn create_then_duplicate_create_is_409_with_the_existing_id() {
    let (sandbox, client) = started(SandboxConfig::default()).await;
    let created = client.create(vehicle("STK-1")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let metadata = &created.body["metadata"];
    let stock_id = metadata["stockId"].as_str().unwrap();
    assert!(stock_id.len() == 32 && stock_id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(metadata["versionNumber"], 1);
    assert_eq!(metadata["lifecycleState"], "FORECOURT");
    assert_eq!(metadata["externalStockReference"], "STK-1");
    assert!(metadata["searchId"].is_string() && metadata["dateOnForecourt"].is_string());

    let again = client.create(vehicle("STK-1")).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.body,
        json!({"error": "duplicate externalStockReference", "stockId": stock_id})
    );

    let stats = sandbox.stats();
    assert_eq!(stats.create, 2);
    assert_eq!(stats.creates_by_reference["STK-1"], 2);
    assert_eq!(sandbox.stock(ADVERTISER).len(), 1);
    let stored = sandbox.find_by_reference(ADVERTISER, "STK-1").unwrap();
    assert_eq!(stored["vehicle"]["make"], "Ford");
    let read = client
        .get(&format!("/stock/{stock_id}?advertiserId={ADVERTISER}"))
        .await;
    assert_eq!(read.body, stored);
}

#[tokio::test]
async fn invalid_create_names_every_failing_field() {
    let (sandbox, client) = started(SandboxConfig::default()).await;
    let mut body = vehicle("STK-2");
    body["vehicle"]["make"] = Value::Null;
    body["vehicle"]["odometerReadingMiles"] = json!(-5);
    body["adverts"]["retailAdverts"]["suppliedPrice"]["amountGBP"] = json!(0);
    body["metadata"]["lifecycleState"] = json!("FOR_SALE");
    body["media"]["images"] = json!((0..101)
        .map(|i| json!({"href": format!("https://img/{i}")}))
        .collect::<Vec<_>>());
    let answer = client.create(body).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        warned(&answer),
        [
            "vehicle.make",
            "vehicle.odometerReadingMiles",
            "adverts.retailAdverts.suppliedPrice.amountGBP",
            "metadata.lifecycleState",
            "media.images"
        ]
    );
    assert_eq!(answer.body["warnings"][0]["type"], "ERROR");
    let garbage = client
        .try_send(
            Method::POST,
            "/stock?advertiserId=10008899",
            "application/json",
            "{".into(),
        )
        .await
        .unwrap();
    assert_eq!(warned(&garbage), ["body"]);
    assert!(sandbox.stock(ADVERTISER).is_empty());
    assert_eq!(sandbox.stats().rejected, 2);
}

#[tokio::test]
async fn patch_deep_merges_replaces_lists_and_null_removes() {
    let (sandbox, client) = started(SandboxConfig::default()).await;
    let id = stock_id_of(&client, "STK-3").await;
    let reserved = client
        .patch(
            &id,
            json!({
                "adverts": {"retailAdverts": {"suppliedPrice": {"amountGBP": 10995}}, "reservationStatus": "Reserved"},
                "media": {"images": [{"href": "https://img.example/3.jpg"}]}
            }),
        )
        .await;
    assert_eq!(reserved.status, StatusCode::OK, "{}", reserved.body);
    let item = &reserved.body;
    assert_eq!(item["metadata"]["versionNumber"], 2);
    assert_eq!(
        item["adverts"]["retailAdverts"]["suppliedPrice"]["amountGBP"],
        10995
    );
    assert_eq!(
        item["adverts"]["retailAdverts"]["autotraderAdvert"]["status"],
        "PUBLISHED"
    );
    assert_eq!(item["adverts"]["reservationStatus"], "Reserved");
    assert_eq!(
        item["media"]["images"],
        json!([{"href": "https://img.example/3.jpg"}])
    );
    assert_eq!(item["vehicle"]["model"], "Focus");

    let unreserved = client
        .patch(&id, json!({"adverts": {"reservationStatus": null}}))
        .await;
    assert_eq!(unreserved.body["metadata"]["versionNumber"], 3);
    assert!(unreserved.body["adverts"]
        .get("reservationStatus")
        .is_none());

    let invalid = client.patch(&id, json!({"vehicle": {"model": ""}})).await;
    assert_eq!(warned(&invalid), ["vehicle.model"]);
    let unknown = client
        .patch("0123456789abcdef0123456789abcdef", json!({}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(sandbox.stock(ADVERTISER)[0]["metadata"]["versionNumber"], 3);
    assert_eq!(sandbox.stats().patch, 4);
}

#[tokio::test]
async fn sold_must_unpublish_every_location_in_the_same_request() {
    let (sandbox, client) = started(SandboxConfig::default()).await;
    let id = stock_id_of(&client, "STK-4").await;
    let sold_only = client
        .patch(&id, json!({"metadata": {"lifecycleState": "SOLD"}}))
        .await;
    assert_eq!(sold_only.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        warned(&sold_only),
        [
            "adverts.retailAdverts.autotraderAdvert.status",
            "adverts.retailAdverts.advertiserAdvert.status"
        ]
    );
    let unpublished = json!({"status": "NOT_PUBLISHED"});
    let sold = client
        .patch(
            &id,
            json!({
                "metadata": {"lifecycleState": "SOLD"},
                "adverts": {"retailAdverts": {"autotraderAdvert": unpublished, "advertiserAdvert": unpublished}}
            }),
        )
        .await;
    assert_eq!(sold.status, StatusCode::OK, "{}", sold.body);
    let stored = sandbox.find_by_reference(ADVERTISER, "STK-4").unwrap();
    assert_eq!(stored["metadata"]["lifecycleState"], "SOLD");
    assert_eq!(stored["metadata"]["versionNumber"], 2);
}

#[tokio::test]
async fn list_pages_in_creation_order_and_hides_deleted() {
    let (_sandbox, client) = started(SandboxConfig::default()).await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(stock_id_of(&client, &format!("P-{n}")).await);
    }
    let page = |n: u32| format!("/stock?advertiserId={ADVERTISER}&page={n}&pageSize=2");
    let refs = |answer: &Answer| -> Vec<String> {
        answer.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                i["metadata"]["externalStockReference"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let first = client.get(&page(1)).await;
    assert_eq!(
        (refs(&first), first.body["totalResults"].clone()),
        (vec!["P-1".into(), "P-2".into()], json!(5))
    );
    assert_eq!(refs(&client.get(&page(3)).await), ["P-5"]);
    assert!(refs(&client.get(&page(4)).await).is_empty());

    let unpublished = json!({"status": "NOT_PUBLISHED"});
    let delete = json!({
        "metadata": {"lifecycleState": "DELETED"},
        "adverts": {"retailAdverts": {"autotraderAdvert": unpublished, "advertiserAdvert": unpublished}}
    });
    assert_eq!(client.patch(&ids[0], delete).await.status, StatusCode::OK);
    let live = client.get(&page(1)).await;
    assert_eq!(
        (refs(&live), live.body["totalResults"].clone()),
        (vec!["P-2".into(), "P-3".into()], json!(4))
    );
    let all = client
        .get(&format!("{}&includeDeleted=true", page(1)))
        .await;
    assert_eq!(all.body["totalResults"], 5);
    // A deleted reference may be created again.
    assert_eq!(
        client.create(vehicle("P-1")).await.status,
        StatusCode::CREATED
    );

    let no_size = client
        .get(&format!("/stock?advertiserId={ADVERTISER}&page=1"))
        .await;
    assert_eq!(
        (no_size.status, warned(&no_size)),
        (StatusCode::BAD_REQUEST, vec!["pageSize".to_owned()])
    );
    let too_big = client
        .get(&format!(
            "/stock?advertiserId={ADVERTISER}&page=0&pageSize=101"
        ))
        .await;
    assert_eq!(warned(&too_big), ["page", "pageSize"]);
}

#[tokio::test]
async fn tokens_expire() {
    let config = SandboxConfig {
        token_lifetime: Duration::from_secs(1),
        ..SandboxConfig::default()
    };
    let (sandbox, client) = started(config).await;
    let list = format!("/stock?advertiserId={ADVERTISER}&page=1&pageSize=10");
    assert_eq!(client.get(&list).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = client.get(&list).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    let challenge = expired.headers[WWW_AUTHENTICATE].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );
    assert_eq!(sandbox.stats().list, 2);
}

#[tokio::test]
async fn revoked_tokens_are_refused_until_the_client_authenticates_again() {
    let (sandbox, mut client) = started(SandboxConfig::default()).await;
    let list = format!("/stock?advertiserId={ADVERTISER}&page=1&pageSize=10");
    sandbox.revoke_tokens();
    let revoked = client.get(&list).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    assert!(revoked.headers[WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    client.login().await;
    assert_eq!(client.get(&list).await.status, StatusCode::OK);
    // And over the control endpoint.
    let answer = client
        .send(Method::POST, "/_sandbox/revoke-tokens", None)
        .await;
    assert_eq!(answer.body, json!({"revoked": 1}));
    assert_eq!(client.get(&list).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(sandbox.stats().authenticate, 2);
}

#[tokio::test]
async fn down_and_error_rate_answer_503_but_never_on_authenticate() {
    let (sandbox, mut client) = started(SandboxConfig::default()).await;
    sandbox.set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    assert_eq!(
        client.create(vehicle("F-1")).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    client.login().await;
    sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let answer = client.create(vehicle("F-1")).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.body["error"].is_string());
    let stats = sandbox.stats();
    assert_eq!((stats.create, stats.errors, stats.authenticate), (2, 2, 2));
    // Faulted calls never reached the stock logic.
    assert!(stats.creates_by_reference.is_empty());
    assert!(sandbox.stock(ADVERTISER).is_empty());
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let faults = Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 3,
        ..Faults::default()
    };
    let (sandbox, client) = started(SandboxConfig {
        faults,
        ..SandboxConfig::default()
    })
    .await;
    let answer = client.create(vehicle("R-1")).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.headers[RETRY_AFTER], "3");
    assert_eq!(sandbox.stats().rate_limited, 1);
    assert_eq!(sandbox.stats().rejected, 0);
}

#[tokio::test]
async fn latency_is_added_to_stock_calls() {
    let (sandbox, client) = started(SandboxConfig::default()).await;
    sandbox.set_faults(Faults {
        latency_ms: 200,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    assert_eq!(
        client.create(vehicle("L-1")).await.status,
        StatusCode::CREATED
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn timeouts_hang_then_drop_the_connection() {
    let (sandbox, client) = started(SandboxConfig::default()).await;
    sandbox.set_faults(Faults {
        timeout_rate: 1.0,
        hang_ms: 150,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let body = vehicle("T-1").to_string();
    let path = format!("/stock?advertiserId={ADVERTISER}");
    let dropped = client
        .try_send(Method::POST, &path, "application/json", body.clone())
        .await;
    assert!(dropped.is_err(), "expected no answer");
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(sandbox.stock(ADVERTISER).is_empty());

    // The lost-response case: applied, then dropped; the retry finds it.
    sandbox.set_faults(Faults {
        timeout_rate: 1.0,
        hang_ms: 10,
        timeout_after_processing: true,
        ..Faults::default()
    });
    assert!(client
        .try_send(Method::POST, &path, "application/json", body)
        .await
        .is_err());
    sandbox.set_faults(Faults::default());
    let retry = client.create(vehicle("T-1")).await;
    assert_eq!(retry.status, StatusCode::CONFLICT);
    let stats = sandbox.stats();
    assert_eq!((stats.timeouts, stats.create), (2, 3));
    assert_eq!(stats.creates_by_reference["T-1"], 2);
}

#[tokio::test]
async fn rejected_fields_are_named_in_a_400() {
    let faults = Faults {
        reject_fields: vec!["vehicle.colour".into()],
        ..Faults::default()
    };
    let (sandbox, client) = started(SandboxConfig {
        faults,
        ..SandboxConfig::default()
    })
    .await;
    let mut body = vehicle("C-1");
    body["vehicle"]["colour"] = json!("Red");
    let refused = client.create(body).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(warned(&refused), ["vehicle.colour"]);
    let id = stock_id_of(&client, "C-1").await;
    let patched = client
        .patch(&id, json!({"vehicle": {"colour": "Blue"}}))
        .await;
    assert_eq!(warned(&patched), ["vehicle.colour"]);
    assert_eq!(sandbox.stats().rejected, 2);
}

#[tokio::test]
async fn faults_are_reproducible_from_the_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let faults = Faults {
            error_rate: 0.5,
            ..Faults::default()
        };
        let (_sandbox, client) = started(SandboxConfig {
            faults,
            seed,
            ..SandboxConfig::default()
        })
        .await;
        let mut out = Vec::new();
        for _ in 0..20 {
            let answer = client
                .get(&format!(
                    "/stock?advertiserId={ADVERTISER}&page=1&pageSize=1"
                ))
                .await;
            out.push(answer.status.as_u16());
        }
        out
    }
    let first = statuses(9).await;
    assert_eq!(first, statuses(9).await);
    assert!(first.contains(&200) && first.contains(&503), "{first:?}");
}

#[tokio::test]
async fn control_endpoints_change_faults_show_stats_and_stock_and_reset() {
    let (sandbox, client) = started(SandboxConfig::default()).await;
    let put = client
        .send(
            Method::PUT,
            "/_sandbox/faults",
            Some(json!({"rate_limit_rate": 1.0, "retry_after_secs": 5})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(sandbox.faults().retry_after_secs, 5);
    let patched = client
        .send(
            Method::PATCH,
            "/_sandbox/faults",
            Some(json!({"rate_limit_rate": 0.0, "latency_ms": 1})),
        )
        .await;
    assert_eq!(
        (
            patched.body["retry_after_secs"].clone(),
            patched.body["latency_ms"].clone()
        ),
        (json!(5), json!(1))
    );
    let bad = client
        .send(
            Method::PUT,
            "/_sandbox/faults",
            Some(json!({"error_rate": 2})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let typo = client
        .send(
            Method::PUT,
            "/_sandbox/faults",
            Some(json!({"eror_rate": 0.1})),
        )
        .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert_eq!(client.get("/_sandbox/faults").await.body["latency_ms"], 1);

    stock_id_of(&client, "S-1").await;
    let stats = client.get("/_sandbox/stats").await;
    assert_eq!(
        (
            stats.body["create"].clone(),
            stats.body["creates_by_reference"]["S-1"].clone()
        ),
        (json!(1), json!(1))
    );
    let stock = client
        .get(&format!("/_sandbox/stock?advertiserId={ADVERTISER}"))
        .await;
    assert_eq!(stock.body.as_array().map(Vec::len), Some(1));
    assert_eq!(
        client.get("/_sandbox/stock").await.body[ADVERTISER][0]["metadata"]
            ["externalStockReference"],
        "S-1"
    );

    let reset = client.send(Method::POST, "/_sandbox/reset", None).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert!(sandbox.stock(ADVERTISER).is_empty());
    assert_eq!(sandbox.stats(), SandboxStats::default());
    assert_eq!(sandbox.faults(), Faults::default());
    // The token survives a reset.
    assert_eq!(
        client.create(vehicle("S-1")).await.status,
        StatusCode::CREATED
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn shutdown_is_prompt_even_with_a_call_hanging() {
    let faults = Faults {
        timeout_rate: 1.0,
        hang_ms: 60_000,
        ..Faults::default()
    };
    let (sandbox, client) = started(SandboxConfig {
        faults,
        ..SandboxConfig::default()
    })
    .await;
    let addr = sandbox.addr();
    let hanging = tokio::spawn(async move {
        let path = "/stock?advertiserId=10008899&page=1&pageSize=1";
        client
            .try_send(Method::GET, path, "application/json", String::new())
            .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    sandbox.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(3));
    let answer = hanging.await.unwrap();
    assert!(answer.is_err(), "the hanging call should fail, not answer");
    assert!(TcpStream::connect(addr).await.is_err());
}
