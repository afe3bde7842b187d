//! The feed server: platforms that fetch feeds on a schedule (Google
//! Merchant Center, Meta catalogues, a dealer website) fetch them here.
//!
//! - `GET|HEAD /feeds/<platform>/<file-name>`: the last successfully
//!   rendered feed (see [`super::served`]);
//! - `GET|HEAD /feeds/<platform>/vehicles/<stock-id>.<ext>`: one vehicle's
//!   published listing body, when the platform sets `vehicle_documents`
//!   (schema.org JSON-LD for the vehicle's page).
//!
//! Basic or bearer auth per platform, `ETag` and `Last-Modified` with 304
//! answers to conditional requests, optional TLS from PEM files (re-read
//! when they change, so a renewed certificate needs no restart).

use super::auth::{Credentials, Verdict};
use super::served::{served_dir, Served, ServedCache};
use super::{BuildContext, Invalid, TransportError};
use crate::runtime::secrets::SecretStore;
use crate::store::Store;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use toml::Spanned;

/// Connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 256;
/// Time a client gets to send its request headers (and to finish TLS).
const HEADER_TIMEOUT: Duration = Duration::from_secs(15);

/// `[feed_server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedServerConfig {
    /// Address and port to listen on, e.g. `0.0.0.0:8443`.
    pub listen: Spanned<String>,
    /// Certificate chain (PEM); with `tls_key`, the server speaks HTTPS.
    #[serde(default)]
    pub tls_cert: Option<Spanned<PathBuf>>,
    /// Private key (PEM).
    #[serde(default)]
    pub tls_key: Option<Spanned<PathBuf>>,
}

impl FeedServerConfig {
    /// Resolve relative paths against the configuration file's directory.
    pub fn resolve_paths(&mut self, base: &Path) {
        for p in [self.tls_cert.as_mut(), self.tls_key.as_mut()]
            .into_iter()
            .flatten()
        {
            super::resolve(base, p.get_mut());
        }
    }

    /// Check the settings; keys are relative to this table.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.listen.get_ref().parse::<SocketAddr>().is_err() {
            return Err(Invalid::new(
                self.listen.span(),
                "listen",
                "must be an address and port, e.g. `0.0.0.0:8443` or `127.0.0.1:8780`",
            ));
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => Err(Invalid::new(
                self.listen.span(),
                "tls_key",
                "is required with tls_cert",
            )),
            (None, Some(key)) => Err(Invalid::new(
                key.span(),
                "tls_cert",
                "is required with tls_key",
            )),
            _ => Ok(()),
        }
    }
}

/// One platform's served feed.
#[derive(Debug, Clone)]
pub struct FeedRoute {
    /// Platform id (the URL segment and the secrets' namespace).
    pub platform: String,
    /// What fetchers must present.
    pub credentials: Credentials,
    /// Serve vehicles' listing bodies too.
    pub vehicle_documents: bool,
    /// File extension of vehicle documents (from the feed's file name).
    pub document_extension: String,
    /// MIME type of vehicle documents (the feed's).
    pub document_type: String,
}

/// The server's shared state.
pub struct FeedServer {
    routes: HashMap<String, (FeedRoute, BuildContext)>,
    data_dir: PathBuf,
    store: Arc<dyn Store>,
    cache: ServedCache,
}

/// A running server; dropping it stops it.
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// The address it listens on (the real port when configured with 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http(s)://addr`.
    pub fn base_url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FeedServer {
    /// A server for `routes`, checking now that every secret they need is set.
    pub fn new(
        routes: Vec<FeedRoute>,
        data_dir: &Path,
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, TransportError> {
        let mut map = HashMap::new();
        for route in routes {
            let ctx = BuildContext {
                owner: route.platform.clone(),
                data_dir: data_dir.to_path_buf(),
                secrets: secrets.clone(),
            };
            route.credentials.check_secrets(&ctx)?;
            map.insert(route.platform.clone(), (route, ctx));
        }
        Ok(Self {
            routes: map,
            data_dir: data_dir.to_path_buf(),
            store,
            cache: ServedCache::default(),
        })
    }

    /// Listen and serve until the returned handle is dropped.
    pub async fn start(
        self: Arc<Self>,
        config: &FeedServerConfig,
    ) -> Result<RunningServer, TransportError> {
        let addr: SocketAddr = config.listen.get_ref().parse().map_err(|_| {
            TransportError::permanent(format!(
                "feed_server.listen {:?} is not an address",
                config.listen.get_ref()
            ))
        })?;
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls_acceptor(cert.get_ref(), key.get_ref())?),
            _ => None,
        };
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            TransportError::permanent(format!("feed server cannot listen on {addr}: {e}"))
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| TransportError::permanent(format!("feed server: {e}")))?;
        let running_tls = tls.is_some();
        let task = tokio::spawn(self.accept_loop(listener, tls));
        tracing::info!(%addr, tls = running_tls, "Feed server listening.");
        Ok(RunningServer {
            addr,
            tls: running_tls,
            task,
        })
    }

    async fn accept_loop(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) {
        let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        // Connections live in this set: stopping the server stops them too.
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "Feed server could not accept a connection.");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            while connections.try_join_next().is_some() {}
            let server = self.clone();
            let tls = tls.clone();
            connections.spawn(async move {
                let _permit = permit;
                let service = hyper::service::service_fn(move |req| {
                    let server = server.clone();
                    async move { Ok::<_, std::convert::Infallible>(server.handle(req).await) }
                });
                let http = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .clone();
                match tls {
                    Some(acceptor) => {
                        let Ok(Ok(stream)) =
                            tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream)).await
                        else {
                            return;
                        };
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
            });
        }
    }

    /// Answer one request. File reads and store queries block, so they run
    /// on the blocking pool rather than stalling other connections.
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, _) = req.into_parts();
        let (method, path) = (parts.method.clone(), parts.uri.path().to_string());
        let response = tokio::task::spawn_blocking(move || {
            self.answer(&parts.method, parts.uri.path(), &parts.headers)
        })
        .await
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"));
        tracing::debug!(%method, path, status = response.status().as_u16(), "Feed request.");
        response
    }

    fn answer(&self, method: &Method, path: &str, headers: &HeaderMap) -> Response<Full<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let segments: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let (platform, rest) = match segments.as_slice() {
            [feeds, platform, rest @ ..] if feeds == "feeds" && !rest.is_empty() => {
                (platform, rest)
            }
            _ => return plain(StatusCode::NOT_FOUND, "not found\n"),
        };
        let Some((route, ctx)) = self.routes.get(platform.as_str()) else {
            return plain(StatusCode::NOT_FOUND, "no such feed\n");
        };
        match route
            .credentials
            .verify(ctx, headers.get(header::AUTHORIZATION))
        {
            Verdict::Allowed => {}
            Verdict::Denied => {
                let mut r = plain(StatusCode::UNAUTHORIZED, "credentials required\n");
                if let Some(challenge) = route.credentials.challenge() {
                    r.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(challenge),
                    );
                }
                return r;
            }
            Verdict::Unavailable(why) => {
                tracing::error!(platform = %route.platform, reason = %why, "Feed server cannot check credentials; refusing requests.");
                return plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "feed credentials not configured\n",
                );
            }
        }
        let served = match rest {
            [name] => self
                .cache
                .get(&served_dir(&self.data_dir, &route.platform), name)
                .map_err(|e| {
                    tracing::error!(platform = %route.platform, error = %e, "Cannot read a served feed.");
                }),
            [vehicles, document] if vehicles == "vehicles" && route.vehicle_documents => {
                Ok(self.vehicle_document(route, document))
            }
            _ => Ok(None),
        };
        match served {
            Ok(Some(served)) => respond(method, headers, &served),
            Ok(None) => plain(StatusCode::NOT_FOUND, "not rendered yet or not listed\n"),
            Err(()) => plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the feed\n"),
        }
    }

    /// A vehicle's published listing body on this platform.
    fn vehicle_document(&self, route: &FeedRoute, document: &str) -> Option<Arc<Served>> {
        let stock_id = document.strip_suffix(&format!(".{}", route.document_extension))?;
        let listing = match self.store.listing(stock_id, &route.platform) {
            Ok(l) => l?,
            Err(e) => {
                tracing::error!(platform = %route.platform, error = %e, "Store error serving a vehicle document.");
                return None;
            }
        };
        // Only what the platform "acknowledged": the feed that carried it was delivered.
        if !matches!(listing.published_state.as_str(), "live" | "reserved") {
            return None;
        }
        let body = listing.published_body?;
        let modified =
            SystemTime::UNIX_EPOCH + Duration::from_millis(listing.updated_at.max(0) as u64);
        Some(Arc::new(Served::new(
            Bytes::from(body),
            modified,
            route.document_type.clone(),
        )))
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Whether a conditional request can be answered 304 (RFC 9110 §13.1).
fn not_modified(headers: &HeaderMap, served: &Served) -> bool {
    if let Some(inm) = headers.get(header::IF_NONE_MATCH) {
        // If-None-Match wins over If-Modified-Since; weak comparison.
        let Ok(inm) = inm.to_str() else { return false };
        let ours = served.etag.as_str();
        return inm
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours);
    }
    if let Some(since) = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
    {
        return truncate_secs(served.modified) <= since;
    }
    false
}

fn truncate_secs(t: SystemTime) -> SystemTime {
    SystemTime::UNIX_EPOCH
        + Duration::from_secs(
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        )
}

fn respond(method: &Method, headers: &HeaderMap, served: &Served) -> Response<Full<Bytes>> {
    let fresh = not_modified(headers, served);
    let body = if fresh || method == Method::HEAD {
        Bytes::new()
    } else {
        served.body.clone()
    };
    let mut r = Response::new(Full::new(body));
    let h = r.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    h.insert(header::ETAG, value(&served.etag));
    h.insert(
        header::LAST_MODIFIED,
        value(&httpdate::fmt_http_date(served.modified)),
    );
    // Fetchers must revalidate (cheaply, with the validators) every time.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if fresh {
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        return r;
    }
    h.insert(header::CONTENT_TYPE, value(&served.content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(served.body.len()));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// A TLS acceptor whose certificate is re-read when its files change.
fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, TransportError> {
    let resolver = ReloadingCert::new(cert, key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default protocol versions")
    .with_no_client_auth()
    .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves the certificate in `cert`/`key`, checking at most every few
/// seconds whether they were replaced (certificate renewal).
#[derive(Debug)]
struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    current: Mutex<(Instant, Option<SystemTime>, Arc<rustls::sign::CertifiedKey>)>,
}

impl ReloadingCert {
    fn new(cert: &Path, key: &Path) -> Result<Self, TransportError> {
        let loaded = load_certified_key(cert, key)?;
        Ok(Self {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: Mutex::new((Instant::now(), modified(cert), Arc::new(loaded))),
        })
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn load_certified_key(
    cert: &Path,
    key: &Path,
) -> Result<rustls::sign::CertifiedKey, TransportError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect())
        .map_err(|e| {
            TransportError::permanent(format!("TLS certificate {}: {e}", cert.display()))
        })?;
    if certs.is_empty() {
        return Err(TransportError::permanent(format!(
            "TLS certificate {} holds no PEM certificate",
            cert.display()
        )));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TransportError::permanent(format!("TLS key {}: {e}", key.display())))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key_der)
        .map_err(|e| TransportError::permanent(format!("TLS key {}: {e}", key.display())))?;
    let certified = rustls::sign::CertifiedKey::new(certs, signing);
    certified.keys_match().map_err(|e| {
        TransportError::permanent(format!(
            "TLS key {} does not match {}: {e}",
            key.display(),
            cert.display()
        ))
    })?;
    Ok(certified)
}

impl rustls::server::ResolvesServerCert for ReloadingCert {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.0.elapsed() >= Duration::from_secs(5) {
            current.0 = Instant::now();
            let now = modified(&self.cert);
            if now != current.1 {
                match load_certified_key(&self.cert, &self.key) {
                    Ok(key) => {
                        tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded.");
                        *current = (Instant::now(), now, Arc::new(key));
                    }
                    // Half-replaced files: keep serving the old certificate.
                    Err(e) => {
                        tracing::warn!(error = %e, "New TLS certificate not usable yet; keeping the old one.")
                    }
                }
            }
        }
        Some(current.2.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(etag: &str, secs: u64) -> Served {
        Served {
            body: Bytes::from_static(b"x"),
            etag: etag.into(),
            modified: SystemTime::UNIX_EPOCH
                + Duration::from_secs(secs)
                + Duration::from_millis(500),
            content_type: "text/plain".into(),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn conditional_requests_follow_rfc_9110() {
        let s = served("\"abc\"", 1_700_000_000);
        assert!(not_modified(&headers(&[("if-none-match", "\"abc\"")]), &s));
        assert!(not_modified(
            &headers(&[("if-none-match", "\"x\", W/\"abc\"")]),
            &s
        ));
        assert!(not_modified(&headers(&[("if-none-match", "*")]), &s));
        assert!(!not_modified(
            &headers(&[("if-none-match", "\"other\"")]),
            &s
        ));
        let at =
            httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        assert!(not_modified(&headers(&[("if-modified-since", &at)]), &s));
        let before =
            httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(1_699_999_999));
        assert!(!not_modified(
            &headers(&[("if-modified-since", &before)]),
            &s
        ));
        // A non-matching ETag wins over a matching date.
        assert!(!not_modified(
            &headers(&[("if-none-match", "\"other\""), ("if-modified-since", &at)]),
            &s
        ));
    }

    #[test]
    fn server_config_is_checked() {
        let c: FeedServerConfig = toml::from_str("listen = \"localhost\"").unwrap();
        assert_eq!(c.validate().unwrap_err().key, "listen");
        let c: FeedServerConfig =
            toml::from_str("listen = \"127.0.0.1:8443\"\ntls_cert = \"c.pem\"").unwrap();
        assert_eq!(c.validate().unwrap_err().key, "tls_key");
        let c: FeedServerConfig = toml::from_str("listen = \"[::]:8443\"").unwrap();
        assert!(c.validate().is_ok());
    }
}
