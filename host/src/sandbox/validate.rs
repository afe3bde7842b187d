//! The checks a stock item must pass, reported field by field as Auto Trader
//! does (one warning per failing field, so a client can fix them all at once).

use super::json;
use serde::Serialize;
use serde_json::Value;

/// Lifecycle states Auto Trader accepts.
pub(crate) const LIFECYCLE_STATES: [&str; 6] = [
    "DUE_IN",
    "FORECOURT",
    "SALE_IN_PROGRESS",
    "SOLD",
    "DELETED",
    "WASTEBIN",
];

/// Lifecycle states in which a vehicle may not be advertised.
pub(crate) const NOT_ADVERTISABLE: [&str; 3] = ["SOLD", "DELETED", "WASTEBIN"];

/// The five advert locations under `adverts.retailAdverts`.
pub(crate) const ADVERT_LOCATIONS: [&str; 5] = [
    "autotraderAdvert",
    "advertiserAdvert",
    "locatorAdvert",
    "exportAdvert",
    "profileAdvert",
];

/// Most images an advert may carry (Auto Trader trade terms).
pub(crate) const MAX_IMAGES: usize = 100;

/// One failing field, in Auto Trader's warning shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Warning {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub feature: String,
    pub message: String,
}

impl Warning {
    pub(crate) fn error(feature: impl Into<String>, message: impl Into<String>) -> Self {
        Warning {
            kind: "ERROR",
            feature: feature.into(),
            message: message.into(),
        }
    }
}

/// Every problem with a complete stock item (a create body, or a patch merged
/// into the stored item).
pub(crate) fn stock_item(item: &Value) -> Vec<Warning> {
    if !item.is_object() {
        return vec![Warning::error("body", "must be a JSON object")];
    }
    let mut out = Vec::new();
    for field in ["vehicle.make", "vehicle.model"] {
        if json::get_str(item, field).is_none_or(|s| s.trim().is_empty()) {
            out.push(Warning::error(field, "must be a non-empty string"));
        }
    }
    if json::get(item, "vehicle.vehicleType").is_none_or(Value::is_null) {
        out.push(Warning::error("vehicle.vehicleType", "is required"));
    }
    if let Some(miles) = json::get(item, "vehicle.odometerReadingMiles").filter(|v| !v.is_null()) {
        if miles.as_u64().is_none() {
            out.push(Warning::error(
                "vehicle.odometerReadingMiles",
                "must be a whole number of miles, 0 or more",
            ));
        }
    }
    let supplied = "adverts.retailAdverts.suppliedPrice.amountGBP";
    if !positive_integer(json::get(item, supplied)) {
        out.push(Warning::error(
            supplied,
            "must be a whole number of pounds above 0",
        ));
    }
    let forecourt = "adverts.retailAdverts.forecourtPrice.amountGBP";
    if json::get(item, "adverts.retailAdverts.forecourtPrice").is_some_and(|v| !v.is_null())
        && !positive_integer(json::get(item, forecourt))
    {
        out.push(Warning::error(
            forecourt,
            "must be a whole number of pounds above 0",
        ));
    }
    if let Some(status) = json::get(item, "adverts.reservationStatus").filter(|v| !v.is_null()) {
        if status.as_str() != Some("Reserved") {
            out.push(Warning::error(
                "adverts.reservationStatus",
                "must be \"Reserved\" or null",
            ));
        }
    }
    let lifecycle = json::get_str(item, "metadata.lifecycleState");
    if !lifecycle.is_some_and(|s| LIFECYCLE_STATES.contains(&s)) {
        out.push(Warning::error(
            "metadata.lifecycleState",
            format!("must be one of {}", LIFECYCLE_STATES.join(", ")),
        ));
    }
    if json::get_str(item, "metadata.externalStockReference").is_none_or(|s| s.trim().is_empty()) {
        out.push(Warning::error(
            "metadata.externalStockReference",
            "is required (the dealer's stock id)",
        ));
    }
    advert_statuses(item, lifecycle, &mut out);
    list_of(item, "media.images", "href", Some(MAX_IMAGES), &mut out);
    list_of(item, "features", "name", None, &mut out);
    out
}

/// Advert statuses are PUBLISHED or NOT_PUBLISHED, and a vehicle that is
/// sold, deleted or in the wastebin is published nowhere: Auto Trader wants
/// the statuses changed in the same request as the lifecycle.
fn advert_statuses(item: &Value, lifecycle: Option<&str>, out: &mut Vec<Warning>) {
    let retired = lifecycle.filter(|s| NOT_ADVERTISABLE.contains(s));
    for location in ADVERT_LOCATIONS {
        let field = format!("adverts.retailAdverts.{location}.status");
        let Some(status) = json::get(item, &field).filter(|v| !v.is_null()) else {
            continue;
        };
        match (status.as_str(), retired) {
            (Some("PUBLISHED"), Some(state)) => out.push(Warning::error(
                field,
                format!(
                    "must be NOT_PUBLISHED when lifecycleState is {state}, in the same request"
                ),
            )),
            (Some("PUBLISHED" | "NOT_PUBLISHED"), _) => {}
            _ => out.push(Warning::error(field, "must be PUBLISHED or NOT_PUBLISHED")),
        }
    }
}

/// A list (images, features) is an array of objects each with a non-empty
/// string `key`, optionally at most `max` long.
fn list_of(item: &Value, path: &str, key: &str, max: Option<usize>, out: &mut Vec<Warning>) {
    let Some(list) = json::get(item, path).filter(|v| !v.is_null()) else {
        return;
    };
    let Some(entries) = list.as_array() else {
        out.push(Warning::error(path, "must be an array"));
        return;
    };
    if let Some(max) = max.filter(|max| entries.len() > *max) {
        out.push(Warning::error(
            path,
            format!("at most {max} allowed, got {}", entries.len()),
        ));
    }
    for (i, entry) in entries.iter().enumerate() {
        if entry
            .get(key)
            .and_then(Value::as_str)
            .is_none_or(|s| s.is_empty())
        {
            out.push(Warning::error(
                format!("{path}[{i}].{key}"),
                "must be a non-empty string",
            ));
        }
    }
}

fn positive_integer(value: Option<&Value>) -> bool {
    value.and_then(Value::as_u64).is_some_and(|n| n > 0)
}

/// A warning for each refused field (fault injection) the request body mentions.
pub(crate) fn refused_fields(body: &Value, refused: &[String]) -> Vec<Warning> {
    refused
        .iter()
        .filter(|path| json::contains_path(body, path))
        .map(|path| Warning::error(path.as_str(), "this field is not accepted"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "vehicle": {"make": "Ford", "model": "Focus", "vehicleType": "Car", "odometerReadingMiles": 12000},
            "adverts": {"retailAdverts": {
                "suppliedPrice": {"amountGBP": 12995},
                "autotraderAdvert": {"status": "PUBLISHED"},
                "advertiserAdvert": {"status": "NOT_PUBLISHED"}
            }},
            "metadata": {"lifecycleState": "FORECOURT", "externalStockReference": "STK-1"},
            "features": [{"name": "Heated seats"}],
            "media": {"images": [{"href": "https://img.example/1.jpg"}]}
        })
    }

    fn features(warnings: &[Warning]) -> Vec<&str> {
        warnings.iter().map(|w| w.feature.as_str()).collect()
    }

    #[test]
    fn a_valid_item_passes() {
        assert_eq!(stock_item(&valid()), vec![]);
    }

    #[test]
    fn every_failing_field_is_named() {
        let images: Vec<Value> = (0..101).map(|i| json!({"href": format!("i{i}")})).collect();
        let item = json!({
            "vehicle": {"make": " ", "odometerReadingMiles": -1},
            "adverts": {"reservationStatus": "Maybe", "retailAdverts": {
                "suppliedPrice": {"amountGBP": 99.5},
                "forecourtPrice": {"amountGBP": 0},
                "locatorAdvert": {"status": "LIVE"}
            }},
            "metadata": {"lifecycleState": "ON_SALE"},
            "features": [{"label": "x"}],
            "media": {"images": images}
        });
        assert_eq!(
            features(&stock_item(&item)),
            vec![
                "vehicle.make",
                "vehicle.model",
                "vehicle.vehicleType",
                "vehicle.odometerReadingMiles",
                "adverts.retailAdverts.suppliedPrice.amountGBP",
                "adverts.retailAdverts.forecourtPrice.amountGBP",
                "adverts.reservationStatus",
                "metadata.lifecycleState",
                "metadata.externalStockReference",
                "adverts.retailAdverts.locatorAdvert.status",
                "media.images",
                "features[0].name",
            ]
        );
        assert_eq!(features(&stock_item(&json!([1]))), vec!["body"]);
    }

    #[test]
    fn sold_must_be_unpublished_everywhere() {
        let mut item = valid();
        item["metadata"]["lifecycleState"] = json!("SOLD");
        assert_eq!(
            features(&stock_item(&item)),
            vec!["adverts.retailAdverts.autotraderAdvert.status"]
        );
        item["adverts"]["retailAdverts"]["autotraderAdvert"]["status"] = json!("NOT_PUBLISHED");
        assert_eq!(stock_item(&item), vec![]);
    }

    #[test]
    fn refused_fields_are_named() {
        let refused = vec!["vehicle.colour".to_owned(), "vehicle.vin".to_owned()];
        let mut body = valid();
        assert_eq!(refused_fields(&body, &refused), vec![]);
        body["vehicle"]["colour"] = json!("Red");
        assert_eq!(
            features(&refused_fields(&body, &refused)),
            vec!["vehicle.colour"]
        );
    }
}
