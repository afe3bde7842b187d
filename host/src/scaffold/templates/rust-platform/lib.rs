//! {{name}}: a forecourt feed-file platform. `transform` renders each vehicle
//! as one JSON object; `render-feed` writes them as JSON Lines, which the host
//! delivers. Made by `forecourt plugin new`; see README.md.

use forecourt_sdk::{
    export_platform, Feed, FeedFormat, Listing, Platform, PlatformInfo, PlatformKind, PluginError,
    Transformed, ValidationIssue, Vehicle,
};

const CONTENT_TYPE: &str = "application/x-ndjson";
const FILE_NAME: &str = "{{name}}.jsonl";

struct Plugin;

fn check_config(config: &str) -> Result<(), String> {
    match serde_json::from_str::<serde_json::Value>(config) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err("the configuration must be a JSON object".into()),
        Err(e) => Err(format!("the configuration is not JSON: {e}")),
    }
}

/// The trimmed text, if there is any.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Platform for Plugin {
    fn describe() -> PlatformInfo {
        PlatformInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PlatformKind::FeedFile,
            config_schema: r#"{"type":"object","additionalProperties":false,"properties":{}}"#.into(),
            required_fields: vec!["make".into(), "model".into(), "price".into()],
            recommended_fields: vec!["images".into(), "mileage".into()],
            max_images: Some(20),
            ideal_images: None,
            max_description_length: None,
            batch_size: 1,
            rate_limit_per_minute: None,
            operations: vec![],
            feed: Some(FeedFormat {
                content_type: CONTENT_TYPE.into(),
                file_name: FILE_NAME.into(),
            }),
        }
    }

    /// Deterministic and offline: the same vehicle always gives the same bytes.
    fn transform(config: &str, v: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
        check_config(config).map_err(|e| vec![ValidationIssue::error("config", e)])?;
        let mut issues = Vec::new();
        if text(&v.make).is_none() {
            issues.push(ValidationIssue::error("make", "a make is required"));
        }
        if text(&v.model).is_none() {
            issues.push(ValidationIssue::error("model", "a model is required"));
        }
        match &v.price {
            Some(p) if p.amount_minor > 0 => {}
            _ => issues.push(ValidationIssue::error("price", "a price above zero is required")),
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        let mut warnings = Vec::new();
        if v.images.is_empty() {
            warnings.push(ValidationIssue::warning("images", "no images"));
        }
        let price = v.price.as_ref().expect("checked above");
        let body = serde_json::json!({
            "id": v.stock_id,
            "title": format!("{} {}", text(&v.make).unwrap_or_default(), text(&v.model).unwrap_or_default()),
            "price_minor": price.amount_minor,
            "currency": price.currency.trim().to_ascii_uppercase(),
            "mileage": v.mileage.as_ref().map(|m| m.value),
            "images": v.images.iter().take(20).map(|i| i.url.clone()).collect::<Vec<_>>(),
        });
        Ok(Transformed {
            listing: Listing {
                stock_id: v.stock_id,
                body: body.to_string(),
            },
            warnings,
        })
    }

    fn render_feed(config: &str, listings: Vec<Listing>) -> Result<Feed, PluginError> {
        check_config(config).map_err(|e| PluginError::validation("config", e))?;
        let body: String = listings.iter().map(|l| format!("{}\n", l.body)).collect();
        Ok(Feed {
            content_type: CONTENT_TYPE.into(),
            file_name: FILE_NAME.into(),
            body: body.into_bytes(),
        })
    }
}

export_platform!(Plugin);
