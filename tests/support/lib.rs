//! Shared helpers for the end-to-end and adversarial tests: where the built
//! components are, manifests written on the fly, a runtime, and a recording
//! HTTP server on loopback.

pub mod chromium;
pub mod scripted;
pub mod smtp;
pub mod sshd;

use forecourt::runtime::kv::MemoryKv;
use forecourt::runtime::secrets::MemorySecrets;
use forecourt::runtime::{Runtime, RuntimeOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub mod alerts;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Where `cargo xtask plugins` stages components.
pub fn staged_dir() -> PathBuf {
    workspace_root().join("target/forecourt-plugins")
}

/// The bytes of a staged component; fails with instructions when missing.
pub fn component_bytes(relative: &str) -> Vec<u8> {
    let path = staged_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "component {} is missing ({e}); build the plugins first with `cargo xtask plugins` (`cargo xtask test` does it for you)",
            path.display()
        )
    })
}

/// Hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Copy a component into `dir` as `<id>.wasm` and write `<id>.toml` with its
/// sha256, the contract version it exports and the extra manifest text;
/// returns the component path.
pub fn stage_with_manifest(dir: &Path, id: &str, kind: &str, wasm: &[u8], extra: &str) -> PathBuf {
    let path = dir.join(format!("{id}.wasm"));
    std::fs::write(&path, wasm).unwrap();
    let contract = forecourt::contract::read_facts(wasm)
        .ok()
        .and_then(|f| f.contract_version)
        .unwrap_or_else(|| forecourt::contract::CURRENT.to_string());
    let manifest = format!(
        "[plugin]\nid = \"{id}\"\nkind = \"{kind}\"\nversion = \"0.1.0\"\ncontract = \"{contract}\"\nsha256 = \"{}\"\n{extra}",
        sha256_hex(wasm)
    );
    std::fs::write(path.with_extension("toml"), manifest).unwrap();
    path
}

/// A runtime with in-memory state and the given secrets.
pub fn runtime(secrets: Arc<MemorySecrets>, cache_dir: Option<PathBuf>) -> Runtime {
    Runtime::new(RuntimeOptions {
        cache_dir,
        kv: Arc::new(MemoryKv::default()),
        secrets,
        pooling: true,
    })
    .expect("runtime starts")
}

/// One request as the recording server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method and path.
    pub line: String,
    /// Every header, lower-case names.
    pub headers: Vec<(String, String)>,
}

/// A loopback HTTP server that answers 200 "hello" and records requests.
pub struct RecordingServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it received.
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl RecordingServer {
    /// Start on an ephemeral loopback port.
    pub async fn start() -> Self {
        use hyper::server::conn::http1;
        use hyper::service::service_fn;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let record = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let record = record.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let record = record.clone();
                        async move {
                            record.lock().unwrap().push(Seen {
                                line: format!("{} {}", req.method(), req.uri()),
                                headers: req
                                    .headers()
                                    .iter()
                                    .map(|(k, v)| {
                                        (
                                            k.as_str().to_string(),
                                            v.to_str().unwrap_or("").to_string(),
                                        )
                                    })
                                    .collect(),
                            });
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                http_body_util::Full::new(bytes::Bytes::from_static(b"hello")),
                            ))
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, seen }
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A plugins directory for one test: the staged reference plugins, with the
/// autotrader manifest's sandbox origin pointed at `sandbox_port`.
pub fn plugins_for_sandbox(dir: &Path, sandbox_port: u16) -> PathBuf {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for id in ["csv-export", "autotrader", "google-vehicle-ads"] {
        std::fs::write(
            plugins.join(format!("{id}.wasm")),
            component_bytes(&format!("{id}.wasm")),
        )
        .unwrap();
        let manifest = std::fs::read_to_string(staged_dir().join(format!("{id}.toml"))).unwrap();
        let manifest = manifest.replace(
            "http://127.0.0.1:8700",
            &format!("http://127.0.0.1:{sandbox_port}"),
        );
        std::fs::write(plugins.join(format!("{id}.toml")), manifest).unwrap();
        // The manifest changed (its origin), so its publisher signs it again.
        sign_with_dev_key(&plugins.join(format!("{id}.wasm")));
    }
    std::fs::copy(dev_public_key_file(), plugins.join("dev-publisher.pub")).unwrap();
    plugins
}

/// The development publisher key `cargo xtask plugins` signs staged plugins with.
pub fn dev_key() -> forecourt_signing::SecretKey {
    let path = workspace_root().join("target/dev-publisher/dev-publisher.key");
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the development publisher key {} is missing ({e}); run `cargo xtask plugins`",
            path.display()
        )
    });
    forecourt_signing::SecretKey::from_pem(&pem).expect("the development key parses")
}

/// The staged development public key (what configurations trust).
pub fn dev_public_key_file() -> PathBuf {
    staged_dir().join("dev-publisher.pub")
}

/// Sign `component` and its `.toml` beside it with the development key,
/// writing the `.sig` beside them.
pub fn sign_with_dev_key(component: &Path) {
    sign_with(&dev_key(), component);
}

/// Sign `component` and its `.toml` beside it with `key`.
pub fn sign_with(key: &forecourt_signing::SecretKey, component: &Path) {
    let wasm = std::fs::read(component).unwrap();
    let manifest = std::fs::read(component.with_extension("toml")).unwrap();
    let sig = forecourt_signing::sign(key, &wasm, &manifest).unwrap();
    std::fs::write(component.with_extension("sig"), sig.to_toml()).unwrap();
}

/// A `[plugins]` section that trusts the development publisher key.
pub fn trust_dev_key_section() -> String {
    format!(
        "[plugins]\ntrusted_keys_file = \"{}\"\n",
        dev_public_key_file().display()
    )
}

/// A configuration for the reference pipeline: csv-export from
/// `<dir>/stock.csv`, autotrader against the sandbox, and the Google feed.
pub fn pipeline_config(
    dir: &Path,
    plugins: &Path,
    sandbox_url: &str,
    extra_platform: &str,
) -> PathBuf {
    let text = format!(
        r#"data_dir = "data"
plugins_dir = "{plugins}"

{trust}
[[source]]
id = "dms"
plugin = "csv-export"
document = {{ file = "stock.csv" }}
snapshot_grace_secs = 0
max_snapshot_shrink = 1.0
config = {{ dealer_id = "dealer-001" }}

[[platform]]
id = "autotrader"
plugin = "autotrader"
config = {{ base_url = "{sandbox_url}", advertiser_id = "10008899" }}
grants = {{ plain_http_hosts = ["127.0.0.1"], private_network_hosts = ["127.0.0.1"] }}
retry = {{ base_ms = 5, cap_ms = 50, max_attempts = 50 }}
rate_limit_per_minute = 600000
{extra_platform}
[[platform]]
id = "google"
plugin = "google-vehicle-ads"
config = {{ store_code = "dealer-001", format = "tsv", link_template = "https://dealer.example/cars/{{stock_id}}" }}
feed = {{ directory = "feeds/google" }}
"#,
        plugins = plugins.display(),
        trust = trust_dev_key_section()
    );
    let path = dir.join("forecourt.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Secrets for the sandbox's default credentials.
pub fn sandbox_secrets() -> Box<MemorySecrets> {
    let secrets = MemorySecrets::default();
    secrets.set("autotrader", "key", "sandbox-key");
    secrets.set("autotrader", "secret", "sandbox-secret");
    Box::new(secrets)
}

/// Write stock as the DMS export the pipeline reads.
pub fn export(dir: &Path, stock: &[forecourt::runtime::types::Vehicle]) {
    std::fs::write(
        dir.join("stock.csv"),
        forecourt::sample::to_export_csv(stock),
    )
    .unwrap();
}
