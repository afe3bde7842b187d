//! Resolving a validated configuration into running parts: the store, the
//! plugin runtime (with the store as plugin key-value backend and layered
//! secrets), loaded plugins and the sync engine.

use crate::config::{plugin_config_json, RawConfig};
use crate::contract::World;
use crate::runtime::secrets::{EnvSecrets, FileSecrets, LayeredSecrets, SecretStore};
use crate::runtime::{Runtime, RuntimeOptions};
use crate::store::{SqliteStore, Store};
use crate::sync::planner::Timing;
use crate::sync::{Engine, FeedOutput, PlatformSetup, SourceSetup};
use crate::transport::BuildContext;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

/// Everything a command needs.
pub struct App {
    /// The store.
    pub store: Arc<SqliteStore>,
    /// The plugin runtime (kept alive for the epoch ticker).
    pub runtime: Runtime,
    /// The engine (shared with the admin server's background runs).
    pub engine: Arc<Engine>,
    /// The layered secret store (plugins, transports, the feed server).
    pub secrets: Arc<dyn SecretStore>,
    /// Enquiries and their CRM delivery, when `[enquiries]` or `[[crm]]` is configured.
    pub enquiries: Option<crate::enquiries::service::EnquiryService>,
}

/// The database file inside a data directory.
pub fn database_path(config: &RawConfig) -> std::path::PathBuf {
    config.data_dir.join("forecourt.db")
}

/// Open the store only (for commands that need no plugins).
pub fn open_store(config: &RawConfig) -> anyhow::Result<Arc<SqliteStore>> {
    Ok(Arc::new(SqliteStore::open(&database_path(config))?))
}

/// Open the store, load every plugin and build the engine.
pub async fn build(config: &RawConfig) -> anyhow::Result<App> {
    build_with_secrets(config, None).await
}

/// As [`build`], with an extra secret store consulted first (the demo's sandbox credentials).
pub async fn build_with_secrets(
    config: &RawConfig,
    extra: Option<Box<dyn SecretStore>>,
) -> anyhow::Result<App> {
    build_on_store(config, extra, open_store(config)?).await
}

/// As [`build_with_secrets`], on a store the caller opened (the dry run's scratch copy).
pub async fn build_on_store(
    config: &RawConfig,
    extra: Option<Box<dyn SecretStore>>,
    store: Arc<SqliteStore>,
) -> anyhow::Result<App> {
    let mut layers: Vec<Box<dyn SecretStore>> = Vec::new();
    if let Some(extra) = extra {
        layers.push(extra);
    }
    layers.push(Box::new(EnvSecrets));
    if let Some(file) = &config.secrets_file {
        FileSecrets::load(file)?; // fail at start, not at the first request
        layers.push(Box::new(FileSecrets::new(file)));
    }
    let secrets: Arc<dyn SecretStore> = Arc::new(LayeredSecrets(layers));
    let trust = crate::signing::TrustPolicy::from_config(&config.plugins)?;
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: Some(config.data_dir.join("cache")),
        kv: store.clone(),
        secrets: secrets.clone(),
        pooling: true,
    })?;
    let transport_context = |owner: &str| BuildContext {
        owner: owner.to_string(),
        data_dir: config.data_dir.clone(),
        secrets: secrets.clone(),
    };

    let loader = PluginLoader {
        runtime: &runtime,
        trust,
    };

    let mut sources = Vec::new();
    for (i, raw) in config.sources.iter().enumerate() {
        let plugin = loader
            .load(
                &config.plugin_path(raw.plugin.get_ref()),
                raw.grants.clone(),
            )
            .with_context(|| format!("source[{i}] `{}`", raw.id.get_ref()))?;
        anyhow::ensure!(
            plugin.world() == World::DmsSource,
            "source[{i}] `{}`: plugin `{}` is a {}, not a DMS source",
            raw.id.get_ref(),
            raw.plugin.get_ref(),
            plugin.world()
        );
        let info = plugin.source_info().await?;
        anyhow::ensure!(
            !info.needs_document || raw.document.is_some(),
            "source[{i}] `{}`: plugin `{}` parses an export file: set `document` (a file, directory, url or sftp; see docs/feeds.md)",
            raw.id.get_ref(),
            raw.plugin.get_ref()
        );
        sources.push(SourceSetup {
            id: raw.id.get_ref().clone(),
            plugin,
            config: plugin_config_json(&raw.config),
            document: raw
                .document
                .as_ref()
                .map(|d| {
                    crate::transport::setup::build_document(
                        d.get_ref(),
                        &transport_context(raw.id.get_ref()),
                    )
                })
                .transpose()
                .with_context(|| format!("source[{i}] `{}` document", raw.id.get_ref()))?,
            snapshot_grace: Duration::from_secs(raw.snapshot_grace_secs),
            max_snapshot_shrink: *raw.max_snapshot_shrink.get_ref(),
            interval: Duration::from_secs(*raw.interval_secs.get_ref()),
            // A source with [source.push] is driven by its pushes.
            pull_on_schedule: raw.push.as_ref().is_none_or(|p| p.also_pull),
        });
    }

    let mut platforms = Vec::new();
    for (i, raw) in config.platforms.iter().enumerate() {
        let id = raw.id.get_ref().clone();
        let plugin = loader
            .load(
                &config.plugin_path(raw.plugin.get_ref()),
                raw.grants.clone(),
            )
            .with_context(|| format!("platform[{i}] `{id}`"))?;
        anyhow::ensure!(
            plugin.world() == World::ListingPlatform,
            "platform[{i}] `{id}`: plugin `{}` is a {}, not a listing platform",
            raw.plugin.get_ref(),
            plugin.world()
        );
        let info = plugin.platform_info().await?;
        let mut feed_outputs = match &raw.feed {
            Some(feed) => {
                crate::transport::setup::build_feed_outputs(feed, &transport_context(&id))
                    .with_context(|| format!("platform[{i}] `{id}` feed"))?
            }
            None => Vec::new(),
        };
        if matches!(
            info.kind,
            crate::runtime::platform_api::PlatformKind::FeedFile
        ) && feed_outputs.is_empty()
        {
            feed_outputs.push(FeedOutput::Directory(
                config.data_dir.join("feeds").join(&id),
            ));
        }
        platforms.push(PlatformSetup {
            id,
            plugin,
            config: plugin_config_json(&raw.config),
            info,
            retry: raw.retry.clone(),
            timing: Timing {
                deadvertise_delay_ms: raw.deadvertise_delay_secs as i64 * 1000,
                update_window_ms: raw.update_window_secs as i64 * 1000,
            },
            feed_outputs,
            rate_limit_per_minute: raw.rate_limit_per_minute.as_ref().map(|r| *r.get_ref()),
            concurrency: *raw.concurrency.get_ref(),
        });
    }
    let mut engine = Engine::new(store.clone() as Arc<dyn Store>, sources, platforms);
    engine.set_quality(crate::quality::Quality::from_config(
        config,
        "forecourt.toml",
        store.clone() as Arc<dyn Store>,
    )?);
    let pricing = Arc::new(crate::pricing::Pricing::new(
        config
            .pricing
            .as_ref()
            .map(|p| p.settings())
            .unwrap_or_default(),
        store.clone(),
        store.clone(),
    ));
    engine.set_pricing(pricing.clone());
    if let Some(enricher) = crate::enrich::EnricherSetup::build(config, &loader).await? {
        engine.set_enricher(enricher);
    }
    let enquiries = crate::enquiries::service::EnquiryService::build(
        config,
        &loader,
        engine.platforms(),
        store.clone(),
        store.clone(),
        secrets.clone(),
        lead_vehicles(store.clone(), pricing),
    )
    .await?;
    let engine = Arc::new(engine);
    Ok(App {
        store,
        runtime,
        engine,
        secrets,
        enquiries,
    })
}

/// The vehicle a lead is about, as the hub advertises it (pricing applied).
fn lead_vehicles(
    store: Arc<SqliteStore>,
    pricing: Arc<crate::pricing::Pricing>,
) -> crate::enquiries::service::VehicleLookup {
    Arc::new(move |stock_id| {
        let mut vehicle = store.vehicle(stock_id).ok().flatten()?.record;
        if let Some(price) = pricing.advertised_price(stock_id) {
            vehicle.price = Some(price);
        }
        Some(vehicle)
    })
}

/// The one place a configured plugin is loaded (sources, platforms, CRM
/// plugins, the enricher): its publisher signature is checked against the
/// operator's `[plugins]` policy first (refused, or loaded with a warning
/// under `allow_unsigned`), then the runtime reviews, verifies and compiles it.
pub struct PluginLoader<'a> {
    runtime: &'a Runtime,
    trust: crate::signing::TrustPolicy,
}

impl PluginLoader<'_> {
    /// Check and load the component at `component` (manifest beside it).
    pub fn load(
        &self,
        component: &std::path::Path,
        grants: crate::runtime::egress::OperatorGrants,
    ) -> anyhow::Result<crate::runtime::Plugin> {
        self.trust.check(component, None)?;
        Ok(self.runtime.load(component, None, grants)?)
    }
}
