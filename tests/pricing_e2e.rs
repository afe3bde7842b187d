//! Pricing rules, enrichment and the channel report end to end: the real
//! csv-export, autotrader, google-vehicle-ads and enricher-uk components,
//! a real SQLite file and the sandbox marketplace over loopback.

use forecourt::app::App;
use forecourt::config::RawConfig;
use forecourt::enquiries::{EnquiryStore, NewEnquiry, Via};
use forecourt::pricing::PricingStore;
use forecourt::report::{channel_report, Period};
use forecourt::runtime::types::{
    BodyStyle, Date, FuelType, HubOnly, Money, Person, StockStatus, Transmission, Vehicle,
    VehicleType,
};
use forecourt::sandbox::{Sandbox, SandboxConfig};
use forecourt::store::{now_ms, Change, IngestBatch, SqliteStore, Store};
use forecourt_tests::*;
use std::time::{Duration, Instant};

const ADVERTISER: &str = "10008899";
const DAY: i64 = 86_400_000;

fn gbp(pounds: i64) -> Option<Money> {
    Some(Money {
        amount_minor: pounds * 100,
        currency: "GBP".into(),
    })
}

fn date_days_ago(days: i64) -> Option<Date> {
    let t = jiff::Timestamp::from_millisecond(now_ms() - days * DAY).unwrap();
    let d = t.to_zoned(jiff::tz::TimeZone::UTC).date();
    Some(Date {
        year: d.year() as u16,
        month: d.month() as u8,
        day: d.day() as u8,
    })
}

/// A used car with a known price, cost and days in stock.
fn car(stock_id: &str, price: i64, cost: i64, days_in_stock: i64) -> Vehicle {
    let mut v = forecourt::sample::sample_stock(1, 7).remove(0);
    // Photos of this car (the same URLs on 3+ vehicles read as stock photos
    // and are dropped by the quality rules).
    for image in &mut v.images {
        image.url = image.url.replace(&v.stock_id, stock_id);
    }
    v.stock_id = stock_id.into();
    v.status = StockStatus::InStock;
    v.price = gbp(price);
    v.date_in_stock = date_days_ago(days_in_stock);
    v.hub_only = Some(HubOnly {
        internal_notes: None,
        previous_keeper: None,
        part_exchange: None,
        cost_price: gbp(cost),
    });
    v
}

/// A 2019 Golf 1.5 TSI with no CO2 figure: the enricher's table fills it.
fn golf(stock_id: &str) -> Vehicle {
    let mut v = car(stock_id, 14_995, 11_000, 5);
    v.make = Some("Volkswagen".into());
    v.model = Some("Golf".into());
    v.variant = Some("1.5 TSI EVO Life 5dr".into());
    v.vehicle_type = VehicleType::Car;
    v.body_style = Some(BodyStyle::Hatchback);
    v.fuel_type = Some(FuelType::Petrol);
    v.transmission = Some(Transmission::Manual);
    v.engine_size_cc = Some(1498);
    v.co2_g_per_km = None;
    v.emissions_standard = Some("Euro 6".into());
    v.first_registration = Some(Date {
        year: 2019,
        month: 6,
        day: 1,
    });
    v.model_year = Some(2019);
    // A June 2019 (19) mark: the quality rules refuse a mark newer than the car.
    v.registration = Some("AB19MJU".into());
    v.description = Some("A tidy Golf with a full history.".into());
    v
}

struct World {
    dir: tempfile::TempDir,
    sandbox: Sandbox,
    app: App,
}

async fn world(stock: &[Vehicle]) -> World {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let plugins = plugins_for_sandbox(dir.path(), sandbox.addr().port());
    std::fs::write(
        plugins.join("enricher-uk.wasm"),
        component_bytes("enricher-uk.wasm"),
    )
    .unwrap();
    std::fs::copy(
        staged_dir().join("enricher-uk.toml"),
        plugins.join("enricher-uk.toml"),
    )
    .unwrap();
    sign_with_dev_key(&plugins.join("enricher-uk.wasm"));
    let config_path = pipeline_config(dir.path(), &plugins, &sandbox.base_url(), "");
    let mut text = std::fs::read_to_string(&config_path).unwrap();
    text.push_str(
        r#"
[pricing]
rules = [{ after_days = 30, percent = 2 }, { after_days = 45, percent = 2 }]
rounding = "95"
floor = { min_margin_over_cost = 500 }
sweep_interval_secs = 60

[enricher]
plugin = "enricher-uk"
config = { search_terms = { platforms = ["autotrader"] } }
"#,
    );
    std::fs::write(&config_path, text).unwrap();
    export(dir.path(), stock);
    let config = RawConfig::load(&config_path).unwrap();
    let app = forecourt::app::build_with_secrets(&config, Some(sandbox_secrets()))
        .await
        .unwrap();
    World { dir, sandbox, app }
}

impl World {
    async fn converge(&self) {
        let started = Instant::now();
        loop {
            self.app.engine.sync_once().await.unwrap();
            if self.app.store.queue_depth(None).unwrap() == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "did not converge"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Deliver without pulling (the DMS export is unchanged).
    async fn replan_and_deliver(&self) {
        let started = Instant::now();
        loop {
            self.app.engine.plan().await.unwrap();
            for p in self.app.engine.platforms() {
                self.app.engine.deliver(p).await.unwrap();
            }
            if self.app.store.queue_depth(None).unwrap() == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "did not converge"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn autotrader_price(&self, stock_id: &str) -> i64 {
        self.sandbox
            .find_by_reference(ADVERTISER, stock_id)
            .unwrap()["adverts"]["retailAdverts"]["suppliedPrice"]["amountGBP"]
            .as_i64()
            .unwrap()
    }

    /// The price column of the Google feed for a vehicle.
    fn google_price(&self, stock_id: &str) -> String {
        let feed =
            std::fs::read_to_string(self.dir.path().join("feeds/google/google-vehicle-ads.tsv"))
                .unwrap();
        let mut lines = feed.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let id = header.iter().position(|h| *h == "id").unwrap();
        let price = header.iter().position(|h| *h == "price").unwrap();
        lines
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .find(|f| f[id] == stock_id)
            .map(|f| f[price].to_string())
            .unwrap_or_default()
    }

    fn pricing(&self) -> &forecourt::pricing::Pricing {
        self.app.engine.pricing().unwrap()
    }

    fn audit_steps(&self, stock_id: &str) -> Vec<String> {
        self.app
            .store
            .audit_tail(100_000)
            .unwrap()
            .into_iter()
            .rev()
            .filter(|a| a.entry.kind == "pricing" && a.entry.stock_id.as_deref() == Some(stock_id))
            .filter_map(|a| a.entry.step)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_apply_once_identically_everywhere_with_floor_rounding_and_pins() {
    let stock = vec![
        car("P-31", 12_995, 9_000, 31),     // one step: £12,695
        car("P-50", 12_995, 9_000, 50),     // both steps: £12,395
        car("P-FLOOR", 12_995, 12_600, 50), // cost + £500 = £13,100 floor: held
        car("P-NEW", 9_995, 7_000, 25),     // no step yet
    ];
    let w = world(&stock).await;
    w.converge().await;

    // The same advertised price on the API platform and in the feed.
    for (id, pounds) in [
        ("P-31", 12_695),
        ("P-50", 12_395),
        ("P-FLOOR", 12_995),
        ("P-NEW", 9_995),
    ] {
        assert_eq!(w.autotrader_price(id), pounds, "{id} on autotrader");
        assert!(
            w.google_price(id).starts_with(&format!("{pounds}")),
            "{id} in the feed: {}",
            w.google_price(id)
        );
    }
    assert_eq!(w.audit_steps("P-FLOOR"), ["held-at-floor", "held-at-floor"]);
    assert_eq!(w.audit_steps("P-50"), ["reduced", "reduced"]);

    // Applied once: more cycles change nothing, and the platform is not patched again.
    let patches = w.sandbox.stats().patch;
    for _ in 0..3 {
        w.app.engine.sync_once().await.unwrap();
    }
    assert_eq!(w.sandbox.stats().patch, patches, "no further updates");
    assert_eq!(w.audit_steps("P-31"), ["reduced"]);
    let history = w.app.store.price_history(Some("P-31")).unwrap();
    let reasons: Vec<&str> = history.iter().map(|h| h.reason.as_str()).collect();
    assert_eq!(reasons, ["rule"], "first decided at the reduced price");

    // Preview shows what is due at a given time without writing anything.
    let before = w.app.store.price_history(None).unwrap().len();
    let preview = w.pricing().preview(now_ms() + 21 * DAY).unwrap();
    assert_eq!(w.app.store.price_history(None).unwrap().len(), before);
    let new = preview.iter().find(|r| r.stock_id == "P-NEW").unwrap();
    assert_eq!(new.advertised_minor, Some(999_500));
    assert_eq!(new.due.len(), 2, "46 days: both steps due: {:?}", new.due);
    assert_eq!(new.due_minor, 959_500);
    let floor = preview.iter().find(|r| r.stock_id == "P-FLOOR").unwrap();
    assert_eq!(floor.floor_minor, 1_310_000);
    assert!(floor.next.is_none());
    let p31 = preview.iter().find(|r| r.stock_id == "P-31").unwrap();
    assert_eq!(
        (p31.due.len(), p31.due_minor),
        (1, 1_239_500),
        "52 days: the 45-day step is due"
    );
    assert!(p31.next.is_none());
    // Today, P-31's next step is the 45-day one, 14 days away.
    let today = w.pricing().preview(now_ms()).unwrap();
    let p31 = today.iter().find(|r| r.stock_id == "P-31").unwrap();
    let next = p31.next.as_ref().unwrap();
    assert_eq!(
        (next.after_days, next.in_days, next.price_after_minor),
        (45, 14, 1_239_500)
    );

    // Time passes: P-NEW reaches 30 days. The sweep reprices it once; both platforms follow.
    let later = now_ms() + 6 * DAY;
    let report = w.pricing().sweep(later).unwrap();
    assert_eq!(report.repriced, 1, "{report:?}");
    assert_eq!(
        w.pricing().sweep(later + DAY).unwrap().repriced,
        0,
        "not again"
    );
    w.replan_and_deliver().await;
    assert_eq!(w.autotrader_price("P-NEW"), 9_795);
    assert!(w.google_price("P-NEW").starts_with("9795"));

    // A pin holds against the rules; unpinning brings the rules back.
    w.pricing()
        .pin("P-31", Some(1_199_500), "operator:test", now_ms())
        .unwrap();
    w.replan_and_deliver().await;
    assert_eq!(w.autotrader_price("P-31"), 11_995);
    assert!(w.google_price("P-31").starts_with("11995"));
    w.pricing().sweep(now_ms() + 30 * DAY).unwrap();
    let state = &w.app.store.price_states(&["P-31"]).unwrap()["P-31"];
    assert_eq!(
        (state.advertised_minor, state.steps_applied),
        (1_199_500, 1),
        "pinned: the 45-day step waits"
    );
    w.pricing()
        .unpin("P-31", "operator:test", now_ms() + 30 * DAY)
        .unwrap();
    w.pricing().sweep(now_ms() + 30 * DAY).unwrap();
    w.replan_and_deliver().await;
    assert_eq!(
        w.autotrader_price("P-31"),
        12_395,
        "both steps from the DMS price"
    );
    assert_eq!(
        w.audit_steps("P-31"),
        ["reduced", "pinned", "unpinned", "reduced"]
    );
    let reasons: Vec<String> = w
        .app
        .store
        .price_history(Some("P-31"))
        .unwrap()
        .into_iter()
        .map(|h| h.reason)
        .collect();
    assert_eq!(reasons, ["rule", "pin", "unpin", "rule"]);

    // The DMS price wins: steps already fired are not applied to it again.
    let mut repriced = stock.clone();
    repriced[1].price = gbp(11_000);
    export(w.dir.path(), &repriced);
    let cycle = w.app.engine.sync_once().await.unwrap();
    assert_eq!(
        cycle.planned, 1,
        "the new DMS price is planned once, with the price decided while planning"
    );
    w.converge().await;
    assert_eq!(w.autotrader_price("P-50"), 11_000);
    assert!(w.audit_steps("P-50").ends_with(&["dms-price".to_string()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrichment_is_applied_before_transform() {
    let stock = vec![golf("E-GOLF"), car("E-OTHER", 8_995, 6_000, 3)];
    let w = world(&stock).await;
    w.converge().await;
    let item = w.sandbox.find_by_reference(ADVERTISER, "E-GOLF").unwrap();
    // The CO2 figure the DMS lacked comes from the enricher's table, and the
    // autotrader transform (which validates and maps it) sent it on.
    assert_eq!(item["vehicle"]["co2EmissionGPKM"], 131);
    let description = item["adverts"]["retailAdverts"]["description"]
        .as_str()
        .unwrap();
    assert!(
        description.starts_with("A tidy Golf with a full history."),
        "{description}"
    );
    assert!(
        description.contains("Search terms: ULEZ compliant"),
        "{description}"
    );
    // Google is not in search_terms.platforms: its description has none.
    let feed =
        std::fs::read_to_string(w.dir.path().join("feeds/google/google-vehicle-ads.tsv")).unwrap();
    let golf_line = feed.lines().find(|l| l.starts_with("E-GOLF\t")).unwrap();
    assert!(
        golf_line.contains("A tidy Golf") && !golf_line.contains("Search terms"),
        "{golf_line}"
    );
    // The store keeps the DMS's record: enrichment is not written back.
    let stored = w.app.store.vehicle("E-GOLF").unwrap().unwrap();
    assert_eq!(stored.record.co2_g_per_km, None);
}

fn seed(store: &SqliteStore, v: &Vehicle, at: i64) {
    store
        .ingest(
            &IngestBatch {
                source: "dms".into(),
                changes: vec![Change::Upsert(Box::new(v.clone()))],
                next_cursor: None,
                full_snapshot: false,
                snapshot_start: false,
                ..Default::default()
            },
            at,
        )
        .unwrap();
}

fn enquiry(id: &str, stock: &str, at: i64) -> NewEnquiry {
    NewEnquiry {
        platform_enquiry_id: id.into(),
        stock_id: Some(stock.into()),
        remote_id: None,
        received_at_ms: at,
        customer: Person {
            name: Some("B".into()),
            email: Some("b@example.com".into()),
            phone: None,
            address: None,
        },
        message: None,
    }
}

#[test]
fn report_figures_on_a_seeded_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(SqliteStore::open(&dir.path().join("forecourt.db")).unwrap());
    let t0 = 1_790_000_000_000; // the seeded world's day 0
    let mut hatch = car("R-HATCH", 10_000, 8_000, 0);
    hatch.date_in_stock = None; // in stock from when the hub first saw it
    hatch.body_style = Some(BodyStyle::Hatchback);
    hatch.vehicle_type = VehicleType::Car;
    let mut suv = hatch.clone();
    suv.stock_id = "R-SUV".into();
    suv.body_style = Some(BodyStyle::Suv);
    let mut van = hatch.clone();
    van.stock_id = "R-VAN".into();
    van.vehicle_type = VehicleType::Van;
    seed(&store, &hatch, t0);
    seed(&store, &suv, t0 + 2 * DAY);
    seed(&store, &van, t0 + 5 * DAY);
    // The hatchback sells on day 40 after two reductions; the SUV on day 22.
    let pricing = forecourt::pricing::Pricing::new(
        RawConfig::parse("[pricing]\nrules = [{ after_days = 10, percent = 2 }, { after_days = 20, percent = 2 }]\n", "f.toml")
            .unwrap()
            .pricing
            .unwrap()
            .settings(),
        store.clone(),
        store.clone(),
    );
    pricing.sweep(t0 + 5 * DAY).unwrap();
    pricing.sweep(t0 + 15 * DAY).unwrap();
    let mut sold = suv.clone();
    sold.status = StockStatus::Sold;
    seed(&store, &sold, t0 + 24 * DAY);
    pricing.sweep(t0 + 25 * DAY).unwrap();
    let mut sold = hatch.clone();
    sold.status = StockStatus::Sold;
    seed(&store, &sold, t0 + 40 * DAY);
    // Listings: autotrader lists all three, the website only the hatchback.
    for (platform, stock) in [
        ("autotrader", "R-HATCH"),
        ("autotrader", "R-SUV"),
        ("autotrader", "R-VAN"),
        ("website", "R-HATCH"),
    ] {
        store
            .execute_raw(&format!(
                "INSERT INTO listings (stock_id, platform, desired_state, published_state, remote_id, lifecycle, updated_at) VALUES ('{stock}', '{platform}', 'live', 'live', 'r-{stock}', 'in-sync', 0)"
            ))
            .unwrap();
    }
    // Enquiries: 4 via autotrader (hatch 2, suv 1, van 1), 4 via the website (hatch 4).
    let e = |platform: &str, id: &str, stock: &str, day: i64| {
        store
            .store_enquiries(
                platform,
                Via::Push,
                &[enquiry(id, stock, t0 + day * DAY)],
                None,
                &[],
                t0 + day * DAY,
            )
            .unwrap();
    };
    e("autotrader", "A1", "R-HATCH", 3);
    e("autotrader", "A2", "R-HATCH", 4);
    e("autotrader", "A3", "R-SUV", 6);
    e("autotrader", "A4", "R-VAN", 7);
    for (i, day) in [8, 9, 12, 13].iter().enumerate() {
        e("website", &format!("W{i}"), "R-HATCH", *day);
    }
    e("autotrader", "A-OLD", "R-HATCH", -30); // before the period

    let r = channel_report(
        store.as_ref(),
        Period {
            since_ms: t0,
            until_ms: t0 + 60 * DAY,
        },
    )
    .unwrap();
    assert_eq!(r.enquiries, 8);
    let at = r
        .platforms
        .iter()
        .find(|p| p.platform == "autotrader")
        .unwrap();
    let web = r
        .platforms
        .iter()
        .find(|p| p.platform == "website")
        .unwrap();
    assert_eq!((at.enquiries, at.listings), (4, 3));
    assert_eq!((web.enquiries, web.listings), (4, 1));
    assert_eq!((at.enquiry_share, at.listing_share), (0.5, 0.75));
    assert_eq!(
        web.performance,
        Some(2.0),
        "half the enquiries from a quarter of the listings"
    );
    assert_eq!(at.performance, Some(0.667));
    let hatch = r
        .categories
        .iter()
        .find(|c| c.category == "hatchback")
        .unwrap();
    assert_eq!(
        (
            hatch.enquiries,
            hatch.by_platform["website"],
            hatch.by_platform["autotrader"]
        ),
        (6, 4, 2)
    );
    assert_eq!(
        r.categories
            .iter()
            .find(|c| c.category == "van")
            .unwrap()
            .enquiries,
        1
    );
    let days = |c: &str| {
        r.days_to_sell
            .iter()
            .find(|d| d.category == c)
            .unwrap()
            .median_days
    };
    assert_eq!(days("hatchback"), 40.0);
    assert_eq!(days("suv"), 22.0);
    assert!(
        r.days_to_sell.iter().all(|d| d.category != "van"),
        "not sold"
    );
    let pc = &r.price_changes;
    assert_eq!((pc.sold, pc.with_changes), (2, 2));
    // The hatchback was reduced twice (£10,000 → £9,795 → £9,595, -4.05%),
    // the SUV once before it sold (→ £9,795, -2.05%).
    assert_eq!(pc.mean_changes, 1.5);
    assert_eq!(pc.by_category["hatchback"], 2.0);
    assert_eq!(pc.by_category["suv"], 1.0);
    assert_eq!(pc.mean_change_percent, -3.05);
    // The same struct, serialised, for the admin API.
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["enquiries"], 8);
}
