//! Building a canonical vehicle from one DMS record, field by field, with
//! the UK normalisation rules of [`crate::normalise`] and a row issue for
//! every value that cannot be read. Shared by the DMS sources: an export row
//! (csv-export) and a JSON record (dms-rest, dms-webhook) go through the
//! same rules, so the same DMS value means the same thing whichever way it
//! arrived.
//!
//! The policy, in one place:
//! - an optional value that cannot be read is dropped, with an issue;
//! - `status`, `condition` and `vat` always have a value: empty means
//!   in-stock, used and inc-VAT; an unreadable one keeps a default and says
//!   so (an unreadable status is treated as *withdrawn*, so a vehicle that
//!   may have been sold is never advertised by mistake);
//! - image references that are not absolute http(s) URLs are dropped, with
//!   one issue per record;
//! - a value longer than [`MAX_FIELD_CHARS`] is truncated, with an issue;
//! - internal notes and the cost price go to `hub-only`, never elsewhere, and
//!   an unreadable cost price is reported without quoting it.

pub mod json;

use crate::fields::Field;
use crate::normalise::{self as n, DateOrder, ListDelimiter};
use crate::{Condition, HubOnly, Image, MileageUnit, StockStatus, VatStatus, Vehicle, VehicleType};

/// Longest single value kept; longer ones are truncated with an issue.
pub const MAX_FIELD_CHARS: usize = 100_000;

/// How much of an offending value an issue quotes.
const QUOTE_CHARS: usize = 60;

/// What applies to every record of a source: identity and the conventions
/// of values that do not say (unit, currency, date order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDefaults {
    /// `vehicle.dealer-id` of every vehicle.
    pub dealer_id: String,
    /// `vehicle.location-id` unless the record has a location.
    pub location_id: String,
    /// Day/month order of non-ISO dates.
    pub date_order: DateOrder,
    /// Unit of mileages that do not say.
    pub mileage_unit: MileageUnit,
    /// Currency of prices that do not say (an ISO 4217 code).
    pub currency: String,
    /// Separator of image references within one value.
    pub image_delimiter: ListDelimiter,
    /// Separator of features within one value.
    pub feature_delimiter: ListDelimiter,
}

impl RecordDefaults {
    /// UK conventions (dd/mm/yyyy, miles, GBP, automatic list splitting)
    /// for this dealer at location `main`.
    pub fn uk(dealer_id: impl Into<String>) -> Self {
        RecordDefaults {
            dealer_id: dealer_id.into(),
            location_id: "main".into(),
            date_order: DateOrder::Dmy,
            mileage_unit: MileageUnit::Miles,
            currency: "GBP".into(),
            image_delimiter: ListDelimiter::Auto,
            feature_delimiter: ListDelimiter::Auto,
        }
    }
}

/// The values of one record, by contract field.
pub trait RecordValues {
    /// The trimmed, non-empty text of `field`, if the record has one.
    fn text(&self, field: Field) -> Option<&str>;

    /// For `images` and `features`: the items when the record holds a real
    /// list (a JSON array). `None` means "split [`text`](Self::text) with the
    /// configured delimiter".
    fn items(&self, field: Field) -> Option<Vec<&str>> {
        let _ = field;
        None
    }
}

/// An offending value as an issue quotes it: at most 60 characters, in quotes.
pub fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_CHARS) {
        Some((i, _)) => format!("{:?}…", &s[..i]),
        None => format!("{s:?}"),
    }
}

/// One record being built: its values and where its issues go.
struct Build<'v, V: RecordValues, F: FnMut(Field, String)> {
    values: &'v V,
    issue: F,
}

impl<'v, V: RecordValues, F: FnMut(Field, String)> Build<'v, V, F> {
    /// The value of `field`, cut to [`MAX_FIELD_CHARS`].
    fn value(&mut self, field: Field) -> Option<&'v str> {
        let value = self.values.text(field)?;
        match value.char_indices().nth(MAX_FIELD_CHARS) {
            Some((end, _)) => {
                (self.issue)(
                    field,
                    format!("longer than {MAX_FIELD_CHARS} characters; truncated"),
                );
                Some(value[..end].trim_end())
            }
            None => Some(value),
        }
    }

    fn text(&mut self, field: Field) -> Option<String> {
        self.value(field).map(str::to_string)
    }

    /// Parse the value of `field`; a failure drops the field.
    fn parsed<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.value(field)?;
        match parse(value) {
            Ok(v) => Some(v),
            Err(reason) => {
                // Hub-only values are commercially sensitive: not quoted.
                let message = if field == Field::CostPrice {
                    format!("{reason}; field dropped")
                } else {
                    format!("{reason}: {}; field dropped", quote(value))
                };
                (self.issue)(field, message);
                None
            }
        }
    }

    /// Parse the value of a field that always has one; without a value it is
    /// `absent`, and a failure keeps `default` and says so.
    fn parsed_or<T>(
        &mut self,
        field: Field,
        absent: T,
        default: T,
        default_name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> T {
        let Some(value) = self.value(field) else {
            return absent;
        };
        match parse(value) {
            Ok(v) => v,
            Err(reason) => {
                let message = format!("{reason}: {}; {default_name} assumed", quote(value));
                (self.issue)(field, message);
                default
            }
        }
    }

    /// A list field's items: the record's own list, else its text split.
    fn list(&mut self, field: Field, delimiter: &ListDelimiter, whitespace: bool) -> Vec<String> {
        if let Some(items) = self.values.items(field) {
            return items
                .into_iter()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
        self.value(field)
            .map(|s| n::split_list(s, delimiter, whitespace))
            .unwrap_or_default()
    }

    /// Images: http(s) URLs kept in order, anything else reported once.
    fn images(&mut self, delimiter: &ListDelimiter) -> Vec<Image> {
        let mut kept = Vec::new();
        let mut refused = Vec::new();
        for item in self.list(Field::Images, delimiter, true) {
            // Within an item, whitespace also separates: a URL never contains it.
            for url in item.split_whitespace() {
                if n::is_http_url(url) {
                    kept.push(Image {
                        url: url.to_string(),
                        width: None,
                        height: None,
                    });
                } else {
                    refused.push(url.to_string());
                }
            }
        }
        if !refused.is_empty() {
            let examples: Vec<String> = refused.iter().take(3).map(|s| quote(s)).collect();
            let more = if refused.len() > 3 { ", …" } else { "" };
            (self.issue)(
                Field::Images,
                format!(
                    "{} image reference(s) are not http(s) URLs and were skipped: {}{more}",
                    refused.len(),
                    examples.join(", ")
                ),
            );
        }
        kept
    }
}

/// The vehicle `stock_id` as `values` describe it; every value that cannot
/// be used is reported through `issue` (field, message) and the rest kept.
pub fn build_vehicle(
    defaults: &RecordDefaults,
    stock_id: &str,
    values: &impl RecordValues,
    issue: impl FnMut(Field, String),
) -> Vehicle {
    let mut r = Build { values, issue };
    let date_order = defaults.date_order;
    let currency = defaults.currency.as_str();

    let registration = r.value(Field::Registration).map(n::registration);
    let vin = r.value(Field::Vin).map(n::vin);
    let make = r.text(Field::Make);
    let model = r.text(Field::Model);
    let variant = r.text(Field::Variant);
    let trim = r.text(Field::Trim);
    let vehicle_type = r
        .value(Field::VehicleType)
        .map_or(VehicleType::Car, n::vehicle_type);
    let body_style = r.value(Field::BodyStyle).map(n::body_style);
    let fuel_type = r.value(Field::FuelType).map(n::fuel_type);
    let transmission = r.value(Field::Transmission).map(n::transmission);
    let drivetrain = r.value(Field::Drivetrain).map(n::drivetrain);
    let doors = r.parsed(Field::Doors, |s| {
        n::parse_count(s, &["dr", "door", "doors"])
    });
    let seats = r.parsed(Field::Seats, |s| {
        n::parse_count(s, &["seat", "seats", "seater"])
    });
    let engine_size_cc = r.parsed(Field::EngineSizeCc, n::parse_engine_cc);
    let power_bhp = r.parsed(Field::PowerBhp, n::parse_power_bhp);
    let co2_g_per_km = r.parsed(Field::Co2GPerKm, |s| {
        n::parse_int_with_unit(s, &["g/km", "gkm", "g"])
            .and_then(|v| u32::try_from(v).map_err(|_| "too large".into()))
    });
    let emissions_standard = r.value(Field::EmissionsStandard).map(n::emissions_standard);
    let colour = r.text(Field::Colour);
    let first_registration = r.parsed(Field::FirstRegistration, |s| n::parse_date(s, date_order));
    let model_year = r.parsed(Field::ModelYear, n::parse_year);
    let mileage = r.parsed(Field::Mileage, |s| {
        n::parse_mileage(s, defaults.mileage_unit)
    });
    let price = r.parsed(Field::Price, |s| n::parse_money(s, currency));
    let vat = r.parsed_or(
        Field::Vat,
        VatStatus::IncVat,
        VatStatus::IncVat,
        "inc-vat",
        n::vat_status,
    );
    let condition = r.parsed_or(
        Field::Condition,
        Condition::Used,
        Condition::Used,
        "used",
        n::condition,
    );
    let service_history = r.value(Field::ServiceHistory).map(n::service_history);
    let previous_owners = r.parsed(Field::PreviousOwners, |s| {
        n::parse_count(s, &["owner", "owners"])
    });
    let mot_expiry = r.parsed(Field::MotExpiry, |s| n::parse_date(s, date_order));
    let features = r.list(Field::Features, &defaults.feature_delimiter, false);
    let description = r.text(Field::Description);
    let images = r.images(&defaults.image_delimiter);
    // No status means in stock; a status that cannot be read is treated as
    // withdrawn so that a vehicle which may be sold is never advertised.
    let status = r.parsed_or(
        Field::Status,
        StockStatus::InStock,
        StockStatus::Withdrawn,
        "withdrawn (not advertised)",
        n::stock_status,
    );
    let date_in_stock = r.parsed(Field::DateInStock, |s| n::parse_date(s, date_order));
    let location_id = r
        .text(Field::LocationId)
        .unwrap_or_else(|| defaults.location_id.clone());
    let internal_notes = r.text(Field::InternalNotes);
    let cost_price = r.parsed(Field::CostPrice, |s| n::parse_money(s, currency));
    let hub_only = (internal_notes.is_some() || cost_price.is_some()).then_some(HubOnly {
        internal_notes,
        previous_keeper: None,
        part_exchange: None,
        cost_price,
    });

    Vehicle {
        dealer_id: defaults.dealer_id.clone(),
        location_id,
        stock_id: stock_id.to_string(),
        registration,
        vin,
        make,
        model,
        variant,
        trim,
        vehicle_type,
        body_style,
        fuel_type,
        transmission,
        drivetrain,
        doors,
        seats,
        engine_size_cc,
        power_bhp,
        co2_g_per_km,
        emissions_standard,
        colour,
        first_registration,
        model_year,
        mileage,
        price,
        vat,
        condition,
        service_history,
        previous_owners,
        mot_expiry,
        features,
        description,
        images,
        status,
        date_in_stock,
        attributes: Vec::new(),
        hub_only,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<Field, String>, Option<Vec<String>>);

    impl RecordValues for Map {
        fn text(&self, field: Field) -> Option<&str> {
            self.0.get(&field).map(String::as_str)
        }
        fn items(&self, field: Field) -> Option<Vec<&str>> {
            (field == Field::Images)
                .then(|| {
                    self.1
                        .as_ref()
                        .map(|v| v.iter().map(String::as_str).collect())
                })
                .flatten()
        }
    }

    fn build(
        values: &[(Field, &str)],
        images: Option<Vec<&str>>,
    ) -> (Vehicle, Vec<(Field, String)>) {
        let map = Map(
            values.iter().map(|(f, v)| (*f, v.to_string())).collect(),
            images.map(|v| v.into_iter().map(str::to_string).collect()),
        );
        let mut issues = Vec::new();
        let v = build_vehicle(&RecordDefaults::uk("d1"), "S1", &map, |f, m| {
            issues.push((f, m))
        });
        (v, issues)
    }

    #[test]
    fn defaults_when_absent() {
        let (v, issues) = build(&[], None);
        assert!(issues.is_empty());
        assert_eq!(v.status, StockStatus::InStock);
        assert_eq!(v.vat, VatStatus::IncVat);
        assert_eq!(v.condition, Condition::Used);
        assert!(matches!(v.vehicle_type, VehicleType::Car));
        assert_eq!(v.location_id, "main");
        assert!(v.hub_only.is_none());
    }

    #[test]
    fn unreadable_values_are_reported_and_dropped_or_defaulted() {
        let (v, issues) = build(
            &[
                (Field::Mileage, "£12,995"),
                (Field::Status, "gone fishing"),
                (Field::CostPrice, "secret sauce"),
                (Field::Price, "£9,995"),
            ],
            None,
        );
        assert!(v.mileage.is_none());
        assert_eq!(v.price.unwrap().amount_minor, 999_500);
        assert_eq!(v.status, StockStatus::Withdrawn);
        let fields: Vec<Field> = issues.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, [Field::Mileage, Field::Status, Field::CostPrice]);
        assert!(!issues[2].1.contains("secret"));
    }

    #[test]
    fn a_real_list_is_not_split_again() {
        let url = "https://img.example/a.jpg?w=800,h=600;q=80";
        let (v, issues) = build(&[], Some(vec![url, "IMG_0002.jpg"]));
        assert_eq!(v.images.len(), 1);
        assert_eq!(v.images[0].url, url);
        assert_eq!(issues.len(), 1);
    }

    #[test]
    fn long_values_are_truncated_once() {
        let long = "x".repeat(MAX_FIELD_CHARS + 5);
        let (v, issues) = build(&[(Field::Description, &long)], None);
        assert_eq!(v.description.unwrap().chars().count(), MAX_FIELD_CHARS);
        assert_eq!(issues.len(), 1);
    }

    #[test]
    fn quotes_are_short() {
        assert_eq!(quote("abc"), "\"abc\"");
        assert!(quote(&"é".repeat(100)).ends_with('…'));
    }
}
