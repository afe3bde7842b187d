//! Google Merchant Center vehicle ads (United Kingdom) as a forecourt
//! feed-file platform.
//!
//! `transform` turns a vehicle into a Google item (the listing body is the
//! item as JSON); `render-feed` writes the items as a TSV or RSS 2.0 XML file
//! the host uploads. The logic lives in [`feed`], which builds natively; this
//! file only wires it to the contract.

use forecourt_sdk::{
    export_platform, Feed, FeedFormat, Listing, Platform, PlatformInfo, PlatformKind, PluginError,
    Transformed, ValidationIssue, Vehicle,
};

pub mod feed;

use feed::{Config, Format};

/// The plugin: stateless, all behaviour is in [`feed`].
pub struct GoogleVehicleAds;

impl Platform for GoogleVehicleAds {
    fn describe() -> PlatformInfo {
        let default = Format::default();
        PlatformInfo {
            name: "Google vehicle ads (UK)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PlatformKind::FeedFile,
            config_schema: feed::CONFIG_SCHEMA.into(),
            required_fields: ["stock-id", "make", "model", "price", "images", "mileage"]
                .map(String::from)
                .to_vec(),
            recommended_fields: [
                "model-year",
                "first-registration",
                "variant",
                "trim",
                "description",
                "colour",
                "fuel-type",
                "body-style",
            ]
            .map(String::from)
            .to_vec(),
            max_images: Some(feed::MAX_IMAGES as u32),
            ideal_images: None,
            max_description_length: Some(feed::MAX_DESCRIPTION_CHARS as u32),
            batch_size: 1,
            rate_limit_per_minute: None,
            operations: vec![],
            // The configured format decides the real type and name; each
            // rendered feed carries its own.
            feed: Some(FeedFormat {
                content_type: default.content_type().into(),
                file_name: default.file_name().into(),
            }),
        }
    }

    fn transform(config: &str, vehicle: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
        let config =
            Config::parse(config).map_err(|e| vec![ValidationIssue::error("config", e)])?;
        feed::transform_vehicle(&config, &vehicle)
    }

    fn render_feed(config: &str, listings: Vec<Listing>) -> Result<Feed, PluginError> {
        let config = Config::parse(config).map_err(|e| PluginError::validation("config", e))?;
        let (format, body) = feed::render(&config, &listings).map_err(PluginError::permanent)?;
        Ok(Feed {
            content_type: format.content_type().into(),
            file_name: format.file_name().into(),
            body: body.into_bytes(),
        })
    }
}

export_platform!(GoogleVehicleAds);
