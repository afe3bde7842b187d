//! The enquiry webhook: `POST /enquiries/<platform>` with a signed JSON body
//! (`X-Forecourt-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<body>">`, secret `enquiry_webhook` of that platform). A request is
//! stored only if the signature matches, is fresh, and was not seen before;
//! the enquiries in it are then de-duplicated like pulled ones.
//!
//! Answers: 200 `{"stored": n, "duplicates": m}`; 401 for a missing, stale,
//! replayed or wrong signature; 400 for a body that is not an enquiry push
//! (naming the field); 404 for a platform that may not push; 413 over 1 MiB.

use super::collect::parse_push;
use super::{EnquiryStore, Via};
use crate::runtime::secrets::SecretStore;
use crate::store::now_ms;
use crate::webhook_signature::{self, ReplayGuard};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Largest push accepted.
const MAX_BODY: usize = 1 << 20;
/// The secret each pushing platform signs with.
pub const SECRET_NAME: &str = "enquiry_webhook";

/// What the receiver needs.
pub struct ReceiverState {
    /// Platforms that may push.
    pub platforms: Vec<String>,
    /// Where the signing secrets are.
    pub secrets: Arc<dyn SecretStore>,
    /// Signature timestamp tolerance.
    pub tolerance_secs: u64,
    /// Where enquiries go.
    pub store: Arc<dyn EnquiryStore>,
    /// CRM targets every new enquiry is queued for.
    pub targets: Vec<String>,
    /// Signatures already accepted.
    pub replays: ReplayGuard,
}

/// A running receiver; dropping it stops the server.
pub struct Receiver {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Bind `listen` and serve.
    pub async fn start(listen: SocketAddr, state: ReceiverState) -> anyhow::Result<Receiver> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("enquiry webhook: cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let state = Arc::new(state);
        let server = tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else {
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        };
                        let state = state.clone();
                        tokio::spawn(async move {
                            let service = service_fn(move |req| handle(state.clone(), req));
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                    _ = stopped.changed() => break,
                }
            }
        });
        tracing::info!(%addr, "Enquiry webhook listening.");
        Ok(Receiver {
            addr,
            stop,
            server: Some(server),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop and wait.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response<Full<Bytes>> {
    reply(status, serde_json::json!({ "error": message.into() }))
}

async fn handle(
    state: Arc<ReceiverState>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    Ok(answer(&state, request).await)
}

async fn answer(state: &ReceiverState, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let segments: Vec<&str> = parts.uri.path().trim_matches('/').split('/').collect();
    let platform = match segments.as_slice() {
        ["enquiries", platform] if !platform.is_empty() => platform.to_string(),
        _ => {
            return refuse(
                StatusCode::NOT_FOUND,
                "no such endpoint; POST /enquiries/<platform>",
            )
        }
    };
    if parts.method != Method::POST {
        let mut r = refuse(StatusCode::METHOD_NOT_ALLOWED, "use POST");
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
        return r;
    }
    if !state.platforms.contains(&platform) {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("platform `{platform}` does not push enquiries here"),
        );
    }
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, "a push is at most 1 MiB")
        }
        Err(_) => return refuse(StatusCode::BAD_REQUEST, "cannot read the body"),
    };
    let Some(secret) = state.secrets.get(&platform, SECRET_NAME) else {
        tracing::error!(platform = %platform, secret = SECRET_NAME, "Enquiry push refused: the signing secret is not configured.");
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the hub has no signing secret for this platform yet",
        );
    };
    let header = parts
        .headers
        .get(webhook_signature::DEFAULT_HEADER)
        .and_then(|v| v.to_str().ok());
    let now = (now_ms() / 1000).max(0) as u64;
    let verified = webhook_signature::verify(
        secret.expose().as_bytes(),
        header,
        &body,
        now,
        state.tolerance_secs,
    )
    .and_then(|v| {
        state
            .replays
            .accept(&v, now, state.tolerance_secs)
            .map(|()| v)
    });
    let verified = match verified {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(platform = %platform, reason = %e, "Enquiry push refused.");
            return refuse(StatusCode::UNAUTHORIZED, format!("signature refused: {e}"));
        }
    };
    let enquiries = match parse_push(&body) {
        Ok(e) => e,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    match state.store.store_enquiries(
        &platform,
        Via::Push,
        &enquiries,
        None,
        &state.targets,
        now_ms(),
    ) {
        Ok(ingest) => {
            tracing::info!(platform = %platform, stored = ingest.stored, duplicates = ingest.duplicates, "Enquiries pushed.");
            reply(
                StatusCode::OK,
                serde_json::json!({ "stored": ingest.stored, "duplicates": ingest.duplicates }),
            )
        }
        Err(e) => {
            tracing::error!(platform = %platform, error = %e, "Enquiry push could not be stored.");
            // The sender retries (perhaps the identical request): let it in.
            state.replays.forget(&verified);
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the hub could not store the push; send it again",
            )
        }
    }
}
