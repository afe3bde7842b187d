//! `forecourt alerts test` and `forecourt alerts status`.

use super::state::{AlertStore, Told};
use super::Alerting;
use crate::cli::{ConfigError, EXIT_OK, EXIT_RUNTIME};
use crate::commands::ConfigArg;
use crate::store::now_ms;
use clap::Subcommand;

/// `forecourt alerts ...`
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Send a test message through every configured channel (exit 1 if any fails).
    Test {
        #[command(flatten)]
        config: ConfigArg,
        /// Only the channel with this name.
        #[arg(long)]
        channel: Option<String>,
    },
    /// Show the alerts firing as of the last evaluation, and which channels were told.
    Status {
        #[command(flatten)]
        config: ConfigArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run an `alerts` command.
pub async fn run(cmd: AlertsCommand) -> anyhow::Result<u8> {
    match cmd {
        AlertsCommand::Test { config, channel } => test(config, channel).await,
        AlertsCommand::Status { config, json } => status(config, json),
    }
}

async fn test(config: ConfigArg, only: Option<String>) -> anyhow::Result<u8> {
    let raw = config.load()?;
    let store = crate::app::open_store(&raw)?;
    let alerting = Alerting::from_config(&raw, store, super::secrets_for(&raw)?)
        .ok_or_else(|| ConfigError(format!("{}: no [alerts] table", config.config.display())))?;
    if alerting.settings.channels.is_empty() {
        return Err(ConfigError(format!(
            "{}: [alerts] has no [[alerts.channel]] entries",
            config.config.display()
        ))
        .into());
    }
    if let Some(name) = &only {
        if !alerting.settings.channels.iter().any(|c| &c.name == name) {
            return Err(ConfigError(format!("no alert channel is named `{name}`")).into());
        }
    }
    let mut failed = 0;
    for (name, result) in alerting.send_test(only.as_deref()).await {
        match result {
            Ok(()) => println!("{name:<20} sent"),
            Err(error) => {
                failed += 1;
                println!("{name:<20} FAILED: {error}");
            }
        }
    }
    Ok(if failed == 0 { EXIT_OK } else { EXIT_RUNTIME })
}

fn status(config: ConfigArg, json: bool) -> anyhow::Result<u8> {
    let raw = config.load()?;
    let store = crate::app::open_store(&raw)?;
    let records = store.alert_records()?;
    let notices = store.alert_notices()?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "configured": raw.alerts.is_some(),
                "alerts": records,
                "notices": notices,
            }))?
        );
        return Ok(EXIT_OK);
    }
    if raw.alerts.is_none() {
        println!("alerting is not configured (no [alerts] table); see docs/alerting.md");
    }
    let now = now_ms();
    let (firing, cleared): (Vec<_>, Vec<_>) = records.iter().partition(|r| r.resolved_at.is_none());
    if firing.is_empty() {
        println!("no alerts firing");
    }
    for r in &firing {
        println!(
            "FIRING since {} ({}): {}",
            super::message::time(r.firing_since),
            super::rules::duration(now - r.firing_since),
            r.headline
        );
        for line in &r.details {
            println!("    {line}");
        }
        let told: Vec<String> = notices
            .iter()
            .filter(|n| n.key == r.key && n.told == Told::Firing)
            .map(|n| format!("{} at {}", n.channel, super::message::time(n.sent_at)))
            .collect();
        println!(
            "    sent: {}",
            if told.is_empty() {
                "not yet".to_string()
            } else {
                told.join(", ")
            }
        );
    }
    for r in &cleared {
        println!(
            "resolved at {}, recovery message not yet delivered everywhere: {}",
            super::message::time(r.resolved_at.unwrap_or_default()),
            r.headline
        );
    }
    if let Some(last) = records.iter().map(|r| r.updated_at).max() {
        println!("last evaluated with alerts: {}", super::message::time(last));
    }
    Ok(EXIT_OK)
}
