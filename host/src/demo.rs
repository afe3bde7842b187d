//! `forecourt demo`: a dealer's day on embedded defaults.
//!
//! A SQLite store in a local data directory, ~200 realistic UK vehicles
//! exported by a "DMS" as a CSV file, the `csv-export` source plugin, the
//! sandbox marketplace (Auto Trader-style API) with the `autotrader` plugin,
//! and the Google vehicle ads feed. It syncs everything, then a sale, a price
//! change, a new arrival and a platform outage with recovery, and prints a
//! short story of what happened and where to look.

use crate::config::RawConfig;
use crate::runtime::secrets::MemorySecrets;
use crate::runtime::types::{StockStatus, Vehicle};
use crate::sandbox::{Faults, Sandbox, SandboxConfig};
use crate::store::Store;
use crate::sync::{CycleReport, Engine};
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Options of `forecourt demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Exit at the end of the story instead of leaving the sandbox marketplace running.
    #[arg(long)]
    pub once: bool,
    /// Where the demo keeps its data (database, exports, feeds, compiled-plugin cache). Cleared at start.
    #[arg(long, default_value = "forecourt-data")]
    pub data_dir: PathBuf,
    /// Where the built plugins and their manifests are (`cargo xtask plugins` stages them there).
    #[arg(
        long,
        env = "FORECOURT_PLUGINS_DIR",
        default_value = "target/forecourt-plugins"
    )]
    pub plugins_dir: PathBuf,
    /// How many sample vehicles the DMS exports.
    #[arg(long, default_value_t = 200)]
    pub vehicles: usize,
    /// Port of the sandbox marketplace (the autotrader plugin's manifest allows 127.0.0.1:8700).
    #[arg(long, default_value_t = 8700)]
    pub sandbox_port: u16,
    /// Port of the admin API and dashboard on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8450)]
    pub admin_port: u16,
}

const ADVERTISER: &str = "10008899";

fn config_text(plugins_dir: &Path, sandbox_url: &str, admin_port: u16) -> String {
    format!(
        r#"# Written by `forecourt demo`. Try: forecourt status --config {{this file}}
data_dir = "."
plugins_dir = "{plugins}"

# `cargo xtask plugins` signs the reference plugins with a development key
# it makes once under target/; trust only that key here.
[plugins]
trusted_keys_file = "{plugins}/dev-publisher.pub"

[[source]]
id = "dms"
plugin = "csv-export"
interval_secs = 900
document = {{ file = "dms/stock-export.csv" }}
config = {{ dealer_id = "dealer-001", location_id = "stockport" }}

[[platform]]
id = "autotrader"
plugin = "autotrader"
config = {{ base_url = "{sandbox_url}", advertiser_id = "{ADVERTISER}" }}
grants = {{ plain_http_hosts = ["127.0.0.1"], private_network_hosts = ["127.0.0.1"] }}
retry = {{ base_ms = 200, cap_ms = 1500, max_attempts = 10 }}
# The sandbox has no rate limit; production Auto Trader would keep the plugin's hint.
rate_limit_per_minute = 60000

[[platform]]
id = "google"
plugin = "google-vehicle-ads"
config = {{ store_code = "dealer-001", format = "tsv", link_template = "https://www.forecourt-demo.example/used-cars/{{stock_id}}", google_product_category = "916" }}
feed = {{ directory = "feeds/google" }}

# The admin API, /metrics and the dashboard (`forecourt run` serves them too).
[admin]
listen = "127.0.0.1:{admin_port}"
"#,
        plugins = plugins_dir.display()
    )
}

fn export(dir: &Path, stock: &[Vehicle]) -> anyhow::Result<()> {
    crate::files::write_atomic(
        &dir.join("dms/stock-export.csv"),
        &crate::sample::to_export_csv(stock),
    )
}

fn acknowledged(report: &CycleReport, platform: &str) -> usize {
    report
        .deliveries
        .iter()
        .filter(|d| d.platform == platform)
        .map(|d| d.done)
        .sum()
}

fn max_latency_ms(report: &CycleReport) -> i64 {
    report
        .deliveries
        .iter()
        .flat_map(|d| d.latencies_ms.iter().copied())
        .max()
        .unwrap_or(0)
}

fn lifecycle(sandbox: &Sandbox, stock_id: &str) -> String {
    sandbox
        .find_by_reference(ADVERTISER, stock_id)
        .and_then(|s| s["metadata"]["lifecycleState"].as_str().map(str::to_string))
        .unwrap_or_else(|| "not listed".into())
}

fn feed_lists(dir: &Path, stock_id: &str) -> bool {
    std::fs::read_dir(dir.join("feeds/google"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_file())
        .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(stock_id)))
}

/// Run the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let dir = &args.data_dir;
    for owned in [
        "forecourt.db",
        "forecourt.db-wal",
        "forecourt.db-shm",
        "forecourt.toml",
    ] {
        let _ = std::fs::remove_file(dir.join(owned));
    }
    for owned in ["feeds", "dms"] {
        let _ = std::fs::remove_dir_all(dir.join(owned));
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    let plugins_dir = std::path::absolute(&args.plugins_dir)?;
    anyhow::ensure!(
        plugins_dir.join("csv-export.wasm").exists() && plugins_dir.join("autotrader.wasm").exists(),
        "the reference plugins are not built in {}: run `cargo xtask demo` (or `cargo xtask plugins` first)",
        plugins_dir.display()
    );

    let sandbox = Sandbox::start(SandboxConfig {
        listen: ([127, 0, 0, 1], args.sandbox_port).into(),
        ..SandboxConfig::default()
    })
    .await
    .with_context(|| {
        format!(
            "cannot start the sandbox marketplace on 127.0.0.1:{} (is another demo running?)",
            args.sandbox_port
        )
    })?;

    let mut stock = crate::sample::sample_stock(args.vehicles, 2026);
    export(dir, &stock)?;
    let config_path = dir.join("forecourt.toml");
    std::fs::write(
        &config_path,
        config_text(&plugins_dir, &sandbox.base_url(), args.admin_port),
    )?;
    let config = RawConfig::load(&config_path)?;
    let secrets = MemorySecrets::default();
    secrets.set("autotrader", "key", "sandbox-key");
    secrets.set("autotrader", "secret", "sandbox-secret");
    let app = crate::app::build_with_secrets(&config, Some(Box::new(secrets))).await?;
    let engine = &app.engine;
    let admin = crate::admin::AdminServer::start(crate::admin::AdminState::new(
        app.store.clone(),
        app.engine.clone(),
        crate::admin::AdminOptions {
            listen: ([127, 0, 0, 1], args.admin_port).into(),
            ..Default::default()
        },
        crate::admin::config_view(&config, &config_path),
    ))
    .await
    .with_context(|| {
        format!(
            "cannot start the dashboard on 127.0.0.1:{} (is another demo running? try --admin-port 0)",
            args.admin_port
        )
    })?;
    let admin_token = crate::admin::command::demo_token(&app.store)?;

    println!("forecourt demo: a dealer's day\n");
    println!(
        "Set-up: dealer-001 exports {} vehicles from its DMS as {}.",
        stock.len(),
        dir.join("dms/stock-export.csv").display()
    );
    println!(
        "        Plugins: csv-export (source), autotrader (API, talking to the sandbox marketplace at {}), google-vehicle-ads (feed).",
        sandbox.base_url()
    );

    // 1. First full sync.
    let t = Instant::now();
    engine.set_progress(crate::progress::for_command(false));
    let first = engine.sync_once().await?;
    engine.set_progress(None);
    let pull = &first.pulls[0];
    println!(
        "\n1. First sync ({:.1} s): {} vehicles read, {} row issue(s). Auto Trader acknowledged {} listings; the Google feed lists {}.",
        t.elapsed().as_secs_f64(),
        pull.created,
        pull.row_issues.len(),
        acknowledged(&first, "autotrader"),
        app.store.listings("google")?.iter().filter(|l| l.published_state == "live" || l.published_state == "reserved").count()
    );
    for platform in ["autotrader", "google"] {
        let blocked: Vec<_> = app
            .store
            .listings(platform)?
            .into_iter()
            .filter(|l| l.lifecycle == "blocked")
            .collect();
        if let Some(example) = blocked.first() {
            let issues: Vec<crate::runtime::types::ValidationIssue> =
                serde_json::from_str(example.issues.as_deref().unwrap_or("[]")).unwrap_or_default();
            println!(
                "   {platform}: {} held back by validation, e.g. {}: {}",
                blocked.len(),
                example.stock_id,
                issues
                    .iter()
                    .map(|i| format!("{} ({})", i.field, i.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
    let hub_only = stock.iter().filter(|v| v.hub_only.is_some()).count();
    println!("   {hub_only} vehicles carry internal notes or cost prices: stored in the hub, stripped before any platform saw them.");

    // 2. A sale.
    let sold_at = stock
        .iter()
        .position(|v| {
            v.status == StockStatus::InStock && lifecycle(&sandbox, &v.stock_id) == "FORECOURT"
        })
        .context("a listed vehicle to sell")?;
    let sold_id = stock[sold_at].stock_id.clone();
    stock[sold_at].status = StockStatus::Sold;
    export(dir, &stock)?;
    let sale = engine.sync_once().await?;
    println!(
        "\n2. {sold_id} is sold in the DMS. Next sync: Auto Trader shows lifecycle {} with every advert unpublished; the Google feed {} it. Longest DMS-to-platform latency: {} ms.",
        lifecycle(&sandbox, &sold_id),
        if feed_lists(dir, &sold_id) { "STILL LISTS" } else { "no longer lists" },
        max_latency_ms(&sale)
    );

    // 3. A price change.
    let before = sandbox.stats();
    let repriced = stock
        .iter()
        .position(|v| {
            v.status == StockStatus::InStock && lifecycle(&sandbox, &v.stock_id) == "FORECOURT"
        })
        .context("a listed vehicle to reprice")?;
    let price = stock[repriced].price.as_mut().context("priced vehicle")?;
    let old = price.amount_minor / 100;
    price.amount_minor -= 50_000;
    export(dir, &stock)?;
    let reprice = engine.sync_once().await?;
    let after = sandbox.stats();
    println!(
        "\n3. {} drops from £{old} to £{}. Auto Trader received {} PATCH (only the changed fields), {} create(s); the other {} unchanged vehicles caused no platform call.",
        stock[repriced].stock_id,
        old - 500,
        after.patch - before.patch,
        after.create - before.create,
        reprice.pulls[0].unchanged
    );

    // 4. A new arrival.
    let mut arrival = crate::sample::sample_stock(1, 777).remove(0);
    arrival.stock_id = "FC99001".into();
    arrival.status = StockStatus::InStock;
    stock.push(arrival);
    export(dir, &stock)?;
    let before = sandbox.stats();
    engine.sync_once().await?;
    println!(
        "\n4. New arrival FC99001: created on Auto Trader ({} create, lifecycle {}) and added to the Google feed ({}).",
        sandbox.stats().create - before.create,
        lifecycle(&sandbox, "FC99001"),
        if feed_lists(dir, "FC99001") { "listed" } else { "missing" }
    );

    // 5. An outage and recovery.
    sandbox.set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    let outage_at = stock
        .iter()
        .position(|v| {
            v.status == StockStatus::InStock && lifecycle(&sandbox, &v.stock_id) == "FORECOURT"
        })
        .context("a listed vehicle")?;
    stock[outage_at].status = StockStatus::Sold;
    let outage_id = stock[outage_at].stock_id.clone();
    export(dir, &stock)?;
    let during = engine.sync_once().await?;
    let discrepancies = app.store.discrepancies()?;
    println!(
        "\n5. Auto Trader goes down (every call 503). {outage_id} is sold meanwhile: the Google feed drops it at once; the Auto Trader removal is {} and scheduled for retry with backoff. `forecourt status` shows {} discrepancy: {} is sold but still on {}.",
        if during.deliveries.iter().any(|d| d.platform == "autotrader" && d.retried > 0) { "refused" } else { "held" },
        discrepancies.len(),
        outage_id,
        discrepancies.first().map(|d| d.still_listed_on.join(", ")).unwrap_or_default()
    );
    sandbox.set_faults(Faults::default());
    let recovery = recover(engine, &app.store, "autotrader").await?;
    println!(
        "   Auto Trader is back. The retry succeeds after {:.1} s: {outage_id} is now {} there, and there are {} discrepancies.",
        recovery.as_secs_f64(),
        lifecycle(&sandbox, &outage_id),
        app.store.discrepancies()?.len()
    );

    // 6. Audit.
    let verification = app.store.audit_verify()?;
    let stats = sandbox.stats();
    println!(
        "\n6. Audit trail: {}. Auto Trader saw {} token request(s) for {} stock calls: the host reuses the 15-minute token.",
        match verification {
            crate::store::audit::Verification::Intact { entries } => format!("intact, {entries} entries, hash chain verified"),
            crate::store::audit::Verification::Broken { seq, reason } => format!("BROKEN at entry {seq}: {reason}"),
        },
        stats.authenticate,
        stats.stock_calls()
    );

    println!(
        "\nDone in {:.1} s. Where to look:\n  forecourt status --config {cfg}\n  forecourt audit tail --config {cfg}\n  forecourt dead-letters list --config {cfg}\n  the Google feed in {feeds}\n  forecourt plugin inspect {plugins}/autotrader.wasm",
        started.elapsed().as_secs_f64(),
        cfg = config_path.display(),
        feeds = dir.join("feeds/google").display(),
        plugins = plugins_dir.display(),
    );
    println!(
        "\nDashboard: {}/  (admin API, /metrics and docs at /api/openapi.json)\n  sign in with the demo admin token: {admin_token}",
        admin.base_url()
    );
    if args.once {
        admin.shutdown().await;
        sandbox.shutdown().await;
        return Ok(crate::cli::EXIT_OK);
    }
    println!(
        "\nThe dashboard and the sandbox marketplace keep running ({} GET /_sandbox/stock, /_sandbox/stats). Press Ctrl-C to stop.",
        sandbox.base_url()
    );
    tokio::signal::ctrl_c().await?;
    admin.shutdown().await;
    sandbox.shutdown().await;
    Ok(crate::cli::EXIT_OK)
}

/// Deliver until the platform's queue is empty, sleeping until retries are due.
async fn recover(
    engine: &Engine,
    store: &crate::store::SqliteStore,
    platform: &str,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let setup = engine
        .platforms()
        .iter()
        .find(|p| p.id == platform)
        .context("platform configured")?;
    while store.queue_depth(Some(platform))? > 0 {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "{platform} did not recover within a minute"
        );
        if let Some(at) = store.next_run_at(platform)? {
            let wait = (at - crate::store::now_ms()).clamp(0, 2_000) as u64;
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        engine.deliver(setup).await?;
        if store.queue_depth(Some(platform))? > 0 {
            // The circuit breaker may hold deliveries for a cool-down after the outage.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(started.elapsed())
}
