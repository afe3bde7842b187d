//! The admin server: the HTTP API (JSON, bearer tokens with roles), the
//! Prometheus `/metrics` endpoint and the web dashboard, on one listener.
//!
//! Every request is authenticated against the route's role
//! ([`routes::ROUTES`]), answered, and written to the access log; changes
//! are written to the audit trail with the token's name as the actor.
//! docs/admin-api.md describes the API, docs/dashboard.md the dashboard.

mod access_log;
pub mod auth;
pub mod command;
mod dashboard;
mod errors;
mod handlers;
pub mod openapi;
pub mod routes;
pub mod runs;

pub use errors::ApiError;
pub use handlers::config_view;

use crate::completeness::Completeness;
use crate::store::{now_ms, AccessRecord, SqliteStore};
use crate::sync::Engine;
use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// Largest request body (token names, a platform id).
const MAX_BODY: usize = 64 * 1024;
/// The window of [`AdminOptions::max_auth_failures_per_minute`].
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// How the admin server runs.
#[derive(Debug, Clone)]
pub struct AdminOptions {
    /// Where to listen (port 0 picks one).
    pub listen: SocketAddr,
    /// Whether `/metrics` needs a viewer token.
    pub metrics_require_token: bool,
    /// How long access-log rows are kept.
    pub access_log_retention: Duration,
    /// Failed authentications from one address within a minute before it is
    /// refused outright with 429 (slows token guessing; alerting sees the 401s).
    pub max_auth_failures_per_minute: usize,
}

impl Default for AdminOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8450)),
            metrics_require_token: false,
            access_log_retention: Duration::from_secs(90 * 24 * 3600),
            max_auth_failures_per_minute: 30,
        }
    }
}

/// What handlers share.
pub struct AdminState {
    /// The store.
    pub store: Arc<SqliteStore>,
    /// The running engine.
    pub engine: Arc<Engine>,
    /// Options.
    pub options: AdminOptions,
    /// Triggered runs.
    pub runs: Arc<runs::Runs>,
    /// Completeness scores.
    pub completeness: Completeness,
    /// The effective configuration, as `GET /api/config` shows it.
    pub config: serde_json::Value,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl AdminState {
    /// State for a server over this store and engine.
    pub fn new(
        store: Arc<SqliteStore>,
        engine: Arc<Engine>,
        options: AdminOptions,
        config: serde_json::Value,
    ) -> Self {
        Self {
            store,
            engine,
            options,
            runs: Arc::default(),
            completeness: Completeness::fields(),
            config,
            failures: Mutex::default(),
        }
    }

    fn too_many_failures(&self, ip: IpAddr) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(recent) = failures.get_mut(&ip) else {
            return false;
        };
        while recent.front().is_some_and(|t| t.elapsed() > FAILURE_WINDOW) {
            recent.pop_front();
        }
        recent.len() >= self.options.max_auth_failures_per_minute
    }

    fn note_failure(&self, ip: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 10_000 {
            // Bounded memory under a spray from many addresses.
            failures.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < FAILURE_WINDOW));
        }
        let recent = failures.entry(ip).or_default();
        recent.push_back(Instant::now());
        if recent.len() > self.options.max_auth_failures_per_minute {
            recent.pop_front();
        }
    }
}

/// A running admin server.
pub struct AdminServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl AdminServer {
    /// Bind and serve.
    pub async fn start(state: AdminState) -> anyhow::Result<AdminServer> {
        let listen = state.options.listen;
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("admin API: cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "The admin API listens beyond loopback over plain HTTP: put it behind a TLS proxy.");
        }
        prune_access_log(&state);
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, Arc::new(state), stopped));
        tracing::info!(%addr, "Admin API and dashboard listening.");
        Ok(AdminServer {
            addr,
            stop,
            server: Some(server),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the dashboard's address.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting, let requests in flight finish (briefly), and wait.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Remove access-log rows past their retention (at start, then hourly).
fn prune_access_log(state: &AdminState) {
    let retention = state.options.access_log_retention.as_millis() as i64;
    match state.store.prune_access_log(now_ms() - retention) {
        Ok(n) if n > 0 => tracing::info!(pruned = n, "Old access-log rows removed."),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "Cannot prune the access log."),
    }
}

async fn serve(listener: TcpListener, state: Arc<AdminState>, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    let hour = Duration::from_secs(3600);
    let mut prune = tokio::time::interval_at(tokio::time::Instant::now() + hour, hour);
    loop {
        tokio::select! {
            _ = prune.tick() => prune_access_log(&state),
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    let state = state.clone();
                    let mut stop = stop.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| {
                            let state = state.clone();
                            async move { Ok::<_, std::convert::Infallible>(handle(&state, remote, request).await) }
                        });
                        let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                        tokio::pin!(conn);
                        let result = tokio::select! {
                            result = conn.as_mut() => result,
                            _ = stop.changed() => {
                                conn.as_mut().graceful_shutdown();
                                conn.await
                            }
                        };
                        if let Err(error) = result {
                            tracing::debug!(%error, "Admin connection ended.");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "Admin API accept failed.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    let drained = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_secs(2), drained).await;
    connections.abort_all();
}

/// What a handler answers.
pub(crate) enum Reply {
    /// JSON with a status.
    Json(StatusCode, serde_json::Value),
    /// Any other body.
    Raw {
        content_type: &'static str,
        body: Bytes,
        /// Pages and their scripts get a content security policy.
        html: bool,
    },
}

impl Reply {
    pub(crate) fn ok(value: serde_json::Value) -> Self {
        Reply::Json(StatusCode::OK, value)
    }
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(
        serde_json::to_vec_pretty(value).unwrap_or_default(),
    )));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

async fn handle(
    state: &AdminState,
    remote: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let at = now_ms();
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let mut caller = None;
    let mut allow = None;
    let result = async {
        let (route, params) = match routes::find(&method, &path) {
            routes::Found::Route(route, params) => (route, params),
            routes::Found::MethodNotAllowed(methods) => {
                allow = Some(methods.join(", "));
                return Err(ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    format!("{path} answers {}", methods.join(", ")),
                ));
            }
            routes::Found::NotFound => {
                return Err(ApiError::not_found(format!(
                    "no such endpoint: {method} {path}"
                )))
            }
        };
        let needed = match route.access {
            routes::Access::Public => None,
            routes::Access::Metrics => state
                .options
                .metrics_require_token
                .then_some(auth::Role::Viewer),
            routes::Access::Role(role) | routes::Access::Granted(role, _) => Some(role),
        };
        let grant = match route.access {
            routes::Access::Granted(_, grant) => Some(grant),
            _ => None,
        };
        if let Some(needed) = needed {
            if state.too_many_failures(remote.ip()) {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_failures",
                    "too many failed authentications from this address; wait a minute",
                ));
            }
            let header = parts
                .headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            match auth::authenticate(&state.store, header)? {
                Err(failure) => {
                    state.note_failure(remote.ip());
                    return Err(ApiError::unauthenticated(failure.to_string()));
                }
                Ok(c) => {
                    let role = c.role;
                    caller = Some(c);
                    if role < needed {
                        return Err(ApiError::forbidden(needed, role));
                    }
                    if let Some(grant) =
                        grant.filter(|g| !caller.as_ref().is_some_and(|c| c.has(g)))
                    {
                        return Err(ApiError::not_granted(grant));
                    }
                }
            }
        }
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("request bodies are limited to {} KiB", MAX_BODY / 1024),
                ))
            }
        };
        let request = handlers::Request {
            params,
            query: parts
                .uri
                .query()
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
            body,
            caller: caller.clone(),
        };
        handlers::dispatch(state, route.op, request).await
    }
    .await;

    let mut response = match result {
        Ok(Reply::Json(status, value)) => json_response(status, &value),
        Ok(Reply::Raw {
            content_type,
            body,
            html,
        }) => {
            let mut r = Response::new(Full::new(body));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            if html {
                r.headers_mut().insert(
                    "content-security-policy",
                    HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
                );
                r.headers_mut()
                    .insert("x-frame-options", HeaderValue::from_static("DENY"));
            }
            r
        }
        Err(error) => {
            let mut r = json_response(error.status, &error.body());
            if error.status == StatusCode::UNAUTHORIZED {
                r.headers_mut().insert(
                    "www-authenticate",
                    HeaderValue::from_static("Bearer realm=\"forecourt\""),
                );
            }
            if let Some(allow) = allow.as_deref().and_then(|a| HeaderValue::from_str(a).ok()) {
                r.headers_mut().insert(ALLOW, allow);
            }
            r
        }
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));

    let status = response.status().as_u16();
    let outcome = if status == 429 {
        "rate_limited"
    } else {
        access_log::outcome(status)
    };
    state.engine.metrics().admin_requests.inc(&[outcome]);
    access_log::write(
        &state.store,
        &AccessRecord {
            at,
            who: caller
                .as_ref()
                .map_or_else(|| "anonymous".to_string(), |c| c.name.clone()),
            token_id: caller.as_ref().map(|c| c.token_id.clone()),
            method,
            path: access_log::loggable_path(&path, parts.uri.query()),
            status,
            outcome: outcome.to_string(),
            duration_ms: started.elapsed().as_millis() as i64,
            remote: remote.to_string(),
        },
    );
    if let Some(c) = &caller {
        if let Err(error) = state.store.touch_admin_token(&c.token_id, at) {
            tracing::warn!(%error, "Cannot record token use.");
        }
    }
    response
}
