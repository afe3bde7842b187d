//! The wasmtime engine, the linker every plugin is instantiated against, and
//! loading: verify, review, compile (or load from cache), pre-instantiate.

use crate::contract::{self, World};
use crate::manifest::{Manifest, PluginKind};
use crate::runtime::bindings::platform::forecourt::plugin::{kv, log};
use crate::runtime::bindings::snapshot_api;
use crate::runtime::cache::{CacheOutcome, CompileCache};
use crate::runtime::egress::{EgressPolicy, OperatorGrants};
use crate::runtime::kv::KvBackend;
use crate::runtime::plugin::{Plugin, PluginBindingsPre};
use crate::runtime::review::{self, Refusal, Verdict};
use crate::runtime::secrets::SecretStore;
use crate::runtime::state::HostState;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; a looping plugin is stopped within one tick
/// of its deadline.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Why a plugin could not be loaded. Every variant names the plugin file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The component file could not be read.
    #[error("cannot read plugin component {path}: {source}")]
    Read {
        /// The component path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest is missing or invalid.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    /// The component's hash does not match the manifest.
    #[error("plugin {path}: sha256 is {actual} but the manifest says {expected}; the component was changed after its manifest was written")]
    Digest {
        /// The component path.
        path: PathBuf,
        /// From the manifest.
        expected: String,
        /// Of the file.
        actual: String,
    },
    /// Not a component, or built for an unsupported contract.
    #[error("plugin {path}: {source}")]
    Contract {
        /// The component path.
        path: PathBuf,
        /// What is wrong.
        source: contract::ContractError,
    },
    /// The manifest and the component disagree.
    #[error("plugin {path}: {message}")]
    Mismatch {
        /// The component path.
        path: PathBuf,
        /// What disagrees.
        message: String,
    },
    /// Imports the manifest does not grant.
    #[error("plugin {path} was refused at review:\n{}", refusals.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Refused {
        /// The component path.
        path: PathBuf,
        /// Every refused import with its reason.
        refusals: Vec<Refusal>,
    },
    /// Compilation or pre-instantiation failed.
    #[error("plugin {path}: cannot compile or link: {message}")]
    Compile {
        /// The component path.
        path: PathBuf,
        /// What wasmtime said.
        message: String,
    },
}

/// Engine-wide settings.
pub struct RuntimeOptions {
    /// Where compiled components are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Backend of the plugins' key-value state.
    pub kv: Arc<dyn KvBackend>,
    /// Where secrets for credential injection come from.
    pub secrets: Arc<dyn SecretStore>,
    /// Use the pooling allocator (falls back to on-demand if the machine refuses the reservation).
    pub pooling: bool,
}

/// The plugin runtime: one engine, one linker, an epoch ticker.
pub struct Runtime {
    engine: Engine,
    linker: Arc<Linker<HostState>>,
    cache: Option<CompileCache>,
    kv: Arc<dyn KvBackend>,
    secrets: Arc<dyn SecretStore>,
    ticker_stop: Arc<AtomicBool>,
    pooling: bool,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

fn engine_config(pooling: bool) -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        // Wasm frames only; the async fiber stack below leaves headroom for host calls.
        .max_wasm_stack(512 * 1024)
        .async_stack_size(2 * 1024 * 1024);
    // `FORECOURT_WASM_PROFILER=perfmap` writes /tmp/perf-<pid>.map so
    // `perf report` names plugin functions (docs/plugins.md, "Profiling").
    if std::env::var("FORECOURT_WASM_PROFILER").is_ok_and(|v| v == "perfmap") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(256)
            .total_core_instances(2048)
            .total_memories(512)
            .total_tables(2048)
            .total_stacks(256)
            .max_core_instances_per_component(64)
            .max_memories_per_component(16)
            .max_tables_per_component(32)
            .max_memory_size(crate::manifest::MAX_MEMORY_MIB as usize * 1024 * 1024)
            .max_unused_warm_slots(64);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

impl Runtime {
    /// Build the engine, the linker and the epoch ticker.
    pub fn new(options: RuntimeOptions) -> anyhow::Result<Self> {
        let (engine, pooling) = match options.pooling {
            true => match Engine::new(&engine_config(true)) {
                Ok(engine) => (engine, true),
                Err(error) => {
                    tracing::warn!(error = %error, "Pooling allocator unavailable; using on-demand allocation.");
                    (
                        Engine::new(&engine_config(false)).map_err(|e| anyhow::anyhow!("{e}"))?,
                        false,
                    )
                }
            },
            false => (
                Engine::new(&engine_config(false)).map_err(|e| anyhow::anyhow!("{e}"))?,
                false,
            ),
        };

        let mut linker = Linker::<HostState>::new(&engine);
        // All of wasi:cli/imports is linked; the review refuses file-system
        // and socket imports before a component gets this far, and the WASI
        // context has no preopens and denies sockets in any case.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| anyhow::anyhow!("{e}"))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        log::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        kv::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| anyhow::anyhow!("{e}"))?;

        let cache = match &options.cache_dir {
            Some(dir) => Some(CompileCache::open(dir)?),
            None => None,
        };

        let ticker_stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = ticker_stop.clone();
            std::thread::Builder::new()
                .name("forecourt-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })?;
        }

        Ok(Self {
            engine,
            linker: Arc::new(linker),
            cache,
            kv: options.kv,
            secrets: options.secrets,
            ticker_stop,
            pooling,
        })
    }

    /// The secret store plugins' credentials come from (also the push secrets).
    pub fn secrets(&self) -> Arc<dyn SecretStore> {
        self.secrets.clone()
    }

    /// Whether the pooling allocator is in use.
    pub fn pooling(&self) -> bool {
        self.pooling
    }

    /// The engine (for benchmarks and inspection).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Load a plugin: `<component>.wasm` with its manifest (by default the
    /// same path with a `.toml` extension).
    pub fn load(
        &self,
        component_path: &Path,
        manifest_path: Option<&Path>,
        grants: OperatorGrants,
    ) -> Result<Plugin, LoadError> {
        let started = Instant::now();
        let manifest_path = manifest_path
            .map(Path::to_path_buf)
            .unwrap_or_else(|| component_path.with_extension("toml"));
        let manifest = Manifest::load(&manifest_path)?;
        let path = component_path.to_path_buf();
        let wasm = std::fs::read(component_path).map_err(|source| LoadError::Read {
            path: path.clone(),
            source,
        })?;

        let actual = hex::encode(Sha256::digest(&wasm));
        if !actual.eq_ignore_ascii_case(&manifest.plugin.sha256) {
            return Err(LoadError::Digest {
                path,
                expected: manifest.plugin.sha256.clone(),
                actual,
            });
        }

        let facts = contract::read_facts(&wasm).map_err(|source| LoadError::Contract {
            path: path.clone(),
            source,
        })?;
        let (world, version) =
            contract::check_version(&facts).map_err(|source| LoadError::Contract {
                path: path.clone(),
                source,
            })?;
        let expected_world = match manifest.plugin.kind {
            PluginKind::Source => World::DmsSource,
            PluginKind::Platform => World::ListingPlatform,
            PluginKind::Crm => World::Crm,
            PluginKind::Enricher => World::Enricher,
        };
        if world != expected_world {
            return Err(LoadError::Mismatch {
                path,
                message: format!(
                    "the manifest says kind = {:?} but the component implements world `{world}`",
                    manifest.plugin.kind
                ),
            });
        }
        if version.to_string() != manifest.plugin.contract {
            return Err(LoadError::Mismatch {
                path,
                message: format!(
                    "the manifest says contract = {} but the component was built for {version}",
                    manifest.plugin.contract
                ),
            });
        }

        let verdicts =
            review::review(&facts.imports, &manifest).map_err(|refusals| LoadError::Refused {
                path: path.clone(),
                refusals,
            })?;

        let compile_err = |e: wasmtime::Error| LoadError::Compile {
            path: path.clone(),
            message: format!("{e:#}"),
        };
        let (component, cache) = match &self.cache {
            Some(cache) => {
                let (c, outcome) = cache
                    .load_or_compile(&self.engine, &actual, &wasm)
                    .map_err(compile_err)?;
                (c, Some(outcome))
            }
            None => (
                Component::new(&self.engine, &wasm).map_err(compile_err)?,
                None,
            ),
        };
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(compile_err)?;
        let pre = match world {
            World::ListingPlatform => PluginBindingsPre::Platform(
                crate::runtime::bindings::platform::ListingPlatformPre::new(instance_pre)
                    .map_err(compile_err)?,
            ),
            World::DmsSource => {
                // `snapshot` is optional: only sources that implement it export it.
                let snapshot = component
                    .get_export_index(None, snapshot_api::INTERFACE)
                    .and_then(|i| {
                        component.get_export_index(Some(&i), snapshot_api::PULL_SNAPSHOT)
                    });
                PluginBindingsPre::Source(
                    crate::runtime::bindings::source::DmsSourcePre::new(instance_pre)
                        .map_err(compile_err)?,
                    snapshot,
                )
            }
            World::Crm => PluginBindingsPre::Crm(
                crate::runtime::bindings::crm::CrmPre::new(instance_pre).map_err(compile_err)?,
            ),
            World::Enricher => PluginBindingsPre::Enricher(
                crate::runtime::bindings::enricher::EnricherPre::new(instance_pre)
                    .map_err(compile_err)?,
            ),
        };

        let limits = manifest.limits.clone();
        let egress = Arc::new(EgressPolicy::new(
            &manifest.plugin.id,
            manifest.origins(),
            grants.clone(),
            self.secrets.clone(),
            limits.http_response_kib * 1024,
            Duration::from_millis(limits.call_timeout_ms),
        ));
        tracing::info!(
            plugin = %manifest.plugin.id,
            world = %world,
            contract = %version,
            cache = ?cache,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Plugin loaded."
        );
        Ok(Plugin::new(crate::runtime::plugin::PluginParts {
            engine: self.engine.clone(),
            manifest,
            path,
            world,
            contract_version: version.to_string(),
            verdicts: verdicts
                .into_iter()
                .filter(|(_, v)| !matches!(v, Verdict::Refused(_)))
                .collect(),
            grants,
            pre,
            egress,
            kv: self.kv.clone(),
            cache,
        }))
    }

    /// Whether a cached artefact was used, for `plugin inspect`.
    pub fn cache(&self) -> Option<&CompileCache> {
        self.cache.as_ref()
    }
}

/// Re-export for callers that want to check the outcome of a load.
pub type LoadCacheOutcome = Option<CacheOutcome>;
