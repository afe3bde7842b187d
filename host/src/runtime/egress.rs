//! Outbound HTTP for plugins: allowlist, host-side DNS, address filtering,
//! credential injection and response caps.
//!
//! Plugins speak ordinary `wasi:http`; every request ends up in
//! [`EgressHooks::send_request`], which is the only way out of the sandbox.
//! In order it:
//! 1. matches scheme, host and port against the manifest's `[[http]]` origins
//!    (refused with `HTTP-request-denied` otherwise);
//! 2. refuses plain `http` unless the operator allowed it for that host;
//! 3. resolves the name on the host and drops private, loopback, link-local
//!    and other non-public addresses unless the operator allowed them for that
//!    host (`destination-IP-prohibited`), then connects to the vetted address
//!    itself, so a DNS answer cannot change between check and use;
//! 4. adds the credential the manifest names: the guest may neither set nor
//!    read `Authorization` or the injected header, so no secret enters guest memory;
//! 5. caps how long the request may take and how large the response may be.

use crate::manifest::{AuthInjection, OriginPattern};
use crate::runtime::secrets::{SecretStore, SecretValue};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, PROXY_AUTHORIZATION};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use wasmtime_wasi_http::{
    Error as HttpError, ForbiddenHeaderFilter, RequestOptions, WasiBody, WasiHttpHooks,
    DEFAULT_FORBIDDEN_HEADERS,
};

/// What the operator grants beyond the manifest, per plugin.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorGrants {
    /// Hosts (`name` or `name:port`) the plugin may reach over plain `http`,
    /// for example a local sandbox. Everything else must be `https`.
    #[serde(default)]
    pub plain_http_hosts: Vec<String>,
    /// Hosts (`name` or `name:port`) that may resolve to private, loopback or
    /// link-local addresses. Needed for local sandboxes and tests only.
    #[serde(default)]
    pub private_network_hosts: Vec<String>,
}

impl OperatorGrants {
    fn allows(list: &[String], host: &str, port: u16) -> bool {
        list.iter().any(|entry| {
            let entry = entry.to_ascii_lowercase();
            entry == host || entry == format!("{host}:{port}")
        })
    }
}

/// Counters of what a plugin's egress did, for metrics and tests.
#[derive(Debug, Default)]
pub struct EgressStats {
    /// Requests sent to a platform.
    pub sent: AtomicU64,
    /// Requests refused by the policy.
    pub denied: AtomicU64,
}

/// The egress policy of one plugin: built once at load, shared by its instances.
pub struct EgressPolicy {
    plugin_id: String,
    rules: Vec<(OriginPattern, Option<AuthInjection>)>,
    grants: OperatorGrants,
    secrets: Arc<dyn SecretStore>,
    max_response_bytes: u64,
    max_wait: Duration,
    injected_headers: Vec<HeaderName>,
    tokens: Mutex<HashMap<String, (HeaderValue, Instant)>>,
    pool: Arc<ConnectionPool>,
    /// Counters, shared with the plugin handle.
    pub stats: Arc<EgressStats>,
}

impl EgressPolicy {
    /// Build a policy from a manifest's origins and the operator's grants.
    pub fn new(
        plugin_id: &str,
        rules: Vec<(OriginPattern, Option<AuthInjection>)>,
        grants: OperatorGrants,
        secrets: Arc<dyn SecretStore>,
        max_response_bytes: u64,
        max_wait: Duration,
    ) -> Self {
        let mut injected_headers: Vec<HeaderName> = rules
            .iter()
            .filter_map(|(_, auth)| auth.as_ref())
            .filter_map(|a| HeaderName::from_bytes(a.header_name().as_bytes()).ok())
            .collect();
        injected_headers.push(AUTHORIZATION);
        injected_headers.push(PROXY_AUTHORIZATION);
        injected_headers.dedup();
        Self {
            plugin_id: plugin_id.to_string(),
            rules,
            grants,
            secrets,
            max_response_bytes,
            max_wait,
            injected_headers,
            tokens: Mutex::new(HashMap::new()),
            pool: Arc::default(),
            stats: Arc::default(),
        }
    }

    fn deny(&self, error: HttpError, what: &str, reason: &str) -> HttpError {
        self.stats.denied.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(plugin = %self.plugin_id, request = %what, reason, "Plugin HTTP request refused.");
        error
    }

    /// Check, connect, inject and send one request. With a token-exchange
    /// credential, a 401 answer to a cached token renews the token and sends
    /// the request once more (the body is buffered for that).
    async fn send(
        self: Arc<Self>,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<http::Response<WasiBody>, HttpError> {
        let uri = request.uri().clone();
        let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        let what = format!("{} {scheme}://{host}:{port}", request.method());

        let Some((_, auth)) = self
            .rules
            .iter()
            .find(|(p, _)| p.matches(&scheme, &host, port))
        else {
            return Err(self.deny(
                HttpError::HttpRequestDenied,
                &what,
                "origin is not in the manifest's [[http]] allowlist",
            ));
        };
        let auth = auth.clone();
        if scheme != "https" && !OperatorGrants::allows(&self.grants.plain_http_hosts, &host, port)
        {
            return Err(self.deny(
                HttpError::HttpRequestDenied,
                &what,
                "plain http needs the operator's plain_http_hosts grant for this host",
            ));
        }
        let target = Target {
            addrs: self.vetted_addresses(&host, port, &what).await?,
            tls: scheme == "https",
            host: host.clone(),
            origin: format!("{scheme}://{host}:{port}"),
        };

        let wait = |guest: Option<Duration>| guest.map_or(self.max_wait, |g| g.min(self.max_wait));
        let timeouts = (
            wait(options.and_then(|o| o.connect_timeout)),
            wait(options.and_then(|o| o.first_byte_timeout)),
        );

        let (parts, body) = request.into_parts();
        let body = http_body_util::Limited::new(body, MAX_REQUEST_BODY)
            .collect()
            .await
            .map_err(|_| HttpError::HttpRequestBodySize(Some(MAX_REQUEST_BODY as u64)))?
            .to_bytes();
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();

        for attempt in 0..2 {
            let mut request = http::Request::builder()
                .method(parts.method.clone())
                .uri(&path)
                .version(http::Version::HTTP_11)
                .body(http_body_util::Full::new(body.clone()))
                .map_err(|_| HttpError::HttpRequestUriInvalid)?;
            *request.headers_mut() = parts.headers.clone();
            // The guest cannot set these (see `forbidden_header_filter`); remove
            // them anyway so the only credential on the wire is the host's.
            for name in &self.injected_headers {
                request.headers_mut().remove(name);
            }
            let mut cached_token = false;
            match &auth {
                Some(AuthInjection::TokenExchange { .. }) => match self
                    .token(
                        auth.as_ref().unwrap(),
                        &target,
                        timeouts,
                        attempt > 0,
                        &what,
                    )
                    .await?
                {
                    Token::Bearer { value, cached } => {
                        cached_token = cached;
                        request.headers_mut().insert(AUTHORIZATION, value);
                    }
                    // The platform refused our key and secret: hand its answer
                    // to the plugin so it reports an auth error.
                    Token::Refused(response) => return self.limit(response, None, &what),
                },
                Some(AuthInjection::HmacSignature { secret, header }) => {
                    let (name, value) = self.signature(secret, header, &body, &what)?;
                    request.headers_mut().insert(name, value);
                }
                Some(auth) => {
                    let (name, value) = self.credential(auth, &what)?;
                    request.headers_mut().insert(name, value);
                }
                None => {}
            }
            self.stats.sent.fetch_add(1, Ordering::Relaxed);
            let (response, checkin) = send_once(&target, request, timeouts, &self.pool).await?;
            if response.status() == http::StatusCode::UNAUTHORIZED && cached_token && attempt == 0 {
                tracing::info!(plugin = %self.plugin_id, request = %what, "Platform refused a cached token; renewing it once.");
                self.tokens
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&target.origin);
                continue;
            }
            return self.limit(response, Some(checkin), &what);
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// `t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<body>")>` under the secret.
    fn signature(
        &self,
        secret: &str,
        header: &str,
        body: &[u8],
        what: &str,
    ) -> Result<(HeaderName, HeaderValue), HttpError> {
        use hmac::Mac;
        let key = self.secrets.get(&self.plugin_id, secret).ok_or_else(|| {
            tracing::error!(plugin = %self.plugin_id, request = %what, secret, "Secret is not configured; request not sent.");
            HttpError::InternalError(Some(format!(
                "the host has no value for secret `{secret}` of plugin `{}`",
                self.plugin_id
            )))
        })?;
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key.expose().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        let value = format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()));
        let name = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
            HttpError::HttpRequestHeaderSize {
                field_name: Some(header.to_string()),
                field_size: None,
            }
        })?;
        Ok((
            name,
            HeaderValue::from_str(&value).expect("hex and digits are valid header text"),
        ))
    }

    /// Enforce the response size cap.
    fn limit(
        &self,
        response: http::Response<hyper::body::Incoming>,
        checkin: Option<Checkin>,
        what: &str,
    ) -> Result<http::Response<WasiBody>, HttpError> {
        let limit = self.max_response_bytes;
        if let Some(len) = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            if len > limit {
                return Err(self.deny(
                    HttpError::HttpResponseBodySize(Some(len)),
                    what,
                    "response is larger than the plugin's limits.http_response_kib",
                ));
            }
        }
        Ok(response.map(|body| {
            LimitedBody {
                inner: body,
                remaining: limit,
                limit,
                checkin,
            }
            .boxed_unsync()
        }))
    }

    /// A bearer token for a token-exchange origin: cached until shortly
    /// before it expires, fetched with the form of secrets otherwise.
    async fn token(
        &self,
        auth: &AuthInjection,
        target: &Target,
        timeouts: (Duration, Duration),
        refresh: bool,
        what: &str,
    ) -> Result<Token, HttpError> {
        let AuthInjection::TokenExchange {
            token_path,
            form,
            default_lifetime_secs,
        } = auth
        else {
            unreachable!("only called for token exchange")
        };
        if !refresh {
            let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((value, expires)) = tokens.get(&target.origin) {
                if Instant::now() + TOKEN_MARGIN < *expires {
                    return Ok(Token::Bearer {
                        value: value.clone(),
                        cached: true,
                    });
                }
            }
        }
        // The serializer is not `Send`: build the body before any await.
        let mut pairs = Vec::with_capacity(form.len());
        for (field, secret_name) in form {
            let secret = self.secrets.get(&self.plugin_id, secret_name).ok_or_else(|| {
                tracing::error!(plugin = %self.plugin_id, request = %what, secret = %secret_name, "Secret is not configured; request not sent.");
                HttpError::InternalError(Some(format!(
                    "the host has no value for secret `{secret_name}` of plugin `{}`",
                    self.plugin_id
                )))
            })?;
            pairs.push((field, secret));
        }
        let body = {
            let mut body = form_urlencoded::Serializer::new(String::new());
            for (field, secret) in &pairs {
                body.append_pair(field, secret.expose());
            }
            body.finish()
        };
        let request = http::Request::builder()
            .method(http::Method::POST)
            .uri(token_path.as_str())
            .header(http::header::HOST, target.host.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(http_body_util::Full::new(Bytes::from(body)))
            .map_err(|_| HttpError::HttpRequestUriInvalid)?;
        let (response, checkin) = send_once(target, request, timeouts, &self.pool).await?;
        if !response.status().is_success() {
            tracing::error!(plugin = %self.plugin_id, request = %what, status = response.status().as_u16(), "Platform refused the configured credentials.");
            return Ok(Token::Refused(response));
        }
        let bytes = http_body_util::Limited::new(response.into_body(), 64 * 1024)
            .collect()
            .await
            .map_err(|_| HttpError::HttpResponseBodySize(Some(64 * 1024)))?
            .to_bytes();
        checkin.release();
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            access_token: String,
            #[serde(default)]
            expires_at: Option<String>,
            #[serde(default)]
            expires_in: Option<u64>,
        }
        let parsed: TokenResponse = serde_json::from_slice(&bytes).map_err(|_| {
            HttpError::InternalError(Some(
                "the token endpoint did not return {access_token, expires_at|expires_in}".into(),
            ))
        })?;
        let lifetime = match (parsed.expires_in, parsed.expires_at.as_deref()) {
            (Some(secs), _) => Duration::from_secs(secs),
            (None, Some(at)) => at
                .parse::<jiff::Timestamp>()
                .ok()
                .and_then(|t| jiff::Timestamp::now().duration_until(t).try_into().ok())
                .unwrap_or(Duration::from_secs(*default_lifetime_secs)),
            (None, None) => Duration::from_secs(*default_lifetime_secs),
        };
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", parsed.access_token)).map_err(|_| {
                HttpError::InternalError(Some("the token is not a valid header value".into()))
            })?;
        value.set_sensitive(true);
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                target.origin.clone(),
                (value.clone(), Instant::now() + lifetime),
            );
        tracing::debug!(plugin = %self.plugin_id, origin = %target.origin, lifetime_secs = lifetime.as_secs(), "Platform token obtained.");
        Ok(Token::Bearer {
            value,
            cached: false,
        })
    }

    /// Resolve on the host and keep only addresses the policy allows.
    async fn vetted_addresses(
        &self,
        host: &str,
        port: u16,
        what: &str,
    ) -> Result<Vec<SocketAddr>, HttpError> {
        let resolved: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => match tokio::time::timeout(
                Duration::from_secs(10),
                tokio::net::lookup_host((host, port)),
            )
            .await
            {
                Ok(Ok(addrs)) => addrs.collect(),
                Ok(Err(_)) => {
                    return Err(HttpError::DnsError {
                        rcode: Some("lookup failed".into()),
                        info_code: None,
                    })
                }
                Err(_) => return Err(HttpError::DnsTimeout),
            },
        };
        let private_ok = OperatorGrants::allows(&self.grants.private_network_hosts, host, port);
        let allowed: Vec<SocketAddr> = resolved
            .into_iter()
            .filter(|a| private_ok || is_public(a.ip()))
            .collect();
        if allowed.is_empty() {
            return Err(self.deny(
                HttpError::DestinationIpProhibited,
                what,
                "the name resolves only to private, loopback or link-local addresses, and the operator has not allowed that for this host",
            ));
        }
        Ok(allowed)
    }

    fn credential(
        &self,
        auth: &AuthInjection,
        what: &str,
    ) -> Result<(HeaderName, HeaderValue), HttpError> {
        let secret = |name: &str| -> Result<SecretValue, HttpError> {
            self.secrets.get(&self.plugin_id, name).ok_or_else(|| {
                tracing::error!(plugin = %self.plugin_id, request = %what, secret = name, "Secret is not configured; request not sent.");
                HttpError::InternalError(Some(format!(
                    "the host has no value for secret `{name}` of plugin `{}`",
                    self.plugin_id
                )))
            })
        };
        let (name, value) = match auth {
            AuthInjection::Bearer { secret: s } => {
                (AUTHORIZATION, format!("Bearer {}", secret(s)?.expose()))
            }
            AuthInjection::Basic {
                username_secret,
                password_secret,
            } => {
                use base64::Engine;
                let raw = format!(
                    "{}:{}",
                    secret(username_secret)?.expose(),
                    secret(password_secret)?.expose()
                );
                (
                    AUTHORIZATION,
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(raw)
                    ),
                )
            }
            AuthInjection::TokenExchange { .. } | AuthInjection::HmacSignature { .. } => {
                unreachable!("token exchange and signatures are handled by `token` and `signature`")
            }
            AuthInjection::Header {
                name,
                secret: s,
                template,
            } => (
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    HttpError::HttpRequestHeaderSize {
                        field_name: Some(name.clone()),
                        field_size: None,
                    }
                })?,
                template.replace("{secret}", secret(s)?.expose()),
            ),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            HttpError::InternalError(Some("secret is not a valid header value".into()))
        })?;
        value.set_sensitive(true);
        Ok((name, value))
    }
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Largest request body a plugin may send (buffered for re-authentication).
const MAX_REQUEST_BODY: usize = 16 * 1024 * 1024;
/// A cached token is renewed this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Where a vetted request goes.
struct Target {
    addrs: Vec<SocketAddr>,
    tls: bool,
    host: String,
    origin: String,
}

enum Token {
    Bearer { value: HeaderValue, cached: bool },
    Refused(http::Response<hyper::body::Incoming>),
}

type Sender = hyper::client::conn::http1::SendRequest<http_body_util::Full<Bytes>>;

/// Idle keep-alive connections most kept per origin.
const MAX_IDLE_PER_ORIGIN: usize = 8;
/// An idle connection older than this is closed rather than reused (servers
/// close idle connections on their own schedule).
const MAX_IDLE_AGE: Duration = Duration::from_secs(20);

/// Keep-alive connections of one plugin, by vetted origin. Private to the
/// plugin (never shared with another plugin), and only ever to an address
/// that passed the checks when the connection was opened.
#[derive(Default)]
struct ConnectionPool {
    idle: Mutex<HashMap<String, Vec<(Sender, Instant)>>>,
}

impl ConnectionPool {
    fn take(&self, origin: &str) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let senders = idle.get_mut(origin)?;
        while let Some((sender, since)) = senders.pop() {
            if !sender.is_closed() && sender.is_ready() && since.elapsed() < MAX_IDLE_AGE {
                return Some(sender);
            }
        }
        None
    }

    fn put(&self, origin: String, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let senders = idle.entry(origin).or_default();
        if senders.len() < MAX_IDLE_PER_ORIGIN {
            senders.push((sender, Instant::now()));
        }
    }
}

/// Gives a connection back to its pool once its response has been read to the end.
struct Checkin {
    pool: Arc<ConnectionPool>,
    origin: String,
    sender: Sender,
}

impl Checkin {
    fn release(self) {
        self.pool.put(self.origin, self.sender);
    }
}

/// Send one request to a vetted target over a kept-alive connection, or a
/// new one (TLS if needed). The connection is reusable once the response
/// body has been read (see [`Checkin`]).
async fn send_once(
    target: &Target,
    request: http::Request<http_body_util::Full<Bytes>>,
    (connect_timeout, first_byte_timeout): (Duration, Duration),
    pool: &Arc<ConnectionPool>,
) -> Result<(http::Response<hyper::body::Incoming>, Checkin), HttpError> {
    let mut sender = match pool.take(&target.origin) {
        Some(sender) => sender,
        None => {
            let stream = connect(&target.addrs, connect_timeout).await?;
            let io: Box<dyn Stream> = if target.tls {
                let server_name = rustls::pki_types::ServerName::try_from(target.host.clone())
                    .map_err(|_| HttpError::HttpRequestUriInvalid)?;
                let tls = tokio::time::timeout(
                    connect_timeout,
                    tokio_rustls::TlsConnector::from(tls_config()).connect(server_name, stream),
                )
                .await
                .map_err(|_| HttpError::ConnectionTimeout)?
                .map_err(HttpError::Tls)?;
                Box::new(tls)
            } else {
                Box::new(stream)
            };
            let (sender, conn) = hyper::client::conn::http1::Builder::new()
                .handshake(TokioIo::new(io))
                .await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            sender
        }
    };
    tokio::time::timeout(connect_timeout, sender.ready())
        .await
        .map_err(|_| HttpError::ConnectionTimeout)??;
    let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| HttpError::ConnectionReadTimeout)?
        .map_err(HttpError::from)?;
    Ok((
        response,
        Checkin {
            pool: pool.clone(),
            origin: target.origin.clone(),
            sender,
        },
    ))
}

async fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, HttpError> {
    let mut last = None;
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => last = Some(HttpError::Connect(e)),
            Err(_) => last = Some(HttpError::ConnectionTimeout),
        }
    }
    Err(last.unwrap_or(HttpError::DestinationNotFound))
}

pub(crate) fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.into(),
            };
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// Whether an address is on the public internet. Everything a plugin could
/// use to reach the host itself, the local network or cloud metadata
/// services (169.254.169.254) is not.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let seg0 = a.segments()[0];
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || a.is_unique_local()
                || a.is_unicast_link_local()
                || (seg0 == 0x2001 && a.segments()[1] == 0x0db8) // documentation
                || (a.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]) // NAT64 can reach v4 private space
                || a == Ipv6Addr::from([0, 0, 0, 0, 0, 0xffff, 0, 0]))
        }
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    !(a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_documentation()
        || a.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10 shared address space
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking
        || o[0] >= 240)
}

/// A response body that fails once more than `limit` bytes have arrived.
struct LimitedBody<B> {
    inner: B,
    remaining: u64,
    limit: u64,
    checkin: Option<Checkin>,
}

impl<B> http_body::Body for LimitedBody<B>
where
    B: http_body::Body<Data = Bytes, Error = hyper::Error> + Unpin,
{
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > self.remaining {
                        let limit = self.limit;
                        self.remaining = 0;
                        return Poll::Ready(Some(Err(HttpError::HttpResponseBodySize(Some(
                            limit,
                        )))));
                    }
                    self.remaining -= len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(HttpError::from(e)))),
            Poll::Ready(None) => {
                if let Some(checkin) = self.checkin.take() {
                    checkin.release();
                }
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The `wasi:http` hooks of one plugin instance.
pub struct EgressHooks {
    policy: Arc<EgressPolicy>,
}

impl EgressHooks {
    /// Hooks enforcing `policy`.
    pub fn new(policy: Arc<EgressPolicy>) -> Self {
        Self { policy }
    }
}

impl WasiHttpHooks for EgressHooks {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        let injected = self.policy.injected_headers.clone();
        Arc::new(move |name| DEFAULT_FORBIDDEN_HEADERS.contains(name) || injected.contains(name))
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        let policy = self.policy.clone();
        Box::new(async move {
            let response = policy.send(request, options).await?;
            Ok((
                response,
                Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn operator_grants_match_host_or_host_port() {
        let list = vec!["localhost".to_string(), "127.0.0.1:8080".to_string()];
        assert!(OperatorGrants::allows(&list, "localhost", 1));
        assert!(OperatorGrants::allows(&list, "127.0.0.1", 8080));
        assert!(!OperatorGrants::allows(&list, "127.0.0.1", 8081));
    }
}
