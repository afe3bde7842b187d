//! forecourt's neutral JSON shape of a vehicle: every contract field, in
//! contract order, snake_case, nothing from `hub-only`.
//!
//! - absent optional fields are `null` (every key is always present);
//! - money is `{"amount_minor": 1299500, "currency": "GBP"}` (the currency
//!   code in capitals);
//! - dates are ISO 8601 calendar dates, `2019-03-14`;
//! - enumerations are the contract's kebab-case names (`plug-in-hybrid`,
//!   `front-wheel-drive`, `in-stock`); a value the contract has no name for
//!   (`other(…)` in the WIT) is `{"other": "<the source's text>"}`;
//! - text is passed through exactly as the source gave it (JSON escapes what
//!   it must).
//!
//! `docs/plugins/webhook.md` documents the shape for partners.

use forecourt_sdk::{
    BodyStyle, Condition, Date, Drivetrain, FuelType, Listing, MileageUnit, ServiceHistory,
    StockStatus, Transformed, Transmission, ValidationIssue, VatStatus, Vehicle, VehicleType,
};
use serde::{Deserialize, Serialize};

/// A controlled-vocabulary value: a contract name, or the source's own text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Term {
    /// One of the contract's names, e.g. `petrol`.
    Known(String),
    /// `other(…)`: the source's text, as `{"other": "CNG"}`.
    Other {
        /// The source's text.
        other: String,
    },
}

impl Term {
    fn known(name: &str) -> Term {
        Term::Known(name.to_string())
    }
}

/// `{"amount_minor", "currency"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeutralMoney {
    pub amount_minor: i64,
    pub currency: String,
}

/// `{"value", "unit"}`, unit `miles` or `kilometres`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeutralMileage {
    pub value: u32,
    pub unit: String,
}

/// `{"url", "width", "height"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeutralImage {
    pub url: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// `{"key", "value"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeutralAttribute {
    pub key: String,
    pub value: String,
}

/// The neutral document: the listing body, and `listing` in every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeutralVehicle {
    pub dealer_id: String,
    pub location_id: String,
    pub stock_id: String,
    pub registration: Option<String>,
    pub vin: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub variant: Option<String>,
    pub trim: Option<String>,
    pub vehicle_type: Term,
    pub body_style: Option<Term>,
    pub fuel_type: Option<Term>,
    pub transmission: Option<Term>,
    pub drivetrain: Option<Term>,
    pub doors: Option<u8>,
    pub seats: Option<u8>,
    pub engine_size_cc: Option<u32>,
    pub power_bhp: Option<u32>,
    pub co2_g_per_km: Option<u32>,
    pub emissions_standard: Option<String>,
    pub colour: Option<String>,
    pub first_registration: Option<String>,
    pub model_year: Option<u16>,
    pub mileage: Option<NeutralMileage>,
    pub price: Option<NeutralMoney>,
    pub vat: String,
    pub condition: String,
    pub service_history: Option<Term>,
    pub previous_owners: Option<u8>,
    pub mot_expiry: Option<String>,
    pub features: Vec<String>,
    pub description: Option<String>,
    pub images: Vec<NeutralImage>,
    pub status: String,
    pub date_in_stock: Option<String>,
    pub attributes: Vec<NeutralAttribute>,
}

/// The contract's name of a stock status.
pub fn status_name(status: StockStatus) -> &'static str {
    match status {
        StockStatus::DueIn => "due-in",
        StockStatus::InStock => "in-stock",
        StockStatus::Reserved => "reserved",
        StockStatus::Sold => "sold",
        StockStatus::Withdrawn => "withdrawn",
    }
}

fn vehicle_type(t: &VehicleType) -> Term {
    match t {
        VehicleType::Car => Term::known("car"),
        VehicleType::Van => Term::known("van"),
        VehicleType::Motorcycle => Term::known("motorcycle"),
        VehicleType::Motorhome => Term::known("motorhome"),
        VehicleType::Truck => Term::known("truck"),
        VehicleType::Other(o) => Term::Other { other: o.clone() },
    }
}

fn body_style(b: &BodyStyle) -> Term {
    match b {
        BodyStyle::Hatchback => Term::known("hatchback"),
        BodyStyle::Saloon => Term::known("saloon"),
        BodyStyle::Estate => Term::known("estate"),
        BodyStyle::Suv => Term::known("suv"),
        BodyStyle::Coupe => Term::known("coupe"),
        BodyStyle::Convertible => Term::known("convertible"),
        BodyStyle::Mpv => Term::known("mpv"),
        BodyStyle::Pickup => Term::known("pickup"),
        BodyStyle::PanelVan => Term::known("panel-van"),
        BodyStyle::Minibus => Term::known("minibus"),
        BodyStyle::Other(o) => Term::Other { other: o.clone() },
    }
}

fn fuel_type(f: &FuelType) -> Term {
    match f {
        FuelType::Petrol => Term::known("petrol"),
        FuelType::Diesel => Term::known("diesel"),
        FuelType::Electric => Term::known("electric"),
        FuelType::Hybrid => Term::known("hybrid"),
        FuelType::PlugInHybrid => Term::known("plug-in-hybrid"),
        FuelType::MildHybrid => Term::known("mild-hybrid"),
        FuelType::Lpg => Term::known("lpg"),
        FuelType::Hydrogen => Term::known("hydrogen"),
        FuelType::Other(o) => Term::Other { other: o.clone() },
    }
}

fn transmission(t: &Transmission) -> Term {
    match t {
        Transmission::Manual => Term::known("manual"),
        Transmission::Automatic => Term::known("automatic"),
        Transmission::SemiAutomatic => Term::known("semi-automatic"),
        Transmission::Cvt => Term::known("cvt"),
        Transmission::Other(o) => Term::Other { other: o.clone() },
    }
}

fn drivetrain(d: &Drivetrain) -> Term {
    match d {
        Drivetrain::FrontWheelDrive => Term::known("front-wheel-drive"),
        Drivetrain::RearWheelDrive => Term::known("rear-wheel-drive"),
        Drivetrain::AllWheelDrive => Term::known("all-wheel-drive"),
        Drivetrain::FourWheelDrive => Term::known("four-wheel-drive"),
        Drivetrain::Other(o) => Term::Other { other: o.clone() },
    }
}

fn service_history(s: &ServiceHistory) -> Term {
    match s {
        ServiceHistory::FullDealer => Term::known("full-dealer"),
        ServiceHistory::Full => Term::known("full"),
        ServiceHistory::Part => Term::known("part"),
        ServiceHistory::None => Term::known("none"),
        ServiceHistory::Other(o) => Term::Other { other: o.clone() },
    }
}

fn iso_date(d: &Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

fn is_calendar_date(d: &Date) -> bool {
    let leap =
        (d.year.is_multiple_of(4) && !d.year.is_multiple_of(100)) || d.year.is_multiple_of(400);
    let days = match d.month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=9999).contains(&d.year) && (1..=days).contains(&d.day)
}

/// The neutral document of a vehicle. `hub-only` is never read.
pub fn neutral(v: &Vehicle) -> NeutralVehicle {
    NeutralVehicle {
        dealer_id: v.dealer_id.clone(),
        location_id: v.location_id.clone(),
        stock_id: v.stock_id.clone(),
        registration: v.registration.clone(),
        vin: v.vin.clone(),
        make: v.make.clone(),
        model: v.model.clone(),
        variant: v.variant.clone(),
        trim: v.trim.clone(),
        vehicle_type: vehicle_type(&v.vehicle_type),
        body_style: v.body_style.as_ref().map(body_style),
        fuel_type: v.fuel_type.as_ref().map(fuel_type),
        transmission: v.transmission.as_ref().map(transmission),
        drivetrain: v.drivetrain.as_ref().map(drivetrain),
        doors: v.doors,
        seats: v.seats,
        engine_size_cc: v.engine_size_cc,
        power_bhp: v.power_bhp,
        co2_g_per_km: v.co2_g_per_km,
        emissions_standard: v.emissions_standard.clone(),
        colour: v.colour.clone(),
        first_registration: v.first_registration.as_ref().map(iso_date),
        model_year: v.model_year,
        mileage: v.mileage.as_ref().map(|m| NeutralMileage {
            value: m.value,
            unit: match m.unit {
                MileageUnit::Miles => "miles",
                MileageUnit::Kilometres => "kilometres",
            }
            .into(),
        }),
        price: v.price.as_ref().map(|p| NeutralMoney {
            amount_minor: p.amount_minor,
            currency: p.currency.trim().to_ascii_uppercase(),
        }),
        vat: match v.vat {
            VatStatus::IncVat => "inc-vat",
            VatStatus::PlusVat => "plus-vat",
            VatStatus::NoVat => "no-vat",
        }
        .into(),
        condition: match v.condition {
            Condition::New => "new",
            Condition::Used => "used",
        }
        .into(),
        service_history: v.service_history.as_ref().map(service_history),
        previous_owners: v.previous_owners,
        mot_expiry: v.mot_expiry.as_ref().map(iso_date),
        features: v.features.clone(),
        description: v.description.clone(),
        images: v
            .images
            .iter()
            .map(|i| NeutralImage {
                url: i.url.clone(),
                width: i.width,
                height: i.height,
            })
            .collect(),
        status: status_name(v.status).into(),
        date_in_stock: v.date_in_stock.as_ref().map(iso_date),
        attributes: v
            .attributes
            .iter()
            .map(|a| NeutralAttribute {
                key: a.key.clone(),
                value: a.value.clone(),
            })
            .collect(),
    }
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.contains(char::is_whitespace)
}

/// Render one vehicle as the neutral document, or say what stops it.
///
/// The rules are the webhook contract's (`docs/plugins/webhook.md`): what a
/// partner can rely on in every `listing`.
pub fn transform_vehicle(v: &Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    match v.status {
        StockStatus::Sold | StockStatus::Withdrawn => errors.push(ValidationIssue::error(
            "status",
            format!(
                "a {} vehicle is not listed: the partner is sent a `remove` operation instead",
                status_name(v.status)
            ),
        )),
        StockStatus::DueIn | StockStatus::InStock | StockStatus::Reserved => {}
    }
    if v.stock_id.trim().is_empty() {
        errors.push(ValidationIssue::error(
            "stock-id",
            "a stock id is required: it identifies the listing to the partner",
        ));
    }
    for (value, field) in [(&v.make, "make"), (&v.model, "model")] {
        if blank(value) {
            errors.push(ValidationIssue::error(
                field,
                format!("every webhook listing carries a {field}, and this vehicle has none"),
            ));
        }
    }
    for (date, field) in [
        (&v.first_registration, "first-registration"),
        (&v.mot_expiry, "mot-expiry"),
        (&v.date_in_stock, "date-in-stock"),
    ] {
        if let Some(d) = date {
            if !is_calendar_date(d) {
                errors.push(ValidationIssue::error(
                    field,
                    format!(
                        "{} is not a calendar date, so it cannot be sent as an ISO 8601 date",
                        iso_date(d)
                    ),
                ));
            }
        }
    }
    match &v.price {
        None => warnings.push(ValidationIssue::warning(
            "price",
            "no price: the listing's price is null",
        )),
        Some(p) => {
            let c = p.currency.trim();
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                errors.push(ValidationIssue::error(
                    "price",
                    format!("`{}` is not an ISO 4217 currency code", p.currency),
                ));
            }
            if p.amount_minor <= 0 {
                errors.push(ValidationIssue::error(
                    "price",
                    "the price must be greater than zero (leave it out for price on application)",
                ));
            }
        }
    }
    let bad_images = v
        .images
        .iter()
        .filter(|i| !is_web_url(i.url.trim()))
        .count();
    if bad_images > 0 {
        warnings.push(ValidationIssue::warning(
            "images",
            format!(
                "{bad_images} image URL(s) are not absolute http(s) URLs, which the partner \
                 cannot fetch"
            ),
        ));
    }
    if v.images.is_empty() {
        warnings.push(ValidationIssue::warning("images", "no images"));
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let body = serde_json::to_string(&neutral(v)).expect("the document always serialises");
    Ok(Transformed {
        listing: Listing {
            stock_id: v.stock_id.clone(),
            body,
        },
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_contract() {
        assert_eq!(
            serde_json::to_string(&fuel_type(&FuelType::PlugInHybrid)).unwrap(),
            r#""plug-in-hybrid""#
        );
        assert_eq!(
            serde_json::to_string(&fuel_type(&FuelType::Other("CNG".into()))).unwrap(),
            r#"{"other":"CNG"}"#
        );
        assert_eq!(
            serde_json::to_string(&drivetrain(&Drivetrain::FourWheelDrive)).unwrap(),
            r#""four-wheel-drive""#
        );
        assert_eq!(
            serde_json::to_string(&service_history(&ServiceHistory::FullDealer)).unwrap(),
            r#""full-dealer""#
        );
        assert_eq!(status_name(StockStatus::DueIn), "due-in");
        assert_eq!(status_name(StockStatus::InStock), "in-stock");
        let t: Term = serde_json::from_str(r#"{"other":"x"}"#).unwrap();
        assert_eq!(t, Term::Other { other: "x".into() });
    }

    #[test]
    fn checks_calendar_dates() {
        let d = |year, month, day| Date { year, month, day };
        assert!(is_calendar_date(&d(2024, 2, 29)));
        assert!(!is_calendar_date(&d(2023, 2, 29)));
        assert!(!is_calendar_date(&d(2024, 0, 1)));
        assert!(!is_calendar_date(&d(0, 1, 1)));
        assert_eq!(iso_date(&d(987, 3, 4)), "0987-03-04");
    }
}
