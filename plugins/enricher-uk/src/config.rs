//! The plugin's configuration.

use serde::Deserialize;

/// The plugin's configuration (a JSON object).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Appending search terms to descriptions.
    #[serde(default)]
    pub search_terms: SearchTerms,
}

/// `search_terms`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchTerms {
    /// Platform ids whose descriptions get search terms (platforms that
    /// forbid keyword lists, such as Google's vehicle ads, are left out).
    #[serde(default)]
    pub platforms: Vec<String>,
    /// The label before the terms.
    #[serde(default = "default_label")]
    pub label: String,
    /// At most this many terms (1 to 12).
    #[serde(default = "default_max")]
    pub max_terms: usize,
}

impl Default for SearchTerms {
    fn default() -> Self {
        SearchTerms {
            platforms: vec![],
            label: default_label(),
            max_terms: default_max(),
        }
    }
}

fn default_label() -> String {
    "Search terms".into()
}

fn default_max() -> usize {
    6
}

/// JSON Schema of [`Config`].
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "UK enricher",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "search_terms": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "platforms": {"type": "array", "items": {"type": "string"}, "default": [], "description": "Platform ids whose descriptions get search terms appended."},
        "label": {"type": "string", "default": "Search terms"},
        "max_terms": {"type": "integer", "minimum": 1, "maximum": 12, "default": 6}
      }
    }
  }
}"#;

impl Config {
    /// Parse and check.
    pub fn parse(json: &str) -> Result<Config, String> {
        let c: Config =
            serde_json::from_str(json).map_err(|e| format!("invalid configuration: {e}"))?;
        if !(1..=12).contains(&c.search_terms.max_terms) {
            return Err("search_terms.max_terms must be from 1 to 12".into());
        }
        if c.search_terms.label.trim().is_empty() || c.search_terms.label.contains('\n') {
            return Err("search_terms.label must be one non-empty line".into());
        }
        Ok(c)
    }
}
