//! `forecourt pricing ...`: preview the rules, pin a price, apply what is due, show a history.

use super::{money, Pricing, PricingStore};
use crate::cli::{EXIT_OK, EXIT_RUNTIME};
use crate::commands::{operator, ConfigArg};
use crate::store::now_ms;
use clap::{Args, Subcommand};
use std::sync::Arc;

/// `forecourt pricing ...`
#[derive(Debug, Subcommand)]
pub enum PricingCommand {
    /// Show each vehicle's DMS and advertised price, what the rules change now, and the next step.
    Preview {
        #[command(flatten)]
        config: ConfigArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pin a vehicle's price (the rules leave it alone), or release the pin.
    Pin(PinArgs),
    /// Apply the changes due now (the scheduler does this on its own).
    Apply(ConfigArg),
    /// The advertised prices a vehicle has had.
    History {
        #[command(flatten)]
        config: ConfigArg,
        /// Stock id.
        stock_id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `forecourt pricing pin`
#[derive(Debug, Args)]
pub struct PinArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Stock id.
    stock_id: String,
    /// The price in pounds (default: the price advertised now).
    #[arg(long, conflicts_with = "unpin")]
    price: Option<f64>,
    /// Release the pin instead.
    #[arg(long)]
    unpin: bool,
}

fn pricing(
    config: &crate::config::RawConfig,
) -> anyhow::Result<(Pricing, Arc<crate::store::SqliteStore>)> {
    let store = crate::app::open_store(config)?;
    let settings = config
        .pricing
        .as_ref()
        .map(|p| p.settings())
        .unwrap_or_default();
    Ok((Pricing::new(settings, store.clone(), store.clone()), store))
}

/// Run `forecourt pricing ...`.
pub async fn run(cmd: PricingCommand) -> anyhow::Result<u8> {
    match cmd {
        PricingCommand::Preview { config, json } => {
            let (pricing, _) = pricing(&config.load()?)?;
            let rows = pricing.preview(now_ms())?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "settings": pricing.settings(),
                        "vehicles": rows,
                    }))?
                );
                return Ok(EXIT_OK);
            }
            if rows.is_empty() {
                println!("no priced vehicles in stock");
            }
            println!(
                "{:<12} {:<28} {:>5} {:>10} {:>10} {:>10}  next",
                "stock", "vehicle", "days", "DMS", "advertised", "due now"
            );
            for r in &rows {
                let days = r
                    .days_in_stock
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "?".into());
                let advertised = r
                    .advertised_minor
                    .map(|a| money(a, &r.currency))
                    .unwrap_or_else(|| "-".into());
                let next = match (&r.next, r.pinned_minor) {
                    (_, Some(p)) => format!("pinned at {}", money(p, &r.currency)),
                    (Some(n), None) if n.in_days == 0 => format!(
                        "{}% now → {}",
                        n.percent,
                        money(n.price_after_minor, &r.currency)
                    ),
                    (Some(n), None) => format!(
                        "{}% in {} day(s) → {}{}",
                        n.percent,
                        n.in_days,
                        money(n.price_after_minor, &r.currency),
                        if n.held_at_floor { " (floor)" } else { "" }
                    ),
                    (None, None) => "no further rules".into(),
                };
                println!(
                    "{:<12} {:<28} {:>5} {:>10} {:>10} {:>10}  {next}",
                    r.stock_id,
                    r.vehicle.chars().take(28).collect::<String>(),
                    days,
                    money(r.dms_price_minor, &r.currency),
                    advertised,
                    money(r.due_minor, &r.currency),
                );
                for d in &r.due {
                    println!("{:<12} due: {d}", "");
                }
            }
            Ok(EXIT_OK)
        }
        PricingCommand::Pin(args) => {
            let (pricing, _) = pricing(&args.config.load()?)?;
            let now = now_ms();
            let state = if args.unpin {
                pricing.unpin(&args.stock_id, &operator(), now)?
            } else {
                let price = args.price.map(|p| (p * 100.0).round() as i64);
                pricing.pin(&args.stock_id, price, &operator(), now)?
            };
            println!(
                "{}: {} at {}; every platform gets it at the next sync",
                args.stock_id,
                if args.unpin {
                    "unpinned, advertised"
                } else {
                    "pinned"
                },
                money(state.advertised_minor, &state.currency)
            );
            Ok(EXIT_OK)
        }
        PricingCommand::Apply(config) => {
            let (pricing, _) = pricing(&config.load()?)?;
            let report = pricing.sweep(now_ms())?;
            println!(
                "{} vehicle(s) checked, {} repriced; listings follow at the next sync",
                report.vehicles, report.repriced
            );
            Ok(EXIT_OK)
        }
        PricingCommand::History {
            config,
            stock_id,
            json,
        } => {
            let (_, store) = pricing(&config.load()?)?;
            let rows = store.price_history(Some(&stock_id))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(EXIT_OK);
            }
            if rows.is_empty() {
                println!("no price history for {stock_id}");
                return Ok(EXIT_RUNTIME);
            }
            for r in rows {
                let at = jiff::Timestamp::from_millisecond(r.at)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                println!(
                    "{at}  {:>10}  {}",
                    money(r.price_minor, &r.currency),
                    r.reason
                );
            }
            Ok(EXIT_OK)
        }
    }
}
