//! Publishing and reading back, as pure logic over a [`Transport`].
//!
//! `lib.rs` drives it with the SDK's HTTP client and the WASI clocks inside
//! the component; the tests drive it natively with canned answers and a
//! fixed clock, so every request and every outcome is checked without a
//! network. The request and response shapes are the webhook contract
//! documented for partners in `docs/plugins/webhook.md`.

use std::fmt::Write as _;
use std::time::Duration;

use forecourt_sdk::http::{self, Response};
use forecourt_sdk::{
    ErrorClass, Operation, OperationKind, OperationResult, PluginError, PublishedItem,
    PublishedPage, PublishedState,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::neutral::status_name;

/// Most operations the host passes to one `publish` call.
pub const BATCH_SIZE: u32 = 20;
/// How long one request may wait to connect, for its first byte, or between
/// two bytes.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// In per-operation mode, no new request is started after this much of the
/// call has passed: the rest are reported as not sent (transient), so the
/// call ends well inside the manifest's `call_timeout_ms`.
pub const SEND_BUDGET: Duration = Duration::from_secs(30);
/// The header carrying the idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// The plugin's configuration (a JSON object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The partner's URL: operations are POSTed to it, and `list-published`
    /// GETs it. Its origin must be granted in the manifest's `[[http]]`.
    pub endpoint: String,
    /// One POST per batch of operations (`true`) or per operation (`false`).
    #[serde(default)]
    pub batch: bool,
}

/// JSON Schema (draft 2020-12) of [`Config`].
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Generic JSON webhook",
  "type": "object",
  "additionalProperties": false,
  "required": ["endpoint"],
  "properties": {
    "endpoint": {
      "type": "string",
      "pattern": "^https?://[^/?#@\\s]+(/[^#\\s]*)?$",
      "description": "The partner's URL. Operations are POSTed to it; list-published GETs it with ?page=<cursor>. Its origin must be the [[http]] origin of the plugin's manifest.",
      "examples": ["https://partner.example.com/forecourt/listings"]
    },
    "batch": {
      "type": "boolean",
      "default": false,
      "description": "true: one POST per batch of operations ({\"operations\": [...]}); false: one POST per operation."
    }
  }
}"#;

impl Config {
    /// Parse and check a configuration object.
    pub fn parse(json: &str) -> Result<Config, String> {
        let config: Config =
            serde_json::from_str(json).map_err(|e| format!("invalid configuration: {e}"))?;
        let e = &config.endpoint;
        let rest = e
            .strip_prefix("https://")
            .or_else(|| e.strip_prefix("http://"))
            .ok_or("endpoint must be an http(s) URL")?;
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if authority.is_empty() {
            return Err("endpoint has no host".into());
        }
        if authority.contains('@') {
            return Err("endpoint must not carry credentials: the host signs every request".into());
        }
        if e.contains(char::is_whitespace) || e.contains('#') {
            return Err("endpoint must not contain white space or a fragment".into());
        }
        Ok(config)
    }

    /// The endpoint with `page=<cursor>` added to its query.
    pub fn page_url(&self, cursor: Option<&str>) -> String {
        match cursor {
            None => self.endpoint.clone(),
            Some(cursor) => {
                let join = if self.endpoint.contains('?') {
                    '&'
                } else {
                    '?'
                };
                format!("{}{join}page={}", self.endpoint, percent_encode(cursor))
            }
        }
    }
}

/// An HTTP method the plugin uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `list-published`.
    Get,
    /// Operations.
    Post,
}

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for GET).
    pub body: Vec<u8>,
}

/// What the plugin needs from the outside world.
pub trait Transport {
    /// Send a request; `Ok` for any response, whatever its status.
    fn send(&mut self, request: &HttpRequest) -> Result<Response, PluginError>;
    /// Wall-clock time, milliseconds since the Unix epoch (for `sent_at`).
    fn now_ms(&self) -> u64;
    /// Time since the call started (for [`SEND_BUDGET`]).
    fn elapsed(&self) -> Duration;
}

/// The contract's name of an operation kind.
pub fn operation_name(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Create => "create",
        OperationKind::Update => "update",
        OperationKind::Reserve => "reserve",
        OperationKind::Unreserve => "unreserve",
        OperationKind::Remove => "remove",
    }
}

/// One operation as the partner receives it.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    pub operation: String,
    pub idempotency_key: String,
    pub stock_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    pub status: String,
    /// The neutral vehicle document exactly as `transform` rendered it (the
    /// listing body, embedded verbatim), or `null` (always for `remove`).
    pub listing: Option<Box<RawValue>>,
    pub sent_at: String,
}

/// A batch as the partner receives it (`batch = true`).
#[derive(Debug, Clone, Serialize)]
pub struct BatchEnvelope {
    pub idempotency_key: String,
    pub sent_at: String,
    pub operations: Vec<Envelope>,
}

/// The envelope of one operation; an unreadable listing body fails it.
pub fn envelope(op: &Operation, sent_at: &str) -> Result<Envelope, PluginError> {
    let listing = match (&op.kind, &op.listing) {
        (OperationKind::Remove, _) | (_, None) => None,
        (_, Some(listing)) => Some(RawValue::from_string(listing.body.clone()).map_err(|e| {
            PluginError::permanent(format!(
                "the listing of `{}` is not JSON ({e}): it was not rendered by this plugin",
                op.stock_id
            ))
        })?),
    };
    Ok(Envelope {
        operation: operation_name(op.kind).into(),
        idempotency_key: op.idempotency_key.clone(),
        stock_id: op.stock_id.clone(),
        remote_id: op
            .remote_id
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(String::from),
        status: status_name(op.status).into(),
        listing,
        sent_at: sent_at.into(),
    })
}

/// The idempotency key of a batch: `batch-` and the first 40 hex digits of
/// the SHA-256 of its operations' keys, in order, each preceded by its
/// length (eight bytes, big-endian).
pub fn batch_key(ops: &[Operation]) -> String {
    let mut h = Sha256::new();
    for op in ops {
        h.update((op.idempotency_key.len() as u64).to_be_bytes());
        h.update(op.idempotency_key.as_bytes());
    }
    let digest = h.finalize();
    let mut hex = String::with_capacity(40);
    for b in digest.iter().take(20) {
        let _ = write!(hex, "{b:02x}");
    }
    format!("batch-{hex}")
}

fn post(config: &Config, key: &str, body: Vec<u8>) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        url: config.endpoint.clone(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Accept".into(), "application/json".into()),
            (IDEMPOTENCY_HEADER.into(), key.into()),
        ],
        body,
    }
}

/// The remote id of a successful operation: the partner's `{"id": …}`,
/// else the id it already had, else the stock id.
fn remote_id(op: &Operation, response: &Response) -> String {
    serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| id_text(v.get("id")))
        .or_else(|| {
            op.remote_id
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from)
        })
        .unwrap_or_else(|| op.stock_id.clone())
}

/// A JSON string or integer as text.
fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

/// The field a partner's error names, if it names one: `{"field": …}` or
/// `{"error": {"field": …}}`.
fn error_field(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let field = v
        .get("field")
        .or_else(|| v.get("error").and_then(|e| e.get("field")))?;
    field.as_str().map(String::from)
}

/// The outcome of one answer to one operation.
fn outcome(op: &Operation, response: Response) -> Result<String, PluginError> {
    // Removing what the partner no longer has is done.
    if op.kind == OperationKind::Remove && matches!(response.status, 404 | 410) {
        return Ok(op.remote_id.clone().unwrap_or_else(|| op.stock_id.clone()));
    }
    let field = error_field(&response.body);
    match http::error_for_status(response) {
        Ok(response) => Ok(remote_id(op, &response)),
        Err(mut e) => {
            if e.class == ErrorClass::Validation {
                e.field = field;
            }
            Err(e)
        }
    }
}

/// Whether an answer says the whole endpoint is unwell (so the operations
/// after it are not sent).
fn stops_the_rest(e: &PluginError, status: u16) -> bool {
    matches!(e.class, ErrorClass::Auth | ErrorClass::RateLimited) || matches!(status, 502..=504)
}

/// The error of an operation not sent because an earlier request failed.
fn not_sent(e: &PluginError) -> PluginError {
    PluginError {
        message: format!("not sent: an earlier request failed: {}", e.message),
        field: None,
        ..e.clone()
    }
}

/// Publish a batch of operations.
///
/// Per operation (`batch = false`): one POST each, in order. After an auth
/// error, a 429, a 502/503/504 or a transport failure the remaining
/// operations are not sent and carry the same error; after
/// [`SEND_BUDGET`] they are not sent and are transient.
///
/// Per batch (`batch = true`): one POST of every operation; see
/// [`publish_batch`].
pub fn publish(
    config: &Config,
    ops: &[Operation],
    transport: &mut dyn Transport,
) -> Result<Vec<OperationResult>, PluginError> {
    if ops.is_empty() {
        return Ok(vec![]);
    }
    if config.batch {
        return publish_batch(config, ops, transport);
    }
    let mut results = Vec::with_capacity(ops.len());
    let mut stopped: Option<PluginError> = None;
    for op in ops {
        let result = if let Some(e) = &stopped {
            Err(e.clone())
        } else if transport.elapsed() >= SEND_BUDGET {
            let e = PluginError::transient(format!(
                "not sent: {} s of this call had passed; it is retried in the next one",
                SEND_BUDGET.as_secs()
            ));
            stopped = Some(e.clone());
            Err(e)
        } else {
            send_one(config, op, transport, &mut stopped)
        };
        results.push(OperationResult {
            idempotency_key: op.idempotency_key.clone(),
            outcome: result,
        });
    }
    Ok(results)
}

fn send_one(
    config: &Config,
    op: &Operation,
    transport: &mut dyn Transport,
    stopped: &mut Option<PluginError>,
) -> Result<String, PluginError> {
    let sent_at = rfc3339(transport.now_ms());
    let envelope = envelope(op, &sent_at)?;
    let body = serde_json::to_vec(&envelope).expect("an envelope always serialises");
    let request = post(config, &op.idempotency_key, body);
    match transport.send(&request) {
        Err(e) => {
            *stopped = Some(not_sent(&e));
            Err(e)
        }
        Ok(response) => {
            let status = response.status;
            let result = outcome(op, response);
            if let Err(e) = &result {
                if stops_the_rest(e, status) {
                    *stopped = Some(not_sent(e));
                }
            }
            result
        }
    }
}

/// One entry of a batch answer's `results`.
#[derive(Debug, Clone, Deserialize)]
struct BatchResult {
    idempotency_key: String,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    error: Option<BatchError>,
}

#[derive(Debug, Clone, Deserialize)]
struct BatchError {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    field: Option<String>,
}

/// One POST of every operation, as a [`BatchEnvelope`].
///
/// A non-2xx answer fails the whole batch (the outer error, classified like
/// any answer). A 2xx answer may carry `{"results": [{"idempotency_key",
/// "id"} | {"idempotency_key", "error": {"status", "message", "field"}}]}`;
/// an operation without an entry was accepted.
pub fn publish_batch(
    config: &Config,
    ops: &[Operation],
    transport: &mut dyn Transport,
) -> Result<Vec<OperationResult>, PluginError> {
    let sent_at = rfc3339(transport.now_ms());
    let mut results: Vec<Option<Result<String, PluginError>>> = vec![None; ops.len()];
    let mut envelopes = Vec::with_capacity(ops.len());
    let mut sent: Vec<usize> = Vec::with_capacity(ops.len());
    for (n, op) in ops.iter().enumerate() {
        match envelope(op, &sent_at) {
            Ok(e) => {
                envelopes.push(e);
                sent.push(n);
            }
            Err(e) => results[n] = Some(Err(e)),
        }
    }
    if !envelopes.is_empty() {
        let sent_ops: Vec<Operation> = sent.iter().map(|&n| ops[n].clone()).collect();
        let batch = BatchEnvelope {
            idempotency_key: batch_key(&sent_ops),
            sent_at,
            operations: envelopes,
        };
        let body = serde_json::to_vec(&batch).expect("a batch always serialises");
        let response = transport.send(&post(config, &batch.idempotency_key, body))?;
        let response = http::error_for_status(response)?;
        let answers: Vec<BatchResult> = serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|v| v.get("results").cloned())
            .map(|r| {
                serde_json::from_value(r).map_err(|e| {
                    PluginError::permanent(format!(
                        "the partner's batch answer has malformed results: {e}"
                    ))
                })
            })
            .transpose()?
            .unwrap_or_default();
        for n in sent {
            let op = &ops[n];
            let answer = answers
                .iter()
                .find(|a| a.idempotency_key == op.idempotency_key);
            results[n] = Some(batch_outcome(op, answer));
        }
    }
    Ok(ops
        .iter()
        .zip(results)
        .map(|(op, r)| OperationResult {
            idempotency_key: op.idempotency_key.clone(),
            outcome: r.expect("every operation has an outcome"),
        })
        .collect())
}

fn batch_outcome(op: &Operation, answer: Option<&BatchResult>) -> Result<String, PluginError> {
    let default_id = || {
        op.remote_id
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(String::from)
            .unwrap_or_else(|| op.stock_id.clone())
    };
    let Some(answer) = answer else {
        return Ok(default_id());
    };
    if let Some(error) = &answer.error {
        let status = error.status.unwrap_or(422);
        if op.kind == OperationKind::Remove && matches!(status, 404 | 410) {
            return Ok(default_id());
        }
        let response = Response {
            status,
            headers: vec![],
            body: error.message.clone().unwrap_or_default().into_bytes(),
        };
        return match http::error_for_status(response) {
            // A 2xx "error" is not one.
            Ok(_) => Ok(default_id()),
            Err(mut e) => {
                if e.class == ErrorClass::Validation {
                    e.field = error.field.clone();
                }
                Err(e)
            }
        };
    }
    Ok(id_text(answer.id.as_ref()).unwrap_or_else(default_id))
}

/// One entry of a `list-published` answer.
#[derive(Debug, Clone, Deserialize)]
struct PartnerItem {
    id: Value,
    stock_id: String,
    state: String,
    #[serde(default)]
    listing: Option<Value>,
}

/// A `list-published` answer.
#[derive(Debug, Clone, Deserialize)]
struct PartnerPage {
    items: Vec<PartnerItem>,
    #[serde(default)]
    next: Option<Value>,
}

/// One page of what the partner shows: `GET <endpoint>` (first page) or
/// `GET <endpoint>?page=<cursor>`.
pub fn list_published(
    config: &Config,
    cursor: Option<&str>,
    transport: &mut dyn Transport,
) -> Result<PublishedPage, PluginError> {
    let request = HttpRequest {
        method: Method::Get,
        url: config.page_url(cursor.filter(|c| !c.is_empty())),
        headers: vec![("Accept".into(), "application/json".into())],
        body: vec![],
    };
    let response = transport.send(&request)?;
    if matches!(response.status, 404 | 405) {
        return Err(PluginError::permanent(format!(
            "the partner endpoint does not support listing (GET answered HTTP {})",
            response.status
        )));
    }
    let page: PartnerPage = http::error_for_status(response)?.json()?;
    let mut items = Vec::with_capacity(page.items.len());
    for (n, item) in page.items.into_iter().enumerate() {
        let bad = |what: String| PluginError::permanent(format!("items[{n}]: {what}"));
        let remote_id = id_text(Some(&item.id))
            .ok_or_else(|| bad(format!("id {} is not a string or integer", item.id)))?;
        let state = match item.state.as_str() {
            "live" => PublishedState::Live,
            "reserved" => PublishedState::Reserved,
            "sold" => PublishedState::Sold,
            "removed" => PublishedState::Removed,
            other => {
                return Err(bad(format!(
                    "state `{other}` is not live, reserved, sold or removed"
                )))
            }
        };
        items.push(PublishedItem {
            remote_id,
            stock_id: item.stock_id,
            state,
            body: item.listing.filter(|l| !l.is_null()).map(|l| l.to_string()),
        });
    }
    let next_cursor = match page.next {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(PluginError::permanent(format!(
                "next must be a string cursor or null, not {other}"
            )))
        }
    };
    Ok(PublishedPage { items, next_cursor })
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds:
/// `2026-11-28T13:05:09.123Z`.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Percent-encode everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_335_109_123), "2025-11-28T13:05:09.123Z");
        assert_eq!(rfc3339(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
        assert_eq!(rfc3339(253_402_300_799_000), "9999-12-31T23:59:59.000Z");
    }

    #[test]
    fn builds_page_urls() {
        let c = Config::parse(r#"{"endpoint":"https://p.example/l"}"#).unwrap();
        assert!(!c.batch);
        assert_eq!(c.page_url(None), "https://p.example/l");
        assert_eq!(
            c.page_url(Some("a b/2")),
            "https://p.example/l?page=a%20b%2F2"
        );
        let c =
            Config::parse(r#"{"endpoint":"https://p.example/l?dealer=7","batch":true}"#).unwrap();
        assert_eq!(c.page_url(Some("3")), "https://p.example/l?dealer=7&page=3");
    }

    #[test]
    fn rejects_bad_config() {
        for bad in [
            r#"{}"#,
            r#"{"endpoint":"ftp://p.example/"}"#,
            r#"{"endpoint":"https:///x"}"#,
            r#"{"endpoint":"https://user:pw@p.example/"}"#,
            r#"{"endpoint":"https://p.example/a b"}"#,
            r#"{"endpoint":"https://p.example/#x"}"#,
            r#"{"endpoint":"https://p.example/","batch":"yes"}"#,
            r#"{"endpoint":"https://p.example/","secret":"x"}"#,
        ] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
        let schema: Value = serde_json::from_str(CONFIG_SCHEMA).unwrap();
        assert_eq!(schema["required"][0], "endpoint");
    }

    #[test]
    fn batch_keys_depend_on_every_key_and_its_order() {
        let op = |key: &str| Operation {
            kind: OperationKind::Create,
            idempotency_key: key.into(),
            stock_id: "S".into(),
            remote_id: None,
            status: forecourt_sdk::StockStatus::InStock,
            listing: None,
            previous: None,
        };
        let ab = batch_key(&[op("a"), op("b")]);
        assert_eq!(ab.len(), "batch-".len() + 40);
        assert_eq!(ab, batch_key(&[op("a"), op("b")]));
        assert_ne!(ab, batch_key(&[op("b"), op("a")]));
        assert_ne!(ab, batch_key(&[op("a")]));
        assert_ne!(batch_key(&[op("a\nb")]), batch_key(&[op("a"), op("b")]));
    }

    #[test]
    fn reads_error_fields() {
        assert_eq!(
            error_field(br#"{"field":"price","message":"x"}"#).as_deref(),
            Some("price")
        );
        assert_eq!(
            error_field(br#"{"error":{"field":"make"}}"#).as_deref(),
            Some("make")
        );
        assert_eq!(error_field(b"not json"), None);
    }
}
