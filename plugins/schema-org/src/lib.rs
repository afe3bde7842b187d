//! schema.org JSON-LD for the dealer's own website, as a forecourt
//! feed-file platform.
//!
//! `transform` turns a vehicle into a JSON-LD `Car` document (the listing
//! body: the host serves it for the vehicle's page); `render-feed` writes
//! the index, an `ItemList` of every car, as `vehicles.jsonld`. The logic
//! lives in [`jsonld`], which builds natively; this file only wires it to
//! the contract.

use forecourt_sdk::{
    export_platform, Feed, FeedFormat, Listing, Platform, PlatformInfo, PlatformKind, PluginError,
    Transformed, ValidationIssue, Vehicle,
};

pub mod jsonld;

use jsonld::Config;

/// The plugin: stateless, all behaviour is in [`jsonld`].
pub struct SchemaOrg;

impl Platform for SchemaOrg {
    fn describe() -> PlatformInfo {
        PlatformInfo {
            name: "schema.org Car JSON-LD (dealer website)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PlatformKind::FeedFile,
            config_schema: jsonld::CONFIG_SCHEMA.into(),
            required_fields: ["stock-id", "make", "model"].map(String::from).to_vec(),
            recommended_fields: [
                "price",
                "images",
                "description",
                "mileage",
                "model-year",
                "first-registration",
                "variant",
                "vin",
                "body-style",
                "fuel-type",
                "transmission",
                "drivetrain",
                "colour",
            ]
            .map(String::from)
            .to_vec(),
            // schema.org sets no limits on images or text.
            max_images: None,
            ideal_images: None,
            max_description_length: None,
            // A feed platform: the host renders the whole index at once.
            batch_size: 1,
            rate_limit_per_minute: None,
            operations: vec![],
            feed: Some(FeedFormat {
                content_type: jsonld::CONTENT_TYPE.into(),
                file_name: jsonld::FILE_NAME.into(),
            }),
        }
    }

    fn transform(config: &str, vehicle: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
        let config =
            Config::parse(config).map_err(|e| vec![ValidationIssue::error("config", e)])?;
        jsonld::transform_vehicle(&config, &vehicle)
    }

    fn render_feed(config: &str, listings: Vec<Listing>) -> Result<Feed, PluginError> {
        Config::parse(config).map_err(|e| PluginError::validation("config", e))?;
        let body = jsonld::render(&listings).map_err(PluginError::permanent)?;
        Ok(Feed {
            content_type: jsonld::CONTENT_TYPE.into(),
            file_name: jsonld::FILE_NAME.into(),
            body: body.into_bytes(),
        })
    }
}

export_platform!(SchemaOrg);
