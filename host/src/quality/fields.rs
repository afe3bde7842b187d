//! Contract field names (as `describe()` lists them, kebab-case) and
//! whether a vehicle has a value for each.

use crate::runtime::types::{Condition, Vehicle};

fn text(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// Whether `v` has a value for `field`; `None` for a name the contract does not know.
pub fn present(v: &Vehicle, field: &str) -> Option<bool> {
    Some(match field {
        "stock-id" => !v.stock_id.trim().is_empty(),
        "dealer-id" => !v.dealer_id.trim().is_empty(),
        "location-id" => !v.location_id.trim().is_empty(),
        "registration" => text(&v.registration),
        "vin" => text(&v.vin),
        "make" => text(&v.make),
        "model" => text(&v.model),
        "variant" => text(&v.variant),
        "trim" => text(&v.trim),
        "vehicle-type" | "vat" | "condition" | "status" => true,
        "body-style" => v.body_style.is_some(),
        "fuel-type" => v.fuel_type.is_some(),
        "transmission" => v.transmission.is_some(),
        "drivetrain" => v.drivetrain.is_some(),
        "doors" => v.doors.is_some_and(|d| d > 0),
        "seats" => v.seats.is_some_and(|s| s > 0),
        "engine-size-cc" => v.engine_size_cc.is_some(),
        "power-bhp" => v.power_bhp.is_some(),
        "co2-g-per-km" => v.co2_g_per_km.is_some(),
        "emissions-standard" => text(&v.emissions_standard),
        "colour" => text(&v.colour),
        "first-registration" => v.first_registration.is_some(),
        "model-year" => v.model_year.is_some(),
        // "year": either date will do.
        "year" => v.model_year.is_some() || v.first_registration.is_some(),
        "mileage" => v.mileage.is_some(),
        "price" => v.price.is_some(),
        "service-history" => v.service_history.is_some(),
        "previous-owners" => v.previous_owners.is_some(),
        "mot-expiry" => v.mot_expiry.is_some(),
        "features" => !v.features.is_empty(),
        "description" => text(&v.description),
        "images" => !v.images.is_empty(),
        "date-in-stock" => v.date_in_stock.is_some(),
        "attributes" => !v.attributes.is_empty(),
        _ => return None,
    })
}

/// Whether a missing field is excused: a new vehicle that has not been
/// registered yet has no registration mark (nor first-registration date).
pub fn excused(v: &Vehicle, field: &str) -> bool {
    let unregistered_new = matches!(v.condition, Condition::New) && v.first_registration.is_none();
    unregistered_new
        && matches!(
            field,
            "registration" | "first-registration" | "mot-expiry" | "previous-owners"
        )
}

/// The field a finding names for `field` ("year" is reported as `model-year`).
pub fn reported(field: &str) -> &str {
    if field == "year" {
        "model-year"
    } else {
        field
    }
}

/// Fields a listing does better with, checked on every platform for completeness.
pub const RECOMMENDED: &[&str] = &[
    "vin",
    "trim",
    "first-registration",
    "engine-size-cc",
    "power-bhp",
    "co2-g-per-km",
    "seats",
    "service-history",
    "previous-owners",
    "mot-expiry",
    "features",
    "description",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_every_describe_field_of_the_reference_plugins() {
        let v = crate::sample::sample_stock(1, 1).remove(0);
        for f in [
            "stock-id",
            "make",
            "model",
            "price",
            "vehicle-type",
            "mileage",
            "registration",
            "variant",
            "images",
            "description",
            "features",
            "body-style",
            "fuel-type",
            "transmission",
            "colour",
            "first-registration",
            "model-year",
            "vin",
            "service-history",
            "mot-expiry",
            "trim",
            "drivetrain",
            "date-in-stock",
            "year",
            "doors",
        ] {
            assert!(present(&v, f).is_some(), "{f}");
        }
        assert_eq!(present(&v, "colour-code"), None);
    }

    #[test]
    fn an_unregistered_new_car_needs_no_registration() {
        let mut v = crate::sample::sample_stock(1, 1).remove(0);
        v.condition = Condition::New;
        v.first_registration = None;
        assert!(excused(&v, "registration"));
        assert!(!excused(&v, "price"));
        v.condition = Condition::Used;
        assert!(!excused(&v, "registration"));
    }
}
