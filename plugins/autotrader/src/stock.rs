//! Vehicle → Auto Trader stock item: the body a create sends, and the
//! listing body the host hashes and hands back as `previous`.
//!
//! Pure: no host calls, so it builds and is tested natively. The body is a
//! `serde_json::Value` whose objects keep their keys sorted, so the same
//! vehicle always gives byte-for-byte the same body.

use forecourt_sdk::{
    BodyStyle, Condition, Date, Drivetrain, FuelType, Listing, MileageUnit, Money, ServiceHistory,
    StockStatus, Transformed, Transmission, ValidationIssue, VatStatus, Vehicle, VehicleType,
};
use serde_json::{json, Map, Value};

use crate::config::{Config, LOCATIONS};

/// Most images an advert may carry (Auto Trader trade terms).
pub const MAX_IMAGES: usize = 100;
/// The photo count Auto Trader's guidance considers complete.
pub const IDEAL_IMAGES: usize = 20;
/// Longest description Auto Trader takes.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Longest attention grabber (the strap line under the advert title).
pub const MAX_ATTENTION_GRABBER_CHARS: usize = 30;
/// A vehicle attribute that sets the attention grabber explicitly.
pub const ATTENTION_GRABBER_ATTRIBUTE: &str = "autotrader:attentionGrabber";
/// Metres in a mile, times 1000 (exact: 1 mile = 1609.344 m).
const MILLIMETRES_PER_MILE: u64 = 1_609_344;

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

/// Render one vehicle as an Auto Trader stock item, or say what stops it.
///
/// Every blocking problem is reported at once, each naming the contract
/// field at fault (or `autotrader:<path>` for a platform-only rule).
pub fn transform_vehicle(
    config: &Config,
    v: &Vehicle,
) -> Result<Transformed, Vec<ValidationIssue>> {
    let mut issues = Issues::default();

    match v.status {
        StockStatus::Sold => issues.error(
            "status",
            "a sold vehicle is not rendered: it is marked SOLD on Auto Trader by a remove",
        ),
        StockStatus::Withdrawn => issues.error(
            "status",
            "a withdrawn vehicle is not rendered: it is moved to the wastebin by a remove",
        ),
        StockStatus::DueIn | StockStatus::InStock | StockStatus::Reserved => {}
    }
    let stock_id = v.stock_id.trim();
    if stock_id.is_empty() {
        issues.error(
            "stock-id",
            "a stock id is required: it is the externalStockReference",
        );
    }

    let vehicle = vehicle(v, &mut issues);
    let price = whole_pounds(v.price.as_ref(), &mut issues);
    if v.vat == VatStatus::PlusVat && matches!(v.vehicle_type, VehicleType::Car) {
        issues.warning(
            "vat",
            "a car priced plus VAT: Auto Trader shows consumers the price as sent, so check it \
             should not include VAT",
        );
    }
    let features = features(&v.features);
    let attention_grabber = attention_grabber(v, &features, &mut issues);
    let description = description(v.description.as_deref(), &mut issues);
    let images = images(v, &mut issues);

    if !issues.errors.is_empty() {
        return Err(issues.errors);
    }
    let Some(price) = price else {
        unreachable!("a missing price is always reported as an error");
    };

    let mut retail = Map::new();
    retail.insert("suppliedPrice".into(), json!({ "amountGBP": price }));
    retail.insert("forecourtPrice".into(), json!({ "amountGBP": price }));
    retail.insert("vatStatus".into(), json!(vat_status(v.vat)));
    if let Some(grabber) = attention_grabber {
        retail.insert("attentionGrabber".into(), json!(grabber));
    }
    if let Some(description) = description {
        retail.insert("description".into(), json!(description));
    }
    // Every location is sent, published or not, so a location dropped from
    // `publish_to` is unpublished by the next update's diff.
    for location in LOCATIONS {
        let status = if config.publishes_to(location) {
            "PUBLISHED"
        } else {
            "NOT_PUBLISHED"
        };
        retail.insert(location.into(), json!({ "status": status }));
    }
    let reservation = match v.status {
        StockStatus::Reserved => json!("Reserved"),
        _ => Value::Null,
    };
    let lifecycle = match v.status {
        StockStatus::DueIn => "DUE_IN",
        _ => "FORECOURT",
    };

    // The parts are moved in: `json!` would copy each one (it serialises
    // every value it is given into a new `Value`).
    let item = object([
        ("vehicle", Value::Object(vehicle)),
        (
            "adverts",
            object([
                ("retailAdverts", Value::Object(retail)),
                ("reservationStatus", reservation),
            ]),
        ),
        (
            "metadata",
            object([
                ("lifecycleState", lifecycle.into()),
                ("externalStockReference", stock_id.into()),
            ]),
        ),
        (
            "features",
            features
                .into_iter()
                .map(|f| object([("name", f.into())]))
                .collect(),
        ),
        (
            "media",
            object([(
                "images",
                images
                    .into_iter()
                    .map(|u| object([("href", u.into())]))
                    .collect(),
            )]),
        ),
    ]);
    Ok(Transformed {
        listing: Listing {
            stock_id: v.stock_id.clone(),
            body: item.to_string(),
        },
        warnings: issues.warnings,
    })
}

/// A JSON object of these members.
fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect(),
    )
}

/// The `vehicle` object.
fn vehicle(v: &Vehicle, issues: &mut Issues) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            out.insert(key.to_string(), value);
        }
    };

    let vehicle_type = vehicle_type(&v.vehicle_type);
    if vehicle_type.is_none() {
        issues.error("vehicle-type", "a vehicle type is required");
    }
    put("vehicleType", vehicle_type.map(Value::from));

    let registration = v
        .registration
        .as_deref()
        .map(|r| r.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .map(|r| r.to_uppercase())
        .filter(|r| !r.is_empty());
    match &registration {
        None if v.condition == Condition::Used && is_road_vehicle(&v.vehicle_type) => issues.error(
            "registration",
            "a used vehicle needs its registration: Auto Trader identifies it by the plate",
        ),
        Some(r)
            if !(2..=7).contains(&r.chars().count())
                || !r.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            issues.warning(
                "registration",
                format!("`{r}` does not look like a UK registration mark"),
            )
        }
        _ => {}
    }
    put("registration", registration.map(Value::from));
    put(
        "vin",
        v.vin
            .as_deref()
            .map(|s| s.chars().filter(|c| !c.is_whitespace()).collect::<String>())
            .map(|s| s.to_uppercase())
            .filter(|s| !s.is_empty())
            .map(Value::from),
    );

    let make = single_line(v.make.as_deref());
    if make.is_none() {
        issues.error("make", "a make is required");
    }
    put("make", make.map(Value::from));
    let model = single_line(v.model.as_deref());
    if model.is_none() {
        issues.error("model", "a model is required");
    }
    put("model", model.map(Value::from));
    let derivative = single_line(v.variant.as_deref());
    if derivative.is_none() {
        issues.warning(
            "variant",
            "no variant: Auto Trader matches the derivative (engine, trim, doors) from it",
        );
    }
    put("derivative", derivative.map(Value::from));
    put("trim", single_line(v.trim.as_deref()).map(Value::from));
    put(
        "bodyType",
        v.body_style.as_ref().and_then(body_type).map(Value::from),
    );
    put(
        "fuelType",
        v.fuel_type
            .as_ref()
            .and_then(|f| fuel_type(f, v, issues))
            .map(Value::from),
    );
    put(
        "transmissionType",
        v.transmission
            .as_ref()
            .map(|t| transmission(t, issues))
            .map(Value::from),
    );
    put(
        "drivetrain",
        v.drivetrain.as_ref().and_then(drivetrain).map(Value::from),
    );
    put("doors", v.doors.map(Value::from));
    put("seats", v.seats.map(Value::from));
    let electric = matches!(v.fuel_type, Some(FuelType::Electric));
    put(
        "engineCapacityCC",
        v.engine_size_cc
            .filter(|cc| *cc > 0 && !electric)
            .map(Value::from),
    );
    put("enginePowerBHP", v.power_bhp.map(Value::from));
    put("co2EmissionGPKM", v.co2_g_per_km.map(Value::from));
    put(
        "emissionClass",
        single_line(v.emissions_standard.as_deref()).map(Value::from),
    );
    put("colour", single_line(v.colour.as_deref()).map(Value::from));
    put(
        "firstRegistrationDate",
        date(v.first_registration.as_ref(), "first-registration", issues).map(Value::from),
    );
    put(
        "yearOfManufacture",
        v.model_year.filter(|y| *y > 0).map(Value::from),
    );
    put("odometerReadingMiles", miles(v, issues).map(Value::from));
    put(
        "ownershipCondition",
        Some(Value::from(match v.condition {
            Condition::New => "New",
            Condition::Used => "Used",
        })),
    );
    put(
        "serviceHistory",
        v.service_history
            .as_ref()
            .and_then(service_history)
            .map(Value::from),
    );
    put("previousOwners", v.previous_owners.map(Value::from));
    put(
        "motExpiryDate",
        date(v.mot_expiry.as_ref(), "mot-expiry", issues).map(Value::from),
    );
    out
}

/// Auto Trader's vehicle type (taxonomy display string).
fn vehicle_type(t: &VehicleType) -> Option<String> {
    match t {
        VehicleType::Car => Some("Car".into()),
        VehicleType::Van => Some("Van".into()),
        VehicleType::Motorcycle => Some("Bike".into()),
        VehicleType::Motorhome => Some("Motorhome".into()),
        VehicleType::Truck => Some("Truck".into()),
        VehicleType::Other(s) => single_line(Some(s)),
    }
}

/// Vehicles that carry a registration mark once used.
fn is_road_vehicle(t: &VehicleType) -> bool {
    !matches!(t, VehicleType::Other(_))
}

fn body_type(style: &BodyStyle) -> Option<String> {
    Some(
        match style {
            BodyStyle::Hatchback => "Hatchback",
            BodyStyle::Saloon => "Saloon",
            BodyStyle::Estate => "Estate",
            BodyStyle::Suv => "SUV",
            BodyStyle::Coupe => "Coupe",
            BodyStyle::Convertible => "Convertible",
            BodyStyle::Mpv => "MPV",
            BodyStyle::Pickup => "Pickup",
            BodyStyle::PanelVan => "Panel Van",
            BodyStyle::Minibus => "Minibus",
            BodyStyle::Other(s) => return single_line(Some(s)),
        }
        .to_string(),
    )
}

/// Auto Trader's fuel type. The contract's hybrids do not say what the
/// combustion engine burns: a variant that says "diesel" makes a diesel
/// hybrid, anything else a petrol one (the common case), with a warning when
/// that is a guess.
fn fuel_type(fuel: &FuelType, v: &Vehicle, issues: &mut Issues) -> Option<String> {
    let hybrid = |plug_in: bool, issues: &mut Issues| {
        let variant = v.variant.as_deref().unwrap_or_default().to_lowercase();
        let suffix = if plug_in {
            " Plug-in Hybrid"
        } else {
            " Hybrid"
        };
        let base = if variant.contains("diesel") {
            "Diesel"
        } else {
            if !variant.contains("petrol") {
                issues.warning(
                    "fuel-type",
                    format!(
                        "a hybrid without a petrol or diesel basis: sent as \"Petrol{suffix}\""
                    ),
                );
            }
            "Petrol"
        };
        format!("{base}{suffix}")
    };
    Some(match fuel {
        FuelType::Petrol => "Petrol".into(),
        FuelType::Diesel => "Diesel".into(),
        FuelType::Electric => "Electric".into(),
        FuelType::Hybrid | FuelType::MildHybrid => hybrid(false, issues),
        FuelType::PlugInHybrid => hybrid(true, issues),
        FuelType::Lpg => "Bi Fuel".into(),
        FuelType::Hydrogen => "Hydrogen".into(),
        FuelType::Other(s) => return single_line(Some(s)),
    })
}

/// Auto Trader knows two transmission types; every automated gearbox is
/// `Automatic`.
fn transmission(t: &Transmission, issues: &mut Issues) -> &'static str {
    match t {
        Transmission::Manual => "Manual",
        Transmission::Automatic | Transmission::SemiAutomatic | Transmission::Cvt => "Automatic",
        Transmission::Other(s) => {
            let manual = s.to_lowercase().contains("manual");
            let sent = if manual { "Manual" } else { "Automatic" };
            issues.warning(
                "transmission",
                format!(
                    "transmission `{}` sent as \"{sent}\"",
                    single_line(Some(s)).unwrap_or_default()
                ),
            );
            sent
        }
    }
}

fn drivetrain(d: &Drivetrain) -> Option<String> {
    Some(
        match d {
            Drivetrain::FrontWheelDrive => "Front Wheel Drive",
            Drivetrain::RearWheelDrive => "Rear Wheel Drive",
            Drivetrain::AllWheelDrive | Drivetrain::FourWheelDrive => "Four Wheel Drive",
            Drivetrain::Other(s) => return single_line(Some(s)),
        }
        .to_string(),
    )
}

fn service_history(h: &ServiceHistory) -> Option<String> {
    Some(
        match h {
            ServiceHistory::FullDealer => "Full dealership history",
            ServiceHistory::Full => "Full service history",
            ServiceHistory::Part => "Part service history",
            ServiceHistory::None => "No service history",
            ServiceHistory::Other(s) => return single_line(Some(s)),
        }
        .to_string(),
    )
}

fn vat_status(vat: VatStatus) -> &'static str {
    match vat {
        VatStatus::IncVat => "Inc VAT",
        VatStatus::PlusVat => "Ex VAT",
        VatStatus::NoVat => "No VAT",
    }
}

/// `YYYY-MM-DD`, or a warning and nothing for an impossible date.
fn date(d: Option<&Date>, field: &str, issues: &mut Issues) -> Option<String> {
    let d = d?;
    let days = match d.month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if d.year % 4 == 0 && (d.year % 100 != 0 || d.year % 400 == 0) => 29,
        2 => 28,
        _ => 0,
    };
    if d.year < 1886 || d.day == 0 || d.day > days {
        issues.warning(
            field,
            format!(
                "{:04}-{:02}-{:02} is not a valid date: left out",
                d.year, d.month, d.day
            ),
        );
        return None;
    }
    Some(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
}

/// The odometer in whole miles; kilometres are converted (rounded half up).
fn miles(v: &Vehicle, issues: &mut Issues) -> Option<u64> {
    let Some(m) = &v.mileage else {
        if v.condition == Condition::Used {
            issues.error("mileage", "a used vehicle needs its mileage");
        }
        return None;
    };
    match m.unit {
        MileageUnit::Miles => Some(u64::from(m.value)),
        MileageUnit::Kilometres => {
            let millimetres = u64::from(m.value) * 1_000_000;
            let miles = (2 * millimetres + MILLIMETRES_PER_MILE) / (2 * MILLIMETRES_PER_MILE);
            issues.warning(
                "mileage",
                format!(
                    "the odometer reads {} km: sent as {miles} miles (Auto Trader takes miles)",
                    m.value
                ),
            );
            Some(miles)
        }
    }
}

/// The price in whole pounds (pence rounded half up), or an error.
fn whole_pounds(money: Option<&Money>, issues: &mut Issues) -> Option<i64> {
    let Some(money) = money else {
        issues.error("price", "a price is required");
        return None;
    };
    if !money.currency.trim().eq_ignore_ascii_case("GBP") {
        issues.error(
            "price",
            format!(
                "Auto Trader prices are in GBP, this one is in `{}`",
                money.currency
            ),
        );
        return None;
    }
    if money.amount_minor <= 0 {
        issues.error("price", "the price must be above zero");
        return None;
    }
    let pounds = money.amount_minor / 100 + i64::from(money.amount_minor % 100 >= 50);
    if money.amount_minor % 100 != 0 {
        issues.warning(
            "price",
            format!(
                "£{}.{:02} has pence: Auto Trader takes whole pounds, sent as £{pounds}",
                money.amount_minor / 100,
                money.amount_minor % 100
            ),
        );
    }
    Some(pounds)
}

/// Feature names in the dealer's order, each on one line, empty ones dropped.
fn features(features: &[String]) -> Vec<String> {
    features
        .iter()
        .filter_map(|f| single_line(Some(f)))
        .collect()
}

/// The attention grabber: the `autotrader:attentionGrabber` attribute if
/// given, else as many leading features as fit in 30 characters. Cut at a
/// word (with a warning) when even the first does not fit.
fn attention_grabber(v: &Vehicle, features: &[String], issues: &mut Issues) -> Option<String> {
    let explicit = v
        .attributes
        .iter()
        .find(|a| a.key == ATTENTION_GRABBER_ATTRIBUTE)
        .and_then(|a| single_line(Some(&a.value)));
    let (first, rest) = match &explicit {
        Some(text) => (text.as_str(), &[][..]),
        None => {
            let (first, rest) = features.split_first()?;
            (first.as_str(), rest)
        }
    };
    let field = if explicit.is_some() {
        "autotrader:adverts.retailAdverts.attentionGrabber"
    } else {
        "features"
    };
    if first.chars().count() > MAX_ATTENTION_GRABBER_CHARS {
        let cut = cut_at_word(first, MAX_ATTENTION_GRABBER_CHARS, "");
        issues.warning(
            field,
            format!(
                "the attention grabber is at most {MAX_ATTENTION_GRABBER_CHARS} characters: \
                 `{first}` was cut to `{cut}`"
            ),
        );
        return Some(cut);
    }
    let mut grabber = first.to_string();
    for feature in rest {
        let longer = format!("{grabber}, {feature}");
        if longer.chars().count() > MAX_ATTENTION_GRABBER_CHARS {
            break;
        }
        grabber = longer;
    }
    Some(grabber)
}

/// The description as plain text, at most 4,000 characters.
fn description(text: Option<&str>, issues: &mut Issues) -> Option<String> {
    let Some((text, had_markup)) = text.map(plain_text).filter(|(t, _)| !t.is_empty()) else {
        issues.warning(
            "description",
            "no description: adverts with one perform better",
        );
        return None;
    };
    if had_markup {
        issues.warning(
            "description",
            "HTML markup removed: Auto Trader shows the description as plain text",
        );
    }
    let count = text.chars().count();
    if count > MAX_DESCRIPTION_CHARS {
        issues.warning(
            "description",
            format!(
                "the description has {count} characters, Auto Trader takes \
                 {MAX_DESCRIPTION_CHARS}: it was cut"
            ),
        );
        return Some(cut_at_word(&text, MAX_DESCRIPTION_CHARS, "…"));
    }
    Some(text)
}

/// Image URLs in display order; ones that are not absolute http(s) URLs are
/// dropped with a warning; more than 100 is an error.
fn images(v: &Vehicle, issues: &mut Issues) -> Vec<String> {
    let mut urls = Vec::with_capacity(v.images.len());
    for (i, image) in v.images.iter().enumerate() {
        let url = image.url.trim();
        // Compared in place: no lower-case copy of every URL.
        let scheme = |s: &str| {
            url.as_bytes()
                .get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s.as_bytes()))
        };
        let absolute = (scheme("https://") || scheme("http://"))
            && url.len() > "https://".len()
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if absolute {
            urls.push(url.to_string());
        } else {
            issues.warning(
                "images",
                format!(
                    "image {} (`{}`) is not an absolute http(s) URL: left out",
                    i + 1,
                    url.chars().take(80).collect::<String>()
                ),
            );
        }
    }
    if urls.len() > MAX_IMAGES {
        issues.error(
            "images",
            format!(
                "Auto Trader takes at most {MAX_IMAGES} images per advert, this vehicle has {}",
                urls.len()
            ),
        );
    } else if urls.is_empty() {
        issues.warning(
            "images",
            format!("no images: Auto Trader recommends {IDEAL_IMAGES}"),
        );
    }
    urls
}

/// Text on one line: control characters and runs of white space become
/// one space; `None` when nothing is left.
fn single_line(s: Option<&str>) -> Option<String> {
    let s = s?;
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

/// Plain text from a description that may hold HTML: tags removed (block
/// tags become paragraph breaks, `<br>` a line break, list items `- `), entities decoded, control
/// characters dropped, spaces collapsed, at most one blank line in a row.
/// Also says whether any markup was found.
pub fn plain_text(input: &str) -> (String, bool) {
    let input = input.replace("\r\n", "\n").replace('\r', "\n");
    let mut text = String::with_capacity(input.len());
    let mut had_markup = false;
    let mut rest = input.as_str();
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let starts_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        let end = after.find('>').filter(|end| !after[..*end].contains('<'));
        match (starts_tag, end) {
            (true, Some(end)) => {
                had_markup = true;
                let tag = after[..end]
                    .trim_start_matches('/')
                    .split(|c: char| c.is_whitespace() || c == '/')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let closing = after.starts_with('/');
                match tag.as_str() {
                    "li" if !closing => text.push_str("\n- "),
                    "br" | "tr" => text.push('\n'),
                    "p" | "div" | "ul" | "ol" | "table" | "h1" | "h2" | "h3" | "h4" | "h5"
                    | "h6" => text.push_str("\n\n"),
                    _ => {}
                }
                rest = &after[end + 1..];
            }
            _ => {
                text.push('<');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    let decoded = decode_entities(&text);

    let mut out = String::with_capacity(decoded.len());
    let mut blank_lines = 0;
    for line in decoded.split('\n') {
        let line = single_line(Some(line)).unwrap_or_default();
        if line.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        out.push_str(&line);
    }
    (out, had_markup)
}

/// Decode the HTML entities a DMS description plausibly holds.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => ' ',
                "pound" => '£',
                "euro" => '€',
                _ => {
                    let code = if let Some(hex) =
                        name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok()
                    } else {
                        name.strip_prefix('#').and_then(|d| d.parse().ok())
                    };
                    code.and_then(char::from_u32)?
                }
            };
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// At most `max` characters (`suffix` included), cut after a whole word
/// when there is one, trailing spaces and punctuation trimmed.
fn cut_at_word(s: &str, max: usize, suffix: &str) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let room = max - suffix.chars().count();
    let head: String = s.chars().take(room).collect();
    let next_is_break = s.chars().nth(room).is_none_or(char::is_whitespace);
    let head = if next_is_break {
        head.as_str()
    } else {
        match head.rfind(char::is_whitespace) {
            Some(i) if i > 0 => &head[..i],
            _ => head.as_str(),
        }
    };
    let head =
        head.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-'));
    format!("{head}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_html_but_keeps_angle_brackets_in_text() {
        let (text, markup) = plain_text(
            "<p>Great &amp; &quot;clean&quot;</p><ul><li>One</li><li>Two</li></ul>Price <£15k> &#128663; &#x1F697;",
        );
        assert!(markup);
        assert_eq!(
            text,
            "Great & \"clean\"\n\n- One\n- Two\n\nPrice <£15k> \u{1F697} \u{1F697}"
        );
        let (text, markup) = plain_text("a < b and c > d\r\n\r\n\r\n\tnext\u{1}");
        assert!(!markup);
        assert_eq!(text, "a < b and c > d\n\nnext");
    }

    #[test]
    fn cuts_at_words() {
        assert_eq!(
            cut_at_word("Adaptive cruise control with stop and go", 30, ""),
            "Adaptive cruise control with"
        );
        assert_eq!(
            cut_at_word("Supercalifragilisticexpialidocious!", 10, ""),
            "Supercalif"
        );
        assert_eq!(cut_at_word("short", 10, "…"), "short");
        assert_eq!(cut_at_word("one two three", 9, "…"), "one two…");
    }
}
