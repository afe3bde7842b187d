//! Command-line interface: the argument definitions and one function per command.

use crate::runtime::secrets::{EnvSecrets, SecretStore};
use crate::runtime::{kv::MemoryKv, LoadError, Runtime, RuntimeOptions};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::sync::Arc;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: a runtime failure (a platform, a plugin, the store).
pub const EXIT_RUNTIME: u8 = 1;
/// Exit code: the command line was wrong (clap uses 2 as well).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: configuration, manifest or plugin refused at load.
pub const EXIT_CONFIG: u8 = 3;

/// forecourt: keeps a dealer's stock correct and current on every listing platform.
#[derive(Debug, Parser)]
#[command(name = "forecourt", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options of every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Log filter (overrides RUST_LOG), e.g. `info` or `forecourt=debug`.
    #[arg(long, global = true)]
    pub log: Option<String>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sync sample UK stock through the reference plugins to local outputs and tell the story.
    Demo(crate::demo::DemoArgs),
    /// Inspect and check plugin components.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Measure the plugin runtime and print the figures (reported, not asserted).
    Bench(crate::bench::BenchArgs),
    /// Run the scheduler: pull sources on their intervals, deliver, reconcile (`--check` validates and exits).
    Run(crate::commands::RunArgs),
    /// Pull every source, plan and deliver: one full cycle (`--once`).
    Sync(crate::commands::SyncArgs),
    /// Compare what each platform shows with the store and plan corrections.
    Reconcile(crate::commands::ReconcileArgs),
    /// Per-platform health, queue depth, dead letters and discrepancies.
    Status(crate::commands::StatusArgs),
    /// Verify or show the hash-chained audit trail.
    #[command(subcommand)]
    Audit(crate::commands::AuditCommand),
    /// List, retry or discard operations that could not be delivered.
    #[command(subcommand)]
    DeadLetters(crate::commands::DeadLetterCommand),
    /// Run the local marketplace that emulates the Auto Trader-style API, with fault injection.
    Sandbox(crate::sandbox::SandboxArgs),
    /// Manage admin API tokens (create, list, revoke).
    #[command(subcommand)]
    Admin(crate::admin::command::AdminCommand),
    /// Show exactly what each platform would receive, with validation results and a diff against what is published.
    Preview(crate::preview::PreviewArgs),
    /// Listing completeness per vehicle and platform, aggregated per platform.
    Completeness(crate::preview::CompletenessArgs),
    /// Data-quality rules and operator actions.
    #[command(subcommand)]
    Quality(crate::preview::QualityCommand),
    /// Send a test alert through every channel, or show the alerts firing.
    #[command(subcommand)]
    Alerts(crate::alerts::command::AlertsCommand),
    /// Buyers' enquiries: collect, deliver to the CRM, dead letters, retention.
    #[command(subcommand)]
    Enquiries(crate::enquiries::command::EnquiriesCommand),
    /// Pricing rules: preview, pin a price, apply, history.
    #[command(subcommand)]
    Pricing(crate::pricing::command::PricingCommand),
    /// Channel analytics: enquiries per platform and category, days to sell, price changes.
    Report(crate::commands::ReportArgs),
}

/// `forecourt plugin ...`
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Show a component's world, contract version, imports, exports and grants, and whether they match its manifest.
    Inspect {
        /// The component (`.wasm`).
        component: PathBuf,
        /// Its manifest (default: beside the component, with `.toml`).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also check the signer against this file of trusted publisher keys.
        #[arg(long)]
        trusted: Option<PathBuf>,
    },
    /// Create a working plugin project (Rust, Python or JavaScript) with a manifest, fixtures and a README.
    New(crate::scaffold::NewArgs),
    /// Run the acceptance test kit on a platform plugin: describe, transform over a hostile corpus, publish against the sandbox or render the feed.
    Test(crate::acceptance::TestArgs),
    /// Make a publisher key pair for signing plugins (Ed25519).
    Keygen(crate::signing::KeygenArgs),
    /// Sign a component and its manifest with a publisher key (writes `<id>.sig` beside it).
    Sign(crate::signing::SignArgs),
    /// Check a plugin's signature, and its signer against a list of trusted keys.
    Verify(crate::signing::VerifyArgs),
    /// Load a plugin exactly as the host would (review, compile, instantiate) and call describe().
    Check {
        /// The component (`.wasm`).
        component: PathBuf,
        /// Its manifest (default: beside the component, with `.toml`).
        #[arg(long)]
        manifest: Option<PathBuf>,
    },
}

/// Set up `tracing` on stderr. The demo tells its own story, so it only
/// logs errors unless asked for more.
pub fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let global = &cli.global;
    let default = if matches!(cli.command, Command::Demo(_)) {
        "error"
    } else {
        "warn"
    };
    let filter = global
        .log
        .as_deref()
        .map(EnvFilter::new)
        .unwrap_or_else(|| {
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match global.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// A configuration problem: exit code 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The exit code for an error that ended a command.
pub fn exit_code_for(error: &anyhow::Error) -> u8 {
    let config = error.chain().any(|e| {
        e.is::<ConfigError>()
            || e.is::<LoadError>()
            || e.is::<crate::manifest::ManifestError>()
            || e.is::<crate::config::ConfigError>()
            || e.is::<crate::signing::TrustError>()
    });
    if config {
        EXIT_CONFIG
    } else {
        EXIT_RUNTIME
    }
}

/// A runtime for one-off commands: in-memory key-value state, secrets from the environment.
pub fn simple_runtime(cache_dir: Option<PathBuf>) -> anyhow::Result<Runtime> {
    Runtime::new(RuntimeOptions {
        cache_dir,
        kv: Arc::new(MemoryKv::default()),
        secrets: Arc::new(EnvSecrets) as Arc<dyn SecretStore>,
        pooling: true,
    })
}

/// Run one command; the `u8` is the exit code.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Run(args) => crate::commands::run(args).await,
        Command::Sync(args) => crate::commands::sync(args).await,
        Command::Status(args) => crate::commands::status(args).await,
        Command::Reconcile(args) => crate::commands::reconcile(args).await,
        Command::Audit(cmd) => crate::commands::audit(cmd).await,
        Command::DeadLetters(cmd) => crate::commands::dead_letters(cmd).await,
        Command::Sandbox(args) => crate::sandbox::run(args).await,
        Command::Admin(cmd) => crate::admin::command::run(cmd).await,
        Command::Preview(args) => crate::preview::preview(args).await,
        Command::Completeness(args) => crate::preview::completeness(args).await,
        Command::Quality(cmd) => crate::preview::quality(cmd).await,
        Command::Alerts(cmd) => crate::alerts::command::run(cmd).await,
        Command::Plugin(PluginCommand::Test(args)) => crate::acceptance::run(args).await,
        Command::Plugin(PluginCommand::New(args)) => crate::scaffold::run(args),
        Command::Plugin(PluginCommand::Keygen(args)) => crate::signing::keygen(args),
        Command::Plugin(PluginCommand::Sign(args)) => crate::signing::sign(args),
        Command::Plugin(PluginCommand::Verify(args)) => crate::signing::verify(args),
        Command::Enquiries(cmd) => crate::enquiries::command::run(cmd).await,
        Command::Pricing(cmd) => crate::pricing::command::run(cmd).await,
        Command::Report(args) => crate::commands::report(args).await,
        Command::Plugin(PluginCommand::Inspect {
            component,
            manifest,
            json,
            trusted,
        }) => {
            let trusted = trusted
                .as_deref()
                .map(crate::signing::read_trusted_file)
                .transpose()?;
            let report = crate::inspect::inspect_with_trust(
                &component,
                manifest.as_deref(),
                trusted.as_ref(),
            )?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            Ok(if report.verdict.is_ok() {
                EXIT_OK
            } else {
                EXIT_CONFIG
            })
        }
        Command::Plugin(PluginCommand::Check {
            component,
            manifest,
        }) => {
            let runtime = simple_runtime(None)?;
            let plugin = runtime.load(&component, manifest.as_deref(), Default::default())?;
            match plugin.world() {
                crate::contract::World::ListingPlatform => {
                    let info = plugin.platform_info().await?;
                    println!(
                        "ok: {} {} ({:?} platform, batch size {}, contract {})",
                        info.name,
                        info.version,
                        info.kind,
                        info.batch_size,
                        plugin.contract_version()
                    );
                }
                crate::contract::World::DmsSource => {
                    let info = plugin.source_info().await?;
                    println!(
                        "ok: {} {} (source, incremental {}, push {}, contract {})",
                        info.name,
                        info.version,
                        info.incremental,
                        info.push,
                        plugin.contract_version()
                    );
                }
                crate::contract::World::Crm => {
                    let info = plugin.crm_info().await?;
                    println!(
                        "ok: {} {} (crm, {}, batch size {}, contract {})",
                        info.name,
                        info.version,
                        info.content_type,
                        info.batch_size,
                        plugin.contract_version()
                    );
                }
                crate::contract::World::Enricher => {
                    let info = plugin.enricher_info().await?;
                    println!(
                        "ok: {} {} (enricher of {}, contract {})",
                        info.name,
                        info.version,
                        info.fields.join(", "),
                        plugin.contract_version()
                    );
                }
            }
            Ok(EXIT_OK)
        }
    }
}
