//! The vehicles every platform plugin is tried on: the SDK testkit's shared
//! fixtures (the cases the reference plugins' golden tests use) and generated
//! hostile and edge cases (empty strings, a 100,000-character description,
//! right-to-left and emoji text, control characters, every optional field
//! missing, maximum and zero numbers, impossible dates, a thousand images).

use crate::runtime::types as t;
use forecourt_sdk as sdk;

/// One named vehicle of the corpus.
#[derive(Debug, Clone)]
pub struct Case {
    /// Where it comes from and what it tries, e.g. `sdk:special_characters`.
    pub name: String,
    /// The vehicle, without `hub-only` (the host strips it before any
    /// platform plugin sees a vehicle, and so does the kit).
    pub vehicle: t::Vehicle,
}

macro_rules! open_variant {
    ($value:expr, $from:ident => $to:ident { $($case:ident),* }) => {
        match $value {
            $(sdk::$from::$case => t::$to::$case,)*
            sdk::$from::Other(o) => t::$to::Other(o),
        }
    };
}

fn date(d: sdk::Date) -> t::Date {
    t::Date {
        year: d.year,
        month: d.month,
        day: d.day,
    }
}

fn money(m: sdk::Money) -> t::Money {
    t::Money {
        amount_minor: m.amount_minor,
        currency: m.currency,
    }
}

fn status(s: sdk::StockStatus) -> t::StockStatus {
    match s {
        sdk::StockStatus::DueIn => t::StockStatus::DueIn,
        sdk::StockStatus::InStock => t::StockStatus::InStock,
        sdk::StockStatus::Reserved => t::StockStatus::Reserved,
        sdk::StockStatus::Sold => t::StockStatus::Sold,
        sdk::StockStatus::Withdrawn => t::StockStatus::Withdrawn,
    }
}

/// The host's form of an SDK vehicle (both are generated from `wit/`).
pub fn from_sdk(v: sdk::Vehicle) -> t::Vehicle {
    t::Vehicle {
        dealer_id: v.dealer_id,
        location_id: v.location_id,
        stock_id: v.stock_id,
        registration: v.registration,
        vin: v.vin,
        make: v.make,
        model: v.model,
        variant: v.variant,
        trim: v.trim,
        vehicle_type: open_variant!(v.vehicle_type, VehicleType => VehicleType { Car, Van, Motorcycle, Motorhome, Truck }),
        body_style: v.body_style.map(|b| {
            open_variant!(b, BodyStyle => BodyStyle {
                Hatchback, Saloon, Estate, Suv, Coupe, Convertible, Mpv, Pickup, PanelVan, Minibus
            })
        }),
        fuel_type: v.fuel_type.map(|f| {
            open_variant!(f, FuelType => FuelType {
                Petrol, Diesel, Electric, Hybrid, PlugInHybrid, MildHybrid, Lpg, Hydrogen
            })
        }),
        transmission: v.transmission.map(|x| {
            open_variant!(x, Transmission => Transmission {
                Manual, Automatic, SemiAutomatic, Cvt
            })
        }),
        drivetrain: v.drivetrain.map(|d| {
            open_variant!(d, Drivetrain => Drivetrain {
                FrontWheelDrive, RearWheelDrive, AllWheelDrive, FourWheelDrive
            })
        }),
        doors: v.doors,
        seats: v.seats,
        engine_size_cc: v.engine_size_cc,
        power_bhp: v.power_bhp,
        co2_g_per_km: v.co2_g_per_km,
        emissions_standard: v.emissions_standard,
        colour: v.colour,
        first_registration: v.first_registration.map(date),
        model_year: v.model_year,
        mileage: v.mileage.map(|m| t::Mileage {
            value: m.value,
            unit: match m.unit {
                sdk::MileageUnit::Miles => t::MileageUnit::Miles,
                sdk::MileageUnit::Kilometres => t::MileageUnit::Kilometres,
            },
        }),
        price: v.price.map(money),
        vat: match v.vat {
            sdk::VatStatus::IncVat => t::VatStatus::IncVat,
            sdk::VatStatus::PlusVat => t::VatStatus::PlusVat,
            sdk::VatStatus::NoVat => t::VatStatus::NoVat,
        },
        condition: match v.condition {
            sdk::Condition::New => t::Condition::New,
            sdk::Condition::Used => t::Condition::Used,
        },
        service_history: v.service_history.map(|s| {
            open_variant!(s, ServiceHistory => ServiceHistory {
                FullDealer, Full, Part, None
            })
        }),
        previous_owners: v.previous_owners,
        mot_expiry: v.mot_expiry.map(date),
        features: v.features,
        description: v.description,
        images: v
            .images
            .into_iter()
            .map(|i| t::Image {
                url: i.url,
                width: i.width,
                height: i.height,
            })
            .collect(),
        status: status(v.status),
        date_in_stock: v.date_in_stock.map(date),
        attributes: v
            .attributes
            .into_iter()
            .map(|a| t::Attribute {
                key: a.key,
                value: a.value,
            })
            .collect(),
        hub_only: None,
    }
}

/// A complete, valid used car (the SDK's base fixture).
pub fn base(stock_id: &str) -> t::Vehicle {
    from_sdk(sdk::testkit::fixtures::base(stock_id))
}

/// Generated hostile and edge cases.
fn generated() -> Vec<(&'static str, t::Vehicle)> {
    let every_optional_missing = t::Vehicle {
        registration: None,
        vin: None,
        make: None,
        model: None,
        variant: None,
        trim: None,
        body_style: None,
        fuel_type: None,
        transmission: None,
        drivetrain: None,
        doors: None,
        seats: None,
        engine_size_cc: None,
        power_bhp: None,
        co2_g_per_km: None,
        emissions_standard: None,
        colour: None,
        first_registration: None,
        model_year: None,
        mileage: None,
        price: None,
        service_history: None,
        previous_owners: None,
        mot_expiry: None,
        features: vec![],
        description: None,
        images: vec![],
        date_in_stock: None,
        attributes: vec![],
        ..base("EDGE-NONE")
    };
    let empty = |s: &str| Some(s.to_string());
    vec![
        ("every_optional_missing", every_optional_missing),
        (
            "empty_strings",
            t::Vehicle {
                dealer_id: String::new(),
                location_id: String::new(),
                registration: empty(""),
                vin: empty(""),
                make: empty(""),
                model: empty(""),
                variant: empty(""),
                trim: empty(""),
                colour: empty(""),
                emissions_standard: empty(""),
                description: empty(""),
                features: vec![String::new(), String::new()],
                images: vec![t::Image {
                    url: String::new(),
                    width: None,
                    height: None,
                }],
                attributes: vec![t::Attribute {
                    key: String::new(),
                    value: String::new(),
                }],
                price: Some(t::Money {
                    amount_minor: 1_000_00,
                    currency: String::new(),
                }),
                ..base("EDGE-EMPTY")
            },
        ),
        (
            "empty_stock_id",
            t::Vehicle {
                stock_id: String::new(),
                ..base("")
            },
        ),
        (
            "description_100k_chars",
            t::Vehicle {
                description: Some("Spotless. Full history. ".repeat(4_200)[..100_000].to_string()),
                ..base("EDGE-HUGE-TEXT")
            },
        ),
        (
            "unicode_rtl_emoji",
            t::Vehicle {
                make: Some("Škoda".into()),
                model: Some("Octavia vRS 🏎️‍🔥".into()),
                variant: Some("\u{202E}evird-thgir\u{202C} 2.0 TSI".into()),
                colour: Some("أزرق ليلي".into()),
                description: Some(
                    "מכונית מצוינת · 日本語の説明 · Ελληνικά · 👨‍👩‍👧‍👦 · e\u{301} · \u{FEFF}BOM · \u{200B}zero width · 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"
                        .into(),
                ),
                features: vec!["Climatronic®".into(), "Ä/Ö/Ü heated seats".into(), "🚗".into()],
                attributes: vec![t::Attribute {
                    key: "备注".into(),
                    value: "\u{1F600}".into(),
                }],
                ..base("EDGE-ÜNICODE-🚗")
            },
        ),
        (
            "control_and_markup_characters",
            t::Vehicle {
                make: Some("Ford\u{0}".into()),
                model: Some("Focus\r\n<script>alert(1)</script>".into()),
                variant: Some("\"quoted\" 'single' \\backslash\\ \t tab".into()),
                description: Some("line1\nline2\u{1}\u{1b}[31mred\u{7f}&amp;&lt;]]><!--".into()),
                colour: Some("   ".into()),
                ..base("EDGE-CONTROL\t1")
            },
        ),
        (
            "maximum_numbers",
            t::Vehicle {
                doors: Some(u8::MAX),
                seats: Some(u8::MAX),
                engine_size_cc: Some(u32::MAX),
                power_bhp: Some(u32::MAX),
                co2_g_per_km: Some(u32::MAX),
                model_year: Some(u16::MAX),
                previous_owners: Some(u8::MAX),
                mileage: Some(t::Mileage {
                    value: u32::MAX,
                    unit: t::MileageUnit::Kilometres,
                }),
                price: Some(t::Money {
                    amount_minor: i64::MAX,
                    currency: "GBP".into(),
                }),
                images: vec![t::Image {
                    url: "https://img.dealer.example/max.jpg".into(),
                    width: Some(u32::MAX),
                    height: Some(u32::MAX),
                }],
                ..base("EDGE-MAX")
            },
        ),
        (
            "zero_numbers",
            t::Vehicle {
                doors: Some(0),
                seats: Some(0),
                engine_size_cc: Some(0),
                power_bhp: Some(0),
                co2_g_per_km: Some(0),
                model_year: Some(0),
                previous_owners: Some(0),
                mileage: Some(t::Mileage {
                    value: 0,
                    unit: t::MileageUnit::Miles,
                }),
                price: Some(t::Money {
                    amount_minor: 0,
                    currency: "GBP".into(),
                }),
                images: vec![t::Image {
                    url: "https://img.dealer.example/zero.jpg".into(),
                    width: Some(0),
                    height: Some(0),
                }],
                ..base("EDGE-ZERO")
            },
        ),
        (
            "negative_price_odd_currency",
            t::Vehicle {
                price: Some(t::Money {
                    amount_minor: i64::MIN,
                    currency: "pounds sterling".into(),
                }),
                ..base("EDGE-NEGATIVE")
            },
        ),
        (
            "impossible_dates",
            t::Vehicle {
                first_registration: Some(t::Date {
                    year: 0,
                    month: 13,
                    day: 0,
                }),
                mot_expiry: Some(t::Date {
                    year: 2023,
                    month: 2,
                    day: 30,
                }),
                date_in_stock: Some(t::Date {
                    year: u16::MAX,
                    month: u8::MAX,
                    day: u8::MAX,
                }),
                ..base("EDGE-DATES")
            },
        ),
        (
            "thousand_images_and_features",
            t::Vehicle {
                images: (0..1000)
                    .map(|n| t::Image {
                        url: format!("https://img.dealer.example/stock/{n:04}.jpg"),
                        width: Some(1600),
                        height: Some(1200),
                    })
                    .collect(),
                features: (0..1000).map(|n| format!("Feature {n}")).collect(),
                attributes: (0..200)
                    .map(|n| t::Attribute {
                        key: format!("key-{n}"),
                        value: format!("value {n}"),
                    })
                    .collect(),
                ..base("EDGE-MANY")
            },
        ),
        (
            "hostile_urls",
            t::Vehicle {
                images: vec![
                    t::Image {
                        url: "javascript:alert(1)".into(),
                        width: None,
                        height: None,
                    },
                    t::Image {
                        url: "file:///etc/passwd".into(),
                        width: None,
                        height: None,
                    },
                    t::Image {
                        url: "https://img.dealer.example/a b\"<>.jpg".into(),
                        width: None,
                        height: None,
                    },
                ],
                ..base("EDGE-URLS")
            },
        ),
        (
            "other_everywhere",
            t::Vehicle {
                vehicle_type: t::VehicleType::Other("Quad bike 🛻".into()),
                body_style: Some(t::BodyStyle::Other(String::new())),
                fuel_type: Some(t::FuelType::Other("\u{0}".into())),
                transmission: Some(t::Transmission::Other("x".repeat(10_000))),
                drivetrain: Some(t::Drivetrain::Other("6x6".into())),
                service_history: Some(t::ServiceHistory::Other("stamped book \u{202E}".into())),
                ..base("EDGE-OTHER")
            },
        ),
    ]
}

/// The whole corpus: SDK fixtures first, then generated cases, then the
/// plugin author's own (from `--fixtures`).
pub fn corpus(extra: Vec<Case>) -> Vec<Case> {
    let mut cases: Vec<Case> = sdk::testkit::fixtures::cases()
        .into_iter()
        .map(|(name, v)| Case {
            name: format!("sdk:{name}"),
            vehicle: from_sdk(v),
        })
        .collect();
    cases.extend(generated().into_iter().map(|(name, vehicle)| Case {
        name: format!("edge:{name}"),
        vehicle,
    }));
    cases.extend(extra);
    cases
}

/// The contract's field names (kebab-case, as `validation-issue.field` and
/// `required-fields` use them).
pub const CONTRACT_FIELDS: &[&str] = &[
    "dealer-id",
    "location-id",
    "stock-id",
    "registration",
    "vin",
    "make",
    "model",
    "variant",
    "trim",
    "vehicle-type",
    "body-style",
    "fuel-type",
    "transmission",
    "drivetrain",
    "doors",
    "seats",
    "engine-size-cc",
    "power-bhp",
    "co2-g-per-km",
    "emissions-standard",
    "colour",
    "first-registration",
    "model-year",
    "mileage",
    "price",
    "vat",
    "condition",
    "service-history",
    "previous-owners",
    "mot-expiry",
    "features",
    "description",
    "images",
    "status",
    "date-in-stock",
    "attributes",
];

/// Whether `field` names something real: a contract field, optionally with
/// a sub-path (`price.currency`, `images[3].url`); `config`; or a platform
/// field prefixed with the platform (`autotrader:derivativeId`).
pub fn is_real_field(field: &str) -> bool {
    if field == "config" || field.starts_with("config.") {
        return true;
    }
    if let Some((platform, name)) = field.split_once(':') {
        let word = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.[]".contains(c))
        };
        return word(platform) && word(name);
    }
    let head = field.split(['.', '[']).next().unwrap_or_default();
    CONTRACT_FIELDS.contains(&head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_covers_fixtures_and_edges() {
        let cases = corpus(vec![]);
        assert!(cases.iter().any(|c| c.name == "sdk:special_characters"));
        let huge = cases
            .iter()
            .find(|c| c.name == "edge:description_100k_chars")
            .unwrap();
        assert_eq!(huge.vehicle.description.as_ref().unwrap().len(), 100_000);
        assert!(cases.iter().all(|c| c.vehicle.hub_only.is_none()));
        let mut names: Vec<_> = cases.iter().map(|c| &c.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), cases.len(), "case names are unique");
    }

    #[test]
    fn real_fields() {
        for ok in [
            "price",
            "images[2].url",
            "price.currency",
            "autotrader:derivativeId",
            "config",
            "stock-id",
        ] {
            assert!(is_real_field(ok), "{ok}");
        }
        for bad in ["colour_name", "", "Price", "vehicle.colour", ":x", "a b:c"] {
            assert!(!is_real_field(bad), "{bad}");
        }
    }
}
