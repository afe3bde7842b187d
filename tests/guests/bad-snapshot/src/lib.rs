//! A source that breaks the `snapshot` contract on purpose. See README.md.

use forecourt_sdk::fields::Field;
use forecourt_sdk::record::{build_vehicle, RecordDefaults, RecordValues};
use forecourt_sdk::{
    export_snapshot_source, Change, KnownRow, PluginError, PullPage, PullRequest, SnapshotPage,
    SnapshotSource, Source, SourceInfo, Vehicle,
};

struct BadSnapshot;

fn mode(config: &str) -> String {
    config
        .split("\"mode\"")
        .nth(1)
        .and_then(|rest| rest.split('"').nth(1))
        .unwrap_or("ok")
        .to_string()
}

/// A vehicle with a stock id and a make, built as sources build them.
fn vehicle(stock_id: &str) -> Vehicle {
    struct Make;
    impl RecordValues for Make {
        fn text(&self, field: Field) -> Option<&str> {
            (field == Field::Make).then_some("Ford")
        }
    }
    build_vehicle(&RecordDefaults::uk("dealer-1"), stock_id, &Make, |_, _| {})
}

fn page(changes: Vec<Change>) -> PullPage {
    PullPage {
        changes,
        issues: vec![],
        next_cursor: None,
        has_more: false,
        full_snapshot: true,
    }
}

impl Source for BadSnapshot {
    fn describe() -> SourceInfo {
        SourceInfo {
            name: "bad-snapshot".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: r#"{"type":"object"}"#.into(),
            incremental: false,
            push: false,
            needs_document: true,
        }
    }

    fn pull(_request: PullRequest) -> Result<PullPage, PluginError> {
        Ok(page(vec![Change::Upsert(vehicle("NEW-1"))]))
    }
}

impl SnapshotSource for BadSnapshot {
    fn pull_snapshot(
        request: PullRequest,
        known: Vec<KnownRow>,
    ) -> Result<SnapshotPage, PluginError> {
        let one = || page(vec![Change::Upsert(vehicle("NEW-1"))]);
        Ok(match mode(&request.config).as_str() {
            "out-of-range" => SnapshotPage {
                page: one(),
                digests: vec![Some("d-new".into())],
                unchanged: vec![known.len() as u32],
            },
            "twice" => SnapshotPage {
                page: one(),
                digests: vec![Some("d-new".into())],
                unchanged: vec![0, 0],
            },
            "digest-count" => SnapshotPage {
                page: one(),
                digests: vec![],
                unchanged: vec![],
            },
            "long-digest" => SnapshotPage {
                page: one(),
                digests: vec![Some("x".repeat(65))],
                unchanged: vec![],
            },
            _ => SnapshotPage {
                page: one(),
                digests: vec![Some("d-new".into())],
                unchanged: (0..known.len() as u32).collect(),
            },
        })
    }
}

export_snapshot_source!(BadSnapshot);
