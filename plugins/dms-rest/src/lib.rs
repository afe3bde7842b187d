//! A forecourt DMS source that polls a JSON REST DMS API for vehicles
//! updated since a cursor, one page per `pull`.
//!
//! The API key never reaches the plugin: the host injects it into every
//! request to the origins of the manifest's `[[http]]` list. Each record
//! becomes an upsert (sold vehicles included, with status `sold`) or, when
//! the API marks it deleted, a remove; a record that cannot be used becomes
//! a row issue and never stops the others. HTTP failures map to the
//! contract's error classes (5xx transient, 429 rate-limited with
//! `Retry-After`, 401/403 auth), and since nothing of a failed page is
//! returned, the cursor never passes a vehicle the host has not stored.
//!
//! The logic builds natively ([`poll`], [`cursor`], [`response`], [`time`],
//! [`config`]); this file wires it to the contract and the SDK's HTTP
//! client. `docs/plugins/dms-rest.md` describes the behaviour.

use forecourt_sdk::{export_source, PluginError, PullPage, PullRequest, Source, SourceInfo};

pub mod config;
pub mod cursor;
pub mod poll;
pub mod response;
pub mod time;

/// The plugin: all state is in the cursor the host keeps.
pub struct DmsRest;

/// The SDK's HTTP client (through the host's egress, credentials injected there).
struct Http;

impl poll::Fetch for Http {
    fn get(&mut self, url: &str) -> Result<forecourt_sdk::http::Response, PluginError> {
        forecourt_sdk::http::Request::get(url)
            .header("accept", "application/json")
            .timeout(std::time::Duration::from_secs(30))
            .send()
    }
}

impl Source for DmsRest {
    fn describe() -> SourceInfo {
        SourceInfo {
            name: "JSON REST DMS".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: config::CONFIG_SCHEMA.into(),
            incremental: true,
            push: false,
            needs_document: false,
        }
    }

    fn pull(request: PullRequest) -> Result<PullPage, PluginError> {
        if request.document.is_some() {
            return Err(PluginError::validation(
                "document",
                "this source reads a REST API; remove `document` from its configuration",
            ));
        }
        poll::pull(&request.config, request.cursor.as_deref(), &mut Http)
    }
}

export_source!(DmsRest);
