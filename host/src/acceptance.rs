//! `forecourt plugin test`: the acceptance test kit, after the connector
//! acceptance tests of data-integration platforms. It loads a platform
//! plugin as the host would, with its own limits, and checks that it keeps
//! the contract:
//!
//! - `describe()` is complete and consistent ([`describe`]);
//! - `transform` never traps and is deterministic over a corpus of fixture,
//!   hostile and edge-case vehicles ([`corpus`]), and its validation issues
//!   name real fields;
//! - API platforms publish against the sandbox marketplace started in
//!   process on loopback (the manifest's origins pointed at it): per-item
//!   results, the right error class under injected faults, idempotent
//!   creates, and `list-published` agreeing with what was published;
//! - feed platforms render the corpus deterministically into a well-formed
//!   file of the type they declare ([`wellformed`]);
//! - no call is stopped by the manifest's memory or time limits.
//!
//! The plugin author's fixtures (`--fixtures DIR`) give the configuration
//! (`acceptance.json`, with `{sandbox_url}` standing for the sandbox's base
//! URL) and more vehicles (`vehicles.json`). docs/plugins.md describes them.

pub mod corpus;
pub mod describe;
pub mod report;
pub mod wellformed;

use crate::manifest::{AuthInjection, HttpGrant, Manifest, PluginKind};
use crate::runtime::egress::OperatorGrants;
use crate::runtime::kv::MemoryKv;
use crate::runtime::platform_api::{self as p, OperationKind, PlatformInfo, PlatformKind};
use crate::runtime::secrets::MemorySecrets;
use crate::runtime::types::{self, ErrorClass, StockStatus};
use crate::runtime::{CallError, Plugin, Runtime, RuntimeOptions};
use crate::sandbox::{Faults, Sandbox, SandboxConfig};
use anyhow::Context;
use corpus::Case;
use report::{Report, Status};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many valid vehicles the publish checks send.
const PUBLISH_COUNT: usize = 3;
/// Most `list-published` pages read before giving up on a cursor loop.
const MAX_PAGES: usize = 100;

/// `forecourt plugin test`
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The component (`.wasm`).
    pub component: PathBuf,
    /// Its manifest (default: beside the component, with `.toml`).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// A directory with `acceptance.json` (the plugin's configuration for the
    /// test, `reject_field`) and `vehicles.json` (more vehicles to try).
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Print the report as JSON (for CI).
    #[arg(long)]
    pub json: bool,
}

/// Run the command: exit 0 when every check passed or was skipped, 1 otherwise.
pub async fn run(args: TestArgs) -> anyhow::Result<u8> {
    let report = test_plugin(
        &args.component,
        args.manifest.as_deref(),
        args.fixtures.as_deref(),
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{report}");
    }
    Ok(if report.passed() {
        crate::cli::EXIT_OK
    } else {
        crate::cli::EXIT_RUNTIME
    })
}

/// The author's fixtures.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    /// The plugin's configuration object; `{sandbox_url}` in any string is
    /// replaced by the sandbox's base URL.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// A dotted field of the platform's request body that the sandbox is
    /// told to refuse, for the validation-class check (e.g. `vehicle.colour`).
    #[serde(default)]
    pub reject_field: Option<String>,
    /// Extra vehicles (`vehicles.json`).
    #[serde(skip)]
    pub vehicles: Vec<Case>,
}

impl Fixtures {
    /// Read `acceptance.json` and `vehicles.json` from `dir` (both optional).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("acceptance.json");
        let mut fixtures: Fixtures = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("invalid fixtures file {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Fixtures::default(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let path = dir.join("vehicles.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let vehicles: Vec<types::Vehicle> = serde_json::from_str(&text)
                .with_context(|| format!("invalid vehicles in {}", path.display()))?;
            fixtures.vehicles = vehicles
                .into_iter()
                .enumerate()
                .map(|(n, mut vehicle)| {
                    vehicle.hub_only = None;
                    Case {
                        name: format!("fixture:{n}:{}", vehicle.stock_id),
                        vehicle,
                    }
                })
                .collect();
        }
        Ok(fixtures)
    }
}

fn substitute(value: &mut serde_json::Value, url: &str) {
    match value {
        serde_json::Value::String(s) => *s = s.replace("{sandbox_url}", url),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, url)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| substitute(v, url)),
        _ => {}
    }
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "forecourt-plugin-test-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The value the kit injects for a secret the manifest names.
fn secret_value(name: &str) -> String {
    format!("acceptance-{name}")
}

/// The manifest with every `[[http]]` origin replaced by the sandbox's (the
/// first grant's credential injection kept), so the plugin reaches only it.
fn pointed_at(manifest: &Manifest, origin: &str) -> Manifest {
    let mut m = manifest.clone();
    if let Some(first) = manifest.http.first() {
        m.http = vec![HttpGrant {
            origin: origin.to_string(),
            auth: first.auth.clone(),
        }];
    }
    m
}

/// Sandbox credentials matching what the kit injects for a token exchange.
fn sandbox_credentials(manifest: &Manifest) -> Vec<(String, String)> {
    manifest
        .http
        .iter()
        .filter_map(|g| match &g.auth {
            Some(AuthInjection::TokenExchange { form, .. }) => Some((
                secret_value(form.get("key")?),
                secret_value(form.get("secret")?),
            )),
            _ => None,
        })
        .collect()
}

/// Calls made through the kit: their slowest duration and any limit breach.
#[derive(Default)]
struct Calls {
    slowest: Duration,
    slowest_op: &'static str,
    breaches: Vec<String>,
    count: usize,
}

impl Calls {
    async fn timed<T>(
        &mut self,
        op: &'static str,
        call: impl std::future::Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        let started = Instant::now();
        let out = call.await;
        let took = started.elapsed();
        self.count += 1;
        if took > self.slowest {
            self.slowest = took;
            self.slowest_op = op;
        }
        if let Err(e @ (CallError::Timeout { .. } | CallError::MemoryLimit { .. })) = &out {
            self.breaches.push(e.to_string());
        }
        out
    }
}

/// Everything one run needs.
struct Kit {
    plugin: Plugin,
    config: String,
    calls: Calls,
    report: Report,
}

/// Test one plugin; the report says what passed.
pub async fn test_plugin(
    component: &Path,
    manifest_path: Option<&Path>,
    fixtures_dir: Option<&Path>,
) -> anyhow::Result<Report> {
    let manifest_path = manifest_path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| component.with_extension("toml"));
    let manifest = Manifest::load(&manifest_path)?;
    let mut report = Report::new(
        &component.display().to_string(),
        &format!("{} {}", manifest.plugin.id, manifest.plugin.version),
    );
    let fixtures = match fixtures_dir {
        Some(dir) => Fixtures::load(dir)?,
        None => Fixtures::default(),
    };

    match crate::signing::verify_files(component, Some(&manifest_path), None)? {
        Ok(v) => report.record(
            "signature",
            Status::Pass,
            format!("signed by key {} ({})", v.key_id, v.public_key),
        ),
        Err(crate::signing::VerifyError::Unsigned { .. }) => report.record(
            "signature",
            Status::Skip,
            "unsigned: hosts refuse it unless the operator sets allow_unsigned (sign it with `forecourt plugin sign`)",
        ),
        Err(e) => report.record("signature", Status::Fail, e.to_string()),
    }

    if manifest.plugin.kind == PluginKind::Source {
        report.record(
            "kind",
            Status::Skip,
            "a DMS source: the kit tests listing platforms; use `forecourt plugin check` and the source's own tests",
        );
        return Ok(report);
    }

    // The sandbox marketplace, for API platforms and any plugin with origins.
    let sandbox = Sandbox::start(SandboxConfig {
        credentials: sandbox_credentials(&manifest),
        ..SandboxConfig::default()
    })
    .await?;
    let origin = sandbox.base_url();

    let scratch = Scratch::new()?;
    let id = &manifest.plugin.id;
    let staged = scratch.0.join(format!("{id}.wasm"));
    std::fs::copy(component, &staged)
        .with_context(|| format!("cannot read {}", component.display()))?;
    let rewritten = pointed_at(&manifest, &origin);
    std::fs::write(
        staged.with_extension("toml"),
        toml::to_string(&rewritten).context("cannot write the test manifest")?,
    )?;

    let secrets = MemorySecrets::default();
    for name in manifest.secret_names() {
        secrets.set(id, &name, &secret_value(&name));
    }
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: None,
        kv: Arc::new(MemoryKv::default()),
        secrets: Arc::new(secrets),
        pooling: true,
    })?;
    let grants = OperatorGrants {
        plain_http_hosts: vec!["127.0.0.1".into()],
        private_network_hosts: vec!["127.0.0.1".into()],
    };
    let started = Instant::now();
    let plugin = match runtime.load(&staged, None, grants) {
        Ok(plugin) => plugin,
        Err(e) => {
            report.record("load", Status::Fail, e.to_string());
            return Ok(report);
        }
    };
    let inert = plugin
        .imports()
        .iter()
        .filter(|(_, v)| matches!(v, crate::runtime::review::Verdict::Inert(_)))
        .count();
    report.record(
        "load",
        Status::Pass,
        format!(
            "reviewed, compiled and instantiated in {:.1} s ({} import(s), {inert} inert; memory {} MiB, {} ms per call)",
            started.elapsed().as_secs_f64(),
            plugin.imports().len(),
            manifest.limits.memory_mib,
            manifest.limits.call_timeout_ms
        ),
    );

    let mut config = fixtures
        .config
        .clone()
        .unwrap_or_else(|| serde_json::json!({}));
    substitute(&mut config, &origin);
    let mut kit = Kit {
        plugin,
        config: config.to_string(),
        calls: Calls::default(),
        report,
    };

    let info = match kit
        .calls
        .timed("describe", kit.plugin.platform_info())
        .await
    {
        Ok(info) => info,
        Err(e) => {
            kit.report
                .record("describe.complete", Status::Fail, e.to_string());
            return Ok(kit.report);
        }
    };
    describe::check(&info, &mut kit.report);
    let problems = describe::config_problems(&info.config_schema, &config);
    if fixtures.config.is_none() {
        kit.report.record(
            "config.fixture",
            Status::Skip,
            "no acceptance.json config in --fixtures: the plugin gets {}",
        );
    } else {
        kit.report.verdict(
            "config.fixture",
            "the fixture configuration is valid under config-schema",
            problems,
        );
    }

    let cases = corpus::corpus(fixtures.vehicles);
    let outcomes = transform_checks(&mut kit, &cases).await;
    match info.kind {
        PlatformKind::FeedFile => {
            skip_api(&mut kit.report, "a feed-file platform");
            feed_checks(&mut kit, &info, &outcomes).await;
        }
        PlatformKind::Api => {
            for name in [
                "feed.render",
                "feed.deterministic",
                "feed.well-formed",
                "feed.empty",
            ] {
                kit.report.record(name, Status::Skip, "an API platform");
            }
            api_checks(
                &mut kit,
                &info,
                &outcomes,
                &sandbox,
                fixtures.reject_field.as_deref(),
            )
            .await;
        }
    }

    let limits = &kit.plugin.manifest().limits;
    let detail = format!(
        "{} call(s) within {} MiB and {} ms; slowest {} ({} ms)",
        kit.calls.count,
        limits.memory_mib,
        limits.call_timeout_ms,
        kit.calls.slowest_op,
        kit.calls.slowest.as_millis()
    );
    let breaches = std::mem::take(&mut kit.calls.breaches);
    kit.report.verdict("limits", detail, breaches);
    sandbox.shutdown().await;
    Ok(kit.report)
}

/// What `transform` made of each case (a trap is `None`).
type Outcome = Option<Result<p::Transformed, Vec<types::ValidationIssue>>>;

async fn transform_checks(kit: &mut Kit, cases: &[Case]) -> Vec<(Case, Outcome)> {
    let mut traps = Vec::new();
    let mut nondeterministic = Vec::new();
    let mut bad_fields = Vec::new();
    let mut outcomes = Vec::new();
    let (mut ok, mut refused) = (0, 0);
    for case in cases {
        let first = kit
            .calls
            .timed(
                "transform",
                kit.plugin.transform(&kit.config, &case.vehicle),
            )
            .await;
        let second = kit
            .calls
            .timed(
                "transform",
                kit.plugin.transform(&kit.config, &case.vehicle),
            )
            .await;
        let outcome = match (first, second) {
            (Ok(a), Ok(b)) => {
                if a != b {
                    nondeterministic.push(format!("{}: {}", case.name, first_difference(&a, &b)));
                }
                Some(a)
            }
            (Err(e), _) | (_, Err(e)) => {
                traps.push(format!("{}: {e}", case.name));
                None
            }
        };
        match &outcome {
            Some(Ok(t)) => {
                ok += 1;
                for w in &t.warnings {
                    if !corpus::is_real_field(&w.field) {
                        bad_fields.push(format!("{}: warning on `{}`", case.name, w.field));
                    }
                }
            }
            Some(Err(issues)) => {
                refused += 1;
                if !issues.iter().any(|i| i.severity == types::Severity::Error) {
                    bad_fields.push(format!(
                        "{}: refused with no error-severity issue",
                        case.name
                    ));
                }
                for i in issues {
                    if !corpus::is_real_field(&i.field) {
                        bad_fields.push(format!(
                            "{}: issue on `{}` ({})",
                            case.name, i.field, i.message
                        ));
                    }
                }
            }
            None => {}
        }
        outcomes.push((case.clone(), outcome));
    }
    kit.report.verdict(
        "transform.no-traps",
        format!(
            "{} vehicles: {ok} rendered, {refused} refused with issues, none trapped",
            cases.len()
        ),
        traps,
    );
    kit.report.verdict(
        "transform.deterministic",
        "every vehicle rendered twice gave the same bytes",
        nondeterministic,
    );
    kit.report.verdict(
        "transform.issues-name-fields",
        "every issue and warning names a contract field, `config` or a `platform:field`",
        bad_fields,
    );
    let complete = outcomes
        .iter()
        .find(|(c, _)| c.name == "sdk:complete_used_car")
        .and_then(|(_, o)| o.clone());
    match complete {
        Some(Ok(_)) => kit.report.record(
            "transform.accepts-complete",
            Status::Pass,
            "the complete used car (SDK fixture) is rendered",
        ),
        Some(Err(issues)) => kit.report.record(
            "transform.accepts-complete",
            Status::Fail,
            format!(
                "the complete used car is refused: {}",
                issues
                    .iter()
                    .map(|i| format!("{}: {}", i.field, i.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        None => kit.report.record(
            "transform.accepts-complete",
            Status::Fail,
            "the complete used car trapped",
        ),
    }
    outcomes
}

fn first_difference(
    a: &Result<p::Transformed, Vec<types::ValidationIssue>>,
    b: &Result<p::Transformed, Vec<types::ValidationIssue>>,
) -> String {
    match (a, b) {
        (Ok(a), Ok(b)) if a.listing.body != b.listing.body => {
            let at = a
                .listing
                .body
                .bytes()
                .zip(b.listing.body.bytes())
                .position(|(x, y)| x != y)
                .unwrap_or(a.listing.body.len().min(b.listing.body.len()));
            format!("listing bodies differ from byte {at}")
        }
        (Ok(_), Ok(_)) => "warnings differ".into(),
        (Err(_), Err(_)) => "issues differ".into(),
        _ => "rendered once and refused once".into(),
    }
}

fn rendered(outcomes: &[(Case, Outcome)]) -> Vec<p::Listing> {
    outcomes
        .iter()
        .filter_map(|(_, o)| match o {
            Some(Ok(t)) => Some(t.listing.clone()),
            _ => None,
        })
        .collect()
}

async fn feed_checks(kit: &mut Kit, info: &PlatformInfo, outcomes: &[(Case, Outcome)]) {
    let listings = rendered(outcomes);
    let first = kit
        .calls
        .timed(
            "render-feed",
            kit.plugin.render_feed(&kit.config, &listings),
        )
        .await;
    let feed = match first {
        Ok(Ok(feed)) => feed,
        Ok(Err(e)) => {
            kit.report.record(
                "feed.render",
                Status::Fail,
                format!(
                    "render-feed of {} listings refused: {:?}: {}",
                    listings.len(),
                    e.class,
                    e.message
                ),
            );
            return;
        }
        Err(e) => {
            kit.report
                .record("feed.render", Status::Fail, e.to_string());
            return;
        }
    };
    let declared = info
        .feed
        .as_ref()
        .map(|f| f.content_type.as_str())
        .unwrap_or("");
    kit.report.record(
        "feed.render",
        Status::Pass,
        format!(
            "{} listings into {} ({}, {} bytes; describe() declares {declared})",
            listings.len(),
            feed.file_name,
            feed.content_type,
            feed.body.len()
        ),
    );
    let again = kit
        .calls
        .timed(
            "render-feed",
            kit.plugin.render_feed(&kit.config, &listings),
        )
        .await;
    let same = matches!(&again, Ok(Ok(f)) if f == &feed);
    kit.report.verdict(
        "feed.deterministic",
        "the same listings rendered twice gave the same bytes",
        if same {
            vec![]
        } else {
            vec!["a second render of the same listings differs".into()]
        },
    );
    match wellformed::check(&feed.content_type, &feed.body) {
        Ok(what) => kit.report.record("feed.well-formed", Status::Pass, what),
        Err(problem) => kit.report.record("feed.well-formed", Status::Fail, problem),
    }
    let empty = kit
        .calls
        .timed("render-feed", kit.plugin.render_feed(&kit.config, &[]))
        .await;
    match empty {
        Ok(Ok(feed)) => match wellformed::check(&feed.content_type, &feed.body) {
            Ok(what) => {
                kit.report
                    .record("feed.empty", Status::Pass, format!("no listings: {what}"))
            }
            Err(problem) => kit.report.record(
                "feed.empty",
                Status::Fail,
                format!("no listings: {problem}"),
            ),
        },
        Ok(Err(e)) => kit.report.record(
            "feed.empty",
            Status::Fail,
            format!("no listings refused: {}", e.message),
        ),
        Err(e) => kit.report.record("feed.empty", Status::Fail, e.to_string()),
    }
}

const API_CHECKS: &[&str] = &[
    "publish.create",
    "publish.idempotent",
    "list-published.matches",
    "publish.update",
    "publish.fault.transient",
    "publish.fault.rate-limited",
    "publish.fault.auth",
    "publish.fault.validation",
    "publish.remove",
];

fn skip_api(report: &mut Report, why: &str) {
    for name in API_CHECKS {
        report.record(name, Status::Skip, why);
    }
}

fn operation(
    kind: OperationKind,
    key: String,
    listing: &p::Listing,
    remote_id: Option<String>,
) -> p::Operation {
    p::Operation {
        kind,
        idempotency_key: key,
        stock_id: listing.stock_id.clone(),
        remote_id,
        status: StockStatus::InStock,
        listing: (kind != OperationKind::Remove).then(|| listing.clone()),
        previous: (kind != OperationKind::Create).then(|| listing.clone()),
    }
}

/// Per-operation outcomes of one publish call, or why the call failed.
async fn publish(
    kit: &mut Kit,
    ops: &[p::Operation],
) -> Result<Vec<Result<String, types::PluginError>>, String> {
    match kit
        .calls
        .timed("publish", kit.plugin.publish(&kit.config, ops))
        .await
    {
        Err(e) => Err(e.to_string()),
        Ok(Err(e)) => Ok(ops.iter().map(|_| Err(e.clone())).collect()),
        Ok(Ok(results)) => {
            if results.len() != ops.len() {
                return Err(format!(
                    "{} operations but {} results",
                    ops.len(),
                    results.len()
                ));
            }
            ops.iter()
                .map(|op| {
                    results
                        .iter()
                        .find(|r| r.idempotency_key == op.idempotency_key)
                        .map(|r| r.outcome.clone())
                        .ok_or_else(|| format!("no result for `{}`", op.idempotency_key))
                })
                .collect()
        }
    }
}

fn describe_error(e: &types::PluginError) -> String {
    format!(
        "{:?}{}: {}",
        e.class,
        e.field
            .as_deref()
            .map(|f| format!(" on `{f}`"))
            .unwrap_or_default(),
        e.message
    )
}

/// Every published item, following cursors.
async fn list_all(kit: &mut Kit) -> Result<Vec<p::PublishedItem>, String> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = kit
            .calls
            .timed(
                "list-published",
                kit.plugin.list_published(&kit.config, cursor.as_deref()),
            )
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| describe_error(&e))?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
            Some(_) => return Err("list-published returned the same cursor twice".into()),
            None => return Ok(items),
        }
    }
    Err(format!(
        "list-published did not end within {MAX_PAGES} pages"
    ))
}

async fn api_checks(
    kit: &mut Kit,
    info: &PlatformInfo,
    outcomes: &[(Case, Outcome)],
    sandbox: &Sandbox,
    reject_field: Option<&str>,
) {
    let valid: Vec<(&Case, p::Listing)> = outcomes
        .iter()
        .filter(|(c, _)| c.name.starts_with("sdk:") && c.vehicle.status == StockStatus::InStock)
        .filter_map(|(c, o)| match o {
            Some(Ok(t)) => Some((c, t.listing.clone())),
            _ => None,
        })
        .collect();
    let count = PUBLISH_COUNT
        .min(info.batch_size.max(1) as usize)
        .min(valid.len());
    let listings: Vec<p::Listing> = valid[..count].iter().map(|(_, l)| l.clone()).collect();
    // A vehicle never published, so a create under a fault always reaches
    // the platform (an update with nothing changed may send nothing).
    let spare = valid.get(count).map(|(_, l)| l.clone());
    if listings.is_empty() {
        skip_api(
            &mut kit.report,
            "no in-stock fixture vehicle was rendered, so there is nothing to publish",
        );
        return;
    }

    // Create, then the very same operations again.
    let creates: Vec<p::Operation> = listings
        .iter()
        .enumerate()
        .map(|(n, l)| {
            operation(
                OperationKind::Create,
                format!("acceptance-create-{n}"),
                l,
                None,
            )
        })
        .collect();
    let first = publish(kit, &creates).await;
    let remote_ids: Vec<String> = match &first {
        Ok(results)
            if results
                .iter()
                .all(|r| matches!(r, Ok(id) if !id.is_empty())) =>
        {
            results
                .iter()
                .map(|r| r.clone().unwrap_or_default())
                .collect()
        }
        Ok(results) => {
            let problems = results
                .iter()
                .zip(&creates)
                .filter_map(|(r, op)| match r {
                    Ok(id) if id.is_empty() => Some(format!("{}: empty remote id", op.stock_id)),
                    Ok(_) => None,
                    Err(e) => Some(format!("{}: {}", op.stock_id, describe_error(e))),
                })
                .collect();
            kit.report.verdict("publish.create", "", problems);
            skip_rest(&mut kit.report, "publish.create failed");
            return;
        }
        Err(e) => {
            kit.report.record("publish.create", Status::Fail, e.clone());
            skip_rest(&mut kit.report, "publish.create failed");
            return;
        }
    };
    kit.report.record(
        "publish.create",
        Status::Pass,
        format!(
            "{} creates, one result each: {}",
            creates.len(),
            remote_ids.join(", ")
        ),
    );

    let again = publish(kit, &creates).await;
    let listed = list_all(kit).await;
    let mut problems = Vec::new();
    match &again {
        Err(e) => problems.push(format!("the repeated creates failed: {e}")),
        Ok(results) => {
            for ((r, op), id) in results.iter().zip(&creates).zip(&remote_ids) {
                match r {
                    Ok(again_id) if again_id != id => problems.push(format!(
                        "{}: the repeat answered remote id {again_id}, the first {id}",
                        op.stock_id
                    )),
                    Ok(_) => {}
                    Err(e) => problems.push(format!(
                        "{}: the repeat failed: {}",
                        op.stock_id,
                        describe_error(e)
                    )),
                }
            }
        }
    }
    match &listed {
        Ok(items) => {
            for op in &creates {
                let n = items
                    .iter()
                    .filter(|i| i.stock_id == op.stock_id && i.state != p::PublishedState::Removed)
                    .count();
                if n != 1 {
                    problems.push(format!(
                        "{} is listed {n} times after the same create twice",
                        op.stock_id
                    ));
                }
            }
        }
        Err(e) => problems.push(format!(
            "list-published failed, so duplicates cannot be ruled out: {e}"
        )),
    }
    kit.report.verdict(
        "publish.idempotent",
        "the same creates sent twice: same remote ids, one listing each",
        problems,
    );

    let mut problems = Vec::new();
    match &listed {
        Err(e) => problems.push(e.clone()),
        Ok(items) => {
            for (op, id) in creates.iter().zip(&remote_ids) {
                match items.iter().find(|i| i.stock_id == op.stock_id) {
                    None => {
                        problems.push(format!("{} was published but is not listed", op.stock_id))
                    }
                    Some(item) => {
                        if &item.remote_id != id {
                            problems.push(format!(
                                "{} is listed as {} but publish answered {id}",
                                op.stock_id, item.remote_id
                            ));
                        }
                        if item.state != p::PublishedState::Live {
                            problems.push(format!(
                                "{} is listed {:?}, not live",
                                op.stock_id, item.state
                            ));
                        }
                    }
                }
            }
            let ours: Vec<&str> = creates.iter().map(|o| o.stock_id.as_str()).collect();
            for item in items {
                if !ours.contains(&item.stock_id.as_str())
                    && item.state != p::PublishedState::Removed
                {
                    problems.push(format!(
                        "{} is listed but was never published",
                        item.stock_id
                    ));
                }
            }
        }
    }
    kit.report.verdict(
        "list-published.matches",
        format!(
            "{} listing(s) listed live with the ids publish returned",
            creates.len()
        ),
        problems,
    );

    // An update of the first listing: its price and mileage changed.
    let mut changed = valid[0].0.vehicle.clone();
    if let Some(price) = &mut changed.price {
        price.amount_minor = price.amount_minor.saturating_add(10_000);
    }
    if let Some(mileage) = &mut changed.mileage {
        mileage.value = mileage.value.saturating_add(250);
    }
    let new_listing = match kit
        .calls
        .timed("transform", kit.plugin.transform(&kit.config, &changed))
        .await
    {
        Ok(Ok(t)) => t.listing,
        _ => listings[0].clone(),
    };
    let mut update = operation(
        OperationKind::Update,
        "acceptance-update-0".into(),
        &new_listing,
        Some(remote_ids[0].clone()),
    );
    update.previous = Some(listings[0].clone());
    match publish(kit, &[update]).await {
        Ok(r) => match &r[0] {
            Ok(_) => kit.report.record(
                "publish.update",
                Status::Pass,
                "an update (price and mileage changed) of a published listing is acknowledged",
            ),
            Err(e) => kit
                .report
                .record("publish.update", Status::Fail, describe_error(e)),
        },
        Err(e) => kit.report.record("publish.update", Status::Fail, e),
    }

    // Injected faults: each must come back as the right class, per item.
    let faults: [(&str, Faults, ErrorClass, &str); 3] = [
        (
            "publish.fault.transient",
            Faults {
                down: true,
                ..Faults::default()
            },
            ErrorClass::Transient,
            "503",
        ),
        (
            "publish.fault.rate-limited",
            Faults {
                rate_limit_rate: 1.0,
                retry_after_secs: 1,
                ..Faults::default()
            },
            ErrorClass::RateLimited,
            "429",
        ),
        (
            "publish.fault.auth",
            Faults {
                unauthorized: true,
                ..Faults::default()
            },
            ErrorClass::Auth,
            "401",
        ),
    ];
    for (n, (name, fault, class, status)) in faults.into_iter().enumerate() {
        sandbox.set_faults(fault);
        let ops = vec![fault_operation(
            format!("acceptance-fault-{n}"),
            spare.as_ref(),
            &listings[0],
            &remote_ids[0],
        )];
        let outcome = publish(kit, &ops).await;
        sandbox.set_faults(Faults::default());
        fault_verdict(&mut kit.report, name, status, class, outcome);
    }
    match reject_field {
        None => kit.report.record(
            "publish.fault.validation",
            Status::Skip,
            "no reject_field in the fixtures' acceptance.json: name a field of the platform's request body for the sandbox to refuse",
        ),
        Some(field) => {
            sandbox.set_faults(Faults {
                reject_fields: vec![field.to_string()],
                ..Faults::default()
            });
            let ops = vec![fault_operation(
                "acceptance-fault-validation".into(),
                spare.as_ref(),
                &listings[0],
                &remote_ids[0],
            )];
            let outcome = publish(kit, &ops).await;
            sandbox.set_faults(Faults::default());
            fault_verdict(&mut kit.report, "publish.fault.validation", "400", ErrorClass::Validation, outcome);
        }
    }

    // Remove the last listing: acknowledged, and no longer listed live.
    let last = listings.len() - 1;
    let remove = vec![operation(
        OperationKind::Remove,
        "acceptance-remove".into(),
        &listings[last],
        Some(remote_ids[last].clone()),
    )];
    let mut problems = Vec::new();
    match publish(kit, &remove).await {
        Ok(r) => {
            if let Err(e) = &r[0] {
                problems.push(describe_error(e));
            }
        }
        Err(e) => problems.push(e),
    }
    if problems.is_empty() {
        match list_all(kit).await {
            Ok(items) => {
                if items.iter().any(|i| {
                    i.stock_id == listings[last].stock_id
                        && matches!(
                            i.state,
                            p::PublishedState::Live | p::PublishedState::Reserved
                        )
                }) {
                    problems.push(format!(
                        "{} is still listed live after remove",
                        listings[last].stock_id
                    ));
                }
            }
            Err(e) => problems.push(e),
        }
    }
    kit.report.verdict(
        "publish.remove",
        "a remove is acknowledged and the listing is no longer live",
        problems,
    );
}

/// The operation sent under a fault: a create of the spare vehicle, or, if
/// there is none, an update of a published one that claims nothing is known
/// to have been published before (so the whole listing is sent).
fn fault_operation(
    key: String,
    spare: Option<&p::Listing>,
    published: &p::Listing,
    remote_id: &str,
) -> p::Operation {
    match spare {
        Some(listing) => operation(OperationKind::Create, key, listing, None),
        None => {
            let mut op = operation(
                OperationKind::Update,
                key,
                published,
                Some(remote_id.to_string()),
            );
            op.previous = None;
            op
        }
    }
}

fn skip_rest(report: &mut Report, why: &str) {
    for name in &API_CHECKS[1..] {
        report.record(name, Status::Skip, why);
    }
}

fn fault_verdict(
    report: &mut Report,
    name: &str,
    status: &str,
    class: ErrorClass,
    outcome: Result<Vec<Result<String, types::PluginError>>, String>,
) {
    match outcome {
        Err(e) => report.record(name, Status::Fail, format!("under HTTP {status}: {e}")),
        Ok(results) => match &results[0] {
            Err(e) if e.class == class => {
                let mut detail = format!("HTTP {status} → {}", describe_error(e));
                if class == ErrorClass::Validation && e.field.is_none() {
                    detail.push_str(" (no field named)");
                }
                report.record(name, Status::Pass, detail)
            }
            Err(e) => report.record(
                name,
                Status::Fail,
                format!(
                    "HTTP {status} should be {class:?}, got {}",
                    describe_error(e)
                ),
            ),
            Ok(id) => report.record(
                name,
                Status::Fail,
                format!("HTTP {status} should be {class:?}, but the operation succeeded ({id})"),
            ),
        },
    }
}
