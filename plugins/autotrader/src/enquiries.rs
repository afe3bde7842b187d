//! Buyers' enquiries (leads), as pure logic: the request for one page after a
//! cursor, and what its answer means. `lib.rs` sends the request with the
//! SDK's client; the tests feed canned answers.
//!
//! `GET /enquiries?advertiserId=…&pageSize=…[&after=<cursor>]` answers
//! `{"results": [...], "cursor": "<n>", "hasMore": bool}`, oldest first; the
//! cursor is opaque to the plugin and handed back to the host, which stores
//! it with the enquiries of the page (docs/sandbox.md has the shape).

use forecourt_sdk::http::Response;
use forecourt_sdk::{Enquiry, EnquiryPage, Person, PluginError};
use serde_json::Value;

use crate::config::Config;
use crate::publish::{self, Call, Method};

/// The request for the page after `cursor` (none: from the start).
pub fn enquiries_call(config: &Config, cursor: Option<&str>) -> Result<Call, PluginError> {
    let after = match cursor.map(str::trim) {
        None | Some("") => None,
        Some(c) if c.bytes().all(|b| b.is_ascii_digit()) && c.len() <= 20 => Some(c),
        Some(c) => {
            return Err(PluginError::permanent(format!(
                "invalid enquiry cursor `{c}`: expected the number a previous page returned"
            )))
        }
    };
    Ok(Call::read(Method::Get, config.enquiries_path(after)))
}

/// One page of enquiries from the answer; `cursor` is the one the request used.
pub fn enquiry_page(response: &Response, cursor: Option<&str>) -> Result<EnquiryPage, PluginError> {
    if response.status == 404 {
        return Err(PluginError::permanent(format!(
            "Auto Trader has no enquiries endpoint at this base_url (HTTP 404){}",
            response
                .header("x-request-id")
                .map(|id| format!(" [request id {id}]"))
                .unwrap_or_default()
        )));
    }
    if !response.is_success() {
        return Err(publish::error(response, "enquiries"));
    }
    let body: Value = response.json()?;
    let results = body
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| PluginError::permanent("the enquiries answer has no `results` array"))?;
    let mut enquiries = Vec::with_capacity(results.len());
    for (i, item) in results.iter().enumerate() {
        enquiries.push(enquiry(item).map_err(|what| {
            // Which item and what is missing; never the buyer's details.
            PluginError::permanent(format!("enquiry {i} of the page: {what}"))
        })?);
    }
    let next = match body.get("cursor") {
        Some(Value::String(c)) if !c.is_empty() => Some(c.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => cursor.map(str::to_string),
    };
    Ok(EnquiryPage {
        enquiries,
        next_cursor: next,
    })
}

fn text(item: &Value, path: &[&str]) -> Option<String> {
    let mut v = item;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn enquiry(item: &Value) -> Result<Enquiry, String> {
    let id = text(item, &["enquiryId"]).ok_or("no enquiryId")?;
    let created = text(item, &["createdAt"]).ok_or("no createdAt")?;
    let received_at_ms = rfc3339_ms(&created)
        .ok_or_else(|| format!("createdAt `{created}` is not an RFC 3339 time"))?;
    Ok(Enquiry {
        id,
        stock_id: text(item, &["stock", "externalStockReference"]),
        remote_id: text(item, &["stock", "stockId"]),
        received_at_ms,
        customer: Person {
            name: text(item, &["buyer", "name"]),
            email: text(item, &["buyer", "email"]),
            phone: text(item, &["buyer", "phone"]),
            address: text(item, &["buyer", "postcode"]),
        },
        message: text(item, &["message"]),
    })
}

/// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`.
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = s.get(from..to)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let ms: String = frac[..digits]
            .chars()
            .chain("000".chars())
            .take(3)
            .collect();
        millis = ms.parse::<i64>().ok()?;
        rest = &frac[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let h: i64 = rest[1..3].parse().ok()?;
            let m: i64 = rest[4..6].parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_secs;
    Some(secs * 1000 + millis)
}
