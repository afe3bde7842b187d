//! Golden-file JSON of a source's pull pages: every field of every vehicle,
//! keys in contract order, so a diff of a golden file reads like a diff of
//! what the DMS said.

use std::fmt::Write as _;

use crate::{
    BodyStyle, Change, Condition, Date, Drivetrain, FuelType, MileageUnit, Money, PluginError,
    PullPage, ServiceHistory, StockStatus, Transmission, VatStatus, Vehicle, VehicleType,
};

/// A JSON value that keeps its keys in the order they are written.
enum J {
    Null,
    Bool(bool),
    Num(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

impl J {
    fn str(s: &str) -> J {
        J::Str(s.to_string())
    }

    fn opt<T>(v: &Option<T>, f: impl Fn(&T) -> J) -> J {
        v.as_ref().map_or(J::Null, f)
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, J::Arr(_) | J::Obj(_))
    }

    fn write(&self, out: &mut String, indent: usize) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => write!(out, "{b}").unwrap(),
            J::Num(n) => write!(out, "{n}").unwrap(),
            J::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
            J::Arr(items) if items.is_empty() => out.push_str("[]"),
            J::Obj(items) if items.is_empty() => out.push_str("{}"),
            J::Arr(items) => {
                // Short arrays of scalars on one line.
                let mut inline = String::new();
                if items.iter().all(J::is_scalar) {
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            inline.push_str(", ");
                        }
                        item.write(&mut inline, 0);
                    }
                    if inline.len() + indent <= 90 {
                        write!(out, "[{inline}]").unwrap();
                        return;
                    }
                }
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&" ".repeat(indent + 2));
                    item.write(out, indent + 2);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                write!(out, "{}]", " ".repeat(indent)).unwrap();
            }
            J::Obj(items) => {
                // Small objects of scalars on one line.
                if items.len() <= 3 && items.iter().all(|(_, v)| v.is_scalar()) {
                    let mut inline = String::new();
                    for (i, (k, v)) in items.iter().enumerate() {
                        if i > 0 {
                            inline.push_str(", ");
                        }
                        write!(inline, "\"{k}\": ").unwrap();
                        v.write(&mut inline, 0);
                    }
                    if inline.len() + indent <= 90 {
                        write!(out, "{{{inline}}}").unwrap();
                        return;
                    }
                }
                out.push_str("{\n");
                for (i, (k, v)) in items.iter().enumerate() {
                    write!(out, "{}\"{k}\": ", " ".repeat(indent + 2)).unwrap();
                    v.write(out, indent + 2);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                write!(out, "{}}}", " ".repeat(indent)).unwrap();
            }
        }
    }
}

/// A vocabulary's `other(value)` case.
fn other(value: &str) -> J {
    J::Obj(vec![("other", J::str(value))])
}

fn date(d: &Date) -> J {
    J::Str(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
}

fn money(m: &Money) -> J {
    J::Obj(vec![
        ("amount_minor", J::Num(m.amount_minor)),
        ("currency", J::str(&m.currency)),
    ])
}

/// Long descriptions are summarised: the full text is checked by its own test.
fn description(d: &str) -> J {
    let chars = d.chars().count();
    if chars <= 300 {
        return J::str(d);
    }
    let start: String = d.chars().take(60).collect();
    J::Str(format!("<{chars} characters, starting {start:?}>"))
}

fn vehicle(v: &Vehicle) -> J {
    let vehicle_type = match &v.vehicle_type {
        VehicleType::Car => J::str("car"),
        VehicleType::Van => J::str("van"),
        VehicleType::Motorcycle => J::str("motorcycle"),
        VehicleType::Motorhome => J::str("motorhome"),
        VehicleType::Truck => J::str("truck"),
        VehicleType::Other(s) => other(s),
    };
    let body = J::opt(&v.body_style, |b| match b {
        BodyStyle::Hatchback => J::str("hatchback"),
        BodyStyle::Saloon => J::str("saloon"),
        BodyStyle::Estate => J::str("estate"),
        BodyStyle::Suv => J::str("suv"),
        BodyStyle::Coupe => J::str("coupe"),
        BodyStyle::Convertible => J::str("convertible"),
        BodyStyle::Mpv => J::str("mpv"),
        BodyStyle::Pickup => J::str("pickup"),
        BodyStyle::PanelVan => J::str("panel-van"),
        BodyStyle::Minibus => J::str("minibus"),
        BodyStyle::Other(s) => other(s),
    });
    let fuel = J::opt(&v.fuel_type, |f| match f {
        FuelType::Petrol => J::str("petrol"),
        FuelType::Diesel => J::str("diesel"),
        FuelType::Electric => J::str("electric"),
        FuelType::Hybrid => J::str("hybrid"),
        FuelType::PlugInHybrid => J::str("plug-in-hybrid"),
        FuelType::MildHybrid => J::str("mild-hybrid"),
        FuelType::Lpg => J::str("lpg"),
        FuelType::Hydrogen => J::str("hydrogen"),
        FuelType::Other(s) => other(s),
    });
    let transmission = J::opt(&v.transmission, |t| match t {
        Transmission::Manual => J::str("manual"),
        Transmission::Automatic => J::str("automatic"),
        Transmission::SemiAutomatic => J::str("semi-automatic"),
        Transmission::Cvt => J::str("cvt"),
        Transmission::Other(s) => other(s),
    });
    let drivetrain = J::opt(&v.drivetrain, |d| match d {
        Drivetrain::FrontWheelDrive => J::str("front-wheel-drive"),
        Drivetrain::RearWheelDrive => J::str("rear-wheel-drive"),
        Drivetrain::AllWheelDrive => J::str("all-wheel-drive"),
        Drivetrain::FourWheelDrive => J::str("four-wheel-drive"),
        Drivetrain::Other(s) => other(s),
    });
    let history = J::opt(&v.service_history, |h| match h {
        ServiceHistory::FullDealer => J::str("full-dealer"),
        ServiceHistory::Full => J::str("full"),
        ServiceHistory::Part => J::str("part"),
        ServiceHistory::None => J::str("none"),
        ServiceHistory::Other(s) => other(s),
    });
    let vat = J::str(match v.vat {
        VatStatus::IncVat => "inc-vat",
        VatStatus::PlusVat => "plus-vat",
        VatStatus::NoVat => "no-vat",
    });
    let condition = J::str(match v.condition {
        Condition::New => "new",
        Condition::Used => "used",
    });
    let status = J::str(match v.status {
        StockStatus::DueIn => "due-in",
        StockStatus::InStock => "in-stock",
        StockStatus::Reserved => "reserved",
        StockStatus::Sold => "sold",
        StockStatus::Withdrawn => "withdrawn",
    });
    let mileage = J::opt(&v.mileage, |m| {
        J::Obj(vec![
            ("value", J::Num(i64::from(m.value))),
            (
                "unit",
                J::str(match m.unit {
                    MileageUnit::Miles => "miles",
                    MileageUnit::Kilometres => "kilometres",
                }),
            ),
        ])
    });
    let hub_only = J::opt(&v.hub_only, |h| {
        let mut fields = vec![
            ("internal_notes", J::opt(&h.internal_notes, |s| J::str(s))),
            ("cost_price", J::opt(&h.cost_price, money)),
        ];
        // Sources rarely fill these; they appear only when present.
        if h.previous_keeper.is_some() {
            fields.push(("previous_keeper", J::str("<present>")));
        }
        if h.part_exchange.is_some() {
            fields.push(("part_exchange", J::str("<present>")));
        }
        J::Obj(fields)
    });
    // An image is its URL, or an object when it has dimensions.
    let image = |i: &crate::Image| match (i.width, i.height) {
        (None, None) => J::str(&i.url),
        (w, h) => J::Obj(vec![
            ("url", J::str(&i.url)),
            ("width", J::opt(&w, |n| J::Num(i64::from(*n)))),
            ("height", J::opt(&h, |n| J::Num(i64::from(*n)))),
        ]),
    };
    let num = |n: &Option<u32>| J::opt(n, |n| J::Num(i64::from(*n)));
    let small = |n: &Option<u8>| J::opt(n, |n| J::Num(i64::from(*n)));
    let text = |s: &Option<String>| J::opt(s, |s| J::str(s));
    let mut out = J::Obj(vec![
        ("dealer_id", J::str(&v.dealer_id)),
        ("location_id", J::str(&v.location_id)),
        ("stock_id", J::str(&v.stock_id)),
        ("registration", text(&v.registration)),
        ("vin", text(&v.vin)),
        ("make", text(&v.make)),
        ("model", text(&v.model)),
        ("variant", text(&v.variant)),
        ("trim", text(&v.trim)),
        ("vehicle_type", vehicle_type),
        ("body_style", body),
        ("fuel_type", fuel),
        ("transmission", transmission),
        ("drivetrain", drivetrain),
        ("doors", small(&v.doors)),
        ("seats", small(&v.seats)),
        ("engine_size_cc", num(&v.engine_size_cc)),
        ("power_bhp", num(&v.power_bhp)),
        ("co2_g_per_km", num(&v.co2_g_per_km)),
        ("emissions_standard", text(&v.emissions_standard)),
        ("colour", text(&v.colour)),
        ("first_registration", J::opt(&v.first_registration, date)),
        (
            "model_year",
            J::opt(&v.model_year, |y| J::Num(i64::from(*y))),
        ),
        ("mileage", mileage),
        ("price", J::opt(&v.price, money)),
        ("vat", vat),
        ("condition", condition),
        ("service_history", history),
        ("previous_owners", small(&v.previous_owners)),
        ("mot_expiry", J::opt(&v.mot_expiry, date)),
        (
            "features",
            J::Arr(v.features.iter().map(|f| J::str(f)).collect()),
        ),
        ("description", J::opt(&v.description, |d| description(d))),
        ("images", J::Arr(v.images.iter().map(image).collect())),
        ("status", status),
        ("date_in_stock", J::opt(&v.date_in_stock, date)),
        ("hub_only", hub_only),
    ]);
    if !v.attributes.is_empty() {
        if let J::Obj(fields) = &mut out {
            let attributes = v
                .attributes
                .iter()
                .map(|a| J::Obj(vec![("key", J::str(&a.key)), ("value", J::str(&a.value))]))
                .collect();
            fields.push(("attributes", J::Arr(attributes)));
        }
    }
    out
}

fn page(p: &PullPage) -> J {
    let changes = p
        .changes
        .iter()
        .map(|c| match c {
            Change::Upsert(v) => J::Obj(vec![("upsert", vehicle(v))]),
            Change::Remove(id) => J::Obj(vec![("remove", J::str(id))]),
        })
        .collect();
    let issues = p
        .issues
        .iter()
        .map(|i| {
            J::Obj(vec![
                ("record", J::Num(i64::from(i.record_number))),
                ("stock_id", J::opt(&i.stock_id, |s| J::str(s))),
                ("field", J::opt(&i.field, |s| J::str(s))),
                ("message", J::str(&i.message)),
            ])
        })
        .collect();
    J::Obj(vec![
        ("full_snapshot", J::Bool(p.full_snapshot)),
        ("has_more", J::Bool(p.has_more)),
        ("next_cursor", J::opt(&p.next_cursor, |s| J::str(s))),
        ("issues", J::Arr(issues)),
        ("changes", J::Arr(changes)),
    ])
}

fn error(e: &PluginError) -> J {
    J::Obj(vec![(
        "error",
        J::Obj(vec![
            ("class", J::Str(e.class.to_string())),
            ("field", J::opt(&e.field, |s| J::str(s))),
            ("message", J::str(&e.message)),
        ]),
    )])
}

/// A pull's page, or its error, as stable, readable JSON for golden files:
/// keys in contract order, short arrays and objects on one line, long
/// descriptions summarised.
pub fn pull_json(result: &Result<PullPage, PluginError>) -> String {
    let value = match result {
        Ok(p) => page(p),
        Err(e) => error(e),
    };
    let mut out = String::new();
    value.write(&mut out, 0);
    out.push('\n');
    // The writer's output must be valid JSON.
    serde_json::from_str::<serde_json::Value>(&out).expect("golden output is JSON");
    out
}
