//! Normalisation: controlled vocabularies (fuel type, transmission, body
//! style, colour, make), the terminology dictionary, and description
//! templates. Sources pass through values the contract does not know as
//! `other(..)`; this maps the common synonyms onto the contract's terms so
//! every platform gets the same, correct value.

use crate::runtime::types::{
    Attribute, BodyStyle, FuelType, ServiceHistory, Transmission, Vehicle,
};
use regex::Regex;
use std::collections::BTreeMap;

/// Lower-case, with anything that is not a letter or digit squeezed to one space.
fn key(s: &str) -> String {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fuel type named by a DMS.
pub fn fuel(s: &str) -> Option<FuelType> {
    Some(match key(s).as_str() {
        "petrol" | "unleaded" | "gasoline" | "benzin" | "p" => FuelType::Petrol,
        "diesel" | "d" | "tdi" | "dsl" => FuelType::Diesel,
        "electric" | "ev" | "bev" | "battery electric" | "electricity" | "e" => FuelType::Electric,
        "hybrid"
        | "hev"
        | "petrol hybrid"
        | "petrol electric"
        | "petrol electric hybrid"
        | "diesel hybrid"
        | "diesel electric"
        | "self charging hybrid"
        | "full hybrid" => FuelType::Hybrid,
        "plug in hybrid"
        | "phev"
        | "plugin hybrid"
        | "petrol plug in hybrid"
        | "petrol electric plug in hybrid"
        | "diesel plug in hybrid" => FuelType::PlugInHybrid,
        "mild hybrid" | "mhev" | "petrol mild hybrid" | "diesel mild hybrid"
        | "mild hybrid petrol" | "mild hybrid diesel" => FuelType::MildHybrid,
        "lpg" | "autogas" | "petrol lpg" | "bi fuel" => FuelType::Lpg,
        "hydrogen" | "fuel cell" | "fcev" => FuelType::Hydrogen,
        _ => return None,
    })
}

/// A transmission named by a DMS.
pub fn transmission(s: &str) -> Option<Transmission> {
    Some(match key(s).as_str() {
        "manual" | "man" | "m" | "manual gearbox" | "5 speed manual" | "6 speed manual"
        | "stick" => Transmission::Manual,
        "automatic" | "auto" | "a" | "automatic gearbox" | "tiptronic" | "steptronic" | "dsg"
        | "s tronic" | "powershift" | "eat8" | "dct" | "dual clutch" | "pdk" => {
            Transmission::Automatic
        }
        "semi automatic" | "semi auto" | "semiauto" | "automated manual" | "amt" | "sequential" => {
            Transmission::SemiAutomatic
        }
        "cvt" | "continuously variable" | "multitronic" | "xtronic" | "e cvt" => Transmission::Cvt,
        _ => return None,
    })
}

/// A body style named by a DMS.
pub fn body_style(s: &str) -> Option<BodyStyle> {
    Some(match key(s).as_str() {
        "hatchback" | "hatch" | "3 door hatchback" | "5 door hatchback" | "sportback" => {
            BodyStyle::Hatchback
        }
        "saloon" | "sedan" | "4 door saloon" | "fastback" => BodyStyle::Saloon,
        "estate" | "tourer" | "sports tourer" | "touring" | "avant" | "shooting brake"
        | "station wagon" | "wagon" | "combi" | "sportswagon" => BodyStyle::Estate,
        "suv" | "4x4" | "crossover" | "off roader" | "sport utility" | "sports utility vehicle" => {
            BodyStyle::Suv
        }
        "coupe" | "coupé" | "sports" => BodyStyle::Coupe,
        "convertible" | "cabriolet" | "cabrio" | "roadster" | "soft top" | "spider" | "spyder" => {
            BodyStyle::Convertible
        }
        "mpv" | "people carrier" | "minivan" | "multi purpose vehicle" => BodyStyle::Mpv,
        "pickup" | "pick up" | "double cab pickup" | "double cab" => BodyStyle::Pickup,
        "panel van" | "van" | "lcv" => BodyStyle::PanelVan,
        "minibus" | "mini bus" => BodyStyle::Minibus,
        _ => return None,
    })
}

/// A service history named by a DMS (terminology also covers free text).
pub fn service_history(s: &str) -> Option<ServiceHistory> {
    Some(match key(s).as_str() {
        "full dealer"
        | "fdsh"
        | "full dealer service history"
        | "full main dealer history"
        | "full main dealer service history" => ServiceHistory::FullDealer,
        "full"
        | "fsh"
        | "full service history"
        | "complete maintenance records"
        | "full maintenance history" => ServiceHistory::Full,
        "part" | "psh" | "part service history" | "partial" | "partial service history" => {
            ServiceHistory::Part
        }
        "none" | "no history" | "no service history" => ServiceHistory::None,
        _ => return None,
    })
}

/// The colour vocabulary.
pub const COLOURS: &[&str] = &[
    "Beige",
    "Black",
    "Blue",
    "Bronze",
    "Brown",
    "Gold",
    "Green",
    "Grey",
    "Maroon",
    "Multicolour",
    "Orange",
    "Pink",
    "Purple",
    "Red",
    "Silver",
    "Turquoise",
    "White",
    "Yellow",
];

fn colour_word(w: &str) -> Option<&'static str> {
    Some(match w {
        "gray" | "grey" | "graphite" | "charcoal" | "gunmetal" | "anthracite" | "slate" => "Grey",
        "navy" | "blue" | "azure" | "cobalt" => "Blue",
        "burgundy" | "maroon" | "claret" => "Maroon",
        "cream" | "ivory" | "beige" | "sand" => "Beige",
        "champagne" | "gold" => "Gold",
        "multi" | "multicolour" | "multicolor" | "two tone" => "Multicolour",
        "teal" | "turquoise" | "aqua" => "Turquoise",
        "violet" | "purple" | "lilac" => "Purple",
        "copper" | "bronze" => "Bronze",
        "chocolate" | "brown" => "Brown",
        "lime" | "green" => "Green",
        _ => return COLOURS.iter().copied().find(|c| c.eq_ignore_ascii_case(w)),
    })
}

/// The vocabulary colour of a manufacturer's colour name: the last colour
/// word wins ("Pearl White" is White, "Grey Blue" is Blue).
pub fn colour(s: &str) -> Option<&'static str> {
    let k = key(s);
    if let Some(c) = colour_word(&k) {
        return Some(c);
    }
    k.split(' ').rev().find_map(colour_word)
}

/// Makes whose spelling varies between DMSs.
const MAKES: &[(&str, &[&str])] = &[
    ("Alfa Romeo", &["alfa", "alfa romeo"]),
    ("Aston Martin", &["aston martin", "aston"]),
    ("Audi", &["audi"]),
    ("BMW", &["bmw"]),
    ("Citroen", &["citroen", "citroën"]),
    ("Cupra", &["cupra"]),
    ("Dacia", &["dacia"]),
    ("DS", &["ds", "ds automobiles"]),
    ("Fiat", &["fiat"]),
    ("Ford", &["ford"]),
    ("Honda", &["honda"]),
    ("Hyundai", &["hyundai"]),
    ("Jaguar", &["jaguar"]),
    ("Jeep", &["jeep"]),
    ("Kia", &["kia"]),
    ("Land Rover", &["land rover", "landrover"]),
    ("Lexus", &["lexus"]),
    ("Mazda", &["mazda"]),
    (
        "Mercedes-Benz",
        &["mercedes benz", "mercedes", "merc", "mb"],
    ),
    ("MG", &["mg", "mg motor", "mg motor uk"]),
    ("Mini", &["mini"]),
    ("Mitsubishi", &["mitsubishi"]),
    ("Nissan", &["nissan"]),
    ("Peugeot", &["peugeot"]),
    ("Polestar", &["polestar"]),
    ("Porsche", &["porsche"]),
    ("Renault", &["renault"]),
    ("Rolls-Royce", &["rolls royce"]),
    ("SEAT", &["seat"]),
    ("Skoda", &["skoda", "škoda"]),
    ("Smart", &["smart"]),
    ("SsangYong", &["ssangyong", "ssang yong"]),
    ("Subaru", &["subaru"]),
    ("Suzuki", &["suzuki"]),
    ("Tesla", &["tesla"]),
    ("Toyota", &["toyota"]),
    ("Vauxhall", &["vauxhall", "opel"]),
    ("Volkswagen", &["volkswagen", "vw", "v w"]),
    ("Volvo", &["volvo"]),
];

/// The canonical spelling of a make.
pub fn make(s: &str) -> Option<&'static str> {
    let k = key(s);
    MAKES
        .iter()
        .find(|(_, aliases)| aliases.contains(&k.as_str()))
        .map(|(m, _)| *m)
}

/// "FIESTA" to "Fiesta" when a whole value is shouted; short words (X3,
/// GTI, SE) and words with digits stay as they are.
fn unshout(s: &str) -> String {
    let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() || letters.iter().any(|c| c.is_lowercase()) {
        return s.to_string();
    }
    s.split(' ')
        .map(|w| {
            if w.chars().count() >= 4 && w.chars().all(char::is_alphabetic) {
                let mut c = w.chars();
                let first = c.next().unwrap_or_default();
                first.to_string() + &c.as_str().to_lowercase()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What normalisation changed and what it could not map.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Normalised {
    /// Fields changed (`fuel-type: "PETROL/ELECTRIC" -> hybrid`).
    pub changes: Vec<String>,
    /// (field, value) outside the vocabularies.
    pub unknown: Vec<(&'static str, String)>,
}

/// Map vocabularies in place.
pub fn vocabularies(v: &mut Vehicle) -> Normalised {
    let mut n = Normalised::default();
    if let Some(FuelType::Other(s)) = &v.fuel_type {
        match fuel(s) {
            Some(f) => {
                n.changes.push(format!("fuel-type: {s:?} -> {f:?}"));
                v.fuel_type = Some(f);
            }
            None => n.unknown.push(("fuel-type", s.clone())),
        }
    }
    if let Some(Transmission::Other(s)) = &v.transmission {
        match transmission(s) {
            Some(t) => {
                n.changes.push(format!("transmission: {s:?} -> {t:?}"));
                v.transmission = Some(t);
            }
            None => n.unknown.push(("transmission", s.clone())),
        }
    }
    if let Some(BodyStyle::Other(s)) = &v.body_style {
        match body_style(s) {
            Some(b) => {
                n.changes.push(format!("body-style: {s:?} -> {b:?}"));
                v.body_style = Some(b);
            }
            None => n.unknown.push(("body-style", s.clone())),
        }
    }
    if let Some(ServiceHistory::Other(s)) = &v.service_history {
        if let Some(h) = service_history(s) {
            n.changes.push(format!("service-history: {s:?} -> {h:?}"));
            v.service_history = Some(h);
        }
    }
    if let Some(c) = v.colour.clone() {
        let trimmed = c.trim();
        match colour(trimmed) {
            Some(base) if base != trimmed => {
                // Keep the manufacturer's name for platforms that show it.
                if !base.eq_ignore_ascii_case(trimmed) {
                    v.attributes.push(Attribute {
                        key: "manufacturer-colour".into(),
                        value: unshout(trimmed),
                    });
                }
                n.changes.push(format!("colour: {c:?} -> {base:?}"));
                v.colour = Some(base.into());
            }
            Some(_) => {}
            None if trimmed.is_empty() => v.colour = None,
            None => {
                n.unknown.push(("colour", c.clone()));
                v.colour = Some(unshout(trimmed));
            }
        }
    }
    if let Some(m) = v.make.clone() {
        let canonical = make(&m)
            .map(str::to_string)
            .unwrap_or_else(|| unshout(m.trim()));
        if canonical != m {
            n.changes.push(format!("make: {m:?} -> {canonical:?}"));
            v.make = Some(canonical);
        }
    }
    for field in [&mut v.model, &mut v.variant, &mut v.trim] {
        if let Some(s) = field.clone() {
            let fixed = unshout(s.trim());
            if fixed != s {
                *field = Some(fixed);
            }
        }
    }
    if let Some(r) = v.registration.clone() {
        let fixed: String = r
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_uppercase();
        if fixed != r {
            v.registration = (!fixed.is_empty()).then_some(fixed);
        }
    }
    if let Some(vin) = v.vin.clone() {
        let fixed: String = vin
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        if fixed != vin {
            v.vin = (!fixed.is_empty()).then_some(fixed);
        }
    }
    n
}

/// The dealer-editable dictionary: every synonym becomes its canonical term.
#[derive(Debug, Clone)]
pub struct Terminology {
    /// One alternation of every synonym, longest first, so one pass
    /// replaces each phrase once and never rewrites a replacement.
    pattern: Option<Regex>,
    /// Lower-case synonym to canonical term.
    terms: std::collections::HashMap<String, String>,
}

/// The built-in dictionary (a dealer's entries add to it or replace a term).
pub fn default_terminology() -> BTreeMap<String, Vec<String>> {
    let e = |c: &str, s: &[&str]| (c.to_string(), s.iter().map(|s| s.to_string()).collect());
    [
        e(
            "Full service history",
            &[
                "FSH",
                "F/S/H",
                "full service history",
                "complete maintenance records",
                "full maintenance history",
                "full service record",
            ],
        ),
        e(
            "Full dealer service history",
            &[
                "FDSH",
                "full dealer service history",
                "full main dealer history",
                "full main dealer service history",
                "FMDSH",
            ],
        ),
        e(
            "Part service history",
            &["PSH", "part service history", "partial service history"],
        ),
        e(
            "Sat nav",
            &["satnav", "sat-nav", "sat nav", "satellite navigation"],
        ),
        e("Air conditioning", &["air con", "aircon", "A/C"]),
        e(
            "One previous owner",
            &["1 owner", "one owner", "1 previous owner", "1 prev owner"],
        ),
        e(
            "Cambelt replaced",
            &[
                "cambelt done",
                "timing belt replaced",
                "cambelt changed",
                "new cambelt",
            ],
        ),
        e(
            "ULEZ compliant",
            &["ulez compliant", "ulez ok", "ulez friendly"],
        ),
    ]
    .into_iter()
    .collect()
}

impl Terminology {
    /// Build from canonical term to synonyms.
    pub fn new(dictionary: &BTreeMap<String, Vec<String>>) -> Self {
        let mut terms = std::collections::HashMap::new();
        for (canon, syns) in dictionary {
            for s in syns.iter().chain(std::iter::once(canon)) {
                let s = s.trim();
                if !s.is_empty() {
                    terms.insert(s.to_lowercase(), canon.clone());
                }
            }
        }
        let mut synonyms: Vec<&String> = terms.keys().collect();
        synonyms.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
        let alternatives: Vec<String> = synonyms
            .iter()
            .map(|s| {
                format!(
                    "{}{}{}",
                    if word(s.chars().next()) { r"\b" } else { "" },
                    regex::escape(s),
                    if word(s.chars().last()) { r"\b" } else { "" },
                )
            })
            .collect();
        let pattern = (!alternatives.is_empty())
            .then(|| Regex::new(&format!("(?i){}", alternatives.join("|"))).ok())
            .flatten();
        Self { pattern, terms }
    }

    /// Replace synonyms in `text`. A term keeps a capital first letter only
    /// at the start of a sentence (acronyms keep theirs).
    pub fn apply(&self, text: &str) -> String {
        let Some(re) = &self.pattern else {
            return text.to_string();
        };
        re.replace_all(text, |c: &regex::Captures| {
            let m = c.get(0).expect("whole match");
            let canon = &self.terms[&m.as_str().to_lowercase()];
            let before = text[..m.start()].trim_end();
            let sentence_start =
                before.is_empty() || before.ends_with(['.', '!', '?', '\n', '|', ':']);
            cased(canon, sentence_start)
        })
        .into_owned()
    }
}

fn cased(canon: &str, sentence_start: bool) -> String {
    let first_word = canon.split(' ').next().unwrap_or("");
    let acronym = first_word.chars().filter(|c| c.is_alphabetic()).count() > 1
        && first_word.chars().all(|c| !c.is_lowercase());
    if sentence_start || acronym {
        return canon.to_string();
    }
    let mut c = canon.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Placeholders a description template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "make",
    "model",
    "variant",
    "trim",
    "year",
    "colour",
    "fuel",
    "transmission",
    "body",
    "doors",
    "mileage",
    "price",
    "engine",
    "owners",
    "service_history",
    "features",
    "description",
    "location",
];

fn placeholder_re() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\{([a-z_]+)\}").expect("valid regex"))
}

/// Check that a template only uses known placeholders.
pub fn check_template(t: &str) -> Result<(), String> {
    for c in placeholder_re().captures_iter(t) {
        if !PLACEHOLDERS.contains(&&c[1]) {
            return Err(format!(
                "unknown placeholder {{{}}}; known: {}",
                &c[1],
                PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
    }
    Ok(())
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn words(s: &str) -> String {
    // "PlugInHybrid" -> "plug-in hybrid"
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out.replace("plug in", "plug-in")
        .replace("semi automatic", "semi-automatic")
}

fn variant_name<T: std::fmt::Debug>(v: &T) -> String {
    let d = format!("{v:?}");
    // Debug of a bound variant reads `FuelType::PlugInHybrid` or `FuelType::Other("..")`.
    let d = match d.find("::") {
        Some(i) if d[..i].chars().all(char::is_alphanumeric) => d[i + 2..].to_string(),
        _ => d,
    };
    match d.strip_prefix("Other(\"") {
        Some(rest) => rest.trim_end_matches("\")").to_string(),
        None => words(&d),
    }
}

/// Fill a template from a vehicle. Empty values leave no double spaces or
/// dangling punctuation.
pub fn render_template(t: &str, v: &Vehicle) -> String {
    let value = |name: &str| -> String {
        match name {
            "make" => v.make.clone().unwrap_or_default(),
            "model" => v.model.clone().unwrap_or_default(),
            "variant" => v.variant.clone().unwrap_or_default(),
            "trim" => v.trim.clone().unwrap_or_default(),
            "year" => v
                .model_year
                .or(v.first_registration.as_ref().map(|d| d.year))
                .map(|y| y.to_string())
                .unwrap_or_default(),
            "colour" => v.colour.clone().unwrap_or_default(),
            "fuel" => v.fuel_type.as_ref().map(variant_name).unwrap_or_default(),
            "transmission" => v
                .transmission
                .as_ref()
                .map(variant_name)
                .unwrap_or_default(),
            "body" => v.body_style.as_ref().map(variant_name).unwrap_or_default(),
            "doors" => v.doors.map(|d| d.to_string()).unwrap_or_default(),
            "mileage" => v
                .mileage
                .as_ref()
                .map(|m| thousands(m.value as u64))
                .unwrap_or_default(),
            "price" => v
                .price
                .as_ref()
                .filter(|p| p.amount_minor > 0)
                .map(|p| format!("£{}", thousands((p.amount_minor / 100) as u64)))
                .unwrap_or_default(),
            "engine" => v
                .engine_size_cc
                .map(|cc| format!("{:.1} litre", cc as f64 / 1000.0))
                .unwrap_or_default(),
            "owners" => v.previous_owners.map(|o| o.to_string()).unwrap_or_default(),
            "service_history" => v
                .service_history
                .as_ref()
                .map(variant_name)
                .unwrap_or_default(),
            "features" => v.features.join(", "),
            "description" => v.description.clone().unwrap_or_default(),
            "location" => v.location_id.clone(),
            _ => String::new(),
        }
    };
    let filled = placeholder_re().replace_all(t, |c: &regex::Captures| value(&c[1]));
    // Tidy what empty placeholders leave behind.
    let mut out = filled.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        (" .", "."),
        (" ,", ","),
        ("..", "."),
        (",.", "."),
        (". .", "."),
    ] {
        while out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out.trim_matches(|c: char| c == ',' || c.is_whitespace())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn car() -> Vehicle {
        crate::sample::sample_stock(1, 3).remove(0)
    }

    #[test]
    fn vocabularies_map_synonyms_and_mixed_case() {
        assert_eq!(fuel("UNLEADED"), Some(FuelType::Petrol));
        assert_eq!(fuel("Petrol/Electric Hybrid"), Some(FuelType::Hybrid));
        assert_eq!(fuel("PHEV"), Some(FuelType::PlugInHybrid));
        assert_eq!(fuel("Diesel Mild-Hybrid"), Some(FuelType::MildHybrid));
        assert_eq!(fuel("steam"), None);
        assert_eq!(transmission("Semi-Auto"), Some(Transmission::SemiAutomatic));
        assert_eq!(transmission("tiptronic"), Some(Transmission::Automatic));
        assert_eq!(transmission("6 Speed Manual"), Some(Transmission::Manual));
        assert_eq!(body_style("Sports Tourer"), Some(BodyStyle::Estate));
        assert_eq!(body_style("CABRIOLET"), Some(BodyStyle::Convertible));
        assert_eq!(body_style("People Carrier"), Some(BodyStyle::Mpv));
        assert_eq!(colour("gray"), Some("Grey"));
        assert_eq!(colour("Magnetic Grey Metallic"), Some("Grey"));
        assert_eq!(colour("Pearl WHITE"), Some("White"));
        assert_eq!(colour("Midnight navy"), Some("Blue"));
        assert_eq!(colour("Nardo"), None);
        assert_eq!(make("VW"), Some("Volkswagen"));
        assert_eq!(make("mercedes benz"), Some("Mercedes-Benz"));
        assert_eq!(make("LANDROVER"), Some("Land Rover"));
        assert_eq!(unshout("FIESTA ST-LINE X"), "Fiesta ST-LINE X");
        assert_eq!(unshout("X3"), "X3");
        assert_eq!(unshout("Golf GTI"), "Golf GTI");
    }

    #[test]
    fn vehicles_are_normalised_in_place_and_unknowns_reported() {
        let mut v = car();
        v.fuel_type = Some(FuelType::Other("Petrol/Electric".into()));
        v.transmission = Some(Transmission::Other("AUTO".into()));
        v.body_style = Some(BodyStyle::Other("hatch".into()));
        v.colour = Some("MOONSTONE GREY METALLIC".into());
        v.make = Some("FORD".into());
        v.model = Some("FIESTA".into());
        v.registration = Some("ab12 cde".into());
        let before_attrs = v.attributes.len();
        let n = vocabularies(&mut v);
        assert_eq!(v.fuel_type, Some(FuelType::Hybrid));
        assert_eq!(v.transmission, Some(Transmission::Automatic));
        assert_eq!(v.body_style, Some(BodyStyle::Hatchback));
        assert_eq!(v.colour.as_deref(), Some("Grey"));
        assert_eq!(v.attributes.len(), before_attrs + 1);
        assert_eq!(
            v.attributes.last().unwrap().value,
            "Moonstone Grey Metallic"
        );
        assert_eq!(v.make.as_deref(), Some("Ford"));
        assert_eq!(v.model.as_deref(), Some("Fiesta"));
        assert_eq!(v.registration.as_deref(), Some("AB12CDE"));
        assert!(n.unknown.is_empty());
        let mut v = car();
        v.fuel_type = Some(FuelType::Other("Steam".into()));
        v.colour = Some("NARDO".into());
        let n = vocabularies(&mut v);
        assert_eq!(
            n.unknown,
            vec![
                ("fuel-type", "Steam".to_string()),
                ("colour", "NARDO".to_string())
            ]
        );
        assert_eq!(v.colour.as_deref(), Some("Nardo"));
    }

    #[test]
    fn terminology_makes_one_term_of_many() {
        let t = Terminology::new(&default_terminology());
        assert_eq!(
            t.apply("FSH, sat-nav. Complete maintenance records and full service history!"),
            "Full service history, sat nav. Full service history and full service history!"
        );
        assert_eq!(
            t.apply("Comes with FDSH"),
            "Comes with full dealer service history"
        );
        assert_eq!(t.apply("FSHX and AFSH stay"), "FSHX and AFSH stay");
        assert_eq!(t.apply("A/C works"), "Air conditioning works");
        assert_eq!(t.apply("ULEZ ok"), "ULEZ compliant");
        let mut d = BTreeMap::new();
        d.insert("FSH".to_string(), vec!["full service history".to_string()]);
        let t = Terminology::new(&d);
        assert_eq!(
            t.apply("has full service history"),
            "has FSH",
            "acronyms keep their case"
        );
    }

    #[test]
    fn templates_fill_placeholders_and_tidy_gaps() {
        let mut v = car();
        v.make = Some("Ford".into());
        v.model = Some("Focus".into());
        v.variant = None;
        v.colour = Some("Blue".into());
        v.model_year = Some(2021);
        v.mileage.as_mut().unwrap().value = 23456;
        v.description = None;
        let out = render_template(
            "{year} {make} {model} {variant} in {colour}, {mileage} miles. {description}",
            &v,
        );
        assert_eq!(out, "2021 Ford Focus in Blue, 23,456 miles.");
        assert!(check_template("{make} {modle}")
            .unwrap_err()
            .contains("{modle}"));
        assert!(check_template("{make} {fuel}").is_ok());
        v.fuel_type = Some(FuelType::PlugInHybrid);
        assert_eq!(render_template("{fuel}", &v), "plug-in hybrid");
    }
}
