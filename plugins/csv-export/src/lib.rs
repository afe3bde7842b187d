//! A forecourt DMS source that parses a dealer-management-system stock export
//! (CSV or TSV) into canonical vehicles, with full-snapshot semantics.
//!
//! The host fetches the file (watched directory, HTTP URL or SFTP pickup) and
//! hands its bytes to `pull` as `pull-request.document`; this plugin has no
//! filesystem and no network access. Every usable row becomes an upsert,
//! every unusable one a row issue; a file that cannot be read at all is a
//! `validation` error on `document` so the host changes nothing.
//!
//! The logic lives in modules that build natively ([`parse`], [`decode`],
//! [`config`], and the SDK's [`normalise`] and [`fields`]); this file only
//! wires them to the contract. `docs/plugins/csv-export.md` describes the behaviour.

use forecourt_sdk::{export_source, PluginError, PullPage, PullRequest, Source, SourceInfo};

pub mod config;
pub mod decode;
// UK normalisation and the field vocabulary live in the SDK, shared with the
// other DMS sources (dms-rest, dms-webhook).
pub use forecourt_sdk::{fields, normalise};
pub mod parse;

/// The plugin: stateless, all behaviour is in [`parse`].
pub struct CsvExport;

impl Source for CsvExport {
    fn describe() -> SourceInfo {
        SourceInfo {
            name: "DMS stock export (CSV/TSV)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: config::CONFIG_SCHEMA.into(),
            incremental: false,
            push: false,
            needs_document: true,
        }
    }

    fn pull(request: PullRequest) -> Result<PullPage, PluginError> {
        // Full snapshot every time: the cursor is not used.
        let result = parse::pull_with_stats(&request.config, request.document);
        #[cfg(target_arch = "wasm32")]
        match &result {
            Ok((page, stats)) => forecourt_sdk::log::info(&format!(
                "export read: {} records ({}, delimiter {:?}), {} vehicles, {} row issues",
                stats.records,
                stats.encoding.name(),
                char::from(stats.delimiter),
                page.changes.len(),
                page.issues.len()
            )),
            Err(e) => forecourt_sdk::log::warn(&format!("export refused: {}", e.message)),
        }
        result.map(|(page, _)| page)
    }
}

export_source!(CsvExport);
