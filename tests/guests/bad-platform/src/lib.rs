//! A platform that breaks the contract on purpose. See README.md.

use std::sync::atomic::{AtomicU64, Ordering};

use forecourt_sdk::{
    export_platform, Listing, Operation, OperationKind, OperationResult, Platform, PlatformInfo,
    PlatformKind, PluginError, PublishedPage, Transformed, ValidationIssue, Vehicle,
};

static CALLS: AtomicU64 = AtomicU64::new(0);

struct BadPlatform;

impl Platform for BadPlatform {
    fn describe() -> PlatformInfo {
        PlatformInfo {
            name: "bad-platform".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PlatformKind::Api,
            config_schema: r#"{"type":"objekt"}"#.into(),
            required_fields: vec!["make".into(), "colour_name".into()],
            recommended_fields: vec![],
            max_images: None,
            ideal_images: None,
            max_description_length: None,
            batch_size: 0,
            rate_limit_per_minute: None,
            operations: vec![OperationKind::Update],
            feed: None,
        }
    }

    fn transform(_config: &str, v: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
        let n = CALLS.fetch_add(1, Ordering::Relaxed);
        if v.description.as_ref().is_some_and(|d| d.len() > 50_000) {
            panic!("description too long for my buffer");
        }
        if v.make.is_none() {
            return Err(vec![ValidationIssue::warning(
                "colour_name",
                "no colour name",
            )]);
        }
        Ok(Transformed {
            listing: Listing {
                stock_id: v.stock_id.clone(),
                body: format!("{{\"call\":{n},\"stock\":{:?}}}", v.stock_id),
            },
            warnings: vec![],
        })
    }

    fn publish(
        _config: &str,
        operations: Vec<Operation>,
    ) -> Result<Vec<OperationResult>, PluginError> {
        Ok(operations
            .into_iter()
            .map(|op| OperationResult {
                idempotency_key: op.idempotency_key,
                outcome: Ok(format!("remote-{}", CALLS.fetch_add(1, Ordering::Relaxed))),
            })
            .collect())
    }

    fn list_published(
        _config: &str,
        _cursor: Option<String>,
    ) -> Result<PublishedPage, PluginError> {
        Ok(PublishedPage {
            items: vec![],
            next_cursor: None,
        })
    }
}

export_platform!(BadPlatform);
