//! The plugin's configuration: a JSON object, validated into [`Config`].

use std::collections::BTreeMap;

use forecourt_sdk::normalise::{DateOrder, ListDelimiter, CURRENCY_CODES};
use forecourt_sdk::record::json::JsonMapping;
use forecourt_sdk::record::RecordDefaults;
use forecourt_sdk::MileageUnit;
use serde::Deserialize;

use crate::time::Instant;

/// JSON Schema (draft 2020-12) of the configuration.
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "JSON REST DMS",
  "type": "object",
  "additionalProperties": false,
  "required": ["dealer_id", "base_url"],
  "properties": {
    "dealer_id": { "type": "string", "minLength": 1, "description": "The dealer every vehicle belongs to." },
    "location_id": { "type": "string", "minLength": 1, "default": "main", "description": "Location of vehicles whose record names none." },
    "base_url": { "type": "string", "pattern": "^https?://", "description": "The API root, e.g. https://dms.example.com/api/v1. Its origin must be in the manifest's [[http]] list." },
    "path": { "type": "string", "default": "/vehicles", "description": "Path of the stock list under base_url." },
    "pagination": { "enum": ["cursor", "page"], "default": "cursor", "description": "cursor: follow the API's next cursor (or next link); page: page numbers under a fixed updated-since, moved forward by (updated_at, id)." },
    "page_size": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 },
    "lookback_secs": { "type": "integer", "minimum": 0, "maximum": 604800, "default": 0, "description": "Each pass starts this long before the newest updated_at seen and re-reads the overlap (late commits in the DMS); unchanged vehicles cost nothing downstream." },
    "initial_since": { "type": "string", "description": "RFC 3339 time of the first pass's updated-since; absent: the whole stock." },
    "snapshot_every": { "type": "integer", "minimum": 0, "default": 0, "description": "Every Nth pass lists the whole stock as a full snapshot, so vehicles deleted without a trace in the API are noticed. 0: never." },
    "since_format": { "enum": ["rfc3339", "unix", "unix_ms"], "default": "rfc3339" },
    "params": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "since": { "type": "string", "minLength": 1, "default": "updated_since" },
        "page": { "type": "string", "minLength": 1, "default": "page" },
        "page_size": { "type": "string", "minLength": 1, "default": "per_page" },
        "cursor": { "type": "string", "minLength": 1, "default": "cursor" }
      }
    },
    "query": { "type": "object", "additionalProperties": { "type": "string" }, "description": "Extra query parameters sent with every request, e.g. a branch filter." },
    "records": { "type": "string", "description": "JSON pointer to the list of vehicles in a response; default: the response itself if it is a list, else vehicles, data, items, results, stock or records." },
    "next_cursor": { "type": "string", "description": "JSON pointer to the next cursor (or next-page URL) in a response; default: next_cursor, nextCursor, next_page_token, nextPageToken or next, at the top or under meta, pagination, paging or links." },
    "updated_at": { "type": "string", "description": "JSON pointer to a record's last-modified time; default: updated_at, updatedAt, last_modified, modified_at and similar keys." },
    "fields": { "type": "object", "additionalProperties": { "type": "string" }, "description": "JSON pointer of a record's value per contract field, e.g. {\"price\": \"/pricing/retail\"}; the other fields are recognised by key." },
    "date_format": { "enum": ["dmy", "mdy"], "default": "dmy" },
    "mileage_unit": { "enum": ["miles", "kilometres"], "default": "miles" },
    "currency": { "enum": ["GBP", "EUR", "USD", "CHF", "SEK", "NOK", "DKK", "PLN", "AUD", "CAD", "NZD"], "default": "GBP" }
  }
}"#;

/// How the API pages through a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// The API returns a next cursor (or a next-page URL).
    Cursor,
    /// Page numbers under an updated-since filter.
    Page,
}

/// How the updated-since value is written in the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinceFormat {
    /// `2024-05-01T10:00:00Z`.
    Rfc3339,
    /// Seconds since the epoch.
    Unix,
    /// Milliseconds since the epoch.
    UnixMs,
}

impl SinceFormat {
    /// `instant` as the API wants it.
    pub fn write(self, instant: Instant) -> String {
        match self {
            SinceFormat::Rfc3339 => instant.to_string(),
            SinceFormat::Unix => instant.secs.to_string(),
            SinceFormat::UnixMs => instant.unix_ms().to_string(),
        }
    }
}

/// Query parameter names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Updated-since filter.
    pub since: String,
    /// Page number (page pagination).
    pub page: String,
    /// Page size.
    pub page_size: String,
    /// Cursor (cursor pagination).
    pub cursor: String,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            since: "updated_since".into(),
            page: "page".into(),
            page_size: "per_page".into(),
            cursor: "cursor".into(),
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// How records become vehicles.
    pub mapping: JsonMapping,
    /// `base_url` + `path`, without a trailing `?`.
    pub list_url: String,
    /// Pagination style.
    pub pagination: Pagination,
    /// Records asked for per page.
    pub page_size: u32,
    /// Overlap re-read at the start of each pass.
    pub lookback_secs: u64,
    /// Updated-since of the very first pass.
    pub initial_since: Option<Instant>,
    /// Every Nth pass is a full snapshot (0: never).
    pub snapshot_every: u64,
    /// How the since value is written.
    pub since_format: SinceFormat,
    /// Query parameter names.
    pub params: Params,
    /// Extra query parameters.
    pub query: Vec<(String, String)>,
    /// Pointer to the records in a response.
    pub records: Option<String>,
    /// Pointer to the next cursor in a response.
    pub next_cursor: Option<String>,
    /// Pointer to a record's updated-at.
    pub updated_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    dealer_id: String,
    location_id: Option<String>,
    base_url: String,
    path: Option<String>,
    pagination: Option<String>,
    page_size: Option<u32>,
    lookback_secs: Option<u64>,
    initial_since: Option<String>,
    snapshot_every: Option<u64>,
    since_format: Option<String>,
    #[serde(default)]
    params: Params,
    #[serde(default)]
    query: BTreeMap<String, String>,
    records: Option<String>,
    next_cursor: Option<String>,
    updated_at: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    date_format: Option<String>,
    mileage_unit: Option<String>,
    currency: Option<String>,
}

fn pointer(key: &str, value: Option<String>) -> Result<Option<String>, String> {
    match value {
        Some(p) if !p.starts_with('/') => Err(format!(
            "{key}: {p:?} is not a JSON pointer (it starts with '/', e.g. \"/data\")"
        )),
        other => Ok(other),
    }
}

impl Config {
    /// Parse and validate the configuration JSON; the error says what is wrong.
    pub fn parse(json: &str) -> Result<Config, String> {
        let raw: RawConfig = serde_json::from_str(json).map_err(|e| format!("config: {e}"))?;
        let dealer_id = raw.dealer_id.trim().to_string();
        if dealer_id.is_empty() {
            return Err("dealer_id must not be empty".into());
        }
        let location_id = raw.location_id.unwrap_or_else(|| "main".into());
        let location_id = location_id.trim().to_string();
        if location_id.is_empty() {
            return Err("location_id must not be empty".into());
        }

        let base = raw.base_url.trim().trim_end_matches('/');
        let lower = base.to_ascii_lowercase();
        let after_scheme = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        match after_scheme {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') => {}
            _ => {
                return Err(format!(
                    "base_url {:?} must be an http:// or https:// URL with a host",
                    raw.base_url
                ))
            }
        }
        if base.contains(['?', '#', ' ']) {
            return Err(format!(
                "base_url {:?} must not contain a query, a fragment or spaces (use `query` for parameters)",
                raw.base_url
            ));
        }
        let path = raw.path.unwrap_or_else(|| "/vehicles".into());
        let path = path.trim();
        if path.contains(['#', ' ']) {
            return Err(format!(
                "path {path:?} must not contain a fragment or spaces"
            ));
        }
        let list_url = if path.is_empty() {
            base.to_string()
        } else if path.starts_with('/') {
            format!("{base}{path}")
        } else {
            format!("{base}/{path}")
        };

        let pagination = match raw.pagination.as_deref() {
            None | Some("cursor") => Pagination::Cursor,
            Some("page") => Pagination::Page,
            Some(other) => {
                return Err(format!(
                    "pagination {other:?} must be \"cursor\" or \"page\""
                ))
            }
        };
        let page_size = raw.page_size.unwrap_or(100);
        if !(1..=1000).contains(&page_size) {
            return Err(format!("page_size is {page_size}; allowed 1 to 1000"));
        }
        let lookback_secs = raw.lookback_secs.unwrap_or(0);
        if lookback_secs > 604_800 {
            return Err(format!(
                "lookback_secs is {lookback_secs}; at most 604800 (7 days)"
            ));
        }
        let initial_since = raw
            .initial_since
            .as_deref()
            .map(|s| Instant::parse(s).map_err(|e| format!("initial_since: {e}")))
            .transpose()?;
        let since_format = match raw.since_format.as_deref() {
            None | Some("rfc3339") => SinceFormat::Rfc3339,
            Some("unix") => SinceFormat::Unix,
            Some("unix_ms") => SinceFormat::UnixMs,
            Some(other) => {
                return Err(format!(
                    "since_format {other:?} must be \"rfc3339\", \"unix\" or \"unix_ms\""
                ))
            }
        };
        for (key, name) in [
            ("since", &raw.params.since),
            ("page", &raw.params.page),
            ("page_size", &raw.params.page_size),
            ("cursor", &raw.params.cursor),
        ] {
            if name.trim().is_empty() {
                return Err(format!("params.{key} must not be empty"));
            }
        }

        let date_order = match raw.date_format.as_deref() {
            None | Some("dmy") => DateOrder::Dmy,
            Some("mdy") => DateOrder::Mdy,
            Some(other) => return Err(format!("date_format {other:?} must be \"dmy\" or \"mdy\"")),
        };
        let mileage_unit = match raw.mileage_unit.as_deref() {
            None | Some("miles") => MileageUnit::Miles,
            Some("kilometres") => MileageUnit::Kilometres,
            Some(other) => {
                return Err(format!(
                    "mileage_unit {other:?} must be \"miles\" or \"kilometres\""
                ))
            }
        };
        let currency = raw.currency.unwrap_or_else(|| "GBP".into());
        if !CURRENCY_CODES.contains(&currency.as_str()) {
            return Err(format!(
                "currency {currency:?} must be one of {}",
                CURRENCY_CODES.join(", ")
            ));
        }
        let defaults = RecordDefaults {
            dealer_id,
            location_id,
            date_order,
            mileage_unit,
            currency,
            image_delimiter: ListDelimiter::Auto,
            feature_delimiter: ListDelimiter::Auto,
        };
        let mapping = JsonMapping::new(defaults, &raw.fields)?;

        Ok(Config {
            mapping,
            list_url,
            pagination,
            page_size,
            lookback_secs,
            initial_since,
            snapshot_every: raw.snapshot_every.unwrap_or(0),
            since_format,
            params: raw.params,
            query: raw.query.into_iter().collect(),
            records: pointer("records", raw.records)?,
            next_cursor: pointer("next_cursor", raw.next_cursor)?,
            updated_at: pointer("updated_at", raw.updated_at)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_json_and_names_every_key() {
        let schema: serde_json::Value = serde_json::from_str(CONFIG_SCHEMA).unwrap();
        let props = schema["properties"].as_object().unwrap();
        assert_eq!(props.len(), 19);
        assert_eq!(
            schema["required"],
            serde_json::json!(["dealer_id", "base_url"])
        );
    }

    #[test]
    fn defaults() {
        let c = Config::parse(r#"{"dealer_id":"d1","base_url":"https://dms.example.com/api/v1/"}"#)
            .unwrap();
        assert_eq!(c.list_url, "https://dms.example.com/api/v1/vehicles");
        assert_eq!(c.pagination, Pagination::Cursor);
        assert_eq!(c.page_size, 100);
        assert_eq!(c.params, Params::default());
        assert_eq!(c.mapping.defaults.location_id, "main");
        assert_eq!(c.since_format, SinceFormat::Rfc3339);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = |json: &str| Config::parse(json).unwrap_err();
        assert!(err(r#"{"dealer_id":"d"}"#).contains("base_url"));
        assert!(err(r#"{"dealer_id":"d","base_url":"ftp://x"}"#).contains("http"));
        assert!(err(r#"{"dealer_id":"d","base_url":"https://x?a=1"}"#).contains("query"));
        assert!(
            err(r#"{"dealer_id":"d","base_url":"https://x","page_size":0}"#).contains("page_size")
        );
        assert!(
            err(r#"{"dealer_id":"d","base_url":"https://x","pagination":"offset"}"#)
                .contains("pagination")
        );
        assert!(
            err(r#"{"dealer_id":"d","base_url":"https://x","initial_since":"May"}"#)
                .contains("initial_since")
        );
        assert!(
            err(r#"{"dealer_id":"d","base_url":"https://x","records":"data"}"#).contains("records")
        );
        assert!(
            err(r#"{"dealer_id":"d","base_url":"https://x","fields":{"prise":"/p"}}"#)
                .contains("prise")
        );
        assert!(
            err(r#"{"dealer_id":"d","base_url":"https://x","params":{"since":""}}"#)
                .contains("params.since")
        );
        assert!(
            err(r#"{"dealer_id":"d","base_url":"https://x","api_key":"k"}"#).contains("api_key")
        );
        assert!(err(r#"{"dealer_id":" ","base_url":"https://x"}"#).contains("dealer_id"));
    }
}
