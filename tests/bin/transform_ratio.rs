//! The cost of the sandbox: the google-vehicle-ads transform called as a
//! WebAssembly component through the host versus the same Rust code linked
//! natively, on the same realistic vehicles, in one run. Also instantiation.
//!
//! `cargo xtask bench` runs it (after building the plugins). Built in the dev
//! profile like everything else, with the plugin's crate optimised at the
//! same level as its wasm build (see the workspace Cargo.toml). Prints JSON;
//! nothing is asserted. Targets on a 2-core machine: wasm at most 3x native,
//! instantiation p50 under 100 us.

use forecourt::bench::summarise;
use forecourt::runtime::types as host;
use forecourt_plugin_google_vehicle_ads::feed;
use forecourt_sdk as sdk;
use std::time::Instant;

fn date(d: &Option<host::Date>) -> Option<sdk::Date> {
    d.as_ref().map(|d| sdk::Date {
        year: d.year,
        month: d.month,
        day: d.day,
    })
}

fn money(m: &Option<host::Money>) -> Option<sdk::Money> {
    m.as_ref().map(|m| sdk::Money {
        amount_minor: m.amount_minor,
        currency: m.currency.clone(),
    })
}

/// The host's generated `Vehicle` as the SDK's generated `Vehicle` (both come
/// from the same WIT record).
fn to_sdk(v: &host::Vehicle) -> sdk::Vehicle {
    sdk::Vehicle {
        dealer_id: v.dealer_id.clone(),
        location_id: v.location_id.clone(),
        stock_id: v.stock_id.clone(),
        registration: v.registration.clone(),
        vin: v.vin.clone(),
        make: v.make.clone(),
        model: v.model.clone(),
        variant: v.variant.clone(),
        trim: v.trim.clone(),
        vehicle_type: match &v.vehicle_type {
            host::VehicleType::Car => sdk::VehicleType::Car,
            host::VehicleType::Van => sdk::VehicleType::Van,
            host::VehicleType::Motorcycle => sdk::VehicleType::Motorcycle,
            host::VehicleType::Motorhome => sdk::VehicleType::Motorhome,
            host::VehicleType::Truck => sdk::VehicleType::Truck,
            host::VehicleType::Other(o) => sdk::VehicleType::Other(o.clone()),
        },
        body_style: v.body_style.as_ref().map(|b| match b {
            host::BodyStyle::Hatchback => sdk::BodyStyle::Hatchback,
            host::BodyStyle::Saloon => sdk::BodyStyle::Saloon,
            host::BodyStyle::Estate => sdk::BodyStyle::Estate,
            host::BodyStyle::Suv => sdk::BodyStyle::Suv,
            host::BodyStyle::Coupe => sdk::BodyStyle::Coupe,
            host::BodyStyle::Convertible => sdk::BodyStyle::Convertible,
            host::BodyStyle::Mpv => sdk::BodyStyle::Mpv,
            host::BodyStyle::Pickup => sdk::BodyStyle::Pickup,
            host::BodyStyle::PanelVan => sdk::BodyStyle::PanelVan,
            host::BodyStyle::Minibus => sdk::BodyStyle::Minibus,
            host::BodyStyle::Other(o) => sdk::BodyStyle::Other(o.clone()),
        }),
        fuel_type: v.fuel_type.as_ref().map(|f| match f {
            host::FuelType::Petrol => sdk::FuelType::Petrol,
            host::FuelType::Diesel => sdk::FuelType::Diesel,
            host::FuelType::Electric => sdk::FuelType::Electric,
            host::FuelType::Hybrid => sdk::FuelType::Hybrid,
            host::FuelType::PlugInHybrid => sdk::FuelType::PlugInHybrid,
            host::FuelType::MildHybrid => sdk::FuelType::MildHybrid,
            host::FuelType::Lpg => sdk::FuelType::Lpg,
            host::FuelType::Hydrogen => sdk::FuelType::Hydrogen,
            host::FuelType::Other(o) => sdk::FuelType::Other(o.clone()),
        }),
        transmission: v.transmission.as_ref().map(|t| match t {
            host::Transmission::Manual => sdk::Transmission::Manual,
            host::Transmission::Automatic => sdk::Transmission::Automatic,
            host::Transmission::SemiAutomatic => sdk::Transmission::SemiAutomatic,
            host::Transmission::Cvt => sdk::Transmission::Cvt,
            host::Transmission::Other(o) => sdk::Transmission::Other(o.clone()),
        }),
        drivetrain: None,
        doors: v.doors,
        seats: v.seats,
        engine_size_cc: v.engine_size_cc,
        power_bhp: v.power_bhp,
        co2_g_per_km: v.co2_g_per_km,
        emissions_standard: v.emissions_standard.clone(),
        colour: v.colour.clone(),
        first_registration: date(&v.first_registration),
        model_year: v.model_year,
        mileage: v.mileage.as_ref().map(|m| sdk::Mileage {
            value: m.value,
            unit: match m.unit {
                host::MileageUnit::Miles => sdk::MileageUnit::Miles,
                host::MileageUnit::Kilometres => sdk::MileageUnit::Kilometres,
            },
        }),
        price: money(&v.price),
        vat: match v.vat {
            host::VatStatus::IncVat => sdk::VatStatus::IncVat,
            host::VatStatus::PlusVat => sdk::VatStatus::PlusVat,
            host::VatStatus::NoVat => sdk::VatStatus::NoVat,
        },
        condition: match v.condition {
            host::Condition::New => sdk::Condition::New,
            host::Condition::Used => sdk::Condition::Used,
        },
        service_history: v.service_history.as_ref().map(|s| match s {
            host::ServiceHistory::FullDealer => sdk::ServiceHistory::FullDealer,
            host::ServiceHistory::Full => sdk::ServiceHistory::Full,
            host::ServiceHistory::Part => sdk::ServiceHistory::Part,
            host::ServiceHistory::None => sdk::ServiceHistory::None,
            host::ServiceHistory::Other(o) => sdk::ServiceHistory::Other(o.clone()),
        }),
        previous_owners: v.previous_owners,
        mot_expiry: date(&v.mot_expiry),
        features: v.features.clone(),
        description: v.description.clone(),
        images: v
            .images
            .iter()
            .map(|i| sdk::Image {
                url: i.url.clone(),
                width: i.width,
                height: i.height,
            })
            .collect(),
        status: match v.status {
            host::StockStatus::DueIn => sdk::StockStatus::DueIn,
            host::StockStatus::InStock => sdk::StockStatus::InStock,
            host::StockStatus::Reserved => sdk::StockStatus::Reserved,
            host::StockStatus::Sold => sdk::StockStatus::Sold,
            host::StockStatus::Withdrawn => sdk::StockStatus::Withdrawn,
        },
        date_in_stock: date(&v.date_in_stock),
        attributes: vec![],
        hub_only: None,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let iterations: usize = std::env::var("ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let config = serde_json::json!({
        "store_code": "bench",
        "format": "tsv",
        "link_template": "https://dealer.example/cars/{stock_id}",
    })
    .to_string();
    let mut stock = forecourt::sample::sample_stock(64, 99);
    for v in &mut stock {
        v.hub_only = None;
        v.drivetrain = None;
        v.attributes.clear();
    }
    let native_stock: Vec<sdk::Vehicle> = stock.iter().map(to_sdk).collect();

    let dir = tempfile::tempdir()?;
    let runtime = forecourt_tests::runtime(Default::default(), None);
    let wasm = forecourt_tests::component_bytes("google-vehicle-ads.wasm");
    let path = forecourt_tests::stage_with_manifest(
        dir.path(),
        "google-vehicle-ads",
        "platform",
        &wasm,
        "",
    );
    let plugin = runtime.load(&path, None, Default::default())?;

    // Both paths must produce the same listings, or the comparison is void.
    for (h, n) in stock.iter().zip(&native_stock) {
        let wasm_out = plugin
            .transform(&config, h)
            .await?
            .map(|t| t.listing.body)
            .map_err(|i| i.len());
        let parsed = feed::Config::parse(&config).map_err(anyhow::Error::msg)?;
        let native_out = feed::transform_vehicle(&parsed, n)
            .map(|t| t.listing.body)
            .map_err(|i| i.len());
        anyhow::ensure!(
            wasm_out == native_out,
            "wasm and native transforms disagree on {}",
            h.stock_id
        );
    }

    let result = forecourt::bench::measure_runtime(&plugin, &config, iterations).await?;

    // The fixed cost of a call into the sandbox: describe() does no work.
    let mut describe = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        std::hint::black_box(plugin.platform_info().await?);
        describe.push(t.elapsed());
    }
    let describe = summarise(describe);

    let mut native = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let v = &native_stock[i % native_stock.len()];
        let t = Instant::now();
        // The plugin parses its config on every call too.
        let parsed =
            feed::Config::parse(std::hint::black_box(&config)).map_err(anyhow::Error::msg)?;
        let out = feed::transform_vehicle(&parsed, std::hint::black_box(v));
        std::hint::black_box(out.ok());
        native.push(t.elapsed());
    }
    let native = summarise(native);
    let wasm_p50 = result["transform_call"]["p50_us"].as_f64().unwrap_or(0.0);
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "plugin": "google-vehicle-ads",
            "instantiation": result["instantiation"],
            "transform_wasm": result["transform_call"],
            "transform_native": native,
            "empty_call_wasm": describe,
            "wasm_to_native_ratio_p50": wasm_p50 / native.p50_us.max(1e-9),
            "targets": {"instantiation_p50_us": 100, "wasm_to_native_ratio_max": 3.0},
        }))?
    );
    Ok(())
}
