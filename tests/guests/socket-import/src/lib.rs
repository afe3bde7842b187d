//! A listing platform that opens a TCP connection, so the component really
//! imports `wasi:sockets`. See README.md.

use forecourt_sdk::{
    export_platform, Listing, OperationKind, Platform, PlatformInfo, PlatformKind, Transformed,
    ValidationIssue, Vehicle,
};

struct SocketImport;

impl Platform for SocketImport {
    fn describe() -> PlatformInfo {
        PlatformInfo {
            name: "socket-import".into(),
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
        let stream = std::net::TcpStream::connect("10.0.0.1:80")
            .map_err(|e| vec![ValidationIssue::error("socket", e.to_string())])?;
        Ok(Transformed {
            listing: Listing {
                stock_id: vehicle.stock_id,
                body: format!("connected: {:?}", stream.peer_addr().ok()),
            },
            warnings: vec![],
        })
    }
}

export_platform!(SocketImport);
