//! A listing platform built against the frozen 1.0.0 contract, without the
//! SDK: proves a plugin built before contract 1.1.0 runs on a 1.1 host.
//! See README.md.

// Only a component: natively the raw export names (with `:` and `@`) cannot
// be linked into a shared library, and nothing native uses this crate.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({
    path: "../../../wit/versions/1.0.0",
    world: "listing-platform",
    generate_all,
});

use exports::forecourt::plugin::platform::{
    Enquiry, EnquiryPage, Feed, Guest, Listing, Operation, OperationKind, OperationResult,
    PlatformInfo, PlatformKind, PublishedItem, PublishedPage, PublishedState, Transformed,
};
use forecourt::plugin::types::{
    ErrorClass, Person, PluginError, Severity, ValidationIssue, Vehicle,
};
use forecourt::plugin::{kv, log};

struct ContractOneZero;

fn error(message: &str) -> PluginError {
    PluginError {
        class: ErrorClass::Permanent,
        message: message.into(),
        retry_after_ms: None,
        field: None,
    }
}

fn kv_text(key: &str) -> String {
    kv::get(key)
        .ok()
        .flatten()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
}

/// JSON string literal (the guest has no serde).
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Guest for ContractOneZero {
    fn describe() -> PlatformInfo {
        PlatformInfo {
            name: "contract-1-0".into(),
            version: "1.0.0".into(),
            kind: PlatformKind::Api,
            config_schema: r#"{"type":"object"}"#.into(),
            required_fields: vec!["make".into()],
            recommended_fields: vec![],
            max_images: None,
            ideal_images: None,
            max_description_length: None,
            batch_size: 5,
            rate_limit_per_minute: None,
            operations: vec![
                OperationKind::Create,
                OperationKind::Update,
                OperationKind::Remove,
            ],
            feed: None,
        }
    }

    fn transform(_config: String, v: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
        let Some(make) = v.make else {
            return Err(vec![ValidationIssue {
                field: "make".into(),
                severity: Severity::Error,
                message: "a make is required".into(),
            }]);
        };
        let price = v.price.map(|p| p.amount_minor).unwrap_or(0);
        let body = format!(
            "{{\"ref\":{},\"make\":{},\"price_minor\":{price}}}",
            quoted(&v.stock_id),
            quoted(&make)
        );
        Ok(Transformed {
            listing: Listing {
                stock_id: v.stock_id,
                body,
            },
            warnings: vec![],
        })
    }

    fn publish(
        _config: String,
        operations: Vec<Operation>,
    ) -> Result<Vec<OperationResult>, PluginError> {
        log::log(
            log::Level::Info,
            &format!(
                "contract 1.0 plugin publishing {} operations",
                operations.len()
            ),
        );
        let calls = kv_text("publishes").parse::<u32>().unwrap_or(0) + 1;
        kv::set("publishes", calls.to_string().as_bytes()).map_err(|_| error("kv unavailable"))?;
        let mut published: Vec<String> = kv_text("published")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let mut results = Vec::new();
        for op in operations {
            match op.kind {
                OperationKind::Remove => published.retain(|s| *s != op.stock_id),
                _ if !published.contains(&op.stock_id) => published.push(op.stock_id.clone()),
                _ => {}
            }
            results.push(OperationResult {
                idempotency_key: op.idempotency_key,
                outcome: Ok(format!("v1-{}", op.stock_id)),
            });
        }
        kv::set("published", published.join(",").as_bytes())
            .map_err(|_| error("kv unavailable"))?;
        Ok(results)
    }

    fn list_published(
        _config: String,
        _cursor: Option<String>,
    ) -> Result<PublishedPage, PluginError> {
        let items = kv_text("published")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| PublishedItem {
                remote_id: format!("v1-{s}"),
                stock_id: s.to_string(),
                state: PublishedState::Live,
                body: None,
            })
            .collect();
        Ok(PublishedPage {
            items,
            next_cursor: None,
        })
    }

    fn render_feed(_config: String, _listings: Vec<Listing>) -> Result<Feed, PluginError> {
        Err(error("render-feed is not supported by this plugin"))
    }

    fn fetch_enquiries(
        _config: String,
        cursor: Option<String>,
    ) -> Result<EnquiryPage, PluginError> {
        if cursor.is_some() {
            return Ok(EnquiryPage {
                enquiries: vec![],
                next_cursor: cursor,
            });
        }
        Ok(EnquiryPage {
            enquiries: vec![Enquiry {
                id: "E1".into(),
                stock_id: Some("S1".into()),
                remote_id: Some("v1-S1".into()),
                received_at_ms: 1_764_000_000_000,
                customer: Person {
                    name: Some("Test Buyer".into()),
                    email: Some("buyer@example.com".into()),
                    phone: None,
                    address: None,
                },
                message: Some("Is it still available?".into()),
            }],
            next_cursor: Some("1".into()),
        })
    }
}

export!(ContractOneZero);

/// What an SDK-built plugin stamps, written by hand: this guest claims 1.0.0.
#[unsafe(link_section = "forecourt:contract")]
#[used]
static CONTRACT: [u8; 5] = *b"1.0.0";
