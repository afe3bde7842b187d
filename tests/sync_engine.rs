//! End-to-end tests of the sync engine with real parts: a real SQLite file,
//! the real csv-export, autotrader and google-vehicle-ads components, and
//! the sandbox marketplace over loopback HTTP.

use forecourt::app::App;
use forecourt::config::RawConfig;
use forecourt::runtime::types::{StockStatus, Vehicle};
use forecourt::sandbox::{Faults, Sandbox, SandboxConfig};
use forecourt::store::audit::Verification;
use forecourt::store::Store;
use forecourt_tests::*;
use std::path::Path;
use std::time::{Duration, Instant};

const ADVERTISER: &str = "10008899";

struct Pipeline {
    dir: tempfile::TempDir,
    sandbox: Sandbox,
    app: App,
}

async fn pipeline(stock: &[Vehicle], extra_platform: &str) -> Pipeline {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let plugins = plugins_for_sandbox(dir.path(), sandbox.addr().port());
    let config_path = pipeline_config(dir.path(), &plugins, &sandbox.base_url(), extra_platform);
    export(dir.path(), stock);
    let config = RawConfig::load(&config_path).unwrap();
    let app = forecourt::app::build_with_secrets(&config, Some(sandbox_secrets()))
        .await
        .unwrap();
    Pipeline { dir, sandbox, app }
}

impl Pipeline {
    fn export(&self, stock: &[Vehicle]) {
        export(self.dir.path(), stock);
    }

    /// Sync until no operation is waiting, sleeping until retries are due.
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

    fn on_platform(&self, stock_id: &str) -> Option<serde_json::Value> {
        self.sandbox.find_by_reference(ADVERTISER, stock_id)
    }

    fn lifecycle(&self, stock_id: &str) -> String {
        self.on_platform(stock_id)
            .and_then(|s| s["metadata"]["lifecycleState"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// What Auto Trader shows for a listable vehicle.
fn expected_lifecycle(v: &Vehicle) -> &'static str {
    if v.status == StockStatus::DueIn {
        "DUE_IN"
    } else {
        "FORECOURT"
    }
}

fn listable(stock: &[Vehicle]) -> Vec<&Vehicle> {
    stock
        .iter()
        .filter(|v| {
            matches!(
                v.status,
                StockStatus::InStock | StockStatus::DueIn | StockStatus::Reserved
            )
        })
        .collect()
}

fn feed(dir: &Path) -> String {
    std::fs::read_dir(dir.join("feeds/google"))
        .unwrap_or_else(|e| {
            panic!(
                "feed directory in {}: {e}; {:?}",
                dir.display(),
                std::fs::read_dir(dir)
                    .unwrap()
                    .flatten()
                    .map(|e| e.path())
                    .collect::<Vec<_>>()
            )
        })
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_pipeline_lists_updates_sells_and_recovers_from_an_outage() {
    let mut stock = forecourt::sample::sample_stock(40, 11);
    let p = pipeline(&stock, "").await;
    p.converge().await;

    // Every listable vehicle is on the sandbox once, with its whole-pound price.
    for v in listable(&stock) {
        let item = p
            .on_platform(&v.stock_id)
            .unwrap_or_else(|| panic!("{} listed", v.stock_id));
        assert_eq!(
            item["adverts"]["retailAdverts"]["suppliedPrice"]["amountGBP"]
                .as_i64()
                .unwrap(),
            v.price.as_ref().unwrap().amount_minor / 100
        );
    }
    assert!(
        p.sandbox
            .stats()
            .creates_by_reference
            .values()
            .all(|n| *n == 1),
        "no duplicate creates"
    );
    assert!(
        feed(p.dir.path()).contains(&stock[0].stock_id) || stock[0].status != StockStatus::InStock
    );

    // Nothing changed: no platform call at all.
    let before = p.sandbox.stats().stock_calls();
    p.converge().await;
    assert_eq!(
        p.sandbox.stats().stock_calls(),
        before,
        "an unchanged vehicle causes no platform call"
    );

    // A price change is one PATCH.
    let i = stock
        .iter()
        .position(|v| v.status == StockStatus::InStock)
        .unwrap();
    stock[i].price.as_mut().unwrap().amount_minor -= 25_000;
    p.export(&stock);
    let before = p.sandbox.stats();
    p.converge().await;
    let after = p.sandbox.stats();
    assert_eq!(
        (after.patch - before.patch, after.create - before.create),
        (1, 0)
    );

    // A sale during an outage: a discrepancy until the platform recovers.
    p.sandbox.set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    stock[i].status = StockStatus::Sold;
    p.export(&stock);
    p.app.engine.sync_once().await.unwrap();
    let discrepancies = p.app.store.discrepancies().unwrap();
    assert_eq!(discrepancies.len(), 1, "{discrepancies:?}");
    assert_eq!(
        discrepancies[0].still_listed_on,
        vec!["autotrader".to_string()]
    );
    assert_eq!(discrepancies[0].removed_from, vec!["google".to_string()]);
    assert!(
        !feed(p.dir.path()).contains(&stock[i].stock_id),
        "the feed dropped it at once"
    );
    p.sandbox.set_faults(Faults::default());
    tokio::time::sleep(Duration::from_millis(100)).await;
    p.converge().await;
    assert_eq!(p.lifecycle(&stock[i].stock_id), "SOLD");
    let item = p.on_platform(&stock[i].stock_id).unwrap();
    for location in [
        "autotraderAdvert",
        "advertiserAdvert",
        "locatorAdvert",
        "exportAdvert",
        "profileAdvert",
    ] {
        assert_eq!(
            item["adverts"]["retailAdverts"][location]["status"], "NOT_PUBLISHED",
            "{location}"
        );
    }
    assert!(p.app.store.discrepancies().unwrap().is_empty());
    assert!(matches!(
        p.app.store.audit_verify().unwrap(),
        Verification::Intact { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_field_is_dead_lettered_with_its_reason_and_can_be_retried() {
    let stock = forecourt::sample::sample_stock(5, 21);
    let p = pipeline(&stock, "").await;
    p.sandbox.set_faults(Faults {
        reject_fields: vec!["vehicle.colour".into()],
        ..Faults::default()
    });
    p.converge().await;
    let dead = p.app.store.dead_letters(Some("autotrader")).unwrap();
    assert_eq!(dead.len(), listable(&stock).len());
    assert_eq!(dead[0].error_class.as_deref(), Some("validation"));
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("vehicle.colour"),
        "{:?}",
        dead[0].last_error
    );
    assert!(
        dead.iter().all(|j| j.attempts == 1),
        "validation errors are not retried"
    );

    p.sandbox.set_faults(Faults::default());
    for job in &dead {
        assert!(p
            .app
            .store
            .retry_dead(job.id, "operator:test", forecourt::store::now_ms())
            .unwrap());
    }
    p.converge().await;
    assert!(p.app.store.dead_letters(None).unwrap().is_empty());
    for v in listable(&stock) {
        assert_eq!(p.lifecycle(&v.stock_id), expected_lifecycle(v));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_transient_errors_are_retried_to_convergence() {
    let stock = forecourt::sample::sample_stock(30, 31);
    let p = pipeline(&stock, "").await;
    p.sandbox.set_faults(Faults {
        error_rate: 0.3,
        rate_limit_rate: 0.2,
        retry_after_secs: 0,
        ..Faults::default()
    });
    p.converge().await;
    let stats = p.sandbox.stats();
    assert!(stats.errors > 0 && stats.rate_limited > 0, "{stats:?}");
    for v in listable(&stock) {
        assert_eq!(
            p.lifecycle(&v.stock_id),
            expected_lifecycle(v),
            "{}",
            v.stock_id
        );
    }
    assert!(p.app.store.dead_letters(None).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_restores_lost_listings_and_removes_orphans() {
    let stock = forecourt::sample::sample_stock(12, 41);
    let p = pipeline(&stock, "").await;
    p.converge().await;

    // The platform loses everything (a manual clean-up on their side).
    p.sandbox.reset();
    let autotrader = &p.app.engine.platforms()[0];
    let report = p.app.engine.reconcile(autotrader).await.unwrap();
    assert_eq!(report.missing.len(), listable(&stock).len(), "{report:?}");
    p.converge().await;
    for v in listable(&stock) {
        assert_eq!(p.lifecycle(&v.stock_id), expected_lifecycle(v));
    }

    // Another system lists a car this hub does not know: an orphan.
    let other = forecourt::sample::sample_stock(1, 999)
        .into_iter()
        .map(|mut v| {
            v.stock_id = "ORPHAN1".into();
            v.status = StockStatus::InStock;
            v
        });
    let other: Vec<Vehicle> = other.collect();
    let second_dir = tempfile::tempdir().unwrap();
    let plugins = plugins_for_sandbox(second_dir.path(), p.sandbox.addr().port());
    let config = pipeline_config(second_dir.path(), &plugins, &p.sandbox.base_url(), "");
    export(second_dir.path(), &other);
    let second = forecourt::app::build_with_secrets(
        &RawConfig::load(&config).unwrap(),
        Some(sandbox_secrets()),
    )
    .await
    .unwrap();
    second.engine.sync_once().await.unwrap();
    assert_eq!(p.lifecycle("ORPHAN1"), "FORECOURT");

    let report = p.app.engine.reconcile(autotrader).await.unwrap();
    assert_eq!(report.orphaned, vec!["ORPHAN1".to_string()], "{report:?}");
    p.converge().await;
    assert_eq!(p.lifecycle("ORPHAN1"), "WASTEBIN");
}

/// How many times the source plugin was called with `op`.
fn source_calls(app: &App, op: &str) -> u64 {
    app.engine.sources()[0]
        .plugin
        .stats()
        .metrics
        .duration
        .snapshot()
        .into_iter()
        .find(|(labels, _)| labels == &[op.to_string()])
        .map_or(0, |(_, h)| h.count)
}

/// Contract 1.2.0 `snapshot`: the csv-export plugin is handed its rows'
/// digests and names unchanged rows instead of parsing them; the result is
/// what a full parse would give.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_pull_parses_only_the_rows_that_changed() {
    let mut stock = forecourt::sample::sample_stock(30, 77);
    let p = pipeline(&stock, "").await;
    p.converge().await;
    assert_eq!(source_calls(&p.app, "pull-snapshot"), 1);
    assert_eq!(
        source_calls(&p.app, "pull"),
        0,
        "csv-export exports snapshot"
    );

    // One price changes, one vehicle leaves, one arrives.
    if let Some(price) = stock[0].price.as_mut() {
        price.amount_minor += 50_000;
    }
    let gone = stock.remove(29);
    let mut arrival = forecourt::sample::sample_stock(31, 77).pop().unwrap();
    arrival.stock_id = "ARRIVAL-1".into();
    stock.push(arrival);
    p.export(&stock);
    let report = p.app.engine.sync_once().await.unwrap();
    let pull = &report.pulls[0];
    assert_eq!(
        (pull.created, pull.updated, pull.unchanged),
        (1, 1, 28),
        "{pull:?}"
    );
    // The tests' configuration has no grace period: the vehicle that left goes at once.
    assert_eq!(
        pull.snapshot,
        Some(forecourt::store::SnapshotOutcome::Applied {
            newly_missing: 0,
            removed: 1
        }),
        "{pull:?}"
    );
    p.converge().await;
    let stored = p.app.store.vehicle(&stock[0].stock_id).unwrap().unwrap();
    assert_eq!(
        stored.record.price, stock[0].price,
        "the changed row was parsed"
    );
    assert!(p.app.store.vehicle("ARRIVAL-1").unwrap().unwrap().present);
    assert!(
        !p.app
            .store
            .vehicle(&gone.stock_id)
            .unwrap()
            .unwrap()
            .present
    );

    // The same export again: every row is named unchanged, nothing is stored.
    let report = p.app.engine.sync_once().await.unwrap();
    let pull = &report.pulls[0];
    assert_eq!(
        (pull.created, pull.updated, pull.unchanged),
        (0, 0, 30),
        "{pull:?}"
    );
    assert_eq!(p.app.store.queue_depth(None).unwrap(), 0);
    assert_eq!(source_calls(&p.app, "pull"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shrinking_snapshot_is_held_instead_of_delisting_the_forecourt() {
    let stock = forecourt::sample::sample_stock(20, 51);
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let plugins = plugins_for_sandbox(dir.path(), sandbox.addr().port());
    let config_path = pipeline_config(dir.path(), &plugins, &sandbox.base_url(), "");
    // This test wants the default guard (30%), not the permissive test setting.
    let text = std::fs::read_to_string(&config_path)
        .unwrap()
        .replace("max_snapshot_shrink = 1.0", "max_snapshot_shrink = 0.3");
    std::fs::write(&config_path, text).unwrap();
    export(dir.path(), &stock);
    let app = forecourt::app::build_with_secrets(
        &RawConfig::load(&config_path).unwrap(),
        Some(sandbox_secrets()),
    )
    .await
    .unwrap();
    app.engine.sync_once().await.unwrap();
    let listed = sandbox.stock(ADVERTISER).len();
    let present = app.store.present_vehicles().unwrap().len();

    // A truncated export with half the stock.
    export(dir.path(), &stock[..10]);
    let report = app.engine.sync_once().await.unwrap();
    assert!(
        matches!(
            report.pulls[0].snapshot,
            Some(forecourt::store::SnapshotOutcome::Held { .. })
        ),
        "{report:?}"
    );
    assert_eq!(
        app.store.present_vehicles().unwrap().len(),
        present,
        "nothing was removed"
    );
    assert_eq!(
        sandbox
            .stock(ADVERTISER)
            .iter()
            .filter(|s| s["metadata"]["lifecycleState"] != "WASTEBIN"
                && s["metadata"]["lifecycleState"] != "SOLD")
            .count(),
        listed
    );
}

/// Crash safety: SIGKILL the host repeatedly during a large sync; after a
/// final uninterrupted run, every vehicle is on the platform exactly once
/// with its final content, nothing is left queued and the audit chain holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_large_sync_loses_nothing_and_duplicates_nothing() {
    use rand::{Rng, SeedableRng};
    let mut stock = forecourt::sample::sample_stock(150, 61);
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    // Slow the platform a little so kills land mid-batch.
    sandbox.set_faults(Faults {
        latency_ms: 3,
        ..Faults::default()
    });
    let plugins = plugins_for_sandbox(dir.path(), sandbox.addr().port());
    let config = pipeline_config(dir.path(), &plugins, &sandbox.base_url(), "");
    export(dir.path(), &stock);
    let worker = env!("CARGO_BIN_EXE_sync-worker");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut kills = 0;
    for round in 0..12 {
        if round == 6 {
            // Change things half-way: prices, a sale, a withdrawal.
            for v in stock.iter_mut().step_by(7) {
                if let Some(p) = v.price.as_mut() {
                    p.amount_minor -= 10_000;
                }
            }
            stock[3].status = StockStatus::Sold;
            stock[5].status = StockStatus::Withdrawn;
            export(dir.path(), &stock);
        }
        let mut child = std::process::Command::new(worker)
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..900))).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(kills >= 6, "the worker was killed mid-sync {kills} times");
    let status = std::process::Command::new(worker)
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );

    let items = sandbox.stock(ADVERTISER);
    for v in &stock {
        let copies: Vec<_> = items
            .iter()
            .filter(|s| s["metadata"]["externalStockReference"] == v.stock_id.as_str())
            .collect();
        match v.status {
            StockStatus::InStock | StockStatus::Reserved | StockStatus::DueIn => {
                assert_eq!(copies.len(), 1, "{} listed exactly once", v.stock_id);
                assert_eq!(
                    copies[0]["adverts"]["retailAdverts"]["suppliedPrice"]["amountGBP"]
                        .as_i64()
                        .unwrap(),
                    v.price.as_ref().unwrap().amount_minor / 100,
                    "{} has its final price",
                    v.stock_id
                );
            }
            // Sold before it was ever listed is fine too.
            StockStatus::Sold => {
                assert!(copies.is_empty() || copies[0]["metadata"]["lifecycleState"] == "SOLD")
            }
            StockStatus::Withdrawn => {
                assert!(copies.is_empty() || copies[0]["metadata"]["lifecycleState"] == "WASTEBIN")
            }
        }
    }
    let store = forecourt::store::SqliteStore::open(&dir.path().join("data/forecourt.db")).unwrap();
    assert_eq!(store.queue_depth(None).unwrap(), 0);
    assert!(matches!(
        store.audit_verify().unwrap(),
        Verification::Intact { .. }
    ));
}

mod model {
    //! Model-based test: random DMS changes and platform faults against an
    //! in-memory model of what the platform should finally show.
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        Reprice(usize, i64),
        Sell(usize),
        Withdraw(usize),
        Reserve(usize),
        Unreserve(usize),
        Remove(usize),
        Return(usize),
        Faults(u8),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0usize..8, 1i64..50).prop_map(|(i, d)| Step::Reprice(i, d)),
            (0usize..8).prop_map(Step::Sell),
            (0usize..8).prop_map(Step::Withdraw),
            (0usize..8).prop_map(Step::Reserve),
            (0usize..8).prop_map(Step::Unreserve),
            (0usize..8).prop_map(Step::Remove),
            (0usize..8).prop_map(Step::Return),
            (0u8..4).prop_map(Step::Faults),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
        #[test]
        fn the_platform_converges_to_the_model(steps in proptest::collection::vec(step(), 4..10)) {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(run(steps));
        }
    }

    async fn run(steps: Vec<Step>) {
        let mut stock: Vec<Vehicle> = forecourt::sample::sample_stock(8, 71)
            .into_iter()
            .map(|mut v| {
                v.status = StockStatus::InStock;
                v
            })
            .collect();
        let mut present = [true; 8];
        let p = pipeline(&stock, "").await;
        p.converge().await;
        for step in steps {
            match step {
                Step::Reprice(i, d) => stock[i].price.as_mut().unwrap().amount_minor -= d * 100,
                Step::Sell(i) => stock[i].status = StockStatus::Sold,
                Step::Withdraw(i) => stock[i].status = StockStatus::Withdrawn,
                Step::Reserve(i) => stock[i].status = StockStatus::Reserved,
                Step::Unreserve(i) => stock[i].status = StockStatus::InStock,
                Step::Remove(i) => present[i] = false,
                Step::Return(i) => present[i] = true,
                Step::Faults(level) => p.sandbox.set_faults(Faults {
                    error_rate: level as f64 * 0.1,
                    rate_limit_rate: if level == 3 { 0.2 } else { 0.0 },
                    retry_after_secs: 0,
                    ..Faults::default()
                }),
            }
            let current: Vec<Vehicle> = stock
                .iter()
                .zip(present)
                .filter(|(_, p)| *p)
                .map(|(v, _)| v.clone())
                .collect();
            p.export(&current);
            p.converge().await;
            // The model: what the platform must show for each vehicle now.
            for (v, is_present) in stock.iter().zip(present) {
                let shown = p.on_platform(&v.stock_id);
                let lifecycle = shown
                    .as_ref()
                    .and_then(|s| s["metadata"]["lifecycleState"].as_str())
                    .unwrap_or("");
                let advertisable =
                    is_present && matches!(v.status, StockStatus::InStock | StockStatus::Reserved);
                if advertisable {
                    let s = shown.as_ref().unwrap();
                    assert_eq!(
                        lifecycle,
                        expected_lifecycle(v),
                        "{} should be live",
                        v.stock_id
                    );
                    assert_eq!(
                        s["adverts"]["retailAdverts"]["suppliedPrice"]["amountGBP"]
                            .as_i64()
                            .unwrap(),
                        v.price.as_ref().unwrap().amount_minor / 100
                    );
                    let reserved = s["adverts"]["reservationStatus"] == "Reserved";
                    assert_eq!(
                        reserved,
                        v.status == StockStatus::Reserved,
                        "{} reservation",
                        v.stock_id
                    );
                } else {
                    // Sold, withdrawn or gone: not advertised (a car removed
                    // from the DMS and back as sold stays in the wastebin).
                    assert!(
                        lifecycle == "WASTEBIN" || lifecycle == "SOLD" || lifecycle.is_empty(),
                        "{} should be off ({lifecycle})",
                        v.stock_id
                    );
                    if is_present && v.status == StockStatus::Sold && lifecycle == "WASTEBIN" {
                        assert!(p.app.store.discrepancies().unwrap().is_empty());
                    }
                }
            }
            assert!(p.sandbox.stats().creates_by_reference.len() <= 8);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_syncs_on_its_own_and_stops_taking_work_when_told() {
    let stock = forecourt::sample::sample_stock(10, 81);
    let p = pipeline(&stock, "").await;
    let engine = &p.app.engine;
    let watcher = async {
        let started = Instant::now();
        while listable(&stock)
            .iter()
            .any(|v| p.lifecycle(&v.stock_id).is_empty())
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the scheduler did not sync"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        engine.stop();
        Instant::now()
    };
    let (_, stopped_at) = tokio::join!(engine.run(Duration::from_secs(3600)), watcher);
    assert!(
        stopped_at.elapsed() < Duration::from_secs(5),
        "run returned promptly after stop"
    );
    assert_eq!(p.app.store.queue_depth(None).unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_platforms_deliver_while_planning_goes_on_and_a_feed_renders_once_it_is_over() {
    // Three planning batches (500 vehicles each).
    let stock = forecourt::sample::sample_stock(1_300, 5);
    let p = pipeline(&stock, "").await;
    let report = p.app.engine.sync_once().await.unwrap();
    assert_eq!(report.planned, stock.len());

    // Auto Trader acknowledged operations of the first batch before the
    // last batch was planned: delivery ran beside planning.
    let audit = p.app.store.audit_tail(1_000_000).unwrap();
    let seqs = |kind: &str| -> Vec<i64> {
        audit
            .iter()
            .filter(|a| a.entry.kind == kind && a.entry.platform.as_deref() == Some("autotrader"))
            .map(|a| a.seq)
            .collect()
    };
    let first_result = *seqs("result")
        .iter()
        .min()
        .expect("autotrader acknowledged operations");
    let last_plan = *seqs("plan")
        .iter()
        .max()
        .expect("autotrader operations planned");
    assert!(
        first_result < last_plan,
        "the first acknowledgement (audit #{first_result}) came after the last plan (audit #{last_plan})"
    );

    // The feed was rendered once, after planning, and holds every listing
    // meant to be advertised, not the first batch's.
    let google = report
        .deliveries
        .iter()
        .find(|d| d.platform == "google")
        .unwrap();
    assert_eq!(google.calls, 1, "{google:?}");
    let feed = feed(p.dir.path());
    let advertised: Vec<_> = p
        .app
        .store
        .listings("google")
        .unwrap()
        .into_iter()
        .filter(|l| l.desired_state != "absent" && l.desired_body.is_some())
        .collect();
    assert!(advertised.len() > 1_000, "{} advertised", advertised.len());
    for listing in &advertised {
        assert!(
            feed.contains(&listing.stock_id),
            "{} missing from the feed",
            listing.stock_id
        );
    }
    assert_eq!(p.app.store.queue_depth(None).unwrap(), 0);
}
