//! The plugin's configuration: a JSON object, validated into [`Config`].

use std::collections::BTreeMap;

use forecourt_sdk::record::RecordDefaults;
use forecourt_sdk::MileageUnit;
use serde::Deserialize;

use crate::fields::Field;
use crate::normalise::{DateOrder, ListDelimiter, CURRENCY_CODES};

/// JSON Schema (draft 2020-12) of the configuration.
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "DMS stock export (CSV/TSV)",
  "type": "object",
  "additionalProperties": false,
  "required": ["dealer_id"],
  "properties": {
    "dealer_id": {
      "type": "string",
      "minLength": 1,
      "description": "The dealer every vehicle of the file belongs to."
    },
    "location_id": {
      "type": "string",
      "minLength": 1,
      "default": "main",
      "description": "Location of the vehicles; a Location column overrides it per row."
    },
    "delimiter": {
      "anyOf": [
        { "enum": ["auto", "tab"] },
        { "type": "string", "minLength": 1, "maxLength": 1, "not": { "enum": ["\"", "\r", "\n"] } }
      ],
      "default": "auto",
      "description": "Field delimiter: auto (from the first line: tab if it has more tabs than commas, else ';' if more semicolons than commas, else ','), tab, or one ASCII character."
    },
    "has_header": {
      "type": "boolean",
      "default": true,
      "description": "Whether the first record is a header row. Without one, columns must map stock-id (and every other field wanted) by 0-based position."
    },
    "columns": {
      "type": "object",
      "description": "Column of each contract field, by header name or 0-based position; overrides header recognition for the fields it names.",
      "propertyNames": {
        "enum": [
          "stock-id", "registration", "vin", "make", "model", "variant", "trim",
          "vehicle-type", "body-style", "fuel-type", "transmission", "drivetrain",
          "doors", "seats", "engine-size-cc", "power-bhp", "co2-g-per-km",
          "emissions-standard", "colour", "first-registration", "model-year",
          "mileage", "price", "vat", "condition", "service-history",
          "previous-owners", "mot-expiry", "features", "description", "images",
          "status", "date-in-stock", "location-id", "internal-notes", "cost-price"
        ]
      },
      "additionalProperties": {
        "oneOf": [
          { "type": "string", "minLength": 1 },
          { "type": "integer", "minimum": 0 }
        ]
      },
      "examples": [{ "stock-id": "Stock Ref", "price": 7 }]
    },
    "date_format": {
      "enum": ["dmy", "mdy"],
      "default": "dmy",
      "description": "Order of day and month in dates that are not ISO yyyy-mm-dd."
    },
    "mileage_unit": {
      "enum": ["miles", "kilometres"],
      "default": "miles",
      "description": "Unit of mileages that do not say (\"45,000\")."
    },
    "currency": {
      "enum": ["GBP", "EUR", "USD", "CHF", "SEK", "NOK", "DKK", "PLN", "AUD", "CAD", "NZD"],
      "default": "GBP",
      "description": "Currency of prices that do not say (\"12995\")."
    },
    "image_delimiter": {
      "type": "string",
      "minLength": 1,
      "default": "auto",
      "description": "Separator of image URLs within the images cell: auto ('|', else ';', else ',', else whitespace) or an exact string."
    },
    "feature_delimiter": {
      "type": "string",
      "minLength": 1,
      "default": "auto",
      "description": "Separator of features within the features cell: auto ('|', else ';', else ',', else line breaks) or an exact string."
    }
  }
}"#;

/// Where a field's values are: a header name or a 0-based column position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRef {
    /// The column whose header is this name (exact, else by header key).
    Name(String),
    /// The column at this 0-based position.
    Position(usize),
}

/// The field delimiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delimiter {
    /// Detected from the first line.
    #[default]
    Auto,
    /// This byte.
    Byte(u8),
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `vehicle.dealer-id` of every vehicle.
    pub dealer_id: String,
    /// `vehicle.location-id` unless the row has a Location.
    pub location_id: String,
    /// Field delimiter.
    pub delimiter: Delimiter,
    /// Whether the first record is a header row.
    pub has_header: bool,
    /// Explicit column of some fields.
    pub columns: Vec<(Field, ColumnRef)>,
    /// Day/month order of non-ISO dates.
    pub date_order: DateOrder,
    /// Unit of mileages that do not say.
    pub mileage_unit: MileageUnit,
    /// Currency of prices that do not say.
    pub currency: String,
    /// Separator of image URLs.
    pub image_delimiter: ListDelimiter,
    /// Separator of features.
    pub feature_delimiter: ListDelimiter,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawDateFormat {
    Dmy,
    Mdy,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawUnit {
    Miles,
    Kilometres,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    dealer_id: String,
    location_id: Option<String>,
    delimiter: Option<String>,
    has_header: Option<bool>,
    #[serde(default)]
    columns: BTreeMap<String, serde_json::Value>,
    date_format: Option<RawDateFormat>,
    mileage_unit: Option<RawUnit>,
    currency: Option<String>,
    image_delimiter: Option<String>,
    feature_delimiter: Option<String>,
}

impl Config {
    /// The conventions every row is read with.
    pub fn record_defaults(&self) -> RecordDefaults {
        RecordDefaults {
            dealer_id: self.dealer_id.clone(),
            location_id: self.location_id.clone(),
            date_order: self.date_order,
            mileage_unit: self.mileage_unit,
            currency: self.currency.clone(),
            image_delimiter: self.image_delimiter.clone(),
            feature_delimiter: self.feature_delimiter.clone(),
        }
    }
}

fn list_delimiter(key: &str, value: Option<String>) -> Result<ListDelimiter, String> {
    match value.as_deref() {
        None | Some("auto") => Ok(ListDelimiter::Auto),
        Some("") => Err(format!("{key} must not be empty")),
        Some(d) => Ok(ListDelimiter::Exact(d.to_string())),
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

        let delimiter = match raw.delimiter.as_deref() {
            None | Some("auto") => Delimiter::Auto,
            Some("tab") | Some("\t") => Delimiter::Byte(b'\t'),
            Some(d) if d.len() == 1 && d.is_ascii() && !matches!(d, "\"" | "\r" | "\n") => {
                Delimiter::Byte(d.as_bytes()[0])
            }
            Some(d) => {
                return Err(format!(
                    "delimiter {d:?} must be \"auto\", \"tab\" or one ASCII character other than a quote or a line break"
                ))
            }
        };
        let has_header = raw.has_header.unwrap_or(true);

        let mut columns = Vec::new();
        for (key, value) in raw.columns {
            let field = Field::from_name(&key).ok_or_else(|| {
                format!("columns: unknown field {key:?} (use contract field names such as \"stock-id\", \"price\")")
            })?;
            let column = match value {
                serde_json::Value::String(name) if !name.trim().is_empty() => {
                    if !has_header {
                        return Err(format!(
                            "columns.{key}: has_header is false, so columns must be given by 0-based position, not by name"
                        ));
                    }
                    ColumnRef::Name(name.trim().to_string())
                }
                serde_json::Value::Number(n) if n.as_u64().is_some() => {
                    let position = n.as_u64().unwrap_or_default();
                    ColumnRef::Position(
                        usize::try_from(position).map_err(|_| {
                            format!("columns.{key}: position {position} is too large")
                        })?,
                    )
                }
                other => {
                    return Err(format!(
                        "columns.{key}: expected a header name or a 0-based position, found {other}"
                    ))
                }
            };
            columns.push((field, column));
        }
        if !has_header && !columns.iter().any(|(f, _)| *f == Field::StockId) {
            return Err(
                "has_header is false, so columns must map stock-id to a 0-based position".into(),
            );
        }

        let currency = raw.currency.unwrap_or_else(|| "GBP".into());
        if !CURRENCY_CODES.contains(&currency.as_str()) {
            return Err(format!(
                "currency {currency:?} must be one of {}",
                CURRENCY_CODES.join(", ")
            ));
        }

        Ok(Config {
            dealer_id,
            location_id,
            delimiter,
            has_header,
            columns,
            date_order: match raw.date_format {
                None | Some(RawDateFormat::Dmy) => DateOrder::Dmy,
                Some(RawDateFormat::Mdy) => DateOrder::Mdy,
            },
            mileage_unit: match raw.mileage_unit {
                None | Some(RawUnit::Miles) => MileageUnit::Miles,
                Some(RawUnit::Kilometres) => MileageUnit::Kilometres,
            },
            currency,
            image_delimiter: list_delimiter("image_delimiter", raw.image_delimiter)?,
            feature_delimiter: list_delimiter("feature_delimiter", raw.feature_delimiter)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_json_and_lists_every_field() {
        let schema: serde_json::Value = serde_json::from_str(CONFIG_SCHEMA).unwrap();
        let names: Vec<&str> = schema["properties"]["columns"]["propertyNames"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let fields: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names, fields);
        let currencies: Vec<&str> = schema["properties"]["currency"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(currencies, CURRENCY_CODES);
        let props = schema["properties"].as_object().unwrap();
        for key in [
            "dealer_id",
            "location_id",
            "delimiter",
            "has_header",
            "columns",
            "date_format",
            "mileage_unit",
            "currency",
            "image_delimiter",
            "feature_delimiter",
        ] {
            assert!(props.contains_key(key), "{key}");
        }
        assert_eq!(props.len(), 10);
    }

    #[test]
    fn defaults() {
        let c = Config::parse(r#"{"dealer_id":"d1"}"#).unwrap();
        assert_eq!(c.dealer_id, "d1");
        assert_eq!(c.location_id, "main");
        assert_eq!(c.delimiter, Delimiter::Auto);
        assert!(c.has_header);
        assert!(c.columns.is_empty());
        assert_eq!(c.date_order, DateOrder::Dmy);
        assert_eq!(c.mileage_unit, MileageUnit::Miles);
        assert_eq!(c.currency, "GBP");
        assert_eq!(c.image_delimiter, ListDelimiter::Auto);
    }

    #[test]
    fn full_example() {
        let c = Config::parse(
            r#"{"dealer_id":"d1","location_id":"leeds","delimiter":"tab","has_header":false,
                "columns":{"stock-id":0,"price":7},"date_format":"mdy","mileage_unit":"kilometres",
                "currency":"EUR","image_delimiter":"~","feature_delimiter":"auto"}"#,
        )
        .unwrap();
        assert_eq!(c.delimiter, Delimiter::Byte(b'\t'));
        assert_eq!(
            c.columns,
            vec![
                (Field::Price, ColumnRef::Position(7)),
                (Field::StockId, ColumnRef::Position(0)),
            ]
        );
        assert_eq!(c.image_delimiter, ListDelimiter::Exact("~".into()));
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "{}",
            r#"{"dealer_id":" "}"#,
            r#"{"dealer_id":"d","location_id":""}"#,
            r#"{"dealer_id":"d","delimiter":"::"}"#,
            r#"{"dealer_id":"d","delimiter":"\""}"#,
            r#"{"dealer_id":"d","columns":{"price_gbp":"Price"}}"#,
            r#"{"dealer_id":"d","columns":{"price":-1}}"#,
            r#"{"dealer_id":"d","columns":{"price":1.5}}"#,
            r#"{"dealer_id":"d","columns":{"price":""}}"#,
            r#"{"dealer_id":"d","has_header":false}"#,
            r#"{"dealer_id":"d","has_header":false,"columns":{"stock-id":"Stock"}}"#,
            r#"{"dealer_id":"d","date_format":"ymd"}"#,
            r#"{"dealer_id":"d","currency":"XYZ"}"#,
            r#"{"dealer_id":"d","image_delimiter":""}"#,
            r#"{"dealer_id":"d","unknown":1}"#,
        ] {
            assert!(Config::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
