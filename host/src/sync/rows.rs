//! Row digests of full-export sources (contract 1.2.0 `snapshot`).
//!
//! A source that exports `snapshot` is handed, for every vehicle the store
//! holds from it, the digest it gave that vehicle's row last time, and names
//! the rows that are unchanged instead of parsing them again. The digests
//! belong to an *epoch*, the plugin build and the source's configuration:
//! after either changes the host hands over none, so every row is parsed
//! again under the new plugin or settings.

use super::SourceSetup;
use crate::runtime::bindings::snapshot_api::{KnownRow, SnapshotPage};
use crate::runtime::source_api as s;
use sha2::{Digest, Sha256};

/// What a `snapshot` pull adds to its page, ready for the store.
#[derive(Debug, Default)]
pub(super) struct RowDigests {
    /// Per change of the page, the digest of its row.
    pub(super) digests: Vec<Option<String>>,
    /// Stock ids of the known rows the source found unchanged.
    pub(super) unchanged: Vec<String>,
    /// The epoch the digests belong to.
    pub(super) epoch: Option<String>,
}

/// The epoch of `source`'s digests: its plugin's component hash and its configuration.
pub(super) fn epoch(source: &SourceSetup) -> String {
    let mut hash = Sha256::new();
    hash.update(source.plugin.manifest().plugin.sha256.as_bytes());
    hash.update([0]);
    hash.update(source.config.as_bytes());
    hex::encode(hash.finalize())
}

/// The store's (stock id, digest) pairs as the contract's known rows.
pub(super) fn known(rows: Vec<(String, String)>) -> Vec<KnownRow> {
    rows.into_iter()
        .map(|(stock_id, digest)| KnownRow { stock_id, digest })
        .collect()
}

/// Splits a checked `snapshot` answer into the page and its digests. The
/// runtime has checked the indexes already (each names a distinct known row).
pub(super) fn split(
    answer: SnapshotPage,
    known: Vec<KnownRow>,
    epoch: String,
) -> (s::PullPage, RowDigests) {
    let mut known: Vec<Option<String>> = known.into_iter().map(|k| Some(k.stock_id)).collect();
    let unchanged = answer
        .unchanged
        .iter()
        .filter_map(|&i| known.get_mut(i as usize).and_then(Option::take))
        .collect();
    (
        answer.page,
        RowDigests {
            digests: answer.digests,
            unchanged,
            epoch: Some(epoch),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known_rows(ids: &[&str]) -> Vec<KnownRow> {
        ids.iter()
            .map(|id| KnownRow {
                stock_id: id.to_string(),
                digest: format!("d-{id}"),
            })
            .collect()
    }

    #[test]
    fn unchanged_indexes_become_stock_ids() {
        let answer = SnapshotPage {
            page: s::PullPage {
                changes: vec![],
                issues: vec![],
                next_cursor: None,
                has_more: false,
                full_snapshot: true,
            },
            digests: vec![],
            unchanged: vec![2, 0],
        };
        let (_, rows) = split(answer, known_rows(&["A", "B", "C"]), "e".into());
        assert_eq!(rows.unchanged, vec!["C".to_string(), "A".to_string()]);
        assert_eq!(rows.epoch.as_deref(), Some("e"));
    }
}
