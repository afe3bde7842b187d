//! The operator commands that work on a configuration: `sync`, `status`,
//! `audit`, `dead-letters`.

use crate::cli::{ConfigError, EXIT_OK, EXIT_RUNTIME};
use crate::config::RawConfig;
use crate::store::audit::Verification;
use crate::store::{now_ms, Store};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `--config`, shared by the commands below.
#[derive(Debug, Args, Clone)]
pub struct ConfigArg {
    /// The configuration file.
    #[arg(
        long,
        short,
        default_value = "forecourt.toml",
        env = "FORECOURT_CONFIG"
    )]
    pub config: PathBuf,
}

impl ConfigArg {
    /// Load and validate the file (exit code 3 on error).
    pub fn load(&self) -> anyhow::Result<RawConfig> {
        RawConfig::load(&self.config).map_err(|e| ConfigError(e.to_string()).into())
    }
}

/// `forecourt sync`
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Run one full cycle (pull, plan, deliver) and exit.
    #[arg(long)]
    pub once: bool,
    /// Plan one cycle and print every operation without sending anything or changing the store.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `forecourt run`
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Validate the configuration and every plugin, then exit.
    #[arg(long)]
    pub check: bool,
    /// Minutes between reconciliations of API platforms.
    #[arg(long, default_value_t = 60)]
    pub reconcile_minutes: u64,
    /// Seconds in-flight work gets to finish after SIGTERM or SIGINT.
    #[arg(long, default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
}

/// `forecourt reconcile`
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Only this platform.
    #[arg(long)]
    pub platform: Option<String>,
    /// Also deliver the corrective operations now.
    #[arg(long)]
    pub deliver: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `forecourt status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `forecourt audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit trail's hash chain; exit 1 if any entry was edited or deleted.
    Verify(ConfigArg),
    /// Show the newest entries.
    Tail {
        #[command(flatten)]
        config: ConfigArg,
        /// How many.
        #[arg(long, short, default_value_t = 20)]
        n: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `forecourt dead-letters ...`
#[derive(Debug, Subcommand)]
pub enum DeadLetterCommand {
    /// List dead letters.
    List {
        #[command(flatten)]
        config: ConfigArg,
        /// Only this platform.
        #[arg(long)]
        platform: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Put a dead letter back in the queue.
    Retry {
        #[command(flatten)]
        config: ConfigArg,
        /// Job id (from `list`).
        id: i64,
    },
    /// Discard a dead letter.
    Discard {
        #[command(flatten)]
        config: ConfigArg,
        /// Job id (from `list`).
        id: i64,
    },
}

/// The audit actor for a change made on the command line: `operator:$USER`.
pub fn operator() -> String {
    format!(
        "operator:{}",
        std::env::var("USER").unwrap_or_else(|_| "cli".into())
    )
}

/// `forecourt sync --once`
pub async fn sync(args: SyncArgs) -> anyhow::Result<u8> {
    if args.dry_run {
        return crate::preview::dry_run(&args.config, args.json).await;
    }
    anyhow::ensure!(
        args.once,
        "`forecourt sync` needs --once (use `forecourt run` for the scheduler)"
    );
    let config = args.config.load()?;
    let app = crate::app::build(&config).await?;
    let started = std::time::Instant::now();
    app.engine
        .set_progress(crate::progress::for_command(args.json));
    let pushes = crate::push::apply_stored(&config, &app.engine).await?;
    if pushes > 0 && !args.json {
        println!("applied {pushes} stored push(es)");
    }
    let report = app.engine.sync_once().await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(EXIT_OK);
    }
    for p in &report.pulls {
        println!(
            "source {:<16} {} page(s): {} new, {} changed, {} unchanged, {} removed, {} row issue(s){}",
            p.source,
            p.pages,
            p.created,
            p.updated,
            p.unchanged,
            p.removed,
            p.row_issues.len(),
            match &p.snapshot {
                Some(crate::store::SnapshotOutcome::Held { present, missing }) =>
                    format!("; SNAPSHOT HELD: it lacks {missing} of {present} vehicles"),
                _ => String::new(),
            }
        );
        for issue in p.row_issues.iter().take(10) {
            println!("    {issue}");
        }
    }
    println!("planned {} vehicle(s)", report.planned);
    for d in &report.deliveries {
        println!(
            "platform {:<16} {} call(s): {} acknowledged, {} to retry, {} dead-lettered{}",
            d.platform,
            d.calls,
            d.done,
            d.retried,
            d.dead,
            d.held
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default()
        );
    }
    println!("cycle took {:.2} s", started.elapsed().as_secs_f64());
    Ok(EXIT_OK)
}

/// `forecourt run`: the scheduler until SIGTERM or SIGINT.
pub async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let config = args.config.load()?;
    let app = crate::app::build(&config).await?;
    let alerting = crate::alerts::for_run(&config, &app)?;
    let push = crate::push::PushPlan::resolve(&config, &app).await?;
    if args.check {
        println!(
            "{}: configuration valid; {} source(s) and {} platform(s) loaded and reviewed",
            args.config.config.display(),
            app.engine.sources().len(),
            app.engine.platforms().len()
        );
        for route in push.iter().flat_map(|p| p.routes()) {
            println!(
                "  source {} receives pushes at POST http://{}/push/{}",
                route.source, route.listen, route.source
            );
        }
        return Ok(EXIT_OK);
    }
    // Platforms fetch served feeds from here while the scheduler runs.
    let _feed_server = crate::transport::setup::start_feed_server(
        &config,
        app.engine.platforms(),
        app.store.clone() as std::sync::Arc<dyn Store>,
        app.secrets.clone(),
    )
    .await?;
    // Pushes are received from the start; stored ones are processed beside the scheduler.
    let push = match push {
        Some(plan) => Some(plan.start().await?),
        None => None,
    };
    tracing::info!(
        sources = app.engine.sources().len(),
        platforms = app.engine.platforms().len(),
        "forecourt running."
    );
    let admin = start_admin(&config, &args.config.config, &app).await?;
    let engine = &app.engine;
    let stopping = || engine.is_stopping();
    {
        let scheduler = crate::alerts::beside(
            alerting.as_ref(),
            engine.run(std::time::Duration::from_secs(
                args.reconcile_minutes.max(1) * 60,
            )),
        );
        let pushes = async {
            if let Some(push) = &push {
                push.process(engine).await;
            }
        };
        // Enquiries run beside the engine and stop with it.
        let enquiries = async {
            if let Some(service) = &app.enquiries {
                service.run(&stopping).await;
            }
        };
        let mut run = std::pin::pin!(async { tokio::join!(scheduler, pushes, enquiries) });
        tokio::select! {
            _ = &mut run => {}
            _ = shutdown_signal() => {
                tracing::info!("Shutting down: no new work is taken; in-flight calls may finish.");
                engine.stop();
                if tokio::time::timeout(std::time::Duration::from_secs(args.shutdown_timeout_secs), &mut run).await.is_err() {
                    tracing::warn!("In-flight work did not finish in time; leased operations will be retried after restart.");
                }
            }
        }
    }
    if let Some(push) = push {
        push.shutdown().await;
    }
    if let Some(admin) = admin {
        admin.shutdown().await;
    }
    Ok(EXIT_OK)
}

/// Start the admin API, metrics and dashboard when `[admin]` is configured.
async fn start_admin(
    config: &RawConfig,
    file: &std::path::Path,
    app: &crate::app::App,
) -> anyhow::Result<Option<crate::admin::AdminServer>> {
    let Some(admin) = &config.admin else {
        tracing::info!("No [admin] section: the admin API, /metrics and the dashboard are off.");
        return Ok(None);
    };
    let options = crate::admin::AdminOptions {
        listen: admin.listen_addr(),
        metrics_require_token: admin.metrics_require_token,
        access_log_retention: std::time::Duration::from_secs(
            u64::from(*admin.access_log_retention_days.get_ref()) * 24 * 3600,
        ),
        ..Default::default()
    };
    let state = crate::admin::AdminState::new(
        app.store.clone(),
        app.engine.clone(),
        options,
        crate::admin::config_view(config, file),
    );
    let server = crate::admin::AdminServer::start(state).await?;
    eprintln!("admin API and dashboard: {}/", server.base_url());
    Ok(Some(server))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// `forecourt reconcile`
pub async fn reconcile(args: ReconcileArgs) -> anyhow::Result<u8> {
    let config = args.config.load()?;
    let app = crate::app::build(&config).await?;
    app.engine
        .set_progress(crate::progress::for_command(args.json));
    let mut reports = Vec::new();
    for platform in app.engine.platforms() {
        if args.platform.as_deref().is_some_and(|p| p != platform.id) {
            continue;
        }
        eprintln!("reconciling {} ...", platform.id);
        let report = app.engine.reconcile(platform).await?;
        let delivery = if args.deliver {
            Some(app.engine.deliver(platform).await?)
        } else {
            None
        };
        reports.push((report, delivery));
    }
    if args.json {
        let json: Vec<_> = reports
            .iter()
            .map(|(r, d)| serde_json::json!({"reconcile": r, "delivery": d}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(EXIT_OK);
    }
    for (r, d) in &reports {
        match &r.skipped {
            Some(why) => println!("{:<16} skipped: {why}", r.platform),
            None => println!(
                "{:<16} {} page(s) read: {} missing, {} stale, {} orphaned; {} vehicle(s) re-planned{}",
                r.platform,
                r.pages,
                r.missing.len(),
                r.stale.len(),
                r.orphaned.len(),
                r.planned,
                d.as_ref().map(|d| format!("; {} corrective operation(s) acknowledged", d.done)).unwrap_or_default()
            ),
        }
    }
    Ok(EXIT_OK)
}

/// `forecourt status`
pub async fn status(args: StatusArgs) -> anyhow::Result<u8> {
    let config = args.config.load()?;
    let store = crate::app::open_store(&config)?;
    let platforms: Vec<String> = config
        .platforms
        .iter()
        .map(|p| p.id.get_ref().clone())
        .collect();
    let counts = store.platform_counts(&platforms)?;
    let discrepancies = store.discrepancies()?;
    let mut sources = Vec::new();
    for s in &config.sources {
        let last = store.last_success(s.id.get_ref())?;
        sources.push(serde_json::json!({
            "source": s.id.get_ref(),
            "last_success_ms": last,
            "minutes_since": last.map(|t| (now_ms() - t) / 60_000),
        }));
    }
    let pushes = crate::push::summary(&config)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "platforms": counts,
                "sources": sources,
                "queue_depth": store.queue_depth(None)?,
                "discrepancies": discrepancies,
                "pushes": pushes,
            }))?
        );
        return Ok(EXIT_OK);
    }
    println!(
        "{:<20} {:>9} {:>8} {:>8} {:>7} {:>5}  health",
        "platform", "published", "pending", "blocked", "queued", "dead"
    );
    for c in &counts {
        let health = match (&c.paused, c.dead) {
            (Some(reason), _) => format!("PAUSED: {reason}"),
            (None, 0) if c.queued == 0 => "ok".into(),
            (None, 0) => "catching up".into(),
            (None, _) => "dead letters need attention".into(),
        };
        println!(
            "{:<20} {:>9} {:>8} {:>8} {:>7} {:>5}  {health}",
            c.platform, c.published, c.pending, c.blocked, c.queued, c.dead
        );
    }
    for s in &sources {
        println!(
            "source {:<16} last pulled {}",
            s["source"].as_str().unwrap_or(""),
            s["minutes_since"]
                .as_i64()
                .map(|m| format!("{m} min ago"))
                .unwrap_or_else(|| "never".into())
        );
    }
    crate::quality::gate::print_blocked(store.as_ref(), &platforms)?;
    for p in pushes.iter().flatten() {
        println!(
            "source {:<16} pushes: {} pending, {} failed (kept in the push inbox)",
            p["source"].as_str().unwrap_or(""),
            p["pending"],
            p["failed"]
        );
    }
    if discrepancies.is_empty() {
        println!("no discrepancies: nothing sold or removed is still advertised");
    } else {
        println!(
            "{} discrepancies (sold or removed, still advertised):",
            discrepancies.len()
        );
        for d in discrepancies.iter().take(20) {
            println!(
                "  {} ({}): still on {}; removed from {}",
                d.stock_id,
                d.reason,
                d.still_listed_on.join(", "),
                if d.removed_from.is_empty() {
                    "none".to_string()
                } else {
                    d.removed_from.join(", ")
                }
            );
        }
    }
    Ok(EXIT_OK)
}

/// `forecourt audit ...`
pub async fn audit(cmd: AuditCommand) -> anyhow::Result<u8> {
    match cmd {
        AuditCommand::Verify(config) => {
            let store = crate::app::open_store(&config.load()?)?;
            match store.audit_verify()? {
                Verification::Intact { entries } => {
                    println!("audit trail intact: {entries} entries, hash chain verified");
                    Ok(EXIT_OK)
                }
                Verification::Broken { seq, reason } => {
                    println!("AUDIT TRAIL BROKEN at entry {seq}: {reason}");
                    Ok(EXIT_RUNTIME)
                }
            }
        }
        AuditCommand::Tail { config, n, json } => {
            let store = crate::app::open_store(&config.load()?)?;
            let entries = store.audit_tail(n)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                for e in entries.iter().rev() {
                    println!(
                        "{:>6} {} {:<9} {:<16} {:<10} {:<12} {:<10} {}",
                        e.seq,
                        e.at,
                        e.entry.kind,
                        e.entry.actor,
                        e.entry.stock_id.as_deref().unwrap_or("-"),
                        e.entry.platform.as_deref().unwrap_or("-"),
                        e.entry.step.as_deref().unwrap_or("-"),
                        e.entry.error_class.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(EXIT_OK)
        }
    }
}

/// `forecourt dead-letters ...`
pub async fn dead_letters(cmd: DeadLetterCommand) -> anyhow::Result<u8> {
    match cmd {
        DeadLetterCommand::List {
            config,
            platform,
            json,
        } => {
            let store = crate::app::open_store(&config.load()?)?;
            let jobs = store.dead_letters(platform.as_deref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else if jobs.is_empty() {
                println!("no dead letters");
            } else {
                for j in &jobs {
                    println!(
                        "{:>6} {:<16} {:<10} {:<8} after {} attempt(s): [{}] {}",
                        j.id,
                        j.platform,
                        j.stock_id,
                        j.kind,
                        j.attempts,
                        j.error_class.as_deref().unwrap_or("?"),
                        j.last_error.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(EXIT_OK)
        }
        DeadLetterCommand::Retry { config, id } => {
            let store = crate::app::open_store(&config.load()?)?;
            if store.retry_dead(id, &operator(), now_ms())? {
                println!("dead letter {id} is back in the queue; the next sync sends it");
                Ok(EXIT_OK)
            } else {
                println!("no dead letter with id {id}");
                Ok(EXIT_RUNTIME)
            }
        }
        DeadLetterCommand::Discard { config, id } => {
            let store = crate::app::open_store(&config.load()?)?;
            if store.discard_dead(id, &operator(), now_ms())? {
                println!("dead letter {id} discarded");
                Ok(EXIT_OK)
            } else {
                println!("no dead letter with id {id}");
                Ok(EXIT_RUNTIME)
            }
        }
    }
}

/// `forecourt report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The last this many days.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `forecourt report`: channel analytics from the store.
pub async fn report(args: ReportArgs) -> anyhow::Result<u8> {
    let store = crate::app::open_store(&args.config.load()?)?;
    let period = crate::report::Period::last_days(args.days.max(1), now_ms());
    let report = crate::report::channel_report(store.as_ref(), period)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::report::render_text(&report));
    }
    Ok(EXIT_OK)
}
