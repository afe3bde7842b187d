//! Realistic UK sample stock for the demo, benchmarks and tests.
//!
//! Deterministic for a given seed: the same call always yields the same
//! forecourt, so golden outputs and benchmark ratios are comparable.

use crate::runtime::types::{
    BodyStyle, Condition, Date, FuelType, HubOnly, Image, Mileage, MileageUnit, Money,
    ServiceHistory, StockStatus, Transmission, VatStatus, Vehicle, VehicleType,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Model {
    make: &'static str,
    model: &'static str,
    variants: &'static [&'static str],
    body: BodyStyle,
    fuel: FuelType,
    engine_cc: Option<u32>,
    power_bhp: u32,
    doors: u8,
    seats: u8,
    new_price_pounds: u32,
    vehicle_type: VehicleType,
}

fn models() -> Vec<Model> {
    use BodyStyle as B;
    use FuelType as F;
    let car = || VehicleType::Car;
    vec![
        Model {
            make: "Ford",
            model: "Fiesta",
            variants: &[
                "1.0 EcoBoost Titanium 5dr",
                "1.0 EcoBoost ST-Line 5dr",
                "1.1 Zetec 5dr",
            ],
            body: B::Hatchback,
            fuel: F::Petrol,
            engine_cc: Some(999),
            power_bhp: 100,
            doors: 5,
            seats: 5,
            new_price_pounds: 19_500,
            vehicle_type: car(),
        },
        Model {
            make: "Ford",
            model: "Focus",
            variants: &["1.0 EcoBoost ST-Line X 5dr", "1.5 EcoBlue Titanium 5dr"],
            body: B::Hatchback,
            fuel: F::Petrol,
            engine_cc: Some(999),
            power_bhp: 125,
            doors: 5,
            seats: 5,
            new_price_pounds: 25_000,
            vehicle_type: car(),
        },
        Model {
            make: "Vauxhall",
            model: "Corsa",
            variants: &["1.2 SE 5dr", "1.2 Turbo Elite Nav 5dr"],
            body: B::Hatchback,
            fuel: F::Petrol,
            engine_cc: Some(1199),
            power_bhp: 100,
            doors: 5,
            seats: 5,
            new_price_pounds: 18_900,
            vehicle_type: car(),
        },
        Model {
            make: "Volkswagen",
            model: "Golf",
            variants: &[
                "1.5 TSI Life 5dr",
                "2.0 TDI Style 5dr",
                "1.5 eTSI R-Line DSG 5dr",
            ],
            body: B::Hatchback,
            fuel: F::Petrol,
            engine_cc: Some(1498),
            power_bhp: 130,
            doors: 5,
            seats: 5,
            new_price_pounds: 28_500,
            vehicle_type: car(),
        },
        Model {
            make: "Volkswagen",
            model: "Polo",
            variants: &["1.0 TSI Match 5dr", "1.0 Life 5dr"],
            body: B::Hatchback,
            fuel: F::Petrol,
            engine_cc: Some(999),
            power_bhp: 95,
            doors: 5,
            seats: 5,
            new_price_pounds: 20_500,
            vehicle_type: car(),
        },
        Model {
            make: "BMW",
            model: "3 Series",
            variants: &["320d M Sport 4dr Step Auto", "330e M Sport 4dr Auto"],
            body: B::Saloon,
            fuel: F::Diesel,
            engine_cc: Some(1995),
            power_bhp: 190,
            doors: 4,
            seats: 5,
            new_price_pounds: 40_000,
            vehicle_type: car(),
        },
        Model {
            make: "BMW",
            model: "X3",
            variants: &["xDrive20d M Sport 5dr Step Auto"],
            body: B::Suv,
            fuel: F::Diesel,
            engine_cc: Some(1995),
            power_bhp: 190,
            doors: 5,
            seats: 5,
            new_price_pounds: 48_000,
            vehicle_type: car(),
        },
        Model {
            make: "Audi",
            model: "A3",
            variants: &["35 TFSI S line 5dr S Tronic", "30 TDI Sport 5dr"],
            body: B::Hatchback,
            fuel: F::Petrol,
            engine_cc: Some(1498),
            power_bhp: 150,
            doors: 5,
            seats: 5,
            new_price_pounds: 31_000,
            vehicle_type: car(),
        },
        Model {
            make: "Mercedes-Benz",
            model: "A Class",
            variants: &["A180 AMG Line 5dr Auto", "A200 Sport Executive 5dr Auto"],
            body: B::Hatchback,
            fuel: F::Petrol,
            engine_cc: Some(1332),
            power_bhp: 136,
            doors: 5,
            seats: 5,
            new_price_pounds: 32_000,
            vehicle_type: car(),
        },
        Model {
            make: "Nissan",
            model: "Qashqai",
            variants: &["1.3 DiG-T MH N-Connecta 5dr", "1.3 DiG-T Tekna 5dr"],
            body: B::Suv,
            fuel: F::MildHybrid,
            engine_cc: Some(1332),
            power_bhp: 140,
            doors: 5,
            seats: 5,
            new_price_pounds: 30_000,
            vehicle_type: car(),
        },
        Model {
            make: "Kia",
            model: "Sportage",
            variants: &["1.6 T-GDi HEV 3 5dr Auto", "1.6 T-GDi GT-Line 5dr"],
            body: B::Suv,
            fuel: F::Hybrid,
            engine_cc: Some(1598),
            power_bhp: 230,
            doors: 5,
            seats: 5,
            new_price_pounds: 33_000,
            vehicle_type: car(),
        },
        Model {
            make: "Toyota",
            model: "Yaris",
            variants: &["1.5 Hybrid Design 5dr CVT", "1.5 Hybrid Excel 5dr CVT"],
            body: B::Hatchback,
            fuel: F::Hybrid,
            engine_cc: Some(1490),
            power_bhp: 116,
            doors: 5,
            seats: 5,
            new_price_pounds: 22_500,
            vehicle_type: car(),
        },
        Model {
            make: "Toyota",
            model: "Corolla",
            variants: &["1.8 Hybrid Icon 5dr CVT", "2.0 Hybrid GR Sport 5dr CVT"],
            body: B::Hatchback,
            fuel: F::Hybrid,
            engine_cc: Some(1798),
            power_bhp: 140,
            doors: 5,
            seats: 5,
            new_price_pounds: 30_000,
            vehicle_type: car(),
        },
        Model {
            make: "Tesla",
            model: "Model 3",
            variants: &["Long Range AWD 4dr Auto", "RWD 4dr Auto"],
            body: B::Saloon,
            fuel: F::Electric,
            engine_cc: None,
            power_bhp: 346,
            doors: 4,
            seats: 5,
            new_price_pounds: 42_000,
            vehicle_type: car(),
        },
        Model {
            make: "MG",
            model: "MG4",
            variants: &["EV SE 64kWh 5dr Auto", "EV Trophy Long Range 5dr Auto"],
            body: B::Hatchback,
            fuel: F::Electric,
            engine_cc: None,
            power_bhp: 201,
            doors: 5,
            seats: 5,
            new_price_pounds: 27_000,
            vehicle_type: car(),
        },
        Model {
            make: "Hyundai",
            model: "Tucson",
            variants: &[
                "1.6 T-GDi Premium 5dr",
                "1.6 T-GDi PHEV Ultimate 5dr 4WD Auto",
            ],
            body: B::Suv,
            fuel: F::PlugInHybrid,
            engine_cc: Some(1598),
            power_bhp: 265,
            doors: 5,
            seats: 5,
            new_price_pounds: 38_000,
            vehicle_type: car(),
        },
        Model {
            make: "Skoda",
            model: "Octavia",
            variants: &["2.0 TDI SE L 5dr Estate", "1.5 TSI SE Drive 5dr Estate"],
            body: B::Estate,
            fuel: F::Diesel,
            engine_cc: Some(1968),
            power_bhp: 116,
            doors: 5,
            seats: 5,
            new_price_pounds: 27_500,
            vehicle_type: car(),
        },
        Model {
            make: "Land Rover",
            model: "Range Rover Evoque",
            variants: &["2.0 D200 R-Dynamic SE 5dr Auto"],
            body: B::Suv,
            fuel: F::MildHybrid,
            engine_cc: Some(1997),
            power_bhp: 204,
            doors: 5,
            seats: 5,
            new_price_pounds: 46_000,
            vehicle_type: car(),
        },
        Model {
            make: "Mini",
            model: "Hatch",
            variants: &["1.5 Cooper Classic 3dr", "2.0 Cooper S Sport 3dr Auto"],
            body: B::Hatchback,
            fuel: F::Petrol,
            engine_cc: Some(1499),
            power_bhp: 136,
            doors: 3,
            seats: 4,
            new_price_pounds: 22_000,
            vehicle_type: car(),
        },
        Model {
            make: "Mazda",
            model: "MX-5",
            variants: &["2.0 Sport 2dr"],
            body: B::Convertible,
            fuel: F::Petrol,
            engine_cc: Some(1998),
            power_bhp: 184,
            doors: 2,
            seats: 2,
            new_price_pounds: 29_000,
            vehicle_type: car(),
        },
        Model {
            make: "Peugeot",
            model: "5008",
            variants: &["1.2 PureTech Allure 5dr EAT8"],
            body: B::Mpv,
            fuel: F::Petrol,
            engine_cc: Some(1199),
            power_bhp: 130,
            doors: 5,
            seats: 7,
            new_price_pounds: 34_000,
            vehicle_type: car(),
        },
        Model {
            make: "Ford",
            model: "Transit Custom",
            variants: &[
                "2.0 EcoBlue 130ps Low Roof Limited Van",
                "2.0 EcoBlue 170ps L2 Trail Van",
            ],
            body: B::PanelVan,
            fuel: F::Diesel,
            engine_cc: Some(1995),
            power_bhp: 130,
            doors: 4,
            seats: 3,
            new_price_pounds: 36_000,
            vehicle_type: VehicleType::Van,
        },
        Model {
            make: "Volkswagen",
            model: "Transporter",
            variants: &["2.0 TDI 150 Highline Van"],
            body: B::PanelVan,
            fuel: F::Diesel,
            engine_cc: Some(1968),
            power_bhp: 150,
            doors: 4,
            seats: 3,
            new_price_pounds: 38_000,
            vehicle_type: VehicleType::Van,
        },
    ]
}

const COLOURS: &[&str] = &[
    "Black", "White", "Grey", "Silver", "Blue", "Red", "Green", "Orange", "Bronze",
];
const FEATURES: &[&str] = &[
    "Apple CarPlay",
    "Android Auto",
    "Heated front seats",
    "Rear parking sensors",
    "Reversing camera",
    "Adaptive cruise control",
    "Sat nav",
    "Climate control",
    "Keyless entry",
    "LED headlights",
    "Alloy wheels",
    "Bluetooth",
    "Lane keep assist",
    "Panoramic roof",
];
/// DVLA memory tags (first two letters of a current-format plate) in use.
const MEMORY_TAGS: &[&str] = &[
    "AB", "BD", "CA", "DL", "EA", "FD", "GN", "HF", "KP", "LD", "MA", "NK", "OU", "PE", "RK", "SA",
    "VO", "WR", "YA",
];

fn plate(rng: &mut StdRng, year: u16, month: u8) -> String {
    // Age identifier: March to August = YY, September to February = YY + 50
    // (January and February belong to the previous September's release).
    let yy = (year % 100) as u8;
    let age = match month {
        3..=8 => yy,
        9..=12 => yy + 50,
        _ => yy.saturating_sub(1) + 50,
    };
    let letters: Vec<char> = "ABCDEFGHJKLMNOPRSTUVWXYZ".chars().collect();
    let tag = MEMORY_TAGS[rng.random_range(0..MEMORY_TAGS.len())];
    let random: String = (0..3)
        .map(|_| letters[rng.random_range(0..letters.len())])
        .collect();
    format!("{tag}{age:02}{random}")
}

/// `count` vehicles for dealer `dealer-id`, reproducible from `seed`.
pub fn sample_stock(count: usize, seed: u64) -> Vec<Vehicle> {
    let mut rng = StdRng::seed_from_u64(seed);
    let models = models();
    (0..count).map(|i| vehicle(&mut rng, &models, i)).collect()
}

fn vehicle(rng: &mut StdRng, models: &[Model], index: usize) -> Vehicle {
    let m = &models[rng.random_range(0..models.len())];
    let variant = m.variants[rng.random_range(0..m.variants.len())];
    let is_new = rng.random_bool(0.08);
    let age_years: u16 = if is_new { 0 } else { rng.random_range(1..=9) };
    let year = 2026 - age_years;
    let month: u8 = if is_new { 9 } else { rng.random_range(1..=12) };
    let miles: u32 = if is_new {
        rng.random_range(0..=25)
    } else {
        (age_years as u32 * rng.random_range(5_000..=11_000)).div_ceil(10) * 10
    };
    // Depreciation: about 15% a year, rounded to a trade "£x95" ending.
    let value =
        m.new_price_pounds as f64 * 0.85f64.powi(age_years as i32) * rng.random_range(0.9..1.1);
    let pounds = ((value / 100.0).floor() as i64) * 100 - 5;
    let stock_id = format!("FC{:05}", 10_000 + index);
    let transmission = if variant.contains("Auto")
        || variant.contains("DSG")
        || variant.contains("CVT")
        || variant.contains("Tronic")
        || variant.contains("EAT8")
        || matches!(m.fuel, FuelType::Electric)
    {
        Transmission::Automatic
    } else {
        Transmission::Manual
    };
    let colour = COLOURS[rng.random_range(0..COLOURS.len())];
    let image_count = rng.random_range(8..=24);
    let images = (1..=image_count)
        .map(|n| Image {
            url: format!("https://images.forecourt-demo.example/{stock_id}/{n:02}.jpg"),
            width: Some(1600),
            height: Some(1200),
        })
        .collect();
    let mut features: Vec<String> = FEATURES
        .iter()
        .filter(|_| rng.random_bool(0.45))
        .map(|s| s.to_string())
        .collect();
    if features.is_empty() {
        features.push("Bluetooth".into());
    }
    let owners = if is_new {
        0
    } else {
        rng.random_range(1..=(1 + age_years as u8 / 3))
    };
    let status = match rng.random_range(0..100) {
        0..=3 => StockStatus::DueIn,
        4..=9 => StockStatus::Reserved,
        _ => StockStatus::InStock,
    };
    let service_history = if is_new {
        None
    } else {
        Some(match rng.random_range(0..10) {
            0..=4 => ServiceHistory::FullDealer,
            5..=7 => ServiceHistory::Full,
            _ => ServiceHistory::Part,
        })
    };
    let description = format!(
        "{year} {make} {model} {variant} in {colour}. {miles_text}{history}{owners_text}Finance available, part exchange welcome. {highlights}.",
        make = m.make,
        model = m.model,
        miles_text = if is_new { "Brand new, delivery miles only. ".to_string() } else { format!("{} miles. ", group_thousands(miles)) },
        history = match &service_history {
            Some(ServiceHistory::FullDealer) => "Full dealer service history. ",
            Some(ServiceHistory::Full) => "Full service history. ",
            Some(ServiceHistory::Part) => "Part service history. ",
            _ => "",
        },
        owners_text = if owners > 0 { format!("{owners} previous owner{}. ", if owners == 1 { "" } else { "s" }) } else { String::new() },
        highlights = features.iter().take(4).cloned().collect::<Vec<_>>().join(", "),
    );
    let hub_only = rng.random_bool(0.2).then(|| HubOnly {
        internal_notes: Some("Bought at auction; check tyre tread before handover.".into()),
        previous_keeper: None,
        part_exchange: None,
        cost_price: Some(Money {
            amount_minor: (pounds - 1500) * 100,
            currency: "GBP".into(),
        }),
    });
    Vehicle {
        dealer_id: "dealer-001".into(),
        location_id: if index.is_multiple_of(3) {
            "manchester".into()
        } else {
            "stockport".into()
        },
        stock_id,
        registration: (!is_new || rng.random_bool(0.5)).then(|| plate(rng, year, month)),
        vin: rng.random_bool(0.85).then(|| vin(rng)),
        make: Some(m.make.into()),
        model: Some(m.model.into()),
        variant: Some(variant.into()),
        trim: variant
            .split_whitespace()
            .rev()
            .find(|w| w.chars().next().is_some_and(char::is_uppercase))
            .map(str::to_string),
        vehicle_type: m.vehicle_type.clone(),
        body_style: Some(m.body.clone()),
        fuel_type: Some(m.fuel.clone()),
        transmission: Some(transmission),
        drivetrain: None,
        doors: Some(m.doors),
        seats: Some(m.seats),
        engine_size_cc: m.engine_cc,
        power_bhp: Some(m.power_bhp),
        co2_g_per_km: Some(match m.fuel {
            FuelType::Electric => 0,
            _ => rng.random_range(95..=165),
        }),
        emissions_standard: Some("Euro 6".into()),
        colour: Some(colour.into()),
        first_registration: (!is_new).then(|| Date {
            year,
            month,
            day: rng.random_range(1..=28),
        }),
        model_year: Some(year),
        mileage: Some(Mileage {
            value: miles,
            unit: MileageUnit::Miles,
        }),
        price: Some(Money {
            amount_minor: pounds * 100,
            currency: "GBP".into(),
        }),
        vat: if matches!(m.vehicle_type, VehicleType::Van) {
            VatStatus::PlusVat
        } else {
            VatStatus::IncVat
        },
        condition: if is_new {
            Condition::New
        } else {
            Condition::Used
        },
        service_history,
        previous_owners: (!is_new).then_some(owners),
        mot_expiry: (age_years >= 3).then(|| Date {
            year: 2027,
            month: rng.random_range(1..=12),
            day: rng.random_range(1..=28),
        }),
        features,
        description: Some(description),
        images,
        status,
        date_in_stock: Some(Date {
            year: 2026,
            month: rng.random_range(8..=11),
            day: rng.random_range(1..=28),
        }),
        attributes: vec![],
        hub_only,
    }
}

fn vin(rng: &mut StdRng) -> String {
    let chars: Vec<char> = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789".chars().collect();
    let wmi = [
        "WVW", "WBA", "SAL", "VF3", "TMB", "KNA", "JTD", "WF0", "SJN", "WAU",
    ][rng.random_range(0..10)];
    let rest: String = (0..14)
        .map(|_| chars[rng.random_range(0..chars.len())])
        .collect();
    format!("{wmi}{rest}")
}

fn group_thousands(n: u32) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The canonical export header set (what the `csv-export` plugin recognises
/// without a mapping).
pub const EXPORT_HEADERS: &[&str] = &[
    "StockNo",
    "Registration",
    "VIN",
    "Make",
    "Model",
    "Derivative",
    "Trim",
    "VehicleType",
    "BodyType",
    "FuelType",
    "Transmission",
    "Drivetrain",
    "Doors",
    "Seats",
    "EngineSizeCC",
    "PowerBHP",
    "CO2",
    "EuroStatus",
    "Colour",
    "FirstRegistered",
    "Year",
    "Mileage",
    "Price",
    "VAT",
    "Condition",
    "ServiceHistory",
    "PreviousOwners",
    "MOTExpiry",
    "Features",
    "Description",
    "Images",
    "Status",
    "DateInStock",
    "Location",
    "InternalNotes",
    "CostPrice",
];

/// Write vehicles as a DMS stock export (CSV, UK conventions: dd/mm/yyyy
/// dates, "£12,995" prices, "45,000" miles, pipe-separated images).
pub fn to_export_csv(stock: &[Vehicle]) -> Vec<u8> {
    use crate::runtime::types::{Drivetrain, FuelType as F};
    let date = |d: &Option<Date>| {
        d.as_ref()
            .map(|d| format!("{:02}/{:02}/{}", d.day, d.month, d.year))
            .unwrap_or_default()
    };
    let pounds = |m: &Option<Money>| {
        m.as_ref()
            .map(|m| format!("£{}", group_thousands((m.amount_minor / 100).max(0) as u32)))
            .unwrap_or_default()
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(EXPORT_HEADERS)
        .expect("in-memory writes succeed");
    for v in stock {
        let fuel = match &v.fuel_type {
            Some(F::Petrol) => "Petrol".into(),
            Some(F::Diesel) => "Diesel".into(),
            Some(F::Electric) => "Electric".into(),
            Some(F::Hybrid) => "Hybrid".into(),
            Some(F::PlugInHybrid) => "Plug-in Hybrid".into(),
            Some(F::MildHybrid) => "Mild Hybrid".into(),
            Some(F::Lpg) => "LPG".into(),
            Some(F::Hydrogen) => "Hydrogen".into(),
            Some(F::Other(o)) => o.clone(),
            None => String::new(),
        };
        let body = match &v.body_style {
            Some(BodyStyle::Hatchback) => "Hatchback".into(),
            Some(BodyStyle::Saloon) => "Saloon".into(),
            Some(BodyStyle::Estate) => "Estate".into(),
            Some(BodyStyle::Suv) => "SUV".into(),
            Some(BodyStyle::Coupe) => "Coupe".into(),
            Some(BodyStyle::Convertible) => "Convertible".into(),
            Some(BodyStyle::Mpv) => "MPV".into(),
            Some(BodyStyle::Pickup) => "Pickup".into(),
            Some(BodyStyle::PanelVan) => "Panel Van".into(),
            Some(BodyStyle::Minibus) => "Minibus".into(),
            Some(BodyStyle::Other(o)) => o.clone(),
            None => String::new(),
        };
        let record: Vec<String> = vec![
            v.stock_id.clone(),
            v.registration.clone().unwrap_or_default(),
            v.vin.clone().unwrap_or_default(),
            v.make.clone().unwrap_or_default(),
            v.model.clone().unwrap_or_default(),
            v.variant.clone().unwrap_or_default(),
            v.trim.clone().unwrap_or_default(),
            match v.vehicle_type {
                VehicleType::Van => "Van".into(),
                _ => "Car".into(),
            },
            body,
            fuel,
            match &v.transmission {
                Some(Transmission::Automatic) => "Automatic".into(),
                Some(Transmission::Manual) => "Manual".into(),
                _ => String::new(),
            },
            match &v.drivetrain {
                Some(Drivetrain::AllWheelDrive) => "AWD".into(),
                Some(Drivetrain::FourWheelDrive) => "4WD".into(),
                Some(Drivetrain::FrontWheelDrive) => "FWD".into(),
                Some(Drivetrain::RearWheelDrive) => "RWD".into(),
                _ => String::new(),
            },
            v.doors.map(|d| d.to_string()).unwrap_or_default(),
            v.seats.map(|d| d.to_string()).unwrap_or_default(),
            v.engine_size_cc.map(|d| d.to_string()).unwrap_or_default(),
            v.power_bhp.map(|d| d.to_string()).unwrap_or_default(),
            v.co2_g_per_km.map(|d| d.to_string()).unwrap_or_default(),
            v.emissions_standard.clone().unwrap_or_default(),
            v.colour.clone().unwrap_or_default(),
            date(&v.first_registration),
            v.model_year.map(|d| d.to_string()).unwrap_or_default(),
            v.mileage
                .as_ref()
                .map(|m| group_thousands(m.value))
                .unwrap_or_default(),
            pounds(&v.price),
            match v.vat {
                VatStatus::IncVat => "Inc VAT".into(),
                VatStatus::PlusVat => "Plus VAT".into(),
                VatStatus::NoVat => "No VAT".into(),
            },
            match v.condition {
                Condition::New => "New".into(),
                Condition::Used => "Used".into(),
            },
            match &v.service_history {
                Some(ServiceHistory::FullDealer) => "Full dealer".into(),
                Some(ServiceHistory::Full) => "Full".into(),
                Some(ServiceHistory::Part) => "Part".into(),
                Some(ServiceHistory::None) => "None".into(),
                Some(ServiceHistory::Other(o)) => o.clone(),
                None => String::new(),
            },
            v.previous_owners.map(|d| d.to_string()).unwrap_or_default(),
            date(&v.mot_expiry),
            v.features.join("|"),
            v.description.clone().unwrap_or_default(),
            v.images
                .iter()
                .map(|i| i.url.clone())
                .collect::<Vec<_>>()
                .join("|"),
            match v.status {
                StockStatus::DueIn => "Due In".into(),
                StockStatus::InStock => "In Stock".into(),
                StockStatus::Reserved => "Reserved".into(),
                StockStatus::Sold => "Sold".into(),
                StockStatus::Withdrawn => "Withdrawn".into(),
            },
            date(&v.date_in_stock),
            v.location_id.clone(),
            v.hub_only
                .as_ref()
                .and_then(|h| h.internal_notes.clone())
                .unwrap_or_default(),
            pounds(&v.hub_only.as_ref().and_then(|h| h.cost_price.clone())),
        ];
        w.write_record(&record).expect("in-memory writes succeed");
    }
    w.into_inner().expect("in-memory writer flushes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_plausible() {
        let a = sample_stock(200, 7);
        let b = sample_stock(200, 7);
        assert_eq!(a.len(), 200);
        assert_eq!(format!("{:?}", a[17]), format!("{:?}", b[17]));
        let ids: std::collections::BTreeSet<_> = a.iter().map(|v| v.stock_id.clone()).collect();
        assert_eq!(ids.len(), 200, "stock ids are unique");
        for v in &a {
            let price = v.price.as_ref().unwrap().amount_minor;
            assert!(price > 100_000, "{} priced {price}", v.stock_id);
            assert!(v.images.len() >= 8);
            if let Some(reg) = &v.registration {
                assert_eq!(reg.len(), 7, "{reg}");
            }
        }
    }

    #[test]
    fn plates_follow_the_age_identifier() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(&plate(&mut rng, 2021, 3)[2..4], "21");
        assert_eq!(&plate(&mut rng, 2021, 10)[2..4], "71");
        assert_eq!(&plate(&mut rng, 2022, 2)[2..4], "71");
        assert_eq!(group_thousands(45000), "45,000");
    }
}
