//! The plugin's configuration: where the API is, which advertiser, where to
//! publish and how large a read-back page is.

use serde::{Deserialize, Serialize};

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api.autotrader.co.uk";
/// Largest page Auto Trader serves on list calls.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The five advert locations under `adverts.retailAdverts`, in Auto Trader's order.
pub const LOCATIONS: [&str; 5] = [
    "autotraderAdvert",
    "advertiserAdvert",
    "locatorAdvert",
    "exportAdvert",
    "profileAdvert",
];

/// The plugin's configuration (a JSON object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Scheme, host, port and optional path prefix of the API, without a
    /// trailing slash once parsed: production, Auto Trader's sandbox or the
    /// local forecourt sandbox.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The dealer's Auto Trader advertiser id (a numeric string).
    pub advertiser_id: String,
    /// Advert locations the vehicle is published to; the others are sent as
    /// `NOT_PUBLISHED`.
    #[serde(default = "default_publish_to")]
    pub publish_to: Vec<String>,
    /// Items per page when reading stock or enquiries back (1 to 100).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_string()
}

fn default_publish_to() -> Vec<String> {
    LOCATIONS.map(String::from).to_vec()
}

fn default_page_size() -> u32 {
    MAX_PAGE_SIZE
}

/// JSON Schema (draft 2020-12) of [`Config`].
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Auto Trader Connect",
  "type": "object",
  "additionalProperties": false,
  "required": ["advertiser_id"],
  "properties": {
    "base_url": {
      "type": "string",
      "pattern": "^https?://[^/?#@]+(/[^?#]*)?$",
      "default": "https://api.autotrader.co.uk",
      "description": "API base URL: production, https://api-sandbox.autotrader.co.uk, or a local forecourt sandbox such as http://127.0.0.1:8700. The manifest must allow its origin.",
      "examples": ["https://api.autotrader.co.uk", "http://127.0.0.1:8700"]
    },
    "advertiser_id": {
      "type": "string",
      "pattern": "^[0-9]{1,20}$",
      "description": "The dealer's Auto Trader advertiser id; sent as ?advertiserId= on every stock call.",
      "examples": ["10008899"]
    },
    "publish_to": {
      "type": "array",
      "items": {
        "enum": ["autotraderAdvert", "advertiserAdvert", "locatorAdvert", "exportAdvert", "profileAdvert"]
      },
      "minItems": 1,
      "uniqueItems": true,
      "default": ["autotraderAdvert", "advertiserAdvert", "locatorAdvert", "exportAdvert", "profileAdvert"],
      "description": "Advert locations to publish to; the others are sent as NOT_PUBLISHED."
    },
    "page_size": {
      "type": "integer",
      "minimum": 1,
      "maximum": 100,
      "default": 100,
      "description": "Items per page when list-published reads stock back and fetch-enquiries reads enquiries."
    }
  }
}"#;

impl Config {
    /// Parse and check a configuration object.
    pub fn parse(json: &str) -> Result<Config, String> {
        let mut config: Config =
            serde_json::from_str(json).map_err(|e| format!("invalid configuration: {e}"))?;
        config.check()?;
        config.base_url = config.base_url.trim_end_matches('/').to_string();
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let url = &self.base_url;
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or("base_url must be an http(s) URL")?;
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() {
            return Err("base_url has no host".into());
        }
        if rest.contains(['?', '#', '@']) || rest.chars().any(char::is_whitespace) {
            return Err(
                "base_url must be scheme://host[:port][/path], without query, fragment or credentials"
                    .into(),
            );
        }
        let id = &self.advertiser_id;
        if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err("advertiser_id must be Auto Trader's numeric advertiser id".into());
        }
        if self.publish_to.is_empty() {
            return Err("publish_to must name at least one advert location".into());
        }
        for (i, location) in self.publish_to.iter().enumerate() {
            if !LOCATIONS.contains(&location.as_str()) {
                return Err(format!(
                    "publish_to: unknown advert location `{location}` (expected one of {})",
                    LOCATIONS.join(", ")
                ));
            }
            if self.publish_to[..i].contains(location) {
                return Err(format!("publish_to names `{location}` twice"));
            }
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(format!("page_size must be from 1 to {MAX_PAGE_SIZE}"));
        }
        Ok(())
    }

    /// Whether the vehicle is published to `location`.
    pub fn publishes_to(&self, location: &str) -> bool {
        self.publish_to.iter().any(|l| l == location)
    }

    /// `?advertiserId=…` for every stock call.
    fn advertiser_query(&self) -> String {
        format!("advertiserId={}", self.advertiser_id)
    }

    /// Path and query of the create call.
    pub fn create_path(&self) -> String {
        format!("/stock?{}", self.advertiser_query())
    }

    /// Path and query of a patch of `stock_id`.
    pub fn item_path(&self, stock_id: &str) -> String {
        format!(
            "/stock/{}?{}",
            percent_encode(stock_id),
            self.advertiser_query()
        )
    }

    /// Path and query of one page of the stock list (pages count from 1).
    pub fn list_path(&self, page: u32) -> String {
        format!(
            "/stock?{}&page={page}&pageSize={}",
            self.advertiser_query(),
            self.page_size
        )
    }

    /// Path and query of one page of enquiries after `after` (a cursor).
    pub fn enquiries_path(&self, after: Option<&str>) -> String {
        let mut path = format!(
            "/enquiries?{}&pageSize={}",
            self.advertiser_query(),
            self.page_size
        );
        if let Some(after) = after {
            path.push_str(&format!("&after={}", percent_encode(after)));
        }
        path
    }

    /// The absolute URL of a path returned by the `*_path` methods.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// Percent-encode a path segment (stock ids are 32 hex digits, but a
/// platform id is never trusted to be URL-safe).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
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
    fn defaults_and_paths() {
        let c = Config::parse(r#"{"advertiser_id":"10008899"}"#).unwrap();
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert_eq!(c.publish_to.len(), 5);
        assert_eq!(c.page_size, 100);
        assert_eq!(c.create_path(), "/stock?advertiserId=10008899");
        assert_eq!(
            c.item_path("ab/c d"),
            "/stock/ab%2Fc%20d?advertiserId=10008899"
        );
        assert_eq!(
            c.list_path(3),
            "/stock?advertiserId=10008899&page=3&pageSize=100"
        );
        let c = Config::parse(
            r#"{"base_url":"http://127.0.0.1:8700/","advertiser_id":"1","page_size":2}"#,
        )
        .unwrap();
        assert_eq!(
            c.url(&c.list_path(1)),
            "http://127.0.0.1:8700/stock?advertiserId=1&page=1&pageSize=2"
        );
    }

    #[test]
    fn bad_configs_are_refused() {
        for bad in [
            r#"{}"#,
            r#"{"advertiser_id":"abc"}"#,
            r#"{"advertiser_id":"1","base_url":"ftp://x"}"#,
            r#"{"advertiser_id":"1","base_url":"https://"}"#,
            r#"{"advertiser_id":"1","base_url":"https://h/?x=1"}"#,
            r#"{"advertiser_id":"1","base_url":"https://u:p@h"}"#,
            r#"{"advertiser_id":"1","publish_to":[]}"#,
            r#"{"advertiser_id":"1","publish_to":["autotraderAdvert","autotraderAdvert"]}"#,
            r#"{"advertiser_id":"1","publish_to":["website"]}"#,
            r#"{"advertiser_id":"1","page_size":0}"#,
            r#"{"advertiser_id":"1","page_size":101}"#,
            r#"{"advertiser_id":"1","colour":"red"}"#,
        ] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_schema_is_json() {
        let schema: serde_json::Value = serde_json::from_str(CONFIG_SCHEMA).unwrap();
        assert_eq!(schema["required"][0], "advertiser_id");
    }
}
