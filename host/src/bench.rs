//! `forecourt bench`: figures for the plugin runtime, printed as JSON.
//!
//! Reported, never asserted: these machines are shared and noisy. Compare
//! figures within one run (the native-versus-wasm ratio is measured by
//! `cargo bench -p forecourt-tests`, which can link the plugin's code natively).

use crate::runtime::Plugin;
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Options of `forecourt bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Where the built plugins are.
    #[arg(long, env = "FORECOURT_PLUGINS_DIR", default_value = "target/forecourt-plugins")]
    pub plugins_dir: PathBuf,
    /// The platform plugin to measure.
    #[arg(long, default_value = "google-vehicle-ads")]
    pub plugin: String,
    /// Iterations per measurement.
    #[arg(long, default_value_t = 2000)]
    pub iterations: usize,
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
        mean_us: samples.iter().map(|d| us(*d)).sum::<f64>() / samples.len() as f64,
    }
}

/// Time `instantiate` and `transform` of one platform plugin.
pub async fn measure(plugin: &Plugin, config: &str, iterations: usize) -> anyhow::Result<serde_json::Value> {
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

/// Run the benchmark and print JSON.
pub async fn run(args: BenchArgs) -> anyhow::Result<u8> {
    let runtime = crate::cli::simple_runtime(None)?;
    let path = args.plugins_dir.join(format!("{}.wasm", args.plugin));
    let plugin = runtime.load(&path, None, Default::default())?;
    let config = serde_json::json!({"store_code": "bench", "format": "tsv"}).to_string();
    let mut report = measure(&plugin, &config, args.iterations).await?;
    report["pooling_allocator"] = runtime.pooling().into();
    report["targets"] = serde_json::json!({
        "instantiation_p50_us": 100,
        "wasm_to_native_transform_ratio": 3.0,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(crate::cli::EXIT_OK)
}
