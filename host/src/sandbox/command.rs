//! `forecourt sandbox`: run the sandbox marketplace until Ctrl-C.

use super::{Faults, Sandbox, SandboxConfig};
use crate::cli::{ConfigError, EXIT_OK};
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;

/// Options of `forecourt sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8700")]
    pub listen: SocketAddr,
    /// An advertiser (dealer) id on the integration; repeat for several.
    #[arg(long = "advertiser", default_value = "10008899")]
    pub advertisers: Vec<String>,
    /// API key clients authenticate with.
    #[arg(long, default_value = "sandbox-key")]
    pub key: String,
    /// API secret clients authenticate with.
    #[arg(long, default_value = "sandbox-secret")]
    pub secret: String,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 900)]
    pub token_lifetime_secs: u64,
    /// Share (0..1) of stock calls answered 503.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Share (0..1) of stock calls answered 429.
    #[arg(long, default_value_t = 0.0)]
    pub rate_limit_rate: f64,
    /// Retry-After seconds sent with a 429.
    #[arg(long, default_value_t = 1)]
    pub retry_after_secs: u64,
    /// Milliseconds added to every stock call.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Share (0..1) of stock calls that hang, then drop the connection.
    #[arg(long, default_value_t = 0.0)]
    pub timeout_rate: f64,
    /// How long a timed-out call hangs, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub hang_ms: u64,
    /// A dotted field path (e.g. vehicle.colour) refused with 400 on create and patch; repeatable.
    #[arg(long = "reject-field")]
    pub reject_fields: Vec<String>,
    /// Seed for fault decisions and stock ids.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also run the local DMS API that the dms-rest source polls.
    #[arg(long)]
    pub dms: bool,
    /// Where the local DMS API listens.
    #[arg(long, default_value = "127.0.0.1:8710")]
    pub dms_listen: SocketAddr,
    /// API key the local DMS accepts (as X-Api-Key or a bearer token).
    #[arg(long, default_value = "dms-sandbox-key")]
    pub dms_key: String,
    /// Vehicles of sample UK stock the local DMS starts with.
    #[arg(long, default_value_t = 25)]
    pub dms_vehicles: usize,
    /// Push each new buyer's enquiry to this signed webhook (a forecourt enquiry webhook URL).
    #[arg(long, requires = "enquiry_webhook_secret")]
    pub enquiry_webhook: Option<String>,
    /// The key enquiry pushes are signed with (HMAC-SHA256).
    #[arg(long)]
    pub enquiry_webhook_secret: Option<String>,
}

impl SandboxArgs {
    /// The sandbox these options describe.
    pub fn config(&self) -> SandboxConfig {
        SandboxConfig {
            listen: self.listen,
            advertisers: self.advertisers.clone(),
            credentials: vec![(self.key.clone(), self.secret.clone())],
            token_lifetime: Duration::from_secs(self.token_lifetime_secs),
            faults: Faults {
                error_rate: self.error_rate,
                rate_limit_rate: self.rate_limit_rate,
                retry_after_secs: self.retry_after_secs,
                latency_ms: self.latency_ms,
                timeout_rate: self.timeout_rate,
                hang_ms: self.hang_ms,
                reject_fields: self.reject_fields.clone(),
                ..Faults::default()
            },
            seed: self.seed,
        }
    }
}

/// Run `forecourt sandbox`.
pub async fn run(args: SandboxArgs) -> anyhow::Result<u8> {
    let config = args.config();
    config
        .faults
        .check()
        .map_err(|e| ConfigError(e.replace('_', "-")))?;
    let sandbox = Sandbox::start(config).await?;
    if let (Some(url), Some(secret)) = (&args.enquiry_webhook, &args.enquiry_webhook_secret) {
        sandbox.set_enquiry_webhook(Some(super::EnquiryWebhook {
            url: url.clone(),
            secret: secret.clone(),
        }));
    }
    let url = sandbox.base_url();
    println!("forecourt sandbox marketplace on {url}");
    println!("  advertisers   {}", args.advertisers.join(", "));
    println!("  credentials   key={} secret={}", args.key, args.secret);
    println!("  token         POST {url}/authenticate");
    println!("  stock         POST|GET {url}/stock?advertiserId=…  GET|PATCH {url}/stock/{{stockId}}?advertiserId=…");
    println!("  control       GET {url}/_sandbox/stats");
    println!("                GET|PUT|PATCH {url}/_sandbox/faults");
    println!("                POST {url}/_sandbox/revoke-tokens");
    println!("                POST {url}/_sandbox/reset");
    println!("                GET {url}/_sandbox/stock?advertiserId=…");
    println!("  enquiries     GET {url}/enquiries?advertiserId=…&pageSize=…&after=…");
    println!("                POST {url}/_sandbox/enquiries  (add a buyer's enquiry)");
    let dms = if args.dms {
        let dms = crate::dms_sandbox::DmsSandbox::start(crate::dms_sandbox::DmsConfig {
            listen: args.dms_listen,
            api_keys: vec![args.dms_key.clone()],
            seed: args.seed,
        })
        .await?;
        for vehicle in crate::sample::sample_stock(args.dms_vehicles, args.seed) {
            dms.upsert(&vehicle);
        }
        let base = dms.base_url();
        let control = format!("http://{}", dms.addr());
        println!("local DMS API on {base} ({} vehicles)", dms.live_count());
        println!(
            "  key           X-Api-Key: {0}  or  Authorization: Bearer {0}",
            args.dms_key
        );
        println!(
            "  stock         GET {base}/vehicles?updated_since=…&page=…&per_page=…  or  ?cursor=…"
        );
        println!("  control       PUT|DELETE {control}/_dms/vehicles/{{id}}  POST {control}/_dms/vehicles/{{id}}/sold");
        println!("                PUT {control}/_dms/faults  GET {control}/_dms/stats  POST {control}/_dms/reset");
        Some(dms)
    } else {
        None
    };
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    let stats = sandbox.stats();
    sandbox.shutdown().await;
    if let Some(dms) = dms {
        dms.shutdown().await;
    }
    println!("stopped; {}", serde_json::to_string(&stats)?);
    Ok(EXIT_OK)
}
