//! The push format: one JSON event, or a batch of them, into a pull page.
//!
//! ```json
//! {
//!   "id": "evt_01HY3M7Q2V",
//!   "type": "vehicle.updated",
//!   "occurred_at": "2024-05-01T10:15:00Z",
//!   "dealer_id": "hallam-motors",
//!   "vehicle": { "stock_number": "FC1001", "make": "Ford", "price": "£11,495", "...": "..." }
//! }
//! ```
//!
//! A batch is `{"events": [event, event, …]}`, applied in order. Types:
//!
//! | type | change |
//! |---|---|
//! | `vehicle.created`, `vehicle.updated`, `vehicle.upserted` | upsert of `vehicle` (the whole vehicle as it is now) |
//! | `vehicle.sold` | upsert of `vehicle` with status `sold` |
//! | `vehicle.deleted` | remove of `stock_id` (or `vehicle`'s stock id) |
//! | `ping`, `test` | nothing (a DMS checking the endpoint) |
//!
//! An event that cannot be used (unknown type, no vehicle, another dealer)
//! is a row issue numbered by its place in the batch (1 for a single event)
//! and never stops the others. A body that is not an event at all is a
//! `validation` error on `body`: nothing of it is applied.

use forecourt_sdk::{Change, PluginError, PullPage, RowIssue, StockStatus};
use serde_json::{Map, Value};

use crate::config::Config;

/// Most events in one push.
pub const MAX_EVENTS: usize = 1_000;

/// The header a DMS repeats the event id in (the host uses it to refuse replays).
pub const EVENT_ID_HEADER: &str = "x-forecourt-event-id";

fn body_error(message: impl Into<String>) -> PluginError {
    PluginError::validation("body", message)
}

/// What an event's `type` asks for.
enum Kind {
    Upsert,
    Sold,
    Deleted,
    Ping,
}

fn kind(event_type: &str) -> Option<Kind> {
    match event_type.trim().to_ascii_lowercase().as_str() {
        "vehicle.created" | "vehicle.updated" | "vehicle.upserted" => Some(Kind::Upsert),
        "vehicle.sold" => Some(Kind::Sold),
        "vehicle.deleted" => Some(Kind::Deleted),
        "ping" | "test" => Some(Kind::Ping),
        _ => None,
    }
}

/// The whole `parse-push`.
pub fn parse_push(
    config_json: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<PullPage, PluginError> {
    let config = Config::parse(config_json).map_err(|e| PluginError::validation("config", e))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(body_error("the push has an empty body"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| body_error(format!("the push body is not JSON: {e}")))?;
    let Value::Object(root) = value else {
        return Err(body_error(
            "the push body is not a JSON object (an event, or {\"events\": [...]})",
        ));
    };
    let single;
    let events: &[Value] = match root.get("events") {
        Some(Value::Array(events)) => events,
        Some(_) => return Err(body_error("`events` is not a list")),
        None if root.contains_key("type") => {
            single = [Value::Object(root.clone())];
            &single
        }
        None => return Err(body_error(
            "the push body is neither an event (it has no `type`) nor a batch (no `events` list)",
        )),
    };
    if events.len() > MAX_EVENTS {
        return Err(body_error(format!(
            "{} events in one push; at most {MAX_EVENTS} (split the batch)",
            events.len()
        )));
    }
    // The header names the event a single push carries; it must be that one.
    if let (Some(header), [event]) = (header(headers, EVENT_ID_HEADER), events) {
        let body_id = event.get("id").and_then(id_text);
        if body_id.as_deref().is_some_and(|id| id != header) {
            return Err(body_error(format!(
                "the {EVENT_ID_HEADER} header ({header:?}) is not the event's id ({:?})",
                body_id.unwrap_or_default()
            )));
        }
    }

    let mut changes = Vec::with_capacity(events.len());
    let mut issues = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if let Some(change) = event_change(&config, event, number, &mut issues) {
            changes.push(change);
        }
    }
    Ok(PullPage {
        changes,
        issues,
        next_cursor: None,
        has_more: false,
        full_snapshot: false,
    })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn event_change(
    config: &Config,
    event: &Value,
    number: u32,
    issues: &mut Vec<RowIssue>,
) -> Option<Change> {
    let mut issue = |stock_id: Option<String>, message: String| {
        issues.push(RowIssue {
            record_number: number,
            stock_id,
            field: None,
            message,
        })
    };
    let Some(event) = event.as_object() else {
        issue(None, "an event that is not a JSON object; skipped".into());
        return None;
    };
    let vehicle = event.get("vehicle").filter(|v| !v.is_null());
    // The stock id, for a delete and for reporting: the event's own, else
    // the vehicle's.
    let stock_id = event
        .get("stock_id")
        .or_else(|| event.get("stockId"))
        .and_then(id_text)
        .or_else(|| vehicle.and_then(|v| vehicle_stock_id(config, v, number)));
    let Some(event_type) = event.get("type").and_then(Value::as_str) else {
        issue(stock_id, "an event without a `type`; skipped".into());
        return None;
    };
    let Some(kind) = kind(event_type) else {
        issue(
            stock_id,
            format!("unknown event type {event_type:?}; skipped (known: vehicle.created, vehicle.updated, vehicle.upserted, vehicle.sold, vehicle.deleted, ping)"),
        );
        return None;
    };
    if let Some(dealer) = event.get("dealer_id").and_then(id_text) {
        if dealer != config.mapping.defaults.dealer_id {
            issue(
                stock_id,
                format!(
                    "the event is for dealer {dealer:?}, this source is {:?}; skipped (is the DMS pushing to the right source?)",
                    config.mapping.defaults.dealer_id
                ),
            );
            return None;
        }
    }
    match kind {
        Kind::Ping => None,
        Kind::Deleted => match stock_id {
            Some(id) => Some(Change::Remove(id)),
            None => {
                issue(
                    None,
                    "a vehicle.deleted event without `stock_id` (or a vehicle with one); skipped"
                        .into(),
                );
                None
            }
        },
        Kind::Upsert | Kind::Sold => {
            let Some(vehicle) = vehicle else {
                issue(
                    stock_id,
                    format!("a {event_type} event without `vehicle` (the whole vehicle as it is now); skipped"),
                );
                return None;
            };
            let status = matches!(kind, Kind::Sold).then_some(StockStatus::Sold);
            config.mapping.change_as(vehicle, number, status, issues)
        }
    }
}

/// The stock id of a deleted event's vehicle, when it names one.
fn vehicle_stock_id(config: &Config, vehicle: &Value, number: u32) -> Option<String> {
    let mut ignored = Vec::new();
    let object: &Map<String, Value> = vehicle.as_object()?;
    // Read the vehicle through the mapping, so pointers and key recognition apply.
    match config
        .mapping
        .change(&Value::Object(object.clone()), number, &mut ignored)?
    {
        Change::Upsert(v) => Some(v.stock_id),
        Change::Remove(id) => Some(id),
    }
}
