//! End-to-end tests of the transports with real parts: the real csv-export,
//! google-vehicle-ads and schema-org components, real SQLite files, real
//! HTTP servers on loopback, and a real OpenSSH server (Debian's
//! openssh-server) started by the test.
//!
//! - a drop directory, an HTTP URL and an SFTP pickup each reach the store;
//! - a feed is served over HTTP(S) with auth, ETag, 304 and HEAD, and kept
//!   across a restart; schema.org vehicle documents are served;
//! - a feed is uploaded by SFTP under a temporary name and renamed (no
//!   reader ever sees part of it), retried after the server was down, and
//!   a refused key pauses the platform without losing the job.

use forecourt::app::App;
use forecourt::config::RawConfig;
use forecourt::runtime::secrets::MemorySecrets;
use forecourt::runtime::types::{StockStatus, Vehicle};
use forecourt::store::Store;
use forecourt_tests::sshd::{Sshd, PASSWORD_USER};
use forecourt_tests::*;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const GOOGLE_FEED: &str = "google-vehicle-ads.tsv";

/// The staged csv-export, google-vehicle-ads and schema-org plugins in `dir/plugins`.
fn plugins(dir: &Path) -> PathBuf {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for id in ["csv-export", "google-vehicle-ads", "schema-org"] {
        for ext in ["wasm", "toml"] {
            std::fs::write(
                plugins.join(format!("{id}.{ext}")),
                std::fs::read(staged_dir().join(format!("{id}.{ext}"))).unwrap_or_else(|e| {
                    panic!("{id}.{ext} is not staged ({e}); run `cargo xtask plugins` first")
                }),
            )
            .unwrap();
        }
        sign_with_dev_key(&plugins.join(format!("{id}.wasm")));
    }
    plugins
}

/// A csv-export source whose `document` is given by `document` (TOML lines
/// of `[source.document.*]` tables).
fn source(document: &str) -> String {
    format!(
        "[[source]]\nid = \"dms\"\nplugin = \"csv-export\"\nsnapshot_grace_secs = 0\n\
         max_snapshot_shrink = 1.0\nconfig = {{ dealer_id = \"dealer-001\" }}\n{document}\n"
    )
}

/// The Google feed platform with fast retries and `feed` (TOML lines of
/// `[platform.feed*]` tables).
fn google(feed: &str) -> String {
    format!(
        "[[platform]]\nid = \"google\"\nplugin = \"google-vehicle-ads\"\n\
         config = {{ store_code = \"dealer-001\", format = \"tsv\", link_template = \"https://dealer.example/cars/{{stock_id}}\" }}\n\
         retry = {{ base_ms = 5, cap_ms = 20, max_attempts = 50 }}\n{feed}\n"
    )
}

async fn app(dir: &Path, text: &str, secrets: MemorySecrets) -> (RawConfig, App) {
    let plugins = plugins(dir);
    let path = dir.join("forecourt.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"data\"\nplugins_dir = \"{}\"\n{}{text}",
            plugins.display(),
            trust_dev_key_section()
        ),
    )
    .unwrap();
    let config = RawConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let app = forecourt::app::build_with_secrets(&config, Some(Box::new(secrets)))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    (config, app)
}

fn stored_ids(app: &App) -> BTreeSet<String> {
    app.store
        .present_vehicles()
        .unwrap()
        .into_iter()
        .map(|v| v.record.stock_id)
        .collect()
}

fn ids(stock: &[Vehicle]) -> BTreeSet<String> {
    stock.iter().map(|v| v.stock_id.clone()).collect()
}

/// Write `bytes` to `path` with a modification time `age` in the past.
fn write_aged(path: &Path, bytes: &[u8], age: Duration) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
}

fn export_bytes(stock: &[Vehicle]) -> Vec<u8> {
    forecourt::sample::to_export_csv(stock)
}

/// Sync until nothing is queued (retries are a few milliseconds apart).
async fn converge(app: &App) {
    let started = std::time::Instant::now();
    loop {
        app.engine.sync_once().await.unwrap();
        if app.store.queue_depth(None).unwrap() == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "did not converge"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ----- pickups -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_drop_reaches_the_store_and_a_broken_file_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let (_, app) = app(
        dir.path(),
        &source("[source.document.directory]\npath = \"drop\"\npattern = \"stock-*.csv\"\nsettle_secs = 2\n"),
        MemorySecrets::default(),
    )
    .await;
    let stock = forecourt::sample::sample_stock(25, 3);

    // A file still being written (just modified) is left alone.
    write_aged(
        &drop.join("stock-1.csv"),
        &export_bytes(&stock),
        Duration::ZERO,
    );
    let report = app.engine.sync_once().await.unwrap();
    assert_eq!(report.pulls[0].pages, 0);
    assert!(stored_ids(&app).is_empty());

    // Once it has settled it is ingested and moved to processed/.
    write_aged(
        &drop.join("stock-1.csv"),
        &export_bytes(&stock),
        Duration::from_secs(30),
    );
    let report = app.engine.sync_once().await.unwrap();
    assert_eq!(report.pulls[0].created, stock.len());
    assert_eq!(stored_ids(&app), ids(&stock));
    assert!(drop.join("processed/stock-1.csv").exists());
    assert!(!drop.join("stock-1.csv").exists());

    // A file the plugin cannot parse changes nothing and goes to failed/.
    let snapshot = |app: &App| -> Vec<(String, String)> {
        app.store
            .present_vehicles()
            .unwrap()
            .into_iter()
            .map(|v| (v.record.stock_id, v.content_hash))
            .collect()
    };
    let before = snapshot(&app);
    write_aged(
        &drop.join("stock-2.csv"),
        b"Colour,Doors\nRed,5\n",
        Duration::from_secs(10),
    );
    let error = app.engine.sync_once().await.unwrap_err();
    assert!(
        format!("{error:#}").contains("stock id column"),
        "{error:#}"
    );
    assert_eq!(snapshot(&app), before);
    assert!(drop.join("failed/stock-2.csv").exists());
    let reason = std::fs::read_to_string(drop.join("failed/stock-2.csv.reason.txt")).unwrap();
    assert!(reason.contains("stock id column"), "{reason}");

    // The next good drop is picked up again.
    let mut newer = stock.clone();
    newer.truncate(20);
    write_aged(
        &drop.join("stock-3.csv"),
        &export_bytes(&newer),
        Duration::from_secs(5),
    );
    let report = app.engine.sync_once().await.unwrap();
    assert_eq!(report.pulls[0].pages, 1);
    assert_eq!(stored_ids(&app), ids(&newer));
}

/// What the export server saw: the `If-None-Match` sent and the status answered.
type ExportLog = Arc<Mutex<Vec<(Option<String>, u16)>>>;

/// A DMS export endpoint: basic auth, an ETag per version, 304s, and a log.
struct ExportServer {
    addr: SocketAddr,
    body: Arc<Mutex<(Vec<u8>, u32)>>,
    log: ExportLog,
}

impl ExportServer {
    async fn start(body: Vec<u8>) -> Self {
        use hyper::server::conn::http1;
        use hyper::service::service_fn;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let body = Arc::new(Mutex::new((body, 1u32)));
        let log: ExportLog = Arc::default();
        let (b, l) = (body.clone(), log.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (b, l) = (b.clone(), l.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (b, l) = (b.clone(), l.clone());
                        async move {
                            let header = |n: &str| {
                                req.headers()
                                    .get(n)
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_string)
                            };
                            let (bytes, version) = b.lock().unwrap().clone();
                            let etag = format!("\"v{version}\"");
                            let inm = header("if-none-match");
                            let mut response = hyper::Response::new(http_body_util::Full::new(
                                bytes::Bytes::new(),
                            ));
                            let status = if header("authorization").as_deref()
                                != Some("Basic ZGVhbGVyOmV4cG9ydC1wdw==")
                            {
                                401
                            } else if inm.as_deref() == Some(etag.as_str()) {
                                304
                            } else {
                                *response.body_mut() =
                                    http_body_util::Full::new(bytes::Bytes::from(bytes));
                                200
                            };
                            *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            response.headers_mut().insert("etag", etag.parse().unwrap());
                            l.lock().unwrap().push((inm, status));
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, body, log }
    }

    fn publish(&self, body: Vec<u8>) {
        let mut b = self.body.lock().unwrap();
        *b = (body, b.1 + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_export_reaches_the_store_and_is_not_reparsed_while_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut stock = forecourt::sample::sample_stock(20, 5);
    let server = ExportServer::start(export_bytes(&stock)).await;
    let document = format!(
        "[source.document.url]\naddress = \"http://{}/exports/stock.csv\"\nauth = \"basic\"\n\
         username = \"dealer\"\npassword_secret = \"export_password\"\ntimeout_secs = 10\n",
        server.addr
    );
    let secrets = MemorySecrets::default();
    secrets.set("dms", "export_password", "export-pw");
    let (_, app) = app(dir.path(), &source(&document), secrets).await;

    let report = app.engine.sync_once().await.unwrap();
    assert_eq!(report.pulls[0].created, stock.len());
    assert_eq!(stored_ids(&app), ids(&stock));

    // Unchanged: a conditional GET answered 304, nothing parsed.
    let report = app.engine.sync_once().await.unwrap();
    assert_eq!(report.pulls[0].pages, 0);
    assert_eq!(
        server.log.lock().unwrap().last().cloned(),
        Some((Some("\"v1\"".to_string()), 304))
    );

    // A new export version is fetched and applied.
    stock[0].price.as_mut().unwrap().amount_minor += 10_000;
    server.publish(export_bytes(&stock));
    let report = app.engine.sync_once().await.unwrap();
    assert_eq!((report.pulls[0].updated, report.pulls[0].created), (1, 0));
    assert_eq!(server.log.lock().unwrap().last().unwrap().1, 200);

    // Wrong credentials: a clear error, nothing changes.
    let dir2 = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::default();
    secrets.set("dms", "export_password", "wrong");
    let (_, other) = app_with(dir2.path(), &source(&document), secrets).await;
    let error = format!("{:#}", other.engine.sync_once().await.unwrap_err());
    assert!(error.contains("refused our credentials (401"), "{error}");
    assert!(
        !error.contains("wrong"),
        "secrets never appear in errors: {error}"
    );
    assert!(stored_ids(&other).is_empty());
}

/// Like [`app`], for a second application in another directory.
async fn app_with(dir: &Path, text: &str, secrets: MemorySecrets) -> (RawConfig, App) {
    app(dir, text, secrets).await
}

fn sftp_endpoint(sshd: &Sshd, auth: &str) -> String {
    format!(
        "host = \"127.0.0.1\"\nport = {}\nusername = \"{}\"\n{auth}\nknown_hosts = \"{}\"\ntimeout_secs = 10\n",
        sshd.port,
        sshd.user,
        sshd.known_hosts.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sftp_export_reaches_the_store_and_the_host_key_is_verified() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("remote/exports");
    let stock = forecourt::sample::sample_stock(30, 9);
    write_aged(
        &remote.join("stock-20240101.csv"),
        b"StockNo\nOLD\n",
        Duration::from_secs(600),
    );
    write_aged(
        &remote.join("stock-20240102.csv"),
        &export_bytes(&stock),
        Duration::from_secs(300),
    );
    write_aged(
        &remote.join("other.csv"),
        b"ignored",
        Duration::from_secs(60),
    );
    let document = format!(
        "[source.document.sftp]\n{}path = \"{}/stock-*.csv\"\nsettle_secs = 0\n",
        sftp_endpoint(
            &sshd,
            &format!("key_file = \"{}\"", sshd.client_key.display())
        ),
        remote.display()
    );
    let (_, app) = app(dir.path(), &source(&document), MemorySecrets::default()).await;
    let report = app
        .engine
        .sync_once()
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", sshd.log()));
    assert_eq!(report.pulls[0].created, stock.len());
    assert_eq!(stored_ids(&app), ids(&stock));
    // The same remote file again: not even downloaded.
    let report = app.engine.sync_once().await.unwrap();
    assert_eq!(report.pulls[0].pages, 0);
    assert!(
        remote.join("stock-20240102.csv").exists(),
        "remote files stay where the DMS put them"
    );

    // A pinned fingerprint that does not match: refused before authenticating.
    let dir2 = tempfile::tempdir().unwrap();
    let wrong = document.replace(
        &format!("known_hosts = \"{}\"", sshd.known_hosts.display()),
        &format!("host_key_fingerprint = \"SHA256:{}\"", "A".repeat(43)),
    );
    let (_, other) = app_with(dir2.path(), &source(&wrong), MemorySecrets::default()).await;
    let error = format!("{:#}", other.engine.sync_once().await.unwrap_err());
    assert!(
        error.contains(&sshd.fingerprint) && error.contains("does not match"),
        "{error}"
    );
    assert!(stored_ids(&other).is_empty());
}

// ----- feed delivery -----

/// Start the feed server of `config` for `app`.
async fn serve(app: &App, config: &RawConfig) -> forecourt::transport::server::RunningServer {
    forecourt::transport::setup::start_feed_server(
        config,
        app.engine.platforms(),
        app.store.clone() as Arc<dyn Store>,
        app.secrets.clone(),
    )
    .await
    .unwrap()
    .expect("a server")
}

/// One HTTP/1.1 exchange, read to the end (`Connection: close`).
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: feeds\r\nConnection: close\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

const FEED_AUTH: (&str, &str) = ("Authorization", "Basic bWVyY2hhbnQ6ZmVlZC1wdw=="); // merchant:feed-pw

fn served_config(stock_file: &str, tls: &str) -> String {
    format!(
        "[feed_server]\nlisten = \"127.0.0.1:0\"\n{tls}\n{}{}\
         [[platform]]\nid = \"website\"\nplugin = \"schema-org\"\n\
         config = {{ dealer_name = \"Forecourt Motors\", link_template = \"https://dealer.example/cars/{{stock_id}}\" }}\n\
         [platform.feed.serve]\nauth = \"none\"\nvehicle_documents = true\n",
        source(&format!("document = {{ file = \"{stock_file}\" }}")),
        google("[platform.feed.serve]\nauth = \"basic\"\nusername = \"merchant\"\npassword_secret = \"feed_password\"\n"),
    )
}

fn feed_secrets() -> MemorySecrets {
    let secrets = MemorySecrets::default();
    secrets.set("google", "feed_password", "feed-pw");
    secrets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_are_served_with_auth_etags_and_head_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let stock = forecourt::sample::sample_stock(30, 21);
    std::fs::write(dir.path().join("stock.csv"), export_bytes(&stock)).unwrap();
    let text = served_config("stock.csv", "");
    let (config, app) = app(dir.path(), &text, feed_secrets()).await;
    let server = serve(&app, &config).await;
    let addr = server.addr();
    let path = format!("/feeds/google/{GOOGLE_FEED}");

    // Before the first render: authenticated, but nothing to serve yet.
    assert_eq!(request(addr, "GET", &path, &[FEED_AUTH]).await.status, 404);
    converge(&app).await;

    let anonymous = request(addr, "GET", &path, &[]).await;
    assert_eq!(anonymous.status, 401);
    assert!(anonymous
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic"));
    let wrong = request(
        addr,
        "GET",
        &path,
        &[("Authorization", "Basic bWVyY2hhbnQ6bm8=")],
    )
    .await;
    assert_eq!(wrong.status, 401);

    let ok = request(addr, "GET", &path, &[FEED_AUTH]).await;
    assert_eq!(ok.status, 200);
    let feed = String::from_utf8(ok.body.clone()).unwrap();
    let listed = stock
        .iter()
        .find(|v| v.status == StockStatus::InStock)
        .unwrap();
    assert!(feed.contains(&listed.stock_id), "{feed}");
    assert_eq!(ok.header("content-type"), Some("text/tab-separated-values"));
    let etag = ok.header("etag").unwrap().to_string();
    let last_modified = ok.header("last-modified").unwrap().to_string();

    let cached = request(addr, "GET", &path, &[FEED_AUTH, ("If-None-Match", &etag)]).await;
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    assert_eq!(cached.header("etag"), Some(etag.as_str()));
    let since = request(
        addr,
        "GET",
        &path,
        &[FEED_AUTH, ("If-Modified-Since", &last_modified)],
    )
    .await;
    assert_eq!(since.status, 304);
    let changed = request(
        addr,
        "GET",
        &path,
        &[FEED_AUTH, ("If-None-Match", "\"stale\"")],
    )
    .await;
    assert_eq!(changed.status, 200);

    let head = request(addr, "HEAD", &path, &[FEED_AUTH]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(ok.body.len().to_string().as_str())
    );
    assert_eq!(head.header("etag"), Some(etag.as_str()));
    assert_eq!(request(addr, "POST", &path, &[FEED_AUTH]).await.status, 405);
    assert_eq!(
        request(addr, "GET", "/feeds/nope/x.tsv", &[]).await.status,
        404
    );
    assert_eq!(
        request(addr, "GET", "/feeds/google/..%2Fsecrets.toml", &[FEED_AUTH])
            .await
            .status,
        404
    );

    // schema.org: one JSON-LD document per published vehicle, and the index.
    let doc = request(
        addr,
        "GET",
        &format!("/feeds/website/vehicles/{}.jsonld", listed.stock_id),
        &[],
    )
    .await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.header("content-type"), Some("application/ld+json"));
    let json: serde_json::Value = serde_json::from_slice(&doc.body).unwrap();
    assert_eq!(json["@type"], "Car");
    assert_eq!(json["sku"], listed.stock_id.as_str());
    let doc_etag = doc.header("etag").unwrap().to_string();
    let again = request(
        addr,
        "GET",
        &format!("/feeds/website/vehicles/{}.jsonld", listed.stock_id),
        &[("If-None-Match", &doc_etag)],
    )
    .await;
    assert_eq!(again.status, 304);
    if let Some(sold) = stock.iter().find(|v| v.status == StockStatus::Sold) {
        let gone = request(
            addr,
            "GET",
            &format!("/feeds/website/vehicles/{}.jsonld", sold.stock_id),
            &[],
        )
        .await;
        assert_eq!(gone.status, 404, "sold stock has no page document");
    }
    assert_eq!(
        request(addr, "GET", "/feeds/website/vehicles.jsonld", &[])
            .await
            .status,
        200
    );

    // A restart serves the last feed at once, byte for byte, same ETag.
    drop(server);
    drop(app);
    let (config, app) = app_with(dir.path(), &text, feed_secrets()).await;
    let server = serve(&app, &config).await;
    let after = request(server.addr(), "GET", &path, &[FEED_AUTH]).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body, ok.body);
    assert_eq!(after.header("etag"), Some(etag.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_are_served_over_tls_from_pem_files() {
    let dir = tempfile::tempdir().unwrap();
    // A private CA and a certificate for 127.0.0.1 signed by it.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "forecourt test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.path().join("cert.pem"), leaf.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), leaf_key.serialize_pem()).unwrap();

    let stock = forecourt::sample::sample_stock(10, 2);
    std::fs::write(dir.path().join("stock.csv"), export_bytes(&stock)).unwrap();
    let text = served_config(
        "stock.csv",
        "tls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n",
    );
    let (config, app) = app(dir.path(), &text, feed_secrets()).await;
    let server = forecourt::transport::setup::start_feed_server(
        &config,
        app.engine.platforms(),
        app.store.clone() as Arc<dyn Store>,
        app.secrets.clone(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(server.base_url().starts_with("https://"));
    converge(&app).await;

    let client = forecourt::transport::http_client::HttpClient::new(
        Some(&dir.path().join("ca.pem")),
        Duration::from_secs(10),
        1 << 24,
    )
    .unwrap();
    let url = format!("{}/feeds/google/{GOOGLE_FEED}", server.base_url());
    let auth = http::HeaderValue::from_static(FEED_AUTH.1);
    let ok = client
        .get(&url, &http::HeaderMap::new(), Some(&auth))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    assert!(String::from_utf8(ok.body).unwrap().contains("id\t"));
    let denied = client
        .get(&url, &http::HeaderMap::new(), None)
        .await
        .unwrap();
    assert_eq!(denied.status, 401);
    // A client without the private CA refuses the certificate.
    let untrusting =
        forecourt::transport::http_client::HttpClient::new(None, Duration::from_secs(10), 1 << 20)
            .unwrap();
    let error = untrusting
        .get(&url, &http::HeaderMap::new(), Some(&auth))
        .await
        .unwrap_err();
    assert!(error.message.contains("TLS"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_are_uploaded_by_sftp_atomically_and_retried_after_an_outage() {
    let mut sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let upload = dir.path().join("remote/upload");
    std::fs::create_dir_all(&upload).unwrap();
    let mut stock = forecourt::sample::sample_stock(1500, 8);
    std::fs::write(dir.path().join("stock.csv"), export_bytes(&stock)).unwrap();
    let feed = format!(
        "[platform.feed.sftp]\n{}directory = \"{}\"\nretry = {{ attempts = 2, base_ms = 10, cap_ms = 20 }}\n",
        sftp_endpoint(&sshd, &format!("key_file = \"{}\"", sshd.client_key.display())),
        upload.display()
    );
    let text = format!(
        "{}{}",
        source("document = { file = \"stock.csv\" }"),
        google(&feed)
    );
    let (_, app) = app(dir.path(), &text, MemorySecrets::default()).await;
    converge(&app).await;
    let final_path = upload.join(GOOGLE_FEED);
    let first = std::fs::read(&final_path).unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert!(
        first.len() > 200_000,
        "a feed large enough to take many writes: {}",
        first.len()
    );
    assert!(
        String::from_utf8_lossy(&first).contains(&stock[0].stock_id)
            || stock[0].status != StockStatus::InStock
    );

    // Upload a new version while a reader keeps reading the final name: it
    // only ever sees one whole version or the other.
    for v in stock
        .iter_mut()
        .filter(|v| v.status == StockStatus::InStock)
    {
        v.price.as_mut().unwrap().amount_minor += 100;
    }
    std::fs::write(dir.path().join("stock.csv"), export_bytes(&stock)).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (stop, path) = (stop.clone(), final_path.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let bytes = std::fs::read(&path).expect("the final file never disappears");
                if seen.last() != Some(&bytes) {
                    seen.push(bytes);
                }
            }
            seen
        })
    };
    converge(&app).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.join().unwrap();
    let second = std::fs::read(&final_path).unwrap();
    assert_ne!(first, second);
    for version in &seen {
        assert!(
            *version == first || *version == second,
            "a reader saw a partial feed of {} bytes",
            version.len()
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&upload)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != GOOGLE_FEED)
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // The server goes away: the feed job is kept for retry, not lost.
    sshd.stop();
    let sold = stock
        .iter()
        .position(|v| v.status == StockStatus::InStock)
        .unwrap();
    stock[sold].status = StockStatus::Sold;
    std::fs::write(dir.path().join("stock.csv"), export_bytes(&stock)).unwrap();
    let report = app.engine.sync_once().await.unwrap();
    let google = report
        .deliveries
        .iter()
        .find(|d| d.platform == "google")
        .unwrap();
    assert!(google.retried > 0 && google.done == 0, "{google:?}");
    assert!(app.store.queue_depth(Some("google")).unwrap() > 0);
    let listing = app
        .store
        .listing(&stock[sold].stock_id, "google")
        .unwrap()
        .unwrap();
    assert_eq!(listing.error_class.as_deref(), Some("transient"));
    assert!(listing.last_error.unwrap().contains("127.0.0.1"));
    assert_eq!(
        std::fs::read(&final_path).unwrap(),
        second,
        "the old feed stays whole"
    );

    // It comes back: the retry delivers the new feed.
    sshd.resume();
    converge(&app).await;
    let third = String::from_utf8(std::fs::read(&final_path).unwrap()).unwrap();
    assert!(
        !third.contains(&format!("{}\t", stock[sold].stock_id)),
        "the sold car left the feed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sftp_key_pauses_the_platform_and_keeps_the_feed_job() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let stranger = dir.path().join("stranger_key");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&stranger)
        .status()
        .unwrap();
    assert!(out.success());
    let stock = forecourt::sample::sample_stock(5, 4);
    std::fs::write(dir.path().join("stock.csv"), export_bytes(&stock)).unwrap();
    let feed = format!(
        "[platform.feed.sftp]\n{}directory = \"{}\"\n",
        sftp_endpoint(&sshd, &format!("key_file = \"{}\"", stranger.display())),
        dir.path().display()
    );
    let text = format!(
        "{}{}",
        source("document = { file = \"stock.csv\" }"),
        google(&feed)
    );
    let (_, app) = app(dir.path(), &text, MemorySecrets::default()).await;
    let report = app.engine.sync_once().await.unwrap();
    let google = report
        .deliveries
        .iter()
        .find(|d| d.platform == "google")
        .unwrap();
    assert_eq!((google.done, google.dead), (0, 0), "{google:?}");
    let paused = app.store.paused("google").unwrap().expect("paused");
    assert!(paused.contains("refused our key"), "{paused}");
    assert!(
        app.store.queue_depth(Some("google")).unwrap() > 0,
        "the job is kept"
    );
    assert!(!dir.path().join(GOOGLE_FEED).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sftp_password_authentication_uploads_and_picks_up() {
    let sshd = Sshd::start();
    let password = format!("pw-{}", rand::random::<u64>());
    let home = Sshd::ensure_password_user(&password);
    let dir = tempfile::tempdir().unwrap();
    let exports = home.join("exports");
    let stock = forecourt::sample::sample_stock(12, 6);
    write_aged(
        &exports.join("stock.csv"),
        &export_bytes(&stock),
        Duration::from_secs(120),
    );
    let endpoint = format!(
        "host = \"127.0.0.1\"\nport = {}\nusername = \"{PASSWORD_USER}\"\npassword_secret = \"sftp_password\"\n\
         host_key_fingerprint = \"{}\"\ntimeout_secs = 10\n",
        sshd.port, sshd.fingerprint
    );
    let text = format!(
        "{}{}",
        source(&format!(
            "[source.document.sftp]\n{endpoint}path = \"{}\"\nsettle_secs = 0\n",
            exports.join("stock.csv").display()
        )),
        google(&format!(
            "[platform.feed.sftp]\n{endpoint}directory = \"{}\"\n",
            home.display()
        )),
    );
    let secrets = MemorySecrets::default();
    secrets.set("dms", "sftp_password", &password);
    secrets.set("google", "sftp_password", &password);
    let (_, app) = app(dir.path(), &text, secrets).await;
    converge(&app).await;
    assert_eq!(stored_ids(&app), ids(&stock));
    let uploaded = std::fs::read_to_string(home.join(GOOGLE_FEED))
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert!(uploaded.starts_with("id\t"), "{uploaded}");
    let _ = std::fs::remove_file(home.join(GOOGLE_FEED));
    let _ = std::fs::remove_dir_all(&exports);
}
