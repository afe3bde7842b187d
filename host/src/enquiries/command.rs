//! `forecourt enquiries ...`: one cycle by hand, the list, CRM dead letters,
//! resuming a paused target, and retention on demand.

use super::{EnquiryQuery, EnquiryStore};
use crate::cli::{ConfigError, EXIT_OK, EXIT_RUNTIME};
use crate::commands::{operator, ConfigArg};
use crate::store::{now_ms, Store};
use clap::{Args, Subcommand};

/// `forecourt enquiries ...`
#[derive(Debug, Subcommand)]
pub enum EnquiriesCommand {
    /// Pull enquiries from the platforms, deliver them to every CRM target, apply retention: one cycle.
    Sync {
        #[command(flatten)]
        config: ConfigArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List enquiries, newest first (buyers' details only with --personal-data).
    List(ListArgs),
    /// CRM deliveries that could not be made.
    #[command(subcommand)]
    DeadLetters(DeadLetterCommand),
    /// Resume delivery to a CRM target paused because it refused the credentials.
    Resume {
        #[command(flatten)]
        config: ConfigArg,
        /// The `[[crm]]` id.
        target: String,
    },
    /// Delete the personal data of enquiries older than `retention_days` now.
    Purge(ConfigArg),
}

/// `forecourt enquiries list`
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Only this platform.
    #[arg(long)]
    platform: Option<String>,
    /// Only this vehicle.
    #[arg(long)]
    stock_id: Option<String>,
    /// How many.
    #[arg(long, short, default_value_t = 50)]
    n: usize,
    /// Show the buyers' names, contact details and messages (personal data).
    #[arg(long)]
    personal_data: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `forecourt enquiries dead-letters ...`
#[derive(Debug, Subcommand)]
pub enum DeadLetterCommand {
    /// List dead deliveries.
    List {
        #[command(flatten)]
        config: ConfigArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Put a dead delivery back in the queue.
    Retry {
        #[command(flatten)]
        config: ConfigArg,
        /// Delivery id (from `list`).
        id: i64,
    },
    /// Discard a dead delivery.
    Discard {
        #[command(flatten)]
        config: ConfigArg,
        /// Delivery id (from `list`).
        id: i64,
    },
}

/// Run `forecourt enquiries ...`.
pub async fn run(cmd: EnquiriesCommand) -> anyhow::Result<u8> {
    match cmd {
        EnquiriesCommand::Sync { config, json } => {
            let app = crate::app::build(&config.load()?).await?;
            let Some(service) = &app.enquiries else {
                return Err(ConfigError(
                    "no [enquiries] or [[crm]] section in the configuration".into(),
                )
                .into());
            };
            let report = service.cycle().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(EXIT_OK);
            }
            for pull in &report.pulls {
                match pull {
                    Ok(p) => println!(
                        "pulled   {:<16} {} page(s): {} new, {} already known, {} refused",
                        p.platform,
                        p.pages,
                        p.stored,
                        p.duplicates,
                        p.refused.len()
                    ),
                    Err(e) => println!("pull failed: {e}"),
                }
            }
            for d in &report.deliveries {
                println!(
                    "crm      {:<16} {} delivered, {} to retry, {} dead-lettered{}",
                    d.target,
                    d.delivered,
                    d.retried,
                    d.dead,
                    d.held
                        .as_deref()
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default()
                );
            }
            println!(
                "retention: personal data of {} enquiry(ies) deleted",
                report.purged
            );
            Ok(EXIT_OK)
        }
        EnquiriesCommand::List(args) => {
            let store = crate::app::open_store(&args.config.load()?)?;
            let enquiries = store.enquiries(&EnquiryQuery {
                platform: args.platform.clone(),
                stock_id: args.stock_id.clone(),
                since_ms: None,
                limit: Some(args.n),
            })?;
            if args.json {
                let rows: Vec<serde_json::Value> = enquiries
                    .iter()
                    .map(|e| {
                        let mut v = serde_json::to_value(e).expect("enquiries serialise");
                        if !args.personal_data {
                            v["customer"] = serde_json::Value::Null;
                            v["message"] = serde_json::Value::Null;
                        }
                        v["deliveries"] =
                            serde_json::to_value(store.deliveries_of(e.id).unwrap_or_default())
                                .expect("jobs serialise");
                        v
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(EXIT_OK);
            }
            if enquiries.is_empty() {
                println!("no enquiries");
            }
            for e in &enquiries {
                let deliveries = store
                    .deliveries_of(e.id)?
                    .iter()
                    .map(|d| format!("{}:{}", d.target, d.state))
                    .collect::<Vec<_>>()
                    .join(" ");
                println!(
                    "{} {:<12} {:<10} {:<5} {}{}",
                    e.uid,
                    e.platform,
                    e.stock_id.as_deref().unwrap_or("-"),
                    e.via,
                    deliveries,
                    if e.purged_at.is_some() {
                        " (personal data deleted)"
                    } else {
                        ""
                    }
                );
                if args.personal_data {
                    if let Some(c) = &e.customer {
                        println!(
                            "    {} <{}> {}",
                            c.name.as_deref().unwrap_or("(no name)"),
                            c.email.as_deref().unwrap_or("no e-mail"),
                            c.phone.as_deref().unwrap_or("")
                        );
                    }
                    if let Some(m) = &e.message {
                        println!("    \"{m}\"");
                    }
                }
            }
            Ok(EXIT_OK)
        }
        EnquiriesCommand::DeadLetters(DeadLetterCommand::List { config, json }) => {
            let store = crate::app::open_store(&config.load()?)?;
            let dead = store.delivery_dead_letters(None)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&dead)?);
            } else if dead.is_empty() {
                println!("no dead letters");
            } else {
                for d in &dead {
                    println!(
                        "{:>6} {:<16} {} after {} attempt(s): [{}] {}",
                        d.id,
                        d.target,
                        d.uid,
                        d.attempts,
                        d.error_class.as_deref().unwrap_or("?"),
                        d.last_error.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(EXIT_OK)
        }
        EnquiriesCommand::DeadLetters(DeadLetterCommand::Retry { config, id }) => {
            let store = crate::app::open_store(&config.load()?)?;
            if store.retry_delivery(id, &operator(), now_ms())? {
                println!("delivery {id} is back in the queue");
                Ok(EXIT_OK)
            } else {
                println!("no dead delivery with id {id}");
                Ok(EXIT_RUNTIME)
            }
        }
        EnquiriesCommand::DeadLetters(DeadLetterCommand::Discard { config, id }) => {
            let store = crate::app::open_store(&config.load()?)?;
            if store.discard_delivery(id, &operator(), now_ms())? {
                println!("delivery {id} discarded");
                Ok(EXIT_OK)
            } else {
                println!("no dead delivery with id {id}");
                Ok(EXIT_RUNTIME)
            }
        }
        EnquiriesCommand::Resume { config, target } => {
            let config = config.load()?;
            if !config.crm.iter().any(|c| c.id.get_ref() == &target) {
                return Err(ConfigError(format!("no [[crm]] target `{target}`")).into());
            }
            let store = crate::app::open_store(&config)?;
            store.set_paused(&target, None, now_ms())?;
            println!("delivery to {target} resumed");
            Ok(EXIT_OK)
        }
        EnquiriesCommand::Purge(config) => {
            let config = config.load()?;
            let days = config
                .enquiries
                .as_ref()
                .map(|e| *e.retention_days.get_ref())
                .unwrap_or(90);
            let store = crate::app::open_store(&config)?;
            let now = now_ms();
            let n = store.purge_enquiries(now - i64::from(days) * 86_400_000, now)?;
            println!("personal data of {n} enquiry(ies) older than {days} days deleted");
            Ok(EXIT_OK)
        }
    }
}
