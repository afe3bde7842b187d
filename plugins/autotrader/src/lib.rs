//! Auto Trader Connect (stock API) as a forecourt listing platform.
//!
//! `transform` renders a vehicle as the stock item a create sends;
//! `publish` creates, patches (only what changed), reserves, and takes
//! vehicles off sale (sold, or to the wastebin); `list-published` reads the
//! advertiser's stock back page by page for reconciliation; `fetch-enquiries`
//! reads buyers' enquiries after a cursor.
//!
//! Tokens are the host's business: the manifest's `token-exchange` grant
//! makes the host call `POST /authenticate` with the key and secret, keep
//! the token for its lifetime and add `Authorization: Bearer …`. The plugin
//! never sees key, secret or token.
//!
//! The logic lives in [`config`], [`stock`], [`diff`], [`publish`] and [`enquiries`], which
//! build and are tested natively; this file wires them to the contract and
//! to the SDK's HTTP client.

use std::time::{Duration, Instant};

use forecourt_sdk::http::{Request, Response};
#[cfg(target_arch = "wasm32")]
use forecourt_sdk::log;
use forecourt_sdk::{
    export_platform, EnquiryPage, Operation, OperationKind, OperationResult, Platform,
    PlatformInfo, PlatformKind, PluginError, PublishedPage, Transformed, ValidationIssue, Vehicle,
};

pub mod config;
pub mod diff;
pub mod enquiries;
pub mod publish;
pub mod stock;

use config::Config;
use publish::{Call, Method};

/// Most operations the host passes to one `publish`.
pub const BATCH_SIZE: u32 = 25;
/// Requests per minute assumed polite: Auto Trader publishes no limit and
/// answers 429 when it wants less.
pub const RATE_LIMIT_PER_MINUTE: u32 = 300;
/// Longest wait for one request (connect, first byte, between bytes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Time after which no new request of a call is started, kept well inside
/// the manifest's 30 s `call_timeout_ms` so finished results are not lost.
const CALL_BUDGET: Duration = Duration::from_secs(25);
/// A request is not started with less time than this left in the budget.
const MIN_REQUEST_TIME: Duration = Duration::from_secs(2);

/// The plugin: stateless, all behaviour is in the modules.
pub struct AutoTrader;

impl Platform for AutoTrader {
    fn describe() -> PlatformInfo {
        let fields = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        PlatformInfo {
            name: "Auto Trader".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PlatformKind::Api,
            config_schema: config::CONFIG_SCHEMA.into(),
            // mileage: used vehicles; registration: used road vehicles.
            required_fields: fields(&[
                "stock-id",
                "make",
                "model",
                "price",
                "vehicle-type",
                "mileage",
                "registration",
            ]),
            recommended_fields: fields(&[
                "variant",
                "images",
                "description",
                "features",
                "body-style",
                "fuel-type",
                "transmission",
                "colour",
                "first-registration",
                "model-year",
                "vin",
                "service-history",
                "mot-expiry",
            ]),
            max_images: Some(stock::MAX_IMAGES as u32),
            ideal_images: Some(stock::IDEAL_IMAGES as u32),
            max_description_length: Some(stock::MAX_DESCRIPTION_CHARS as u32),
            batch_size: BATCH_SIZE,
            rate_limit_per_minute: Some(RATE_LIMIT_PER_MINUTE),
            operations: vec![
                OperationKind::Create,
                OperationKind::Update,
                OperationKind::Reserve,
                OperationKind::Unreserve,
                OperationKind::Remove,
            ],
            feed: None,
        }
    }

    fn transform(config: &str, vehicle: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
        let config =
            Config::parse(config).map_err(|e| vec![ValidationIssue::error("config", e)])?;
        stock::transform_vehicle(&config, &vehicle)
    }

    fn publish(
        config: &str,
        operations: Vec<Operation>,
    ) -> Result<Vec<OperationResult>, PluginError> {
        let config = Config::parse(config).map_err(|e| PluginError::validation("config", e))?;
        let started = Instant::now();
        let results = publish::run_batch(&config, &operations, &mut |call| {
            send(&config, call, started)
        });
        // The host's log exists only inside the component.
        #[cfg(target_arch = "wasm32")]
        {
            let mut failed = 0;
            for (op, result) in operations.iter().zip(&results) {
                if let Err(e) = &result.outcome {
                    failed += 1;
                    log::warn!(
                        "{:?} of stock {} failed ({}): {}",
                        op.kind,
                        op.stock_id,
                        e.class,
                        e.message
                    );
                }
            }
            log::info!(
                "publish: {} operations, {} done, {failed} failed, {} ms",
                results.len(),
                results.len() - failed,
                started.elapsed().as_millis()
            );
        }
        Ok(results)
    }

    fn list_published(config: &str, cursor: Option<String>) -> Result<PublishedPage, PluginError> {
        let config = Config::parse(config).map_err(|e| PluginError::validation("config", e))?;
        let page = publish::page_of(cursor.as_deref())?;
        let call = publish::list_call(&config, page);
        let response = send(&config, &call, Instant::now())?;
        publish::published_page(&config, page, &response)
    }

    fn fetch_enquiries(config: &str, cursor: Option<String>) -> Result<EnquiryPage, PluginError> {
        let config = Config::parse(config).map_err(|e| PluginError::validation("config", e))?;
        let call = enquiries::enquiries_call(&config, cursor.as_deref())?;
        let response = send(&config, &call, Instant::now())?;
        enquiries::enquiry_page(&response, cursor.as_deref())
    }
}

/// Send one call with the SDK's client, unless the call's time budget is
/// spent (then the operation is left for a retry rather than risk the host
/// cutting the whole call off and losing the results already obtained).
fn send(config: &Config, call: &Call, started: Instant) -> Result<Response, PluginError> {
    let left = CALL_BUDGET.saturating_sub(started.elapsed());
    if left < MIN_REQUEST_TIME {
        return Err(PluginError::transient(
            "not sent: this publish call used its time budget; retried in the next batch",
        ));
    }
    let url = config.url(&call.path);
    let mut request = match call.method {
        Method::Get => Request::get(url),
        Method::Post => Request::post(url),
        Method::Patch => Request::patch(url),
    }
    .header("accept", "application/json")
    .timeout(left.min(REQUEST_TIMEOUT));
    if let Some(key) = &call.idempotency_key {
        request = request.header(publish::IDEMPOTENCY_HEADER, key);
    }
    if let Some(body) = &call.body {
        request = request.json(body);
    }
    request.send()
}

export_platform!(AutoTrader);
