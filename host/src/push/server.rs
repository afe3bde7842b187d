//! The push listener: one hyper server per listen address, serving
//! `POST /push/<source-id>` for the sources routed to it. Every refusal is a
//! JSON `{"error": <code>, "message": <what is wrong>}` with a 4xx status;
//! 202 is sent only once the push is in the inbox on disk.

use super::inbox::{Inbox, InboxError, NewPush};
use super::signature::{self, SignatureError, EVENT_ID_HEADER, SIGNATURE_HEADER};
use super::PushRoute;
use crate::runtime::secrets::SecretStore;
use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

/// Headers never handed to the plugin (credentials, the signature, hop-by-hop).
const WITHHELD_HEADERS: [&str; 7] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    SIGNATURE_HEADER,
    "host",
    "connection",
    "content-length",
];

/// Longest event id accepted.
const MAX_EVENT_ID: usize = 200;

/// How long a client may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

struct Shared {
    routes: HashMap<String, PushRoute>,
    secrets: Arc<dyn SecretStore>,
    inbox: Arc<Inbox>,
    notify: Arc<Notify>,
}

/// One bound listener.
pub(super) struct Listener {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    pub(super) async fn start(
        addr: SocketAddr,
        routes: Vec<PushRoute>,
        secrets: Arc<dyn SecretStore>,
        inbox: Arc<Inbox>,
        notify: Arc<Notify>,
    ) -> anyhow::Result<Listener> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for pushes on {addr}"))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            routes: routes.into_iter().map(|r| (r.source.clone(), r)).collect(),
            secrets,
            inbox,
            notify,
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve(listener, shared.clone(), stopped));
        tracing::info!(%addr, sources = ?shared.routes.keys().collect::<Vec<_>>(), "Listening for DMS pushes.");
        Ok(Listener {
            addr,
            shared,
            stop,
            task,
        })
    }

    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(super) fn serves(&self, source: &str) -> bool {
        self.shared.routes.contains_key(source)
    }

    pub(super) fn sources(&self) -> Vec<String> {
        self.shared.routes.keys().cloned().collect()
    }

    pub(super) async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    let mut stop = stop.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(shared.clone(), request));
                        let conn = http1::Builder::new()
                            .timer(hyper_util::rt::TokioTimer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .serve_connection(TokioIo::new(stream), service);
                        tokio::pin!(conn);
                        let result = tokio::select! {
                            result = conn.as_mut() => result,
                            _ = stop.changed() => {
                                conn.as_mut().graceful_shutdown();
                                conn.await
                            }
                        };
                        if let Err(error) = result {
                            tracing::debug!(%error, "push connection ended");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "push listener accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    // In-flight pushes finish their inbox write (a second at most) before the answer.
    let drained = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_secs(5), drained).await;
    connections.abort_all();
}

/// A refusal: status, stable code, human message.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn refuse(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        code,
        message: message.into(),
    }
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_string();
    let source = path
        .strip_prefix("/push/")
        .map(|s| s.trim_end_matches('/').to_string());
    let event_id = request
        .headers()
        .get(EVENT_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.len() <= MAX_EVENT_ID);
    let outcome = receive(&shared, source.as_deref(), request).await;
    let source = source.unwrap_or_default();
    Ok(match outcome {
        Ok(id) => {
            tracing::info!(
                source,
                event_id = event_id.as_deref().unwrap_or("-"),
                inbox_id = id,
                "Push accepted."
            );
            shared.notify.notify_one();
            json_response(
                StatusCode::ACCEPTED,
                json!({"status": "accepted", "id": id, "event_id": event_id}),
            )
        }
        Err(refusal) => {
            tracing::warn!(source, event_id = event_id.as_deref().unwrap_or("-"), status = refusal.status.as_u16(), error = refusal.code, reason = %refusal.message, "Push refused.");
            let mut response = json_response(
                refusal.status,
                json!({"error": refusal.code, "message": refusal.message}),
            );
            if refusal.status == StatusCode::METHOD_NOT_ALLOWED {
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
            }
            response
        }
    })
}

/// Check, read, verify and store one push; the inbox row id.
async fn receive(
    shared: &Shared,
    source: Option<&str>,
    request: Request<Incoming>,
) -> Result<i64, Refusal> {
    let Some(source) = source.filter(|s| !s.is_empty() && !s.contains('/')) else {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "pushes go to POST /push/<source-id>",
        ));
    };
    let Some(route) = shared.routes.get(source) else {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "unknown_source",
            format!("no source `{source}` receives pushes here"),
        ));
    };
    if request.method() != Method::POST {
        return Err(refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{} is not allowed; pushes are POSTed", request.method()),
        ));
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than {} KiB", route.max_body / 1024),
        )
    };
    if declared.is_some_and(|n| n > route.max_body as u64) {
        return Err(too_large());
    }
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, route.max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Err(error) => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                format!("the body could not be read: {error}"),
            ))
        }
    };
    let event_id = match parts.headers.get(EVENT_ID_HEADER) {
        None => None,
        Some(value) => {
            let text = value.to_str().ok().map(str::trim).filter(|s| {
                !s.is_empty() && s.len() <= MAX_EVENT_ID && !s.chars().any(char::is_control)
            });
            match text {
                Some(t) => Some(t.to_string()),
                None => {
                    return Err(refuse(
                        StatusCode::BAD_REQUEST,
                        "malformed_event_id",
                        format!(
                            "{EVENT_ID_HEADER} must be 1 to {MAX_EVENT_ID} printable characters"
                        ),
                    ))
                }
            }
        }
    };

    // Secrets are read per request: a rotated secret applies at once.
    let secret = shared.secrets.get(&route.plugin, &route.secret);
    let previous = route
        .previous_secret
        .as_deref()
        .and_then(|name| shared.secrets.get(&route.plugin, name));
    let Some(secret) = secret else {
        tracing::error!(source, secret = %route.secret, "The push secret is no longer in the secret store; pushes are refused until it is.");
        return Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_configured",
            "this source's push secret is not configured",
        ));
    };
    let mut keys: Vec<&[u8]> = vec![secret.expose().as_bytes()];
    if let Some(previous) = &previous {
        keys.push(previous.expose().as_bytes());
    }
    let header = parts
        .headers
        .get(SIGNATURE_HEADER)
        .map(|v| v.to_str().unwrap_or(""));
    let now = jiff::Timestamp::now().as_second();
    let (signed, replay_key) = signature::verify(header, &body, &keys, now, route.tolerance_secs)
        .map_err(|e| match e {
        SignatureError::Missing => {
            refuse(StatusCode::BAD_REQUEST, "missing_signature", e.to_string())
        }
        SignatureError::Malformed(_) => refuse(
            StatusCode::BAD_REQUEST,
            "malformed_signature",
            e.to_string(),
        ),
        SignatureError::Mismatch => {
            refuse(StatusCode::UNAUTHORIZED, "bad_signature", e.to_string())
        }
        SignatureError::Stale { .. } => {
            refuse(StatusCode::UNAUTHORIZED, "stale_timestamp", e.to_string())
        }
    })?;

    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(name, _)| !WITHHELD_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    // SQLite blocks (and syncs to disk): off the async threads.
    let inbox = shared.inbox.clone();
    let (source_owned, signed_at) = (source.to_string(), signed.timestamp);
    let stored = tokio::task::spawn_blocking(move || {
        inbox.accept(
            &NewPush {
                source: &source_owned,
                event_id: event_id.as_deref(),
                signature: &replay_key,
                signed_at,
                headers: &headers,
                body: &body,
            },
            crate::store::now_ms(),
        )
    })
    .await
    .map_err(|error| {
        tracing::error!(source, error = %error, "The push inbox task failed; the DMS is told to retry.");
        refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the push could not be stored; retry later",
        )
    })?;
    stored.map_err(|e| match e {
        InboxError::Replay { .. } => refuse(StatusCode::CONFLICT, "replay", e.to_string()),
        InboxError::Db(error) => {
            tracing::error!(source, error = %error, "The push inbox could not store a push; the DMS is told to retry.");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the push could not be stored; retry later",
            )
        }
    })
}
