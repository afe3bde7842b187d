//! A forecourt DMS source that parses a dealer-management-system stock export
//! (CSV or TSV) into canonical vehicles, with full-snapshot semantics.
//!
//! The host fetches the file (watched directory, HTTP URL or SFTP pickup) and
//! hands its bytes to `pull` as `pull-request.document`; this plugin has no
//! filesystem and no network access. Every usable row becomes an upsert,
//! every unusable one a row issue; a file that cannot be read at all is a
//! `validation` error on `document` so the host changes nothing.
//! `pull-snapshot` (world `dms-snapshot-source`) does the same but reports
//! the rows the host already holds, by their digest, without building them.
//!
//! The logic lives in modules that build natively ([`parse`], [`columns`], [`lines`],
//! [`snapshot`], [`decode`], [`config`], and the SDK's [`normalise`] and
//! [`fields`]); this file only wires them to the contract.
//! `docs/plugins/csv-export.md` describes the behaviour.

use forecourt_sdk::{
    export_snapshot_source, KnownRow, PluginError, PullPage, PullRequest, SnapshotPage,
    SnapshotSource, Source, SourceInfo,
};

pub mod columns;
pub mod config;
pub mod decode;
pub mod lines;
// UK normalisation and the field vocabulary live in the SDK, shared with the
// other DMS sources (dms-rest, dms-webhook).
pub use forecourt_sdk::{fields, normalise};
pub mod parse;
pub mod snapshot;

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
        let parsed = parse::parse(&request.config, request.document, &[]);
        log(&parsed);
        parsed.map(|p| p.page)
    }
}

impl SnapshotSource for CsvExport {
    fn pull_snapshot(
        request: PullRequest,
        known: Vec<KnownRow>,
    ) -> Result<SnapshotPage, PluginError> {
        let parsed = parse::parse(&request.config, request.document, &known);
        log(&parsed);
        parsed.map(|p| SnapshotPage {
            page: p.page,
            digests: p.digests,
            unchanged: p.unchanged,
        })
    }
}

/// The one log line of a pull.
fn log(result: &Result<parse::Parsed, PluginError>) {
    #[cfg(target_arch = "wasm32")]
    match result {
        Ok(p) => forecourt_sdk::log::info(&format!(
            "export read: {} records, {} of them parsed ({}, delimiter {:?}), {} vehicles, {} unchanged rows skipped, {} row issues",
            p.stats.records,
            p.stats.parsed,
            p.stats.encoding.name(),
            char::from(p.stats.delimiter),
            p.page.changes.len(),
            p.unchanged.len(),
            p.page.issues.len()
        )),
        Err(e) => forecourt_sdk::log::warn(&format!("export refused: {}", e.message)),
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = result;
}

export_snapshot_source!(CsvExport);
