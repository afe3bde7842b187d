//! Row digests and the rows the host already holds (`pull-snapshot`).
//!
//! A row's digest covers its record's bytes in the decoded document, from
//! its first byte up to (not including) its line break, and a salt of
//! everything else that changes how a row parses: this plugin's version,
//! the configuration string as given, the encoding, the delimiter and the
//! header row (or the absence of one). A record always starts outside any
//! quoted field, so its bytes alone decide its fields; anything else a
//! vehicle depends on is in the salt. Hashing the bytes as they stand lets
//! `pull-snapshot` recognise an unchanged row without parsing it.

use std::collections::HashMap;

use csv::ByteRecord;
use forecourt_sdk::digest::RowDigest;
use forecourt_sdk::KnownRow;

use crate::decode::Encoding;

/// Changes the digest of every row. Bump it when a change to this plugin or
/// the SDK's normalisation alters the vehicle a row becomes without a new
/// plugin version (the version is in the salt too).
const DIGEST_SCHEME: &[u8] = b"forecourt csv-export row digest 2";

/// The digest every row of one document starts from.
pub fn salt(
    config: &str,
    encoding: Encoding,
    delimiter: u8,
    header: Option<&ByteRecord>,
) -> RowDigest {
    let mut parts: Vec<&[u8]> = vec![
        DIGEST_SCHEME,
        env!("CARGO_PKG_VERSION").as_bytes(),
        config.as_bytes(),
        encoding.name().as_bytes(),
        std::slice::from_ref(&delimiter),
    ];
    match header {
        Some(header) => {
            parts.push(b"header");
            parts.extend(header.iter());
        }
        None => parts.push(b"no header"),
    }
    RowDigest::new(&parts)
}

/// The digest of one row: `salt`, then the record's bytes (without its
/// line break).
pub fn row_digest(salt: &RowDigest, record: &[u8]) -> String {
    let mut digest = salt.clone();
    digest.field(record);
    digest.finish()
}

/// `known`, indexed by digest, with the entries this document has claimed.
pub struct Known<'k> {
    rows: &'k [KnownRow],
    by_digest: HashMap<&'k str, u32>,
    claimed: Vec<bool>,
}

impl<'k> Known<'k> {
    /// Index `rows` once. When two entries share a digest the first is used.
    pub fn new(rows: &'k [KnownRow]) -> Known<'k> {
        let mut by_digest = HashMap::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let Ok(index) = u32::try_from(i) else { break };
            by_digest.entry(row.digest.as_str()).or_insert(index);
        }
        Known {
            rows,
            by_digest,
            claimed: vec![false; rows.len()],
        }
    }

    /// The index and stock id of the known row with this digest, unless
    /// there is none or this document has already claimed it.
    pub fn unclaimed(&self, digest: &str) -> Option<(u32, &'k str)> {
        let index = *self.by_digest.get(digest)?;
        let i = index as usize;
        (!self.claimed[i]).then(|| (index, self.rows[i].stock_id.as_str()))
    }

    /// Mark the known row `index` as found in this document.
    pub fn claim(&mut self, index: u32) {
        self.claimed[index as usize] = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[&str]) -> ByteRecord {
        ByteRecord::from(fields.to_vec())
    }

    #[test]
    fn the_salt_covers_what_changes_parsing() {
        let header = record(&["StockNo", "Make"]);
        let row: &[u8] = b"A1,Ford";
        let base = salt("{}", Encoding::Utf8, b',', Some(&header));
        let digest = row_digest(&base, row);
        assert_eq!(
            digest,
            row_digest(&salt("{}", Encoding::Utf8, b',', Some(&header)), row)
        );
        for other in [
            salt("{ }", Encoding::Utf8, b',', Some(&header)),
            salt("{}", Encoding::Windows1252, b',', Some(&header)),
            salt("{}", Encoding::Utf8, b';', Some(&header)),
            salt(
                "{}",
                Encoding::Utf8,
                b',',
                Some(&record(&["Make", "StockNo"])),
            ),
            salt(
                "{}",
                Encoding::Utf8,
                b',',
                Some(&record(&["StockNo", "Model"])),
            ),
            salt("{}", Encoding::Utf8, b',', None),
        ] {
            assert_ne!(row_digest(&other, row), digest);
        }
        assert_ne!(row_digest(&base, b"A1,Ford,"), digest);
        assert_ne!(row_digest(&base, b"A1F,ord"), digest);
        // Quoting is in the bytes: the same fields, another digest.
        assert_ne!(row_digest(&base, b"A1,\"Ford\""), digest);
    }

    #[test]
    fn known_rows_are_claimed_once() {
        let rows = vec![
            KnownRow {
                stock_id: "A".into(),
                digest: "d1".into(),
            },
            KnownRow {
                stock_id: "B".into(),
                digest: "d2".into(),
            },
            KnownRow {
                stock_id: "C".into(),
                digest: "d1".into(),
            },
        ];
        let mut known = Known::new(&rows);
        assert_eq!(known.unclaimed("d3"), None);
        assert_eq!(known.unclaimed("d1"), Some((0, "A")));
        known.claim(0);
        assert_eq!(known.unclaimed("d1"), None);
        assert_eq!(known.unclaimed("d2"), Some((1, "B")));
    }
}
