//! A listing platform claiming contract 2.0.0: the host must refuse it.
//! See README.md.

// Only a component: natively the raw export names (with `:` and `@`) cannot
// be linked into a shared library, and nothing native uses this crate.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({
    path: "wit",
    world: "listing-platform",
    generate_all,
});

use exports::forecourt::plugin::platform::{
    EnquiryPage, Feed, Guest, Listing, Operation, OperationKind, OperationResult, PlatformInfo,
    PlatformKind, PublishedPage, Transformed,
};
use forecourt::plugin::types::{ErrorClass, PluginError, Severity, ValidationIssue, Vehicle};

struct ContractTwoZero;

fn unsupported() -> PluginError {
    PluginError {
        class: ErrorClass::Permanent,
        message: "not supported".into(),
        retry_after_ms: None,
        field: None,
    }
}

impl Guest for ContractTwoZero {
    fn describe() -> PlatformInfo {
        PlatformInfo {
            name: "contract-2-0".into(),
            version: "2.0.0".into(),
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

    fn transform(_config: String, _vehicle: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
        Err(vec![ValidationIssue {
            field: "contract".into(),
            severity: Severity::Error,
            message: "not supported".into(),
        }])
    }

    fn publish(
        _config: String,
        _operations: Vec<Operation>,
    ) -> Result<Vec<OperationResult>, PluginError> {
        Err(unsupported())
    }

    fn list_published(
        _config: String,
        _cursor: Option<String>,
    ) -> Result<PublishedPage, PluginError> {
        Err(unsupported())
    }

    fn render_feed(_config: String, _listings: Vec<Listing>) -> Result<Feed, PluginError> {
        Err(unsupported())
    }

    fn fetch_enquiries(
        _config: String,
        _cursor: Option<String>,
    ) -> Result<EnquiryPage, PluginError> {
        Err(unsupported())
    }
}

export!(ContractTwoZero);

#[unsafe(link_section = "forecourt:contract")]
#[used]
static CONTRACT: [u8; 5] = *b"2.0.0";
