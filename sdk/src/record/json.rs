//! A DMS's JSON vehicle record as [`RecordValues`], and the change it means.
//!
//! Keys are recognised like export headers (see [`crate::fields`]): the key
//! lower-cased with everything but letters and digits removed, so
//! `stockNumber`, `stock_number` and `Stock-Number` all feed `stock-id`. A
//! mapping can instead point a field at any value with a JSON pointer
//! (`"price": "/pricing/retail"`). Values may be strings or numbers; a few
//! structured shapes DMS APIs use are understood:
//!
//! - money (`price`, `cost-price`): `{"amount": 12995, "currency": "GBP"}`
//!   (also `value`, `amountGBP`), or exact minor units
//!   `{"amountMinor": 1299500}` / `{"pence": 1299500}`;
//! - `mileage`: `{"value": 72000, "unit": "km"}` (also `reading`);
//! - `images`: a list of URLs or of objects with `url`, `href` or `src`;
//! - `features`: a list of strings or of objects with `name` or `label`.
//!
//! A record is *deleted* when `deleted` / `isDeleted` is true, `deletedAt`
//! is set, or its status is `deleted`: the change is then a `remove`.
//! Sold vehicles stay upserts with status `sold`, so platforms can mark them
//! sold rather than make them vanish.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{build_vehicle, RecordDefaults, RecordValues};
use crate::fields::{header_key, Field, FIELD_COUNT};
use crate::{Change, RowIssue, StockStatus, Vehicle};

/// Keys JSON APIs use beyond the export headers of [`Field::synonyms`],
/// tried after them.
fn json_synonyms(field: Field) -> &'static [&'static str] {
    match field {
        Field::StockId => &["id", "vehicleid", "stockitemid"],
        Field::Registration => &["vrn", "plate", "registrationplate"],
        Field::Make => &["brand"],
        Field::Mileage => &["odometerreading", "odometermiles"],
        Field::FirstRegistration => &["dateoffirstregistration", "firstregistereddate"],
        Field::Status => &["state", "availability"],
        Field::Images => &["imagelist"],
        _ => &[],
    }
}

/// Keys that flag a deleted record.
const DELETED_KEYS: [&str; 4] = ["deleted", "isdeleted", "deletedat", "removed"];

/// How a source's JSON records become vehicles.
#[derive(Debug, Clone)]
pub struct JsonMapping {
    /// Identity and conventions of values that do not say.
    pub defaults: RecordDefaults,
    /// Fields read from a JSON pointer rather than by key recognition.
    pointers: Vec<(Field, String)>,
}

impl JsonMapping {
    /// A mapping with these defaults and pointer overrides
    /// (`{"price": "/pricing/retail"}`, keyed by contract field name). The
    /// error names the entry at fault.
    pub fn new(
        defaults: RecordDefaults,
        fields: &BTreeMap<String, String>,
    ) -> Result<JsonMapping, String> {
        let mut pointers = Vec::new();
        for (name, pointer) in fields {
            let field = Field::from_name(name).ok_or_else(|| {
                format!(
                    "fields: unknown field {name:?} (use contract field names such as \"stock-id\", \"price\")"
                )
            })?;
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                return Err(format!(
                    "fields.{name}: {pointer:?} is not a JSON pointer (it starts with '/', e.g. \"/pricing/retail\")"
                ));
            }
            pointers.push((field, pointer.clone()));
        }
        Ok(JsonMapping { defaults, pointers })
    }

    /// The change one record means, or `None` when it cannot be used; every
    /// problem goes to `issues` as record `number`.
    pub fn change(
        &self,
        record: &Value,
        number: u32,
        issues: &mut Vec<RowIssue>,
    ) -> Option<Change> {
        self.change_as(record, number, None, issues)
    }

    /// [`change`](Self::change), with the status forced (a `sold` event whose
    /// vehicle still says in stock). A deleted record is still a `remove`.
    pub fn change_as(
        &self,
        record: &Value,
        number: u32,
        status: Option<StockStatus>,
        issues: &mut Vec<RowIssue>,
    ) -> Option<Change> {
        let mut push = |stock_id: Option<&str>, field: Option<Field>, message: String| {
            issues.push(RowIssue {
                record_number: number,
                stock_id: stock_id.map(str::to_string),
                field: field.map(|f| f.name().to_string()),
                message,
            })
        };
        let Some(object) = record.as_object() else {
            push(
                None,
                None,
                format!("{} instead of a JSON object; record skipped", kind(record)),
            );
            return None;
        };
        let mut problems = Vec::new();
        let values = JsonRecord::read(self, object, &mut problems);
        let Some(stock_id) = values.text(Field::StockId).map(str::to_string) else {
            let why = problems
                .iter()
                .find(|(f, _)| *f == Field::StockId)
                .map_or("no stock id", |(_, m)| {
                    m.strip_suffix("; field dropped").unwrap_or(m)
                });
            push(None, Some(Field::StockId), format!("{why}; record skipped"));
            return None;
        };
        if is_deleted(object, &values) {
            return Some(Change::Remove(stock_id));
        }
        for (field, message) in problems {
            push(Some(&stock_id), Some(field), message);
        }
        let mut vehicle: Vehicle = build_vehicle(&self.defaults, &stock_id, &values, |f, m| {
            push(Some(&stock_id), Some(f), m)
        });
        if let Some(status) = status {
            vehicle.status = status;
        }
        Some(Change::Upsert(vehicle))
    }
}

fn is_deleted(object: &Map<String, Value>, values: &JsonRecord) -> bool {
    let flagged = object.iter().any(|(key, value)| {
        DELETED_KEYS.contains(&header_key(key).as_str())
            && match value {
                Value::Bool(b) => *b,
                Value::Null => false,
                Value::String(s) => {
                    let s = s.trim().to_ascii_lowercase();
                    !(s.is_empty() || s == "false" || s == "0" || s == "no")
                }
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            }
    });
    flagged
        || values
            .text(Field::Status)
            .is_some_and(|s| matches!(header_key(s).as_str(), "deleted" | "removed"))
}

/// What a JSON value is, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// One JSON record's values by field, read once.
#[derive(Debug, Default)]
pub struct JsonRecord {
    text: Vec<Option<String>>,
    images: Option<Vec<String>>,
    features: Option<Vec<String>>,
}

impl JsonRecord {
    /// Read `object` with `mapping`; values of the wrong shape are left out
    /// and described in `problems`.
    pub fn read(
        mapping: &JsonMapping,
        object: &Map<String, Value>,
        problems: &mut Vec<(Field, String)>,
    ) -> JsonRecord {
        // Each key once: its recognition key → the value.
        let by_key: BTreeMap<String, &Value> = object
            .iter()
            .rev()
            .map(|(k, v)| (header_key(k), v))
            .collect();
        let mut record = JsonRecord {
            text: vec![None; FIELD_COUNT],
            ..JsonRecord::default()
        };
        for field in Field::ALL {
            let value = match mapping.pointers.iter().find(|(f, _)| *f == field) {
                Some((_, pointer)) => pointer_in(object, pointer),
                None => field
                    .synonyms()
                    .iter()
                    .chain(json_synonyms(field))
                    .filter_map(|key| by_key.get(*key).copied())
                    .find(|v| !v.is_null()),
            };
            let Some(value) = value else { continue };
            match field {
                Field::Images | Field::Features => match value {
                    Value::Array(items) => {
                        let list = list_items(field, items, problems);
                        if field == Field::Images {
                            record.images = Some(list);
                        } else {
                            record.features = Some(list);
                        }
                    }
                    other => record.set(field, other, problems),
                },
                _ => record.set(field, value, problems),
            }
        }
        record
    }

    fn set(&mut self, field: Field, value: &Value, problems: &mut Vec<(Field, String)>) {
        let text = match (field, value) {
            (_, Value::String(s)) => Some(s.trim().to_string()),
            (_, Value::Number(n)) => Some(n.to_string()),
            (_, Value::Bool(b)) => Some(b.to_string()),
            (_, Value::Null) => None,
            (Field::Price | Field::CostPrice, Value::Object(o)) => match money(o) {
                Ok(text) => Some(text),
                Err(why) => {
                    problems.push((field, format!("{why}; field dropped")));
                    None
                }
            },
            (Field::Mileage, Value::Object(o)) => match mileage(o) {
                Ok(text) => Some(text),
                Err(why) => {
                    problems.push((field, format!("{why}; field dropped")));
                    None
                }
            },
            (_, other) => {
                problems.push((
                    field,
                    format!(
                        "{} where one value was expected; field dropped",
                        kind(other)
                    ),
                ));
                None
            }
        };
        self.text[field.index()] = text.filter(|t| !t.is_empty());
    }
}

impl RecordValues for JsonRecord {
    fn text(&self, field: Field) -> Option<&str> {
        self.text[field.index()].as_deref()
    }

    fn items(&self, field: Field) -> Option<Vec<&str>> {
        let list = match field {
            Field::Images => self.images.as_ref(),
            Field::Features => self.features.as_ref(),
            _ => None,
        }?;
        Some(list.iter().map(String::as_str).collect())
    }
}

/// The value at a JSON pointer (RFC 6901) inside `object`.
fn pointer_in<'a>(object: &'a Map<String, Value>, pointer: &str) -> Option<&'a Value> {
    let rest = pointer.strip_prefix('/')?;
    let (first, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let first = first.replace("~1", "/").replace("~0", "~");
    object.get(&first)?.pointer(tail).filter(|v| !v.is_null())
}

/// The first of `keys` (recognition keys) present in `object`.
fn member<'a>(object: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|want| {
        object
            .iter()
            .find(|(k, v)| header_key(k) == *want && !v.is_null())
            .map(|(_, v)| v)
    })
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `{"amount": 12995.5, "currency": "GBP"}` → `12995.5 GBP`, or exact minor
/// units `{"amountMinor": 1299550}` → `12995.50 GBP`.
fn money(object: &Map<String, Value>) -> Result<String, String> {
    let currency = member(object, &["currency", "currencycode"])
        .and_then(Value::as_str)
        .map(|c| format!(" {}", c.trim()))
        .unwrap_or_default();
    if let Some(minor) = member(object, &["amountminor", "minor", "pence", "amountpence"]) {
        let minor = minor
            .as_i64()
            .or_else(|| minor.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or("an amount in minor units that is not a whole number")?;
        if minor < 0 {
            return Err("a negative price".into());
        }
        return Ok(format!("{}.{:02}{currency}", minor / 100, minor % 100));
    }
    let amount = member(object, &["amount", "value", "amountgbp", "price", "gross"])
        .ok_or("a price object without an amount")?;
    let amount = scalar_text(amount).ok_or("a price amount that is not a number")?;
    Ok(format!("{amount}{currency}"))
}

/// `{"value": 72000, "unit": "km"}` → `72000 km`.
fn mileage(object: &Map<String, Value>) -> Result<String, String> {
    let value = member(object, &["value", "reading", "mileage", "distance"])
        .ok_or("a mileage object without a value")?;
    let value = scalar_text(value).ok_or("a mileage value that is not a number")?;
    let unit = member(object, &["unit", "units"])
        .and_then(Value::as_str)
        .map(|u| format!(" {}", u.trim()))
        .unwrap_or_default();
    Ok(format!("{value}{unit}"))
}

/// The items of an `images` or `features` list.
fn list_items(field: Field, items: &[Value], problems: &mut Vec<(Field, String)>) -> Vec<String> {
    let keys: &[&str] = if field == Field::Images {
        &["url", "href", "src", "uri", "link"]
    } else {
        &["name", "label", "description", "text", "value"]
    };
    let mut out = Vec::new();
    let mut unreadable = 0;
    for item in items {
        let text = match item {
            Value::Object(o) => member(o, keys).and_then(scalar_text),
            other => scalar_text(other),
        };
        match text {
            Some(t) if !t.is_empty() => out.push(t),
            _ => unreadable += 1,
        }
    }
    if unreadable > 0 {
        problems.push((
            field,
            format!(
                "{unreadable} item(s) of the list have no {}; skipped",
                if field == Field::Images {
                    "URL"
                } else {
                    "name"
                }
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(fields: &[(&str, &str)]) -> JsonMapping {
        let fields = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        JsonMapping::new(RecordDefaults::uk("d1"), &fields).unwrap()
    }

    fn upsert(m: &JsonMapping, record: Value) -> (Vehicle, Vec<RowIssue>) {
        let mut issues = Vec::new();
        match m.change(&record, 1, &mut issues) {
            Some(Change::Upsert(v)) => (v, issues),
            other => panic!("expected an upsert, got {other:?} with {issues:?}"),
        }
    }

    #[test]
    fn recognises_camel_and_snake_case_keys_and_shapes() {
        let (v, issues) = upsert(
            &mapping(&[]),
            json!({
                "stockNumber": "FC1", "vrm": "ab19 xyz", "make": "Ford",
                "price": {"amount": 12995.5, "currency": "GBP"},
                "odometer": {"value": 72000, "unit": "km"},
                "engine_size": 1.5, "doors": 5,
                "images": [{"url": "https://img.example/1.jpg"}, "https://img.example/2.jpg", {"alt": "x"}],
                "features": [{"name": "Heated seats"}, "Sat nav"],
                "status": "Sold"
            }),
        );
        assert_eq!(v.stock_id, "FC1");
        assert_eq!(v.registration.as_deref(), Some("AB19XYZ"));
        assert_eq!(v.price.as_ref().unwrap().amount_minor, 1_299_550);
        assert_eq!(v.mileage.as_ref().unwrap().value, 72_000);
        assert_eq!(v.engine_size_cc, Some(1500));
        assert_eq!(v.doors, Some(5));
        assert_eq!(v.images.len(), 2);
        assert_eq!(v.features, ["Heated seats", "Sat nav"]);
        assert_eq!(v.status, StockStatus::Sold);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].field.as_deref(), Some("images"));
    }

    #[test]
    fn pointers_override_recognition_and_minor_units_are_exact() {
        let m = mapping(&[("price", "/pricing/retail"), ("stock-id", "/ref")]);
        let (v, _) = upsert(
            &m,
            json!({"id": "internal-9", "ref": 42, "price": 1, "pricing": {"retail": {"amountMinor": 1999999}}}),
        );
        assert_eq!(v.stock_id, "42");
        assert_eq!(v.price.unwrap().amount_minor, 1_999_999);
    }

    #[test]
    fn deleted_records_are_removes_and_bad_records_are_issues() {
        let m = mapping(&[]);
        let mut issues = Vec::new();
        for record in [
            json!({"id": "A", "deleted": true}),
            json!({"id": "A", "deletedAt": "2024-05-01T10:00:00Z"}),
            json!({"id": "A", "status": "Deleted"}),
        ] {
            assert!(
                matches!(m.change(&record, 1, &mut issues), Some(Change::Remove(id)) if id == "A")
            );
        }
        assert!(matches!(
            m.change(&json!({"id": "A", "deleted": false}), 1, &mut issues),
            Some(Change::Upsert(_))
        ));
        assert!(issues.is_empty());
        assert!(m.change(&json!(["A"]), 3, &mut issues).is_none());
        assert!(m.change(&json!({"make": "Kia"}), 4, &mut issues).is_none());
        assert!(m.change(&json!({"id": {"x": 1}}), 5, &mut issues).is_none());
        let got: Vec<(u32, Option<&str>)> = issues
            .iter()
            .map(|i| (i.record_number, i.field.as_deref()))
            .collect();
        assert_eq!(
            got,
            [(3, None), (4, Some("stock-id")), (5, Some("stock-id"))]
        );
        assert!(
            issues[2].message.contains("an object"),
            "{}",
            issues[2].message
        );
    }

    #[test]
    fn forced_status_and_wrong_shapes() {
        let m = mapping(&[]);
        let mut issues = Vec::new();
        let change = m.change_as(
            &json!({"id": "S", "status": "in stock", "colour": ["red"], "price": {"currency": "GBP"}}),
            2,
            Some(StockStatus::Sold),
            &mut issues,
        );
        let Some(Change::Upsert(v)) = change else {
            panic!()
        };
        assert_eq!(v.status, StockStatus::Sold);
        assert!(v.colour.is_none() && v.price.is_none());
        let fields: Vec<&str> = issues.iter().filter_map(|i| i.field.as_deref()).collect();
        assert_eq!(fields, ["colour", "price"]);
    }

    #[test]
    fn mapping_errors_name_the_entry() {
        let bad = |k: &str, v: &str| {
            JsonMapping::new(
                RecordDefaults::uk("d"),
                &[(k.to_string(), v.to_string())].into_iter().collect(),
            )
            .unwrap_err()
        };
        assert!(bad("prize", "/p").contains("prize"));
        assert!(bad("price", "pricing.retail").contains("fields.price"));
    }
}
