//! The shared fixture set of the reference platform plugins' golden tests:
//! a complete, valid used car ([`base`]) and the edge cases every platform
//! must handle ([`cases`]): missing optional fields, unicode and special
//! characters, no images, 150 images, an electric car, a new car with 0
//! miles, a van priced ex-VAT, a Northern Ireland registration without VIN.

#![allow(missing_docs)]

use crate::{
    Attribute, BodyStyle, Condition, Date, Drivetrain, FuelType, HubOnly, Image, Mileage,
    MileageUnit, Money, Person, ServiceHistory, StockStatus, Transmission, VatStatus, Vehicle,
    VehicleType,
};

/// `Some(v.to_string())`.
pub fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// An image URL with dimensions.
pub fn image(n: usize, width: u32, height: u32) -> Image {
    Image {
        url: format!("https://img.dealer.example/stock/{n:03}.jpg"),
        width: Some(width),
        height: Some(height),
    }
}

/// A GBP price in pence.
pub fn gbp(amount_minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor,
        currency: "GBP".into(),
    })
}

/// A complete used car, as a good DMS would describe it.
pub fn base(stock_id: &str) -> Vehicle {
    Vehicle {
        dealer_id: "dealer-1".into(),
        location_id: "leeds".into(),
        stock_id: stock_id.into(),
        registration: s("AB19CDE"),
        vin: s("WVWZZZAUZKW123456"),
        make: s("Volkswagen"),
        model: s("Golf"),
        variant: s("1.5 TSI EVO SE 5dr"),
        trim: s("SE"),
        vehicle_type: VehicleType::Car,
        body_style: Some(BodyStyle::Hatchback),
        fuel_type: Some(FuelType::Petrol),
        transmission: Some(Transmission::Manual),
        drivetrain: Some(Drivetrain::FrontWheelDrive),
        doors: Some(5),
        seats: Some(5),
        engine_size_cc: Some(1498),
        power_bhp: Some(148),
        co2_g_per_km: Some(118),
        emissions_standard: s("Euro 6"),
        colour: s("Atlantic Blue"),
        first_registration: Some(Date {
            year: 2019,
            month: 3,
            day: 14,
        }),
        model_year: Some(2019),
        mileage: Some(Mileage {
            value: 24000,
            unit: MileageUnit::Miles,
        }),
        price: gbp(1_299_500),
        vat: VatStatus::NoVat,
        condition: Condition::Used,
        service_history: Some(ServiceHistory::FullDealer),
        previous_owners: Some(1),
        mot_expiry: Some(Date {
            year: 2025,
            month: 3,
            day: 13,
        }),
        features: vec![
            "Adaptive cruise control".into(),
            "Apple CarPlay".into(),
            "Heated seats".into(),
        ],
        description: s("One owner from new with full Volkswagen service history."),
        images: (1..=3).map(|n| image(n, 1600, 1200)).collect(),
        status: StockStatus::InStock,
        date_in_stock: Some(Date {
            year: 2024,
            month: 4,
            day: 2,
        }),
        attributes: vec![Attribute {
            key: "autotrader:advertId".into(),
            value: "202404021234567".into(),
        }],
        // The host strips this before a platform sees it; a plugin must
        // never copy it anywhere even if it were present.
        hub_only: Some(HubOnly {
            internal_notes: s("Bought at auction, needs valet"),
            previous_keeper: Some(Person {
                name: s("Jane Keeper"),
                email: s("jane@example.com"),
                phone: None,
                address: None,
            }),
            part_exchange: None,
            cost_price: gbp(1_050_000),
        }),
    }
}

/// Every golden case: a name (the golden file's stem) and its vehicle.
pub fn cases() -> Vec<(&'static str, Vehicle)> {
    vec![
        ("complete_used_car", base("GV-001")),
        ("missing_optional_fields", {
            Vehicle {
                registration: None,
                vin: None,
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
                service_history: None,
                previous_owners: None,
                mot_expiry: None,
                features: vec![],
                description: None,
                images: vec![Image {
                    url: "https://img.dealer.example/stock/only.jpg".into(),
                    width: None,
                    height: None,
                }],
                date_in_stock: None,
                attributes: vec![],
                hub_only: None,
                ..base("GV-002")
            }
        }),
        ("special_characters", {
            Vehicle {
                make: s("Citroën"),
                model: s("C5 Aircross"),
                variant: s("1.2 PureTech \"Shine\" & Plus\t5dr"),
                colour: s("Rouge Élixir"),
                description: s(concat!(
                    "<p>Stunning car! \"Like new\" & it's ready 🚗💨</p>\n",
                    "<ul><li>Heated seats</li><li>Sat-nav</li></ul>\r\n",
                    "Price <£15k>, 0% APR\tavailable; call 0113 496 0000.\n",
                    "Über-comfy · ½ leather · 日本語 · \u{1}control char"
                )),
                features: vec!["Heated seats".into(), "Sat-nav".into()],
                ..base("GV-003/É")
            }
        }),
        (
            "no_images",
            Vehicle {
                images: vec![],
                ..base("GV-004")
            },
        ),
        (
            "many_images",
            Vehicle {
                images: (1..=150).map(|n| image(n, 1600, 1200)).collect(),
                ..base("GV-005")
            },
        ),
        (
            "small_images",
            Vehicle {
                images: vec![
                    image(1, 800, 600),
                    image(2, 640, 480),
                    image(3, 64, 48),
                    Image {
                        url: "/relative/photo.jpg".into(),
                        width: None,
                        height: None,
                    },
                    image(5, 1024, 768),
                ],
                ..base("GV-006")
            },
        ),
        (
            "tiny_main_image",
            Vehicle {
                images: vec![image(1, 90, 90), image(2, 1600, 1200)],
                ..base("GV-007")
            },
        ),
        (
            "electric_no_engine_size",
            Vehicle {
                make: s("Tesla"),
                model: s("Model 3"),
                variant: s("Long Range AWD"),
                trim: s("Long Range"),
                body_style: Some(BodyStyle::Saloon),
                fuel_type: Some(FuelType::Electric),
                transmission: Some(Transmission::Automatic),
                drivetrain: Some(Drivetrain::AllWheelDrive),
                engine_size_cc: None,
                co2_g_per_km: Some(0),
                emissions_standard: None,
                colour: s("Pearl White"),
                first_registration: Some(Date {
                    year: 2021,
                    month: 9,
                    day: 1,
                }),
                model_year: Some(2021),
                mileage: Some(Mileage {
                    value: 31250,
                    unit: MileageUnit::Miles,
                }),
                price: gbp(2_749_950),
                vin: s("5YJ3E7EB1MF000001"),
                ..base("GV-008")
            },
        ),
        (
            "new_car_zero_miles",
            Vehicle {
                registration: None,
                make: s("Kia"),
                model: s("Sportage"),
                variant: s("1.6 T-GDi HEV GT-Line 5dr Auto"),
                trim: s("GT-Line"),
                body_style: Some(BodyStyle::Suv),
                fuel_type: Some(FuelType::Hybrid),
                transmission: Some(Transmission::Automatic),
                condition: Condition::New,
                first_registration: None,
                model_year: Some(2025),
                mileage: Some(Mileage {
                    value: 0,
                    unit: MileageUnit::Miles,
                }),
                previous_owners: Some(0),
                service_history: None,
                mot_expiry: None,
                price: gbp(3_649_500),
                vat: VatStatus::IncVat,
                vin: None,
                ..base("GV-009")
            },
        ),
        (
            "commercial_van_plus_vat",
            Vehicle {
                make: s("Ford"),
                model: s("Transit Custom"),
                variant: s("2.0 EcoBlue 130ps Low Roof Limited Van"),
                trim: s("Limited"),
                vehicle_type: VehicleType::Van,
                body_style: Some(BodyStyle::PanelVan),
                fuel_type: Some(FuelType::Diesel),
                price: gbp(2_199_500),
                vat: VatStatus::PlusVat,
                ..base("GV-010")
            },
        ),
        (
            "pickup_plus_vat",
            Vehicle {
                make: s("Toyota"),
                model: s("Hilux"),
                variant: s("2.8 D-4D Invincible X Double Cab Pickup Auto"),
                trim: s("Invincible X"),
                vehicle_type: VehicleType::Van,
                body_style: Some(BodyStyle::Pickup),
                fuel_type: Some(FuelType::Diesel),
                drivetrain: Some(Drivetrain::FourWheelDrive),
                price: gbp(2_899_999),
                vat: VatStatus::PlusVat,
                ..base("GV-011")
            },
        ),
        (
            "northern_ireland_no_vin",
            Vehicle {
                registration: s("AIZ1234"),
                vin: None,
                make: s("Ford"),
                model: s("Fiesta"),
                variant: s("1.0 EcoBoost Titanium 5dr"),
                trim: s("Titanium"),
                location_id: "belfast".into(),
                first_registration: Some(Date {
                    year: 2018,
                    month: 11,
                    day: 20,
                }),
                model_year: None,
                mileage: Some(Mileage {
                    value: 41800,
                    unit: MileageUnit::Miles,
                }),
                price: gbp(899_550),
                ..base("GV-012")
            },
        ),
        (
            "kilometres_import",
            Vehicle {
                make: s("Porsche"),
                model: s("911"),
                variant: s("3.0 Carrera S PDK"),
                trim: s("Carrera S"),
                body_style: Some(BodyStyle::Coupe),
                mileage: Some(Mileage {
                    value: 121000,
                    unit: MileageUnit::Kilometres,
                }),
                vin: s("WP0ZZZ99ZKS1234"),
                price: gbp(7_995_000),
                ..base("GV-013")
            },
        ),
        (
            "reserved",
            Vehicle {
                status: StockStatus::Reserved,
                ..base("GV-014")
            },
        ),
        (
            "due_in",
            Vehicle {
                status: StockStatus::DueIn,
                ..base("GV-015")
            },
        ),
        (
            "sold",
            Vehicle {
                status: StockStatus::Sold,
                ..base("GV-016")
            },
        ),
        (
            "withdrawn",
            Vehicle {
                status: StockStatus::Withdrawn,
                ..base("GV-017")
            },
        ),
        (
            "missing_required_fields",
            Vehicle {
                make: None,
                model: s("  "),
                price: None,
                mileage: None,
                ..base("GV-018")
            },
        ),
        (
            "zero_price",
            Vehicle {
                price: gbp(0),
                ..base("GV-019")
            },
        ),
        (
            "long_description",
            Vehicle {
                description: Some("Lovely car. ".repeat(500)),
                ..base("GV-020")
            },
        ),
        (
            "other_vocabulary",
            Vehicle {
                fuel_type: Some(FuelType::Other("CNG".into())),
                body_style: Some(BodyStyle::Other("City Car".into())),
                transmission: Some(Transmission::Other("dual-clutch".into())),
                ..base("GV-021")
            },
        ),
    ]
}
