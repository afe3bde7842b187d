//! End-to-end tests of the data-quality pipeline with real parts: a messy
//! DMS export (tests/fixtures/quality/messy-dms-export.csv) through the
//! real csv-export component into a real SQLite store, the autotrader
//! plugin against the sandbox marketplace and the Google feed; and image
//! sizes read from real PNG, JPEG, GIF and WebP files served on loopback.

use forecourt::app::App;
use forecourt::config::RawConfig;
use forecourt::quality::image_probe::{fetch_size, ImageProbe, Measured, ProbeSettings};
use forecourt::quality::QualityStore;
use forecourt::sandbox::{Sandbox, SandboxConfig};
use forecourt::store::Store;
use forecourt_tests::*;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ADVERTISER: &str = "10008899";

fn fixture(relative: &str) -> std::path::PathBuf {
    workspace_root().join("tests/fixtures").join(relative)
}

struct Pipeline {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    sandbox: Sandbox,
    app: App,
}

async fn pipeline(stock_csv: &[u8], quality: &str) -> Pipeline {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let plugins = plugins_for_sandbox(dir.path(), sandbox.addr().port());
    let config = pipeline_config(dir.path(), &plugins, &sandbox.base_url(), "");
    let text = std::fs::read_to_string(&config).unwrap() + quality;
    std::fs::write(&config, text).unwrap();
    std::fs::write(dir.path().join("stock.csv"), stock_csv).unwrap();
    let app = forecourt::app::build_with_secrets(
        &RawConfig::load(&config).unwrap(),
        Some(sandbox_secrets()),
    )
    .await
    .unwrap();
    Pipeline {
        dir,
        config,
        sandbox,
        app,
    }
}

impl Pipeline {
    async fn converge(&self) {
        for _ in 0..200 {
            self.app.engine.sync_once().await.unwrap();
            if self.app.store.queue_depth(None).unwrap() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("did not converge");
    }

    fn on_autotrader(&self, stock_id: &str) -> Option<serde_json::Value> {
        self.sandbox.find_by_reference(ADVERTISER, stock_id)
    }

    fn feed(&self) -> String {
        std::fs::read_dir(self.dir.path().join("feeds/google"))
            .unwrap()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect()
    }

    fn issues(
        &self,
        stock_id: &str,
        platform: &str,
    ) -> Vec<forecourt::runtime::types::ValidationIssue> {
        let l = self.app.store.listing(stock_id, platform).unwrap().unwrap();
        serde_json::from_str(l.issues.as_deref().unwrap_or("[]")).unwrap()
    }

    fn lifecycle(&self, stock_id: &str, platform: &str) -> String {
        self.app
            .store
            .listing(stock_id, platform)
            .unwrap()
            .unwrap()
            .lifecycle
    }
}

/// The expected outcome of each fixture vehicle: listed, or blocked by a rule on field.
enum Expect {
    Listed,
    Blocked(&'static str, &'static str),
    NotAdvertised,
}

const EXPECTED: &[(&str, Expect)] = &[
    ("MESSY01", Expect::Listed), // mixed case, synonyms
    ("MESSY02", Expect::Blocked("price-placeholder", "price")), // £9,999
    ("MESSY03", Expect::Blocked("price-placeholder", "price")), // 123456
    ("MESSY04", Expect::Blocked("images-min-count", "images")), // three images
    ("MESSY05", Expect::Listed), // contact details stripped
    ("MESSY06", Expect::Blocked("images-min-count", "images")), // duplicate + placeholder leave five
    (
        "MESSY07",
        Expect::Blocked("registration-age", "registration"),
    ), // 71 plate, August 2021
    (
        "MESSY08",
        Expect::Blocked("registration-format", "registration"),
    ), // 12AB34
    ("MESSY09", Expect::Blocked("mandatory-fields", "colour")), // no colour, no doors
    (
        "MESSY10",
        Expect::Blocked("description-script", "description"),
    ), // <script>
    ("MESSY11", Expect::Listed),                                // new, unregistered
    ("MESSY12", Expect::Listed), // personal data only in internal notes
    ("MESSY13", Expect::Blocked("vin-format", "vin")), // I in the VIN
    ("MESSY14", Expect::Listed), // MERCEDES, Petrol/Electric, Semi-Auto
    ("MESSY15", Expect::NotAdvertised), // sold
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messy_dms_export_is_cleaned_checked_and_only_good_listings_leave() {
    let csv = std::fs::read(fixture("quality/messy-dms-export.csv")).unwrap();
    let p = pipeline(&csv, "").await;
    p.converge().await;
    let feed = p.feed();

    for (stock_id, expect) in EXPECTED {
        match expect {
            Expect::Listed => {
                assert!(
                    p.on_autotrader(stock_id).is_some(),
                    "{stock_id} is on Auto Trader: {:?}",
                    p.issues(stock_id, "autotrader")
                );
                assert!(feed.contains(stock_id), "{stock_id} is in the Google feed");
                for platform in ["autotrader", "google"] {
                    assert!(
                        p.issues(stock_id, platform).iter().all(|i| !matches!(
                            i.severity,
                            forecourt::runtime::types::Severity::Error
                        )),
                        "{stock_id} on {platform}"
                    );
                }
            }
            Expect::Blocked(rule, field) => {
                assert!(
                    p.on_autotrader(stock_id).is_none(),
                    "{stock_id} never reached Auto Trader"
                );
                assert!(!feed.contains(stock_id), "{stock_id} is not in the feed");
                for platform in ["autotrader", "google"] {
                    assert_eq!(
                        p.lifecycle(stock_id, platform),
                        "blocked",
                        "{stock_id} on {platform}"
                    );
                    let issues = p.issues(stock_id, platform);
                    assert!(
                        issues.iter().any(|i| i.field == *field
                            && i.message.ends_with(&format!("[{rule}]"))
                            && matches!(i.severity, forecourt::runtime::types::Severity::Error)),
                        "{stock_id} on {platform}: expected {rule} on {field}, got {issues:?}"
                    );
                }
            }
            Expect::NotAdvertised => {
                assert!(
                    p.on_autotrader(stock_id).is_none() && !feed.contains(stock_id),
                    "{stock_id}"
                );
            }
        }
    }

    // Normalisation: what Auto Trader received for the shouting, synonym-laden MESSY01.
    let golf = p.on_autotrader("MESSY01").unwrap().to_string();
    assert!(
        golf.contains("Volkswagen") && golf.contains("Golf"),
        "{golf}"
    );
    assert!(
        golf.contains("\"Grey\""),
        "colour mapped to the vocabulary: {golf}"
    );
    let body = p
        .app
        .store
        .listing("MESSY01", "google")
        .unwrap()
        .unwrap()
        .published_body
        .unwrap();
    assert!(body.contains("Full service history"), "terminology: {body}");
    assert!(!body.contains("FSH"), "{body}");
    let merc = p
        .app
        .store
        .listing("MESSY14", "autotrader")
        .unwrap()
        .unwrap()
        .published_body
        .unwrap();
    assert!(merc.contains("Mercedes-Benz"), "{merc}");

    // Personal data: removed from what was sent; the audit says what kind and how many, never what.
    for platform in ["autotrader", "google"] {
        let body = p
            .app
            .store
            .listing("MESSY05", platform)
            .unwrap()
            .unwrap()
            .published_body
            .unwrap();
        assert!(
            !body.contains("07700") && !body.contains("dave.smith"),
            "{platform}: {body}"
        );
        let issues = p.issues("MESSY05", platform);
        assert!(
            issues
                .iter()
                .any(|i| i.message.ends_with("[personal-data]")),
            "{issues:?}"
        );
    }
    let audit = p.app.store.audit_tail(10_000).unwrap();
    let stripped: Vec<_> = audit
        .iter()
        .filter(|a| a.entry.step.as_deref() == Some("personal-data-stripped"))
        .collect();
    assert_eq!(
        stripped.len(),
        1,
        "one vehicle had personal data in its text"
    );
    assert_eq!(stripped[0].entry.stock_id.as_deref(), Some("MESSY05"));
    let detail = stripped[0].entry.detail.to_string();
    assert!(
        detail.contains("\"phone\"")
            && detail.contains("\"email\"")
            && detail.contains("\"count\":1"),
        "{detail}"
    );
    let whole_audit = serde_json::to_string(&audit).unwrap();
    assert!(
        !whole_audit.contains("07700")
            && !whole_audit.contains("dave.smith")
            && !whole_audit.contains("Jones")
    );
    // Hub-only data (MESSY12's internal notes) never left the hub.
    for platform in ["autotrader", "google"] {
        let body = p
            .app
            .store
            .listing("MESSY12", platform)
            .unwrap()
            .unwrap()
            .published_body
            .unwrap();
        assert!(
            !body.contains("Jones") && !body.contains("900456") && !body.contains("11000"),
            "{body}"
        );
    }
    assert!(!feed.contains("Jones"));

    // Completeness is stored, queryable and aggregated per platform.
    let rows = p.app.store.completeness(Some("autotrader")).unwrap();
    assert_eq!(rows.len(), 14, "every advertisable vehicle is scored");
    let nine = rows.iter().find(|r| r.stock_id == "MESSY09").unwrap();
    assert_eq!(nine.required_missing, vec!["colour", "doors"]);
    assert!(nine.score < rows.iter().find(|r| r.stock_id == "MESSY01").unwrap().score);
    let summary = p.app.store.completeness_summary().unwrap();
    assert_eq!(
        summary
            .iter()
            .map(|s| s.platform.as_str())
            .collect::<Vec<_>>(),
        vec!["autotrader", "google"]
    );
    assert!(summary
        .iter()
        .all(|s| s.vehicles == 14 && s.missing_required >= 1));

    // The preview shows what is published, unchanged, and why a listing is held.
    let vehicles = vec![
        p.app.store.vehicle("MESSY01").unwrap().unwrap(),
        p.app.store.vehicle("MESSY02").unwrap().unwrap(),
    ];
    let previews = forecourt::preview::previews(&p.app.engine, &vehicles, None, false)
        .await
        .unwrap();
    assert_eq!(previews.len(), 4);
    let golf = previews
        .iter()
        .find(|v| v.stock_id == "MESSY01" && v.platform == "autotrader")
        .unwrap();
    assert_eq!((golf.outcome.as_str(), golf.diff.len()), ("unchanged", 0));
    let published: serde_json::Value = serde_json::from_str(
        &p.app
            .store
            .listing("MESSY01", "autotrader")
            .unwrap()
            .unwrap()
            .published_body
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        golf.body.as_ref(),
        Some(&published),
        "exactly what the platform received"
    );
    let held = previews
        .iter()
        .find(|v| v.stock_id == "MESSY02" && v.platform == "google")
        .unwrap();
    assert_eq!(held.outcome, "blocked");
    assert!(held.issues.iter().any(|i| i.field == "price"));

    // An existing listing whose data becomes blocked: what is published stays,
    // the listing shows as blocked with the reason.
    let text = String::from_utf8(csv.clone())
        .unwrap()
        .replace("\"31,000\"", "\"21,000\"");
    std::fs::write(p.dir.path().join("stock.csv"), &text).unwrap();
    let before = p.sandbox.stats().stock_calls();
    p.converge().await;
    assert_eq!(p.sandbox.stats().stock_calls(), before, "nothing was sent");
    assert_eq!(p.lifecycle("MESSY01", "autotrader"), "blocked");
    assert!(p
        .issues("MESSY01", "autotrader")
        .iter()
        .any(|i| i.message.ends_with("[mileage-regression]")));
    let shown = p.on_autotrader("MESSY01").unwrap();
    assert_eq!(
        shown["metadata"]["lifecycleState"], "FORECOURT",
        "the last good listing stays up"
    );
    assert!(shown.to_string().contains("31000"), "{shown}");
    // The dealer confirms the lower reading was right: it goes out.
    p.app
        .store
        .reset_mileage("MESSY01", "operator:test", forecourt::store::now_ms())
        .unwrap();
    p.converge().await;
    assert_eq!(p.lifecycle("MESSY01", "autotrader"), "in-sync");
    assert!(p
        .on_autotrader("MESSY01")
        .unwrap()
        .to_string()
        .contains("21000"));

    // A dry run plans the next cycle without sending or storing anything.
    let text = text
        .replace("\"£21,495\"", "\"£20,995\"")
        .replace("\"£9,999\"", "\"£10,495\"");
    std::fs::write(p.dir.path().join("stock.csv"), &text).unwrap();
    let calls = p.sandbox.stats().stock_calls();
    let merc_before = p
        .app
        .store
        .vehicle("MESSY14")
        .unwrap()
        .unwrap()
        .content_hash;
    let audit_before = p.app.store.audit_tail(1).unwrap()[0].seq;
    let report = forecourt::preview::dry_run_cycle(&RawConfig::load(&p.config).unwrap())
        .await
        .unwrap();
    let ops: Vec<(String, String, String)> = report
        .operations
        .iter()
        .map(|o| (o.platform.clone(), o.stock_id.clone(), o.operation.clone()))
        .collect();
    assert!(
        ops.contains(&("autotrader".into(), "MESSY14".into(), "update".into())),
        "{ops:?}"
    );
    assert!(
        ops.contains(&("autotrader".into(), "MESSY02".into(), "create".into())),
        "{ops:?}"
    );
    assert!(
        ops.contains(&("google".into(), "MESSY02".into(), "create".into())),
        "{ops:?}"
    );
    assert!(
        report.blocked.iter().any(|b| b.stock_id == "MESSY04"),
        "blocked listings are reported"
    );
    assert_eq!(p.sandbox.stats().stock_calls(), calls, "nothing was sent");
    assert_eq!(
        p.app
            .store
            .vehicle("MESSY14")
            .unwrap()
            .unwrap()
            .content_hash,
        merc_before,
        "the store was not changed"
    );
    assert_eq!(p.app.store.queue_depth(None).unwrap(), 0);
    assert_eq!(p.app.store.audit_tail(1).unwrap()[0].seq, audit_before);
    assert_eq!(
        p.app
            .store
            .listing("MESSY02", "autotrader")
            .unwrap()
            .unwrap()
            .lifecycle,
        "blocked"
    );
    // The real cycle then does what the dry run said.
    p.converge().await;
    assert!(p.on_autotrader("MESSY02").is_some());
    assert!(p
        .on_autotrader("MESSY14")
        .unwrap()
        .to_string()
        .contains("20995"));
}

/// A loopback image server: serves the fixture images, honours `Range`
/// (or ignores it for paths under /norange/), redirects /moved/, 404s
/// anything else, and stalls on /slow/. Records every request's Range header.
struct ImageServer {
    addr: SocketAddr,
    ranges: Arc<Mutex<Vec<(String, Option<String>)>>>,
}

impl ImageServer {
    async fn start() -> Self {
        use hyper::server::conn::http1;
        use hyper::service::service_fn;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let ranges: Arc<Mutex<Vec<(String, Option<String>)>>> = Arc::default();
        let seen = ranges.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let seen = seen.clone();
                        async move {
                            let path = req.uri().path().to_string();
                            let range = req
                                .headers()
                                .get("range")
                                .map(|r| r.to_str().unwrap().to_string());
                            seen.lock().unwrap().push((path.clone(), range.clone()));
                            let response = |status: u16, body: Vec<u8>| {
                                hyper::Response::builder()
                                    .status(status)
                                    .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                                    .unwrap()
                            };
                            if let Some(rest) = path.strip_prefix("/moved/") {
                                return Ok::<_, std::convert::Infallible>(
                                    hyper::Response::builder()
                                        .status(302)
                                        .header("location", format!("/img/{rest}"))
                                        .body(http_body_util::Full::new(bytes::Bytes::new()))
                                        .unwrap(),
                                );
                            }
                            if path.starts_with("/slow/") {
                                tokio::time::sleep(Duration::from_secs(30)).await;
                            }
                            let name = path.rsplit('/').next().unwrap_or("");
                            let Ok(file) = std::fs::read(fixture(&format!("images/{name}"))) else {
                                return Ok(response(404, b"not found".to_vec()));
                            };
                            match range.and_then(|r| {
                                r.strip_prefix("bytes=0-")
                                    .and_then(|n| n.parse::<usize>().ok())
                            }) {
                                Some(last) if !path.starts_with("/norange/") => {
                                    let end = (last + 1).min(file.len());
                                    Ok(response(206, file[..end].to_vec()))
                                }
                                _ => Ok(response(200, file)),
                            }
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, ranges }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }
}

fn loopback() -> ProbeSettings {
    ProbeSettings {
        timeout: Duration::from_millis(1_500),
        concurrency: 2,
        private_hosts: vec!["127.0.0.1".into()],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_sizes_are_read_from_the_first_bytes_of_real_files_on_loopback() {
    let server = ImageServer::start().await;
    let settings = loopback();
    for (path, size) in [
        ("/img/car-1024x768.jpg", (1024, 768)),
        ("/img/car-900x700-progressive.jpg", (900, 700)),
        ("/img/car-640x480.png", (640, 480)),
        ("/img/car-1200x800.webp", (1200, 800)),
        ("/img/car-801x601-lossless.webp", (801, 601)),
        ("/img/car-320x240.gif", (320, 240)),
        ("/norange/car-1024x768.jpg", (1024, 768)),
        ("/moved/car-640x480.png", (640, 480)),
    ] {
        assert_eq!(
            fetch_size(&server.url(path), &settings).await,
            Ok(size),
            "{path}"
        );
    }
    let ranges = server.ranges.lock().unwrap().clone();
    assert!(
        ranges
            .iter()
            .all(|(_, r)| r.as_deref() == Some("bytes=0-65535")),
        "only the first bytes are asked for: {ranges:?}"
    );
    let err = fetch_size(&server.url("/img/missing.jpg"), &settings)
        .await
        .unwrap_err();
    assert_eq!(err, "HTTP 404");
    // Loopback is refused unless the operator names it.
    let err = fetch_size(
        &server.url("/img/car-640x480.png"),
        &ProbeSettings::default(),
    )
    .await
    .unwrap_err();
    assert!(err.contains("not on a public address"), "{err}");

    // The probe caches by URL, bounds a stalled server by its timeout, and
    // asks for a re-plan of the vehicles waiting for a size.
    let store = Arc::new(forecourt::store::SqliteStore::in_memory().unwrap());
    let probe = ImageProbe::new(store.clone() as Arc<dyn Store>, settings);
    let started = std::time::Instant::now();
    let slow = probe
        .measure_and_cache(&server.url("/slow/car-640x480.png"))
        .await;
    assert!(
        matches!(slow, Measured::Failed(ref why) if why.contains("1500 ms")),
        "{slow:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let url = server.url("/img/car-1024x768.jpg");
    probe.schedule(&url, "FC1");
    for _ in 0..200 {
        if probe.pending() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cached = store.image_sizes(std::slice::from_ref(&url)).unwrap();
    assert_eq!(cached[&url].measured, Measured::Size(1024, 768));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measured_image_sizes_reach_later_plans_without_stalling_a_sync() {
    let server = ImageServer::start().await;
    // One vehicle whose photos live on the loopback server, one of them too small.
    let csv = std::fs::read_to_string(fixture("quality/messy-dms-export.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    let row = csv.lines().find(|l| l.starts_with("MESSY11,")).unwrap();
    let images: Vec<String> = (0..7)
        .map(|i| server.url(&format!("/img/car-1024x768.jpg?n={i}")))
        .chain([server.url("/img/car-640x480.png")])
        .collect();
    let old_images = row
        .split(',')
        .find(|c| c.starts_with("https://images.messy-dms.example/"))
        .unwrap();
    let row = row.replace(old_images, &images.join("|"));
    let quality =
        "\n[quality]\nimage_fetch_private_hosts = [\"127.0.0.1\"]\nimage_fetch_timeout_ms = 2000\n";
    let p = pipeline(format!("{header}\n{row}\n").as_bytes(), quality).await;

    // First sync: sizes unknown (a warning), measured in the background;
    // the listing goes out without waiting for them.
    p.app.engine.sync_once().await.unwrap();
    assert!(p.on_autotrader("MESSY11").is_some());
    let probe = p.app.engine.quality().probe().unwrap().clone();
    for _ in 0..300 {
        if probe.pending() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The next sync uses the cache: the small photo now blocks further
    // updates; the published listing stays up.
    p.converge().await;
    let issues = p.issues("MESSY11", "autotrader");
    assert!(
        issues
            .iter()
            .any(|i| i.message.contains("images[7] is 640x480")
                && i.message.ends_with("[images-min-resolution]")),
        "{issues:?}"
    );
    assert_eq!(p.lifecycle("MESSY11", "autotrader"), "blocked");
    assert!(p.on_autotrader("MESSY11").is_some());
    let requests = server.ranges.lock().unwrap().len();
    assert_eq!(
        requests, 8,
        "each URL was fetched once and then served from the cache"
    );
    assert!(Path::new(&p.dir.path().join("data/forecourt.db")).exists());
}
