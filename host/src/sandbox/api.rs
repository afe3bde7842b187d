//! The HTTP API: routing, authentication, fault injection and the stock
//! endpoints, answering JSON in Auto Trader's shapes.

use super::auth::{self, TokenState};
use super::faults::Decision;
use super::stats::CallKind;
use super::store::StoreError;
use super::validate::{self, Warning};
use super::{clock, json, lock, Faults, State};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{
    HeaderName, HeaderValue, ALLOW, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Largest request body accepted (100 image URLs and a long description fit easily).
const MAX_BODY: usize = 16 << 20;

/// Returned to hyper to drop the connection without a response (an injected timeout).
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected timeout")]
pub(crate) struct HangUp;

/// Answer one request.
pub(crate) async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, HangUp> {
    let request_id = format!("{:016x}-LHR", rand::random::<u64>());
    let (parts, body) = request.into_parts();
    let route = Route::parse(&parts.method, parts.uri.path());
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            let reply = Reply::error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
            return Ok(reply.into_response(&request_id));
        }
        Err(error) => {
            let reply = Reply::error(
                StatusCode::BAD_REQUEST,
                format!("cannot read request body: {error}"),
            );
            return Ok(reply.into_response(&request_id));
        }
    };
    let call = Call {
        query: parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        authorization: header(&parts.headers, AUTHORIZATION),
        content_type: header(&parts.headers, CONTENT_TYPE),
        body: &body,
    };
    let result = match route {
        Route::Stock(op) => stock_with_faults(&state, &op, &call).await,
        Route::Authenticate => {
            state.with_stats(|s| s.count(CallKind::Authenticate));
            Ok(counted(&state, authenticate(&state, &call)))
        }
        Route::Control(op) => Ok(control(&state, op, &call)),
        Route::NotAllowed(allow) => Ok(Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        )
        .header(ALLOW, allow)),
        Route::NotFound => Ok(Reply::error(
            StatusCode::NOT_FOUND,
            format!("no such endpoint: {} {}", parts.method, parts.uri.path()),
        )),
    };
    match result {
        Ok(reply) => {
            tracing::debug!(request_id, method = %parts.method, uri = %parts.uri, status = reply.status.as_u16(), "sandbox call");
            Ok(reply.into_response(&request_id))
        }
        Err(hang_up) => {
            tracing::debug!(request_id, method = %parts.method, uri = %parts.uri, "sandbox call timed out on purpose");
            Err(hang_up)
        }
    }
}

/// The parts of a request the handlers read.
struct Call<'a> {
    query: HashMap<String, String>,
    authorization: Option<&'a str>,
    content_type: Option<&'a str>,
    body: &'a [u8],
}

fn header(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

enum Route {
    Authenticate,
    Stock(StockOp),
    Control(ControlOp),
    /// Known path, wrong method; the methods it takes.
    NotAllowed(&'static str),
    NotFound,
}

enum StockOp {
    Create,
    Patch(String),
    Get(String),
    List,
    /// `POST /partner/listings` (the generic webhook partner).
    PartnerPost,
    /// `GET /partner/listings`.
    PartnerList,
    /// `GET /enquiries`: buyers' enquiries after a cursor.
    Enquiries,
}

impl StockOp {
    fn kind(&self) -> CallKind {
        match self {
            StockOp::Create => CallKind::Create,
            StockOp::Patch(_) => CallKind::Patch,
            StockOp::Get(_) => CallKind::Get,
            StockOp::List | StockOp::PartnerList => CallKind::List,
            StockOp::PartnerPost => CallKind::Create,
            StockOp::Enquiries => CallKind::Enquiries,
        }
    }
}

enum ControlOp {
    Stats,
    GetFaults,
    PutFaults,
    PatchFaults,
    RevokeTokens,
    Reset,
    Stock,
    AddEnquiry,
    Enquiries,
}

impl Route {
    fn parse(method: &Method, path: &str) -> Route {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (segments.as_slice(), method.as_str()) {
            (["authenticate"], "POST") => Route::Authenticate,
            (["authenticate"], _) => Route::NotAllowed("POST"),
            (["stock"], "POST") => Route::Stock(StockOp::Create),
            (["stock"], "GET") => Route::Stock(StockOp::List),
            (["stock"], _) => Route::NotAllowed("GET, POST"),
            (["partner", "listings"], "POST") => Route::Stock(StockOp::PartnerPost),
            (["partner", "listings"], "GET") => Route::Stock(StockOp::PartnerList),
            (["partner", "listings"], _) => Route::NotAllowed("GET, POST"),
            (["stock", id], "GET") if !id.is_empty() => {
                Route::Stock(StockOp::Get((*id).to_owned()))
            }
            (["stock", id], "PATCH") if !id.is_empty() => {
                Route::Stock(StockOp::Patch((*id).to_owned()))
            }
            (["stock", id], _) if !id.is_empty() => Route::NotAllowed("GET, PATCH"),
            (["enquiries"], "GET") => Route::Stock(StockOp::Enquiries),
            (["enquiries"], _) => Route::NotAllowed("GET"),
            (["_sandbox", "enquiries"], "POST") => Route::Control(ControlOp::AddEnquiry),
            (["_sandbox", "enquiries"], "GET") => Route::Control(ControlOp::Enquiries),
            (["_sandbox", "enquiries"], _) => Route::NotAllowed("GET, POST"),
            (["_sandbox", "stats"], "GET") => Route::Control(ControlOp::Stats),
            (["_sandbox", "faults"], "GET") => Route::Control(ControlOp::GetFaults),
            (["_sandbox", "faults"], "PUT") => Route::Control(ControlOp::PutFaults),
            (["_sandbox", "faults"], "PATCH") => Route::Control(ControlOp::PatchFaults),
            (["_sandbox", "faults"], _) => Route::NotAllowed("GET, PUT, PATCH"),
            (["_sandbox", "revoke-tokens"], "POST") => Route::Control(ControlOp::RevokeTokens),
            (["_sandbox", "reset"], "POST") => Route::Control(ControlOp::Reset),
            (["_sandbox", "revoke-tokens" | "reset"], _) => Route::NotAllowed("POST"),
            (["_sandbox", "stock"], "GET") => Route::Control(ControlOp::Stock),
            (["_sandbox", "stats" | "stock"], _) => Route::NotAllowed("GET"),
            _ => Route::NotFound,
        }
    }
}

/// A JSON answer before it becomes a response.
struct Reply {
    status: StatusCode,
    body: Value,
    headers: Vec<(HeaderName, String)>,
}

impl Reply {
    fn json(status: StatusCode, body: impl Serialize) -> Reply {
        match serde_json::to_value(body) {
            Ok(body) => Reply {
                status,
                body,
                headers: Vec::new(),
            },
            Err(error) => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
        }
    }

    fn error(status: StatusCode, message: impl Into<String>) -> Reply {
        Reply::json(status, json!({ "error": message.into() }))
    }

    /// 400 naming every failing field.
    fn invalid(warnings: Vec<Warning>) -> Reply {
        let fields: Vec<&str> = warnings.iter().map(|w| w.feature.as_str()).collect();
        let error = format!("invalid: {}", fields.join(", "));
        Reply::json(
            StatusCode::BAD_REQUEST,
            json!({ "error": error, "warnings": warnings }),
        )
    }

    fn header(mut self, name: HeaderName, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    fn into_response(self, request_id: &str) -> Response<Full<Bytes>> {
        let body = serde_json::to_vec(&self.body).unwrap_or_default();
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let id = [(
            HeaderName::from_static("x-request-id"),
            request_id.to_owned(),
        )];
        for (name, value) in self.headers.into_iter().chain(id) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.append(name, value);
            }
        }
        response
    }
}

/// Count a 4xx answer as rejected.
fn counted(state: &State, reply: Reply) -> Reply {
    if reply.status.is_client_error() {
        state.with_stats(|s| s.rejected += 1);
    }
    reply
}

/// A stock call: count it, roll the fault dice, then answer (or not).
async fn stock_with_faults(state: &State, op: &StockOp, call: &Call<'_>) -> Result<Reply, HangUp> {
    state.with_stats(|s| s.count(op.kind()));
    let decision = lock(&state.injector).decide();
    match decision {
        Decision::Down => {
            state.with_stats(|s| s.errors += 1);
            Ok(Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "service unavailable",
            ))
        }
        Decision::Unauthorized => {
            state.with_stats(|s| s.rejected += 1);
            let reply = Reply::error(
                StatusCode::UNAUTHORIZED,
                "access to this integration is refused",
            );
            Ok(reply.header(WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
        }
        Decision::Timeout {
            hang,
            after_processing,
        } => {
            state.with_stats(|s| s.timeouts += 1);
            if after_processing {
                let _lost = stock(state, op, call);
            }
            tokio::time::sleep(hang).await;
            Err(HangUp)
        }
        Decision::RateLimited { retry_after_secs } => {
            state.with_stats(|s| s.rate_limited += 1);
            let reply = Reply::error(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded");
            Ok(reply.header(RETRY_AFTER, retry_after_secs.to_string()))
        }
        Decision::Error => {
            state.with_stats(|s| s.errors += 1);
            Ok(Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable, try again",
            ))
        }
        Decision::Pass { latency } => {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            Ok(counted(state, stock(state, op, call)))
        }
    }
}

/// A stock call that got past the faults: token, advertiser, then the operation.
fn stock(state: &State, op: &StockOp, call: &Call<'_>) -> Reply {
    // The webhook partner has no tokens or advertisers (the host signs its requests).
    let partner_answer = match op {
        StockOp::PartnerPost => {
            let reject = lock(&state.injector).faults().reject_fields.clone();
            Some(lock(&state.partner).post(call.body, &reject))
        }
        StockOp::PartnerList => {
            Some(lock(&state.partner).list(call.query.get("page").map(String::as_str)))
        }
        _ => None,
    };
    if let Some((status, body)) = partner_answer {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Reply::json(status, body);
    }
    if let Err(reply) = authorize(state, call) {
        return reply;
    }
    let Some(advertiser) = call.query.get("advertiserId").filter(|a| !a.is_empty()) else {
        return Reply::invalid(vec![Warning::error(
            "advertiserId",
            "query parameter is required",
        )]);
    };
    if !lock(&state.store).has_advertiser(advertiser) {
        return Reply::error(
            StatusCode::FORBIDDEN,
            format!("advertiser {advertiser} is not on this integration"),
        );
    }
    let now = SystemTime::now();
    match op {
        StockOp::Create => create(state, advertiser, call, now),
        StockOp::Patch(id) => patch(state, advertiser, id, call, now),
        StockOp::Get(id) => match lock(&state.store).get(advertiser, id) {
            Some(item) => Reply::json(StatusCode::OK, item),
            None => not_found(id),
        },
        StockOp::List => list(state, advertiser, &call.query),
        StockOp::PartnerPost | StockOp::PartnerList => unreachable!("answered above"),
        StockOp::Enquiries => enquiries_page(state, advertiser, &call.query),
    }
}

/// `GET /enquiries?advertiserId=&pageSize=&after=`: the enquiries after a
/// cursor, oldest first, with the cursor to continue from.
fn enquiries_page(state: &State, advertiser: &str, query: &HashMap<String, String>) -> Reply {
    let page_size = match query.get("pageSize") {
        None => 50,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Reply::invalid(vec![Warning::error("pageSize", "is from 1 to 100")]);
            }
        },
    };
    let after = match query.get("after") {
        None => 0,
        Some(v) => match v.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                return Reply::invalid(vec![Warning::error(
                    "after",
                    "is the cursor of a previous page",
                )]);
            }
        },
    };
    let (results, cursor, more) = lock(&state.enquiries).page(advertiser, after, page_size);
    Reply::json(
        StatusCode::OK,
        json!({ "results": results, "cursor": cursor.to_string(), "hasMore": more }),
    )
}

fn authorize(state: &State, call: &Call<'_>) -> Result<(), Reply> {
    let Some(token) = auth::bearer(call.authorization) else {
        let reply = Reply::error(StatusCode::UNAUTHORIZED, "missing bearer token");
        return Err(reply.header(WWW_AUTHENTICATE, "Bearer"));
    };
    let message = match lock(&state.tokens).check(token, Instant::now()) {
        TokenState::Valid => return Ok(()),
        TokenState::Expired => "token expired",
        TokenState::Unknown => "invalid or revoked token",
    };
    let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{message}\"");
    Err(Reply::error(StatusCode::UNAUTHORIZED, message).header(WWW_AUTHENTICATE, challenge))
}

fn authenticate(state: &State, call: &Call<'_>) -> Reply {
    let (key, secret) = match auth::credentials(call.content_type, call.body) {
        Ok(credentials) => credentials,
        Err(message) => return Reply::error(StatusCode::BAD_REQUEST, message),
    };
    if !state
        .credentials
        .iter()
        .any(|(k, s)| *k == key && *s == secret)
    {
        return Reply::error(StatusCode::UNAUTHORIZED, "invalid credentials");
    }
    let mut tokens = lock(&state.tokens);
    let access_token = tokens.issue(Instant::now());
    let expires_at = clock::rfc3339(SystemTime::now() + tokens.lifetime());
    Reply::json(
        StatusCode::OK,
        json!({ "access_token": access_token, "expires_at": expires_at }),
    )
}

fn create(state: &State, advertiser: &str, call: &Call<'_>, now: SystemTime) -> Reply {
    let body = match json_object(call.body) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    if let Some(reference) = json::get_str(&body, "metadata.externalStockReference") {
        state.with_stats(|s| {
            *s.creates_by_reference
                .entry(reference.to_owned())
                .or_default() += 1
        });
    }
    let check = checks(state, &body);
    match lock(&state.store).create(advertiser, body, now, &check) {
        Ok(created) => Reply::json(StatusCode::CREATED, created),
        Err(error) => store_error(error),
    }
}

fn patch(
    state: &State,
    advertiser: &str,
    stock_id: &str,
    call: &Call<'_>,
    now: SystemTime,
) -> Reply {
    let body = match json_object(call.body) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let check = checks(state, &body);
    match lock(&state.store).patch(advertiser, stock_id, &body, now, &check) {
        Ok(item) => Reply::json(StatusCode::OK, item),
        Err(StoreError::NotFound) => not_found(stock_id),
        Err(error) => store_error(error),
    }
}

/// The checks on an item about to be stored: the refused fields the request
/// body mentions (fault injection), then the item's own validity.
fn checks(state: &State, body: &Value) -> impl Fn(&Value) -> Vec<Warning> {
    let refused = validate::refused_fields(body, &lock(&state.injector).faults().reject_fields);
    move |item| {
        let mut warnings = refused.clone();
        warnings.extend(validate::stock_item(item));
        warnings
    }
}

fn list(state: &State, advertiser: &str, query: &HashMap<String, String>) -> Reply {
    let number = |name: &str, max: usize| {
        query
            .get(name)
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| (1..=max).contains(n))
    };
    let page = number("page", usize::MAX);
    let page_size = number("pageSize", 100);
    let (Some(page), Some(page_size)) = (page, page_size) else {
        let mut warnings = Vec::new();
        if page.is_none() {
            warnings.push(Warning::error("page", "is required: a page number from 1"));
        }
        if page_size.is_none() {
            warnings.push(Warning::error("pageSize", "is required: from 1 to 100"));
        }
        return Reply::invalid(warnings);
    };
    let include_deleted = query.get("includeDeleted").is_some_and(|v| v == "true");
    let (results, total) = lock(&state.store).page(advertiser, include_deleted, page, page_size);
    Reply::json(
        StatusCode::OK,
        json!({ "results": results, "totalResults": total }),
    )
}

fn json_object(body: &[u8]) -> Result<Value, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) if value.is_object() => Ok(value),
        Ok(_) => Err(Reply::invalid(vec![Warning::error(
            "body",
            "must be a JSON object",
        )])),
        Err(error) => Err(Reply::invalid(vec![Warning::error(
            "body",
            format!("is not valid JSON: {error}"),
        )])),
    }
}

fn not_found(stock_id: &str) -> Reply {
    Reply::json(
        StatusCode::NOT_FOUND,
        json!({ "error": "stock item not found", "stockId": stock_id }),
    )
}

fn store_error(error: StoreError) -> Reply {
    match error {
        StoreError::UnknownAdvertiser => Reply::error(
            StatusCode::FORBIDDEN,
            "advertiser is not on this integration",
        ),
        StoreError::NotFound => Reply::error(StatusCode::NOT_FOUND, "stock item not found"),
        StoreError::Duplicate { stock_id } => Reply::json(
            StatusCode::CONFLICT,
            json!({ "error": "duplicate externalStockReference", "stockId": stock_id }),
        ),
        StoreError::Invalid(warnings) => Reply::invalid(warnings),
    }
}

/// The `/_sandbox` endpoints: no token needed, no faults applied.
fn control(state: &Arc<State>, op: ControlOp, call: &Call<'_>) -> Reply {
    match op {
        ControlOp::AddEnquiry => {
            let new = match serde_json::from_slice::<super::NewSandboxEnquiry>(call.body) {
                Ok(new) => new,
                Err(e) => return Reply::error(StatusCode::BAD_REQUEST, format!("enquiry: {e}")),
            };
            match state.add_enquiry(&new) {
                Ok(added) => {
                    // The webhook push happens after the answer, as a platform's would.
                    let state = state.clone();
                    let pushed = added.clone();
                    tokio::spawn(async move { state.push_enquiry(&pushed).await });
                    Reply::json(StatusCode::CREATED, added)
                }
                Err(super::enquiries::EnquiryError::UnknownAdvertiser) => Reply::error(
                    StatusCode::NOT_FOUND,
                    format!("unknown advertiser {}", new.advertiser_id),
                ),
                Err(super::enquiries::EnquiryError::UnknownStock) => Reply::error(
                    StatusCode::NOT_FOUND,
                    "no live stock item with that id or reference",
                ),
                Err(super::enquiries::EnquiryError::Invalid(message)) => {
                    Reply::error(StatusCode::BAD_REQUEST, message)
                }
            }
        }
        ControlOp::Enquiries => match call.query.get("advertiserId") {
            Some(advertiser) => Reply::json(StatusCode::OK, lock(&state.enquiries).all(advertiser)),
            None => Reply::invalid(vec![Warning::error(
                "advertiserId",
                "query parameter is required",
            )]),
        },
        ControlOp::Stats => Reply::json(StatusCode::OK, &*lock(&state.stats)),
        ControlOp::GetFaults => Reply::json(StatusCode::OK, state.faults()),
        ControlOp::PutFaults => set_faults(
            state,
            serde_json::from_slice::<Faults>(call.body).map_err(|e| e.to_string()),
        ),
        ControlOp::PatchFaults => {
            let merged = json_object(call.body)
                .map_err(|_| "body must be a JSON object".to_owned())
                .and_then(|changes| {
                    let mut current =
                        serde_json::to_value(state.faults()).map_err(|e| e.to_string())?;
                    json::merge(&mut current, &changes);
                    serde_json::from_value::<Faults>(current).map_err(|e| e.to_string())
                });
            set_faults(state, merged)
        }
        ControlOp::RevokeTokens => {
            Reply::json(StatusCode::OK, json!({ "revoked": state.revoke_tokens() }))
        }
        ControlOp::Reset => {
            state.reset();
            Reply::json(StatusCode::OK, json!({ "reset": true }))
        }
        ControlOp::Stock => {
            let store = lock(&state.store);
            match call.query.get("advertiserId") {
                Some(advertiser) if store.has_advertiser(advertiser) => {
                    Reply::json(StatusCode::OK, store.all(advertiser))
                }
                Some(advertiser) => Reply::error(
                    StatusCode::NOT_FOUND,
                    format!("unknown advertiser {advertiser}"),
                ),
                None => Reply::json(StatusCode::OK, store.everything()),
            }
        }
    }
}

fn set_faults(state: &State, faults: Result<Faults, String>) -> Reply {
    match faults.and_then(|f| f.check().map(|()| f)) {
        Ok(faults) => {
            state.set_faults(faults);
            Reply::json(StatusCode::OK, state.faults())
        }
        Err(message) => Reply::error(StatusCode::BAD_REQUEST, format!("faults: {message}")),
    }
}
