//! One `pull`: fetch the next page of the DMS's stock list, turn its
//! records into changes, and say where the next pull continues.
//!
//! A *pass* walks the listing from an updated-since point to the end; each
//! pull fetches one page of it, and the cursor returned with the page says
//! where the next page starts, so the host stores a page and its cursor in
//! one transaction and a failed request (a 5xx on page 3) repeats page 3, never
//! skips it. When the API has no more pages the pass ends (`has-more:
//! false`) and the next pass, at the next scheduled pull, starts from the
//! newest `updated_at` read (less `lookback_secs`).

use forecourt_sdk::http::{error_for_status, Response};
use forecourt_sdk::{Change, PluginError, PullPage, RowIssue};
use serde_json::Value;

use crate::config::{Config, Pagination};
use crate::cursor::{Cursor, Mark, Pass};
use crate::response;
use crate::time::Instant;

/// Fetches a URL with `GET` (the real HTTP client in the component, canned
/// responses in tests).
pub trait Fetch {
    /// The response to `GET url`, whatever its status; transport failures
    /// are errors.
    fn get(&mut self, url: &str) -> Result<Response, PluginError>;
}

/// A note for the host's log (the component logs it; native builds drop it).
fn warn(message: &str) {
    #[cfg(target_arch = "wasm32")]
    forecourt_sdk::log::warn(message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = message;
}

/// The whole `pull`.
pub fn pull(
    config_json: &str,
    cursor: Option<&str>,
    fetch: &mut dyn Fetch,
) -> Result<PullPage, PluginError> {
    let config = Config::parse(config_json).map_err(|e| PluginError::validation("config", e))?;
    let mut cursor = match cursor {
        None => Cursor::default(),
        Some(text) => Cursor::parse(text).unwrap_or_else(|why| {
            // Starting over re-reads the stock; unchanged vehicles cost
            // nothing downstream, a stuck source would.
            warn(&format!(
                "the stored cursor cannot be used ({why}); starting a new pass from the beginning"
            ));
            Cursor::default()
        }),
    };
    let mut pass = cursor
        .pass
        .take()
        .unwrap_or_else(|| start_pass(&config, &cursor));
    let url = page_url(&config, &pass);
    let response = error_for_status(fetch.get(&url)?).map_err(|e| PluginError {
        message: format!("GET {url}: {}", e.message),
        ..e
    })?;
    let body: Value = serde_json::from_slice(&response.body).map_err(|e| {
        PluginError::permanent(format!(
            "GET {url}: the response (HTTP {}) is not JSON: {e}",
            response.status
        ))
    })?;
    let records = response::records(&body, config.records.as_deref())
        .map_err(|why| PluginError::permanent(format!("GET {url}: {why}")))?;

    let mut changes = Vec::with_capacity(records.len());
    let mut issues: Vec<RowIssue> = Vec::new();
    // Cursor pagination: the start mark holds for the whole pass. Page
    // pagination: the mark follows the records read, and the next request
    // starts from it.
    let mut page_mark = pass.skip.clone();
    let mut previous: Option<Instant> = None;
    let mut unsorted = false;
    for (index, record) in records.iter().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let at = match response::updated_at(record, config.updated_at.as_deref()) {
            Ok(at) => Some(at),
            Err(why) => {
                if record.is_object() {
                    issues.push(RowIssue {
                        record_number: number,
                        stock_id: None,
                        field: None,
                        message: format!(
                            "{why}; the vehicle is read, but the cursor cannot move past it"
                        ),
                    });
                }
                None
            }
        };
        if let (Some(at), Some(before)) = (at, previous) {
            unsorted |= at < before;
        }
        previous = at.or(previous);
        let mut record_issues = Vec::new();
        let change = config.mapping.change(record, number, &mut record_issues);
        let id = change.as_ref().map(|c| match c {
            Change::Upsert(v) => v.stock_id.clone(),
            Change::Remove(id) => id.clone(),
        });
        if let (Some(at), Some(id)) = (at, id.as_deref()) {
            let skip = match config.pagination {
                Pagination::Cursor => pass.skip.as_ref(),
                Pagination::Page => page_mark.as_ref(),
            };
            if skip.is_some_and(|m| m.covers(at, id)) {
                // Read by an earlier pull: neither its change nor its issues again.
                continue;
            }
            Mark::advance(&mut page_mark, at, id);
            Mark::advance(&mut cursor.high, at, id);
        }
        // The issue for a missing updated_at now knows the stock id.
        if let (None, Some(id), Some(last)) = (at, id.as_deref(), issues.last_mut()) {
            if last.record_number == number && last.stock_id.is_none() {
                last.stock_id = Some(id.to_string());
            }
        }
        issues.extend(record_issues);
        changes.extend(change);
    }
    if unsorted {
        warn(&format!(
            "GET {url}: records are not in updated_at order; the cursor relies on that order"
        ));
    }

    let has_more = match config.pagination {
        Pagination::Cursor => match response::next_cursor(&body, config.next_cursor.as_deref()) {
            Some(next) if pass.token.as_deref() == Some(next.as_str()) => {
                warn(&format!(
                    "GET {url}: the API returned the same next cursor again; pass ended"
                ));
                false
            }
            Some(next) => {
                pass.token = Some(next);
                true
            }
            None => false,
        },
        Pagination::Page => {
            let more = response::more_pages(&body, pass.page)
                .unwrap_or(records.len() >= config.page_size as usize);
            let fingerprint = fingerprint(records);
            if !more || records.is_empty() {
                false
            } else if page_mark.as_ref().map(|m| m.at) > pass.since {
                // Move the filter up to the newest record: page 1 again.
                pass.since = page_mark.as_ref().map(|m| m.at);
                pass.page = 1;
                pass.skip = page_mark;
                pass.last_page = None;
                true
            } else if pass.last_page.as_deref() == Some(fingerprint.as_str()) {
                warn(&format!(
                    "GET {url}: the same page came back for another page number; the API may be ignoring `{}`; pass ended",
                    config.params.page
                ));
                false
            } else {
                // Every record shares the since instant: the next page of it.
                pass.page = pass.page.saturating_add(1);
                pass.skip = page_mark;
                pass.last_page = Some(fingerprint);
                true
            }
        }
    };

    let full_snapshot = pass.snapshot;
    if has_more {
        cursor.pass = Some(pass);
    } else {
        cursor.passes = cursor.passes.saturating_add(1);
    }
    Ok(PullPage {
        changes,
        issues,
        next_cursor: Some(cursor.to_json()),
        has_more,
        full_snapshot,
    })
}

/// The pass the next pull starts when none is under way.
fn start_pass(config: &Config, cursor: &Cursor) -> Pass {
    let snapshot = config.snapshot_every > 0 && cursor.passes.is_multiple_of(config.snapshot_every);
    let (since, skip) = match (&cursor.high, snapshot) {
        (_, true) => (None, None),
        (None, false) => (config.initial_since, None),
        (Some(high), false) if config.lookback_secs == 0 => (Some(high.at), Some(high.clone())),
        (Some(high), false) => (Some(high.at.minus_secs(config.lookback_secs)), None),
    };
    Pass {
        snapshot,
        since,
        page: 1,
        token: None,
        skip,
        last_page: None,
    }
}

/// A page's identity for loop detection: its size and first and last records.
fn fingerprint(records: &[Value]) -> String {
    let text = |v: Option<&Value>| v.map(Value::to_string).unwrap_or_default();
    let digest = |s: String| {
        // FNV-1a: short, stable, enough to tell two pages apart.
        s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    format!(
        "{}:{:016x}:{:016x}",
        records.len(),
        digest(text(records.first())),
        digest(text(records.last()))
    )
}

/// The URL of the page `pass` asks for next.
pub fn page_url(config: &Config, pass: &Pass) -> String {
    if let Some(token) = &pass.token {
        if token.starts_with("https://") || token.starts_with("http://") {
            // A next-page link: the API put everything it needs in it.
            return token.clone();
        }
    }
    let mut query: Vec<(&str, String)> = Vec::new();
    match (&pass.token, config.pagination) {
        (Some(token), _) => query.push((&config.params.cursor, token.clone())),
        (None, pagination) => {
            if let Some(since) = pass.since {
                query.push((&config.params.since, config.since_format.write(since)));
            }
            if pagination == Pagination::Page {
                query.push((&config.params.page, pass.page.to_string()));
            }
        }
    }
    query.push((&config.params.page_size, config.page_size.to_string()));
    for (k, v) in &config.query {
        query.push((k, v.clone()));
    }
    let mut url = config.list_url.clone();
    let mut separator = if url.contains('?') { '&' } else { '?' };
    for (k, v) in query {
        url.push(separator);
        url.push_str(&encode(k));
        url.push('=');
        url.push_str(&encode(&v));
        separator = '&';
    }
    url
}

/// Percent-encoding of a query component (RFC 3986 unreserved kept).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_since_page_size_and_extra_query_encoded() {
        let config = Config::parse(
            r#"{"dealer_id":"d","base_url":"https://dms.example/api","pagination":"page",
                "page_size":50,"query":{"branch":"Leeds & York"}}"#,
        )
        .unwrap();
        let pass = Pass {
            snapshot: false,
            since: Some(Instant::parse("2024-05-01T10:00:00.5+01:00").unwrap()),
            page: 3,
            token: None,
            skip: None,
            last_page: None,
        };
        assert_eq!(
            page_url(&config, &pass),
            "https://dms.example/api/vehicles?updated_since=2024-05-01T09%3A00%3A00.5Z&page=3&per_page=50&branch=Leeds%20%26%20York"
        );
        let next = Pass {
            token: Some("https://dms.example/api/vehicles?after=x".into()),
            ..pass.clone()
        };
        assert_eq!(
            page_url(&config, &next),
            "https://dms.example/api/vehicles?after=x"
        );
        let token = Pass {
            token: Some("a/b=".into()),
            ..pass
        };
        assert!(page_url(&config, &token).contains("?cursor=a%2Fb%3D&per_page=50"));
    }
}
