//! A generic JSON webhook as a forecourt API platform: listing operations
//! POSTed to a partner's endpoint, for platforms that have no connector yet.
//!
//! `transform` renders the vehicle in forecourt's neutral JSON shape
//! ([`neutral`]); `publish` POSTs each operation (or each batch) with an
//! `Idempotency-Key` header; `list-published` GETs the partner's view for
//! reconciliation ([`publish`]). The host signs every request body with the
//! operator's key (the manifest's `hmac-signature` grant): the plugin never
//! sees it. The logic builds and is tested natively; this file wires it to
//! the contract, the SDK's HTTP client and the WASI clocks.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use forecourt_sdk::http::{Request, Response};
use forecourt_sdk::{
    export_platform, Operation, OperationKind, OperationResult, Platform, PlatformInfo,
    PlatformKind, PluginError, PublishedPage, Transformed, ValidationIssue, Vehicle,
};

pub mod neutral;
pub mod publish;

use publish::{Config, HttpRequest, Method, Transport};

/// The plugin: stateless, all behaviour is in [`neutral`] and [`publish`].
pub struct Webhook;

/// The real world: the SDK's `wasi:http` client and the WASI clocks.
struct Wasi {
    started: Instant,
}

impl Transport for Wasi {
    fn send(&mut self, request: &HttpRequest) -> Result<Response, PluginError> {
        let method = match request.method {
            Method::Get => forecourt_sdk::http::Method::Get,
            Method::Post => forecourt_sdk::http::Method::Post,
        };
        let mut r = Request::new(method, request.url.clone()).timeout(publish::REQUEST_TIMEOUT);
        for (name, value) in &request.headers {
            r = r.header(name.clone(), value.clone());
        }
        if request.method == Method::Post {
            r = r.body(request.body.clone());
        }
        r.send()
    }

    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis() as u64
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

fn config(json: &str) -> Result<Config, PluginError> {
    Config::parse(json).map_err(|e| PluginError::validation("config", e))
}

impl Platform for Webhook {
    fn describe() -> PlatformInfo {
        PlatformInfo {
            name: "Generic JSON webhook".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PlatformKind::Api,
            config_schema: publish::CONFIG_SCHEMA.into(),
            required_fields: ["stock-id", "make", "model"].map(String::from).to_vec(),
            recommended_fields: [
                "price",
                "images",
                "mileage",
                "description",
                "registration",
                "first-registration",
                "variant",
            ]
            .map(String::from)
            .to_vec(),
            // The partner's limits are unknown: every image and all the text go.
            max_images: None,
            ideal_images: None,
            max_description_length: None,
            batch_size: publish::BATCH_SIZE,
            rate_limit_per_minute: None,
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
        Config::parse(config).map_err(|e| vec![ValidationIssue::error("config", e)])?;
        neutral::transform_vehicle(&vehicle)
    }

    fn publish(
        config_json: &str,
        operations: Vec<Operation>,
    ) -> Result<Vec<OperationResult>, PluginError> {
        let config = config(config_json)?;
        let mut wasi = Wasi {
            started: Instant::now(),
        };
        publish::publish(&config, &operations, &mut wasi)
    }

    fn list_published(
        config_json: &str,
        cursor: Option<String>,
    ) -> Result<PublishedPage, PluginError> {
        let config = config(config_json)?;
        let mut wasi = Wasi {
            started: Instant::now(),
        };
        publish::list_published(&config, cursor.as_deref(), &mut wasi)
    }
}

export_platform!(Webhook);
