//! The pure logic of the Meta vehicle catalogue feed: vehicle → item → CSV.
//!
//! Kept free of host calls so it compiles and is tested natively; `lib.rs`
//! only wires it to the contract. The rules and enumerations are Meta's
//! automotive inventory catalogue (`docs/plugins/meta-catalog.md` lists each
//! with its reason); the enumeration values are spelled exactly as in Meta's
//! Business SDK (`facebook_business/adobjects/vehicle.py`).

use forecourt_sdk::text::{clean, clean_text, cut, single_line};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use forecourt_sdk::{
    BodyStyle, Condition, Date, Drivetrain, FuelType, Image, Listing, MileageUnit, Money,
    StockStatus, Transformed, Transmission, ValidationIssue, VatStatus, Vehicle, VehicleType,
};
use serde::{Deserialize, Serialize};

/// Meta's limit on `vehicle_id`.
pub const MAX_VEHICLE_ID_CHARS: usize = 100;
/// Meta's limit on `description`.
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
/// Meta takes at most 20 images per vehicle (`image[0]` … `image[19]`).
pub const MAX_IMAGES: usize = 20;
/// A VIN, when Meta takes one, is exactly this long.
pub const VIN_CHARS: usize = 17;
/// UK standard rate of VAT, which applies to vehicles, in percent.
pub const UK_VAT_PERCENT: i64 = 20;
/// MIME type of the feed.
pub const CONTENT_TYPE: &str = "text/csv";
/// File name the host gives the feed.
pub const FILE_NAME: &str = "meta-catalog.csv";

/// Meta's `body_style` values.
pub const BODY_STYLES: [&str; 23] = [
    "CONVERTIBLE",
    "COUPE",
    "CROSSOVER",
    "ESTATE",
    "GRANDTOURER",
    "HATCHBACK",
    "MINIBUS",
    "MINIVAN",
    "MPV",
    "PICKUP",
    "ROADSTER",
    "SALOON",
    "SEDAN",
    "SMALL_CAR",
    "SPORTSCAR",
    "SUPERCAR",
    "SUPERMINI",
    "SUV",
    "TRUCK",
    "VAN",
    "WAGON",
    "OTHER",
    "NONE",
];
/// Meta's `fuel_type` values.
pub const FUEL_TYPES: [&str; 9] = [
    "DIESEL",
    "ELECTRIC",
    "FLEX",
    "GASOLINE",
    "HYBRID",
    "PETROL",
    "PLUGIN_HYBRID",
    "OTHER",
    "NONE",
];
/// Meta's `transmission` values.
pub const TRANSMISSIONS: [&str; 4] = ["AUTOMATIC", "MANUAL", "OTHER", "NONE"];
/// Meta's `drivetrain` values.
pub const DRIVETRAINS: [&str; 7] = ["AWD", "FOUR_WD", "FWD", "RWD", "TWO_WD", "OTHER", "NONE"];
/// Meta's `vehicle_type` values.
pub const VEHICLE_TYPES: [&str; 8] = [
    "CAR_TRUCK",
    "BOAT",
    "COMMERCIAL",
    "MOTORCYCLE",
    "POWERSPORT",
    "RV_CAMPER",
    "TRAILER",
    "OTHER",
];
/// Meta's `state_of_vehicle` values (`CPO` is never produced: the contract
/// has no certified-pre-owned flag).
pub const STATES_OF_VEHICLE: [&str; 3] = ["NEW", "USED", "CPO"];
/// Meta's `availability` values (`NOT_AVAILABLE` is never produced: stock
/// that cannot be bought is left out of the file instead).
pub const AVAILABILITIES: [&str; 3] = ["AVAILABLE", "NOT_AVAILABLE", "PENDING"];
/// Meta's `mileage.unit` values.
pub const MILEAGE_UNITS: [&str; 2] = ["MI", "KM"];

/// The dealership's address, as Meta's `address` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street address.
    pub addr1: String,
    /// Town or city.
    pub city: String,
    /// County or region.
    pub region: String,
    /// Postcode.
    pub postal_code: String,
    /// Country (`GB` or `United Kingdom`).
    pub country: String,
}

impl Address {
    /// Each part on one line, trimmed.
    fn cleaned(&self) -> Address {
        let c = |s: &str| single_line(s.trim());
        Address {
            addr1: c(&self.addr1),
            city: c(&self.city),
            region: c(&self.region),
            postal_code: c(&self.postal_code),
            country: c(&self.country),
        }
    }
}

/// The plugin's configuration (a JSON object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// URL of a vehicle's page on the dealer's site; `{stock_id}` is replaced
    /// by the (percent-encoded) stock id.
    pub link_template: String,
    /// The dealership's trading name (`dealer_name`).
    pub dealer_name: String,
    /// The dealer's id at Meta (`dealer_id`); defaults to the vehicle's
    /// `dealer-id`.
    #[serde(default)]
    pub dealer_id: Option<String>,
    /// The dealership's address.
    pub address: Address,
}

/// JSON Schema (draft 2020-12) of [`Config`].
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Meta vehicle catalogue",
  "type": "object",
  "additionalProperties": false,
  "required": ["link_template", "dealer_name", "address"],
  "properties": {
    "link_template": {
      "type": "string",
      "pattern": "^https?://.*\\{stock_id\\}",
      "description": "Vehicle page URL (Meta's url); {stock_id} is replaced by the percent-encoded stock id.",
      "examples": ["https://dealer.example/cars/{stock_id}"]
    },
    "dealer_name": {
      "type": "string",
      "minLength": 1,
      "description": "The dealership's trading name (dealer_name)."
    },
    "dealer_id": {
      "type": "string",
      "minLength": 1,
      "description": "The dealer's id in the catalogue (dealer_id); defaults to the vehicle's dealer-id."
    },
    "address": {
      "type": "object",
      "additionalProperties": false,
      "required": ["addr1", "city", "region", "postal_code", "country"],
      "description": "The dealership's address (Meta's address object, written as address.* columns).",
      "properties": {
        "addr1": { "type": "string", "minLength": 1, "description": "Street address." },
        "city": { "type": "string", "minLength": 1, "description": "Town or city." },
        "region": { "type": "string", "minLength": 1, "description": "County or region." },
        "postal_code": { "type": "string", "minLength": 1, "description": "Postcode." },
        "country": { "type": "string", "minLength": 1, "description": "Country, e.g. GB." }
      }
    }
  }
}"#;

impl Config {
    /// Parse and check a configuration object.
    pub fn parse(json: &str) -> Result<Config, String> {
        let config: Config =
            serde_json::from_str(json).map_err(|e| format!("invalid configuration: {e}"))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let t = &self.link_template;
        if !(t.starts_with("https://") || t.starts_with("http://")) {
            return Err("link_template must be an http(s) URL".into());
        }
        if !t.contains("{stock_id}") {
            return Err("link_template must contain {stock_id}".into());
        }
        if t.contains(char::is_whitespace) {
            return Err("link_template must not contain white space".into());
        }
        if self.dealer_name.trim().is_empty() {
            return Err("dealer_name must not be empty".into());
        }
        if self
            .dealer_id
            .as_deref()
            .is_some_and(|d| d.trim().is_empty())
        {
            return Err("dealer_id must not be empty when given".into());
        }
        let a = &self.address;
        for (key, value) in [
            ("addr1", &a.addr1),
            ("city", &a.city),
            ("region", &a.region),
            ("postal_code", &a.postal_code),
            ("country", &a.country),
        ] {
            if value.trim().is_empty() {
                return Err(format!("address.{key} must not be empty"));
            }
        }
        Ok(())
    }

    /// The vehicle page URL for `stock_id`.
    pub fn link(&self, stock_id: &str) -> String {
        self.link_template
            .replace("{stock_id}", &percent_encode(stock_id))
    }
}

/// `mileage`: an integer and `MI` or `KM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemMileage {
    pub value: u32,
    pub unit: String,
}

/// One entry of `image`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemImage {
    pub url: String,
}

/// One vehicle of the catalogue, field names as Meta spells them.
///
/// This is the listing body (as JSON, in this field order: Meta's nested
/// item shape, as its batch API takes it) and what [`render_csv`] reads back
/// and flattens into the `mileage.value`, `image[0].url`, `address.addr1`
/// … columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub vehicle_id: String,
    pub title: String,
    pub description: String,
    pub url: String,
    pub make: String,
    pub model: String,
    pub year: u16,
    pub mileage: ItemMileage,
    pub price: String,
    pub state_of_vehicle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_style: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transmission: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drivetrain: Option<String>,
    pub vehicle_type: String,
    pub availability: String,
    pub exterior_color: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_registration_plate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_first_on_lot: Option<String>,
    pub image: Vec<ItemImage>,
    pub address: Address,
    pub dealer_name: String,
    pub dealer_id: String,
}

/// The CSV header: every column, in order.
pub fn columns() -> Vec<String> {
    let mut columns: Vec<String> = [
        "vehicle_id",
        "title",
        "description",
        "url",
        "make",
        "model",
        "year",
        "mileage.value",
        "mileage.unit",
        "price",
        "state_of_vehicle",
        "body_style",
        "fuel_type",
        "transmission",
        "drivetrain",
        "vehicle_type",
        "availability",
        "exterior_color",
        "trim",
        "vin",
        "vehicle_registration_plate",
        "date_first_on_lot",
    ]
    .map(String::from)
    .to_vec();
    columns.extend((0..MAX_IMAGES).map(|n| format!("image[{n}].url")));
    columns.extend(
        [
            "address.addr1",
            "address.city",
            "address.region",
            "address.postal_code",
            "address.country",
            "dealer_name",
            "dealer_id",
        ]
        .map(String::from),
    );
    columns
}

impl Item {
    /// The cells of this item's row, in [`columns`] order.
    pub fn row(&self) -> Vec<String> {
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        let mut row = vec![
            self.vehicle_id.clone(),
            self.title.clone(),
            self.description.clone(),
            self.url.clone(),
            self.make.clone(),
            self.model.clone(),
            self.year.to_string(),
            self.mileage.value.to_string(),
            self.mileage.unit.clone(),
            self.price.clone(),
            self.state_of_vehicle.clone(),
            opt(&self.body_style),
            opt(&self.fuel_type),
            opt(&self.transmission),
            opt(&self.drivetrain),
            self.vehicle_type.clone(),
            self.availability.clone(),
            self.exterior_color.clone(),
            opt(&self.trim),
            opt(&self.vin),
            opt(&self.vehicle_registration_plate),
            opt(&self.date_first_on_lot),
        ];
        row.extend(
            (0..MAX_IMAGES).map(|n| self.image.get(n).map(|i| i.url.clone()).unwrap_or_default()),
        );
        let a = &self.address;
        row.extend([
            a.addr1.clone(),
            a.city.clone(),
            a.region.clone(),
            a.postal_code.clone(),
            a.country.clone(),
            self.dealer_name.clone(),
            self.dealer_id.clone(),
        ]);
        row
    }
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

/// Render one vehicle as a Meta catalogue item, or say what stops it.
///
/// The listing body is the item as JSON. Every blocking problem is reported
/// at once, each naming the contract field at fault.
pub fn transform_vehicle(
    config: &Config,
    v: &Vehicle,
) -> Result<Transformed, Vec<ValidationIssue>> {
    let mut issues = Issues::default();

    let availability = availability(v.status, &mut issues);

    let vehicle_id = v.stock_id.trim().to_string();
    if vehicle_id.is_empty() {
        issues.error(
            "stock-id",
            "a stock id is required: it is Meta's vehicle_id",
        );
    } else if vehicle_id.chars().count() > MAX_VEHICLE_ID_CHARS {
        issues.error(
            "stock-id",
            format!(
                "Meta's vehicle_id is at most {MAX_VEHICLE_ID_CHARS} characters; this stock id has {}",
                vehicle_id.chars().count()
            ),
        );
    } else if vehicle_id.chars().any(char::is_control) {
        issues.error(
            "stock-id",
            "the stock id contains control characters, which Meta's vehicle_id cannot carry",
        );
    }

    let make = required_text(&v.make, "make", "make", &mut issues);
    let model = required_text(&v.model, "model", "model", &mut issues);
    let colour = required_text(&v.colour, "colour", "exterior_color", &mut issues);
    let year = year(v, &mut issues);
    let price = price(v.price.as_ref(), v.vat, &mut issues);
    let mileage = mileage(v, &mut issues);
    let images = images(&v.images, &mut issues);
    let date_first_on_lot = date(v.date_in_stock.as_ref(), "date-in-stock", &mut issues);
    if let Some(d) = &v.first_registration {
        // Not a Meta column, but a broken date means broken data.
        date(Some(d), "first-registration", &mut issues);
    }

    let title = title(v, year);
    let description = description(v, &title, &mut issues);
    let vin = vin(v.vin.as_deref(), v.registration.as_deref(), &mut issues);
    let plate = clean(&v.registration).map(|r| r.replace(' ', "").to_uppercase());

    let body_style = v.body_style.as_ref().map(|b| body_style(b, &mut issues));
    let fuel_type = v.fuel_type.as_ref().map(|f| fuel_type(f, &mut issues));
    let transmission = v
        .transmission
        .as_ref()
        .map(|t| transmission(t, &mut issues));
    let drivetrain = v.drivetrain.as_ref().map(|d| drivetrain(d, &mut issues));
    let vehicle_type = vehicle_type(&v.vehicle_type, &mut issues);

    if !issues.errors.is_empty() {
        return Err(issues.errors);
    }
    let (
        Some(availability),
        Some(make),
        Some(model),
        Some(exterior_color),
        Some(year),
        Some(price),
        Some(mileage),
        Some(image),
    ) = (
        availability,
        make,
        model,
        colour,
        year,
        price,
        mileage,
        images,
    )
    else {
        unreachable!("a missing required field is always reported as an error");
    };

    let item = Item {
        url: config.link(&vehicle_id),
        vehicle_id,
        title,
        description,
        make,
        model,
        year,
        mileage,
        price,
        state_of_vehicle: match v.condition {
            Condition::New => "NEW",
            Condition::Used => "USED",
        }
        .into(),
        body_style,
        fuel_type,
        transmission,
        drivetrain,
        vehicle_type,
        availability: availability.into(),
        exterior_color,
        trim: clean(&v.trim),
        vin,
        vehicle_registration_plate: plate,
        date_first_on_lot,
        image,
        address: config.address.cleaned(),
        dealer_name: single_line(config.dealer_name.trim()),
        dealer_id: config
            .dealer_id
            .as_deref()
            .map(|d| single_line(d.trim()))
            .unwrap_or_else(|| single_line(v.dealer_id.trim())),
    };
    let body = serde_json::to_string(&item).expect("an item always serialises");
    Ok(Transformed {
        listing: Listing {
            stock_id: v.stock_id.clone(),
            body,
        },
        warnings: issues.warnings,
    })
}

/// Meta's `availability`; sold and withdrawn stock is not rendered at all.
fn availability(status: StockStatus, issues: &mut Issues) -> Option<&'static str> {
    match status {
        StockStatus::InStock => Some("AVAILABLE"),
        StockStatus::Reserved => Some("PENDING"),
        StockStatus::DueIn => {
            issues.warning(
                "status",
                "Meta has no due-in availability: the vehicle is listed as AVAILABLE, so its \
                 page should say when it arrives",
            );
            Some("AVAILABLE")
        }
        StockStatus::Sold => {
            issues.error(
                "status",
                "sold vehicles are left out of the catalogue file (Meta removes what the file no \
                 longer lists)",
            );
            None
        }
        StockStatus::Withdrawn => {
            issues.error(
                "status",
                "withdrawn vehicles are left out of the catalogue file (Meta removes what the file \
                 no longer lists)",
            );
            None
        }
    }
}

fn required_text(
    s: &Option<String>,
    field: &str,
    meta: &str,
    issues: &mut Issues,
) -> Option<String> {
    let value = clean(s);
    if value.is_none() {
        issues.error(
            field,
            format!("Meta requires {meta}: the {field} is missing"),
        );
    }
    value
}

/// `year`: the model year, else the first-registration year.
fn year(v: &Vehicle, issues: &mut Issues) -> Option<u16> {
    let (year, from) = match (v.model_year, &v.first_registration) {
        (Some(y), _) => (y, "model-year"),
        (None, Some(d)) => (d.year, "first-registration"),
        (None, None) => {
            issues.error(
                "model-year",
                "Meta requires year (yyyy): the vehicle has neither a model year nor a \
                 first-registration date",
            );
            return None;
        }
    };
    if !(1000..=9999).contains(&year) {
        issues.error(
            from,
            format!("Meta's year is a four-digit year; {year} is not one"),
        );
        return None;
    }
    Some(year)
}

/// `12995 GBP` or `12995.50 GBP`; ex-VAT prices have UK VAT added.
fn price(money: Option<&Money>, vat: VatStatus, issues: &mut Issues) -> Option<String> {
    let Some(money) = money else {
        issues.error("price", "Meta requires a price");
        return None;
    };
    if money.amount_minor <= 0 {
        issues.error(
            "price",
            "Meta requires a price greater than zero (Marketplace refuses free or unpriced \
             vehicles)",
        );
        return None;
    }
    let currency = money.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        issues.error(
            "price",
            format!("`{}` is not an ISO 4217 currency code", money.currency),
        );
        return None;
    }
    let mut amount = money.amount_minor;
    if vat == VatStatus::PlusVat {
        // Meta shows the price to consumers, who pay VAT. Round half up.
        let Some(gross) = amount
            .checked_mul(100 + UK_VAT_PERCENT)
            .map(|x| (x + 50) / 100)
        else {
            issues.error("price", "the price is too large");
            return None;
        };
        issues.warning(
            "vat",
            format!(
                "the price is ex-VAT; Meta shows prices to consumers, who pay VAT, so the \
                 catalogue shows {} ({} plus {UK_VAT_PERCENT}% VAT)",
                format_money(gross, &currency),
                format_money(amount, &currency),
            ),
        );
        amount = gross;
    }
    Some(format_money(amount, &currency))
}

/// A positive amount of minor units as Meta writes a price.
pub fn format_money(amount_minor: i64, currency: &str) -> String {
    let (units, minor) = (amount_minor / 100, amount_minor % 100);
    if minor == 0 {
        format!("{units} {currency}")
    } else {
        format!("{units}.{minor:02} {currency}")
    }
}

/// `mileage.value` and `mileage.unit` as the source gave them (no
/// conversion); a new vehicle without a mileage has done 0 miles.
fn mileage(v: &Vehicle, issues: &mut Issues) -> Option<ItemMileage> {
    match (&v.mileage, v.condition) {
        (Some(m), _) => Some(ItemMileage {
            value: m.value,
            unit: match m.unit {
                MileageUnit::Miles => "MI",
                MileageUnit::Kilometres => "KM",
            }
            .into(),
        }),
        (None, Condition::New) => Some(ItemMileage {
            value: 0,
            unit: "MI".into(),
        }),
        (None, Condition::Used) => {
            issues.error(
                "mileage",
                "Meta requires mileage.value and mileage.unit: a used vehicle needs its mileage",
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

/// Up to 20 usable images, in the dealer's order.
fn images(images: &[Image], issues: &mut Issues) -> Option<Vec<ItemImage>> {
    if images.is_empty() {
        issues.error("images", "Meta requires at least one image (image[0].url)");
        return None;
    }
    let usable: Vec<&str> = images
        .iter()
        .map(|i| i.url.trim())
        .filter(|u| is_web_url(u))
        .collect();
    let unusable = images.len() - usable.len();
    if usable.is_empty() {
        issues.error(
            "images",
            "Meta requires at least one image, and none of the vehicle's image URLs is an \
             http(s) URL",
        );
        return None;
    }
    if unusable > 0 {
        issues.warning(
            "images",
            format!("{unusable} image(s) left out: not an http(s) URL"),
        );
    }
    if usable.len() > MAX_IMAGES {
        issues.warning(
            "images",
            format!(
                "Meta takes at most {MAX_IMAGES} images; the first {MAX_IMAGES} are used and the \
                 last {} left out",
                usable.len() - MAX_IMAGES
            ),
        );
    }
    Some(
        usable
            .into_iter()
            .take(MAX_IMAGES)
            .map(|url| ItemImage { url: url.into() })
            .collect(),
    )
}

/// A calendar date as `yyyy-mm-dd`, or an error naming `field`.
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

/// `2019 Volkswagen Golf 1.5 TSI EVO SE 5dr`: year, make, model, derivative
/// (or trim).
fn title(v: &Vehicle, year: Option<u16>) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(y) = year {
        parts.push(y.to_string());
    }
    parts.extend(clean(&v.make));
    parts.extend(clean(&v.model));
    parts.extend(clean(&v.variant).or_else(|| clean(&v.trim)));
    parts.join(" ")
}

/// The dealer's description, cut to 5000 characters; without one, a
/// description is built from the title and the features.
fn description(v: &Vehicle, title: &str, issues: &mut Issues) -> String {
    let Some(text) = clean_text(&v.description) else {
        issues.warning(
            "description",
            "no description: Meta requires one, so the catalogue uses the title and features",
        );
        let features: Vec<String> = v
            .features
            .iter()
            .filter_map(|f| clean(&Some(f.clone())))
            .collect();
        let generated = if features.is_empty() {
            title.to_string()
        } else {
            format!("{title}. Features: {}.", features.join(", "))
        };
        return cut(&generated, MAX_DESCRIPTION_CHARS);
    };
    if looks_like_html(&text) {
        issues.warning(
            "description",
            "the description contains HTML markup, which Meta shows as plain text",
        );
    }
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        issues.warning(
            "description",
            format!(
                "the description is longer than Meta's {MAX_DESCRIPTION_CHARS} characters and was \
                 cut"
            ),
        );
        return cut(&text, MAX_DESCRIPTION_CHARS);
    }
    text
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

/// Meta takes a VIN only when it is exactly 17 characters. UK stock often
/// has none: the registration plate identifies it, so a missing or unusable
/// VIN is a warning.
fn vin(vin: Option<&str>, registration: Option<&str>, issues: &mut Issues) -> Option<String> {
    let has_plate = registration.is_some_and(|r| !r.trim().is_empty());
    let identified = if has_plate {
        "the vehicle is identified by vehicle_registration_plate"
    } else {
        "the vehicle has no registration either, so Meta has only vehicle_id to identify it"
    };
    let vin: String = vin
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if vin.is_empty() {
        issues.warning(
            "vin",
            format!("no VIN: Meta lists vin as required; {identified}"),
        );
        return None;
    }
    let well_formed = vin.len() == VIN_CHARS
        && vin
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'I' | b'O' | b'Q'));
    if !well_formed {
        issues.warning(
            "vin",
            format!(
                "Meta takes a VIN only when it is exactly {VIN_CHARS} characters of A–Z (no I, O, \
                 Q) and 0–9; `{vin}` is left out and {identified}"
            ),
        );
        return None;
    }
    Some(vin)
}

/// Upper case with spaces and dashes as underscores: `"City car"` →
/// `CITY_CAR`.
fn enum_key(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' | '/' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// An `other(…)` value matched against a Meta enumeration (with and without
/// separators: `Sports car` → `SPORTSCAR`), else `OTHER` with a warning.
fn other_value(
    other: &str,
    values: &[&'static str],
    field: &str,
    meta: &str,
    issues: &mut Issues,
) -> String {
    let key = enum_key(other);
    let joined = key.replace('_', "");
    if let Some(found) = values
        .iter()
        .find(|v| **v == key || v.replace('_', "") == joined)
    {
        return (*found).to_string();
    }
    issues.warning(
        field,
        format!("`{other}` is not one of Meta's {meta} values: sent as OTHER"),
    );
    "OTHER".into()
}

/// The contract's body style as Meta's `body_style`.
fn body_style(style: &BodyStyle, issues: &mut Issues) -> String {
    match style {
        BodyStyle::Hatchback => "HATCHBACK",
        BodyStyle::Saloon => "SALOON",
        BodyStyle::Estate => "ESTATE",
        BodyStyle::Suv => "SUV",
        BodyStyle::Coupe => "COUPE",
        BodyStyle::Convertible => "CONVERTIBLE",
        BodyStyle::Mpv => "MPV",
        BodyStyle::Pickup => "PICKUP",
        BodyStyle::PanelVan => "VAN",
        BodyStyle::Minibus => "MINIBUS",
        BodyStyle::Other(other) => {
            return other_value(other, &BODY_STYLES, "body-style", "body_style", issues)
        }
    }
    .into()
}

/// The contract's fuel type as Meta's `fuel_type`.
fn fuel_type(fuel: &FuelType, issues: &mut Issues) -> String {
    match fuel {
        FuelType::Petrol => "PETROL",
        FuelType::Diesel => "DIESEL",
        FuelType::Electric => "ELECTRIC",
        FuelType::Hybrid | FuelType::MildHybrid => "HYBRID",
        FuelType::PlugInHybrid => "PLUGIN_HYBRID",
        FuelType::Lpg | FuelType::Hydrogen => "OTHER",
        FuelType::Other(other) => {
            let key = enum_key(other);
            if key == "PLUG_IN_HYBRID" {
                return "PLUGIN_HYBRID".into();
            }
            return other_value(other, &FUEL_TYPES, "fuel-type", "fuel_type", issues);
        }
    }
    .into()
}

/// The contract's transmission as Meta's `transmission`: Meta knows only
/// manual and automatic, and semi-automatic and CVT gearboxes have no
/// clutch pedal, so they are automatic to a buyer.
fn transmission(t: &Transmission, issues: &mut Issues) -> String {
    match t {
        Transmission::Manual => "MANUAL",
        Transmission::Automatic | Transmission::SemiAutomatic | Transmission::Cvt => "AUTOMATIC",
        Transmission::Other(other) => {
            return other_value(
                other,
                &TRANSMISSIONS,
                "transmission",
                "transmission",
                issues,
            )
        }
    }
    .into()
}

/// The contract's drivetrain as Meta's `drivetrain`.
fn drivetrain(d: &Drivetrain, issues: &mut Issues) -> String {
    match d {
        Drivetrain::FrontWheelDrive => "FWD",
        Drivetrain::RearWheelDrive => "RWD",
        Drivetrain::AllWheelDrive => "AWD",
        Drivetrain::FourWheelDrive => "FOUR_WD",
        Drivetrain::Other(other) => {
            let key = enum_key(other);
            return match key.as_str() {
                "4X4" | "4WD" | "4_WD" => "FOUR_WD".into(),
                "4X2" | "2WD" | "2_WD" => "TWO_WD".into(),
                _ => other_value(other, &DRIVETRAINS, "drivetrain", "drivetrain", issues),
            };
        }
    }
    .into()
}

/// The contract's vehicle type as Meta's `vehicle_type`: cars are
/// `CAR_TRUCK` (Meta's passenger-vehicle class), vans and trucks
/// `COMMERCIAL`.
fn vehicle_type(t: &VehicleType, issues: &mut Issues) -> String {
    match t {
        VehicleType::Car => "CAR_TRUCK",
        VehicleType::Van | VehicleType::Truck => "COMMERCIAL",
        VehicleType::Motorcycle => "MOTORCYCLE",
        VehicleType::Motorhome => "RV_CAMPER",
        VehicleType::Other(other) => {
            return other_value(
                other,
                &VEHICLE_TYPES,
                "vehicle-type",
                "vehicle_type",
                issues,
            )
        }
    }
    .into()
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

/// Parse the listings' bodies back into items, refusing duplicate ids
/// (Meta ignores every copy of a `vehicle_id` that appears twice).
pub fn items(listings: &[Listing]) -> Result<Vec<Item>, String> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    let mut items = Vec::with_capacity(listings.len());
    for l in listings {
        let item: Item = serde_json::from_str(&l.body).map_err(|e| {
            format!(
                "the listing of stock id `{}` is not a Meta catalogue item: {e}",
                l.stock_id
            )
        })?;
        if let Some(first) = seen.insert(item.vehicle_id.clone(), &l.stock_id) {
            return Err(format!(
                "vehicle_id `{}` appears twice (stock ids `{first}` and `{}`); Meta would ignore \
                 both",
                item.vehicle_id, l.stock_id
            ));
        }
        items.push(item);
    }
    Ok(items)
}

/// The CSV file (RFC 4180: comma-separated, CRLF line ends, fields with a
/// comma, quote or line break quoted, quotes doubled; UTF-8 without BOM):
/// a header row, then one row per item.
pub fn render_csv(items: &[Item]) -> Result<String, String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    let fail = |e: csv::Error| format!("the CSV could not be written: {e}");
    writer.write_record(columns()).map_err(fail)?;
    for item in items {
        writer.write_record(item.row()).map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| format!("the CSV could not be written: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("the CSV is not UTF-8: {e}"))
}

/// The whole feed for these listings.
pub fn render(listings: &[Listing]) -> Result<String, String> {
    render_csv(&items(listings)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues() -> Issues {
        Issues::default()
    }

    #[test]
    fn maps_body_styles_to_meta_values() {
        let mut i = issues();
        for (style, expected) in [
            (BodyStyle::Hatchback, "HATCHBACK"),
            (BodyStyle::Saloon, "SALOON"),
            (BodyStyle::Estate, "ESTATE"),
            (BodyStyle::Suv, "SUV"),
            (BodyStyle::Coupe, "COUPE"),
            (BodyStyle::Convertible, "CONVERTIBLE"),
            (BodyStyle::Mpv, "MPV"),
            (BodyStyle::Pickup, "PICKUP"),
            (BodyStyle::PanelVan, "VAN"),
            (BodyStyle::Minibus, "MINIBUS"),
            (BodyStyle::Other("Sports car".into()), "SPORTSCAR"),
            (BodyStyle::Other("grand tourer".into()), "GRANDTOURER"),
            (BodyStyle::Other("small-car".into()), "SMALL_CAR"),
            (BodyStyle::Other("Roadster".into()), "ROADSTER"),
        ] {
            let got = body_style(&style, &mut i);
            assert_eq!(got, expected, "{style:?}");
            assert!(BODY_STYLES.contains(&got.as_str()));
        }
        assert!(i.warnings.is_empty());
        assert_eq!(
            body_style(&BodyStyle::Other("Shooting brake".into()), &mut i),
            "OTHER"
        );
        assert_eq!(i.warnings.len(), 1);
        assert_eq!(i.warnings[0].field, "body-style");
    }

    #[test]
    fn maps_fuel_types_to_meta_values() {
        let mut i = issues();
        for (fuel, expected) in [
            (FuelType::Petrol, "PETROL"),
            (FuelType::Diesel, "DIESEL"),
            (FuelType::Electric, "ELECTRIC"),
            (FuelType::Hybrid, "HYBRID"),
            (FuelType::MildHybrid, "HYBRID"),
            (FuelType::PlugInHybrid, "PLUGIN_HYBRID"),
            (FuelType::Lpg, "OTHER"),
            (FuelType::Hydrogen, "OTHER"),
            (FuelType::Other("Plug-in hybrid".into()), "PLUGIN_HYBRID"),
            (FuelType::Other("flex".into()), "FLEX"),
            (FuelType::Other("Gasoline".into()), "GASOLINE"),
        ] {
            let got = fuel_type(&fuel, &mut i);
            assert_eq!(got, expected, "{fuel:?}");
            assert!(FUEL_TYPES.contains(&got.as_str()));
        }
        assert!(i.warnings.is_empty());
        assert_eq!(fuel_type(&FuelType::Other("CNG".into()), &mut i), "OTHER");
        assert_eq!(i.warnings[0].field, "fuel-type");
    }

    #[test]
    fn maps_transmissions_drivetrains_and_types() {
        let mut i = issues();
        assert_eq!(transmission(&Transmission::Manual, &mut i), "MANUAL");
        assert_eq!(transmission(&Transmission::Automatic, &mut i), "AUTOMATIC");
        assert_eq!(
            transmission(&Transmission::SemiAutomatic, &mut i),
            "AUTOMATIC"
        );
        assert_eq!(transmission(&Transmission::Cvt, &mut i), "AUTOMATIC");
        assert_eq!(drivetrain(&Drivetrain::FrontWheelDrive, &mut i), "FWD");
        assert_eq!(drivetrain(&Drivetrain::RearWheelDrive, &mut i), "RWD");
        assert_eq!(drivetrain(&Drivetrain::AllWheelDrive, &mut i), "AWD");
        assert_eq!(drivetrain(&Drivetrain::FourWheelDrive, &mut i), "FOUR_WD");
        assert_eq!(
            drivetrain(&Drivetrain::Other("4x4".into()), &mut i),
            "FOUR_WD"
        );
        assert_eq!(
            drivetrain(&Drivetrain::Other("2WD".into()), &mut i),
            "TWO_WD"
        );
        assert_eq!(vehicle_type(&VehicleType::Car, &mut i), "CAR_TRUCK");
        assert_eq!(vehicle_type(&VehicleType::Van, &mut i), "COMMERCIAL");
        assert_eq!(vehicle_type(&VehicleType::Truck, &mut i), "COMMERCIAL");
        assert_eq!(vehicle_type(&VehicleType::Motorcycle, &mut i), "MOTORCYCLE");
        assert_eq!(vehicle_type(&VehicleType::Motorhome, &mut i), "RV_CAMPER");
        assert_eq!(
            vehicle_type(&VehicleType::Other("boat".into()), &mut i),
            "BOAT"
        );
        assert!(i.warnings.is_empty());
        assert_eq!(
            transmission(&Transmission::Other("dual-clutch".into()), &mut i),
            "OTHER"
        );
        assert_eq!(
            vehicle_type(&VehicleType::Other("quad".into()), &mut i),
            "OTHER"
        );
        assert_eq!(i.warnings.len(), 2);
    }

    #[test]
    fn availability_follows_status() {
        let mut i = issues();
        assert_eq!(
            availability(StockStatus::InStock, &mut i),
            Some("AVAILABLE")
        );
        assert_eq!(availability(StockStatus::Reserved, &mut i), Some("PENDING"));
        assert!(i.warnings.is_empty() && i.errors.is_empty());
        assert_eq!(availability(StockStatus::DueIn, &mut i), Some("AVAILABLE"));
        assert_eq!(i.warnings.len(), 1);
        assert_eq!(availability(StockStatus::Sold, &mut i), None);
        assert_eq!(availability(StockStatus::Withdrawn, &mut i), None);
        assert_eq!(i.errors.len(), 2);
        assert!(i.errors.iter().all(|e| e.field == "status"));
        for value in ["AVAILABLE", "PENDING"] {
            assert!(AVAILABILITIES.contains(&value));
        }
    }

    #[test]
    fn formats_money_and_adds_vat() {
        assert_eq!(format_money(1_299_500, "GBP"), "12995 GBP");
        assert_eq!(format_money(1_299_550, "GBP"), "12995.50 GBP");
        assert_eq!(format_money(5, "GBP"), "0.05 GBP");
        let mut i = issues();
        let m = Money {
            amount_minor: 2_199_500,
            currency: "gbp".into(),
        };
        assert_eq!(
            price(Some(&m), VatStatus::PlusVat, &mut i).as_deref(),
            Some("26394 GBP")
        );
        assert_eq!(i.warnings[0].field, "vat");
        let zero = Money {
            amount_minor: 0,
            currency: "GBP".into(),
        };
        assert_eq!(price(Some(&zero), VatStatus::IncVat, &mut i), None);
        assert_eq!(i.errors[0].field, "price");
    }

    #[test]
    fn takes_only_seventeen_character_vins() {
        let mut i = issues();
        assert_eq!(
            vin(Some("wvw zzzauzkw123456"), Some("AB19CDE"), &mut i).as_deref(),
            Some("WVWZZZAUZKW123456")
        );
        assert!(i.warnings.is_empty());
        assert_eq!(vin(Some("WP0ZZZ99ZKS1234"), Some("AB19CDE"), &mut i), None);
        assert_eq!(vin(None, Some("AIZ1234"), &mut i), None);
        assert_eq!(vin(Some("WVWZZZAUZKW12345O"), None, &mut i), None);
        assert_eq!(i.warnings.len(), 3);
        assert!(i.errors.is_empty(), "a VIN is never blocking");
        assert!(i.warnings[1].message.contains("vehicle_registration_plate"));
        assert!(i.warnings[2].message.contains("no registration either"));
    }

    #[test]
    fn checks_calendar_dates() {
        let d = |year, month, day| Date { year, month, day };
        assert!(is_calendar_date(&d(2024, 2, 29)));
        assert!(!is_calendar_date(&d(2023, 2, 29)));
        assert!(!is_calendar_date(&d(1900, 2, 29)));
        assert!(is_calendar_date(&d(2000, 2, 29)));
        assert!(!is_calendar_date(&d(2024, 13, 1)));
        assert!(!is_calendar_date(&d(2024, 4, 31)));
        assert!(!is_calendar_date(&d(2024, 4, 0)));
    }

    #[test]
    fn csv_quotes_per_rfc_4180() {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        w.write_record([
            "plain",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "tab\there",
            "é 🚗",
        ])
        .unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",tab\there,é 🚗\r\n"
        );
    }

    #[test]
    fn header_has_every_column_once() {
        let columns = columns();
        assert_eq!(columns.len(), 22 + MAX_IMAGES + 7);
        assert_eq!(columns[22], "image[0].url");
        assert_eq!(columns[41], "image[19].url");
        let mut sorted = columns.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), columns.len());
    }

    #[test]
    fn rejects_bad_config() {
        let good = r#"{"link_template":"https://d.example/{stock_id}","dealer_name":"D","address":{"addr1":"1 Road","city":"Leeds","region":"West Yorkshire","postal_code":"LS1 1AA","country":"GB"}}"#;
        let c = Config::parse(good).unwrap();
        assert_eq!(c.link("AB 12/é"), "https://d.example/AB%2012%2F%C3%A9");
        for bad in [
            good.replace("{stock_id}", "x"),
            good.replace("https://", "ftp://"),
            good.replace(r#""dealer_name":"D""#, r#""dealer_name":" ""#),
            good.replace(r#""city":"Leeds""#, r#""city":"""#),
            good.replace(r#","country":"GB""#, ""),
            good.replace(r#""dealer_name":"D""#, r#""dealer_name":"D","extra":1"#),
            good.replace(
                r#""dealer_name":"D""#,
                r#""dealer_name":"D","dealer_id":"""#,
            ),
        ] {
            assert!(Config::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn schema_is_json() {
        let v: serde_json::Value = serde_json::from_str(CONFIG_SCHEMA).unwrap();
        assert_eq!(v["type"], "object");
        assert_eq!(v["properties"]["address"]["required"][4], "country");
    }

    #[test]
    fn cuts_at_a_word_boundary() {
        assert_eq!(cut("one two three four", 12), "one two…");
        let long = "word ".repeat(2000);
        assert!(cut(&long, MAX_DESCRIPTION_CHARS).chars().count() <= MAX_DESCRIPTION_CHARS);
    }
}
