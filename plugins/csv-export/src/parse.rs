//! The document → pull page driver: header mapping, records, row issues,
//! and the rows `pull-snapshot` may skip.
//!
//! Record numbers are 1-based counts of *records*: with a header row the
//! header is record 1 and the first vehicle is record 2; without one the
//! first vehicle is record 1. A quoted line break does not start a new
//! record, blank lines are not records (the `csv` parser skips them), and an
//! Excel `sep=` line is not counted either.

use std::borrow::Cow;
use std::collections::HashMap;

use csv::ByteRecord;
use forecourt_sdk::digest::RowDigest;
use forecourt_sdk::record::build_vehicle;
use forecourt_sdk::{Change, KnownRow, PluginError, PullPage, RowIssue};

use crate::columns::{ColumnMap, Row};
use crate::config::{Config, Delimiter};
use crate::decode::{self, Encoding};
use crate::fields::Field;
use crate::snapshot::{self, Known};

/// Largest document accepted: 50 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 50 * 1024 * 1024;
/// Longest single field kept; longer ones are truncated with an issue.
pub use forecourt_sdk::record::MAX_FIELD_CHARS;
/// Most vehicles in one export. Beyond it the whole file is refused: one
/// pull of that many vehicles approaches the sandbox's limits (256 MiB of
/// memory, and the 128 MiB wasmtime lets a plugin return in one call, with
/// about 1 KiB of fixed cost per vehicle), and a clear error is better than
/// a trap. No single dealer feed comes near it.
pub const MAX_VEHICLES: usize = 50_000;
/// Most row issues listed; beyond it one summary issue counts the rest.
pub const MAX_ISSUES: usize = 10_000;

/// What a pull found, beside the page: for the plugin's log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Encoding the document was read with.
    pub encoding: Encoding,
    /// Field delimiter used.
    pub delimiter: u8,
    /// Records read, header included.
    pub records: u32,
}

/// What one pass over a document produced.
#[derive(Debug)]
pub struct Parsed {
    /// The full-snapshot page of the new and changed rows.
    pub page: PullPage,
    /// One entry per entry of `page.changes`: the row's digest, or `None`
    /// when building its vehicle raised a row issue.
    pub digests: Vec<Option<String>>,
    /// Indexes into `known` of the rows skipped as unchanged.
    pub unchanged: Vec<u32>,
    /// What was found, for the log line.
    pub stats: Stats,
}

pub(crate) fn document_error(message: impl Into<String>) -> PluginError {
    PluginError::validation("document", message)
}

/// The whole `pull`: parse the configuration, then the document.
pub fn pull(config: &str, document: Option<Vec<u8>>) -> Result<PullPage, PluginError> {
    parse(config, document, &[]).map(|parsed| parsed.page)
}

/// `pull` or `pull-snapshot`: parse the configuration, then the document,
/// skipping the rows in `known` (none for `pull`).
pub fn parse(
    config: &str,
    document: Option<Vec<u8>>,
    known: &[KnownRow],
) -> Result<Parsed, PluginError> {
    let parsed_config = Config::parse(config).map_err(|e| PluginError::validation("config", e))?;
    let document = document.ok_or_else(|| {
        document_error(
            "no document was supplied; this source parses an export file the host fetches",
        )
    })?;
    parse_document(&parsed_config, config, document, known)
}

/// Row issues, capped at [`MAX_ISSUES`].
struct Issues {
    list: Vec<RowIssue>,
    omitted: usize,
    first_omitted: u32,
}

impl Issues {
    fn push(&mut self, record: u32, stock_id: Option<&str>, field: Option<Field>, message: String) {
        if self.list.len() >= MAX_ISSUES {
            if self.omitted == 0 {
                self.first_omitted = record;
            }
            self.omitted += 1;
            return;
        }
        self.list.push(RowIssue {
            record_number: record,
            stock_id: stock_id.map(str::to_string),
            field: field.map(|f| f.name().to_string()),
            message,
        });
    }

    /// Issues pushed so far, listed or not.
    fn count(&self) -> usize {
        self.list.len() + self.omitted
    }

    fn finish(mut self) -> Vec<RowIssue> {
        if self.omitted > 0 {
            self.list.push(RowIssue {
                record_number: self.first_omitted,
                stock_id: None,
                field: None,
                message: format!(
                    "{} more issues from this record on are not listed (at most {MAX_ISSUES} are)",
                    self.omitted
                ),
            });
        }
        self.list
    }
}

/// Parse a whole document into a full-snapshot page. `raw_config` is the
/// configuration string `config` was parsed from: it salts the row digests.
/// A row whose digest is in `known` is reported in `unchanged` instead of
/// being built again.
pub fn parse_document(
    config: &Config,
    raw_config: &str,
    bytes: Vec<u8>,
    known: &[KnownRow],
) -> Result<Parsed, PluginError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(document_error(format!(
            "the document is {} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes (50 MiB)",
            bytes.len()
        )));
    }
    let (text, encoding) = decode::decode(bytes).map_err(document_error)?;
    if text.trim().is_empty() {
        return Err(document_error("the document is empty"));
    }

    let (sep_delimiter, body) = match decode::excel_sep_line(&text) {
        Some((d, rest)) => (Some(d), rest),
        None => (None, text.as_str()),
    };
    let delimiter = match config.delimiter {
        Delimiter::Byte(b) => b,
        Delimiter::Auto => {
            sep_delimiter.unwrap_or_else(|| decode::detect_delimiter(decode::first_line(body)))
        }
    };
    let truncated = decode::ends_inside_quotes(body, delimiter);
    let ends_with_newline = body.ends_with(['\n', '\r']);

    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());

    let mut issues = Issues {
        list: Vec::new(),
        omitted: 0,
        first_omitted: 0,
    };
    // Sized once from the line count (an upper bound on the records): growing
    // by doubling would briefly hold two copies of a 50,000-vehicle list.
    // Even with `known`, every row may have changed (a new header row).
    let (lf, cr) = body.bytes().fold((0usize, 0usize), |(lf, cr), b| {
        (lf + usize::from(b == b'\n'), cr + usize::from(b == b'\r'))
    });
    let lines = lf.max(cr) + 1;
    let mut changes = Vec::with_capacity(lines.min(MAX_VEHICLES));
    let mut digests = Vec::with_capacity(lines.min(MAX_VEHICLES));
    let mut unchanged = Vec::with_capacity(known.len().min(lines));
    let mut known = Known::new(known);
    let mut first_seen: HashMap<String, u32> = HashMap::new();
    // The column map and the digest salt, from the header row when there is one.
    let mut map: Option<(ColumnMap, RowDigest)> = if config.has_header {
        None
    } else {
        let salt = snapshot::salt(raw_config, encoding, delimiter, None);
        Some((ColumnMap::from_positions(config), salt))
    };
    let mut width: Option<usize> = None;
    let defaults = config.record_defaults();

    // One record of look-ahead: the last record is treated specially when the
    // file is truncated.
    let mut records = reader.byte_records().peekable();
    let mut number: u32 = 0;
    while let Some(result) = records.next() {
        number = number.saturating_add(1);
        let is_last = records.peek().is_none();
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                issues.push(
                    number,
                    None,
                    None,
                    format!("unreadable record: {e}; record skipped"),
                );
                continue;
            }
        };

        let Some((columns, salt)) = map.as_ref() else {
            // The header row.
            if truncated && is_last {
                return Err(document_error(
                    "the header row opens a quoted field that never closes; the file is not a readable CSV export",
                ));
            }
            if record.iter().all(is_blank) {
                return Err(document_error("the first record is empty; no header row"));
            }
            let cells = text_cells(&record);
            let cells: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
            let columns = ColumnMap::from_header(config, &cells)?;
            let salt = snapshot::salt(raw_config, encoding, delimiter, Some(&record));
            map = Some((columns, salt));
            width = Some(cells.len());
            continue;
        };
        let expected_width = *width.get_or_insert(record.len());

        if is_last && (truncated || (!ends_with_newline && record.len() < expected_width)) {
            // The stock id is only trustworthy if it is not the broken last field.
            let cells = text_cells(&record);
            let cells: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
            let stock_id = columns
                .first(Field::StockId, &cells)
                .filter(|&(i, _)| i + 1 < cells.len())
                .map(|(_, s)| s);
            let message = if truncated {
                "the file ends inside a quoted field opened in this record (truncated file?); record skipped"
                    .into()
            } else {
                format!(
                    "the last record has {} of {expected_width} fields and the file does not end with a line break \
                     (truncated file?); record skipped",
                    cells.len()
                )
            };
            issues.push(number, stock_id, None, message);
            continue;
        }
        if record.iter().all(is_blank) {
            continue;
        }

        let digest = snapshot::row_digest(salt, &record);
        if let Some((index, stock_id)) = known.unclaimed(&digest) {
            // Unchanged, unless its vehicle was already seen in this
            // document: then the full path reports the duplicate.
            if !first_seen.contains_key(stock_id) {
                if changes.len() + unchanged.len() == MAX_VEHICLES {
                    return Err(too_many_vehicles(number));
                }
                known.claim(index);
                unchanged.push(index);
                first_seen.insert(stock_id.to_string(), number);
                continue;
            }
        }

        let cells = text_cells(&record);
        let cells: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
        let Some((_, stock_id)) = columns.first(Field::StockId, &cells) else {
            issues.push(
                number,
                None,
                Some(Field::StockId),
                "no stock id; row skipped".into(),
            );
            continue;
        };
        if let Some(first) = first_seen.get(stock_id) {
            issues.push(
                number,
                Some(stock_id),
                Some(Field::StockId),
                format!("duplicate stock id, first seen at record {first}; row skipped"),
            );
            continue;
        }
        first_seen.insert(stock_id.to_string(), number);

        if changes.len() + unchanged.len() == MAX_VEHICLES {
            return Err(too_many_vehicles(number));
        }
        let row = Row {
            columns,
            cells: &cells,
        };
        let issues_before = issues.count();
        let vehicle = build_vehicle(&defaults, stock_id, &row, |field, message| {
            issues.push(number, Some(stock_id), Some(field), message)
        });
        changes.push(Change::Upsert(vehicle));
        // A row with issues is parsed (and its issues reported) again next time.
        digests.push((issues.count() == issues_before).then_some(digest));
    }

    if map.is_none() {
        return Err(document_error("the document has no records"));
    }

    let page = PullPage {
        changes,
        issues: issues.finish(),
        next_cursor: None,
        has_more: false,
        full_snapshot: true,
    };
    Ok(Parsed {
        page,
        digests,
        unchanged,
        stats: Stats {
            encoding,
            delimiter,
            records: number,
        },
    })
}

fn too_many_vehicles(number: u32) -> PluginError {
    document_error(format!(
        "the export has more than {MAX_VEHICLES} vehicles (record {number}); split it into several sources"
    ))
}

/// A record's cells as text.
fn text_cells(record: &ByteRecord) -> Vec<Cow<'_, str>> {
    record.iter().map(String::from_utf8_lossy).collect()
}

/// Whether a cell is empty once trimmed as `str::trim` trims, without
/// converting it: most cells start with an ASCII character that settles it.
fn is_blank(cell: &[u8]) -> bool {
    match cell.iter().find(|&&b| !matches!(b, b'\t'..=b'\r' | b' ')) {
        None => true,
        Some(b) if b.is_ascii() => false,
        Some(_) => String::from_utf8_lossy(cell).trim().is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_blank_trims_like_str_trim() {
        for b in 0u8..128 {
            for cell in [vec![b], vec![b' ', b, b'\t'], vec![b, b'x']] {
                let expected = String::from_utf8_lossy(&cell).trim().is_empty();
                assert_eq!(is_blank(&cell), expected, "{cell:?}");
            }
        }
        for cell in ["\u{a0}", " \u{3000}\u{2028} ", "\u{a0}x", "é", "\u{85}"] {
            assert_eq!(
                is_blank(cell.as_bytes()),
                cell.trim().is_empty(),
                "{cell:?}"
            );
        }
    }
}
