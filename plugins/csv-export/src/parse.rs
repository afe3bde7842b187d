//! The document → pull page driver: header mapping, records, row issues.
//!
//! Record numbers are 1-based counts of *records*: with a header row the
//! header is record 1 and the first vehicle is record 2; without one the
//! first vehicle is record 1. A quoted line break does not start a new
//! record, blank lines are not records (the `csv` parser skips them), and an
//! Excel `sep=` line is not counted either.

use std::borrow::Cow;
use std::collections::HashMap;

use forecourt_sdk::{
    Change, Condition, HubOnly, Image, PluginError, PullPage, RowIssue, StockStatus, VatStatus,
    Vehicle, VehicleType,
};

use crate::config::{ColumnRef, Config, Delimiter};
use crate::decode::{self, Encoding};
use crate::fields::{self, Field, FIELD_COUNT};
use crate::normalise as n;

/// Largest document accepted: 50 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 50 * 1024 * 1024;
/// Longest single field kept; longer ones are truncated with an issue.
pub const MAX_FIELD_CHARS: usize = 100_000;
/// Most vehicles in one export. Beyond it the whole file is refused: one
/// pull of that many vehicles approaches the sandbox's limits (256 MiB of
/// memory, and the 128 MiB wasmtime lets a plugin return in one call, with
/// about 1 KiB of fixed cost per vehicle), and a clear error is better than
/// a trap. No single dealer feed comes near it.
pub const MAX_VEHICLES: usize = 50_000;
/// Most row issues listed; beyond it one summary issue counts the rest.
pub const MAX_ISSUES: usize = 10_000;
/// How much of an offending value an issue quotes.
const QUOTE_CHARS: usize = 60;

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

/// `s` cut to `max` characters.
fn cut(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// An offending value as quoted in an issue.
fn quote(s: &str) -> String {
    if s.chars().count() > QUOTE_CHARS {
        format!("{:?}…", cut(s, QUOTE_CHARS))
    } else {
        format!("{s:?}")
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
        let vehicle = build_vehicle(config, columns, &cells, number, stock_id, &mut issues);
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

/// One row's cells, with issue reporting.
struct Row<'a> {
    config: &'a Config,
    columns: &'a ColumnMap,
    cells: &'a [&'a str],
    number: u32,
    stock_id: &'a str,
    issues: &'a mut Issues,
}

impl<'a> Row<'a> {
    fn issue(&mut self, field: Field, message: String) {
        self.issues
            .push(self.number, Some(self.stock_id), Some(field), message);
    }

    /// The trimmed, non-empty cell of `field`, cut to [`MAX_FIELD_CHARS`].
    fn cell(&mut self, field: Field) -> Option<&'a str> {
        let (_, value) = self.columns.first(field, self.cells)?;
        if value.chars().count() > MAX_FIELD_CHARS {
            self.issue(
                field,
                format!("longer than {MAX_FIELD_CHARS} characters; truncated"),
            );
            return Some(cut(value, MAX_FIELD_CHARS).trim_end());
        }
        Some(value)
    }

    fn text(&mut self, field: Field) -> Option<String> {
        self.cell(field).map(str::to_string)
    }

    /// Parse the cell of `field` with `parse`; a failure drops the field.
    fn parsed<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.cell(field)?;
        match parse(value) {
            Ok(v) => Some(v),
            Err(reason) => {
                // Hub-only values are commercially sensitive: not quoted.
                let message = if field == Field::CostPrice {
                    format!("{reason}; field dropped")
                } else {
                    format!("{reason}: {}; field dropped", quote(value))
                };
                self.issue(field, message);
                None
            }
        }
    }

    /// Parse the cell of a field that always has a value; a failure keeps
    /// `default` and says so.
    fn parsed_or<T>(
        &mut self,
        field: Field,
        default: T,
        default_name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> T {
        let Some(value) = self.cell(field) else {
            return default;
        };
        match parse(value) {
            Ok(v) => v,
            Err(reason) => {
                let message = format!("{reason}: {}; {default_name} assumed", quote(value));
                self.issue(field, message);
                default
            }
        }
    }
}

fn build_vehicle(
    config: &Config,
    columns: &ColumnMap,
    cells: &[&str],
    number: u32,
    stock_id: &str,
    issues: &mut Issues,
) -> Vehicle {
    let mut row = Row {
        config,
        columns,
        cells,
        number,
        stock_id,
        issues,
    };
    let date_order = config.date_order;
    let currency = config.currency.as_str();

    let registration = row.cell(Field::Registration).map(n::registration);
    let vin = row.cell(Field::Vin).map(n::vin);
    let make = row.text(Field::Make);
    let model = row.text(Field::Model);
    let variant = row.text(Field::Variant);
    let trim = row.text(Field::Trim);
    let vehicle_type = row
        .cell(Field::VehicleType)
        .map_or(VehicleType::Car, n::vehicle_type);
    let body_style = row.cell(Field::BodyStyle).map(n::body_style);
    let fuel_type = row.cell(Field::FuelType).map(n::fuel_type);
    let transmission = row.cell(Field::Transmission).map(n::transmission);
    let drivetrain = row.cell(Field::Drivetrain).map(n::drivetrain);
    let doors = row.parsed(Field::Doors, |s| {
        n::parse_count(s, &["dr", "door", "doors"])
    });
    let seats = row.parsed(Field::Seats, |s| {
        n::parse_count(s, &["seat", "seats", "seater"])
    });
    let engine_size_cc = row.parsed(Field::EngineSizeCc, n::parse_engine_cc);
    let power_bhp = row.parsed(Field::PowerBhp, n::parse_power_bhp);
    let co2_g_per_km = row.parsed(Field::Co2GPerKm, |s| {
        n::parse_int_with_unit(s, &["g/km", "gkm", "g"])
            .and_then(|v| u32::try_from(v).map_err(|_| "too large".into()))
    });
    let emissions_standard = row
        .cell(Field::EmissionsStandard)
        .map(n::emissions_standard);
    let colour = row.text(Field::Colour);
    let first_registration = row.parsed(Field::FirstRegistration, |s| n::parse_date(s, date_order));
    let model_year = row.parsed(Field::ModelYear, n::parse_year);
    let mileage = row.parsed(Field::Mileage, |s| n::parse_mileage(s, config.mileage_unit));
    let price = row.parsed(Field::Price, |s| n::parse_money(s, currency));
    let vat = row.parsed_or(Field::Vat, VatStatus::IncVat, "inc-vat", n::vat_status);
    let condition = row.parsed_or(Field::Condition, Condition::Used, "used", n::condition);
    let service_history = row.cell(Field::ServiceHistory).map(n::service_history);
    let previous_owners = row.parsed(Field::PreviousOwners, |s| {
        n::parse_count(s, &["owner", "owners"])
    });
    let mot_expiry = row.parsed(Field::MotExpiry, |s| n::parse_date(s, date_order));
    let features = row
        .cell(Field::Features)
        .map(|s| n::split_list(s, &config.feature_delimiter, false))
        .unwrap_or_default();
    let description = row.text(Field::Description);
    let images = images(&mut row);
    // No status means in stock; a status that cannot be read is treated as
    // withdrawn so that a vehicle which may be sold is never advertised.
    let status = if row.cell(Field::Status).is_some() {
        row.parsed_or(
            Field::Status,
            StockStatus::Withdrawn,
            "withdrawn (not advertised)",
            n::stock_status,
        )
    } else {
        StockStatus::InStock
    };
    let date_in_stock = row.parsed(Field::DateInStock, |s| n::parse_date(s, date_order));
    let location_id = row
        .text(Field::LocationId)
        .unwrap_or_else(|| config.location_id.clone());
    let internal_notes = row.text(Field::InternalNotes);
    let cost_price = row.parsed(Field::CostPrice, |s| n::parse_money(s, currency));
    let hub_only = (internal_notes.is_some() || cost_price.is_some()).then_some(HubOnly {
        internal_notes,
        previous_keeper: None,
        part_exchange: None,
        cost_price,
    });

    Vehicle {
        dealer_id: config.dealer_id.clone(),
        location_id,
        stock_id: stock_id.to_string(),
        registration,
        vin,
        make,
        model,
        variant,
        trim,
        vehicle_type,
        body_style,
        fuel_type,
        transmission,
        drivetrain,
        doors,
        seats,
        engine_size_cc,
        power_bhp,
        co2_g_per_km,
        emissions_standard,
        colour,
        first_registration,
        model_year,
        mileage,
        price,
        vat,
        condition,
        service_history,
        previous_owners,
        mot_expiry,
        features,
        description,
        images,
        status,
        date_in_stock,
        attributes: Vec::new(),
        hub_only,
    }
}

/// The images cell: http(s) URLs kept in order, anything else reported once.
fn images(row: &mut Row<'_>) -> Vec<Image> {
    let delimiter = row.config.image_delimiter.clone();
    let Some(cell) = row.cell(Field::Images) else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    for item in n::split_list(cell, &delimiter, true) {
        // Within an item, whitespace also separates: a URL never contains it.
        for url in item.split_whitespace() {
            if n::is_http_url(url) {
                kept.push(Image {
                    url: url.to_string(),
                    width: None,
                    height: None,
                });
            } else {
                refused.push(url.to_string());
            }
        }
    }
    if !refused.is_empty() {
        let examples: Vec<String> = refused.iter().take(3).map(|s| quote(s)).collect();
        let more = if refused.len() > 3 { ", …" } else { "" };
        let message = format!(
            "{} image reference(s) are not http(s) URLs and were skipped: {}{more}",
            refused.len(),
            examples.join(", ")
        );
        row.issue(Field::Images, message);
    }
    kept
}
