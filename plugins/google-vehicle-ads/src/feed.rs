//! The pure logic of the Google vehicle ads feed: vehicle → item → TSV/XML.
//!
//! Kept free of host calls so it compiles and is tested natively (golden
//! tests, benchmarks); `lib.rs` only wires it to the contract.
//!
//! Rules follow Google Merchant Center's vehicle ads specification for the
//! United Kingdom (`docs/plugins/google-vehicle-ads.md` lists them with the
//! reason for each).

use forecourt_sdk::text::{clean, clean_text, cut, push_single_line, single_line};
use std::fmt::Write as _;

use forecourt_sdk::{
    BodyStyle, Condition, FuelType, Image, Listing, MileageUnit, Money, StockStatus, Transformed,
    ValidationIssue, VatStatus, Vehicle, VehicleType,
};
use serde::{Deserialize, Serialize};

/// Google's limit on `id`.
pub const MAX_ID_CHARS: usize = 50;
/// Google's limit on `title`.
pub const MAX_TITLE_CHARS: usize = 150;
/// Google's limit on `description`.
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
/// Google's limit on `store_code`.
pub const MAX_STORE_CODE_CHARS: usize = 64;
/// `additional_image_link` may be repeated up to 10 times.
pub const MAX_ADDITIONAL_IMAGES: usize = 10;
/// `image_link` plus the additional images.
pub const MAX_IMAGES: usize = 1 + MAX_ADDITIONAL_IMAGES;
/// Smallest image Google accepts (each side, pixels).
pub const MIN_IMAGE_SIDE: u32 = 100;
/// Size Google recommends.
pub const RECOMMENDED_IMAGE: (u32, u32) = (800, 600);
/// UK standard rate of VAT, which applies to vehicles, in percent.
pub const UK_VAT_PERCENT: i64 = 20;
/// Google product category "Vehicles & Parts > Vehicles > Motor Vehicles >
/// Cars, Trucks & Vans".
pub const DEFAULT_PRODUCT_CATEGORY: &str = "916";
/// The Google namespace of XML feeds.
pub const GOOGLE_NS: &str = "http://base.google.com/ns/1.0";

/// The feed file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Tab-separated values with a header row (Google's recommended format).
    #[default]
    Tsv,
    /// RSS 2.0 with `g:`-prefixed elements.
    Xml,
}

impl Format {
    /// MIME type of the rendered feed.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Tsv => "text/tab-separated-values",
            Format::Xml => "application/xml",
        }
    }

    /// File name the host gives the feed.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Tsv => "google-vehicle-ads.tsv",
            Format::Xml => "google-vehicle-ads.xml",
        }
    }
}

/// The plugin's configuration (a JSON object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The dealership's store code in Google Business Profile / Merchant
    /// Center (`vehicle_fulfillment` is `in_store:<store_code>`).
    pub store_code: String,
    /// Feed file format.
    #[serde(default)]
    pub format: Format,
    /// URL of a vehicle's page on the dealer's site; `{stock_id}` is replaced
    /// by the (percent-encoded) stock id.
    pub link_template: String,
    /// Google product category id.
    #[serde(default = "default_category")]
    pub google_product_category: String,
}

fn default_category() -> String {
    DEFAULT_PRODUCT_CATEGORY.to_string()
}

/// JSON Schema (draft 2020-12) of [`Config`].
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Google vehicle ads (UK)",
  "type": "object",
  "additionalProperties": false,
  "required": ["store_code", "link_template"],
  "properties": {
    "store_code": {
      "type": "string",
      "minLength": 1,
      "maxLength": 64,
      "pattern": "^[^:\\t\\r\\n]+$",
      "description": "Store code of the dealership in Google Business Profile; vehicle_fulfillment is in_store:<store_code>."
    },
    "format": {
      "enum": ["tsv", "xml"],
      "default": "tsv",
      "description": "Feed file format: tab-separated values or RSS 2.0 XML."
    },
    "link_template": {
      "type": "string",
      "pattern": "^https?://.*\\{stock_id\\}",
      "description": "Vehicle page URL; {stock_id} is replaced by the percent-encoded stock id.",
      "examples": ["https://dealer.example/cars/{stock_id}"]
    },
    "google_product_category": {
      "type": "string",
      "minLength": 1,
      "default": "916",
      "description": "Google product category id (916: Cars, Trucks & Vans)."
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
        let code = &self.store_code;
        if code.trim().is_empty() {
            return Err("store_code must not be empty".into());
        }
        if code.chars().count() > MAX_STORE_CODE_CHARS {
            return Err(format!(
                "store_code is longer than {MAX_STORE_CODE_CHARS} characters"
            ));
        }
        if code.contains([':', '\t', '\r', '\n']) {
            return Err("store_code must not contain `:`, tabs or line breaks".into());
        }
        let t = &self.link_template;
        if !(t.starts_with("https://") || t.starts_with("http://")) {
            return Err("link_template must be an http(s) URL".into());
        }
        if !t.contains("{stock_id}") {
            return Err("link_template must contain {stock_id}".into());
        }
        if self.google_product_category.trim().is_empty() {
            return Err("google_product_category must not be empty".into());
        }
        Ok(())
    }

    /// The vehicle page URL for `stock_id`.
    pub fn link(&self, stock_id: &str) -> String {
        self.link_template
            .replace("{stock_id}", &percent_encode(stock_id))
    }
}

/// One item of the feed, attribute names as Google spells them.
///
/// This is the listing body (as JSON, in this field order) and what
/// [`render_tsv`] / [`render_xml`] read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub title: String,
    pub description: String,
    pub link: String,
    pub image_link: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_image_link: Vec<String>,
    pub condition: String,
    pub price: String,
    /// Text form `option:store_code`, e.g. `in_store:1111`.
    pub vehicle_fulfillment: String,
    pub brand: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
    pub mileage: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_style: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_first_registered: Option<String>,
    pub google_product_category: String,
}

/// The columns of the TSV feed, in order.
pub const COLUMNS: [&str; 20] = [
    "id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_link",
    "condition",
    "price",
    "vehicle_fulfillment",
    "brand",
    "model",
    "trim",
    "year",
    "mileage",
    "color",
    "engine",
    "body_style",
    "vin",
    "date_first_registered",
    "google_product_category",
];

impl Item {
    /// The attributes in [`COLUMNS`] order, each as a list of values
    /// (empty when absent, several when repeated), borrowed: rendering a
    /// feed allocates nothing per attribute.
    fn attributes(&self) -> [(&'static str, &[String]); 20] {
        fn one(s: &String) -> &[String] {
            std::slice::from_ref(s)
        }
        fn opt(s: &Option<String>) -> &[String] {
            s.as_slice()
        }
        [
            ("id", one(&self.id)),
            ("title", one(&self.title)),
            ("description", one(&self.description)),
            ("link", one(&self.link)),
            ("image_link", one(&self.image_link)),
            ("additional_image_link", &self.additional_image_link),
            ("condition", one(&self.condition)),
            ("price", one(&self.price)),
            ("vehicle_fulfillment", one(&self.vehicle_fulfillment)),
            ("brand", one(&self.brand)),
            ("model", one(&self.model)),
            ("trim", opt(&self.trim)),
            ("year", opt(&self.year)),
            ("mileage", one(&self.mileage)),
            ("color", opt(&self.color)),
            ("engine", opt(&self.engine)),
            ("body_style", opt(&self.body_style)),
            ("vin", opt(&self.vin)),
            ("date_first_registered", opt(&self.date_first_registered)),
            (
                "google_product_category",
                one(&self.google_product_category),
            ),
        ]
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

/// Render one vehicle as a Google vehicle ads item, or say what stops it.
///
/// The listing body is the item as JSON. Every blocking problem is reported
/// at once (not just the first), each naming the contract field at fault.
pub fn transform_vehicle(
    config: &Config,
    v: &Vehicle,
) -> Result<Transformed, Vec<ValidationIssue>> {
    let mut issues = Issues::default();

    match v.status {
        StockStatus::Sold => issues.error("status", "sold vehicles are omitted from the feed"),
        StockStatus::Withdrawn => {
            issues.error("status", "withdrawn vehicles are omitted from the feed")
        }
        StockStatus::DueIn => issues.warning(
            "status",
            "Google treats every item as in stock: the vehicle page must say when a due-in \
             vehicle arrives, or the account risks an availability mismatch",
        ),
        StockStatus::InStock | StockStatus::Reserved => {}
    }

    check_scope(v, &mut issues);

    let id = v.stock_id.trim().to_string();
    if id.is_empty() {
        issues.error("stock-id", "a stock id is required: it is the item id");
    } else if id.chars().count() > MAX_ID_CHARS {
        issues.error(
            "stock-id",
            format!("Google item ids are at most {MAX_ID_CHARS} characters"),
        );
    }

    let brand = required_text(&v.make, "make", &mut issues);
    let model = required_text(&v.model, "model", &mut issues);
    let price = price(v.price.as_ref(), v.vat, &mut issues);
    let mileage = mileage(v, &mut issues);
    let images = images(&v.images, &mut issues);

    let year = v
        .model_year
        .or(v.first_registration.as_ref().map(|d| d.year))
        .filter(|y| *y > 0);
    if year.is_none() {
        issues.warning(
            "model-year",
            "no model year or first registration: the item has no year",
        );
    }

    let title = title(v, year, &mut issues);
    let description = description(v, &title, &mut issues);
    let vin = vin(v.vin.as_deref(), &mut issues);

    if !issues.errors.is_empty() {
        return Err(issues.errors);
    }
    let (Some(brand), Some(model), Some(price), Some(mileage), Some((image_link, additional))) =
        (brand, model, price, mileage, images)
    else {
        unreachable!("a missing required attribute is always reported as an error");
    };

    let item = Item {
        link: config.link(&id),
        id,
        title,
        description,
        image_link,
        additional_image_link: additional,
        condition: match v.condition {
            Condition::New => "new",
            Condition::Used => "used",
        }
        .to_string(),
        price,
        vehicle_fulfillment: format!("in_store:{}", config.store_code),
        brand,
        model,
        trim: clean(&v.trim),
        year: year.map(|y| y.to_string()),
        mileage,
        color: clean(&v.colour),
        engine: v.fuel_type.as_ref().map(|f| engine(f).to_string()),
        body_style: v
            .body_style
            .as_ref()
            .and_then(body_style)
            .map(str::to_string),
        vin,
        date_first_registered: v
            .first_registration
            .as_ref()
            .map(|d| format!("{:04}-{:02}", d.year, d.month)),
        google_product_category: config.google_product_category.clone(),
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

/// Vehicle ads take non-commercial passenger cars and pickups only.
fn check_scope(v: &Vehicle, issues: &mut Issues) {
    let pickup = matches!(v.body_style, Some(BodyStyle::Pickup));
    let what = match &v.vehicle_type {
        VehicleType::Car => return,
        VehicleType::Van if pickup => return,
        VehicleType::Van => "vans",
        VehicleType::Motorcycle => "motorcycles",
        VehicleType::Motorhome => "motorhomes",
        VehicleType::Truck => "trucks",
        VehicleType::Other(other) => {
            return issues.error(
                "vehicle-type",
                format!("Google vehicle ads accept passenger cars and pickups only, not `{other}`"),
            )
        }
    };
    issues.error(
        "vehicle-type",
        format!("Google vehicle ads accept passenger cars and pickups only, not {what}"),
    );
}

fn required_text(s: &Option<String>, field: &str, issues: &mut Issues) -> Option<String> {
    let value = clean(s);
    if value.is_none() {
        issues.error(field, format!("a {field} is required"));
    }
    value
}

/// `12995 GBP` or `12995.50 GBP`; ex-VAT prices have UK VAT added.
fn price(money: Option<&Money>, vat: VatStatus, issues: &mut Issues) -> Option<String> {
    let Some(money) = money else {
        issues.error("price", "a price is required");
        return None;
    };
    if money.amount_minor <= 0 {
        issues.error("price", "the price must be greater than zero");
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
    if currency != "GBP" {
        issues.warning(
            "price",
            format!("a UK feed is expected in GBP, this price is in {currency}"),
        );
    }
    let mut amount = money.amount_minor;
    if vat == VatStatus::PlusVat {
        // Google requires VAT-inclusive prices in the UK. Round half up.
        let gross = amount
            .checked_mul(100 + UK_VAT_PERCENT)
            .map(|x| (x + 50) / 100);
        let Some(gross) = gross else {
            issues.error("price", "the price is too large");
            return None;
        };
        issues.warning(
            "vat",
            format!(
                "the price is ex-VAT; Google requires VAT-inclusive prices in the UK, so the \
                 feed shows {} ({} plus {UK_VAT_PERCENT}% VAT)",
                format_money(gross, &currency),
                format_money(amount, &currency),
            ),
        );
        amount = gross;
    }
    Some(format_money(amount, &currency))
}

/// A positive amount of minor units as Google writes it.
pub fn format_money(amount_minor: i64, currency: &str) -> String {
    let (units, minor) = (amount_minor / 100, amount_minor % 100);
    if minor == 0 {
        format!("{units} {currency}")
    } else {
        format!("{units}.{minor:02} {currency}")
    }
}

/// `24000 miles` / `121000 km`, unit as given; new vehicles default to 0.
fn mileage(v: &Vehicle, issues: &mut Issues) -> Option<String> {
    match (&v.mileage, v.condition) {
        (Some(m), _) => {
            let unit = match m.unit {
                MileageUnit::Miles => "miles",
                MileageUnit::Kilometres => "km",
            };
            Some(format!("{} {unit}", m.value))
        }
        (None, Condition::New) => Some("0 miles".to_string()),
        (None, Condition::Used) => {
            issues.error("mileage", "a used vehicle needs its mileage");
            None
        }
    }
}

fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.contains(char::is_whitespace)
}

/// Image size class: `None` when the dimensions are unknown.
fn too_small(img: &Image) -> Option<bool> {
    Some(img.width? < MIN_IMAGE_SIDE || img.height? < MIN_IMAGE_SIDE)
}

fn below_recommended(img: &Image) -> bool {
    let (w, h) = RECOMMENDED_IMAGE;
    matches!((img.width, img.height), (Some(iw), Some(ih)) if iw < w || ih < h)
}

/// The main image and up to ten more, in the dealer's order.
///
/// The first image is the `image_link`: if it is unusable the vehicle is
/// blocked (Google disapproves the item). Unusable later images are left out
/// with a warning (Google would ignore them).
fn images(images: &[Image], issues: &mut Issues) -> Option<(String, Vec<String>)> {
    let Some(main) = images.first() else {
        issues.error("images", "Google requires at least one image (image_link)");
        return None;
    };
    let mut ok = true;
    if !is_web_url(main.url.trim()) {
        issues.error(
            "images",
            format!("the first image's URL `{}` is not an http(s) URL", main.url),
        );
        ok = false;
    }
    if too_small(main) == Some(true) {
        issues.error(
            "images",
            format!(
                "the first image is {}×{} px; Google requires at least {MIN_IMAGE_SIDE}×{MIN_IMAGE_SIDE}",
                main.width.unwrap_or(0),
                main.height.unwrap_or(0)
            ),
        );
        ok = false;
    }

    let mut additional = Vec::new();
    let mut skipped_bad = 0usize;
    let mut small = usize::from(below_recommended(main));
    let mut used = 1usize;
    for img in &images[1..] {
        if additional.len() == MAX_ADDITIONAL_IMAGES {
            break;
        }
        used += 1;
        if !is_web_url(img.url.trim()) || too_small(img) == Some(true) {
            skipped_bad += 1;
            continue;
        }
        small += usize::from(below_recommended(img));
        additional.push(img.url.trim().to_string());
    }
    if skipped_bad > 0 {
        issues.warning(
            "images",
            format!(
                "{skipped_bad} image(s) left out: not an http(s) URL or smaller than \
                 {MIN_IMAGE_SIDE}×{MIN_IMAGE_SIDE} px"
            ),
        );
    }
    let beyond = images.len() - used;
    if beyond > 0 {
        issues.warning(
            "images",
            format!("Google shows at most {MAX_IMAGES} images; the last {beyond} were left out"),
        );
    }
    if small > 0 {
        let (w, h) = RECOMMENDED_IMAGE;
        issues.warning(
            "images",
            format!("{small} image(s) smaller than the recommended {w}×{h} px"),
        );
    }
    ok.then(|| (main.url.trim().to_string(), additional))
}

/// `2019 Volkswagen Golf 1.5 TSI EVO SE 5dr`: year, make, model, derivative
/// (or trim), at most 150 characters.
fn title(v: &Vehicle, year: Option<u16>, issues: &mut Issues) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(y) = year {
        parts.push(y.to_string());
    }
    parts.extend(clean(&v.make));
    parts.extend(clean(&v.model));
    parts.extend(clean(&v.variant).or_else(|| clean(&v.trim)));
    let title = single_line(&parts.join(" "));
    if title.chars().count() > MAX_TITLE_CHARS {
        issues.warning(
            "variant",
            format!("the title is longer than {MAX_TITLE_CHARS} characters and was cut"),
        );
        return cut(&title, MAX_TITLE_CHARS);
    }
    title
}

/// The dealer's description, cut to 5000 characters; without one, a
/// description is built from the title and the features.
fn description(v: &Vehicle, title: &str, issues: &mut Issues) -> String {
    let Some(text) = clean_text(&v.description) else {
        issues.warning(
            "description",
            "no description: Google requires one, so the feed uses the title and features",
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
            "the description contains HTML markup, which Google shows as plain text",
        );
    }
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        issues.warning(
            "description",
            format!(
                "the description is longer than {MAX_DESCRIPTION_CHARS} characters and was cut"
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

/// VINs are optional in the UK: sent only when present and 17 characters.
fn vin(vin: Option<&str>, issues: &mut Issues) -> Option<String> {
    let vin: String = vin?.chars().filter(|c| !c.is_whitespace()).collect();
    if vin.is_empty() {
        return None;
    }
    let vin = vin.to_ascii_uppercase();
    let valid = vin.len() == 17
        && vin
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'I' | b'O' | b'Q'));
    if !valid {
        issues.warning(
            "vin",
            "the VIN is not 17 characters of A–Z (no I, O, Q) and 0–9: left out of the feed",
        );
        return None;
    }
    Some(vin)
}

/// The contract's fuel type as Google's `engine` value.
pub fn engine(fuel: &FuelType) -> &'static str {
    match fuel {
        FuelType::Petrol => "gasoline",
        FuelType::Diesel => "diesel",
        FuelType::Electric => "electric",
        FuelType::Hybrid | FuelType::MildHybrid => "hybrid",
        FuelType::PlugInHybrid => "plug-in_hybrid",
        FuelType::Lpg => "lpg",
        FuelType::Hydrogen => "other",
        FuelType::Other(other) => {
            let other = other.to_ascii_lowercase();
            if other.contains("cng") || other.contains("natural gas") {
                "natural_gas"
            } else if other.contains("methane") || other.contains("biogas") {
                "methane"
            } else {
                "other"
            }
        }
    }
}

/// Google's `body_style` values this plugin may emit.
const GOOGLE_BODY_STYLES: [&str; 15] = [
    "city_car",
    "compact_suv",
    "convertible",
    "coupe",
    "crossover",
    "full_size_van",
    "hatchback",
    "limousine",
    "minivan",
    "notchback",
    "sedan",
    "station_wagon",
    "suv",
    "truck",
    "ute",
];

/// The contract's body style as Google's `body_style`, if there is one.
pub fn body_style(style: &BodyStyle) -> Option<&'static str> {
    Some(match style {
        BodyStyle::Hatchback => "hatchback",
        BodyStyle::Saloon => "sedan",
        BodyStyle::Estate => "station_wagon",
        BodyStyle::Suv => "suv",
        BodyStyle::Coupe => "coupe",
        BodyStyle::Convertible => "convertible",
        BodyStyle::Mpv => "minivan",
        BodyStyle::Pickup => "truck",
        BodyStyle::PanelVan | BodyStyle::Minibus => "full_size_van",
        BodyStyle::Other(other) => {
            let key = other.trim().to_ascii_lowercase().replace([' ', '-'], "_");
            return GOOGLE_BODY_STYLES.iter().copied().find(|s| *s == key);
        }
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

/// Parse the listings' bodies back into items.
pub fn items(listings: &[Listing]) -> Result<Vec<Item>, String> {
    listings
        .iter()
        .map(|l| {
            serde_json::from_str(&l.body).map_err(|e| {
                format!(
                    "the listing of stock id `{}` is not a Google vehicle ads item: {e}",
                    l.stock_id
                )
            })
        })
        .collect()
}

/// A TSV feed: a header row of attribute names, one row per item.
///
/// Tabs, line breaks and other control characters in values become spaces;
/// repeated attributes (`additional_image_link`) are comma-separated, with
/// commas inside URLs percent-encoded.
pub fn render_tsv(items: &[Item]) -> String {
    // The whole feed is re-rendered on every change: it is written straight
    // into one buffer, sized for every value plus a separator. Values never
    // grow when made single-line; only encoded commas do (rare in URLs).
    let row_len = |item: &Item| -> usize {
        let attributes = item.attributes();
        let values: usize = attributes
            .iter()
            .flat_map(|(_, values)| values.iter())
            .map(|v| v.len() + 1)
            .sum();
        values + attributes.len()
    };
    let mut out = String::with_capacity(
        COLUMNS.iter().map(|c| c.len() + 1).sum::<usize>()
            + items.iter().map(row_len).sum::<usize>(),
    );
    for (i, column) in COLUMNS.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        out.push_str(column);
    }
    out.push('\n');
    for item in items {
        for (i, (_, values)) in item.attributes().into_iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            match values {
                [value] => push_single_line(&mut out, value),
                values => {
                    for (j, value) in values.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        // Commas are ASCII, never part of a control
                        // character: encoding them piece by piece is the
                        // same as after making the value single-line.
                        for (k, piece) in value.split(',').enumerate() {
                            if k > 0 {
                                out.push_str("%2C");
                            }
                            push_single_line(&mut out, piece);
                        }
                    }
                }
            }
        }
        out.push('\n');
    }
    out
}

/// An RSS 2.0 feed with `g:` elements, one `<item>` per item.
pub fn render_xml(config: &Config, items: &[Item]) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<rss version=\"2.0\" xmlns:g=\"{GOOGLE_NS}\">");
    out.push_str("  <channel>\n");
    let _ = writeln!(
        out,
        "    <title>Vehicle ads: {}</title>",
        xml_escape(&config.store_code)
    );
    let _ = writeln!(out, "    <link>{}</link>", xml_escape(&site(config)));
    out.push_str("    <description>Vehicles in stock, by forecourt</description>\n");
    for item in items {
        out.push_str("    <item>\n");
        for (name, values) in item.attributes() {
            for value in values {
                if name == "vehicle_fulfillment" {
                    let (option, store) = value.split_once(':').unwrap_or((value.as_str(), ""));
                    out.push_str("      <g:vehicle_fulfillment>\n        <g:option>");
                    push_xml_escaped(&mut out, option);
                    out.push_str("</g:option>\n        <g:store_code>");
                    push_xml_escaped(&mut out, store);
                    out.push_str("</g:store_code>\n      </g:vehicle_fulfillment>\n");
                } else {
                    out.push_str("      <g:");
                    out.push_str(name);
                    out.push('>');
                    push_xml_escaped(&mut out, value);
                    out.push_str("</g:");
                    out.push_str(name);
                    out.push_str(">\n");
                }
            }
        }
        out.push_str("    </item>\n");
    }
    out.push_str("  </channel>\n</rss>\n");
    out
}

/// The dealer site's root, from the link template.
fn site(config: &Config) -> String {
    let t = &config.link_template;
    let after_scheme = t.find("://").map_or(0, |i| i + 3);
    let end = t[after_scheme..]
        .find('/')
        .map_or(t.len(), |i| after_scheme + i);
    format!("{}/", &t[..end])
}

/// Escape text for XML 1.0 content, dropping characters XML cannot carry.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_xml_escaped(&mut out, s);
    out
}

/// Append `s` to `out` escaped as [`xml_escape`] does; the text between
/// characters that need it is copied in runs.
fn push_xml_escaped(out: &mut String, s: &str) {
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let replacement = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&apos;",
            '\r' => "&#13;",
            '\t' | '\n' => continue,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        out.push_str(replacement);
        run = i + c.len_utf8();
    }
    out.push_str(&s[run..]);
}

/// The whole feed for these listings, in the configured format.
pub fn render(config: &Config, listings: &[Listing]) -> Result<(Format, String), String> {
    let items = items(listings)?;
    Ok(match config.format {
        Format::Tsv => (Format::Tsv, render_tsv(&items)),
        Format::Xml => (Format::Xml, render_xml(config, &items)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_money() {
        assert_eq!(format_money(1_299_500, "GBP"), "12995 GBP");
        assert_eq!(format_money(1_299_550, "GBP"), "12995.50 GBP");
        assert_eq!(format_money(1_299_505, "GBP"), "12995.05 GBP");
        assert_eq!(format_money(99, "GBP"), "0.99 GBP");
    }

    #[test]
    fn adds_vat_rounding_half_up() {
        let mut issues = Issues::default();
        let m = Money {
            amount_minor: 1_000_001,
            currency: "GBP".into(),
        };
        // 10000.01 * 1.2 = 12000.012 -> 12000.01
        assert_eq!(
            price(Some(&m), VatStatus::PlusVat, &mut issues).as_deref(),
            Some("12000.01 GBP")
        );
        assert_eq!(issues.warnings.len(), 1);
    }

    #[test]
    fn encodes_links() {
        let c = Config::parse(
            r#"{"store_code":"S1","link_template":"https://d.example/cars/{stock_id}"}"#,
        )
        .unwrap();
        assert_eq!(c.link("AB 12/é"), "https://d.example/cars/AB%2012%2F%C3%A9");
        assert_eq!(c.format, Format::Tsv);
        assert_eq!(c.google_product_category, "916");
        assert_eq!(site(&c), "https://d.example/");
    }

    #[test]
    fn rejects_bad_config() {
        for bad in [
            r#"{"store_code":"","link_template":"https://d.example/{stock_id}"}"#,
            r#"{"store_code":"a:b","link_template":"https://d.example/{stock_id}"}"#,
            r#"{"store_code":"S","link_template":"https://d.example/cars"}"#,
            r#"{"store_code":"S","link_template":"ftp://d.example/{stock_id}"}"#,
            r#"{"store_code":"S","link_template":"https://d.example/{stock_id}","extra":1}"#,
            r#"{"store_code":"S","link_template":"https://d.example/{stock_id}","format":"csv"}"#,
        ] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn schema_is_json() {
        let v: serde_json::Value = serde_json::from_str(CONFIG_SCHEMA).unwrap();
        assert_eq!(v["required"][0], "store_code");
    }

    /// `render_tsv` as it was first written, value by value: the
    /// single-buffer version must give the same bytes.
    fn render_tsv_by_values(items: &[Item]) -> String {
        let mut out = COLUMNS.join("\t");
        out.push('\n');
        for item in items {
            let row: Vec<String> = item
                .attributes()
                .iter()
                .map(|(_, values)| {
                    let values: Vec<String> = values.iter().map(|v| single_line(v)).collect();
                    match values.len() {
                        0 => String::new(),
                        1 => values.into_iter().next().unwrap_or_default(),
                        _ => values
                            .iter()
                            .map(|v| v.replace(',', "%2C"))
                            .collect::<Vec<_>>()
                            .join(","),
                    }
                })
                .collect();
            out.push_str(&row.join("\t"));
            out.push('\n');
        }
        out
    }

    fn awkward_items() -> Vec<Item> {
        let plain = Item {
            id: "AB1".into(),
            title: "2019 Ford Fiesta".into(),
            description: "Lovely car.\nOne owner,\tFSH\r\n£9,995\u{85}Zoë\u{7f}".into(),
            link: "https://d.example/cars/AB1".into(),
            image_link: "https://img.example/a,1.jpg".into(),
            additional_image_link: vec![],
            condition: "used".into(),
            price: "9995 GBP".into(),
            vehicle_fulfillment: "in_store:S1".into(),
            brand: "Ford".into(),
            model: "Fiesta".into(),
            trim: None,
            year: Some("2019".into()),
            mileage: "12000 miles".into(),
            color: Some("Red\u{9f}".into()),
            engine: None,
            body_style: None,
            vin: None,
            date_first_registered: None,
            google_product_category: "916".into(),
        };
        let one_extra = Item {
            additional_image_link: vec!["https://img.example/b,\n2.jpg".into()],
            trim: Some(String::new()),
            ..plain.clone()
        };
        let many = Item {
            additional_image_link: vec![
                "https://img.example/c,1,.jpg".into(),
                ",".into(),
                String::new(),
                "https://img.example/\td\u{80}.jpg".into(),
            ],
            engine: Some("gasoline".into()),
            ..plain.clone()
        };
        vec![plain, one_extra, many]
    }

    #[test]
    fn tsv_is_the_same_as_rendered_value_by_value() {
        let items = awkward_items();
        assert_eq!(render_tsv(&items), render_tsv_by_values(&items));
        assert_eq!(render_tsv(&[]), render_tsv_by_values(&[]));
        let rows = render_tsv(&items);
        assert!(
            rows.contains("\thttps://img.example/c%2C1%2C.jpg,%2C,,https://img.example/ d .jpg\t")
        );
        assert!(rows.contains("\thttps://img.example/b, 2.jpg\t"));
    }

    #[test]
    fn xml_escaping_in_place_is_the_same() {
        fn by_chars(s: &str) -> String {
            let mut out = String::new();
            for c in s.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' => out.push_str("&quot;"),
                    '\'' => out.push_str("&apos;"),
                    '\t' | '\n' => out.push(c),
                    '\r' => out.push_str("&#13;"),
                    c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
                    c => out.push(c),
                }
            }
            out
        }
        for s in [
            "",
            "plain",
            "<a>&\"'</a>",
            "a\r\nb\tc\u{1}d\u{7f}\u{85}£\u{FFFE}\u{FFFF}\u{FFFD}日&",
            "&&&",
            "\u{0}\u{0}x",
        ] {
            assert_eq!(xml_escape(s), by_chars(s), "{s:?}");
        }
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(
            xml_escape("<a href=\"x\">Tom & Jerry's</a>\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;"
        );
    }

    #[test]
    fn cuts_at_a_word_boundary() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("one two three four", 12), "one two…");
        let long = "word ".repeat(2000);
        let c = cut(&long, MAX_DESCRIPTION_CHARS);
        assert!(c.chars().count() <= MAX_DESCRIPTION_CHARS);
        assert!(c.ends_with("word…"), "{}", &c[c.len() - 20..]);
        let unbroken = "x".repeat(300);
        assert_eq!(cut(&unbroken, 100).chars().count(), 100);
    }

    #[test]
    fn cleans_text() {
        assert_eq!(
            clean_text(&Some(" a\r\nb\rc\u{1}d\te ".into())).as_deref(),
            Some("a\nb\ncd\te")
        );
        assert_eq!(clean(&Some("a\tb\nc".into())).as_deref(), Some("a b c"));
        assert_eq!(clean(&Some(" \t ".into())), None);
    }

    #[test]
    fn detects_html() {
        assert!(looks_like_html("Great <b>car</b>"));
        assert!(looks_like_html("<p>x"));
        assert!(!looks_like_html("0 < 1 and 2 > 1"));
        assert!(!looks_like_html("price < £10k"));
    }
}
