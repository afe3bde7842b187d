//! The local DMS's HTTP API: routing, the key, faults, the stock listing
//! and the control endpoints.

use super::{lock, DmsFault, DmsFaultRates, State};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use rand::Rng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

/// Largest control request body.
const MAX_BODY: usize = 4 << 20;
/// Most records per page.
const MAX_PER_PAGE: usize = 1000;
/// List queries remembered in the stats.
const KEPT_QUERIES: usize = 1000;

type Reply = (StatusCode, Value, Vec<(hyper::header::HeaderName, String)>);

fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    (status, json!({"error": message.into()}), Vec::new())
}

pub(super) async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(respond(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            )))
        }
    };
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let segments: Vec<&str> = parts.uri.path().trim_matches('/').split('/').collect();
    let reply = match (segments.as_slice(), &parts.method) {
        (["api", "v1", "vehicles"], &Method::GET) => {
            let path_and_query = parts
                .uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default();
            {
                // Every list request, faulted ones too: tests compare what was asked.
                let mut stats = lock(&state.stats);
                if stats.list_queries.len() >= KEPT_QUERIES {
                    stats.list_queries.remove(0);
                }
                stats.list_queries.push(path_and_query);
            }
            stock_call(&state, &parts.headers, || list(&state, &query))
        }
        (["api", "v1", "vehicles", id], &Method::GET) => stock_call(&state, &parts.headers, || {
            match lock(&state.stock).get(id) {
                Some(entry) => (StatusCode::OK, entry.to_json(id), Vec::new()),
                None => error(StatusCode::NOT_FOUND, format!("no vehicle {id}")),
            }
        }),
        (["api", "v1", "vehicles", ..], _) => {
            error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        }
        (["_dms", "stats"], &Method::GET) => (
            StatusCode::OK,
            serde_json::to_value(lock(&state.stats).clone()).unwrap_or_default(),
            Vec::new(),
        ),
        (["_dms", "vehicles", id], &Method::PUT) => match serde_json::from_slice(&body) {
            Ok(Value::Object(record)) => {
                let at = state.stamp();
                lock(&state.stock).put(id, record, at);
                (
                    StatusCode::OK,
                    json!({"id": id, "updated_at": at.to_string()}),
                    Vec::new(),
                )
            }
            _ => error(
                StatusCode::BAD_REQUEST,
                "the body must be a JSON object (the vehicle record)",
            ),
        },
        (["_dms", "vehicles", id, "sold"], &Method::POST) => {
            let at = state.stamp();
            let sold = lock(&state.stock).modify(id, at, |e| {
                e.record.insert("status".into(), "Sold".into());
            });
            found(sold, id)
        }
        (["_dms", "vehicles", id], &Method::DELETE) => {
            let at = state.stamp();
            let deleted = lock(&state.stock).modify(id, at, |e| {
                e.deleted = true;
                e.record = Map::new();
            });
            found(deleted, id)
        }
        (["_dms", "faults"], &Method::PUT) => set_faults(&state, &body),
        (["_dms", "reset"], &Method::POST) => {
            state.reset();
            (StatusCode::OK, json!({"reset": true}), Vec::new())
        }
        (["_dms", ..], _) => error(StatusCode::NOT_FOUND, "no such control endpoint"),
        _ => error(
            StatusCode::NOT_FOUND,
            format!("no such endpoint: {} {}", parts.method, parts.uri.path()),
        ),
    };
    tracing::debug!(method = %parts.method, uri = %parts.uri, status = reply.0.as_u16(), "local DMS call");
    Ok(respond(reply))
}

fn found(ok: bool, id: &str) -> Reply {
    if ok {
        (StatusCode::OK, json!({"id": id}), Vec::new())
    } else {
        error(StatusCode::NOT_FOUND, format!("no live vehicle {id}"))
    }
}

fn respond((status, body, headers): Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Check the key, count, roll the faults, then answer with `answer`.
fn stock_call(state: &State, headers: &hyper::HeaderMap, answer: impl FnOnce() -> Reply) -> Reply {
    lock(&state.stats).stock_requests += 1;
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let (scheme, key) = match (api_key, bearer) {
        (Some(k), _) => ("x-api-key", k),
        (None, Some(k)) => ("bearer", k),
        (None, None) => {
            lock(&state.stats).unauthorised += 1;
            return error(
                StatusCode::UNAUTHORIZED,
                "missing API key (X-Api-Key or Authorization: Bearer)",
            );
        }
    };
    if !state.api_keys.iter().any(|k| k == key.trim()) {
        lock(&state.stats).unauthorised += 1;
        return error(StatusCode::UNAUTHORIZED, "invalid API key");
    }
    *lock(&state.stats)
        .auth_schemes
        .entry(scheme.to_string())
        .or_default() += 1;
    let fault = {
        let mut faults = lock(&state.faults);
        match faults.script.pop_front() {
            Some(fault) => fault,
            None => {
                let rates = faults.rates.clone();
                let (a, b): (f64, f64) = (faults.rng.random(), faults.rng.random());
                if a < rates.rate_limit_rate {
                    DmsFault::RateLimited {
                        retry_after_secs: rates.retry_after_secs,
                    }
                } else if b < rates.error_rate {
                    DmsFault::Status(503)
                } else {
                    DmsFault::Pass
                }
            }
        }
    };
    match fault {
        DmsFault::Pass => answer(),
        DmsFault::Status(code) => {
            lock(&state.stats).faults_served += 1;
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            error(status, "injected fault: the DMS is unavailable")
        }
        DmsFault::RateLimited { retry_after_secs } => {
            lock(&state.stats).faults_served += 1;
            let mut reply = error(StatusCode::TOO_MANY_REQUESTS, "too many requests");
            reply.2.push((RETRY_AFTER, retry_after_secs.to_string()));
            reply
        }
    }
}

fn encode_cursor(at: &jiff::Timestamp, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{at}|{id}"))
}

fn decode_cursor(token: &str) -> Option<(jiff::Timestamp, String)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (at, id) = text.split_once('|')?;
    Some((at.parse().ok()?, id.to_string()))
}

fn list(state: &State, query: &HashMap<String, String>) -> Reply {
    let per_page = match query.get("per_page").map(|s| s.parse::<usize>()) {
        None => 100,
        Some(Ok(n)) if (1..=MAX_PER_PAGE).contains(&n) => n,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("per_page must be a number from 1 to {MAX_PER_PAGE}"),
            )
        }
    };
    let stock = lock(&state.stock);
    let (page_records, page, total, has_more) = if let Some(token) = query.get("cursor") {
        let Some((at, id)) = decode_cursor(token) else {
            return error(StatusCode::BAD_REQUEST, "cursor is not one this API issued");
        };
        let after: Vec<_> = stock
            .listing(Some(at))
            .into_iter()
            .filter(|(i, e)| e.updated_at > at || *i > id.as_str())
            .collect();
        let has_more = after.len() > per_page;
        let total = after.len();
        (
            after.into_iter().take(per_page).collect::<Vec<_>>(),
            None,
            total,
            has_more,
        )
    } else {
        let since = match query.get("updated_since") {
            None => None,
            Some(s) => match parse_since(s) {
                Some(t) => Some(t),
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("updated_since {s:?} is not an RFC 3339 time or Unix seconds"),
                    )
                }
            },
        };
        let page = match query.get("page").map(|s| s.parse::<usize>()) {
            None => 1,
            Some(Ok(n)) if n >= 1 => n,
            Some(_) => return error(StatusCode::BAD_REQUEST, "page must be a number from 1"),
        };
        let all = stock.listing(since);
        let total = all.len();
        let start = (page - 1).saturating_mul(per_page);
        let records: Vec<_> = all.into_iter().skip(start).take(per_page).collect();
        let has_more = start.saturating_add(per_page) < total;
        (records, Some(page), total, has_more)
    };
    let next_cursor = page_records
        .last()
        .filter(|_| has_more)
        .map(|(id, e)| encode_cursor(&e.updated_at, id));
    let vehicles: Vec<Value> = page_records.iter().map(|(id, e)| e.to_json(id)).collect();
    (
        StatusCode::OK,
        json!({
            "vehicles": vehicles,
            "page": page,
            "per_page": per_page,
            "total": total,
            "has_more": has_more,
            "next_cursor": next_cursor,
        }),
        Vec::new(),
    )
}

fn parse_since(s: &str) -> Option<jiff::Timestamp> {
    if let Ok(secs) = s.parse::<i64>() {
        return jiff::Timestamp::from_second(secs).ok();
    }
    s.parse().ok()
}

fn set_faults(state: &State, body: &[u8]) -> Reply {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        #[serde(default)]
        script: Vec<DmsFault>,
        #[serde(default)]
        error_rate: f64,
        #[serde(default)]
        rate_limit_rate: f64,
        #[serde(default)]
        retry_after_secs: u64,
    }
    let parsed: Body = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("faults: {e}")),
    };
    let rates = DmsFaultRates {
        error_rate: parsed.error_rate,
        rate_limit_rate: parsed.rate_limit_rate,
        retry_after_secs: parsed.retry_after_secs,
    };
    for (name, rate) in [
        ("error_rate", rates.error_rate),
        ("rate_limit_rate", rates.rate_limit_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return error(
                StatusCode::BAD_REQUEST,
                format!("{name} must be between 0 and 1, got {rate}"),
            );
        }
    }
    let mut faults = lock(&state.faults);
    faults.script = parsed.script.into();
    faults.rates = rates;
    (
        StatusCode::OK,
        json!({"script": faults.script, "rates": faults.rates}),
        Vec::new(),
    )
}
