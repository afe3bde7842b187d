//! The pure logic of the schema.org plugin: vehicle → JSON-LD `Car` →
//! `ItemList` index.
//!
//! Kept free of host calls so it compiles and is tested natively; `lib.rs`
//! only wires it to the contract. Every type, property and enumeration
//! member used here is defined in the schema.org vocabulary (release 30.0);
//! `tests/vocabulary.rs` checks each one against the vocabulary file.

use forecourt_sdk::text::{clean, clean_text, single_line};
use std::fmt::Write as _;

use forecourt_sdk::{
    BodyStyle, Condition, Date, Drivetrain, FuelType, Listing, MileageUnit, Money, StockStatus,
    Transformed, Transmission, ValidationIssue, VatStatus, Vehicle, VehicleType,
};
use serde::{Deserialize, Serialize};

/// The JSON-LD context of every document.
pub const CONTEXT: &str = "https://schema.org";
/// Prefix of schema.org enumeration members.
pub const SCHEMA: &str = "https://schema.org/";
/// UN/CEFACT common code for statute miles.
pub const UNIT_MILES: &str = "SMI";
/// UN/CEFACT common code for kilometres.
pub const UNIT_KILOMETRES: &str = "KMT";
/// UN/CEFACT common code for cubic centimetres.
pub const UNIT_CC: &str = "CMQ";
/// UN/CEFACT common code for brake horsepower.
pub const UNIT_BHP: &str = "BHP";
/// MIME type of the index.
pub const CONTENT_TYPE: &str = "application/ld+json";
/// File name of the index.
pub const FILE_NAME: &str = "vehicles.jsonld";

/// The plugin's configuration (a JSON object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The dealership's trading name (the offer's seller).
    pub dealer_name: String,
    /// URL of a vehicle's page on the dealer's site; `{stock_id}` is replaced
    /// by the (percent-encoded) stock id.
    pub link_template: String,
}

/// JSON Schema (draft 2020-12) of [`Config`].
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "schema.org Car JSON-LD",
  "type": "object",
  "additionalProperties": false,
  "required": ["dealer_name", "link_template"],
  "properties": {
    "dealer_name": {
      "type": "string",
      "minLength": 1,
      "description": "The dealership's trading name: the name of the offer's seller (AutoDealer)."
    },
    "link_template": {
      "type": "string",
      "pattern": "^https?://.*\\{stock_id\\}",
      "description": "Vehicle page URL (the offer's url); {stock_id} is replaced by the percent-encoded stock id.",
      "examples": ["https://dealer.example/cars/{stock_id}"]
    }
  }
}"#;

impl Config {
    /// Parse and check a configuration object.
    pub fn parse(json: &str) -> Result<Config, String> {
        let config: Config =
            serde_json::from_str(json).map_err(|e| format!("invalid configuration: {e}"))?;
        if config.dealer_name.trim().is_empty() {
            return Err("dealer_name must not be empty".into());
        }
        let t = &config.link_template;
        if !(t.starts_with("https://") || t.starts_with("http://")) {
            return Err("link_template must be an http(s) URL".into());
        }
        if !t.contains("{stock_id}") {
            return Err("link_template must contain {stock_id}".into());
        }
        if t.contains(char::is_whitespace) {
            return Err("link_template must not contain white space".into());
        }
        Ok(config)
    }

    /// The vehicle page URL for `stock_id`.
    pub fn link(&self, stock_id: &str) -> String {
        self.link_template
            .replace("{stock_id}", &percent_encode(stock_id))
    }
}

/// A schema.org `Car` (or `Motorcycle` or `Vehicle`, see [`document_type`]):
/// the listing body, and an element of the index.
///
/// Field order is the document's property order. `@context` is present in
/// a listing body (a document of its own) and left out inside the index,
/// whose own `@context` covers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Car {
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(rename = "@type")]
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub sku: String,
    pub brand: Brand,
    pub model: String,
    #[serde(
        rename = "vehicleConfiguration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vehicle_configuration: Option<String>,
    #[serde(
        rename = "vehicleModelDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vehicle_model_date: Option<String>,
    #[serde(
        rename = "dateVehicleFirstRegistered",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub date_vehicle_first_registered: Option<String>,
    #[serde(
        rename = "vehicleIdentificationNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vehicle_identification_number: Option<String>,
    #[serde(rename = "bodyType", default, skip_serializing_if = "Option::is_none")]
    pub body_type: Option<String>,
    #[serde(rename = "fuelType", default, skip_serializing_if = "Option::is_none")]
    pub fuel_type: Option<String>,
    #[serde(
        rename = "vehicleTransmission",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vehicle_transmission: Option<String>,
    #[serde(
        rename = "driveWheelConfiguration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub drive_wheel_configuration: Option<String>,
    #[serde(
        rename = "vehicleEngine",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vehicle_engine: Option<Engine>,
    #[serde(
        rename = "numberOfDoors",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub number_of_doors: Option<u8>,
    #[serde(
        rename = "vehicleSeatingCapacity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vehicle_seating_capacity: Option<u8>,
    #[serde(
        rename = "numberOfPreviousOwners",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub number_of_previous_owners: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(
        rename = "emissionsCO2",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub emissions_co2: Option<u32>,
    #[serde(
        rename = "mileageFromOdometer",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub mileage_from_odometer: Option<Quantity>,
    #[serde(rename = "itemCondition")]
    pub item_condition: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offers: Option<Offer>,
}

/// A `Brand`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Brand {
    #[serde(rename = "@type")]
    pub kind: String,
    pub name: String,
}

/// An `EngineSpecification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    #[serde(rename = "@type")]
    pub kind: String,
    #[serde(
        rename = "engineDisplacement",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub engine_displacement: Option<Quantity>,
    #[serde(
        rename = "enginePower",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub engine_power: Option<Quantity>,
    #[serde(rename = "fuelType", default, skip_serializing_if = "Option::is_none")]
    pub fuel_type: Option<String>,
}

/// A `QuantitativeValue` with a UN/CEFACT unit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    #[serde(rename = "@type")]
    pub kind: String,
    pub value: u32,
    #[serde(rename = "unitCode")]
    pub unit_code: String,
}

impl Quantity {
    fn new(value: u32, unit_code: &str) -> Quantity {
        Quantity {
            kind: "QuantitativeValue".into(),
            value,
            unit_code: unit_code.into(),
        }
    }
}

/// An `Offer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    #[serde(rename = "@type")]
    pub kind: String,
    pub price: String,
    #[serde(rename = "priceCurrency")]
    pub price_currency: String,
    /// Present only for prices that exclude VAT, to say so.
    #[serde(
        rename = "priceSpecification",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub price_specification: Option<PriceSpecification>,
    pub availability: String,
    #[serde(rename = "itemCondition")]
    pub item_condition: String,
    pub seller: Seller,
    pub url: String,
}

/// A `PriceSpecification` saying whether VAT is included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSpecification {
    #[serde(rename = "@type")]
    pub kind: String,
    pub price: String,
    #[serde(rename = "priceCurrency")]
    pub price_currency: String,
    #[serde(rename = "valueAddedTaxIncluded")]
    pub value_added_tax_included: bool,
}

/// The seller: an `AutoDealer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seller {
    #[serde(rename = "@type")]
    pub kind: String,
    pub name: String,
}

/// The index: an `ItemList` of every vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    #[serde(rename = "@context")]
    pub context: String,
    #[serde(rename = "@type")]
    pub kind: String,
    #[serde(rename = "itemListElement")]
    pub item_list_element: Vec<ListItem>,
}

/// One `ListItem` of the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListItem {
    #[serde(rename = "@type")]
    pub kind: String,
    pub position: u32,
    pub item: Car,
}

/// Issues found so far: errors block the vehicle, warnings travel with it.
#[derive(Default)]
struct Issues {
    errors: Vec<ValidationIssue>,
    warnings: Vec<ValidationIssue>,
}

impl Issues {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(ValidationIssue::error(field, message));
    }
    fn warning(&mut self, field: &str, message: impl Into<String>) {
        self.warnings.push(ValidationIssue::warning(field, message));
    }
}

/// Render one vehicle as a JSON-LD `Car` document, or say what stops it.
pub fn transform_vehicle(
    config: &Config,
    v: &Vehicle,
) -> Result<Transformed, Vec<ValidationIssue>> {
    let mut issues = Issues::default();

    let availability = availability(v.status, &mut issues);

    let sku = v.stock_id.trim().to_string();
    if sku.is_empty() {
        issues.error(
            "stock-id",
            "a stock id is required: it is the Car's sku and names its page",
        );
    } else if sku.chars().any(char::is_control) {
        issues.error(
            "stock-id",
            "the stock id contains control characters, which a sku cannot carry",
        );
    }
    let make = required_text(&v.make, "make", "brand.name", &mut issues);
    let model = required_text(&v.model, "model", "model", &mut issues);
    let first_registered = date(
        v.first_registration.as_ref(),
        "first-registration",
        &mut issues,
    );
    if let Some(d) = &v.date_in_stock {
        date(Some(d), "date-in-stock", &mut issues);
    }
    if let Some(year) = v.model_year {
        if !(1000..=9999).contains(&year) {
            issues.error(
                "model-year",
                format!("vehicleModelDate is a four-digit year; {year} is not one"),
            );
        }
    }
    let price = price(v.price.as_ref(), v.vat, &mut issues);
    let mileage = mileage(v, &mut issues);
    let image = images(v, &mut issues);
    let vin = vin(v.vin.as_deref(), &mut issues);
    let engine = engine(v, &mut issues);

    let description = clean_text(&v.description);
    match &description {
        None => issues.warning(
            "description",
            "no description: the Car has none (search engines show the page's text instead)",
        ),
        Some(text) if looks_like_html(text) => issues.warning(
            "description",
            "the description contains HTML markup; JSON-LD text is plain, so search engines \
             show the tags as text",
        ),
        Some(_) => {}
    }

    if !issues.errors.is_empty() {
        return Err(issues.errors);
    }
    let (Some(availability), Some(make), Some(model)) = (availability, make, model) else {
        unreachable!("a missing required property is always reported as an error");
    };

    let condition = match v.condition {
        Condition::New => format!("{SCHEMA}NewCondition"),
        Condition::Used => format!("{SCHEMA}UsedCondition"),
    };
    let offers = price.map(|(price, currency, vat_excluded)| Offer {
        kind: "Offer".into(),
        price_specification: vat_excluded.then(|| PriceSpecification {
            kind: "PriceSpecification".into(),
            price: price.clone(),
            price_currency: currency.clone(),
            value_added_tax_included: false,
        }),
        price,
        price_currency: currency,
        availability,
        item_condition: condition.clone(),
        seller: Seller {
            kind: "AutoDealer".into(),
            name: single_line(config.dealer_name.trim()),
        },
        url: config.link(&sku),
    });

    let car = Car {
        context: Some(CONTEXT.into()),
        kind: document_type(&v.vehicle_type).into(),
        name: name(v),
        description,
        sku,
        brand: Brand {
            kind: "Brand".into(),
            name: make,
        },
        model,
        vehicle_configuration: clean(&v.variant).or_else(|| clean(&v.trim)),
        vehicle_model_date: v.model_year.map(|y| format!("{y:04}")),
        date_vehicle_first_registered: first_registered,
        vehicle_identification_number: vin,
        body_type: v.body_style.as_ref().and_then(body_type),
        fuel_type: v.fuel_type.as_ref().and_then(fuel_type),
        vehicle_transmission: v.transmission.as_ref().and_then(transmission),
        drive_wheel_configuration: v.drivetrain.as_ref().and_then(drive_wheel_configuration),
        vehicle_engine: engine,
        number_of_doors: v.doors,
        vehicle_seating_capacity: v.seats,
        number_of_previous_owners: v.previous_owners,
        color: clean(&v.colour),
        emissions_co2: v.co2_g_per_km,
        mileage_from_odometer: mileage,
        item_condition: condition,
        image,
        offers,
    };
    Ok(Transformed {
        listing: Listing {
            stock_id: v.stock_id.clone(),
            body: to_json(&car, false),
        },
        warnings: issues.warnings,
    })
}

/// The document's `@type`: `Car` for cars and vans (schema.org has no van
/// type, and its `Car` is any self-powered passenger or goods vehicle),
/// `Motorcycle` for motorcycles and the general `Vehicle` for the rest.
pub fn document_type(t: &VehicleType) -> &'static str {
    match t {
        VehicleType::Car | VehicleType::Van => "Car",
        VehicleType::Motorcycle => "Motorcycle",
        VehicleType::Motorhome | VehicleType::Truck | VehicleType::Other(_) => "Vehicle",
    }
}

/// The document types [`document_type`] produces.
pub const DOCUMENT_TYPES: [&str; 3] = ["Car", "Motorcycle", "Vehicle"];

/// The offer's `availability`; a withdrawn vehicle has no page to mark up.
fn availability(status: StockStatus, issues: &mut Issues) -> Option<String> {
    let member = match status {
        StockStatus::InStock => "InStock",
        StockStatus::Reserved => "LimitedAvailability",
        StockStatus::DueIn => "PreOrder",
        StockStatus::Sold => {
            issues.warning(
                "status",
                "the vehicle is sold: marked up as SoldOut, for a page the website keeps after \
                 the sale",
            );
            "SoldOut"
        }
        StockStatus::Withdrawn => {
            issues.error(
                "status",
                "withdrawn vehicles have no page on the website to mark up",
            );
            return None;
        }
    };
    Some(format!("{SCHEMA}{member}"))
}

fn required_text(
    s: &Option<String>,
    field: &str,
    property: &str,
    issues: &mut Issues,
) -> Option<String> {
    let value = clean(s);
    if value.is_none() {
        issues.error(
            field,
            format!("the Car's {property} and name need the {field}, which is missing"),
        );
    }
    value
}

/// `2019 Volkswagen Golf 1.5 TSI EVO SE 5dr`: year (the model year, else the
/// first-registration year), make, model, derivative (or trim).
fn name(v: &Vehicle) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(y) = v
        .model_year
        .or(v.first_registration.as_ref().map(|d| d.year))
    {
        parts.push(y.to_string());
    }
    parts.extend(clean(&v.make));
    parts.extend(clean(&v.model));
    parts.extend(clean(&v.variant).or_else(|| clean(&v.trim)));
    parts.join(" ")
}

/// A calendar date as `YYYY-MM-DD`, or an error naming `field`.
fn date(d: Option<&Date>, field: &str, issues: &mut Issues) -> Option<String> {
    let d = d?;
    if !is_calendar_date(d) {
        issues.error(
            field,
            format!(
                "{:04}-{:02}-{:02} is not a calendar date",
                d.year, d.month, d.day
            ),
        );
        return None;
    }
    Some(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
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

/// The offer's price as a decimal string (`12995.00`), its currency, and
/// whether it excludes VAT. No price: no offer (a warning); a price of zero
/// or less, or a malformed currency: an error.
fn price(
    money: Option<&Money>,
    vat: VatStatus,
    issues: &mut Issues,
) -> Option<(String, String, bool)> {
    let Some(money) = money else {
        issues.warning(
            "price",
            "no price: the Car has no offer, so search engines show no price or availability",
        );
        return None;
    };
    if money.amount_minor <= 0 {
        issues.error(
            "price",
            "the offer's price must be greater than zero (leave the price out for price on \
             application)",
        );
        return None;
    }
    let currency = money.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        issues.error(
            "price",
            format!(
                "`{}` is not an ISO 4217 currency code (priceCurrency)",
                money.currency
            ),
        );
        return None;
    }
    let price = decimal(money.amount_minor);
    let excluded = vat == VatStatus::PlusVat;
    if excluded {
        issues.warning(
            "vat",
            format!(
                "the price is ex-VAT: the offer shows {price} {currency} as the vehicle page \
                 does, with a priceSpecification saying VAT is not included"
            ),
        );
    }
    Some((price, currency, excluded))
}

/// Minor units as a decimal string with two places: `1299500` → `12995.00`.
pub fn decimal(amount_minor: i64) -> String {
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `mileageFromOdometer` in the source's unit; a new vehicle without a
/// mileage has done 0 miles.
fn mileage(v: &Vehicle, issues: &mut Issues) -> Option<Quantity> {
    match (&v.mileage, v.condition) {
        (Some(m), _) => Some(Quantity::new(
            m.value,
            match m.unit {
                MileageUnit::Miles => UNIT_MILES,
                MileageUnit::Kilometres => UNIT_KILOMETRES,
            },
        )),
        (None, Condition::New) => Some(Quantity::new(0, UNIT_MILES)),
        (None, Condition::Used) => {
            issues.warning(
                "mileage",
                "a used vehicle without a mileage: the Car has no mileageFromOdometer",
            );
            None
        }
    }
}

fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.contains(char::is_whitespace)
}

/// Every http(s) image URL, in the dealer's order (schema.org sets no limit).
fn images(v: &Vehicle, issues: &mut Issues) -> Vec<String> {
    let usable: Vec<String> = v
        .images
        .iter()
        .map(|i| i.url.trim())
        .filter(|u| is_web_url(u))
        .map(String::from)
        .collect();
    let unusable = v.images.len() - usable.len();
    if unusable > 0 {
        issues.warning(
            "images",
            format!("{unusable} image(s) left out: not an absolute http(s) URL"),
        );
    }
    if usable.is_empty() {
        issues.warning(
            "images",
            "no images: the Car has no image, which search engines need for a rich result",
        );
    }
    usable
}

/// A VIN goes in only when it is well formed (17 characters of A–Z without
/// I, O, Q, and 0–9); a chassis number is not a VIN.
fn vin(vin: Option<&str>, issues: &mut Issues) -> Option<String> {
    let vin: String = vin?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if vin.is_empty() {
        return None;
    }
    let valid = vin.len() == 17
        && vin
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'I' | b'O' | b'Q'));
    if !valid {
        issues.warning(
            "vin",
            format!(
                "`{vin}` is not a 17-character VIN (A–Z without I, O, Q, and 0–9): \
                 vehicleIdentificationNumber is left out"
            ),
        );
        return None;
    }
    Some(vin)
}

/// `vehicleEngine`: displacement (not for electric vehicles), power and fuel;
/// `None` when none of them is known.
fn engine(v: &Vehicle, issues: &mut Issues) -> Option<Engine> {
    let electric = matches!(v.fuel_type, Some(FuelType::Electric));
    let displacement = match v.engine_size_cc {
        Some(cc) if electric => {
            if cc > 0 {
                issues.warning(
                    "engine-size-cc",
                    format!("an electric vehicle has no engine displacement; {cc} cc is left out"),
                );
            }
            None
        }
        Some(0) => None,
        Some(cc) => Some(Quantity::new(cc, UNIT_CC)),
        None => None,
    };
    let power = v
        .power_bhp
        .filter(|p| *p > 0)
        .map(|p| Quantity::new(p, UNIT_BHP));
    let fuel = v.fuel_type.as_ref().and_then(fuel_type);
    if displacement.is_none() && power.is_none() && fuel.is_none() {
        return None;
    }
    Some(Engine {
        kind: "EngineSpecification".into(),
        engine_displacement: displacement,
        engine_power: power,
        fuel_type: fuel,
    })
}

/// `bodyType` as the UK trade writes it.
pub fn body_type(style: &BodyStyle) -> Option<String> {
    Some(match style {
        BodyStyle::Hatchback => "Hatchback".into(),
        BodyStyle::Saloon => "Saloon".into(),
        BodyStyle::Estate => "Estate".into(),
        BodyStyle::Suv => "SUV".into(),
        BodyStyle::Coupe => "Coupe".into(),
        BodyStyle::Convertible => "Convertible".into(),
        BodyStyle::Mpv => "MPV".into(),
        BodyStyle::Pickup => "Pickup".into(),
        BodyStyle::PanelVan => "Panel Van".into(),
        BodyStyle::Minibus => "Minibus".into(),
        BodyStyle::Other(other) => return clean(&Some(other.clone())),
    })
}

/// `fuelType` as the UK trade writes it.
pub fn fuel_type(fuel: &FuelType) -> Option<String> {
    Some(match fuel {
        FuelType::Petrol => "Petrol".into(),
        FuelType::Diesel => "Diesel".into(),
        FuelType::Electric => "Electric".into(),
        FuelType::Hybrid => "Hybrid".into(),
        FuelType::PlugInHybrid => "Plug-in Hybrid".into(),
        FuelType::MildHybrid => "Mild Hybrid".into(),
        FuelType::Lpg => "LPG".into(),
        FuelType::Hydrogen => "Hydrogen".into(),
        FuelType::Other(other) => return clean(&Some(other.clone())),
    })
}

/// `vehicleTransmission` as the UK trade writes it.
pub fn transmission(t: &Transmission) -> Option<String> {
    Some(match t {
        Transmission::Manual => "Manual".into(),
        Transmission::Automatic => "Automatic".into(),
        Transmission::SemiAutomatic => "Semi-Automatic".into(),
        Transmission::Cvt => "CVT".into(),
        Transmission::Other(other) => return clean(&Some(other.clone())),
    })
}

/// `driveWheelConfiguration`: a `DriveWheelConfigurationValue` member URL,
/// or the source's text for `other(…)`.
pub fn drive_wheel_configuration(d: &Drivetrain) -> Option<String> {
    let member = match d {
        Drivetrain::FrontWheelDrive => "FrontWheelDriveConfiguration",
        Drivetrain::RearWheelDrive => "RearWheelDriveConfiguration",
        Drivetrain::AllWheelDrive => "AllWheelDriveConfiguration",
        Drivetrain::FourWheelDrive => "FourWheelDriveConfiguration",
        Drivetrain::Other(other) => return clean(&Some(other.clone())),
    };
    Some(format!("{SCHEMA}{member}"))
}

/// Serialise a document so it can be pasted into an HTML
/// `<script type="application/ld+json">` element as it is: `<`, `>` and `&`
/// (and the JavaScript line separators) are written as `\u` escapes, which
/// JSON allows in strings and which is the only place they can occur.
pub fn to_json<T: Serialize>(value: &T, pretty: bool) -> String {
    let json = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .expect("a document always serialises");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn looks_like_html(s: &str) -> bool {
    s.match_indices('<').any(|(i, _)| {
        let rest = &s[i + 1..];
        let starts_tag = rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        starts_tag && rest.contains('>')
    })
}

/// Percent-encode everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Parse the listings' bodies back into cars.
pub fn cars(listings: &[Listing]) -> Result<Vec<Car>, String> {
    listings
        .iter()
        .map(|l| {
            let car: Car = serde_json::from_str(&l.body).map_err(|e| {
                format!(
                    "the listing of stock id `{}` is not a schema.org Car document: {e}",
                    l.stock_id
                )
            })?;
            if !DOCUMENT_TYPES.contains(&car.kind.as_str()) {
                return Err(format!(
                    "the listing of stock id `{}` is a `{}`, not a Car, Motorcycle or Vehicle",
                    l.stock_id, car.kind
                ));
            }
            Ok(car)
        })
        .collect()
}

/// The index: an `ItemList` whose elements are the cars, in order, each
/// without its own `@context`.
pub fn index(cars: Vec<Car>) -> Index {
    Index {
        context: CONTEXT.into(),
        kind: "ItemList".into(),
        item_list_element: cars
            .into_iter()
            .zip(1..)
            .map(|(car, position)| ListItem {
                kind: "ListItem".into(),
                position,
                item: Car {
                    context: None,
                    ..car
                },
            })
            .collect(),
    }
}

/// The index file for these listings, pretty-printed, with a final newline.
pub fn render(listings: &[Listing]) -> Result<String, String> {
    let mut out = to_json(&index(cars(listings)?), true);
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_prices_as_decimals() {
        assert_eq!(decimal(1_299_500), "12995.00");
        assert_eq!(decimal(1_299_550), "12995.50");
        assert_eq!(decimal(5), "0.05");
        assert_eq!(decimal(-150), "-1.50");
    }

    #[test]
    fn maps_drive_wheel_configurations_to_members() {
        assert_eq!(
            drive_wheel_configuration(&Drivetrain::FrontWheelDrive).as_deref(),
            Some("https://schema.org/FrontWheelDriveConfiguration")
        );
        assert_eq!(
            drive_wheel_configuration(&Drivetrain::RearWheelDrive).as_deref(),
            Some("https://schema.org/RearWheelDriveConfiguration")
        );
        assert_eq!(
            drive_wheel_configuration(&Drivetrain::AllWheelDrive).as_deref(),
            Some("https://schema.org/AllWheelDriveConfiguration")
        );
        assert_eq!(
            drive_wheel_configuration(&Drivetrain::FourWheelDrive).as_deref(),
            Some("https://schema.org/FourWheelDriveConfiguration")
        );
        assert_eq!(
            drive_wheel_configuration(&Drivetrain::Other(" 4x2 ".into())).as_deref(),
            Some("4x2")
        );
    }

    #[test]
    fn maps_vocabularies_to_text() {
        assert_eq!(body_type(&BodyStyle::Suv).as_deref(), Some("SUV"));
        assert_eq!(
            body_type(&BodyStyle::PanelVan).as_deref(),
            Some("Panel Van")
        );
        assert_eq!(
            fuel_type(&FuelType::PlugInHybrid).as_deref(),
            Some("Plug-in Hybrid")
        );
        assert_eq!(fuel_type(&FuelType::Other("  ".into())), None);
        assert_eq!(transmission(&Transmission::Cvt).as_deref(), Some("CVT"));
    }

    #[test]
    fn availability_follows_status() {
        let mut i = Issues::default();
        let a = |s, i: &mut Issues| availability(s, i);
        assert_eq!(
            a(StockStatus::InStock, &mut i).as_deref(),
            Some("https://schema.org/InStock")
        );
        assert_eq!(
            a(StockStatus::Reserved, &mut i).as_deref(),
            Some("https://schema.org/LimitedAvailability")
        );
        assert_eq!(
            a(StockStatus::DueIn, &mut i).as_deref(),
            Some("https://schema.org/PreOrder")
        );
        assert!(i.warnings.is_empty());
        assert_eq!(
            a(StockStatus::Sold, &mut i).as_deref(),
            Some("https://schema.org/SoldOut")
        );
        assert_eq!(i.warnings.len(), 1);
        assert_eq!(a(StockStatus::Withdrawn, &mut i), None);
        assert_eq!(i.errors[0].field, "status");
    }

    #[test]
    fn types_documents_by_vehicle_type() {
        assert_eq!(document_type(&VehicleType::Car), "Car");
        assert_eq!(document_type(&VehicleType::Van), "Car");
        assert_eq!(document_type(&VehicleType::Motorcycle), "Motorcycle");
        assert_eq!(document_type(&VehicleType::Motorhome), "Vehicle");
        assert_eq!(document_type(&VehicleType::Truck), "Vehicle");
        assert_eq!(document_type(&VehicleType::Other("quad".into())), "Vehicle");
    }

    #[test]
    fn escapes_markup_for_script_elements() {
        let json = to_json(&serde_json::json!({"d": "</script><b>&\u{2028}"}), false);
        assert_eq!(
            json,
            r#"{"d":"\u003c/script\u003e\u003cb\u003e\u0026\u2028"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["d"], "</script><b>&\u{2028}");
    }

    #[test]
    fn rejects_bad_config() {
        let c =
            Config::parse(r#"{"dealer_name":"D","link_template":"https://d.example/{stock_id}"}"#)
                .unwrap();
        assert_eq!(c.link("A B"), "https://d.example/A%20B");
        for bad in [
            r#"{"dealer_name":"","link_template":"https://d.example/{stock_id}"}"#,
            r#"{"dealer_name":"D","link_template":"https://d.example/"}"#,
            r#"{"dealer_name":"D","link_template":"file:///{stock_id}"}"#,
            r#"{"dealer_name":"D"}"#,
            r#"{"dealer_name":"D","link_template":"https://d.example/{stock_id}","x":1}"#,
        ] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
        let schema: serde_json::Value = serde_json::from_str(CONFIG_SCHEMA).unwrap();
        assert_eq!(schema["required"][0], "dealer_name");
    }
}
