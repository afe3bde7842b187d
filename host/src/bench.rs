//! `forecourt bench`: figures for the plugin runtime and the sync engine,
//! printed as JSON.
//!
//! Reported, never asserted: these machines are shared and noisy. Compare
//! figures within one run. The native-versus-wasm transform ratio needs the
//! plugin's code compiled natively, so it lives in
//! `cargo bench -p forecourt-tests` (`tests/benches/transform_ratio.rs`).

use crate::config::RawConfig;
use crate::runtime::secrets::MemorySecrets;
use crate::runtime::types::StockStatus;
use crate::runtime::Plugin;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::store::{Store, StoreResult};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Options of `forecourt bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Where the built plugins are.
    #[arg(
        long,
        env = "FORECOURT_PLUGINS_DIR",
        default_value = "target/forecourt-plugins"
    )]
    pub plugins_dir: PathBuf,
    /// Which measurements.
    #[arg(long, value_enum, default_value_t = Suite::All)]
    pub suite: Suite,
    /// Iterations for the runtime measurements.
    #[arg(long, default_value_t = 2000)]
    pub iterations: usize,
    /// Vehicles for the sync measurements.
    #[arg(long, default_value_t = 10_000)]
    pub vehicles: usize,
}

/// Benchmark suites.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Suite {
    /// Instantiation and transform timings of one plugin.
    Runtime,
    /// Initial, incremental and no-change syncs, sold-to-removed latency.
    Sync,
    /// Both.
    All,
}

/// Percentiles of a set of durations, in microseconds.
#[derive(Debug, serde::Serialize)]
pub struct Summary {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Mean.
    pub mean_us: f64,
}

/// Summarise samples.
pub fn summarise(mut samples: Vec<Duration>) -> Summary {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |q: f64| us(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    Summary {
        n: samples.len(),
        p50_us: at(0.5),
        p90_us: at(0.9),
        p99_us: at(0.99),
        mean_us: samples.iter().map(|d| us(*d)).sum::<f64>() / samples.len().max(1) as f64,
    }
}

/// Time `instantiate` and `transform` of one platform plugin.
pub async fn measure_runtime(
    plugin: &Plugin,
    config: &str,
    iterations: usize,
) -> anyhow::Result<serde_json::Value> {
    let stock = crate::sample::sample_stock(64, 99);
    // Warm up: compile caches, page in the pooling slots.
    for _ in 0..20 {
        plugin.instantiate_once().await?;
        plugin.transform(config, &stock[0]).await?.ok();
    }
    let mut inst = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        plugin.instantiate_once().await?;
        inst.push(t.elapsed());
    }
    let mut transform = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let v = &stock[i % stock.len()];
        let t = Instant::now();
        let _ = plugin.transform(config, v).await?;
        transform.push(t.elapsed());
    }
    Ok(serde_json::json!({
        "plugin": plugin.id(),
        "instantiation": summarise(inst),
        "transform_call": summarise(transform),
    }))
}

/// Peak resident set size of this process, in MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// CPU time this process has used (user + system, every thread), in
/// seconds. Less noisy than wall time on a shared machine: compare a
/// scenario's CPU seconds across builds to see whether work was removed or
/// only moved. `/proc` reports it in USER_HZ ticks, 100 a second on Linux.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    Some((ticks(14)? + ticks(15)?) / 100.0)
}

/// A scenario's CPU seconds (the whole process: engine, plugins and the
/// loopback sandbox) and how many cores that kept busy on average.
fn cpu_use(cpu_seconds: Option<f64>, wall: Duration) -> serde_json::Value {
    match cpu_seconds {
        Some(cpu) => serde_json::json!({
            "seconds": cpu,
            "cores_busy": cpu / wall.as_secs_f64().max(1e-9),
        }),
        None => serde_json::Value::Null,
    }
}

/// Where the benchmark's stock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchSource {
    /// A CSV export file read whole every cycle (csv-export, full snapshots).
    Export,
    /// The local DMS API polled with an updated-since cursor (dms-rest).
    Rest,
}

impl BenchSource {
    fn plugin(self) -> &'static str {
        match self {
            BenchSource::Export => "csv-export",
            BenchSource::Rest => "dms-rest",
        }
    }
}

/// Stage the source plugin and the platform plugins in `dir`, pointing the
/// manifests' loopback origins at `sandbox_port` (the marketplace) and
/// `dms_port` (the local DMS). Rewriting a manifest voids its publisher
/// signature, so the staged copies are signed again with a key made for
/// this run; returns the plugins directory and the `[plugins]` section that
/// trusts only that key.
fn stage_plugins(
    from: &Path,
    dir: &Path,
    source: BenchSource,
    sandbox_port: u16,
    dms_port: u16,
) -> anyhow::Result<(PathBuf, String)> {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins)?;
    let key = forecourt_signing::SecretKey::generate()?;
    for id in [source.plugin(), "autotrader", "google-vehicle-ads"] {
        std::fs::copy(
            from.join(format!("{id}.wasm")),
            plugins.join(format!("{id}.wasm")),
        )
        .map_err(|e| {
            anyhow::anyhow!(
                "plugin {id} missing in {}: {e}; run `cargo xtask plugins`",
                from.display()
            )
        })?;
        let manifest = std::fs::read_to_string(from.join(format!("{id}.toml")))?
            .replace(
                "http://127.0.0.1:8700",
                &format!("http://127.0.0.1:{sandbox_port}"),
            )
            .replace(
                "http://127.0.0.1:8710",
                &format!("http://127.0.0.1:{dms_port}"),
            );
        std::fs::write(plugins.join(format!("{id}.toml")), &manifest)?;
        let wasm = std::fs::read(plugins.join(format!("{id}.wasm")))?;
        let signature = forecourt_signing::sign(&key, &wasm, manifest.as_bytes())?;
        std::fs::write(plugins.join(format!("{id}.sig")), signature.to_toml())?;
    }
    let trust = format!(
        "[plugins]\ntrusted_keys = [\"{} forecourt bench, this run only\"]\n",
        key.public()
    );
    Ok((plugins, trust))
}

fn queue_empty(store: &dyn Store) -> StoreResult<bool> {
    Ok(store.queue_depth(None)? == 0)
}

/// The sync-engine benchmark: 3 platforms (two Auto Trader advertisers on the
/// loopback sandbox and the Google feed), stock from `stock_from`.
pub async fn measure_sync(
    plugins_dir: &Path,
    vehicles: usize,
    stock_from: BenchSource,
) -> anyhow::Result<serde_json::Value> {
    let dir = tempfile_dir()?;
    let sandbox = Sandbox::start(SandboxConfig {
        advertisers: vec!["10008899".into(), "10008900".into()],
        ..SandboxConfig::default()
    })
    .await?;
    let dms = match stock_from {
        BenchSource::Rest => Some(
            crate::dms_sandbox::DmsSandbox::start(crate::dms_sandbox::DmsConfig::default()).await?,
        ),
        BenchSource::Export => None,
    };
    let dms_port = dms.as_ref().map_or(0, |d| d.addr().port());
    let (plugins, trust) = stage_plugins(
        plugins_dir,
        &dir,
        stock_from,
        sandbox.addr().port(),
        dms_port,
    )?;
    let url = sandbox.base_url();
    let source_section = match &dms {
        None => "plugin = \"csv-export\"\ndocument = { file = \"stock.csv\" }\nconfig = { dealer_id = \"dealer-001\" }".to_string(),
        Some(dms) => format!(
            "plugin = \"dms-rest\"\nconfig = {{ dealer_id = \"dealer-001\", base_url = \"{}\", page_size = 1000 }}\n\
             grants = {{ plain_http_hosts = [\"127.0.0.1\"], private_network_hosts = [\"127.0.0.1\"] }}",
            dms.base_url()
        ),
    };
    let config_text = format!(
        r#"data_dir = "data"
plugins_dir = "{plugins}"
{trust}
# The sample stock's image URLs point at a domain that does not resolve
# here: measuring them would only time failed lookups, not the sync.
[quality]
image_fetch = false
[[source]]
id = "dms"
{source_section}
[[platform]]
id = "autotrader"
plugin = "autotrader"
config = {{ base_url = "{url}", advertiser_id = "10008899" }}
grants = {{ plain_http_hosts = ["127.0.0.1"], private_network_hosts = ["127.0.0.1"] }}
rate_limit_per_minute = 10000000
[[platform]]
id = "autotrader-second-site"
plugin = "autotrader"
config = {{ base_url = "{url}", advertiser_id = "10008900" }}
grants = {{ plain_http_hosts = ["127.0.0.1"], private_network_hosts = ["127.0.0.1"] }}
rate_limit_per_minute = 10000000
[[platform]]
id = "google"
plugin = "google-vehicle-ads"
config = {{ store_code = "dealer-001", format = "tsv", link_template = "https://dealer.example/cars/{{stock_id}}" }}
feed = {{ directory = "feeds/google" }}
"#,
        plugins = plugins.display()
    );
    std::fs::write(dir.join("forecourt.toml"), config_text)?;
    let mut stock = crate::sample::sample_stock(vehicles, 4242);
    for v in &mut stock {
        if v.status == StockStatus::DueIn {
            v.status = StockStatus::InStock;
        }
    }
    // What the DMS says now: the export file, or the local DMS API's stock.
    let publish =
        |stock: &[crate::runtime::types::Vehicle], changed: &[usize]| -> anyhow::Result<()> {
            match &dms {
                None => std::fs::write(dir.join("stock.csv"), crate::sample::to_export_csv(stock))?,
                Some(dms) => {
                    for &i in changed {
                        dms.upsert(&stock[i]);
                    }
                }
            }
            Ok(())
        };
    publish(&stock, &(0..stock.len()).collect::<Vec<_>>())?;
    let config = RawConfig::load(&dir.join("forecourt.toml"))?;
    let secrets = MemorySecrets::default();
    secrets.set("dms-rest", "api_key", "dms-sandbox-key");
    secrets.set("autotrader", "key", "sandbox-key");
    secrets.set("autotrader", "secret", "sandbox-secret");
    let app = crate::app::build_with_secrets(&config, Some(Box::new(secrets))).await?;
    let engine = &app.engine;

    // Returns the wall time, operations acknowledged and per-step times.
    let converge = || async {
        let t = Instant::now();
        let cpu = cpu_seconds();
        let mut ops = 0usize;
        let mut steps = crate::sync::CycleTimings::default();
        let mut per_platform: std::collections::BTreeMap<String, f64> = Default::default();
        loop {
            let report = engine.sync_once().await?;
            ops += report.deliveries.iter().map(|d| d.done).sum::<usize>();
            for d in &report.deliveries {
                *per_platform.entry(d.platform.clone()).or_default() += d.elapsed_ms;
            }
            steps.pull_ms += report.timings.pull_ms;
            steps.plan_ms += report.timings.plan_ms;
            steps.deliver_ms += report.timings.deliver_ms;
            if queue_empty(app.store.as_ref())? {
                let mut steps = serde_json::to_value(steps)?;
                steps["deliver_per_platform_ms"] = serde_json::to_value(&per_platform)?;
                let cpu = cpu.zip(cpu_seconds()).map(|(before, after)| after - before);
                return anyhow::Ok((t.elapsed(), ops, steps, cpu));
            }
        }
    };

    let calls0 = sandbox.stats().stock_calls();
    let (initial, initial_ops, initial_steps, initial_cpu) = converge().await?;
    let calls1 = sandbox.stats().stock_calls();

    // 1% changed.
    let changed = (vehicles / 100).max(1);
    for v in stock.iter_mut().take(changed) {
        if let Some(p) = v.price.as_mut() {
            p.amount_minor -= 10_000;
        }
    }
    publish(&stock, &(0..changed).collect::<Vec<_>>())?;
    let calls2 = sandbox.stats().stock_calls();
    let (incremental, incremental_ops, incremental_steps, incremental_cpu) = converge().await?;
    let calls3 = sandbox.stats().stock_calls();

    // Nothing changed.
    let (no_change, _, no_change_steps, no_change_cpu) = converge().await?;
    let calls4 = sandbox.stats().stock_calls();

    // Sold-to-removed: a push (one page) to every platform acknowledging.
    let source = &engine.sources()[0];
    let mut latencies = Vec::new();
    for v in stock
        .iter_mut()
        .filter(|v| v.status == StockStatus::InStock)
        .skip(changed)
        .take(50)
    {
        v.status = StockStatus::Sold;
        let page = crate::runtime::source_api::PullPage {
            changes: vec![crate::runtime::source_api::Change::Upsert(v.clone())],
            issues: vec![],
            next_cursor: None,
            has_more: false,
            full_snapshot: false,
        };
        let t = Instant::now();
        let mut report = crate::sync::PullReport::default();
        engine.ingest_page(source, page, &mut report)?;
        // As the running host does: every platform delivers on its own task.
        let round = engine.plan_and_deliver().await;
        round.planned?;
        for delivered in round.deliveries {
            delivered?;
        }
        latencies.push(t.elapsed());
    }

    let listings = vehicles as f64 * 3.0;
    let report = serde_json::json!({
        "source": match stock_from {
            BenchSource::Export => "csv-export: the whole export file re-read every cycle (full snapshots)",
            BenchSource::Rest => "dms-rest: the local DMS API polled for what changed since the cursor",
        },
        "vehicles": vehicles,
        "platforms": 3,
        "initial_sync": {
            "seconds": initial.as_secs_f64(),
            "vehicles_per_second": vehicles as f64 / initial.as_secs_f64(),
            "operations": initial_ops,
            "operations_per_second": initial_ops as f64 / initial.as_secs_f64(),
            "platform_api_calls": calls1 - calls0,
            "steps_ms": initial_steps,
            "cpu": cpu_use(initial_cpu, initial),
        },
        "one_percent_changed": {
            "changed_vehicles": changed,
            "seconds": incremental.as_secs_f64(),
            "operations": incremental_ops,
            "platform_api_calls": calls3 - calls2,
            "calls_per_changed_listing": (calls3 - calls2) as f64 / (changed as f64 * 2.0),
            "steps_ms": incremental_steps,
            "cpu": cpu_use(incremental_cpu, incremental),
        },
        "no_change": {
            "seconds": no_change.as_secs_f64(),
            "platform_api_calls": calls4 - calls3,
            "steps_ms": no_change_steps,
            "cpu": cpu_use(no_change_cpu, no_change),
        },
        "sold_to_removed": summarise(latencies),
        "listings": listings,
        "peak_rss_mib": peak_rss_mib(),
        "targets": {
            "initial_sync_seconds": 10,
            "one_percent_changed_seconds": 0.5,
            "no_change_platform_calls": 0,
            "sold_to_removed_p99_us": 1_000_000,
        },
    });
    sandbox.shutdown().await;
    if let Some(dms) = dms {
        dms.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "forecourt-bench-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Run the benchmark and print JSON.
pub async fn run(args: BenchArgs) -> anyhow::Result<u8> {
    let mut report = serde_json::Map::new();
    if matches!(args.suite, Suite::Runtime | Suite::All) {
        let runtime = crate::cli::simple_runtime(None)?;
        let path = args.plugins_dir.join("google-vehicle-ads.wasm");
        let plugin = runtime.load(&path, None, Default::default())?;
        let config = serde_json::json!({"store_code": "bench", "format": "tsv", "link_template": "https://dealer.example/cars/{stock_id}"}).to_string();
        let mut r = measure_runtime(&plugin, &config, args.iterations).await?;
        r["pooling_allocator"] = runtime.pooling().into();
        r["targets"] = serde_json::json!({"instantiation_p50_us": 100});
        report.insert("runtime".into(), r);
    }
    if matches!(args.suite, Suite::Sync | Suite::All) {
        report.insert(
            "sync".into(),
            measure_sync(&args.plugins_dir, args.vehicles, BenchSource::Export).await?,
        );
        report.insert(
            "sync_incremental_source".into(),
            measure_sync(&args.plugins_dir, args.vehicles, BenchSource::Rest).await?,
        );
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(crate::cli::EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_seconds_counts_work_done_by_this_process() {
        let before = cpu_seconds().expect("/proc/self/stat is readable");
        let started = Instant::now();
        let mut after = before;
        // Busy until the counter moves (bounded, for a starved test machine).
        while after - before < 0.05 && started.elapsed() < Duration::from_secs(30) {
            let mut x = 0u64;
            let spin = Instant::now();
            while spin.elapsed() < Duration::from_millis(10) {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            after = cpu_seconds().unwrap();
        }
        assert!(after - before >= 0.05, "{before} -> {after}");
        let use_ = cpu_use(Some(2.0), Duration::from_secs(4));
        assert_eq!(use_["cores_busy"], 0.5);
    }
}
