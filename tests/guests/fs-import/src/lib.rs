//! A listing platform that reads a file, so the component really imports
//! `wasi:filesystem`. See README.md.

use forecourt_sdk::{
    export_platform, Listing, OperationKind, Platform, PlatformInfo, PlatformKind, Transformed,
    ValidationIssue, Vehicle,
};

struct FsImport;

impl Platform for FsImport {
    fn describe() -> PlatformInfo {
        PlatformInfo {
            name: "fs-import".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PlatformKind::Api,
            config_schema: r#"{"type":"object"}"#.into(),
            required_fields: vec![],
            recommended_fields: vec![],
            max_images: None,
            ideal_images: None,
            max_description_length: None,
            batch_size: 1,
            rate_limit_per_minute: None,
            operations: vec![OperationKind::Create],
            feed: None,
        }
    }

    fn transform(_config: &str, vehicle: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
        let body = std::fs::read_to_string("/etc/passwd")
            .map_err(|e| vec![ValidationIssue::error("fs", e.to_string())])?;
        Ok(Transformed {
            listing: Listing {
                stock_id: vehicle.stock_id,
                body,
            },
            warnings: vec![],
        })
    }
}

export_platform!(FsImport);
