//! `forecourt demo`: realistic sample stock through the real reference
//! plugins, with a short story of what happened and where to look.

use crate::runtime::types::{StockStatus, Vehicle};
use crate::runtime::Plugin;
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};

/// Options of `forecourt demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Exit at the end of the story instead of staying up.
    #[arg(long)]
    pub once: bool,
    /// Where the demo keeps its data (feeds, compiled-plugin cache).
    #[arg(long, default_value = "forecourt-data")]
    pub data_dir: PathBuf,
    /// Where the built plugins and their manifests are (`cargo xtask plugins` stages them there).
    #[arg(long, env = "FORECOURT_PLUGINS_DIR", default_value = "target/forecourt-plugins")]
    pub plugins_dir: PathBuf,
    /// How many sample vehicles to generate.
    #[arg(long, default_value_t = 200)]
    pub vehicles: usize,
}

/// Remove hub-only data before a vehicle goes anywhere near a platform;
/// returns whether there was any.
pub fn strip_hub_only(vehicle: &mut Vehicle) -> bool {
    vehicle.hub_only.take().is_some()
}

/// Every staged plugin (`*.wasm` with a `.toml` beside it) in `dir`.
pub fn staged_plugins(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "no plugins in {}: build them with `cargo xtask plugins` (or pass --plugins-dir)",
            dir.display()
        )
    })?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.with_extension("toml").exists())
        .collect();
    found.sort();
    Ok(found)
}

/// Write `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed, then renamed over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path.parent().context("target has no parent directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("feed"),
        std::process::id()
    ));
    let mut file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

struct FeedRun {
    accepted: usize,
    blocked: Vec<(String, String)>,
    file: PathBuf,
    bytes: usize,
}

async fn publish_feed(plugin: &Plugin, config: &str, stock: &[Vehicle], out_dir: &Path) -> anyhow::Result<FeedRun> {
    let mut listings = Vec::new();
    let mut blocked = Vec::new();
    for vehicle in stock {
        let mut vehicle = vehicle.clone();
        strip_hub_only(&mut vehicle);
        match plugin.transform(config, &vehicle).await? {
            Ok(t) => listings.push(t.listing),
            Err(issues) => {
                let reason = issues
                    .iter()
                    .map(|i| format!("{}: {}", i.field, i.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                blocked.push((vehicle.stock_id.clone(), reason));
            }
        }
    }
    let feed = plugin
        .render_feed(config, &listings)
        .await?
        .map_err(|e| anyhow::anyhow!("{} could not render its feed: {}", plugin.id(), e.message))?;
    let file = out_dir.join(plugin.id()).join(&feed.file_name);
    write_atomic(&file, &feed.body)?;
    Ok(FeedRun {
        accepted: listings.len(),
        blocked,
        file,
        bytes: feed.body.len(),
    })
}

/// Run the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<u8> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    let runtime = crate::cli::simple_runtime(Some(args.data_dir.join("cache")))?;

    println!("forecourt demo\n==============\n");
    let mut platforms = Vec::new();
    for path in staged_plugins(&args.plugins_dir)? {
        let plugin = runtime.load(&path, None, Default::default())?;
        println!(
            "  loaded plugin {:<22} {} {} ({} imports reviewed, {})",
            plugin.id(),
            plugin.world(),
            plugin.contract_version(),
            plugin.imports().len(),
            match plugin.manifest().http.len() {
                0 => "no network access".to_string(),
                n => format!("{n} allowed origin(s)"),
            }
        );
        if plugin.world() == crate::contract::World::ListingPlatform {
            platforms.push(plugin);
        }
    }
    anyhow::ensure!(
        !platforms.is_empty(),
        "no listing-platform plugins in {}; run `cargo xtask plugins`",
        args.plugins_dir.display()
    );

    let mut stock = crate::sample::sample_stock(args.vehicles, 2026);
    let private = stock.iter().filter(|v| v.hub_only.is_some()).count();
    println!(
        "\n1. The DMS exported {} vehicles for dealer-001 ({} carry hub-only notes or cost prices, which never leave the hub).",
        stock.len(),
        private
    );

    let feeds_dir = args.data_dir.join("feeds");
    let config = serde_json::json!({
        "store_code": "dealer-001",
        "format": "tsv",
        "link_template": "https://www.forecourt-demo.example/used-cars/{stock_id}",
        "google_product_category": "916",
    })
    .to_string();
    for plugin in &platforms {
        let info = plugin.platform_info().await?;
        if info.feed.is_none() {
            continue;
        }
        let run = publish_feed(plugin, &config, &stock, &feeds_dir).await?;
        println!(
            "\n2. {}: {} listings rendered, {} held back by validation; feed written to {} ({} bytes).",
            info.name,
            run.accepted,
            run.blocked.len(),
            run.file.display(),
            run.bytes
        );
        for (stock_id, reason) in run.blocked.iter().take(3) {
            println!("     held: {stock_id}: {reason}");
        }

        let sold = stock
            .iter_mut()
            .find(|v| matches!(v.status, StockStatus::InStock))
            .context("sample stock has a vehicle in stock")?;
        sold.status = StockStatus::Sold;
        let sold_id = sold.stock_id.clone();
        let after = publish_feed(plugin, &config, &stock, &feeds_dir).await?;
        let text = std::fs::read_to_string(&after.file).unwrap_or_default();
        println!(
            "\n3. {sold_id} was sold. The next full feed omits it ({} listings; {} in the file: {}).",
            after.accepted,
            sold_id,
            if text.contains(&sold_id) { "still present!" } else { "absent" }
        );
    }

    println!(
        "\nDone in {:.1} s. Look at {} for the feed files; `forecourt plugin inspect {}/<plugin>.wasm` shows what each plugin may do.",
        started.elapsed().as_secs_f64(),
        feeds_dir.display(),
        args.plugins_dir.display()
    );
    if !args.once {
        println!("(The dashboard is not part of this build yet; the demo exits.)");
    }
    Ok(crate::cli::EXIT_OK)
}
