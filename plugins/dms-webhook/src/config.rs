//! The plugin's configuration: a JSON object, validated into [`Config`].

use std::collections::BTreeMap;

use forecourt_sdk::normalise::{DateOrder, ListDelimiter, CURRENCY_CODES};
use forecourt_sdk::record::json::JsonMapping;
use forecourt_sdk::record::RecordDefaults;
use forecourt_sdk::MileageUnit;
use serde::Deserialize;

/// JSON Schema (draft 2020-12) of the configuration.
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "DMS push notifications",
  "type": "object",
  "additionalProperties": false,
  "required": ["dealer_id"],
  "properties": {
    "dealer_id": { "type": "string", "minLength": 1, "description": "The dealer every vehicle belongs to. An event that names another dealer is refused (a misrouted push)." },
    "location_id": { "type": "string", "minLength": 1, "default": "main", "description": "Location of vehicles whose record names none." },
    "fields": { "type": "object", "additionalProperties": { "type": "string" }, "description": "JSON pointer, inside the event's vehicle, of a contract field, e.g. {\"price\": \"/pricing/retail\"}; the other fields are recognised by key." },
    "date_format": { "enum": ["dmy", "mdy"], "default": "dmy" },
    "mileage_unit": { "enum": ["miles", "kilometres"], "default": "miles" },
    "currency": { "enum": ["GBP", "EUR", "USD", "CHF", "SEK", "NOK", "DKK", "PLN", "AUD", "CAD", "NZD"], "default": "GBP" }
  }
}"#;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// How an event's vehicle becomes a canonical vehicle.
    pub mapping: JsonMapping,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    dealer_id: String,
    location_id: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    date_format: Option<String>,
    mileage_unit: Option<String>,
    currency: Option<String>,
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
        Ok(Config {
            mapping: JsonMapping::new(defaults, &raw.fields)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_and_defaults() {
        let schema: serde_json::Value = serde_json::from_str(CONFIG_SCHEMA).unwrap();
        assert_eq!(schema["properties"].as_object().unwrap().len(), 6);
        let c = Config::parse(r#"{"dealer_id":"d1"}"#).unwrap();
        assert_eq!(c.mapping.defaults.location_id, "main");
        assert_eq!(c.mapping.defaults.currency, "GBP");
    }

    #[test]
    fn errors() {
        for bad in [
            "{}",
            r#"{"dealer_id":""}"#,
            r#"{"dealer_id":"d","secret":"x"}"#,
            r#"{"dealer_id":"d","currency":"XYZ"}"#,
            r#"{"dealer_id":"d","fields":{"price":"pricing"}}"#,
        ] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
    }
}
