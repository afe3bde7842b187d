//! The local DMS's stock: vehicles as the DMS's JSON, each with the time it
//! last changed, deleted ones kept as tombstones so incremental clients see
//! the deletion; and the ordering and filtering its listing uses.

use crate::runtime::types::{MileageUnit, Money, Vehicle};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One vehicle record as the DMS holds it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The DMS's JSON (without `id`, `updated_at` and `deleted`).
    pub(crate) record: Map<String, Value>,
    /// When it last changed.
    pub(crate) updated_at: jiff::Timestamp,
    /// Deleted in the DMS; listed as a tombstone.
    pub(crate) deleted: bool,
}

impl Entry {
    /// The record as the API lists it.
    pub(crate) fn to_json(&self, id: &str) -> Value {
        if self.deleted {
            return json!({"id": id, "updated_at": self.updated_at.to_string(), "deleted": true});
        }
        let mut out = Map::new();
        out.insert("id".into(), Value::String(id.to_string()));
        out.insert(
            "updated_at".into(),
            Value::String(self.updated_at.to_string()),
        );
        out.extend(self.record.clone());
        Value::Object(out)
    }
}

/// All stock, by stock id.
#[derive(Debug, Default)]
pub(crate) struct Stock {
    entries: BTreeMap<String, Entry>,
}

impl Stock {
    pub(crate) fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    pub(crate) fn put(&mut self, id: &str, record: Map<String, Value>, at: jiff::Timestamp) {
        self.entries.insert(
            id.to_string(),
            Entry {
                record,
                updated_at: at,
                deleted: false,
            },
        );
    }

    /// Change one entry; false when there is no such live vehicle.
    pub(crate) fn modify(
        &mut self,
        id: &str,
        at: jiff::Timestamp,
        change: impl FnOnce(&mut Entry),
    ) -> bool {
        match self.entries.get_mut(id) {
            Some(entry) if !entry.deleted => {
                change(entry);
                entry.updated_at = at;
                true
            }
            _ => false,
        }
    }

    /// Vehicles not deleted.
    pub(crate) fn live(&self) -> usize {
        self.entries.values().filter(|e| !e.deleted).count()
    }

    /// Every entry changed at or after `since`, oldest first, ties by id.
    pub(crate) fn listing(&self, since: Option<jiff::Timestamp>) -> Vec<(&str, &Entry)> {
        let mut out: Vec<(&str, &Entry)> = self
            .entries
            .iter()
            .filter(|(_, e)| since.is_none_or(|s| e.updated_at >= s))
            .map(|(id, e)| (id.as_str(), e))
            .collect();
        out.sort_by(|a, b| a.1.updated_at.cmp(&b.1.updated_at).then(a.0.cmp(b.0)));
        out
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

/// `EngineSizeCC` → `engine_size_cc`, `MOTExpiry` → `mot_expiry`.
fn snake(header: &str) -> String {
    let chars: Vec<char> = header.chars().collect();
    let mut out = String::with_capacity(header.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn money(m: &Money) -> Value {
    json!({"amount": m.amount_minor as f64 / 100.0, "currency": m.currency})
}

fn iso(d: &Option<crate::runtime::types::Date>) -> Value {
    d.as_ref().map_or(Value::Null, |d| {
        Value::String(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
    })
}

/// A vehicle as a typical DMS API describes it: snake_case keys, the
/// vocabulary a dealer types (`Plug-in Hybrid`, `Inc VAT`), ISO dates,
/// typed prices and mileages, lists as lists.
pub fn dms_json(vehicle: &Vehicle) -> Map<String, Value> {
    // The export writer knows the DMS words for every vocabulary.
    let csv = crate::sample::to_export_csv(std::slice::from_ref(vehicle));
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let headers = reader.headers().cloned().unwrap_or_default();
    let row = reader
        .records()
        .next()
        .and_then(Result::ok)
        .unwrap_or_default();
    let mut out = Map::new();
    for (header, cell) in headers.iter().zip(row.iter()) {
        if !cell.is_empty() {
            out.insert(snake(header), Value::String(cell.to_string()));
        }
    }
    out.remove("stock_no");
    let number = |n: Option<u32>| n.map_or(Value::Null, |n| json!(n));
    let typed = [
        ("doors", number(vehicle.doors.map(u32::from))),
        ("seats", number(vehicle.seats.map(u32::from))),
        ("engine_size_cc", number(vehicle.engine_size_cc)),
        ("power_bhp", number(vehicle.power_bhp)),
        ("co2", number(vehicle.co2_g_per_km)),
        ("year", number(vehicle.model_year.map(u32::from))),
        (
            "previous_owners",
            number(vehicle.previous_owners.map(u32::from)),
        ),
        ("first_registered", iso(&vehicle.first_registration)),
        ("mot_expiry", iso(&vehicle.mot_expiry)),
        ("date_in_stock", iso(&vehicle.date_in_stock)),
        (
            "mileage",
            vehicle.mileage.as_ref().map_or(Value::Null, |m| {
                json!({"value": m.value, "unit": match m.unit {
                    MileageUnit::Miles => "miles",
                    MileageUnit::Kilometres => "km",
                }})
            }),
        ),
        ("price", vehicle.price.as_ref().map_or(Value::Null, money)),
        (
            "cost_price",
            vehicle
                .hub_only
                .as_ref()
                .and_then(|h| h.cost_price.as_ref())
                .map_or(Value::Null, money),
        ),
        ("features", json!(vehicle.features)),
        (
            "images",
            json!(vehicle.images.iter().map(|i| &i.url).collect::<Vec<_>>()),
        ),
    ];
    for (key, value) in typed {
        match value {
            Value::Null => {
                out.remove(key);
            }
            Value::Array(a) if a.is_empty() => {
                out.remove(key);
            }
            value => {
                out.insert(key.to_string(), value);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_of_export_headers() {
        let cases = [
            ("StockNo", "stock_no"),
            ("EngineSizeCC", "engine_size_cc"),
            ("PowerBHP", "power_bhp"),
            ("CO2", "co2"),
            ("MOTExpiry", "mot_expiry"),
            ("VIN", "vin"),
            ("FirstRegistered", "first_registered"),
        ];
        for (header, want) in cases {
            assert_eq!(snake(header), want);
        }
    }

    #[test]
    fn dms_json_is_typed() {
        let v = &crate::sample::sample_stock(1, 3)[0];
        let j = dms_json(v);
        assert!(j.get("stock_no").is_none());
        assert_eq!(
            j["price"]["amount"].as_f64().unwrap(),
            v.price.as_ref().unwrap().amount_minor as f64 / 100.0
        );
        assert_eq!(j["images"].as_array().unwrap().len(), v.images.len());
        assert!(j["make"].is_string());
    }

    #[test]
    fn listing_orders_by_time_then_id_and_filters_inclusively() {
        let mut stock = Stock::default();
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        stock.put("B", Map::new(), t("2024-05-01T10:00:00Z"));
        stock.put("A", Map::new(), t("2024-05-01T10:00:00Z"));
        stock.put("C", Map::new(), t("2024-05-01T09:00:00Z"));
        let ids: Vec<&str> = stock.listing(None).iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, ["C", "A", "B"]);
        let since = stock.listing(Some(t("2024-05-01T10:00:00Z")));
        assert_eq!(since.len(), 2);
    }
}
