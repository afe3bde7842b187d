//! UK normalisation of single values (an export cell, a JSON string) into
//! the contract's types, shared by the DMS source plugins.
//!
//! Every function takes a trimmed, non-empty value and returns the canonical
//! value or, when the cell cannot be read, a short reason (the caller turns
//! it into a row issue and drops the field). Vocabularies (fuel, body,
//! transmission…) compare *words*: the text lower-cased with every run of
//! characters other than letters and digits turned into one space, so
//! `Plug-in Hybrid`, `plug in hybrid` and `PLUG_IN HYBRID` are the same.
//! Amounts are integers throughout: no floating point touches a price.

use crate::{
    BodyStyle, Condition, Date, Drivetrain, FuelType, Mileage, MileageUnit, Money, ServiceHistory,
    StockStatus, Transmission, VatStatus, VehicleType,
};

/// The order of day and month in dates that are not ISO `yyyy-mm-dd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// `dd/mm/yyyy` (UK).
    #[default]
    Dmy,
    /// `mm/dd/yyyy` (US).
    Mdy,
}

/// Lower case, every run of non-alphanumeric characters as one space, trimmed.
pub fn words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// Whether the words `w` (see [`words`]) contain `phrase` as whole words.
fn has(w: &str, phrase: &str) -> bool {
    if w == phrase {
        return true;
    }
    // One word: compare word by word. `str::find` sets up a substring
    // searcher on every call, which cost more than the search itself on
    // these short texts (a profile of a 10,000-row export).
    if !phrase.contains(' ') {
        return w.split(' ').any(|word| word == phrase);
    }
    let mut start = 0;
    while let Some(pos) = w[start..].find(phrase) {
        let at = start + pos;
        let end = at + phrase.len();
        let before_ok = at == 0 || w.as_bytes()[at - 1] == b' ';
        let after_ok = end == w.len() || w.as_bytes()[end] == b' ';
        if before_ok && after_ok {
            return true;
        }
        start = at + 1;
        while !w.is_char_boundary(start) {
            start += 1;
        }
    }
    false
}

fn has_any(w: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| has(w, p))
}

// ---------------------------------------------------------------- numbers --

/// An unsigned integer written with optional thousands separators (`,` or a
/// space, in groups of three): `12995`, `12,995`, `1 250 000`.
pub fn parse_grouped_int(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let groups: Vec<&str> = s.split([',', ' ']).collect();
    if groups.len() > 1 {
        let first = groups[0];
        if first.is_empty() || first.len() > 3 || groups[1..].iter().any(|g| g.len() != 3) {
            return None;
        }
    }
    let mut value: u64 = 0;
    for g in groups {
        for b in g.bytes() {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
    }
    Some(value)
}

/// Split `s` into a leading number (digits, separators, one decimal point)
/// and the unit text after it, both trimmed.
fn number_and_unit(s: &str) -> (&str, &str) {
    let end = s
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == ',' || c == '.' || c == ' '))
        .map_or(s.len(), |(i, _)| i);
    (s[..end].trim(), s[end..].trim())
}

/// A decimal number as an integer count of `10^-scale` units, rounding half
/// up beyond `scale` decimals when `round` is true (else more decimals are an
/// error): `("1.5", 3)` is 1500.
fn parse_fixed(s: &str, scale: u32, round: bool) -> Option<u64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = if int.is_empty() && !frac.is_empty() {
        0
    } else {
        parse_grouped_int(int)?
    };
    let mut value = int.checked_mul(10u64.checked_pow(scale)?)?;
    for (i, b) in frac.bytes().enumerate() {
        let digit = u64::from(b - b'0');
        if (i as u32) < scale {
            value = value.checked_add(digit * 10u64.pow(scale - 1 - i as u32))?;
        } else if !round {
            if digit != 0 {
                return None;
            }
        } else {
            if i as u32 == scale && digit >= 5 {
                value = value.checked_add(1)?;
            }
            break;
        }
    }
    Some(value)
}

/// An integer with an optional unit word from `units` (compared in lower
/// case, spaces ignored): `5`, `5dr`, `5 doors`, `128g/km`.
pub fn parse_int_with_unit(s: &str, units: &[&str]) -> Result<u64, String> {
    let (number, unit) = number_and_unit(s);
    if number.is_empty() {
        return Err("not a number".into());
    }
    let unit: String = unit
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    if !unit.is_empty() && !units.contains(&unit.as_str()) {
        return Err("not a number".into());
    }
    parse_grouped_int(number).ok_or_else(|| "not a whole number".into())
}

/// A small count (doors, seats, previous owners): 0 to 255.
pub fn parse_count(s: &str, units: &[&str]) -> Result<u8, String> {
    let n = parse_int_with_unit(s, units)?;
    u8::try_from(n).map_err(|_| "too large".into())
}

/// Engine size in cc: `1498`, `1,498cc`, or litres `1.5`, `1.5L`, `2.0 litre`.
pub fn parse_engine_cc(s: &str) -> Result<u32, String> {
    let (number, unit) = number_and_unit(s);
    let unit = words(unit);
    let litres = match unit.as_str() {
        "" => number.contains('.'),
        "cc" | "cm3" | "cm" => false,
        "l" | "litre" | "litres" | "liter" | "liters" | "ltr" => true,
        _ => return Err("not an engine size".into()),
    };
    let cc = if litres {
        let millilitres = parse_fixed(number, 3, true).ok_or("not an engine size")?;
        if millilitres >= 20_000 {
            return Err("not an engine size in litres".into());
        }
        millilitres
    } else {
        parse_fixed(number, 0, false).ok_or("not a whole number of cc")?
    };
    u32::try_from(cc).map_err(|_| "too large".into())
}

/// Power in bhp: `148`, `148bhp`, `150 PS` (× 0.98632), `110 kW` (× 1.34102),
/// rounded to the nearest bhp.
pub fn parse_power_bhp(s: &str) -> Result<u32, String> {
    let (number, unit) = number_and_unit(s);
    let value = parse_fixed(number, 0, true).ok_or("not a number")?;
    let bhp = match words(unit).as_str() {
        "" | "bhp" | "hp" => value,
        "ps" | "cv" | "metric hp" => (value * 98_632 + 50_000) / 100_000,
        "kw" => (value * 134_102 + 50_000) / 100_000,
        _ => return Err("not a power in bhp, PS or kW".into()),
    };
    u32::try_from(bhp).map_err(|_| "too large".into())
}

// ------------------------------------------------------------------ money --

/// ISO 4217 codes accepted in a price cell (all have two minor digits).
pub const CURRENCY_CODES: [&str; 11] = [
    "GBP", "EUR", "USD", "CHF", "SEK", "NOK", "DKK", "PLN", "AUD", "CAD", "NZD",
];

/// A price in minor units: `£12,995`, `12995.00`, `12,995.50`, `GBP 12995`,
/// `12995 GBP`, `€15.000`-style decimal commas are refused. Without a
/// currency in the text, `default_currency` applies.
pub fn parse_money(s: &str, default_currency: &str) -> Result<Money, String> {
    let mut t = s.trim();
    let mut currency: Option<String> = None;
    for (symbol, code) in [("Â£", "GBP"), ("£", "GBP"), ("€", "EUR"), ("$", "USD")] {
        if let Some(rest) = t.strip_prefix(symbol) {
            currency = Some(code.into());
            t = rest.trim_start();
            break;
        }
        if let Some(rest) = t.strip_suffix(symbol) {
            currency = Some(code.into());
            t = rest.trim_end();
            break;
        }
    }
    if currency.is_none() {
        let is_code = |c: &str| {
            CURRENCY_CODES
                .iter()
                .any(|code| c.len() == 3 && c.eq_ignore_ascii_case(code))
        };
        if let Some((code, rest)) = t.split_once(' ') {
            if is_code(code) {
                currency = Some(code.to_ascii_uppercase());
                t = rest.trim_start();
            }
        }
        if currency.is_none() {
            if let Some((rest, code)) = t.rsplit_once(' ') {
                if is_code(code) {
                    currency = Some(code.to_ascii_uppercase());
                    t = rest.trim_end();
                }
            }
        }
        if currency.is_none() && t.len() > 3 && t.is_char_boundary(3) {
            let (code, rest) = t.split_at(3);
            if is_code(code) && rest.starts_with(|c: char| c.is_ascii_digit()) {
                currency = Some(code.to_ascii_uppercase());
                t = rest;
            }
        }
    }
    if t.starts_with('-') {
        return Err("a negative price".into());
    }
    if t.is_empty() || !t.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return Err("not a price".into());
    }
    if let Some((_, frac)) = t.split_once('.') {
        if frac.len() > 2 {
            return Err("not a price (more than two decimals)".into());
        }
    }
    let minor = parse_fixed(t, 2, false).ok_or("not a price")?;
    let amount_minor = i64::try_from(minor).map_err(|_| "too large")?;
    Ok(Money {
        amount_minor,
        currency: currency.unwrap_or_else(|| default_currency.to_string()),
    })
}

// ---------------------------------------------------------------- mileage --

/// A mileage: `45,000`, `45,000 miles`, `45000mi`, `72,000 km`, `72000 kms`.
/// The unit comes from the text, else `default_unit`. Decimals are dropped.
pub fn parse_mileage(s: &str, default_unit: MileageUnit) -> Result<Mileage, String> {
    let t = s.trim();
    if t.contains(['£', '€', '$']) || t.to_ascii_lowercase().starts_with("gbp") {
        return Err("a price, not a mileage".into());
    }
    let (number, unit) = number_and_unit(t);
    if number.is_empty() {
        return Err("not a mileage".into());
    }
    let unit = match words(unit).as_str() {
        "" => default_unit,
        "mi" | "mile" | "miles" | "m" => MileageUnit::Miles,
        "km" | "kms" | "k m" | "kilometre" | "kilometres" | "kilometer" | "kilometers" => {
            MileageUnit::Kilometres
        }
        _ => return Err("not a mileage (unknown unit)".into()),
    };
    let int_part = number.split_once('.').map_or(number, |(i, f)| {
        if f.bytes().all(|b| b.is_ascii_digit()) {
            i
        } else {
            ""
        }
    });
    let value = parse_grouped_int(int_part).ok_or("not a mileage")?;
    let value = u32::try_from(value).map_err(|_| "too large")?;
    Ok(Mileage { value, unit })
}

// ------------------------------------------------------------------ dates --

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

/// A date: `dd/mm/yyyy`, `d/m/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy` (or month
/// first with [`DateOrder::Mdy`]), ISO `yyyy-mm-dd` (also `yyyy/mm/dd`), with
/// an optional time after a space or `T` that is ignored. Two-digit years
/// are 20yy below 70, else 19yy.
pub fn parse_date(s: &str, order: DateOrder) -> Result<Date, String> {
    let t = s.trim();
    let t = t.split_whitespace().next().unwrap_or("");
    let t = match t.split_once('T') {
        Some((d, _)) if d.len() == 10 => d,
        _ => t,
    };
    let sep = t
        .chars()
        .find(|c| matches!(c, '/' | '-' | '.'))
        .ok_or("not a date")?;
    let parts: Vec<&str> = t.split(sep).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("not a date".into());
    }
    let num = |p: &str| p.parse::<u16>().map_err(|_| "not a date".to_string());
    let (year, month, day) = if parts[0].len() == 4 {
        (num(parts[0])?, num(parts[1])?, num(parts[2])?)
    } else {
        let (d, m) = match order {
            DateOrder::Dmy => (parts[0], parts[1]),
            DateOrder::Mdy => (parts[1], parts[0]),
        };
        let year = match parts[2].len() {
            4 => num(parts[2])?,
            2 => {
                let yy = num(parts[2])?;
                if yy < 70 {
                    2000 + yy
                } else {
                    1900 + yy
                }
            }
            _ => return Err("not a date (year must have four digits)".into()),
        };
        (year, num(m)?, num(d)?)
    };
    if !(1900..=2100).contains(&year) {
        return Err("not a date (year out of range)".into());
    }
    if !(1..=12).contains(&month) {
        return Err("not a date (no such month)".into());
    }
    let (month, day) = (month as u8, day);
    if day == 0 || day > u16::from(days_in_month(year, month)) {
        return Err("not a date (no such day)".into());
    }
    Ok(Date {
        year,
        month,
        day: day as u8,
    })
}

/// A model year, 1900 to 2100.
pub fn parse_year(s: &str) -> Result<u16, String> {
    let t = s.trim();
    match t.parse::<u16>() {
        Ok(y) if (1900..=2100).contains(&y) && t.len() == 4 => Ok(y),
        _ => Err("not a four-digit year".into()),
    }
}

// ----------------------------------------------------------- vocabularies --

/// Fuel type; anything unknown is `other(value)`.
pub fn fuel_type(s: &str) -> FuelType {
    let w = words(s);
    match w.as_str() {
        "petrol" | "unleaded" | "gasoline" | "benzin" => return FuelType::Petrol,
        "diesel" | "derv" => return FuelType::Diesel,
        "electric" | "ev" | "bev" | "battery electric" | "electricity" | "full electric" => {
            return FuelType::Electric
        }
        _ => {}
    }
    if has_any(&w, &["plug in", "plugin", "phev"]) {
        FuelType::PlugInHybrid
    } else if has_any(&w, &["mild hybrid", "mhev"]) {
        FuelType::MildHybrid
    } else if has_any(
        &w,
        &[
            "hybrid",
            "hev",
            "self charging",
            "petrol electric",
            "diesel electric",
        ],
    ) {
        FuelType::Hybrid
    } else if has_any(&w, &["lpg", "autogas"]) {
        FuelType::Lpg
    } else if has_any(&w, &["hydrogen", "fuel cell", "fcev"]) {
        FuelType::Hydrogen
    } else {
        FuelType::Other(s.trim().to_string())
    }
}

/// Transmission; anything unknown is `other(value)`.
pub fn transmission(s: &str) -> Transmission {
    let w = words(s);
    if has_any(
        &w,
        &[
            "semi automatic",
            "semiautomatic",
            "semi auto",
            "automated manual",
            "amt",
            "sequential",
        ],
    ) {
        Transmission::SemiAutomatic
    } else if has_any(
        &w,
        &["cvt", "continuously variable", "multitronic", "xtronic"],
    ) {
        Transmission::Cvt
    } else if matches!(w.as_str(), "m" | "man" | "mt") || has(&w, "manual") {
        Transmission::Manual
    } else if matches!(w.as_str(), "a" | "at" | "auto")
        || has_any(
            &w,
            &[
                "automatic",
                "auto",
                "dsg",
                "tiptronic",
                "s tronic",
                "stronic",
                "steptronic",
                "powershift",
                "pdk",
                "dct",
                "edc",
                "geartronic",
            ],
        )
    {
        Transmission::Automatic
    } else {
        Transmission::Other(s.trim().to_string())
    }
}

/// Body style; anything unknown is `other(value)`.
pub fn body_style(s: &str) -> BodyStyle {
    let w = words(s);
    if has_any(&w, &["pickup", "pick up"]) {
        BodyStyle::Pickup
    } else if has(&w, "minibus") {
        BodyStyle::Minibus
    } else if has(&w, "van") {
        BodyStyle::PanelVan
    } else if has_any(&w, &["mpv", "people carrier"]) {
        BodyStyle::Mpv
    } else if has_any(&w, &["convertible", "cabriolet", "cabrio", "roadster"]) {
        BodyStyle::Convertible
    } else if has_any(
        &w,
        &[
            "estate",
            "tourer",
            "touring",
            "wagon",
            "shooting brake",
            "avant",
        ],
    ) {
        BodyStyle::Estate
    } else if has_any(&w, &["suv", "4x4", "crossover"]) {
        BodyStyle::Suv
    } else if has_any(&w, &["coupe", "coupé"]) {
        BodyStyle::Coupe
    } else if has_any(&w, &["saloon", "sedan"]) {
        BodyStyle::Saloon
    } else if has_any(&w, &["hatch", "hatchback"]) {
        BodyStyle::Hatchback
    } else {
        BodyStyle::Other(s.trim().to_string())
    }
}

/// Drivetrain; anything unknown is `other(value)`.
pub fn drivetrain(s: &str) -> Drivetrain {
    let w = words(s);
    if has_any(&w, &["fwd", "front wheel drive", "front"]) {
        Drivetrain::FrontWheelDrive
    } else if has_any(&w, &["rwd", "rear wheel drive", "rear"]) {
        Drivetrain::RearWheelDrive
    } else if has_any(
        &w,
        &[
            "awd",
            "all wheel drive",
            "quattro",
            "xdrive",
            "4matic",
            "4motion",
        ],
    ) {
        Drivetrain::AllWheelDrive
    } else if has_any(&w, &["4wd", "4x4", "four wheel drive"]) {
        Drivetrain::FourWheelDrive
    } else {
        Drivetrain::Other(s.trim().to_string())
    }
}

/// Vehicle type; anything unknown is `other(value)`.
pub fn vehicle_type(s: &str) -> VehicleType {
    let w = words(s);
    if has_any(&w, &["car", "cars", "passenger car"]) {
        VehicleType::Car
    } else if has_any(&w, &["van", "lcv", "commercial", "light commercial"]) {
        VehicleType::Van
    } else if has_any(&w, &["motorcycle", "motorbike", "bike", "scooter", "moped"]) {
        VehicleType::Motorcycle
    } else if has_any(&w, &["motorhome", "motor home", "campervan", "camper"]) {
        VehicleType::Motorhome
    } else if has_any(&w, &["truck", "hgv", "lorry"]) {
        VehicleType::Truck
    } else {
        VehicleType::Other(s.trim().to_string())
    }
}

/// Stock status. Unknown text is an error: the caller decides what to do.
pub fn stock_status(s: &str) -> Result<StockStatus, String> {
    let w = words(s);
    if has_any(
        &w,
        &[
            "withdrawn",
            "archived",
            "deleted",
            "removed",
            "not for sale",
            "inactive",
        ],
    ) {
        Ok(StockStatus::Withdrawn)
    } else if has(&w, "sold") {
        Ok(StockStatus::Sold)
    } else if has_any(
        &w,
        &["reserved", "reserve", "deposit", "under offer", "on hold"],
    ) {
        Ok(StockStatus::Reserved)
    } else if has_any(
        &w,
        &[
            "due in",
            "due",
            "in transit",
            "arriving",
            "on order",
            "incoming",
            "in prep",
            "in preparation",
        ],
    ) {
        Ok(StockStatus::DueIn)
    } else if has_any(
        &w,
        &[
            "in stock",
            "instock",
            "available",
            "forecourt",
            "for sale",
            "stock",
            "live",
            "active",
            "published",
        ],
    ) {
        Ok(StockStatus::InStock)
    } else {
        Err("unknown stock status".into())
    }
}

/// New or used: `new`/`N`, `used`/`U` (and demonstrators, pre-registered,
/// nearly new, which are used). Unknown text is an error.
pub fn condition(s: &str) -> Result<Condition, String> {
    let w = words(s);
    if has_any(
        &w,
        &[
            "used",
            "u",
            "nearly new",
            "ex demo",
            "demo",
            "demonstrator",
            "pre registered",
            "second hand",
        ],
    ) {
        Ok(Condition::Used)
    } else if has_any(&w, &["new", "n", "brand new"]) {
        Ok(Condition::New)
    } else {
        Err("neither new nor used".into())
    }
}

/// How VAT applies. Unknown text is an error.
pub fn vat_status(s: &str) -> Result<VatStatus, String> {
    let raw = s.trim().to_lowercase();
    let w = words(s);
    if matches!(w.as_str(), "q" | "no" | "none" | "zero" | "exempt" | "n a")
        || has_any(&w, &["no vat", "non vat", "novat", "margin", "vat free"])
    {
        Ok(VatStatus::NoVat)
    } else if raw.starts_with('+')
        || has_any(
            &w,
            &[
                "plus",
                "ex",
                "exc",
                "excl",
                "excluding",
                "ex vat",
                "exvat",
                "net",
            ],
        )
    {
        Ok(VatStatus::PlusVat)
    } else if has_any(
        &w,
        &[
            "inc",
            "incl",
            "including",
            "included",
            "inclusive",
            "inc vat",
            "incvat",
            "gross",
        ],
    ) {
        Ok(VatStatus::IncVat)
    } else {
        Err("unknown VAT status".into())
    }
}

/// Service history; anything unknown is `other(value)`.
pub fn service_history(s: &str) -> ServiceHistory {
    let w = words(s);
    if matches!(w.as_str(), "fdsh" | "fmdsh") || (has(&w, "full") && has(&w, "dealer")) {
        ServiceHistory::FullDealer
    } else if matches!(w.as_str(), "psh") || has_any(&w, &["part", "partial"]) {
        ServiceHistory::Part
    } else if matches!(w.as_str(), "fsh") || has(&w, "full") {
        ServiceHistory::Full
    } else if matches!(
        w.as_str(),
        "none" | "no" | "nil" | "no history" | "no service history"
    ) {
        ServiceHistory::None
    } else {
        ServiceHistory::Other(s.trim().to_string())
    }
}

/// `Euro 6`, from `6`, `EURO6`, `euro 6d-TEMP`, `Euro 6`.
pub fn emissions_standard(s: &str) -> String {
    let t = s.trim();
    let rest = if t.len() >= 4 && t.is_char_boundary(4) && t[..4].eq_ignore_ascii_case("euro") {
        t[4..].trim_start()
    } else if t.starts_with(|c: char| c.is_ascii_digit()) {
        t
    } else {
        return t.to_string();
    };
    if rest.is_empty() {
        return t.to_string();
    }
    format!("Euro {rest}")
}

/// A UK registration mark: upper case, no whitespace.
pub fn registration(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A VIN: upper case, no whitespace.
pub fn vin(s: &str) -> String {
    registration(s)
}

// ------------------------------------------------------------------ lists --

/// How a cell holding several values (images, features) is split.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ListDelimiter {
    /// `|` if present, else `;`, else `,`, else the fallback (whitespace for
    /// images, line breaks for features).
    #[default]
    Auto,
    /// This exact string.
    Exact(String),
}

/// Split a list cell into trimmed, non-empty items, in order.
/// `whitespace_fallback`: in auto mode, split on any whitespace when no
/// `|`, `;` or `,` is present (images); else split on line breaks (features).
pub fn split_list(s: &str, delimiter: &ListDelimiter, whitespace_fallback: bool) -> Vec<String> {
    let pieces: Vec<&str> = match delimiter {
        ListDelimiter::Exact(d) => s.split(d.as_str()).collect(),
        ListDelimiter::Auto => {
            if let Some(d) = ['|', ';', ','].into_iter().find(|&d| s.contains(d)) {
                s.split(d).collect()
            } else if whitespace_fallback {
                s.split_whitespace().collect()
            } else {
                s.lines().collect()
            }
        }
    };
    pieces
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `s` is an absolute http(s) URL with a host and no whitespace.
pub fn is_http_url(s: &str) -> bool {
    let scheme = |prefix: &str| {
        s.as_bytes()
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    // Both prefixes are ASCII, so the slices below are on char boundaries.
    let rest = if scheme("https://") {
        &s[8..]
    } else if scheme("http://") {
        &s[7..]
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let whitespace = if s.is_ascii() {
        s.bytes().any(|b| b.is_ascii_whitespace() || b == 0x0b)
    } else {
        s.chars().any(char::is_whitespace)
    };
    !host.is_empty() && !whitespace
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(s: &str) -> Result<(i64, String), String> {
        parse_money(s, "GBP").map(|m| (m.amount_minor, m.currency))
    }

    #[test]
    fn prices() {
        let gbp = |p: i64| Ok((p, "GBP".to_string()));
        assert_eq!(money("£12,995"), gbp(1_299_500));
        assert_eq!(money("12995.00"), gbp(1_299_500));
        assert_eq!(money("12,995.50"), gbp(1_299_550));
        assert_eq!(money("GBP 12995"), gbp(1_299_500));
        assert_eq!(money("12995 GBP"), gbp(1_299_500));
        assert_eq!(money("GBP12995"), gbp(1_299_500));
        assert_eq!(money("£ 12,995.5"), gbp(1_299_550));
        assert_eq!(money("Â£12,995"), gbp(1_299_500));
        assert_eq!(money("12995£"), gbp(1_299_500));
        assert_eq!(money("0"), gbp(0));
        assert_eq!(money(".99"), gbp(99));
        assert_eq!(money("1 250 000"), gbp(125_000_000));
        assert_eq!(money("€15,500"), Ok((1_550_000, "EUR".into())));
        assert_eq!(money("eur 15500"), Ok((1_550_000, "EUR".into())));
        assert_eq!(
            parse_money("15500", "EUR").map(|m| m.currency),
            Ok("EUR".into())
        );
        // Exact pence, no float rounding.
        assert_eq!(money("0.29"), gbp(29));
        assert_eq!(money("19999.99"), gbp(1_999_999));
        for bad in [
            "POA",
            "TBC",
            "call",
            "-500",
            "£-500",
            "12.995",
            "12,99",
            "1,2995",
            "12995.5.0",
            "£",
            "GBP",
            "12995 + VAT",
            "12995 VAT",
            "99999999999999999999",
        ] {
            assert!(money(bad).is_err(), "{bad} should not parse");
        }
    }

    fn miles(s: &str) -> Result<(u32, MileageUnit), String> {
        parse_mileage(s, MileageUnit::Miles).map(|m| (m.value, m.unit))
    }

    #[test]
    fn mileages() {
        use MileageUnit::{Kilometres as Km, Miles};
        assert_eq!(miles("45,000"), Ok((45_000, Miles)));
        assert_eq!(miles("45000"), Ok((45_000, Miles)));
        assert_eq!(miles("45,000 miles"), Ok((45_000, Miles)));
        assert_eq!(miles("45000mi"), Ok((45_000, Miles)));
        assert_eq!(miles("72,000 km"), Ok((72_000, Km)));
        assert_eq!(miles("72000 kms"), Ok((72_000, Km)));
        assert_eq!(miles("72000KM"), Ok((72_000, Km)));
        assert_eq!(miles("12 kilometres"), Ok((12, Km)));
        assert_eq!(miles("45000.0"), Ok((45_000, Miles)));
        assert_eq!(miles("0"), Ok((0, Miles)));
        assert_eq!(
            parse_mileage("72000", MileageUnit::Kilometres).map(|m| m.unit),
            Ok(Km)
        );
        for bad in [
            "£12,995",
            "12995£",
            "GBP 100",
            "low",
            "45k",
            "4,50,00",
            "-5",
            "45000 furlongs",
            "5000000000",
        ] {
            assert!(miles(bad).is_err(), "{bad} should not parse");
        }
        assert_eq!(miles("£12,995"), Err("a price, not a mileage".into()));
    }

    fn date(s: &str) -> Result<(u16, u8, u8), String> {
        parse_date(s, DateOrder::Dmy).map(|d| (d.year, d.month, d.day))
    }

    #[test]
    fn dates() {
        assert_eq!(date("14/03/2019"), Ok((2019, 3, 14)));
        assert_eq!(date("4/3/2019"), Ok((2019, 3, 4)));
        assert_eq!(date("04-03-2019"), Ok((2019, 3, 4)));
        assert_eq!(date("04.03.2019"), Ok((2019, 3, 4)));
        assert_eq!(date("2019-03-04"), Ok((2019, 3, 4)));
        assert_eq!(date("2019/03/04"), Ok((2019, 3, 4)));
        assert_eq!(date("2019-03-04T00:00:00"), Ok((2019, 3, 4)));
        assert_eq!(date("14/03/2019 00:00"), Ok((2019, 3, 14)));
        assert_eq!(date("14/03/19"), Ok((2019, 3, 14)));
        assert_eq!(date("14/03/85"), Ok((1985, 3, 14)));
        assert_eq!(date("29/02/2020"), Ok((2020, 2, 29)));
        assert_eq!(
            parse_date("03/14/2019", DateOrder::Mdy).map(|d| (d.year, d.month, d.day)),
            Ok((2019, 3, 14))
        );
        // ISO is ISO whatever the order.
        assert_eq!(
            parse_date("2019-03-04", DateOrder::Mdy).map(|d| (d.month, d.day)),
            Ok((3, 4))
        );
        for bad in [
            "31/02/2020",
            "29/02/2019",
            "14/13/2019",
            "00/01/2019",
            "03/14/2019",
            "March 2019",
            "2019",
            "14/03/219",
            "14/03/1850",
            "1/2/3/4",
            "",
            "yesterday",
        ] {
            assert!(date(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn years() {
        assert_eq!(parse_year("2019"), Ok(2019));
        assert!(parse_year("19").is_err());
        assert!(parse_year("3019").is_err());
        assert!(parse_year("2019/20").is_err());
    }

    #[test]
    fn numbers_with_units() {
        assert_eq!(parse_count("5", &["dr", "door", "doors"]), Ok(5));
        assert_eq!(parse_count("5dr", &["dr", "door", "doors"]), Ok(5));
        assert_eq!(parse_count("5 doors", &["dr", "door", "doors"]), Ok(5));
        assert!(parse_count("five", &["dr"]).is_err());
        assert!(parse_count("300", &[]).is_err());
        assert_eq!(parse_int_with_unit("128g/km", &["g/km", "g"]), Ok(128));
        assert_eq!(parse_engine_cc("1498"), Ok(1498));
        assert_eq!(parse_engine_cc("1,498cc"), Ok(1498));
        assert_eq!(parse_engine_cc("1.5"), Ok(1500));
        assert_eq!(parse_engine_cc("1.5L"), Ok(1500));
        assert_eq!(parse_engine_cc("2.0 litre"), Ok(2000));
        assert_eq!(parse_engine_cc("1.4999"), Ok(1500));
        assert!(parse_engine_cc("big").is_err());
        assert!(parse_engine_cc("1498.5").is_err());
        assert_eq!(parse_power_bhp("148"), Ok(148));
        assert_eq!(parse_power_bhp("148 bhp"), Ok(148));
        assert_eq!(parse_power_bhp("150PS"), Ok(148));
        assert_eq!(parse_power_bhp("110 kW"), Ok(148));
        assert!(parse_power_bhp("fast").is_err());
    }

    #[test]
    fn fuels() {
        let cases: &[(&str, FuelType)] = &[
            ("Petrol", FuelType::Petrol),
            ("unleaded", FuelType::Petrol),
            ("Gasoline", FuelType::Petrol),
            ("DIESEL", FuelType::Diesel),
            ("DERV", FuelType::Diesel),
            ("Electric", FuelType::Electric),
            ("EV", FuelType::Electric),
            ("BEV", FuelType::Electric),
            ("Hybrid", FuelType::Hybrid),
            ("Petrol Hybrid", FuelType::Hybrid),
            ("HEV", FuelType::Hybrid),
            ("Self-charging hybrid", FuelType::Hybrid),
            ("Petrol/Electric", FuelType::Hybrid),
            ("Plug-in Hybrid", FuelType::PlugInHybrid),
            ("plug in hybrid", FuelType::PlugInHybrid),
            ("Petrol Plug-in Hybrid", FuelType::PlugInHybrid),
            ("PHEV", FuelType::PlugInHybrid),
            ("Mild Hybrid", FuelType::MildHybrid),
            ("Diesel MHEV", FuelType::MildHybrid),
            ("LPG", FuelType::Lpg),
            ("Petrol/LPG", FuelType::Lpg),
            ("Hydrogen", FuelType::Hydrogen),
        ];
        for (text, want) in cases {
            assert_eq!(
                std::mem::discriminant(&fuel_type(text)),
                std::mem::discriminant(want),
                "{text}"
            );
        }
        assert!(matches!(fuel_type(" Steam "), FuelType::Other(s) if s == "Steam"));
    }

    #[test]
    fn transmissions() {
        let cases: &[(&str, Transmission)] = &[
            ("Manual", Transmission::Manual),
            ("man", Transmission::Manual),
            ("M", Transmission::Manual),
            ("6 speed manual", Transmission::Manual),
            ("Automatic", Transmission::Automatic),
            ("Auto", Transmission::Automatic),
            ("A", Transmission::Automatic),
            ("DSG", Transmission::Automatic),
            ("7-speed DSG", Transmission::Automatic),
            ("Tiptronic", Transmission::Automatic),
            ("S tronic", Transmission::Automatic),
            ("S-Tronic", Transmission::Automatic),
            ("Semi-Automatic", Transmission::SemiAutomatic),
            ("semi auto", Transmission::SemiAutomatic),
            ("CVT", Transmission::Cvt),
            ("CVT Automatic", Transmission::Cvt),
        ];
        for (text, want) in cases {
            assert_eq!(
                std::mem::discriminant(&transmission(text)),
                std::mem::discriminant(want),
                "{text}"
            );
        }
        assert!(matches!(transmission("Sprockets"), Transmission::Other(s) if s == "Sprockets"));
    }

    #[test]
    fn bodies() {
        let cases: &[(&str, BodyStyle)] = &[
            ("Hatch", BodyStyle::Hatchback),
            ("Hatchback", BodyStyle::Hatchback),
            ("5 door hatchback", BodyStyle::Hatchback),
            ("Saloon", BodyStyle::Saloon),
            ("Sedan", BodyStyle::Saloon),
            ("Estate", BodyStyle::Estate),
            ("Tourer", BodyStyle::Estate),
            ("Sports Tourer", BodyStyle::Estate),
            ("Wagon", BodyStyle::Estate),
            ("SUV", BodyStyle::Suv),
            ("4x4", BodyStyle::Suv),
            ("Crossover", BodyStyle::Suv),
            ("Coupe", BodyStyle::Coupe),
            ("Coupé", BodyStyle::Coupe),
            ("Convertible", BodyStyle::Convertible),
            ("Cabriolet", BodyStyle::Convertible),
            ("Roadster", BodyStyle::Convertible),
            ("MPV", BodyStyle::Mpv),
            ("People Carrier", BodyStyle::Mpv),
            ("Pickup", BodyStyle::Pickup),
            ("Pick-up", BodyStyle::Pickup),
            ("Double Cab Pick Up", BodyStyle::Pickup),
            ("Panel Van", BodyStyle::PanelVan),
            ("Van", BodyStyle::PanelVan),
            ("Minibus", BodyStyle::Minibus),
        ];
        for (text, want) in cases {
            assert_eq!(
                std::mem::discriminant(&body_style(text)),
                std::mem::discriminant(want),
                "{text}"
            );
        }
        assert!(matches!(body_style("Limousine"), BodyStyle::Other(s) if s == "Limousine"));
    }

    #[test]
    fn statuses() {
        let cases: &[(&str, StockStatus)] = &[
            ("In Stock", StockStatus::InStock),
            ("in-stock", StockStatus::InStock),
            ("Available", StockStatus::InStock),
            ("Forecourt", StockStatus::InStock),
            ("For Sale", StockStatus::InStock),
            ("Sold", StockStatus::Sold),
            ("SOLD", StockStatus::Sold),
            ("Reserved", StockStatus::Reserved),
            ("Deposit Taken", StockStatus::Reserved),
            ("Under Offer", StockStatus::Reserved),
            ("Due In", StockStatus::DueIn),
            ("In Transit", StockStatus::DueIn),
            ("Arriving", StockStatus::DueIn),
            ("Withdrawn", StockStatus::Withdrawn),
            ("Archived", StockStatus::Withdrawn),
            ("Not for sale", StockStatus::Withdrawn),
        ];
        for (text, want) in cases {
            assert_eq!(stock_status(text), Ok(*want), "{text}");
        }
        assert!(stock_status("Scrapped").is_err());
        assert!(stock_status("unsold").is_err());
    }

    #[test]
    fn conditions_vat_history_types() {
        assert_eq!(condition("New"), Ok(Condition::New));
        assert_eq!(condition("N"), Ok(Condition::New));
        assert_eq!(condition("Used"), Ok(Condition::Used));
        assert_eq!(condition("u"), Ok(Condition::Used));
        assert_eq!(condition("Nearly New"), Ok(Condition::Used));
        assert_eq!(condition("Ex-Demo"), Ok(Condition::Used));
        assert!(condition("mint").is_err());

        assert_eq!(vat_status("inc"), Ok(VatStatus::IncVat));
        assert_eq!(vat_status("Inc VAT"), Ok(VatStatus::IncVat));
        assert_eq!(vat_status("including"), Ok(VatStatus::IncVat));
        assert_eq!(vat_status("plus"), Ok(VatStatus::PlusVat));
        assert_eq!(vat_status("+VAT"), Ok(VatStatus::PlusVat));
        assert_eq!(vat_status("ex VAT"), Ok(VatStatus::PlusVat));
        assert_eq!(vat_status("exc"), Ok(VatStatus::PlusVat));
        assert_eq!(vat_status("No VAT"), Ok(VatStatus::NoVat));
        assert_eq!(vat_status("margin"), Ok(VatStatus::NoVat));
        assert_eq!(vat_status("Q"), Ok(VatStatus::NoVat));
        assert!(vat_status("maybe").is_err());

        let sh = |s: &str| std::mem::discriminant(&service_history(s));
        let d = std::mem::discriminant::<ServiceHistory>;
        assert_eq!(sh("FDSH"), d(&ServiceHistory::FullDealer));
        assert_eq!(sh("Full dealer"), d(&ServiceHistory::FullDealer));
        assert_eq!(
            sh("Full Main Dealer History"),
            d(&ServiceHistory::FullDealer)
        );
        assert_eq!(sh("FSH"), d(&ServiceHistory::Full));
        assert_eq!(sh("Full Service History"), d(&ServiceHistory::Full));
        assert_eq!(sh("full"), d(&ServiceHistory::Full));
        assert_eq!(sh("Part"), d(&ServiceHistory::Part));
        assert_eq!(sh("PSH"), d(&ServiceHistory::Part));
        assert_eq!(sh("None"), d(&ServiceHistory::None));
        assert!(
            matches!(service_history("Stamped book"), ServiceHistory::Other(s) if s == "Stamped book")
        );

        let vt = |s: &str| std::mem::discriminant(&vehicle_type(s));
        let d = std::mem::discriminant::<VehicleType>;
        assert_eq!(vt("Car"), d(&VehicleType::Car));
        assert_eq!(vt("Van"), d(&VehicleType::Van));
        assert_eq!(vt("LCV"), d(&VehicleType::Van));
        assert_eq!(vt("Commercial"), d(&VehicleType::Van));
        assert_eq!(vt("Motorcycle"), d(&VehicleType::Motorcycle));
        assert_eq!(vt("Bike"), d(&VehicleType::Motorcycle));
        assert_eq!(vt("Motorhome"), d(&VehicleType::Motorhome));
        assert!(matches!(vehicle_type("Tractor"), VehicleType::Other(s) if s == "Tractor"));

        let dt = |s: &str| std::mem::discriminant(&drivetrain(s));
        let d = std::mem::discriminant::<Drivetrain>;
        assert_eq!(dt("FWD"), d(&Drivetrain::FrontWheelDrive));
        assert_eq!(dt("Rear wheel drive"), d(&Drivetrain::RearWheelDrive));
        assert_eq!(dt("quattro"), d(&Drivetrain::AllWheelDrive));
        assert_eq!(dt("4WD"), d(&Drivetrain::FourWheelDrive));
        assert_eq!(dt("4x4"), d(&Drivetrain::FourWheelDrive));
    }

    #[test]
    fn text_fields() {
        assert_eq!(registration(" ab19 xyz "), "AB19XYZ");
        assert_eq!(vin("wf0jxxgahjka12345"), "WF0JXXGAHJKA12345");
        assert_eq!(emissions_standard("6"), "Euro 6");
        assert_eq!(emissions_standard("EURO6"), "Euro 6");
        assert_eq!(emissions_standard("Euro 6d-TEMP"), "Euro 6d-TEMP");
        assert_eq!(emissions_standard("ULEZ compliant"), "ULEZ compliant");
    }

    #[test]
    fn lists_and_urls() {
        let auto = ListDelimiter::Auto;
        assert_eq!(split_list("a | b |c", &auto, true), ["a", "b", "c"]);
        assert_eq!(split_list("a;b", &auto, true), ["a", "b"]);
        assert_eq!(split_list("a, b", &auto, true), ["a", "b"]);
        assert_eq!(split_list("a b\nc", &auto, true), ["a", "b", "c"]);
        assert_eq!(
            split_list("Heated seats\nSat nav", &auto, false),
            ["Heated seats", "Sat nav"]
        );
        assert_eq!(
            split_list("a~~b", &ListDelimiter::Exact("~~".into()), true),
            ["a", "b"]
        );
        assert!(split_list(" | ", &auto, true).is_empty());
        assert!(is_http_url("https://img.example.com/a.jpg"));
        assert!(is_http_url("HTTP://img.example.com/a.jpg"));
        assert!(!is_http_url("ftp://img.example.com/a.jpg"));
        assert!(!is_http_url("IMG_0001.jpg"));
        assert!(!is_http_url("https:///a.jpg"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https://img.example.com/a b.jpg"));
        assert!(!is_http_url("https://img.example.com/a\u{b}b.jpg"));
        assert!(!is_http_url("https://img.example.com/a\u{a0}b.jpg"));
        assert!(is_http_url("https://img.example.com/caf\u{e9}.jpg"));
        assert!(!is_http_url("h\u{e9}tps://img.example.com/a.jpg"));
    }

    #[test]
    fn word_matching() {
        assert_eq!(words("  Plug-in__HYBRID "), "plug in hybrid");
        assert!(has("5 door hatchback", "hatchback"));
        assert!(!has("unsold", "sold"));
        assert!(!has("caravan", "van"));
        assert!(has("coupé", "coupé"));
        assert!(has("pick up truck", "pick up"));
        assert!(!has("pickup", "pick up"));
        assert!(has("van", "van") && has("panel van", "van") && !has("vans", "van"));
    }
}
