//! A loaded plugin: a pre-instantiated component, a small pool of warm
//! instances, and typed calls with deadlines and memory caps.
//!
//! Every call runs in an instance taken from the pool (or instantiated from
//! the `InstancePre`, which the pooling allocator makes cheap). A call that
//! traps, times out or exceeds its memory is reported as a [`CallError`] and
//! its instance is dropped: the next call gets a fresh store. Nothing a
//! plugin does can reach another plugin's instances or the host's state.

use crate::contract::World;
use crate::manifest::Manifest;
use crate::runtime::bindings::crm::{Crm, CrmPre};
use crate::runtime::bindings::enricher::{Enricher, EnricherPre};
use crate::runtime::bindings::platform::{ListingPlatform, ListingPlatformPre};
use crate::runtime::bindings::snapshot_api::{self as snap, KnownRow, SnapshotPage};
use crate::runtime::bindings::source::{DmsSource, DmsSourcePre};
use crate::runtime::bindings::{
    crm_api as c, enricher_api as e, platform_api as p, source_api as s, types,
};
use crate::runtime::cache::CacheOutcome;
use crate::runtime::egress::{EgressPolicy, EgressStats, OperatorGrants};
use crate::runtime::kv::KvBackend;
use crate::runtime::review::Verdict;
use crate::runtime::state::HostState;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::{ComponentExportIndex, Func};
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

/// Warm instances kept per plugin.
const MAX_IDLE_INSTANCES: usize = 4;
/// An instance is retired after this many calls, so a guest that leaks
/// (memory, resource handles) is reset before it hits a limit.
const MAX_CALLS_PER_INSTANCE: u32 = 200;
/// An idle instance holding more linear memory than this is not kept: one
/// big export file must not pin hundreds of MiB until the next call.
const MAX_IDLE_MEMORY: usize = 32 * 1024 * 1024;
/// Extra time the async timeout allows beyond the epoch deadline, so a
/// spinning guest is reported as interrupted by the epoch rather than cut off.
const ASYNC_GRACE: Duration = Duration::from_millis(250);

/// Pre-instantiated bindings for one of the worlds.
pub enum PluginBindingsPre {
    /// A listing platform.
    Platform(ListingPlatformPre<HostState>),
    /// A DMS source, and its `snapshot` export if it has one.
    Source(DmsSourcePre<HostState>, Option<ComponentExportIndex>),
    /// A dealer CRM.
    Crm(CrmPre<HostState>),
    /// A vehicle enricher.
    Enricher(EnricherPre<HostState>),
}

enum Bindings {
    Platform(ListingPlatform),
    Source(DmsSource, Option<Func>),
    Crm(Crm),
    Enricher(Enricher),
}

struct Instance {
    store: Store<HostState>,
    bindings: Bindings,
    calls: u32,
}

/// Why a call to a plugin failed. The plugin's own errors (a `plugin-error`
/// result) are not here: they are the `Ok` value of a call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The call ran past `limits.call_timeout_ms` and was stopped.
    #[error("plugin `{plugin}` {op}: stopped after exceeding its time limit of {limit_ms} ms")]
    Timeout {
        /// Plugin id.
        plugin: String,
        /// The operation called.
        op: &'static str,
        /// The limit.
        limit_ms: u64,
    },
    /// The instance tried to grow its memory beyond `limits.memory_mib`.
    #[error("plugin `{plugin}` {op}: stopped after exceeding its memory limit of {limit_mib} MiB")]
    MemoryLimit {
        /// Plugin id.
        plugin: String,
        /// The operation called.
        op: &'static str,
        /// The limit.
        limit_mib: u32,
    },
    /// Unbounded recursion.
    #[error("plugin `{plugin}` {op}: stack overflow (unbounded recursion?)")]
    StackOverflow {
        /// Plugin id.
        plugin: String,
        /// The operation called.
        op: &'static str,
    },
    /// Any other trap: a panic, `unreachable`, an out-of-bounds access.
    #[error("plugin `{plugin}` {op}: trapped ({trap}){}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Trap {
        /// Plugin id.
        plugin: String,
        /// The operation called.
        op: &'static str,
        /// The trap code.
        trap: String,
        /// The last line the plugin wrote to stderr (its panic message), redacted.
        message: Option<String>,
    },
    /// The plugin returned something larger or stranger than allowed.
    #[error("plugin `{plugin}` {op}: invalid output: {message}")]
    InvalidOutput {
        /// Plugin id.
        plugin: String,
        /// The operation called.
        op: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The plugin does not implement this world.
    #[error("plugin `{plugin}` implements `{world}`, which has no operation `{op}`")]
    WrongWorld {
        /// Plugin id.
        plugin: String,
        /// The operation called.
        op: &'static str,
        /// The plugin's world.
        world: World,
    },
    /// The host could not instantiate or enter the plugin.
    #[error("plugin `{plugin}` {op}: {message}")]
    Host {
        /// Plugin id.
        plugin: String,
        /// The operation called.
        op: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl CallError {
    /// A short, stable name of the failure kind, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Timeout { .. } => "timeout",
            CallError::MemoryLimit { .. } => "memory_limit",
            CallError::StackOverflow { .. } => "stack_overflow",
            CallError::Trap { .. } => "trap",
            CallError::InvalidOutput { .. } => "invalid_output",
            CallError::WrongWorld { .. } => "wrong_world",
            CallError::Host { .. } => "host",
        }
    }
}

/// Counters of one plugin's calls.
#[derive(Debug, Default)]
pub struct PluginStats {
    /// Calls made.
    pub calls: AtomicU64,
    /// Calls that ended in a trap, timeout or limit.
    pub failures: AtomicU64,
    /// Instances created.
    pub instantiations: AtomicU64,
    /// Total time spent in calls, in nanoseconds.
    pub call_nanos: AtomicU64,
    /// Call durations and failures by operation, for `/metrics`.
    pub metrics: crate::metrics::histogram::CallMetrics,
}

/// Everything `Runtime::load` hands over.
pub struct PluginParts {
    pub(crate) engine: Engine,
    pub(crate) manifest: Manifest,
    pub(crate) path: PathBuf,
    pub(crate) world: World,
    pub(crate) contract_version: String,
    pub(crate) verdicts: Vec<(String, Verdict)>,
    pub(crate) grants: OperatorGrants,
    pub(crate) pre: PluginBindingsPre,
    pub(crate) egress: Arc<EgressPolicy>,
    pub(crate) kv: Arc<dyn KvBackend>,
    pub(crate) cache: Option<CacheOutcome>,
}

/// A loaded plugin. Cheap to clone; calls may run concurrently, each in its own instance.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Inner>,
}

struct Inner {
    parts: PluginParts,
    id: Arc<str>,
    idle: Mutex<Vec<Instance>>,
    stats: PluginStats,
}

type CallFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

/// Ties the arguments' lifetime `'c` to a call's borrow `'a` (`'c: 'a`), so a
/// call closure can borrow its arguments without copying them.
type Borrows<'a, 'c> = std::marker::PhantomData<&'a &'c ()>;

impl Plugin {
    pub(crate) fn new(parts: PluginParts) -> Self {
        let id: Arc<str> = parts.manifest.plugin.id.as_str().into();
        Self {
            inner: Arc::new(Inner {
                parts,
                id,
                idle: Mutex::new(Vec::new()),
                stats: PluginStats::default(),
            }),
        }
    }

    /// The plugin's id from its manifest.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.parts.manifest
    }

    /// The component file.
    pub fn path(&self) -> &std::path::Path {
        &self.inner.parts.path
    }

    /// The world the component implements.
    pub fn world(&self) -> World {
        self.inner.parts.world
    }

    /// The contract version it was built for.
    pub fn contract_version(&self) -> &str {
        &self.inner.parts.contract_version
    }

    /// Each import with the verdict that allowed it.
    pub fn imports(&self) -> &[(String, Verdict)] {
        &self.inner.parts.verdicts
    }

    /// The operator's grants in force.
    pub fn grants(&self) -> &OperatorGrants {
        &self.inner.parts.grants
    }

    /// Whether the compiled artefact came from the cache.
    pub fn cache_outcome(&self) -> Option<CacheOutcome> {
        self.inner.parts.cache
    }

    /// Call counters.
    pub fn stats(&self) -> &PluginStats {
        &self.inner.stats
    }

    /// Egress counters.
    pub fn egress_stats(&self) -> &EgressStats {
        &self.inner.parts.egress.stats
    }

    async fn instantiate(&self) -> Result<Instance, CallError> {
        let parts = &self.inner.parts;
        let memory = parts.manifest.limits.memory_mib as usize * 1024 * 1024;
        let state = HostState::new(
            self.inner.id.clone(),
            parts.egress.clone(),
            parts.kv.clone(),
            memory,
        );
        let mut store = Store::new(&parts.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_callback(|ctx| {
            if Instant::now() >= ctx.data().deadline {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        // Instantiation runs guest start code: give it the call budget too.
        let timeout = Duration::from_millis(parts.manifest.limits.call_timeout_ms);
        store.data_mut().begin_call(Instant::now() + timeout);
        store.set_epoch_deadline(1);
        let host_err = |e: wasmtime::Error| CallError::Host {
            plugin: self.id().to_string(),
            op: "instantiate",
            message: format!("{e:#}"),
        };
        let bindings = match &parts.pre {
            PluginBindingsPre::Platform(pre) => {
                Bindings::Platform(pre.instantiate_async(&mut store).await.map_err(host_err)?)
            }
            PluginBindingsPre::Source(pre, snapshot) => {
                let instance = pre
                    .instance_pre()
                    .instantiate_async(&mut store)
                    .await
                    .map_err(host_err)?;
                let source = DmsSource::new(&mut store, &instance).map_err(host_err)?;
                let snapshot = snapshot
                    .as_ref()
                    .and_then(|index| instance.get_func(&mut store, index));
                Bindings::Source(source, snapshot)
            }
            PluginBindingsPre::Crm(pre) => {
                Bindings::Crm(pre.instantiate_async(&mut store).await.map_err(host_err)?)
            }
            PluginBindingsPre::Enricher(pre) => {
                Bindings::Enricher(pre.instantiate_async(&mut store).await.map_err(host_err)?)
            }
        };
        self.inner
            .stats
            .instantiations
            .fetch_add(1, Ordering::Relaxed);
        Ok(Instance {
            store,
            bindings,
            calls: 0,
        })
    }

    /// Create one instance and drop it (for benchmarks of instantiation).
    pub async fn instantiate_once(&self) -> Result<(), CallError> {
        self.instantiate().await.map(drop)
    }

    fn classify(&self, op: &'static str, error: wasmtime::Error, state: &HostState) -> CallError {
        let plugin = self.id().to_string();
        let limits = &self.inner.parts.manifest.limits;
        if state.limiter.exceeded {
            return CallError::MemoryLimit {
                plugin,
                op,
                limit_mib: limits.memory_mib,
            };
        }
        if format!("{error:#}").contains("fuel allocated for hostcalls") {
            // wasmtime's own cap on data lifted out of a guest in one call.
            return CallError::InvalidOutput {
                plugin,
                op,
                message: "the plugin returned more data than the host accepts in one call".into(),
            };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => CallError::Timeout {
                plugin,
                op,
                limit_ms: limits.call_timeout_ms,
            },
            Some(Trap::StackOverflow) => CallError::StackOverflow { plugin, op },
            Some(trap) => CallError::Trap {
                plugin,
                op,
                trap: match trap {
                    // Rust and C keep part of their stack in linear memory;
                    // running off its end looks like this.
                    Trap::MemoryOutOfBounds => format!(
                        "{trap}; often the guest's own stack overflowing (unbounded recursion)"
                    ),
                    _ => trap.to_string(),
                },
                message: state.panic_message(),
            },
            None => CallError::Host {
                plugin,
                op,
                message: format!("{error:#}"),
            },
        }
    }

    /// Run `f` in a warm or fresh instance under the plugin's limits.
    async fn call<'c, R>(
        &self,
        op: &'static str,
        f: impl for<'a> FnOnce(
            &'a Bindings,
            &'a mut Store<HostState>,
            Borrows<'a, 'c>,
        ) -> Option<CallFuture<'a, R>>,
    ) -> Result<R, CallError> {
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let mut instance = match idle {
            Some(i) => i,
            None => self.instantiate().await?,
        };
        let limit = Duration::from_millis(self.inner.parts.manifest.limits.call_timeout_ms);
        let started = Instant::now();
        instance.store.data_mut().begin_call(started + limit);
        instance.store.set_epoch_deadline(1);
        self.inner.stats.calls.fetch_add(1, Ordering::Relaxed);

        instance.calls += 1;
        let Instance {
            store, bindings, ..
        } = &mut instance;
        let Some(future) = f(bindings, store, std::marker::PhantomData) else {
            self.put_back(instance);
            return Err(CallError::WrongWorld {
                plugin: self.id().to_string(),
                op,
                world: self.world(),
            });
        };
        let outcome = tokio::time::timeout(limit + ASYNC_GRACE, future).await;
        self.inner
            .stats
            .call_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.inner
            .stats
            .metrics
            .duration
            .observe(&[op], started.elapsed().as_secs_f64());
        match outcome {
            Ok(Ok(value)) => {
                self.put_back(instance);
                Ok(value)
            }
            Ok(Err(error)) => {
                self.inner.stats.failures.fetch_add(1, Ordering::Relaxed);
                let err = self.classify(op, error, instance.store.data());
                self.inner.stats.metrics.failures.inc(&[op, err.kind()]);
                tracing::warn!(plugin = %self.id(), op, error = %err, "Plugin call failed; its instance is discarded.");
                Err(err)
            }
            Err(_) => {
                self.inner.stats.failures.fetch_add(1, Ordering::Relaxed);
                let err = CallError::Timeout {
                    plugin: self.id().to_string(),
                    op,
                    limit_ms: limit.as_millis() as u64,
                };
                self.inner.stats.metrics.failures.inc(&[op, err.kind()]);
                tracing::warn!(plugin = %self.id(), op, error = %err, "Plugin call failed; its instance is discarded.");
                Err(err)
            }
        }
    }

    fn put_back(&self, instance: Instance) {
        if instance.calls >= MAX_CALLS_PER_INSTANCE
            || instance.store.data().limiter.used() > MAX_IDLE_MEMORY
        {
            return;
        }
        let mut idle = self.inner.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_INSTANCES {
            idle.push(instance);
        }
    }

    fn output_limit(&self) -> usize {
        self.inner.parts.manifest.limits.max_output_kib as usize * 1024
    }

    fn invalid(&self, op: &'static str, message: String) -> CallError {
        CallError::InvalidOutput {
            plugin: self.id().to_string(),
            op,
            message,
        }
    }

    // ----- listing-platform -----

    /// `describe` of a listing platform.
    pub async fn platform_info(&self) -> Result<p::PlatformInfo, CallError> {
        self.call("describe", |b, store, _| match b {
            Bindings::Platform(b) => {
                Some(Box::pin(b.forecourt_plugin_platform().call_describe(store)))
            }
            _ => None,
        })
        .await
    }

    /// Render one vehicle for the platform. The caller strips hub-only data first.
    pub async fn transform(
        &self,
        config: &str,
        vehicle: &types::Vehicle,
    ) -> Result<Result<p::Transformed, Vec<types::ValidationIssue>>, CallError> {
        let out = self
            .call("transform", |b, store, _| match b {
                Bindings::Platform(b) => Some(Box::pin(
                    b.forecourt_plugin_platform()
                        .call_transform(store, config, vehicle),
                )),
                _ => None,
            })
            .await?;
        if let Ok(t) = &out {
            if t.listing.body.len() > self.output_limit() {
                return Err(self.invalid(
                    "transform",
                    format!(
                        "listing body of {} bytes exceeds limits.max_output_kib ({} KiB)",
                        t.listing.body.len(),
                        self.output_limit() / 1024
                    ),
                ));
            }
            if t.listing.stock_id != vehicle.stock_id {
                return Err(self.invalid(
                    "transform",
                    format!(
                        "listing is for stock id `{}` but vehicle `{}` was given",
                        t.listing.stock_id, vehicle.stock_id
                    ),
                ));
            }
        }
        Ok(out)
    }

    /// Apply a batch of operations; the result has one entry per operation.
    pub async fn publish(
        &self,
        config: &str,
        operations: &[p::Operation],
    ) -> Result<Result<Vec<p::OperationResult>, types::PluginError>, CallError> {
        let out = self
            .call("publish", |b, store, _| match b {
                Bindings::Platform(b) => Some(Box::pin(
                    b.forecourt_plugin_platform()
                        .call_publish(store, config, operations),
                )),
                _ => None,
            })
            .await?;
        if let Ok(results) = &out {
            for r in results {
                if !operations
                    .iter()
                    .any(|o| o.idempotency_key == r.idempotency_key)
                {
                    return Err(self.invalid(
                        "publish",
                        format!("result for unknown idempotency key `{}`", r.idempotency_key),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// One page of what the platform currently shows.
    pub async fn list_published(
        &self,
        config: &str,
        cursor: Option<&str>,
    ) -> Result<Result<p::PublishedPage, types::PluginError>, CallError> {
        self.call("list-published", |b, store, _| match b {
            Bindings::Platform(b) => Some(Box::pin(
                b.forecourt_plugin_platform()
                    .call_list_published(store, config, cursor),
            )),
            _ => None,
        })
        .await
    }

    /// The complete feed file for these listings.
    pub async fn render_feed(
        &self,
        config: &str,
        listings: &[p::Listing],
    ) -> Result<Result<p::Feed, types::PluginError>, CallError> {
        let out = self
            .call("render-feed", |b, store, _| match b {
                Bindings::Platform(b) => Some(Box::pin(
                    b.forecourt_plugin_platform()
                        .call_render_feed(store, config, listings),
                )),
                _ => None,
            })
            .await?;
        if let Ok(feed) = &out {
            if feed.file_name.contains(['/', '\\'])
                || feed.file_name.starts_with('.')
                || feed.file_name.is_empty()
            {
                return Err(self.invalid(
                    "render-feed",
                    format!(
                        "feed file name `{}` must be a plain file name",
                        feed.file_name
                    ),
                ));
            }
        }
        Ok(out)
    }

    /// Enquiries since a cursor.
    pub async fn fetch_enquiries(
        &self,
        config: &str,
        cursor: Option<&str>,
    ) -> Result<Result<p::EnquiryPage, types::PluginError>, CallError> {
        self.call("fetch-enquiries", |b, store, _| match b {
            Bindings::Platform(b) => Some(Box::pin(
                b.forecourt_plugin_platform()
                    .call_fetch_enquiries(store, config, cursor),
            )),
            _ => None,
        })
        .await
    }

    // ----- dms-source -----

    /// `describe` of a DMS source.
    pub async fn source_info(&self) -> Result<s::SourceInfo, CallError> {
        self.call("describe", |b, store, _| match b {
            Bindings::Source(b, _) => {
                Some(Box::pin(b.forecourt_plugin_source().call_describe(store)))
            }
            _ => None,
        })
        .await
    }

    /// One page of changes.
    pub async fn pull(
        &self,
        request: &s::PullRequest,
    ) -> Result<Result<s::PullPage, types::PluginError>, CallError> {
        self.call("pull", |b, store, _| match b {
            Bindings::Source(b, _) => Some(Box::pin(
                b.forecourt_plugin_source().call_pull(store, request),
            )),
            _ => None,
        })
        .await
    }

    /// Whether the source exports `snapshot` (contract 1.2.0), so
    /// [`Plugin::pull_snapshot`] can skip rows the host already holds.
    pub fn has_snapshot(&self) -> bool {
        matches!(&self.inner.parts.pre, PluginBindingsPre::Source(_, Some(_)))
    }

    /// `pull` of a document, skipping the rows in `known`. The answer's shape
    /// is checked here: one digest per change, each at most
    /// [`snap::MAX_DIGEST_BYTES`], and each unchanged index naming a
    /// different entry of `known`.
    pub async fn pull_snapshot(
        &self,
        request: &s::PullRequest,
        known: &[KnownRow],
    ) -> Result<Result<SnapshotPage, types::PluginError>, CallError> {
        const OP: &str = "pull-snapshot";
        let answer = self
            .call(OP, |b, store, _| match b {
                Bindings::Source(_, Some(func)) => Some(Box::pin(async move {
                    let func = func.typed::<
                        (&s::PullRequest, &[KnownRow]),
                        (Result<SnapshotPage, types::PluginError>,),
                    >(&*store)?;
                    let (answer,) = func.call_async(&mut *store, (request, known)).await?;
                    Ok(answer)
                })),
                _ => None,
            })
            .await?;
        if let Ok(page) = &answer {
            check_snapshot_page(page, known.len()).map_err(|m| self.invalid(OP, m))?;
        }
        Ok(answer)
    }

    /// Parse one (already verified) push notification.
    pub async fn parse_push(
        &self,
        config: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Result<s::PullPage, types::PluginError>, CallError> {
        self.call("parse-push", |b, store, _| match b {
            Bindings::Source(b, _) => Some(Box::pin(
                b.forecourt_plugin_source()
                    .call_parse_push(store, config, headers, body),
            )),
            _ => None,
        })
        .await
    }
    // ----- crm -----

    /// `describe` of a CRM plugin.
    pub async fn crm_info(&self) -> Result<c::CrmInfo, CallError> {
        self.call("describe", |b, store, _| match b {
            Bindings::Crm(b) => Some(Box::pin(b.forecourt_plugin_leads().call_describe(store))),
            _ => None,
        })
        .await
    }

    /// The CRM document of one lead (for e-mail delivery).
    pub async fn render_lead(
        &self,
        config: &str,
        lead: &c::Lead,
    ) -> Result<Result<c::Document, types::PluginError>, CallError> {
        let out = self
            .call("render", |b, store, _| match b {
                Bindings::Crm(b) => Some(Box::pin(
                    b.forecourt_plugin_leads().call_render(store, config, lead),
                )),
                _ => None,
            })
            .await?;
        if let Ok(doc) = &out {
            if doc.body.len() > self.output_limit() {
                return Err(self.invalid(
                    "render",
                    format!(
                        "document of {} bytes exceeds limits.max_output_kib ({} KiB)",
                        doc.body.len(),
                        self.output_limit() / 1024
                    ),
                ));
            }
        }
        Ok(out)
    }

    /// Deliver a batch of leads; the result has one entry per lead.
    pub async fn deliver_leads(
        &self,
        config: &str,
        leads: &[c::Lead],
    ) -> Result<Result<Vec<c::DeliveryResult>, types::PluginError>, CallError> {
        let out = self
            .call("deliver", |b, store, _| match b {
                Bindings::Crm(b) => Some(Box::pin(
                    b.forecourt_plugin_leads()
                        .call_deliver(store, config, leads),
                )),
                _ => None,
            })
            .await?;
        if let Ok(results) = &out {
            if let Some(r) = results.iter().find(|r| !leads.iter().any(|l| l.id == r.id)) {
                return Err(self.invalid("deliver", format!("result for unknown lead `{}`", r.id)));
            }
        }
        Ok(out)
    }

    // ----- enricher -----

    /// `describe` of an enricher.
    pub async fn enricher_info(&self) -> Result<e::EnricherInfo, CallError> {
        self.call("describe", |b, store, _| match b {
            Bindings::Enricher(b) => Some(Box::pin(
                b.forecourt_plugin_enrichment().call_describe(store),
            )),
            _ => None,
        })
        .await
    }

    /// Enrich one vehicle (hub-only data already removed) for a platform.
    pub async fn enrich(
        &self,
        config: &str,
        vehicle: &types::Vehicle,
        target: &e::Target,
    ) -> Result<Result<e::Enriched, types::PluginError>, CallError> {
        let out = self
            .call("enrich", |b, store, _| match b {
                Bindings::Enricher(b) => Some(Box::pin(
                    b.forecourt_plugin_enrichment()
                        .call_enrich(store, config, vehicle, target),
                )),
                _ => None,
            })
            .await?;
        if let Ok(enriched) = &out {
            if enriched.vehicle.stock_id != vehicle.stock_id {
                return Err(self.invalid(
                    "enrich",
                    format!(
                        "returned stock id `{}` for vehicle `{}`",
                        enriched.vehicle.stock_id, vehicle.stock_id
                    ),
                ));
            }
            if enriched.vehicle.hub_only.is_some() {
                return Err(self.invalid("enrich", "returned hub-only data".into()));
            }
        }
        Ok(out)
    }
}

/// The shape `pull-snapshot` must answer in: one digest per change, each at
/// most [`snap::MAX_DIGEST_BYTES`], and each unchanged index naming a
/// different one of the `known` rows.
fn check_snapshot_page(page: &SnapshotPage, known: usize) -> Result<(), String> {
    if page.digests.len() != page.page.changes.len() {
        return Err(format!(
            "{} digests for {} changes; there must be one per change",
            page.digests.len(),
            page.page.changes.len()
        ));
    }
    if let Some(long) = page
        .digests
        .iter()
        .flatten()
        .find(|d| d.len() > snap::MAX_DIGEST_BYTES)
    {
        return Err(format!(
            "a row digest is {} bytes; the limit is {}",
            long.len(),
            snap::MAX_DIGEST_BYTES
        ));
    }
    let mut claimed = vec![false; known];
    for &index in &page.unchanged {
        match claimed.get_mut(index as usize) {
            None => {
                return Err(format!(
                    "unchanged row {index} is not one of the {known} known rows"
                ))
            }
            Some(true) => return Err(format!("known row {index} is reported unchanged twice")),
            Some(seen) => *seen = true,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(changes: usize, digests: Vec<Option<String>>, unchanged: Vec<u32>) -> SnapshotPage {
        SnapshotPage {
            page: s::PullPage {
                changes: (0..changes)
                    .map(|i| s::Change::Remove(format!("S{i}")))
                    .collect(),
                issues: vec![],
                next_cursor: None,
                has_more: false,
                full_snapshot: true,
            },
            digests,
            unchanged,
        }
    }

    #[test]
    fn a_snapshot_answer_of_the_wrong_shape_is_refused() {
        assert!(check_snapshot_page(&page(1, vec![None], vec![0, 2]), 3).is_ok());
        let refused = |p: SnapshotPage, known: usize| check_snapshot_page(&p, known).unwrap_err();
        assert!(refused(page(2, vec![None], vec![]), 0).contains("1 digests for 2 changes"));
        assert!(refused(page(1, vec![Some("x".repeat(65))], vec![]), 0).contains("65 bytes"));
        assert!(refused(page(0, vec![], vec![3]), 3).contains("not one of the 3 known rows"));
        assert!(refused(page(0, vec![], vec![1, 1]), 3).contains("reported unchanged twice"));
    }
}
