//! Publishing, as pure logic: which request each operation sends, what each
//! answer means, and how a batch is driven, with the transport passed in.
//!
//! `lib.rs` drives it with the SDK's HTTP client inside the component; the
//! tests drive it natively with canned answers, so every request body and
//! every error mapping is checked without a network.

use forecourt_sdk::http::{self, Response};
use forecourt_sdk::{
    ErrorClass, Operation, OperationKind, OperationResult, PluginError, PublishedItem,
    PublishedPage, PublishedState, StockStatus,
};
use serde_json::{json, Map, Value};

use crate::config::{percent_encode, Config, LOCATIONS};
use crate::diff;

mod ids;

/// Wait asked for after a 429 without a usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER_MS: u64 = 1000;
/// Header carrying the operation's idempotency key (for support tickets).
pub const IDEMPOTENCY_HEADER: &str = "X-Idempotency-Key";

/// An HTTP method the plugin uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read stock.
    Get,
    /// Create stock.
    Post,
    /// Change stock.
    Patch,
}

/// One request to send, and what its answer will mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The method.
    pub method: Method,
    /// Path and query, relative to the configured base URL.
    pub path: String,
    /// The JSON body, for POST and PATCH.
    pub body: Option<Value>,
    /// The operation's idempotency key, sent as [`IDEMPOTENCY_HEADER`].
    pub idempotency_key: Option<String>,
    next: Next,
}

/// What an answer to a [`Call`] leads to.
#[derive(Debug, Clone, PartialEq)]
enum Next {
    /// A create: 201 gives the id; 409 gives the existing id, which is then
    /// patched with the create's body (plus `null` for what `previous` had
    /// and the body no longer has) so a re-listed item comes back as it
    /// should be. `previous` is the text of what was last published: it is
    /// only parsed, and the patch only built, when a 409 arrives.
    Created { previous: Option<String> },
    /// The patch after a 409.
    Revived { stock_id: String },
    /// An update, reserve or unreserve.
    Updated { stock_id: String },
    /// A sold or withdrawn vehicle taken off sale: 404 means already gone.
    Removed { stock_id: String },
    /// A read: the caller parses the answer itself.
    Read,
}

/// Where an operation stands.
#[derive(Debug, Clone)]
pub enum Step {
    /// Send this request, then hand the answer to [`Call::answer`].
    Send(Call),
    /// The operation's outcome: the Auto Trader stock id, or why it failed.
    Done(Result<String, PluginError>),
}

/// The first step of an operation.
pub fn plan(config: &Config, op: &Operation) -> Step {
    match op.kind {
        OperationKind::Create => create(config, op),
        OperationKind::Update | OperationKind::Reserve | OperationKind::Unreserve => {
            match remote_id(op) {
                Some(stock_id) => update(config, op, stock_id),
                // Never created (or the id was lost): a create either makes
                // it or, through the 409, finds it.
                None => create(config, op),
            }
        }
        OperationKind::Remove => remove(config, op),
    }
}

fn remote_id(op: &Operation) -> Option<&str> {
    op.remote_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
}

/// The listing body to send: the transformed item, with the reservation
/// flag set by the operation for reserve and unreserve.
fn listing_body(op: &Operation) -> Result<Value, PluginError> {
    let listing = op.listing.as_ref().ok_or_else(|| {
        PluginError::permanent(format!(
            "{} of `{}` came without a listing",
            kind_name(op.kind),
            op.stock_id
        ))
    })?;
    let mut body: Value = serde_json::from_str(&listing.body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            PluginError::permanent(format!(
                "the listing of `{}` is not an Auto Trader stock item (not a JSON object)",
                op.stock_id
            ))
        })?;
    if let Some(reservation) = forced_reservation(op.kind) {
        set_reservation(&mut body, reservation);
    }
    Ok(body)
}

/// What was last published, if it is readable.
fn previous_body(op: &Operation) -> Option<Value> {
    parse_previous(op.previous.as_ref().map(|p| p.body.as_str()))
}

fn parse_previous(body: Option<&str>) -> Option<Value> {
    body.and_then(|b| serde_json::from_str::<Value>(b).ok())
        .filter(Value::is_object)
}

fn forced_reservation(kind: OperationKind) -> Option<Value> {
    match kind {
        OperationKind::Reserve => Some(json!("Reserved")),
        OperationKind::Unreserve => Some(Value::Null),
        _ => None,
    }
}

fn set_reservation(body: &mut Value, reservation: Value) {
    if let Some(fields) = body.as_object_mut() {
        let adverts = fields
            .entry("adverts")
            .or_insert_with(|| Value::Object(Map::new()));
        if !adverts.is_object() {
            *adverts = Value::Object(Map::new());
        }
        if let Some(adverts) = adverts.as_object_mut() {
            adverts.insert("reservationStatus".into(), reservation);
        }
    }
}

fn create(config: &Config, op: &Operation) -> Step {
    let body = match listing_body(op) {
        Ok(body) => body,
        Err(e) => return Step::Done(Err(e)),
    };
    Step::Send(Call {
        method: Method::Post,
        path: config.create_path(),
        body: Some(body),
        idempotency_key: Some(op.idempotency_key.clone()),
        next: Next::Created {
            previous: op.previous.as_ref().map(|p| p.body.clone()),
        },
    })
}

fn update(config: &Config, op: &Operation, stock_id: &str) -> Step {
    let body = match listing_body(op) {
        Ok(body) => body,
        Err(e) => return Step::Done(Err(e)),
    };
    let patch = match previous_body(op) {
        Some(previous) => diff::diff(&previous, &body),
        None => Some(body),
    };
    let patch = match (patch, forced_reservation(op.kind)) {
        (patch, Some(reservation)) => {
            let mut patch = patch.unwrap_or_else(|| Value::Object(Map::new()));
            set_reservation(&mut patch, reservation);
            Some(patch)
        }
        (patch, None) => patch,
    };
    let Some(patch) = patch else {
        // Nothing differs from what Auto Trader already shows.
        return Step::Done(Ok(stock_id.to_string()));
    };
    Step::Send(Call {
        method: Method::Patch,
        path: config.item_path(stock_id),
        body: Some(patch),
        idempotency_key: Some(op.idempotency_key.clone()),
        next: Next::Updated {
            stock_id: stock_id.to_string(),
        },
    })
}

/// The body that takes a vehicle off sale: `SOLD` for a sold one, `WASTEBIN`
/// otherwise, and every advert location unpublished in the same request.
pub fn removal_body(status: StockStatus) -> Value {
    let lifecycle = match status {
        StockStatus::Sold => "SOLD",
        _ => "WASTEBIN",
    };
    let locations: Map<String, Value> = LOCATIONS
        .iter()
        .map(|l| (l.to_string(), json!({ "status": "NOT_PUBLISHED" })))
        .collect();
    json!({
        "metadata": { "lifecycleState": lifecycle },
        "adverts": { "retailAdverts": locations },
    })
}

fn remove(config: &Config, op: &Operation) -> Step {
    let Some(stock_id) = remote_id(op) else {
        return Step::Done(Err(PluginError::permanent(format!(
            "remove of `{}` without a remote-id: the Auto Trader stock id is unknown, so \
             there is nothing to take off sale",
            op.stock_id
        ))));
    };
    Step::Send(Call {
        method: Method::Patch,
        path: config.item_path(stock_id),
        body: Some(removal_body(op.status)),
        idempotency_key: Some(op.idempotency_key.clone()),
        next: Next::Removed {
            stock_id: stock_id.to_string(),
        },
    })
}

impl Call {
    /// What the answer to this call means for the operation.
    pub fn answer(self, response: &Response) -> Step {
        let ok = response.is_success();
        // Taken apart, so the body moves into the revive patch uncopied.
        let Call {
            path,
            body,
            idempotency_key,
            next,
            ..
        } = self;
        match next {
            Next::Created { previous } => match response.status {
                _ if ok => Step::Done(stock_id_of(response).ok_or_else(|| {
                    PluginError::transient(with_request_id(
                        format!(
                            "Auto Trader answered the create with HTTP {} but no stockId",
                            response.status
                        ),
                        response,
                    ))
                })),
                409 => match stock_id_of(response) {
                    Some(stock_id) => Step::Send(Call {
                        method: Method::Patch,
                        path: item_path(&path, &stock_id),
                        body: body.map(|body| revive(previous.as_deref(), body)),
                        idempotency_key,
                        next: Next::Revived { stock_id },
                    }),
                    None => Step::Done(Err(error(response, "create"))),
                },
                _ => Step::Done(Err(error(response, "create"))),
            },
            Next::Revived { stock_id } => match response.status {
                _ if ok => Step::Done(Ok(stock_id)),
                // The duplicate went away between the two calls: a retried
                // create will now make a fresh item.
                404 => Step::Done(Err(PluginError::transient(with_request_id(
                    format!("stock item {stock_id} disappeared after a duplicate create"),
                    response,
                )))),
                _ => Step::Done(Err(error(response, "update"))),
            },
            Next::Updated { stock_id } => {
                if ok {
                    Step::Done(Ok(stock_id))
                } else {
                    Step::Done(Err(error(response, "update")))
                }
            }
            Next::Removed { stock_id } => match response.status {
                // 404: already gone, which is what a remove wants.
                404 => Step::Done(Ok(stock_id)),
                _ if ok => Step::Done(Ok(stock_id)),
                _ => Step::Done(Err(error(response, "remove"))),
            },
            Next::Read if ok => Step::Done(Ok(String::new())),
            Next::Read => Step::Done(Err(error(response, "list"))),
        }
    }
}

/// The patch after a 409: the create's whole body, plus `null` for what was
/// last published (`previous`, if readable) and the body no longer has.
fn revive(previous: Option<&str>, body: Value) -> Value {
    match parse_previous(previous) {
        Some(previous) => diff::full(Some(&previous), &body),
        // `diff::full` of nothing is the body itself: no copy needed.
        None => body,
    }
}

/// The item path for `stock_id`, keeping the query of `path`.
fn item_path(path: &str, stock_id: &str) -> String {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    let mut path = format!("/stock/{}", percent_encode(stock_id));
    if !query.is_empty() {
        path.push('?');
        path.push_str(query);
    }
    path
}

/// `metadata.stockId` of a create answer, or `stockId` of a 409: trimmed,
/// and only when not empty.
fn stock_id_of(response: &Response) -> Option<String> {
    let ids = ids::AnswerIds::parse(&response.body)?;
    [ids.metadata_stock_id, ids.stock_id]
        .into_iter()
        .flatten()
        .find_map(|id| {
            let id = id.trim();
            (!id.is_empty()).then(|| id.to_string())
        })
}

/// The error an unsuccessful answer means, refined from the SDK's mapping:
///
/// | status | class |
/// |---|---|
/// | 429 | rate-limited, `Retry-After` seconds in ms (default 1,000) |
/// | 401, 403 | auth |
/// | 400, 422 | validation, `field` = the first warning's `feature`, every warning in the message |
/// | 404 | permanent: stock item not found on Auto Trader |
/// | 5xx | transient |
/// | other | permanent |
///
/// `action` (create, update, remove, list) goes in the message.
pub fn error(response: &Response, action: &str) -> PluginError {
    let base = match http::error_for_status(response.clone()) {
        Err(e) => e,
        Ok(r) => PluginError::permanent(format!(
            "unexpected HTTP {} from Auto Trader ({action})",
            r.status
        )),
    };
    let mut error = match response.status {
        429 => PluginError::rate_limited(
            format!("Auto Trader rate limit ({action}): {}", base.message),
            Some(base.retry_after_ms.unwrap_or(DEFAULT_RETRY_AFTER_MS)),
        ),
        400 | 422 => refused(response, action).unwrap_or(base),
        404 => PluginError::permanent(format!(
            "stock item not found on Auto Trader ({action}): {}",
            base.message
        )),
        _ => PluginError {
            message: format!("Auto Trader ({action}): {}", base.message),
            ..base
        },
    };
    error.message = with_request_id(error.message, response);
    error
}

/// A validation error from Auto Trader's `warnings` list.
fn refused(response: &Response, action: &str) -> Option<PluginError> {
    let body: Value = serde_json::from_slice(&response.body).ok()?;
    let warnings: Vec<(String, String)> = body
        .get("warnings")?
        .as_array()?
        .iter()
        .filter_map(|w| {
            let feature = w.get("feature")?.as_str()?.to_string();
            let message = w
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("refused")
                .to_string();
            Some((feature, message))
        })
        .collect();
    let (field, _) = warnings.first()?;
    let list: Vec<String> = warnings
        .iter()
        .map(|(feature, message)| format!("{feature}: {message}"))
        .collect();
    Some(PluginError::validation(
        field.clone(),
        format!(
            "Auto Trader refused the {action} (HTTP {}): {}",
            response.status,
            list.join("; ")
        ),
    ))
}

/// The message, with the platform's request id (for support tickets).
fn with_request_id(message: String, response: &Response) -> String {
    match response
        .header("x-request-id")
        .or_else(|| response.header("cf-ray"))
    {
        Some(id) => format!("{message} [request id {id}]"),
        None => message,
    }
}

fn kind_name(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Create => "create",
        OperationKind::Update => "update",
        OperationKind::Reserve => "reserve",
        OperationKind::Unreserve => "unreserve",
        OperationKind::Remove => "remove",
    }
}

/// Run one operation to its outcome, sending through `send`.
pub fn run(
    config: &Config,
    op: &Operation,
    send: &mut dyn FnMut(&Call) -> Result<Response, PluginError>,
) -> Result<String, PluginError> {
    let mut step = plan(config, op);
    // A create takes at most two calls (POST, then PATCH after a 409); the
    // bound only guards against a logic error looping.
    for _ in 0..4 {
        match step {
            Step::Done(outcome) => return outcome,
            Step::Send(call) => {
                let response = send(&call)?;
                step = call.answer(&response);
            }
        }
    }
    Err(PluginError::permanent(
        "internal error: too many calls for one operation",
    ))
}

/// Whether an error means the rest of the batch should not be sent: the
/// credentials were refused, or the platform asked us to slow down.
fn stops_batch(e: &PluginError) -> bool {
    matches!(e.class, ErrorClass::Auth | ErrorClass::RateLimited)
}

/// Apply a batch: one result per operation, in order. One operation failing
/// never stops the others, except an auth or rate-limited answer: the
/// operations after it are not sent and get the same error class.
pub fn run_batch(
    config: &Config,
    operations: &[Operation],
    send: &mut dyn FnMut(&Call) -> Result<Response, PluginError>,
) -> Vec<OperationResult> {
    let mut stop: Option<PluginError> = None;
    operations
        .iter()
        .map(|op| {
            let outcome = match &stop {
                Some(e) => Err(PluginError {
                    message: format!("not sent: an earlier operation got {}", e.message),
                    ..e.clone()
                }),
                None => {
                    let outcome = run(config, op, send);
                    if let Err(e) = &outcome {
                        if stops_batch(e) {
                            stop = Some(e.clone());
                        }
                    }
                    outcome
                }
            };
            OperationResult {
                idempotency_key: op.idempotency_key.clone(),
                outcome,
            }
        })
        .collect()
}

// ----- list-published -----

/// The page a cursor names (pages count from 1; no cursor is page 1).
pub fn page_of(cursor: Option<&str>) -> Result<u32, PluginError> {
    match cursor {
        None => Ok(1),
        Some(c) => c
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| {
                PluginError::permanent(format!(
                    "invalid cursor `{c}`: expected a page number from 1"
                ))
            }),
    }
}

impl Call {
    /// A read whose answer the caller parses itself.
    pub fn read(method: Method, path: String) -> Call {
        Call {
            method,
            path,
            body: None,
            idempotency_key: None,
            next: Next::Read,
        }
    }
}

/// The request for one page of stock.
pub fn list_call(config: &Config, page: u32) -> Call {
    Call {
        method: Method::Get,
        path: config.list_path(page),
        body: None,
        idempotency_key: None,
        next: Next::Read,
    }
}

/// One page of stock as published items. Items without an
/// `externalStockReference` (created outside forecourt) or a `stockId` are
/// left out.
pub fn published_page(
    config: &Config,
    page: u32,
    response: &Response,
) -> Result<PublishedPage, PluginError> {
    if !response.is_success() {
        return Err(error(response, "list"));
    }
    let body: Value = response.json()?;
    let results = body
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            PluginError::permanent(with_request_id(
                "the stock list has no `results` array".into(),
                response,
            ))
        })?;
    let items = results
        .iter()
        .filter_map(|item| {
            let text = |path: &str| {
                item["metadata"][path]
                    .as_str()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            Some(PublishedItem {
                remote_id: text("stockId")?,
                stock_id: text("externalStockReference")?,
                state: published_state(item),
                body: Some(item.to_string()),
            })
        })
        .collect();
    let seen = u64::from(page) * u64::from(config.page_size);
    let more = match body.get("totalResults").and_then(Value::as_u64) {
        Some(total) => seen < total,
        // Without a total, a full page may be followed by another.
        None => results.len() as u64 >= u64::from(config.page_size),
    };
    Ok(PublishedPage {
        items,
        next_cursor: (more && !results.is_empty()).then(|| (page + 1).to_string()),
    })
}

/// The state of a stock item as the hub counts it.
pub fn published_state(item: &Value) -> PublishedState {
    let lifecycle = item["metadata"]["lifecycleState"].as_str().unwrap_or("");
    match lifecycle {
        "SOLD" => return PublishedState::Sold,
        "DELETED" | "WASTEBIN" => return PublishedState::Removed,
        _ => {}
    }
    if item["adverts"]["reservationStatus"].as_str() == Some("Reserved") {
        return PublishedState::Reserved;
    }
    let published = LOCATIONS
        .iter()
        .any(|l| item["adverts"]["retailAdverts"][l]["status"].as_str() == Some("PUBLISHED"));
    if published {
        PublishedState::Live
    } else {
        PublishedState::Removed
    }
}
