//! Meta (Facebook/Instagram) automotive inventory catalogue as a forecourt
//! feed-file platform.
//!
//! `transform` turns a vehicle into a Meta catalogue item (the listing body
//! is the item as JSON, in Meta's nested shape); `render-feed` writes the
//! items as the CSV file Meta's catalogue fetches on a schedule. The logic
//! lives in [`catalog`], which builds natively; this file only wires it to
//! the contract.

use forecourt_sdk::{
    export_platform, Feed, FeedFormat, Listing, Platform, PlatformInfo, PlatformKind, PluginError,
    Transformed, ValidationIssue, Vehicle,
};

pub mod catalog;

use catalog::Config;

/// The plugin: stateless, all behaviour is in [`catalog`].
pub struct MetaCatalog;

impl Platform for MetaCatalog {
    fn describe() -> PlatformInfo {
        PlatformInfo {
            name: "Meta vehicle catalogue (Facebook/Instagram)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PlatformKind::FeedFile,
            config_schema: catalog::CONFIG_SCHEMA.into(),
            required_fields: [
                "stock-id",
                "make",
                "model",
                "model-year",
                "colour",
                "price",
                "mileage",
                "images",
            ]
            .map(String::from)
            .to_vec(),
            recommended_fields: [
                "description",
                "registration",
                "vin",
                "variant",
                "trim",
                "body-style",
                "fuel-type",
                "transmission",
                "drivetrain",
                "date-in-stock",
            ]
            .map(String::from)
            .to_vec(),
            max_images: Some(catalog::MAX_IMAGES as u32),
            ideal_images: None,
            max_description_length: Some(catalog::MAX_DESCRIPTION_CHARS as u32),
            // A feed platform: the host renders the whole file at once.
            batch_size: 1,
            rate_limit_per_minute: None,
            operations: vec![],
            feed: Some(FeedFormat {
                content_type: catalog::CONTENT_TYPE.into(),
                file_name: catalog::FILE_NAME.into(),
            }),
        }
    }

    fn transform(config: &str, vehicle: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
        let config =
            Config::parse(config).map_err(|e| vec![ValidationIssue::error("config", e)])?;
        catalog::transform_vehicle(&config, &vehicle)
    }

    fn render_feed(config: &str, listings: Vec<Listing>) -> Result<Feed, PluginError> {
        Config::parse(config).map_err(|e| PluginError::validation("config", e))?;
        let body = catalog::render(&listings).map_err(PluginError::permanent)?;
        Ok(Feed {
            content_type: catalog::CONTENT_TYPE.into(),
            file_name: catalog::FILE_NAME.into(),
            body: body.into_bytes(),
        })
    }
}

export_platform!(MetaCatalog);
