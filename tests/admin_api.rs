//! End-to-end tests of the admin server with real parts: a real SQLite file,
//! the real csv-export, autotrader and google-vehicle-ads components and the
//! sandbox marketplace, the admin server over loopback HTTP, and the
//! dashboard in headless Chromium.

use forecourt::admin::auth::{self, Role};
use forecourt::admin::{AdminOptions, AdminServer, AdminState};
use forecourt::app::App;
use forecourt::config::RawConfig;
use forecourt::runtime::types::{StockStatus, Vehicle};
use forecourt::sandbox::{Faults, Sandbox, SandboxConfig};
use forecourt::store::{now_ms, Store};
use forecourt_tests::chromium::{self, Browser};
use forecourt_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADVERTISER: &str = "10008899";

// ----- logs: every line the host writes during the tests, to search for tokens -----

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;
impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(|| Capture)
            .try_init();
    });
}

fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

// ----- a host with seeded state -----

struct Host {
    dir: tempfile::TempDir,
    sandbox: Sandbox,
    app: App,
    admin: AdminServer,
    stock: Vec<Vehicle>,
    /// A vehicle sold while Auto Trader was down: still listed there.
    sold: String,
}

/// A pipeline synced through the real engine into a state worth looking at:
/// everything listed, then two arrivals the platform refused (dead letters),
/// then a sale during an outage (a discrepancy, its removal awaiting retry).
async fn host(options: AdminOptions) -> Host {
    capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let plugins = plugins_for_sandbox(dir.path(), sandbox.addr().port());
    let config_path = pipeline_config(dir.path(), &plugins, &sandbox.base_url(), "");
    let mut stock = forecourt::sample::sample_stock(8, 31);
    for v in &mut stock {
        if matches!(v.status, StockStatus::Sold | StockStatus::Withdrawn) {
            v.status = StockStatus::InStock;
        }
    }
    export(dir.path(), &stock);
    let config = RawConfig::load(&config_path).unwrap();
    let app = forecourt::app::build_with_secrets(&config, Some(sandbox_secrets()))
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        app.engine.sync_once().await.unwrap();
        if app.store.queue_depth(None).unwrap() == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "did not converge"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    sandbox.set_faults(Faults {
        reject_fields: vec!["vehicle.colour".into()],
        ..Faults::default()
    });
    for (i, mut arrival) in forecourt::sample::sample_stock(2, 77)
        .into_iter()
        .enumerate()
    {
        arrival.stock_id = format!("FC9900{i}");
        arrival.status = StockStatus::InStock;
        stock.push(arrival);
    }
    export(dir.path(), &stock);
    app.engine.sync_once().await.unwrap();
    assert_eq!(app.store.dead_letters(Some("autotrader")).unwrap().len(), 2);

    sandbox.set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    let sold = stock
        .iter()
        .position(|v| {
            sandbox
                .find_by_reference(ADVERTISER, &v.stock_id)
                .is_some_and(|s| s["metadata"]["lifecycleState"] == "FORECOURT")
        })
        .expect("a listed vehicle");
    stock[sold].status = StockStatus::Sold;
    let sold = stock[sold].stock_id.clone();
    export(dir.path(), &stock);
    app.engine.sync_once().await.unwrap();
    assert_eq!(app.store.discrepancies().unwrap().len(), 1);

    let admin = AdminServer::start(AdminState::new(
        app.store.clone(),
        app.engine.clone(),
        options,
        forecourt::admin::config_view(&config, &config_path),
    ))
    .await
    .unwrap();
    Host {
        dir,
        sandbox,
        app,
        admin,
        stock,
        sold,
    }
}

fn loopback() -> AdminOptions {
    AdminOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..AdminOptions::default()
    }
}

impl Host {
    fn token(&self, name: &str, role: Role) -> String {
        auth::create(&self.app.store, name, role, &[], "operator:test", now_ms())
            .unwrap()
            .1
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        http(self.admin.addr(), method, path, token, body).await
    }
}

// ----- a small HTTP/1.1 client -----

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.unwrap_or("");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    Reply {
        status: head[9..12].parse().unwrap(),
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

// ----- a strict reader of the Prometheus text format -----

/// Parse an exposition document, checking the grammar and the conventions
/// the host promises; returns every sample as `name{sorted labels}` → value.
fn parse_prometheus(text: &str) -> BTreeMap<String, f64> {
    let name_ok = |n: &str| {
        let mut chars = n.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut samples = BTreeMap::new();
    let mut histograms: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts: BTreeMap<String, f64> = BTreeMap::new();
    assert!(text.ends_with('\n'), "the document ends with a newline");
    for (n, line) in text.lines().enumerate() {
        let at = format!("line {}: {line}", n + 1);
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name) = (parts.next().unwrap(), parts.next().expect(&at));
            assert!(name_ok(name), "{at}: bad metric name");
            match kind {
                "HELP" => {
                    assert!(
                        parts.next().is_some_and(|h| !h.is_empty()),
                        "{at}: empty help"
                    );
                }
                "TYPE" => {
                    let t = parts.next().expect(&at);
                    assert!(["counter", "gauge", "histogram"].contains(&t), "{at}: type");
                    assert!(
                        types.insert(name.to_string(), t.to_string()).is_none(),
                        "{at}: family declared twice"
                    );
                    assert!(name.starts_with("forecourt_"), "{at}: prefix");
                    if t == "counter" {
                        assert!(name.ends_with("_total"), "{at}: counters end in _total");
                    }
                    current = Some(name.to_string());
                }
                _ => panic!("{at}: unknown comment"),
            }
            continue;
        }
        assert!(!line.is_empty(), "{at}: empty line");
        let (series, value) = line.rsplit_once(' ').expect(&at);
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("{at}: value")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').expect(&at)),
            None => (series, ""),
        };
        assert!(name_ok(name), "{at}: bad sample name");
        let family = current.clone().expect("samples follow a TYPE line");
        let kind = &types[&family];
        let suffix = name.strip_prefix(family.as_str()).expect(&at);
        match kind.as_str() {
            "histogram" => assert!(
                ["_bucket", "_sum", "_count"].contains(&suffix),
                "{at}: histogram sample"
            ),
            _ => assert_eq!(suffix, "", "{at}: sample of another family"),
        }
        // Labels: name="value" pairs, values with \\ \" \n escapes only.
        let mut pairs = Vec::new();
        let mut rest = labels;
        while !rest.is_empty() {
            let (key, after) = rest.split_once("=\"").expect(&at);
            assert!(name_ok(key) && !key.contains(':'), "{at}: label name");
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next().expect(&at) {
                    (_, '\\') => match chars.next().expect(&at).1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        other => panic!("{at}: bad escape \\{other}"),
                    },
                    (i, '"') => break i,
                    (_, c) => value.push(c),
                }
            };
            assert!(
                !["stock_id", "vehicle", "registration", "vin"].contains(&key),
                "{at}: per-vehicle label"
            );
            pairs.push((key.to_string(), value));
            rest = &after[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
        let le = pairs
            .iter()
            .position(|(k, _)| k == "le")
            .map(|i| pairs.remove(i).1);
        pairs.sort();
        let key_labels: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let base = format!("{family}{{{}}}", key_labels.join(","));
        match suffix {
            "_bucket" => {
                let le = le.as_deref().expect("buckets have le");
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().expect(&at)
                };
                histograms
                    .entry(base.clone())
                    .or_default()
                    .push((bound, value));
            }
            "_count" => {
                counts.insert(base.clone(), value);
            }
            _ => assert!(le.is_none(), "{at}: le outside a bucket"),
        }
        let mut key_labels = key_labels;
        if let Some(le) = &le {
            key_labels.push(format!("le={le:?}"));
        }
        let key = format!("{name}{{{}}}", key_labels.join(","));
        assert!(
            samples.insert(key, value).is_none(),
            "{at}: duplicate series"
        );
    }
    for (series, buckets) in &histograms {
        assert!(
            buckets
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "{series}: buckets ascend and accumulate"
        );
        let last = buckets.last().unwrap();
        assert_eq!(last.0, f64::INFINITY, "{series}: ends with +Inf");
        assert_eq!(
            Some(&last.1),
            counts.get(series),
            "{series}: +Inf bucket equals _count"
        );
    }
    samples
}

fn sample(samples: &BTreeMap<String, f64>, key: &str) -> f64 {
    samples.get(key).copied().unwrap_or(0.0)
}

async fn wait_for_run(host: &Host, token: &str, id: u64) -> Value {
    let started = Instant::now();
    loop {
        let run = host
            .call("GET", &format!("/api/runs/{id}"), Some(token), None)
            .await
            .json();
        if run["run"]["state"] != "running" {
            return run["run"].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "run {id} did not finish: {run}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ----- the tests -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_enforces_its_role_and_failed_logins_are_logged_without_tokens() {
    let h = host(AdminOptions {
        max_auth_failures_per_minute: 1000,
        ..loopback()
    })
    .await;
    let viewer = h.token("wall-screen", Role::Viewer);
    let operator = h.token("night-shift", Role::Operator);
    let admin = h.token("owner", Role::Admin);
    let since = now_ms();

    // Every role-protected route, called with each role: below the route's
    // role is 403 with the JSON code, at or above it is anything but 401/403.
    let stock_id = h.stock[0].stock_id.clone();
    for route in forecourt::admin::routes::ROUTES {
        let forecourt::admin::routes::Access::Role(needed) = route.access else {
            continue;
        };
        let path = route
            .path
            .replace("{stock_id}", &stock_id)
            .replace("{platform}", "autotrader")
            .replace("{id}", "999999");
        for (role, token) in [
            (Role::Viewer, &viewer),
            (Role::Operator, &operator),
            (Role::Admin, &admin),
        ] {
            let reply = h.call(route.method, &path, Some(token), None).await;
            if role < needed {
                assert_eq!(
                    reply.status, 403,
                    "{role} {} {path}: {}",
                    route.method, reply.body
                );
                assert_eq!(reply.error_code(), "forbidden");
            } else {
                assert!(
                    reply.status != 401 && reply.status != 403 && reply.status < 500,
                    "{role} {} {path}: {} {}",
                    route.method,
                    reply.status,
                    reply.body
                );
            }
        }
        // And without a token at all.
        let reply = h.call(route.method, &path, None, None).await;
        assert_eq!(reply.status, 401, "{} {path}", route.method);
        assert_eq!(reply.error_code(), "unauthenticated");
        assert!(reply.headers.contains("www-authenticate: bearer"));
    }
    // The viewer's refused retry, explicitly.
    let dead = h.app.store.dead_letters(None).unwrap();
    let reply = h
        .call(
            "POST",
            &format!("/api/dead-letters/{}/retry", dead[0].id),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.json(),
        json!({"error": {"code": "forbidden", "message": "this needs the operator role; the token has viewer"}})
    );
    assert_eq!(
        h.app.store.dead_letters(None).unwrap().len(),
        dead.len(),
        "nothing changed"
    );

    // Bad tokens: forged secret for a real id, unknown id, malformed, revoked.
    let failures_before = h.app.store.failed_logins_since(since).unwrap();
    let (real_id, _) = auth::parse(&viewer).unwrap();
    let forged = format!("fct_{real_id}_{}", "Z".repeat(43));
    let unknown = format!("fct_0123456789ab_{}", "Q".repeat(43));
    let revoked = h.token("leaver", Role::Operator);
    let revoke = h
        .call("DELETE", "/api/tokens/leaver", Some(&admin), None)
        .await;
    assert_eq!(revoke.status, 200, "{}", revoke.body);
    for bad in [
        forged.as_str(),
        unknown.as_str(),
        "not-a-token",
        revoked.as_str(),
    ] {
        let reply = h.call("GET", "/api/status", Some(bad), None).await;
        assert_eq!(reply.status, 401, "{bad}");
        assert_eq!(reply.error_code(), "unauthenticated");
    }
    assert_eq!(
        h.app.store.failed_logins_since(since).unwrap() - failures_before,
        4
    );
    // A token in a query string is not logged either.
    h.call(
        "GET",
        &format!("/api/status?token={operator}&platform=autotrader"),
        Some(&viewer),
        None,
    )
    .await;

    let log = h.app.store.access_log(1000, false).unwrap();
    let refused: Vec<_> = log
        .iter()
        .filter(|r| r.outcome == "unauthenticated")
        .collect();
    assert!(refused
        .iter()
        .all(|r| r.who == "anonymous" && r.token_id.is_none() && r.status == 401));
    assert!(refused.iter().all(|r| r.remote.starts_with("127.0.0.1:")));
    assert!(log
        .iter()
        .any(|r| r.who == "wall-screen" && r.outcome == "forbidden"));
    assert!(
        log.iter()
            .any(|r| r.path == "/api/status?token=redacted&platform=autotrader"),
        "{log:#?}"
    );

    // Tokens through the API: created (shown once), usable, listed without secrets, audited.
    let created = h
        .call(
            "POST",
            "/api/tokens",
            Some(&admin),
            Some(r#"{"name":"ci-bot","role":"viewer"}"#),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let new_token = created.json()["token"].as_str().unwrap().to_string();
    let me = h
        .call("GET", "/api/me", Some(&new_token), None)
        .await
        .json();
    assert_eq!(me["name"], "ci-bot");
    assert_eq!(me["role"], "viewer");
    let bad = h
        .call(
            "POST",
            "/api/tokens",
            Some(&admin),
            Some(r#"{"name":"x y","role":"viewer"}"#),
        )
        .await;
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (400, "bad_request")
    );
    let dup = h
        .call(
            "POST",
            "/api/tokens",
            Some(&admin),
            Some(r#"{"name":"ci-bot","role":"admin"}"#),
        )
        .await;
    assert_eq!((dup.status, dup.error_code().as_str()), (409, "conflict"));
    let audit = h.app.store.audit_tail(50).unwrap();
    assert!(audit
        .iter()
        .any(|a| a.entry.actor == "operator:owner"
            && a.entry.step.as_deref() == Some("token-create")));
    assert!(audit
        .iter()
        .any(|a| a.entry.actor == "operator:owner"
            && a.entry.step.as_deref() == Some("token-revoke")));

    // No token value anywhere: the database file (WAL included), the access
    // log as the API shows it, and everything the host logged.
    let listing = h
        .call("GET", "/api/access-log?limit=1000", Some(&admin), None)
        .await
        .body;
    let tokens_list = h.call("GET", "/api/tokens", Some(&admin), None).await.body;
    let mut db = Vec::new();
    for file in ["forecourt.db", "forecourt.db-wal"] {
        db.extend(std::fs::read(h.dir.path().join("data").join(file)).unwrap_or_default());
    }
    let db = String::from_utf8_lossy(&db).into_owned();
    for token in [
        &viewer, &operator, &admin, &revoked, &forged, &unknown, &new_token,
    ] {
        let (_, secret) = auth::parse(token).unwrap();
        for (place, text) in [
            ("database", &db),
            ("access log", &listing),
            ("token list", &tokens_list),
            ("logs", &logs()),
        ] {
            assert!(!text.contains(secret), "a token's secret is in the {place}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enquiries_need_a_granted_token_and_the_channel_report_is_served() {
    use forecourt::enquiries::{EnquiryStore, NewEnquiry, Via, READ_PERMISSION};
    use forecourt::runtime::types::Person;
    let h = host(loopback()).await;
    let listed = h.stock[1].stock_id.clone();
    let buyer = |n: usize| NewEnquiry {
        platform_enquiry_id: format!("at-enq-{n}"),
        stock_id: Some(listed.clone()),
        remote_id: None,
        received_at_ms: now_ms() - 3_600_000,
        customer: Person {
            name: Some(format!("Buyer Number{n}")),
            email: Some(format!("buyer{n}@private.example")),
            phone: Some("07700 900123".into()),
            address: None,
        },
        message: Some("Is it still available?".into()),
    };
    let ingest = h
        .app
        .store
        .store_enquiries(
            "autotrader",
            Via::Pull,
            &[buyer(1), buyer(2)],
            None,
            &[],
            now_ms(),
        )
        .unwrap();
    assert_eq!(ingest.stored, 2);

    let admin = h.token("owner", Role::Admin);
    let viewer = h.token("wall-screen", Role::Viewer);
    let sales = auth::create(
        &h.app.store,
        "sales-desk",
        Role::Viewer,
        &[READ_PERMISSION.to_string()],
        "operator:test",
        now_ms(),
    )
    .unwrap()
    .1;

    // No role implies the grant, not even admin.
    for token in [&admin, &viewer] {
        let reply = h.call("GET", "/api/enquiries", Some(token), None).await;
        assert_eq!(reply.status, 403, "{}", reply.body);
        assert_eq!(reply.error_code(), "not_granted");
        assert!(!reply.body.contains("private.example"));
    }
    assert_eq!(
        h.call("GET", "/api/enquiries", None, None).await.status,
        401
    );

    // The granted viewer reads them, with the buyer.
    let reply = h
        .call(
            "GET",
            "/api/enquiries?platform=autotrader",
            Some(&sales),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let items = reply.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["stock_id"], listed.as_str());
    assert!(items
        .iter()
        .any(|e| e["customer"]["email"] == "buyer1@private.example"));
    let me = h.call("GET", "/api/me", Some(&sales), None).await.json();
    assert_eq!(me["grants"], json!([READ_PERMISSION]));

    // The report needs no grant and holds no personal data.
    let reply = h
        .call("GET", "/api/report?days=7", Some(&viewer), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let report = reply.json();
    assert_eq!(report["enquiries"], 2);
    let autotrader = report["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["platform"] == "autotrader")
        .expect("autotrader in the report");
    assert_eq!(autotrader["enquiries"], 2);
    assert_eq!(autotrader["enquiry_share"], 1.0);
    assert!(autotrader["listings"].as_u64().unwrap() > 0);
    assert!(!reply.body.contains("private.example") && !reply.body.contains("Buyer"));
    let bad = h
        .call("GET", "/api/report?days=0", Some(&viewer), None)
        .await;
    assert_eq!(bad.status, 400);

    // Grants through the API: known ones only, and only by an admin.
    let made = h
        .call(
            "POST",
            "/api/tokens",
            Some(&admin),
            Some(r#"{"name": "crm-sync", "role": "viewer", "grants": ["enquiries:read"]}"#),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.json()["grants"], json!([READ_PERMISSION]));
    let refused = h
        .call(
            "POST",
            "/api/tokens",
            Some(&admin),
            Some(r#"{"name": "greedy", "role": "viewer", "grants": ["everything"]}"#),
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("unknown grant `everything`"),
        "{}",
        refused.body
    );

    // Who read enquiries is in the access log; what they read is nowhere in the logs.
    let log = h.app.store.access_log(100, false).unwrap();
    assert!(log
        .iter()
        .any(|r| r.who == "sales-desk" && r.path.starts_with("/api/enquiries") && r.status == 200));
    let logs = logs();
    assert!(!logs.contains("private.example") && !logs.contains("07700 900123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_retried_and_discarded_through_the_api_and_audited() {
    let h = host(loopback()).await;
    let operator = h.token("night-shift", Role::Operator);
    let dead = h.app.store.dead_letters(Some("autotrader")).unwrap();
    let listed = h
        .call(
            "GET",
            "/api/dead-letters?platform=autotrader",
            Some(&operator),
            None,
        )
        .await
        .json();
    assert_eq!(listed["total"], 2);
    assert!(listed["items"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("vehicle.colour"));

    let retry = h
        .call(
            "POST",
            &format!("/api/dead-letters/{}/retry", dead[0].id),
            Some(&operator),
            None,
        )
        .await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(
        retry.json(),
        json!({"id": dead[0].id, "state": "available"})
    );
    let discard = h
        .call(
            "POST",
            &format!("/api/dead-letters/{}/discard", dead[1].id),
            Some(&operator),
            None,
        )
        .await;
    assert_eq!(
        discard.json(),
        json!({"id": dead[1].id, "state": "discarded"})
    );
    let again = h
        .call(
            "POST",
            &format!("/api/dead-letters/{}/retry", dead[1].id),
            Some(&operator),
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (404, "not_found")
    );
    let not_a_number = h
        .call("POST", "/api/dead-letters/abc/retry", Some(&operator), None)
        .await;
    assert_eq!(
        (not_a_number.status, not_a_number.error_code().as_str()),
        (400, "bad_request")
    );

    let jobs = h
        .call(
            "GET",
            &format!(
                "/api/jobs?stock_id={}&platform=autotrader",
                dead[0].stock_id
            ),
            Some(&operator),
            None,
        )
        .await
        .json();
    assert_eq!(jobs["items"][0]["state"], "available", "{jobs}");
    assert!(h.app.store.dead_letters(None).unwrap().is_empty());

    let audit = h.app.store.audit_tail(20).unwrap();
    for (step, job) in [
        ("retry-dead-letter", &dead[0]),
        ("discard-dead-letter", &dead[1]),
    ] {
        let entry = audit
            .iter()
            .find(|a| a.entry.step.as_deref() == Some(step))
            .unwrap_or_else(|| panic!("no {step} in the audit trail"));
        assert_eq!(entry.entry.actor, "operator:night-shift");
        assert_eq!(entry.entry.stock_id.as_deref(), Some(job.stock_id.as_str()));
        assert_eq!(entry.entry.detail["job"], job.id);
    }
    let verify = h
        .call("GET", "/api/audit/verify", Some(&operator), None)
        .await
        .json();
    assert_eq!(verify["intact"], true, "{verify}");

    // The retried operation goes out once the platform accepts it again (the
    // circuit breaker may hold Auto Trader for its cool-down after the outage).
    h.sandbox.set_faults(Faults::default());
    let started = Instant::now();
    loop {
        let sync = h.call("POST", "/api/sync", Some(&operator), None).await;
        assert_eq!(sync.status, 202, "{}", sync.body);
        let run = wait_for_run(&h, &operator, sync.json()["run"]["id"].as_u64().unwrap()).await;
        assert_eq!(run["state"], "succeeded", "{run}");
        assert_eq!(run["requested_by"], "night-shift");
        let vehicle = h
            .call(
                "GET",
                &format!("/api/vehicles/{}", dead[0].stock_id),
                Some(&operator),
                None,
            )
            .await
            .json();
        assert!(
            vehicle["record"]["hub_only"].is_null(),
            "hub-only data never leaves the hub"
        );
        let listings = vehicle["listings"].as_array().unwrap();
        let autotrader = listings
            .iter()
            .find(|l| l["platform"] == "autotrader")
            .unwrap();
        if autotrader["published_state"] == "live" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not delivered: {vehicle}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_valid_prometheus_text_and_move_after_a_triggered_sync() {
    let h = host(loopback()).await;
    let operator = h.token("night-shift", Role::Operator);

    let reply = h.call("GET", "/metrics", None, None).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .headers
            .contains("content-type: text/plain; version=0.0.4"),
        "{}",
        reply.headers
    );
    let before = parse_prometheus(&reply.body);
    let cycles = r#"forecourt_sync_cycles_total{outcome="success"}"#;
    let seeded_cycles = sample(&before, cycles);
    assert!(
        seeded_cycles >= 3.0,
        "the seeding ran at least three cycles"
    );
    assert_eq!(
        sample(&before, r#"forecourt_dead_letters{platform="autotrader"}"#),
        2.0
    );
    assert_eq!(
        sample(&before, r#"forecourt_discrepancies{platform="autotrader"}"#),
        1.0
    );
    assert_eq!(
        sample(&before, r#"forecourt_discrepancies{platform="google"}"#),
        0.0
    );
    assert!(sample(&before, r#"forecourt_queue_depth{platform="autotrader"}"#) >= 1.0);
    assert!(
        sample(
            &before,
            r#"forecourt_change_to_acknowledgement_seconds_count{platform="autotrader"}"#
        ) >= 1.0
    );
    assert!(
        sample(
            &before,
            r#"forecourt_change_to_acknowledgement_seconds_bucket{platform="autotrader",le="+Inf"}"#
        ) >= 1.0
    );
    assert_eq!(
        sample(
            &before,
            r#"forecourt_listing_operations_total{error_class="validation",operation="create",outcome="dead_letter",platform="autotrader"}"#
        ),
        2.0
    );
    assert!(
        sample(
            &before,
            r#"forecourt_listing_operations_total{error_class="transient",operation="remove",outcome="retry",platform="autotrader"}"#
        ) >= 1.0
    );
    assert!(
        sample(
            &before,
            r#"forecourt_platform_api_requests_total{plugin="autotrader"}"#
        ) > 0.0
    );
    assert!(
        sample(
            &before,
            r#"forecourt_plugin_call_duration_seconds_count{operation="transform",plugin="autotrader"}"#
        ) >= 10.0
    );
    let completeness = sample(
        &before,
        r#"forecourt_listing_completeness_ratio{platform="google"}"#,
    );
    assert!(completeness > 0.0 && completeness <= 1.0, "{completeness}");

    // The platform recovers; a sync triggered through the API answers at once
    // and runs on the engine; the counters move.
    h.sandbox.set_faults(Faults::default());
    let sync = h.call("POST", "/api/sync", Some(&operator), None).await;
    assert_eq!(sync.status, 202, "{}", sync.body);
    let run = wait_for_run(&h, &operator, sync.json()["run"]["id"].as_u64().unwrap()).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let after = parse_prometheus(&h.call("GET", "/metrics", None, None).await.body);
    assert_eq!(sample(&after, cycles), seeded_cycles + 1.0);
    assert!(
        sample(
            &after,
            r#"forecourt_source_pulls_total{outcome="success",source="dms"}"#
        ) > sample(
            &before,
            r#"forecourt_source_pulls_total{outcome="success",source="dms"}"#
        )
    );
    // Whether the removal went out now or waits for the breaker's cool-down,
    // the attempt or the hold shows; once acknowledged, the discrepancy is gone.
    let acknowledged = r#"forecourt_listing_operations_total{error_class="none",operation="remove",outcome="acknowledged",platform="autotrader"}"#;
    if sample(&after, acknowledged) > 0.0 {
        assert_eq!(
            sample(&after, r#"forecourt_discrepancies{platform="autotrader"}"#),
            0.0
        );
    }
    let audit = h.app.store.audit_tail(200).unwrap();
    assert!(audit.iter().any(|a| a.entry.actor == "operator:night-shift"
        && a.entry.step.as_deref() == Some("trigger-sync")));

    // The OpenAPI document served is the one that matches the router.
    let doc = h.call("GET", "/api/openapi.json", None, None).await.json();
    assert_eq!(
        forecourt::admin::openapi::operations(&doc),
        forecourt::admin::openapi::routed()
    );

    // With `metrics_require_token`, /metrics wants a viewer token.
    let guarded = AdminServer::start(AdminState::new(
        h.app.store.clone(),
        h.app.engine.clone(),
        AdminOptions {
            metrics_require_token: true,
            max_auth_failures_per_minute: 3,
            ..loopback()
        },
        json!({}),
    ))
    .await
    .unwrap();
    let viewer = h.token("prometheus", Role::Viewer);
    assert_eq!(
        http(guarded.addr(), "GET", "/metrics", None, None)
            .await
            .status,
        401
    );
    let scraped = http(guarded.addr(), "GET", "/metrics", Some(&viewer), None).await;
    assert_eq!(scraped.status, 200);
    parse_prometheus(&scraped.body);
    // Guessing tokens from one address is cut off after the limit (3 here).
    for _ in 0..2 {
        assert_eq!(
            http(
                guarded.addr(),
                "GET",
                "/metrics",
                Some("fct_0123456789ab_guess-guess-guess-guess-guess-guess"),
                None
            )
            .await
            .status,
            401
        );
    }
    let refused = http(guarded.addr(), "GET", "/metrics", Some(&viewer), None).await;
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (429, "too_many_failures")
    );
    guarded.shutdown().await;
}

/// Wait for the sign-in form, sign in with `token`, and wait until `ready`
/// (a JavaScript condition) holds.
async fn sign_in(b: &mut Browser, token: &str, ready: &str, what: &str) {
    b.wait_for(
        "!document.getElementById('sign-in').hidden",
        "the sign-in form",
    )
    .await;
    b.type_into("#token", token).await;
    b.click("#sign-in-form button[type=submit]").await;
    b.wait_for(ready, what).await;
}

/// One enquiry about a listed car, and a viewer token granted to read it.
fn seed_enquiry_and_sales_token(h: &Host) -> String {
    use forecourt::enquiries::{EnquiryStore, NewEnquiry, Via, READ_PERMISSION};
    let enquiry = NewEnquiry {
        platform_enquiry_id: "at-dash-1".into(),
        stock_id: Some(h.stock[1].stock_id.clone()),
        remote_id: None,
        received_at_ms: now_ms() - 60_000,
        customer: forecourt::runtime::types::Person {
            name: Some("Dashboard Buyer".into()),
            email: Some("dash@private.example".into()),
            phone: None,
            address: None,
        },
        message: None,
    };
    h.app
        .store
        .store_enquiries("autotrader", Via::Pull, &[enquiry], None, &[], now_ms())
        .unwrap();
    auth::create(
        &h.app.store,
        "sales-desk",
        Role::Viewer,
        &[READ_PERMISSION.to_string()],
        "operator:test",
        now_ms(),
    )
    .unwrap()
    .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_chromium_shows_health_and_lets_only_operators_retry() {
    if !chromium::available() {
        return;
    }
    let h = host(loopback()).await;
    let viewer = h.token("wall-screen", Role::Viewer);
    let operator = h.token("night-shift", Role::Operator);
    let sales = seed_enquiry_and_sales_token(&h);
    let dead = h.app.store.dead_letters(Some("autotrader")).unwrap();
    let target = dead[0].id;
    let retry_button = format!("#dead-letters tr[data-job-id=\"{target}\"] button.retry");

    let mut b = Browser::launch().await;
    b.navigate(&format!("{}/", h.admin.base_url())).await;

    // A viewer sees everything, and a retry button that does nothing.
    sign_in(
        &mut b,
        &viewer,
        "document.body.dataset.role === 'viewer' && document.body.dataset.loaded",
        "the viewer's dashboard",
    )
    .await;
    let health = b
        .eval("document.querySelector('#platforms tr[data-platform=\"autotrader\"] .badge').textContent")
        .await;
    assert_eq!(health, "dead letters");
    let google = b
        .eval(
            "document.querySelector('#platforms tr[data-platform=\"google\"] .badge').textContent",
        )
        .await;
    assert_eq!(google, "ok");
    let discrepancies = b
        .eval("document.getElementById('discrepancies').innerText")
        .await;
    assert!(
        discrepancies.as_str().unwrap().contains(&h.sold),
        "{discrepancies}"
    );
    assert!(discrepancies.as_str().unwrap().contains("autotrader"));
    let rows = b
        .eval("document.querySelectorAll('#dead-letters tbody tr').length")
        .await;
    assert_eq!(rows, 2);
    let completeness = b
        .eval("document.querySelectorAll('#completeness tbody tr').length")
        .await;
    assert_eq!(completeness, 2);
    let activity = b
        .eval("document.querySelectorAll('#activity tbody tr').length")
        .await;
    assert_eq!(activity, 20);
    // Channel charts from /api/report: a bar pair per platform, the
    // enquiry share drawn to scale; the enquiries themselves stay hidden.
    let share = b
        .eval("document.querySelector('#chart-share .bar[data-label=\"autotrader\"] .fill.enquiries').style.width")
        .await;
    assert_eq!(share, "100%");
    let google_listings = b
        .eval(
            "document.querySelector('#chart-share .bar[data-label=\"google\"] .value').textContent",
        )
        .await;
    assert!(
        google_listings.as_str().unwrap().starts_with("0% / "),
        "{google_listings}"
    );
    assert_eq!(
        b.eval("document.getElementById('enquiries-section').hidden")
            .await,
        true
    );
    assert_eq!(
        b.eval(&format!(
            "document.querySelector('{retry_button}').disabled"
        ))
        .await,
        true
    );
    assert_eq!(
        b.eval("document.getElementById('sync-now').hidden").await,
        true
    );
    b.click(&retry_button).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        h.app.store.dead_letters(None).unwrap().len(),
        2,
        "a viewer's click changes nothing"
    );
    assert!(
        !h.app
            .store
            .access_log(1000, false)
            .unwrap()
            .iter()
            .any(|r| r.method == "POST"),
        "the disabled button sent nothing"
    );

    // An operator's click re-queues the dead letter.
    b.click("#sign-out").await;
    sign_in(
        &mut b,
        &operator,
        "document.body.dataset.role === 'operator' && document.querySelectorAll('#dead-letters tbody tr').length === 2",
        "the operator's dashboard",
    )
    .await;
    assert_eq!(
        b.eval(&format!(
            "document.querySelector('{retry_button}').disabled"
        ))
        .await,
        false
    );
    b.click(&retry_button).await;
    b.wait_for(
        &format!(
            "document.getElementById('message').textContent === 'Dead letter {target} re-queued.'"
        ),
        "the confirmation",
    )
    .await;
    b.wait_for(
        "document.querySelectorAll('#dead-letters tbody tr').length === 1",
        "the row to go",
    )
    .await;
    let remaining = h.app.store.dead_letters(None).unwrap();
    assert_eq!(remaining.len(), 1);
    assert_ne!(remaining[0].id, target);
    let audit = h.app.store.audit_tail(5).unwrap();
    assert!(audit.iter().any(|a| a.entry.actor == "operator:night-shift"
        && a.entry.step.as_deref() == Some("retry-dead-letter")
        && a.entry.detail["job"] == target));
    // The token stays in the tab's sessionStorage, nowhere else.
    assert_eq!(
        b.eval("sessionStorage.getItem('forecourt.token')").await,
        operator.as_str()
    );
    // A token granted enquiries:read sees the buyers.
    b.click("#sign-out").await;
    sign_in(
        &mut b,
        &sales,
        "document.querySelectorAll('#enquiries tbody tr').length === 1",
        "the enquiries table",
    )
    .await;
    let row = b
        .eval("document.querySelector('#enquiries tbody tr').innerText")
        .await;
    assert!(row.as_str().unwrap().contains("Dashboard Buyer"), "{row}");
    assert_eq!(b.eval("localStorage.length").await, 0);
    assert_eq!(b.eval("document.cookie").await, "");
    if let Ok(dir) = std::env::var("FORECOURT_SCREENSHOT_DIR") {
        b.screenshot(
            &std::path::Path::new(&dir)
                .join("dashboard.png")
                .to_path_buf(),
        )
        .await;
    }
}
