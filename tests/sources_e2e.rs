//! End-to-end tests of the REST and push sources with real parts: the real
//! dms-rest and dms-webhook components in the real runtime, a real SQLite
//! store, the local DMS API and the push listener over loopback HTTP.

use forecourt::app::App;
use forecourt::config::RawConfig;
use forecourt::dms_sandbox::{DmsConfig, DmsFault, DmsSandbox};
use forecourt::push::signature::sign;
use forecourt::push::{PushPlan, PushService};
use forecourt::runtime::secrets::MemorySecrets;
use forecourt::runtime::types::StockStatus;
use forecourt::store::Store;
use forecourt_tests::*;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DMS_KEY: &str = "dms-sandbox-key";
const PUSH_SECRET: &str = "whsec-e2e-8c41";

/// Copy staged components into `<dir>/plugins`, pointing the dms-rest
/// manifest's local DMS origin at `dms_port`.
fn plugins(dir: &Path, dms_port: u16) -> PathBuf {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for id in ["dms-rest", "dms-webhook"] {
        std::fs::write(
            plugins.join(format!("{id}.wasm")),
            component_bytes(&format!("{id}.wasm")),
        )
        .unwrap();
        let manifest = std::fs::read_to_string(staged_dir().join(format!("{id}.toml"))).unwrap();
        let manifest = manifest.replace(
            "http://127.0.0.1:8710",
            &format!("http://127.0.0.1:{dms_port}"),
        );
        std::fs::write(plugins.join(format!("{id}.toml")), manifest).unwrap();
        // The manifest changed (its origin), so its publisher signs it again.
        sign_with_dev_key(&plugins.join(format!("{id}.wasm")));
    }
    plugins
}

async fn app(dir: &Path, source: &str) -> (RawConfig, App) {
    let text = format!(
        "data_dir = \"data\"\nplugins_dir = \"plugins\"\n{}{source}",
        trust_dev_key_section()
    );
    let path = dir.join("forecourt.toml");
    std::fs::write(&path, text).unwrap();
    let config = RawConfig::load(&path).unwrap();
    let secrets = MemorySecrets::default();
    secrets.set("dms-rest", "api_key", DMS_KEY);
    secrets.set("dms-webhook", "push_secret", PUSH_SECRET);
    let app = forecourt::app::build_with_secrets(&config, Some(Box::new(secrets)))
        .await
        .unwrap();
    (config, app)
}

// ------------------------------------------------------------- dms-rest --

struct Rest {
    _dir: tempfile::TempDir,
    dms: DmsSandbox,
    app: App,
}

async fn rest(page_size: u32, pagination: &str) -> Rest {
    let dir = tempfile::tempdir().unwrap();
    let dms = DmsSandbox::start(DmsConfig::default()).await.unwrap();
    plugins(dir.path(), dms.addr().port());
    let source = format!(
        r#"[[source]]
id = "dms"
plugin = "dms-rest"
config = {{ dealer_id = "dealer-001", base_url = "{}", page_size = {page_size}, pagination = "{pagination}" }}
grants = {{ plain_http_hosts = ["127.0.0.1"], private_network_hosts = ["127.0.0.1"] }}
"#,
        dms.base_url()
    );
    let (_, app) = app(dir.path(), &source).await;
    Rest {
        _dir: dir,
        dms,
        app,
    }
}

impl Rest {
    async fn pull(&self) -> anyhow::Result<forecourt::sync::PullReport> {
        self.app.engine.pull(&self.app.engine.sources()[0]).await
    }

    fn present(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .app
            .store
            .present_vehicles()
            .unwrap()
            .into_iter()
            .map(|v| v.record.stock_id)
            .collect();
        ids.sort();
        ids
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dms_rest_polls_incrementally_with_the_key_injected_by_the_host() {
    let r = rest(4, "cursor").await;
    let stock = forecourt::sample::sample_stock(12, 5);
    // Half the stock shares one timestamp (a bulk import), across page boundaries.
    r.dms
        .freeze_clock(Some("2024-05-01T09:00:00Z".parse().unwrap()));
    for v in &stock[..6] {
        r.dms.upsert(v);
    }
    r.dms.freeze_clock(None);
    for v in &stock[6..] {
        r.dms.upsert(v);
    }

    let first = r.pull().await.unwrap();
    assert_eq!((first.pages, first.created), (3, 12), "{first:?}");
    assert!(first.row_issues.is_empty(), "{:?}", first.row_issues);
    let mut all: Vec<String> = stock.iter().map(|v| v.stock_id.clone()).collect();
    all.sort();
    assert_eq!(r.present(), all);
    let stored = r.app.store.vehicle(&stock[3].stock_id).unwrap().unwrap();
    assert_eq!(stored.record.price, stock[3].price);
    assert_eq!(stored.record.dealer_id, "dealer-001");
    assert!(r.app.store.cursor("dms").unwrap().is_some());

    // The key reached the DMS in the header the manifest names; the
    // plugin's configuration holds none.
    let stats = r.dms.stats();
    assert_eq!(stats.unauthorised, 0);
    assert_eq!(stats.auth_schemes.get("x-api-key"), Some(&3));
    assert!(!r.app.engine.sources()[0].config.contains(DMS_KEY));

    // Nothing changed: the next pass asks from the newest time and gets
    // only what it has read already.
    let idle = r.pull().await.unwrap();
    assert_eq!(
        (idle.created, idle.updated, idle.removed),
        (0, 0, 0),
        "{idle:?}"
    );
    assert!(r
        .dms
        .stats()
        .list_queries
        .last()
        .unwrap()
        .contains("updated_since="));

    // Price change, sale, deletion and a new arrival are picked up.
    let new = &forecourt::sample::sample_stock(13, 5)[12];
    assert!(r.dms.set_price(&stock[0].stock_id, 999_900));
    assert!(r.dms.sell(&stock[7].stock_id));
    assert!(r.dms.delete(&stock[8].stock_id));
    r.dms.upsert(new);
    let changes = r.pull().await.unwrap();
    assert_eq!(
        (changes.created, changes.updated, changes.removed),
        (1, 2, 1),
        "{changes:?}"
    );
    let repriced = r.app.store.vehicle(&stock[0].stock_id).unwrap().unwrap();
    assert_eq!(repriced.record.price.unwrap().amount_minor, 999_900);
    let sold = r.app.store.vehicle(&stock[7].stock_id).unwrap().unwrap();
    assert_eq!(sold.record.status, StockStatus::Sold);
    assert!(!r.present().contains(&stock[8].stock_id));
    assert!(r.present().contains(&new.stock_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_mid_pagination_never_moves_the_cursor_past_unstored_records() {
    for pagination in ["cursor", "page"] {
        let r = rest(3, pagination).await;
        for v in forecourt::sample::sample_stock(10, 9) {
            r.dms.upsert(&v);
        }
        // Page 1 arrives, page 2 fails.
        r.dms.inject([DmsFault::Pass, DmsFault::Status(503)]);
        let error = r.pull().await.unwrap_err().to_string();
        assert!(error.contains("transient"), "{pagination}: {error}");
        assert_eq!(r.present().len(), 3, "{pagination}: page 1 is stored");
        let failed_query = r.dms.stats().list_queries[1].clone();

        // A 429 on the retry: still nothing skipped.
        r.dms.inject([DmsFault::RateLimited {
            retry_after_secs: 2,
        }]);
        let error = r.pull().await.unwrap_err().to_string();
        assert!(error.contains("rate-limited"), "{pagination}: {error}");

        let rest_of_it = r.pull().await.unwrap();
        let queries = r.dms.stats().list_queries;
        // The retries asked for exactly the page that failed.
        assert_eq!(queries[2], failed_query, "{pagination}");
        assert_eq!(queries[3], failed_query, "{pagination}");
        assert_eq!(rest_of_it.created, 7, "{pagination}: {rest_of_it:?}");
        assert_eq!(r.present().len(), 10, "{pagination}");
    }
}

// ---------------------------------------------------------- dms-webhook --

struct Push {
    dir: tempfile::TempDir,
    app: App,
    service: PushService,
}

const PUSH_SOURCE: &str = r#"[[source]]
id = "dms-push"
plugin = "dms-webhook"
config = { dealer_id = "dealer-001" }
[source.push]
listen = "127.0.0.1:0"
"#;

async fn push_in(dir: tempfile::TempDir) -> Push {
    plugins(dir.path(), 8710);
    let (config, app) = app(dir.path(), PUSH_SOURCE).await;
    let plan = PushPlan::resolve(&config, &app).await.unwrap().unwrap();
    assert_eq!(plan.routes().len(), 1);
    // A push-only source is not pulled on schedule.
    assert!(!app.engine.sources()[0].pull_on_schedule);
    let service = plan.start().await.unwrap();
    Push { dir, app, service }
}

async fn push() -> Push {
    push_in(tempfile::tempdir().unwrap()).await
}

/// One HTTP/1.1 request on a fresh connection; the status and JSON body.
async fn http(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let status = text[9..12].parse().unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(body).unwrap())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Push {
    fn addr(&self) -> SocketAddr {
        self.service.addr("dms-push").unwrap()
    }

    async fn send(
        &self,
        body: &serde_json::Value,
        at: i64,
        secret: &str,
    ) -> (u16, serde_json::Value) {
        let bytes = body.to_string().into_bytes();
        let mut headers = vec![("X-Forecourt-Signature", sign(secret.as_bytes(), at, &bytes))];
        if let Some(id) = body["id"].as_str() {
            headers.push(("X-Forecourt-Event-Id", id.to_string()));
        }
        http(self.addr(), "/push/dms-push", &headers, &bytes).await
    }
}

fn event(id: &str, kind: &str, vehicle: &forecourt::runtime::types::Vehicle) -> serde_json::Value {
    let mut record = forecourt::dms_sandbox::dms_json(vehicle);
    record.insert("stock_number".into(), vehicle.stock_id.clone().into());
    serde_json::json!({
        "id": id,
        "type": kind,
        "occurred_at": "2024-05-01T10:15:00Z",
        "dealer_id": "dealer-001",
        "vehicle": record,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_push_reaches_the_store_and_202_means_it_was_stored() {
    let p = push().await;
    let stock = forecourt::sample::sample_stock(2, 21);
    let (status, answer) = p
        .send(
            &event("evt_1", "vehicle.created", &stock[0]),
            now(),
            PUSH_SECRET,
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    // When the answer arrived, the push was in the inbox, not yet applied.
    let rows = p.service.inbox().rows(10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].state.as_str(), rows[0].event_id.as_deref()),
        ("pending", Some("evt_1"))
    );
    assert!(p.app.store.vehicle(&stock[0].stock_id).unwrap().is_none());

    assert_eq!(p.service.process_due(&p.app.engine).await.unwrap(), 1);
    let stored = p.app.store.vehicle(&stock[0].stock_id).unwrap().unwrap();
    assert_eq!(stored.record.price, stock[0].price);
    assert_eq!(stored.record.registration, stock[0].registration);
    assert_eq!(stored.source, "dms-push");
    assert_eq!(p.service.inbox().rows(10).unwrap()[0].state, "done");

    // Sold, then deleted; applied in the order they arrived.
    let (s1, _) = p
        .send(
            &event("evt_2", "vehicle.sold", &stock[0]),
            now(),
            PUSH_SECRET,
        )
        .await;
    let (s2, _) = p
        .send(
            &event("evt_3", "vehicle.created", &stock[1]),
            now(),
            PUSH_SECRET,
        )
        .await;
    let (s3, _) = p
        .send(
            &serde_json::json!({"id": "evt_4", "type": "vehicle.deleted", "stock_id": stock[1].stock_id}),
            now(),
            PUSH_SECRET,
        )
        .await;
    assert_eq!((s1, s2, s3), (202, 202, 202));
    p.service.process_due(&p.app.engine).await.unwrap();
    let sold = p.app.store.vehicle(&stock[0].stock_id).unwrap().unwrap();
    assert_eq!(sold.record.status, StockStatus::Sold);
    let deleted = p.app.store.vehicle(&stock[1].stock_id).unwrap().unwrap();
    assert!(!deleted.present);
    assert!(p
        .service
        .inbox()
        .rows(10)
        .unwrap()
        .iter()
        .all(|r| r.state == "done" && !r.has_body));

    // A push the plugin cannot read is kept as failed, with the reason.
    let (status, _) = p
        .send(
            &serde_json::json!({"id": "evt_5", "hello": "world"}),
            now(),
            PUSH_SECRET,
        )
        .await;
    assert_eq!(
        status, 202,
        "signature and freshness are all the listener checks"
    );
    p.service.process_due(&p.app.engine).await.unwrap();
    let failed = &p.service.inbox().rows(1).unwrap()[0];
    assert_eq!(failed.state, "failed");
    assert!(
        failed.last_error.as_deref().unwrap().contains("no `type`"),
        "{failed:?}"
    );
    assert!(failed.has_body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_and_replayed_pushes_are_refused_and_change_nothing() {
    let p = push().await;
    let car = &forecourt::sample::sample_stock(1, 22)[0];
    let body = event("evt_10", "vehicle.created", car);

    let (status, answer) = p.send(&body, now(), "not-the-secret").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("bad_signature"))
    );
    let (status, answer) = p.send(&body, now() - 600, PUSH_SECRET).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("stale_timestamp"))
    );
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("tolerance is 300 s"));
    let (status, answer) = http(p.addr(), "/push/dms-push", &[], body.to_string().as_bytes()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("missing_signature"))
    );
    let (status, answer) = http(p.addr(), "/push/elsewhere", &[], b"{}").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (404, Some("unknown_source"))
    );
    assert!(p.service.inbox().rows(10).unwrap().is_empty());

    let at = now();
    assert_eq!(p.send(&body, at, PUSH_SECRET).await.0, 202);
    // The identical request again, and the same event re-signed later.
    let (status, answer) = p.send(&body, at, PUSH_SECRET).await;
    assert_eq!((status, answer["error"].as_str()), (409, Some("replay")));
    let (status, _) = p.send(&body, at + 1, PUSH_SECRET).await;
    assert_eq!(status, 409);
    assert_eq!(p.service.inbox().rows(10).unwrap().len(), 1);
    assert_eq!(p.service.process_due(&p.app.engine).await.unwrap(), 1);
    assert_eq!(p.app.store.present_vehicles().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_stored_before_a_crash_is_applied_at_the_next_start() {
    let p = push().await;
    let car = &forecourt::sample::sample_stock(1, 23)[0];
    assert_eq!(
        p.send(&event("evt_20", "vehicle.updated", car), now(), PUSH_SECRET)
            .await
            .0,
        202
    );
    // The host stops before processing it (as if killed after answering).
    let Push { dir, app, service } = p;
    service.shutdown().await;
    drop(app);

    let p = push_in(dir).await;
    assert!(p.app.store.vehicle(&car.stock_id).unwrap().is_none());
    assert_eq!(p.service.process_due(&p.app.engine).await.unwrap(), 1);
    assert!(p.app.store.vehicle(&car.stock_id).unwrap().unwrap().present);
    // And the replay memory survived the restart.
    assert_eq!(
        p.send(&event("evt_20", "vehicle.updated", car), now(), PUSH_SECRET)
            .await
            .0,
        409
    );
    let _ = p.dir.path();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_push_secret_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    plugins(dir.path(), 8710);
    let path = dir.path().join("forecourt.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"data\"\nplugins_dir = \"plugins\"\n{}{}secret = \"other_secret\"\n",
            trust_dev_key_section(),
            PUSH_SOURCE
        ),
    )
    .unwrap();
    let config = RawConfig::load(&path).unwrap();
    let app = forecourt::app::build_with_secrets(&config, Some(Box::new(MemorySecrets::default())))
        .await
        .unwrap();
    let error = match PushPlan::resolve(&config, &app).await {
        Err(e) => e,
        Ok(_) => panic!("resolve should fail"),
    };
    assert_eq!(
        forecourt::cli::exit_code_for(&error),
        forecourt::cli::EXIT_CONFIG
    );
    let message = error.to_string();
    assert!(
        message.contains("FORECOURT_SECRET_DMS_WEBHOOK_OTHER_SECRET"),
        "{message}"
    );
}
