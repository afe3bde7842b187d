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
use std::io::Cursor;

use csv::ByteRecord;
use forecourt_sdk::digest::RowDigest;
use forecourt_sdk::record::{build_vehicle, RecordDefaults};
use forecourt_sdk::{Change, KnownRow, PluginError, PullPage, RowIssue};

use crate::columns::{ColumnMap, Row};
use crate::config::{Config, Delimiter};
use crate::decode::{self, Encoding};
use crate::fields::Field;
use crate::lines::{is_line_break, line_bound, single_line_record};
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
    /// Records the CSV parser read: all of them, or with `known` only those
    /// not skipped as unchanged lines.
    pub parsed: u32,
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
///
/// With an empty `known` every record goes through the `csv` parser in one
/// sequential pass. With a non-empty one, the body is walked line by line
/// and a line that is a whole record by itself (see [`single_line_record`])
/// is looked up by the digest of its bytes without being parsed; only the
/// other records (new or changed rows, records spanning lines, the header)
/// go through the parser. Both give every row the same digest.
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
    let body = body.as_bytes();

    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(Cursor::new(body));

    let (changes, digests) = if known.is_empty() {
        // Sized once from the line count (an upper bound on the records):
        // growing by doubling would briefly hold two copies of a
        // 50,000-vehicle list.
        let lines = line_bound(body);
        (
            Vec::with_capacity(lines.min(MAX_VEHICLES)),
            Vec::with_capacity(lines.min(MAX_VEHICLES)),
        )
    } else {
        // Few rows change between two pulls, so no pass over the document
        // to count its lines: the lists start empty and grow by doubling up
        // to `EXACT_GROWTH_FROM` changes (a `Change` is under 1 KiB, so
        // under 2 MiB is held twice while one grows). Past that, when most
        // rows changed (a new header row re-parses them all), they are sized
        // once from the lines left ([`Pass::room_for_one_more`]) rather than
        // doubled towards two copies of a 50,000-vehicle list.
        (Vec::new(), Vec::new())
    };
    let mut pass = Pass {
        config,
        raw_config,
        encoding,
        delimiter,
        body,
        ends_with_newline: body.ends_with(b"\n") || body.ends_with(b"\r"),
        defaults: config.record_defaults(),
        issues: Issues {
            list: Vec::new(),
            omitted: 0,
            first_omitted: 0,
        },
        changes,
        digests,
        unchanged: Vec::with_capacity(known.len()),
        known: Known::new(known),
        // Every known row is usually seen again.
        first_seen: HashMap::with_capacity(known.len()),
        // The column map and the digest salt come from the header row when
        // there is one.
        map: (!config.has_header).then(|| {
            let salt = snapshot::salt(raw_config, encoding, delimiter, None);
            (ColumnMap::from_positions(config), salt)
        }),
        width: None,
        number: 0,
        parsed: 0,
    };
    if known.is_empty() {
        pass.every_record(reader)?;
    } else {
        pass.skipping_known(reader)?;
    }

    if pass.map.is_none() {
        return Err(document_error("the document has no records"));
    }
    let page = PullPage {
        changes: pass.changes,
        issues: pass.issues.finish(),
        next_cursor: None,
        has_more: false,
        full_snapshot: true,
    };
    Ok(Parsed {
        page,
        digests: pass.digests,
        unchanged: pass.unchanged,
        stats: Stats {
            encoding,
            delimiter,
            records: pass.number,
            parsed: pass.parsed,
        },
    })
}

/// From this many changes on, the change lists of a pull with `known` are
/// sized from the lines left rather than doubled.
const EXACT_GROWTH_FROM: usize = 1024;

/// The `csv` reader over the document's body.
type Reader<'a> = csv::Reader<Cursor<&'a [u8]>>;

/// One pass over a document's body: what has been found so far.
struct Pass<'a, 'k> {
    config: &'a Config,
    raw_config: &'a str,
    encoding: Encoding,
    delimiter: u8,
    /// The document's text after the Excel `sep=` line, if any.
    body: &'a [u8],
    ends_with_newline: bool,
    defaults: RecordDefaults,
    issues: Issues,
    changes: Vec<Change>,
    digests: Vec<Option<String>>,
    unchanged: Vec<u32>,
    known: Known<'k>,
    /// The record number of each stock id seen so far.
    first_seen: HashMap<Cow<'k, str>, u32>,
    /// The column map and the digest salt, once known.
    map: Option<(ColumnMap, RowDigest)>,
    /// The number of fields of the header row, or of the first record
    /// without one.
    width: Option<usize>,
    /// Records read so far, header included.
    number: u32,
    /// Records the parser read.
    parsed: u32,
}

impl<'a, 'k> Pass<'a, 'k> {
    /// Every record through the parser, in order.
    fn every_record(&mut self, mut reader: Reader<'a>) -> Result<(), PluginError> {
        let mut record = ByteRecord::new();
        loop {
            let from = reader.position().byte() as usize;
            match reader.read_byte_record(&mut record) {
                Ok(true) => self.parsed += 1,
                Ok(false) => return Ok(()),
                Err(e) => {
                    // Not expected from an in-memory, flexible byte reader;
                    // the reader reads nothing more after an I/O error.
                    self.unreadable(&e);
                    continue;
                }
            }
            let to = reader.position().byte() as usize;
            self.record(&record, from, to)?;
        }
    }

    /// Walk the body line by line: a line that is a whole record is looked
    /// up in `known` by its bytes; any other record, and one whose digest is
    /// not known (or is already claimed), goes through the parser.
    fn skipping_known(&mut self, mut reader: Reader<'a>) -> Result<(), PluginError> {
        let body = self.body;
        let mut record = ByteRecord::new();
        // Where the next record starts, line breaks before it included.
        let mut at = 0usize;
        loop {
            // The parser skips line breaks between records: blank lines are
            // not records, and neither is the `\n` of a `\r\n` it stopped at.
            let start = at + body[at..].iter().take_while(|b| is_line_break(b)).count();
            if start == body.len() {
                return Ok(());
            }
            // `width` is set once the header row, or the first record of a
            // file without one, has been read (by the parser).
            if self.width.is_some() {
                if let Some((end, next)) = single_line_record(body, start, self.delimiter) {
                    if self.skip_if_known(&body[start..end])? {
                        at = next;
                        continue;
                    }
                }
            }
            if reader.position().byte() as usize != at {
                // The parser's own line and record counts are not used.
                let mut position = csv::Position::new();
                position.set_byte(start as u64);
                if let Err(e) = reader.seek(position) {
                    self.unreadable(&e);
                    return Ok(());
                }
                at = start;
            }
            match reader.read_byte_record(&mut record) {
                Ok(true) => self.parsed += 1,
                Ok(false) => return Ok(()),
                Err(e) => {
                    self.unreadable(&e);
                    return Ok(());
                }
            }
            let to = reader.position().byte() as usize;
            self.room_for_one_more(start);
            self.record(&record, at, to)?;
            at = to;
        }
    }

    /// The record `line` (its bytes, without the line break) if its digest
    /// is known and unclaimed, and its stock id not yet seen: count it as
    /// an unchanged record and return `true`. Else `false`, and the caller
    /// parses it; nothing is counted.
    ///
    /// Only called for a record that ends with a line break, so neither of
    /// the last-record rules applies to it: if it is the last record, the
    /// file ends with a line break and not inside a quoted field.
    fn skip_if_known(&mut self, line: &[u8]) -> Result<bool, PluginError> {
        let Some((_, salt)) = self.map.as_ref() else {
            return Ok(false);
        };
        let digest = snapshot::row_digest(salt, line);
        let Some((index, stock_id)) = self.known.unclaimed(&digest) else {
            return Ok(false);
        };
        if self.first_seen.contains_key(stock_id) {
            return Ok(false);
        }
        self.number = self.number.saturating_add(1);
        if self.changes.len() + self.unchanged.len() == MAX_VEHICLES {
            return Err(too_many_vehicles(self.number));
        }
        self.known.claim(index);
        self.unchanged.push(index);
        self.first_seen.insert(Cow::Borrowed(stock_id), self.number);
        Ok(true)
    }

    /// Before a change may be added (with `known`): when the lists are full
    /// and already long, size them once for every record from `start` on.
    fn room_for_one_more(&mut self, start: usize) {
        let len = self.changes.len();
        if len == self.changes.capacity() && len >= EXACT_GROWTH_FROM {
            let room = MAX_VEHICLES.saturating_sub(len + self.unchanged.len());
            let more = line_bound(&self.body[start..]).min(room);
            self.changes.reserve_exact(more);
            self.digests.reserve_exact(more);
        }
    }

    /// A record the parser could not read.
    fn unreadable(&mut self, e: &csv::Error) {
        self.number = self.number.saturating_add(1);
        self.issues.push(
            self.number,
            None,
            None,
            format!("unreadable record: {e}; record skipped"),
        );
    }

    /// One record read by the parser from `body[from..to]`: line breaks
    /// before it, then the record, then (unless it ends the body) the first
    /// byte of its line break.
    fn record(&mut self, record: &ByteRecord, from: usize, to: usize) -> Result<(), PluginError> {
        self.number = self.number.saturating_add(1);
        let number = self.number;
        let body = self.body;
        let start = from
            + body[from..to]
                .iter()
                .take_while(|b| is_line_break(b))
                .count();
        // The last record: only line breaks follow it.
        let is_last = body[to..].iter().all(is_line_break);
        // A record starts outside any quoted field, so whether the file
        // ends inside one is decided by the last record alone.
        let truncated = is_last && decode::ends_inside_quotes(&body[start..], self.delimiter);

        let Some((columns, salt)) = self.map.as_ref() else {
            // The header row.
            if truncated {
                return Err(document_error(
                    "the header row opens a quoted field that never closes; the file is not a readable CSV export",
                ));
            }
            if record.iter().all(is_blank) {
                return Err(document_error("the first record is empty; no header row"));
            }
            let cells = text_cells(record);
            let cells: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
            let columns = ColumnMap::from_header(self.config, &cells)?;
            let salt = snapshot::salt(self.raw_config, self.encoding, self.delimiter, Some(record));
            self.map = Some((columns, salt));
            self.width = Some(cells.len());
            return Ok(());
        };
        let expected_width = *self.width.get_or_insert(record.len());

        if is_last && (truncated || (!self.ends_with_newline && record.len() < expected_width)) {
            // The stock id is only trustworthy if it is not the broken last field.
            let cells = text_cells(record);
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
            self.issues.push(number, stock_id, None, message);
            return Ok(());
        }
        if record.iter().all(is_blank) {
            return Ok(());
        }

        // The record's bytes without its line break (the parser stops
        // after the first byte of one, `\r` of a `\r\n`). Not inside a
        // quoted field: that is the truncated last record, handled above.
        let end = if to > start && is_line_break(&body[to - 1]) {
            to - 1
        } else {
            to
        };
        let digest = snapshot::row_digest(salt, &body[start..end]);
        if let Some((index, stock_id)) = self.known.unclaimed(&digest) {
            // Unchanged, unless its vehicle was already seen in this
            // document: then the full path reports the duplicate.
            if !self.first_seen.contains_key(stock_id) {
                if self.changes.len() + self.unchanged.len() == MAX_VEHICLES {
                    return Err(too_many_vehicles(number));
                }
                self.known.claim(index);
                self.unchanged.push(index);
                self.first_seen.insert(Cow::Borrowed(stock_id), number);
                return Ok(());
            }
        }

        let cells = text_cells(record);
        let cells: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
        let Some((_, stock_id)) = columns.first(Field::StockId, &cells) else {
            self.issues.push(
                number,
                None,
                Some(Field::StockId),
                "no stock id; row skipped".into(),
            );
            return Ok(());
        };
        if let Some(first) = self.first_seen.get(stock_id) {
            self.issues.push(
                number,
                Some(stock_id),
                Some(Field::StockId),
                format!("duplicate stock id, first seen at record {first}; row skipped"),
            );
            return Ok(());
        }
        self.first_seen
            .insert(Cow::Owned(stock_id.to_string()), number);

        if self.changes.len() + self.unchanged.len() == MAX_VEHICLES {
            return Err(too_many_vehicles(number));
        }
        let row = Row {
            columns,
            cells: &cells,
        };
        let issues = &mut self.issues;
        let issues_before = issues.count();
        let vehicle = build_vehicle(&self.defaults, stock_id, &row, |field, message| {
            issues.push(number, Some(stock_id), Some(field), message)
        });
        self.changes.push(Change::Upsert(vehicle));
        // A row with issues is parsed (and its issues reported) again next time.
        self.digests
            .push((issues.count() == issues_before).then_some(digest));
        Ok(())
    }
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
