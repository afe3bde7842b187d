//! Native timing of `pull` and `pull-snapshot` on a generated 10,000-row
//! export shaped like the benchmark's (the canonical header set, prices and
//! mileages with thousands separators, descriptions with commas, quoted as
//! a `csv` writer quotes them).
//!
//! `cargo run --release --example bench -p forecourt-plugin-csv-export --target-dir target/plugins`
//! (a row count as the first argument changes the 10,000 rows; `profile` as
//! the second runs only the all-known case, 100 times, for a profiler).

use std::time::{Duration, Instant};

use forecourt_plugin_csv_export::CsvExport;
use forecourt_sdk::{Change, KnownRow, PullRequest, SnapshotSource, Source};

const CONFIG: &str = r#"{"dealer_id": "dealer-1"}"#;

const HEADER: &[&str] = &[
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

fn thousands(n: u32) -> String {
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

/// `rows` vehicles; `price_bump` changes the price of every 100th row;
/// `plain` leaves out the commas that make a writer quote fields.
fn export(rows: usize, price_bump: u32, plain: bool) -> Vec<u8> {
    let thousands = |n: u32| if plain { n.to_string() } else { thousands(n) };
    let makes = [
        ("Ford", "Fiesta"),
        ("Volkswagen", "Golf"),
        ("BMW", "3 Series"),
        ("Kia", "Sportage"),
    ];
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).unwrap();
    let mut seed: u64 = 42;
    let mut rnd = |n: u32| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as u32) % n
    };
    for i in 0..rows {
        let (make, model) = makes[i % makes.len()];
        let id = format!("FC{:05}", 10_000 + i);
        let miles = 5_000 + rnd(90_000);
        let mut price = 6_000 + rnd(30_000);
        if i.is_multiple_of(100) {
            price += price_bump;
        }
        let features = [
            "Sat nav",
            "Heated seats",
            "Apple CarPlay",
            "Rear parking sensors",
            "Bluetooth",
        ];
        let description = format!(
            "2019 {make} {model} 1.0 EcoBoost in Magnetic Grey. {} miles. Full dealer service history. \
             1 previous owner. Finance available{}part exchange welcome. {}.",
            thousands(miles),
            if plain { " and " } else { ", " },
            features[..4].join(if plain { " and " } else { ", " })
        );
        let images: Vec<String> = (1..=2)
            .map(|n| format!("https://images.forecourt-demo.example/{id}/{n:02}.jpg"))
            .collect();
        let record = vec![
            id.clone(),
            format!("AB{:02} XYZ", i % 100),
            format!("WF0JXXGAHJKA{:05}", i),
            make.into(),
            model.into(),
            "1.0 EcoBoost 125 ST-Line 5dr".into(),
            "ST-Line".into(),
            "Car".into(),
            "Hatchback".into(),
            "Petrol".into(),
            "Manual".into(),
            "FWD".into(),
            "5".into(),
            "5".into(),
            "999".into(),
            "123".into(),
            "108".into(),
            "Euro 6".into(),
            "Magnetic Grey".into(),
            "14/03/2019".into(),
            "2019".into(),
            thousands(miles),
            format!("£{}", thousands(price)),
            "Inc VAT".into(),
            "Used".into(),
            "Full dealer".into(),
            "1".into(),
            "13/03/2026".into(),
            features.join("|"),
            description,
            images.join("|"),
            "In Stock".into(),
            "02/09/2025".into(),
            String::new(),
            if i.is_multiple_of(5) {
                "Bought at auction; check tyre tread before handover.".into()
            } else {
                String::new()
            },
            if i.is_multiple_of(5) {
                format!("£{}", thousands(price - 1500))
            } else {
                String::new()
            },
        ];
        w.write_record(&record).unwrap();
    }
    w.into_inner().unwrap()
}

fn request(doc: &[u8]) -> PullRequest {
    PullRequest {
        config: CONFIG.into(),
        cursor: None,
        document: Some(doc.to_vec()),
    }
}

/// The best of `runs` timings of `f` (the copies of the document and of
/// `known` are made outside the timing, as the host hands them over).
fn best<T>(
    runs: usize,
    doc: &[u8],
    known: &[KnownRow],
    mut f: impl FnMut(PullRequest, Vec<KnownRow>) -> T,
) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let req = request(doc);
        let known = known.to_vec();
        let start = Instant::now();
        let r = f(req, known);
        best = best.min(start.elapsed());
        out = Some(r);
    }
    (best, out.unwrap())
}

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .map_or(10_000, |a| a.parse().unwrap());
    let doc = export(rows, 0, false);
    let changed = export(rows, 500, false);
    let quote_free = export(rows, 0, true);
    assert!(
        !quote_free.contains(&b'"'),
        "{}",
        String::from_utf8_lossy(&quote_free[..2000])
    );
    let quote_free = &quote_free[..];
    println!("{rows} rows, {} bytes", doc.len());
    let profile = std::env::args().nth(2).as_deref() == Some("profile");
    let runs = if profile { 1 } else { 11 };

    let (t, page) = best(runs, &doc, &[], |r, _| CsvExport::pull(r));
    let page = page.unwrap();
    assert_eq!(page.changes.len(), rows);
    assert!(page.issues.is_empty(), "{:?}", &page.issues[..1]);
    println!("pull:                               {t:?}");

    let (t, first) = best(runs, &doc, &[], |r, k| {
        CsvExport::pull_snapshot(r, k).unwrap()
    });
    println!("pull_snapshot, known empty:         {t:?}");
    let known: Vec<KnownRow> = first
        .page
        .changes
        .iter()
        .zip(&first.digests)
        .map(|(c, d)| match c {
            Change::Upsert(v) => KnownRow {
                stock_id: v.stock_id.clone(),
                digest: d.clone().unwrap(),
            },
            Change::Remove(_) => unreachable!(),
        })
        .collect();
    assert_eq!(known.len(), rows);

    if profile {
        // Only the all-known case, many times over, for a profiler.
        best(100, &doc, &known, |r, k| {
            CsvExport::pull_snapshot(r, k).unwrap()
        });
        return;
    }
    let (t, second) = best(runs, &doc, &known, |r, k| {
        CsvExport::pull_snapshot(r, k).unwrap()
    });
    assert_eq!(second.unchanged.len(), rows);
    assert!(second.page.changes.is_empty());
    println!("pull_snapshot, all known:           {t:?}");

    let (t, third) = best(runs, &changed, &known, |r, k| {
        CsvExport::pull_snapshot(r, k).unwrap()
    });
    assert_eq!(third.page.changes.len(), rows.div_ceil(100));
    println!("pull_snapshot, 1% changed:          {t:?}");

    // A renamed column: every row's digest changes, every row is parsed.
    let renamed = String::from_utf8(doc.clone())
        .unwrap()
        .replacen("Price", "Retail Price", 1);
    let (t, fourth) = best(runs, renamed.as_bytes(), &known, |r, k| {
        CsvExport::pull_snapshot(r, k).unwrap()
    });
    assert_eq!(fourth.page.changes.len(), rows);
    println!("pull_snapshot, all rows changed:    {t:?}");

    let (_, first) = best(1, quote_free, &[], |r, k| {
        CsvExport::pull_snapshot(r, k).unwrap()
    });
    let known: Vec<KnownRow> = first
        .page
        .changes
        .iter()
        .zip(&first.digests)
        .filter_map(|(c, d)| match c {
            Change::Upsert(v) => Some(KnownRow {
                stock_id: v.stock_id.clone(),
                digest: d.clone()?,
            }),
            Change::Remove(_) => unreachable!(),
        })
        .collect();
    let (t, second) = best(runs, quote_free, &known, |r, k| {
        CsvExport::pull_snapshot(r, k).unwrap()
    });
    assert_eq!(second.unchanged.len(), known.len());
    println!(
        "pull_snapshot, all known, no quotes: {t:?} ({} rows known)",
        known.len()
    );
}
