//! The document → pull page driver: header mapping, records, row issues.
//!
//! Record numbers are 1-based counts of *records*: with a header row the
//! header is record 1 and the first vehicle is record 2; without one the
//! first vehicle is record 1. A quoted line break does not start a new
//! record, blank lines are not records (the `csv` parser skips them), and an
//! Excel `sep=` line is not counted either.

use std::borrow::Cow;
use std::collections::HashMap;

use forecourt_sdk::record::{build_vehicle, RecordValues};
use forecourt_sdk::{Change, PluginError, PullPage, RowIssue};

use crate::config::{ColumnRef, Config, Delimiter};
use crate::decode::{self, Encoding};
use crate::fields::{self, Field, FIELD_COUNT};

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

fn document_error(message: impl Into<String>) -> PluginError {
    PluginError::validation("document", message)
}

/// The whole `pull`: parse the configuration, then the document.
pub fn pull(config: &str, document: Option<Vec<u8>>) -> Result<PullPage, PluginError> {
    pull_with_stats(config, document).map(|(page, _)| page)
}

/// [`pull`], also returning what was found.
pub fn pull_with_stats(
    config: &str,
    document: Option<Vec<u8>>,
) -> Result<(PullPage, Stats), PluginError> {
    let config = Config::parse(config).map_err(|e| PluginError::validation("config", e))?;
    let document = document.ok_or_else(|| {
        document_error(
            "no document was supplied; this source parses an export file the host fetches",
        )
    })?;
    parse_document(&config, document)
}

/// Which columns feed each field. Header recognition may find several
/// (say `Notes` and `Internal Notes`): the first non-empty cell among them,
/// left to right, is the value. A column named in `columns` is the only one.
struct ColumnMap {
    columns: Vec<Vec<usize>>,
}

impl ColumnMap {
    fn get(&self, field: Field) -> &[usize] {
        &self.columns[field.index()]
    }

    /// The first non-empty trimmed cell of `field`, with its column.
    fn first<'c>(&self, field: Field, cells: &[&'c str]) -> Option<(usize, &'c str)> {
        self.get(field).iter().find_map(|&i| {
            let value = cells.get(i)?.trim();
            (!value.is_empty()).then_some((i, value))
        })
    }

    fn from_header(config: &Config, header: &[&str]) -> Result<ColumnMap, PluginError> {
        let mut columns = vec![Vec::new(); FIELD_COUNT];
        for (i, cell) in header.iter().enumerate() {
            if let Some(field) = fields::recognise(cell) {
                columns[field.index()].push(i);
            }
        }
        for (field, column) in &config.columns {
            let index = match column {
                ColumnRef::Position(p) if *p < header.len() => *p,
                ColumnRef::Position(p) => {
                    return Err(document_error(format!(
                        "columns.{} is position {p} but the header row has only {} columns",
                        field.name(),
                        header.len()
                    )))
                }
                ColumnRef::Name(name) => header
                    .iter()
                    .position(|h| h.trim() == name)
                    .or_else(|| {
                        let key = fields::header_key(name);
                        header.iter().position(|h| fields::header_key(h) == key)
                    })
                    .ok_or_else(|| {
                        document_error(format!(
                            "columns.{} names the column {name:?}, which is not in the header row",
                            field.name()
                        ))
                    })?,
            };
            columns[field.index()] = vec![index];
        }
        if columns[Field::StockId.index()].is_empty() {
            let synonyms = ["StockNo", "Stock Number", "StockID", "Stock Ref", "Stock"];
            return Err(document_error(format!(
                "the header row has no stock id column (looked for {}); if the file has no header row, \
                 set has_header to false and map the columns by position, else map columns.stock-id",
                synonyms.join(", ")
            )));
        }
        Ok(ColumnMap { columns })
    }

    fn from_positions(config: &Config) -> ColumnMap {
        let mut columns = vec![Vec::new(); FIELD_COUNT];
        for (field, column) in &config.columns {
            if let ColumnRef::Position(p) = column {
                columns[field.index()] = vec![*p];
            }
        }
        ColumnMap { columns }
    }
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

/// Parse a whole document into a full-snapshot page.
pub fn parse_document(config: &Config, bytes: Vec<u8>) -> Result<(PullPage, Stats), PluginError> {
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
    let (lf, cr) = body.bytes().fold((0usize, 0usize), |(lf, cr), b| {
        (lf + usize::from(b == b'\n'), cr + usize::from(b == b'\r'))
    });
    let lines = lf.max(cr) + 1;
    let mut changes = Vec::with_capacity(lines.min(MAX_VEHICLES));
    let mut first_seen: HashMap<String, u32> = HashMap::new();
    let mut map: Option<ColumnMap> = if config.has_header {
        None
    } else {
        Some(ColumnMap::from_positions(config))
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
        let cells: Vec<Cow<'_, str>> = record.iter().map(String::from_utf8_lossy).collect();
        let cells: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();

        let Some(columns) = map.as_ref() else {
            // The header row.
            if truncated && is_last {
                return Err(document_error(
                    "the header row opens a quoted field that never closes; the file is not a readable CSV export",
                ));
            }
            if cells.iter().all(|c| c.trim().is_empty()) {
                return Err(document_error("the first record is empty; no header row"));
            }
            map = Some(ColumnMap::from_header(config, &cells)?);
            width = Some(cells.len());
            continue;
        };
        let expected_width = *width.get_or_insert(cells.len());

        let stock_cell = columns.first(Field::StockId, &cells);

        if truncated && is_last {
            // The stock id is only trustworthy if it is not the broken last field.
            let stock_id = stock_cell
                .filter(|&(i, _)| i + 1 < cells.len())
                .map(|(_, s)| s);
            issues.push(
                number,
                stock_id,
                None,
                "the file ends inside a quoted field opened in this record (truncated file?); record skipped"
                    .into(),
            );
            continue;
        }
        if is_last && !ends_with_newline && cells.len() < expected_width {
            let stock_id = stock_cell
                .filter(|&(i, _)| i + 1 < cells.len())
                .map(|(_, s)| s);
            issues.push(
                number,
                stock_id,
                None,
                format!(
                    "the last record has {} of {expected_width} fields and the file does not end with a line break \
                     (truncated file?); record skipped",
                    cells.len()
                ),
            );
            continue;
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }

        let Some((_, stock_id)) = stock_cell else {
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

        if changes.len() == MAX_VEHICLES {
            return Err(document_error(format!(
                "the export has more than {MAX_VEHICLES} vehicles (record {number}); split it into several sources"
            )));
        }
        let row = Row {
            columns,
            cells: &cells,
        };
        let vehicle = build_vehicle(&defaults, stock_id, &row, |field, message| {
            issues.push(number, Some(stock_id), Some(field), message)
        });
        changes.push(Change::Upsert(vehicle));
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
    Ok((
        page,
        Stats {
            encoding,
            delimiter,
            records: number,
        },
    ))
}

/// One row's cells, as the SDK's vehicle builder reads them.
struct Row<'a> {
    columns: &'a ColumnMap,
    cells: &'a [&'a str],
}

impl RecordValues for Row<'_> {
    fn text(&self, field: Field) -> Option<&str> {
        self.columns
            .first(field, self.cells)
            .map(|(_, value)| value)
    }
}
